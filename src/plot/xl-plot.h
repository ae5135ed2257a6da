/* xl-plot.h — Cairo drawing of training curves, ROC curves, confusion
 * matrices and image grids, onto any cairo_t: a widget, a PNG, an SVG or a
 * PDF. Include this one header.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each plot is a struct that describes it (xl_*_init() fills defaults; the
 * data it points to is borrowed) and four functions:
 *   xl_*_draw (plot, cr, width, height, &frame)  paints (0, 0, width, height)
 *   xl_*_draw_func                               the same as an XlPlotDrawFunc
 *   xl_*_save (plot, path, width, height, error) .png/.svg/.pdf, atomically
 *   xl_*_hit_test (plot, &frame, x, y, ...)      what is under a pixel
 * Text and lines scale with the picture unless style.font_size is set.
 */
#pragma once

#include "xl-plot-types.h"
#include "xl-curve-model.h"
#include "xl-curve-plot.h"
#include "xl-roc-plot.h"
#include "xl-confusion-plot.h"
#include "xl-image-grid.h"
