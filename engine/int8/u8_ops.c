/*
** The steps that move u8 codes without a GEMM: quantize (float or codes -> codes), dequantize
** (codes -> the float a float op reads), MaxPool and Relu on codes (exact: codes are monotonic
** in the value and 0 is a level), Flatten's NHWC -> NCHW order, and Add / GlobalAveragePool,
** which compute in float from the codes the way the float model does and quantize for the
** next quantizer. Each works on a range of images (the runner splits the batch over threads).
*/
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "int8/plan_internal.h"
#include "ops/window.h"

struct i8_pool {
    int kh, kw, sh, sw, dh, dw, pt, pl;
};

void nncw_i8_pool_free(struct i8_pool *pl)
{
    nncw_free(pl);
}

enum nncw_status nncw_i8_pool_parse(struct nncw_int8_plan *p, int n, struct i8_pool **out,
                                    const char **why)
{
    struct nncw_node *node = nncw_graph_get_node(p->g, n);
    const struct nncw_tensor *x = nncw_exec_get_value(p->ex, nncw_node_get_input(node, 0));
    const struct nncw_tensor *y = nncw_exec_get_value(p->ex, nncw_node_get_output(node, 0));
    *out = NULL;
    if (x->ndim != 4) {
        *why = "not a 2-D pooling";
        return NNCW_OK;
    }
    if (nncw_node_count_outputs(node) > 1 &&
        p->consumers[nncw_node_get_output(node, 1)] + p->is_output[nncw_node_get_output(node, 1)] >
            0) {
        *why = "max-pool indices are read";
        return NNCW_OK;
    }
    int64_t ks[2] = {1, 1}, st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    const int64_t *v;
    if (nncw_node_get_attr_ints(node, "kernel_shape", &v) == 2)
        memcpy(ks, v, sizeof ks);
    if (nncw_node_get_attr_ints(node, "strides", &v) == 2)
        memcpy(st, v, sizeof st);
    if (nncw_node_get_attr_ints(node, "dilations", &v) == 2)
        memcpy(dl, v, sizeof dl);
    if (nncw_node_get_attr_ints(node, "pads", &v) == 4)
        memcpy(pads, v, sizeof pads);
    enum nncw_auto_pad ap;
    bool ceil_mode = nncw_node_get_attr_int(node, "ceil_mode", 0) != 0;
    if (!nncw_auto_pad_parse(nncw_node_get_attr_string(node, "auto_pad", "NOTSET"), &ap)) {
        *why = "unknown auto_pad";
        return NNCW_OK;
    }
    struct nncw_window_dim d[2];
    for (int i = 0; i < 2; i++) {
        d[i] = (struct nncw_window_dim){.in = x->shape[2 + i],
                                        .k = ks[i],
                                        .stride = st[i],
                                        .dil = dl[i],
                                        .pad_lo = pads[i],
                                        .pad_hi = pads[2 + i]};
        if (!nncw_window_dim_resolve(&d[i], ap, ceil_mode) || d[i].out != y->shape[2 + i]) {
            *why = "unsupported pooling geometry";
            return NNCW_OK;
        }
    }
    struct i8_pool *pl = nncw_calloc(1, sizeof *pl);
    if (!pl)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory");
    *pl = (struct i8_pool){.kh = (int)ks[0],
                           .kw = (int)ks[1],
                           .sh = (int)st[0],
                           .sw = (int)st[1],
                           .dh = (int)dl[0],
                           .dw = (int)dl[1],
                           .pt = (int)d[0].pad_lo,
                           .pl = (int)d[1].pad_lo};
    *out = pl;
    return NNCW_OK;
}

/* ---- per-image kernels ---- */

