/* xl-results-page.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The test split's scores are sorted once, with a running count of the
 * positives among them, when a run is set. A threshold then splits the
 * sorted scores with a binary search, and the confusion matrix and every
 * metric follow from four counts: a slider drag costs O(log n), however
 * many films there are. Drawing and exporting go through src/plot, so a
 * saved PNG is the picture on screen.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "xl-plot-report.h"
#include "xl-results-page.h"

/* Exports' sizes: pixels for PNG, px for SVG, points for PDF. */
static const struct {
  const char *id;
  const char *label;
} export_sizes[] = {
  { "640x480", "640 × 480" },
  { "800x600", "800 × 600" },
  { "1200x900", "1200 × 900" },
  { "1600x1200", "1600 × 1200" },
  { "2400x1800", "2400 × 1800" },
};

/* The one-click PNG, the same size as the run folder's own plots. */
#define QUICK_PNG_WIDTH  800
#define QUICK_PNG_HEIGHT 600

/* Kermany et al., Cell 2018, on the 624-film test split. */
#define KERMANY_ACCURACY    0.928
#define KERMANY_SENSITIVITY 0.932
#define KERMANY_SPECIFICITY 0.901
#define KERMANY_AUC         0.968

/* The rows of the metrics table. */
enum {
  METRIC_ACCURACY,
  METRIC_SENSITIVITY,
  METRIC_SPECIFICITY,
  METRIC_PRECISION,
  METRIC_F1,
  METRIC_AUC,
  N_METRICS
};

struct _XlResultsPage
{
  GtkWidget          parent_instance;

  XlRunFolder       *run;
  double             threshold;

  /* The test split, binary runs: scores sorted high to low and the
   * positives among the first k, for k = 0..n */
  gboolean           binary;
  guint              positive_class;
  guint              n_test;
  float             *sorted_scores;
  guint64           *positives_above;
  guint64            n_positive;
  guint64            n_negative;
  double             auc;
  XlBinaryMetrics    metrics;
  XlConfusionMatrix *matrix;

  /* Presets chosen on the validation split; NAN when there is none */
  double             youden_threshold;
  double             sensitivity_threshold;
  guint              n_val;

  gboolean           shows_reference;
  XlResultsPlot      hovered;
  char              *last_message;
  GtkNativeDialog   *chooser;
  GCancellable      *cancellable;

  /* Template widgets */
  GtkStack          *stack;
  AdwStatusPage     *error_status;
  GtkLabel          *run_title;
  GtkLabel          *run_summary;
  GtkLabel          *metrics_heading;
  GtkLabel          *threshold_description;
  GtkScale          *threshold_scale;
  GtkAdjustment     *threshold_adjustment;
  GtkWidget         *preset_half_button;
  GtkWidget         *preset_youden_button;
  GtkWidget         *preset_sensitivity_button;
  GtkLabel          *threshold_source;
  GtkLabel          *metrics_description;
  GtkGrid           *metrics_grid;
  GtkWidget         *reference_heading;
  GtkLabel          *metric_names[N_METRICS];
  GtkLabel          *metric_values[N_METRICS];
  GtkLabel          *metric_references[N_METRICS];
  GtkWidget         *reference_note;
  GtkWidget         *confusion_card;
  GtkWidget         *roc_card;
  GtkWidget         *loss_card;
  GtkWidget         *accuracy_card;
  XlConfusionView   *confusion_view;
  XlRocView         *roc_view;
  XlCurveChart      *loss_chart;
  XlCurveChart      *accuracy_chart;
  GtkMenuButton     *confusion_menu_button;
  GtkMenuButton     *roc_menu_button;
  GtkMenuButton     *loss_menu_button;
  GtkMenuButton     *accuracy_menu_button;
};

G_DEFINE_FINAL_TYPE (XlResultsPage, xl_results_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SHOW_FILMS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The file names exports start from, and the formats they offer. */
static const char *const plot_names[XL_RESULTS_N_PLOTS] = {
  "confusion-matrix", "roc", "loss", "accuracy",
};
static const char *const formats[] = { "png", "svg", "pdf" };

/* ---- Messages ---------------------------------------------------------------- */

static void
show_message (XlResultsPage *self,
              const char    *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  g_free (self->last_message);
  self->last_message = g_strdup (text);

  if (overlay != NULL)
    {
      AdwToast *toast = adw_toast_new (text);

      adw_toast_set_timeout (toast, 6);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
    }
  else
    g_debug ("results: %s", text);
}

const char *
xl_results_page_get_last_message (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);

  return self->last_message;
}

/* A path as the user sees it: inside the run folder, relative to it. */
static char *
display_path (XlResultsPage *self,
              const char    *path)
{
  if (self->run != NULL && g_str_has_prefix (path, self->run->run_dir)
      && path[strlen (self->run->run_dir)] == G_DIR_SEPARATOR)
    return g_filename_display_name (path + strlen (self->run->run_dir) + 1);

  return g_filename_display_name (path);
}

/* ---- Threshold and metrics -------------------------------------------------- */

static void
clear_test_split (XlResultsPage *self)
{
  self->binary = FALSE;
  self->n_test = 0;
  self->n_positive = 0;
  self->n_negative = 0;
  self->auc = NAN;
  self->youden_threshold = NAN;
  self->sensitivity_threshold = NAN;
  self->n_val = 0;
  self->shows_reference = FALSE;
  g_clear_pointer (&self->sorted_scores, g_free);
  g_clear_pointer (&self->positives_above, g_free);
  g_clear_pointer (&self->matrix, xl_confusion_matrix_free);
}

/* How many test scores are at or above threshold: the films flagged. */
static guint
count_flagged (XlResultsPage *self,
               double         threshold)
{
  guint low = 0;
  guint high = self->n_test;

  /* sorted_scores is non-increasing: find the first score below threshold. */
  while (low < high)
    {
      guint mid = low + (high - low) / 2;

      if ((double) self->sorted_scores[mid] >= threshold)
        low = mid + 1;
      else
        high = mid;
    }

  return low;
}

static char *
format_percent (double value)
{
  if (!isfinite (value))
    /* Translators: a metric that the data leaves undefined, e.g. precision when nothing is flagged */
    return g_strdup (_("undefined"));

  return g_strdup_printf ("%.1f%%", 100 * value);
}

static char *
format_fraction (double value)
{
  if (!isfinite (value))
    return g_strdup (_("undefined"));

  return g_strdup_printf ("%.3f", value);
}

static void
set_value_label (GtkLabel *label,
                 char     *text)
{
  gtk_label_set_label (label, text);
  g_free (text);
}

