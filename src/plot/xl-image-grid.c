/* xl-image-grid.c — labelled images in a grid.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-image-grid.h"
#include "xl-plot-private.h"
#include "xl-plot.h"

void
xl_image_grid_init (XlImageGrid       *grid,
                    const XlGridImage *images,
                    guint              n_images)
{
  g_return_if_fail (grid != NULL);

  *grid = (XlImageGrid) {
    .images = images,
    .n_images = n_images,
  };
}

static void
image_size (const XlGridImage *image,
            double            *width,
            double            *height)
{
  double w = image->width;
  double h = image->height;

  if ((w == 0 || h == 0) && image->surface != NULL &&
      cairo_surface_get_type (image->surface) == CAIRO_SURFACE_TYPE_IMAGE)
    {
      w = cairo_image_surface_get_width (image->surface);
      h = cairo_image_surface_get_height (image->surface);
    }

  *width = MAX (w, 1.0);
  *height = MAX (h, 1.0);
}

typedef struct {
  guint  columns;
  guint  rows;
  double x, y;            /* top left of the first cell */
  double cell_width;
  double cell_height;     /* image box and label */
  double gap;
  double label_height;    /* 0 when no image has a label */
} GridLayout;

static void
grid_layout (XlPlotCanvas      *canvas,
             const XlImageGrid *grid,
             double             x,
             double             y,
             double             width,
             double             height,
             GridLayout        *layout)
{
  double aspect = 1.0;
  double best_area = -1.0;
  double image_width, image_height;
  guint first_column_count, last_column_count;

  layout->gap = 0.5 * canvas->font_px;
  layout->label_height = 0.0;
  for (guint i = 0; i < grid->n_images; i++)
    if (grid->images[i].label != NULL)
      {
        xl_plot_text_size (canvas, "Ag", 0.9, XL_TEXT_NORMAL, 0, NULL, &layout->label_height);
        layout->label_height += 0.25 * canvas->font_px;
        break;
      }

  if (grid->n_images > 0)
    {
      image_size (&grid->images[0], &image_width, &image_height);
      aspect = image_width / image_height;
    }

  first_column_count = grid->n_columns > 0 ? grid->n_columns : 1;
  last_column_count = grid->n_columns > 0 ? grid->n_columns : MAX (grid->n_images, 1);

  for (guint columns = first_column_count; columns <= last_column_count; columns++)
    {
      guint rows = MAX ((grid->n_images + columns - 1) / columns, 1);
      double cell_width = (width - (columns - 1) * layout->gap) / columns;
      double cell_height = (height - (rows - 1) * layout->gap) / rows;
      double box_height = cell_height - layout->label_height;
      double shown_width = MIN (cell_width, box_height * aspect);
      double area = shown_width > 0 ? shown_width * shown_width / aspect : 0.0;

      if (area > best_area)
        {
          best_area = area;
          layout->columns = columns;
          layout->rows = rows;
          layout->cell_width = MAX (cell_width, 1.0);
          layout->cell_height = MAX (cell_height, layout->label_height + 1.0);
        }
    }

  /* Cells no larger than the images in them, the grid centred. */
  {
    double box_height = layout->cell_height - layout->label_height;
    double shown_width = MIN (layout->cell_width, box_height * aspect);
    double used_width, used_height;

    layout->cell_width = MAX (shown_width, 1.0);
    layout->cell_height = shown_width / aspect + layout->label_height;
    used_width = layout->columns * layout->cell_width + (layout->columns - 1) * layout->gap;
    used_height = layout->rows * layout->cell_height + (layout->rows - 1) * layout->gap;
    layout->x = x + (width - used_width) / 2;
    layout->y = y + (height - used_height) / 2;
  }
}

