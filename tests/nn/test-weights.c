/* Loading and saving a model's state_dict: torchvision checkpoints, our own
 * safetensors models, and every way a weight file can fail to fit. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "nn-resnet.h"
#include "test-common.h"

static NnResnet *
new_model (int classes, int width)
{
  NnResnetConfig cfg = { .num_classes = classes, .width = width, .batch = 2, .in_h = 64,
                         .in_w = 64 };
  NnResnet *m = NULL;
  NnError err = { 0 };

  g_assert_cmpint (nn_resnet_new (&m, &cfg, &err), ==, NN_OK);
  nn_resnet_init (m, 3);
  return m;
}

static char *
tmp_path (const char *name)
{
  static char *dir;
  if (dir == NULL)
    dir = g_dir_make_tmp ("xl-weights-XXXXXX", NULL);
  return g_build_filename (dir, name, NULL);
}

static void
test_imagenet_into_two_classes (void)
{
  g_autofree char *pth = fixture_path ("resnet-w8-c1000.pth");
  NnResnet *m = new_model (2, 8);
  NnError err = { 0 };
  bool replaced = false;
  NnTensorFile *f = NULL;

  /* strict: the classifier does not fit, and the message says how */
  g_assert_cmpint (nn_resnet_load_file (m, pth, NN_LOAD_STRICT, 0, NULL, &err), ==,
                   NN_ERR_MISMATCH);
  g_assert_cmpstr (err.message, ==,
                   "resnet-w8-c1000.pth: tensor fc.weight has shape [1000,64], expected [2,64]");

  g_assert_cmpint (nn_resnet_load_file (m, pth, NN_LOAD_REPLACE_FC, 11, &replaced, &err), ==,
                   NN_OK);
  g_assert_true (replaced);
  g_assert_cmpint (nn_tensor_file_read (&f, pth, &err), ==, NN_OK);
  const NnNamedTensor *t = nn_tensor_file_find (f, "layer3.1.conv2.weight");
  NnParam *p = nn_resnet_find_param (m, "layer3.1.conv2.weight");
  g_assert_cmpmem (p->data, p->numel * 4, t->data, p->numel * 4);
  t = nn_tensor_file_find (f, "layer2.0.downsample.1.running_var");
  p = nn_resnet_find_param (m, "layer2.0.downsample.1.running_var");
  g_assert_cmpmem (p->data, p->numel * 4, t->data, p->numel * 4);
  /* fc is fresh and seeded */
  NnResnet *again = new_model (2, 8);
  g_assert_cmpint (nn_resnet_load_file (again, pth, NN_LOAD_REPLACE_FC, 11, NULL, &err), ==,
                   NN_OK);
  g_assert_cmpmem (nn_resnet_find_param (m, "fc.weight")->data, 128 * 4,
                   nn_resnet_find_param (again, "fc.weight")->data, 128 * 4);
  nn_tensor_file_free (f);
  nn_resnet_free (again);
  nn_resnet_free (m);
}

/* ImageNet weights into a model with an MLP head: the backbone loads, the head is new. */
static void
test_imagenet_into_mlp_head (void)
{
  g_autofree char *pth = fixture_path ("resnet-w8-c1000.pth");
  NnResnetConfig cfg = { .num_classes = 2, .width = 8, .batch = 1, .in_h = 64, .in_w = 64,
                         .head_hidden = 32, .head_dropout = 0.5f };
  NnResnet *m = NULL;
  NnError err = { 0 };
  bool replaced = false;

  g_assert_cmpint (nn_resnet_new (&m, &cfg, &err), ==, NN_OK);
  g_assert_cmpint (nn_resnet_load_file (m, pth, NN_LOAD_STRICT, 0, NULL, &err), ==,
                   NN_ERR_MISMATCH);
  g_assert_nonnull (strstr (err.message, "fc.0.weight is missing"));
  g_assert_cmpint (nn_resnet_load_file (m, pth, NN_LOAD_REPLACE_FC, 0, &replaced, &err), ==,
                   NN_OK);
  g_assert_true (replaced);
  nn_resnet_free (m);
}

static void
test_wrong_width (void)
{
  g_autofree char *pth = fixture_path ("resnet-w8-c1000.pth");
  NnResnet *m = new_model (1000, 16);
  NnError err = { 0 };
  float before = nn_resnet_param (m, 0)->data[0];

  g_assert_cmpint (nn_resnet_load_file (m, pth, NN_LOAD_REPLACE_FC, 0, NULL, &err), ==,
                   NN_ERR_MISMATCH);
  g_assert_cmpstr (err.message, ==,
                   "resnet-w8-c1000.pth: tensor conv1.weight has shape [8,3,7,7], expected "
                   "[16,3,7,7]");
  /* a failed load changes nothing */
  g_assert_cmpfloat (nn_resnet_param (m, 0)->data[0], ==, before);
  nn_resnet_free (m);
}