/* What chose the threshold now in use, in words. */
static char *
describe_threshold_source (XlResultsPage *self)
{
  double t = self->threshold;

  if (self->run != NULL && t == self->run->info.threshold && self->run->threshold_source != NULL)
    /* Translators: %s says how the run chose its threshold, e.g. "Youden's J on the validation split" */
    return g_strdup_printf (_("The run’s own choice: %s."), self->run->threshold_source);
  if (t == self->youden_threshold)
    return g_strdup_printf (ngettext ("Youden’s J on the validation split (%u film): the best sensitivity + specificity.",
                                      "Youden’s J on the validation split (%u films): the best sensitivity + specificity.",
                                      self->n_val),
                            self->n_val);
  if (t == self->sensitivity_threshold)
    return g_strdup_printf (ngettext ("The highest threshold that keeps sensitivity at 95%% or more on the validation split (%u film).",
                                      "The highest threshold that keeps sensitivity at 95%% or more on the validation split (%u films).",
                                      self->n_val),
                            self->n_val);
  if (t == 0.5)
    return g_strdup (_("The usual default: flagged when more likely than not."));

  return g_strdup (_("Chosen by hand."));
}

static void
update_metrics (XlResultsPage *self)
{
  const char * const *classes;
  guint negative_class;
  guint flagged;
  guint64 tp, fp;
  g_autofree char *description = NULL;
  g_autofree char *source = NULL;

  if (!self->binary || self->sorted_scores == NULL)
    return;

  classes = (const char * const *) self->run->info.classes;
  negative_class = 1 - self->positive_class;
  flagged = count_flagged (self, self->threshold);
  tp = self->positives_above[flagged];
  fp = flagged - tp;

  self->matrix->counts[self->positive_class * 2 + self->positive_class] = tp;
  self->matrix->counts[self->positive_class * 2 + negative_class] = self->n_positive - tp;
  self->matrix->counts[negative_class * 2 + self->positive_class] = fp;
  self->matrix->counts[negative_class * 2 + negative_class] = self->n_negative - fp;
  xl_binary_metrics_from_confusion (self->matrix, self->positive_class, self->threshold,
                                    &self->metrics);

  xl_confusion_view_set_matrix (self->confusion_view, self->matrix, classes);
  xl_roc_view_set_operating_point (self->roc_view, &self->metrics);

  set_value_label (self->metric_values[METRIC_ACCURACY], format_percent (self->metrics.accuracy));
  set_value_label (self->metric_values[METRIC_SENSITIVITY], format_percent (self->metrics.sensitivity));
  set_value_label (self->metric_values[METRIC_SPECIFICITY], format_percent (self->metrics.specificity));
  set_value_label (self->metric_values[METRIC_PRECISION], format_percent (self->metrics.precision));
  set_value_label (self->metric_values[METRIC_F1], format_fraction (self->metrics.f1));

  /* Translators: the test metrics' subtitle: the threshold, then how many films it flags */
  description = g_strdup_printf (ngettext ("At threshold %.3f: %u of %u film flagged as %s.",
                                           "At threshold %.3f: %u of %u films flagged as %s.",
                                           self->n_test),
                                 self->threshold, flagged, self->n_test,
                                 classes[self->positive_class]);
  gtk_label_set_label (self->metrics_description, description);

  source = describe_threshold_source (self);
  gtk_label_set_label (self->threshold_source, source);
}

double
xl_results_page_get_threshold (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), 0.5);

  return self->threshold;
}

void
xl_results_page_set_threshold (XlResultsPage *self,
                               double         threshold)
{
  g_return_if_fail (XL_IS_RESULTS_PAGE (self));

  threshold = CLAMP (threshold, 0.0, 1.0);
  if (threshold == self->threshold)
    return;
  self->threshold = threshold;
  update_metrics (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THRESHOLD]);
}

gboolean
xl_results_page_get_preset (XlResultsPage     *self,
                            XlThresholdPreset  preset,
                            double            *threshold)
{
  double value;

  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), FALSE);

  if (!self->binary)
    return FALSE;

  switch (preset)
    {
    case XL_THRESHOLD_PRESET_HALF:
      value = 0.5;
      break;
    case XL_THRESHOLD_PRESET_YOUDEN:
      value = self->youden_threshold;
      break;
    case XL_THRESHOLD_PRESET_SENSITIVITY_95:
      value = self->sensitivity_threshold;
      break;
    default:
      g_return_val_if_reached (FALSE);
    }

  if (!isfinite (value))
    return FALSE;
  if (threshold != NULL)
    *threshold = value;

  return TRUE;
}

gboolean
xl_results_page_apply_preset (XlResultsPage     *self,
                              XlThresholdPreset  preset)
{
  double threshold;

  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), FALSE);

  if (!xl_results_page_get_preset (self, preset, &threshold))
    return FALSE;
  xl_results_page_set_threshold (self, threshold);

  return TRUE;
}

gboolean
xl_results_page_get_metrics (XlResultsPage   *self,
                             XlBinaryMetrics *metrics,
                             double          *auc)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), FALSE);

  if (!self->binary)
    return FALSE;
  if (metrics != NULL)
    *metrics = self->metrics;
  if (auc != NULL)
    *auc = self->auc;

  return TRUE;
}

gboolean
xl_results_page_get_shows_reference (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), FALSE);

  return self->shows_reference;
}

/* ---- A run ------------------------------------------------------------------- */

typedef struct {
  float score;
  guint label;
} ScoredFilm;

static int
compare_scores_descending (gconstpointer a,
                           gconstpointer b)
{
  float sa = ((const ScoredFilm *) a)->score;
  float sb = ((const ScoredFilm *) b)->score;

  return (sa < sb) - (sa > sb);
}

/* The Kermany data set is the one whose classes are these two. */
static gboolean
is_kermany (const XlModelInfo *info)
{
  return info->n_classes == 2
         && g_strcmp0 (info->classes[0], "NORMAL") == 0
         && g_strcmp0 (info->classes[1], "PNEUMONIA") == 0
         && info->positive_class == 1;
}

static void
set_reference (GtkLabel *label,
               double    value,
               gboolean  percent)
{
  g_autofree char *text = NULL;

  if (!isfinite (value))
    text = g_strdup ("—");
  else
    text = percent ? g_strdup_printf ("%.1f%%", 100 * value) : g_strdup_printf ("%.3f", value);
  gtk_label_set_label (label, text);
}

