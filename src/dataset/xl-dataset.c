/* xl-dataset.c — scanning a labelled folder or zip, patients, re-splits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A scan runs in three steps:
 *  1. list: walk the folder (following symlinks, each folder once, so a loop
 *     ends) or the zip's directory (libarchive, nothing unpacked), keeping the
 *     files with an image extension; hidden names and __MACOSX are ignored;
 *  2. lay out: find the deepest folder holding train/ val/ test/ with class
 *     folders (the Kaggle zip has chest_xray/ twice), or else a folder of
 *     class folders; the classes must be the same in every split;
 *  3. probe: read each file's header (size, channels) and check its end, so
 *     truncated and fake images are skipped with a reason, not found later.
 *     Nothing is decoded unless a file has no end marker.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn-rng.h"
#include "xl-dataset-private.h"
#include "xl-image.h"

/* A JPEG's markers (EXIF, ICC profile) nearly always fit in this (the
 * Kermany films' longest header is 14 KB); a longer one costs a full read. */
#define HEAD_BYTES (32 * 1024)
#define TAIL_BYTES 64
#define MAX_FILE_BYTES ((guint64) 512 * 1024 * 1024)
#define MAX_DEPTH 32
#define MAX_ZIP_CURSORS 4

G_DEFINE_QUARK (xl-dataset-error-quark, xl_dataset_error)

typedef struct {
  struct archive *archive;
  gint64 next;                 /* position of the member the next header reads */
} ZipCursor;

struct _XlDataset {
  gatomicrefcount ref_count;
  char *path;
  char *root;
  gboolean has_splits;
  gboolean is_archive;
  GPtrArray *classes;          /* char * */
  GArray *images;              /* XlImageEntry, sorted (split, class, name, path) */
  GArray *members;             /* gint64 per image: position in the zip, -1 on disk */
  GArray *skipped;             /* XlSkippedFile */
  guint skipped_in_split[XL_N_SPLITS];
  GArray *split_indices[XL_N_SPLITS];   /* guint */
  GArray *ignored;             /* guint */
  guint *counts;               /* (XL_N_SPLITS, n_classes) */
  GMutex zip_lock;
  GPtrArray *zip_cursors;      /* ZipCursor *, idle ones */
};

const char *
xl_split_name (XlSplit split)
{
  switch (split)
    {
    case XL_SPLIT_TRAIN: return "train";
    case XL_SPLIT_VAL: return "val";
    case XL_SPLIT_TEST: return "test";
    case XL_N_SPLITS:
    default: return "none";
    }
}

/* ---- Patients ------------------------------------------------------------ */

static const char *
skip_digits (const char *p)
{
  while (g_ascii_isdigit (*p))
    p++;
  return p;
}

char *
xl_patient_id (const char *file_name)
{
  g_autofree char *base = NULL;
  const char *slash, *dot, *p;

  g_return_val_if_fail (file_name != NULL, NULL);

  slash = strrchr (file_name, '/');
  base = g_strdup (slash != NULL ? slash + 1 : file_name);
  dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    base[dot - base] = '\0';

  /* person1017_bacteria_2948 -> person1017 */
  if (g_str_has_prefix (base, "person") && g_ascii_isdigit (base[6]))
    {
      p = skip_digits (base + 6);
      if (*p == '_' || *p == '\0')
        return g_strndup (base, p - base);
    }

  /* IM-0115-0001 -> IM-0115, NORMAL2-IM-0372-0001 -> NORMAL2-IM-0372 */
  for (p = strstr (base, "IM-"); p != NULL; p = strstr (p + 1, "IM-"))
    {
      const char *end;

      if (p != base && p[-1] != '-')
        continue;
      if (!g_ascii_isdigit (p[3]))
        continue;
      end = skip_digits (p + 3);
      if (*end == '-' || *end == '\0')
        return g_strndup (base, end - base);
    }

  return g_steal_pointer (&base);
}

/* ---- Listing --------------------------------------------------------------- */

typedef struct {
  char *rel;          /* '/'-separated, relative to the folder or archive */
  char *raw;          /* the member's name as stored (archives only) */
  guint64 size;
  gint64 member;      /* position in the archive; -1 on disk */
  int error_number;   /* stat() failed with it (a dangling link) */
  gboolean irregular; /* a FIFO, a device, a socket */
} Listed;

static void
listed_free (Listed *listed)
{
  g_free (listed->rel);
  g_free (listed->raw);
  g_free (listed);
}

typedef struct _Node Node;
struct _Node {
  char *name;
  char *rel;
  guint depth;
  GHashTable *children;   /* name -> Node *, owned */
  GPtrArray *files;       /* Listed *, owned by the scan */
  guint n_below;          /* listed files at any depth below */
};

static void
node_free (Node *node)
{
  g_free (node->name);
  g_free (node->rel);
  g_hash_table_unref (node->children);
  g_ptr_array_unref (node->files);
  g_free (node);
}

static Node *
node_new (const char *name,
          const char *rel,
          guint       depth)
{
  Node *node = g_new0 (Node, 1);

  node->name = g_strdup (name);
  node->rel = g_strdup (rel);
  node->depth = depth;
  node->children = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) node_free);
  node->files = g_ptr_array_new ();
  return node;
}

static Node *
node_child (Node       *node,
            const char *name)
{
  Node *child = g_hash_table_lookup (node->children, name);

  if (child == NULL)
    {
      g_autofree char *rel = node->rel[0] ? g_strconcat (node->rel, "/", name, NULL)
                                          : g_strdup (name);

      child = node_new (name, rel, node->depth + 1);
      g_hash_table_insert (node->children, child->name, child);
    }
  return child;
}

static int
compare_nodes (gconstpointer a,
               gconstpointer b)
{
  const Node *na = *(Node *const *) a, *nb = *(Node *const *) b;

  return strcmp (na->name, nb->name);
}

/* The children, sorted by name; with_files: only those with files below. */
static GPtrArray *
node_sorted_children (Node    *node,
                      gboolean with_files)
{
  GPtrArray *children = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, node->children);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Node *child = value;

      if (!with_files || child->n_below > 0)
        g_ptr_array_add (children, child);
    }
  g_ptr_array_sort (children, compare_nodes);
  return children;
}

typedef enum {
  NAME_OTHER,
  NAME_IMAGE,
  NAME_UNSUPPORTED,
} NameKind;

static NameKind
classify_name (const char *name)
{
  static const char *const images[] = { ".jpeg", ".jpg", ".png" };
  static const char *const others[] = { ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                                        ".ppm", ".pbm", ".dcm", ".dicom", ".jp2" };
  const char *dot = strrchr (name, '.');

  if (dot == NULL || dot == name)
    return NAME_OTHER;
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    if (g_ascii_strcasecmp (dot, images[i]) == 0)
      return NAME_IMAGE;
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    if (g_ascii_strcasecmp (dot, others[i]) == 0)
      return NAME_UNSUPPORTED;
  return NAME_OTHER;
}

