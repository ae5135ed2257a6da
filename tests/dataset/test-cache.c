/* test-cache.c — the image cache: budget, bad images, threads, cancellation.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>
#include <turbojpeg.h>

#include <glib/gstdio.h>

#include "xl-image-cache.h"

#define SHORT_SIDE 32

/* ---- Helpers ------------------------------------------------------------- */

static GBytes *
make_jpeg (guint width,
           guint height,
           guint seed)
{
  tjhandle handle = tjInitCompress ();
  g_autofree guint8 *pixels = g_malloc ((gsize) width * height);
  unsigned char *jpeg = NULL;
  unsigned long len = 0;
  GBytes *bytes;

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      pixels[(gsize) y * width + x] = (guint8) ((x * 3 + y * 5 + seed * 29) ^ (x * y >> 4));
  g_assert_cmpint (tjCompress2 (handle, pixels, (int) width, 0, (int) height, TJPF_GRAY, &jpeg,
                                &len, TJSAMP_GRAY, 90, 0), ==, 0);
  bytes = g_bytes_new (jpeg, len);
  tjFree (jpeg);
  tjDestroy (handle);
  return bytes;
}

static void
write_bytes (const char *path,
             GBytes     *bytes)
{
  g_autofree char *dir = g_path_get_dirname (path);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  FILE *file;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  file = fopen (path, "wb");
  g_assert_nonnull (file);
  g_assert_cmpuint (fwrite (data != NULL ? data : "", 1, len, file), ==, len);
  g_assert_cmpint (fclose (file), ==, 0);
}

static void
remove_tree (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      if (dir != NULL)
        g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

/* n_per_class films of various sizes in train/{A,B}, as a folder (and, with
 * zip_path, as a zip of it too). */
static char *
make_dataset (guint       n_per_class,
              const char *zip_path)
{
  g_autoptr (GError) error = NULL;
  char *root = g_dir_make_tmp ("xl-cache-XXXXXX", &error);
  struct archive *archive = NULL;

  g_assert_no_error (error);
  if (zip_path != NULL)
    {
      archive = archive_write_new ();
      archive_write_set_format_zip (archive);
      g_assert_cmpint (archive_write_open_filename (archive, zip_path), ==, ARCHIVE_OK);
    }
  for (guint c = 0; c < 2; c++)
    for (guint i = 0; i < n_per_class; i++)
      {
        guint seed = c * 1000 + i;
        g_autoptr (GBytes) jpeg = make_jpeg (48 + (seed * 7) % 70, 40 + (seed * 11) % 50, seed);
        g_autofree char *rel = g_strdup_printf ("train/%c/film-%03u.jpeg", 'A' + c, i);
        g_autofree char *path = g_build_filename (root, rel, NULL);

        write_bytes (path, jpeg);
        if (archive != NULL)
          {
            struct archive_entry *entry = archive_entry_new ();
            gsize len = g_bytes_get_size (jpeg);

            archive_entry_set_pathname (entry, rel);
            archive_entry_set_filetype (entry, AE_IFREG);
            archive_entry_set_perm (entry, 0644);
            archive_entry_set_size (entry, (la_int64_t) len);
            g_assert_cmpint (archive_write_header (archive, entry), ==, ARCHIVE_OK);
            archive_write_data (archive, g_bytes_get_data (jpeg, NULL), len);
            archive_entry_free (entry);
          }
      }
  if (archive != NULL)
    {
      archive_write_close (archive);
      archive_write_free (archive);
    }
  return root;
}

static XlDataset *
scan_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  XlDataset *ds = xl_dataset_scan (path, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  return ds;
}

/* What the cache must hold for index: the file decoded the plain way. */
static XlImage *
reference (XlDataset *ds,
           guint      index)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = xl_dataset_read (ds, index, &error);
  XlImage *img;
  gsize len;
  const guint8 *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &len);
  img = xl_image_decode_short_side (data, len, SHORT_SIDE, "ref", NULL, &error);
  g_assert_no_error (error);
  return img;
}

static gboolean
image_equal (const XlImage *a,
             const XlImage *b)
{
  return a->width == b->width && a->height == b->height
         && memcmp (a->pixels, b->pixels, (gsize) a->width * a->height) == 0;
}

