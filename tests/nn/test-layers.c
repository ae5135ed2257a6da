/* Layers against direct, obviously correct reference loops. */
#include "config.h"

#include <string.h>

#include "nn-layers.h"
#include "test-common.h"

/* The textbook six-loop convolution. */
static void
conv_reference (float *out, const float *in, const float *w, const float *bias,
                const NnConvShape *s)
{
  for (int b = 0; b < s->batch; b++)
    for (int oc = 0; oc < s->out_c; oc++)
      for (int oh = 0; oh < s->out_h; oh++)
        for (int ow = 0; ow < s->out_w; ow++)
          {
            double acc = bias ? bias[oc] : 0;
            for (int c = 0; c < s->in_c; c++)
              for (int kh = 0; kh < s->kernel_h; kh++)
                for (int kw = 0; kw < s->kernel_w; kw++)
                  {
                    int ih = oh * s->stride - s->pad + kh, iw = ow * s->stride - s->pad + kw;
                    if (ih < 0 || iw < 0 || ih >= s->in_h || iw >= s->in_w)
                      continue;
                    acc += (double) in[((b * s->in_c + c) * s->in_h + ih) * s->in_w + iw]
                           * w[((oc * s->in_c + c) * s->kernel_h + kh) * s->kernel_w + kw];
                  }
            out[((b * s->out_c + oc) * s->out_h + oh) * s->out_w + ow] = (float) acc;
          }
}

static void
check_conv (int B, int C, int H, int W, int OC, int K, int stride, int pad, size_t ws_len)
{
  NnConvShape s = nn_conv_shape (B, C, H, W, OC, K, stride, pad);
  size_t n_in = (size_t) B * C * H * W, n_w = (size_t) OC * C * K * K;
  size_t n_out = (size_t) B * OC * s.out_h * s.out_w;
  float *in = g_new (float, n_in), *w = g_new (float, n_w), *bias = g_new (float, OC);
  float *out = g_new (float, n_out), *ref = g_new (float, n_out);
  float *ws = g_new0 (float, ws_len + 1);

  fill_uniform (in, n_in, 1, -1, 1);
  fill_uniform (w, n_w, 2, -1, 1);
  fill_uniform (bias, OC, 3, -1, 1);
  conv_reference (ref, in, w, bias, &s);
  nn_conv2d_forward (out, in, w, bias, false, &s, ws, ws_len);
  g_assert_cmpfloat (rel_error (out, ref, n_out), <, 1e-5);
  /* by output rows: two ranges per image (as two threads), chunks of at most
   * two rows' columns, with and without ReLU */
  for (int relu = 0; relu < 2; relu++)
    {
      size_t row_floats = (size_t) C * K * K * s.out_w;
      size_t in_img = (size_t) C * H * W, out_img = (size_t) OC * s.out_h * s.out_w;
      int half = s.out_h / 2;
      memset (out, 0, n_out * sizeof (float));
      for (int b = 0; b < B; b++)
        {
          nn_conv2d_forward_outrows (out + b * out_img, in + b * in_img, w, bias, relu, &s, 0,
                                     half, ws, 2 * row_floats);
          nn_conv2d_forward_outrows (out + b * out_img, in + b * in_img, w, bias, relu, &s,
                                     half, s.out_h, ws, 2 * row_floats);
        }
      for (size_t i = 0; i < n_out; i++)
        {
          float r = relu && ref[i] < 0 ? 0 : ref[i];
          g_assert_cmpfloat (fabsf (out[i] - r), <=, 1e-5f * (fabsf (r) + 1));
        }
    }

  /* Backward against the adjoint identity: <dout, conv(in)> is linear in in and w,
   * so <din, in> = <dout, conv(in; w)> = <dw, w> for a bias-free convolution. */
  float *dout = g_new (float, n_out), *din = g_new0 (float, n_in), *dw = g_new0 (float, n_w);
  fill_uniform (dout, n_out, 4, -1, 1);
  conv_reference (ref, in, w, NULL, &s);
  double lhs = 0, rhs_in = 0, rhs_w = 0;
  for (size_t i = 0; i < n_out; i++)
    lhs += (double) dout[i] * ref[i];
  nn_conv2d_backward (din, dw, dout, in, w, &s, ws, ws_len);
  for (size_t i = 0; i < n_in; i++)
    rhs_in += (double) din[i] * in[i];
  for (size_t i = 0; i < n_w; i++)
    rhs_w += (double) dw[i] * w[i];
  g_assert_cmpfloat (fabs (lhs - rhs_in), <, 1e-3 * (fabs (lhs) + 1));
  g_assert_cmpfloat (fabs (lhs - rhs_w), <, 1e-3 * (fabs (lhs) + 1));

  /* accumulation: a second backward doubles the gradients */
  float *din2 = g_memdup2 (din, n_in * sizeof (float));
  nn_conv2d_backward (din, NULL, dout, in, w, &s, ws, ws_len);
  for (size_t i = 0; i < n_in; i++)
    g_assert_cmpfloat (fabsf (din[i] - 2 * din2[i]), <=, 1e-4f * (fabsf (din2[i]) + 1));

  g_free (in); g_free (w); g_free (bias); g_free (out); g_free (ref); g_free (ws);
  g_free (dout); g_free (din); g_free (dw); g_free (din2);
}

