/* xl-train-runner.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session reports on the training thread, up to hundreds of times a
 * second when only the head trains. Each event is folded under a mutex into
 * what the main loop has not seen yet, and at most one low-priority idle
 * callback is pending to bring it over (Sysprof's coalescing): per-batch
 * points are appended to the curve models in bulk, and the window redraws
 * once per update, however many batches it carries.
 */

#include "config.h"

#include <math.h>
#include <string.h>


#include "xl-plot-report.h"
#include "xl-thread-priority.h"
#include "xl-train-runner.h"

typedef struct
{
  double x;
  double loss;
  double accuracy;
} BatchPoint;

typedef struct
{
  guint  epoch;
  double train_loss;
  double train_accuracy;
  double val_loss;
  double val_accuracy;
} EpochPoint;

/* What the training thread has seen and the main loop not yet. */
typedef struct
{
  GArray    *batches;          /* BatchPoint */
  GArray    *epochs;           /* EpochPoint */
  GPtrArray *log;              /* char * */

  gboolean   have_batch;
  gboolean   have_fraction;
  guint      epoch;
  guint      epochs_planned;
  guint      batch;
  guint      batches_per_epoch;
  double     fraction;
  double     images_per_second;
  double     eta_seconds;
  double     running_loss;
  double     running_accuracy;
  guint      n_batch_events;

  gboolean   have_phase;
  char      *phase;
  double     phase_fraction;

  gboolean   have_started;
  guint64    n_parameters;
  guint64    n_trainable;

  guint      best_epoch;
  guint      early_stop_epoch;
  gboolean   finished;
  gboolean   stopped;
  char      *error;
  gboolean   thread_done;
} Pending;

struct _XlTrainRunner
{
  GObject          parent_instance;

  XlTrainSession  *session;
  GThread         *thread;
  guint            batch_size;

  XlCurveModel    *loss_model;
  XlCurveModel    *accuracy_model;
  XlTrainStatus    status;

  GMutex           mutex;
  Pending          pending;
  guint            flush_source;

  /* Training thread only: to recover each batch's own accuracy from the
   * running mean the session reports. */
  guint            acc_epoch;
  double           acc_seen;
  double           acc_correct;
  double           acc_running_loss;
};

G_DEFINE_FINAL_TYPE (XlTrainRunner, xl_train_runner, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_RUNNING,
  N_PROPS
};

