/* xl-confusion-view.h — a confusion matrix in a widget: counts and row
 * percentages drawn by src/plot, each cell a target that opens its films.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-plot.h"

G_BEGIN_DECLS

#define XL_TYPE_CONFUSION_VIEW (xl_confusion_view_get_type ())

G_DECLARE_FINAL_TYPE (XlConfusionView, xl_confusion_view, XL, CONFUSION_VIEW, GtkDrawingArea)

GtkWidget               *xl_confusion_view_new         (void);

/* Shows a copy of matrix, its classes named by class_names (n_classes
 * strings, copied); NULL shows nothing. */
void                     xl_confusion_view_set_matrix  (XlConfusionView         *self,
                                                        const XlConfusionMatrix *matrix,
                                                        const char * const      *class_names);
const XlConfusionMatrix *xl_confusion_view_get_matrix  (XlConfusionView         *self);

/* The plot as the view draws it (translated words); its pointers stay valid
 * until the matrix changes. The view passes the desktop's font size; an
 * export leaves style.font_size at 0 so text scales with the picture. */
void                     xl_confusion_view_init_plot   (XlConfusionView         *self,
                                                        XlConfusionPlot         *plot);

/* The cell that the keyboard moves and Enter activates. */
void                     xl_confusion_view_get_cursor  (XlConfusionView         *self,
                                                        guint                   *true_class,
                                                        guint                   *predicted_class);
void                     xl_confusion_view_set_cursor  (XlConfusionView         *self,
                                                        guint                    true_class,
                                                        guint                    predicted_class);

/* Emits "cell-activated" (guint true_class, guint predicted_class), as a
 * click or Enter on the cell does. */
void                     xl_confusion_view_activate_cell (XlConfusionView       *self,
                                                          guint                  true_class,
                                                          guint                  predicted_class);

/* Where the last draw put the cells; FALSE before the first draw. */
gboolean                 xl_confusion_view_get_frame   (XlConfusionView         *self,
                                                        XlPlotFrame             *frame);

G_END_DECLS
