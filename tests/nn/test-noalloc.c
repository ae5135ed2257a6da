/* Forward, backward and the optimizer step never allocate: the planning pass
 * in nn_resnet_new sized every block they use. This program replaces the
 * allocator's entry points with counting ones that forward to glibc's, and
 * counts, in every thread, while a measured step runs. */
#define _GNU_SOURCE     /* dl_iterate_phdr */
#include "config.h"

#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "nn-resnet.h"
#include "test-common.h"

/* The sanitizers bring their own allocator; replacing it under them breaks
 * them, so sanitized builds skip the test. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NOALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) \
    || __has_feature(memory_sanitizer)
#define NOALLOC_SANITIZED 1
#endif
#endif

static atomic_bool counting;
static atomic_long allocations;         /* by the model, or by libc for it */
static atomic_long blas_allocations;    /* by OpenBLAS itself */
static atomic_size_t first_size;

/* OpenBLAS's own allocations are its business: its small-matrix GEMM kernels
 * (sgemm_small_kernel_*_SKYLAKEX in 0.3.21) allocate a packing buffer on every
 * call, whatever the caller planned. They are told apart by the caller's
 * address: inside the OpenBLAS library's mapped segments. */
static uintptr_t blas_begin, blas_end;

static int
find_blas (struct dl_phdr_info *info, size_t size, void *data)
{
  (void) size;
  (void) data;
  if (strstr (info->dlpi_name, "libopenblas") == NULL)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      uintptr_t begin = info->dlpi_addr + ph->p_vaddr, end = begin + ph->p_memsz;
      if (ph->p_type != PT_LOAD)
        continue;
      if (blas_begin == 0 || begin < blas_begin)
        blas_begin = begin;
      if (end > blas_end)
        blas_end = end;
    }
  return 1;
}

#ifndef NOALLOC_SANITIZED
#include <errno.h>
#include <malloc.h>

extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void *__libc_memalign (size_t alignment, size_t size);

static inline void
count (const void *caller, size_t size)
{
  if (!atomic_load_explicit (&counting, memory_order_relaxed))
    return;
  if ((uintptr_t) caller >= blas_begin && (uintptr_t) caller < blas_end)
    atomic_fetch_add (&blas_allocations, 1);
  else if (atomic_fetch_add (&allocations, 1) == 0)
    atomic_store (&first_size, size);
}

#define CALLER __builtin_extract_return_addr (__builtin_return_address (0))

void *
malloc (size_t size)
{
  count (CALLER, size);
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  count (CALLER, n * size);
  return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
  count (CALLER, size);
  return __libc_realloc (ptr, size);
}

void *
memalign (size_t alignment, size_t size)
{
  count (CALLER, size);
  return __libc_memalign (alignment, size);
}

void *
aligned_alloc (size_t alignment, size_t size)
{
  count (CALLER, size);
  return __libc_memalign (alignment, size);
}

int
posix_memalign (void **out, size_t alignment, size_t size)
{
  void *ptr;

  count (CALLER, size);
  if (alignment < sizeof (void *) || (alignment & (alignment - 1)) != 0)
    return EINVAL;
  ptr = __libc_memalign (alignment, size);
  if (ptr == NULL)
    return ENOMEM;
  *out = ptr;
  return 0;
}
#endif

enum { BATCH = 2, MEASURED_RUNS = 3 };

static bool
skip_if_sanitized (void)
{
#ifdef NOALLOC_SANITIZED
  g_test_skip ("a sanitizer's allocator cannot be replaced");
  return true;
#else
  return false;
#endif
}

typedef void (*StepFunc) (NnResnet *model, const void *data);

/* Runs step once to warm up (OpenBLAS and the model's threads set up their
 * buffers on first use), then MEASURED_RUNS times counting allocations. */
static void
assert_no_allocation (const char *what, NnResnet *model, StepFunc step, const void *data)
{
  step (model, data);
  atomic_store (&allocations, 0);
  atomic_store (&blas_allocations, 0);
  atomic_store (&counting, true);
  for (int run = 0; run < MEASURED_RUNS; run++)
    step (model, data);
  atomic_store (&counting, false);
  long n = atomic_load (&allocations);
  if (n != 0)
    g_error ("%s: %ld allocations in %d runs (the first of %zu bytes)", what, n,
             MEASURED_RUNS, atomic_load (&first_size));
  g_test_message ("%s: no allocation (OpenBLAS made %ld)", what,
                  atomic_load (&blas_allocations));
}

static NnResnet *
new_model (NnConvAlgo algo, int size, bool training, bool keep_activations, int head_hidden)
{
  NnResnetConfig cfg = { .num_classes = 3, .width = 8, .batch = BATCH, .in_h = size,
                         .in_w = size, .training = training, .threads = 2,
                         .conv_algo = algo, .keep_activations = keep_activations,
                         .head_hidden = head_hidden, .head_dropout = 0.25f };
  NnResnet *m = NULL;
  NnError err = { 0 };

  if (nn_resnet_new (&m, &cfg, &err) != NN_OK)
    g_error ("nn_resnet_new: %s", err.message);
  nn_resnet_init (m, 1);
  return m;
}

