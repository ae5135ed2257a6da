/* xl-confusion-plot.h — a confusion matrix: counts and row percentages in each
 * cell, coloured by the share of the true class, with a colour bar.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "xl-metrics.h"
#include "xl-plot-types.h"

G_BEGIN_DECLS

typedef struct {
  const XlConfusionMatrix *matrix;        /* borrowed */
  const char * const      *class_names;   /* (n_classes), borrowed; NULL: "0", "1", ... */
  const char              *title;
  const char              *x_label;       /* over the predicted classes (columns) */
  const char              *y_label;       /* over the true classes (rows) */
  const char              *scale_label;   /* the colour bar's */
  XlPlotStyle              style;
} XlConfusionPlot;

/* Title "Confusion matrix", axes "Predicted" and "True", colour bar
 * "% of true class". */
void xl_confusion_plot_init (XlConfusionPlot         *plot,
                             const XlConfusionMatrix *matrix,
                             const char * const      *class_names);

/* frame (may be NULL) maps columns to x in [0, n] and rows to y in [0, n]
 * with row 0 at the top: cell (t, p) spans x in [p, p+1], y in [t, t+1]. */
void xl_confusion_plot_draw      (const XlConfusionPlot *plot,
                                  cairo_t               *cr,
                                  double                 width,
                                  double                 height,
                                  XlPlotFrame           *frame);
void xl_confusion_plot_draw_func (cairo_t  *cr,
                                  double    width,
                                  double    height,
                                  gpointer  user_data);
gboolean xl_confusion_plot_save  (const XlConfusionPlot *plot,
                                  const char            *path,
                                  int                    width,
                                  int                    height,
                                  GError               **error);

/* The cell under (x, y), given the frame of the last draw. */
gboolean xl_confusion_plot_hit_test (const XlConfusionPlot *plot,
                                     const XlPlotFrame     *frame,
                                     double                 x,
                                     double                 y,
                                     guint                 *true_class,
                                     guint                 *predicted_class);

/* The sequential scale (ColorBrewer "Blues", darker for larger shares) at a
 * share in [0, 1]; NAN (an empty row) is a neutral grey. */
void xl_confusion_plot_cell_color (double       fraction,
                                   XlPlotColor *color);

G_END_DECLS
