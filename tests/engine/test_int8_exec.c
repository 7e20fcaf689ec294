/*
 * The integer executor (engine/int8/int8_exec.h) against the float executor on the same
 * quantized graph, the fake-quantized model:
 *
 *   x -> Q_in -> conv1 (Qw1 per-channel, 7-bit half range) -> relu -> Q_a1 (unsigned)
 *     -> maxpool -> conv2 (Qw2 per-channel) -> bn -> Q_a2 (asymmetric) -> add (+ maxpool out)
 *     -> relu -> Q_a3 (signed) -> flatten -> gemm (Qw3 per-channel) -> logits    output 0
 *                                                                   -> Q_out      output 1
 *
 * Bound: every quantizer's codes are bit-identical to the float model's except where float
 * rounding in a folded requantization lands on the other side of a rounding tie (rare), so
 * output 1 agrees within one step of Q_out and output 0 within float rounding plus the effect
 * of such a flip. Variants swap in FakeQuantize and QDQ quantizers, 4-bit levels, an op
 * without an integer kernel and weights that do not fit int8, which must fall back and still
 * agree. Activation ranges come from a calibration pass (min / max of each quantizer's input).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compression/compression.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/common.h"
#include "core/rng.h"
#include "data/data.h"
#include "graph/exec.h"
#include "int8/int8_exec.h"
#include "int8/plan_internal.h"
#include "nncwt.h"
#include "zoo/zoo.h"

enum qform { FORM_NNCF, FORM_OV, FORM_QDQ };

struct variant {
    enum qform form;
    bool bits4;       /* 4-bit activations and weights */
    bool sigmoid;     /* Sigmoid instead of relu after conv1: no integer kernel */
    bool asym_w2;     /* conv2's weights asymmetric with a zero point far from the middle */
    bool no_output_q; /* output 1 left out */
    bool disable_a3;  /* Q_a3 disabled (enabled = 0): the fc runs in float */
    bool tiny;        /* 2x2 images: conv2 sees a 1x1 plane, its kernel cropped to the centre */
    bool a2_shared;   /* a second reader of Q_a2's output: the Add stays a step of its own */
};

/* the input's height and width */
static int plane(const struct variant *v)
{
    return v->tiny ? 2 : 8;
}

struct net {
    struct nncw_graph *g;
    struct nncw_rng r;
    struct variant v;
    int x;
    int q_out; /* node index of Q_out */
    float out_step;
    int n_nodes;
};

static int param(struct net *t, const char *name, int ndim, const int64_t *shape, float lo,
                 float hi)
{
    struct nncw_tensor w;
    ck_assert_int_eq(nncw_tensor_init(&w, NNCW_DTYPE_F32, ndim, shape), NNCW_OK);
    for (int64_t i = 0; i < nncw_tensor_numel(&w); i++)
        nncw_tensor_f32(&w)[i] = lo + (hi - lo) * nncw_rng_uniform(&t->r);
    int id;
    ck_assert_int_eq(nncw_graph_add_param(t->g, name, &w, true, &id), NNCW_OK);
    nncw_tensor_fini(&w);
    return id;
}

static int node(struct net *t, enum nncw_op op, const char *name, int n_in, const int *in,
                struct nncw_node **out)
{
    int y[2];
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(t->g, op, name, n_in, in, 1, y, &n), NNCW_OK);
    if (out)
        *out = n;
    t->n_nodes++;
    return y[0];
}

/* a quantizer on x in the variant's form; per-channel along axis when channels > 1 (weights);
 * scale / ranges are placeholders that calibrate() or the weights set */
static int quant(struct net *t, int x, const char *name, int channels, int axis, int ndim,
                 int64_t ll, int64_t lh, bool asym, bool half)
{
    char pn[96];
    struct nncw_node *n;
    int64_t ps[4] = {1, 1, 1, 1};
    if (channels > 1)
        ps[axis] = channels;
    int pnd = channels > 1 ? ndim : 1;
    if (t->v.form == FORM_NNCF) {
        snprintf(pn, sizeof pn, "%s.p0", name);
        int p0 = param(t, pn, pnd, ps, 1.0f, 1.0f);
        int in[3] = {x, p0, -1};
        if (asym) {
            snprintf(pn, sizeof pn, "%s.p1", name);
            in[2] = param(t, pn, pnd, ps, 2.0f, 2.0f);
        }
        int y = node(t, asym ? NNCW_OP_QUANTIZE_ASYMMETRIC : NNCW_OP_QUANTIZE_SYMMETRIC, name,
                     asym ? 3 : 2, in, &n);
        nncw_node_set_attr_int(n, "level_low", ll);
        nncw_node_set_attr_int(n, "level_high", lh);
        nncw_node_set_attr_int(n, "axis", channels > 1 ? axis : -1);
        if (half)
            nncw_node_set_attr_int(n, "half_range", 1);
        return y;
    }
    if (t->v.form == FORM_OV) {
        int in[5] = {x};
        for (int i = 0; i < 4; i++) {
            snprintf(pn, sizeof pn, "%s.r%d", name, i);
            in[i + 1] = param(t, pn, pnd, ps, i % 2 ? 1.0f : -1.0f, i % 2 ? 1.0f : -1.0f);
        }
        int y = node(t, NNCW_OP_FAKEQUANTIZE, name, 5, in, &n);
        nncw_node_set_attr_int(n, "levels", lh - ll + 1);
        return y;
    }
    /* QDQ: uint8 codes for unsigned / asymmetric, int8 for signed */
    snprintf(pn, sizeof pn, "%s.scale", name);
    int sc = param(t, pn, 1, (int64_t[]){channels}, 0.01f, 0.01f);
    struct nncw_tensor zt;
    bool is_signed = ll < 0;
    ck_assert_int_eq(
        nncw_tensor_init(&zt, is_signed ? NNCW_DTYPE_I8 : NNCW_DTYPE_U8, 1, (int64_t[]){channels}),
        NNCW_OK);
    int zp;
    snprintf(pn, sizeof pn, "%s.zp", name);
    ck_assert_int_eq(nncw_graph_add_param(t->g, pn, &zt, false, &zp), NNCW_OK);
    nncw_tensor_fini(&zt);
    snprintf(pn, sizeof pn, "%s.q", name);
    int q = node(t, NNCW_OP_QUANTIZELINEAR, pn, 3, (int[]){x, sc, zp}, &n);
    nncw_node_set_attr_int(n, "axis", axis);
    int y = node(t, NNCW_OP_DEQUANTIZELINEAR, name, 3, (int[]){q, sc, zp}, &n);
    nncw_node_set_attr_int(n, "axis", axis);
    return y;
}

