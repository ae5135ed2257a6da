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

/* ---- helpers for the tests below ------------------------------------------------ */

static guint
count_pngs (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    n += g_str_has_suffix (name, ".png");
  return n;
}

static guint
count_substrings (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* A copy of model with its threshold metadata set to `threshold` (JSON text):
 * the safetensors header is JSON whose "xraylab" string holds the model's
 * JSON, so the number is rewritten in place and the header re-padded. */
static char *
model_with_threshold (const char *model, const char *threshold, const char *name)
{
  static const char key[] = "\\\"threshold\\\":";
  g_autofree char *bytes = NULL;
  g_autoptr (GString) header = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  char *path = g_build_filename (tmp_root, name, NULL);
  const char *at, *end;
  guint64 header_len = 0;
  gsize len;
  guint8 le[8];

  g_assert_true (g_file_get_contents (model, &bytes, &len, NULL));
  for (int i = 7; i >= 0; i--)
    header_len = header_len << 8 | (guint8) bytes[i];
  g_assert_cmpuint (8 + header_len, <=, len);
  header = g_string_new_len (bytes + 8, (gssize) header_len);
  while (header->len > 0 && header->str[header->len - 1] == ' ')
    g_string_truncate (header, header->len - 1);
  /* the model's own threshold comes first; the metrics' copy, if any, later */
  at = strstr (header->str, key);
  g_assert_nonnull (at);
  at += strlen (key);
  for (end = at; *end != '\0' && strchr ("0123456789.eE+-", *end) != NULL; end++)
    ;
  g_assert_cmpint (end - at, >, 0);
  {
    gsize offset = (gsize) (at - header->str), old_len = (gsize) (end - at);
    g_string_erase (header, (gssize) offset, (gssize) old_len);
    g_string_insert (header, (gssize) offset, threshold);
  }
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');
  for (int i = 0; i < 8; i++)
    le[i] = (guint8) ((guint64) header->len >> (8 * i));
  g_byte_array_append (out, le, 8);
  g_byte_array_append (out, (const guint8 *) header->str, (guint) header->len);
  g_byte_array_append (out, (const guint8 *) bytes + 8 + header_len,
                       (guint) (len - 8 - header_len));
  g_assert_true (g_file_set_contents (path, (const char *) out->data, (gssize) out->len, NULL));
  return path;
}

/* ---- a minimal baseline JPEG writer --------------------------------------------
 * Enough to write one gray film as a 1-component JPEG and as a 3-component
 * (YCbCr 4:4:4) one with the same luma and neutral chroma, i.e. R = G = B.
 * One quantization table for all, and Huffman tables with every symbol at one
 * code length (DC: 12 symbols of 4 bits, AC: 162 of 8), so the codes are just
 * the symbols' indices. */

typedef struct {
  GByteArray *out;
  guint32     bits;
  int         n_bits;
} BitWriter;

static void
put_bits (BitWriter *w, guint32 value, int n)
{
  for (int i = n - 1; i >= 0; i--)
    {
      w->bits = w->bits << 1 | ((value >> i) & 1);
      if (++w->n_bits == 8)
        {
          guint8 byte = (guint8) w->bits, zero = 0;
          g_byte_array_append (w->out, &byte, 1);
          if (byte == 0xff)
            g_byte_array_append (w->out, &zero, 1);   /* byte stuffing */
          w->bits = 0;
          w->n_bits = 0;
        }
    }
}

static void
put_bytes (GByteArray *out, const guint8 *data, guint n)
{
  g_byte_array_append (out, data, n);
}

static int
magnitude_bits (int v)
{
  int n = 0;

  for (v = ABS (v); v > 0; v >>= 1)
    n++;
  return n;
}

static void
put_value (BitWriter *w, int v, int n)
{
  if (n > 0)
    put_bits (w, (guint32) (v >= 0 ? v : v + (1 << n) - 1), n);
}

#define JPEG_Q 4

/* cos (k pi / 16) without libm, which this test does not link */
static double
cos_16 (int k)
{
  static const double first[9] = {
    1.0, 0.98078528040323044913, 0.92387953251128675613, 0.83146961230254523708,
    0.70710678118654752440, 0.55557023301960222474, 0.38268343236508977173,
    0.19509032201612826785, 0.0,
  };

  k %= 32;
  if (k > 16)
    k = 32 - k;
  return k > 8 ? -first[16 - k] : first[k];
}

static int
round_to_int (double v)
{
  return (int) (v >= 0 ? v + 0.5 : v - 0.5);
}

static void
encode_block (BitWriter *w, const double block[64], int *dc_pred, const guint8 *ac_code)
{
  static const int zigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
  };
  int coef[64], run = 0, diff, n;

  for (int v = 0; v < 8; v++)
    for (int u = 0; u < 8; u++)
      {
        double sum = 0;
        for (int y = 0; y < 8; y++)
          for (int x = 0; x < 8; x++)
            sum += block[y * 8 + x] * cos_16 ((2 * x + 1) * u) * cos_16 ((2 * y + 1) * v);
        sum *= 0.25 * (u == 0 ? cos_16 (4) : 1) * (v == 0 ? cos_16 (4) : 1);
        coef[v * 8 + u] = round_to_int (sum / JPEG_Q);
      }
  diff = coef[0] - *dc_pred;
  *dc_pred = coef[0];
  n = magnitude_bits (diff);
  put_bits (w, (guint32) n, 4);
  put_value (w, diff, n);
  for (int k = 1; k < 64; k++)
    {
      int c = coef[zigzag[k]];
      if (c == 0)
        {
          run++;
          continue;
        }
      for (; run > 15; run -= 16)
        put_bits (w, ac_code[0xf0], 8);
      n = magnitude_bits (c);
      put_bits (w, ac_code[run << 4 | n], 8);
      put_value (w, c, n);
      run = 0;
    }
  if (run > 0)
    put_bits (w, ac_code[0x00], 8);
}

