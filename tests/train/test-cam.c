/* Class activation maps, proven three ways:
 *  - the network's evaluation-mode backward (nn_resnet_backward_to_group) is
 *    the derivative of the logits: finite differences at every stage, folded
 *    and unfolded, training and inference plans, linear and MLP heads, and no
 *    parameter gradient touched;
 *  - CAM equals Grad-CAM at layer4 up to a positive scale (1 / HW);
 *  - the maps land where they should: a single hot cell mapped back onto films
 *    of other shapes, and the pointing game on the synthetic set, whose
 *    consolidations.csv says where every consolidation is. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "xl-cam.h"
#include "xl-image.h"
#include "xl-synth.h"
#include "xl-train-session.h"

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

static void
fill_normal (float *x, gsize n, GRand *r, double mean, double std)
{
  for (gsize i = 0; i < n; i++)
    {
      /* Box-Muller */
      double u = g_rand_double_range (r, 1e-12, 1), v = g_rand_double (r);
      x[i] = (float) (mean + std * sqrt (-2 * log (u)) * cos (2 * G_PI * v));
    }
}

/* BatchNorm statistics and affine parameters away from their init, so that
 * the evaluation-mode backward has something to get wrong. */
static void
randomize_batchnorm (NnResnet *net, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);

  for (int i = 0; i < nn_resnet_param_count (net); i++)
    {
      NnParam *p = nn_resnet_param (net, i);
      if (p->data == NULL || strstr (p->name, "conv") != NULL || strstr (p->name, "fc") != NULL
          || strstr (p->name, "downsample.0") != NULL)
        continue;
      for (gsize k = 0; k < p->numel; k++)
        {
          if (g_str_has_suffix (p->name, "running_var"))
            p->data[k] = (float) g_rand_double_range (r, 0.5, 2.0);
          else if (g_str_has_suffix (p->name, "running_mean"))
            p->data[k] = (float) g_rand_double_range (r, -0.2, 0.2);
          else if (g_str_has_suffix (p->name, "weight"))
            p->data[k] = (float) g_rand_double_range (r, 0.5, 1.5);
          else if (g_str_has_suffix (p->name, "bias"))
            p->data[k] = (float) g_rand_double_range (r, -0.1, 0.2);
        }
    }
  g_rand_free (r);
}

typedef struct {
  int head_hidden;
  bool training_plan;
  bool fold;
} PlanKind;

static NnResnet *
make_net (const PlanKind *kind, int batch)
{
  NnResnet *net = NULL;
  NnError err = { 0 };
  NnResnetConfig cfg = { .num_classes = 3, .width = 8, .batch = batch, .in_h = 64, .in_w = 64,
                         .training = kind->training_plan, .head_hidden = kind->head_hidden,
                         .head_dropout = 0.5f, .threads = 2,
                         .keep_activations = !kind->training_plan };

  g_assert_cmpint (nn_resnet_new (&net, &cfg, &err), ==, NN_OK);
  nn_resnet_init (net, 7);
  randomize_batchnorm (net, 11);
  return net;
}

/* sum_b dlogits_b . logits_b after a forward from the stage output act */
static double
score_from (NnResnet *net, int group, const float *act, const float *dlogits, int batch,
            int classes)
{
  const float *logits;
  double s = 0;

  nn_resnet_forward_from (net, group + 1, act, batch, false);
  logits = nn_resnet_logits (net);
  for (int i = 0; i < batch * classes; i++)
    s += (double) dlogits[i] * logits[i];
  return s;
}

/* The directional derivative along random directions by central differences
 * against <dact, v>. A step of 1e-3 along a direction of thousands of N(0, 1)
 * entries crosses few ReLU kinks (1e-2 already crosses enough of them in an
 * MLP head's 16 hidden units to be off by 40%), and float rounding stays
 * near 1e-4 relative. */