static void
test_conv_shapes (void)
{
  /* kernel, stride and pad combinations ResNet uses and some it does not */
  check_conv (2, 3, 17, 15, 4, 7, 2, 3, 1 << 20);   /* the stem, odd sizes */
  check_conv (3, 5, 9, 9, 6, 3, 1, 1, 1 << 20);
  check_conv (3, 5, 9, 9, 6, 3, 2, 1, 1 << 20);
  check_conv (2, 4, 8, 8, 3, 1, 2, 0, 1 << 20);     /* the downsample */
  check_conv (2, 4, 8, 8, 3, 1, 1, 0, 1 << 20);     /* pointwise: no im2col */
  check_conv (2, 3, 6, 7, 2, 5, 3, 2, 1 << 20);
  check_conv (1, 2, 4, 4, 2, 3, 1, 0, 1 << 20);
}

static void
test_conv_workspace_chunks (void)
{
  NnConvShape s = nn_conv_shape (5, 3, 10, 10, 4, 3, 1, 1);
  size_t one = nn_conv2d_workspace (&s, 1), all = nn_conv2d_workspace (&s, 5);

  g_assert_cmpint (nn_conv2d_images_per_gemm (&s, all), ==, 5);
  g_assert_cmpint (nn_conv2d_images_per_gemm (&s, nn_conv2d_workspace (&s, 2)), ==, 2);
  g_assert_cmpint (nn_conv2d_images_per_gemm (&s, one), ==, 1);
  g_assert_cmpint (nn_conv2d_images_per_gemm (&s, one - 1), ==, 0);
  /* the same numbers whether one GEMM covers 1, 2 or 5 images */
  check_conv (5, 3, 10, 10, 4, 3, 1, 1, one);
  check_conv (5, 3, 10, 10, 4, 3, 1, 1, nn_conv2d_workspace (&s, 2));
  check_conv (5, 3, 10, 10, 4, 3, 1, 1, all);
}

/* Winograd F(2x2, 3x3) against the six-loop reference (forward) and im2col
 * (backward data), split into two tile ranges and chunks of a few tiles as the
 * model's threads split it. Its transforms add a few additions per output, so
 * it rounds differently from im2col: measured on these sizes, the norm-wise
 * relative error is 2.2e-7 forward and 3.6e-7 backward in float; 1e-5 is the
 * bound check_conv holds im2col to. */
