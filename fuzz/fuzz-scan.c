/* fuzz-scan.c — the data set scanner on generated folder trees.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is not a file but a little program that builds a tree in a
 * temporary folder: make a folder and enter it, leave it, write a file, make
 * a symlink or a FIFO. Names come from lists of what data sets hold (split and
 * class folders, Kermany file names) and of what breaks naive code (Unicode,
 * bytes that are not UTF-8, 255-byte names, folders nested past PATH_MAX,
 * spaces, newlines, hidden names), or straight from the input. Contents come
 * from templates (gray, RGB, CMYK and degenerate JPEGs, a PNG, truncated ones,
 * one with a trailer, one whose header claims 60000x60000, empty and text
 * files) or from the input. The tree is scanned as a folder or packed into a
 * zip and scanned as one; the scan may be cancelled from its progress
 * callback. A scanned data set is then checked, read and re-split.
 *
 * Input layout: byte 0 holds flags (1: zip, 2: keep the original val split,
 * 4: cancel), byte 1 the validation fraction and when to cancel, then
 * operations, one byte each plus their arguments, until the input ends.
 */
#include "fuzz-common.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "xl-dataset.h"
#include "xl-image.h"

#define MAX_ENTRIES 48
#define MAX_DEPTH 20

static char *root_path;   /* the temporary folder; each input builds root/t */

/* ---- templates ----------------------------------------------------------- */

typedef struct {
  guint8 *data;
  gsize len;
} Blob;

enum {
  T_GRAY, T_RGB, T_CMYK, T_ONE_PIXEL, T_TALL, T_TRUNCATED, T_TRAILER, T_HUGE,
  T_PNG, T_PNG_TRUNCATED, T_EMPTY, T_TEXT, N_TEMPLATES,
};

static Blob templates[N_TEMPLATES];

