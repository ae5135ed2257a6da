/* test-predict.c: `xraylab-cli predict` and `cam` end to end, and their answers
 * to bad input: a file that is not an image, films of other sizes and shapes,
 * colour films, a model of another number of classes, ImageNet weights given
 * as a model. Every case gets an answer and an exit status, never a crash.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>

static char *tmp_root;
static char *model2;     /* NORMAL, PNEUMONIA */
static char *model3;     /* ALPHA, BETA, GAMMA */
static char *films;      /* a folder of synthetic films */

typedef struct
{
  int   exit_status;
  char *out;
  char *err;
} CliRun;

static void
cli_run_clear (CliRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

static void
cli_runv (CliRun *run, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *cli = g_getenv ("XL_CLI");
  int wait_status = 0;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &run->out,
                &run->err, &wait_status, &error);
  g_assert_no_error (error);
  /* a crash is a failure whatever the input */
  g_assert_true (WIFEXITED (wait_status));
  run->exit_status = WEXITSTATUS (wait_status);
}

#define CLI(run, ...) \
  G_STMT_START { const char *cli_args_[] = { __VA_ARGS__, NULL }; cli_runv (run, cli_args_); } G_STMT_END

static void
expect (const CliRun *run, int status, const char *in_out, const char *in_err)
{
  if (run->exit_status != status || (in_out != NULL && strstr (run->out, in_out) == NULL)
      || (in_err != NULL && strstr (run->err, in_err) == NULL))
    g_error ("exit %d (expected %d)\nstdout:\n%s\nstderr:\n%s\nexpected “%s” / “%s”",
             run->exit_status, status, run->out, run->err, in_out ? in_out : "",
             in_err ? in_err : "");
}

