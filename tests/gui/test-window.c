/* test-window.c: XlWindow's layout, settings and shortcuts, built from its
 * templates.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "nn-resnet.h"
#include "xl-application.h"
#include "xl-parameter-count.h"
#include "xl-renderer.h"
#include "xl-window.h"

static void
test_window_has_four_pages (void)
{
  static const struct
  {
    const char *name;
    const char *title;
  } expected[] = {
    { "data", "Data" },
    { "train", "Train" },
    { "results", "Results" },
    { "review", "Review" },
  };
  g_autoptr(GtkSelectionModel) pages = NULL;
  AdwViewStack *view_stack;
  XlWindow *window;

  window = xl_window_new (NULL);
  view_stack = ADW_VIEW_STACK (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                               XL_TYPE_WINDOW,
                                                               "view_stack"));
  g_assert_true (ADW_IS_VIEW_STACK (view_stack));

  pages = adw_view_stack_get_pages (view_stack);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (pages)), ==, G_N_ELEMENTS (expected));

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      GtkWidget *child = adw_view_stack_page_get_child (page);

      g_assert_cmpstr (adw_view_stack_page_get_name (page), ==, expected[i].name);
      g_assert_cmpstr (adw_view_stack_page_get_title (page), ==, expected[i].title);
      g_assert_nonnull (adw_view_stack_page_get_icon_name (page));

      g_assert_nonnull (child);
    }

  /* Before a model exists, Results and Review say what they will show. */
  g_assert_true (XL_IS_RESULTS_PAGE (adw_view_stack_get_child_by_name (view_stack, "results")));
  g_assert_true (XL_IS_REVIEW_PAGE (adw_view_stack_get_child_by_name (view_stack, "review")));
  g_assert_null (xl_results_page_get_run (xl_window_get_results_page (window)));

  g_assert_true (XL_IS_DATA_PAGE (adw_view_stack_get_child_by_name (view_stack, "data")));
  g_assert_true (XL_IS_TRAIN_PAGE (adw_view_stack_get_child_by_name (view_stack, "train")));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (view_stack), ==, "data");

  /* First start: the welcome page, and nothing to train on yet. */
  g_assert_cmpstr (xl_data_page_get_state (xl_window_get_data_page (window)), ==, "welcome");
  g_assert_false (xl_train_page_get_can_start (xl_window_get_train_page (window)));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "start-training"));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "stop-training"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "open"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "open-demo"));

  /* Ctrl+1..4 go through win.view. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "view", g_variant_new_string ("review"));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (view_stack), ==, "review");

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window_shows_notice (void)
{
  GtkLabel *notice;
  XlWindow *window;

  window = xl_window_new (NULL);
  notice = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                     XL_TYPE_WINDOW,
                                                     "notice"));

  g_assert_true (GTK_IS_LABEL (notice));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (notice)));
  g_assert_nonnull (strstr (gtk_label_get_label (notice), "not for diagnosis"));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window_default_size_from_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  XlWindow *window;
  int width;
  int height;

  g_settings_set_int (settings, "window-width", 800);
  g_settings_set_int (settings, "window-height", 600);

  window = xl_window_new (NULL);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 800);
  g_assert_cmpint (height, ==, 600);
  gtk_window_destroy (GTK_WINDOW (window));

  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

/* The schema's defaults are the PyTorch case study's, as the session's
 * config init gives them: a new user's first run is the case study's. */