/* Youden's J and the 95% sensitivity threshold on the validation split. */
static void
choose_val_presets (XlResultsPage *self)
{
  g_autoptr(XlPredictions) val = xl_run_folder_predictions (self->run, XL_SPLIT_VAL);
  g_autofree float *scores = NULL;
  g_autoptr(XlRocCurve) roc = NULL;
  XlRocPoint point;
  const char *why = NULL;

  if (val == NULL)
    why = _("This run folder has no validation predictions to choose it on");
  else
    {
      self->n_val = val->n;
      scores = xl_predictions_positive_scores (val, self->positive_class);
      roc = xl_roc_curve_compute (scores, val->labels, val->n, self->positive_class, NULL);
      if (roc == NULL || roc->flags != XL_ROC_FLAGS_NONE)
        why = _("The validation split needs films of both classes to choose it on");
    }

  if (roc != NULL && xl_roc_curve_youden (roc, &point))
    self->youden_threshold = point.threshold;
  if (roc != NULL && xl_roc_curve_threshold_for_sensitivity (roc, 0.95, &point))
    self->sensitivity_threshold = point.threshold;

  gtk_widget_set_sensitive (self->preset_youden_button, isfinite (self->youden_threshold));
  gtk_widget_set_sensitive (self->preset_sensitivity_button, isfinite (self->sensitivity_threshold));

  if (isfinite (self->youden_threshold))
    {
      g_autofree char *tip = g_strdup_printf (_("The threshold with the best sensitivity + specificity on the validation split: %.3f"),
                                              self->youden_threshold);
      gtk_widget_set_tooltip_text (self->preset_youden_button, tip);
    }
  else
    gtk_widget_set_tooltip_text (self->preset_youden_button, why);

  if (isfinite (self->sensitivity_threshold))
    {
      g_autofree char *tip = g_strdup_printf (_("The highest threshold that keeps sensitivity at 95%% or more on the validation split: %.3f"),
                                              self->sensitivity_threshold);
      gtk_widget_set_tooltip_text (self->preset_sensitivity_button, tip);
    }
  else
    gtk_widget_set_tooltip_text (self->preset_sensitivity_button, why);
}

/* Sorts the test scores and draws the ROC curve; FALSE with error when the
 * predictions cannot be used. */
static gboolean
load_binary (XlResultsPage        *self,
             const XlPredictions  *test,
             GError              **error)
{
  const XlModelInfo *info = &self->run->info;
  g_autofree float *scores = xl_predictions_positive_scores (test, info->positive_class);
  g_autofree ScoredFilm *films = g_new (ScoredFilm, test->n);
  XlRocCurve *roc;

  roc = xl_roc_curve_compute (scores, test->labels, test->n, info->positive_class, error);
  if (roc == NULL)
    return FALSE;

  self->binary = TRUE;
  self->positive_class = info->positive_class;
  self->n_test = test->n;
  self->auc = roc->auc;
  self->n_positive = roc->n_positive;
  self->n_negative = roc->n_negative;

  for (guint i = 0; i < test->n; i++)
    films[i] = (ScoredFilm) { scores[i], test->labels[i] };
  qsort (films, test->n, sizeof *films, compare_scores_descending);

  self->sorted_scores = g_new (float, test->n);
  self->positives_above = g_new (guint64, test->n + 1);
  self->positives_above[0] = 0;
  for (guint i = 0; i < test->n; i++)
    {
      self->sorted_scores[i] = films[i].score;
      self->positives_above[i + 1] = self->positives_above[i]
                                     + (films[i].label == info->positive_class);
    }
  self->matrix = xl_confusion_matrix_new (2);

  xl_roc_view_set_curve (self->roc_view, roc, info->classes[info->positive_class]);
  choose_val_presets (self);

  return TRUE;
}

/* More than two classes: the argmax decides, no threshold applies. */
static gboolean
load_multiclass (XlResultsPage        *self,
                 const XlPredictions  *test,
                 GError              **error)
{
  const XlModelInfo *info = &self->run->info;
  g_autoptr(XlConfusionMatrix) matrix = NULL;
  XlRocOneVsRest *ovr;

  matrix = xl_confusion_matrix_new_from_probabilities (test->probs, test->labels, test->n,
                                                       test->n_classes, error);
  if (matrix == NULL)
    return FALSE;
  ovr = xl_roc_one_vs_rest_compute (test->probs, test->labels, test->n, test->n_classes, error);
  if (ovr == NULL)
    return FALSE;

  self->n_test = test->n;
  self->auc = ovr->macro_auc;
  xl_confusion_view_set_matrix (self->confusion_view, matrix, (const char * const *) info->classes);
  xl_roc_view_set_one_vs_rest (self->roc_view, ovr, (const char * const *) info->classes);
  set_value_label (self->metric_values[METRIC_ACCURACY], format_percent (xl_confusion_matrix_accuracy (matrix)));
  gtk_label_set_label (self->metrics_description,
                       _("Each film is given its most likely class."));

  return TRUE;
}

static void
load_curves (XlResultsPage *self)
{
  XlCurveModel *loss = xl_curve_chart_get_model (self->loss_chart);
  XlCurveModel *accuracy = xl_curve_chart_get_model (self->accuracy_chart);
  const XlRunFolder *run = self->run;

  xl_curve_model_clear (loss);
  xl_curve_model_clear (accuracy);
  if (run == NULL)
    return;

  for (guint i = 0; i < run->batches->len; i++)
    {
      const XlBatchPoint *point = &g_array_index (run->batches, XlBatchPoint, i);

      xl_curve_model_append (loss, XL_CURVE_TRAIN_BATCH, point->x, point->loss);
      xl_curve_model_append (accuracy, XL_CURVE_TRAIN_BATCH, point->x, point->accuracy);
    }
  for (guint i = 0; i < run->history->len; i++)
    {
      const XlEpochRecord *epoch = &g_array_index (run->history, XlEpochRecord, i);

      xl_curve_model_append (loss, XL_CURVE_TRAIN_EPOCH, epoch->epoch, epoch->train_loss);
      xl_curve_model_append (loss, XL_CURVE_VAL_EPOCH, epoch->epoch, epoch->val_loss);
      xl_curve_model_append (accuracy, XL_CURVE_TRAIN_EPOCH, epoch->epoch, epoch->train_accuracy);
      xl_curve_model_append (accuracy, XL_CURVE_VAL_EPOCH, epoch->epoch, epoch->val_accuracy);
    }
  if (run->best_epoch > 0)
    {
      xl_curve_model_set_best_epoch (loss, run->best_epoch);
      xl_curve_model_set_best_epoch (accuracy, run->best_epoch);
    }
  if (run->early_stop_epoch > 0)
    {
      xl_curve_model_set_stop_epoch (loss, run->early_stop_epoch);
      xl_curve_model_set_stop_epoch (accuracy, run->early_stop_epoch);
    }
  xl_curve_chart_set_epochs (self->loss_chart, run->history->len);
  xl_curve_chart_set_epochs (self->accuracy_chart, run->history->len);
  xl_curve_chart_update (self->loss_chart);
  xl_curve_chart_update (self->accuracy_chart);
}

