/* AutoQ's replay buffer (autoq_internal.h): transitions of whole episodes; when full, NNCF
 * keeps the transitions of the best 30 % of the episodes it holds. */
#include "compression/autoq/autoq_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

enum nncw_status nncw_autoq_replay_init(struct nncw_autoq_replay *r, int dim, int capacity)
{
    memset(r, 0, sizeof *r);
    r->dim = dim;
    r->capacity = capacity;
    r->t = nncw_calloc((size_t)capacity, sizeof *r->t);
    r->storage = nncw_calloc((size_t)capacity * 2 * (size_t)dim, sizeof(float));
    if (!r->t || !r->storage) {
        nncw_autoq_replay_fini(r);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory for the replay buffer");
    }
    for (int i = 0; i < capacity; i++) {
        r->t[i].state = r->storage + (size_t)i * 2 * (size_t)dim;
        r->t[i].next = r->t[i].state + dim;
    }
    return NNCW_OK;
}

void nncw_autoq_replay_fini(struct nncw_autoq_replay *r)
{
    nncw_free(r->t);
    nncw_free(r->storage);
    memset(r, 0, sizeof *r);
}

static int compare_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* moves transition src to slot dst (their float rows too) */
static void move(struct nncw_autoq_replay *r, int dst, int src)
{
    if (dst == src)
        return;
    struct nncw_autoq_transition *d = &r->t[dst], *s = &r->t[src];
    memcpy(d->state, s->state, (size_t)r->dim * sizeof(float));
    memcpy(d->next, s->next, (size_t)r->dim * sizeof(float));
    d->action = s->action;
    d->reward = s->reward;
    d->terminal = s->terminal;
    d->episode_reward = s->episode_reward;
}

/* keeps, in order, the transitions whose episode is among the best 30 % of episodes */
static void keep_best(struct nncw_autoq_replay *r)
{
    double *rewards = nncw_malloc((size_t)(r->count ? r->count : 1) * sizeof(double));
    if (!rewards)
        return; /* the oldest are dropped instead */
    /* one entry per episode: its terminal transition */
    int episodes = 0;
    for (int i = 0; i < r->count; i++)
        if (r->t[i].terminal)
            rewards[episodes++] = r->t[i].episode_reward;
    if (episodes > 1) {
        qsort(rewards, (size_t)episodes, sizeof *rewards, compare_desc);
        int keep = (episodes * 3 + 9) / 10;
        double cut = rewards[keep - 1];
        int k = 0;
        for (int i = 0; i < r->count; i++)
            if (r->t[i].episode_reward >= cut)
                move(r, k++, i);
        r->count = k;
    }
    nncw_free(rewards);
}

void nncw_autoq_replay_add_episode(struct nncw_autoq_replay *r, int n, const float *states,
                                   const float *actions, const float *rewards,
                                   double episode_reward)
{
    if (n > r->capacity) /* only the last capacity steps fit */
        return;
    if (r->count + n > r->capacity)
        keep_best(r);
    if (r->count + n > r->capacity) { /* drop the oldest */
        int drop = r->count + n - r->capacity;
        for (int i = drop; i < r->count; i++)
            move(r, i - drop, i);
        r->count -= drop;
    }
    for (int i = 0; i < n; i++) {
        struct nncw_autoq_transition *t = &r->t[r->count++];
        memcpy(t->state, states + (size_t)i * r->dim, (size_t)r->dim * sizeof(float));
        memcpy(t->next, states + (size_t)(i + 1) * r->dim, (size_t)r->dim * sizeof(float));
        t->action = actions[i];
        t->reward = rewards[i];
        t->terminal = i == n - 1;
        t->episode_reward = episode_reward;
    }
}

void nncw_autoq_replay_sample(const struct nncw_autoq_replay *r, struct nncw_rng *rng, int batch,
                              int *idx)
{
    for (int i = 0; i < batch; i++)
        idx[i] = (int)nncw_rng_below(rng, (uint32_t)r->count);
}
