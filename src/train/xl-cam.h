/* xl-cam.h — class activation maps: where in a film the network found the
 * evidence for a class, mapped back onto the original film.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two methods, both computed from the forward pass that makes the prediction:
 *
 *   CAM (Zhou et al., CVPR 2016). For ResNet's global-average-pool + linear
 *   head, logit_c = mean over (y, x) of M_c(y, x) + b_c with
 *     M_c = sum_k w_ck A_k          (A = layer4's output, w = fc.weight)
 *   so M_c is exactly each location's contribution to the class score. It is
 *   undefined for an MLP head (its ReLU mixes the locations): Grad-CAM is used
 *   instead, and the predictor says so.
 *
 *   Grad-CAM (Selvaraju et al., ICCV 2017), at any stage (layer2..layer4):
 *     alpha_k = mean over (y, x) of d logit_c / d A_k(y, x),
 *     M_c = sum_k alpha_k A_k
 *   with the gradient from an evaluation-mode backward
 *   (nn_resnet_backward_to_group) that touches no parameter, so it works the
 *   same for frozen backbones. At layer4 with a linear head alpha_k = w_ck / HW:
 *   Grad-CAM is CAM divided by the number of locations.
 *
 * Both papers show max(M, 0): the evidence for the class, not against it. The
 * maps here are raw (signed, in logit units); xl_cam_relu and a scale (one
 * film's maximum, or one shared across films so heat can be compared) come
 * when drawing.
 *
 * A map covers the center crop the network saw (C x C of the film resized to
 * short side S), not the film: XlCamGeometry undoes the crop and the resize,
 * and xl_cam_project samples the map (bilinear, as F.interpolate with
 * align_corners=False) at every pixel of the film, NAN outside the crop.
 */
#pragma once

#include <gio/gio.h>

#include "nn-resnet.h"
#include "xl-image.h"
#include "xl-model.h"

G_BEGIN_DECLS

#define XL_CAM_ERROR (xl_cam_error_quark ())
GQuark xl_cam_error_quark (void);

typedef enum {
  XL_CAM_ERROR_UNSUPPORTED,  /* a method or stage this model cannot give */
  XL_CAM_ERROR_FAILED,       /* the network refused (see the message) */
} XlCamError;

/* The notice every picture, table and file of predictions carries. */
#define XL_CAM_NOTICE "X-Ray Lab is a research tool, not a diagnostic device."

typedef enum {
  XL_CAM_METHOD_NONE = 0,    /* predictions only */
  XL_CAM_METHOD_CAM,         /* Zhou et al.: layer4, linear head only */
  XL_CAM_METHOD_GRAD_CAM,    /* Selvaraju et al.: layer1..layer4, any head */
} XlCamMethod;

const char *xl_cam_method_name (XlCamMethod method);      /* "CAM", "Grad-CAM" */

/* "layer1".."layer4" (or "1".."4") -> 1..4. */
gboolean xl_cam_stage_from_name (const char *name, int *stage);

/* ---- the maths, one image at a time ------------------------------------- */

/* map (HW) = sum_k weights (C)[k] * act (C, HW)[k] */
void xl_cam_weighted_sum (float *map, const float *act, const float *weights, int C, int HW);
/* alpha (C) = mean of grad (C, HW) over HW: Grad-CAM's channel weights */
void xl_cam_channel_means (float *alpha, const float *grad, int C, int HW);
/* map = max(map, 0) in place */
void xl_cam_relu (float *map, gsize n);
/* The largest value of map (n), ignoring NANs; 0 when n == 0 or all NAN. */
float xl_cam_max (const float *map, gsize n);

/* ---- geometry ------------------------------------------------------------ */

typedef struct {
  guint film_width, film_height;        /* the film as its header gives it */
  guint resized_width, resized_height;  /* after Resize(S): torchvision's size */
  guint crop;                           /* C */
  int crop_left, crop_top;              /* the crop in the resized image; negative
                                           where the image is smaller than C */
} XlCamGeometry;

/* The eval transform's geometry for a film_width x film_height film, a model
 * resizing to short side `resize` and cropping `crop` (as xl_transform_draw). */
void xl_cam_geometry_init (XlCamGeometry *geom, guint film_width, guint film_height,
                           guint resize, guint crop);

/* Film pixel coordinates (continuous: pixel (i, j) covers [j, j+1) x [i, i+1))
 * to crop coordinates (0..C) and back. */
void xl_cam_geometry_film_to_crop (const XlCamGeometry *geom, double film_x, double film_y,
                                   double *crop_x, double *crop_y);
void xl_cam_geometry_crop_to_film (const XlCamGeometry *geom, double crop_x, double crop_y,
                                   double *film_x, double *film_y);
