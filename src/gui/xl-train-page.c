/* xl-train-page.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <math.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "xl-parameter-count.h"
#include "xl-train-page.h"
#include "xl-weights-download.h"

/* The torchvision checkpoint the case study starts from, preferred when
 * several weight files are found. */
#define TORCHVISION_WEIGHTS "resnet18-f37072fd.pth"
#define DEFAULT_CLASSES 2

static const char *const optimizer_names[] = { "sgd", "adam", "adamw", NULL };
static const char *const schedule_names[] = { "none", "step", "cosine", NULL };
static const char *const monitor_names[] = { "val_loss", "val_accuracy", NULL };
static const char *const class_weight_names[] = { "none", "balanced", NULL };

struct _XlTrainPage
{
  GtkWidget       parent_instance;

  GSettings      *settings;
  XlDataset      *dataset;
  XlTrainRunner  *runner;
  guint           width;
  XlTrainMode     mode;
  gboolean        loading;          /* settings are being applied, not chosen */
  GPtrArray      *weight_paths;     /* parallel to weights_row's model; NULL for none */
  XlWeightsDownload *download;      /* "Get ImageNet Weights…" while it runs */
  GCancellable   *download_cancellable;
  char           *status_text;
  guint64         trainable;
  guint64         parameters;

  /* Template widgets */
  GtkWidget      *settings_box;
  GtkCheckButton *finetune_check;
  GtkCheckButton *fixed_check;
  GtkCheckButton *partial_check;
  GtkAdjustment  *freeze_adjustment;
  AdwActionRow   *parameters_row;
  AdwComboRow    *weights_row;
  GtkButton      *weights_button;
  GtkButton      *get_weights_button;
  GtkWidget      *download_box;
  GtkProgressBar *download_progress;
  GtkLabel       *download_label;
  GtkButton      *download_cancel_button;
  GtkLabel       *download_message;
  GtkLabel       *weights_warning;
  GtkAdjustment  *epochs_adjustment;
  GtkAdjustment  *batch_size_adjustment;
  GtkAdjustment  *input_size_adjustment;
  AdwComboRow    *optimizer_row;
  GtkAdjustment  *learning_rate_adjustment;
  AdwActionRow   *momentum_row;
  GtkAdjustment  *momentum_adjustment;
  GtkAdjustment  *weight_decay_adjustment;
  AdwComboRow    *schedule_row;
  AdwActionRow   *step_size_row;
  GtkAdjustment  *step_size_adjustment;
  AdwActionRow   *gamma_row;
  GtkAdjustment  *gamma_adjustment;
  GtkAdjustment  *patience_adjustment;
  AdwComboRow    *monitor_row;
  AdwComboRow    *class_weights_row;
  GtkSwitch      *augment_switch;
  GtkAdjustment  *seed_adjustment;
  GtkAdjustment  *threads_adjustment;
  GtkButton      *start_button;
  GtkButton      *stop_button;
  GtkProgressBar *progress_bar;
  GtkLabel       *status_label;
  XlCurveChart   *loss_chart;
  XlCurveChart   *accuracy_chart;
  GtkLabel       *run_dir_label;
  GtkButton      *open_run_button;
  GtkTextView    *log_view;
};

G_DEFINE_FINAL_TYPE (XlTrainPage, xl_train_page, GTK_TYPE_WIDGET)

/* The spin buttons' adjustments and their settings keys. */
typedef struct
{
  const char *key;
  gsize       offset;
} SpinKey;

static const SpinKey spin_keys[] = {
  { "freeze-stages", G_STRUCT_OFFSET (XlTrainPage, freeze_adjustment) },
  { "epochs", G_STRUCT_OFFSET (XlTrainPage, epochs_adjustment) },
  { "batch-size", G_STRUCT_OFFSET (XlTrainPage, batch_size_adjustment) },
  { "input-size", G_STRUCT_OFFSET (XlTrainPage, input_size_adjustment) },
  { "learning-rate", G_STRUCT_OFFSET (XlTrainPage, learning_rate_adjustment) },
  { "momentum", G_STRUCT_OFFSET (XlTrainPage, momentum_adjustment) },
  { "weight-decay", G_STRUCT_OFFSET (XlTrainPage, weight_decay_adjustment) },
  { "step-size", G_STRUCT_OFFSET (XlTrainPage, step_size_adjustment) },
  { "gamma", G_STRUCT_OFFSET (XlTrainPage, gamma_adjustment) },
  { "patience", G_STRUCT_OFFSET (XlTrainPage, patience_adjustment) },
  { "seed", G_STRUCT_OFFSET (XlTrainPage, seed_adjustment) },
  { "threads", G_STRUCT_OFFSET (XlTrainPage, threads_adjustment) },
};

#define SPIN_ADJUSTMENT(self, spin_key) \
  (*(GtkAdjustment **) G_STRUCT_MEMBER_P ((self), (spin_key)->offset))

