/* nn-tensor-file-private.h — helpers shared by the weight-file readers and
 * writers (nn-tensor-file.c, nn-pth.c, nn-safetensors.c). Not for callers
 * outside src/nn.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn-tensor-file.h"

#define NN_TENSOR_NAME_MAX 1024

/* Reads a whole regular file of at most max_len bytes. Messages do not name
 * the file: the caller adds it with nn_error_prefix. */
NnStatus nn_read_whole_file (const char *path, uint8_t **out, size_t *len,
                             size_t max_len, NnError *err);

/* An empty NnTensorFile with room for capacity tensors. */
NnTensorFile *nn_tensor_file_alloc (size_t capacity);

/* Converts numel little-endian elements in place to the host's order (and
 * back: the swap is its own inverse). Does nothing on little-endian hosts. */
void nn_le_to_host (void *data, size_t numel, size_t elem_size);
bool nn_host_is_little_endian (void);

/* Checks shape (non-negative, ndim ≤ NN_TENSOR_MAX_DIMS) and computes the
 * element and byte counts without overflow; false if it cannot. */
bool nn_shape_numel (const int64_t *shape, int ndim, NnDtype dtype,
                     size_t *numel, size_t *nbytes);