static void
check_gradient (const PlanKind *kind)
{
  const int B = 2, C = 3;
  NnResnet *net = make_net (kind, B);
  NnError err = { 0 };
  GRand *r = g_rand_new_with_seed (5);
  g_autofree float *input = g_new (float, B * 3 * 64 * 64);
  g_autofree float *dlogits = g_new (float, B * C);

  fill_normal (input, B * 3 * 64 * 64, r, 0, 1);
  fill_normal (dlogits, B * C, r, 0, 1);
  if (kind->fold)
    g_assert_cmpint (nn_resnet_fold_batchnorm (net, &err), ==, NN_OK);

  for (int group = 0; group <= 4; group++)
    {
      int channels, fh, fw;
      gsize n;
      float *act;

      nn_resnet_forward (net, input, B, false);
      act = (float *) nn_resnet_stage_output (net, group, &channels, &fh, &fw);
      n = (gsize) B * channels * fh * fw;
      g_autofree float *base = g_memdup2 (act, n * sizeof (float));
      g_autofree float *dact = g_new (float, n);
      g_autofree float *moved = g_new (float, n);
      g_autofree float *v = g_new (float, n);

      g_assert_cmpint (nn_resnet_backward_to_group (net, dlogits, group, dact, &err), ==, NN_OK);
      if (group == 4)
        {
          /* layer4: pooled = mean over HW, so d score / d A = (fc^T dlogits) / HW */
          if (kind->head_hidden == 0)
            {
              const float *fc = nn_resnet_find_param (net, "fc.weight")->data;
              double worst = 0, scale = 0;
              for (int b = 0; b < B; b++)
                for (int k = 0; k < channels; k++)
                  {
                    double want = 0;
                    for (int c = 0; c < C; c++)
                      want += dlogits[b * C + c] * fc[c * channels + k];
                    want /= fh * fw;
                    for (int i = 0; i < fh * fw; i++)
                      {
                        worst = MAX (worst, fabs (dact[((gsize) b * channels + k) * fh * fw + i]
                                                  - want));
                        scale = MAX (scale, fabs (want));
                      }
                  }
              g_assert_cmpfloat (worst / scale, <, 1e-5);
            }
          continue;
        }

      for (int trial = 0; trial < 3; trial++)
        {
          const double eps = 1e-3;
          double dot = 0, norm = 0, plus, minus, fd;

          fill_normal (v, n, r, 0, 1);
          for (gsize i = 0; i < n; i++)
            {
              dot += (double) dact[i] * v[i];
              norm += (double) dact[i] * dact[i];
            }
          for (gsize i = 0; i < n; i++)
            moved[i] = base[i] + (float) (eps * v[i]);
          plus = score_from (net, group, moved, dlogits, B, C);
          for (gsize i = 0; i < n; i++)
            moved[i] = base[i] - (float) (eps * v[i]);
          minus = score_from (net, group, moved, dlogits, B, C);
          fd = (plus - minus) / (2 * eps);
          /* relative to |dact| |v| ~ the size of a typical directional derivative */
          double tol = 2e-3 * sqrt (norm) * sqrt ((double) n) + 1e-4 * fabs (dot);
          if (fabs (fd - dot) > tol)
            g_error ("stage %d (head %d, %s, %s): finite difference %.6g, backward %.6g", group,
                     kind->head_hidden, kind->training_plan ? "training plan" : "inference plan",
                     kind->fold ? "folded" : "unfolded", fd, dot);
        }
    }
  g_rand_free (r);
  nn_resnet_free (net);
}

