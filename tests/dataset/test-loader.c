/* test-loader.c — transforms and the batch loader.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "xl-loader.h"
#include "xl-synth.h"

/* --- helpers -------------------------------------------------------------- */

static XlImage *
make_image (guint width, guint height, guint8 (*value) (guint x, guint y))
{
  XlImage *img = xl_image_new (width, height);

  g_assert_nonnull (img);
  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      img->pixels[(gsize) y * width + x] = value (x, y);
  return img;
}

static guint8
pattern (guint x, guint y)
{
  return (guint8) ((x * 37u + y * 11u) & 255u);
}

static guint8
gray128 (G_GNUC_UNUSED guint x, G_GNUC_UNUSED guint y)
{
  return 128;
}

static guint8
gradient_x (guint x, G_GNUC_UNUSED guint y)
{
  return (guint8) MIN (255u, x * 4u);
}

static guint8
noise_with_flat_center (guint x, guint y)
{
  /* 65 x 65: a flat 5 x 5 block around the center pixel (32, 32). */
  if (x >= 30 && x <= 34 && y >= 30 && y <= 34)
    return 200;
  return (guint8) (g_int_hash (&(guint){ x * 131u + y }) & 255u);
}

static float
normalized (guint8 v, const XlTransformConfig *cfg, int c)
{
  return ((float) v / 255.0f - cfg->mean[c]) / cfg->std[c];
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_remove (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
  g_rmdir (path);
}

/* --- transforms --------------------------------------------------------- */

static void
test_center_crop (void)
{
  XlTransformConfig cfg;
  const guint       C = 6;
  /* (13 - 6) / 2 = 3.5 rounds to 4, (11 - 6) / 2 = 2.5 to 2: Python's round. */
  const guint widths[] = { 13, 11, 10 };
  const int   lefts[] = { 4, 2, 2 };

  xl_transform_config_init (&cfg, FALSE);
  cfg.resize = 10;
  cfg.crop = C;
  for (guint t = 0; t < G_N_ELEMENTS (widths); t++)
    {
      g_autoptr (XlImage) img = make_image (widths[t], 10, pattern);
      g_autofree float *out = g_new (float, 3 * C * C);
      XlTransformDraw   draw;

      xl_transform_draw (&cfg, img->width, img->height, 0, &draw);
      g_assert_cmpint (draw.top, ==, 2);
      g_assert_cmpint (draw.left, ==, lefts[t]);
      g_assert_cmpuint (draw.width, ==, C);
      g_assert_false (draw.flip);

      xl_transform_apply (&cfg, img, 12345, out);
      for (int c = 0; c < 3; c++)
        for (guint y = 0; y < C; y++)
          for (guint x = 0; x < C; x++)
            g_assert_cmpfloat (out[(c * C + y) * C + x], ==,
                               normalized (pattern (x + (guint) lefts[t], y + 2), &cfg, c));
    }

  /* The eval transform ignores the seed. */
  {
    g_autoptr (XlImage) img = make_image (13, 10, pattern);
    g_autofree float *a = g_new (float, 3 * C * C);
    g_autofree float *b = g_new (float, 3 * C * C);

    xl_transform_apply (&cfg, img, 1, a);
    xl_transform_apply (&cfg, img, 2, b);
    g_assert_cmpmem (a, 3 * C * C * sizeof (float), b, 3 * C * C * sizeof (float));
  }
}

static void
test_resize_first (void)
{
  /* An image whose short side is not S goes through Resize(S) first. */
  XlTransformConfig cfg;
  g_autoptr (XlImage) big = make_image (120, 90, pattern);
  g_autoptr (XlImage) small = xl_image_resize_short_side (big, 40);
  g_autofree float *a = g_new (float, 3 * 32 * 32);
  g_autofree float *b = g_new (float, 3 * 32 * 32);

  xl_transform_config_init (&cfg, FALSE);
  cfg.resize = 40;
  cfg.crop = 32;
  g_assert_cmpuint (small->height, ==, 40);
  xl_transform_apply (&cfg, big, 0, a);
  xl_transform_apply (&cfg, small, 0, b);
  g_assert_cmpmem (a, 3 * 32 * 32 * sizeof (float), b, 3 * 32 * 32 * sizeof (float));
}

static void
test_normalize_constant (void)
{
  XlTransformConfig cfg;
  const guint       C = 16;
  g_autoptr (XlImage) img = make_image (24, 20, gray128);
  g_autofree float *out = g_new (float, 3 * C * C);

  for (int train = 0; train < 2; train++)
    {
      xl_transform_config_init (&cfg, train);
      cfg.resize = 20;
      cfg.crop = C;
      cfg.random_resized_crop = TRUE; /* a resize of a constant is the constant */
      xl_transform_apply (&cfg, img, 99, out);
      for (int c = 0; c < 3; c++)
        {
          float expect = (128.0f / 255.0f - cfg.mean[c]) / cfg.std[c];
          for (guint i = 0; i < C * C; i++)
            g_assert_cmpfloat (out[c * C * C + i], ==, expect);
        }
      /* The ImageNet statistics, channel by channel. */
      g_assert_cmpfloat (fabs (out[0] - (128.0 / 255.0 - 0.485) / 0.229), <, 1e-5);
      g_assert_cmpfloat (fabs (out[C * C] - (128.0 / 255.0 - 0.456) / 0.224), <, 1e-5);
      g_assert_cmpfloat (fabs (out[2 * C * C] - (128.0 / 255.0 - 0.406) / 0.225), <, 1e-5);
    }
}

static void
test_random_resized_crop (void)
{
  XlTransformConfig cfg;
  const guint       W = 300, H = 256;
  double            min_scale = 1, max_scale = 0, min_ratio = 10, max_ratio = 0;
  XlTransformDraw   draw;

  xl_transform_config_init (&cfg, TRUE);
  cfg.random_resized_crop = TRUE;
  g_assert_cmpfloat (cfg.scale_min, ==, 0.08);
  g_assert_cmpfloat (cfg.scale_max, ==, 1.0);

  for (guint64 seed = 0; seed < 3000; seed++)
    {
      double scale, ratio;

      xl_transform_draw (&cfg, W, H, seed, &draw);
      g_assert_cmpint (draw.top, >=, 0);
      g_assert_cmpint (draw.left, >=, 0);
      g_assert_cmpuint (draw.top + draw.height, <=, H);
      g_assert_cmpuint (draw.left + draw.width, <=, W);
      g_assert_cmpuint (draw.width, >, 0);
      g_assert_cmpuint (draw.height, >, 0);
      scale = (double) draw.width * draw.height / (W * H);
      ratio = (double) draw.width / draw.height;
      /* Rounding w and h to pixels moves both a little. */
      g_assert_cmpfloat (scale, >=, 0.08 * 0.9);
      g_assert_cmpfloat (scale, <=, 1.0);
      g_assert_cmpfloat (ratio, >=, 0.75 * 0.93);
      g_assert_cmpfloat (ratio, <=, 4.0 / 3.0 / 0.93);
      min_scale = MIN (min_scale, scale);
      max_scale = MAX (max_scale, scale);
      min_ratio = MIN (min_ratio, ratio);
      max_ratio = MAX (max_ratio, ratio);
    }
  /* ... and the draws cover the ranges. */
  g_assert_cmpfloat (min_scale, <, 0.1);
  g_assert_cmpfloat (max_scale, >, 0.8);
  g_assert_cmpfloat (min_ratio, <, 0.8);
  g_assert_cmpfloat (max_ratio, >, 1.25);

  /* A narrower scale range is respected. */
  cfg.scale_min = 0.5;
  for (guint64 seed = 0; seed < 500; seed++)
    {
      xl_transform_draw (&cfg, W, H, seed, &draw);
      g_assert_cmpfloat ((double) draw.width * draw.height / (W * H), >=, 0.5 * 0.95);
    }

  /* Ten failed attempts end in torchvision's central fallback: a 300 x 100
   * image is wider than 4:3, so the box is 133 x 100 in its middle. */
  cfg.scale_min = cfg.scale_max = 1.0;
  xl_transform_draw (&cfg, 300, 100, 7, &draw);
  g_assert_cmpuint (draw.height, ==, 100);
  g_assert_cmpuint (draw.width, ==, 133);
  g_assert_cmpint (draw.top, ==, 0);
  g_assert_cmpint (draw.left, ==, 83);
}

static void
test_random_crop (void)
{
  XlTransformConfig cfg;
  const guint       C = 8;
  g_autoptr (XlImage) img = make_image (12, 10, pattern);
  g_autofree float *out = g_new (float, 3 * C * C);
  gboolean          seen_top[3] = { 0 }, seen_left[5] = { 0 };

  xl_transform_config_init (&cfg, TRUE);
  cfg.resize = 10;
  cfg.crop = C;
  for (guint64 seed = 0; seed < 200; seed++)
    {
      XlTransformDraw draw;

      xl_transform_draw (&cfg, 12, 10, seed, &draw);
      g_assert_cmpint (draw.top, >=, 0);
      g_assert_cmpint (draw.top, <=, 2);
      g_assert_cmpint (draw.left, >=, 0);
      g_assert_cmpint (draw.left, <=, 4);
      seen_top[draw.top] = TRUE;
      seen_left[draw.left] = TRUE;

      /* The output is exactly that box. */
      xl_transform_apply (&cfg, img, seed, out);
      for (guint y = 0; y < C; y++)
        for (guint x = 0; x < C; x++)
          g_assert_cmpfloat (
              out[y * C + x], ==,
              normalized (pattern (x + (guint) draw.left, y + (guint) draw.top), &cfg, 0));
    }
  for (guint i = 0; i < 3; i++)
    g_assert_true (seen_top[i]);
  for (guint i = 0; i < 5; i++)
    g_assert_true (seen_left[i]);
}

static void
test_flip (void)
{
  XlTransformConfig cfg;
  const guint       C = 32;
  g_autoptr (XlImage) img = make_image (C, C, gradient_x);
  g_autofree float *out = g_new (float, 3 * C * C);
  guint             flips = 0;

  /* Off by default, for train too: the heart stays on the image's right. */
  xl_transform_config_init (&cfg, TRUE);
  g_assert_false (cfg.hflip);
  g_assert_nonnull (strstr (XL_TRANSFORM_HFLIP_WARNING, "heart"));
  cfg.resize = C;
  cfg.crop = C;
  for (guint64 seed = 0; seed < 100; seed++)
    {
      XlTransformDraw draw;

      xl_transform_draw (&cfg, C, C, seed, &draw);
      g_assert_false (draw.flip);
      xl_transform_apply (&cfg, img, seed, out);
      g_assert_cmpfloat (out[0], <, out[C - 1]);
    }

  cfg.hflip = TRUE;
  for (guint64 seed = 0; seed < 400; seed++)
    {
      XlTransformDraw draw;

      xl_transform_draw (&cfg, C, C, seed, &draw);
      xl_transform_apply (&cfg, img, seed, out);
      if (draw.flip)
        {
          flips++;
          g_assert_cmpfloat (out[0], >, out[C - 1]);
        }
      else
        g_assert_cmpfloat (out[0], <, out[C - 1]);
    }
  g_assert_cmpuint (flips, >, 140);
  g_assert_cmpuint (flips, <, 260);
}

static void
test_rotation (void)
{
  XlTransformConfig cfg;
  const guint       S = 65;
  g_autoptr (XlImage) img = make_image (S, S, noise_with_flat_center);
  g_autofree float *out = g_new (float, 3 * S * S);
  guint             rotated = 0;

  xl_transform_config_init (&cfg, TRUE);
  cfg.resize = S;
  cfg.crop = S; /* RandomCrop(S) of an S image: no shift */
  cfg.rotation_degrees = 30;
  for (guint64 seed = 0; seed < 50; seed++)
    {
      XlTransformDraw draw;
      guint           center = (S / 2) * S + S / 2;

      xl_transform_draw (&cfg, S, S, seed, &draw);
      g_assert_cmpfloat (fabs (draw.angle), <=, 30.0);
      xl_transform_apply (&cfg, img, seed, out);
      /* The center stays put... */
      g_assert_cmpfloat (out[center], ==, normalized (200, &cfg, 0));
      /* ... and the corners come from outside the film: fill 0. */
      if (fabs (draw.angle) > 3.0)
        {
          g_assert_cmpfloat (out[0], ==, normalized (0, &cfg, 0));
          g_assert_cmpfloat (out[S * S - 1], ==, normalized (0, &cfg, 0));
          rotated++;
        }
    }
  g_assert_cmpuint (rotated, >, 30);
}

static double
std_dev (const float *x, guint n)
{
  double mean = 0, var = 0;

  for (guint i = 0; i < n; i++)
    mean += x[i];
  mean /= n;
  for (guint i = 0; i < n; i++)
    var += (x[i] - mean) * (x[i] - mean);
  return sqrt (var / n);
}

static void
test_jitter (void)
{
  XlTransformConfig cfg;
  const guint       C = 16;
  g_autoptr (XlImage) flat = make_image (C, C, gray128);
  g_autoptr (XlImage) img = make_image (C, C, pattern);
  g_autofree float *out = g_new (float, 3 * C * C);
  gboolean          seen_order[2] = { FALSE, FALSE };

  xl_transform_config_init (&cfg, TRUE);
  cfg.resize = C;
  cfg.crop = C;
  cfg.brightness = 0.4;
  cfg.contrast = 0.4;
  for (guint64 seed = 0; seed < 200; seed++)
    {
      XlTransformDraw draw;

      xl_transform_draw (&cfg, C, C, seed, &draw);
      g_assert_cmpfloat (draw.brightness, >=, 0.6);
      g_assert_cmpfloat (draw.brightness, <=, 1.4);
      g_assert_cmpfloat (draw.contrast, >=, 0.6);
      g_assert_cmpfloat (draw.contrast, <=, 1.4);
      seen_order[draw.contrast_first] = TRUE;

      /* A flat film: contrast does nothing, brightness scales it, and PIL
       * truncates to uint8 (contrast first or not). */
      xl_transform_apply (&cfg, flat, seed, out);
      {
        float  v = 128.0f * (float) draw.brightness;
        guint8 expect = v >= 255.0f ? 255 : (guint8) v;
        g_assert_cmpfloat (out[5], ==, normalized (expect, &cfg, 0));
      }
    }
  g_assert_true (seen_order[0] && seen_order[1]);

  /* More contrast spreads the values. */
  cfg.brightness = 0;
  cfg.contrast = 0.9;
  for (guint64 seed = 0; seed < 20; seed++)
    {
      XlTransformDraw   draw;
      g_autofree float *plain = g_new (float, 3 * C * C);
      XlTransformConfig eval;
      double            spread, plain_spread;

      xl_transform_draw (&cfg, C, C, seed, &draw);
      xl_transform_apply (&cfg, img, seed, out);
      xl_transform_config_init (&eval, FALSE);
      eval.resize = eval.crop = C;
      xl_transform_apply (&eval, img, 0, plain);
      spread = std_dev (out, C * C);
      plain_spread = std_dev (plain, C * C);
      if (draw.contrast > 1.2)
        g_assert_cmpfloat (spread, >, plain_spread);
      if (draw.contrast < 0.8)
        g_assert_cmpfloat (spread, <, plain_spread);
    }
}

/* --- the loader, on a tiny synthetic set ----------------------------------- */

typedef struct
{
  char         *root;
  XlDataset    *ds;
  XlImageCache *cache;
  const guint  *train;
  guint         n_train;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("xl-loader-XXXXXX", &error);
  XlSynthConfig    cfg;
  const char      *broken = data;

  g_assert_no_error (error);
  fx->root = g_build_filename (tmp, "set", NULL);
  xl_synth_config_init (&cfg);
  cfg.per_class = 6;
  cfg.size = 64;
  cfg.seed = 5;
  g_assert_true (xl_synth_generate (fx->root, &cfg, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  fx->ds = xl_dataset_scan (fx->root, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->ds);
  fx->train = xl_dataset_split_indices (fx->ds, XL_SPLIT_TRAIN, &fx->n_train);
  g_assert_cmpuint (fx->n_train, ==, 12);

  if (broken != NULL)
    {
      /* Break one film after the scan: the header is fine, the data is cut
       * short, so only decoding finds out. */
      const XlImageEntry *entry = xl_dataset_image (fx->ds, fx->train[2]);
      g_autofree char    *bytes = NULL;
      gsize               len;

      g_assert_true (g_file_get_contents (entry->path, &bytes, &len, NULL));
      g_assert_true (g_file_set_contents (entry->path, bytes, MIN (len, 200), NULL));
    }

  fx->cache = xl_image_cache_new (fx->ds, 64, 64 << 20);
}

static void
fixture_tear_down (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  g_autofree char *parent = g_path_get_dirname (fx->root);

  xl_image_cache_free (fx->cache);
  xl_dataset_unref (fx->ds);
  remove_tree (parent);
  g_free (fx->root);
}

static void
augmenting_config (XlTransformConfig *cfg)
{
  xl_transform_config_init (cfg, TRUE);
  cfg->resize = 64;
  cfg->crop = 48;
  cfg->random_resized_crop = TRUE;
  cfg->scale_min = 0.3;
  cfg->rotation_degrees = 10;
  cfg->brightness = 0.2;
  cfg->contrast = 0.2;
}

/* Every batch of epochs 0 and 1, concatenated: images, labels, indices. */
static GByteArray *
run_epochs (Fixture                 *fx,
            const guint             *indices,
            guint                    n,
            const XlTransformConfig *tf,
            guint                    batch_size,
            gboolean                 shuffle,
            gboolean                 balanced,
            guint                    n_threads,
            guint                    n_epochs)
{
  g_autoptr (XlLoader) loader =
      xl_loader_new (fx->cache, indices, n, tf, batch_size, shuffle, balanced, 42, n_threads, 2);
  GByteArray *bytes = g_byte_array_new ();
  const gsize per_image = (gsize) 3 * tf->crop * tf->crop * sizeof (float);

  for (guint epoch = 0; epoch < n_epochs; epoch++)
    {
      const XlBatch *batch;
      g_autoptr (GError) error = NULL;
      guint count = 0;

      xl_loader_start_epoch (loader, epoch);
      while ((batch = xl_loader_next (loader, &error)) != NULL)
        {
          g_byte_array_append (bytes, (const guint8 *) batch->images, batch->n * per_image);
          g_byte_array_append (bytes, (const guint8 *) batch->labels, batch->n * sizeof (int));
          g_byte_array_append (bytes, (const guint8 *) batch->indices, batch->n * sizeof (guint));
          count++;
          xl_loader_release (loader, batch);
        }
      g_assert_no_error (error);
      g_assert_cmpuint (count, ==, xl_loader_n_batches (loader));
    }
  return bytes;
}

static void
test_loader_deterministic (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  XlTransformConfig tf;
  g_autoptr (GByteArray) inline_made = NULL, one = NULL, three = NULL;

  augmenting_config (&tf);
  inline_made = run_epochs (fx, fx->train, fx->n_train, &tf, 5, TRUE, FALSE, 0, 2);
  one = run_epochs (fx, fx->train, fx->n_train, &tf, 5, TRUE, FALSE, 1, 2);
  three = run_epochs (fx, fx->train, fx->n_train, &tf, 5, TRUE, FALSE, 3, 2);
  g_assert_cmpmem (one->data, one->len, three->data, three->len);
  g_assert_cmpmem (one->data, one->len, inline_made->data, inline_made->len);

  /* The same image at the same place of the same epoch, through
   * xl_transform_apply with its draw seed. */
  {
    g_autoptr (XlLoader) loader =
        xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 5, TRUE, FALSE, 42, 2, 2);
    g_autofree float *out = g_new (float, 3 * 48 * 48);
    const XlBatch    *batch;
    const XlImage    *img;

    xl_loader_start_epoch (loader, 1);
    batch = xl_loader_next (loader, NULL);
    g_assert_nonnull (batch);
    img = xl_image_cache_get (fx->cache, batch->indices[3], NULL);
    g_assert_nonnull (img);
    xl_transform_apply (&tf, img, xl_loader_draw_seed (42, 1, 3), out);
    xl_image_cache_release (fx->cache, img);
    g_assert_cmpmem (out, 3 * 48 * 48 * sizeof (float), batch->images + 3 * 3 * 48 * 48,
                     3 * 48 * 48 * sizeof (float));
    xl_loader_release (loader, batch);
  }
}

static void
collect_epoch (XlLoader *loader, guint epoch, GArray *order, GArray *sizes)
{
  const XlBatch *batch;

  g_array_set_size (order, 0);
  if (sizes != NULL)
    g_array_set_size (sizes, 0);
  xl_loader_start_epoch (loader, epoch);
  while ((batch = xl_loader_next (loader, NULL)) != NULL)
    {
      g_array_append_vals (order, batch->indices, batch->n);
      if (sizes != NULL)
        g_array_append_val (sizes, batch->n);
      xl_loader_release (loader, batch);
    }
}

static int
compare_guint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

static void
test_loader_shuffle (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  XlTransformConfig tf;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) first = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) sorted_train = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (XlLoader) plain = NULL;
  g_autoptr (XlLoader) shuffled = NULL;

  xl_transform_config_init (&tf, FALSE);
  tf.resize = 64;
  tf.crop = 16;
  g_array_append_vals (sorted_train, fx->train, fx->n_train);
  g_array_sort (sorted_train, compare_guint);

  /* Without shuffle: the order given. */
  plain = xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 4, FALSE, FALSE, 1, 2, 2);
  collect_epoch (plain, 0, order, NULL);
  g_assert_cmpmem (order->data, order->len * sizeof (guint), fx->train,
                   fx->n_train * sizeof (guint));

  /* With shuffle: a permutation, another one each epoch. */
  shuffled = xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 4, TRUE, FALSE, 1, 2, 2);
  collect_epoch (shuffled, 0, first, NULL);
  for (guint epoch = 1; epoch < 4; epoch++)
    {
      collect_epoch (shuffled, epoch, order, NULL);
      g_assert_cmpuint (order->len, ==, fx->n_train);
      g_assert_false (memcmp (order->data, first->data, order->len * sizeof (guint)) == 0);
      g_array_sort (order, compare_guint);
      g_assert_cmpmem (order->data, order->len * sizeof (guint), sorted_train->data,
                       sorted_train->len * sizeof (guint));
    }
  g_assert_false (memcmp (first->data, fx->train, fx->n_train * sizeof (guint)) == 0);
}

