#include "nn-optim.h"

#include <math.h>

NnOptimConfig
nn_optim_defaults (NnOptimKind kind)
{
  NnOptimConfig cfg = {
    .kind = kind,
    .beta1 = 0.9,
    .beta2 = 0.999,
    .eps = 1e-8,
    .weight_decay = kind == NN_OPTIM_ADAMW ? 1e-2 : 0.0,
  };
  return cfg;
}

static void
sgd_step (const NnOptimConfig *cfg, double lr, long step, float *param, const float *grad,
          float *buf, size_t n)
{
  const float wd = (float) cfg->weight_decay, mom = (float) cfg->momentum;
  const float damp = 1.0f - (float) cfg->dampening, rate = (float) lr;

  for (size_t i = 0; i < n; i++)
    {
      float g = grad[i];
      if (wd != 0)
        g += wd * param[i];
      if (mom != 0 && buf != NULL)
        {
          buf[i] = step <= 1 ? g : mom * buf[i] + damp * g;
          g = cfg->nesterov ? g + mom * buf[i] : buf[i];
        }
      param[i] -= rate * g;
    }
}

static void
adam_step (const NnOptimConfig *cfg, double lr, long step, float *param, const float *grad,
           float *m, float *v, size_t n)
{
  const double bc1 = 1.0 - pow (cfg->beta1, (double) step);
  const double bc2 = 1.0 - pow (cfg->beta2, (double) step);
  const float step_size = (float) (lr / bc1);
  const float bc2_sqrt = (float) sqrt (bc2);
  const float b1 = (float) cfg->beta1, b2 = (float) cfg->beta2, eps = (float) cfg->eps;
  const float wd = (float) cfg->weight_decay;
  const bool decoupled = cfg->kind == NN_OPTIM_ADAMW;
  const float shrink = (float) (1.0 - lr * cfg->weight_decay);

  for (size_t i = 0; i < n; i++)
    {
      float g = grad[i];
      if (decoupled)
        param[i] *= shrink;
      else if (wd != 0)
        g += wd * param[i];
      m[i] = m[i] * b1 + (1.0f - b1) * g;
      v[i] = v[i] * b2 + (1.0f - b2) * g * g;
      float denom = sqrtf (v[i]) / bc2_sqrt + eps;
      param[i] -= step_size * (m[i] / denom);
    }
}

void
nn_optim_step (const NnOptimConfig *cfg, double lr, long step, float *param,
               const float *grad, float *m, float *v, size_t n)
{
  if (cfg->kind == NN_OPTIM_SGD)
    sgd_step (cfg, lr, step, param, grad, m, n);
  else
    adam_step (cfg, lr, step, param, grad, m, v, n);
}

double
nn_lr_step (double base_lr, int epoch, int step_size, double gamma)
{
  if (step_size <= 0)
    return base_lr;
  return base_lr * pow (gamma, (double) (epoch / step_size));
}

double
nn_lr_cosine (double base_lr, int epoch, int t_max, double eta_min)
{
  if (t_max <= 0)
    return base_lr;
  return eta_min + (base_lr - eta_min) * (1.0 + cos (M_PI * epoch / t_max)) / 2.0;
}