gboolean
xl_is_image_file_name (const char *name)
{
  g_return_val_if_fail (name != NULL, FALSE);

  return classify_name (name) == NAME_IMAGE;
}

/* Hidden files and folders, and the resource forks macOS puts in zips. */
static gboolean
is_ignored_name (const char *name)
{
  return name[0] == '.' || strcmp (name, "__MACOSX") == 0;
}

typedef struct {
  const char *path;
  gboolean is_archive;
  XlProgressFunc progress;
  gpointer user_data;
  GCancellable *cancellable;
  GPtrArray *listed;           /* Listed *, owned */
  Node *top;
  GHashTable *visited;         /* "dev:ino" of the folders walked */
  GArray *skipped;             /* XlSkippedFile */
  double last_fraction;
  gint64 last_time;
} Scan;

static void
skipped_add (GArray     *skipped,
             const char *path,
             const char *reason)
{
  XlSkippedFile file = { g_strdup (path), g_strdup (reason) };

  g_array_append_val (skipped, file);
}

static void
skipped_clear (gpointer data)
{
  XlSkippedFile *file = data;

  g_free (file->path);
  g_free (file->reason);
}

static void
scan_progress (Scan       *scan,
               double      fraction,
               const char *what,
               gboolean    force)
{
  gint64 now = g_get_monotonic_time ();

  if (scan->progress == NULL)
    return;
  if (!force && now - scan->last_time < 50000 && fraction - scan->last_fraction < 0.01)
    return;
  scan->last_time = now;
  scan->last_fraction = fraction;
  scan->progress (fraction, what, scan->user_data);
}

static char *
scan_display_path (const Scan   *scan,
                   const Listed *listed)
{
  if (scan->is_archive)
    return g_strconcat (scan->path, "//", listed->raw, NULL);
  return g_build_filename (scan->path, listed->rel, NULL);
}

static void
scan_add_listed (Scan   *scan,
                 Listed *listed)
{
  g_auto (GStrv) parts = g_strsplit (listed->rel, "/", -1);
  guint n = g_strv_length (parts);
  Node *node = scan->top;

  node->n_below++;
  for (guint i = 0; i + 1 < n; i++)
    {
      node = node_child (node, parts[i]);
      node->n_below++;
    }
  g_ptr_array_add (node->files, listed);
  g_ptr_array_add (scan->listed, listed);
}

static void
scan_add_folder (Scan       *scan,
                 const char *rel)
{
  g_auto (GStrv) parts = g_strsplit (rel, "/", -1);
  Node *node = scan->top;

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      node = node_child (node, parts[i]);
}

static gboolean
scan_cancelled (Scan    *scan,
                GError **error)
{
  return g_cancellable_set_error_if_cancelled (scan->cancellable, error);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
walk_folder (Scan       *scan,
             const char *abs_dir,
             const char *rel_dir,
             guint       depth,
             GError    **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *dirent;
  DIR *dir;

  if (depth > MAX_DEPTH)
    {
      /* not silently: its films would be missing with no word why */
      skipped_add (scan->skipped, abs_dir, "nested too deep (more than 32 folders): not read");
      return TRUE;
    }

  dir = opendir (abs_dir);
  if (dir == NULL)
    {
      int saved = errno;

      if (depth == 0)
        {
          g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO, "%s: cannot open (%s)",
                       abs_dir, g_strerror (saved));
          return FALSE;
        }
      {
        g_autofree char *reason = g_strdup_printf ("cannot open folder (%s)", g_strerror (saved));

        skipped_add (scan->skipped, abs_dir, reason);
      }
      return TRUE;
    }
  while ((dirent = readdir (dir)) != NULL)
    if (!is_ignored_name (dirent->d_name))
      g_ptr_array_add (names, g_strdup (dirent->d_name));
  closedir (dir);
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *abs = g_build_filename (abs_dir, name, NULL);
      g_autofree char *rel = rel_dir[0] ? g_strconcat (rel_dir, "/", name, NULL) : g_strdup (name);
      NameKind kind = classify_name (name);
      struct stat st;

      if (scan_cancelled (scan, error))
        return FALSE;

      if (stat (abs, &st) != 0)
        {
          int saved = errno;

          if (kind != NAME_OTHER)
            {
              Listed *listed = g_new0 (Listed, 1);

              listed->rel = g_steal_pointer (&rel);
              listed->member = -1;
              listed->error_number = saved;
              scan_add_listed (scan, listed);
            }
          else if (saved != ENOENT)
            {
              /* maybe a folder of films (a path past PATH_MAX, a link loop):
               * list it, or a whole class could vanish without a word */
              g_autofree char *reason = g_strdup_printf ("cannot read (%s)", g_strerror (saved));

              skipped_add (scan->skipped, abs, reason);
            }
          continue;
        }

      if (S_ISDIR (st.st_mode))
        {
          char *key = g_strdup_printf ("%ju:%ju", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);

          /* A folder reached twice (a symlink loop, or two links to it) is
           * walked once. */
          if (!g_hash_table_add (scan->visited, key))
            continue;
          scan_add_folder (scan, rel);
          if (!walk_folder (scan, abs, rel, depth + 1, error))
            return FALSE;
        }
      else if (kind != NAME_OTHER)
        {
          Listed *listed = g_new0 (Listed, 1);

          listed->rel = g_steal_pointer (&rel);
          listed->member = -1;
          listed->size = (guint64) st.st_size;
          listed->irregular = !S_ISREG (st.st_mode);
          scan_add_listed (scan, listed);
        }
    }
  return TRUE;
}

static struct archive *
zip_open (const char *path,
          GError    **error)
{
  struct archive *archive = archive_read_new ();

  archive_read_support_format_zip_seekable (archive);
  if (archive_read_open_filename (archive, path, 64 * 1024) != ARCHIVE_OK)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO, "%s: cannot open (%s)", path,
                   archive_error_string (archive));
      archive_read_free (archive);
      return NULL;
    }
  return archive;
}

/* "a//b/./c.jpeg" -> "a/b/c.jpeg"; NULL for names to ignore or with "..". */
static char *
normalize_member (const char *raw)
{
  g_auto (GStrv) parts = g_strsplit (raw, "/", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0 || is_ignored_name (parts[i]))
        return NULL;
      g_ptr_array_add (kept, parts[i]);
    }
  if (kept->len == 0)
    return NULL;
  g_ptr_array_add (kept, NULL);
  return g_strjoinv ("/", (char **) kept->pdata);
}

