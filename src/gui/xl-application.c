/* xl-application.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "xl-application.h"
#include "xl-window.h"

/* How many frames the window paints before a screenshot, so that layout,
 * fonts and icons have settled, and how long to wait for them at most. */
#define SCREENSHOT_SETTLE_FRAMES 3
#define SCREENSHOT_TIMEOUT_SECONDS 120

struct _XlApplication
{
  AdwApplication  parent_instance;

  /* --screenshot=FILE, a hidden option for tests and documentation. */
  char           *screenshot_path;
  char           *screenshot_view;
  guint           screenshot_frames;
  guint           screenshot_timeout_id;
  guint           screenshot_failed : 1;

  /* What to open at start, and the hidden options that keep tests small */
  char           *data_path;
  char           *run_path;
  gboolean        demo;
  gboolean        auto_train;
  gboolean        test_options;
  int             train_width;
  int             train_input_size;
  int             train_epochs;
  int             train_batch_size;
};

G_DEFINE_FINAL_TYPE (XlApplication, xl_application, ADW_TYPE_APPLICATION)

static const GOptionEntry main_entries[] = {
  { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open the synthetic demo data set, drawing it the first time"), NULL },
  { "run", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Show a finished run folder in Results and Review"), N_("RUN") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Show the version and exit"), NULL },
  /* Hidden: for tests and documentation */
  { "data", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, NULL,
    N_("Open this data set folder or .zip at start"), N_("PATH") },
  { "screenshot", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, NULL,
    N_("Save a PNG of the window once it has drawn, then quit"), N_("FILE") },
  { "screenshot-view", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, NULL,
    N_("The view to show for --screenshot: data, train, results or review"), N_("VIEW") },
  { "auto-train", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, NULL,
    N_("Start training as soon as the data set is open"), NULL },
  { "train-width", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, NULL,
    N_("The network's stem width (64 is ResNet-18)"), N_("N") },
  { "train-input-size", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, NULL,
    N_("The input size to train at"), N_("PX") },
  { "train-epochs", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, NULL,
    N_("The epochs to train for"), N_("N") },
  { "train-batch-size", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, NULL,
    N_("The batch size to train with"), N_("N") },
  { NULL }
};

