/*
 * ONNX import and export: round trips (graph -> ONNX -> graph gives the same graph, outputs and
 * bytes), one tiny model per mapped op, the PyTorch fixtures of tests/data/onnx, the batch
 * folding of shape chains, TensorProto files, and errors: unsupported ops name node and op,
 * truncated, corrupt and hostile files are refused with a status, allocation failures are
 * handled.
 *
 * Hand-made (and broken) models are encoded here with a minimal protobuf writer, since only
 * engine/onnx sees the generated ONNX types.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "onnx/onnx.h"
#include "zoo/zoo.h"

/* ---- a minimal protobuf writer ---- */

struct pb {
    uint8_t *p;
    size_t n, cap;
};

static void pb_byte(struct pb *b, uint8_t v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    b->p[b->n++] = v;
}

static void pb_varint(struct pb *b, uint64_t v)
{
    do {
        pb_byte(b, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}

static void pb_int(struct pb *b, int field, int64_t v)
{
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, (uint64_t)v);
}

static void pb_bytes(struct pb *b, int field, const void *data, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    for (size_t i = 0; i < n; i++)
        pb_byte(b, ((const uint8_t *)data)[i]);
}

static void pb_str(struct pb *b, int field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

/* appends m as a submessage and frees it */
static void pb_msg(struct pb *b, int field, struct pb *m)
{
    pb_bytes(b, field, m->p, m->n);
    free(m->p);
    memset(m, 0, sizeof *m);
}

/* ValueInfoProto of a float tensor; dims -1 are symbolic ("N") */
static void pb_value_info(struct pb *g, int field, const char *name, int elem, int ndim,
                          const int64_t *dims)
{
    struct pb vi = {0}, tp = {0}, tt = {0}, sh = {0};
    for (int d = 0; d < ndim; d++) {
        struct pb dim = {0};
        if (dims[d] < 0)
            pb_str(&dim, 2, "N");
        else
            pb_int(&dim, 1, dims[d]);
        pb_msg(&sh, 1, &dim);
    }
    pb_int(&tt, 1, elem);
    pb_msg(&tt, 2, &sh);
    pb_msg(&tp, 1, &tt);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &tp);
    pb_msg(g, field, &vi);
}

/* a NodeProto with n_in inputs, one output, optional prepared attributes */
static void pb_node(struct pb *g, const char *op, const char *name, int n_in, const char *const *in,
                    const char *out, struct pb *attrs)
{
    struct pb n = {0};
    for (int i = 0; i < n_in; i++)
        pb_str(&n, 1, in[i]);
    pb_str(&n, 2, out);
    if (name)
        pb_str(&n, 3, name);
    pb_str(&n, 4, op);
    if (attrs && attrs->n) {
        for (size_t i = 0; i < attrs->n; i++) /* attrs holds complete attribute fields */
            pb_byte(&n, attrs->p[i]);
        free(attrs->p);
        memset(attrs, 0, sizeof *attrs);
    }
    pb_msg(g, 1, &n);
}

static void pb_attr_int(struct pb *attrs, const char *name, int64_t v)
{
    struct pb a = {0};
    pb_str(&a, 1, name);
    pb_int(&a, 3, v);
    pb_int(&a, 20, 2);
    pb_msg(attrs, 5, &a);
}

/* the model around a graph */
static struct pb pb_model(struct pb *graph, int opset)
{
    struct pb m = {0}, os = {0};
    pb_int(&m, 1, 7);
    pb_str(&m, 2, "nncw-test");
    pb_str(&os, 1, "");
    pb_int(&os, 2, opset);
    pb_msg(&m, 8, &os);
    pb_str(graph, 2, "g");
    pb_msg(&m, 7, graph);
    return m;
}

/* x [N, 3] -> op -> y, with optional attributes */
static struct pb one_op_model(const char *op, const char *name, struct pb *attrs)
{
    struct pb g = {0};
    const char *in[] = {"x"};
    pb_node(&g, op, name, 1, in, "y", attrs);
    pb_value_info(&g, 11, "x", 1, 2, (int64_t[]){-1, 3});
    pb_value_info(&g, 12, "y", 1, 2, (int64_t[]){-1, 3});
    return pb_model(&g, 13);
}

static enum nncw_status import_pb(const struct pb *m, struct nncw_graph **g)
{
    return nncw_onnx_import_buffer(m->p, m->n, NULL, g);
}

static void assert_error_mentions(const char *a, const char *b)
{
    const char *e = nncw_last_error();
    if (!strstr(e, a) || (b && !strstr(e, b)))
        ck_abort_msg("error '%s' does not mention '%s' and '%s'", e, a, b ? b : "");
}

/* ---- running graphs ---- */

/* runs g on x (input 0) at batch x->shape[0] into a copy of output 0 */
static void run_graph(struct nncw_graph *g, const struct nncw_tensor *x, struct nncw_tensor *y)
{
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = x->shape[0]};
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    nncwt_assert_status(nncw_tensor_copy(nncw_exec_get_input(ex, 0), x), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    nncwt_assert_status(nncw_tensor_init_copy(y, nncw_exec_get_output(ex, 0)), NNCW_OK);
    nncw_exec_free(ex);
}

static void assert_same_graph(struct nncw_graph *a, struct nncw_graph *b)
{
    ck_assert_int_eq(nncw_graph_count_nodes(a), nncw_graph_count_nodes(b));
    ck_assert_int_eq(nncw_graph_count_params(a), nncw_graph_count_params(b));
    ck_assert_int_eq(nncw_graph_count_inputs(a), nncw_graph_count_inputs(b));
    ck_assert_int_eq(nncw_graph_count_outputs(a), nncw_graph_count_outputs(b));
    for (int i = 0; i < nncw_graph_count_nodes(a); i++) {
        struct nncw_node *na = nncw_graph_get_node(a, i), *nb;
        nncwt_assert_status(nncw_graph_find_node(b, nncw_node_get_name(na), &nb), NNCW_OK);
        ck_assert_int_eq(nncw_node_get_op(na), nncw_node_get_op(nb));
        ck_assert_int_eq(nncw_node_count_inputs(na), nncw_node_count_inputs(nb));
    }
    for (int i = 0; i < nncw_graph_count_params(a); i++) {
        int ia = nncw_graph_get_param(a, i), ib = -1;
        const char *name = nncw_graph_get_value_name(a, ia);
        for (int k = 0; k < nncw_graph_count_params(b); k++)
            if (!strcmp(nncw_graph_get_value_name(b, nncw_graph_get_param(b, k)), name))
                ib = nncw_graph_get_param(b, k);
        if (ib < 0)
            ck_abort_msg("parameter '%s' is missing after the round trip", name);
        const struct nncw_tensor *ta = nncw_graph_get_value_tensor(a, ia);
        const struct nncw_tensor *tb = nncw_graph_get_value_tensor(b, ib);
        ck_assert(nncw_tensor_same_shape(ta, tb) && ta->dtype == tb->dtype);
        ck_assert(memcmp(ta->data, tb->data, nncw_tensor_nbytes(ta)) == 0);
    }
}

/* ---- round trips ---- */

static void roundtrip_zoo(const char *model, int c, int h)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults(model);
    struct nncw_graph *g, *g2, *g3;
    nncwt_assert_status(nncw_zoo_build(model, &zo, &g), NNCW_OK);
    void *buf, *buf2;
    size_t len, len2;
    nncwt_assert_status(nncw_onnx_export_buffer(g, NULL, &buf, &len), NNCW_OK);
    nncwt_assert_status(nncw_onnx_import_buffer(buf, len, NULL, &g2), NNCW_OK);
    nncwt_assert_status(nncw_onnx_export_buffer(g2, NULL, &buf2, &len2), NNCW_OK);
    nncwt_assert_status(nncw_onnx_import_buffer(buf2, len2, NULL, &g3), NNCW_OK);
    /* an imported graph exports to the bytes it came from, and imports to an equal graph
     * (the zoo's graph itself may differ in form: its Clip bounds are attributes) */
    void *buf3;
    size_t len3;
    nncwt_assert_status(nncw_onnx_export_buffer(g3, NULL, &buf3, &len3), NNCW_OK);
    assert_same_graph(g2, g3);
    ck_assert_uint_eq(len2, len3);
    ck_assert(memcmp(buf2, buf3, len2) == 0);
    if (strcmp(model, "mobilenet_v2") != 0) {
        ck_assert_uint_eq(len, len2);
        ck_assert(memcmp(buf, buf2, len) == 0);
    }
    nncw_free(buf3);
    struct nncw_tensor x, y1, y2;
    nncwt_tensor_rand(&x, 4, (int64_t[]){3, c, h, h}, -1, 1, 5);
    run_graph(g, &x, &y1);
    run_graph(g2, &x, &y2);
    nncwt_assert_tensor_near(&y2, &y1, 0, 0);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&y1);
    nncw_tensor_fini(&y2);
    nncw_free(buf);
    nncw_free(buf2);
    nncw_graph_free(g);
    nncw_graph_free(g2);
    nncw_graph_free(g3);
}