static gboolean
list_zip (Scan    *scan,
          GError **error)
{
  struct archive *archive = zip_open (scan->path, error);
  struct archive_entry *entry;
  /* A zip can hold two members with one name (appended by a second "zip
   * -u" or by hand): the first is read, later ones are skipped, so that one
   * film never counts twice. */
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gint64 member;
  gboolean ok = TRUE;

  if (archive == NULL)
    return FALSE;

  for (member = 0;; member++)
    {
      g_autofree char *rel = NULL;
      const char *raw, *base;
      int status = archive_read_next_header (archive, &entry);

      if (status == ARCHIVE_EOF)
        break;
      if (status < ARCHIVE_WARN)
        {
          g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO,
                       "%s: not a zip archive, or a damaged one (%s)", scan->path,
                       archive_error_string (archive));
          ok = FALSE;
          break;
        }
      if ((member & 255) == 0 && scan_cancelled (scan, error))
        {
          ok = FALSE;
          break;
        }

      raw = archive_entry_pathname (entry);
      if (raw == NULL || (rel = normalize_member (raw)) == NULL)
        continue;

      if (archive_entry_filetype (entry) == AE_IFDIR)
        {
          scan_add_folder (scan, rel);
          continue;
        }
      base = strrchr (rel, '/');
      base = base != NULL ? base + 1 : rel;
      if (archive_entry_filetype (entry) != AE_IFREG || classify_name (base) == NAME_OTHER)
        continue;
      if (!g_hash_table_add (seen, g_strdup (rel)))
        {
          g_autofree char *shown = g_strconcat (scan->path, "//", raw, NULL);
          skipped_add (scan->skipped, shown,
                       "a second zip member with the same name: only the first is read");
          continue;
        }

      {
        Listed *listed = g_new0 (Listed, 1);

        listed->rel = g_steal_pointer (&rel);
        listed->raw = g_strdup (raw);
        listed->member = member;
        listed->size = archive_entry_size_is_set (entry) ? (guint64) archive_entry_size (entry) : 0;
        scan_add_listed (scan, listed);
      }
    }
  archive_read_free (archive);
  return ok;
}

/* ---- Layout ---------------------------------------------------------------- */

typedef struct {
  Listed *listed;
  XlSplit split;
  guint class_index;
} Selected;

static int
split_from_name (const char *name)
{
  if (g_ascii_strcasecmp (name, "train") == 0)
    return XL_SPLIT_TRAIN;
  if (g_ascii_strcasecmp (name, "val") == 0)
    return XL_SPLIT_VAL;
  if (g_ascii_strcasecmp (name, "test") == 0)
    return XL_SPLIT_TEST;
  return -1;
}

static gboolean
node_has_split_layout (Node *node)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, node->children);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Node *child = value;
      GHashTableIter inner;
      gpointer grandchild;

      if (split_from_name (child->name) < 0)
        continue;
      g_hash_table_iter_init (&inner, child->children);
      while (g_hash_table_iter_next (&inner, NULL, &grandchild))
        if (((Node *) grandchild)->n_below > 0)
          return TRUE;
    }
  return FALSE;
}

/* The deepest folder with the split layout; among equals, the one with more
 * files, then the first by name. */
static void
find_split_root (Node  *node,
                 Node **best)
{
  g_autoptr (GPtrArray) children = NULL;

  if (node_has_split_layout (node))
    {
      if (*best == NULL || node->depth > (*best)->depth
          || (node->depth == (*best)->depth && node->n_below > (*best)->n_below))
        *best = node;
    }
  children = node_sorted_children (node, TRUE);
  for (guint i = 0; i < children->len; i++)
    find_split_root (children->pdata[i], best);
}

static void
collect_below (Node      *node,
               XlSplit    split,
               guint      class_index,
               GArray    *selected)
{
  g_autoptr (GPtrArray) children = node_sorted_children (node, TRUE);

  for (guint i = 0; i < node->files->len; i++)
    {
      Selected s = { node->files->pdata[i], split, class_index };

      g_array_append_val (selected, s);
    }
  for (guint i = 0; i < children->len; i++)
    collect_below (children->pdata[i], split, class_index, selected);
}

static void
skip_loose_files (Scan   *scan,
                  Node   *node,
                  GArray *not_in_class)
{
  for (guint i = 0; i < node->files->len; i++)
    g_array_append_val (not_in_class, node->files->pdata[i]);
}

static char *
join_names (GPtrArray *nodes)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < nodes->len; i++)
    g_string_append_printf (out, "%s%s", i ? ", " : "", ((Node *) nodes->pdata[i])->name);
  if (nodes->len == 0)
    g_string_append (out, "no class");
  return g_string_free (out, FALSE);
}

/* Fills classes (char *) and selected (Selected); loose files (Listed *) go
 * to not_in_class. */
static gboolean
lay_out (Scan       *scan,
         XlDataset  *ds,
         GArray     *selected,
         GArray     *not_in_class,
         GError    **error)
{
  Node *root = NULL;
  Node *split_nodes[XL_N_SPLITS] = { NULL };
  GPtrArray *split_classes[XL_N_SPLITS] = { NULL };
  GPtrArray *classes = NULL;
  gboolean ok = TRUE;

  if (scan->top->n_below == 0)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_LAYOUT,
                   "%s: no JPEG or PNG images found", scan->path);
      return FALSE;
    }

  find_split_root (scan->top, &root);
  if (root != NULL)
    {
      g_autoptr (GPtrArray) children = node_sorted_children (root, FALSE);
      int reference = -1;

      for (guint i = 0; i < children->len; i++)
        {
          Node *child = children->pdata[i];
          int split = split_from_name (child->name);

          if (split < 0)
            continue;
          if (split_nodes[split] != NULL)
            {
              g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_LAYOUT,
                           "%s: two folders for the %s split (%s and %s)", scan->path,
                           xl_split_name (split), split_nodes[split]->name, child->name);
              return FALSE;
            }
          split_nodes[split] = child;
        }

      for (int s = 0; s < XL_N_SPLITS; s++)
        {
          if (split_nodes[s] == NULL)
            continue;
          skip_loose_files (scan, split_nodes[s], not_in_class);
          ds->skipped_in_split[s] += split_nodes[s]->files->len;
          split_classes[s] = node_sorted_children (split_nodes[s], TRUE);
          if (split_classes[s]->len == 0)
            continue;   /* an empty split folder: no images in that split */
          if (reference < 0)
            {
              reference = s;
              continue;
            }
          {
            gboolean same = split_classes[s]->len == split_classes[reference]->len;

            for (guint c = 0; same && c < split_classes[s]->len; c++)
              same = strcmp (((Node *) split_classes[s]->pdata[c])->name,
                             ((Node *) split_classes[reference]->pdata[c])->name) == 0;
            if (!same)
              {
                g_autofree char *a = join_names (split_classes[reference]);
                g_autofree char *b = join_names (split_classes[s]);

                g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_LAYOUT,
                             "%s: the classes differ between splits: %s has %s; %s has %s",
                             scan->path, xl_split_name (reference), a, xl_split_name (s), b);
                ok = FALSE;
                goto out;
              }
          }
        }
      g_assert (reference >= 0);
      classes = g_ptr_array_ref (split_classes[reference]);
      for (int s = 0; s < XL_N_SPLITS; s++)
        for (guint c = 0; split_classes[s] != NULL && c < split_classes[s]->len; c++)
          collect_below (split_classes[s]->pdata[c], s, c, selected);
      ds->has_splits = TRUE;
    }
  else
    {
      Node *node = scan->top;

      for (;;)
        {
          g_autoptr (GPtrArray) children = node_sorted_children (node, TRUE);

          if (node->files->len > 0 || children->len != 1)
            break;
          node = children->pdata[0];
        }
      classes = node_sorted_children (node, TRUE);
      if (classes->len == 0)
        {
          g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_LAYOUT,
                       "%s: no class folders (expected train/, val/ and test/ with one "
                       "folder per class in each, or one folder per class)", scan->path);
          ok = FALSE;
          goto out;
        }
      skip_loose_files (scan, node, not_in_class);
      for (guint c = 0; c < classes->len; c++)
        collect_below (classes->pdata[c], XL_SPLIT_TRAIN, c, selected);
      root = node;
      ds->has_splits = FALSE;
    }

  ds->root = g_strdup (root->rel);
  /* Class names are labels in JSON, CSV and safetensors metadata, which must
   * be UTF-8: a folder name that is not shows U+FFFD for its bad bytes. (The
   * films' paths keep the folder's own bytes.) */
  for (guint c = 0; c < classes->len; c++)
    g_ptr_array_add (ds->classes, g_utf8_make_valid (((Node *) classes->pdata[c])->name, -1));

