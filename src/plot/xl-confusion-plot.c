/* xl-confusion-plot.c — the confusion matrix as a coloured table.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-confusion-plot.h"
#include "xl-plot-private.h"
#include "xl-plot.h"

/* ColorBrewer "Blues", 9 classes: lightness falls monotonically, so darker
 * always means a larger share, in colour and in grey print. */
static const XlPlotColor blues[] = {
  { 0xf7 / 255.0, 0xfb / 255.0, 0xff / 255.0 },
  { 0xde / 255.0, 0xeb / 255.0, 0xf7 / 255.0 },
  { 0xc6 / 255.0, 0xdb / 255.0, 0xef / 255.0 },
  { 0x9e / 255.0, 0xca / 255.0, 0xe1 / 255.0 },
  { 0x6b / 255.0, 0xae / 255.0, 0xd6 / 255.0 },
  { 0x42 / 255.0, 0x92 / 255.0, 0xc6 / 255.0 },
  { 0x21 / 255.0, 0x71 / 255.0, 0xb5 / 255.0 },
  { 0x08 / 255.0, 0x51 / 255.0, 0x9c / 255.0 },
  { 0x08 / 255.0, 0x30 / 255.0, 0x6b / 255.0 },
};

static const XlPlotColor empty_row_color = { 0.90, 0.90, 0.90 };

void
xl_confusion_plot_cell_color (double       fraction,
                              XlPlotColor *color)
{
  double position, t;
  guint index;

  g_return_if_fail (color != NULL);

  if (isnan (fraction))
    {
      *color = empty_row_color;
      return;
    }

  position = CLAMP (fraction, 0.0, 1.0) * (G_N_ELEMENTS (blues) - 1);
  index = MIN ((guint) position, G_N_ELEMENTS (blues) - 2);
  t = position - index;
  color->red = blues[index].red + t * (blues[index + 1].red - blues[index].red);
  color->green = blues[index].green + t * (blues[index + 1].green - blues[index].green);
  color->blue = blues[index].blue + t * (blues[index + 1].blue - blues[index].blue);
}

void
xl_confusion_plot_init (XlConfusionPlot         *plot,
                        const XlConfusionMatrix *matrix,
                        const char * const      *class_names)
{
  g_return_if_fail (plot != NULL);

  *plot = (XlConfusionPlot) {
    .matrix = matrix,
    .class_names = class_names,
    .title = "Confusion matrix",
    .x_label = "Predicted",
    .y_label = "True",
    .scale_label = "% of true class",
  };
}

/* Black or white, whichever contrasts more with the cell (WCAG). */
static const XlPlotColor *
text_color_on (const XlPlotColor *fill)
{
  static const XlPlotColor white = { 1.0, 1.0, 1.0 };
  double luminance = xl_plot_color_luminance (fill);

  /* (L + 0.05) / 0.05 against black vs 1.05 / (L + 0.05) against white. */
  return (luminance + 0.05) * (luminance + 0.05) > 1.05 * 0.05 ? &xl_plot_text_color : &white;
}

static char *
class_name (const XlConfusionPlot *plot,
            guint                  index)
{
  if (plot->class_names != NULL && plot->class_names[index] != NULL)
    return g_strdup (plot->class_names[index]);

  return g_strdup_printf ("%u", index);
}

static void
draw_cell_text (XlPlotCanvas      *canvas,
                guint64            count,
                double             fraction,
                double             cx,
                double             cy,
                double             cell,
                const XlPlotColor *color)
{
  g_autofree char *count_text = g_strdup_printf ("%" G_GUINT64_FORMAT, count);
  g_autofree char *share_text = isnan (fraction) ? g_strdup ("\u2014")
                                                 : g_strdup_printf ("%.1f%%", fraction * 100.0);
  double count_width, count_height, share_width, share_height, scale;

  xl_plot_text_size (canvas, count_text, 1.1, XL_TEXT_BOLD, 0, &count_width, &count_height);
  xl_plot_text_size (canvas, share_text, 0.85, XL_TEXT_NORMAL, 0, &share_width, &share_height);

  /* Shrink rather than clip when cells are small (many classes, small picture). */
  scale = MIN (1.0, 0.85 * cell / MAX (count_width, share_width));
  scale = MIN (scale, 0.8 * cell / (count_height + share_height));

  xl_plot_text_draw (canvas, count_text, 1.1 * scale, XL_TEXT_BOLD, 0,
                     cx, cy - (count_height + share_height) * scale / 2, 0.5, 0.0, color);
  xl_plot_text_draw (canvas, share_text, 0.85 * scale, XL_TEXT_NORMAL, 0,
                     cx, cy - (count_height + share_height) * scale / 2 + count_height * scale,
                     0.5, 0.0, color);
}

