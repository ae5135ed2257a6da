/* test-synth.c — the synthetic demo set: layout, names, boxes, determinism.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "xl-image.h"
#include "xl-synth.h"

static const char *const class_names[2] = { "NORMAL", "PNEUMONIA" };

typedef struct
{
  char *split, *class_name, *file;
  guint x, y, width, height;
} Row;

static void
row_free (gpointer data)
{
  Row *row = data;

  g_free (row->split);
  g_free (row->class_name);
  g_free (row->file);
  g_free (row);
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

static char *
make_tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("xl-synth-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

/* A fresh set in a new temporary folder (the caller removes it). */
static char *
generate (guint per_class, guint size, guint64 seed, guint n_threads)
{
  g_autofree char *tmp = make_tmp_dir ();
  char            *out = g_build_filename (tmp, "set", NULL);
  XlSynthConfig    cfg;
  g_autoptr (GError) error = NULL;

  xl_synth_config_init (&cfg);
  cfg.per_class = per_class;
  cfg.size = size;
  cfg.seed = seed;
  cfg.n_threads = n_threads;
  g_assert_true (xl_synth_generate (out, &cfg, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return out;
}

static void
remove_set (const char *out)
{
  g_autofree char *parent = g_path_get_dirname (out);

  remove_tree (parent);
}

static GPtrArray *
list_files (const char *dir)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  return names;
}

static GPtrArray *
read_csv (const char *out)
{
  g_autofree char *path = g_build_filename (out, "consolidations.csv", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func (row_free);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "split,class,file,x,y,width,height");
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = NULL;
      Row *row;

      if (lines[i][0] == '\0')
        continue;
      f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 7);
      row = g_new0 (Row, 1);
      row->split = g_strdup (f[0]);
      row->class_name = g_strdup (f[1]);
      row->file = g_strdup (f[2]);
      row->x = (guint) g_ascii_strtoull (f[3], NULL, 10);
      row->y = (guint) g_ascii_strtoull (f[4], NULL, 10);
      row->width = (guint) g_ascii_strtoull (f[5], NULL, 10);
      row->height = (guint) g_ascii_strtoull (f[6], NULL, 10);
      g_ptr_array_add (rows, row);
    }
  return rows;
}

static XlImage *
load_film (const char *path)
{
  g_autofree char *data = NULL;
  gsize            len;
  g_autoptr (GError) error = NULL;
  XlImage *img;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  img = xl_image_decode ((const guint8 *) data, len, 0, path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (img);
  return img;
}

static double
box_mean (const XlImage *img, guint x, guint y, guint w, guint h)
{
  double sum = 0;
  guint  n = 0;

  for (guint yy = y; yy < y + h && yy < img->height; yy++)
    for (guint xx = x; xx < x + w && xx < img->width; xx++)
      {
        sum += img->pixels[(gsize) yy * img->width + xx];
        n++;
      }
  return n > 0 ? sum / n : 0;
}

static void
test_counts (void)
{
  XlSynthConfig cfg;
  guint         counts[XL_N_SPLITS][XL_SYNTH_N_CLASSES];

  xl_synth_config_init (&cfg);
  g_assert_cmpuint (cfg.per_class, ==, 200);
  g_assert_cmpuint (cfg.size, ==, 256);
  xl_synth_counts (&cfg, counts);
  g_assert_cmpuint (counts[XL_SPLIT_TRAIN][0], ==, 200);
  g_assert_cmpuint (counts[XL_SPLIT_VAL][1], ==, 50);
  g_assert_cmpuint (counts[XL_SPLIT_TEST][0], ==, 100);

  cfg.per_class = 3;
  xl_synth_counts (&cfg, counts);
  g_assert_cmpuint (counts[XL_SPLIT_VAL][0], ==, 2);
  g_assert_cmpuint (counts[XL_SPLIT_TEST][1], ==, 2);

  cfg.kermany_sized = TRUE;
  xl_synth_counts (&cfg, counts);
  g_assert_cmpuint (counts[XL_SPLIT_TRAIN][0], ==, 1341);
  g_assert_cmpuint (counts[XL_SPLIT_TRAIN][1], ==, 3875);
  g_assert_cmpuint (counts[XL_SPLIT_VAL][0], ==, 8);
  g_assert_cmpuint (counts[XL_SPLIT_VAL][1], ==, 8);
  g_assert_cmpuint (counts[XL_SPLIT_TEST][0], ==, 234);
  g_assert_cmpuint (counts[XL_SPLIT_TEST][1], ==, 390);
}

static void
test_layout (void)
{
  g_autofree char *out = generate (6, 64, 1, 0);
  g_autoptr (GRegex) normal_re =
      g_regex_new ("^(NORMAL2-)?IM-[0-9]{4}-[0-9]{4}\\.jpeg$", 0, 0, NULL);
  g_autoptr (GRegex) pneumonia_re =
      g_regex_new ("^person[0-9]+_(bacteria|virus)_[0-9]+\\.jpeg$", 0, 0, NULL);
  XlSynthConfig cfg;
  guint         counts[XL_N_SPLITS][XL_SYNTH_N_CLASSES];
  g_autoptr (GHashTable) patients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n_films = 0;

  xl_synth_config_init (&cfg);
  cfg.per_class = 6;
  xl_synth_counts (&cfg, counts);

  for (int s = 0; s < XL_N_SPLITS; s++)
    for (int c = 0; c < 2; c++)
      {
        g_autofree char *dir =
            g_build_filename (out, xl_split_name ((XlSplit) s), class_names[c], NULL);
        g_autoptr (GPtrArray) names = list_files (dir);

        g_assert_cmpuint (names->len, ==, counts[s][c]);
        for (guint i = 0; i < names->len; i++)
          {
            const char      *name = names->pdata[i];
            g_autofree char *path = g_build_filename (dir, name, NULL);
            g_autoptr (XlImage) img = NULL;
            g_autofree char *patient = xl_patient_id (name);

            g_assert_true (g_regex_match (c == 0 ? normal_re : pneumonia_re, name, 0, NULL));
            /* Patient ids group films: no patient on two splits or classes. */
            if (g_hash_table_contains (patients, patient))
              g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (patients, patient)), ==,
                               s * 2 + c + 1);
            else
              g_hash_table_insert (patients, g_strdup (patient), GINT_TO_POINTER (s * 2 + c + 1));

            img = load_film (path);
            g_assert_cmpuint (img->height, ==, 64);
            g_assert_cmpuint (img->width, >=, 64);
            g_assert_cmpuint (img->width, <=, 80);
            n_films++;
          }
      }
  g_assert_cmpuint (n_films, ==, 6 + 6 + 2 + 2 + 3 + 3);
  /* Some patients have more than one film. */
  g_assert_cmpuint (g_hash_table_size (patients), <, n_films);
  remove_set (out);
}

