#include "nn-resnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <time.h>
#include <unistd.h>

#include "nn-packed.h"
#include "nn-pool.h"
#include "nn-rng.h"

#define NN_ALIGN 64
#define BN_MOMENTUM 0.1
#define BN_EPS 1e-5
/* Winograd on small maps only for batches with at least this many tiles */
#define NN_WINOGRAD_MIN_BATCH_TILES 128
/* JOB_CONV_OUTROWS: the columns of a chunk of output rows, in floats (512 KB,
 * a quarter of L2: im2col writes them and the GEMM reads them from cache) */
#define NN_CONV_ROW_CHUNK_FLOATS (128 * 1024)
/* Inference: convolutions whose batch has at most this many output positions
 * (layer4 at batches 1 and 2 at 224) multiply by their packed weights
 * (nn-packed.h). Batch 1, 2 threads, ms per conv (bench --profile, CPU
 * clock): layer4's 3x3s 1.34 by OpenBLAS, 0.93 packed; layer4.0.conv1 0.70,
 * 0.47. Wider products stay with OpenBLAS or Winograd: layer3's 3x3s at
 * batch 1 (196 columns) took 1.0 ms packed against Winograd's 0.79, and
 * layer3.0.conv1 0.43 against OpenBLAS's 0.47, not worth its copy. */
#define NN_PACKED_MAX_COLUMNS 128
/* Inference: Winograd's 16 GEMMs on packed planes of the weight transform
 * where the batch has at most this many tiles and the convolution at least
 * NN_PACKED_WINO_MIN_C input channels: layer3 at batch 1, 0.82 -> 0.53 ms a
 * conv (one plane's (128 x 256) x (256 x 49) 0.018 ms against OpenBLAS's
 * 0.031). With fewer channels the kernel's transposing write weighs more:
 * layer2's (128 x 128) x (128 x 98) took 0.027 ms to OpenBLAS's 0.023, and
 * layer2 in the model gained 5%, layer1 lost 25%. */
#define NN_PACKED_WINO_MAX_TILES 64
#define NN_PACKED_WINO_MIN_C 256


/* A convolution and the BatchNorm after it, with an optional ReLU. */
typedef struct {
  char conv_name[40], bn_name[40];   /* for profiles */
  NnConvShape shape;                 /* planned at the full batch */
  bool relu;
  bool winograd;                     /* forward and backward data by Winograd */
  bool by_rows;                      /* forward by JOB_CONV_OUTROWS */
  /* this unit's Winograd weight transform (16, OC, IC), planned for every
   * Winograd unit. It is current when wino_version is the model's
   * weights_version and, in training plans, wino_serial the last forward's
   * and the buffer still this unit's: training plans share one buffer among
   * all units (layer4's three alone would take 50 MB), made in every forward
   * and again in backward unless no other unit has used it since (the last
   * Winograd unit of the forward is the first of the backward); inference
   * plans give each unit its own, made once and kept until the weights
   * change (see nn_resnet_weights_changed) */
  float *wino_u;
  unsigned long wino_serial;
  unsigned long wino_version;
  /* inference plans, where packed_pays: the weights packed for nn_packed_conv,
   * current when packed_version is the model's weights_version */
  float *packed;
  unsigned long packed_version;
  /* inference plans, where wino_packed_pays: wino_u's 16 planes packed, the
   * same way (nn_winograd_conv_packed) */
  float *wino_packed;
  unsigned long wino_packed_version;
  int group;
  float *weight, *dweight;           /* (OC, IC, KH, KW) */
  float *bias;                       /* (OC): only in inference plans, for folding */
  float *gamma, *beta, *dgamma, *dbeta;
  float *running_mean, *running_var; /* (OC) */
  int64_t *num_batches_tracked;
  float *save_mean, *save_invstd;    /* (OC): batch statistics for backward */
  float *conv_out;                   /* (B, OC, OH, OW): BatchNorm's input */
  float *out;                        /* (B, OC, OH, OW): after BatchNorm (and ReLU) */
  /* Training plans keep out only where backward needs it as it is (a block's
   * output); the stem's and every conv1's are recomputed from conv_out with
   * the y = x * alpha + shift their BatchNorm applied, the downsample's is
   * not needed at all. */
  bool out_shared;                   /* out is overwritten before backward */
  float *bn_alpha, *bn_shift;        /* (OC): the last forward's BatchNorm */
} Unit;

typedef struct {
  Unit conv1, conv2, down;           /* conv2.out becomes the block output */
  bool has_down;
  int group;
} Block;

struct NnResnet {
  NnResnetConfig cfg;
  int frozen_stages;
  bool folded;
  long optim_steps;

  NnParam params[128];
  int n_params;

  /* the planned blocks */
  float *param_block, *grad_block, *m_block, *v_block; /* trainable tensors */
  size_t n_param_floats;
  size_t group_offset[NN_RESNET_GROUPS + 1];            /* into param_block */
  float *buffer_block;                                  /* running statistics */
  size_t n_buffer_floats;
  int64_t *counter_block;                               /* num_batches_tracked */
  size_t n_counters;
  float *act_block;
  size_t n_act_floats;
  int32_t *argmax;
  size_t n_argmax;
  float *ws;                         /* im2col workspace: one slice per thread */
  float *packed_scratch;             /* nn_packed_conv's, one slice per thread */
  size_t packed_scratch_len;
  size_t ws_len, ws_per_thread;
  unsigned long forward_serial;      /* counts forwards: see Unit.wino_serial */
  const void *wino_owner;            /* training: the unit whose transform the
                                        shared buffer holds */
  unsigned long weights_version;     /* bumped whenever weights may have changed:
                                        see Unit.wino_version */
  float *dw_private;                 /* weight gradients of threads 1.., summed into 0's */
  size_t dw_private_len;
  NnPool *pool;
  int threads;

  bool profiling;
  bool profile_cpu;                  /* NN_PROFILE_CLOCK=cpu: see run_job */
  NnProfileEntry profile[96];
  int n_profile;

  /* the network */
  Unit stem;
  int pool_h, pool_w;
  float *pool_out;                   /* (B, width, pool_h, pool_w) */
  Block blocks[8];
  /* the classifier: fc, or fc.0 -> ReLU -> Dropout -> fc.3 with an MLP head */
  float *fc_weight, *fc_bias, *fc_dweight, *fc_dbias;   /* the last Linear */
  float *h_weight, *h_bias, *h_dweight, *h_dbias;       /* fc.0 (hidden, 8w) */
  float *hidden;                     /* (B, hidden) after ReLU */
  float *dropped;                    /* (B, hidden) after dropout: fc.3's input */
  float *dropout_mask;               /* (B, hidden): 0 or 1/(1-p) */
  float *dhidden;                    /* (B, hidden) */
  NnRng dropout_rng;
  bool dropout_mask_given;
  float *pooled, *dpooled;           /* (B, 8*width) */
  float *logits, *probs, *dlogits;   /* (B, num_classes) */
  float *grad_stem;                  /* gradient buffers for backward */
  float *grad_buf[3];
  size_t grad_buf_len;

  int last_batch;
  bool last_train;
  const float *last_input;

  /* Gray films (nn_resnet_set_gray_input): channel c of every input is
   * a[c] * channel 0 + b[c], so the folded stem convolves channel 0 alone:
   *   sum_c W_c * x_c = (sum_c a_c W_c) * x_0 + sum_c b_c W_c * 1,
   * the last term over the taps inside the image (padding is zero in every
   * channel). weight and bias hold the first term's kernel and the folded
   * bias plus the second term with every tap inside; corr takes away, per
   * output channel and class of border row and column, the taps outside.
   * Training takes the weight gradient from channel 0 as well:
   *   dW_c = a_c * (dY x channel 0's columns) + b_c * (dY summed over the
   * outputs where each tap is inside),
   * the first term a GEMM a third the size, the second from dY's sums per
   * class of border row and column (dw_p and dw_r, per task). */
  struct {
    bool on;
    double a[3], b[3];
    float *weight;                   /* (OC, KH*KW) */
    float *bias;                     /* (OC) */
    float *corr;                     /* (OC, n_rows, n_cols): class 0 is inside */
    int *row_class, *col_class;      /* (OH), (OW) */
    unsigned *row_mask, *col_mask;   /* per class: the taps outside, one bit each */
    int n_rows, n_cols;
    float *dw_p;                     /* training: (tasks, OC, KH*KW) */
    double *dw_r;                    /* training: (tasks, OC, n_rows, n_cols) */
    bool current;                    /* made from the weights of `version` */
    unsigned long version;
  } gray;
};

/* ---- planning -------------------------------------------------------------
 * plan() walks the network twice: first with every block NULL to count floats,
 * then with the blocks allocated to hand out pointers. Nothing else allocates.
 */

typedef struct {
  float *base;
  size_t used;
} Arena;

static float *
arena_take (Arena *a, size_t n)
{
  /* keep every tensor 64-byte aligned */
  size_t start = (a->used + 15) & ~(size_t) 15;
  a->used = start + n;
  return a->base != NULL ? a->base + start : NULL;
}

typedef struct {
  NnResnet *m;
  Arena params, grads, buffers, acts;
  size_t counters;
  size_t max_block_act;              /* largest activation after the stem, per batch */
  size_t ws_need;                    /* largest workspace one image of a conv needs */
  size_t max_weight;                 /* largest convolution weight */
  size_t ws_full;                    /* workspace for the widest GEMMs of one thread */
  size_t packed_scratch;             /* nn_packed_conv's scratch for one thread */
  size_t wino_shared;                /* training: the largest Winograd transform */
  float *block_scratch;              /* training: conv1 and downsample outputs */
  /* training: the stem's output buffer, lent to the BatchNorm inputs planned
   * after it while they fit (see plan) */
  float *lent;
  size_t lent_cap, lent_used;
  float *infer_bufs[5];              /* inference plans rotate through these */
} Planner;

static void
add_param (Planner *p, const char *name, int group, bool buffer, int ndim, int64_t d0,
           int64_t d1, int64_t d2, int64_t d3, float **data, float **grad)
{
  NnResnet *m = p->m;
  NnParam *prm = &m->params[m->n_params++];
  int64_t dims[4] = { d0, d1, d2, d3 };
  size_t numel = 1;

  memset (prm, 0, sizeof *prm);
  snprintf (prm->name, sizeof prm->name, "%s", name);
  prm->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    {
      prm->shape[i] = dims[i];
      numel *= (size_t) dims[i];
    }
  prm->numel = numel;
  prm->group = group;
  prm->is_buffer = buffer;
  if (buffer)
    prm->data = arena_take (&p->buffers, numel);
  else
    {
      prm->data = arena_take (&p->params, numel);
      if (m->cfg.training)
        prm->grad = arena_take (&p->grads, numel);
    }
  if (data != NULL)
    *data = prm->data;
  if (grad != NULL)
    *grad = prm->grad;
}

static void
add_counter (Planner *p, const char *name, int group, int64_t **data)
{
  NnResnet *m = p->m;
  NnParam *prm = &m->params[m->n_params++];

  memset (prm, 0, sizeof *prm);
  snprintf (prm->name, sizeof prm->name, "%s", name);
  prm->ndim = 0;
  prm->numel = 1;
  prm->group = group;
  prm->is_buffer = true;
  prm->data_i64 = m->counter_block != NULL ? m->counter_block + p->counters : NULL;
  p->counters++;
  *data = prm->data_i64;
}

/* Winograd where an image has enough tiles, or the batch has: on layer4's 7x7
 * maps (16 tiles) the weight transform (16 * OC * IC floats, written and read
 * again) is spread over too few tiles. One thread, IC = OC = 512 at 7x7,
 * transform included: batch 1 4.9 ms against im2col's 2.4; batch 8 14.3
 * against 15.1, and in the model, where the transform is split across the
 * threads, batch 16 ... At 14x14 and 256 channels Winograd takes 10.3 ms to
 * im2col's 13.6 at batch 8, 1.5 to 1.7 at batch 1. With the transform kept
 * (inference) and the tiles split by channels, layer4 at batch 1 still
 * loses: 1.76, 1.77, 1.63 CPU ms per conv against im2col's 1.38, 1.41, 1.37. */
static bool
winograd_pays (const NnConvShape *s, int batch)
{
  long per_image = (long) ((s->out_h + 1) / 2) * ((s->out_w + 1) / 2);
  return per_image >= 36 || batch * per_image >= NN_WINOGRAD_MIN_BATCH_TILES;
}

/* Packed weights (nn-packed.h): inference plans on a CPU with the kernel,
 * unless turned off */
static bool
packed_on (const NnResnet *m)
{
  return !m->cfg.training && !m->cfg.unpacked_gemm && nn_packed_available ();
}

/* Whether a forward of B images multiplies u's packed weights: where the
 * batch has few output positions (see NN_PACKED_MAX_COLUMNS) */
static bool
packed_pays (const NnResnet *m, const NnConvShape *s, int B)
{
  return packed_on (m) && (long) B * s->out_h * s->out_w <= NN_PACKED_MAX_COLUMNS;
}

/* ... and Winograd's planes, where the batch has few tiles */
static bool
wino_packed_pays (const NnResnet *m, const NnConvShape *s, int B)
{
  NnConvShape sb = *s;
  sb.batch = B;
  return packed_on (m) && s->in_c >= NN_PACKED_WINO_MIN_C
         && nn_winograd_tiles (&sb) <= NN_PACKED_WINO_MAX_TILES;
}

/* infer_out: the output buffer in an inference plan; with shared, in a
 * training plan, train_out: a buffer the output shares with others */
