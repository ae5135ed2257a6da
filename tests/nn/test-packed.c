/* GEMMs on packed weights (nn-packed.h) against a reference in double, and
 * Winograd on packed planes against Winograd through OpenBLAS, with each
 * kernel this CPU runs (the others are skipped). */
#include "config.h"

#include <string.h>

#include "nn-layers.h"
#include "nn-packed.h"
#include "test-common.h"

/* Runs the test with the kernel in data, or skips it; false when skipped */
static bool
use_kernel (gconstpointer data)
{
  NnPackedKernel kernel = (NnPackedKernel) GPOINTER_TO_INT (data);
  if (!nn_packed_set_kernel (kernel))
    {
      g_test_skip ("this CPU lacks the kernel");
      return false;
    }
  g_assert_cmpint (nn_packed_kernel (), ==, kernel);
  return true;
}

static float *
aligned_floats (size_t n)
{
  return g_aligned_alloc0 (n + 16, sizeof (float), 64);
}

/* nn_packed_conv over B images of ohw outputs, M channels from K inputs, the
 * weights packed and the product run in two panel ranges and two column
 * ranges (as threads split it); returns the relative error against double.
 * Every float after the output must stay untouched. */
static double
packed_conv_error (int M, int K, int B, int ohw, bool bias_on, bool res_on, bool relu)
{
  const int N = B * ohw, panels = (M + NN_PACKED_MR - 1) / NN_PACKED_MR;
  const size_t n_out = (size_t) B * M * ohw;
  float *w = g_new (float, (size_t) M * K), *col = g_new (float, (size_t) K * N);
  float *bias = g_new (float, M), *res = g_new (float, n_out);
  float *out = g_new (float, n_out + 8), *ref = g_new (float, n_out);
  float *packed = aligned_floats (nn_packed_len (M, K));
  float *scratch = aligned_floats (nn_packed_scratch_len (N));

  fill_uniform (w, (size_t) M * K, 21, -1, 1);
  fill_uniform (col, (size_t) K * N, 22, -1, 1);
  fill_uniform (bias, M, 23, -1, 1);
  fill_uniform (res, n_out, 24, -1, 1);
  for (int i = 0; i < 8; i++)
    out[n_out + i] = 1234.5f;
  for (int b = 0; b < B; b++)
    for (int m = 0; m < M; m++)
      for (int q = 0; q < ohw; q++)
        {
          double acc = 0;
          size_t at = ((size_t) b * M + m) * ohw + q;
          for (int k = 0; k < K; k++)
            acc += (double) w[(size_t) m * K + k] * col[(size_t) k * N + b * ohw + q];
          acc += bias_on ? bias[m] : 0;
          acc += res_on ? res[at] : 0;
          ref[at] = (float) (relu && acc < 0 ? 0 : acc);
        }

  nn_packed_pack (packed, w, M, K, 0, panels / 2);
  nn_packed_pack (packed, w, M, K, panels / 2, panels);
  const int n_mid = N / 3;
  for (int half = 0; half < 2; half++)
    for (int part = 0; part < 2; part++)
      nn_packed_conv (out, packed, col, (size_t) N, part == 0 ? 0 : n_mid,
                      part == 0 ? n_mid : N, bias_on ? bias : NULL, res_on ? res : NULL, relu,
                      M, K, ohw, half == 0 ? 0 : panels / 2, half == 0 ? panels / 2 : panels,
                      scratch);
  double e = rel_error (out, ref, n_out);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (out[n_out + i], ==, 1234.5f);

  g_free (w); g_free (col); g_free (bias); g_free (res); g_free (out); g_free (ref);
  g_aligned_free (packed);
  g_aligned_free (scratch);
  return e;
}

