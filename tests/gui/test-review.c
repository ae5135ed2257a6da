/* test-review.c: the Review view, the clinician's worklist, on a tiny run
 * trained here: the list's order and filters against the run's own
 * probabilities, the threshold, a confusion-matrix cell, an opened image
 * predicted and mapped (the heatmap really drawn over the film), the arrow
 * keys, the exported overlay, and pictures of the view.
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

#include "xl-review-page.h"
#include "xl-synth.h"
#include "xl-train-session.h"
#include "gui-test-util.h"
#include "xl-window.h"


static char *tmp_root;
static char *data_dir;
static char *run_dir;
static XlRunFolder *run;
static XlWindow *window;

static XlReviewPage *
page (void)
{
  return xl_window_get_review_page (window);
}

/* The selected film's map is shown and nothing is left on its way. */
static gboolean
review_settled (gpointer user_data)
{
  XlReviewItem *selected = xl_review_page_get_selected (page ());
  XlCamResult *result = xl_review_page_get_result (page ());

  return !xl_review_page_get_busy (page ()) && selected != NULL && result != NULL
         && g_strcmp0 (result->path, xl_review_item_get_path (selected)) == 0
         && result->stage == xl_review_page_get_stage (page ());
}

/* ---- The run ---------------------------------------------------------------- */

