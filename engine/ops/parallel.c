/* The engine's worker pool: one mutex, a job generation counter that wakes parked workers,
 * and a countdown the caller waits on. Jobs are coarse (a GEMM, a layer's channels), so a
 * condition-variable wake-up (tens of microseconds) is cheap next to them, and parked workers
 * cost nothing on a machine shared with other processes. */
#include "ops/parallel.h"

#include <pthread.h>
#include <stdbool.h>

#include "ops/blas.h"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    bool atfork_set;
    int threads; /* configured; 0 until first asked */
    int started; /* workers running (the caller is not one) */
    bool busy;   /* a job is running: others run on their callers */
    unsigned long job;
    nncw_parallel_fn fn;
    void *arg;
    int n, remaining;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static int clamp_threads(int n)
{
    return n < 1 ? 1 : n > NNCW_PARALLEL_MAX_THREADS ? NNCW_PARALLEL_MAX_THREADS : n;
}

void nncw_parallel_set_threads(int n)
{
    pthread_mutex_lock(&pool.mu);
    pool.threads = clamp_threads(n);
    pthread_mutex_unlock(&pool.mu);
}

static int threads_locked(void)
{
    if (!pool.threads)
        pool.threads = clamp_threads(nncw_blas_default_threads());
    return pool.threads;
}

int nncw_parallel_get_threads(void)
{
    pthread_mutex_lock(&pool.mu);
    int n = threads_locked();
    pthread_mutex_unlock(&pool.mu);
    return n;
}

int nncw_parallel_width(double flops)
{
    if (flops < 1e6)
        return 1;
    int n = nncw_parallel_get_threads();
    /* at least ~0.5 MFLOP per thread */
    int by_size = (int)(flops / 5e5);
    return by_size < n ? by_size : n;
}

static void *worker_main(void *p)
{
    int idx = (int)(size_t)p;
    pthread_mutex_lock(&pool.mu);
    /* a worker is started for the job about to run, which may already be posted */
    unsigned long seen = pool.busy ? pool.job - 1 : pool.job;
    for (;;) {
        while (pool.job == seen)
            pthread_cond_wait(&pool.wake, &pool.mu);
        seen = pool.job;
        if (idx >= pool.n)
            continue;
        nncw_parallel_fn fn = pool.fn;
        void *arg = pool.arg;
        int n = pool.n;
        pthread_mutex_unlock(&pool.mu);
        fn(arg, idx, n);
        pthread_mutex_lock(&pool.mu);
        if (--pool.remaining == 0)
            pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* a forked child has none of the parent's workers */
static void reset_in_child(void)
{
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.started = 0;
    pool.busy = false;
}

/* starts workers 1 .. want - 1 that are missing; returns how many run */
static int start_workers_locked(int want)
{
    if (!pool.atfork_set) {
        pthread_atfork(NULL, NULL, reset_in_child);
        pool.atfork_set = true;
    }
    while (pool.started < want - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, worker_main, (void *)(size_t)(pool.started + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;
        pool.started++;
    }
    return pool.started;
}

void nncw_parallel_run(nncw_parallel_fn fn, void *arg, int n)
{
    if (n > 1) {
        pthread_mutex_lock(&pool.mu);
        int limit = threads_locked();
        n = n < limit ? n : limit;
        if (pool.busy || n <= 1) {
            pthread_mutex_unlock(&pool.mu);
        } else {
            int workers = start_workers_locked(n);
            n = n < workers + 1 ? n : workers + 1;
            if (n > 1) {
                pool.busy = true;
                pool.fn = fn;
                pool.arg = arg;
                pool.n = n;
                pool.remaining = n - 1;
                pool.job++;
                pthread_cond_broadcast(&pool.wake);
                pthread_mutex_unlock(&pool.mu);
                fn(arg, 0, n);
                pthread_mutex_lock(&pool.mu);
                while (pool.remaining > 0)
                    pthread_cond_wait(&pool.done, &pool.mu);
                pool.busy = false;
                pthread_mutex_unlock(&pool.mu);
                return;
            }
            pthread_mutex_unlock(&pool.mu);
        }
    }
    /* alone: every part on the caller */
    for (int i = 0; i < (n > 1 ? n : 1); i++)
        fn(arg, i, n > 1 ? n : 1);
}

struct range_job {
    nncw_parallel_range_fn fn;
    void *arg;
    int64_t blocks, align, count;
};

static void range_part(void *p, int i, int n)
{
    const struct range_job *j = p;
    int64_t lo = j->blocks * i / n * j->align, hi = j->blocks * (i + 1) / n * j->align;
    if (hi > j->count)
        hi = j->count;
    if (lo < hi)
        j->fn(j->arg, lo, hi);
}

void nncw_parallel_for(int64_t count, int64_t align, double cost, nncw_parallel_range_fn fn,
                       void *arg)
{
    if (count <= 0)
        return;
    if (align < 1)
        align = 1;
    struct range_job j = {fn, arg, (count + align - 1) / align, align, count};
    int n = nncw_parallel_width((double)count * cost);
    if (n > j.blocks)
        n = (int)j.blocks;
    if (n <= 1) {
        fn(arg, 0, count);
        return;
    }
    nncw_parallel_run(range_part, &j, n);
}
