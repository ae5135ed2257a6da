/* Helpers shared by the nn tests. */
#pragma once

#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "nn-tensor-file.h"

/* max |a - b| / max(max |b|, tiny): the norm-wise relative error the parity
 * tests report. */
static inline double
rel_error (const float *a, const float *b, size_t n)
{
  double diff = 0, scale = 1e-30;

  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - (double) b[i]);
      if (d > diff || isnan (d))
        diff = d;
      if (fabs ((double) b[i]) > scale)
        scale = fabs ((double) b[i]);
    }
  return diff / scale;
}

static inline char *
fixture_path (const char *name)
{
  const char *dir = g_getenv ("XL_FIXTURES");
  return g_build_filename (dir != NULL ? dir : "tests/fixtures", name, NULL);
}

static inline NnTensorFile *
load_fixture (const char *name)
{
  g_autofree char *path = fixture_path (name);
  NnTensorFile *f = NULL;
  NnError err = { 0 };

  if (nn_tensor_file_read (&f, path, &err) != NN_OK)
    g_error ("%s: %s", path, err.message);
  return f;
}

static inline const NnNamedTensor *
fixture_tensor (const NnTensorFile *f, const char *name)
{
  const NnNamedTensor *t = nn_tensor_file_find (f, name);

  if (t == NULL)
    g_error ("fixture has no tensor %s", name);
  return t;
}

static inline void
fill_uniform (float *x, size_t n, guint32 seed, float lo, float hi)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, lo, hi);
  g_rand_free (r);
}
