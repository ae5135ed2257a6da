/* nn-layers.h — the layers of ResNet-18, each a forward/backward pair of free functions.
 *
 * Conventions (after llm.c):
 *  - Arguments go output(s), inputs, weights, then dimensions.
 *  - Tensors are NCHW float arrays; the shape comment on each pointer says which.
 *  - Backward *accumulates* into parameter gradients (dweight += ...), so the
 *    caller zeroes them once per step. Activation gradients accumulate too
 *    (din += ...), except where a function says "in place".
 *  - Nothing here allocates. Convolutions take a caller-owned workspace.
 *
 * Every function exists for float and, with an _f64 suffix, for double: the
 * double family is the same source compiled again (nn-layers-impl.h) so the
 * finite-difference gradient checks test exactly the code that trains.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int batch, in_c, in_h, in_w;
  int out_c, kernel_h, kernel_w, stride, pad;
  int out_h, out_w;
} NnConvShape;

NnConvShape nn_conv_shape (int batch, int in_c, int in_h, int in_w,
                           int out_c, int kernel, int stride, int pad);

/* A 1x1, stride-1, unpadded convolution is a plain GEMM on the input: no im2col. */
bool nn_conv_is_pointwise (const NnConvShape *s);

/* Floats of workspace one call needs when each GEMM covers `images` images. */
size_t nn_conv2d_workspace (const NnConvShape *s, int images);

#ifndef NN_CONV_GEMM_COLUMNS
#define NN_CONV_GEMM_COLUMNS 512
#endif

/* How many images one GEMM spans: enough for about NN_CONV_GEMM_COLUMNS output
 * columns, as many as fit in ws_len floats of workspace (at least 1, or 0 when
 * not even one image fits). */
int nn_conv2d_images_per_gemm (const NnConvShape *s, size_t ws_len);

/* Winograd F(2x2, 3x3) (nn-layers-impl.h): for 3x3, stride-1, pad-1 convolutions. */
bool nn_conv_is_winograd (const NnConvShape *s);
/* 2x2 output tiles in the whole batch: B * ceil(OH/2) * ceil(OW/2) */
long nn_winograd_tiles (const NnConvShape *s);
/* The stride between two of the 16 planes of a transform of `floats` floats:
 * weights (16, OC, C) are 16 * nn_winograd_plane (OC * C) floats. */
size_t nn_winograd_plane (size_t floats);
/* Floats of workspace for a chunk of `tiles` tiles of a C -> OC convolution. */
size_t nn_winograd_workspace (int C, int OC, int tiles);
/* Tiles per chunk (the columns of each of the 16 GEMMs) that ws_len floats allow */
long nn_winograd_chunk (int C, int OC, size_t ws_len);

#ifndef NN_WINOGRAD_CHUNK_BYTES
#define NN_WINOGRAD_CHUNK_BYTES (1L << 20)
#endif
#ifndef NN_WINOGRAD_MIN_TILES
#define NN_WINOGRAD_MIN_TILES 128
#endif

