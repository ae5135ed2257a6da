/* xl-film-viewer.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "xl-film-viewer.h"

struct _XlFilmViewer
{
  AdwWindow       parent_instance;

  XlDataset      *dataset;
  guint           index;
  GCancellable   *cancellable;
  gboolean        loaded;
  char           *error;

  /* Template widgets */
  AdwWindowTitle *window_title;
  XlFilmView     *view;
  GtkSpinner     *spinner;
  GtkLabel       *error_label;
  GtkLabel       *zoom_label;
  GtkToggleButton *fit_button;
  GtkAdjustment  *window_adjustment;
  GtkAdjustment  *level_adjustment;
};

G_DEFINE_FINAL_TYPE (XlFilmViewer, xl_film_viewer, ADW_TYPE_WINDOW)

static void
decode_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  XlFilmViewer *self = source_object;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  XlImage *image;

  if (!(bytes = xl_dataset_read (self->dataset, self->index, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Full size: the point of the large view is every pixel of the film. */
  if (!(image = xl_image_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), 0,
                                 xl_dataset_image (self->dataset, self->index)->name, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, image, (GDestroyNotify) xl_image_free);
}

static void
decode_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  XlFilmViewer *self = XL_FILM_VIEWER (object);
  g_autoptr(GError) error = NULL;
  XlImage *image;

  image = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_spinner_set_spinning (self->spinner, FALSE);
  self->loaded = TRUE;

  if (image == NULL)
    {
      self->error = g_strdup (error->message);
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }

  xl_film_view_set_image (self->view, image);
}

static void
zoom_changed_cb (XlFilmViewer *self)
{
  g_autofree char *text = NULL;

  if (xl_film_view_get_image (self->view) == NULL)
    {
      gtk_label_set_text (self->zoom_label, "");
      return;
    }

  /* Translators: the zoom as a percentage of the film's own pixels */
  text = g_strdup_printf (_("%.0f%%"), 100 * xl_film_view_get_zoom (self->view));
  gtk_label_set_text (self->zoom_label, text);
}

XlFilmViewer *
xl_film_viewer_new (GtkWindow *transient_for,
                    XlDataset *dataset,
                    guint      index)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *subtitle = NULL;
  const XlImageEntry *entry;
  XlFilmViewer *self;
  const char *split;

  g_return_val_if_fail (!transient_for || GTK_IS_WINDOW (transient_for), NULL);
  g_return_val_if_fail (dataset != NULL, NULL);
  g_return_val_if_fail (index < xl_dataset_n_images (dataset), NULL);

  self = g_object_new (XL_TYPE_FILM_VIEWER,
                       "transient-for", transient_for,
                       NULL);
  self->dataset = xl_dataset_ref (dataset);
  self->index = index;

  entry = xl_dataset_image (dataset, index);
  switch (entry->scanned_split)
    {
    case XL_SPLIT_TRAIN:
      split = C_("split", "Train");
      break;
    case XL_SPLIT_VAL:
      split = C_("split", "Val");
      break;
    case XL_SPLIT_TEST:
    default:
      split = C_("split", "Test");
      break;
    }

  gtk_window_set_title (GTK_WINDOW (self), entry->name);
  adw_window_title_set_title (self->window_title, entry->name);
  if (entry->width > 0)
    /* Translators: class · split folder · width × height */
    subtitle = g_strdup_printf (_("%s · %s · %u × %u pixels"),
                                xl_dataset_class_name (dataset, entry->class_index),
                                split, entry->width, entry->height);
  else
    subtitle = g_strdup_printf ("%s · %s",
                                xl_dataset_class_name (dataset, entry->class_index), split);
  adw_window_title_set_subtitle (self->window_title, subtitle);

  task = g_task_new (self, self->cancellable, decode_cb, NULL);
  g_task_set_source_tag (task, xl_film_viewer_new);
  g_task_run_in_thread (task, decode_thread);

  return self;
}

XlFilmView *
xl_film_viewer_get_view (XlFilmViewer *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEWER (self), NULL);

  return self->view;
}

guint
xl_film_viewer_get_index (XlFilmViewer *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEWER (self), 0);

  return self->index;
}

gboolean
xl_film_viewer_get_loaded (XlFilmViewer *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEWER (self), FALSE);

  return self->loaded;
}

const char *
xl_film_viewer_get_error (XlFilmViewer *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEWER (self), NULL);

  return self->error;
}

static void
zoom_in_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  xl_film_view_zoom_in (XL_FILM_VIEWER (widget)->view);
}

static void
zoom_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  xl_film_view_zoom_out (XL_FILM_VIEWER (widget)->view);
}

static void
zoom_fit_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  xl_film_view_set_fit (XL_FILM_VIEWER (widget)->view, TRUE);
}

static void
zoom_actual_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  xl_film_view_set_zoom_at (XL_FILM_VIEWER (widget)->view, 1.0, -1, -1);
}

static void
reset_contrast_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  XlFilmViewer *self = XL_FILM_VIEWER (widget);

  gtk_adjustment_set_value (self->window_adjustment, 255);
  gtk_adjustment_set_value (self->level_adjustment, 127.5);
}

static void
xl_film_viewer_dispose (GObject *object)
{
  XlFilmViewer *self = (XlFilmViewer *) object;

  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_FILM_VIEWER);

  G_OBJECT_CLASS (xl_film_viewer_parent_class)->dispose (object);
}

static void
xl_film_viewer_finalize (GObject *object)
{
  XlFilmViewer *self = (XlFilmViewer *) object;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->dataset, xl_dataset_unref);
  g_clear_pointer (&self->error, g_free);

  G_OBJECT_CLASS (xl_film_viewer_parent_class)->finalize (object);
}

static void
xl_film_viewer_class_init (XlFilmViewerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_film_viewer_dispose;
  object_class->finalize = xl_film_viewer_finalize;

  g_type_ensure (XL_TYPE_FILM_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-film-viewer.ui");
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, window_title);
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, view);
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, spinner);
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, error_label);
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, zoom_label);
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, fit_button);
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, window_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlFilmViewer, level_adjustment);

  gtk_widget_class_install_action (widget_class, "viewer.zoom-in", NULL, zoom_in_action);
  gtk_widget_class_install_action (widget_class, "viewer.zoom-out", NULL, zoom_out_action);
  gtk_widget_class_install_action (widget_class, "viewer.zoom-fit", NULL, zoom_fit_action);
  gtk_widget_class_install_action (widget_class, "viewer.zoom-actual", NULL, zoom_actual_action);
  gtk_widget_class_install_action (widget_class, "viewer.reset-contrast", NULL, reset_contrast_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "viewer.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "viewer.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "viewer.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, 0, "viewer.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_0, 0, "viewer.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, 0, "viewer.zoom-actual", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_1, 0, "viewer.zoom-actual", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
xl_film_viewer_init (XlFilmViewer *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  g_object_bind_property (self->view, "fit", self->fit_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->window_adjustment, "value", self->view, "window",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->level_adjustment, "value", self->view, "level",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->view, "notify::zoom",
                           G_CALLBACK (zoom_changed_cb), self, G_CONNECT_SWAPPED);
}
