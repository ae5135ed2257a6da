/* cli-eval.c — `xraylab-cli eval`: a model's metrics on a split of a data set.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "xl-evaluate.h"
#include "xl-image-cache.h"
#include "xl-plot-report.h"

static gboolean
parse_split (const char *name, XlSplit *split)
{
  for (int s = 0; s < XL_N_SPLITS; s++)
    if (g_strcmp0 (name, xl_split_name (s)) == 0)
      {
        *split = (XlSplit) s;
        return TRUE;
      }
  return FALSE;
}

int
xl_cli_eval (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *data = NULL, *out = NULL, *split_name = NULL;
  g_autofree char *threshold_arg = NULL;
  int batch = 16, threads = 2;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file (model.safetensors of a run)", "FILE" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Data set folder or .zip", "DIR" },
    { "split", 's', 0, G_OPTION_ARG_STRING, &split_name, "train, val or test (default)", "SPLIT" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder for metrics.json, predictions.csv and plots", "DIR" },
    { "threshold", 0, 0, G_OPTION_ARG_STRING, &threshold_arg, "P(positive) that flags a film: a number, or “model” (the model's own, default)", "T" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (16)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (2)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- evaluate a model on a split");
  g_autoptr (GError) error = NULL;
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (XlImageCache) cache = NULL;
  g_autoptr (XlPredictions) preds = NULL;
  XlModelInfo info;
  NnResnet *net = NULL;
  XlSplit split = XL_SPLIT_TEST;
  const guint *idx;
  guint n;
  double threshold;
  int status = XL_CLI_EXIT_FAILURE;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Writes OUT/metrics.json, OUT/predictions.csv and OUT/plots/ (ROC, confusion matrix).\n\n"
    "Exit status: 0 evaluated, 1 the model or data could not be used, 2 usage error.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("xraylab-cli eval: %s\n", error->message);
      return XL_CLI_EXIT_USAGE;
    }
  if (model_path == NULL || data == NULL || out == NULL)
    {
      g_printerr ("xraylab-cli eval: --model, --data and --out are required\n");
      return XL_CLI_EXIT_USAGE;
    }
  if (split_name != NULL && !parse_split (split_name, &split))
    {
      g_printerr ("xraylab-cli eval: --split must be train, val or test\n");
      return XL_CLI_EXIT_USAGE;
    }
  if (batch < 1 || batch > 1024 || threads < 1 || threads > 64)
    {
      g_printerr ("xraylab-cli eval: --batch-size 1..1024, --threads 1..64\n");
      return XL_CLI_EXIT_USAGE;
    }

  xl_model_info_init (&info);
  net = xl_model_load (model_path, (guint) batch, FALSE, threads, &info, &error);
  if (net == NULL)
    goto fail;
  threshold = info.threshold;
  if (threshold_arg != NULL && g_strcmp0 (threshold_arg, "model") != 0)
    {
      char *end;
      threshold = g_ascii_strtod (threshold_arg, &end);
      if (*end != '\0' || !(threshold >= 0 && threshold <= 1))
        {
          g_printerr ("xraylab-cli eval: --threshold must be a number from 0 to 1 or “model”\n");
          status = XL_CLI_EXIT_USAGE;
          goto out;
        }
    }

  ds = xl_dataset_scan (data, NULL, NULL, NULL, &error);
  if (ds == NULL)
    goto fail;
  if (xl_dataset_n_classes (ds) != info.n_classes)
    {
      g_set_error (&error, XL_MODEL_ERROR, XL_MODEL_ERROR_MISMATCH,
                   "%s has %u classes but the model was trained on %u", data,
                   xl_dataset_n_classes (ds), info.n_classes);
      goto fail;
    }
  for (guint c = 0; c < info.n_classes; c++)
    if (g_strcmp0 (xl_dataset_class_name (ds, c), info.classes[c]) != 0)
      {
        g_set_error (&error, XL_MODEL_ERROR, XL_MODEL_ERROR_MISMATCH,
                     "class %u is “%s” in %s but “%s” in the model", c,
                     xl_dataset_class_name (ds, c), data, info.classes[c]);
        goto fail;
      }
  idx = xl_dataset_split_indices (ds, split, &n);
  if (n == 0)
    {
      g_set_error (&error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY,
                   "%s: the %s split has no usable image", data, xl_split_name (split));
      goto fail;
    }
  cache = xl_image_cache_new (ds, info.resize, (gsize) 1 << 30);
  nn_resnet_fold_batchnorm (net, NULL);
  preds = xl_predict_indices (net, &info, cache, idx, n, (guint) batch, 1, NULL, NULL, NULL,
                              &error);
  if (preds == NULL)
    goto fail;

  if (g_mkdir_with_parents (out, 0755) != 0)
    {
      int saved = errno;
      g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot create %s: %s", out, g_strerror (saved));
      goto fail;
    }
  {
    g_autofree char *json = xl_predictions_metrics_json (preds, &info, threshold,
                                                         threshold_arg != NULL
                                                         && g_strcmp0 (threshold_arg, "model") != 0
                                                         ? "given on the command line"
                                                         : "the model's own");
    g_autofree char *metrics_path = g_build_filename (out, "metrics.json", NULL);
    g_autofree char *csv_path = g_build_filename (out, "predictions.csv", NULL);
    if (!xl_write_file_atomic (metrics_path, json, -1, &error)
        || !xl_predictions_write_csv ((const XlPredictions *[]) { preds }, 1, ds, &info, threshold,
                                       csv_path, &error)
        || !xl_plot_write_eval_report (out, ds, &info, preds, threshold, &error))
      goto fail;
  }

  printf ("%s split of %s: %u films", xl_split_name (split), data, preds->n);
  if (preds->n_failed > 0)
    printf (" (%u could not be read)", preds->n_failed);
  printf (", loss %.4f\n", preds->loss);
  if (info.n_classes == 2)
    {
      g_autofree float *scores = xl_predictions_positive_scores (preds, info.positive_class);
      g_autoptr (XlRocCurve) roc = xl_roc_curve_compute (scores, preds->labels, preds->n,
                                                         info.positive_class, NULL);
      XlBinaryMetrics m;
      xl_binary_metrics_compute (scores, preds->labels, preds->n, info.positive_class,
                                 threshold, &m, NULL);
      printf ("threshold %.3f: accuracy %.1f%%  sensitivity %.1f%%  specificity %.1f%%  "
              "precision %.1f%%  F1 %.3f  AUC %.3f\n", threshold, 100 * m.accuracy,
              100 * m.sensitivity, 100 * m.specificity, 100 * m.precision, m.f1,
              roc != NULL ? roc->auc : NAN);
    }
  printf ("wrote %s/metrics.json, predictions.csv and plots/\n", out);
  status = XL_CLI_EXIT_OK;
  goto out;

fail:
  g_printerr ("xraylab-cli eval: %s\n", error->message);
out:
  g_clear_pointer (&net, nn_resnet_free);
  xl_model_info_clear (&info);
  return status;
}
