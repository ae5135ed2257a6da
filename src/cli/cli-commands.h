/* cli-commands.h
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses shared by every xraylab-cli command. */
enum
{
  XL_CLI_EXIT_OK = 0,
  XL_CLI_EXIT_FAILURE = 1,
  XL_CLI_EXIT_USAGE = 2,
};

/* Each command is called like main(): argv[0] is the command's name
 * ("bench"), the rest are its own options and arguments. It returns one of
 * the exit statuses above. */
int xl_cli_bench (int    argc,
                  char **argv);
int xl_cli_train (int    argc,
                  char **argv);
int xl_cli_eval  (int    argc,
                  char **argv);
int xl_cli_predict (int    argc,
                    char **argv);
int xl_cli_cam     (int    argc,
                    char **argv);
int xl_cli_plots (int    argc,
                  char **argv);
int xl_cli_stats (int    argc,
                  char **argv);
int xl_cli_synth (int    argc,
                  char **argv);

G_END_DECLS
