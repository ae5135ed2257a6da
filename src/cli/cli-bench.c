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

/* sgemm's speed on this machine as the model runs it: one OpenBLAS thread per
 * pool thread, so the peak is one thread's rate times the threads. */
static double
sgemm_gflops_one_thread (void)
{
  const int n = 1024;
  float *a = g_new (float, n * n), *b = g_new (float, n * n), *c = g_new0 (float, n * n);
  int reps = 0;
  gint64 t0;

  for (int i = 0; i < n * n; i++)
    {
      a[i] = (float) (i % 7) * 0.01f;
      b[i] = (float) (i % 5) * 0.01f;
    }
  openblas_set_num_threads (1);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
  t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 1000000)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
      reps++;
    }
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_free (a);
  g_free (b);
  g_free (c);
  return 2.0 * n * n * n * reps / seconds / 1e9;
}

static void
print_profile (NnResnet *model, int batches, double elapsed, int threads)
{
  int n;
  const NnProfileEntry *e = nn_resnet_profile (model, &n);
  double peak = sgemm_gflops_one_thread () * threads, total = 0;

  for (int i = 0; i < n; i++)
    total += e[i].forward_seconds + e[i].backward_seconds;
  g_print ("%-28s %9s %9s %8s %8s %6s\n", "layer", "fwd ms", "bwd ms", "fwd GF/s", "bwd GF/s",
           "share");
  for (int i = 0; i < n; i++)
    {
      double f = e[i].forward_seconds, b = e[i].backward_seconds;
      char fg[16] = "", bg[16] = "";
      if (e[i].forward_flop > 0 && f > 0)
        g_snprintf (fg, sizeof fg, "%.0f", e[i].forward_flop / f / 1e9);
      if (e[i].backward_flop > 0 && b > 0)
        g_snprintf (bg, sizeof bg, "%.0f", e[i].backward_flop / b / 1e9);
      g_print ("%-28s %9.2f %9.2f %8s %8s %5.1f%%\n", e[i].name, 1000 * f / batches,
               1000 * b / batches, fg, bg, 100 * (f + b) / total);
    }
  g_print ("layers %.1f ms of %.1f ms per batch; sgemm peak %.0f GFLOP/s (%d x one thread)\n",
           1000 * total / batches, 1000 * elapsed / batches, peak, threads);
}

int
xl_cli_bench (int argc, char **argv)
{
  g_autofree char *mode = NULL;
  int batch = 16, size = 224, threads = 2, iters = 0, warmup = 2, width = 64;
  gboolean profile = FALSE, gray = FALSE;
  double seconds = 10.0;
  GOptionEntry entries[] = {
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "train (forward, backward, Adam) or infer", "MODE" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Images per batch (16)", "B" },
    { "size", 's', 0, G_OPTION_ARG_INT, &size, "Input size in pixels (224)", "S" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads (2)", "T" },
    { "iters", 'n', 0, G_OPTION_ARG_INT, &iters, "Timed batches (default: as many as fit in --seconds)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Time to measure for when --iters is not given (10)", "SEC" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Untimed batches first (2)", "N" },
    { "profile", 'p', 0, G_OPTION_ARG_NONE, &profile, "Time every layer: ms per batch and GFLOP/s against sgemm's measured peak", NULL },
    { "gray", 0, 0, G_OPTION_ARG_NONE, &gray, "Gray films, as the data pipeline makes them (one gray value through three normalized channels): the stem reads one channel", NULL },
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
                         .in_w = size, .training = train, .threads = threads };
  if (nn_resnet_new (&model, &cfg, &err) != NN_OK)
    {
      g_printerr ("xraylab-cli bench: %s\n", err.message);
      return XL_CLI_EXIT_FAILURE;
    }
  nn_resnet_init (model, 1);
  if (!train)
    nn_resnet_fold_batchnorm (model, NULL);

  static const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };
  size_t plane = (size_t) size * size, n_in = (size_t) batch * 3 * plane;
  float *input = g_new (float, n_in);
  int *labels = g_new (int, batch);
  GRand *rand = g_rand_new_with_seed (1);
  if (gray)
    {
      nn_resnet_set_gray_input (model, mean, std, NULL);
      for (size_t i = 0; i < (size_t) batch * plane; i++)
        {
          float g = (float) g_rand_int_range (rand, 0, 256) / 255.0f;
          size_t b = i / plane, at = i % plane;
          for (int c = 0; c < 3; c++)
            input[(b * 3 + (size_t) c) * plane + at] = (g - mean[c]) / std[c];
        }
    }
  else
    for (size_t i = 0; i < n_in; i++)
      input[i] = (float) g_rand_double_range (rand, -2, 2);
  for (int i = 0; i < batch; i++)
    labels[i] = i % 2;
  g_rand_free (rand);

  NnOptimConfig adam = nn_optim_defaults (NN_OPTIM_ADAM);
  int done = 0;
  nn_resnet_set_profiling (model, profile);
  double elapsed = 0, loss = 0;
  gint64 start = 0;
  for (int i = 0; ; i++)
    {
      if (i == warmup)
        {
          start = g_get_monotonic_time ();
          nn_resnet_profile_reset (model);
        }
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

  if (profile)
    print_profile (model, done, elapsed, threads);
  double ips = done * batch / elapsed;
  const char *kernel = nn_resnet_packed_kernel (model);
  g_autofree char *packed = kernel != NULL ? g_strdup_printf (", packed weights: %s kernel", kernel)
                                           : NULL;
  g_print ("%d batches in %.2f s (%.1f ms/batch)%s%s%s\n", done, elapsed, 1000 * elapsed / done,
           train ? "" : ", BatchNorm folded", gray ? ", gray films: the stem on one channel" : "",
           packed != NULL ? packed : "");
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
