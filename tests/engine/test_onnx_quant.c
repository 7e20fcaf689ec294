/*
 * Quantized models through ONNX: nncw's quantizers exported as FakeQuantize and as
 * QuantizeLinear/DequantizeLinear, re-imported, and compared with the in-memory model; imports
 * of hand-made FakeQuantize models, and malformed ones.
 *
 * Tolerance: the re-imported model computes the same levels with other float expressions
 * (FakeQuantize's (x - low) / (high - low) * (levels - 1), QuantizeLinear's x / scale), so a
 * value may differ by float rounding, and an element sitting within that of a rounding tie could
 * move by one level; outputs are compared at 1e-5 absolute + 1e-5 relative, and no element of
 * this network sits that close to a tie (the test would show it).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "onnx/onnx.h"
#include "quant_net.h"

/* ---- running and counting ---- */

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

static int count_op(const struct nncw_graph *g, enum nncw_op op)
{
    int k = 0;
    for (int i = 0; i < nncw_graph_count_nodes(g); i++)
        k += nncw_node_get_op(nncw_graph_get_node(g, i)) == op;
    return k;
}

static bool has_param(const struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++)
        if (strcmp(nncw_graph_get_value_name(g, nncw_graph_get_param(g, i)), name) == 0)
            return true;
    return false;
}

static const struct nncw_tensor *param_named(const struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (strcmp(nncw_graph_get_value_name(g, id), name) == 0)
            return nncw_graph_get_value_tensor(g, id);
    }
    ck_abort_msg("no parameter '%s'", name);
    return NULL;
}

/* exports g, imports the result; the bytes into *data (nncw_free) when asked */
static void export_import(struct nncw_graph *g, bool standard, struct nncw_graph **out)
{
    struct nncw_onnx_export_options eo = {.standard_ops = standard};
    void *data;
    size_t len;
    nncwt_assert_status(nncw_onnx_export_buffer(g, &eo, &data, &len), NNCW_OK);
    nncwt_assert_status(nncw_onnx_import_buffer(data, len, NULL, out), NNCW_OK);
    nncw_free(data);
}

static void assert_error_mentions(const char *a, const char *b)
{
    const char *e = nncw_last_error();
    if (!strstr(e, a) || (b && !strstr(e, b)))
        ck_abort_msg("error '%s' does not mention '%s' and '%s'", e, a, b ? b : "");
}

/* ---- export, import, same outputs ---- */

static void check_roundtrip(bool standard, bool narrow)
{
    struct nncw_graph *g = NULL, *h, *h2;
    struct nncw_tensor x, want, got, got2;
    nncwt_assert_status(qnet_build(narrow, &g), NNCW_OK);
    nncwt_assert_status(qnet_input(3, &x), NNCW_OK);
    run_graph(g, &x, &want);
    export_import(g, standard, &h);
    run_graph(h, &x, &got);
    nncwt_assert_tensor_near(&got, &want, 1e-5, 1e-5);
    /* what was written: 5 enabled quantizers, the disabled one left out; ranges not written as
     * parameters; the half-range weight clamped under its own name; the bias read directly */
    if (standard) {
        ck_assert_int_eq(count_op(h, NNCW_OP_FAKEQUANTIZE), 0);
        ck_assert_int_eq(count_op(h, NNCW_OP_DEQUANTIZELINEAR), 5);
        /* QuantizeLinear of the two weights folded into integer constants at import */
        ck_assert_int_eq(count_op(h, NNCW_OP_QUANTIZELINEAR), 3);
    } else {
        ck_assert_int_eq(count_op(h, NNCW_OP_FAKEQUANTIZE), 5);
        ck_assert_int_eq(count_op(h, NNCW_OP_QUANTIZELINEAR), 0);
        ck_assert(has_param(h, "fc.weight"));
        ck_assert(has_param(h, "conv1.weight"));
        /* the half-range weight is clamped to the 7-bit range [-64, 63] * scale / 63 */
        const struct nncw_tensor *w = param_named(h, "fc.weight");
        const float scale[5] = {0.2f, 0.25f, 0.1f, 0.29f, 0.15f};
        for (int64_t i = 0; i < nncw_tensor_numel(w); i++) {
            float v = nncw_tensor_f32(w)[i], s = scale[i / 64];
            ck_assert(v <= s * 1.0001f && v >= -s * 64.0f / 63.0f * 1.0001f);
        }
        /* the FakeQuantize of the per-channel conv weight has [4, 1, 1, 1] ranges */
        ck_assert_int_eq(param_named(h, "Net/conv1/weight_quant/input_low")->ndim, 4);
        ck_assert_int_eq(param_named(h, "Net/conv1/weight_quant/input_low")->shape[0], 4);
        ck_assert_int_eq(param_named(h, "Net/out_quant/input_high")->shape[1], 5);
        ck_assert_int_eq(param_named(h, "Net/x_quant/input_high")->ndim, 0);
    }
    ck_assert(!has_param(h, "conv1.weight_quant.scale"));
    ck_assert(!has_param(h, "fc.bias_quant.scale"));
    ck_assert(has_param(h, "fc.bias"));
    ck_assert_int_eq(count_op(h, NNCW_OP_QUANTIZE_SYMMETRIC), 0);
    /* export -> import -> export -> import is stable */
    export_import(h, standard, &h2);
    run_graph(h2, &x, &got2);
    nncwt_assert_tensor_near(&got2, &got, 0, 0);
    nncw_graph_free(g);
    nncw_graph_free(h);
    nncw_graph_free(h2);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&got);
    nncw_tensor_fini(&got2);
}

