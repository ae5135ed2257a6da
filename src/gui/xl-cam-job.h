/* xl-cam-job.h — a film's prediction and class activation map, computed off
 * the main thread for the Review view.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every job runs on one worker thread of its own, one after the other: an
 * XlPredictor is not thread-safe, and the window keeps one per stage of the
 * model it reviews (DESIGN.md: the GUI renders from its own read-only copy of
 * a finished model). A job cancelled before the worker takes it costs nothing.
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-cam.h"
#include "xl-heatmap.h"

G_BEGIN_DECLS

/* A model file and its predictors, made in the worker when first needed. */
typedef struct _XlCamModel XlCamModel;

/* Reads the model's metadata now (fast: no weights); the weights are loaded
 * by the first job. */
XlCamModel        *xl_cam_model_new      (const char  *model_path,
                                          GError     **error);
XlCamModel        *xl_cam_model_ref      (XlCamModel  *model);
void               xl_cam_model_unref    (XlCamModel  *model);
const char        *xl_cam_model_get_path (XlCamModel  *model);
const XlModelInfo *xl_cam_model_get_info (XlCamModel  *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlCamModel, xl_cam_model_unref)

/* What a job gives; read-only once made, shared by reference. */
typedef struct {
  char         *path;
  XlImage      *film;            /* full size, 8-bit gray */
  XlCamGeometry geom;
  double        crop_x, crop_y, crop_width, crop_height;   /* in film pixels */
  guint         n_classes;
  float        *probs;           /* (n_classes) */
  guint         predicted;       /* at the model's own threshold */
  guint         map_class;       /* the class the map shows evidence for */
  XlCamMethod   method;
  int           stage;           /* 2..4 */
  char         *method_note;     /* why the method is not the one asked for, or NULL */
  guint         map_width, map_height;
  float        *map;             /* (map_height, map_width), after ReLU: logit units */
  float         map_max;         /* 0: no positive evidence, an empty map */
  /* map / map_max sampled over the film (long side at most 1024: the map is
   * smooth), NAN outside the crop the network saw */
  float        *heat;            /* (heat_height, heat_width) */
  guint         heat_width, heat_height;
} XlCamResult;

XlCamResult *xl_cam_result_ref   (XlCamResult *result);
void         xl_cam_result_unref (XlCamResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlCamResult, xl_cam_result_unref)

/* Decodes the film at path, predicts it and maps the evidence for the
 * positive class (two classes; else the predicted one) at stage 4 (CAM) or 2,
 * 3 (Grad-CAM). Errors name the file. */
void         xl_cam_job_run_async  (XlCamModel          *model,
                                    const char          *path,
                                    int                  stage,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
XlCamResult *xl_cam_job_run_finish (GAsyncResult        *result,
                                    GError             **error);

/* The heat coloured at full opacity, transparent outside the crop: a
 * texture heat_width x heat_height to stretch over the film. */
GdkTexture  *xl_cam_result_colorize (const XlCamResult *result,
                                     XlColormap         colormap);

/* What the colour bar's scale is: method, class, layer and normalization. */
char        *xl_cam_result_describe_scale (const XlCamResult *result,
                                           const XlModelInfo *info);

/* Writes the film with its heatmap, colour bar, caption and notice to path
 * (.png, .svg or .pdf) at the film's own resolution (films under 512 pixels
 * are enlarged so that the text can be read). Thread-safe. */
gboolean     xl_cam_result_export  (const XlCamResult *result,
                                    const XlModelInfo *info,
                                    XlColormap         colormap,
                                    double             opacity,
                                    double             probability,
                                    double             threshold,
                                    int                true_label,
                                    const char        *path,
                                    GError           **error);

G_END_DECLS