static float *
new_input (int size)
{
  float *x = g_new (float, BATCH * 3 * size * size);

  fill_uniform (x, BATCH * 3 * size * size, 3, -2, 2);
  return x;
}

typedef struct {
  const float *input;
  const NnOptimConfig *optim;
  int batch;
} TrainStep;

static void
train_step (NnResnet *m, const void *data)
{
  const TrainStep *s = data;
  static const int labels[BATCH] = { 2, 0 };
  static const float class_weight[3] = { 0.5f, 1, 2 };

  nn_resnet_forward (m, s->input, s->batch, true);
  nn_resnet_loss (m, labels, class_weight);
  nn_resnet_zero_grad (m);
  nn_resnet_backward (m);
  nn_resnet_step (m, s->optim, 1e-3);
}

/* Evaluation between epochs: an evaluation-mode forward of the training plan. */
static void
eval_step (NnResnet *m, const void *data)
{
  const TrainStep *s = data;
  static const int labels[BATCH] = { 1, 2 };

  nn_resnet_forward (m, s->input, s->batch, false);
  nn_resnet_loss (m, labels, NULL);
}

typedef struct {
  const float *cached;
  const NnOptimConfig *optim;
  int group;
} CachedStep;

/* Training from a frozen part's cached output */
static void
cached_train_step (NnResnet *m, const void *data)
{
  const CachedStep *s = data;
  static const int labels[BATCH] = { 0, 1 };

  nn_resnet_forward_from (m, s->group, s->cached, BATCH, true);
  nn_resnet_loss (m, labels, NULL);
  nn_resnet_zero_grad (m);
  nn_resnet_backward (m);
  nn_resnet_step (m, s->optim, 1e-3);
}

static void
test_train (void)
{
  static const char *const optim_names[] = {
    [NN_OPTIM_SGD] = "SGD", [NN_OPTIM_ADAM] = "Adam", [NN_OPTIM_ADAMW] = "AdamW",
  };
  static const struct {
    NnConvAlgo algo;
    int size;
    int frozen;
    NnOptimKind optim;
    int head_hidden;
  } cases[] = {
    { NN_CONV_ALGO_IM2COL, 64, 0, NN_OPTIM_SGD, 0 },
    { NN_CONV_ALGO_IM2COL, 32, 2, NN_OPTIM_ADAMW, 0 },
    /* 64x64: layer1's Winograd over 128 tiles, split by tiles */
    { NN_CONV_ALGO_WINOGRAD, 64, 0, NN_OPTIM_ADAM, 0 },
    /* 48x48: layer1's Winograd over 72 tiles, split by output channels */
    { NN_CONV_ALGO_WINOGRAD, 48, 1, NN_OPTIM_SGD, 16 },
    { NN_CONV_ALGO_WINOGRAD, 64, 5, NN_OPTIM_ADAMW, 0 },
  };

  if (skip_if_sanitized ())
    return;

  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      NnResnet *m = new_model (cases[c].algo, cases[c].size, true, false, cases[c].head_hidden);
      float *x = new_input (cases[c].size);
      NnOptimConfig optim = nn_optim_defaults (cases[c].optim);
      g_autofree char *what = g_strdup_printf (
        "%s %dx%d, %d frozen stages, %s%s",
        cases[c].algo == NN_CONV_ALGO_WINOGRAD ? "winograd" : "im2col", cases[c].size,
        cases[c].size, cases[c].frozen, optim_names[cases[c].optim],
        cases[c].head_hidden ? ", MLP head" : "");
      g_autofree char *what_small = g_strconcat (what, ", batch 1", NULL);
      g_autofree char *what_eval = g_strconcat (what, ", evaluation", NULL);
      TrainStep step = { .input = x, .optim = &optim, .batch = BATCH };

      if (cases[c].optim == NN_OPTIM_SGD)
        {
          optim.momentum = 0.9;
          optim.nesterov = cases[c].head_hidden != 0;
        }
      optim.weight_decay = 1e-4;
      nn_resnet_set_frozen_stages (m, cases[c].frozen);
      nn_resnet_seed_dropout (m, 5);
      assert_no_allocation (what, m, train_step, &step);
      assert_no_allocation (what_eval, m, eval_step, &step);
      step.batch = 1;
      assert_no_allocation (what_small, m, train_step, &step);
      /* gray films: the stem's forward and weight gradient on channel 0,
       * from blocks set_gray_input allocated */
      g_autofree char *what_gray = g_strconcat (what, ", gray stem", NULL);
      static const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };
      NnError err = { 0 };
      g_assert_cmpint (nn_resnet_set_gray_input (m, mean, std, &err), ==, NN_OK);
      step.batch = BATCH;
      assert_no_allocation (what_gray, m, train_step, &step);

      if (cases[c].frozen > 0)
        {
          g_autofree char *what_cached = g_strconcat (what, ", from the frozen part's output",
                                                      NULL);
          size_t per_image;
          const float *act;
          float *cached;

          nn_resnet_forward (m, x, BATCH, true);
          act = nn_resnet_group_input (m, cases[c].frozen, &per_image);
          cached = g_memdup2 (act, BATCH * per_image * sizeof (float));
          CachedStep cstep = { .cached = cached, .optim = &optim, .group = cases[c].frozen };
          assert_no_allocation (what_cached, m, cached_train_step, &cstep);
          g_free (cached);
        }
      g_free (x);
      nn_resnet_free (m);
    }
}

