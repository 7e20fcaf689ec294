/* AutoQ: the agent's networks (finite-difference gradients), the replay buffer, action to
 * bits, the size-ratio post-processing, seeded determinism, that the search beats random
 * policies of the same ratio on a small problem, options errors, and a search on a quantized
 * model whose best policy is applied to the compression. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnn_fixture.h"
#include "compression/autoq/autoq.h"
#include "compression/autoq/autoq_internal.h"
#include "compression/autoq/mlp.h"
#include "compression/compression.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "data/data.h"
#include "nncwt.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

/* ---- the networks ---- */

static double mlp_loss(struct nncw_mlp *m, int batch, const float *x, const float *r)
{
    float y[4];
    nncw_mlp_forward(m, batch, x, y);
    double l = 0;
    for (int b = 0; b < batch; b++)
        l += (double)y[b] * r[b];
    return l;
}

START_TEST(test_mlp_gradients_match_finite_differences)
{
    for (int sig = 0; sig < 2; sig++) {
        struct nncw_rng rng;
        nncw_rng_seed(&rng, 5);
        struct nncw_mlp m;
        nncwt_assert_status(nncw_mlp_init(&m, 3, 5, sig, &rng, 4), NNCW_OK);
        /* a last layer of the hidden layers' size, so the output depends visibly on it */
        for (int i = 0; i < 5; i++)
            m.w[2][i] = 0.5f * (float)(i - 2);
        float x[12], r[4] = {0.3f, -1.0f, 0.7f, 0.2f}, dx[12];
        for (int i = 0; i < 12; i++)
            x[i] = nncw_rng_uniform(&rng) * 2 - 1;
        float y[4];
        nncw_mlp_forward(&m, 4, x, y);
        nncw_mlp_zero_grad(&m);
        nncw_mlp_backward(&m, 4, r, dx);
        const double eps = 1e-3;
        for (int l = 0; l < NNCW_MLP_LAYERS; l++)
            for (int i = 0; i < m.dims[l + 1] * m.dims[l]; i += 3) {
                float keep = m.w[l][i];
                m.w[l][i] = keep + (float)eps;
                double up = mlp_loss(&m, 4, x, r);
                m.w[l][i] = keep - (float)eps;
                double down = mlp_loss(&m, 4, x, r);
                m.w[l][i] = keep;
                double num = (up - down) / (2 * eps);
                ck_assert_msg(fabs(num - m.gw[l][i]) <= 2e-3 + 2e-2 * fabs(num),
                              "layer %d w[%d]: numeric %g analytic %g", l, i, num, m.gw[l][i]);
            }
        for (int i = 0; i < 12; i++) {
            float keep = x[i];
            x[i] = keep + (float)eps;
            double up = mlp_loss(&m, 4, x, r);
            x[i] = keep - (float)eps;
            double down = mlp_loss(&m, 4, x, r);
            x[i] = keep;
            double num = (up - down) / (2 * eps);
            ck_assert_msg(fabs(num - dx[i]) <= 2e-3 + 2e-2 * fabs(num), "dx[%d]: %g vs %g", i, num,
                          dx[i]);
        }
        nncw_mlp_fini(&m);
    }
}
END_TEST

/* ---- replay buffer ---- */

static void add(struct nncw_autoq_replay *r, int n, float base, double reward)
{
    float states[5 * 2], actions[4], rewards[4];
    for (int i = 0; i <= n; i++) {
        states[2 * i] = base + (float)i;
        states[2 * i + 1] = 0;
    }
    for (int i = 0; i < n; i++) {
        actions[i] = 0.1f * (float)i;
        rewards[i] = (float)reward / (float)n;
    }
    nncw_autoq_replay_add_episode(r, n, states, actions, rewards, reward);
}

START_TEST(test_full_replay_buffer_keeps_the_best_episodes)
{
    struct nncw_autoq_replay r;
    nncwt_assert_status(nncw_autoq_replay_init(&r, 2, 10), NNCW_OK);
    add(&r, 4, 0, 1.0);
    add(&r, 4, 100, 5.0);
    ck_assert_int_eq(r.count, 8);
    /* transitions link state to next state; the last of an episode is terminal */
    ck_assert_float_eq(r.t[1].state[0], 1.0f);
    ck_assert_float_eq(r.t[1].next[0], 2.0f);
    ck_assert(!r.t[2].terminal && r.t[3].terminal);
    add(&r, 4, 200, 3.0); /* does not fit: the best 30 % of 2 episodes (one) stays */
    ck_assert_int_eq(r.count, 8);
    for (int i = 0; i < 4; i++) {
        ck_assert_double_eq(r.t[i].episode_reward, 5.0);
        ck_assert_float_eq(r.t[i].state[0], 100.0f + (float)i);
        ck_assert_double_eq(r.t[4 + i].episode_reward, 3.0);
    }
    struct nncw_rng rng;
    nncw_rng_seed(&rng, 1);
    int idx[32];
    nncw_autoq_replay_sample(&r, &rng, 32, idx);
    for (int i = 0; i < 32; i++)
        ck_assert(idx[i] >= 0 && idx[i] < 8);
    nncw_autoq_replay_fini(&r);
}
END_TEST

