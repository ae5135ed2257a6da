/* cli-train.c — `xraylab-cli train`: a training run on the terminal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "cli-commands.h"
#include "xl-plot-report.h"
#include "xl-train-session.h"

static XlTrainSession *running_session;
static volatile sig_atomic_t interrupts;

static void
on_sigint (int signum)
{
  static const char msg[] = "\nxraylab-cli: stopping after this batch (Ctrl-C again to quit now)\n";

  if (++interrupts > 1)
    _exit (130);
  if (write (STDERR_FILENO, msg, sizeof msg - 1) < 0)
    {
      /* nothing to do about it inside a signal handler */
    }
  if (running_session != NULL)
    xl_train_session_stop (running_session);
}

typedef struct {
  gboolean tty, json, quiet;
  guint last_width;
} Printer;

static void
format_duration (char *buf, gsize len, double seconds)
{
  if (!(seconds >= 0) || !isfinite (seconds))
    g_strlcpy (buf, "--", len);
  else if (seconds < 60)
    g_snprintf (buf, len, "%.0fs", seconds);
  else if (seconds < 3600)
    g_snprintf (buf, len, "%dm%02ds", (int) seconds / 60, (int) seconds % 60);
  else
    g_snprintf (buf, len, "%dh%02dm", (int) seconds / 3600, ((int) seconds % 3600) / 60);
}

static void
print_json_event (const XlTrainEvent *ev)
{
  static const char *const kinds[] = { "started", "progress", "batch", "epoch", "best",
                                       "early_stop", "log", "finished", "error" };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

#define NUM(name, v) \
  G_STMT_START { json_builder_set_member_name (b, name); \
                 if (isfinite (v)) json_builder_add_double_value (b, v); \
                 else json_builder_add_null_value (b); } G_STMT_END
#define INT(name, v) G_STMT_START { json_builder_set_member_name (b, name); \
                                    json_builder_add_int_value (b, v); } G_STMT_END
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, kinds[ev->kind]);
  switch (ev->kind)
    {
    case XL_TRAIN_EVENT_BATCH:
      INT ("epoch", ev->epoch);
      INT ("batch", ev->batch);
      INT ("batches", ev->batches);
      NUM ("loss", ev->batch_loss);
      NUM ("running_loss", ev->running_loss);
      NUM ("running_accuracy", ev->running_accuracy);
      NUM ("images_per_second", ev->images_per_second);
      NUM ("fraction", ev->fraction);
      NUM ("eta_seconds", ev->eta_seconds);
      break;
    case XL_TRAIN_EVENT_EPOCH:
      INT ("epoch", ev->epoch);
      INT ("epochs", ev->epochs);
      NUM ("train_loss", ev->train_loss);
      NUM ("train_accuracy", ev->train_accuracy);
      NUM ("val_loss", ev->val_loss);
      NUM ("val_accuracy", ev->val_accuracy);
      NUM ("lr", ev->lr);
      NUM ("seconds", ev->seconds);
      NUM ("images_per_second", ev->images_per_second);
      INT ("best_epoch", ev->best_epoch);
      break;
    case XL_TRAIN_EVENT_PROGRESS:
      json_builder_set_member_name (b, "phase");
      json_builder_add_string_value (b, ev->phase);
      NUM ("fraction", ev->fraction);
      break;
    case XL_TRAIN_EVENT_STARTED:
      INT ("parameters", (gint64) ev->n_parameters);
      INT ("trainable", (gint64) ev->n_trainable);
      break;
    case XL_TRAIN_EVENT_BEST:
    case XL_TRAIN_EVENT_EARLY_STOP:
    case XL_TRAIN_EVENT_FINISHED:
      INT ("best_epoch", ev->best_epoch);
      if (ev->kind == XL_TRAIN_EVENT_FINISHED)
        {
          json_builder_set_member_name (b, "stopped");
          json_builder_add_boolean_value (b, ev->stopped);
        }
      break;
    case XL_TRAIN_EVENT_LOG:
    case XL_TRAIN_EVENT_ERROR:
    default:
      break;
    }
  if (ev->message != NULL)
    {
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, ev->message);
    }
  json_builder_end_object (b);
#undef NUM
#undef INT
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  g_autofree char *line = json_generator_to_data (gen, NULL);
  printf ("%s\n", line);
  fflush (stdout);
}

static void
clear_line (Printer *p)
{
  if (p->tty && p->last_width > 0)
    {
      fprintf (stdout, "\r%*s\r", (int) p->last_width, "");
      p->last_width = 0;
    }
}

