/* cli-bench.c — `xraylab-cli bench`: images per second and peak memory of a
 * ResNet-18 (2 classes) training step or inference on random data.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli-commands.h"
#include "nn-resnet.h"


static double
peak_rss_mb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (double) usage.ru_maxrss / 1024.0;   /* ru_maxrss is in KiB on Linux */
}

int
xl_cli_bench (int argc, char **argv)
{
  g_autofree char *mode = NULL;
  int batch = 16, size = 224, threads = 2, iters = 0, warmup = 2, width = 64;
  double seconds = 10.0;
  GOptionEntry entries[] = {
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "train (forward, backward, Adam) or infer", "MODE" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Images per batch (16)", "B" },
    { "size", 's', 0, G_OPTION_ARG_INT, &size, "Input size in pixels (224)", "S" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads (2)", "T" },
    { "iters", 'n', 0, G_OPTION_ARG_INT, &iters, "Timed batches (default: as many as fit in --seconds)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Time to measure for when --iters is not given (10)", "SEC" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Untimed batches first (2)", "N" },
    { "width", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &width, "Base width (64)", "W" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- measure ResNet-18 speed");
  g_autoptr (GError) error = NULL;
  NnResnet *model = NULL;
  NnError err = { 0 };
  bool train;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
                                "Runs a ResNet-18 with 2 classes on random data and prints, "
                                "as its last line,\n\"<mode> batch=B size=S threads=T: X img/s, "
                                "peak memory M MB\".");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("xraylab-cli bench: %s\n", error->message);
      return XL_CLI_EXIT_USAGE;
    }
  if (mode == NULL)
    mode = g_strdup ("train");
  if (strcmp (mode, "train") != 0 && strcmp (mode, "infer") != 0)
    {
      g_printerr ("xraylab-cli bench: --mode must be train or infer, not “%s”\n", mode);
      return XL_CLI_EXIT_USAGE;
    }
  if (batch < 1 || batch > 1024 || size < 32 || size > 1024 || threads < 1 || threads > 256
      || warmup < 0 || iters < 0 || seconds <= 0)
    {
      g_printerr ("xraylab-cli bench: batch 1..1024, size 32..1024, threads 1..256\n");
      return XL_CLI_EXIT_USAGE;
    }
  train = strcmp (mode, "train") == 0;
  openblas_set_num_threads (threads);

  NnResnetConfig cfg = { .num_classes = 2, .width = width, .batch = batch, .in_h = size,
                         .in_w = size, .training = train };
  if (nn_resnet_new (&model, &cfg, &err) != NN_OK)
    {
      g_printerr ("xraylab-cli bench: %s\n", err.message);
      return XL_CLI_EXIT_FAILURE;
    }
  nn_resnet_init (model, 1);
  if (!train)
    nn_resnet_fold_batchnorm (model, NULL);

  size_t n_in = (size_t) batch * 3 * size * size;
  float *input = g_new (float, n_in);
  int *labels = g_new (int, batch);
  GRand *rand = g_rand_new_with_seed (1);
  for (size_t i = 0; i < n_in; i++)
    input[i] = (float) g_rand_double_range (rand, -2, 2);
  for (int i = 0; i < batch; i++)
    labels[i] = i % 2;
  g_rand_free (rand);

  NnOptimConfig adam = nn_optim_defaults (NN_OPTIM_ADAM);
  int done = 0;
  double elapsed = 0, loss = 0;
  gint64 start = 0;
  for (int i = 0; ; i++)
    {
      if (i == warmup)
        start = g_get_monotonic_time ();
      if (train)
        {
          nn_resnet_forward (model, input, batch, true);
          loss = nn_resnet_loss (model, labels, NULL);
          nn_resnet_zero_grad (model);
          nn_resnet_backward (model);
          nn_resnet_step (model, &adam, 1e-4);
        }
      else
        nn_resnet_forward (model, input, batch, false);
      if (i >= warmup)
        {
          done++;
          elapsed = (double) (g_get_monotonic_time () - start) / 1e6;
          if (iters > 0 ? done >= iters : elapsed >= seconds)
            break;
        }
    }

  double ips = done * batch / elapsed;
  g_print ("%d batches in %.2f s (%.1f ms/batch)%s\n", done, elapsed, 1000 * elapsed / done,
           train ? "" : ", BatchNorm folded");
  if (train)
    g_print ("last loss %.4f, model blocks %.0f MB\n", loss,
             (double) nn_resnet_memory_bytes (model) / 1e6);
  g_print ("%s batch=%d size=%d threads=%d: %.2f img/s, peak memory %.0f MB\n", mode, batch,
           size, threads, ips, peak_rss_mb ());

  g_free (input);
  g_free (labels);
  nn_resnet_free (model);
  return XL_CLI_EXIT_OK;
}
