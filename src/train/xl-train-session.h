/* xl-train-session.h — a training run: from a data set and settings to a run folder.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A session scans the data set, decodes every film once, builds the model from
 * the start weights, trains it epoch by epoch (or only its head on cached
 * features), keeps the best model on disk as soon as it is found, stops early,
 * and finally evaluates the best model and writes the reports. It runs in the
 * caller's thread (the GUI gives it a worker thread) and reports through a
 * callback with plain structs; it never touches GTK. A stop request is a flag
 * checked every batch: the current batch ends, the best model is kept and the
 * reports are still written.
 *
 * The run folder: model.safetensors (the best model), checkpoint.safetensors
 * (the last epoch, with optimizer state, for --resume), config.json,
 * history.csv, metrics.json, predictions.csv, log.txt and plots/.
 */
#pragma once

#include <gio/gio.h>

#include "nn-optim.h"
#include "xl-dataset.h"
#include "xl-loader.h"
#include "xl-model.h"
#include "xl-run-report.h"

G_BEGIN_DECLS

#define XL_TRAIN_ERROR (xl_train_error_quark ())
GQuark xl_train_error_quark (void);

typedef enum {
  XL_TRAIN_ERROR_SETTINGS,   /* a setting is out of range or inconsistent */
  XL_TRAIN_ERROR_DIVERGED,   /* the loss became NaN or infinite */
  XL_TRAIN_ERROR_IO,         /* the run folder could not be written */
  XL_TRAIN_ERROR_RESUME,     /* the run to resume is missing or does not fit */
} XlTrainError;

typedef enum {
  XL_TRAIN_FINETUNE,         /* every parameter trains */
  XL_TRAIN_FIXED,            /* fixed feature extractor: only the new head trains */
  XL_TRAIN_PARTIAL,          /* the stem and the first freeze-1 stages are frozen */
} XlTrainMode;

typedef enum {
  XL_SCHEDULE_NONE,
  XL_SCHEDULE_STEP,          /* StepLR(step_size, gamma) */
  XL_SCHEDULE_COSINE,        /* CosineAnnealingLR(T_max = epochs) */
} XlSchedule;

typedef enum {
  XL_MONITOR_VAL_LOSS,
  XL_MONITOR_VAL_ACCURACY,
} XlMonitor;

typedef enum {
  XL_CLASS_WEIGHTS_NONE,
  XL_CLASS_WEIGHTS_BALANCED, /* n / (classes * count), as scikit-learn's "balanced" */
  XL_CLASS_WEIGHTS_GIVEN,
} XlClassWeighting;

#define XL_MAX_CLASSES 64

typedef struct {
  char *data_path;
  char *out_dir;
  char *weights_path;        /* ImageNet .pth/.safetensors or one of our models; NULL: random init */

  XlTrainMode mode;
  guint freeze;              /* partial: the stem and layer1..layer(freeze-1) are frozen */
  guint head_hidden;         /* 0: the plain linear fc; else an MLP head */
  double head_dropout;
  guint width;               /* 64 is ResNet-18; tests use less */

  guint epochs;
  guint batch_size;
  guint input_size;          /* crop C */
  guint resize;              /* short side S */
  NnOptimKind optimizer;
  double lr, momentum, weight_decay;
  gboolean nesterov;
  XlSchedule schedule;
  guint step_size;
  double gamma;
  guint patience;            /* epochs without improvement before stopping; 0: never */
  XlMonitor monitor;
  XlClassWeighting class_weighting;
  double class_weights[XL_MAX_CLASSES];
  guint n_class_weights;
  gboolean balanced_sampling;

  gboolean augment;          /* random crop (or random-resized-crop) and the jitters below */
  gboolean random_resized_crop;
  double rotation_degrees, brightness, contrast;
  gboolean hflip;            /* off by default: a flip puts the heart on the wrong side */

  double val_fraction;       /* re-split train into train/val by patient; 0 keeps val;
                                < 0: automatic (re-split when val has under 100 films) */
  guint cache_views;         /* fixed mode with augmentation: augmented views cached
                                per film (0: no feature cache) */
  gsize image_cache_bytes;   /* decoded films kept in memory */
  gsize feature_cache_bytes; /* frozen activations kept in memory */

  guint64 seed;
  guint threads;             /* the model's threads */
  guint loader_threads;
  guint max_batches;         /* tests: stop each epoch after this many batches; 0: all */
} XlTrainConfig;

