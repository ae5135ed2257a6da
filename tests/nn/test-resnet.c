/* The model's structure, planning, freezing and inference paths. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "nn-resnet.h"
#include "test-common.h"

static NnResnet *
model_from (const NnResnetConfig *cfg)
{
  NnResnet *m = NULL;
  NnError err = { 0 };

  if (nn_resnet_new (&m, cfg, &err) != NN_OK)
    g_error ("nn_resnet_new: %s", err.message);
  return m;
}

static NnResnet *
new_model (int classes, int width, int batch, int size, bool training)
{
  NnResnetConfig cfg = { .num_classes = classes, .width = width, .batch = batch,
                         .in_h = size, .in_w = size, .training = training };

  return model_from (&cfg);
}

static void
test_parameter_counts (void)
{
  /* torchvision: sum(p.numel() for p in resnet18(num_classes=...).parameters()) */
  NnResnet *m = new_model (1000, 64, 1, 64, false);
  g_assert_cmpuint (nn_resnet_num_parameters (m), ==, 11689512);
  /* 62 parameters + 3 buffers for each of the 20 BatchNorms... */
  g_assert_cmpint (nn_resnet_param_count (m), ==, 122);
  g_assert_cmpstr (nn_resnet_param (m, 0)->name, ==, "conv1.weight");
  g_assert_cmpstr (nn_resnet_param (m, 5)->name, ==, "bn1.num_batches_tracked");
  g_assert_cmpstr (nn_resnet_param (m, 6)->name, ==, "layer1.0.conv1.weight");
  NnParam *ds = nn_resnet_find_param (m, "layer2.0.downsample.1.running_var");
  g_assert_nonnull (ds);
  g_assert_true (ds->is_buffer);
  g_assert_cmpint (ds->shape[0], ==, 128);
  NnParam *c = nn_resnet_find_param (m, "layer3.1.conv2.weight");
  g_assert_cmpint (c->ndim, ==, 4);
  g_assert_cmpint (c->shape[0], ==, 256);
  g_assert_cmpint (c->shape[1], ==, 256);
  g_assert_cmpint (c->shape[2], ==, 3);
  g_assert_cmpstr (nn_resnet_param (m, 121)->name, ==, "fc.bias");
  nn_resnet_free (m);

  m = new_model (2, 64, 1, 64, true);
  g_assert_cmpuint (nn_resnet_num_parameters (m), ==, 11177538);
  g_assert_cmpuint (nn_resnet_num_trainable (m), ==, 11177538);
  nn_resnet_set_frozen_stages (m, 5);
  g_assert_cmpuint (nn_resnet_num_trainable (m), ==, 512 * 2 + 2);
  nn_resnet_set_frozen_stages (m, 1);
  /* conv1 (64*3*7*7) and bn1 (2*64) frozen */
  g_assert_cmpuint (nn_resnet_num_trainable (m), ==, 11177538 - 9408 - 128);
  nn_resnet_free (m);
}

static void
test_init (void)
{
  NnResnet *a = new_model (2, 16, 1, 64, false), *b = new_model (2, 16, 1, 64, false);
  NnParam *w;
  double sum = 0, sq = 0;

  nn_resnet_init (a, 42);
  nn_resnet_init (b, 42);
  for (int i = 0; i < nn_resnet_param_count (a); i++)
    {
      NnParam *pa = nn_resnet_param (a, i), *pb = nn_resnet_param (b, i);
      if (pa->data != NULL)
        g_assert_cmpmem (pa->data, pa->numel * 4, pb->data, pb->numel * 4);
    }
  nn_resnet_init (b, 43);
  g_assert_true (memcmp (nn_resnet_param (a, 0)->data, nn_resnet_param (b, 0)->data,
                         64) != 0);

  /* Kaiming normal, fan_out: std = sqrt(2 / (OC*3*3)) for layer4's 128-channel convs */
  w = nn_resnet_find_param (a, "layer4.1.conv1.weight");
  for (size_t i = 0; i < w->numel; i++)
    {
      sum += w->data[i];
      sq += (double) w->data[i] * w->data[i];
    }
  double std = sqrt (sq / w->numel - pow (sum / w->numel, 2));
  g_assert_cmpfloat (fabs (std / sqrt (2.0 / (128 * 9)) - 1), <, 0.02);
  /* nn.Linear: uniform within 1/sqrt(fan_in) */
  w = nn_resnet_find_param (a, "fc.weight");
  float bound = 1 / sqrtf (128), lo = 1, hi = -1;
  for (size_t i = 0; i < w->numel; i++)
    {
      lo = fminf (lo, w->data[i]);
      hi = fmaxf (hi, w->data[i]);
    }
  g_assert_cmpfloat (hi, <=, bound);
  g_assert_cmpfloat (lo, >=, -bound);
  g_assert_cmpfloat (hi, >, 0.8f * bound);
  g_assert_cmpfloat (nn_resnet_find_param (a, "bn1.weight")->data[3], ==, 1);
  g_assert_cmpfloat (nn_resnet_find_param (a, "bn1.running_var")->data[3], ==, 1);
  nn_resnet_free (a);
  nn_resnet_free (b);
}

/* Checks that w is a sample of N(0, expected_std^2): mean, standard deviation
 * and the share within one standard deviation (0.6827 for a normal law, 0.577
 * for a uniform one of the same spread), each within five standard errors of
 * its estimate for a sample of this size. */
