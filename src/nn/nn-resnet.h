/* nn-resnet.h — ResNet-18 as torchvision builds it, with forward and backward.
 *
 * Lifecycle (after llm.c): nn_resnet_new (plans and allocates every block once)
 * -> nn_resnet_init or nn_resnet_load_state -> per step: nn_resnet_forward,
 * nn_resnet_loss, nn_resnet_zero_grad, nn_resnet_backward, nn_resnet_step ->
 * nn_resnet_free. Forward, backward and step never allocate.
 *
 * Parameters carry torchvision's state_dict keys ("layer2.0.downsample.1.running_var")
 * and shapes, so torchvision checkpoints load without renaming or transposing.
 *
 * Parameter groups, in state_dict order: 0 the stem (conv1, bn1), 1..4 layer1..layer4,
 * 5 the classifier (fc). Freezing k stages freezes groups 0..k-1: they get no gradient,
 * no update, and their BatchNorm runs in evaluation mode (running statistics).
 *   k = 0  fine-tune everything          k = 1  freeze the stem only
 *   k = 5  fixed feature extractor (only fc trains)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn-error.h"
#include "nn-layers.h"
#include "nn-optim.h"
#include "nn-tensor-file.h"

#define NN_RESNET_GROUPS 6
#define NN_GROUP_STEM 0
#define NN_GROUP_FC 5

typedef struct NnResnet NnResnet;

/* How 3x3 stride-1 convolutions (forward and backward data) are computed. */
typedef enum {
  NN_CONV_ALGO_AUTO = 0,    /* the environment's NN_CONV_ALGO (im2col or winograd),
                               read when the model is made; else Winograd */
  NN_CONV_ALGO_IM2COL,      /* im2col + GEMM, as every other convolution */
  NN_CONV_ALGO_WINOGRAD,    /* Winograd F(2x2, 3x3): 2.25x fewer multiply-adds */
} NnConvAlgo;

typedef struct {
  int num_classes;          /* 1000 for ImageNet, 2 for NORMAL/PNEUMONIA */
  int width;                /* channels of the stem: 64 is ResNet-18 */
  int batch;                /* the largest batch forward/backward will be given */
  int in_h, in_w;           /* input size, e.g. 224x224 */
  bool training;            /* plan activations, gradients and optimizer state */
  size_t workspace_floats;  /* im2col/Winograd budget for all threads; 0: what the
                               widest GEMM of any convolution needs */
  int head_hidden;          /* 0: fc is one Linear, as torchvision's. Else an MLP head
                               fc = Sequential(Linear(8w, hidden), ReLU, Dropout,
                               Linear(hidden, classes)): keys fc.0.* and fc.3.* */
  float head_dropout;       /* the MLP head's dropout probability */
  int threads;              /* threads the model computes with; 0: one per CPU.
                               OpenBLAS is set to one thread: the model splits
                               its work across its own threads (nn-pool.h) */
  NnConvAlgo conv_algo;     /* 3x3 stride-1 convolutions; 0 (AUTO) as above */
  bool keep_activations;    /* an inference plan that keeps every layer's output
                               (not only the last few), so that
                               nn_resnet_backward_to_group can run after a forward:
                               Grad-CAM. Training plans always keep them. */
  bool skip_init;           /* leave parameters and buffers zero instead of drawing
                               seed 0's initialization (11M normal draws, ~0.15 s at
                               width 64): for a caller that loads or copies every
                               one of them next */
  bool unpacked_gemm;       /* inference: every convolution's GEMM by OpenBLAS
                               (or Winograd), none on packed weights
                               (nn-packed.h); to compare the two. The
                               environment's NN_PACKED=0 sets it too */
} NnResnetConfig;

typedef struct {
  char name[64];            /* torchvision state_dict key */
  int ndim;
  int64_t shape[4];
  size_t numel;
  float *data;              /* float tensors: parameters and running statistics */
  int64_t *data_i64;        /* num_batches_tracked (a scalar) */
  float *grad;              /* NULL for buffers and for a model planned without training */
  int group;                /* 0 stem, 1..4 layer1..layer4, 5 fc */
  bool is_buffer;           /* running_mean, running_var, num_batches_tracked */
} NnParam;

/* Plans every block for cfg and allocates them. */
NnStatus nn_resnet_new (NnResnet **out, const NnResnetConfig *cfg, NnError *err);
void nn_resnet_free (NnResnet *model);
const NnResnetConfig *nn_resnet_config (const NnResnet *model);

