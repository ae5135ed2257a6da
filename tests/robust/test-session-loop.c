/* A training session started and stopped 20 times in one process: each is
 * stopped from its event callback after the first batch and freed. Run under
 * AddressSanitizer (CI's sanitized build), LeakSanitizer then fails the test
 * at exit if any of the 20 left memory behind; in a plain build the loop
 * still checks that every stopped run ends cleanly. Some runs use several
 * model and loader threads: .ci/run runs it under ThreadSanitizer too. */
#include "config.h"

#include "robust-util.h"

#define N_RUNS 20

static char *tmp_root;
static char *data_dir;

static void
test_start_stop_loop (void)
{
  for (guint run = 0; run < N_RUNS; run++)
    {
      g_autofree char *name = g_strdup_printf ("run-%02u", run);
      g_autofree char *out = g_build_filename (tmp_root, name, NULL);
      g_autoptr (GError) error = NULL;
      XlTrainConfig cfg;
      RobustSeen seen = { 0 };
      XlTrainSession *s;

      robust_small_config (&cfg, data_dir, out);
      /* every other run in fixed mode: the feature cache is freed too */
      if (run % 2 == 1)
        {
          cfg.mode = XL_TRAIN_FIXED;
          cfg.optimizer = NN_OPTIM_SGD;
        }
      /* and every third with the model's and the loader's threads, for TSan */
      if (run % 3 == 0)
        {
          cfg.threads = 2;
          cfg.loader_threads = 2;
        }
      s = xl_train_session_new (&cfg, &error);
      g_assert_no_error (error);
      seen.stop_session = s;
      g_assert_true (xl_train_session_run (s, robust_on_event, &seen, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (seen.started, ==, 1);
      g_assert_cmpuint (seen.batches, >=, 1);
      g_assert_cmpuint (seen.finished, ==, 1);
      g_assert_true (seen.stopped);
      g_assert_cmpuint (seen.errors, ==, 0);
      g_assert_cmpuint (xl_train_session_best_epoch (s), ==, 0);
      xl_train_session_free (s);
      robust_seen_clear (&seen);
      xl_train_config_clear (&cfg);
    }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_root = robust_tmp_dir ("loop");
  data_dir = g_build_filename (tmp_root, "data", NULL);
  robust_make_data (data_dir, 16);
  g_test_add_func ("/robust/session/start-stop-20-times", test_start_stop_loop);
  status = g_test_run ();
  robust_remove_tree (tmp_root);
  g_free (data_dir);
  g_free (tmp_root);
  return status;
}