static void xl_train_page_update_sensitivity (XlTrainPage *self);

char *
xl_train_page_runs_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "xraylab", "runs", NULL);
}

char *
xl_train_page_weights_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "xraylab", "weights", NULL);
}

char *
xl_train_page_make_run_dir (GError **error)
{
  g_autofree char *runs = xl_train_page_runs_dir ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");

  if (g_mkdir_with_parents (runs, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", runs, g_strerror (saved_errno));
      return NULL;
    }

  /* Two runs in one second get -2, -3, …: mkdir claims the name. */
  for (guint attempt = 1; attempt < 1000; attempt++)
    {
      g_autofree char *name = attempt == 1 ? g_strdup (stamp)
                                           : g_strdup_printf ("%s-%u", stamp, attempt);
      g_autofree char *path = g_build_filename (runs, name, NULL);

      if (g_mkdir (path, 0755) == 0)
        return g_steal_pointer (&path);
      if (errno != EEXIST)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "%s: %s", path, g_strerror (saved_errno));
          return NULL;
        }
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s: too many runs this second", runs);

  return NULL;
}

/* ---- Mode and parameters --------------------------------------------------- */

XlTrainMode
xl_train_page_get_mode (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), XL_TRAIN_FINETUNE);

  return self->mode;
}

static void
update_parameters (XlTrainPage *self)
{
  XlTrainConfig config;
  g_autofree char *text = NULL;
  guint n_classes = self->dataset != NULL ? xl_dataset_n_classes (self->dataset) : DEFAULT_CLASSES;
  double share;

  xl_train_config_init (&config, self->mode);
  config.freeze = (guint) gtk_adjustment_get_value (self->freeze_adjustment);
  xl_parameter_count (self->width, MAX (n_classes, 2), 0,
                      xl_train_config_frozen_stages (&config),
                      &self->parameters, &self->trainable);

  share = 100.0 * (double) self->trainable / (double) MAX (self->parameters, 1);
  /* The numbers are formatted first: a translatable string cannot hold
   * G_GUINT64_FORMAT, which xgettext does not expand. */
  {
    g_autofree char *trainable = g_strdup_printf ("%'" G_GUINT64_FORMAT, self->trainable);
    g_autofree char *parameters = g_strdup_printf ("%'" G_GUINT64_FORMAT, self->parameters);
    g_autofree char *percent = g_strdup_printf ("%.*f%%",
                                                share >= 10 || share == 0 ? 0 : share >= 1 ? 1 : 2,
                                                share);

    /* Translators: trainable parameters of all parameters, and their share
     * in percent, e.g. "513 of 11,177,538 (0.00%)" */
    text = g_strdup_printf (_("%s of %s (%s)"), trainable, parameters, percent);
  }
  adw_action_row_set_subtitle (self->parameters_row, text);
}

/* The case study's optimizer and learning rate differ per mode: choosing a
 * mode brings its own. */
static void
apply_mode_defaults (XlTrainPage *self,
                     XlTrainMode  mode)
{
  XlTrainConfig config;

  xl_train_config_init (&config, mode);
  adw_combo_row_set_selected (self->optimizer_row, config.optimizer);
  gtk_adjustment_set_value (self->learning_rate_adjustment, config.lr);
  if (config.optimizer == NN_OPTIM_SGD)
    gtk_adjustment_set_value (self->momentum_adjustment, config.momentum);
}

static void
mode_toggled_cb (XlTrainPage *self)
{
  XlTrainMode mode;

  if (gtk_check_button_get_active (self->partial_check))
    mode = XL_TRAIN_PARTIAL;
  else if (gtk_check_button_get_active (self->fixed_check))
    mode = XL_TRAIN_FIXED;
  else if (gtk_check_button_get_active (self->finetune_check))
    mode = XL_TRAIN_FINETUNE;
  else
    return;   /* the old button going off; the new one follows */

  if (mode == self->mode)
    return;

  self->mode = mode;
  if (!self->loading)
    {
      apply_mode_defaults (self, mode);
      if (self->settings != NULL)
        g_settings_set_string (self->settings, "train-mode", xl_train_mode_name (mode));
    }

  update_parameters (self);
}

void
xl_train_page_set_mode (XlTrainPage *self,
                        XlTrainMode  mode)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));
  g_return_if_fail (mode <= XL_TRAIN_PARTIAL);

  switch (mode)
    {
    case XL_TRAIN_FIXED:
      gtk_check_button_set_active (self->fixed_check, TRUE);
      break;
    case XL_TRAIN_PARTIAL:
      gtk_check_button_set_active (self->partial_check, TRUE);
      break;
    case XL_TRAIN_FINETUNE:
    default:
      gtk_check_button_set_active (self->finetune_check, TRUE);
      break;
    }
}

guint64
xl_train_page_get_trainable (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), 0);

  return self->trainable;
}

guint64
xl_train_page_get_parameters (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), 0);

  return self->parameters;
}

