/* Conv -> BatchNormalization [-> Add] [-> Relu] chains in inference executors
 * (graph/exec_fold_bn.c): a folded chain gives the unfused executor's outputs to float rounding,
 * an unfolded one (weights too large to fold) bit for bit; batch-norm statistics changed between
 * forwards are used by the next one; training, backward, keep_values and observers run the
 * nodes as written; a chain stops where a value has another reader or is a graph output. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/exec_internal.h"
#include "nncwt.h"
#include "ops/norm.h"
#include "zoo/zoo.h"

enum { C = 4, M3 = 6 };

struct net {
    struct nncw_graph *g;
    int bn_params[3][4]; /* gamma, beta, mean, var of bn1..bn3 */
    int z1;              /* bn1's output */
};

enum variant { PLAIN, BN1_IS_OUTPUT, CONV3_READ_TWICE, SHORTCUT_CONV };

/* a parameter named node.what */
static int param(struct nncw_graph *g, const char *node, const char *what, int ndim,
                 const int64_t *shape, float lo, float hi, uint64_t seed)
{
    struct nncw_tensor t;
    int id;
    char name[64];
    snprintf(name, sizeof name, "%s.%s", node, what);
    nncwt_tensor_rand(&t, ndim, shape, lo, hi, seed);
    nncwt_assert_status(nncw_graph_add_param(g, name, &t, true, &id), NNCW_OK);
    nncw_tensor_fini(&t);
    return id;
}

static struct nncw_node *conv(struct nncw_graph *g, const char *name, int x, int m, int k,
                              bool bias, uint64_t seed, int *y)
{
    struct nncw_node *n;
    int in[3] = {x, param(g, name, "w", 4, (int64_t[]){m, C, k, k}, -0.5f, 0.5f, seed), -1};
    if (bias)
        in[2] = param(g, name, "b", 1, (int64_t[]){m}, -0.5f, 0.5f, seed + 1);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_CONV, name, bias ? 3 : 2, in, 1, y, &n),
                        NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){k, k}), NNCW_OK);
    int p = k / 2;
    nncwt_assert_status(nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){p, p, p, p}), NNCW_OK);
    return n;
}

/* variances of 0.01-0.2 against an epsilon of 0.5 (bn1, bn2) or 1e-3 (bn3): a fold that got
 * epsilon wrong is far off */
static int bn(struct net *n, const char *name, int x, int m, float eps, int which)
{
    int *p = n->bn_params[which], y;
    uint64_t seed = 100 + 10 * (uint64_t)which;
    p[0] = param(n->g, name, "gamma", 1, (int64_t[]){m}, 0.5f, 1.5f, seed);
    p[1] = param(n->g, name, "beta", 1, (int64_t[]){m}, -0.5f, 0.5f, seed + 1);
    p[2] = param(n->g, name, "mean", 1, (int64_t[]){m}, -0.3f, 0.3f, seed + 2);
    p[3] = param(n->g, name, "var", 1, (int64_t[]){m}, 0.01f, 0.2f, seed + 3);
    struct nncw_node *node;
    nncwt_assert_status(nncw_graph_add_node(n->g, NNCW_OP_BATCHNORM, name, 5,
                                            (int[]){x, p[0], p[1], p[2], p[3]}, 1, &y, &node),
                        NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_float(node, "epsilon", eps), NNCW_OK);
    return y;
}

static int unary(struct nncw_graph *g, enum nncw_op op, const char *name, int x)
{
    int y;
    nncwt_assert_status(nncw_graph_add_node(g, op, name, 1, &x, 1, &y, NULL), NNCW_OK);
    return y;
}

/* x -> conv1 (3x3, bias) -> bn1 -> relu -> conv2 (3x3) -> bn2 -> + x -> relu   (output 0)
 * x -> conv3 (1x1, 6 channels) -> bn3                                          (output 1)
 * SHORTCUT_CONV: conv3 has 4 channels and bn3's output replaces x in the Add (a residual block
 * with a downsampling shortcut: two chains meet at one Add, which only one of them may take) */
