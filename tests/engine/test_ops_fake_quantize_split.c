/*
 * The trainable quantizers on activation-sized tensors, whose blocks are split into pieces
 * over the worker threads (ops/fake_quantize.c): every piece must use its own channel's
 * constants, the range gradient must sum every piece exactly once, and the results must not
 * depend on the thread count (each piece's sums are added in a fixed order).
 */
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "nncwt.h"
#include "ops/fake_quantize.h"
#include "ops/parallel.h"
#include "ops_net.h"

struct split_case {
    enum nncw_op op;
    int64_t shape[4];
    int axis; /* -1: per tensor */
};

static const struct split_case cases[] = {
    /* per tensor, 35805 elements: 18 pieces, the last partial */
    {NNCW_OP_QUANTIZE_SYMMETRIC, {5, 7, 33, 31}, -1},
    /* per channel on axis 1 with 3072-element blocks: two pieces per block, 3 blocks each */
    {NNCW_OP_QUANTIZE_SYMMETRIC, {3, 2, 48, 64}, 1},
    {NNCW_OP_QUANTIZE_ASYMMETRIC, {3, 2, 48, 64}, 1},
};

static struct split_case cur;

static void set_attrs(struct nncw_node *n)
{
    bool sym = cur.op == NNCW_OP_QUANTIZE_SYMMETRIC;
    nncw_node_set_attr_int(n, "level_low", sym ? -128 : 0);
    nncw_node_set_attr_int(n, "level_high", sym ? 127 : 255);
    nncw_node_set_attr_int(n, "axis", cur.axis < 0 ? 0 : cur.axis);
}

struct split_result {
    struct nncw_tensor y, gx, gp0, gp1;
};