static void
write_jpeg (const char *path, const guint8 *gray, int width, int height, int components)
{
  static const guint8 soi_app0[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0,
                                     1, 1, 0, 0, 1, 0, 1, 0, 0 };
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 ac_symbols[162], ac_code[256] = { 0 }, seg[512];
  BitWriter w = { out, 0, 0 };
  int dc_pred[3] = { 0, 0, 0 }, n_ac = 0, len;

  ac_symbols[n_ac++] = 0x00;
  ac_symbols[n_ac++] = 0xf0;
  for (int run = 0; run < 16; run++)
    for (int size = 1; size <= 10; size++)
      ac_symbols[n_ac++] = (guint8) (run << 4 | size);
  for (int i = 0; i < n_ac; i++)
    ac_code[ac_symbols[i]] = (guint8) i;

  put_bytes (out, soi_app0, sizeof soi_app0);
  /* DQT: table 0, every step JPEG_Q */
  seg[0] = 0xff, seg[1] = 0xdb, seg[2] = 0, seg[3] = 67, seg[4] = 0;
  memset (seg + 5, JPEG_Q, 64);
  put_bytes (out, seg, 69);
  /* SOF0 */
  len = 8 + 3 * components;
  seg[0] = 0xff, seg[1] = 0xc0, seg[2] = 0, seg[3] = (guint8) len, seg[4] = 8;
  seg[5] = (guint8) (height >> 8), seg[6] = (guint8) height;
  seg[7] = (guint8) (width >> 8), seg[8] = (guint8) width, seg[9] = (guint8) components;
  for (int c = 0; c < components; c++)
    seg[10 + 3 * c] = (guint8) (c + 1), seg[11 + 3 * c] = 0x11, seg[12 + 3 * c] = 0;
  put_bytes (out, seg, (guint) len + 2);
  /* DHT: DC table 0, 12 symbols of 4 bits; AC table 0, 162 symbols of 8 bits */
  len = 2 + 17 + 12;
  seg[0] = 0xff, seg[1] = 0xc4, seg[2] = 0, seg[3] = (guint8) len, seg[4] = 0x00;
  memset (seg + 5, 0, 16);
  seg[5 + 3] = 12;
  for (int i = 0; i < 12; i++)
    seg[21 + i] = (guint8) i;
  put_bytes (out, seg, (guint) len + 2);
  len = 2 + 17 + 162;
  seg[0] = 0xff, seg[1] = 0xc4, seg[2] = 0, seg[3] = (guint8) len, seg[4] = 0x10;
  memset (seg + 5, 0, 16);
  seg[5 + 7] = 162;
  memcpy (seg + 21, ac_symbols, 162);
  put_bytes (out, seg, (guint) len + 2);
  /* SOS: all components interleaved, one block each per MCU */
  len = 6 + 2 * components;
  seg[0] = 0xff, seg[1] = 0xda, seg[2] = 0, seg[3] = (guint8) len, seg[4] = (guint8) components;
  for (int c = 0; c < components; c++)
    seg[5 + 2 * c] = (guint8) (c + 1), seg[6 + 2 * c] = 0x00;
  seg[5 + 2 * components] = 0, seg[6 + 2 * components] = 63, seg[7 + 2 * components] = 0;
  put_bytes (out, seg, (guint) len + 2);

  for (int by = 0; by < (height + 7) / 8; by++)
    for (int bx = 0; bx < (width + 7) / 8; bx++)
      {
        double luma[64], neutral[64] = { 0 };
        for (int y = 0; y < 8; y++)
          for (int x = 0; x < 8; x++)
            luma[y * 8 + x] = gray[MIN (by * 8 + y, height - 1) * width
                                   + MIN (bx * 8 + x, width - 1)] - 128.0;
        encode_block (&w, luma, &dc_pred[0], ac_code);
        for (int c = 1; c < components; c++)
          encode_block (&w, neutral, &dc_pred[c], ac_code);   /* Cb = Cr = 128 */
      }
  while (w.n_bits != 0)
    put_bits (&w, 1, 1);
  put_bytes (out, (const guint8 []) { 0xff, 0xd9 }, 2);
  g_assert_true (g_file_set_contents (path, (const char *) out->data, (gssize) out->len, NULL));
}

