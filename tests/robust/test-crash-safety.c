/* Nothing is lost when the process dies or the disk fills up.
 *
 * - SIGKILL at random moments while a child process saves a model over and
 *   over (xl_model_save, nn_safetensors_write): the file on disk always loads
 *   and is one whole version, never a mix.
 * - SIGKILL at random moments while a child trains (resuming a run folder):
 *   afterwards the best model loads and the run resumes and completes.
 * - A full disk: a file size limit (RLIMIT_FSIZE, any user) and, where this
 *   process may mount, a 256 KiB tmpfs. Writing fails with a message that
 *   names the file and the cause; the previous model is intact and no
 *   temporary file is left behind.
 *
 * The random delays come from g_test_rand_*: --seed reproduces a run.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn-tensor-file.h"
#include "robust-util.h"

#define SKIP_STATUS 77

static char *tmp_root;
static char *data_dir;

/* ---- models ------------------------------------------------------------ */

static NnResnet *
tiny_net (void)
{
  NnResnetConfig cfg = { .num_classes = 2, .width = 4, .batch = 1, .in_h = 32, .in_w = 32,
                         .threads = 1 };
  NnResnet *net = NULL;
  NnError err = { 0 };

  g_assert_cmpint (nn_resnet_new (&net, &cfg, &err), ==, NN_OK);
  nn_resnet_init (net, 1);
  return net;
}

/* Marks a whole model as version v: every fc value is v. */
static void
set_version (NnResnet *net, float v)
{
  NnParam *w = nn_resnet_find_param (net, "fc.weight");
  NnParam *b = nn_resnet_find_param (net, "fc.bias");

  for (size_t i = 0; i < w->numel; i++)
    w->data[i] = v;
  for (size_t i = 0; i < b->numel; i++)
    b->data[i] = v;
}

/* Fails the test if path does not load as a model. */
static void
assert_model_loads (const char *path)
{
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

/* Loads path as a model and returns its version; fails the test if it does
 * not load or is a mix of versions. */
static float
loaded_version (const char *path)
{
  g_autoptr (GError) error = NULL;
  XlModelInfo info;
  NnResnet *net;
  NnParam *w, *b;
  float v;

  xl_model_info_init (&info);
  net = xl_model_load (path, 1, FALSE, 1, &info, &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);
  w = nn_resnet_find_param (net, "fc.weight");
  b = nn_resnet_find_param (net, "fc.bias");
  v = b->data[0];
  for (size_t i = 0; i < w->numel; i++)
    g_assert_cmpfloat (w->data[i], ==, v);
  for (size_t i = 0; i < b->numel; i++)
    g_assert_cmpfloat (b->data[i], ==, v);
  nn_resnet_free (net);
  xl_model_info_clear (&info);
  return v;
}

/* Temporary files ".NAME.XXXXXX" left in dir by writers that were killed. */
static guint
count_leftovers (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (name[0] == '.')
      n++;
  return n;
}

static void
remove_leftovers (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (name[0] == '.')
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_unlink (path);
      }
}

static int
wait_child (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0)
    g_assert_cmpint (errno, ==, EINTR);
  return status;
}

/* ---- killed while saving a model ------------------------------------------ */

static void
test_kill_while_saving (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "saves", NULL);
  g_autofree char *model = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *raw = g_build_filename (dir, "raw.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  NnResnet *net = tiny_net ();
  XlModelInfo info;
  guint kills = 0, leftovers = 0;
  float last = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  xl_model_info_init (&info);
  info.width = 4;
  info.input_size = 32;
  set_version (net, 0);
  g_assert_true (xl_model_save (net, &info, model, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 30; i++)
    {
      pid_t pid = fork ();
      int status;

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          /* save newer and newer versions until killed */
          for (guint v = 1;; v++)
            {
              float tensor_value = (float) v;
              NnNamedTensor t = { .name = (char *) "version", .dtype = NN_DTYPE_F32, .ndim = 1,
                                  .shape = { 1 }, .numel = 1, .data = &tensor_value };
              set_version (net, (float) (i * 100000 + v));
              if (!xl_model_save (net, &info, model, NULL)
                  || nn_safetensors_write (raw, &t, 1, NULL, NULL, 0, NULL) != NN_OK)
                _exit (1);
            }
        }
      g_usleep (g_test_rand_int_range (0, 40000));
      kill (pid, SIGKILL);
      status = wait_child (pid);
      g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
      kills++;

      float v = loaded_version (model);
      g_assert_cmpfloat (v, >=, last);   /* never an older model than before */
      last = v;
      if (g_file_test (raw, G_FILE_TEST_EXISTS))
        {
          NnTensorFile *f = NULL;
          NnError err = { 0 };
          g_assert_cmpint (nn_safetensors_read (&f, raw, &err), ==, NN_OK);
          g_assert_cmpuint (f->n_tensors, ==, 1);
          nn_tensor_file_free (f);
        }
      leftovers += count_leftovers (dir);
      remove_leftovers (dir);
    }
  g_test_message ("%u kills while saving: the model always loaded, one whole version each "
                  "time; %u temporary files were left behind by killed writers",
                  kills, leftovers);
  nn_resnet_free (net);
  xl_model_info_clear (&info);
}