static int act_quant(struct net *t, int x, const char *name, int ndim, bool is_signed, bool asym)
{
    int64_t top = t->v.bits4 ? 15 : 255;
    if (asym)
        return quant(t, x, name, 1, -1, ndim, 0, top, true, false);
    return is_signed ? quant(t, x, name, 1, -1, ndim, -(top + 1) / 2, top / 2, false, false)
                     : quant(t, x, name, 1, -1, ndim, 0, top, false, false);
}

static int conv(struct net *t, int x, const char *name, int c, int m, bool bias, bool half,
                bool asym)
{
    char pn[96];
    snprintf(pn, sizeof pn, "%s.weight", name);
    int w = param(t, pn, 4, (int64_t[]){m, c, 3, 3}, -0.3f, 0.3f);
    snprintf(pn, sizeof pn, "%s.wq", name);
    int64_t top = t->v.bits4 ? 7 : half ? 63 : 127;
    int wq = asym ? quant(t, w, pn, m, 0, 4, 0, 2 * top + 1, true, false)
                  : quant(t, w, pn, m, 0, 4, -top - 1, top, false, half);
    int in[3] = {x, wq, -1};
    if (bias) {
        snprintf(pn, sizeof pn, "%s.bias", name);
        in[2] = param(t, pn, 1, (int64_t[]){m}, -0.1f, 0.1f);
    }
    struct nncw_node *n;
    int y = node(t, NNCW_OP_CONV, name, bias ? 3 : 2, in, &n);
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
    nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
    return y;
}

static void build(struct net *t, const struct variant *v)
{
    memset(t, 0, sizeof *t);
    t->v = *v;
    nncw_rng_seed(&t->r, 7);
    ck_assert_int_eq(nncw_graph_new(&t->g), NNCW_OK);
    ck_assert_int_eq(nncw_graph_add_input(t->g, "x", NNCW_DTYPE_F32, 4,
                                          (int64_t[]){-1, 3, plane(v), plane(v)}, &t->x),
                     NNCW_OK);
    int y = act_quant(t, t->x, "Net/q_in", 4, true, false);
    y = conv(t, y, "Net/conv1", 3, 8, true, true, false);
    y = node(t, v->sigmoid ? NNCW_OP_SIGMOID : NNCW_OP_RELU, "Net/relu1", 1, &y, NULL);
    y = act_quant(t, y, "Net/q_a1", 4, false, false);
    struct nncw_node *n;
    int pooled = node(t, NNCW_OP_MAXPOOL, "Net/pool", 1, &y, &n);
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
    y = conv(t, pooled, "Net/conv2", 8, 8, false, false, v->asym_w2);
    int bn[5] = {y};
    const char *bnn[4] = {"Net/bn.scale", "Net/bn.bias", "Net/bn.mean", "Net/bn.var"};
    const float bnlo[4] = {0.5f, -0.2f, -0.1f, 0.5f}, bnhi[4] = {1.5f, 0.2f, 0.1f, 1.5f};
    for (int i = 0; i < 4; i++)
        bn[i + 1] = param(t, bnn[i], 1, (int64_t[]){8}, bnlo[i], bnhi[i]);
    y = node(t, NNCW_OP_BATCHNORM, "Net/bn", 5, bn, NULL);
    y = act_quant(t, y, "Net/q_a2", 4, true, true);
    if (v->a2_shared)
        node(t, NNCW_OP_RELU, "Net/a2_side", 1, &y, NULL);
    y = node(t, NNCW_OP_ADD, "Net/add", 2, (int[]){y, pooled}, NULL);
    y = node(t, NNCW_OP_RELU, "Net/relu2", 1, &y, NULL);
    y = act_quant(t, y, "Net/q_a3", 4, true, false);
    if (v->disable_a3)
        nncw_node_set_attr_int(nncw_graph_get_producer(t->g, y), "enabled", 0);
    y = node(t, NNCW_OP_FLATTEN, "Net/flatten", 1, &y, &n);
    nncw_node_set_attr_int(n, "axis", 1);
    int64_t fc_in = 8 * (plane(v) / 2) * (plane(v) / 2);
    int w = param(t, "Net/fc.weight", 2, (int64_t[]){10, fc_in}, -0.2f, 0.2f);
    int wq = quant(t, w, "Net/fc.wq", 10, 0, 2, t->v.bits4 ? -8 : -128, t->v.bits4 ? 7 : 127, false,
                   false);
    int b = param(t, "Net/fc.bias", 1, (int64_t[]){10}, -0.1f, 0.1f);
    int logits = node(t, NNCW_OP_GEMM, "Net/fc", 3, (int[]){y, wq, b}, &n);
    nncw_node_set_attr_int(n, "transB", 1);
    ck_assert_int_eq(nncw_graph_add_output(t->g, logits), NNCW_OK);
    if (!v->no_output_q) {
        y = act_quant(t, logits, "Net/q_out", 2, true, false);
        t->q_out = nncw_node_get_index(nncw_graph_get_producer(t->g, y));
        ck_assert_int_eq(nncw_graph_add_output(t->g, y), NNCW_OK);
    }
}

