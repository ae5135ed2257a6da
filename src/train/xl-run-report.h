/* xl-run-report.h — what a finished run hands to whoever draws its reports.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Training knows nothing of drawing (src/train must not depend on src/plot),
 * so a session calls a report function its owner gives it: the CLI and the
 * GUI pass xl_plot_write_run_report from src/plot.
 */
#pragma once

#include "xl-evaluate.h"

G_BEGIN_DECLS

typedef struct {
  guint epoch;
  double train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds, images_per_second;
} XlEpochRecord;

/* One training batch, for the per-batch curves: x is the fractional epoch
 * (epoch - 1 + batch / batches). */
typedef struct {
  double x, loss, accuracy;
} XlBatchPoint;

typedef struct {
  const char *run_dir;
  const char *shown_run_dir;       /* named on the title page; NULL: run_dir (an export
                                    * drawn in a scratch folder names the real run) */
  const XlDataset *ds;
  XlImageCache *cache;             /* decoded films, for the augmented-batch picture */
  const void *train_transform;     /* const XlTransformConfig *: the training augmentation */
  const guint *train_indices;
  guint n_train;
  guint64 seed;
  const XlEpochRecord *history;
  guint n_history;
  guint planned_epochs;
  const XlBatchPoint *batches;
  guint n_batches;
  guint best_epoch;                /* 0: none */
  guint early_stop_epoch;          /* 0: none */
  const XlModelInfo *info;
  const XlPredictions *predictions;  /* of predictions_split, with the best model */
  const char *predictions_split;     /* "test" or "val" */
  double threshold;
  const char *threshold_source;
  const char *settings_text;       /* one setting a line, for report.pdf */
} XlRunReport;

typedef gboolean (*XlRunReportFunc) (const XlRunReport *report, GError **error);

G_END_DECLS