static gsize
image_bytes (XlDataset *ds,
             guint      index)
{
  const XlImageEntry *entry = xl_dataset_image (ds, index);
  guint width, height;

  xl_image_short_side_size (entry->width, entry->height, SHORT_SIDE, &width, &height);
  return (gsize) width * height;
}

static guint *
all_indices (XlDataset *ds)
{
  guint *indices = g_new (guint, xl_dataset_n_images (ds));

  for (guint i = 0; i < xl_dataset_n_images (ds); i++)
    indices[i] = i;
  return indices;
}

typedef struct {
  double last;
  guint calls;
  GCancellable *cancel;
} ProgressLog;

static void
progress_cb (double      fraction,
             const char *what,
             gpointer    user_data)
{
  ProgressLog *log = user_data;

  g_assert_cmpfloat (fraction, >=, log->last);
  log->last = fraction;
  log->calls++;
  if (log->cancel != NULL)
    g_cancellable_cancel (log->cancel);
}

/* ---- Tests ----------------------------------------------------------------- */

static void
test_fill_all (void)
{
  g_autofree char *root = make_dataset (12, NULL);
  g_autoptr (XlDataset) ds = scan_ok (root);
  g_autoptr (XlImageCache) cache = xl_image_cache_new (ds, SHORT_SIDE, 64 * 1024 * 1024);
  g_autofree guint *indices = all_indices (ds);
  g_autoptr (GError) error = NULL;
  guint n = xl_dataset_n_images (ds);
  ProgressLog log = { 0 };
  gsize expected_bytes = 0;

  g_assert_cmpuint (n, ==, 24);
  g_assert_cmpuint (xl_image_cache_short_side (cache), ==, SHORT_SIDE);
  g_assert_true (xl_image_cache_fill (cache, indices, n, 2, progress_cb, &log, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (log.last, ==, 1.0);
  g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, n);
  g_assert_cmpuint (xl_image_cache_n_bad (cache), ==, 0);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (XlImage) expected = reference (ds, i);
      const XlImage *img = xl_image_cache_get (cache, i, &error);
      const XlImage *again = xl_image_cache_get (cache, i, &error);
      guint width, height;

      g_assert_no_error (error);
      g_assert_true (img == again);   /* resident: the same pixels, no copy */
      g_assert_true (image_equal (img, expected));
      xl_image_short_side_size (xl_dataset_image (ds, i)->width,
                                xl_dataset_image (ds, i)->height, SHORT_SIDE, &width, &height);
      g_assert_cmpuint (img->width, ==, width);
      g_assert_cmpuint (MIN (img->width, img->height), ==, SHORT_SIDE);
      expected_bytes += image_bytes (ds, i);
      xl_image_cache_release (cache, img);
      xl_image_cache_release (cache, again);
    }
  g_assert_cmpuint (xl_image_cache_bytes (cache), ==, expected_bytes);

  /* A second fill has nothing to do. */
  g_assert_true (xl_image_cache_fill (cache, indices, n, 2, NULL, NULL, NULL, &error));
  g_assert_cmpuint (xl_image_cache_bytes (cache), ==, expected_bytes);
  remove_tree (root);
}

