/* xl-heatmap.c — a class-activation heatmap over its film.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "xl-heatmap.h"
#include "xl-plot-private.h"
#include "xl-plot.h"

#define HEATMAP_NOTICE "X-Ray Lab is a research tool, not a diagnostic device."
#define MAX_SIDE 16384

/* A film reads best on a dark surround, as on a light box. */
static const XlPlotColor background = { 0.07, 0.07, 0.08 };
static const XlPlotColor text_color = { 0.92, 0.92, 0.92 };
static const XlPlotColor notice_color = { 1.0, 0.85, 0.45 };

/* Colormaps --------------------------------------------------------------------- */

static const char *const colormap_names[XL_N_COLORMAPS] = { "turbo", "inferno", "jet" };

const char *
xl_colormap_name (XlColormap colormap)
{
  return (guint) colormap < XL_N_COLORMAPS ? colormap_names[colormap] : "turbo";
}

gboolean
xl_colormap_from_name (const char *name,
                       XlColormap *colormap)
{
  for (guint i = 0; name != NULL && i < XL_N_COLORMAPS; i++)
    if (g_ascii_strcasecmp (name, colormap_names[i]) == 0)
      {
        *colormap = (XlColormap) i;
        return TRUE;
      }
  return FALSE;
}

/* c[0] + c[1] t + ... + c[n-1] t^(n-1), by Horner's rule */
static double
polynomial (const double *c,
            guint         n,
            double        t)
{
  double v = c[n - 1];

  for (guint i = n - 1; i-- > 0;)
    v = v * t + c[i];
  return v;
}

/* Turbo (Mikhailov, Google AI blog, 2019): the published degree-5 fit of the
 * 256-entry table, within about 0.03 of it except at the darkest red end. */
static const double turbo_red[6] = { 0.13572138, 4.61539260, -42.66032258, 132.13108234,
                                     -152.94239396, 59.28637943 };
static const double turbo_green[6] = { 0.09140261, 2.19418839, 4.84296658, -14.18503333,
                                       4.27729857, 2.82956604 };
static const double turbo_blue[6] = { 0.10667330, 12.64194608, -60.58204836, 110.36276771,
                                      -89.90310912, 27.34824973 };

/* Inferno (van der Walt & Smith, matplotlib 2015): a degree-6 least-squares
 * fit of matplotlib's table (Matt Zucker's), within about 0.02 of it. */
static const double inferno_red[7] = { 0.0002189403691192265, 0.1065134194856116,
                                       11.60249308247187, -41.70399613139459,
                                       77.162935699427, -71.31942824499214,
                                       25.13112622477341 };
static const double inferno_green[7] = { 0.001651004631001012, 0.5639564367884091,
                                         -3.972853965665698, 17.43639888205313,
                                         -33.40235894210092, 32.62606426397723,
                                         -12.24266895238567 };
static const double inferno_blue[7] = { -0.01948089843709184, 3.932712388889277,
                                        -15.9423941062914, 44.35414519872813,
                                        -81.80730925738993, 73.20951985803202,
                                        -23.07032500287172 };

void
xl_colormap_color (XlColormap   colormap,
                   double       t,
                   XlPlotColor *color)
{
  if (!(t > 0))
    t = 0;
  if (t > 1)
    t = 1;

  switch (colormap)
    {
    case XL_COLORMAP_INFERNO:
      color->red = polynomial (inferno_red, 7, t);
      color->green = polynomial (inferno_green, 7, t);
      color->blue = polynomial (inferno_blue, 7, t);
      break;
    case XL_COLORMAP_JET:
      /* MATLAB's jet: dark blue, blue, cyan, yellow, red, dark red, piecewise
       * linear; each channel a tent 1.5 - |4t - k| */
      color->red = 1.5 - fabs (4 * t - 3);
      color->green = 1.5 - fabs (4 * t - 2);
      color->blue = 1.5 - fabs (4 * t - 1);
      break;
    case XL_COLORMAP_TURBO:
    default:
      color->red = polynomial (turbo_red, 6, t);
      color->green = polynomial (turbo_green, 6, t);
      color->blue = polynomial (turbo_blue, 6, t);
      break;
    }
  color->red = CLAMP (color->red, 0.0, 1.0);
  color->green = CLAMP (color->green, 0.0, 1.0);
  color->blue = CLAMP (color->blue, 0.0, 1.0);
}

/* The heatmap ----------------------------------------------------------------- */