START_TEST(test_fakequantize_export_computes_the_same)
{
    check_roundtrip(false, false);
    check_roundtrip(false, true);
}
END_TEST

START_TEST(test_qdq_export_computes_the_same)
{
    check_roundtrip(true, false);
    check_roundtrip(true, true); /* narrow weights: clamped before QuantizeLinear */
}
END_TEST

START_TEST(test_half_range_export_matches_per_element)
{
    /* a half-range activation quantizer (Max/Min clamp nodes) and a half-range asymmetric one,
     * element by element on values spread across and beyond the range */
    struct nncw_graph *g, *h;
    int x, s, lo, r, y1, y2;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 3}, &x),
                        NNCW_OK);
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 1, (int64_t[]){3}, (float[]){0.5f, 1.0f, 2.0f});
    nncwt_assert_status(nncw_graph_add_param(g, "s", &t, true, &s), NNCW_OK);
    nncw_tensor_fini(&t);
    nncwt_tensor_from(&t, 1, (int64_t[]){1}, (float[]){-0.7f});
    nncwt_assert_status(nncw_graph_add_param(g, "lo", &t, true, &lo), NNCW_OK);
    nncw_tensor_fini(&t);
    nncwt_tensor_from(&t, 1, (int64_t[]){1}, (float[]){1.9f});
    nncwt_assert_status(nncw_graph_add_param(g, "r", &t, true, &r), NNCW_OK);
    nncw_tensor_fini(&t);
    struct nncw_node *n = NULL;
    nncwt_assert_status(
        qnet_quantizer(g, NNCW_OP_QUANTIZE_SYMMETRIC, "q1", x, s, -1, -64, 63, 1, &y1, &n),
        NNCW_OK);
    nncw_node_set_attr_int(n, "half_range", 1);
    nncwt_assert_status(
        qnet_quantizer(g, NNCW_OP_QUANTIZE_ASYMMETRIC, "q2", y1, lo, r, 0, 127, -1, &y2, &n),
        NNCW_OK);
    nncw_node_set_attr_int(n, "half_range", 1);
    nncwt_assert_status(nncw_graph_add_output(g, y2), NNCW_OK);
    struct nncw_tensor in, want, got;
    nncwt_tensor_rand(&in, 2, (int64_t[]){400, 3}, -3, 3, 5);
    run_graph(g, &in, &want);
    for (int standard = 0; standard < 2; standard++) {
        export_import(g, standard, &h);
        ck_assert_int_eq(count_op(h, NNCW_OP_MAX), 2);
        ck_assert_int_eq(count_op(h, NNCW_OP_MIN), 2);
        run_graph(h, &in, &got);
        nncwt_assert_tensor_near(&got, &want, 1e-6, 1e-5);
        nncw_tensor_fini(&got);
        nncw_graph_free(h);
    }
    nncw_graph_free(g);
    nncw_tensor_fini(&in);
    nncw_tensor_fini(&want);
}
END_TEST

