/* fuzz-common.h — what every libFuzzer target of X-Ray Lab shares.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A target is one C file with LLVMFuzzerTestOneInput; tools/fuzz builds it
 * with clang -fsanitize=fuzzer,address,undefined against the project's static
 * libraries. A GLib critical (a g_return_if_fail that fired) is a bug like any
 * other, so criticals abort here as they do under the tests' G_DEBUG.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* Prints a GLib message and aborts on a critical or an error: libFuzzer
 * catches SIGABRT (and writes the input), not GLib's breakpoint trap. */
static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  GLogWriterOutput out = g_log_writer_standard_streams (level, fields, n_fields, data);

  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    abort ();
  return out;
}

static inline void
fuzz_init_glib (void)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}

/* The input as a NUL-terminated string (the JSON readers take one). */
static inline char *
fuzz_strndup (const uint8_t *data, size_t size)
{
  char *text = g_malloc (size + 1);

  memcpy (text, data, size);
  text[size] = '\0';
  return text;
}
