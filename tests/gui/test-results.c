/* test-results.c: the Results view on a run folder written by the test:
 * confusion-matrix cells open Review, the threshold moves the matrix and
 * the metrics as xl-metrics computes them, presets choose on the
 * validation split, plots export at the asked size, and the report and the
 * model are written whole. Pictures of the view in both styles.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "nn-resnet.h"
#include "xl-metrics.h"
#include "xl-model.h"
#include "xl-results-page.h"
#include "xl-review-page.h"
#include "xl-synth.h"
#include "gui-test-util.h"
#include "xl-window.h"


static char *tmp_root;
static char *data_dir;
static char *run_dir;
static XlWindow *window;

static gboolean
file_exists (gpointer user_data)
{
  return g_file_test (user_data, G_FILE_TEST_IS_REGULAR);
}

static gboolean
message_mentions (gpointer user_data)
{
  const char *message = xl_results_page_get_last_message (xl_window_get_results_page (window));

  return message != NULL && strstr (message, user_data) != NULL;
}

/* ---- A run folder, written as a session writes one ----------------------------- */

/* A film's P(PNEUMONIA): higher for PNEUMONIA films, with an overlap so that
 * every threshold trades sensitivity for specificity. */
static double
fake_score (guint label)
{
  double u = g_random_double ();

  return label == 1 ? CLAMP (0.25 + 0.75 * u, 0.0, 1.0) : CLAMP (0.7 * u * u, 0.0, 1.0);
}

/* The films of a split of the synthetic set, under the given class names. */
static void
append_split (GString            *csv,
              const char         *split,
              const char * const *classes)
{
  static const char *const folders[] = { "NORMAL", "PNEUMONIA" };

  for (guint label = 0; label < 2; label++)
    {
      g_autofree char *dir = g_build_filename (data_dir, split, folders[label], NULL);
      g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      g_assert_nonnull (listing);
      while ((name = g_dir_read_name (listing)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);

      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
          /* Rounded as the CSV holds it, so the test and the page read the same float. */
          double p = round (fake_score (label) * 1e6) / 1e6;

          g_string_append_printf (csv, "%s,%s,%s,%.6f,%.6f,%s\n", path, split, classes[label],
                                  1.0 - p, p, classes[p >= 0.4]);
        }
    }
}

static void
write_text (const char *dir,
            const char *name,
            const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

/* with_test FALSE writes the older kind of folder that has only val rows. */
static char *
make_run (const char         *name,
          const char * const *classes,
          gboolean            with_test)
{
  g_autofree char *dir = g_build_filename (tmp_root, name, NULL);
  g_autofree char *model_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *config_json = NULL;
  g_autoptr(GString) history = g_string_new ("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_second,best\n");
  g_autoptr(GString) batches = g_string_new ("x,loss,accuracy\n");
  g_autoptr(GString) predictions = NULL;
  g_autoptr(GError) error = NULL;
  NnResnetConfig cfg = { .num_classes = 2, .width = 8, .batch = 1, .in_h = 64, .in_w = 64 };
  NnResnet *net = NULL;
  XlModelInfo info;
  XlTrainConfig config;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);

  g_assert_cmpint (nn_resnet_new (&net, &cfg, NULL), ==, NN_OK);
  nn_resnet_init (net, 3);
  xl_model_info_init (&info);
  xl_model_info_set_classes (&info, classes, 2);
  info.width = 8;
  info.input_size = 64;
  info.resize = 72;
  info.threshold = 0.4;
  g_assert_true (xl_model_save (net, &info, model_path, &error));
  g_assert_no_error (error);
  nn_resnet_free (net);
  xl_model_info_clear (&info);

  xl_train_config_init (&config, XL_TRAIN_FINETUNE);
  g_free (config.data_path);
  config.data_path = g_strdup (data_dir);
  g_free (config.out_dir);
  config.out_dir = g_strdup (dir);
  config.epochs = 5;
  config_json = xl_train_config_to_json (&config);
  write_text (dir, "config.json", config_json);
  xl_train_config_clear (&config);

  for (guint epoch = 1; epoch <= 4; epoch++)
    {
      g_string_append_printf (history, "%u,%.4f,%.4f,%.4f,%.4f,0.001,1.0,50.0,%d\n", epoch,
                              0.9 / epoch, 0.5 + 0.1 * epoch, 0.8 / epoch + 0.05 * (epoch == 4),
                              0.55 + 0.08 * epoch, epoch == 3);
      for (guint b = 1; b <= 4; b++)
        g_string_append_printf (batches, "%.4f,%.4f,%.4f\n", epoch - 1 + b / 4.0,
                                1.0 / (epoch + b / 4.0), 0.45 + 0.1 * epoch + 0.01 * b);
    }
  write_text (dir, "history.csv", history->str);
  write_text (dir, "batches.csv", batches->str);
  write_text (dir, "metrics.json",
              "{\"val\": {\"threshold_source\": \"Youden's J on the validation split\"},"
              " \"run\": {\"best_epoch\": 3, \"early_stop_epoch\": 4, \"stopped\": false}}");

  g_random_set_seed (11);
  predictions = g_string_new (NULL);
  g_string_append_printf (predictions, "path,split,true_label,p_%s,p_%s,predicted_label\n",
                          classes[0], classes[1]);
  append_split (predictions, "val", classes);
  if (with_test)
    append_split (predictions, "test", classes);
  write_text (dir, "predictions.csv", predictions->str);

  return g_steal_pointer (&dir);
}

