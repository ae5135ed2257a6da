#include "nn-pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>

#define NN_POOL_MAX_THREADS 64
/* Workers spin this many times for the next job before they sleep: the model
 * posts jobs back to back, and a wake-up through the kernel costs more than a
 * short spin. */
#define SPIN_ROUNDS 20000

struct NnPool {
  int threads;
  pthread_t workers[NN_POOL_MAX_THREADS];
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_cond_t done_cond;
  atomic_uint generation;      /* bumped for every job */
  atomic_int remaining;        /* workers still busy with the current job */
  bool quit;
  NnTaskFunc func;
  void *ctx;
  int n_tasks;
};

typedef struct {
  NnPool *pool;
  int index;
} WorkerArg;

static void
run_share (NnPool *p, int thread)
{
  for (int t = thread; t < p->n_tasks; t += p->threads)
    p->func (p->ctx, t, thread);
}

static void *
worker_main (void *data)
{
  WorkerArg *arg = data;
  NnPool *p = arg->pool;
  int index = arg->index;
  unsigned seen = 0;

  free (arg);
  for (;;)
    {
      unsigned gen = atomic_load_explicit (&p->generation, memory_order_acquire);
      for (int spin = 0; gen == seen && spin < SPIN_ROUNDS; spin++)
        {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause ();
#endif
          gen = atomic_load_explicit (&p->generation, memory_order_acquire);
        }
      if (gen == seen)
        {
          pthread_mutex_lock (&p->lock);
          while ((gen = atomic_load (&p->generation)) == seen && !p->quit)
            pthread_cond_wait (&p->wake, &p->lock);
          pthread_mutex_unlock (&p->lock);
        }
      if (p->quit)
        return NULL;
      seen = gen;
      run_share (p, index);
      if (atomic_fetch_sub_explicit (&p->remaining, 1, memory_order_acq_rel) == 1)
        {
          pthread_mutex_lock (&p->lock);
          pthread_cond_signal (&p->done_cond);
          pthread_mutex_unlock (&p->lock);
        }
    }
}

NnPool *
nn_pool_new (int threads)
{
  NnPool *p = calloc (1, sizeof *p);

  if (p == NULL)
    return NULL;
  if (threads < 1)
    threads = 1;
  if (threads > NN_POOL_MAX_THREADS)
    threads = NN_POOL_MAX_THREADS;
  pthread_mutex_init (&p->lock, NULL);
  pthread_cond_init (&p->wake, NULL);
  pthread_cond_init (&p->done_cond, NULL);
  p->threads = 1;
  for (int i = 1; i < threads; i++)
    {
      WorkerArg *arg = malloc (sizeof *arg);
      if (arg == NULL)
        break;
      arg->pool = p;
      arg->index = i;
      if (pthread_create (&p->workers[i], NULL, worker_main, arg) != 0)
        {
          free (arg);
          break;
        }
      p->threads = i + 1;
    }
  return p;
}

void
nn_pool_free (NnPool *p)
{
  if (p == NULL)
    return;
  pthread_mutex_lock (&p->lock);
  p->quit = true;
  atomic_fetch_add (&p->generation, 1);
  pthread_cond_broadcast (&p->wake);
  pthread_mutex_unlock (&p->lock);
  for (int i = 1; i < p->threads; i++)
    pthread_join (p->workers[i], NULL);
  pthread_mutex_destroy (&p->lock);
  pthread_cond_destroy (&p->wake);
  pthread_cond_destroy (&p->done_cond);
  free (p);
}

int
nn_pool_threads (const NnPool *p)
{
  return p != NULL ? p->threads : 1;
}

void
nn_pool_run (NnPool *p, int n_tasks, NnTaskFunc func, void *ctx)
{
  if (p == NULL || p->threads == 1 || n_tasks <= 1)
    {
      for (int t = 0; t < n_tasks; t++)
        func (ctx, t, 0);
      return;
    }
  p->func = func;
  p->ctx = ctx;
  p->n_tasks = n_tasks;
  atomic_store (&p->remaining, p->threads - 1);
  pthread_mutex_lock (&p->lock);
  atomic_fetch_add_explicit (&p->generation, 1, memory_order_release);
  pthread_cond_broadcast (&p->wake);
  pthread_mutex_unlock (&p->lock);

  run_share (p, 0);

  for (int spin = 0; atomic_load_explicit (&p->remaining, memory_order_acquire) > 0
                     && spin < SPIN_ROUNDS; spin++)
    {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause ();
#endif
    }
  if (atomic_load_explicit (&p->remaining, memory_order_acquire) > 0)
    {
      pthread_mutex_lock (&p->lock);
      while (atomic_load (&p->remaining) > 0)
        pthread_cond_wait (&p->done_cond, &p->lock);
      pthread_mutex_unlock (&p->lock);
    }
}

void
nn_split_range (long n, int parts, int part, long *begin, long *end)
{
  long base = n / parts, extra = n % parts;

  *begin = part * base + (part < extra ? part : extra);
  *end = *begin + base + (part < extra ? 1 : 0);
}
