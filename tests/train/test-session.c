/* Training sessions end to end on the synthetic demo set, small and fast:
 * every mode learns, stop + resume equals an uninterrupted run, a divergent
 * learning rate is caught, and the run folder holds every report. */
#include "config.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "nn-tensor-file.h"
#include "xl-plot-report.h"
#include "xl-run-folder.h"
#include "xl-synth.h"
#include "xl-train-session.h"

static char *data_dir;
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

typedef struct {
  guint epochs, batches, best, finished, errors, started;
  char *error_message;
  XlTrainSession *stop_session;
  guint stop_after_epoch;
} Seen;

static void
on_event (const XlTrainEvent *ev, gpointer user_data)
{
  Seen *seen = user_data;

  switch (ev->kind)
    {
    case XL_TRAIN_EVENT_STARTED:
      seen->started++;
      g_assert_cmpuint (ev->n_trainable, <=, ev->n_parameters);
      break;
    case XL_TRAIN_EVENT_BATCH:
      seen->batches++;
      g_assert_true (isfinite (ev->running_loss));
      g_assert_cmpfloat (ev->fraction, >, 0);
      g_assert_cmpfloat (ev->fraction, <=, 1);
      break;
    case XL_TRAIN_EVENT_EPOCH:
      seen->epochs++;
      if (seen->stop_session != NULL && ev->epoch == seen->stop_after_epoch)
        xl_train_session_stop (seen->stop_session);
      break;
    case XL_TRAIN_EVENT_BEST:
      seen->best++;
      break;
    case XL_TRAIN_EVENT_FINISHED:
      seen->finished++;
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
  g_assert_nonnull (strstr (error->message, "loss diverged at epoch"));
  g_assert_nonnull (strstr (error->message, "lower the learning rate"));
  g_assert_cmpuint (seen.errors, ==, 1);
  g_free (seen.error_message);
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
  g_free (seen.error_message);
  xl_train_config_clear (&cfg);
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
  status = g_test_run ();
  remove_tree (tmp_root);
  g_free (finetuned_model);
  g_free (data_dir);
  g_free (tmp_root);
  return status;
}