/* ---- range setting ---- */

struct calib {
    struct nncw_graph *g;
    float lo[64], hi[64];
};

static bool is_quant_node(enum nncw_op op)
{
    return op == NNCW_OP_QUANTIZE_SYMMETRIC || op == NNCW_OP_QUANTIZE_ASYMMETRIC ||
           op == NNCW_OP_FAKEQUANTIZE || op == NNCW_OP_QUANTIZELINEAR;
}

static enum nncw_status observe(void *user, struct nncw_exec *ex, int ni)
{
    struct calib *c = user;
    struct nncw_node *n = nncw_graph_get_node(c->g, ni);
    if (!is_quant_node(nncw_node_get_op(n)) || ni >= 64)
        return NNCW_OK;
    const struct nncw_tensor *x = nncw_exec_get_value(ex, nncw_node_get_input(n, 0));
    for (int64_t i = 0; i < nncw_tensor_numel(x); i++) {
        float v = nncw_tensor_f32(x)[i];
        c->lo[ni] = fminf(c->lo[ni], v);
        c->hi[ni] = fmaxf(c->hi[ni], v);
    }
    return NNCW_OK;
}

static float *pdata(struct nncw_graph *g, struct nncw_node *n, int i)
{
    return nncw_tensor_f32(nncw_graph_get_value_tensor(g, nncw_node_get_input(n, i)));
}

/* Sets quantizer ranges from [lo, hi] per channel (c channels of pdata arrays). Asymmetric
 * weights get a range that clips most negative weights, so their zero point sits near the
 * bottom and codes minus it exceed int8. */
static void set_range(struct net *t, struct nncw_node *n, int c, const float *lo, const float *hi,
                      bool weight)
{
    enum nncw_op op = nncw_node_get_op(n);
    for (int k = 0; k < c; k++) {
        float a = fminf(lo[k], 0.0f), b = fmaxf(fmaxf(hi[k], -lo[k]), 1e-3f);
        if (op == NNCW_OP_QUANTIZE_SYMMETRIC) {
            pdata(t->g, n, 1)[k] = b;
        } else if (op == NNCW_OP_QUANTIZE_ASYMMETRIC) {
            a = weight ? 0.1f * a : a;
            pdata(t->g, n, 1)[k] = a;
            pdata(t->g, n, 2)[k] = fmaxf(hi[k], 0.0f) - a + 1e-3f;
        } else if (op == NNCW_OP_FAKEQUANTIZE) {
            /* symmetric-style grid with 0 on a level: [-b * 128/127, b] for 256 levels */
            int64_t levels = nncw_node_get_attr_int(n, "levels", 256);
            float half = (float)(levels / 2), top = (float)(levels / 2 - 1);
            float low = a < 0.0f ? -b * half / top : 0.0f;
            for (int i = 1; i <= 4; i++)
                pdata(t->g, n, i)[k] = i % 2 ? low : b;
        } else { /* QuantizeLinear: scale, zero point */
            pdata(t->g, n, 1)[k] = a < 0.0f ? b / 127.0f : b / 255.0f;
        }
    }
}

/* weight quantizers from the weights, activation quantizers from a float pass */
static void calibrate(struct net *t, const struct nncw_tensor *x)
{
    struct calib c = {.g = t->g};
    for (int i = 0; i < 64; i++) {
        c.lo[i] = INFINITY;
        c.hi[i] = -INFINITY;
    }
    for (int i = 0; i < nncw_graph_count_nodes(t->g); i++) {
        struct nncw_node *n = nncw_graph_get_node(t->g, i);
        int in = nncw_node_get_input(n, 0);
        if (!is_quant_node(nncw_node_get_op(n)) ||
            nncw_graph_get_value_kind(t->g, in) != NNCW_VALUE_PARAM)
            continue;
        const struct nncw_tensor *w = nncw_graph_get_value_tensor(t->g, in);
        int m = (int)w->shape[0];
        int64_t per = nncw_tensor_numel(w) / m;
        float lo[64], hi[64];
        for (int k = 0; k < m; k++) {
            lo[k] = INFINITY;
            hi[k] = -INFINITY;
            for (int64_t j = 0; j < per; j++) {
                lo[k] = fminf(lo[k], nncw_tensor_f32(w)[k * per + j]);
                hi[k] = fmaxf(hi[k], nncw_tensor_f32(w)[k * per + j]);
            }
        }
        set_range(t, n, m, lo, hi, true);
    }
    struct nncw_exec *ex;
    struct nncw_exec_options eo = {.batch = x->shape[0]};
    nncwt_assert_status(nncw_exec_new(t->g, &eo, &ex), NNCW_OK);
    memcpy(nncw_exec_get_input(ex, 0)->data, x->data, nncw_tensor_nbytes(x));
    nncw_exec_set_observer(ex, observe, &c);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    nncw_exec_free(ex);
    for (int i = 0; i < nncw_graph_count_nodes(t->g); i++) {
        struct nncw_node *n = nncw_graph_get_node(t->g, i);
        if (is_quant_node(nncw_node_get_op(n)) &&
            nncw_graph_get_value_kind(t->g, nncw_node_get_input(n, 0)) != NNCW_VALUE_PARAM)
            set_range(t, n, 1, &c.lo[i], &c.hi[i], false);
    }
}

