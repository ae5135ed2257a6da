/* probe-frames.c: frame times of the real window while it trains with a
 * thousand thumbnails on screen and the grid scrolling. Not a test: a
 * measurement to run by hand on a large data set (see --help).
 *
 *   xvfb-run -s "-screen 0 2560x1600x24" \
 *     env GSETTINGS_SCHEMA_DIR=_build/data GSETTINGS_BACKEND=memory \
 *     _build/tests/gui/probe-frames DATA_DIR OUT_DIR [SECONDS]
 *
 * It opens DATA_DIR, saves pictures of the data view and of one film in the
 * viewer into OUT_DIR, starts a fine-tuning run with the case study's
 * settings, waits for its first batch, then scrolls the film grid a few
 * pixels every frame for SECONDS (default 30) while recording, from the
 * GdkFrameClock, the interval between frames ("after-paint" to
 * "after-paint") and the time each frame took (from "before-paint" through
 * layout and paint to "after-paint"), and prints their distribution.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <time.h>

#include <adwaita.h>

#include "gui-test-util.h"
#include "xl-data-page.h"
#include "xl-film-viewer.h"
#include "xl-thumbnail-cell.h"
#include "xl-window.h"

#define SCROLL_PIXELS_PER_FRAME 8.0
#define FRAME_BUDGET_US 50000

typedef struct
{
  GArray   *intervals;      /* gint64 µs between after-paints */
  GArray   *frame_times;    /* gint64 µs from before-paint to after-paint */
  GArray   *cpu_times;      /* double ms of main-thread CPU in that span */
  GArray   *layout_times;   /* gint64 µs from before-paint to the end of layout */
  GArray   *paint_times;    /* gint64 µs from the end of layout to the end of paint */
  gint64    layout_end;
  gint64    last_after;
  gint64    before;
  double    cpu_before;
  gboolean  recording;
  guint     cells_sum;      /* visible cells, summed over the sampled frames */
  guint     shown_sum;      /* of those, with their thumbnail */
  guint     samples;
  guint     max_visible;
} Stats;

static XlWindow *window;
static Stats stats;

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);

  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static gboolean
never (gpointer user_data)
{
  return FALSE;
}

/* Runs the main loop for that long. */
static void
run_for (double seconds)
{
  gui_test_wait_until_for (never, NULL, seconds);
}

static gboolean
not_busy (gpointer user_data)
{
  return !xl_window_get_busy (window);
}

static gboolean
thumbnails_idle (gpointer user_data)
{
  XlThumbnailLoader *loader = xl_data_page_get_loader (xl_window_get_data_page (window));

  return loader != NULL && xl_thumbnail_loader_get_n_pending (loader) == 0
         && xl_thumbnail_loader_get_n_decoded (loader) > 0;
}

static gboolean
training (gpointer user_data)
{
  XlTrainRunner *runner = xl_train_page_get_runner (xl_window_get_train_page (window));
  const XlTrainStatus *status = xl_train_runner_get_status (runner);

  return status->training || !status->running;
}

static void
save_png (GtkWidget  *widget,
          const char *path)
{
  g_autoptr(GdkTexture) texture = gui_test_render (widget);

  if (!gdk_texture_save_to_png (texture, path))
    g_printerr ("could not write %s\n", path);
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

/* Cells inside the scrolled window's viewport, and how many show their film. */
static void
count_visible (guint *visible,
               guint *shown)
{
  GtkWidget *grid = GTK_WIDGET (xl_data_page_get_grid_view (xl_window_get_data_page (window)));
  GtkWidget *scroller = gtk_widget_get_parent (grid);
  g_autoptr(GPtrArray) cells = g_ptr_array_new ();
  double height = gtk_widget_get_height (scroller);

  *visible = *shown = 0;
  collect_cells (grid, cells);
  for (guint i = 0; i < cells->len; i++)
    {
      graphene_rect_t bounds;

      if (xl_thumbnail_cell_get_item (cells->pdata[i]) == NULL
          || !gtk_widget_get_mapped (cells->pdata[i])
          || !gtk_widget_compute_bounds (cells->pdata[i], scroller, &bounds)
          || bounds.origin.y + bounds.size.height <= 0 || bounds.origin.y >= height)
        continue;
      (*visible)++;
      if (xl_thumbnail_cell_has_thumbnail (cells->pdata[i]))
        (*shown)++;
    }
}

static void
before_paint_cb (GdkFrameClock *clock,
                 gpointer       user_data)
{
  stats.before = g_get_monotonic_time ();
  stats.cpu_before = thread_cpu_ms ();
}

/* Connected after the window's own handlers: these run when GTK's layout
 * and paint of the frame are done. */
static void
layout_done_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  stats.layout_end = g_get_monotonic_time ();
}