out:
  for (int s = 0; s < XL_N_SPLITS; s++)
    g_clear_pointer (&split_classes[s], g_ptr_array_unref);
  g_clear_pointer (&classes, g_ptr_array_unref);
  return ok;
}

/* ---- Probing --------------------------------------------------------------- */

/* A file on disk (fd) or an archive member in memory (data). */
typedef struct {
  int fd;
  const guint8 *data;
  guint64 size;
} Source;

static gboolean
pread_full (int      fd,
            guint8  *buf,
            gsize    len,
            guint64  offset)
{
  while (len > 0)
    {
      gssize n = pread (fd, buf, len, (off_t) offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          errno = EIO;   /* the file shrank under us */
          return FALSE;
        }
      buf += n;
      len -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

/* Points *out at len bytes from offset; *owned is what to free. */
static gboolean
source_bytes (const Source  *src,
              guint64        offset,
              gsize          len,
              const guint8 **out,
              guint8       **owned,
              char         **reason)
{
  *owned = NULL;
  if (src->data != NULL)
    {
      *out = src->data + offset;
      return TRUE;
    }
  *owned = g_try_malloc (MAX (len, 1));
  if (*owned == NULL)
    {
      *reason = g_strdup ("out of memory");
      return FALSE;
    }
  if (!pread_full (src->fd, *owned, len, offset))
    {
      *reason = g_strdup_printf ("cannot read (%s)", g_strerror (errno));
      g_clear_pointer (owned, g_free);
      return FALSE;
    }
  *out = *owned;
  return TRUE;
}

/* Header, limits, end marker; a file without an end marker is decoded (at
 * 1/8 scale) to tell a truncated file from one with a trailer. */
static gboolean
probe_source (const Source *src,
              XlImageInfo  *info,
              char        **reason)
{
  g_autofree guint8 *head_owned = NULL, *tail_owned = NULL, *all_owned = NULL;
  const guint8 *head, *tail, *all = NULL;
  gsize head_len = (gsize) MIN (src->size, HEAD_BYTES);
  gsize tail_len = (gsize) MIN (src->size, TAIL_BYTES);
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (src->size == 0)
    {
      *reason = g_strdup ("empty file");
      return FALSE;
    }
  if (src->size > MAX_FILE_BYTES)
    {
      *reason = g_strdup_printf ("too large a file (%" G_GUINT64_FORMAT " MB)",
                                 src->size / 1000000);
      return FALSE;
    }

  if (!source_bytes (src, 0, head_len, &head, &head_owned, reason))
    return FALSE;
  ok = xl_image_read_info (head, head_len, NULL, info, &error);
  if (!ok && head_len < src->size && g_error_matches (error, XL_DATASET_ERROR,
                                                      XL_DATASET_ERROR_DECODE))
    {
      /* Markers longer than the head: try the whole file. */
      if (!source_bytes (src, 0, (gsize) src->size, &all, &all_owned, reason))
        return FALSE;
      g_clear_error (&error);
      ok = xl_image_read_info (all, (gsize) src->size, NULL, info, &error);
    }
  if (!ok)
    {
      *reason = g_strdup (error->message);
      return FALSE;
    }

  if (!source_bytes (src, src->size - tail_len, tail_len, &tail, &tail_owned, reason))
    return FALSE;
  if (!xl_image_has_end_marker (info->format, tail, tail_len))
    {
      g_autoptr (XlImage) img = NULL;

      if (all == NULL && !source_bytes (src, 0, (gsize) src->size, &all, &all_owned, reason))
        return FALSE;
      img = xl_image_decode (all, (gsize) src->size, 1, NULL, &error);
      if (img == NULL)
        {
          *reason = g_strdup (error->message);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
probe_disk_file (const char   *path,
                 const Listed *listed,
                 XlImageInfo  *info,
                 char        **reason)
{
  Source src = { -1, NULL, 0 };
  struct stat st;
  gboolean ok;

  if (listed->error_number != 0)
    {
      *reason = g_strdup_printf ("cannot read (%s)", g_strerror (listed->error_number));
      return FALSE;
    }
  if (listed->irregular)
    {
      *reason = g_strdup ("not a regular file");
      return FALSE;
    }
  /* O_NONBLOCK: a FIFO swapped in since the listing must not hang us. */
  src.fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (src.fd < 0)
    {
      *reason = g_strdup_printf ("cannot read (%s)", g_strerror (errno));
      return FALSE;
    }
  if (fstat (src.fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      *reason = g_strdup ("not a regular file");
      close (src.fd);
      return FALSE;
    }
  src.size = (guint64) st.st_size;
  ok = probe_source (&src, info, reason);
  close (src.fd);
  return ok;
}

typedef struct {
  XlImageEntry entry;
  gint64 member;
} ScannedImage;

static void
scanned_add (GArray             *scanned,
             Scan               *scan,
             const Selected     *sel,
             const XlImageInfo  *info)
{
  const char *rel = sel->listed->rel;
  const char *base = strrchr (rel, '/');
  ScannedImage image = { { 0 } };

  base = base != NULL ? base + 1 : rel;
  image.entry.path = scan_display_path (scan, sel->listed);
  image.entry.name = g_strdup (base);
  image.entry.patient = xl_patient_id (base);
  image.entry.class_index = sel->class_index;
  image.entry.split = sel->split;
  image.entry.scanned_split = sel->split;
  image.entry.width = info->width;
  image.entry.height = info->height;
  image.entry.channels = info->channels;
  image.entry.size = sel->listed->size;
  image.member = sel->listed->member;
  g_array_append_val (scanned, image);
}

static void
scan_skip (Scan           *scan,
           XlDataset      *ds,
           const Selected *sel,
           const char     *reason)
{
  g_autofree char *path = scan_display_path (scan, sel->listed);

  skipped_add (scan->skipped, path, reason);
  ds->skipped_in_split[sel->split]++;
}

static gboolean
probe_disk (Scan      *scan,
            XlDataset *ds,
            GArray    *selected,
            GArray    *scanned,
            GError   **error)
{
  for (guint i = 0; i < selected->len; i++)
    {
      const Selected *sel = &g_array_index (selected, Selected, i);
      g_autofree char *path = scan_display_path (scan, sel->listed);
      g_autofree char *reason = NULL;
      XlImageInfo info;

      if (scan_cancelled (scan, error))
        return FALSE;
      scan_progress (scan, (double) i / selected->len, path, FALSE);
      if (classify_name (path) == NAME_UNSUPPORTED)
        scan_skip (scan, ds, sel, "unsupported format: only JPEG and PNG are read");
      else if (!probe_disk_file (path, sel->listed, &info, &reason))
        scan_skip (scan, ds, sel, reason);
      else
        scanned_add (scanned, scan, sel, &info);
    }
  return TRUE;
}

static int
compare_selected_members (gconstpointer a,
                          gconstpointer b)
{
  gint64 ma = ((const Selected *) a)->listed->member, mb = ((const Selected *) b)->listed->member;

  return ma < mb ? -1 : ma > mb;
}

/* Reads the member the archive is positioned on (after its header) whole. */
static guint8 *
zip_read_member (struct archive       *archive,
                 struct archive_entry *entry,
                 guint64              *size,
                 char                **reason)
{
  gsize capacity, len = 0;
  g_autofree guint8 *buf = NULL;

  if (archive_entry_size_is_set (entry) && (guint64) archive_entry_size (entry) > MAX_FILE_BYTES)
    {
      *reason = g_strdup_printf ("too large a file (%" G_GINT64_FORMAT " MB)",
                                 (gint64) archive_entry_size (entry) / 1000000);
      return NULL;
    }
  capacity = archive_entry_size_is_set (entry) ? (gsize) archive_entry_size (entry) + 1 : 65536;
  buf = g_try_malloc (capacity);
  if (buf == NULL)
    {
      *reason = g_strdup ("out of memory");
      return NULL;
    }
  for (;;)
    {
      la_ssize_t n;

      if (len == capacity)
        {
          if (capacity >= MAX_FILE_BYTES)
            {
              *reason = g_strdup ("too large a file");
              return NULL;
            }
          capacity *= 2;
          buf = g_realloc (buf, capacity);
        }
      n = archive_read_data (archive, buf + len, capacity - len);
      if (n == 0)
        break;
      if (n < 0)
        {
          *reason = g_strdup_printf ("cannot read (%s)", archive_error_string (archive));
          return NULL;
        }
      len += (gsize) n;
    }
  *size = len;
  return g_steal_pointer (&buf);
}

static gboolean
probe_zip (Scan      *scan,
           XlDataset *ds,
           GArray    *selected,
           GArray    *scanned,
           GError   **error)
{
  struct archive *archive;
  struct archive_entry *entry = NULL;
  gint64 member = -1;
  gboolean ok = TRUE;

  if (selected->len == 0)
    return TRUE;
  archive = zip_open (scan->path, error);
  if (archive == NULL)
    return FALSE;

  /* One pass in archive order, reading only the selected members. */
  g_array_sort (selected, compare_selected_members);
  for (guint i = 0; i < selected->len && ok; i++)
    {
      const Selected *sel = &g_array_index (selected, Selected, i);
      g_autofree char *path = scan_display_path (scan, sel->listed);
      g_autofree guint8 *data = NULL;
      g_autofree char *reason = NULL;
      guint64 size = 0;
      XlImageInfo info;

      if (scan_cancelled (scan, error))
        {
          ok = FALSE;
          break;
        }
      scan_progress (scan, (double) i / selected->len, path, FALSE);

      while (member < sel->listed->member)
        {
          int status = archive_read_next_header (archive, &entry);

          member++;
          if (status == ARCHIVE_EOF || status < ARCHIVE_WARN)
            {
              g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO,
                           "%s: the archive changed or is damaged (%s)", scan->path,
                           status == ARCHIVE_EOF ? "ends early" : archive_error_string (archive));
              ok = FALSE;
              break;
            }
        }
      if (!ok)
        break;

      if (classify_name (path) == NAME_UNSUPPORTED)
        {
          scan_skip (scan, ds, sel, "unsupported format: only JPEG and PNG are read");
          continue;
        }
      data = zip_read_member (archive, entry, &size, &reason);
      if (data != NULL)
        {
          Source src = { -1, data, size };

          sel->listed->size = size;
          if (probe_source (&src, &info, &reason))
            {
              scanned_add (scanned, scan, sel, &info);
              continue;
            }
        }
      scan_skip (scan, ds, sel, reason);
    }
  archive_read_free (archive);
  return ok;
}

/* ---- The data set ---------------------------------------------------------- */

static void
image_entry_clear (gpointer data)
{
  XlImageEntry *entry = data;

  g_free (entry->path);
  g_free (entry->name);
  g_free (entry->patient);
}

static void
zip_cursor_free (gpointer data)
{
  ZipCursor *cursor = data;

  archive_read_free (cursor->archive);
  g_free (cursor);
}

static XlDataset *
dataset_new (const char *path)
{
  XlDataset *ds = g_new0 (XlDataset, 1);

  g_atomic_ref_count_init (&ds->ref_count);
  ds->path = g_strdup (path);
  ds->classes = g_ptr_array_new_with_free_func (g_free);
  ds->images = g_array_new (FALSE, TRUE, sizeof (XlImageEntry));
  g_array_set_clear_func (ds->images, image_entry_clear);
  ds->members = g_array_new (FALSE, TRUE, sizeof (gint64));
  ds->skipped = g_array_new (FALSE, TRUE, sizeof (XlSkippedFile));
  g_array_set_clear_func (ds->skipped, skipped_clear);
  for (int s = 0; s < XL_N_SPLITS; s++)
    ds->split_indices[s] = g_array_new (FALSE, FALSE, sizeof (guint));
  ds->ignored = g_array_new (FALSE, FALSE, sizeof (guint));
  g_mutex_init (&ds->zip_lock);
  ds->zip_cursors = g_ptr_array_new_with_free_func (zip_cursor_free);
  return ds;
}

XlDataset *
xl_dataset_ref (XlDataset *ds)
{
  g_return_val_if_fail (ds != NULL, NULL);

  g_atomic_ref_count_inc (&ds->ref_count);
  return ds;
}

void
xl_dataset_unref (XlDataset *ds)
{
  if (ds == NULL || !g_atomic_ref_count_dec (&ds->ref_count))
    return;

  g_free (ds->path);
  g_free (ds->root);
  g_ptr_array_unref (ds->classes);
  g_array_unref (ds->images);
  g_array_unref (ds->members);
  g_array_unref (ds->skipped);
  for (int s = 0; s < XL_N_SPLITS; s++)
    g_array_unref (ds->split_indices[s]);
  g_array_unref (ds->ignored);
  g_free (ds->counts);
  g_ptr_array_unref (ds->zip_cursors);
  g_mutex_clear (&ds->zip_lock);
  g_free (ds);
}

static int
compare_scanned (gconstpointer a,
                 gconstpointer b)
{
  const XlImageEntry *ea = &((const ScannedImage *) a)->entry;
  const XlImageEntry *eb = &((const ScannedImage *) b)->entry;
  int cmp;

  if (ea->split != eb->split)
    return ea->split < eb->split ? -1 : 1;
  if (ea->class_index != eb->class_index)
    return ea->class_index < eb->class_index ? -1 : 1;
  if ((cmp = strcmp (ea->name, eb->name)) != 0)
    return cmp;
  return strcmp (ea->path, eb->path);
}

static int
compare_skipped (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (((const XlSkippedFile *) a)->path, ((const XlSkippedFile *) b)->path);
}

/* Rebuilds the split index arrays and counts from each image's split. */
static void
dataset_index_splits (XlDataset *ds)
{
  guint n_classes = ds->classes->len;

  for (int s = 0; s < XL_N_SPLITS; s++)
    g_array_set_size (ds->split_indices[s], 0);
  g_array_set_size (ds->ignored, 0);
  g_free (ds->counts);
  ds->counts = g_new0 (guint, (gsize) XL_N_SPLITS * MAX (n_classes, 1));

  for (guint i = 0; i < ds->images->len; i++)
    {
      const XlImageEntry *entry = &g_array_index (ds->images, XlImageEntry, i);

      if (entry->split >= XL_N_SPLITS)
        {
          g_array_append_val (ds->ignored, i);
          continue;
        }
      g_array_append_val (ds->split_indices[entry->split], i);
      ds->counts[entry->split * n_classes + entry->class_index]++;
    }
}

XlDataset *
xl_dataset_scan (const char    *path,
                 XlProgressFunc progress,
                 gpointer       user_data,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (GArray) selected = g_array_new (FALSE, FALSE, sizeof (Selected));
  g_autoptr (GArray) not_in_class = g_array_new (FALSE, FALSE, sizeof (Listed *));
  g_autoptr (GArray) scanned = g_array_new (FALSE, FALSE, sizeof (ScannedImage));
  Scan scan = { 0 };
  struct stat st;
  gboolean ok = FALSE;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, XL_DATASET_ERROR,
                   saved == ENOENT || saved == ENOTDIR ? XL_DATASET_ERROR_NOT_FOUND
                                                       : XL_DATASET_ERROR_IO,
                   "%s: %s", path, g_strerror (saved));
      return NULL;
    }

  ds = dataset_new (path);
  scan.path = path;
  scan.progress = progress;
  scan.user_data = user_data;
  scan.cancellable = cancellable;
  scan.listed = g_ptr_array_new_with_free_func ((GDestroyNotify) listed_free);
  scan.top = node_new ("", "", 0);
  scan.visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  scan.skipped = ds->skipped;
  scan.last_time = G_MININT64;

  scan_progress (&scan, 0.0, path, TRUE);
  if (S_ISDIR (st.st_mode))
    {
      g_hash_table_add (scan.visited, g_strdup_printf ("%ju:%ju", (uintmax_t) st.st_dev,
                                                       (uintmax_t) st.st_ino));
      ok = walk_folder (&scan, path, "", 0, error);
    }
  else if (S_ISREG (st.st_mode))
    {
      scan.is_archive = ds->is_archive = TRUE;
      ok = list_zip (&scan, error);
    }
  else
    g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_LAYOUT,
                 "%s: neither a folder nor a .zip archive", path);

  if (ok && !lay_out (&scan, ds, selected, not_in_class, error))
    {
      ok = FALSE;
      /* a layout that looks wrong because folders could not be read */
      if (ds->skipped->len > 0 && error != NULL && *error != NULL)
        {
          const XlSkippedFile *first = &g_array_index (ds->skipped, XlSkippedFile, 0);
          char *message = g_strdup_printf ("%s (%u files or folders could not be read, such as "
                                           "%s: %s)", (*error)->message, ds->skipped->len,
                                           first->path, first->reason);

          g_free ((*error)->message);
          (*error)->message = message;
        }
    }
  if (ok)
    {
      for (guint i = 0; i < not_in_class->len; i++)
        {
          g_autofree char *loose = scan_display_path (&scan, g_array_index (not_in_class,
                                                                            Listed *, i));

          skipped_add (ds->skipped, loose, "not in a class folder");
        }
      ok = scan.is_archive ? probe_zip (&scan, ds, selected, scanned, error)
                           : probe_disk (&scan, ds, selected, scanned, error);
    }

  g_ptr_array_unref (scan.listed);
  node_free (scan.top);
  g_hash_table_unref (scan.visited);
  if (!ok)
    {
      for (guint i = 0; i < scanned->len; i++)
        image_entry_clear (&g_array_index (scanned, ScannedImage, i).entry);
      return NULL;
    }

  g_array_sort (scanned, compare_scanned);
  for (guint i = 0; i < scanned->len; i++)
    {
      ScannedImage *image = &g_array_index (scanned, ScannedImage, i);

      g_array_append_val (ds->images, image->entry);
      g_array_append_val (ds->members, image->member);
    }
  g_array_sort (ds->skipped, compare_skipped);
  dataset_index_splits (ds);
  scan_progress (&scan, 1.0, path, TRUE);

  return g_steal_pointer (&ds);
}

const char *
xl_dataset_path (const XlDataset *ds)
{
  g_return_val_if_fail (ds != NULL, NULL);
  return ds->path;
}

const char *
xl_dataset_root (const XlDataset *ds)
{
  g_return_val_if_fail (ds != NULL, NULL);
  return ds->root;
}

gboolean
xl_dataset_has_splits (const XlDataset *ds)
{
  g_return_val_if_fail (ds != NULL, FALSE);
  return ds->has_splits;
}

guint
xl_dataset_n_classes (const XlDataset *ds)
{
  g_return_val_if_fail (ds != NULL, 0);
  return ds->classes->len;
}

const char *
xl_dataset_class_name (const XlDataset *ds,
                       guint            class_index)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (class_index < ds->classes->len, NULL);
  return ds->classes->pdata[class_index];
}

guint
xl_dataset_n_images (const XlDataset *ds)
{
  g_return_val_if_fail (ds != NULL, 0);
  return ds->images->len;
}

const XlImageEntry *
xl_dataset_image (const XlDataset *ds,
                  guint            index)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (index < ds->images->len, NULL);
  return &g_array_index (ds->images, XlImageEntry, index);
}

