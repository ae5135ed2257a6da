/* xl-train-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "nn-rng.h"
#include "nn-tensor-file.h"
#include "xl-evaluate.h"
#include "xl-image-cache.h"
#include "xl-loader.h"
#include "xl-train-session.h"

/* Below this many films the validation split is too small to pick a model on
 * (the Kermany set ships 16): an automatic run re-splits train instead. */
#define MIN_VAL_IMAGES 100
#define AUTO_VAL_FRACTION 0.1

/* Activations of a frozen part, kept so its forward pass runs once. */
typedef struct {
  int group;               /* the cached activation feeds this group */
  gsize per_image;         /* floats */
  guint n_views;
  guint n;                 /* films */
  guint *labels;           /* (n) */
  float *data;             /* (n_views, n, per_image) */
} FeatureCache;

struct _XlTrainSession {
  XlTrainConfig cfg;
  gint stop_requested;     /* atomic */

  XlTrainEventFunc func;
  gpointer user_data;
  FILE *log;

  XlDataset *ds;
  XlImageCache *cache;
  NnResnet *net;
  XlModelInfo info;
  NnOptimConfig optim;
  float class_weight[XL_MAX_CLASSES];
  gboolean use_class_weight;

  const guint *train_idx, *val_idx, *test_idx;
  guint n_train, n_val, n_test;

  FeatureCache train_cache, val_cache;
  gboolean cached;         /* train and validate on the feature caches */

  GArray *history;         /* XlEpochRecord */
  GArray *batch_points;    /* XlBatchPoint */
  XlRunReportFunc report_func;
  guint early_stop_epoch;
  guint best_epoch;
  double best_metric;
  guint bad_epochs;
  guint start_epoch;       /* 0, or the epochs a resumed run had done */
  long optim_steps_at_start;
  gboolean resuming;

  /* progress and time left */
  gint64 train_started;
  guint64 batches_done, batches_total;
};

/* ---- events and the log -------------------------------------------------- */

static void
log_line (XlTrainSession *s, const char *line)
{
  if (s->log == NULL)
    return;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d %H:%M:%S");
  fprintf (s->log, "%s  %s\n", stamp, line);
  fflush (s->log);
}

static void
emit (XlTrainSession *s, XlTrainEvent *ev)
{
  if (ev->message != NULL && (ev->kind == XL_TRAIN_EVENT_LOG || ev->kind == XL_TRAIN_EVENT_ERROR
                              || ev->kind == XL_TRAIN_EVENT_STARTED
                              || ev->kind == XL_TRAIN_EVENT_FINISHED
                              || ev->kind == XL_TRAIN_EVENT_EARLY_STOP
                              || ev->kind == XL_TRAIN_EVENT_BEST))
    log_line (s, ev->message);
  if (s->func != NULL)
    s->func (ev, s->user_data);
}

static void G_GNUC_PRINTF (2, 3)
emit_log (XlTrainSession *s, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  XlTrainEvent ev = { .kind = XL_TRAIN_EVENT_LOG, .message = msg, .eta_seconds = -1 };
  emit (s, &ev);
}

typedef struct {
  XlTrainSession *s;
  const char *phase;
} ProgressCtx;

static void
on_progress (double fraction, const char *what, gpointer user_data)
{
  ProgressCtx *ctx = user_data;
  XlTrainEvent ev = { .kind = XL_TRAIN_EVENT_PROGRESS, .phase = ctx->phase,
                      .fraction = fraction, .eta_seconds = -1 };
  emit (ctx->s, &ev);
}

/* ---- lifecycle ------------------------------------------------------------- */

static XlTrainSession *
session_alloc (const XlTrainConfig *cfg)
{
  XlTrainSession *s = g_new0 (XlTrainSession, 1);

  xl_train_config_copy (&s->cfg, cfg);
  xl_model_info_init (&s->info);
  s->history = g_array_new (FALSE, TRUE, sizeof (XlEpochRecord));
  s->batch_points = g_array_new (FALSE, TRUE, sizeof (XlBatchPoint));
  return s;
}

XlTrainSession *
xl_train_session_new (const XlTrainConfig *cfg, GError **error)
{
  XlTrainSession *s;

  if (!xl_train_config_validate (cfg, error))
    return NULL;
  s = session_alloc (cfg);
  /* config.json and predictions.csv name the data set absolutely, so that
   * the run can be resumed, and its films found, from any folder. */
  if (!g_path_is_absolute (s->cfg.data_path))
    {
      char *absolute = g_canonicalize_filename (s->cfg.data_path, NULL);
      g_free (s->cfg.data_path);
      s->cfg.data_path = absolute;
    }
  return s;
}

static void
feature_cache_clear (FeatureCache *fc)
{
  g_clear_pointer (&fc->labels, g_free);
  g_clear_pointer (&fc->data, g_free);
  memset (fc, 0, sizeof *fc);
}

void
xl_train_session_free (XlTrainSession *s)
{
  if (s == NULL)
    return;
  feature_cache_clear (&s->train_cache);
  feature_cache_clear (&s->val_cache);
  g_clear_pointer (&s->net, nn_resnet_free);
  g_clear_pointer (&s->cache, xl_image_cache_free);
  g_clear_pointer (&s->ds, xl_dataset_unref);
  g_clear_pointer (&s->log, fclose);
  g_array_unref (s->history);
  g_array_unref (s->batch_points);
  xl_model_info_clear (&s->info);
  xl_train_config_clear (&s->cfg);
  g_free (s);
}

void
xl_train_session_set_report_func (XlTrainSession *s, XlRunReportFunc func)
{
  s->report_func = func;
}

const XlTrainConfig *
xl_train_session_config (const XlTrainSession *s)
{
  return &s->cfg;
}

void
xl_train_session_stop (XlTrainSession *s)
{
  g_atomic_int_set (&s->stop_requested, 1);
}

static gboolean
stop_requested (XlTrainSession *s)
{
  return g_atomic_int_get (&s->stop_requested) != 0;
}

const XlEpochRecord *
xl_train_session_history (const XlTrainSession *s, guint *n)
{
  *n = s->history->len;
  return (const XlEpochRecord *) s->history->data;
}

guint
xl_train_session_best_epoch (const XlTrainSession *s)
{
  return s->best_epoch;
}

static char *
run_path (const XlTrainSession *s, const char *name)
{
  return g_build_filename (s->cfg.out_dir, name, NULL);
}

/* ---- setting up -------------------------------------------------------- */

