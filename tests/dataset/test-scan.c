/* test-scan.c — scanning folders and zips, bad files, patients, re-splits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every data set is made here, in a g_dir_make_tmp folder, from tiny JPEGs
 * that TurboJPEG compresses at run time.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "nn-zip.h"
#include "xl-dataset.h"
#include "xl-image.h"

/* ---- Helpers ------------------------------------------------------------- */

typedef struct {
  char *rel;
  GBytes *data;     /* NULL: a folder */
} TreeFile;

static void
tree_file_free (gpointer data)
{
  TreeFile *file = data;

  g_free (file->rel);
  g_clear_pointer (&file->data, g_bytes_unref);
  g_free (file);
}

static GPtrArray *
tree_new (void)
{
  return g_ptr_array_new_with_free_func (tree_file_free);
}

static void
tree_add (GPtrArray  *tree,
          const char *rel,
          GBytes     *data)
{
  TreeFile *file = g_new0 (TreeFile, 1);

  file->rel = g_strdup (rel);
  file->data = data != NULL ? g_bytes_ref (data) : NULL;
  g_ptr_array_add (tree, file);
}

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

  for (gsize i = 0; i < (gsize) width * height; i++)
    pixels[i] = (guint8) (i * 7 + seed * 13 + i / width);
  g_assert_cmpint (tjCompress2 (handle, pixels, (int) width, 0, (int) height, TJPF_GRAY, &jpeg,
                                &len, TJSAMP_GRAY, 85, 0), ==, 0);
  bytes = g_bytes_new (jpeg, len);
  tjFree (jpeg);
  tjDestroy (handle);
  return bytes;
}

static GBytes *
bytes_cut (GBytes *bytes,
           gsize   len)
{
  return g_bytes_new_from_bytes (bytes, 0, MIN (len, g_bytes_get_size (bytes)));
}

static void
write_file (const char *root,
            const char *rel,
            GBytes     *data)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  gsize len = 0;
  const char *bytes;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  if (data == NULL)
    {
      g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
      return;
    }
  bytes = g_bytes_get_data (data, &len);
  /* Plain writes: g_file_set_contents's temporary file and rename cost more
   * than the scan of hundreds of files. */
  {
    FILE *file = fopen (path, "wb");

    g_assert_nonnull (file);
    g_assert_cmpuint (fwrite (bytes != NULL ? bytes : "", 1, len, file), ==, len);
    g_assert_cmpint (fclose (file), ==, 0);
  }
}

static void
tree_write_folder (GPtrArray  *tree,
                   const char *root)
{
  for (guint i = 0; i < tree->len; i++)
    {
      TreeFile *file = tree->pdata[i];

      write_file (root, file->rel, file->data);
    }
}

/* A zip made with libarchive's writer (deflated, as the Kaggle one). */
static void
tree_write_zip (GPtrArray  *tree,
                const char *path)
{
  struct archive *archive = archive_write_new ();

  g_assert_cmpint (archive_write_set_format_zip (archive), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open_filename (archive, path), ==, ARCHIVE_OK);
  for (guint i = 0; i < tree->len; i++)
    {
      TreeFile *file = tree->pdata[i];
      struct archive_entry *entry = archive_entry_new ();
      gsize len = file->data != NULL ? g_bytes_get_size (file->data) : 0;

      archive_entry_set_pathname (entry, file->rel);
      archive_entry_set_filetype (entry, file->data != NULL ? AE_IFREG : AE_IFDIR);
      archive_entry_set_perm (entry, file->data != NULL ? 0644 : 0755);
      archive_entry_set_size (entry, (la_int64_t) len);
      g_assert_cmpint (archive_write_header (archive, entry), ==, ARCHIVE_OK);
      if (len > 0)
        g_assert_cmpint (archive_write_data (archive, g_bytes_get_data (file->data, NULL), len),
                         ==, (la_ssize_t) len);
      archive_entry_free (entry);
    }
  g_assert_cmpint (archive_write_close (archive), ==, ARCHIVE_OK);
  archive_write_free (archive);
}