/* ---- comparing with the float executor ---- */

static void float_model(struct net *t, const struct nncw_tensor *x, struct nncw_tensor out[2])
{
    struct nncw_exec *ex;
    struct nncw_exec_options eo = {.batch = x->shape[0]};
    nncwt_assert_status(nncw_exec_new(t->g, &eo, &ex), NNCW_OK);
    memcpy(nncw_exec_get_input(ex, 0)->data, x->data, nncw_tensor_nbytes(x));
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    for (int i = 0; i < nncw_graph_count_outputs(t->g); i++)
        nncwt_assert_status(nncw_tensor_init_copy(&out[i], nncw_exec_get_output(ex, i)), NNCW_OK);
    nncw_exec_free(ex);
}

static float q_out_step(struct net *t)
{
    struct nncw_node *n = nncw_graph_get_node(t->g, t->q_out);
    if (t->v.form == FORM_QDQ)
        n = nncw_graph_get_node(t->g, t->q_out - 1);
    float p = pdata(t->g, n, 1)[0];
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_QUANTIZE_SYMMETRIC: {
        float lo = nncw_node_get_attr_int(n, "level_low", 0),
              hi = nncw_node_get_attr_int(n, "level_high", 0);
        return p * (1.0f - lo / hi) / (hi - lo);
    }
    case NNCW_OP_FAKEQUANTIZE:
        return (pdata(t->g, n, 4)[0] - pdata(t->g, n, 3)[0]) /
               (float)(nncw_node_get_attr_int(n, "levels", 256) - 1);
    default:
        return p;
    }
}

static void make_input(struct nncw_tensor *x, int batch, uint64_t seed)
{
    nncwt_tensor_rand(x, 4, (int64_t[]){batch, 3, 8, 8}, -1.0f, 1.0f, seed);
}

static void make_input_for(const struct variant *v, struct nncw_tensor *x, int batch, uint64_t seed)
{
    nncwt_tensor_rand(x, 4, (int64_t[]){batch, 3, plane(v), plane(v)}, -1.0f, 1.0f, seed);
}

/* runs the plan and checks both outputs against the float model */
static void check_against_float(struct net *t, const struct nncw_int8_options *o,
                                const struct nncw_tensor *x)
{
    struct nncw_tensor want[2] = {{0}}, got[2] = {{0}};
    float_model(t, x, want);
    struct nncw_int8_plan *p;
    nncwt_assert_status(nncw_int8_plan_build(t->g, o, &p), NNCW_OK);
    int nout = nncw_graph_count_outputs(t->g);
    struct nncw_tensor *outs[2] = {&got[0], &got[1]};
    nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){x}, outs, x->shape[0]),
                        NNCW_OK);
    /* logits: float rounding, plus a rare tie flipping one code upstream */
    float scale = 0.0f;
    for (int64_t i = 0; i < nncw_tensor_numel(&want[0]); i++)
        scale = fmaxf(scale, fabsf(nncw_tensor_f32(&want[0])[i]));
    nncwt_assert_tensor_near(&got[0], &want[0], 2e-3 * scale, 0);
    if (nout > 1) {
        float step = q_out_step(t);
        int same = 0;
        int64_t n = nncw_tensor_numel(&want[1]);
        for (int64_t i = 0; i < n; i++) {
            float d = fabsf(nncw_tensor_f32(&got[1])[i] - nncw_tensor_f32(&want[1])[i]);
            ck_assert_msg(d <= step * 1.001f, "output 1 [%lld]: %g vs %g (step %g)", (long long)i,
                          (double)nncw_tensor_f32(&got[1])[i], (double)nncw_tensor_f32(&want[1])[i],
                          (double)step);
            /* FakeQuantize's q / n * range + low and the plan's (q - zp) * step differ in ulps */
            same += d <= 1e-5f * step;
        }
        ck_assert_msg(same >= n * 9 / 10, "only %d of %lld quantized outputs identical", same,
                      (long long)n);
    }
    for (int i = 0; i < nout; i++) {
        nncw_tensor_fini(&want[i]);
        nncw_tensor_fini(&got[i]);
    }
    nncw_int8_plan_free(p);
}

static void check_variant(const struct variant *v, int batch)
{
    struct net t;
    build(&t, v);
    struct nncw_tensor x;
    make_input_for(v, &x, batch, 3);
    calibrate(&t, &x);
    for (int isa = NNCW_INT8_ISA_C; isa < NNCW_INT8_ISA_COUNT; isa++) {
        if (!nncw_int8_isa_supported((enum nncw_int8_isa)isa))
            continue;
        struct nncw_int8_options o = nncw_int8_defaults();
        o.batch = batch;
        o.isa = (enum nncw_int8_isa)isa;
        check_against_float(&t, &o, &x);
    }
    nncw_tensor_fini(&x);
    nncw_graph_free(t.g);
}