static void
assert_normal_sample (const NnParam *w, double expected_std)
{
  double n = (double) w->numel, sum = 0, sq = 0, within = 0;

  for (size_t i = 0; i < w->numel; i++)
    {
      sum += w->data[i];
      sq += (double) w->data[i] * w->data[i];
      within += fabs (w->data[i]) < expected_std;
    }
  double mean = sum / n;
  double std = sqrt (sq / n - mean * mean);
  double share = within / n, normal_share = 0.682689492137086;
  g_test_message ("%s: %zu weights, mean %.3g, std %.5g (expected %.5g), %.4f within 1 std",
                  w->name, w->numel, mean, std, expected_std, share);
  g_assert_cmpfloat (fabs (mean), <, 5 * expected_std / sqrt (n));
  /* the sample standard deviation's relative standard error is 1/sqrt(2n) */
  g_assert_cmpfloat (fabs (std / expected_std - 1), <, 5 / sqrt (2 * n));
  g_assert_cmpfloat (fabs (share - normal_share), <,
                     5 * sqrt (normal_share * (1 - normal_share) / n));
}

/* torchvision's initialization of a full-width model: Kaiming normal with
 * fan_out (std sqrt(2 / (OC*KH*KW))), BatchNorm weight 1 and bias 0, fresh
 * statistics, and nn.Linear's default for fc. */
static void
test_init_full_width (void)
{
  NnResnet *m = new_model (2, 64, 1, 64, false);
  static const struct {
    const char *name;
    int fan_out;
  } convs[] = {
    { "conv1.weight", 64 * 7 * 7 },
    { "layer2.0.conv1.weight", 128 * 3 * 3 },  /* fan_in is half */
    { "layer3.0.downsample.0.weight", 256 * 1 * 1 },
  };

  nn_resnet_init (m, 2024);
  for (size_t i = 0; i < G_N_ELEMENTS (convs); i++)
    assert_normal_sample (nn_resnet_find_param (m, convs[i].name), sqrt (2.0 / convs[i].fan_out));

  /* fc: uniform within 1/sqrt(fan_in), fan_in 512, for weight and bias */
  float bound = 1 / sqrtf (512);
  const NnParam *fc_bias = nn_resnet_find_param (m, "fc.bias");
  const NnParam *fc_weight = nn_resnet_find_param (m, "fc.weight");
  for (size_t i = 0; i < fc_bias->numel; i++)
    {
      g_assert_cmpfloat (fabsf (fc_bias->data[i]), <=, bound);
      g_assert_cmpfloat (fc_bias->data[i], !=, 0);
    }
  g_assert_cmpfloat (fc_bias->data[0], !=, fc_bias->data[1]);
  float lo = 1, hi = -1;
  for (size_t i = 0; i < fc_weight->numel; i++)
    {
      lo = fminf (lo, fc_weight->data[i]);
      hi = fmaxf (hi, fc_weight->data[i]);
    }
  g_assert_cmpfloat (hi, <=, bound);
  g_assert_cmpfloat (lo, >=, -bound);
  /* 1024 uniform draws reach the last 5% of either side */
  g_assert_cmpfloat (hi, >, 0.95f * bound);
  g_assert_cmpfloat (lo, <, -0.95f * bound);

  int n_batchnorms = 0;
  for (int i = 0; i < nn_resnet_param_count (m); i++)
    {
      const NnParam *p = nn_resnet_param (m, i);
      float expect;

      if (p->data_i64 != NULL)
        {
          g_assert_cmpint (*p->data_i64, ==, 0);
          n_batchnorms++;
          continue;
        }
      if (p->group == NN_GROUP_FC || g_str_has_suffix (p->name, "conv1.weight")
          || g_str_has_suffix (p->name, "conv2.weight")
          || g_str_has_suffix (p->name, "downsample.0.weight"))
        continue;
      /* BatchNorm: weight and running_var 1, bias and running_mean 0 */
      expect = g_str_has_suffix (p->name, ".weight") || g_str_has_suffix (p->name, "running_var")
               ? 1 : 0;
      for (size_t j = 0; j < p->numel; j++)
        if (p->data[j] != expect)
          g_error ("%s[%zu] = %g, expected %g", p->name, j, p->data[j], expect);
    }
  g_assert_cmpint (n_batchnorms, ==, 20);
  nn_resnet_free (m);
}

static void
copy_weights (NnResnet *dst, NnResnet *src)
{
  for (int i = 0; i < nn_resnet_param_count (src); i++)
    {
      NnParam *s = nn_resnet_param (src, i), *d = nn_resnet_param (dst, i);
      if (s->data != NULL)
        memcpy (d->data, s->data, s->numel * sizeof (float));
      else
        *d->data_i64 = *s->data_i64;
    }
}

/* Perturbs running statistics so evaluation mode is not the identity. */
static void
perturb_stats (NnResnet *m)
{
  GRand *r = g_rand_new_with_seed (5);
  for (int i = 0; i < nn_resnet_param_count (m); i++)
    {
      NnParam *p = nn_resnet_param (m, i);
      for (size_t j = 0; p->data != NULL && j < p->numel; j++)
        {
          if (g_str_has_suffix (p->name, "running_mean") || g_str_has_suffix (p->name, "bn1.bias"))
            p->data[j] = (float) g_rand_double_range (r, -0.2, 0.2);
          else if (g_str_has_suffix (p->name, "running_var") || g_str_has_suffix (p->name, "bn2.weight"))
            p->data[j] = (float) g_rand_double_range (r, 0.5, 1.5);
        }
    }
  g_rand_free (r);
}