/* torchvision's initialization: Kaiming-normal (fan_out, relu) convolutions,
 * BatchNorm weight 1 and bias 0, nn.Linear's default for fc. Seeded. */
void nn_resnet_init (NnResnet *model, uint64_t seed);
/* A fresh classifier only (nn.Linear's default init), for transfer learning. */
void nn_resnet_init_fc (NnResnet *model, uint64_t seed);

/* All state_dict entries, parameters and buffers, in torchvision's order. */
int nn_resnet_param_count (const NnResnet *model);
NnParam *nn_resnet_param (NnResnet *model, int index);
const NnParam *nn_resnet_param_const (const NnResnet *model, int index);
NnParam *nn_resnet_find_param (NnResnet *model, const char *name);

/* Tells the model that parameters were written from outside: through a
 * pointer kept from nn_resnet_param or nn_resnet_find_param, written after a
 * later call. Inference keeps what it derives from the convolution weights
 * (the Winograd weight transforms) from one forward to the next; it is made
 * again after this call, as after nn_resnet_init, nn_resnet_load_state,
 * nn_resnet_fold_batchnorm, nn_resnet_step and every nn_resnet_param or
 * nn_resnet_find_param call that returns a convolution weight, which all
 * invalidate it themselves. */
void nn_resnet_weights_changed (NnResnet *model);

/* Parameter counts as torchvision counts them (buffers excluded). */
size_t nn_resnet_num_parameters (const NnResnet *model);
size_t nn_resnet_num_trainable (const NnResnet *model);

void nn_resnet_set_frozen_stages (NnResnet *model, int frozen_stages);
int nn_resnet_frozen_stages (const NnResnet *model);

/* in (B,3,H,W), B <= cfg.batch. With train, BatchNorm of unfrozen groups uses
 * batch statistics and updates its running statistics, and the activations
 * backward needs are kept; without, everything runs in evaluation mode. */
void nn_resnet_forward (NnResnet *model, const float *in, int batch, bool train);

/* After a forward: softmax probabilities and the cross-entropy against labels
 * (mean over the batch, or PyTorch's weighted mean with class_weight (C)). In a
 * training plan it also leaves d loss / d logits ready for backward. */
double nn_resnet_loss (NnResnet *model, const int *labels, const float *class_weight);

const float *nn_resnet_logits (const NnResnet *model);   /* (B, num_classes) */
const float *nn_resnet_probs (const NnResnet *model);    /* (B, num_classes), after loss
                                                            or nn_resnet_softmax */
void nn_resnet_softmax (NnResnet *model);                /* probs from logits, no labels */
const float *nn_resnet_pooled (const NnResnet *model);   /* (B, 8*width) features */
/* layer4's output (B, 8*width, fh, fw): the map class activation maps are made of. */
const float *nn_resnet_feature_map (const NnResnet *model, int *channels, int *fh, int *fw);

/* The output of stage group (1..4: layer1..layer4; 0: the stem after max-pool,
 * layer1's input) after a forward, (B, channels, fh, fw). For 4 it is
 * nn_resnet_feature_map. In an inference plan without keep_activations only
 * layer4's output is sure to survive the forward (the others share buffers). */
const float *nn_resnet_stage_output (const NnResnet *model, int group, int *channels, int *fh,
                                     int *fw);

/* Runs the network from group's input on: act is the activation that feeds
 * group (1..4: the input of layer1..layer4, as nn_resnet_group_input gives it;
 * 5: the pooled features), for a cache of a frozen part's output. */
void nn_resnet_forward_from (NnResnet *model, int group, const float *act, int batch,
                             bool train);
/* After a forward: the activation that feeds group (see above), and its floats
 * per image. */
const float *nn_resnet_group_input (const NnResnet *model, int group, size_t *per_image);

/* Dropout in the MLP head draws its masks from a generator seeded here. */
void nn_resnet_seed_dropout (NnResnet *model, uint64_t seed);
/* Tests: the next training forward uses this (B, hidden) mask (0 or 1/(1-p)). */
void nn_resnet_use_dropout_mask (NnResnet *model, const float *mask);

void nn_resnet_zero_grad (NnResnet *model);
/* Back-propagates the last nn_resnet_loss through the unfrozen groups; needs a
 * training plan and a forward with train = true. */
