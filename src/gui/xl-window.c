/* xl-window.c
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

#include <glib/gi18n.h>

#include "xl-dataset-job.h"
#include "xl-window.h"

#define MAX_RECENT 8

struct _XlWindow
{
  AdwApplicationWindow  parent_instance;

  /* NULL when the schema is not installed (an uninstalled build run
   * without GSETTINGS_SCHEMA_DIR): the window then keeps no state. */
  GSettings            *settings;

  /* The data set being opened, and how to stop that */
  XlDatasetJob         *job;
  GCancellable         *job_cancellable;

  gboolean              auto_train;
  gboolean              close_after_run;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwViewStack         *view_stack;
  AdwViewSwitcherTitle *switcher_title;
  XlDataPage           *data_page;
  XlTrainPage          *train_page;
  XlResultsPage        *results_page;
  XlReviewPage         *review_page;
  GtkLabel             *notice;
};

G_DEFINE_FINAL_TYPE (XlWindow, xl_window, ADW_TYPE_APPLICATION_WINDOW)

static void xl_window_update_actions (XlWindow *self);

XlWindow *
xl_window_new (XlApplication *application)
{
  g_return_val_if_fail (!application || XL_IS_APPLICATION (application), NULL);

  return g_object_new (XL_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

static GSettings *
lookup_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source == NULL || !(schema = g_settings_schema_source_lookup (source, APP_ID, TRUE)))
    return NULL;

  return g_settings_new_full (schema, NULL, NULL);
}

XlDataPage *
xl_window_get_data_page (XlWindow *self)
{
  g_return_val_if_fail (XL_IS_WINDOW (self), NULL);

  return self->data_page;
}

XlTrainPage *
xl_window_get_train_page (XlWindow *self)
{
  g_return_val_if_fail (XL_IS_WINDOW (self), NULL);

  return self->train_page;
}

GSettings *
xl_window_get_settings (XlWindow *self)
{
  g_return_val_if_fail (XL_IS_WINDOW (self), NULL);

  return self->settings;
}

gboolean
xl_window_open_run (XlWindow    *self,
                    const char  *run_dir,
                    GError     **error)
{
  g_autoptr(XlRunFolder) run = NULL;

  g_return_val_if_fail (XL_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (run_dir != NULL, FALSE);

  run = xl_run_folder_load (run_dir, error);
  if (run == NULL)
    return FALSE;

  xl_results_page_set_run (self->results_page, run);
  xl_review_page_set_run (self->review_page, run);
  return TRUE;
}

XlResultsPage *
xl_window_get_results_page (XlWindow *self)
{
  g_return_val_if_fail (XL_IS_WINDOW (self), NULL);

  return self->results_page;
}

XlReviewPage *
xl_window_get_review_page (XlWindow *self)
{
  g_return_val_if_fail (XL_IS_WINDOW (self), NULL);

  return self->review_page;
}

void
xl_window_show_view (XlWindow   *self,
                     const char *name)
{
  g_return_if_fail (XL_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  adw_view_stack_set_visible_child_name (self->view_stack, name);
}

const char *
xl_window_get_view (XlWindow *self)
{
  g_return_val_if_fail (XL_IS_WINDOW (self), NULL);

  return adw_view_stack_get_visible_child_name (self->view_stack);
}

void
xl_window_set_keep_settings (XlWindow *self,
                             gboolean  keep)
{
  g_return_if_fail (XL_IS_WINDOW (self));

  /* Delayed changes are never applied: the run changes widgets freely. */
  if (keep && self->settings != NULL)
    g_settings_delay (self->settings);
}

static void
show_toast (XlWindow   *self,
            const char *text)
{
  AdwToast *toast = adw_toast_new (text);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* ---- Opening data sets ----------------------------------------------------- */

gboolean
xl_window_get_busy (XlWindow *self)
{
  g_return_val_if_fail (XL_IS_WINDOW (self), FALSE);

  return self->job != NULL;
}

gboolean
xl_window_get_settled (XlWindow *self)
{
  XlThumbnailLoader *loader;

  g_return_val_if_fail (XL_IS_WINDOW (self), FALSE);

  if (self->job != NULL || self->auto_train)
    return FALSE;
  if (xl_train_runner_get_running (xl_train_page_get_runner (self->train_page)))
    return FALSE;
  if ((loader = xl_data_page_get_loader (self->data_page)) != NULL
      && xl_thumbnail_loader_get_n_pending (loader) > 0)
    return FALSE;
  /* Review's film and heatmap on their way */
  if (xl_review_page_get_busy (self->review_page))
    return FALSE;

  return TRUE;
}

static void
remember_dataset (XlWindow     *self,
                  XlDatasetJob *job)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) recent = NULL;
  g_auto(GStrv) updated = NULL;
  const char *path = xl_dataset_job_get_path (job);
  guint n = 1;

  if (self->settings == NULL)
    return;

  g_settings_set_string (self->settings, "last-dataset", path);

  /* The demo has its own button. */
  if (xl_dataset_job_get_is_demo (job))
    return;

  recent = g_settings_get_strv (self->settings, "recent-datasets");
  builder = g_strv_builder_new ();
  g_strv_builder_add (builder, path);
  for (guint i = 0; recent[i] != NULL && n < MAX_RECENT; i++)
    if (g_strcmp0 (recent[i], path) != 0)
      {
        g_strv_builder_add (builder, recent[i]);
        n++;
      }
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-datasets", (const char * const *) updated);
}

static void
start_training (XlWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (!xl_train_page_get_can_start (self->train_page))
    return;

  if (!xl_train_page_start (self->train_page,
                            xl_data_page_get_val_fraction (self->data_page),
                            &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not start training: %s"), error->message);

      show_toast (self, text);
      return;
    }

  xl_window_show_view (self, "train");
}

static void
job_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(XlWindow) self = user_data;
  XlDatasetJob *job = XL_DATASET_JOB (object);
  g_autoptr(XlDataset) dataset = NULL;
  g_autoptr(GError) error = NULL;

  dataset = xl_dataset_job_run_finish (job, result, &error);

  /* A newer job replaced this one, or the window is going away. */
  if (job != self->job)
    return;

  g_clear_object (&self->job);
  g_clear_object (&self->job_cancellable);

  if (dataset == NULL)
    {
      xl_data_page_show_welcome (self->data_page);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *name = g_path_get_basename (xl_dataset_job_get_path (job));
          /* Translators: the data set's name, then why it could not be opened */
          g_autofree char *text = g_strdup_printf (_("Could not open “%s”: %s"), name, error->message);

          show_toast (self, text);
        }
      self->auto_train = FALSE;
      xl_window_update_actions (self);
      return;
    }

  xl_data_page_set_dataset (self->data_page, dataset);
  xl_train_page_set_dataset (self->train_page, dataset);
  remember_dataset (self, job);
  xl_window_update_actions (self);

  if (self->auto_train)
    {
      self->auto_train = FALSE;
      start_training (self);
    }
}