static gboolean
prepare_data (XlTrainSession *s, GError **error)
{
  ProgressCtx scan_ctx = { s, "Scanning the data set" };
  XlTrainConfig *cfg = &s->cfg;
  guint n_val;

  s->ds = xl_dataset_scan (cfg->data_path, on_progress, &scan_ctx, NULL, error);
  if (s->ds == NULL)
    return FALSE;
  if (xl_dataset_n_classes (s->ds) < 2 || xl_dataset_n_classes (s->ds) > XL_MAX_CLASSES)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_LAYOUT,
                   "%s: found %u classes; training needs 2 to %d class folders",
                   cfg->data_path, xl_dataset_n_classes (s->ds), XL_MAX_CLASSES);
      return FALSE;
    }
  /* one weight per class, checked before decoding: a list of another
   * length cannot say which class each weight was meant for */
  if (cfg->class_weighting == XL_CLASS_WEIGHTS_GIVEN
      && cfg->n_class_weights != xl_dataset_n_classes (s->ds))
    {
      guint nc = xl_dataset_n_classes (s->ds);
      g_autoptr (GString) names = g_string_new (NULL);
      for (guint c = 0; c < nc; c++)
        g_string_append_printf (names, "%s%s", c > 0 ? ", " : "",
                                xl_dataset_class_name (s->ds, c));
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_SETTINGS,
                   "--class-weights needs %u weights, one per class in this order: %s; "
                   "%u were given", nc, names->str, cfg->n_class_weights);
      return FALSE;
    }
  if (xl_dataset_n_skipped (s->ds) > 0)
    emit_log (s, "Skipped %u files that are not usable images (xraylab-cli stats lists them)",
              xl_dataset_n_skipped (s->ds));

  xl_dataset_split_indices (s->ds, XL_SPLIT_VAL, &n_val);
  double fraction = cfg->val_fraction;
  if (fraction < 0)
    fraction = n_val < MIN_VAL_IMAGES ? AUTO_VAL_FRACTION : 0;
  if (fraction > 0)
    {
      guint nc = xl_dataset_n_classes (s->ds);
      g_autofree XlResplitReport *report = g_new0 (XlResplitReport, nc);
      if (!xl_dataset_resplit (s->ds, fraction, cfg->seed, FALSE, report, error))
        return FALSE;
      guint patients[2] = { 0, 0 }, images[2] = { 0, 0 };
      for (guint c = 0; c < nc; c++)
        for (int side = 0; side < 2; side++)
          {
            patients[side] += report[c].patients[side];
            images[side] += report[c].images[side];
          }
      emit_log (s, "Validation: %.0f%% of train moved to val, grouped by patient "
                "(%u films of %u patients; train keeps %u films of %u patients)%s",
                fraction * 100, images[1], patients[1], images[0], patients[0],
                n_val > 0 && n_val < MIN_VAL_IMAGES
                  ? " — the data set's own val split is too small to choose a model on" : "");
    }

  s->train_idx = xl_dataset_split_indices (s->ds, XL_SPLIT_TRAIN, &s->n_train);
  s->val_idx = xl_dataset_split_indices (s->ds, XL_SPLIT_VAL, &s->n_val);
  s->test_idx = xl_dataset_split_indices (s->ds, XL_SPLIT_TEST, &s->n_test);
  if (s->n_train == 0 || s->n_val == 0)
    {
      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_EMPTY,
                   "%s: the %s split has no usable image", cfg->data_path,
                   s->n_train == 0 ? "train" : "val");
      return FALSE;
    }

  s->cache = xl_image_cache_new (s->ds, cfg->resize, cfg->image_cache_bytes);
  ProgressCtx decode_ctx = { s, "Decoding films" };
  guint n_all = s->n_train + s->n_val + s->n_test;
  g_autofree guint *all = g_new (guint, MAX (n_all, 1));
  memcpy (all, s->train_idx, s->n_train * sizeof (guint));
  memcpy (all + s->n_train, s->val_idx, s->n_val * sizeof (guint));
  if (s->n_test > 0)   /* no test split: test_idx is NULL, and memcpy from NULL is undefined */
    memcpy (all + s->n_train + s->n_val, s->test_idx, s->n_test * sizeof (guint));
  gint64 t0 = g_get_monotonic_time ();
  if (!xl_image_cache_fill (s->cache, all, n_all, cfg->threads, on_progress, &decode_ctx, NULL,
                            error))
    return FALSE;
  emit_log (s, "Decoded %u films once at short side %u in %.1f s (%.0f MB in memory)", n_all,
            cfg->resize, (g_get_monotonic_time () - t0) / 1e6,
            xl_image_cache_bytes (s->cache) / 1e6);
  return TRUE;
}

static void
compute_class_weights (XlTrainSession *s)
{
  guint nc = xl_dataset_n_classes (s->ds);
  guint counts[XL_MAX_CLASSES] = { 0 };

  s->use_class_weight = s->cfg.class_weighting != XL_CLASS_WEIGHTS_NONE;
  for (guint i = 0; i < s->n_train; i++)
    counts[xl_dataset_image (s->ds, s->train_idx[i])->class_index]++;
  for (guint c = 0; c < nc; c++)
    {
      if (s->cfg.class_weighting == XL_CLASS_WEIGHTS_BALANCED)
        s->class_weight[c] = counts[c] > 0 ? (float) s->n_train / (nc * counts[c]) : 1.0f;
      else if (s->cfg.class_weighting == XL_CLASS_WEIGHTS_GIVEN)
        s->class_weight[c] = (float) s->cfg.class_weights[c];   /* one per class: prepare_data */
      else
        s->class_weight[c] = 1.0f;
    }
  if (s->use_class_weight)
    {
      g_autoptr (GString) line = g_string_new ("Class weights:");
      for (guint c = 0; c < nc; c++)
        g_string_append_printf (line, " %s %.3f", xl_dataset_class_name (s->ds, c),
                                s->class_weight[c]);
      emit_log (s, "%s", line->str);
    }
}

static void train_transform (const XlTrainSession *s, XlTransformConfig *tf, gboolean augment);

static gboolean
prepare_model (XlTrainSession *s, GError **error)
{
  XlTrainConfig *cfg = &s->cfg;
  guint nc = xl_dataset_n_classes (s->ds);
  NnError err = { 0 };
  NnResnetConfig ncfg = {
    .num_classes = (int) nc, .width = (int) cfg->width, .batch = (int) cfg->batch_size,
    .in_h = (int) cfg->input_size, .in_w = (int) cfg->input_size, .training = true,
    .head_hidden = (int) cfg->head_hidden, .head_dropout = (float) cfg->head_dropout,
    .threads = (int) cfg->threads, .skip_init = true,   /* initialized with the run's seed next */
  };

  if (nn_resnet_new (&s->net, &ncfg, &err) != NN_OK)
    {
      xl_model_set_nn_error (error, &err);
      return FALSE;
    }
  nn_resnet_init (s->net, cfg->seed);

  if (cfg->weights_path != NULL && !s->resuming)
    {
      NnTensorFile *f = NULL;
      bool replaced = false;
      if (nn_tensor_file_read (&f, cfg->weights_path, &err) != NN_OK)
        {
          xl_model_set_nn_error (error, &err);
          return FALSE;
        }
      gboolean ours = nn_tensor_file_meta (f, XL_MODEL_METADATA_KEY) != NULL;
      NnStatus st = nn_resnet_load_state (s->net, f, ours ? NN_LOAD_STRICT : NN_LOAD_REPLACE_FC,
                                          cfg->seed, &replaced, &err);
      nn_tensor_file_free (f);
      if (st != NN_OK)
        {
          nn_error_prefix (&err, cfg->weights_path);
          xl_model_set_nn_error (error, &err);
          return FALSE;
        }
      emit_log (s, ours ? "Start weights: %s (an X-Ray Lab model: training continues from it)"
                        : replaced ? "Start weights: %s (ImageNet; a new %u-class head)"
                                   : "Start weights: %s", cfg->weights_path, nc);
    }
  else if (!s->resuming)
    emit_log (s, "Start weights: none. The network starts from random values: this is not "
              "transfer learning, and it will need far more data and epochs");

  nn_resnet_set_frozen_stages (s->net, xl_train_config_frozen_stages (cfg));
  /* the loader's films are gray (one 8-bit value through the three
   * normalized channels): the stem convolves channel 0 alone, forward and
   * for its weight gradient, a third of its work (nn-resnet.h) */
  XlTransformConfig tf;
  train_transform (s, &tf, FALSE);
  if (nn_resnet_set_gray_input (s->net, tf.mean, tf.std, &err) != NN_OK)
    {
      xl_model_set_nn_error (error, &err);
      return FALSE;
    }
  s->optim = nn_optim_defaults (cfg->optimizer);
  s->optim.momentum = cfg->momentum;
  s->optim.nesterov = cfg->nesterov;
  s->optim.weight_decay = cfg->weight_decay;

  /* what the saved model says about itself */
  g_autofree const char **names = g_new0 (const char *, nc + 1);
  for (guint c = 0; c < nc; c++)
    names[c] = xl_dataset_class_name (s->ds, c);
  xl_model_info_set_classes (&s->info, names, nc);
  s->info.width = cfg->width;
  s->info.input_size = cfg->input_size;
  s->info.resize = cfg->resize;
  s->info.head_hidden = cfg->head_hidden;
  s->info.head_dropout = (float) cfg->head_dropout;
  g_free (s->info.mode);
  s->info.mode = g_strdup (xl_train_mode_name (cfg->mode));
  s->info.frozen_stages = xl_train_config_frozen_stages (cfg);
  s->info.positive_class = nc == 2 ? 1 : 0;
  for (guint c = 0; c < nc; c++)
    if (g_ascii_strcasecmp (names[c], "PNEUMONIA") == 0)
      s->info.positive_class = c;
  return TRUE;
}