static void
make_run (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XlTrainSession) session = NULL;
  XlSynthConfig synth;
  XlTrainConfig cfg;

  data_dir = g_build_filename (tmp_root, "chest", NULL);
  run_dir = g_build_filename (tmp_root, "run", NULL);
  xl_synth_config_init (&synth);
  synth.per_class = 24;       /* test: 12 + 12 films */
  synth.size = 160;
  synth.seed = 11;
  synth.n_threads = 2;
  g_assert_true (xl_synth_generate (data_dir, &synth, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  xl_train_config_init (&cfg, XL_TRAIN_FINETUNE);
  cfg.data_path = g_strdup (data_dir);
  cfg.out_dir = g_strdup (run_dir);
  cfg.width = 8;
  cfg.input_size = 64;
  cfg.resize = 72;
  cfg.batch_size = 16;
  cfg.epochs = 15;
  cfg.lr = 3e-3;
  cfg.schedule = XL_SCHEDULE_COSINE;
  cfg.val_fraction = 0;
  cfg.threads = 2;
  cfg.seed = 5;
  session = xl_train_session_new (&cfg, &error);
  g_assert_no_error (error);
  g_assert_true (xl_train_session_run (session, NULL, NULL, &error));
  g_assert_no_error (error);
  xl_train_config_clear (&cfg);

  run = xl_run_folder_load (run_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (xl_run_folder_count (run, XL_SPLIT_TEST), ==, 24);
}

static double
run_probability (guint row)
{
  return run->probs[(gsize) row * run->info.n_classes + run->info.positive_class];
}

/* What a filter should show, from the run's own numbers. */
static gboolean
expected_in (guint          row,
             XlReviewFilter filter,
             double         threshold)
{
  double p = run_probability (row);
  guint label = run->films[row].label;
  guint positive = run->info.positive_class;
  gboolean flagged = p >= threshold;

  switch (filter)
    {
    case XL_REVIEW_ALL:
      return TRUE;
    case XL_REVIEW_FLAGGED:
      return flagged;
    case XL_REVIEW_NEAR_THRESHOLD:
      return fabs (p - threshold) <= 0.1;
    case XL_REVIEW_FALSE_POSITIVES:
      return label != positive && flagged;
    case XL_REVIEW_FALSE_NEGATIVES:
      return label == positive && !flagged;
    case XL_REVIEW_TRUE_POSITIVES:
      return label == positive && flagged;
    case XL_REVIEW_TRUE_NEGATIVES:
      return label != positive && !flagged;
    default:
      g_assert_not_reached ();
    }
}

/* The list shows exactly the test films the filter asks for. */
static void
assert_filter_shows (XlReviewFilter filter)
{
  GListModel *films = xl_review_page_get_films (page ());
  double threshold = xl_review_page_get_threshold (page ());
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = g_list_model_get_n_items (films);

  for (guint row = 0; row < run->n_films; row++)
    if (run->films[row].split == XL_SPLIT_TEST && expected_in (row, filter, threshold))
      g_hash_table_add (expected, xl_run_folder_film_path (run, row));

  g_test_message ("filter %d at %.3f: %u films", filter, threshold, n);
  g_assert_cmpuint (n, ==, g_hash_table_size (expected));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(XlReviewItem) item = g_list_model_get_item (films, i);

      g_assert_true (g_hash_table_contains (expected, xl_review_item_get_path (item)));
    }
}

/* ---- Tests ------------------------------------------------------------------- */

static void
test_load_run (void)
{
  g_autoptr(GError) error = NULL;
  GListModel *films;
  double previous = INFINITY;

  window = xl_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (xl_window_open_run (window, run_dir, &error));
  g_assert_no_error (error);
  xl_window_show_view (window, "review");
  xl_review_page_set_threshold (page (), 0.5);

  films = xl_review_page_get_films (page ());
  g_assert_cmpuint (g_list_model_get_n_items (films), ==, 24);
  g_assert_cmpuint (g_list_model_get_n_items (xl_review_page_get_all_films (page ())), ==, 24);

  /* Sorted by P(positive), most likely first, each the run's stored one. */
  for (guint i = 0; i < g_list_model_get_n_items (films); i++)
    {
      g_autoptr(XlReviewItem) item = g_list_model_get_item (films, i);
      double p = xl_review_item_get_probability (item);
      gboolean found = FALSE;

      g_assert_cmpfloat (p, <=, previous);
      previous = p;
      for (guint row = 0; row < run->n_films && !found; row++)
        {
          g_autofree char *path = xl_run_folder_film_path (run, row);

          if (g_strcmp0 (path, xl_review_item_get_path (item)) == 0)
            {
              found = TRUE;
              g_assert_cmpint (run->films[row].split, ==, XL_SPLIT_TEST);
              g_assert_cmpfloat (p, ==, run_probability (row));
              g_assert_cmpint (xl_review_item_get_label (item), ==, (int) run->films[row].label);
            }
        }
      g_assert_true (found);
    }

  /* The first film is selected and its map computed off the main loop. */
  g_assert_true (gui_test_wait_until (review_settled, NULL));
  g_assert_cmpuint (gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (films)), ==, 0);
  g_assert_nonnull (xl_film_view_get_image (xl_review_page_get_film_view (page ())));
  g_assert_nonnull (xl_film_view_get_overlay (xl_review_page_get_film_view (page ())));
  g_assert_cmpint (xl_review_page_get_result (page ())->method, ==, XL_CAM_METHOD_CAM);
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  gui_test_save_screenshot (GTK_WIDGET (window), "review");
}

static void
test_filters (void)
{
  for (XlReviewFilter filter = XL_REVIEW_ALL; filter <= XL_REVIEW_TRUE_NEGATIVES; filter++)
    {
      xl_review_page_set_filter (page (), filter);
      g_assert_cmpint (xl_review_page_get_filter (page ()), ==, filter);
      assert_filter_shows (filter);
    }
  xl_review_page_set_filter (page (), XL_REVIEW_ALL);
}

