/* test-screenshot.c: runs `xraylab --screenshot` and checks the picture.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <cairo.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gui-test-util.h"
#include "xl-synth.h"

#define APP_TIMEOUT_SECONDS 60

/* A window with text, icons and antialiased edges has hundreds of colours;
 * a blank or single-colour failure has a handful. */
#define MIN_DISTINCT_COLORS 64

/* The most a window frame (resize border) may take from each side. */
#define MAX_FRAME_PIXELS 16

typedef struct
{
  GMainLoop *loop;
  gboolean   timed_out;
} WaitData;

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  WaitData *wait = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  g_main_loop_quit (wait->loop);
}

static gboolean
timeout_cb (gpointer user_data)
{
  WaitData *wait = user_data;

  wait->timed_out = TRUE;
  g_main_loop_quit (wait->loop);

  return G_SOURCE_REMOVE;
}

static void
assert_size_near (int png_size,
                  int window_size)
{
  g_assert_cmpint (png_size, <=, window_size);
  g_assert_cmpint (png_size, >=, window_size - 2 * MAX_FRAME_PIXELS);
}

static guint
count_distinct_colors (cairo_surface_t *surface)
{
  g_autoptr(GHashTable) colors = g_hash_table_new (NULL, NULL);
  const guchar *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);

  for (int y = 0; y < height; y++)
    {
      const guint32 *row = (const guint32 *) (gconstpointer) (data + (gsize) y * stride);

      for (int x = 0; x < width; x++)
        g_hash_table_add (colors, GUINT_TO_POINTER (row[x]));
    }

  return g_hash_table_size (colors);
}

/* Runs the app with args (NULL-terminated) in env; asserts a clean exit. */
static void
run_app (GStrv        env,
         const char **args)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GSubprocess) app = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  WaitData wait = { loop, FALSE };
  guint timeout_id;

  g_subprocess_launcher_set_environ (launcher, env);
  app = g_subprocess_launcher_spawnv (launcher, args, &error);
  g_assert_no_error (error);

  g_subprocess_wait_async (app, NULL, wait_cb, &wait);
  timeout_id = g_timeout_add_seconds (APP_TIMEOUT_SECONDS, timeout_cb, &wait);
  g_main_loop_run (loop);

  if (wait.timed_out)
    {
      g_subprocess_force_exit (app);
      g_subprocess_wait (app, NULL, NULL);
      g_error ("%s did not finish within %d seconds", args[0], APP_TIMEOUT_SECONDS);
    }
  g_source_remove (timeout_id);

  g_assert_true (g_subprocess_get_if_exited (app));
  g_assert_cmpint (g_subprocess_get_exit_status (app), ==, 0);
}

static void
test_screenshot (void)
{
  g_autoptr(GSubprocess) app = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *screenshot_arg = NULL;
  const char *app_path = g_getenv ("XL_APP");
  const char *png_path = g_getenv ("XL_SCREENSHOT");
  WaitData wait = { 0 };
  cairo_surface_t *surface;
  guint timeout_id;
  guint colors;

  g_assert_nonnull (app_path);
  g_assert_nonnull (png_path);

  g_unlink (png_path);
  screenshot_arg = g_strdup_printf ("--screenshot=%s", png_path);

  app = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, app_path, screenshot_arg, NULL);
  g_assert_no_error (error);

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  g_subprocess_wait_async (app, NULL, wait_cb, &wait);
  timeout_id = g_timeout_add_seconds (APP_TIMEOUT_SECONDS, timeout_cb, &wait);
  g_main_loop_run (loop);

  if (wait.timed_out)
    {
      g_subprocess_force_exit (app);
      g_subprocess_wait (app, NULL, NULL);
      g_error ("xraylab --screenshot did not finish within %d seconds", APP_TIMEOUT_SECONDS);
    }
  g_source_remove (timeout_id);

  g_assert_true (g_subprocess_get_if_exited (app));
  g_assert_cmpint (g_subprocess_get_exit_status (app), ==, 0);
  g_assert_true (g_file_test (png_path, G_FILE_TEST_IS_REGULAR));

  surface = cairo_image_surface_create_from_png (png_path);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);

  /* The window opens at the size the settings remember (the schema's
   * defaults: the tests keep settings in memory). That size is the
   * surface's; without a compositor GTK takes its resize borders out of it,
   * so the window itself may come out a few pixels smaller. */
  settings = g_settings_new (APP_ID);
  assert_size_near (cairo_image_surface_get_width (surface),
                    g_settings_get_int (settings, "window-width"));
  assert_size_near (cairo_image_surface_get_height (surface),
                    g_settings_get_int (settings, "window-height"));

  colors = count_distinct_colors (surface);
  g_test_message ("%s: %dx%d, %u distinct colours", png_path,
                  cairo_image_surface_get_width (surface),
                  cairo_image_surface_get_height (surface),
                  colors);
  g_assert_cmpuint (colors, >, MIN_DISTINCT_COLORS);

  cairo_surface_destroy (surface);
}

