/* robust-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE   /* unshare () */
#include "config.h"

#include "robust-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "xl-synth.h"

char *
robust_tmp_dir (const char *name)
{
  g_autofree char *template = g_strdup_printf ("xl-robust-%s-XXXXXX", name);
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (template, &error);

  g_assert_no_error (error);
  return dir;
}

void
robust_make_data (const char *path, guint per_class)
{
  XlSynthConfig cfg;
  g_autoptr (GError) error = NULL;

  xl_synth_config_init (&cfg);
  cfg.per_class = per_class;
  cfg.size = 40;
  cfg.seed = 7;
  cfg.n_threads = 1;
  g_assert_true (xl_synth_generate (path, &cfg, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
}

void
robust_small_config (XlTrainConfig *cfg, const char *data_path, const char *out_dir)
{
  xl_train_config_init (cfg, XL_TRAIN_FINETUNE);
  cfg->data_path = g_strdup (data_path);
  cfg->out_dir = g_strdup (out_dir);
  cfg->width = 4;
  cfg->input_size = 32;
  cfg->resize = 36;
  cfg->batch_size = 8;
  cfg->epochs = 2;
  cfg->max_batches = 2;
  cfg->val_fraction = 0;
  cfg->patience = 0;
  cfg->augment = FALSE;
  cfg->threads = 1;
  cfg->loader_threads = 1;
  cfg->seed = 3;
}

static void
remove_below (int dir_fd)
{
  DIR *dir = fdopendir (dir_fd);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *d;

  if (dir == NULL)
    {
      close (dir_fd);
      return;
    }
  while ((d = readdir (dir)) != NULL)
    if (strcmp (d->d_name, ".") != 0 && strcmp (d->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (d->d_name));
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      int child;

      if (unlinkat (dirfd (dir), name, 0) == 0)
        continue;
      child = openat (dirfd (dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0)
        remove_below (child);
      (void) unlinkat (dirfd (dir), name, AT_REMOVEDIR);
    }
  closedir (dir);
}

void
robust_remove_tree (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd >= 0)
    remove_below (fd);
  (void) rmdir (path);
  (void) unlink (path);
}

void
robust_on_event (const XlTrainEvent *ev, gpointer user_data)
{
  RobustSeen *seen = user_data;

  switch (ev->kind)
    {
    case XL_TRAIN_EVENT_STARTED:
      seen->started++;
      break;
    case XL_TRAIN_EVENT_BATCH:
      seen->batches++;
      if (seen->stop_session != NULL)
        xl_train_session_stop (seen->stop_session);
      break;
    case XL_TRAIN_EVENT_EPOCH:
      seen->epochs++;
      if (seen->on_epoch != NULL)
        seen->on_epoch (ev, seen->on_epoch_data);
      break;
    case XL_TRAIN_EVENT_BEST:
      seen->best++;
      break;
    case XL_TRAIN_EVENT_FINISHED:
      seen->finished++;
      seen->stopped = ev->stopped;
      break;
    case XL_TRAIN_EVENT_ERROR:
      seen->errors++;
      g_free (seen->error_message);
      seen->error_message = g_strdup (ev->message);
      break;
    default:
      break;
    }
}

void
robust_seen_clear (RobustSeen *seen)
{
  g_clear_pointer (&seen->error_message, g_free);
}

gboolean
robust_enter_private_mounts (void)
{
  if (unshare (CLONE_NEWNS) != 0)
    return FALSE;
  /* our mounts must not leak to the parent's namespace */
  return mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}
