/* xl-plot.c — palette, frames, image surfaces and atomic rendering to files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gstdio.h>

#include "xl-plot.h"

G_DEFINE_QUARK (xl-plot-error-quark, xl_plot_error)

#define MAX_SIDE 16384

static const XlPlotColor okabe_ito[XL_PLOT_N_COLORS] = {
  [XL_PLOT_COLOR_BLUE]           = { 0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0 },
  [XL_PLOT_COLOR_VERMILLION]     = { 0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0 },
  [XL_PLOT_COLOR_BLUISH_GREEN]   = { 0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0 },
  [XL_PLOT_COLOR_REDDISH_PURPLE] = { 0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0 },
  [XL_PLOT_COLOR_ORANGE]         = { 0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0 },
  [XL_PLOT_COLOR_SKY_BLUE]       = { 0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0 },
  [XL_PLOT_COLOR_YELLOW]         = { 0xF0 / 255.0, 0xE4 / 255.0, 0x42 / 255.0 },
  [XL_PLOT_COLOR_BLACK]          = { 0.0, 0.0, 0.0 },
};

const XlPlotColor *
xl_plot_palette (XlPlotColorName name)
{
  g_return_val_if_fail ((guint) name < XL_PLOT_N_COLORS, &okabe_ito[XL_PLOT_COLOR_BLACK]);

  return &okabe_ito[name];
}

const XlPlotColor *
xl_plot_series_color (guint index)
{
  static const XlPlotColorName order[] = {
    XL_PLOT_COLOR_BLUE,
    XL_PLOT_COLOR_VERMILLION,
    XL_PLOT_COLOR_BLUISH_GREEN,
    XL_PLOT_COLOR_REDDISH_PURPLE,
    XL_PLOT_COLOR_ORANGE,
    XL_PLOT_COLOR_SKY_BLUE,
    XL_PLOT_COLOR_BLACK,
  };

  return &okabe_ito[order[index % G_N_ELEMENTS (order)]];
}

/* Frames ---------------------------------------------------------------------- */

double
xl_plot_frame_to_pixel_x (const XlPlotFrame *frame,
                          double             data_x)
{
  g_return_val_if_fail (frame != NULL, 0.0);

  return frame->x + (data_x - frame->x_min) / (frame->x_max - frame->x_min) * frame->width;
}

double
xl_plot_frame_to_pixel_y (const XlPlotFrame *frame,
                          double             data_y)
{
  g_return_val_if_fail (frame != NULL, 0.0);

  return frame->y + frame->height
         - (data_y - frame->y_min) / (frame->y_max - frame->y_min) * frame->height;
}

double
xl_plot_frame_from_pixel_x (const XlPlotFrame *frame,
                            double             pixel_x)
{
  g_return_val_if_fail (frame != NULL, 0.0);

  return frame->x_min + (pixel_x - frame->x) / frame->width * (frame->x_max - frame->x_min);
}

double
xl_plot_frame_from_pixel_y (const XlPlotFrame *frame,
                            double             pixel_y)
{
  g_return_val_if_fail (frame != NULL, 0.0);

  return frame->y_min
         + (frame->y + frame->height - pixel_y) / frame->height * (frame->y_max - frame->y_min);
}

gboolean
xl_plot_frame_contains (const XlPlotFrame *frame,
                        double             pixel_x,
                        double             pixel_y)
{
  g_return_val_if_fail (frame != NULL, FALSE);

  return pixel_x >= frame->x && pixel_x <= frame->x + frame->width &&
         pixel_y >= frame->y && pixel_y <= frame->y + frame->height;
}

/* Image surfaces -------------------------------------------------------------- */

cairo_surface_t *
xl_plot_image_surface_new (const guint8 *pixels,
                           guint         width,
                           guint         height,
                           guint         channels,
                           gsize         stride)
{
  cairo_surface_t *surface;
  guint8 *data;
  int out_stride;

  g_return_val_if_fail (pixels != NULL, NULL);
  g_return_val_if_fail (channels == 1 || channels == 3 || channels == 4, NULL);

  if (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE)
    return NULL;
  if (stride == 0)
    stride = (gsize) width * channels;
  g_return_val_if_fail (stride >= (gsize) width * channels, NULL);

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) width, (int) height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  out_stride = cairo_image_surface_get_stride (surface);

  for (guint row = 0; row < height; row++)
    {
      const guint8 *in = pixels + row * stride;          /* (width, channels) */
      guint32 *out = (guint32 *) (gpointer) (data + (gsize) row * out_stride);  /* (width) xRGB */

      for (guint col = 0; col < width; col++)
        {
          guint32 r, g, b;

          if (channels == 1)
            r = g = b = in[col];
          else
            {
              r = in[col * channels];
              g = in[col * channels + 1];
              b = in[col * channels + 2];
            }
          out[col] = 0xff000000u | (r << 16) | (g << 8) | b;
        }
    }
  cairo_surface_mark_dirty (surface);

  return surface;
}

/* Saving ---------------------------------------------------------------------- */

typedef enum {
  FORMAT_PNG,
  FORMAT_SVG,
  FORMAT_PDF,
} FileFormat;

/* The temporary file cairo streams into. write() errors are kept so the
 * message can say what really failed (a full disk), not just "write error". */
typedef struct {
  int fd;
  int saved_errno;
} StreamTarget;

