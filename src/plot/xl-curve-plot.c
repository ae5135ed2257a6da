/* xl-curve-plot.c — training curves.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-curve-plot.h"
#include "xl-plot-private.h"
#include "xl-plot.h"

/* Line widths in units, marker radius in em. */
#define RAW_WIDTH      1.0
#define BATCH_WIDTH    1.5
#define EPOCH_WIDTH    2.25
#define MARKER_RADIUS  0.3

void
xl_curve_plot_init (XlCurvePlot     *plot,
                    XlCurveModel    *model,
                    XlCurvePlotKind  kind)
{
  g_return_if_fail (plot != NULL);

  *plot = (XlCurvePlot) {
    .model = model,
    .x_label = "Epoch",
    .series_labels = {
      [XL_CURVE_TRAIN_BATCH] = "Train (per batch)",
      [XL_CURVE_TRAIN_EPOCH] = "Train",
      [XL_CURVE_VAL_EPOCH] = "Validation",
    },
    .colors = {
      [XL_CURVE_TRAIN_BATCH] = *xl_plot_palette (XL_PLOT_COLOR_TRAIN_BATCH),
      [XL_CURVE_TRAIN_EPOCH] = *xl_plot_palette (XL_PLOT_COLOR_TRAIN),
      [XL_CURVE_VAL_EPOCH] = *xl_plot_palette (XL_PLOT_COLOR_VAL),
    },
    .smoothing = 0.9,
    .show_raw_batches = TRUE,
    .x_max = NAN,
    .y_min = NAN,
    .y_max = NAN,
  };

  switch (kind)
    {
    case XL_CURVE_PLOT_LOSS:
      plot->title = "Loss";
      plot->y_label = "Cross-entropy loss";
      plot->y_include_zero = TRUE;
      break;
    case XL_CURVE_PLOT_ACCURACY:
      plot->title = "Accuracy";
      plot->y_label = "Accuracy";
      plot->percent = TRUE;
      break;
    default:
      g_return_if_reached ();
    }
}

/* What is drawn for a series: y is the smoothed value for batches. */
typedef struct {
  const XlCurvePoint *points;
  guint               n;
  double             *shown;
} SeriesView;

static void
series_views_init (const XlCurvePlot *plot,
                   SeriesView         views[XL_CURVE_N_SERIES])
{
  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    {
      SeriesView *view = &views[s];

      view->points = xl_curve_model_get_points (plot->model, s, &view->n);
      view->shown = g_new (double, MAX (view->n, 1));
      if (s == XL_CURVE_TRAIN_BATCH)
        xl_curve_smooth (view->points, view->n, plot->smoothing, view->shown);
      else
        for (guint i = 0; i < view->n; i++)
          view->shown[i] = view->points[i].value;
    }
}

static void
series_views_clear (SeriesView views[XL_CURVE_N_SERIES])
{
  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    g_clear_pointer (&views[s].shown, g_free);
}

/* The axes' data range: every drawn value, but not the raw batches, whose
 * spikes would flatten the rest (they are clipped instead). */
static void
data_range (const XlCurvePlot *plot,
            const SeriesView   views[XL_CURVE_N_SERIES],
            XlAxesSpec        *spec)
{
  double x_hi = 1.0;
  double y_lo = INFINITY;
  double y_hi = -INFINITY;
  double best = xl_curve_model_get_best_epoch (plot->model);
  double stop = xl_curve_model_get_stop_epoch (plot->model);

  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    for (guint i = 0; i < views[s].n; i++)
      {
        x_hi = MAX (x_hi, views[s].points[i].epoch);
        y_lo = MIN (y_lo, views[s].shown[i]);
        y_hi = MAX (y_hi, views[s].shown[i]);
      }
  if (isfinite (best))
    x_hi = MAX (x_hi, best);
  if (isfinite (stop))
    x_hi = MAX (x_hi, stop);
  if (isfinite (plot->x_max))
    x_hi = MAX (x_hi, plot->x_max);

  if (!isfinite (y_lo))
    {
      /* No data yet: an empty chart with a sensible scale. */
      y_lo = 0.0;
      y_hi = 1.0;
    }
  if (plot->y_include_zero)
    {
      y_lo = MIN (y_lo, 0.0);
      y_hi = MAX (y_hi, 0.0);
    }
  if (isfinite (plot->y_min))
    y_lo = plot->y_min;
  if (isfinite (plot->y_max))
    y_hi = plot->y_max;

  spec->x_lo = 0.0;
  spec->x_hi = x_hi;
  spec->y_lo = y_lo;
  spec->y_hi = y_hi;
  spec->expand_x = FALSE;
  spec->expand_y = !isfinite (plot->y_min) && !isfinite (plot->y_max);
  /* Whole epochs once there are a few; halves and fifths inside the first. */
  spec->min_x_step = x_hi >= 3.0 ? 1.0 : 0.0;
}

