/*
** Integer Conv, Gemm and MatMul steps: the u8 x s8 GEMM of igemm.h plus everything that follows
** the product up to the next quantizer, folded into one per-channel multiply-add:
**
**   acc' = sum(w_int * q_x) - zp_x * sum(w_int)                       exact, int32
**   y    = inv_s_w[m] * inv_s_x * acc' + bias[m]                      the float model's Conv
**        -> (+ constant per-channel Add) -> BatchNormalization (eval) -> Relu / Clip
**   code = clamp(round(alpha * y + beta), code(act_lo), code(act_hi))   the next quantizer
**
** so a ResNet block's conv -> bn -> relu -> quantizer is one pass over the output. Without a
** quantizer after it the step writes y as float (NCHW) for the float op that reads it.
**
** Weights are the quantizer's codes minus its zero point, per output channel; they must fit
** int8. The weight quantizer's own node is left to the float path, which drops it when no
** float op reads the fake-quantized weight.
*/
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "int8/plan_internal.h"
#include "ops/conv_crop.h"
#include "ops/window.h"

struct i8_gemm {
    enum nncw_op op;
    struct nncw_igemm_weights w;
    int32_t *corr;
    float *mul, *add; /* y = mul * acc' + add, before the output quantizer */
    float act_lo, act_hi;
    const struct i8_qpoint *out_q; /* NULL: float output */
    /* a residual Add fused after out_q (plan_fuse.c): the value out_q's codes would have
     * been, the residual value, and what the Add ended in (its clamp and quantizer) */
    int mid, res;
    float res_lo, res_hi;
    const struct i8_qpoint *res_q;
    int weight_node; /* the weight quantizer (describe) */
    int kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    int oh, ow;
    int full_kh, full_kw, r0, c0; /* the weight's kernel, and where the live taps start in it */
    int64_t pixels;
    int64_t tap_off_storage[1];
    int64_t *tap_off;
    struct nncw_igemm_epi epi;
    struct nncw_igemm_geom geom;
};

void nncw_i8_gemm_free(struct i8_gemm *gm)
{
    if (!gm)
        return;
    nncw_igemm_weights_fini(&gm->w);
    nncw_free(gm->corr);
    nncw_free(gm->mul);
    nncw_free(gm->add);
    if (gm->tap_off != gm->tap_off_storage)
        nncw_free(gm->tap_off);
    nncw_free(gm);
}

int nncw_i8_gemm_border(const struct i8_step *s)
{
    const struct i8_gemm *gm = s->gemm;
    int b = gm->pt > gm->pl ? gm->pt : gm->pl;
    b = b > gm->pb ? b : gm->pb;
    return b > gm->pr ? b : gm->pr;
}

int nncw_i8_gemm_weight_node(const struct i8_step *s)
{
    return s->gemm->weight_node;
}

static bool is_param(const struct nncw_int8_plan *p, int v)
{
    return v >= 0 && nncw_graph_get_value_kind(p->g, v) == NNCW_VALUE_PARAM;
}

/* ---- geometry ---- */

static void crop_taps(struct i8_gemm *gm, int h, int w);