static double
winograd_forward_error (int B, int C, int H, int W, int OC, bool relu, size_t chunk_tiles)
{
  NnConvShape s = nn_conv_shape (B, C, H, W, OC, 3, 1, 1);
  size_t n_in = (size_t) B * C * H * W, n_w = (size_t) OC * C * 9;
  size_t n_out = (size_t) B * OC * H * W;
  long tiles = nn_winograd_tiles (&s);
  size_t ws_len = nn_winograd_workspace (C, OC, (int) chunk_tiles);
  float *in = g_new (float, n_in), *w = g_new (float, n_w), *bias = g_new (float, OC);
  float *out = g_new (float, n_out), *ref = g_new (float, n_out);
  float *u = g_new (float, 16 * nn_winograd_plane (n_w / 9)), *ws = g_new (float, ws_len);

  g_assert_true (nn_conv_is_winograd (&s));
  fill_uniform (in, n_in, 11, -1, 1);
  fill_uniform (w, n_w, 12, -1, 1);
  fill_uniform (bias, OC, 13, -1, 1);
  conv_reference (ref, in, w, bias, &s);
  if (relu)
    for (size_t i = 0; i < n_out; i++)
      ref[i] = ref[i] > 0 ? ref[i] : 0;
  /* weights in two row ranges, tiles in two ranges: as two threads would */
  nn_winograd_weights (u, w, OC, C, 0, OC / 2);
  nn_winograd_weights (u, w, OC, C, OC / 2, OC);
  nn_winograd_conv (out, in, u, false, bias, relu, false, C, OC, H, W, 0, tiles / 3, ws, ws_len);
  nn_winograd_conv (out, in, u, false, bias, relu, false, C, OC, H, W, tiles / 3, tiles, ws,
                    ws_len);
  double e = rel_error (out, ref, n_out);
  /* split by output channels instead: every tile, two channel ranges */
  memset (out, 0, n_out * sizeof (float));
  nn_winograd_conv_oc (out, in, u, false, bias, NULL, relu, false, C, OC, H, W, 0, tiles, 0,
                       OC / 2, ws, ws_len);
  nn_winograd_conv_oc (out, in, u, false, bias, NULL, relu, false, C, OC, H, W, 0, tiles,
                       OC / 2, OC, ws, ws_len);
  e = fmax (e, rel_error (out, ref, n_out));
  /* a residual added before the ReLU, as at the end of a residual block, in
   * two tile ranges (as two threads) */
  float *res = g_new (float, n_out);
  fill_uniform (res, n_out, 18, -1, 1);
  conv_reference (ref, in, w, bias, &s);
  for (size_t i = 0; i < n_out; i++)
    {
      float v = ref[i] + res[i];
      ref[i] = relu && v < 0 ? 0 : v;
    }
  nn_winograd_conv_oc (out, in, u, false, bias, res, relu, false, C, OC, H, W, 0, tiles / 3, 0,
                       OC, ws, ws_len);
  nn_winograd_conv_oc (out, in, u, false, bias, res, relu, false, C, OC, H, W, tiles / 3,
                       tiles, 0, OC, ws, ws_len);
  e = fmax (e, rel_error (out, ref, n_out));
  g_free (res);

  g_free (in); g_free (w); g_free (bias); g_free (out); g_free (ref); g_free (u); g_free (ws);
  return e;
}

/* din += Winograd's backward data against im2col + col2im, and dweight += its
 * weight gradient (over two tile ranges, as two threads) against im2col, from
 * the same start; returns the worse of the two, the weight gradient's in *dw_error */