void
xl_heatmap_init (XlHeatmap *heatmap)
{
  g_return_if_fail (heatmap != NULL);

  *heatmap = (XlHeatmap) {
    .value_min = 0.0,
    .value_max = 1.0,
    .colormap = XL_COLORMAP_TURBO,
    .opacity = 0.45,
    .color_bar = TRUE,
  };
}

cairo_surface_t *
xl_heatmap_overlay_new (const XlHeatmap *heatmap)
{
  cairo_surface_t *surface;
  guint8 *data;
  int stride;
  double range, opacity;
  guint32 lut[256];

  g_return_val_if_fail (heatmap != NULL, NULL);

  if (heatmap->heat == NULL || heatmap->heat_width == 0 || heatmap->heat_height == 0
      || heatmap->heat_width > MAX_SIDE || heatmap->heat_height > MAX_SIDE)
    return NULL;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) heatmap->heat_width,
                                        (int) heatmap->heat_height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }

  /* 256 levels are more than the eye tells apart in any of the colormaps */
  opacity = CLAMP (heatmap->opacity, 0.0, 1.0);
  for (guint i = 0; i < 256; i++)
    {
      XlPlotColor c;
      guint32 a = (guint32) lround (opacity * 255);

      xl_colormap_color (heatmap->colormap, i / 255.0, &c);
      lut[i] = a << 24 | (guint32) lround (c.red * a) << 16 | (guint32) lround (c.green * a) << 8
               | (guint32) lround (c.blue * a);
    }

  range = heatmap->value_max - heatmap->value_min;
  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (guint y = 0; y < heatmap->heat_height; y++)
    {
      const float *in = heatmap->heat + (gsize) y * heatmap->heat_width;  /* (width) */
      guint32 *out = (guint32 *) (gpointer) (data + (gsize) y * stride);    /* (width) ARGB */

      for (guint x = 0; x < heatmap->heat_width; x++)
        {
          double t;

          if (isnan (in[x]))
            {
              out[x] = 0;
              continue;
            }
          t = range > 0 ? (in[x] - heatmap->value_min) / range : 0.0;
          out[x] = lut[(int) lround (CLAMP (t, 0.0, 1.0) * 255)];
        }
    }
  cairo_surface_mark_dirty (surface);
  return surface;
}

typedef struct {
  double  film_x, film_y, film_width, film_height;   /* where the film is drawn */
  double  area_width, area_height;                   /* room left for the film */
  double  panel_width;                               /* colour bar and its labels */
  double  text_height;                               /* caption and notice under the film */
  double  line_height;
  double  bar_width, tick_width;
  gboolean label_below;                              /* the bar's label too long to stand
                                                        beside it: a line under the film */
  XlTicks ticks;
} HeatmapLayout;

static void
heatmap_ticks (const XlHeatmap *heatmap,
               XlTicks         *ticks)
{
  double lo = heatmap->value_min, hi = heatmap->value_max;

  if (!(hi > lo))
    hi = lo + 1;
  xl_ticks_compute (ticks, lo, hi, 6, FALSE, FALSE, 0.0);
}

/* The text under the film without the bar's label: the caption and the notice. */
static double
layout_base_text (XlPlotCanvas    *canvas,
                  const XlHeatmap *heatmap)
{
  double h;

  xl_plot_text_size (canvas, "Ag", 0.9, XL_TEXT_NORMAL, 0, NULL, &h);
  return canvas->pad * 0.8 + (h + 0.2 * canvas->font_px) * (heatmap->caption != NULL ? 2 : 1);
}

/* Everything but the film's box depends only on the text size and on the
 * height the whole picture has (which decides whether the bar's label fits
 * beside the bar), so that an export can be sized to show the film pixel for
 * pixel. */