/* The part of the film the network saw, in film pixels (clipped to the film). */
void xl_cam_geometry_crop_box (const XlCamGeometry *geom, double *x, double *y,
                               double *width, double *height);
/* The share of the film's area inside the crop, 0..1: below ~0.6 a film of an
 * unusual shape lost much of itself to the center crop. */
double xl_cam_geometry_coverage (const XlCamGeometry *geom);

/* out (out_height, out_width): map (map_height, map_width), which covers the
 * crop, sampled at the centre of every pixel of the film drawn at
 * out_width x out_height (any size: the film itself or a scaled copy), with
 * bilinear interpolation between cell centres (clamped at the edges, as
 * F.interpolate(align_corners=False)). Pixels outside the crop get NAN:
 * the network never saw them. */
void xl_cam_project (float *out, guint out_width, guint out_height, const float *map,
                     guint map_width, guint map_height, const XlCamGeometry *geom);

/* The centre of map's largest cell, in film pixels: where the heatmap peaks. */
void xl_cam_peak (const float *map, guint map_width, guint map_height,
                  const XlCamGeometry *geom, double *film_x, double *film_y);

/* ---- the predictor -------------------------------------------------------- */

typedef struct _XlPredictor XlPredictor;

typedef struct {
  guint       batch;         /* films per forward (16) */
  int         threads;       /* the network's threads (0: one per CPU) */
  XlCamMethod method;        /* NONE: probabilities only */
  int         stage;         /* 1..4: the stage whose output the map is made of (4) */
  /* The score the map explains: FALSE, the class's logit z_c, as both papers
   * do; TRUE, z_c minus the mean of all logits. Softmax ignores what the
   * logits share, so only the second is fixed by what the model predicts: with
   * two classes it is half the log-odds, and the maps of the two classes are
   * each other's negatives. */
  gboolean    contrastive;
} XlPredictorConfig;

void xl_predictor_config_init (XlPredictorConfig *cfg);

/* Loads an X-Ray Lab model (xl_model_save) planned for cfg, BatchNorm folded.
 * CAM asked for at another stage than 4, or with an MLP head, becomes
 * Grad-CAM (xl_predictor_method tells, xl_predictor_method_note says why).
 * Errors: XL_MODEL_ERROR for the file (ImageNet weights are named as such),
 * XL_CAM_ERROR_UNSUPPORTED for a stage out of 1..4. */
XlPredictor *xl_predictor_new (const char *model_path, const XlPredictorConfig *cfg,
                               GError **error);
void xl_predictor_free (XlPredictor *predictor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlPredictor, xl_predictor_free)

const XlModelInfo *xl_predictor_info (const XlPredictor *predictor);
guint xl_predictor_batch (const XlPredictor *predictor);
XlCamMethod xl_predictor_method (const XlPredictor *predictor);
int xl_predictor_stage (const XlPredictor *predictor);
/* Why the method differs from the one asked for, or NULL. */
const char *xl_predictor_method_note (const XlPredictor *predictor);
/* The map's size (the stage's output at the model's input size); 0 without maps. */
void xl_predictor_map_size (const XlPredictor *predictor, guint *map_width, guint *map_height);
/* Floats of one input image, 3 * C * C. */
gsize xl_predictor_input_floats (const XlPredictor *predictor);

/* The model's eval transform of one film (gray, any size: resized to short
 * side S first if it is not already): out (3, C, C), normalized. */
void xl_predictor_transform (const XlPredictor *predictor, const XlImage *film, float *out);

/* One forward over input (n, 3, C, C), n <= the batch, made by
 * xl_predictor_transform: gray films, each channel normalized from the same
 * gray value (the network's stem reads channel 0 and knows the other two
 * from it: nn_resnet_set_gray_input). probs (n, classes)
 * and, with a method, maps (n, map_height * map_width) for the class
 * map_class[i] of each image (NULL or a negative entry: the predicted class at
 * the model's threshold), raw: signed, before any ReLU. classes_out (n) may be
 * NULL; it receives the class each map is for. Not thread-safe: one predictor
 * per thread. */
gboolean xl_predictor_run (XlPredictor *predictor, const float *input, guint n,
                           const int *map_class, float *probs, float *maps,
                           guint *classes_out, GError **error);

/* The predicted class of probs (n_classes): for two classes, the positive class
 * when P(positive) >= threshold, else the other; argmax otherwise. */
guint xl_predicted_class (const XlModelInfo *info, const float *probs, double threshold);

/* The network, for tests and the GUI (owned by the predictor). */
NnResnet *xl_predictor_network (XlPredictor *predictor);

G_END_DECLS