static void
test_inference_paths (void)
{
  enum { B = 3, S = 64, NC = 3 };
  NnResnet *train = new_model (NC, 8, B, S, true);
  NnResnet *infer = new_model (NC, 8, B, S, false);
  NnResnet *folded = new_model (NC, 8, B, S, false);
  float *x = g_new (float, B * 3 * S * S);
  float ref[B * NC], small[NC];
  NnError err = { 0 };

  nn_resnet_init (train, 7);
  perturb_stats (train);
  copy_weights (infer, train);
  copy_weights (folded, train);
  fill_uniform (x, B * 3 * S * S, 8, -2, 2);

  nn_resnet_forward (train, x, B, false);
  memcpy (ref, nn_resnet_logits (train), sizeof ref);
  /* the inference plan (rotating buffers) computes the same */
  nn_resnet_forward (infer, x, B, false);
  g_assert_cmpfloat (rel_error (nn_resnet_logits (infer), ref, B * NC), <, 1e-6);
  /* folded BatchNorm changes only rounding */
  g_assert_cmpint (nn_resnet_fold_batchnorm (folded, &err), ==, NN_OK);
  nn_resnet_forward (folded, x, B, false);
  double e = rel_error (nn_resnet_logits (folded), ref, B * NC);
  g_test_message ("folded vs unfolded: relative error %.3g", e);
  g_assert_cmpfloat (e, <, 1e-4);
  g_assert_cmpint (nn_resnet_fold_batchnorm (train, &err), ==, NN_ERR_INVALID);
  /* a smaller batch than planned gives the same per-image answer */
  nn_resnet_forward (infer, x + 3 * S * S, 1, false);
  memcpy (small, nn_resnet_logits (infer), sizeof small);
  g_assert_cmpfloat (rel_error (small, ref + NC, NC), <, 1e-5);

  /* the feature map is layer4's output; its mean is the pooled vector */
  int ch, fh, fw;
  nn_resnet_forward (infer, x, B, false);
  const float *fmap = nn_resnet_feature_map (infer, &ch, &fh, &fw);
  g_assert_cmpint (ch, ==, 64);
  g_assert_cmpint (fh, ==, 2);
  double mean = 0;
  for (int i = 0; i < fh * fw; i++)
    mean += fmap[5 * fh * fw + i];
  g_assert_cmpfloat (fabs (mean / (fh * fw) - nn_resnet_pooled (infer)[5]), <, 1e-5);

  /* training-mode forward updates running stats only in unfrozen groups */
  NnParam *stem_rm = nn_resnet_find_param (train, "bn1.running_mean");
  NnParam *l4_rm = nn_resnet_find_param (train, "layer4.0.bn1.running_mean");
  float stem0 = stem_rm->data[0], l40 = l4_rm->data[0];
  nn_resnet_set_frozen_stages (train, 4);
  nn_resnet_forward (train, x, B, true);
  g_assert_cmpfloat (stem_rm->data[0], ==, stem0);
  g_assert_cmpfloat (l4_rm->data[0], !=, l40);
  g_assert_cmpint (*nn_resnet_find_param (train, "bn1.num_batches_tracked")->data_i64, ==, 0);
  g_assert_cmpint (*nn_resnet_find_param (train, "layer4.0.bn1.num_batches_tracked")->data_i64,
                   ==, 1);

  g_free (x);
  nn_resnet_free (train);
  nn_resnet_free (infer);
  nn_resnet_free (folded);
}

/* Inference keeps each Winograd unit's weight transform from one forward to
 * the next; whatever writes weights must make it again. Every forward here is
 * compared bit for bit with a fresh model's first forward (which makes its
 * transforms from scratch) with the same weights. */
static NnResnet *
winograd_model (void)
{
  /* 96x96: layer1 (24x24, 144 tiles) and layer2 (12x12, 36) use Winograd */
  NnResnetConfig cfg = { .num_classes = 3, .width = 8, .batch = 2, .in_h = 96, .in_w = 96,
                         .conv_algo = NN_CONV_ALGO_WINOGRAD };

  return model_from (&cfg);
}

/* the logits of a fresh model with init(seed), then (when given) the weights
 * of `like`, folded when asked and with layer1.0.conv2's weight scaled */
static void
fresh_logits (float *out, const float *x, NnResnet *like, bool fold, float scale)
{
  NnResnet *f = winograd_model ();
  NnError err = { 0 };

  copy_weights (f, like);
  if (fold)
    g_assert_cmpint (nn_resnet_fold_batchnorm (f, &err), ==, NN_OK);
  if (scale != 1)
    {
      NnParam *w = nn_resnet_find_param (f, "layer1.0.conv2.weight");
      for (size_t i = 0; i < w->numel; i++)
        w->data[i] *= scale;
    }
  nn_resnet_forward (f, x, 2, false);
  memcpy (out, nn_resnet_logits (f), 2 * 3 * sizeof (float));
  nn_resnet_free (f);
}

/* skip_init leaves every tensor zero, and a model filled after it computes
 * exactly what one made the usual way computes. */
