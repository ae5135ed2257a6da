/* xl-train-runner.h — a training session on a worker thread, its events
 * brought to the main loop.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "xl-curve-model.h"
#include "xl-train-session.h"

G_BEGIN_DECLS

#define XL_TYPE_TRAIN_RUNNER (xl_train_runner_get_type ())

G_DECLARE_FINAL_TYPE (XlTrainRunner, xl_train_runner, XL, TRAIN_RUNNER, GObject)

/* What the runner knows, as of the last time the main loop caught up. */
typedef struct
{
  gboolean  running;         /* a worker thread exists */
  gboolean  stopping;        /* stop was asked for */
  gboolean  training;        /* the first batch has been seen */
  gboolean  finished;        /* FINISHED was seen (the run may have been stopped) */
  gboolean  stopped;         /* FINISHED said it was stopped by request */
  char     *phase;           /* the slow step before or after training, or NULL */
  double    phase_fraction;
  guint     epoch;           /* of the last batch, from 1 */
  guint     epochs;
  guint     batch;
  guint     batches;
  guint     epochs_done;     /* EPOCH events seen */
  double    fraction;        /* of the whole run */
  double    images_per_second;
  double    eta_seconds;     /* < 0: not known yet */
  double    running_loss;
  double    running_accuracy;
  guint64   n_parameters;
  guint64   n_trainable;
  guint     best_epoch;
  guint     early_stop_epoch;
  guint     n_batch_events;  /* BATCH events brought to the main loop */
  guint     n_flushes;       /* main-loop updates, each for any number of events */
  char     *error;           /* the ERROR event's message, or NULL */
  char     *run_dir;
} XlTrainStatus;

XlTrainRunner       *xl_train_runner_new              (void);
/* Starts a session for config in a new thread. FALSE if one is running or
 * the settings are refused (XL_TRAIN_ERROR_SETTINGS names the setting). */
gboolean             xl_train_runner_start            (XlTrainRunner        *self,
                                                       const XlTrainConfig  *config,
                                                       GError              **error);
/* Asks the run to end after its current batch; the best model is kept and
 * the reports are written, then ::finished. */
void                 xl_train_runner_stop             (XlTrainRunner        *self);
/* Stops and waits for the thread: for when the process must not go on. */
void                 xl_train_runner_stop_and_wait    (XlTrainRunner        *self);
gboolean             xl_train_runner_get_running      (XlTrainRunner        *self);
const XlTrainStatus *xl_train_runner_get_status       (XlTrainRunner        *self);
/* Loss and accuracy: train per batch and per epoch, val per epoch, best and
 * early-stop epochs. Emptied when a run starts. */
XlCurveModel        *xl_train_runner_get_loss_model   (XlTrainRunner        *self);
XlCurveModel        *xl_train_runner_get_accuracy_model (XlTrainRunner      *self);

G_END_DECLS
