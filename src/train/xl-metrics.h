/* xl-metrics.h — evaluation metrics: confusion matrix, per-class and binary
 * metrics at a threshold, ROC curves and AUC, threshold choice.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions: no I/O, no global state. Scores are float32 as the model
 * outputs them; labels are class indices. A value that is undefined on the
 * given data (recall of a class with no sample, AUC of a one-class split) is
 * NAN, and a flag says why, so a report can print "undefined" rather than a
 * number that looks real.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define XL_METRICS_ERROR (xl_metrics_error_quark ())
GQuark xl_metrics_error_quark (void);

typedef enum {
  XL_METRICS_ERROR_EMPTY,     /* no samples where some are needed (a ROC curve) */
  XL_METRICS_ERROR_INVALID,   /* a NaN or infinite score, a label out of range */
} XlMetricsError;

/* The class the binary metrics call positive: PNEUMONIA in the Kermany set,
 * whose classes sort as NORMAL, PNEUMONIA. */
#define XL_POSITIVE_CLASS_DEFAULT 1u

/* Confusion matrix ---------------------------------------------------------- */

/* Rows are the true class, columns the predicted class. */
typedef struct {
  guint    n_classes;
  guint64 *counts;          /* (n_classes, n_classes), row-major */
} XlConfusionMatrix;

XlConfusionMatrix *xl_confusion_matrix_new  (guint n_classes);
XlConfusionMatrix *xl_confusion_matrix_copy (const XlConfusionMatrix *cm);
void               xl_confusion_matrix_free (XlConfusionMatrix *cm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlConfusionMatrix, xl_confusion_matrix_free)

/* Adds n (true, predicted) pairs; fails, adding nothing, if a label is out of
 * range. n may be 0. */
gboolean xl_confusion_matrix_add_labels (XlConfusionMatrix *cm,
                                         const guint       *true_labels,
                                         const guint       *predicted_labels,
                                         gsize              n,
                                         GError           **error);

/* Binary: predicted positive iff p_positive[i] >= threshold. A 2x2 matrix,
 * class indices as in labels (0 and 1). */
XlConfusionMatrix *xl_confusion_matrix_new_from_scores (const float *p_positive,  /* (n) */
                                                        const guint *labels,      /* (n) */
                                                        gsize        n,
                                                        guint        positive_class,
                                                        double       threshold,
                                                        GError     **error);

/* N classes: predicted = argmax of each row of probs (the first on a tie, as
 * numpy's argmax). */
XlConfusionMatrix *xl_confusion_matrix_new_from_probabilities (const float *probs,   /* (n, n_classes) */
                                                               const guint *labels,  /* (n) */
                                                               gsize        n,
                                                               guint        n_classes,
                                                               GError     **error);

guint64 xl_confusion_matrix_get       (const XlConfusionMatrix *cm,
                                       guint                    true_class,
                                       guint                    predicted_class);
guint64 xl_confusion_matrix_total     (const XlConfusionMatrix *cm);
/* Samples whose true class is true_class (the class's support). */
guint64 xl_confusion_matrix_row_total (const XlConfusionMatrix *cm,
                                       guint                    true_class);
/* count / row total: the share of true_class predicted as predicted_class.
 * NAN when the row is empty. */
double  xl_confusion_matrix_row_fraction (const XlConfusionMatrix *cm,
                                          guint                    true_class,
                                          guint                    predicted_class);
/* Correct / total; NAN when the matrix is empty. */
double  xl_confusion_matrix_accuracy  (const XlConfusionMatrix *cm);

/* Per-class and binary metrics ---------------------------------------------- */

typedef enum {
  XL_METRIC_FLAGS_NONE                  = 0,
  XL_METRIC_PRECISION_UNDEFINED         = 1 << 0, /* nothing was predicted as the class */
  XL_METRIC_RECALL_UNDEFINED            = 1 << 1, /* the class has no sample (= sensitivity) */
  XL_METRIC_F1_UNDEFINED                = 1 << 2, /* neither of the two: tp + fp + fn == 0 */
  XL_METRIC_SPECIFICITY_UNDEFINED       = 1 << 3, /* binary: no negative sample */
  XL_METRIC_ACCURACY_UNDEFINED          = 1 << 4, /* no sample at all */
  XL_METRIC_NEGATIVE_PREDICTIVE_UNDEFINED = 1 << 5, /* binary: nothing predicted negative */
} XlMetricFlags;

typedef struct {
  guint64 true_positive;
  guint64 false_positive;
  guint64 false_negative;
  guint64 support;          /* samples of the class: tp + fn */
  double  precision;        /* tp / (tp + fp) */
  double  recall;           /* tp / (tp + fn) */
  double  f1;               /* 2 tp / (2 tp + fp + fn), the harmonic mean */
  XlMetricFlags flags;      /* which of the above are NAN, and why */
} XlClassMetrics;

