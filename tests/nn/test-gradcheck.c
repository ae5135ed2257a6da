/* Finite-difference gradient checks, in double precision, of every layer's backward.
 *
 * Each layer f is wrapped as a scalar L = sum_i r_i f(x)_i with fixed random r,
 * whose gradient is backward(dout = r). Central differences with h = 1e-6 must
 * agree to 1e-6 relative. Inputs stay away from ReLU and max-pool kinks. */
#include "config.h"

#include <string.h>

#include "nn-layers.h"
#include "test-common.h"

#define H 1e-6
#define TOL 1e-6

static void
fill_d (double *x, size_t n, guint32 seed, double lo, double hi)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (size_t i = 0; i < n; i++)
    x[i] = g_rand_double_range (r, lo, hi);
  g_rand_free (r);
}

typedef double (*ScalarFn) (void *ctx);

/* Compares grad (analytic) with central differences of fn over each x[i]. */
static void
check (const char *what, ScalarFn fn, void *ctx, double *x, const double *grad, size_t n)
{
  double worst = 0, scale = 1e-12;

  for (size_t i = 0; i < n; i++)
    {
      double keep = x[i];
      x[i] = keep + H;
      double up = fn (ctx);
      x[i] = keep - H;
      double down = fn (ctx);
      x[i] = keep;
      double numeric = (up - down) / (2 * H);
      worst = fmax (worst, fabs (numeric - grad[i]));
      scale = fmax (scale, fabs (grad[i]));
    }
  g_test_message ("%s: max abs error %.3g, relative %.3g", what, worst, worst / scale);
  g_assert_cmpfloat (worst / scale, <, TOL);
}

static double
dot (const double *a, const double *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* ---- conv ---- */

typedef struct {
  NnConvShape s;
  double *in, *w, *out, *r, *ws;
  size_t n_in, n_w, n_out, ws_len;
} ConvCtx;

static double
conv_loss (void *p)
{
  ConvCtx *c = p;
  nn_conv2d_forward_f64 (c->out, c->in, c->w, NULL, false, &c->s, c->ws, c->ws_len);
  return dot (c->out, c->r, c->n_out);
}

static void
gradcheck_conv (int B, int C, int Hh, int W, int OC, int K, int stride, int pad)
{
  ConvCtx c = { .s = nn_conv_shape (B, C, Hh, W, OC, K, stride, pad) };
  c.n_in = (size_t) B * C * Hh * W;
  c.n_w = (size_t) OC * C * K * K;
  c.n_out = (size_t) B * OC * c.s.out_h * c.s.out_w;
  c.ws_len = nn_conv2d_workspace (&c.s, B) + 1;
  c.in = g_new (double, c.n_in);
  c.w = g_new (double, c.n_w);
  c.out = g_new (double, c.n_out);
  c.r = g_new (double, c.n_out);
  c.ws = g_new0 (double, c.ws_len);
  fill_d (c.in, c.n_in, 1, -1, 1);
  fill_d (c.w, c.n_w, 2, -1, 1);
  fill_d (c.r, c.n_out, 3, -1, 1);

  double *din = g_new0 (double, c.n_in), *dw = g_new0 (double, c.n_w);
  nn_conv2d_backward_f64 (din, dw, c.r, c.in, c.w, &c.s, c.ws, c.ws_len);
  check ("conv input", conv_loss, &c, c.in, din, c.n_in);
  check ("conv weight", conv_loss, &c, c.w, dw, c.n_w);
  g_free (c.in); g_free (c.w); g_free (c.out); g_free (c.r); g_free (c.ws);
  g_free (din); g_free (dw);
}

static void
test_conv (void)
{
  gradcheck_conv (2, 3, 9, 8, 4, 7, 2, 3);
  gradcheck_conv (2, 3, 5, 5, 2, 3, 1, 1);
  gradcheck_conv (2, 3, 6, 6, 4, 3, 2, 1);
  gradcheck_conv (2, 3, 6, 6, 2, 1, 2, 0);
  gradcheck_conv (2, 3, 4, 5, 2, 1, 1, 0);
}

/* ---- batchnorm (training mode: the statistics depend on every input) ---- */

typedef struct {
  int B, C, HW;
  double *in, *out, *gamma, *beta, *mean, *invstd, *r;
  bool eval;
  double *rm, *rv;
} BnCtx;

static double
bn_loss (void *p)
{
  BnCtx *c = p;
  size_t n = (size_t) c->B * c->C * c->HW;
  if (c->eval)
    nn_batchnorm_forward_eval_f64 (c->out, c->in, c->gamma, c->beta, c->rm, c->rv, c->B, c->C,
                                   c->HW, 1e-5);
  else
    nn_batchnorm_forward_train_f64 (c->out, c->mean, c->invstd, NULL, NULL, c->in, c->gamma,
                                    c->beta, c->B, c->C, c->HW, 0.1, 1e-5);
  return dot (c->out, c->r, n);
}

static void
test_batchnorm (void)
{
  BnCtx c = { .B = 3, .C = 2, .HW = 4 };
  size_t n = (size_t) c.B * c.C * c.HW;
  double in[24], out[24], r[24], gamma[2] = { 1.3, -0.7 }, beta[2] = { 0.2, -0.1 };
  double mean[2], invstd[2], din[24], dgamma[2] = { 0 }, dbeta[2] = { 0 };
  double rm[2] = { 0.3, -0.2 }, rv[2] = { 1.5, 0.6 };

  c.in = in; c.out = out; c.r = r; c.gamma = gamma; c.beta = beta;
  c.mean = mean; c.invstd = invstd; c.rm = rm; c.rv = rv;
  fill_d (in, n, 4, -2, 2);
  fill_d (r, n, 5, -1, 1);
  bn_loss (&c);
  nn_batchnorm_backward_f64 (din, dgamma, dbeta, r, in, mean, invstd, gamma, c.B, c.C, c.HW);
  check ("batchnorm input", bn_loss, &c, in, din, n);
  check ("batchnorm gamma", bn_loss, &c, gamma, dgamma, 2);
  check ("batchnorm beta", bn_loss, &c, beta, dbeta, 2);

  /* in place, as the model calls it */
  double d2[24];
  memcpy (d2, r, sizeof d2);
  bn_loss (&c);
  nn_batchnorm_backward_f64 (d2, NULL, NULL, d2, in, mean, invstd, gamma, c.B, c.C, c.HW);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (d2[i] - din[i]), <, 1e-12);

  c.eval = true;
  nn_batchnorm_backward_eval_f64 (din, r, gamma, rv, c.B, c.C, c.HW, 1e-5);
  check ("batchnorm eval input", bn_loss, &c, in, din, n);
}

