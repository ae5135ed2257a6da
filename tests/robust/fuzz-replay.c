/* fuzz-replay.c — runs a fuzz target's inputs as a plain test, no libFuzzer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Linked with one fuzz/fuzz-TARGET.c (meson passes FUZZ_TARGET), it feeds the
 * target every committed seed (fuzz/corpus/TARGET/) and every crash input the
 * fuzzer once found (tests/robust/crashes/TARGET-*): a crash that comes back
 * fails the suite under any compiler, and under ASan/UBSan in CI. One TAP
 * test per file.
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static void
replay (gconstpointer data)
{
  const char *path = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (LLVMFuzzerTestOneInput ((const uint8_t *) contents, len), ==, 0);
}

static guint
add_folder (const char *dir, const char *prefix)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    if (prefix == NULL || g_str_has_prefix (name, prefix))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      const char *file = names->pdata[i];
      g_autofree char *test = g_strdup_printf ("/robust/replay/%s/%s%s", FUZZ_TARGET,
                                               prefix != NULL ? "" : "seed-", file);
      g_test_add_data_func_full (test, g_build_filename (dir, file, NULL), replay, g_free);
    }
  return names->len;
}

int
main (int argc, char **argv)
{
  const char *srcdir = g_getenv ("XL_SOURCE_ROOT");
  g_autofree char *seeds = NULL;
  g_autofree char *crashes = NULL;
  g_autofree char *prefix = g_strconcat (FUZZ_TARGET, "-", NULL);

  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (srcdir);
  seeds = g_build_filename (srcdir, "fuzz", "corpus", FUZZ_TARGET, NULL);
  crashes = g_build_filename (srcdir, "tests", "robust", "crashes", NULL);
  LLVMFuzzerInitialize (&argc, &argv);
  if (add_folder (seeds, NULL) == 0)
    g_error ("no seeds in %s", seeds);
  add_folder (crashes, prefix);
  return g_test_run ();
}
