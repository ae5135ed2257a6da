/* Optimizers against torch.optim on a 16-element vector, and the learning
 * rate schedules against torch.optim.lr_scheduler. */
#include "config.h"

#include <string.h>

#include "nn-optim.h"
#include "test-common.h"

static void
run_case (NnTensorFile *fx, const char *name, NnOptimConfig cfg, double lr)
{
  float p[16], m[16] = { 0 }, v[16] = { 0 };

  memcpy (p, fixture_tensor (fx, "p0")->data, sizeof p);
  for (int step = 1; step <= 3; step++)
    {
      g_autofree char *gkey = g_strdup_printf ("grad%d", step - 1);
      g_autofree char *pkey = g_strdup_printf ("%s.step%d", name, step);
      nn_optim_step (&cfg, lr, step, p, fixture_tensor (fx, gkey)->data, m, v, 16);
      double e = rel_error (p, fixture_tensor (fx, pkey)->data, 16);
      g_test_message ("%s step %d: relative error %.3g", name, step, e);
      g_assert_cmpfloat (e, <, 1e-6);
    }
}

static void
test_against_torch (void)
{
  NnTensorFile *fx = load_fixture ("optim.safetensors");
  NnOptimConfig c;

  run_case (fx, "sgd", nn_optim_defaults (NN_OPTIM_SGD), 0.1);
  c = nn_optim_defaults (NN_OPTIM_SGD);
  c.momentum = 0.9;
  c.weight_decay = 0.01;
  run_case (fx, "sgd_momentum", c, 0.1);
  c = nn_optim_defaults (NN_OPTIM_SGD);
  c.momentum = 0.9;
  c.dampening = 0.5;
  run_case (fx, "sgd_dampening", c, 0.1);
  c = nn_optim_defaults (NN_OPTIM_SGD);
  c.momentum = 0.9;
  c.nesterov = true;
  c.weight_decay = 0.01;
  run_case (fx, "sgd_nesterov", c, 0.1);
  run_case (fx, "adam", nn_optim_defaults (NN_OPTIM_ADAM), 0.01);
  c = nn_optim_defaults (NN_OPTIM_ADAM);
  c.weight_decay = 0.1;
  run_case (fx, "adam_decay", c, 0.01);
  c = nn_optim_defaults (NN_OPTIM_ADAMW);
  c.weight_decay = 0.1;
  run_case (fx, "adamw", c, 0.01);
  nn_tensor_file_free (fx);
}

static void
test_schedules (void)
{
  /* StepLR(step_size=7, gamma=0.1) */
  g_assert_cmpfloat (nn_lr_step (1e-3, 0, 7, 0.1), ==, 1e-3);
  g_assert_cmpfloat (fabs (nn_lr_step (1e-3, 6, 7, 0.1) - 1e-3), <, 1e-15);
  g_assert_cmpfloat (fabs (nn_lr_step (1e-3, 7, 7, 0.1) - 1e-4), <, 1e-15);
  g_assert_cmpfloat (fabs (nn_lr_step (1e-3, 20, 7, 0.1) - 1e-5), <, 1e-15);
  /* CosineAnnealingLR(T_max=10, eta_min=0) */
  g_assert_cmpfloat (nn_lr_cosine (0.1, 0, 10, 0), ==, 0.1);
  g_assert_cmpfloat (fabs (nn_lr_cosine (0.1, 5, 10, 0) - 0.05), <, 1e-12);
  g_assert_cmpfloat (fabs (nn_lr_cosine (0.1, 10, 10, 0.001) - 0.001), <, 1e-12);
}

/* The learning rate of every epoch against torch.optim.lr_scheduler
 * (lr-schedules.safetensors, written by tools/fixtures/schedules.py).
 * PyTorch derives each epoch's rate from the last one, the C core uses the
 * closed form: they agree to rounding. */
static void
check_schedule (const NnTensorFile *fx, const char *name, double (*schedule) (int epoch))
{
  const NnNamedTensor *t = fixture_tensor (fx, name);
  const double *torch_lr = t->data;

  g_assert_cmpint (t->dtype, ==, NN_DTYPE_F64);
  for (size_t epoch = 0; epoch < t->numel; epoch++)
    {
      double lr = schedule ((int) epoch);
      if (fabs (lr - torch_lr[epoch]) > 1e-12 * torch_lr[epoch])
        g_error ("%s, epoch %zu: lr %.17g, PyTorch %.17g", name, epoch, lr, torch_lr[epoch]);
    }
}

static double
step_lr (int epoch)
{
  return nn_lr_step (1e-3, epoch, 7, 0.1);
}

static double
cosine_lr (int epoch)
{
  return nn_lr_cosine (1e-3, epoch, 20, 0);
}

static double
cosine_min_lr (int epoch)
{
  return nn_lr_cosine (0.1, epoch, 12, 1e-5);
}

static void
test_schedules_against_torch (void)
{
  NnTensorFile *fx = load_fixture ("lr-schedules.safetensors");

  g_assert_cmpuint (fixture_tensor (fx, "step")->numel, ==, 21);
  check_schedule (fx, "step", step_lr);
  g_assert_cmpuint (fixture_tensor (fx, "cosine")->numel, ==, 21);
  check_schedule (fx, "cosine", cosine_lr);
  g_assert_cmpuint (fixture_tensor (fx, "cosine_min")->numel, ==, 13);
  check_schedule (fx, "cosine_min", cosine_min_lr);
  nn_tensor_file_free (fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/optim/against-torch", test_against_torch);
  g_test_add_func ("/nn/optim/schedules", test_schedules);
  g_test_add_func ("/nn/optim/schedules-against-torch", test_schedules_against_torch);
  return g_test_run ();
}