static void
heatmap_layout_fixed (XlPlotCanvas    *canvas,
                      const XlHeatmap *heatmap,
                      double           height,
                      HeatmapLayout   *layout)
{
  const double f = canvas->font_px;
  double h;
  guint lines = heatmap->caption != NULL ? 2 : 1;

  g_assert (canvas->font_px > 0);
  memset (layout, 0, sizeof *layout);
  xl_plot_text_size (canvas, "Ag", 0.9, XL_TEXT_NORMAL, 0, NULL, &h);
  layout->line_height = h + 0.2 * f;
  if (heatmap->color_bar && heatmap->color_bar_label != NULL)
    {
      double label_w;

      /* the bar spans the film's height less a line: a longer label goes
       * under the film, whole, rather than cut beside a short bar */
      xl_plot_text_size (canvas, heatmap->color_bar_label, 0.8, XL_TEXT_NORMAL, 0, &label_w,
                         NULL);
      if (heatmap->color_bar_label_place == XL_HEATMAP_LABEL_AUTO)
        layout->label_below = label_w > height - canvas->pad * 0.8
                                          - lines * layout->line_height - 1.5 * f;
      else
        layout->label_below = heatmap->color_bar_label_place == XL_HEATMAP_LABEL_BELOW;
      if (layout->label_below)
        lines++;
    }
  /* whole pixels, so that an export shows the film pixel for pixel */
  layout->text_height = ceil (canvas->pad * 0.8 + layout->line_height * lines);

  if (heatmap->color_bar)
    {
      double widest = 0, label_h = 0;

      heatmap_ticks (heatmap, &layout->ticks);
      for (guint i = 0; i < layout->ticks.n; i++)
        {
          g_autofree char *label = xl_ticks_format (&layout->ticks, layout->ticks.values[i]);
          double w;

          xl_plot_text_size (canvas, label, 0.8, XL_TEXT_NORMAL, 0, &w, NULL);
          widest = MAX (widest, w);
        }
      if (heatmap->color_bar_label != NULL && !layout->label_below)
        xl_plot_text_size (canvas, "Ag", 0.8, XL_TEXT_NORMAL, 0, NULL, &label_h);
      layout->bar_width = 0.9 * f;
      layout->tick_width = widest;
      layout->panel_width = ceil (canvas->pad + layout->bar_width + 0.3 * f + 0.2 * f + widest
                                  + (label_h > 0 ? 0.4 * f + label_h : 0) + canvas->pad);
    }
}

static void
heatmap_layout (XlPlotCanvas    *canvas,
                const XlHeatmap *heatmap,
                HeatmapLayout   *layout)
{
  double fw = MAX (heatmap->film_width, 1), fh = MAX (heatmap->film_height, 1), scale;

  heatmap_layout_fixed (canvas, heatmap, canvas->height, layout);
  layout->area_width = MAX (canvas->width - layout->panel_width, 1.0);
  layout->area_height = MAX (canvas->height - layout->text_height, 1.0);
  scale = MIN (layout->area_width / fw, layout->area_height / fh);
  layout->film_width = fw * scale;
  layout->film_height = fh * scale;
  layout->film_x = (layout->area_width - layout->film_width) / 2;
  layout->film_y = (layout->area_height - layout->film_height) / 2;
}

static void
draw_color_bar (XlPlotCanvas        *canvas,
                const XlHeatmap     *heatmap,
                const HeatmapLayout *layout)
{
  cairo_t *cr = canvas->cr;
  const double f = canvas->font_px;
  double x = layout->film_x + layout->film_width + canvas->pad;
  double top = layout->film_y + 0.5 * f;
  double height = MAX (layout->film_height - f, 2 * f);
  double lo = heatmap->value_min, hi = heatmap->value_max;
  cairo_pattern_t *gradient;

  if (!(hi > lo))
    hi = lo + 1;
  /* the bar's own lower bound is the area's, when the film is short */
  if (top + height > canvas->height - layout->text_height)
    height = MAX (canvas->height - layout->text_height - top, f);

  gradient = cairo_pattern_create_linear (0, top + height, 0, top);
  for (guint i = 0; i <= 32; i++)
    {
      XlPlotColor c;

      xl_colormap_color (heatmap->colormap, i / 32.0, &c);
      cairo_pattern_add_color_stop_rgb (gradient, i / 32.0, c.red, c.green, c.blue);
    }
  cairo_rectangle (cr, x, top, layout->bar_width, height);
  cairo_set_source (cr, gradient);
  cairo_fill_preserve (cr);
  cairo_pattern_destroy (gradient);
  xl_plot_set_color (cr, &text_color, 0.6);
  cairo_set_line_width (cr, canvas->unit);
  cairo_stroke (cr);

  for (guint i = 0; i < layout->ticks.n; i++)
    {
      double v = layout->ticks.values[i];
      double y = top + height - (v - lo) / (hi - lo) * height;
      g_autofree char *label = xl_ticks_format (&layout->ticks, v);

      xl_plot_set_color (cr, &text_color, 1.0);
      cairo_move_to (cr, x + layout->bar_width, y);
      cairo_line_to (cr, x + layout->bar_width + 0.3 * f, y);
      cairo_stroke (cr);
      xl_plot_text_draw (canvas, label, 0.8, XL_TEXT_LEFT, 0, x + layout->bar_width + 0.5 * f,
                         y, 0.0, 0.5, &text_color);
    }

  if (heatmap->color_bar_label != NULL && !layout->label_below)
    {
      double label_h;

      xl_plot_text_size (canvas, "Ag", 0.8, XL_TEXT_NORMAL, 0, NULL, &label_h);
      xl_plot_text_draw_vertical (canvas, heatmap->color_bar_label, 0.8, XL_TEXT_NORMAL,
                                  height + f,
                                  x + layout->bar_width + 0.5 * f + layout->tick_width + 0.4 * f
                                  + label_h / 2,
                                  top + height / 2, &text_color);
    }
}

