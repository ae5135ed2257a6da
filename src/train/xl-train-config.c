/* xl-train-config.c — training settings: defaults, checks, config.json.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "xl-train-session.h"

G_DEFINE_QUARK (xl-train-error-quark, xl_train_error)

static const char *const mode_names[] = { "finetune", "fixed", "partial" };
static const char *const optimizer_names[] = { "sgd", "adam", "adamw" };
static const char *const schedule_names[] = { "none", "step", "cosine" };
static const char *const monitor_names[] = { "val_loss", "val_accuracy" };
static const char *const weighting_names[] = { "none", "balanced", "given" };

const char *
xl_train_mode_name (XlTrainMode mode)
{
  return mode <= XL_TRAIN_PARTIAL ? mode_names[mode] : "finetune";
}

gboolean
xl_train_mode_from_name (const char *name, XlTrainMode *mode)
{
  for (guint i = 0; i < G_N_ELEMENTS (mode_names); i++)
    if (g_strcmp0 (name, mode_names[i]) == 0)
      {
        *mode = (XlTrainMode) i;
        return TRUE;
      }
  return FALSE;
}

void
xl_train_config_init (XlTrainConfig *cfg, XlTrainMode mode)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->mode = mode;
  cfg->freeze = 1;
  cfg->head_dropout = 0.5;
  cfg->width = 64;
  cfg->epochs = 50;
  cfg->batch_size = 32;
  cfg->input_size = 224;
  cfg->resize = 256;
  if (mode == XL_TRAIN_FINETUNE)
    {
      cfg->optimizer = NN_OPTIM_ADAM;
      cfg->lr = 1e-4;
    }
  else
    {
      cfg->optimizer = NN_OPTIM_SGD;
      cfg->lr = 1e-3;
      cfg->momentum = 0.9;
    }
  cfg->schedule = XL_SCHEDULE_STEP;
  cfg->step_size = 7;
  cfg->gamma = 0.1;
  cfg->patience = 10;
  cfg->monitor = XL_MONITOR_VAL_LOSS;
  cfg->augment = TRUE;
  cfg->rotation_degrees = 0;
  cfg->val_fraction = -1;
  cfg->cache_views = 4;
  cfg->image_cache_bytes = (gsize) 2 << 30;
  cfg->feature_cache_bytes = (gsize) 2 << 30;
  cfg->seed = 1;
  cfg->threads = 2;
  cfg->loader_threads = 1;
}

void
xl_train_config_clear (XlTrainConfig *cfg)
{
  g_clear_pointer (&cfg->data_path, g_free);
  g_clear_pointer (&cfg->out_dir, g_free);
  g_clear_pointer (&cfg->weights_path, g_free);
}

void
xl_train_config_copy (XlTrainConfig *dst, const XlTrainConfig *src)
{
  *dst = *src;
  dst->data_path = g_strdup (src->data_path);
  dst->out_dir = g_strdup (src->out_dir);
  dst->weights_path = g_strdup (src->weights_path);
}

int
xl_train_config_frozen_stages (const XlTrainConfig *cfg)
{
  switch (cfg->mode)
    {
    case XL_TRAIN_FIXED:
      return NN_GROUP_FC;
    case XL_TRAIN_PARTIAL:
      return (int) CLAMP (cfg->freeze, 1, 4);
    case XL_TRAIN_FINETUNE:
    default:
      return 0;
    }
}

#define CHECK(cond, ...)                                                       \
  G_STMT_START                                                                 \
  {                                                                            \
    if (!(cond))                                                               \
      {                                                                        \
        g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_SETTINGS, __VA_ARGS__); \
        return FALSE;                                                          \
      }                                                                        \
  }                                                                            \
  G_STMT_END

/* Every double has a bound well below 1e17 in magnitude: besides keeping
 * runs sane, json-glib writes a large whole double such as 3e48 as
 * "3e+48.0", which it cannot read back, so config.json must never hold one. */
