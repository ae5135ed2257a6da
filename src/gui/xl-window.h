/* xl-window.h
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-application.h"
#include "xl-data-page.h"
#include "xl-results-page.h"
#include "xl-review-page.h"
#include "xl-train-page.h"

G_BEGIN_DECLS

#define XL_TYPE_WINDOW (xl_window_get_type ())

G_DECLARE_FINAL_TYPE (XlWindow, xl_window, XL, WINDOW, AdwApplicationWindow)

XlWindow    *xl_window_new                (XlApplication *application);
/* Opens a folder or .zip off the main thread, showing its progress. */
void         xl_window_open_dataset       (XlWindow      *self,
                                           const char    *path);
/* Generates the demo set into the user's cache unless it is there, then opens it. */
void         xl_window_open_demo          (XlWindow      *self);
/* A data set being opened or generated. */
gboolean     xl_window_get_busy           (XlWindow      *self);
/* Nothing left to wait for before a screenshot: no data set being opened,
 * no run going or about to start, no thumbnail on its way. */
gboolean     xl_window_get_settled        (XlWindow      *self);
void         xl_window_show_view          (XlWindow      *self,
                                           const char    *name);
const char  *xl_window_get_view           (XlWindow      *self);
/* Starts a run as soon as a data set is open (the hidden --auto-train). */
void         xl_window_set_auto_train     (XlWindow      *self,
                                           gboolean       auto_train);
/* Runs with test options leave the user's settings as they were. */
void         xl_window_set_keep_settings  (XlWindow      *self,
                                           gboolean       keep);
XlDataPage  *xl_window_get_data_page      (XlWindow      *self);
XlTrainPage *xl_window_get_train_page     (XlWindow      *self);
XlResultsPage *xl_window_get_results_page (XlWindow      *self);
XlReviewPage *xl_window_get_review_page   (XlWindow      *self);
/* Shows a finished run folder in Results and Review. */
gboolean     xl_window_open_run           (XlWindow      *self,
                                           const char    *run_dir,
                                           GError       **error);
/* NULL when the schema is not installed. */
GSettings   *xl_window_get_settings       (XlWindow      *self);

G_END_DECLS
