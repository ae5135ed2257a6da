/* nn-tensor-file.h — named tensors read from and written to weight files.
 *
 * Two formats:
 *  - PyTorch's zip serialization, as torch.save (state_dict) writes it
 *    (resnet18-f37072fd.pth): a zip archive with <dir>/data.pkl (a pickle that
 *    rebuilds tensors from persistent storages) and <dir>/data/<key> raw storages.
 *  - safetensors: an 8-byte little-endian header length, a JSON header naming
 *    each tensor's dtype, shape and byte range, an optional "__metadata__"
 *    object of string values, then the raw little-endian data.
 *
 * Readers validate everything (sizes, offsets, overlaps, dtypes, shapes) and
 * never trust a length from the file before checking it against the file size.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn-error.h"

#define NN_TENSOR_MAX_DIMS 8

typedef enum {
  NN_DTYPE_F32 = 0,
  NN_DTYPE_F64,
  NN_DTYPE_F16,
  NN_DTYPE_BF16,
  NN_DTYPE_I64,
  NN_DTYPE_I32,
  NN_DTYPE_I16,
  NN_DTYPE_I8,
  NN_DTYPE_U8,
  NN_DTYPE_BOOL,
} NnDtype;

typedef struct {
  char *name;                          /* e.g. "layer1.0.conv1.weight" */
  NnDtype dtype;
  int ndim;                            /* 0 for a scalar */
  int64_t shape[NN_TENSOR_MAX_DIMS];
  size_t numel;                        /* product of shape (1 for a scalar) */
  void *data;                          /* numel elements of dtype, contiguous,
                                          native byte order, owned by the file */
} NnNamedTensor;

typedef struct {
  NnNamedTensor *tensors;              /* in file order: state_dict order for
                                          .pth, data offset order for
                                          safetensors */
  size_t n_tensors;
  char **meta_keys;                    /* safetensors "__metadata__"; empty for .pth */
  char **meta_values;
  size_t n_meta;
} NnTensorFile;

/* Size in bytes of one element of dtype; "F32", "I64", ... as safetensors spells it. */
size_t nn_dtype_size (NnDtype dtype);
const char *nn_dtype_name (NnDtype dtype);

/* Reads a .pth or .safetensors file, telling them apart by content (a zip local
 * header "PK\3\4" means .pth). On failure *out is NULL and err names the cause. */
NnStatus nn_tensor_file_read (NnTensorFile **out, const char *path, NnError *err);
NnStatus nn_pth_read (NnTensorFile **out, const char *path, NnError *err);
NnStatus nn_safetensors_read (NnTensorFile **out, const char *path, NnError *err);

/* The same from memory (for fuzzing and tests); the buffer is not kept. */
NnStatus nn_pth_read_memory (NnTensorFile **out, const uint8_t *buf, size_t len, NnError *err);
NnStatus nn_safetensors_read_memory (NnTensorFile **out, const uint8_t *buf, size_t len, NnError *err);

void nn_tensor_file_free (NnTensorFile *file);

const NnNamedTensor *nn_tensor_file_find (const NnTensorFile *file, const char *name);
const char *nn_tensor_file_meta (const NnTensorFile *file, const char *key);

/* Writes tensors (any dtype, data in native order) and string metadata as
 * safetensors, atomically: a temporary file beside path, fsync, rename, fsync
 * of the folder. On failure the previous file at path is untouched and no
 * temporary file is left behind. n_meta may be 0. */
NnStatus nn_safetensors_write (const char *path,
                               const NnNamedTensor *tensors, size_t n_tensors,
                               const char *const *meta_keys,
                               const char *const *meta_values, size_t n_meta,
                               NnError *err);

/* Writes len bytes to path atomically (as above). Shared by all of our writers. */
NnStatus nn_write_file_atomic (const char *path, const void *data, size_t len, NnError *err);

/* The same, streamed: open creates a temporary file beside path; write appends
 * to it; commit flushes it to disk, renames it over path and syncs the folder;
 * abort removes it. commit and abort free the NnAtomicFile, whatever happens:
 * after a failed write, call abort (or commit, which then fails and cleans
 * up). Error messages name path. */
typedef struct NnAtomicFile NnAtomicFile;

NnStatus nn_atomic_file_open (NnAtomicFile **out, const char *path, NnError *err);
NnStatus nn_atomic_file_write (NnAtomicFile *file, const void *data, size_t len, NnError *err);
NnStatus nn_atomic_file_commit (NnAtomicFile *file, NnError *err);
void nn_atomic_file_abort (NnAtomicFile *file);

/* The dtype spelled as safetensors does ("F32", "BF16", ...); false if unknown. */
bool nn_dtype_from_name (const char *name, NnDtype *out);

/* Writes "[64,3,7,7]" (or "[]" for a scalar) into buf, truncating to size. */
void nn_format_shape (char *buf, size_t size, const int64_t *shape, int ndim);

/* Converts tensor->numel elements of any dtype to float32 (BOOL as 0 or 1,
 * integers rounded to nearest), for loading F16/BF16/F64 weights into a float
 * model. dst must hold tensor->numel floats. */
void nn_tensor_to_f32 (const NnNamedTensor *tensor, float *dst);

/* IEEE half and bfloat16 bit patterns; float to half rounds to nearest even. */
float nn_f16_to_f32 (uint16_t half);
uint16_t nn_f32_to_f16 (float value);
float nn_bf16_to_f32 (uint16_t bf16);
uint16_t nn_f32_to_bf16 (float value);