static void
test_csv (void)
{
  g_autofree char *out = generate (8, 96, 2, 0);
  g_autoptr (GPtrArray) rows = read_csv (out);
  g_autoptr (GHashTable) with_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n_pneumonia = 0;

  g_assert_cmpuint (rows->len, >, 0);
  for (guint i = 0; i < rows->len; i++)
    {
      const Row       *row = rows->pdata[i];
      g_autofree char *path = g_build_filename (out, row->split, row->class_name, row->file, NULL);
      g_autoptr (XlImage) img = NULL;

      g_assert_cmpstr (row->class_name, ==, "PNEUMONIA");
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
      img = load_film (path);
      g_assert_cmpuint (row->width, >, 0);
      g_assert_cmpuint (row->height, >, 0);
      g_assert_cmpuint (row->x + row->width, <=, img->width);
      g_assert_cmpuint (row->y + row->height, <=, img->height);
      /* A consolidation is a patch, not the whole film. */
      g_assert_cmpuint (row->width, <, img->width / 2);
      g_hash_table_add (with_rows, g_strdup (path));
    }

  /* Every PNEUMONIA film has at least one box. */
  for (int s = 0; s < XL_N_SPLITS; s++)
    {
      g_autofree char *dir = g_build_filename (out, xl_split_name ((XlSplit) s), "PNEUMONIA", NULL);
      g_autoptr (GPtrArray) names = list_files (dir);

      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
          g_assert_true (g_hash_table_contains (with_rows, path));
          n_pneumonia++;
        }
    }
  g_assert_cmpuint (g_hash_table_size (with_rows), ==, n_pneumonia);
  remove_set (out);
}

/* The consolidations are what tells the classes apart: inside the boxes a
 * PNEUMONIA film is brighter than NORMAL films are at the same place. */
static void
test_boxes_brighter (void)
{
  g_autofree char *out = generate (8, 96, 3, 0);
  g_autoptr (GPtrArray) rows = read_csv (out);
  g_autoptr (GPtrArray) normals = g_ptr_array_new_with_free_func ((GDestroyNotify) xl_image_free);
  g_autofree char *normal_dir = g_build_filename (out, "train", "NORMAL", NULL);
  g_autoptr (GPtrArray) names = list_files (normal_dir);
  double diff_sum = 0;
  guint  n = 0;

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (normal_dir, names->pdata[i], NULL);
      g_ptr_array_add (normals, load_film (path));
    }

  for (guint i = 0; i < rows->len; i++)
    {
      const Row       *row = rows->pdata[i];
      g_autofree char *path = NULL;
      g_autoptr (XlImage) film = NULL;
      double normal_mean = 0;

      if (strcmp (row->split, "train") != 0)
        continue;
      path = g_build_filename (out, row->split, row->class_name, row->file, NULL);
      film = load_film (path);
      for (guint j = 0; j < normals->len; j++)
        normal_mean += box_mean (normals->pdata[j], row->x, row->y, row->width, row->height);
      normal_mean /= normals->len;
      diff_sum += box_mean (film, row->x, row->y, row->width, row->height) - normal_mean;
      n++;
    }
  g_assert_cmpuint (n, >, 0);
  g_test_message ("PNEUMONIA boxes are %.1f gray levels brighter than NORMAL films there",
                  diff_sum / n);
  g_assert_cmpfloat (diff_sum / n, >, 10.0);
  remove_set (out);
}

