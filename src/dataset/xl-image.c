/* xl-image.c — decoding films (TurboJPEG, libpng) and resizing them as PIL does.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The resize is PIL's ImagingResample (Pillow 9.4, src/libImaging/Resample.c)
 * for 8-bit images with the BILINEAR filter, which is what torchvision's
 * Resize does to a PIL image: a triangle filter whose support grows with the
 * downscale factor (antialiasing), coefficients normalized per output pixel
 * and turned into 22-bit fixed point, a horizontal pass and then a vertical
 * one, each rounding to uint8. Same arithmetic, so the same bytes.
 *
 * Gray conversions are PIL's too: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16
 * (rgb2l in Convert.c), CMYK -> RGB by cmyk2rgb after PIL's "CMYK;I" raw mode
 * (PIL assumes Adobe's inverted CMYK in every CMYK JPEG).
 */
#include "config.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <turbojpeg.h>

#include "xl-dataset.h"
#include "xl-image.h"

/* PIL: #define PRECISION_BITS (32 - 8 - 2) */
#define RESAMPLE_PRECISION_BITS 22

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
static const guint8 png_iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };

G_GNUC_PRINTF (4, 5) static void
set_error (GError    **error,
           XlDatasetError code,
           const char *name,
           const char *format,
           ...)
{
  g_autofree char *cause = NULL;
  va_list args;

  va_start (args, format);
  cause = g_strdup_vprintf (format, args);
  va_end (args);

  if (name != NULL)
    g_set_error (error, XL_DATASET_ERROR, code, "%s: %s", name, cause);
  else
    g_set_error_literal (error, XL_DATASET_ERROR, code, cause);
}

static gboolean
check_size (guint       width,
            guint       height,
            const char *name,
            GError    **error)
{
  if (width == 0 || height == 0)
    {
      set_error (error, XL_DATASET_ERROR_DECODE, name, "corrupt header (%ux%u)", width, height);
      return FALSE;
    }
  if (width > XL_IMAGE_MAX_SIDE || height > XL_IMAGE_MAX_SIDE
      || (guint64) width * height > XL_IMAGE_MAX_PIXELS)
    {
      set_error (error, XL_DATASET_ERROR_TOO_LARGE, name,
                 "%ux%u is over the limit (%u pixels a side, %u megapixels)", width, height,
                 XL_IMAGE_MAX_SIDE, XL_IMAGE_MAX_PIXELS / 1000000);
      return FALSE;
    }
  return TRUE;
}

void
xl_image_free (XlImage *img)
{
  if (img == NULL)
    return;
  g_free (img->pixels);
  g_free (img);
}

XlImage *
xl_image_new (guint width,
              guint height)
{
  XlImage *img;
  guint8 *pixels;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  if ((guint64) width * height > G_MAXSIZE / 2)
    return NULL;
  pixels = g_try_malloc0 ((gsize) width * height);
  if (pixels == NULL)
    return NULL;
  img = g_new (XlImage, 1);
  img->width = width;
  img->height = height;
  img->pixels = pixels;
  return img;
}

XlImage *
xl_image_copy (const XlImage *src)
{
  XlImage *img;

  g_return_val_if_fail (src != NULL, NULL);

  img = xl_image_new (src->width, src->height);
  if (img != NULL)
    memcpy (img->pixels, src->pixels, (gsize) src->width * src->height);
  return img;
}

XlImageFormat
xl_image_sniff (const guint8 *data,
                gsize         len)
{
  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return XL_IMAGE_FORMAT_JPEG;
  if (len >= 8 && memcmp (data, png_signature, 8) == 0)
    return XL_IMAGE_FORMAT_PNG;
  return XL_IMAGE_FORMAT_UNKNOWN;
}

