/*
 * AutoQ (NNCF's HAQ-style mixed-precision search, fact sheet 4.2): a DDPG agent walks the
 * quantizers in execution order, one step each, and picks a bit width from the state features
 * of each; at the end of an episode the policy's weight bits are lowered until the model-size
 * ratio holds, the model is evaluated, and the accuracy is the reward. The best policy is kept.
 *
 *     struct nncw_autoq_options o = nncw_autoq_defaults();
 *     o.episodes = 30; o.compression_ratio = 0.15;
 *     struct nncw_autoq *q;
 *     nncw_autoq_new(n, steps, &o, my_eval, my_data, &q);  // steps: features, allowed bits
 *     struct nncw_autoq_episode e;
 *     while (!nncw_autoq_is_done(q)) {                      // one episode per call: a caller
 *         nncw_autoq_run_episode(q, &e);                    // can pause, resume, or stop
 *         show(e.episode, e.reward, e.ratio, e.bits);       // a UI, a log
 *     }
 *     const int *bits = nncw_autoq_get_best(q, &best);      // kept across everything
 *     nncw_autoq_free(q);
 *
 * On a quantized model, nncw_autoq_new_for_compression builds the steps from the compression's
 * quantizers and evaluates top-1 accuracy on a subset of a data set (the quantizers' levels set
 * for each policy); nncw_autoq_apply_best then sets the best policy with
 * nncw_compression_set_quantizers (checked against the hardware config).
 *
 * Everything is seeded (options.seed): two runs with the same inputs give the same policies.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "core/status.h"
#include "data/data.h"

/* raw state features per step, before min-max scaling (NNCF's list): the step index,
 * conv_dw (depthwise), cin, cout, stride, kernel, param (weight elements), ifm_size (H x W of
 * the input, or its feature count), is_weight. prev_action is appended by the agent. */
enum nncw_autoq_feature {
    NNCW_AUTOQ_F_INDEX,
    NNCW_AUTOQ_F_CONV_DW,
    NNCW_AUTOQ_F_CIN,
    NNCW_AUTOQ_F_COUT,
    NNCW_AUTOQ_F_STRIDE,
    NNCW_AUTOQ_F_KERNEL,
    NNCW_AUTOQ_F_PARAM,
    NNCW_AUTOQ_F_IFM_SIZE,
    NNCW_AUTOQ_F_IS_WEIGHT,
    NNCW_AUTOQ_FEATURE_COUNT
};

#define NNCW_AUTOQ_MAX_BITS 8 /* candidate bit widths */

struct nncw_autoq_step {
    float features[NNCW_AUTOQ_FEATURE_COUNT];
    unsigned allowed;     /* bit b set: b bits allowed (b in 1..31) */
    int64_t weight_numel; /* weight quantizers: elements counted in the size ratio; 0 else */
    int group;            /* > 0: the steps of one group (quantizers sharing one scale) take one
                           * bit width, the first one's; 0: none */
};

struct nncw_autoq_options {
    int n_bits;
    int bits[NNCW_AUTOQ_MAX_BITS]; /* candidates, ascending: [2, 4, 8] */
    double compression_ratio;      /* weight size over FP32 size (INT8: 0.25): 0.15 */
    int episodes;                  /* iter_number, including the warm-up ones */
    int warmup;                    /* warmup_iter_number: random policies first, 10 */
    uint64_t seed;                 /* 528 */
    int hidden;                    /* actor and critic hidden width, 300 */
    float lr_actor, lr_critic;     /* 1e-4, 1e-3 */
    int batch;                     /* 64 */
    float tau, discount;           /* 0.01, 1.0 */
    float init_delta, delta_decay; /* exploration noise: 0.5, 0.99 */
    int replay_size;               /* 0: warmup x (steps + 1) */
};

struct nncw_autoq_episode {
    int episode; /* from 0 */
    bool warmup; /* a random policy */
    double accuracy, reward, ratio;
    const int *bits; /* the evaluated policy (after the ratio post-processing); valid until the
                      * next episode */
    bool best;       /* the best so far */
};

/* accuracy (any scale, higher is better) of the policy bits[n] */
typedef enum nncw_status (*nncw_autoq_eval_fn)(void *user, const int *bits, double *accuracy);

struct nncw_autoq;

/* ---- lifecycle ---- */
/* NNCF's defaults (bits [2, 4, 8], ratio 0.15, 0 episodes, 10 warm-up, seed 528, ...) */
struct nncw_autoq_options nncw_autoq_defaults(void);
/* a search over n steps (copied). NNCW_ERR_INVALID_ARG naming the option or the step whose
 * allowed bits meet none of the candidates; NNCW_ERR_NOMEM */
