/* fuzz-image.c — the film decoders: TurboJPEG and libpng behind xl_image_*.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The whole input is the file. Its length picks what a caller would ask for:
 * the header only, a full-size decode, a DCT-scaled decode, or the cache's
 * decode-and-resize; a decoded film is then resized, as the cache and the
 * loader do. Every path must return an image or a GError, never crash.
 */
#include "fuzz-common.h"

#include "xl-dataset.h"
#include "xl-image.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

static void
check_image (const XlImage *img)
{
  if (img == NULL)
    return;
  g_assert (img->width > 0 && img->height > 0);
  g_assert ((guint64) img->width * img->height <= XL_IMAGE_MAX_PIXELS);
  /* touch every pixel: ASan catches a short buffer */
  volatile guint sum = 0;
  for (gsize i = 0; i < (gsize) img->width * img->height; i++)
    sum += img->pixels[i];
  (void) sum;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const guint short_sides[] = { 0, 1, 16, 64, 256 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlImage) img = NULL;
  XlImageInfo info;
  guint short_side = short_sides[size % G_N_ELEMENTS (short_sides)];

  (void) xl_image_sniff (data, size);
  if (size >= 16)
    (void) xl_image_has_end_marker (xl_image_sniff (data, size), data + size - 16, 16);
  if (xl_image_read_info (data, size, "fuzz.jpeg", &info, &error))
    {
      g_assert (info.width > 0 && info.height > 0);
      g_assert (info.width <= XL_IMAGE_MAX_SIDE && info.height <= XL_IMAGE_MAX_SIDE);
    }
  else
    {
      g_assert (error != NULL && error->message != NULL);
      g_clear_error (&error);
    }

  switch ((size / 5) % 3)
    {
    case 0:
      img = xl_image_decode (data, size, short_side, "fuzz.jpeg", &error);
      break;
    case 1:
      img = xl_image_decode_short_side (data, size, MAX (short_side, 8), NULL, &info, &error);
      break;
    default:
      img = xl_image_decode_short_side_at (data, size, 24, short_side, "fuzz.png", NULL, &error);
      break;
    }
  g_assert ((img == NULL) == (error != NULL));
  if (img == NULL)
    {
      g_assert (error->domain == XL_DATASET_ERROR);
      return 0;
    }
  check_image (img);
  {
    g_autoptr (XlImage) small = xl_image_resize_short_side (img, 12);
    g_autoptr (XlImage) square = xl_image_resize (img, 7, 5);
    check_image (small);
    check_image (square);
  }
  return 0;
}