static void net_build(struct net *n, enum variant v, int64_t h, int64_t w)
{
    memset(n, 0, sizeof *n);
    nncwt_assert_status(nncw_graph_new(&n->g), NNCW_OK);
    struct nncw_graph *g = n->g;
    int x, y1, r1, y2, a, y3;
    nncwt_assert_status(
        nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 4, (int64_t[]){-1, C, h, w}, &x), NNCW_OK);
    conv(g, "conv1", x, C, 3, true, 1, &y1);
    n->z1 = bn(n, "bn1", y1, C, 0.5f, 0);
    r1 = unary(g, NNCW_OP_RELU, "relu1", n->z1);
    conv(g, "conv2", r1, C, 3, false, 3, &y2);
    int z2 = bn(n, "bn2", y2, C, 0.5f, 1);
    int m3 = v == SHORTCUT_CONV ? C : M3;
    conv(g, "conv3", x, m3, 1, true, 5, &y3);
    int z3 = bn(n, "bn3", y3, m3, 1e-3f, 2);
    int skip = v == SHORTCUT_CONV ? z3 : x;
    nncwt_assert_status(
        nncw_graph_add_node(g, NNCW_OP_ADD, "add", 2, (int[]){z2, skip}, 1, &a, NULL), NNCW_OK);
    int out = unary(g, NNCW_OP_RELU, "relu2", a);
    nncwt_assert_status(nncw_graph_add_output(g, out), NNCW_OK);
    if (v != SHORTCUT_CONV)
        nncwt_assert_status(nncw_graph_add_output(g, z3), NNCW_OK);
    if (v == BN1_IS_OUTPUT)
        nncwt_assert_status(nncw_graph_add_output(g, n->z1), NNCW_OK);
    if (v == CONV3_READ_TWICE)
        nncwt_assert_status(nncw_graph_add_output(g, y3), NNCW_OK);
}

/* an executor at batch n, its input filled with a fixed pattern */
static struct nncw_exec *exec_new(struct nncw_graph *g, int64_t n,
                                  const struct nncw_exec_options *base)
{
    struct nncw_exec_options o = *base;
    o.batch = n;
    struct nncw_exec *ex;
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    struct nncw_tensor *in = nncw_exec_get_input(ex, 0);
    for (int64_t i = 0; i < nncw_tensor_numel(in); i++)
        nncw_tensor_f32(in)[i] = sinf(0.37f * (float)i) * 1.5f;
    return ex;
}

static const struct nncw_exec_options eval_opt = {.batch = 1};
static const struct nncw_exec_options ref_opt = {.batch = 1, .keep_values = true};

static void assert_counts(const struct nncw_exec *ex, int chains, int folded)
{
    int c, f;
    nncw_exec_fold_get_counts(ex, &c, &f);
    ck_assert_msg(c == chains && f == folded, "%d chains (%d folded), expected %d (%d)", c, f,
                  chains, folded);
}

static void assert_outputs(const struct nncw_exec *a, const struct nncw_exec *b, int n_out,
                           bool exact)
{
    for (int i = 0; i < n_out; i++) {
        const struct nncw_tensor *ya = nncw_exec_get_output(a, i), *yb = nncw_exec_get_output(b, i);
        if (exact)
            ck_assert_msg(!memcmp(ya->data, yb->data, nncw_tensor_nbytes(ya)),
                          "output %d differs from the unfused executor's", i);
        else
            nncwt_assert_tensor_near(ya, yb, 1e-5f, 1e-4f);
    }
}

/* the fused and the keep_values (unfused) executors at one size */
static void compare_at(enum variant v, int64_t n, int64_t h, int64_t w, int chains, int folded)
{
    struct net net;
    net_build(&net, v, h, w);
    struct nncw_exec *fused = exec_new(net.g, n, &eval_opt);
    struct nncw_exec *ref = exec_new(net.g, n, &ref_opt);
    assert_counts(fused, chains, folded);
    assert_counts(ref, 0, 0);
    nncwt_assert_status(nncw_exec_forward(fused), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(ref), NNCW_OK);
    assert_outputs(fused, ref, nncw_graph_count_outputs(net.g), folded == 0);
    nncw_exec_free(fused);
    nncw_exec_free(ref);
    nncw_graph_free(net.g);
}

