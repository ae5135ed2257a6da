/* xl-cam.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn-tensor-file.h"
#include "xl-cam.h"
#include "xl-loader.h"

G_DEFINE_QUARK (xl-cam-error-quark, xl_cam_error)

const char *
xl_cam_method_name (XlCamMethod method)
{
  switch (method)
    {
    case XL_CAM_METHOD_CAM:
      return "CAM";
    case XL_CAM_METHOD_GRAD_CAM:
      return "Grad-CAM";
    case XL_CAM_METHOD_NONE:
    default:
      return "none";
    }
}

gboolean
xl_cam_stage_from_name (const char *name, int *stage)
{
  const char *digits = name;

  if (name == NULL)
    return FALSE;
  if (g_str_has_prefix (name, "layer"))
    digits = name + 5;
  if (digits[0] >= '1' && digits[0] <= '4' && digits[1] == '\0')
    {
      *stage = digits[0] - '0';
      return TRUE;
    }
  return FALSE;
}

/* ---- the maths -------------------------------------------------------------- */

void
xl_cam_weighted_sum (float *map, const float *act, const float *weights, int C, int HW)
{
  /* summed in double: thousands of channels of mixed sign */
  for (int i = 0; i < HW; i++)
    {
      double sum = 0;
      for (int k = 0; k < C; k++)
        sum += (double) weights[k] * act[(gsize) k * HW + i];
      map[i] = (float) sum;
    }
}

void
xl_cam_channel_means (float *alpha, const float *grad, int C, int HW)
{
  for (int k = 0; k < C; k++)
    {
      double sum = 0;
      for (int i = 0; i < HW; i++)
        sum += grad[(gsize) k * HW + i];
      alpha[k] = (float) (sum / HW);
    }
}

void
xl_cam_relu (float *map, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!(map[i] > 0) && !isnan (map[i]))
      map[i] = 0;
}

float
xl_cam_max (const float *map, gsize n)
{
  float best = 0;
  gboolean any = FALSE;

  for (gsize i = 0; i < n; i++)
    if (!isnan (map[i]) && (!any || map[i] > best))
      {
        best = map[i];
        any = TRUE;
      }
  return best;
}

/* ---- geometry ----------------------------------------------------------------- */

void
xl_cam_geometry_init (XlCamGeometry *geom, guint film_width, guint film_height, guint resize,
                      guint crop)
{
  XlTransformConfig tf;
  XlTransformDraw draw;

  memset (geom, 0, sizeof *geom);
  geom->film_width = MAX (film_width, 1);
  geom->film_height = MAX (film_height, 1);
  geom->crop = MAX (crop, 1);
  xl_image_short_side_size (geom->film_width, geom->film_height, MAX (resize, 1),
                            &geom->resized_width, &geom->resized_height);
  geom->resized_width = MAX (geom->resized_width, 1);
  geom->resized_height = MAX (geom->resized_height, 1);
  /* the same offsets the eval transform uses, from the same function */
  xl_transform_config_init (&tf, FALSE);
  tf.resize = resize;
  tf.crop = geom->crop;
  xl_transform_draw (&tf, geom->resized_width, geom->resized_height, 0, &draw);
  geom->crop_left = draw.left;
  geom->crop_top = draw.top;
}

/* PIL's resize maps edges to edges: resized = film * resized_size / film_size. */
void
xl_cam_geometry_film_to_crop (const XlCamGeometry *g, double film_x, double film_y,
                              double *crop_x, double *crop_y)
{
  *crop_x = film_x * g->resized_width / g->film_width - g->crop_left;
  *crop_y = film_y * g->resized_height / g->film_height - g->crop_top;
}

void
xl_cam_geometry_crop_to_film (const XlCamGeometry *g, double crop_x, double crop_y,
                              double *film_x, double *film_y)
{
  *film_x = (crop_x + g->crop_left) * g->film_width / g->resized_width;
  *film_y = (crop_y + g->crop_top) * g->film_height / g->resized_height;
}

void
xl_cam_geometry_crop_box (const XlCamGeometry *g, double *x, double *y, double *width,
                          double *height)
{
  double x0, y0, x1, y1;

  xl_cam_geometry_crop_to_film (g, 0, 0, &x0, &y0);
  xl_cam_geometry_crop_to_film (g, g->crop, g->crop, &x1, &y1);
  x0 = CLAMP (x0, 0, g->film_width);
  x1 = CLAMP (x1, 0, g->film_width);
  y0 = CLAMP (y0, 0, g->film_height);
  y1 = CLAMP (y1, 0, g->film_height);
  *x = x0;
  *y = y0;
  *width = x1 - x0;
  *height = y1 - y0;
}