static void
test_packed_conv (gconstpointer kernel)
{
  if (!use_kernel (kernel))
    return;
  /* partial panels (M 100, 130), reductions around the kernel's 96-step
   * blocks, column counts around its 7-column groups, several images */
  static const int cases[][4] = {
    { 64, 1, 1, 1 }, { 64, 9, 1, 7 }, { 100, 95, 1, 13 }, { 128, 96, 1, 49 },
    { 130, 97, 3, 5 }, { 64, 200, 2, 49 }, { 192, 300, 1, 6 }, { 64, 1152, 1, 16 },
  };
  double worst = 0;

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int flags = 0; flags < 8; flags++)
      {
        const int *c = cases[i];
        worst = fmax (worst, packed_conv_error (c[0], c[1], c[2], c[3], flags & 1, flags & 2,
                                                flags & 4));
      }
  g_test_message ("packed conv (%s): relative error %.3g",
                  nn_packed_kernel_name (nn_packed_kernel ()), worst);
  g_assert_cmpfloat (worst, <, 1e-5);
}

/* NaN stays NaN through the bias, the residual and the ReLU, as in PyTorch */
static void
test_packed_nan (gconstpointer kernel)
{
  if (!use_kernel (kernel))
    return;
  const int M = 64, K = 5, N = 3;
  float w[64 * 5], col[5 * 3], out[64 * 3];
  float *packed = aligned_floats (nn_packed_len (M, K));
  float *scratch = aligned_floats (nn_packed_scratch_len (N));

  fill_uniform (w, G_N_ELEMENTS (w), 25, -1, 1);
  fill_uniform (col, G_N_ELEMENTS (col), 26, -1, 1);
  col[2 * N + 1] = NAN;                 /* input k = 2 of column 1 */
  nn_packed_pack (packed, w, M, K, 0, 1);
  nn_packed_conv (out, packed, col, N, 0, N, NULL, NULL, true, M, K, N, 0, 1, scratch);
  for (int m = 0; m < M; m++)
    {
      g_assert_true (isnan (out[m * N + 1]));
      g_assert_false (isnan (out[m * N]));
      g_assert_cmpfloat (out[m * N], >=, 0);
    }
  g_aligned_free (packed);
  g_aligned_free (scratch);
}

/* nn_packed_gemm: a plain product, rows of the panel range only, strided */
static void
test_packed_gemm (gconstpointer kernel)
{
  if (!use_kernel (kernel))
    return;
  const int M = 150, K = 130, N = 20, ldb = 23, ldc = 29;
  float *a = g_new (float, (size_t) M * K), *b = g_new (float, (size_t) K * ldb);
  float *c = g_new0 (float, (size_t) M * ldc);
  float *packed = aligned_floats (nn_packed_len (M, K));
  float *scratch = aligned_floats (nn_packed_scratch_len (N));
  double worst = 0, scale = 0;

  fill_uniform (a, (size_t) M * K, 27, -1, 1);
  fill_uniform (b, (size_t) K * ldb, 28, -1, 1);
  nn_packed_pack (packed, a, M, K, 0, 3);
  /* panels 1 and 2 (rows 64..149) into c from its first row */
  nn_packed_gemm (c, ldc, packed, b, ldb, M, K, N, 1, 3, scratch);
  for (int m = 64; m < M; m++)
    for (int n = 0; n < ldc; n++)
      {
        float got = c[(size_t) (m - 64) * ldc + n];
        if (n >= N)
          {
            g_assert_cmpfloat (got, ==, 0);      /* past N: untouched */
            continue;
          }
        double acc = 0;
        for (int k = 0; k < K; k++)
          acc += (double) a[(size_t) m * K + k] * b[(size_t) k * ldb + n];
        worst = fmax (worst, fabs (got - acc));
        scale = fmax (scale, fabs (acc));
      }
  for (size_t i = (size_t) (M - 64) * ldc; i < (size_t) M * ldc; i++)
    g_assert_cmpfloat (c[i], ==, 0);             /* no row past panel 2's */
  g_test_message ("packed gemm: relative error %.3g", worst / scale);
  g_assert_cmpfloat (worst / scale, <, 1e-5);
  g_free (a); g_free (b); g_free (c);
  g_aligned_free (packed);
  g_aligned_free (scratch);
}

