/* A ReLU fused into the unsigned quantizer reading it (graph/exec_fuse.c): training executors
 * skip the ReLU, and must give the outputs and every gradient of the unfused graph bit for bit,
 * including at pre-activations of exactly 0 (a ReLU passes no gradient there, a quantizer would)
 * and above the quantizer's range; the pair is left alone whenever the ReLU is needed. */
#include <string.h>

#include "graph/exec_internal.h"
#include "nncwt.h"

enum { ROWS = 4, COLS = 5 };

struct net {
    struct nncw_graph *g;
    int w, b, scale, w2;                    /* parameters */
    struct nncw_node *relu, *quant, *extra; /* extra: a second reader of the ReLU, or NULL */
};

enum variant { PLAIN, SIGNED, DISABLED, READ_TWICE, RELU_IS_OUTPUT };

static int param(struct nncw_graph *g, const char *name, int ndim, const int64_t *shape,
                 const float *v)
{
    struct nncw_tensor t;
    int id;
    nncwt_tensor_from(&t, ndim, shape, v);
    nncwt_assert_status(nncw_graph_add_param(g, name, &t, true, &id), NNCW_OK);
    nncw_tensor_fini(&t);
    return id;
}

/* x [-1, 3] . w [3, 5] + b -> relu -> quantize (scale 2: levels 0..255 over [0, 2]) -> * w2 */
static void net_build(struct net *n, enum variant v)
{
    memset(n, 0, sizeof *n);
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    n->g = g;
    int x, z, a, h, q, y;
    nncwt_assert_status(
        nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 3}, &x), NNCW_OK);
    n->w = param(g, "w", 2, (int64_t[]){3, COLS},
                 (float[]){0.5f, -1.0f, 2.0f, 0.25f, 1.5f, -0.5f, 1.0f, 0.75f, -2.0f, 0.5f,
                           1.0f, 0.5f, -1.0f, 3.0f, -0.25f});
    /* column 4's bias is exactly 0: rows of zeros give pre-activations of exactly 0 there */
    n->b = param(g, "b", 1, (int64_t[]){COLS}, (float[]){0.1f, -0.2f, 0.3f, 0.05f, 0.0f});
    n->scale = param(g, "scale", 1, (int64_t[]){1}, (float[]){2.0f});
    n->w2 = param(g, "w2", 1, (int64_t[]){COLS}, (float[]){1.0f, -2.0f, 0.5f, 3.0f, -1.5f});
    nncwt_assert_status(
        nncw_graph_add_node(g, NNCW_OP_MATMUL, "mm", 2, (int[]){x, n->w}, 1, &z, NULL), NNCW_OK);
    nncwt_assert_status(
        nncw_graph_add_node(g, NNCW_OP_ADD, "bias", 2, (int[]){z, n->b}, 1, &a, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "relu", 1, &a, 1, &h, &n->relu),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_QUANTIZE_SYMMETRIC, "relu|OUTPUT", 2,
                                            (int[]){h, n->scale}, 1, &q, &n->quant),
                        NNCW_OK);
    bool is_signed = v == SIGNED;
    nncwt_assert_status(nncw_node_set_attr_int(n->quant, "level_low", is_signed ? -128 : 0),
                        NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_int(n->quant, "level_high", is_signed ? 127 : 255),
                        NNCW_OK);
    if (v == DISABLED)
        nncwt_assert_status(nncw_node_set_attr_int(n->quant, "enabled", 0), NNCW_OK);
    nncwt_assert_status(
        nncw_graph_add_node(g, NNCW_OP_MUL, "head", 2, (int[]){q, n->w2}, 1, &y, NULL), NNCW_OK);
    if (v == READ_TWICE) {
        int y2;
        nncwt_assert_status(
            nncw_graph_add_node(g, NNCW_OP_ADD, "skip", 2, (int[]){y, h}, 1, &y2, &n->extra),
            NNCW_OK);
        y = y2;
    }
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    if (v == RELU_IS_OUTPUT)
        nncwt_assert_status(nncw_graph_add_output(g, h), NNCW_OK);
}