const guint *
xl_dataset_split_indices (const XlDataset *ds,
                          XlSplit          split,
                          guint           *n)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (split < XL_N_SPLITS, NULL);
  g_return_val_if_fail (n != NULL, NULL);

  *n = ds->split_indices[split]->len;
  return (const guint *) ds->split_indices[split]->data;
}

const guint *
xl_dataset_ignored_indices (const XlDataset *ds,
                            guint           *n)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (n != NULL, NULL);

  *n = ds->ignored->len;
  return (const guint *) ds->ignored->data;
}

guint
xl_dataset_count (const XlDataset *ds,
                  XlSplit          split,
                  guint            class_index)
{
  g_return_val_if_fail (ds != NULL, 0);
  g_return_val_if_fail (split < XL_N_SPLITS, 0);
  g_return_val_if_fail (class_index < ds->classes->len, 0);

  return ds->counts[split * ds->classes->len + class_index];
}

guint
xl_dataset_count_patients (const XlDataset *ds,
                           XlSplit          split,
                           guint            class_index)
{
  g_autoptr (GHashTable) patients = NULL;
  GArray *indices;

  g_return_val_if_fail (ds != NULL, 0);
  g_return_val_if_fail (split < XL_N_SPLITS, 0);

  patients = g_hash_table_new (g_str_hash, g_str_equal);
  indices = ds->split_indices[split];
  for (guint i = 0; i < indices->len; i++)
    {
      const XlImageEntry *entry = &g_array_index (ds->images, XlImageEntry,
                                                  g_array_index (indices, guint, i));

      if (class_index == G_MAXUINT || entry->class_index == class_index)
        g_hash_table_add (patients, entry->patient);
    }
  return g_hash_table_size (patients);
}