enum {
  CHANGED,
  LOG,
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
pending_init (Pending *pending)
{
  memset (pending, 0, sizeof *pending);
  pending->batches = g_array_new (FALSE, FALSE, sizeof (BatchPoint));
  pending->epochs = g_array_new (FALSE, FALSE, sizeof (EpochPoint));
  pending->log = g_ptr_array_new_with_free_func (g_free);
}

static void
pending_clear (Pending *pending)
{
  g_clear_pointer (&pending->batches, g_array_unref);
  g_clear_pointer (&pending->epochs, g_array_unref);
  g_clear_pointer (&pending->log, g_ptr_array_unref);
  g_clear_pointer (&pending->phase, g_free);
  g_clear_pointer (&pending->error, g_free);
}

static void
status_clear (XlTrainStatus *status)
{
  g_clear_pointer (&status->phase, g_free);
  g_clear_pointer (&status->error, g_free);
  g_clear_pointer (&status->run_dir, g_free);
  memset (status, 0, sizeof *status);
}

XlTrainRunner *
xl_train_runner_new (void)
{
  return g_object_new (XL_TYPE_TRAIN_RUNNER, NULL);
}

/* Main thread: everything the training thread reported since the last time. */
static gboolean
xl_train_runner_flush_cb (gpointer user_data)
{
  g_autoptr(XlTrainRunner) self = g_object_ref (user_data);
  XlTrainStatus *status = &self->status;
  Pending taken;

  g_mutex_lock (&self->mutex);
  taken = self->pending;
  pending_init (&self->pending);
  /* Scalars that stay true once seen carry over. */
  self->pending.best_epoch = taken.best_epoch;
  self->pending.early_stop_epoch = taken.early_stop_epoch;
  self->flush_source = 0;
  g_mutex_unlock (&self->mutex);

  status->n_flushes++;

  for (guint i = 0; i < taken.batches->len; i++)
    {
      const BatchPoint *point = &g_array_index (taken.batches, BatchPoint, i);

      xl_curve_model_append (self->loss_model, XL_CURVE_TRAIN_BATCH, point->x, point->loss);
      xl_curve_model_append (self->accuracy_model, XL_CURVE_TRAIN_BATCH, point->x, point->accuracy);
    }

  for (guint i = 0; i < taken.epochs->len; i++)
    {
      const EpochPoint *point = &g_array_index (taken.epochs, EpochPoint, i);

      xl_curve_model_append (self->loss_model, XL_CURVE_TRAIN_EPOCH, point->epoch, point->train_loss);
      xl_curve_model_append (self->loss_model, XL_CURVE_VAL_EPOCH, point->epoch, point->val_loss);
      xl_curve_model_append (self->accuracy_model, XL_CURVE_TRAIN_EPOCH, point->epoch, point->train_accuracy);
      xl_curve_model_append (self->accuracy_model, XL_CURVE_VAL_EPOCH, point->epoch, point->val_accuracy);
      status->epochs_done = point->epoch;
    }

  if (taken.best_epoch != status->best_epoch)
    {
      status->best_epoch = taken.best_epoch;
      xl_curve_model_set_best_epoch (self->loss_model, taken.best_epoch);
      xl_curve_model_set_best_epoch (self->accuracy_model, taken.best_epoch);
    }

  if (taken.early_stop_epoch != status->early_stop_epoch)
    {
      status->early_stop_epoch = taken.early_stop_epoch;
      xl_curve_model_set_stop_epoch (self->loss_model, taken.early_stop_epoch);
      xl_curve_model_set_stop_epoch (self->accuracy_model, taken.early_stop_epoch);
    }

  if (taken.have_started)
    {
      status->n_parameters = taken.n_parameters;
      status->n_trainable = taken.n_trainable;
    }

  if (taken.have_phase)
    {
      g_free (status->phase);
      status->phase = g_steal_pointer (&taken.phase);
      status->phase_fraction = taken.phase_fraction;
    }

  if (taken.have_batch)
    {
      status->training = TRUE;
      status->epoch = taken.epoch;
      status->epochs = taken.epochs_planned;
      status->batch = taken.batch;
      status->batches = taken.batches_per_epoch;
      status->fraction = taken.fraction;
      status->images_per_second = taken.images_per_second;
      status->eta_seconds = taken.eta_seconds;
      status->running_loss = taken.running_loss;
      status->running_accuracy = taken.running_accuracy;
      status->n_batch_events += taken.n_batch_events;
      /* Training has started or resumed: the preparation phase is over. */
      if (!taken.have_phase)
        g_clear_pointer (&status->phase, g_free);
    }

  if (taken.have_fraction && !taken.have_batch)
    {
      status->fraction = taken.fraction;
      status->eta_seconds = taken.eta_seconds;
    }

  if (taken.finished)
    {
      status->finished = TRUE;
      status->stopped = taken.stopped;
      status->fraction = 1.0;
      status->eta_seconds = 0;
      g_clear_pointer (&status->phase, g_free);
    }

  if (taken.error != NULL)
    {
      g_free (status->error);
      status->error = g_steal_pointer (&taken.error);
    }

  for (guint i = 0; i < taken.log->len; i++)
    g_signal_emit (self, signals[LOG], 0, g_ptr_array_index (taken.log, i));

  if (taken.thread_done)
    {
      /* The thread has returned from the session: joining does not wait. */
      g_clear_pointer (&self->thread, g_thread_join);
      g_clear_pointer (&self->session, xl_train_session_free);
      status->running = FALSE;
      status->stopping = FALSE;
    }

  g_signal_emit (self, signals[CHANGED], 0);

  if (taken.thread_done)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
      g_signal_emit (self, signals[FINISHED], 0, status->stopped, status->error);
    }

  pending_clear (&taken);

  return G_SOURCE_REMOVE;
}

/* With the mutex held. */
static void
schedule_flush_locked (XlTrainRunner *self)
{
  if (self->flush_source == 0)
    self->flush_source = g_idle_add_full (G_PRIORITY_LOW,
                                          xl_train_runner_flush_cb,
                                          g_object_ref (self),
                                          g_object_unref);
}

/* Training thread: the session reports each batch's loss but only the
 * running accuracy of the epoch. The batch's own accuracy is the difference
 * of correct counts; a short last batch's size follows from the running
 * loss (rl_b (S + s) = rl_{b-1} S + loss_b s). */
static double
batch_accuracy (XlTrainRunner      *self,
                const XlTrainEvent *event)
{
  double size = self->batch_size;
  double seen;
  double correct;
  double accuracy;

  if (event->epoch != self->acc_epoch || event->batch == 1)
    {
      self->acc_epoch = event->epoch;
      self->acc_seen = 0;
      self->acc_correct = 0;
      self->acc_running_loss = 0;
    }

  if (event->batch == event->batches && self->acc_seen > 0)
    {
      double denominator = event->running_loss - event->batch_loss;

      if (fabs (denominator) > 1e-9)
        {
          double estimate = self->acc_seen * (self->acc_running_loss - event->running_loss) / denominator;

          if (isfinite (estimate))
            size = CLAMP (round (estimate), 1.0, (double) self->batch_size);
        }
    }

  seen = self->acc_seen + size;
  correct = round (event->running_accuracy * seen);
  accuracy = (correct - self->acc_correct) / size;

  self->acc_seen = seen;
  self->acc_correct = correct;
  self->acc_running_loss = event->running_loss;

  return CLAMP (accuracy, 0.0, 1.0);
}