void nn_resnet_backward (NnResnet *model);
/* Backward in evaluation mode, for explanations (Grad-CAM): from dlogits
 * (B, num_classes), given by the caller (one-hot rows give d logit_c), through
 * the classifier and the stages after `group` down to the output of stage group
 * (0..4, as nn_resnet_stage_output), written to dact (B, channels, fh, fw):
 *   dact = d (sum_b dlogits_b . logits_b) / d (stage output).
 * BatchNorm uses its running statistics (or is folded), dropout is off, and no
 * parameter gradient is touched: frozen stages make no difference. Needs the
 * activations of the last forward: a training plan or keep_activations, and
 * that forward made with train = false. B is that forward's batch. */
NnStatus nn_resnet_backward_to_group (NnResnet *model, const float *dlogits, int group,
                                      float *dact, NnError *err);
/* One optimizer step over the unfrozen parameters with learning rate lr. */
void nn_resnet_step (NnResnet *model, const NnOptimConfig *optim, double lr);
/* Steps taken since the optimizer state was last reset (PyTorch's "step"). */
long nn_resnet_optim_steps (const NnResnet *model);
/* Optimizer moments, laid out like the trainable parameters (for checkpoints). */
float *nn_resnet_optim_state (NnResnet *model, int which, size_t *n);
void nn_resnet_set_optim_steps (NnResnet *model, long steps);

/* Inference only: fold each BatchNorm into the convolution before it
 * (w' = w*gamma/sqrt(var+eps), b' = beta - mean*gamma/sqrt(var+eps)). The model
 * must have been planned without training; afterwards forward skips BatchNorm. */
NnStatus nn_resnet_fold_batchnorm (NnResnet *model, NnError *err);

/* Declares that every input from now on is a gray film normalized per
 * channel: channel c = (g - mean[c]) / std[c] of one gray image g, as the
 * data pipeline makes them. The model then runs its stem on channel 0 alone,
 * with the other two channels' share folded into its kernel and a bias that
 * knows the padding, and a training model takes the stem's weight gradient
 * from channel 0 too: a third of the stem's multiply-adds each way, the same
 * result up to rounding. NULL mean or std turns it off. */
NnStatus nn_resnet_set_gray_input (NnResnet *model, const float mean[3], const float std[3],
                                   NnError *err);

/* Per-layer timing for `xraylab-cli bench --profile`: with profiling on, every
 * layer's forward and backward wall time and floating-point work accumulate
 * into one entry per layer ("layer2.0.conv1", "layer2.0.bn1", "maxpool", ...).
 * With NN_PROFILE_CLOCK=cpu in the environment the seconds are the threads' CPU
 * time per thread instead of wall time: steadier on a machine shared with other
 * work, where wall time mostly measures the scheduler. */
typedef struct {
  char name[48];
  double forward_seconds, backward_seconds;
  double forward_flop, backward_flop;    /* multiply-adds count as 2 */
  long calls;
} NnProfileEntry;

void nn_resnet_set_profiling (NnResnet *model, bool enabled);
void nn_resnet_profile_reset (NnResnet *model);
const NnProfileEntry *nn_resnet_profile (const NnResnet *model, int *n_entries);

/* Bytes this model holds in its planned blocks. */
size_t nn_resnet_memory_bytes (const NnResnet *model);

/* The kernel of this model's GEMMs on packed weights (nn-packed.h), or NULL
 * where it multiplies with OpenBLAS only (training, NN_PACKED=0, a CPU
 * without a vector kernel). */
const char *nn_resnet_packed_kernel (const NnResnet *model);

/* ---- weights (nn-resnet-io.c) ---- */

typedef enum {
  NN_LOAD_STRICT = 0,
  /* A classifier of another size (1000 ImageNet classes into a 2-class model)
   * is skipped and fc gets a fresh init instead. */
  NN_LOAD_REPLACE_FC = 1 << 0,
} NnLoadFlags;

/* Copies every state_dict entry from file into model, checking names, shapes and
 * dtypes. Missing num_batches_tracked is allowed (old checkpoints), as PyTorch does.
 * fc_replaced tells whether fc was skipped (may be NULL). On failure the model
 * is unchanged. */
NnStatus nn_resnet_load_state (NnResnet *model, const NnTensorFile *file, unsigned flags,
                               uint64_t fc_seed, bool *fc_replaced, NnError *err);
/* Reads path (.pth or .safetensors) and loads it as above. */
NnStatus nn_resnet_load_file (NnResnet *model, const char *path, unsigned flags,
                              uint64_t fc_seed, bool *fc_replaced, NnError *err);
/* Writes the state_dict as safetensors with string metadata, atomically. */
NnStatus nn_resnet_save (const NnResnet *model, const char *path,
                         const char *const *meta_keys, const char *const *meta_values,
                         size_t n_meta, NnError *err);
