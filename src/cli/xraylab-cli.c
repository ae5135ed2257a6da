/* xraylab-cli.c: the headless front end, one subcommand per task.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gi18n.h>

#include "cli-commands.h"

typedef int (*XlCliCommandFunc) (int    argc,
                                 char **argv);

typedef struct
{
  const char       *name;
  const char       *summary;
  /* NULL while the command is not part of this build yet. */
  XlCliCommandFunc  run;
} XlCliCommand;

static const XlCliCommand commands[] = {
  { "train",   N_("Train a model on a labelled folder of chest X-rays"),      xl_cli_train },
  { "eval",    N_("Evaluate a model on a split and write its metrics"),       xl_cli_eval },
  { "predict", N_("Classify images with a trained model"),                    xl_cli_predict },
  { "cam",     N_("Draw class-activation heatmaps over films"),               xl_cli_cam },
  { "stats",   N_("Describe a data set: splits, classes and film sizes"),     xl_cli_stats },
  { "synth",   N_("Generate a small synthetic data set for demos and tests"), xl_cli_synth },
  { "bench",   N_("Time the network's layers and a training step"),          xl_cli_bench },
  { "plots",   N_("Draw curves, ROC and confusion matrix from a run folder"), xl_cli_plots },
};

static const XlCliCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (strcmp (commands[i].name, name) == 0)
        return &commands[i];
    }

  return NULL;
}

static void
print_usage (FILE *stream)
{
  fprintf (stream, "%s\n\n", _("Usage: xraylab-cli COMMAND [OPTION...]"));
  fprintf (stream, "%s\n\n",
           _("Train, evaluate and inspect a ResNet-18 on chest X-rays without the window."));
  fprintf (stream, "%s\n", _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-9s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (stream, "\n%s\n", _("Options:"));
  fprintf (stream, "  -h, --help   %s\n", _("Show this help and exit"));
  fprintf (stream, "  --version    %s\n", _("Show the version and exit"));
  fprintf (stream, "\n%s\n\n",
           _("Run 'xraylab-cli COMMAND --help' for the options of a command."));
  fprintf (stream, "%s\n", _("Exit status:"));
  fprintf (stream, "  0  %s\n", _("success"));
  fprintf (stream, "  1  %s\n",
           _("failure (a file, the data or the model could not be used)"));
  fprintf (stream, "  2  %s\n", _("usage error (unknown command or option, bad argument)"));
  fprintf (stream, "\n%s\n",
           _("X-Ray Lab is a research and teaching tool, not a diagnostic device."));
}

static int
run_command (const XlCliCommand *command,
             int                 argc,
             char              **argv)
{
  if (command->run == NULL)
    {
      g_printerr (_("xraylab-cli: '%s' is not available in this build yet\n"), command->name);
      return XL_CLI_EXIT_USAGE;
    }

  return command->run (argc, argv);
}

static int
run_help (int    argc,
          char **argv)
{
  const XlCliCommand *command;
  char *help_argv[] = { NULL, (char *) "--help", NULL };

  if (argc < 2)
    {
      print_usage (stdout);
      return XL_CLI_EXIT_OK;
    }

  if (!(command = find_command (argv[1])))
    {
      g_printerr (_("xraylab-cli: unknown command '%s'; see 'xraylab-cli --help'\n"), argv[1]);
      return XL_CLI_EXIT_USAGE;
    }

  help_argv[0] = (char *) command->name;
  return run_command (command, 2, help_argv);
}

int
main (int    argc,
      char **argv)
{
  const XlCliCommand *command;
  const char *name;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("xraylab-cli");

  if (argc < 2)
    {
      print_usage (stderr);
      return XL_CLI_EXIT_USAGE;
    }

  name = argv[1];

  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0)
    {
      print_usage (stdout);
      return XL_CLI_EXIT_OK;
    }

  if (strcmp (name, "--version") == 0)
    {
      printf ("xraylab-cli %s\n", PACKAGE_VERSION);
      return XL_CLI_EXIT_OK;
    }

  if (strcmp (name, "help") == 0)
    return run_help (argc - 1, argv + 1);

  if (name[0] == '-')
    {
      g_printerr (_("xraylab-cli: unknown option '%s'; see 'xraylab-cli --help'\n"), name);
      return XL_CLI_EXIT_USAGE;
    }

  if (!(command = find_command (name)))
    {
      g_printerr (_("xraylab-cli: unknown command '%s'; see 'xraylab-cli --help'\n"), name);
      return XL_CLI_EXIT_USAGE;
    }

  return run_command (command, argc - 1, argv + 1);
}
