/* xl-curve-chart.h — a live training curve: an XlCurvePlot in a widget.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-plot.h"

G_BEGIN_DECLS

#define XL_TYPE_CURVE_CHART (xl_curve_chart_get_type ())

G_DECLARE_FINAL_TYPE (XlCurveChart, xl_curve_chart, XL, CURVE_CHART, GtkDrawingArea)

GtkWidget    *xl_curve_chart_new            (XlCurvePlotKind  kind);
XlCurvePlotKind xl_curve_chart_get_kind     (XlCurveChart    *self);
XlCurveModel *xl_curve_chart_get_model      (XlCurveChart    *self);
void          xl_curve_chart_set_model      (XlCurveChart    *self,
                                             XlCurveModel    *model);
/* The planned epochs keep the x axis still while a run goes on; 0 fits the data. */
void          xl_curve_chart_set_epochs     (XlCurveChart    *self,
                                             guint            epochs);
/* Redraws if the model changed since the last draw (its generation moved). */
void          xl_curve_chart_update         (XlCurveChart    *self);
/* What the pointer is over, as the tooltip says it; NULL when nothing. */
char         *xl_curve_chart_describe_point (XlCurveChart    *self,
                                             double           x,
                                             double           y);
guint         xl_curve_chart_get_n_draws    (XlCurveChart    *self);
/* Where the last draw put the data; FALSE before the first draw. */
gboolean      xl_curve_chart_get_frame      (XlCurveChart    *self,
                                             XlPlotFrame     *frame);

/* The widget's font size in pixels (points at 96 dpi), which the Cairo
 * charts draw their text at. */
double        xl_widget_font_pixels (GtkWidget *widget);

G_END_DECLS