static void
test_settings_defaults_are_case_study (void)
{
  XlTrainConfig expected;
  XlTrainConfig config;
  XlWindow *window;

  window = xl_window_new (NULL);
  xl_train_config_init (&expected, XL_TRAIN_FINETUNE);
  xl_train_page_get_config (xl_window_get_train_page (window), -1, &config);

  g_assert_cmpint (config.mode, ==, expected.mode);
  g_assert_cmpuint (config.epochs, ==, expected.epochs);
  g_assert_cmpuint (config.batch_size, ==, expected.batch_size);
  g_assert_cmpuint (config.input_size, ==, expected.input_size);
  g_assert_cmpuint (config.resize, ==, expected.resize);
  g_assert_cmpint (config.optimizer, ==, expected.optimizer);
  g_assert_cmpfloat_with_epsilon (config.lr, expected.lr, 1e-12);
  g_assert_cmpfloat_with_epsilon (config.weight_decay, expected.weight_decay, 1e-12);
  g_assert_cmpint (config.schedule, ==, expected.schedule);
  g_assert_cmpuint (config.step_size, ==, expected.step_size);
  g_assert_cmpfloat_with_epsilon (config.gamma, expected.gamma, 1e-12);
  g_assert_cmpuint (config.patience, ==, expected.patience);
  g_assert_cmpint (config.monitor, ==, expected.monitor);
  g_assert_cmpint (config.class_weighting, ==, expected.class_weighting);
  g_assert_cmpint (config.augment, ==, expected.augment);
  g_assert_cmpuint (config.seed, ==, expected.seed);
  g_assert_cmpuint (config.threads, ==, expected.threads);
  g_assert_null (config.weights_path);   /* none in the test's data folder */
  xl_train_config_clear (&config);

  /* Choosing fixed brings the case study's SGD at 1e-3 with momentum. */
  xl_train_page_set_mode (xl_window_get_train_page (window), XL_TRAIN_FIXED);
  xl_train_config_init (&expected, XL_TRAIN_FIXED);
  xl_train_page_get_config (xl_window_get_train_page (window), 0, &config);
  g_assert_cmpint (config.mode, ==, XL_TRAIN_FIXED);
  g_assert_cmpint (config.optimizer, ==, expected.optimizer);
  g_assert_cmpfloat_with_epsilon (config.lr, expected.lr, 1e-12);
  g_assert_cmpfloat_with_epsilon (config.momentum, expected.momentum, 1e-12);
  xl_train_config_clear (&config);

  /* ... and the choice is kept. */
  {
    g_autoptr(GSettings) settings = g_settings_new (APP_ID);
    g_autofree char *mode = g_settings_get_string (settings, "train-mode");
    g_autofree char *optimizer = g_settings_get_string (settings, "optimizer");

    g_assert_cmpstr (mode, ==, "fixed");
    g_assert_cmpstr (optimizer, ==, "sgd");
    g_settings_reset (settings, "train-mode");
    g_settings_reset (settings, "optimizer");
    g_settings_reset (settings, "learning-rate");
    g_settings_reset (settings, "momentum");
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

/* The count shown as the mode changes, against the network's own count. */
static void
test_parameter_counts (void)
{
  XlTrainPage *page;
  XlWindow *window;
  guint64 total;
  guint64 trainable;

  xl_parameter_count (64, 2, 0, 0, &total, &trainable);
  g_assert_cmpuint (total, ==, 11177538);
  g_assert_cmpuint (trainable, ==, 11177538);
  xl_parameter_count (64, 2, 0, NN_GROUP_FC, &total, &trainable);
  g_assert_cmpuint (trainable, ==, 512 * 2 + 2);

  for (int frozen = 0; frozen < NN_RESNET_GROUPS; frozen++)
    {
      NnResnetConfig config = {
        .num_classes = 2, .width = 8, .batch = 1, .in_h = 32, .in_w = 32,
        .training = false, .threads = 1,
      };
      NnResnet *model = NULL;
      NnError error = { 0 };

      g_assert_cmpint (nn_resnet_new (&model, &config, &error), ==, NN_OK);
      nn_resnet_set_frozen_stages (model, frozen);
      xl_parameter_count (8, 2, 0, frozen, &total, &trainable);
      g_assert_cmpuint (total, ==, nn_resnet_num_parameters (model));
      g_assert_cmpuint (trainable, ==, nn_resnet_num_trainable (model));
      nn_resnet_free (model);
    }

  window = xl_window_new (NULL);
  page = xl_window_get_train_page (window);
  xl_train_page_set_mode (page, XL_TRAIN_FINETUNE);
  g_assert_cmpuint (xl_train_page_get_parameters (page), ==, 11177538);
  g_assert_cmpuint (xl_train_page_get_trainable (page), ==, 11177538);
  xl_train_page_set_mode (page, XL_TRAIN_FIXED);
  g_assert_cmpuint (xl_train_page_get_trainable (page), ==, 1026);
  xl_train_page_set_mode (page, XL_TRAIN_PARTIAL);
  xl_parameter_count (64, 2, 0, 1, NULL, &trainable);
  g_assert_cmpuint (xl_train_page_get_trainable (page), ==, trainable);
  gtk_window_destroy (GTK_WINDOW (window));

  {
    g_autoptr(GSettings) settings = g_settings_new (APP_ID);
    g_settings_reset (settings, "train-mode");
  }
}

/* Start weights are found in the user's xraylab/weights folder. */
static void
test_weights_found (void)
{
  g_autofree char *dir = xl_train_page_weights_dir ();
  g_autofree char *path = g_build_filename (dir, "resnet18-f37072fd.pth", NULL);
  XlWindow *window;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, "not read until a run starts", -1, NULL));

  window = xl_window_new (NULL);
  g_assert_cmpstr (xl_train_page_get_weights (xl_window_get_train_page (window)), ==, path);
  xl_train_page_set_weights (xl_window_get_train_page (window), NULL);
  g_assert_null (xl_train_page_get_weights (xl_window_get_train_page (window)));
  gtk_window_destroy (GTK_WINDOW (window));

  /* "None" was chosen, and is kept over the file found. */
  window = xl_window_new (NULL);
  g_assert_null (xl_train_page_get_weights (xl_window_get_train_page (window)));
  gtk_window_destroy (GTK_WINDOW (window));

  g_remove (path);
  {
    g_autoptr(GSettings) settings = g_settings_new (APP_ID);
    g_settings_reset (settings, "weights-path");
  }
}