/* ---- killed while training ------------------------------------------------- */

static double
resume_and_finish (const char *run, guint epochs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (XlTrainSession) s = xl_train_session_new_resume (run, epochs, &error);
  RobustSeen seen = { 0 };
  gint64 t0 = g_get_monotonic_time ();

  g_assert_no_error (error);
  g_assert_nonnull (s);
  if (!xl_train_session_run (s, robust_on_event, &seen, &error))
    g_error ("resuming %s after a kill failed: %s", run, error->message);
  g_assert_cmpuint (seen.finished, ==, 1);
  g_assert_cmpuint (seen.errors, ==, 0);
  robust_seen_clear (&seen);
  return (g_get_monotonic_time () - t0) / 1e6;
}

static void
test_kill_while_training (void)
{
  g_autofree char *run = g_build_filename (tmp_root, "killed-run", NULL);
  g_autofree char *model = g_build_filename (run, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };
  guint epochs = 1, kills = 0, finished_first = 0, leftovers = 0;
  double seconds;

  /* the run as it was before: one epoch, a model and a checkpoint */
  robust_small_config (&cfg, data_dir, run);
  cfg.epochs = epochs;
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    g_assert_no_error (error);
    g_assert_true (xl_train_session_run (s, robust_on_event, &seen, &error));
    g_assert_no_error (error);
  }
  robust_seen_clear (&seen);
  xl_train_config_clear (&cfg);
  assert_model_loads (model);
  /* how long one more epoch takes, to spread the kills over it */
  seconds = resume_and_finish (run, ++epochs);

  for (guint i = 0; i < 20; i++)
    {
      pid_t pid;
      int status;

      epochs++;
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          g_autoptr (XlTrainSession) s = xl_train_session_new_resume (run, epochs, NULL);
          _exit (s != NULL && xl_train_session_run (s, NULL, NULL, NULL) ? 0 : 1);
        }
      g_usleep ((gulong) (g_test_rand_double_range (0, 1.2) * seconds * G_USEC_PER_SEC));
      kill (pid, SIGKILL);
      status = wait_child (pid);
      if (WIFEXITED (status))
        {
          g_assert_cmpint (WEXITSTATUS (status), ==, 0);
          finished_first++;
        }
      else
        kills++;

      /* the best model so far loads, and the run resumes and completes;
       * resuming clears what the killed writers left */
      assert_model_loads (model);
      leftovers += count_leftovers (run);
      resume_and_finish (run, epochs);
      assert_model_loads (model);
      g_assert_cmpuint (count_leftovers (run), ==, 0);
    }
  g_test_message ("%u kills while training (%u runs ended before their kill): the model "
                  "always loaded and the run always resumed; the %u temporary files the "
                  "kills left were cleared by the resumes", kills, finished_first, leftovers);
  g_assert_cmpuint (kills, >=, 5);
}

/* ---- a full disk ------------------------------------------------------------ */

static gboolean
file_equals (const char *path, GBytes *expected)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  return len == g_bytes_get_size (expected)
         && memcmp (contents, g_bytes_get_data (expected, NULL), len) == 0;
}

static GBytes *
file_bytes (const char *path)
{
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (path, FALSE, NULL);

  g_assert_nonnull (mapped);
  return g_bytes_new (g_mapped_file_get_contents (mapped), g_mapped_file_get_length (mapped));
}