/* Conv attributes into gm; false if this is not a 2-D ungrouped convolution we can run */
static bool conv_geometry(struct nncw_int8_plan *p, struct nncw_node *n, struct i8_gemm *gm,
                          const char **why)
{
    const struct nncw_tensor *x = nncw_exec_get_value(p->ex, nncw_node_get_input(n, 0));
    const struct nncw_tensor *w = nncw_exec_get_value(p->ex, nncw_node_get_input(n, 1));
    const struct nncw_tensor *y = nncw_exec_get_value(p->ex, nncw_node_get_output(n, 0));
    if (x->ndim != 4 || w->ndim != 4) {
        *why = "not a 2-D convolution";
        return false;
    }
    if (nncw_node_get_attr_int(n, "group", 1) != 1) {
        *why = "grouped convolution";
        return false;
    }
    int64_t st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    const int64_t *v;
    if (nncw_node_get_attr_ints(n, "strides", &v) == 2)
        memcpy(st, v, sizeof st);
    if (nncw_node_get_attr_ints(n, "dilations", &v) == 2)
        memcpy(dl, v, sizeof dl);
    if (nncw_node_get_attr_ints(n, "pads", &v) == 4)
        memcpy(pads, v, sizeof pads);
    enum nncw_auto_pad ap;
    if (!nncw_auto_pad_parse(nncw_node_get_attr_string(n, "auto_pad", "NOTSET"), &ap)) {
        *why = "unknown auto_pad";
        return false;
    }
    struct nncw_window_dim d[2];
    for (int i = 0; i < 2; i++) {
        d[i] = (struct nncw_window_dim){.in = x->shape[2 + i],
                                        .k = w->shape[2 + i],
                                        .stride = st[i],
                                        .dil = dl[i],
                                        .pad_lo = pads[i],
                                        .pad_hi = pads[2 + i]};
        if (!nncw_window_dim_resolve(&d[i], ap, false) || d[i].out != y->shape[2 + i] ||
            d[i].pad_lo > 64 || d[i].pad_hi > 64) {
            *why = "unsupported convolution geometry";
            return false;
        }
    }
    gm->kh = (int)d[0].k;
    gm->kw = (int)d[1].k;
    gm->sh = (int)d[0].stride;
    gm->sw = (int)d[1].stride;
    gm->dh = (int)d[0].dil;
    gm->dw = (int)d[1].dil;
    gm->pt = (int)d[0].pad_lo;
    gm->pb = (int)d[0].pad_hi;
    gm->pl = (int)d[1].pad_lo;
    gm->pr = (int)d[1].pad_hi;
    gm->oh = (int)d[0].out;
    gm->ow = (int)d[1].out;
    gm->full_kh = gm->kh;
    gm->full_kw = gm->kw;
    crop_taps(gm, (int)x->shape[2], (int)x->shape[3]);
    return true;
}

/* drops the kernel rows and columns that read only padding on this plane (ops/conv_crop.h):
 * fewer multiply-adds, and weights that stay in cache (an ImageNet-stem ResNet fed 32x32 images
 * ends on 1x1 planes, where 8 of the 9 taps of each 3x3 kernel read the border) */
static void crop_taps(struct i8_gemm *gm, int h, int w)
{
    struct nncw_conv2d_geom g = {.h = h,
                                 .w = w,
                                 .kh = gm->kh,
                                 .kw = gm->kw,
                                 .sh = gm->sh,
                                 .sw = gm->sw,
                                 .dh = gm->dh,
                                 .dw = gm->dw,
                                 .pt = gm->pt,
                                 .pl = gm->pl,
                                 .oh = gm->oh,
                                 .ow = gm->ow,
                                 .group = 1};
    struct nncw_conv2d_crop k;
    if (!nncw_conv2d_crop_get(&g, &k))
        return;
    gm->r0 = k.r0;
    gm->c0 = k.c0;
    gm->kh = k.g.kh;
    gm->kw = k.g.kw;
    gm->pt = k.g.pt;
    gm->pl = k.g.pl;
    /* the border the last output row and column still reach past the plane */
    int pb = (gm->oh - 1) * gm->sh - gm->pt + (gm->kh - 1) * gm->dh - (h - 1);
    int pr = (gm->ow - 1) * gm->sw - gm->pl + (gm->kw - 1) * gm->dw - (w - 1);
    gm->pb = pb > 0 ? pb : 0;
    gm->pr = pr > 0 ? pr : 0;
}

/* the live taps of OIHW int8 weights w of m x c channels into a new array (NULL: no memory) */
static int8_t *crop_weight_ints(const struct i8_gemm *gm, const int8_t *w, int m, int c)
{
    int8_t *out = nncw_malloc((size_t)m * c * gm->kh * gm->kw);
    if (!out)
        return NULL;
    int8_t *d = out;
    for (int64_t plane = 0; plane < (int64_t)m * c; plane++)
        for (int r = 0; r < gm->kh; r++) {
            const int8_t *s = w + (plane * gm->full_kh + gm->r0 + r) * gm->full_kw + gm->c0;
            memcpy(d, s, (size_t)gm->kw);
            d += gm->kw;
        }
    return out;
}