/* inputs: ordinary rows, a row of zeros (pre-activation exactly b, so 0 in column 4), a row
 * driven far past the quantizer's range, and one below zero everywhere */
static const float input[ROWS * 3] = {0.3f, -0.7f, 1.1f, 0.0f, 0.0f, 0.0f,
                                      4.0f, 3.0f,  5.0f, -3.0f, -2.0f, -4.0f};

struct result {
    float y[ROWS * COLS * 2], gx[ROWS * 3], gw[3 * COLS], gb[COLS], gscale, gw2[COLS];
    bool relu_skipped;
};

static void copy_grad(const struct net *n, int id, float *dst)
{
    const struct nncw_tensor *t = nncw_graph_get_value_grad(n->g, id);
    memcpy(dst, nncw_tensor_f32(t), nncw_tensor_nbytes(t));
}

static void run(const struct net *n, bool keep_values, struct result *r)
{
    memset(r, 0, sizeof *r);
    struct nncw_exec_options o = {.batch = ROWS, .training = true, .backward = true,
                                  .input_grads = true, .keep_values = keep_values};
    struct nncw_exec *ex;
    nncwt_assert_status(nncw_exec_new(n->g, &o, &ex), NNCW_OK);
    memcpy(nncw_tensor_f32(nncw_exec_get_input(ex, 0)), input, sizeof input);
    nncw_graph_zero_grads(n->g);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    int n_out = nncw_graph_count_outputs(n->g);
    struct nncw_tensor dy[2];
    const struct nncw_tensor *gout[2];
    for (int i = 0; i < n_out; i++) {
        const struct nncw_tensor *y = nncw_exec_get_output(ex, i);
        nncwt_assert_status(nncw_tensor_init(&dy[i], NNCW_DTYPE_F32, y->ndim, y->shape), NNCW_OK);
        for (int64_t k = 0; k < nncw_tensor_numel(y); k++)
            nncw_tensor_f32(&dy[i])[k] = 0.25f + 0.125f * (float)(k % 5);
        memcpy(r->y + i * ROWS * COLS, nncw_tensor_f32(y), nncw_tensor_nbytes(y));
        gout[i] = &dy[i];
    }
    nncwt_assert_status(nncw_exec_backward(ex, gout), NNCW_OK);
    memcpy(r->gx, nncw_tensor_f32(nncw_exec_get_input_grad(ex, 0)), sizeof r->gx);
    copy_grad(n, n->w, r->gw);
    copy_grad(n, n->b, r->gb);
    copy_grad(n, n->scale, &r->gscale);
    copy_grad(n, n->w2, r->gw2);
    r->relu_skipped = nncw_exec_fuse_skipped(ex, nncw_node_get_index(n->relu));
    for (int i = 0; i < n_out; i++)
        nncw_tensor_fini(&dy[i]);
    nncw_exec_free(ex);
}

static void assert_same(const struct result *a, const struct result *b)
{
    ck_assert_msg(!memcmp(a->y, b->y, sizeof a->y), "outputs differ");
    ck_assert_msg(!memcmp(a->gx, b->gx, sizeof a->gx), "input gradients differ");
    ck_assert_msg(!memcmp(a->gw, b->gw, sizeof a->gw), "w gradients differ");
    for (int i = 0; i < COLS; i++)
        ck_assert_msg(a->gb[i] == b->gb[i], "b gradient %d: %g vs %g", i, (double)a->gb[i],
                      (double)b->gb[i]);
    ck_assert_msg(a->gscale == b->gscale, "scale gradient %g vs %g", (double)a->gscale,
                  (double)b->gscale);
    ck_assert_msg(!memcmp(a->gw2, b->gw2, sizeof a->gw2), "w2 gradients differ");
}