/* rm -rf that never follows a symlink. */
static void
remove_tree (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      GDir *dir;
      const char *name;

      g_chmod (path, 0755);
      dir = g_dir_open (path, 0, NULL);
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

static char *
make_tmp (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("xl-scan-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static XlDataset *
scan_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  XlDataset *ds = xl_dataset_scan (path, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ds);
  return ds;
}

static const char *
skip_reason (XlDataset  *ds,
             const char *path_suffix)
{
  for (guint i = 0; i < xl_dataset_n_skipped (ds); i++)
    {
      const XlSkippedFile *file = xl_dataset_skipped (ds, i);

      if (g_str_has_suffix (file->path, path_suffix))
        return file->reason;
    }
  return NULL;
}

static void
assert_skipped (XlDataset  *ds,
                const char *path_suffix,
                const char *reason_part)
{
  const char *reason = skip_reason (ds, path_suffix);

  if (reason == NULL)
    g_error ("%s was not skipped", path_suffix);
  if (strstr (reason, reason_part) == NULL)
    g_error ("%s skipped because “%s”, expected “%s”", path_suffix, reason, reason_part);
}

static gboolean
has_image (XlDataset  *ds,
           const char *name,
           XlSplit     split)
{
  for (guint i = 0; i < xl_dataset_n_images (ds); i++)
    {
      const XlImageEntry *entry = xl_dataset_image (ds, i);

      if (strcmp (entry->name, name) == 0 && entry->split == split)
        return TRUE;
    }
  return FALSE;
}

/* The Kermany layout: 3 splits x 2 classes, with real-looking names. */
static GPtrArray *
kermany_tree (const char *prefix,
              guint       per_class)
{
  GPtrArray *tree = tree_new ();
  g_autoptr (GBytes) jpeg = make_jpeg (20, 16, 1);
  static const char *const splits[] = { "train", "val", "test" };

  for (guint s = 0; s < 3; s++)
    for (guint i = 0; i < per_class + s; i++)
      {
        g_autofree char *normal = g_strdup_printf ("%s%s/NORMAL/IM-%04u-0001.jpeg", prefix,
                                                   splits[s], 100 + i);
        g_autofree char *pneumonia = g_strdup_printf ("%s%s/PNEUMONIA/person%u_bacteria_%u.jpeg",
                                                      prefix, splits[s], i + 1, 2 * i);

        tree_add (tree, normal, jpeg);
        tree_add (tree, pneumonia, jpeg);
      }
  return tree;
}

/* ---- Layouts --------------------------------------------------------------- */

static void
test_split_layout (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GPtrArray) tree = kermany_tree ("", 3);
  g_autoptr (GBytes) jpeg = make_jpeg (24, 18, 2);
  g_autoptr (GBytes) text = g_bytes_new_static ("notes", 5);
  g_autoptr (XlDataset) ds = NULL;
  const guint *indices;
  guint n;

  tree_add (tree, "train/NORMAL/UPPER-CASE.JPG", jpeg);
  tree_add (tree, "train/NORMAL/mixed.Jpeg", jpeg);
  tree_add (tree, "train/NORMAL/.hidden.jpeg", jpeg);
  tree_add (tree, "train/NORMAL/.DS_Store", text);
  tree_add (tree, "train/.thumbnails/x.jpeg", jpeg);
  tree_add (tree, "train/PNEUMONIA/notes.txt", text);
  tree_add (tree, "train/PNEUMONIA/scan.bmp", text);
  tree_add (tree, "train/loose.jpeg", jpeg);
  tree_add (tree, "README.md", text);
  tree_write_folder (tree, root);

  ds = scan_ok (root);
  g_assert_true (xl_dataset_has_splits (ds));
  g_assert_cmpstr (xl_dataset_root (ds), ==, "");
  g_assert_cmpstr (xl_dataset_path (ds), ==, root);
  g_assert_cmpuint (xl_dataset_n_classes (ds), ==, 2);
  g_assert_cmpstr (xl_dataset_class_name (ds, 0), ==, "NORMAL");
  g_assert_cmpstr (xl_dataset_class_name (ds, 1), ==, "PNEUMONIA");
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 0), ==, 5);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 1), ==, 3);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_VAL, 0), ==, 4);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TEST, 1), ==, 5);
  g_assert_cmpuint (xl_dataset_n_images (ds), ==, 8 + 8 + 10);

  /* Order: split, class, name. */
  for (guint i = 1; i < xl_dataset_n_images (ds); i++)
    {
      const XlImageEntry *a = xl_dataset_image (ds, i - 1), *b = xl_dataset_image (ds, i);

      g_assert_true (a->split < b->split
                     || (a->split == b->split && a->class_index < b->class_index)
                     || (a->split == b->split && a->class_index == b->class_index
                         && strcmp (a->name, b->name) < 0));
    }
  {
    const XlImageEntry *first = xl_dataset_image (ds, 0);
    g_autofree char *expected = g_build_filename (root, "train", "NORMAL", "IM-0100-0001.jpeg",
                                                  NULL);

    g_assert_cmpstr (first->name, ==, "IM-0100-0001.jpeg");
    g_assert_cmpstr (first->path, ==, expected);
    g_assert_cmpstr (first->patient, ==, "IM-0100");
    g_assert_cmpuint (first->width, ==, 20);
    g_assert_cmpuint (first->height, ==, 16);
    g_assert_cmpuint (first->channels, ==, 1);
    g_assert_cmpuint (first->size, >, 100);
    g_assert_cmpint (first->split, ==, XL_SPLIT_TRAIN);
    g_assert_cmpint (first->scanned_split, ==, XL_SPLIT_TRAIN);
  }
  g_assert_true (has_image (ds, "UPPER-CASE.JPG", XL_SPLIT_TRAIN));
  g_assert_true (has_image (ds, "mixed.Jpeg", XL_SPLIT_TRAIN));
  g_assert_false (has_image (ds, ".hidden.jpeg", XL_SPLIT_TRAIN));
  g_assert_false (has_image (ds, "x.jpeg", XL_SPLIT_TRAIN));

  indices = xl_dataset_split_indices (ds, XL_SPLIT_VAL, &n);
  g_assert_cmpuint (n, ==, 8);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (xl_dataset_image (ds, indices[i])->split, ==, XL_SPLIT_VAL);

  g_assert_cmpuint (xl_dataset_n_skipped (ds), ==, 2);
  assert_skipped (ds, "train/PNEUMONIA/scan.bmp", "unsupported format");
  assert_skipped (ds, "train/loose.jpeg", "not in a class folder");
  remove_tree (root);
}