/* the plan's description and counts for a variant */
static struct nncw_int8_plan *plan_of(const struct variant *v, struct net *t)
{
    build(t, v);
    struct nncw_tensor x;
    make_input_for(v, &x, 2, 3);
    calibrate(t, &x);
    nncw_tensor_fini(&x);
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = 2;
    struct nncw_int8_plan *p;
    nncwt_assert_status(nncw_int8_plan_build(t->g, &o, &p), NNCW_OK);
    return p;
}

/* fails with the whole description unless it contains needle */
#define assert_describes(p, needle) assert_describes_at((p), (needle), __LINE__)
static void assert_describes_at(const struct nncw_int8_plan *p, const char *needle, int line)
{
    char buf[8192];
    size_t len = nncw_int8_plan_describe(p, buf, sizeof buf);
    ck_assert(len < sizeof buf);
    ck_assert_msg(strstr(buf, needle) != NULL, "line %d: '%s' not in:\n%s", line, needle, buf);
}

/* ---- tests ---- */

START_TEST(test_int8_exec_matches_fake_quantized_model)
{
    check_variant(&(struct variant){.form = FORM_NNCF}, 5);
}
END_TEST

START_TEST(test_int8_exec_everything_runs_integer)
{
    struct net t;
    struct nncw_int8_plan *p = plan_of(&(struct variant){.form = FORM_NNCF}, &t);
    int ni, nf;
    nncw_int8_plan_count(p, &ni, &nf);
    ck_assert_int_eq(nf, 0);
    ck_assert_int_eq(ni, t.n_nodes);
    assert_describes(p, "int8   gemm     Net/conv1 + Net/relu1 + Net/q_a1 -> u8");
    /* the residual Add runs in conv2's epilogue */
    assert_describes(p, "Net/conv2 + Net/bn + Net/q_a2 + Net/add + Net/relu2 + Net/q_a3 -> u8");
    assert_describes(p, "int8   maxpool  Net/pool");
    assert_describes(p, "Net/fc -> float");
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

/* conv2 on a 1x1 plane: only the centre tap of its kernel reads the image, the rest is
 * dropped (and its zero-point correction with it) */
START_TEST(test_int8_exec_tiny_plane_crops_kernel)
{
    check_variant(&(struct variant){.form = FORM_NNCF, .tiny = true}, 5);
    check_variant(&(struct variant){.form = FORM_NNCF, .tiny = true, .asym_w2 = true}, 3);
    check_variant(&(struct variant){.form = FORM_QDQ, .tiny = true}, 4);
    /* conv2's step multiplies 1 tap of 8 channels per output, not 9 */
    struct net t;
    struct nncw_int8_plan *p = plan_of(&(struct variant){.form = FORM_NNCF, .tiny = true}, &t);
    int conv2 = -1;
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].kind == I8_STEP_GEMM &&
            strcmp(nncw_node_get_name(nncw_graph_get_node(t.g, p->steps[i].nodes[0])),
                   "Net/conv2") == 0)
            conv2 = i;
    ck_assert_int_ge(conv2, 0);
    ck_assert_double_eq(nncw_i8_gemm_macs(&p->steps[conv2]), 2.0 * 8 * 8);
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

/* conv2's codes have another reader: the Add cannot be fused and runs as its own step */
START_TEST(test_int8_exec_unfused_add)
{
    check_variant(&(struct variant){.form = FORM_NNCF, .a2_shared = true}, 3);
    struct net t;
    struct nncw_int8_plan *p = plan_of(&(struct variant){.form = FORM_NNCF, .a2_shared = true}, &t);
    assert_describes(p, "Net/conv2 + Net/bn + Net/q_a2 -> u8");
    assert_describes(p, "int8   add      Net/add + Net/relu2 + Net/q_a3 -> u8");
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_openvino_fake_quantize)
{
    check_variant(&(struct variant){.form = FORM_OV}, 3);
}
END_TEST

START_TEST(test_int8_exec_onnx_qdq)
{
    check_variant(&(struct variant){.form = FORM_QDQ}, 3);
    struct net t;
    struct nncw_int8_plan *p = plan_of(&(struct variant){.form = FORM_QDQ}, &t);
    assert_describes(p, "Net/conv2 + Net/bn + Net/q_a2.q + Net/q_a2 + Net/add + Net/relu2 + "
                        "Net/q_a3.q + Net/q_a3 -> u8");
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_four_bits)
{
    check_variant(&(struct variant){.form = FORM_NNCF, .bits4 = true}, 3);
}
END_TEST