static void
test_budget (void)
{
  g_autofree char *root = make_dataset (10, NULL);
  g_autoptr (XlDataset) ds = scan_ok (root);
  g_autofree guint *indices = all_indices (ds);
  g_autoptr (GError) error = NULL;
  guint n = xl_dataset_n_images (ds), k = 7;
  gsize budget = 0;

  /* Exactly the first k images fit (filled in index order, one thread). */
  for (guint i = 0; i < k; i++)
    budget += image_bytes (ds, i);

  {
    g_autoptr (XlImageCache) cache = xl_image_cache_new (ds, SHORT_SIDE, budget);

    g_assert_cmpuint (xl_image_cache_budget (cache), ==, budget);
    g_assert_true (xl_image_cache_fill (cache, indices, n, 1, NULL, NULL, NULL, &error));
    g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, k);
    g_assert_cmpuint (xl_image_cache_bytes (cache), <=, budget);

    /* Beyond the budget: decoded on demand, the same pixels, freed on release
     * (ASan checks that), and never made resident. */
    for (guint pass = 0; pass < 2; pass++)
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (XlImage) expected = reference (ds, i);
          const XlImage *img = xl_image_cache_get (cache, i, &error);

          g_assert_no_error (error);
          g_assert_true (image_equal (img, expected));
          xl_image_cache_release (cache, img);
        }
    g_assert_cmpuint (xl_image_cache_bytes (cache), <=, budget);
    g_assert_cmpuint (xl_image_cache_n_resident (cache), <, n);
  }

  /* No budget at all: nothing kept, everything still served. */
  {
    g_autoptr (XlImageCache) cache = xl_image_cache_new (ds, SHORT_SIDE, 0);

    g_assert_true (xl_image_cache_fill (cache, indices, n, 2, NULL, NULL, NULL, &error));
    for (guint i = 0; i < n; i++)
      {
        const XlImage *img = xl_image_cache_get (cache, i, &error);
        const XlImage *again = xl_image_cache_get (cache, i, &error);

        g_assert_no_error (error);
        g_assert_true (img != again);
        g_assert_true (image_equal (img, again));
        xl_image_cache_release (cache, img);
        xl_image_cache_release (cache, again);
      }
    g_assert_cmpuint (xl_image_cache_bytes (cache), ==, 0);
    g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, 0);
  }

  /* Without a fill, gets fill the cache as far as the budget goes. */
  {
    g_autoptr (XlImageCache) cache = xl_image_cache_new (ds, SHORT_SIDE, G_MAXSIZE);
    const XlImage *img = xl_image_cache_get (cache, 3, &error);

    g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, 1);
    g_assert_true (xl_image_cache_get (cache, 3, &error) == img);
    xl_image_cache_release (cache, img);
    xl_image_cache_release (cache, img);
  }
  remove_tree (root);
}

/* Files that changed after the scan: marked bad, reported with their name,
 * every time, and never fatal. */
static void
test_bad_images (void)
{
  g_autofree char *root = make_dataset (5, NULL);
  g_autoptr (XlDataset) ds = scan_ok (root);
  g_autoptr (XlImageCache) cache = xl_image_cache_new (ds, SHORT_SIDE, G_MAXSIZE);
  g_autofree guint *indices = all_indices (ds);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) garbage = g_bytes_new_static ("\xff\xd8\xff garbage", 12);
  const char *broken = xl_dataset_image (ds, 1)->path;
  const char *gone = xl_dataset_image (ds, 6)->path;
  guint n = xl_dataset_n_images (ds);

  write_bytes (broken, garbage);
  g_assert_cmpint (g_unlink (gone), ==, 0);

  g_assert_true (xl_image_cache_fill (cache, indices, n, 2, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (xl_image_cache_n_bad (cache), ==, 2);
  g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, n - 2);

  for (guint pass = 0; pass < 2; pass++)
    {
      g_assert_null (xl_image_cache_get (cache, 1, &error));
      g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_DECODE);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, broken));
      g_clear_error (&error);

      g_assert_null (xl_image_cache_get (cache, 6, &error));
      g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_NOT_FOUND);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, gone));
      g_clear_error (&error);
    }
  xl_image_cache_release (cache, xl_image_cache_get (cache, 0, &error));
  g_assert_no_error (error);
  remove_tree (root);
}

typedef struct {
  XlImageCache *cache;
  XlImage **expected;
  guint n;
  guint seed;
} HammerJob;

static gpointer
hammer (gpointer data)
{
  HammerJob *job = data;
  GRand *rand = g_rand_new_with_seed (job->seed);

  for (guint k = 0; k < 400; k++)
    {
      guint index = (guint) g_rand_int_range (rand, 0, (gint32) job->n);
      g_autoptr (GError) error = NULL;
      const XlImage *img = xl_image_cache_get (job->cache, index, &error);

      g_assert_no_error (error);
      g_assert_true (image_equal (img, job->expected[index]));
      xl_image_cache_release (job->cache, img);
    }
  g_rand_free (rand);
  return NULL;
}

