/* xl-window.c
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

#include "xl-window.h"

struct _XlWindow
{
  AdwApplicationWindow  parent_instance;

  /* NULL when the schema is not installed (an uninstalled build run
   * without GSETTINGS_SCHEMA_DIR): the window then keeps no state. */
  GSettings            *settings;

  /* Template widgets */
  AdwViewStack         *view_stack;
  AdwViewSwitcherTitle *switcher_title;
  GtkLabel             *notice;
};

G_DEFINE_FINAL_TYPE (XlWindow, xl_window, ADW_TYPE_APPLICATION_WINDOW)

XlWindow *
xl_window_new (XlApplication *application)
{
  g_return_val_if_fail (!application || XL_IS_APPLICATION (application), NULL);

  return g_object_new (XL_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

static GSettings *
lookup_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source == NULL || !(schema = g_settings_schema_source_lookup (source, APP_ID, TRUE)))
    return NULL;

  return g_settings_new_full (schema, NULL, NULL);
}

static void
xl_window_load_state (XlWindow *self)
{
  int width;
  int height;

  g_assert (XL_IS_WINDOW (self));

  if (self->settings == NULL)
    return;

  width = g_settings_get_int (self->settings, "window-width");
  height = g_settings_get_int (self->settings, "window-height");
  gtk_window_set_default_size (GTK_WINDOW (self), width, height);

  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
xl_window_save_state (XlWindow *self)
{
  gboolean maximized;
  int width;
  int height;

  g_assert (XL_IS_WINDOW (self));

  if (self->settings == NULL)
    return;

  maximized = gtk_window_is_maximized (GTK_WINDOW (self));
  g_settings_set_boolean (self->settings, "window-maximized", maximized);

  /* The default size is the unmaximized one, which is what to restore. */
  if (!maximized)
    {
      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
}

static gboolean
xl_window_close_request (GtkWindow *window)
{
  XlWindow *self = (XlWindow *) window;

  g_assert (XL_IS_WINDOW (self));

  xl_window_save_state (self);

  return GTK_WINDOW_CLASS (xl_window_parent_class)->close_request (window);
}

static void
xl_window_dispose (GObject *object)
{
  XlWindow *self = (XlWindow *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_WINDOW);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (xl_window_parent_class)->dispose (object);
}

static void
xl_window_class_init (XlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = xl_window_dispose;

  window_class->close_request = xl_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, XlWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, notice);
}

static void
xl_window_init (XlWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = lookup_settings ();
  xl_window_load_state (self);
}