void
xl_heatmap_draw (const XlHeatmap *heatmap,
                 cairo_t         *cr,
                 double           width,
                 double           height,
                 XlPlotFrame     *frame)
{
  XlPlotCanvas canvas;
  HeatmapLayout layout;
  cairo_surface_t *film = NULL, *overlay = NULL;
  double text_y, room;

  g_return_if_fail (heatmap != NULL);
  g_return_if_fail (cr != NULL);

  cairo_save (cr);
  xl_plot_canvas_init (&canvas, cr, width, height, &heatmap->style);
  heatmap_layout (&canvas, heatmap, &layout);

  xl_plot_set_color (cr, &background, 1.0);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);

  if (heatmap->film != NULL && heatmap->film_width > 0 && heatmap->film_height > 0)
    film = xl_plot_image_surface_new (heatmap->film, heatmap->film_width, heatmap->film_height,
                                      1, heatmap->film_stride);
  overlay = xl_heatmap_overlay_new (heatmap);

  cairo_save (cr);
  cairo_rectangle (cr, layout.film_x, layout.film_y, layout.film_width, layout.film_height);
  cairo_clip (cr);
  if (film != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, layout.film_x, layout.film_y);
      cairo_scale (cr, layout.film_width / heatmap->film_width,
                   layout.film_height / heatmap->film_height);
      cairo_set_source_surface (cr, film, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
      cairo_paint (cr);
      cairo_restore (cr);
    }
  if (overlay != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, layout.film_x, layout.film_y);
      cairo_scale (cr, layout.film_width / heatmap->heat_width,
                   layout.film_height / heatmap->heat_height);
      cairo_set_source_surface (cr, overlay, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
      cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
      cairo_paint (cr);
      cairo_restore (cr);
    }
  if (heatmap->crop_width > 0 && heatmap->crop_height > 0 && heatmap->film_width > 0
      && heatmap->film_height > 0)
    {
      double sx = layout.film_width / heatmap->film_width;
      double sy = layout.film_height / heatmap->film_height;
      double dash = 3 * canvas.unit;

      /* the box the network saw, when it is not the whole film */
      if (heatmap->crop_width < heatmap->film_width - 0.5
          || heatmap->crop_height < heatmap->film_height - 0.5)
        {
          cairo_rectangle (cr, layout.film_x + heatmap->crop_x * sx,
                           layout.film_y + heatmap->crop_y * sy, heatmap->crop_width * sx,
                           heatmap->crop_height * sy);
          xl_plot_set_color (cr, &text_color, 0.7);
          cairo_set_line_width (cr, MAX (canvas.unit, 1.0));
          cairo_set_dash (cr, &dash, 1, 0);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
        }
    }
  cairo_restore (cr);
  g_clear_pointer (&film, cairo_surface_destroy);
  g_clear_pointer (&overlay, cairo_surface_destroy);

  if (heatmap->color_bar)
    draw_color_bar (&canvas, heatmap, &layout);

  /* the caption and the notice, left-aligned under the film's area */
  room = MAX (width - 2 * canvas.pad, 1.0);
  text_y = height - layout.text_height + canvas.pad * 0.4;
  if (heatmap->caption != NULL)
    {
      double w;

      xl_plot_text_size (&canvas, heatmap->caption, 0.9, XL_TEXT_LEFT, 0, &w, NULL);
      xl_plot_text_draw (&canvas, heatmap->caption, 0.9, XL_TEXT_LEFT, w > room ? room : 0,
                         canvas.pad, text_y, 0.0, 0.0, &text_color);
      text_y += layout.line_height;
    }
  if (heatmap->color_bar && heatmap->color_bar_label != NULL && layout.label_below)
    {
      g_autofree char *line = g_strconcat ("Color bar: ", heatmap->color_bar_label, NULL);
      double w;

      xl_plot_text_size (&canvas, line, 0.9, XL_TEXT_LEFT, 0, &w, NULL);
      xl_plot_text_draw (&canvas, line, 0.9, XL_TEXT_LEFT, w > room ? room : 0, canvas.pad,
                         text_y, 0.0, 0.0, &text_color);
      text_y += layout.line_height;
    }
  {
    double w;

    xl_plot_text_size (&canvas, HEATMAP_NOTICE, 0.9, XL_TEXT_BOLD | XL_TEXT_LEFT, 0, &w, NULL);
    xl_plot_text_draw (&canvas, HEATMAP_NOTICE, 0.9, XL_TEXT_BOLD | XL_TEXT_LEFT,
                       w > room ? room : 0, canvas.pad, text_y, 0.0, 0.0, &notice_color);
  }

  if (frame != NULL)
    *frame = (XlPlotFrame) {
      .x = layout.film_x,
      .y = layout.film_y,
      .width = layout.film_width,
      .height = layout.film_height,
      .x_min = 0,
      .x_max = heatmap->film_width,
      .y_min = heatmap->film_height,
      .y_max = 0,
    };
  xl_plot_canvas_clear (&canvas);
  cairo_restore (cr);
}