START_TEST(test_int8_exec_falls_back_for_ops_without_kernel)
{
    struct variant v = {.form = FORM_NNCF, .sigmoid = true};
    check_variant(&v, 3);
    struct net t;
    struct nncw_int8_plan *p = plan_of(&v, &t);
    /* conv1 ends in float for the Sigmoid; q_a1 quantizes its output again */
    assert_describes(p, "int8   gemm     Net/conv1 -> float");
    assert_describes(p, "float  float    Net/relu1 (Sigmoid: no integer kernel)");
    assert_describes(p, "int8   quantize Net/q_a1");
    int ni, nf;
    nncw_int8_plan_count(p, &ni, &nf);
    ck_assert_int_eq(nf, 1);
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_falls_back_for_wide_weights)
{
    struct variant v = {.form = FORM_NNCF, .asym_w2 = true};
    check_variant(&v, 2);
    struct net t;
    struct nncw_int8_plan *p = plan_of(&v, &t);
    assert_describes(p, "Net/conv2 (Conv: weight levels minus the zero point do not fit int8)");
    assert_describes(p, "float  float    Net/conv2.wq");
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_falls_back_after_disabled_quantizer)
{
    struct variant v = {.form = FORM_NNCF, .disable_a3 = true};
    check_variant(&v, 2);
    struct net t;
    struct nncw_int8_plan *p = plan_of(&v, &t);
    assert_describes(p, "int8   add      Net/add + Net/relu2 -> float");
    assert_describes(p, "float  float    Net/fc (Gemm: input is not quantized per tensor)");
    assert_describes(p, "float  float    Net/fc.wq (SymmetricQuantize: weight quantizer)");
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_smaller_batch_and_repeat)
{
    struct net t;
    build(&t, &(struct variant){.form = FORM_NNCF, .no_output_q = true});
    struct nncw_tensor x, x2, a = {0}, b = {0}, c = {0};
    make_input(&x, 4, 11);
    calibrate(&t, &x);
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = 4;
    struct nncw_int8_plan *p;
    nncwt_assert_status(nncw_int8_plan_build(t.g, &o, &p), NNCW_OK);
    nncwt_assert_status(
        nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&x}, (struct nncw_tensor *[]){&a}, 4),
        NNCW_OK);
    /* the first two images alone give the first two rows; a second run reuses the output */
    nncw_tensor_init_borrowed(&x2, NNCW_DTYPE_F32, 4, (int64_t[]){2, 3, 8, 8}, x.data);
    nncwt_assert_status(
        nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&x2}, (struct nncw_tensor *[]){&b}, 2),
        NNCW_OK);
    ck_assert_int_eq(b.shape[0], 2);
    ck_assert(memcmp(a.data, b.data, nncw_tensor_nbytes(&b)) == 0);
    nncwt_assert_status(nncw_tensor_init(&c, NNCW_DTYPE_F32, 2, (int64_t[]){4, 10}), NNCW_OK);
    nncwt_assert_status(
        nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&x}, (struct nncw_tensor *[]){&c}, 4),
        NNCW_OK);
    ck_assert(memcmp(a.data, c.data, nncw_tensor_nbytes(&c)) == 0);
    ck_assert_int_ne(nncw_int8_plan_get_isa(p), NNCW_INT8_ISA_AUTO);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&c);
    nncw_tensor_fini(&x);
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_describe_truncates)
{
    struct net t;
    struct nncw_int8_plan *p = plan_of(&(struct variant){.form = FORM_NNCF}, &t);
    char small[16];
    size_t need = nncw_int8_plan_describe(p, small, sizeof small);
    ck_assert_uint_gt(need, sizeof small);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_uint_eq(nncw_int8_plan_describe(p, NULL, 0), need);
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

/* every quantizer's codes in the plan against the float model's fake-quantized values */
struct code_check {
    const struct nncw_int8_plan *p;
    int64_t total, same, worst;
    int checked;
};

static enum nncw_status compare_codes(void *user, struct nncw_exec *ex, int ni)
{
    struct code_check *k = user;
    struct nncw_node *n = nncw_graph_get_node(k->p->g, ni);
    int v = nncw_node_get_output(n, 0);
    const struct i8_act *a = &k->p->val[v].a;
    if (!k->p->val[v].has_u8 || !a->data)
        return NNCW_OK;
    const float *f = nncw_tensor_f32(nncw_exec_get_value(ex, v));
    int64_t plane = (int64_t)a->h * a->w;
    for (int64_t i = 0; i < a->n; i++)
        for (int c = 0; c < a->c; c++)
            for (int y = 0; y < a->h; y++)
                for (int x = 0; x < a->w; x++) {
                    float want = f[(i * a->c + c) * plane + (int64_t)y * a->w + x];
                    float got = (float)(i8_act_at(a, i, y, x)[c] - a->zp) * a->inv_s;
                    int64_t d = llroundf(fabsf(got - want) / a->inv_s);
                    k->worst = d > k->worst ? d : k->worst;
                    k->same += d == 0;
                    k->total++;
                }
    k->checked++;
    return NNCW_OK;
}

START_TEST(test_int8_exec_codes_match_per_quantizer)
{
    struct net t;
    build(&t, &(struct variant){.form = FORM_NNCF});
    struct nncw_tensor x, out = {0};
    make_input(&x, 4, 9);
    calibrate(&t, &x);
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = 4;
    struct nncw_int8_plan *p;
    nncwt_assert_status(nncw_int8_plan_build(t.g, &o, &p), NNCW_OK);
    nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&x},
                                           (struct nncw_tensor *[]){&out, &out}, 4),
                        NNCW_OK);
    struct code_check k = {.p = p};
    struct nncw_exec *ex;
    struct nncw_exec_options eo = {.batch = 4};
    nncwt_assert_status(nncw_exec_new(t.g, &eo, &ex), NNCW_OK);
    memcpy(nncw_exec_get_input(ex, 0)->data, x.data, nncw_tensor_nbytes(&x));
    nncw_exec_set_observer(ex, compare_codes, &k);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    /* q_in, q_a1, pool, q_a3, flatten, q_out (q_a2's codes never leave conv2's fused
     * epilogue: the residual Add follows them there) */
    ck_assert_int_eq(k.checked, 6);
    ck_assert_int_le(k.worst, 1);
    ck_assert_msg(k.same >= k.total * 999 / 1000, "%lld of %lld codes identical", (long long)k.same,
                  (long long)k.total);
    nncw_exec_free(ex);
    nncw_tensor_fini(&out);
    nncw_tensor_fini(&x);
    nncw_int8_plan_free(p);
    nncw_graph_free(t.g);
}
END_TEST