static double
winograd_backward_error (int B, int C, int H, int W, int OC, size_t chunk_tiles,
                         double *dw_error)
{
  NnConvShape s = nn_conv_shape (B, C, H, W, OC, 3, 1, 1);
  size_t n_in = (size_t) B * C * H * W, n_w = (size_t) OC * C * 9;
  size_t n_out = (size_t) B * OC * H * W;
  long tiles = nn_winograd_tiles (&s);
  size_t ws_len = nn_winograd_workspace (OC, C, (int) chunk_tiles);
  size_t im2col_len = nn_conv2d_workspace (&s, B);
  float *in = g_new (float, n_in), *w = g_new (float, n_w), *dout = g_new (float, n_out);
  float *din = g_new (float, n_in), *ref = g_new (float, n_in);
  float *u = g_new (float, 16 * nn_winograd_plane (n_w / 9)), *ws = g_new (float, ws_len);
  float *ws2 = g_new (float, im2col_len);

  fill_uniform (in, n_in, 14, -1, 1);
  fill_uniform (w, n_w, 15, -1, 1);
  fill_uniform (dout, n_out, 16, -1, 1);
  fill_uniform (din, n_in, 17, -1, 1);           /* backward accumulates */
  memcpy (ref, din, n_in * sizeof (float));
  nn_conv2d_backward (ref, NULL, dout, in, w, &s, ws2, im2col_len);
  nn_winograd_weights (u, w, OC, C, 0, OC);
  nn_winograd_conv (din, dout, u, true, NULL, false, true, OC, C, H, W, 0, tiles / 2, ws,
                    ws_len);
  nn_winograd_conv (din, dout, u, true, NULL, false, true, OC, C, H, W, tiles / 2, tiles, ws,
                    ws_len);
  double e = rel_error (din, ref, n_in);
  /* split by the channels of din instead */
  fill_uniform (din, n_in, 17, -1, 1);
  nn_winograd_conv_oc (din, dout, u, true, NULL, NULL, false, true, OC, C, H, W, 0, tiles, 0,
                       C / 2, ws, ws_len);
  nn_winograd_conv_oc (din, dout, u, true, NULL, NULL, false, true, OC, C, H, W, 0, tiles,
                       C / 2, C, ws, ws_len);
  e = fmax (e, rel_error (din, ref, n_in));

  size_t du_len = 16 * nn_winograd_plane ((size_t) OC * C);
  float *du0 = g_new0 (float, du_len), *du1 = g_new0 (float, du_len);
  float *dw = g_new (float, n_w), *dw_ref = g_new (float, n_w);
  fill_uniform (dw, n_w, 19, -1, 1);
  memcpy (dw_ref, dw, n_w * sizeof (float));
  nn_conv2d_backward (NULL, dw_ref, dout, in, w, &s, ws2, im2col_len);
  nn_winograd_dweight_tiles (du0, in, dout, C, OC, H, W, 0, tiles / 2, ws, ws_len);
  nn_winograd_dweight_tiles (du1, in, dout, C, OC, H, W, tiles / 2, tiles, ws, ws_len);
  const float *du[2] = { du0, du1 };
  nn_winograd_dweight_finish (dw, du, 2, OC, C, 0, OC / 2);
  nn_winograd_dweight_finish (dw, du, 2, OC, C, OC / 2, OC);
  *dw_error = rel_error (dw, dw_ref, n_w);

  g_free (in); g_free (w); g_free (dout); g_free (din); g_free (ref); g_free (u); g_free (ws);
  g_free (ws2); g_free (du0); g_free (du1); g_free (dw); g_free (dw_ref);
  return e;
}

static void
test_winograd (void)
{
  /* odd sizes, batch 1 and 3, channels not multiples of 4, a chunk of 5 tiles */
  static const int cases[][5] = {
    { 1, 3, 7, 9, 5 }, { 3, 5, 9, 9, 6 }, { 3, 6, 11, 5, 7 }, { 1, 1, 1, 1, 1 },
    { 3, 7, 2, 3, 2 }, { 1, 13, 14, 15, 11 }, { 2, 64, 12, 12, 64 },
  };
  double worst_f = 0, worst_b = 0, worst_w = 0, e_w;

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const int *c = cases[i];
      for (int relu = 0; relu < 2; relu++)
        worst_f = fmax (worst_f, winograd_forward_error (c[0], c[1], c[2], c[3], c[4], relu, 5));
      worst_b = fmax (worst_b, winograd_backward_error (c[0], c[1], c[2], c[3], c[4], 5, &e_w));
      worst_w = fmax (worst_w, e_w);
    }
  /* one chunk for the whole batch */
  worst_f = fmax (worst_f, winograd_forward_error (3, 5, 9, 9, 6, false, 1000));
  worst_b = fmax (worst_b, winograd_backward_error (3, 5, 9, 9, 6, 1000, &e_w));
  worst_w = fmax (worst_w, e_w);
  g_test_message ("winograd float: forward relative error %.3g, backward data %.3g, "
                  "weight gradient %.3g", worst_f, worst_b, worst_w);
  g_assert_cmpfloat (worst_f, <, 1e-5);
  g_assert_cmpfloat (worst_b, <, 1e-5);
  g_assert_cmpfloat (worst_w, <, 1e-5);
}

