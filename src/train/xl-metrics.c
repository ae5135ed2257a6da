/* xl-metrics.c — confusion matrix, per-class and binary metrics, ROC and AUC.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xl-metrics.h"

G_DEFINE_QUARK (xl-metrics-error-quark, xl_metrics_error)

/* Scores with no order (NaN) or at the infinite first threshold would make
 * the curve meaningless; they are refused with the sample's index. */
static gboolean
check_scores (const float *scores,
              gsize        n,
              gsize        stride,
              GError     **error)
{
  for (gsize i = 0; i < n; i++)
    {
      float score = scores[i * stride];

      if (!isfinite (score))
        {
          g_set_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID,
                       "score of sample %" G_GSIZE_FORMAT " is %s; scores must be finite",
                       i, isnan (score) ? "NaN" : "infinite");
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
check_labels (const guint *labels,
              gsize        n,
              guint        n_classes,
              const char  *what,
              GError     **error)
{
  for (gsize i = 0; i < n; i++)
    {
      if (labels[i] >= n_classes)
        {
          g_set_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID,
                       "%s label of sample %" G_GSIZE_FORMAT " is %u; there are %u classes",
                       what, i, labels[i], n_classes);
          return FALSE;
        }
    }

  return TRUE;
}

/* 0/0 is NAN, which is how every undefined ratio here is reported. */
static double
ratio (guint64 numerator,
       guint64 denominator)
{
  if (denominator == 0)
    return NAN;

  return (double) numerator / (double) denominator;
}

/* Confusion matrix ------------------------------------------------------------ */

XlConfusionMatrix *
xl_confusion_matrix_new (guint n_classes)
{
  XlConfusionMatrix *cm;

  g_return_val_if_fail (n_classes > 0 && n_classes <= 65536, NULL);

  cm = g_new0 (XlConfusionMatrix, 1);
  cm->n_classes = n_classes;
  cm->counts = g_new0 (guint64, (gsize) n_classes * n_classes);

  return cm;
}

XlConfusionMatrix *
xl_confusion_matrix_copy (const XlConfusionMatrix *cm)
{
  XlConfusionMatrix *copy;

  g_return_val_if_fail (cm != NULL, NULL);

  copy = xl_confusion_matrix_new (cm->n_classes);
  memcpy (copy->counts, cm->counts, sizeof (guint64) * cm->n_classes * cm->n_classes);

  return copy;
}

void
xl_confusion_matrix_free (XlConfusionMatrix *cm)
{
  if (cm == NULL)
    return;

  g_free (cm->counts);
  g_free (cm);
}

gboolean
xl_confusion_matrix_add_labels (XlConfusionMatrix *cm,
                                const guint       *true_labels,
                                const guint       *predicted_labels,
                                gsize              n,
                                GError           **error)
{
  g_return_val_if_fail (cm != NULL, FALSE);
  g_return_val_if_fail (n == 0 || (true_labels != NULL && predicted_labels != NULL), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_labels (true_labels, n, cm->n_classes, "true", error) ||
      !check_labels (predicted_labels, n, cm->n_classes, "predicted", error))
    return FALSE;

  for (gsize i = 0; i < n; i++)
    cm->counts[(gsize) true_labels[i] * cm->n_classes + predicted_labels[i]]++;

  return TRUE;
}

XlConfusionMatrix *
xl_confusion_matrix_new_from_scores (const float *p_positive,
                                     const guint *labels,
                                     gsize        n,
                                     guint        positive_class,
                                     double       threshold,
                                     GError     **error)
{
  g_autoptr(XlConfusionMatrix) cm = NULL;
  guint negative_class = 1 - positive_class;

  g_return_val_if_fail (n == 0 || (p_positive != NULL && labels != NULL), NULL);
  g_return_val_if_fail (positive_class < 2, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (isnan (threshold))
    {
      g_set_error_literal (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID,
                           "the threshold is NaN");
      return NULL;
    }

  if (!check_scores (p_positive, n, 1, error) ||
      !check_labels (labels, n, 2, "true", error))
    return NULL;

  cm = xl_confusion_matrix_new (2);
  for (gsize i = 0; i < n; i++)
    {
      guint predicted = (double) p_positive[i] >= threshold ? positive_class : negative_class;

      cm->counts[labels[i] * 2 + predicted]++;
    }

  return g_steal_pointer (&cm);
}

XlConfusionMatrix *
xl_confusion_matrix_new_from_probabilities (const float *probs,
                                            const guint *labels,
                                            gsize        n,
                                            guint        n_classes,
                                            GError     **error)
{
  g_autoptr(XlConfusionMatrix) cm = NULL;

  g_return_val_if_fail (n == 0 || (probs != NULL && labels != NULL), NULL);
  g_return_val_if_fail (n_classes > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_scores (probs, n * n_classes, 1, error) ||
      !check_labels (labels, n, n_classes, "true", error))
    return NULL;

  cm = xl_confusion_matrix_new (n_classes);
  for (gsize i = 0; i < n; i++)
    {
      const float *row = probs + i * n_classes;   /* (n_classes) */
      guint predicted = 0;

      for (guint c = 1; c < n_classes; c++)
        if (row[c] > row[predicted])
          predicted = c;

      cm->counts[(gsize) labels[i] * n_classes + predicted]++;
    }

  return g_steal_pointer (&cm);
}

guint64
xl_confusion_matrix_get (const XlConfusionMatrix *cm,
                         guint                    true_class,
                         guint                    predicted_class)
{
  g_return_val_if_fail (cm != NULL, 0);
  g_return_val_if_fail (true_class < cm->n_classes && predicted_class < cm->n_classes, 0);

  return cm->counts[(gsize) true_class * cm->n_classes + predicted_class];
}

guint64
xl_confusion_matrix_total (const XlConfusionMatrix *cm)
{
  guint64 total = 0;

  g_return_val_if_fail (cm != NULL, 0);

  for (gsize i = 0; i < (gsize) cm->n_classes * cm->n_classes; i++)
    total += cm->counts[i];

  return total;
}

guint64
xl_confusion_matrix_row_total (const XlConfusionMatrix *cm,
                               guint                    true_class)
{
  guint64 total = 0;

  g_return_val_if_fail (cm != NULL, 0);
  g_return_val_if_fail (true_class < cm->n_classes, 0);

  for (guint p = 0; p < cm->n_classes; p++)
    total += cm->counts[(gsize) true_class * cm->n_classes + p];

  return total;
}

double
xl_confusion_matrix_row_fraction (const XlConfusionMatrix *cm,
                                  guint                    true_class,
                                  guint                    predicted_class)
{
  g_return_val_if_fail (cm != NULL, NAN);
  g_return_val_if_fail (true_class < cm->n_classes && predicted_class < cm->n_classes, NAN);

  return ratio (xl_confusion_matrix_get (cm, true_class, predicted_class),
                xl_confusion_matrix_row_total (cm, true_class));
}

double
xl_confusion_matrix_accuracy (const XlConfusionMatrix *cm)
{
  guint64 correct = 0;

  g_return_val_if_fail (cm != NULL, NAN);

  for (guint c = 0; c < cm->n_classes; c++)
    correct += cm->counts[(gsize) c * cm->n_classes + c];

  return ratio (correct, xl_confusion_matrix_total (cm));
}

/* Per-class and binary metrics ------------------------------------------------ */

void
xl_confusion_matrix_class_metrics (const XlConfusionMatrix *cm,
                                   guint                    class_index,
                                   XlClassMetrics          *out)
{
  guint64 predicted = 0;

  g_return_if_fail (cm != NULL);
  g_return_if_fail (class_index < cm->n_classes);
  g_return_if_fail (out != NULL);

  for (guint t = 0; t < cm->n_classes; t++)
    predicted += xl_confusion_matrix_get (cm, t, class_index);

  out->true_positive = xl_confusion_matrix_get (cm, class_index, class_index);
  out->support = xl_confusion_matrix_row_total (cm, class_index);
  out->false_negative = out->support - out->true_positive;
  out->false_positive = predicted - out->true_positive;
  out->precision = ratio (out->true_positive, predicted);
  out->recall = ratio (out->true_positive, out->support);
  /* 2 tp / (2 tp + fp + fn) is the harmonic mean of precision and recall
   * wherever both exist, and is still defined (0) when one of them is not,
   * as scikit-learn >= 1.3 reports it. */
  out->f1 = ratio (2 * out->true_positive,
                   2 * out->true_positive + out->false_positive + out->false_negative);
  out->flags = XL_METRIC_FLAGS_NONE;
  if (isnan (out->precision))
    out->flags |= XL_METRIC_PRECISION_UNDEFINED;
  if (isnan (out->recall))
    out->flags |= XL_METRIC_RECALL_UNDEFINED;
  if (isnan (out->f1))
    out->flags |= XL_METRIC_F1_UNDEFINED;
}

void
xl_binary_metrics_from_confusion (const XlConfusionMatrix *cm,
                                  guint                    positive_class,
                                  double                   threshold,
                                  XlBinaryMetrics         *out)
{
  XlClassMetrics positive;
  guint negative_class = 1 - positive_class;

  g_return_if_fail (cm != NULL && cm->n_classes == 2);
  g_return_if_fail (positive_class < 2);
  g_return_if_fail (out != NULL);

  xl_confusion_matrix_class_metrics (cm, positive_class, &positive);

  out->threshold = threshold;
  out->positive_class = positive_class;
  out->true_positive = positive.true_positive;
  out->false_positive = positive.false_positive;
  out->false_negative = positive.false_negative;
  out->true_negative = xl_confusion_matrix_get (cm, negative_class, negative_class);
  out->accuracy = xl_confusion_matrix_accuracy (cm);
  out->sensitivity = positive.recall;
  out->specificity = ratio (out->true_negative, out->true_negative + out->false_positive);
  out->precision = positive.precision;
  out->negative_predictive_value = ratio (out->true_negative,
                                          out->true_negative + out->false_negative);
  out->f1 = positive.f1;
  out->flags = positive.flags;
  if (isnan (out->specificity))
    out->flags |= XL_METRIC_SPECIFICITY_UNDEFINED;
  if (isnan (out->accuracy))
    out->flags |= XL_METRIC_ACCURACY_UNDEFINED;
  if (isnan (out->negative_predictive_value))
    out->flags |= XL_METRIC_NEGATIVE_PREDICTIVE_UNDEFINED;
}

gboolean
xl_binary_metrics_compute (const float     *p_positive,
                           const guint     *labels,
                           gsize            n,
                           guint            positive_class,
                           double           threshold,
                           XlBinaryMetrics *out,
                           GError         **error)
{
  g_autoptr(XlConfusionMatrix) cm = NULL;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (positive_class < 2, FALSE);

  cm = xl_confusion_matrix_new_from_scores (p_positive, labels, n, positive_class,
                                            threshold, error);
  if (cm == NULL)
    {
      /* A caller that skips the error (NaN scores from a diverged model)
       * still reads "undefined", not stack garbage. */
      g_autoptr(XlConfusionMatrix) empty = xl_confusion_matrix_new (2);

      xl_binary_metrics_from_confusion (empty, positive_class, threshold, out);
      return FALSE;
    }

  xl_binary_metrics_from_confusion (cm, positive_class, threshold, out);

  return TRUE;
}

/* ROC ------------------------------------------------------------------------ */

typedef struct {
  float    score;
  gboolean positive;
} ScoredSample;

static int
compare_scores_descending (const void *a,
                           const void *b)
{
  float sa = ((const ScoredSample *) a)->score;
  float sb = ((const ScoredSample *) b)->score;

  return (sa < sb) - (sa > sb);
}

/* scores[i * stride] is sample i's score: stride n_classes reads one column
 * of a probability matrix without copying it first. */
static XlRocCurve *
roc_curve_compute_strided (const float *scores,
                           gsize        stride,
                           const guint *labels,
                           gsize        n,
                           guint        positive_class,
                           GError     **error)
{
  g_autofree ScoredSample *samples = NULL;
  XlRocCurve *roc;
  guint64 tp = 0;
  guint64 fp = 0;
  double area = 0.0;  /* in units of one (negative, positive) pair, doubled */

  if (n == 0)
    {
      g_set_error_literal (error, XL_METRICS_ERROR, XL_METRICS_ERROR_EMPTY,
                           "no samples: a ROC curve needs at least one");
      return NULL;
    }
  if (n >= G_MAXUINT)
    {
      g_set_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID,
                   "%" G_GSIZE_FORMAT " samples are too many for a ROC curve", n);
      return NULL;
    }

  if (!check_scores (scores, n, stride, error))
    return NULL;

  samples = g_new (ScoredSample, n);
  for (gsize i = 0; i < n; i++)
    {
      samples[i].score = scores[i * stride];
      samples[i].positive = labels[i] == positive_class;
    }
  qsort (samples, n, sizeof *samples, compare_scores_descending);

  roc = g_new0 (XlRocCurve, 1);
  roc->points = g_new (XlRocPoint, n + 1);
  roc->points[0] = (XlRocPoint) { .threshold = INFINITY };
  roc->n_points = 1;

  for (gsize i = 0; i < n; i++)
    {
      if (samples[i].positive)
        tp++;
      else
        fp++;

      /* One point per distinct score, after its whole group of ties. */
      if (i + 1 == n || samples[i + 1].score != samples[i].score)
        {
          XlRocPoint *prev = &roc->points[roc->n_points - 1];
          XlRocPoint *point = &roc->points[roc->n_points++];

          point->threshold = samples[i].score;
          point->true_positive = tp;
          point->false_positive = fp;
          /* Trapezoid in counts: exact in double for any realistic n. */
          area += (double) (fp - prev->false_positive) * (double) (tp + prev->true_positive);
        }
    }

  roc->n_positive = tp;
  roc->n_negative = fp;
  if (tp == 0)
    roc->flags |= XL_ROC_NO_POSITIVES;
  if (fp == 0)
    roc->flags |= XL_ROC_NO_NEGATIVES;

  for (guint i = 0; i < roc->n_points; i++)
    {
      roc->points[i].fpr = ratio (roc->points[i].false_positive, roc->n_negative);
      roc->points[i].tpr = ratio (roc->points[i].true_positive, roc->n_positive);
    }

  if (roc->flags == XL_ROC_FLAGS_NONE)
    roc->auc = area / (2.0 * (double) roc->n_positive * (double) roc->n_negative);
  else
    roc->auc = NAN;

  return roc;
}

XlRocCurve *
xl_roc_curve_compute (const float *scores,
                      const guint *labels,
                      gsize        n,
                      guint        positive_class,
                      GError     **error)
{
  g_return_val_if_fail (n == 0 || (scores != NULL && labels != NULL), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return roc_curve_compute_strided (scores, 1, labels, n, positive_class, error);
}

void
xl_roc_curve_free (XlRocCurve *roc)
{
  if (roc == NULL)
    return;

  g_free (roc->points);
  g_free (roc);
}

gboolean
xl_roc_curve_youden (const XlRocCurve *roc,
                     XlRocPoint       *out)
{
  const XlRocPoint *best = NULL;
  gint64 best_j = 0;

  g_return_val_if_fail (roc != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (roc->flags != XL_ROC_FLAGS_NONE)
    return FALSE;

  /* J = tp/P - fp/N, compared exactly as (tp N - fp P) / (P N): two points
   * with the same J must tie, not differ in the last bit. Points come in
   * decreasing threshold, so keeping the first maximum prefers the higher. */
  for (guint i = 1; i < roc->n_points; i++)
    {
      const XlRocPoint *point = &roc->points[i];
      gint64 j = (gint64) (point->true_positive * roc->n_negative)
                 - (gint64) (point->false_positive * roc->n_positive);

      if (best == NULL || j > best_j)
        {
          best = point;
          best_j = j;
        }
    }

  if (best == NULL)
    return FALSE;

  *out = *best;
  return TRUE;
}

gboolean
xl_roc_curve_threshold_for_sensitivity (const XlRocCurve *roc,
                                        double            min_sensitivity,
                                        XlRocPoint       *out)
{
  double needed;

  g_return_val_if_fail (roc != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (!isnan (min_sensitivity), FALSE);

  if (roc->flags != XL_ROC_FLAGS_NONE)
    return FALSE;

  /* The smallest count of true positives that reaches the target, with a
   * little slack so that 0.95 of 20 positives asks for 19, not 20. */
  needed = ceil (CLAMP (min_sensitivity, 0.0, 1.0) * (double) roc->n_positive - 1e-9);

  for (guint i = 1; i < roc->n_points; i++)
    {
      if ((double) roc->points[i].true_positive >= needed)
        {
          *out = roc->points[i];
          return TRUE;
        }
    }

  /* Not reached: the last point has every positive. */
  g_return_val_if_reached (FALSE);
}

XlRocOneVsRest *
xl_roc_one_vs_rest_compute (const float *probs,
                            const guint *labels,
                            gsize        n,
                            guint        n_classes,
                            GError     **error)
{
  g_autoptr(XlRocOneVsRest) ovr = NULL;
  double sum = 0.0;

  g_return_val_if_fail (n == 0 || (probs != NULL && labels != NULL), NULL);
  g_return_val_if_fail (n_classes >= 2, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_labels (labels, n, n_classes, "true", error))
    return NULL;

  ovr = g_new0 (XlRocOneVsRest, 1);
  ovr->n_classes = n_classes;
  ovr->curves = g_new0 (XlRocCurve *, n_classes);

  for (guint c = 0; c < n_classes; c++)
    {
      ovr->curves[c] = roc_curve_compute_strided (probs + c, n_classes, labels, n, c, error);
      if (ovr->curves[c] == NULL)
        return NULL;

      if (isnan (ovr->curves[c]->auc))
        ovr->undefined_classes++;
      else
        sum += ovr->curves[c]->auc;
    }

  ovr->macro_auc = ovr->undefined_classes == 0 ? sum / n_classes : NAN;

  return g_steal_pointer (&ovr);
}

void
xl_roc_one_vs_rest_free (XlRocOneVsRest *ovr)
{
  if (ovr == NULL)
    return;

  for (guint c = 0; c < ovr->n_classes; c++)
    xl_roc_curve_free (ovr->curves[c]);
  g_free (ovr->curves);
  g_free (ovr);
}