/* ResNet-20 quantized by the compression controller (NNCF's CPU setup): every node integer,
 * and logits near the float model's. Codes that land on the other side of a rounding tie
 * (the float model rounds its sums, the integer path does not) shift values downstream, so
 * the difference grows with depth: a few percent of the logit range after 19 layers. */
START_TEST(test_int8_exec_controller_resnet20)
{
    struct nncw_graph *g;
    struct nncw_zoo_options zo = nncw_zoo_defaults("resnet20");
    nncwt_assert_status(nncw_zoo_build("resnet20", &zo, &g), NNCW_OK);
    struct nncw_tensor x;
    make_input(&x, 4, 21);
    nncw_tensor_fini(&x);
    nncwt_tensor_rand(&x, 4, (int64_t[]){4, 3, 32, 32}, -2.0f, 2.0f, 21);
    int32_t labels[4] = {0};
    struct nncw_dataset *ds;
    struct nncw_config *cfg;
    struct nncw_compression *c;
    nncwt_assert_status(
        nncw_dataset_new("x", 4, (int64_t[]){3, 32, 32}, 10, nncw_tensor_f32(&x), labels, &ds),
        NNCW_OK);
    nncwt_assert_status(
        nncw_config_parse("{\"input_info\": {\"sample_size\": [1, 3, 32, 32]}, "
                          "\"target_device\": \"CPU\", \"compression\": {\"algorithm\": "
                          "\"quantization\", \"initializer\": {\"range\": "
                          "{\"num_init_samples\": 4}, \"batchnorm_adaptation\": "
                          "{\"num_bn_adaptation_samples\": 0}}}}",
                          "test", &cfg),
        NNCW_OK);
    struct nncw_compression_init init = {.data = ds, .batch_size = 4, .seed = 1};
    nncwt_assert_status(nncw_compression_create(g, cfg, &init, &c), NNCW_OK);
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = 4;
    struct nncw_int8_plan *p;
    nncwt_assert_status(nncw_int8_plan_build(g, &o, &p), NNCW_OK);
    int ni, nf;
    nncw_int8_plan_count(p, &ni, &nf);
    ck_assert_int_eq(nf, 0);
    ck_assert_int_eq(ni, nncw_graph_count_nodes(g));
    struct nncw_tensor want = {0}, got = {0};
    struct nncw_exec *ex;
    struct nncw_exec_options eo = {.batch = 4};
    nncwt_assert_status(nncw_exec_new(g, &eo, &ex), NNCW_OK);
    memcpy(nncw_exec_get_input(ex, 0)->data, x.data, nncw_tensor_nbytes(&x));
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    nncwt_assert_status(nncw_tensor_init_copy(&want, nncw_exec_get_output(ex, 0)), NNCW_OK);
    nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&x},
                                           (struct nncw_tensor *[]){&got}, 4),
                        NNCW_OK);
    float scale = 0.0f;
    for (int64_t i = 0; i < nncw_tensor_numel(&want); i++)
        scale = fmaxf(scale, fabsf(nncw_tensor_f32(&want)[i]));
    nncwt_assert_tensor_near(&got, &want, 0.1 * scale, 0);
    /* a plan for one image (its GEMMs split by pixels, not images) gives the same row */
    struct nncw_int8_plan *p1;
    struct nncw_tensor x1, one = {0};
    o.batch = 1;
    nncwt_assert_status(nncw_int8_plan_build(g, &o, &p1), NNCW_OK);
    nncw_tensor_init_borrowed(&x1, NNCW_DTYPE_F32, 4, (int64_t[]){1, 3, 32, 32}, x.data);
    nncwt_assert_status(nncw_int8_plan_run(p1, (const struct nncw_tensor *[]){&x1},
                                           (struct nncw_tensor *[]){&one}, 1),
                        NNCW_OK);
    ck_assert(memcmp(one.data, got.data, nncw_tensor_nbytes(&one)) == 0);
    nncw_tensor_fini(&one);
    /* images one at a time through the early layers: the same numbers */
    p->group_bytes = 1;
    nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&x},
                                           (struct nncw_tensor *[]){&one}, 4),
                        NNCW_OK);
    ck_assert(memcmp(one.data, got.data, nncw_tensor_nbytes(&one)) == 0);
    nncw_tensor_fini(&one);
    nncw_int8_plan_free(p1);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&got);
    nncw_exec_free(ex);
    nncw_int8_plan_free(p);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_tensor_fini(&x);
    nncw_graph_free(g);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_int8_exec_build_errors)
{
    struct net t;
    build(&t, &(struct variant){.form = FORM_NNCF});
    struct nncw_int8_plan *p = (struct nncw_int8_plan *)&t; /* must stay untouched */
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = 0;
    nncwt_assert_status(nncw_int8_plan_build(t.g, &o, &p), NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "batch size 0") != NULL);
    ck_assert_ptr_eq(p, (void *)&t);
    o.batch = 1;
    o.threads = -2;
    nncwt_assert_status(nncw_int8_plan_build(t.g, &o, &p), NNCW_ERR_INVALID_ARG);
    o.threads = 0;
    o.isa = (enum nncw_int8_isa)42;
    nncwt_assert_status(nncw_int8_plan_build(t.g, &o, &p), NNCW_ERR_INVALID_ARG);
    o.isa = NNCW_INT8_ISA_AUTO;
    setenv("NNCW_INT8_ISA", "mmx", 1);
    nncwt_assert_status(nncw_int8_plan_build(t.g, &o, &p), NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "NNCW_INT8_ISA=mmx") != NULL);
    unsetenv("NNCW_INT8_ISA");
    nncwt_assert_status(nncw_int8_plan_build(NULL, &o, &p), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_int8_plan_build(t.g, NULL, &p), NNCW_ERR_INVALID_ARG);
    /* a graph the float executor rejects: its error comes through */
    struct nncw_graph *empty;
    ck_assert_int_eq(nncw_graph_new(&empty), NNCW_OK);
    nncwt_assert_status(nncw_int8_plan_build(empty, &o, &p), NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "no outputs") != NULL);
    nncw_graph_free(empty);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_run_errors)
{
    struct net t;
    struct nncw_int8_plan *p =
        plan_of(&(struct variant){.form = FORM_NNCF, .no_output_q = true}, &t);
    struct nncw_tensor x, out = {0}, bad = {0};
    make_input(&x, 2, 5);
    const struct nncw_tensor *in[] = {&x};
    struct nncw_tensor *outs[] = {&out};
    nncwt_assert_status(nncw_int8_plan_run(p, in, outs, 3), NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "batch 3") != NULL);
    nncwt_assert_status(nncw_int8_plan_run(p, in, outs, 0), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_int8_plan_run(NULL, in, outs, 1), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_int8_plan_run(p, NULL, outs, 1), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){NULL}, outs, 1),
                        NNCW_ERR_INVALID_ARG);
    /* the input's batch must be the run's */
    nncwt_assert_status(nncw_int8_plan_run(p, in, outs, 1), NNCW_ERR_SHAPE);
    ck_assert(strstr(nncw_last_error(), "input 0") != NULL);
    struct nncw_tensor wrong;
    nncwt_tensor_rand(&wrong, 4, (int64_t[]){2, 3, 8, 9}, 0, 1, 1);
    nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&wrong}, outs, 2),
                        NNCW_ERR_SHAPE);
    nncw_tensor_fini(&wrong);
    ck_assert_int_eq(nncw_tensor_init(&wrong, NNCW_DTYPE_I32, 4, (int64_t[]){2, 3, 8, 8}), NNCW_OK);
    nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&wrong}, outs, 2),
                        NNCW_ERR_DTYPE);
    nncw_tensor_fini(&wrong);
    /* an output of the wrong shape */
    ck_assert_int_eq(nncw_tensor_init(&bad, NNCW_DTYPE_F32, 2, (int64_t[]){2, 11}), NNCW_OK);
    nncwt_assert_status(nncw_int8_plan_run(p, in, (struct nncw_tensor *[]){&bad}, 2),
                        NNCW_ERR_SHAPE);
    ck_assert(strstr(nncw_last_error(), "output 0") != NULL);
    nncw_tensor_fini(&bad);
    ck_assert_ptr_null(out.data);
    nncwt_assert_status(nncw_int8_plan_run(p, in, outs, 2), NNCW_OK);
    nncw_tensor_fini(&out);
    nncw_tensor_fini(&x);
    nncw_int8_plan_free(p);
    nncw_int8_plan_free(NULL);
    nncw_graph_free(t.g);
}
END_TEST

