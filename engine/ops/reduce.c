/*
** Reductions over a set of axes of a float tensor: ReduceSum, ReduceMean, ReduceMax, ReduceMin,
** ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp; the index
** reductions ArgMax and ArgMin (-> int64); and GlobalMaxPool (the max over every dimension after
** the channel, kept as size 1).
**
** Axes come from input 1 (ReduceSum since opset 13; a constant) or the attribute axes (the
** others, up to opset 17); no axes means every axis, unless noop_with_empty_axes is set, which
** makes the op an identity. keepdims (default 1) keeps reduced axes as size 1. ArgMax/ArgMin
** take axis (0), keepdims and select_last_index.
**
** The kernels walk the input once in order and accumulate into the output element each input
** element belongs to (output strides are 0 along reduced axes), in double precision.
** Backward exists for every float reduction: Max and Min send the gradient to the first
** element equal to the result.
*/
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

struct red {
    int ndim;
    bool reduced[NNCW_MAX_DIMS];
    int64_t count;                  /* input elements per output element */
    int64_t ostride[NNCW_MAX_DIMS]; /* output element strides in input dims, 0 where reduced */
};

static bool is_arg(enum nncw_op op)
{
    return op == NNCW_OP_ARGMAX || op == NNCW_OP_ARGMIN;
}

static const char *label_of(const struct nncw_node *node)
{
    return nncw_op_name(nncw_node_get_op(node));
}

/* which axes reduce: from the input, the attributes, or the op (GlobalMaxPool) */
static enum nncw_status red_axes(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, int ndim, bool *reduced, bool *noop)
{
    const char *name = nncw_node_get_name(node), *label = label_of(node);
    enum nncw_op op = nncw_node_get_op(node);
    memset(reduced, 0, NNCW_MAX_DIMS * sizeof *reduced);
    *noop = false;
    if (op == NNCW_OP_GLOBALMAXPOOL) {
        for (int d = 2; d < ndim; d++)
            reduced[d] = true;
        return NNCW_OK;
    }
    int64_t axes[NNCW_MAX_DIMS];
    int n = 0;
    if (is_arg(op)) {
        axes[n++] = nncw_node_get_attr_int(node, "axis", 0);
    } else if (n_in > 1 && in[1]) {
        const struct nncw_tensor *t = in[1];
        if (t->dtype != NNCW_DTYPE_I64 || t->ndim > 1 || nncw_tensor_numel(t) > NNCW_MAX_DIMS)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': axes must be a 1-D int64 tensor", label,
                             name);
        if (!t->data)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s '%s': axes must be a constant", label, name);
        n = (int)nncw_tensor_numel(t);
        memcpy(axes, t->data, (size_t)n * sizeof *axes);
    } else {
        const int64_t *a;
        int c = nncw_node_get_attr_ints(node, "axes", &a);
        if (c > NNCW_MAX_DIMS)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': %d axes", label, name, c);
        for (int i = 0; i < c; i++)
            axes[n++] = a[i];
    }
    if (n == 0) {
        *noop = nncw_node_get_attr_int(node, "noop_with_empty_axes", 0) != 0;
        for (int d = 0; d < ndim; d++)
            reduced[d] = !*noop;
        return NNCW_OK;
    }
    for (int i = 0; i < n; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + ndim : axes[i];
        if (a < 0 || a >= ndim || reduced[a])
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "%s '%s': axis %lld is out of range or repeated for "
                             "%d dimensions",
                             label, name, (long long)axes[i], ndim);
        reduced[a] = true;
    }
    return NNCW_OK;
}

static enum nncw_status red_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    const char *name = nncw_node_get_name(node), *label = label_of(node);
    enum nncw_op op = nncw_node_get_op(node);
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input is %s, only float32 is supported", label,
                         name, nncw_dtype_name(x->dtype));
    if (op == NNCW_OP_GLOBALMAXPOOL && x->ndim < 3)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': input needs at least 3 dimensions", label, name);
    bool reduced[NNCW_MAX_DIMS], noop;
    NNCW_TRY(red_axes(node, in, n_in, x->ndim, reduced, &noop));
    bool keep = op == NNCW_OP_GLOBALMAXPOOL || nncw_node_get_attr_int(node, "keepdims", 1) != 0;
    int64_t shape[NNCW_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!reduced[d])
            shape[nd++] = x->shape[d];
        else if (keep)
            shape[nd++] = 1;
        if (reduced[d] && x->shape[d] == 0 &&
            (is_arg(op) || op == NNCW_OP_REDUCEMAX || op == NNCW_OP_REDUCEMIN))
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': cannot reduce an empty dimension", label,
                             name);
    }
    nncw_tensor_init_borrowed(&out[0], is_arg(op) ? NNCW_DTYPE_I64 : NNCW_DTYPE_F32, nd, shape,
                              NULL);
    return NNCW_OK;
}

