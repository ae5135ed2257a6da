#include "nn-layers.h"
#include "nn-packed.h"

NnConvShape
nn_conv_shape (int batch, int in_c, int in_h, int in_w, int out_c, int kernel, int stride,
               int pad)
{
  NnConvShape s = {
    .batch = batch, .in_c = in_c, .in_h = in_h, .in_w = in_w,
    .out_c = out_c, .kernel_h = kernel, .kernel_w = kernel, .stride = stride, .pad = pad,
  };
  s.out_h = (in_h + 2 * pad - kernel) / stride + 1;
  s.out_w = (in_w + 2 * pad - kernel) / stride + 1;
  return s;
}

bool
nn_conv_is_pointwise (const NnConvShape *s)
{
  return s->kernel_h == 1 && s->kernel_w == 1 && s->stride == 1 && s->pad == 0;
}

size_t
nn_conv2d_workspace (const NnConvShape *s, int images)
{
  size_t K = (size_t) s->in_c * s->kernel_h * s->kernel_w;
  size_t N = (size_t) images * s->out_h * s->out_w;

  if (nn_conv_is_pointwise (s))
    return 0;
  /* columns (K, N), plus the (OC, N) gathered output when a GEMM spans images */
  return K * N + (images > 1 ? (size_t) s->out_c * N : 0);
}

int
nn_conv2d_images_per_gemm (const NnConvShape *s, size_t ws_len)
{
  int ohw = s->out_h * s->out_w;
  /* Enough images that a GEMM has about NN_CONV_GEMM_COLUMNS columns: wide
   * enough for OpenBLAS to run at full speed, and no wider, since spanning
   * images costs a gather/scatter pass over the output. */
  int n = (NN_CONV_GEMM_COLUMNS + ohw - 1) / ohw;

  if (nn_conv_is_pointwise (s))
    return 1;
  if (n > s->batch)
    n = s->batch;
  while (n > 1 && nn_conv2d_workspace (s, n) > ws_len)
    n--;
  return nn_conv2d_workspace (s, n) <= ws_len ? n : 0;
}

bool
nn_conv_is_winograd (const NnConvShape *s)
{
  return s->kernel_h == 3 && s->kernel_w == 3 && s->stride == 1 && s->pad == 1;
}

long
nn_winograd_tiles (const NnConvShape *s)
{
  return (long) s->batch * ((s->out_h + 1) / 2) * ((s->out_w + 1) / 2);
}

size_t
nn_winograd_plane (size_t floats)
{
  /* 16 planes a power of two apart would share the same cache sets: one
   * cache line more breaks the pattern and keeps 64-byte alignment */
  return (floats + 15) / 16 * 16 + 16;
}

size_t
nn_winograd_workspace (int C, int OC, int tiles)
{
  /* V (16, C, tiles) and M (16, OC, tiles) */
  return 16 * (nn_winograd_plane ((size_t) C * tiles) + nn_winograd_plane ((size_t) OC * tiles));
}

long
nn_winograd_chunk (int C, int OC, size_t ws_len)
{
  /* V and M of a chunk stay within about NN_WINOGRAD_CHUNK_BYTES (L2), with
   * at least NN_WINOGRAD_MIN_TILES columns per GEMM when the workspace allows */
  long bytes_per_tile = 16 * ((long) C + OC) * (long) sizeof (float);
  long n = NN_WINOGRAD_CHUNK_BYTES / bytes_per_tile;

  if (n < NN_WINOGRAD_MIN_TILES)
    n = NN_WINOGRAD_MIN_TILES;
  while (n > 0 && nn_winograd_workspace (C, OC, (int) n) > ws_len)
    n = n > 16 ? n - 16 : n - 1;
  return n;
}

#define REAL float
#define FN(name) name
#define GEMM cblas_sgemm
#define NN_LAYERS_PACKED
#include "nn-layers-impl.h"

void
nn_winograd_conv_packed (float *out, const float *in, const float *u_packed, float *scratch,
                         const float *bias, const float *residual, bool relu, int C, int OC,
                         int H, int W, long t0, long t1, int oc0, int oc1, float *ws,
                         size_t ws_len)
{
  winograd_conv_oc (out, in, NULL, false, u_packed, scratch, bias, residual, relu, false, C, OC,
                    H, W, t0, t1, oc0, oc1, ws, ws_len);
}
