/* robust-util.h — what the robustness tests share: a tiny synthetic data set,
 * a tiny session, folders that go away.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "xl-train-session.h"

G_BEGIN_DECLS

/* A fresh temporary folder (removed by robust_remove_tree). */
char *robust_tmp_dir (const char *name);
/* Writes a small synthetic set (train/val/test, NORMAL/PNEUMONIA, 40 px films)
 * into path. */
void robust_make_data (const char *path, guint per_class);
/* Settings for a session that takes a fraction of a second: width 4 at 32x32,
 * batch 8, 2 epochs of at most max_batches batches, one thread. */
void robust_small_config (XlTrainConfig *cfg, const char *data_path, const char *out_dir);
/* rm -rf, also past PATH_MAX (it works with folder descriptors). */
void robust_remove_tree (const char *path);

/* What a session reported. */
typedef struct {
  guint batches, epochs, best, finished, errors, started;
  gboolean stopped;
  char *error_message;         /* the last ERROR event's */
  XlTrainSession *stop_session; /* stop it after the first batch, when set */
  /* called on every EPOCH event, for tests that break things mid-run */
  void (*on_epoch) (const XlTrainEvent *ev, gpointer data);
  gpointer on_epoch_data;
} RobustSeen;

void robust_on_event (const XlTrainEvent *ev, gpointer user_data);
void robust_seen_clear (RobustSeen *seen);

/* TRUE if this process may mount (CAP_SYS_ADMIN in a new mount namespace);
 * callers fork first, as the namespace is the child's. */
gboolean robust_enter_private_mounts (void);

G_END_DECLS