static void
test_threshold (void)
{
  GListModel *films;
  double low;
  double high;
  guint n_low;
  guint n_high;

  /* Thresholds between the films' own probabilities, so the sets differ. */
  xl_review_page_set_filter (page (), XL_REVIEW_ALL);
  films = xl_review_page_get_films (page ());
  {
    g_autoptr(XlReviewItem) a = g_list_model_get_item (films, 5);
    g_autoptr(XlReviewItem) b = g_list_model_get_item (films, 6);
    g_autoptr(XlReviewItem) c = g_list_model_get_item (films, 17);
    g_autoptr(XlReviewItem) d = g_list_model_get_item (films, 18);

    high = (xl_review_item_get_probability (a) + xl_review_item_get_probability (b)) / 2;
    low = (xl_review_item_get_probability (c) + xl_review_item_get_probability (d)) / 2;
  }
  g_assert_cmpfloat (low, <, high);

  xl_review_page_set_filter (page (), XL_REVIEW_FLAGGED);
  xl_review_page_set_threshold (page (), high);
  assert_filter_shows (XL_REVIEW_FLAGGED);
  n_high = g_list_model_get_n_items (films);
  /* The threshold property follows, as the Results view binds it. */
  g_object_set (page (), "threshold", low, NULL);
  g_assert_cmpfloat (xl_review_page_get_threshold (page ()), ==, low);
  assert_filter_shows (XL_REVIEW_FLAGGED);
  n_low = g_list_model_get_n_items (films);
  g_assert_cmpuint (n_high, ==, 6);
  g_assert_cmpuint (n_low, ==, 18);

  /* Every row says what it is predicted at the new threshold. */
  for (guint i = 0; i < g_list_model_get_n_items (films); i++)
    {
      g_autoptr(XlReviewItem) item = g_list_model_get_item (films, i);

      g_assert_cmpint (xl_review_item_get_predicted (item), ==, (int) run->info.positive_class);
    }

  for (XlReviewFilter filter = XL_REVIEW_ALL; filter <= XL_REVIEW_TRUE_NEGATIVES; filter++)
    {
      xl_review_page_set_filter (page (), filter);
      assert_filter_shows (filter);
    }

  xl_review_page_set_threshold (page (), 0.5);
  xl_review_page_set_filter (page (), XL_REVIEW_ALL);
}

static void
test_show_cell (void)
{
  guint positive = run->info.positive_class;
  guint negative = 1 - positive;
  GListModel *films = xl_review_page_get_films (page ());
  guint false_negatives = 0;

  /* Halfway between the 12th and 13th: some positives fall below it. */
  {
    g_autoptr(XlReviewItem) a = NULL;
    g_autoptr(XlReviewItem) b = NULL;

    xl_review_page_set_filter (page (), XL_REVIEW_ALL);
    a = g_list_model_get_item (films, 11);
    b = g_list_model_get_item (films, 12);
    xl_review_page_set_threshold (page (), (xl_review_item_get_probability (a)
                                            + xl_review_item_get_probability (b)) / 2);
  }

  xl_review_page_show_cell (page (), positive, negative);
  g_assert_cmpint (xl_review_page_get_filter (page ()), ==, XL_REVIEW_FALSE_NEGATIVES);
  assert_filter_shows (XL_REVIEW_FALSE_NEGATIVES);
  for (guint row = 0; row < run->n_films; row++)
    if (run->films[row].split == XL_SPLIT_TEST && run->films[row].label == positive
        && run_probability (row) < xl_review_page_get_threshold (page ()))
      false_negatives++;
  g_assert_cmpuint (g_list_model_get_n_items (films), ==, false_negatives);
  g_test_message ("%u false negatives at %.3f", false_negatives,
                  xl_review_page_get_threshold (page ()));
  for (guint i = 0; i < g_list_model_get_n_items (films); i++)
    {
      g_autoptr(XlReviewItem) item = g_list_model_get_item (films, i);

      g_assert_cmpint (xl_review_item_get_label (item), ==, (int) positive);
      g_assert_cmpint (xl_review_item_get_predicted (item), ==, (int) negative);
    }

  xl_review_page_show_cell (page (), negative, positive);
  g_assert_cmpint (xl_review_page_get_filter (page ()), ==, XL_REVIEW_FALSE_POSITIVES);
  assert_filter_shows (XL_REVIEW_FALSE_POSITIVES);
  xl_review_page_show_cell (page (), positive, positive);
  g_assert_cmpint (xl_review_page_get_filter (page ()), ==, XL_REVIEW_TRUE_POSITIVES);
  xl_review_page_show_cell (page (), negative, negative);
  g_assert_cmpint (xl_review_page_get_filter (page ()), ==, XL_REVIEW_TRUE_NEGATIVES);

  xl_review_page_set_threshold (page (), 0.5);
  xl_review_page_set_filter (page (), XL_REVIEW_ALL);
}