/* ---- feature caches -------------------------------------------------------- */

static void
train_transform (const XlTrainSession *s, XlTransformConfig *tf, gboolean augment)
{
  xl_transform_config_init (tf, augment);
  tf->resize = s->cfg.resize;
  tf->crop = s->cfg.input_size;
  tf->train = augment;
  if (augment)
    {
      tf->random_resized_crop = s->cfg.random_resized_crop;
      tf->rotation_degrees = s->cfg.rotation_degrees;
      tf->brightness = s->cfg.brightness;
      tf->contrast = s->cfg.contrast;
      tf->hflip = s->cfg.hflip;
    }
}

/* For fixed mode's frozen pass: a copy of the model planned for inference
 * with every BatchNorm folded into its convolution (the frozen backbone's
 * BatchNorm runs in evaluation mode, so folding changes nothing but
 * rounding), which skips BatchNorm's passes and fuses the shortcut and ReLU:
 * about 10% less time per film than the training plan's evaluation forward.
 * NULL when it cannot be made (memory): the training plan is used instead. */
static NnResnet *
folded_copy (XlTrainSession *s)
{
  NnResnetConfig cfg = *nn_resnet_config (s->net);
  XlTransformConfig tf;
  NnResnet *net = NULL;
  NnError err;

  cfg.training = false;
  cfg.keep_activations = false;
  cfg.workspace_floats = 0;
  cfg.skip_init = true;   /* every tensor is copied next */
  if (nn_resnet_new (&net, &cfg, &err) != NN_OK)
    return NULL;
  for (int i = 0; i < nn_resnet_param_count (s->net); i++)
    {
      const NnParam *from = nn_resnet_param_const (s->net, i);
      NnParam *to = nn_resnet_param (net, i);

      if (strcmp (from->name, to->name) != 0 || from->numel != to->numel)
        {
          nn_resnet_free (net);
          return NULL;
        }
      if (from->data != NULL)
        memcpy (to->data, from->data, from->numel * sizeof (float));
      if (from->data_i64 != NULL)
        memcpy (to->data_i64, from->data_i64, from->numel * sizeof (int64_t));
    }
  nn_resnet_weights_changed (net);
  /* its stem on the one channel of the gray films the loader makes */
  train_transform (s, &tf, FALSE);
  if (nn_resnet_fold_batchnorm (net, &err) != NN_OK
      || nn_resnet_set_gray_input (net, tf.mean, tf.std, &err) != NN_OK)
    {
      nn_resnet_free (net);
      return NULL;
    }
  return net;
}

/* Runs the frozen part over films once per view with net (the model, or its
 * folded copy) and keeps what feeds `group`. */
static gboolean
fill_feature_cache (XlTrainSession *s, NnResnet *net, FeatureCache *fc, const guint *indices,
                    guint n, int group, guint n_views, gboolean augment, const char *phase,
                    GError **error)
{
  gsize per_image;
  XlTransformConfig tf;
  g_autoptr (GHashTable) position = g_hash_table_new (g_direct_hash, g_direct_equal);
  ProgressCtx ctx = { s, phase };

  nn_resnet_group_input (s->net, group, &per_image);
  fc->group = group;
  fc->per_image = per_image;
  fc->n_views = n_views;
  fc->labels = g_new (guint, MAX (n, 1));
  fc->data = g_try_new (float, (gsize) n_views * MAX (n, 1) * per_image);
  if (fc->data == NULL)
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_SETTINGS,
                   "not enough memory for the feature cache (%.1f GB)",
                   (double) n_views * n * per_image * 4 / 1e9);
      return FALSE;
    }
  train_transform (s, &tf, augment);
  for (guint v = 0; v < n_views; v++)
    {
      /* each view has its own random crops: a loader seeded for that view */
      g_autoptr (XlLoader) loader = xl_loader_new (s->cache, indices, n, &tf, s->cfg.batch_size,
                                                   FALSE, FALSE, s->cfg.seed * 7919 + v + 1,
                                                   s->cfg.loader_threads, 2);
      const XlBatch *batch;
      guint done = 0;

      xl_loader_start_epoch (loader, 0);
      while ((batch = xl_loader_next (loader, error)) != NULL)
        {
          if (stop_requested (s))
            {
              xl_loader_release (loader, batch);
              xl_loader_stop (loader);
              return TRUE;
            }
          nn_resnet_forward (net, batch->images, (int) batch->n, false);
          const float *act = nn_resnet_group_input (net, group, NULL);
          for (guint i = 0; i < batch->n; i++)
            {
              gpointer key = GUINT_TO_POINTER (batch->indices[i]);
              guint pos;
              if (v == 0)
                {
                  pos = fc->n++;
                  g_hash_table_insert (position, key, GUINT_TO_POINTER (pos + 1));
                  fc->labels[pos] = (guint) batch->labels[i];
                }
              else
                {
                  guint found = GPOINTER_TO_UINT (g_hash_table_lookup (position, key));
                  if (found == 0)
                    continue;
                  pos = found - 1;
                }
              memcpy (fc->data + ((gsize) v * n + pos) * per_image, act + i * per_image,
                      per_image * sizeof (float));
            }
          done += batch->n;
          xl_loader_release (loader, batch);
          on_progress ((v + (double) done / n) / n_views, NULL, &ctx);
        }
      if (error != NULL && *error != NULL)
        return FALSE;
    }
  return TRUE;
}

/* Decides whether the frozen part's output is cached, and fills the caches. */
static gboolean
prepare_feature_caches (XlTrainSession *s, GError **error)
{
  const int frozen = xl_train_config_frozen_stages (&s->cfg);
  gsize per_image;
  guint views;

  if (frozen == 0)
    return TRUE;
  nn_resnet_group_input (s->net, frozen, &per_image);
  views = s->cfg.augment ? s->cfg.cache_views : 1;
  if (views == 0)
    {
      emit_log (s, "Feature cache: off (augmentation is on and no views are cached): the "
                "frozen layers run on every batch");
      return TRUE;
    }
  double need = (double) per_image * sizeof (float) * ((double) views * s->n_train + s->n_val);
  if (need > (double) s->cfg.feature_cache_bytes)
    {
      emit_log (s, "Feature cache: off (it would need %.1f GB, over the %.1f GB budget): the "
                "frozen layers run on every batch", need / 1e9,
                s->cfg.feature_cache_bytes / 1e9);
      return TRUE;
    }

  gint64 t0 = g_get_monotonic_time ();
  /* pooled features: the whole backbone is frozen and runs folded, once made
   * for both splits */
  NnResnet *folded = frozen == NN_GROUP_FC ? folded_copy (s) : NULL;
  NnResnet *net = folded != NULL ? folded : s->net;
  gboolean filled =
    fill_feature_cache (s, net, &s->train_cache, s->train_idx, s->n_train, frozen, views,
                        s->cfg.augment, "Caching features", error)
    && fill_feature_cache (s, net, &s->val_cache, s->val_idx, s->n_val, frozen, 1, FALSE,
                           "Caching features", error);
  g_clear_pointer (&folded, nn_resnet_free);
  if (!filled)
    return FALSE;
  if (stop_requested (s))
    return TRUE;
  s->cached = TRUE;
  g_autofree char *views_text = s->cfg.augment
    ? g_strdup_printf (" from %u augmented views per film, one per epoch", views)
    : g_strdup (" of the center crop (augmentation is off)");
  emit_log (s, "Feature cache: the frozen layers ran once (%.1f s); each epoch trains on %s%s "
            "(%.0f MB)", (g_get_monotonic_time () - t0) / 1e6,
            frozen == NN_GROUP_FC ? "pooled features" : "the last frozen stage's output",
            views_text, need / 1e6);
  return TRUE;
}

