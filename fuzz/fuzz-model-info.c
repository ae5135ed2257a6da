/* fuzz-model-info.c — our models' metadata JSON (xl_model_info_from_json).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What parses must be usable as it is read (sizes in range, a positive std, a
 * positive class that exists) and must survive a write and a second reading
 * unchanged.
 */
#include "fuzz-common.h"

#include "xl-model.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *json = fuzz_strndup (data, size);
  g_autoptr (GError) error = NULL;
  XlModelInfo info, again;

  xl_model_info_init (&info);
  if (!xl_model_info_from_json (&info, json, &error))
    {
      g_assert (error != NULL && error->domain == XL_MODEL_ERROR);
      /* a failed reading leaves the info as it was */
      g_assert (info.n_classes == 2 && info.classes != NULL);
      xl_model_info_clear (&info);
      return 0;
    }
  g_assert (info.n_classes >= 2 && info.n_classes <= 1000);
  g_assert (g_strv_length (info.classes) == info.n_classes);
  g_assert (info.width >= 1 && info.input_size >= 32 && info.resize >= 32);
  g_assert (info.positive_class < info.n_classes);
  g_assert (info.threshold >= 0 && info.threshold <= 1);
  for (int c = 0; c < 3; c++)
    g_assert (info.std[c] > 0);

  {
    g_autofree char *written = xl_model_info_to_json (&info);
    xl_model_info_init (&again);
    if (!xl_model_info_from_json (&again, written, &error))
      g_error ("cannot read back %s: %s", written, error->message);
    g_assert (again.n_classes == info.n_classes);
    for (guint i = 0; i < info.n_classes; i++)
      g_assert (strcmp (again.classes[i], info.classes[i]) == 0);
    g_assert (again.width == info.width && again.input_size == info.input_size);
    g_assert (again.resize == info.resize && again.head_hidden == info.head_hidden);
    g_assert (again.positive_class == info.positive_class);
    g_assert (again.frozen_stages == info.frozen_stages);
    xl_model_info_clear (&again);
  }
  xl_model_info_clear (&info);
  return 0;
}
