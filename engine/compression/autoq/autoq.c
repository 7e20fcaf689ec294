/*
** The AutoQ search (autoq.h): episodes of a DDPG agent (HAQ, as NNCF's AutoQ runs it).
**
** State of step i: the step's features min-max scaled over all steps, then the previous step's
** action. Actor mu(s) in [0, 1] (sigmoid output), critic Q(s, a); both 2 hidden ReLU layers.
** Warm-up episodes draw actions uniformly; later ones take mu(s) plus truncated normal noise of
** sigma = init_delta * delta_decay^(episode - warmup), kept in [0, 1]. An episode's policy is
** made to meet the size ratio (nncw_autoq_meet_ratio) and evaluated; its reward is the accuracy
** times 10^-floor(log10(reference)), the reference being the accuracy with every quantizer at
** its largest allowed bit width (NNCF: the pretrained score), shared equally by the episode's
** steps. After the warm-up each episode runs one agent update per step: minibatches from the
** replay buffer, rewards minus a moving average (alpha 0.5) of batch means, critic towards
** r + discount x Q'(s', mu'(s')) (no bootstrap after the last step), actor along dQ/da,
** targets soft-updated by tau; Adam for both.
*/
#include "compression/autoq/autoq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compression/autoq/autoq_internal.h"
#include "compression/autoq/mlp.h"
#include "core/alloc.h"

#define DIM (NNCW_AUTOQ_FEATURE_COUNT + 1) /* features + previous action */

struct nncw_autoq {
    int n;
    struct nncw_autoq_step *steps;
    struct nncw_autoq_options o;
    nncw_autoq_eval_fn eval;
    void *user;
    struct nncw_autoq_target *target; /* the compression adapter, or NULL */
    float *scaled;                    /* n x NNCW_AUTOQ_FEATURE_COUNT */
    struct nncw_mlp actor, actor_t, critic, critic_t;
    struct nncw_autoq_replay replay;
    struct nncw_rng rng;
    int episode;
    bool have_ref, have_ma, have_best;
    double reward_scale, moving_average;
    int *bits, *best_bits;
    struct nncw_autoq_episode best;
    float *states, *actions, *rewards; /* this episode's: (n + 1) x DIM, n, n */
    /* minibatch buffers */
    int *idx;
    float *bs, *bn, *ba, *by, *q, *dq, *cin, *dcin, *act;
};

struct nncw_autoq_options nncw_autoq_defaults(void)
{
    return (struct nncw_autoq_options){.n_bits = 3,
                                       .bits = {2, 4, 8},
                                       .compression_ratio = 0.15,
                                       .episodes = 0,
                                       .warmup = 10,
                                       .seed = 528,
                                       .hidden = 300,
                                       .lr_actor = 1e-4f,
                                       .lr_critic = 1e-3f,
                                       .batch = 64,
                                       .tau = 0.01f,
                                       .discount = 1.0f,
                                       .init_delta = 0.5f,
                                       .delta_decay = 0.99f};
}

/* ---- the pieces ---- */

int nncw_autoq_action_to_bits(float action, const int *cand, int n_cand, unsigned allowed)
{
    int want = cand[n_cand - 1];
    for (int k = 0; k < n_cand; k++)
        if (action <= ldexp(1.0, cand[k] + 3) / 256.0) {
            want = cand[k];
            break;
        }
    int best = 0;
    for (int b = 1; b < 32; b++) {
        if (!(allowed & (1u << b)))
            continue;
        int d = abs(b - want), bd = abs(best - want);
        if (!best || d < bd || (d == bd && b > best))
            best = b;
    }
    return best;
}

double nncw_autoq_size_ratio(int n, const struct nncw_autoq_step *steps, const int *bits)
{
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num += (double)steps[i].weight_numel * bits[i];
        den += (double)steps[i].weight_numel * 32.0;
    }
    return den > 0 ? num / den : 1.0;
}

/* the next candidate below bits that step allows, or 0 */
static int lower_bits(const struct nncw_autoq_step *s, const int *cand, int n_cand, int bits)
{
    for (int k = n_cand - 1; k >= 0; k--)
        if (cand[k] < bits && (s->allowed & (1u << cand[k])))
            return cand[k];
    return 0;
}