static const guint8 png_gray8[] = {
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
  0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x06, 0x08, 0x00, 0x00, 0x00, 0x00, 0xdb, 0x6e, 0x80,
  0x27, 0x00, 0x00, 0x00, 0x41, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x01, 0x36, 0x00, 0xc9, 0xff,
  0x00, 0x0e, 0x8f, 0xf1, 0x84, 0x63, 0xb0, 0xe4, 0xb2, 0x00, 0xba, 0x29, 0x70, 0x34, 0x74, 0xf0,
  0x64, 0xac, 0x00, 0x68, 0xf7, 0x00, 0xf5, 0xb0, 0x2b, 0x3d, 0xc6, 0x00, 0x66, 0xf4, 0x5b, 0xde,
  0xaa, 0x2c, 0xca, 0xed, 0x00, 0xcd, 0x2b, 0x51, 0x57, 0x41, 0x0e, 0x4d, 0xee, 0x00, 0x4a, 0xf2,
  0xb3, 0x4f, 0x43, 0x0a, 0x07, 0x34, 0xb9, 0x16, 0x17, 0xf9, 0x54, 0xfe, 0x2c, 0xdf, 0x00, 0x00,
  0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

static Blob
make_jpeg (int width, int height, int pixel_format, int subsamp)
{
  tjhandle tj = tjInitCompress ();
  int channels = tjPixelSize[pixel_format];
  g_autofree guint8 *pixels = g_new (guint8, (gsize) width * height * channels);
  unsigned char *jpeg = NULL;
  unsigned long jpeg_len = 0;
  Blob blob;

  for (gsize i = 0; i < (gsize) width * height * channels; i++)
    pixels[i] = (guint8) (i * 37 + (i / channels) * 11);
  if (tj == NULL
      || tjCompress2 (tj, pixels, width, 0, height, pixel_format, &jpeg, &jpeg_len, subsamp, 90,
                      0) != 0)
    g_error ("cannot make a template JPEG: %s", tjGetErrorStr2 (tj));
  blob.data = g_memdup2 (jpeg, jpeg_len);
  blob.len = jpeg_len;
  tjFree (jpeg);
  tjDestroy (tj);
  return blob;
}

static void
make_templates (void)
{
  Blob gray = make_jpeg (24, 20, TJPF_GRAY, TJSAMP_GRAY);
  const char *text = "this is not an image\n";

  templates[T_GRAY] = gray;
  templates[T_RGB] = make_jpeg (32, 24, TJPF_RGB, TJSAMP_420);
  templates[T_CMYK] = make_jpeg (16, 16, TJPF_CMYK, TJSAMP_444);
  templates[T_ONE_PIXEL] = make_jpeg (1, 1, TJPF_GRAY, TJSAMP_GRAY);
  templates[T_TALL] = make_jpeg (4, 200, TJPF_GRAY, TJSAMP_GRAY);
  templates[T_TRUNCATED] = (Blob) { g_memdup2 (gray.data, gray.len / 2), gray.len / 2 };
  templates[T_TRAILER].len = gray.len + 32;
  templates[T_TRAILER].data = g_malloc0 (templates[T_TRAILER].len);
  memcpy (templates[T_TRAILER].data, gray.data, gray.len);
  memcpy (templates[T_TRAILER].data + gray.len, "a trailer after the end marker", 30);
  /* The same JPEG whose frame header claims 60000x60000: a decompression bomb. */
  templates[T_HUGE] = (Blob) { g_memdup2 (gray.data, gray.len), gray.len };
  for (gsize i = 0; i + 9 < gray.len; i++)
    if (gray.data[i] == 0xff && gray.data[i + 1] == 0xc0)
      {
        templates[T_HUGE].data[i + 5] = 0xea;
        templates[T_HUGE].data[i + 6] = 0x60;
        templates[T_HUGE].data[i + 7] = 0xea;
        templates[T_HUGE].data[i + 8] = 0x60;
        break;
      }
  templates[T_PNG] = (Blob) { g_memdup2 (png_gray8, sizeof png_gray8), sizeof png_gray8 };
  templates[T_PNG_TRUNCATED] = (Blob) { g_memdup2 (png_gray8, 60), 60 };
  templates[T_EMPTY] = (Blob) { g_malloc0 (1), 0 };
  templates[T_TEXT] = (Blob) { g_memdup2 (text, strlen (text)), strlen (text) };
}

/* ---- reading the program ------------------------------------------------ */

typedef struct {
  const uint8_t *data;
  size_t size, pos;
} Input;

static guint
next (Input *in)
{
  return in->pos < in->size ? in->data[in->pos++] : 0;
}

static const char *const split_names[] = {
  "train", "val", "test", "TRAIN", "Val", "testing", "validation", "chest_xray",
};
static const char *const class_names[] = {
  "NORMAL", "PNEUMONIA", "COVID", "normal", "Pneumonia", "NORMAL ", "__MACOSX", "x",
};
static const char *const stems[] = {
  "person1017_bacteria_2948", "IM-0115-0001", "NORMAL2-IM-0372-0001", "person1_virus_6",
  "person", "IM-", "IM-0001-", "personX_1",
};
static const char *const unicode_names[] = {
  "肺炎", "été", "Ωmega", "😷 film", "e\xcc\x81t\xc3\xa9", "\xe2\x80\xaegpj.txt", "ä/ö", "ﬁle",
};
static const char *const bad_utf8[] = {
  "\xff\xfe", "\xc3\x28", "lat\xe9n", "\xed\xa0\x80surrogate", "\x80", "\xf8\x88\x80\x80\x80",
  "caf\xe9 \xff", "\xc0\xaf",
};
static const char *const odd_names[] = {
  " ", "a b", "new\nline", "tab\tx", "-dash", "..x", ".hidden", "*?[",
  "back\\slash", "%s%n%x", "'quote\"", "CON", "~", "$HOME", "a:b", "nul",
};
static const char *const extensions[] = {
  ".jpeg", ".jpg", ".JPG", ".png", ".PNG", ".bmp", ".txt", "", ".jpeg.tmp", ".jpg ", ".Jpeg",
  ".dcm", ".", ".gif",
};

/* A name for a folder (with_ext FALSE) or a file; never "", "." or "..",
 * never with '/' or NUL. At most 255 bytes. */
static char *
make_name (Input *in, gboolean with_ext)
{
  GString *name = g_string_new (NULL);
  guint kind = next (in);
  guint pick = next (in);
  const char *ext = with_ext ? extensions[next (in) % G_N_ELEMENTS (extensions)] : "";

  switch (kind % 8)
    {
    case 0:
      g_string_append (name, split_names[pick % G_N_ELEMENTS (split_names)]);
      break;
    case 1:
      g_string_append (name, class_names[pick % G_N_ELEMENTS (class_names)]);
      break;
    case 2:
      g_string_append (name, stems[pick % G_N_ELEMENTS (stems)]);
      break;
    case 3:
      g_string_append (name, unicode_names[pick % G_N_ELEMENTS (unicode_names)]);
      break;
    case 4:
      g_string_append (name, bad_utf8[pick % G_N_ELEMENTS (bad_utf8)]);
      break;
    case 5:
      {
        /* as long as a name may be (NAME_MAX), or one byte under */
        gsize len = 254 + (pick & 1) - strlen (ext);
        while (name->len < len)
          g_string_append_c (name, "abcdefghIJ_-0123456789"[(name->len + pick) % 22]);
      }
      break;
    case 6:
      g_string_append (name, odd_names[pick % G_N_ELEMENTS (odd_names)]);
      break;
    default:
      {
        guint len = 1 + pick % 24;
        for (guint i = 0; i < len; i++)
          {
            guint c = next (in);
            g_string_append_c (name, c == '/' || c == 0 ? '_' : (char) c);
          }
      }
      break;
    }
  /* "a/b" in a list is two levels: keep one */
  for (gsize i = 0; i < name->len; i++)
    if (name->str[i] == '/')
      name->str[i] = '_';
  if (strcmp (name->str, ".") == 0 || strcmp (name->str, "..") == 0)
    g_string_append_c (name, '_');
  g_string_append (name, ext);
  if (name->len > 255)
    g_string_truncate (name, 255);
  return g_string_free (name, FALSE);
}

/* ---- building the tree ---------------------------------------------------- */

typedef struct {
  char *rel;        /* relative to the tree's top, '/'-separated */
  gboolean is_dir;
  Blob content;     /* files: borrowed from templates or owned (owned_data) */
  guint8 *owned_data;
} Made;

static void
made_clear (gpointer data)
{
  Made *made = data;

  g_free (made->rel);
  g_free (made->owned_data);
}

static gboolean
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static char *
rel_join (const char *dir, const char *name)
{
  return dir[0] != '\0' ? g_strconcat (dir, "/", name, NULL) : g_strdup (name);
}

/* Builds the tree under top_fd and records files and folders in made. */
static void
build_tree (Input *in, int top_fd, GArray *made)
{
  int fds[MAX_DEPTH + 1];
  char *rels[MAX_DEPTH + 1];
  guint depth = 0, entries = 0;

  fds[0] = top_fd;
  rels[0] = g_strdup ("");
  while (in->pos < in->size && entries < MAX_ENTRIES)
    {
      guint op = next (in) % 10;
      g_autofree char *name = NULL;
      int fd;

      entries++;
      switch (op)
        {
        case 0:
        case 1:
        case 2:
          /* a folder, entered */
          name = make_name (in, FALSE);
          if (depth == MAX_DEPTH)
            break;
          if (mkdirat (fds[depth], name, 0755) != 0 && errno != EEXIST)
            break;
          fd = openat (fds[depth], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            break;
          fds[depth + 1] = fd;
          rels[depth + 1] = rel_join (rels[depth], name);
          depth++;
          {
            Made m = { g_strdup (rels[depth]), TRUE, { NULL, 0 }, NULL };
            g_array_append_val (made, m);
          }
          break;
        case 3:
          /* up a level, or several */
          for (guint up = 1 + next (in) % 3; up > 0 && depth > 0; up--, depth--)
            {
              close (fds[depth]);
              g_free (rels[depth]);
            }
          break;
        case 4:
        case 5:
        case 6:
        case 7:
          {
            guint t = next (in);
            Made m = { NULL, FALSE, { NULL, 0 }, NULL };

            name = make_name (in, TRUE);
            if (t % (N_TEMPLATES + 2) < N_TEMPLATES)
              m.content = templates[t % (N_TEMPLATES + 2)];
            else
              {
                /* from the input: a mutated template, or anything */
                guint len = next (in) | (next (in) << 8);
                len = MIN (len % 4096, in->size - in->pos);
                m.owned_data = g_malloc0 (len + 1);
                memcpy (m.owned_data, in->data + in->pos, len);
                m.content = (Blob) { m.owned_data, len };
                in->pos += len;
              }
            fd = openat (fds[depth], name,
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                         0644);
            if (fd < 0 || !write_all (fd, m.content.data, m.content.len))
              {
                if (fd >= 0)
                  close (fd);
                g_free (m.owned_data);
                break;
              }
            close (fd);
            m.rel = rel_join (rels[depth], name);
            g_array_append_val (made, m);
          }
          break;
        case 8:
          {
            /* a symlink: a loop, a device, or dangling; never out of the
             * tree (a link to / would have the scan walk the whole disk) */
            static const char *const targets[] = {
              ".", "nowhere.jpeg", "/dev/zero", "/dev/null", "..", "../..", "../../..",
            };
            guint t = next (in), pick = t % G_N_ELEMENTS (targets);
            name = make_name (in, t & 8);
            if (pick >= 4 && pick - 3 > depth)
              pick = 0;
            (void) symlinkat (targets[pick], fds[depth], name);
          }
          break;
        default:
          /* a FIFO named like an image: opening it to read would block */
          name = make_name (in, TRUE);
          (void) mkfifoat (fds[depth], name, 0644);
          break;
        }
    }
  for (; depth > 0; depth--)
    {
      close (fds[depth]);
      g_free (rels[depth]);
    }
  g_free (rels[0]);
}

/* Removes everything below dir_fd (which it closes), however deep. */
static void
remove_below (int dir_fd)
{
  DIR *dir = fdopendir (dir_fd);
  struct dirent *d;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (dir == NULL)
    {
      close (dir_fd);
      return;
    }
  while ((d = readdir (dir)) != NULL)
    if (strcmp (d->d_name, ".") != 0 && strcmp (d->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (d->d_name));
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      if (unlinkat (dirfd (dir), name, 0) == 0)
        continue;
      int child = openat (dirfd (dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0)
        remove_below (child);
      (void) unlinkat (dirfd (dir), name, AT_REMOVEDIR);
    }
  closedir (dir);
}

/* The same tree as a zip: folders and files (not links or FIFOs). */
static gboolean
write_zip (const char *path, GArray *made, gboolean deflate)
{
  struct archive *a = archive_write_new ();
  gboolean ok = TRUE;

  archive_write_set_format_zip (a);
  if (!deflate)
    archive_write_zip_set_compression_store (a);
  if (archive_write_open_filename (a, path) != ARCHIVE_OK)
    {
      archive_write_free (a);
      return FALSE;
    }
  for (guint i = 0; i < made->len && ok; i++)
    {
      const Made *m = &g_array_index (made, Made, i);
      struct archive_entry *e = archive_entry_new ();

      archive_entry_set_pathname (e, m->rel);
      archive_entry_set_filetype (e, m->is_dir ? AE_IFDIR : AE_IFREG);
      archive_entry_set_perm (e, m->is_dir ? 0755 : 0644);
      archive_entry_set_size (e, m->is_dir ? 0 : (la_int64_t) m->content.len);
      if (archive_write_header (a, e) != ARCHIVE_OK)
        ok = archive_errno (a) != 0 ? FALSE : TRUE;   /* an odd name: skip it */
      else if (!m->is_dir && m->content.len > 0)
        ok = archive_write_data (a, m->content.data, m->content.len) >= 0;
      archive_entry_free (e);
    }
  if (archive_write_close (a) != ARCHIVE_OK)
    ok = FALSE;
  archive_write_free (a);
  return ok;
}

/* ---- scanning and checking ------------------------------------------------- */

typedef struct {
  GCancellable *cancellable;
  guint calls, cancel_at;
  double last_fraction;
} Progress;

static void
on_progress (double fraction, const char *what, gpointer user_data)
{
  Progress *p = user_data;

  g_assert (what != NULL);
  g_assert (fraction >= 0 && fraction <= 1);
  if (++p->calls == p->cancel_at && p->cancellable != NULL)
    g_cancellable_cancel (p->cancellable);
}

static void
check_dataset (XlDataset *ds, Input *in, guint flags, guint fraction_byte)
{
  guint n = xl_dataset_n_images (ds), nc = xl_dataset_n_classes (ds), total = 0;

  g_assert (nc >= 1);
  for (guint c = 0; c < nc; c++)
    g_assert (xl_dataset_class_name (ds, c) != NULL);
  for (guint i = 0; i < n; i++)
    {
      const XlImageEntry *e = xl_dataset_image (ds, i);
      g_assert (e->path != NULL && e->name != NULL && e->patient != NULL);
      g_assert (e->class_index < nc);
      g_assert (e->split < XL_N_SPLITS);
      g_assert (e->width > 0 && e->height > 0);
      g_free (xl_patient_id (e->path));
    }
  for (int s = 0; s < XL_N_SPLITS; s++)
    {
      guint k;
      const guint *idx = xl_dataset_split_indices (ds, s, &k);
      for (guint i = 0; i < k; i++)
        g_assert (idx[i] < n);
      total += k;
      (void) xl_dataset_count_patients (ds, s, G_MAXUINT);
      g_autoptr (GError) error = NULL;
      if (!xl_dataset_require_split (ds, s, &error))
        g_assert (error != NULL && k == 0);
    }
  g_assert (total == n);
  for (guint i = 0; i < xl_dataset_n_skipped (ds); i++)
    {
      const XlSkippedFile *f = xl_dataset_skipped (ds, i);
      g_assert (f->path != NULL && f->reason != NULL);
    }

  /* read and decode a few films, as the cache would */
  for (guint i = 0; i < MIN (n, 4); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = xl_dataset_read (ds, (i * 7 + next (in)) % n, &error);
      if (bytes == NULL)
        {
          g_assert (error != NULL);
          continue;
        }
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      g_autoptr (XlImage) img = xl_image_decode_short_side (data, len, 16, "f", NULL, &error);
      g_assert ((img == NULL) == (error != NULL));
    }

  /* re-split twice: the second starts again from the scanned splits */
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree XlResplitReport *report = g_new0 (XlResplitReport, nc);
      double fraction = 0.05 + (fraction_byte % 9) * 0.1;
      guint n_train = 0;

      xl_dataset_split_indices (ds, XL_SPLIT_TRAIN, &n_train);
      if (!xl_dataset_resplit (ds, fraction, next (in) + round, flags & 2, report, &error))
        {
          g_assert_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY);
          continue;
        }
      /* no patient on both sides */
      g_autoptr (GHashTable) side = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < n; i++)
        {
          const XlImageEntry *e = xl_dataset_image (ds, i);
          if (e->scanned_split != XL_SPLIT_TRAIN)
            continue;
          g_assert (e->split == XL_SPLIT_TRAIN || e->split == XL_SPLIT_VAL);
          gpointer seen = g_hash_table_lookup (side, e->patient);
          if (seen != NULL)
            g_assert (GPOINTER_TO_UINT (seen) == e->split + 1);
          else
            g_hash_table_insert (side, e->patient, GUINT_TO_POINTER (e->split + 1));
        }
    }
}