static void maxpool_image(const struct i8_pool *pl, const struct i8_act *a, const struct i8_act *o,
                          int64_t i)
{
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++) {
            uint8_t *dst = i8_act_at(o, i, y, x);
            memset(dst, 0, (size_t)o->c);
            for (int ki = 0; ki < pl->kh; ki++) {
                int iy = y * pl->sh - pl->pt + ki * pl->dh;
                if (iy < 0 || iy >= a->h)
                    continue;
                for (int kj = 0; kj < pl->kw; kj++) {
                    int ix = x * pl->sw - pl->pl + kj * pl->dw;
                    if (ix < 0 || ix >= a->w)
                        continue;
                    const uint8_t *src = i8_act_at(a, i, iy, ix);
                    for (int c = 0; c < o->c; c++)
                        dst[c] = src[c] > dst[c] ? src[c] : dst[c];
                }
            }
        }
}

static void relu_image(const struct i8_act *a, const struct i8_act *o, int64_t i)
{
    uint8_t zp = (uint8_t)a->zp;
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++) {
            const uint8_t *src = i8_act_at(a, i, y, x);
            uint8_t *dst = i8_act_at(o, i, y, x);
            for (int c = 0; c < o->c; c++)
                dst[c] = src[c] > zp ? src[c] : zp;
        }
}

/* NHWC codes into the [c * h * w] order of a flattened NCHW tensor */
static void relayout_image(const struct i8_act *a, const struct i8_act *o, int64_t i)
{
    uint8_t *dst = i8_act_at(o, i, 0, 0);
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            const uint8_t *src = i8_act_at(a, i, y, x);
            for (int c = 0; c < a->c; c++)
                dst[((int64_t)c * a->h + y) * a->w + x] = src[c];
        }
}

/* one output pixel's channels, as codes or as float (NCHW, channel stride plane) */
static void put_row(const struct i8_step *s, const struct i8_act *o, float *f, int64_t plane,
                    int64_t i, int y, int x, const float *row)
{
    if (s->out_u8) {
        nncw_i8_quantize(s->quant, 0, row, o->c, s->lo, s->hi, i8_act_at(o, i, y, x));
        return;
    }
    float *dst = f + (i * o->c) * plane + (int64_t)y * o->w + x;
    for (int c = 0; c < o->c; c++) {
        float v = row[c] < s->lo ? s->lo : row[c];
        dst[c * plane] = v > s->hi ? s->hi : v;
    }
}

/* the float model's Add of two fake-quantized values: (q - zp) * step for each */
static void add_row(int n, const uint8_t *restrict qa, const uint8_t *restrict qb, float za,
                    float sa, float zb, float sb, float *restrict row)
{
    for (int c = 0; c < n; c++)
        row[c] = ((float)qa[c] - za) * sa + ((float)qb[c] - zb) * sb;
}

enum { ROW_MAX = 8192 };

static void add_image(struct nncw_int8_plan *p, const struct i8_step *s, int64_t i)
{
    const struct i8_act *a = &p->val[s->in[0]].a, *b = &p->val[s->in[1]].a;
    const struct i8_act *o = &p->val[s->out].a;
    float *f = s->out_u8 ? NULL : nncw_tensor_f32(nncw_i8_f32(p, s->out));
    float row[ROW_MAX];
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            const uint8_t *qa = i8_act_at(a, i, y, x), *qb = i8_act_at(b, i, y, x);
            add_row(a->c, qa, qb, (float)a->zp, a->inv_s, (float)b->zp, b->inv_s, row);
            put_row(s, o, f, (int64_t)a->h * a->w, i, y, x, row);
        }
}

static void gap_image(struct nncw_int8_plan *p, const struct i8_step *s, int64_t i)
{
    const struct i8_act *a = &p->val[s->in[0]].a, *o = &p->val[s->out].a;
    float *f = s->out_u8 ? NULL : nncw_tensor_f32(nncw_i8_f32(p, s->out));
    int32_t sum[ROW_MAX];
    float row[ROW_MAX];
    memset(sum, 0, sizeof(int32_t) * (size_t)a->c);
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            const uint8_t *q = i8_act_at(a, i, y, x);
            for (int c = 0; c < a->c; c++)
                sum[c] += q[c];
        }
    float hw = (float)a->h * (float)a->w;
    for (int c = 0; c < a->c; c++)
        row[c] = ((float)sum[c] / hw - (float)a->zp) * a->inv_s;
    put_row(s, o, f, 1, i, 0, 0, row);
}