static void
test_skip_init (void)
{
  enum { B = 2, S = 48, NC = 2 };
  NnResnetConfig cfg = { .num_classes = NC, .width = 8, .batch = B, .in_h = S, .in_w = S,
                         .skip_init = true };
  NnResnet *usual = new_model (NC, 8, B, S, false);
  NnResnet *bare = model_from (&cfg);
  float *x = g_new (float, B * 3 * S * S);
  float ref[B * NC];

  for (int i = 0; i < nn_resnet_param_count (bare); i++)
    {
      const NnParam *p = nn_resnet_param_const (bare, i);
      for (size_t j = 0; j < p->numel; j++)
        {
          if (p->data != NULL && p->data[j] != 0.0f)
            g_error ("%s[%zu] = %g after skip_init", p->name, j, p->data[j]);
          if (p->data_i64 != NULL && p->data_i64[j] != 0)
            g_error ("%s = %" G_GINT64_FORMAT " after skip_init", p->name,
                     (gint64) p->data_i64[j]);
        }
    }
  nn_resnet_init (usual, 3);
  perturb_stats (usual);
  copy_weights (bare, usual);
  fill_uniform (x, B * 3 * S * S, 4, -2, 2);
  nn_resnet_forward (usual, x, B, false);
  memcpy (ref, nn_resnet_logits (usual), sizeof ref);
  nn_resnet_forward (bare, x, B, false);
  g_assert_cmpmem (nn_resnet_logits (bare), sizeof ref, ref, sizeof ref);
  g_free (x);
  nn_resnet_free (bare);
  nn_resnet_free (usual);
}

/* Gray films: the stem on channel 0 alone computes what the three channels do. */
static void
check_gray_stem (int size, int batch)
{
  const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };
  NnResnet *ref = new_model (2, 8, batch, size, false);
  NnResnet *gray = new_model (2, 8, batch, size, false);
  NnResnet *unfolded = new_model (2, 8, batch, size, false);
  const size_t plane = (size_t) size * size, n = (size_t) batch * 3 * plane;
  float *x = g_new (float, n), *y = g_new (float, n);
  float *ref_logits = g_new (float, batch * 2), *ref_stage = NULL;
  GRand *r = g_rand_new_with_seed ((guint32) size);
  int c0, h0, w0;
  size_t stage_n;
  NnError err = { 0 };

  nn_resnet_init (ref, 11);
  perturb_stats (ref);
  copy_weights (gray, ref);
  copy_weights (unfolded, ref);
  g_assert_cmpint (nn_resnet_set_gray_input (unfolded, mean, std, &err), ==, NN_OK);
  g_assert_cmpint (nn_resnet_fold_batchnorm (ref, &err), ==, NN_OK);
  g_assert_cmpint (nn_resnet_fold_batchnorm (gray, &err), ==, NN_OK);
  g_assert_cmpint (nn_resnet_set_gray_input (gray, mean, std, &err), ==, NN_OK);
  /* as the loader writes them: one 8-bit gray value through three channels */
  for (int b = 0; b < batch; b++)
    for (size_t i = 0; i < plane; i++)
      {
        int v = g_rand_int_range (r, 0, 256);
        for (int c = 0; c < 3; c++)
          x[((size_t) b * 3 + c) * plane + i] = ((float) v / 255.0f - mean[c]) / std[c];
      }

  nn_resnet_forward (ref, x, batch, false);
  memcpy (ref_logits, nn_resnet_logits (ref), (size_t) batch * 2 * sizeof (float));
  const float *st = nn_resnet_stage_output (ref, 0, &c0, &h0, &w0);
  stage_n = (size_t) batch * c0 * h0 * w0;
  ref_stage = g_memdup2 (st, stage_n * sizeof (float));

  nn_resnet_forward (gray, x, batch, false);
  double e_stage = rel_error (nn_resnet_stage_output (gray, 0, &c0, &h0, &w0), ref_stage,
                             stage_n);
  double e_logits = rel_error (nn_resnet_logits (gray), ref_logits, (size_t) batch * 2);
  g_test_message ("gray stem, %dx%d, batch %d: stem relative error %.3g, logits %.3g", size,
                  size, batch, e_stage, e_logits);
  g_assert_cmpfloat (e_stage, <, 1e-5);
  g_assert_cmpfloat (e_logits, <, 1e-5);
  /* unfolded, the gray stem feeds BatchNorm (its bias block is not used) */
  nn_resnet_forward (unfolded, x, batch, false);
  g_assert_cmpfloat (rel_error (nn_resnet_logits (unfolded), ref_logits, (size_t) batch * 2), <,
                     1e-5);

  /* it is the gray path that ran: a film whose channels differ is not gray,
   * and the gray stem, which reads channel 0 only, gets it wrong */
  memcpy (y, x, n * sizeof (float));
  for (int b = 0; b < batch; b++)
    for (size_t i = 0; i < plane; i++)
      y[((size_t) b * 3 + 2) * plane + i] = -y[((size_t) b * 3 + 2) * plane + i];
  nn_resnet_forward (ref, y, batch, false);
  memcpy (ref_stage, nn_resnet_stage_output (ref, 0, &c0, &h0, &w0), stage_n * sizeof (float));
  nn_resnet_forward (gray, y, batch, false);
  g_assert_cmpfloat (rel_error (nn_resnet_stage_output (gray, 0, &c0, &h0, &w0), ref_stage,
                                stage_n), >, 1e-2);
  /* and turned off, the stem reads all three channels again */
  g_assert_cmpint (nn_resnet_set_gray_input (gray, NULL, NULL, &err), ==, NN_OK);
  nn_resnet_forward (gray, y, batch, false);
  g_assert_cmpfloat (rel_error (nn_resnet_stage_output (gray, 0, &c0, &h0, &w0), ref_stage,
                                stage_n), <, 1e-6);

  g_rand_free (r);
  g_free (ref_stage);
  g_free (ref_logits);
  g_free (y);
  g_free (x);
  nn_resnet_free (unfolded);
  nn_resnet_free (gray);
  nn_resnet_free (ref);
}