START_TEST(test_folded_chains_match_unfused)
{
    /* batch 2, 8x8: every weight is small next to its output, all three chains fold */
    compare_at(PLAIN, 2, 8, 8, 3, 3);
}
END_TEST

START_TEST(test_unfolded_chains_match_unfused_bit_for_bit)
{
    /* batch 1, 2x2: the weights outweigh the outputs; the batch norm, add and relu become one
     * pass with the batch norm's own arithmetic */
    compare_at(PLAIN, 1, 2, 2, 3, 0);
}
END_TEST

START_TEST(test_chain_stops_at_a_graph_output)
{
    /* bn1's output is also an output: its chain ends there and the relu runs as written */
    compare_at(BN1_IS_OUTPUT, 2, 8, 8, 3, 3);
    compare_at(BN1_IS_OUTPUT, 1, 2, 2, 3, 0);
}
END_TEST

START_TEST(test_two_chains_meeting_at_one_add)
{
    compare_at(SHORTCUT_CONV, 2, 8, 8, 3, 3);
    compare_at(SHORTCUT_CONV, 1, 2, 2, 3, 0);
}
END_TEST

START_TEST(test_conv_with_two_readers_is_not_folded)
{
    compare_at(CONV3_READ_TWICE, 2, 8, 8, 2, 2);
}
END_TEST

/* the comparison above can fail: the same graph with bn2's epsilon at its default differs from
 * the one with 0.5 by far more than the tolerance */
START_TEST(test_wrong_epsilon_would_be_caught)
{
    struct net a, b;
    net_build(&a, PLAIN, 8, 8);
    net_build(&b, PLAIN, 8, 8);
    nncwt_assert_status(nncw_node_set_attr_float(nncw_graph_get_node(b.g, 4), "epsilon", 1e-5f),
                        NNCW_OK);
    ck_assert_int_eq(nncw_node_get_op(nncw_graph_get_node(b.g, 4)), NNCW_OP_BATCHNORM);
    struct nncw_exec *ea = exec_new(a.g, 2, &ref_opt), *eb = exec_new(b.g, 2, &eval_opt);
    nncwt_assert_status(nncw_exec_forward(ea), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(eb), NNCW_OK);
    const struct nncw_tensor *ya = nncw_exec_get_output(ea, 0), *yb = nncw_exec_get_output(eb, 0);
    double worst = 0;
    for (int64_t i = 0; i < nncw_tensor_numel(ya); i++)
        worst = fmax(worst, fabs(nncw_tensor_f32(ya)[i] - nncw_tensor_f32(yb)[i]));
    ck_assert_msg(worst > 0.1, "epsilon 0.5 vs 1e-5 changed the output by only %g", worst);
    nncw_exec_free(ea);
    nncw_exec_free(eb);
    nncw_graph_free(a.g);
    nncw_graph_free(b.g);
}
END_TEST

/* no parameter version counter: statistics and weights changed between forwards are used */
START_TEST(test_changed_parameters_are_refolded)
{
    struct net net;
    net_build(&net, PLAIN, 8, 8);
    struct nncw_exec *fused = exec_new(net.g, 2, &eval_opt);
    struct nncw_exec *ref = exec_new(net.g, 2, &ref_opt);
    nncwt_assert_status(nncw_exec_forward(fused), NNCW_OK);
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < 4; k++) {
            struct nncw_tensor *t = nncw_graph_get_value_tensor(net.g, net.bn_params[b][k]);
            for (int64_t i = 0; i < nncw_tensor_numel(t); i++)
                nncw_tensor_f32(t)[i] *= k == 3 ? 3.0f : -1.25f;
        }
    nncwt_assert_status(nncw_exec_forward(fused), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(ref), NNCW_OK);
    assert_outputs(fused, ref, 2, false);
    nncw_exec_free(fused);
    nncw_exec_free(ref);
    nncw_graph_free(net.g);
}
END_TEST