/* ---- weights ---- */

/* the int8 weights (codes - zero point) of a weight quantizer, in the parameter's layout;
 * false with *why when they do not fit, or with *why NULL when out of memory */
static bool weight_ints(struct nncw_int8_plan *p, const struct i8_qpoint *q, int8_t **out,
                        const char **why)
{
    const struct nncw_tensor *t =
        nncw_graph_get_value_tensor(p->g, q->codes >= 0 ? q->codes : q->x);
    int64_t n = nncw_tensor_numel(t), inner = 1, ch = q->channels;
    for (int d = q->axis + 1; q->axis >= 0 && d < t->ndim; d++)
        inner *= t->shape[d];
    int8_t *w = nncw_malloc((size_t)(n ? n : 1));
    if (!w) {
        *why = NULL;
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        int c = ch > 1 ? (int)(i / inner % ch) : 0;
        int32_t code;
        if (q->codes >= 0)
            code = t->dtype == NNCW_DTYPE_I8 ? ((const int8_t *)t->data)[i] + 128
                                             : ((const uint8_t *)t->data)[i];
        else
            code = nncw_i8_code(q, c, nncw_tensor_f32(t)[i]);
        int32_t v = code - q->zp[c];
        if (v < -128 || v > 127) {
            nncw_free(w);
            *why = "weight levels minus the zero point do not fit int8";
            return false;
        }
        w[i] = (int8_t)v;
    }
    *out = w;
    return true;
}

/* the weight quantizer feeding input 1, if the integer path can use it */
static const struct i8_qpoint *weight_point(struct nncw_int8_plan *p, struct nncw_node *n,
                                            const char **why)
{
    const struct i8_qpoint *q = nncw_i8_qpoint_of_value(p, nncw_node_get_input(n, 1));
    if (!q || !q->weight) {
        *why = "weight is not quantized";
        return NULL;
    }
    return q;
}

/* ---- folding what follows ---- */

/* a parameter with one value per output channel along axis 1 of an [n, m, ...] output */
static const float *per_channel(struct nncw_int8_plan *p, int v, int out_ndim, int m)
{
    if (!is_param(p, v))
        return NULL;
    const struct nncw_tensor *t = nncw_graph_get_value_tensor(p->g, v);
    if (t->dtype != NNCW_DTYPE_F32 || nncw_tensor_numel(t) != m || t->ndim > out_ndim)
        return NULL;
    /* right-aligned against the output: m must sit at output axis 1 */
    for (int k = 0; k < t->ndim; k++) {
        int axis = out_ndim - t->ndim + k;
        if (t->shape[k] != (axis == 1 ? m : 1) && !(m == 1 && t->shape[k] == 1))
            return NULL;
    }
    return nncw_tensor_f32(t);
}

static bool const_scalar(struct nncw_int8_plan *p, struct nncw_node *n, int i, float *v)
{
    if (i >= nncw_node_count_inputs(n) || nncw_node_get_input(n, i) < 0)
        return true;
    int id = nncw_node_get_input(n, i);
    if (!is_param(p, id))
        return false;
    const struct nncw_tensor *t = nncw_graph_get_value_tensor(p->g, id);
    if (t->dtype != NNCW_DTYPE_F32 || nncw_tensor_numel(t) != 1)
        return false;
    *v = nncw_tensor_f32(t)[0];
    return true;
}

enum fold_stage { FOLD_AFFINE, FOLD_ACT };