static void
test_loader_balanced (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  XlTransformConfig tf;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (XlLoader) loader = NULL;
  guint picked[12] = { 0 };
  guint subset[12], n = 0, n_normal = 0, per_class[2] = { 0, 0 }, total = 0;

  /* 2 NORMAL and all 6 PNEUMONIA: 1 to 3. */
  for (guint i = 0; i < fx->n_train; i++)
    {
      guint c = xl_dataset_image (fx->ds, fx->train[i])->class_index;
      if (c == 0 && n_normal++ >= 2)
        continue;
      subset[n++] = fx->train[i];
    }
  g_assert_cmpuint (n, ==, 8);

  xl_transform_config_init (&tf, FALSE);
  tf.resize = 64;
  tf.crop = 8;
  loader = xl_loader_new (fx->cache, subset, n, &tf, 8, FALSE, TRUE, 3, 2, 2);
  for (guint epoch = 0; epoch < 100; epoch++)
    {
      collect_epoch (loader, epoch, order, NULL);
      g_assert_cmpuint (order->len, ==, n); /* n draws per epoch */
      for (guint i = 0; i < order->len; i++)
        {
          guint index = g_array_index (order, guint, i);
          per_class[xl_dataset_image (fx->ds, index)->class_index]++;
          for (guint j = 0; j < n; j++)
            if (subset[j] == index)
              picked[j]++;
          total++;
        }
    }
  g_test_message ("balanced: %u NORMAL, %u PNEUMONIA draws", per_class[0], per_class[1]);
  g_assert_cmpfloat ((double) per_class[0] / total, >, 0.44);
  g_assert_cmpfloat ((double) per_class[0] / total, <, 0.56);
  /* With replacement, and every image drawn. */
  for (guint j = 0; j < n; j++)
    g_assert_cmpuint (picked[j], >, 0);
}