/* ---- action to bits, ratio ---- */

static unsigned allow(int a, int b, int c)
{
    return (a ? 1u << a : 0) | (b ? 1u << b : 0) | (c ? 1u << c : 0);
}

START_TEST(test_action_maps_to_bits_with_nncf_thresholds)
{
    const int cand[] = {2, 4, 8};
    unsigned all = allow(2, 4, 8);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.0f, cand, 3, all), 2);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.125f, cand, 3, all), 2);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.126f, cand, 3, all), 4);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.5f, cand, 3, all), 4);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.51f, cand, 3, all), 8);
    ck_assert_int_eq(nncw_autoq_action_to_bits(1.0f, cand, 3, all), 8);
    /* snapped to what the quantizer allows: nearest, the larger on a tie */
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.0f, cand, 3, allow(4, 8, 0)), 4);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.3f, cand, 3, allow(2, 8, 0)), 2);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.3f, cand, 3, allow(3, 5, 0)), 5);
    ck_assert_int_eq(nncw_autoq_action_to_bits(0.3f, cand, 3, 0), 0);
}
END_TEST

START_TEST(test_ratio_post_processing_lowers_from_the_last_weight)
{
    const int cand[] = {2, 4, 8};
    struct nncw_autoq_step steps[4] = {0};
    const int64_t numel[] = {100, 100, 0, 200}; /* step 2 is an activation */
    for (int i = 0; i < 4; i++) {
        steps[i].allowed = allow(2, 4, 8);
        steps[i].weight_numel = numel[i];
    }
    int bits[4] = {8, 8, 8, 8};
    ck_assert_double_eq_tol(nncw_autoq_size_ratio(4, steps, bits), 0.25, 1e-12);
    double ratio;
    nncw_autoq_meet_ratio(4, steps, cand, 3, 0.15, bits, &ratio);
    /* 3 -> 4 bits (0.1875), 1 -> 4 (0.15625), 0 -> 4 (0.125 <= 0.15) */
    ck_assert_int_eq(bits[0], 4);
    ck_assert_int_eq(bits[1], 4);
    ck_assert_int_eq(bits[2], 8);
    ck_assert_int_eq(bits[3], 4);
    ck_assert_double_eq_tol(ratio, 0.125, 1e-12);
    /* unreachable: everything at its lowest */
    nncw_autoq_meet_ratio(4, steps, cand, 3, 0.01, bits, &ratio);
    ck_assert_int_eq(bits[0], 2);
    ck_assert_int_eq(bits[3], 2);
    ck_assert_double_eq_tol(ratio, 2.0 / 32.0, 1e-12);
    /* a step that allows only 8 bits keeps them */
    int b2[4] = {8, 8, 8, 8};
    steps[3].allowed = allow(8, 0, 0);
    nncw_autoq_meet_ratio(4, steps, cand, 3, 0.15, b2, &ratio);
    ck_assert_int_eq(b2[3], 8);
    ck_assert(ratio > 0.15); /* 2 x 100 x 2 + 200 x 8 over 400 x 32 */
}
END_TEST

/* ---- the search on a synthetic problem ---- */

#define TOY_N 8

/* per-step sensitivity grows with the kernel feature: accuracy drops by sens x (8 - bits)^2 */
static const float toy_sens[TOY_N] = {0.02f, 0.9f, 0.05f, 1.2f, 0.01f, 0.7f, 0.03f, 1.0f};

static enum nncw_status toy_eval(void *user, const int *bits, double *acc)
{
    int *calls = user;
    (*calls)++;
    double a = 90;
    for (int i = 0; i < TOY_N; i++)
        a -= toy_sens[i] * (8 - bits[i]) * (8 - bits[i]);
    *acc = a;
    return NNCW_OK;
}