double
xl_cam_geometry_coverage (const XlCamGeometry *g)
{
  double x, y, w, h;

  xl_cam_geometry_crop_box (g, &x, &y, &w, &h);
  return w * h / ((double) g->film_width * g->film_height);
}

/* One axis of the projection: for each output pixel, the two map cells to
 * blend and the weight of the second, or inside = FALSE outside the crop. */
typedef struct {
  int i0, i1;
  float t;
  gboolean inside;
} Tap;

static void
make_taps (Tap *taps, guint out_n, guint film_n, guint resized_n, int crop_offset, guint crop,
           guint map_n)
{
  for (guint o = 0; o < out_n; o++)
    {
      double film = (o + 0.5) * film_n / out_n;
      double c = film * resized_n / film_n - crop_offset;
      Tap *tap = &taps[o];

      tap->inside = c >= 0 && c < crop;
      /* map coordinates of the pixel centre, cell centres at integers */
      double m = c * map_n / crop - 0.5;
      if (m <= 0)
        {
          tap->i0 = tap->i1 = 0;
          tap->t = 0;
        }
      else if (m >= map_n - 1)
        {
          tap->i0 = tap->i1 = (int) map_n - 1;
          tap->t = 0;
        }
      else
        {
          tap->i0 = (int) floor (m);
          tap->i1 = tap->i0 + 1;
          tap->t = (float) (m - tap->i0);
        }
    }
}

void
xl_cam_project (float *out, guint out_width, guint out_height, const float *map,
                guint map_width, guint map_height, const XlCamGeometry *g)
{
  g_autofree Tap *tx = g_new (Tap, MAX (out_width, 1));
  g_autofree Tap *ty = g_new (Tap, MAX (out_height, 1));

  make_taps (tx, out_width, g->film_width, g->resized_width, g->crop_left, g->crop, map_width);
  make_taps (ty, out_height, g->film_height, g->resized_height, g->crop_top, g->crop,
             map_height);
  for (guint y = 0; y < out_height; y++)
    {
      float *row = out + (gsize) y * out_width;
      const Tap *a = &ty[y];
      const float *r0 = map + (gsize) a->i0 * map_width, *r1 = map + (gsize) a->i1 * map_width;

      for (guint x = 0; x < out_width; x++)
        {
          const Tap *b = &tx[x];
          if (!a->inside || !b->inside)
            {
              row[x] = NAN;
              continue;
            }
          float top = r0[b->i0] + b->t * (r0[b->i1] - r0[b->i0]);
          float bottom = r1[b->i0] + b->t * (r1[b->i1] - r1[b->i0]);
          row[x] = top + a->t * (bottom - top);
        }
    }
}

void
xl_cam_peak (const float *map, guint map_width, guint map_height, const XlCamGeometry *g,
             double *film_x, double *film_y)
{
  gsize best = 0, n = (gsize) map_width * map_height;

  for (gsize i = 1; i < n; i++)
    if (map[i] > map[best])
      best = i;
  xl_cam_geometry_crop_to_film (g, ((best % map_width) + 0.5) * g->crop / map_width,
                                ((best / map_width) + 0.5) * g->crop / map_height, film_x,
                                film_y);
}

/* ---- the predictor ------------------------------------------------------------- */

struct _XlPredictor {
  NnResnet *net;
  XlModelInfo info;
  XlPredictorConfig cfg;
  XlCamMethod method;
  char *method_note;
  XlTransformConfig transform;
  int map_width, map_height, map_channels;
  float *dlogits;              /* (batch, classes) */
  float *dact;                 /* (batch, channels, map_height, map_width) */
  float *alpha;                /* (channels) */
  float *weights;              /* (channels): CAM's fc row, centred if contrastive */
  guint *classes;              /* (batch) */
};

void
xl_predictor_config_init (XlPredictorConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->batch = 16;
  cfg->threads = 0;
  cfg->method = XL_CAM_METHOD_NONE;
  cfg->stage = 4;
}

void
xl_predictor_free (XlPredictor *p)
{
  if (p == NULL)
    return;
  nn_resnet_free (p->net);
  xl_model_info_clear (&p->info);
  g_free (p->method_note);
  g_free (p->dlogits);
  g_free (p->dact);
  g_free (p->alpha);
  g_free (p->weights);
  g_free (p->classes);
  g_free (p);
}