static void
remove_root (void)
{
  (void) rmdir (root_path);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  root_path = g_dir_make_tmp ("xl-fuzz-scan-XXXXXX", NULL);
  g_assert (root_path != NULL);
  atexit (remove_root);
  make_templates ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Input in = { data, size, 0 };
  guint flags = next (&in), fraction_byte = next (&in);
  g_autoptr (GArray) made = g_array_new (FALSE, TRUE, sizeof (Made));
  g_autofree char *tree = g_build_filename (root_path, "t", NULL);
  g_autofree char *zip = g_build_filename (root_path, "t.zip", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (XlDataset) ds = NULL;
  Progress progress = { NULL, 0, 0, 0 };
  int root_fd, top_fd;

  g_array_set_clear_func (made, made_clear);
  root_fd = open (root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert (root_fd >= 0);
  if (mkdirat (root_fd, "t", 0755) != 0)
    g_error ("%s: %s (left over from an earlier input?)", tree, g_strerror (errno));
  top_fd = openat (root_fd, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert (top_fd >= 0);
  build_tree (&in, top_fd, made);

  if (flags & 4)
    {
      progress.cancellable = cancellable;
      progress.cancel_at = 1 + fraction_byte / 16;
    }
  if (flags & 1)
    {
      if (write_zip (zip, made, flags & 8))
        ds = xl_dataset_scan (zip, on_progress, &progress, cancellable, &error);
    }
  else
    ds = xl_dataset_scan (tree, on_progress, &progress, cancellable, &error);

  if (g_getenv ("XL_FUZZ_VERBOSE") != NULL)
    {
      g_printerr ("%u entries made; %s\n", made->len,
                  ds != NULL ? "scanned" : error != NULL ? error->message : "no zip");
      for (guint i = 0; ds != NULL && i < xl_dataset_n_images (ds); i++)
        g_printerr ("  %s %s class %u: %s\n", xl_split_name (xl_dataset_image (ds, i)->split),
                    xl_dataset_class_name (ds, xl_dataset_image (ds, i)->class_index),
                    xl_dataset_image (ds, i)->class_index, xl_dataset_image (ds, i)->path);
      for (guint i = 0; ds != NULL && i < xl_dataset_n_skipped (ds); i++)
        g_printerr ("  skipped %s: %s\n", xl_dataset_skipped (ds, i)->path,
                    xl_dataset_skipped (ds, i)->reason);
    }

  if (ds == NULL)
    {
      /* a zip that could not be written is not the scanner's fault */
      if (error != NULL)
        {
          g_assert (error->message != NULL);
          g_assert (error->domain == XL_DATASET_ERROR
                    || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
        }
    }
  else
    {
      g_assert (error == NULL);
      check_dataset (ds, &in, flags, fraction_byte);
    }

  g_clear_pointer (&ds, xl_dataset_unref);
  (void) unlinkat (root_fd, "t.zip", 0);
  remove_below (top_fd);
  if (unlinkat (root_fd, "t", AT_REMOVEDIR) != 0)
    g_error ("cannot remove %s: %s", tree, g_strerror (errno));
  close (root_fd);
  return 0;
}
