/* xl-plot-draw.c — text, ticks, axes, legends and markers shared by the plots.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "xl-plot-private.h"

const XlPlotColor xl_plot_background = { 1.0, 1.0, 1.0 };
const XlPlotColor xl_plot_text_color = { 0.10, 0.10, 0.10 };
const XlPlotColor xl_plot_axis_color = { 0.25, 0.25, 0.25 };
const XlPlotColor xl_plot_grid_color = { 0.88, 0.88, 0.88 };

/* Canvas ---------------------------------------------------------------------- */

void
xl_plot_canvas_init (XlPlotCanvas      *canvas,
                     cairo_t           *cr,
                     double             width,
                     double             height,
                     const XlPlotStyle *style)
{
  const char *family = style != NULL && style->font_family != NULL ? style->font_family : "Sans";

  canvas->cr = cr;
  canvas->width = width;
  canvas->height = height;
  if (style != NULL && style->font_size > 0)
    canvas->font_px = style->font_size;
  else
    canvas->font_px = MAX (9.0, MIN (width, height * 4.0 / 3.0) / 36.0);
  canvas->unit = canvas->font_px / 12.0;
  canvas->pad = canvas->font_px * 0.75;
  canvas->layout = pango_cairo_create_layout (cr);
  canvas->font = pango_font_description_new ();
  pango_font_description_set_family (canvas->font, family);
}

void
xl_plot_canvas_clear (XlPlotCanvas *canvas)
{
  g_clear_object (&canvas->layout);
  g_clear_pointer (&canvas->font, pango_font_description_free);
}

void
xl_plot_set_color (cairo_t           *cr,
                   const XlPlotColor *color,
                   double             alpha)
{
  if (alpha >= 1.0)
    cairo_set_source_rgb (cr, color->red, color->green, color->blue);
  else
    cairo_set_source_rgba (cr, color->red, color->green, color->blue, alpha);
}

double
xl_plot_color_luminance (const XlPlotColor *color)
{
  double channel[3] = { color->red, color->green, color->blue };

  for (guint i = 0; i < 3; i++)
    channel[i] = channel[i] <= 0.04045 ? channel[i] / 12.92
                                       : pow ((channel[i] + 0.055) / 1.055, 2.4);

  return 0.2126 * channel[0] + 0.7152 * channel[1] + 0.0722 * channel[2];
}

/* Text ------------------------------------------------------------------------ */

