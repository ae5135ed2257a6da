/* test-workflow.c: the window in-process with its real widgets, on a small
 * synthetic data set: open it, browse it, train with live curves, stop a
 * run, close during a run, and a picture of every view.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "xl-data-page.h"
#include "xl-dataset-job.h"
#include "xl-film-viewer.h"
#include "xl-image-item.h"
#include "xl-synth.h"
#include "xl-thumbnail-cell.h"
#include "gui-test-util.h"
#include "xl-window.h"

/* Generous: two shared cores under a sanitizer may be slow. */
/* The longest the main loop may go without running a 10 ms timer while a
 * run trains on the other threads. */
#define MAX_MAIN_LOOP_GAP_MS 250

static char *tmp_root;
static char *data_dir;
static XlWindow *window;

static gboolean
window_not_busy (gpointer user_data)
{
  return !xl_window_get_busy (window);
}

static gboolean
window_settled (gpointer user_data)
{
  return xl_window_get_settled (window);
}

static void
make_data (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *broken = NULL;
  XlSynthConfig config;

  data_dir = g_build_filename (tmp_root, "chest", NULL);
  xl_synth_config_init (&config);
  config.per_class = 20;
  config.size = 80;
  config.seed = 7;
  config.n_threads = 2;
  g_assert_true (xl_synth_generate (data_dir, &config, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  /* One file that is not an image: listed as skipped, with its reason. */
  broken = g_build_filename (data_dir, "train", "NORMAL", "broken.jpeg", NULL);
  g_assert_true (g_file_set_contents (broken, "this is not a JPEG", -1, NULL));
}

static void
collect_cells (GtkWidget *widget,
               GPtrArray *cells)
{
  if (XL_IS_THUMBNAIL_CELL (widget))
    {
      g_ptr_array_add (cells, widget);
      return;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_cells (child, cells);
}

static guint
count_cells_with_thumbnails (guint *n_cells)
{
  g_autoptr(GPtrArray) cells = g_ptr_array_new ();
  guint with = 0;

  collect_cells (GTK_WIDGET (xl_data_page_get_grid_view (xl_window_get_data_page (window))), cells);
  for (guint i = 0; i < cells->len; i++)
    if (xl_thumbnail_cell_get_item (cells->pdata[i]) != NULL
        && xl_thumbnail_cell_has_thumbnail (cells->pdata[i]))
      with++;

  if (n_cells != NULL)
    {
      *n_cells = 0;
      for (guint i = 0; i < cells->len; i++)
        if (xl_thumbnail_cell_get_item (cells->pdata[i]) != NULL)
          (*n_cells)++;
    }

  return with;
}

static gboolean
thumbnails_shown (gpointer user_data)
{
  guint n_cells;
  guint with = count_cells_with_thumbnails (&n_cells);

  return n_cells > 0 && with == n_cells;
}

/* ---- Data ------------------------------------------------------------------ */

static void
test_open_dataset (void)
{
  XlDataPage *page;
  XlSplitChart *chart;
  XlDataset *dataset;
  guint total = 0;

  window = xl_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  gtk_window_present (GTK_WINDOW (window));
  page = xl_window_get_data_page (window);
  g_assert_cmpstr (xl_data_page_get_state (page), ==, "welcome");

  xl_window_open_dataset (window, data_dir);
  g_assert_true (xl_window_get_busy (window));
  g_assert_cmpstr (xl_data_page_get_state (page), ==, "loading");
  g_assert_true (gui_test_wait_until (window_not_busy, NULL));

  g_assert_cmpstr (xl_data_page_get_state (page), ==, "dataset");
  dataset = xl_data_page_get_dataset (page);
  g_assert_nonnull (dataset);
  g_assert_cmpuint (xl_dataset_n_images (dataset), ==, 2 * (20 + 5 + 10));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "start-training"));

  /* Remembered: the last data set, and the recent list on the welcome page. */
  {
    g_autoptr(GSettings) settings = g_settings_new (APP_ID);
    g_autofree char *last = g_settings_get_string (settings, "last-dataset");
    g_auto(GStrv) recent = g_settings_get_strv (settings, "recent-datasets");

    g_assert_cmpstr (last, ==, data_dir);
    g_assert_cmpuint (g_strv_length (recent), ==, 1);
    g_assert_cmpstr (recent[0], ==, data_dir);
    g_assert_cmpuint (xl_welcome_page_get_n_recent (xl_data_page_get_welcome_page (page)), ==, 1);
  }

  /* The chart counts what the data set holds, per split and class. */
  chart = xl_data_page_get_split_chart (page);
  g_assert_cmpuint (xl_split_chart_get_n_classes (chart), ==, 2);
  for (guint split = 0; split <= XL_SPLIT_NONE; split++)
    for (guint c = 0; c < 2; c++)
      total += xl_split_chart_get_count (chart, split, c);
  g_assert_cmpuint (total, ==, xl_dataset_n_images (dataset));

  /* Without the re-split: the scanned splits, as the folders say. */
  xl_data_page_set_resplit (page, FALSE, 0.1);
  for (guint split = 0; split < XL_N_SPLITS; split++)
    for (guint c = 0; c < 2; c++)
      g_assert_cmpuint (xl_split_chart_get_count (chart, split, c), ==,
                        split == XL_SPLIT_TRAIN ? 20 : split == XL_SPLIT_VAL ? 5 : 10);
  g_assert_cmpfloat (xl_data_page_get_val_fraction (page), ==, 0);
  g_assert_nonnull (strstr (xl_data_page_get_resplit_summary (page), "own val split: 10 films"));
  g_assert_nonnull (strstr (xl_data_page_get_resplit_summary (page), "too few"));

  /* With it: what moves, as the session will move it. */
  xl_data_page_set_resplit (page, TRUE, 0.25);
  g_assert_cmpfloat (xl_data_page_get_val_fraction (page), ==, 0.25);
  g_assert_nonnull (strstr (xl_data_page_get_resplit_summary (page), "Moves "));
  g_assert_nonnull (strstr (xl_data_page_get_resplit_summary (page), "from train to val"));
  g_assert_cmpuint (xl_split_chart_get_count (chart, XL_SPLIT_NONE, 0)
                    + xl_split_chart_get_count (chart, XL_SPLIT_NONE, 1), ==, 10);
  g_assert_cmpuint (xl_split_chart_get_count (chart, XL_SPLIT_TRAIN, 0)
                    + xl_split_chart_get_count (chart, XL_SPLIT_VAL, 0), ==, 20);
  g_assert_cmpuint (xl_split_chart_get_count (chart, XL_SPLIT_VAL, 0), >, 0);
  g_assert_cmpuint (xl_split_chart_get_count (chart, XL_SPLIT_VAL, 1), >, 0);
  g_test_message ("re-split: %s", xl_data_page_get_resplit_summary (page));
  g_assert_nonnull (xl_data_page_get_imbalance_text (page));

  /* The broken file is listed with its reason, not fatal. */
  g_assert_cmpuint (xl_dataset_n_skipped (dataset), ==, 1);
  g_assert_nonnull (strstr (xl_dataset_skipped (dataset, 0)->path, "broken.jpeg"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page),
                                                                                    XL_TYPE_DATA_PAGE,
                                                                                    "skipped_group"))));

  /* The Train view no longer asks for a data set: it says what Start does. */
  g_test_message ("train status: %s",
                  xl_train_page_get_status_text (xl_window_get_train_page (window)));
  g_assert_nonnull (strstr (xl_train_page_get_status_text (xl_window_get_train_page (window)),
                            "Ready to train on"));
}