static GtkShortcut *
find_shortcut (guint keyval)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (page ()));

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);

          if (GTK_IS_KEYVAL_TRIGGER (trigger)
              && gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == keyval)
            return shortcut;
        }
    }

  return NULL;
}

static void
press (guint keyval)
{
  GtkShortcut *shortcut = find_shortcut (keyval);

  g_assert_nonnull (shortcut);
  g_assert_true (gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0,
                                               GTK_WIDGET (page ()), NULL));
}

static void
test_arrow_keys (void)
{
  GtkSingleSelection *films = GTK_SINGLE_SELECTION (xl_review_page_get_films (page ()));
  XlReviewItem *before;

  xl_review_page_select (page (), 0);
  g_assert_true (gui_test_wait_until (review_settled, NULL));
  before = xl_review_page_get_selected (page ());

  press (GDK_KEY_Down);
  g_assert_cmpuint (gtk_single_selection_get_selected (films), ==, 1);
  g_assert_true (xl_review_page_get_selected (page ()) != before);
  press (GDK_KEY_Down);
  g_assert_cmpuint (gtk_single_selection_get_selected (films), ==, 2);
  press (GDK_KEY_Up);
  g_assert_cmpuint (gtk_single_selection_get_selected (films), ==, 1);
  g_assert_true (gui_test_wait_until (review_settled, NULL));
  press (GDK_KEY_Up);
  press (GDK_KEY_Up);   /* the top stays the top */
  g_assert_cmpuint (gtk_single_selection_get_selected (films), ==, 0);
  g_assert_true (xl_review_page_get_selected (page ()) == before);
  g_assert_true (gui_test_wait_until (review_settled, NULL));

  /* Ctrl+I is there too (it opens a file chooser: not pressed here). */
  g_assert_nonnull (find_shortcut (GDK_KEY_i));
}

static void
test_layers (void)
{
  XlCamResult *result;

  xl_review_page_set_stage (page (), 3);
  g_assert_true (gui_test_wait_until (review_settled, NULL));
  result = xl_review_page_get_result (page ());
  g_assert_cmpint (result->stage, ==, 3);
  g_assert_cmpint (result->method, ==, XL_CAM_METHOD_GRAD_CAM);
  xl_review_page_set_stage (page (), 2);
  g_assert_true (gui_test_wait_until (review_settled, NULL));
  g_assert_cmpint (xl_review_page_get_result (page ())->stage, ==, 2);
  xl_review_page_set_stage (page (), 4);
  g_assert_true (gui_test_wait_until (review_settled, NULL));
  g_assert_cmpint (xl_review_page_get_result (page ())->method, ==, XL_CAM_METHOD_CAM);
}

static gboolean
opened_predicted (gpointer user_data)
{
  XlReviewItem *item = user_data;

  return !isnan (xl_review_item_get_probability (item)) && review_settled (NULL);
}

