/* cli-stats.c — `xraylab-cli stats`: what is in a data set.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Counts per split and class, class imbalance, film sizes, the mean and
 * standard deviation of the training films' gray channel (what to give
 * Normalize), an optional patient-grouped re-split, and the files that were
 * skipped and why. A hidden --bench-decode N times the input pipeline.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-commands.h"
#include "xl-dataset.h"
#include "xl-image-cache.h"
#include "xl-image.h"

#define CROP_SIZE 224

static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };

typedef struct {
  guint min_width, max_width, min_height, max_height;
} SizeRange;

typedef struct {
  gboolean done;
  guint64 histogram[256];   /* gray levels of every pixel of every train film */
  guint n_images;
  GPtrArray *failed;        /* "path: reason" of films that did not decode */
} PixelStats;

/* ---- Progress on a terminal ------------------------------------------------ */

static void
scan_progress (double      fraction,
               const char *what,
               gpointer    user_data)
{
  if (!isatty (STDERR_FILENO))
    return;
  fprintf (stderr, "\r%s %3.0f%%", (const char *) user_data, 100.0 * fraction);
  if (fraction >= 1.0)
    fprintf (stderr, "\r%*s\r", 40, "");
  fflush (stderr);
}

/* ---- Decoding in threads --------------------------------------------------- */

typedef void (*ImageFunc) (gpointer task_data, guint worker, guint index);

typedef struct {
  const guint *indices;
  guint n;
  gint next;
  gint done;
  ImageFunc func;
  gpointer task_data;
} ParallelJob;

typedef struct {
  ParallelJob *job;
  guint worker;
} ParallelWorker;

static gpointer
parallel_thread (gpointer data)
{
  ParallelWorker *worker = data;
  ParallelJob *job = worker->job;

  for (;;)
    {
      gint position = g_atomic_int_add (&job->next, 1);

      if (position >= (gint) job->n)
        break;
      job->func (job->task_data, worker->worker, job->indices[position]);
      g_atomic_int_inc (&job->done);
    }
  return NULL;
}

/* Runs func over indices in n_threads threads; shows progress on a terminal. */
static void
run_parallel (const guint *indices,
              guint        n,
              guint        n_threads,
              ImageFunc    func,
              gpointer     task_data,
              const char  *label)
{
  ParallelJob job = { indices, n, 0, 0, func, task_data };
  g_autofree ParallelWorker *workers = g_new0 (ParallelWorker, n_threads);
  g_autofree GThread **threads = g_new0 (GThread *, n_threads);
  gboolean tty = label != NULL && isatty (STDERR_FILENO);

  for (guint t = 0; t < n_threads; t++)
    {
      workers[t].job = &job;
      workers[t].worker = t;
      threads[t] = g_thread_new ("xl-stats", parallel_thread, &workers[t]);
    }
  while (tty && (guint) g_atomic_int_get (&job.done) < n)
    {
      fprintf (stderr, "\r%s %u/%u", label, (guint) g_atomic_int_get (&job.done), n);
      fflush (stderr);
      g_usleep (200 * 1000);
    }
  for (guint t = 0; t < n_threads; t++)
    g_thread_join (threads[t]);
  if (tty)
    fprintf (stderr, "\r%*s\r", 60, "");
}

typedef struct {
  XlDataset *ds;
  guint short_side;
  GMutex lock;
  PixelStats *stats;
} PixelTask;

static void
pixel_stats_one (gpointer task_data,
                 guint    worker,
                 guint    index)
{
  PixelTask *task = task_data;
  const XlImageEntry *entry = xl_dataset_image (task->ds, index);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (XlImage) img = NULL;
  guint64 histogram[256] = { 0 };
  const guint8 *data;
  gsize len, n_pixels;

  bytes = xl_dataset_read (task->ds, index, &error);
  if (bytes != NULL)
    {
      data = g_bytes_get_data (bytes, &len);
      img = xl_image_decode_short_side (data, len, task->short_side, entry->path, NULL, &error);
    }

  g_mutex_lock (&task->lock);
  if (img == NULL)
    g_ptr_array_add (task->stats->failed, g_strdup (error->message));
  g_mutex_unlock (&task->lock);
  if (img == NULL)
    return;

  n_pixels = (gsize) img->width * img->height;
  for (gsize i = 0; i < n_pixels; i++)
    histogram[img->pixels[i]]++;

  g_mutex_lock (&task->lock);
  for (guint v = 0; v < 256; v++)
    task->stats->histogram[v] += histogram[v];
  task->stats->n_images++;
  g_mutex_unlock (&task->lock);
}

