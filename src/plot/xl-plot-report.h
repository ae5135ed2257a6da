/* xl-plot-report.h — the pictures and the PDF of a run folder.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "xl-run-report.h"

G_BEGIN_DECLS

/* Writes run_dir/plots/{loss,accuracy,roc,confusion-matrix,augmented-batch}.{png,svg}
 * and run_dir/report.pdf. An XlRunReportFunc for xl_train_session_set_report_func. */
gboolean xl_plot_write_run_report (const XlRunReport *report, GError **error);

/* For `xraylab-cli eval`: out_dir/plots/{roc,confusion-matrix}.{png,svg}. */
gboolean xl_plot_write_eval_report (const char *out_dir, const XlDataset *ds,
                                    const XlModelInfo *info, const XlPredictions *preds,
                                    double threshold, GError **error);

G_END_DECLS
