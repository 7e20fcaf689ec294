/*
** Slice and Split (ONNX opset 13), on any dtype.
**
** Slice takes starts, ends and the optional axes and steps as inputs 1 to 4 (constants): for
** each listed axis the elements start, start + step, ... before end, with ONNX's clamping
** (negative values count from the end; out-of-range values, such as INT64_MAX for "to the end",
** clamp to the dimension). Split cuts along `axis` (default 0) into as many outputs as the node
** has (at most 8), with sizes from input 1 (a constant) or equal parts.
**
** Both are gathers of strided blocks, so backward scatters the output gradient back.
*/
#include <string.h>

#include "ops/ops_internal.h"

/* ---- Slice ---- */

struct slice_geom {
    int nd;
    int64_t start[NNCW_MAX_DIMS], step[NNCW_MAX_DIMS], len[NNCW_MAX_DIMS];
};

/* start and output length of one axis (dim elements) under ONNX's clamping rules */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *s0,
                       int64_t *len)
{
    if (start < 0)
        start = start < -dim ? (step > 0 ? 0 : -1) : start + dim;
    if (end < 0)
        end = end < -dim ? -1 : end + dim;
    if (step > 0) {
        start = start > dim ? dim : start;
        end = end < 0 ? 0 : end > dim ? dim : end;
        *len = end > start ? (end - start + step - 1) / step : 0;
    } else {
        start = start > dim - 1 ? dim - 1 : start;
        end = end > dim - 1 ? dim - 1 : end;
        /* step < 0: (start - end) / -step rounded up, without overflow for INT64_MIN steps */
        uint64_t span = start > end ? (uint64_t)(start - end) : 0, st = 0 - (uint64_t)step;
        *len = span ? (int64_t)((span + st - 1) / st) : 0;
    }
    *s0 = start;
}

static enum nncw_status slice_geom_of(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct slice_geom *g)
{
    const struct nncw_tensor *x = in[0];
    const char *name = nncw_node_get_name(node);
    int64_t starts[NNCW_MAX_DIMS], ends[NNCW_MAX_DIMS], axes[NNCW_MAX_DIMS], steps[NNCW_MAX_DIMS];
    int ns, ne, na, nst;
    NNCW_TRY(nncw_op_const_ints(node, "starts", in[1], NNCW_MAX_DIMS, starts, &ns));
    NNCW_TRY(nncw_op_const_ints(node, "ends", in[2], NNCW_MAX_DIMS, ends, &ne));
    if (n_in > 3 && in[3]) {
        NNCW_TRY(nncw_op_const_ints(node, "axes", in[3], NNCW_MAX_DIMS, axes, &na));
    } else {
        na = ns;
        for (int i = 0; i < na; i++)
            axes[i] = i;
    }
    if (n_in > 4 && in[4]) {
        NNCW_TRY(nncw_op_const_ints(node, "steps", in[4], NNCW_MAX_DIMS, steps, &nst));
    } else {
        nst = ns;
        for (int i = 0; i < nst; i++)
            steps[i] = 1;
    }
    if (ns != ne || ns != na || ns != nst)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "slice '%s': %d starts, %d ends, %d axes, %d steps", name,
                         ns, ne, na, nst);
    g->nd = x->ndim;
    bool seen[NNCW_MAX_DIMS] = {false};
    for (int d = 0; d < x->ndim; d++) {
        g->start[d] = 0;
        g->step[d] = 1;
        g->len[d] = x->shape[d];
    }
    for (int i = 0; i < ns; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + x->ndim : axes[i];
        if (a < 0 || a >= x->ndim || seen[a])
            return NNCW_FAIL(NNCW_ERR_SHAPE, "slice '%s': axis %lld is out of range or repeated",
                             name, (long long)axes[i]);
        if (steps[i] == 0)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "slice '%s': step 0 on axis %lld", name, (long long)a);
        seen[a] = true;
        g->step[a] = steps[i];
        slice_axis(x->shape[a], starts[i], ends[i], steps[i], &g->start[a], &g->len[a]);
    }
    return NNCW_OK;
}

static enum nncw_status slice_infer(const struct nncw_node *node,
                                    const struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor out[])
{
    struct slice_geom g;
    NNCW_TRY(slice_geom_of(node, in, n_in, &g));
    nncw_tensor_init_borrowed(&out[0], in[0]->dtype, g.nd, g.len, NULL);
    return NNCW_OK;
}

/* input offset of output element idx */
static int64_t slice_offset(const struct slice_geom *g, const struct nncw_tensor *x,
                            const int64_t *idx)
{
    int64_t off = 0;
    for (int d = 0; d < g->nd; d++)
        off += (g->start[d] + idx[d] * g->step[d]) * x->strides[d];
    return off;
}

static void next_index(int nd, const int64_t *shape, int64_t *idx)
{
    for (int d = nd - 1; d >= 0; d--) {
        if (++idx[d] < shape[d])
            return;
        idx[d] = 0;
    }
}

static enum nncw_status slice_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[])
{
    (void)ctx;
    struct slice_geom g;
    NNCW_TRY(slice_geom_of(node, (const struct nncw_tensor *const *)in, n_in, &g));
    const struct nncw_tensor *x = in[0];
    struct nncw_tensor *y = out[0];
    size_t es = nncw_dtype_size(y->dtype);
    int64_t n = nncw_tensor_numel(y), idx[NNCW_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++, next_index(g.nd, g.len, idx))
        memcpy((char *)y->data + (size_t)i * es,
               (const char *)x->data + (size_t)slice_offset(&g, x, idx) * es, es);
    return NNCW_OK;
}

