/* The search board: the newest HAWQ and AutoQ state, published by the Lua worker and copied by
 * the UI (see search_board.h). */
#include "search_board.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t board_mu = PTHREAD_MUTEX_INITIALIZER;
static struct search_snapshot board;

static char *dup_text(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

/* a copy of n elements of size bytes (NULL for none or out of memory: *ok false then) */
static void *dup_array(const void *src, int n, size_t size, bool *ok)
{
    if (!src || n <= 0)
        return NULL;
    void *d = malloc((size_t)n * size);
    if (!d)
        *ok = false;
    else
        memcpy(d, src, (size_t)n * size);
    return d;
}

static void free_ids(char **ids, int n)
{
    for (int i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

static char **dup_ids(char *const *ids, int n, bool *ok)
{
    if (!ids || n <= 0)
        return NULL;
    char **d = calloc((size_t)n, sizeof *d);
    if (!d) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (!(d[i] = dup_text(ids[i])))
            *ok = false;
    return d;
}

static void hawq_fini(struct search_hawq *h)
{
    for (int i = 0; h->layers && i < h->n_layers; i++)
        free(h->layers[i].id);
    free(h->layers);
    free(h->points);
    memset(h, 0, sizeof *h);
}

/* a deep copy of src into dst (dst empty); false on out of memory (dst then holds what it got) */
static bool hawq_copy(struct search_hawq *dst, const struct search_hawq *src)
{
    bool ok = true;
    *dst = *src;
    dst->layers = dup_array(src->layers, src->n_layers, sizeof *src->layers, &ok);
    dst->points = dup_array(src->points, src->n_points, sizeof *src->points, &ok);
    if (!dst->layers)
        dst->n_layers = 0;
    if (!dst->points)
        dst->n_points = 0;
    for (int i = 0; i < dst->n_layers; i++)
        dst->layers[i].id = NULL;
    for (int i = 0; i < dst->n_layers; i++)
        if (!(dst->layers[i].id = dup_text(src->layers[i].id)))
            ok = false;
    return ok;
}

static void autoq_fini(struct search_autoq *q)
{
    free_ids(q->ids, q->n_steps);
    free(q->is_weight);
    free(q->episodes);
    free(q->bits);
    free(q->best_bits);
    memset(q, 0, sizeof *q);
    q->best = -1;
}

static bool autoq_copy(struct search_autoq *dst, const struct search_autoq *src)
{
    bool ok = true;
    *dst = *src;
    dst->ids = dup_ids(src->ids, src->n_steps, &ok);
    dst->is_weight = dup_array(src->is_weight, src->n_steps, sizeof *src->is_weight, &ok);
    dst->episodes = dup_array(src->episodes, src->n_episodes, sizeof *src->episodes, &ok);
    dst->bits = dup_array(src->bits, src->n_steps, sizeof *src->bits, &ok);
    dst->best_bits = dup_array(src->best_bits, src->n_steps, sizeof *src->best_bits, &ok);
    return ok;
}

/* ---- publishing ---- */

/* the HAWQ part now describes key (a new compression forgets the old one's result) */
static void hawq_own(const void *key)
{
    if (board.hawq.key != key) {
        hawq_fini(&board.hawq);
        board.hawq.key = key;
    }
}

void search_board_hawq_progress(const void *key, int iteration, int iter_number, double mean_trace)
{
    pthread_mutex_lock(&board_mu);
    hawq_own(key);
    board.hawq.running = true;
    board.hawq.error[0] = '\0';
    board.hawq.iteration = iteration;
    board.hawq.iter_number = iter_number;
    board.hawq.mean_trace = mean_trace;
    board.version++;
    pthread_mutex_unlock(&board_mu);
}

void search_board_hawq_end(const void *key, const char *error)
{
    pthread_mutex_lock(&board_mu);
    hawq_own(key);
    board.hawq.running = false;
    snprintf(board.hawq.error, sizeof board.hawq.error, "%s", error ? error : "");
    board.version++;
    pthread_mutex_unlock(&board_mu);
}

void search_board_hawq_result(const void *key, const struct search_hawq *result)
{
    struct search_hawq copy;
    bool ok = hawq_copy(&copy, result); /* outside the lock: the UI never waits on malloc */
    pthread_mutex_lock(&board_mu);
    hawq_own(key);
    struct search_hawq old = board.hawq;
    if (ok) {
        copy.key = key;
        copy.running = false;
        copy.iteration = old.iteration;
        copy.iter_number = old.iter_number;
        copy.mean_trace = old.mean_trace;
        copy.error[0] = '\0'; /* a new result: an older failure is history */
        copy.solved = true;
        board.hawq = copy;
        board.version++;
    }
    pthread_mutex_unlock(&board_mu);
    if (ok)
        hawq_fini(&old);
    else
        hawq_fini(&copy);
}

void search_board_hawq_forget(const void *key)
{
    pthread_mutex_lock(&board_mu);
    if (board.hawq.key == key) {
        hawq_fini(&board.hawq);
        board.version++;
    }
    pthread_mutex_unlock(&board_mu);
}

void search_board_autoq_begin(const void *key, const void *comp_key, int n_steps,
                              const char *const *ids, const bool *is_weight, int total)
{
    struct search_autoq q = {.key = key, .comp_key = comp_key, .total = total, .best = -1};
    bool ok = true;
    q.n_steps = n_steps > 0 ? n_steps : 0;
    q.ids = dup_ids((char *const *)ids, q.n_steps, &ok);
    q.is_weight = dup_array(is_weight, q.n_steps, sizeof *is_weight, &ok);
    if (!ok) {
        autoq_fini(&q);
        return;
    }
    pthread_mutex_lock(&board_mu);
    struct search_autoq old = board.autoq;
    board.autoq = q;
    board.version++;
    pthread_mutex_unlock(&board_mu);
    autoq_fini(&old);
}

void search_board_autoq_episode(const void *key, const struct search_episode *e, const int *bits,
                                const int *best_bits)
{
    pthread_mutex_lock(&board_mu);
    struct search_autoq *q = &board.autoq;
    if (q->key != key) { /* a search the board was not told about */
        pthread_mutex_unlock(&board_mu);
        return;
    }
    struct search_episode *grown =
        realloc(q->episodes, (size_t)(q->n_episodes + 1) * sizeof *grown);
    if (!q->bits && q->n_steps)
        q->bits = calloc((size_t)q->n_steps, sizeof *q->bits);
    if (!q->best_bits && q->n_steps)
        q->best_bits = calloc((size_t)q->n_steps, sizeof *q->best_bits);
    if (grown) {
        q->episodes = grown;
        q->episodes[q->n_episodes] = *e;
        if (e->best)
            q->best = q->n_episodes;
        q->n_episodes++;
    }
    if (q->bits && bits)
        memcpy(q->bits, bits, (size_t)q->n_steps * sizeof *bits);
    if (q->best_bits && best_bits)
        memcpy(q->best_bits, best_bits, (size_t)q->n_steps * sizeof *best_bits);
    q->applied = false;
    board.version++;
    pthread_mutex_unlock(&board_mu);
}

void search_board_autoq_applied(const void *key)
{
    pthread_mutex_lock(&board_mu);
    if (board.autoq.key == key) {
        board.autoq.applied = true;
        board.version++;
    }
    pthread_mutex_unlock(&board_mu);
}

/* ---- reading ---- */

bool search_board_copy(struct search_snapshot *out)
{
    pthread_mutex_lock(&board_mu);
    if (board.version == out->version) {
        pthread_mutex_unlock(&board_mu);
        return false;
    }
    struct search_snapshot s = {.version = board.version};
    bool ok = hawq_copy(&s.hawq, &board.hawq);
    ok = autoq_copy(&s.autoq, &board.autoq) && ok;
    pthread_mutex_unlock(&board_mu);
    if (!ok) {
        search_snapshot_fini(&s);
        return false;
    }
    search_snapshot_fini(out);
    *out = s;
    return true;
}

void search_snapshot_fini(struct search_snapshot *s)
{
    hawq_fini(&s->hawq);
    autoq_fini(&s->autoq);
}

void search_board_reset(void)
{
    pthread_mutex_lock(&board_mu);
    search_snapshot_fini(&board);
    board.version++;
    pthread_mutex_unlock(&board_mu);
}