static void
test_filters (void)
{
  XlDataPage *page = xl_window_get_data_page (window);
  XlSplitChart *chart = xl_data_page_get_split_chart (page);
  GListModel *films = xl_data_page_get_films (page);
  guint n;

  g_assert_cmpuint (g_list_model_get_n_items (films), ==, 70);

  xl_data_page_set_filter (page, XL_SPLIT_TRAIN, XL_DATA_PAGE_ALL, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (films), ==,
                    xl_split_chart_get_count (chart, XL_SPLIT_TRAIN, 0)
                    + xl_split_chart_get_count (chart, XL_SPLIT_TRAIN, 1));

  xl_data_page_set_filter (page, XL_SPLIT_TEST, 1, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (films), ==, 10);
  for (guint i = 0; i < g_list_model_get_n_items (films); i++)
    {
      g_autoptr(XlImageItem) item = g_list_model_get_item (films, i);

      g_assert_cmpuint (xl_image_item_get_class_index (item), ==, 1);
      g_assert_cmpuint (xl_image_item_get_split (item), ==, XL_SPLIT_TEST);
    }

  /* By name: the synthetic PNEUMONIA films are person*_bacteria/virus_*. */
  xl_data_page_set_filter (page, XL_DATA_PAGE_ALL, XL_DATA_PAGE_ALL, "PERSON");
  n = g_list_model_get_n_items (films);
  g_assert_cmpuint (n, ==, 35);
  xl_data_page_set_filter (page, XL_DATA_PAGE_ALL, XL_DATA_PAGE_ALL, "no such film");
  g_assert_cmpuint (g_list_model_get_n_items (films), ==, 0);

  xl_data_page_set_filter (page, XL_DATA_PAGE_ALL, XL_DATA_PAGE_ALL, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (films), ==, 70);
}

