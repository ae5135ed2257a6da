/* nn-layers-impl.h — the layer bodies, written once for any floating type.
 *
 * Included by nn-layers.c (REAL=float) and nn-layers-f64.c (REAL=double) with
 *   REAL       the element type
 *   FN(name)   the public name for that type
 *   GEMM       cblas_sgemm or cblas_dgemm
 * Reductions (BatchNorm statistics, pooled sums, the loss) accumulate in double
 * in both, as PyTorch's CPU kernels do for float.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

/* ---- im2col / col2im ------------------------------------------------------
 * col is (K, ldc) row-major with K = C*KH*KW; one image fills the OH*OW
 * columns starting at col_offset. Row r = (c*KH + kh)*KW + kw holds
 * in[c, oh*stride - pad + kh, ow*stride - pad + kw] (0 outside the image).
 */

/* Output columns ow whose input column iw = ow*stride - pad + k lies in [0, W). */
static inline void
FN (conv_valid_range) (int *lo, int *hi, int k, int stride, int pad, int W, int OW)
{
  int first = pad - k;                           /* smallest ow*stride allowed */
  int a = first <= 0 ? 0 : (first + stride - 1) / stride;
  int last = W - 1 + pad - k;                    /* largest ow*stride allowed */
  int b = last < 0 ? -1 : last / stride;
  if (b > OW - 1)
    b = OW - 1;
  *lo = a;
  *hi = b + 1;                                   /* half-open; may be <= lo */
  if (*hi < *lo)
    *hi = *lo;
}

/* im2col of input channels [c0, c1) and output rows [oh0, oh1) only: output
 * row oh starts at column col_offset + (oh - oh0) * OW */
static void
FN (im2col_range) (REAL *col, size_t ldc, size_t col_offset, const REAL *in,
                   const NnConvShape *s, int c0, int c1, int oh0, int oh1)
{
  const int H = s->in_h, W = s->in_w, KH = s->kernel_h, KW = s->kernel_w;
  const int OW = s->out_w, S = s->stride, P = s->pad;

  for (int c = c0; c < c1; c++)
    for (int kh = 0; kh < KH; kh++)
      for (int kw = 0; kw < KW; kw++)
        {
          const REAL *src = in + (size_t) c * H * W;
          REAL *dst = col + ((size_t) (c * KH + kh) * KW + kw) * ldc + col_offset;
          int lo, hi;

          FN (conv_valid_range) (&lo, &hi, kw, S, P, W, OW);
          for (int oh = oh0; oh < oh1; oh++, dst += OW)
            {
              int ih = oh * S - P + kh;
              if (ih < 0 || ih >= H)
                {
                  memset (dst, 0, sizeof (REAL) * OW);
                  continue;
                }
              const REAL *row = src + (size_t) ih * W - P + kw;
              for (int ow = 0; ow < lo; ow++)
                dst[ow] = 0;
              if (S == 1)
                {
                  if (hi > lo)
                    memcpy (dst + lo, row + lo, sizeof (REAL) * (hi - lo));
                }
              else if (S == 2)        /* the stem and the stride-2 3x3s: vectorizes */
                for (int ow = lo; ow < hi; ow++)
                  dst[ow] = row[2 * ow];
              else
                for (int ow = lo; ow < hi; ow++)
                  dst[ow] = row[ow * S];
              for (int ow = hi; ow < OW; ow++)
                dst[ow] = 0;
            }
        }
}

void
FN (nn_im2col_channels) (REAL *col, size_t ldc, size_t col_offset, const REAL *in,
                         const NnConvShape *s, int c0, int c1)
{
  FN (im2col_range) (col, ldc, col_offset, in, s, c0, c1, 0, s->out_h);
}

static void
FN (im2col) (REAL *col, size_t ldc, size_t col_offset, const REAL *in, const NnConvShape *s)
{
  FN (nn_im2col_channels) (col, ldc, col_offset, in, s, 0, s->in_c);
}

/* OC rows of n outputs, stride apart: + bias, then max(0, .), in one pass */
static inline void
FN (conv_epilogue_span) (REAL *out, const REAL *bias, bool relu, int OC, size_t n,
                         size_t stride)
{
  for (int oc = 0; oc < OC; oc++)
    {
      REAL *o = out + (size_t) oc * stride;
      REAL b = bias != NULL ? bias[oc] : 0;
      if (relu)
        for (size_t i = 0; i < n; i++)
          {
            REAL v = o[i] + b;
            o[i] = v < 0 ? 0 : v;       /* NaN stays NaN, as in PyTorch */
          }
      else if (bias != NULL)
        for (size_t i = 0; i < n; i++)
          o[i] += b;
    }
}

/* out (OC, OHW) += bias per channel, then max(0, .) when relu */
static inline void
FN (conv_epilogue) (REAL *out, const REAL *bias, bool relu, int OC, size_t OHW)
{
  FN (conv_epilogue_span) (out, bias, relu, OC, OHW, OHW);
}

/* The rows [oc0, oc1) of one image's convolution from its columns (K, OHW):
 *   out[oc0:oc1] (rows, OHW) = weight[oc0:oc1] (rows, K) x col (K, OHW)
 * then + bias and max(0, .) as nn_conv2d_forward does. */
void
FN (nn_conv2d_forward_rows) (REAL *out, const REAL *col, const REAL *weight, const REAL *bias,
                             bool relu, const NnConvShape *s, int oc0, int oc1)
{
  const size_t K = (size_t) s->in_c * s->kernel_h * s->kernel_w;
  const size_t OHW = (size_t) s->out_h * s->out_w;

  if (oc1 <= oc0)
    return;
  GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, oc1 - oc0, (int) OHW, (int) K, 1,
        weight + (size_t) oc0 * K, (int) K, col, (int) OHW, 0, out + (size_t) oc0 * OHW,
        (int) OHW);
  if (bias != NULL || relu)
    FN (conv_epilogue) (out + (size_t) oc0 * OHW, bias != NULL ? bias + oc0 : NULL, relu,
                        oc1 - oc0, OHW);
}

/* Output rows [oh0, oh1) of one image, all channels, in chunks of rows whose
 * columns fit ws_len floats (so they stay in cache between im2col and GEMM):
 *   out[:, oh0*OW : oh1*OW] = weight (OC, K) x col (K, rows*OW)
 * then + bias and max(0, .). Nothing is done when not even one row fits. */
void
FN (nn_conv2d_forward_outrows) (REAL *out, const REAL *in, const REAL *weight,
                                const REAL *bias, bool relu, const NnConvShape *s, int oh0,
                                int oh1, REAL *ws, size_t ws_len)
{
  const int OC = s->out_c, OW = s->out_w;
  const size_t K = (size_t) s->in_c * s->kernel_h * s->kernel_w;
  const size_t OHW = (size_t) s->out_h * OW;
  long chunk = (long) (ws_len / (K * (size_t) OW));

  if (chunk < 1)
    return;
  for (int r0 = oh0; r0 < oh1; r0 += (int) chunk)
    {
      int r1 = oh1 - r0 < chunk ? oh1 : r0 + (int) chunk;
      size_t n = (size_t) (r1 - r0) * OW;
      REAL *dst = out + (size_t) r0 * OW;
      FN (im2col_range) (ws, n, 0, in, s, 0, s->in_c, r0, r1);
      GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int) n, (int) K, 1, weight,
            (int) K, ws, (int) n, 0, dst, (int) OHW);
      if (bias != NULL || relu)
        FN (conv_epilogue_span) (dst, bias, relu, OC, n, OHW);
    }
}