static void
test_loader_short_last_batch (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  XlTransformConfig tf;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (XlLoader) loader = NULL;

  augmenting_config (&tf);
  loader = xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 5, TRUE, FALSE, 9, 3, 3);
  g_assert_cmpuint (xl_loader_n_batches (loader), ==, 3);
  collect_epoch (loader, 0, order, sizes);
  g_assert_cmpuint (sizes->len, ==, 3);
  g_assert_cmpuint (g_array_index (sizes, guint, 0), ==, 5);
  g_assert_cmpuint (g_array_index (sizes, guint, 1), ==, 5);
  g_assert_cmpuint (g_array_index (sizes, guint, 2), ==, 2);
  /* After the end, the end again. */
  g_assert_null (xl_loader_next (loader, NULL));
}

static void
test_loader_stop (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  XlTransformConfig tf;
  g_autoptr (GByteArray) fresh = NULL;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));

  augmenting_config (&tf);
  fresh = run_epochs (fx, fx->train, fx->n_train, &tf, 2, TRUE, FALSE, 2, 1);

  for (guint n_threads = 0; n_threads <= 3; n_threads++)
    {
      XlLoader *loader =
          xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 2, TRUE, FALSE, 42, n_threads, 2);
      const XlBatch *batch;
      const gsize    per_image = (gsize) 3 * 48 * 48;

      /* Stop after one batch: no more batches, then a restart from batch 0
       * gives what a fresh loader gives. */
      xl_loader_start_epoch (loader, 0);
      batch = xl_loader_next (loader, NULL);
      g_assert_nonnull (batch);
      xl_loader_release (loader, batch);
      xl_loader_stop (loader);
      g_assert_null (xl_loader_next (loader, NULL));

      xl_loader_start_epoch (loader, 0);
      batch = xl_loader_next (loader, NULL);
      g_assert_nonnull (batch);
      g_assert_cmpmem (batch->images, batch->n * per_image * sizeof (float), fresh->data,
                       batch->n * per_image * sizeof (float));
      xl_loader_release (loader, batch);

      /* A stop while the consumer holds a batch: the batch stays valid until
       * released. */
      batch = xl_loader_next (loader, NULL);
      g_assert_nonnull (batch);
      xl_loader_stop (loader);
      g_assert_cmpuint (batch->n, ==, 2);
      xl_loader_release (loader, batch);

      /* Free in the middle of an epoch, threads busy. */
      xl_loader_start_epoch (loader, 1);
      batch = xl_loader_next (loader, NULL);
      g_assert_nonnull (batch);
      xl_loader_release (loader, batch);
      xl_loader_free (loader);
    }

  /* Free right after the start, and without any start at all. */
  {
    XlLoader *loader =
        xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 3, TRUE, FALSE, 1, 3, 2);
    xl_loader_start_epoch (loader, 0);
    xl_loader_free (loader);
    loader = xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 3, TRUE, FALSE, 1, 3, 2);
    g_assert_null (xl_loader_next (loader, NULL));
    xl_loader_free (loader);
  }
}