static void
make_data (void)
{
  g_autoptr(GError) error = NULL;
  XlSynthConfig config;

  data_dir = g_build_filename (tmp_root, "chest", NULL);
  xl_synth_config_init (&config);
  config.per_class = 20;
  config.size = 64;
  config.seed = 3;
  config.n_threads = 2;
  g_assert_true (xl_synth_generate (data_dir, &config, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* The test split's scores and labels as the page reads them. */
typedef struct {
  guint  n;
  float *scores;
  guint *labels;
} Split;

static void
split_clear (Split *split)
{
  g_free (split->scores);
  g_free (split->labels);
}

static void
load_split (XlRunFolder *run,
            XlSplit      which,
            Split       *split)
{
  g_autoptr(XlPredictions) predictions = xl_run_folder_predictions (run, which);

  g_assert_nonnull (predictions);
  split->n = predictions->n;
  split->scores = xl_predictions_positive_scores (predictions, run->info.positive_class);
  split->labels = g_memdup2 (predictions->labels, sizeof (guint) * predictions->n);
}

static XlResultsPage *
results_page (void)
{
  return xl_window_get_results_page (window);
}

static const char *
visible_state (XlResultsPage *page)
{
  GtkWidget *stack = gtk_widget_get_first_child (GTK_WIDGET (page));

  g_assert_true (GTK_IS_STACK (stack));

  return gtk_stack_get_visible_child_name (GTK_STACK (stack));
}

/* ---- Tests ---------------------------------------------------------------------- */

static void
test_open_run (void)
{
  g_autoptr(GError) error = NULL;
  XlResultsPage *page;
  XlRunFolder *run;
  XlCurveModel *loss;
  guint n = 0;

  window = xl_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  gtk_window_present (GTK_WINDOW (window));
  page = results_page ();
  g_assert_cmpstr (visible_state (page), ==, "empty");

  xl_window_open_run (window, run_dir, &error);
  g_assert_no_error (error);
  xl_window_show_view (window, "results");
  gui_test_paint_frames (GTK_WIDGET (window), 3);

  run = xl_results_page_get_run (page);
  g_assert_nonnull (run);
  g_assert_cmpstr (visible_state (page), ==, "results");
  g_assert_cmpfloat (xl_results_page_get_threshold (page), ==, run->info.threshold);
  g_assert_true (xl_results_page_get_shows_reference (page));

  /* The run's curves, with the best epoch and the early stop. */
  loss = xl_curve_chart_get_model (xl_results_page_get_loss_chart (page));
  xl_curve_model_get_points (loss, XL_CURVE_TRAIN_EPOCH, &n);
  g_assert_cmpuint (n, ==, 4);
  xl_curve_model_get_points (loss, XL_CURVE_VAL_EPOCH, &n);
  g_assert_cmpuint (n, ==, 4);
  xl_curve_model_get_points (loss, XL_CURVE_TRAIN_BATCH, &n);
  g_assert_cmpuint (n, ==, 16);
  g_assert_cmpfloat (xl_curve_model_get_best_epoch (loss), ==, 3);
  g_assert_cmpfloat (xl_curve_model_get_stop_epoch (loss), ==, 4);
  g_assert_cmpuint (xl_curve_chart_get_n_draws (xl_results_page_get_loss_chart (page)), >, 0);
}

static void
check_against_metrics (XlResultsPage *page,
                       const Split   *test,
                       double         threshold)
{
  g_autoptr(XlConfusionMatrix) expected = NULL;
  g_autoptr(GError) error = NULL;
  const XlConfusionMatrix *shown;
  XlBinaryMetrics want;
  XlBinaryMetrics got;
  double auc;

  xl_results_page_set_threshold (page, threshold);
  g_assert_cmpfloat (xl_results_page_get_threshold (page), ==, threshold);

  expected = xl_confusion_matrix_new_from_scores (test->scores, test->labels, test->n, 1,
                                                  threshold, &error);
  g_assert_no_error (error);
  g_assert_true (xl_binary_metrics_compute (test->scores, test->labels, test->n, 1, threshold,
                                            &want, &error));
  g_assert_true (xl_results_page_get_metrics (page, &got, &auc));

  shown = xl_confusion_view_get_matrix (xl_results_page_get_confusion_view (page));
  g_assert_nonnull (shown);
  g_assert_cmpmem (shown->counts, 4 * sizeof (guint64), expected->counts, 4 * sizeof (guint64));

  g_assert_cmpuint (got.true_positive, ==, want.true_positive);
  g_assert_cmpuint (got.false_positive, ==, want.false_positive);
  g_assert_cmpuint (got.true_negative, ==, want.true_negative);
  g_assert_cmpuint (got.false_negative, ==, want.false_negative);
#define SAME(a, b) g_assert_true ((isnan (a) && isnan (b)) || fabs ((a) - (b)) < 1e-12)
  SAME (got.accuracy, want.accuracy);
  SAME (got.sensitivity, want.sensitivity);
  SAME (got.specificity, want.specificity);
  SAME (got.precision, want.precision);
  SAME (got.f1, want.f1);
#undef SAME

  /* The ROC point moved with it. */
  {
    XlBinaryMetrics point;

    g_assert_true (xl_roc_view_get_operating_point (xl_results_page_get_roc_view (page), &point));
    g_assert_cmpfloat (point.threshold, ==, threshold);
    g_assert_cmpfloat (point.sensitivity, ==, got.sensitivity);
  }
}

static void
test_threshold (void)
{
  XlResultsPage *page = results_page ();
  XlRunFolder *run = xl_results_page_get_run (page);
  g_autoptr(XlRocCurve) roc = NULL;
  Split test;
  XlBinaryMetrics low;
  XlBinaryMetrics high;
  double auc;

  load_split (run, XL_SPLIT_TEST, &test);
  roc = xl_roc_curve_compute (test.scores, test.labels, test.n, 1, NULL);
  g_assert_nonnull (roc);

  /* Every threshold a slider could land on, and the scores themselves
   * (where >= matters). */
  for (double t = 0.0; t <= 1.0; t += 0.05)
    check_against_metrics (page, &test, t);
  for (guint i = 0; i < test.n; i += 3)
    check_against_metrics (page, &test, test.scores[i]);

  /* The metrics change with the threshold; the AUC does not. */
  check_against_metrics (page, &test, 0.1);
  g_assert_true (xl_results_page_get_metrics (page, &low, &auc));
  g_assert_cmpfloat (auc, ==, roc->auc);
  check_against_metrics (page, &test, 0.9);
  g_assert_true (xl_results_page_get_metrics (page, &high, &auc));
  g_assert_cmpfloat (auc, ==, roc->auc);
  g_assert_cmpuint (low.true_positive, >, high.true_positive);
  g_assert_cmpuint (low.false_positive, >, high.false_positive);
  g_assert_cmpfloat (low.sensitivity, >, high.sensitivity);
  g_assert_cmpfloat (low.specificity, <, high.specificity);

  /* The slider is the property, both ways, and Review follows it. */
  {
    GtkRange *scale = NULL;
    GtkWidget *child;

    for (child = GTK_WIDGET (page); child != NULL; )
      {
        /* Depth-first to the first GtkScale. */
        if (GTK_IS_SCALE (child))
          {
            scale = GTK_RANGE (child);
            break;
          }
        if (gtk_widget_get_first_child (child) != NULL)
          child = gtk_widget_get_first_child (child);
        else
          {
            while (child != NULL && gtk_widget_get_next_sibling (child) == NULL)
              child = gtk_widget_get_parent (child);
            if (child != NULL)
              child = gtk_widget_get_next_sibling (child);
          }
      }
    g_assert_nonnull (scale);
    gtk_range_set_value (scale, 0.3);
    g_assert_cmpfloat (xl_results_page_get_threshold (page), ==, 0.3);
    xl_results_page_set_threshold (page, 0.7);
    g_assert_cmpfloat (gtk_range_get_value (scale), ==, 0.7);
    g_assert_cmpfloat (xl_review_page_get_threshold (xl_window_get_review_page (window)), ==, 0.7);
  }

  split_clear (&test);
}

static void
test_presets (void)
{
  XlResultsPage *page = results_page ();
  XlRunFolder *run = xl_results_page_get_run (page);
  g_autoptr(XlRocCurve) roc = NULL;
  XlRocPoint youden;
  XlRocPoint sensitive;
  XlBinaryMetrics on_val;
  Split val;

  load_split (run, XL_SPLIT_VAL, &val);
  roc = xl_roc_curve_compute (val.scores, val.labels, val.n, 1, NULL);
  g_assert_true (xl_roc_curve_youden (roc, &youden));
  g_assert_true (xl_roc_curve_threshold_for_sensitivity (roc, 0.95, &sensitive));

  g_assert_true (xl_results_page_apply_preset (page, XL_THRESHOLD_PRESET_HALF));
  g_assert_cmpfloat (xl_results_page_get_threshold (page), ==, 0.5);

  g_assert_true (xl_results_page_apply_preset (page, XL_THRESHOLD_PRESET_YOUDEN));
  g_assert_cmpfloat (xl_results_page_get_threshold (page), ==, youden.threshold);

  /* Through the buttons' action, as a click does. */
  xl_results_page_set_threshold (page, 0.5);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "results.preset", "s", "sensitivity"));
  g_assert_cmpfloat (xl_results_page_get_threshold (page), ==, sensitive.threshold);
  g_assert_true (xl_binary_metrics_compute (val.scores, val.labels, val.n, 1,
                                            xl_results_page_get_threshold (page), &on_val, NULL));
  g_assert_cmpfloat (on_val.sensitivity, >=, 0.95);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "results.preset", "s", "half"));
  g_assert_cmpfloat (xl_results_page_get_threshold (page), ==, 0.5);

  split_clear (&val);
}