/* float NCHW -> codes */
static void quantize_image(struct nncw_int8_plan *p, const struct i8_step *s, int64_t i)
{
    const struct i8_act *o = &p->val[s->out].a;
    int64_t plane = (int64_t)o->h * o->w;
    if (s->lut) {
        const struct i8_act *a = &p->val[s->in[0]].a;
        for (int y = 0; y < o->h; y++)
            for (int x = 0; x < o->w; x++) {
                const uint8_t *src = i8_act_at(a, i, y, x);
                uint8_t *dst = i8_act_at(o, i, y, x);
                for (int c = 0; c < o->c; c++)
                    dst[c] = s->lut[src[c]];
            }
        return;
    }
    const float *src = nncw_tensor_f32(nncw_i8_f32(p, s->in[0])) + i * o->c * plane;
    uint8_t codes[ROW_MAX];
    for (int c = 0; c < o->c; c++)
        for (int64_t k = 0; k < plane; k += ROW_MAX) {
            int64_t len = plane - k < ROW_MAX ? plane - k : ROW_MAX;
            nncw_i8_quantize(s->quant, 0, src + c * plane + k, len, -INFINITY, INFINITY, codes);
            for (int64_t j = 0; j < len; j++) {
                int64_t px = k + j;
                i8_act_at(o, i, (int)(px / o->w), (int)(px % o->w))[c] = codes[j];
            }
        }
}

static void dequantize_image(struct nncw_int8_plan *p, int v, int64_t i)
{
    const struct i8_act *a = &p->val[v].a;
    float *f = nncw_tensor_f32(nncw_i8_f32(p, v));
    int64_t plane = (int64_t)a->h * a->w;
    float *dst = f + i * a->c * plane;
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            const uint8_t *q = i8_act_at(a, i, y, x);
            for (int c = 0; c < a->c; c++)
                dst[c * plane + (int64_t)y * a->w + x] = (float)(q[c] - a->zp) * a->inv_s;
        }
}

void nncw_i8_dequantize_images(struct nncw_int8_plan *p, int v, int64_t i0, int64_t i1)
{
    for (int64_t i = i0; i < i1; i++)
        dequantize_image(p, v, i);
}

void nncw_i8_step_run_images(struct nncw_int8_plan *p, const struct i8_step *s, int64_t i0,
                             int64_t i1)
{
    const struct i8_act *a = &p->val[s->in[0]].a, *o = &p->val[s->out].a;
    for (int64_t i = i0; i < i1; i++) {
        switch (s->kind) {
        case I8_STEP_QUANTIZE:
            quantize_image(p, s, i);
            break;
        case I8_STEP_MAXPOOL:
            maxpool_image(s->pool, a, o, i);
            break;
        case I8_STEP_RELU:
            relu_image(a, o, i);
            break;
        case I8_STEP_RELAYOUT:
            relayout_image(a, o, i);
            break;
        case I8_STEP_ADD:
            add_image(p, s, i);
            break;
        case I8_STEP_GAP:
            gap_image(p, s, i);
            break;
        case I8_STEP_GEMM: {
            int64_t plane = nncw_i8_gemm_pixels(s) / a->n;
            nncw_i8_gemm_run_pixels(p, s, i * plane, (i + 1) * plane);
            break;
        }
        default: /* views share their input's codes */
            break;
        }
    }
    if (s->out_u8 && p->val[s->out].need_f32)
        nncw_i8_dequantize_images(p, s->out, i0, i1);
}