static void
test_flat_layout (void)
{
  g_autofree char *root = make_tmp ();
  g_autofree char *wrapped = g_build_filename (root, "wrapper", NULL);
  g_autoptr (GPtrArray) tree = tree_new ();
  g_autoptr (GBytes) jpeg = make_jpeg (16, 16, 3);
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GError) error = NULL;

  /* One folder of class folders (in a folder of its own, as zips often are). */
  tree_add (tree, "mydata/cats/a.jpeg", jpeg);
  tree_add (tree, "mydata/cats/b.jpeg", jpeg);
  tree_add (tree, "mydata/dogs/c.jpeg", jpeg);
  tree_add (tree, "mydata/dogs/sub/d.jpeg", jpeg);   /* below a class: still the class */
  tree_add (tree, "mydata/empty-class", NULL);       /* no images: not a class */
  tree_write_folder (tree, wrapped);

  ds = scan_ok (wrapped);
  g_assert_false (xl_dataset_has_splits (ds));
  g_assert_cmpstr (xl_dataset_root (ds), ==, "mydata");
  g_assert_cmpuint (xl_dataset_n_classes (ds), ==, 2);
  g_assert_cmpstr (xl_dataset_class_name (ds, 1), ==, "dogs");
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 0), ==, 2);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 1), ==, 2);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_VAL, 1), ==, 0);
  g_assert_true (xl_dataset_require_split (ds, XL_SPLIT_TRAIN, &error));
  g_assert_false (xl_dataset_require_split (ds, XL_SPLIT_VAL, &error));
  g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY);
  g_assert_nonnull (strstr (error->message, "no val split"));

  remove_tree (root);
}

/* The Kaggle archive: chest_xray/ holds a copy of itself, chest_xray/chest_xray/,
 * plus __MACOSX/ resource forks and .DS_Store files. The deeper tree wins. */
static GPtrArray *
kaggle_tree (void)
{
  g_autoptr (GPtrArray) inner = kermany_tree ("chest_xray/chest_xray/", 4);
  g_autoptr (GPtrArray) outer = kermany_tree ("chest_xray/", 2);
  g_autoptr (GBytes) junk = g_bytes_new_static ("\0\5\26\7junk", 8);
  GPtrArray *tree = tree_new ();

  tree_add (tree, "chest_xray", NULL);
  tree_add (tree, "chest_xray/chest_xray", NULL);
  for (guint i = 0; i < outer->len; i++)
    tree_add (tree, ((TreeFile *) outer->pdata[i])->rel, ((TreeFile *) outer->pdata[i])->data);
  for (guint i = 0; i < inner->len; i++)
    tree_add (tree, ((TreeFile *) inner->pdata[i])->rel, ((TreeFile *) inner->pdata[i])->data);
  tree_add (tree, "chest_xray/.DS_Store", junk);
  tree_add (tree, "chest_xray/chest_xray/train/.DS_Store", junk);
  tree_add (tree, "chest_xray/chest_xray/train/NORMAL/._IM-0100-0001.jpeg", junk);
  tree_add (tree, "__MACOSX/chest_xray/chest_xray/train/NORMAL/._IM-0100-0001.jpeg", junk);
  tree_add (tree, "__MACOSX/chest_xray/chest_xray/train/PNEUMONIA/._x.jpeg", junk);
  return tree;
}