static void
draw_color_bar (XlPlotCanvas *canvas,
                const char   *label,
                double        x,
                double        y,
                double        bar_width,
                double        bar_height,
                double        tick_length,
                double        gap)
{
  cairo_t *cr = canvas->cr;
  cairo_pattern_t *gradient = cairo_pattern_create_linear (0, y + bar_height, 0, y);
  double widest = 0.0;

  /* The same piecewise-linear sRGB ramp as the cells. */
  for (guint i = 0; i < G_N_ELEMENTS (blues); i++)
    cairo_pattern_add_color_stop_rgb (gradient, (double) i / (G_N_ELEMENTS (blues) - 1),
                                      blues[i].red, blues[i].green, blues[i].blue);
  cairo_rectangle (cr, x, y, bar_width, bar_height);
  cairo_set_source (cr, gradient);
  cairo_fill_preserve (cr);
  cairo_pattern_destroy (gradient);
  xl_plot_set_color (cr, &xl_plot_axis_color, 1.0);
  cairo_set_line_width (cr, canvas->unit);
  cairo_stroke (cr);

  for (guint i = 0; i <= 4; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u%%", i * 25);
      double ty = y + bar_height - bar_height * i / 4.0;
      double text_width;

      cairo_move_to (cr, x + bar_width, ty);
      cairo_line_to (cr, x + bar_width + tick_length, ty);
      cairo_stroke (cr);
      xl_plot_text_size (canvas, text, 0.85, XL_TEXT_NORMAL, 0, &text_width, NULL);
      widest = MAX (widest, text_width);
      xl_plot_text_draw (canvas, text, 0.85, XL_TEXT_NORMAL, 0, x + bar_width + tick_length + gap,
                         ty, 0.0, 0.5, &xl_plot_text_color);
    }

  if (label != NULL)
    {
      double text_height;

      xl_plot_text_size (canvas, label, 0.9, XL_TEXT_NORMAL, 0, NULL, &text_height);
      xl_plot_text_draw_vertical (canvas, label, 0.9, XL_TEXT_NORMAL, bar_height,
                                  x + bar_width + tick_length + gap + widest + gap + text_height / 2,
                                  y + bar_height / 2, &xl_plot_text_color);
    }
}

