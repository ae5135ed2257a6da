/* xl-cam-job.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "xl-cam-job.h"
#include "xl-thread-priority.h"

/* The heat is smooth (bilinear from a 7x7 map at 224): a finer one would
 * only cost memory, whatever the film's size. */
#define HEAT_MAX_SIDE 1024
/* Exported films smaller than this are enlarged so the bar and text read. */
#define EXPORT_MIN_LONG_SIDE 512

struct _XlCamModel
{
  gatomicrefcount ref_count;
  char           *path;
  XlModelInfo     info;
  /* Only the worker touches these: one predictor per stage, made on demand. */
  XlPredictor    *predictors[5];
};

XlCamModel *
xl_cam_model_new (const char  *model_path,
                  GError     **error)
{
  g_autoptr(XlCamModel) model = NULL;

  g_return_val_if_fail (model_path != NULL, NULL);

  model = g_new0 (XlCamModel, 1);
  g_atomic_ref_count_init (&model->ref_count);
  model->path = g_strdup (model_path);
  xl_model_info_init (&model->info);
  if (!xl_model_read_info (model_path, &model->info, error))
    return NULL;

  return g_steal_pointer (&model);
}

XlCamModel *
xl_cam_model_ref (XlCamModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  g_atomic_ref_count_inc (&model->ref_count);

  return model;
}

void
xl_cam_model_unref (XlCamModel *model)
{
  g_return_if_fail (model != NULL);

  if (!g_atomic_ref_count_dec (&model->ref_count))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (model->predictors); i++)
    g_clear_pointer (&model->predictors[i], xl_predictor_free);
  xl_model_info_clear (&model->info);
  g_free (model->path);
  g_free (model);
}

const char *
xl_cam_model_get_path (XlCamModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  return model->path;
}

const XlModelInfo *
xl_cam_model_get_info (XlCamModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  return &model->info;
}

static void
cam_result_clear (XlCamResult *result)
{
  g_free (result->path);
  g_clear_pointer (&result->film, xl_image_free);
  g_free (result->probs);
  g_free (result->method_note);
  g_free (result->map);
  g_free (result->heat);
}

XlCamResult *
xl_cam_result_ref (XlCamResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return g_atomic_rc_box_acquire (result);
}

void
xl_cam_result_unref (XlCamResult *result)
{
  g_return_if_fail (result != NULL);

  g_atomic_rc_box_release_full (result, (GDestroyNotify) cam_result_clear);
}

/* ---- The worker ------------------------------------------------------------ */

typedef struct
{
  XlCamModel *model;
  char       *path;
  int         stage;
} Job;

static void
job_free (Job *job)
{
  xl_cam_model_unref (job->model);
  g_free (job->path);
  g_free (job);
}

static XlPredictor *
predictor_for (XlCamModel  *model,
               int          stage,
               GError     **error)
{
  XlPredictorConfig cfg;

  if (model->predictors[stage] != NULL)
    return model->predictors[stage];

  xl_predictor_config_init (&cfg);
  cfg.batch = 1;
  /* One film at a time: two threads keep a core for the window. */
  cfg.threads = MIN (2, (int) g_get_num_processors ());
  cfg.method = stage == 4 ? XL_CAM_METHOD_CAM : XL_CAM_METHOD_GRAD_CAM;
  cfg.stage = stage;
  model->predictors[stage] = xl_predictor_new (model->path, &cfg, error);

  return model->predictors[stage];
}

