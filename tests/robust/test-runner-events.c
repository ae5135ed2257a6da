/* The GUI's event delivery: XlTrainRunner runs a session on its own thread
 * and brings the events to the main loop (a mutex-guarded pending set and one
 * low-priority idle). The runner needs GLib only, so this test builds it
 * without GTK, which lets .ci/run's ThreadSanitizer build (-Dgui=false) check
 * the hand-over: runs stopped after their first batch from the main loop,
 * runs stopped at once, and a run to the end, with the model's and the
 * loader's threads. The events are checked too: every run ends with one
 * ::finished, after at least one ::changed, and what it saw adds up. */
#include "config.h"

#include "robust-util.h"
#include "xl-train-runner.h"

#define N_STOPPED_RUNS 6

static char *tmp_root;
static char *data_dir;

typedef struct {
  guint changed;
  guint finished;
  gboolean stopped;
  char *error;
  guint log_lines;
} Delivered;

static void
on_changed (XlTrainRunner *runner, Delivered *d)
{
  d->changed++;
}

static void
on_log (XlTrainRunner *runner, const char *line, Delivered *d)
{
  g_assert_nonnull (line);
  d->log_lines++;
}

static void
on_finished (XlTrainRunner *runner, gboolean stopped, const char *error, Delivered *d)
{
  d->finished++;
  d->stopped = stopped;
  g_free (d->error);
  d->error = g_strdup (error);
}

/* Iterates the default main context until done says so, or 120 s pass. */
static gboolean
iterate_until (gboolean (*done) (XlTrainRunner *, Delivered *), XlTrainRunner *runner,
               Delivered *d)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (!done (runner, d))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static gboolean
first_batch_seen (XlTrainRunner *runner, Delivered *d)
{
  return xl_train_runner_get_status (runner)->n_batch_events > 0 || d->finished > 0;
}

static gboolean
finished_seen (XlTrainRunner *runner, Delivered *d)
{
  return d->finished > 0;
}

static XlTrainRunner *
start_run (const char *name, guint epochs, guint threads, Delivered *d)
{
  g_autofree char *out = g_build_filename (tmp_root, name, NULL);
  g_autoptr (GError) error = NULL;
  XlTrainRunner *runner = xl_train_runner_new ();
  XlTrainConfig cfg;

  robust_small_config (&cfg, data_dir, out);
  cfg.epochs = epochs;
  cfg.max_batches = 0;
  cfg.threads = threads;
  cfg.loader_threads = threads;
  g_signal_connect (runner, "changed", G_CALLBACK (on_changed), d);
  g_signal_connect (runner, "log", G_CALLBACK (on_log), d);
  g_signal_connect (runner, "finished", G_CALLBACK (on_finished), d);
  g_assert_true (xl_train_runner_start (runner, &cfg, &error));
  g_assert_no_error (error);
  g_assert_true (xl_train_runner_get_running (runner));
  /* one run at a time */
  g_assert_false (xl_train_runner_start (runner, &cfg, NULL));
  xl_train_config_clear (&cfg);
  return runner;
}

static void
assert_finished_once (XlTrainRunner *runner, Delivered *d)
{
  const XlTrainStatus *status = xl_train_runner_get_status (runner);

  g_assert_cmpuint (d->finished, ==, 1);
  g_assert_null (d->error);
  g_assert_cmpuint (d->changed, >=, 1);
  g_assert_cmpuint (d->log_lines, >=, 1);
  g_assert_false (xl_train_runner_get_running (runner));
  g_assert_true (status->finished);
  g_assert_cmpuint (status->n_flushes, >=, 1);
}

static void
test_stopped_runs (void)
{
  for (guint i = 0; i < N_STOPPED_RUNS; i++)
    {
      g_autofree char *name = g_strdup_printf ("stopped-%u", i);
      Delivered d = { 0 };
      /* half of them stop before the first batch is seen */
      gboolean at_once = i % 2 == 1;
      g_autoptr (XlTrainRunner) runner = start_run (name, 50, 1 + i % 2, &d);

      if (!at_once)
        g_assert_true (iterate_until (first_batch_seen, runner, &d));
      xl_train_runner_stop (runner);
      g_assert_true (iterate_until (finished_seen, runner, &d));
      assert_finished_once (runner, &d);
      g_assert_true (d.stopped);
      g_assert_true (xl_train_runner_get_status (runner)->stopped);
      g_assert_cmpuint (xl_train_runner_get_status (runner)->epochs_done, <, 50);

      /* nothing arrives after ::finished */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_assert_cmpuint (d.finished, ==, 1);
      g_free (d.error);
    }
}

static void
test_run_to_the_end (void)
{
  Delivered d = { 0 };
  g_autoptr (XlTrainRunner) runner = start_run ("whole", 2, 2, &d);
  const XlTrainStatus *status;
  guint n_val = 0;

  g_assert_true (iterate_until (finished_seen, runner, &d));
  assert_finished_once (runner, &d);
  status = xl_train_runner_get_status (runner);
  g_assert_false (d.stopped);
  g_assert_cmpuint (status->epochs_done, ==, 2);
  g_assert_cmpuint (status->best_epoch, >=, 1);
  g_assert_cmpuint (status->n_batch_events, >=, 2);
  g_assert_nonnull (status->run_dir);
  /* the per-epoch validation points reached the curve model */
  (void) xl_curve_model_get_points (xl_train_runner_get_loss_model (runner), XL_CURVE_VAL_EPOCH,
                                    &n_val);
  g_assert_cmpuint (n_val, ==, 2);
  g_free (d.error);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_root = robust_tmp_dir ("runner");
  data_dir = g_build_filename (tmp_root, "data", NULL);
  robust_make_data (data_dir, 16);
  g_test_add_func ("/robust/runner/stopped-runs", test_stopped_runs);
  g_test_add_func ("/robust/runner/run-to-the-end", test_run_to_the_end);
  status = g_test_run ();
  robust_remove_tree (tmp_root);
  g_free (data_dir);
  g_free (tmp_root);
  return status;
}