void
xl_train_page_set_width (XlTrainPage *self,
                         guint        width)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));
  g_return_if_fail (width >= 1 && width <= 256);

  self->width = width;
  update_parameters (self);
}

void
xl_train_page_set_epochs (XlTrainPage *self,
                          guint        epochs)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));

  gtk_adjustment_set_value (self->epochs_adjustment, epochs);
}

void
xl_train_page_set_input_size (XlTrainPage *self,
                              guint        input_size)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));

  gtk_adjustment_set_value (self->input_size_adjustment, input_size);
}

void
xl_train_page_set_batch_size (XlTrainPage *self,
                              guint        batch_size)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));

  gtk_adjustment_set_value (self->batch_size_adjustment, batch_size);
}

/* ---- Start weights --------------------------------------------------------- */

const char *
xl_train_page_get_weights (XlTrainPage *self)
{
  guint selected;

  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), NULL);

  selected = adw_combo_row_get_selected (self->weights_row);
  if (selected == GTK_INVALID_LIST_POSITION || selected >= self->weight_paths->len)
    return NULL;

  return g_ptr_array_index (self->weight_paths, selected);
}

static guint
add_weights_choice (XlTrainPage *self,
                    const char  *path)
{
  GtkStringList *names = GTK_STRING_LIST (adw_combo_row_get_model (self->weights_row));
  g_autofree char *name = NULL;

  for (guint i = 1; i < self->weight_paths->len; i++)
    if (g_strcmp0 (g_ptr_array_index (self->weight_paths, i), path) == 0)
      return i;

  name = g_path_get_basename (path);
  g_ptr_array_add (self->weight_paths, g_strdup (path));
  gtk_string_list_append (names, name);

  return self->weight_paths->len - 1;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Weight files in the weights folder, torchvision's first. */
static void
find_weights (XlTrainPage *self)
{
  g_autofree char *dir_path = xl_train_page_weights_dir ();
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return;

  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".pth") || g_str_has_suffix (name, ".safetensors"))
      g_ptr_array_add (found, g_strdup (name));

  g_ptr_array_sort (found, compare_names);
  for (guint i = 0; i < found->len; i++)
    if (g_strcmp0 (g_ptr_array_index (found, i), TORCHVISION_WEIGHTS) == 0)
      {
        g_autofree char *path = g_build_filename (dir_path, TORCHVISION_WEIGHTS, NULL);
        add_weights_choice (self, path);
      }
  for (guint i = 0; i < found->len; i++)
    {
      g_autofree char *path = g_build_filename (dir_path, g_ptr_array_index (found, i), NULL);
      add_weights_choice (self, path);
    }
}

void
xl_train_page_set_weights (XlTrainPage *self,
                           const char  *path)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));

  if (path == NULL || *path == '\0')
    adw_combo_row_set_selected (self->weights_row, 0);
  else
    adw_combo_row_set_selected (self->weights_row, add_weights_choice (self, path));
}

static void
update_weights_warning (XlTrainPage *self)
{
  const char *path = xl_train_page_get_weights (self);

  gtk_widget_set_visible (GTK_WIDGET (self->weights_warning), path == NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->weights_row), path);
}

static void
weights_changed_cb (XlTrainPage *self)
{
  const char *path = xl_train_page_get_weights (self);

  update_weights_warning (self);

  /* Only a choice is kept: the file found by looking stays a default. */
  if (!self->loading && self->settings != NULL)
    g_settings_set_string (self->settings, "weights-path", path != NULL ? path : "");
}

static void
weights_chooser_response_cb (GtkNativeDialog *chooser,
                             int              response,
                             XlTrainPage     *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        xl_train_page_set_weights (self, path);
    }

  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