static void
draw_image (XlPlotCanvas      *canvas,
            const XlGridImage *image,
            double             x,
            double             y,
            double             box_width,
            double             box_height)
{
  cairo_t *cr = canvas->cr;
  cairo_surface_t *owned = NULL;
  cairo_surface_t *surface = image->surface;
  double width, height, scale;

  if (surface == NULL && image->pixels != NULL)
    surface = owned = xl_plot_image_surface_new (image->pixels, image->width, image->height,
                                                 image->channels, image->stride);
  if (surface == NULL)
    return;

  image_size (image, &width, &height);
  scale = MIN (box_width / width, box_height / height);
  x += (box_width - width * scale) / 2;
  y += (box_height - height * scale) / 2;

  cairo_save (cr);
  cairo_rectangle (cr, x, y, width * scale, height * scale);
  cairo_clip (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint (cr);
  cairo_restore (cr);

  cairo_rectangle (cr, x, y, width * scale, height * scale);
  xl_plot_set_color (cr, &xl_plot_grid_color, 1.0);
  cairo_set_line_width (cr, canvas->unit);
  cairo_stroke (cr);

  if (owned != NULL)
    cairo_surface_destroy (owned);
}

void
xl_image_grid_draw (const XlImageGrid *grid,
                    cairo_t           *cr,
                    double             width,
                    double             height,
                    XlPlotFrame       *frame)
{
  XlPlotCanvas canvas;
  GridLayout layout;
  double top;

  g_return_if_fail (grid != NULL);
  g_return_if_fail (grid->n_images == 0 || grid->images != NULL);
  g_return_if_fail (cr != NULL);

  cairo_save (cr);
  xl_plot_canvas_init (&canvas, cr, width, height, &grid->style);
  xl_plot_draw_background (&canvas);
  top = xl_plot_draw_title (&canvas, grid->title);

  grid_layout (&canvas, grid, canvas.pad, top, width - 2 * canvas.pad,
               height - top - canvas.pad, &layout);

  for (guint i = 0; i < grid->n_images; i++)
    {
      const XlGridImage *image = &grid->images[i];
      double x = layout.x + (i % layout.columns) * (layout.cell_width + layout.gap);
      double y = layout.y + (i / layout.columns) * (layout.cell_height + layout.gap);
      double box_height = layout.cell_height - layout.label_height;

      draw_image (&canvas, image, x, y, layout.cell_width, box_height);

      if (image->label != NULL)
        {
          double label_width, scale;

          /* Smaller before shorter: "PNEUMONIA" under a thumbnail should
           * stay whole; only what still does not fit at 0.7 is ellipsized. */
          xl_plot_text_size (&canvas, image->label, 0.9, XL_TEXT_NORMAL, 0, &label_width, NULL);
          scale = CLAMP (0.9 * layout.cell_width / label_width, 0.7, 0.9);
          label_width *= scale / 0.9;
          xl_plot_text_draw (&canvas, image->label, scale, XL_TEXT_NORMAL,
                             label_width > layout.cell_width ? layout.cell_width : 0,
                             x + layout.cell_width / 2, y + box_height + 0.2 * canvas.font_px,
                             0.5, 0.0, &xl_plot_text_color);
        }
    }

  if (frame != NULL)
    *frame = (XlPlotFrame) {
      .x = layout.x,
      .y = layout.y,
      .width = layout.columns * (layout.cell_width + layout.gap),
      .height = layout.rows * (layout.cell_height + layout.gap),
      .x_min = 0, .x_max = layout.columns,
      .y_min = layout.rows, .y_max = 0,
    };

  xl_plot_canvas_clear (&canvas);
  cairo_restore (cr);
}

void
xl_image_grid_draw_func (cairo_t  *cr,
                         double    width,
                         double    height,
                         gpointer  user_data)
{
  xl_image_grid_draw (user_data, cr, width, height, NULL);
}

gboolean
xl_image_grid_save (const XlImageGrid *grid,
                    const char        *path,
                    int                width,
                    int                height,
                    GError           **error)
{
  g_return_val_if_fail (grid != NULL, FALSE);

  return xl_plot_save (path, width, height, xl_image_grid_draw_func, (gpointer) grid, error);
}

gboolean
xl_image_grid_hit_test (const XlImageGrid *grid,
                        const XlPlotFrame *frame,
                        double             x,
                        double             y,
                        guint             *index)
{
  double column_position, row_position, column, row;
  guint columns, rows, i;

  g_return_val_if_fail (grid != NULL, FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  columns = (guint) frame->x_max;
  rows = (guint) frame->y_min;
  if (columns == 0 || rows == 0 || !xl_plot_frame_contains (frame, x, y))
    return FALSE;

  column_position = xl_plot_frame_from_pixel_x (frame, x);
  row_position = xl_plot_frame_from_pixel_y (frame, y);
  column = floor (column_position);
  row = floor (row_position);
  if (column < 0 || row < 0 || column >= columns || row >= rows)
    return FALSE;

  i = (guint) row * columns + (guint) column;
  if (i >= grid->n_images)
    return FALSE;

  if (index != NULL)
    *index = i;
  return TRUE;
}