XlApplication *
xl_application_new (void)
{
  return g_object_new (XL_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

/**
 * xl_application_get_screenshot_failed:
 *
 * Returns: %TRUE if `--screenshot` was given and no PNG could be written, so
 *   that main() can exit with a failure status.
 */
gboolean
xl_application_get_screenshot_failed (XlApplication *self)
{
  g_return_val_if_fail (XL_IS_APPLICATION (self), FALSE);

  return self->screenshot_failed;
}

static gboolean
save_widget_png (GtkWidget   *widget,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  int width;
  int height;

  g_assert (GTK_IS_WIDGET (widget));
  g_assert (path != NULL);

  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  if (width <= 0 || height <= 0 || renderer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: the window has no size or no renderer yet", path);
      return FALSE;
    }

  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);

  if (!(node = gtk_snapshot_to_node (snapshot)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: the window drew nothing", path);
      return FALSE;
    }

  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: could not write the PNG", path);
      return FALSE;
    }

  return TRUE;
}

static void
xl_application_finish_screenshot (XlApplication *self,
                                  gboolean       failed)
{
  g_assert (XL_IS_APPLICATION (self));

  g_clear_handle_id (&self->screenshot_timeout_id, g_source_remove);
  self->screenshot_failed = !!failed;
  g_application_quit (G_APPLICATION (self));
}

static gboolean
xl_application_take_screenshot_idle (gpointer user_data)
{
  XlApplication *self = user_data;
  g_autoptr(GError) error = NULL;
  GtkWindow *window;

  g_assert (XL_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      g_printerr ("xraylab: --screenshot: no window to capture\n");
      xl_application_finish_screenshot (self, TRUE);
    }
  else if (!save_widget_png (GTK_WIDGET (window), self->screenshot_path, &error))
    {
      g_printerr ("xraylab: --screenshot: %s\n", error->message);
      xl_application_finish_screenshot (self, TRUE);
    }
  else
    {
      xl_application_finish_screenshot (self, FALSE);
    }

  return G_SOURCE_REMOVE;
}

static gboolean
xl_application_screenshot_tick_cb (GtkWidget     *widget,
                                   GdkFrameClock *frame_clock,
                                   gpointer       user_data)
{
  XlApplication *self = user_data;

  g_assert (XL_IS_APPLICATION (self));

  /* A data set being opened, a run going, thumbnails on their way: the
   * picture would show a passing moment. */
  if (XL_IS_WINDOW (widget) && !xl_window_get_settled (XL_WINDOW (widget)))
    {
      self->screenshot_frames = 0;
      return G_SOURCE_CONTINUE;
    }

  if (!gtk_widget_get_mapped (widget) || ++self->screenshot_frames < SCREENSHOT_SETTLE_FRAMES)
    return G_SOURCE_CONTINUE;

  /* Render outside the frame cycle: the snapshot then sees a finished frame. */
  g_idle_add_full (G_PRIORITY_LOW,
                   xl_application_take_screenshot_idle,
                   g_object_ref (self),
                   g_object_unref);

  return G_SOURCE_REMOVE;
}

static gboolean
xl_application_screenshot_timeout_cb (gpointer user_data)
{
  XlApplication *self = user_data;

  g_assert (XL_IS_APPLICATION (self));

  self->screenshot_timeout_id = 0;
  g_printerr ("xraylab: --screenshot: the window did not draw within %d seconds\n",
              SCREENSHOT_TIMEOUT_SECONDS);
  xl_application_finish_screenshot (self, TRUE);

  return G_SOURCE_REMOVE;
}

static int
xl_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  XlApplication *self = (XlApplication *) app;
  const char *screenshot_path = NULL;
  const char *screenshot_view = NULL;
  const char *data_path = NULL;
  const char *run_path = NULL;
  gboolean own_instance = FALSE;

  g_assert (XL_IS_APPLICATION (self));

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("xraylab %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (g_variant_dict_lookup (options, "screenshot", "^&ay", &screenshot_path))
    {
      g_free (self->screenshot_path);
      self->screenshot_path = g_strdup (screenshot_path);
      own_instance = TRUE;
    }

  if (g_variant_dict_lookup (options, "screenshot-view", "&s", &screenshot_view))
    {
      if (g_strv_contains ((const char * const[]) { "data", "train", "results", "review", NULL },
                           screenshot_view) == FALSE)
        {
          g_printerr ("xraylab: --screenshot-view must be data, train, results or review\n");
          return 2;
        }
      g_free (self->screenshot_view);
      self->screenshot_view = g_strdup (screenshot_view);
    }

  if (g_variant_dict_lookup (options, "run", "^&ay", &run_path))
    {
      g_free (self->run_path);
      self->run_path = g_strdup (run_path);
      own_instance = TRUE;
    }

  if (g_variant_dict_lookup (options, "data", "^&ay", &data_path))
    {
      g_free (self->data_path);
      self->data_path = g_strdup (data_path);
      own_instance = TRUE;
    }

  if (g_variant_dict_contains (options, "demo"))
    {
      self->demo = TRUE;
      own_instance = TRUE;
    }

  self->auto_train = g_variant_dict_contains (options, "auto-train");
  g_variant_dict_lookup (options, "train-width", "i", &self->train_width);
  g_variant_dict_lookup (options, "train-input-size", "i", &self->train_input_size);
  g_variant_dict_lookup (options, "train-epochs", "i", &self->train_epochs);
  g_variant_dict_lookup (options, "train-batch-size", "i", &self->train_batch_size);
  self->test_options = self->auto_train || self->train_width > 0 || self->train_input_size > 0
                       || self->train_epochs > 0 || self->train_batch_size > 0
                       || self->screenshot_path != NULL;

  if ((self->train_width != 0 && (self->train_width < 1 || self->train_width > 256))
      || (self->train_input_size != 0 && (self->train_input_size < 32 || self->train_input_size > 1024))
      || self->train_epochs < 0 || self->train_batch_size < 0)
    {
      g_printerr ("xraylab: --train-width must be 1-256 and --train-input-size 32-1024\n");
      return 2;
    }

  /* What this command line asks for (a screenshot, a data set, a test run)
   * must not be handed to an instance already running, which would ignore
   * it; nor may the next start find this one. */
  if (own_instance || self->test_options)
    g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);

  return G_APPLICATION_CLASS (xl_application_parent_class)->handle_local_options (app, options);
}