static void
test_backward_finite_differences (void)
{
  const PlanKind kinds[] = {
    { .head_hidden = 0, .training_plan = false, .fold = false },
    { .head_hidden = 0, .training_plan = false, .fold = true },
    { .head_hidden = 0, .training_plan = true, .fold = false },
    { .head_hidden = 16, .training_plan = false, .fold = true },
    { .head_hidden = 16, .training_plan = true, .fold = false },
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    check_gradient (&kinds[i]);
}

/* Folded or not, training plan or inference plan, frozen or not: one answer,
 * and no parameter gradient changes. */
static void
test_backward_plans_agree (void)
{
  const int B = 3, C = 3;
  PlanKind infer = { .fold = false }, folded = { .fold = true }, train = { .training_plan = true };
  NnResnet *a = make_net (&infer, B), *b = make_net (&folded, B), *t = make_net (&train, B);
  NnError err = { 0 };
  GRand *r = g_rand_new_with_seed (9);
  g_autofree float *input = g_new (float, B * 3 * 64 * 64);
  g_autofree float *dlogits = g_new (float, B * C);
  int channels, fh, fw;

  fill_normal (input, B * 3 * 64 * 64, r, 0, 1);
  fill_normal (dlogits, B * C, r, 0, 1);
  g_assert_cmpint (nn_resnet_fold_batchnorm (b, &err), ==, NN_OK);

  for (int group = 0; group <= 4; group++)
    {
      nn_resnet_stage_output (a, group, &channels, &fh, &fw);
      gsize n = (gsize) B * channels * fh * fw;
      g_autofree float *da = g_new (float, n), *db = g_new (float, n), *dt = g_new (float, n);

      nn_resnet_forward (a, input, B, false);
      nn_resnet_forward (b, input, B, false);
      g_assert_cmpint (nn_resnet_backward_to_group (a, dlogits, group, da, &err), ==, NN_OK);
      g_assert_cmpint (nn_resnet_backward_to_group (b, dlogits, group, db, &err), ==, NN_OK);
      for (int frozen = 0; frozen <= 5; frozen += 5)
        {
          nn_resnet_set_frozen_stages (t, frozen);
          nn_resnet_zero_grad (t);
          nn_resnet_forward (t, input, B, false);
          g_assert_cmpint (nn_resnet_backward_to_group (t, dlogits, group, dt, &err), ==, NN_OK);
          for (int i = 0; i < nn_resnet_param_count (t); i++)
            {
              const NnParam *p = nn_resnet_param_const (t, i);
              for (gsize k = 0; p->grad != NULL && k < p->numel; k++)
                if (p->grad[k] != 0)
                  g_error ("%s.grad was touched", p->name);
            }
          double worst = 0, scale = 1e-30;
          for (gsize i = 0; i < n; i++)
            {
              worst = MAX (worst, fabs (dt[i] - da[i]));
              scale = MAX (scale, fabs (da[i]));
            }
          g_assert_cmpfloat (worst / scale, <, 1e-5);
        }
      double worst = 0, scale = 1e-30;
      for (gsize i = 0; i < n; i++)
        {
          worst = MAX (worst, fabs (db[i] - da[i]));
          scale = MAX (scale, fabs (da[i]));
        }
      /* folding reassociates the products: float rounding only */
      g_assert_cmpfloat (worst / scale, <, 1e-4);
    }

  /* refused politely: a plan that did not keep its activations, a training
   * forward, a stage that does not exist */
  {
    NnResnet *plain = NULL;
    NnResnetConfig cfg = { .num_classes = 3, .width = 8, .batch = 1, .in_h = 64, .in_w = 64,
                           .threads = 1 };
    g_autofree float *dact = g_new (float, 64 * 64 * 8);
    g_assert_cmpint (nn_resnet_new (&plain, &cfg, &err), ==, NN_OK);
    nn_resnet_forward (plain, input, 1, false);
    g_assert_cmpint (nn_resnet_backward_to_group (plain, dlogits, 3, dact, &err), ==,
                     NN_ERR_INVALID);
    g_assert_nonnull (strstr (err.message, "keep_activations"));
    nn_resnet_free (plain);
    nn_resnet_forward (t, input, B, true);
    g_assert_cmpint (nn_resnet_backward_to_group (t, dlogits, 3, dact, &err), ==,
                     NN_ERR_INVALID);
    g_assert_cmpint (nn_resnet_backward_to_group (a, dlogits, 5, dact, &err), ==,
                     NN_ERR_INVALID);
  }
  g_rand_free (r);
  nn_resnet_free (a);
  nn_resnet_free (b);
  nn_resnet_free (t);
}

/* ---- the predictor ------------------------------------------------------------ */

static char *
save_random_model_sized (const char *name, int head_hidden, int input_size, int resize)
{
  NnResnet *net = NULL;
  NnError err = { 0 };
  g_autoptr (GError) error = NULL;
  XlModelInfo info;
  char *path = g_build_filename (tmp_root, name, NULL);
  NnResnetConfig cfg = { .num_classes = 2, .width = 8, .batch = 1, .in_h = input_size,
                         .in_w = input_size, .head_hidden = head_hidden, .threads = 1 };

  g_assert_cmpint (nn_resnet_new (&net, &cfg, &err), ==, NN_OK);
  nn_resnet_init (net, 3);
  randomize_batchnorm (net, 4);
  xl_model_info_init (&info);
  info.width = 8;
  info.input_size = (guint) input_size;
  info.resize = (guint) resize;
  info.head_hidden = (guint) head_hidden;
  info.threshold = 0.4;
  g_assert_true (xl_model_save (net, &info, path, &error));
  g_assert_no_error (error);
  xl_model_info_clear (&info);
  nn_resnet_free (net);
  return path;
}

static char *
save_random_model (const char *name, int head_hidden)
{
  return save_random_model_sized (name, head_hidden, 64, 72);
}

static XlPredictor *
predictor_for_target (const char *path, XlCamMethod method, int stage, guint batch,
                      gboolean contrastive)
{
  XlPredictorConfig cfg;
  g_autoptr (GError) error = NULL;
  XlPredictor *p;

  xl_predictor_config_init (&cfg);
  cfg.batch = batch;
  cfg.threads = 2;
  cfg.method = method;
  cfg.stage = stage;
  cfg.contrastive = contrastive;
  p = xl_predictor_new (path, &cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

static XlPredictor *
predictor_for (const char *path, XlCamMethod method, int stage, guint batch)
{
  return predictor_for_target (path, method, stage, batch, FALSE);
}

static void
normalize_by_max_abs (float *x, gsize n)
{
  float m = 0;

  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabsf (x[i]));
  g_assert_cmpfloat (m, >, 0);
  for (gsize i = 0; i < n; i++)
    x[i] /= m;
}

/* Zhou's CAM and Selvaraju's Grad-CAM at layer4 with a GAP + linear head:
 * alpha_k = w_ck / HW, so the maps agree up to the positive factor HW; for
 * the class's logit, and for the logit minus the mean logit. */
static void
check_cam_equals_grad_cam (const char *path, gboolean contrastive, guint map_side,
                           float *maps_out)
{
  g_autoptr (XlPredictor) cam = predictor_for_target (path, XL_CAM_METHOD_CAM, 4, 4,
                                                      contrastive);
  g_autoptr (XlPredictor) grad = predictor_for_target (path, XL_CAM_METHOD_GRAD_CAM, 4, 4,
                                                       contrastive);
  const guint B = 4;
  guint mw, mh;
  GRand *r = g_rand_new_with_seed (21);
  gsize in_n = B * xl_predictor_input_floats (cam);
  g_autofree float *input = g_new (float, in_n);
  g_autofree float *pc = g_new (float, B * 2), *pg = g_new (float, B * 2);
  const int classes[4] = { 0, 1, -1, 1 };
  guint ca[4], cb[4];

  g_assert_cmpint (xl_predictor_method (cam), ==, XL_CAM_METHOD_CAM);
  g_assert_null (xl_predictor_method_note (cam));
  xl_predictor_map_size (cam, &mw, &mh);
  g_assert_cmpuint (mw, ==, map_side);
  g_assert_cmpuint (mh, ==, map_side);
  fill_normal (input, in_n, r, 0, 1);
  g_autofree float *mc = g_new (float, B * mw * mh), *mg = g_new (float, B * mw * mh);
  g_assert_true (xl_predictor_run (cam, input, B, classes, pc, mc, ca, NULL));
  g_assert_true (xl_predictor_run (grad, input, B, classes, pg, mg, cb, NULL));
  for (guint i = 0; i < B * 2; i++)
    g_assert_cmpfloat (fabsf (pc[i] - pg[i]), <, 1e-6);
  for (guint i = 0; i < B; i++)
    {
      float *a = mc + i * mw * mh, *b = mg + i * mw * mh;
      g_assert_cmpuint (ca[i], ==, cb[i]);
      if (classes[i] >= 0)
        g_assert_cmpuint (ca[i], ==, (guint) classes[i]);
      else
        g_assert_cmpuint (ca[i], ==, xl_predicted_class (xl_predictor_info (cam), pc + 2 * i, 0.4));
      /* the same scale by the formula, before normalizing */
      for (guint k = 0; k < mw * mh; k++)
        g_assert_cmpfloat (fabsf (a[k] / (mw * mh) - b[k]), <=, 1e-4 * fabsf (a[k]) + 1e-6);
      memcpy (maps_out + i * mw * mh, a, mw * mh * sizeof (float));
      normalize_by_max_abs (a, mw * mh);
      normalize_by_max_abs (b, mw * mh);
      for (guint k = 0; k < mw * mh; k++)
        g_assert_cmpfloat (fabsf (a[k] - b[k]), <, 1e-4);
    }
  g_rand_free (r);
}

static void
test_cam_equals_grad_cam (void)
{
  g_autofree char *path = save_random_model ("linear.safetensors", 0);
  float logit[4 * 4], contrast[4 * 4];

  check_cam_equals_grad_cam (path, FALSE, 2, logit);
  check_cam_equals_grad_cam (path, TRUE, 2, contrast);
  /* the contrastive maps are not the plain ones: they leave out what the
   * logits share, which the plain maps carry */
  gboolean differ = FALSE;
  for (guint k = 0; k < 4 * 4; k++)
    differ |= fabsf (logit[k] - contrast[k]) > 1e-3f;
  g_assert_true (differ);
}

/* The same identity on a map of 6x6 cells (192 px input), where the mean over
 * the locations and a wrong cell order or stride would show, unlike on 2x2. */
static void
test_cam_equals_grad_cam_large_map (void)
{
  g_autofree char *path = save_random_model_sized ("linear192.safetensors", 0, 192, 220);
  g_autofree float *logit = g_new (float, 4 * 36), *contrast = g_new (float, 4 * 36);

  check_cam_equals_grad_cam (path, FALSE, 6, logit);
  check_cam_equals_grad_cam (path, TRUE, 6, contrast);
}

/* ReLU comes before normalization, as in both papers: a map's negative cells
 * (evidence against the class) are 0 on the drawn scale, not the low end of
 * a min-max range, and a map with no positive cell is empty, not rescaled by
 * its least negative value. The drawn scale is map / xl_cam_max after
 * xl_cam_relu, as predict and the GUI draw it. */
static void
test_relu_before_normalization (void)
{
  g_autofree char *path = save_random_model_sized ("relu192.safetensors", 0, 192, 220);
  g_autoptr (XlPredictor) p = predictor_for (path, XL_CAM_METHOD_GRAD_CAM, 3, 2);
  gsize floats = xl_predictor_input_floats (p);
  g_autofree float *input = g_new (float, 2 * floats);
  const int classes[2] = { 0, 1 };
  float probs[4], raw[2 * 144], map[2 * 144], all_negative[36];
  guint negatives = 0, positives = 0, mw, mh;
  GRand *rand = g_rand_new_with_seed (5);

  xl_predictor_map_size (p, &mw, &mh);
  g_assert_cmpuint (mw * mh, ==, 144);
  /* Grad-CAM at layer3 of a random network: maps with cells of both signs */
  fill_normal (input, 2 * floats, rand, 0, 1);
  g_rand_free (rand);
  g_assert_true (xl_predictor_run (p, input, 2, classes, probs, raw, NULL, NULL));
  memcpy (map, raw, sizeof raw);
  for (guint m = 0; m < 2; m++)
    {
      float *one = map + m * 144, top, raw_top = 0;

      xl_cam_relu (one, 144);
      top = xl_cam_max (one, 144);
      for (guint k = 0; k < 144; k++)
        raw_top = MAX (raw_top, raw[m * 144 + k]);
      g_assert_cmpfloat (top, ==, raw_top);
      for (guint k = 0; k < 144; k++)
        {
          float drawn = top > 0 ? one[k] / top : 0, cell = raw[m * 144 + k];
          g_assert_cmpfloat (drawn, >=, 0);
          g_assert_cmpfloat (drawn, <=, 1);
          if (cell <= 0)
            {
              g_assert_cmpfloat (drawn, ==, 0);
              negatives += cell < 0;
            }
          else
            {
              g_assert_cmpfloat (fabsf (drawn - cell / raw_top), <=, 1e-6f);
              positives++;
            }
        }
    }
  g_assert_cmpuint (negatives, >, 0);
  g_assert_cmpuint (positives, >, 0);

  /* no positive evidence: nothing to draw, whatever the scale */
  for (guint k = 0; k < 36; k++)
    all_negative[k] = -1.0f - (float) k;
  all_negative[7] = NAN;      /* outside the crop: stays NAN, uncoloured */
  xl_cam_relu (all_negative, 36);
  g_assert_cmpfloat (xl_cam_max (all_negative, 36), ==, 0);
  for (guint k = 0; k < 36; k++)
    if (k == 7)
      g_assert_true (isnan (all_negative[k]));
    else
      g_assert_cmpfloat (all_negative[k], ==, 0);
}

/* With two classes, the contrastive maps of the two classes are negatives. */
static void
test_contrastive_two_classes (void)
{
  g_autofree char *path = save_random_model ("linear2.safetensors", 0);
  g_autoptr (XlPredictor) p = predictor_for_target (path, XL_CAM_METHOD_GRAD_CAM, 3, 2, TRUE);
  g_autofree float *input = g_new (float, 2 * xl_predictor_input_floats (p));
  const int classes[2] = { 0, 1 };
  float probs[4], maps[2 * 16];

  /* the same film twice, once for each class */
  for (gsize i = 0; i < xl_predictor_input_floats (p); i++)
    input[i] = input[i + xl_predictor_input_floats (p)] = (float) cos (i * 0.11);
  g_assert_true (xl_predictor_run (p, input, 2, classes, probs, maps, NULL, NULL));
  for (guint k = 0; k < 16; k++)
    g_assert_cmpfloat (fabsf (maps[k] + maps[16 + k]), <=, 1e-4 * fabsf (maps[k]) + 1e-6);
}

/* With an MLP head CAM is undefined: the predictor says so and does Grad-CAM. */
static void
test_mlp_head_uses_grad_cam (void)
{
  g_autofree char *path = save_random_model ("mlp.safetensors", 32);
  g_autoptr (XlPredictor) p = predictor_for (path, XL_CAM_METHOD_CAM, 4, 2);
  g_autoptr (XlPredictor) p3 = predictor_for (path, XL_CAM_METHOD_GRAD_CAM, 3, 2);
  g_autofree float *input = g_new0 (float, 2 * xl_predictor_input_floats (p));
  float probs[4], maps[2 * 4 * 4];
  guint mw, mh;

  g_assert_cmpint (xl_predictor_method (p), ==, XL_CAM_METHOD_GRAD_CAM);
  g_assert_nonnull (strstr (xl_predictor_method_note (p), "MLP head"));
  for (gsize i = 0; i < 2 * xl_predictor_input_floats (p); i++)
    input[i] = (float) sin (i * 0.37);
  g_assert_true (xl_predictor_run (p, input, 2, NULL, probs, maps, NULL, NULL));
  xl_predictor_map_size (p3, &mw, &mh);
  g_assert_cmpuint (mw, ==, 4);
  g_assert_true (xl_predictor_run (p3, input, 2, NULL, probs, maps, NULL, NULL));
  for (guint i = 0; i < 2 * mw * mh; i++)
    g_assert_true (isfinite (maps[i]));
}

static void
test_bad_models (void)
{
  g_autofree char *imagenet = g_build_filename (g_getenv ("XL_FIXTURES"), "resnet-w8-c1000.pth",
                                                NULL);
  g_autofree char *junk = g_build_filename (tmp_root, "junk.safetensors", NULL);
  g_autofree char *path = save_random_model ("ok.safetensors", 0);
  g_autoptr (GError) error = NULL;
  XlPredictorConfig cfg;
  XlPredictor *p;

  xl_predictor_config_init (&cfg);
  cfg.method = XL_CAM_METHOD_CAM;
  p = xl_predictor_new (imagenet, &cfg, &error);
  g_assert_null (p);
  g_assert_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "ImageNet"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (junk, "not a model at all", -1, NULL));
  p = xl_predictor_new (junk, &cfg, &error);
  g_assert_null (p);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "junk.safetensors"));
  g_clear_error (&error);

  cfg.stage = 7;
  p = xl_predictor_new (path, &cfg, &error);
  g_assert_null (p);
  g_assert_error (error, XL_CAM_ERROR, XL_CAM_ERROR_UNSUPPORTED);
}