/* Winograd on packed planes against nn_winograd_conv_oc (tested against the
 * six-loop convolution in test-layers), split by panels as the model's
 * threads split it, with bias, residual and ReLU */
static void
test_packed_winograd (gconstpointer kernel)
{
  if (!use_kernel (kernel))
    return;
  const int B = 1, C = 70, OC = 130, H = 9, W = 13;
  NnConvShape s = nn_conv_shape (B, C, H, W, OC, 3, 1, 1);
  const long tiles = nn_winograd_tiles (&s);
  const size_t n_in = (size_t) B * C * H * W, n_out = (size_t) B * OC * H * W;
  const size_t u_plane = nn_winograd_plane ((size_t) OC * C), p_plane = nn_packed_len (OC, C);
  const size_t ws_len = nn_winograd_workspace (C, OC, (int) tiles);
  float *in = g_new (float, n_in), *w = g_new (float, (size_t) OC * C * 9);
  float *bias = g_new (float, OC), *res = g_new (float, n_out);
  float *out = g_new (float, n_out), *ref = g_new (float, n_out);
  float *u = g_new (float, 16 * u_plane), *ws = g_new (float, ws_len);
  float *packed = aligned_floats (16 * p_plane);
  float *scratch = aligned_floats (nn_packed_scratch_len ((int) tiles));
  double worst = 0;

  fill_uniform (in, n_in, 31, -1, 1);
  fill_uniform (w, (size_t) OC * C * 9, 32, -1, 1);
  fill_uniform (bias, OC, 33, -1, 1);
  fill_uniform (res, n_out, 34, -1, 1);
  nn_winograd_weights (u, w, OC, C, 0, OC);
  for (int xi = 0; xi < 16; xi++)
    nn_packed_pack (packed + xi * p_plane, u + xi * u_plane, OC, C, 0, 3);
  for (int flags = 0; flags < 4; flags++)
    {
      const float *r = flags & 1 ? res : NULL;
      bool relu = flags & 2;
      nn_winograd_conv_oc (ref, in, u, false, bias, r, relu, false, C, OC, H, W, 0, tiles, 0,
                           OC, ws, ws_len);
      memset (out, 0, n_out * sizeof (float));
      nn_winograd_conv_packed (out, in, packed, scratch, bias, r, relu, C, OC, H, W, 0, tiles,
                               0, 64, ws, ws_len);
      nn_winograd_conv_packed (out, in, packed, scratch, bias, r, relu, C, OC, H, W, 0, tiles,
                               64, OC, ws, ws_len);
      worst = fmax (worst, rel_error (out, ref, n_out));
    }
  g_test_message ("packed winograd: relative error %.3g against OpenBLAS's", worst);
  g_assert_cmpfloat (worst, <, 1e-5);
  g_free (in); g_free (w); g_free (bias); g_free (res); g_free (out); g_free (ref);
  g_free (u); g_free (ws);
  g_aligned_free (packed);
  g_aligned_free (scratch);
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *path;
    GTestDataFunc func;
  } tests[] = {
    { "conv", test_packed_conv },
    { "nan", test_packed_nan },
    { "gemm", test_packed_gemm },
    { "winograd", test_packed_winograd },
  };
  static const struct
  {
    const char *name;
    NnPackedKernel kernel;
  } kernels[] = {
    { "plain", NN_PACKED_KERNEL_PLAIN },
    { "avx2", NN_PACKED_KERNEL_AVX2 },
    { "avx512", NN_PACKED_KERNEL_AVX512 },
  };

  g_test_init (&argc, &argv, NULL);
  for (size_t k = 0; k < G_N_ELEMENTS (kernels); k++)
    for (size_t t = 0; t < G_N_ELEMENTS (tests); t++)
      {
        g_autofree char *path = g_strdup_printf ("/nn/packed/%s/%s", kernels[k].name,
                                                 tests[t].path);
        g_test_add_data_func (path, GINT_TO_POINTER (kernels[k].kernel), tests[t].func);
      }
  return g_test_run ();
}
