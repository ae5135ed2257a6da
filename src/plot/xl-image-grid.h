/* xl-image-grid.h — images in a grid with a label under each: a batch as the
 * network sees it after augmentation, or a page of predictions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "xl-plot-types.h"

G_BEGIN_DECLS

/* Either surface or pixels. */
typedef struct {
  cairo_surface_t *surface;     /* borrowed; any surface cairo can paint */
  const guint8    *pixels;      /* borrowed: (height, stride) bytes */
  guint            width;
  guint            height;
  guint            channels;    /* 1 gray, 3 RGB, 4 RGBA (alpha ignored) */
  gsize            stride;      /* bytes per row; 0: width * channels */
  const char      *label;       /* under the image, e.g. "PNEUMONIA"; NULL: none */
} XlGridImage;

typedef struct {
  const XlGridImage *images;    /* (n_images), borrowed */
  guint              n_images;
  guint              n_columns; /* 0: the count that makes the images largest */
  const char        *title;
  XlPlotStyle        style;
} XlImageGrid;

void xl_image_grid_init (XlImageGrid       *grid,
                         const XlGridImage *images,
                         guint              n_images);

/* frame (may be NULL) maps columns to x in [0, n_columns] and rows to y in
 * [0, n_rows], row 0 on top; each cell holds one image and its label. */
void xl_image_grid_draw      (const XlImageGrid *grid,
                              cairo_t           *cr,
                              double             width,
                              double             height,
                              XlPlotFrame       *frame);
void xl_image_grid_draw_func (cairo_t  *cr,
                              double    width,
                              double    height,
                              gpointer  user_data);
gboolean xl_image_grid_save  (const XlImageGrid *grid,
                              const char        *path,
                              int                width,
                              int                height,
                              GError           **error);

/* The index of the image whose cell (the image, its label and the gap after
 * them) is under (x, y), given the frame of the last draw; FALSE outside the
 * grid or past the last image. */
gboolean xl_image_grid_hit_test (const XlImageGrid *grid,
                                 const XlPlotFrame *frame,
                                 double             x,
                                 double             y,
                                 guint             *index);

G_END_DECLS