static void toy_steps(struct nncw_autoq_step *steps)
{
    for (int i = 0; i < TOY_N; i++) {
        memset(&steps[i], 0, sizeof steps[i]);
        steps[i].features[NNCW_AUTOQ_F_INDEX] = (float)i;
        steps[i].features[NNCW_AUTOQ_F_KERNEL] = toy_sens[i];
        steps[i].features[NNCW_AUTOQ_F_IS_WEIGHT] = 1;
        steps[i].allowed = allow(2, 4, 8);
        steps[i].weight_numel = 1000;
    }
}

static struct nncw_autoq_options toy_options(int episodes)
{
    struct nncw_autoq_options o = nncw_autoq_defaults();
    o.episodes = episodes;
    o.warmup = 10;
    o.hidden = 32;
    o.compression_ratio = 5.0 / 32.0; /* 5 bits on average */
    o.seed = 7;
    return o;
}

START_TEST(test_same_seed_same_policies)
{
    struct nncw_autoq_step steps[TOY_N];
    toy_steps(steps);
    struct nncw_autoq_options o = toy_options(14);
    double rewards[2][14];
    int best[2][TOY_N], calls = 0;
    for (int run = 0; run < 2; run++) {
        struct nncw_autoq *q;
        nncwt_assert_status(nncw_autoq_new(TOY_N, steps, &o, toy_eval, &calls, &q), NNCW_OK);
        struct nncw_autoq_episode e;
        for (int k = 0; !nncw_autoq_is_done(q); k++) {
            nncwt_assert_status(nncw_autoq_run_episode(q, &e), NNCW_OK);
            ck_assert_int_eq(e.episode, k);
            ck_assert(e.ratio <= o.compression_ratio + 1e-12);
            rewards[run][k] = e.reward;
        }
        nncwt_assert_status(nncw_autoq_run_episode(q, &e), NNCW_ERR_INVALID_ARG);
        memcpy(best[run], nncw_autoq_get_best(q, NULL), sizeof best[run]);
        nncw_autoq_free(q);
    }
    for (int k = 0; k < 14; k++)
        ck_assert_double_eq(rewards[0][k], rewards[1][k]);
    for (int i = 0; i < TOY_N; i++)
        ck_assert_int_eq(best[0][i], best[1][i]);
    /* 14 episodes and one reference evaluation per run */
    ck_assert_int_eq(calls, 2 * 15);
    /* another seed explores differently */
    o.seed = 8;
    struct nncw_autoq *q;
    nncwt_assert_status(nncw_autoq_new(TOY_N, steps, &o, toy_eval, &calls, &q), NNCW_OK);
    struct nncw_autoq_episode e;
    nncwt_assert_status(nncw_autoq_run_episode(q, &e), NNCW_OK);
    ck_assert(e.reward != rewards[0][0]);
    nncw_autoq_free(q);
}
END_TEST

START_TEST(test_search_beats_random_policies_of_the_same_ratio)
{
    struct nncw_autoq_step steps[TOY_N];
    toy_steps(steps);
    struct nncw_autoq_options o = toy_options(30);
    int calls = 0;
    struct nncw_autoq *q;
    nncwt_assert_status(nncw_autoq_new(TOY_N, steps, &o, toy_eval, &calls, &q), NNCW_OK);
    while (!nncw_autoq_is_done(q))
        nncwt_assert_status(nncw_autoq_run_episode(q, NULL), NNCW_OK);
    struct nncw_autoq_episode best;
    const int *bits = nncw_autoq_get_best(q, &best);
    ck_assert_ptr_nonnull(bits);
    ck_assert(nncw_autoq_size_ratio(TOY_N, steps, bits) <= o.compression_ratio + 1e-12);
    /* 5 random policies through the same post-processing */
    struct nncw_rng rng;
    nncw_rng_seed(&rng, 99);
    const int cand[] = {2, 4, 8};
    double mean = 0;
    for (int k = 0; k < 5; k++) {
        int rb[TOY_N];
        for (int i = 0; i < TOY_N; i++)
            rb[i] = nncw_autoq_action_to_bits(nncw_rng_uniform(&rng), cand, 3, steps[i].allowed);
        double ratio, acc;
        nncw_autoq_meet_ratio(TOY_N, steps, cand, 3, o.compression_ratio, rb, &ratio);
        toy_eval(&calls, rb, &acc);
        mean += acc / 5;
    }
    ck_assert_msg(best.accuracy > mean, "best %g, random mean %g", best.accuracy, mean);
    nncw_autoq_free(q);
}
END_TEST

