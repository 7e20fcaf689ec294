#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "graph/exec_internal.h"
#include "nncwt.h"

/* x -> relu -> a ; a + a -> b (a value read twice: gradients must sum) ; b * w -> y */
static struct nncw_graph *diamond(int *w_id)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, a, b, y;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 3}, &x), NNCW_OK);
    struct nncw_tensor w;
    nncwt_tensor_from(&w, 1, (int64_t[]){3}, (float[]){0.5f, -1.0f, 2.0f});
    nncwt_assert_status(nncw_graph_add_param(g, "w", &w, true, w_id), NNCW_OK);
    nncw_tensor_fini(&w);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "relu", 1, &x, 1, &a, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_ADD, "add", 2, (int[]){a, a}, 1, &b, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_MUL, "mul", 2, (int[]){b, *w_id}, 1, &y, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    return g;
}

START_TEST(test_exec_forward_backward_diamond)
{
    int w_id;
    struct nncw_graph *g = diamond(&w_id);
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = 2, .training = true, .backward = true, .input_grads = true};
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    float xv[] = {1, -2, 3, -1, 2, 0.5f};
    memcpy(nncw_exec_get_input(ex, 0)->data, xv, sizeof xv);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    const float *y = nncw_tensor_f32(nncw_exec_get_output(ex, 0));
    /* y = 2 relu(x) * w */
    float expect[] = {1, 0, 12, 0, -4, 2};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(y[i], expect[i], 1e-6);
    struct nncw_tensor ones;
    nncwt_tensor_from(&ones, 2, (int64_t[]){2, 3}, (float[]){1, 1, 1, 1, 1, 1});
    nncw_graph_zero_grads(g);
    nncwt_assert_status(nncw_exec_backward(ex, (const struct nncw_tensor *[]){&ones}), NNCW_OK);
    /* dL/dw_j = sum_n 2 relu(x_nj); dL/dx = 2 w [x > 0] */
    const float *gw = nncw_tensor_f32(nncw_graph_get_value_grad(g, w_id));
    ck_assert_float_eq_tol(gw[0], 2.0f, 1e-6);
    ck_assert_float_eq_tol(gw[1], 4.0f, 1e-6);
    ck_assert_float_eq_tol(gw[2], 7.0f, 1e-6);
    const float *gx = nncw_tensor_f32(nncw_exec_get_input_grad(ex, 0));
    float expect_gx[] = {1, 0, 4, 0, -2, 4};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(gx[i], expect_gx[i], 1e-6);
    /* a second backward accumulates into parameter gradients, as PyTorch's .backward() */
    nncwt_assert_status(nncw_exec_backward(ex, (const struct nncw_tensor *[]){&ones}), NNCW_OK);
    ck_assert_float_eq_tol(gw[2], 14.0f, 1e-6);
    /* but not into input gradients, which belong to one pass */
    ck_assert_float_eq_tol(gx[2], 4.0f, 1e-6);
    nncw_tensor_fini(&ones);
    nncw_exec_free(ex);
    nncw_graph_free(g);
}
END_TEST

/* a chain of 20 relus: without backward, buffers are reused (two suffice) */
START_TEST(test_exec_eval_reuses_memory)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 1024}, &x), NNCW_OK);
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, name, 1, &x, 1, &x, NULL), NNCW_OK);
    }
    nncwt_assert_status(nncw_graph_add_output(g, x), NNCW_OK);
    struct nncw_exec *eval, *train;
    struct nncw_exec_options o = {.batch = 4};
    nncwt_assert_status(nncw_exec_new(g, &o, &eval), NNCW_OK);
    o.training = o.backward = true;
    nncwt_assert_status(nncw_exec_new(g, &o, &train), NNCW_OK);
    size_t one = 4 * 1024 * sizeof(float);
    ck_assert_uint_le(nncw_exec_get_memory(eval), 3 * one);
    ck_assert_uint_ge(nncw_exec_get_memory(train), 20 * one);
    float *in = nncw_tensor_f32(nncw_exec_get_input(eval, 0));
    for (int i = 0; i < 4096; i++)
        in[i] = (float)(i % 7) - 3.0f;
    nncwt_assert_status(nncw_exec_forward(eval), NNCW_OK);
    const float *y = nncw_tensor_f32(nncw_exec_get_output(eval, 0));
    for (int i = 0; i < 4096; i++)
        ck_assert_float_eq(y[i], in[i] > 0 ? in[i] : 0);
    nncw_exec_free(eval);
    nncw_exec_free(train);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_exec_planner_never_overlaps_live_buffers)
{
    enum { N = 40 };
    size_t size[N], off[N];
    int start[N], end[N];
    struct nncw_rng r;
    nncw_rng_seed(&r, 3);
    for (int i = 0; i < N; i++) {
        size[i] = 1 + nncw_rng_below(&r, 5000);
        start[i] = (int)nncw_rng_below(&r, 30);
        end[i] = start[i] + (int)nncw_rng_below(&r, 10);
    }
    size_t total = nncw_plan_offsets(N, size, start, end, off);
    for (int i = 0; i < N; i++) {
        ck_assert_uint_le(off[i] + size[i], total);
        ck_assert_uint_eq(off[i] % 64, 0);
        for (int j = 0; j < i; j++) {
            bool live = start[i] <= end[j] && start[j] <= end[i];
            bool mem = off[i] < off[j] + size[j] && off[j] < off[i] + size[i];
            ck_assert_msg(!(live && mem), "buffers %d and %d overlap", i, j);
        }
    }
}
END_TEST

START_TEST(test_exec_errors)
{
    int w_id;
    struct nncw_graph *g = diamond(&w_id);
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = 0};
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "batch"));
    o.batch = 2;
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    nncwt_assert_status(nncw_exec_backward(ex, NULL), NNCW_ERR_INVALID_ARG);
    nncw_exec_free(ex);
    o.backward = true;
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    /* backward before forward */
    nncwt_assert_status(nncw_exec_backward(ex, (const struct nncw_tensor *[]){NULL}),
                        NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    struct nncw_tensor wrong;
    nncwt_tensor_from(&wrong, 1, (int64_t[]){2}, (float[]){1, 1});
    nncwt_assert_status(nncw_exec_backward(ex, (const struct nncw_tensor *[]){&wrong}), NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "mul"));
    nncw_tensor_fini(&wrong);
    nncw_exec_free(ex);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_exec_shape_errors_name_the_node)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, y, z;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 3}, &x), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_input(g, "y", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 4}, &y), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_ADD, "Net/bad_add", 2, (int[]){x, y}, 1, &z, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, z), NNCW_OK);
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = 2};
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/bad_add"));
    nncw_graph_free(g);
}
END_TEST

static Suite *exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("running");
    tcase_add_test(tc, test_exec_forward_backward_diamond);
    tcase_add_test(tc, test_exec_eval_reuses_memory);
    suite_add_tcase(s, tc);
    tc = tcase_create("planning");
    tcase_add_test(tc, test_exec_planner_never_overlaps_live_buffers);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_exec_errors);
    tcase_add_test(tc, test_exec_shape_errors_name_the_node);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(exec_suite());
}