void nncw_autoq_meet_ratio(int n, const struct nncw_autoq_step *steps, const int *cand, int n_cand,
                           double target, int *bits, double *ratio)
{
    double r = nncw_autoq_size_ratio(n, steps, bits);
    bool lowered = true;
    while (r > target && lowered) {
        lowered = false;
        for (int i = n - 1; i >= 0 && r > target; i--) {
            int b = steps[i].weight_numel > 0 ? lower_bits(&steps[i], cand, n_cand, bits[i]) : 0;
            if (b) {
                bits[i] = b;
                lowered = true;
                r = nncw_autoq_size_ratio(n, steps, bits);
            }
        }
    }
    *ratio = r;
}

/* the steps of a group take the bit width of its first step (a unified scale has one) */
static void align_groups(int n, const struct nncw_autoq_step *steps, int *bits)
{
    for (int i = 0; i < n; i++) {
        if (steps[i].group <= 0)
            continue;
        for (int j = 0; j < i; j++)
            if (steps[j].group == steps[i].group) {
                if (steps[i].allowed & (1u << bits[j]))
                    bits[i] = bits[j];
                break;
            }
    }
}

int64_t nncw_autoq_subset_count(int64_t count, double ratio)
{
    double x = (double)count * ratio, whole = nearbyint(x);
    int64_t take = fabs(x - whole) <= 1e-6 * fabs(x) ? (int64_t)whole : (int64_t)ceil(x);
    return take < 1 ? 1 : take > count ? count : take;
}

/* ---- lifecycle ---- */

void nncw_autoq_free(struct nncw_autoq *q)
{
    if (!q)
        return;
    nncw_autoq_target_free(q->target);
    nncw_mlp_fini(&q->actor);
    nncw_mlp_fini(&q->actor_t);
    nncw_mlp_fini(&q->critic);
    nncw_mlp_fini(&q->critic_t);
    nncw_autoq_replay_fini(&q->replay);
    float *floats[] = {q->scaled, q->states, q->actions, q->rewards, q->bs,   q->bn, q->ba,
                       q->by,     q->q,      q->dq,      q->cin,     q->dcin, q->act};
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
        nncw_free(floats[i]);
    nncw_free(q->idx);
    nncw_free(q->bits);
    nncw_free(q->best_bits);
    nncw_free(q->steps);
    nncw_free(q);
}

void nncw_autoq_set_target(struct nncw_autoq *q, struct nncw_autoq_target *t)
{
    q->target = t;
}

static enum nncw_status check_options(int n, const struct nncw_autoq_step *steps,
                                      const struct nncw_autoq_options *o)
{
    if (n < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "autoq: nothing to search (no quantizers)");
    if (o->n_bits < 1 || o->n_bits > NNCW_AUTOQ_MAX_BITS)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "autoq: bits: 1 to %d candidates, got %d",
                         NNCW_AUTOQ_MAX_BITS, o->n_bits);
    unsigned cand = 0;
    for (int k = 0; k < o->n_bits; k++) {
        if (o->bits[k] < 1 || o->bits[k] > 31 || (k && o->bits[k] <= o->bits[k - 1]))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "autoq: bits must ascend within 1..31 (bits[%d] = %d)", k, o->bits[k]);
        cand |= 1u << o->bits[k];
    }
    if (!(o->compression_ratio > 0 && o->compression_ratio <= 1))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "autoq: compression_ratio %g is outside (0, 1]",
                         o->compression_ratio);
    if (o->episodes < 0 || o->warmup < 0 || o->hidden < 1 || o->batch < 1 ||
        !(o->tau > 0 && o->tau <= 1) || !(o->lr_actor > 0) || !(o->lr_critic > 0) ||
        !(o->init_delta >= 0) || !(o->delta_decay > 0) || o->replay_size < 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "autoq: episodes, warm-up and replay size must be >= 0; hidden, batch, "
                         "learning rates, tau and delta_decay > 0");
    for (int i = 0; i < n; i++)
        if (!(steps[i].allowed & cand))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "autoq: step %d allows none of the candidate bit widths", i);
    return NNCW_OK;
}