typedef struct {
  const float *input;
  int batch;
} InferStep;

/* What prediction does: probabilities and layer4's map for the heatmap */
static void
infer_step (NnResnet *m, const void *data)
{
  const InferStep *s = data;
  int channels, fh, fw;

  nn_resnet_forward (m, s->input, s->batch, false);
  nn_resnet_softmax (m);
  g_assert (nn_resnet_feature_map (m, &channels, &fh, &fw) != NULL);
}

typedef struct {
  const float *input;
  float *dlogits;
  float *dact;
} GradCamStep;

static void
grad_cam_step (NnResnet *m, const void *data)
{
  const GradCamStep *s = data;
  NnError err = { 0 };

  nn_resnet_forward (m, s->input, BATCH, false);
  if (nn_resnet_backward_to_group (m, s->dlogits, 4, s->dact, &err) != NN_OK)
    g_error ("nn_resnet_backward_to_group: %s", err.message);
}

static void
test_infer (void)
{
  static const struct {
    NnConvAlgo algo;
    int size;
  } cases[] = {
    { NN_CONV_ALGO_IM2COL, 64 },
    { NN_CONV_ALGO_WINOGRAD, 64 },
    { NN_CONV_ALGO_WINOGRAD, 48 },
  };

  if (skip_if_sanitized ())
    return;

  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const char *algo = cases[c].algo == NN_CONV_ALGO_WINOGRAD ? "winograd" : "im2col";
      int size = cases[c].size;
      float *x = new_input (size);
      InferStep step = { .input = x, .batch = BATCH };
      NnError err = { 0 };
      g_autofree char *what = g_strdup_printf ("inference, %s %dx%d", algo, size, size);
      g_autofree char *what_small = g_strconcat (what, ", batch 1", NULL);
      g_autofree char *what_folded = g_strconcat (what, ", BatchNorm folded", NULL);
      g_autofree char *what_cam = g_strconcat (what, ", Grad-CAM", NULL);

      NnResnet *m = new_model (cases[c].algo, size, false, false, 0);
      assert_no_allocation (what, m, infer_step, &step);
      step.batch = 1;
      assert_no_allocation (what_small, m, infer_step, &step);
      step.batch = BATCH;
      g_assert_cmpint (nn_resnet_fold_batchnorm (m, &err), ==, NN_OK);
      assert_no_allocation (what_folded, m, infer_step, &step);
      /* gray films: the stem's tables are made in the first forward after
       * the weights change, from blocks set_gray_input allocated */
      static const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };
      g_autofree char *what_gray = g_strconcat (what_folded, ", gray stem", NULL);
      g_assert_cmpint (nn_resnet_set_gray_input (m, mean, std, &err), ==, NN_OK);
      assert_no_allocation (what_gray, m, infer_step, &step);
      nn_resnet_free (m);

      m = new_model (cases[c].algo, size, false, true, 0);
      int channels, fh, fw;
      nn_resnet_forward (m, x, BATCH, false);
      nn_resnet_feature_map (m, &channels, &fh, &fw);
      float *dlogits = g_new0 (float, BATCH * 3);
      float *dact = g_new (float, (size_t) BATCH * channels * fh * fw);
      dlogits[0 * 3 + 1] = 1;
      dlogits[1 * 3 + 2] = 1;
      GradCamStep cam = { .input = x, .dlogits = dlogits, .dact = dact };
      assert_no_allocation (what_cam, m, grad_cam_step, &cam);
      g_free (dlogits);
      g_free (dact);
      nn_resnet_free (m);
      g_free (x);
    }
}

/* The counter itself works: an allocation while counting is seen. */
static void
test_counter_counts (void)
{
  if (skip_if_sanitized ())
    return;

  atomic_store (&allocations, 0);
  atomic_store (&counting, true);
  void *volatile p = malloc (24);
  atomic_store (&counting, false);
  free (p);
  g_assert_cmpint (atomic_load (&allocations), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dl_iterate_phdr (find_blas, NULL);
  g_test_add_func ("/nn/noalloc/counter-counts", test_counter_counts);
  g_test_add_func ("/nn/noalloc/train", test_train);
  g_test_add_func ("/nn/noalloc/infer", test_infer);
  return g_test_run ();
}