guint
xl_dataset_n_skipped (const XlDataset *ds)
{
  g_return_val_if_fail (ds != NULL, 0);
  return ds->skipped->len;
}

const XlSkippedFile *
xl_dataset_skipped (const XlDataset *ds,
                    guint            index)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (index < ds->skipped->len, NULL);
  return &g_array_index (ds->skipped, XlSkippedFile, index);
}

gboolean
xl_dataset_require_split (const XlDataset *ds,
                          XlSplit          split,
                          GError         **error)
{
  guint skipped;

  g_return_val_if_fail (ds != NULL, FALSE);
  g_return_val_if_fail (split < XL_N_SPLITS, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (ds->split_indices[split]->len > 0)
    return TRUE;

  skipped = ds->skipped_in_split[split];
  if (skipped > 0)
    g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY,
                 "%s: the %s split has no usable image (%u %s skipped: see the list of "
                 "skipped files)", ds->path, xl_split_name (split), skipped,
                 skipped == 1 ? "file was" : "files were");
  else if (split != XL_SPLIT_TRAIN && !ds->has_splits)
    g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY,
                 "%s: there is no %s split (a folder of class folders is all train; "
                 "re-split it to make a val split)", ds->path, xl_split_name (split));
  else
    g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY,
                 "%s: the %s split has no images", ds->path, xl_split_name (split));
  return FALSE;
}