gboolean
xl_train_config_validate (const XlTrainConfig *cfg, GError **error)
{
  CHECK (cfg->data_path != NULL && *cfg->data_path, "no data set was given");
  CHECK (cfg->out_dir != NULL && *cfg->out_dir, "no run folder was given");
  CHECK (cfg->mode <= XL_TRAIN_PARTIAL, "unknown training mode");
  CHECK (cfg->mode != XL_TRAIN_PARTIAL || (cfg->freeze >= 1 && cfg->freeze <= 4),
         "--freeze must be 1 to 4 (1 freezes the stem only; 4 the stem and layer1-3), not %u",
         cfg->freeze);
  CHECK (cfg->epochs >= 1 && cfg->epochs <= 10000, "epochs must be 1 to 10000, not %u",
         cfg->epochs);
  CHECK (cfg->batch_size >= 1 && cfg->batch_size <= 1024, "batch size must be 1 to 1024, not %u",
         cfg->batch_size);
  CHECK (cfg->input_size >= 32 && cfg->input_size <= 1024,
         "input size must be 32 to 1024 pixels, not %u", cfg->input_size);
  CHECK (cfg->resize >= cfg->input_size && cfg->resize <= 2048,
         "the resize (%u) must be at least the input size (%u) and at most 2048", cfg->resize,
         cfg->input_size);
  CHECK (cfg->width >= 1 && cfg->width <= 256, "width must be 1 to 256, not %u", cfg->width);
  CHECK (isfinite (cfg->lr) && cfg->lr > 0 && cfg->lr < 100, "learning rate must be positive, not %g",
         cfg->lr);
  CHECK (isfinite (cfg->momentum) && cfg->momentum >= 0 && cfg->momentum < 1,
         "momentum must be in [0, 1), not %g", cfg->momentum);
  CHECK (isfinite (cfg->weight_decay) && cfg->weight_decay >= 0 && cfg->weight_decay < 1,
         "weight decay must be in [0, 1), not %g", cfg->weight_decay);
  CHECK (cfg->schedule != XL_SCHEDULE_STEP || cfg->step_size >= 1, "step size must be at least 1");
  CHECK (isfinite (cfg->gamma) && cfg->gamma > 0 && cfg->gamma <= 1,
         "the schedule's gamma must be in (0, 1], not %g", cfg->gamma);
  CHECK (isfinite (cfg->head_dropout) && cfg->head_dropout >= 0 && cfg->head_dropout < 1,
         "dropout must be in [0, 1), not %g", cfg->head_dropout);
  CHECK (cfg->head_hidden <= 65536, "the head's hidden size is too large");
  CHECK (isfinite (cfg->val_fraction) && cfg->val_fraction >= -1 && cfg->val_fraction < 0.9,
         "the validation fraction must be -1 (automatic) or 0 to 0.9, not %g", cfg->val_fraction);
  CHECK (cfg->threads >= 1 && cfg->threads <= 64, "threads must be 1 to 64, not %u", cfg->threads);
  CHECK (cfg->loader_threads >= 1 && cfg->loader_threads <= 64,
         "loader threads must be 1 to 64, not %u", cfg->loader_threads);
  CHECK (cfg->cache_views <= 64, "at most 64 cached views per film");
  CHECK (cfg->n_class_weights <= XL_MAX_CLASSES, "too many class weights");
  for (guint i = 0; i < cfg->n_class_weights; i++)
    CHECK (isfinite (cfg->class_weights[i]) && cfg->class_weights[i] > 0
             && cfg->class_weights[i] <= 1e6,
           "class weights must be positive and at most 1e6, not %g", cfg->class_weights[i]);
  CHECK (cfg->class_weighting != XL_CLASS_WEIGHTS_GIVEN || cfg->n_class_weights > 0,
         "class weights were asked for but none given");
  CHECK (isfinite (cfg->rotation_degrees) && cfg->rotation_degrees >= 0
         && cfg->rotation_degrees <= 180, "rotation must be 0 to 180 degrees");
  CHECK (isfinite (cfg->brightness) && cfg->brightness >= 0 && cfg->brightness < 1,
         "brightness jitter must be in [0, 1)");
  CHECK (isfinite (cfg->contrast) && cfg->contrast >= 0 && cfg->contrast < 1,
         "contrast jitter must be in [0, 1)");
  return TRUE;
}