static void
assert_kaggle (XlDataset *ds)
{
  g_assert_true (xl_dataset_has_splits (ds));
  g_assert_cmpstr (xl_dataset_root (ds), ==, "chest_xray/chest_xray");
  g_assert_cmpuint (xl_dataset_n_classes (ds), ==, 2);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 0), ==, 4);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_VAL, 1), ==, 5);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TEST, 0), ==, 6);
  g_assert_cmpuint (xl_dataset_n_images (ds), ==, 30);
  g_assert_cmpuint (xl_dataset_n_skipped (ds), ==, 0);
  for (guint i = 0; i < xl_dataset_n_images (ds); i++)
    g_assert_nonnull (strstr (xl_dataset_image (ds, i)->path, "chest_xray/chest_xray/"));
}

static void
test_kaggle_folder (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GPtrArray) tree = kaggle_tree ();
  g_autoptr (XlDataset) ds = NULL;

  tree_write_folder (tree, root);
  ds = scan_ok (root);
  assert_kaggle (ds);
  remove_tree (root);
}

static void
test_kaggle_zip (void)
{
  g_autofree char *root = make_tmp ();
  g_autofree char *zip = g_build_filename (root, "archive.zip", NULL);
  g_autoptr (GPtrArray) tree = kaggle_tree ();
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GBytes) expected = make_jpeg (20, 16, 1);
  GRand *rand = g_rand_new_with_seed (5);
  guint n;

  tree_write_zip (tree, zip);
  ds = scan_ok (zip);
  assert_kaggle (ds);

  {
    const XlImageEntry *first = xl_dataset_image (ds, 0);
    g_autofree char *path = g_strconcat (zip, "//chest_xray/chest_xray/train/NORMAL/"
                                         "IM-0100-0001.jpeg", NULL);

    g_assert_cmpstr (first->path, ==, path);
  }

  /* Every member reads back whole: forwards (sequential), backwards (each a
   * fresh pass), and at random. */
  n = xl_dataset_n_images (ds);
  for (guint pass = 0; pass < 3; pass++)
    for (guint k = 0; k < n; k++)
      {
        guint index = pass == 0 ? k : pass == 1 ? n - 1 - k : (guint) g_rand_int_range (rand, 0,
                                                                                        (gint32) n);
        g_autoptr (GError) error = NULL;
        g_autoptr (GBytes) bytes = xl_dataset_read (ds, index, &error);

        g_assert_no_error (error);
        g_assert_true (g_bytes_equal (bytes, expected));
      }
  g_rand_free (rand);
  remove_tree (root);
}

/* A zip with bad members: skipped like files, and the archive is not unpacked. */
static void
test_zip_bad_members (void)
{
  g_autofree char *root = make_tmp ();
  g_autofree char *zip = g_build_filename (root, "data.zip", NULL);
  g_autofree char *not_zip = g_build_filename (root, "not.zip", NULL);
  g_autoptr (GPtrArray) tree = kermany_tree ("data/", 2);
  g_autoptr (GBytes) jpeg = make_jpeg (20, 16, 1);
  g_autoptr (GBytes) cut = bytes_cut (jpeg, g_bytes_get_size (jpeg) / 2);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (XlDataset) none = NULL;

  tree_add (tree, "data/train/NORMAL/cut.jpeg", cut);
  tree_add (tree, "data/train/NORMAL/empty.jpeg", empty);
  /* a second member under a name already there, and one that only
   * normalizes to it */
  tree_add (tree, "data/train/PNEUMONIA/twice.jpeg", jpeg);
  tree_add (tree, "data/train/PNEUMONIA/twice.jpeg", jpeg);
  tree_add (tree, "data/train/./PNEUMONIA/twice.jpeg", jpeg);
  tree_write_zip (tree, zip);
  ds = scan_ok (zip);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 0), ==, 2);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 1), ==, 3);
  assert_skipped (ds, "data.zip//data/train/NORMAL/cut.jpeg", "truncated JPEG");
  assert_skipped (ds, "data.zip//data/train/NORMAL/empty.jpeg", "empty file");
  assert_skipped (ds, "data.zip//data/train/PNEUMONIA/twice.jpeg", "same name");
  assert_skipped (ds, "data.zip//data/train/./PNEUMONIA/twice.jpeg", "same name");
  g_assert_cmpuint (xl_dataset_n_skipped (ds), ==, 4);

  g_file_set_contents (not_zip, "PK\3\4 but nothing else", -1, NULL);
  none = xl_dataset_scan (not_zip, NULL, NULL, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, not_zip));
  remove_tree (root);
}

/* ---- Bad files ------------------------------------------------------------- */