static void
test_loader_broken_image (Fixture *fx, G_GNUC_UNUSED gconstpointer data)
{
  XlTransformConfig tf;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  guint broken = fx->train[2];

  xl_transform_config_init (&tf, FALSE);
  tf.resize = 64;
  tf.crop = 32;

  for (guint n_threads = 0; n_threads <= 3; n_threads += 3)
    {
      g_autoptr (XlLoader) loader =
          xl_loader_new (fx->cache, fx->train, fx->n_train, &tf, 4, FALSE, FALSE, 0, n_threads, 2);
      g_autofree char *message = NULL;
      guint            failed_index = 0;

      for (guint epoch = 0; epoch < 2; epoch++)
        {
          collect_epoch (loader, epoch, order, sizes);
          /* 11 good films: 4 + 4 + 3, the broken one skipped in its batch. */
          g_assert_cmpuint (order->len, ==, 11);
          g_assert_cmpuint (sizes->len, ==, 3);
          g_assert_cmpuint (g_array_index (sizes, guint, 0), ==, 4);
          g_assert_cmpuint (g_array_index (sizes, guint, 1), ==, 4);
          g_assert_cmpuint (g_array_index (sizes, guint, 2), ==, 3);
          g_assert_cmpuint (g_array_index (order, guint, 2), ==, fx->train[3]);
          for (guint i = 0; i < order->len; i++)
            g_assert_cmpuint (g_array_index (order, guint, i), !=, broken);
          g_assert_cmpuint (xl_loader_epoch_skipped (loader), ==, 1);
        }
      /* Listed once, with its reason. */
      g_assert_cmpuint (xl_loader_n_failed (loader), ==, 1);
      message = xl_loader_dup_failure (loader, 0, &failed_index);
      g_assert_nonnull (message);
      g_assert_cmpuint (failed_index, ==, broken);
      g_test_message ("skipped: %s", message);
      g_assert_null (xl_loader_dup_failure (loader, 1, NULL));
    }

  /* Shuffled and augmented, the same bytes whatever the threads. */
  {
    XlTransformConfig aug;
    g_autoptr (XlLoader) a = NULL, b = NULL;
    const XlBatch *ba, *bb;

    augmenting_config (&aug);
    a = xl_loader_new (fx->cache, fx->train, fx->n_train, &aug, 4, TRUE, FALSE, 8, 0, 2);
    b = xl_loader_new (fx->cache, fx->train, fx->n_train, &aug, 4, TRUE, FALSE, 8, 3, 3);
    for (guint epoch = 0; epoch < 3; epoch++)
      {
        guint n_batches = 0;

        xl_loader_start_epoch (a, epoch);
        xl_loader_start_epoch (b, epoch);
        while ((ba = xl_loader_next (a, NULL)) != NULL)
          {
            bb = xl_loader_next (b, NULL);
            g_assert_nonnull (bb);
            g_assert_cmpuint (ba->n, ==, bb->n);
            g_assert_cmpmem (ba->indices, ba->n * sizeof (guint), bb->indices,
                             bb->n * sizeof (guint));
            g_assert_cmpmem (ba->images, ba->n * 3 * 48 * 48 * sizeof (float), bb->images,
                             bb->n * 3 * 48 * 48 * sizeof (float));
            n_batches++;
            xl_loader_release (a, ba);
            xl_loader_release (b, bb);
          }
        g_assert_null (xl_loader_next (b, NULL));
        g_assert_cmpuint (n_batches, ==, 3);
      }
  }

  /* When nothing can be decoded, the epoch says so. */
  {
    g_autoptr (XlLoader) loader =
        xl_loader_new (fx->cache, &broken, 1, &tf, 4, FALSE, FALSE, 0, 2, 2);
    g_autoptr (GError) error = NULL;

    xl_loader_start_epoch (loader, 0);
    g_assert_null (xl_loader_next (loader, &error));
    g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_DECODE);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transform/center-crop", test_center_crop);
  g_test_add_func ("/transform/resize-first", test_resize_first);
  g_test_add_func ("/transform/normalize-constant", test_normalize_constant);
  g_test_add_func ("/transform/random-resized-crop", test_random_resized_crop);
  g_test_add_func ("/transform/random-crop", test_random_crop);
  g_test_add_func ("/transform/flip-off-by-default", test_flip);
  g_test_add_func ("/transform/rotation", test_rotation);
  g_test_add_func ("/transform/jitter", test_jitter);

  g_test_add ("/loader/deterministic", Fixture, NULL, fixture_set_up, test_loader_deterministic,
              fixture_tear_down);
  g_test_add ("/loader/shuffle", Fixture, NULL, fixture_set_up, test_loader_shuffle,
              fixture_tear_down);
  g_test_add ("/loader/balanced", Fixture, NULL, fixture_set_up, test_loader_balanced,
              fixture_tear_down);
  g_test_add ("/loader/short-last-batch", Fixture, NULL, fixture_set_up,
              test_loader_short_last_batch, fixture_tear_down);
  g_test_add ("/loader/stop-and-free", Fixture, NULL, fixture_set_up, test_loader_stop,
              fixture_tear_down);
  g_test_add ("/loader/broken-image", Fixture, "broken", fixture_set_up, test_loader_broken_image,
              fixture_tear_down);
  return g_test_run ();
}