/* A path as JSON must be UTF-8. A file name that is not (Latin-1 bytes on a
 * UTF-8 system, say) is written for people as its display name and, for the
 * resume, its bytes percent-escaped in NAME_bytes, which reads back exactly. */
static void
add_path (JsonBuilder *b, const char *name, const char *path)
{
  json_builder_set_member_name (b, name);
  if (path == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  if (g_utf8_validate (path, -1, NULL))
    {
      json_builder_add_string_value (b, path);
      return;
    }
  {
    g_autofree char *shown = g_filename_display_name (path);
    g_autofree char *member = g_strconcat (name, "_bytes", NULL);
    g_autofree char *escaped = g_uri_escape_bytes ((const guint8 *) path, strlen (path), "/");

    json_builder_add_string_value (b, shown);
    json_builder_set_member_name (b, member);
    json_builder_add_string_value (b, escaped);
  }
}

/* NAME_bytes, when present and it decodes to a file name without NUL, wins
 * over NAME's display form. */
static char *
path_member (JsonObject *o, const char *name)
{
  g_autofree char *member = g_strconcat (name, "_bytes", NULL);
  JsonNode *n = json_object_get_member (o, member);

  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    {
      g_autoptr (GBytes) bytes = g_uri_unescape_bytes (json_node_get_string (n), -1, NULL, NULL);
      if (bytes != NULL && g_bytes_get_size (bytes) > 0
          && memchr (g_bytes_get_data (bytes, NULL), '\0', g_bytes_get_size (bytes)) == NULL)
        return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    }
  n = json_object_get_member (o, name);
  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  return NULL;
}

char *
xl_train_config_to_json (const XlTrainConfig *cfg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

#define STR(name, value) \
  (json_builder_set_member_name (b, name), \
   (value) != NULL ? json_builder_add_string_value (b, value) : json_builder_add_null_value (b))
#define INT(name, value) (json_builder_set_member_name (b, name), json_builder_add_int_value (b, value))
#define DBL(name, value) (json_builder_set_member_name (b, name), json_builder_add_double_value (b, value))
#define BOOL(name, value) (json_builder_set_member_name (b, name), json_builder_add_boolean_value (b, value))
#define PATH(name, value) add_path (b, name, value)

  json_builder_begin_object (b);
  PATH ("data", cfg->data_path);
  PATH ("out", cfg->out_dir);
  PATH ("weights", cfg->weights_path);
  STR ("mode", xl_train_mode_name (cfg->mode));
  INT ("freeze", cfg->freeze);
  INT ("head_hidden", cfg->head_hidden);
  DBL ("head_dropout", cfg->head_dropout);
  INT ("width", cfg->width);
  INT ("epochs", cfg->epochs);
  INT ("batch_size", cfg->batch_size);
  INT ("input_size", cfg->input_size);
  INT ("resize", cfg->resize);
  STR ("optimizer", optimizer_names[cfg->optimizer]);
  DBL ("lr", cfg->lr);
  DBL ("momentum", cfg->momentum);
  DBL ("weight_decay", cfg->weight_decay);
  BOOL ("nesterov", cfg->nesterov);
  STR ("schedule", schedule_names[cfg->schedule]);
  INT ("step_size", cfg->step_size);
  DBL ("gamma", cfg->gamma);
  INT ("patience", cfg->patience);
  STR ("monitor", monitor_names[cfg->monitor]);
  STR ("class_weights", weighting_names[cfg->class_weighting]);
  json_builder_set_member_name (b, "class_weight_values");
  json_builder_begin_array (b);
  for (guint i = 0; i < cfg->n_class_weights; i++)
    json_builder_add_double_value (b, cfg->class_weights[i]);
  json_builder_end_array (b);
  BOOL ("balanced_sampling", cfg->balanced_sampling);
  BOOL ("augment", cfg->augment);
  BOOL ("random_resized_crop", cfg->random_resized_crop);
  DBL ("rotation_degrees", cfg->rotation_degrees);
  DBL ("brightness", cfg->brightness);
  DBL ("contrast", cfg->contrast);
  BOOL ("hflip", cfg->hflip);
  DBL ("val_fraction", cfg->val_fraction);
  INT ("cache_views", cfg->cache_views);
  INT ("image_cache_bytes", (gint64) cfg->image_cache_bytes);
  INT ("feature_cache_bytes", (gint64) cfg->feature_cache_bytes);
  INT ("seed", (gint64) cfg->seed);
  INT ("threads", cfg->threads);
  INT ("loader_threads", cfg->loader_threads);
  INT ("max_batches", cfg->max_batches);
  STR ("version", PACKAGE_VERSION);
  json_builder_end_object (b);
#undef STR
#undef INT
#undef DBL
#undef BOOL
#undef PATH

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

/* json-glib's *_member_with_default getters emit a critical for a member
 * that is an object or an array (a config.json can say anything): members
 * that are not a plain value are read as missing. */
static gboolean
is_scalar_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n == NULL || JSON_NODE_HOLDS_VALUE (n) || JSON_NODE_HOLDS_NULL (n);
}

static const char *
string_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return "";
}