static void
write_png (const char *path, int width, int height, gboolean color)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (s);
  cairo_pattern_t *p = cairo_pattern_create_linear (0, 0, width, height);

  cairo_pattern_add_color_stop_rgb (p, 0, 0.1, color ? 0.3 : 0.1, 0.1);
  cairo_pattern_add_color_stop_rgb (p, 1, 0.9, 0.8, color ? 0.2 : 0.9);
  cairo_set_source (cr, p);
  cairo_paint (cr);
  g_assert_cmpint (cairo_surface_write_to_png (s, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_pattern_destroy (p);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* A model trained for one epoch on a small synthetic set: enough to predict
 * with, not to be right. */
static char *
train_model (const char *data, const char *name)
{
  g_autofree char *run_dir = g_build_filename (tmp_root, name, NULL);
  CliRun run = { 0 };

  CLI (&run, "train", "--data", data, "--out", run_dir, "--epochs", "1", "--width", "8",
       "--input-size", "64", "--resize", "72", "--batch-size", "8", "--val-fraction", "0.25",
       "--threads", "2", "--quiet");
  expect (&run, 0, NULL, NULL);
  cli_run_clear (&run);
  return g_build_filename (run_dir, "model.safetensors", NULL);
}

static void
make_fixtures (void)
{
  g_autofree char *synth = g_build_filename (tmp_root, "synth", NULL);
  g_autofree char *three = g_build_filename (tmp_root, "three", NULL);
  const char *classes[] = { "ALPHA", "BETA", "GAMMA" };
  CliRun run = { 0 };

  CLI (&run, "synth", "--out", synth, "--per-class", "8", "--size", "96", "--quiet");
  expect (&run, 0, NULL, NULL);
  cli_run_clear (&run);
  model2 = train_model (synth, "run2");
  films = g_build_filename (synth, "test", NULL);

  /* three classes: the synthetic films of train, dealt into three folders */
  {
    g_autofree char *normal = g_build_filename (synth, "train", "NORMAL", NULL);
    g_autoptr (GDir) dir = g_dir_open (normal, 0, NULL);
    const char *name;
    guint k = 0;

    for (guint c = 0; c < 3; c++)
      {
        g_autofree char *d = g_build_filename (three, classes[c], NULL);
        g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
      }
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *src = g_build_filename (normal, name, NULL);
        g_autofree char *dst = g_build_filename (three, classes[k % 3], name, NULL);
        g_autofree char *data = NULL;
        gsize len;
        g_assert_true (g_file_get_contents (src, &data, &len, NULL));
        g_assert_true (g_file_set_contents (dst, data, (gssize) len, NULL));
        k++;
      }
  }
  model3 = train_model (three, "run3");
}

static void
test_predict_folder (void)
{
  CliRun run = { 0 };

  CLI (&run, "predict", "--model", model2, films);
  expect (&run, 0, "PREDICTED", NULL);
  g_assert_nonnull (strstr (run.out, "NORMAL"));
  g_assert_nonnull (strstr (run.out, "PNEUMONIA"));
  g_assert_nonnull (strstr (run.out, "research tool, not a diagnostic device"));
  g_assert_nonnull (strstr (run.out, "8 films"));
  cli_run_clear (&run);

  CLI (&run, "predict", "--model", model2, "--json", "--batch-size", "3", films);
  expect (&run, 0, "\"notice\": \"X-Ray Lab is a research tool, not a diagnostic device.\"",
          NULL);
  g_assert_nonnull (strstr (run.out, "\"probabilities\": {\"NORMAL\": "));
  g_assert_nonnull (strstr (run.out, "\"predicted\": "));
  cli_run_clear (&run);
}

/* path -> P(positive class) (as a double in a heap block) from predict --json */
static GHashTable *
json_probabilities (const char *json, const char *positive)
{
  GHashTable *probs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *pattern = g_strdup_printf ("\"path\": \"([^\"]+)\",[^}]*?\"%s\": "
                                              "([0-9.e+-]+)", positive);
  g_autoptr (GRegex) re = g_regex_new (pattern, G_REGEX_DOTALL, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  g_assert_nonnull (re);
  for (g_regex_match (re, json, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      double *p = g_new (double, 1);
      g_autofree char *number = g_match_info_fetch (match, 2);
      *p = g_ascii_strtod (number, NULL);
      g_hash_table_insert (probs, g_match_info_fetch (match, 1), p);
    }
  return probs;
}

/* predict --cam decodes each film once for both the network and the picture:
 * the network must still see exactly what training's evaluation saw, the
 * image cache's decode (predictions.csv of the run, test split). */
static void
test_same_input_as_training (void)
{
  g_autofree char *run_dir = g_path_get_dirname (model2);
  g_autofree char *csv_path = g_build_filename (run_dir, "predictions.csv", NULL);
  g_autofree char *csv = NULL;
  g_autofree char *cams = g_build_filename (tmp_root, "same-input-cams", NULL);
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) probs = NULL;
  guint compared = 0;
  CliRun run = { 0 };

  CLI (&run, "predict", "--model", model2, "--json", "--cam", cams, "--batch-size", "3", films);
  expect (&run, 0, "\"cam_png\"", NULL);
  probs = json_probabilities (run.out, "PNEUMONIA");
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  lines = g_strsplit (csv, "\n", -1);
  /* path,split,true_label,p_NORMAL,p_PNEUMONIA,predicted_label */
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      const double *p;

      if (g_strv_length (f) != 6 || strcmp (f[1], "test") != 0)
        continue;
      p = g_hash_table_lookup (probs, f[0]);
      g_assert_nonnull (p);
      /* %.6g against %.9f: the same input gives the same six digits */
      g_assert_cmpfloat_with_epsilon (*p, g_ascii_strtod (f[4], NULL), 2e-6);
      compared++;
    }
  g_assert_cmpuint (compared, ==, 8);
  g_assert_cmpuint (g_hash_table_size (probs), ==, 8);
  cli_run_clear (&run);
}

static void
test_bad_films (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "odd", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.jpeg", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.png", NULL);
  g_autofree char *wide = g_build_filename (dir, "wide-color.png", NULL);
  g_autofree char *tiny = g_build_filename (dir, "tiny.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.jpeg", NULL);
  g_autofree char *cams = g_build_filename (tmp_root, "odd-cams", NULL);
  CliRun run = { 0 };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (text, "This is not a film.\n", -1, NULL));
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  write_png (wide, 400, 90, TRUE);
  write_png (tiny, 12, 9, FALSE);

  /* the readable films are answered, the others named with their reason */
  CLI (&run, "predict", "--model", model2, text, wide, tiny, empty, missing, "--cam", cams);
  expect (&run, 1, "not an image", "3 of 5 films could not be used");
  g_assert_nonnull (strstr (run.out, "wide-color.png"));
  g_assert_nonnull (strstr (run.out, "RGB film: converted to gray"));
  g_assert_nonnull (strstr (run.out, "the center crop shows only"));
  g_assert_nonnull (strstr (run.out, "12x9 is smaller than the 72 px short side the model resizes to: upsampled"));
  g_assert_nonnull (strstr (run.out, "missing.jpeg"));
  cli_run_clear (&run);

  /* their heatmaps exist, at the film's size plus the bar and the text */
  {
    g_autofree char *png = g_build_filename (cams, "wide-color-cam.png", NULL);
    cairo_surface_t *s = cairo_image_surface_create_from_png (png);
    g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
    g_assert_cmpint (cairo_image_surface_get_width (s), >, 400);
    g_assert_cmpint (cairo_image_surface_get_height (s), >, 90);
    cairo_surface_destroy (s);
  }

  /* a folder with no film in it */
  {
    g_autofree char *nothing = g_build_filename (tmp_root, "nothing", NULL);
    g_assert_cmpint (g_mkdir_with_parents (nothing, 0755), ==, 0);
    CLI (&run, "predict", "--model", model2, nothing);
    expect (&run, 1, NULL, "no .jpeg, .jpg or .png film in this folder");
    cli_run_clear (&run);
  }
}