static void
test_gray_stem (void)
{
  check_gray_stem (64, 3);   /* the border rows and columns of an even size */
  check_gray_stem (61, 1);   /* an odd size: other border classes, batch 1 */
  check_gray_stem (33, 2);   /* small and odd: the last row and column lose other taps */
}

/* The largest relative error over the parameter gradients of a and b, and
 * the stem weight's alone in *stem */
static double
grad_error (NnResnet *a, NnResnet *b, double *stem)
{
  double worst = 0;

  for (int i = 0; i < nn_resnet_param_count (a); i++)
    {
      const NnParam *pa = nn_resnet_param_const (a, i), *pb = nn_resnet_param_const (b, i);
      if (pa->grad == NULL)
        continue;
      double e = rel_error (pa->grad, pb->grad, pa->numel);
      if (strcmp (pa->name, "conv1.weight") == 0)
        *stem = e;
      worst = fmax (worst, e);
    }
  return worst;
}

/* Training on gray films: the stem's forward and its weight gradient from
 * channel 0 alone give what the three channels do, on 1 and 2 threads. */
static void
check_gray_stem_training (int size, int batch, int threads)
{
  const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };
  NnResnetConfig cfg = { .num_classes = 2, .width = 8, .batch = batch, .in_h = size,
                         .in_w = size, .training = true, .threads = threads };
  NnResnet *ref = model_from (&cfg), *gray = model_from (&cfg);
  const size_t plane = (size_t) size * size, n = (size_t) batch * 3 * plane;
  float *x = g_new (float, n);
  int *labels = g_new (int, batch);
  GRand *r = g_rand_new_with_seed ((guint32) size);
  NnError err = { 0 };
  double stem = -1;

  nn_resnet_init (ref, 12);
  copy_weights (gray, ref);
  g_assert_cmpint (nn_resnet_set_gray_input (gray, mean, std, &err), ==, NN_OK);
  for (int b = 0; b < batch; b++)
    {
      labels[b] = b % 2;
      for (size_t i = 0; i < plane; i++)
        {
          int v = g_rand_int_range (r, 0, 256);
          for (int c = 0; c < 3; c++)
            x[((size_t) b * 3 + c) * plane + i] = ((float) v / 255.0f - mean[c]) / std[c];
        }
    }
  for (int step = 0; step < 2; step++)
    {
      NnResnet *both[2] = { ref, gray };
      float loss[2];
      for (int k = 0; k < 2; k++)
        {
          nn_resnet_forward (both[k], x, batch, true);
          loss[k] = nn_resnet_loss (both[k], labels, NULL);
          nn_resnet_zero_grad (both[k]);
          nn_resnet_backward (both[k]);
        }
      double e = grad_error (ref, gray, &stem);
      g_test_message ("gray stem training, %dx%d, batch %d, %d threads, step %d: loss %.7g "
                      "against %.7g, gradients' relative error %.3g (stem weight %.3g)", size,
                      size, batch, threads, step, loss[1], loss[0], e, stem);
      /* the bounds of rounding: the model's own paths differ as much here
       * (1 against 2 threads with im2col against Winograd, same cases: up
       * to 2.4e-5 on the stem's gradient and 1.0e-4 on the others, at batch
       * 1, where BatchNorm's statistics come from one image) */
      g_assert_cmpfloat (fabs (loss[1] - loss[0]), <, 1e-5 * fabs (loss[0]));
      g_assert_cmpfloat (stem, <, 5e-5);
      g_assert_cmpfloat (e, <, 2e-4);
      /* the next step from the same weights on both sides */
      NnOptimConfig sgd = nn_optim_defaults (NN_OPTIM_SGD);
      nn_resnet_step (ref, &sgd, 0.1);
      copy_weights (gray, ref);
    }

  /* it is the gray path that ran: on a film whose channels differ it gets
   * the stem's gradient wrong */
  for (int b = 0; b < batch; b++)
    for (size_t i = 0; i < plane; i++)
      x[((size_t) b * 3 + 2) * plane + i] = -x[((size_t) b * 3 + 2) * plane + i];
  for (NnResnet **mm = (NnResnet *[]) { ref, gray, NULL }; *mm != NULL; mm++)
    {
      nn_resnet_forward (*mm, x, batch, true);
      nn_resnet_loss (*mm, labels, NULL);
      nn_resnet_zero_grad (*mm);
      nn_resnet_backward (*mm);
    }
  grad_error (ref, gray, &stem);
  g_assert_cmpfloat (stem, >, 1e-2);

  g_rand_free (r);
  g_free (labels);
  g_free (x);
  nn_resnet_free (gray);
  nn_resnet_free (ref);
}

static void
test_gray_stem_training (void)
{
  check_gray_stem_training (64, 3, 2);   /* even size, batch split unevenly */
  check_gray_stem_training (61, 1, 2);   /* odd size, a thread without images */
  check_gray_stem_training (33, 2, 1);   /* small, odd, one thread */
}