static void
test_bad_files (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GPtrArray) tree = kermany_tree ("", 2);
  g_autoptr (GBytes) jpeg = make_jpeg (120, 90, 4);
  gsize len = g_bytes_get_size (jpeg);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (GBytes) text = g_bytes_new_static ("just some text, not a PNG\n", 26);
  g_autoptr (GBytes) random_bytes = NULL;
  g_autoptr (GBytes) bomb = NULL;
  g_autoptr (GBytes) cut_png = NULL;
  g_autoptr (XlDataset) ds = NULL;
  const gsize cuts[] = { 2, 20, 200, len / 2, len - 2 };
  guint8 noise[3000];
  GRand *rand = g_rand_new_with_seed (9);

  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_rand_int (rand);
  g_rand_free (rand);
  random_bytes = g_bytes_new (noise, sizeof noise);

  {
    /* The same JPEG with a 60000x60000 frame header. */
    guint8 *data = g_memdup2 (g_bytes_get_data (jpeg, NULL), len);

    for (gsize p = 2; p + 9 < len; p += 2 + (((gsize) data[p + 2] << 8) | data[p + 3]))
      if (data[p + 1] == 0xc0)
        {
          data[p + 5] = 0xea; data[p + 6] = 0x60;
          data[p + 7] = 0xea; data[p + 8] = 0x60;
          break;
        }
    bomb = g_bytes_new_take (data, len);
  }
  {
    /* An 8x6 gray PNG cut after its header, in its first IDAT chunk. */
    guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                     'I', 'H', 'D', 'R', 0, 0, 0, 8, 0, 0, 0, 6, 8, 0, 0, 0, 0,
                     0, 0, 0, 0, 0, 0, 0, 40, 'I', 'D', 'A', 'T', 0x78, 0x9c };
    guint32 crc = nn_crc32 (0, png + 12, 17);

    png[29] = (guint8) (crc >> 24);
    png[30] = (guint8) (crc >> 16);
    png[31] = (guint8) (crc >> 8);
    png[32] = (guint8) crc;
    cut_png = g_bytes_new (png, sizeof png);
  }

  tree_add (tree, "train/NORMAL/good.jpeg", jpeg);
  tree_add (tree, "train/NORMAL/zero.jpeg", empty);
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autofree char *rel = g_strdup_printf ("train/NORMAL/cut-%zu.jpeg", cuts[i]);
      g_autoptr (GBytes) cut = bytes_cut (jpeg, cuts[i]);

      tree_add (tree, rel, cut);
    }
  tree_add (tree, "train/PNEUMONIA/random.jpeg", random_bytes);
  tree_add (tree, "train/PNEUMONIA/text.png", text);
  tree_add (tree, "train/PNEUMONIA/bomb.jpeg", bomb);
  tree_add (tree, "train/PNEUMONIA/cut.png", cut_png);
  tree_add (tree, "train/PNEUMONIA/unreadable.jpeg", jpeg);
  tree_write_folder (tree, root);

  {
    g_autofree char *unreadable = g_build_filename (root, "train/PNEUMONIA/unreadable.jpeg",
                                                    NULL);
    g_autofree char *dangling = g_build_filename (root, "train/PNEUMONIA/dangling.jpeg", NULL);
    g_autofree char *fifo = g_build_filename (root, "train/PNEUMONIA/fifo.jpeg", NULL);

    g_assert_cmpint (g_chmod (unreadable, 0), ==, 0);
    g_assert_cmpint (symlink ("/nonexistent/film.jpeg", dangling), ==, 0);
    g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  }

  ds = scan_ok (root);
  for (guint i = 0; i < xl_dataset_n_skipped (ds); i++)
    g_test_message ("skipped %s: %s", xl_dataset_skipped (ds, i)->path,
                    xl_dataset_skipped (ds, i)->reason);

  g_assert_true (has_image (ds, "good.jpeg", XL_SPLIT_TRAIN));
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 0), ==, 3);
  assert_skipped (ds, "zero.jpeg", "empty file");
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autofree char *rel = g_strdup_printf ("cut-%zu.jpeg", cuts[i]);

      assert_skipped (ds, rel, "truncated JPEG");
    }
  assert_skipped (ds, "random.jpeg", "not an image");
  assert_skipped (ds, "text.png", "not an image");
  assert_skipped (ds, "bomb.jpeg", "60000x60000 is over the limit");
  assert_skipped (ds, "cut.png", "truncated PNG");
  assert_skipped (ds, "dangling.jpeg", "cannot read");
  assert_skipped (ds, "fifo.jpeg", "not a regular file");
  if (geteuid () == 0)
    {
      /* root reads a mode-0 file anyway (CI runs as root). */
      g_test_message ("running as root: the unreadable file is readable");
      g_assert_true (has_image (ds, "unreadable.jpeg", XL_SPLIT_TRAIN));
    }
  else
    assert_skipped (ds, "unreadable.jpeg", "Permission denied");
  /* Every file is either an image or skipped (with the link and the FIFO). */
  g_assert_cmpuint (xl_dataset_n_images (ds) + xl_dataset_n_skipped (ds), ==, tree->len + 2);

  remove_tree (root);
}