static void
record_cell_cb (XlResultsPage *page,
                guint          true_class,
                guint          predicted_class,
                guint         *cell)
{
  cell[0] = true_class;
  cell[1] = predicted_class;
  cell[2]++;
}

static GtkEventController *
find_controller (GtkWidget *widget,
                 GType      type)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (controller, type))
        return controller;
    }

  return NULL;
}

static void
test_show_films (void)
{
  XlResultsPage *page = results_page ();
  XlConfusionView *view = xl_results_page_get_confusion_view (page);
  XlReviewPage *review = xl_window_get_review_page (window);
  GtkEventController *click;
  GtkEventController *key;
  XlPlotFrame frame;
  guint cell[3] = { 0 };
  gboolean handled = FALSE;
  gulong handler;

  xl_results_page_set_threshold (page, 0.5);
  xl_window_show_view (window, "results");
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  g_assert_true (xl_confusion_view_get_frame (view, &frame));
  handler = g_signal_connect (page, "show-films", G_CALLBACK (record_cell_cb), cell);

  /* A click in the middle of (true PNEUMONIA, predicted NORMAL): the false
   * negatives. The gesture's own signal, at the cell's pixel. */
  click = find_controller (GTK_WIDGET (view), GTK_TYPE_GESTURE_CLICK);
  g_assert_nonnull (click);
  g_signal_emit_by_name (click, "released", 1,
                         xl_plot_frame_to_pixel_x (&frame, 0.5),
                         xl_plot_frame_to_pixel_y (&frame, 1.5));
  g_assert_cmpuint (cell[2], ==, 1);
  g_assert_cmpuint (cell[0], ==, 1);
  g_assert_cmpuint (cell[1], ==, 0);
  g_assert_cmpstr (xl_window_get_view (window), ==, "review");
  g_assert_cmpint (xl_review_page_get_filter (review), ==, XL_REVIEW_FALSE_NEGATIVES);

  /* Outside every cell: nothing. */
  g_signal_emit_by_name (click, "released", 1, 1.0, 1.0);
  g_assert_cmpuint (cell[2], ==, 1);

  /* The keyboard: Up moves to (NORMAL, NORMAL)... Right to (NORMAL,
   * PNEUMONIA), Enter opens the false positives. */
  xl_window_show_view (window, "results");
  gui_test_paint_frames (GTK_WIDGET (window), 2);
  key = find_controller (GTK_WIDGET (view), GTK_TYPE_EVENT_CONTROLLER_KEY);
  g_assert_nonnull (key);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Up, 0, 0, &handled);
  g_assert_true (handled);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Right, 0, 0, &handled);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Return, 0, 0, &handled);
  g_assert_true (handled);
  g_assert_cmpuint (cell[2], ==, 2);
  g_assert_cmpuint (cell[0], ==, 0);
  g_assert_cmpuint (cell[1], ==, 1);
  g_assert_cmpint (xl_review_page_get_filter (review), ==, XL_REVIEW_FALSE_POSITIVES);

  /* And straight through the view's API. */
  xl_confusion_view_activate_cell (view, 1, 1);
  g_assert_cmpuint (cell[2], ==, 3);
  g_assert_cmpint (xl_review_page_get_filter (review), ==, XL_REVIEW_TRUE_POSITIVES);

  g_signal_handler_disconnect (page, handler);
  xl_window_show_view (window, "results");
}