static void
on_event (const XlTrainEvent *ev, gpointer user_data)
{
  Printer *p = user_data;
  char eta[32];

  if (p->json)
    {
      print_json_event (ev);
      return;
    }
  switch (ev->kind)
    {
    case XL_TRAIN_EVENT_PROGRESS:
      if (p->tty && !p->quiet)
        {
          int n = printf ("\r%s: %3.0f%%", ev->phase, 100 * ev->fraction);
          p->last_width = (guint) MAX (n, 0);
          fflush (stdout);
        }
      break;
    case XL_TRAIN_EVENT_BATCH:
      if (p->tty && !p->quiet)
        {
          const int width = 24;
          int filled = (int) (width * (double) ev->batch / MAX (ev->batches, 1));
          char bar[32];
          memset (bar, '#', (size_t) filled);
          memset (bar + filled, '.', (size_t) (width - filled));
          bar[width] = '\0';
          format_duration (eta, sizeof eta, ev->eta_seconds);
          int n = printf ("\rEpoch %u/%u [%s] %u/%u  loss %.4f  acc %.1f%%  %.1f img/s  "
                          "left %s ", ev->epoch, ev->epochs, bar, ev->batch, ev->batches,
                          ev->running_loss, 100 * ev->running_accuracy,
                          ev->images_per_second, eta);
          p->last_width = (guint) MAX (n, 0);
          fflush (stdout);
        }
      break;
    case XL_TRAIN_EVENT_EPOCH:
      clear_line (p);
      format_duration (eta, sizeof eta, ev->eta_seconds);
      printf ("%s  (left %s)\n", ev->message, eta);
      fflush (stdout);
      break;
    case XL_TRAIN_EVENT_ERROR:
      clear_line (p);
      fprintf (stderr, "xraylab-cli train: %s\n", ev->message);
      break;
    case XL_TRAIN_EVENT_BEST:
      break;
    case XL_TRAIN_EVENT_STARTED:
    case XL_TRAIN_EVENT_LOG:
    case XL_TRAIN_EVENT_EARLY_STOP:
    case XL_TRAIN_EVENT_FINISHED:
    default:
      clear_line (p);
      if (!p->quiet || ev->kind == XL_TRAIN_EVENT_FINISHED)
        printf ("%s\n", ev->message);
      fflush (stdout);
      break;
    }
}

static gboolean
parse_choice (const char *value, const char *const *names, guint n, int *out)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (value, names[i]) == 0)
      {
        *out = (int) i;
        return TRUE;
      }
  return FALSE;
}