static void
plan_unit (Planner *p, Unit *u, const char *conv_name, const char *bn_name, int group,
           int in_c, int in_h, int in_w, int out_c, int kernel, int stride, int pad, bool relu,
           float *infer_out, bool shared, float *train_out)
{
  NnResnet *m = p->m;
  const int B = m->cfg.batch;
  char name[64];

  u->shape = nn_conv_shape (B, in_c, in_h, in_w, out_c, kernel, stride, pad);
  snprintf (u->conv_name, sizeof u->conv_name, "%s", conv_name);
  snprintf (u->bn_name, sizeof u->bn_name, "%s", bn_name);
  u->relu = relu;
  u->group = group;
  snprintf (name, sizeof name, "%s.weight", conv_name);
  add_param (p, name, group, false, 4, out_c, in_c, kernel, kernel, &u->weight, &u->dweight);
  snprintf (name, sizeof name, "%s.weight", bn_name);
  add_param (p, name, group, false, 1, out_c, 0, 0, 0, &u->gamma, &u->dgamma);
  snprintf (name, sizeof name, "%s.bias", bn_name);
  add_param (p, name, group, false, 1, out_c, 0, 0, 0, &u->beta, &u->dbeta);
  snprintf (name, sizeof name, "%s.running_mean", bn_name);
  add_param (p, name, group, true, 1, out_c, 0, 0, 0, &u->running_mean, NULL);
  snprintf (name, sizeof name, "%s.running_var", bn_name);
  add_param (p, name, group, true, 1, out_c, 0, 0, 0, &u->running_var, NULL);
  snprintf (name, sizeof name, "%s.num_batches_tracked", bn_name);
  add_counter (p, name, group, &u->num_batches_tracked);

  size_t act = (size_t) B * out_c * u->shape.out_h * u->shape.out_w;
  size_t ws = nn_conv2d_workspace (&u->shape, 1);
  if (ws > p->ws_need)
    p->ws_need = ws;
  int ohw = u->shape.out_h * u->shape.out_w;
  int widest = (NN_CONV_GEMM_COLUMNS + ohw - 1) / ohw;
  size_t full = nn_conv2d_workspace (&u->shape, widest < B ? widest : B);
  if (full > p->ws_full)
    p->ws_full = full;
  size_t n_weight = (size_t) out_c * in_c * kernel * kernel;
  if (n_weight > p->max_weight)
    p->max_weight = n_weight;
  u->winograd = m->cfg.conv_algo == NN_CONV_ALGO_WINOGRAD && nn_conv_is_winograd (&u->shape)
                && winograd_pays (&u->shape, B);
  if (u->winograd)
    {
      /* a chunk of NN_WINOGRAD_MIN_TILES tiles: narrower GEMMs lose their speed */
      long tiles = nn_winograd_tiles (&u->shape);
      size_t wino_ws = nn_winograd_workspace (in_c, out_c, (int) (tiles < NN_WINOGRAD_MIN_TILES
                                                                ? tiles : NN_WINOGRAD_MIN_TILES));
      if (wino_ws > p->ws_need)
        p->ws_need = wino_ws;
      size_t wino_u = 16 * nn_winograd_plane ((size_t) out_c * in_c);
      /* every unit keeps its own transform: training from forward to
       * backward (it would otherwise be made twice a step), inference from
       * one forward to the next while the weights stay the same */
      if (m->cfg.training)
        {
          if (wino_u > p->wino_shared)
            p->wino_shared = wino_u;   /* one buffer for all, handed out by plan () */
        }
      else
        u->wino_u = arena_take (&p->acts, wino_u);
      if (wino_packed_pays (m, &u->shape, B))
        {
          u->wino_packed = arena_take (&p->acts, 16 * nn_packed_len (out_c, in_c));
          if (nn_packed_scratch_len ((int) tiles) > p->packed_scratch)
            p->packed_scratch = nn_packed_scratch_len ((int) tiles);
        }
      /* backward: each thread's weight-gradient transform dU, then a chunk */
      if (m->cfg.training && wino_u + wino_ws > p->ws_need)
        p->ws_need = wino_u + wino_ws;
    }
  if (packed_pays (m, &u->shape, B))
    {
      /* the weights once, packed; the batch's columns in each thread's
       * slice of m->ws; each thread's scratch */
      size_t K = (size_t) in_c * kernel * kernel, N = (size_t) B * ohw;
      u->packed = arena_take (&p->acts, nn_packed_len (out_c, (int) K));
      if (K * N > p->ws_need)
        p->ws_need = K * N;
      if (nn_packed_scratch_len ((int) N) > p->packed_scratch)
        p->packed_scratch = nn_packed_scratch_len ((int) N);
    }
  if (m->cfg.training)
    {
      u->save_mean = arena_take (&p->acts, out_c);
      u->save_invstd = arena_take (&p->acts, out_c);
      if (p->lent_cap - p->lent_used >= act)
        {
          u->conv_out = p->lent != NULL ? p->lent + p->lent_used : NULL;
          p->lent_used += (act + 15) & ~(size_t) 15;
        }
      else
        u->conv_out = arena_take (&p->acts, act);
      u->out = shared ? train_out : arena_take (&p->acts, act);
      u->out_shared = shared;
      u->bn_alpha = arena_take (&p->acts, out_c);
      u->bn_shift = arena_take (&p->acts, out_c);
    }
  else
    {
      u->bias = arena_take (&p->acts, out_c);
      u->save_mean = arena_take (&p->acts, out_c);
      u->save_invstd = arena_take (&p->acts, out_c);
      u->conv_out = p->infer_bufs[4];
      /* kept for an evaluation-mode backward, or rotating through the buffers */
      u->out = m->cfg.keep_activations ? arena_take (&p->acts, act) : infer_out;
    }
}

static void
plan (Planner *p)
{
  NnResnet *m = p->m;
  const NnResnetConfig *cfg = &m->cfg;
  const int B = cfg->batch, w = cfg->width;
  int in_c = w, h, wd, buf = 1;
  char conv_name[48], bn_name[48], prefix[32];

  m->n_params = 0;
  memset (m->group_offset, 0, sizeof m->group_offset);

  /* training: the stem's output lives in its gradient buffer, dead until the
   * stem's backward, and recomputed there. Between the two (from the max-pool
   * of the forward to the stem's backward) the buffer is free, so the
   * BatchNorm inputs of the units after the stem take it while they fit:
   * layer1's four (B x 64 x 56 x 56 each at 224) fill it exactly, 103 MB at
   * batch 32. Nothing reads them after layer1's backward. */
  NnConvShape stem = nn_conv_shape (B, 3, cfg->in_h, cfg->in_w, w, 7, 2, 3);
  if (cfg->training)
    m->grad_stem = arena_take (&p->acts, (size_t) B * w * stem.out_h * stem.out_w);
  plan_unit (p, &m->stem, "conv1", "bn1", NN_GROUP_STEM, 3, cfg->in_h, cfg->in_w, w, 7, 2, 3,
             true, p->infer_bufs[0], true, m->grad_stem);
  if (cfg->training)
    {
      p->lent = m->grad_stem;
      p->lent_cap = (size_t) B * w * stem.out_h * stem.out_w;
      p->lent_used = 0;
    }
  /* the stem's weights are small (64 x 147) and its columns large (147 x
   * 12544 per image at 224): split the output rows across threads, and im2col
   * a few rows at a time into cache. Tried on the stride-2 3x3 convs too:
   * layer2.0.conv1 0.54 -> 0.49 ms at batch 1 but 8.4 -> 8.6 at 16, layer3's
   * and layer4's (more weights read by every thread) slower at both. */
  m->stem.by_rows = true;
  h = (m->stem.shape.out_h + 2 - 3) / 2 + 1;
  wd = (m->stem.shape.out_w + 2 - 3) / 2 + 1;
  /* training: every conv1's and downsample's output in one buffer, as large as
   * the largest of them (stages halve the map and double the channels) */
  if (cfg->training)
    {
      size_t largest = 0;
      for (int stage = 0, sh = h, sw = wd; stage < 4; stage++)
        {
          if (stage > 0)
            {
              sh = (sh + 2 - 3) / 2 + 1;
              sw = (sw + 2 - 3) / 2 + 1;
            }
          size_t a = (size_t) B * (w << stage) * sh * sw;
          if (a > largest)
            largest = a;
        }
      p->block_scratch = arena_take (&p->acts, largest);
    }
  m->pool_h = h;
  m->pool_w = wd;
  size_t pool_act = (size_t) B * w * h * wd;
  m->pool_out = cfg->training || cfg->keep_activations ? arena_take (&p->acts, pool_act)
                                                      : p->infer_bufs[1];
  m->n_argmax = pool_act;
  p->max_block_act = pool_act;

  for (int stage = 0; stage < 4; stage++)
    {
      int planes = w << stage;
      for (int bi = 0; bi < 2; bi++)
        {
          Block *b = &m->blocks[stage * 2 + bi];
          int stride = (stage > 0 && bi == 0) ? 2 : 1;
          int group = stage + 1;
          /* In inference plans the block input sits in infer_bufs[buf]; the
           * branch, the shortcut and the output take the next three. */
          float *x1 = p->infer_bufs[(buf + 1) % 4];
          float *x2 = p->infer_bufs[(buf + 2) % 4];
          float *x3 = p->infer_bufs[(buf + 3) % 4];

          if (m->group_offset[group] == 0)
            m->group_offset[group] = p->params.used;
          b->group = group;
          snprintf (prefix, sizeof prefix, "layer%d.%d", stage + 1, bi);
          snprintf (conv_name, sizeof conv_name, "%s.conv1", prefix);
          snprintf (bn_name, sizeof bn_name, "%s.bn1", prefix);
          plan_unit (p, &b->conv1, conv_name, bn_name, group, in_c, h, wd, planes, 3, stride, 1,
                     true, x1, true, p->block_scratch);
          int oh = b->conv1.shape.out_h, ow = b->conv1.shape.out_w;
          snprintf (conv_name, sizeof conv_name, "%s.conv2", prefix);
          snprintf (bn_name, sizeof bn_name, "%s.bn2", prefix);
          plan_unit (p, &b->conv2, conv_name, bn_name, group, planes, oh, ow, planes, 3, 1, 1,
                     false, x2, false, NULL);
          b->has_down = stride != 1 || in_c != planes;
          if (b->has_down)
            {
              snprintf (conv_name, sizeof conv_name, "%s.downsample.0", prefix);
              snprintf (bn_name, sizeof bn_name, "%s.downsample.1", prefix);
              plan_unit (p, &b->down, conv_name, bn_name, group, in_c, h, wd, planes, 1, stride,
                         0, false, x3, true, p->block_scratch);
            }
          size_t act = (size_t) B * planes * oh * ow;
          if (act > p->max_block_act)
            p->max_block_act = act;
          in_c = planes;
          h = oh;
          wd = ow;
          buf = (buf + 2) % 4;
        }
    }

  m->group_offset[NN_GROUP_FC] = p->params.used;
  if (cfg->head_hidden > 0)
    {
      int hid = cfg->head_hidden;
      add_param (p, "fc.0.weight", NN_GROUP_FC, false, 2, hid, in_c, 0, 0, &m->h_weight,
                 &m->h_dweight);
      add_param (p, "fc.0.bias", NN_GROUP_FC, false, 1, hid, 0, 0, 0, &m->h_bias,
                 &m->h_dbias);
      add_param (p, "fc.3.weight", NN_GROUP_FC, false, 2, cfg->num_classes, hid, 0, 0,
                 &m->fc_weight, &m->fc_dweight);
      add_param (p, "fc.3.bias", NN_GROUP_FC, false, 1, cfg->num_classes, 0, 0, 0,
                 &m->fc_bias, &m->fc_dbias);
      m->hidden = arena_take (&p->acts, (size_t) B * hid);
      m->dropped = arena_take (&p->acts, (size_t) B * hid);
      m->dropout_mask = arena_take (&p->acts, (size_t) B * hid);
      if (cfg->training)
        m->dhidden = arena_take (&p->acts, (size_t) B * hid);
    }
  else
    {
      add_param (p, "fc.weight", NN_GROUP_FC, false, 2, cfg->num_classes, in_c, 0, 0,
                 &m->fc_weight, &m->fc_dweight);
      add_param (p, "fc.bias", NN_GROUP_FC, false, 1, cfg->num_classes, 0, 0, 0,
                 &m->fc_bias, &m->fc_dbias);
    }
  m->group_offset[NN_RESNET_GROUPS] = p->params.used;

  m->pooled = arena_take (&p->acts, (size_t) B * in_c);
  m->logits = arena_take (&p->acts, (size_t) B * cfg->num_classes);
  m->probs = arena_take (&p->acts, (size_t) B * cfg->num_classes);
  if (cfg->training || cfg->keep_activations)
    {
      m->dpooled = arena_take (&p->acts, (size_t) B * in_c);
      m->grad_buf_len = p->max_block_act;
      for (int i = 0; i < 3; i++)
        m->grad_buf[i] = arena_take (&p->acts, p->max_block_act);
      if (cfg->head_hidden > 0 && !cfg->training)
        m->dhidden = arena_take (&p->acts, (size_t) B * cfg->head_hidden);
    }
  if (cfg->training)
    {
      m->dlogits = arena_take (&p->acts, (size_t) B * cfg->num_classes);
      /* every Winograd unit's transform in one buffer (see Unit.wino_u) */
      float *wino = p->wino_shared > 0 ? arena_take (&p->acts, p->wino_shared) : NULL;
      m->stem.wino_u = m->stem.winograd ? wino : NULL;
      for (int i = 0; i < 8; i++)
        {
          Unit *units[3] = { &m->blocks[i].conv1, &m->blocks[i].conv2, &m->blocks[i].down };
          for (int k = 0; k < 3; k++)
            if (units[k]->winograd)
              units[k]->wino_u = wino;
        }
    }
}