static void
stroke_series (XlPlotCanvas       *canvas,
               const XlPlotFrame  *frame,
               const XlCurvePoint *points,
               const double       *values,
               guint               n,
               const XlPlotColor  *color,
               double              alpha,
               double              width)
{
  cairo_t *cr = canvas->cr;

  if (n == 0)
    return;

  for (guint i = 0; i < n; i++)
    cairo_line_to (cr, xl_plot_frame_to_pixel_x (frame, points[i].epoch),
                   xl_plot_frame_to_pixel_y (frame, values[i]));
  if (n == 1)
    {
      /* A lone point still shows, as a dot. */
      cairo_rel_line_to (cr, 0, 0);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
    }
  xl_plot_set_color (cr, color, alpha);
  cairo_set_line_width (cr, width * canvas->unit);
  cairo_stroke (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
}

typedef struct {
  double x;            /* the line's pixel column */
  const char *text;
  double dash[2];
  guint n_dash;
  XlPlotColor color;
} EpochLine;

typedef struct {
  double x, y, width, height;
} Box;

static gboolean
box_is_free (const Box         *box,
             const XlPlotFrame *frame,
             const SeriesView   views[XL_CURVE_N_SERIES],
             const Box         *taken,
             guint              n_taken,
             double             margin)
{
  if (box->x < frame->x || box->x + box->width > frame->x + frame->width ||
      box->y < frame->y || box->y + box->height > frame->y + frame->height)
    return FALSE;

  for (guint i = 0; i < n_taken; i++)
    if (box->x < taken[i].x + taken[i].width && taken[i].x < box->x + box->width &&
        box->y < taken[i].y + taken[i].height && taken[i].y < box->y + box->height)
      return FALSE;

  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    for (guint i = 0; i < views[s].n; i++)
      {
        double px = xl_plot_frame_to_pixel_x (frame, views[s].points[i].epoch);
        double py = xl_plot_frame_to_pixel_y (frame, views[s].shown[i]);

        if (px >= box->x - margin && px <= box->x + box->width + margin &&
            py >= box->y - margin && py <= box->y + box->height + margin)
          return FALSE;
      }

  return TRUE;
}

/* Vertical lines, each labelled beside it on a white ground: at the top on
 * the right of the line, else at the top on its left, else at the bottom,
 * wherever no data point is hidden and no other label sits. */
static void
draw_epoch_lines (XlPlotCanvas      *canvas,
                  const XlPlotFrame *frame,
                  const SeriesView   views[XL_CURVE_N_SERIES],
                  const EpochLine   *lines,
                  guint              n_lines)
{
  cairo_t *cr = canvas->cr;
  Box taken[2];
  guint n_taken = 0;
  double inset = 0.3 * canvas->font_px;
  double margin = MARKER_RADIUS * canvas->font_px;

  for (guint i = 0; i < n_lines; i++)
    {
      cairo_save (cr);
      xl_plot_set_color (cr, &lines[i].color, 1.0);
      cairo_set_line_width (cr, 1.5 * canvas->unit);
      cairo_set_dash (cr, lines[i].dash, (int) lines[i].n_dash, 0);
      cairo_move_to (cr, lines[i].x, frame->y);
      cairo_line_to (cr, lines[i].x, frame->y + frame->height);
      cairo_stroke (cr);
      cairo_restore (cr);
    }

  for (guint i = 0; i < n_lines && i < G_N_ELEMENTS (taken); i++)
    {
      double text_width, full_width, text_height;
      double room = frame->width - 2 * inset;
      Box chosen = { 0 };
      gboolean found = FALSE;

      xl_plot_text_size (canvas, lines[i].text, 0.85, XL_TEXT_NORMAL, 0,
                         &full_width, &text_height);
      text_width = MIN (full_width, room);

      /* Rows from the top, then from the bottom; right of the line, then left. */
      for (guint attempt = 0; attempt < 8 && !found; attempt++)
        {
          guint row = attempt / 2 % 2;
          gboolean bottom = attempt >= 4;
          gboolean left = attempt % 2 == 1;
          Box candidate = {
            .x = left ? lines[i].x - inset - text_width - inset : lines[i].x + inset * 0.5,
            .y = bottom ? frame->y + frame->height - inset - (row + 1) * text_height
                        : frame->y + inset + row * text_height,
            .width = text_width + inset,
            .height = text_height,
          };

          if (box_is_free (&candidate, frame, views, taken, n_taken, margin))
            {
              chosen = candidate;
              found = TRUE;
            }
        }
      if (!found)
        {
          /* Crowded everywhere: top, beside the line, inside the plot. */
          chosen = (Box) {
            .x = lines[i].x + inset * 0.5,
            .y = frame->y + inset + n_taken * text_height,
            .width = text_width + inset,
            .height = text_height,
          };
          if (chosen.x + chosen.width > frame->x + frame->width)
            chosen.x = MAX (frame->x, lines[i].x - inset - chosen.width);
        }
      taken[n_taken++] = chosen;

      cairo_rectangle (cr, chosen.x, chosen.y, chosen.width, chosen.height);
      xl_plot_set_color (cr, &xl_plot_background, 0.85);
      cairo_fill (cr);
      xl_plot_text_draw (canvas, lines[i].text, 0.85, XL_TEXT_NORMAL,
                         full_width > text_width ? text_width : 0,
                         chosen.x + inset * 0.5, chosen.y, 0.0, 0.0, &xl_plot_text_color);
    }
}

static const XlPlotColor best_color = { 0.15, 0.15, 0.15 };

void
xl_curve_plot_draw (const XlCurvePlot *plot,
                    cairo_t           *cr,
                    double             width,
                    double             height,
                    XlPlotFrame       *frame_out)
{
  XlPlotCanvas canvas;
  SeriesView views[XL_CURVE_N_SERIES];
  XlLegendEntry legend[XL_CURVE_N_SERIES];
  XlAxesSpec spec = { 0 };
  XlAxes axes;
  EpochLine lines[2];
  guint n_legend = 0;
  guint n_lines = 0;
  double top, legend_width, legend_height, radius;
  double best, stop;
  g_autofree char *best_text = NULL;

  g_return_if_fail (plot != NULL && plot->model != NULL);
  g_return_if_fail (cr != NULL);

  cairo_save (cr);
  xl_plot_canvas_init (&canvas, cr, width, height, &plot->style);
  radius = MARKER_RADIUS * canvas.font_px;
  series_views_init (plot, views);

  xl_plot_draw_background (&canvas);
  top = xl_plot_draw_title (&canvas, plot->title);

  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    {
      if (plot->series_labels[s] == NULL)
        continue;
      legend[n_legend++] = (XlLegendEntry) {
        .label = plot->series_labels[s],
        .color = plot->colors[s],
        .line_width = s == XL_CURVE_TRAIN_BATCH ? BATCH_WIDTH : EPOCH_WIDTH,
        .marker = s == XL_CURVE_TRAIN_EPOCH ? XL_MARKER_SQUARE
                : s == XL_CURVE_VAL_EPOCH ? XL_MARKER_CIRCLE : XL_MARKER_NONE,
      };
    }
  if (n_legend > 0)
    {
      xl_plot_legend_size (&canvas, legend, n_legend, width - 2 * canvas.pad, FALSE, FALSE,
                           &legend_width, &legend_height);
      xl_plot_legend_draw (&canvas, legend, n_legend, width - 2 * canvas.pad, FALSE, FALSE,
                           (width - legend_width) / 2, top);
      top += legend_height + 0.3 * canvas.font_px;
    }

  spec.x_label = plot->x_label;
  spec.y_label = plot->y_label;
  spec.percent_y = plot->percent;
  data_range (plot, views, &spec);
  xl_plot_axes_layout (&canvas, &spec, canvas.pad, top, width - 2 * canvas.pad,
                       height - top - canvas.pad, &axes);
  xl_plot_axes_draw (&canvas, &spec, &axes);

  cairo_save (cr);
  cairo_rectangle (cr, axes.frame.x - radius - 1, axes.frame.y - radius - 1,
                   axes.frame.width + 2 * radius + 2, axes.frame.height + 2 * radius + 2);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);

  if (plot->show_raw_batches && plot->smoothing > 0)
    {
      g_autofree double *raw = g_new (double, MAX (views[XL_CURVE_TRAIN_BATCH].n, 1));

      for (guint i = 0; i < views[XL_CURVE_TRAIN_BATCH].n; i++)
        raw[i] = views[XL_CURVE_TRAIN_BATCH].points[i].value;
      cairo_save (cr);
      cairo_rectangle (cr, axes.frame.x, axes.frame.y, axes.frame.width, axes.frame.height);
      cairo_clip (cr);
      stroke_series (&canvas, &axes.frame, views[XL_CURVE_TRAIN_BATCH].points, raw,
                     views[XL_CURVE_TRAIN_BATCH].n, &plot->colors[XL_CURVE_TRAIN_BATCH],
                     0.3, RAW_WIDTH);
      cairo_restore (cr);
    }
  stroke_series (&canvas, &axes.frame, views[XL_CURVE_TRAIN_BATCH].points,
                 views[XL_CURVE_TRAIN_BATCH].shown, views[XL_CURVE_TRAIN_BATCH].n,
                 &plot->colors[XL_CURVE_TRAIN_BATCH], 1.0, BATCH_WIDTH);

  for (guint s = XL_CURVE_TRAIN_EPOCH; s <= XL_CURVE_VAL_EPOCH; s++)
    {
      XlMarker marker = s == XL_CURVE_TRAIN_EPOCH ? XL_MARKER_SQUARE : XL_MARKER_CIRCLE;

      if (views[s].n > 1)
        stroke_series (&canvas, &axes.frame, views[s].points, views[s].shown, views[s].n,
                       &plot->colors[s], 1.0, EPOCH_WIDTH);
      for (guint i = 0; i < views[s].n; i++)
        xl_plot_draw_marker (&canvas, marker,
                             xl_plot_frame_to_pixel_x (&axes.frame, views[s].points[i].epoch),
                             xl_plot_frame_to_pixel_y (&axes.frame, views[s].shown[i]),
                             radius, &plot->colors[s]);
    }
  cairo_restore (cr);

  best = xl_curve_model_get_best_epoch (plot->model);
  stop = xl_curve_model_get_stop_epoch (plot->model);
  if (isfinite (best))
    {
      best_text = plot->best_label != NULL ? g_strdup (plot->best_label)
                                           : g_strdup_printf ("Best epoch %g", best);
      lines[n_lines++] = (EpochLine) {
        .x = xl_plot_frame_to_pixel_x (&axes.frame, best),
        .text = best_text,
        .dash = { 5 * canvas.unit, 3 * canvas.unit },
        .n_dash = 2,
        .color = best_color,
      };
    }
  if (isfinite (stop))
    lines[n_lines++] = (EpochLine) {
      .x = xl_plot_frame_to_pixel_x (&axes.frame, stop),
      .text = plot->stop_label != NULL ? plot->stop_label : "Early stop",
      .dash = { 1.5 * canvas.unit, 2.5 * canvas.unit },
      .n_dash = 2,
      .color = *xl_plot_palette (XL_PLOT_COLOR_REDDISH_PURPLE),
    };
  draw_epoch_lines (&canvas, &axes.frame, views, lines, n_lines);

  if (frame_out != NULL)
    *frame_out = axes.frame;

  series_views_clear (views);
  xl_plot_canvas_clear (&canvas);
  cairo_restore (cr);
}