static void
describe_run (XlResultsPage       *self,
              const XlPredictions *test,
              XlSplit              split)
{
  const XlRunFolder *run = self->run;
  g_autofree char *name = g_path_get_basename (run->run_dir);
  g_autofree char *shown_name = g_filename_display_name (name);
  g_autofree char *shown_dir = g_filename_display_name (run->run_dir);
  g_autoptr(GString) summary = g_string_new (NULL);
  g_autofree guint *per_class = g_new0 (guint, run->info.n_classes);

  gtk_label_set_label (self->run_title, shown_name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->run_title), shown_dir);

  if (run->best_epoch > 0)
    /* Translators: the run's summary: the epoch whose model was kept, of how many */
    g_string_append_printf (summary, _("Best epoch %u of %u"), run->best_epoch, run->history->len);
  else
    g_string_append_printf (summary, ngettext ("%u epoch", "%u epochs", run->history->len),
                            run->history->len);
  if (run->early_stop_epoch > 0)
    g_string_append_printf (summary, _(", stopped early after epoch %u"), run->early_stop_epoch);
  else if (run->stopped)
    g_string_append (summary, _(", stopped by hand"));
  if (run->info.mode != NULL)
    g_string_append_printf (summary, " · %s", run->info.mode);
  g_string_append (summary, "\n");

  for (guint i = 0; i < test->n; i++)
    if (test->labels[i] < run->info.n_classes)
      per_class[test->labels[i]]++;
  if (split == XL_SPLIT_TEST)
    g_string_append_printf (summary, ngettext ("%u test film", "%u test films", test->n), test->n);
  else
    g_string_append_printf (summary, ngettext ("%u validation film", "%u validation films", test->n),
                            test->n);
  for (guint c = 0; c < run->info.n_classes; c++)
    g_string_append_printf (summary, "%s%u %s", c == 0 ? ": " : ", ", per_class[c],
                            run->info.classes[c]);
  if (split != XL_SPLIT_TEST)
    g_string_append_printf (summary, "\n%s",
                            _("The data set has no test split: these are the validation films "
                              "the best epoch and the threshold were chosen on, so the numbers "
                              "are optimistic."));

  gtk_label_set_label (self->run_summary, summary->str);
}

static void
show_error (XlResultsPage *self,
            const char    *description)
{
  adw_status_page_set_description (self->error_status, description);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

void
xl_results_page_set_run (XlResultsPage *self,
                         XlRunFolder   *run)
{
  g_autoptr(XlPredictions) test = NULL;
  g_autoptr(GError) error = NULL;
  const XlModelInfo *info;
  XlSplit split;
  gboolean binary;
  gboolean loaded;

  g_return_if_fail (XL_IS_RESULTS_PAGE (self));

  if (run != NULL)
    xl_run_folder_ref (run);
  g_clear_pointer (&self->run, xl_run_folder_unref);
  self->run = run;

  clear_test_split (self);
  xl_confusion_view_set_matrix (self->confusion_view, NULL, NULL);
  xl_roc_view_set_curve (self->roc_view, NULL, NULL);
  load_curves (self);

  if (run == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  info = &run->info;
  /* A data set without a test split was evaluated on val (as report.pdf was) */
  split = xl_run_folder_report_split (run);
  test = xl_run_folder_predictions (run, split);
  if (test == NULL)
    {
      g_autofree char *dir = g_filename_display_name (run->run_dir);
      /* Translators: %s is a run folder */
      g_autofree char *text = g_strdup_printf (_("The predictions of %s have neither test nor validation films, so there is nothing to measure. Evaluate its model on a test split (xraylab-cli eval), or train with a data set that has one."),
                                               dir);

      show_error (self, text);
      return;
    }

  binary = info->n_classes == 2 && info->positive_class < 2;
  loaded = binary ? load_binary (self, test, &error) : load_multiclass (self, test, &error);
  if (!loaded)
    {
      g_autofree char *text = g_strdup_printf (_("The test predictions cannot be used: %s"),
                                               error->message);

      clear_test_split (self);
      show_error (self, text);
      return;
    }

  describe_run (self, test, split);
  gtk_label_set_label (self->metrics_heading,
                       split == XL_SPLIT_TEST ? _("Test Metrics") : _("Validation Metrics"));

  /* The threshold section and the binary metrics only mean something for two classes. */
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->threshold_scale)), binary);
  for (guint m = METRIC_SENSITIVITY; m <= METRIC_F1; m++)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->metric_names[m]), binary);
      gtk_widget_set_visible (GTK_WIDGET (self->metric_values[m]), binary);
      gtk_widget_set_visible (GTK_WIDGET (self->metric_references[m]), binary);
    }
  gtk_label_set_label (self->metric_names[METRIC_AUC],
                       binary ? _("ROC AUC") : _("Macro-Average ROC AUC"));
  set_value_label (self->metric_values[METRIC_AUC], format_fraction (self->auc));

  if (binary)
    {
      g_autofree char *text =
        /* Translators: %s is the positive class, e.g. PNEUMONIA */
        g_strdup_printf (_("A film is flagged as %s when the model gives it at least this probability."),
                         info->classes[info->positive_class]);

      gtk_label_set_label (self->threshold_description, text);
    }

  self->shows_reference = is_kermany (info);
  gtk_widget_set_visible (self->reference_note, self->shows_reference);
  gtk_widget_set_visible (self->reference_heading, self->shows_reference);
  for (guint m = 0; m < N_METRICS; m++)
    gtk_widget_set_visible (GTK_WIDGET (self->metric_references[m]),
                            self->shows_reference && (binary || m == METRIC_ACCURACY));

  gtk_stack_set_visible_child_name (self->stack, "results");

  /* Always recomputed, even when the run's threshold is the one shown. */
  if (binary)
    {
      double threshold = CLAMP (info->threshold, 0.0, 1.0);

      if (threshold == self->threshold)
        update_metrics (self);
      else
        xl_results_page_set_threshold (self, threshold);
    }
}

XlRunFolder *
xl_results_page_get_run (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);

  return self->run;
}

XlConfusionView *
xl_results_page_get_confusion_view (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);

  return self->confusion_view;
}

XlRocView *
xl_results_page_get_roc_view (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);

  return self->roc_view;
}

XlCurveChart *
xl_results_page_get_loss_chart (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);

  return self->loss_chart;
}

XlCurveChart *
xl_results_page_get_accuracy_chart (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);

  return self->accuracy_chart;
}

/* ---- Exports ------------------------------------------------------------------ */

/* The curves as XlCurveChart shows them, with text that scales with the
 * picture. best_label must be freed. */