/* ---- the tests ------------------------------------------------------------------ */

/* --cam writes exactly one heatmap per film that could be read, on either
 * path (drawn as batches finish, or after the last film for a shared scale),
 * the same film given twice included. */
static void
test_one_png_per_film (void)
{
  g_autofree char *bad = g_build_filename (tmp_root, "one-png-bad.jpeg", NULL);
  g_autofree char *again = g_build_filename (films, "NORMAL", NULL);
  g_autoptr (GDir) d = g_dir_open (again, 0, NULL);
  g_autofree char *one = g_build_filename (again, g_dir_read_name (d), NULL);
  CliRun run = { 0 };

  g_assert_true (g_file_set_contents (bad, "not a film", -1, NULL));
  for (int shared = 0; shared < 2; shared++)
    {
      g_autofree char *cams = g_strdup_printf ("%s/one-png-%d", tmp_root, shared);

      CLI (&run, "predict", "--model", model2, "--json", "--cam", cams, "--batch-size", "3",
           shared ? "--shared-scale" : "--json", films, bad, one);
      expect (&run, 1, NULL, "1 of 10 films could not be used");
      g_assert_cmpuint (count_pngs (cams), ==, 9);
      g_assert_cmpuint (count_substrings (run.out, "\"cam_png\": "), ==, 9);
      g_assert_cmpuint (count_substrings (run.out, "-2-cam.png\""), ==, 1);
      cli_run_clear (&run);
    }
}

/* The label is the model's threshold's, not 0.5's: the same probabilities
 * give other labels when the saved threshold changes. */
