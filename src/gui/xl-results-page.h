/* xl-results-page.h — the Results view: a run's test metrics at a chosen
 * threshold, its confusion matrix, ROC curve and curves, and their exports.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-run-folder.h"

G_BEGIN_DECLS

#define XL_TYPE_RESULTS_PAGE (xl_results_page_get_type ())

G_DECLARE_FINAL_TYPE (XlResultsPage, xl_results_page, XL, RESULTS_PAGE, GtkWidget)

/* Shows a finished run (a new reference is taken), or the empty state for
 * NULL. The threshold starts at the run's own. */
void         xl_results_page_set_run       (XlResultsPage *self,
                                            XlRunFolder   *run);
XlRunFolder *xl_results_page_get_run       (XlResultsPage *self);

/* The decision threshold on P(positive class), 0..1: the "threshold"
 * property, which the Review view follows. */
double       xl_results_page_get_threshold (XlResultsPage *self);
void         xl_results_page_set_threshold (XlResultsPage *self,
                                            double         threshold);

/* Signals:
 *   "show-films" (guint true_class, guint predicted_class): a confusion
 *   matrix cell was activated; the window opens Review on those films. */

G_END_DECLS