/* ---- geometry ------------------------------------------------------------------- */

static double
bx_right (const XlCamGeometry *g)
{
  double x, y, w, h;

  xl_cam_geometry_crop_box (g, &x, &y, &w, &h);
  return x + w;
}

static double
by_top (const XlCamGeometry *g)
{
  double x, y, w, h;

  xl_cam_geometry_crop_box (g, &x, &y, &w, &h);
  return y;
}

static void
check_single_cell (guint film_w, guint film_h, guint resize, guint crop, guint mw, guint mh,
                   guint hot_x, guint hot_y)
{
  XlCamGeometry g;
  g_autofree float *map = g_new0 (float, mw * mh);
  g_autofree float *out = g_new (float, (gsize) film_w * film_h);
  double want_x, want_y, peak_x, peak_y, bx, by, bw, bh;
  gsize best = 0;

  xl_cam_geometry_init (&g, film_w, film_h, resize, crop);
  map[hot_y * mw + hot_x] = 1;
  xl_cam_project (out, film_w, film_h, map, mw, mh, &g);

  /* the hot cell's centre, by hand: cell -> crop -> resized -> film */
  guint rw, rh;
  xl_image_short_side_size (film_w, film_h, resize, &rw, &rh);
  double left = rint ((rw - (double) crop) / 2), top = rint ((rh - (double) crop) / 2);
  if (rw < crop)
    left = -rint ((crop - (double) rw) / 2);
  if (rh < crop)
    top = -rint ((crop - (double) rh) / 2);
  want_x = ((hot_x + 0.5) * crop / mw + left) * film_w / rw;
  want_y = ((hot_y + 0.5) * crop / mh + top) * film_h / rh;

  for (gsize i = 1; i < (gsize) film_w * film_h; i++)
    if (!isnan (out[i]) && (isnan (out[best]) || out[i] > out[best]))
      best = i;
  /* the film pixel under the cell's centre is hot; for a cell inside the
   * map it is also the brightest (at the map's edge the clamped upsampling
   * keeps the value flat out to the crop's edge) */
  {
    guint wx = (guint) floor (want_x), wy = (guint) floor (want_y);
    double cell_x = (double) crop / mw * film_w / rw, cell_y = (double) crop / mh * film_h / rh;

    g_assert_cmpfloat (out[(gsize) wy * film_w + wx], >=, 0.95);
    if (hot_x > 0 && hot_x + 1 < mw && hot_y > 0 && hot_y + 1 < mh)
      {
        g_assert_cmpfloat (fabs ((best % film_w) + 0.5 - want_x), <=, 0.5 * film_w / rw + 0.51);
        g_assert_cmpfloat (fabs ((best / film_w) + 0.5 - want_y), <=, 0.5 * film_h / rh + 0.51);
      }
    /* a whole cell away, the heat is gone */
    if (want_x + cell_x + 1 < bx_right (&g))
      g_assert_cmpfloat (out[(gsize) wy * film_w + (guint) floor (want_x + cell_x)], <=, 0.05);
    if (want_y - cell_y - 1 > by_top (&g))
      g_assert_cmpfloat (out[(gsize) floor (want_y - cell_y) * film_w + wx], <=, 0.05);
  }
  xl_cam_peak (map, mw, mh, &g, &peak_x, &peak_y);
  g_assert_cmpfloat (fabs (peak_x - want_x), <, 1e-9 * film_w + 1e-9);
  g_assert_cmpfloat (fabs (peak_y - want_y), <, 1e-9 * film_h + 1e-9);

  /* outside the crop: uncoloured; inside: coloured */
  xl_cam_geometry_crop_box (&g, &bx, &by, &bw, &bh);
  for (guint y = 0; y < film_h; y++)
    for (guint x = 0; x < film_w; x++)
      {
        double cx = x + 0.5, cy = y + 0.5;
        gboolean inside = cx >= bx && cx < bx + bw && cy >= by && cy < by + bh;
        gboolean edge = fabs (cx - bx) < 1 || fabs (cx - bx - bw) < 1 || fabs (cy - by) < 1
                        || fabs (cy - by - bh) < 1;
        if (!edge)
          g_assert_cmpint (!isnan (out[(gsize) y * film_w + x]), ==, inside);
      }
  /* away from the hot cell's neighbours the map is 0 */
  g_assert_cmpfloat (xl_cam_max (out, (gsize) film_w * film_h), <=, 1.0f);

  /* film <-> crop round trip */
  double cx, cy, fx, fy;
  xl_cam_geometry_film_to_crop (&g, 17.25, 33.5, &cx, &cy);
  xl_cam_geometry_crop_to_film (&g, cx, cy, &fx, &fy);
  g_assert_cmpfloat (fabs (fx - 17.25), <, 1e-9);
  g_assert_cmpfloat (fabs (fy - 33.5), <, 1e-9);
}

