/* xl-model.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "xl-model.h"

G_DEFINE_QUARK (xl-model-error-quark, xl_model_error)

void
xl_model_info_init (XlModelInfo *info)
{
  const char *classes[] = { "NORMAL", "PNEUMONIA" };
  const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };

  memset (info, 0, sizeof *info);
  xl_model_info_set_classes (info, classes, 2);
  info->width = 64;
  info->input_size = 224;
  info->resize = 256;
  memcpy (info->mean, mean, sizeof mean);
  memcpy (info->std, std, sizeof std);
  info->mode = g_strdup ("finetune");
  info->positive_class = 1;
  info->threshold = 0.5;
}

void
xl_model_info_clear (XlModelInfo *info)
{
  g_clear_pointer (&info->classes, g_strfreev);
  g_clear_pointer (&info->mode, g_free);
  g_clear_pointer (&info->metrics_json, g_free);
}

void
xl_model_info_copy (XlModelInfo *dst, const XlModelInfo *src)
{
  *dst = *src;
  dst->classes = g_strdupv (src->classes);
  dst->mode = g_strdup (src->mode);
  dst->metrics_json = g_strdup (src->metrics_json);
}

void
xl_model_info_set_classes (XlModelInfo *info, const char *const *classes, guint n)
{
  g_strfreev (info->classes);
  info->classes = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    info->classes[i] = g_strdup (classes[i]);
  info->n_classes = n;
}

static void
add_floats (JsonBuilder *b, const char *name, const float *v, guint n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    json_builder_add_double_value (b, v[i]);
  json_builder_end_array (b);
}

char *
xl_model_info_to_json (const XlModelInfo *info)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "xraylab-model");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "architecture");
  json_builder_add_string_value (b, "resnet18");
  json_builder_set_member_name (b, "classes");
  json_builder_begin_array (b);
  for (guint i = 0; i < info->n_classes; i++)
    json_builder_add_string_value (b, info->classes[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, info->width);
  json_builder_set_member_name (b, "input_size");
  json_builder_add_int_value (b, info->input_size);
  json_builder_set_member_name (b, "resize");
  json_builder_add_int_value (b, info->resize);
  add_floats (b, "mean", info->mean, 3);
  add_floats (b, "std", info->std, 3);
  json_builder_set_member_name (b, "head");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "hidden");
  json_builder_add_int_value (b, info->head_hidden);
  json_builder_set_member_name (b, "dropout");
  json_builder_add_double_value (b, info->head_dropout);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, info->mode != NULL ? info->mode : "finetune");
  json_builder_set_member_name (b, "frozen_stages");
  json_builder_add_int_value (b, info->frozen_stages);
  json_builder_set_member_name (b, "positive_class");
  json_builder_add_int_value (b, info->positive_class);
  json_builder_set_member_name (b, "threshold");
  json_builder_add_double_value (b, info->threshold);
  if (info->metrics_json != NULL)
    {
      g_autoptr (JsonNode) metrics = json_from_string (info->metrics_json, NULL);
      if (metrics != NULL)
        {
          json_builder_set_member_name (b, "metrics");
          json_builder_add_value (b, g_steal_pointer (&metrics));
        }
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* json-glib's *_member_with_default getters emit a critical for a member
 * that is an object or an array, and the string getter returns NULL for a
 * number: a model file can say anything, so look before asking. */
static gboolean
is_scalar_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n == NULL || JSON_NODE_HOLDS_VALUE (n) || JSON_NODE_HOLDS_NULL (n);
}

static const char *
string_member (JsonObject *o, const char *name, const char *fallback)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return fallback;
}

