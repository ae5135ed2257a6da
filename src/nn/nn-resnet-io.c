/* Loading and saving a ResNet's state_dict. */
#include "nn-resnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
format_shape (char *buf, size_t len, int ndim, const int64_t *shape)
{
  size_t used = 0;

  used += (size_t) snprintf (buf + used, len - used, "[");
  for (int i = 0; i < ndim && used < len; i++)
    used += (size_t) snprintf (buf + used, len - used, "%s%lld", i ? "," : "",
                               (long long) shape[i]);
  if (used < len)
    snprintf (buf + used, len - used, "]");
}

static bool
same_shape (const NnParam *p, const NnNamedTensor *t)
{
  if (p->ndim != t->ndim)
    return false;
  for (int i = 0; i < p->ndim; i++)
    if (p->shape[i] != t->shape[i])
      return false;
  return true;
}

static bool
is_fc (const char *name)
{
  return strncmp (name, "fc.", 3) == 0;
}

/* Checks every entry before anything is copied, so a failed load changes nothing. */
static NnStatus
check_state (NnResnet *m, const NnTensorFile *f, unsigned flags, bool *replace_fc,
             NnError *err)
{
  char want[64], got[64];

  /* A classifier that does not fit (1000 ImageNet classes, or another head) may be
   * replaced by a fresh one: everything named fc.* is then skipped. */
  *replace_fc = false;
  if (flags & NN_LOAD_REPLACE_FC)
    {
      for (int i = 0; i < nn_resnet_param_count (m); i++)
        {
          const NnParam *p = nn_resnet_param_const (m, i);
          const NnNamedTensor *t = nn_tensor_file_find (f, p->name);
          if (is_fc (p->name) && (t == NULL || !same_shape (p, t)))
            *replace_fc = true;
        }
      for (size_t i = 0; i < f->n_tensors; i++)
        if (is_fc (f->tensors[i].name) && nn_resnet_find_param (m, f->tensors[i].name) == NULL)
          *replace_fc = true;
    }

  for (int i = 0; i < nn_resnet_param_count (m); i++)
    {
      const NnParam *p = nn_resnet_param_const (m, i);
      const NnNamedTensor *t = nn_tensor_file_find (f, p->name);

      if (*replace_fc && is_fc (p->name))
        continue;
      if (t == NULL)
        {
          if (p->data_i64 != NULL)
            continue;         /* num_batches_tracked: absent from old checkpoints */
          return nn_error_set (err, NN_ERR_MISMATCH,
                               "tensor %s is missing (is this a ResNet-18 state_dict?)",
                               p->name);
        }
      if (p->data_i64 != NULL)
        {
          if (t->dtype != NN_DTYPE_I64 || t->numel != 1)
            return nn_error_set (err, NN_ERR_MISMATCH,
                                 "tensor %s should be a single int64, not %zu of %s", p->name,
                                 t->numel, nn_dtype_name (t->dtype));
          continue;
        }
      if (!same_shape (p, t))
        {
          format_shape (want, sizeof want, p->ndim, p->shape);
          format_shape (got, sizeof got, t->ndim, t->shape);
          return nn_error_set (err, NN_ERR_MISMATCH, "tensor %s has shape %s, expected %s",
                               p->name, got, want);
        }
      if (t->dtype != NN_DTYPE_F32)
        return nn_error_set (err, NN_ERR_UNSUPPORTED,
                             "tensor %s is %s; only float32 weights are supported", p->name,
                             nn_dtype_name (t->dtype));
    }

  for (size_t i = 0; i < f->n_tensors; i++)
    if (nn_resnet_find_param (m, f->tensors[i].name) == NULL
        && !(*replace_fc && is_fc (f->tensors[i].name)))
      return nn_error_set (err, NN_ERR_MISMATCH,
                           "unexpected tensor %s (not part of a ResNet-18)",
                           f->tensors[i].name);
  return NN_OK;
}

NnStatus
nn_resnet_load_state (NnResnet *m, const NnTensorFile *f, unsigned flags, uint64_t fc_seed,
                      bool *fc_replaced, NnError *err)
{
  bool replace_fc;
  NnStatus st = check_state (m, f, flags, &replace_fc, err);

  if (st != NN_OK)
    return st;
  for (int i = 0; i < nn_resnet_param_count (m); i++)
    {
      NnParam *p = nn_resnet_param (m, i);
      const NnNamedTensor *t = nn_tensor_file_find (f, p->name);

      if (replace_fc && is_fc (p->name))
        continue;
      if (p->data_i64 != NULL)
        *p->data_i64 = t != NULL ? *(const int64_t *) t->data : 0;
      else
        memcpy (p->data, t->data, p->numel * sizeof (float));
    }
  if (replace_fc)
    nn_resnet_init_fc (m, fc_seed);
  nn_resnet_weights_changed (m);
  if (fc_replaced != NULL)
    *fc_replaced = replace_fc;
  return NN_OK;
}

NnStatus
nn_resnet_load_file (NnResnet *m, const char *path, unsigned flags, uint64_t fc_seed,
                     bool *fc_replaced, NnError *err)
{
  NnTensorFile *f = NULL;
  NnStatus st = nn_tensor_file_read (&f, path, err);

  if (st != NN_OK)
    return st;
  st = nn_resnet_load_state (m, f, flags, fc_seed, fc_replaced, err);
  if (st != NN_OK)
    {
      const char *base = strrchr (path, '/');
      nn_error_prefix (err, base != NULL ? base + 1 : path);
    }
  nn_tensor_file_free (f);
  return st;
}

NnStatus
nn_resnet_save (const NnResnet *m, const char *path, const char *const *meta_keys,
                const char *const *meta_values, size_t n_meta, NnError *err)
{
  int n = nn_resnet_param_count (m);
  NnNamedTensor *tensors = calloc ((size_t) n, sizeof *tensors);
  NnStatus st;

  if (tensors == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
  for (int i = 0; i < n; i++)
    {
      const NnParam *p = nn_resnet_param_const (m, i);
      NnNamedTensor *t = &tensors[i];
      t->name = (char *) p->name;
      t->ndim = p->ndim;
      for (int d = 0; d < p->ndim; d++)
        t->shape[d] = p->shape[d];
      t->numel = p->numel;
      t->dtype = p->data_i64 != NULL ? NN_DTYPE_I64 : NN_DTYPE_F32;
      t->data = p->data_i64 != NULL ? (void *) p->data_i64 : (void *) p->data;
    }
  st = nn_safetensors_write (path, tensors, (size_t) n, meta_keys, meta_values, n_meta, err);
  free (tensors);
  return st;
}