static void
test_single_hot_cell (void)
{
  XlCamGeometry g;

  /* the model sees 64x64 of a 72-short-side resize; films of other shapes */
  check_single_cell (300, 200, 72, 64, 4, 4, 2, 1);     /* landscape 3:2 */
  check_single_cell (150, 410, 72, 64, 4, 4, 0, 3);     /* portrait, corner cell */
  check_single_cell (64, 64, 72, 64, 2, 2, 1, 1);       /* smaller than the resize */
  check_single_cell (2000, 1700, 256, 224, 7, 7, 5, 2); /* a Kermany-sized film */
  check_single_cell (97, 61, 60, 64, 4, 4, 3, 0);       /* resize below the crop: padding */

  /* the share of the film the crop shows */
  xl_cam_geometry_init (&g, 300, 200, 72, 64);
  g_assert_cmpfloat (fabs (xl_cam_geometry_coverage (&g) - (64.0 * 64) / (108.0 * 72)), <,
                     1e-9);
  /* 97x61 -> 95x60: the crop cuts the sides and pads above and below */
  xl_cam_geometry_init (&g, 97, 61, 60, 64);
  g_assert_cmpint (g.crop_top, ==, -2);
  g_assert_cmpfloat (fabs (xl_cam_geometry_coverage (&g) - 64.0 / 95), <, 1e-9);
}