START_TEST(test_onnx_roundtrip_cnn)
{
    roundtrip_zoo("cnn", 1, 28);
}
END_TEST

START_TEST(test_onnx_roundtrip_resnet20)
{
    roundtrip_zoo("resnet20", 3, 32);
}
END_TEST

START_TEST(test_onnx_roundtrip_mobilenet_v2)
{
    /* ReLU6 is Clip with opset-6 attributes in the zoo: exported as opset-13 inputs */
    roundtrip_zoo("mobilenet_v2", 3, 32);
}
END_TEST

START_TEST(test_onnx_export_keeps_names_and_batch)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    struct nncw_graph *g, *g2;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &g), NNCW_OK);
    void *buf;
    size_t len;
    nncwt_assert_status(nncw_onnx_export_buffer(g, NULL, &buf, &len), NNCW_OK);
    nncwt_assert_status(nncw_onnx_import_buffer(buf, len, NULL, &g2), NNCW_OK);
    int in = nncw_graph_get_input(g2, 0);
    ck_assert_str_eq(nncw_graph_get_value_name(g2, in),
                     nncw_graph_get_value_name(g, nncw_graph_get_input(g, 0)));
    ck_assert(nncw_graph_has_dynamic_batch(g2, in));
    ck_assert_int_eq(nncw_graph_count_param_elements(g2), nncw_graph_count_param_elements(g));
    nncw_free(buf);
    nncw_graph_free(g);
    nncw_graph_free(g2);
}
END_TEST