/* Tries to fold node n (reading value cur) into the step; the stage only moves forward. */
static bool fold_one(struct nncw_int8_plan *p, struct i8_gemm *gm, struct nncw_node *n, int cur,
                     int out_ndim, enum fold_stage *stage)
{
    int m = gm->w.m;
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_ADD: {
        if (*stage != FOLD_AFFINE)
            return false;
        int other = nncw_node_get_input(n, nncw_node_get_input(n, 0) == cur ? 1 : 0);
        const float *b = per_channel(p, other, out_ndim, m);
        if (!b || nncw_node_get_input(n, 0) == nncw_node_get_input(n, 1))
            return false;
        for (int i = 0; i < m; i++)
            gm->add[i] += b[i];
        return true;
    }
    case NNCW_OP_BATCHNORM: {
        if (*stage != FOLD_AFFINE || nncw_node_get_input(n, 0) != cur)
            return false;
        const float *bn[4];
        for (int k = 0; k < 4; k++)
            if (!(bn[k] = per_channel(p, nncw_node_get_input(n, k + 1), 2, m)))
                return false;
        float eps = nncw_node_get_attr_float(n, "epsilon", 1e-5f);
        for (int i = 0; i < m; i++) {
            /* norm.c's eval formula: (y - mean) * (1 / sqrt(var + eps)) * scale + bias */
            float g = 1.0f / sqrtf(bn[3][i] + eps) * bn[0][i];
            gm->mul[i] *= g;
            gm->add[i] = (gm->add[i] - bn[2][i]) * g + bn[1][i];
        }
        return true;
    }
    case NNCW_OP_RELU:
    case NNCW_OP_CLIP: {
        /* clamps compose into one while they overlap */
        float lo = 0.0f, hi = INFINITY;
        if (nncw_node_get_op(n) == NNCW_OP_CLIP) {
            lo = nncw_node_get_attr_float(n, "min", -INFINITY);
            hi = nncw_node_get_attr_float(n, "max", INFINITY);
            if (!const_scalar(p, n, 1, &lo) || !const_scalar(p, n, 2, &hi))
                return false;
        }
        lo = fmaxf(gm->act_lo, lo);
        hi = fminf(gm->act_hi, hi);
        if (!(lo <= hi))
            return false;
        gm->act_lo = lo;
        gm->act_hi = hi;
        *stage = FOLD_ACT;
        return true;
    }
    default:
        return false;
    }
}

/* Follows single-consumer edges from the product, folding what it can into gm and the step;
 * ends at an activation quantizer (u8 output) or before the first op it cannot fold. */
static enum nncw_status fold_tail(struct nncw_int8_plan *p, struct i8_step *s, struct i8_gemm *gm,
                                  int out_ndim)
{
    int cur = s->out;
    enum fold_stage stage = FOLD_AFFINE;
    while (!p->is_output[cur] && p->single_reader[cur] >= 0) {
        const struct i8_qpoint *q = nncw_i8_quantizer_reading(p, cur);
        if (q) {
            if (q->head >= 0)
                NNCW_TRY(nncw_i8_step_cover(p, s, q->head));
            NNCW_TRY(nncw_i8_step_cover(p, s, q->node));
            gm->out_q = q;
            s->out = q->out;
            s->out_u8 = true;
            nncw_i8_value_set_u8(p, q->out, q);
            return NNCW_OK;
        }
        struct nncw_node *n = nncw_graph_get_node(p->g, p->single_reader[cur]);
        if (nncw_node_count_outputs(n) != 1 || !fold_one(p, gm, n, cur, out_ndim, &stage))
            return NNCW_OK;
        NNCW_TRY(nncw_i8_step_cover(p, s, nncw_node_get_index(n)));
        cur = s->out = nncw_node_get_output(n, 0);
    }
    return NNCW_OK;
}

/* ---- building ---- */

