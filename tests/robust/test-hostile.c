/* Hostile surroundings: each gets a clear message naming the path, and the
 * process keeps working (the next session in the same process trains).
 *
 * - a data set without a test split: trains and evaluates on val
 * - a data set larger than the image cache's budget: trains, reading films
 *   from disk again each epoch
 * - paths longer than PATH_MAX (the data set, the run folder, files inside)
 * - Unicode and non-UTF-8 file and class folder names: the run trains, the
 *   model it saves loads, the run resumes
 * - a read-only output folder (permissions for a user; a read-only bind
 *   mount for root where it may mount; skipped otherwise)
 * - the data set folder deleted mid-run, with a tiny cache so the films must
 *   be read again
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn-tensor-file.h"
#include "robust-util.h"

#define SKIP_STATUS 77

static char *tmp_root;
static char *data_dir;

/* Trains a fresh small run: after any failure above, the process still works. */
static void
assert_still_trains (const char *name)
{
  g_autofree char *out = g_build_filename (tmp_root, name, NULL);
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };

  robust_small_config (&cfg, data_dir, out);
  cfg.epochs = 1;
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    g_assert_true (xl_train_session_run (s, robust_on_event, &seen, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (seen.epochs, ==, 1);
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

static void
assert_model_loads (const char *run)
{
  g_autofree char *path = g_build_filename (run, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  XlModelInfo info;
  NnResnet *net;

  xl_model_info_init (&info);
  net = xl_model_load (path, 1, FALSE, 1, &info, &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);
  nn_resnet_free (net);
  xl_model_info_clear (&info);
}

/* Runs cfg, which must fail; returns the error message (also checks that the
 * ERROR event said the same). */
static char *
run_expecting_failure (XlTrainConfig *cfg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = xl_train_session_new (cfg, &error);
  RobustSeen seen = { 0 };
  char *message;

  g_assert_no_error (error);
  g_assert_false (xl_train_session_run (s, robust_on_event, &seen, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (seen.errors, ==, 1);
  g_assert_cmpstr (seen.error_message, ==, error->message);
  g_test_message ("%s", error->message);
  message = g_strdup (error->message);
  robust_seen_clear (&seen);
  return message;
}

/* ---- a data set without a test split --------------------------------------- */

static void
test_no_test_split (void)
{
  g_autofree char *data = g_build_filename (tmp_root, "no-test-data", NULL);
  g_autofree char *test_dir = g_build_filename (data, "test", NULL);
  g_autofree char *out = g_build_filename (tmp_root, "no-test-run", NULL);
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };

  /* (UBSan once caught a memcpy from the missing split's NULL indices) */
  robust_make_data (data, 12);
  robust_remove_tree (test_dir);
  robust_small_config (&cfg, data, out);
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    g_assert_true (xl_train_session_run (s, robust_on_event, &seen, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (seen.epochs, ==, 2);
  assert_model_loads (out);
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

/* ---- a data set larger than the cache ----------------------------------- */

static void
test_tiny_image_cache (void)
{
  g_autofree char *out = g_build_filename (tmp_root, "tiny-cache", NULL);
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };

  robust_small_config (&cfg, data_dir, out);
  cfg.image_cache_bytes = 1;      /* not even one film fits */
  cfg.epochs = 3;
  cfg.max_batches = 0;            /* every film of every epoch, read again */
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    g_assert_true (xl_train_session_run (s, robust_on_event, &seen, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (seen.epochs, ==, 3);
  g_assert_cmpuint (seen.errors, ==, 0);
  assert_model_loads (out);
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

/* ---- paths longer than PATH_MAX ------------------------------------------- */

/* tmp_root/long/aaa.../aaa.../... : n levels of 200-byte names, made with
 * mkdirat so that it can go past PATH_MAX. Returns the path. */
static char *
make_long_dir (const char *top, guint levels, int *fd_out)
{
  GString *path = g_string_new (top);
  g_autofree char *component = g_strnfill (200, 'a');
  int fd;

  g_assert_cmpint (g_mkdir_with_parents (top, 0755), ==, 0);
  fd = open (top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  for (guint i = 0; i < levels; i++)
    {
      int next;
      g_assert_cmpint (mkdirat (fd, component, 0755), ==, 0);
      next = openat (fd, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      g_assert_cmpint (next, >=, 0);
      close (fd);
      fd = next;
      g_string_append_printf (path, "/%s", component);
    }
  if (fd_out != NULL)
    *fd_out = fd;
  else
    close (fd);
  return g_string_free (path, FALSE);
}

static void
test_long_paths (void)
{
  g_autofree char *top = g_build_filename (tmp_root, "long", NULL);
  g_autofree char *short_data = g_build_filename (tmp_root, "long-data", NULL);
  g_autofree char *deep = NULL;
  g_autofree char *deep_data = NULL;
  g_autofree char *deep_run = NULL;
  g_autofree char *message = NULL;
  XlTrainConfig cfg;
  int deep_fd;

  /* 21 levels: more than PATH_MAX (4096) bytes */
  deep = make_long_dir (top, 21, &deep_fd);
  g_assert_cmpuint (strlen (deep), >, 4096);

  /* the run folder */
  deep_run = g_build_filename (deep, "run", NULL);
  robust_small_config (&cfg, data_dir, deep_run);
  message = run_expecting_failure (&cfg);
  g_assert_nonnull (strstr (message, "run folder"));
  g_assert_nonnull (strstr (message, g_strerror (ENAMETOOLONG)));
  g_clear_pointer (&message, g_free);
  xl_train_config_clear (&cfg);

  /* the data set: its own path, then only its files too long */
  robust_make_data (short_data, 4);
  g_assert_cmpint (renameat (AT_FDCWD, short_data, deep_fd, "data"), ==, 0);
  deep_data = g_build_filename (deep, "data", NULL);
  {
    g_autofree char *long_run = g_build_filename (tmp_root, "long-run", NULL);
    robust_small_config (&cfg, deep_data, long_run);
  }
  message = run_expecting_failure (&cfg);
  g_assert_nonnull (strstr (message, g_strerror (ENAMETOOLONG)));
  g_clear_pointer (&message, g_free);
  xl_train_config_clear (&cfg);
  close (deep_fd);

  {
    /* the data set's folder fits in PATH_MAX (4080 bytes), its class
     * folders only just or not at all, its films not */
    g_autofree char *top2 = g_build_filename (tmp_root, "long2", NULL);
    g_autofree char *dir = make_long_dir (top2, 19, &deep_fd);
    g_autofree char *last = g_strnfill (4080 - strlen (dir) - 1, 'd');
    g_autofree char *data = g_build_filename (dir, last, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (XlDataset) ds = NULL;

    robust_make_data (short_data, 4);
    g_assert_cmpuint (strlen (last), <, 256);
    g_assert_cmpint (renameat (AT_FDCWD, short_data, deep_fd, last), ==, 0);
    close (deep_fd);
    g_assert_cmpuint (strlen (data), ==, 4080);
    ds = xl_dataset_scan (data, NULL, NULL, NULL, &error);
    /* nothing usable; each unreadable folder or film is listed with why */
    if (ds != NULL)
      {
        g_assert_cmpuint (xl_dataset_n_images (ds), ==, 0);
        g_assert_cmpuint (xl_dataset_n_skipped (ds), >, 0);
      }
    else
      {
        g_test_message ("%s", error->message);
        g_assert_nonnull (strstr (error->message, data));
      }
    {
      g_autofree char *long_run = g_build_filename (tmp_root, "long-run2", NULL);
      robust_small_config (&cfg, data, long_run);
    }
    message = run_expecting_failure (&cfg);
    g_assert_nonnull (strstr (message, data));
    g_clear_pointer (&message, g_free);
    xl_train_config_clear (&cfg);
  }

  assert_still_trains ("after-long-paths");
}

/* ---- Unicode and bytes that are not UTF-8 --------------------------------- */

/* Renames every film of data/SPLIT/CLASS with prefix prepended. */
static void
prefix_films (const char *class_dir, const char *prefix, guint every)
{
  g_autoptr (GDir) d = g_dir_open (class_dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  for (guint i = 0; i < names->len; i += every)
    {
      g_autofree char *from = g_build_filename (class_dir, names->pdata[i], NULL);
      g_autofree char *renamed = g_strconcat (prefix, names->pdata[i], NULL);
      g_autofree char *to = g_build_filename (class_dir, renamed, NULL);
      g_assert_cmpint (rename (from, to), ==, 0);
    }
}

static void
test_odd_names (void)
{
  g_autofree char *data = g_build_filename (tmp_root, "odd-data \xe2\x80\x94 donn\xc3\xa9" "es",
                                            NULL);
  g_autofree char *out = g_build_filename (tmp_root, "odd-run \xe8\x82\xba", NULL);
  g_autoptr (GError) error = NULL;
  const char *splits[] = { "train", "val", "test" };
  /* Latin-1 "é" (not UTF-8) in one class, a Unicode class name for the other */
  const char *classes[][2] = { { "NORMAL", "NORMAL-caf\xe9" },
                               { "PNEUMONIA", "\xe8\x82\xba\xe7\x82\x8e PNEUMONIA" } };
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };

  robust_make_data (data, 12);
  for (guint s = 0; s < G_N_ELEMENTS (splits); s++)
    for (guint c = 0; c < G_N_ELEMENTS (classes); c++)
      {
        g_autofree char *from = g_build_filename (data, splits[s], classes[c][0], NULL);
        g_autofree char *to = g_build_filename (data, splits[s], classes[c][1], NULL);
        g_assert_cmpint (rename (from, to), ==, 0);
        prefix_films (to, "\xff\xfe-", 3);                        /* not UTF-8 */
        prefix_films (to, "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\xb7 ", 4); /* Unicode */
        prefix_films (to, "new\nline ", 5);
      }

  robust_small_config (&cfg, data, out);
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    if (!xl_train_session_run (s, robust_on_event, &seen, &error))
      g_error ("training on odd names failed: %s", error->message);
  }
  g_assert_cmpuint (seen.errors, ==, 0);
  g_assert_cmpuint (seen.epochs, ==, 2);
  robust_seen_clear (&seen);
  seen = (RobustSeen) { 0 };
  assert_model_loads (out);

  /* the run folder's files are valid UTF-8 for jq, pandas and a resume */
  {
    const char *files[] = { "config.json", "metrics.json", "predictions.csv", "history.csv" };
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *path = g_build_filename (out, files[i], NULL);
        g_autofree char *text = NULL;
        g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
        if (!g_utf8_validate (text, -1, NULL))
          g_error ("%s is not UTF-8", files[i]);
      }
  }
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new_resume (out, 3, &error);
    g_assert_no_error (error);
    if (!xl_train_session_run (s, robust_on_event, &seen, &error))
      g_error ("resuming on odd names failed: %s", error->message);
    g_assert_cmpuint (seen.epochs, ==, 1);
  }
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

/* The data set's folder and the run folder themselves named in bytes that are
 * not UTF-8: config.json stays UTF-8 and the resume finds both again. */
static void
test_non_utf8_folders (void)
{
  g_autofree char *data = g_build_filename (tmp_root, "donn\xe9" "es", NULL);
  g_autofree char *out = g_build_filename (tmp_root, "run-\xff\xfe", NULL);
  g_autofree char *config_path = g_build_filename (out, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg, read_back;
  RobustSeen seen = { 0 };

  robust_make_data (data, 8);
  robust_small_config (&cfg, data, out);
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    if (!xl_train_session_run (s, robust_on_event, &seen, &error))
      g_error ("training from a non-UTF-8 folder failed: %s", error->message);
  }
  robust_seen_clear (&seen);
  seen = (RobustSeen) { 0 };
  assert_model_loads (out);

  g_assert_true (g_file_get_contents (config_path, &text, NULL, NULL));
  g_assert_true (g_utf8_validate (text, -1, NULL));
  xl_train_config_init (&read_back, XL_TRAIN_FIXED);
  g_assert_true (xl_train_config_from_json (&read_back, text, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (read_back.data_path, ==, data);
  g_assert_cmpstr (read_back.out_dir, ==, out);
  xl_train_config_clear (&read_back);

  {
    g_autoptr (XlTrainSession) s = xl_train_session_new_resume (out, 3, &error);
    g_assert_no_error (error);
    if (!xl_train_session_run (s, robust_on_event, &seen, &error))
      g_error ("resuming from a non-UTF-8 folder failed: %s", error->message);
    g_assert_cmpuint (seen.epochs, ==, 1);
  }
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);
}

/* ---- a read-only output folder --------------------------------------------- */

/* Expects writing into the read-only dir (holding a finished run "run") to
 * fail with messages naming the path: a new run, a resumed one, a model. */
static int
check_read_only (const char *dir)
{
  g_autofree char *run = g_build_filename (dir, "run", NULL);
  g_autofree char *fresh = g_build_filename (dir, "fresh", NULL);
  g_autofree char *model = g_build_filename (run, "model.safetensors", NULL);
  g_autofree char *message = NULL;
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;

  robust_small_config (&cfg, data_dir, fresh);
  message = run_expecting_failure (&cfg);
  if (strstr (message, fresh) == NULL)
    return 1;
  g_clear_pointer (&message, g_free);
  xl_train_config_clear (&cfg);

  {
    g_autoptr (XlTrainSession) s = xl_train_session_new_resume (run, 3, &error);
    RobustSeen seen = { 0 };
    if (s == NULL)
      return 2;
    if (xl_train_session_run (s, robust_on_event, &seen, &error))
      return 3;
    g_test_message ("resume: %s", error->message);
    if (strstr (error->message, run) == NULL || seen.errors != 1)
      return 4;
    robust_seen_clear (&seen);
    g_clear_error (&error);
  }
  {
    XlModelInfo info;
    NnResnet *net;
    xl_model_info_init (&info);
    net = xl_model_load (model, 1, FALSE, 1, &info, &error);
    if (net == NULL)
      return 5;
    if (xl_model_save (net, &info, model, &error))
      return 6;
    g_test_message ("save: %s", error->message);
    if (strstr (error->message, model) == NULL)
      return 7;
    nn_resnet_free (net);
    xl_model_info_clear (&info);
  }
  assert_model_loads (run);
  return 0;
}

static void
test_read_only_output (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "read-only", NULL);
  g_autofree char *run = g_build_filename (dir, "run", NULL);
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };
  int status;
  pid_t pid;

  /* a finished run first, while the folder is writable */
  robust_small_config (&cfg, data_dir, run);
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_true (xl_train_session_run (s, robust_on_event, &seen, &error));
    g_assert_no_error (error);
  }
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);

  if (geteuid () != 0)
    {
      g_autofree char *plots = g_build_filename (run, "plots", NULL);
      g_assert_cmpint (g_chmod (plots, 0555), ==, 0);
      g_assert_cmpint (g_chmod (run, 0555), ==, 0);
      g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
      status = check_read_only (dir);
      g_chmod (dir, 0755);
      g_chmod (run, 0755);
      g_chmod (plots, 0755);
      g_assert_cmpint (status, ==, 0);
    }
  else
    {
      /* root ignores permissions: a read-only bind mount, in a child's own
       * mount namespace */
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          if (!robust_enter_private_mounts ()
              || mount (dir, dir, NULL, MS_BIND, NULL) != 0
              || mount (NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
            _exit (SKIP_STATUS);
          _exit (check_read_only (dir));
        }
      while (waitpid (pid, &status, 0) < 0)
        g_assert_cmpint (errno, ==, EINTR);
      if (WIFEXITED (status) && WEXITSTATUS (status) == SKIP_STATUS)
        {
          g_test_skip ("running as root without the right to mount: permissions do not apply");
          return;
        }
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
  assert_model_loads (run);
  assert_still_trains ("after-read-only");
}

/* ---- a checkpoint whose metadata says odd things ---------------------------- */

/* Rewrites run/checkpoint.safetensors with its tensors and this JSON. */
static void
rewrite_checkpoint (const char *run, const char *json)
{
  g_autofree char *path = g_build_filename (run, "checkpoint.safetensors", NULL);
  const char *keys[] = { "xraylab-checkpoint" }, *values[] = { json };
  NnTensorFile *f = NULL;
  NnError err = { 0 };

  g_assert_cmpint (nn_tensor_file_read (&f, path, &err), ==, NN_OK);
  g_assert_cmpint (nn_safetensors_write (path, f->tensors, f->n_tensors, keys, values, 1, &err),
                   ==, NN_OK);
  nn_tensor_file_free (f);
}

static void
test_odd_checkpoint (void)
{
  /* members of the wrong kind used to trip json-glib's criticals (fatal in
   * the tests and under G_DEBUG); now they read as missing */
  const char *checkpoints[] = {
    "{\"epochs_done\": {}, \"optim_steps\": [], \"best_epoch\": [1], \"best_metric\": {},"
    " \"bad_epochs\": null, \"history\": [[{}, [], null, \"x\", 1, 2, 3, 4], {}, 7, null,"
    " [1, 0.5, 0.5, 0.5, 0.5, 0.001, 1, 1]]}",
    "{\"epochs_done\": 1, \"history\": {\"0\": [1, 2, 3, 4, 5, 6, 7, 8]}}",
    "{\"epochs_done\": -5, \"best_epoch\": 99, \"history\": []}",
    "[]",
  };
  g_autofree char *run = g_build_filename (tmp_root, "odd-checkpoint", NULL);
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };

  robust_small_config (&cfg, data_dir, run);
  cfg.epochs = 1;
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_true (xl_train_session_run (s, robust_on_event, &seen, &error));
    g_assert_no_error (error);
  }
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);

  for (guint i = 0; i < G_N_ELEMENTS (checkpoints); i++)
    {
      g_autoptr (XlTrainSession) s = NULL;

      rewrite_checkpoint (run, checkpoints[i]);
      s = xl_train_session_new_resume (run, 2, &error);
      g_assert_no_error (error);
      if (xl_train_session_run (s, robust_on_event, &seen, &error))
        g_test_message ("checkpoint %u: resumed", i);
      else
        {
          g_test_message ("checkpoint %u: %s", i, error->message);
          g_assert_nonnull (strstr (error->message, run));
          g_clear_error (&error);
        }
      robust_seen_clear (&seen);
    }
  assert_model_loads (run);
}

/* ---- the data set disappears mid-run ----------------------------------------- */

static void
delete_data (const XlTrainEvent *ev, gpointer data)
{
  if (ev->epoch == 1)
    robust_remove_tree (data);
}

static void
test_data_vanishes (void)
{
  g_autofree char *data = g_build_filename (tmp_root, "vanishing-data", NULL);
  g_autofree char *out = g_build_filename (tmp_root, "vanishing-run", NULL);
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };
  gboolean ok;

  robust_make_data (data, 12);
  robust_small_config (&cfg, data, out);
  cfg.image_cache_bytes = 1;   /* every film is read from disk every time */
  cfg.epochs = 3;
  seen.on_epoch = delete_data;
  seen.on_epoch_data = data;
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    ok = xl_train_session_run (s, robust_on_event, &seen, &error);
  }
  g_assert_false (g_file_test (data, G_FILE_TEST_EXISTS));
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (seen.errors, ==, 1);
  g_assert_cmpstr (seen.error_message, ==, error->message);
  /* the message names what could not be read */
  g_assert_nonnull (strstr (error->message, data));
  g_assert_cmpuint (seen.epochs, ==, 1);
  /* the first epoch's model is kept */
  assert_model_loads (out);
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);
  assert_still_trains ("after-vanished-data");
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_root = robust_tmp_dir ("hostile");
  data_dir = g_build_filename (tmp_root, "data", NULL);
  robust_make_data (data_dir, 16);
  g_test_add_func ("/robust/hostile/no-test-split", test_no_test_split);
  g_test_add_func ("/robust/hostile/tiny-image-cache", test_tiny_image_cache);
  g_test_add_func ("/robust/hostile/long-paths", test_long_paths);
  g_test_add_func ("/robust/hostile/odd-names", test_odd_names);
  g_test_add_func ("/robust/hostile/non-utf8-folders", test_non_utf8_folders);
  g_test_add_func ("/robust/hostile/read-only-output", test_read_only_output);
  g_test_add_func ("/robust/hostile/odd-checkpoint", test_odd_checkpoint);
  g_test_add_func ("/robust/hostile/data-vanishes", test_data_vanishes);
  status = g_test_run ();
  robust_remove_tree (tmp_root);
  g_free (data_dir);
  g_free (tmp_root);
  return status;
}