/* min-max scaling of each feature over the steps (0 where a feature is constant) */
static void scale_features(struct nncw_autoq *q)
{
    for (int f = 0; f < NNCW_AUTOQ_FEATURE_COUNT; f++) {
        float lo = q->steps[0].features[f], hi = lo;
        for (int i = 1; i < q->n; i++) {
            float v = q->steps[i].features[f];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        for (int i = 0; i < q->n; i++)
            q->scaled[i * NNCW_AUTOQ_FEATURE_COUNT + f] =
                hi > lo ? (q->steps[i].features[f] - lo) / (hi - lo) : 0.0f;
    }
}

static enum nncw_status alloc_all(struct nncw_autoq *q)
{
    size_t n = (size_t)q->n, b = (size_t)q->o.batch;
    bool ok =
        (q->steps = nncw_calloc(n, sizeof *q->steps)) &&
        (q->scaled = nncw_calloc(n * NNCW_AUTOQ_FEATURE_COUNT, sizeof(float))) &&
        (q->states = nncw_calloc((n + 1) * DIM, sizeof(float))) &&
        (q->actions = nncw_calloc(n, sizeof(float))) &&
        (q->rewards = nncw_calloc(n, sizeof(float))) && (q->bits = nncw_calloc(n, sizeof(int))) &&
        (q->best_bits = nncw_calloc(n, sizeof(int))) && (q->idx = nncw_calloc(b, sizeof(int))) &&
        (q->bs = nncw_calloc(b * DIM, sizeof(float))) &&
        (q->bn = nncw_calloc(b * DIM, sizeof(float))) && (q->ba = nncw_calloc(b, sizeof(float))) &&
        (q->by = nncw_calloc(b, sizeof(float))) && (q->q = nncw_calloc(b, sizeof(float))) &&
        (q->dq = nncw_calloc(b, sizeof(float))) && (q->act = nncw_calloc(b, sizeof(float))) &&
        (q->cin = nncw_calloc(b * (DIM + 1), sizeof(float))) &&
        (q->dcin = nncw_calloc(b * (DIM + 1), sizeof(float)));
    if (!ok)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    return NNCW_OK;
}

enum nncw_status nncw_autoq_new(int n, const struct nncw_autoq_step *steps,
                                const struct nncw_autoq_options *o, nncw_autoq_eval_fn eval,
                                void *user, struct nncw_autoq **out)
{
    NNCW_TRY(check_options(n, steps, o));
    struct nncw_autoq *q = nncw_calloc(1, sizeof *q);
    if (!q)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    q->n = n;
    q->o = *o;
    q->eval = eval;
    q->user = user;
    nncw_rng_seed(&q->rng, o->seed);
    int capacity = o->replay_size > 0 ? o->replay_size : (o->warmup > 0 ? o->warmup : 1) * (n + 1);
    capacity = capacity < n ? n : capacity;
    enum nncw_status s = alloc_all(q);
    if (s == NNCW_OK) {
        memcpy(q->steps, steps, (size_t)n * sizeof *steps);
        scale_features(q);
        s = nncw_autoq_replay_init(&q->replay, DIM, capacity);
    }
    if (s == NNCW_OK)
        s = nncw_mlp_init(&q->actor, DIM, o->hidden, true, &q->rng, o->batch);
    if (s == NNCW_OK)
        s = nncw_mlp_init(&q->actor_t, DIM, o->hidden, true, &q->rng, o->batch);
    if (s == NNCW_OK)
        s = nncw_mlp_init(&q->critic, DIM + 1, o->hidden, false, &q->rng, o->batch);
    if (s == NNCW_OK)
        s = nncw_mlp_init(&q->critic_t, DIM + 1, o->hidden, false, &q->rng, o->batch);
    if (s != NNCW_OK) {
        nncw_autoq_free(q);
        return s;
    }
    nncw_mlp_copy(&q->actor_t, &q->actor);
    nncw_mlp_copy(&q->critic_t, &q->critic);
    *out = q;
    return NNCW_OK;
}

/* ---- queries ---- */

bool nncw_autoq_is_done(const struct nncw_autoq *q)
{
    return q->episode >= q->o.episodes;
}

int nncw_autoq_count_steps(const struct nncw_autoq *q)
{
    return q->n;
}

int nncw_autoq_count_episodes_run(const struct nncw_autoq *q)
{
    return q->episode;
}

const int *nncw_autoq_get_best(const struct nncw_autoq *q, struct nncw_autoq_episode *best)
{
    if (!q->have_best)
        return NULL;
    if (best) {
        *best = q->best;
        best->bits = q->best_bits;
    }
    return q->best_bits;
}

const char *nncw_autoq_get_step_name(const struct nncw_autoq *q, int i)
{
    return q->target && i >= 0 && i < q->n ? nncw_autoq_target_step_name(q->target, i) : NULL;
}

void nncw_autoq_detach(struct nncw_autoq *q)
{
    if (q->target)
        nncw_autoq_target_detach(q->target);
}

enum nncw_status nncw_autoq_apply(struct nncw_autoq *q, const int *bits)
{
    if (!q->target)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "autoq: this search was not made from a compression; nothing to apply to");
    return nncw_autoq_target_apply(q->target, bits);
}