/* ---- one epoch ------------------------------------------------------------ */

static guint
count_correct (const float *probs, const int *labels, guint n, guint nc)
{
  guint correct = 0;
  for (guint i = 0; i < n; i++)
    {
      const float *p = probs + (gsize) i * nc;
      guint best = 0;
      for (guint c = 1; c < nc; c++)
        if (p[c] > p[best])
          best = c;
      correct += best == (guint) labels[i];
    }
  return correct;
}

static double
current_lr (const XlTrainSession *s, guint epoch0)
{
  switch (s->cfg.schedule)
    {
    case XL_SCHEDULE_STEP:
      return nn_lr_step (s->cfg.lr, (int) epoch0, (int) s->cfg.step_size, s->cfg.gamma);
    case XL_SCHEDULE_COSINE:
      return nn_lr_cosine (s->cfg.lr, (int) epoch0, (int) s->cfg.epochs, 0);
    case XL_SCHEDULE_NONE:
    default:
      return s->cfg.lr;
    }
}

typedef struct {
  double loss_sum;
  guint correct, seen, batches;
  gboolean diverged;
  guint diverged_batch;
} EpochStats;

static gboolean
train_batch (XlTrainSession *s, const float *input, int group, const int *labels, guint n,
             double lr, EpochStats *st, guint epoch, guint batch, guint batches,
             gint64 epoch_start)
{
  const guint nc = xl_dataset_n_classes (s->ds);

  nn_resnet_forward_from (s->net, group, input, (int) n, true);
  double loss = nn_resnet_loss (s->net, labels, s->use_class_weight ? s->class_weight : NULL);
  if (!isfinite (loss))
    {
      st->diverged = TRUE;
      st->diverged_batch = batch;
      return FALSE;
    }
  nn_resnet_zero_grad (s->net);
  nn_resnet_backward (s->net);
  nn_resnet_step (s->net, &s->optim, lr);

  st->loss_sum += loss * n;
  st->correct += count_correct (nn_resnet_probs (s->net), labels, n, nc);
  st->seen += n;
  st->batches++;
  s->batches_done++;
  XlBatchPoint point = { .x = epoch - 1 + (double) batch / batches, .loss = loss,
                         .accuracy = (double) count_correct (nn_resnet_probs (s->net), labels,
                                                             n, nc) / n };
  g_array_append_val (s->batch_points, point);

  double elapsed = (g_get_monotonic_time () - s->train_started) / 1e6;
  double per_batch = elapsed / (double) s->batches_done;
  XlTrainEvent ev = {
    .kind = XL_TRAIN_EVENT_BATCH, .epoch = epoch, .epochs = s->cfg.epochs,
    .batch = batch, .batches = batches, .batch_loss = loss,
    .running_loss = st->loss_sum / st->seen,
    .running_accuracy = (double) st->correct / st->seen, .lr = lr,
    .images_per_second = st->seen / MAX ((g_get_monotonic_time () - epoch_start) / 1e6, 1e-9),
    .fraction = (double) s->batches_done / (double) MAX (s->batches_total, 1),
    .eta_seconds = per_batch * (double) (s->batches_total - MIN (s->batches_done, s->batches_total)),
    .best_epoch = s->best_epoch,
  };
  emit (s, &ev);
  return TRUE;
}

static guint *
epoch_order (const XlTrainSession *s, const guint *labels, guint n, guint epoch0)
{
  NnRng rng;
  guint *order = g_new (guint, MAX (n, 1));

  nn_rng_seed (&rng, s->cfg.seed * 1000003u + epoch0 + 17);
  if (s->cfg.balanced_sampling)
    {
      /* a class uniformly, then a film of that class, with replacement */
      guint nc = xl_dataset_n_classes (s->ds);
      g_autofree guint *count = g_new0 (guint, nc);
      g_autofree guint **members = g_new0 (guint *, nc);
      for (guint i = 0; i < n; i++)
        count[labels[i]]++;
      for (guint c = 0; c < nc; c++)
        members[c] = g_new (guint, MAX (count[c], 1));
      memset (count, 0, nc * sizeof (guint));
      for (guint i = 0; i < n; i++)
        members[labels[i]][count[labels[i]]++] = i;
      for (guint i = 0; i < n; i++)
        {
          guint c;
          do
            c = (guint) nn_rng_below (&rng, nc);
          while (count[c] == 0);
          order[i] = members[c][nn_rng_below (&rng, count[c])];
        }
      for (guint c = 0; c < nc; c++)
        g_free (members[c]);
      return order;
    }
  for (guint i = 0; i < n; i++)
    order[i] = i;
  for (guint i = n; i > 1; i--)
    {
      guint j = (guint) nn_rng_below (&rng, i);
      guint t = order[i - 1];
      order[i - 1] = order[j];
      order[j] = t;
    }
  return order;
}

/* Trains one epoch from the feature cache. */
static void
train_epoch_cached (XlTrainSession *s, guint epoch0, double lr, EpochStats *st)
{
  FeatureCache *fc = &s->train_cache;
  const guint B = s->cfg.batch_size, view = epoch0 % fc->n_views;
  g_autofree guint *order = epoch_order (s, fc->labels, fc->n, epoch0);
  g_autofree float *input = g_new (float, (gsize) B * fc->per_image);
  g_autofree int *labels = g_new (int, B);
  guint batches = (fc->n + B - 1) / B;
  gint64 start = g_get_monotonic_time ();

  if (s->cfg.max_batches > 0)
    batches = MIN (batches, s->cfg.max_batches);
  for (guint b = 0; b < batches && !stop_requested (s); b++)
    {
      guint n = MIN (B, fc->n - b * B);
      for (guint i = 0; i < n; i++)
        {
          guint pos = order[b * B + i];
          memcpy (input + (gsize) i * fc->per_image,
                  fc->data + ((gsize) view * fc->n + pos) * fc->per_image,
                  fc->per_image * sizeof (float));
          labels[i] = (int) fc->labels[pos];
        }
      if (!train_batch (s, input, fc->group, labels, n, lr, st, epoch0 + 1, b + 1, batches,
                        start))
        return;
    }
}

static gboolean
train_epoch_loader (XlTrainSession *s, XlLoader *loader, guint epoch0, double lr,
                    EpochStats *st, GError **error)
{
  const XlBatch *batch;
  guint batches = xl_loader_n_batches (loader), b = 0;
  gint64 start = g_get_monotonic_time ();

  if (s->cfg.max_batches > 0)
    batches = MIN (batches, s->cfg.max_batches);
  xl_loader_start_epoch (loader, epoch0);
  while (b < batches && !stop_requested (s) && (batch = xl_loader_next (loader, error)) != NULL)
    {
      gboolean ok = train_batch (s, batch->images, NN_GROUP_STEM, batch->labels, batch->n, lr,
                                 st, epoch0 + 1, ++b, batches, start);
      xl_loader_release (loader, batch);
      if (!ok)
        break;
    }
  xl_loader_stop (loader);
  return error == NULL || *error == NULL;
}

