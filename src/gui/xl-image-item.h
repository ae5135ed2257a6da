/* xl-image-item.h — one film of the open data set, as the data view lists it.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "xl-dataset.h"

G_BEGIN_DECLS

#define XL_TYPE_IMAGE_ITEM (xl_image_item_get_type ())

G_DECLARE_FINAL_TYPE (XlImageItem, xl_image_item, XL, IMAGE_ITEM, GObject)

XlImageItem *xl_image_item_new             (XlDataset   *dataset,
                                            guint        index);
XlDataset   *xl_image_item_get_dataset     (XlImageItem *self);
guint        xl_image_item_get_index       (XlImageItem *self);
const char  *xl_image_item_get_name        (XlImageItem *self);
const char  *xl_image_item_get_class_name  (XlImageItem *self);
guint        xl_image_item_get_class_index (XlImageItem *self);
/* The split shown: as scanned, or as the re-split preview puts it
 * (XL_SPLIT_NONE: set aside). */
XlSplit      xl_image_item_get_split       (XlImageItem *self);
void         xl_image_item_set_split       (XlImageItem *self,
                                            XlSplit      split);

G_END_DECLS
