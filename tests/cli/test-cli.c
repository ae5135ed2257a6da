/* test-cli.c: xraylab-cli's usage, dispatch and exit statuses.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include <glib.h>

static const char *command_names[] = {
  "train", "eval", "predict", "cam", "stats", "synth", "bench", "plots",
};

typedef struct
{
  int   exit_status;
  char *out;
  char *err;
} CliRun;

static void
cli_run_clear (CliRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

/* Runs xraylab-cli with the NULL-terminated arguments and records how it
 * exited; a crash fails the test. */
static void
cli_run (CliRun     *run,
         const char *first_arg,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("XL_CLI");
  int wait_status = 0;
  va_list args;

  g_assert_nonnull (cli);

  g_ptr_array_add (argv, (char *) cli);
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);

  g_assert_true (WIFEXITED (wait_status));
  run->exit_status = WEXITSTATUS (wait_status);
}

static void
test_help_lists_commands (void)
{
  const char *forms[] = { "--help", "-h", "help" };

  for (guint f = 0; f < G_N_ELEMENTS (forms); f++)
    {
      CliRun run = { 0 };

      cli_run (&run, forms[f], NULL);
      g_assert_cmpint (run.exit_status, ==, 0);
      g_assert_true (g_str_has_prefix (run.out, "Usage: xraylab-cli COMMAND"));

      for (guint i = 0; i < G_N_ELEMENTS (command_names); i++)
        {
          g_autofree char *line = g_strdup_printf ("\n  %s ", command_names[i]);
          g_assert_nonnull (strstr (run.out, line));
        }

      g_assert_nonnull (strstr (run.out, "Exit status:"));
      g_assert_nonnull (strstr (run.out, "  0  "));
      g_assert_nonnull (strstr (run.out, "  1  "));
      g_assert_nonnull (strstr (run.out, "  2  "));
      cli_run_clear (&run);
    }
}

static void
test_no_arguments_is_usage_error (void)
{
  CliRun run = { 0 };

  cli_run (&run, NULL);
  g_assert_cmpint (run.exit_status, ==, 2);
  g_assert_cmpstr (run.out, ==, "");
  g_assert_true (g_str_has_prefix (run.err, "Usage: xraylab-cli COMMAND"));
  cli_run_clear (&run);
}

static void
test_unknown_command (void)
{
  CliRun run = { 0 };

  cli_run (&run, "frobnicate", NULL);
  g_assert_cmpint (run.exit_status, ==, 2);
  g_assert_nonnull (strstr (run.err, "unknown command 'frobnicate'"));
  cli_run_clear (&run);

  cli_run (&run, "--frobnicate", NULL);
  g_assert_cmpint (run.exit_status, ==, 2);
  g_assert_nonnull (strstr (run.err, "unknown option '--frobnicate'"));
  cli_run_clear (&run);

  cli_run (&run, "help", "frobnicate", NULL);
  g_assert_cmpint (run.exit_status, ==, 2);
  g_assert_nonnull (strstr (run.err, "unknown command 'frobnicate'"));
  cli_run_clear (&run);
}

static void
test_version (void)
{
  CliRun run = { 0 };

  cli_run (&run, "--version", NULL);
  g_assert_cmpint (run.exit_status, ==, 0);
  g_assert_cmpstr (run.out, ==, "xraylab-cli " PACKAGE_VERSION "\n");
  cli_run_clear (&run);
}

/* Every command answers --help: with its help and 0 once it is built, or
 * until then with a usage error that names it. Never a crash or a 1. */
static void
test_every_command_dispatches (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (command_names); i++)
    {
      CliRun run = { 0 };

      cli_run (&run, command_names[i], "--help", NULL);
      g_test_message ("%s --help: exit %d", command_names[i], run.exit_status);

      if (run.exit_status == 0)
        {
          g_assert_cmpstr (run.out, !=, "");
        }
      else
        {
          g_assert_cmpint (run.exit_status, ==, 2);
          g_assert_nonnull (strstr (run.err, command_names[i]));
        }

      cli_run_clear (&run);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/help-lists-commands", test_help_lists_commands);
  g_test_add_func ("/cli/no-arguments-is-usage-error", test_no_arguments_is_usage_error);
  g_test_add_func ("/cli/unknown-command", test_unknown_command);
  g_test_add_func ("/cli/version", test_version);
  g_test_add_func ("/cli/every-command-dispatches", test_every_command_dispatches);

  return g_test_run ();
}