static XlCamResult *
run_job (Job           *job,
         GCancellable  *cancellable,
         GError       **error)
{
  g_autoptr(XlCamResult) result = NULL;
  g_autoptr(XlImage) input_film = NULL;
  g_autofree char *data = NULL;
  g_autofree char *name = g_path_get_basename (job->path);
  g_autofree float *input = NULL;
  g_autofree float *scaled = NULL;
  const XlModelInfo *info;
  XlPredictor *predictor;
  XlImageInfo header;
  guint map_size;
  double shrink;
  gsize len;
  int map_class;

  if (!(predictor = predictor_for (job->model, job->stage, error)))
    return NULL;
  info = xl_predictor_info (predictor);

  if (!g_file_get_contents (job->path, &data, &len, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  result = g_atomic_rc_box_new0 (XlCamResult);
  result->path = g_strdup (job->path);
  /* Full size for the view: every pixel of the film is the point of it. */
  result->film = xl_image_decode ((const guint8 *) data, len, 0, name, error);
  if (result->film == NULL)
    return NULL;
  /* The model's input as `xraylab-cli predict` makes it, so both agree. */
  input_film = xl_image_decode_short_side ((const guint8 *) data, len, info->resize, name,
                                           &header, error);
  if (input_film == NULL)
    return NULL;

  input = g_new (float, xl_predictor_input_floats (predictor));
  xl_predictor_transform (predictor, input_film, input);

  result->n_classes = info->n_classes;
  result->probs = g_new0 (float, info->n_classes);
  result->stage = xl_predictor_stage (predictor);
  result->method = xl_predictor_method (predictor);
  result->method_note = g_strdup (xl_predictor_method_note (predictor));
  xl_predictor_map_size (predictor, &result->map_width, &result->map_height);
  map_size = result->map_width * result->map_height;
  result->map = g_new0 (float, map_size);
  /* The evidence for the finding the worklist is sorted by. */
  map_class = info->n_classes == 2 ? (int) info->positive_class : -1;
  if (!xl_predictor_run (predictor, input, 1, &map_class, result->probs, result->map,
                         &result->map_class, error))
    return NULL;
  result->predicted = xl_predicted_class (info, result->probs, info->threshold);
  xl_cam_relu (result->map, map_size);
  result->map_max = xl_cam_max (result->map, map_size);

  /* The geometry of the film as its header gives it: the display film is
   * the same, decoded at full size. */
  xl_cam_geometry_init (&result->geom, result->film->width, result->film->height,
                        info->resize, info->input_size);
  xl_cam_geometry_crop_box (&result->geom, &result->crop_x, &result->crop_y,
                            &result->crop_width, &result->crop_height);

  shrink = MIN (1.0, (double) HEAT_MAX_SIDE / MAX (result->film->width, result->film->height));
  result->heat_width = MAX (1, (guint) lround (result->film->width * shrink));
  result->heat_height = MAX (1, (guint) lround (result->film->height * shrink));
  scaled = g_new (float, map_size);
  for (guint i = 0; i < map_size; i++)
    scaled[i] = result->map_max > 0 ? result->map[i] / result->map_max : 0.0f;
  result->heat = g_new (float, (gsize) result->heat_width * result->heat_height);
  xl_cam_project (result->heat, result->heat_width, result->heat_height, scaled,
                  result->map_width, result->map_height, &result->geom);

  return g_steal_pointer (&result);
}

static void
worker_func (gpointer data,
             gpointer user_data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;
  static gboolean lowered;   /* only the pool's one thread comes here */
  Job *job = g_task_get_task_data (task);
  XlCamResult *result;

  /* A frame of the window comes first, as for thumbnails. */
  if (!lowered)
    {
      xl_thread_lower_priority (XL_NICENESS_THUMBNAILS);
      lowered = TRUE;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  result = run_job (job, g_task_get_cancellable (task), &error);
  if (result == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, result, (GDestroyNotify) xl_cam_result_unref);
}

static gpointer
create_pool (gpointer data)
{
  g_autoptr(GError) error = NULL;
  GThreadPool *pool;

  /* One thread, exclusive, for the life of the process: jobs run in order,
   * and the predictors are only ever used from here. */
  pool = g_thread_pool_new (worker_func, NULL, 1, TRUE, &error);
  if (pool == NULL)
    g_error ("cannot start the CAM worker: %s", error->message);

  return pool;
}

void
xl_cam_job_run_async (XlCamModel          *model,
                      const char          *path,
                      int                  stage,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  static GOnce pool_once = G_ONCE_INIT;
  g_autoptr(GTask) task = NULL;
  GThreadPool *pool;
  Job *job;

  g_return_if_fail (model != NULL);
  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, xl_cam_job_run_async);
  job = g_new0 (Job, 1);
  job->model = xl_cam_model_ref (model);
  job->path = g_strdup (path);
  job->stage = CLAMP (stage, 2, 4);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);

  pool = g_once (&pool_once, create_pool, NULL);
  g_thread_pool_push (pool, g_steal_pointer (&task), NULL);
}

XlCamResult *
xl_cam_job_run_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Drawing ----------------------------------------------------------------- */

GdkTexture *
xl_cam_result_colorize (const XlCamResult *result,
                        XlColormap         colormap)
{
  g_autoptr(GBytes) bytes = NULL;
  cairo_surface_t *surface;
  XlHeatmap heatmap;
  int stride;
  int height;

  g_return_val_if_fail (result != NULL, NULL);

  xl_heatmap_init (&heatmap);
  heatmap.heat = result->heat;
  heatmap.heat_width = result->heat_width;
  heatmap.heat_height = result->heat_height;
  heatmap.colormap = colormap;
  heatmap.opacity = 1.0;     /* the view applies the opacity */
  surface = xl_heatmap_overlay_new (&heatmap);
  if (surface == NULL)
    return NULL;

  /* The part of the film the network saw, dashed: outside it there is no heat
   * to show, and the reader should know that it is not "no evidence". */
  if (result->crop_width > 0 && result->crop_height > 0 && result->film != NULL)
    {
      cairo_t *cr = cairo_create (surface);
      double sx = (double) result->heat_width / result->film->width;
      double sy = (double) result->heat_height / result->film->height;
      double line = MAX (1.0, MAX (result->heat_width, result->heat_height) / 400.0);
      double dash[] = { 4 * line, 3 * line };

      cairo_rectangle (cr, result->crop_x * sx + line / 2, result->crop_y * sy + line / 2,
                       result->crop_width * sx - line, result->crop_height * sy - line);
      cairo_set_line_width (cr, line);
      cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
      cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
      cairo_stroke (cr);
      cairo_destroy (cr);
    }

  /* Cairo's ARGB32 is premultiplied in native byte order: GDK's default. */
  cairo_surface_flush (surface);
  stride = cairo_image_surface_get_stride (surface);
  height = cairo_image_surface_get_height (surface);
  bytes = g_bytes_new (cairo_image_surface_get_data (surface), (gsize) stride * height);
  cairo_surface_destroy (surface);

  return gdk_memory_texture_new ((int) result->heat_width, height, GDK_MEMORY_DEFAULT,
                                 bytes, stride);
}

char *
xl_cam_result_describe_scale (const XlCamResult *result,
                              const XlModelInfo *info)
{
  const char *class_name;

  g_return_val_if_fail (result != NULL, NULL);
  g_return_val_if_fail (info != NULL, NULL);

  class_name = result->map_class < info->n_classes ? info->classes[result->map_class] : "?";
  if (result->map_max <= 0)
    /* Translators: CAM or Grad-CAM, the class, the layer number */
    return g_strdup_printf (_("%s for %s, layer%d: no evidence for it in this film, the map is empty"),
                            xl_cam_method_name (result->method), class_name, result->stage);

  /* Translators: CAM or Grad-CAM, the class, the layer number */
  return g_strdup_printf (_("%s for %s, layer%d · normalized per image: 1 = this film’s peak"),
                          xl_cam_method_name (result->method), class_name, result->stage);
}

gboolean
xl_cam_result_export (const XlCamResult *result,
                      const XlModelInfo *info,
                      XlColormap         colormap,
                      double             opacity,
                      double             probability,
                      double             threshold,
                      int                true_label,
                      const char        *path,
                      GError           **error)
{
  g_autoptr(XlImage) enlarged = NULL;
  g_autofree float *scaled = NULL;
  g_autofree float *heat = NULL;
  g_autofree char *name = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *bar_label = NULL;
  g_autofree char *truth = NULL;
  const XlImage *film;
  guint map_size;
  double scale = 1.0;
  XlHeatmap heatmap;
  guint predicted;

  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  film = result->film;
  if (MAX (film->width, film->height) < EXPORT_MIN_LONG_SIDE)
    {
      scale = (double) EXPORT_MIN_LONG_SIDE / MAX (film->width, film->height);
      enlarged = xl_image_resize (film, MAX (1, (guint) lround (film->width * scale)),
                                  MAX (1, (guint) lround (film->height * scale)));
      if (enlarged == NULL)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM, "%s: out of memory", path);
          return FALSE;
        }
      film = enlarged;
    }

  /* The heat at the exported film's own resolution. */
  map_size = result->map_width * result->map_height;
  scaled = g_new (float, map_size);
  for (guint i = 0; i < map_size; i++)
    scaled[i] = result->map_max > 0 ? result->map[i] / result->map_max : 0.0f;
  heat = g_try_new (float, (gsize) film->width * film->height);
  if (heat == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM, "%s: out of memory", path);
      return FALSE;
    }
  xl_cam_project (heat, film->width, film->height, scaled, result->map_width,
                  result->map_height, &result->geom);

  name = g_path_get_basename (result->path);
  bar_label = xl_cam_result_describe_scale (result, info);
  if (info->n_classes == 2)
    {
      predicted = probability >= threshold ? info->positive_class : 1 - info->positive_class;
      if (true_label >= 0 && (guint) true_label < info->n_classes)
        /* Translators: the true class of a film */
        truth = g_strdup_printf (_("  ·  true: %s"), info->classes[true_label]);
      /* Translators: file · P(class) probability · predicted class at threshold t */
      caption = g_strdup_printf (_("%s  ·  P(%s) %.3f  ·  %s at threshold %.2f%s"), name,
                                 info->classes[info->positive_class], probability,
                                 info->classes[predicted], threshold, truth ? truth : "");
    }
  else
    caption = g_strdup_printf ("%s  ·  %s", name, info->classes[result->predicted]);

  xl_heatmap_init (&heatmap);
  heatmap.film = film->pixels;
  heatmap.film_width = film->width;
  heatmap.film_height = film->height;
  heatmap.heat = heat;
  heatmap.heat_width = film->width;
  heatmap.heat_height = film->height;
  heatmap.colormap = colormap;
  heatmap.opacity = opacity;
  heatmap.color_bar = TRUE;
  heatmap.color_bar_label = bar_label;
  heatmap.crop_x = result->crop_x * scale;
  heatmap.crop_y = result->crop_y * scale;
  heatmap.crop_width = result->crop_width * scale;
  heatmap.crop_height = result->crop_height * scale;
  heatmap.caption = caption;

  return xl_heatmap_export (&heatmap, path, 0, error);
}