weights_button_clicked_cb (XlTrainPage *self)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  chooser = gtk_file_chooser_native_new (_("Choose Start Weights"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Choose"),
                                         _("_Cancel"));
  gtk_file_filter_set_name (filter, _("PyTorch or safetensors weights"));
  gtk_file_filter_add_pattern (filter, "*.pth");
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (weights_chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
show_download_message (XlTrainPage *self,
                       const char  *message,
                       gboolean     is_error)
{
  GtkWidget *label = GTK_WIDGET (self->download_message);

  gtk_label_set_text (self->download_message, message != NULL ? message : "");
  gtk_widget_set_visible (label, message != NULL);
  if (is_error)
    {
      gtk_widget_add_css_class (label, "error");
      gtk_widget_remove_css_class (label, "dim-label");
    }
  else
    {
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_remove_css_class (label, "error");
    }
}

static void
download_progress_cb (XlTrainPage *self)
{
  guint64 received = xl_weights_download_get_received (self->download);
  guint64 total = xl_weights_download_get_total (self->download);
  double speed = xl_weights_download_get_speed (self->download);
  g_autofree char *received_text = g_format_size (received);
  g_autofree char *total_text = total > 0 ? g_format_size (total) : NULL;
  g_autofree char *speed_text = speed > 0 ? g_format_size ((guint64) speed) : NULL;
  g_autofree char *text = NULL;

  if (total > 0)
    gtk_progress_bar_set_fraction (self->download_progress, MIN (1.0, (double) received / total));
  else
    gtk_progress_bar_pulse (self->download_progress);

  if (total_text != NULL && speed_text != NULL)
    /* Translators: bytes so far, of the file's size, at a speed: "12.3 MB of 46.8 MB · 2.1 MB/s" */
    text = g_strdup_printf (_("%s of %s · %s/s"), received_text, total_text, speed_text);
  else if (total_text != NULL)
    text = g_strdup_printf (_("%s of %s"), received_text, total_text);
  else
    text = g_strdup (received_text);

  gtk_label_set_text (self->download_label, text);
}

static void
download_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(XlTrainPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  path = xl_weights_download_start_finish (XL_WEIGHTS_DOWNLOAD (object), result, &error);

  /* The page went away meanwhile. */
  if (self->download != XL_WEIGHTS_DOWNLOAD (object))
    return;

  g_clear_object (&self->download);
  g_clear_object (&self->download_cancellable);
  gtk_widget_set_visible (self->download_box, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->get_weights_button), TRUE);

  if (path != NULL)
    {
      show_download_message (self, NULL, FALSE);
      xl_train_page_set_weights (self, path);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_download_message (self,
                           _("Download stopped. The next one continues where this one stopped."),
                           FALSE);
  else
    show_download_message (self, error->message, TRUE);
}

static void
get_weights_button_clicked_cb (XlTrainPage *self)
{
  g_autofree char *dir = xl_train_page_weights_dir ();
  /* A mirror with the same file name, for sites that cannot reach the
   * official one (and for tests, which serve it on loopback). */
  const char *url = g_getenv ("XRAYLAB_WEIGHTS_URL");

  if (self->download != NULL)
    return;

  self->download = xl_weights_download_new (url != NULL && *url != '\0' ? url : NULL, dir);
  self->download_cancellable = g_cancellable_new ();
  g_signal_connect_object (self->download, "notify::received",
                           G_CALLBACK (download_progress_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->download, "notify::total",
                           G_CALLBACK (download_progress_cb), self, G_CONNECT_SWAPPED);

  show_download_message (self, NULL, FALSE);
  gtk_progress_bar_set_fraction (self->download_progress, 0.0);
  gtk_label_set_text (self->download_label, _("Connecting…"));
  gtk_widget_set_visible (self->download_box, TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->get_weights_button), FALSE);

  xl_weights_download_start_async (self->download, self->download_cancellable,
                                   download_done_cb, g_object_ref (self));
}

static void
download_cancel_button_clicked_cb (XlTrainPage *self)
{
  if (self->download_cancellable != NULL)
    g_cancellable_cancel (self->download_cancellable);
}

/* ---- Settings -------------------------------------------------------------- */

static gboolean
choice_get_mapping (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const char *const *names = user_data;
  const char *name = g_variant_get_string (variant, NULL);

  for (guint i = 0; names[i] != NULL; i++)
    if (g_strcmp0 (names[i], name) == 0)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }

  return FALSE;
}

static GVariant *
choice_set_mapping (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  const char *const *names = user_data;
  guint index = g_value_get_uint (value);

  if (index >= g_strv_length ((char **) names))
    return NULL;

  return g_variant_new_string (names[index]);
}

/* The case study's defaults for the chosen mode, without settings. */
static void
apply_defaults (XlTrainPage *self,
                XlTrainMode  mode)
{
  XlTrainConfig config;

  xl_train_config_init (&config, mode);
  gtk_adjustment_set_value (self->freeze_adjustment, config.freeze);
  gtk_adjustment_set_value (self->epochs_adjustment, config.epochs);
  gtk_adjustment_set_value (self->batch_size_adjustment, config.batch_size);
  gtk_adjustment_set_value (self->input_size_adjustment, config.input_size);
  adw_combo_row_set_selected (self->optimizer_row, config.optimizer);
  gtk_adjustment_set_value (self->learning_rate_adjustment, config.lr);
  gtk_adjustment_set_value (self->momentum_adjustment, config.optimizer == NN_OPTIM_SGD ? config.momentum : 0.9);
  gtk_adjustment_set_value (self->weight_decay_adjustment, config.weight_decay);
  adw_combo_row_set_selected (self->schedule_row, config.schedule);
  gtk_adjustment_set_value (self->step_size_adjustment, config.step_size);
  gtk_adjustment_set_value (self->gamma_adjustment, config.gamma);
  gtk_adjustment_set_value (self->patience_adjustment, config.patience);
  adw_combo_row_set_selected (self->monitor_row, config.monitor);
  adw_combo_row_set_selected (self->class_weights_row,
                              config.class_weighting == XL_CLASS_WEIGHTS_BALANCED ? 1 : 0);
  gtk_switch_set_active (self->augment_switch, config.augment);
  gtk_adjustment_set_value (self->seed_adjustment, (double) config.seed);
  gtk_adjustment_set_value (self->threads_adjustment, config.threads);
}

static void
defaults_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  XlTrainPage *self = XL_TRAIN_PAGE (widget);

  /* Through the widgets: the bindings write the settings. */
  apply_defaults (self, self->mode);
}