/* ---- one tiny model per op: built as an nncw graph, exported, imported, run ---- */

struct op_case {
    enum nncw_op op;
    int n_in;
    int64_t shape[3][4];
    int ndim[3];
    enum nncw_dtype dt[3]; /* F32 inputs are graph inputs (the first) or weights */
    int64_t ints[3][4];    /* values of int64 inputs (constants) */
    nncwt_attr_fn attrs;
};

static void a_axis1(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 1);
}
static void a_keep0(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "axes", 1, (int64_t[]){1});
    nncw_node_set_attr_int(n, "keepdims", 0);
}
static void a_conv(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
    nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
}
static void a_ct(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
}
static void a_resize(struct nncw_node *n)
{
    nncw_node_set_attr_string(n, "mode", "linear");
}
static void a_perm(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "perm", 4, (int64_t[]){0, 2, 3, 1});
}
static void a_pool(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
}
static void a_lrn(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "size", 3);
}
static void a_clip_attr(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "min", -0.5f);
    nncw_node_set_attr_float(n, "max", 0.5f);
}
static void a_pad_attr(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "pads", 8, (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1});
    nncw_node_set_attr_float(n, "value", 2.0f);
}

#define X4                                                                                         \
    {                                                                                              \
        2, 3, 4, 4                                                                                 \
    }
static const struct op_case op_cases[] = {
    {NNCW_OP_RELU, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_CLIP, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, a_clip_attr},
    {NNCW_OP_PAD, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, a_pad_attr},
    {NNCW_OP_SWISH, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_EXP, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_SELU, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_CONV, 2, {X4, {5, 3, 3, 3}}, {4, 4}, {NNCW_DTYPE_F32, NNCW_DTYPE_F32}, {{0}}, a_conv},
    {NNCW_OP_CONVTRANSPOSE,
     2,
     {X4, {3, 2, 3, 3}},
     {4, 4},
     {NNCW_DTYPE_F32, NNCW_DTYPE_F32},
     {{0}},
     a_ct},
    {NNCW_OP_MAXPOOL, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, a_pool},
    {NNCW_OP_TRANSPOSE, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, a_perm},
    {NNCW_OP_DIV, 2, {X4, {3, 1, 1}}, {4, 3}, {NNCW_DTYPE_F32, NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_PRELU, 2, {X4, {3, 1, 1}}, {4, 3}, {NNCW_DTYPE_F32, NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_MAX, 2, {X4, {4}}, {4, 1}, {NNCW_DTYPE_F32, NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_REDUCEMEAN, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, a_keep0},
    {NNCW_OP_REDUCESUM, 2, {X4, {1}}, {4, 1}, {NNCW_DTYPE_F32, NNCW_DTYPE_I64}, {{0}, {2}}, NULL},
    {NNCW_OP_ARGMAX, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, a_axis1},
    {NNCW_OP_SQUEEZE,
     2,
     {{2, 1, 4, 4}, {1}},
     {4, 1},
     {NNCW_DTYPE_F32, NNCW_DTYPE_I64},
     {{0}, {1}},
     NULL},
    {NNCW_OP_UNSQUEEZE, 2, {X4, {1}}, {4, 1}, {NNCW_DTYPE_F32, NNCW_DTYPE_I64}, {{0}, {-1}}, NULL},
    {NNCW_OP_SLICE,
     3,
     {X4, {1}, {1}},
     {4, 1, 1},
     {NNCW_DTYPE_F32, NNCW_DTYPE_I64, NNCW_DTYPE_I64},
     {{0}, {1}, {3}},
     NULL},
    {NNCW_OP_GATHER,
     2,
     {X4, {2}},
     {4, 1},
     {NNCW_DTYPE_F32, NNCW_DTYPE_I64},
     {{0}, {2, 0}},
     a_axis1},
    {NNCW_OP_TILE,
     2,
     {X4, {4}},
     {4, 1},
     {NNCW_DTYPE_F32, NNCW_DTYPE_I64},
     {{0}, {1, 2, 1, 1}},
     NULL},
    {NNCW_OP_RESIZE,
     3,
     {X4, {0}, {4}},
     {4, 1, 1},
     {NNCW_DTYPE_F32, NNCW_DTYPE_F32, NNCW_DTYPE_F32},
     {{0}},
     a_resize},
    {NNCW_OP_INSTANCENORM,
     3,
     {X4, {3}, {3}},
     {4, 1, 1},
     {NNCW_DTYPE_F32, NNCW_DTYPE_F32, NNCW_DTYPE_F32},
     {{0}},
     NULL},
    {NNCW_OP_LAYERNORM, 2, {X4, {4}}, {4, 1}, {NNCW_DTYPE_F32, NNCW_DTYPE_F32}, {{0}}, NULL},
    {NNCW_OP_LRN, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, a_lrn},
    {NNCW_OP_SOFTMAX, 1, {X4}, {4}, {NNCW_DTYPE_F32}, {{0}}, NULL},
};

/* the case as a graph: input 0 a graph input with a symbolic batch, the rest parameters */
static struct nncw_graph *op_graph(const struct op_case *c)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int ids[3], out;
    int64_t in_shape[4];
    memcpy(in_shape, c->shape[0], sizeof in_shape);
    in_shape[0] = -1;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, c->ndim[0], in_shape, &ids[0]),
                        NNCW_OK);
    for (int i = 1; i < c->n_in; i++) {
        struct nncw_tensor t;
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        if (c->dt[i] == NNCW_DTYPE_F32) {
            nncwt_tensor_rand(&t, c->ndim[i], c->shape[i], 0.5f, 1.5f, (uint64_t)(7 + i));
            if (c->op == NNCW_OP_RESIZE && i == 2) /* scales 1, 1, 2, 1.5 */
                memcpy(t.data, (float[]){1, 1, 2, 1.5f}, 4 * sizeof(float));
        } else {
            nncwt_assert_status(nncw_tensor_init(&t, c->dt[i], c->ndim[i], c->shape[i]), NNCW_OK);
            memcpy(t.data, c->ints[i], nncw_tensor_nbytes(&t));
        }
        nncwt_assert_status(nncw_graph_add_param(g, name, &t, c->dt[i] == NNCW_DTYPE_F32, &ids[i]),
                            NNCW_OK);
        nncw_tensor_fini(&t);
    }
    if (c->op == NNCW_OP_RESIZE)
        ids[1] = -1; /* roi */
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, c->op, "op", c->n_in, ids, 1, &out, &n), NNCW_OK);
    if (c->attrs)
        c->attrs(n);
    nncwt_assert_status(nncw_graph_add_output(g, out), NNCW_OK);
    return g;
}