static void
test_winograd_cache (void)
{
  enum { B = 2, S = 96, N = B * 3 };
  NnResnet *m = winograd_model (), *other = winograd_model ();
  float *x = g_new (float, B * 3 * S * S);
  float first[N], again[N], expect[N];
  NnError err = { 0 };
  g_autoptr (GError) gerr = NULL;
  g_autofree char *dir = g_dir_make_tmp ("xl-wino-XXXXXX", &gerr);
  g_autofree char *path = g_build_filename (dir, "w.safetensors", NULL);

  g_assert_no_error (gerr);
  fill_uniform (x, B * 3 * S * S, 21, -2, 2);
  nn_resnet_init (m, 1);
  perturb_stats (m);

  /* the cached transform gives exactly the uncached path's result */
  nn_resnet_forward (m, x, B, false);
  memcpy (first, nn_resnet_logits (m), sizeof first);
  nn_resnet_forward (m, x, B, false);
  memcpy (again, nn_resnet_logits (m), sizeof again);
  g_assert_cmpmem (again, sizeof again, first, sizeof first);
  fresh_logits (expect, x, m, false, 1);
  g_assert_cmpmem (first, sizeof first, expect, sizeof expect);
  /* one image of the planned two, from the kept transform */
  nn_resnet_forward (m, x + 3 * S * S, 1, false);
  g_assert_cmpmem (nn_resnet_logits (m), 3 * sizeof (float), first + 3, 3 * sizeof (float));

  /* the transform is really kept: a write through a pointer kept from before
   * the last forward, without nn_resnet_weights_changed, does not reach the
   * Winograd layer (layer1.0.conv2) */
  NnParam *w = nn_resnet_find_param (m, "layer1.0.conv2.weight");
  nn_resnet_forward (m, x, B, false);
  for (size_t i = 0; i < w->numel; i++)
    w->data[i] *= 2;
  nn_resnet_forward (m, x, B, false);
  g_assert_cmpmem (nn_resnet_logits (m), sizeof first, first, sizeof first);
  /* ... and nn_resnet_weights_changed makes it again */
  nn_resnet_weights_changed (m);
  nn_resnet_forward (m, x, B, false);
  for (size_t i = 0; i < w->numel; i++)
    w->data[i] /= 2;          /* exact: back to the weights of `first` */
  memcpy (again, nn_resnet_logits (m), sizeof again);
  nn_resnet_weights_changed (m);
  fresh_logits (expect, x, m, false, 2);
  g_assert_cmpmem (again, sizeof again, expect, sizeof expect);
  g_assert_true (memcmp (again, first, sizeof first) != 0);

  /* a write after nn_resnet_find_param returned the weight needs nothing more */
  nn_resnet_forward (m, x, B, false);
  w = nn_resnet_find_param (m, "layer1.0.conv2.weight");
  for (size_t i = 0; i < w->numel; i++)
    w->data[i] *= 2;
  nn_resnet_forward (m, x, B, false);
  g_assert_cmpmem (nn_resnet_logits (m), sizeof again, again, sizeof again);
  w = nn_resnet_find_param (m, "layer1.0.conv2.weight");
  for (size_t i = 0; i < w->numel; i++)
    w->data[i] /= 2;
  nn_resnet_forward (m, x, B, false);
  g_assert_cmpmem (nn_resnet_logits (m), sizeof first, first, sizeof first);

  /* new weights by nn_resnet_init */
  nn_resnet_init (m, 2);
  nn_resnet_forward (m, x, B, false);
  memcpy (again, nn_resnet_logits (m), sizeof again);
  fresh_logits (expect, x, m, false, 1);
  g_assert_cmpmem (again, sizeof again, expect, sizeof expect);
  g_assert_true (memcmp (again, first, sizeof first) != 0);

  /* new weights by loading a file */
  nn_resnet_init (other, 3);
  perturb_stats (other);
  g_assert_cmpint (nn_resnet_save (other, path, NULL, NULL, 0, &err), ==, NN_OK);
  g_assert_cmpint (nn_resnet_load_file (m, path, NN_LOAD_STRICT, 0, NULL, &err), ==, NN_OK);
  nn_resnet_forward (m, x, B, false);
  memcpy (again, nn_resnet_logits (m), sizeof again);
  fresh_logits (expect, x, other, false, 1);
  g_assert_cmpmem (again, sizeof again, expect, sizeof expect);

  /* folding BatchNorm rewrites the weights */
  g_assert_cmpint (nn_resnet_fold_batchnorm (m, &err), ==, NN_OK);
  nn_resnet_forward (m, x, B, false);
  memcpy (again, nn_resnet_logits (m), sizeof again);
  fresh_logits (expect, x, other, true, 1);
  g_assert_cmpmem (again, sizeof again, expect, sizeof expect);
  nn_resnet_forward (m, x, B, false);
  g_assert_cmpmem (nn_resnet_logits (m), sizeof again, again, sizeof again);

  g_unlink (path);
  g_rmdir (dir);
  g_free (x);
  nn_resnet_free (m);
  nn_resnet_free (other);
}

/* A frozen group gets no gradient and no update, and its BatchNorm runs on
 * its running statistics even in a training forward. The optimizers decay the
 * weights and carry momentum, so an update of a frozen parameter would move
 * it even with a zero gradient; and frozen gradients are set to a sentinel
 * before each step, which an optimizer that reads them would apply. */
