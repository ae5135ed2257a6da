/* xl-thumbnail-cell.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "xl-plot.h"
#include "xl-thumbnail-cell.h"

/* Below this width the name would be a few letters: only the film shows. */
#define MIN_SIZE_FOR_NAME 96
/* ... and below this the class badge is its colour only. */
#define MIN_SIZE_FOR_INITIAL 80

struct _XlThumbnailCell
{
  GtkWidget          parent_instance;

  XlThumbnailLoader *loader;
  XlImageItem       *item;
  GCancellable      *cancellable;   /* of the request in flight */
  GdkTexture        *texture;
  gboolean           failed;
  int                size;
  PangoLayout       *badge;         /* the class's initial */
  PangoLayout       *name;          /* the file name, ellipsized */
};

G_DEFINE_FINAL_TYPE (XlThumbnailCell, xl_thumbnail_cell, GTK_TYPE_WIDGET)

/* A grid shows a thousand of these at once: each is one widget that draws
 * its film, class badge and name itself, rather than a picture, an overlay
 * and two labels, which would make the grid's layout and snapshot several
 * times dearer while it scrolls. */

#define NAME_SPACING 3

void
xl_thumbnail_cell_box_size (int  size,
                            int *width,
                            int *height)
{
  *width = size;
  *height = size * 4 / 5;
}

static gboolean
shows_name (XlThumbnailCell *self)
{
  return self->size >= MIN_SIZE_FOR_NAME;
}

static void
set_texture (XlThumbnailCell *self,
             GdkTexture      *texture,
             gboolean         failed)
{
  if (g_set_object (&self->texture, texture) || self->failed != failed)
    {
      self->failed = failed;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(XlThumbnailCell) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  texture = xl_thumbnail_loader_load_finish (XL_THUMBNAIL_LOADER (object), result, &error);

  /* Rebound to another film meanwhile: this answer is not ours any more. */
  if (g_task_get_cancellable (G_TASK (result)) != self->cancellable)
    return;

  g_clear_object (&self->cancellable);

  if (texture != NULL)
    set_texture (self, texture, FALSE);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_texture (self, NULL, TRUE);
}

static void
request_thumbnail (XlThumbnailCell *self)
{
  GdkTexture *texture;

  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }

  if (self->item == NULL)
    {
      set_texture (self, NULL, FALSE);
      return;
    }

  if ((texture = xl_thumbnail_loader_lookup (self->loader, xl_image_item_get_index (self->item))))
    {
      set_texture (self, texture, FALSE);
      return;
    }

  set_texture (self, NULL, FALSE);
  self->cancellable = g_cancellable_new ();
  xl_thumbnail_loader_load_async (self->loader,
                                  xl_image_item_get_index (self->item),
                                  self->cancellable,
                                  load_cb,
                                  g_object_ref (self));
}

static void
invalidated_cb (XlThumbnailCell *self)
{
  request_thumbnail (self);
}

GtkWidget *
xl_thumbnail_cell_new (XlThumbnailLoader *loader)
{
  XlThumbnailCell *self;

  g_return_val_if_fail (XL_IS_THUMBNAIL_LOADER (loader), NULL);

  self = g_object_new (XL_TYPE_THUMBNAIL_CELL, NULL);
  self->loader = g_object_ref (loader);
  g_signal_connect_object (loader, "invalidated",
                           G_CALLBACK (invalidated_cb), self, G_CONNECT_SWAPPED);

  return GTK_WIDGET (self);
}

void
xl_thumbnail_cell_set_size (XlThumbnailCell *self,
                            int              size)
{
  g_return_if_fail (XL_IS_THUMBNAIL_CELL (self));

  if (self->size == size)
    return;

  self->size = size;
  pango_layout_set_width (self->name, size * PANGO_SCALE);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
xl_thumbnail_cell_set_item (XlThumbnailCell *self,
                            XlImageItem     *item)
{
  g_return_if_fail (XL_IS_THUMBNAIL_CELL (self));
  g_return_if_fail (!item || XL_IS_IMAGE_ITEM (item));

  if (!g_set_object (&self->item, item))
    return;

  if (item != NULL)
    {
      const char *class_name = xl_image_item_get_class_name (item);
      g_autofree char *initial = g_utf8_strup (class_name,
                                               g_utf8_next_char (class_name) - class_name);

      pango_layout_set_text (self->badge, initial, -1);
      pango_layout_set_text (self->name, xl_image_item_get_name (item), -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, xl_image_item_get_name (item),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, class_name,
                                      -1);
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));

  request_thumbnail (self);
}

XlImageItem *
xl_thumbnail_cell_get_item (XlThumbnailCell *self)
{
  g_return_val_if_fail (XL_IS_THUMBNAIL_CELL (self), NULL);

  return self->item;
}

gboolean
xl_thumbnail_cell_has_thumbnail (XlThumbnailCell *self)
{
  g_return_val_if_fail (XL_IS_THUMBNAIL_CELL (self), FALSE);

  return self->texture != NULL;
}

static void
xl_thumbnail_cell_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  XlThumbnailCell *self = XL_THUMBNAIL_CELL (widget);
  int width;
  int height;

  xl_thumbnail_cell_box_size (self->size, &width, &height);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = width;
  else
    {
      *minimum = *natural = height;
      if (shows_name (self))
        {
          int text_height;

          pango_layout_get_pixel_size (self->name, NULL, &text_height);
          *minimum = *natural = height + NAME_SPACING + text_height;
        }
    }
}