static void
prepare_layout (XlPlotCanvas *canvas,
                const char   *text,
                double        scale,
                XlTextFlags   flags,
                double        max_width)
{
  pango_font_description_set_absolute_size (canvas->font,
                                            canvas->font_px * scale * PANGO_SCALE);
  pango_font_description_set_weight (canvas->font,
                                     flags & XL_TEXT_BOLD ? PANGO_WEIGHT_BOLD
                                                          : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (canvas->layout, canvas->font);
  pango_layout_set_text (canvas->layout, text, -1);
  pango_layout_set_alignment (canvas->layout,
                              flags & XL_TEXT_LEFT ? PANGO_ALIGN_LEFT : PANGO_ALIGN_CENTER);

  if (max_width > 0)
    {
      pango_layout_set_width (canvas->layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (canvas->layout, PANGO_ELLIPSIZE_END);
    }
  else
    {
      pango_layout_set_width (canvas->layout, -1);
      pango_layout_set_ellipsize (canvas->layout, PANGO_ELLIPSIZE_NONE);
    }
}

static void
layout_box (XlPlotCanvas   *canvas,
            PangoRectangle *box)
{
  pango_layout_get_extents (canvas->layout, NULL, box);
}

void
xl_plot_text_size (XlPlotCanvas *canvas,
                   const char   *text,
                   double        scale,
                   XlTextFlags   flags,
                   double        max_width,
                   double       *width,
                   double       *height)
{
  PangoRectangle box;

  prepare_layout (canvas, text, scale, flags, max_width);
  layout_box (canvas, &box);

  if (width != NULL)
    *width = (double) box.width / PANGO_SCALE;
  if (height != NULL)
    *height = (double) box.height / PANGO_SCALE;
}

void
xl_plot_text_draw (XlPlotCanvas      *canvas,
                   const char        *text,
                   double             scale,
                   XlTextFlags        flags,
                   double             max_width,
                   double             x,
                   double             y,
                   double             anchor_x,
                   double             anchor_y,
                   const XlPlotColor *color)
{
  PangoRectangle box;
  double box_x, box_y, box_width, box_height;

  prepare_layout (canvas, text, scale, flags, max_width);
  layout_box (canvas, &box);
  box_x = (double) box.x / PANGO_SCALE;
  box_y = (double) box.y / PANGO_SCALE;
  box_width = (double) box.width / PANGO_SCALE;
  box_height = (double) box.height / PANGO_SCALE;

  xl_plot_set_color (canvas->cr, color, 1.0);
  cairo_move_to (canvas->cr, x - anchor_x * box_width - box_x, y - anchor_y * box_height - box_y);
  pango_cairo_show_layout (canvas->cr, canvas->layout);
  cairo_new_path (canvas->cr);
}

void
xl_plot_text_draw_vertical (XlPlotCanvas      *canvas,
                            const char        *text,
                            double             scale,
                            XlTextFlags        flags,
                            double             max_length,
                            double             x,
                            double             y,
                            const XlPlotColor *color)
{
  cairo_save (canvas->cr);
  cairo_translate (canvas->cr, x, y);
  cairo_rotate (canvas->cr, -G_PI / 2);
  pango_cairo_update_layout (canvas->cr, canvas->layout);
  xl_plot_text_draw (canvas, text, scale, flags, max_length, 0, 0, 0.5, 0.5, color);
  cairo_restore (canvas->cr);
  pango_cairo_update_layout (canvas->cr, canvas->layout);
}

void
xl_plot_draw_background (XlPlotCanvas *canvas)
{
  xl_plot_set_color (canvas->cr, &xl_plot_background, 1.0);
  cairo_rectangle (canvas->cr, 0, 0, canvas->width, canvas->height);
  cairo_fill (canvas->cr);
}

double
xl_plot_draw_title (XlPlotCanvas *canvas,
                    const char   *title)
{
  double height;

  if (title == NULL || title[0] == '\0')
    return canvas->pad;

  xl_plot_text_size (canvas, title, 1.2, XL_TEXT_BOLD, canvas->width - 2 * canvas->pad,
                     NULL, &height);
  xl_plot_text_draw (canvas, title, 1.2, XL_TEXT_BOLD, canvas->width - 2 * canvas->pad,
                     canvas->width / 2, canvas->pad, 0.5, 0.0, &xl_plot_text_color);

  return canvas->pad + height + canvas->font_px * 0.4;
}

/* Ticks ----------------------------------------------------------------------- */

/* The smallest of 1, 2, 5 times a power of ten that is >= value. */
static double
nice_step_at_least (double value)
{
  double magnitude = pow (10.0, floor (log10 (value)));
  double mantissa = value / magnitude;

  if (mantissa <= 1.0 + 1e-9)
    return magnitude;
  if (mantissa <= 2.0 + 1e-9)
    return 2.0 * magnitude;
  if (mantissa <= 5.0 + 1e-9)
    return 5.0 * magnitude;
  return 10.0 * magnitude;
}

static double
next_nice_step (double step)
{
  return nice_step_at_least (step * 1.5);
}

void
xl_ticks_compute (XlTicks  *ticks,
                  double    lo,
                  double    hi,
                  guint     max_ticks,
                  gboolean  expand,
                  gboolean  percent,
                  double    min_step)
{
  double step;

  g_assert (isfinite (lo) && isfinite (hi));

  if (!(hi > lo))
    {
      double widen = fabs (lo) > 1e-12 ? fabs (lo) * 0.1 : 0.5;

      lo -= widen;
      hi += widen;
    }

  /* A widened range across zero needs three ticks at least (-s, 0, s). */
  max_ticks = CLAMP (max_ticks, expand ? 3 : 2, XL_TICKS_MAX);
  step = nice_step_at_least ((hi - lo) / (max_ticks - 1));
  if (min_step > 0)
    step = MAX (step, nice_step_at_least (min_step));

  for (guint attempt = 0; ; attempt++)
    {
      double first = ceil (lo / step - 1e-9);
      double last = floor (hi / step + 1e-9);

      if (expand)
        {
          ticks->lo = floor (lo / step + 1e-9) * step;
          ticks->hi = ceil (hi / step - 1e-9) * step;
          first = floor (lo / step + 1e-9);
          last = ceil (hi / step - 1e-9);
        }
      else
        {
          ticks->lo = lo;
          ticks->hi = hi;
        }

      /* The attempt bound only guards against a range that is not finite. */
      if (last - first + 1 <= max_ticks || attempt == 64)
        {
          ticks->n = 0;
          for (double k = first; k <= last && ticks->n < XL_TICKS_MAX; k++)
            {
              double value = k * step;

              if (fabs (value) < step * 1e-9)
                value = 0.0;
              ticks->values[ticks->n++] = value;
            }
          break;
        }

      step = next_nice_step (step);
    }

  ticks->step = step;
  ticks->percent = percent;
  ticks->decimals = MAX (0, (int) -floor (log10 (percent ? step * 100.0 : step) + 1e-9));
}

char *
xl_ticks_format (const XlTicks *ticks,
                 double         value)
{
  g_autofree char *number = NULL;

  number = g_strdup_printf ("%.*f%s", ticks->decimals,
                            fabs (ticks->percent ? value * 100.0 : value),
                            ticks->percent ? "%" : "");
  /* A real minus sign, and no "-0". */
  if (value < 0 && strspn (number, "0.,%") != strlen (number))
    return g_strconcat ("\u2212", number, NULL);

  return g_steal_pointer (&number);
}

static double
widest_tick_label (XlPlotCanvas  *canvas,
                   const XlTicks *ticks)
{
  double widest = 0.0;

  for (guint i = 0; i < ticks->n; i++)
    {
      g_autofree char *label = xl_ticks_format (ticks, ticks->values[i]);
      double width;

      xl_plot_text_size (canvas, label, 0.9, XL_TEXT_NORMAL, 0, &width, NULL);
      widest = MAX (widest, width);
    }

  return widest;
}

/* x ticks whose labels keep at least one em apart. */
static void
fit_x_ticks (XlPlotCanvas     *canvas,
             const XlAxesSpec *spec,
             double            plot_width,
             XlTicks          *ticks)
{
  guint max_ticks = (guint) CLAMP (plot_width / (canvas->font_px * 3.0), 2, XL_TICKS_MAX);

  for (;;)
    {
      double spacing;

      xl_ticks_compute (ticks, spec->x_lo, spec->x_hi, max_ticks, spec->expand_x,
                        spec->percent_x, spec->min_x_step);
      spacing = ticks->step / (ticks->hi - ticks->lo) * plot_width;
      if (max_ticks <= 2 || spacing >= widest_tick_label (canvas, ticks) + canvas->font_px)
        break;
      max_ticks--;
    }
}

/* Axes ------------------------------------------------------------------------ */

/* Text cut with an ellipsis only when it is wider than room. */
static void
draw_text_fitted (XlPlotCanvas *canvas,
                  const char   *text,
                  double        scale,
                  double        room,
                  double        x,
                  double        y,
                  double        anchor_x,
                  double        anchor_y)
{
  double width;

  xl_plot_text_size (canvas, text, scale, XL_TEXT_NORMAL, 0, &width, NULL);
  xl_plot_text_draw (canvas, text, scale, XL_TEXT_NORMAL, width > room + 0.01 ? MAX (room, 1.0) : 0,
                     x, y, anchor_x, anchor_y, &xl_plot_text_color);
}

void
xl_plot_axes_layout (XlPlotCanvas     *canvas,
                     const XlAxesSpec *spec,
                     double            x,
                     double            y,
                     double            width,
                     double            height,
                     XlAxes           *axes)
{
  double fp = canvas->font_px;
  double tick_length = 0.35 * fp;
  double gap = 0.3 * fp;
  double text_height, top, bottom, full_height, plot_height;
  double left = 0.0, right, plot_width = 1.0;
  guint y_max_ticks;

  xl_plot_text_size (canvas, "0", 0.9, XL_TEXT_NORMAL, 0, NULL, &text_height);

  top = text_height / 2;
  bottom = tick_length + gap + text_height;
  if (spec->x_label != NULL)
    bottom += gap + text_height / 0.9;
  full_height = plot_height = MAX (height - top - bottom, 1.0);
  right = gap;

  /* Tick labels decide the margins and the margins the ticks: a few passes
   * settle it. A square plot needs one more, to count its y ticks on the
   * final side. */
  for (guint pass = 0; pass < 4; pass++)
    {
      double last_px, overflow, last_width;
      g_autofree char *last_label = NULL;

      y_max_ticks = (guint) CLAMP (plot_height / (text_height * 2.2) + 1, 2, XL_TICKS_MAX);
      xl_ticks_compute (&axes->y_ticks, spec->y_lo, spec->y_hi, y_max_ticks, spec->expand_y,
                        spec->percent_y, spec->min_y_step);

      left = widest_tick_label (canvas, &axes->y_ticks) + gap + tick_length;
      if (spec->y_label != NULL)
        left += text_height / 0.9 + gap * 1.5;

      plot_width = MAX (width - left - right, 1.0);
      if (spec->square)
        {
          double side = MIN (plot_width, full_height);

          left += (plot_width - side) / 2;
          plot_width = plot_height = side;
        }

      fit_x_ticks (canvas, spec, plot_width, &axes->x_ticks);

      /* The last x label is centred on its tick: keep it inside the picture. */
      last_label = xl_ticks_format (&axes->x_ticks, axes->x_ticks.values[axes->x_ticks.n - 1]);
      xl_plot_text_size (canvas, last_label, 0.9, XL_TEXT_NORMAL, 0, &last_width, NULL);
      last_px = (axes->x_ticks.values[axes->x_ticks.n - 1] - axes->x_ticks.lo)
                / (axes->x_ticks.hi - axes->x_ticks.lo) * plot_width;
      overflow = left + last_px + last_width / 2 - (width - gap * 0.5);
      if (overflow > 0.5)
        right += overflow;
      else if (!spec->square || pass > 0)
        break;
    }

  axes->frame.x = x + left;
  /* A square plot in a tall picture sits in the middle of its height. */
  axes->frame.y = y + top + (full_height - plot_height) / 2;
  axes->frame.width = plot_width;
  axes->frame.height = plot_height;
  axes->frame.x_min = axes->x_ticks.lo;
  axes->frame.x_max = axes->x_ticks.hi;
  axes->frame.y_min = axes->y_ticks.lo;
  axes->frame.y_max = axes->y_ticks.hi;
  axes->x_label_y = axes->frame.y + plot_height + tick_length + gap + text_height + gap
                    + text_height / 0.9 / 2;
  axes->y_label_x = x + left - (widest_tick_label (canvas, &axes->y_ticks) + gap + tick_length)
                    - gap * 1.5 - text_height / 0.9 / 2;
}

void
xl_plot_axes_draw (XlPlotCanvas     *canvas,
                   const XlAxesSpec *spec,
                   const XlAxes     *axes)
{
  cairo_t *cr = canvas->cr;
  const XlPlotFrame *frame = &axes->frame;
  double tick_length = 0.35 * canvas->font_px;
  double gap = 0.3 * canvas->font_px;

  cairo_save (cr);

  cairo_set_line_width (cr, MAX (1.0, canvas->unit));
  xl_plot_set_color (cr, &xl_plot_grid_color, 1.0);
  for (guint i = 0; i < axes->x_ticks.n; i++)
    {
      double px = xl_plot_frame_to_pixel_x (frame, axes->x_ticks.values[i]);

      cairo_move_to (cr, px, frame->y);
      cairo_line_to (cr, px, frame->y + frame->height);
    }
  for (guint i = 0; i < axes->y_ticks.n; i++)
    {
      double py = xl_plot_frame_to_pixel_y (frame, axes->y_ticks.values[i]);

      cairo_move_to (cr, frame->x, py);
      cairo_line_to (cr, frame->x + frame->width, py);
    }
  cairo_stroke (cr);

  xl_plot_set_color (cr, &xl_plot_axis_color, 1.0);
  cairo_set_line_width (cr, 1.2 * canvas->unit);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  cairo_move_to (cr, frame->x, frame->y);
  cairo_line_to (cr, frame->x, frame->y + frame->height);
  cairo_line_to (cr, frame->x + frame->width, frame->y + frame->height);
  for (guint i = 0; i < axes->x_ticks.n; i++)
    {
      double px = xl_plot_frame_to_pixel_x (frame, axes->x_ticks.values[i]);

      cairo_move_to (cr, px, frame->y + frame->height);
      cairo_line_to (cr, px, frame->y + frame->height + tick_length);
    }
  for (guint i = 0; i < axes->y_ticks.n; i++)
    {
      double py = xl_plot_frame_to_pixel_y (frame, axes->y_ticks.values[i]);

      cairo_move_to (cr, frame->x, py);
      cairo_line_to (cr, frame->x - tick_length, py);
    }
  cairo_stroke (cr);
  cairo_restore (cr);

  for (guint i = 0; i < axes->x_ticks.n; i++)
    {
      g_autofree char *label = xl_ticks_format (&axes->x_ticks, axes->x_ticks.values[i]);

      xl_plot_text_draw (canvas, label, 0.9, XL_TEXT_NORMAL, 0,
                         xl_plot_frame_to_pixel_x (frame, axes->x_ticks.values[i]),
                         frame->y + frame->height + tick_length + gap,
                         0.5, 0.0, &xl_plot_text_color);
    }
  for (guint i = 0; i < axes->y_ticks.n; i++)
    {
      g_autofree char *label = xl_ticks_format (&axes->y_ticks, axes->y_ticks.values[i]);

      xl_plot_text_draw (canvas, label, 0.9, XL_TEXT_NORMAL, 0,
                         frame->x - tick_length - gap,
                         xl_plot_frame_to_pixel_y (frame, axes->y_ticks.values[i]),
                         1.0, 0.5, &xl_plot_text_color);
    }

  if (spec->x_label != NULL)
    {
      double centre = frame->x + frame->width / 2;
      double room = 2 * (MIN (centre, canvas->width - centre) - canvas->pad * 0.5);

      draw_text_fitted (canvas, spec->x_label, 1.0, room, centre, axes->x_label_y, 0.5, 0.5);
    }
  if (spec->y_label != NULL)
    xl_plot_text_draw_vertical (canvas, spec->y_label, 1.0, XL_TEXT_NORMAL, frame->height,
                                axes->y_label_x, frame->y + frame->height / 2,
                                &xl_plot_text_color);
}

/* Markers and legends --------------------------------------------------------- */

void
xl_plot_draw_marker (XlPlotCanvas      *canvas,
                     XlMarker           marker,
                     double             x,
                     double             y,
                     double             radius,
                     const XlPlotColor *color)
{
  cairo_t *cr = canvas->cr;

  switch (marker)
    {
    case XL_MARKER_NONE:
      return;
    case XL_MARKER_CIRCLE:
      cairo_new_sub_path (cr);
      cairo_arc (cr, x, y, radius, 0, 2 * G_PI);
      break;
    case XL_MARKER_SQUARE:
      /* Same area as the circle. */
      cairo_rectangle (cr, x - radius * 0.886, y - radius * 0.886, radius * 1.772, radius * 1.772);
      break;
    case XL_MARKER_DIAMOND:
      cairo_move_to (cr, x, y - radius * 1.25);
      cairo_line_to (cr, x + radius * 1.25, y);
      cairo_line_to (cr, x, y + radius * 1.25);
      cairo_line_to (cr, x - radius * 1.25, y);
      cairo_close_path (cr);
      break;
    default:
      g_assert_not_reached ();
    }

  xl_plot_set_color (cr, color, 1.0);
  cairo_fill_preserve (cr);
  xl_plot_set_color (cr, &xl_plot_background, 1.0);
  cairo_set_line_width (cr, 0.8 * canvas->unit);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_stroke (cr);
}

typedef struct {
  double swatch;      /* width of the line sample */
  double gap;         /* between sample and text */
  double spacing;     /* between entries on a row */
  double row_height;
  double box_pad;
} LegendMetrics;

static void
legend_metrics (XlPlotCanvas  *canvas,
                gboolean       boxed,
                LegendMetrics *metrics)
{
  double text_height;

  xl_plot_text_size (canvas, "Ag", 0.9, XL_TEXT_NORMAL, 0, NULL, &text_height);
  metrics->swatch = 1.8 * canvas->font_px;
  metrics->gap = 0.4 * canvas->font_px;
  metrics->spacing = 1.1 * canvas->font_px;
  metrics->row_height = text_height * 1.15;
  metrics->box_pad = boxed ? 0.5 * canvas->font_px : 0.0;
}

static double
legend_entry_width (XlPlotCanvas        *canvas,
                    const LegendMetrics *metrics,
                    const XlLegendEntry *entry,
                    double               max_text)
{
  double text_width;

  xl_plot_text_size (canvas, entry->label, 0.9, XL_TEXT_NORMAL, 0, &text_width, NULL);

  return metrics->swatch + metrics->gap + MIN (text_width, MAX (max_text, 1.0));
}

/* Flows entries into rows, calling back with each entry's position when
 * draw is set; returns the size. */
static void
legend_flow (XlPlotCanvas        *canvas,
             const XlLegendEntry *entries,
             guint                n_entries,
             double               max_width,
             gboolean             vertical,
             gboolean             boxed,
             gboolean             draw,
             double               x,
             double               y,
             double              *width,
             double              *height)
{
  LegendMetrics m;
  double inner_max, row_width = 0.0, widest = 0.0, total_height;
  guint row_start = 0;
  guint n_rows = 0;
  g_autofree double *entry_widths = g_new (double, MAX (n_entries, 1));
  g_autofree guint *entry_rows = g_new (guint, MAX (n_entries, 1));
  g_autofree double *row_widths = g_new0 (double, MAX (n_entries, 1));

  legend_metrics (canvas, boxed, &m);
  inner_max = max_width - 2 * m.box_pad;

  for (guint i = 0; i < n_entries; i++)
    {
      double w = legend_entry_width (canvas, &m, &entries[i], inner_max - m.swatch - m.gap);
      double with_spacing = (i == row_start ? 0.0 : m.spacing) + w;

      if (i > row_start && (vertical || row_width + with_spacing > inner_max))
        {
          row_widths[n_rows++] = row_width;
          row_start = i;
          row_width = w;
        }
      else
        row_width += with_spacing;
      entry_widths[i] = w;
      entry_rows[i] = n_rows;
    }
  if (n_entries > 0)
    row_widths[n_rows++] = row_width;

  for (guint r = 0; r < n_rows; r++)
    widest = MAX (widest, row_widths[r]);
  total_height = n_rows * m.row_height;

  if (width != NULL)
    *width = widest + 2 * m.box_pad;
  if (height != NULL)
    *height = total_height + 2 * m.box_pad;

  if (!draw)
    return;

  if (boxed)
    {
      cairo_t *cr = canvas->cr;

      cairo_rectangle (cr, x, y, widest + 2 * m.box_pad, total_height + 2 * m.box_pad);
      xl_plot_set_color (cr, &xl_plot_background, 0.9);
      cairo_fill_preserve (cr);
      xl_plot_set_color (cr, &xl_plot_grid_color, 1.0);
      cairo_set_line_width (cr, canvas->unit);
      cairo_stroke (cr);
    }

  {
    double cursor = 0.0;
    guint row = G_MAXUINT;

    for (guint i = 0; i < n_entries; i++)
      {
        const XlLegendEntry *entry = &entries[i];
        double row_x, cy, sx;
        cairo_t *cr = canvas->cr;

        if (entry_rows[i] != row)
          {
            row = entry_rows[i];
            /* Vertical legends are left-aligned, flowing ones centred. */
            row_x = vertical ? 0.0 : (widest - row_widths[row]) / 2;
            cursor = x + m.box_pad + row_x;
          }
        else
          cursor += m.spacing;

        cy = y + m.box_pad + (row + 0.5) * m.row_height;
        sx = cursor;

        if (entry->line_width > 0)
          {
            cairo_save (cr);
            xl_plot_set_color (cr, &entry->color, entry->alpha > 0 ? entry->alpha : 1.0);
            cairo_set_line_width (cr, entry->line_width * canvas->unit);
            if (entry->dash > 0)
              {
                double dash = entry->dash * canvas->unit;

                cairo_set_dash (cr, &dash, 1, 0);
              }
            cairo_move_to (cr, sx, cy);
            cairo_line_to (cr, sx + m.swatch, cy);
            cairo_stroke (cr);
            cairo_restore (cr);
          }
        xl_plot_draw_marker (canvas, entry->marker, sx + m.swatch / 2, cy,
                             0.3 * canvas->font_px, &entry->color);

        draw_text_fitted (canvas, entry->label, 0.9, entry_widths[i] - m.swatch - m.gap,
                          sx + m.swatch + m.gap, cy, 0.0, 0.5);
        cursor += entry_widths[i];
      }
  }
}

void
xl_plot_legend_size (XlPlotCanvas        *canvas,
                     const XlLegendEntry *entries,
                     guint                n_entries,
                     double               max_width,
                     gboolean             vertical,
                     gboolean             boxed,
                     double              *width,
                     double              *height)
{
  legend_flow (canvas, entries, n_entries, max_width, vertical, boxed, FALSE, 0, 0,
               width, height);
}

void
xl_plot_legend_draw (XlPlotCanvas        *canvas,
                     const XlLegendEntry *entries,
                     guint                n_entries,
                     double               max_width,
                     gboolean             vertical,
                     gboolean             boxed,
                     double               x,
                     double               y)
{
  legend_flow (canvas, entries, n_entries, max_width, vertical, boxed, TRUE, x, y, NULL, NULL);
}