static void
test_symlink_loop (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GPtrArray) tree = kermany_tree ("", 2);
  g_autofree char *loop = g_build_filename (root, "train", "NORMAL", "loop", NULL);
  g_autofree char *self = g_build_filename (root, "train", "PNEUMONIA", "self", NULL);
  g_autofree char *other = g_build_filename (root, "train", "PNEUMONIA", "normal-again", NULL);
  g_autoptr (XlDataset) ds = NULL;

  tree_write_folder (tree, root);
  g_assert_cmpint (symlink ("..", loop), ==, 0);
  g_assert_cmpint (symlink (".", self), ==, 0);
  g_assert_cmpint (symlink ("../NORMAL", other), ==, 0);

  ds = scan_ok (root);
  /* Each folder walked once: nothing counted twice, and no endless walk. */
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 0), ==, 2);
  g_assert_cmpuint (xl_dataset_count (ds, XL_SPLIT_TRAIN, 1), ==, 2);
  remove_tree (root);
}

/* ---- Layout errors --------------------------------------------------------- */

static void
assert_scan_fails (const char *path,
                   int         code,
                   const char *message_part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (XlDataset) ds = xl_dataset_scan (path, NULL, NULL, NULL, &error);

  g_assert_null (ds);
  g_assert_error (error, XL_DATASET_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, path));
  if (strstr (error->message, message_part) == NULL)
    g_error ("“%s” does not say “%s”", error->message, message_part);
}

static void
test_layout_errors (void)
{
  g_autofree char *root = make_tmp ();
  g_autofree char *mismatch = g_build_filename (root, "mismatch", NULL);
  g_autofree char *loose = g_build_filename (root, "loose", NULL);
  g_autofree char *empty = g_build_filename (root, "empty", NULL);
  g_autofree char *missing = g_build_filename (root, "missing", NULL);
  g_autoptr (GBytes) jpeg = make_jpeg (16, 16, 5);

  write_file (mismatch, "train/NORMAL/a.jpeg", jpeg);
  write_file (mismatch, "train/PNEUMONIA/b.jpeg", jpeg);
  write_file (mismatch, "test/NORMAL/c.jpeg", jpeg);
  write_file (mismatch, "test/COVID/d.jpeg", jpeg);
  write_file (mismatch, "val", NULL);   /* an empty split folder is no split */
  assert_scan_fails (mismatch, XL_DATASET_ERROR_LAYOUT,
                     "the classes differ between splits: train has NORMAL, PNEUMONIA; "
                     "test has COVID, NORMAL");

  write_file (loose, "a.jpeg", jpeg);
  write_file (loose, "b.jpeg", jpeg);
  assert_scan_fails (loose, XL_DATASET_ERROR_LAYOUT, "no class folders");

  write_file (empty, "NORMAL", NULL);
  assert_scan_fails (empty, XL_DATASET_ERROR_LAYOUT, "no JPEG or PNG images");

  assert_scan_fails (missing, XL_DATASET_ERROR_NOT_FOUND, "No such file");
  remove_tree (root);
}

/* A split whose every file is bad: scanning works, asking for it fails. */
static void
test_empty_split (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GBytes) jpeg = make_jpeg (16, 16, 6);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GError) error = NULL;

  write_file (root, "train/NORMAL/a.jpeg", jpeg);
  write_file (root, "train/PNEUMONIA/b.jpeg", jpeg);
  write_file (root, "val/NORMAL/c.jpeg", empty);
  write_file (root, "val/PNEUMONIA/d.jpeg", empty);

  ds = scan_ok (root);
  g_assert_true (xl_dataset_require_split (ds, XL_SPLIT_TRAIN, &error));
  g_assert_no_error (error);
  g_assert_false (xl_dataset_require_split (ds, XL_SPLIT_VAL, &error));
  g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "the val split has no usable image (2 files were "
                                            "skipped"));
  g_clear_error (&error);
  g_assert_false (xl_dataset_require_split (ds, XL_SPLIT_TEST, &error));
  g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY);
  g_assert_nonnull (strstr (error->message, "the test split has no images"));
  remove_tree (root);
}

/* ---- Progress and cancellation --------------------------------------------- */

typedef struct {
  double last;
  guint calls;
  GCancellable *cancel_at_half;
} ProgressLog;