static void
start_job (XlWindow     *self,
           XlDatasetJob *job)
{
  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
  g_clear_object (&self->job_cancellable);
  g_set_object (&self->job, job);

  self->job_cancellable = g_cancellable_new ();
  xl_data_page_show_loading (self->data_page, job);
  xl_window_show_view (self, "data");
  xl_window_update_actions (self);

  xl_dataset_job_run_async (job, self->job_cancellable, job_done_cb, g_object_ref (self));
}

void
xl_window_open_dataset (XlWindow   *self,
                        const char *path)
{
  g_autoptr(XlDatasetJob) job = NULL;

  g_return_if_fail (XL_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  job = xl_dataset_job_new_scan (path);
  start_job (self, job);
}

void
xl_window_open_demo (XlWindow *self)
{
  g_autoptr(XlDatasetJob) job = NULL;
  g_autofree char *dir = xl_dataset_job_demo_dir ();
  XlSynthConfig config;

  g_return_if_fail (XL_IS_WINDOW (self));

  xl_dataset_job_demo_config (&config);
  job = xl_dataset_job_new_demo (dir, &config);
  start_job (self, job);
}

void
xl_window_set_auto_train (XlWindow *self,
                          gboolean  auto_train)
{
  g_return_if_fail (XL_IS_WINDOW (self));

  self->auto_train = !!auto_train;
  if (self->auto_train && self->job == NULL && xl_train_page_get_can_start (self->train_page))
    {
      self->auto_train = FALSE;
      start_training (self);
    }
}

/* ---- Actions --------------------------------------------------------------- */

static void
chooser_response_cb (GtkNativeDialog *chooser,
                     int              response,
                     XlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        xl_window_open_dataset (self, path);
      else
        show_toast (self, _("Only local folders and files can be opened"));
    }

  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
choose_dataset (XlWindow *self,
                gboolean  archive)
{
  GtkFileChooserNative *chooser;

  if (archive)
    {
      g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

      chooser = gtk_file_chooser_native_new (_("Open a Data Set Archive"),
                                             GTK_WINDOW (self),
                                             GTK_FILE_CHOOSER_ACTION_OPEN,
                                             _("_Open"),
                                             _("_Cancel"));
      gtk_file_filter_set_name (filter, _("Zip archives"));
      gtk_file_filter_add_pattern (filter, "*.zip");
      gtk_file_filter_add_mime_type (filter, "application/zip");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
    }
  else
    chooser = gtk_file_chooser_native_new (_("Open a Data Set Folder"),
                                           GTK_WINDOW (self),
                                           GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                           _("_Open"),
                                           _("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
open_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  choose_dataset (XL_WINDOW (user_data), FALSE);
}

static void
open_archive_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  choose_dataset (XL_WINDOW (user_data), TRUE);
}

static void
open_demo_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  xl_window_open_demo (XL_WINDOW (user_data));
}

static void
open_recent_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  xl_window_open_dataset (XL_WINDOW (user_data), g_variant_get_string (parameter, NULL));
}

