/* The RBSparsify op: eval and frozen masks, the sampled training mask replayed from the
 * executor's seeded generator, the straight-through gradients, finite differences for the
 * weight, and shape/dtype errors. */
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "graph/exec.h"
#include "nncwt.h"

static void attrs_frozen(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "frozen", 1);
}

static void attrs_bad_eps(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "eps", 0.7f);
}

static float sigmoid(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

/* the z = s + logit(u) the op draws with an executor seeded by seed (u in [1e-6, 1 - 1e-6]) */
static void replay_z(const float *s, int64_t n, uint64_t seed, float *z)
{
    struct nncw_rng r;
    nncw_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        float u = nncw_rng_uniform(&r);
        u = u < 1e-6f ? 1e-6f : u > 1.0f - 1e-6f ? 1.0f - 1e-6f : u;
        z[i] = s[i] + logf(u) - logf(1.0f - u);
    }
}

START_TEST(test_eval_mask_keeps_positive_logits)
{
    struct nncw_tensor w, s, y;
    nncwt_tensor_from(&w, 1, (int64_t[]){5}, (float[]){1, -2, 3, -4, 5});
    nncwt_tensor_from(&s, 1, (int64_t[]){5}, (float[]){4.6f, -0.1f, 0.2f, -7, 0});
    const struct nncw_tensor *in[] = {&w, &s};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 2, in, NULL, false, &y), NNCW_OK);
    const float want[] = {1, 0, 3, 0, 0}; /* sigmoid(0) = 1/2 is not > 1/2 */
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(nncw_tensor_f32(&y)[i], want[i]);
    nncw_tensor_fini(&y);
    /* frozen in training: the eval mask, no sampling */
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 2, in, attrs_frozen, true, &y), NNCW_OK);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(nncw_tensor_f32(&y)[i], want[i]);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&s);
}
END_TEST

START_TEST(test_frozen_mask_input_wins_over_the_logits)
{
    struct nncw_tensor w, s, m, y;
    nncwt_tensor_from(&w, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    nncwt_tensor_from(&s, 1, (int64_t[]){4}, (float[]){5, 5, -5, -5});
    nncwt_tensor_from(&m, 1, (int64_t[]){4}, (float[]){0, 1, 1, 0});
    const struct nncw_tensor *in[] = {&w, &s, &m};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 3, in, attrs_frozen, true, &y), NNCW_OK);
    const float want[] = {0, 2, 3, 0};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(nncw_tensor_f32(&y)[i], want[i]);
    nncw_tensor_fini(&y);
    /* not frozen: the mask input is ignored (eval mask) */
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 3, in, NULL, false, &y), NNCW_OK);
    ck_assert_float_eq(nncw_tensor_f32(&y)[0], 1.0f);
    ck_assert_float_eq(nncw_tensor_f32(&y)[2], 0.0f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&m);
}
END_TEST

START_TEST(test_training_mask_is_a_bernoulli_sample_of_sigmoid)
{
    const int64_t n = 20000;
    struct nncw_tensor w, s, y;
    nncw_tensor_init(&w, NNCW_DTYPE_F32, 1, &n);
    nncw_tensor_init(&s, NNCW_DTYPE_F32, 1, &n);
    nncw_tensor_fill_f32(&w, 1.0f);
    const float logits[] = {logf(0.99f / 0.01f), 0.0f, -1.0f};
    for (int k = 0; k < 3; k++) {
        nncw_tensor_fill_f32(&s, logits[k]);
        const struct nncw_tensor *in[] = {&w, &s};
        nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 2, in, NULL, true, &y), NNCW_OK);
        double kept = 0;
        for (int64_t i = 0; i < n; i++)
            kept += nncw_tensor_f32(&y)[i];
        /* 20000 draws: the binomial standard deviation is below 0.0036 */
        ck_assert_double_eq_tol(kept / n, sigmoid(logits[k]), 0.02);
        nncw_tensor_fini(&y);
    }
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&s);
}
END_TEST

/* w, s as trainable parameters -> RBSparsify -> output, in training mode with seed 11 */
struct rb_net {
    struct nncw_graph *g;
    struct nncw_exec *ex;
    int w, s;
};