START_TEST(test_bad_options_name_the_culprit)
{
    struct nncw_autoq_step steps[TOY_N];
    toy_steps(steps);
    struct nncw_autoq *q;
    int calls = 0;
    struct nncw_autoq_options o = toy_options(3);
    o.bits[1] = 2;
    nncwt_assert_status(nncw_autoq_new(TOY_N, steps, &o, toy_eval, &calls, &q),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "bits[1]"));
    o = toy_options(3);
    o.compression_ratio = 1.5;
    nncwt_assert_status(nncw_autoq_new(TOY_N, steps, &o, toy_eval, &calls, &q),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "compression_ratio"));
    o = toy_options(3);
    steps[5].allowed = allow(3, 0, 0);
    nncwt_assert_status(nncw_autoq_new(TOY_N, steps, &o, toy_eval, &calls, &q),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "step 5"));
    nncwt_assert_status(nncw_autoq_new(0, steps, &o, toy_eval, &calls, &q), NNCW_ERR_INVALID_ARG);
}
END_TEST

/* ---- on a quantized model ---- */

START_TEST(test_search_on_a_quantized_model_and_apply)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(64);
    struct nncw_config *cfg =
        nncwt_cnn_config("\"target_device\": \"VPU\", ",
                         "{\"algorithm\": \"quantization\", \"initializer\": {\"range\": "
                         "{\"num_init_samples\": 16}, \"batchnorm_adaptation\": "
                         "{\"num_bn_adaptation_samples\": 0}}}");
    struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 1};
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, &init, &c), NNCW_OK);
    struct nncw_autoq_options o = nncw_autoq_defaults();
    o.episodes = 3;
    o.warmup = 2;
    o.hidden = 16;
    o.compression_ratio = 0.2;
    struct nncw_autoq *q;
    nncwt_assert_status(nncw_autoq_new_for_compression(g, c, ds, 0.5, 16, &o, &q), NNCW_OK);
    int n = nncw_autoq_count_steps(q);
    ck_assert_int_eq(n, nncw_compression_count_quantizers(c));
    struct nncw_quantizer_info qi;
    nncwt_assert_status(nncw_compression_get_quantizer(c, 0, &qi), NNCW_OK);
    ck_assert_str_eq(nncw_autoq_get_step_name(q, 0), qi.id);
    struct nncw_autoq_episode e;
    while (!nncw_autoq_is_done(q)) {
        nncwt_assert_status(nncw_autoq_run_episode(q, &e), NNCW_OK);
        ck_assert(e.ratio <= 0.2 + 1e-12);
        ck_assert(e.accuracy >= 0 && e.accuracy <= 100);
    }
    int bits[64];
    memcpy(bits, nncw_autoq_get_best(q, NULL), (size_t)n * sizeof(int));
    nncwt_assert_status(nncw_autoq_apply(q, bits), NNCW_OK);
    for (int i = 0; i < n; i++) {
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &qi), NNCW_OK);
        ck_assert_int_eq(qi.bits, bits[i]);
    }
    /* the graph was rebuilt: evaluating through the old search is refused */
    ck_assert(nncw_autoq_is_done(q));
    nncw_autoq_free(q);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

/* What the search scores is what applying gives: ResNet-20 on VPU has unified-scale groups
 * (the inputs of the residual adds) and 8-bit activations whose 4-bit alternative exists only in
 * the symmetric mode. The policy keeps each group at one width, the modes are settled before the
 * search, and the applied model computes exactly what the search evaluated. */
