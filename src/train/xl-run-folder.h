/* xl-run-folder.h — a finished run folder read back: its model's metadata,
 * settings, curves and per-film predictions, without retraining.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What a session writes (DESIGN.md, "The run folder") is what this reads:
 * model.safetensors (only its metadata), config.json, history.csv,
 * batches.csv (optional), metrics.json (optional) and predictions.csv. The
 * Results and Review views and `xraylab-cli plots` all start here.
 */
#pragma once

#include <gio/gio.h>

#include "xl-evaluate.h"
#include "xl-model.h"
#include "xl-run-report.h"
#include "xl-train-session.h"

G_BEGIN_DECLS

/* One row of predictions.csv. */
typedef struct {
  char *path;      /* the film, as written: UTF-8 (g_filename_display_name) */
  XlSplit split;   /* XL_SPLIT_NONE when the row names no known split */
  guint label;     /* true class */
  guint predicted; /* as the run decided it, at its threshold */
} XlRunFilm;

typedef struct {
  char *run_dir;
  char *model_path;      /* RUN/model.safetensors */
  XlModelInfo info;      /* classes, positive class, the chosen threshold */
  XlTrainConfig config;  /* config.json */

  GArray *history;       /* XlEpochRecord, one per epoch */
  GArray *batches;       /* XlBatchPoint; empty when batches.csv is missing */
  guint best_epoch;      /* 0 when metrics.json does not say */
  guint early_stop_epoch;
  gboolean stopped;      /* the run was stopped by the user */
  char *threshold_source; /* how the threshold was chosen, as metrics.json says */

  guint n_films;         /* rows of predictions.csv */
  XlRunFilm *films;      /* (n_films) */
  float *probs;          /* (n_films, info.n_classes) softmax probabilities */
} XlRunFolder;

/* Reference counted and read-only once loaded, so views can share one. */
XlRunFolder *xl_run_folder_load (const char *run_dir, GError **error);
XlRunFolder *xl_run_folder_ref (XlRunFolder *run);
void xl_run_folder_unref (XlRunFolder *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlRunFolder, xl_run_folder_unref)

/* How many rows belong to a split. */
guint xl_run_folder_count (const XlRunFolder *run, XlSplit split);

/* The rows of one split as predictions: indices are row numbers in
 * run->films, loss NaN. NULL when the split has no rows. */
XlPredictions *xl_run_folder_predictions (const XlRunFolder *run, XlSplit split);

/* The split the run's reported metrics are for: test when predictions.csv
 * has test rows, else val. */
XlSplit xl_run_folder_report_split (const XlRunFolder *run);

/* The film's path on this machine: absolute paths as they are; relative
 * ones (from a data set given as a relative path) next to the run folder
 * when the film is there, else against the current folder. */
char *xl_run_folder_film_path (const XlRunFolder *run, guint row);

/* Splits one line of our own CSV files (RFC 4180 quoting) into fields. */
GPtrArray *xl_csv_fields (const char *line);

G_END_DECLS
