/* xl-thumbnail-cell.h — one film in the data view's grid.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-image-item.h"
#include "xl-thumbnail-loader.h"

G_BEGIN_DECLS

#define XL_TYPE_THUMBNAIL_CELL (xl_thumbnail_cell_get_type ())

G_DECLARE_FINAL_TYPE (XlThumbnailCell, xl_thumbnail_cell, XL, THUMBNAIL_CELL, GtkWidget)

GtkWidget   *xl_thumbnail_cell_new          (XlThumbnailLoader *loader);
/* The width of the film's box; its height is 4/5 of it (films are wider
 * than tall). The name shows below from 96 pixels up. */
void         xl_thumbnail_cell_set_size     (XlThumbnailCell   *self,
                                             int                size);
/* Binding: asks the loader for the item's thumbnail; unbinding (NULL)
 * cancels the request. */
void         xl_thumbnail_cell_set_item     (XlThumbnailCell   *self,
                                             XlImageItem       *item);
XlImageItem *xl_thumbnail_cell_get_item     (XlThumbnailCell   *self);
gboolean     xl_thumbnail_cell_has_thumbnail (XlThumbnailCell  *self);

/* The box of a cell of the given size, in logical pixels. */
void         xl_thumbnail_cell_box_size     (int                size,
                                             int               *width,
                                             int               *height);

G_END_DECLS
