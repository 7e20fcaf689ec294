/*
** ConvTranspose (ONNX opset 11+), 1-D and 2-D: X [N, C, (H,) W], W [C, M / group, (kh,) kw],
** optional B [M]. Attributes kernel_shape (from W if absent), strides, dilations, pads,
** output_padding, output_shape, auto_pad, group.
**
** Each spatial output size is stride * (in - 1) + output_padding + (k - 1) * dilation + 1 -
** pads; output_shape (or auto_pad SAME_*, which asks for in * stride) sets the pads instead,
** split as the ONNX specification says. The computation is the adjoint of a convolution: per
** image and group, columns = W_g^T X_g (one sgemm), then every column entry is added into the
** output pixel it lands on (col2im). Backward gathers the output gradient the same way
** (im2col) for two more sgemms. The column loops here are plain and bounds-checked, kept apart
** from conv.c's tuned kernels.
*/
#include <limits.h>
#include <string.h>

#include "ops/blas.h"
#include "ops/ops_internal.h"
#include "ops/window.h"

struct ct_geom {
    int n, c, m, group;
    int h, w, oh, ow; /* input and output planes (h = oh = 1 for 1-D) */
    int kh, kw, sh, sw, dh, dw;
    int pt, pl; /* top and left pads */
};

/* one spatial dimension's kernel, stride, dilation, pads and output size */
struct ct_dim {
    int64_t in, k, s, dil, pb, pe, opad, out;
};

static enum nncw_status ints_attr(const struct nncw_node *node, const char *name, int count,
                                  int64_t def, int64_t min, int64_t *v)
{
    const int64_t *a;
    int n = nncw_node_get_attr_ints(node, name, &a);
    for (int i = 0; i < count; i++)
        v[i] = def;
    if (n < 0)
        return NNCW_OK;
    if (n != count)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "convtranspose '%s': %s has %d values, expected %d",
                         nncw_node_get_name(node), name, n, count);
    for (int i = 0; i < n; i++) {
        if (a[i] < min || a[i] > (1 << 20))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "convtranspose '%s': %s[%d] = %lld is out of "
                             "range",
                             nncw_node_get_name(node), name, i, (long long)a[i]);
        v[i] = a[i];
    }
    return NNCW_OK;
}

static enum nncw_status ct_dims(const struct nncw_node *node, const struct nncw_tensor *x,
                                const struct nncw_tensor *w, int sd, struct ct_dim *d)
{
    const char *name = nncw_node_get_name(node);
    int64_t k[2], s[2], dil[2], pads[4], opad[2], oshape[2];
    NNCW_TRY(ints_attr(node, "strides", sd, 1, 1, s));
    NNCW_TRY(ints_attr(node, "dilations", sd, 1, 1, dil));
    NNCW_TRY(ints_attr(node, "pads", 2 * sd, 0, 0, pads));
    NNCW_TRY(ints_attr(node, "output_padding", sd, 0, 0, opad));
    NNCW_TRY(ints_attr(node, "kernel_shape", sd, 0, 1, k));
    enum nncw_auto_pad ap;
    const char *aps = nncw_node_get_attr_string(node, "auto_pad", "NOTSET");
    if (!nncw_auto_pad_parse(aps, &ap))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "convtranspose '%s': unknown auto_pad '%s'", name,
                         aps);
    const int64_t *os;
    int n_os = nncw_node_get_attr_ints(node, "output_shape", &os);
    if (n_os >= 0 && n_os != sd && n_os != sd + 2)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "convtranspose '%s': output_shape has %d values",
                         name, n_os);
    for (int i = 0; i < sd; i++) {
        struct ct_dim *e = &d[i];
        e->in = x->shape[2 + i];
        e->k = w->shape[2 + i];
        if (k[i] && k[i] != e->k)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "convtranspose '%s': kernel_shape %lld, the weight "
                             "has %lld",
                             name, (long long)k[i], (long long)e->k);
        e->s = s[i];
        e->dil = dil[i];
        e->pb = pads[i];
        e->pe = pads[i + sd];
        e->opad = opad[i];
        int64_t full = e->s * (e->in - 1) + e->opad + (e->k - 1) * e->dil + 1;
        bool set = n_os >= 0 || ap == NNCW_AUTO_PAD_SAME_UPPER || ap == NNCW_AUTO_PAD_SAME_LOWER;
        if (set) {
            oshape[i] = n_os >= 0 ? os[n_os - sd + i] : e->in * e->s;
            int64_t total = full - oshape[i];
            if (total < 0)
                total = 0;
            e->pb = ap == NNCW_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            e->pe = total - e->pb;
        } else if (ap == NNCW_AUTO_PAD_VALID) {
            e->pb = e->pe = 0;
        }
        e->out = set ? oshape[i] : full - e->pb - e->pe;
        if (e->out < 1 || e->out > INT_MAX / 4 || e->in > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "convtranspose '%s': spatial size %lld from input "
                             "%lld",
                             name, (long long)e->out, (long long)e->in);
    }
    return NNCW_OK;
}