static void
test_thumbnails (void)
{
  XlDataPage *page = xl_window_get_data_page (window);
  XlThumbnailLoader *loader = xl_data_page_get_loader (page);
  guint n_cells;
  guint with;
  int width;
  int height;

  xl_window_show_view (window, "data");
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  g_assert_true (gui_test_wait_until (thumbnails_shown, NULL));

  with = count_cells_with_thumbnails (&n_cells);
  g_test_message ("%u cells bound, %u with thumbnails; %u decoded, %u cached",
                  n_cells, with, xl_thumbnail_loader_get_n_decoded (loader),
                  xl_thumbnail_loader_get_n_cached (loader));
  g_assert_cmpuint (n_cells, >, 10);
  g_assert_cmpuint (xl_thumbnail_loader_get_n_decoded (loader), >=, n_cells);

  /* Cached: a thumbnail fits the box the loader was given. */
  {
    g_autoptr(XlImageItem) item = g_list_model_get_item (xl_data_page_get_films (page), 0);
    GdkTexture *texture = xl_thumbnail_loader_lookup (loader, xl_image_item_get_index (item));

    g_assert_nonnull (texture);
    xl_thumbnail_loader_get_size (loader, &width, &height);
    g_assert_cmpint (gdk_texture_get_width (texture), <=, width);
    g_assert_cmpint (gdk_texture_get_height (texture), <=, height);
  }

  /* Another size: decoded again, at that size. */
  xl_data_page_set_thumbnail_size (page, 64);
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  g_assert_true (gui_test_wait_until (thumbnails_shown, NULL));
  xl_thumbnail_loader_get_size (loader, &width, &height);
  g_assert_cmpint (width, ==, 64 * gtk_widget_get_scale_factor (GTK_WIDGET (page)));
  xl_data_page_set_thumbnail_size (page, 112);
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  g_assert_true (gui_test_wait_until (thumbnails_shown, NULL));
}

static gboolean
viewer_loaded (gpointer user_data)
{
  return xl_film_viewer_get_loaded (user_data);
}