static void
test_save_and_load (void)
{
  g_autofree char *path = tmp_path ("model.safetensors");
  NnResnet *m = new_model (2, 8), *back = new_model (2, 8);
  const char *keys[] = { "xraylab" }, *values[] = { "{\"classes\":[\"NORMAL\",\"PNEUMONIA\"]}" };
  NnError err = { 0 };
  NnTensorFile *f = NULL;

  *nn_resnet_find_param (m, "layer1.0.bn1.num_batches_tracked")->data_i64 = 17;
  g_assert_cmpint (nn_resnet_save (m, path, keys, values, 1, &err), ==, NN_OK);
  nn_resnet_init (back, 99);
  g_assert_cmpint (nn_resnet_load_file (back, path, NN_LOAD_STRICT, 0, NULL, &err), ==, NN_OK);
  for (int i = 0; i < nn_resnet_param_count (m); i++)
    {
      NnParam *a = nn_resnet_param (m, i), *b = nn_resnet_param (back, i);
      if (a->data != NULL)
        g_assert_cmpmem (a->data, a->numel * 4, b->data, b->numel * 4);
      else
        g_assert_cmpint (*a->data_i64, ==, *b->data_i64);
    }
  g_assert_cmpint (nn_tensor_file_read (&f, path, &err), ==, NN_OK);
  g_assert_cmpstr (nn_tensor_file_meta (f, "xraylab"), ==, values[0]);
  g_assert_cmpint (nn_tensor_file_find (f, "bn1.num_batches_tracked")->dtype, ==, NN_DTYPE_I64);
  g_assert_cmpint (nn_tensor_file_find (f, "bn1.num_batches_tracked")->ndim, ==, 0);

  /* Damaged variants: each names the tensor and leaves the model as it was. */
  NnNamedTensor *ts = g_new (NnNamedTensor, f->n_tensors + 1);
  memcpy (ts, f->tensors, f->n_tensors * sizeof *ts);
  g_autofree char *bad = tmp_path ("bad.safetensors");
  float before = nn_resnet_param (back, 0)->data[0];

  /* a missing tensor */
  size_t victim = 0;
  while (strcmp (ts[victim].name, "layer1.0.conv1.weight") != 0)
    victim++;
  NnNamedTensor keep = ts[victim];
  ts[victim] = ts[f->n_tensors - 1];
  g_assert_cmpint (nn_safetensors_write (bad, ts, f->n_tensors - 1, NULL, NULL, 0, &err), ==,
                   NN_OK);
  g_assert_cmpint (nn_resnet_load_file (back, bad, 0, 0, NULL, &err), ==, NN_ERR_MISMATCH);
  g_assert_nonnull (strstr (err.message, "tensor layer1.0.conv1.weight is missing"));
  ts[f->n_tensors - 1] = ts[victim];
  ts[victim] = keep;

  /* an extra tensor */
  float extra_data[3] = { 1, 2, 3 };
  ts[f->n_tensors] = (NnNamedTensor) { .name = (char *) "layer5.0.conv1.weight",
                                       .dtype = NN_DTYPE_F32, .ndim = 1, .shape = { 3 },
                                       .numel = 3, .data = extra_data };
  g_assert_cmpint (nn_safetensors_write (bad, ts, f->n_tensors + 1, NULL, NULL, 0, &err), ==,
                   NN_OK);
  g_assert_cmpint (nn_resnet_load_file (back, bad, 0, 0, NULL, &err), ==, NN_ERR_MISMATCH);
  g_assert_nonnull (strstr (err.message, "unexpected tensor layer5.0.conv1.weight"));

  /* a float64 weight */
  size_t fc = 0;
  while (strcmp (ts[fc].name, "fc.bias") != 0)
    fc++;
  double fc_bias64[2] = { 0.5, -0.5 };
  NnNamedTensor f32 = ts[fc];
  ts[fc].dtype = NN_DTYPE_F64;
  ts[fc].data = fc_bias64;
  g_assert_cmpint (nn_safetensors_write (bad, ts, f->n_tensors, NULL, NULL, 0, &err), ==, NN_OK);
  g_assert_cmpint (nn_resnet_load_file (back, bad, 0, 0, NULL, &err), ==, NN_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "fc.bias is F64; only float32"));
  ts[fc] = f32;

  /* old checkpoints without num_batches_tracked still load */
  size_t n = 0;
  for (size_t i = 0; i < f->n_tensors; i++)
    if (!g_str_has_suffix (ts[i].name, "num_batches_tracked"))
      ts[n++] = f->tensors[i];
  g_assert_cmpint (nn_safetensors_write (bad, ts, n, NULL, NULL, 0, &err), ==, NN_OK);
  g_assert_cmpint (nn_resnet_load_file (back, bad, 0, 0, NULL, &err), ==, NN_OK);
  g_assert_cmpint (*nn_resnet_find_param (back, "layer1.0.bn1.num_batches_tracked")->data_i64,
                   ==, 0);
  g_assert_cmpfloat (nn_resnet_param (back, 0)->data[0], ==, before);

  /* saving into a folder that does not exist fails and writes nothing */
  g_autofree char *nowhere = tmp_path ("no/such/folder/model.safetensors");
  g_assert_cmpint (nn_resnet_save (m, nowhere, NULL, NULL, 0, &err), ==, NN_ERR_IO);
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));

  g_free (ts);
  nn_tensor_file_free (f);
  nn_resnet_free (m);
  nn_resnet_free (back);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/weights/imagenet-into-two-classes", test_imagenet_into_two_classes);
  g_test_add_func ("/nn/weights/imagenet-into-mlp-head", test_imagenet_into_mlp_head);
  g_test_add_func ("/nn/weights/wrong-width", test_wrong_width);
  g_test_add_func ("/nn/weights/save-and-load", test_save_and_load);
  return g_test_run ();
}