static void
init_curve_plot (XlResultsPage  *self,
                 XlCurveChart   *chart,
                 XlCurvePlot    *plot,
                 char          **best_label)
{
  XlCurveModel *model = xl_curve_chart_get_model (chart);
  XlCurvePlotKind kind = xl_curve_chart_get_kind (chart);
  double best_epoch = xl_curve_model_get_best_epoch (model);

  xl_curve_plot_init (plot, model, kind);
  plot->x_label = _("Epoch");
  plot->series_labels[XL_CURVE_TRAIN_BATCH] = _("Train (per batch)");
  plot->series_labels[XL_CURVE_TRAIN_EPOCH] = _("Train");
  plot->series_labels[XL_CURVE_VAL_EPOCH] = _("Validation");
  plot->stop_label = _("Early stop");
  if (self->run != NULL && self->run->history->len > 0)
    plot->x_max = self->run->history->len;
  if (kind == XL_CURVE_PLOT_LOSS)
    {
      plot->title = _("Loss");
      plot->y_label = _("Cross-entropy loss");
    }
  else
    {
      plot->title = _("Accuracy");
      plot->y_label = _("Accuracy");
    }

  *best_label = NULL;
  if (isfinite (best_epoch))
    {
      *best_label = g_strdup_printf (_("Best epoch %u"), (guint) best_epoch);
      plot->best_label = *best_label;
    }
}

gboolean
xl_results_page_export_plot (XlResultsPage  *self,
                             XlResultsPlot   plot,
                             const char     *path,
                             int             width,
                             int             height,
                             GError        **error)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->run == NULL || (plot <= XL_RESULTS_PLOT_ROC && self->n_test == 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("There is no plot to export"));
      return FALSE;
    }

  switch (plot)
    {
    case XL_RESULTS_PLOT_CONFUSION:
      {
        XlConfusionPlot confusion;

        xl_confusion_view_init_plot (self->confusion_view, &confusion);
        return xl_confusion_plot_save (&confusion, path, width, height, error);
      }

    case XL_RESULTS_PLOT_ROC:
      {
        XlRocPlot roc;

        xl_roc_view_init_plot (self->roc_view, &roc);
        return xl_roc_plot_save (&roc, path, width, height, error);
      }

    case XL_RESULTS_PLOT_LOSS:
    case XL_RESULTS_PLOT_ACCURACY:
      {
        g_autofree char *best_label = NULL;
        XlCurvePlot curves;

        init_curve_plot (self, plot == XL_RESULTS_PLOT_LOSS ? self->loss_chart : self->accuracy_chart,
                         &curves, &best_label);
        return xl_curve_plot_save (&curves, path, width, height, error);
      }

    case XL_RESULTS_N_PLOTS:
    default:
      g_return_val_if_reached (FALSE);
    }
}

char *
xl_results_page_save_confusion_png (XlResultsPage  *self,
                                    GError        **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  char threshold[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->run == NULL || self->n_test == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("There is no plot to export"));
      return NULL;
    }

  dir = g_build_filename (self->run->run_dir, "plots", NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_autofree char *shown = g_filename_display_name (dir);

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "%s: %s", shown, g_strerror (saved_errno));
      return NULL;
    }

  /* The run's own confusion-matrix.png is at its threshold: keep it, and
   * name this one by the threshold it shows. */
  if (self->binary)
    {
      g_ascii_formatd (threshold, sizeof threshold, "%.3f", self->threshold);
      file = g_strdup_printf ("confusion-matrix-threshold-%s.png", threshold);
    }
  else
    file = g_strdup ("confusion-matrix-argmax.png");
  path = g_build_filename (dir, file, NULL);

  if (!xl_results_page_export_plot (self, XL_RESULTS_PLOT_CONFUSION, path,
                                    QUICK_PNG_WIDTH, QUICK_PNG_HEIGHT, error))
    return NULL;

  return g_steal_pointer (&path);
}

XlResultsPlot
xl_results_page_get_export_target (XlResultsPage *self)
{
  GtkWidget *cards[XL_RESULTS_N_PLOTS];
  GtkRoot *root;
  GtkWidget *focus = NULL;

  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), XL_RESULTS_N_PLOTS);

  cards[XL_RESULTS_PLOT_CONFUSION] = self->confusion_card;
  cards[XL_RESULTS_PLOT_ROC] = self->roc_card;
  cards[XL_RESULTS_PLOT_LOSS] = self->loss_card;
  cards[XL_RESULTS_PLOT_ACCURACY] = self->accuracy_card;

  if ((root = gtk_widget_get_root (GTK_WIDGET (self))) != NULL)
    focus = gtk_root_get_focus (root);
  if (focus != NULL)
    for (guint i = 0; i < XL_RESULTS_N_PLOTS; i++)
      if (focus == cards[i] || gtk_widget_is_ancestor (focus, cards[i]))
        return i;

  return self->hovered;
}

/* ---- File choosers ------------------------------------------------------------- */

static GtkWindow *
parent_window (XlResultsPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static char *
run_name (XlResultsPage *self)
{
  return g_path_get_basename (self->run->run_dir);
}

static void
forget_chooser (XlResultsPage *self)
{
  if (self->chooser != NULL)
    {
      gtk_native_dialog_destroy (self->chooser);
      g_clear_object (&self->chooser);
    }
}

static GtkFileChooserNative *
new_chooser (XlResultsPage *self,
             const char    *title,
             const char    *accept,
             const char    *current_name,
             const char    *folder)
{
  GtkFileChooserNative *native;

  forget_chooser (self);
  native = gtk_file_chooser_native_new (title, parent_window (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                        accept, _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), current_name);
  if (folder != NULL && g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) file = g_file_new_for_path (folder);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), file, NULL);
    }
  self->chooser = GTK_NATIVE_DIALOG (native);

  return native;
}

/* The chosen file's local path; NULL (and a message) for anything else. */
static char *
chosen_path (XlResultsPage        *self,
             GtkFileChooserNative *native)
{
  g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
  char *path = file != NULL ? g_file_get_path (file) : NULL;

  if (path == NULL)
    show_message (self, _("Only files on this computer can be written"));

  return path;
}

static const char *
known_extension (const char *path)
{
  const char *dot = strrchr (path, '.');

  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_ascii_strcasecmp (dot + 1, formats[i]) == 0)
      return formats[i];

  return NULL;
}

static void
export_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    XlResultsPage   *self)
{
  GtkFileChooserNative *native = GTK_FILE_CHOOSER_NATIVE (dialog);
  XlResultsPlot plot = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "xl-plot"));
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *shown = NULL;
  const char *format;
  const char *size;
  int width = 800;
  int height = 600;

  if (response != GTK_RESPONSE_ACCEPT || !(path = chosen_path (self, native)))
    return;

  /* An extension typed into the name wins over the format choice. */
  format = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (native), "format");
  if (known_extension (path) == NULL)
    {
      char *with_extension = g_strconcat (path, ".", format != NULL ? format : "png", NULL);

      g_free (path);
      path = with_extension;
    }
  size = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (native), "size");
  if (size == NULL || sscanf (size, "%dx%d", &width, &height) != 2)
    {
      width = 800;
      height = 600;
    }

  shown = display_path (self, path);
  if (xl_results_page_export_plot (self, plot, path, width, height, &error))
    {
      /* Translators: %s is the file an exported plot was written to */
      g_autofree char *text = g_strdup_printf (_("Saved %s"), shown);

      show_message (self, text);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_("Could not export the plot: %s"), error->message);

      show_message (self, text);
    }
}