/* the reduction's geometry; true for the noop_with_empty_axes identity */
static bool red_plan(const struct nncw_node *node, struct nncw_tensor *const in[], int n_in,
                     struct red *r)
{
    const struct nncw_tensor *x = in[0];
    bool noop;
    red_axes(node, (const struct nncw_tensor *const *)in, n_in, x->ndim, r->reduced, &noop);
    r->ndim = x->ndim;
    r->count = 1;
    int64_t s = 1;
    for (int d = x->ndim - 1; d >= 0; d--) {
        r->ostride[d] = r->reduced[d] ? 0 : s;
        if (r->reduced[d])
            r->count *= x->shape[d];
        else
            s *= x->shape[d];
    }
    return noop;
}

/* output offset of each input element, visited in order */
struct red_walk {
    const struct red *r;
    const int64_t *shape;
    int64_t idx[NNCW_MAX_DIMS];
    int64_t o;
};

static void rw_next(struct red_walk *w)
{
    for (int d = w->r->ndim - 1; d >= 0; d--) {
        w->o += w->r->ostride[d];
        if (++w->idx[d] < w->shape[d])
            return;
        w->o -= w->r->ostride[d] * w->shape[d];
        w->idx[d] = 0;
    }
}

static enum nncw_status red_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    enum nncw_op op = nncw_node_get_op(node);
    struct red r;
    if (red_plan(node, in, n_in, &r)) { /* noop_with_empty_axes: the identity */
        memcpy(out[0]->data, in[0]->data, nncw_tensor_nbytes(out[0]));
        return NNCW_OK;
    }
    const float *x = nncw_tensor_f32(in[0]);
    int64_t n = nncw_tensor_numel(in[0]), m = nncw_tensor_numel(out[0]);
    double *acc = nncw_op_ctx_scratch(ctx, (size_t)(2 * m + 1) * sizeof *acc);
    if (!acc)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s '%s': out of memory", label_of(node),
                         nncw_node_get_name(node));
    double *aux = acc + m;
    bool is_max = op == NNCW_OP_REDUCEMAX || op == NNCW_OP_GLOBALMAXPOOL || op == NNCW_OP_ARGMAX;
    bool is_min = op == NNCW_OP_REDUCEMIN || op == NNCW_OP_ARGMIN;
    double init = is_max ? -INFINITY : is_min ? INFINITY : op == NNCW_OP_REDUCEPROD ? 1.0 : 0.0;
    for (int64_t o = 0; o < m; o++) {
        acc[o] = init;
        aux[o] = -1;
    }
    int axis = 0;
    for (int d = 0; d < r.ndim; d++)
        if (r.reduced[d])
            axis = d;
    bool last = nncw_node_get_attr_int(node, "select_last_index", 0) != 0;
    struct red_walk w = {&r, in[0]->shape, {0}, 0};
    if (op == NNCW_OP_REDUCELOGSUMEXP) { /* the max of each group first, for stability */
        for (int64_t o = 0; o < m; o++)
            aux[o] = -INFINITY;
        for (int64_t i = 0; i < n; i++, rw_next(&w))
            if (x[i] > aux[w.o])
                aux[w.o] = x[i];
        memset(&w, 0, sizeof w);
        w.r = &r;
        w.shape = in[0]->shape;
    }
    for (int64_t i = 0; i < n; i++, rw_next(&w)) {
        double v = x[i], *a = &acc[w.o];
        switch (op) {
        case NNCW_OP_REDUCEMAX:
        case NNCW_OP_REDUCEMIN:
        case NNCW_OP_GLOBALMAXPOOL:
            if (isnan(v) || (is_max ? v > *a : v < *a) || isnan(*a))
                *a = isnan(*a) ? *a : v;
            break;
        case NNCW_OP_ARGMAX:
        case NNCW_OP_ARGMIN: {
            bool better =
                aux[w.o] < 0 || (is_max ? (last ? v >= *a : v > *a) : (last ? v <= *a : v < *a));
            if (better) {
                *a = v;
                aux[w.o] = (double)w.idx[axis];
            }
            break;
        }
        case NNCW_OP_REDUCEPROD:
            *a *= v;
            break;
        case NNCW_OP_REDUCEL1:
            *a += fabs(v);
            break;
        case NNCW_OP_REDUCEL2:
        case NNCW_OP_REDUCESUMSQUARE:
            *a += v * v;
            break;
        case NNCW_OP_REDUCELOGSUMEXP:
            *a += exp(v - aux[w.o]);
            break;
        default: /* Sum, Mean, LogSum */
            *a += v;
            break;
        }
    }
    if (is_arg(op)) {
        int64_t *y = out[0]->data;
        for (int64_t o = 0; o < m; o++)
            y[o] = (int64_t)aux[o];
        return NNCW_OK;
    }
    float *y = nncw_tensor_f32(out[0]);
    for (int64_t o = 0; o < m; o++) {
        double v = acc[o];
        if (op == NNCW_OP_REDUCEMEAN)
            v = r.count ? v / (double)r.count : NAN;
        else if (op == NNCW_OP_REDUCEL2)
            v = sqrt(v);
        else if (op == NNCW_OP_REDUCELOGSUM)
            v = log(v);
        else if (op == NNCW_OP_REDUCELOGSUMEXP)
            v = aux[o] == -INFINITY ? -INFINITY : aux[o] + log(v);
        y[o] = (float)v;
    }
    return NNCW_OK;
}

