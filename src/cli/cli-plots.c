/* cli-plots.c — `xraylab-cli plots RUN`: redraw a run folder's pictures and report
 * from its files, without retraining.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>

#include "cli-commands.h"
#include "xl-image-cache.h"
#include "xl-plot-report.h"
#include "xl-run-folder.h"

int
xl_cli_plots (int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("RUN - redraw a run's plots");
  g_autoptr (GError) error = NULL;
  g_autoptr (XlRunFolder) run = NULL;
  g_autoptr (XlPredictions) preds = NULL;
  g_autoptr (XlDataset) ds = NULL;
  g_autoptr (XlImageCache) cache = NULL;
  g_autofree char *settings = NULL;
  XlTransformConfig tf;
  XlSplit split;

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
  run = xl_run_folder_load (argv[1], &error);
  if (run == NULL)
    {
      g_printerr ("xraylab-cli plots: %s\n", error->message);
      return XL_CLI_EXIT_FAILURE;
    }
  split = xl_run_folder_report_split (run);
  preds = xl_run_folder_predictions (run, split);

  /* The augmented batch needs the films: draw it when the data set is still there. */
  xl_transform_config_init (&tf, run->config.augment);
  tf.resize = run->config.resize;
  tf.crop = run->config.input_size;
  ds = xl_dataset_scan (run->config.data_path, NULL, NULL, NULL, NULL);
  guint n_train = 0;
  const guint *train_idx = NULL;
  if (ds != NULL)
    {
      train_idx = xl_dataset_split_indices (ds, XL_SPLIT_TRAIN, &n_train);
      cache = xl_image_cache_new (ds, run->config.resize, 0);
    }
  else
    g_printerr ("xraylab-cli plots: %s is gone: the augmented batch is not redrawn\n",
                run->config.data_path);

  settings = xl_train_config_to_json (&run->config);
  XlRunReport report = {
    .run_dir = run->run_dir, .ds = ds, .cache = cache, .train_transform = ds != NULL ? &tf : NULL,
    .train_indices = train_idx, .n_train = n_train, .seed = run->config.seed,
    .history = (const XlEpochRecord *) run->history->data, .n_history = run->history->len,
    .planned_epochs = run->config.epochs, .batches = (const XlBatchPoint *) run->batches->data,
    .n_batches = run->batches->len, .best_epoch = run->best_epoch,
    .early_stop_epoch = run->early_stop_epoch, .info = &run->info, .predictions = preds,
    .predictions_split = xl_split_name (split), .threshold = run->info.threshold,
    .threshold_source = run->threshold_source, .settings_text = settings,
  };
  if (!xl_plot_write_run_report (&report, &error))
    {
      g_printerr ("xraylab-cli plots: %s\n", error->message);
      return XL_CLI_EXIT_FAILURE;
    }
  printf ("redrew %s/plots/ and %s/report.pdf\n", run->run_dir, run->run_dir);
  return XL_CLI_EXIT_OK;
}