/* ---- one episode ---- */

/* N(mu, sigma) truncated to [0, 1] by redrawing (clamped after 100 draws) */
static float truncated_normal(struct nncw_rng *r, float mu, float sigma)
{
    for (int k = 0; k < 100; k++) {
        float a = mu + sigma * nncw_rng_normal(r);
        if (a >= 0.0f && a <= 1.0f)
            return a;
    }
    return mu < 0.0f ? 0.0f : mu > 1.0f ? 1.0f : mu;
}

/* the policy of this episode into q->bits, its states and actions */
static void choose_policy(struct nncw_autoq *q)
{
    bool warm = q->episode < q->o.warmup;
    float sigma = q->o.init_delta * powf(q->o.delta_decay, (float)(q->episode - q->o.warmup));
    float prev = 0.0f;
    for (int i = 0; i < q->n; i++) {
        float *s = q->states + (size_t)i * DIM;
        memcpy(s, q->scaled + (size_t)i * NNCW_AUTOQ_FEATURE_COUNT,
               NNCW_AUTOQ_FEATURE_COUNT * sizeof(float));
        s[DIM - 1] = prev;
        float a;
        if (warm) {
            a = nncw_rng_uniform(&q->rng);
        } else {
            float mu;
            nncw_mlp_forward(&q->actor, 1, s, &mu);
            a = truncated_normal(&q->rng, mu, sigma);
        }
        q->actions[i] = a;
        q->bits[i] = nncw_autoq_action_to_bits(a, q->o.bits, q->o.n_bits, q->steps[i].allowed);
        prev = a;
    }
    /* the terminal next state repeats the last (never bootstrapped) */
    memcpy(q->states + (size_t)q->n * DIM, q->states + (size_t)(q->n - 1) * DIM,
           DIM * sizeof(float));
}

/* the reference accuracy (largest allowed bits everywhere) that scales rewards */
static enum nncw_status reference(struct nncw_autoq *q)
{
    for (int i = 0; i < q->n; i++)
        q->bits[i] = nncw_autoq_action_to_bits(1.0f, q->o.bits, q->o.n_bits, q->steps[i].allowed);
    double acc;
    NNCW_TRY(q->eval(q->user, q->bits, &acc));
    q->reward_scale = acc > 0 ? pow(10.0, -floor(log10(acc))) : 1.0;
    q->have_ref = true;
    return NNCW_OK;
}

static void fill_critic_input(float *cin, int batch, const float *s, const float *a)
{
    for (int b = 0; b < batch; b++) {
        memcpy(cin + (size_t)b * (DIM + 1), s + (size_t)b * DIM, DIM * sizeof(float));
        cin[(size_t)b * (DIM + 1) + DIM] = a[b];
    }
}

