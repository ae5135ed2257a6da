/* A full-width ResNet-18 (1000 classes) at 224x224 against PyTorch, without a
 * 45 MB fixture: both sides fill every tensor from the same integer hash (see
 * closed_form in tools/fixtures/parity.py), so only the logits are committed. */
#include "config.h"

#include <string.h>

#include "nn-packed.h"
#include "nn-resnet.h"
#include "test-common.h"

/* Uniform in [-1, 1): exact in float and double, the same as Python computes it. */
static double
closed_form (int tensor_index, uint32_t j)
{
  uint32_t x = j * 0x9E3779B1u + (uint32_t) (tensor_index + 1) * 0x85EBCA77u;
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  x *= 0x297A2D39u;
  x ^= x >> 15;
  return (double) (x >> 8) / (double) (1u << 23) - 1.0;
}

static void
fill_closed_form (NnResnet *m)
{
  for (int i = 0; i < nn_resnet_param_count (m); i++)
    {
      NnParam *p = nn_resnet_param (m, i);
      if (p->data_i64 != NULL)
        {
          *p->data_i64 = 0;
          continue;
        }
      for (size_t j = 0; j < p->numel; j++)
        {
          double u = closed_form (i, (uint32_t) j), v;
          if (g_str_has_suffix (p->name, "running_var"))
            v = 1.0 + 0.25 * (u + 1.0);
          else if (g_str_has_suffix (p->name, "running_mean") || g_str_has_suffix (p->name, ".bias"))
            v = 0.1 * u;
          else if (p->ndim == 1)
            v = 1.0 + 0.1 * u;
          else
            v = u * sqrt (3.0 / (double) (p->numel / (size_t) p->shape[0]));
          p->data[j] = (float) v;
        }
    }
}

/* The two images' logits, each from a forward of batch 1, against ref (2, 1000) */
static double
batch_one_error (NnResnet *m, const float *x, const float *ref)
{
  float logits[2 * 1000];

  for (int i = 0; i < 2; i++)
    {
      nn_resnet_forward (m, x + (size_t) i * 3 * 224 * 224, 1, false);
      memcpy (logits + i * 1000, nn_resnet_logits (m), 1000 * sizeof (float));
    }
  return rel_error (logits, ref, 2000);
}

static void
test_full_width_224 (void)
{
  NnResnetConfig cfg = { .num_classes = 1000, .width = 64, .batch = 2, .in_h = 224,
                         .in_w = 224 };
  NnResnet *m = NULL;
  NnError err = { 0 };
  NnTensorFile *fx = load_fixture ("full224.safetensors");
  size_t n_in = 2 * 3 * 224 * 224;
  float *x = g_new (float, n_in);
  float fsum[2 * 512];
  int ch, fh, fw;

  g_assert_cmpint (nn_resnet_new (&m, &cfg, &err), ==, NN_OK);
  fill_closed_form (m);
  for (size_t j = 0; j < n_in; j++)
    x[j] = (float) (closed_form (1000, (uint32_t) j) * 2.0);

  nn_resnet_forward (m, x, 2, false);
  double e = rel_error (nn_resnet_logits (m), fixture_tensor (fx, "logits")->data, 2000);
  const float *fmap = nn_resnet_feature_map (m, &ch, &fh, &fw);
  g_assert_cmpint (ch, ==, 512);
  g_assert_cmpint (fh, ==, 7);
  g_assert_cmpint (fw, ==, 7);
  for (int i = 0; i < 2 * 512; i++)
    {
      double s = 0;
      for (int k = 0; k < 49; k++)
        s += fmap[i * 49 + k];
      fsum[i] = (float) s;
    }
  double ef = rel_error (fsum, fixture_tensor (fx, "feature_sum")->data, 1024);
  g_test_message ("full width at 224x224: logits relative error %.3g, layer4 map %.3g", e, ef);
  g_assert_cmpfloat (e, <, 1e-4);
  g_assert_cmpfloat (ef, <, 1e-4);

  /* one image at a time: where the CPU has the kernel, layer4 multiplies
   * packed weights and layer3's Winograd packed planes (nn-packed.h) */
  e = batch_one_error (m, x, fixture_tensor (fx, "logits")->data);
  g_test_message ("one image at a time: logits relative error %.3g", e);
  g_assert_cmpfloat (e, <, 1e-4);

  /* and the same with BatchNorm folded, as inference will run */
  g_assert_cmpint (nn_resnet_fold_batchnorm (m, &err), ==, NN_OK);
  nn_resnet_forward (m, x, 2, false);
  e = rel_error (nn_resnet_logits (m), fixture_tensor (fx, "logits")->data, 2000);
  g_test_message ("folded: logits relative error %.3g", e);
  g_assert_cmpfloat (e, <, 1e-4);
  e = batch_one_error (m, x, fixture_tensor (fx, "logits")->data);
  g_test_message ("folded, one image at a time (%s): logits relative error %.3g",
                  nn_packed_available () ? "packed weights" : "no packed kernel here", e);
  g_assert_cmpfloat (e, <, 1e-4);

  g_free (x);
  nn_resnet_free (m);
  nn_tensor_file_free (fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/parity-full/full-width-224", test_full_width_224);
  return g_test_run ();
}
