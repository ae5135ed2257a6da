/* xl-run-folder.c — read a finished run folder back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "xl-run-folder.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

GPtrArray *
xl_csv_fields (const char *line)
{
  GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
  GString *field = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *c = line; *c != '\0' && *c != '\n' && *c != '\r'; c++)
    {
      if (quoted)
        {
          if (*c == '"' && c[1] == '"')
            {
              g_string_append_c (field, '"');
              c++;
            }
          else if (*c == '"')
            quoted = FALSE;
          else
            g_string_append_c (field, *c);
        }
      else if (*c == '"')
        quoted = TRUE;
      else if (*c == ',')
        {
          g_ptr_array_add (fields, g_string_free (field, FALSE));
          field = g_string_new (NULL);
        }
      else
        g_string_append_c (field, *c);
    }
  g_ptr_array_add (fields, g_string_free (field, FALSE));
  return fields;
}

static char **
read_lines (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  return g_strsplit (text, "\n", -1);
}

static double
number (GPtrArray *fields, guint i)
{
  return i < fields->len ? g_ascii_strtod (g_ptr_array_index (fields, i), NULL) : NAN;
}

static GArray *
read_history (const char *run, GError **error)
{
  g_auto (GStrv) lines = read_lines (run, "history.csv", error);
  GArray *out;

  if (lines == NULL)
    return NULL;
  out = g_array_new (FALSE, TRUE, sizeof (XlEpochRecord));
  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      g_autoptr (GPtrArray) f = xl_csv_fields (lines[i]);
      double epoch = number (f, 0);
      XlEpochRecord r = {
        .epoch = isfinite (epoch) && epoch >= 0 && epoch < 1e6 ? (guint) epoch : 0,
        .train_loss = number (f, 1), .train_accuracy = number (f, 2),
        .val_loss = number (f, 3), .val_accuracy = number (f, 4), .lr = number (f, 5),
        .seconds = number (f, 6), .images_per_second = number (f, 7),
      };
      g_array_append_val (out, r);
    }
  return out;
}

static GArray *
read_batches (const char *run)
{
  g_auto (GStrv) lines = read_lines (run, "batches.csv", NULL);
  GArray *out = g_array_new (FALSE, TRUE, sizeof (XlBatchPoint));

  for (guint i = 1; lines != NULL && lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      g_autoptr (GPtrArray) f = xl_csv_fields (lines[i]);
      XlBatchPoint p = { number (f, 0), number (f, 1), number (f, 2) };
      g_array_append_val (out, p);
    }
  return out;
}

static XlSplit
split_from_name (const char *name)
{
  for (int s = 0; s < XL_N_SPLITS; s++)
    if (g_strcmp0 (name, xl_split_name ((XlSplit) s)) == 0)
      return (XlSplit) s;
  return XL_SPLIT_NONE;
}

static gboolean
class_index (const XlModelInfo *info, const char *name, guint *out)
{
  for (guint c = 0; c < info->n_classes; c++)
    if (g_strcmp0 (name, info->classes[c]) == 0)
      {
        *out = c;
        return TRUE;
      }
  return FALSE;
}

/* predictions.csv: path, split, true_label, p_<class>..., predicted_label */
static gboolean
read_predictions (XlRunFolder *run, GError **error)
{
  g_auto (GStrv) lines = read_lines (run->run_dir, "predictions.csv", error);
  const guint C = run->info.n_classes;
  guint n_lines;

  if (lines == NULL)
    return FALSE;
  n_lines = g_strv_length (lines);
  run->films = g_new0 (XlRunFilm, MAX (n_lines, 1));
  run->probs = g_new0 (float, (gsize) MAX (n_lines, 1) * C);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      g_autoptr (GPtrArray) f = xl_csv_fields (lines[i]);
      XlRunFilm *film = &run->films[run->n_films];

      if (f->len != 4 + C)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s/predictions.csv: line %u has %u fields, expected %u", run->run_dir,
                       i + 1, f->len, 4 + C);
          return FALSE;
        }
      if (!class_index (&run->info, g_ptr_array_index (f, 2), &film->label)
          || !class_index (&run->info, g_ptr_array_index (f, 3 + C), &film->predicted))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s/predictions.csv: line %u names a class the model does not have",
                       run->run_dir, i + 1);
          return FALSE;
        }
      for (guint k = 0; k < C; k++)
        {
          double p = number (f, 3 + k);
          if (!(p >= 0 && p <= 1))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s/predictions.csv: line %u: a probability is not in [0, 1]",
                           run->run_dir, i + 1);
              return FALSE;
            }
          run->probs[(gsize) run->n_films * C + k] = (float) p;
        }
      film->path = g_strdup (g_ptr_array_index (f, 0));
      film->split = split_from_name (g_ptr_array_index (f, 1));
      run->n_films++;
    }
  return TRUE;
}

/* The "run" section and the threshold's source, when metrics.json is there
 * and says so; a missing or odd member is left at its default. */
