/* Loading and saving a model's state_dict: torchvision checkpoints, our own
 * safetensors models, and every way a weight file can fail to fit. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "nn-resnet.h"
#include "pth-build.h"
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

/* Every value a model holds, to show that a failed load changed nothing. */
typedef struct {
  int n;
  float **data;
  gint64 *counters;
} Snapshot;

static Snapshot *
snapshot_take (NnResnet *m)
{
  Snapshot *snap = g_new0 (Snapshot, 1);

  snap->n = nn_resnet_param_count (m);
  snap->data = g_new0 (float *, snap->n);
  snap->counters = g_new0 (gint64, snap->n);
  for (int i = 0; i < snap->n; i++)
    {
      NnParam *p = nn_resnet_param (m, i);
      if (p->data != NULL)
        snap->data[i] = g_memdup2 (p->data, p->numel * sizeof (float));
      else
        snap->counters[i] = *p->data_i64;
    }
  return snap;
}

static void
snapshot_assert_same (const Snapshot *snap, NnResnet *m, const char *what)
{
  for (int i = 0; i < snap->n; i++)
    {
      NnParam *p = nn_resnet_param (m, i);
      if (p->data != NULL ? memcmp (p->data, snap->data[i], p->numel * sizeof (float)) != 0
                          : *p->data_i64 != snap->counters[i])
        g_error ("%s: %s changed by a load that failed", what, p->name);
    }
}

static void
snapshot_free (Snapshot *snap)
{
  for (int i = 0; i < snap->n; i++)
    g_free (snap->data[i]);
  g_free (snap->data);
  g_free (snap->counters);
  g_free (snap);
}

/* Writes tensors as torch.save writes a state_dict: one storage each. */
static void
write_pth (const char *path, const NnNamedTensor *tensors, size_t n)
{
  TensorSpec *specs = g_new0 (TensorSpec, n);
  ZipItem *items = g_new0 (ZipItem, n + 2);
  char **keys = g_new0 (char *, n + 1);
  char **entries = g_new0 (char *, n + 1);
  g_autoptr (GError) error = NULL;

  for (size_t i = 0; i < n; i++)
    {
      const NnNamedTensor *t = &tensors[i];
      TensorSpec *spec = &specs[i];
      gint64 stride = 1;

      keys[i] = g_strdup_printf ("%zu", i);
      entries[i] = g_strdup_printf ("archive/data/%zu", i);
      spec->name = t->name;
      spec->storage_class = t->dtype == NN_DTYPE_F64   ? "DoubleStorage"
                            : t->dtype == NN_DTYPE_I64 ? "LongStorage"
                                                       : "FloatStorage";
      g_assert_true (t->dtype == NN_DTYPE_F32 || t->dtype == NN_DTYPE_F64
                     || t->dtype == NN_DTYPE_I64);
      spec->key = keys[i];
      spec->storage_numel = (gint64) t->numel;
      spec->ndim = t->ndim;
      for (int d = t->ndim - 1; d >= 0; d--)
        {
          spec->size[d] = t->shape[d];
          spec->stride[d] = stride;
          stride *= t->shape[d];
        }
      items[i + 1] = (ZipItem) { entries[i], t->data, t->numel * nn_dtype_size (t->dtype), 0 };
    }
  GByteArray *pickle = state_pickle (specs, n);
  items[0] = (ZipItem) { "archive/data.pkl", pickle->data, pickle->len, 0 };
  items[n + 1] = (ZipItem) { "archive/version", "3\n", 2, 0 };
  GByteArray *zip = build_zip (items, n + 2, NULL);
  g_file_set_contents (path, (const char *) zip->data, zip->len, &error);
  g_assert_no_error (error);

  g_byte_array_unref (zip);
  g_byte_array_unref (pickle);
  g_strfreev (keys);
  g_strfreev (entries);
  g_free (items);
  g_free (specs);
}

/* A model's state as tensors in state_dict order, as a file would hold them
 * (views of the model's own data). */
static NnNamedTensor *
state_tensors (NnResnet *m, size_t *n)
{
  *n = (size_t) nn_resnet_param_count (m);
  NnNamedTensor *ts = g_new0 (NnNamedTensor, *n + 1);

  for (size_t i = 0; i < *n; i++)
    {
      NnParam *p = nn_resnet_param (m, (int) i);
      ts[i] = (NnNamedTensor) { .name = p->name, .ndim = p->ndim, .numel = p->numel,
                                .dtype = p->data != NULL ? NN_DTYPE_F32 : NN_DTYPE_I64,
                                .data = p->data != NULL ? (void *) p->data
                                                        : (void *) p->data_i64 };
      memcpy (ts[i].shape, p->shape, sizeof ts[i].shape);
    }
  return ts;
}

static size_t
tensor_index (const NnNamedTensor *ts, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (ts[i].name, name) == 0)
      return i;
  g_error ("no tensor %s", name);
}

typedef enum {
  BAD_EXTRA_KEY,        /* an extra tensor after all the valid ones */
  BAD_F64,              /* a late weight stored as float64 */
  BAD_I64,              /* a late weight stored as int64 */
  BAD_SHAPE,            /* a late weight with its dimensions swapped */
  BAD_COUNTER,          /* a late num_batches_tracked as float32 */
  N_BAD,
} BadKind;

static const char *const bad_messages[N_BAD] = {
  "unexpected tensor layer4.2.conv1.weight (not part of a ResNet-18)",
  "tensor layer4.1.bn2.weight is F64; only float32 weights are supported",
  "tensor fc.weight is I64; only float32 weights are supported",
  "tensor layer4.0.downsample.0.weight has shape [32,64,1,1], expected [64,32,1,1]",
  "tensor layer4.1.bn2.num_batches_tracked should be a single int64, not 1 of F32",
};
static const NnStatus bad_status[N_BAD] = {
  NN_ERR_MISMATCH, NN_ERR_UNSUPPORTED, NN_ERR_UNSUPPORTED, NN_ERR_MISMATCH, NN_ERR_MISMATCH,
};

