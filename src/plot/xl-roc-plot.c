/* xl-roc-plot.c — ROC curves with AUC and marked thresholds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-plot-private.h"
#include "xl-plot.h"
#include "xl-roc-plot.h"

#define CURVE_WIDTH 2.25

static const XlPlotColor chance_color = { 0.55, 0.55, 0.55 };

void
xl_roc_plot_init (XlRocPlot *plot)
{
  g_return_if_fail (plot != NULL);

  *plot = (XlRocPlot) {
    .title = "ROC curve",
    .x_label = "False positive rate (1 \u2212 specificity)",
    .y_label = "True positive rate (sensitivity)",
    .chance_label = "Chance",
    .macro_auc = NAN,
  };
}

gboolean
xl_roc_plot_add_curve (XlRocPlot        *plot,
                       const XlRocCurve *curve,
                       const char       *label)
{
  g_return_val_if_fail (plot != NULL, FALSE);
  g_return_val_if_fail (curve != NULL, FALSE);

  if (plot->n_curves >= XL_ROC_PLOT_MAX_CURVES)
    return FALSE;

  plot->curves[plot->n_curves++] = (XlRocPlotCurve) { curve, label };

  return TRUE;
}

gboolean
xl_roc_plot_add_marker (XlRocPlot        *plot,
                        const XlRocPoint *point,
                        const char       *label)
{
  g_return_val_if_fail (plot != NULL, FALSE);
  g_return_val_if_fail (point != NULL, FALSE);

  if (plot->n_markers >= XL_ROC_PLOT_MAX_MARKERS)
    return FALSE;

  plot->markers[plot->n_markers++] = (XlRocPlotMarker) {
    .fpr = point->fpr,
    .tpr = point->tpr,
    .threshold = point->threshold,
    .label = label,
  };

  return TRUE;
}

gboolean
xl_roc_plot_add_metrics_marker (XlRocPlot             *plot,
                                const XlBinaryMetrics *metrics,
                                const char            *label)
{
  g_return_val_if_fail (plot != NULL, FALSE);
  g_return_val_if_fail (metrics != NULL, FALSE);

  if (plot->n_markers >= XL_ROC_PLOT_MAX_MARKERS)
    return FALSE;

  plot->markers[plot->n_markers++] = (XlRocPlotMarker) {
    .fpr = 1.0 - metrics->specificity,
    .tpr = metrics->sensitivity,
    .threshold = metrics->threshold,
    .label = label,
  };

  return TRUE;
}

static gboolean
curve_is_drawable (const XlRocCurve *curve)
{
  return curve != NULL && curve->flags == XL_ROC_FLAGS_NONE && curve->n_points > 0;
}

static char *
curve_legend_text (const XlRocPlotCurve *entry)
{
  const char *label = entry->label != NULL ? entry->label : "ROC";

  if (!curve_is_drawable (entry->curve))
    return g_strdup_printf ("%s (AUC undefined: one class only)", label);

  return g_strdup_printf ("%s (AUC %.3f)", label, entry->curve->auc);
}

typedef struct {
  double x, y, width, height;
} Box;

static double
overlap_area (const Box *a,
              const Box *b)
{
  double width = MIN (a->x + a->width, b->x + b->width) - MAX (a->x, b->x);
  double height = MIN (a->y + a->height, b->y + b->height) - MAX (a->y, b->y);

  return width > 0 && height > 0 ? width * height : 0.0;
}

/* Labels each marker beside its point: below right if free, else another
 * corner, avoiding the legend, the marked points and the labels placed
 * before. */