/* Mean and (population) standard deviation of the gray level on [0, 1], as
 * ToTensor's output would give them, from the exact histogram. */
static void
pixel_stats_moments (const PixelStats *stats,
                     double           *mean,
                     double           *std)
{
  double count = 0, sum = 0, sum_sq = 0;

  for (guint v = 0; v < 256; v++)
    {
      double x = v / 255.0, n = (double) stats->histogram[v];

      count += n;
      sum += n * x;
      sum_sq += n * x * x;
    }
  *mean = count > 0 ? sum / count : 0;
  *std = count > 0 ? sqrt (MAX (sum_sq / count - *mean * *mean, 0.0)) : 0;
}

/* ---- The decode benchmark -------------------------------------------------- */

typedef struct {
  XlImageCache *cache;
  float *outputs;            /* (n_threads, 3, C, C) */
  float lut[3][256];
  gint failures;
} BenchTask;

/* torchvision's CenterCrop(224), ToTensor, Normalize(ImageNet), with the gray
 * film in all three channels. */
static void
bench_one (gpointer task_data,
           guint    worker,
           guint    index)
{
  BenchTask *task = task_data;
  const XlImage *img = xl_image_cache_get (task->cache, index, NULL);
  float *out = task->outputs + (gsize) worker * 3 * CROP_SIZE * CROP_SIZE;
  guint top, left;

  if (img == NULL)
    {
      g_atomic_int_inc (&task->failures);
      return;
    }
  top = xl_image_center_offset (img->height, CROP_SIZE);
  left = xl_image_center_offset (img->width, CROP_SIZE);
  for (guint c = 0; c < 3; c++)
    for (guint y = 0; y < CROP_SIZE; y++)
      {
        float *dst = out + ((gsize) c * CROP_SIZE + y) * CROP_SIZE;

        if (y + top >= img->height)
          {
            for (guint x = 0; x < CROP_SIZE; x++)
              dst[x] = task->lut[c][0];
            continue;
          }
        {
          const guint8 *src = img->pixels + (gsize) (y + top) * img->width + left;
          guint n = MIN (CROP_SIZE, img->width - MIN (left, img->width));

          for (guint x = 0; x < n; x++)
            dst[x] = task->lut[c][src[x]];
          for (guint x = n; x < CROP_SIZE; x++)
            dst[x] = task->lut[c][0];
        }
      }
  xl_image_cache_release (task->cache, img);
}

static int
bench_decode (XlDataset *ds,
              guint      n_images,
              guint      n_threads,
              guint      short_side)
{
  g_autoptr (XlImageCache) cache = NULL;
  g_autofree guint *indices = NULL;
  BenchTask task = { 0 };
  double seconds[2];
  guint n = xl_dataset_n_images (ds);

  if (n_images > 0 && n_images < n)
    n = n_images;
  if (n == 0)
    {
      g_printerr ("xraylab-cli stats: %s: no images to time\n", xl_dataset_path (ds));
      return XL_CLI_EXIT_FAILURE;
    }
  indices = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    indices[i] = i;

  cache = xl_image_cache_new (ds, short_side, G_MAXSIZE);
  task.cache = cache;
  task.outputs = g_new (float, (gsize) n_threads * 3 * CROP_SIZE * CROP_SIZE);
  for (guint c = 0; c < 3; c++)
    for (guint v = 0; v < 256; v++)
      task.lut[c][v] = ((float) v / 255.0f - imagenet_mean[c]) / imagenet_std[c];

  for (guint pass = 0; pass < 2; pass++)
    {
      gint64 start = g_get_monotonic_time ();

      run_parallel (indices, n, n_threads, bench_one, &task, NULL);
      seconds[pass] = (double) (g_get_monotonic_time () - start) / 1e6;
    }
  g_free (task.outputs);

  g_print ("decode+resize(%u)+crop(%u)+normalize, %u images, %u threads\n", short_side,
           CROP_SIZE, n, n_threads);
  g_print ("cold (read and decode): %.2f s, %.1f img/s\n", seconds[0], n / seconds[0]);
  g_print ("cached: %.3f s, %.1f img/s\n", seconds[1], n / seconds[1]);
  g_print ("cache: %.1f MB for %u images, %d failed\n",
           (double) xl_image_cache_bytes (cache) / 1e6, xl_image_cache_n_resident (cache),
           task.failures / 2);
  g_print ("bench-decode: cold %.1f img/s, cached %.1f img/s\n", n / seconds[0], n / seconds[1]);
  return XL_CLI_EXIT_OK;
}