/* A new window opens what the command line asked for, else the data set
 * opened last, else shows the welcome page. */
static void
xl_application_prepare_window (XlApplication *self,
                               XlWindow      *window)
{
  XlTrainPage *train_page = xl_window_get_train_page (window);
  GSettings *settings = xl_window_get_settings (window);
  g_autofree char *last = NULL;

  /* A test run changes settings through the widgets; the user's stay. */
  if (self->test_options)
    xl_window_set_keep_settings (window, TRUE);

  if (self->train_width > 0)
    xl_train_page_set_width (train_page, (guint) self->train_width);
  if (self->train_input_size > 0)
    xl_train_page_set_input_size (train_page, (guint) self->train_input_size);
  if (self->train_epochs > 0)
    xl_train_page_set_epochs (train_page, (guint) self->train_epochs);
  if (self->train_batch_size > 0)
    xl_train_page_set_batch_size (train_page, (guint) self->train_batch_size);
  if (self->train_width > 0 && self->train_width != 64)
    xl_train_page_set_weights (train_page, NULL);   /* ImageNet's are for width 64 */

  if (self->data_path != NULL)
    xl_window_open_dataset (window, self->data_path);
  else if (self->demo)
    xl_window_open_demo (window);
  else if (settings != NULL && self->screenshot_path == NULL
           && *(last = g_settings_get_string (settings, "last-dataset")) != '\0'
           && g_file_test (last, G_FILE_TEST_EXISTS))
    xl_window_open_dataset (window, last);

  if (self->run_path != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (xl_window_open_run (window, self->run_path, &error))
        xl_window_show_view (window, "results");
      else
        g_printerr ("xraylab: %s\n", error->message);
    }

  if (self->auto_train)
    xl_window_set_auto_train (window, TRUE);

  if (self->screenshot_view != NULL)
    xl_window_show_view (window, self->screenshot_view);
}

static void
xl_application_activate (GApplication *app)
{
  XlApplication *self = (XlApplication *) app;
  GtkWindow *window;

  g_assert (XL_IS_APPLICATION (self));

  if (!(window = gtk_application_get_active_window (GTK_APPLICATION (self))))
    {
      window = GTK_WINDOW (xl_window_new (self));
      xl_application_prepare_window (self, XL_WINDOW (window));
    }

  if (self->screenshot_path != NULL && self->screenshot_timeout_id == 0)
    {
      /* A picture of the end state, not of a crossfade into it. */
      g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

      self->screenshot_frames = 0;
      gtk_widget_add_tick_callback (GTK_WIDGET (window),
                                    xl_application_screenshot_tick_cb,
                                    self, NULL);
      self->screenshot_timeout_id =
        g_timeout_add_seconds (SCREENSHOT_TIMEOUT_SECONDS,
                               xl_application_screenshot_timeout_cb,
                               self);
    }

  gtk_window_present (window);
}

static void
xl_application_quit_action (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  XlApplication *self = user_data;
  g_autoptr(GList) windows = NULL;

  g_assert (XL_IS_APPLICATION (self));

  /* Close rather than quit, so each window gets to save its state. */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (const GList *iter = windows; iter != NULL; iter = iter->next)
    gtk_window_close (iter->data);
}

/* Where the project lives; the metainfo says the same. */
#define PROJECT_WEBSITE "https://xraylab.org/"
#define PROJECT_ISSUES "https://github.com/xraylab/xraylab/issues"