START_TEST(test_onnx_each_op_roundtrips)
{
    const struct op_case *c = &op_cases[_i];
    struct nncw_graph *g = op_graph(c), *g2;
    void *buf;
    size_t len;
    nncwt_assert_status(nncw_onnx_export_buffer(g, NULL, &buf, &len), NNCW_OK);
    nncwt_assert_status(nncw_onnx_import_buffer(buf, len, NULL, &g2), NNCW_OK);
    struct nncw_tensor x, y1, y2;
    nncwt_tensor_rand(&x, c->ndim[0], c->shape[0], -1, 1, 3);
    run_graph(g, &x, &y1);
    run_graph(g2, &x, &y2);
    ck_assert_int_eq(y1.dtype, y2.dtype);
    ck_assert(nncw_tensor_same_shape(&y1, &y2));
    ck_assert_msg(memcmp(y1.data, y2.data, nncw_tensor_nbytes(&y1)) == 0, "op %s differs",
                  nncw_op_name(c->op));
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&y1);
    nncw_tensor_fini(&y2);
    nncw_free(buf);
    nncw_graph_free(g);
    nncw_graph_free(g2);
}
END_TEST

/* ---- the PyTorch fixtures ---- */

static const char *const fixtures[] = {
    "densenet",           "googlenet_inception", "inception_v3_a",
    "inception_v3_c",     "mobilenet_v2",        "mobilenet_v3_large",
    "mobilenet_v3_small", "resnet18_layer1",     "resnet50_bottleneck",
    "shufflenet_v2",      "squeezenet1_0",       "squeezenet1_1",
};

/* tests/data/onnx, found from this file's path (meson runs tests in the build directory), from
 * the source tree as the working directory, or from NNCW_SOURCE_DIR */
