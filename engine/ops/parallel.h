/*
 * The engine's own worker threads, for kernels that split their work (the AVX-512 sgemm, the
 * convolution and normalization loops). A job runs as `fn(arg, i, n)` for i in [0, n), on the
 * caller (i = 0) and n - 1 parked workers.
 *
 *     static void scale_part(void *arg, int i, int n) { ... rows [i * rows / n, ...) ... }
 *     nncw_parallel_run(scale_part, &args, nncw_parallel_width(flops));
 *
 * A job started while another runs (a nested call, or a second calling thread) runs on its
 * caller alone, so the pool can neither deadlock nor oversubscribe the cores. Workers are
 * started on first use and parked (not spinning) between jobs; a forked child starts its own.
 */
#pragma once

#include <stdint.h>

typedef void (*nncw_parallel_fn)(void *arg, int i, int n);
/* one part of a loop over items: [lo, hi) */
typedef void (*nncw_parallel_range_fn)(void *arg, int64_t lo, int64_t hi);

/* at most this many threads take part in a job */
enum { NNCW_PARALLEL_MAX_THREADS = 64 };

/* sets how many threads jobs may use (clamped to [1, NNCW_PARALLEL_MAX_THREADS]); the
 * default is OpenBLAS's thread count, which honours OPENBLAS_NUM_THREADS */
void nncw_parallel_set_threads(int n);
int nncw_parallel_get_threads(void);

/* how many of the threads a job of about `flops` operations is worth (1 below ~1 MFLOP, where
 * waking a worker costs more than it saves) */
int nncw_parallel_width(double flops);

/* runs fn(arg, i, n) for every i in [0, n) and returns when all are done; n is clamped to the
 * thread count; a job that cannot get the pool runs every part on the caller */
void nncw_parallel_run(nncw_parallel_fn fn, void *arg, int n);

/* splits [0, count) into contiguous ranges (multiples of `align` items, but for the last) and
 * runs fn on each; `cost` is about how many operations one item takes, which decides how many
 * threads are worth it */
void nncw_parallel_for(int64_t count, int64_t align, double cost, nncw_parallel_range_fn fn,
                       void *arg);