static void
test_application_accels (void)
{
  static const struct
  {
    const char *action;
    const char *accel;
  } expected[] = {
    { "win.open", "<Control>o" },
    { "win.start-training", "<Control>Return" },
    { "win.stop-training", "<Control>period" },
    { "win.view('data')", "<Control>1" },
    { "win.view('review')", "<Control>4" },
    { "win.show-help-overlay", "F1" },
    { "app.quit", "<Control>q" },
  };
  g_autoptr(XlApplication) app = xl_application_new ();
  g_autoptr(GError) error = NULL;

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                    expected[i].action);

      g_assert_true (g_strv_contains ((const char * const *) accels, expected[i].accel));
    }

  /* The shortcuts window, from ui/help-overlay.ui, for Ctrl+? and F1. */
  {
    XlWindow *window = xl_window_new (app);

    g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), "show-help-overlay"));
    g_assert_true (GTK_IS_SHORTCUTS_WINDOW (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window))));
    gtk_window_destroy (GTK_WINDOW (window));
  }
}

/* Software OpenGL only: the app asks for Cairo when there is no render node. */
static void
test_renderer_choice (void)
{
  g_autofree char *root = g_dir_make_tmp ("xl-dri-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (root, "missing", NULL);
  g_autofree char *card = g_build_filename (root, "card0", NULL);
  g_autofree char *render = g_build_filename (root, "renderD128", NULL);

  g_assert_cmpstr (xl_renderer_choose (missing), ==, "cairo");
  g_assert_cmpstr (xl_renderer_choose (root), ==, "cairo");
  g_assert_true (g_file_set_contents (card, "", 0, NULL));
  g_assert_cmpstr (xl_renderer_choose (root), ==, "cairo");   /* a display, no GPU to render */
  g_assert_true (g_file_set_contents (render, "", 0, NULL));
  g_assert_null (xl_renderer_choose (root));

  g_remove (render);
  g_remove (card);
  g_rmdir (root);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *data_home = g_dir_make_tmp ("xl-window-XXXXXX", NULL);
  int status;

  /* Before GLib reads the user directories: nothing of the user's is read. */
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();

  g_test_add_func ("/gui/window/has-four-pages", test_window_has_four_pages);
  g_test_add_func ("/gui/window/shows-notice", test_window_shows_notice);
  g_test_add_func ("/gui/window/default-size-from-settings",
                   test_window_default_size_from_settings);
  g_test_add_func ("/gui/window/settings-defaults-are-case-study",
                   test_settings_defaults_are_case_study);
  g_test_add_func ("/gui/window/parameter-counts", test_parameter_counts);
  g_test_add_func ("/gui/window/weights-found", test_weights_found);
  g_test_add_func ("/gui/window/application-accels", test_application_accels);
  g_test_add_func ("/gui/window/renderer-choice", test_renderer_choice);

  status = g_test_run ();

  /* What the tests put there: the weights folder, emptied by its test. */
  {
    g_autofree char *weights = g_build_filename (data_home, "xraylab", "weights", NULL);
    g_autofree char *xraylab = g_build_filename (data_home, "xraylab", NULL);

    g_rmdir (weights);
    g_rmdir (xraylab);
    g_rmdir (data_home);
  }

  return status;
}