enum nncw_status nncw_autoq_new(int n, const struct nncw_autoq_step *steps,
                                const struct nncw_autoq_options *o, nncw_autoq_eval_fn eval,
                                void *user, struct nncw_autoq **out);
/* the steps of a quantized model g (the graph c compresses): every quantizer of c, in c's
 * order, with the candidate bits as the allowed ones, and an evaluation of top-1 accuracy (in
 * %) on the first eval_subset_ratio of eval (batch size batch). g, c and eval are borrowed; the
 * quantizers' levels change during the search and are put back by nncw_autoq_free (unless
 * nncw_autoq_apply rebuilt the graph). NNCW_ERR_NOT_FOUND when c has no quantizers */
enum nncw_status nncw_autoq_new_for_compression(struct nncw_graph *g, struct nncw_compression *c,
                                                const struct nncw_dataset *eval,
                                                double eval_subset_ratio, int batch,
                                                const struct nncw_autoq_options *o,
                                                struct nncw_autoq **out);
/* NULL is a no-op */
void nncw_autoq_free(struct nncw_autoq *q);

/* ---- running ---- */
/* one episode: policy, post-processing, evaluation, agent update. NNCW_ERR_INVALID_ARG when
 * all episodes have run; the evaluation's errors */
enum nncw_status nncw_autoq_run_episode(struct nncw_autoq *q, struct nncw_autoq_episode *out);
bool nncw_autoq_is_done(const struct nncw_autoq *q);
int nncw_autoq_count_steps(const struct nncw_autoq *q);
int nncw_autoq_count_episodes_run(const struct nncw_autoq *q);
/* the best policy so far (n bits) and its episode record (NULL before the first episode) */
const int *nncw_autoq_get_best(const struct nncw_autoq *q, struct nncw_autoq_episode *best);
/* the quantizer id of step i (NULL for searches not made from a compression) */
const char *nncw_autoq_get_step_name(const struct nncw_autoq *q, int i);
/* sets bits on the compression the search was made for, one quantizer at a time through
 * nncw_compression_set_quantizers (each rebuild re-initialises the model from its data).
 * NNCW_ERR_INVALID_ARG for a search not made from a compression, or the hardware config's
 * refusal naming the quantizer */
enum nncw_status nncw_autoq_apply(struct nncw_autoq *q, const int *bits);

/* forgets the compression and graph the search was made for (they are going away): no more
 * episodes or apply (NNCW_ERR_INVALID_ARG), and nncw_autoq_free leaves the graph alone; the
 * best policy stays readable */
void nncw_autoq_detach(struct nncw_autoq *q);

/* ---- the pieces, for tests and tools ---- */
/* NNCF's mapping: the smallest candidate b with action <= 2^(b + 3) / 256 (else the largest),
 * then the allowed bit width nearest to it (the larger on a tie); 0 when none is allowed */
int nncw_autoq_action_to_bits(float action, const int *cand, int n_cand, unsigned allowed);
/* sum(numel x bits) / sum(numel x 32) over the weight steps (1 without any) */
double nncw_autoq_size_ratio(int n, const struct nncw_autoq_step *steps, const int *bits);
/* lowers weight bits to the next allowed candidate, from the last weight step backwards and
 * round again, until the size ratio is at most target or nothing can go lower; the ratio
 * reached into *ratio */
void nncw_autoq_meet_ratio(int n, const struct nncw_autoq_step *steps, const int *cand, int n_cand,
                           double target, int *bits, double *ratio);

/* how many samples the first eval_subset_ratio of count is: ceil(count x ratio), at least 1,
 * except that a product within float rounding of a whole number is that number (a ratio of 0.1
 * read as a float gives 1000 of 10,000, not 1001) */
int64_t nncw_autoq_subset_count(int64_t count, double ratio);

/* ---- from a config ---- */
/* the options of the first quantization entry of cfg whose initializer.precision.type is
 * "autoq" (bits, compression_ratio, iter_number as episodes, warmup_iter_number, and the seed
 * of cfg when it has one) and its eval_subset_ratio; *found false when there is none.
 * The quantization entry's errors (NNCW_ERR_PARSE naming the JSON path) */
enum nncw_status nncw_autoq_options_from_config(const struct nncw_config *cfg,
                                                struct nncw_autoq_options *o,
                                                double *eval_subset_ratio, bool *found);
/* the mean accuracy of k random policies (uniform actions, the same mapping and ratio
 * post-processing as the search) drawn from seed: the baseline a search should beat. Does not
 * change the search's state. The evaluation's errors */
enum nncw_status nncw_autoq_random_baseline(struct nncw_autoq *q, int k, uint64_t seed,
                                            double *mean_accuracy);