static void
test_model_threshold (void)
{
  g_autofree char *all = model_with_threshold (model2, "0.0", "threshold-0.safetensors");
  g_autofree char *none = model_with_threshold (model2, "1.0", "threshold-1.safetensors");
  g_autoptr (GHashTable) probs = NULL;
  CliRun run = { 0 };
  guint normal, pneumonia;

  CLI (&run, "predict", "--model", model2, "--json", films);
  expect (&run, 0, NULL, NULL);
  probs = json_probabilities (run.out, "PNEUMONIA");
  normal = count_substrings (run.out, "\"predicted\": \"NORMAL\"");
  pneumonia = count_substrings (run.out, "\"predicted\": \"PNEUMONIA\"");
  g_assert_cmpuint (normal + pneumonia, ==, 8);
  cli_run_clear (&run);

  for (int t = 0; t < 2; t++)
    {
      g_autoptr (GHashTable) again = NULL;
      GHashTableIter iter;
      gpointer key, value;

      CLI (&run, "predict", "--model", t == 0 ? all : none, "--json", films);
      expect (&run, 0, t == 0 ? "\"threshold\": 0," : "\"threshold\": 1,", NULL);
      /* every film on the side the threshold puts it, whatever 0.5 says */
      g_assert_cmpuint (count_substrings (run.out, t == 0 ? "\"predicted\": \"PNEUMONIA\""
                                                          : "\"predicted\": \"NORMAL\""), ==, 8);
      again = json_probabilities (run.out, "PNEUMONIA");
      g_hash_table_iter_init (&iter, probs);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_assert_cmpfloat (*(double *) value, ==, *(double *) g_hash_table_lookup (again, key));
      cli_run_clear (&run);
    }
  /* the table too: with 8 films, at least one label moved in one of the two */
  CLI (&run, "predict", "--model", none, films);
  expect (&run, 0, "A film is PNEUMONIA when P(PNEUMONIA) >= 1.000", NULL);
  g_assert_nonnull (strstr (run.out, "8 films: 8 NORMAL, 0 PNEUMONIA."));
  cli_run_clear (&run);
}

/* A gray film written as a gray JPEG and as an RGB JPEG with R = G = B: the
 * same film to the network, so the same probabilities; only the note differs. */
static void
test_gray_and_rgb_jpeg (void)
{
  g_autofree char *gray_path = g_build_filename (tmp_root, "film-gray.jpeg", NULL);
  g_autofree char *rgb_path = g_build_filename (tmp_root, "film-rgb.jpeg", NULL);
  const int width = 120, height = 100;
  g_autofree guint8 *pixels = g_new (guint8, width * height);
  g_autofree char *gray_probs = NULL, *rgb_probs = NULL;
  CliRun run = { 0 };

  /* two dark lung fields in a bright body, with a little texture */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        double dy = (y - 50) / 35.0, dl = (x - 38) / 22.0, dr = (x - 82) / 22.0;
        double d2 = MIN (dl * dl, dr * dr) + dy * dy;
        double v = 200 - 140 / (1 + 3 * d2) + 12 * cos_16 (x * 5 + y * 3);
        pixels[y * width + x] = (guint8) CLAMP (round_to_int (v), 0, 255);
      }
  write_jpeg (gray_path, pixels, width, height, 1);
  write_jpeg (rgb_path, pixels, width, height, 3);

  CLI (&run, "predict", "--model", model2, "--json", gray_path, rgb_path);
  expect (&run, 0, NULL, NULL);
  g_assert_cmpuint (count_substrings (run.out, "\"channels\": 1,"), ==, 1);
  g_assert_cmpuint (count_substrings (run.out, "\"channels\": 3,"), ==, 1);
  g_assert_cmpuint (count_substrings (run.out, "RGB film: converted to gray"), ==, 1);
  {
    const char *a = strstr (run.out, "\"probabilities\"");
    const char *b = a != NULL ? strstr (a + 1, "\"probabilities\"") : NULL;
    g_assert_nonnull (b);
    gray_probs = g_strndup (a, (gsize) (strchr (a, '}') - a));
    rgb_probs = g_strndup (b, (gsize) (strchr (b, '}') - b));
  }
  g_assert_cmpstr (gray_probs, ==, rgb_probs);
  cli_run_clear (&run);
}

static guint8
wide_film_value (int x, int y)
{
  return (guint8) ((x * 7 + y * 3) % 256);
}