/* Validation loss (with the training criterion) and accuracy. */
static gboolean
validate (XlTrainSession *s, XlLoader *loader, double *loss, double *accuracy, GError **error)
{
  const guint nc = xl_dataset_n_classes (s->ds);
  const float *cw = s->use_class_weight ? s->class_weight : NULL;
  double loss_sum = 0, weight_sum = 0;
  guint correct = 0, seen = 0;

  if (s->cached)
    {
      FeatureCache *fc = &s->val_cache;
      const guint B = s->cfg.batch_size;
      g_autofree int *labels = g_new (int, B);
      for (guint b0 = 0; b0 < fc->n; b0 += B)
        {
          guint n = MIN (B, fc->n - b0);
          for (guint i = 0; i < n; i++)
            labels[i] = (int) fc->labels[b0 + i];
          nn_resnet_forward_from (s->net, fc->group, fc->data + (gsize) b0 * fc->per_image,
                                  (int) n, false);
          /* the loss is a weighted mean per batch: undo it to average over the split */
          double w = 0;
          for (guint i = 0; i < n; i++)
            w += cw != NULL ? cw[labels[i]] : 1.0;
          loss_sum += nn_resnet_loss (s->net, labels, cw) * w;
          weight_sum += w;
          correct += count_correct (nn_resnet_probs (s->net), labels, n, nc);
          seen += n;
        }
    }
  else
    {
      const XlBatch *batch;
      xl_loader_start_epoch (loader, 0);
      while ((batch = xl_loader_next (loader, error)) != NULL)
        {
          nn_resnet_forward (s->net, batch->images, (int) batch->n, false);
          double w = 0;
          for (guint i = 0; i < batch->n; i++)
            w += cw != NULL ? cw[batch->labels[i]] : 1.0;
          loss_sum += nn_resnet_loss (s->net, batch->labels, cw) * w;
          weight_sum += w;
          correct += count_correct (nn_resnet_probs (s->net), batch->labels, batch->n, nc);
          seen += batch->n;
          xl_loader_release (loader, batch);
        }
      if (error != NULL && *error != NULL)
        return FALSE;
    }
  *loss = weight_sum > 0 ? loss_sum / weight_sum : NAN;
  *accuracy = seen > 0 ? (double) correct / seen : NAN;
  return TRUE;
}

/* ---- checkpoints ------------------------------------------------------------ */

static char *
history_csv (const XlTrainSession *s)
{
  GString *out = g_string_new ("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,"
                               "seconds,images_per_second,best\n");
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE],
      d[G_ASCII_DTOSTR_BUF_SIZE], e[G_ASCII_DTOSTR_BUF_SIZE], f[G_ASCII_DTOSTR_BUF_SIZE],
      g[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < s->history->len; i++)
    {
      const XlEpochRecord *r = &g_array_index (s->history, XlEpochRecord, i);
      g_string_append_printf (out, "%u,%s,%s,%s,%s,%s,%s,%s,%d\n", r->epoch,
                              g_ascii_formatd (a, sizeof a, "%.6f", r->train_loss),
                              g_ascii_formatd (b, sizeof b, "%.6f", r->train_accuracy),
                              g_ascii_formatd (c, sizeof c, "%.6f", r->val_loss),
                              g_ascii_formatd (d, sizeof d, "%.6f", r->val_accuracy),
                              g_ascii_formatd (e, sizeof e, "%.3g", r->lr),
                              g_ascii_formatd (f, sizeof f, "%.2f", r->seconds),
                              g_ascii_formatd (g, sizeof g, "%.1f", r->images_per_second),
                              r->epoch == s->best_epoch);
    }
  return g_string_free (out, FALSE);
}

/* history.csv, one row per epoch, and batches.csv, one per training batch
 * (x is the fractional epoch), so `xraylab-cli plots` can redraw the curves. */
static gboolean
write_history (XlTrainSession *s, GError **error)
{
  g_autofree char *csv = history_csv (s);
  g_autofree char *path = run_path (s, "history.csv");
  g_autofree char *batches_path = run_path (s, "batches.csv");
  g_autoptr (GString) batches = g_string_new ("x,loss,accuracy\n");
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < s->batch_points->len; i++)
    {
      const XlBatchPoint *p = &g_array_index (s->batch_points, XlBatchPoint, i);
      g_string_append_printf (batches, "%s,%s,%s\n", g_ascii_formatd (a, sizeof a, "%.5f", p->x),
                              g_ascii_formatd (b, sizeof b, "%.6f", p->loss),
                              g_ascii_formatd (c, sizeof c, "%.4f", p->accuracy));
    }
  return xl_write_file_atomic (path, csv, -1, error)
         && xl_write_file_atomic (batches_path, batches->str, (gssize) batches->len, error);
}

static gboolean
save_best (XlTrainSession *s, GError **error)
{
  g_autofree char *path = run_path (s, "model.safetensors");
  return xl_model_save (s->net, &s->info, path, error);
}

/* The state after an epoch: weights, running statistics, optimizer moments and
 * where the run stands, so --resume continues exactly as if never stopped. */
static gboolean
save_checkpoint (XlTrainSession *s, guint epochs_done, GError **error)
{
  g_autofree char *path = run_path (s, "checkpoint.safetensors");
  int n = nn_resnet_param_count (s->net);
  g_autofree NnNamedTensor *t = g_new0 (NnNamedTensor, n + 2);
  size_t n_state;
  float *m = nn_resnet_optim_state (s->net, 0, &n_state);
  float *v = nn_resnet_optim_state (s->net, 1, &n_state);
  NnError err = { 0 };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;

  for (int i = 0; i < n; i++)
    {
      const NnParam *p = nn_resnet_param_const (s->net, i);
      t[i].name = (char *) p->name;
      t[i].ndim = p->ndim;
      for (int d = 0; d < p->ndim; d++)
        t[i].shape[d] = p->shape[d];
      t[i].numel = p->numel;
      t[i].dtype = p->data_i64 != NULL ? NN_DTYPE_I64 : NN_DTYPE_F32;
      t[i].data = p->data_i64 != NULL ? (void *) p->data_i64 : (void *) p->data;
    }
  t[n] = (NnNamedTensor) { .name = (char *) "optimizer.m", .dtype = NN_DTYPE_F32, .ndim = 1,
                           .shape = { (int64_t) n_state }, .numel = n_state, .data = m };
  t[n + 1] = (NnNamedTensor) { .name = (char *) "optimizer.v", .dtype = NN_DTYPE_F32, .ndim = 1,
                               .shape = { (int64_t) n_state }, .numel = n_state, .data = v };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "epochs_done");
  json_builder_add_int_value (b, epochs_done);
  json_builder_set_member_name (b, "optim_steps");
  json_builder_add_int_value (b, nn_resnet_optim_steps (s->net));
  json_builder_set_member_name (b, "best_epoch");
  json_builder_add_int_value (b, s->best_epoch);
  json_builder_set_member_name (b, "best_metric");
  json_builder_add_double_value (b, s->best_metric);
  json_builder_set_member_name (b, "bad_epochs");
  json_builder_add_int_value (b, s->bad_epochs);
  json_builder_set_member_name (b, "history");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->history->len; i++)
    {
      const XlEpochRecord *r = &g_array_index (s->history, XlEpochRecord, i);
      json_builder_begin_array (b);
      json_builder_add_int_value (b, r->epoch);
      json_builder_add_double_value (b, r->train_loss);
      json_builder_add_double_value (b, r->train_accuracy);
      json_builder_add_double_value (b, r->val_loss);
      json_builder_add_double_value (b, r->val_accuracy);
      json_builder_add_double_value (b, r->lr);
      json_builder_add_double_value (b, r->seconds);
      json_builder_add_double_value (b, r->images_per_second);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, NULL);

  const char *keys[] = { "xraylab-checkpoint" }, *values[] = { json };
  if (nn_safetensors_write (path, t, (size_t) n + 2, keys, values, 1, &err) != NN_OK)
    {
      g_set_error_literal (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_IO, err.message);
      return FALSE;
    }
  return TRUE;
}

/* A checkpoint's JSON as read: json-glib's getters emit a critical for an
 * object or an array where they expect a value, so anything else reads as
 * fallback. */
