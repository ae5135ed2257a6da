/* test-image.c — decoding (TurboJPEG, libpng) and the PIL-exact resize.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * JPEGs are made here with TurboJPEG's compressor; what PIL makes of images
 * comes from tests/fixtures (tools/fixtures/images.py).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <turbojpeg.h>

#include "xl-dataset.h"
#include "xl-image.h"

/* ---- Helpers ------------------------------------------------------------- */

static char *
fixture_path (const char *name)
{
  const char *dir = g_getenv ("XL_FIXTURES");

  if (dir != NULL)
    return g_build_filename (dir, name, NULL);
  return g_test_build_filename (G_TEST_DIST, "..", "fixtures", name, NULL);
}

static guint8 *
read_fixture (const char *name,
              gsize      *len)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_file_get_contents (path, &data, len, &error);
  g_assert_no_error (error);
  return (guint8 *) data;
}

/* A binary PGM (P5, 8-bit) as written by tools/fixtures/images.py. */
static XlImage *
read_pgm (const char *name)
{
  gsize len = 0;
  g_autofree guint8 *data = read_fixture (name, &len);
  guint width = 0, height = 0, maxval = 0;
  int header = 0;
  XlImage *img;

  g_assert_cmpint (sscanf ((const char *) data, "P5 %u %u %u%n", &width, &height, &maxval,
                           &header), ==, 3);
  g_assert_cmpuint (maxval, ==, 255);
  header++;   /* the single whitespace after maxval */
  g_assert_cmpuint (len - (gsize) header, ==, (gsize) width * height);
  img = xl_image_new (width, height);
  memcpy (img->pixels, data + header, (gsize) width * height);
  return img;
}

typedef struct {
  double mean;
  guint max;
} Difference;

static Difference
image_difference (const XlImage *a,
                  const XlImage *b)
{
  Difference d = { 0, 0 };
  gsize n = (gsize) a->width * a->height;
  guint64 sum = 0;

  g_assert_cmpuint (a->width, ==, b->width);
  g_assert_cmpuint (a->height, ==, b->height);
  for (gsize i = 0; i < n; i++)
    {
      guint diff = (guint) ABS ((int) a->pixels[i] - (int) b->pixels[i]);

      sum += diff;
      d.max = MAX (d.max, diff);
    }
  d.mean = (double) sum / n;
  return d;
}

/* A smooth film-like picture with some noise, in channels (1, 3 or 4). */
static guint8 *
make_pixels (guint width,
             guint height,
             guint channels,
             guint seed)
{
  guint8 *pixels = g_malloc ((gsize) width * height * channels);
  GRand *rand = g_rand_new_with_seed (seed);

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      for (guint c = 0; c < channels; c++)
        {
          double dx = (double) x / width - 0.5, dy = (double) y / height - 0.5;
          int v = (int) (200 - 300 * (dx * dx + dy * dy) + 40 * c * dx)
                  + g_rand_int_range (rand, -10, 11);

          pixels[((gsize) y * width + x) * channels + c] = (guint8) CLAMP (v, 0, 255);
        }
  g_rand_free (rand);
  return pixels;
}

/* A JPEG from pixels (TJPF_GRAY, TJPF_RGB or TJPF_CMYK). */
static guint8 *
make_jpeg (const guint8 *pixels,
           guint         width,
           guint         height,
           int           pixel_format,
           int           subsamp,
           int           flags,
           gsize        *len)
{
  tjhandle handle = tjInitCompress ();
  unsigned char *jpeg = NULL;
  unsigned long jpeg_len = 0;
  guint8 *copy;

  g_assert_nonnull (handle);
  g_assert_cmpint (tjCompress2 (handle, pixels, (int) width, 0, (int) height, pixel_format,
                                &jpeg, &jpeg_len, subsamp, 90, flags), ==, 0);
  copy = g_memdup2 (jpeg, jpeg_len);
  *len = jpeg_len;
  tjFree (jpeg);
  tjDestroy (handle);
  return copy;
}

static guint8 *
make_gray_jpeg (guint  width,
                guint  height,
                int    flags,
                gsize *len)
{
  g_autofree guint8 *pixels = make_pixels (width, height, 1, width * 31 + height);

  return make_jpeg (pixels, width, height, TJPF_GRAY, TJSAMP_GRAY, flags, len);
}