/* The CLI's heatmap of a wide film: the parts the center crop cut off are
 * the film itself, uncoloured; the crop has heat. */
static void
test_uncoloured_outside_crop (void)
{
  g_autofree char *film = g_build_filename (tmp_root, "wide-film.png", NULL);
  g_autofree char *cams = g_build_filename (tmp_root, "wide-cams", NULL);
  g_autofree char *png = g_build_filename (cams, "wide-film-cam.png", NULL);
  const int width = 640, height = 144;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  guint outside = 0, coloured = 0;
  CliRun run = { 0 };

  /* gray as RGB (R = G = B), drawn pixel for pixel: a picture at scale 1 */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 v = wide_film_value (x, y);
        ((guint32 *) (cairo_image_surface_get_data (s)
                      + y * cairo_image_surface_get_stride (s)))[x] = 0xff000000u | v << 16
                                                                       | v << 8 | v;
      }
  cairo_surface_mark_dirty (s);
  g_assert_cmpint (cairo_surface_write_to_png (s, film), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (s);

  /* the model resizes to a short side of 72 and crops 64: the film becomes
   * 320x72 and the network saw x in [128, 192) of it, [256, 384) of the film */
  CLI (&run, "predict", "--model", model2, "--cam", cams, "--class", "PNEUMONIA",
       "--alpha", "0.9", film);
  expect (&run, 0, "wide-film-cam.png", NULL);
  cli_run_clear (&run);

  s = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (s), >=, width);
  g_assert_cmpint (cairo_image_surface_get_height (s), >=, height);
  /* the film at (0, 0), its own size; the crop's dashed outline left aside */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 p = ((const guint32 *) (cairo_image_surface_get_data (s)
                                        + y * cairo_image_surface_get_stride (s)))[x];
        guint8 r = (guint8) (p >> 16), g = (guint8) (p >> 8), b = (guint8) p;

        if (x < 256 - 3 || x >= 384 + 3)
          {
            if (r != wide_film_value (x, y) || g != r || b != r)
              g_error ("(%d, %d) outside the crop is #%02x%02x%02x, the film is %u", x, y, r,
                       g, b, wide_film_value (x, y));
            outside++;
          }
        else if (x > 256 + 3 && x < 384 - 3 && (r != g || g != b))
          coloured++;
      }
  cairo_surface_destroy (s);
  g_assert_cmpuint (outside, ==, (guint) (width - 128 - 6) * height);
  g_assert_cmpuint (coloured, >, 0);
}

