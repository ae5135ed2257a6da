/* cli-synth.c — `xraylab-cli synth`: write the synthetic demo set.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <gio/gio.h>

#include "cli-commands.h"
#include "xl-synth.h"

typedef struct
{
  gboolean tty;
  int      last_percent;
} SynthProgress;

static void
on_progress (double fraction, const char *what, gpointer user_data)
{
  SynthProgress *p = user_data;
  int            percent = (int) (fraction * 100.0);

  if (percent == p->last_percent)
    return;
  /* A terminal gets a line that updates; a log one line per tenth. */
  if (p->tty)
    fprintf (stderr, "\r%3d%%  %-60.60s", percent, what);
  else if (percent / 10 != p->last_percent / 10)
    fprintf (stderr, "%3d%%\n", percent / 10 * 10);
  p->last_percent = percent;
}

int
xl_cli_synth (int argc, char **argv)
{
  g_autofree char *out_dir = NULL;
  int          per_class = XL_SYNTH_DEFAULT_PER_CLASS, size = XL_SYNTH_DEFAULT_SIZE, threads = 0;
  gint64       seed = 0;
  gboolean     kermany_sized = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Folder to create the set in (new or empty)",
      "DIR" },
    { "per-class", 'n', 0, G_OPTION_ARG_INT, &per_class,
      "Training films per class (200); val gets a quarter, test a half", "N" },
    { "size", 's', 0, G_OPTION_ARG_INT, &size, "Film height in pixels (256)", "S" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (0)", "K" },
    { "kermany-sized", 0, 0, G_OPTION_ARG_NONE, &kermany_sized,
      "The real set's split sizes: train 1341/3875, val 8/8, test 234/390 "
      "(--per-class is ignored)",
      NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
      "Threads (default: one per core); the output does not depend on it", "T" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- write a synthetic chest-film set");
  g_autoptr (GError) error = NULL;
  guint         counts[XL_N_SPLITS][XL_SYNTH_N_CLASSES];
  SynthProgress progress = { .tty = isatty (STDERR_FILENO), .last_percent = -1 };
  XlSynthConfig cfg;
  gint64        start;
  double        seconds;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
                                "Writes procedural chest-film phantoms as 8-bit gray JPEGs in\n"
                                "DIR/{train,val,test}/{NORMAL,PNEUMONIA}/ with Kermany-like file "
                                "names, and the box of\nevery consolidation in "
                                "DIR/consolidations.csv. The same options give the same bytes.");
  g_option_context_set_description (context, "A toy for demos and tests, not a model of disease.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("xraylab-cli synth: %s\n", error->message);
      return XL_CLI_EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr ("xraylab-cli synth: unexpected argument “%s”\n", argv[1]);
      return XL_CLI_EXIT_USAGE;
    }
  if (out_dir == NULL)
    {
      g_printerr ("xraylab-cli synth: --out DIR is required\n");
      return XL_CLI_EXIT_USAGE;
    }
  if (per_class < 1 || per_class > 1000000 || size < 16 || size > 8192 || threads < 0 ||
      threads > 256 || seed < 0)
    {
      g_printerr ("xraylab-cli synth: --per-class 1..1000000, --size 16..8192, "
                  "--threads 0..256, --seed >= 0\n");
      return XL_CLI_EXIT_USAGE;
    }

  xl_synth_config_init (&cfg);
  cfg.per_class = (guint) per_class;
  cfg.size = (guint) size;
  cfg.seed = (guint64) seed;
  cfg.kermany_sized = kermany_sized;
  cfg.n_threads = (guint) threads;
  xl_synth_counts (&cfg, counts);

  start = g_get_monotonic_time ();
  if (!xl_synth_generate (out_dir, &cfg, quiet ? NULL : on_progress, &progress, NULL, &error))
    {
      if (progress.tty && progress.last_percent >= 0)
        fputc ('\n', stderr);
      g_printerr ("xraylab-cli synth: %s\n", error->message);
      return XL_CLI_EXIT_FAILURE;
    }
  seconds = (double) (g_get_monotonic_time () - start) / 1e6;
  if (!quiet && progress.tty)
    fputc ('\n', stderr);

  g_print ("Wrote %u films of %u px to %s in %.1f s: train %u/%u, val %u/%u, test %u/%u "
           "(NORMAL/PNEUMONIA)\n",
           counts[0][0] + counts[0][1] + counts[1][0] + counts[1][1] + counts[2][0] + counts[2][1],
           cfg.size, out_dir, seconds, counts[XL_SPLIT_TRAIN][0], counts[XL_SPLIT_TRAIN][1],
           counts[XL_SPLIT_VAL][0], counts[XL_SPLIT_VAL][1], counts[XL_SPLIT_TEST][0],
           counts[XL_SPLIT_TEST][1]);
  return XL_CLI_EXIT_OK;
}
