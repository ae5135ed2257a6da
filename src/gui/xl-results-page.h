/* xl-results-page.h — the Results view: a run's test metrics at a chosen
 * threshold, its confusion matrix, ROC curve and curves, and their exports.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-confusion-view.h"
#include "xl-curve-chart.h"
#include "xl-roc-view.h"
#include "xl-run-folder.h"

G_BEGIN_DECLS

#define XL_TYPE_RESULTS_PAGE (xl_results_page_get_type ())

G_DECLARE_FINAL_TYPE (XlResultsPage, xl_results_page, XL, RESULTS_PAGE, GtkWidget)

/* The plots the page shows and exports. */
typedef enum {
  XL_RESULTS_PLOT_CONFUSION,
  XL_RESULTS_PLOT_ROC,
  XL_RESULTS_PLOT_LOSS,
  XL_RESULTS_PLOT_ACCURACY,
  XL_RESULTS_N_PLOTS,
} XlResultsPlot;

/* The threshold presets; the last two are chosen on the validation split. */
typedef enum {
  XL_THRESHOLD_PRESET_HALF,
  XL_THRESHOLD_PRESET_YOUDEN,
  XL_THRESHOLD_PRESET_SENSITIVITY_95,
} XlThresholdPreset;

/* Shows a finished run (a new reference is taken), or the empty state for
 * NULL; a run without test predictions shows an error state. The threshold
 * starts at the run's own. */
void         xl_results_page_set_run       (XlResultsPage *self,
                                            XlRunFolder   *run);
XlRunFolder *xl_results_page_get_run       (XlResultsPage *self);

/* The decision threshold on P(positive class), 0..1: the "threshold"
 * property, which the Review view follows. */
double       xl_results_page_get_threshold (XlResultsPage *self);
void         xl_results_page_set_threshold (XlResultsPage *self,
                                            double         threshold);

/* The threshold a preset would choose; FALSE when this run cannot say
 * (no validation predictions, a one-class split, more than two classes). */
gboolean     xl_results_page_get_preset    (XlResultsPage     *self,
                                            XlThresholdPreset  preset,
                                            double            *threshold);
/* Sets the threshold to a preset's; FALSE, nothing changed, when it has none. */
gboolean     xl_results_page_apply_preset  (XlResultsPage     *self,
                                            XlThresholdPreset  preset);

/* The test split's binary metrics at the current threshold, and the ROC
 * AUC; FALSE when no binary run is shown. */
gboolean     xl_results_page_get_metrics   (XlResultsPage   *self,
                                            XlBinaryMetrics *metrics,
                                            double          *auc);

/* "Reference: Kermany et al. 2018" is shown beside the metrics. */
gboolean     xl_results_page_get_shows_reference (XlResultsPage *self);

XlConfusionView *xl_results_page_get_confusion_view (XlResultsPage *self);
XlRocView       *xl_results_page_get_roc_view       (XlResultsPage *self);
XlCurveChart    *xl_results_page_get_loss_chart     (XlResultsPage *self);
XlCurveChart    *xl_results_page_get_accuracy_chart (XlResultsPage *self);

/* Draws a plot as shown, at width x height, into path (.png, .svg or .pdf),
 * atomically. */
gboolean     xl_results_page_export_plot   (XlResultsPage  *self,
                                            XlResultsPlot   plot,
                                            const char     *path,
                                            int             width,
                                            int             height,
                                            GError        **error);
/* The one-click export: RUN/plots/confusion-matrix-threshold-T.png at
 * 800x600. Returns the path written, or NULL with error set. */
char        *xl_results_page_save_confusion_png (XlResultsPage  *self,
                                                 GError        **error);

/* The plot Ctrl+E exports: the focused one, else the one under the
 * pointer; XL_RESULTS_N_PLOTS when neither. */
XlResultsPlot xl_results_page_get_export_target (XlResultsPage *self);

/* Write on a worker thread, then show a toast; the file appears complete
 * (written to a temporary name, then renamed) or not at all. */
void         xl_results_page_export_report (XlResultsPage *self,
                                            const char    *path);
void         xl_results_page_save_model    (XlResultsPage *self,
                                            const char    *path);

/* The text of the last toast the page showed (or would have shown, when it
 * is not inside an AdwToastOverlay); NULL before the first. */
const char  *xl_results_page_get_last_message (XlResultsPage *self);

/* Signals:
 *   "show-films" (guint true_class, guint predicted_class): a confusion
 *   matrix cell was activated; the window opens Review on those films. */

G_END_DECLS
