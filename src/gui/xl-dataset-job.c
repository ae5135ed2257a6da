/* xl-dataset-job.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "xl-dataset-job.h"

/* Of the demo's progress bar, the drawing takes this share and the scan the rest. */
#define DEMO_GENERATE_SHARE 0.9

struct _XlDatasetJob
{
  GObject        parent_instance;

  char          *path;
  gboolean       is_demo;
  XlSynthConfig  synth;

  /* Shown on the main thread */
  double         fraction;
  char          *status;

  /* Written by the worker, read by one pending idle callback (Sysprof's
   * coalescing: the worker may report thousands of times a second). */
  GMutex         mutex;
  double         pending_fraction;
  char          *pending_status;
  guint          progress_source;

  /* The part of the bar the current step fills (worker thread only) */
  double         step_start;
  double         step_share;
};

G_DEFINE_FINAL_TYPE (XlDatasetJob, xl_dataset_job, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FRACTION,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

XlDatasetJob *
xl_dataset_job_new_scan (const char *path)
{
  XlDatasetJob *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (XL_TYPE_DATASET_JOB, NULL);
  self->path = g_strdup (path);

  return self;
}

XlDatasetJob *
xl_dataset_job_new_demo (const char          *dir,
                         const XlSynthConfig *config)
{
  XlDatasetJob *self;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (XL_TYPE_DATASET_JOB, NULL);
  self->path = g_strdup (dir);
  self->is_demo = TRUE;
  self->synth = *config;

  return self;
}

char *
xl_dataset_job_demo_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "xraylab", "demo", NULL);
}

void
xl_dataset_job_demo_config (XlSynthConfig *config)
{
  g_return_if_fail (config != NULL);

  xl_synth_config_init (config);
  config->per_class = 150;
  config->size = 256;
}

const char *
xl_dataset_job_get_path (XlDatasetJob *self)
{
  g_return_val_if_fail (XL_IS_DATASET_JOB (self), NULL);

  return self->path;
}

gboolean
xl_dataset_job_get_is_demo (XlDatasetJob *self)
{
  g_return_val_if_fail (XL_IS_DATASET_JOB (self), FALSE);

  return self->is_demo;
}

double
xl_dataset_job_get_fraction (XlDatasetJob *self)
{
  g_return_val_if_fail (XL_IS_DATASET_JOB (self), 0);

  return self->fraction;
}

const char *
xl_dataset_job_get_status (XlDatasetJob *self)
{
  g_return_val_if_fail (XL_IS_DATASET_JOB (self), NULL);

  return self->status;
}

/* Main thread: shows what the worker reported last. */
static void
xl_dataset_job_flush_progress (XlDatasetJob *self)
{
  g_autofree char *status = NULL;
  double fraction;

  g_mutex_lock (&self->mutex);
  fraction = self->pending_fraction;
  status = g_steal_pointer (&self->pending_status);
  g_mutex_unlock (&self->mutex);

  if (fraction != self->fraction)
    {
      self->fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }

  if (status != NULL && g_strcmp0 (status, self->status) != 0)
    {
      g_free (self->status);
      self->status = g_steal_pointer (&status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
}

static gboolean
xl_dataset_job_progress_cb (gpointer user_data)
{
  XlDatasetJob *self = user_data;

  g_mutex_lock (&self->mutex);
  self->progress_source = 0;
  g_mutex_unlock (&self->mutex);

  xl_dataset_job_flush_progress (self);

  return G_SOURCE_REMOVE;
}

/* Any thread */
static void
xl_dataset_job_report (XlDatasetJob *self,
                       double        fraction,
                       const char   *status)
{
  g_mutex_lock (&self->mutex);
  self->pending_fraction = CLAMP (fraction, 0.0, 1.0);
  if (status != NULL)
    {
      g_free (self->pending_status);
      self->pending_status = g_strdup (status);
    }
  if (self->progress_source == 0)
    self->progress_source = g_idle_add_full (G_PRIORITY_LOW,
                                             xl_dataset_job_progress_cb,
                                             g_object_ref (self),
                                             g_object_unref);
  g_mutex_unlock (&self->mutex);
}

static void
step_progress_cb (double      fraction,
                  const char *what,
                  gpointer    user_data)
{
  XlDatasetJob *self = user_data;

  xl_dataset_job_report (self, self->step_start + self->step_share * fraction, NULL);
}

/* Only ever called on our own demo folder in the user's cache. Links are
 * removed, never followed. */
static gboolean
remove_tree (GFile         *file,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GFileInfo) file_info = NULL;
  g_autoptr(GError) local_error = NULL;
  GFileInfo *info;
  GFile *child;

  file_info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                 G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                 cancellable, &local_error);
  if (file_info == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (g_file_info_get_file_type (file_info) != G_FILE_TYPE_DIRECTORY)
    return g_file_delete (file, cancellable, error);

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        cancellable, error);
  if (children == NULL)
    return FALSE;

  while (g_file_enumerator_iterate (children, &info, &child, cancellable, error))
    {
      if (info == NULL)
        return g_file_delete (file, cancellable, error);
      if (!remove_tree (child, cancellable, error))
        return FALSE;
    }

  return FALSE;
}

