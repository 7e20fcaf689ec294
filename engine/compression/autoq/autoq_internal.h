/* AutoQ's pieces shared by its files: the replay buffer (replay.c) and the compression
 * adapter's hooks into the search (autoq.c, autoq_quant.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/autoq/autoq.h"
#include "core/rng.h"
#include "core/status.h"

/* one transition (state, action, reward, next state, terminal) with the reward of its
 * episode, which decides what a full buffer keeps */
struct nncw_autoq_transition {
    float *state, *next; /* dim floats each, owned by the buffer */
    float action, reward;
    bool terminal;
    double episode_reward;
};

struct nncw_autoq_replay {
    int dim, capacity, count;
    struct nncw_autoq_transition *t;
    float *storage; /* capacity x 2 x dim */
};

enum nncw_status nncw_autoq_replay_init(struct nncw_autoq_replay *r, int dim, int capacity);
void nncw_autoq_replay_fini(struct nncw_autoq_replay *r);
/* appends an episode's n transitions (states[n + 1] rows of dim: the last is the terminal
 * next state), each with reward[i]. When they do not fit, the buffer first keeps only the
 * transitions of the best 30 % of its episodes (NNCF), then drops the oldest. */
void nncw_autoq_replay_add_episode(struct nncw_autoq_replay *r, int n, const float *states,
                                   const float *actions, const float *rewards,
                                   double episode_reward);
/* batch transition indices drawn uniformly with replacement */
void nncw_autoq_replay_sample(const struct nncw_autoq_replay *r, struct nncw_rng *rng, int batch,
                              int *idx);

/* the compression adapter's part of a search (autoq_quant.c) */
struct nncw_autoq_target;
void nncw_autoq_target_free(struct nncw_autoq_target *t);
const char *nncw_autoq_target_step_name(const struct nncw_autoq_target *t, int i);
enum nncw_status nncw_autoq_target_apply(struct nncw_autoq_target *t, const int *bits);
/* the model is going away: no evaluation, apply or restore from now on */
void nncw_autoq_target_detach(struct nncw_autoq_target *t);
/* hands a target to the search that evaluates through it (taken over) */
void nncw_autoq_set_target(struct nncw_autoq *q, struct nncw_autoq_target *t);