static enum nncw_status red_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    enum nncw_op op = nncw_node_get_op(node);
    struct red r;
    if (red_plan(node, in, n_in, &r)) {
        int64_t n = nncw_tensor_numel(in[0]);
        for (int64_t i = 0; i < n; i++)
            nncw_tensor_f32(grad_in[0])[i] += nncw_tensor_f32(grad_out[0])[i];
        return NNCW_OK;
    }
    const float *x = nncw_tensor_f32(in[0]), *y = nncw_tensor_f32(out[0]),
                *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    int64_t n = nncw_tensor_numel(in[0]), m = nncw_tensor_numel(out[0]);
    uint8_t *taken = NULL;
    bool extreme =
        op == NNCW_OP_REDUCEMAX || op == NNCW_OP_REDUCEMIN || op == NNCW_OP_GLOBALMAXPOOL;
    if (extreme) {
        taken = nncw_op_ctx_scratch(ctx, (size_t)(m ? m : 1));
        if (!taken)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "%s '%s': out of memory", label_of(node),
                             nncw_node_get_name(node));
        memset(taken, 0, (size_t)m);
    }
    struct red_walk w = {&r, in[0]->shape, {0}, 0};
    for (int64_t i = 0; i < n; i++, rw_next(&w)) {
        float g = gy[w.o], v = x[i], yo = y[w.o], d;
        switch (op) {
        case NNCW_OP_REDUCEMEAN:
            d = g / (float)r.count;
            break;
        case NNCW_OP_REDUCEMAX:
        case NNCW_OP_REDUCEMIN:
        case NNCW_OP_GLOBALMAXPOOL:
            if (taken[w.o] || v != yo)
                continue;
            taken[w.o] = 1;
            d = g;
            break;
        case NNCW_OP_REDUCEPROD: {
            if (v != 0.0f) {
                d = g * yo / v;
                break;
            }
            /* a zero: the product of the other elements of its group */
            double p = 1.0;
            struct red_walk u = {&r, in[0]->shape, {0}, 0};
            for (int64_t j = 0; j < n; j++, rw_next(&u))
                if (u.o == w.o && j != i)
                    p *= x[j];
            d = g * (float)p;
            break;
        }
        case NNCW_OP_REDUCEL1:
            d = v > 0.0f ? g : v < 0.0f ? -g : 0.0f;
            break;
        case NNCW_OP_REDUCEL2:
            d = yo > 0.0f ? g * v / yo : 0.0f;
            break;
        case NNCW_OP_REDUCESUMSQUARE:
            d = 2.0f * g * v;
            break;
        case NNCW_OP_REDUCELOGSUM:
            d = g / expf(yo);
            break;
        case NNCW_OP_REDUCELOGSUMEXP:
            d = g * expf(v - yo);
            break;
        default: /* Sum */
            d = g;
            break;
        }
        gx[i] += d;
    }
    return NNCW_OK;
}

/* ArgMax and ArgMin give indices: nothing flows back */
static enum nncw_status arg_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)in, (void)n_in, (void)out, (void)grad_out, (void)grad_in;
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_reducesum = {
    "ReduceSum", "ReduceSum", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducemean = {
    "ReduceMean", "ReduceMean", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducemax = {
    "ReduceMax", "ReduceMax", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducemin = {
    "ReduceMin", "ReduceMin", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reduceprod = {
    "ReduceProd", "ReduceProd", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducel1 = {
    "ReduceL1", "ReduceL1", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducel2 = {
    "ReduceL2", "ReduceL2", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducesumsquare = {
    "ReduceSumSquare", "ReduceSumSquare", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducelogsum = {
    "ReduceLogSum", "ReduceLogSum", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_reducelogsumexp = {
    "ReduceLogSumExp", "ReduceLogSumExp", 1, 2, 1, red_infer, red_forward, red_backward,
};
const struct nncw_op_def nncw_op_def_argmax = {
    "ArgMax", "ArgMax", 1, 1, 1, red_infer, red_forward, arg_backward,
};
const struct nncw_op_def nncw_op_def_argmin = {
    "ArgMin", "ArgMin", 1, 1, 1, red_infer, red_forward, arg_backward,
};
const struct nncw_op_def nncw_op_def_globalmaxpool = {
    "GlobalMaxPool", "GlobalMaxPool", 1, 1, 1, red_infer, red_forward, red_backward,
};