static enum nncw_status ct_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    char sx[96], sw_[96];
    if (x->dtype != NNCW_DTYPE_F32 || w->dtype != NNCW_DTYPE_F32 ||
        (b && b->dtype != NNCW_DTYPE_F32))
        return NNCW_FAIL(NNCW_ERR_DTYPE, "convtranspose '%s': only float32 is supported", name);
    if (x->ndim != 3 && x->ndim != 4)
        return NNCW_FAIL(x->ndim > 4 ? NNCW_ERR_UNSUPPORTED : NNCW_ERR_SHAPE,
                         "convtranspose '%s': input %s (1-D and 2-D are supported)", name,
                         nncw_tensor_shape_str(x, sx, sizeof sx));
    int64_t group = nncw_node_get_attr_int(node, "group", 1);
    if (w->ndim != x->ndim || w->shape[0] != x->shape[1] || group < 1 || x->shape[1] % group != 0 ||
        w->shape[1] * group > INT_MAX / 4)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "convtranspose '%s': weight %s does not fit input %s "
                         "with group %lld",
                         name, nncw_tensor_shape_str(w, sw_, sizeof sw_),
                         nncw_tensor_shape_str(x, sx, sizeof sx), (long long)group);
    int64_t m = w->shape[1] * group;
    if (b && (b->ndim != 1 || b->shape[0] != m))
        return NNCW_FAIL(NNCW_ERR_SHAPE, "convtranspose '%s': bias %s, expected [%lld]", name,
                         nncw_tensor_shape_str(b, sx, sizeof sx), (long long)m);
    struct ct_dim d[2];
    int sd = x->ndim - 2;
    NNCW_TRY(ct_dims(node, x, w, sd, d));
    int64_t shape[4] = {x->shape[0], m, d[0].out, sd > 1 ? d[1].out : 0};
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, shape, NULL);
    return NNCW_OK;
}

static void ct_geom_of(const struct nncw_node *node, const struct nncw_tensor *x,
                       const struct nncw_tensor *w, struct ct_geom *g)
{
    struct ct_dim d[2];
    int sd = x->ndim - 2;
    ct_dims(node, x, w, sd, d); /* validated by shape inference */
    const struct ct_dim *dh = sd == 2 ? &d[0] : NULL, *dw = &d[sd - 1];
    g->n = (int)x->shape[0];
    g->c = (int)x->shape[1];
    g->group = (int)nncw_node_get_attr_int(node, "group", 1);
    g->m = (int)w->shape[1] * g->group;
    g->h = dh ? (int)dh->in : 1;
    g->oh = dh ? (int)dh->out : 1;
    g->kh = dh ? (int)dh->k : 1;
    g->sh = dh ? (int)dh->s : 1;
    g->dh = dh ? (int)dh->dil : 1;
    g->pt = dh ? (int)dh->pb : 0;
    g->w = (int)dw->in;
    g->ow = (int)dw->out;
    g->kw = (int)dw->k;
    g->sw = (int)dw->s;
    g->dw = (int)dw->dil;
    g->pl = (int)dw->pb;
}

/* adds col [mg * kh * kw, h * w] into the output planes y [mg, oh, ow] (or gathers, for
 * backward: col = the entries of y each column position lands on) */
static void col_scatter(const struct ct_geom *g, int mg, float *col, float *y, bool gather)
{
    size_t hw = (size_t)g->h * g->w;
    for (int m = 0; m < mg; m++)
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                float *row = col + ((size_t)(m * g->kh + ky) * g->kw + kx) * hw;
                float *plane = y + (size_t)m * g->oh * g->ow;
                for (int iy = 0; iy < g->h; iy++) {
                    int oy = iy * g->sh - g->pt + ky * g->dh;
                    bool in_y = oy >= 0 && oy < g->oh;
                    for (int ix = 0; ix < g->w; ix++) {
                        int ox = ix * g->sw - g->pl + kx * g->dw;
                        float *c = &row[(size_t)iy * g->w + ix];
                        bool inside = in_y && ox >= 0 && ox < g->ow;
                        if (gather)
                            *c = inside ? plane[(size_t)oy * g->ow + ox] : 0.0f;
                        else if (inside)
                            plane[(size_t)oy * g->ow + ox] += *c;
                    }
                }
            }
}