static void *
aligned_block (size_t n_bytes)
{
  void *ptr = NULL;

  if (n_bytes == 0)
    n_bytes = NN_ALIGN;
  n_bytes = (n_bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
  if (posix_memalign (&ptr, NN_ALIGN, n_bytes) != 0)
    return NULL;
  memset (ptr, 0, n_bytes);
  return ptr;
}

NnStatus
nn_resnet_new (NnResnet **out, const NnResnetConfig *cfg, NnError *err)
{
  NnResnet *m;
  Planner p;
  size_t infer_buf = 0;

  *out = NULL;
  if (cfg->num_classes < 1 || cfg->num_classes > 100000 || cfg->width < 1 || cfg->width > 1024
      || cfg->batch < 1 || cfg->batch > 4096 || cfg->in_h < 32 || cfg->in_w < 32
      || cfg->in_h > 4096 || cfg->in_w > 4096 || cfg->head_hidden < 0
      || cfg->head_hidden > 65536 || !(cfg->head_dropout >= 0 && cfg->head_dropout < 1))
    return nn_error_set (err, NN_ERR_INVALID,
                         "unsupported network: %d classes, width %d, batch %d, input %dx%d",
                         cfg->num_classes, cfg->width, cfg->batch, cfg->in_w, cfg->in_h);

  m = calloc (1, sizeof *m);
  if (m == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
  m->cfg = *cfg;
  if (m->cfg.conv_algo == NN_CONV_ALGO_AUTO)
    {
      const char *algo = getenv ("NN_CONV_ALGO");
      m->cfg.conv_algo = algo != NULL && strcmp (algo, "im2col") == 0 ? NN_CONV_ALGO_IM2COL
                                                                     : NN_CONV_ALGO_WINOGRAD;
    }
  /* NN_PACKED=0: OpenBLAS only; NN_PACKED=avx2: the AVX2 kernel, to measure
   * on an AVX-512 CPU what most desktop CPUs run (see nn-packed.h) */
  const char *packed_env = getenv ("NN_PACKED");
  if (packed_env != NULL && strcmp (packed_env, "0") == 0)
    m->cfg.unpacked_gemm = true;
  else if (packed_env != NULL && strcmp (packed_env, "avx2") == 0)
    nn_packed_set_kernel (NN_PACKED_KERNEL_AVX2);

  /* pass 1: count */
  memset (&p, 0, sizeof p);
  p.m = m;
  plan (&p);
  m->n_param_floats = p.params.used;
  m->n_buffer_floats = p.buffers.used;
  m->n_counters = p.counters;
  m->threads = cfg->threads > 0 ? cfg->threads : (int) sysconf (_SC_NPROCESSORS_ONLN);
  if (m->threads < 1)
    m->threads = 1;
  if (m->threads > 64)
    m->threads = 64;
  /* Each thread gets an equal slice of the im2col budget, and at least one
   * image's columns for the largest convolution; within its slice a GEMM spans
   * as many of the thread's images as fit. With no budget given, each slice
   * holds the widest GEMM (NN_CONV_GEMM_COLUMNS columns) of any convolution:
   * more would never be used (it was 64 MB, 42 MB of it idle). */
  m->ws_per_thread = m->cfg.workspace_floats > 0
                       ? m->cfg.workspace_floats / (size_t) m->threads : p.ws_full;
  if (m->ws_per_thread < p.ws_need)
    m->ws_per_thread = p.ws_need;
  m->ws_per_thread = (m->ws_per_thread + 15) & ~(size_t) 15;
  m->ws_len = m->ws_per_thread * (size_t) m->threads;
  m->dw_private_len = cfg->training ? p.max_weight * (size_t) (m->threads - 1) : 0;
  m->packed_scratch_len = (p.packed_scratch + 15) & ~(size_t) 15;
  if (!cfg->training)
    {
      size_t stem_act = (size_t) cfg->batch * cfg->width * m->stem.shape.out_h
                        * m->stem.shape.out_w;
      infer_buf = p.max_block_act > stem_act ? p.max_block_act : stem_act;
    }
  /* Inference plans rotate activations through 5 buffers; with
   * keep_activations every output has its own and only BatchNorm's input
   * (unused once folded) is shared. */
  int n_infer_bufs = cfg->training ? 0 : cfg->keep_activations ? 1 : 5;
  size_t act_floats = p.acts.used + (size_t) n_infer_bufs * (infer_buf + 16);

  /* pass 2: allocate and hand out pointers */
  m->param_block = aligned_block (m->n_param_floats * sizeof (float));
  m->buffer_block = aligned_block (m->n_buffer_floats * sizeof (float));
  m->counter_block = aligned_block (m->n_counters * sizeof (int64_t));
  m->act_block = aligned_block (act_floats * sizeof (float));
  m->argmax = aligned_block (m->n_argmax * sizeof (int32_t));
  m->ws = aligned_block (m->ws_len * sizeof (float));
  m->dw_private = aligned_block (m->dw_private_len * sizeof (float));
  m->packed_scratch = aligned_block (m->packed_scratch_len * (size_t) m->threads
                                     * sizeof (float));
  m->pool = nn_pool_new (m->threads);
  if (cfg->training)
    {
      m->grad_block = aligned_block (m->n_param_floats * sizeof (float));
      m->m_block = aligned_block (m->n_param_floats * sizeof (float));
      m->v_block = aligned_block (m->n_param_floats * sizeof (float));
    }
  m->n_act_floats = act_floats;
  if (m->param_block == NULL || m->buffer_block == NULL || m->counter_block == NULL
      || m->act_block == NULL || m->argmax == NULL || m->ws == NULL || m->dw_private == NULL
      || m->packed_scratch == NULL || m->pool == NULL
      || (cfg->training && (m->grad_block == NULL || m->m_block == NULL || m->v_block == NULL)))
    {
      size_t total = nn_resnet_memory_bytes (m);
      nn_resnet_free (m);
      return nn_error_set (err, NN_ERR_NOMEM,
                           "not enough memory for a batch of %d at %dx%d (%.1f GB)",
                           cfg->batch, cfg->in_w, cfg->in_h, (double) total / 1e9);
    }

  memset (&p, 0, sizeof p);
  p.m = m;
  p.params.base = m->param_block;
  p.grads.base = m->grad_block;
  p.buffers.base = m->buffer_block;
  p.acts.base = m->act_block;
  if (!cfg->training)
    {
      /* the rotating inference buffers live at the end of the activation block */
      float *tail = m->act_block + (act_floats - (size_t) n_infer_bufs * (infer_buf + 16));
      for (int i = 0; i < 5; i++)
        p.infer_bufs[i] = tail + (((size_t) (i % n_infer_bufs) * (infer_buf + 16) + 15)
                                  & ~(size_t) 15);
    }
  plan (&p);

  m->threads = nn_pool_threads (m->pool);
  /* the model's own threads do the splitting; OpenBLAS inside them runs alone */
  openblas_set_num_threads (1);
  if (cfg->skip_init)
    {
      memset (m->param_block, 0, m->n_param_floats * sizeof (float));
      memset (m->buffer_block, 0, m->n_buffer_floats * sizeof (float));
      memset (m->counter_block, 0, m->n_counters * sizeof (int64_t));
      if (m->m_block != NULL)
        {
          memset (m->m_block, 0, m->n_param_floats * sizeof (float));
          memset (m->v_block, 0, m->n_param_floats * sizeof (float));
        }
      nn_resnet_weights_changed (m);
    }
  else
    nn_resnet_init (m, 0);
  *out = m;
  return NN_OK;
}

void
nn_resnet_free (NnResnet *m)
{
  if (m == NULL)
    return;
  free (m->param_block);
  free (m->grad_block);
  free (m->m_block);
  free (m->v_block);
  free (m->buffer_block);
  free (m->counter_block);
  free (m->act_block);
  free (m->argmax);
  free (m->ws);
  free (m->dw_private);
  free (m->packed_scratch);
  free (m->gray.weight);
  free (m->gray.bias);
  free (m->gray.corr);
  free (m->gray.row_class);
  free (m->gray.col_class);
  free (m->gray.row_mask);
  free (m->gray.col_mask);
  free (m->gray.dw_p);
  free (m->gray.dw_r);
  nn_pool_free (m->pool);
  free (m);
}

const NnResnetConfig *
nn_resnet_config (const NnResnet *m)
{
  return &m->cfg;
}

const char *
nn_resnet_packed_kernel (const NnResnet *m)
{
  return packed_on (m) ? nn_packed_kernel_name (nn_packed_kernel ()) : NULL;
}

size_t
nn_resnet_memory_bytes (const NnResnet *m)
{
  size_t floats = m->n_param_floats * (m->cfg.training ? 4 : 1) + m->n_buffer_floats
                  + m->n_act_floats + m->ws_len + m->dw_private_len
                  + m->packed_scratch_len * (size_t) m->threads;
  return floats * sizeof (float) + m->n_counters * sizeof (int64_t)
         + m->n_argmax * sizeof (int32_t);
}

/* ---- parameters ---------------------------------------------------------- */

int
nn_resnet_param_count (const NnResnet *m)
{
  return m->n_params;
}

void
nn_resnet_weights_changed (NnResnet *m)
{
  m->weights_version++;
}

/* A writable convolution weight may be written: what was made of it is stale */
static NnParam *
writable_param (NnResnet *m, NnParam *prm)
{
  if (prm != NULL && prm->ndim == 4)
    nn_resnet_weights_changed (m);
  return prm;
}

NnParam *
nn_resnet_param (NnResnet *m, int index)
{
  return writable_param (m, index >= 0 && index < m->n_params ? &m->params[index] : NULL);
}

const NnParam *
nn_resnet_param_const (const NnResnet *m, int index)
{
  return index >= 0 && index < m->n_params ? &m->params[index] : NULL;
}

NnParam *
nn_resnet_find_param (NnResnet *m, const char *name)
{
  for (int i = 0; i < m->n_params; i++)
    if (strcmp (m->params[i].name, name) == 0)
      return writable_param (m, &m->params[i]);
  return NULL;
}

size_t
nn_resnet_num_parameters (const NnResnet *m)
{
  size_t n = 0;

  for (int i = 0; i < m->n_params; i++)
    if (!m->params[i].is_buffer)
      n += m->params[i].numel;
  return n;
}

size_t
nn_resnet_num_trainable (const NnResnet *m)
{
  size_t n = 0;

  for (int i = 0; i < m->n_params; i++)
    if (!m->params[i].is_buffer && m->params[i].group >= m->frozen_stages)
      n += m->params[i].numel;
  return n;
}

void
nn_resnet_set_frozen_stages (NnResnet *m, int frozen_stages)
{
  if (frozen_stages < 0)
    frozen_stages = 0;
  if (frozen_stages > NN_GROUP_FC)
    frozen_stages = NN_GROUP_FC;
  m->frozen_stages = frozen_stages;
}

int
nn_resnet_frozen_stages (const NnResnet *m)
{
  return m->frozen_stages;
}

static void
init_unit (Unit *u, NnRng *rng)
{
  const NnConvShape *s = &u->shape;
  size_t n = (size_t) s->out_c * s->in_c * s->kernel_h * s->kernel_w;
  /* kaiming_normal_(mode="fan_out", nonlinearity="relu") */
  double std = sqrt (2.0 / ((double) s->out_c * s->kernel_h * s->kernel_w));

  for (size_t i = 0; i < n; i++)
    u->weight[i] = (float) (std * nn_rng_normal (rng));
  for (int c = 0; c < s->out_c; c++)
    {
      u->gamma[c] = 1;
      u->beta[c] = 0;
      u->running_mean[c] = 0;
      u->running_var[c] = 1;
    }
  *u->num_batches_tracked = 0;
}

/* nn.Linear's default: kaiming_uniform_(a=sqrt(5)) gives the weight the bound
 * 1/sqrt(fan_in), and the bias the same. */
static void
init_linear (float *weight, float *bias, int in, int out, NnRng *rng)
{
  double bound = 1.0 / sqrt ((double) in);

  for (size_t i = 0; i < (size_t) in * out; i++)
    weight[i] = (float) ((2 * nn_rng_uniform (rng) - 1) * bound);
  for (int o = 0; o < out; o++)
    bias[o] = (float) ((2 * nn_rng_uniform (rng) - 1) * bound);
}

void
nn_resnet_init_fc (NnResnet *m, uint64_t seed)
{
  NnRng rng;
  int in = 8 * m->cfg.width, out = m->cfg.num_classes, hid = m->cfg.head_hidden;

  nn_rng_seed (&rng, seed ^ 0x6663u);
  if (hid > 0)
    {
      init_linear (m->h_weight, m->h_bias, in, hid, &rng);
      init_linear (m->fc_weight, m->fc_bias, hid, out, &rng);
    }
  else
    init_linear (m->fc_weight, m->fc_bias, in, out, &rng);
}

void
nn_resnet_seed_dropout (NnResnet *m, uint64_t seed)
{
  nn_rng_seed (&m->dropout_rng, seed ^ 0x64726f70ull);
}

void
nn_resnet_use_dropout_mask (NnResnet *m, const float *mask)
{
  if (m->dropout_mask == NULL)
    return;
  memcpy (m->dropout_mask, mask, (size_t) m->cfg.batch * m->cfg.head_hidden * sizeof (float));
  m->dropout_mask_given = true;
}

void
nn_resnet_init (NnResnet *m, uint64_t seed)
{
  NnRng rng;

  nn_rng_seed (&rng, seed);
  init_unit (&m->stem, &rng);
  for (int i = 0; i < 8; i++)
    {
      init_unit (&m->blocks[i].conv1, &rng);
      init_unit (&m->blocks[i].conv2, &rng);
      if (m->blocks[i].has_down)
        init_unit (&m->blocks[i].down, &rng);
    }
  nn_resnet_init_fc (m, seed);
  nn_resnet_weights_changed (m);
  m->folded = false;
  m->optim_steps = 0;
  if (m->m_block != NULL)
    {
      memset (m->m_block, 0, m->n_param_floats * sizeof (float));
      memset (m->v_block, 0, m->n_param_floats * sizeof (float));
    }
}

/* ---- parallel jobs ----------------------------------------------------------
 * Every layer of a step is one job split into one task per thread: convolutions
 * by images (each thread with its own workspace slice and, in backward, its own
 * weight-gradient buffer, summed afterwards in a fixed order), BatchNorm by
 * channels, pooling by planes, elementwise work and the optimizer by ranges.
 */

typedef enum {
  JOB_CONV_FORWARD,
  JOB_IM2COL,            /* fewer images than threads: im2col split by channels, */
  JOB_CONV_ROWS,         /* then the GEMM split by output channels */
  JOB_STEM_GRAY,         /* the stem on gray films: as JOB_CONV_OUTROWS on
                            channel 0, then the gray bias and border corrections */
  JOB_STEM_GRAY_DWEIGHT, /* its weight gradient's two parts, by images */
  JOB_CONV_OUTROWS,      /* the batch's output rows split across threads, im2col
                            and GEMM a few rows at a time */
  JOB_PACK_WEIGHTS,      /* inference: a unit's weights packed, by panels, */
  JOB_PACKED_CONV,       /* then the batch's columns and nn_packed_conv by panels */
  JOB_CONV_BACKWARD,
  JOB_WINO_WEIGHTS,      /* Winograd: the weight transform split by output channels, */
  JOB_WINO_PACK,         /* inference: the transform's planes packed, by panels */
  JOB_WINO_FORWARD,      /* then the tiles of the batch split across threads */
  JOB_WINO_BACKWARD,     /* backward data, from the forward's weight transform */
  JOB_WINO_DWEIGHT,      /* weight gradient: each thread's tiles into its own dU, */
  JOB_WINO_DWEIGHT_SUM,  /* then dU summed and transformed back, by output channels */
  JOB_SUM_WEIGHT_GRADS,
  JOB_BN_TRAIN,
  JOB_BN_EVAL,
  JOB_BN_BACKWARD,
  JOB_BN_BACKWARD_EVAL,
  JOB_BN_RECOMPUTE,      /* backward: a unit's out again, from conv_out */
  JOB_BN_RELU_BACKWARD,  /* backward: ReLU's mask from conv_out */
  JOB_RELU_BACKWARD,
  JOB_ADD_RELU,
  JOB_MAXPOOL,
  JOB_MAXPOOL_BACKWARD,
  JOB_AVGPOOL,
  JOB_AVGPOOL_BACKWARD,
  JOB_ZERO,
  JOB_COPY,
  JOB_OPTIM,
} JobKind;

typedef struct {
  JobKind kind;
  NnResnet *m;
  Unit *u;
  int B;
  const float *in;       /* conv/BN input, pooling input, elementwise source */
  float *out;            /* conv/BN output, pooled output, elementwise destination */
  float *din;            /* backward: input gradient (may be NULL) */
  float *dout;           /* backward: output gradient */
  bool relu;             /* fuse max(x, 0) after BatchNorm or a folded conv */
  bool train;            /* keep what backward needs (max-pool's argmax) */
  bool no_weight_grad;   /* backward: input gradient only, parameters untouched */
  bool backward;         /* JOB_WINO_WEIGHTS: profiled as part of backward */
  bool accumulate;       /* JOB_WINO_BACKWARD: din += rather than = */
  const float *residual; /* JOB_WINO_FORWARD: added before the ReLU, or NULL */
  double cpu_seconds[64]; /* profiling by CPU time: per thread */
  size_t n;              /* elementwise length */
  const NnOptimConfig *optim;
  double lr;
} Job;

static void job_task_run (void *ctx, int task, int thread);

/* ---- the stem on gray films ------------------------------------------------ */

/* The classes of rows (or columns) of the stem's output by which kernel taps
 * fall outside the input: class 0 has none; others are numbered as found.
 * Returns the number of classes; mask_of (n_out + 1) gets each class's mask. */
static int
gray_border_classes (int n_out, int n_in, int kernel, int stride, int pad, int *class_of,
                     unsigned *mask_of)
{
  int n = 1;

  mask_of[0] = 0;
  for (int o = 0; o < n_out; o++)
    {
      unsigned mask = 0;
      int k, c;

      for (k = 0; k < kernel; k++)
        {
          int i = o * stride - pad + k;
          if (i < 0 || i >= n_in)
            mask |= 1u << k;
        }
      for (c = 0; c < n && mask_of[c] != mask; c++)
        ;
      if (c == n)
        mask_of[n++] = mask;
      class_of[o] = c;
    }
  return n;
}

/* Makes gray's kernel, bias and border corrections from the stem (folded, or
 * unfolded without a bias). */
static void
gray_stem_tables (NnResnet *m)
{
  const Unit *u = &m->stem;
  const NnConvShape *s = &u->shape;
  const int OC = s->out_c, KH = s->kernel_h, KW = s->kernel_w, KK = KH * KW;
  const unsigned *row_mask = m->gray.row_mask, *col_mask = m->gray.col_mask;
  int nr, nc;

  nr = gray_border_classes (s->out_h, s->in_h, KH, s->stride, s->pad, m->gray.row_class,
                            m->gray.row_mask);
  nc = gray_border_classes (s->out_w, s->in_w, KW, s->stride, s->pad, m->gray.col_class,
                            m->gray.col_mask);
  m->gray.n_rows = nr;
  m->gray.n_cols = nc;
  for (int o = 0; o < OC; o++)
    {
      double q[16 * 16], inside = 0;

      for (int t = 0; t < KK; t++)
        {
          double w = 0, c0 = 0;
          for (int c = 0; c < 3; c++)
            {
              double wc = u->weight[((size_t) o * 3 + (size_t) c) * KK + (size_t) t];
              w += m->gray.a[c] * wc;
              c0 += m->gray.b[c] * wc;
            }
          m->gray.weight[(size_t) o * KK + (size_t) t] = (float) w;
          q[t] = c0;
          inside += c0;
        }
      /* an unfolded stem has no bias (its bias block, if planned, is
       * for folding and ignored until then, as in JOB_CONV_FORWARD) */
      m->gray.bias[o] = (float) ((m->folded ? u->bias[o] : 0) + inside);
      for (int rc = 0; rc < nr; rc++)
        for (int cc = 0; cc < nc; cc++)
          {
            double outside = 0;
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++)
                if ((row_mask[rc] >> kh & 1u) || (col_mask[cc] >> kw & 1u))
                  outside += q[kh * KW + kw];
            m->gray.corr[((size_t) o * (size_t) nr + (size_t) rc) * (size_t) nc + (size_t) cc]
              = (float) outside;
          }
    }
  m->gray.current = true;
  m->gray.version = m->weights_version;
}

/* Output rows [r0, r1) of one image: the convolution of channel 0 by the gray
 * kernel is there already; add the bias less what the taps outside the input
 * would have brought, then the ReLU. */
static void
gray_stem_epilogue (const NnResnet *m, float *out, int r0, int r1, bool relu)
{
  const NnConvShape *s = &m->stem.shape;
  const int OW = s->out_w, nr = m->gray.n_rows, nc = m->gray.n_cols;
  const size_t OHW = (size_t) s->out_h * (size_t) OW;

  for (int o = 0; o < s->out_c; o++)
    {
      const float bias = m->gray.bias[o];
      const float *corr = m->gray.corr + (size_t) o * (size_t) nr * (size_t) nc;
      for (int r = r0; r < r1; r++)
        {
          float *row = out + (size_t) o * OHW + (size_t) r * (size_t) OW;
          const float *crow = corr + (size_t) m->gray.row_class[r] * (size_t) nc;
          if (m->gray.row_class[r] == 0)
            {
              for (int x = 0; x < OW; x++)
                row[x] += bias;
              for (int x = 0; x < OW; x++)
                if (m->gray.col_class[x] != 0)
                  row[x] -= crow[m->gray.col_class[x]];
            }
          else
            for (int x = 0; x < OW; x++)
              row[x] += bias - crow[m->gray.col_class[x]];
          if (relu)
            for (int x = 0; x < OW; x++)
              row[x] = row[x] < 0 ? 0 : row[x];   /* NaN stays NaN, as in PyTorch */
        }
    }
}

/* Winograd over fewer tiles than this is split by output channels rather
 * than tiles: a split by tiles gives every thread narrow GEMMs over all the
 * transformed weights. Batch 1, 2 threads, CPU ms per conv: layer3 (49 tiles)
 * 1.15 -> 0.90 split by channels; layer2 (196) 0.78 -> 0.85 and layer1 (784)
 * 0.70 -> 0.90 the other way, so they stay split by tiles. */
#define NN_WINOGRAD_OC_SPLIT_TILES 128

static bool
wino_split_oc (const NnResnet *m, long tiles)
{
  return m->threads > 1 && tiles < NN_WINOGRAD_OC_SPLIT_TILES;
}

/* Whether u's Winograd weight transform holds its current weights */
static bool
wino_u_current (const NnResnet *m, const Unit *u)
{
  if (u->wino_version != m->weights_version)
    return false;
  return !m->cfg.training || (u->wino_serial == m->forward_serial && m->wino_owner == u);
}
static double thread_cpu_seconds (void);

static void
job_task (void *ctx, int task, int thread)
{
  Job *j = ctx;

  if (!j->m->profile_cpu)
    {
      job_task_run (ctx, task, thread);
      return;
    }
  double t0 = thread_cpu_seconds ();
  job_task_run (ctx, task, thread);
  j->cpu_seconds[thread] += thread_cpu_seconds () - t0;
}

/* JOB_STEM_GRAY: the batch's output rows split across threads like
 * JOB_CONV_OUTROWS, each chunk convolved on channel 0 with the gray kernel and
 * finished by gray_stem_epilogue while it is in cache. */
static void
stem_gray_task (NnResnet *m, const Job *j, int task, int T, int thread)
{
  NnConvShape one = j->u->shape;
  const size_t in_stride = (size_t) one.in_c * one.in_h * one.in_w;
  const size_t out_stride = (size_t) one.out_c * one.out_h * one.out_w;
  const size_t row_floats = (size_t) one.kernel_h * one.kernel_w * one.out_w;
  size_t ws_len = NN_CONV_ROW_CHUNK_FLOATS < m->ws_per_thread ? NN_CONV_ROW_CHUNK_FLOATS
                                                              : m->ws_per_thread;
  float *ws = m->ws + (size_t) thread * m->ws_per_thread;
  long b0, b1;

  one.in_c = 1;
  if (ws_len < row_floats)
    ws_len = row_floats;
  const long chunk = (long) (ws_len / row_floats);
  nn_split_range ((long) j->B * one.out_h, T, task, &b0, &b1);
  for (long r = b0; r < b1;)
    {
      long b = r / one.out_h, oh0 = r % one.out_h;
      long oh1 = oh0 + (b1 - r) < one.out_h ? oh0 + (b1 - r) : one.out_h;
      if (oh1 - oh0 > chunk)
        oh1 = oh0 + chunk;
      float *out = j->out + (size_t) b * out_stride;
      nn_conv2d_forward_outrows (out, j->in + (size_t) b * in_stride, m->gray.weight, NULL,
                                 false, &one, (int) oh0, (int) oh1, ws, ws_len);
      gray_stem_epilogue (m, out, (int) oh0, (int) oh1, j->relu);
      r += oh1 - oh0;
    }
}

/* JOB_STEM_GRAY_DWEIGHT: this task's images into its own parts of the
 * weight gradient (see NnResnet.gray): channel 0's GEMM, and dY's sums per
 * output channel and class of border row and column */
static void
stem_gray_dweight_task (NnResnet *m, const Job *j, int task, int T, int thread)
{
  NnConvShape one = j->u->shape;
  const int OC = one.out_c, OW = one.out_w, KK = one.kernel_h * one.kernel_w;
  const int nr = m->gray.n_rows, nc = m->gray.n_cols;
  const size_t in_stride = (size_t) one.in_c * one.in_h * one.in_w;
  const size_t ohw = (size_t) one.out_h * OW;
  float *p = m->gray.dw_p + (size_t) task * OC * KK;
  double *r = m->gray.dw_r + (size_t) task * OC * nr * nc;
  float *ws = m->ws + (size_t) thread * m->ws_per_thread;
  long b0, b1;

  one.in_c = 1;
  one.batch = 1;
  memset (p, 0, (size_t) OC * KK * sizeof (float));
  memset (r, 0, (size_t) OC * nr * nc * sizeof (double));
  nn_split_range (j->B, T, task, &b0, &b1);
  for (long b = b0; b < b1; b++)
    {
      const float *dy = j->dout + (size_t) b * OC * ohw;
      nn_conv2d_backward (NULL, p, dy, j->in + (size_t) b * in_stride, NULL, &one, ws,
                          m->ws_per_thread);
      for (int o = 0; o < OC; o++)
        for (int y = 0; y < one.out_h; y++)
          {
            const float *row = dy + (size_t) o * ohw + (size_t) y * OW;
            double *ro = r + ((size_t) o * nr + (size_t) m->gray.row_class[y]) * nc;
            /* eight running sums, so that the loop vectorizes (one would
             * wait on every addition: 20 ms of a batch of 32) */
            float lane[8] = { 0 }, sum = 0;
            int x0 = 0;
            for (; x0 + 8 <= OW; x0 += 8)
              for (int l = 0; l < 8; l++)
                lane[l] += row[x0 + l];
            for (int l = 0; l < 8; l++)
              sum += lane[l];
            for (int x = x0; x < OW; x++)
              sum += row[x];
            for (int x = 0; x < OW; x++)
              if (m->gray.col_class[x] != 0)
                {
                  ro[m->gray.col_class[x]] += row[x];
                  sum -= row[x];
                }
            ro[0] += sum;
          }
    }
}

/* The stem's weight gradient from the tasks' parts:
 *   dW[o, c, t] += a_c * P[o, t] + b_c * (the sums over the classes where t is inside) */
static void
stem_gray_dweight_finish (NnResnet *m)
{
  const Unit *u = &m->stem;
  const NnConvShape *s = &u->shape;
  const int OC = s->out_c, KW = s->kernel_w, KK = s->kernel_h * KW, T = m->threads;
  const int nr = m->gray.n_rows, nc = m->gray.n_cols;

  for (int o = 0; o < OC; o++)
    for (int t = 0; t < KK; t++)
      {
        double pt = 0, qt = 0;
        for (int k = 0; k < T; k++)
          {
            pt += m->gray.dw_p[((size_t) k * OC + o) * KK + t];
            const double *r = m->gray.dw_r + ((size_t) k * OC + o) * nr * nc;
            for (int rc = 0; rc < nr; rc++)
              for (int cc = 0; cc < nc; cc++)
                if (!(m->gray.row_mask[rc] >> (t / KW) & 1u)
                    && !(m->gray.col_mask[cc] >> (t % KW) & 1u))
                  qt += r[rc * nc + cc];
          }
        for (int c = 0; c < 3; c++)
          u->dweight[((size_t) o * 3 + c) * KK + t] += (float) (m->gray.a[c] * pt
                                                                + m->gray.b[c] * qt);
      }
}

/* Whether the stem convolves channel 0 alone: gray films declared, and
 * workspace for one output row's columns */
static bool
stem_gray (const NnResnet *m, const Unit *u)
{
  return u == &m->stem && m->gray.on
         && m->ws_per_thread >= (size_t) u->shape.kernel_h * u->shape.kernel_w * u->shape.out_w;
}

static void
job_task_run (void *ctx, int task, int thread)
{
  Job *j = ctx;
  NnResnet *m = j->m;
  const int T = m->threads;
  long b0, b1, c0, c1;

  switch (j->kind)
    {
    case JOB_CONV_FORWARD:
    case JOB_CONV_BACKWARD:
      {
        NnConvShape s = j->u->shape;
        size_t in_stride = (size_t) s.in_c * s.in_h * s.in_w;
        size_t out_stride = (size_t) s.out_c * s.out_h * s.out_w;
        float *ws = m->ws + (size_t) thread * m->ws_per_thread;
        nn_split_range (j->B, T, task, &b0, &b1);
        s.batch = (int) (b1 - b0);
        if (j->kind == JOB_CONV_FORWARD)
          {
            if (s.batch > 0)
              {
                float *out = j->out + b0 * out_stride;
                nn_conv2d_forward (out, j->in + b0 * in_stride, j->u->weight,
                                   m->folded ? j->u->bias : NULL, j->relu, &s, ws,
                                   m->ws_per_thread);
              }
            break;
          }
        float *dw = NULL;
        if (j->u->dweight != NULL && !j->no_weight_grad)
          {
            size_t n_w = (size_t) s.out_c * s.in_c * s.kernel_h * s.kernel_w;
            dw = task == 0 ? j->u->dweight : m->dw_private + (size_t) (task - 1) * (m->dw_private_len / (size_t) (T - 1));
            if (task > 0)
              memset (dw, 0, n_w * sizeof (float));
          }
        if (s.batch > 0)
          nn_conv2d_backward (j->din != NULL ? j->din + b0 * in_stride : NULL, dw,
                              j->dout + b0 * out_stride, j->in + b0 * in_stride, j->u->weight,
                              &s, ws, m->ws_per_thread);
        break;
      }
    case JOB_CONV_OUTROWS:
      {
        const NnConvShape *s = &j->u->shape;
        size_t in_stride = (size_t) s->in_c * s->in_h * s->in_w;
        size_t out_stride = (size_t) s->out_c * s->out_h * s->out_w;
        size_t row_floats = (size_t) s->in_c * s->kernel_h * s->kernel_w * s->out_w;
        size_t ws_len = NN_CONV_ROW_CHUNK_FLOATS < m->ws_per_thread ? NN_CONV_ROW_CHUNK_FLOATS
                                                                    : m->ws_per_thread;
        float *ws = m->ws + (size_t) thread * m->ws_per_thread;
        if (ws_len < row_floats)
          ws_len = row_floats;
        nn_split_range ((long) j->B * s->out_h, T, task, &b0, &b1);
        for (long r = b0; r < b1;)
          {
            long b = r / s->out_h, oh0 = r % s->out_h;
            long oh1 = oh0 + (b1 - r) < s->out_h ? oh0 + (b1 - r) : s->out_h;
            nn_conv2d_forward_outrows (j->out + b * out_stride, j->in + b * in_stride,
                                       j->u->weight, m->folded ? j->u->bias : NULL, j->relu, s,
                                       (int) oh0, (int) oh1, ws, ws_len);
            r += oh1 - oh0;
          }
        break;
      }
    case JOB_STEM_GRAY:
      stem_gray_task (m, j, task, T, thread);
      break;
    case JOB_STEM_GRAY_DWEIGHT:
      stem_gray_dweight_task (m, j, task, T, thread);
      break;
    case JOB_IM2COL:
    case JOB_CONV_ROWS:
      {
        /* one image (j->B is its index), columns shared by all threads in m->ws */
        const NnConvShape *s = &j->u->shape;
        size_t in_stride = (size_t) s->in_c * s->in_h * s->in_w;
        size_t out_stride = (size_t) s->out_c * s->out_h * s->out_w;
        size_t ohw = (size_t) s->out_h * s->out_w;
        const float *col = nn_conv_is_pointwise (s) ? j->in + j->B * in_stride : m->ws;
        if (j->kind == JOB_IM2COL)
          {
            nn_split_range (s->in_c, T, task, &c0, &c1);
            nn_im2col_channels (m->ws, ohw, 0, j->in + j->B * in_stride, s, (int) c0, (int) c1);
          }
        else
          {
            nn_split_range (s->out_c, T, task, &c0, &c1);
            nn_conv2d_forward_rows (j->out + j->B * out_stride, col, j->u->weight,
                                    m->folded ? j->u->bias : NULL, j->relu, s, (int) c0,
                                    (int) c1);
          }
        break;
      }
    case JOB_PACK_WEIGHTS:
    case JOB_PACKED_CONV:
      {
        const NnConvShape *s = &j->u->shape;
        const int K = s->in_c * s->kernel_h * s->kernel_w, ohw = s->out_h * s->out_w;
        const int panels = (s->out_c + NN_PACKED_MR - 1) / NN_PACKED_MR;
        const size_t in_stride = (size_t) s->in_c * s->in_h * s->in_w;
        const size_t N = (size_t) j->B * ohw;
        float *col = m->ws + (size_t) thread * m->ws_per_thread;
        nn_split_range (panels, T, task, &c0, &c1);
        if (j->kind == JOB_PACK_WEIGHTS)
          {
            nn_packed_pack (j->u->packed, j->u->weight, s->out_c, K, (int) c0, (int) c1);
            break;
          }
        if (c1 <= c0)
          break;
        /* every thread makes all the columns in its own slice: read back from
         * another core's cache they cost more than making them twice */
        for (int b = 0; b < j->B; b++)
          nn_im2col_channels (col, N, (size_t) b * ohw, j->in + b * in_stride, s, 0, s->in_c);
        nn_packed_conv (j->out, j->u->packed, col, N, 0, (int) N,
                        m->folded ? j->u->bias : NULL, j->residual, j->relu, s->out_c, K, ohw,
                        (int) c0, (int) c1,
                        m->packed_scratch + (size_t) thread * m->packed_scratch_len);
        break;
      }
    case JOB_WINO_WEIGHTS:
      {
        const NnConvShape *s = &j->u->shape;
        nn_split_range (s->out_c, T, task, &c0, &c1);
        nn_winograd_weights (j->u->wino_u, j->u->weight, s->out_c, s->in_c, (int) c0,
                             (int) c1);
        break;
      }
    case JOB_WINO_PACK:
      {
        const NnConvShape *s = &j->u->shape;
        const size_t u_plane = nn_winograd_plane ((size_t) s->out_c * s->in_c);
        const size_t p_plane = nn_packed_len (s->out_c, s->in_c);
        nn_split_range ((s->out_c + NN_PACKED_MR - 1) / NN_PACKED_MR, T, task, &c0, &c1);
        for (int xi = 0; xi < 16; xi++)
          nn_packed_pack (j->u->wino_packed + xi * p_plane, j->u->wino_u + xi * u_plane,
                          s->out_c, s->in_c, (int) c0, (int) c1);
        break;
      }
    case JOB_WINO_FORWARD:
    case JOB_WINO_BACKWARD:
      {
        NnConvShape s = j->u->shape;
        float *ws = m->ws + (size_t) thread * m->ws_per_thread;
        bool fwd = j->kind == JOB_WINO_FORWARD;
        int oc = fwd ? s.out_c : s.in_c;
        long tiles;
        s.batch = j->B;
        tiles = nn_winograd_tiles (&s);
        if (fwd && j->u->wino_packed != NULL && wino_packed_pays (m, &s, j->B))
          {
            /* few tiles: each thread all of them, for its panels */
            const int panels = (s.out_c + NN_PACKED_MR - 1) / NN_PACKED_MR;
            nn_split_range (panels, T, task, &c0, &c1);
            c0 *= NN_PACKED_MR;
            c1 = c1 * NN_PACKED_MR < s.out_c ? c1 * NN_PACKED_MR : s.out_c;
            if (c1 > c0)
              nn_winograd_conv_packed (j->out, j->in, j->u->wino_packed,
                                       m->packed_scratch + (size_t) thread * m->packed_scratch_len,
                                       m->folded ? j->u->bias : NULL, j->residual, j->relu,
                                       s.in_c, s.out_c, s.in_h, s.in_w, 0, tiles, (int) c0,
                                       (int) c1, ws, m->ws_per_thread);
            break;
          }
        if (wino_split_oc (m, tiles))
          {
            /* few tiles: each thread all of them, for its share of the output
             * channels (and so of the transformed weights it reads) */
            b0 = 0;
            b1 = tiles;
            nn_split_range (oc, T, task, &c0, &c1);
          }
        else
          {
            nn_split_range (tiles, T, task, &b0, &b1);
            c0 = 0;
            c1 = oc;
          }
        if (fwd)
          nn_winograd_conv_oc (j->out, j->in, j->u->wino_u, false,
                               m->folded ? j->u->bias : NULL, j->residual, j->relu, false, s.in_c, s.out_c,
                               s.in_h, s.in_w, b0, b1, (int) c0, (int) c1, ws,
                               m->ws_per_thread);
        else
          nn_winograd_conv_oc (j->din, j->dout, j->u->wino_u, true, NULL, NULL, false,
                               j->accumulate,
                               s.out_c, s.in_c, s.in_h, s.in_w, b0, b1, (int) c0, (int) c1, ws,
                               m->ws_per_thread);
        break;
      }
    case JOB_WINO_DWEIGHT:
      {
        NnConvShape s = j->u->shape;
        float *du = m->ws + (size_t) thread * m->ws_per_thread;
        size_t du_len = 16 * nn_winograd_plane ((size_t) s.out_c * s.in_c);
        s.batch = j->B;
        memset (du, 0, du_len * sizeof (float));
        nn_split_range (nn_winograd_tiles (&s), T, task, &b0, &b1);
        nn_winograd_dweight_tiles (du, j->in, j->dout, s.in_c, s.out_c, s.in_h, s.in_w, b0, b1,
                                   du + du_len, m->ws_per_thread - du_len);
        break;
      }
    case JOB_WINO_DWEIGHT_SUM:
      {
        const NnConvShape *s = &j->u->shape;
        const float *du[64];
        for (int t = 0; t < T; t++)
          du[t] = m->ws + (size_t) t * m->ws_per_thread;
        nn_split_range (s->out_c, T, task, &c0, &c1);
        nn_winograd_dweight_finish (j->u->dweight, du, T, s->out_c, s->in_c, (int) c0,
                                    (int) c1);
        break;
      }
    case JOB_SUM_WEIGHT_GRADS:
      {
        const NnConvShape *s = &j->u->shape;
        long n_w = (long) s->out_c * s->in_c * s->kernel_h * s->kernel_w;
        size_t slice = m->dw_private_len / (size_t) (T - 1);
        nn_split_range (n_w, T, task, &b0, &b1);
        for (int t = 1; t < T; t++)
          {
            const float *priv = m->dw_private + (size_t) (t - 1) * slice;
            for (long i = b0; i < b1; i++)
              j->u->dweight[i] += priv[i];
          }
        break;
      }
    case JOB_BN_TRAIN:
    case JOB_BN_EVAL:
    case JOB_BN_BACKWARD:
    case JOB_BN_BACKWARD_EVAL:
    case JOB_BN_RECOMPUTE:
    case JOB_BN_RELU_BACKWARD:
      {
        Unit *u = j->u;
        int C = u->shape.out_c, HW = u->shape.out_h * u->shape.out_w;
        nn_split_range (C, T, task, &c0, &c1);
        if (j->kind == JOB_BN_BACKWARD_EVAL)
          {
            /* per image: channels [c0, c1) of one image are contiguous */
            for (int b = 0; b < j->B; b++)
              {
                size_t at = ((size_t) b * C + (size_t) c0) * (size_t) HW;
                nn_batchnorm_backward_eval (j->din + at, j->dout + at, u->gamma + c0,
                                            u->running_var + c0, 1, (int) (c1 - c0), HW,
                                            BN_EPS);
              }
          }
        else if (j->kind == JOB_BN_TRAIN)
          nn_batchnorm_forward_train_channels (j->out, u->save_mean, u->save_invstd,
                                               u->running_mean, u->running_var, j->in,
                                               u->gamma, u->beta, j->B, C, HW, (int) c0,
                                               (int) c1, j->relu, BN_MOMENTUM, BN_EPS,
                                               u->bn_alpha, u->bn_shift);
        else if (j->kind == JOB_BN_EVAL)
          nn_batchnorm_forward_eval_channels (j->out, j->in, u->gamma, u->beta,
                                              u->running_mean, u->running_var, j->B, C, HW,
                                              (int) c0, (int) c1, j->relu, BN_EPS,
                                              u->bn_alpha, u->bn_shift);
        else if (j->kind == JOB_BN_RECOMPUTE)
          nn_batchnorm_apply_channels (u->out, u->conv_out, u->bn_alpha, u->bn_shift, j->B, C,
                                       HW, (int) c0, (int) c1, u->relu);
        else if (j->kind == JOB_BN_RELU_BACKWARD)
          nn_batchnorm_relu_backward_channels (j->dout, u->conv_out, u->bn_alpha, u->bn_shift,
                                               j->B, C, HW, (int) c0, (int) c1);
        else
          nn_batchnorm_backward_channels (j->din, u->dgamma, u->dbeta, j->dout, j->in,
                                          u->save_mean, u->save_invstd, u->gamma, j->B, C, HW,
                                          (int) c0, (int) c1);
        break;
      }
    case JOB_RELU_BACKWARD:
      nn_split_range ((long) j->n, T, task, &b0, &b1);
      nn_relu_backward (j->dout + b0, j->in + b0, (size_t) (b1 - b0));
      break;
    case JOB_ADD_RELU:
      nn_split_range ((long) j->n, T, task, &b0, &b1);
      nn_add_relu_forward (j->out + b0, j->in + b0, (size_t) (b1 - b0));
      break;
    case JOB_ZERO:
      nn_split_range ((long) j->n, T, task, &b0, &b1);
      memset (j->out + b0, 0, (size_t) (b1 - b0) * sizeof (float));
      break;
    case JOB_COPY:
      nn_split_range ((long) j->n, T, task, &b0, &b1);
      memcpy (j->out + b0, j->in + b0, (size_t) (b1 - b0) * sizeof (float));
      break;
    case JOB_MAXPOOL:
    case JOB_MAXPOOL_BACKWARD:
      {
        const NnConvShape *s = &m->stem.shape;
        size_t hw = (size_t) s->out_h * s->out_w, phw = (size_t) m->pool_h * m->pool_w;
        nn_split_range ((long) j->B * s->out_c, T, task, &c0, &c1);
        if (j->kind == JOB_MAXPOOL)
          nn_maxpool2d_forward (j->out + c0 * phw, j->train ? m->argmax + c0 * phw : NULL,
                                j->in + c0 * hw, 1,
                                (int) (c1 - c0), s->out_h, s->out_w, 3, 2, 1, m->pool_h,
                                m->pool_w);
        else
          nn_maxpool2d_backward (j->din + c0 * hw, j->dout + c0 * phw, m->argmax + c0 * phw, 1,
                                 (int) (c1 - c0), s->out_h, s->out_w, m->pool_h, m->pool_w);
        break;
      }
    case JOB_AVGPOOL:
    case JOB_AVGPOOL_BACKWARD:
      {
        const NnConvShape *s = &m->blocks[7].conv2.shape;
        int hw = s->out_h * s->out_w;
        nn_split_range ((long) j->B * s->out_c, T, task, &c0, &c1);
        if (j->kind == JOB_AVGPOOL)
          nn_avgpool_forward (j->out + c0, j->in + c0 * hw, 1, (int) (c1 - c0), hw);
        else
          nn_avgpool_backward (j->din + c0 * hw, j->dout + c0, 1, (int) (c1 - c0), hw);
        break;
      }
    case JOB_OPTIM:
      {
        size_t start = m->group_offset[m->frozen_stages];
        nn_split_range ((long) (m->n_param_floats - start), T, task, &b0, &b1);
        size_t at = start + (size_t) b0;
        nn_optim_step (j->optim, j->lr, m->optim_steps, m->param_block + at,
                       m->grad_block + at, m->m_block + at, m->v_block + at,
                       (size_t) (b1 - b0));
        break;
      }
    default:
      break;
    }
}

static double
thread_cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double
now_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static NnProfileEntry *
profile_entry (NnResnet *m, const char *name)
{
  for (int i = 0; i < m->n_profile; i++)
    if (strcmp (m->profile[i].name, name) == 0)
      return &m->profile[i];
  if (m->n_profile == (int) (sizeof m->profile / sizeof m->profile[0]))
    return NULL;
  NnProfileEntry *e = &m->profile[m->n_profile++];
  memset (e, 0, sizeof *e);
  snprintf (e->name, sizeof e->name, "%s", name);
  return e;
}

/* Adds seconds (and flop) to the entry of a job: layers by name, the rest by kind. */
static void
profile_job (NnResnet *m, const Job *job, double seconds)
{
  static const char *const kind_names[] = {
    [JOB_MAXPOOL] = "maxpool", [JOB_MAXPOOL_BACKWARD] = "maxpool",
    [JOB_ADD_RELU] = "add+relu", [JOB_RELU_BACKWARD] = "relu backward",
    [JOB_AVGPOOL] = "avgpool", [JOB_AVGPOOL_BACKWARD] = "avgpool",
    [JOB_ZERO] = "zero/copy", [JOB_COPY] = "zero/copy", [JOB_OPTIM] = "optimizer",
  };
  bool backward = job->kind == JOB_CONV_BACKWARD || job->kind == JOB_SUM_WEIGHT_GRADS
                  || job->kind == JOB_STEM_GRAY_DWEIGHT
                  || job->kind == JOB_WINO_BACKWARD || job->kind == JOB_WINO_DWEIGHT
                  || job->kind == JOB_WINO_DWEIGHT_SUM
                  || (job->kind == JOB_WINO_WEIGHTS && job->backward)
                  || job->kind == JOB_BN_BACKWARD || job->kind == JOB_MAXPOOL_BACKWARD
                  || job->kind == JOB_BN_RECOMPUTE || job->kind == JOB_BN_RELU_BACKWARD
                  || job->kind == JOB_AVGPOOL_BACKWARD || job->kind == JOB_RELU_BACKWARD
                  || job->kind == JOB_OPTIM || job->kind == JOB_ZERO || job->kind == JOB_COPY;
  const char *name;
  double flop = 0;

  if (job->u != NULL && (job->kind == JOB_CONV_FORWARD || job->kind == JOB_CONV_BACKWARD
                         || job->kind == JOB_CONV_OUTROWS || job->kind == JOB_STEM_GRAY
                         || job->kind == JOB_STEM_GRAY_DWEIGHT
                         || job->kind == JOB_SUM_WEIGHT_GRADS || job->kind == JOB_IM2COL
                         || job->kind == JOB_CONV_ROWS || job->kind == JOB_WINO_WEIGHTS
                         || job->kind == JOB_PACK_WEIGHTS || job->kind == JOB_PACKED_CONV
                         || job->kind == JOB_WINO_PACK
                         || job->kind == JOB_WINO_FORWARD || job->kind == JOB_WINO_BACKWARD
                         || job->kind == JOB_WINO_DWEIGHT || job->kind == JOB_WINO_DWEIGHT_SUM))
    {
      const NnConvShape *s = &job->u->shape;
      /* a row-split job covers one image; job->B is then that image's index */
      double images = job->kind == JOB_CONV_ROWS || job->kind == JOB_IM2COL ? 1 : job->B;
      double macs = images * s->out_c * s->out_h * s->out_w * s->in_c * s->kernel_h
                    * s->kernel_w;
      name = job->u->conv_name;
      /* Winograd is credited with the direct convolution's work, so that its
       * GFLOP/s compare with im2col's as speed */
      if (job->kind == JOB_CONV_FORWARD || job->kind == JOB_CONV_ROWS
          || job->kind == JOB_CONV_OUTROWS || job->kind == JOB_STEM_GRAY
          || job->kind == JOB_PACKED_CONV
          || job->kind == JOB_WINO_FORWARD || job->kind == JOB_WINO_BACKWARD
          || job->kind == JOB_WINO_DWEIGHT)
        flop = 2 * macs;
      else if (job->kind == JOB_CONV_BACKWARD)
        flop = 2 * macs * (job->din != NULL ? 2 : 1);
      else if (job->kind == JOB_STEM_GRAY_DWEIGHT)
        flop = 2 * macs;        /* the three channels' gradient, as above */
    }
  else if (job->u != NULL)
    name = job->u->bn_name;
  else
    name = (size_t) job->kind < sizeof kind_names / sizeof kind_names[0]
             && kind_names[job->kind] != NULL ? kind_names[job->kind] : "other";

  NnProfileEntry *e = profile_entry (m, name);
  if (e == NULL)
    return;
  if (backward)
    {
      e->backward_seconds += seconds;
      e->backward_flop += flop;
    }
  else
    {
      e->forward_seconds += seconds;
      e->forward_flop += flop;
      if (job->kind != JOB_IM2COL && job->kind != JOB_WINO_WEIGHTS
          && job->kind != JOB_PACK_WEIGHTS && job->kind != JOB_WINO_PACK)
        e->calls++;
    }
}

static void
run_job (NnResnet *m, Job *job)
{
  double t0 = m->profiling ? now_seconds () : 0;

  job->m = m;
  nn_pool_run (m->pool, m->threads, job_task, job);
  if (m->profiling && m->profile_cpu)
    {
      /* the CPU time the tasks took, per thread: on a machine shared with
       * other work this measures the job rather than the scheduler */
      double cpu = 0;
      for (int t = 0; t < m->threads; t++)
        cpu += job->cpu_seconds[t];
      profile_job (m, job, cpu / m->threads);
    }
  else if (m->profiling)
    profile_job (m, job, now_seconds () - t0);
}

void
nn_resnet_set_profiling (NnResnet *m, bool enabled)
{
  const char *clock = getenv ("NN_PROFILE_CLOCK");

  m->profiling = enabled;
  m->profile_cpu = enabled && clock != NULL && strcmp (clock, "cpu") == 0;
}

void
nn_resnet_profile_reset (NnResnet *m)
{
  m->n_profile = 0;
}

const NnProfileEntry *
nn_resnet_profile (const NnResnet *m, int *n_entries)
{
  *n_entries = m->n_profile;
  return m->profile;
}

static void
parallel_zero (NnResnet *m, float *x, size_t n)
{
  Job job = { .kind = JOB_ZERO, .out = x, .n = n };
  run_job (m, &job);
}

/* ---- forward ------------------------------------------------------------- */

/* A convolution forward: split by images, or, with fewer images than threads
 * (single-film prediction), each image split by channels. */
static void
conv_forward_residual (NnResnet *m, Unit *u, const float *in, float *out, int B, bool relu,
                       const float *residual)
{
  if (u->packed != NULL && packed_pays (m, &u->shape, B))
    {
      Job pack = { .kind = JOB_PACK_WEIGHTS, .u = u };
      Job conv = { .kind = JOB_PACKED_CONV, .u = u, .B = B, .in = in, .out = out,
                   .relu = relu, .residual = residual };
      /* once, until the weights change */
      if (u->packed_version != m->weights_version)
        {
          run_job (m, &pack);
          u->packed_version = m->weights_version;
        }
      run_job (m, &conv);
      return;
    }
  if (u->winograd && winograd_pays (&u->shape, B))
    {
      /* split by tiles, which works as well for one image as for many */
      Job weights = { .kind = JOB_WINO_WEIGHTS, .u = u };
      Job conv = { .kind = JOB_WINO_FORWARD, .u = u, .B = B, .in = in, .out = out,
                   .relu = relu, .residual = residual };
      /* training: every forward (the weights were just stepped); inference:
       * once, until the weights change */
      if (m->cfg.training || !wino_u_current (m, u))
        {
          run_job (m, &weights);
          u->wino_serial = m->forward_serial;
          u->wino_version = m->weights_version;
          m->wino_owner = u;
        }
      if (u->wino_packed != NULL && wino_packed_pays (m, &u->shape, B)
          && u->wino_packed_version != m->weights_version)
        {
          Job pack = { .kind = JOB_WINO_PACK, .u = u };
          run_job (m, &pack);
          u->wino_packed_version = m->weights_version;
        }
      run_job (m, &conv);
      return;
    }
  if (u->by_rows && m->ws_per_thread >= (size_t) u->shape.in_c * u->shape.kernel_h
                                          * u->shape.kernel_w * u->shape.out_w)
    {
      Job conv = { .kind = JOB_CONV_OUTROWS, .u = u, .B = B, .in = in, .out = out,
                   .relu = relu };
      run_job (m, &conv);
      return;
    }
  if (B >= m->threads || m->ws_len < nn_conv2d_workspace (&u->shape, 1))
    {
      Job conv = { .kind = JOB_CONV_FORWARD, .u = u, .B = B, .in = in, .out = out,
                   .relu = relu };
      run_job (m, &conv);
      return;
    }
  for (int b = 0; b < B; b++)
    {
      Job im2col = { .kind = JOB_IM2COL, .u = u, .B = b, .in = in };
      Job rows = { .kind = JOB_CONV_ROWS, .u = u, .B = b, .in = in, .out = out, .relu = relu };
      if (!nn_conv_is_pointwise (&u->shape))
        run_job (m, &im2col);
      run_job (m, &rows);
    }
}

static void
conv_forward (NnResnet *m, Unit *u, const float *in, float *out, int B, bool relu)
{
  conv_forward_residual (m, u, in, out, B, relu, NULL);
}

static void
unit_forward (NnResnet *m, Unit *u, const float *in, int B, bool bn_train)
{
  if (stem_gray (m, u))
    {
      if (!m->gray.current || m->gray.version != m->weights_version)
        gray_stem_tables (m);
      Job conv = { .kind = JOB_STEM_GRAY, .u = u, .B = B, .in = in,
                   .out = m->folded ? u->out : u->conv_out, .relu = m->folded && u->relu };
      run_job (m, &conv);
      if (m->folded)
        return;
    }
  else if (m->folded)
    {
      conv_forward (m, u, in, u->out, B, u->relu);
      return;
    }
  else
    conv_forward (m, u, in, u->conv_out, B, false);
  Job bn = { .kind = bn_train ? JOB_BN_TRAIN : JOB_BN_EVAL, .u = u, .B = B, .in = u->conv_out,
             .out = u->out, .relu = u->relu };
  run_job (m, &bn);
  if (bn_train)
    *u->num_batches_tracked += 1;
}

/* The classifier: pooled (B, 8w) -> logits (B, classes). */
static void
head_forward (NnResnet *m, int B, bool train)
{
  const int in = 8 * m->cfg.width, out = m->cfg.num_classes, hid = m->cfg.head_hidden;

  if (hid == 0)
    {
      nn_linear_forward (m->logits, m->pooled, m->fc_weight, m->fc_bias, B, in, out);
      return;
    }
  size_t n = (size_t) B * hid;
  nn_linear_forward (m->hidden, m->pooled, m->h_weight, m->h_bias, B, in, hid);
  nn_relu_forward (m->hidden, n);
  if (train && m->cfg.head_dropout > 0)
    {
      if (!m->dropout_mask_given)
        {
          float keep_scale = 1.0f / (1.0f - m->cfg.head_dropout);
          for (size_t i = 0; i < n; i++)
            m->dropout_mask[i] = nn_rng_uniform (&m->dropout_rng) < m->cfg.head_dropout
                                   ? 0.0f : keep_scale;
        }
      m->dropout_mask_given = false;
      nn_dropout_forward (m->dropped, m->hidden, m->dropout_mask, n);
    }
  else
    {
      for (size_t i = 0; i < n; i++)
        m->dropout_mask[i] = 1.0f;
      memcpy (m->dropped, m->hidden, n * sizeof (float));
    }
  nn_linear_forward (m->logits, m->dropped, m->fc_weight, m->fc_bias, B, hid, out);
}

/* The activation that feeds group g: 1 layer1 (after max-pool), 2..4 the
 * previous stage's output, 5 the pooled features. */
static float *
group_input (const NnResnet *m, int group, size_t *per_image)
{
  const NnConvShape *s;
  float *x;

  if (group <= 1)
    {
      if (per_image != NULL)
        *per_image = (size_t) m->cfg.width * m->pool_h * m->pool_w;
      return m->pool_out;
    }
  if (group >= NN_GROUP_FC)
    {
      if (per_image != NULL)
        *per_image = (size_t) 8 * m->cfg.width;
      return m->pooled;
    }
  s = &m->blocks[2 * group - 3].conv2.shape;
  x = m->blocks[2 * group - 3].conv2.out;
  if (per_image != NULL)
    *per_image = (size_t) s->out_c * s->out_h * s->out_w;
  return x;
}

const float *
nn_resnet_group_input (const NnResnet *m, int group, size_t *per_image)
{
  return group_input (m, group, per_image);
}

static void
forward_from (NnResnet *m, int group, const float *act, int batch, bool train)
{
  const int B = batch;
  const float *x;

  train = train && m->cfg.training && !m->folded;
  m->forward_serial++;
  m->last_batch = B;
  m->last_train = train;

  if (group <= NN_GROUP_STEM)
    {
      m->last_input = act;
      unit_forward (m, &m->stem, act, B, train && m->frozen_stages <= NN_GROUP_STEM);
      Job pool = { .kind = JOB_MAXPOOL, .B = B, .in = m->stem.out, .out = m->pool_out,
                   .train = train };
      run_job (m, &pool);
      group = 1;
    }
  else
    {
      /* start from a cached activation: put it where the next layer reads it */
      size_t per_image;
      float *dst = group_input (m, group, &per_image);
      if (dst != act)
        memcpy (dst, act, (size_t) B * per_image * sizeof (float));
    }

  if (group < NN_GROUP_FC)
    {
      x = group_input (m, group, NULL);
      for (int i = 2 * (group - 1); i < 8; i++)
        {
          Block *b = &m->blocks[i];
          bool bn_train = train && m->frozen_stages <= b->group;
          const NnConvShape *s = &b->conv2.shape;
          size_t n = (size_t) B * s->out_c * s->out_h * s->out_w;

          unit_forward (m, &b->conv1, x, B, bn_train);
          if (m->folded && ((b->conv2.packed != NULL && packed_pays (m, &b->conv2.shape, B))
                            || (b->conv2.winograd && winograd_pays (&b->conv2.shape, B))))
            {
              /* inference, BatchNorm folded: the shortcut added and the ReLU
               * applied as Winograd or the packed GEMM writes conv2's output
               * rows (here the
               * downsample has its own buffer; training shares conv1's) */
              if (b->has_down)
                unit_forward (m, &b->down, x, B, false);
              conv_forward_residual (m, &b->conv2, b->conv1.out, b->conv2.out, B, true,
                                     b->has_down ? b->down.out : x);
              x = b->conv2.out;
              continue;
            }
          unit_forward (m, &b->conv2, b->conv1.out, B, bn_train);
          if (b->has_down)
            unit_forward (m, &b->down, x, B, bn_train);
          Job add = { .kind = JOB_ADD_RELU, .out = b->conv2.out,
                      .in = b->has_down ? b->down.out : x, .n = n };
          run_job (m, &add);
          x = b->conv2.out;
        }
      Job avg = { .kind = JOB_AVGPOOL, .B = B, .in = x, .out = m->pooled };
      run_job (m, &avg);
    }
  double t0 = m->profiling ? now_seconds () : 0;
  head_forward (m, B, train);
  if (m->profiling)
    {
      NnProfileEntry *e = profile_entry (m, "fc");
      if (e != NULL)
        {
          e->forward_seconds += now_seconds () - t0;
          e->calls++;
        }
    }
}

void
nn_resnet_forward (NnResnet *m, const float *in, int batch, bool train)
{
  forward_from (m, NN_GROUP_STEM, in, batch, train);
}

void
nn_resnet_forward_from (NnResnet *m, int group, const float *act, int batch, bool train)
{
  if (group < NN_GROUP_STEM)
    group = NN_GROUP_STEM;
  if (group > NN_GROUP_FC)
    group = NN_GROUP_FC;
  forward_from (m, group, act, batch, train);
}

double
nn_resnet_loss (NnResnet *m, const int *labels, const float *class_weight)
{
  const int B = m->last_batch, C = m->cfg.num_classes;
  double loss = nn_softmax_cross_entropy_forward (m->probs, m->logits, labels, class_weight,
                                                  B, C);

  if (m->dlogits != NULL)
    nn_softmax_cross_entropy_backward (m->dlogits, m->probs, labels, class_weight, B, C);
  return loss;
}

void
nn_resnet_softmax (NnResnet *m)
{
  const int B = m->last_batch, C = m->cfg.num_classes;

  for (int b = 0; b < B; b++)
    {
      const float *z = m->logits + (size_t) b * C;
      float *p = m->probs + (size_t) b * C;
      double zmax = z[0], sum = 0;
      for (int c = 1; c < C; c++)
        if (z[c] > zmax)
          zmax = z[c];
      for (int c = 0; c < C; c++)
        sum += exp ((double) z[c] - zmax);
      for (int c = 0; c < C; c++)
        p[c] = (float) (exp ((double) z[c] - zmax) / sum);
    }
}

const float *
nn_resnet_logits (const NnResnet *m)
{
  return m->logits;
}

const float *
nn_resnet_probs (const NnResnet *m)
{
  return m->probs;
}

const float *
nn_resnet_pooled (const NnResnet *m)
{
  return m->pooled;
}

const float *
nn_resnet_feature_map (const NnResnet *m, int *channels, int *fh, int *fw)
{
  const NnConvShape *s = &m->blocks[7].conv2.shape;

  if (channels != NULL)
    *channels = s->out_c;
  if (fh != NULL)
    *fh = s->out_h;
  if (fw != NULL)
    *fw = s->out_w;
  return m->blocks[7].conv2.out;
}

const float *
nn_resnet_stage_output (const NnResnet *m, int group, int *channels, int *fh, int *fw)
{
  const NnConvShape *s;
  const float *x;

  if (group < 0 || group > 4)
    return NULL;
  if (group == 0)
    {
      if (channels != NULL)
        *channels = m->cfg.width;
      if (fh != NULL)
        *fh = m->pool_h;
      if (fw != NULL)
        *fw = m->pool_w;
      return m->pool_out;
    }
  s = &m->blocks[2 * group - 1].conv2.shape;
  x = m->blocks[2 * group - 1].conv2.out;
  if (channels != NULL)
    *channels = s->out_c;
  if (fh != NULL)
    *fh = s->out_h;
  if (fw != NULL)
    *fw = s->out_w;
  return x;
}

/* ---- backward -------------------------------------------------------------- */

void
nn_resnet_zero_grad (NnResnet *m)
{
  if (m->grad_block != NULL)
    memset (m->grad_block, 0, m->n_param_floats * sizeof (float));
}

/* din (B, IC, H, W) += the convolution's backward data pass, by Winograd */
static void
conv_backward_data_winograd (NnResnet *m, Unit *u, float *din, float *dout, int B,
                             bool accumulate)
{
  Job weights = { .kind = JOB_WINO_WEIGHTS, .u = u, .backward = true };
  Job conv = { .kind = JOB_WINO_BACKWARD, .u = u, .B = B, .din = din, .dout = dout,
               .accumulate = accumulate };
  if (!wino_u_current (m, u))
    {
      run_job (m, &weights);
      u->wino_serial = m->forward_serial;
      u->wino_version = m->weights_version;
      m->wino_owner = u;
    }
  run_job (m, &conv);
}

/* dout (B,OC,OH,OW) is d loss / d unit output *after* its ReLU (if any) has been
 * applied by the caller. Overwrites dout with d loss / d conv_out, then
 * accumulates into din (may be NULL; with din_fresh it holds nothing yet and
 * is written where that saves zeroing it) and the unit's parameter gradients. */
static void
unit_backward (NnResnet *m, Unit *u, float *din, float *dout, const float *in, int B,
               bool din_fresh)
{
  Job bn = { .kind = JOB_BN_BACKWARD, .u = u, .B = B, .in = u->conv_out, .din = dout,
             .dout = dout };
  run_job (m, &bn);
  if (din == NULL && stem_gray (m, u) && m->gray.dw_p != NULL)
    {
      /* gray films: the weight gradient from channel 0 (see NnResnet.gray) */
      Job dweight = { .kind = JOB_STEM_GRAY_DWEIGHT, .u = u, .B = B, .in = in, .dout = dout };
      run_job (m, &dweight);
      stem_gray_dweight_finish (m);
      return;
    }
  if (u->winograd && winograd_pays (&u->shape, B))
    {
      Job dweight = { .kind = JOB_WINO_DWEIGHT, .u = u, .B = B, .in = in, .dout = dout };
      Job sum = { .kind = JOB_WINO_DWEIGHT_SUM, .u = u };
      run_job (m, &dweight);
      run_job (m, &sum);
      if (din != NULL)
        conv_backward_data_winograd (m, u, din, dout, B, !din_fresh);
      return;
    }
  if (din != NULL && din_fresh)
    parallel_zero (m, din, (size_t) B * u->shape.in_c * u->shape.in_h * u->shape.in_w);
  Job conv = { .kind = JOB_CONV_BACKWARD, .u = u, .B = B, .in = in, .din = din, .dout = dout };
  run_job (m, &conv);
  if (m->threads > 1)
    {
      Job sum = { .kind = JOB_SUM_WEIGHT_GRADS, .u = u };
      run_job (m, &sum);
    }
}

/* A unit's output again where a training plan did not keep it */
static void
recompute_out (NnResnet *m, Unit *u, int B)
{
  if (!u->out_shared)
    return;
  Job job = { .kind = JOB_BN_RECOMPUTE, .u = u, .B = B };
  run_job (m, &job);
}

static void
relu_backward (NnResnet *m, float *d, const float *out, size_t n)
{
  Job job = { .kind = JOB_RELU_BACKWARD, .dout = d, .in = out, .n = n };
  run_job (m, &job);
}

void
nn_resnet_backward (NnResnet *m)
{
  const int B = m->last_batch;
  const int frozen = m->frozen_stages;
  const NnConvShape *last = &m->blocks[7].conv2.shape;
  float **g = m->grad_buf;

  if (!m->last_train || m->grad_block == NULL)
    return;

  /* classifier */
  double t_fc = m->profiling ? now_seconds () : 0;
  memset (m->dpooled, 0, (size_t) B * last->out_c * sizeof (float));
  if (m->cfg.head_hidden > 0)
    {
      const int hid = m->cfg.head_hidden;
      size_t n = (size_t) B * hid;
      memset (m->dhidden, 0, n * sizeof (float));
      nn_linear_backward (m->dhidden, m->fc_dweight, m->fc_dbias, m->dlogits, m->dropped,
                          m->fc_weight, B, hid, m->cfg.num_classes);
      nn_dropout_backward (m->dhidden, m->dhidden, m->dropout_mask, n);
      nn_relu_backward (m->dhidden, m->hidden, n);
      nn_linear_backward (frozen < NN_GROUP_FC ? m->dpooled : NULL, m->h_dweight, m->h_dbias,
                          m->dhidden, m->pooled, m->h_weight, B, last->out_c, hid);
    }
  else
    nn_linear_backward (frozen < NN_GROUP_FC ? m->dpooled : NULL, m->fc_dweight, m->fc_dbias,
                        m->dlogits, m->pooled, m->fc_weight, B, last->out_c,
                        m->cfg.num_classes);
  if (m->profiling)
    {
      NnProfileEntry *e = profile_entry (m, "fc");
      if (e != NULL)
        e->backward_seconds += now_seconds () - t_fc;
    }
  if (frozen >= NN_GROUP_FC)
    return;

  /* g[0]: d loss / d block output */
  size_t n_last = (size_t) B * last->out_c * last->out_h * last->out_w;
  parallel_zero (m, g[0], n_last);
  Job avg = { .kind = JOB_AVGPOOL_BACKWARD, .B = B, .din = g[0], .dout = m->dpooled };
  run_job (m, &avg);

  for (int i = 7; i >= 0; i--)
    {
      Block *b = &m->blocks[i];
      const float *x = i > 0 ? m->blocks[i - 1].conv2.out : m->pool_out;
      const NnConvShape *s2 = &b->conv2.shape;
      size_t n_out = (size_t) B * s2->out_c * s2->out_h * s2->out_w;
      size_t n_in = (size_t) B * b->conv1.shape.in_c * b->conv1.shape.in_h
                    * b->conv1.shape.in_w;
      size_t n_mid = (size_t) B * b->conv1.shape.out_c * b->conv1.shape.out_h
                     * b->conv1.shape.out_w;
      /* the input gradient is needed only if something before this block trains */
      bool need_din = (i > 0 ? m->blocks[i - 1].group : NN_GROUP_STEM) >= frozen;
      float *dout = g[0], *dx = g[1], *tmp = g[2];

      if (b->group < frozen)
        break;
      relu_backward (m, dout, b->conv2.out, n_out);     /* through the block's ReLU */
      if (b->has_down)
        {
          if (need_din)
            parallel_zero (m, dx, n_in);
          Job copy = { .kind = JOB_COPY, .out = tmp, .in = dout, .n = n_out };
          run_job (m, &copy);
          unit_backward (m, &b->down, need_din ? dx : NULL, tmp, x, B, false);
        }
      else if (need_din)
        {
          Job copy = { .kind = JOB_COPY, .out = dx, .in = dout, .n = n_out };
          run_job (m, &copy);                            /* identity shortcut */
        }

      recompute_out (m, &b->conv1, B);                  /* conv2's input */
      unit_backward (m, &b->conv2, tmp, dout, b->conv1.out, B, true);
      relu_backward (m, tmp, b->conv1.out, n_mid);
      unit_backward (m, &b->conv1, need_din ? dx : NULL, tmp, x, B, false);

      /* rotate: the input gradient is the next block's output gradient */
      g[0] = dx;
      g[1] = dout;
      if (!need_din)
        break;
    }

  if (frozen == NN_GROUP_STEM)
    {
      const NnConvShape *s = &m->stem.shape;
      size_t n = (size_t) B * s->out_c * s->out_h * s->out_w;
      parallel_zero (m, m->grad_stem, n);
      Job pool = { .kind = JOB_MAXPOOL_BACKWARD, .B = B, .din = m->grad_stem, .dout = g[0] };
      run_job (m, &pool);
      /* the stem's output shared this buffer: its mask comes from conv_out */
      Job relu = { .kind = JOB_BN_RELU_BACKWARD, .u = &m->stem, .B = B, .dout = m->grad_stem };
      run_job (m, &relu);
      unit_backward (m, &m->stem, NULL, m->grad_stem, m->last_input, B, false);
    }
}

/* ---- backward in evaluation mode (explanations) ----------------------------- */

/* As unit_backward, with BatchNorm's running statistics (nothing at all once
 * folded into the convolution) and no parameter gradient: dout is overwritten,
 * din (B, IC, H, W) accumulates. */
static void
unit_backward_eval (NnResnet *m, Unit *u, float *din, float *dout, const float *in, int B)
{
  if (!m->folded)
    {
      Job bn = { .kind = JOB_BN_BACKWARD_EVAL, .u = u, .B = B, .din = dout, .dout = dout };
      run_job (m, &bn);
    }
  if (u->winograd && winograd_pays (&u->shape, B))
    {
      if (din != NULL)
        conv_backward_data_winograd (m, u, din, dout, B, true);
      return;
    }
  Job conv = { .kind = JOB_CONV_BACKWARD, .u = u, .B = B, .in = in, .din = din, .dout = dout,
               .no_weight_grad = true };
  run_job (m, &conv);
}

NnStatus
nn_resnet_backward_to_group (NnResnet *m, const float *dlogits, int group, float *dact,
                             NnError *err)
{
  const int B = m->last_batch;
  const NnConvShape *last = &m->blocks[7].conv2.shape;
  float *g[3] = { m->grad_buf[0], m->grad_buf[1], m->grad_buf[2] };
  int channels, fh, fw;

  if (group < 0 || group > 4)
    return nn_error_set (err, NN_ERR_INVALID, "no stage %d: Grad-CAM needs 0..4", group);
  if (!m->cfg.training && !m->cfg.keep_activations)
    return nn_error_set (err, NN_ERR_INVALID,
                         "the model was planned for inference without keep_activations: "
                         "its activations are gone after the forward");
  if (B < 1 || m->last_train)
    return nn_error_set (err, NN_ERR_INVALID,
                         "an evaluation-mode backward needs a forward with train = false "
                         "first");

  /* classifier: dpooled (B, 8w) = d score / d pooled features */
  memset (m->dpooled, 0, (size_t) B * last->out_c * sizeof (float));
  if (m->cfg.head_hidden > 0)
    {
      const int hid = m->cfg.head_hidden;
      memset (m->dhidden, 0, (size_t) B * hid * sizeof (float));
      /* evaluation mode: dropout is the identity, fc.3's input is the ReLU's output */
      nn_linear_backward (m->dhidden, NULL, NULL, dlogits, m->hidden, m->fc_weight, B, hid,
                          m->cfg.num_classes);
      nn_relu_backward (m->dhidden, m->hidden, (size_t) B * hid);
      nn_linear_backward (m->dpooled, NULL, NULL, m->dhidden, m->pooled, m->h_weight, B,
                          last->out_c, hid);
    }
  else
    nn_linear_backward (m->dpooled, NULL, NULL, dlogits, m->pooled, m->fc_weight, B,
                        last->out_c, m->cfg.num_classes);

  /* g[0]: d score / d layer4's output */
  size_t n_last = (size_t) B * last->out_c * last->out_h * last->out_w;
  parallel_zero (m, g[0], n_last);
  Job avg = { .kind = JOB_AVGPOOL_BACKWARD, .B = B, .din = g[0], .dout = m->dpooled };
  run_job (m, &avg);

  /* the blocks after stage `group`, last first, as nn_resnet_backward does */
  for (int i = 7; i >= 2 * group; i--)
    {
      Block *b = &m->blocks[i];
      const float *x = i > 0 ? m->blocks[i - 1].conv2.out : m->pool_out;
      const NnConvShape *s2 = &b->conv2.shape;
      size_t n_out = (size_t) B * s2->out_c * s2->out_h * s2->out_w;
      size_t n_in = (size_t) B * b->conv1.shape.in_c * b->conv1.shape.in_h
                    * b->conv1.shape.in_w;
      size_t n_mid = (size_t) B * b->conv1.shape.out_c * b->conv1.shape.out_h
                     * b->conv1.shape.out_w;
      float *dout = g[0], *dx = g[1], *tmp = g[2];

      relu_backward (m, dout, b->conv2.out, n_out);     /* through the block's ReLU */
      if (b->has_down)
        {
          parallel_zero (m, dx, n_in);
          Job copy = { .kind = JOB_COPY, .out = tmp, .in = dout, .n = n_out };
          run_job (m, &copy);
          unit_backward_eval (m, &b->down, dx, tmp, x, B);
        }
      else
        {
          Job copy = { .kind = JOB_COPY, .out = dx, .in = dout, .n = n_out };
          run_job (m, &copy);                            /* identity shortcut */
        }
      parallel_zero (m, tmp, n_mid);
      recompute_out (m, &b->conv1, B);
      unit_backward_eval (m, &b->conv2, tmp, dout, b->conv1.out, B);
      relu_backward (m, tmp, b->conv1.out, n_mid);
      unit_backward_eval (m, &b->conv1, dx, tmp, x, B);
      g[0] = dx;
      g[1] = dout;
    }

  nn_resnet_stage_output (m, group, &channels, &fh, &fw);
  memcpy (dact, g[0], (size_t) B * channels * fh * fw * sizeof (float));
  return NN_OK;
}

/* ---- optimizer ------------------------------------------------------------- */

void
nn_resnet_step (NnResnet *m, const NnOptimConfig *optim, double lr)
{
  if (m->grad_block == NULL)
    return;
  m->optim_steps++;
  Job job = { .kind = JOB_OPTIM, .optim = optim, .lr = lr };
  run_job (m, &job);
  nn_resnet_weights_changed (m);
}

long
nn_resnet_optim_steps (const NnResnet *m)
{
  return m->optim_steps;
}

void
nn_resnet_set_optim_steps (NnResnet *m, long steps)
{
  m->optim_steps = steps;
}

float *
nn_resnet_optim_state (NnResnet *m, int which, size_t *n)
{
  *n = m->n_param_floats;
  return which == 0 ? m->m_block : m->v_block;
}

/* ---- inference ------------------------------------------------------------- */

static void
fold_unit (Unit *u)
{
  const NnConvShape *s = &u->shape;
  size_t per_oc = (size_t) s->in_c * s->kernel_h * s->kernel_w;

  for (int oc = 0; oc < s->out_c; oc++)
    {
      double scale = u->gamma[oc] / sqrt ((double) u->running_var[oc] + BN_EPS);
      for (size_t i = 0; i < per_oc; i++)
        u->weight[oc * per_oc + i] = (float) (u->weight[oc * per_oc + i] * scale);
      u->bias[oc] = (float) (u->beta[oc] - u->running_mean[oc] * scale);
    }
}

NnStatus
nn_resnet_fold_batchnorm (NnResnet *m, NnError *err)
{
  if (m->cfg.training)
    return nn_error_set (err, NN_ERR_INVALID,
                         "BatchNorm can be folded only into a model planned for inference");
  if (m->folded)
    return NN_OK;
  fold_unit (&m->stem);
  for (int i = 0; i < 8; i++)
    {
      fold_unit (&m->blocks[i].conv1);
      fold_unit (&m->blocks[i].conv2);
      if (m->blocks[i].has_down)
        fold_unit (&m->blocks[i].down);
    }
  m->folded = true;
  nn_resnet_weights_changed (m);
  return NN_OK;
}

NnStatus
nn_resnet_set_gray_input (NnResnet *m, const float mean[3], const float std[3], NnError *err)
{
  const NnConvShape *s = &m->stem.shape;
  const int KK = s->kernel_h * s->kernel_w;
  const int max_rows = (s->out_h < 2 * s->kernel_h ? s->out_h : 2 * s->kernel_h) + 1;
  const int max_cols = (s->out_w < 2 * s->kernel_w ? s->out_w : 2 * s->kernel_w) + 1;

  if (mean == NULL || std == NULL)
    {
      m->gray.on = false;
      return NN_OK;
    }
  if (s->in_c != 3 || s->kernel_h > 16 || s->kernel_w > 16)
    return nn_error_set (err, NN_ERR_INVALID, "gray input needs a 3-channel stem");
  for (int c = 0; c < 3; c++)
    if (!(std[c] > 0) || !isfinite (mean[c]) || !isfinite (std[c]))
      return nn_error_set (err, NN_ERR_INVALID, "gray input: std[%d] = %g is not a positive "
                           "number", c, (double) std[c]);
  if (m->gray.weight == NULL)
    {
      m->gray.weight = aligned_block ((size_t) s->out_c * (size_t) KK * sizeof (float));
      m->gray.bias = aligned_block ((size_t) s->out_c * sizeof (float));
      m->gray.corr = aligned_block ((size_t) s->out_c * (size_t) max_rows * (size_t) max_cols
                                    * sizeof (float));
      m->gray.row_class = aligned_block ((size_t) s->out_h * sizeof (int));
      m->gray.col_class = aligned_block ((size_t) s->out_w * sizeof (int));
      m->gray.row_mask = aligned_block ((size_t) (s->out_h + 1) * sizeof (unsigned));
      m->gray.col_mask = aligned_block ((size_t) (s->out_w + 1) * sizeof (unsigned));
      if (m->cfg.training)
        {
          m->gray.dw_p = aligned_block ((size_t) m->threads * s->out_c * (size_t) KK
                                        * sizeof (float));
          m->gray.dw_r = aligned_block ((size_t) m->threads * s->out_c * (size_t) max_rows
                                        * (size_t) max_cols * sizeof (double));
        }
      if (m->gray.weight == NULL || m->gray.bias == NULL || m->gray.corr == NULL
          || m->gray.row_class == NULL || m->gray.col_class == NULL
          || m->gray.row_mask == NULL || m->gray.col_mask == NULL
          || (m->cfg.training && (m->gray.dw_p == NULL || m->gray.dw_r == NULL)))
        return nn_error_set (err, NN_ERR_NOMEM, "not enough memory for the gray stem");
    }
  /* x_c = (g - mean_c) / std_c and x_0 = (g - mean_0) / std_0 give
   * x_c = (std_0 / std_c) x_0 + (mean_0 - mean_c) / std_c */
  for (int c = 0; c < 3; c++)
    {
      m->gray.a[c] = (double) std[0] / std[c];
      m->gray.b[c] = ((double) mean[0] - mean[c]) / std[c];
    }
  m->gray.on = true;
  m->gray.current = false;
  return NN_OK;
}