static gboolean
generate_demo (XlDatasetJob  *self,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autofree char *done_marker = g_build_filename (self->path, "consolidations.csv", NULL);
  g_autofree char *partial = g_strconcat (self->path, ".partial", NULL);
  g_autoptr(GFile) partial_file = g_file_new_for_path (partial);
  g_autofree char *parent = g_path_get_dirname (self->path);

  if (g_file_test (done_marker, G_FILE_TEST_IS_REGULAR))
    return TRUE;

  xl_dataset_job_report (self, 0, _("Drawing the demo films…"));

  /* Drawn next to the final folder and renamed when complete, so that a
   * cancelled run never leaves a half set where the demo is looked for. */
  if (!remove_tree (partial_file, cancellable, error))
    return FALSE;
  if (g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GFile) stale = g_file_new_for_path (self->path);

      if (!remove_tree (stale, cancellable, error))
        return FALSE;
    }
  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", parent, g_strerror (saved_errno));
      return FALSE;
    }

  self->step_start = 0;
  self->step_share = DEMO_GENERATE_SHARE;
  if (!xl_synth_generate (partial, &self->synth, step_progress_cb, self, cancellable, error))
    return FALSE;

  if (g_rename (partial, self->path) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", self->path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

static void
xl_dataset_job_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  XlDatasetJob *self = source_object;
  g_autoptr(GError) error = NULL;
  XlDataset *dataset;

  if (self->is_demo && !generate_demo (self, cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->step_start = self->is_demo ? DEMO_GENERATE_SHARE : 0;
  self->step_share = 1.0 - self->step_start;
  xl_dataset_job_report (self, self->step_start, _("Reading the data set…"));

  if (!(dataset = xl_dataset_scan (self->path, step_progress_cb, self, cancellable, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  xl_dataset_job_report (self, 1.0, NULL);
  g_task_return_pointer (task, dataset, (GDestroyNotify) xl_dataset_unref);
}

void
xl_dataset_job_run_async (XlDatasetJob        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (XL_IS_DATASET_JOB (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, xl_dataset_job_run_async);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, xl_dataset_job_thread);
}

XlDataset *
xl_dataset_job_run_finish (XlDatasetJob  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (XL_IS_DATASET_JOB (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  /* The result may come before the last progress idle: show where it ended. */
  xl_dataset_job_flush_progress (self);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
xl_dataset_job_finalize (GObject *object)
{
  XlDatasetJob *self = (XlDatasetJob *) object;

  /* The pending idle holds a reference: none is left here. */
  g_assert (self->progress_source == 0);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->status, g_free);
  g_clear_pointer (&self->pending_status, g_free);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (xl_dataset_job_parent_class)->finalize (object);
}

static void
xl_dataset_job_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  XlDatasetJob *self = XL_DATASET_JOB (object);

  switch (prop_id)
    {
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;

    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_dataset_job_class_init (XlDatasetJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = xl_dataset_job_finalize;
  object_class->get_property = xl_dataset_job_get_property;

  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL,
                         0, 1, 0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
xl_dataset_job_init (XlDatasetJob *self)
{
  g_mutex_init (&self->mutex);
}
