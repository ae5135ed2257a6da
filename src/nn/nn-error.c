#include "nn-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

NnStatus
nn_error_set (NnError *err, NnStatus status, const char *fmt, ...)
{
  if (err != NULL)
    {
      va_list ap;
      va_start (ap, fmt);
      vsnprintf (err->message, sizeof err->message, fmt, ap);
      va_end (ap);
      err->status = status;
    }
  return status;
}

void
nn_error_prefix (NnError *err, const char *prefix)
{
  char joined[2 * sizeof err->message];

  if (err == NULL || prefix == NULL)
    return;
  snprintf (joined, sizeof joined, "%.500s: %s", prefix, err->message);
  memcpy (err->message, joined, sizeof err->message - 1);
  err->message[sizeof err->message - 1] = '\0';
}

const char *
nn_status_to_string (NnStatus status)
{
  switch (status)
    {
    case NN_OK: return "ok";
    case NN_ERR_NOMEM: return "out of memory";
    case NN_ERR_IO: return "input/output error";
    case NN_ERR_FORMAT: return "malformed file";
    case NN_ERR_MISMATCH: return "does not fit the model";
    case NN_ERR_UNSUPPORTED: return "unsupported";
    case NN_ERR_INVALID: return "invalid argument";
    default: return "unknown error";
    }
}