static void
check_png (const char *path,
           int         width,
           int         height)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  cairo_surface_t *surface;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 8);
  g_assert_cmpmem (contents, 8, "\x89PNG\r\n\x1a\n", 8);
  surface = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (surface), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (surface), ==, height);
  cairo_surface_destroy (surface);
}

static void
test_export (void)
{
  XlResultsPage *page = results_page ();
  XlRunFolder *run = xl_results_page_get_run (page);
  g_autofree char *out = g_build_filename (tmp_root, "exports", NULL);
  g_autofree char *png = g_build_filename (out, "matrix.png", NULL);
  g_autofree char *svg = g_build_filename (out, "roc.svg", NULL);
  g_autofree char *pdf = g_build_filename (out, "loss.pdf", NULL);
  g_autofree char *accuracy = g_build_filename (out, "accuracy.png", NULL);
  g_autofree char *quick = NULL;
  g_autofree char *expected_quick = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (out, 0755), ==, 0);

  g_assert_true (xl_results_page_export_plot (page, XL_RESULTS_PLOT_CONFUSION, png, 640, 480, &error));
  g_assert_no_error (error);
  check_png (png, 640, 480);

  g_assert_true (xl_results_page_export_plot (page, XL_RESULTS_PLOT_ROC, svg, 800, 600, &error));
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "<svg"));
  g_clear_pointer (&text, g_free);

  g_assert_true (xl_results_page_export_plot (page, XL_RESULTS_PLOT_LOSS, pdf, 800, 600, &error));
  g_assert_true (g_file_get_contents (pdf, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "%PDF"));
  g_clear_pointer (&text, g_free);

  g_assert_true (xl_results_page_export_plot (page, XL_RESULTS_PLOT_ACCURACY, accuracy, 1200, 900, &error));
  check_png (accuracy, 1200, 900);

  /* A bad extension is refused, and nothing is left behind. */
  {
    g_autofree char *bad = g_build_filename (out, "matrix.bmp", NULL);

    g_assert_false (xl_results_page_export_plot (page, XL_RESULTS_PLOT_CONFUSION, bad, 640, 480, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  }

  /* One click: the run folder's plots/, named by the threshold. */
  xl_results_page_set_threshold (page, 0.5);
  expected_quick = g_build_filename (run->run_dir, "plots", "confusion-matrix-threshold-0.500.png", NULL);
  quick = xl_results_page_save_confusion_png (page, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (quick, ==, expected_quick);
  check_png (quick, 800, 600);

  g_remove (quick);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "results.save-confusion-png", NULL));
  check_png (expected_quick, 800, 600);
  g_assert_nonnull (strstr (xl_results_page_get_last_message (page), "Saved plots/confusion-matrix-threshold-0.500.png"));
}