static void
test_frozen_gets_no_update (void)
{
  enum { B = 2, S = 32, STEPS = 3 };
  const float sentinel = 0.25f;
  NnResnet *m = new_model (2, 8, B, S, true);
  float *x = g_new (float, B * 3 * S * S);
  int labels[B] = { 0, 1 };
  NnOptimConfig optims[2] = { nn_optim_defaults (NN_OPTIM_SGD),
                              nn_optim_defaults (NN_OPTIM_ADAMW) };

  optims[0].momentum = 0.9;
  optims[0].weight_decay = 0.1;
  optims[1].weight_decay = 0.1;
  fill_uniform (x, B * 3 * S * S, 9, -1, 1);
  for (int frozen = 0; frozen <= 5; frozen++)
    for (size_t o = 0; o < G_N_ELEMENTS (optims); o++)
      {
        int n_params = nn_resnet_param_count (m);
        float **before = g_new0 (float *, n_params);
        gint64 *tracked_before = g_new0 (gint64, n_params);
        int channels, fh, fw;
        float *frozen_out = NULL;
        size_t frozen_out_len = 0;

        nn_resnet_init (m, 1);
        perturb_stats (m);
        nn_resnet_set_frozen_stages (m, frozen);
        nn_resnet_set_optim_steps (m, 0);
        for (int i = 0; i < n_params; i++)
          {
            NnParam *p = nn_resnet_param (m, i);
            if (p->data != NULL)
              before[i] = g_memdup2 (p->data, p->numel * sizeof (float));
            else
              tracked_before[i] = *p->data_i64;
          }

        /* The last frozen stage's output in evaluation mode ... */
        if (frozen > 0)
          {
            nn_resnet_forward (m, x, B, false);
            const float *out = nn_resnet_stage_output (m, MIN (frozen - 1, 4), &channels,
                                                       &fh, &fw);
            frozen_out_len = (size_t) B * channels * fh * fw;
            frozen_out = g_memdup2 (out, frozen_out_len * sizeof (float));
          }

        for (int step = 0; step < STEPS; step++)
          {
            nn_resnet_forward (m, x, B, true);
            /* ... is what the training forward computes: frozen BatchNorm
             * normalizes with the running statistics, not the batch's */
            if (frozen > 0 && step == 0)
              {
                const float *out = nn_resnet_stage_output (m, MIN (frozen - 1, 4), &channels,
                                                           &fh, &fw);
                g_assert_cmpmem (out, frozen_out_len * sizeof (float), frozen_out,
                                 frozen_out_len * sizeof (float));
              }
            nn_resnet_loss (m, labels, NULL);
            nn_resnet_zero_grad (m);
            for (int i = 0; i < n_params; i++)
              {
                NnParam *p = nn_resnet_param (m, i);
                if (p->grad != NULL && p->group < frozen)
                  for (size_t j = 0; j < p->numel; j++)
                    p->grad[j] = sentinel;
              }
            nn_resnet_backward (m);
            for (int i = 0; i < n_params; i++)
              {
                NnParam *p = nn_resnet_param (m, i);
                if (p->grad == NULL || p->group >= frozen)
                  continue;
                /* backward leaves frozen gradients alone */
                for (size_t j = 0; j < p->numel; j++)
                  if (p->grad[j] != sentinel)
                    g_error ("%s: frozen gradient written by backward (%d frozen)", p->name,
                             frozen);
              }
            nn_resnet_step (m, &optims[o], 1e-2);
          }

        for (int i = 0; i < n_params; i++)
          {
            NnParam *p = nn_resnet_param (m, i);
            bool changed;

            if (p->data == NULL)
              {
                /* num_batches_tracked counts only unfrozen BatchNorm's batches */
                g_assert_cmpint (*p->data_i64, ==,
                                 tracked_before[i] + (p->group < frozen ? 0 : STEPS));
                continue;
              }
            changed = memcmp (before[i], p->data, p->numel * sizeof (float)) != 0;
            if (p->group < frozen && changed)
              g_error ("%s: frozen, but changed (%d frozen, optimizer %d)", p->name, frozen,
                       optims[o].kind);
            if (p->group >= frozen && !changed)
              g_error ("%s: trainable, but unchanged (%d frozen, optimizer %d)", p->name,
                       frozen, optims[o].kind);
            g_free (before[i]);
          }
        g_free (before);
        g_free (tracked_before);
        g_free (frozen_out);
      }
  g_free (x);
  nn_resnet_free (m);
}

/* Starting from a frozen part's cached output gives the same logits and the
 * same gradients as running the whole network. */
static void
test_forward_from_cache (void)
{
  enum { B = 2, S = 64 };
  NnResnetConfig cfg = { .num_classes = 3, .width = 8, .batch = B, .in_h = S, .in_w = S,
                         .training = true, .head_hidden = 12, .head_dropout = 0.25f };
  NnResnet *m = NULL;
  float *x = g_new (float, B * 3 * S * S);
  int labels[B] = { 2, 0 };

  g_assert_cmpint (nn_resnet_new (&m, &cfg, NULL), ==, NN_OK);
  nn_resnet_init (m, 4);
  perturb_stats (m);
  fill_uniform (x, B * 3 * S * S, 10, -1, 1);
  for (int group = 1; group <= 5; group++)
    {
      nn_resnet_set_frozen_stages (m, group);
      nn_resnet_seed_dropout (m, 7);
      nn_resnet_forward (m, x, B, true);
      size_t per_image;
      const float *act = nn_resnet_group_input (m, group, &per_image);
      float *cached = g_memdup2 (act, B * per_image * sizeof (float));
      float ref[B * 3];
      memcpy (ref, nn_resnet_logits (m), sizeof ref);
      nn_resnet_loss (m, labels, NULL);
      nn_resnet_zero_grad (m);
      nn_resnet_backward (m);
      NnParam *fc = nn_resnet_find_param (m, "fc.0.weight");
      float *grad_ref = g_memdup2 (fc->grad, fc->numel * sizeof (float));

      nn_resnet_seed_dropout (m, 7);
      nn_resnet_forward_from (m, group, cached, B, true);
      g_assert_cmpfloat (rel_error (nn_resnet_logits (m), ref, B * 3), <, 1e-6);
      nn_resnet_loss (m, labels, NULL);
      nn_resnet_zero_grad (m);
      nn_resnet_backward (m);
      g_assert_cmpfloat (rel_error (fc->grad, grad_ref, fc->numel), <, 1e-6);
      g_free (cached);
      g_free (grad_ref);
    }
  g_free (x);
  nn_resnet_free (m);
}