/* ---- the pointing game -------------------------------------------------------- */

/* Trained at 128 px, not the 64 of the session tests: at 64 layer4 is a 2x2
 * map, too coarse to point at anything, and at 112 (4x4 cells of 28 px) CAM
 * pointed right on 62% of the films. At 128, with this seed and 2 threads
 * (the numbers are reproducible): CAM at layer4 89%, Grad-CAM at layer3 89%
 * with the margin; 60% and 71% strictly inside the boxes. */
#define PG_FILM 144
#define PG_INPUT 128
#define PG_RESIZE 144

typedef struct {
  char *file;
  double x, y, w, h;
} Box;

static GArray *
read_boxes (const char *data_dir)
{
  g_autofree char *csv = g_build_filename (data_dir, "consolidations.csv", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GArray *boxes = g_array_new (FALSE, FALSE, sizeof (Box));

  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "split,class,file,x,y,width,height");
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      if (g_strv_length (f) != 7 || strcmp (f[0], "test") != 0)
        continue;
      Box b = { g_strdup (f[2]), g_ascii_strtod (f[3], NULL), g_ascii_strtod (f[4], NULL),
                g_ascii_strtod (f[5], NULL), g_ascii_strtod (f[6], NULL) };
      g_array_append_val (boxes, b);
    }
  return boxes;
}