/* TurboJPEG's own decode at full size, for reference. */
static XlImage *
reference_decode (const guint8 *jpeg,
                  gsize         len,
                  int           pixel_format)
{
  tjhandle handle = tjInitDecompress ();
  int width, height, subsamp, colorspace;
  XlImage *img;

  g_assert_cmpint (tjDecompressHeader3 (handle, jpeg, len, &width, &height, &subsamp,
                                        &colorspace), ==, 0);
  img = g_new0 (XlImage, 1);
  img->width = (guint) width;
  img->height = (guint) height;
  img->pixels = g_malloc ((gsize) width * height * tjPixelSize[pixel_format]);
  g_assert_cmpint (tjDecompress2 (handle, jpeg, len, img->pixels, width, 0, height,
                                  pixel_format, TJFLAG_ACCURATEDCT), ==, 0);
  tjDestroy (handle);
  return img;
}

/* Offset of the SOF marker's height field, or 0. */
static gsize
find_sof_size (const guint8 *jpeg,
               gsize         len)
{
  gsize p = 2;

  while (p + 9 < len && jpeg[p] == 0xff)
    {
      guint8 marker = jpeg[p + 1];
      gsize seg = ((gsize) jpeg[p + 2] << 8) | jpeg[p + 3];

      if (marker == 0xc0 || marker == 0xc1 || marker == 0xc2)
        return p + 5;
      p += 2 + seg;
    }
  return 0;
}

static void
put_be16 (guint8 *p,
          guint   value)
{
  p[0] = (guint8) (value >> 8);
  p[1] = (guint8) value;
}

/* ---- Resize ---------------------------------------------------------------- */

/* Every size in the manifest, against PIL's Image.resize(BILINEAR) output. */
static void
test_resize_pil_parity (void)
{
  g_autoptr (XlImage) src = read_pgm ("resize-src.pgm");
  gsize len = 0;
  g_autofree guint8 *manifest = read_fixture ("resize-pil.txt", &len);
  g_auto (GStrv) lines = g_strsplit ((const char *) manifest, "\n", -1);
  guint n_checked = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char name[128];
      guint width, height;
      g_autoptr (XlImage) expected = NULL;
      g_autoptr (XlImage) ours = NULL;
      Difference d;

      if (sscanf (lines[i], "%127s %u %u", name, &width, &height) != 3)
        continue;
      expected = read_pgm (name);
      ours = xl_image_resize (src, width, height);
      g_assert_nonnull (ours);
      d = image_difference (ours, expected);
      /* Measured: 0 everywhere (PIL's fixed-point arithmetic, reproduced). */
      g_test_message ("%ux%u -> %ux%u: mean |diff| %.4f, max %u", src->width, src->height,
                      width, height, d.mean, d.max);
      g_assert_cmpuint (d.max, ==, 0);
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >=, 8);

  /* torchvision's Resize(16) is the first one. */
  {
    g_autoptr (XlImage) ours = xl_image_resize_short_side (src, 16);
    g_autoptr (XlImage) expected = read_pgm ("resize-pil-21x16.pgm");

    g_assert_cmpuint (image_difference (ours, expected).max, ==, 0);
  }
}

