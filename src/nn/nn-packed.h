/* nn-packed.h — convolution GEMMs on weights packed once, for inference.
 *
 * At batch 1 layer4's GEMMs are (512 x 4608) x (4608 x 49): each weight is used
 * 49 times, and OpenBLAS spends as long repacking the 9.4 MB of weights on
 * every call as it does multiplying (~95 of ~190 GFLOP/s per core here). An
 * inference plan's weights change only when a model is loaded, so they are
 * packed once (nn_packed_pack) into panels of NN_PACKED_MR output channels,
 * and an AVX-512 kernel multiplies them with im2col's columns as they are.
 *
 * The kernel is chosen at run time: AVX-512F where the CPU has it, else
 * AVX2 + FMA (most desktop and laptop CPUs); on others nn_packed_available ()
 * is false and the model keeps OpenBLAS.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NN_PACKED_MR 64    /* output channels per panel: four 16-float registers */
#define NN_PACKED_NR 7     /* columns per kernel call: 49 = 7 x 7 at layer4 */
#define NN_PACKED_KC 96    /* reduction steps per block: a panel block is 24 KB */

/* The products' kernels */
typedef enum
{
  NN_PACKED_KERNEL_PLAIN,    /* plain C: correct everywhere, fast nowhere */
  NN_PACKED_KERNEL_AVX2,     /* AVX2 + FMA: 16 x 6 outputs in 12 registers */
  NN_PACKED_KERNEL_AVX512,   /* AVX-512F: 64 x 7 outputs in 28 registers */
} NnPackedKernel;

/* The kernel the products run: the fastest this CPU has, unless
 * nn_packed_set_kernel chose another. */
NnPackedKernel nn_packed_kernel (void);

/* Chooses the kernel for the whole process, for tests and benchmarks (the
 * model's NN_PACKED=avx2 setting runs the AVX2 kernel on an AVX-512 CPU);
 * false, and nothing changed, where the CPU lacks it. */
bool nn_packed_set_kernel (NnPackedKernel kernel);

/* "plain C", "AVX2" or "AVX-512" */
const char *nn_packed_kernel_name (NnPackedKernel kernel);

/* Whether this CPU runs a vector kernel (and packing pays). */
bool nn_packed_available (void);

/* Floats of a packed (M, K) weight: M rounded up to NN_PACKED_MR, times K. */
size_t nn_packed_len (int M, int K);

/* Floats of one thread's scratch for a GEMM N columns wide. */
size_t nn_packed_scratch_len (int N);

/* Packs the panels [pb0, pb1) of the row-major (M, K) weight w into packed,
 * 64-byte aligned (the kernel loads a panel's 64 floats as four aligned
 * registers):
 *   packed[(pb * K + k) * MR + r] = w[(pb * MR + r) * K + k]  (0 past row M) */
void nn_packed_pack (float *packed, const float *w, int M, int K, int pb0, int pb1);

/* out = act (packed (M, K) x col (K, N) + bias [+ residual]) for the output
 * channels of panels [pb0, pb1) and the columns [n0, n1), where col is
 * row-major with ldcol floats a row and its columns are images of ohw outputs
 * one after the other: column n is output n % ohw of image n / ohw in out and
 * residual, (B, M, ohw). bias and residual may be NULL; with relu, max(., 0)
 * comes last (NaN stays NaN), as in nn_conv2d_forward and Winograd's residual
 * end of a block. scratch holds nn_packed_scratch_len (n1 - n0) floats,
 * 64-byte aligned. */
void nn_packed_conv (float *out, const float *packed, const float *col, size_t ldcol, int n0,
                     int n1, const float *bias, const float *residual, bool relu, int M, int K,
                     int ohw, int pb0, int pb1, float *scratch);

/* c (rows of panels [pb0, pb1), N) = packed (M, K) x b (K, N), row-major with
 * ldc and ldb floats a row; c's first row is panel pb0's first. */
void nn_packed_gemm (float *c, size_t ldc, const float *packed, const float *b, size_t ldb,
                     int M, int K, int N, int pb0, int pb1, float *scratch);