/* in (C,H,W) += the columns of one image, the adjoint of im2col. */
static void
FN (col2im) (REAL *in, const REAL *col, size_t ldc, size_t col_offset,
             const NnConvShape *s)
{
  const int C = s->in_c, H = s->in_h, W = s->in_w, KH = s->kernel_h, KW = s->kernel_w;
  const int OH = s->out_h, OW = s->out_w, S = s->stride, P = s->pad;

  for (int c = 0; c < C; c++)
    for (int kh = 0; kh < KH; kh++)
      for (int kw = 0; kw < KW; kw++)
        {
          REAL *dst = in + (size_t) c * H * W;
          const REAL *src = col + ((size_t) (c * KH + kh) * KW + kw) * ldc + col_offset;
          int lo, hi;

          FN (conv_valid_range) (&lo, &hi, kw, S, P, W, OW);
          for (int oh = 0; oh < OH; oh++, src += OW)
            {
              int ih = oh * S - P + kh;
              if (ih < 0 || ih >= H)
                continue;
              REAL *row = dst + (size_t) ih * W - P + kw;
              if (S == 1)
                for (int ow = lo; ow < hi; ow++)
                  row[ow] += src[ow];
              else
                for (int ow = lo; ow < hi; ow++)
                  row[ow * S] += src[ow];
            }
        }
}

/* ---- conv2d ---------------------------------------------------------------
 * Forward, for a chunk of n images with N = n*OH*OW columns and K = C*KH*KW:
 *   out_t (OC, N) = weight (OC, K) x col (K, N)
 * then out_t is scattered into NCHW. With n == 1 the GEMM writes straight into
 * out[b] (OC, OH*OW); a pointwise convolution uses in[b] (C, H*W) as col.
 * Backward, per chunk:
 *   dweight (OC, K) += dout_t (OC, N) x col^T (N, K)
 *   dcol (K, N)      = weight^T (K, OC) x dout_t (OC, N), then col2im into din.
 */

void
FN (nn_conv2d_forward) (REAL *out, const REAL *in, const REAL *weight, const REAL *bias,
                        bool relu, const NnConvShape *s, REAL *ws, size_t ws_len)
{
  const int OC = s->out_c;
  const size_t K = (size_t) s->in_c * s->kernel_h * s->kernel_w;
  const size_t OHW = (size_t) s->out_h * s->out_w;
  const size_t in_stride = (size_t) s->in_c * s->in_h * s->in_w;
  const bool pointwise = nn_conv_is_pointwise (s);
  const bool epilogue = bias != NULL || relu;
  int per_gemm = pointwise ? 1 : nn_conv2d_images_per_gemm (s, ws_len);

  if (per_gemm < 1)
    per_gemm = 1;       /* the caller planned too little: stay correct, one image */

  for (int b0 = 0; b0 < s->batch; b0 += per_gemm)
    {
      int n = s->batch - b0 < per_gemm ? s->batch - b0 : per_gemm;
      size_t N = (size_t) n * OHW;
      REAL *dst = out + (size_t) b0 * OC * OHW;

      if (pointwise)
        {
          GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int) OHW, (int) K,
                1, weight, (int) K, in + b0 * in_stride, (int) OHW, 0, dst, (int) OHW);
          if (epilogue)
            FN (conv_epilogue) (dst, bias, relu, OC, OHW);
          continue;
        }

      REAL *col = ws;
      for (int i = 0; i < n; i++)
        FN (im2col) (col, N, i * OHW, in + (b0 + i) * in_stride, s);

      if (n == 1)
        {
          GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int) N, (int) K,
                1, weight, (int) K, col, (int) N, 0, dst, (int) N);
          if (epilogue)
            FN (conv_epilogue) (dst, bias, relu, OC, OHW);
          continue;
        }

      REAL *out_t = col + K * N;
      GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int) N, (int) K,
            1, weight, (int) K, col, (int) N, 0, out_t, (int) N);
      for (int i = 0; i < n; i++)
        {
          for (int oc = 0; oc < OC; oc++)
            memcpy (dst + ((size_t) i * OC + oc) * OHW, out_t + oc * N + i * OHW,
                    sizeof (REAL) * OHW);
          if (epilogue)
            FN (conv_epilogue) (dst + (size_t) i * OC * OHW, bias, relu, OC, OHW);
        }
    }
}

void
FN (nn_conv2d_backward) (REAL *din, REAL *dweight, const REAL *dout, const REAL *in,
                         const REAL *weight, const NnConvShape *s, REAL *ws, size_t ws_len)
{
  const int OC = s->out_c;
  const size_t K = (size_t) s->in_c * s->kernel_h * s->kernel_w;
  const size_t OHW = (size_t) s->out_h * s->out_w;
  const size_t in_stride = (size_t) s->in_c * s->in_h * s->in_w;
  const bool pointwise = nn_conv_is_pointwise (s);
  int per_gemm = pointwise ? 1 : nn_conv2d_images_per_gemm (s, ws_len);

  if (per_gemm < 1)
    per_gemm = 1;

  for (int b0 = 0; b0 < s->batch; b0 += per_gemm)
    {
      int n = s->batch - b0 < per_gemm ? s->batch - b0 : per_gemm;
      size_t N = (size_t) n * OHW;
      const REAL *dout_t;
      const REAL *col;

      if (pointwise)
        {
          dout_t = dout + (size_t) b0 * OC * OHW;
          if (dweight != NULL)
            GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, OC, (int) K, (int) N,
                  1, dout_t, (int) N, in + b0 * in_stride, (int) N, 1, dweight, (int) K);
          if (din != NULL)
            GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, (int) N, OC,
                  1, weight, (int) K, dout_t, (int) N, 1, din + b0 * in_stride, (int) N);
          continue;
        }

      REAL *colbuf = ws;
      if (n == 1)
        dout_t = dout + (size_t) b0 * OC * OHW;
      else
        {
          REAL *gather = colbuf + K * N;
          for (int i = 0; i < n; i++)
            for (int oc = 0; oc < OC; oc++)
              memcpy (gather + oc * N + i * OHW, dout + ((size_t) (b0 + i) * OC + oc) * OHW,
                      sizeof (REAL) * OHW);
          dout_t = gather;
        }

      if (dweight != NULL)
        {
          for (int i = 0; i < n; i++)
            FN (im2col) (colbuf, N, i * OHW, in + (b0 + i) * in_stride, s);
          col = colbuf;
          GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, OC, (int) K, (int) N,
                1, dout_t, (int) N, col, (int) N, 1, dweight, (int) K);
        }
      if (din != NULL)
        {
          GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, (int) N, OC,
                1, weight, (int) K, dout_t, (int) N, 0, colbuf, (int) N);
          for (int i = 0; i < n; i++)
            FN (col2im) (din + (b0 + i) * in_stride, colbuf, N, i * OHW, s);
        }
    }
}