/* ---- Output ---------------------------------------------------------------- */

static void
json_string (GString    *out,
             const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

/* Largest class over smallest; 0 when a class has no image (or one class). */
static double
imbalance (const XlDataset *ds,
           XlSplit          split)
{
  guint n_classes = xl_dataset_n_classes (ds), lo = G_MAXUINT, hi = 0;

  if (n_classes < 2)
    return 0;
  for (guint c = 0; c < n_classes; c++)
    {
      guint count = xl_dataset_count (ds, split, c);

      lo = MIN (lo, count);
      hi = MAX (hi, count);
    }
  return lo > 0 ? (double) hi / lo : 0;
}

static void
size_ranges (const XlDataset *ds,
             SizeRange       *ranges)   /* (XL_N_SPLITS + 1): the last is all */
{
  for (int s = 0; s <= XL_N_SPLITS; s++)
    ranges[s] = (SizeRange) { G_MAXUINT, 0, G_MAXUINT, 0 };
  for (int s = 0; s < XL_N_SPLITS; s++)
    {
      guint n;
      const guint *indices = xl_dataset_split_indices (ds, s, &n);

      for (guint i = 0; i < n; i++)
        {
          const XlImageEntry *entry = xl_dataset_image (ds, indices[i]);
          SizeRange *targets[2] = { &ranges[s], &ranges[XL_N_SPLITS] };

          for (guint t = 0; t < 2; t++)
            {
              targets[t]->min_width = MIN (targets[t]->min_width, entry->width);
              targets[t]->max_width = MAX (targets[t]->max_width, entry->width);
              targets[t]->min_height = MIN (targets[t]->min_height, entry->height);
              targets[t]->max_height = MAX (targets[t]->max_height, entry->height);
            }
        }
    }
}

static guint
split_total (const XlDataset *ds,
             XlSplit          split)
{
  guint n;

  xl_dataset_split_indices (ds, split, &n);
  return n;
}

static void
print_table (const XlDataset       *ds,
             const PixelStats      *pixels,
             guint                  short_side,
             const XlResplitReport *resplit,
             double                 val_fraction,
             guint64                seed)
{
  guint n_classes = xl_dataset_n_classes (ds);
  SizeRange ranges[XL_N_SPLITS + 1];
  g_autoptr (GString) classes = g_string_new (NULL);
  int width = 9;

  for (guint c = 0; c < n_classes; c++)
    {
      const char *name = xl_dataset_class_name (ds, c);

      g_string_append_printf (classes, "%s%s", c ? ", " : "", name);
      width = MAX (width, (int) strlen (name) + 2);
    }

  g_print ("Data set   %s\n", xl_dataset_path (ds));
  g_print ("Layout     %s%s%s\n",
           xl_dataset_has_splits (ds) ? "train/ val/ test/ with class folders"
                                      : "class folders, no splits (all is train)",
           *xl_dataset_root (ds) ? ", in " : "", xl_dataset_root (ds));
  g_print ("Classes    %s\n\n", classes->str);

  g_print ("%-7s", "split");
  for (guint c = 0; c < n_classes; c++)
    g_print ("%*s", width, xl_dataset_class_name (ds, c));
  g_print ("%9s%10s%11s\n", "total", "patients", "imbalance");
  for (int s = 0; s < XL_N_SPLITS; s++)
    {
      double ratio = imbalance (ds, s);

      g_print ("%-7s", xl_split_name (s));
      for (guint c = 0; c < n_classes; c++)
        g_print ("%*u", width, xl_dataset_count (ds, s, c));
      g_print ("%9u%10u", split_total (ds, s), xl_dataset_count_patients (ds, s, G_MAXUINT));
      if (ratio > 0)
        g_print ("%10.2fx\n", ratio);
      else
        g_print ("%11s\n", "-");
    }
  g_print ("%-7s", "all");
  for (guint c = 0; c < n_classes; c++)
    {
      guint total = 0;

      for (int s = 0; s < XL_N_SPLITS; s++)
        total += xl_dataset_count (ds, s, c);
      g_print ("%*u", width, total);
    }
  g_print ("%9u\n", split_total (ds, XL_SPLIT_TRAIN) + split_total (ds, XL_SPLIT_VAL)
                      + split_total (ds, XL_SPLIT_TEST));

  size_ranges (ds, ranges);
  g_print ("\n%-20s%10s%10s%10s%10s\n", "film size (pixels)", "min w", "max w", "min h", "max h");
  for (int s = 0; s <= XL_N_SPLITS; s++)
    {
      if (ranges[s].max_width == 0)
        continue;
      g_print ("%-20s%10u%10u%10u%10u\n", s == XL_N_SPLITS ? "all" : xl_split_name (s),
               ranges[s].min_width, ranges[s].max_width, ranges[s].min_height,
               ranges[s].max_height);
    }

  if (pixels->done)
    {
      double mean, std;

      pixel_stats_moments (pixels, &mean, &std);
      g_print ("\nTraining films, gray on [0,1] at short side %u (%u films; R = G = B):\n",
               short_side, pixels->n_images);
      g_print ("  mean  %.4f  %.4f  %.4f\n", mean, mean, mean);
      g_print ("  std   %.4f  %.4f  %.4f\n", std, std, std);
      for (guint i = 0; i < pixels->failed->len; i++)
        g_print ("  not decoded: %s\n", (const char *) pixels->failed->pdata[i]);
    }

  if (resplit != NULL)
    {
      g_print ("\nRe-split of train, %.0f%% to val by patient (seed %" G_GUINT64_FORMAT "):\n",
               100 * val_fraction, seed);
      g_print ("%-*s%12s%12s%12s%12s%10s\n", width, "class", "train imgs", "val imgs",
               "train pats", "val pats", "val %");
      for (guint c = 0; c < n_classes; c++)
        {
          guint total = resplit[c].images[0] + resplit[c].images[1];

          g_print ("%-*s%12u%12u%12u%12u%9.1f%%\n", width, xl_dataset_class_name (ds, c),
                   resplit[c].images[0], resplit[c].images[1], resplit[c].patients[0],
                   resplit[c].patients[1], total ? 100.0 * resplit[c].images[1] / total : 0.0);
        }
    }

  g_print ("\nSkipped files: %u\n", xl_dataset_n_skipped (ds));
  for (guint i = 0; i < xl_dataset_n_skipped (ds); i++)
    {
      const XlSkippedFile *file = xl_dataset_skipped (ds, i);

      g_print ("  %s: %s\n", file->path, file->reason);
    }
}

static void
print_json (const XlDataset       *ds,
            const PixelStats      *pixels,
            guint                  short_side,
            const XlResplitReport *resplit,
            double                 val_fraction,
            guint64                seed)
{
  g_autoptr (GString) out = g_string_new ("{\n  \"path\": ");
  guint n_classes = xl_dataset_n_classes (ds);
  SizeRange ranges[XL_N_SPLITS + 1];

  size_ranges (ds, ranges);
  json_string (out, xl_dataset_path (ds));
  g_string_append (out, ",\n  \"root\": ");
  json_string (out, xl_dataset_root (ds));
  g_string_append_printf (out, ",\n  \"layout\": \"%s\",\n  \"classes\": [",
                          xl_dataset_has_splits (ds) ? "splits" : "classes");
  for (guint c = 0; c < n_classes; c++)
    {
      g_string_append (out, c ? ", " : "");
      json_string (out, xl_dataset_class_name (ds, c));
    }
  g_string_append (out, "],\n  \"splits\": {");
  for (int s = 0; s < XL_N_SPLITS; s++)
    {
      double ratio = imbalance (ds, s);

      g_string_append_printf (out, "%s\n    \"%s\": {\"counts\": {", s ? "," : "",
                              xl_split_name (s));
      for (guint c = 0; c < n_classes; c++)
        {
          g_string_append (out, c ? ", " : "");
          json_string (out, xl_dataset_class_name (ds, c));
          g_string_append_printf (out, ": %u", xl_dataset_count (ds, s, c));
        }
      g_string_append_printf (out, "}, \"total\": %u, \"patients\": %u, ", split_total (ds, s),
                              xl_dataset_count_patients (ds, s, G_MAXUINT));
      if (ratio > 0)
        g_string_append_printf (out, "\"imbalance\": %.4f", ratio);
      else
        g_string_append (out, "\"imbalance\": null");
      if (ranges[s].max_width > 0)
        g_string_append_printf (out, ", \"width\": [%u, %u], \"height\": [%u, %u]}",
                                ranges[s].min_width, ranges[s].max_width,
                                ranges[s].min_height, ranges[s].max_height);
      else
        g_string_append (out, ", \"width\": null, \"height\": null}");
    }
  g_string_append_printf (out, "\n  },\n  \"images\": %u", xl_dataset_n_images (ds));
  if (pixels->done)
    {
      double mean, std;

      pixel_stats_moments (pixels, &mean, &std);
      g_string_append_printf (out,
                              ",\n  \"mean\": [%.6f, %.6f, %.6f],\n  \"std\": [%.6f, %.6f, %.6f],"
                              "\n  \"mean_std_short_side\": %u,\n  \"mean_std_images\": %u,"
                              "\n  \"not_decoded\": [",
                              mean, mean, mean, std, std, std, short_side, pixels->n_images);
      for (guint i = 0; i < pixels->failed->len; i++)
        {
          g_string_append (out, i ? ", " : "");
          json_string (out, pixels->failed->pdata[i]);
        }
      g_string_append (out, "]");
    }
  if (resplit != NULL)
    {
      g_string_append_printf (out, ",\n  \"resplit\": {\"val_fraction\": %g, \"seed\": %"
                              G_GUINT64_FORMAT ", \"classes\": {", val_fraction, seed);
      for (guint c = 0; c < n_classes; c++)
        {
          g_string_append (out, c ? ", " : "");
          json_string (out, xl_dataset_class_name (ds, c));
          g_string_append_printf (out, ": {\"train_images\": %u, \"val_images\": %u, "
                                  "\"train_patients\": %u, \"val_patients\": %u}",
                                  resplit[c].images[0], resplit[c].images[1],
                                  resplit[c].patients[0], resplit[c].patients[1]);
        }
      g_string_append (out, "}}");
    }
  g_string_append (out, ",\n  \"skipped\": [");
  for (guint i = 0; i < xl_dataset_n_skipped (ds); i++)
    {
      const XlSkippedFile *file = xl_dataset_skipped (ds, i);

      g_string_append (out, i ? ",\n    {\"path\": " : "\n    {\"path\": ");
      json_string (out, file->path);
      g_string_append (out, ", \"reason\": ");
      json_string (out, file->reason);
      g_string_append (out, "}");
    }
  g_string_append (out, xl_dataset_n_skipped (ds) ? "\n  ]\n}\n" : "]\n}\n");
  fputs (out->str, stdout);
}

/* ---- The command ----------------------------------------------------------- */

int
xl_cli_stats (int    argc,
              char **argv)
{
  g_autofree char *data = NULL;
  gboolean json = FALSE, no_mean_std = FALSE, keep_original_val = FALSE;
  int short_side = 256, threads = 2, bench = -1;
  double val_fraction = 0;
  gint64 seed = 0;
  GOptionEntry entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data,
      "The data set: a folder or a .zip of one (required)", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of a table", NULL },
    { "size", 's', 0, G_OPTION_ARG_INT, &short_side,
      "Short side the films are resized to for the mean and std (256)", "S" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Decoding threads (2)", "N" },
    { "no-mean-std", 0, 0, G_OPTION_ARG_NONE, &no_mean_std,
      "Skip the mean and std (which decodes every training film)", NULL },
    { "val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &val_fraction,
      "Also show a re-split of train moving this fraction to val, by patient", "F" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the re-split (0)", "N" },
    { "keep-original-val", 0, 0, G_OPTION_ARG_NONE, &keep_original_val,
      "Keep the original val images in val when re-splitting", NULL },
    { "bench-decode", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &bench,
      "Time decode+resize+crop+normalize over N images (0: all), cold then cached", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- describe a data set");
  g_autoptr (GError) error = NULL;
  g_autoptr (XlDataset) ds = NULL;
  g_autofree XlResplitReport *resplit = NULL;
  PixelStats pixels = { 0 };
  int status;

  g_set_prgname ("xraylab-cli stats");   /* "Usage: xraylab-cli stats [OPTION…]" */
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
                                "Scans a data set (train/ val/ test/ with one folder per class, "
                                "or one folder per class)\nand prints the images per split and "
                                "class, the class imbalance, the film sizes, the\nmean and "
                                "standard deviation of the training films' gray level on [0,1] "
                                "(over\nevery pixel, at the short side the films are cached at: "
                                "what to give\nNormalize), and every skipped file with the "
                                "reason.");
  g_option_context_set_description (context,
                                    "Exit status: 0 success, 1 the data could not be used, "
                                    "2 usage error.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("xraylab-cli stats: %s\n", error->message);
      return XL_CLI_EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr ("xraylab-cli stats: unexpected argument “%s”; see --help\n", argv[1]);
      return XL_CLI_EXIT_USAGE;
    }
  if (data == NULL)
    {
      g_printerr ("xraylab-cli stats: --data DIR is required; see --help\n");
      return XL_CLI_EXIT_USAGE;
    }
  if (short_side < 8 || short_side > 4096 || threads < 1 || threads > 256)
    {
      g_printerr ("xraylab-cli stats: --size must be 8..4096 and --threads 1..256\n");
      return XL_CLI_EXIT_USAGE;
    }
  if (val_fraction != 0 && !(val_fraction > 0 && val_fraction < 1))
    {
      g_printerr ("xraylab-cli stats: --val-fraction must be between 0 and 1\n");
      return XL_CLI_EXIT_USAGE;
    }

  ds = xl_dataset_scan (data, scan_progress, (gpointer) "Scanning", NULL, &error);
  if (ds == NULL)
    {
      g_printerr ("xraylab-cli stats: %s\n", error->message);
      return XL_CLI_EXIT_FAILURE;
    }

  if (bench >= 0)
    return bench_decode (ds, (guint) bench, (guint) threads, (guint) short_side);

  if (val_fraction > 0)
    {
      resplit = g_new0 (XlResplitReport, MAX (xl_dataset_n_classes (ds), 1));
      if (!xl_dataset_resplit (ds, val_fraction, (guint64) seed, keep_original_val, resplit,
                               &error))
        {
          g_printerr ("xraylab-cli stats: %s\n", error->message);
          return XL_CLI_EXIT_FAILURE;
        }
    }

  pixels.failed = g_ptr_array_new_with_free_func (g_free);
  if (!no_mean_std)
    {
      PixelTask task = { ds, (guint) short_side, { 0 }, &pixels };
      guint n_train;
      const guint *train = xl_dataset_split_indices (ds, XL_SPLIT_TRAIN, &n_train);

      g_mutex_init (&task.lock);
      run_parallel (train, n_train, (guint) threads, pixel_stats_one, &task, "Mean and std");
      g_mutex_clear (&task.lock);
      pixels.done = TRUE;
    }

  if (json)
    print_json (ds, &pixels, (guint) short_side, resplit, val_fraction, (guint64) seed);
  else
    print_table (ds, &pixels, (guint) short_side, resplit, val_fraction, (guint64) seed);
  status = XL_CLI_EXIT_OK;
  g_ptr_array_unref (pixels.failed);
  return status;
}
