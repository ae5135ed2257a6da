/* xl-heatmap.h — a class-activation heatmap over its film: the film in gray,
 * the heat in colour on top at a chosen opacity, an optional colour bar with
 * its scale, and the research-tool notice. The window and the exported PNGs
 * draw with the same function.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The heat is a float image over the whole film (xl_cam_project makes one): any
 * resolution, stretched onto the film; NAN where there is no heat to show (the
 * parts of the film the network never saw), which stay uncoloured.
 */
#pragma once

#include "xl-plot-types.h"

G_BEGIN_DECLS

typedef enum {
  XL_COLORMAP_TURBO,    /* Google's turbo: a rainbow with even lightness steps */
  XL_COLORMAP_INFERNO,  /* matplotlib's inferno: perceptually uniform, monotone
                           lightness, readable in gray and by colour-blind readers */
  XL_COLORMAP_JET,      /* MATLAB's jet, for comparison with the literature */
  XL_N_COLORMAPS,
} XlColormap;

const char *xl_colormap_name      (XlColormap  colormap);   /* "turbo", ... */
gboolean    xl_colormap_from_name (const char *name,
                                   XlColormap *colormap);
/* The colour at t in 0..1 (clamped; NAN gives the colour at 0). */
void        xl_colormap_color     (XlColormap   colormap,
                                   double       t,
                                   XlPlotColor *color);

typedef enum {
  XL_HEATMAP_LABEL_AUTO,    /* beside the bar if it is long enough, else under the film */
  XL_HEATMAP_LABEL_BESIDE,  /* beside the bar, cut to its length */
  XL_HEATMAP_LABEL_BELOW,   /* a line of its own under the film */
} XlHeatmapLabelPlace;

typedef struct {
  /* the film: 8-bit gray, (film_height, film_stride) bytes */
  const guint8 *film;
  guint         film_width;
  guint         film_height;
  gsize         film_stride;      /* 0: film_width */

  /* the heat over the whole film, (heat_height, heat_width), NAN: uncoloured */
  const float  *heat;
  guint         heat_width;
  guint         heat_height;
  double        value_min;        /* heat mapped to the colormap's ends (0, 1) */
  double        value_max;

  XlColormap    colormap;         /* turbo */
  double        opacity;          /* of the heat, 0..1 (0.45) */
  gboolean      color_bar;        /* a colour bar with ticks on the right (TRUE) */
  const char   *color_bar_label;  /* what the scale is: method, class, and whether it
                                     is this film's or shared across films */
  XlHeatmapLabelPlace color_bar_label_place;   /* AUTO: beside the bar when it fits */
  /* The part of the film the network saw, in film pixels, outlined with a thin
   * dashed line; a width of 0 draws none. */
  double        crop_x, crop_y, crop_width, crop_height;
  const char   *caption;          /* a line under the film (file, probability) */
  XlPlotStyle   style;
} XlHeatmap;

/* Defaults: turbo, opacity 0.45, range 0..1, colour bar on, nothing else. */
void xl_heatmap_init (XlHeatmap *heatmap);

/* Paints (0, 0, width, height): a dark background, the film as large as fits
 * (aspect kept), the heat over it, the colour bar, the caption and the notice
 * "X-Ray Lab is a research tool, not a diagnostic device." frame (may be
 * NULL) maps film pixels: x_min 0 .. x_max film_width at the film's left and
 * right edges, y_max 0 at its top and y_min film_height at its bottom. */
void     xl_heatmap_draw      (const XlHeatmap *heatmap,
                               cairo_t         *cr,
                               double           width,
                               double           height,
                               XlPlotFrame     *frame);
void     xl_heatmap_draw_func (cairo_t  *cr,
                               double    width,
                               double    height,
                               gpointer  user_data);
gboolean xl_heatmap_save      (const XlHeatmap *heatmap,
                               const char      *path,
                               int              width,
                               int              height,
                               GError         **error);

/* The picture size at which the film is drawn film_scale times its size (1:
 * pixel for pixel) with the bar and text around it. It fixes style.font_size
 * (if 0) from the film's drawn size and where the bar's label goes, so the
 * layout no longer depends on the picture's size: draw with *style_out and
 * *label_place_out. */
void     xl_heatmap_size_for_scale (const XlHeatmap     *heatmap,
                                    double               film_scale,
                                    XlPlotStyle         *style_out,
                                    XlHeatmapLabelPlace *label_place_out,
                                    int                 *width,
                                    int                 *height);

/* Writes path (.png, .svg or .pdf) with the film at its own size, or scaled
 * down so that its long side is at most max_side (0: no limit). */
gboolean xl_heatmap_export    (const XlHeatmap *heatmap,
                               const char      *path,
                               guint            max_side,
                               GError         **error);

/* The heat alone, coloured: an ARGB32 surface heat_width x heat_height,
 * premultiplied alpha = opacity, transparent where the heat is NAN. NULL for
 * an empty or oversized heat. */
cairo_surface_t *xl_heatmap_overlay_new (const XlHeatmap *heatmap);

G_END_DECLS