static void
export_plot_dialog (XlResultsPage *self,
                    XlResultsPlot  plot,
                    const char    *format)
{
  static const char *const titles[XL_RESULTS_N_PLOTS] = {
    N_("Export Confusion Matrix"), N_("Export ROC Curve"),
    N_("Export Loss Curves"), N_("Export Accuracy Curves"),
  };
  const char *format_ids[G_N_ELEMENTS (formats) + 1] = { NULL };
  const char *format_labels[G_N_ELEMENTS (formats) + 1] = { NULL };
  const char *size_ids[G_N_ELEMENTS (export_sizes) + 1] = { NULL };
  const char *size_labels[G_N_ELEMENTS (export_sizes) + 1] = { NULL };
  g_autofree char *name = NULL;
  g_autofree char *current = NULL;
  g_autofree char *folder = NULL;
  GtkFileChooserNative *native;

  if (self->run == NULL)
    return;

  name = run_name (self);
  current = g_strdup_printf ("%s-%s.%s", name, plot_names[plot], format);
  folder = g_build_filename (self->run->run_dir, "plots", NULL);
  native = new_chooser (self, _(titles[plot]), _("_Export"), current, folder);

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      static const char *const labels[] = { "PNG", "SVG", "PDF" };

      format_ids[i] = formats[i];
      format_labels[i] = labels[i];
    }
  gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (native), "format", _("Format"),
                               format_ids, format_labels);
  gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (native), "format", format);

  for (guint i = 0; i < G_N_ELEMENTS (export_sizes); i++)
    {
      size_ids[i] = export_sizes[i].id;
      size_labels[i] = export_sizes[i].label;
    }
  gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (native), "size", _("Size"),
                               size_ids, size_labels);
  /* Pixels want more of them than points do. */
  gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (native), "size",
                               g_str_equal (format, "png") ? "1600x1200" : "800x600");

  g_object_set_data (G_OBJECT (native), "xl-plot", GUINT_TO_POINTER (plot));
  g_signal_connect_object (native, "response", G_CALLBACK (export_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

/* ---- Report and model, on a worker thread -------------------------------------- */

typedef struct {
  XlRunFolder *run;
  double       threshold;
  char        *threshold_source;
  char        *path;
} WriteJob;

static void
write_job_free (gpointer data)
{
  WriteJob *job = data;

  g_clear_pointer (&job->run, xl_run_folder_unref);
  g_free (job->threshold_source);
  g_free (job->path);
  g_free (job);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) && g_file_test (path, G_FILE_TEST_IS_DIR)
      && (dir = g_dir_open (path, 0, NULL)) != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_tree (child);
      }
  g_remove (path);
}

/* xl_plot_write_run_report() writes RUN/report.pdf and RUN/plots/: run it
 * on a scratch copy of the folder's name, so that the run keeps its own
 * pictures, and move the PDF to where the user asked. */
static void
report_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  WriteJob *job = task_data;
  const XlRunFolder *run = job->run;
  g_autoptr(GError) error = NULL;
  XlSplit split = xl_run_folder_report_split (run);
  g_autoptr(XlPredictions) test = xl_run_folder_predictions (run, split);
  g_autofree char *scratch = g_dir_make_tmp ("xraylab-report-XXXXXX", &error);
  g_autofree char *name = g_path_get_basename (run->run_dir);
  g_autofree char *scratch_run = NULL;
  g_autofree char *pdf = NULL;
  g_autofree char *settings = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  gboolean ok;

  if (scratch == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  scratch_run = g_build_filename (scratch, name, NULL);
  pdf = g_build_filename (scratch_run, "report.pdf", NULL);
  settings = xl_train_config_to_json (&run->config);

  {
    XlRunReport report = {
      .run_dir = scratch_run,
      .shown_run_dir = run->run_dir,
      .seed = run->config.seed,
      .history = (const XlEpochRecord *) run->history->data,
      .n_history = run->history->len,
      .planned_epochs = run->config.epochs,
      .batches = (const XlBatchPoint *) run->batches->data,
      .n_batches = run->batches->len,
      .best_epoch = run->best_epoch,
      .early_stop_epoch = run->early_stop_epoch,
      .info = &run->info,
      .predictions = test,
      .predictions_split = xl_split_name (split),
      .threshold = job->threshold,
      .threshold_source = job->threshold_source,
      .settings_text = settings,
    };

    ok = g_mkdir_with_parents (scratch_run, 0700) == 0
         && xl_plot_write_run_report (&report, &error)
         && g_file_get_contents (pdf, &contents, &length, &error)
         && xl_write_file_atomic (job->path, contents, length, &error);
  }

  remove_tree (scratch);

  if (ok)
    g_task_return_boolean (task, TRUE);
  else if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_new_error (task, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                             "%s: %s", scratch, g_strerror (errno));
}

/* The model is read whole (tens of MB) and written by the same atomic writer
 * as every run file: it is at the path whole or not at all. */
static gboolean
copy_file_atomic (const char  *source,
                  const char  *path,
                  GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  return g_file_get_contents (source, &contents, &length, error)
         && xl_write_file_atomic (path, contents, (gssize) length, error);
}

static void
model_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  WriteJob *job = task_data;
  GError *error = NULL;

  if (copy_file_atomic (job->run->model_path, job->path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
write_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);
  GTask *task = G_TASK (result);
  WriteJob *job = g_task_get_task_data (task);
  const char *failure = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (g_task_propagate_boolean (task, &error))
    {
      g_autofree char *shown = g_filename_display_name (job->path);

      text = g_strdup_printf (_("Saved %s"), shown);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  else
    text = g_strdup_printf ("%s: %s", _(failure), error->message);

  show_message (self, text);
}

static void
start_write (XlResultsPage  *self,
             const char     *path,
             GTaskThreadFunc thread,
             const char     *failure)
{
  g_autoptr(GTask) task = NULL;
  WriteJob *job;

  if (self->run == NULL)
    return;

  job = g_new0 (WriteJob, 1);
  job->run = xl_run_folder_ref (self->run);
  job->threshold = self->threshold;
  job->threshold_source = describe_threshold_source (self);
  /* The report puts it in parentheses: no sentence's full stop. */
  if (g_str_has_suffix (job->threshold_source, "."))
    job->threshold_source[strlen (job->threshold_source) - 1] = '\0';
  job->path = g_strdup (path);

  task = g_task_new (self, self->cancellable, write_done_cb, (gpointer) failure);
  g_task_set_task_data (task, job, write_job_free);
  g_task_run_in_thread (task, thread);
}

void
xl_results_page_export_report (XlResultsPage *self,
                               const char    *path)
{
  g_return_if_fail (XL_IS_RESULTS_PAGE (self));
  g_return_if_fail (path != NULL);

  start_write (self, path, report_thread, N_("Could not write the report"));
}

void
xl_results_page_save_model (XlResultsPage *self,
                            const char    *path)
{
  g_return_if_fail (XL_IS_RESULTS_PAGE (self));
  g_return_if_fail (path != NULL);

  start_write (self, path, model_thread, N_("Could not save the model"));
}

static void
report_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    XlResultsPage   *self)
{
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT && (path = chosen_path (self, GTK_FILE_CHOOSER_NATIVE (dialog))))
    xl_results_page_export_report (self, path);
}

