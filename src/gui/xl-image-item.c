/* xl-image-item.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "xl-image-item.h"

struct _XlImageItem
{
  GObject    parent_instance;

  /* Items are made by the thousand: they keep a reference to the data set
   * and read the rest from its entry. */
  XlDataset *dataset;
  guint      index;
  XlSplit    split;
};

G_DEFINE_FINAL_TYPE (XlImageItem, xl_image_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_INDEX,
  PROP_NAME,
  PROP_SPLIT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

XlImageItem *
xl_image_item_new (XlDataset *dataset,
                   guint      index)
{
  XlImageItem *self;

  g_return_val_if_fail (dataset != NULL, NULL);
  g_return_val_if_fail (index < xl_dataset_n_images (dataset), NULL);

  self = g_object_new (XL_TYPE_IMAGE_ITEM, NULL);
  self->dataset = xl_dataset_ref (dataset);
  self->index = index;
  self->split = xl_dataset_image (dataset, index)->scanned_split;

  return self;
}

XlDataset *
xl_image_item_get_dataset (XlImageItem *self)
{
  g_return_val_if_fail (XL_IS_IMAGE_ITEM (self), NULL);

  return self->dataset;
}

guint
xl_image_item_get_index (XlImageItem *self)
{
  g_return_val_if_fail (XL_IS_IMAGE_ITEM (self), 0);

  return self->index;
}

const char *
xl_image_item_get_name (XlImageItem *self)
{
  g_return_val_if_fail (XL_IS_IMAGE_ITEM (self), NULL);

  return xl_dataset_image (self->dataset, self->index)->name;
}

guint
xl_image_item_get_class_index (XlImageItem *self)
{
  g_return_val_if_fail (XL_IS_IMAGE_ITEM (self), 0);

  return xl_dataset_image (self->dataset, self->index)->class_index;
}

const char *
xl_image_item_get_class_name (XlImageItem *self)
{
  g_return_val_if_fail (XL_IS_IMAGE_ITEM (self), NULL);

  return xl_dataset_class_name (self->dataset, xl_image_item_get_class_index (self));
}

XlSplit
xl_image_item_get_split (XlImageItem *self)
{
  g_return_val_if_fail (XL_IS_IMAGE_ITEM (self), XL_SPLIT_NONE);

  return self->split;
}

void
xl_image_item_set_split (XlImageItem *self,
                         XlSplit      split)
{
  g_return_if_fail (XL_IS_IMAGE_ITEM (self));
  g_return_if_fail (split <= XL_SPLIT_NONE);

  if (self->split != split)
    {
      self->split = split;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPLIT]);
    }
}

static void
xl_image_item_finalize (GObject *object)
{
  XlImageItem *self = (XlImageItem *) object;

  g_clear_pointer (&self->dataset, xl_dataset_unref);

  G_OBJECT_CLASS (xl_image_item_parent_class)->finalize (object);
}

static void
xl_image_item_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  XlImageItem *self = XL_IMAGE_ITEM (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;

    case PROP_NAME:
      g_value_set_string (value, xl_image_item_get_name (self));
      break;

    case PROP_SPLIT:
      g_value_set_uint (value, self->split);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_image_item_class_init (XlImageItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = xl_image_item_finalize;
  object_class->get_property = xl_image_item_get_property;

  properties[PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /* Read by GtkStringFilter through a property expression. */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties[PROP_SPLIT] =
    g_param_spec_uint ("split", NULL, NULL,
                       0, XL_SPLIT_NONE, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
xl_image_item_init (XlImageItem *self)
{
}