void
xl_curve_plot_draw_func (cairo_t  *cr,
                         double    width,
                         double    height,
                         gpointer  user_data)
{
  xl_curve_plot_draw (user_data, cr, width, height, NULL);
}

gboolean
xl_curve_plot_save (const XlCurvePlot *plot,
                    const char        *path,
                    int                width,
                    int                height,
                    GError           **error)
{
  g_return_val_if_fail (plot != NULL && plot->model != NULL, FALSE);

  return xl_plot_save (path, width, height, xl_curve_plot_draw_func, (gpointer) plot, error);
}

gboolean
xl_curve_plot_hit_test (const XlCurvePlot *plot,
                        const XlPlotFrame *frame,
                        double             x,
                        double             y,
                        double             radius,
                        XlCurveHit        *hit)
{
  SeriesView views[XL_CURVE_N_SERIES];
  double best_distance = INFINITY;
  gboolean found = FALSE;

  g_return_val_if_fail (plot != NULL && plot->model != NULL, FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);
  g_return_val_if_fail (hit != NULL, FALSE);

  series_views_init (plot, views);

  /* Epoch series first, so that they win ties. */
  for (int s = XL_CURVE_N_SERIES - 1; s >= 0; s--)
    for (guint i = 0; i < views[s].n; i++)
      {
        double px = xl_plot_frame_to_pixel_x (frame, views[s].points[i].epoch);
        double py = xl_plot_frame_to_pixel_y (frame, views[s].shown[i]);
        double distance = hypot (px - x, py - y);

        if (distance <= radius && distance < best_distance)
          {
            best_distance = distance;
            found = TRUE;
            *hit = (XlCurveHit) {
              .series = (XlCurveSeries) s,
              .index = i,
              .epoch = views[s].points[i].epoch,
              .value = views[s].points[i].value,
              .shown = views[s].shown[i],
              .x = px,
              .y = py,
            };
          }
      }

  series_views_clear (views);

  return found;
}