/* ---- Re-split -------------------------------------------------------------- */

typedef struct {
  const char *id;
  GArray *images;     /* guint */
  guint klass;        /* the class most of its train images have */
} Patient;

static void
patient_free (Patient *patient)
{
  g_array_unref (patient->images);
  g_free (patient);
}

static int
compare_patients (gconstpointer a,
                  gconstpointer b)
{
  return strcmp ((*(Patient *const *) a)->id, (*(Patient *const *) b)->id);
}

gboolean
xl_dataset_resplit (XlDataset       *ds,
                    double           val_fraction,
                    guint64          seed,
                    gboolean         keep_original_val,
                    XlResplitReport *report_per_class,
                    GError         **error)
{
  g_autoptr (GHashTable) by_id = NULL;
  g_autoptr (GPtrArray) patients = NULL;
  g_autofree guint *class_votes = NULL;
  g_autofree guint *train_per_class = NULL;
  guint n_classes, n_train = 0;
  NnRng rng;

  g_return_val_if_fail (ds != NULL, FALSE);
  g_return_val_if_fail (val_fraction > 0.0 && val_fraction < 1.0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  n_classes = ds->classes->len;
  by_id = g_hash_table_new (g_str_hash, g_str_equal);
  patients = g_ptr_array_new_with_free_func ((GDestroyNotify) patient_free);
  train_per_class = g_new0 (guint, n_classes);

  for (guint i = 0; i < ds->images->len; i++)
    {
      const XlImageEntry *entry = &g_array_index (ds->images, XlImageEntry, i);
      Patient *patient;

      if (entry->scanned_split != XL_SPLIT_TRAIN)
        continue;
      n_train++;
      train_per_class[entry->class_index]++;
      patient = g_hash_table_lookup (by_id, entry->patient);
      if (patient == NULL)
        {
          patient = g_new0 (Patient, 1);
          patient->id = entry->patient;
          patient->images = g_array_new (FALSE, FALSE, sizeof (guint));
          g_hash_table_insert (by_id, (gpointer) patient->id, patient);
          g_ptr_array_add (patients, patient);
        }
      g_array_append_val (patient->images, i);
    }
  if (n_train == 0)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY,
                   "%s: the train split has no usable image to re-split", ds->path);
      return FALSE;
    }

  /* The order before shuffling must not depend on hashing. */
  g_ptr_array_sort (patients, compare_patients);
  class_votes = g_new0 (guint, n_classes);
  for (guint p = 0; p < patients->len; p++)
    {
      Patient *patient = patients->pdata[p];

      memset (class_votes, 0, n_classes * sizeof (guint));
      for (guint j = 0; j < patient->images->len; j++)
        class_votes[g_array_index (ds->images, XlImageEntry,
                                   g_array_index (patient->images, guint, j)).class_index]++;
      patient->klass = 0;
      for (guint c = 1; c < n_classes; c++)
        if (class_votes[c] > class_votes[patient->klass])
          patient->klass = c;
    }

  /* Back to the scanned splits. */
  for (guint i = 0; i < ds->images->len; i++)
    {
      XlImageEntry *entry = &g_array_index (ds->images, XlImageEntry, i);

      entry->split = entry->scanned_split;
      if (entry->scanned_split == XL_SPLIT_VAL && !keep_original_val)
        entry->split = XL_SPLIT_NONE;
    }

  nn_rng_seed (&rng, seed);
  for (guint c = 0; c < n_classes; c++)
    {
      g_autoptr (GPtrArray) stratum = g_ptr_array_new ();
      double target = val_fraction * train_per_class[c];
      guint moved = 0;

      for (guint p = 0; p < patients->len; p++)
        if (((Patient *) patients->pdata[p])->klass == c)
          g_ptr_array_add (stratum, patients->pdata[p]);
      for (guint p = stratum->len; p > 1; p--)
        {
          guint j = (guint) nn_rng_below (&rng, p);
          gpointer tmp = stratum->pdata[p - 1];

          stratum->pdata[p - 1] = stratum->pdata[j];
          stratum->pdata[j] = tmp;
        }
      for (guint p = 0; p < stratum->len; p++)
        {
          Patient *patient = stratum->pdata[p];
          guint n = patient->images->len;

          if (fabs (moved + n - target) >= fabs (moved - target))
            continue;
          moved += n;
          for (guint j = 0; j < n; j++)
            g_array_index (ds->images, XlImageEntry,
                           g_array_index (patient->images, guint, j)).split = XL_SPLIT_VAL;
        }
    }

  if (report_per_class != NULL)
    {
      memset (report_per_class, 0, n_classes * sizeof (XlResplitReport));
      for (guint c = 0; c < n_classes; c++)
        {
          g_autoptr (GHashTable) kept = g_hash_table_new (g_str_hash, g_str_equal);
          g_autoptr (GHashTable) moved = g_hash_table_new (g_str_hash, g_str_equal);
          GHashTable *seen[2] = { kept, moved };

          for (guint i = 0; i < ds->images->len; i++)
            {
              const XlImageEntry *entry = &g_array_index (ds->images, XlImageEntry, i);
              int side;

              if (entry->scanned_split != XL_SPLIT_TRAIN || entry->class_index != c)
                continue;
              side = entry->split == XL_SPLIT_VAL ? 1 : 0;
              report_per_class[c].images[side]++;
              g_hash_table_add (seen[side], entry->patient);
            }
          report_per_class[c].patients[0] = g_hash_table_size (seen[0]);
          report_per_class[c].patients[1] = g_hash_table_size (seen[1]);
        }
    }

  dataset_index_splits (ds);
  return TRUE;
}