static void
xl_application_about_action (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  XlApplication *self = user_data;
  g_autofree char *data_set = NULL;
  const char *developers[] = { _("X-Ray Lab developers"), NULL };
  const char *data_set_authors[] = { "Daniel S. Kermany", "Kang Zhang", "Michael Goldbaum", NULL };
  const char *network[] = {
    _("ResNet-18: Kaiming He, Xiangyu Zhang, Shaoqing Ren and Jian Sun, "
      "“Deep Residual Learning for Image Recognition”, CVPR 2016"),
    _("ImageNet weights: torchvision https://pytorch.org/vision/"),
    NULL
  };
  GtkWindow *window;
  GtkWidget *about;

  g_assert (XL_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));

  /* Those who use the data set are asked to cite both. */
  data_set = g_strdup_printf ("%s\n\n%s\n\n%s",
                              _("Kermany D, Zhang K, Goldbaum M. Labeled Optical Coherence "
                                "Tomography (OCT) and Chest X-Ray Images for Classification. "
                                "Mendeley Data, v2, 2018. doi:10.17632/rscbjbr9sj.2"),
                              _("Kermany DS, Goldbaum M, Cai W, et al. Identifying Medical "
                                "Diagnoses and Treatable Diseases by Image-Based Deep Learning. "
                                "Cell 172(5):1122–1131, 2018. doi:10.1016/j.cell.2018.02.010"),
                              _("The images are licensed under CC BY 4.0."));

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", window,
                        "modal", window != NULL,
                        "application-name", _("X-Ray Lab"),
                        "application-icon", APP_ID,
                        "developer-name", _("X-Ray Lab developers"),
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "website", PROJECT_WEBSITE,
                        "issue-url", PROJECT_ISSUES,
                        "comments", _("Train a ResNet-18 on chest X-rays, watch it learn, and "
                                      "review every prediction with a heatmap over the film.\n\n"
                                      "A research and teaching tool, not a diagnostic device."),
                        "copyright", _("© 2026 X-Ray Lab developers"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* Translators: your name and email, one translator a line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  adw_about_window_add_credit_section (ADW_ABOUT_WINDOW (about),
                                       _("Chest X-Ray Data Set"),
                                       data_set_authors);
  adw_about_window_add_acknowledgement_section (ADW_ABOUT_WINDOW (about),
                                                _("The Pretrained Network"),
                                                network);
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about),
                                      _("Chest X-Ray Images (Pneumonia)"),
                                      NULL,
                                      GTK_LICENSE_CUSTOM,
                                      data_set);

  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { "quit", xl_application_quit_action },
  { "about", xl_application_about_action },
};

static const struct
{
  const char *action;
  const char *accels[3];
} app_accels[] = {
  { "app.quit", { "<Control>q", NULL } },
  { "win.open", { "<Control>o", NULL } },
  { "win.open-archive", { "<Control><Shift>o", NULL } },
  { "win.start-training", { "<Control>Return", "<Control>KP_Enter", NULL } },
  /* Escape stops too, from the window, when nothing else wants it. */
  { "win.stop-training", { "<Control>period", NULL } },
  { "win.view('data')", { "<Control>1", NULL } },
  { "win.view('train')", { "<Control>2", NULL } },
  { "win.view('results')", { "<Control>3", NULL } },
  { "win.view('review')", { "<Control>4", NULL } },
  { "win.show-help-overlay", { "<Control>question", "F1", NULL } },
};

static void
xl_application_startup (GApplication *app)
{
  XlApplication *self = (XlApplication *) app;

  g_assert (XL_IS_APPLICATION (self));

  G_APPLICATION_CLASS (xl_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions,
                                   G_N_ELEMENTS (app_actions),
                                   self);
  for (guint i = 0; i < G_N_ELEMENTS (app_accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                           app_accels[i].action,
                                           app_accels[i].accels);
}

static void
xl_application_finalize (GObject *object)
{
  XlApplication *self = (XlApplication *) object;

  g_clear_handle_id (&self->screenshot_timeout_id, g_source_remove);
  g_clear_pointer (&self->screenshot_path, g_free);
  g_clear_pointer (&self->screenshot_view, g_free);
  g_clear_pointer (&self->data_path, g_free);
  g_clear_pointer (&self->run_path, g_free);

  G_OBJECT_CLASS (xl_application_parent_class)->finalize (object);
}

static void
xl_application_class_init (XlApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = xl_application_finalize;

  app_class->handle_local_options = xl_application_handle_local_options;
  app_class->startup = xl_application_startup;
  app_class->activate = xl_application_activate;
}

static void
xl_application_init (XlApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), main_entries);
}