/* Writes source's state with one late flaw, as .pth or .safetensors: every
 * tensor before the flaw is valid. Returns the file's path. */
static char *
write_bad_state (NnResnet *source, BadKind kind, bool pth)
{
  size_t n, at;
  NnNamedTensor *ts = state_tensors (source, &n);
  g_autofree char *name = g_strdup_printf ("bad-%d.%s", kind, pth ? "pth" : "safetensors");
  char *path = tmp_path (name);
  NnError err = { 0 };
  double *f64 = NULL;
  gint64 *i64 = NULL;
  float extra[3] = { 1, 2, 3 }, counter = 1;

  switch (kind)
    {
    case BAD_EXTRA_KEY:
      ts[n++] = (NnNamedTensor) { .name = (char *) "layer4.2.conv1.weight",
                                  .dtype = NN_DTYPE_F32, .ndim = 1, .shape = { 3 },
                                  .numel = 3, .data = extra };
      break;
    case BAD_F64:
      at = tensor_index (ts, n, "layer4.1.bn2.weight");
      f64 = g_new (double, ts[at].numel);
      for (size_t i = 0; i < ts[at].numel; i++)
        f64[i] = ((const float *) ts[at].data)[i];
      ts[at].dtype = NN_DTYPE_F64;
      ts[at].data = f64;
      break;
    case BAD_I64:
      at = tensor_index (ts, n, "fc.weight");
      i64 = g_new0 (gint64, ts[at].numel);
      ts[at].dtype = NN_DTYPE_I64;
      ts[at].data = i64;
      break;
    case BAD_SHAPE:
      at = tensor_index (ts, n, "layer4.0.downsample.0.weight");
      ts[at].shape[0] = 32;
      ts[at].shape[1] = 64;
      break;
    case BAD_COUNTER:
      at = tensor_index (ts, n, "layer4.1.bn2.num_batches_tracked");
      ts[at].dtype = NN_DTYPE_F32;
      ts[at].data = &counter;
      break;
    default:
      g_assert_not_reached ();
    }
  if (pth)
    write_pth (path, ts, n);
  else
    g_assert_cmpint (nn_safetensors_write (path, ts, n, NULL, NULL, 0, &err), ==, NN_OK);
  g_free (f64);
  g_free (i64);
  g_free (ts);
  return path;
}

/* A file whose first tensors are valid and a later one is not: the load fails
 * with a message that names the tensor, and no part of the file reaches the
 * model. Both formats. */
static void
test_no_partial_model (void)
{
  NnResnet *source = new_model (2, 8), *target = new_model (2, 8);
  NnError err = { 0 };

  /* every value of the file differs from the model's */
  nn_resnet_init (target, 99);
  for (int i = 0; i < nn_resnet_param_count (source); i++)
    {
      NnParam *s = nn_resnet_param (source, i), *t = nn_resnet_param (target, i);
      if (s->data_i64 != NULL)
        {
          *s->data_i64 = 3;
          *t->data_i64 = 5;
        }
      else if (g_str_has_suffix (s->name, "running_mean")
               || g_str_has_suffix (s->name, "running_var")
               || g_str_has_suffix (s->name, ".weight") || g_str_has_suffix (s->name, ".bias"))
        for (size_t j = 0; j < s->numel; j++)
          s->data[j] += 0.5f;
    }
  g_assert_true (memcmp (nn_resnet_param (source, 0)->data, nn_resnet_param (target, 0)->data,
                         4) != 0);

  for (int pth = 0; pth <= 1; pth++)
    {
      /* the writer's output is sound: the unflawed state loads */
      size_t n;
      g_autofree NnNamedTensor *ts = state_tensors (source, &n);
      g_autofree char *good = tmp_path (pth ? "good.pth" : "good.safetensors");
      NnResnet *check = new_model (2, 8);
      if (pth)
        write_pth (good, ts, n);
      else
        g_assert_cmpint (nn_safetensors_write (good, ts, n, NULL, NULL, 0, &err), ==, NN_OK);
      g_assert_cmpint (nn_resnet_load_file (check, good, NN_LOAD_STRICT, 0, NULL, &err), ==,
                       NN_OK);
      for (int i = 0; i < nn_resnet_param_count (source); i++)
        {
          NnParam *s = nn_resnet_param (source, i), *c = nn_resnet_param (check, i);
          if (s->data != NULL)
            g_assert_cmpmem (c->data, c->numel * 4, s->data, s->numel * 4);
          else
            g_assert_cmpint (*c->data_i64, ==, *s->data_i64);
        }
      nn_resnet_free (check);
      g_unlink (good);

      for (int kind = 0; kind < N_BAD; kind++)
        {
          g_autofree char *path = write_bad_state (source, kind, pth);
          g_autofree char *base = g_path_get_basename (path);
          g_autofree char *expect = g_strdup_printf ("%s: %s", base, bad_messages[kind]);
          Snapshot *before = snapshot_take (target);

          g_assert_cmpint (nn_resnet_load_file (target, path, NN_LOAD_STRICT, 0, NULL, &err),
                           ==, bad_status[kind]);
          g_assert_cmpstr (err.message, ==, expect);
          snapshot_assert_same (before, target, expect);
          snapshot_free (before);
          g_unlink (path);
        }
    }
  nn_resnet_free (source);
  nn_resnet_free (target);
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
  g_test_add_func ("/nn/weights/no-partial-model", test_no_partial_model);
  return g_test_run ();
}