static void
test_open_image (void)
{
  g_autofree char *source = NULL;
  g_autofree char *opened = g_build_filename (tmp_root, "opened film.jpeg", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (opened);
  g_autoptr(GdkTexture) with_heat = NULL;
  g_autoptr(GdkTexture) without_heat = NULL;
  g_autofree guint32 *on = NULL;
  g_autofree guint32 *off = NULL;
  XlFilmView *view = xl_review_page_get_film_view (page ());
  XlReviewItem *item;
  XlCamResult *result;
  graphene_rect_t rect;
  double zoom;
  guint n_before = g_list_model_get_n_items (xl_review_page_get_all_films (page ()));
  guint differ = 0;
  guint compared_outside = 0;
  gsize len;
  int width;
  int height;
  int crop_left;
  int crop_right;

  /* A generated JPEG that is not one of the run's: a PNEUMONIA film of
   * train, under a name of its own. */
  for (guint row = 0; row < 1 && source == NULL; row++)
    {
      g_autofree char *dir = g_build_filename (data_dir, "train", "PNEUMONIA", NULL);
      g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      g_assert_nonnull (d);
      while ((name = g_dir_read_name (d)) != NULL && source == NULL)
        if (g_str_has_suffix (name, ".jpeg"))
          source = g_build_filename (dir, name, NULL);
    }
  g_assert_nonnull (source);
  g_assert_true (g_file_get_contents (source, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (opened, contents, (gssize) len, NULL));

  xl_review_page_set_filter (page (), XL_REVIEW_FALSE_NEGATIVES);
  xl_review_page_open_files (page (), &file, 1);

  /* Listed at once, shown whatever the filter was, selected, predicted. */
  g_assert_cmpint (xl_review_page_get_filter (page ()), ==, XL_REVIEW_ALL);
  g_assert_cmpuint (g_list_model_get_n_items (xl_review_page_get_all_films (page ())), ==,
                    n_before + 1);
  item = xl_review_page_get_selected (page ());
  g_assert_nonnull (item);
  g_assert_cmpstr (xl_review_item_get_path (item), ==, opened);
  g_assert_true (xl_review_item_get_opened (item));
  g_assert_cmpint (xl_review_item_get_label (item), ==, -1);
  g_assert_true (gui_test_wait_until (opened_predicted, item));
  g_assert_true (xl_review_page_get_selected (page ()) == item);

  result = xl_review_page_get_result (page ());
  g_assert_cmpstr (result->path, ==, opened);
  /* Its probability is the model's, as `xraylab-cli predict` gives it. */
  g_assert_cmpfloat (xl_review_item_get_probability (item), ==,
                     result->probs[run->info.positive_class]);
  g_assert_cmpint (xl_review_item_get_predicted (item), ==,
                   xl_review_item_get_probability (item) >= 0.5 ? 1 : 0);
  g_assert_cmpfloat (result->map_max, >, 0);
  g_test_message ("opened image: P = %.4f, map peak %.4f, film %ux%u, crop %.1f,%.1f %.1fx%.1f",
                  xl_review_item_get_probability (item), result->map_max,
                  result->film->width, result->film->height, result->crop_x, result->crop_y,
                  result->crop_width, result->crop_height);

  /* The heatmap is drawn over the film: the same view with it on and off. */
  xl_review_page_set_opacity (page (), 0.6);
  xl_review_page_set_heatmap_visible (page (), TRUE);
  gui_test_paint_frames (GTK_WIDGET (window), 2);
  g_assert_nonnull (xl_film_view_get_overlay (view));
  with_heat = gui_test_render (GTK_WIDGET (view));
  xl_review_page_set_heatmap_visible (page (), FALSE);
  gui_test_paint_frames (GTK_WIDGET (window), 2);
  g_assert_null (xl_film_view_get_overlay (view));
  without_heat = gui_test_render (GTK_WIDGET (view));
  xl_review_page_set_heatmap_visible (page (), TRUE);

  width = gdk_texture_get_width (with_heat);
  height = gdk_texture_get_height (with_heat);
  g_assert_cmpint (gdk_texture_get_width (without_heat), ==, width);
  on = gui_test_download (with_heat);
  off = gui_test_download (without_heat);
  for (gsize i = 0; i < (gsize) width * height; i++)
    differ += on[i] != off[i];
  g_test_message ("%u of %d pixels differ with the heatmap on", differ, width * height);
  g_assert_cmpuint (differ, >, (guint) (width * height / 20));

  /* Outside the crop the network saw, nothing is coloured: the film's left
   * and right strips (the synthetic films are wider than tall) match. */
  g_assert_true (xl_film_view_get_film_rect (view, &rect));
  zoom = xl_film_view_get_zoom (view);
  crop_left = (int) floor (rect.origin.x + result->crop_x * zoom) - 2;
  crop_right = (int) ceil (rect.origin.x + (result->crop_x + result->crop_width) * zoom) + 2;
  g_assert_cmpint (crop_left, >, (int) rect.origin.x + 2);
  for (int y = MAX (0, (int) rect.origin.y + 1);
       y < MIN (height, (int) (rect.origin.y + rect.size.height) - 1); y++)
    for (int x = MAX (0, (int) rect.origin.x + 1); x < width; x++)
      {
        if (x >= crop_left && x <= crop_right)
          continue;
        if (x >= (int) (rect.origin.x + rect.size.width) - 1)
          break;
        g_assert_cmphex (on[(gsize) y * width + x], ==, off[(gsize) y * width + x]);
        compared_outside++;
      }
  g_test_message ("%u pixels outside the crop compared: identical", compared_outside);
  g_assert_cmpuint (compared_outside, >, 100);

  gui_test_paint_frames (GTK_WIDGET (window), 2);
  gui_test_save_screenshot (GTK_WIDGET (window), "review-opened-image");
}

static void
test_export (void)
{
  g_autofree char *path = g_build_filename (tmp_root, "overlay.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guint32 *pixels = NULL;
  XlCamResult *result = xl_review_page_get_result (page ());
  guint colored = 0;
  int width;
  int height;

  g_assert_nonnull (result);
  xl_review_page_set_colormap (page (), XL_COLORMAP_INFERNO);
  g_assert_true (xl_review_page_export_overlay (page (), path, &error));
  g_assert_no_error (error);

  texture = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);
  g_test_message ("exported %s: %dx%d for a %ux%u film", path, width, height,
                  result->film->width, result->film->height);
  /* At least the film's resolution (small films are enlarged to be read). */
  g_assert_cmpint (width, >=, (int) result->film->width);
  g_assert_cmpint (height, >=, (int) result->film->height);

  pixels = gui_test_download (texture);
  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      int r = (pixels[i] >> 16) & 0xff;
      int g = (pixels[i] >> 8) & 0xff;
      int b = pixels[i] & 0xff;

      colored += MAX (MAX (abs (r - g), abs (g - b)), abs (r - b)) > 40;
    }
  g_test_message ("%u coloured pixels", colored);
  g_assert_cmpuint (colored, >, (guint) (width * height / 50));
  g_assert_cmpuint (gui_test_count_distinct_colors (texture), >, GUI_TEST_MIN_DISTINCT_COLORS);

  xl_review_page_set_colormap (page (), XL_COLORMAP_TURBO);
  {
    g_autofree char *copy = g_test_build_filename (G_TEST_BUILT, "screenshots",
                                                   "review-export.png", NULL);
    g_autofree char *bytes = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
    g_assert_true (g_file_set_contents (copy, bytes, (gssize) len, NULL));
  }
}

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

/* A film of Kermany's size: decoded, predicted and mapped while the window
 * keeps drawing; the heat is capped, the film shown at full resolution. */
static void
test_large_film (void)
{
  g_autofree char *source = g_build_filename (tmp_root, "opened film.jpeg", NULL);
  g_autofree char *large = g_build_filename (tmp_root, "large.jpeg", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (large);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) scaled = NULL;
  g_autoptr(GError) error = NULL;
  GapProbe probe = { 0 };
  XlCamResult *result;
  XlReviewItem *item;
  guint probe_id;
  int width;
  int height;

  pixbuf = gdk_pixbuf_new_from_file (source, &error);
  g_assert_no_error (error);
  width = gdk_pixbuf_get_width (pixbuf) * 14;
  height = gdk_pixbuf_get_height (pixbuf) * 14;
  scaled = gdk_pixbuf_scale_simple (pixbuf, width, height, GDK_INTERP_BILINEAR);
  g_assert_true (gdk_pixbuf_save (scaled, large, "jpeg", &error, "quality", "90", NULL));
  g_assert_no_error (error);

  probe_id = g_timeout_add (10, gap_probe_cb, &probe);
  xl_review_page_open_files (page (), &file, 1);
  item = xl_review_page_get_selected (page ());
  g_assert_cmpstr (xl_review_item_get_path (item), ==, large);
  g_assert_true (gui_test_wait_until (opened_predicted, item));
  gui_test_paint_frames (GTK_WIDGET (window), 3);
  g_source_remove (probe_id);

  result = xl_review_page_get_result (page ());
  g_assert_cmpuint (result->film->width, ==, (guint) width);
  g_assert_cmpuint (result->film->height, ==, (guint) height);
  g_assert_cmpuint (MAX (result->heat_width, result->heat_height), <=, 1024);
  g_test_message ("a %dx%d film: heat %ux%u, the main loop's longest gap %.0f ms", width, height,
                  result->heat_width, result->heat_height, probe.max_gap / 1000.0);
  /* A frame or two of a 5-megapixel texture, never the network's time. */
  g_assert_cmpint (probe.max_gap, <, 1500 * 1000);
  gui_test_save_screenshot (GTK_WIDGET (window), "review-large-film");
}

static void
test_model_only (void)
{
  g_autofree char *model = g_build_filename (run_dir, "model.safetensors", NULL);
  g_autofree char *opened = g_build_filename (tmp_root, "opened film.jpeg", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (opened);
  g_autoptr(GError) error = NULL;
  GtkStack *stack = GTK_STACK (gtk_widget_get_template_child (GTK_WIDGET (page ()),
                                                              XL_TYPE_REVIEW_PAGE, "stack"));
  XlReviewItem *item;

  /* No run and no model: the image waits for one, and the page says so. */
  xl_review_page_set_run (page (), NULL);
  g_assert_null (xl_review_page_get_model (page ()));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "empty");
  xl_review_page_open_files (page (), &file, 1);
  g_assert_cmpuint (g_list_model_get_n_items (xl_review_page_get_all_films (page ())), ==, 0);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page ()),
                                                                                    XL_TYPE_REVIEW_PAGE,
                                                                                    "empty_message"))));
  gui_test_paint_frames (GTK_WIDGET (window), 2);
  gui_test_save_screenshot (GTK_WIDGET (window), "review-no-model");

  /* "Open Model…": the waiting image is predicted with it. */
  g_assert_true (xl_review_page_set_model (page (), model, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "review");
  g_assert_cmpuint (g_list_model_get_n_items (xl_review_page_get_all_films (page ())), ==, 1);
  item = xl_review_page_get_selected (page ());
  g_assert_nonnull (item);
  g_assert_true (gui_test_wait_until (opened_predicted, item));

  /* Not a model: an error that names the file, and nothing changes. */
  g_assert_false (xl_review_page_set_model (page (), opened, &error));
  g_assert_nonnull (error);
  g_test_message ("a JPEG as a model: %s", error->message);
  g_assert_nonnull (xl_review_page_get_model (page ()));
}