START_TEST(test_qdq_refuses_other_bit_widths)
{
    struct nncw_graph *g;
    int x, s, y;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 3}, &x),
                        NNCW_OK);
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 1, (int64_t[]){1}, (float[]){1});
    nncwt_assert_status(nncw_graph_add_param(g, "s", &t, true, &s), NNCW_OK);
    nncw_tensor_fini(&t);
    nncwt_assert_status(
        qnet_quantizer(g, NNCW_OP_QUANTIZE_SYMMETRIC, "Net/q4bit", x, s, -1, -8, 7, -1, &y, NULL),
        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    struct nncw_onnx_export_options eo = {.standard_ops = true};
    void *data;
    size_t len;
    nncwt_assert_status(nncw_onnx_export_buffer(g, &eo, &data, &len), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("'Net/q4bit'", "16 levels");
    /* FakeQuantize takes any level count */
    eo.standard_ops = false;
    nncwt_assert_status(nncw_onnx_export_buffer(g, &eo, &data, &len), NNCW_OK);
    struct nncw_graph *h;
    nncwt_assert_status(nncw_onnx_import_buffer(data, len, NULL, &h), NNCW_OK);
    nncw_free(data);
    ck_assert_int_eq(nncw_node_get_attr_int(nncw_graph_get_node(h, 0), "levels", 0), 16);
    nncw_graph_free(h);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_disabled_quantizer_on_an_output)
{
    struct nncw_graph *g, *h;
    int x, s, y;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 3}, &x),
                        NNCW_OK);
    struct nncw_tensor t, in, got;
    nncwt_tensor_from(&t, 1, (int64_t[]){1}, (float[]){0.1f});
    nncwt_assert_status(nncw_graph_add_param(g, "s", &t, true, &s), NNCW_OK);
    nncw_tensor_fini(&t);
    struct nncw_node *n = NULL;
    nncwt_assert_status(
        qnet_quantizer(g, NNCW_OP_QUANTIZE_SYMMETRIC, "q", x, s, -1, -128, 127, -1, &y, &n),
        NNCW_OK);
    nncw_node_set_attr_int(n, "enabled", 0);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    export_import(g, false, &h);
    ck_assert_int_eq(count_op(h, NNCW_OP_IDENTITY), 1);
    ck_assert_int_eq(nncw_graph_count_params(h), 0);
    nncwt_tensor_rand(&in, 2, (int64_t[]){2, 3}, -3, 3, 6);
    run_graph(h, &in, &got);
    nncwt_assert_tensor_near(&got, &in, 0, 0);
    nncw_tensor_fini(&in);
    nncw_tensor_fini(&got);
    nncw_graph_free(g);
    nncw_graph_free(h);
}
END_TEST

/* ---- hand-made models ---- */

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

static void pb_msg(struct pb *b, int field, struct pb *m)
{
    pb_bytes(b, field, m->p, m->n);
    free(m->p);
    memset(m, 0, sizeof *m);
}

/* a float scalar initializer */
static void pb_scalar(struct pb *g, const char *name, float v)
{
    struct pb t = {0};
    pb_int(&t, 2, 1);
    pb_bytes(&t, 9, &v, sizeof v);
    pb_str(&t, 8, name);
    pb_msg(g, 5, &t);
}

/* graph input/output x, y: float [2, 3] */
static void pb_io(struct pb *g, int field, const char *name)
{
    struct pb vi = {0}, tp = {0}, tt = {0}, sh = {0};
    for (int d = 0; d < 2; d++) {
        struct pb dim = {0};
        pb_int(&dim, 1, d ? 3 : 2);
        pb_msg(&sh, 1, &dim);
    }
    pb_int(&tt, 1, 1);
    pb_msg(&tt, 2, &sh);
    pb_msg(&tp, 1, &tt);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &tp);
    pb_msg(g, field, &vi);
}

enum levels_attr { LEVELS_INT, LEVELS_MISSING, LEVELS_FLOAT };

