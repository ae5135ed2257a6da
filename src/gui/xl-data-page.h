/* xl-data-page.h — the Data view: welcome, opening, and the open data set.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-dataset-job.h"
#include "xl-split-chart.h"
#include "xl-thumbnail-loader.h"
#include "xl-welcome-page.h"

G_BEGIN_DECLS

#define XL_TYPE_DATA_PAGE (xl_data_page_get_type ())

G_DECLARE_FINAL_TYPE (XlDataPage, xl_data_page, XL, DATA_PAGE, GtkWidget)

/* Filter values for xl_data_page_set_filter */
#define XL_DATA_PAGE_ALL (-1)

/* The thumbnail sizes the zoom buttons step through. */
#define XL_DATA_PAGE_MIN_THUMBNAIL 48
#define XL_DATA_PAGE_MAX_THUMBNAIL 224

/* Settings: resplit, val-fraction, seed, thumbnail-size; NULL keeps defaults. */
void               xl_data_page_set_settings        (XlDataPage   *self,
                                                     GSettings    *settings);
void               xl_data_page_show_welcome        (XlDataPage   *self);
/* Shows the job's progress until a data set or the welcome page is shown. */
void               xl_data_page_show_loading        (XlDataPage   *self,
                                                     XlDatasetJob *job);
void               xl_data_page_set_dataset         (XlDataPage   *self,
                                                     XlDataset    *dataset);
XlDataset         *xl_data_page_get_dataset         (XlDataPage   *self);
XlWelcomePage     *xl_data_page_get_welcome_page    (XlDataPage   *self);
/* "welcome", "loading" or "dataset" */
const char        *xl_data_page_get_state           (XlDataPage   *self);

/* What training uses: the re-split's share, or 0 when the re-split is off. */
double             xl_data_page_get_val_fraction    (XlDataPage   *self);
gboolean           xl_data_page_get_resplit         (XlDataPage   *self);
void               xl_data_page_set_resplit         (XlDataPage   *self,
                                                     gboolean      resplit,
                                                     double        val_fraction);
/* "Moves N films of M patients from train to val; …" */
const char        *xl_data_page_get_resplit_summary (XlDataPage   *self);
const char        *xl_data_page_get_imbalance_text  (XlDataPage   *self);
XlSplitChart      *xl_data_page_get_split_chart     (XlDataPage   *self);

/* split: an XlSplit, XL_SPLIT_NONE for the set-aside films, or
 * XL_DATA_PAGE_ALL; class_index likewise; text: part of the file name. */
void               xl_data_page_set_filter          (XlDataPage   *self,
                                                     int           split,
                                                     int           class_index,
                                                     const char   *text);
/* The films the grid shows (XlImageItem), after the filters. */
GListModel        *xl_data_page_get_films           (XlDataPage   *self);
GtkGridView       *xl_data_page_get_grid_view       (XlDataPage   *self);
XlThumbnailLoader *xl_data_page_get_loader          (XlDataPage   *self);
int                xl_data_page_get_thumbnail_size  (XlDataPage   *self);
void               xl_data_page_set_thumbnail_size  (XlDataPage   *self,
                                                     int           size);
/* Opens the film at position in the filtered list in a viewer window. */
GtkWindow         *xl_data_page_open_film           (XlDataPage   *self,
                                                     guint         position);

G_END_DECLS