static void
progress_cb (double      fraction,
             const char *what,
             gpointer    user_data)
{
  ProgressLog *log = user_data;

  g_assert_cmpfloat (fraction, >=, log->last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  g_assert_nonnull (what);
  log->last = fraction;
  log->calls++;
  if (log->cancel_at_half != NULL && fraction >= 0.4)
    g_cancellable_cancel (log->cancel_at_half);
}

static void
test_progress_and_cancel (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GPtrArray) tree = kermany_tree ("", 40);
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  ProgressLog log = { 0 };

  tree_write_folder (tree, root);
  ds = xl_dataset_scan (root, progress_cb, &log, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (log.last, ==, 1.0);
  g_assert_cmpuint (log.calls, >=, 2);
  g_clear_pointer (&ds, xl_dataset_unref);

  /* Progress throttles to every 1% or 50 ms: cancel once past 40%. */
  log = (ProgressLog) { 0, 0, cancellable };
  ds = xl_dataset_scan (root, progress_cb, &log, cancellable, &error);
  g_assert_null (ds);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  remove_tree (root);
}

/* ---- Patients and the re-split --------------------------------------------- */

static void
test_patient_ids (void)
{
  static const char *const cases[][2] = {
    { "person1017_bacteria_2948.jpeg", "person1017" },
    { "person1_virus_6.jpeg", "person1" },
    { "person1946_bacteria_4875.jpeg", "person1946" },
    { "IM-0115-0001.jpeg", "IM-0115" },
    { "IM-0007-0001-0002.jpeg", "IM-0007" },
    { "NORMAL2-IM-0372-0001.jpeg", "NORMAL2-IM-0372" },
    { "NORMAL2-IM-1427-0001.JPEG", "NORMAL2-IM-1427" },
    { "some/folder/IM-0001-0001.jpeg", "IM-0001" },
    { "scan_42.png", "scan_42" },
    { "personal.jpeg", "personal" },
    { "XIM-0115-0001.jpeg", "XIM-0115-0001" },
    { "noext", "noext" },
    { ".jpeg", ".jpeg" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = xl_patient_id (cases[i][0]);

      g_assert_cmpstr (id, ==, cases[i][1]);
    }
}

/* Per image index, its split after a re-split. */
static XlSplit *
splits_of (XlDataset *ds)
{
  XlSplit *splits = g_new (XlSplit, xl_dataset_n_images (ds));

  for (guint i = 0; i < xl_dataset_n_images (ds); i++)
    splits[i] = xl_dataset_image (ds, i)->split;
  return splits;
}

static void
test_resplit (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GBytes) jpeg = make_jpeg (16, 16, 7);
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree XlSplit *first = NULL;
  g_autofree XlSplit *again = NULL;
  g_autofree XlSplit *other_seed = NULL;
  XlResplitReport report[2];
  guint train_before[2], n_ignored;
  GRand *rand = g_rand_new_with_seed (77);

  /* 80 NORMAL patients with 1-3 films, 120 PNEUMONIA patients with 1-4
   * (bacteria and virus films of one person are one patient). */
  for (guint p = 0; p < 80; p++)
    for (guint k = 0, n = (guint) g_rand_int_range (rand, 1, 4); k < n; k++)
      {
        g_autofree char *rel = g_strdup_printf ("train/NORMAL/%sIM-%04u-%04u.jpeg",
                                                p % 3 ? "" : "NORMAL2-", p, k + 1);

        write_file (root, rel, jpeg);
      }
  for (guint p = 0; p < 120; p++)
    for (guint k = 0, n = (guint) g_rand_int_range (rand, 1, 5); k < n; k++)
      {
        g_autofree char *rel = g_strdup_printf ("train/PNEUMONIA/person%u_%s_%u.jpeg", p + 1,
                                                k % 2 ? "virus" : "bacteria", 1000 + 10 * p + k);

        write_file (root, rel, jpeg);
      }
  g_rand_free (rand);
  write_file (root, "val/NORMAL/IM-9000-0001.jpeg", jpeg);
  write_file (root, "val/PNEUMONIA/person9000_virus_1.jpeg", jpeg);
  write_file (root, "test/NORMAL/IM-9001-0001.jpeg", jpeg);
  write_file (root, "test/PNEUMONIA/person9001_virus_2.jpeg", jpeg);

  ds = scan_ok (root);
  train_before[0] = xl_dataset_count (ds, XL_SPLIT_TRAIN, 0);
  train_before[1] = xl_dataset_count (ds, XL_SPLIT_TRAIN, 1);

  g_assert_true (xl_dataset_resplit (ds, 0.2, 42, FALSE, report, &error));
  g_assert_no_error (error);
  first = splits_of (ds);

  for (guint c = 0; c < 2; c++)
    {
      double fraction = (double) report[c].images[1] / train_before[c];

      g_test_message ("class %u: train %u images / %u patients, val %u / %u (%.3f)", c,
                      report[c].images[0], report[c].patients[0], report[c].images[1],
                      report[c].patients[1], fraction);
      g_assert_cmpuint (report[c].images[0] + report[c].images[1], ==, train_before[c]);
      g_assert_cmpuint (report[c].images[1], ==, xl_dataset_count (ds, XL_SPLIT_VAL, c));
      g_assert_cmpuint (report[c].images[0], ==, xl_dataset_count (ds, XL_SPLIT_TRAIN, c));
      g_assert_cmpfloat (fraction, >, 0.18);
      g_assert_cmpfloat (fraction, <, 0.22);
      g_assert_cmpuint (report[c].patients[1], >, 0);
      g_assert_cmpuint (report[c].patients[0], ==,
                        xl_dataset_count_patients (ds, XL_SPLIT_TRAIN, c));
      g_assert_cmpuint (report[c].patients[1], ==,
                        xl_dataset_count_patients (ds, XL_SPLIT_VAL, c));
    }

  /* No patient on both sides. */
  {
    g_autoptr (GHashTable) side = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = 0; i < xl_dataset_n_images (ds); i++)
      {
        const XlImageEntry *entry = xl_dataset_image (ds, i);
        gpointer seen;

        if (entry->scanned_split != XL_SPLIT_TRAIN)
          continue;
        g_assert_true (entry->split == XL_SPLIT_TRAIN || entry->split == XL_SPLIT_VAL);
        seen = g_hash_table_lookup (side, entry->patient);
        if (seen != NULL)
          g_assert_cmpint (GPOINTER_TO_INT (seen) - 1, ==, entry->split);
        else
          g_hash_table_insert (side, entry->patient, GINT_TO_POINTER (entry->split + 1));
      }
  }

  /* The original val is dropped (listed as ignored); test is untouched. */
  xl_dataset_ignored_indices (ds, &n_ignored);
  g_assert_cmpuint (n_ignored, ==, 2);
  g_assert_false (has_image (ds, "IM-9000-0001.jpeg", XL_SPLIT_VAL));
  g_assert_true (has_image (ds, "IM-9000-0001.jpeg", XL_SPLIT_NONE));
  g_assert_true (has_image (ds, "IM-9001-0001.jpeg", XL_SPLIT_TEST));

  /* The same seed gives the same split, from whatever state. */
  g_assert_true (xl_dataset_resplit (ds, 0.5, 1, TRUE, NULL, &error));
  g_assert_true (has_image (ds, "IM-9000-0001.jpeg", XL_SPLIT_VAL));
  xl_dataset_ignored_indices (ds, &n_ignored);
  g_assert_cmpuint (n_ignored, ==, 0);
  g_assert_true (xl_dataset_resplit (ds, 0.2, 42, FALSE, report, &error));
  again = splits_of (ds);
  g_assert_cmpmem (first, xl_dataset_n_images (ds) * sizeof (XlSplit), again,
                   xl_dataset_n_images (ds) * sizeof (XlSplit));
  g_assert_true (xl_dataset_resplit (ds, 0.2, 43, FALSE, report, &error));
  other_seed = splits_of (ds);
  g_assert_true (memcmp (first, other_seed, xl_dataset_n_images (ds) * sizeof (XlSplit)) != 0);

  remove_tree (root);
}

