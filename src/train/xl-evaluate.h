/* xl-evaluate.h — a model's predictions over a split, and the reports made of them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "nn-resnet.h"
#include "xl-dataset.h"
#include "xl-image-cache.h"
#include "xl-metrics.h"
#include "xl-model.h"

G_BEGIN_DECLS

typedef struct {
  guint n;                   /* films predicted */
  guint n_classes;
  guint *indices;            /* (n) dataset indices */
  guint *labels;             /* (n) true class */
  float *probs;              /* (n, n_classes) softmax probabilities */
  double loss;               /* mean cross-entropy (unweighted) */
  guint n_failed;            /* films that could not be decoded */
} XlPredictions;

void xl_predictions_free (XlPredictions *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlPredictions, xl_predictions_free)

/* Runs net (evaluation mode) over the dataset images in indices with the eval
 * transform of info (resize, center crop, normalization), batch by batch. */
XlPredictions *xl_predict_indices (NnResnet *net, const XlModelInfo *info, XlImageCache *cache,
                                   const guint *indices, guint n, guint batch_size,
                                   guint loader_threads, XlProgressFunc progress,
                                   gpointer user_data, GCancellable *cancellable,
                                   GError **error);

/* P(positive) of every film, (n). */
float *xl_predictions_positive_scores (const XlPredictions *p, guint positive_class);

/* The threshold Youden's J picks on these predictions (binary only); 0.5 when
 * undefined. */
double xl_predictions_youden_threshold (const XlPredictions *p, guint positive_class);

/* metrics.json's object for a split: loss, accuracy, confusion matrix,
 * per-class metrics, and for two classes the binary metrics at 0.5 and at
 * threshold, ROC AUC and the ROC points; for more, one-vs-rest AUCs. */
char *xl_predictions_metrics_json (const XlPredictions *p, const XlModelInfo *info,
                                   double threshold, const char *threshold_source);

/* predictions.csv: path, split, true label, P(each class), predicted label at
 * threshold (binary) or argmax; the rows of each part in turn (a run writes
 * its val and test predictions). Written atomically. */
gboolean xl_predictions_write_csv (const XlPredictions *const *parts, guint n_parts,
                                   const XlDataset *ds, const XlModelInfo *info,
                                   double threshold, const char *path, GError **error);

/* Writes contents to path atomically (temporary file, fsync, rename). */
gboolean xl_write_file_atomic (const char *path, const char *contents, gssize len,
                               GError **error);

G_END_DECLS