START_TEST(test_training_backward_and_keep_values_do_not_fold)
{
    struct net net;
    net_build(&net, PLAIN, 8, 8);
    const struct nncw_exec_options opts[] = {
        {.batch = 1, .training = true},
        {.batch = 1, .training = true, .backward = true},
        {.batch = 1, .backward = true},
        {.batch = 1, .keep_values = true},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        struct nncw_exec *ex = exec_new(net.g, 2, &opts[i]);
        assert_counts(ex, 0, 0);
        nncw_exec_free(ex);
    }
    nncw_graph_free(net.g);
}
END_TEST

/* an observer sees every node run as written: bn1's output is computed and readable */
struct seen {
    int calls, bn1_node;
    const struct nncw_exec *ref;
    int z1;
    bool bn1_ok;
};

static enum nncw_status watch(void *user, struct nncw_exec *ex, int node_index)
{
    struct seen *s = user;
    s->calls++;
    if (node_index == s->bn1_node) {
        const struct nncw_tensor *a = nncw_exec_get_value(ex, s->z1);
        const struct nncw_tensor *b = nncw_exec_get_value(s->ref, s->z1);
        s->bn1_ok = !memcmp(a->data, b->data, nncw_tensor_nbytes(a));
    }
    return NNCW_OK;
}

START_TEST(test_observer_runs_nodes_as_written)
{
    struct net net;
    net_build(&net, BN1_IS_OUTPUT, 8, 8); /* z1 stays readable in the reference */
    struct nncw_exec *ex = exec_new(net.g, 2, &eval_opt);
    struct nncw_exec *ref = exec_new(net.g, 2, &ref_opt);
    nncwt_assert_status(nncw_exec_forward(ref), NNCW_OK);
    struct seen s = {.bn1_node = nncw_node_get_index(nncw_graph_get_producer(net.g, net.z1)),
                     .ref = ref,
                     .z1 = net.z1};
    nncw_exec_set_observer(ex, watch, &s);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    ck_assert_int_eq(s.calls, nncw_graph_count_nodes(net.g));
    ck_assert_msg(s.bn1_ok, "bn1's output under an observer differs from the unfused one");
    assert_outputs(ex, ref, 3, true);
    /* without the observer the same executor fuses again, to float rounding */
    nncw_exec_set_observer(ex, NULL, NULL);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    assert_outputs(ex, ref, 3, false);
    nncw_exec_free(ex);
    nncw_exec_free(ref);
    nncw_graph_free(net.g);
}
END_TEST

/* ResNet-20 with random batch-norm statistics: at batch 4 the 16-wide stage folds, the 64-wide
 * stage's 3x3 convs do not; logits agree with the unfused executor's */
START_TEST(test_resnet20_matches_unfused)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("resnet20");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("resnet20", &zo, &g), NNCW_OK);
    uint64_t seed = 7;
    for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        if (nncw_node_get_op(n) != NNCW_OP_BATCHNORM)
            continue;
        static const float lo[4] = {0.5f, -0.3f, -0.3f, 0.2f}, hi[4] = {1.5f, 0.3f, 0.3f, 2.0f};
        for (int k = 0; k < 4; k++) {
            struct nncw_tensor *t = nncw_graph_get_value_tensor(g, nncw_node_get_input(n, k + 1));
            struct nncw_tensor r;
            nncwt_tensor_rand(&r, t->ndim, t->shape, lo[k], hi[k], seed++);
            memcpy(t->data, r.data, nncw_tensor_nbytes(t));
            nncw_tensor_fini(&r);
        }
    }
    struct nncw_exec *fused = exec_new(g, 4, &eval_opt);
    struct nncw_exec *ref = exec_new(g, 4, &ref_opt);
    int chains, folded;
    nncw_exec_fold_get_counts(fused, &chains, &folded);
    ck_assert_int_eq(chains, 21); /* every convolution is followed by its batch norm */
    ck_assert_msg(folded > 0 && folded < chains, "%d of %d chains folded", folded, chains);
    nncwt_assert_status(nncw_exec_forward(fused), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(ref), NNCW_OK);
    nncwt_assert_tensor_near(nncw_exec_get_output(fused, 0), nncw_exec_get_output(ref, 0), 1e-4f,
                             1e-4f);
    nncw_exec_free(fused);
    nncw_exec_free(ref);
    nncw_graph_free(g);
}
END_TEST