static void
paint_done_cb (GdkFrameClock *clock,
               gpointer       user_data)
{
  if (stats.recording)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 layout = stats.layout_end - stats.before;
      gint64 paint = now - stats.layout_end;

      g_array_append_val (stats.layout_times, layout);
      g_array_append_val (stats.paint_times, paint);
    }
}

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  gint64 now = g_get_monotonic_time ();

  if (stats.recording)
    {
      gint64 frame_time = now - stats.before;
      double cpu = thread_cpu_ms () - stats.cpu_before;

      if (stats.last_after > 0)
        {
          gint64 interval = now - stats.last_after;

          g_array_append_val (stats.intervals, interval);
        }
      g_array_append_val (stats.frame_times, frame_time);
      g_array_append_val (stats.cpu_times, cpu);
    }
  stats.last_after = now;
}

static gboolean
scroll_tick_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  GtkAdjustment *adjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (widget));
  double value = gtk_adjustment_get_value (adjustment) + SCROLL_PIXELS_PER_FRAME;
  guint visible;
  guint shown;

  if (value > gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment))
    value = 0;
  gtk_adjustment_set_value (adjustment, value);

  /* Now and then (walking a thousand cells costs a millisecond or two):
   * how full the screen is, and with how many films. */
  if (stats.recording && g_random_int_range (0, 30) == 0)
    {
      count_visible (&visible, &shown);
      stats.cells_sum += visible;
      stats.shown_sum += shown;
      stats.samples++;
      stats.max_visible = MAX (stats.max_visible, visible);
    }

  return G_SOURCE_CONTINUE;
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
print_distribution (const char *what,
                    GArray     *values)
{
  guint n = values->len;
  guint over = 0;

  if (n == 0)
    {
      g_print ("%s: no frames\n", what);
      return;
    }

  g_array_sort (values, compare_int64);
  for (guint i = 0; i < n; i++)
    if (g_array_index (values, gint64, i) > FRAME_BUDGET_US)
      over++;

#define AT(q) (g_array_index (values, gint64, MIN (n - 1, (guint) ((q) * n))) / 1000.0)
  g_print ("%s: %u frames; median %.1f ms, p90 %.1f, p99 %.1f, max %.1f; over 50 ms: %u\n",
           what, n, AT (0.5), AT (0.9), AT (0.99), g_array_index (values, gint64, n - 1) / 1000.0, over);
#undef AT
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *data_home = g_dir_make_tmp ("xl-probe-XXXXXX", NULL);
  g_autofree char *data_png = NULL;
  g_autofree char *viewer_png = NULL;
  g_autofree char *train_png = NULL;
  XlFilmViewer *viewer;
  XlTrainRunner *runner;
  GdkFrameClock *clock;
  GtkWidget *grid;
  const char *data_dir;
  const char *out_dir;
  double seconds = 30;
  double cpu_sum = 0;
  guint tick_id;

  if (argc < 3 || g_str_equal (argv[1], "--help"))
    {
      g_printerr ("usage: %s DATA_DIR OUT_DIR [SECONDS]\n", argv[0]);
      return argc < 3 ? 2 : 0;
    }
  data_dir = argv[1];
  out_dir = argv[2];
  if (argc > 3)
    seconds = g_ascii_strtod (argv[3], NULL);

  /* The run's folder goes to a temporary data folder, not the user's. */
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  gtk_init ();
  adw_init ();
  {
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (css, "/org/xraylab/XRayLab/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }
  g_mkdir_with_parents (out_dir, 0755);

  stats.intervals = g_array_new (FALSE, FALSE, sizeof (gint64));
  stats.frame_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  stats.cpu_times = g_array_new (FALSE, FALSE, sizeof (double));
  stats.layout_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  stats.paint_times = g_array_new (FALSE, FALSE, sizeof (gint64));

  /* 1. Real films in the grid and in the viewer, at the default size. */
  window = xl_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  gtk_window_present (GTK_WINDOW (window));
  xl_window_open_dataset (window, data_dir);
  if (!gui_test_wait_until_for (not_busy, NULL, 300) || xl_data_page_get_dataset (xl_window_get_data_page (window)) == NULL)
    {
      g_printerr ("%s: could not open the data set\n", data_dir);
      return 1;
    }
  g_print ("%s: %u films\n", data_dir,
           xl_dataset_n_images (xl_data_page_get_dataset (xl_window_get_data_page (window))));
  run_for (0.5);
  gui_test_wait_until_for (thumbnails_idle, NULL, 60);
  run_for (0.5);
  data_png = g_build_filename (out_dir, "data-view.png", NULL);
  save_png (GTK_WIDGET (window), data_png);

  viewer = XL_FILM_VIEWER (xl_data_page_open_film (xl_window_get_data_page (window), 0));
  gtk_window_set_default_size (GTK_WINDOW (viewer), 1000, 800);
  run_for (2.0);
  xl_film_view_set_zoom_at (xl_film_viewer_get_view (viewer), 0.6, 300, 300);
  xl_film_view_set_window (xl_film_viewer_get_view (viewer), 150);
  xl_film_view_set_level (xl_film_viewer_get_view (viewer), 110);
  run_for (0.5);
  viewer_png = g_build_filename (out_dir, "film-viewer.png", NULL);
  save_png (GTK_WIDGET (viewer), viewer_png);
  gtk_window_destroy (GTK_WINDOW (viewer));

  /* 2. A big window with the smallest thumbnails: a thousand on screen. */
  gtk_window_set_default_size (GTK_WINDOW (window), 2500, 1500);
  xl_data_page_set_thumbnail_size (xl_window_get_data_page (window), XL_DATA_PAGE_MIN_THUMBNAIL);
  run_for (1.0);
  gui_test_wait_until_for (thumbnails_idle, NULL, 60);

  /* 3. Train with the case study's settings, and wait for the first batch
   *    (the films are decoded first). */
  g_action_group_activate_action (G_ACTION_GROUP (window), "start-training", NULL);
  xl_window_show_view (window, "data");
  runner = xl_train_page_get_runner (xl_window_get_train_page (window));
  if (!xl_train_runner_get_running (runner))
    {
      g_printerr ("the run did not start\n");
      return 1;
    }
  g_print ("training: waiting for the first batch…\n");
  gui_test_wait_until_for (training, NULL, 900);
  g_print ("training: %s\n", xl_train_runner_get_status (runner)->error
           ? xl_train_runner_get_status (runner)->error : "first batch done");

  /* 4. Scroll and record. */
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), NULL);
  g_signal_connect (clock, "layout", G_CALLBACK (layout_done_cb), NULL);
  g_signal_connect (clock, "paint", G_CALLBACK (paint_done_cb), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), NULL);
  grid = GTK_WIDGET (xl_data_page_get_grid_view (xl_window_get_data_page (window)));
  tick_id = gtk_widget_add_tick_callback (grid, scroll_tick_cb, NULL, NULL);
  stats.recording = TRUE;
  run_for (seconds);
  stats.recording = FALSE;
  gtk_widget_remove_tick_callback (grid, tick_id);

  for (guint i = 0; i < stats.cpu_times->len; i++)
    cpu_sum += g_array_index (stats.cpu_times, double, i);

  {
    const XlTrainStatus *status = xl_train_runner_get_status (runner);

    g_print ("renderer: %s; window %dx%d; thumbnails %d px\n",
             G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))),
             gtk_widget_get_width (GTK_WIDGET (window)), gtk_widget_get_height (GTK_WIDGET (window)),
             xl_data_page_get_thumbnail_size (xl_window_get_data_page (window)));
    g_print ("on screen: %.0f cells on average (at most %u), %.1f%% of them showing their film\n",
             stats.samples ? (double) stats.cells_sum / stats.samples : 0.0, stats.max_visible,
             stats.cells_sum ? 100.0 * stats.shown_sum / stats.cells_sum : 0.0);
    g_print ("training meanwhile: epoch %u, batch %u of %u, %.1f images/s, %u batch events in %u updates\n",
             status->epoch, status->batch, status->batches, status->images_per_second,
             status->n_batch_events, status->n_flushes);
  }
  g_print ("data view, scrolling, %.0f s:\n", seconds);
  print_distribution ("interval between frames", stats.intervals);
  print_distribution ("frame time (before-paint to after-paint)", stats.frame_times);
  print_distribution ("  of which update and layout", stats.layout_times);
  print_distribution ("  of which paint (snapshot and render)", stats.paint_times);
  g_print ("main-thread CPU per frame: %.1f ms on average\n",
           stats.cpu_times->len ? cpu_sum / stats.cpu_times->len : 0.0);
  {
    /* CPU time does not count waiting for a core: what the frame itself costs. */
    g_autoptr(GArray) cpu = g_array_new (FALSE, FALSE, sizeof (gint64));

    for (guint i = 0; i < stats.cpu_times->len; i++)
      {
        gint64 us = (gint64) (g_array_index (stats.cpu_times, double, i) * 1000);

        g_array_append_val (cpu, us);
      }
    print_distribution ("main-thread CPU time per frame", cpu);
  }

  /* 5. The Train view while it trains: the charts and the log move. */
  g_array_set_size (stats.intervals, 0);
  g_array_set_size (stats.frame_times, 0);
  g_array_set_size (stats.layout_times, 0);
  g_array_set_size (stats.paint_times, 0);
  xl_window_show_view (window, "train");
  run_for (1.0);
  stats.last_after = 0;
  stats.recording = TRUE;
  run_for (seconds / 2);
  stats.recording = FALSE;
  g_print ("train view, %.0f s:\n", seconds / 2);
  print_distribution ("frame time (before-paint to after-paint)", stats.frame_times);
  print_distribution ("  of which update and layout", stats.layout_times);
  print_distribution ("  of which paint (snapshot and render)", stats.paint_times);

  train_png = g_build_filename (out_dir, "train-view-large.png", NULL);
  save_png (GTK_WIDGET (window), train_png);

  /* Closing stops the run and waits for its thread. */
  xl_train_runner_stop_and_wait (runner);
  gtk_window_destroy (GTK_WINDOW (window));

  return 0;
}