static void data_path(char *buf, size_t size, const char *rel)
{
    const char *root = getenv("NNCW_SOURCE_DIR");
    if (root) {
        snprintf(buf, size, "%s/tests/data/onnx/%s", root, rel);
        return;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(buf, size, "%s/../data/onnx/%s", slash ? dir : ".", rel);
    if (access(buf, R_OK) != 0) /* run from the source tree rather than the build directory */
        snprintf(buf, size, "tests/data/onnx/%s", rel);
}

START_TEST(test_onnx_pytorch_fixture_matches)
{
    const char *name = fixtures[_i];
    char model[2048], in[2048], outp[2048], rel[512];
    snprintf(rel, sizeof rel, "%s/model.onnx", name);
    data_path(model, sizeof model, rel);
    snprintf(rel, sizeof rel, "%s/input_0.pb", name);
    data_path(in, sizeof in, rel);
    snprintf(rel, sizeof rel, "%s/output_0.pb", name);
    data_path(outp, sizeof outp, rel);
    struct nncw_graph *g;
    struct nncw_tensor x, want, got;
    nncwt_assert_status(nncw_onnx_import_file(model, NULL, &g), NNCW_OK);
    nncwt_assert_status(nncw_onnx_read_tensor_file(in, &x, NULL, 0), NNCW_OK);
    nncwt_assert_status(nncw_onnx_read_tensor_file(outp, &want, NULL, 0), NNCW_OK);
    run_graph(g, &x, &got);
    double scale = 0;
    for (int64_t i = 0; i < nncw_tensor_numel(&want); i++)
        scale = fmax(scale, fabs(nncw_tensor_f32(&want)[i]));
    /* within 1e-4 of the output's magnitude, as the issue asks of PyTorch models */
    nncwt_assert_tensor_near(&got, &want, 1e-4 * scale, 0);
    /* and the same after export and import */
    void *buf;
    size_t len;
    struct nncw_graph *g2;
    struct nncw_tensor got2;
    nncwt_assert_status(nncw_onnx_export_buffer(g, NULL, &buf, &len), NNCW_OK);
    nncwt_assert_status(nncw_onnx_import_buffer(buf, len, NULL, &g2), NNCW_OK);
    run_graph(g2, &x, &got2);
    nncwt_assert_tensor_near(&got2, &got, 0, 0);
    nncw_free(buf);
    nncw_graph_free(g2);
    nncw_tensor_fini(&got2);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&got);
    nncw_graph_free(g);
}
END_TEST

/* ---- shapes: the symbolic batch ---- */

/* x [N, 2, 3] -> Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape: PyTorch's
 * x.view(x.size(0), -1) */
static struct pb view_model(void)
{
    struct pb g = {0}, attrs = {0};
    pb_node(&g, "Shape", NULL, 1, (const char *[]){"x"}, "s", NULL);
    pb_attr_int(&attrs, "axis", 0);
    pb_node(&g, "Gather", NULL, 2, (const char *[]){"s", "zero"}, "n", &attrs);
    pb_node(&g, "Unsqueeze", NULL, 2, (const char *[]){"n", "zero1"}, "n1", NULL);
    pb_attr_int(&attrs, "axis", 0);
    pb_node(&g, "Concat", NULL, 2, (const char *[]){"n1", "minus1"}, "shape", &attrs);
    pb_node(&g, "Reshape", NULL, 2, (const char *[]){"x", "shape"}, "y", NULL);
    struct pb t = {0};
    pb_int(&t, 2, 7);
    pb_str(&t, 8, "zero");
    pb_bytes(&t, 9, (int64_t[]){0}, 8);
    pb_msg(&g, 5, &t);
    pb_int(&t, 1, 1);
    pb_int(&t, 2, 7);
    pb_str(&t, 8, "zero1");
    pb_bytes(&t, 9, (int64_t[]){0}, 8);
    pb_msg(&g, 5, &t);
    pb_int(&t, 1, 1);
    pb_int(&t, 2, 7);
    pb_str(&t, 8, "minus1");
    pb_bytes(&t, 9, (int64_t[]){-1}, 8);
    pb_msg(&g, 5, &t);
    pb_value_info(&g, 11, "x", 1, 3, (int64_t[]){-1, 2, 3});
    pb_value_info(&g, 12, "y", 1, 2, (int64_t[]){-1, 6});
    return pb_model(&g, 13);
}

START_TEST(test_onnx_shape_chain_folds_with_symbolic_batch)
{
    struct pb m = view_model();
    struct nncw_graph *g;
    nncwt_assert_status(import_pb(&m, &g), NNCW_OK);
    /* the chain folded into one Reshape with a constant target */
    ck_assert_int_eq(nncw_graph_count_nodes(g), 1);
    ck_assert_int_eq(nncw_node_get_op(nncw_graph_get_node(g, 0)), NNCW_OP_RESHAPE);
    for (int64_t batch = 1; batch <= 5; batch += 2) {
        struct nncw_tensor x, y;
        nncwt_tensor_rand(&x, 3, (int64_t[]){batch, 2, 3}, -1, 1, 1);
        run_graph(g, &x, &y);
        ck_assert_int_eq(y.ndim, 2);
        ck_assert_int_eq(y.shape[0], batch);
        ck_assert_int_eq(y.shape[1], 6);
        ck_assert(memcmp(x.data, y.data, nncw_tensor_nbytes(&x)) == 0);
        nncw_tensor_fini(&x);
        nncw_tensor_fini(&y);
    }
    nncw_graph_free(g);
    free(m.p);
}
END_TEST