int
xl_cli_train (int argc, char **argv)
{
  g_autofree char *data = NULL, *out = NULL, *weights = NULL, *mode = NULL, *optimizer = NULL;
  g_autofree char *schedule = NULL, *monitor = NULL, *class_weights = NULL, *resume = NULL;
  int freeze = -1, epochs = -1, batch = -1, input_size = -1, resize = -1, step_size = -1;
  int patience = -1, threads = -1, loader_threads = -1, cache_views = -1, head_hidden = -1;
  int width = -1, max_batches = -1, cache_mb = -1;
  double lr = NAN, momentum = NAN, weight_decay = NAN, gamma = NAN, val_fraction = NAN;
  double rotation = NAN, brightness = NAN, contrast = NAN, head_dropout = NAN;
  gint64 seed = -1;
  gboolean nesterov = FALSE, balanced = FALSE, no_augment = FALSE, rrc = FALSE, hflip = FALSE;
  gboolean json = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Data set folder or .zip", "DIR" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Run folder to write", "RUN" },
    { "resume", 0, 0, G_OPTION_ARG_FILENAME, &resume, "Continue a stopped run (with --epochs: a new total)", "RUN" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode, "finetune (default), fixed or partial", "MODE" },
    { "freeze", 0, 0, G_OPTION_ARG_INT, &freeze, "partial: freeze the stem and layer1..N-1 (1-4; 1 freezes only conv1+bn1)", "N" },
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &weights, "Start weights: ImageNet .pth/.safetensors or an X-Ray Lab model (none: random init)", "FILE" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &epochs, "Epochs at most (50)", "N" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (32)", "N" },
    { "input-size", 0, 0, G_OPTION_ARG_INT, &input_size, "Crop size the network sees (224)", "PX" },
    { "resize", 0, 0, G_OPTION_ARG_INT, &resize, "Short side films are resized to before the crop (256)", "PX" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &optimizer, "sgd, adam or adamw (finetune: adam; else sgd)", "NAME" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Learning rate (finetune 1e-4; else 1e-3)", "LR" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &momentum, "SGD momentum (0.9)", "M" },
    { "nesterov", 0, 0, G_OPTION_ARG_NONE, &nesterov, "Nesterov momentum", NULL },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &weight_decay, "Weight decay (0)", "WD" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule, "none, step (default) or cosine", "NAME" },
    { "step-size", 0, 0, G_OPTION_ARG_INT, &step_size, "StepLR period in epochs (7)", "N" },
    { "gamma", 0, 0, G_OPTION_ARG_DOUBLE, &gamma, "StepLR factor (0.1)", "G" },
    { "patience", 0, 0, G_OPTION_ARG_INT, &patience, "Early stopping: epochs without improvement (10; 0 never)", "N" },
    { "monitor", 0, 0, G_OPTION_ARG_STRING, &monitor, "val_loss (default) or val_accuracy", "NAME" },
    { "class-weights", 0, 0, G_OPTION_ARG_STRING, &class_weights, "none (default), balanced, or weights W1,W2,...", "W" },
    { "balanced-sampling", 0, 0, G_OPTION_ARG_NONE, &balanced, "Draw every class equally often", NULL },
    { "no-augment", 0, 0, G_OPTION_ARG_NONE, &no_augment, "Train on the center crop, no random crops", NULL },
    { "random-resized-crop", 0, 0, G_OPTION_ARG_NONE, &rrc, "RandomResizedCrop instead of RandomCrop", NULL },
    { "rotation", 0, 0, G_OPTION_ARG_DOUBLE, &rotation, "Random rotation within +-degrees (0)", "DEG" },
    { "brightness", 0, 0, G_OPTION_ARG_DOUBLE, &brightness, "Brightness jitter (0)", "F" },
    { "contrast", 0, 0, G_OPTION_ARG_DOUBLE, &contrast, "Contrast jitter (0)", "F" },
    { "hflip", 0, 0, G_OPTION_ARG_NONE, &hflip, "Random horizontal flips (off: a flip puts the heart on the wrong side)", NULL },
    { "val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &val_fraction, "Move this share of train to val, grouped by patient (default: 0.1 when val has < 100 films; 0 keeps val)", "F" },
    { "cache-views", 0, 0, G_OPTION_ARG_INT, &cache_views, "Frozen modes with augmentation: augmented views cached per film (4; 0 turns the feature cache off)", "K" },
    { "cache-mb", 0, 0, G_OPTION_ARG_INT, &cache_mb, "Memory for decoded films and for cached features, each (2048)", "MB" },
    { "head-hidden", 0, 0, G_OPTION_ARG_INT, &head_hidden, "An MLP head with this many hidden units (0: one linear layer)", "N" },
    { "head-dropout", 0, 0, G_OPTION_ARG_DOUBLE, &head_dropout, "The MLP head's dropout (0.5)", "P" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (1): the same seed and threads give the same numbers", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for the network (2)", "N" },
    { "loader-threads", 0, 0, G_OPTION_ARG_INT, &loader_threads, "Threads preparing batches (1)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print events as JSON lines", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only epochs and the result", NULL },
    { "width", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &width, "Base width (64)", "W" },
    { "max-batches", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &max_batches, "Batches per epoch at most", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- train a model on a data set");
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) session = NULL;
  XlTrainConfig cfg;
  XlTrainMode train_mode = XL_TRAIN_FINETUNE;
  Printer printer = { 0 };
  int idx;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Trains an ImageNet-pretrained ResNet-18 on DIR and writes RUN: model.safetensors,\n"
    "config.json, history.csv, metrics.json, predictions.csv, log.txt and plots/.\n"
    "Ctrl-C stops after the current batch, keeps the best model and writes the reports;\n"
    "--resume RUN continues from the last finished epoch.\n\n"
    "Exit status: 0 trained (or stopped), 1 the data, weights or run folder could not be\n"
    "used or the loss diverged, 2 usage error.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("xraylab-cli train: %s\n", error->message);
      return XL_CLI_EXIT_USAGE;
    }

  if (resume != NULL)
    {
      session = xl_train_session_new_resume (resume, epochs > 0 ? (guint) epochs : 0, &error);
      if (session == NULL)
        {
          g_printerr ("xraylab-cli train: %s\n", error->message);
          return XL_CLI_EXIT_FAILURE;
        }
    }
  else
    {
      if (data == NULL || out == NULL)
        {
          g_printerr ("xraylab-cli train: --data and --out are required (or --resume RUN)\n");
          return XL_CLI_EXIT_USAGE;
        }
      if (mode != NULL && !xl_train_mode_from_name (mode, &train_mode))
        {
          g_printerr ("xraylab-cli train: --mode must be finetune, fixed or partial, not “%s”\n",
                      mode);
          return XL_CLI_EXIT_USAGE;
        }
      xl_train_config_init (&cfg, train_mode);
      cfg.data_path = g_strdup (data);
      cfg.out_dir = g_strdup (out);
      cfg.weights_path = g_strdup (weights);
#define SET_INT(var, field) if (var >= 0) cfg.field = (guint) var
#define SET_DBL(var, field) if (!isnan (var)) cfg.field = var
      SET_INT (freeze, freeze);
      SET_INT (epochs, epochs);
      SET_INT (batch, batch_size);
      SET_INT (input_size, input_size);
      SET_INT (resize, resize);
      SET_INT (step_size, step_size);
      SET_INT (patience, patience);
      SET_INT (threads, threads);
      SET_INT (loader_threads, loader_threads);
      SET_INT (cache_views, cache_views);
      SET_INT (head_hidden, head_hidden);
      SET_INT (width, width);
      SET_INT (max_batches, max_batches);
      SET_DBL (lr, lr);
      SET_DBL (momentum, momentum);
      SET_DBL (weight_decay, weight_decay);
      SET_DBL (gamma, gamma);
      SET_DBL (val_fraction, val_fraction);
      SET_DBL (rotation, rotation_degrees);
      SET_DBL (brightness, brightness);
      SET_DBL (contrast, contrast);
      SET_DBL (head_dropout, head_dropout);
#undef SET_INT
#undef SET_DBL
      if (resize < 0 && input_size > 0)
        cfg.resize = MAX (cfg.input_size, (guint) (input_size * 256 / 224));
      if (cache_mb >= 0)
        cfg.image_cache_bytes = cfg.feature_cache_bytes = (gsize) cache_mb << 20;
      if (seed >= 0)
        cfg.seed = (guint64) seed;
      cfg.nesterov = nesterov;
      cfg.balanced_sampling = balanced;
      cfg.augment = !no_augment;
      cfg.random_resized_crop = rrc;
      cfg.hflip = hflip;
      if (optimizer != NULL)
        {
          static const char *const names[] = { "sgd", "adam", "adamw" };
          if (!parse_choice (optimizer, names, 3, &idx))
            {
              g_printerr ("xraylab-cli train: --optimizer must be sgd, adam or adamw\n");
              return XL_CLI_EXIT_USAGE;
            }
          cfg.optimizer = (NnOptimKind) idx;
        }
      if (schedule != NULL)
        {
          static const char *const names[] = { "none", "step", "cosine" };
          if (!parse_choice (schedule, names, 3, &idx))
            {
              g_printerr ("xraylab-cli train: --schedule must be none, step or cosine\n");
              return XL_CLI_EXIT_USAGE;
            }
          cfg.schedule = (XlSchedule) idx;
        }
      if (monitor != NULL)
        {
          static const char *const names[] = { "val_loss", "val_accuracy" };
          if (!parse_choice (monitor, names, 2, &idx))
            {
              g_printerr ("xraylab-cli train: --monitor must be val_loss or val_accuracy\n");
              return XL_CLI_EXIT_USAGE;
            }
          cfg.monitor = (XlMonitor) idx;
        }
      if (class_weights != NULL)
        {
          if (g_strcmp0 (class_weights, "none") == 0)
            cfg.class_weighting = XL_CLASS_WEIGHTS_NONE;
          else if (g_strcmp0 (class_weights, "balanced") == 0)
            cfg.class_weighting = XL_CLASS_WEIGHTS_BALANCED;
          else
            {
              g_auto (GStrv) parts = g_strsplit (class_weights, ",", -1);
              cfg.class_weighting = XL_CLASS_WEIGHTS_GIVEN;
              for (guint i = 0; parts[i] != NULL && i < XL_MAX_CLASSES; i++)
                {
                  char *end;
                  cfg.class_weights[i] = g_ascii_strtod (parts[i], &end);
                  if (*end != '\0' || end == parts[i])
                    {
                      g_printerr ("xraylab-cli train: --class-weights: “%s” is not a number\n",
                                  parts[i]);
                      return XL_CLI_EXIT_USAGE;
                    }
                  cfg.n_class_weights = i + 1;
                }
            }
        }
      session = xl_train_session_new (&cfg, &error);
      xl_train_config_clear (&cfg);
      if (session == NULL)
        {
          g_printerr ("xraylab-cli train: %s\n", error->message);
          return XL_CLI_EXIT_USAGE;
        }
    }

  xl_train_session_set_report_func (session, xl_plot_write_run_report);
  printer.tty = isatty (STDOUT_FILENO);
  printer.json = json;
  printer.quiet = quiet;
  running_session = session;
  signal (SIGINT, on_sigint);
  gboolean ok = xl_train_session_run (session, on_event, &printer, &error);
  signal (SIGINT, SIG_DFL);
  running_session = NULL;
  clear_line (&printer);
  if (!ok)
    return XL_CLI_EXIT_FAILURE;
  return XL_CLI_EXIT_OK;
}