/* The PyTorch case study's defaults for mode: fine-tune Adam lr 1e-4; fixed and
 * partial SGD lr 1e-3 momentum 0.9; StepLR(7, 0.1); 50 epochs, patience 10 on
 * the validation loss; batch 32 at 224 from 256; augmentation on; seed 1. */
void xl_train_config_init (XlTrainConfig *cfg, XlTrainMode mode);
void xl_train_config_clear (XlTrainConfig *cfg);
void xl_train_config_copy (XlTrainConfig *dst, const XlTrainConfig *src);
gboolean xl_train_config_validate (const XlTrainConfig *cfg, GError **error);
const char *xl_train_mode_name (XlTrainMode mode);       /* "finetune", "fixed", "partial" */
gboolean xl_train_mode_from_name (const char *name, XlTrainMode *mode);
/* Groups frozen for cfg (nn-resnet.h): 0 fine-tune, 5 fixed, freeze partial. */
int xl_train_config_frozen_stages (const XlTrainConfig *cfg);

/* config.json: every setting, plus whatever extra members the caller adds. */
char *xl_train_config_to_json (const XlTrainConfig *cfg);
gboolean xl_train_config_from_json (XlTrainConfig *cfg, const char *json, GError **error);

typedef enum {
  XL_TRAIN_EVENT_STARTED,    /* n_parameters, n_trainable, message: the plan */
  XL_TRAIN_EVENT_PROGRESS,   /* a slow step before or after training: phase, fraction */
  XL_TRAIN_EVENT_BATCH,      /* a training batch ended */
  XL_TRAIN_EVENT_EPOCH,      /* an epoch ended: all its metrics */
  XL_TRAIN_EVENT_BEST,       /* a new best model was written */
  XL_TRAIN_EVENT_EARLY_STOP, /* patience ran out */
  XL_TRAIN_EVENT_LOG,        /* a line for the log */
  XL_TRAIN_EVENT_FINISHED,   /* reports written; stopped tells whether by request */
  XL_TRAIN_EVENT_ERROR,      /* message says what went wrong */
} XlTrainEventKind;

typedef struct {
  XlTrainEventKind kind;
  guint epoch, epochs;       /* epoch counts from 1 */
  guint batch, batches;      /* batch within the epoch, from 1 */
  double batch_loss;         /* this batch */
  double running_loss;       /* mean over the epoch so far */
  double running_accuracy;
  double train_loss, train_accuracy, val_loss, val_accuracy;
  double lr;
  double seconds;            /* the epoch's wall time */
  double images_per_second;
  double fraction;           /* of the whole run, 0..1 */
  double eta_seconds;        /* time left; < 0 when not known yet */
  gsize n_parameters, n_trainable;
  guint best_epoch;
  gboolean stopped;
  const char *phase;         /* PROGRESS: "Decoding films", "Caching features", ... */
  const char *message;       /* LOG, ERROR, STARTED, FINISHED */
} XlTrainEvent;

/* Called from the training thread: copy what you keep. */
typedef void (*XlTrainEventFunc) (const XlTrainEvent *event, gpointer user_data);

typedef struct _XlTrainSession XlTrainSession;

XlTrainSession *xl_train_session_new (const XlTrainConfig *cfg, GError **error);
/* Continues the stopped run in run_dir from its last finished epoch; epochs, if
 * not 0, replaces the planned number of epochs. */
XlTrainSession *xl_train_session_new_resume (const char *run_dir, guint epochs,
                                             GError **error);
void xl_train_session_free (XlTrainSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlTrainSession, xl_train_session_free)

const XlTrainConfig *xl_train_session_config (const XlTrainSession *session);

/* Plots and report.pdf: called once the best model has been evaluated. Without
 * one, the run folder has everything but plots/ and report.pdf. */
void xl_train_session_set_report_func (XlTrainSession *session, XlRunReportFunc func);

/* Runs the whole session in the calling thread. FALSE with error when it could
 * not train at all or diverged; a stop request still returns TRUE. */
gboolean xl_train_session_run (XlTrainSession *session, XlTrainEventFunc func,
                               gpointer user_data, GError **error);

/* Thread-safe and async-signal-safe: ask the run to end after this batch. */
void xl_train_session_stop (XlTrainSession *session);

/* After run: the epochs trained, best epoch (0 when none). */
const XlEpochRecord *xl_train_session_history (const XlTrainSession *session, guint *n);
guint xl_train_session_best_epoch (const XlTrainSession *session);

G_END_DECLS
