/* test-metrics.c — confusion matrix, binary metrics, ROC/AUC and threshold
 * choice against cases worked by hand.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "xl-metrics.h"

#define EPS 1e-12

/* The hand case. Six samples, three of each class (1 = positive):
 *
 *   score  0.9  0.8  0.7  0.6  0.4  0.2
 *   label   1    1    0    1    0    0
 *
 * Walking the scores downwards, each one a threshold (positive iff p >= t):
 *
 *   t     tp fp   tpr  fpr   J = tpr - fpr
 *   +inf   0  0    0    0     0
 *   0.9    1  0   1/3   0    1/3
 *   0.8    2  0   2/3   0    2/3   <- Youden: ties with 0.6, higher wins
 *   0.7    2  1   2/3  1/3   1/3
 *   0.6    3  1    1   1/3   2/3   <- first with sensitivity >= 0.95
 *   0.4    3  2    1   2/3   1/3
 *   0.2    3  3    1    1     0
 *
 * AUC by trapezoids: 1/3 * 2/3 + 1/3 * 1 + 1/3 * 1 = 8/9. By pairs: 0.9 and
 * 0.8 beat all three negatives, 0.6 beats 0.4 and 0.2: 8 of 9 pairs.
 *
 * At t = 0.5: predicted positive 0.9 0.8 0.7 0.6, so tp 3, fp 1, tn 2, fn 0:
 * accuracy 5/6, sensitivity 1, specificity 2/3, precision 3/4, NPV 1,
 * F1 = 2*3 / (2*3 + 1 + 0) = 6/7. */
static const float hand_scores[] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.2f };
static const guint hand_labels[] = { 1, 1, 0, 1, 0, 0 };