START_TEST(test_int8_exec_out_of_memory)
{
    struct net t;
    build(&t, &(struct variant){.form = FORM_NNCF});
    struct nncw_tensor x;
    make_input(&x, 2, 3);
    calibrate(&t, &x);
    nncw_tensor_fini(&x);
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = 2;
    bool succeeded = false;
    for (long n = 1; n < 2000 && !succeeded; n++) {
        struct nncw_int8_plan *p = NULL;
        nncw_alloc_fail_after(n);
        enum nncw_status s = nncw_int8_plan_build(t.g, &o, &p);
        nncw_alloc_fail_after(0);
        if (s == NNCW_OK) {
            succeeded = true;
            nncw_int8_plan_free(p);
        } else {
            ck_assert_msg(s == NNCW_ERR_NOMEM, "allocation %ld: %s", n, nncw_last_error());
            ck_assert_ptr_null(p);
        }
    }
    ck_assert(succeeded);
    nncw_graph_free(t.g);
}
END_TEST

static Suite *int8_exec_suite(void)
{
    Suite *s = suite_create("int8_exec");
    TCase *tc = tcase_create("matches_float");
    tcase_add_test(tc, test_int8_exec_matches_fake_quantized_model);
    tcase_add_test(tc, test_int8_exec_openvino_fake_quantize);
    tcase_add_test(tc, test_int8_exec_onnx_qdq);
    tcase_add_test(tc, test_int8_exec_four_bits);
    tcase_add_test(tc, test_int8_exec_smaller_batch_and_repeat);
    tcase_add_test(tc, test_int8_exec_codes_match_per_quantizer);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("controller");
    tcase_add_test(tc, test_int8_exec_controller_resnet20);
    tcase_add_test(tc, test_int8_exec_tiny_plane_crops_kernel);
    tcase_add_test(tc, test_int8_exec_unfused_add);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tc = tcase_create("plan");
    tcase_add_test(tc, test_int8_exec_everything_runs_integer);
    tcase_add_test(tc, test_int8_exec_falls_back_for_ops_without_kernel);
    tcase_add_test(tc, test_int8_exec_falls_back_for_wide_weights);
    tcase_add_test(tc, test_int8_exec_falls_back_after_disabled_quantizer);
    tcase_add_test(tc, test_int8_exec_describe_truncates);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_int8_exec_build_errors);
    tcase_add_test(tc, test_int8_exec_run_errors);
    tcase_add_test(tc, test_int8_exec_out_of_memory);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(int8_exec_suite());
}