/* PNG base name -> "cam_max" text, from predict --json */
static GHashTable *
json_cam_max (const char *json)
{
  GHashTable *maxes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GRegex) re = g_regex_new ("\"cam_max\": ([^,]+),[^}]*?\"cam_png\": \"([^\"]+)\"",
                                       G_REGEX_DOTALL, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  for (g_regex_match (re, json, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *path = g_match_info_fetch (match, 2);
      g_hash_table_insert (maxes, g_path_get_basename (path), g_match_info_fetch (match, 1));
    }
  return maxes;
}

/* --class on a two-class model: the map is the asked class's, and differs
 * from the other class's wherever either has heat (a map with no positive
 * evidence is empty for both). */
static void
test_class_asked (void)
{
  g_autofree char *normal = g_build_filename (films, "NORMAL", NULL);
  const char *classes[2] = { "NORMAL", "PNEUMONIA" };
  char *cams[2] = { NULL, NULL };
  GHashTable *maxes[2] = { NULL, NULL };
  CliRun run = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  guint with_heat = 0;

  for (int c = 0; c < 2; c++)
    {
      g_autofree char *expected = g_strdup_printf ("\"cam_class\": \"%s\"", classes[c]);
      cams[c] = g_strdup_printf ("%s/class-%s", tmp_root, classes[c]);
      CLI (&run, "predict", "--model", model2, "--cam", cams[c], "--class", classes[c],
           "--json", normal);
      expect (&run, 0, NULL, NULL);
      g_assert_cmpuint (count_substrings (run.out, expected), ==, 4);
      maxes[c] = json_cam_max (run.out);
      g_assert_cmpuint (g_hash_table_size (maxes[c]), ==, 4);
      cli_run_clear (&run);
    }
  g_hash_table_iter_init (&iter, maxes[0]);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *a = g_build_filename (cams[0], key, NULL);
      g_autofree char *b = g_build_filename (cams[1], key, NULL);
      cairo_surface_t *sa = cairo_image_surface_create_from_png (a);
      cairo_surface_t *sb = cairo_image_surface_create_from_png (b);
      const char *other = g_hash_table_lookup (maxes[1], key);
      gboolean same = TRUE;

      g_assert_nonnull (other);
      g_assert_cmpint (cairo_surface_status (sa), ==, CAIRO_STATUS_SUCCESS);
      g_assert_cmpint (cairo_surface_status (sb), ==, CAIRO_STATUS_SUCCESS);
      /* the film, at (0, 0) and at least 512 x 400 here (the bar's label
       * names the class, so the pictures' widths differ) */
      for (int y = 0; y < 400 && same; y++)
        same = memcmp (cairo_image_surface_get_data (sa) + y * cairo_image_surface_get_stride (sa),
                       cairo_image_surface_get_data (sb) + y * cairo_image_surface_get_stride (sb),
                       512 * 4) == 0;
      if (g_ascii_strtod (value, NULL) > 0 || g_ascii_strtod (other, NULL) > 0)
        {
          if (same)
            g_error ("%s: the NORMAL and PNEUMONIA heatmaps are the same", (const char *) key);
          with_heat++;
        }
      cairo_surface_destroy (sa);
      cairo_surface_destroy (sb);
    }
  g_assert_cmpuint (with_heat, >, 0);
  for (int c = 0; c < 2; c++)
    {
      g_hash_table_unref (maxes[c]);
      g_free (cams[c]);
    }
}

/* A model trained with its backbone frozen (fixed features): Grad-CAM at
 * layer3 needs gradients through the frozen stages, and gets them. */
static void
test_frozen_backbone_grad_cam (void)
{
  g_autofree char *run_dir = g_build_filename (tmp_root, "run-fixed", NULL);
  g_autofree char *model = g_build_filename (run_dir, "model.safetensors", NULL);
  g_autofree char *cams = g_build_filename (tmp_root, "fixed-cams", NULL);
  g_autofree char *data = g_path_get_dirname (films);
  CliRun run = { 0 };

  CLI (&run, "train", "--data", data, "--out", run_dir, "--mode", "fixed", "--epochs", "1",
       "--width", "8", "--input-size", "64", "--resize", "72", "--batch-size", "8",
       "--val-fraction", "0.25", "--threads", "2", "--quiet");
  expect (&run, 0, NULL, NULL);
  cli_run_clear (&run);

  CLI (&run, "predict", "--model", model, "--cam", cams, "--cam-layer", "layer3", "--json",
       films);
  expect (&run, 0, "\"method\": \"Grad-CAM\"", NULL);
  g_assert_nonnull (strstr (run.out, "\"layer\": \"layer3\""));
  g_assert_cmpuint (count_pngs (cams), ==, 8);
  /* some heat somewhere: the gradient reached layer3 */
  g_assert_cmpuint (count_substrings (run.out, "\"cam_max\": 0,"), <, 8);
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
  g_test_add_func ("/cli/predict/one-png-per-film", test_one_png_per_film);
  g_test_add_func ("/cli/predict/model-threshold", test_model_threshold);
  g_test_add_func ("/cli/predict/gray-and-rgb-jpeg", test_gray_and_rgb_jpeg);
  g_test_add_func ("/cli/predict/uncoloured-outside-crop", test_uncoloured_outside_crop);
  g_test_add_func ("/cli/predict/class-asked", test_class_asked);
  g_test_add_func ("/cli/predict/frozen-backbone-grad-cam", test_frozen_backbone_grad_cam);

  status = g_test_run ();
  remove_tree (tmp_root);
  g_free (tmp_root);
  g_free (model2);
  g_free (model3);
  g_free (films);
  return status;
}