static void
cancel_open_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  XlWindow *self = XL_WINDOW (user_data);

  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
}

static void
view_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  xl_window_show_view (XL_WINDOW (user_data), g_variant_get_string (parameter, NULL));
}

static void
start_training_action (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  start_training (XL_WINDOW (user_data));
}

static void
stop_training_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  XlWindow *self = XL_WINDOW (user_data);

  xl_train_page_stop (self->train_page);
}

static void
open_run_response_cb (GtkNativeDialog *chooser,
                      int              response,
                      XlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;

      if (path == NULL)
        show_toast (self, _("Only local folders can be opened"));
      else if (!xl_window_open_run (self, path, &error))
        show_toast (self, error->message);
    }

  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
open_run_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  XlWindow *self = XL_WINDOW (user_data);
  g_autofree char *runs = g_build_filename (g_get_user_data_dir (), "xraylab", "runs", NULL);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Open a Run Folder"),
                                         GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         _("_Open"),
                                         _("_Cancel"));
  if (g_file_test (runs, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) folder = g_file_new_for_path (runs);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (open_run_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static const GActionEntry win_actions[] = {
  { "open", open_action },
  { "open-archive", open_archive_action },
  { "open-demo", open_demo_action },
  { "open-run", open_run_action },
  { "open-recent", open_recent_action, "s" },
  { "cancel-open", cancel_open_action },
  { "view", view_action, "s" },
  { "start-training", start_training_action },
  { "stop-training", stop_training_action },
};

static void
set_action_enabled (XlWindow   *self,
                    const char *name,
                    gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
xl_window_update_actions (XlWindow *self)
{
  XlTrainRunner *runner = xl_train_page_get_runner (self->train_page);
  const XlTrainStatus *status = xl_train_runner_get_status (runner);

  set_action_enabled (self, "start-training",
                      self->job == NULL && xl_train_page_get_can_start (self->train_page));
  set_action_enabled (self, "stop-training", status->running && !status->stopping);
  set_action_enabled (self, "cancel-open", self->job != NULL);
}

static void
recent_changed_cb (XlWindow *self)
{
  g_auto(GStrv) recent = g_settings_get_strv (self->settings, "recent-datasets");

  xl_welcome_page_set_recent (xl_data_page_get_welcome_page (self->data_page),
                              (const char * const *) recent);
}

static void
runner_finished_cb (XlWindow   *self,
                    gboolean    stopped,
                    const char *error)
{
  const XlTrainStatus *status = xl_train_runner_get_status (xl_train_page_get_runner (self->train_page));

  xl_window_update_actions (self);

  if (error == NULL && status->best_epoch > 0 && status->run_dir != NULL)
    {
      g_autoptr (GError) load_error = NULL;

      if (!xl_window_open_run (self, status->run_dir, &load_error))
        show_toast (self, load_error->message);
    }

  if (self->close_after_run)
    gtk_window_close (GTK_WINDOW (self));
  else if (error != NULL)
    show_toast (self, _("The run failed: the log says why"));
}

static void
show_films_cb (XlWindow *self,
               guint     true_class,
               guint     predicted_class)
{
  xl_review_page_show_cell (self->review_page, true_class, predicted_class);
  xl_window_show_view (self, "review");
}

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         XlWindow      *self)
{
  g_autofree char *path = NULL;

  if (!G_VALUE_HOLDS (value, G_TYPE_FILE)
      || !(path = g_file_get_path (g_value_get_object (value))))
    return FALSE;

  /* A film is reviewed; a folder or an archive is a data set. */
  if (xl_is_image_file_name (path) && g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      GFile *file = g_value_get_object (value);

      xl_review_page_open_files (self->review_page, &file, 1);
      xl_window_show_view (self, "review");
      return TRUE;
    }

  xl_window_open_dataset (self, path);

  return TRUE;
}

/* ---- State and closing ----------------------------------------------------- */

static void
xl_window_load_state (XlWindow *self)
{
  int width;
  int height;

  g_assert (XL_IS_WINDOW (self));

  if (self->settings == NULL)
    return;

  width = g_settings_get_int (self->settings, "window-width");
  height = g_settings_get_int (self->settings, "window-height");
  gtk_window_set_default_size (GTK_WINDOW (self), width, height);

  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
xl_window_save_state (XlWindow *self)
{
  gboolean maximized;
  int width;
  int height;

  g_assert (XL_IS_WINDOW (self));

  if (self->settings == NULL)
    return;

  maximized = gtk_window_is_maximized (GTK_WINDOW (self));
  g_settings_set_boolean (self->settings, "window-maximized", maximized);

  /* The default size is the unmaximized one, which is what to restore. */
  if (!maximized)
    {
      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
}

static void
stop_dialog_response_cb (AdwMessageDialog *dialog,
                         const char       *response,
                         XlWindow         *self)
{
  if (g_strcmp0 (response, "stop") != 0)
    return;

  self->close_after_run = TRUE;
  xl_train_page_stop (self->train_page);
  show_toast (self, _("Stopping: the window closes once the best model is saved"));

  /* It may have ended while the question was open. */
  if (!xl_train_runner_get_running (xl_train_page_get_runner (self->train_page)))
    gtk_window_close (GTK_WINDOW (self));
}

static gboolean
xl_window_close_request (GtkWindow *window)
{
  XlWindow *self = (XlWindow *) window;
  XlTrainRunner *runner = xl_train_page_get_runner (self->train_page);

  g_assert (XL_IS_WINDOW (self));

  if (xl_train_runner_get_running (runner))
    {
      AdwMessageDialog *dialog;

      /* Asked already: closing follows the run's end. */
      if (self->close_after_run)
        return TRUE;

      dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (window, _("Stop Training?"),
                                                           _("A run is in progress. Closing the window "
                                                             "stops it after the current batch; the best "
                                                             "model so far is kept, evaluated and saved "
                                                             "before the window closes.")));
      adw_message_dialog_add_responses (dialog,
                                        "cancel", _("_Keep Training"),
                                        "stop", _("_Stop and Close"),
                                        NULL);
      adw_message_dialog_set_response_appearance (dialog, "stop", ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_set_default_response (dialog, "cancel");
      adw_message_dialog_set_close_response (dialog, "cancel");
      g_signal_connect_object (dialog, "response",
                               G_CALLBACK (stop_dialog_response_cb), self, 0);
      gtk_window_present (GTK_WINDOW (dialog));

      return TRUE;
    }

  xl_window_save_state (self);

  return GTK_WINDOW_CLASS (xl_window_parent_class)->close_request (window);
}

static void
xl_window_dispose (GObject *object)
{
  XlWindow *self = (XlWindow *) object;

  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_WINDOW);

  g_clear_object (&self->job);
  g_clear_object (&self->job_cancellable);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (xl_window_parent_class)->dispose (object);
}

static void
xl_window_class_init (XlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = xl_window_dispose;

  window_class->close_request = xl_window_close_request;

  g_type_ensure (XL_TYPE_DATA_PAGE);
  g_type_ensure (XL_TYPE_TRAIN_PAGE);
  g_type_ensure (XL_TYPE_RESULTS_PAGE);
  g_type_ensure (XL_TYPE_REVIEW_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, XlWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, data_page);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, train_page);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, results_page);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, review_page);
  gtk_widget_class_bind_template_child (widget_class, XlWindow, notice);
}