static void
test_resize_torchvision_size (void)
{
  static const struct {
    guint width, height, short_side, out_width, out_height;
  } cases[] = {
    { 2000, 1700, 256, 301, 256 },
    { 1700, 2000, 256, 256, 301 },
    { 224, 224, 256, 256, 256 },
    { 760, 463, 256, 420, 256 },     /* 420.2 */
    { 1000, 300, 256, 853, 256 },    /* 853.33 */
    { 300, 1000, 256, 256, 853 },
    { 2772, 2098, 256, 338, 256 },   /* 338.23 */
    { 1857, 1421, 256, 334, 256 },
    { 3, 1000, 256, 256, 85333 },
    { 40, 30, 16, 21, 16 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint width, height;

      xl_image_short_side_size (cases[i].width, cases[i].height, cases[i].short_side, &width,
                                &height);
      g_assert_cmpuint (width, ==, cases[i].out_width);
      g_assert_cmpuint (height, ==, cases[i].out_height);
    }

  /* Python: int(round((size - crop) / 2.0)), round half to even. */
  g_assert_cmpuint (xl_image_center_offset (301, 224), ==, 38);   /* 38.5 -> 38 */
  g_assert_cmpuint (xl_image_center_offset (303, 224), ==, 40);   /* 39.5 -> 40 */
  g_assert_cmpuint (xl_image_center_offset (256, 224), ==, 16);
  g_assert_cmpuint (xl_image_center_offset (224, 224), ==, 0);
  g_assert_cmpuint (xl_image_center_offset (200, 224), ==, 0);
}

static void
test_resize_identity_and_one_axis (void)
{
  g_autoptr (XlImage) src = read_pgm ("resize-src.pgm");
  g_autoptr (XlImage) same = xl_image_resize (src, src->width, src->height);

  g_assert_cmpmem (same->pixels, (gsize) src->width * src->height, src->pixels,
                   (gsize) src->width * src->height);
}

/* ---- JPEG ------------------------------------------------------------------ */

static void
test_jpeg_gray (void)
{
  gsize len = 0;
  g_autofree guint8 *jpeg = make_gray_jpeg (97, 61, 0, &len);
  g_autoptr (XlImage) expected = reference_decode (jpeg, len, TJPF_GRAY);
  g_autoptr (GError) error = NULL;
  g_autoptr (XlImage) img = xl_image_decode (jpeg, len, 0, "gray.jpeg", &error);
  XlImageInfo info;

  g_assert_no_error (error);
  g_assert_cmpuint (img->width, ==, 97);
  g_assert_cmpuint (img->height, ==, 61);
  g_assert_cmpuint (image_difference (img, expected).max, ==, 0);

  g_assert_true (xl_image_read_info (jpeg, len, NULL, &info, &error));
  g_assert_cmpint (info.format, ==, XL_IMAGE_FORMAT_JPEG);
  g_assert_cmpuint (info.channels, ==, 1);
  g_assert_true (xl_image_has_end_marker (XL_IMAGE_FORMAT_JPEG, jpeg + len - 16, 16));
}

/* TJPF_GRAY from a YCbCr JPEG is its decoded Y plane; PIL decodes to RGB and
 * computes L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16. The weights are the
 * ones YCbCr was made with, so L == Y wherever R, G and B need no clamping to
 * [0, 255]: always for films, which are gray even when stored as RGB.
 * Measured: near-gray RGB here, 0 difference; on real films (the 2 RGB and 40
 * gray originals, and the RGB-re-encoded kermany224 copies) our full-size
 * decode equals PIL's convert("L") exactly. Only saturated colours clamp in
 * RGB and differ: on jpeg-rgb.jpg (random colours) mean 0.057, max 11. */
static void
test_jpeg_rgb_to_gray (void)
{
  guint width = 120, height = 90;
  g_autofree guint8 *pixels = make_pixels (width, height, 3, 5);
  gsize len = 0;
  g_autofree guint8 *jpeg = NULL;
  g_autoptr (XlImage) rgb = NULL;
  g_autoptr (XlImage) pil_l = xl_image_new (width, height);
  g_autoptr (GError) error = NULL;
  g_autoptr (XlImage) img = NULL;
  Difference d;

  /* A film stored as RGB: the channels within a few levels of each other. */
  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      pixels[3 * i + 1] = (guint8) CLAMP (pixels[3 * i] + (int) (i % 5) - 2, 0, 255);
      pixels[3 * i + 2] = (guint8) CLAMP (pixels[3 * i] - (int) (i % 3) + 1, 0, 255);
    }
  jpeg = make_jpeg (pixels, width, height, TJPF_RGB, TJSAMP_420, 0, &len);
  rgb = reference_decode (jpeg, len, TJPF_RGB);
  img = xl_image_decode (jpeg, len, 0, "rgb.jpeg", &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      const guint8 *px = rgb->pixels + 3 * i;

      pil_l->pixels[i] = (guint8) ((px[0] * 19595 + px[1] * 38470 + px[2] * 7471 + 0x8000) >> 16);
    }
  d = image_difference (img, pil_l);
  g_test_message ("near-gray RGB, Y vs PIL's L: mean %.3f, max %u", d.mean, d.max);
  g_assert_cmpuint (d.max, <=, 1);

  /* Against PIL itself, on saturated colours PIL wrote. */
  {
    gsize fixture_len = 0;
    g_autofree guint8 *fixture = read_fixture ("jpeg-rgb.jpg", &fixture_len);
    g_autoptr (XlImage) ours = xl_image_decode (fixture, fixture_len, 0, "jpeg-rgb.jpg", &error);
    g_autoptr (XlImage) pil = read_pgm ("jpeg-rgb-pil-gray.pgm");

    g_assert_no_error (error);
    d = image_difference (ours, pil);
    g_test_message ("jpeg-rgb.jpg, Y vs PIL convert('L'): mean %.3f, max %u", d.mean, d.max);
    g_assert_cmpfloat (d.mean, <, 0.25);
  }
}

