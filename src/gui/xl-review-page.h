/* xl-review-page.h — the Review view, the clinician's worklist: every film
 * sorted by P(positive class), filtered, and the selected one large with its
 * class activation map.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-run-folder.h"

G_BEGIN_DECLS

#define XL_TYPE_REVIEW_PAGE (xl_review_page_get_type ())

G_DECLARE_FINAL_TYPE (XlReviewPage, xl_review_page, XL, REVIEW_PAGE, GtkWidget)

typedef enum {
  XL_REVIEW_ALL,
  XL_REVIEW_FLAGGED,          /* P(positive) at or above the threshold */
  XL_REVIEW_NEAR_THRESHOLD,
  XL_REVIEW_FALSE_POSITIVES,
  XL_REVIEW_FALSE_NEGATIVES,
  XL_REVIEW_TRUE_POSITIVES,
  XL_REVIEW_TRUE_NEGATIVES,
} XlReviewFilter;

/* Lists the run's test films (val when it has no test split) and predicts
 * with its model; NULL empties the list. A new reference is taken. */
void            xl_review_page_set_run       (XlReviewPage   *self,
                                              XlRunFolder    *run);

/* The decision threshold on P(positive class): the "threshold" property,
 * bound to the Results view's. */
double          xl_review_page_get_threshold (XlReviewPage   *self);
void            xl_review_page_set_threshold (XlReviewPage   *self,
                                              double          threshold);

XlReviewFilter  xl_review_page_get_filter    (XlReviewPage   *self);
void            xl_review_page_set_filter    (XlReviewPage   *self,
                                              XlReviewFilter  filter);

/* The films of one confusion-matrix cell (true class, predicted class at
 * the threshold): sets the matching filter. */
void            xl_review_page_show_cell     (XlReviewPage   *self,
                                              guint           true_class,
                                              guint           predicted_class);

/* Adds images (JPEG or PNG files) to the list, predicted and mapped at
 * once with the current model, and selects the first. */
void            xl_review_page_open_files    (XlReviewPage   *self,
                                              GFile         **files,
                                              guint           n_files);

G_END_DECLS