/* ---- Winograd F(2x2, 3x3) -------------------------------------------------
 * A 3x3, stride-1, pad-1 convolution in 2x2 output tiles (Lavin & Gray, 2016).
 * Each tile reads a 4x4 input patch d (rows 2*th-1 .. 2*th+2, zero outside):
 *   V = B^T d B,  U = G g G^T,  Y = A^T (sum over input channels of U .* V) A
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * The sum over channels at each of the 16 positions xi of the 4x4 tile is a GEMM:
 *   M[xi] (OC, T) = U[xi] (OC, C) x V[xi] (C, T)
 * for a chunk of T tiles, so 2.25x fewer multiply-adds than im2col, and every
 * coefficient is 0, +-1 or +-1/2: the transforms add no rounding beyond a few
 * extra additions (see tests/nn/test-layers.c for the measured error).
 *
 * Backward data is the same convolution of dout with the kernel flipped and
 * its channels transposed. Since G J = P G (J reverses 3 entries, P swaps rows
 * 0 and 3 of 4), the flipped kernel's transform is P U P^T: position (a, b)
 * reads U at (p(a), p(b)), p = {3, 1, 2, 0}, transposed, and no second weight
 * transform is needed.
 */

/* u (16, OC, C), planes nn_winograd_plane (OC * C) apart, for output channels
 * [oc0, oc1) from weight (OC, C, 3, 3) */
void
FN (nn_winograd_weights) (REAL *u, const REAL *weight, int OC, int C, int oc0, int oc1)
{
  const size_t plane = nn_winograd_plane ((size_t) OC * C);

  for (int oc = oc0; oc < oc1; oc++)
    {
      const REAL *g = weight + (size_t) oc * C * 9;
      REAL *dst[16];
      for (int xi = 0; xi < 16; xi++)
        dst[xi] = u + xi * plane + (size_t) oc * C;
      /* one input channel per iteration, 16 contiguous output streams: vectorizes */
      for (int c = 0; c < C; c++)
        {
          const REAL *k = g + (size_t) c * 9;
          REAL t[4][3];
          for (int j = 0; j < 3; j++)
            {
              t[0][j] = k[j];
              t[1][j] = (REAL) 0.5 * (k[j] + k[3 + j] + k[6 + j]);
              t[2][j] = (REAL) 0.5 * (k[j] - k[3 + j] + k[6 + j]);
              t[3][j] = k[6 + j];
            }
          for (int i = 0; i < 4; i++)
            {
              dst[4 * i + 0][c] = t[i][0];
              dst[4 * i + 1][c] = (REAL) 0.5 * (t[i][0] + t[i][1] + t[i][2]);
              dst[4 * i + 2][c] = (REAL) 0.5 * (t[i][0] - t[i][1] + t[i][2]);
              dst[4 * i + 3][c] = t[i][2];
            }
        }
    }
}

/* V[xi] (C, n), planes `plane` apart, for tiles [t0, t0 + n) of in (B, C, H, W),
 * a run of tiles along a tile row at a time: the row transform (B^T d) over
 * the run's whole width, then the column transform per tile, both loops GCC
 * vectorizes (the tile at a time version below was 12% of a batch-16
 * inference). The same operations in the same order: the same results. */
#define NN_WINO_ROW_MAX 1040

static void FN (winograd_input_tiles) (REAL *v, size_t plane, const REAL *in, int C, int H,
                                       int W, long t0, int n);

static void
FN (winograd_input) (REAL *v, size_t plane, const REAL *in, int C, int H, int W, long t0,
                     int n)
{
  const int TH = (H + 1) / 2, TW = (W + 1) / 2;
  REAL d[4][NN_WINO_ROW_MAX], t[4][NN_WINO_ROW_MAX];

  if (2 * TW + 2 > NN_WINO_ROW_MAX)
    {
      FN (winograd_input_tiles) (v, plane, in, C, H, W, t0, n);
      return;
    }
  for (int c = 0; c < C; c++)
    {
      long b = t0 / ((long) TH * TW), r = t0 % ((long) TH * TW);
      int th = (int) (r / TW), tw = (int) (r % TW);
      for (int k = 0; k < n;)
        {
          const int seg = n - k < TW - tw ? n - k : TW - tw;
          const REAL *src = in + ((size_t) b * C + c) * H * W;
          const int y0 = 2 * th - 1, xa = 2 * tw - 1, len = 2 * seg + 2;
          /* d[i][q]: input row y0 + i at column xa + q, 0 outside the image */
          for (int i = 0; i < 4; i++)
            {
              const int y = y0 + i;
              REAL *di = d[i];
              if (y < 0 || y >= H)
                {
                  memset (di, 0, sizeof (REAL) * len);
                  continue;
                }
              const int lead = xa < 0 ? -xa : 0;
              const int last = xa + len - 1 < W ? xa + len - 1 : W - 1;
              for (int q = 0; q < lead; q++)
                di[q] = 0;
              memcpy (di + lead, src + (size_t) y * W + xa + lead,
                      sizeof (REAL) * (last - xa - lead + 1));
              for (int q = last - xa + 1; q < len; q++)
                di[q] = 0;
            }
          for (int q = 0; q < len; q++)
            {
              t[0][q] = d[0][q] - d[2][q];
              t[1][q] = d[1][q] + d[2][q];
              t[2][q] = d[2][q] - d[1][q];
              t[3][q] = d[1][q] - d[3][q];
            }
          for (int i = 0; i < 4; i++)
            {
              const REAL *ti = t[i];
              REAL *p0 = v + (size_t) (4 * i + 0) * plane + (size_t) c * n + k;
              REAL *p1 = v + (size_t) (4 * i + 1) * plane + (size_t) c * n + k;
              REAL *p2 = v + (size_t) (4 * i + 2) * plane + (size_t) c * n + k;
              REAL *p3 = v + (size_t) (4 * i + 3) * plane + (size_t) c * n + k;
              for (int q = 0; q < seg; q++)
                {
                  p0[q] = ti[2 * q] - ti[2 * q + 2];
                  p1[q] = ti[2 * q + 1] + ti[2 * q + 2];
                  p2[q] = ti[2 * q + 2] - ti[2 * q + 1];
                  p3[q] = ti[2 * q + 1] - ti[2 * q + 3];
                }
            }
          k += seg;
          tw += seg;
          if (tw == TW)
            {
              tw = 0;
              if (++th == TH)
                {
                  th = 0;
                  b++;
                }
            }
        }
    }
}

/* The same, a tile at a time: for maps wider than the row buffers */
static void
FN (winograd_input_tiles) (REAL *v, size_t plane, const REAL *in, int C, int H, int W, long t0,
                           int n)
{
  const int TH = (H + 1) / 2, TW = (W + 1) / 2;

  for (int c = 0; c < C; c++)
    {
      long b = t0 / ((long) TH * TW), r = t0 % ((long) TH * TW);
      int th = (int) (r / TW), tw = (int) (r % TW);
      for (int k = 0; k < n; k++)
        {
          const REAL *src = in + ((size_t) b * C + c) * H * W;
          const int y0 = 2 * th - 1, x0 = 2 * tw - 1;
          REAL d[4][4], t[4][4];
          if (y0 >= 0 && y0 + 3 < H && x0 >= 0 && x0 + 3 < W)
            for (int i = 0; i < 4; i++)
              for (int j = 0; j < 4; j++)
                d[i][j] = src[(size_t) (y0 + i) * W + x0 + j];
          else
            for (int i = 0; i < 4; i++)
              for (int j = 0; j < 4; j++)
                {
                  int y = y0 + i, x = x0 + j;
                  d[i][j] = y >= 0 && y < H && x >= 0 && x < W ? src[(size_t) y * W + x] : 0;
                }
          for (int j = 0; j < 4; j++)
            {
              t[0][j] = d[0][j] - d[2][j];
              t[1][j] = d[1][j] + d[2][j];
              t[2][j] = d[2][j] - d[1][j];
              t[3][j] = d[1][j] - d[3][j];
            }
          REAL *dst = v + (size_t) c * n + k;
          for (int i = 0; i < 4; i++)
            {
              dst[(4 * i + 0) * plane] = t[i][0] - t[i][2];
              dst[(4 * i + 1) * plane] = t[i][1] + t[i][2];
              dst[(4 * i + 2) * plane] = t[i][2] - t[i][1];
              dst[(4 * i + 3) * plane] = t[i][1] - t[i][3];
            }
          if (++tw == TW)
            {
              tw = 0;
              if (++th == TH)
                {
                  th = 0;
                  b++;
                }
            }
        }
    }
}

