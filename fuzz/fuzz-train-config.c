/* fuzz-train-config.c — a run's config.json when resuming
 * (xl_train_config_from_json, what xl_train_session_new_resume reads).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What parses has been validated, so a session could be made from it; it
 * must survive a write and a second reading.
 */
#include "fuzz-common.h"

#include "xl-train-session.h"

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
  XlTrainConfig cfg, again;

  xl_train_config_init (&cfg, XL_TRAIN_FINETUNE);
  if (!xl_train_config_from_json (&cfg, json, &error))
    {
      g_assert (error != NULL && error->domain == XL_TRAIN_ERROR);
      g_assert (g_str_has_prefix (error->message, "config.json: "));
      xl_train_config_clear (&cfg);
      return 0;
    }
  g_assert (xl_train_config_validate (&cfg, NULL));
  (void) xl_train_config_frozen_stages (&cfg);

  {
    g_autofree char *written = xl_train_config_to_json (&cfg);
    xl_train_config_init (&again, XL_TRAIN_FIXED);
    if (!xl_train_config_from_json (&again, written, &error))
      g_error ("cannot read back %s: %s", written, error->message);
    g_assert (again.mode == cfg.mode && again.epochs == cfg.epochs);
    g_assert (again.batch_size == cfg.batch_size && again.input_size == cfg.input_size);
    g_assert (again.n_class_weights == cfg.n_class_weights);
    g_assert (g_strcmp0 (again.data_path, cfg.data_path) == 0);
    xl_train_config_clear (&again);
  }

  {
    /* a copy owns its strings */
    XlTrainConfig copy;
    xl_train_config_copy (&copy, &cfg);
    xl_train_config_clear (&cfg);
    xl_train_config_clear (&copy);
  }
  return 0;
}