/* The same source compiled for double: exact up to double rounding. */
static void
test_winograd_f64 (void)
{
  enum { B = 3, C = 5, H = 9, W = 7, OC = 6 };
  NnConvShape s = nn_conv_shape (B, C, H, W, OC, 3, 1, 1);
  size_t n_in = (size_t) B * C * H * W, n_w = (size_t) OC * C * 9;
  size_t n_out = (size_t) B * OC * H * W;
  long tiles = nn_winograd_tiles (&s);
  size_t ws_len = nn_winograd_workspace (C, OC, 4), im2col_len = nn_conv2d_workspace (&s, B);
  double *in = g_new (double, n_in), *w = g_new (double, n_w), *u = g_new (double, 16 * nn_winograd_plane (C * OC));
  double *out = g_new (double, n_out), *ref = g_new (double, n_out);
  double *din = g_new0 (double, n_in), *dref = g_new0 (double, n_in);
  double *ws = g_new (double, ws_len), *ws2 = g_new (double, im2col_len);
  GRand *r = g_rand_new_with_seed (18);
  double worst_f = 0, worst_b = 0, scale_f = 0, scale_b = 0;

  for (size_t i = 0; i < n_in; i++)
    in[i] = g_rand_double_range (r, -1, 1);
  for (size_t i = 0; i < n_w; i++)
    w[i] = g_rand_double_range (r, -1, 1);
  nn_conv2d_forward_f64 (ref, in, w, NULL, false, &s, ws2, im2col_len);
  nn_winograd_weights_f64 (u, w, OC, C, 0, OC);
  nn_winograd_conv_f64 (out, in, u, false, NULL, false, false, C, OC, H, W, 0, tiles, ws, ws_len);
  for (size_t i = 0; i < n_out; i++)
    {
      worst_f = fmax (worst_f, fabs (out[i] - ref[i]));
      scale_f = fmax (scale_f, fabs (ref[i]));
    }
  /* backward data with out as the output gradient */
  nn_conv2d_backward_f64 (dref, NULL, out, in, w, &s, ws2, im2col_len);
  nn_winograd_conv_f64 (din, out, u, true, NULL, false, true, OC, C, H, W, 0, tiles, ws, ws_len);
  for (size_t i = 0; i < n_in; i++)
    {
      worst_b = fmax (worst_b, fabs (din[i] - dref[i]));
      scale_b = fmax (scale_b, fabs (dref[i]));
    }
  /* weight gradient with out as the output gradient, in one range */
  size_t du_len = 16 * nn_winograd_plane ((size_t) OC * C);
  double *du = g_new0 (double, du_len), *dw = g_new0 (double, n_w), *dw_ref = g_new0 (double, n_w);
  double worst_w = 0, scale_w = 0;
  const double *dus[1] = { du };
  nn_conv2d_backward_f64 (NULL, dw_ref, out, in, w, &s, ws2, im2col_len);
  nn_winograd_dweight_tiles_f64 (du, in, out, C, OC, H, W, 0, tiles, ws, ws_len);
  nn_winograd_dweight_finish_f64 (dw, dus, 1, OC, C, 0, OC);
  for (size_t i = 0; i < n_w; i++)
    {
      worst_w = fmax (worst_w, fabs (dw[i] - dw_ref[i]));
      scale_w = fmax (scale_w, fabs (dw_ref[i]));
    }
  g_test_message ("winograd double: forward relative error %.3g, backward data %.3g, "
                  "weight gradient %.3g", worst_f / scale_f, worst_b / scale_b,
                  worst_w / scale_w);
  g_assert_cmpfloat (worst_f / scale_f, <, 1e-13);
  g_assert_cmpfloat (worst_b / scale_b, <, 1e-13);
  g_assert_cmpfloat (worst_w / scale_w, <, 1e-13);
  g_free (du); g_free (dw); g_free (dw_ref);
  g_rand_free (r);
  g_free (in); g_free (w); g_free (u); g_free (out); g_free (ref); g_free (din); g_free (dref);
  g_free (ws); g_free (ws2);
}