/* one DDPG update from a minibatch of the replay buffer */
static void update(struct nncw_autoq *q)
{
    int batch = q->replay.count < q->o.batch ? q->replay.count : q->o.batch;
    nncw_autoq_replay_sample(&q->replay, &q->rng, batch, q->idx);
    double mean = 0;
    for (int b = 0; b < batch; b++) {
        const struct nncw_autoq_transition *t = &q->replay.t[q->idx[b]];
        memcpy(q->bs + (size_t)b * DIM, t->state, DIM * sizeof(float));
        memcpy(q->bn + (size_t)b * DIM, t->next, DIM * sizeof(float));
        q->ba[b] = t->action;
        mean += t->reward;
    }
    mean /= batch;
    q->moving_average = q->have_ma ? q->moving_average + 0.5 * (mean - q->moving_average) : mean;
    q->have_ma = true;
    /* targets */
    nncw_mlp_forward(&q->actor_t, batch, q->bn, q->act);
    fill_critic_input(q->cin, batch, q->bn, q->act);
    nncw_mlp_forward(&q->critic_t, batch, q->cin, q->q);
    for (int b = 0; b < batch; b++) {
        const struct nncw_autoq_transition *t = &q->replay.t[q->idx[b]];
        float r = (float)(t->reward - q->moving_average);
        q->by[b] = r + (t->terminal ? 0.0f : q->o.discount * q->q[b]);
    }
    /* critic: mean squared error to the targets */
    fill_critic_input(q->cin, batch, q->bs, q->ba);
    nncw_mlp_forward(&q->critic, batch, q->cin, q->q);
    for (int b = 0; b < batch; b++)
        q->dq[b] = 2.0f * (q->q[b] - q->by[b]) / (float)batch;
    nncw_mlp_zero_grad(&q->critic);
    nncw_mlp_backward(&q->critic, batch, q->dq, NULL);
    nncw_mlp_adam_step(&q->critic, q->o.lr_critic);
    /* actor: up the critic's value of its actions */
    nncw_mlp_forward(&q->actor, batch, q->bs, q->act);
    fill_critic_input(q->cin, batch, q->bs, q->act);
    nncw_mlp_forward(&q->critic, batch, q->cin, q->q);
    for (int b = 0; b < batch; b++)
        q->dq[b] = -1.0f / (float)batch;
    nncw_mlp_zero_grad(&q->critic);
    nncw_mlp_backward(&q->critic, batch, q->dq, q->dcin);
    for (int b = 0; b < batch; b++)
        q->dq[b] = q->dcin[(size_t)b * (DIM + 1) + DIM];
    nncw_mlp_zero_grad(&q->actor);
    nncw_mlp_backward(&q->actor, batch, q->dq, NULL);
    nncw_mlp_adam_step(&q->actor, q->o.lr_actor);
    nncw_mlp_soft_update(&q->actor_t, &q->actor, q->o.tau);
    nncw_mlp_soft_update(&q->critic_t, &q->critic, q->o.tau);
}

enum nncw_status nncw_autoq_run_episode(struct nncw_autoq *q, struct nncw_autoq_episode *out)
{
    if (nncw_autoq_is_done(q))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "autoq: all %d episodes have run", q->o.episodes);
    if (!q->have_ref)
        NNCW_TRY(reference(q));
    choose_policy(q);
    align_groups(q->n, q->steps, q->bits);
    double ratio, acc;
    nncw_autoq_meet_ratio(q->n, q->steps, q->o.bits, q->o.n_bits, q->o.compression_ratio, q->bits,
                          &ratio);
    NNCW_TRY(q->eval(q->user, q->bits, &acc));
    double reward = acc * q->reward_scale;
    for (int i = 0; i < q->n; i++)
        q->rewards[i] = (float)(reward / q->n);
    nncw_autoq_replay_add_episode(&q->replay, q->n, q->states, q->actions, q->rewards, reward);
    struct nncw_autoq_episode e = {.episode = q->episode,
                                   .warmup = q->episode < q->o.warmup,
                                   .accuracy = acc,
                                   .reward = reward,
                                   .ratio = ratio,
                                   .bits = q->bits};
    if (!q->have_best || reward > q->best.reward) {
        memcpy(q->best_bits, q->bits, (size_t)q->n * sizeof(int));
        q->best = e;
        q->have_best = true;
        e.best = true;
    }
    if (q->episode >= q->o.warmup)
        for (int i = 0; i < q->n; i++)
            update(q);
    q->episode++;
    if (out)
        *out = e;
    return NNCW_OK;
}

enum nncw_status nncw_autoq_random_baseline(struct nncw_autoq *q, int k, uint64_t seed,
                                            double *mean_accuracy)
{
    int *bits = nncw_malloc((size_t)q->n * sizeof *bits);
    if (!bits)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    struct nncw_rng rng;
    nncw_rng_seed(&rng, seed);
    double sum = 0, ratio, acc = 0;
    enum nncw_status s = NNCW_OK;
    for (int r = 0; r < k && s == NNCW_OK; r++) {
        for (int i = 0; i < q->n; i++)
            bits[i] = nncw_autoq_action_to_bits(nncw_rng_uniform(&rng), q->o.bits, q->o.n_bits,
                                                q->steps[i].allowed);
        align_groups(q->n, q->steps, bits);
        nncw_autoq_meet_ratio(q->n, q->steps, q->o.bits, q->o.n_bits, q->o.compression_ratio, bits,
                              &ratio);
        s = q->eval(q->user, bits, &acc);
        sum += acc;
    }
    nncw_free(bits);
    if (s == NNCW_OK)
        *mean_accuracy = k > 0 ? sum / k : 0.0;
    return s;
}
