#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops/norm.h"
#include "ops_net.h"

/* X plus per-channel scale, B, running mean and running var */
struct bn_inputs {
    struct nncw_tensor x, scale, bias, mean, var;
};

static void bn_inputs_rand(struct bn_inputs *b, int ndim, const int64_t *shape, uint64_t seed)
{
    int64_t c[] = {shape[1]};
    nncwt_tensor_rand(&b->x, ndim, shape, -2, 2, seed);
    nncwt_tensor_rand(&b->scale, 1, c, 0.5f, 1.5f, seed + 1);
    nncwt_tensor_rand(&b->bias, 1, c, -1, 1, seed + 2);
    nncwt_tensor_rand(&b->mean, 1, c, -0.5f, 0.5f, seed + 3);
    nncwt_tensor_rand(&b->var, 1, c, 0.5f, 1.5f, seed + 4);
}

static void bn_inputs_fini(struct bn_inputs *b)
{
    nncw_tensor_fini(&b->x);
    nncw_tensor_fini(&b->scale);
    nncw_tensor_fini(&b->bias);
    nncw_tensor_fini(&b->mean);
    nncw_tensor_fini(&b->var);
}

static void bn_run(const struct bn_inputs *b, bool training, nncwt_attr_fn attrs,
                   struct nncw_tensor *y)
{
    const struct nncw_tensor *in[] = {&b->x, &b->scale, &b->bias, &b->mean, &b->var};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_BATCHNORM, 5, in, attrs, training, y), NNCW_OK);
}

/* ---- forward ---- */

START_TEST(test_eval_uses_running_statistics)
{
    struct bn_inputs b;
    nncwt_tensor_from(&b.x, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    nncwt_tensor_from(&b.scale, 1, (int64_t[]){2}, (float[]){2, 1});
    nncwt_tensor_from(&b.bias, 1, (int64_t[]){2}, (float[]){0, 10});
    nncwt_tensor_from(&b.mean, 1, (int64_t[]){2}, (float[]){1, 0});
    nncwt_tensor_from(&b.var, 1, (int64_t[]){2}, (float[]){4, 1});
    struct nncw_tensor y, want;
    bn_run(&b, false, NULL, &y);
    /* channel 0: (x - 1) / 2 * 2; channel 1: x / 1 + 10 (eps 1e-5 shifts by ~1e-5) */
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 2}, (float[]){0, 12, 2, 14});
    nncwt_assert_tensor_near(&y, &want, 1e-4, 1e-5);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    bn_inputs_fini(&b);
}
END_TEST

static void attrs_eps_tiny(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "epsilon", 1e-12f);
}

START_TEST(test_training_uses_batch_statistics)
{
    struct bn_inputs b;
    /* channel 0: {1, 3}, mean 2, biased var 1; channel 1: {2, 6}, mean 4, biased var 4 */
    nncwt_tensor_from(&b.x, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 6});
    nncwt_tensor_from(&b.scale, 1, (int64_t[]){2}, (float[]){1, 3});
    nncwt_tensor_from(&b.bias, 1, (int64_t[]){2}, (float[]){0, 1});
    nncwt_tensor_from(&b.mean, 1, (int64_t[]){2}, (float[]){100, 100}); /* ignored */
    nncwt_tensor_from(&b.var, 1, (int64_t[]){2}, (float[]){100, 100});
    struct nncw_tensor y, want;
    bn_run(&b, true, attrs_eps_tiny, &y);
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 2}, (float[]){-1, -2, 1, 4});
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-5);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    bn_inputs_fini(&b);
}
END_TEST

/* the op on [N, C, H, W] in training mode against the reference kernels */
START_TEST(test_training_nchw_matches_ref)
{
    struct bn_inputs b;
    int64_t shape[] = {3, 4, 5, 3};
    bn_inputs_rand(&b, 4, shape, 21);
    struct nncw_tensor y, want;
    bn_run(&b, true, NULL, &y);
    nncwt_assert_status(nncw_tensor_init(&want, NNCW_DTYPE_F32, 4, shape), NNCW_OK);
    float mean[4], var[4], inv[4];
    nncw_kernel_batchnorm_stats_f32_ref(3, 4, 15, b.x.data, mean, var);
    for (int k = 0; k < 4; k++)
        inv[k] = 1.0f / sqrtf(var[k] + 1e-5f);
    nncw_kernel_batchnorm_f32_ref(3, 4, 15, b.x.data, mean, inv, b.scale.data, b.bias.data,
                                  want.data);
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-5);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    bn_inputs_fini(&b);
}
END_TEST