static void
test_close (void)
{
  gtk_window_destroy (GTK_WINDOW (window));
  window = NULL;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *data_home = NULL;
  g_autofree char *cache_home = NULL;
  int status;

  tmp_root = g_dir_make_tmp ("xl-review-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  data_home = g_build_filename (tmp_root, "data-home", NULL);
  cache_home = g_build_filename (tmp_root, "cache", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);

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

  make_run ();

  /* In order: each step starts where the one before left the window. */
  g_test_add_func ("/gui/review/load-run", test_load_run);
  g_test_add_func ("/gui/review/filters", test_filters);
  g_test_add_func ("/gui/review/threshold", test_threshold);
  g_test_add_func ("/gui/review/show-cell", test_show_cell);
  g_test_add_func ("/gui/review/arrow-keys", test_arrow_keys);
  g_test_add_func ("/gui/review/layers", test_layers);
  g_test_add_func ("/gui/review/open-image", test_open_image);
  g_test_add_func ("/gui/review/export", test_export);
  g_test_add_func ("/gui/review/large-film", test_large_film);
  g_test_add_func ("/gui/review/model-only", test_model_only);
  g_test_add_func ("/gui/review/close", test_close);

  status = g_test_run ();

  g_clear_pointer (&run, xl_run_folder_unref);
  if (status == 0)
    gui_test_remove_tree (tmp_root);
  g_free (data_dir);
  g_free (run_dir);
  g_free (tmp_root);

  return status;
}