void
xl_train_page_set_settings (XlTrainPage *self,
                            GSettings   *settings)
{
  g_autofree char *mode_name = NULL;
  g_autofree char *weights = NULL;
  XlTrainMode mode = XL_TRAIN_FINETUNE;

  g_return_if_fail (XL_IS_TRAIN_PAGE (self));
  g_return_if_fail (!settings || G_IS_SETTINGS (settings));

  if (!g_set_object (&self->settings, settings) || settings == NULL)
    return;

  self->loading = TRUE;

  mode_name = g_settings_get_string (settings, "train-mode");
  xl_train_mode_from_name (mode_name, &mode);
  xl_train_page_set_mode (self, mode);

  for (guint i = 0; i < G_N_ELEMENTS (spin_keys); i++)
    g_settings_bind (settings, spin_keys[i].key,
                     SPIN_ADJUSTMENT (self, &spin_keys[i]), "value",
                     G_SETTINGS_BIND_DEFAULT);

  g_settings_bind_with_mapping (settings, "optimizer", self->optimizer_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) optimizer_names, NULL);
  g_settings_bind_with_mapping (settings, "schedule", self->schedule_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) schedule_names, NULL);
  g_settings_bind_with_mapping (settings, "monitor", self->monitor_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) monitor_names, NULL);
  g_settings_bind_with_mapping (settings, "class-weights", self->class_weights_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) class_weight_names, NULL);
  g_settings_bind (settings, "augment", self->augment_switch, "active", G_SETTINGS_BIND_DEFAULT);

  /* Until a choice is made, the torchvision weights when they are there. */
  weights = g_settings_get_string (settings, "weights-path");
  if (g_settings_get_user_value (settings, "weights-path") != NULL)
    xl_train_page_set_weights (self, weights);

  self->loading = FALSE;
  update_weights_warning (self);
  update_parameters (self);
}

/* ---- Runs ------------------------------------------------------------------ */

void
xl_train_page_set_dataset (XlTrainPage *self,
                           XlDataset   *dataset)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));

  if (dataset != NULL)
    xl_dataset_ref (dataset);
  g_clear_pointer (&self->dataset, xl_dataset_unref);
  self->dataset = dataset;

  update_parameters (self);
  xl_train_page_update_sensitivity (self);
}

gboolean
xl_train_page_get_can_start (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), FALSE);

  return self->dataset != NULL && !xl_train_runner_get_running (self->runner);
}

void
xl_train_page_get_config (XlTrainPage   *self,
                          double         val_fraction,
                          XlTrainConfig *config)
{
  const char *weights;
  guint input_size;

  g_return_if_fail (XL_IS_TRAIN_PAGE (self));
  g_return_if_fail (config != NULL);

  xl_train_config_init (config, self->mode);
  config->data_path = self->dataset != NULL ? g_strdup (xl_dataset_path (self->dataset)) : NULL;
  weights = xl_train_page_get_weights (self);
  config->weights_path = weights != NULL ? g_strdup (weights) : NULL;
  config->width = self->width;
  config->freeze = (guint) gtk_adjustment_get_value (self->freeze_adjustment);
  config->epochs = (guint) gtk_adjustment_get_value (self->epochs_adjustment);
  config->batch_size = (guint) gtk_adjustment_get_value (self->batch_size_adjustment);
  input_size = (guint) gtk_adjustment_get_value (self->input_size_adjustment);
  config->input_size = input_size;
  /* Resize(256) then crop 224, at any input size. */
  config->resize = MAX (input_size, input_size * 256 / 224);
  config->optimizer = (NnOptimKind) adw_combo_row_get_selected (self->optimizer_row);
  config->lr = gtk_adjustment_get_value (self->learning_rate_adjustment);
  config->momentum = config->optimizer == NN_OPTIM_SGD
                     ? gtk_adjustment_get_value (self->momentum_adjustment) : 0;
  config->weight_decay = gtk_adjustment_get_value (self->weight_decay_adjustment);
  config->schedule = (XlSchedule) adw_combo_row_get_selected (self->schedule_row);
  config->step_size = (guint) gtk_adjustment_get_value (self->step_size_adjustment);
  config->gamma = gtk_adjustment_get_value (self->gamma_adjustment);
  config->patience = (guint) gtk_adjustment_get_value (self->patience_adjustment);
  config->monitor = (XlMonitor) adw_combo_row_get_selected (self->monitor_row);
  config->class_weighting = adw_combo_row_get_selected (self->class_weights_row) == 1
                            ? XL_CLASS_WEIGHTS_BALANCED : XL_CLASS_WEIGHTS_NONE;
  config->augment = gtk_switch_get_active (self->augment_switch);
  config->seed = (guint64) gtk_adjustment_get_value (self->seed_adjustment);
  config->threads = (guint) gtk_adjustment_get_value (self->threads_adjustment);
  config->val_fraction = val_fraction;
}