static void
test_report_and_model (void)
{
  XlResultsPage *page = results_page ();
  XlRunFolder *run = xl_results_page_get_run (page);
  g_autofree char *out = g_build_filename (tmp_root, "saved", NULL);
  g_autofree char *report = g_build_filename (out, "report.pdf", NULL);
  g_autofree char *model = g_build_filename (out, "copy.safetensors", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *original = NULL;
  gsize length = 0;
  gsize original_length = 0;
  g_autofree char *run_report = g_build_filename (run->run_dir, "report.pdf", NULL);

  g_assert_cmpint (g_mkdir_with_parents (out, 0755), ==, 0);

  xl_results_page_set_threshold (page, 0.45);
  xl_results_page_export_report (page, report);
  g_assert_true (gui_test_wait_until (file_exists, report));
  g_assert_true (gui_test_wait_until (message_mentions, "Saved"));
  g_assert_true (gui_test_wait_until (message_mentions, "report.pdf"));
  g_assert_true (g_file_get_contents (report, &contents, &length, NULL));
  g_assert_true (g_str_has_prefix (contents, "%PDF"));
  g_assert_cmpuint (length, >, 1000);
  /* The run folder keeps its own pictures. */
  g_assert_false (g_file_test (run_report, G_FILE_TEST_EXISTS));
  g_clear_pointer (&contents, g_free);

  xl_results_page_save_model (page, model);
  g_assert_true (gui_test_wait_until (file_exists, model));
  g_assert_true (gui_test_wait_until (message_mentions, "copy.safetensors"));
  g_assert_true (g_file_get_contents (model, &contents, &length, NULL));
  g_assert_true (g_file_get_contents (run->model_path, &original, &original_length, NULL));
  g_assert_cmpuint (length, ==, original_length);
  g_assert_cmpmem (contents, length, original, original_length);

  /* Both done: only the two files, no temporary left. */
  {
    g_autoptr(GDir) dir = g_dir_open (out, 0, NULL);
    guint n = 0;

    while (g_dir_read_name (dir) != NULL)
      n++;
    g_assert_cmpuint (n, ==, 2);
  }

  /* A folder that is not there: a message, nothing written. */
  {
    g_autofree char *nowhere = g_build_filename (tmp_root, "no", "such", "model.safetensors", NULL);
    xl_results_page_save_model (page, nowhere);
    g_assert_true (gui_test_wait_until (message_mentions, "Could not save the model"));
    g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
  }
}

static void
test_export_target (void)
{
  XlResultsPage *page = results_page ();

  xl_window_show_view (window, "results");
  gui_test_paint_frames (GTK_WIDGET (window), 2);
  g_assert_true (gtk_widget_grab_focus (GTK_WIDGET (xl_results_page_get_roc_view (page))));
  g_assert_cmpint (xl_results_page_get_export_target (page), ==, XL_RESULTS_PLOT_ROC);
  g_assert_true (gtk_widget_grab_focus (GTK_WIDGET (xl_results_page_get_confusion_view (page))));
  g_assert_cmpint (xl_results_page_get_export_target (page), ==, XL_RESULTS_PLOT_CONFUSION);
  g_assert_true (gtk_widget_grab_focus (GTK_WIDGET (xl_results_page_get_accuracy_chart (page))));
  g_assert_cmpint (xl_results_page_get_export_target (page), ==, XL_RESULTS_PLOT_ACCURACY);
}

static void
test_states (void)
{
  static const char *const other[] = { "healthy", "sick" };
  static const char *const kermany[] = { "NORMAL", "PNEUMONIA" };
  g_autofree char *old_dir = make_run ("val-only", kermany, FALSE);
  g_autofree char *other_dir = make_run ("other-classes", other, TRUE);
  g_autoptr(XlRunFolder) old_run = xl_run_folder_load (old_dir, NULL);
  g_autoptr(XlRunFolder) other_run = xl_run_folder_load (other_dir, NULL);
  XlResultsPage *page = results_page ();
  XlRunFolder *shown = xl_run_folder_ref (xl_results_page_get_run (page));

  g_assert_nonnull (old_run);
  g_assert_nonnull (other_run);

  /* No test rows (a data set without a test split): the validation films,
   * said so. */
  xl_results_page_set_run (page, old_run);
  g_assert_cmpstr (visible_state (page), ==, "results");
  g_assert_true (xl_results_page_get_metrics (page, NULL, NULL));
  {
    GtkLabel *heading = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (page),
                                                                  XL_TYPE_RESULTS_PAGE,
                                                                  "metrics_heading"));
    GtkLabel *summary = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (page),
                                                                  XL_TYPE_RESULTS_PAGE,
                                                                  "run_summary"));

    g_assert_cmpstr (gtk_label_get_label (heading), ==, "Validation Metrics");
    g_assert_nonnull (strstr (gtk_label_get_label (summary), "no test split"));
  }
  xl_window_show_view (window, "results");
  gui_test_paint_frames (GTK_WIDGET (window), 2);
  gui_test_save_screenshot (GTK_WIDGET (window), "results-val-only");

  /* No rows at all: the error state, and no metrics. */
  {
    g_autofree char *csv = g_build_filename (old_dir, "predictions.csv", NULL);
    g_autoptr(XlRunFolder) empty_run = NULL;

    g_assert_true (g_file_set_contents (csv, "path,split,true_label,p_NORMAL,p_PNEUMONIA,"
                                        "predicted_label\n", -1, NULL));
    empty_run = xl_run_folder_load (old_dir, NULL);
    g_assert_nonnull (empty_run);
    xl_results_page_set_run (page, empty_run);
    g_assert_cmpstr (visible_state (page), ==, "error");
    g_assert_false (xl_results_page_get_metrics (page, NULL, NULL));
    gui_test_paint_frames (GTK_WIDGET (window), 2);
    gui_test_save_screenshot (GTK_WIDGET (window), "results-error");
  }

  /* Other classes: results, but no Kermany reference. */
  xl_results_page_set_run (page, other_run);
  g_assert_cmpstr (visible_state (page), ==, "results");
  g_assert_false (xl_results_page_get_shows_reference (page));
  g_assert_true (xl_results_page_get_metrics (page, NULL, NULL));

  xl_results_page_set_run (page, NULL);
  g_assert_cmpstr (visible_state (page), ==, "empty");

  xl_results_page_set_run (page, shown);
  g_assert_cmpstr (visible_state (page), ==, "results");
  xl_run_folder_unref (shown);
}