static gboolean
get_uint (JsonObject *o, const char *name, guint lo, guint hi, guint *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  gint64 v;

  if (n == NULL || json_node_get_value_type (n) != G_TYPE_INT64)
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "model metadata: “%s” is missing or not an integer", name);
      return FALSE;
    }
  v = json_node_get_int (n);
  if (v < lo || v > hi)
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "model metadata: “%s” is %" G_GINT64_FORMAT ", not in %u..%u", name, v,
                   lo, hi);
      return FALSE;
    }
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_floats (JsonObject *o, const char *name, float *out, guint n, GError **error)
{
  JsonNode *node = json_object_get_member (o, name);
  JsonArray *a;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (a = json_node_get_array (node)) != n)
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "model metadata: “%s” must be a list of %u numbers", name, n);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || (json_node_get_value_type (e) != G_TYPE_DOUBLE
                                         && json_node_get_value_type (e) != G_TYPE_INT64))
        {
          g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                       "model metadata: “%s” must be a list of %u numbers", name, n);
          return FALSE;
        }
      out[i] = (float) json_node_get_double (e);
    }
  return TRUE;
}

gboolean
xl_model_info_from_json (XlModelInfo *info, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonObject *o, *head;
  JsonNode *node;
  JsonArray *classes;
  XlModelInfo out;

  if (!json_parser_load_from_data (parser, json, -1, &local))
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "model metadata is not valid JSON: %s", local->message);
      return FALSE;
    }
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "model metadata is not a JSON object");
      return FALSE;
    }
  o = json_node_get_object (node);
  if (g_strcmp0 (string_member (o, "format", ""), "xraylab-model") != 0)
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "not an X-Ray Lab model (its metadata has no format “xraylab-model”)");
      return FALSE;
    }

  xl_model_info_init (&out);
  node = json_object_get_member (o, "classes");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (classes = json_node_get_array (node)) < 2
      || json_array_get_length (classes) > 1000)
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "model metadata: “classes” must list 2 to 1000 names");
      goto fail;
    }
  {
    guint n = json_array_get_length (classes);
    g_autofree const char **names = g_new0 (const char *, n);
    for (guint i = 0; i < n; i++)
      {
        JsonNode *e = json_array_get_element (classes, i);
        if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
          {
            g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                         "model metadata: class %u is not a string", i);
            goto fail;
          }
        names[i] = json_node_get_string (e);
        /* json-glib lets "\ud800" through as bytes that are not UTF-8 */
        if (!g_utf8_validate (names[i], -1, NULL))
          {
            g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                         "model metadata: class %u is not valid UTF-8", i);
            goto fail;
          }
      }
    xl_model_info_set_classes (&out, names, n);
  }
  if (!get_uint (o, "width", 1, 1024, &out.width, error)
      || !get_uint (o, "input_size", 32, 4096, &out.input_size, error)
      || !get_uint (o, "resize", 32, 8192, &out.resize, error)
      || !get_floats (o, "mean", out.mean, 3, error) || !get_floats (o, "std", out.std, 3, error))
    goto fail;
  for (int c = 0; c < 3; c++)
    if (!(out.std[c] > 0) || !isfinite (out.std[c]) || !isfinite (out.mean[c]))
      {
        /* an infinite one would also be saved as "inf.0", which no JSON
         * reader takes back */
        g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                     "model metadata: mean and std must be finite, and std positive");
        goto fail;
      }
  node = json_object_get_member (o, "head");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      head = json_node_get_object (node);
      if (!get_uint (head, "hidden", 0, 65536, &out.head_hidden, error))
        goto fail;
      out.head_dropout = is_scalar_member (head, "dropout")
                         ? (float) json_object_get_double_member_with_default (head, "dropout", 0)
                         : 0;
      if (!(out.head_dropout >= 0 && out.head_dropout < 1))
        out.head_dropout = 0;
    }
  g_free (out.mode);
  out.mode = g_strdup (string_member (o, "mode", "finetune"));
  if (!g_utf8_validate (out.mode, -1, NULL))
    {
      g_free (out.mode);
      out.mode = g_strdup ("finetune");
    }
  if (is_scalar_member (o, "frozen_stages"))
    out.frozen_stages = (int) CLAMP (json_object_get_int_member_with_default (o, "frozen_stages", 0),
                                     0, 5);
  if (is_scalar_member (o, "positive_class"))
    out.positive_class = (guint) CLAMP (json_object_get_int_member_with_default (o, "positive_class", 1),
                                        0, (gint64) out.n_classes - 1);
  if (is_scalar_member (o, "threshold"))
    out.threshold = json_object_get_double_member_with_default (o, "threshold", 0.5);
  if (!(out.threshold >= 0 && out.threshold <= 1))
    out.threshold = 0.5;
  node = json_object_get_member (o, "metrics");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    out.metrics_json = json_to_string (node, FALSE);

  xl_model_info_clear (info);
  *info = out;
  return TRUE;