static void
append_log (XlTrainPage *self,
            const char  *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextMark *end_mark = gtk_text_buffer_get_mark (buffer, "end");
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, line, -1);
  gtk_text_buffer_insert (buffer, &end, "\n", 1);
  gtk_text_view_scroll_mark_onscreen (self->log_view, end_mark);
}

gboolean
xl_train_page_start (XlTrainPage  *self,
                     double        val_fraction,
                     GError      **error)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *line = NULL;
  XlTrainConfig config;
  gboolean ok;

  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), FALSE);

  if (self->dataset == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("Open a data set first"));
      return FALSE;
    }

  if (!(run_dir = xl_train_page_make_run_dir (error)))
    return FALSE;

  xl_train_page_get_config (self, val_fraction, &config);
  config.out_dir = g_strdup (run_dir);

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->log_view), "", 0);
  ok = xl_train_runner_start (self->runner, &config, error);
  xl_train_config_clear (&config);

  if (!ok)
    {
      g_rmdir (run_dir);
      return FALSE;
    }

  gtk_label_set_text (self->run_dir_label, run_dir);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->run_dir_label), run_dir);
  gtk_widget_set_visible (GTK_WIDGET (self->open_run_button), FALSE);
  xl_curve_chart_set_epochs (self->loss_chart,
                             (guint) gtk_adjustment_get_value (self->epochs_adjustment));
  xl_curve_chart_set_epochs (self->accuracy_chart,
                             (guint) gtk_adjustment_get_value (self->epochs_adjustment));
  /* Translators: %s is a folder */
  line = g_strdup_printf (_("Run folder: %s"), run_dir);
  append_log (self, line);

  return TRUE;
}

void
xl_train_page_stop (XlTrainPage *self)
{
  g_return_if_fail (XL_IS_TRAIN_PAGE (self));

  xl_train_runner_stop (self->runner);
}

static char *
format_time_left (double seconds)
{
  guint minutes;

  if (!(seconds >= 0) || !isfinite (seconds))
    return g_strdup (_("time left not known yet"));

  if (seconds < 60)
    return g_strdup_printf (_("about %u s left"), (guint) ceil (seconds));

  minutes = (guint) ceil (seconds / 60);
  if (minutes < 60)
    return g_strdup_printf (_("about %u min left"), minutes);

  return g_strdup_printf (_("about %u h %02u min left"), minutes / 60, minutes % 60);
}

static void
set_status (XlTrainPage *self,
            const char  *text,
            gboolean     is_error)
{
  g_free (self->status_text);
  self->status_text = g_strdup (text);
  gtk_label_set_text (self->status_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), text);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
runner_changed_cb (XlTrainPage *self)
{
  const XlTrainStatus *status = xl_train_runner_get_status (self->runner);
  g_autofree char *text = NULL;
  g_autofree char *bar_text = NULL;

  xl_curve_chart_update (self->loss_chart);
  xl_curve_chart_update (self->accuracy_chart);

  if (status->finished || !status->running)
    return;   /* ::finished says how it ended */

  if (status->stopping)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, status->fraction);
      set_status (self, _("Stopping after this batch; then the best model is evaluated…"), FALSE);
      return;
    }

  if (status->phase != NULL)
    {
      /* Before training (decoding films, caching features) or after it
       * (evaluating): the bar shows that step. */
      gtk_progress_bar_set_fraction (self->progress_bar, status->phase_fraction);
      bar_text = g_strdup_printf ("%s — %.0f%%", status->phase, 100 * status->phase_fraction);
      gtk_progress_bar_set_text (self->progress_bar, bar_text);
      set_status (self, _("Preparing the run…"), FALSE);
      return;
    }

  if (!status->training)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));
      set_status (self, _("Reading the data set and building the network…"), FALSE);
      return;
    }

  {
    g_autofree char *left = format_time_left (status->eta_seconds);

    gtk_progress_bar_set_fraction (self->progress_bar, status->fraction);
    bar_text = g_strdup_printf (_("%.0f%%"), 100 * status->fraction);
    gtk_progress_bar_set_text (self->progress_bar, bar_text);
    /* Translators: epoch 2 of 50 · batch 12 of 163 · 41 images/s · about 3 min left · loss, accuracy */
    text = g_strdup_printf (_("Epoch %u of %u · batch %u of %u · %.0f images/s · %s · loss %.3f, accuracy %.1f%%"),
                            status->epoch, status->epochs,
                            status->batch, status->batches,
                            status->images_per_second,
                            left,
                            status->running_loss,
                            100 * status->running_accuracy);
    set_status (self, text, FALSE);
  }
}