static int
name_index (const char *const *names, guint n, const char *value)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], value) == 0)
      return (int) i;
  return -1;
}

gboolean
xl_train_config_from_json (XlTrainConfig *cfg, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonObject *o;
  JsonNode *root;
  XlTrainMode mode;
  int idx;

  if (!json_parser_load_from_data (parser, json, -1, &local))
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME, "config.json: %s",
                   local->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME,
                   "config.json: not a JSON object");
      return FALSE;
    }
  o = json_node_get_object (root);
  if (!xl_train_mode_from_name (string_member (o, "mode"), &mode))
    {
      g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME,
                   "config.json: unknown or missing mode");
      return FALSE;
    }
  /* json-glib lets "\ud800" through as bytes that are not UTF-8, and would
   * write them back into a config.json it then refuses to read */
  {
    const char *const paths[] = { "data", "out", "weights" };
    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        JsonNode *n = json_object_get_member (o, paths[i]);
        if (n != NULL && JSON_NODE_HOLDS_VALUE (n)
            && json_node_get_value_type (n) == G_TYPE_STRING
            && !g_utf8_validate (json_node_get_string (n), -1, NULL))
          {
            g_set_error (error, XL_TRAIN_ERROR, XL_TRAIN_ERROR_RESUME,
                         "config.json: “%s” is not valid UTF-8", paths[i]);
            return FALSE;
          }
      }
  }
  xl_train_config_clear (cfg);
  xl_train_config_init (cfg, mode);

#define GET_INT(name, field)                                                   \
  G_STMT_START                                                                 \
  {                                                                            \
    if (is_scalar_member (o, name))                                            \
      field = (__typeof__ (field)) MAX (0, json_object_get_int_member_with_default (o, name, (gint64) field)); \
  }                                                                            \
  G_STMT_END
#define GET_DBL(name, field)                                                   \
  G_STMT_START                                                                 \
  {                                                                            \
    if (is_scalar_member (o, name))                                            \
      field = json_object_get_double_member_with_default (o, name, field);     \
  }                                                                            \
  G_STMT_END