/* x -> FakeQuantize(x, lo, hi, lo, hi) -> y; n_in inputs, levels as asked */
static struct pb fq_model(const char *domain, int n_in, enum levels_attr how, int64_t levels)
{
    struct pb g = {0}, node = {0}, m = {0};
    const char *in[] = {"x", "lo", "hi", "lo", "hi"};
    for (int i = 0; i < n_in; i++)
        pb_str(&node, 1, in[i]);
    pb_str(&node, 2, "y");
    pb_str(&node, 3, "fq1");
    pb_str(&node, 4, "FakeQuantize");
    if (domain)
        pb_str(&node, 7, domain);
    if (how != LEVELS_MISSING) {
        struct pb a = {0};
        pb_str(&a, 1, "levels");
        if (how == LEVELS_INT) {
            pb_int(&a, 3, levels);
            pb_int(&a, 20, 2);
        } else {
            float f = (float)levels;
            pb_varint(&a, 2 << 3 | 5);
            for (int k = 0; k < 4; k++)
                pb_byte(&a, ((uint8_t *)&f)[k]);
            pb_int(&a, 20, 1);
        }
        pb_msg(&node, 5, &a);
    }
    pb_msg(&g, 1, &node);
    pb_str(&g, 2, "g");
    pb_scalar(&g, "lo", -1.0f);
    pb_scalar(&g, "hi", 2.0f);
    pb_io(&g, 11, "x");
    pb_io(&g, 12, "y");
    struct pb os = {0}, ov = {0};
    pb_int(&m, 1, 7);
    pb_str(&os, 1, "");
    pb_int(&os, 2, 13);
    pb_msg(&m, 8, &os);
    pb_str(&ov, 1, "org.openvinotoolkit");
    pb_int(&ov, 2, 1);
    pb_msg(&m, 8, &ov);
    pb_msg(&m, 7, &g);
    return m;
}

static enum nncw_status import_pb(struct pb *m, struct nncw_graph **g)
{
    enum nncw_status s = nncw_onnx_import_buffer(m->p, m->n, NULL, g);
    free(m->p);
    memset(m, 0, sizeof *m);
    return s;
}

START_TEST(test_import_handmade_fakequantize)
{
    struct pb m = fq_model("org.openvinotoolkit", 5, LEVELS_INT, 4);
    struct nncw_graph *g;
    nncwt_assert_status(import_pb(&m, &g), NNCW_OK);
    ck_assert_int_eq(count_op(g, NNCW_OP_FAKEQUANTIZE), 1);
    struct nncw_tensor x, y;
    /* 4 levels on [-1, 2]: -1, 0, 1, 2 */
    nncwt_tensor_from(&x, 2, (int64_t[]){2, 3}, (float[]){-5, -1, -0.4f, 0.6f, 1.4f, 7});
    run_graph(g, &x, &y);
    const float want[] = {-1, -1, 0, 1, 1, 2};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(nncw_tensor_f32(&y)[i], want[i], 1e-6f);
    /* its ranges are not trainable */
    for (int i = 0; i < nncw_graph_count_params(g); i++)
        ck_assert(!nncw_graph_is_trainable(g, nncw_graph_get_param(g, i)));
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&y);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_import_malformed_fakequantize)
{
    struct nncw_graph *g = NULL;
    struct pb m = fq_model("org.openvinotoolkit", 5, LEVELS_MISSING, 0);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_PARSE);
    assert_error_mentions("\"fq1\"", "levels is missing");
    m = fq_model("org.openvinotoolkit", 4, LEVELS_INT, 256);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_PARSE);
    assert_error_mentions("\"fq1\"", "4 inputs");
    m = fq_model("org.openvinotoolkit", 5, LEVELS_INT, 1);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_PARSE);
    assert_error_mentions("\"fq1\"", "levels 1");
    m = fq_model("org.openvinotoolkit", 5, LEVELS_FLOAT, 256);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_PARSE);
    assert_error_mentions("\"fq1\"", "not an integer");
    m = fq_model(NULL, 5, LEVELS_INT, 256); /* the default domain has no FakeQuantize */
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("\"fq1\"", "org.openvinotoolkit");
    m = fq_model("com.example", 5, LEVELS_INT, 256);
    nncwt_assert_status(import_pb(&m, &g), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("\"fq1\"", "com.example.FakeQuantize");
    ck_assert_ptr_null(g);
}
END_TEST

static Suite *onnx_quant_suite(void)
{
    Suite *s = suite_create("onnx_quant");
    TCase *tc = tcase_create("export");
    tcase_add_test(tc, test_fakequantize_export_computes_the_same);
    tcase_add_test(tc, test_qdq_export_computes_the_same);
    tcase_add_test(tc, test_half_range_export_matches_per_element);
    tcase_add_test(tc, test_qdq_refuses_other_bit_widths);
    tcase_add_test(tc, test_disabled_quantizer_on_an_output);
    suite_add_tcase(s, tc);
    tc = tcase_create("import");
    tcase_add_test(tc, test_import_handmade_fakequantize);
    tcase_add_test(tc, test_import_malformed_fakequantize);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(onnx_quant_suite());
}