/* ---- relu, add+relu, dropout, pooling, linear, loss ---- */

typedef struct {
  double *x, *y, *r, *aux, *mask;
  int32_t *argmax;
  size_t n, n_out;
  int kind;
  int B, C, Hh, W, OH, OW, IN, OUT;
  int *labels;
} Ctx;

enum { RELU, ADD_RELU, DROPOUT, MAXPOOL, AVGPOOL, LINEAR_IN, LINEAR_W, LINEAR_B, XENT };

static double
generic_loss (void *p)
{
  Ctx *c = p;
  switch (c->kind)
    {
    case RELU:
      memcpy (c->y, c->x, c->n * sizeof (double));
      nn_relu_forward_f64 (c->y, c->n);
      return dot (c->y, c->r, c->n);
    case ADD_RELU:
      memcpy (c->y, c->x, c->n * sizeof (double));
      nn_add_relu_forward_f64 (c->y, c->aux, c->n);
      return dot (c->y, c->r, c->n);
    case DROPOUT:
      nn_dropout_forward_f64 (c->y, c->x, c->mask, c->n);
      return dot (c->y, c->r, c->n);
    case MAXPOOL:
      nn_maxpool2d_forward_f64 (c->y, c->argmax, c->x, c->B, c->C, c->Hh, c->W, 3, 2, 1, c->OH,
                                c->OW);
      return dot (c->y, c->r, c->n_out);
    case AVGPOOL:
      nn_avgpool_forward_f64 (c->y, c->x, c->B, c->C, c->Hh * c->W);
      return dot (c->y, c->r, c->n_out);
    case LINEAR_IN:
    case LINEAR_W:
    case LINEAR_B:
      nn_linear_forward_f64 (c->y, c->x, c->aux, c->mask, c->B, c->IN, c->OUT);
      return dot (c->y, c->r, c->n_out);
    case XENT:
      return nn_softmax_cross_entropy_forward_f64 (c->y, c->x, c->labels, c->aux, c->B, c->C);
    default:
      g_assert_not_reached ();
    }
}

static void
test_elementwise (void)
{
  double x[40], y[40], r[40], aux[40], mask[40], d[40];
  Ctx c = { .x = x, .y = y, .r = r, .aux = aux, .mask = mask, .n = 40 };

  fill_d (x, 40, 6, -1, 1);
  fill_d (r, 40, 7, -1, 1);
  fill_d (aux, 40, 8, -1, 1);
  for (int i = 0; i < 40; i++)
    {
      if (fabs (x[i]) < 0.05)
        x[i] += 0.1;            /* away from the kink */
      if (fabs (x[i] + aux[i]) < 0.05)
        aux[i] += 0.2;
      mask[i] = i % 3 == 0 ? 0 : 1 / (1 - 0.3);
    }
  c.kind = RELU;
  generic_loss (&c);
  memcpy (d, r, sizeof d);
  nn_relu_backward_f64 (d, y, 40);
  check ("relu", generic_loss, &c, x, d, 40);

  c.kind = ADD_RELU;
  generic_loss (&c);
  memcpy (d, r, sizeof d);
  nn_relu_backward_f64 (d, y, 40);         /* the same d flows to both summands */
  check ("add+relu", generic_loss, &c, x, d, 40);
  check ("add+relu shortcut", generic_loss, &c, aux, d, 40);

  c.kind = DROPOUT;
  nn_dropout_backward_f64 (d, r, mask, 40);
  check ("dropout", generic_loss, &c, x, d, 40);
}