static void
draw_markers (XlPlotCanvas      *canvas,
              const XlRocPlot   *plot,
              const XlPlotFrame *frame,
              const Box         *legend)
{
  static const XlMarker shapes[XL_ROC_PLOT_MAX_MARKERS] = { XL_MARKER_CIRCLE, XL_MARKER_DIAMOND };
  Box placed[2 * XL_ROC_PLOT_MAX_MARKERS + 1];
  guint n_placed = 0;
  double radius = 0.38 * canvas->font_px;
  double offset = 0.6 * canvas->font_px;
  double inset = 0.25 * canvas->font_px;
  double icon = 2.2 * radius;

  if (legend != NULL)
    placed[n_placed++] = *legend;
  /* No label may hide a marked point. */
  for (guint i = 0; i < plot->n_markers; i++)
    if (isfinite (plot->markers[i].fpr) && isfinite (plot->markers[i].tpr))
      placed[n_placed++] = (Box) {
        .x = xl_plot_frame_to_pixel_x (frame, plot->markers[i].fpr) - radius,
        .y = xl_plot_frame_to_pixel_y (frame, plot->markers[i].tpr) - radius,
        .width = 2 * radius,
        .height = 2 * radius,
      };

  for (guint i = 0; i < plot->n_markers; i++)
    {
      const XlRocPlotMarker *marker = &plot->markers[i];
      const XlPlotColor *color = xl_plot_palette (XL_PLOT_COLOR_BLACK);
      g_autofree char *first = NULL;
      g_autofree char *text = NULL;
      double px, py, full_width, text_width, text_height;
      Box chosen = { 0 };
      gboolean found = FALSE;
      double least_hidden = INFINITY;

      if (!isfinite (marker->fpr) || !isfinite (marker->tpr))
        continue;

      px = xl_plot_frame_to_pixel_x (frame, marker->fpr);
      py = xl_plot_frame_to_pixel_y (frame, marker->tpr);

      if (isfinite (marker->threshold))
        first = g_strdup_printf ("%s: t = %.4g", marker->label != NULL ? marker->label : "Threshold",
                                 marker->threshold);
      else
        first = g_strdup (marker->label != NULL ? marker->label : "Threshold");
      text = g_strdup_printf ("%s\nSens %.1f%%, spec %.1f%%", first,
                              marker->tpr * 100.0, (1.0 - marker->fpr) * 100.0);

      /* The label starts with its marker's shape, so that two labels are
       * never taken for each other's. */
      xl_plot_text_size (canvas, text, 0.8, XL_TEXT_LEFT, 0, &full_width, &text_height);
      text_width = MIN (full_width, frame->width - 2 * inset - icon);

      /* The first free corner; when none is, the one that hides least. */
      for (guint corner = 0; corner < 4 && !found; corner++)
        {
          Box candidate = {
            .x = corner % 2 == 0 ? px + offset : px - offset - icon - text_width - 2 * inset,
            .y = corner < 2 ? py + offset : py - offset - text_height,
            .width = icon + text_width + 2 * inset,
            .height = text_height,
          };
          double hidden = 0.0;

          candidate.x = CLAMP (candidate.x, frame->x, frame->x + frame->width - candidate.width);
          candidate.y = CLAMP (candidate.y, frame->y, frame->y + frame->height - candidate.height);
          for (guint p = 0; p < n_placed; p++)
            hidden += overlap_area (&candidate, &placed[p]);
          if (hidden < least_hidden)
            {
              least_hidden = hidden;
              chosen = candidate;
              found = hidden == 0.0;
            }
        }
      placed[n_placed++] = chosen;

      cairo_rectangle (canvas->cr, chosen.x, chosen.y, chosen.width, chosen.height);
      xl_plot_set_color (canvas->cr, &xl_plot_background, 0.85);
      cairo_fill (canvas->cr);
      xl_plot_text_draw (canvas, text, 0.8, XL_TEXT_LEFT, full_width > text_width ? text_width : 0,
                         chosen.x + inset + icon, chosen.y, 0.0, 0.0, &xl_plot_text_color);
      xl_plot_draw_marker (canvas, shapes[i], chosen.x + inset + radius * 0.8,
                           chosen.y + text_height / 4, radius * 0.8, color);

      xl_plot_draw_marker (canvas, shapes[i], px, py, radius, color);
    }
}