START_TEST(test_applied_policy_is_the_scored_model)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("resnet20");
    zo.in_c = 1, zo.in_h = 12, zo.in_w = 12;
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("resnet20", &zo, &g), NNCW_OK);
    struct nncw_synthetic_opts so = {.count = 32,
                                     .channels = 1,
                                     .height = 12,
                                     .width = 12,
                                     .num_classes = 10,
                                     .seed = 3,
                                     .sample_seed = 1};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    struct nncw_config *cfg;
    nncwt_assert_status(
        nncw_config_parse("{\"input_info\": {\"sample_size\": [1, 1, 12, 12]}, "
                          "\"target_device\": \"VPU\", \"compression\": {\"algorithm\": "
                          "\"quantization\", \"initializer\": {\"range\": {\"num_init_samples\": "
                          "16}, \"batchnorm_adaptation\": {\"num_bn_adaptation_samples\": 0}}}}",
                          "autoq.json", &cfg),
        NNCW_OK);
    struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 1};
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, &init, &c), NNCW_OK);
    struct nncw_autoq_options o = nncw_autoq_defaults();
    o.episodes = 1; /* the last policy evaluated is the best one */
    o.warmup = 1;
    o.hidden = 8;
    o.seed = 5;
    struct nncw_autoq *q;
    nncwt_assert_status(nncw_autoq_new_for_compression(g, c, ds, 1.0, 16, &o, &q), NNCW_OK);
    int n = nncw_autoq_count_steps(q);
    ck_assert_int_le(n, 64);
    struct nncw_autoq_episode e;
    nncwt_assert_status(nncw_autoq_run_episode(q, &e), NNCW_OK);
    int bits[64];
    memcpy(bits, nncw_autoq_get_best(q, NULL), (size_t)n * sizeof(int));
    /* the graph still holds the scored policy's levels */
    float acc_search, loss_search, acc_applied, loss_applied;
    nncwt_assert_status(nncw_evaluate(g, ds, 16, &acc_search, &loss_search), NNCW_OK);
    ck_assert_msg(fabs(100.0 * acc_search - e.accuracy) < 1e-9, "%g vs %g", 100.0 * acc_search,
                  e.accuracy);
    /* unified groups share one width, and a 4-bit activation is there */
    int groups = 0, four_bit_acts = 0;
    for (int i = 0; i < n; i++) {
        struct nncw_quantizer_info a;
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &a), NNCW_OK);
        four_bit_acts += !a.is_weight && bits[i] == 4;
        for (int j = 0; j < i; j++) {
            struct nncw_quantizer_info b;
            nncwt_assert_status(nncw_compression_get_quantizer(c, j, &b), NNCW_OK);
            if (a.unified_group >= 0 && a.unified_group == b.unified_group) {
                groups++;
                ck_assert_msg(bits[i] == bits[j], "%s: %d bits, %s: %d", a.id, bits[i], b.id,
                              bits[j]);
            }
        }
    }
    ck_assert_int_gt(groups, 0);
    ck_assert_int_gt(four_bit_acts, 0);
    nncwt_assert_status(nncw_autoq_apply(q, bits), NNCW_OK);
    for (int i = 0; i < n; i++) {
        struct nncw_quantizer_info a;
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &a), NNCW_OK);
        ck_assert_msg(a.bits == bits[i], "%s: applied %d, policy %d", a.id, a.bits, bits[i]);
    }
    nncwt_assert_status(nncw_evaluate(g, ds, 16, &acc_applied, &loss_applied), NNCW_OK);
    ck_assert_msg(acc_applied == acc_search && fabsf(loss_applied - loss_search) < 1e-5f,
                  "applied %g (loss %g), scored %g (loss %g)", acc_applied, loss_applied,
                  acc_search, loss_search);
    nncw_autoq_free(q);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_subset_count_is_not_fooled_by_float_ratios)
{
    ck_assert_int_eq(nncw_autoq_subset_count(10000, (double)0.1f), 1000); /* 1000.0000149 */
    ck_assert_int_eq(nncw_autoq_subset_count(10000, (double)0.2f), 2000);
    ck_assert_int_eq(nncw_autoq_subset_count(10, 0.25), 3); /* 2.5: the first share, rounded up */
    ck_assert_int_eq(nncw_autoq_subset_count(10, 1e-6), 1);
    ck_assert_int_eq(nncw_autoq_subset_count(7, 1.0), 7);
    ck_assert_int_eq(nncw_autoq_subset_count(60000000, 1.0), 60000000);
}
END_TEST

static Suite *autoq_suite(void)
{
    Suite *s = suite_create("autoq");
    TCase *tc = tcase_create("agent");
    tcase_add_test(tc, test_mlp_gradients_match_finite_differences);
    tcase_add_test(tc, test_full_replay_buffer_keeps_the_best_episodes);
    suite_add_tcase(s, tc);
    tc = tcase_create("policy");
    tcase_add_test(tc, test_action_maps_to_bits_with_nncf_thresholds);
    tcase_add_test(tc, test_ratio_post_processing_lowers_from_the_last_weight);
    tcase_add_test(tc, test_subset_count_is_not_fooled_by_float_ratios);
    suite_add_tcase(s, tc);
    tc = tcase_create("search");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_same_seed_same_policies);
    tcase_add_test(tc, test_search_beats_random_policies_of_the_same_ratio);
    tcase_add_test(tc, test_bad_options_name_the_culprit);
    tcase_add_test(tc, test_search_on_a_quantized_model_and_apply);
    tcase_add_test(tc, test_applied_policy_is_the_scored_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(autoq_suite());
}