static void
runner_log_cb (XlTrainPage *self,
               const char  *line)
{
  append_log (self, line);
}

static void
runner_finished_cb (XlTrainPage *self,
                    gboolean     stopped,
                    const char  *error)
{
  const XlTrainStatus *status = xl_train_runner_get_status (self->runner);
  g_autofree char *text = NULL;

  /* The planned epochs held the axis still; now the curves fill it. */
  xl_curve_chart_set_epochs (self->loss_chart, status->epochs_done);
  xl_curve_chart_set_epochs (self->accuracy_chart, status->epochs_done);
  xl_curve_chart_update (self->loss_chart);
  xl_curve_chart_update (self->accuracy_chart);

  if (error != NULL)
    {
      text = g_strdup_printf (_("The run failed: %s"), error);
      gtk_progress_bar_set_text (self->progress_bar, _("Failed"));
      set_status (self, text, TRUE);
    }
  else
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
      gtk_progress_bar_set_text (self->progress_bar, stopped ? _("Stopped") : _("Done"));

      if (status->best_epoch == 0)
        text = g_strdup (_("Stopped before an epoch finished: no model to keep"));
      else if (stopped)
        /* Translators: the run was stopped by the user */
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "Stopped after %u epoch · best epoch %u kept and evaluated",
                                             "Stopped after %u epochs · best epoch %u kept and evaluated",
                                             status->epochs_done),
                                status->epochs_done, status->best_epoch);
      else if (status->early_stop_epoch > 0)
        text = g_strdup_printf (_("Stopped early after epoch %u: no more improvement · best epoch %u"),
                                status->early_stop_epoch, status->best_epoch);
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "Finished %u epoch · best epoch %u · model saved",
                                             "Finished %u epochs · best epoch %u · model saved",
                                             status->epochs_done),
                                status->epochs_done, status->best_epoch);
      set_status (self, text, FALSE);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->open_run_button), status->run_dir != NULL);
}

static void
open_run_folder_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  XlTrainPage *self = XL_TRAIN_PAGE (widget);
  const XlTrainStatus *status = xl_train_runner_get_status (self->runner);
  g_autoptr(GFile) file = NULL;
  g_autofree char *uri = NULL;

  if (status->run_dir == NULL)
    return;

  file = g_file_new_for_path (status->run_dir);
  uri = g_file_get_uri (file);
  g_app_info_launch_default_for_uri_async (uri, NULL, NULL, NULL, NULL);
}

static void
xl_train_page_update_sensitivity (XlTrainPage *self)
{
  gboolean running = xl_train_runner_get_running (self->runner);

  /* A run keeps the settings it started with: they are read-only meanwhile. */
  gtk_widget_set_sensitive (self->settings_box, !running);

  if (self->dataset == NULL && !running)
    set_status (self, _("Open a data set in the Data view to train on it."), FALSE);
  else if (!running && xl_train_runner_get_status (self->runner)->run_dir == NULL)
    {
      guint n_train = 0;
      g_autofree char *text = NULL;

      /* Before the first run: what Start will do. */
      xl_dataset_split_indices (self->dataset, XL_SPLIT_TRAIN, &n_train);
      text = g_strdup_printf (ngettext ("Ready to train on %u film. Press Start (Ctrl+Enter).",
                                        "Ready to train on %u films. Press Start (Ctrl+Enter).",
                                        n_train),
                              n_train);
      set_status (self, text, FALSE);
    }
}

static void
optimizer_changed_cb (XlTrainPage *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->momentum_row),
                            adw_combo_row_get_selected (self->optimizer_row) == NN_OPTIM_SGD);
}

static void
schedule_changed_cb (XlTrainPage *self)
{
  gboolean step = adw_combo_row_get_selected (self->schedule_row) == XL_SCHEDULE_STEP;

  gtk_widget_set_sensitive (GTK_WIDGET (self->step_size_row), step);
  gtk_widget_set_sensitive (GTK_WIDGET (self->gamma_row), step);
}

XlTrainRunner *
xl_train_page_get_runner (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), NULL);

  return self->runner;
}

XlCurveChart *
xl_train_page_get_loss_chart (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), NULL);

  return self->loss_chart;
}

XlCurveChart *
xl_train_page_get_accuracy_chart (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), NULL);

  return self->accuracy_chart;
}

GtkProgressBar *
xl_train_page_get_progress_bar (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), NULL);

  return self->progress_bar;
}

const char *
xl_train_page_get_status_text (XlTrainPage *self)
{
  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), NULL);

  return self->status_text;
}