void
xl_heatmap_draw_func (cairo_t  *cr,
                      double    width,
                      double    height,
                      gpointer  user_data)
{
  xl_heatmap_draw (user_data, cr, width, height, NULL);
}

gboolean
xl_heatmap_save (const XlHeatmap *heatmap,
                 const char      *path,
                 int              width,
                 int              height,
                 GError         **error)
{
  g_return_val_if_fail (heatmap != NULL, FALSE);

  return xl_plot_save (path, width, height, xl_heatmap_draw_func, (gpointer) heatmap, error);
}

void
xl_heatmap_size_for_scale (const XlHeatmap     *heatmap,
                           double               film_scale,
                           XlPlotStyle         *style_out,
                           XlHeatmapLabelPlace *label_place_out,
                           int                 *width,
                           int                 *height)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  XlPlotCanvas canvas;
  HeatmapLayout layout;
  double fw = MAX (heatmap->film_width, 1) * film_scale;
  double fh = MAX (heatmap->film_height, 1) * film_scale;
  double notice_width, caption_width = 0;

  *style_out = heatmap->style;
  if (!(style_out->font_size > 0))
    style_out->font_size = MAX (10.0, MIN (fw, fh * 4.0 / 3.0) / 45.0);

  /* measure on a scratch surface: the layout depends only on the text size */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (surface);
  xl_plot_canvas_init (&canvas, cr, fw, fh, style_out);
  /* the bar's label beside the bar if it fits the film's height, and the
   * place fixed, so that the drawing does not decide otherwise */
  heatmap_layout_fixed (&canvas, heatmap, round (fh) + layout_base_text (&canvas, heatmap),
                        &layout);
  if (heatmap->color_bar_label_place == XL_HEATMAP_LABEL_AUTO)
    *label_place_out = layout.label_below ? XL_HEATMAP_LABEL_BELOW : XL_HEATMAP_LABEL_BESIDE;
  else
    *label_place_out = heatmap->color_bar_label_place;
  xl_plot_text_size (&canvas, HEATMAP_NOTICE, 0.9, XL_TEXT_BOLD | XL_TEXT_LEFT, 0, &notice_width,
                     NULL);
  if (heatmap->caption != NULL)
    xl_plot_text_size (&canvas, heatmap->caption, 0.9, XL_TEXT_LEFT, 0, &caption_width, NULL);
  if (layout.label_below)
    {
      g_autofree char *line = g_strconcat ("Color bar: ", heatmap->color_bar_label, NULL);
      double w;
      xl_plot_text_size (&canvas, line, 0.9, XL_TEXT_LEFT, 0, &w, NULL);
      caption_width = MAX (caption_width, w);
    }
  *width = (int) ceil (MAX (round (fw) + layout.panel_width,
                            MIN (MAX (notice_width, caption_width), 4 * fw)
                            + 2 * canvas.pad));
  *height = (int) ceil (round (fh) + layout.text_height);
  *width = CLAMP (*width, 1, MAX_SIDE);
  *height = CLAMP (*height, 1, MAX_SIDE);
  xl_plot_canvas_clear (&canvas);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

gboolean
xl_heatmap_export (const XlHeatmap *heatmap,
                   const char      *path,
                   guint            max_side,
                   GError         **error)
{
  XlHeatmap sized = *heatmap;
  guint long_side = MAX (heatmap->film_width, heatmap->film_height);
  double scale = 1.0;
  int width, height;

  g_return_val_if_fail (heatmap != NULL, FALSE);

  if (max_side > 0 && long_side > max_side)
    scale = (double) max_side / long_side;
  xl_heatmap_size_for_scale (heatmap, scale, &sized.style, &sized.color_bar_label_place, &width,
                             &height);
  return xl_heatmap_save (&sized, path, width, height, error);
}