static enum nncw_status ct_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    struct ct_geom g;
    ct_geom_of(node, in[0], in[1], &g);
    int cg = g.c / g.group, mg = g.m / g.group, hw = g.h * g.w, rows = mg * g.kh * g.kw;
    size_t ohw = (size_t)g.oh * g.ow;
    float *col = nncw_op_ctx_scratch(ctx, (size_t)rows * hw * sizeof(float) + 1);
    if (!col)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "convtranspose '%s': out of memory",
                         nncw_node_get_name(node));
    const float *x = nncw_tensor_f32(in[0]), *w = nncw_tensor_f32(in[1]);
    const float *b = n_in > 2 && in[2] ? nncw_tensor_f32(in[2]) : NULL;
    float *y = nncw_tensor_f32(out[0]);
    memset(y, 0, nncw_tensor_nbytes(out[0]));
    for (int n = 0; n < g.n; n++)
        for (int gr = 0; gr < g.group; gr++) {
            const float *xg = x + ((size_t)n * g.c + (size_t)gr * cg) * hw;
            const float *wg = w + (size_t)gr * cg * rows;
            nncw_blas_sgemm(true, false, rows, hw, cg, 1.0f, wg, rows, xg, hw, 0.0f, col, hw);
            col_scatter(&g, mg, col, y + ((size_t)n * g.m + (size_t)gr * mg) * ohw, false);
        }
    if (b)
        for (int n = 0; n < g.n; n++)
            for (int m = 0; m < g.m; m++) {
                float *plane = y + ((size_t)n * g.m + m) * ohw;
                for (size_t i = 0; i < ohw; i++)
                    plane[i] += b[m];
            }
    return NNCW_OK;
}

static enum nncw_status ct_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)out;
    if (!grad_out[0])
        return NNCW_OK;
    struct ct_geom g;
    ct_geom_of(node, in[0], in[1], &g);
    int cg = g.c / g.group, mg = g.m / g.group, hw = g.h * g.w, rows = mg * g.kh * g.kw;
    size_t ohw = (size_t)g.oh * g.ow;
    const float *x = nncw_tensor_f32(in[0]), *w = nncw_tensor_f32(in[1]);
    float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL;
    float *gw = grad_in[1] ? nncw_tensor_f32(grad_in[1]) : NULL;
    float *gb = n_in > 2 && grad_in[2] ? nncw_tensor_f32(grad_in[2]) : NULL;
    if (gb)
        for (int n = 0; n < g.n; n++)
            for (int m = 0; m < g.m; m++) {
                const float *plane = gy + ((size_t)n * g.m + m) * ohw;
                double s = 0;
                for (size_t i = 0; i < ohw; i++)
                    s += plane[i];
                gb[m] += (float)s;
            }
    if (!gx && !gw)
        return NNCW_OK;
    float *col = nncw_op_ctx_scratch(ctx, (size_t)rows * hw * sizeof(float) + 1);
    if (!col)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "convtranspose '%s': out of memory",
                         nncw_node_get_name(node));
    for (int n = 0; n < g.n; n++)
        for (int gr = 0; gr < g.group; gr++) {
            col_scatter(&g, mg, col, gy + ((size_t)n * g.m + (size_t)gr * mg) * ohw, true);
            size_t xo = ((size_t)n * g.c + (size_t)gr * cg) * hw;
            size_t wo = (size_t)gr * cg * rows;
            if (gx)
                nncw_blas_sgemm(false, false, cg, hw, rows, 1.0f, w + wo, rows, col, hw, 1.0f,
                                gx + xo, hw);
            if (gw)
                nncw_blas_sgemm(false, true, cg, rows, hw, 1.0f, x + xo, hw, col, hw, 1.0f, gw + wo,
                                rows);
        }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_convtranspose = {
    "ConvTranspose", "ConvTranspose", 2, 3, 1, ct_infer, ct_forward, ct_backward,
};