static void
test_film_viewer (void)
{
  XlDataPage *page = xl_window_get_data_page (window);
  g_autoptr(XlFilmViewer) viewer = NULL;
  XlFilmView *view;
  double zoom;
  double pan_x;
  double pan_y;

  viewer = g_object_ref (XL_FILM_VIEWER (xl_data_page_open_film (page, 0)));
  g_assert_true (gui_test_wait_until (viewer_loaded, viewer));
  g_assert_null (xl_film_viewer_get_error (viewer));

  view = xl_film_viewer_get_view (viewer);
  g_assert_nonnull (xl_film_view_get_image (view));
  /* At full size: the synthetic films are 80 pixels high. */
  g_assert_cmpuint (xl_film_view_get_image (view)->height, ==, 80);
  g_assert_true (xl_film_view_get_fit (view));

  zoom = xl_film_view_get_zoom (view);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "viewer.zoom-in", NULL));
  g_assert_false (xl_film_view_get_fit (view));
  g_assert_cmpfloat (xl_film_view_get_zoom (view), >, zoom);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "viewer.zoom-actual", NULL));
  g_assert_cmpfloat (xl_film_view_get_zoom (view), ==, 1.0);
  xl_film_view_set_zoom_at (view, 4.0, -1, -1);
  xl_film_view_pan_by (view, 30, -20);
  xl_film_view_get_pan (view, &pan_x, &pan_y);
  g_assert_cmpfloat (pan_x, ==, 30);
  g_assert_cmpfloat (pan_y, ==, -20);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "viewer.zoom-fit", NULL));
  g_assert_true (xl_film_view_get_fit (view));

  /* Window 100 at level 100: 50 and below black, 150 and above white. */
  xl_film_view_set_window (view, 100);
  xl_film_view_set_level (view, 100);
  g_assert_cmpuint (xl_film_view_map_gray (view, 50), ==, 0);
  g_assert_cmpuint (xl_film_view_map_gray (view, 100), ==, 128);
  g_assert_cmpuint (xl_film_view_map_gray (view, 150), ==, 255);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "viewer.reset-contrast", NULL));
  g_assert_cmpuint (xl_film_view_map_gray (view, 77), ==, 77);

  /* A picture of the film, zoomed and windowed. */
  xl_film_view_set_zoom_at (view, 3.0, -1, -1);
  xl_film_view_set_window (view, 160);
  xl_film_view_set_level (view, 110);
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  gui_test_save_screenshot (GTK_WIDGET (viewer), "film-viewer");

  gtk_window_destroy (GTK_WINDOW (viewer));
}

/* ---- Training -------------------------------------------------------------- */

typedef struct
{
  gint64 last;
  gint64 max_gap;
} GapProbe;

static gboolean
gap_probe_cb (gpointer user_data)
{
  GapProbe *probe = user_data;
  gint64 now = g_get_monotonic_time ();

  if (probe->last > 0)
    probe->max_gap = MAX (probe->max_gap, now - probe->last);
  probe->last = now;

  return G_SOURCE_CONTINUE;
}

static gboolean
run_over (gpointer user_data)
{
  XlTrainRunner *runner = xl_train_page_get_runner (xl_window_get_train_page (window));

  return !xl_train_runner_get_running (runner);
}

static gboolean
first_batch_seen (gpointer user_data)
{
  XlTrainRunner *runner = xl_train_page_get_runner (xl_window_get_train_page (window));

  /* The status of the run before stays until the next one starts. */
  return xl_train_runner_get_running (runner)
         && xl_train_runner_get_status (runner)->n_batch_events >= 1;
}

static gboolean
stop_asked (gpointer user_data)
{
  XlTrainRunner *runner = xl_train_page_get_runner (xl_window_get_train_page (window));

  return xl_train_runner_get_status (runner)->stopping || run_over (NULL);
}

static void
small_run_settings (guint epochs)
{
  XlTrainPage *page = xl_window_get_train_page (window);

  xl_train_page_set_width (page, 8);
  xl_train_page_set_input_size (page, 64);
  xl_train_page_set_batch_size (page, 8);
  xl_train_page_set_epochs (page, epochs);
  xl_train_page_set_weights (page, NULL);
  xl_train_page_set_mode (page, XL_TRAIN_FINETUNE);
}