/* Two threads reading at random while a 2-thread fill runs, with a budget
 * that holds about half the images. */
static void
test_threads (void)
{
  g_autofree char *root = make_dataset (20, NULL);
  g_autoptr (XlDataset) ds = scan_ok (root);
  g_autofree guint *indices = all_indices (ds);
  g_autoptr (GError) error = NULL;
  guint n = xl_dataset_n_images (ds);
  g_autofree XlImage **expected = g_new (XlImage *, n);
  gsize total = 0;
  XlImageCache *cache;
  HammerJob jobs[2];
  GThread *threads[2];

  for (guint i = 0; i < n; i++)
    {
      expected[i] = reference (ds, i);
      total += image_bytes (ds, i);
    }
  cache = xl_image_cache_new (ds, SHORT_SIDE, total / 2);
  for (guint t = 0; t < 2; t++)
    {
      jobs[t] = (HammerJob) { cache, expected, n, 100 + t };
      threads[t] = g_thread_new ("hammer", hammer, &jobs[t]);
    }
  g_assert_true (xl_image_cache_fill (cache, indices, n, 2, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  for (guint t = 0; t < 2; t++)
    g_thread_join (threads[t]);
  g_assert_cmpuint (xl_image_cache_bytes (cache), <=, total / 2);
  g_assert_cmpuint (xl_image_cache_n_bad (cache), ==, 0);
  xl_image_cache_free (cache);
  for (guint i = 0; i < n; i++)
    xl_image_free (expected[i]);
  remove_tree (root);
}

static void
test_cancel (void)
{
  g_autofree char *root = make_dataset (10, NULL);
  g_autoptr (XlDataset) ds = scan_ok (root);
  g_autoptr (XlImageCache) cache = xl_image_cache_new (ds, SHORT_SIDE, G_MAXSIZE);
  g_autofree guint *indices = all_indices (ds);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  guint n = xl_dataset_n_images (ds);
  ProgressLog log = { 0, 0, cancellable };

  /* Cancelled before: nothing done. */
  g_cancellable_cancel (cancellable);
  g_assert_false (xl_image_cache_fill (cache, indices, n, 2, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, 0);
  g_clear_error (&error);

  /* Cancelled from the first progress report: stops, and the cache is fine. */
  g_cancellable_reset (cancellable);
  g_assert_false (xl_image_cache_fill (cache, indices, n, 2, progress_cb, &log, cancellable,
                                       &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_test_message ("%u of %u resident after the cancel", xl_image_cache_n_resident (cache), n);
  g_assert_true (xl_image_cache_fill (cache, indices, n, 2, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, n);
  remove_tree (root);
}

static void
test_zip (void)
{
  g_autofree char *zip_dir = g_dir_make_tmp ("xl-cache-zip-XXXXXX", NULL);
  g_autofree char *zip = g_build_filename (zip_dir, "data.zip", NULL);
  g_autofree char *root = make_dataset (15, zip);
  g_autoptr (XlDataset) ds = scan_ok (zip);
  g_autoptr (XlImageCache) cache = xl_image_cache_new (ds, SHORT_SIDE, G_MAXSIZE);
  g_autofree guint *indices = all_indices (ds);
  g_autoptr (GError) error = NULL;
  guint n = xl_dataset_n_images (ds);

  g_assert_cmpuint (n, ==, 30);
  g_assert_true (xl_image_cache_fill (cache, indices, n, 2, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (xl_image_cache_n_resident (cache), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (XlImage) expected = reference (ds, i);
      const XlImage *img = xl_image_cache_get (cache, i, &error);

      g_assert_no_error (error);
      g_assert_true (image_equal (img, expected));
      xl_image_cache_release (cache, img);
    }
  remove_tree (zip_dir);
  remove_tree (root);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cache/fill-all", test_fill_all);
  g_test_add_func ("/cache/budget", test_budget);
  g_test_add_func ("/cache/bad-images", test_bad_images);
  g_test_add_func ("/cache/threads", test_threads);
  g_test_add_func ("/cache/cancel", test_cancel);
  g_test_add_func ("/cache/zip", test_zip);

  return g_test_run ();
}