/* forward and backward of the case on `threads` threads, with output gradient gy */
static void run_case(const struct nncw_tensor *x, const struct nncw_tensor *p0,
                     const struct nncw_tensor *p1, const struct nncw_tensor *gy, int threads,
                     struct split_result *r)
{
    nncw_parallel_set_threads(threads);
    struct opnet b;
    const struct nncw_tensor *in[] = {x, p0, p1};
    int n_in = cur.op == NNCW_OP_QUANTIZE_SYMMETRIC ? 2 : 3;
    opnet_build(&b, cur.op, "Net/fq", n_in, in, 0, 1, set_attrs);
    nncwt_assert_status(opnet_exec(&b, true, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    const struct nncw_tensor *gout[] = {gy};
    nncwt_assert_status(nncw_exec_backward(b.ex, gout), NNCW_OK);
    nncwt_assert_status(nncw_tensor_init_copy(&r->y, nncw_exec_get_output(b.ex, 0)), NNCW_OK);
    nncwt_assert_status(nncw_tensor_init_copy(&r->gx, opnet_param_grad(&b, 0)), NNCW_OK);
    nncwt_assert_status(nncw_tensor_init_copy(&r->gp0, opnet_param_grad(&b, 1)), NNCW_OK);
    if (n_in > 2)
        nncwt_assert_status(nncw_tensor_init_copy(&r->gp1, opnet_param_grad(&b, 2)), NNCW_OK);
    opnet_free(&b);
}

static void result_free(struct split_result *r)
{
    nncw_tensor_fini(&r->y);
    nncw_tensor_fini(&r->gx);
    nncw_tensor_fini(&r->gp0);
    if (r->gp1.data)
        nncw_tensor_fini(&r->gp1);
}

static void assert_same(const struct nncw_tensor *a, const struct nncw_tensor *b, const char *what)
{
    ck_assert_int_eq(nncw_tensor_numel(a), nncw_tensor_numel(b));
    ck_assert_msg(memcmp(a->data, b->data, nncw_tensor_nbytes(a)) == 0,
                  "%s differs between 1 and 2 threads", what);
}

START_TEST(test_split_quantizer_matches_reference_and_thread_count)
{
    cur = cases[_i];
    bool sym = cur.op == NNCW_OP_QUANTIZE_SYMMETRIC;
    int64_t chans = cur.axis < 0 ? 1 : cur.shape[cur.axis];
    int64_t inner = cur.axis < 0 ? 1 : cur.shape[2] * cur.shape[3];
    struct nncw_tensor x, gy, p0, p1;
    nncwt_tensor_rand(&x, 4, cur.shape, -3, 3, 11 + (uint64_t)_i);
    nncwt_tensor_rand(&gy, 4, cur.shape, -1, 1, 21 + (uint64_t)_i);
    /* channels with very different ranges, so a piece that used another channel's shows */
    float v0[2] = {sym ? 0.5f : -0.4f, sym ? -2.5f : -2.0f}, v1[2] = {1.0f, 4.5f};
    nncwt_tensor_from(&p0, 1, (int64_t[]){chans}, v0);
    nncwt_tensor_from(&p1, 1, (int64_t[]){chans}, v1);
    struct split_result one = {0}, two = {0};
    run_case(&x, &p0, sym ? NULL : &p1, &gy, 1, &one);
    run_case(&x, &p0, sym ? NULL : &p1, &gy, 2, &two);
    assert_same(&one.y, &two.y, "y");
    assert_same(&one.gx, &two.gx, "dL/dx");
    assert_same(&one.gp0, &two.gp0, "the first range parameter's gradient");
    if (!sym)
        assert_same(&one.gp1, &two.gp1, "input_range's gradient");

    /* the reference: each element on its channel's grid, and the range gradients summed in
     * double from the op's own y (so only the split and the sums are under test) */
    const float *xv = nncw_tensor_f32(&x), *g = nncw_tensor_f32(&gy);
    const float *y = nncw_tensor_f32(&one.y), *gx = nncw_tensor_f32(&one.gx);
    double sum_r[2] = {0, 0}, sum_o[2] = {0, 0};
    for (int64_t i = 0; i < nncw_tensor_numel(&x); i++) {
        int64_t c = cur.axis < 0 ? 0 : (i / inner) % chans;
        double low, high;
        if (sym) {
            high = fabs(v0[c]) + 1e-16;
            low = -high * 128.0 / 127.0;
        } else {
            float tl, tr;
            nncw_quantizer_tune_range(v0[c], fabsf(v1[c]) + 1e-16f, 256, &tl, &tr);
            low = tl;
            high = (double)tl + tr;
        }
        double step = (high - low) / 255.0, xc = xv[i] < low ? low : xv[i] > high ? high : xv[i];
        ck_assert_msg(fabs(y[i] - xc) <= 0.5 * step + 1e-3 * step + 1e-5,
                      "element %lld (channel %lld): x %g -> y %g, step %g", (long long)i,
                      (long long)c, (double)xv[i], (double)y[i], step);
        bool inside = xv[i] >= low + 1e-3 * step && xv[i] <= high - 1e-3 * step;
        bool outside = xv[i] < low - 1e-3 * step || xv[i] > high + 1e-3 * step;
        if (inside)
            ck_assert_float_eq(gx[i], g[i]);
        else if (outside)
            ck_assert_float_eq(gx[i], 0.0f);
        double alpha = sym ? -128.0 / 127.0 : 0.0;
        double e = xv[i] > high ? 1.0 : xv[i] < low ? alpha : (y[i] - xv[i]) / (high - low);
        sum_r[c] += g[i] * e;
        sum_o[c] += xv[i] > high || xv[i] < low ? g[i] : 0.0;
    }
    for (int64_t c = 0; c < chans; c++) {
        double want = sym ? sum_r[c] * (v0[c] < 0 ? -1.0 : 1.0) : sum_r[c];
        float got = sym ? nncw_tensor_f32(&one.gp0)[c] : nncw_tensor_f32(&one.gp1)[c];
        ck_assert_msg(fabs(got - want) <= 1e-3 * (1.0 + fabs(want)),
                      "channel %lld: range gradient %g, expected %g", (long long)c, (double)got,
                      want);
        if (!sym)
            ck_assert_msg(fabs(nncw_tensor_f32(&one.gp0)[c] - sum_o[c]) <= 1e-3 * (1.0 + fabs(sum_o[c])),
                          "channel %lld: input_low gradient %g, expected %g", (long long)c,
                          (double)nncw_tensor_f32(&one.gp0)[c], sum_o[c]);
    }
    result_free(&one);
    result_free(&two);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&gy);
    nncw_tensor_fini(&p0);
    nncw_tensor_fini(&p1);
}
END_TEST

static Suite *split_suite(void)
{
    Suite *s = suite_create("ops_fake_quantize_split");
    TCase *tc = tcase_create("split");
    tcase_add_loop_test(tc, test_split_quantizer_matches_reference_and_thread_count, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(split_suite());
}
