/* Resize (resize.c) and ConvTranspose (conv_transpose.c): values on hand-computed cases and
 * against a direct-loop reference, gradients by finite differences, and errors. */
#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

static void f32_vec(struct nncw_tensor *t, int n, const float *v)
{
    nncwt_tensor_from(t, 1, (int64_t[]){n}, v);
}

static void assert_near(const struct nncw_tensor *y, int n, const float *want, float tol)
{
    ck_assert_int_eq(nncw_tensor_numel(y), n);
    for (int i = 0; i < n; i++)
        if (!(fabsf(nncw_tensor_f32(y)[i] - want[i]) <= tol))
            ck_abort_msg("element %d: %g, expected %g", i, nncw_tensor_f32(y)[i], want[i]);
}

/* ---- Resize ---- */

static const char *g_mode, *g_coord, *g_round;

static void attrs_resize(struct nncw_node *n)
{
    nncw_node_set_attr_string(n, "mode", g_mode);
    nncw_node_set_attr_string(n, "coordinate_transformation_mode", g_coord);
    if (g_round)
        nncw_node_set_attr_string(n, "nearest_mode", g_round);
}

static void resize(const struct nncw_tensor *x, const float *scales, struct nncw_tensor *y)
{
    struct nncw_tensor s;
    f32_vec(&s, x->ndim, scales);
    const struct nncw_tensor *in[] = {x, NULL, &s};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_RESIZE, 3, in, attrs_resize, false, y), NNCW_OK);
    nncw_tensor_fini(&s);
}

START_TEST(test_resize_nearest_asymmetric_floor)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 4, (int64_t[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
    g_mode = "nearest", g_coord = "asymmetric", g_round = "floor";
    resize(&x, (float[]){1, 1, 2, 1.5f}, &y);
    ck_assert_int_eq(y.shape[2], 4);
    ck_assert_int_eq(y.shape[3], 3);
    assert_near(&y, 12, (float[]){1, 1, 2, 1, 1, 2, 3, 3, 4, 3, 3, 4}, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_resize_linear_align_corners_and_half_pixel)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){3}, (float[]){0, 1, 2});
    g_mode = "linear", g_coord = "align_corners", g_round = NULL;
    resize(&x, (float[]){1.6667f}, &y);
    assert_near(&y, 5, (float[]){0, 0.5f, 1, 1.5f, 2}, 1e-6f);
    nncw_tensor_fini(&y);
    /* half_pixel, 2x: (o + 0.5) / 2 - 0.5, clamped at the borders */
    g_coord = "half_pixel";
    resize(&x, (float[]){2}, &y);
    assert_near(&y, 6, (float[]){0, 0.25f, 0.75f, 1.25f, 1.75f, 2}, 1e-6f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_resize_cubic_keeps_a_linear_ramp)
{
    /* cubic convolution reproduces linear data away from the borders */
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){8}, (float[]){0, 1, 2, 3, 4, 5, 6, 7});
    g_mode = "cubic", g_coord = "asymmetric", g_round = NULL;
    resize(&x, (float[]){2}, &y);
    for (int o = 4; o < 12; o++)
        ck_assert_float_eq_tol(nncw_tensor_f32(&y)[o], o / 2.0f, 1e-5f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_resize_gradients)
{
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    struct nncw_tensor x, s;
    nncwt_tensor_rand(&x, 4, (int64_t[]){1, 2, 3, 4}, -1, 1, 1);
    f32_vec(&s, 4, (float[]){1, 1, 1.7f, 0.75f});
    g_mode = modes[_i], g_coord = "pytorch_half_pixel", g_round = NULL;
    struct nncwt_gradcheck spec = {.op = NNCW_OP_RESIZE,
                                   .n_in = 3,
                                   .in = {&x, NULL, &s},
                                   .fixed = {false, true, true},
                                   .attrs = attrs_resize};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
}
END_TEST

START_TEST(test_resize_errors)
{
    struct nncw_tensor x, s;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 2}, -1, 1, 1);
    f32_vec(&s, 2, (float[]){1, 2});
    g_mode = "lanczos", g_coord = "asymmetric", g_round = NULL;
    const struct nncw_tensor *in[] = {&x, NULL, &s};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_RESIZE, "Net/up", 3, in, 1, attrs_resize),
                        NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("Net/up", "lanczos");
    /* scales as a graph input */
    g_mode = "nearest";
    nncwt_assert_status(opnet_infer_status(NNCW_OP_RESIZE, "Net/up", 3, in, 5, attrs_resize),
                        NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("Net/up", "constant");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
}
END_TEST

/* ---- ConvTranspose ---- */

static int64_t g_stride, g_pad, g_opad, g_group;

static void attrs_ct(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){g_stride, g_stride});
    nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){g_pad, g_pad, g_pad, g_pad});
    nncw_node_set_attr_ints(n, "output_padding", 2, (int64_t[]){g_opad, g_opad});
    nncw_node_set_attr_int(n, "group", g_group);
}