fail:
  xl_model_info_clear (&out);
  return FALSE;
}

void
xl_model_set_nn_error (GError **error, const NnError *err)
{
  int code = err->status == NN_ERR_NOMEM ? XL_MODEL_ERROR_NOMEM
             : err->status == NN_ERR_IO ? XL_MODEL_ERROR_IO
             : err->status == NN_ERR_MISMATCH ? XL_MODEL_ERROR_MISMATCH
             : XL_MODEL_ERROR_FORMAT;
  g_set_error_literal (error, XL_MODEL_ERROR, code, err->message);
}

gboolean
xl_model_save (NnResnet *net, const XlModelInfo *info, const char *path, GError **error)
{
  g_autofree char *json = xl_model_info_to_json (info);
  const char *keys[] = { XL_MODEL_METADATA_KEY }, *values[] = { json };
  NnError err = { 0 };

  if (nn_resnet_save (net, path, keys, values, 1, &err) != NN_OK)
    {
      xl_model_set_nn_error (error, &err);
      return FALSE;
    }
  return TRUE;
}

static gboolean
info_from_file (const NnTensorFile *f, const char *path, XlModelInfo *info, GError **error)
{
  const char *json = nn_tensor_file_meta (f, XL_MODEL_METADATA_KEY);

  if (json == NULL)
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "%s: not an X-Ray Lab model (no “%s” metadata); ImageNet weights are "
                   "start weights for training, not a model to predict with", path,
                   XL_MODEL_METADATA_KEY);
      return FALSE;
    }
  if (!xl_model_info_from_json (info, json, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
xl_model_read_info (const char *path, XlModelInfo *info, GError **error)
{
  NnTensorFile *f = NULL;
  NnError err = { 0 };
  gboolean ok;

  if (nn_tensor_file_read (&f, path, &err) != NN_OK)
    {
      xl_model_set_nn_error (error, &err);
      return FALSE;
    }
  ok = info_from_file (f, path, info, error);
  nn_tensor_file_free (f);
  return ok;
}

NnResnet *
xl_model_load (const char *path, guint batch, gboolean training, int threads,
               XlModelInfo *info, GError **error)
{
  NnTensorFile *f = NULL;
  NnResnet *net = NULL;
  NnError err = { 0 };
  XlModelInfo local;

  if (nn_tensor_file_read (&f, path, &err) != NN_OK)
    {
      xl_model_set_nn_error (error, &err);
      return NULL;
    }
  xl_model_info_init (&local);
  if (!info_from_file (f, path, &local, error))
    goto out;

  NnResnetConfig cfg = {
    .num_classes = (int) local.n_classes, .width = (int) local.width, .batch = (int) batch,
    .in_h = (int) local.input_size, .in_w = (int) local.input_size, .training = training,
    .head_hidden = (int) local.head_hidden, .head_dropout = local.head_dropout,
    .threads = threads, .skip_init = true,   /* a strict load sets every tensor */
  };
  if (nn_resnet_new (&net, &cfg, &err) != NN_OK
      || nn_resnet_load_state (net, f, NN_LOAD_STRICT, 0, NULL, &err) != NN_OK)
    {
      nn_error_prefix (&err, path);
      xl_model_set_nn_error (error, &err);
      g_clear_pointer (&net, nn_resnet_free);
      goto out;
    }
  nn_resnet_set_frozen_stages (net, local.frozen_stages);
  xl_model_info_clear (info);
  *info = local;
  local.classes = NULL;
  local.mode = NULL;
  local.metrics_json = NULL;

out:
  xl_model_info_clear (&local);
  nn_tensor_file_free (f);
  return net;
}