#define NN_DECLARE_LAYERS(real, sfx)                                                     \
  /* out (B,OC,OH,OW) = conv (in (B,C,H,W), weight (OC,C,KH,KW)) + bias (OC) or 0, */ \
  /* then max(out, 0) when relu */                                                     \
  void nn_conv2d_forward##sfx (real *out, const real *in, const real *weight,          \
                               const real *bias, bool relu, const NnConvShape *s,      \
                               real *ws, size_t ws_len);                               \
  /* col (K, ldc) rows of input channels [c0, c1) of one image in (C,H,W), at column */ \
  /* col_offset: im2col split across threads */                                        \
  void nn_im2col_channels##sfx (real *col, size_t ldc, size_t col_offset,              \
                                const real *in, const NnConvShape *s, int c0, int c1); \
  /* out rows [oc0, oc1) of one image (OC, OH*OW) from its columns (K, OH*OW) */       \
  void nn_conv2d_forward_rows##sfx (real *out, const real *col, const real *weight,    \
                                    const real *bias, bool relu,                       \
                                    const NnConvShape *s, int oc0, int oc1);           \
  /* out rows [oh0, oh1) of one image (OC, OH, OW) = conv (in (C,H,W)), + bias, */  \
  /* relu, im2col'd in chunks of rows whose columns fit ws_len floats */             \
  void nn_conv2d_forward_outrows##sfx (real *out, const real *in, const real *weight,  \
                                       const real *bias, bool relu,                   \
                                       const NnConvShape *s, int oh0, int oh1,        \
                                       real *ws, size_t ws_len);                      \
  /* Winograd: u (16, OC, C) = G g G^T for weight rows [oc0, oc1) of (OC, C, 3, 3), */ \
  /* its planes nn_winograd_plane (OC * C) apart */                                    \
  void nn_winograd_weights##sfx (real *u, const real *weight, int OC, int C, int oc0,  \
                                 int oc1);                                             \
  /* out (B,OC,H,W) (=, or += with accumulate) = 3x3 pad-1 conv of in (B,C,H,W) on */  \
  /* tiles [t0, t1), from u (16,OC,C); u_flipped: u is (16,C,OC) from the forward */   \
  /* convolution OC -> C, and this is its backward data pass. Then + bias (OC) or */   \
  /* nothing, and max(0, .) when relu. Chunks of tiles fill ws. */                     \
  void nn_winograd_conv##sfx (real *out, const real *in, const real *u, bool u_flipped, \
                              const real *bias, bool relu, bool accumulate, int C,     \
                              int OC, int H, int W, long t0, long t1, real *ws,        \
                              size_t ws_len);                                          \
  /* The same for output channels [oc0, oc1) only: a split across threads when */  \
  /* the batch has few tiles (every thread transforms the same input tiles); */      \
  /* residual (B,OC,H,W) or NULL is added after the bias, before the ReLU */         \
  void nn_winograd_conv_oc##sfx (real *out, const real *in, const real *u,             \
                                 bool u_flipped, const real *bias,                     \
                                 const real *residual, bool relu,                      \
                                 bool accumulate, int C, int OC, int H, int W,         \
                                 long t0, long t1, int oc0, int oc1, real *ws,         \
                                 size_t ws_len);                                       \
  /* Winograd weight gradient, in two steps: du (16,OC,C), planes as u's, += the  */ \
  /* transformed gradient over tiles [t0, t1) of in (B,C,H,W), dout (B,OC,H,W); */    \
  /* then dweight rows [oc0, oc1) += G^T (the sum of n_du such du) G */              \
  void nn_winograd_dweight_tiles##sfx (real *du, const real *in, const real *dout,     \
                                       int C, int OC, int H, int W, long t0, long t1,  \
                                       real *ws, size_t ws_len);                       \
  void nn_winograd_dweight_finish##sfx (real *dweight, const real *const *du,          \
                                        int n_du, int OC, int C, int oc0, int oc1);    \
  /* din (B,C,H,W) += ...; dweight (OC,C,KH,KW) += ...; either may be NULL */         \
  void nn_conv2d_backward##sfx (real *din, real *dweight, const real *dout,            \
                                const real *in, const real *weight,                    \
                                const NnConvShape *s, real *ws, size_t ws_len);        \
  /* Training mode: batch statistics; updates running stats as PyTorch does. */       \
  /* out, in (B,C,HW); save_mean, save_invstd, running_* (C) */                        \
  void nn_batchnorm_forward_train##sfx (real *out, real *save_mean, real *save_invstd, \
                                        real *running_mean, real *running_var,         \
                                        const real *in, const real *gamma,             \
                                        const real *beta, int B, int C, int HW,        \
                                        double momentum, double eps);                  \
  /* The same for channels [c0, c1) only, with max(y, 0) fused when relu; alpha,  */ \
  /* shift (C) get the y = x * alpha + shift applied, unless NULL */                   \
  void nn_batchnorm_forward_train_channels##sfx (                                      \
      real *out, real *save_mean, real *save_invstd, real *running_mean,               \
      real *running_var, const real *in, const real *gamma, const real *beta, int B,   \
      int C, int HW, int c0, int c1, bool relu, double momentum, double eps,           \
      real *alpha, real *shift);                                                       \
  void nn_batchnorm_forward_eval_channels##sfx (                                       \
      real *out, const real *in, const real *gamma, const real *beta,                  \
      const real *running_mean, const real *running_var, int B, int C, int HW, int c0, \
      int c1, bool relu, double eps, real *alpha, real *shift);                        \
  /* out = in * alpha + shift (then max(0, .)) for channels [c0, c1): the output   */ \
  /* of a BatchNorm forward recomputed exactly from its alpha and shift */             \
  void nn_batchnorm_apply_channels##sfx (real *out, const real *in, const real *alpha, \
                                         const real *shift, int B, int C, int HW,      \
                                         int c0, int c1, bool relu);                   \
  /* d *= (in * alpha + shift > 0), in place: ReLU's backward from BatchNorm's input */ \
  void nn_batchnorm_relu_backward_channels##sfx (real *d, const real *in,              \
                                                 const real *alpha, const real *shift, \
                                                 int B, int C, int HW, int c0, int c1); \
  void nn_batchnorm_backward_channels##sfx (                                           \
      real *din, real *dgamma, real *dbeta, const real *dout, const real *in,          \
      const real *save_mean, const real *save_invstd, const real *gamma, int B, int C, \
      int HW, int c0, int c1);                                                         \
  /* Evaluation mode: running statistics. out may alias in. */                         \
  void nn_batchnorm_forward_eval##sfx (real *out, const real *in, const real *gamma,   \
                                       const real *beta, const real *running_mean,     \
                                       const real *running_var, int B, int C, int HW,  \
                                       double eps);                                    \
  /* din (B,C,HW) = ... (overwritten; may alias dout); dgamma, dbeta (C) += ... */    \
  void nn_batchnorm_backward##sfx (real *din, real *dgamma, real *dbeta,               \
                                   const real *dout, const real *in,                   \
                                   const real *save_mean, const real *save_invstd,     \
                                   const real *gamma, int B, int C, int HW);           \
  /* Evaluation mode: din = dout * gamma / sqrt(running_var + eps) (in place ok). */   \
  void nn_batchnorm_backward_eval##sfx (real *din, const real *dout,                   \
                                        const real *gamma, const real *running_var,    \
                                        int B, int C, int HW, double eps);             \
  /* x = max(x, 0), in place */                                                        \
  void nn_relu_forward##sfx (real *x, size_t n);                                       \
  /* d *= (out > 0), in place; out is the ReLU's output */                             \
  void nn_relu_backward##sfx (real *d, const real *out, size_t n);                     \
  /* a = max(a + b, 0), in place: the end of a residual block */                       \
  void nn_add_relu_forward##sfx (real *a, const real *b, size_t n);                    \
  /* out (B,C,OH,OW), argmax (B,C,OH,OW) index into the input plane or NULL when  */ \
  /* no backward follows; in (B,C,H,W) */                                              \
  void nn_maxpool2d_forward##sfx (real *out, int32_t *argmax, const real *in,          \
                                  int B, int C, int H, int W, int kernel, int stride,  \
                                  int pad, int OH, int OW);                            \
  /* din (B,C,H,W) += ... */                                                           \
  void nn_maxpool2d_backward##sfx (real *din, const real *dout, const int32_t *argmax, \
                                   int B, int C, int H, int W, int OH, int OW);        \
  /* out (B,C) = mean of in (B,C,HW) over HW */                                        \
  void nn_avgpool_forward##sfx (real *out, const real *in, int B, int C, int HW);      \
  /* din (B,C,HW) += dout (B,C) / HW */                                                \
  void nn_avgpool_backward##sfx (real *din, const real *dout, int B, int C, int HW);   \
  /* out (B,OUT) = in (B,IN) weight^T (IN,OUT) + bias (OUT); bias may be NULL */     \
  void nn_linear_forward##sfx (real *out, const real *in, const real *weight,          \
                               const real *bias, int B, int IN, int OUT);              \
  /* din (B,IN) +=, dweight (OUT,IN) +=, dbias (OUT) +=; any may be NULL */           \
  void nn_linear_backward##sfx (real *din, real *dweight, real *dbias,                 \
                                const real *dout, const real *in, const real *weight,  \
                                int B, int IN, int OUT);                               \
  /* probs (B,C) = softmax(logits); returns the cross-entropy, the mean over the    */ \
  /* batch or, with class_weight (C), PyTorch's weighted mean sum(w_y l)/sum(w_y).  */ \
  double nn_softmax_cross_entropy_forward##sfx (real *probs, const real *logits,       \
                                                const int *labels,                     \
                                                const real *class_weight, int B,       \
                                                int C);                                \
  /* dlogits (B,C) = d loss / d logits (overwritten), from the forward's probs */      \
  void nn_softmax_cross_entropy_backward##sfx (real *dlogits, const real *probs,       \
                                               const int *labels,                      \
                                               const real *class_weight, int B,        \
                                               int C);                                 \
  /* out = in * mask, where mask holds 0 or 1/(1-p) per element (in place ok) */      \
  void nn_dropout_forward##sfx (real *out, const real *in, const real *mask,           \
                                size_t n);                                             \
  /* din = dout * mask (overwritten; in place ok) */                                   \
  void nn_dropout_backward##sfx (real *din, const real *dout, const real *mask,        \
                                 size_t n);

NN_DECLARE_LAYERS (float, )
NN_DECLARE_LAYERS (double, _f64)

/* nn_winograd_conv_oc's forward (u not flipped, out =) with the 16 GEMMs on
 * u's planes packed for nn_packed_gemm (nn-packed.h), nn_packed_len (OC, C)
 * floats apart; oc0 and oc1 on panel boundaries (oc1 may be OC); scratch
 * holds nn_packed_scratch_len (t1 - t0) floats. Inference only. */
void nn_winograd_conv_packed (float *out, const float *in, const float *u_packed,
                              float *scratch, const float *bias, const float *residual,
                              bool relu, int C, int OC, int H, int W, long t0, long t1,
                              int oc0, int oc1, float *ws, size_t ws_len);