#define GET_BOOL(name, field)                                                  \
  G_STMT_START                                                                 \
  {                                                                            \
    if (is_scalar_member (o, name))                                            \
      field = json_object_get_boolean_member_with_default (o, name, field);    \
  }                                                                            \
  G_STMT_END

  cfg->data_path = path_member (o, "data");
  cfg->out_dir = path_member (o, "out");
  cfg->weights_path = path_member (o, "weights");
  GET_INT ("freeze", cfg->freeze);
  GET_INT ("head_hidden", cfg->head_hidden);
  GET_DBL ("head_dropout", cfg->head_dropout);
  GET_INT ("width", cfg->width);
  GET_INT ("epochs", cfg->epochs);
  GET_INT ("batch_size", cfg->batch_size);
  GET_INT ("input_size", cfg->input_size);
  GET_INT ("resize", cfg->resize);
  idx = name_index (optimizer_names, G_N_ELEMENTS (optimizer_names),
                    string_member (o, "optimizer"));
  if (idx >= 0)
    cfg->optimizer = (NnOptimKind) idx;
  GET_DBL ("lr", cfg->lr);
  GET_DBL ("momentum", cfg->momentum);
  GET_DBL ("weight_decay", cfg->weight_decay);
  GET_BOOL ("nesterov", cfg->nesterov);
  idx = name_index (schedule_names, G_N_ELEMENTS (schedule_names),
                    string_member (o, "schedule"));
  if (idx >= 0)
    cfg->schedule = (XlSchedule) idx;
  GET_INT ("step_size", cfg->step_size);
  GET_DBL ("gamma", cfg->gamma);
  GET_INT ("patience", cfg->patience);
  idx = name_index (monitor_names, G_N_ELEMENTS (monitor_names),
                    string_member (o, "monitor"));
  if (idx >= 0)
    cfg->monitor = (XlMonitor) idx;
  idx = name_index (weighting_names, G_N_ELEMENTS (weighting_names),
                    string_member (o, "class_weights"));
  if (idx >= 0)
    cfg->class_weighting = (XlClassWeighting) idx;
  if (json_object_has_member (o, "class_weight_values"))
    {
      JsonNode *n = json_object_get_member (o, "class_weight_values");
      if (JSON_NODE_HOLDS_ARRAY (n))
        {
          JsonArray *a = json_node_get_array (n);
          cfg->n_class_weights = MIN (json_array_get_length (a), XL_MAX_CLASSES);
          for (guint i = 0; i < cfg->n_class_weights; i++)
            {
              JsonNode *e = json_array_get_element (a, i);
              /* not a number: NAN, which validation refuses */
              cfg->class_weights[i] = JSON_NODE_HOLDS_VALUE (e) ? json_node_get_double (e) : NAN;
            }
        }
    }
  GET_BOOL ("balanced_sampling", cfg->balanced_sampling);
  GET_BOOL ("augment", cfg->augment);
  GET_BOOL ("random_resized_crop", cfg->random_resized_crop);
  GET_DBL ("rotation_degrees", cfg->rotation_degrees);
  GET_DBL ("brightness", cfg->brightness);
  GET_DBL ("contrast", cfg->contrast);
  GET_BOOL ("hflip", cfg->hflip);
  GET_DBL ("val_fraction", cfg->val_fraction);
  GET_INT ("cache_views", cfg->cache_views);
  GET_INT ("image_cache_bytes", cfg->image_cache_bytes);
  GET_INT ("feature_cache_bytes", cfg->feature_cache_bytes);
  GET_INT ("seed", cfg->seed);
  GET_INT ("threads", cfg->threads);
  GET_INT ("loader_threads", cfg->loader_threads);
  GET_INT ("max_batches", cfg->max_batches);
#undef GET_INT
#undef GET_DBL
#undef GET_BOOL

  if (!xl_train_config_validate (cfg, error))
    {
      g_prefix_error (error, "config.json: ");
      return FALSE;
    }
  return TRUE;
}