/* out (B, OC, H, W) channels [oc0, oc1) for tiles [t0, t0 + n) from M[xi]
 * (oc1 - oc0, n), planes `plane` apart: = or +=, then + bias and max(0, .) */
static void
FN (winograd_output) (REAL *out, const REAL *mm, size_t plane, const REAL *bias,
                      const REAL *res, bool relu, bool accumulate, int OC, int oc0, int oc1,
                      int H, int W, long t0, int n)
{
  const int TH = (H + 1) / 2, TW = (W + 1) / 2;
  /* max(val, lo): 0 with the ReLU, -inf (nothing) without; with a residual
   * the ReLU comes after it */
  const REAL lo = relu ? (REAL) 0 : -(REAL) INFINITY;
  const REAL lo_rows = res != NULL ? -(REAL) INFINITY : lo;

  if (!accumulate && 2 * TW <= NN_WINO_ROW_MAX)
    {
      /* a run of tiles along a tile row at a time: both output rows of the
       * run built in rows[] by a loop GCC vectorizes, then copied out (the
       * same operations in the same order as the tile at a time loop below) */
      REAL rows[2][NN_WINO_ROW_MAX];
      for (int oc = oc0; oc < oc1; oc++)
        {
          long b = t0 / ((long) TH * TW), r = t0 % ((long) TH * TW);
          int th = (int) (r / TW), tw = (int) (r % TW);
          const REAL bv = bias != NULL ? bias[oc] : 0;
          for (int k = 0; k < n;)
            {
              const int seg = n - k < TW - tw ? n - k : TW - tw;
              const REAL *src = mm + (size_t) (oc - oc0) * n + k;
              for (int q = 0; q < seg; q++)
                {
                  REAL t[2][4];
                  for (int j = 0; j < 4; j++)
                    {
                      REAL m0 = src[j * plane + q], m1 = src[(4 + j) * plane + q];
                      REAL m2 = src[(8 + j) * plane + q], m3 = src[(12 + j) * plane + q];
                      t[0][j] = m0 + m1 + m2;
                      t[1][j] = m1 - m2 - m3;
                    }
                  for (int i = 0; i < 2; i++)
                    {
                      REAL y0v = t[i][0] + t[i][1] + t[i][2] + bv;
                      REAL y1v = t[i][1] - t[i][2] - t[i][3] + bv;
                      rows[i][2 * q] = y0v < lo_rows ? lo_rows : y0v;   /* NaN stays */
                      rows[i][2 * q + 1] = y1v < lo_rows ? lo_rows : y1v;
                    }
                }
              REAL *dst = out + ((size_t) b * OC + oc) * H * W;
              const int y0 = 2 * th, x0 = 2 * tw;
              const int cols = x0 + 2 * seg <= W ? 2 * seg : W - x0;
              for (int i = 0; i < 2 && y0 + i < H; i++)
                if (res == NULL)
                  memcpy (dst + (size_t) (y0 + i) * W + x0, rows[i], sizeof (REAL) * cols);
                else
                  {
                    /* the end of a residual block: + shortcut, then the ReLU */
                    size_t at = ((size_t) b * OC + oc) * H * W + (size_t) (y0 + i) * W + x0;
                    const REAL *rs = res + at;
                    REAL *o = out + at;
                    for (int x = 0; x < cols; x++)
                      {
                        REAL val = rows[i][x] + rs[x];
                        o[x] = val < lo ? lo : val;
                      }
                  }
              k += seg;
              tw += seg;
              if (tw == TW)
                {
                  tw = 0;
                  if (++th == TH)
                    {
                      th = 0;
                      b++;
                    }
                }
            }
        }
      return;
    }
  for (int oc = oc0; oc < oc1; oc++)
    {
      long b = t0 / ((long) TH * TW), r = t0 % ((long) TH * TW);
      int th = (int) (r / TW), tw = (int) (r % TW);
      const REAL bv = bias != NULL ? bias[oc] : 0;
      for (int k = 0; k < n; k++)
        {
          const REAL *src = mm + (size_t) (oc - oc0) * n + k;
          REAL t[2][4], y[2][2];
          for (int j = 0; j < 4; j++)
            {
              REAL m0 = src[j * plane], m1 = src[(4 + j) * plane];
              REAL m2 = src[(8 + j) * plane], m3 = src[(12 + j) * plane];
              t[0][j] = m0 + m1 + m2;
              t[1][j] = m1 - m2 - m3;
            }
          for (int i = 0; i < 2; i++)
            {
              y[i][0] = t[i][0] + t[i][1] + t[i][2] + bv;
              y[i][1] = t[i][1] - t[i][2] - t[i][3] + bv;
            }
          REAL *dst = out + ((size_t) b * OC + oc) * H * W;
          const int y0 = 2 * th, x0 = 2 * tw;
          if (!accumulate && y0 + 1 < H && x0 + 1 < W)
            {
              /* a whole tile: the ReLU as a select, not a branch on the sign
               * (half the outputs are negative: a branch mispredicts) */
              REAL *o = dst + (size_t) y0 * W + x0;
              for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                  {
                    REAL val = y[i][j];
                    o[(size_t) i * W + j] = val < lo ? lo : val;   /* NaN stays NaN */
                  }
            }
          else
            for (int i = 0; i < 2 && y0 + i < H; i++)
              for (int j = 0; j < 2 && x0 + j < W; j++)
                {
                  REAL *o = dst + (size_t) (y0 + i) * W + x0 + j;
                  REAL val = y[i][j];
                  if (accumulate)
                    val += *o;
                  if (res != NULL)
                    val += res[(size_t) (o - out)];
                  if (relu && val < 0)
                    val = 0;
                  *o = val;
                }
          if (++tw == TW)
            {
              tw = 0;
              if (++th == TH)
                {
                  th = 0;
                  b++;
                }
            }
        }
    }
}

/* A 3x3 stride-1 pad-1 convolution of in (B, C, H, W) into out (B, OC, H, W)
 * over the tiles [t0, t1) of the B * ceil(H/2) * ceil(W/2) in the batch, from
 * transformed weights u (16, OC, C), or with u_flipped, the transform of a
 * forward convolution's weights (16, C, OC) used for its backward data pass.
 * accumulate: out += instead of =. Chunks of tiles fill ws (ws_len floats);
 * nothing is done when not even one tile fits. */
/* u_packed (float only, or NULL): u's planes packed for nn_packed_gemm,
 * nn_packed_len (OC, C) floats apart, with oc0 and oc1 on panel boundaries
 * (oc1 may be OC); scratch then holds nn_packed_scratch_len of a chunk */