static void
test_batchnorm_train (void)
{
  enum { B = 3, C = 2, HW = 5 };
  float in[B * C * HW], out[B * C * HW], mean[C], invstd[C];
  float rm[C] = { 0.5f, -1 }, rv[C] = { 2, 0.5f }, gamma[C] = { 1.5f, -0.5f }, beta[C] = { 0.1f, 2 };
  const int n = B * HW;

  fill_uniform (in, G_N_ELEMENTS (in), 5, -3, 3);
  nn_batchnorm_forward_train (out, mean, invstd, rm, rv, in, gamma, beta, B, C, HW, 0.1, 1e-5);
  for (int c = 0; c < C; c++)
    {
      double m = 0, v = 0;
      for (int b = 0; b < B; b++)
        for (int i = 0; i < HW; i++)
          m += in[(b * C + c) * HW + i];
      m /= n;
      for (int b = 0; b < B; b++)
        for (int i = 0; i < HW; i++)
          v += pow (in[(b * C + c) * HW + i] - m, 2);
      g_assert_cmpfloat (fabs (mean[c] - m), <, 1e-6);
      g_assert_cmpfloat (fabs (invstd[c] - 1 / sqrt (v / n + 1e-5)), <, 1e-5);
      /* running variance takes the unbiased estimate, momentum 0.1 */
      double rv0 = c == 0 ? 2 : 0.5, rm0 = c == 0 ? 0.5 : -1;
      g_assert_cmpfloat (fabs (rv[c] - (0.9 * rv0 + 0.1 * v / (n - 1))), <, 1e-6);
      g_assert_cmpfloat (fabs (rm[c] - (0.9 * rm0 + 0.1 * m)), <, 1e-6);
      /* normalized output has the batch mean beta and std |gamma| */
      double om = 0, ov = 0;
      for (int b = 0; b < B; b++)
        for (int i = 0; i < HW; i++)
          om += out[(b * C + c) * HW + i];
      om /= n;
      for (int b = 0; b < B; b++)
        for (int i = 0; i < HW; i++)
          ov += pow (out[(b * C + c) * HW + i] - om, 2);
      g_assert_cmpfloat (fabs (om - beta[c]), <, 1e-5);
      g_assert_cmpfloat (fabs (sqrt (ov / n) - fabs (gamma[c])), <, 1e-4);
    }
}

static void
test_maxpool (void)
{
  /* 1 plane 4x4, 3x3 stride 2 pad 1 -> 2x2; ties keep the first maximum */
  float in[16] = { 1, 2, 3, 4,
                   5, 9, 9, 0,
                   0, 0, 0, 0,
                   -1, -2, -3, 7 };
  float out[4], din[16] = { 0 }, dout[4] = { 1, 2, 3, 4 };
  int32_t am[4];

  nn_maxpool2d_forward (out, am, in, 1, 1, 4, 4, 3, 2, 1, 2, 2);
  g_assert_cmpfloat (out[0], ==, 9);
  g_assert_cmpint (am[0], ==, 5);
  g_assert_cmpfloat (out[1], ==, 9);
  g_assert_cmpint (am[1], ==, 5);
  g_assert_cmpfloat (out[2], ==, 9);
  g_assert_cmpfloat (out[3], ==, 9);
  nn_maxpool2d_backward (din, dout, am, 1, 1, 4, 4, 2, 2);
  /* every window holds index 5 and the tie at 6 loses to it */
  g_assert_cmpfloat (din[5], ==, 1 + 2 + 3 + 4);
  g_assert_cmpfloat (din[6], ==, 0);
}

/* Max-pool 3x3/2/1 against a plain loop on a plane with ties and NaNs: the
 * branch-free interior path must pick the same element as the careful one. */
static void
test_maxpool_interior (void)
{
  enum { B = 2, C = 3, H = 11, W = 13, OH = 6, OW = 7 };
  float in[B * C * H * W], out[B * C * OH * OW];
  int32_t am[B * C * OH * OW];

  fill_uniform (in, G_N_ELEMENTS (in), 21, -2, 2);
  for (size_t i = 0; i < G_N_ELEMENTS (in); i++)
    in[i] = roundf (in[i] * 2) / 2;               /* many ties */
  in[5 * W + 6] = NAN;
  in[H * W + 3 * W + 3] = NAN;
  in[H * W + 3 * W + 4] = NAN;
  nn_maxpool2d_forward (out, am, in, B, C, H, W, 3, 2, 1, OH, OW);
  for (int p = 0; p < B * C; p++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++)
        {
          const float *x = in + p * H * W;
          float best = 0;
          int best_i = -1;
          for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
              {
                int ih = oh * 2 - 1 + kh, iw = ow * 2 - 1 + kw;
                if (ih < 0 || iw < 0 || ih >= H || iw >= W)
                  continue;
                float v = x[ih * W + iw];
                if (best_i < 0 || v > best || (isnan (v) && !isnan (best)))
                  {
                    best = v;
                    best_i = ih * W + iw;
                  }
              }
          int o = (p * OH + oh) * OW + ow;
          g_assert_cmpint (am[o], ==, best_i);
          g_assert_true (isnan (best) ? isnan (out[o]) : out[o] == best);
        }
}