static void
test_pooling (void)
{
  enum { B = 2, C = 2, Hh = 5, W = 6, OH = 3, OW = 3 };
  double x[B * C * Hh * W], y[B * C * OH * OW], r[B * C * OH * OW], d[B * C * Hh * W];
  int32_t am[B * C * OH * OW];
  Ctx c = { .x = x, .y = y, .r = r, .argmax = am, .B = B, .C = C, .Hh = Hh, .W = W,
            .OH = OH, .OW = OW, .n = G_N_ELEMENTS (x), .n_out = G_N_ELEMENTS (y) };

  /* distinct values a step apart: no ties within h */
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = (double) ((i * 37) % G_N_ELEMENTS (x)) / 10.0;
  fill_d (r, G_N_ELEMENTS (r), 9, -1, 1);
  c.kind = MAXPOOL;
  generic_loss (&c);
  memset (d, 0, sizeof d);
  nn_maxpool2d_backward_f64 (d, r, am, B, C, Hh, W, OH, OW);
  check ("maxpool", generic_loss, &c, x, d, G_N_ELEMENTS (x));

  c.kind = AVGPOOL;
  c.n_out = B * C;
  memset (d, 0, sizeof d);
  nn_avgpool_backward_f64 (d, r, B, C, Hh * W);
  check ("avgpool", generic_loss, &c, x, d, G_N_ELEMENTS (x));
}

static void
test_linear_and_loss (void)
{
  enum { B = 3, IN = 5, OUT = 4 };
  double x[B * IN], w[OUT * IN], bias[OUT], y[B * OUT], r[B * OUT];
  double dx[B * IN] = { 0 }, dw[OUT * IN] = { 0 }, db[OUT] = { 0 };
  Ctx c = { .x = x, .y = y, .r = r, .aux = w, .mask = bias, .B = B, .IN = IN, .OUT = OUT,
            .n_out = B * OUT };

  fill_d (x, G_N_ELEMENTS (x), 10, -1, 1);
  fill_d (w, G_N_ELEMENTS (w), 11, -1, 1);
  fill_d (bias, OUT, 12, -1, 1);
  fill_d (r, G_N_ELEMENTS (r), 13, -1, 1);
  nn_linear_backward_f64 (dx, dw, db, r, x, w, B, IN, OUT);
  c.kind = LINEAR_IN;
  check ("linear input", generic_loss, &c, x, dx, G_N_ELEMENTS (x));
  check ("linear weight", generic_loss, &c, w, dw, G_N_ELEMENTS (w));
  check ("linear bias", generic_loss, &c, bias, db, OUT);

  /* softmax cross-entropy, plain and class-weighted */
  double logits[B * OUT], probs[B * OUT], dl[B * OUT], cw[OUT] = { 0.5, 2, 1, 3 };
  int labels[B] = { 2, 0, 3 };
  Ctx x2 = { .x = logits, .y = probs, .labels = labels, .B = B, .C = OUT, .kind = XENT };
  fill_d (logits, G_N_ELEMENTS (logits), 14, -3, 3);
  nn_softmax_cross_entropy_forward_f64 (probs, logits, labels, NULL, B, OUT);
  nn_softmax_cross_entropy_backward_f64 (dl, probs, labels, NULL, B, OUT);
  check ("cross-entropy", generic_loss, &x2, logits, dl, G_N_ELEMENTS (logits));
  x2.aux = cw;
  nn_softmax_cross_entropy_forward_f64 (probs, logits, labels, cw, B, OUT);
  nn_softmax_cross_entropy_backward_f64 (dl, probs, labels, cw, B, OUT);
  check ("weighted cross-entropy", generic_loss, &x2, logits, dl, G_N_ELEMENTS (logits));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/gradcheck/conv", test_conv);
  g_test_add_func ("/nn/gradcheck/batchnorm", test_batchnorm);
  g_test_add_func ("/nn/gradcheck/elementwise", test_elementwise);
  g_test_add_func ("/nn/gradcheck/pooling", test_pooling);
  g_test_add_func ("/nn/gradcheck/linear-and-loss", test_linear_and_loss);
  return g_test_run ();
}