static void
model_response_cb (GtkNativeDialog *dialog,
                   int              response,
                   XlResultsPage   *self)
{
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT && (path = chosen_path (self, GTK_FILE_CHOOSER_NATIVE (dialog))))
    xl_results_page_save_model (self, path);
}

/* ---- Actions ------------------------------------------------------------------- */

static gboolean
parse_plot (const char    *name,
            XlResultsPlot *plot)
{
  for (guint i = 0; i < XL_RESULTS_N_PLOTS; i++)
    if (g_str_equal (name, plot_names[i]))
      {
        *plot = i;
        return TRUE;
      }

  return FALSE;
}

/* "PLOT/FORMAT", e.g. "roc/svg". */
static void
export_plot_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  XlResultsPage *self = XL_RESULTS_PAGE (widget);
  g_auto(GStrv) parts = g_strsplit (g_variant_get_string (parameter, NULL), "/", 2);
  XlResultsPlot plot;

  if (g_strv_length (parts) == 2 && parse_plot (parts[0], &plot))
    export_plot_dialog (self, plot, parts[1]);
}

static void
export_focused_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  XlResultsPage *self = XL_RESULTS_PAGE (widget);
  XlResultsPlot plot = xl_results_page_get_export_target (self);

  if (self->run == NULL || !g_str_equal (gtk_stack_get_visible_child_name (self->stack), "results"))
    return;

  if (plot == XL_RESULTS_N_PLOTS)
    show_message (self, _("Point at a plot, or focus it, to export it with Ctrl+E"));
  else
    export_plot_dialog (self, plot, "png");
}

static void
save_confusion_png_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  XlResultsPage *self = XL_RESULTS_PAGE (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = xl_results_page_save_confusion_png (self, &error);

  if (path != NULL)
    {
      g_autofree char *shown = display_path (self, path);
      g_autofree char *text = g_strdup_printf (_("Saved %s"), shown);

      show_message (self, text);
    }
  else if (self->run != NULL && g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_ACCES))
    /* A run folder we may not write to: ask where instead. */
    export_plot_dialog (self, XL_RESULTS_PLOT_CONFUSION, "png");
  else if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not export the plot: %s"), error->message);

      show_message (self, text);
    }
}

static void
export_report_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  XlResultsPage *self = XL_RESULTS_PAGE (widget);
  g_autofree char *name = NULL;
  g_autofree char *current = NULL;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *native;

  if (self->run == NULL || self->n_test == 0)
    return;

  name = run_name (self);
  current = g_strdup_printf ("%s-report.pdf", name);
  native = new_chooser (self, _("Export Report"), _("_Export"), current, NULL);
  gtk_file_filter_set_name (filter, _("PDF documents"));
  gtk_file_filter_add_mime_type (filter, "application/pdf");
  gtk_file_filter_add_suffix (filter, "pdf");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  g_signal_connect_object (native, "response", G_CALLBACK (report_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
save_model_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  XlResultsPage *self = XL_RESULTS_PAGE (widget);
  g_autofree char *name = NULL;
  g_autofree char *current = NULL;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *native;

  if (self->run == NULL)
    return;

  name = run_name (self);
  current = g_strdup_printf ("%s.safetensors", name);
  native = new_chooser (self, _("Save Model"), _("_Save"), current, NULL);
  gtk_file_filter_set_name (filter, _("Safetensors models"));
  gtk_file_filter_add_suffix (filter, "safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  g_signal_connect_object (native, "response", G_CALLBACK (model_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
preset_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  XlResultsPage *self = XL_RESULTS_PAGE (widget);
  const char *name = g_variant_get_string (parameter, NULL);

  if (g_str_equal (name, "half"))
    xl_results_page_apply_preset (self, XL_THRESHOLD_PRESET_HALF);
  else if (g_str_equal (name, "youden"))
    xl_results_page_apply_preset (self, XL_THRESHOLD_PRESET_YOUDEN);
  else if (g_str_equal (name, "sensitivity"))
    xl_results_page_apply_preset (self, XL_THRESHOLD_PRESET_SENSITIVITY_95);
}

/* ---- Signals from the views ---------------------------------------------------- */

static void
cell_activated_cb (XlResultsPage   *self,
                   guint            true_class,
                   guint            predicted_class,
                   XlConfusionView *view)
{
  g_signal_emit (self, signals[SHOW_FILMS], 0, true_class, predicted_class);
}

static void
threshold_picked_cb (XlResultsPage *self,
                     double         threshold,
                     XlRocView     *view)
{
  xl_results_page_set_threshold (self, threshold);
}

static void
card_enter_cb (GtkEventControllerMotion *motion,
               double                    x,
               double                    y,
               XlResultsPage            *self)
{
  self->hovered = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (motion), "xl-plot"));
}

static void
card_leave_cb (GtkEventControllerMotion *motion,
               XlResultsPage            *self)
{
  if (self->hovered == GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (motion), "xl-plot")))
    self->hovered = XL_RESULTS_N_PLOTS;
}