START_TEST(test_onnx_output_that_is_an_input_gets_identity)
{
    struct pb g = {0};
    pb_value_info(&g, 11, "x", 1, 2, (int64_t[]){2, 3});
    pb_value_info(&g, 12, "x", 1, 2, (int64_t[]){2, 3});
    struct pb m = pb_model(&g, 13);
    struct nncw_graph *gr;
    nncwt_assert_status(import_pb(&m, &gr), NNCW_OK);
    ck_assert_int_eq(nncw_graph_count_nodes(gr), 1);
    ck_assert_int_eq(nncw_node_get_op(nncw_graph_get_node(gr, 0)), NNCW_OP_IDENTITY);
    nncw_graph_free(gr);
    free(m.p);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_onnx_unsupported_op_names_node_and_op)
{
    struct pb m = one_op_model("FrobnicateV2", "Frob_12", NULL);
    struct nncw_graph *g = NULL;
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("node \"Frob_12\": op FrobnicateV2 (opset 13) is not supported", NULL);
    ck_assert_ptr_null(g);
    free(m.p);
    /* an unnamed node gets a stable generated name */
    m = one_op_model("FrobnicateV2", NULL, NULL);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("node \"FrobnicateV2_0\"", NULL);
    free(m.p);
}
END_TEST

START_TEST(test_onnx_bad_attribute_names_node)
{
    struct pb attrs = {0};
    pb_attr_int(&attrs, "axis", 7);
    struct pb m = one_op_model("Softmax", "sm", &attrs);
    struct nncw_graph *g = NULL;
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_SHAPE);
    assert_error_mentions("node \"sm\"", "Softmax");
    free(m.p);
}
END_TEST

START_TEST(test_onnx_undefined_input_is_a_parse_error)
{
    struct pb g = {0};
    pb_node(&g, "Relu", "r", 1, (const char *[]){"nowhere"}, "y", NULL);
    pb_value_info(&g, 11, "x", 1, 2, (int64_t[]){2, 3});
    pb_value_info(&g, 12, "y", 1, 2, (int64_t[]){2, 3});
    struct pb m = pb_model(&g, 13);
    struct nncw_graph *gr = NULL;
    nncwt_assert_status(import_pb(&m, &gr), NNCW_ERR_PARSE);
    assert_error_mentions("node \"r\"", "'nowhere'");
    free(m.p);
}
END_TEST

START_TEST(test_onnx_truncated_files_are_refused)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &g), NNCW_OK);
    void *buf;
    size_t len;
    nncwt_assert_status(nncw_onnx_export_buffer(g, NULL, &buf, &len), NNCW_OK);
    nncw_graph_free(g);
    /* every cut through the small header and a sample through the weights */
    for (size_t cut = 0; cut < len; cut += cut < 512 ? 1 : 4099) {
        struct nncw_graph *t = NULL;
        enum nncw_status s = nncw_onnx_import_buffer(buf, cut, NULL, &t);
        ck_assert_msg(s != NNCW_OK || t, "cut at %zu", cut);
        if (s == NNCW_OK)
            nncw_graph_free(t); /* a cut between top-level fields can still be a model */
    }
    nncw_free(buf);
}
END_TEST

START_TEST(test_onnx_corrupt_bytes_are_refused_or_imported)
{
    struct pb m = view_model();
    uint64_t r = 12345;
    for (int k = 0; k < 3000; k++) {
        struct pb c = {malloc(m.n), m.n, m.n};
        memcpy(c.p, m.p, m.n);
        for (int f = 0; f < 3; f++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            c.p[(r >> 33) % c.n] ^= (uint8_t)(r >> 13);
        }
        struct nncw_graph *g = NULL;
        if (import_pb(&c, &g) == NNCW_OK)
            nncw_graph_free(g);
        else
            ck_assert_str_ne(nncw_last_error(), "");
        free(c.p);
    }
    free(m.p);
}
END_TEST

START_TEST(test_onnx_hostile_files)
{
    struct nncw_graph *g = NULL;
    /* not protobuf at all */
    nncwt_assert_status(nncw_onnx_import_buffer("this is not a model", 19, NULL, &g),
                        NNCW_ERR_PARSE);
    assert_error_mentions("not a valid ONNX model", NULL);
    /* a length running past the end */
    uint8_t bad_len[] = {0x3a, 0xff, 0xff, 0xff, 0x0f};
    nncwt_assert_status(nncw_onnx_import_buffer(bad_len, sizeof bad_len, NULL, &g), NNCW_ERR_PARSE);
    /* graphs nested in attributes 10000 deep: refused before the unpacker recurses */
    struct pb deep = {0};
    for (int i = 0; i < 10000; i++) {
        struct pb attr = {0}, node = {0};
        pb_bytes(&attr, 6, deep.p, deep.n); /* AttributeProto.g */
        free(deep.p);
        pb_bytes(&node, 5, attr.p, attr.n); /* NodeProto.attribute */
        free(attr.p);
        memset(&deep, 0, sizeof deep);
        pb_bytes(&deep, 1, node.p, node.n); /* GraphProto.node */
        free(node.p);
    }
    struct pb m = pb_model(&deep, 13);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_PARSE);
    assert_error_mentions("nested too deeply", NULL);
    free(m.p);
    /* an initializer claiming 2^60 elements with no data */
    struct pb gr = {0}, t = {0};
    pb_int(&t, 1, 1ll << 30);
    pb_int(&t, 1, 1ll << 30);
    pb_int(&t, 2, 1);
    pb_str(&t, 8, "w");
    pb_msg(&gr, 5, &t);
    pb_node(&gr, "Relu", "r", 1, (const char *[]){"w"}, "y", NULL);
    pb_value_info(&gr, 12, "y", 1, 2, (int64_t[]){2, 3});
    m = pb_model(&gr, 13);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_PARSE);
    assert_error_mentions("initializer 'w'", NULL);
    free(m.p);
    /* ConstantOfShape asking for 2^40 floats */
    gr = (struct pb){0};
    pb_node(&gr, "ConstantOfShape", "big", 1, (const char *[]){"shape"}, "y", NULL);
    t = (struct pb){0};
    pb_int(&t, 1, 2);
    pb_int(&t, 2, 7);
    pb_str(&t, 8, "shape");
    pb_bytes(&t, 9, (int64_t[]){1 << 20, 1 << 20}, 16);
    pb_msg(&gr, 5, &t);
    pb_value_info(&gr, 12, "y", 1, 2, (int64_t[]){2, 3});
    m = pb_model(&gr, 13);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("node \"big\"", "too large");
    free(m.p);
    ck_assert_ptr_null(g);
}
END_TEST