XlPredictor *
xl_predictor_new (const char *model_path, const XlPredictorConfig *cfg, GError **error)
{
  g_autoptr (XlPredictor) p = g_new0 (XlPredictor, 1);
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  const char *json;

  g_return_val_if_fail (model_path != NULL && cfg != NULL, NULL);

  p->cfg = *cfg;
  p->cfg.batch = CLAMP (cfg->batch, 1, 1024);
  p->method = cfg->method;
  xl_model_info_init (&p->info);
  if (cfg->method != XL_CAM_METHOD_NONE && (cfg->stage < 1 || cfg->stage > 4))
    {
      g_set_error (error, XL_CAM_ERROR, XL_CAM_ERROR_UNSUPPORTED,
                   "no stage layer%d: maps are made at layer1 to layer4", cfg->stage);
      return NULL;
    }

  if (nn_tensor_file_read (&file, model_path, &err) != NN_OK)
    {
      xl_model_set_nn_error (error, &err);
      return NULL;
    }
  json = nn_tensor_file_meta (file, XL_MODEL_METADATA_KEY);
  if (json == NULL)
    {
      g_set_error (error, XL_MODEL_ERROR, XL_MODEL_ERROR_FORMAT,
                   "%s: not an X-Ray Lab model (no “%s” metadata); ImageNet weights are "
                   "start weights for training, not a model to predict with", model_path,
                   XL_MODEL_METADATA_KEY);
      nn_tensor_file_free (file);
      return NULL;
    }
  if (!xl_model_info_from_json (&p->info, json, error))
    {
      g_prefix_error (error, "%s: ", model_path);
      nn_tensor_file_free (file);
      return NULL;
    }

  if (p->method == XL_CAM_METHOD_CAM && p->info.head_hidden > 0)
    {
      p->method = XL_CAM_METHOD_GRAD_CAM;
      p->method_note = g_strdup ("CAM is undefined for a model with an MLP head (its hidden "
                                 "ReLU mixes the locations): Grad-CAM is shown instead");
    }
  else if (p->method == XL_CAM_METHOD_CAM && cfg->stage != 4)
    {
      p->method = XL_CAM_METHOD_GRAD_CAM;
      p->method_note = g_strdup_printf ("CAM exists only at layer4: Grad-CAM is shown at "
                                        "layer%d", cfg->stage);
    }

  /* Grad-CAM back-propagates from the logits: the forward must keep every
   * stage's output. CAM needs only layer4's, which any plan keeps. */
  NnResnetConfig nc = {
    .num_classes = (int) p->info.n_classes, .width = (int) p->info.width,
    .batch = (int) p->cfg.batch, .in_h = (int) p->info.input_size,
    .in_w = (int) p->info.input_size, .training = false,
    .head_hidden = (int) p->info.head_hidden, .head_dropout = p->info.head_dropout,
    .threads = cfg->threads, .keep_activations = p->method == XL_CAM_METHOD_GRAD_CAM,
    .skip_init = true,   /* every tensor is loaded next */
  };
  if (nn_resnet_new (&p->net, &nc, &err) != NN_OK
      || nn_resnet_load_state (p->net, file, NN_LOAD_STRICT, 0, NULL, &err) != NN_OK
      || nn_resnet_fold_batchnorm (p->net, &err) != NN_OK)
    {
      nn_error_prefix (&err, model_path);
      xl_model_set_nn_error (error, &err);
      nn_tensor_file_free (file);
      return NULL;
    }
  nn_tensor_file_free (file);
  nn_resnet_set_frozen_stages (p->net, p->info.frozen_stages);

  xl_transform_config_init (&p->transform, FALSE);
  p->transform.resize = p->info.resize;
  p->transform.crop = p->info.input_size;
  memcpy (p->transform.mean, p->info.mean, sizeof p->transform.mean);
  memcpy (p->transform.std, p->info.std, sizeof p->transform.std);
  /* xl_predictor_transform makes every input from one gray film */
  if (nn_resnet_set_gray_input (p->net, p->transform.mean, p->transform.std, &err) != NN_OK)
    {
      nn_error_prefix (&err, model_path);
      xl_model_set_nn_error (error, &err);
      return NULL;
    }

  p->classes = g_new0 (guint, p->cfg.batch);
  if (p->method != XL_CAM_METHOD_NONE)
    {
      int stage = p->method == XL_CAM_METHOD_CAM ? 4 : cfg->stage;
      p->cfg.stage = stage;
      /* shapes only: the pointers are planned, the values come with a forward */
      nn_resnet_stage_output (p->net, stage, &p->map_channels, &p->map_height, &p->map_width);
      p->dlogits = g_new0 (float, (gsize) p->cfg.batch * p->info.n_classes);
      p->alpha = g_new0 (float, p->map_channels);
      p->weights = g_new0 (float, p->map_channels);
      if (p->method == XL_CAM_METHOD_GRAD_CAM)
        p->dact = g_new0 (float, (gsize) p->cfg.batch * p->map_channels * p->map_height
                                     * p->map_width);
    }
  return g_steal_pointer (&p);
}

