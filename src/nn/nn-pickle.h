/* nn-pickle.h — a safe interpreter for the pickles torch.save writes.
 *
 * It runs exactly the opcodes that `torch.save (model.state_dict ())` emits
 * with protocol 2, plus the protocol 3/4 ones a newer pickler may add (FRAME,
 * MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, ...). Nothing is ever imported or
 * called: GLOBAL may only name collections.OrderedDict, the two torch rebuild
 * functions and torch's typed storage classes; any other name is refused.
 *
 * Values live in an arena owned by the NnPickle and are freed with it. The
 * stack, the mark stack and the memo are bounded.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn-error.h"
#include "nn-tensor-file.h"

typedef enum {
  NN_PICKLE_NONE,
  NN_PICKLE_BOOL,
  NN_PICKLE_INT,
  NN_PICKLE_FLOAT,
  NN_PICKLE_STRING,      /* str (UTF-8) */
  NN_PICKLE_BYTES,
  NN_PICKLE_TUPLE,
  NN_PICKLE_LIST,
  NN_PICKLE_DICT,        /* dict or OrderedDict, keys in insertion order */
  NN_PICKLE_GLOBAL,      /* one of the allowed names, see NnPickleGlobal */
  NN_PICKLE_STORAGE,     /* a persistent storage reference */
  NN_PICKLE_TENSOR,      /* a view of a storage (_rebuild_tensor_v2) */
} NnPickleType;

typedef enum {
  NN_PICKLE_GLOBAL_ORDERED_DICT,
  NN_PICKLE_GLOBAL_REBUILD_TENSOR_V2,
  NN_PICKLE_GLOBAL_REBUILD_PARAMETER,
  NN_PICKLE_GLOBAL_STORAGE_CLASS,      /* torch.FloatStorage, ...: see dtype */
} NnPickleGlobal;

typedef struct NnPickleValue NnPickleValue;

struct NnPickleValue {
  NnPickleType type;
  int64_t integer;                   /* INT; BOOL as 0 or 1 */
  double number;                     /* FLOAT */
  char *string;                      /* STRING, BYTES; STORAGE: its key */
  size_t string_len;
  NnPickleValue **items;             /* TUPLE, LIST; DICT: key, value, key, ... */
  size_t n_items;                    /* items, or 2 × pairs for a DICT */
  size_t cap_items;
  NnPickleGlobal global;             /* GLOBAL */
  NnDtype dtype;                     /* GLOBAL storage class, STORAGE, TENSOR */
  char *location;                    /* STORAGE: "cpu", "cuda:0", ... */
  uint64_t storage_numel;            /* STORAGE: elements in it */
  const NnPickleValue *storage;      /* TENSOR */
  uint64_t storage_offset;           /* TENSOR, in elements */
  int ndim;                          /* TENSOR */
  int64_t size[NN_TENSOR_MAX_DIMS];
  int64_t stride[NN_TENSOR_MAX_DIMS];
  size_t numel;                      /* TENSOR */
  NnPickleValue *arena_next;
};

typedef struct NnPickle NnPickle;

/* Runs the pickle in buf[0..len). A tensor's strides and offset are checked
 * against its storage's element count here, so readers can gather safely. */
NnStatus nn_pickle_load (NnPickle **out, const uint8_t *buf, size_t len, NnError *err);
const NnPickleValue *nn_pickle_result (const NnPickle *pickle);
void nn_pickle_free (NnPickle *pickle);

const char *nn_pickle_type_name (NnPickleType type);