static guint
n_points (XlCurveModel  *model,
          XlCurveSeries  series)
{
  guint n = 0;

  xl_curve_model_get_points (model, series, &n);

  return n;
}

static void
test_train_run (void)
{
  XlTrainPage *page = xl_window_get_train_page (window);
  XlTrainRunner *runner = xl_train_page_get_runner (page);
  const XlTrainStatus *status;
  XlCurveModel *loss;
  XlCurveModel *accuracy;
  g_autofree char *model_path = NULL;
  g_autofree char *log = NULL;
  g_autofree char *tooltip = NULL;
  XlPlotFrame frame;
  GapProbe probe = { 0 };
  const XlCurvePoint *val;
  guint probe_id;
  guint n_val;

  small_run_settings (3);
  /* Painted once before: a view's first paint loads its fonts and styles,
   * which is not what this measures. */
  xl_window_show_view (window, "train");
  gui_test_paint_frames (GTK_WIDGET (window), 2);
  xl_window_show_view (window, "data");

  g_action_group_activate_action (G_ACTION_GROUP (window), "start-training", NULL);
  g_assert_true (xl_train_runner_get_running (runner));
  g_assert_cmpstr (xl_window_get_view (window), ==, "train");
  /* From here on, the main loop runs while the network trains. */
  probe_id = g_timeout_add (10, gap_probe_cb, &probe);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "start-training"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "stop-training"));

  g_assert_true (gui_test_wait_until (run_over, NULL));
  g_source_remove (probe_id);

  status = xl_train_runner_get_status (runner);
  g_test_message ("run: %u epochs, %u batch events in %u main-loop updates, best epoch %u; "
                  "longest main-loop gap %.1f ms",
                  status->epochs_done, status->n_batch_events, status->n_flushes,
                  status->best_epoch, probe.max_gap / 1000.0);
  g_assert_null (status->error);
  g_assert_true (status->finished);
  g_assert_false (status->stopped);
  g_assert_cmpuint (status->epochs_done, ==, 3);
  g_assert_cmpuint (status->best_epoch, >=, 1);
  g_assert_cmpuint (status->n_trainable, ==, xl_train_page_get_trainable (page));
  g_assert_cmpint (probe.max_gap / 1000, <, MAX_MAIN_LOOP_GAP_MS);

  /* The charts' models got every epoch, and every batch. */
  loss = xl_curve_chart_get_model (xl_train_page_get_loss_chart (page));
  accuracy = xl_curve_chart_get_model (xl_train_page_get_accuracy_chart (page));
  g_assert_true (loss == xl_train_runner_get_loss_model (runner));
  g_assert_true (accuracy == xl_train_runner_get_accuracy_model (runner));
  g_assert_cmpuint (n_points (loss, XL_CURVE_TRAIN_EPOCH), ==, 3);
  g_assert_cmpuint (n_points (loss, XL_CURVE_VAL_EPOCH), ==, 3);
  g_assert_cmpuint (n_points (accuracy, XL_CURVE_TRAIN_EPOCH), ==, 3);
  g_assert_cmpuint (n_points (accuracy, XL_CURVE_VAL_EPOCH), ==, 3);
  g_assert_cmpuint (n_points (loss, XL_CURVE_TRAIN_BATCH), ==, status->n_batch_events);
  g_assert_cmpuint (n_points (accuracy, XL_CURVE_TRAIN_BATCH), ==, status->n_batch_events);
  g_assert_cmpfloat (xl_curve_model_get_best_epoch (loss), ==, status->best_epoch);

  /* Each batch's accuracy, recovered from the running mean, is a share of
   * a batch of 8 (or of the last, shorter one). */
  {
    guint n = 0;
    const XlCurvePoint *points = xl_curve_model_get_points (accuracy, XL_CURVE_TRAIN_BATCH, &n);

    for (guint i = 0; i < n; i++)
      {
        g_assert_cmpfloat (points[i].value, >=, 0);
        g_assert_cmpfloat (points[i].value, <=, 1);
      }
  }

  /* Progress at 100%, and the idle state back. */
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (xl_train_page_get_progress_bar (page)), ==, 1.0);
  g_assert_nonnull (strstr (xl_train_page_get_status_text (page), "Finished 3 epochs"));
  g_assert_nonnull (strstr (xl_train_page_get_status_text (page), "model saved"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "start-training"));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "stop-training"));

  /* The same run folder as the CLI writes. */
  g_assert_true (g_str_has_prefix (status->run_dir, g_get_user_data_dir ()));
  model_path = g_build_filename (status->run_dir, "model.safetensors", NULL);
  g_assert_true (g_file_test (model_path, G_FILE_TEST_IS_REGULAR));
  {
    g_autofree char *plot = g_build_filename (status->run_dir, "plots", "loss.png", NULL);
    g_autofree char *history = g_build_filename (status->run_dir, "history.csv", NULL);

    g_assert_true (g_file_test (plot, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (history, G_FILE_TEST_IS_REGULAR));
  }

  /* The finished run is what Results and Review now show. */
  {
    XlRunFolder *shown = xl_results_page_get_run (xl_window_get_results_page (window));

    g_assert_nonnull (shown);
    g_assert_cmpstr (shown->run_dir, ==, status->run_dir);
    g_assert_cmpuint (shown->history->len, ==, 3);
    g_assert_cmpfloat (xl_results_page_get_threshold (xl_window_get_results_page (window)), ==,
                       shown->info.threshold);
    g_assert_cmpfloat (xl_review_page_get_threshold (xl_window_get_review_page (window)), ==,
                       shown->info.threshold);
  }

  log = xl_train_page_dup_log_text (page);
  g_assert_nonnull (strstr (log, "Epoch 3/3"));
  g_assert_nonnull (strstr (log, "Finished after 3 epochs"));

  /* Drawn, and the hover names the point under the pointer. */
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  g_assert_cmpuint (xl_curve_chart_get_n_draws (xl_train_page_get_loss_chart (page)), >, 0);
  g_assert_true (xl_curve_chart_get_frame (xl_train_page_get_loss_chart (page), &frame));
  val = xl_curve_model_get_points (loss, XL_CURVE_VAL_EPOCH, &n_val);
  tooltip = xl_curve_chart_describe_point (xl_train_page_get_loss_chart (page),
                                           xl_plot_frame_to_pixel_x (&frame, val[1].epoch),
                                           xl_plot_frame_to_pixel_y (&frame, val[1].value));
  g_assert_nonnull (tooltip);
  g_test_message ("tooltip: %s", tooltip);
  g_assert_nonnull (strstr (tooltip, "Epoch 2"));
  g_assert_nonnull (strstr (tooltip, "Validation loss"));
}