char *
xl_train_page_dup_log_text (XlTrainPage *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start;
  GtkTextIter end;

  g_return_val_if_fail (XL_IS_TRAIN_PAGE (self), NULL);

  buffer = gtk_text_view_get_buffer (self->log_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);

  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
xl_train_page_dispose (GObject *object)
{
  GtkWidget *child;
  XlTrainPage *self = (XlTrainPage *) object;

  if (self->runner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->runner, self);
      /* Nothing may train on after the window is gone. */
      xl_train_runner_stop_and_wait (self->runner);
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_TRAIN_PAGE);

  /* GTK 4.8 leaves the template's unbound top-level child in place. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  if (self->download_cancellable != NULL)
    g_cancellable_cancel (self->download_cancellable);
  g_clear_object (&self->download_cancellable);
  g_clear_object (&self->download);
  g_clear_object (&self->runner);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->dataset, xl_dataset_unref);

  G_OBJECT_CLASS (xl_train_page_parent_class)->dispose (object);
}

static void
xl_train_page_finalize (GObject *object)
{
  XlTrainPage *self = (XlTrainPage *) object;

  g_clear_pointer (&self->weight_paths, g_ptr_array_unref);
  g_clear_pointer (&self->status_text, g_free);

  G_OBJECT_CLASS (xl_train_page_parent_class)->finalize (object);
}

static void
xl_train_page_class_init (XlTrainPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_train_page_dispose;
  object_class->finalize = xl_train_page_finalize;

  g_type_ensure (XL_TYPE_CURVE_CHART);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-train-page.ui");
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, settings_box);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, finetune_check);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, fixed_check);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, partial_check);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, freeze_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, parameters_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, weights_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, weights_button);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, get_weights_button);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, download_box);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, download_progress);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, download_label);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, download_cancel_button);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, download_message);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, weights_warning);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, epochs_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, batch_size_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, input_size_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, optimizer_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, learning_rate_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, momentum_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, momentum_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, weight_decay_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, schedule_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, step_size_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, step_size_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, gamma_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, gamma_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, patience_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, monitor_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, class_weights_row);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, augment_switch);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, seed_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, threads_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, start_button);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, stop_button);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, loss_chart);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, accuracy_chart);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, run_dir_label);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, open_run_button);
  gtk_widget_class_bind_template_child (widget_class, XlTrainPage, log_view);

  gtk_widget_class_install_action (widget_class, "train.defaults", NULL, defaults_action);
  gtk_widget_class_install_action (widget_class, "train.open-run-folder", NULL, open_run_folder_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
xl_train_page_init (XlTrainPage *self)
{
  g_autoptr(GtkStringList) weights = NULL;
  GtkTextBuffer *buffer;
  GtkTextIter end;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->width = 64;
  self->mode = XL_TRAIN_FINETUNE;
  self->runner = xl_train_runner_new ();
  self->weight_paths = g_ptr_array_new_with_free_func (g_free);

  xl_curve_chart_set_model (self->loss_chart, xl_train_runner_get_loss_model (self->runner));
  xl_curve_chart_set_model (self->accuracy_chart, xl_train_runner_get_accuracy_model (self->runner));

  buffer = gtk_text_view_get_buffer (self->log_view);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_create_mark (buffer, "end", &end, FALSE);

  self->loading = TRUE;
  weights = gtk_string_list_new (NULL);
  gtk_string_list_append (weights, _("None — random initialization"));
  g_ptr_array_add (self->weight_paths, NULL);
  adw_combo_row_set_model (self->weights_row, G_LIST_MODEL (weights));
  find_weights (self);
  /* The first file found, or none. */
  adw_combo_row_set_selected (self->weights_row, self->weight_paths->len > 1 ? 1 : 0);

  gtk_check_button_set_active (self->finetune_check, TRUE);
  apply_defaults (self, XL_TRAIN_FINETUNE);
  self->loading = FALSE;

  g_signal_connect_object (self->finetune_check, "toggled",
                           G_CALLBACK (mode_toggled_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->fixed_check, "toggled",
                           G_CALLBACK (mode_toggled_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->partial_check, "toggled",
                           G_CALLBACK (mode_toggled_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->freeze_adjustment, "value-changed",
                           G_CALLBACK (update_parameters), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->weights_row, "notify::selected",
                           G_CALLBACK (weights_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->weights_button, "clicked",
                           G_CALLBACK (weights_button_clicked_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->get_weights_button, "clicked",
                           G_CALLBACK (get_weights_button_clicked_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->download_cancel_button, "clicked",
                           G_CALLBACK (download_cancel_button_clicked_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->optimizer_row, "notify::selected",
                           G_CALLBACK (optimizer_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->schedule_row, "notify::selected",
                           G_CALLBACK (schedule_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "changed",
                           G_CALLBACK (runner_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "log",
                           G_CALLBACK (runner_log_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "finished",
                           G_CALLBACK (runner_finished_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "notify::running",
                           G_CALLBACK (xl_train_page_update_sensitivity), self, G_CONNECT_SWAPPED);

  update_weights_warning (self);
  optimizer_changed_cb (self);
  schedule_changed_cb (self);
  update_parameters (self);
  xl_train_page_update_sensitivity (self);
  gtk_progress_bar_set_text (self->progress_bar, _("Not started"));
}
