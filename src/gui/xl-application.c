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
#define SCREENSHOT_TIMEOUT_SECONDS 30

struct _XlApplication
{
  AdwApplication  parent_instance;

  /* --screenshot=FILE, a hidden option for tests and documentation. */
  char           *screenshot_path;
  guint           screenshot_frames;
  guint           screenshot_timeout_id;
  guint           screenshot_failed : 1;
};

G_DEFINE_FINAL_TYPE (XlApplication, xl_application, ADW_TYPE_APPLICATION)

static const GOptionEntry main_entries[] = {
  { "screenshot", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, NULL,
    N_("Save a PNG of the window once it has drawn, then quit"), N_("FILE") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Show the version and exit"), NULL },
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

      /* A screenshot run must not hand its work to an instance that is
       * already running, nor be found by the next one. */
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }

  return G_APPLICATION_CLASS (xl_application_parent_class)->handle_local_options (app, options);
}

static void
xl_application_activate (GApplication *app)
{
  XlApplication *self = (XlApplication *) app;
  GtkWindow *window;

  g_assert (XL_IS_APPLICATION (self));

  if (!(window = gtk_application_get_active_window (GTK_APPLICATION (self))))
    window = GTK_WINDOW (xl_window_new (self));

  if (self->screenshot_path != NULL && self->screenshot_timeout_id == 0)
    {
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

static void
xl_application_about_action (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  XlApplication *self = user_data;
  g_autofree char *data_set = NULL;
  GtkWindow *window;
  GtkWidget *about;

  g_assert (XL_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));

  data_set = g_strdup_printf ("%s\n\n%s",
                              _("Kermany D, Zhang K, Goldbaum M. Labeled Optical Coherence "
                                "Tomography (OCT) and Chest X-Ray Images for Classification. "
                                "Mendeley Data, v2, 2018. doi:10.17632/rscbjbr9sj.2"),
                              _("The images are licensed under CC BY 4.0."));

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", window,
                        "modal", TRUE,
                        "application-name", _("X-Ray Lab"),
                        "application-icon", APP_ID,
                        "developer-name", _("The X-Ray Lab developers"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Train a ResNet-18 on chest X-rays, watch it learn, and "
                                      "review every prediction with a heatmap over the film.\n\n"
                                      "A research and teaching tool, not a diagnostic device."),
                        "copyright", _("© 2026 The X-Ray Lab developers"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        NULL);
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

static void
xl_application_startup (GApplication *app)
{
  XlApplication *self = (XlApplication *) app;
  static const char *quit_accels[] = { "<Control>q", NULL };

  g_assert (XL_IS_APPLICATION (self));

  G_APPLICATION_CLASS (xl_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions,
                                   G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
}

static void
xl_application_finalize (GObject *object)
{
  XlApplication *self = (XlApplication *) object;

  g_clear_handle_id (&self->screenshot_timeout_id, g_source_remove);
  g_clear_pointer (&self->screenshot_path, g_free);

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