static void
test_stop_button (void)
{
  XlTrainPage *page = xl_window_get_train_page (window);
  XlTrainRunner *runner = xl_train_page_get_runner (page);
  GtkWidget *start_button = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page),
                                                                       XL_TYPE_TRAIN_PAGE,
                                                                       "start_button"));
  GtkWidget *stop_button = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page),
                                                                      XL_TYPE_TRAIN_PAGE,
                                                                      "stop_button"));
  const XlTrainStatus *status;

  small_run_settings (200);
  g_assert_true (gtk_widget_is_sensitive (start_button));
  g_assert_false (gtk_widget_is_sensitive (stop_button));

  /* A button's activation clicks it after its pressed look has shown. */
  gtk_widget_activate (start_button);
  g_assert_true (gui_test_wait_until (first_batch_seen, NULL));
  g_assert_cmpstr (xl_train_runner_get_status (runner)->error, ==, NULL);
  g_assert_true (xl_train_runner_get_running (runner));
  g_assert_true (gtk_widget_is_sensitive (stop_button));
  g_assert_false (gtk_widget_is_sensitive (start_button));

  gtk_widget_activate (stop_button);
  g_assert_true (gui_test_wait_until (stop_asked, NULL));
  g_assert_false (gtk_widget_is_sensitive (stop_button));
  g_assert_true (gui_test_wait_until (run_over, NULL));

  status = xl_train_runner_get_status (runner);
  g_test_message ("stopped after %u epochs, %u batches: %s", status->epochs_done,
                  status->n_batch_events, xl_train_page_get_status_text (page));
  g_assert_true (status->finished);
  g_assert_true (status->stopped);
  g_assert_null (status->error);
  g_assert_cmpuint (status->epochs_done, <, 200);
  g_assert_nonnull (strstr (xl_train_page_get_status_text (page), "Stopped"));

  /* Idle again: another run can start. */
  g_assert_true (gtk_widget_is_sensitive (start_button));
  g_assert_false (gtk_widget_is_sensitive (stop_button));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "start-training"));
}

