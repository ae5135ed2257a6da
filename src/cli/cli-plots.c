/* cli-plots.c — `xraylab-cli plots RUN`: redraw a run folder's pictures and report
 * from its files, without retraining.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "xl-image-cache.h"
#include "xl-plot-report.h"
#include "xl-train-session.h"

/* Splits one CSV line (our own files: RFC 4180 quoting) into fields. */
static GPtrArray *
csv_fields (const char *line)
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
      g_autoptr (GPtrArray) f = csv_fields (lines[i]);
      XlEpochRecord r = {
        .epoch = (guint) number (f, 0), .train_loss = number (f, 1),
        .train_accuracy = number (f, 2), .val_loss = number (f, 3),
        .val_accuracy = number (f, 4), .lr = number (f, 5), .seconds = number (f, 6),
        .images_per_second = number (f, 7),
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
      g_autoptr (GPtrArray) f = csv_fields (lines[i]);
      XlBatchPoint p = { number (f, 0), number (f, 1), number (f, 2) };
      g_array_append_val (out, p);
    }
  return out;
}

/* predictions.csv: path, split, true_label, p_<class>..., predicted_label */
static XlPredictions *
read_predictions (const char *run, const XlModelInfo *info, char **split, GError **error)
{
  g_auto (GStrv) lines = read_lines (run, "predictions.csv", error);
  g_autoptr (XlPredictions) p = NULL;
  guint n_lines, C = info->n_classes;

  if (lines == NULL)
    return NULL;
  n_lines = g_strv_length (lines);
  p = g_new0 (XlPredictions, 1);
  p->n_classes = C;
  p->indices = g_new0 (guint, MAX (n_lines, 1));
  p->labels = g_new0 (guint, MAX (n_lines, 1));
  p->probs = g_new0 (float, (gsize) MAX (n_lines, 1) * C);
  p->loss = NAN;
  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      g_autoptr (GPtrArray) f = csv_fields (lines[i]);
      const char *label;
      guint c;

      if (f->len != 4 + C)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s/predictions.csv: line %u has %u fields, expected %u", run, i + 1,
                       f->len, 4 + C);
          return NULL;
        }
      label = g_ptr_array_index (f, 2);
      for (c = 0; c < C && g_strcmp0 (label, info->classes[c]) != 0; c++)
        ;
      if (c == C)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s/predictions.csv: line %u: “%s” is not one of the model's classes",
                       run, i + 1, label);
          return NULL;
        }
      if (*split == NULL)
        *split = g_strdup (g_ptr_array_index (f, 1));
      p->indices[p->n] = p->n;
      p->labels[p->n] = c;
      for (guint k = 0; k < C; k++)
        p->probs[(gsize) p->n * C + k] = (float) number (f, 3 + k);
      p->n++;
    }
  return g_steal_pointer (&p);
}

int
xl_cli_plots (int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("RUN - redraw a run's plots");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) history = NULL;
  g_autoptr (GArray) batches = NULL;
  g_autoptr (XlPredictions) preds = NULL;
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (XlImageCache) cache = NULL;
  g_autofree char *split = NULL, *config_text = NULL, *metrics_text = NULL;
  g_autofree char *model_path = NULL, *config_path = NULL, *metrics_path = NULL;
  g_autofree char *settings = NULL;
  XlTrainConfig cfg;
  XlModelInfo info;
  XlTransformConfig tf;
  guint best = 0, early = 0;
  const char *run;
  int status = XL_CLI_EXIT_FAILURE;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Redraws RUN/plots/ (loss, accuracy, ROC, confusion matrix, and the augmented batch\n"
    "when the data set is still there) and RUN/report.pdf from the run's files.\n\n"
    "Exit status: 0 drawn, 1 the run folder could not be read, 2 usage error.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("xraylab-cli plots: %s\n", error->message);
      return XL_CLI_EXIT_USAGE;
    }
  if (argc != 2)
    {
      g_printerr ("xraylab-cli plots: give one run folder\n");
      return XL_CLI_EXIT_USAGE;
    }
  run = argv[1];
  xl_model_info_init (&info);
  xl_train_config_init (&cfg, XL_TRAIN_FINETUNE);

  model_path = g_build_filename (run, "model.safetensors", NULL);
  config_path = g_build_filename (run, "config.json", NULL);
  metrics_path = g_build_filename (run, "metrics.json", NULL);
  if (!xl_model_read_info (model_path, &info, &error)
      || !g_file_get_contents (config_path, &config_text, NULL, &error)
      || !xl_train_config_from_json (&cfg, config_text, &error)
      || (history = read_history (run, &error)) == NULL
      || (preds = read_predictions (run, &info, &split, &error)) == NULL)
    goto fail;
  batches = read_batches (run);

  if (g_file_get_contents (metrics_path, &metrics_text, NULL, NULL))
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      if (json_parser_load_from_data (parser, metrics_text, -1, NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (parser));
          JsonNode *r = json_object_get_member (o, "run");
          if (r != NULL && JSON_NODE_HOLDS_OBJECT (r))
            {
              best = (guint) json_object_get_int_member_with_default (json_node_get_object (r),
                                                                      "best_epoch", 0);
              early = (guint) json_object_get_int_member_with_default (
                  json_node_get_object (r), "early_stop_epoch", 0);
            }
        }
    }

  /* The augmented batch needs the films: draw it when the data set is still there. */
  xl_transform_config_init (&tf, cfg.augment);
  tf.resize = cfg.resize;
  tf.crop = cfg.input_size;
  ds = xl_dataset_scan (cfg.data_path, NULL, NULL, NULL, NULL);
  guint n_train = 0;
  const guint *train_idx = NULL;
  if (ds != NULL)
    {
      train_idx = xl_dataset_split_indices (ds, XL_SPLIT_TRAIN, &n_train);
      cache = xl_image_cache_new (ds, cfg.resize, 0);
    }
  else
    g_printerr ("xraylab-cli plots: %s is gone: the augmented batch is not redrawn\n",
                cfg.data_path);

  settings = xl_train_config_to_json (&cfg);
  XlRunReport report = {
    .run_dir = run, .ds = ds, .cache = cache, .train_transform = ds != NULL ? &tf : NULL,
    .train_indices = train_idx, .n_train = n_train, .seed = cfg.seed,
    .history = (const XlEpochRecord *) history->data, .n_history = history->len,
    .planned_epochs = cfg.epochs, .batches = (const XlBatchPoint *) batches->data,
    .n_batches = batches->len, .best_epoch = best, .early_stop_epoch = early, .info = &info,
    .predictions = preds, .predictions_split = split != NULL ? split : "test",
    .threshold = info.threshold, .threshold_source = "the model's own",
    .settings_text = settings,
  };
  if (!xl_plot_write_run_report (&report, &error))
    goto fail;
  printf ("redrew %s/plots/ and %s/report.pdf\n", run, run);
  status = XL_CLI_EXIT_OK;
  goto out;

fail:
  g_printerr ("xraylab-cli plots: %s\n", error->message);
out:
  xl_model_info_clear (&info);
  xl_train_config_clear (&cfg);
  return status;
}