/* A progressive file holds the same coefficients as the baseline one: the
 * decoded pixels are identical. */
static void
test_jpeg_progressive (void)
{
  for (guint color = 0; color < 2; color++)
    {
      guint width = 150, height = 110;
      g_autofree guint8 *pixels = make_pixels (width, height, color ? 3 : 1, 9);
      int format = color ? TJPF_RGB : TJPF_GRAY, subsamp = color ? TJSAMP_420 : TJSAMP_GRAY;
      gsize base_len = 0, prog_len = 0;
      g_autofree guint8 *base = make_jpeg (pixels, width, height, format, subsamp, 0, &base_len);
      g_autofree guint8 *prog = make_jpeg (pixels, width, height, format, subsamp,
                                           TJFLAG_PROGRESSIVE, &prog_len);
      g_autoptr (GError) error = NULL;
      g_autoptr (XlImage) a = xl_image_decode (base, base_len, 0, "base.jpeg", &error);
      g_autoptr (XlImage) b = xl_image_decode (prog, prog_len, 0, "progressive.jpeg", &error);
      g_autoptr (XlImage) a_scaled = xl_image_decode (base, base_len, 50, "base.jpeg", &error);
      g_autoptr (XlImage) b_scaled = xl_image_decode (prog, prog_len, 50, "prog.jpeg", &error);

      g_assert_no_error (error);
      g_assert_false (base_len == prog_len && memcmp (base, prog, base_len) == 0);
      g_assert_cmpuint (image_difference (a, b).max, ==, 0);
      /* DCT scaling works on progressive files too (1/2: 75x55). */
      g_assert_cmpuint (b_scaled->width, ==, 75);
      g_assert_cmpuint (image_difference (a_scaled, b_scaled).max, ==, 0);
    }
}

/* CMYK: TurboJPEG writes an Adobe YCCK JPEG of the CMYK values given;
 * PIL reads every CMYK JPEG as inverted ("CMYK;I"), then cmyk2rgb, then L. */
static void
test_jpeg_cmyk (void)
{
  static const guint8 inks[][4] = {
    { 255, 255, 255, 255 },   /* stored all 255 = no ink: white */
    { 0, 0, 0, 0 },           /* all ink: black */
    { 255, 255, 255, 128 },   /* half black: gray 128 */
    { 128, 255, 255, 255 },   /* half cyan: R 128 */
  };
  static const guint8 expected[] = { 255, 0, 128, 217 };   /* PIL: L of (128, 255, 255) */

  for (guint i = 0; i < G_N_ELEMENTS (inks); i++)
    {
      guint width = 16, height = 16;
      g_autofree guint8 *pixels = g_malloc ((gsize) width * height * 4);
      gsize len = 0;
      g_autofree guint8 *jpeg = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (XlImage) img = NULL;
      XlImageInfo info;

      for (guint p = 0; p < width * height; p++)
        memcpy (pixels + 4 * p, inks[i], 4);
      jpeg = make_jpeg (pixels, width, height, TJPF_CMYK, TJSAMP_444, 0, &len);
      g_assert_true (xl_image_read_info (jpeg, len, NULL, &info, &error));
      g_assert_true (info.cmyk);
      g_assert_cmpuint (info.channels, ==, 4);
      img = xl_image_decode (jpeg, len, 0, "cmyk.jpeg", &error);
      g_assert_no_error (error);
      g_assert_cmpint (ABS ((int) img->pixels[8 * width + 8] - (int) expected[i]), <=, 2);
    }

  /* Against PIL on a CMYK JPEG PIL wrote. */
  {
    gsize len = 0;
    g_autofree guint8 *jpeg = read_fixture ("jpeg-cmyk.jpg", &len);
    g_autoptr (GError) error = NULL;
    g_autoptr (XlImage) ours = xl_image_decode (jpeg, len, 0, "jpeg-cmyk.jpg", &error);
    g_autoptr (XlImage) pil = read_pgm ("jpeg-cmyk-pil-gray.pgm");
    Difference d;

    g_assert_no_error (error);
    d = image_difference (ours, pil);
    /* Measured: 0 (the same libjpeg output, PIL's arithmetic). */
    g_test_message ("jpeg-cmyk.jpg vs PIL: mean %.3f, max %u", d.mean, d.max);
    g_assert_cmpuint (d.max, ==, 0);
  }
}