/* ---- Reading --------------------------------------------------------------- */

guint64
xl_dataset_read_order (const XlDataset *ds,
                       guint            index)
{
  g_return_val_if_fail (ds != NULL, 0);
  g_return_val_if_fail (index < ds->images->len, 0);

  if (ds->is_archive)
    return (guint64) g_array_index (ds->members, gint64, index);
  return index;
}

static GBytes *
read_disk (const char *path,
           GError    **error)
{
  g_autofree guint8 *buf = NULL;
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  gsize size;

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, XL_DATASET_ERROR,
                   saved == ENOENT ? XL_DATASET_ERROR_NOT_FOUND : XL_DATASET_ERROR_IO,
                   "%s: cannot read (%s)", path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO, "%s: not a regular file", path);
      close (fd);
      return NULL;
    }
  if ((guint64) st.st_size > MAX_FILE_BYTES)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_TOO_LARGE,
                   "%s: too large a file (%" G_GINT64_FORMAT " MB)", path,
                   (gint64) st.st_size / 1000000);
      close (fd);
      return NULL;
    }
  size = (gsize) st.st_size;
  buf = g_try_malloc (MAX (size, 1));
  if (buf == NULL || !pread_full (fd, buf, size, 0))
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO, "%s: cannot read (%s)", path,
                   buf == NULL ? "out of memory" : g_strerror (errno));
      close (fd);
      return NULL;
    }
  close (fd);
  return g_bytes_new_take (g_steal_pointer (&buf), size);
}

/* An idle cursor at or before member (the closest), or a new one. */
static ZipCursor *
zip_cursor_take (XlDataset *ds,
                 gint64     member,
                 GError   **error)
{
  ZipCursor *best = NULL;
  guint best_index = 0;

  g_mutex_lock (&ds->zip_lock);
  for (guint i = 0; i < ds->zip_cursors->len; i++)
    {
      ZipCursor *cursor = ds->zip_cursors->pdata[i];

      if (cursor->next <= member && (best == NULL || cursor->next > best->next))
        {
          best = cursor;
          best_index = i;
        }
    }
  if (best != NULL)
    g_ptr_array_steal_index_fast (ds->zip_cursors, best_index);
  g_mutex_unlock (&ds->zip_lock);

  if (best == NULL)
    {
      struct archive *archive = zip_open (ds->path, error);

      if (archive == NULL)
        return NULL;
      best = g_new0 (ZipCursor, 1);
      best->archive = archive;
    }
  return best;
}

static void
zip_cursor_give_back (XlDataset *ds,
                      ZipCursor *cursor)
{
  g_mutex_lock (&ds->zip_lock);
  g_ptr_array_add (ds->zip_cursors, cursor);
  if (ds->zip_cursors->len > MAX_ZIP_CURSORS)
    {
      guint oldest = 0;

      for (guint i = 1; i < ds->zip_cursors->len; i++)
        if (((ZipCursor *) ds->zip_cursors->pdata[i])->next
            < ((ZipCursor *) ds->zip_cursors->pdata[oldest])->next)
          oldest = i;
      g_ptr_array_remove_index_fast (ds->zip_cursors, oldest);
    }
  g_mutex_unlock (&ds->zip_lock);
}

static GBytes *
read_zip (XlDataset          *ds,
          const XlImageEntry *entry,
          gint64              member,
          GError            **error)
{
  const char *raw = entry->path + strlen (ds->path) + 2;
  ZipCursor *cursor = zip_cursor_take (ds, member, error);
  struct archive_entry *header = NULL;
  g_autofree char *reason = NULL;
  guint8 *data;
  guint64 size = 0;

  if (cursor == NULL)
    return NULL;
  while (cursor->next <= member)
    {
      int status = archive_read_next_header (cursor->archive, &header);

      cursor->next++;
      if (status == ARCHIVE_EOF || status < ARCHIVE_WARN)
        {
          g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO,
                       "%s: the archive changed or is damaged (%s)", entry->path,
                       status == ARCHIVE_EOF ? "ends early" : archive_error_string (cursor->archive));
          zip_cursor_free (cursor);
          return NULL;
        }
    }
  if (g_strcmp0 (archive_entry_pathname (header), raw) != 0)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO,
                   "%s: the archive changed since it was scanned", entry->path);
      zip_cursor_free (cursor);
      return NULL;
    }
  data = zip_read_member (cursor->archive, header, &size, &reason);
  if (data == NULL)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_IO, "%s: %s", entry->path, reason);
      zip_cursor_free (cursor);
      return NULL;
    }
  zip_cursor_give_back (ds, cursor);
  return g_bytes_new_take (data, (gsize) size);
}

GBytes *
xl_dataset_read (const XlDataset *ds,
                 guint            index,
                 GError         **error)
{
  const XlImageEntry *entry;

  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (index < ds->images->len, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entry = &g_array_index (ds->images, XlImageEntry, index);
  if (ds->is_archive)
    /* The cursor pool is the only state a read changes, behind its mutex. */
    return read_zip ((XlDataset *) ds, entry, g_array_index (ds->members, gint64, index), error);
  return read_disk (entry->path, error);
}