/* checks the op's operands; sets the GEMM dimensions and how to read the weight */
static bool operands(struct nncw_int8_plan *p, struct nncw_node *n, struct i8_gemm *gm,
                     const struct i8_qpoint *wq, int *m, int *c, int *taps, int64_t st[3],
                     const float **bias, float *alpha, float *beta, const char **why)
{
    const struct nncw_tensor *x = nncw_exec_get_value(p->ex, nncw_node_get_input(n, 0));
    const struct nncw_tensor *w = nncw_exec_get_value(p->ex, nncw_node_get_input(n, 1));
    int bias_v = nncw_node_count_inputs(n) > 2 ? nncw_node_get_input(n, 2) : -1;
    *bias = NULL;
    *alpha = *beta = 1.0f;
    int waxis; /* the weight axis of output channels */
    if (gm->op == NNCW_OP_CONV) {
        if (!conv_geometry(p, n, gm, why))
            return false;
        *m = (int)w->shape[0];
        *c = (int)w->shape[1];
        *taps = gm->kh * gm->kw;
        st[0] = (int64_t)*c * *taps;
        st[1] = *taps;
        st[2] = 1;
        waxis = 0;
    } else {
        bool tb = gm->op == NNCW_OP_GEMM && nncw_node_get_attr_int(n, "transB", 0);
        if (x->ndim != 2 || w->ndim != 2 ||
            (gm->op == NNCW_OP_GEMM && nncw_node_get_attr_int(n, "transA", 0))) {
            *why = "not a 2-D product of activations by weights";
            return false;
        }
        *m = (int)w->shape[tb ? 0 : 1];
        *c = (int)w->shape[tb ? 1 : 0];
        *taps = 1;
        st[0] = tb ? *c : 1;
        st[1] = tb ? 1 : *m;
        st[2] = 0;
        waxis = tb ? 0 : 1;
        gm->kh = gm->kw = gm->sh = gm->sw = gm->dh = gm->dw = 1;
        gm->oh = gm->ow = 1;
        if (gm->op == NNCW_OP_GEMM) {
            *alpha = nncw_node_get_attr_float(n, "alpha", 1.0f);
            *beta = nncw_node_get_attr_float(n, "beta", 1.0f);
        }
    }
    if (wq->channels > 1 && wq->axis != waxis) {
        *why = "weight quantized per channel along an input axis";
        return false;
    }
    if (bias_v >= 0) {
        const struct nncw_tensor *b =
            is_param(p, bias_v) ? nncw_graph_get_value_tensor(p->g, bias_v) : NULL;
        if (!b || b->dtype != NNCW_DTYPE_F32 ||
            (nncw_tensor_numel(b) != *m && nncw_tensor_numel(b) != 1) ||
            (b->ndim == 2 && b->shape[0] != 1) || b->ndim > 2) {
            *why = "bias is not a constant per output channel";
            return false;
        }
        *bias = nncw_tensor_f32(b);
        if (nncw_tensor_numel(b) == 1 && *m > 1) {
            *why = "scalar bias";
            return false;
        }
    }
    return true;
}

static enum nncw_status alloc_epilogue(struct i8_gemm *gm)
{
    size_t n = (size_t)gm->w.blocks * NNCW_IGEMM_BLOCK;
    gm->corr = nncw_calloc(n, sizeof *gm->corr);
    gm->mul = nncw_calloc(n, sizeof *gm->mul);
    gm->add = nncw_calloc(n, sizeof *gm->add);
    if (!gm->corr || !gm->mul || !gm->add)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory for a requantization");
    return NNCW_OK;
}