/* ---- Pictures -------------------------------------------------------------- */

static void
test_screenshots (void)
{
  static const char *const views[] = { "data", "train", "results", "review" };

  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      g_autofree char *name = g_strconcat ("view-", views[i], NULL);

      xl_window_show_view (window, views[i]);
      gui_test_paint_frames (GTK_WIDGET (window), 3);
      g_assert_true (gui_test_wait_until (window_settled, NULL));
      if (i == 0)
        g_assert_true (gui_test_wait_until (thumbnails_shown, NULL));
      gui_test_paint_frames (GTK_WIDGET (window), 2);
      gui_test_save_screenshot (GTK_WIDGET (window), name);
    }
}

/* ---- Closing during a run -------------------------------------------------- */

static AdwMessageDialog *
find_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (toplevel))
        return ADW_MESSAGE_DIALOG (toplevel);
    }

  return NULL;
}

static gboolean
window_gone (gpointer user_data)
{
  return *(XlWindow **) user_data == NULL;
}

static void
test_close_during_run (void)
{
  XlTrainRunner *runner = xl_train_page_get_runner (xl_window_get_train_page (window));
  g_autofree char *run_dir = NULL;
  g_autofree char *history = NULL;
  AdwMessageDialog *dialog;
  XlWindow *watched = window;

  small_run_settings (200);
  g_action_group_activate_action (G_ACTION_GROUP (window), "start-training", NULL);
  g_assert_true (gui_test_wait_until (first_batch_seen, NULL));
  run_dir = g_strdup (xl_train_runner_get_status (runner)->run_dir);

  /* Closing asks first; keeping on training keeps the window. */
  gtk_window_close (GTK_WINDOW (window));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "cancel");
  g_assert_true (xl_train_runner_get_running (runner));

  gtk_window_close (GTK_WINDOW (window));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  g_object_add_weak_pointer (G_OBJECT (watched), (gpointer *) &watched);
  adw_message_dialog_response (dialog, "stop");

  /* The run stops after its batch, writes its reports, the thread is
   * joined, and then the window closes. */
  g_assert_true (gui_test_wait_until (window_gone, &watched));
  window = NULL;

  history = g_build_filename (run_dir, "history.csv", NULL);
  g_assert_true (g_file_test (history, G_FILE_TEST_IS_REGULAR));
}

/* ---- The demo set ---------------------------------------------------------- */

typedef struct
{
  XlDataset *dataset;
  GError    *error;
  gboolean   done;
} JobResult;

static void
job_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  JobResult *job_result = user_data;

  job_result->dataset = xl_dataset_job_run_finish (XL_DATASET_JOB (object), result,
                                                   &job_result->error);
  job_result->done = TRUE;
}

static gboolean
job_done (gpointer user_data)
{
  return ((JobResult *) user_data)->done;
}