static void
test_profile (void)
{
  enum { B = 2, S = 32 };
  NnResnet *m = new_model (2, 8, B, S, true);
  float *x = g_new0 (float, B * 3 * S * S);
  int labels[B] = { 0, 1 }, n;
  NnOptimConfig sgd = nn_optim_defaults (NN_OPTIM_SGD);

  nn_resnet_set_profiling (m, true);
  nn_resnet_forward (m, x, B, true);
  nn_resnet_loss (m, labels, NULL);
  nn_resnet_zero_grad (m);
  nn_resnet_backward (m);
  nn_resnet_step (m, &sgd, 0.1);
  const NnProfileEntry *e = nn_resnet_profile (m, &n);
  g_assert_cmpint (n, >, 40);
  g_assert_cmpstr (e[0].name, ==, "conv1");
  /* conv1: 2 images, 8 channels at 16x16, 3*7*7 taps: forward 2 flop per tap */
  g_assert_cmpfloat (e[0].forward_flop, ==, 2.0 * B * 8 * 16 * 16 * 3 * 7 * 7);
  /* its backward computes the weight gradient only: no input gradient for the image */
  g_assert_cmpfloat (e[0].backward_flop, ==, e[0].forward_flop);
  g_assert_cmpfloat (e[0].forward_seconds, >, 0);
  g_assert_cmpint (e[0].calls, ==, 1);
  gboolean seen_optimizer = FALSE;
  for (int i = 0; i < n; i++)
    seen_optimizer |= strcmp (e[i].name, "optimizer") == 0 && e[i].backward_seconds > 0;
  g_assert_true (seen_optimizer);
  nn_resnet_profile_reset (m);
  nn_resnet_profile (m, &n);
  g_assert_cmpint (n, ==, 0);
  g_free (x);
  nn_resnet_free (m);
}

/* Training's memory at 224, which the batch-32 memory target rests on: what
 * each image adds, and what the Winograd weight transforms add. Per image the
 * plan holds 5,243,392 floats of activations, gradients and max-pool indices,
 * less the 802,816 of layer1's four BatchNorm inputs, which live in the stem's
 * output buffer (idle from the max-pool to the stem's backward). The
 * transforms share one buffer, layer4's size (16 x 512 x 512 floats), where
 * one per unit took 16.8M floats. */
static void
test_training_memory (void)
{
  NnResnetConfig cfg = { .num_classes = 2, .width = 64, .batch = 8, .in_h = 224, .in_w = 224,
                         .training = true, .threads = 1, .skip_init = true,
                         .conv_algo = NN_CONV_ALGO_WINOGRAD };
  size_t bytes[3];

  for (int i = 0; i < 3; i++)
    {
      cfg.batch = i == 0 ? 8 : 16;
      cfg.conv_algo = i == 2 ? NN_CONV_ALGO_IM2COL : NN_CONV_ALGO_WINOGRAD;
      NnResnet *m = model_from (&cfg);
      bytes[i] = nn_resnet_memory_bytes (m);
      nn_resnet_free (m);
    }
  double per_image = (double) (bytes[1] - bytes[0]) / 8 / sizeof (float);
  double winograd = ((double) bytes[1] - (double) bytes[2]) / sizeof (float);
  g_test_message ("training at 224: %.0f floats per image; Winograd adds %.0f floats at "
                  "batch 16 (%.1f MB in all)", per_image, winograd, bytes[1] / 1e6);
  g_assert_cmpfloat (per_image, <, 4.6e6);
  g_assert_cmpfloat (winograd, <, 12e6);
}

static void
test_bad_config (void)
{
  NnResnetConfig cfg = { .num_classes = 0, .width = 64, .batch = 1, .in_h = 224, .in_w = 224 };
  NnResnet *m = (NnResnet *) 1;
  NnError err = { 0 };

  g_assert_cmpint (nn_resnet_new (&m, &cfg, &err), ==, NN_ERR_INVALID);
  g_assert_null (m);
  g_assert_nonnull (strstr (err.message, "0 classes"));
  cfg.num_classes = 2;
  cfg.in_h = 8;
  g_assert_cmpint (nn_resnet_new (&m, &cfg, &err), ==, NN_ERR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/resnet/parameter-counts", test_parameter_counts);
  g_test_add_func ("/nn/resnet/init", test_init);
  g_test_add_func ("/nn/resnet/init-full-width", test_init_full_width);
  g_test_add_func ("/nn/resnet/inference-paths", test_inference_paths);
  g_test_add_func ("/nn/resnet/skip-init", test_skip_init);
  g_test_add_func ("/nn/resnet/gray-stem", test_gray_stem);
  g_test_add_func ("/nn/resnet/gray-stem-training", test_gray_stem_training);
  g_test_add_func ("/nn/resnet/winograd-cache", test_winograd_cache);
  g_test_add_func ("/nn/resnet/frozen-gets-no-update", test_frozen_gets_no_update);
  g_test_add_func ("/nn/resnet/forward-from-cache", test_forward_from_cache);
  g_test_add_func ("/nn/resnet/profile", test_profile);
  g_test_add_func ("/nn/resnet/training-memory", test_training_memory);
  g_test_add_func ("/nn/resnet/bad-config", test_bad_config);
  return g_test_run ();
}