static void rb_net(struct rb_net *b, const struct nncw_tensor *w, const struct nncw_tensor *s)
{
    nncwt_assert_status(nncw_graph_new(&b->g), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_param(b->g, "w", w, true, &b->w), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_param(b->g, "s", s, true, &b->s), NNCW_OK);
    int y;
    struct nncw_node *n;
    nncwt_assert_status(
        nncw_graph_add_node(b->g, NNCW_OP_RB_SPARSIFY, "rb", 2, (int[]){b->w, b->s}, 1, &y, &n),
        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(b->g, y), NNCW_OK);
    struct nncw_exec_options o = {.batch = 1, .training = true, .backward = true, .seed = 11};
    nncwt_assert_status(nncw_exec_new(b->g, &o, &b->ex), NNCW_OK);
}

START_TEST(test_training_forward_and_backward_replay_the_generator)
{
    const int64_t n = 64;
    struct nncw_tensor w, s, g;
    nncwt_tensor_rand(&w, 1, &n, -1, 1, 3);
    nncwt_tensor_rand(&s, 1, &n, -3, 3, 4);
    nncwt_tensor_rand(&g, 1, &n, -1, 1, 5);
    struct rb_net b;
    rb_net(&b, &w, &s);
    nncwt_assert_status(nncw_exec_forward(b.ex), NNCW_OK);
    nncw_graph_zero_grads(b.g);
    nncwt_assert_status(nncw_exec_backward(b.ex, (const struct nncw_tensor *[]){&g}), NNCW_OK);
    float z[64];
    replay_z(nncw_tensor_f32(&s), n, 11, z);
    const float *y = nncw_tensor_f32(nncw_exec_get_output(b.ex, 0));
    const float *gw = nncw_tensor_f32(nncw_graph_get_value_grad(b.g, b.w));
    const float *gs = nncw_tensor_f32(nncw_graph_get_value_grad(b.g, b.s));
    const float *wv = nncw_tensor_f32(&w), *gv = nncw_tensor_f32(&g);
    int kept = 0;
    for (int64_t i = 0; i < n; i++) {
        float mask = z[i] > 0.0f;
        kept += mask > 0;
        ck_assert_float_eq(y[i], wv[i] * mask);
        ck_assert_float_eq_tol(gw[i], gv[i] * mask, 1e-7);
        float p = sigmoid(z[i]);
        ck_assert_float_eq_tol(gs[i], gv[i] * wv[i] * p * (1.0f - p), 1e-6);
    }
    /* a mix of kept and dropped weights was tested */
    ck_assert_int_gt(kept, 5);
    ck_assert_int_lt(kept, n - 5);
    /* the next forward draws a new mask */
    nncwt_assert_status(nncw_exec_forward(b.ex), NNCW_OK);
    int same = 0;
    for (int64_t i = 0; i < n; i++)
        same += (nncw_tensor_f32(nncw_exec_get_output(b.ex, 0))[i] != 0) == (z[i] > 0);
    ck_assert_int_lt(same, n);
    nncw_exec_free(b.ex);
    nncw_graph_free(b.g);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&g);
}
END_TEST

START_TEST(test_weight_gradient_matches_finite_differences)
{
    struct nncw_tensor w, s, m;
    nncwt_tensor_rand(&w, 2, (int64_t[]){4, 6}, -2, 2, 8);
    nncwt_tensor_rand(&s, 2, (int64_t[]){4, 6}, -3, 3, 9);
    nncwt_tensor_rand(&m, 2, (int64_t[]){4, 6}, 0, 1, 10);
    for (int64_t i = 0; i < 24; i++)
        nncw_tensor_f32(&m)[i] = nncw_tensor_f32(&m)[i] > 0.5f;
    /* eval: the mask is fixed by s; only w is perturbed */
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_RB_SPARSIFY, .n_in = 2, .in = {&w, &s}, .fixed = {false, true}};
    nncwt_check_grad(&spec);
    /* frozen with a mask: same, in training mode */
    struct nncwt_gradcheck frozen = {.op = NNCW_OP_RB_SPARSIFY,
                                     .n_in = 3,
                                     .in = {&w, &s, &m},
                                     .fixed = {false, true, true},
                                     .attrs = attrs_frozen,
                                     .training = true};
    nncwt_check_grad(&frozen);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&m);
}
END_TEST