static void
read_metrics (XlRunFolder *run)
{
  g_autofree char *path = g_build_filename (run->run_dir, "metrics.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonNode *n;

  if (!g_file_get_contents (path, &text, NULL, NULL)
      || !json_parser_load_from_data (parser, text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  root = json_node_get_object (json_parser_get_root (parser));

  n = json_object_get_member (root, "run");
  if (n != NULL && JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *r = json_node_get_object (n);
      JsonNode *v;

      if ((v = json_object_get_member (r, "best_epoch")) != NULL
          && json_node_get_value_type (v) == G_TYPE_INT64)
        run->best_epoch = (guint) CLAMP (json_node_get_int (v), 0, G_MAXINT);
      if ((v = json_object_get_member (r, "early_stop_epoch")) != NULL
          && json_node_get_value_type (v) == G_TYPE_INT64)
        run->early_stop_epoch = (guint) CLAMP (json_node_get_int (v), 0, G_MAXINT);
      if ((v = json_object_get_member (r, "stopped")) != NULL
          && json_node_get_value_type (v) == G_TYPE_BOOLEAN)
        run->stopped = json_node_get_boolean (v);
    }

  n = json_object_get_member (root, "val");
  if (n != NULL && JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonNode *v = json_object_get_member (json_node_get_object (n), "threshold_source");
      if (v != NULL && json_node_get_value_type (v) == G_TYPE_STRING)
        {
          g_free (run->threshold_source);
          run->threshold_source = g_strdup (json_node_get_string (v));
        }
    }
}

XlRunFolder *
xl_run_folder_load (const char *run_dir, GError **error)
{
  g_autoptr (XlRunFolder) run = g_atomic_rc_box_new0 (XlRunFolder);
  g_autofree char *config_path = g_build_filename (run_dir, "config.json", NULL);
  g_autofree char *config_text = NULL;

  run->run_dir = g_strdup (run_dir);
  run->model_path = g_build_filename (run_dir, "model.safetensors", NULL);
  run->threshold_source = g_strdup ("the model's own");
  xl_model_info_init (&run->info);
  xl_train_config_init (&run->config, XL_TRAIN_FINETUNE);

  if (!xl_model_read_info (run->model_path, &run->info, error)
      || !g_file_get_contents (config_path, &config_text, NULL, error)
      || !xl_train_config_from_json (&run->config, config_text, error)
      || (run->history = read_history (run_dir, error)) == NULL
      || !read_predictions (run, error))
    return NULL;
  run->batches = read_batches (run_dir);
  read_metrics (run);
  return g_steal_pointer (&run);
}

static void
run_folder_clear (gpointer data)
{
  XlRunFolder *run = data;

  for (guint i = 0; i < run->n_films; i++)
    g_free (run->films[i].path);
  g_free (run->films);
  g_free (run->probs);
  if (run->history != NULL)
    g_array_unref (run->history);
  if (run->batches != NULL)
    g_array_unref (run->batches);
  xl_model_info_clear (&run->info);
  xl_train_config_clear (&run->config);
  g_free (run->threshold_source);
  g_free (run->model_path);
  g_free (run->run_dir);
}

XlRunFolder *
xl_run_folder_ref (XlRunFolder *run)
{
  return g_atomic_rc_box_acquire (run);
}

void
xl_run_folder_unref (XlRunFolder *run)
{
  if (run != NULL)
    g_atomic_rc_box_release_full (run, run_folder_clear);
}

guint
xl_run_folder_count (const XlRunFolder *run, XlSplit split)
{
  guint n = 0;

  for (guint i = 0; i < run->n_films; i++)
    n += run->films[i].split == split;
  return n;
}

XlSplit
xl_run_folder_report_split (const XlRunFolder *run)
{
  return xl_run_folder_count (run, XL_SPLIT_TEST) > 0 ? XL_SPLIT_TEST : XL_SPLIT_VAL;
}

XlPredictions *
xl_run_folder_predictions (const XlRunFolder *run, XlSplit split)
{
  const guint C = run->info.n_classes;
  guint n = xl_run_folder_count (run, split);
  XlPredictions *p;

  if (n == 0)
    return NULL;
  p = g_new0 (XlPredictions, 1);
  p->n_classes = C;
  p->indices = g_new (guint, n);
  p->labels = g_new (guint, n);
  p->probs = g_new (float, (gsize) n * C);
  p->loss = NAN;
  for (guint i = 0; i < run->n_films; i++)
    if (run->films[i].split == split)
      {
        p->indices[p->n] = i;
        p->labels[p->n] = run->films[i].label;
        memcpy (p->probs + (gsize) p->n * C, run->probs + (gsize) i * C, C * sizeof (float));
        p->n++;
      }
  return p;
}

char *
xl_run_folder_film_path (const XlRunFolder *run, guint row)
{
  const char *shown;
  g_autofree char *local = NULL;

  g_return_val_if_fail (row < run->n_films, NULL);
  shown = run->films[row].path;
  local = g_filename_from_utf8 (shown, -1, NULL, NULL, NULL);
  if (local == NULL)
    local = g_strdup (shown);
  if (g_path_is_absolute (local))
    return g_steal_pointer (&local);

  /* A relative data set path was relative to where the run was started;
   * next to the run folder is the usual place. */
  {
    g_autofree char *parent = g_path_get_dirname (run->run_dir);
    g_autofree char *beside = g_build_filename (parent, local, NULL);
    if (g_file_test (beside, G_FILE_TEST_EXISTS))
      return g_steal_pointer (&beside);
  }
  return g_canonicalize_filename (local, NULL);
}