enum nncw_status nncw_i8_gemm_try(struct nncw_int8_plan *p, int n, bool *ok, const char **why)
{
    struct nncw_node *node = nncw_graph_get_node(p->g, n);
    *ok = false;
    int x = nncw_node_get_input(node, 0);
    if (!p->val[x].has_u8) {
        *why = "input is not quantized per tensor";
        return NNCW_OK;
    }
    const struct i8_qpoint *wq = weight_point(p, node, why);
    if (!wq)
        return NNCW_OK;
    struct i8_gemm *gm = nncw_calloc(1, sizeof *gm);
    if (!gm)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory");
    gm->op = nncw_node_get_op(node);
    gm->weight_node = wq->node;
    gm->mid = gm->res = -1;
    gm->act_lo = -INFINITY;
    gm->act_hi = INFINITY;
    int m, c, taps;
    int64_t st[3];
    const float *bias;
    float alpha, beta;
    int8_t *wint = NULL;
    if (!operands(p, node, gm, wq, &m, &c, &taps, st, &bias, &alpha, &beta, why) ||
        !weight_ints(p, wq, &wint, why)) {
        nncw_i8_gemm_free(gm);
        if (!*why)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory packing '%s'",
                             nncw_node_get_name(node));
        return NNCW_OK;
    }
    if (gm->op == NNCW_OP_CONV && (gm->kh != gm->full_kh || gm->kw != gm->full_kw)) {
        int8_t *cropped = crop_weight_ints(gm, wint, m, c);
        nncw_free(wint);
        if (!cropped) {
            nncw_i8_gemm_free(gm);
            return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory packing '%s'",
                             nncw_node_get_name(node));
        }
        wint = cropped;
    }
    enum nncw_status s = nncw_igemm_weights_pack(&gm->w, m, c, taps, wint, st[0], st[1], st[2]);
    nncw_free(wint);
    if (s == NNCW_OK)
        s = alloc_epilogue(gm);
    if (s != NNCW_OK) {
        nncw_i8_gemm_free(gm);
        return s;
    }
    const struct i8_act *in = &p->val[x].a;
    for (int i = 0; i < m; i++) {
        int wc = wq->channels > 1 ? i : 0;
        gm->corr[i] = in->zp * gm->w.sum[i];
        gm->mul[i] = alpha * wq->inv_s[wc] * in->inv_s;
        gm->add[i] = bias ? beta * bias[i] : 0.0f;
    }
    struct i8_step *step;
    s = nncw_i8_step_add(p, I8_STEP_GEMM, 1, &n, &step);
    if (s != NNCW_OK) {
        nncw_i8_gemm_free(gm);
        return s;
    }
    step->gemm = gm;
    step->in[0] = x;
    step->out = nncw_node_get_output(node, 0);
    const struct nncw_tensor *y = nncw_exec_get_value(p->ex, step->out);
    gm->pixels = y->shape[0] * (int64_t)gm->oh * gm->ow;
    *ok = true;
    return fold_tail(p, step, gm, y->ndim);
}

/* ---- binding to buffers, running ---- */

static void bind_residual(struct nncw_int8_plan *p, struct i8_gemm *gm)
{
    const struct i8_act *mid = &p->val[gm->mid].a, *r = &p->val[gm->res].a;
    struct nncw_igemm_residual *rs = &gm->epi.r;
    float a, b;
    nncw_i8_affine(gm->res_q, 0, &a, &b);
    *rs = (struct nncw_igemm_residual){.res = i8_act_at(r, 0, 0, 0),
                                       .zp = (float)mid->zp,
                                       .step = mid->inv_s,
                                       .res_zp = (float)r->zp,
                                       .res_step = r->inv_s,
                                       .res_lo = gm->res_lo,
                                       .res_hi = gm->res_hi,
                                       .res_mul = a,
                                       .res_add = b,
                                       .res_qmin = nncw_i8_code(gm->res_q, 0, gm->res_lo),
                                       .res_qmax = nncw_i8_code(gm->res_q, 0, gm->res_hi)};
    gm->geom.res_img = i8_act_img(r);
    gm->geom.res_row = (int64_t)(r->w + 2 * r->border) * r->cp;
    gm->geom.res_pix = r->cp;
}

void nncw_i8_gemm_fuse_residual(struct nncw_int8_plan *p, struct i8_step *s, struct i8_step *add,
                                int res)
{
    struct i8_gemm *gm = s->gemm;
    gm->mid = s->out;
    gm->res = res;
    gm->res_lo = add->lo;
    gm->res_hi = add->hi;
    gm->res_q = add->quant;
    for (int k = 0; k < add->n_nodes; k++)
        s->nodes[s->n_nodes++] = add->nodes[k];
    add->n_nodes = 0;
    add->live = false;
    p->val[s->out].need_u8 = false;
    s->out = add->out;
}

bool nncw_i8_gemm_fusable_residual(const struct i8_step *s)
{
    return s->gemm->out_q && s->gemm->res < 0;
}