START_TEST(test_eval_and_frozen_logit_gradients)
{
    /* eval: the straight-through estimator through sigmoid(s); frozen: none */
    struct nncw_tensor w, s, g;
    nncwt_tensor_from(&w, 1, (int64_t[]){3}, (float[]){2, -1, 0.5f});
    nncwt_tensor_from(&s, 1, (int64_t[]){3}, (float[]){0.3f, -2, 1});
    nncwt_tensor_from(&g, 1, (int64_t[]){3}, (float[]){1, 3, -2});
    struct nncw_graph *gr;
    int wi, si, y;
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_new(&gr), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_param(gr, "w", &w, true, &wi), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_param(gr, "s", &s, true, &si), NNCW_OK);
    nncwt_assert_status(
        nncw_graph_add_node(gr, NNCW_OP_RB_SPARSIFY, "rb", 2, (int[]){wi, si}, 1, &y, &n), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(gr, y), NNCW_OK);
    for (int frozen = 0; frozen < 2; frozen++) {
        nncwt_assert_status(nncw_node_set_attr_int(n, "frozen", frozen), NNCW_OK);
        struct nncw_exec_options o = {.batch = 1, .backward = true};
        struct nncw_exec *ex;
        nncwt_assert_status(nncw_exec_new(gr, &o, &ex), NNCW_OK);
        nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
        nncw_graph_zero_grads(gr);
        nncwt_assert_status(nncw_exec_backward(ex, (const struct nncw_tensor *[]){&g}), NNCW_OK);
        const float *gs = nncw_tensor_f32(nncw_graph_get_value_grad(gr, si));
        const float *gw = nncw_tensor_f32(nncw_graph_get_value_grad(gr, wi));
        for (int i = 0; i < 3; i++) {
            float sv = nncw_tensor_f32(&s)[i], p = sigmoid(sv);
            float want =
                frozen ? 0.0f : nncw_tensor_f32(&g)[i] * nncw_tensor_f32(&w)[i] * p * (1 - p);
            ck_assert_float_eq_tol(gs[i], want, 1e-6);
            ck_assert_float_eq(gw[i], sv > 0 ? nncw_tensor_f32(&g)[i] : 0.0f);
        }
        nncw_exec_free(ex);
    }
    nncw_graph_free(gr);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&g);
}
END_TEST

START_TEST(test_bad_inputs_name_the_node)
{
    struct nncw_tensor w, s, si, y;
    nncwt_tensor_rand(&w, 1, (int64_t[]){4}, -1, 1, 1);
    nncwt_tensor_rand(&s, 1, (int64_t[]){5}, -1, 1, 2);
    const struct nncw_tensor *in[] = {&w, &s};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 2, in, NULL, false, &y), NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "RBSparsify 'op': logits is [5]"));
    nncwt_assert_status(nncw_tensor_init(&si, NNCW_DTYPE_I32, 1, (int64_t[]){4}), NNCW_OK);
    const struct nncw_tensor *in2[] = {&w, &si};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 2, in2, NULL, false, &y), NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "logits is int32"));
    const struct nncw_tensor *in3[] = {&w, &w};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RB_SPARSIFY, 2, in3, attrs_bad_eps, true, &y),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "eps 0.7"));
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&si);
}
END_TEST

static Suite *sparsity_rb_op_suite(void)
{
    Suite *s = suite_create("sparsity_rb_op");
    TCase *tc = tcase_create("forward");
    tcase_add_test(tc, test_eval_mask_keeps_positive_logits);
    tcase_add_test(tc, test_frozen_mask_input_wins_over_the_logits);
    tcase_add_test(tc, test_training_mask_is_a_bernoulli_sample_of_sigmoid);
    suite_add_tcase(s, tc);
    tc = tcase_create("backward");
    tcase_add_test(tc, test_training_forward_and_backward_replay_the_generator);
    tcase_add_test(tc, test_weight_gradient_matches_finite_differences);
    tcase_add_test(tc, test_eval_and_frozen_logit_gradients);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_bad_inputs_name_the_node);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(sparsity_rb_op_suite());
}
