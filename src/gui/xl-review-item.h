/* xl-review-item.h — one film in the Review view's worklist: a film of the
 * run (with its true class and the run's stored probability) or an image
 * opened for review (probability from the model once predicted).
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define XL_TYPE_REVIEW_ITEM (xl_review_item_get_type ())

G_DECLARE_FINAL_TYPE (XlReviewItem, xl_review_item, XL, REVIEW_ITEM, GObject)

/* label: the true class, or -1 when unknown (an opened image); probability:
 * P(positive class), or NAN until predicted. */
XlReviewItem *xl_review_item_new             (const char   *path,
                                              int           label,
                                              double        probability);
const char   *xl_review_item_get_path        (XlReviewItem *self);
/* The file's name, for display. */
const char   *xl_review_item_get_name        (XlReviewItem *self);
int           xl_review_item_get_label       (XlReviewItem *self);
gboolean      xl_review_item_get_opened      (XlReviewItem *self);
double        xl_review_item_get_probability (XlReviewItem *self);
void          xl_review_item_set_probability (XlReviewItem *self,
                                              double        probability);
/* The predicted class at the page's threshold; -1 until predicted. */
int           xl_review_item_get_predicted   (XlReviewItem *self);
void          xl_review_item_set_predicted   (XlReviewItem *self,
                                              int           predicted);
GdkTexture   *xl_review_item_get_thumbnail   (XlReviewItem *self);
void          xl_review_item_set_thumbnail   (XlReviewItem *self,
                                              GdkTexture   *thumbnail);
/* Why the film could not be read or predicted, or NULL. */
const char   *xl_review_item_get_error       (XlReviewItem *self);
void          xl_review_item_set_error       (XlReviewItem *self,
                                              const char   *error);
/* Whether its thumbnail was asked for already. */
gboolean      xl_review_item_take_thumbnail_request (XlReviewItem *self);

G_END_DECLS
