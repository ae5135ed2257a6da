/* xl-plot-types.h — what every plot shares: colours, style, the frame that
 * maps data to pixels, and rendering to a file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every plot is a plain struct that describes it (borrowed pointers to the
 * data, labels, options; an _init() fills the defaults) and a _draw() that
 * paints it onto any cairo_t, filling (0, 0, width, height) in the current
 * user space. The window draws with the same function that writes the PNG,
 * SVG or PDF, so what is exported is what is shown. Plots never keep state
 * between draws: the frame a draw returns is what hit-tests need.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

#define XL_PLOT_ERROR (xl_plot_error_quark ())
GQuark xl_plot_error_quark (void);

typedef enum {
  XL_PLOT_ERROR_FORMAT,   /* the file name's extension is not .png, .svg or .pdf */
  XL_PLOT_ERROR_SIZE,     /* a width or height out of 1..16384 */
  XL_PLOT_ERROR_CAIRO,    /* cairo failed to render or encode */
} XlPlotError;

typedef struct {
  double red, green, blue;   /* sRGB, 0..1 */
} XlPlotColor;

/* Okabe & Ito's palette, distinguishable with every common colour-vision
 * deficiency. Train is blue, validation vermillion, everywhere. */
typedef enum {
  XL_PLOT_COLOR_BLUE,           /* #0072B2: train */
  XL_PLOT_COLOR_VERMILLION,     /* #D55E00: validation */
  XL_PLOT_COLOR_BLUISH_GREEN,   /* #009E73 */
  XL_PLOT_COLOR_REDDISH_PURPLE, /* #CC79A7: early stop */
  XL_PLOT_COLOR_ORANGE,         /* #E69F00 */
  XL_PLOT_COLOR_SKY_BLUE,       /* #56B4E9: train per batch */
  XL_PLOT_COLOR_YELLOW,         /* #F0E442: too light for lines on white */
  XL_PLOT_COLOR_BLACK,          /* #000000 */
  XL_PLOT_N_COLORS,
} XlPlotColorName;

#define XL_PLOT_COLOR_TRAIN       XL_PLOT_COLOR_BLUE
#define XL_PLOT_COLOR_TRAIN_BATCH XL_PLOT_COLOR_SKY_BLUE
#define XL_PLOT_COLOR_VAL         XL_PLOT_COLOR_VERMILLION

const XlPlotColor *xl_plot_palette (XlPlotColorName name);
/* The index-th colour for a series with no meaning of its own (per-class ROC
 * curves): blue, vermillion, bluish green, reddish purple, orange, sky blue,
 * black, then again. Yellow is skipped: it is unreadable on white. */
const XlPlotColor *xl_plot_series_color (guint index);

/* Zero means the default for every field. */
typedef struct {
  /* Base text size in device units (pixels, or points in SVG/PDF). 0 scales
   * with the picture, MAX (9, MIN (width, 4/3 height) / 36), so an export at
   * 1600x1200 looks like one at 400x300, only sharper. A widget passes the
   * desktop's font size instead. Lines and markers scale with it. */
  double      font_size;
  const char *font_family;  /* NULL: "Sans" */
} XlPlotStyle;

/* Where the data landed: the plot area in the user space the plot was drawn
 * in, and the data range mapped onto it (x_min at the left edge, y_min at the
 * bottom edge; a grid maps rows with y_min = n_rows so row 0 is on top). */
typedef struct {
  double x, y, width, height;
  double x_min, x_max;
  double y_min, y_max;
} XlPlotFrame;

double xl_plot_frame_to_pixel_x   (const XlPlotFrame *frame, double data_x);
double xl_plot_frame_to_pixel_y   (const XlPlotFrame *frame, double data_y);
double xl_plot_frame_from_pixel_x (const XlPlotFrame *frame, double pixel_x);
double xl_plot_frame_from_pixel_y (const XlPlotFrame *frame, double pixel_y);
gboolean xl_plot_frame_contains   (const XlPlotFrame *frame, double pixel_x, double pixel_y);

/* Draws one picture of width x height onto cr. */
typedef void (*XlPlotDrawFunc) (cairo_t  *cr,
                                double    width,
                                double    height,
                                gpointer  user_data);

/* Renders to path as PNG, SVG or PDF, chosen by its extension (any case).
 * Width and height are pixels for PNG, SVG user units (px) and PDF points.
 * Atomic: written to a hidden temporary file in the same folder, flushed to
 * disk, then renamed over path; on failure path is untouched and nothing is
 * left behind. Errors are G_FILE_ERROR for the file system, XL_PLOT_ERROR
 * otherwise, and name the file. */
gboolean xl_plot_save (const char     *path,
                       int             width,
                       int             height,
                       XlPlotDrawFunc  draw,
                       gpointer        user_data,
                       GError        **error);

/* One page of a multi-page PDF (report.pdf). */
typedef struct {
  XlPlotDrawFunc draw;
  gpointer       user_data;
} XlPlotPage;

/* A PDF of n_pages pages, each width x height points (A4 landscape is
 * 842 x 595), written atomically like xl_plot_save(). */
gboolean xl_plot_save_pdf_pages (const char        *path,
                                 double             width,
                                 double             height,
                                 const XlPlotPage  *pages,
                                 guint              n_pages,
                                 GError           **error);

/* A cairo image surface (RGB24) holding a copy of 8-bit gray (channels 1),
 * RGB (3) or RGBA (4, alpha dropped) pixels; stride 0 means width *
 * channels. NULL if the size is 0 or over 16384 a side. */
cairo_surface_t *xl_plot_image_surface_new (const guint8 *pixels,
                                            guint         width,
                                            guint         height,
                                            guint         channels,
                                            gsize         stride);

G_END_DECLS
