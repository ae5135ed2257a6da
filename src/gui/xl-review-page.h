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

#include "xl-cam-job.h"
#include "xl-film-view.h"
#include "xl-review-item.h"
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

/* Reviews opened images with this model (no run): "Open Model…". Drops the
 * run, if any; images opened while there was no model are predicted now. */
gboolean        xl_review_page_set_model     (XlReviewPage   *self,
                                              const char     *model_path,
                                              GError        **error);
/* The model films are mapped with, or NULL. */
XlCamModel     *xl_review_page_get_model     (XlReviewPage   *self);

/* The list as shown: filtered, sorted by P(positive) descending, items
 * XlReviewItem; a GtkSingleSelection. */
GListModel     *xl_review_page_get_films     (XlReviewPage   *self);
/* Every film of the list, unfiltered and unsorted. */
GListModel     *xl_review_page_get_all_films (XlReviewPage   *self);
XlReviewItem   *xl_review_page_get_selected  (XlReviewPage   *self);
void            xl_review_page_select        (XlReviewPage   *self,
                                              guint           position);

XlFilmView     *xl_review_page_get_film_view (XlReviewPage   *self);
/* The selected film's prediction and map, once computed (NULL before). */
XlCamResult    *xl_review_page_get_result    (XlReviewPage   *self);
/* Maps or predictions on their way from the worker. */
gboolean        xl_review_page_get_busy      (XlReviewPage   *self);

/* The heatmap's settings, as the toolbar sets them. stage: 4 (CAM), 3 or 2
 * (Grad-CAM). */
void            xl_review_page_set_heatmap_visible (XlReviewPage *self,
                                                    gboolean      visible);
void            xl_review_page_set_opacity   (XlReviewPage   *self,
                                              double          opacity);
void            xl_review_page_set_colormap  (XlReviewPage   *self,
                                              XlColormap      colormap);
void            xl_review_page_set_stage     (XlReviewPage   *self,
                                              int             stage);
int             xl_review_page_get_stage     (XlReviewPage   *self);

/* Writes the selected film with its heatmap, colour bar, caption and the
 * notice, at the film's resolution, to path (.png, .svg or .pdf). */
gboolean        xl_review_page_export_overlay (XlReviewPage  *self,
                                               const char    *path,
                                               GError       **error);

G_END_DECLS
