/* Our model files: the metadata round trip, loading, and refusing what is not one. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "xl-model.h"

static void
test_info_round_trip (void)
{
  XlModelInfo a, b;
  const char *classes[] = { "BACTERIA", "NORMAL", "VIRUS" };
  g_autoptr (GError) error = NULL;

  xl_model_info_init (&a);
  xl_model_info_set_classes (&a, classes, 3);
  a.width = 16;
  a.input_size = 128;
  a.resize = 144;
  a.head_hidden = 32;
  a.head_dropout = 0.25f;
  a.frozen_stages = 5;
  a.threshold = 0.37;
  a.positive_class = 2;
  a.metrics_json = g_strdup ("{\"accuracy\": 0.9}");
  g_autofree char *json = xl_model_info_to_json (&a);
  xl_model_info_init (&b);
  g_assert_true (xl_model_info_from_json (&b, json, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (b.n_classes, ==, 3);
  g_assert_cmpstr (b.classes[2], ==, "VIRUS");
  g_assert_cmpuint (b.width, ==, 16);
  g_assert_cmpuint (b.input_size, ==, 128);
  g_assert_cmpuint (b.resize, ==, 144);
  g_assert_cmpuint (b.head_hidden, ==, 32);
  g_assert_cmpfloat (b.head_dropout, ==, 0.25f);
  g_assert_cmpint (b.frozen_stages, ==, 5);
  g_assert_cmpfloat (b.threshold, ==, 0.37);
  g_assert_cmpuint (b.positive_class, ==, 2);
  g_assert_cmpfloat (b.mean[1], ==, 0.456f);
  g_assert_nonnull (strstr (b.metrics_json, "0.9"));
  xl_model_info_clear (&a);
  xl_model_info_clear (&b);
}

static void
test_bad_metadata (void)
{
  const char *bad[] = {
    "not json",
    "[1, 2]",
    "{\"format\": \"something-else\"}",
    "{\"format\": \"xraylab-model\", \"classes\": [\"ONLY\"]}",
    "{\"format\": \"xraylab-model\", \"classes\": [\"A\", 3]}",
    "{\"format\": \"xraylab-model\", \"classes\": [\"A\", \"B\"], \"width\": 0, \"input_size\": 224, \"resize\": 256}",
    "{\"format\": \"xraylab-model\", \"classes\": [\"A\", \"B\"], \"width\": 64, \"input_size\": 224, \"resize\": 256, \"mean\": [0, 0], \"std\": [1, 1, 1]}",
    "{\"format\": \"xraylab-model\", \"classes\": [\"A\", \"B\"], \"width\": 64, \"input_size\": 224, \"resize\": 256, \"mean\": [0, 0, 0], \"std\": [1, 0, 1]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      XlModelInfo info;
      g_autoptr (GError) error = NULL;
      xl_model_info_init (&info);
      g_assert_false (xl_model_info_from_json (&info, bad[i], &error));
      g_assert_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT);
      /* a failed parse leaves the info as it was */
      g_assert_cmpuint (info.n_classes, ==, 2);
      xl_model_info_clear (&info);
    }
}

static void
test_save_load (void)
{
  g_autofree char *dir = g_dir_make_tmp ("xl-model-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *imagenet = g_build_filename (g_getenv ("XL_FIXTURES"), "resnet-w8-c1000.pth",
                                                NULL);
  NnResnetConfig cfg = { .num_classes = 2, .width = 8, .batch = 1, .in_h = 64, .in_w = 64 };
  NnResnet *net = NULL, *back;
  XlModelInfo info, loaded;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (nn_resnet_new (&net, &cfg, NULL), ==, NN_OK);
  nn_resnet_init (net, 3);
  xl_model_info_init (&info);
  info.width = 8;
  info.input_size = 64;
  info.resize = 72;
  info.threshold = 0.42;
  g_assert_true (xl_model_save (net, &info, path, &error));
  xl_model_info_init (&loaded);
  back = xl_model_load (path, 4, FALSE, 1, &loaded, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpfloat (loaded.threshold, ==, 0.42);
  g_assert_cmpint (nn_resnet_config (back)->batch, ==, 4);
  g_assert_cmpmem (nn_resnet_find_param (net, "layer2.1.conv1.weight")->data, 64,
                   nn_resnet_find_param (back, "layer2.1.conv1.weight")->data, 64);
  nn_resnet_free (back);

  /* ImageNet weights are start weights, not a model to predict with */
  g_assert_null (xl_model_load (imagenet, 1, FALSE, 1, &loaded, &error));
  g_assert_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "not an X-Ray Lab model"));
  g_clear_error (&error);

  /* a file that is not a model at all */
  g_autofree char *junk = g_build_filename (dir, "junk.safetensors", NULL);
  g_assert_true (g_file_set_contents (junk, "hello, not a model", -1, NULL));
  g_assert_null (xl_model_load (junk, 1, FALSE, 1, &loaded, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_unlink (path);
  g_unlink (junk);
  g_rmdir (dir);
  nn_resnet_free (net);
  xl_model_info_clear (&info);
  xl_model_info_clear (&loaded);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/model/info-round-trip", test_info_round_trip);
  g_test_add_func ("/train/model/bad-metadata", test_bad_metadata);
  g_test_add_func ("/train/model/save-load", test_save_load);
  return g_test_run ();
}