static void
xl_window_init (XlWindow *self)
{
  GtkEventController *shortcuts;
  GtkDropTarget *drop;
  XlTrainRunner *runner;

  gtk_widget_init_template (GTK_WIDGET (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   win_actions,
                                   G_N_ELEMENTS (win_actions),
                                   self);

  /* Escape stops a run only when nothing in the window wanted it first (a
   * search entry, a popover): a bubble-phase shortcut, not an accelerator. */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_BUBBLE);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_named_action_new ("win.stop-training")));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect_object (drop, "drop", G_CALLBACK (drop_cb), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  /* Review follows the threshold chosen in Results, and opens on the films
   * of a confusion-matrix cell. */
  g_object_bind_property (self->results_page, "threshold", self->review_page, "threshold",
                          G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->results_page, "show-films",
                           G_CALLBACK (show_films_cb), self, G_CONNECT_SWAPPED);

  runner = xl_train_page_get_runner (self->train_page);
  g_signal_connect_object (runner, "changed",
                           G_CALLBACK (xl_window_update_actions), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (runner, "finished",
                           G_CALLBACK (runner_finished_cb), self, G_CONNECT_SWAPPED);

  self->settings = lookup_settings ();
  xl_window_load_state (self);

  if (self->settings != NULL)
    {
      xl_data_page_set_settings (self->data_page, self->settings);
      xl_train_page_set_settings (self->train_page, self->settings);
      g_signal_connect_object (self->settings, "changed::recent-datasets",
                               G_CALLBACK (recent_changed_cb), self, G_CONNECT_SWAPPED);
      recent_changed_cb (self);
    }

  xl_window_update_actions (self);
}
