/* xl-split-chart.h — films per split and class, as stacked bars.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-dataset.h"

G_BEGIN_DECLS

#define XL_TYPE_SPLIT_CHART (xl_split_chart_get_type ())

G_DECLARE_FINAL_TYPE (XlSplitChart, xl_split_chart, XL, SPLIT_CHART, GtkWidget)

/* Rows: train, val, test and, after a re-split, "set aside" (XL_SPLIT_NONE). */
#define XL_SPLIT_CHART_N_ROWS (XL_N_SPLITS + 1)

GtkWidget *xl_split_chart_new        (void);
/* counts is [XL_SPLIT_CHART_N_ROWS][n_classes], row-major; copied. */
void       xl_split_chart_set_counts (XlSplitChart       *self,
                                      guint               n_classes,
                                      const char * const *class_names,
                                      const guint        *counts);
guint      xl_split_chart_get_count  (XlSplitChart       *self,
                                      XlSplit             split,
                                      guint               class_index);
guint      xl_split_chart_get_n_classes (XlSplitChart    *self);

G_END_DECLS