static void
FN (winograd_conv_oc) (REAL *out, const REAL *in, const REAL *u, bool u_flipped,
                       const float *u_packed, float *scratch, const REAL *bias,
                       const REAL *residual, bool relu, bool accumulate, int C, int OC, int H,
                       int W, long t0, long t1, int oc0, int oc1, REAL *ws, size_t ws_len)
{
  static const int flip[16] = { 15, 13, 14, 12, 7, 5, 6, 4, 11, 9, 10, 8, 3, 1, 2, 0 };
  const size_t u_plane = nn_winograd_plane ((size_t) OC * C);
  const int rows = oc1 - oc0;
  long chunk = nn_winograd_chunk (C, OC, ws_len);

  if (chunk < 1 || rows < 1)
    return;
  for (long ta = t0; ta < t1; ta += chunk)
    {
      int n = (int) (t1 - ta < chunk ? t1 - ta : chunk);
      size_t v_plane = nn_winograd_plane ((size_t) C * n);
      size_t m_plane = nn_winograd_plane ((size_t) rows * n);
      REAL *v = ws, *mm = ws + 16 * v_plane;
      FN (winograd_input) (v, v_plane, in, C, H, W, ta, n);
      for (int xi = 0; xi < 16; xi++)
        {
#ifdef NN_LAYERS_PACKED
          if (u_packed != NULL)
            nn_packed_gemm (mm + (size_t) xi * m_plane, (size_t) n,
                            u_packed + (size_t) xi * nn_packed_len (OC, C),
                            v + (size_t) xi * v_plane, (size_t) n, OC, C, n,
                            oc0 / NN_PACKED_MR, (oc1 + NN_PACKED_MR - 1) / NN_PACKED_MR,
                            scratch);
          else
#endif
          if (u_flipped)
            GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, rows, n, C, 1,
                  u + (size_t) flip[xi] * u_plane + oc0, OC, v + (size_t) xi * v_plane, n, 0,
                  mm + (size_t) xi * m_plane, n);
          else
            GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, C, 1,
                  u + (size_t) xi * u_plane + (size_t) oc0 * C, C, v + (size_t) xi * v_plane,
                  n, 0, mm + (size_t) xi * m_plane, n);
        }
      FN (winograd_output) (out, mm, m_plane, bias, residual, relu, accumulate, OC, oc0, oc1, H,
                            W, ta, n);
    }
}

void
FN (nn_winograd_conv_oc) (REAL *out, const REAL *in, const REAL *u, bool u_flipped,
                          const REAL *bias, const REAL *residual, bool relu, bool accumulate,
                          int C, int OC, int H, int W, long t0, long t1, int oc0, int oc1,
                          REAL *ws, size_t ws_len)
{
  FN (winograd_conv_oc) (out, in, u, u_flipped, NULL, NULL, bias, residual, relu, accumulate,
                         C, OC, H, W, t0, t1, oc0, oc1, ws, ws_len);
}

void
FN (nn_winograd_conv) (REAL *out, const REAL *in, const REAL *u, bool u_flipped,
                       const REAL *bias, bool relu, bool accumulate, int C, int OC, int H,
                       int W, long t0, long t1, REAL *ws, size_t ws_len)
{
  FN (nn_winograd_conv_oc) (out, in, u, u_flipped, bias, NULL, relu, accumulate, C, OC, H, W, t0,
                            t1, 0, OC, ws, ws_len);
}

/* Weight gradient by the same transforms: with M = U .* V and U = G g G^T,
 *   dM = A dY A^T per tile,  dU[xi] (OC, C) += dM[xi] (OC, T) x V[xi]^T (T, C),
 *   dg = G^T dU G
 * so the 16 GEMMs reduce over the tiles, and each thread keeps its own dU. */

/* dM[xi] (OC, n), planes `plane` apart, for tiles [t0, t0 + n) of dout (B, OC, H, W) */
static void
FN (winograd_output_grad) (REAL *dm, size_t plane, const REAL *dout, int OC, int H, int W,
                           long t0, int n)
{
  const int TH = (H + 1) / 2, TW = (W + 1) / 2;

  for (int oc = 0; oc < OC; oc++)
    {
      long b = t0 / ((long) TH * TW), r = t0 % ((long) TH * TW);
      int th = (int) (r / TW), tw = (int) (r % TW);
      for (int k = 0; k < n; k++)
        {
          const REAL *src = dout + ((size_t) b * OC + oc) * H * W;
          const int y0 = 2 * th, x0 = 2 * tw;
          REAL y[2][2], t[4][2];
          for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
              y[i][j] = y0 + i < H && x0 + j < W ? src[(size_t) (y0 + i) * W + x0 + j] : 0;
          /* A = [1 0; 1 1; 1 -1; 0 -1] */
          for (int j = 0; j < 2; j++)
            {
              t[0][j] = y[0][j];
              t[1][j] = y[0][j] + y[1][j];
              t[2][j] = y[0][j] - y[1][j];
              t[3][j] = -y[1][j];
            }
          REAL *dst = dm + (size_t) oc * n + k;
          for (int i = 0; i < 4; i++)
            {
              dst[(4 * i + 0) * plane] = t[i][0];
              dst[(4 * i + 1) * plane] = t[i][0] + t[i][1];
              dst[(4 * i + 2) * plane] = t[i][0] - t[i][1];
              dst[(4 * i + 3) * plane] = -t[i][1];
            }
          if (++tw == TW)
            {
              tw = 0;
              if (++th == TH)
                {
                  th = 0;
                  b++;
                }
            }
        }
    }
}

void
FN (nn_winograd_dweight_tiles) (REAL *du, const REAL *in, const REAL *dout, int C, int OC,
                                int H, int W, long t0, long t1, REAL *ws, size_t ws_len)
{
  const size_t u_plane = nn_winograd_plane ((size_t) OC * C);
  long chunk = nn_winograd_chunk (C, OC, ws_len);

  if (chunk < 1)
    return;
  for (long ta = t0; ta < t1; ta += chunk)
    {
      int n = (int) (t1 - ta < chunk ? t1 - ta : chunk);
      size_t v_plane = nn_winograd_plane ((size_t) C * n);
      size_t m_plane = nn_winograd_plane ((size_t) OC * n);
      REAL *v = ws, *dm = ws + 16 * v_plane;
      FN (winograd_input) (v, v_plane, in, C, H, W, ta, n);
      FN (winograd_output_grad) (dm, m_plane, dout, OC, H, W, ta, n);
      for (int xi = 0; xi < 16; xi++)
        GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, OC, C, n, 1, dm + (size_t) xi * m_plane,
              n, v + (size_t) xi * v_plane, n, 1, du + (size_t) xi * u_plane, C);
    }
}

void
FN (nn_winograd_dweight_finish) (REAL *dweight, const REAL *const *du, int n_du, int OC, int C,
                                 int oc0, int oc1)
{
  const size_t plane = nn_winograd_plane ((size_t) OC * C);

  for (int oc = oc0; oc < oc1; oc++)
    for (int c = 0; c < C; c++)
      {
        size_t at = (size_t) oc * C + c;
        REAL s[4][4], t[3][4];
        for (int xi = 0; xi < 16; xi++)
          {
            REAL sum = 0;
            for (int i = 0; i < n_du; i++)
              sum += du[i][xi * plane + at];
            s[xi / 4][xi % 4] = sum;
          }
        /* G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1] */
        for (int j = 0; j < 4; j++)
          {
            t[0][j] = s[0][j] + (REAL) 0.5 * (s[1][j] + s[2][j]);
            t[1][j] = (REAL) 0.5 * (s[1][j] - s[2][j]);
            t[2][j] = (REAL) 0.5 * (s[1][j] + s[2][j]) + s[3][j];
          }
        REAL *g = dweight + at * 9;
        for (int i = 0; i < 3; i++)
          {
            g[3 * i + 0] += t[i][0] + (REAL) 0.5 * (t[i][1] + t[i][2]);
            g[3 * i + 1] += (REAL) 0.5 * (t[i][1] - t[i][2]);
            g[3 * i + 2] += (REAL) 0.5 * (t[i][1] + t[i][2]) + t[i][3];
          }
      }
}