START_TEST(test_fused_relu_matches_unfused)
{
    struct net n;
    net_build(&n, PLAIN);
    struct result fused, plain;
    run(&n, false, &fused);
    run(&n, true, &plain);
    ck_assert_msg(fused.relu_skipped, "the ReLU before an unsigned quantizer was not fused");
    ck_assert(!plain.relu_skipped);
    assert_same(&fused, &plain);
    /* the zero row reaches column 4 at exactly 0: no gradient may pass there, and the other
     * rows' contributions to b[4] are what is left (row 2 is beyond the range: none either) */
    ck_assert(plain.gb[4] == 0.0f);
    /* and the quantizer's range gradient saw clamped values (row 2) */
    ck_assert(plain.gscale != 0.0f);
    nncw_graph_free(n.g);
}
END_TEST

/* every case that needs the ReLU keeps it, and still agrees with keep_values */
START_TEST(test_relu_kept_when_needed)
{
    static const enum variant vs[] = {SIGNED, DISABLED, READ_TWICE, RELU_IS_OUTPUT};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        struct net n;
        net_build(&n, vs[i]);
        struct result a, b;
        run(&n, false, &a);
        run(&n, true, &b);
        ck_assert_msg(!a.relu_skipped, "variant %d: the ReLU was fused", (int)vs[i]);
        assert_same(&a, &b);
        nncw_graph_free(n.g);
    }
}
END_TEST

static enum nncw_status count_node(void *user, struct nncw_exec *ex, int node)
{
    (void)ex, (void)node;
    ++*(int *)user;
    return NNCW_OK;
}

/* observers read every value, so nothing is skipped while one is set; inference executors
 * never fuse */
START_TEST(test_no_fusion_with_observer_or_without_backward)
{
    struct net n;
    net_build(&n, PLAIN);
    struct nncw_exec_options o = {.batch = ROWS, .training = true, .backward = true};
    struct nncw_exec *ex;
    nncwt_assert_status(nncw_exec_new(n.g, &o, &ex), NNCW_OK);
    int seen = 0;
    nncw_exec_set_observer(ex, count_node, &seen);
    memcpy(nncw_tensor_f32(nncw_exec_get_input(ex, 0)), input, sizeof input);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    ck_assert_int_eq(seen, nncw_graph_count_nodes(n.g));
    ck_assert(!nncw_exec_fuse_skipped(ex, nncw_node_get_index(n.relu)));
    nncw_exec_set_observer(ex, NULL, NULL);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    ck_assert(nncw_exec_fuse_skipped(ex, nncw_node_get_index(n.relu)));
    nncw_exec_free(ex);
    struct nncw_exec_options eval = {.batch = ROWS};
    nncwt_assert_status(nncw_exec_new(n.g, &eval, &ex), NNCW_OK);
    memcpy(nncw_tensor_f32(nncw_exec_get_input(ex, 0)), input, sizeof input);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    ck_assert(!nncw_exec_fuse_skipped(ex, nncw_node_get_index(n.relu)));
    nncw_exec_free(ex);
    nncw_graph_free(n.g);
}
END_TEST

/* the decision follows the quantizer's attributes at every forward: a quantizer made signed
 * after the executor was planned brings the ReLU back */
START_TEST(test_fusion_follows_attribute_changes)
{
    struct net n;
    net_build(&n, PLAIN);
    struct result fused, plain;
    run(&n, false, &fused);
    ck_assert(fused.relu_skipped);
    nncwt_assert_status(nncw_node_set_attr_int(n.quant, "level_low", -128), NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_int(n.quant, "level_high", 127), NNCW_OK);
    run(&n, false, &fused);
    run(&n, true, &plain);
    ck_assert(!fused.relu_skipped);
    assert_same(&fused, &plain);
    nncw_graph_free(n.g);
}
END_TEST

static Suite *exec_fuse_suite(void)
{
    Suite *s = suite_create("exec_fuse");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fused_relu_matches_unfused);
    tcase_add_test(tc, test_relu_kept_when_needed);
    tcase_add_test(tc, test_no_fusion_with_observer_or_without_backward);
    tcase_add_test(tc, test_fusion_follows_attribute_changes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(exec_fuse_suite());
}
