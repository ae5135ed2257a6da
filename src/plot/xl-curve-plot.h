/* xl-curve-plot.h — a training curve chart: one metric (loss or accuracy)
 * against epochs, train per batch and per epoch, validation per epoch, the
 * best epoch and the early stop.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "xl-curve-model.h"
#include "xl-plot-types.h"

G_BEGIN_DECLS

typedef enum {
  XL_CURVE_PLOT_LOSS,       /* y from 0, plain numbers */
  XL_CURVE_PLOT_ACCURACY,   /* values are fractions, shown as percentages */
} XlCurvePlotKind;

/* Strings are borrowed and drawn as they are: the GUI passes translated ones. */
typedef struct {
  XlCurveModel *model;                                /* borrowed */
  const char   *title;                                /* NULL: none */
  const char   *x_label;
  const char   *y_label;
  const char   *series_labels[XL_CURVE_N_SERIES];     /* legend; NULL leaves the series out of it */
  XlPlotColor   colors[XL_CURVE_N_SERIES];
  double        smoothing;         /* EMA weight of the batch series, see xl_curve_smooth() */
  gboolean      show_raw_batches;  /* the unsmoothed batches, faint, under the smoothed line */
  gboolean      percent;           /* tick labels as value * 100 "%" */
  gboolean      y_include_zero;
  double        x_max;             /* NAN: fit the data; the planned epochs keep the axis
                                      still while training */
  double        y_min, y_max;      /* NAN: fit the data (each on its own) */
  const char   *best_label;        /* NULL: "Best epoch N" */
  const char   *stop_label;        /* NULL: "Early stop" */
  XlPlotStyle   style;
} XlCurvePlot;

/* Defaults for kind: title "Loss" or "Accuracy", x label "Epoch", legend
 * "Train (per batch)", "Train", "Validation", smoothing 0.9 (about ten batches),
 * raw batches shown. */
void xl_curve_plot_init (XlCurvePlot     *plot,
                         XlCurveModel    *model,
                         XlCurvePlotKind  kind);

/* Draws onto (0, 0, width, height) of cr's user space; frame (may be NULL)
 * receives the plot area and the data range mapped onto it. */
void xl_curve_plot_draw (const XlCurvePlot *plot,
                         cairo_t           *cr,
                         double             width,
                         double             height,
                         XlPlotFrame       *frame);
/* An XlPlotDrawFunc; user_data is the XlCurvePlot. */
void xl_curve_plot_draw_func (cairo_t  *cr,
                              double    width,
                              double    height,
                              gpointer  user_data);
gboolean xl_curve_plot_save (const XlCurvePlot *plot,
                             const char        *path,
                             int                width,
                             int                height,
                             GError           **error);

typedef struct {
  XlCurveSeries series;
  guint         index;     /* into the series' points */
  double        epoch;
  double        value;     /* as appended */
  double        shown;     /* as drawn: the smoothed value for batches */
  double        x, y;      /* where it is drawn */
} XlCurveHit;

/* The drawn point nearest to (x, y), within radius pixels, given the frame
 * of the last draw. Epoch points win over batch points at equal distance. */
gboolean xl_curve_plot_hit_test (const XlCurvePlot *plot,
                                 const XlPlotFrame *frame,
                                 double             x,
                                 double             y,
                                 double             radius,
                                 XlCurveHit        *hit);

G_END_DECLS
