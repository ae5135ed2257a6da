/* nn-packed.c — convolution GEMMs on weights packed once (see nn-packed.h).
 *
 * The kernel keeps a 64 x 7 block of the output in 28 AVX-512 registers: per
 * reduction step it loads 64 packed weights (four registers), broadcasts 7
 * column values and issues 28 fused multiply-adds. A panel's weights are
 * taken NN_PACKED_KC steps at a time (24 KB, held in L1 while the kernel
 * walks across all N columns), and the next block is prefetched into L2
 * during the first passes over this one. One core, (256 x 4608) x (4608 x 49)
 * with the weights cold in L3 as in the network: OpenBLAS 98 GFLOP/s, this
 * kernel 124 with blocks of 512 steps, 166 with the prefetch, 172 with blocks
 * of 96 (194 with every operand warm in cache).
 *
 * CPUs without AVX-512 (most desktop and laptop parts) run an AVX2 + FMA
 * kernel on the same packing: 16 rows by 6 columns in registers, each column
 * group taken by the panel's four 16-row quarters in turn. Measured on this
 * AVX-512 machine (NN_PACKED=avx2), batch 1, 2 threads: layer4's 3x3 convs
 * at 155 GFLOP/s (~90% of the AVX2 units' peak), against 238 with AVX-512.
 * With OpenBLAS also held to its AVX2 code (OPENBLAS_CORETYPE=Haswell, as on
 * such a CPU) the model's batch-1 inference ran at 60.4 img/s, against 54.5
 * on OpenBLAS alone.
 */
#include "nn-packed.h"

#include <stdatomic.h>
#include <string.h>

size_t
nn_packed_len (int M, int K)
{
  return (size_t) (M + NN_PACKED_MR - 1) / NN_PACKED_MR * NN_PACKED_MR * (size_t) K;
}

size_t
nn_packed_scratch_len (int N)
{
  return (size_t) (N + NN_PACKED_NR - 1) / NN_PACKED_NR * NN_PACKED_NR * NN_PACKED_MR;
}

void
nn_packed_pack (float *packed, const float *w, int M, int K, int pb0, int pb1)
{
  for (int pb = pb0; pb < pb1; pb++)
    {
      float *dst = packed + (size_t) pb * K * NN_PACKED_MR;
      for (int r = 0; r < NN_PACKED_MR; r++)
        {
          int m = pb * NN_PACKED_MR + r;
          if (m >= M)
            for (int k = 0; k < K; k++)
              dst[(size_t) k * NN_PACKED_MR + r] = 0;
          else
            for (int k = 0; k < K; k++)
              dst[(size_t) k * NN_PACKED_MR + r] = w[(size_t) m * K + k];
        }
    }
}

/* Adds bias (and the residual), applies the ReLU and writes the panel's rows
 * of columns [n0, n1) from scratch, where column n's 64 rows are contiguous
 * from (n - n0) * 64, to (B, M, ohw). */
static void
panel_epilogue (float *out, const float *scratch, const float *bias, const float *residual,
                bool relu, int M, int n0, int n1, int ohw, int pb)
{
  for (int r = 0; r < NN_PACKED_MR; r++)
    {
      int m = pb * NN_PACKED_MR + r;
      if (m >= M)
        break;
      const float b = bias != NULL ? bias[m] : 0;
      for (int n = n0; n < n1;)
        {
          /* the run of columns in image n / ohw */
          const int q0 = n % ohw, len = n1 - n < ohw - q0 ? n1 - n : ohw - q0;
          size_t at = ((size_t) (n / ohw) * M + m) * ohw + q0;
          const float *src = scratch + (size_t) (n - n0) * NN_PACKED_MR + r;
          float *o = out + at;
          const float *res = residual != NULL ? residual + at : NULL;
          n += len;
          for (int q = 0; q < len; q++)
            {
              float v = src[(size_t) q * NN_PACKED_MR] + b;
              if (res != NULL)
                v += res[q];
              o[q] = relu && v < 0 ? 0 : v;       /* NaN stays NaN, as in PyTorch */
            }
        }
    }
}