static void
test_bad_models (void)
{
  g_autofree char *imagenet = g_build_filename (g_getenv ("XL_FIXTURES"), "resnet-w8-c1000.pth",
                                                NULL);
  g_autofree char *junk = g_build_filename (tmp_root, "junk.safetensors", NULL);
  CliRun run = { 0 };

  CLI (&run, "predict", "--model", imagenet, films);
  expect (&run, 1, NULL, "ImageNet weights are start weights for training");
  cli_run_clear (&run);

  g_assert_true (g_file_set_contents (junk, "{\"not\": \"a model\"}", -1, NULL));
  CLI (&run, "predict", "--model", junk, films);
  expect (&run, 1, NULL, "junk.safetensors");
  cli_run_clear (&run);

  CLI (&run, "predict", "--model", "/nonexistent/model.safetensors", films);
  expect (&run, 1, NULL, "model.safetensors");
  cli_run_clear (&run);

  /* a class the model does not have: the model's own classes are listed */
  CLI (&run, "predict", "--model", model3, "--class", "PNEUMONIA", "--cam",
       tmp_root, films);
  expect (&run, 2, NULL, "knows 3 classes: ALPHA, BETA, GAMMA");
  cli_run_clear (&run);
  CLI (&run, "predict", "--model", model2, "--class", "GAMMA", films);
  expect (&run, 2, NULL, "knows 2 classes: NORMAL, PNEUMONIA");
  cli_run_clear (&run);

  /* three classes answer for all three, the heatmap for the class asked */
  {
    g_autofree char *cams = g_build_filename (tmp_root, "cams3", NULL);
    CLI (&run, "predict", "--model", model3, "--class", "beta", "--cam", cams, "--json", films);
    expect (&run, 0, "\"probabilities\": {\"ALPHA\": ", NULL);
    g_assert_nonnull (strstr (run.out, "\"cam_class\": \"BETA\""));
    g_assert_null (strstr (run.out, "\"cam_class\": \"ALPHA\""));
    cli_run_clear (&run);
  }
}

static void
test_cam_options (void)
{
  g_autofree char *out = g_build_filename (tmp_root, "cams", NULL);
  CliRun run = { 0 };

  CLI (&run, "cam", "--model", model2, "--out", out, "--cam-layer", "layer3", "--colormap",
       "inferno", "--alpha", "0.6", "--shared-scale", "--json", films);
  expect (&run, 0, "\"method\": \"Grad-CAM\"", NULL);
  g_assert_nonnull (strstr (run.out, "\"layer\": \"layer3\""));
  g_assert_nonnull (strstr (run.out, "\"scale\": \"shared\""));
  g_assert_nonnull (strstr (run.out, "\"colormap\": \"inferno\""));
  g_assert_nonnull (strstr (run.out, "-cam.png\""));
  cli_run_clear (&run);

  CLI (&run, "predict", "--model", model2, "--cam", out, "--method", "gradcam", films);
  expect (&run, 0, "-cam.png", NULL);
  cli_run_clear (&run);

  /* the table says which scale the PNGs use, as the JSON's cam.scale does */
  CLI (&run, "predict", "--model", model2, "--cam", out, films);
  expect (&run, 0, "Heatmap scale: per film, 1 = the film's own peak", NULL);
  g_assert_null (strstr (run.out, "Heatmap scale: shared"));
  cli_run_clear (&run);
  CLI (&run, "predict", "--model", model2, "--cam", out, "--shared-scale", films);
  expect (&run, 0, "Heatmap scale: shared, 1 = the peak over the films whose map is for the class",
          NULL);
  g_assert_null (strstr (run.out, "Heatmap scale: per film"));
  cli_run_clear (&run);
  /* without heatmaps, no scale to speak of */
  CLI (&run, "predict", "--model", model2, films);
  expect (&run, 0, NULL, NULL);
  g_assert_null (strstr (run.out, "Heatmap scale"));
  cli_run_clear (&run);

  /* usage errors */
  CLI (&run, "predict", "--model", model2, "--alpha", "1.5", films);
  expect (&run, 2, NULL, "--alpha");
  cli_run_clear (&run);
  CLI (&run, "predict", "--model", model2, "--cam-layer", "layer9", films);
  expect (&run, 2, NULL, "--cam-layer");
  cli_run_clear (&run);
  CLI (&run, "predict", "--model", model2, "--colormap", "viridis", films);
  expect (&run, 2, NULL, "--colormap");
  cli_run_clear (&run);
  CLI (&run, "predict", films);
  expect (&run, 2, NULL, "--model is required");
  cli_run_clear (&run);
  CLI (&run, "cam", "--model", model2, films);
  expect (&run, 2, NULL, "--out DIR is required");
  cli_run_clear (&run);
  CLI (&run, "predict", "--model", model2);
  expect (&run, 2, NULL, "give at least one image or folder");
  cli_run_clear (&run);
}

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

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_root = g_dir_make_tmp ("xl-cli-predict-XXXXXX", NULL);
  make_fixtures ();

  g_test_add_func ("/cli/predict/folder", test_predict_folder);
  g_test_add_func ("/cli/predict/same-input-as-training", test_same_input_as_training);
  g_test_add_func ("/cli/predict/bad-films", test_bad_films);
  g_test_add_func ("/cli/predict/bad-models", test_bad_models);
  g_test_add_func ("/cli/predict/cam-options", test_cam_options);

  status = g_test_run ();
  remove_tree (tmp_root);
  g_free (tmp_root);
  g_free (model2);
  g_free (model3);
  g_free (films);
  return status;
}