const XlModelInfo *
xl_predictor_info (const XlPredictor *p)
{
  return &p->info;
}

guint
xl_predictor_batch (const XlPredictor *p)
{
  return p->cfg.batch;
}

XlCamMethod
xl_predictor_method (const XlPredictor *p)
{
  return p->method;
}

int
xl_predictor_stage (const XlPredictor *p)
{
  return p->method == XL_CAM_METHOD_NONE ? 0 : p->cfg.stage;
}

const char *
xl_predictor_method_note (const XlPredictor *p)
{
  return p->method_note;
}

void
xl_predictor_map_size (const XlPredictor *p, guint *map_width, guint *map_height)
{
  if (map_width != NULL)
    *map_width = (guint) p->map_width;
  if (map_height != NULL)
    *map_height = (guint) p->map_height;
}

gsize
xl_predictor_input_floats (const XlPredictor *p)
{
  return (gsize) 3 * p->info.input_size * p->info.input_size;
}

NnResnet *
xl_predictor_network (XlPredictor *p)
{
  return p->net;
}

void
xl_predictor_transform (const XlPredictor *p, const XlImage *film, float *out)
{
  xl_transform_apply (&p->transform, film, 0, out);
}

guint
xl_predicted_class (const XlModelInfo *info, const float *probs, double threshold)
{
  guint best = 0;

  if (info->n_classes == 2)
    return probs[info->positive_class] >= threshold ? info->positive_class
                                                    : 1 - info->positive_class;
  for (guint c = 1; c < info->n_classes; c++)
    if (probs[c] > probs[best])
      best = c;
  return best;
}

gboolean
xl_predictor_run (XlPredictor *p, const float *input, guint n, const int *map_class,
                  float *probs, float *maps, guint *classes_out, GError **error)
{
  const guint C = p->info.n_classes;
  const int HW = p->map_width * p->map_height;

  g_return_val_if_fail (n >= 1 && n <= p->cfg.batch, FALSE);

  nn_resnet_forward (p->net, input, (int) n, false);
  nn_resnet_softmax (p->net);
  memcpy (probs, nn_resnet_probs (p->net), (gsize) n * C * sizeof (float));
  for (guint i = 0; i < n; i++)
    {
      int asked = map_class != NULL ? map_class[i] : -1;
      p->classes[i] = asked >= 0 && (guint) asked < C
                        ? (guint) asked
                        : xl_predicted_class (&p->info, probs + (gsize) i * C,
                                              p->info.threshold);
    }
  if (classes_out != NULL)
    memcpy (classes_out, p->classes, n * sizeof (guint));
  if (p->method == XL_CAM_METHOD_NONE || maps == NULL)
    return TRUE;

  int channels, fh, fw;
  const float *act = nn_resnet_stage_output (p->net, p->cfg.stage, &channels, &fh, &fw);
  const gsize per_image = (gsize) channels * HW;

  if (p->method == XL_CAM_METHOD_CAM)
    {
      /* the fc row of each image's class times layer4's output of this forward */
      const float *fc = nn_resnet_find_param (p->net, "fc.weight")->data;
      for (guint i = 0; i < n; i++)
        {
          const float *row = fc + (gsize) p->classes[i] * channels;
          for (int k = 0; k < channels; k++)
            {
              double mean = 0;
              if (p->cfg.contrastive)
                for (guint c = 0; c < C; c++)
                  mean += fc[(gsize) c * channels + k];
              p->weights[k] = (float) (row[k] - mean / C);
            }
          xl_cam_weighted_sum (maps + (gsize) i * HW, act + i * per_image, p->weights, channels,
                               HW);
        }
      return TRUE;
    }

  /* Grad-CAM: d logit_class / d stage output, for every image at once (in
   * evaluation mode the images of a batch do not interact) */
  NnError err = { 0 };
  memset (p->dlogits, 0, (gsize) n * C * sizeof (float));
  for (guint i = 0; i < n; i++)
    for (guint c = 0; c < C; c++)
      p->dlogits[(gsize) i * C + c] = (c == p->classes[i]) - (p->cfg.contrastive ? 1.0f / C : 0);
  if (nn_resnet_backward_to_group (p->net, p->dlogits, p->cfg.stage, p->dact, &err) != NN_OK)
    {
      g_set_error (error, XL_CAM_ERROR, XL_CAM_ERROR_FAILED, "Grad-CAM: %s", err.message);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      xl_cam_channel_means (p->alpha, p->dact + i * per_image, channels, HW);
      xl_cam_weighted_sum (maps + (gsize) i * HW, act + i * per_image, p->alpha, channels, HW);
    }
  return TRUE;
}