typedef struct {
  guint films, hits, strict_hits;   /* strict: inside the box itself, no margin */
} Score;

static void
test_pointing_game (void)
{
  g_autofree char *data_dir = g_build_filename (tmp_root, "synth", NULL);
  g_autofree char *run_dir = g_build_filename (tmp_root, "run", NULL);
  g_autofree char *model = g_build_filename (run_dir, "model.safetensors", NULL);
  g_autofree char *films_dir = g_build_filename (data_dir, "test", "PNEUMONIA", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) session = NULL;
  g_autoptr (GArray) boxes = NULL;
  g_autoptr (GDir) dir = NULL;
  XlSynthConfig scfg;
  XlTrainConfig cfg;
  const char *name;
  gint64 t0 = g_get_monotonic_time ();

  xl_synth_config_init (&scfg);
  scfg.per_class = 150;
  scfg.size = PG_FILM;
  scfg.seed = 3;
  scfg.n_threads = 2;
  g_assert_true (xl_synth_generate (data_dir, &scfg, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  xl_train_config_init (&cfg, XL_TRAIN_FINETUNE);
  cfg.data_path = g_strdup (data_dir);
  cfg.out_dir = g_strdup (run_dir);
  cfg.width = 16;
  cfg.input_size = PG_INPUT;
  cfg.resize = PG_RESIZE;
  cfg.batch_size = 16;
  cfg.epochs = 14;
  cfg.lr = 2e-3;
  cfg.schedule = XL_SCHEDULE_COSINE;
  cfg.val_fraction = 0;
  cfg.threads = 2;
  cfg.seed = 5;
  session = xl_train_session_new (&cfg, &error);
  g_assert_no_error (error);
  g_assert_true (xl_train_session_run (session, NULL, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("pointing game: trained in %.1f s",
                  (g_get_monotonic_time () - t0) / 1e6);

  boxes = read_boxes (data_dir);
  g_autoptr (XlPredictor) cam = predictor_for (model, XL_CAM_METHOD_CAM, 4, 8);
  g_autoptr (XlPredictor) grad3 = predictor_for (model, XL_CAM_METHOD_GRAD_CAM, 3, 8);
  const XlModelInfo *info = xl_predictor_info (cam);
  g_assert_cmpstr (info->classes[1], ==, "PNEUMONIA");
  /* Zhang et al.'s pointing game allows 15 px at 224: the same share here */
  double margin_crop = 15.0 * PG_INPUT / 224.0;
  Score score[2] = { { 0 } };
  guint pneumonia = 0;
  gsize floats = xl_predictor_input_floats (cam);
  g_autofree float *input = g_new (float, floats);

  dir = g_dir_open (films_dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (films_dir, name, NULL);
      g_autofree char *bytes = NULL;
      g_autoptr (XlImage) img = NULL;
      XlImageInfo hdr;
      XlCamGeometry geom;
      gsize len;
      float probs[2];

      g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
      img = xl_image_decode_short_side ((const guint8 *) bytes, len, info->resize, name, &hdr,
                                        &error);
      g_assert_no_error (error);
      xl_predictor_transform (cam, img, input);
      xl_cam_geometry_init (&geom, hdr.width, hdr.height, info->resize, info->input_size);
      double margin = margin_crop * hdr.height / geom.resized_height;
      pneumonia++;

      for (int m = 0; m < 2; m++)
        {
          XlPredictor *p = m == 0 ? cam : grad3;
          guint mw, mh, cls;
          double px, py;
          gboolean hit = FALSE, strict = FALSE;

          xl_predictor_map_size (p, &mw, &mh);
          g_autofree float *map = g_new (float, mw * mh);
          g_assert_true (xl_predictor_run (p, input, 1, NULL, probs, map, &cls, NULL));
          if (cls != 1)
            continue;     /* scored on correctly classified PNEUMONIA films only */
          xl_cam_relu (map, mw * mh);
          xl_cam_peak (map, mw, mh, &geom, &px, &py);
          for (guint k = 0; k < boxes->len; k++)
            {
              const Box *b = &g_array_index (boxes, Box, k);
              if (strcmp (b->file, name) == 0 && px >= b->x - margin
                  && px <= b->x + b->w + margin && py >= b->y - margin
                  && py <= b->y + b->h + margin)
                hit = TRUE;
              if (strcmp (b->file, name) == 0 && px >= b->x && px <= b->x + b->w && py >= b->y
                  && py <= b->y + b->h)
                strict = TRUE;
            }
          score[m].films++;
          score[m].hits += hit;
          score[m].strict_hits += strict;
        }
    }

  g_test_message ("pointing game on %u PNEUMONIA test films (margin %.1f px at %d px input): "
                  "CAM layer4 %u/%u = %.1f%% (%u without the margin), Grad-CAM layer3 %u/%u = "
                  "%.1f%% (%u without the margin); %.1f s in all",
                  pneumonia, margin_crop, PG_INPUT, score[0].hits, score[0].films,
                  100.0 * score[0].hits / MAX (score[0].films, 1), score[0].strict_hits,
                  score[1].hits, score[1].films, 100.0 * score[1].hits / MAX (score[1].films, 1),
                  score[1].strict_hits, (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpuint (score[0].films, >=, pneumonia * 9 / 10);
  g_assert_cmpfloat ((double) score[0].hits / score[0].films, >=, 0.8);
  g_assert_cmpfloat ((double) score[1].hits / score[1].films, >=, 0.8);

  for (guint k = 0; k < boxes->len; k++)
    g_free (g_array_index (boxes, Box, k).file);
  xl_train_config_clear (&cfg);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_root = g_dir_make_tmp ("xl-cam-XXXXXX", NULL);

  g_test_add_func ("/cam/nn/backward-finite-differences", test_backward_finite_differences);
  g_test_add_func ("/cam/nn/backward-plans-agree", test_backward_plans_agree);
  g_test_add_func ("/cam/cam-equals-grad-cam", test_cam_equals_grad_cam);
  g_test_add_func ("/cam/cam-equals-grad-cam-large-map", test_cam_equals_grad_cam_large_map);
  g_test_add_func ("/cam/relu-before-normalization", test_relu_before_normalization);
  g_test_add_func ("/cam/contrastive-two-classes", test_contrastive_two_classes);
  g_test_add_func ("/cam/mlp-head-uses-grad-cam", test_mlp_head_uses_grad_cam);
  g_test_add_func ("/cam/bad-models", test_bad_models);
  g_test_add_func ("/cam/geometry/single-hot-cell", test_single_hot_cell);
  g_test_add_func ("/cam/pointing-game", test_pointing_game);

  status = g_test_run ();
  remove_tree (tmp_root);
  g_free (tmp_root);
  return status;
}
