/* xl-review-item.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-review-item.h"

struct _XlReviewItem
{
  GObject     parent_instance;

  char       *path;
  char       *name;
  int         label;
  double      probability;
  int         predicted;
  GdkTexture *thumbnail;
  char       *error;
  gboolean    thumbnail_requested;
};

G_DEFINE_FINAL_TYPE (XlReviewItem, xl_review_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PROBABILITY,
  PROP_PREDICTED,
  PROP_THUMBNAIL,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

XlReviewItem *
xl_review_item_new (const char *path,
                    int         label,
                    double      probability)
{
  XlReviewItem *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (XL_TYPE_REVIEW_ITEM, NULL);
  self->path = g_strdup (path);
  self->name = g_path_get_basename (path);
  self->label = label < 0 ? -1 : label;
  self->probability = probability;

  return self;
}

const char *
xl_review_item_get_path (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), NULL);

  return self->path;
}

const char *
xl_review_item_get_name (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), NULL);

  return self->name;
}

int
xl_review_item_get_label (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), -1);

  return self->label;
}

gboolean
xl_review_item_get_opened (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), FALSE);

  return self->label < 0;
}

double
xl_review_item_get_probability (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), NAN);

  return self->probability;
}

void
xl_review_item_set_probability (XlReviewItem *self,
                                double        probability)
{
  g_return_if_fail (XL_IS_REVIEW_ITEM (self));

  if (probability == self->probability || (isnan (probability) && isnan (self->probability)))
    return;
  self->probability = probability;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBABILITY]);
}

int
xl_review_item_get_predicted (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), -1);

  return self->predicted;
}

void
xl_review_item_set_predicted (XlReviewItem *self,
                              int           predicted)
{
  g_return_if_fail (XL_IS_REVIEW_ITEM (self));

  predicted = MAX (predicted, -1);
  if (predicted == self->predicted)
    return;
  self->predicted = predicted;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PREDICTED]);
}

GdkTexture *
xl_review_item_get_thumbnail (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), NULL);

  return self->thumbnail;
}

void
xl_review_item_set_thumbnail (XlReviewItem *self,
                              GdkTexture   *thumbnail)
{
  g_return_if_fail (XL_IS_REVIEW_ITEM (self));

  if (g_set_object (&self->thumbnail, thumbnail))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL]);
}

const char *
xl_review_item_get_error (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), NULL);

  return self->error;
}

void
xl_review_item_set_error (XlReviewItem *self,
                          const char   *error)
{
  g_return_if_fail (XL_IS_REVIEW_ITEM (self));

  if (g_strcmp0 (error, self->error) == 0)
    return;
  g_free (self->error);
  self->error = g_strdup (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

gboolean
xl_review_item_take_thumbnail_request (XlReviewItem *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_ITEM (self), FALSE);

  if (self->thumbnail_requested)
    return FALSE;
  self->thumbnail_requested = TRUE;

  return TRUE;
}

static void
xl_review_item_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  XlReviewItem *self = XL_REVIEW_ITEM (object);

  switch (prop_id)
    {
    case PROP_PROBABILITY:
      g_value_set_double (value, self->probability);
      break;
    case PROP_PREDICTED:
      g_value_set_int (value, self->predicted);
      break;
    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_review_item_finalize (GObject *object)
{
  XlReviewItem *self = XL_REVIEW_ITEM (object);

  g_free (self->path);
  g_free (self->name);
  g_free (self->error);
  g_clear_object (&self->thumbnail);

  G_OBJECT_CLASS (xl_review_item_parent_class)->finalize (object);
}

static void
xl_review_item_class_init (XlReviewItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = xl_review_item_finalize;
  object_class->get_property = xl_review_item_get_property;

  properties[PROP_PROBABILITY] =
    g_param_spec_double ("probability", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PREDICTED] =
    g_param_spec_int ("predicted", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_THUMBNAIL] =
    g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
xl_review_item_init (XlReviewItem *self)
{
  self->label = -1;
  self->predicted = -1;
  self->probability = NAN;
}
