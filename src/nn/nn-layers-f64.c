/* The double-precision layer family, for finite-difference gradient checks. */
#include "nn-layers.h"

#define REAL double
#define FN(name) name##_f64
#define GEMM cblas_dgemm
#include "nn-layers-impl.h"