/* ---- batchnorm -----------------------------------------------------------
 * The _channels variants work on channels [c0, c1) of a (B, C, HW) tensor, so
 * the model can split channels across threads; with relu they apply max(y, 0)
 * in the same pass. Sums run in double over eight independent lanes: the
 * compiler vectorizes them, and the order is fixed, so results are repeatable.
 */

static inline void
FN (bn_sums) (double *sum_out, double *sq_out, const REAL *in, int B, int C, int HW, int c,
              double mean, bool want_sq)
{
  double lane[8] = { 0 };
  for (int b = 0; b < B; b++)
    {
      const REAL *x = in + ((size_t) b * C + c) * HW;
      int i = 0;
      if (!want_sq)
        {
          for (; i + 8 <= HW; i += 8)
            for (int k = 0; k < 8; k++)
              lane[k] += (double) x[i + k];
          for (; i < HW; i++)
            lane[0] += (double) x[i];
        }
      else
        {
          for (; i + 8 <= HW; i += 8)
            for (int k = 0; k < 8; k++)
              {
                double d = (double) x[i + k] - mean;
                lane[k] += d * d;
              }
          for (; i < HW; i++)
            {
              double d = (double) x[i] - mean;
              lane[0] += d * d;
            }
        }
    }
  double total = ((lane[0] + lane[1]) + (lane[2] + lane[3]))
                 + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  if (want_sq)
    *sq_out = total;
  else
    *sum_out = total;
}

static inline void
FN (bn_apply) (REAL *out, const REAL *in, int B, int C, int HW, int c, REAL alpha, REAL shift,
               bool relu)
{
  for (int b = 0; b < B; b++)
    {
      const REAL *x = in + ((size_t) b * C + c) * HW;
      REAL *y = out + ((size_t) b * C + c) * HW;
      if (relu)
        for (int i = 0; i < HW; i++)
          {
            REAL v = x[i] * alpha + shift;
            y[i] = v < 0 ? 0 : v;       /* NaN stays NaN, as in PyTorch */
          }
      else
        for (int i = 0; i < HW; i++)
          y[i] = x[i] * alpha + shift;
    }
}

void
FN (nn_batchnorm_forward_train_channels) (REAL *out, REAL *save_mean, REAL *save_invstd,
                                          REAL *running_mean, REAL *running_var,
                                          const REAL *in, const REAL *gamma, const REAL *beta,
                                          int B, int C, int HW, int c0, int c1, bool relu,
                                          double momentum, double eps, REAL *alpha_out,
                                          REAL *shift_out)
{
  const double n = (double) B * HW;

  for (int c = c0; c < c1; c++)
    {
      double sum = 0, sq = 0;
      FN (bn_sums) (&sum, NULL, in, B, C, HW, c, 0, false);
      double mean = sum / n;
      FN (bn_sums) (NULL, &sq, in, B, C, HW, c, mean, true);
      double var = sq / n;                      /* biased: used to normalize */
      double invstd = 1.0 / sqrt (var + eps);
      save_mean[c] = (REAL) mean;
      save_invstd[c] = (REAL) invstd;
      if (running_mean != NULL)
        {
          double unbiased = n > 1 ? sq / (n - 1) : var;
          running_mean[c] = (REAL) ((1 - momentum) * (double) running_mean[c] + momentum * mean);
          running_var[c] = (REAL) ((1 - momentum) * (double) running_var[c]
                                   + momentum * unbiased);
        }
      REAL alpha = (REAL) (invstd * (double) gamma[c]);
      REAL shift = (REAL) ((double) beta[c] - mean * invstd * (double) gamma[c]);
      FN (bn_apply) (out, in, B, C, HW, c, alpha, shift, relu);
      if (alpha_out != NULL)
        {
          alpha_out[c] = alpha;
          shift_out[c] = shift;
        }
    }
}

void
FN (nn_batchnorm_forward_train) (REAL *out, REAL *save_mean, REAL *save_invstd,
                                 REAL *running_mean, REAL *running_var, const REAL *in,
                                 const REAL *gamma, const REAL *beta, int B, int C, int HW,
                                 double momentum, double eps)
{
  FN (nn_batchnorm_forward_train_channels) (out, save_mean, save_invstd, running_mean,
                                            running_var, in, gamma, beta, B, C, HW, 0, C,
                                            false, momentum, eps, NULL, NULL);
}

void
FN (nn_batchnorm_forward_eval_channels) (REAL *out, const REAL *in, const REAL *gamma,
                                         const REAL *beta, const REAL *running_mean,
                                         const REAL *running_var, int B, int C, int HW,
                                         int c0, int c1, bool relu, double eps,
                                         REAL *alpha_out, REAL *shift_out)
{
  for (int c = c0; c < c1; c++)
    {
      double invstd = 1.0 / sqrt ((double) running_var[c] + eps);
      REAL alpha = (REAL) (invstd * (double) gamma[c]);
      REAL shift = (REAL) ((double) beta[c] - (double) running_mean[c] * invstd * (double) gamma[c]);
      FN (bn_apply) (out, in, B, C, HW, c, alpha, shift, relu);
      if (alpha_out != NULL)
        {
          alpha_out[c] = alpha;
          shift_out[c] = shift;
        }
    }
}

/* out = in * alpha + shift per channel (then max(0, .)): a BatchNorm output
 * recomputed bit for bit from the alpha and shift its forward gave */
void
FN (nn_batchnorm_apply_channels) (REAL *out, const REAL *in, const REAL *alpha,
                                  const REAL *shift, int B, int C, int HW, int c0, int c1,
                                  bool relu)
{
  for (int c = c0; c < c1; c++)
    FN (bn_apply) (out, in, B, C, HW, c, alpha[c], shift[c], relu);
}

/* d *= (in * alpha + shift > 0): ReLU's backward after a BatchNorm whose
 * output was not kept */
void
FN (nn_batchnorm_relu_backward_channels) (REAL *d, const REAL *in, const REAL *alpha,
                                          const REAL *shift, int B, int C, int HW, int c0,
                                          int c1)
{
  for (int c = c0; c < c1; c++)
    for (int b = 0; b < B; b++)
      {
        const REAL *x = in + ((size_t) b * C + c) * HW;
        REAL *g = d + ((size_t) b * C + c) * HW;
        const REAL a = alpha[c], sh = shift[c];
        for (int i = 0; i < HW; i++)
          {
            REAL v = x[i] * a + sh;
            g[i] = v > 0 ? g[i] : 0;
          }
      }
}

void
FN (nn_batchnorm_forward_eval) (REAL *out, const REAL *in, const REAL *gamma,
                                const REAL *beta, const REAL *running_mean,
                                const REAL *running_var, int B, int C, int HW, double eps)
{
  FN (nn_batchnorm_forward_eval_channels) (out, in, gamma, beta, running_mean, running_var,
                                           B, C, HW, 0, C, false, eps, NULL, NULL);
}