START_TEST(test_onnx_fuzz_corpus_and_regressions_never_crash)
{
    /* tests/onnx/fuzz_corpus: the seeds (valid models) and inputs the fuzzer once crashed on */
    char dir[2048];
    data_path(dir, sizeof dir, "../../onnx/fuzz_corpus");
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct nncw_graph *g = NULL;
        enum nncw_status s = nncw_onnx_import_file(path, NULL, &g);
        bool seed = strstr(e->d_name, ".onnx") != NULL;
        ck_assert_msg(!seed || s == NNCW_OK, "%s: %s", e->d_name, nncw_last_error());
        ck_assert_msg(s == NNCW_OK || nncw_last_error()[0], "%s: no message", e->d_name);
        nncw_graph_free(g);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 15);
}
END_TEST

START_TEST(test_onnx_files_errors_name_the_path)
{
    struct nncw_graph *g = NULL;
    nncwt_assert_status(nncw_onnx_import_file("/nonexistent/model.onnx", NULL, &g), NNCW_ERR_IO);
    assert_error_mentions("/nonexistent/model.onnx", NULL);
    struct nncw_tensor t;
    nncwt_assert_status(nncw_onnx_read_tensor_file("/nonexistent/x.pb", &t, NULL, 0), NNCW_ERR_IO);
    char path[] = "/tmp/nncw_onnx_test_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "\x0a\x05xx", 4), 4);
    close(fd);
    nncwt_assert_status(nncw_onnx_import_file(path, NULL, &g), NNCW_ERR_PARSE);
    assert_error_mentions(path, "not a valid ONNX model");
    /* a size limit */
    struct nncw_onnx_import_options o = {.max_file_bytes = 2};
    nncwt_assert_status(nncw_onnx_import_file(path, &o, &g), NNCW_ERR_PARSE);
    assert_error_mentions("larger than the limit", NULL);
    unlink(path);
}
END_TEST

START_TEST(test_onnx_import_survives_allocation_failures)
{
    struct pb m = view_model();
    for (long n = 1; n < 400; n++) {
        struct nncw_graph *g = NULL;
        nncw_alloc_fail_after(n);
        enum nncw_status s = import_pb(&m, &g);
        nncw_alloc_fail_after(0);
        ck_assert_msg(s == NNCW_OK || s == NNCW_ERR_NOMEM || s == NNCW_ERR_PARSE,
                      "fail after %ld: %s", n, nncw_last_error());
        nncw_graph_free(g);
        if (s == NNCW_OK)
            break;
    }
    free(m.p);
}
END_TEST

/* ---- tensor files ---- */

START_TEST(test_onnx_tensor_files_roundtrip_every_dtype)
{
    char path[] = "/tmp/nncw_onnx_tensor_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    enum nncw_dtype dts[] = {NNCW_DTYPE_F32, NNCW_DTYPE_I8,  NNCW_DTYPE_U8,
                             NNCW_DTYPE_I32, NNCW_DTYPE_I64, NNCW_DTYPE_BOOL};
    for (size_t k = 0; k < sizeof dts / sizeof dts[0]; k++) {
        struct nncw_tensor t, r;
        nncwt_assert_status(nncw_tensor_init(&t, dts[k], 3, (int64_t[]){2, 0 + 3, 2}), NNCW_OK);
        for (size_t i = 0; i < nncw_tensor_nbytes(&t); i++)
            ((uint8_t *)t.data)[i] = dts[k] == NNCW_DTYPE_BOOL ? (uint8_t)(i & 1) : (uint8_t)i;
        nncwt_assert_status(nncw_onnx_write_tensor_file(path, &t, "t"), NNCW_OK);
        char *name = NULL;
        nncwt_assert_status(nncw_onnx_read_tensor_file(path, &r, &name, 0), NNCW_OK);
        ck_assert_str_eq(name, "t");
        ck_assert_int_eq(r.dtype, t.dtype);
        ck_assert(nncw_tensor_same_shape(&r, &t));
        ck_assert(memcmp(r.data, t.data, nncw_tensor_nbytes(&t)) == 0);
        nncw_free(name);
        nncw_tensor_fini(&t);
        nncw_tensor_fini(&r);
    }
    unlink(path);
}
END_TEST