static void
test_binary_hand (void)
{
  g_autoptr(GError) error = NULL;
  XlBinaryMetrics m;

  g_assert_true (xl_binary_metrics_compute (hand_scores, hand_labels, 6,
                                            XL_POSITIVE_CLASS_DEFAULT, 0.5, &m, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (m.true_positive, ==, 3);
  g_assert_cmpuint (m.false_positive, ==, 1);
  g_assert_cmpuint (m.true_negative, ==, 2);
  g_assert_cmpuint (m.false_negative, ==, 0);
  g_assert_cmpfloat_with_epsilon (m.accuracy, 5.0 / 6.0, EPS);
  g_assert_cmpfloat_with_epsilon (m.sensitivity, 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (m.specificity, 2.0 / 3.0, EPS);
  g_assert_cmpfloat_with_epsilon (m.precision, 3.0 / 4.0, EPS);
  g_assert_cmpfloat_with_epsilon (m.negative_predictive_value, 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (m.f1, 6.0 / 7.0, EPS);
  g_assert_cmpfloat (m.threshold, ==, 0.5);
  g_assert_cmpint (m.flags, ==, XL_METRIC_FLAGS_NONE);

  /* p >= threshold: a score equal to the threshold counts as positive. */
  g_assert_true (xl_binary_metrics_compute (hand_scores, hand_labels, 6,
                                            XL_POSITIVE_CLASS_DEFAULT, 0.6f, &m, &error));
  g_assert_cmpuint (m.true_positive, ==, 3);
  g_assert_cmpuint (m.false_positive, ==, 1);

  /* Class 0 positive: the scores are then P(class 0). At t = 0.5 the same
   * four are "positive", now one right (0.7) and three wrong. */
  g_assert_true (xl_binary_metrics_compute (hand_scores, hand_labels, 6, 0, 0.5, &m, &error));
  g_assert_cmpuint (m.true_positive, ==, 1);
  g_assert_cmpuint (m.false_positive, ==, 3);
  g_assert_cmpuint (m.true_negative, ==, 0);
  g_assert_cmpuint (m.false_negative, ==, 2);
}

static void
test_roc_hand (void)
{
  static const double thresholds[] = { INFINITY, 0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.2f };
  static const guint tp[] = { 0, 1, 2, 2, 3, 3, 3 };
  static const guint fp[] = { 0, 0, 0, 1, 1, 2, 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(XlRocCurve) roc = NULL;
  XlRocPoint point;

  roc = xl_roc_curve_compute (hand_scores, hand_labels, 6, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (roc);

  g_assert_cmpuint (roc->n_points, ==, 7);
  g_assert_cmpuint (roc->n_positive, ==, 3);
  g_assert_cmpuint (roc->n_negative, ==, 3);
  g_assert_cmpint (roc->flags, ==, XL_ROC_FLAGS_NONE);
  for (guint i = 0; i < 7; i++)
    {
      g_assert_cmpfloat (roc->points[i].threshold, ==, thresholds[i]);
      g_assert_cmpuint (roc->points[i].true_positive, ==, tp[i]);
      g_assert_cmpuint (roc->points[i].false_positive, ==, fp[i]);
      g_assert_cmpfloat_with_epsilon (roc->points[i].tpr, tp[i] / 3.0, EPS);
      g_assert_cmpfloat_with_epsilon (roc->points[i].fpr, fp[i] / 3.0, EPS);
    }
  g_assert_cmpfloat_with_epsilon (roc->auc, 8.0 / 9.0, EPS);

  g_assert_true (xl_roc_curve_youden (roc, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.8f);
  g_assert_cmpuint (point.true_positive, ==, 2);
  g_assert_cmpuint (point.false_positive, ==, 0);

  g_assert_true (xl_roc_curve_threshold_for_sensitivity (roc, 0.95, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.6f);
  g_assert_true (xl_roc_curve_threshold_for_sensitivity (roc, 0.6, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.8f);
  /* Exactly 2/3 is reached at 0.8, not only above it. */
  g_assert_true (xl_roc_curve_threshold_for_sensitivity (roc, 2.0 / 3.0, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.8f);
  /* 0 asks for nothing: the highest real score. */
  g_assert_true (xl_roc_curve_threshold_for_sensitivity (roc, 0.0, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.9f);
}

/* A threshold chosen on the curve gives back the curve's point when applied
 * to the same scores: both use p >= t. */
static void
test_roc_threshold_applies (void)
{
  g_autoptr(XlRocCurve) roc = xl_roc_curve_compute (hand_scores, hand_labels, 6, 1, NULL);
  XlBinaryMetrics m;

  for (guint i = 1; i < roc->n_points; i++)
    {
      g_assert_true (xl_binary_metrics_compute (hand_scores, hand_labels, 6, 1,
                                                roc->points[i].threshold, &m, NULL));
      g_assert_cmpuint (m.true_positive, ==, roc->points[i].true_positive);
      g_assert_cmpuint (m.false_positive, ==, roc->points[i].false_positive);
      g_assert_cmpfloat_with_epsilon (m.sensitivity, roc->points[i].tpr, EPS);
      g_assert_cmpfloat_with_epsilon (1.0 - m.specificity, roc->points[i].fpr, EPS);
    }
}

/* Ties. Scores 0.8 0.8 0.5 0.5 0.5 0.1 with labels 1 0 1 1 0 0: three
 * distinct scores, three points after +inf, each group moving diagonally:
 *   0.8: tp 1 fp 1;  0.5: tp 3 fp 2;  0.1: tp 3 fp 3.
 * Trapezoids: 1/3 * (0 + 1/3)/2 + 1/3 * (1/3 + 1)/2 + 1/3 * 1 = 11/18.
 * Pairs: positive 0.8 ties 0.8 and beats the rest (2.5); each positive 0.5
 * loses to 0.8, ties 0.5, beats 0.1 (1.5 each): 5.5 / 9 = 11/18. */
static void
test_roc_ties (void)
{
  static const float scores[] = { 0.8f, 0.8f, 0.5f, 0.5f, 0.5f, 0.1f };
  static const guint labels[] = { 1, 0, 1, 1, 0, 0 };
  g_autoptr(XlRocCurve) roc = xl_roc_curve_compute (scores, labels, 6, 1, NULL);
  XlRocPoint point;

  g_assert_cmpuint (roc->n_points, ==, 4);
  g_assert_cmpuint (roc->points[1].true_positive, ==, 1);
  g_assert_cmpuint (roc->points[1].false_positive, ==, 1);
  g_assert_cmpuint (roc->points[2].true_positive, ==, 3);
  g_assert_cmpuint (roc->points[2].false_positive, ==, 2);
  g_assert_cmpuint (roc->points[3].true_positive, ==, 3);
  g_assert_cmpuint (roc->points[3].false_positive, ==, 3);
  g_assert_cmpfloat_with_epsilon (roc->auc, 11.0 / 18.0, EPS);

  /* J: 0.8 -> 0, 0.5 -> 1/3, 0.1 -> 0. */
  g_assert_true (xl_roc_curve_youden (roc, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.5f);
}

static void
test_roc_all_same (void)
{
  static const float scores[] = { 0.5f, 0.5f, 0.5f, 0.5f, 0.5f };
  static const guint labels[] = { 1, 0, 0, 1, 0 };
  g_autoptr(XlRocCurve) roc = xl_roc_curve_compute (scores, labels, 5, 1, NULL);

  g_assert_cmpuint (roc->n_points, ==, 2);
  g_assert_cmpfloat (roc->points[1].fpr, ==, 1.0);
  g_assert_cmpfloat (roc->points[1].tpr, ==, 1.0);
  g_assert_cmpfloat_with_epsilon (roc->auc, 0.5, EPS);
}

static void
test_roc_perfect_and_inverted (void)
{
  static const float scores[] = { 0.95f, 0.7f, 0.65f, 0.3f, 0.1f };
  static const guint perfect[] = { 1, 1, 1, 0, 0 };
  static const guint inverted[] = { 0, 0, 0, 1, 1 };
  g_autoptr(XlRocCurve) good = xl_roc_curve_compute (scores, perfect, 5, 1, NULL);
  g_autoptr(XlRocCurve) bad = xl_roc_curve_compute (scores, inverted, 5, 1, NULL);
  XlRocPoint point;

  g_assert_cmpfloat_with_epsilon (good->auc, 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (bad->auc, 0.0, EPS);

  /* Perfect: J = 1 at the lowest positive score, which separates the classes. */
  g_assert_true (xl_roc_curve_youden (good, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.65f);
  g_assert_cmpfloat (point.tpr, ==, 1.0);
  g_assert_cmpfloat (point.fpr, ==, 0.0);

  /* Inverted: every finite point has J < 0 except the last (J = 0). */
  g_assert_true (xl_roc_curve_youden (bad, &point));
  g_assert_cmpfloat (point.threshold, ==, 0.1f);
}

static void
test_roc_single_class (void)
{
  static const float scores[] = { 0.9f, 0.4f, 0.2f };
  static const guint all_negative[] = { 0, 0, 0 };
  static const guint all_positive[] = { 1, 1, 1 };
  g_autoptr(XlRocCurve) roc = NULL;
  g_autoptr(XlRocCurve) roc_pos = NULL;
  g_autoptr(GError) error = NULL;
  XlRocPoint point = { .threshold = 42.0 };
  XlBinaryMetrics m;

  roc = xl_roc_curve_compute (scores, all_negative, 3, 1, &error);
  g_assert_no_error (error);
  g_assert_true (isnan (roc->auc));
  g_assert_cmpint (roc->flags, ==, XL_ROC_NO_POSITIVES);
  g_assert_true (isnan (roc->points[1].tpr));
  g_assert_cmpfloat_with_epsilon (roc->points[3].fpr, 1.0, EPS);
  g_assert_false (xl_roc_curve_youden (roc, &point));
  g_assert_false (xl_roc_curve_threshold_for_sensitivity (roc, 0.95, &point));
  g_assert_cmpfloat (point.threshold, ==, 42.0);

  roc_pos = xl_roc_curve_compute (scores, all_positive, 3, 1, &error);
  g_assert_true (isnan (roc_pos->auc));
  g_assert_cmpint (roc_pos->flags, ==, XL_ROC_NO_NEGATIVES);

  /* Sensitivity is undefined without positives; specificity is not. */
  g_assert_true (xl_binary_metrics_compute (scores, all_negative, 3, 1, 0.5, &m, &error));
  g_assert_true (isnan (m.sensitivity));
  g_assert_true (m.flags & XL_METRIC_RECALL_UNDEFINED);
  g_assert_false (m.flags & XL_METRIC_SPECIFICITY_UNDEFINED);
  g_assert_cmpfloat_with_epsilon (m.specificity, 2.0 / 3.0, EPS);
  /* One false positive, no true one: precision 0, F1 0, both defined. */
  g_assert_cmpfloat (m.precision, ==, 0.0);
  g_assert_cmpfloat (m.f1, ==, 0.0);
  g_assert_false (m.flags & XL_METRIC_F1_UNDEFINED);

  g_assert_true (xl_binary_metrics_compute (scores, all_positive, 3, 1, 0.5, &m, &error));
  g_assert_true (isnan (m.specificity));
  g_assert_true (m.flags & XL_METRIC_SPECIFICITY_UNDEFINED);
  g_assert_false (m.flags & XL_METRIC_RECALL_UNDEFINED);
  g_assert_cmpfloat_with_epsilon (m.sensitivity, 1.0 / 3.0, EPS);
}

static void
test_degenerate_input (void)
{
  static const float with_nan[] = { 0.2f, NAN, 0.7f };
  static const float with_inf[] = { 0.2f, INFINITY, 0.7f };
  static const guint labels[] = { 0, 1, 1 };
  static const guint bad_labels[] = { 0, 2, 1 };
  g_autoptr(GError) error = NULL;
  XlRocCurve *roc;
  XlBinaryMetrics m;

  roc = xl_roc_curve_compute (NULL, NULL, 0, 1, &error);
  g_assert_null (roc);
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_EMPTY);
  g_clear_error (&error);

  roc = xl_roc_curve_compute (with_nan, labels, 3, 1, &error);
  g_assert_null (roc);
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "sample 1"));
  g_clear_error (&error);

  roc = xl_roc_curve_compute (with_inf, labels, 3, 1, &error);
  g_assert_null (roc);
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID);
  g_clear_error (&error);

  memset (&m, 0x55, sizeof m);
  g_assert_false (xl_binary_metrics_compute (with_nan, labels, 3, 1, 0.5, &m, &error));
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID);
  g_assert_true (isnan (m.accuracy) && isnan (m.sensitivity));
  g_assert_true (m.flags & XL_METRIC_ACCURACY_UNDEFINED);
  g_clear_error (&error);

  g_assert_false (xl_binary_metrics_compute (hand_scores, bad_labels, 3, 1, 0.5, &m, &error));
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_false (xl_binary_metrics_compute (hand_scores, labels, 3, 1, NAN, &m, &error));
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID);
  g_clear_error (&error);

  /* No samples at all: everything undefined, nothing fails. */
  g_assert_true (xl_binary_metrics_compute (NULL, NULL, 0, 1, 0.5, &m, &error));
  g_assert_no_error (error);
  g_assert_true (isnan (m.accuracy) && isnan (m.sensitivity) && isnan (m.specificity));
  g_assert_true (isnan (m.precision) && isnan (m.f1));
  g_assert_cmpint (m.flags, ==, XL_METRIC_PRECISION_UNDEFINED | XL_METRIC_RECALL_UNDEFINED |
                   XL_METRIC_F1_UNDEFINED | XL_METRIC_SPECIFICITY_UNDEFINED |
                   XL_METRIC_ACCURACY_UNDEFINED | XL_METRIC_NEGATIVE_PREDICTIVE_UNDEFINED);
}

/* The trapezoid AUC equals the Mann-Whitney probability with ties counted
 * half, on random data with many ties (scores on a 1/16 grid). */
static void
test_auc_mann_whitney (void)
{
  enum { N = 600 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260412);
  g_autofree float *scores = g_new (float, N);
  g_autofree guint *labels = g_new (guint, N);

  for (guint trial = 0; trial < 5; trial++)
    {
      g_autoptr(XlRocCurve) roc = NULL;
      double wins = 0.0;
      guint64 pairs = 0;

      for (guint i = 0; i < N; i++)
        {
          labels[i] = g_rand_double (rand) < 0.3 ? 1 : 0;
          /* Positives lean high, differently in each trial. */
          scores[i] = (float) (g_rand_int_range (rand, 0, 12) + (labels[i] ? trial : 0)) / 16.0f;
        }

      for (guint i = 0; i < N; i++)
        for (guint j = 0; j < N; j++)
          if (labels[i] == 1 && labels[j] == 0)
            {
              pairs++;
              wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
            }

      roc = xl_roc_curve_compute (scores, labels, N, 1, NULL);
      g_assert_cmpuint (roc->n_positive * roc->n_negative, ==, pairs);
      g_assert_cmpuint (roc->n_points, <=, 12 + trial + 1);
      g_assert_cmpfloat_with_epsilon (roc->auc, wins / (double) pairs, 1e-12);
    }
}

/* Three classes, counts chosen by hand:
 *
 *   true \ pred   0  1  2   support
 *        0        5  1  0      6
 *        1        2  3  1      6
 *        2        0  2  6      8
 *   predicted     7  6  7     20, 14 on the diagonal: accuracy 0.7
 *
 *   class 0: precision 5/7, recall 5/6, F1 = 10 / (10 + 2 + 1) = 10/13
 *   class 1: precision 3/6, recall 3/6, F1 =  6 / (6 + 3 + 3)  = 1/2
 *   class 2: precision 6/7, recall 6/8, F1 = 12 / (12 + 1 + 2) = 4/5 */
static const guint three_counts[3][3] = { { 5, 1, 0 }, { 2, 3, 1 }, { 0, 2, 6 } };

static void
test_confusion_three_classes (void)
{
  static const double precision[] = { 5.0 / 7.0, 0.5, 6.0 / 7.0 };
  static const double recall[] = { 5.0 / 6.0, 0.5, 0.75 };
  static const double f1[] = { 10.0 / 13.0, 0.5, 0.8 };
  g_autoptr(XlConfusionMatrix) cm = xl_confusion_matrix_new (3);
  g_autoptr(XlConfusionMatrix) copy = NULL;
  g_autoptr(GError) error = NULL;
  guint truth[20];
  guint predicted[20];
  guint bad[1] = { 3 };
  guint n = 0;

  /* Shuffled order does not matter; fill row by row. */
  for (guint t = 0; t < 3; t++)
    for (guint p = 0; p < 3; p++)
      for (guint k = 0; k < three_counts[t][p]; k++)
        {
          truth[n] = t;
          predicted[n] = p;
          n++;
        }
  g_assert_cmpuint (n, ==, 20);

  g_assert_true (xl_confusion_matrix_add_labels (cm, truth, predicted, n, &error));
  g_assert_no_error (error);

  for (guint t = 0; t < 3; t++)
    for (guint p = 0; p < 3; p++)
      g_assert_cmpuint (xl_confusion_matrix_get (cm, t, p), ==, three_counts[t][p]);
  g_assert_cmpuint (xl_confusion_matrix_total (cm), ==, 20);
  g_assert_cmpuint (xl_confusion_matrix_row_total (cm, 2), ==, 8);
  g_assert_cmpfloat_with_epsilon (xl_confusion_matrix_row_fraction (cm, 1, 0), 2.0 / 6.0, EPS);
  g_assert_cmpfloat_with_epsilon (xl_confusion_matrix_accuracy (cm), 0.7, EPS);

  for (guint c = 0; c < 3; c++)
    {
      XlClassMetrics m;

      xl_confusion_matrix_class_metrics (cm, c, &m);
      g_assert_cmpfloat_with_epsilon (m.precision, precision[c], EPS);
      g_assert_cmpfloat_with_epsilon (m.recall, recall[c], EPS);
      g_assert_cmpfloat_with_epsilon (m.f1, f1[c], EPS);
      g_assert_cmpfloat_with_epsilon (m.f1, 2 * m.precision * m.recall / (m.precision + m.recall), EPS);
      g_assert_cmpuint (m.support, ==, c == 2 ? 8 : 6);
      g_assert_cmpint (m.flags, ==, XL_METRIC_FLAGS_NONE);
    }

  /* A bad label adds nothing. */
  copy = xl_confusion_matrix_copy (cm);
  g_assert_false (xl_confusion_matrix_add_labels (copy, bad, truth, 1, &error));
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_INVALID);
  g_assert_cmpuint (xl_confusion_matrix_total (copy), ==, 20);
}

static void
test_confusion_undefined (void)
{
  /* Class 2 never occurs and is never predicted; class 1 is never predicted. */
  static const guint truth[] = { 0, 0, 1, 1 };
  static const guint predicted[] = { 0, 0, 0, 0 };
  g_autoptr(XlConfusionMatrix) cm = xl_confusion_matrix_new (3);
  XlClassMetrics m;

  g_assert_true (xl_confusion_matrix_add_labels (cm, truth, predicted, 4, NULL));

  xl_confusion_matrix_class_metrics (cm, 1, &m);
  g_assert_cmpint (m.flags, ==, XL_METRIC_PRECISION_UNDEFINED);
  g_assert_cmpfloat (m.recall, ==, 0.0);
  g_assert_cmpfloat (m.f1, ==, 0.0);

  xl_confusion_matrix_class_metrics (cm, 2, &m);
  g_assert_cmpint (m.flags, ==, XL_METRIC_PRECISION_UNDEFINED | XL_METRIC_RECALL_UNDEFINED |
                   XL_METRIC_F1_UNDEFINED);
  g_assert_true (isnan (m.precision) && isnan (m.recall) && isnan (m.f1));
  g_assert_true (isnan (xl_confusion_matrix_row_fraction (cm, 2, 2)));
}

static void
test_confusion_from_probabilities (void)
{
  /* Row 2 ties 0.4/0.4: the first (class 0) wins, as numpy's argmax. */
  static const float probs[] = {
    0.7f, 0.2f, 0.1f,
    0.1f, 0.8f, 0.1f,
    0.4f, 0.4f, 0.2f,
    0.2f, 0.3f, 0.5f,
  };
  static const guint labels[] = { 0, 1, 1, 1 };
  g_autoptr(XlConfusionMatrix) cm = NULL;

  cm = xl_confusion_matrix_new_from_probabilities (probs, labels, 4, 3, NULL);
  g_assert_cmpuint (xl_confusion_matrix_get (cm, 0, 0), ==, 1);
  g_assert_cmpuint (xl_confusion_matrix_get (cm, 1, 1), ==, 1);
  g_assert_cmpuint (xl_confusion_matrix_get (cm, 1, 0), ==, 1);
  g_assert_cmpuint (xl_confusion_matrix_get (cm, 1, 2), ==, 1);
}

static void
test_one_vs_rest (void)
{
  /* Each class scores its own samples highest: every AUC 1. */
  static const float probs[] = {
    0.8f, 0.1f, 0.1f,
    0.6f, 0.3f, 0.1f,
    0.2f, 0.7f, 0.1f,
    0.1f, 0.5f, 0.4f,
    0.1f, 0.2f, 0.7f,
    0.3f, 0.1f, 0.6f,
  };
  static const guint labels[] = { 0, 0, 1, 1, 2, 2 };
  /* Class 1 column with class 1 negative at 0.5 vs positive 0.3: the pair
   * (0.3 positive, 0.5 negative) is lost. */
  static const guint swapped[] = { 0, 1, 1, 0, 2, 2 };
  static const guint no_class_2[] = { 0, 0, 1, 1, 1, 0 };
  g_autoptr(XlRocOneVsRest) ovr = NULL;
  g_autoptr(XlRocOneVsRest) ovr2 = NULL;
  g_autoptr(XlRocOneVsRest) ovr3 = NULL;
  g_autoptr(GError) error = NULL;

  ovr = xl_roc_one_vs_rest_compute (probs, labels, 6, 3, &error);
  g_assert_no_error (error);
  for (guint c = 0; c < 3; c++)
    g_assert_cmpfloat_with_epsilon (ovr->curves[c]->auc, 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (ovr->macro_auc, 1.0, EPS);
  g_assert_cmpuint (ovr->undefined_classes, ==, 0);

  /* Each curve is the binary curve of its column. */
  ovr2 = xl_roc_one_vs_rest_compute (probs, swapped, 6, 3, &error);
  for (guint c = 0; c < 3; c++)
    {
      float column[6];
      g_autoptr(XlRocCurve) roc = NULL;

      for (guint i = 0; i < 6; i++)
        column[i] = probs[i * 3 + c];
      roc = xl_roc_curve_compute (column, swapped, 6, c, NULL);
      g_assert_cmpuint (roc->n_points, ==, ovr2->curves[c]->n_points);
      g_assert_cmpfloat_with_epsilon (roc->auc, ovr2->curves[c]->auc, EPS);
    }
  /* Class 0: positives 0.8, 0.1 vs negatives 0.6 0.2 0.1 0.3: 0.8 beats 4,
   * 0.1 ties one: 4.5 / 8. Class 1: positives 0.3, 0.7 vs 0.1 0.5 0.2 0.1:
   * 3 + 4 = 7 / 8. Class 2: 1. */
  g_assert_cmpfloat_with_epsilon (ovr2->curves[0]->auc, 4.5 / 8.0, EPS);
  g_assert_cmpfloat_with_epsilon (ovr2->curves[1]->auc, 7.0 / 8.0, EPS);
  g_assert_cmpfloat_with_epsilon (ovr2->macro_auc, (4.5 / 8.0 + 7.0 / 8.0 + 1.0) / 3.0, EPS);

  ovr3 = xl_roc_one_vs_rest_compute (probs, no_class_2, 6, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ovr3->undefined_classes, ==, 1);
  g_assert_true (isnan (ovr3->curves[2]->auc));
  g_assert_true (isnan (ovr3->macro_auc));
  g_assert_false (isnan (ovr3->curves[0]->auc));

  g_assert_null (xl_roc_one_vs_rest_compute (probs, labels, 0, 3, &error));
  g_assert_error (error, XL_METRICS_ERROR, XL_METRICS_ERROR_EMPTY);
}

/* A Kermany-sized split: the sensitivity preset meets its target and no
 * higher threshold does. */
static void
test_sensitivity_preset (void)
{
  enum { N = 624 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (624);
  g_autofree float *scores = g_new (float, N);
  g_autofree guint *labels = g_new (guint, N);
  g_autoptr(XlRocCurve) roc = NULL;
  XlRocPoint point;
  XlBinaryMetrics m;
  guint index = 0;

  for (guint i = 0; i < N; i++)
    {
      labels[i] = i < 234 ? 0 : 1;
      scores[i] = (float) CLAMP (g_rand_double_range (rand, -0.5, 0.5) + (labels[i] ? 0.75 : 0.25), 0.0, 1.0);
    }
  roc = xl_roc_curve_compute (scores, labels, N, 1, NULL);
  g_assert_true (xl_roc_curve_threshold_for_sensitivity (roc, 0.95, &point));

  g_assert_true (xl_binary_metrics_compute (scores, labels, N, 1, point.threshold, &m, NULL));
  g_assert_cmpfloat (m.sensitivity, >=, 0.95);
  g_assert_cmpuint (m.true_positive, ==, point.true_positive);

  while (roc->points[index].threshold != point.threshold)
    index++;
  g_assert_cmpuint (index, >, 1);
  g_assert_cmpfloat (roc->points[index - 1].tpr, <, 0.95);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/metrics/binary/hand", test_binary_hand);
  g_test_add_func ("/metrics/roc/hand", test_roc_hand);
  g_test_add_func ("/metrics/roc/threshold-applies", test_roc_threshold_applies);
  g_test_add_func ("/metrics/roc/ties", test_roc_ties);
  g_test_add_func ("/metrics/roc/all-same", test_roc_all_same);
  g_test_add_func ("/metrics/roc/perfect-and-inverted", test_roc_perfect_and_inverted);
  g_test_add_func ("/metrics/roc/single-class", test_roc_single_class);
  g_test_add_func ("/metrics/roc/mann-whitney", test_auc_mann_whitney);
  g_test_add_func ("/metrics/roc/sensitivity-preset", test_sensitivity_preset);
  g_test_add_func ("/metrics/roc/one-vs-rest", test_one_vs_rest);
  g_test_add_func ("/metrics/degenerate", test_degenerate_input);
  g_test_add_func ("/metrics/confusion/three-classes", test_confusion_three_classes);
  g_test_add_func ("/metrics/confusion/undefined", test_confusion_undefined);
  g_test_add_func ("/metrics/confusion/from-probabilities", test_confusion_from_probabilities);

  return g_test_run ();
}