enum nncw_status nncw_i8_gemm_bind(struct nncw_int8_plan *p, struct i8_step *s)
{
    struct i8_gemm *gm = s->gemm;
    const struct i8_act *in = &p->val[s->in[0]].a;
    int taps = gm->kh * gm->kw;
    gm->tap_off = taps == 1 ? gm->tap_off_storage : nncw_malloc((size_t)taps * sizeof(int64_t));
    if (!gm->tap_off)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory");
    int wp = in->w + 2 * in->border;
    /* the taps of a kernel row are adjacent in memory when channels are not padded: one run */
    bool rows = gm->dw == 1 && in->cp == gm->w.kc4 * 4;
    int runs = rows ? gm->kh : taps, per_run = rows ? gm->kw : 1;
    for (int r = 0; r < runs; r++) {
        int i = r * per_run / gm->kw, j = r * per_run % gm->kw;
        gm->tap_off[r] = ((int64_t)(i * gm->dh - gm->pt + in->border) * wp +
                          (j * gm->dw - gm->pl + in->border)) *
                         in->cp;
    }
    struct nncw_igemm_geom *g = &gm->geom;
    *g = (struct nncw_igemm_geom){.n = in->n,
                                  .oh = gm->oh,
                                  .ow = gm->ow,
                                  .in = in->data,
                                  .in_img = i8_act_img(in),
                                  .in_row = (int64_t)gm->sh * wp * in->cp,
                                  .in_pix = (int64_t)gm->sw * in->cp,
                                  .taps = runs,
                                  .tap_off = gm->tap_off,
                                  .tap_dwords = per_run * gm->w.kc4};
    struct nncw_igemm_epi *e = &gm->epi;
    *e = (struct nncw_igemm_epi){
        .corr = gm->corr, .mul = gm->mul, .add = gm->add, .lo = gm->act_lo, .hi = gm->act_hi};
    if (gm->out_q) {
        const struct i8_act *o = &p->val[s->out].a;
        float a, b;
        nncw_i8_affine(gm->out_q, 0, &a, &b);
        for (int i = 0; i < gm->w.m; i++) {
            gm->add[i] = a * gm->add[i] + b;
            gm->mul[i] *= a;
        }
        e->mode = NNCW_IGEMM_OUT_U8;
        e->qmin = nncw_i8_code(gm->out_q, 0, gm->act_lo);
        e->qmax = nncw_i8_code(gm->out_q, 0, gm->act_hi);
        if (gm->res >= 0)
            bind_residual(p, gm);
        g->out = i8_act_at(o, 0, 0, 0);
        g->out_img = i8_act_img(o);
        g->out_row = (int64_t)(o->w + 2 * o->border) * o->cp;
        g->out_pix = o->cp;
        g->out_ch = 1;
    } else {
        e->mode = NNCW_IGEMM_OUT_F32;
        g->out = nncw_i8_f32(p, s->out)->data;
        g->out_ch = (int64_t)gm->oh * gm->ow;
        g->out_img = g->out_ch * gm->w.m;
        g->out_row = gm->ow;
        g->out_pix = 1;
    }
    return NNCW_OK;
}

void nncw_i8_gemm_run_pixels(const struct nncw_int8_plan *p, const struct i8_step *s, int64_t p0,
                             int64_t p1)
{
    const struct i8_gemm *gm = s->gemm;
    nncw_igemm_run(p->kernel, &gm->w, &gm->geom, &gm->epi, p0, p1);
}

int64_t nncw_i8_gemm_pixels(const struct i8_step *s)
{
    return s->gemm->pixels;
}

int64_t nncw_i8_gemm_weight_bytes(const struct i8_step *s)
{
    const struct nncw_igemm_weights *w = &s->gemm->w;
    return (int64_t)w->blocks * NNCW_IGEMM_BLOCK * w->taps * w->kc4 * 4;
}

double nncw_i8_gemm_macs(const struct i8_step *s)
{
    const struct i8_gemm *gm = s->gemm;
    return (double)gm->pixels * gm->w.m * gm->w.taps * gm->w.kc4 * 4;
}