/* Training thread */
static void
xl_train_runner_event_cb (const XlTrainEvent *event,
                          gpointer            user_data)
{
  XlTrainRunner *self = user_data;
  Pending *pending = &self->pending;
  double accuracy = 0;

  if (event->kind == XL_TRAIN_EVENT_BATCH)
    accuracy = batch_accuracy (self, event);

  g_mutex_lock (&self->mutex);

  switch (event->kind)
    {
    case XL_TRAIN_EVENT_STARTED:
      pending->have_started = TRUE;
      pending->n_parameters = event->n_parameters;
      pending->n_trainable = event->n_trainable;
      break;

    case XL_TRAIN_EVENT_PROGRESS:
      pending->have_phase = TRUE;
      g_free (pending->phase);
      pending->phase = g_strdup (event->phase);
      pending->phase_fraction = event->fraction;
      break;

    case XL_TRAIN_EVENT_BATCH:
      {
        BatchPoint point = {
          .x = event->epoch - 1 + (double) event->batch / MAX (event->batches, 1),
          .loss = event->batch_loss,
          .accuracy = accuracy,
        };

        g_array_append_val (pending->batches, point);
        pending->have_batch = TRUE;
        /* A batch after a phase: the phase is over. */
        pending->have_phase = FALSE;
        g_clear_pointer (&pending->phase, g_free);
        pending->epoch = event->epoch;
        pending->epochs_planned = event->epochs;
        pending->batch = event->batch;
        pending->batches_per_epoch = event->batches;
        pending->fraction = event->fraction;
        pending->images_per_second = event->images_per_second;
        pending->eta_seconds = event->eta_seconds;
        pending->running_loss = event->running_loss;
        pending->running_accuracy = event->running_accuracy;
        pending->n_batch_events++;
      }
      break;

    case XL_TRAIN_EVENT_EPOCH:
      {
        EpochPoint point = {
          .epoch = event->epoch,
          .train_loss = event->train_loss,
          .train_accuracy = event->train_accuracy,
          .val_loss = event->val_loss,
          .val_accuracy = event->val_accuracy,
        };

        g_array_append_val (pending->epochs, point);
        /* Validation is over: the run's share and time left move on. */
        pending->have_fraction = TRUE;
        pending->fraction = event->fraction;
        pending->eta_seconds = event->eta_seconds;
        pending->best_epoch = event->best_epoch;
        if (event->message != NULL)
          g_ptr_array_add (pending->log, g_strdup (event->message));
      }
      break;

    case XL_TRAIN_EVENT_BEST:
      pending->best_epoch = event->best_epoch;
      break;

    case XL_TRAIN_EVENT_EARLY_STOP:
      pending->early_stop_epoch = event->epoch;
      pending->best_epoch = event->best_epoch;
      if (event->message != NULL)
        g_ptr_array_add (pending->log, g_strdup (event->message));
      break;

    case XL_TRAIN_EVENT_FINISHED:
      pending->finished = TRUE;
      pending->stopped = event->stopped;
      if (event->message != NULL)
        g_ptr_array_add (pending->log, g_strdup (event->message));
      break;

    case XL_TRAIN_EVENT_ERROR:
      g_free (pending->error);
      pending->error = g_strdup (event->message);
      if (event->message != NULL)
        g_ptr_array_add (pending->log, g_strdup (event->message));
      break;

    case XL_TRAIN_EVENT_LOG:
    default:
      if (event->message != NULL)
        g_ptr_array_add (pending->log, g_strdup (event->message));
      break;
    }

  schedule_flush_locked (self);
  g_mutex_unlock (&self->mutex);
}

static gpointer
xl_train_runner_thread (gpointer data)
{
  XlTrainRunner *self = data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* On two cores the network's threads would leave the window a third of
   * a core. The threads the session starts (the model's pool, the loader,
   * the decoders) inherit this. */
  xl_thread_lower_priority (XL_NICENESS_TRAINING);

  ok = xl_train_session_run (self->session, xl_train_runner_event_cb, self, &error);

  g_mutex_lock (&self->mutex);
  self->pending.thread_done = TRUE;
  if (!ok && self->pending.error == NULL && self->status.error == NULL)
    self->pending.error = g_strdup (error != NULL ? error->message : "training failed");
  schedule_flush_locked (self);
  g_mutex_unlock (&self->mutex);

  return NULL;
}