static gint64
int_member (JsonObject *o, const char *name, gint64 fallback)
{
  JsonNode *n = json_object_get_member (o, name);

  return n != NULL && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_int (n) : fallback;
}

static double
double_element (JsonArray *a, guint i)
{
  JsonNode *n = json_array_get_element (a, i);

  return JSON_NODE_HOLDS_VALUE (n) ? json_node_get_double (n) : NAN;
}

static gboolean
load_checkpoint (XlTrainSession *s, GError **error)
{
  g_autofree char *path = run_path (s, "checkpoint.safetensors");
  NnTensorFile *f = NULL;
  NnError err = { 0 };
  g_autoptr (JsonParser) parser = json_parser_new ();
  gboolean ok = FALSE;
  const char *json;
  JsonObject *o;
  g_autofree NnNamedTensor *model_tensors = NULL;

  if (nn_tensor_file_read (&f, path, &err) != NN_OK)
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME, "cannot resume: %s",
                   err.message);
      return FALSE;
    }
  json = nn_tensor_file_meta (f, "xraylab-checkpoint");
  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME,
                   "cannot resume: %s is not a training checkpoint", path);
      goto out;
    }
  o = json_node_get_object (json_parser_get_root (parser));

  /* the optimizer moments are not model tensors: load them apart */
  size_t n_state;
  float *m = nn_resnet_optim_state (s->net, 0, &n_state);
  float *v = nn_resnet_optim_state (s->net, 1, &n_state);
  const NnNamedTensor *tm = nn_tensor_file_find (f, "optimizer.m");
  const NnNamedTensor *tv = nn_tensor_file_find (f, "optimizer.v");
  if (tm == NULL || tv == NULL || tm->dtype != NN_DTYPE_F32 || tv->dtype != NN_DTYPE_F32
      || tm->numel != n_state || tv->numel != n_state)
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME,
                   "cannot resume: %s has no optimizer state for this model", path);
      goto out;
    }
  NnTensorFile state = *f;
  model_tensors = g_new (NnNamedTensor, f->n_tensors);
  state.tensors = model_tensors;
  state.n_tensors = 0;
  for (size_t i = 0; i < f->n_tensors; i++)
    if (!g_str_has_prefix (f->tensors[i].name, "optimizer."))
      model_tensors[state.n_tensors++] = f->tensors[i];
  if (nn_resnet_load_state (s->net, &state, NN_LOAD_STRICT, 0, NULL, &err) != NN_OK)
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME, "cannot resume: %s: %s", path,
                   err.message);
      goto out;
    }
  memcpy (m, tm->data, n_state * sizeof (float));
  memcpy (v, tv->data, n_state * sizeof (float));
  nn_resnet_set_optim_steps (s->net, int_member (o, "optim_steps", 0));
  s->start_epoch = (guint) int_member (o, "epochs_done", 0);
  s->best_epoch = (guint) int_member (o, "best_epoch", 0);
  {
    JsonNode *best = json_object_get_member (o, "best_metric");
    s->best_metric = best != NULL && JSON_NODE_HOLDS_VALUE (best) ? json_node_get_double (best)
                                                                  : NAN;
  }
  s->bad_epochs = (guint) int_member (o, "bad_epochs", 0);
  JsonNode *hist = json_object_get_member (o, "history");
  if (hist != NULL && JSON_NODE_HOLDS_ARRAY (hist))
    {
      JsonArray *a = json_node_get_array (hist);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *row_node = json_array_get_element (a, i);
          JsonArray *row = JSON_NODE_HOLDS_ARRAY (row_node) ? json_node_get_array (row_node) : NULL;
          if (row == NULL || json_array_get_length (row) < 8)
            continue;
          XlEpochRecord r = {
            .epoch = JSON_NODE_HOLDS_VALUE (json_array_get_element (row, 0))
                       ? (guint) json_node_get_int (json_array_get_element (row, 0)) : 0,
            .train_loss = double_element (row, 1),
            .train_accuracy = double_element (row, 2),
            .val_loss = double_element (row, 3),
            .val_accuracy = double_element (row, 4),
            .lr = double_element (row, 5),
            .seconds = double_element (row, 6),
            .images_per_second = double_element (row, 7),
          };
          g_array_append_val (s->history, r);
        }
    }
  ok = TRUE;

out:
  nn_tensor_file_free (f);
  return ok;
}

XlTrainSession *
xl_train_session_new_resume (const char *run_dir, guint epochs, GError **error)
{
  g_autofree char *config_path = g_build_filename (run_dir, "config.json", NULL);
  g_autofree char *json = NULL;
  g_autoptr (GError) local = NULL;
  XlTrainConfig cfg;
  XlTrainSession *s;

  if (!g_file_get_contents (config_path, &json, NULL, &local))
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME,
                   "cannot resume %s: %s", run_dir, local->message);
      return NULL;
    }
  xl_train_config_init (&cfg, XL_TRAIN_FINETUNE);
  if (!xl_train_config_from_json (&cfg, json, error))
    {
      g_prefix_error (error, "cannot resume %s: ", run_dir);
      xl_train_config_clear (&cfg);
      return NULL;
    }
  g_free (cfg.out_dir);
  cfg.out_dir = g_strdup (run_dir);
  if (epochs > 0)
    cfg.epochs = epochs;
  s = session_alloc (&cfg);
  s->resuming = TRUE;
  xl_train_config_clear (&cfg);
  return s;
}

/* ---- the run -------------------------------------------------------------- */

static gboolean
is_better (const XlTrainSession *s, double val_loss, double val_accuracy)
{
  if (s->best_epoch == 0)
    return TRUE;
  if (s->cfg.monitor == XL_MONITOR_VAL_ACCURACY)
    return val_accuracy > s->best_metric;
  return val_loss < s->best_metric;
}

/* A writer killed mid-write leaves its temporary file behind (".NAME.XXXXXX"
 * beside NAME, see nn_atomic_file_open), as large as a model: a session owns
 * its run folder, so it clears the ones of the files it writes. */
static void
remove_stale_temporaries (const char *dir)
{
  static const char *const ours[] = { "model.safetensors", "checkpoint.safetensors",
                                      "config.json", "history.csv", "batches.csv",
                                      "metrics.json", "predictions.csv", "report.pdf" };
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (ours); i++)
      {
        gsize len = strlen (ours[i]);
        if (name[0] == '.' && strncmp (name + 1, ours[i], len) == 0 && name[1 + len] == '.'
            && strlen (name + 2 + len) == 6)
          {
            g_autofree char *path = g_build_filename (dir, name, NULL);
            g_unlink (path);
          }
      }
}

