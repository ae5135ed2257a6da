/* fuzz-pth.c — PyTorch's zip + pickle reader (nn_pth_read_memory).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "fuzz-tensors.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_tensors_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  NnStatus status = nn_pth_read_memory (&file, data, size, &err);

  fuzz_tensors_check (status, file, &err);
  return 0;
}