gboolean
xl_train_runner_start (XlTrainRunner        *self,
                       const XlTrainConfig  *config,
                       GError              **error)
{
  g_autoptr(XlTrainSession) session = NULL;

  g_return_val_if_fail (XL_IS_TRAIN_RUNNER (self), FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  if (self->thread != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY, "a run is in progress");
      return FALSE;
    }

  if (!(session = xl_train_session_new (config, error)))
    return FALSE;
  xl_train_session_set_report_func (session, xl_plot_write_run_report);

  status_clear (&self->status);
  self->status.running = TRUE;
  self->status.epochs = config->epochs;
  self->status.eta_seconds = -1;
  self->status.run_dir = g_strdup (config->out_dir);
  self->batch_size = config->batch_size;
  self->acc_epoch = 0;

  xl_curve_model_clear (self->loss_model);
  xl_curve_model_clear (self->accuracy_model);

  g_mutex_lock (&self->mutex);
  pending_clear (&self->pending);
  pending_init (&self->pending);
  g_mutex_unlock (&self->mutex);

  self->session = g_steal_pointer (&session);
  /* The runner outlives the thread: dispose joins it. */
  self->thread = g_thread_new ("xl-train", xl_train_runner_thread, self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_signal_emit (self, signals[CHANGED], 0);

  return TRUE;
}

void
xl_train_runner_stop (XlTrainRunner *self)
{
  g_return_if_fail (XL_IS_TRAIN_RUNNER (self));

  if (self->session == NULL || self->status.stopping)
    return;

  xl_train_session_stop (self->session);
  self->status.stopping = TRUE;
  g_signal_emit (self, signals[CHANGED], 0);
}

void
xl_train_runner_stop_and_wait (XlTrainRunner *self)
{
  g_return_if_fail (XL_IS_TRAIN_RUNNER (self));

  if (self->thread == NULL)
    return;

  xl_train_session_stop (self->session);
  g_clear_pointer (&self->thread, g_thread_join);
  g_clear_pointer (&self->session, xl_train_session_free);
  self->status.running = FALSE;
  self->status.stopping = FALSE;
}

gboolean
xl_train_runner_get_running (XlTrainRunner *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_RUNNER (self), FALSE);

  return self->status.running;
}

const XlTrainStatus *
xl_train_runner_get_status (XlTrainRunner *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_RUNNER (self), NULL);

  return &self->status;
}

XlCurveModel *
xl_train_runner_get_loss_model (XlTrainRunner *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_RUNNER (self), NULL);

  return self->loss_model;
}

XlCurveModel *
xl_train_runner_get_accuracy_model (XlTrainRunner *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_RUNNER (self), NULL);

  return self->accuracy_model;
}

static void
xl_train_runner_dispose (GObject *object)
{
  XlTrainRunner *self = (XlTrainRunner *) object;

  /* A pending flush holds a reference, so none is pending here unless the
   * thread is still running: stop it, wait for it, drop what it reported. */
  xl_train_runner_stop_and_wait (self);

  g_mutex_lock (&self->mutex);
  g_clear_handle_id (&self->flush_source, g_source_remove);
  g_mutex_unlock (&self->mutex);

  G_OBJECT_CLASS (xl_train_runner_parent_class)->dispose (object);
}

static void
xl_train_runner_finalize (GObject *object)
{
  XlTrainRunner *self = (XlTrainRunner *) object;

  pending_clear (&self->pending);
  status_clear (&self->status);
  g_clear_pointer (&self->loss_model, xl_curve_model_unref);
  g_clear_pointer (&self->accuracy_model, xl_curve_model_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (xl_train_runner_parent_class)->finalize (object);
}

static void
xl_train_runner_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  XlTrainRunner *self = XL_TRAIN_RUNNER (object);

  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->status.running);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_train_runner_class_init (XlTrainRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = xl_train_runner_dispose;
  object_class->finalize = xl_train_runner_finalize;
  object_class->get_property = xl_train_runner_get_property;

  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * XlTrainRunner::changed:
   *
   * The status or the curve models changed: at most once per main-loop idle.
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * XlTrainRunner::log:
   * @line: a line for the run's log
   */
  signals[LOG] =
    g_signal_new ("log",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * XlTrainRunner::finished:
   * @stopped: whether the run was stopped by request
   * @error: (nullable): what went wrong, or %NULL
   *
   * The thread is gone; the run folder is complete unless @error is set.
   */
  signals[FINISHED] =
    g_signal_new ("finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_STRING);
}

static void
xl_train_runner_init (XlTrainRunner *self)
{
  g_mutex_init (&self->mutex);
  pending_init (&self->pending);
  self->loss_model = xl_curve_model_new ();
  self->accuracy_model = xl_curve_model_new ();
  self->status.eta_seconds = -1;
}