static cairo_status_t
stream_write (void                *closure,
              const unsigned char *data,
              unsigned int         length)
{
  StreamTarget *target = closure;

  while (length > 0)
    {
      ssize_t written = write (target->fd, data, length);

      if (written < 0)
        {
          if (errno == EINTR)
            continue;
          target->saved_errno = errno;
          return CAIRO_STATUS_WRITE_ERROR;
        }
      data += written;
      length -= (unsigned int) written;
    }

  return CAIRO_STATUS_SUCCESS;
}

static gboolean
format_from_path (const char  *path,
                  FileFormat  *format,
                  GError     **error)
{
  g_autofree char *base = g_path_get_basename (path);
  const char *dot = strrchr (base, '.');

  if (dot != NULL && g_ascii_strcasecmp (dot, ".png") == 0)
    *format = FORMAT_PNG;
  else if (dot != NULL && g_ascii_strcasecmp (dot, ".svg") == 0)
    *format = FORMAT_SVG;
  else if (dot != NULL && g_ascii_strcasecmp (dot, ".pdf") == 0)
    *format = FORMAT_PDF;
  else
    {
      g_set_error (error, XL_PLOT_ERROR, XL_PLOT_ERROR_FORMAT,
                   "%s: unknown picture format; use .png, .svg or .pdf", path);
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_cairo (cairo_status_t       status,
             const StreamTarget  *target,
             const char          *path,
             GError             **error)
{
  if (status == CAIRO_STATUS_SUCCESS)
    return TRUE;

  if (status == CAIRO_STATUS_WRITE_ERROR && target->saved_errno != 0)
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (target->saved_errno),
                 "%s: %s", path, g_strerror (target->saved_errno));
  else
    g_set_error (error, XL_PLOT_ERROR, XL_PLOT_ERROR_CAIRO,
                 "%s: %s", path, cairo_status_to_string (status));

  return FALSE;
}

/* Draws the pages onto a surface that streams into target. */
static gboolean
render_to_stream (FileFormat         format,
                  double             width,
                  double             height,
                  const XlPlotPage  *pages,
                  guint              n_pages,
                  StreamTarget      *target,
                  const char        *path,
                  GError           **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;

  switch (format)
    {
    case FORMAT_PNG:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) width, (int) height);
      break;
    case FORMAT_SVG:
      surface = cairo_svg_surface_create_for_stream (stream_write, target, width, height);
      /* Unitless sizes: an 800x600 SVG shows at 800x600 pixels. */
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_USER);
      break;
    case FORMAT_PDF:
      surface = cairo_pdf_surface_create_for_stream (stream_write, target, width, height);
      cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "X-Ray Lab");
      break;
    default:
      g_assert_not_reached ();
    }

  status = cairo_surface_status (surface);
  for (guint i = 0; i < n_pages && status == CAIRO_STATUS_SUCCESS; i++)
    {
      cairo_t *cr = cairo_create (surface);

      pages[i].draw (cr, width, height, pages[i].user_data);
      status = cairo_status (cr);
      cairo_destroy (cr);
      if (status == CAIRO_STATUS_SUCCESS && format == FORMAT_PDF)
        cairo_surface_show_page (surface);
    }

  if (status == CAIRO_STATUS_SUCCESS && format == FORMAT_PNG)
    status = cairo_surface_write_to_png_stream (surface, stream_write, target);
  else if (status == CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);

  return check_cairo (status, target, path, error);
}

static gboolean
save_atomically (const char        *path,
                 FileFormat         format,
                 double             width,
                 double             height,
                 const XlPlotPage  *pages,
                 guint              n_pages,
                 GError           **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp_name = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *tmp_path = g_build_filename (dir, tmp_name, NULL);
  StreamTarget target = { .fd = -1 };
  int saved_errno;

  if (!(width >= 1 && width <= MAX_SIDE && height >= 1 && height <= MAX_SIDE))
    {
      g_set_error (error, XL_PLOT_ERROR, XL_PLOT_ERROR_SIZE,
                   "%s: size %gx%g is out of 1..%d", path, width, height, MAX_SIDE);
      return FALSE;
    }

  /* 0666 and the umask, as any new file; g_mkstemp() would make it 0600. */
  target.fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (target.fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "%s: cannot create a temporary file in %s: %s",
                   path, dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (!render_to_stream (format, width, height, pages, n_pages, &target, path, error))
    goto fail;

  if (fsync (target.fd) != 0 || close (target.fd) != 0)
    {
      saved_errno = errno;
      target.fd = -1;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "%s: %s", path, g_strerror (saved_errno));
      goto fail;
    }
  target.fd = -1;

  if (g_rename (tmp_path, path) != 0)
    {
      saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "%s: cannot rename the temporary file into place: %s",
                   path, g_strerror (saved_errno));
      goto fail;
    }

  return TRUE;

fail:
  if (target.fd >= 0)
    close (target.fd);
  g_unlink (tmp_path);
  return FALSE;
}

gboolean
xl_plot_save (const char     *path,
              int             width,
              int             height,
              XlPlotDrawFunc  draw,
              gpointer        user_data,
              GError        **error)
{
  XlPlotPage page = { draw, user_data };
  FileFormat format;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (draw != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!format_from_path (path, &format, error))
    return FALSE;

  return save_atomically (path, format, width, height, &page, 1, error);
}

gboolean
xl_plot_save_pdf_pages (const char        *path,
                        double             width,
                        double             height,
                        const XlPlotPage  *pages,
                        guint              n_pages,
                        GError           **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (pages != NULL && n_pages > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_pages; i++)
    g_return_val_if_fail (pages[i].draw != NULL, FALSE);

  return save_atomically (path, FORMAT_PDF, width, height, pages, n_pages, error);
}
