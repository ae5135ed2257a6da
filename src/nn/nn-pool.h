/* nn-pool.h — a small pool of worker threads for the model's parallel loops.
 *
 * OpenBLAS runs single-threaded inside the pool's tasks: the model splits its
 * work (images of a batch, channels, parameter ranges) across the pool itself,
 * so im2col, BatchNorm and the GEMMs all use every core and nothing is
 * oversubscribed. Work is split statically: task i always runs on thread
 * i % threads, and reductions are summed in a fixed order, so results do not
 * depend on timing.
 */
#pragma once

typedef struct NnPool NnPool;

/* ctx, task index in [0, n_tasks), the thread running it in [0, threads) */
typedef void (*NnTaskFunc) (void *ctx, int task, int thread);

/* threads counts the calling thread: 1 means no worker threads. NULL on failure. */
NnPool *nn_pool_new (int threads);
void nn_pool_free (NnPool *pool);
int nn_pool_threads (const NnPool *pool);

/* Runs func for every task and returns when all are done. Not reentrant: call
 * it from one thread at a time (the one that owns the model). */
void nn_pool_run (NnPool *pool, int n_tasks, NnTaskFunc func, void *ctx);

/* The share of [0, n) that part `part` of `parts` gets: [*begin, *end). */
void nn_split_range (long n, int parts, int part, long *begin, long *end);
