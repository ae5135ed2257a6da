/* xl-plot-private.h — drawing helpers the plots share: text through Pango,
 * nice tick numbers, axes, legends and markers. Not installed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <pango/pangocairo.h>

#include "xl-plot-types.h"

G_BEGIN_DECLS

/* Greys of the light theme every plot uses. */
extern const XlPlotColor xl_plot_background;  /* white */
extern const XlPlotColor xl_plot_text_color;  /* near black */
extern const XlPlotColor xl_plot_axis_color;  /* dark grey */
extern const XlPlotColor xl_plot_grid_color;  /* light grey */

/* One draw's state: the cairo context, the size, the text size and a layout
 * reused for every string. */
typedef struct {
  cairo_t              *cr;
  double                width;
  double                height;
  double                font_px;     /* base text size */
  double                unit;        /* line width unit, font_px / 12 */
  double                pad;         /* outer margin */
  PangoLayout          *layout;
  PangoFontDescription *font;
} XlPlotCanvas;

void xl_plot_canvas_init  (XlPlotCanvas      *canvas,
                           cairo_t           *cr,
                           double             width,
                           double             height,
                           const XlPlotStyle *style);
void xl_plot_canvas_clear (XlPlotCanvas *canvas);

void xl_plot_set_color (cairo_t           *cr,
                        const XlPlotColor *color,
                        double             alpha);

/* Text. scale multiplies the base size. max_width > 0 ellipsizes a longer
 * line (and centres lines between them); 0 leaves it whole. */
typedef enum {
  XL_TEXT_NORMAL = 0,
  XL_TEXT_BOLD   = 1 << 0,
  XL_TEXT_LEFT   = 1 << 1,   /* lines aligned left; centred otherwise */
} XlTextFlags;

void xl_plot_text_size (XlPlotCanvas *canvas,
                        const char   *text,
                        double        scale,
                        XlTextFlags   flags,
                        double        max_width,
                        double       *width,
                        double       *height);
/* Draws text with its box's point (anchor_x, anchor_y) (0..1 of its width and
 * height: 0.5, 0.5 is the centre) at (x, y). */
void xl_plot_text_draw (XlPlotCanvas      *canvas,
                        const char        *text,
                        double             scale,
                        XlTextFlags        flags,
                        double             max_width,
                        double             x,
                        double             y,
                        double             anchor_x,
                        double             anchor_y,
                        const XlPlotColor *color);
/* Reading upwards, centred on (x, y). */
void xl_plot_text_draw_vertical (XlPlotCanvas      *canvas,
                                 const char        *text,
                                 double             scale,
                                 XlTextFlags        flags,
                                 double             max_length,
                                 double             x,
                                 double             y,
                                 const XlPlotColor *color);

/* Fills the whole canvas with the background. */
void   xl_plot_draw_background (XlPlotCanvas *canvas);
/* Draws the title centred at the top (nothing if NULL or empty); returns the
 * y below it. */
double xl_plot_draw_title      (XlPlotCanvas *canvas,
                                const char   *title);

/* Ticks on 1, 2 or 5 times a power of ten. */
#define XL_TICKS_MAX 64

typedef struct {
  double   lo, hi;        /* the axis range: the data's, or widened to ticks */
  double   step;
  guint    n;
  double   values[XL_TICKS_MAX];
  int      decimals;      /* enough to tell the ticks apart */
  gboolean percent;       /* labels are value * 100 with a "%" */
} XlTicks;

/* At most max_ticks ticks over [lo, hi] at a step of at least min_step.
 * expand widens the range out to whole steps (the y axis), otherwise ticks
 * stay inside it. A zero-width range is widened first. */
void xl_ticks_compute (XlTicks  *ticks,
                       double    lo,
                       double    hi,
                       guint     max_ticks,
                       gboolean  expand,
                       gboolean  percent,
                       double    min_step);
/* A tick's label: "0.25", "25%", "−1". Newly allocated. */
char *xl_ticks_format (const XlTicks *ticks,
                       double         value);

/* An x/y chart's axes. */
typedef struct {
  const char *x_label;
  const char *y_label;
  double      x_lo, x_hi, y_lo, y_hi;
  gboolean    expand_x, expand_y;
  gboolean    percent_x, percent_y;
  double      min_x_step, min_y_step;
  gboolean    square;       /* equal scales on both axes, plot area square */
} XlAxesSpec;

typedef struct {
  XlPlotFrame frame;
  XlTicks     x_ticks;
  XlTicks     y_ticks;
  double      x_label_y;    /* centre of the x axis label */
  double      y_label_x;    /* centre of the y axis label */
} XlAxes;

/* Fits the axes, their tick labels and titles into the rectangle (x, y, w, h):
 * tick steps are chosen so that their labels never overlap. */
void xl_plot_axes_layout (XlPlotCanvas     *canvas,
                          const XlAxesSpec *spec,
                          double            x,
                          double            y,
                          double            width,
                          double            height,
                          XlAxes           *axes);
/* Plot area background, grid, axis lines, ticks and labels. */
void xl_plot_axes_draw   (XlPlotCanvas     *canvas,
                          const XlAxesSpec *spec,
                          const XlAxes     *axes);

typedef enum {
  XL_MARKER_NONE,
  XL_MARKER_CIRCLE,
  XL_MARKER_SQUARE,
  XL_MARKER_DIAMOND,
} XlMarker;

/* A filled marker with a thin white outline, so that overlapping ones stay
 * apart. */
void xl_plot_draw_marker (XlPlotCanvas      *canvas,
                          XlMarker           marker,
                          double             x,
                          double             y,
                          double             radius,
                          const XlPlotColor *color);

typedef struct {
  const char  *label;
  XlPlotColor  color;
  double       alpha;        /* of the line; 0 is read as 1 */
  double       line_width;   /* in units; 0: no line (a text-only entry with no marker) */
  double       dash;         /* in units; 0: solid */
  XlMarker     marker;
} XlLegendEntry;

/* Entries flow left to right and wrap at max_width; vertical puts one per
 * row. The size includes the box's padding when boxed. */
void xl_plot_legend_size (XlPlotCanvas        *canvas,
                          const XlLegendEntry *entries,
                          guint                n_entries,
                          double               max_width,
                          gboolean             vertical,
                          gboolean             boxed,
                          double              *width,
                          double              *height);
void xl_plot_legend_draw (XlPlotCanvas        *canvas,
                          const XlLegendEntry *entries,
                          guint                n_entries,
                          double               max_width,
                          gboolean             vertical,
                          gboolean             boxed,
                          double               x,
                          double               y);

/* WCAG relative luminance of an sRGB colour, 0 (black) .. 1 (white). */
double xl_plot_color_luminance (const XlPlotColor *color);

G_END_DECLS