/* The hidden options a test or a demo script uses: open a data set, train a
 * tiny network on it at once, and picture the Train view when it is done. */
static void
test_auto_train_screenshot (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("xl-screenshot-XXXXXX", NULL);
  g_autofree char *data = g_build_filename (tmp, "chest", NULL);
  g_autofree char *data_home = g_build_filename (tmp, "data-home", NULL);
  g_autofree char *runs = g_build_filename (data_home, "xraylab", "runs", NULL);
  g_autofree char *png = g_build_filename (g_getenv ("G_TEST_BUILDDIR"), "xraylab-train.png", NULL);
  g_autofree char *data_arg = g_strconcat ("--data=", data, NULL);
  g_autofree char *screenshot_arg = g_strconcat ("--screenshot=", png, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_auto(GStrv) env = g_get_environ ();
  const char *args[] = {
    g_getenv ("XL_APP"), data_arg, "--auto-train", "--train-width=8",
    "--train-input-size=64", "--train-epochs=2", "--train-batch-size=8",
    "--screenshot-view=train", screenshot_arg, NULL
  };
  cairo_surface_t *surface;
  const char *run;
  XlSynthConfig config;
  guint colors;

  xl_synth_config_init (&config);
  config.per_class = 12;
  config.size = 72;
  config.n_threads = 2;
  g_assert_true (xl_synth_generate (data, &config, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  env = g_environ_setenv (env, "XDG_DATA_HOME", data_home, TRUE);
  g_unlink (png);
  run_app (env, args);

  /* The run landed in the user's data folder, complete. */
  dir = g_dir_open (runs, 0, &error);
  g_assert_no_error (error);
  run = g_dir_read_name (dir);
  g_assert_nonnull (run);
  {
    g_autofree char *model = g_build_filename (runs, run, "model.safetensors", NULL);
    g_autofree char *history = g_build_filename (runs, run, "history.csv", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true (g_file_test (model, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_get_contents (history, &text, NULL, NULL));
    /* A header and the two epochs asked for */
    lines = g_strsplit (g_strstrip (text), "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 3);
  }

  surface = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  colors = count_distinct_colors (surface);
  g_test_message ("%s: %u distinct colours", png, colors);
  g_assert_cmpuint (colors, >, MIN_DISTINCT_COLORS);
  cairo_surface_destroy (surface);

  /* --run shows that run folder: Results and Review draw it. */
  for (guint v = 0; v < 2; v++)
    {
      const char *view = v == 0 ? "results" : "review";
      g_autofree char *run_arg = g_strconcat ("--run=", runs, G_DIR_SEPARATOR_S, run, NULL);
      g_autofree char *view_arg = g_strconcat ("--screenshot-view=", view, NULL);
      g_autofree char *name = g_strconcat ("xraylab-", view, ".png", NULL);
      g_autofree char *view_png = g_build_filename (g_getenv ("G_TEST_BUILDDIR"), name, NULL);
      g_autofree char *view_screenshot_arg = g_strconcat ("--screenshot=", view_png, NULL);
      const char *view_args[] = { g_getenv ("XL_APP"), run_arg, view_arg, view_screenshot_arg,
                                  NULL };

      g_unlink (view_png);
      run_app (env, view_args);
      surface = cairo_image_surface_create_from_png (view_png);
      g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
      colors = count_distinct_colors (surface);
      g_test_message ("%s: %u distinct colours", view_png, colors);
      g_assert_cmpuint (colors, >, MIN_DISTINCT_COLORS);
      cairo_surface_destroy (surface);
    }

  g_clear_pointer (&dir, g_dir_close);
  gui_test_remove_tree (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gui/screenshot", test_screenshot);
  g_test_add_func ("/gui/screenshot/auto-train", test_auto_train_screenshot);

  return g_test_run ();
}