void
xl_confusion_plot_draw (const XlConfusionPlot *plot,
                        cairo_t               *cr,
                        double                 width,
                        double                 height,
                        XlPlotFrame           *frame_out)
{
  XlPlotCanvas canvas;
  guint n;
  double fp, gap, top, text_height, axis_text_height, row_label_width = 0.0, left, right, bottom;
  double tick_length, bar_width, bar_label_width, percent_width, available_width, available_height;
  double cell, matrix_x, matrix_y, shift_x;
  XlPlotFrame frame;

  g_return_if_fail (plot != NULL && plot->matrix != NULL);
  g_return_if_fail (cr != NULL);

  n = plot->matrix->n_classes;

  cairo_save (cr);
  xl_plot_canvas_init (&canvas, cr, width, height, &plot->style);
  fp = canvas.font_px;
  gap = 0.35 * fp;
  tick_length = 0.3 * fp;
  bar_width = 0.9 * fp;

  xl_plot_draw_background (&canvas);
  top = xl_plot_draw_title (&canvas, plot->title) + 0.3 * fp;

  xl_plot_text_size (&canvas, "Ag", 0.9, XL_TEXT_NORMAL, 0, NULL, &text_height);
  xl_plot_text_size (&canvas, "Ag", 1.0, XL_TEXT_NORMAL, 0, NULL, &axis_text_height);
  for (guint c = 0; c < n; c++)
    {
      g_autofree char *name = class_name (plot, c);
      double name_width;

      xl_plot_text_size (&canvas, name, 0.9, XL_TEXT_NORMAL, 0, &name_width, NULL);
      row_label_width = MAX (row_label_width, name_width);
    }
  row_label_width = MIN (row_label_width, 0.25 * width);

  xl_plot_text_size (&canvas, "100%", 0.85, XL_TEXT_NORMAL, 0, &percent_width, NULL);
  bar_label_width = plot->scale_label != NULL ? text_height + gap : 0.0;

  left = canvas.pad + (plot->y_label != NULL ? axis_text_height + gap : 0.0) + row_label_width + gap;
  right = 1.2 * fp + bar_width + tick_length + gap + percent_width + gap + bar_label_width
          + canvas.pad;
  bottom = gap + text_height + (plot->x_label != NULL ? gap + axis_text_height : 0.0) + canvas.pad;

  available_width = MAX (width - left - right, 1.0);
  available_height = MAX (height - top - bottom, 1.0);
  cell = MIN (available_width, available_height) / n;
  shift_x = (available_width - cell * n) / 2;
  matrix_x = left + shift_x;
  matrix_y = top + (available_height - cell * n) / 2;

  frame = (XlPlotFrame) {
    .x = matrix_x, .y = matrix_y, .width = cell * n, .height = cell * n,
    .x_min = 0, .x_max = n, .y_min = n, .y_max = 0,
  };

  for (guint t = 0; t < n; t++)
    for (guint p = 0; p < n; p++)
      {
        double fraction = xl_confusion_matrix_row_fraction (plot->matrix, t, p);
        XlPlotColor fill;

        xl_confusion_plot_cell_color (fraction, &fill);
        cairo_rectangle (cr, matrix_x + p * cell, matrix_y + t * cell, cell, cell);
        xl_plot_set_color (cr, &fill, 1.0);
        cairo_fill (cr);
        draw_cell_text (&canvas, xl_confusion_matrix_get (plot->matrix, t, p), fraction,
                        matrix_x + (p + 0.5) * cell, matrix_y + (t + 0.5) * cell, cell,
                        text_color_on (&fill));
      }

  /* Thin white rules between cells, a grey frame around them. */
  cairo_set_line_width (cr, MAX (1.0, canvas.unit));
  xl_plot_set_color (cr, &xl_plot_background, 1.0);
  for (guint i = 1; i < n; i++)
    {
      cairo_move_to (cr, matrix_x + i * cell, matrix_y);
      cairo_line_to (cr, matrix_x + i * cell, matrix_y + n * cell);
      cairo_move_to (cr, matrix_x, matrix_y + i * cell);
      cairo_line_to (cr, matrix_x + n * cell, matrix_y + i * cell);
    }
  cairo_stroke (cr);
  xl_plot_set_color (cr, &xl_plot_axis_color, 1.0);
  cairo_rectangle (cr, matrix_x, matrix_y, n * cell, n * cell);
  cairo_stroke (cr);

  for (guint c = 0; c < n; c++)
    {
      g_autofree char *name = class_name (plot, c);
      double name_width;

      /* Rows: right-aligned left of the matrix; columns: centred under it. */
      xl_plot_text_size (&canvas, name, 0.9, XL_TEXT_NORMAL, 0, &name_width, NULL);
      xl_plot_text_draw (&canvas, name, 0.9, XL_TEXT_NORMAL,
                         name_width > row_label_width ? row_label_width : 0,
                         matrix_x - gap, matrix_y + (c + 0.5) * cell, 1.0, 0.5,
                         &xl_plot_text_color);
      xl_plot_text_draw (&canvas, name, 0.9, XL_TEXT_NORMAL,
                         name_width > cell - gap ? MAX (cell - gap, 1.0) : 0,
                         matrix_x + (c + 0.5) * cell, matrix_y + n * cell + gap, 0.5, 0.0,
                         &xl_plot_text_color);
    }

  if (plot->x_label != NULL)
    xl_plot_text_draw (&canvas, plot->x_label, 1.0, XL_TEXT_BOLD, 0,
                       matrix_x + n * cell / 2, matrix_y + n * cell + gap + text_height + gap,
                       0.5, 0.0, &xl_plot_text_color);
  if (plot->y_label != NULL)
    xl_plot_text_draw_vertical (&canvas, plot->y_label, 1.0, XL_TEXT_BOLD, n * cell,
                                matrix_x - gap - row_label_width - gap - axis_text_height / 2,
                                matrix_y + n * cell / 2, &xl_plot_text_color);

  draw_color_bar (&canvas, plot->scale_label, matrix_x + n * cell + 1.2 * fp, matrix_y,
                  bar_width, n * cell, tick_length, gap);

  if (frame_out != NULL)
    *frame_out = frame;

  xl_plot_canvas_clear (&canvas);
  cairo_restore (cr);
}

void
xl_confusion_plot_draw_func (cairo_t  *cr,
                             double    width,
                             double    height,
                             gpointer  user_data)
{
  xl_confusion_plot_draw (user_data, cr, width, height, NULL);
}

gboolean
xl_confusion_plot_save (const XlConfusionPlot *plot,
                        const char            *path,
                        int                    width,
                        int                    height,
                        GError               **error)
{
  g_return_val_if_fail (plot != NULL && plot->matrix != NULL, FALSE);

  return xl_plot_save (path, width, height, xl_confusion_plot_draw_func, (gpointer) plot, error);
}

gboolean
xl_confusion_plot_hit_test (const XlConfusionPlot *plot,
                            const XlPlotFrame     *frame,
                            double                 x,
                            double                 y,
                            guint                 *true_class,
                            guint                 *predicted_class)
{
  double column, row;
  guint n;

  g_return_val_if_fail (plot != NULL && plot->matrix != NULL, FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  n = plot->matrix->n_classes;
  if (!xl_plot_frame_contains (frame, x, y))
    return FALSE;

  column = floor (xl_plot_frame_from_pixel_x (frame, x));
  row = floor (xl_plot_frame_from_pixel_y (frame, y));
  if (column < 0 || row < 0)
    return FALSE;

  /* The far edges belong to the last cell. */
  if (true_class != NULL)
    *true_class = MIN ((guint) row, n - 1);
  if (predicted_class != NULL)
    *predicted_class = MIN ((guint) column, n - 1);

  return TRUE;
}