void
FN (nn_batchnorm_backward_channels) (REAL *din, REAL *dgamma, REAL *dbeta, const REAL *dout,
                                     const REAL *in, const REAL *save_mean,
                                     const REAL *save_invstd, const REAL *gamma, int B, int C,
                                     int HW, int c0, int c1)
{
  const double n = (double) B * HW;

  for (int c = c0; c < c1; c++)
    {
      const double mean = (double) save_mean[c], invstd = (double) save_invstd[c];
      double lane_dy[8] = { 0 }, lane_dyx[8] = { 0 };
      for (int b = 0; b < B; b++)
        {
          const REAL *x = in + ((size_t) b * C + c) * HW;
          const REAL *dy = dout + ((size_t) b * C + c) * HW;
          int i = 0;
          for (; i + 8 <= HW; i += 8)
            for (int k = 0; k < 8; k++)
              {
                lane_dy[k] += (double) dy[i + k];
                lane_dyx[k] += (double) dy[i + k] * ((double) x[i + k] - mean);
              }
          for (; i < HW; i++)
            {
              lane_dy[0] += (double) dy[i];
              lane_dyx[0] += (double) dy[i] * ((double) x[i] - mean);
            }
        }
      double sum_dy = ((lane_dy[0] + lane_dy[1]) + (lane_dy[2] + lane_dy[3]))
                      + ((lane_dy[4] + lane_dy[5]) + (lane_dy[6] + lane_dy[7]));
      double sum_dy_xmu = ((lane_dyx[0] + lane_dyx[1]) + (lane_dyx[2] + lane_dyx[3]))
                          + ((lane_dyx[4] + lane_dyx[5]) + (lane_dyx[6] + lane_dyx[7]));
      if (dgamma != NULL)
        dgamma[c] += (REAL) (sum_dy_xmu * invstd);
      if (dbeta != NULL)
        dbeta[c] += (REAL) sum_dy;
      if (din == NULL)
        continue;
      /* dx = gamma*invstd * (dy - mean(dy) - (x-mean) * invstd^2 * mean(dy*(x-mean))) */
      const REAL k = (REAL) (sum_dy_xmu * invstd * invstd / n);
      const REAL mean_dy = (REAL) (sum_dy / n);
      const REAL scale = (REAL) (invstd * (double) gamma[c]);
      const REAL m = (REAL) mean;
      for (int b = 0; b < B; b++)
        {
          const REAL *x = in + ((size_t) b * C + c) * HW;
          const REAL *dy = dout + ((size_t) b * C + c) * HW;
          REAL *dx = din + ((size_t) b * C + c) * HW;
          for (int i = 0; i < HW; i++)
            dx[i] = (dy[i] - mean_dy - (x[i] - m) * k) * scale;
        }
    }
}

void
FN (nn_batchnorm_backward) (REAL *din, REAL *dgamma, REAL *dbeta, const REAL *dout,
                            const REAL *in, const REAL *save_mean, const REAL *save_invstd,
                            const REAL *gamma, int B, int C, int HW)
{
  FN (nn_batchnorm_backward_channels) (din, dgamma, dbeta, dout, in, save_mean, save_invstd,
                                       gamma, B, C, HW, 0, C);
}

void
FN (nn_batchnorm_backward_eval) (REAL *din, const REAL *dout, const REAL *gamma,
                                 const REAL *running_var, int B, int C, int HW, double eps)
{
  for (int c = 0; c < C; c++)
    {
      REAL alpha = (REAL) (gamma[c] / sqrt ((double) running_var[c] + eps));
      for (int b = 0; b < B; b++)
        {
          const REAL *dy = dout + ((size_t) b * C + c) * HW;
          REAL *dx = din + ((size_t) b * C + c) * HW;
          for (int i = 0; i < HW; i++)
            dx[i] = dy[i] * alpha;
        }
    }
}

/* ---- elementwise --------------------------------------------------------- */

void
FN (nn_relu_forward) (REAL *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] < 0 ? 0 : x[i];
}

void
FN (nn_relu_backward) (REAL *d, const REAL *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    d[i] = out[i] > 0 ? d[i] : 0;
}

void
FN (nn_add_relu_forward) (REAL *a, const REAL *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      REAL v = a[i] + b[i];
      a[i] = v < 0 ? 0 : v;
    }
}

void
FN (nn_dropout_forward) (REAL *out, const REAL *in, const REAL *mask, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] * mask[i];
}

void
FN (nn_dropout_backward) (REAL *din, const REAL *dout, const REAL *mask, size_t n)
{
  for (size_t i = 0; i < n; i++)
    din[i] = dout[i] * mask[i];
}

/* ---- pooling ------------------------------------------------------------- */

/* One window the careful way: PyTorch keeps the first maximum in row-major
 * order, and NaN wins */
static inline void
FN (maxpool_window) (REAL *y, int32_t *am, const REAL *x, int H, int W, int kernel, int h0,
                     int w0)
{
  int kh0 = h0 < 0 ? -h0 : 0, kh1 = h0 + kernel > H ? H - h0 : kernel;
  int kw0 = w0 < 0 ? -w0 : 0, kw1 = w0 + kernel > W ? W - w0 : kernel;
  const REAL *row = x + (size_t) (h0 + kh0) * W + w0;
  REAL best = row[kw0];
  int32_t best_i = (h0 + kh0) * W + w0 + kw0;

  for (int kh = kh0; kh < kh1; kh++, row += W)
    for (int kw = kw0; kw < kw1; kw++)
      {
        REAL v = row[kw];
        if (v > best || (isnan (v) && !isnan (best)))
          {
            best = v;
            best_i = (h0 + kh) * W + w0 + kw;
          }
      }
  *y = best;
  if (am != NULL)
    *am = best_i;
}

/* The whole 3x3, stride-2 windows of one output row, [lo, hi), without
 * branches: the maximum moves unpredictably and mispredictions cost more than
 * the comparisons, and without branches the loop vectorizes. Ties keep the
 * first, as maxpool_window does. Returns whether a NaN was seen (the caller
 * then redoes the row the careful way). */
static inline bool
FN (maxpool3s2_row) (REAL *y, int32_t *am, const REAL *x, int W, int h0, int pad, int lo,
                     int hi)
{
  const REAL *r0 = x + (size_t) h0 * W, *r1 = r0 + W, *r2 = r1 + W;
  int nan = 0;

#define NN_MAXPOOL_TAP(row, k)                                                            \
  {                                                                                       \
    REAL v = row[w0 + k];                                                                 \
    best = v > best ? v : best;                                                           \
    nan |= v != v;                                                                        \
  }
#define NN_MAXPOOL_WINDOW                                                                 \
  int w0 = 2 * ow - pad;                                                                  \
  REAL best = r0[w0];                                                                     \
  nan |= best != best;                                                                    \
  NN_MAXPOOL_TAP (r0, 1)                                                               \
  NN_MAXPOOL_TAP (r0, 2)                                                               \
  NN_MAXPOOL_TAP (r1, 0)                                                               \
  NN_MAXPOOL_TAP (r1, 1)                                                           \
  NN_MAXPOOL_TAP (r1, 2)                                                           \
  NN_MAXPOOL_TAP (r2, 0)                                                           \
  NN_MAXPOOL_TAP (r2, 1)                                                       \
  NN_MAXPOOL_TAP (r2, 2)                                                       \
  y[ow] = best;
  for (int ow = lo; ow < hi; ow++)
    {
      NN_MAXPOOL_WINDOW
    }
  /* the index in a second pass: the first tap equal to the maximum (no NaN
   * here, or the caller redoes the row), found from the last tap back. The
   * offsets are REALs, held in variables, so that the selects vectorize. */
  const REAL o8 = (REAL) (2 * W + 2), o7 = (REAL) (2 * W + 1), o6 = (REAL) (2 * W);
  const REAL o5 = (REAL) (W + 2), o4 = (REAL) (W + 1), o3 = (REAL) W;
  if (am != NULL)
    for (int ow = lo; ow < hi; ow++)
      {
        int w0 = 2 * ow - pad;
        REAL best = y[ow];
        REAL off = o8;
        off = r2[w0 + 1] == best ? o7 : off;
        off = r2[w0] == best ? o6 : off;
        off = r1[w0 + 2] == best ? o5 : off;
        off = r1[w0 + 1] == best ? o4 : off;
        off = r1[w0] == best ? o3 : off;
        off = r0[w0 + 2] == best ? (REAL) 2 : off;
        off = r0[w0 + 1] == best ? (REAL) 1 : off;
        off = r0[w0] == best ? (REAL) 0 : off;
        am[ow] = h0 * W + w0 + (int32_t) off;
      }
#undef NN_MAXPOOL_WINDOW
#undef NN_MAXPOOL_TAP
  return nan != 0;
}