static void
test_cross_entropy (void)
{
  float logits[4] = { 2, -1, 0.5f, 0.5f }, probs[4], d[4];
  int labels[2] = { 1, 0 };
  float w[2] = { 3, 1 };
  double l0 = -log (exp (-1.0) / (exp (2.0) + exp (-1.0))), l1 = log (2.0);

  g_assert_cmpfloat (fabs (nn_softmax_cross_entropy_forward (probs, logits, labels, NULL, 2, 2)
                           - (l0 + l1) / 2), <, 1e-6);
  /* PyTorch's weighted mean: sum w_y l / sum w_y */
  double weighted = nn_softmax_cross_entropy_forward (probs, logits, labels, w, 2, 2);
  g_assert_cmpfloat (fabs (weighted - (1 * l0 + 3 * l1) / 4), <, 1e-6);
  nn_softmax_cross_entropy_backward (d, probs, labels, w, 2, 2);
  g_assert_cmpfloat (fabs (d[2] - 3.0 / 4 * (0.5 - 1)), <, 1e-6);
  g_assert_cmpfloat (fabs (d[1] - 1.0 / 4 * (probs[1] - 1)), <, 1e-6);
  /* a confident, wrong logit must not give inf */
  float big[2] = { 1000, -1000 };
  int wrong = 1;
  g_assert_cmpfloat (fabs (nn_softmax_cross_entropy_forward (probs, big, &wrong, NULL, 1, 2)
                           - 2000), <, 1e-3);
}

static void
test_linear_pool_relu (void)
{
  float in[6] = { 1, 2, 3, 4, 5, 6 }, w[6] = { 1, 0, -1, 2, 1, 0 }, bias[2] = { 0.5f, -1 };
  float out[4], pooled[2];

  nn_linear_forward (out, in, w, bias, 2, 3, 2);
  g_assert_cmpfloat (out[0], ==, 1 - 3 + 0.5f);
  g_assert_cmpfloat (out[1], ==, 2 + 2 - 1);
  g_assert_cmpfloat (out[3], ==, 8 + 5 - 1);
  nn_avgpool_forward (pooled, in, 1, 2, 3);
  g_assert_cmpfloat (pooled[0], ==, 2);
  g_assert_cmpfloat (pooled[1], ==, 5);
  float x[4] = { -1, 0, 2, -0.0f }, b2[4] = { 0.5f, 0.5f, -3, 1 };
  nn_add_relu_forward (x, b2, 4);
  g_assert_cmpfloat (x[0], ==, 0);
  g_assert_cmpfloat (x[1], ==, 0.5f);
  g_assert_cmpfloat (x[2], ==, 0);
  g_assert_cmpfloat (x[3], ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/layers/conv-shapes", test_conv_shapes);
  g_test_add_func ("/nn/layers/conv-workspace-chunks", test_conv_workspace_chunks);
  g_test_add_func ("/nn/layers/winograd", test_winograd);
  g_test_add_func ("/nn/layers/winograd-f64", test_winograd_f64);
  g_test_add_func ("/nn/layers/batchnorm-train", test_batchnorm_train);
  g_test_add_func ("/nn/layers/maxpool", test_maxpool);
  g_test_add_func ("/nn/layers/maxpool-interior", test_maxpool_interior);
  g_test_add_func ("/nn/layers/cross-entropy", test_cross_entropy);
  g_test_add_func ("/nn/layers/linear-pool-relu", test_linear_pool_relu);
  return g_test_run ();
}