/* In a child whose writes fail (full disk or size limit) with errno_text:
 * saving a model over dir/model.safetensors fails naming the file and the
 * cause, leaves it as it was and leaves no temporary file; so does a training
 * run into a new folder in dir. Exits 0 when all holds. */
static void G_GNUC_NORETURN
check_writes_fail (const char *dir, const char *errno_text)
{
  g_autofree char *model = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *run = g_build_filename (dir, "run", NULL);
  g_autoptr (GBytes) before = file_bytes (model);
  g_autoptr (GError) error = NULL;
  NnResnet *net = tiny_net ();
  XlModelInfo info;
  XlTrainConfig cfg;
  RobustSeen seen = { 0 };

  xl_model_info_init (&info);
  info.width = 4;
  info.input_size = 32;
  set_version (net, 42);
  if (xl_model_save (net, &info, model, &error))
    {
      g_printerr ("# saving %s did not fail\n", model);
      _exit (1);
    }
  g_printerr ("# %s\n", error->message);
  if (strstr (error->message, model) == NULL || strstr (error->message, errno_text) == NULL)
    _exit (2);
  if (!file_equals (model, before) || count_leftovers (dir) != 0)
    _exit (3);
  g_clear_error (&error);

  robust_small_config (&cfg, data_dir, run);
  {
    g_autoptr (XlTrainSession) s = xl_train_session_new (&cfg, &error);
    if (s == NULL || xl_train_session_run (s, robust_on_event, &seen, &error))
      _exit (4);
  }
  g_printerr ("# training: %s\n", error->message);
  if (seen.errors != 1 || strstr (error->message, errno_text) == NULL
      || strstr (error->message, run) == NULL)
    _exit (5);
  if (count_leftovers (run) != 0 || !file_equals (model, before))
    _exit (6);
  _exit (0);
}

static void
save_previous_model (const char *dir)
{
  g_autofree char *model = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  NnResnet *net = tiny_net ();
  XlModelInfo info;

  xl_model_info_init (&info);
  info.width = 4;
  info.input_size = 32;
  set_version (net, 1);
  g_assert_true (xl_model_save (net, &info, model, &error));
  g_assert_no_error (error);
  nn_resnet_free (net);
  xl_model_info_clear (&info);
}

static void
test_file_size_limit (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "limited", NULL);
  g_autofree char *model = g_build_filename (dir, "model.safetensors", NULL);
  pid_t pid;
  int status;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  save_previous_model (dir);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      /* 32 KiB: less than a width-4 model; EFBIG instead of a signal */
      struct rlimit limit = { 32 * 1024, 32 * 1024 };
      signal (SIGXFSZ, SIG_IGN);
      if (setrlimit (RLIMIT_FSIZE, &limit) != 0)
        _exit (SKIP_STATUS);
      check_writes_fail (dir, g_strerror (EFBIG));
    }
  status = wait_child (pid);
  if (WIFEXITED (status) && WEXITSTATUS (status) == SKIP_STATUS)
    {
      g_test_skip ("setrlimit (RLIMIT_FSIZE) is not allowed here");
      return;
    }
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_cmpfloat (loaded_version (model), ==, 1);   /* the previous model, intact */
}

static void
test_full_tmpfs (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "small-disk", NULL);
  pid_t pid;
  int status;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      /* one width-4 model (~180 KiB) fits, a second copy beside it does not */
      if (!robust_enter_private_mounts ()
          || mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k") != 0)
        _exit (SKIP_STATUS);
      save_previous_model (dir);
      check_writes_fail (dir, g_strerror (ENOSPC));
    }
  status = wait_child (pid);
  if (WIFEXITED (status) && WEXITSTATUS (status) == SKIP_STATUS)
    {
      g_test_skip ("cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)");
      return;
    }
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_root = robust_tmp_dir ("crash");
  data_dir = g_build_filename (tmp_root, "data", NULL);
  robust_make_data (data_dir, 16);
  g_test_add_func ("/robust/crash/kill-while-saving", test_kill_while_saving);
  g_test_add_func ("/robust/crash/kill-while-training", test_kill_while_training);
  g_test_add_func ("/robust/crash/file-size-limit", test_file_size_limit);
  g_test_add_func ("/robust/crash/full-tmpfs", test_full_tmpfs);
  status = g_test_run ();
  robust_remove_tree (tmp_root);
  g_free (data_dir);
  g_free (tmp_root);
  return status;
}