void
FN (nn_maxpool2d_forward) (REAL *out, int32_t *argmax, const REAL *in, int B, int C,
                           int H, int W, int kernel, int stride, int pad, int OH, int OW)
{
  /* output columns whose 3x3 stride-2 window lies inside the row */
  int lo = (pad + 1) / 2, hi = (W - 3 + pad) / 2 + 1;

  if (kernel != 3 || stride != 2 || W < 3)
    lo = hi = 0;
  if (hi > OW)
    hi = OW;
  if (lo > hi)
    lo = hi;
  for (size_t plane = 0; plane < (size_t) B * C; plane++)
    {
      const REAL *x = in + plane * H * W;
      REAL *y = out + plane * OH * OW;
      int32_t *am = argmax != NULL ? argmax + plane * OH * OW : NULL;
      for (int oh = 0; oh < OH; oh++)
        {
          int h0 = oh * stride - pad;
          int32_t *am_row = am != NULL ? am + oh * OW : NULL;
          int fast_lo = lo, fast_hi = hi;
          if (h0 < 0 || h0 + kernel > H
              || FN (maxpool3s2_row) (y + oh * OW, am_row, x, W, h0, pad, lo, hi))
            fast_lo = fast_hi = 0;          /* the careful way for the whole row */
          for (int ow = 0; ow < OW; ow++)
            {
              if (ow == fast_lo && fast_hi > fast_lo)
                {
                  ow = fast_hi - 1;
                  continue;
                }
              FN (maxpool_window) (y + oh * OW + ow, am_row != NULL ? am_row + ow : NULL, x, H,
                                   W, kernel, h0, ow * stride - pad);
            }
        }
    }
}

void
FN (nn_maxpool2d_backward) (REAL *din, const REAL *dout, const int32_t *argmax, int B,
                            int C, int H, int W, int OH, int OW)
{
  for (size_t plane = 0; plane < (size_t) B * C; plane++)
    {
      REAL *dx = din + plane * H * W;
      const REAL *dy = dout + plane * OH * OW;
      const int32_t *am = argmax + plane * OH * OW;
      for (int i = 0; i < OH * OW; i++)
        if (am[i] >= 0)
          dx[am[i]] += dy[i];
    }
}

void
FN (nn_avgpool_forward) (REAL *out, const REAL *in, int B, int C, int HW)
{
  for (size_t plane = 0; plane < (size_t) B * C; plane++)
    {
      const REAL *x = in + plane * HW;
      double sum = 0;
      for (int i = 0; i < HW; i++)
        sum += x[i];
      out[plane] = (REAL) (sum / HW);
    }
}

void
FN (nn_avgpool_backward) (REAL *din, const REAL *dout, int B, int C, int HW)
{
  for (size_t plane = 0; plane < (size_t) B * C; plane++)
    {
      REAL g = (REAL) (dout[plane] / HW);
      REAL *dx = din + plane * HW;
      for (int i = 0; i < HW; i++)
        dx[i] += g;
    }
}

/* ---- linear ---------------------------------------------------------------
 *   out (B, OUT) = in (B, IN) x weight^T (IN, OUT) + bias
 *   dweight (OUT, IN) += dout^T (OUT, B) x in (B, IN)
 *   din (B, IN) += dout (B, OUT) x weight (OUT, IN)
 */

void
FN (nn_linear_forward) (REAL *out, const REAL *in, const REAL *weight, const REAL *bias,
                        int B, int IN, int OUT)
{
  GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, B, OUT, IN,
        1, in, IN, weight, IN, 0, out, OUT);
  if (bias != NULL)
    for (int b = 0; b < B; b++)
      for (int o = 0; o < OUT; o++)
        out[(size_t) b * OUT + o] += bias[o];
}

void
FN (nn_linear_backward) (REAL *din, REAL *dweight, REAL *dbias, const REAL *dout,
                         const REAL *in, const REAL *weight, int B, int IN, int OUT)
{
  if (dweight != NULL)
    GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, OUT, IN, B,
          1, dout, OUT, in, IN, 1, dweight, IN);
  if (dbias != NULL)
    for (int o = 0; o < OUT; o++)
      {
        double sum = 0;
        for (int b = 0; b < B; b++)
          sum += dout[(size_t) b * OUT + o];
        dbias[o] += (REAL) sum;
      }
  if (din != NULL)
    GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, IN, OUT,
          1, dout, OUT, weight, IN, 1, din, IN);
}

/* ---- softmax cross-entropy ------------------------------------------------ */

double
FN (nn_softmax_cross_entropy_forward) (REAL *probs, const REAL *logits, const int *labels,
                                       const REAL *class_weight, int B, int C)
{
  double loss = 0, weight_sum = 0;

  for (int b = 0; b < B; b++)
    {
      const REAL *z = logits + (size_t) b * C;
      REAL *p = probs + (size_t) b * C;
      double zmax = z[0], sum = 0;
      for (int c = 1; c < C; c++)
        if (z[c] > zmax)
          zmax = z[c];
      for (int c = 0; c < C; c++)
        sum += exp (z[c] - zmax);
      for (int c = 0; c < C; c++)
        p[c] = (REAL) (exp (z[c] - zmax) / sum);
      double w = class_weight != NULL ? class_weight[labels[b]] : 1.0;
      /* log-softmax without forming p: exact for tiny probabilities */
      loss += w * -(z[labels[b]] - zmax - log (sum));
      weight_sum += w;
    }
  return weight_sum > 0 ? loss / weight_sum : 0;
}

void
FN (nn_softmax_cross_entropy_backward) (REAL *dlogits, const REAL *probs, const int *labels,
                                        const REAL *class_weight, int B, int C)
{
  double weight_sum = 0;

  for (int b = 0; b < B; b++)
    weight_sum += class_weight != NULL ? class_weight[labels[b]] : 1.0;
  for (int b = 0; b < B; b++)
    {
      double w = (class_weight != NULL ? class_weight[labels[b]] : 1.0) / weight_sum;
      for (int c = 0; c < C; c++)
        {
          double target = c == labels[b] ? 1.0 : 0.0;
          dlogits[(size_t) b * C + c] = (REAL) (w * (probs[(size_t) b * C + c] - target));
        }
    }
}
