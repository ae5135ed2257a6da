/* fuzz-safetensors.c — the safetensors reader (nn_safetensors_read_memory).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A file that parses is also written back and read again: what we read, we
 * must be able to write, and the second reading must give the same tensors.
 */
#include "fuzz-tensors.h"

#include <glib/gstdio.h>
#include <unistd.h>

static char *scratch_dir;
static char *scratch_path;

static void
remove_scratch (void)
{
  g_unlink (scratch_path);
  g_rmdir (scratch_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_tensors_init ();
  scratch_dir = g_dir_make_tmp ("xl-fuzz-st-XXXXXX", NULL);
  g_assert (scratch_dir != NULL);
  scratch_path = g_build_filename (scratch_dir, "round-trip.safetensors", NULL);
  atexit (remove_scratch);
  return 0;
}

static void
round_trip (const NnTensorFile *file)
{
  NnTensorFile *again = NULL;
  NnError err = { 0 };
  NnStatus status;

  status = nn_safetensors_write (scratch_path, file->tensors, file->n_tensors,
                                 (const char *const *) file->meta_keys,
                                 (const char *const *) file->meta_values, file->n_meta, &err);
  /* names or metadata that are not UTF-8 are refused on writing */
  if (status != NN_OK)
    {
      g_assert (status == NN_ERR_INVALID);
      return;
    }
  status = nn_safetensors_read (&again, scratch_path, &err);
  if (status != NN_OK)
    g_error ("cannot read back what was written: %s", err.message);
  g_assert (again->n_tensors == file->n_tensors);
  g_assert (again->n_meta == file->n_meta);
  for (size_t i = 0; i < file->n_tensors; i++)
    {
      const NnNamedTensor *a = &file->tensors[i];
      const NnNamedTensor *b = nn_tensor_file_find (again, a->name);
      g_assert (b != NULL);
      g_assert (a->dtype == b->dtype && a->numel == b->numel && a->ndim == b->ndim);
      g_assert (memcmp (a->data, b->data, a->numel * nn_dtype_size (a->dtype)) == 0);
    }
  nn_tensor_file_free (again);
  g_unlink (scratch_path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  NnStatus status = nn_safetensors_read_memory (&file, data, size, &err);

  if (status == NN_OK)
    round_trip (file);
  fuzz_tensors_check (status, file, &err);
  return 0;
}
