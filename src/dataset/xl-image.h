/* xl-image.h — decoding films and resizing them as torchvision does.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Errors are in the XL_DATASET_ERROR domain (xl-dataset.h): DECODE for a file
 * that is not a usable image, TOO_LARGE for one over the limits below. A
 * message starts with the name given ("x.jpeg: truncated JPEG"); with a NULL
 * name it is the bare cause ("truncated JPEG"), as the scan lists it.
 * Nothing here aborts on any input, and everything is thread-safe.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An 8-bit grayscale image, rows packed (stride == width). */
typedef struct {
  guint width, height;
  guint8 *pixels;
} XlImage;

void xl_image_free (XlImage *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlImage, xl_image_free)

/* Largest image we agree to decode: bigger headers are refused before any
 * allocation (a 60000x60000 "decompression bomb" costs nothing). */
#define XL_IMAGE_MAX_PIXELS (100u * 1000u * 1000u)
/* ... and no side may be longer than this either. */
#define XL_IMAGE_MAX_SIDE 30000u

/* Decodes a JPEG (TurboJPEG, with DCT scaling to the smallest scale whose short
 * side is still >= min_short_side; 0 means full size) or a PNG to grayscale.
 * RGB films become gray as PIL's convert("L") does; a name helps the message. */
XlImage *xl_image_decode (const guint8 *data, gsize len, guint min_short_side,
                          const char *name, GError **error);

/* Resizes so the short side is short_side, keeping the aspect ratio, with an
 * antialiased bilinear filter like PIL's (torchvision's Resize). */
XlImage *xl_image_resize_short_side (const XlImage *src, guint short_side);
/* Resizes to exactly width x height with the same filter. */
XlImage *xl_image_resize (const XlImage *src, guint width, guint height);

/* --- Added with the implementation --------------------------------------- */

XlImage *xl_image_new (guint width, guint height);   /* zeroed; NULL if too large */
XlImage *xl_image_copy (const XlImage *src);

typedef enum {
  XL_IMAGE_FORMAT_UNKNOWN = 0,
  XL_IMAGE_FORMAT_JPEG,
  XL_IMAGE_FORMAT_PNG,
} XlImageFormat;

typedef struct {
  XlImageFormat format;
  guint width, height;   /* full size, from the header */
  guint channels;        /* in the file: 1 gray, 2 gray+alpha, 3 RGB (YCbCr,
                            palette), 4 RGBA or CMYK (YCCK) */
  gboolean cmyk;
} XlImageInfo;

/* The format by content (the extension is not trusted). */
XlImageFormat xl_image_sniff (const guint8 *data, gsize len);

/* Reads the header at the start of data (the whole file or only its first
 * bytes: a JPEG header usually takes a few KiB) and checks the size limits.
 * Does not look at the pixel data. */
gboolean xl_image_read_info (const guint8 *data, gsize len, const char *name,
                             XlImageInfo *info, GError **error);

/* TRUE when tail (the last bytes of a file of that format) holds the format's
 * end marker (a JPEG's EOI, a PNG's IEND). A file without one is truncated or
 * carries a trailer; decoding tells which. */
gboolean xl_image_has_end_marker (XlImageFormat format, const guint8 *tail, gsize tail_len);

/* The size xl_image_decode returns for a JPEG of width x height asked for
 * min_short_side: the smallest TurboJPEG scaling factor <= 1 whose scaled
 * short side is >= min_short_side (full size when none is). */
void xl_image_jpeg_scaled_size (guint width, guint height, guint min_short_side,
                                guint *scaled_width, guint *scaled_height);

/* torchvision's Resize(short_side) output size for a width x height image
 * (transforms/functional.py, _compute_resized_output_size, 0.14): the short
 * side becomes short_side and the long one int(short_side * long / short). */
void xl_image_short_side_size (guint width, guint height, guint short_side,
                               guint *out_width, guint *out_height);

/* Decode, then resize as torchvision's Resize(short_side) would the full-size
 * film: the output size is computed from the header's size (not from the
 * DCT-scaled one), so it is always exactly torchvision's. What the cache holds.
 * info may be NULL; it receives the header of the file. */
XlImage *xl_image_decode_short_side (const guint8 *data, gsize len, guint short_side,
                                     const char *name, XlImageInfo *info, GError **error);
/* The same, but DCT-scaling only down to dct_short_side instead of short_side
 * (0: decode at full size). Measured on the 42 original films at 256: DCT
 * scaling to >= 256 differs from torchvision's full-size path by 0.85 gray
 * levels on average (worst film 1.97), to >= 512 by 0.36, and full size by 0:
 * bit-exact, at several times the decoding cost. */
XlImage *xl_image_decode_short_side_at (const guint8 *data, gsize len, guint short_side,
                                        guint dct_short_side, const char *name,
                                        XlImageInfo *info, GError **error);
/* xl_image_decode_short_side, also handing over the decode before its resize
 * in *decoded (NULL when no resize was needed: the result is the decode), for
 * a caller that draws the film at another size from the same read. */
XlImage *xl_image_decode_short_side_keep (const guint8 *data, gsize len, guint short_side,
                                          const char *name, XlImageInfo *info,
                                          XlImage **decoded, GError **error);

/* torchvision's CenterCrop(crop) offsets: int(round((size - crop) / 2.0)),
 * where Python's round() goes to even on .5 (77 / 2 -> 38). */
guint xl_image_center_offset (guint size, guint crop);

G_END_DECLS