/* the output pass against its reference, in place and not, with and without each part */
START_TEST(test_output_pass_kernel_matches_ref)
{
    enum { N = 3, CH = 5, S = 37 };
    struct nncw_tensor x, r, y, yr;
    int64_t shape[1] = {N * CH * S};
    nncwt_tensor_rand(&x, 1, shape, -2.0f, 2.0f, 11);
    nncwt_tensor_rand(&r, 1, shape, -2.0f, 2.0f, 12);
    nncwt_tensor_rand(&y, 1, shape, 0, 0, 13);
    nncwt_tensor_rand(&yr, 1, shape, 0, 0, 13);
    nncw_tensor_f32(&x)[7] = NAN;
    const float a[CH] = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f}, b[CH] = {0.1f, 0.2f, -0.3f, 0.0f, 1.0f};
    for (int mode = 0; mode < 8; mode++) {
        const float *sa = mode & 1 ? a : NULL, *sb = mode & 1 ? b : NULL;
        const float *res = mode & 2 ? nncw_tensor_f32(&r) : NULL;
        bool relu = mode & 4;
        nncw_kernel_scale_shift_add_relu_f32_ref(N, CH, S, nncw_tensor_f32(&x), sa, sb, res, relu,
                                                 nncw_tensor_f32(&yr));
        nncw_kernel_scale_shift_add_relu_f32(N, CH, S, nncw_tensor_f32(&x), sa, sb, res, relu,
                                             nncw_tensor_f32(&y));
        ck_assert_msg(!memcmp(y.data, yr.data, nncw_tensor_nbytes(&y)), "mode %d differs", mode);
        ck_assert_msg(isnan(nncw_tensor_f32(&y)[7]), "mode %d: NaN did not pass", mode);
        memcpy(y.data, x.data, nncw_tensor_nbytes(&x)); /* in place */
        nncw_kernel_scale_shift_add_relu_f32(N, CH, S, nncw_tensor_f32(&y), sa, sb, res, relu,
                                             nncw_tensor_f32(&y));
        ck_assert_msg(!memcmp(y.data, yr.data, nncw_tensor_nbytes(&y)), "mode %d in place", mode);
    }
    /* spot check against hand arithmetic: element 1 of channel 1 with everything on */
    nncw_kernel_scale_shift_add_relu_f32(N, CH, S, nncw_tensor_f32(&x), a, b, nncw_tensor_f32(&r),
                                         true, nncw_tensor_f32(&y));
    float v = nncw_tensor_f32(&x)[S + 1] * a[1] + b[1] + nncw_tensor_f32(&r)[S + 1];
    ck_assert_float_eq(nncw_tensor_f32(&y)[S + 1], v < 0 ? 0.0f : v);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&r);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&yr);
}
END_TEST

static Suite *exec_fold_bn_suite(void)
{
    Suite *s = suite_create("exec_fold_bn");
    TCase *tc = tcase_create("equivalence");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_folded_chains_match_unfused);
    tcase_add_test(tc, test_unfolded_chains_match_unfused_bit_for_bit);
    tcase_add_test(tc, test_chain_stops_at_a_graph_output);
    tcase_add_test(tc, test_two_chains_meeting_at_one_add);
    tcase_add_test(tc, test_conv_with_two_readers_is_not_folded);
    tcase_add_test(tc, test_wrong_epsilon_would_be_caught);
    tcase_add_test(tc, test_changed_parameters_are_refolded);
    tcase_add_test(tc, test_resnet20_matches_unfused);
    suite_add_tcase(s, tc);
    tc = tcase_create("when");
    tcase_add_test(tc, test_training_backward_and_keep_values_do_not_fold);
    tcase_add_test(tc, test_observer_runs_nodes_as_written);
    suite_add_tcase(s, tc);
    tc = tcase_create("kernel");
    tcase_add_test(tc, test_output_pass_kernel_matches_ref);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(exec_fold_bn_suite());
}
