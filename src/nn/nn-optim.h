/* nn-optim.h — optimizers and learning-rate schedules with PyTorch's semantics.
 *
 * SGD as torch.optim.SGD: weight decay added to the gradient; the momentum buffer
 * starts as a copy of the first gradient, then buf = momentum*buf + (1-dampening)*g;
 * Nesterov uses g + momentum*buf.
 * Adam as torch.optim.Adam: L2 weight decay added to the gradient; bias-corrected
 * moments; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
 * AdamW as torch.optim.AdamW: p *= 1 - lr*wd, then Adam without the L2 term.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  NN_OPTIM_SGD,
  NN_OPTIM_ADAM,
  NN_OPTIM_ADAMW,
} NnOptimKind;

typedef struct {
  NnOptimKind kind;
  double momentum;      /* SGD */
  double dampening;     /* SGD */
  bool nesterov;        /* SGD */
  double beta1, beta2;  /* Adam, AdamW */
  double eps;           /* Adam, AdamW */
  double weight_decay;
} NnOptimConfig;

/* PyTorch's defaults for kind (SGD: no momentum; Adam: 0.9, 0.999, 1e-8, no
 * decay; AdamW: decay 0.01). */
NnOptimConfig nn_optim_defaults (NnOptimKind kind);

/* One step over n parameters. step counts from 1. m is SGD's momentum buffer or
 * Adam's first moment, v Adam's second moment (unused by SGD, may be NULL). */
void nn_optim_step (const NnOptimConfig *cfg, double lr, long step, float *param,
                    const float *grad, float *m, float *v, size_t n);

/* torch.optim.lr_scheduler.StepLR: base * gamma^(epoch / step_size). */
double nn_lr_step (double base_lr, int epoch, int step_size, double gamma);
/* CosineAnnealingLR in closed form: eta_min + (base - eta_min)(1 + cos(pi epoch/T))/2. */
double nn_lr_cosine (double base_lr, int epoch, int t_max, double eta_min);