START_TEST(test_kernels_match_ref)
{
    static const int64_t dims[][3] = {{2, 3, 1}, {5, 2, 7}, {1, 3, 17}, {4, 1, 9}};
    for (int t = 0; t < 4; t++) {
        int64_t n = dims[t][0], c = dims[t][1], s = dims[t][2];
        struct nncw_tensor x, gy, gx1, gx2;
        int64_t shape[] = {n, c, s};
        nncwt_tensor_rand(&x, 3, shape, -3, 5, 31 + (uint64_t)t);
        nncwt_tensor_rand(&gy, 3, shape, -1, 1, 41 + (uint64_t)t);
        nncwt_tensor_rand(&gx1, 3, shape, -1, 1, 51 + (uint64_t)t); /* backward accumulates */
        nncwt_assert_status(nncw_tensor_init_copy(&gx2, &gx1), NNCW_OK);
        float m1[3], v1[3], m2[3], v2[3], inv[3], scale[3] = {0.5f, 2, -1}, bias[3] = {1, 0, -2};
        nncw_kernel_batchnorm_stats_f32(n, c, s, x.data, m1, v1);
        nncw_kernel_batchnorm_stats_f32_ref(n, c, s, x.data, m2, v2);
        for (int k = 0; k < c; k++) {
            ck_assert_float_eq_tol(m1[k], m2[k], 1e-5);
            ck_assert_float_eq_tol(v1[k], v2[k], 1e-5);
            inv[k] = 1.0f / sqrtf(v1[k] + 1e-5f);
        }
        float y1[256], y2[256];
        nncw_kernel_batchnorm_f32(n, c, s, x.data, m1, inv, scale, bias, y1);
        nncw_kernel_batchnorm_f32_ref(n, c, s, x.data, m1, inv, scale, bias, y2);
        for (int64_t i = 0; i < n * c * s; i++)
            ck_assert_float_eq_tol(y1[i], y2[i], 1e-5);
        for (int batch = 0; batch < 2; batch++) {
            float sg1[3], sgx1[3], sg2[3], sgx2[3];
            nncw_kernel_batchnorm_backward_f32(n, c, s, x.data, gy.data, m1, inv, scale, batch,
                                               gx1.data, sg1, sgx1);
            nncw_kernel_batchnorm_backward_f32_ref(n, c, s, x.data, gy.data, m1, inv, scale, batch,
                                                   gx2.data, sg2, sgx2);
            for (int k = 0; k < c; k++) {
                ck_assert_float_eq_tol(sg1[k], sg2[k], 1e-4);
                ck_assert_float_eq_tol(sgx1[k], sgx2[k], 1e-4);
            }
            nncwt_assert_tensor_near(&gx1, &gx2, 1e-4, 1e-4);
        }
        nncw_tensor_fini(&x);
        nncw_tensor_fini(&gy);
        nncw_tensor_fini(&gx1);
        nncw_tensor_fini(&gx2);
    }
}
END_TEST

/* ---- running statistics ---- */

static void attrs_momentum_half(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "momentum", 0.5f);
}