static gboolean
same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize            la, lb;

  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  return la == lb && memcmp (da, db, la) == 0;
}

/* Compares two sets file by file: returns how many differ (asserts the same
 * file lists). */
static guint
count_differences (const char *a, const char *b)
{
  guint            differ = 0;
  g_autofree char *csv_a = g_build_filename (a, "consolidations.csv", NULL);
  g_autofree char *csv_b = g_build_filename (b, "consolidations.csv", NULL);

  for (int s = 0; s < XL_N_SPLITS; s++)
    for (int c = 0; c < 2; c++)
      {
        g_autofree char *dir_a =
            g_build_filename (a, xl_split_name ((XlSplit) s), class_names[c], NULL);
        g_autofree char *dir_b =
            g_build_filename (b, xl_split_name ((XlSplit) s), class_names[c], NULL);
        g_autoptr (GPtrArray) names_a = list_files (dir_a);
        g_autoptr (GPtrArray) names_b = list_files (dir_b);

        g_assert_cmpuint (names_a->len, ==, names_b->len);
        for (guint i = 0; i < names_a->len; i++)
          {
            g_autofree char *pa = g_build_filename (dir_a, names_a->pdata[i], NULL);
            g_autofree char *pb = g_build_filename (dir_b, names_a->pdata[i], NULL);

            if (!g_file_test (pb, G_FILE_TEST_EXISTS) || !same_file (pa, pb))
              differ++;
          }
      }
  if (!same_file (csv_a, csv_b))
    differ++;
  return differ;
}

static void
test_deterministic (void)
{
  /* Different thread counts, same bytes. */
  g_autofree char *a = generate (4, 64, 7, 1);
  g_autofree char *b = generate (4, 64, 7, 3);
  g_autofree char *c = generate (4, 64, 8, 2);

  g_assert_cmpuint (count_differences (a, b), ==, 0);
  g_assert_cmpuint (count_differences (a, c), >, 10);
  remove_set (a);
  remove_set (b);
  remove_set (c);
}

static void
test_errors (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *file = g_build_filename (tmp, "a-file", NULL);
  g_autofree char *below_file = g_build_filename (file, "set", NULL);
  g_autoptr (GError) error = NULL;
  XlSynthConfig cfg;

  xl_synth_config_init (&cfg);
  cfg.per_class = 2;
  cfg.size = 32;

  /* A folder that cannot be created: its parent is a file. */
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_false (xl_synth_generate (below_file, &cfg, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_nonnull (strstr (error->message, below_file));
  g_clear_error (&error);

  /* A folder that is not empty. */
  g_assert_false (xl_synth_generate (tmp, &cfg, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  /* Nonsense sizes. */
  cfg.size = 4;
  g_assert_false (xl_synth_generate (below_file, &cfg, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  remove_tree (tmp);
}

typedef struct
{
  GCancellable *cancellable;
  guint         calls;
  double        last;
} ProgressState;

static void
cancel_on_progress (double fraction, const char *what, gpointer user_data)
{
  ProgressState *st = user_data;

  g_assert_cmpfloat (fraction, >=, st->last);
  g_assert_nonnull (what);
  st->last = fraction;
  st->calls++;
  if (st->cancellable != NULL)
    g_cancellable_cancel (st->cancellable);
}

static void
test_progress_and_cancel (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *out1 = g_build_filename (tmp, "one", NULL);
  g_autofree char *out2 = g_build_filename (tmp, "two", NULL);
  g_autofree char *out3 = g_build_filename (tmp, "three", NULL);
  g_autofree char *csv2 = g_build_filename (out2, "consolidations.csv", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  ProgressState st = { 0 };
  XlSynthConfig cfg;

  xl_synth_config_init (&cfg);
  cfg.per_class = 2;
  cfg.size = 32;
  g_assert_true (xl_synth_generate (out1, &cfg, cancel_on_progress, &st, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.calls, >=, 2); /* the films, then the CSV */
  g_assert_cmpfloat (st.last, ==, 1.0);

  /* Cancelled at the first film: an error, and no CSV (it is written last). */
  st = (ProgressState){ cancellable, 0, 0 };
  cfg.per_class = 100;
  cfg.size = 48;
  cfg.n_threads = 1;
  g_assert_false (xl_synth_generate (out2, &cfg, cancel_on_progress, &st, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (csv2, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* Cancelled before it starts: nothing written. */
  g_assert_false (xl_synth_generate (out3, &cfg, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (out3, G_FILE_TEST_EXISTS));
  remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/synth/counts", test_counts);
  g_test_add_func ("/synth/layout", test_layout);
  g_test_add_func ("/synth/csv", test_csv);
  g_test_add_func ("/synth/boxes-brighter", test_boxes_brighter);
  g_test_add_func ("/synth/deterministic", test_deterministic);
  g_test_add_func ("/synth/errors", test_errors);
  g_test_add_func ("/synth/progress-and-cancel", test_progress_and_cancel);
  return g_test_run ();
}
