/* Training sessions end to end on the synthetic demo set, small and fast:
 * every mode learns, stop + resume equals an uninterrupted run, a divergent
 * learning rate is caught, and the run folder holds every report. */
#include "config.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "nn-tensor-file.h"
#include "xl-plot-report.h"
#include "xl-run-folder.h"
#include "xl-synth.h"
#include "xl-train-session.h"

static char *data_dir;
static char *tiny_dir;   /* 16 films a class: the runs that check behaviour, not learning */
static char *tmp_root;

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

/* A small, learnable set: 64 px films, as the tests train at 64x64. */
static void
make_data (void)
{
  XlSynthConfig cfg;
  g_autoptr (GError) error = NULL;

  tmp_root = g_dir_make_tmp ("xl-session-XXXXXX", NULL);
  data_dir = g_build_filename (tmp_root, "data", NULL);
  xl_synth_config_init (&cfg);
  cfg.per_class = 150;
  cfg.size = 80;
  cfg.seed = 3;
  cfg.n_threads = 2;
  g_assert_true (xl_synth_generate (data_dir, &cfg, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  /* train 32, val 8, test 16 films */
  tiny_dir = g_build_filename (tmp_root, "tiny", NULL);
  cfg.per_class = 16;
  cfg.size = 40;
  cfg.seed = 4;
  g_assert_true (xl_synth_generate (tiny_dir, &cfg, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
small_config (XlTrainConfig *cfg, XlTrainMode mode, const char *name)
{
  xl_train_config_init (cfg, mode);
  cfg->data_path = g_strdup (data_dir);
  cfg->out_dir = g_build_filename (tmp_root, name, NULL);
  cfg->width = 16;
  cfg->input_size = 64;
  cfg->resize = 72;
  cfg->batch_size = 16;
  cfg->epochs = 3;
  cfg->val_fraction = 0;        /* the synthetic set has a real val split */
  cfg->threads = 2;
  cfg->seed = 5;
}

/* The tensors of a model or checkpoint file, optimizer moments left out:
 * what the network computes with. */
static GBytes *
weights_of (const char *run, const char *file)
{
  g_autofree char *path = g_build_filename (run, file, NULL);
  NnTensorFile *f = NULL;
  GByteArray *all = g_byte_array_new ();

  g_assert_cmpint (nn_tensor_file_read (&f, path, NULL), ==, NN_OK);
  for (size_t i = 0; i < f->n_tensors; i++)
    if (!g_str_has_prefix (f->tensors[i].name, "optimizer."))
      g_byte_array_append (all, f->tensors[i].data,
                           (guint) (f->tensors[i].numel * nn_dtype_size (f->tensors[i].dtype)));
  nn_tensor_file_free (f);
  return g_byte_array_free_to_bytes (all);
}

typedef struct {
  guint epochs, batches, best, finished, errors, started, early_stops;
  char *error_message;
  XlTrainSession *stop_session;
  guint stop_after_epoch;       /* stop at this epoch's EPOCH event */
  guint stop_in_epoch;          /* stop at this epoch's first batch */
  guint batches_in_epoch[16];
  guint early_stop_epoch, early_best_epoch;
  char *early_message;
  gboolean stopped;
  gsize n_parameters, n_trainable;
  const char *run_dir;          /* set: keep model.safetensors's weights at every BEST */
  GBytes *best_weights;
  guint best_weights_epoch;
} Seen;

static void
seen_clear (Seen *seen)
{
  g_clear_pointer (&seen->error_message, g_free);
  g_clear_pointer (&seen->early_message, g_free);
  g_clear_pointer (&seen->best_weights, g_bytes_unref);
}

static void
on_event (const XlTrainEvent *ev, gpointer user_data)
{
  Seen *seen = user_data;

  switch (ev->kind)
    {
    case XL_TRAIN_EVENT_STARTED:
      seen->started++;
      seen->n_parameters = ev->n_parameters;
      seen->n_trainable = ev->n_trainable;
      g_assert_cmpuint (ev->n_trainable, <=, ev->n_parameters);
      break;
    case XL_TRAIN_EVENT_BATCH:
      seen->batches++;
      if (ev->epoch < G_N_ELEMENTS (seen->batches_in_epoch))
        seen->batches_in_epoch[ev->epoch]++;
      g_assert_true (isfinite (ev->running_loss));
      g_assert_cmpfloat (ev->fraction, >, 0);
      g_assert_cmpfloat (ev->fraction, <=, 1);
      if (seen->stop_session != NULL && ev->epoch == seen->stop_in_epoch && ev->batch == 1)
        xl_train_session_stop (seen->stop_session);
      break;
    case XL_TRAIN_EVENT_EPOCH:
      seen->epochs++;
      if (seen->stop_session != NULL && ev->epoch == seen->stop_after_epoch)
        xl_train_session_stop (seen->stop_session);
      break;
    case XL_TRAIN_EVENT_BEST:
      seen->best++;
      if (seen->run_dir != NULL)
        {
          g_clear_pointer (&seen->best_weights, g_bytes_unref);
          seen->best_weights = weights_of (seen->run_dir, "model.safetensors");
          seen->best_weights_epoch = ev->best_epoch;
        }
      break;
    case XL_TRAIN_EVENT_EARLY_STOP:
      seen->early_stops++;
      seen->early_stop_epoch = ev->epoch;
      seen->early_best_epoch = ev->best_epoch;
      g_free (seen->early_message);
      seen->early_message = g_strdup (ev->message);
      break;
    case XL_TRAIN_EVENT_FINISHED:
      seen->finished++;
      seen->stopped = ev->stopped;
      break;
    case XL_TRAIN_EVENT_ERROR:
      seen->errors++;
      g_free (seen->error_message);
      seen->error_message = g_strdup (ev->message);
      break;
    default:
      break;
    }
}

static char *
run_file (const char *run, const char *name)
{
  g_autofree char *path = g_build_filename (run, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    g_error ("cannot read %s", path);
  return text;
}

static gboolean
run_log_has (const char *run, const char *needle)
{
  g_autofree char *log = run_file (run, "log.txt");
  return strstr (log, needle) != NULL;
}

/* metrics.json as a parser that owns the tree */
static JsonParser *
run_metrics (const char *run)
{
  g_autofree char *path = g_build_filename (run, "metrics.json", NULL);
  JsonParser *parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return parser;
}

static JsonObject *
metrics_member (JsonParser *parser, const char *name)
{
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (root, name));
  return json_object_get_object_member (root, name);
}

/* history.csv without the wall-clock columns: epoch, losses and accuracies */
static char *
history_figures (const char *run)
{
  g_autofree char *csv = run_file (run, "history.csv");
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 1; lines[i] != NULL && *lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 9);
      g_string_append_printf (out, "%s,%s,%s,%s,%s\n", f[0], f[1], f[2], f[3], f[4]);
    }
  return g_string_free (out, FALSE);
}

/* A small run on the tiny set: width 8, 32 px, 3 batches an epoch. */
static void
tiny_config (XlTrainConfig *cfg, XlTrainMode mode, const char *name)
{
  small_config (cfg, mode, name);
  g_free (cfg->data_path);
  cfg->data_path = g_strdup (tiny_dir);
  cfg->width = 8;
  cfg->input_size = 32;
  cfg->resize = 36;
  cfg->batch_size = 8;
  cfg->epochs = 2;
  cfg->max_batches = 3;
  cfg->patience = 0;
}

/* Runs cfg to its end; *ok says how it ended. */
static XlTrainSession *
run_config (const XlTrainConfig *cfg, gboolean reports, Seen *seen, gboolean *ok, GError **error)
{
  XlTrainSession *s = xl_train_session_new (cfg, error);

  g_assert_nonnull (s);
  if (reports)
    xl_train_session_set_report_func (s, xl_plot_write_run_report);
  if (seen->stop_in_epoch > 0 || seen->stop_after_epoch > 0)
    seen->stop_session = s;
  *ok = xl_train_session_run (s, on_event, seen, error);
  return s;
}

static double
test_accuracy (const char *run)
{
  g_autofree char *path = g_build_filename (run, "metrics.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* "test": {... "accuracy": X ...}: the first accuracy after "test" */
  const char *test = strstr (text, "\"test\"");
  g_assert_nonnull (test);
  const char *acc = strstr (test, "\"accuracy\"");
  g_assert_nonnull (acc);
  return g_ascii_strtod (strchr (acc, ':') + 1, NULL);
}

static void
assert_png (const char *run, const char *name)
{
  g_autofree char *path = g_build_filename (run, "plots", name, NULL);
  cairo_surface_t *s = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (s), >, 100);
  cairo_surface_destroy (s);
}

static char *finetuned_model;

/* What the Results and Review views and `xraylab-cli plots` read: every val
 * and test film once, probabilities that sum to one, the run's own decisions
 * at its threshold, films that can be found. */
static void
assert_run_folder_reads_back (const char *run_dir, guint epochs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (XlRunFolder) run = xl_run_folder_load (run_dir, &error);
  const guint P = 1; /* PNEUMONIA */

  g_assert_no_error (error);
  g_assert_nonnull (run);
  g_assert_cmpuint (run->history->len, ==, epochs);
  g_assert_cmpuint (run->best_epoch, >=, 1);
  g_assert_cmpuint (run->best_epoch, <=, epochs);
  g_assert_cmpuint (run->batches->len, >, 0);
  g_assert_cmpuint (run->info.n_classes, ==, 2);
  g_assert_cmpuint (run->info.positive_class, ==, P);
  g_assert_true (g_path_is_absolute (run->config.data_path));
  g_assert_cmpuint (xl_run_folder_count (run, XL_SPLIT_VAL), >, 0);
  g_assert_cmpuint (xl_run_folder_count (run, XL_SPLIT_TEST), >, 0);
  g_assert_cmpuint (xl_run_folder_count (run, XL_SPLIT_TRAIN), ==, 0);
  g_assert_cmpuint (xl_run_folder_count (run, XL_SPLIT_VAL)
                    + xl_run_folder_count (run, XL_SPLIT_TEST), ==, run->n_films);
  g_assert_cmpint (xl_run_folder_report_split (run), ==, XL_SPLIT_TEST);
  g_assert_true (strstr (run->threshold_source, "Youden") != NULL);
  for (guint i = 0; i < run->n_films; i++)
    {
      const float *p = run->probs + 2 * i;
      g_autofree char *path = xl_run_folder_film_path (run, i);
      g_assert_cmpfloat (fabs (p[0] + p[1] - 1.0), <, 1e-5);
      g_assert_cmpuint (run->films[i].predicted, ==, p[P] >= run->info.threshold ? P : 1 - P);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }
  {
    g_autoptr (XlPredictions) test = xl_run_folder_predictions (run, XL_SPLIT_TEST);
    g_assert_cmpuint (test->n, ==, xl_run_folder_count (run, XL_SPLIT_TEST));
    for (guint i = 0; i < test->n; i++)
      g_assert_cmpint (run->films[test->indices[i]].split, ==, XL_SPLIT_TEST);
  }

  /* a damaged predictions.csv is an error, not a crash */
  {
    g_autofree char *copy = g_build_filename (tmp_root, "damaged-run", NULL);
    g_autofree char *csv = g_build_filename (copy, "predictions.csv", NULL);
    const char *keep[] = { "model.safetensors", "config.json", "history.csv" };
    g_autoptr (XlRunFolder) damaged = NULL;

    g_assert_cmpint (g_mkdir_with_parents (copy, 0755), ==, 0);
    for (guint i = 0; i < G_N_ELEMENTS (keep); i++)
      {
        g_autofree char *from = g_build_filename (run_dir, keep[i], NULL);
        g_autofree char *to = g_build_filename (copy, keep[i], NULL);
        g_autofree char *bytes = NULL;
        gsize len;
        g_assert_true (g_file_get_contents (from, &bytes, &len, NULL));
        g_assert_true (g_file_set_contents (to, bytes, (gssize) len, NULL));
      }
    g_assert_true (g_file_set_contents (
        csv, "path,split,true_label,p_NORMAL,p_PNEUMONIA,predicted_label\n"
             "a.jpeg,test,NORMAL,0.2,1.7,PNEUMONIA\n", -1, NULL));
    damaged = xl_run_folder_load (copy, &error);
    g_assert_null (damaged);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
}

static void
test_finetune_learns (void)
{
  XlTrainConfig cfg;
  Seen seen = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;

  small_config (&cfg, XL_TRAIN_FINETUNE, "finetune");
  cfg.epochs = 14;
  cfg.lr = 2e-3;
  cfg.schedule = XL_SCHEDULE_COSINE;
  s = xl_train_session_new (&cfg, &error);
  xl_train_session_set_report_func (s, xl_plot_write_run_report);
  g_assert_no_error (error);
  g_assert_true (xl_train_session_run (s, on_event, &seen, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen.started, ==, 1);
  g_assert_cmpuint (seen.finished, ==, 1);
  g_assert_cmpuint (seen.errors, ==, 0);
  g_assert_cmpuint (seen.epochs, >=, 1);
  g_assert_cmpuint (seen.best, >=, 1);

  /* every file of the run folder, and the pictures open */
  const char *files[] = { "model.safetensors", "checkpoint.safetensors", "config.json",
                          "history.csv", "metrics.json", "predictions.csv", "log.txt",
                          "plots/loss.png", "plots/loss.svg", "plots/accuracy.png",
                          "plots/accuracy.svg", "plots/roc.png", "plots/roc.svg",
                          "plots/confusion-matrix.png", "plots/confusion-matrix.svg",
                          "plots/augmented-batch.png", "plots/augmented-batch.svg",
                          "report.pdf" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (cfg.out_dir, files[i], NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_error ("the run folder lacks %s", files[i]);
    }
  assert_png (cfg.out_dir, "loss.png");
  assert_png (cfg.out_dir, "confusion-matrix.png");
  assert_png (cfg.out_dir, "augmented-batch.png");

  double acc = test_accuracy (cfg.out_dir);
  g_test_message ("finetune: test accuracy %.3f after %u epochs", acc, seen.epochs);
  g_assert_cmpfloat (acc, >=, 0.95);
  assert_run_folder_reads_back (cfg.out_dir, seen.epochs);
  finetuned_model = g_build_filename (cfg.out_dir, "model.safetensors", NULL);
  g_free (seen.error_message);
  xl_train_config_clear (&cfg);
}

/* The fine-tuned backbone stands in for ImageNet weights: saved with a
 * 1000-class head and no X-Ray Lab metadata, so a run replaces the head. */
static char *
pretrained_from (const char *model_path)
{
  NnTensorFile *f = NULL;
  NnError err = { 0 };
  g_autofree char *path = g_build_filename (tmp_root, "pretrained.safetensors", NULL);
  float *fc_w = g_new0 (float, 1000 * 128), *fc_b = g_new0 (float, 1000);

  g_assert_cmpint (nn_tensor_file_read (&f, model_path, &err), ==, NN_OK);
  NnNamedTensor *t = g_memdup2 (f->tensors, f->n_tensors * sizeof *t);
  for (size_t i = 0; i < f->n_tensors; i++)
    {
      if (strcmp (t[i].name, "fc.weight") == 0)
        {
          t[i].shape[0] = 1000;
          t[i].numel = 1000 * 128;
          t[i].data = fc_w;
        }
      else if (strcmp (t[i].name, "fc.bias") == 0)
        {
          t[i].shape[0] = 1000;
          t[i].numel = 1000;
          t[i].data = fc_b;
        }
    }
  g_assert_cmpint (nn_safetensors_write (path, t, f->n_tensors, NULL, NULL, 0, &err), ==, NN_OK);
  g_free (t);
  nn_tensor_file_free (f);
  g_free (fc_w);
  g_free (fc_b);
  return g_steal_pointer (&path);
}

static void
run_frozen_mode (XlTrainMode mode, guint freeze, const char *name)
{
  XlTrainConfig cfg;
  Seen seen = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;

  if (finetuned_model == NULL)
    {
      g_test_skip ("needs the fine-tuned model");
      return;
    }
  small_config (&cfg, mode, name);
  cfg.freeze = freeze;
  cfg.weights_path = pretrained_from (finetuned_model);
  cfg.epochs = 6;
  cfg.lr = 1e-2;
  cfg.schedule = XL_SCHEDULE_COSINE;
  s = xl_train_session_new (&cfg, &error);
  xl_train_session_set_report_func (s, xl_plot_write_run_report);
  g_assert_no_error (error);
  g_assert_true (xl_train_session_run (s, on_event, &seen, &error));
  g_assert_no_error (error);
  double acc = test_accuracy (cfg.out_dir);
  g_test_message ("%s: test accuracy %.3f", name, acc);
  g_assert_cmpfloat (acc, >=, 0.95);
  g_free (seen.error_message);
  xl_train_config_clear (&cfg);
}

static void
test_fixed_learns (void)
{
  run_frozen_mode (XL_TRAIN_FIXED, 0, "fixed");
}

static void
test_partial_learns (void)
{
  run_frozen_mode (XL_TRAIN_PARTIAL, 3, "partial");
}

static GBytes *
model_bytes_of (const char *run, const char *file)
{
  g_autofree char *path = g_build_filename (run, file, NULL);
  NnTensorFile *f = NULL;
  GByteArray *all = g_byte_array_new ();

  g_assert_cmpint (nn_tensor_file_read (&f, path, NULL), ==, NN_OK);
  for (size_t i = 0; i < f->n_tensors; i++)
    g_byte_array_append (all, f->tensors[i].data,
                         (guint) (f->tensors[i].numel * nn_dtype_size (f->tensors[i].dtype)));
  nn_tensor_file_free (f);
  return g_byte_array_free_to_bytes (all);
}

static void
test_stop_and_resume (void)
{
  XlTrainConfig cfg;
  Seen seen = { 0 }, seen2 = { 0 }, seen3 = { 0 };
  g_autoptr (GError) error = NULL;
  XlTrainSession *s;

  /* uninterrupted: 3 epochs */
  small_config (&cfg, XL_TRAIN_FINETUNE, "straight");
  cfg.max_batches = 4;
  cfg.patience = 0;
  s = xl_train_session_new (&cfg, &error);
  xl_train_session_set_report_func (s, xl_plot_write_run_report);
  g_assert_true (xl_train_session_run (s, on_event, &seen, &error));
  xl_train_session_free (s);
  g_autofree char *straight = g_strdup (cfg.out_dir);
  xl_train_config_clear (&cfg);

  /* stopped after epoch 2 (the stop lands in epoch 3, which is dropped), then resumed */
  small_config (&cfg, XL_TRAIN_FINETUNE, "resumed");
  cfg.max_batches = 4;
  cfg.patience = 0;
  s = xl_train_session_new (&cfg, &error);
  xl_train_session_set_report_func (s, xl_plot_write_run_report);
  seen2.stop_session = s;
  seen2.stop_after_epoch = 2;
  g_assert_true (xl_train_session_run (s, on_event, &seen2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen2.epochs, ==, 2);
  xl_train_session_free (s);

  s = xl_train_session_new_resume (cfg.out_dir, 0, &error);
  g_assert_no_error (error);
  xl_train_session_set_report_func (s, xl_plot_write_run_report);
  g_assert_true (xl_train_session_run (s, on_event, &seen3, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen3.epochs, ==, 1);
  xl_train_session_free (s);

  g_autoptr (GBytes) a = model_bytes_of (straight, "checkpoint.safetensors");
  g_autoptr (GBytes) b = model_bytes_of (cfg.out_dir, "checkpoint.safetensors");
  g_assert_true (g_bytes_equal (a, b));
  xl_train_config_clear (&cfg);
}

static void
test_divergence_is_caught (void)
{
  XlTrainConfig cfg;
  Seen seen = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;

  small_config (&cfg, XL_TRAIN_FINETUNE, "diverged");
  cfg.optimizer = NN_OPTIM_SGD;
  cfg.momentum = 0.9;
  cfg.lr = 50;
  cfg.epochs = 4;
  s = xl_train_session_new (&cfg, &error);
  xl_train_session_set_report_func (s, xl_plot_write_run_report);
  g_assert_false (xl_train_session_run (s, on_event, &seen, &error));
  g_assert_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_DIVERGED);
  g_assert_true (g_regex_match_simple ("^loss diverged at epoch [1-4], batch [1-9][0-9]*: "
                                       "lower the learning rate", error->message, 0, 0));
  g_assert_cmpuint (seen.errors, ==, 1);
  g_free (seen.error_message);
  xl_train_config_clear (&cfg);
}

/* Early stopping: after `patience` epochs without a better one by the
 * monitored metric the run stops, and the model written and the metrics
 * evaluated are the best epoch's, not the last one's. Returns the session. */
static XlTrainSession *
run_early_stop (XlTrainConfig *cfg, const char *name, XlMonitor monitor, Seen *seen)
{
  g_autoptr (GError) error = NULL;
  XlTrainSession *s;
  gboolean ok;
  guint n, by_accuracy = 1, by_loss = 1;

  if (monitor == XL_MONITOR_VAL_ACCURACY)
    {
      /* a new head on the fine-tuned backbone, trained on cached features:
       * the accuracy soon reaches its best and stays there while the loss
       * keeps falling */
      small_config (cfg, XL_TRAIN_FIXED, name);
      cfg->weights_path = pretrained_from (finetuned_model);
      cfg->lr = 1e-2;
      cfg->augment = FALSE;
    }
  else
    {
      /* fresh Adam moments on a converged model of our own: the val loss rises */
      small_config (cfg, XL_TRAIN_FINETUNE, name);
      cfg->weights_path = g_strdup (finetuned_model);
      cfg->lr = 1e-4;
      cfg->max_batches = 3;
    }
  cfg->monitor = monitor;
  cfg->patience = 2;
  cfg->epochs = 8;
  cfg->schedule = XL_SCHEDULE_NONE;
  seen->run_dir = cfg->out_dir;
  s = run_config (cfg, FALSE, seen, &ok, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  const XlEpochRecord *h = xl_train_session_history (s, &n);
  const guint best = xl_train_session_best_epoch (s);
  for (guint i = 0; i < n; i++)
    {
      g_test_message ("%s: epoch %u val loss %.6f accuracy %.4f", name, h[i].epoch,
                      h[i].val_loss, h[i].val_accuracy);
      if (h[i].val_accuracy > h[by_accuracy - 1].val_accuracy)
        by_accuracy = i + 1;
      if (h[i].val_loss < h[by_loss - 1].val_loss)
        by_loss = i + 1;
    }
  /* training went on from the model's weights, not from random values */
  if (monitor == XL_MONITOR_VAL_LOSS)
    {
      g_assert_true (run_log_has (cfg->out_dir, "an X-Ray Lab model: training continues from it"));
      g_assert_cmpfloat (h[0].val_accuracy, >=, 0.9);
    }

  g_assert_cmpuint (best, ==, monitor == XL_MONITOR_VAL_ACCURACY ? by_accuracy : by_loss);
  g_assert_cmpuint (seen->early_stops, ==, 1);
  g_assert_cmpuint (n, ==, best + cfg->patience);
  g_assert_cmpuint (n, <, cfg->epochs);
  g_assert_cmpuint (seen->early_stop_epoch, ==, n);
  g_assert_cmpuint (seen->early_best_epoch, ==, best);
  g_assert_nonnull (strstr (seen->early_message, monitor == XL_MONITOR_VAL_ACCURACY
                                                   ? "the validation accuracy"
                                                   : "the validation loss"));
  g_assert_cmpuint (seen->finished, ==, 1);
  g_assert_false (seen->stopped);

  /* model.safetensors holds the best epoch's weights; the checkpoint the last's */
  g_autoptr (GBytes) model = weights_of (cfg->out_dir, "model.safetensors");
  g_autoptr (GBytes) last = weights_of (cfg->out_dir, "checkpoint.safetensors");
  g_assert_cmpuint (seen->best_weights_epoch, ==, best);
  g_assert_true (g_bytes_equal (model, seen->best_weights));
  g_assert_false (g_bytes_equal (model, last));

  /* metrics.json evaluated those weights: its val loss is the best epoch's */
  g_autoptr (JsonParser) metrics = run_metrics (cfg->out_dir);
  JsonObject *val = metrics_member (metrics, "val");
  JsonObject *run = metrics_member (metrics, "run");
  double val_loss = json_object_get_double_member (val, "loss");
  g_test_message ("%s: metrics.json val loss %.6f; best epoch %u, last %u", name, val_loss,
                  best, n);
  g_assert_cmpfloat (fabs (val_loss - h[best - 1].val_loss), <, 1e-4 * MAX (1, val_loss));
  g_assert_cmpfloat (fabs (val_loss - h[n - 1].val_loss), >, 1e-4 * MAX (1, val_loss));
  g_assert_cmpint (json_object_get_int_member (run, "best_epoch"), ==, best);
  g_assert_cmpint (json_object_get_int_member (run, "early_stop_epoch"), ==, n);
  g_assert_false (json_object_get_boolean_member (run, "stopped"));
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *split = metrics_member (metrics, i == 0 ? "val" : "test");
      g_assert_true (json_object_has_member (split, "at_0.5"));
      g_assert_true (json_object_has_member (split, "at_threshold"));
      g_assert_true (json_object_has_member (json_object_get_object_member (split, "at_0.5"),
                                             "sensitivity"));
    }

  /* what makes the accuracy run a test of its monitor: the loss would choose otherwise */
  if (monitor == XL_MONITOR_VAL_ACCURACY)
    g_assert_cmpuint (by_loss, !=, by_accuracy);
  return s;
}

/* One early-stopping run by monitor: run_early_stop checks it; this frees it. */
static void
check_early_stop (const char *name, XlMonitor monitor)
{
  XlTrainConfig cfg;
  Seen seen = { 0 };

  if (finetuned_model == NULL)
    {
      g_test_skip ("needs the fine-tuned model");
      return;
    }
  xl_train_session_free (run_early_stop (&cfg, name, monitor, &seen));
  seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

static void
test_early_stop_on_val_loss (void)
{
  check_early_stop ("early-loss", XL_MONITOR_VAL_LOSS);
}

/* --monitor val_accuracy: the accuracy plateaus at its best while the loss
 * still falls; by the loss the run would go on. */
static void
test_early_stop_on_val_accuracy (void)
{
  check_early_stop ("early-accuracy", XL_MONITOR_VAL_ACCURACY);
}

/* A stop request in the second epoch, after the first was the best: the
 * current batch ends, the first epoch's model is kept and evaluated, and the
 * reports are still written. */
static void
test_stop_keeps_best_and_reports (void)
{
  XlTrainConfig cfg;
  Seen seen = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;
  gboolean ok;
  guint n;

  tiny_config (&cfg, XL_TRAIN_FINETUNE, "stopped");
  cfg.epochs = 3;
  seen.run_dir = cfg.out_dir;
  seen.stop_in_epoch = 2;
  s = run_config (&cfg, TRUE, &seen, &ok, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  g_assert_true (seen.stopped);
  g_assert_cmpuint (seen.finished, ==, 1);
  g_assert_cmpuint (seen.errors, ==, 0);
  g_assert_cmpuint (seen.batches_in_epoch[1], ==, 3);
  g_assert_cmpuint (seen.batches_in_epoch[2], ==, 1);   /* that batch ended, no other began */
  g_assert_cmpuint (seen.batches_in_epoch[3], ==, 0);
  xl_train_session_history (s, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (xl_train_session_best_epoch (s), ==, 1);
  g_assert_true (run_log_has (cfg.out_dir, "Stopped during epoch 2"));

  /* the batch of epoch 2 changed the network; the model written is epoch 1's */
  g_autoptr (GBytes) model = weights_of (cfg.out_dir, "model.safetensors");
  g_assert_cmpuint (seen.best_weights_epoch, ==, 1);
  g_assert_true (g_bytes_equal (model, seen.best_weights));

  g_autoptr (JsonParser) metrics = run_metrics (cfg.out_dir);
  JsonObject *run = metrics_member (metrics, "run");
  g_assert_true (json_object_get_boolean_member (run, "stopped"));
  g_assert_cmpint (json_object_get_int_member (run, "best_epoch"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (run, "epochs"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (metrics_member (metrics, "test"), "images"), ==, 16);

  /* every val and test film has a prediction */
  g_autofree char *csv = run_file (cfg.out_dir, "predictions.csv");
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  guint rows = 0;
  for (guint i = 1; lines[i] != NULL; i++)
    rows += *lines[i] != '\0';
  g_assert_cmpuint (rows, ==, 8 + 16);
  assert_png (cfg.out_dir, "loss.png");
  assert_png (cfg.out_dir, "roc.png");
  assert_png (cfg.out_dir, "confusion-matrix.png");
  seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

/* Edits one member of a run's config.json before it is resumed. */
static void
set_config_number (const char *run, const char *member, double value)
{
  g_autofree char *path = g_build_filename (run, "config.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  if (value == floor (value))
    json_object_set_int_member (o, member, (gint64) value);
  else
    json_object_set_double_member (o, member, value);
  json_generator_set_root (gen, json_parser_get_root (parser));
  text = json_generator_to_data (gen, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* A loss that diverges after a best epoch: a run resumed with a learning
 * rate far too high. The message names the epoch and the batch, and the
 * best model is kept, evaluated and reported. */
static void
test_divergence_keeps_best (void)
{
  XlTrainConfig cfg;
  Seen seen = { 0 }, seen2 = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;
  g_autoptr (XlTrainSession) resumed = NULL;
  g_autoptr (GBytes) best = NULL;
  gboolean ok;
  guint epoch = 0, batch = 0, n;

  tiny_config (&cfg, XL_TRAIN_FINETUNE, "diverged-later");
  cfg.optimizer = NN_OPTIM_SGD;
  cfg.momentum = 0.9;
  cfg.lr = 1e-2;
  cfg.epochs = 1;
  s = run_config (&cfg, FALSE, &seen, &ok, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (xl_train_session_best_epoch (s), ==, 1);
  best = weights_of (cfg.out_dir, "model.safetensors");
  g_clear_pointer (&s, xl_train_session_free);

  /* 4 batches an epoch: the weights need some steps to overflow */
  set_config_number (cfg.out_dir, "lr", 99.5);
  set_config_number (cfg.out_dir, "max_batches", 0);
  resumed = xl_train_session_new_resume (cfg.out_dir, 10, &error);
  g_assert_no_error (error);
  g_assert_false (xl_train_session_run (resumed, on_event, &seen2, &error));
  g_assert_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_DIVERGED);
  g_test_message ("%s", error->message);
  g_assert_true (g_regex_match_simple ("^loss diverged at epoch ([2-9]|10), batch [1-4]: lower the "
                                       "learning rate", error->message, 0, 0));
  g_assert_cmpint (sscanf (error->message, "loss diverged at epoch %u, batch %u", &epoch, &batch),
                   ==, 2);
  g_assert_cmpuint (seen2.errors, ==, 1);
  g_assert_cmpstr (seen2.error_message, ==, error->message);
  g_assert_cmpuint (seen2.finished, ==, 1);
  g_assert_cmpuint (seen2.batches_in_epoch[epoch], ==, batch - 1);
  xl_train_session_history (resumed, &n);
  g_assert_cmpuint (n, ==, epoch - 1);

  /* the first epoch stays the best: its model is kept and was evaluated */
  g_assert_cmpuint (xl_train_session_best_epoch (resumed), ==, 1);
  g_autoptr (GBytes) model = weights_of (cfg.out_dir, "model.safetensors");
  g_assert_true (g_bytes_equal (model, best));
  g_autoptr (JsonParser) metrics = run_metrics (cfg.out_dir);
  JsonObject *run = metrics_member (metrics, "run");
  g_assert_cmpint (json_object_get_int_member (run, "best_epoch"), ==, 1);
  g_assert_true (isfinite (json_object_get_double_member (metrics_member (metrics, "test"),
                                                          "loss")));
  seen_clear (&seen);
  seen_clear (&seen2);
  xl_train_config_clear (&cfg);
}

static char *tiny_model;   /* a fine-tuned model of the tiny set: start weights for --freeze 1 */

/* The same seed and threads give the same numbers, fine-tuning and in fixed
 * mode training on cached augmented views. */
static void
test_same_seed_same_numbers (void)
{
  for (guint m = 0; m < 2; m++)
    {
      const XlTrainMode mode = m == 0 ? XL_TRAIN_FINETUNE : XL_TRAIN_FIXED;
      char *figures[2] = { NULL, NULL };
      GBytes *weights[2] = { NULL, NULL };

      for (guint r = 0; r < 2; r++)
        {
          XlTrainConfig cfg;
          Seen seen = { 0 };
          g_autoptr (GError) error = NULL;
          g_autoptr (XlTrainSession) s = NULL;
          g_autofree char *name = g_strdup_printf ("same-%s-%u", xl_train_mode_name (mode), r);
          gboolean ok;

          tiny_config (&cfg, mode, name);
          cfg.cache_views = 2;
          cfg.lr = mode == XL_TRAIN_FIXED ? 1e-2 : 1e-3;
          s = run_config (&cfg, FALSE, &seen, &ok, &error);
          g_assert_no_error (error);
          g_assert_true (ok);
          figures[r] = history_figures (cfg.out_dir);
          weights[r] = weights_of (cfg.out_dir, "model.safetensors");
          g_assert_true (run_log_has (cfg.out_dir, "not transfer learning"));
          if (mode == XL_TRAIN_FIXED)
            g_assert_true (run_log_has (cfg.out_dir, "from 2 augmented views per film, one per "
                                                     "epoch"));
          else if (r == 0)
            tiny_model = g_build_filename (cfg.out_dir, "model.safetensors", NULL);
          seen_clear (&seen);
          xl_train_config_clear (&cfg);
        }
      g_test_message ("%s:\n%s", xl_train_mode_name (mode), figures[0]);
      g_assert_cmpstr (figures[0], ==, figures[1]);
      g_assert_true (g_bytes_equal (weights[0], weights[1]));
      g_free (figures[0]);
      g_free (figures[1]);
      g_bytes_unref (weights[0]);
      g_bytes_unref (weights[1]);
    }
}

/* Fixed mode's feature cache says what it did in the log; with augmentation
 * off, training on the cache and running the frozen layers on every batch
 * give the same numbers. */
static void
test_feature_cache_choices (void)
{
  const XlEpochRecord *h[2];
  XlTrainSession *s[2];
  guint n[2];

  /* augmentation on, no views cached */
  {
    XlTrainConfig cfg;
    Seen seen = { 0 };
    g_autoptr (GError) error = NULL;
    g_autoptr (XlTrainSession) off = NULL;
    gboolean ok;

    tiny_config (&cfg, XL_TRAIN_FIXED, "cache-views-0");
    cfg.cache_views = 0;
    cfg.epochs = 1;
    off = run_config (&cfg, FALSE, &seen, &ok, &error);
    g_assert_no_error (error);
    g_assert_true (ok);
    g_assert_true (run_log_has (cfg.out_dir, "Feature cache: off (augmentation is on and no "
                                             "views are cached)"));
    seen_clear (&seen);
    xl_train_config_clear (&cfg);
  }

  /* augmentation off: cached, then over the budget. One batch of all 32
   * training films an epoch, so that both see the same batches. */
  for (guint r = 0; r < 2; r++)
    {
      XlTrainConfig cfg;
      Seen seen = { 0 };
      g_autoptr (GError) error = NULL;
      gboolean ok;

      tiny_config (&cfg, XL_TRAIN_FIXED, r == 0 ? "cache-on" : "cache-over-budget");
      cfg.augment = FALSE;
      cfg.batch_size = 32;
      cfg.max_batches = 0;
      cfg.epochs = 3;
      cfg.lr = 5e-2;
      if (r == 1)
        cfg.feature_cache_bytes = 1024;
      s[r] = run_config (&cfg, FALSE, &seen, &ok, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpuint (seen.batches, ==, 3);
      if (r == 0)
        g_assert_true (run_log_has (cfg.out_dir, "Feature cache: the frozen layers ran once")
                       && run_log_has (cfg.out_dir, "of the center crop (augmentation is off)"));
      else
        g_assert_true (run_log_has (cfg.out_dir, "Feature cache: off (it would need")
                       && run_log_has (cfg.out_dir, "budget): the frozen layers run on every "
                                                    "batch"));
      h[r] = xl_train_session_history (s[r], &n[r]);
      seen_clear (&seen);
      xl_train_config_clear (&cfg);
    }
  /* The same films and weights, but the batch's order differs (the cache
   * shuffles its rows, the loader its films), and a sum in another order
   * rounds differently: equal to float rounding, not bit for bit. */
  g_assert_cmpuint (n[0], ==, 3);
  g_assert_cmpuint (n[1], ==, 3);
  for (guint i = 0; i < n[0]; i++)
    {
      g_test_message ("epoch %u: train loss %.7f / %.7f, val loss %.7f / %.7f", i + 1,
                      h[0][i].train_loss, h[1][i].train_loss, h[0][i].val_loss, h[1][i].val_loss);
      g_assert_cmpfloat (fabs (h[0][i].train_loss - h[1][i].train_loss), <, 1e-5);
      g_assert_cmpfloat (fabs (h[0][i].val_loss - h[1][i].val_loss), <, 1e-5);
      g_assert_cmpfloat (h[0][i].train_accuracy, ==, h[1][i].train_accuracy);
      g_assert_cmpfloat (h[0][i].val_accuracy, ==, h[1][i].val_accuracy);
    }
  /* the losses moved: the comparison is of training, not of three copies */
  g_assert_cmpfloat (fabs (h[0][2].train_loss - h[0][0].train_loss), >, 1e-4);
  xl_train_session_free (s[0]);
  xl_train_session_free (s[1]);
}

/* An MLP head with dropout trained by a session, saved with what it is. */
static void
test_mlp_head (void)
{
  XlTrainConfig cfg;
  Seen seen = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;
  XlModelInfo info;
  NnTensorFile *f = NULL;
  gboolean ok;
  guint n;

  tiny_config (&cfg, XL_TRAIN_FINETUNE, "mlp");
  cfg.head_hidden = 16;
  cfg.head_dropout = 0.25;
  cfg.lr = 1e-3;
  s = run_config (&cfg, FALSE, &seen, &ok, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  const XlEpochRecord *h = xl_train_session_history (s, &n);
  g_assert_cmpuint (n, ==, 2);
  for (guint i = 0; i < n; i++)
    g_assert_true (isfinite (h[i].train_loss) && isfinite (h[i].val_loss));

  g_autofree char *path = g_build_filename (cfg.out_dir, "model.safetensors", NULL);
  xl_model_info_init (&info);
  g_assert_true (xl_model_read_info (path, &info, &error));
  g_assert_cmpuint (info.head_hidden, ==, 16);
  g_assert_cmpfloat (fabs (info.head_dropout - 0.25), <, 1e-6);
  xl_model_info_clear (&info);
  g_assert_cmpint (nn_tensor_file_read (&f, path, NULL), ==, NN_OK);
  const NnNamedTensor *hidden = nn_tensor_file_find (f, "fc.0.weight");
  const NnNamedTensor *out = nn_tensor_file_find (f, "fc.3.weight");
  g_assert_nonnull (hidden);
  g_assert_nonnull (out);
  g_assert_null (nn_tensor_file_find (f, "fc.weight"));
  g_assert_cmpint (hidden->shape[0], ==, 16);
  g_assert_cmpint (out->shape[0], ==, 2);
  g_assert_cmpint (out->shape[1], ==, 16);
  nn_tensor_file_free (f);

  /* the saved model predicts: metrics.json has the test split */
  g_autoptr (JsonParser) metrics = run_metrics (cfg.out_dir);
  g_assert_cmpint (json_object_get_int_member (metrics_member (metrics, "test"), "images"), ==, 16);
  seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

static gboolean
same_tensor (const NnTensorFile *a, const NnTensorFile *b, const char *name)
{
  const NnNamedTensor *ta = nn_tensor_file_find (a, name), *tb = nn_tensor_file_find (b, name);

  g_assert_nonnull (ta);
  g_assert_nonnull (tb);
  g_assert_cmpuint (ta->numel, ==, tb->numel);
  return memcmp (ta->data, tb->data, ta->numel * nn_dtype_size (ta->dtype)) == 0;
}

/* --freeze 1 freezes only conv1 and bn1, as the PyTorch case study's
 * "fixed" run did: the trainable count leaves out just those, and just those
 * come out unchanged. */
static void
test_freeze_one (void)
{
  XlTrainConfig cfg;
  Seen seen = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;
  NnTensorFile *start = NULL, *end = NULL;
  gboolean ok;

  if (tiny_model == NULL)
    {
      g_test_skip ("needs the tiny fine-tuned model");
      return;
    }
  tiny_config (&cfg, XL_TRAIN_PARTIAL, "freeze-1");
  cfg.freeze = 1;
  cfg.epochs = 1;
  cfg.lr = 1e-2;
  cfg.weights_path = g_strdup (tiny_model);
  s = run_config (&cfg, FALSE, &seen, &ok, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  g_autofree char *path = g_build_filename (cfg.out_dir, "model.safetensors", NULL);
  g_assert_cmpint (nn_tensor_file_read (&start, tiny_model, NULL), ==, NN_OK);
  g_assert_cmpint (nn_tensor_file_read (&end, path, NULL), ==, NN_OK);
  gsize stem = nn_tensor_file_find (start, "conv1.weight")->numel
               + nn_tensor_file_find (start, "bn1.weight")->numel
               + nn_tensor_file_find (start, "bn1.bias")->numel;
  g_assert_cmpuint (seen.n_parameters - seen.n_trainable, ==, stem);
  g_assert_true (run_log_has (cfg.out_dir, "parameters, "));
  {
    g_autofree char *counts = g_strdup_printf ("%zu parameters, %zu trainable",
                                               seen.n_parameters, seen.n_trainable);
    g_assert_true (run_log_has (cfg.out_dir, counts));
  }
  const char *frozen[] = { "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                           "bn1.running_var" };
  for (guint i = 0; i < G_N_ELEMENTS (frozen); i++)
    if (!same_tensor (start, end, frozen[i]))
      g_error ("%s changed though it is frozen", frozen[i]);
  const char *trained[] = { "layer1.0.conv1.weight", "layer1.0.bn1.weight",
                            "layer1.0.bn1.running_mean", "layer4.1.conv2.weight", "fc.weight" };
  for (guint i = 0; i < G_N_ELEMENTS (trained); i++)
    if (same_tensor (start, end, trained[i]))
      g_error ("%s did not train", trained[i]);
  nn_tensor_file_free (start);
  nn_tensor_file_free (end);
  seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

static void
copy_folder (const char *from, const char *to, guint max_files)
{
  GDir *dir = g_dir_open (from, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  g_mkdir_with_parents (to, 0755);
  while ((name = g_dir_read_name (dir)) != NULL && n < max_files)
    {
      g_autofree char *src = g_build_filename (from, name, NULL);
      g_autofree char *dst = g_build_filename (to, name, NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (src, &data, &len, NULL));
      g_assert_true (g_file_set_contents (dst, data, (gssize) len, NULL));
      n++;
    }
  g_dir_close (dir);
}

/* Any number of class folders: a third class, N x N matrix, one-vs-rest ROC. */
static void
test_three_classes (void)
{
  g_autofree char *root = g_build_filename (tmp_root, "three", NULL);
  const char *splits[] = { "train", "val", "test" };
  XlTrainConfig cfg;
  Seen seen = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (splits); i++)
    {
      g_autofree char *normal = g_build_filename (data_dir, splits[i], "NORMAL", NULL);
      g_autofree char *pneu = g_build_filename (data_dir, splits[i], "PNEUMONIA", NULL);
      g_autofree char *a = g_build_filename (root, splits[i], "A", NULL);
      g_autofree char *b = g_build_filename (root, splits[i], "B", NULL);
      g_autofree char *c = g_build_filename (root, splits[i], "C", NULL);
      copy_folder (normal, a, 10);
      copy_folder (pneu, b, 10);
      copy_folder (pneu, c, 10);
    }
  small_config (&cfg, XL_TRAIN_FINETUNE, "three-run");
  g_free (cfg.data_path);
  cfg.data_path = g_strdup (root);
  cfg.epochs = 1;
  s = xl_train_session_new (&cfg, &error);
  xl_train_session_set_report_func (s, xl_plot_write_run_report);
  g_assert_true (xl_train_session_run (s, on_event, &seen, &error));
  g_assert_no_error (error);

  g_autofree char *metrics_path = g_build_filename (cfg.out_dir, "metrics.json", NULL);
  g_autofree char *metrics = NULL;
  g_assert_true (g_file_get_contents (metrics_path, &metrics, NULL, NULL));
  g_assert_nonnull (strstr (metrics, "\"macro_auc\""));
  g_assert_nonnull (strstr (metrics, "\"auc_one_vs_rest\""));
  g_assert_nonnull (strstr (metrics, "\"C\""));
  assert_png (cfg.out_dir, "confusion-matrix.png");
  assert_png (cfg.out_dir, "roc.png");

  /* a 3 x 3 matrix over every test film; per-class rows that agree with it */
  {
    g_autoptr (JsonParser) parsed = run_metrics (cfg.out_dir);
    JsonObject *test = metrics_member (parsed, "test");
    JsonArray *cm = json_object_get_array_member (test, "confusion_matrix");
    JsonObject *per_class = json_object_get_object_member (test, "per_class");
    const char *names[] = { "A", "B", "C" };
    gint64 total = 0;

    g_assert_cmpint (json_object_get_int_member (test, "images"), ==, 30);
    g_assert_cmpuint (json_array_get_length (cm), ==, 3);
    for (guint t = 0; t < 3; t++)
      {
        JsonArray *row = json_array_get_array_element (cm, t);
        gint64 row_sum = 0;
        g_assert_cmpuint (json_array_get_length (row), ==, 3);
        for (guint q = 0; q < 3; q++)
          row_sum += json_array_get_int_element (row, q);
        g_assert_true (json_object_has_member (per_class, names[t]));
        JsonObject *cls = json_object_get_object_member (per_class, names[t]);
        g_assert_cmpint (json_object_get_int_member (cls, "support"), ==, row_sum);
        g_assert_cmpint (row_sum, ==, 10);
        g_assert_true (json_object_has_member (cls, "precision")
                       && json_object_has_member (cls, "recall")
                       && json_object_has_member (cls, "f1"));
        total += row_sum;
      }
    g_assert_cmpint (total, ==, 30);
    g_assert_cmpuint (json_object_get_size (per_class), ==, 3);
  }
  g_free (seen.error_message);
  xl_train_config_clear (&cfg);

  /* class weights must be one per class: a short list is an error that says
   * how many, not a list quietly padded with 1 */
  {
    Seen seen2 = { 0 };
    g_autoptr (XlTrainSession) s2 = NULL;
    g_clear_error (&error);
    small_config (&cfg, XL_TRAIN_FINETUNE, "three-weights");
    g_free (cfg.data_path);
    cfg.data_path = g_strdup (root);
    cfg.class_weighting = XL_CLASS_WEIGHTS_GIVEN;
    cfg.class_weights[0] = 1;
    cfg.class_weights[1] = 2;
    cfg.n_class_weights = 2;
    s2 = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    g_assert_false (xl_train_session_run (s2, on_event, &seen2, &error));
    g_assert_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_SETTINGS);
    g_assert_nonnull (strstr (error->message, "needs 3 weights, one per class in this order: "
                                              "A, B, C; 2 were given"));
    g_assert_cmpuint (seen2.errors, ==, 1);
    g_assert_cmpuint (seen2.epochs, ==, 0);
    seen_clear (&seen2);
    xl_train_config_clear (&cfg);
  }
}

static void
test_bad_settings (void)
{
  XlTrainConfig cfg;
  g_autoptr (GError) error = NULL;

  small_config (&cfg, XL_TRAIN_PARTIAL, "bad");
  cfg.freeze = 7;
  g_assert_null (xl_train_session_new (&cfg, &error));
  g_assert_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_SETTINGS);
  g_assert_nonnull (strstr (error->message, "--freeze must be 1 to 4"));
  xl_train_config_clear (&cfg);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  make_data ();
  g_test_add_func ("/train/session/bad-settings", test_bad_settings);
  g_test_add_func ("/train/session/finetune-learns", test_finetune_learns);
  g_test_add_func ("/train/session/fixed-learns", test_fixed_learns);
  g_test_add_func ("/train/session/partial-learns", test_partial_learns);
  g_test_add_func ("/train/session/stop-and-resume", test_stop_and_resume);
  g_test_add_func ("/train/session/divergence-is-caught", test_divergence_is_caught);
  g_test_add_func ("/train/session/three-classes", test_three_classes);
  g_test_add_func ("/train/session/early-stop-on-val-loss", test_early_stop_on_val_loss);
  g_test_add_func ("/train/session/early-stop-on-val-accuracy", test_early_stop_on_val_accuracy);
  g_test_add_func ("/train/session/stop-keeps-best-and-reports", test_stop_keeps_best_and_reports);
  g_test_add_func ("/train/session/divergence-keeps-best", test_divergence_keeps_best);
  g_test_add_func ("/train/session/same-seed-same-numbers", test_same_seed_same_numbers);
  g_test_add_func ("/train/session/feature-cache-choices", test_feature_cache_choices);
  g_test_add_func ("/train/session/mlp-head", test_mlp_head);
  g_test_add_func ("/train/session/freeze-one", test_freeze_one);
  status = g_test_run ();
  remove_tree (tmp_root);
  g_free (finetuned_model);
  g_free (tiny_model);
  g_free (tiny_dir);
  g_free (data_dir);
  g_free (tmp_root);
  return status;
}
