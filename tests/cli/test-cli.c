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

/* bench's last line is what tools/bench-vs-torch and the README read:
 * "<mode> batch=B size=S threads=T: X img/s, peak memory M MB", with the
 * settings it was given. Tiny settings keep it quick. */
static void
test_bench_last_line (void)
{
  static const struct
  {
    const char *mode;
    const char *batch;
    const char *size;
    const char *threads;
  } cases[] = {
    { "train", "2", "32", "1" },
    { "infer", "3", "40", "2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      CliRun run = { 0 };
      g_autoptr(GRegex) regex = NULL;
      g_autoptr(GMatchInfo) match = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *pattern = NULL;
      g_autofree char *images_per_second = NULL;
      g_autofree char *megabytes = NULL;
      const char *last_line;

      cli_run (&run, "bench", "--mode", cases[i].mode, "--batch", cases[i].batch,
               "--size", cases[i].size, "--threads", cases[i].threads, "--iters", "1",
               "--warmup", "1", NULL);
      g_test_message ("bench --mode %s: exit %d\n%s", cases[i].mode, run.exit_status,
                      run.out);
      g_assert_cmpint (run.exit_status, ==, 0);

      g_strchomp (run.out);
      last_line = strrchr (run.out, '\n');
      last_line = last_line != NULL ? last_line + 1 : run.out;
      pattern = g_strdup_printf ("^%s batch=%s size=%s threads=%s: ([0-9]+(\\.[0-9]+)?) img/s, "
                                 "peak memory ([0-9]+) MB$",
                                 cases[i].mode, cases[i].batch, cases[i].size,
                                 cases[i].threads);
      regex = g_regex_new (pattern, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, &error);
      g_assert_no_error (error);
      if (!g_regex_match (regex, last_line, G_REGEX_MATCH_DEFAULT, &match))
        g_error ("bench's last line \"%s\" does not match %s", last_line, pattern);
      images_per_second = g_match_info_fetch (match, 1);
      megabytes = g_match_info_fetch (match, 3);
      g_assert_cmpfloat (g_ascii_strtod (images_per_second, NULL), >, 0);
      g_assert_cmpint (g_ascii_strtoll (megabytes, NULL, 10), >, 0);

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
  g_test_add_func ("/cli/bench-last-line", test_bench_last_line);

  return g_test_run ();
}