START_TEST(test_running_stats_update_like_pytorch)
{
    /* ONNX momentum 0.9 = PyTorch momentum 0.1: running = 0.9 running + 0.1 batch, with the
     * unbiased batch variance for the running variance */
    struct bn_inputs b;
    nncwt_tensor_from(&b.x, 3, (int64_t[]){2, 2, 2}, (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    nncwt_tensor_from(&b.scale, 1, (int64_t[]){2}, (float[]){1, 1});
    nncwt_tensor_from(&b.bias, 1, (int64_t[]){2}, (float[]){0, 0});
    nncwt_tensor_from(&b.mean, 1, (int64_t[]){2}, (float[]){0, 1});
    nncwt_tensor_from(&b.var, 1, (int64_t[]){2}, (float[]){1, 2});
    const struct nncw_tensor *in[] = {&b.x, &b.scale, &b.bias, &b.mean, &b.var};
    struct opnet net;
    opnet_build(&net, NNCW_OP_BATCHNORM, "Net/bn1", 5, in, OPNET_INPUT(0), 1, NULL);
    nncwt_assert_status(opnet_exec(&net, true, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&net), NNCW_OK);
    /* channel 0: {1, 2, 5, 6}: mean 3.5, sum of squares 17 -> unbiased var 17 / 3;
     * channel 1: {3, 4, 7, 8}: mean 5.5, same spread */
    const float *rm = nncw_tensor_f32(opnet_param(&net, 3)),
                *rv = nncw_tensor_f32(opnet_param(&net, 4));
    ck_assert_float_eq_tol(rm[0], 0.9f * 0 + 0.1f * 3.5f, 1e-6);
    ck_assert_float_eq_tol(rm[1], 0.9f * 1 + 0.1f * 5.5f, 1e-6);
    ck_assert_float_eq_tol(rv[0], 0.9f * 1 + 0.1f * (17.0f / 3), 1e-6);
    ck_assert_float_eq_tol(rv[1], 0.9f * 2 + 0.1f * (17.0f / 3), 1e-6);
    /* a second step moves them again from the updated values */
    nncwt_assert_status(opnet_forward(&net), NNCW_OK);
    ck_assert_float_eq_tol(rm[0], 0.9f * (0.35f) + 0.1f * 3.5f, 1e-6);
    opnet_free(&net);

    /* an explicit momentum; eval mode leaves the statistics alone */
    opnet_build(&net, NNCW_OP_BATCHNORM, "Net/bn2", 5, in, 0, 1, attrs_momentum_half);
    nncwt_assert_status(opnet_exec(&net, true, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&net), NNCW_OK);
    ck_assert_float_eq_tol(nncw_tensor_f32(opnet_param(&net, 3))[1], 0.5f * 1 + 0.5f * 5.5f, 1e-6);
    opnet_free(&net);
    opnet_build(&net, NNCW_OP_BATCHNORM, "Net/bn3", 5, in, 0, 1, NULL);
    nncwt_assert_status(opnet_exec(&net, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&net), NNCW_OK);
    ck_assert_float_eq(nncw_tensor_f32(opnet_param(&net, 3))[1], 1.0f);
    ck_assert_float_eq(nncw_tensor_f32(opnet_param(&net, 4))[1], 2.0f);
    opnet_free(&net);
    bn_inputs_fini(&b);
}
END_TEST

/* ---- gradients ---- */

static void check_bn_grad(int ndim, const int64_t *shape, bool training, bool stats_trainable,
                          uint64_t seed)
{
    struct bn_inputs b;
    bn_inputs_rand(&b, ndim, shape, seed);
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_BATCHNORM,
        .n_in = 5,
        .in = {&b.x, &b.scale, &b.bias, &b.mean, &b.var},
        .fixed = {false, false, false, !stats_trainable, !stats_trainable},
        .training = training,
        .eps = 1e-3,
        .atol = 2e-3,
        .rtol = 2e-2};
    nncwt_check_grad(&spec);
    bn_inputs_fini(&b);
}

START_TEST(test_training_grad)
{
    check_bn_grad(2, (int64_t[]){5, 3}, true, false, 1);
    check_bn_grad(4, (int64_t[]){2, 3, 3, 5}, true, false, 2);
    check_bn_grad(3, (int64_t[]){3, 1, 7}, true, false, 3);
}
END_TEST

START_TEST(test_eval_grad_including_statistics)
{
    check_bn_grad(2, (int64_t[]){5, 3}, false, true, 4);
    check_bn_grad(4, (int64_t[]){2, 3, 3, 5}, false, true, 5);
    check_bn_grad(5, (int64_t[]){1, 2, 3, 1, 3}, false, false, 6);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_channel_mismatch)
{
    struct bn_inputs b;
    bn_inputs_rand(&b, 4, (int64_t[]){2, 3, 4, 4}, 7);
    nncw_tensor_fini(&b.scale);
    nncwt_tensor_rand(&b.scale, 1, (int64_t[]){4}, 0, 1, 8);
    const struct nncw_tensor *in[] = {&b.x, &b.scale, &b.bias, &b.mean, &b.var};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_BATCHNORM, "Net/bn1", 5, in, OPNET_INPUT(0), NULL),
        NNCW_ERR_SHAPE);
    assert_error_mentions("batchnorm 'Net/bn1'", "scale", "[4]", "[2, 3, 4, 4]");
    bn_inputs_fini(&b);
}
END_TEST

START_TEST(test_rank_one_input)
{
    struct bn_inputs b;
    bn_inputs_rand(&b, 2, (int64_t[]){3, 3}, 7);
    nncw_tensor_fini(&b.x);
    nncwt_tensor_rand(&b.x, 1, (int64_t[]){3}, 0, 1, 8);
    const struct nncw_tensor *in[] = {&b.x, &b.scale, &b.bias, &b.mean, &b.var};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_BATCHNORM, "Net/bn0", 5, in, OPNET_INPUT(0), NULL),
        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/bn0", "[3]");
    bn_inputs_fini(&b);
}
END_TEST

START_TEST(test_training_needs_more_than_one_value)
{
    struct bn_inputs b;
    bn_inputs_rand(&b, 2, (int64_t[]){1, 3}, 9);
    const struct nncw_tensor *in[] = {&b.x, &b.scale, &b.bias, &b.mean, &b.var};
    struct opnet net;
    opnet_build(&net, NNCW_OP_BATCHNORM, "Net/bn9", 5, in, OPNET_INPUT(0), 1, NULL);
    nncwt_assert_status(opnet_exec(&net, true, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&net), NNCW_ERR_SHAPE);
    assert_error_mentions("Net/bn9", "[1, 3]");
    opnet_free(&net);
    bn_inputs_fini(&b);
}
END_TEST

static Suite *norm_suite(void)
{
    Suite *s = suite_create("ops_norm");
    TCase *tc = tcase_create("forward");
    tcase_add_test(tc, test_eval_uses_running_statistics);
    tcase_add_test(tc, test_training_uses_batch_statistics);
    tcase_add_test(tc, test_training_nchw_matches_ref);
    tcase_add_test(tc, test_kernels_match_ref);
    suite_add_tcase(s, tc);
    tc = tcase_create("running_stats");
    tcase_add_test(tc, test_running_stats_update_like_pytorch);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_training_grad);
    tcase_add_test(tc, test_eval_grad_including_statistics);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_channel_mismatch);
    tcase_add_test(tc, test_rank_one_input);
    tcase_add_test(tc, test_training_needs_more_than_one_value);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(norm_suite());
}