gboolean
xl_image_has_end_marker (XlImageFormat format,
                         const guint8 *tail,
                         gsize         tail_len)
{
  g_return_val_if_fail (tail != NULL || tail_len == 0, FALSE);

  if (format == XL_IMAGE_FORMAT_PNG)
    return tail_len >= sizeof png_iend
           && memcmp (tail + tail_len - sizeof png_iend, png_iend, sizeof png_iend) == 0;

  if (format == XL_IMAGE_FORMAT_JPEG)
    {
      /* Encoders may pad after EOI; allow a few bytes of that. */
      for (gsize i = tail_len >= 2 ? tail_len - 2 : 0; tail_len >= 2; i--)
        {
          if (tail[i] == 0xff && tail[i + 1] == 0xd9)
            return TRUE;
          if (i == 0 || tail_len - i > 64)
            break;
        }
    }
  return FALSE;
}

/* ---- JPEG ---------------------------------------------------------------- */

/* A new decompressor for every image: TurboJPEG 2.1 keeps Huffman tables and
 * error state in a handle between images (a header-only stream leaves later
 * files failing with "Bogus Huffman table definition"), and one costs well
 * under a microsecond to make. */
typedef tjhandle TjHandle;

static void
tj_handle_free (TjHandle handle)
{
  if (handle != NULL)
    tjDestroy (handle);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (TjHandle, tj_handle_free, NULL)

static gboolean
is_premature_end (const char *message)
{
  return message != NULL && (strstr (message, "Premature end") != NULL
                              || strstr (message, "premature end") != NULL);
}

/* A file that fails without an end marker was most likely cut short. */
static void
set_jpeg_error (GError      **error,
                const char   *name,
                const guint8 *data,
                gsize         len,
                const char   *message)
{
  gsize tail = MIN (len, 64);

  if (is_premature_end (message)
      || !xl_image_has_end_marker (XL_IMAGE_FORMAT_JPEG, data + len - tail, tail))
    set_error (error, XL_DATASET_ERROR_DECODE, name, "truncated JPEG");
  else
    set_error (error, XL_DATASET_ERROR_DECODE, name, "corrupt JPEG (%s)", message);
}

static gboolean
jpeg_read_header (tjhandle     handle,
                  const guint8 *data,
                  gsize        len,
                  const char  *name,
                  XlImageInfo *info,
                  GError     **error)
{
  int width = 0, height = 0, subsamp = 0, colorspace = 0;

  if (handle == NULL)
    {
      set_error (error, XL_DATASET_ERROR_DECODE, name, "cannot start the JPEG decoder: %s",
                 tjGetErrorStr2 (NULL));
      return FALSE;
    }
  if (tjDecompressHeader3 (handle, data, len, &width, &height, &subsamp, &colorspace) != 0)
    {
      set_jpeg_error (error, name, data, len, tjGetErrorStr2 (handle));
      return FALSE;
    }
  /* A stream of tables only (or one cut before its frame header) "succeeds". */
  if (width <= 0 || height <= 0)
    {
      set_jpeg_error (error, name, data, len, "no image in it");
      return FALSE;
    }

  info->format = XL_IMAGE_FORMAT_JPEG;
  info->width = (guint) width;
  info->height = (guint) height;
  info->cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  info->channels = info->cmyk ? 4 : colorspace == TJCS_GRAY ? 1 : 3;
  return check_size (info->width, info->height, name, error);
}

void
xl_image_jpeg_scaled_size (guint  width,
                           guint  height,
                           guint  min_short_side,
                           guint *scaled_width,
                           guint *scaled_height)
{
  const tjscalingfactor *factors;
  int n_factors = 0;
  tjscalingfactor best = { 1, 1 };

  g_return_if_fail (scaled_width != NULL && scaled_height != NULL);

  factors = tjGetScalingFactors (&n_factors);
  for (int i = 0; factors != NULL && i < n_factors && min_short_side > 0; i++)
    {
      tjscalingfactor f = factors[i];
      guint w, h;

      if (f.num > f.denom)
        continue;
      w = (guint) TJSCALED ((int) width, f);
      h = (guint) TJSCALED ((int) height, f);
      if (MIN (w, h) >= min_short_side && f.num * best.denom < best.num * f.denom)
        best = f;
    }
  *scaled_width = (guint) TJSCALED ((int) width, best);
  *scaled_height = (guint) TJSCALED ((int) height, best);
}

/* PIL: MULDIV255(a, b, tmp) (tmp = (a) * (b) + 128, ((((tmp) >> 8) + (tmp)) >> 8)) */
static inline int
muldiv255 (int a,
           int b)
{
  int tmp = a * b + 128;

  return ((tmp >> 8) + tmp) >> 8;
}

static inline guint8
rgb_to_l (guint r,
          guint g,
          guint b)
{
  return (guint8) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}

static inline guint8
clip8 (int value)
{
  return (guint8) CLAMP (value, 0, 255);
}

/* TurboJPEG hands out the stored CMYK; PIL reads it as inverted ("CMYK;I"),
 * then cmyk2rgb, then rgb2l. */
static void
cmyk_row_to_l (guint8       *out,
               const guint8 *in,
               guint         width)
{
  for (guint x = 0; x < width; x++, in += 4)
    {
      int c = 255 - in[0], m = 255 - in[1], y = 255 - in[2], k = 255 - in[3];
      int nk = 255 - k;
      guint r = clip8 (nk - muldiv255 (c, nk));
      guint g = clip8 (nk - muldiv255 (m, nk));
      guint b = clip8 (nk - muldiv255 (y, nk));

      out[x] = rgb_to_l (r, g, b);
    }
}

static XlImage *
decode_jpeg (const guint8 *data,
             gsize         len,
             guint         min_short_side,
             const char   *name,
             XlImageInfo  *info,
             GError      **error)
{
  g_auto (TjHandle) handle = tjInitDecompress ();
  g_autoptr (XlImage) img = NULL;
  g_autofree guint8 *cmyk = NULL;
  guint width, height;
  int status;
  /* TJFLAG_LIMITSCANS refuses progressive files with absurd scan counts (a
   * known CPU bomb); ACCURATEDCT is libjpeg's default, which PIL uses. */
  const int flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS;

  if (!jpeg_read_header (handle, data, len, name, info, error))
    return NULL;

  xl_image_jpeg_scaled_size (info->width, info->height, min_short_side, &width, &height);
  img = xl_image_new (width, height);
  if (img == NULL)
    {
      set_error (error, XL_DATASET_ERROR_TOO_LARGE, name, "out of memory for a %ux%u image",
                 width, height);
      return NULL;
    }

  if (info->cmyk)
    {
      /* libjpeg cannot turn CMYK into gray itself: take CMYK and convert. */
      cmyk = g_try_malloc ((gsize) width * height * 4);
      if (cmyk == NULL)
        {
          set_error (error, XL_DATASET_ERROR_TOO_LARGE, name,
                     "out of memory for a %ux%u CMYK image", width, height);
          return NULL;
        }
      status = tjDecompress2 (handle, data, len, cmyk, (int) width, 0, (int) height, TJPF_CMYK,
                              flags);
    }
  else
    status = tjDecompress2 (handle, data, len, img->pixels, (int) width, 0, (int) height,
                            TJPF_GRAY, flags);

  if (status != 0)
    {
      const char *message = tjGetErrorStr2 (handle);

      /* Other warnings ("Corrupt JPEG data: 3 extraneous bytes before marker")
       * leave a complete image, which PIL would accept too. */
      if (is_premature_end (message) || tjGetErrorCode (handle) != TJERR_WARNING)
        {
          set_jpeg_error (error, name, data, len, message);
          return NULL;
        }
    }

  if (cmyk != NULL)
    for (guint y = 0; y < height; y++)
      cmyk_row_to_l (img->pixels + (gsize) y * width, cmyk + (gsize) y * width * 4, width);

  return g_steal_pointer (&img);
}

/* ---- PNG ----------------------------------------------------------------- */

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static gboolean
png_read_header (const guint8 *data,
                 gsize         len,
                 const char   *name,
                 XlImageInfo  *info,
                 GError      **error)
{
  guint color_type;

  /* signature, IHDR length (13), "IHDR", width, height, depth, color type, ... */
  if (len < 33)
    {
      set_error (error, XL_DATASET_ERROR_DECODE, name, "truncated PNG");
      return FALSE;
    }
  if (read_be32 (data + 8) != 13 || memcmp (data + 12, "IHDR", 4) != 0)
    {
      set_error (error, XL_DATASET_ERROR_DECODE, name, "corrupt PNG (no IHDR chunk first)");
      return FALSE;
    }

  color_type = data[25];
  info->format = XL_IMAGE_FORMAT_PNG;
  info->width = read_be32 (data + 16);
  info->height = read_be32 (data + 20);
  info->cmyk = FALSE;
  switch (color_type)
    {
    case 0: info->channels = 1; break;
    case 2: info->channels = 3; break;
    case 3: info->channels = 3; break;
    case 4: info->channels = 2; break;
    case 6: info->channels = 4; break;
    default:
      set_error (error, XL_DATASET_ERROR_DECODE, name, "corrupt PNG (color type %u)", color_type);
      return FALSE;
    }
  return check_size (info->width, info->height, name, error);
}

/* Everything libpng's callbacks touch lives here, on the heap: its address
 * does not change between setjmp and longjmp, so nothing is lost or leaked
 * when libpng jumps out of the middle of a read. */
typedef struct {
  const guint8 *data;
  gsize len;
  gsize pos;
  gboolean truncated;
  char message[200];
  guint8 *rows;          /* decoded rows in the file's layout (interlaced files) */
  guint8 *row;           /* one decoded row (non-interlaced files) */
  png_bytep *row_pointers;
  XlImage *img;
} PngDecode;

static void
png_decode_free (PngDecode *ctx)
{
  g_free (ctx->rows);
  g_free (ctx->row);
  g_free (ctx->row_pointers);
  xl_image_free (ctx->img);
  g_free (ctx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PngDecode, png_decode_free)

static void
png_read_cb (png_structp png,
             png_bytep   out,
             size_t      length)
{
  PngDecode *ctx = png_get_io_ptr (png);

  if (length > ctx->len - ctx->pos)
    {
      ctx->truncated = TRUE;
      png_error (png, "unexpected end of data");
    }
  memcpy (out, ctx->data + ctx->pos, length);
  ctx->pos += length;
}

G_GNUC_NORETURN static void
png_error_cb (png_structp     png,
              png_const_charp message)
{
  PngDecode *ctx = png_get_error_ptr (png);

  g_strlcpy (ctx->message, message, sizeof ctx->message);
  png_longjmp (png, 1);
}

static void
png_warning_cb (png_structp     png,
                png_const_charp message)
{
}

static void
png_row_to_l (guint8       *out,
              const guint8 *in,
              guint         width,
              guint         channels)
{
  switch (channels)
    {
    case 1:
      memcpy (out, in, width);
      break;
    case 2:   /* PIL: LA -> L keeps L */
      for (guint x = 0; x < width; x++)
        out[x] = in[2 * x];
      break;
    case 3:
      for (guint x = 0; x < width; x++, in += 3)
        out[x] = rgb_to_l (in[0], in[1], in[2]);
      break;
    default:  /* RGBA: PIL's rgb2l ignores alpha */
      for (guint x = 0; x < width; x++, in += 4)
        out[x] = rgb_to_l (in[0], in[1], in[2]);
      break;
    }
}

static XlImage *
decode_png (const guint8 *data,
            gsize         len,
            const char   *name,
            XlImageInfo  *info,
            GError      **error)
{
  g_autoptr (PngDecode) ctx = g_new0 (PngDecode, 1);
  png_structp png;
  png_infop pinfo;
  XlImage *img;

  if (!png_read_header (data, len, name, info, error))
    return NULL;

  ctx->data = data;
  ctx->len = len;
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, ctx, png_error_cb, png_warning_cb);
  pinfo = png != NULL ? png_create_info_struct (png) : NULL;
  if (pinfo == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      set_error (error, XL_DATASET_ERROR_DECODE, name, "cannot start the PNG decoder");
      return NULL;
    }

  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_read_struct (&png, &pinfo, NULL);
      /* A file that fails without its IEND was most likely cut short. */
      if (ctx->truncated || !xl_image_has_end_marker (XL_IMAGE_FORMAT_PNG, data, len))
        set_error (error, XL_DATASET_ERROR_DECODE, name, "truncated PNG");
      else
        set_error (error, XL_DATASET_ERROR_DECODE, name, "corrupt PNG (%s)", ctx->message);
      return NULL;
    }

  png_set_read_fn (png, ctx, png_read_cb);
  png_set_user_limits (png, XL_IMAGE_MAX_SIDE, XL_IMAGE_MAX_SIDE);
  png_set_chunk_malloc_max (png, 64 * 1024 * 1024);
  png_read_info (png, pinfo);
  {
    png_uint_32 width = png_get_image_width (png, pinfo);
    png_uint_32 height = png_get_image_height (png, pinfo);
    int color_type = png_get_color_type (png, pinfo);
    int bit_depth = png_get_bit_depth (png, pinfo);
    int interlace = png_get_interlace_type (png, pinfo);
    gsize rowbytes;
    guint channels;

    if (width != info->width || height != info->height)
      png_error (png, "inconsistent IHDR");
    if (color_type == PNG_COLOR_TYPE_PALETTE)
      png_set_palette_to_rgb (png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
      png_set_expand_gray_1_2_4_to_8 (png);
    /* 16-bit samples keep their high byte, as PIL's "RGB;16B" raw mode does. */
    if (bit_depth == 16)
      png_set_strip_16 (png);
    png_set_interlace_handling (png);
    png_read_update_info (png, pinfo);

    channels = png_get_channels (png, pinfo);
    rowbytes = png_get_rowbytes (png, pinfo);
    if (channels < 1 || channels > 4 || rowbytes != (gsize) width * channels)
      png_error (png, "unexpected row layout");

    ctx->img = xl_image_new (width, height);
    if (ctx->img == NULL)
      png_error (png, "out of memory");

    if (interlace == PNG_INTERLACE_NONE)
      {
        ctx->row = g_try_malloc (rowbytes);
        if (ctx->row == NULL)
          png_error (png, "out of memory");
        for (png_uint_32 y = 0; y < height; y++)
          {
            png_read_row (png, ctx->row, NULL);
            png_row_to_l (ctx->img->pixels + (gsize) y * width, ctx->row, width, channels);
          }
      }
    else
      {
        ctx->rows = g_try_malloc (rowbytes * height);
        ctx->row_pointers = g_try_new (png_bytep, height);
        if (ctx->rows == NULL || ctx->row_pointers == NULL)
          png_error (png, "out of memory");
        for (png_uint_32 y = 0; y < height; y++)
          ctx->row_pointers[y] = ctx->rows + (gsize) y * rowbytes;
        png_read_image (png, ctx->row_pointers);
        for (png_uint_32 y = 0; y < height; y++)
          png_row_to_l (ctx->img->pixels + (gsize) y * width, ctx->row_pointers[y], width,
                        channels);
      }
  }
  png_destroy_read_struct (&png, &pinfo, NULL);

  img = g_steal_pointer (&ctx->img);
  return img;
}

/* ---- Public decoding ----------------------------------------------------- */

static gboolean
check_sniff (const guint8 *data,
             gsize         len,
             const char   *name,
             XlImageFormat *format,
             GError      **error)
{
  if (len == 0)
    {
      set_error (error, XL_DATASET_ERROR_DECODE, name, "empty file");
      return FALSE;
    }
  *format = xl_image_sniff (data, len);
  if (*format == XL_IMAGE_FORMAT_UNKNOWN)
    {
      /* A JPEG cut within its first 3 bytes still starts like one. */
      if (len < 3 && data[0] == 0xff && (len < 2 || data[1] == 0xd8))
        set_error (error, XL_DATASET_ERROR_DECODE, name, "truncated JPEG");
      else if (len < 8 && memcmp (data, png_signature, len) == 0)
        set_error (error, XL_DATASET_ERROR_DECODE, name, "truncated PNG");
      else
        set_error (error, XL_DATASET_ERROR_DECODE, name, "not an image (neither JPEG nor PNG)");
      return FALSE;
    }
  return TRUE;
}

gboolean
xl_image_read_info (const guint8 *data,
                    gsize         len,
                    const char   *name,
                    XlImageInfo  *info,
                    GError      **error)
{
  XlImageFormat format;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (info, 0, sizeof *info);
  if (!check_sniff (data, len, name, &format, error))
    return FALSE;
  if (format == XL_IMAGE_FORMAT_JPEG)
    {
      g_auto (TjHandle) handle = tjInitDecompress ();

      return jpeg_read_header (handle, data, len, name, info, error);
    }
  return png_read_header (data, len, name, info, error);
}

static XlImage *
decode_with_info (const guint8 *data,
                  gsize         len,
                  guint         min_short_side,
                  const char   *name,
                  XlImageInfo  *info,
                  GError      **error)
{
  XlImageFormat format;

  memset (info, 0, sizeof *info);
  if (!check_sniff (data, len, name, &format, error))
    return NULL;
  if (format == XL_IMAGE_FORMAT_JPEG)
    return decode_jpeg (data, len, min_short_side, name, info, error);
  return decode_png (data, len, name, info, error);
}

XlImage *
xl_image_decode (const guint8 *data,
                 gsize         len,
                 guint         min_short_side,
                 const char   *name,
                 GError      **error)
{
  XlImageInfo info;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return decode_with_info (data, len, min_short_side, name, &info, error);
}

void
xl_image_short_side_size (guint  width,
                          guint  height,
                          guint  short_side,
                          guint *out_width,
                          guint *out_height)
{
  guint shorter, longer, new_long;

  g_return_if_fail (out_width != NULL && out_height != NULL);

  if (width == 0 || height == 0)
    {
      *out_width = *out_height = 0;
      return;
    }
  shorter = width <= height ? width : height;
  longer = width <= height ? height : width;
  /* Python: int(requested_new_short * long / short), a true division of exact
   * integers, then truncation. */
  new_long = (guint) ((double) ((guint64) short_side * longer) / (double) shorter);
  *out_width = width <= height ? short_side : new_long;
  *out_height = width <= height ? new_long : short_side;
}

static XlImage *
decode_short_side (const guint8 *data,
                   gsize         len,
                   guint         short_side,
                   guint         dct_short_side,
                   const char   *name,
                   XlImageInfo  *info,
                   XlImage     **decoded_out,
                   GError      **error)
{
  XlImageInfo local_info;
  g_autoptr (XlImage) decoded = NULL;
  guint width, height;
  XlImage *resized;

  if (decoded_out != NULL)
    *decoded_out = NULL;
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (short_side > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (info == NULL)
    info = &local_info;
  decoded = decode_with_info (data, len, dct_short_side, name, info, error);
  if (decoded == NULL)
    return NULL;

  xl_image_short_side_size (info->width, info->height, short_side, &width, &height);
  if (width == 0 || height == 0 || (guint64) width * height > XL_IMAGE_MAX_PIXELS)
    {
      set_error (error, XL_DATASET_ERROR_TOO_LARGE, name,
                 "%ux%u cannot be resized to a short side of %u", info->width, info->height,
                 short_side);
      return NULL;
    }
  if (decoded->width == width && decoded->height == height)
    return g_steal_pointer (&decoded);

  resized = xl_image_resize (decoded, width, height);
  if (resized == NULL)
    set_error (error, XL_DATASET_ERROR_TOO_LARGE, name, "out of memory for a %ux%u image",
               width, height);
  else if (decoded_out != NULL)
    *decoded_out = g_steal_pointer (&decoded);
  return resized;
}

XlImage *
xl_image_decode_short_side_at (const guint8 *data,
                               gsize         len,
                               guint         short_side,
                               guint         dct_short_side,
                               const char   *name,
                               XlImageInfo  *info,
                               GError      **error)
{
  return decode_short_side (data, len, short_side, dct_short_side, name, info, NULL, error);
}

XlImage *
xl_image_decode_short_side_keep (const guint8 *data,
                                 gsize         len,
                                 guint         short_side,
                                 const char   *name,
                                 XlImageInfo  *info,
                                 XlImage     **decoded,
                                 GError      **error)
{
  return decode_short_side (data, len, short_side, short_side, name, info, decoded, error);
}

XlImage *
xl_image_decode_short_side (const guint8 *data,
                            gsize         len,
                            guint         short_side,
                            const char   *name,
                            XlImageInfo  *info,
                            GError      **error)
{
  return xl_image_decode_short_side_at (data, len, short_side, short_side, name, info, error);
}

guint
xl_image_center_offset (guint size,
                        guint crop)
{
  if (crop >= size)
    return 0;
  return (guint) rint ((double) (size - crop) / 2.0);
}

/* ---- Resize (PIL's ImagingResample, BILINEAR, 8 bits) --------------------- */

typedef struct {
  guint out_size;
  guint ksize;       /* coefficients per output pixel */
  guint *bounds;     /* (out_size, 2): first input pixel, count */
  gint32 *coeffs;    /* (out_size, ksize), fixed point */
} ResampleKernel;

static void
resample_kernel_clear (ResampleKernel *kernel)
{
  g_free (kernel->bounds);
  g_free (kernel->coeffs);
}

static double
bilinear_filter (double x)
{
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return 1.0 - x;
  return 0.0;
}

/* precompute_coeffs and normalize_coeffs_8bpc, with in0 = 0 and in1 = in_size
 * (no box). PIL computes in double, then rounds half away from zero. */
static gboolean
resample_kernel_init (ResampleKernel *kernel,
                      guint           in_size,
                      guint           out_size)
{
  const double filter_support = 1.0;
  double scale, filterscale, support;
  g_autofree double *weights = NULL;
  guint ksize;

  filterscale = scale = (double) ((float) in_size - 0.0f) / out_size;
  if (filterscale < 1.0)
    filterscale = 1.0;
  support = filter_support * filterscale;
  ksize = (guint) ceil (support) * 2 + 1;

  kernel->out_size = out_size;
  kernel->ksize = ksize;
  kernel->bounds = g_try_new (guint, (gsize) out_size * 2);
  kernel->coeffs = g_try_new0 (gint32, (gsize) out_size * ksize);
  weights = g_try_new (double, ksize);
  if (kernel->bounds == NULL || kernel->coeffs == NULL || weights == NULL)
    return FALSE;

  for (guint xx = 0; xx < out_size; xx++)
    {
      double center = 0.0 + (xx + 0.5) * scale;
      double ww = 0.0, ss = 1.0 / filterscale;
      int xmin = (int) (center - support + 0.5);
      int xmax = (int) (center + support + 0.5);
      gint32 *k = kernel->coeffs + (gsize) xx * ksize;

      if (xmin < 0)
        xmin = 0;
      if (xmax > (int) in_size)
        xmax = (int) in_size;
      xmax -= xmin;
      for (int x = 0; x < xmax; x++)
        {
          double w = bilinear_filter ((x + xmin - center + 0.5) * ss);

          weights[x] = w;
          ww += w;
        }
      for (int x = 0; x < xmax; x++)
        {
          double w = ww != 0.0 ? weights[x] / ww : weights[x];

          if (w < 0)
            k[x] = (gint32) (-0.5 + w * (1 << RESAMPLE_PRECISION_BITS));
          else
            k[x] = (gint32) (0.5 + w * (1 << RESAMPLE_PRECISION_BITS));
        }
      kernel->bounds[xx * 2] = (guint) xmin;
      kernel->bounds[xx * 2 + 1] = (guint) xmax;
    }
  return TRUE;
}

/* PIL's clip8 for 8bpc */
static inline guint8
resample_clip8 (gint32 in)
{
  if (in >= (1 << RESAMPLE_PRECISION_BITS << 8))
    return 255;
  if (in <= 0)
    return 0;
  return (guint8) (in >> RESAMPLE_PRECISION_BITS);
}

/* out (rows, kernel->out_size) from in rows [first_row, first_row + rows) of
 * src (in_width wide). */
static void
resample_horizontal (guint8               *out,
                     const guint8         *src,
                     guint                 in_width,
                     guint                 first_row,
                     guint                 rows,
                     const ResampleKernel *kernel)
{
  for (guint yy = 0; yy < rows; yy++)
    {
      const guint8 *in = src + (gsize) (yy + first_row) * in_width;
      guint8 *dst = out + (gsize) yy * kernel->out_size;

      for (guint xx = 0; xx < kernel->out_size; xx++)
        {
          const gint32 *k = kernel->coeffs + (gsize) xx * kernel->ksize;
          const guint8 *px = in + kernel->bounds[xx * 2];
          guint n = kernel->bounds[xx * 2 + 1];
          gint32 ss = 1 << (RESAMPLE_PRECISION_BITS - 1);

          for (guint x = 0; x < n; x++)
            ss += px[x] * k[x];
          dst[xx] = resample_clip8 (ss);
        }
    }
}

/* out (kernel->out_size, width) from in (any rows, width); bounds are rows of
 * in. Sums a row at a time (integer sums: the order does not matter). */
static void
resample_vertical (guint8               *out,
                   const guint8         *in,
                   guint                 width,
                   const ResampleKernel *kernel,
                   guint                 row_shift,
                   gint32               *acc)
{
  for (guint yy = 0; yy < kernel->out_size; yy++)
    {
      const gint32 *k = kernel->coeffs + (gsize) yy * kernel->ksize;
      guint ymin = kernel->bounds[yy * 2] - row_shift;
      guint n = kernel->bounds[yy * 2 + 1];
      guint8 *dst = out + (gsize) yy * width;

      for (guint x = 0; x < width; x++)
        acc[x] = 1 << (RESAMPLE_PRECISION_BITS - 1);
      for (guint y = 0; y < n; y++)
        {
          const guint8 *row = in + (gsize) (ymin + y) * width;
          gint32 ky = k[y];

          for (guint x = 0; x < width; x++)
            acc[x] += row[x] * ky;
        }
      for (guint x = 0; x < width; x++)
        dst[x] = resample_clip8 (acc[x]);
    }
}

XlImage *
xl_image_resize (const XlImage *src,
                 guint          width,
                 guint          height)
{
  ResampleKernel horizontal = { 0 }, vertical = { 0 };
  g_autoptr (XlImage) out = NULL;
  g_autofree guint8 *temp = NULL;
  g_autofree gint32 *acc = NULL;
  gboolean need_horizontal, need_vertical, ok;
  const guint8 *vertical_in;
  guint row_first, row_last;

  g_return_val_if_fail (src != NULL && src->pixels != NULL, NULL);
  g_return_val_if_fail (src->width > 0 && src->height > 0, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  if (width == src->width && height == src->height)
    return xl_image_copy (src);

  need_horizontal = width != src->width;
  need_vertical = height != src->height;
  out = xl_image_new (width, height);
  if (out == NULL)
    return NULL;

  ok = resample_kernel_init (&horizontal, src->width, width)
       && resample_kernel_init (&vertical, src->height, height);
  if (!ok)
    goto out;

  /* Only the input rows the vertical pass reads go through the first pass. */
  row_first = vertical.bounds[0];
  row_last = vertical.bounds[(height - 1) * 2] + vertical.bounds[(height - 1) * 2 + 1];

  if (need_horizontal && need_vertical)
    {
      temp = g_try_malloc ((gsize) width * (row_last - row_first));
      acc = g_try_new (gint32, width);
      if (temp == NULL || acc == NULL)
        {
          ok = FALSE;
          goto out;
        }
      resample_horizontal (temp, src->pixels, src->width, row_first, row_last - row_first,
                           &horizontal);
      vertical_in = temp;
      resample_vertical (out->pixels, vertical_in, width, &vertical, row_first, acc);
    }
  else if (need_horizontal)
    resample_horizontal (out->pixels, src->pixels, src->width, 0, height, &horizontal);
  else
    {
      acc = g_try_new (gint32, width);
      if (acc == NULL)
        {
          ok = FALSE;
          goto out;
        }
      resample_vertical (out->pixels, src->pixels, width, &vertical, 0, acc);
    }

out:
  resample_kernel_clear (&horizontal);
  resample_kernel_clear (&vertical);
  return ok ? g_steal_pointer (&out) : NULL;
}

XlImage *
xl_image_resize_short_side (const XlImage *src,
                            guint          short_side)
{
  guint width, height;

  g_return_val_if_fail (src != NULL, NULL);
  g_return_val_if_fail (short_side > 0, NULL);

  xl_image_short_side_size (src->width, src->height, short_side, &width, &height);
  if (width == 0 || height == 0)
    return NULL;
  return xl_image_resize (src, width, height);
}