static void
xl_thumbnail_cell_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  XlThumbnailCell *self = XL_THUMBNAIL_CELL (widget);
  int box_width;
  int box_height;

  xl_thumbnail_cell_box_size (self->size, &box_width, &box_height);

  /* Films are viewed on black; a film that could not be read is tinted. */
  gtk_snapshot_append_color (snapshot,
                             self->failed ? &(GdkRGBA) { 0.45, 0.1, 0.1, 1 }
                                          : &(GdkRGBA) { 0.06, 0.06, 0.06, 1 },
                             &GRAPHENE_RECT_INIT (0, 0, box_width, box_height));

  if (self->texture != NULL)
    {
      double texture_width = gdk_texture_get_width (self->texture);
      double texture_height = gdk_texture_get_height (self->texture);
      double scale = MIN (box_width / texture_width, box_height / texture_height);
      double width = texture_width * scale;
      double height = texture_height * scale;

      gtk_snapshot_append_texture (snapshot, self->texture,
                                   &GRAPHENE_RECT_INIT ((box_width - width) / 2,
                                                        (box_height - height) / 2,
                                                        width, height));
    }

  if (self->item != NULL)
    {
      const XlPlotColor *color = xl_plot_series_color (xl_image_item_get_class_index (self->item));
      int text_width;
      int text_height;

      /* The class's colour, as in the charts, with its initial from the
       * middle sizes up; the smallest show a thousand films at once. */
      if (self->size >= MIN_SIZE_FOR_INITIAL)
        {
          pango_layout_get_pixel_size (self->badge, &text_width, &text_height);
          gtk_snapshot_append_color (snapshot,
                                     &(GdkRGBA) { color->red, color->green, color->blue, 1 },
                                     &GRAPHENE_RECT_INIT (2, 2, text_width + 6, text_height));
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (5, 2));
          gtk_snapshot_append_layout (snapshot, self->badge, &(GdkRGBA) { 1, 1, 1, 1 });
          gtk_snapshot_restore (snapshot);
        }
      else
        gtk_snapshot_append_color (snapshot,
                                   &(GdkRGBA) { color->red, color->green, color->blue, 1 },
                                   &GRAPHENE_RECT_INIT (2, 2, 7, 7));

      if (shows_name (self))
        {
          GtkStyleContext *style = gtk_widget_get_style_context (widget);
          GdkRGBA fg;

          gtk_style_context_get_color (style, &fg);
          pango_layout_get_pixel_size (self->name, &text_width, NULL);
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot,
                                  &GRAPHENE_POINT_INIT ((box_width - text_width) / 2.0,
                                                        box_height + NAME_SPACING));
          gtk_snapshot_append_layout (snapshot, self->name, &fg);
          gtk_snapshot_restore (snapshot);
        }
    }
}

static const char *
split_title (XlSplit split)
{
  switch (split)
    {
    case XL_SPLIT_TRAIN:
      return C_("split", "Train");
    case XL_SPLIT_VAL:
      return C_("split", "Val");
    case XL_SPLIT_TEST:
      return C_("split", "Test");
    default:
      return C_("split", "Set aside");
    }
}

static gboolean
xl_thumbnail_cell_query_tooltip (GtkWidget  *widget,
                                 int         x,
                                 int         y,
                                 gboolean    keyboard_mode,
                                 GtkTooltip *tooltip)
{
  XlThumbnailCell *self = XL_THUMBNAIL_CELL (widget);
  g_autofree char *text = NULL;
  const XlImageEntry *entry;

  if (self->item == NULL)
    return FALSE;

  entry = xl_dataset_image (xl_image_item_get_dataset (self->item),
                            xl_image_item_get_index (self->item));
  /* Translators: file name, then class · split · width × height */
  text = g_strdup_printf (_("%s\n%s · %s · %u × %u pixels"),
                          entry->name,
                          xl_image_item_get_class_name (self->item),
                          split_title (xl_image_item_get_split (self->item)),
                          entry->width, entry->height);
  gtk_tooltip_set_text (tooltip, text);

  return TRUE;
}

static void
xl_thumbnail_cell_dispose (GObject *object)
{
  XlThumbnailCell *self = (XlThumbnailCell *) object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->texture);
  g_clear_object (&self->item);
  g_clear_object (&self->loader);

  G_OBJECT_CLASS (xl_thumbnail_cell_parent_class)->dispose (object);
}

static void
xl_thumbnail_cell_finalize (GObject *object)
{
  XlThumbnailCell *self = (XlThumbnailCell *) object;

  g_clear_object (&self->badge);
  g_clear_object (&self->name);

  G_OBJECT_CLASS (xl_thumbnail_cell_parent_class)->finalize (object);
}

static void
xl_thumbnail_cell_class_init (XlThumbnailCellClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_thumbnail_cell_dispose;
  object_class->finalize = xl_thumbnail_cell_finalize;

  widget_class->query_tooltip = xl_thumbnail_cell_query_tooltip;
  widget_class->measure = xl_thumbnail_cell_measure;
  widget_class->snapshot = xl_thumbnail_cell_snapshot;

  gtk_widget_class_set_css_name (widget_class, "thumbnailcell");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
xl_thumbnail_cell_init (XlThumbnailCell *self)
{
  PangoAttrList *attrs = pango_attr_list_new ();

  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  self->size = 112;
  self->badge = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  pango_attr_list_insert (attrs, pango_attr_scale_new (0.7));
  pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (self->badge, attrs);
  pango_attr_list_unref (attrs);

  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_scale_new (0.83));
  self->name = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  pango_layout_set_attributes (self->name, attrs);
  pango_layout_set_ellipsize (self->name, PANGO_ELLIPSIZE_MIDDLE);
  pango_layout_set_width (self->name, self->size * PANGO_SCALE);
  pango_attr_list_unref (attrs);
}