static gboolean
open_run_folder (XlTrainSession *s, GError **error)
{
  g_autofree char *plots = run_path (s, "plots");
  g_autofree char *log_path = run_path (s, "log.txt");

  if (g_mkdir_with_parents (plots, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_IO, "cannot create the run folder %s: %s",
                   s->cfg.out_dir, g_strerror (saved));
      return FALSE;
    }
  remove_stale_temporaries (s->cfg.out_dir);
  s->log = g_fopen (log_path, s->resuming ? "a" : "w");
  if (s->log == NULL)
    {
      int saved = errno;
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_IO, "cannot write %s: %s", log_path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_config (XlTrainSession *s, GError **error)
{
  g_autofree char *json = xl_train_config_to_json (&s->cfg);
  g_autofree char *path = run_path (s, "config.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  JsonObject *o;

  /* add what the run found: classes and counts per split */
  json_parser_load_from_data (parser, json, -1, NULL);
  o = json_node_get_object (json_parser_get_root (parser));
  JsonArray *classes = json_array_new ();
  for (guint c = 0; c < xl_dataset_n_classes (s->ds); c++)
    json_array_add_string_element (classes, xl_dataset_class_name (s->ds, c));
  json_object_set_array_member (o, "classes", classes);
  JsonObject *counts = json_object_new ();
  for (int split = 0; split < XL_N_SPLITS; split++)
    {
      JsonArray *per_class = json_array_new ();
      for (guint c = 0; c < xl_dataset_n_classes (s->ds); c++)
        json_array_add_int_element (per_class, xl_dataset_count (s->ds, split, c));
      json_object_set_array_member (counts, xl_split_name (split), per_class);
    }
  json_object_set_object_member (o, "counts", counts);
  json_generator_set_root (gen, json_parser_get_root (parser));
  json_generator_set_pretty (gen, TRUE);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  return xl_write_file_atomic (path, text, -1, error);
}

/* Reloads the best model's weights into the training network. */
static gboolean
restore_best (XlTrainSession *s, GError **error)
{
  g_autofree char *path = run_path (s, "model.safetensors");
  NnError err = { 0 };

  if (nn_resnet_load_file (s->net, path, NN_LOAD_STRICT, 0, NULL, &err) != NN_OK)
    {
      xl_model_set_nn_error (error, &err);
      return FALSE;
    }
  return TRUE;
}

static gboolean
final_reports (XlTrainSession *s, GError **error)
{
  ProgressCtx ctx = { s, "Evaluating the best model" };
  g_autoptr (XlPredictions) val = NULL;
  g_autoptr (XlPredictions) test = NULL;
  g_autoptr (GString) metrics = g_string_new ("{\n");
  g_autofree char *val_json = NULL;
  g_autofree char *test_json = NULL;
  g_autofree char *path = NULL;
  double threshold = 0.5;
  const char *source = "0.5 (default)";

  if (!restore_best (s, error))
    return FALSE;
  val = xl_predict_indices (s->net, &s->info, s->cache, s->val_idx, s->n_val,
                            s->cfg.batch_size, s->cfg.loader_threads, on_progress, &ctx, NULL,
                            error);
  if (val == NULL)
    return FALSE;
  if (s->info.n_classes == 2)
    {
      threshold = xl_predictions_youden_threshold (val, s->info.positive_class);
      source = "Youden's J on the validation split";
    }
  s->info.threshold = threshold;
  val_json = xl_predictions_metrics_json (val, &s->info, threshold, source);
  g_string_append_printf (metrics, "\"val\": %s", val_json);
  if (s->n_test > 0)
    {
      test = xl_predict_indices (s->net, &s->info, s->cache, s->test_idx, s->n_test,
                                 s->cfg.batch_size, s->cfg.loader_threads, on_progress, &ctx,
                                 NULL, error);
      if (test == NULL)
        return FALSE;
      test_json = xl_predictions_metrics_json (test, &s->info, threshold, source);
      g_string_append_printf (metrics, ",\n\"test\": %s", test_json);
    }
  g_string_append_printf (metrics, ",\n\"run\": {\"best_epoch\": %u, \"early_stop_epoch\": %u, "
                          "\"epochs\": %u, \"planned_epochs\": %u, \"stopped\": %s}\n}\n",
                          s->best_epoch, s->early_stop_epoch, s->history->len, s->cfg.epochs,
                          stop_requested (s) ? "true" : "false");
  path = run_path (s, "metrics.json");
  if (!xl_write_file_atomic (path, metrics->str, (gssize) metrics->len, error))
    return FALSE;

  /* the saved model carries its threshold and its test (or val) metrics */
  g_free (s->info.metrics_json);
  s->info.metrics_json = g_strdup (test_json != NULL ? test_json : val_json);
  if (!save_best (s, error))
    return FALSE;

  g_free (path);
  path = run_path (s, "predictions.csv");
  const XlPredictions *which = test != NULL ? test : val;
  const XlPredictions *parts[] = { val, test };
  if (!xl_predictions_write_csv (parts, G_N_ELEMENTS (parts), s->ds, &s->info, threshold, path,
                                 error))
    return FALSE;

  if (s->report_func != NULL)
    {
      XlTransformConfig tf;
      g_autofree char *settings = xl_train_config_to_json (&s->cfg);
      train_transform (s, &tf, s->cfg.augment);
      XlRunReport report = {
        .run_dir = s->cfg.out_dir, .ds = s->ds, .cache = s->cache, .train_transform = &tf,
        .train_indices = s->train_idx, .n_train = s->n_train, .seed = s->cfg.seed,
        .history = (const XlEpochRecord *) s->history->data, .n_history = s->history->len,
        .planned_epochs = s->cfg.epochs, .batches = (const XlBatchPoint *) s->batch_points->data,
        .n_batches = s->batch_points->len, .best_epoch = s->best_epoch,
        .early_stop_epoch = s->early_stop_epoch, .info = &s->info, .predictions = which,
        .predictions_split = test != NULL ? "test" : "val", .threshold = threshold,
        .threshold_source = source, .settings_text = settings,
      };
      ProgressCtx plot_ctx = { s, "Drawing the reports" };
      on_progress (0, NULL, &plot_ctx);
      if (!s->report_func (&report, error))
        return FALSE;
    }

  if (s->info.n_classes == 2)
    {
      g_autofree float *scores = xl_predictions_positive_scores (which, s->info.positive_class);
      XlBinaryMetrics bm;
      xl_binary_metrics_compute (scores, which->labels, which->n, s->info.positive_class,
                                 threshold, &bm, NULL);
      g_autofree float *all = xl_predictions_positive_scores (which, s->info.positive_class);
      g_autoptr (XlRocCurve) roc = which->n > 0 ? xl_roc_curve_compute (
                                     all, which->labels, which->n, s->info.positive_class, NULL)
                                                : NULL;
      emit_log (s, "%s split, best model (epoch %u), threshold %.3f: accuracy %.1f%%, "
                "sensitivity %.1f%%, specificity %.1f%%, F1 %.3f, AUC %.3f",
                test != NULL ? "Test" : "Validation", s->best_epoch, threshold,
                100 * bm.accuracy, 100 * bm.sensitivity, 100 * bm.specificity, bm.f1,
                roc != NULL ? roc->auc : NAN);
    }
  return TRUE;
}

gboolean
xl_train_session_run (XlTrainSession *s, XlTrainEventFunc func, gpointer user_data,
                      GError **error)
{
  XlTrainConfig *cfg = &s->cfg;
  g_autoptr (XlLoader) train_loader = NULL;
  g_autoptr (XlLoader) val_loader = NULL;
  g_autoptr (GError) local = NULL;
  gboolean diverged = FALSE, early = FALSE;
  g_autofree char *diverged_msg = NULL;

  s->func = func;
  s->user_data = user_data;

  if (!open_run_folder (s, &local))
    goto fail;
  if (s->resuming)
    emit_log (s, "Resuming the run in %s", cfg->out_dir);
  if (!prepare_data (s, &local) || !write_config (s, &local) || !prepare_model (s, &local))
    goto fail;
  compute_class_weights (s);
  if (s->resuming && !load_checkpoint (s, &local))
    goto fail;

  {
    g_autofree char *plan = g_strdup_printf (
        "%s on %u classes: %zu parameters, %zu trainable; %u train / %u val / %u test films; "
        "%s lr %g, batch %u at %ux%u; %u threads",
        cfg->mode == XL_TRAIN_FIXED ? "Fixed feature extractor (only the head trains)"
        : cfg->mode == XL_TRAIN_PARTIAL ? "Partly frozen"
                                        : "Fine-tuning every layer",
        xl_dataset_n_classes (s->ds), nn_resnet_num_parameters (s->net),
        nn_resnet_num_trainable (s->net), s->n_train, s->n_val, s->n_test,
        cfg->optimizer == NN_OPTIM_SGD ? "SGD" : cfg->optimizer == NN_OPTIM_ADAM ? "Adam" : "AdamW",
        cfg->lr, cfg->batch_size, cfg->input_size, cfg->input_size, cfg->threads);
    XlTrainEvent ev = { .kind = XL_TRAIN_EVENT_STARTED, .epochs = cfg->epochs,
                        .n_parameters = nn_resnet_num_parameters (s->net),
                        .n_trainable = nn_resnet_num_trainable (s->net), .message = plan,
                        .eta_seconds = -1 };
    emit (s, &ev);
    if (xl_train_config_frozen_stages (cfg) > 0)
      emit_log (s, "Frozen layers run in evaluation mode: their BatchNorm uses its running "
                "statistics, which is what makes their output cacheable");
  }

  if (!prepare_feature_caches (s, &local))
    goto fail;

  XlTransformConfig train_tf, val_tf;
  train_transform (s, &train_tf, cfg->augment);
  train_transform (s, &val_tf, FALSE);
  if (!s->cached)
    train_loader = xl_loader_new (s->cache, s->train_idx, s->n_train, &train_tf,
                                  cfg->batch_size, TRUE, cfg->balanced_sampling, cfg->seed,
                                  cfg->loader_threads, 3);
  val_loader = xl_loader_new (s->cache, s->val_idx, s->n_val, &val_tf, cfg->batch_size, FALSE,
                              FALSE, cfg->seed, cfg->loader_threads, 2);

  guint per_epoch = s->cached ? (s->train_cache.n + cfg->batch_size - 1) / cfg->batch_size
                              : xl_loader_n_batches (train_loader);
  if (cfg->max_batches > 0)
    per_epoch = MIN (per_epoch, cfg->max_batches);
  s->batches_total = (guint64) per_epoch * (cfg->epochs - MIN (s->start_epoch, cfg->epochs));
  s->train_started = g_get_monotonic_time ();

  for (guint epoch0 = s->start_epoch; epoch0 < cfg->epochs && !stop_requested (s); epoch0++)
    {
      EpochStats st = { 0 };
      double lr = current_lr (s, epoch0), val_loss, val_acc;
      gint64 t0 = g_get_monotonic_time ();

      nn_resnet_seed_dropout (s->net, cfg->seed * 31 + epoch0);
      if (s->cached)
        train_epoch_cached (s, epoch0, lr, &st);
      else if (!train_epoch_loader (s, train_loader, epoch0, lr, &st, &local))
        goto fail;
      if (st.diverged)
        {
          diverged = TRUE;
          diverged_msg = g_strdup_printf ("loss diverged at epoch %u, batch %u: lower the "
                                          "learning rate (it was %g)", epoch0 + 1,
                                          st.diverged_batch, lr);
          break;
        }
      if (stop_requested (s))
        {
          emit_log (s, "Stopped during epoch %u: it is not counted; the best model so far is "
                    "kept", epoch0 + 1);
          break;
        }
      double train_seconds = (g_get_monotonic_time () - t0) / 1e6;
      if (!validate (s, val_loader, &val_loss, &val_acc, &local))
        goto fail;
      XlEpochRecord rec = {
        .epoch = epoch0 + 1, .train_loss = st.loss_sum / MAX (st.seen, 1),
        .train_accuracy = (double) st.correct / MAX (st.seen, 1), .val_loss = val_loss,
        .val_accuracy = val_acc, .lr = lr, .seconds = (g_get_monotonic_time () - t0) / 1e6,
        .images_per_second = st.seen / MAX (train_seconds, 1e-9),
      };
      g_array_append_val (s->history, rec);

      gboolean better = is_better (s, val_loss, val_acc);
      if (better)
        {
          s->best_epoch = rec.epoch;
          s->best_metric = cfg->monitor == XL_MONITOR_VAL_ACCURACY ? val_acc : val_loss;
          s->bad_epochs = 0;
          if (!save_best (s, &local))
            goto fail;
        }
      else
        s->bad_epochs++;

      if (!write_history (s, &local) || !save_checkpoint (s, epoch0 + 1, &local))
        goto fail;

      g_autofree char *line = g_strdup_printf (
          "Epoch %u/%u: train loss %.4f, accuracy %.1f%%; val loss %.4f, accuracy %.1f%%; "
          "lr %.3g; %.1f s, %.1f img/s%s", rec.epoch, cfg->epochs, rec.train_loss,
          100 * rec.train_accuracy, val_loss, 100 * val_acc, lr, rec.seconds,
          rec.images_per_second, better ? " (best so far: saved)" : "");
      log_line (s, line);
      double elapsed = (g_get_monotonic_time () - s->train_started) / 1e6;
      guint done_epochs = epoch0 + 1 - s->start_epoch;
      XlTrainEvent ev = {
        .kind = XL_TRAIN_EVENT_EPOCH, .epoch = rec.epoch, .epochs = cfg->epochs,
        .train_loss = rec.train_loss, .train_accuracy = rec.train_accuracy,
        .val_loss = val_loss, .val_accuracy = val_acc, .lr = lr, .seconds = rec.seconds,
        .images_per_second = rec.images_per_second,
        .fraction = (double) (epoch0 + 1) / cfg->epochs,
        .eta_seconds = elapsed / done_epochs * (cfg->epochs - epoch0 - 1),
        .best_epoch = s->best_epoch, .message = line,
      };
      emit (s, &ev);
      if (better)
        {
          g_autofree char *msg = g_strdup_printf ("Best model so far (epoch %u) saved",
                                                  rec.epoch);
          XlTrainEvent best = { .kind = XL_TRAIN_EVENT_BEST, .epoch = rec.epoch,
                                .best_epoch = rec.epoch, .message = msg, .eta_seconds = -1 };
          emit (s, &best);
        }
      if (cfg->patience > 0 && s->bad_epochs >= cfg->patience && epoch0 + 1 < cfg->epochs)
        {
          g_autofree char *msg = g_strdup_printf (
              "Early stop after epoch %u: %s has not improved for %u epochs; the best model "
              "is epoch %u", rec.epoch,
              cfg->monitor == XL_MONITOR_VAL_LOSS ? "the validation loss" : "the validation accuracy",
              cfg->patience, s->best_epoch);
          XlTrainEvent es = { .kind = XL_TRAIN_EVENT_EARLY_STOP, .epoch = rec.epoch,
                              .best_epoch = s->best_epoch, .message = msg, .eta_seconds = -1 };
          emit (s, &es);
          early = TRUE;
          s->early_stop_epoch = rec.epoch;
          break;
        }
    }

  if (diverged)
    {
      XlTrainEvent ev = { .kind = XL_TRAIN_EVENT_ERROR, .message = diverged_msg,
                          .best_epoch = s->best_epoch, .eta_seconds = -1 };
      emit (s, &ev);
    }
  if (!write_history (s, &local))
    goto fail;
  if (s->best_epoch > 0)
    {
      if (!final_reports (s, &local))
        goto fail;
    }
  else
    emit_log (s, "No epoch finished, so there is no model to evaluate");

  {
    g_autofree char *msg = g_strdup_printf (
        "%s after %u epochs; best epoch %u; run folder %s",
        diverged ? "Diverged" : stop_requested (s) ? "Stopped" : early ? "Stopped early"
                                                                       : "Finished",
        s->history->len, s->best_epoch, cfg->out_dir);
    XlTrainEvent ev = { .kind = XL_TRAIN_EVENT_FINISHED, .epochs = cfg->epochs,
                        .epoch = s->history->len, .best_epoch = s->best_epoch,
                        .stopped = stop_requested (s), .fraction = 1, .message = msg,
                        .eta_seconds = 0 };
    emit (s, &ev);
  }
  if (diverged)
    {
      g_set_error_literal (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_DIVERGED, diverged_msg);
      return FALSE;
    }
  return TRUE;

fail:
  {
    XlTrainEvent ev = { .kind = XL_TRAIN_EVENT_ERROR, .message = local->message,
                        .eta_seconds = -1 };
    emit (s, &ev);
  }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}