static void
test_jpeg_dct_scale (void)
{
  static const struct {
    guint width, height, min_short, out_width, out_height;
  } cases[] = {
    { 2000, 1700, 256, 500, 425 },   /* 1/4 (1/8 gives 213) */
    { 800, 600, 256, 400, 300 },     /* 1/2 (3/8 gives 225) */
    { 760, 463, 256, 475, 290 },     /* 5/8 (1/2 gives 232) */
    { 2772, 2098, 256, 347, 263 },   /* 1/8 */
    { 1000, 1000, 125, 125, 125 },   /* 1/8 exactly */
    { 1000, 1000, 126, 250, 250 },   /* 1/4 */
    { 224, 224, 256, 224, 224 },     /* smaller than asked: full size, never up */
    { 2000, 1700, 0, 2000, 1700 },   /* 0: full size */
    { 2000, 1700, 1700, 2000, 1700 },
    { 2000, 1700, 1488, 2000, 1700 },   /* 7/8 gives 1488 (ceil): 7/8 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint width, height;

      xl_image_jpeg_scaled_size (cases[i].width, cases[i].height, cases[i].min_short, &width,
                                 &height);
      if (i == G_N_ELEMENTS (cases) - 1)
        {
          g_assert_cmpuint (width, ==, 1750);
          g_assert_cmpuint (height, ==, 1488);
          continue;
        }
      g_assert_cmpuint (width, ==, cases[i].out_width);
      g_assert_cmpuint (height, ==, cases[i].out_height);
    }

  /* And the decoder does what it says. */
  {
    gsize len = 0;
    g_autofree guint8 *jpeg = make_gray_jpeg (800, 600, 0, &len);
    g_autoptr (GError) error = NULL;
    g_autoptr (XlImage) half = xl_image_decode (jpeg, len, 256, "a.jpeg", &error);
    g_autoptr (XlImage) five_eighths = xl_image_decode (jpeg, len, 301, "a.jpeg", &error);
    g_autoptr (XlImage) full = xl_image_decode (jpeg, len, 601, "a.jpeg", &error);
    g_autoptr (XlImage) resized = NULL;
    g_autoptr (XlImage) pipeline = NULL;
    g_autoptr (XlImage) full_resized = NULL;
    XlImageInfo info;
    Difference d;

    g_assert_no_error (error);
    g_assert_cmpuint (half->width, ==, 400);
    g_assert_cmpuint (half->height, ==, 300);
    g_assert_cmpuint (five_eighths->width, ==, 500);
    g_assert_cmpuint (five_eighths->height, ==, 375);
    g_assert_cmpuint (full->width, ==, 800);

    /* decode_short_side: torchvision's output size, from the header's size. */
    pipeline = xl_image_decode_short_side (jpeg, len, 256, "a.jpeg", &info, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (info.width, ==, 800);
    g_assert_cmpuint (pipeline->width, ==, 341);
    g_assert_cmpuint (pipeline->height, ==, 256);
    /* Against torchvision's way (full decode, then resize): the DCT-scaled
     * path is close, not equal. Measured: mean 0.76, max 4. */
    full_resized = xl_image_resize (full, 341, 256);
    d = image_difference (pipeline, full_resized);
    g_test_message ("DCT 1/2 + resize vs full decode + resize: mean %.3f, max %u", d.mean, d.max);
    g_assert_cmpfloat (d.mean, <, 1.0);
    resized = xl_image_resize (half, 341, 256);
    g_assert_cmpuint (image_difference (pipeline, resized).max, ==, 0);

    /* _keep: the same image, and the DCT-scaled decode it was resized from */
    {
      XlImage *kept = NULL;
      g_autoptr (XlImage) same = xl_image_decode_short_side_keep (jpeg, len, 256, "a.jpeg",
                                                                  NULL, &kept, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (image_difference (same, pipeline).max, ==, 0);
      g_assert_nonnull (kept);
      g_assert_cmpuint (image_difference (kept, half).max, ==, 0);
      xl_image_free (kept);
      /* no resize needed: the result is the decode, nothing else is handed over */
      g_clear_pointer (&same, xl_image_free);
      kept = half;
      same = xl_image_decode_short_side_keep (jpeg, len, 300, "a.jpeg", NULL, &kept, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (same->width, ==, 400);
      g_assert_null (kept);
    }

    /* Without DCT scaling it is torchvision's way exactly. */
    g_clear_pointer (&pipeline, xl_image_free);
    pipeline = xl_image_decode_short_side_at (jpeg, len, 256, 0, "a.jpeg", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (image_difference (pipeline, full_resized).max, ==, 0);
  }

  /* The same against PIL's pipeline on a JPEG PIL wrote (64x48 -> 21x16, which
   * we decode at 3/8 = 24x18 first). */
  {
    gsize len = 0;
    g_autofree guint8 *jpeg = read_fixture ("jpeg-gray.jpg", &len);
    g_autoptr (GError) error = NULL;
    g_autoptr (XlImage) ours = xl_image_decode_short_side (jpeg, len, 16, "jpeg-gray.jpg", NULL,
                                                          &error);
    g_autoptr (XlImage) pil = read_pgm ("jpeg-gray-pil-21x16.pgm");
    Difference d;

    g_assert_no_error (error);
    d = image_difference (ours, pil);
    /* Measured: mean 0.85, max 4 (a 3/8 DCT downscale of a tiny noisy image;
     * on the 42 original films at 256: mean 0.85, worst film 1.97). */
    g_test_message ("jpeg-gray.jpg vs PIL Resize(16): mean %.3f, max %u", d.mean, d.max);
    g_assert_cmpfloat (d.mean, <, 1.5);
  }
}

/* ---- PNG ------------------------------------------------------------------- */

static void
test_png_variants (void)
{
  static const char *const kinds[] = {
    "gray8", "gray1", "gray16", "gray-alpha", "rgb8", "rgb16", "rgba", "palette",
    "palette-trns", "rgb8-interlaced",
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *name = g_strdup_printf ("png-%s.png", kinds[i]);
      g_autofree char *expected_name = g_strdup_printf ("png-%s-gray.pgm", kinds[i]);
      gsize len = 0;
      g_autofree guint8 *png = read_fixture (name, &len);
      g_autoptr (XlImage) expected = read_pgm (expected_name);
      g_autoptr (GError) error = NULL;
      g_autoptr (XlImage) img = xl_image_decode (png, len, 0, name, &error);
      XlImageInfo info;

      g_test_message ("%s", name);
      g_assert_no_error (error);
      g_assert_cmpuint (image_difference (img, expected).max, ==, 0);
      g_assert_true (xl_image_read_info (png, len, NULL, &info, &error));
      g_assert_cmpint (info.format, ==, XL_IMAGE_FORMAT_PNG);
      g_assert_true (xl_image_has_end_marker (XL_IMAGE_FORMAT_PNG, png, len));
    }
}

/* ---- Bad input ------------------------------------------------------------- */

static void
assert_decode_fails (const guint8 *data,
                     gsize         len,
                     int           code,
                     const char   *cause)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (XlImage) img = xl_image_decode (data, len, 0, "bad.jpeg", &error);

  g_assert_null (img);
  g_assert_error (error, XL_DATASET_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, "bad.jpeg: "));
  if (cause != NULL && strstr (error->message, cause) == NULL)
    g_error ("“%s” does not say “%s”", error->message, cause);
}

static void
test_bad_not_images (void)
{
  static const guint8 text[] = "this is not a JPEG, whatever its name says\n";
  guint8 random_bytes[4096];
  GRand *rand = g_rand_new_with_seed (11);

  for (gsize i = 0; i < sizeof random_bytes; i++)
    random_bytes[i] = (guint8) g_rand_int (rand);
  random_bytes[0] = 0x42;
  g_rand_free (rand);

  assert_decode_fails ((const guint8 *) "", 0, XL_DATASET_ERROR_DECODE, "empty file");
  assert_decode_fails (text, sizeof text - 1, XL_DATASET_ERROR_DECODE, "not an image");
  assert_decode_fails (random_bytes, sizeof random_bytes, XL_DATASET_ERROR_DECODE,
                       "not an image");

  /* Random bytes behind a JPEG signature, and behind a PNG one. */
  random_bytes[0] = 0xff;
  random_bytes[1] = 0xd8;
  random_bytes[2] = 0xff;
  assert_decode_fails (random_bytes, sizeof random_bytes, XL_DATASET_ERROR_DECODE, "JPEG");
  memcpy (random_bytes, "\x89PNG\r\n\x1a\n", 8);
  assert_decode_fails (random_bytes, sizeof random_bytes, XL_DATASET_ERROR_DECODE, "PNG");
}

static void
test_bad_truncated_jpeg (void)
{
  gsize len = 0;
  g_autofree guint8 *jpeg = make_gray_jpeg (200, 150, 0, &len);
  gsize header_end = find_sof_size (jpeg, len) + 20;
  const gsize cuts[] = { 1, 2, 3, 4, 10, 30, header_end, len / 3, len / 2, len - 40, len - 2 };

  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_test_message ("cut at %zu of %zu", cuts[i], len);
      assert_decode_fails (jpeg, cuts[i], XL_DATASET_ERROR_DECODE, NULL);
      g_assert_false (xl_image_has_end_marker (XL_IMAGE_FORMAT_JPEG, jpeg + cuts[i] - MIN (cuts[i], 16),
                                               MIN (cuts[i], 16)));
    }
  /* A failed file leaves nothing behind: the next one decodes. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (XlImage) img = xl_image_decode (jpeg, len, 0, "good.jpeg", &error);

    g_assert_no_error (error);
    g_assert_cmpuint (img->width, ==, 200);
  }
  /* Cut in the image data: said plainly. */
  assert_decode_fails (jpeg, len / 2, XL_DATASET_ERROR_DECODE, "truncated JPEG");
  assert_decode_fails (jpeg, 2, XL_DATASET_ERROR_DECODE, "truncated JPEG");

  /* Also a progressive one, cut after its first scans. */
  {
    gsize prog_len = 0;
    g_autofree guint8 *prog = make_gray_jpeg (200, 150, TJFLAG_PROGRESSIVE, &prog_len);

    assert_decode_fails (prog, prog_len / 2, XL_DATASET_ERROR_DECODE, "truncated JPEG");
  }
}

static void
test_bad_bomb (void)
{
  gsize len = 0;
  g_autofree guint8 *jpeg = make_gray_jpeg (64, 48, 0, &len);
  gsize sof = find_sof_size (jpeg, len);
  static const guint sizes[][2] = { { 60000, 60000 }, { 30001, 10 }, { 20000, 20000 } };

  g_assert_cmpuint (sof, >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GError) error = NULL;
      XlImageInfo info;

      put_be16 (jpeg + sof, sizes[i][1]);
      put_be16 (jpeg + sof + 2, sizes[i][0]);
      /* Refused from the header: fast, and nothing allocated (ASan would see
       * a 3.6 GB allocation). */
      assert_decode_fails (jpeg, len, XL_DATASET_ERROR_TOO_LARGE, "over the limit");
      g_assert_false (xl_image_read_info (jpeg, len, NULL, &info, &error));
      g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_TOO_LARGE);
    }

  /* A PNG whose IHDR says 60000x60000 (its CRC does not even matter). */
  {
    gsize png_len = 0;
    g_autofree guint8 *png = read_fixture ("png-gray8.png", &png_len);
    g_autoptr (GError) error = NULL;
    XlImageInfo info;

    png[16] = 0; png[17] = 0; png[18] = 0xea; png[19] = 0x60;
    png[20] = 0; png[21] = 0; png[22] = 0xea; png[23] = 0x60;
    assert_decode_fails (png, png_len, XL_DATASET_ERROR_TOO_LARGE, "60000x60000");
    g_assert_false (xl_image_read_info (png, png_len, "x.png", &info, &error));
    g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_TOO_LARGE);
    g_assert_true (g_str_has_prefix (error->message, "x.png: 60000x60000 is over the limit"));
  }
}