/* panel_product in plain C: correct everywhere, fast nowhere */
static void
panel_product_plain (float *scratch, const float *packed, int pb, int pb_end, int K,
                     const float *col, size_t ldcol, int n0, int n1)
{
  (void) pb_end;
  const float *p = packed + (size_t) pb * K * NN_PACKED_MR;

  memset (scratch, 0, (size_t) (n1 - n0) * NN_PACKED_MR * sizeof (float));
  for (int k = 0; k < K; k++)
    for (int n = n0; n < n1; n++)
      {
        const float x = col[(size_t) k * ldcol + n];
        float *acc = scratch + (size_t) (n - n0) * NN_PACKED_MR;
        for (int r = 0; r < NN_PACKED_MR; r++)
          acc[r] += p[(size_t) k * NN_PACKED_MR + r] * x;
      }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define NN_AVX512 __attribute__ ((target ("avx512f")))
#define NN_AVX2 __attribute__ ((target ("avx2,fma")))

/* libgcc reads the CPU's features once, before main (no lock needed here);
 * they include whether the system saves AVX-512 (or AVX) registers */
static bool
kernel_supported (NnPackedKernel kernel)
{
  switch (kernel)
    {
    case NN_PACKED_KERNEL_AVX512: return __builtin_cpu_supports ("avx512f");
    case NN_PACKED_KERNEL_AVX2:
      return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    case NN_PACKED_KERNEL_PLAIN: return true;
    }
  return false;
}

/* scratch[n * 64 + r] (+)= sum over kc steps of p[k * 64 + r] * b[k * ldb + n]
 * for the nr columns n; pf: one line of the next block to prefetch per step */
NN_AVX512 static inline __attribute__ ((always_inline)) void
kernel (float *scratch, const float *p, const float *b, size_t ldb, int kc, bool first,
        const char *pf, const int nr)
{
  __m512 c[NN_PACKED_NR][4];

  for (int j = 0; j < nr; j++)
    for (int i = 0; i < 4; i++)
      c[j][i] = first ? _mm512_setzero_ps () : _mm512_load_ps (scratch + j * 64 + i * 16);
  for (int k = 0; k < kc; k++)
    {
      __m512 a0 = _mm512_load_ps (p), a1 = _mm512_load_ps (p + 16);
      __m512 a2 = _mm512_load_ps (p + 32), a3 = _mm512_load_ps (p + 48);
      for (int j = 0; j < nr; j++)
        {
          __m512 bj = _mm512_set1_ps (b[j]);
          c[j][0] = _mm512_fmadd_ps (a0, bj, c[j][0]);
          c[j][1] = _mm512_fmadd_ps (a1, bj, c[j][1]);
          c[j][2] = _mm512_fmadd_ps (a2, bj, c[j][2]);
          c[j][3] = _mm512_fmadd_ps (a3, bj, c[j][3]);
        }
      if (pf != NULL)
        {
          _mm_prefetch (pf, _MM_HINT_T1);
          pf += 64;
        }
      p += NN_PACKED_MR;
      b += ldb;
    }
  for (int j = 0; j < nr; j++)
    for (int i = 0; i < 4; i++)
      _mm512_store_ps (scratch + j * 64 + i * 16, c[j][i]);
}

NN_AVX512 static void
kernel_cols (float *scratch, const float *p, const float *b, size_t ldb, int kc, bool first,
             const char *pf, int nr)
{
  switch (nr)
    {
    case 7: kernel (scratch, p, b, ldb, kc, first, pf, 7); break;
    case 6: kernel (scratch, p, b, ldb, kc, first, pf, 6); break;
    case 5: kernel (scratch, p, b, ldb, kc, first, pf, 5); break;
    case 4: kernel (scratch, p, b, ldb, kc, first, pf, 4); break;
    case 3: kernel (scratch, p, b, ldb, kc, first, pf, 3); break;
    case 2: kernel (scratch, p, b, ldb, kc, first, pf, 2); break;
    default: kernel (scratch, p, b, ldb, kc, first, pf, 1); break;
    }
}

/* The block after panel pb's block of kc steps from k0 (at p): the panel's
 * next, or the next panel's first; NULL after the last. The kernels prefetch
 * it into L2 while they work on this one. */
static const float *
next_block (const float *packed, const float *p, int pb, int pb_end, int K, int k0, int kc)
{
  const size_t panel = (size_t) K * NN_PACKED_MR;

  return k0 + kc < K ? p + (size_t) kc * NN_PACKED_MR
         : pb + 1 < pb_end ? packed + (pb + 1) * panel : NULL;
}

/* scratch[(n - n0) * 64 + r] = sum over k of panel pb's row r times col[k][n],
 * for the columns [n0, n1) */
static void
panel_product_avx512 (float *scratch, const float *packed, int pb, int pb_end, int K,
                      const float *col, size_t ldcol, int n0, int n1)
{
  const size_t panel = (size_t) K * NN_PACKED_MR;

  for (int k0 = 0; k0 < K; k0 += NN_PACKED_KC)
    {
      const int kc = K - k0 < NN_PACKED_KC ? K - k0 : NN_PACKED_KC;
      const float *p = packed + pb * panel + (size_t) k0 * NN_PACKED_MR;
      /* kc * 4 lines, one per step in the first four passes */
      const float *next = next_block (packed, p, pb, pb_end, K, k0, kc);
      for (int n = n0, pass = 0; n < n1; n += NN_PACKED_NR, pass++)
        {
          const int nr = n1 - n < NN_PACKED_NR ? n1 - n : NN_PACKED_NR;
          const char *pf = next != NULL && pass < 4
                             ? (const char *) next + (size_t) pass * kc * 64 : NULL;
          kernel_cols (scratch + (size_t) (n - n0) * NN_PACKED_MR, p,
                       col + (size_t) k0 * ldcol + n, ldcol, kc, k0 == 0, pf, nr);
        }
    }
}

/* AVX2 has 16 registers of 8 floats: the kernel holds 16 of a panel's 64 rows
 * by NN_AVX2_NR columns (12 registers), 2 for the weights, 1 for the
 * broadcast column value. scratch and p point at the 16 rows' first. */
#define NN_AVX2_NR 6

NN_AVX2 static inline __attribute__ ((always_inline)) void
kernel_avx2 (float *scratch, const float *p, const float *b, size_t ldb, int kc, bool first,
             const char *pf, const int nr)
{
  __m256 c[NN_AVX2_NR][2];

  for (int j = 0; j < nr; j++)
    for (int i = 0; i < 2; i++)
      c[j][i] = first ? _mm256_setzero_ps () : _mm256_load_ps (scratch + j * 64 + i * 8);
  for (int k = 0; k < kc; k++)
    {
      __m256 a0 = _mm256_load_ps (p), a1 = _mm256_load_ps (p + 8);
      for (int j = 0; j < nr; j++)
        {
          __m256 bj = _mm256_broadcast_ss (b + j);
          c[j][0] = _mm256_fmadd_ps (a0, bj, c[j][0]);
          c[j][1] = _mm256_fmadd_ps (a1, bj, c[j][1]);
        }
      if (pf != NULL)
        {
          _mm_prefetch (pf, _MM_HINT_T1);
          pf += 64;
        }
      p += NN_PACKED_MR;
      b += ldb;
    }
  for (int j = 0; j < nr; j++)
    for (int i = 0; i < 2; i++)
      _mm256_store_ps (scratch + j * 64 + i * 8, c[j][i]);
}

NN_AVX2 static void
kernel_avx2_cols (float *scratch, const float *p, const float *b, size_t ldb, int kc,
                  bool first, const char *pf, int nr)
{
  switch (nr)
    {
    case 6: kernel_avx2 (scratch, p, b, ldb, kc, first, pf, 6); break;
    case 5: kernel_avx2 (scratch, p, b, ldb, kc, first, pf, 5); break;
    case 4: kernel_avx2 (scratch, p, b, ldb, kc, first, pf, 4); break;
    case 3: kernel_avx2 (scratch, p, b, ldb, kc, first, pf, 3); break;
    case 2: kernel_avx2 (scratch, p, b, ldb, kc, first, pf, 2); break;
    default: kernel_avx2 (scratch, p, b, ldb, kc, first, pf, 1); break;
    }
}

/* panel_product_avx512's blocks, each column group taken by the four
 * 16-row quarters of the panel in turn while its values are in L1 */
static void
panel_product_avx2 (float *scratch, const float *packed, int pb, int pb_end, int K,
                    const float *col, size_t ldcol, int n0, int n1)
{
  const size_t panel = (size_t) K * NN_PACKED_MR;

  for (int k0 = 0; k0 < K; k0 += NN_PACKED_KC)
    {
      const int kc = K - k0 < NN_PACKED_KC ? K - k0 : NN_PACKED_KC;
      const float *p = packed + pb * panel + (size_t) k0 * NN_PACKED_MR;
      const float *next = next_block (packed, p, pb, pb_end, K, k0, kc);
      for (int n = n0, pass = 0; n < n1; n += NN_AVX2_NR, pass++)
        {
          const int nr = n1 - n < NN_AVX2_NR ? n1 - n : NN_AVX2_NR;
          for (int r = 0; r < NN_PACKED_MR; r += 16)
            {
              const char *pf = next != NULL && pass < 4 && r == 0
                                 ? (const char *) next + (size_t) pass * kc * 64 : NULL;
              kernel_avx2_cols (scratch + (size_t) (n - n0) * NN_PACKED_MR + r, p + r,
                                col + (size_t) k0 * ldcol + n, ldcol, kc, k0 == 0, pf, nr);
            }
        }
    }
}

static NnPackedKernel
best_kernel (void)
{
  return kernel_supported (NN_PACKED_KERNEL_AVX512) ? NN_PACKED_KERNEL_AVX512
         : kernel_supported (NN_PACKED_KERNEL_AVX2) ? NN_PACKED_KERNEL_AVX2
                                                    : NN_PACKED_KERNEL_PLAIN;
}

#else /* no vector kernel on this architecture */

static bool
kernel_supported (NnPackedKernel kernel)
{
  return kernel == NN_PACKED_KERNEL_PLAIN;
}

static NnPackedKernel
best_kernel (void)
{
  return NN_PACKED_KERNEL_PLAIN;
}

#define panel_product_avx512 panel_product_plain
#define panel_product_avx2 panel_product_plain

#endif

/* the process's kernel: -1 until first asked for or chosen */
static _Atomic int chosen_kernel = -1;

NnPackedKernel
nn_packed_kernel (void)
{
  int k = atomic_load_explicit (&chosen_kernel, memory_order_relaxed);
  if (k < 0)
    {
      k = (int) best_kernel ();
      int unset = -1;
      /* a concurrent nn_packed_set_kernel wins */
      if (!atomic_compare_exchange_strong (&chosen_kernel, &unset, k))
        k = unset;
    }
  return (NnPackedKernel) k;
}

bool
nn_packed_set_kernel (NnPackedKernel kernel)
{
  if (!kernel_supported (kernel))
    return false;
  atomic_store (&chosen_kernel, (int) kernel);
  return true;
}

const char *
nn_packed_kernel_name (NnPackedKernel kernel)
{
  switch (kernel)
    {
    case NN_PACKED_KERNEL_AVX512: return "AVX-512";
    case NN_PACKED_KERNEL_AVX2: return "AVX2";
    case NN_PACKED_KERNEL_PLAIN: break;
    }
  return "plain C";
}

bool
nn_packed_available (void)
{
  return nn_packed_kernel () != NN_PACKED_KERNEL_PLAIN;
}

static void
panel_product (float *scratch, const float *packed, int pb, int pb_end, int K,
               const float *col, size_t ldcol, int n0, int n1)
{
  switch (nn_packed_kernel ())
    {
    case NN_PACKED_KERNEL_AVX512:
      panel_product_avx512 (scratch, packed, pb, pb_end, K, col, ldcol, n0, n1);
      break;
    case NN_PACKED_KERNEL_AVX2:
      panel_product_avx2 (scratch, packed, pb, pb_end, K, col, ldcol, n0, n1);
      break;
    case NN_PACKED_KERNEL_PLAIN:
      panel_product_plain (scratch, packed, pb, pb_end, K, col, ldcol, n0, n1);
      break;
    }
}

void
nn_packed_conv (float *out, const float *packed, const float *col, size_t ldcol, int n0,
                int n1, const float *bias, const float *residual, bool relu, int M, int K,
                int ohw, int pb0, int pb1, float *scratch)
{
  for (int pb = pb0; pb < pb1; pb++)
    {
      panel_product (scratch, packed, pb, pb1, K, col, ldcol, n0, n1);
      panel_epilogue (out, scratch, bias, residual, relu, M, n0, n1, ohw, pb);
    }
}

void
nn_packed_gemm (float *c, size_t ldc, const float *packed, const float *b, size_t ldb, int M,
                int K, int N, int pb0, int pb1, float *scratch)
{
  for (int pb = pb0; pb < pb1; pb++)
    {
      panel_product (scratch, packed, pb, pb1, K, b, ldb, 0, N);
      for (int r = 0; r < NN_PACKED_MR && pb * NN_PACKED_MR + r < M; r++)
        {
          float *dst = c + (size_t) ((pb - pb0) * NN_PACKED_MR + r) * ldc;
          for (int n = 0; n < N; n++)
            dst[n] = scratch[(size_t) n * NN_PACKED_MR + r];
        }
    }
}