void xl_confusion_matrix_class_metrics (const XlConfusionMatrix *cm,
                                        guint                    class_index,
                                        XlClassMetrics          *out);

typedef struct {
  double  threshold;        /* predicted positive iff p >= threshold */
  guint   positive_class;
  guint64 true_positive;
  guint64 false_positive;
  guint64 true_negative;
  guint64 false_negative;
  double  accuracy;
  double  sensitivity;      /* recall of the positive class, the true positive rate */
  double  specificity;      /* recall of the negative class, 1 - false positive rate */
  double  precision;        /* positive predictive value */
  double  negative_predictive_value;
  double  f1;               /* of the positive class */
  XlMetricFlags flags;
} XlBinaryMetrics;

/* From a 2x2 matrix; threshold is only recorded in out (NAN when unknown). */
void     xl_binary_metrics_from_confusion (const XlConfusionMatrix *cm,
                                           guint                    positive_class,
                                           double                   threshold,
                                           XlBinaryMetrics         *out);
/* The same from scores. Empty input is not an error: everything is flagged
 * undefined. NaN or infinite scores and labels other than 0 and 1 are; out
 * then holds the empty input's undefined values, never garbage. */
gboolean xl_binary_metrics_compute        (const float     *p_positive,  /* (n) */
                                           const guint     *labels,      /* (n) */
                                           gsize            n,
                                           guint            positive_class,
                                           double           threshold,
                                           XlBinaryMetrics *out,
                                           GError         **error);

/* ROC ------------------------------------------------------------------------ */

typedef struct {
  double  threshold;        /* predicted positive iff score >= threshold; +inf first */
  guint64 false_positive;
  guint64 true_positive;
  double  fpr;              /* fp / negatives; NAN when there are none */
  double  tpr;              /* tp / positives; NAN when there are none */
} XlRocPoint;

typedef enum {
  XL_ROC_FLAGS_NONE    = 0,
  XL_ROC_NO_POSITIVES  = 1 << 0,
  XL_ROC_NO_NEGATIVES  = 1 << 1,
} XlRocFlags;

/* One point per distinct score, thresholds decreasing, after a first point
 * (threshold +inf, 0, 0): scikit-learn's roc_curve with
 * drop_intermediate=False. Tied scores move the curve diagonally, so the
 * trapezoid AUC equals the Mann-Whitney probability P(s+ > s-) + P(s+ = s-)/2. */
typedef struct {
  guint       n_points;
  XlRocPoint *points;
  guint64     n_positive;
  guint64     n_negative;
  double      auc;          /* NAN when flags has NO_POSITIVES or NO_NEGATIVES */
  XlRocFlags  flags;
} XlRocCurve;

/* Positive iff labels[i] == positive_class; every other label is negative, so
 * the same function serves one-vs-rest. Fails on n == 0 (XL_METRICS_ERROR_EMPTY)
 * and on NaN or infinite scores (XL_METRICS_ERROR_INVALID). A one-class input
 * is not an error: the curve is returned with auc NAN and a flag. */
XlRocCurve *xl_roc_curve_compute (const float *scores,   /* (n) */
                                  const guint *labels,   /* (n) */
                                  gsize        n,
                                  guint        positive_class,
                                  GError     **error);
void        xl_roc_curve_free    (XlRocCurve *roc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlRocCurve, xl_roc_curve_free)

/* The point that maximizes Youden's J = tpr - fpr, a tie going to the higher
 * threshold. Only points with a finite threshold (a score that occurs) are
 * considered, so the threshold can be applied as it is. FALSE, out untouched,
 * when the curve has only one class. */
gboolean xl_roc_curve_youden (const XlRocCurve *roc,
                              XlRocPoint       *out);
/* The highest threshold whose sensitivity (tpr) is >= min_sensitivity, e.g.
 * 0.95 for the "95% sensitivity" preset. FALSE when the curve has no positive
 * (or no negative) sample. Finite thresholds only, as above. */
gboolean xl_roc_curve_threshold_for_sensitivity (const XlRocCurve *roc,
                                                 double            min_sensitivity,
                                                 XlRocPoint       *out);

/* One-vs-rest for N classes: curve c has class c positive, scored by column c
 * of probs. macro_auc is the mean of the per-class AUCs, NAN (with
 * undefined_classes > 0) when any class's AUC is undefined, as scikit-learn's
 * roc_auc_score(multi_class="ovr") refuses such input. */
typedef struct {
  guint        n_classes;
  XlRocCurve **curves;      /* (n_classes) */
  double       macro_auc;
  guint        undefined_classes;
} XlRocOneVsRest;

XlRocOneVsRest *xl_roc_one_vs_rest_compute (const float *probs,    /* (n, n_classes) */
                                            const guint *labels,   /* (n) */
                                            gsize        n,
                                            guint        n_classes,
                                            GError     **error);
void            xl_roc_one_vs_rest_free    (XlRocOneVsRest *ovr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlRocOneVsRest, xl_roc_one_vs_rest_free)

G_END_DECLS