START_TEST(test_onnx_summary_lists_unsupported_ops)
{
    struct pb m = one_op_model("FrobnicateV2", "Frob_12", NULL);
    char path[] = "/tmp/nncw_onnx_summary_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, m.p, m.n), (ssize_t)m.n);
    close(fd);
    struct nncw_onnx_summary s;
    nncwt_assert_status(nncw_onnx_summarize_file(path, &s), NNCW_OK);
    ck_assert_int_eq(s.opset, 13);
    ck_assert_int_eq(s.n_unsupported, 1);
    ck_assert_str_eq(s.ops[0].op_type, "FrobnicateV2");
    ck_assert_str_eq(s.ops[0].first_node, "Frob_12");
    ck_assert_int_eq(s.n_inputs, 1);
    ck_assert_str_eq(s.input_names[0], "x");
    nncw_onnx_summary_fini(&s);
    unlink(path);
    free(m.p);
}
END_TEST

/* ---- the graph queries export relies on ---- */

START_TEST(test_graph_additions_for_onnx)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, w, y;
    nncwt_assert_status(
        nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 4, (int64_t[]){-1, 2, 5, 5}, &x), NNCW_OK);
    struct nncw_tensor wt;
    nncwt_tensor_rand(&wt, 4, (int64_t[]){3, 2, 3, 3}, -1, 1, 1);
    nncwt_assert_status(nncw_graph_add_param(g, "w", &wt, true, &w), NNCW_OK);
    nncw_tensor_fini(&wt);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_CONV, "conv", 2, (int[]){x, w}, 1, &y, &n),
                        NNCW_OK);
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
    nncw_node_set_attr_string(n, "auto_pad", "VALID");
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    ck_assert(nncw_graph_has_dynamic_batch(g, x));
    /* attributes by position */
    ck_assert_int_eq(nncw_node_count_attrs(n), 2);
    ck_assert_str_eq(nncw_node_get_attr_name(n, 1), "auto_pad");
    ck_assert_int_eq(nncw_node_get_attr_type(n, 0), NNCW_ATTR_INTS);
    ck_assert_int_eq(nncw_node_get_attr_type(n, 1), NNCW_ATTR_STRING);
    /* renaming: a free name works, a taken one is refused naming both */
    nncwt_assert_status(nncw_graph_set_value_name(g, y, "features"), NNCW_OK);
    ck_assert_str_eq(nncw_graph_get_value_name(g, y), "features");
    nncwt_assert_status(nncw_graph_set_value_name(g, y, "w"), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "'features' to 'w'"));
    /* work: 3 x 3 x 3 output pixels, each 2 * 3 * 3 products, per image */
    int64_t macs, flops;
    nncwt_assert_status(nncw_graph_count_flops(g, 2, &macs, &flops), NNCW_OK);
    ck_assert_int_eq(macs, 2 * 3 * 3 * 3 * 18);
    ck_assert_int_eq(flops, 2 * macs);
    nncw_graph_free(g);
}
END_TEST

static Suite *onnx_suite(void)
{
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_onnx_roundtrip_cnn);
    tcase_add_test(tc, test_onnx_roundtrip_resnet20);
    tcase_add_test(tc, test_onnx_roundtrip_mobilenet_v2);
    tcase_add_test(tc, test_onnx_export_keeps_names_and_batch);
    tcase_add_loop_test(tc, test_onnx_each_op_roundtrips, 0,
                        (int)(sizeof op_cases / sizeof op_cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("pytorch");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_onnx_pytorch_fixture_matches, 0,
                        (int)(sizeof fixtures / sizeof fixtures[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("shapes");
    tcase_add_test(tc, test_onnx_shape_chain_folds_with_symbolic_batch);
    tcase_add_test(tc, test_onnx_output_that_is_an_input_gets_identity);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_onnx_unsupported_op_names_node_and_op);
    tcase_add_test(tc, test_onnx_bad_attribute_names_node);
    tcase_add_test(tc, test_onnx_undefined_input_is_a_parse_error);
    tcase_add_test(tc, test_onnx_truncated_files_are_refused);
    tcase_add_test(tc, test_onnx_corrupt_bytes_are_refused_or_imported);
    tcase_add_test(tc, test_onnx_hostile_files);
    tcase_add_test(tc, test_onnx_files_errors_name_the_path);
    tcase_add_test(tc, test_onnx_fuzz_corpus_and_regressions_never_crash);
    tcase_add_test(tc, test_onnx_import_survives_allocation_failures);
    suite_add_tcase(s, tc);
    tc = tcase_create("graph");
    tcase_add_test(tc, test_graph_additions_for_onnx);
    suite_add_tcase(s, tc);
    tc = tcase_create("tensors");
    tcase_add_test(tc, test_onnx_tensor_files_roundtrip_every_dtype);
    tcase_add_test(tc, test_onnx_summary_lists_unsupported_ops);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(onnx_suite());
}
