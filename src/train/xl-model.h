/* xl-model.h — a trained classifier: the network plus what it needs to be used.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Saved as safetensors with torchvision's key names, so PyTorch loads it with
 * safetensors.torch.load_file and resnet18(num_classes=N).load_state_dict, plus
 * one metadata entry "xraylab" holding a JSON object: the class names, input
 * size and normalization, the head, how it was trained, the chosen threshold
 * and its metrics.
 */
#pragma once

#include <gio/gio.h>

#include "nn-resnet.h"

G_BEGIN_DECLS

#define XL_MODEL_ERROR (xl_model_error_quark ())
GQuark xl_model_error_quark (void);

typedef enum {
  XL_MODEL_ERROR_FORMAT,     /* not a model file, or damaged */
  XL_MODEL_ERROR_MISMATCH,   /* its tensors do not fit what it says it is */
  XL_MODEL_ERROR_NOMEM,
  XL_MODEL_ERROR_IO,
} XlModelError;

#define XL_MODEL_METADATA_KEY "xraylab"

typedef struct {
  guint n_classes;
  char **classes;            /* n_classes names, NULL-terminated */
  guint width;               /* 64: ResNet-18 */
  guint input_size;          /* crop size C, e.g. 224 */
  guint resize;              /* short side S before the crop, e.g. 256 */
  float mean[3], std[3];
  guint head_hidden;         /* 0: plain fc */
  float head_dropout;
  char *mode;                /* "finetune", "fixed", "partial" (informational) */
  int frozen_stages;
  guint positive_class;      /* for the binary threshold */
  double threshold;          /* P(positive) >= threshold flags a film */
  char *metrics_json;        /* a JSON object, or NULL */
} XlModelInfo;

void xl_model_info_init (XlModelInfo *info);       /* ImageNet defaults, 2 classes */
void xl_model_info_clear (XlModelInfo *info);
void xl_model_info_copy (XlModelInfo *dst, const XlModelInfo *src);
void xl_model_info_set_classes (XlModelInfo *info, const char *const *classes, guint n);

/* The JSON object stored under "xraylab". */
char *xl_model_info_to_json (const XlModelInfo *info);
gboolean xl_model_info_from_json (XlModelInfo *info, const char *json, GError **error);

/* Writes net's state_dict and info to path, atomically. */
gboolean xl_model_save (NnResnet *net, const XlModelInfo *info, const char *path,
                        GError **error);

/* Reads a model file written by xl_model_save: fills info and creates a network
 * for it (planned for batch and, with training, for training) with the
 * weights loaded. */
NnResnet *xl_model_load (const char *path, guint batch, gboolean training, int threads,
                         XlModelInfo *info, GError **error);

/* Reads only the info of a model file. */
gboolean xl_model_read_info (const char *path, XlModelInfo *info, GError **error);

/* An nn status as a GError (quark XL_MODEL_ERROR), with the message. */
void xl_model_set_nn_error (GError **error, const NnError *err);

G_END_DECLS