/* y[n, g*mg+m, iy*s - p + ky, ix*s - p + kx] += x[n, g*cg+c, iy, ix] * w[g*cg+c, m, ky, kx] */
static void ct_ref(const struct nncw_tensor *x, const struct nncw_tensor *w,
                   const struct nncw_tensor *b, struct nncw_tensor *y)
{
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t mg = w->shape[1], K = w->shape[2], cg = C / g_group, M = mg * g_group;
    int64_t OH = y->shape[2], OW = y->shape[3];
    float *yv = nncw_tensor_f32(y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t i = 0; i < OH * OW; i++)
                yv[(n * M + m) * OH * OW + i] = b ? nncw_tensor_f32(b)[m] : 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t m = 0; m < mg; m++)
                for (int64_t iy = 0; iy < H; iy++)
                    for (int64_t ix = 0; ix < W; ix++)
                        for (int64_t ky = 0; ky < K; ky++)
                            for (int64_t kx = 0; kx < K; kx++) {
                                int64_t oy = iy * g_stride - g_pad + ky;
                                int64_t ox = ix * g_stride - g_pad + kx;
                                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW)
                                    continue;
                                int64_t om = (c / cg) * mg + m;
                                yv[((n * M + om) * OH + oy) * OW + ox] +=
                                    nncw_tensor_f32(x)[((n * C + c) * H + iy) * W + ix] *
                                    nncw_tensor_f32(w)[((c * mg + m) * K + ky) * K + kx];
                            }
}

struct ct_case {
    int64_t stride, pad, opad, group;
};

static const struct ct_case ct_cases[] = {
    {1, 0, 0, 1},
    {2, 1, 1, 1},
    {2, 0, 0, 2},
    {3, 1, 2, 1},
};

START_TEST(test_convtranspose_matches_reference)
{
    const struct ct_case *c = &ct_cases[_i];
    g_stride = c->stride, g_pad = c->pad, g_opad = c->opad, g_group = c->group;
    struct nncw_tensor x, w, b, y, want;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 4, 3, 5}, -1, 1, 1);
    nncwt_tensor_rand(&w, 4, (int64_t[]){4, 3, 3, 3}, -1, 1, 2);
    nncwt_tensor_rand(&b, 1, (int64_t[]){3 * c->group}, -1, 1, 3);
    const struct nncw_tensor *in[] = {&x, &w, &b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CONVTRANSPOSE, 3, in, attrs_ct, false, &y), NNCW_OK);
    ck_assert_int_eq(y.shape[1], 3 * c->group);
    ck_assert_int_eq(y.shape[2], c->stride * 2 + c->opad + 3 - 2 * c->pad);
    ck_assert_int_eq(y.shape[3], c->stride * 4 + c->opad + 3 - 2 * c->pad);
    nncwt_assert_status(nncw_tensor_init(&want, NNCW_DTYPE_F32, 4, y.shape), NNCW_OK);
    ct_ref(&x, &w, &b, &want);
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-5);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_CONVTRANSPOSE,
                                   .n_in = 3,
                                   .in = {&x, &w, &b},
                                   .attrs = attrs_ct,
                                   .max_elems = 40};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
}
END_TEST

static void attrs_ct_out_shape(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
    nncw_node_set_attr_ints(n, "output_shape", 2, (int64_t[]){7, 9});
}

START_TEST(test_convtranspose_output_shape_and_errors)
{
    struct nncw_tensor x, w, y;
    nncwt_tensor_rand(&x, 4, (int64_t[]){1, 2, 3, 4}, -1, 1, 1);
    nncwt_tensor_rand(&w, 4, (int64_t[]){2, 1, 3, 3}, -1, 1, 2);
    const struct nncw_tensor *in[] = {&x, &w};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CONVTRANSPOSE, 2, in, attrs_ct_out_shape, false, &y),
                        NNCW_OK);
    ck_assert_int_eq(y.shape[2], 7);
    ck_assert_int_eq(y.shape[3], 9);
    nncw_tensor_fini(&y);
    /* a weight whose first dimension is not the input's channels */
    nncw_tensor_fini(&w);
    nncwt_tensor_rand(&w, 4, (int64_t[]){3, 1, 3, 3}, -1, 1, 2);
    g_stride = 1, g_pad = 0, g_opad = 0, g_group = 1;
    nncwt_assert_status(opnet_infer_status(NNCW_OP_CONVTRANSPOSE, "Net/up", 2, in, 1, attrs_ct),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/up", "[3, 1, 3, 3]");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&w);
}
END_TEST

static Suite *resize_suite(void)
{
    Suite *s = suite_create("ops_resize");
    TCase *tc = tcase_create("resize");
    tcase_add_test(tc, test_resize_nearest_asymmetric_floor);
    tcase_add_test(tc, test_resize_linear_align_corners_and_half_pixel);
    tcase_add_test(tc, test_resize_cubic_keeps_a_linear_ramp);
    tcase_add_loop_test(tc, test_resize_gradients, 0, 3);
    tcase_add_test(tc, test_resize_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("convtranspose");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_convtranspose_matches_reference, 0,
                        (int)(sizeof ct_cases / sizeof ct_cases[0]));
    tcase_add_test(tc, test_convtranspose_output_shape_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(resize_suite());
}
