/* xl-roc-plot.h — ROC curves: the chance diagonal, one curve (or one per class),
 * AUC in the legend, and up to two marked thresholds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "xl-metrics.h"
#include "xl-plot-types.h"

G_BEGIN_DECLS

#define XL_ROC_PLOT_MAX_CURVES  8
#define XL_ROC_PLOT_MAX_MARKERS 2

typedef struct {
  const XlRocCurve *curve;   /* borrowed */
  const char       *label;   /* legend: "PNEUMONIA" shows as "PNEUMONIA (AUC 0.951)" */
} XlRocPlotCurve;

/* A point marked on the chart with its label, threshold, sensitivity and
 * specificity written beside it. */
typedef struct {
  double      fpr;
  double      tpr;
  double      threshold;
  const char *label;         /* "Youden", "Threshold 0.5"; NULL: "Threshold" */
} XlRocPlotMarker;

typedef struct {
  const char     *title;
  const char     *x_label;
  const char     *y_label;
  const char     *chance_label;     /* the diagonal's legend entry */
  XlRocPlotCurve  curves[XL_ROC_PLOT_MAX_CURVES];
  guint           n_curves;
  XlRocPlotMarker markers[XL_ROC_PLOT_MAX_MARKERS];
  guint           n_markers;
  double          macro_auc;        /* NAN: not shown; else a legend line (one-vs-rest) */
  const char     *macro_label;      /* NULL: "Macro-average AUC" */
  XlPlotStyle     style;
} XlRocPlot;

/* Title "ROC curve", axes "False positive rate (1 − specificity)" and "True
 * positive rate (sensitivity)", no curves. */
void xl_roc_plot_init       (XlRocPlot        *plot);
/* Curve i is drawn in xl_plot_series_color (i). FALSE when full. */
gboolean xl_roc_plot_add_curve  (XlRocPlot        *plot,
                                 const XlRocCurve *curve,
                                 const char       *label);
/* Marks a point, e.g. the one xl_roc_curve_youden() chose. FALSE when full. */
gboolean xl_roc_plot_add_marker (XlRocPlot        *plot,
                                 const XlRocPoint *point,
                                 const char       *label);
/* Marks the operating point of metrics taken at a threshold, e.g. 0.5: its
 * label then shows that threshold, not the score of the nearest curve point. */
gboolean xl_roc_plot_add_metrics_marker (XlRocPlot             *plot,
                                         const XlBinaryMetrics *metrics,
                                         const char            *label);

void xl_roc_plot_draw       (const XlRocPlot *plot,
                             cairo_t         *cr,
                             double           width,
                             double           height,
                             XlPlotFrame     *frame);
void xl_roc_plot_draw_func  (cairo_t  *cr,
                             double    width,
                             double    height,
                             gpointer  user_data);
gboolean xl_roc_plot_save   (const XlRocPlot *plot,
                             const char      *path,
                             int              width,
                             int              height,
                             GError         **error);

/* The curve point nearest to (x, y) within radius pixels, given the frame of
 * the last draw: which curve, and which of its points (for a tooltip with
 * the threshold). */
gboolean xl_roc_plot_hit_test (const XlRocPlot *plot,
                               const XlPlotFrame *frame,
                               double           x,
                               double           y,
                               double           radius,
                               guint           *curve_index,
                               guint           *point_index);

G_END_DECLS