static void
test_demo_job (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "cache", "demo", NULL);
  g_autofree char *marker = g_build_filename (dir, "consolidations.csv", NULL);
  g_autoptr(XlDatasetJob) cancelled = NULL;
  g_autoptr(XlDatasetJob) job = NULL;
  g_autoptr(XlDatasetJob) again = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  JobResult result = { 0 };
  XlSynthConfig config;
  GStatBuf before;
  GStatBuf after;

  /* The app's demo goes to the user's cache. */
  {
    g_autofree char *demo_dir = xl_dataset_job_demo_dir ();

    g_assert_true (g_str_has_prefix (demo_dir, g_get_user_cache_dir ()));
    xl_dataset_job_demo_config (&config);
    g_assert_cmpuint (config.per_class, ==, 150);
    g_assert_cmpuint (config.size, ==, 256);
  }

  xl_synth_config_init (&config);
  config.per_class = 6;
  config.size = 48;
  config.n_threads = 2;

  /* Cancelled: nothing is left where the demo is looked for. */
  cancelled = xl_dataset_job_new_demo (dir, &config);
  g_cancellable_cancel (cancellable);
  xl_dataset_job_run_async (cancelled, cancellable, job_cb, &result);
  g_assert_true (gui_test_wait_until (job_done, &result));
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (result.dataset);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_clear_error (&result.error);

  /* Drawn, then opened, with progress to 100%. */
  memset (&result, 0, sizeof result);
  job = xl_dataset_job_new_demo (dir, &config);
  xl_dataset_job_run_async (job, NULL, job_cb, &result);
  g_assert_true (gui_test_wait_until (job_done, &result));
  g_assert_no_error (result.error);
  g_assert_nonnull (result.dataset);
  g_assert_cmpuint (xl_dataset_n_images (result.dataset), ==, 2 * (6 + 2 + 3));
  g_assert_cmpfloat (xl_dataset_job_get_fraction (job), ==, 1.0);
  g_clear_pointer (&result.dataset, xl_dataset_unref);
  g_assert_cmpint (g_stat (marker, &before), ==, 0);

  /* The second time it is only opened. */
  memset (&result, 0, sizeof result);
  again = xl_dataset_job_new_demo (dir, &config);
  xl_dataset_job_run_async (again, NULL, job_cb, &result);
  g_assert_true (gui_test_wait_until (job_done, &result));
  g_assert_no_error (result.error);
  g_assert_nonnull (result.dataset);
  g_assert_cmpint (g_stat (marker, &after), ==, 0);
  g_assert_cmpint (before.st_mtime, ==, after.st_mtime);
  g_assert_cmpint (before.st_ino, ==, after.st_ino);
  g_clear_pointer (&result.dataset, xl_dataset_unref);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *data_home = NULL;
  g_autofree char *cache_home = NULL;
  int status;

  tmp_root = g_dir_make_tmp ("xl-gui-XXXXXX", NULL);
  data_home = g_build_filename (tmp_root, "data-home", NULL);
  cache_home = g_build_filename (tmp_root, "cache", NULL);
  /* Before GLib reads them: runs and the demo land in the test's folder. */
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  g_setenv ("OPENBLAS_NUM_THREADS", "1", TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  /* Pictures of end states, not of crossfades. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  /* What AdwApplication loads for the app. */
  {
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (css, "/org/xraylab/XRayLab/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }

  make_data ();

  /* In order: each step starts where the one before left the window. */
  g_test_add_func ("/gui/workflow/open-dataset", test_open_dataset);
  g_test_add_func ("/gui/workflow/filters", test_filters);
  g_test_add_func ("/gui/workflow/thumbnails", test_thumbnails);
  g_test_add_func ("/gui/workflow/film-viewer", test_film_viewer);
  g_test_add_func ("/gui/workflow/train-run", test_train_run);
  g_test_add_func ("/gui/workflow/stop-button", test_stop_button);
  g_test_add_func ("/gui/workflow/screenshots", test_screenshots);
  g_test_add_func ("/gui/workflow/close-during-run", test_close_during_run);
  g_test_add_func ("/gui/workflow/demo-job", test_demo_job);

  status = g_test_run ();

  if (status == 0)
    gui_test_remove_tree (tmp_root);
  g_free (data_dir);
  g_free (tmp_root);

  return status;
}
