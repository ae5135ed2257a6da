/* xl-roc-view.h — a ROC curve in a widget, drawn by src/plot, with the
 * operating point of the chosen threshold marked on it.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-plot.h"

G_BEGIN_DECLS

#define XL_TYPE_ROC_VIEW (xl_roc_view_get_type ())

G_DECLARE_FINAL_TYPE (XlRocView, xl_roc_view, XL, ROC_VIEW, GtkDrawingArea)

GtkWidget *xl_roc_view_new            (void);

/* One curve (binary: the positive class's), taken over (transfer full);
 * NULL shows nothing. label names it in the legend. */
void       xl_roc_view_set_curve      (XlRocView             *self,
                                       XlRocCurve            *curve,
                                       const char            *label);
/* One curve per class, taken over; class_names (n_classes) are copied. */
void       xl_roc_view_set_one_vs_rest (XlRocView            *self,
                                        XlRocOneVsRest       *ovr,
                                        const char * const   *class_names);

/* The operating point at a threshold, marked and labelled; NULL for none. */
void       xl_roc_view_set_operating_point (XlRocView             *self,
                                            const XlBinaryMetrics *metrics);
/* FALSE when no point is marked. */
gboolean   xl_roc_view_get_operating_point (XlRocView             *self,
                                            XlBinaryMetrics       *metrics);

/* The plot as the view draws it; valid until the view changes. An export
 * leaves style.font_size at 0. */
void       xl_roc_view_init_plot      (XlRocView             *self,
                                       XlRocPlot             *plot);

gboolean   xl_roc_view_get_frame      (XlRocView             *self,
                                       XlPlotFrame           *frame);

/* Signals:
 *   "threshold-picked" (double threshold): a point of the curve was
 *   clicked; its threshold is offered as the new one. */

G_END_DECLS