static void
test_resplit_empty_train (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr (GBytes) jpeg = make_jpeg (16, 16, 8);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GError) error = NULL;

  write_file (root, "train/A/x.jpeg", empty);
  write_file (root, "test/A/y.jpeg", jpeg);
  ds = scan_ok (root);
  g_assert_false (xl_dataset_resplit (ds, 0.2, 1, FALSE, NULL, &error));
  g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY);
  remove_tree (root);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scan/layout/splits", test_split_layout);
  g_test_add_func ("/scan/layout/flat", test_flat_layout);
  g_test_add_func ("/scan/layout/kaggle-folder", test_kaggle_folder);
  g_test_add_func ("/scan/layout/kaggle-zip", test_kaggle_zip);
  g_test_add_func ("/scan/layout/errors", test_layout_errors);
  g_test_add_func ("/scan/zip/bad-members", test_zip_bad_members);
  g_test_add_func ("/scan/bad/files", test_bad_files);
  g_test_add_func ("/scan/bad/symlink-loop", test_symlink_loop);
  g_test_add_func ("/scan/empty-split", test_empty_split);
  g_test_add_func ("/scan/progress-and-cancel", test_progress_and_cancel);
  g_test_add_func ("/scan/patients/ids", test_patient_ids);
  g_test_add_func ("/scan/patients/resplit", test_resplit);
  g_test_add_func ("/scan/patients/resplit-empty-train", test_resplit_empty_train);

  return g_test_run ();
}