static enum nncw_status slice_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[],
                                       struct nncw_tensor *const grad_out[],
                                       struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    struct slice_geom g;
    NNCW_TRY(slice_geom_of(node, (const struct nncw_tensor *const *)in, n_in, &g));
    int64_t n = nncw_tensor_numel(out[0]), idx[NNCW_MAX_DIMS] = {0};
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    for (int64_t i = 0; i < n; i++, next_index(g.nd, g.len, idx))
        gx[slice_offset(&g, grad_in[0], idx)] += gy[i];
    return NNCW_OK;
}

/* ---- Split ---- */

static enum nncw_status split_sizes(const struct nncw_node *node,
                                    const struct nncw_tensor *const in[], int n_in, int64_t *axis,
                                    int64_t *sizes)
{
    const struct nncw_tensor *x = in[0];
    const char *name = nncw_node_get_name(node);
    int n_out = nncw_node_count_outputs(node);
    *axis = nncw_node_get_attr_int(node, "axis", 0);
    if (*axis < -x->ndim || *axis >= x->ndim)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "split '%s': axis %lld is out of range", name,
                         (long long)*axis);
    if (*axis < 0)
        *axis += x->ndim;
    int64_t dim = x->shape[*axis], total = 0;
    if (n_in > 1 && in[1]) {
        int n;
        NNCW_TRY(nncw_op_const_ints(node, "split", in[1], 8, sizes, &n));
        if (n != n_out)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "split '%s': %d sizes for %d outputs", name, n, n_out);
        for (int i = 0; i < n; i++) {
            if (sizes[i] < 0 || sizes[i] > dim)
                return NNCW_FAIL(NNCW_ERR_SHAPE, "split '%s': size %lld", name,
                                 (long long)sizes[i]);
            total += sizes[i];
        }
        if (total != dim)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "split '%s': sizes add up to %lld, the axis is %lld",
                             name, (long long)total, (long long)dim);
        return NNCW_OK;
    }
    if (dim % n_out != 0)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "split '%s': %lld does not split into %d equal parts",
                         name, (long long)dim, n_out);
    for (int i = 0; i < n_out; i++)
        sizes[i] = dim / n_out;
    return NNCW_OK;
}

static enum nncw_status split_infer(const struct nncw_node *node,
                                    const struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor out[])
{
    int64_t axis, sizes[8];
    NNCW_TRY(split_sizes(node, in, n_in, &axis, sizes));
    for (int o = 0; o < nncw_node_count_outputs(node); o++) {
        int64_t shape[NNCW_MAX_DIMS];
        memcpy(shape, in[0]->shape, sizeof shape);
        shape[axis] = sizes[o];
        nncw_tensor_init_borrowed(&out[o], in[0]->dtype, in[0]->ndim, shape, NULL);
    }
    return NNCW_OK;
}

/* the input as [outer, dim, inner] around the axis */
static void split_dims(const struct nncw_tensor *x, int64_t axis, int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= x->shape[d];
    for (int d = (int)axis + 1; d < x->ndim; d++)
        *inner *= x->shape[d];
}

static enum nncw_status split_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[])
{
    (void)ctx;
    int64_t axis, sizes[8], outer, inner;
    NNCW_TRY(split_sizes(node, (const struct nncw_tensor *const *)in, n_in, &axis, sizes));
    const struct nncw_tensor *x = in[0];
    split_dims(x, axis, &outer, &inner);
    size_t es = nncw_dtype_size(x->dtype), row = (size_t)(x->shape[axis] * inner) * es, at = 0;
    for (int o = 0; o < nncw_node_count_outputs(node); o++) {
        size_t part = (size_t)(sizes[o] * inner) * es;
        for (int64_t k = 0; k < outer && part; k++)
            memcpy((char *)out[o]->data + (size_t)k * part,
                   (const char *)x->data + (size_t)k * row + at, part);
        at += part;
    }
    return NNCW_OK;
}

static enum nncw_status split_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[],
                                       struct nncw_tensor *const grad_out[],
                                       struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)out;
    if (!grad_in[0])
        return NNCW_OK;
    int64_t axis, sizes[8], outer, inner;
    NNCW_TRY(split_sizes(node, (const struct nncw_tensor *const *)in, n_in, &axis, sizes));
    split_dims(in[0], axis, &outer, &inner);
    int64_t row = in[0]->shape[axis] * inner, at = 0;
    float *gx = nncw_tensor_f32(grad_in[0]);
    for (int o = 0; o < nncw_node_count_outputs(node); o++) {
        int64_t part = sizes[o] * inner;
        if (grad_out[o]) {
            const float *gy = nncw_tensor_f32(grad_out[o]);
            for (int64_t k = 0; k < outer; k++)
                for (int64_t i = 0; i < part; i++)
                    gx[k * row + at + i] += gy[k * part + i];
        }
        at += part;
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_slice = {
    "Slice", "Slice", 3, 5, 1, slice_infer, slice_forward, slice_backward,
};
const struct nncw_op_def nncw_op_def_split = {
    "Split", "Split", 1, 2, 8, split_infer, split_forward, split_backward,
};
