/* fuzz-tensors.h — what the two weight-file targets do with a file they read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A file that parses must hold what it says: every tensor's bytes are there
 * (read them all: ASan catches a short buffer), converts to float, and loads
 * into a small ResNet-18 or is refused with a message, never a crash.
 */
#pragma once

#include "fuzz-common.h"

#include "nn-resnet.h"
#include "nn-tensor-file.h"

static NnResnet *fuzz_net;

static inline void
fuzz_tensors_init (void)
{
  /* width 4 and 3 classes: the shapes of tests/fixtures/tiny-state.*, whose
   * stem and head then match; the rest is missing and must be refused. */
  NnResnetConfig cfg = { .num_classes = 3, .width = 4, .batch = 1, .in_h = 32, .in_w = 32,
                         .threads = 1 };
  NnError err = { 0 };

  fuzz_init_glib ();
  if (nn_resnet_new (&fuzz_net, &cfg, &err) != NN_OK)
    g_error ("cannot plan the fuzzing model: %s", err.message);
}

static inline void
fuzz_tensors_check (NnStatus status, NnTensorFile *file, const NnError *err)
{
  if (status != NN_OK)
    {
      g_assert (file == NULL);
      g_assert (err->status == status);
      g_assert (err->message[0] != '\0');
      g_assert (memchr (err->message, '\0', sizeof err->message) != NULL);
      return;
    }
  g_assert (file != NULL);
  for (size_t i = 0; i < file->n_tensors; i++)
    {
      const NnNamedTensor *t = &file->tensors[i];
      size_t elem = nn_dtype_size (t->dtype), numel = 1;
      volatile uint8_t sum = 0;

      g_assert (t->name != NULL);
      g_assert (elem > 0);
      g_assert (t->ndim >= 0 && t->ndim <= NN_TENSOR_MAX_DIMS);
      for (int d = 0; d < t->ndim; d++)
        {
          g_assert (t->shape[d] >= 0);
          numel *= (size_t) t->shape[d];
        }
      g_assert (numel == t->numel);
      for (size_t b = 0; b < t->numel * elem; b++)
        sum ^= ((const uint8_t *) t->data)[b];
      (void) sum;
      if (t->numel <= (1u << 20))
        {
          float *f32 = g_new (float, t->numel > 0 ? t->numel : 1);
          nn_tensor_to_f32 (t, f32);
          g_free (f32);
        }
      g_assert (nn_tensor_file_find (file, t->name) != NULL);
    }
  for (size_t i = 0; i < file->n_meta; i++)
    g_assert (nn_tensor_file_meta (file, file->meta_keys[i]) != NULL);

  {
    NnError load_err = { 0 };
    bool fc_replaced = false;
    NnStatus load = nn_resnet_load_state (fuzz_net, file, NN_LOAD_REPLACE_FC, 1, &fc_replaced,
                                          &load_err);
    g_assert (load == NN_OK || load_err.message[0] != '\0');
  }
  nn_tensor_file_free (file);
}