void
xl_roc_plot_draw (const XlRocPlot *plot,
                  cairo_t         *cr,
                  double           width,
                  double           height,
                  XlPlotFrame     *frame_out)
{
  XlPlotCanvas canvas;
  XlAxesSpec spec = {
    .x_label = plot->x_label,
    .y_label = plot->y_label,
    .x_lo = 0.0, .x_hi = 1.0,
    .y_lo = 0.0, .y_hi = 1.0,
    .square = TRUE,
  };
  XlAxes axes;
  XlLegendEntry legend[XL_ROC_PLOT_MAX_CURVES + 2];
  char *legend_texts[XL_ROC_PLOT_MAX_CURVES + 2] = { NULL };
  guint n_legend = 0;
  double top, legend_width, legend_height, margin;
  Box legend_box;
  const XlPlotFrame *frame;

  g_return_if_fail (plot != NULL);
  g_return_if_fail (cr != NULL);

  cairo_save (cr);
  xl_plot_canvas_init (&canvas, cr, width, height, &plot->style);
  xl_plot_draw_background (&canvas);
  top = xl_plot_draw_title (&canvas, plot->title);

  xl_plot_axes_layout (&canvas, &spec, canvas.pad, top, width - 2 * canvas.pad,
                       height - top - canvas.pad, &axes);
  xl_plot_axes_draw (&canvas, &spec, &axes);
  frame = &axes.frame;

  /* The chance diagonal. */
  cairo_save (cr);
  {
    double dash[2] = { 4 * canvas.unit, 3 * canvas.unit };

    xl_plot_set_color (cr, &chance_color, 1.0);
    cairo_set_line_width (cr, 1.5 * canvas.unit);
    cairo_set_dash (cr, dash, 2, 0);
    cairo_move_to (cr, xl_plot_frame_to_pixel_x (frame, 0), xl_plot_frame_to_pixel_y (frame, 0));
    cairo_line_to (cr, xl_plot_frame_to_pixel_x (frame, 1), xl_plot_frame_to_pixel_y (frame, 1));
    cairo_stroke (cr);
  }
  cairo_restore (cr);

  cairo_save (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_width (cr, CURVE_WIDTH * canvas.unit);
  /* Drawn last to first, so that curve 0 (the binary curve, or class 0) is on top. */
  for (guint c = plot->n_curves; c-- > 0;)
    {
      const XlRocCurve *curve = plot->curves[c].curve;

      if (!curve_is_drawable (curve))
        continue;
      for (guint i = 0; i < curve->n_points; i++)
        cairo_line_to (cr, xl_plot_frame_to_pixel_x (frame, curve->points[i].fpr),
                       xl_plot_frame_to_pixel_y (frame, curve->points[i].tpr));
      xl_plot_set_color (cr, xl_plot_series_color (c), 1.0);
      cairo_stroke (cr);
    }
  cairo_restore (cr);

  for (guint c = 0; c < plot->n_curves; c++)
    {
      legend_texts[n_legend] = curve_legend_text (&plot->curves[c]);
      legend[n_legend] = (XlLegendEntry) {
        .label = legend_texts[n_legend],
        .color = *xl_plot_series_color (c),
        .line_width = CURVE_WIDTH,
      };
      n_legend++;
    }
  if (isfinite (plot->macro_auc))
    {
      legend_texts[n_legend] = g_strdup_printf ("%s %.3f", plot->macro_label != NULL
                                                           ? plot->macro_label
                                                           : "Macro-average AUC",
                                                plot->macro_auc);
      legend[n_legend] = (XlLegendEntry) { .label = legend_texts[n_legend] };
      n_legend++;
    }
  if (plot->chance_label != NULL)
    {
      legend_texts[n_legend] = g_strdup_printf ("%s (AUC 0.5)", plot->chance_label);
      legend[n_legend] = (XlLegendEntry) {
        .label = legend_texts[n_legend],
        .color = chance_color,
        .line_width = 1.5,
        .dash = 4,
      };
      n_legend++;
    }

  margin = 0.4 * canvas.font_px;
  xl_plot_legend_size (&canvas, legend, n_legend, frame->width - 2 * margin, TRUE, TRUE,
                       &legend_width, &legend_height);
  legend_box = (Box) {
    .x = frame->x + frame->width - margin - legend_width,
    .y = frame->y + frame->height - margin - legend_height,
    .width = legend_width,
    .height = legend_height,
  };
  if (n_legend > 0)
    xl_plot_legend_draw (&canvas, legend, n_legend, frame->width - 2 * margin, TRUE, TRUE,
                         legend_box.x, legend_box.y);

  draw_markers (&canvas, plot, frame, n_legend > 0 ? &legend_box : NULL);

  if (frame_out != NULL)
    *frame_out = *frame;

  for (guint i = 0; i < n_legend; i++)
    g_free (legend_texts[i]);
  xl_plot_canvas_clear (&canvas);
  cairo_restore (cr);
}

void
xl_roc_plot_draw_func (cairo_t  *cr,
                       double    width,
                       double    height,
                       gpointer  user_data)
{
  xl_roc_plot_draw (user_data, cr, width, height, NULL);
}

gboolean
xl_roc_plot_save (const XlRocPlot *plot,
                  const char      *path,
                  int              width,
                  int              height,
                  GError         **error)
{
  g_return_val_if_fail (plot != NULL, FALSE);

  return xl_plot_save (path, width, height, xl_roc_plot_draw_func, (gpointer) plot, error);
}

gboolean
xl_roc_plot_hit_test (const XlRocPlot   *plot,
                      const XlPlotFrame *frame,
                      double             x,
                      double             y,
                      double             radius,
                      guint             *curve_index,
                      guint             *point_index)
{
  double best_distance = INFINITY;

  g_return_val_if_fail (plot != NULL, FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  for (guint c = 0; c < plot->n_curves; c++)
    {
      const XlRocCurve *curve = plot->curves[c].curve;

      if (!curve_is_drawable (curve))
        continue;
      for (guint i = 0; i < curve->n_points; i++)
        {
          double distance = hypot (xl_plot_frame_to_pixel_x (frame, curve->points[i].fpr) - x,
                                   xl_plot_frame_to_pixel_y (frame, curve->points[i].tpr) - y);

          if (distance <= radius && distance < best_distance)
            {
              best_distance = distance;
              if (curve_index != NULL)
                *curve_index = c;
              if (point_index != NULL)
                *point_index = i;
            }
        }
    }

  return isfinite (best_distance);
}