static void
test_bad_png (void)
{
  gsize len = 0;
  g_autofree guint8 *png = read_fixture ("png-rgb8-interlaced.png", &len);
  g_autofree guint8 *copy = g_memdup2 (png, len);

  for (gsize cut = 1; cut < len - 12; cut += 7)
    assert_decode_fails (png, cut, XL_DATASET_ERROR_DECODE, "PNG");
  assert_decode_fails (png, 40, XL_DATASET_ERROR_DECODE, "truncated PNG");

  /* A damaged IDAT: libpng's CRC check catches it, through longjmp, with
   * nothing leaked (ASan). */
  copy[len - 20] ^= 0x55;
  assert_decode_fails (copy, len, XL_DATASET_ERROR_DECODE, "corrupt PNG");
}

/* Mutated files (flipped bytes, cuts) must never crash or leak. */
static void
test_bad_fuzz (void)
{
  gsize jpeg_len = 0, prog_len = 0, png_len = 0, rgb_len = 0;
  g_autofree guint8 *jpeg = make_gray_jpeg (64, 40, 0, &jpeg_len);
  g_autofree guint8 *prog = make_gray_jpeg (64, 40, TJFLAG_PROGRESSIVE, &prog_len);
  g_autofree guint8 *png = read_fixture ("png-rgba.png", &png_len);
  g_autofree guint8 *rgb = read_fixture ("jpeg-rgb.jpg", &rgb_len);
  const guint8 *seeds[] = { jpeg, prog, png, rgb };
  gsize lens[] = { jpeg_len, prog_len, png_len, rgb_len };
  GRand *rand = g_rand_new_with_seed (2024);
  guint decoded = 0, refused = 0;

  for (guint iter = 0; iter < 600; iter++)
    {
      guint which = iter % G_N_ELEMENTS (seeds);
      gsize len = lens[which];
      g_autofree guint8 *data = g_memdup2 (seeds[which], len);
      g_autoptr (GError) error = NULL;
      g_autoptr (XlImage) img = NULL;
      guint n_flips = 1 + g_rand_int_range (rand, 0, 8);

      for (guint f = 0; f < n_flips; f++)
        data[g_rand_int_range (rand, 0, (gint32) len)] = (guint8) g_rand_int (rand);
      if (g_rand_boolean (rand))
        len = (gsize) g_rand_int_range (rand, 1, (gint32) len);
      img = xl_image_decode (data, len, (guint) g_rand_int_range (rand, 0, 64), "fuzz", &error);
      if (img != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (img->width, >, 0);
          decoded++;
        }
      else
        {
          g_assert_nonnull (error);
          refused++;
        }
    }
  g_rand_free (rand);
  g_test_message ("fuzz: %u decoded, %u refused", decoded, refused);
  g_assert_cmpuint (refused, >, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/resize/pil-parity", test_resize_pil_parity);
  g_test_add_func ("/image/resize/torchvision-size", test_resize_torchvision_size);
  g_test_add_func ("/image/resize/identity", test_resize_identity_and_one_axis);
  g_test_add_func ("/image/jpeg/gray", test_jpeg_gray);
  g_test_add_func ("/image/jpeg/rgb-to-gray", test_jpeg_rgb_to_gray);
  g_test_add_func ("/image/jpeg/progressive", test_jpeg_progressive);
  g_test_add_func ("/image/jpeg/cmyk", test_jpeg_cmyk);
  g_test_add_func ("/image/jpeg/dct-scale", test_jpeg_dct_scale);
  g_test_add_func ("/image/png/variants", test_png_variants);
  g_test_add_func ("/image/bad/not-images", test_bad_not_images);
  g_test_add_func ("/image/bad/truncated-jpeg", test_bad_truncated_jpeg);
  g_test_add_func ("/image/bad/bomb", test_bad_bomb);
  g_test_add_func ("/image/bad/png", test_bad_png);
  g_test_add_func ("/image/bad/fuzz", test_bad_fuzz);

  return g_test_run ();
}