static void
setup_card (XlResultsPage *self,
            XlResultsPlot  plot,
            GtkWidget     *card,
            GtkMenuButton *menu_button)
{
  static const char *const labels[] = {
    N_("Export as _PNG…"), N_("Export as _SVG…"), N_("Export as P_DF…"),
  };
  g_autoptr(GMenu) menu = g_menu_new ();
  GtkEventController *motion;

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *target = g_strdup_printf ("%s/%s", plot_names[plot], formats[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (_(labels[i]), NULL);

      g_menu_item_set_action_and_target_value (item, "results.export-plot",
                                               g_variant_new_string (target));
      g_menu_append_item (menu, item);
    }
  gtk_menu_button_set_menu_model (menu_button, G_MENU_MODEL (menu));

  motion = gtk_event_controller_motion_new ();
  g_object_set_data (G_OBJECT (motion), "xl-plot", GUINT_TO_POINTER (plot));
  g_signal_connect (motion, "enter", G_CALLBACK (card_enter_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (card_leave_cb), self);
  gtk_widget_add_controller (card, motion);
}

/* The metrics table: a name, this run's value and, for the Kermany data
 * set, the published mark, one metric a row. */
static void
build_metrics_table (XlResultsPage *self)
{
  static const struct {
    const char *name;
    const char *tooltip;
    double      reference;
    gboolean    percent;
  } metrics[N_METRICS] = {
    { N_("Accuracy"), NULL, KERMANY_ACCURACY, TRUE },
    { N_("Sensitivity"), N_("The share of positive films that are flagged (recall, true positive rate)"),
      KERMANY_SENSITIVITY, TRUE },
    { N_("Specificity"), N_("The share of negative films that are not flagged (true negative rate)"),
      KERMANY_SPECIFICITY, TRUE },
    { N_("Precision"), N_("The share of flagged films that are positive (positive predictive value)"),
      NAN, TRUE },
    { N_("F1 Score"), N_("The harmonic mean of precision and sensitivity"), NAN, FALSE },
    { N_("ROC AUC"), N_("The area under the ROC curve: the same at every threshold"),
      KERMANY_AUC, FALSE },
  };
  GtkWidget *run_heading = gtk_label_new (_("This run"));

  gtk_label_set_xalign (GTK_LABEL (run_heading), 1);
  gtk_widget_add_css_class (run_heading, "caption-heading");
  gtk_widget_add_css_class (run_heading, "dim-label");
  gtk_widget_set_hexpand (run_heading, TRUE);
  gtk_grid_attach (self->metrics_grid, run_heading, 1, 0, 1, 1);

  /* Translators: the column of the published marks; keep it short */
  self->reference_heading = gtk_label_new (_("Kermany 2018"));
  gtk_label_set_xalign (GTK_LABEL (self->reference_heading), 1);
  gtk_widget_add_css_class (self->reference_heading, "caption-heading");
  gtk_widget_add_css_class (self->reference_heading, "dim-label");
  gtk_grid_attach (self->metrics_grid, self->reference_heading, 2, 0, 1, 1);

  for (guint m = 0; m < N_METRICS; m++)
    {
      GtkWidget *name = gtk_label_new (_(metrics[m].name));
      GtkWidget *value = gtk_label_new ("—");
      GtkWidget *reference = gtk_label_new (NULL);

      gtk_label_set_xalign (GTK_LABEL (name), 0);
      if (metrics[m].tooltip != NULL)
        gtk_widget_set_tooltip_text (name, _(metrics[m].tooltip));
      gtk_label_set_xalign (GTK_LABEL (value), 1);
      gtk_widget_add_css_class (value, "numeric");
      gtk_widget_add_css_class (value, "heading");
      gtk_label_set_xalign (GTK_LABEL (reference), 1);
      gtk_widget_add_css_class (reference, "numeric");
      gtk_widget_add_css_class (reference, "dim-label");
      set_reference (GTK_LABEL (reference), metrics[m].reference, metrics[m].percent);

      gtk_grid_attach (self->metrics_grid, name, 0, m + 1, 1, 1);
      gtk_grid_attach (self->metrics_grid, value, 1, m + 1, 1, 1);
      gtk_grid_attach (self->metrics_grid, reference, 2, m + 1, 1, 1);
      self->metric_names[m] = GTK_LABEL (name);
      self->metric_values[m] = GTK_LABEL (value);
      self->metric_references[m] = GTK_LABEL (reference);
    }
}

/* ---- GObject ------------------------------------------------------------------- */

static void
xl_results_page_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_results_page_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      xl_results_page_set_threshold (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_results_page_dispose (GObject *object)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  forget_chooser (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_RESULTS_PAGE);
  g_clear_pointer (&self->run, xl_run_folder_unref);
  clear_test_split (self);

  G_OBJECT_CLASS (xl_results_page_parent_class)->dispose (object);
}

static void
xl_results_page_finalize (GObject *object)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_free (self->last_message);

  G_OBJECT_CLASS (xl_results_page_parent_class)->finalize (object);
}

static void
xl_results_page_class_init (XlResultsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_results_page_dispose;
  object_class->finalize = xl_results_page_finalize;
  object_class->get_property = xl_results_page_get_property;
  object_class->set_property = xl_results_page_set_property;

  properties[PROP_THRESHOLD] =
    g_param_spec_double ("threshold", NULL, NULL, 0.0, 1.0, 0.5,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SHOW_FILMS] =
    g_signal_new ("show-films", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);

  g_type_ensure (XL_TYPE_CONFUSION_VIEW);
  g_type_ensure (XL_TYPE_ROC_VIEW);
  g_type_ensure (XL_TYPE_CURVE_CHART);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-results-page.ui");
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, error_status);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, run_title);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, run_summary);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, metrics_heading);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, threshold_description);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, threshold_scale);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, threshold_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, preset_half_button);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, preset_youden_button);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, preset_sensitivity_button);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, threshold_source);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, metrics_description);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, metrics_grid);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, reference_note);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, confusion_card);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, roc_card);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, loss_card);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, accuracy_card);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, confusion_view);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, roc_view);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, loss_chart);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, accuracy_chart);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, confusion_menu_button);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, roc_menu_button);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, loss_menu_button);
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, accuracy_menu_button);

  gtk_widget_class_install_action (widget_class, "results.preset", "s", preset_action);
  gtk_widget_class_install_action (widget_class, "results.export-plot", "s", export_plot_action);
  gtk_widget_class_install_action (widget_class, "results.export-focused", NULL, export_focused_action);
  gtk_widget_class_install_action (widget_class, "results.save-confusion-png", NULL, save_confusion_png_action);
  gtk_widget_class_install_action (widget_class, "results.export-report", NULL, export_report_action);
  gtk_widget_class_install_action (widget_class, "results.save-model", NULL, save_model_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
xl_results_page_init (XlResultsPage *self)
{
  GtkEventController *shortcuts;

  self->threshold = 0.5;
  self->hovered = XL_RESULTS_N_PLOTS;
  self->auc = NAN;
  self->youden_threshold = NAN;
  self->sensitivity_threshold = NAN;
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  build_metrics_table (self);

  g_object_bind_property (self, "threshold", self->threshold_adjustment, "value",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->confusion_view, "cell-activated",
                           G_CALLBACK (cell_activated_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->roc_view, "threshold-picked",
                           G_CALLBACK (threshold_picked_cb), self, G_CONNECT_SWAPPED);

  setup_card (self, XL_RESULTS_PLOT_CONFUSION, self->confusion_card, self->confusion_menu_button);
  setup_card (self, XL_RESULTS_PLOT_ROC, self->roc_card, self->roc_menu_button);
  setup_card (self, XL_RESULTS_PLOT_LOSS, self->loss_card, self->loss_menu_button);
  setup_card (self, XL_RESULTS_PLOT_ACCURACY, self->accuracy_card, self->accuracy_menu_button);

  /* Ctrl+E wherever the focus is in the window, while this page is shown:
   * a managed shortcut only runs while its widget is mapped. */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts), GTK_SHORTCUT_SCOPE_MANAGED);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>e"),
                                                          gtk_named_action_new ("results.export-focused")));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
}
