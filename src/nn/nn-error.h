/* nn-error.h — status codes and error messages of the nn core.
 *
 * The core never aborts on anything a user can supply. Functions that can fail
 * return an NnStatus and, when given an NnError, leave a message in it that names
 * the file or tensor and the cause. Code above the core turns these into GErrors.
 */
#pragma once

#include <stddef.h>

typedef enum {
  NN_OK = 0,
  NN_ERR_NOMEM,       /* an allocation failed or a size is absurd */
  NN_ERR_IO,          /* open/read/write/fsync/rename failed */
  NN_ERR_FORMAT,      /* the file is not what it claims to be, or is damaged */
  NN_ERR_MISMATCH,    /* well-formed, but its tensors do not fit the model */
  NN_ERR_UNSUPPORTED, /* well-formed, but uses a feature we do not read */
  NN_ERR_INVALID,     /* a bad argument */
} NnStatus;

typedef struct {
  NnStatus status;
  char message[512];
} NnError;

#if defined(__GNUC__)
#define NN_PRINTF(f, a) __attribute__ ((format (printf, f, a)))
#else
#define NN_PRINTF(f, a)
#endif

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so callers can write `return nn_error_set (err, ...);`. */
NnStatus nn_error_set (NnError *err, NnStatus status, const char *fmt, ...) NN_PRINTF (3, 4);

/* Prepends "prefix: " to the message already in err (for adding a file name). */
void nn_error_prefix (NnError *err, const char *prefix);

const char *nn_status_to_string (NnStatus status);