static void
test_screenshots (void)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  XlResultsPage *page = results_page ();

  xl_results_page_apply_preset (page, XL_THRESHOLD_PRESET_YOUDEN);
  xl_window_show_view (window, "results");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  gui_test_save_screenshot (GTK_WIDGET (window), "results-light");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  gui_test_save_screenshot (GTK_WIDGET (window), "results-dark");

  /* A narrow window: the sidebar scrolls, the plots share what is left. */
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 640);
  gui_test_paint_frames (GTK_WIDGET (window), 4);
  gui_test_save_screenshot (GTK_WIDGET (window), "results-narrow");
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  gui_test_paint_frames (GTK_WIDGET (window), 2);
}

int
main (int    argc,
      char **argv)
{
  static const char *const kermany[] = { "NORMAL", "PNEUMONIA" };
  g_autofree char *data_home = NULL;
  g_autofree char *cache_home = NULL;
  int status;

  tmp_root = g_dir_make_tmp ("xl-results-XXXXXX", NULL);
  data_home = g_build_filename (tmp_root, "data-home", NULL);
  cache_home = g_build_filename (tmp_root, "cache", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  g_setenv ("OPENBLAS_NUM_THREADS", "1", TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  {
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (css, "/org/xraylab/XRayLab/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }

  make_data ();
  run_dir = make_run ("run", kermany, TRUE);

  /* In order: each starts where the one before left the window. */
  g_test_add_func ("/gui/results/open-run", test_open_run);
  g_test_add_func ("/gui/results/threshold", test_threshold);
  g_test_add_func ("/gui/results/presets", test_presets);
  /* Pictures before the exports, whose toasts would cover them. */
  g_test_add_func ("/gui/results/screenshots", test_screenshots);
  g_test_add_func ("/gui/results/states", test_states);
  g_test_add_func ("/gui/results/show-films", test_show_films);
  g_test_add_func ("/gui/results/export", test_export);
  g_test_add_func ("/gui/results/report-and-model", test_report_and_model);
  g_test_add_func ("/gui/results/export-target", test_export_target);

  status = g_test_run ();

  if (window != NULL)
    gtk_window_destroy (GTK_WINDOW (window));
  if (status == 0)
    gui_test_remove_tree (tmp_root);
  g_free (run_dir);
  g_free (data_dir);
  g_free (tmp_root);

  return status;
}
