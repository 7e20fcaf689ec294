/*
** Ops that change or report dimensions without reordering data (ONNX opset 13):
** Squeeze and Unsqueeze (axes as input 1, a constant; Squeeze without axes drops every 1),
** Expand (broadcast to the shape in input 1), Tile (repeats in input 1), Shape (with opset 15's
** start and end) and Size (-> int64).
**
** All work on any dtype (shape computations in imported models use int64). Squeeze and
** Unsqueeze are copies; Expand and Tile repeat, so their backward sums the gradient over the
** copies. Inputs that decide a shape must be constants, since nncw plans memory at shape
** inference.
*/
#include <string.h>

#include "ops/ops_internal.h"

static const char *label_of(const struct nncw_node *node)
{
    return nncw_op_name(nncw_node_get_op(node));
}

enum nncw_status nncw_op_const_ints(const struct nncw_node *node, const char *what,
                                    const struct nncw_tensor *t, int max, int64_t *v, int *n)
{
    const char *name = nncw_node_get_name(node), *label = label_of(node);
    if (t->dtype != NNCW_DTYPE_I64 && t->dtype != NNCW_DTYPE_I32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': %s is %s, expected int64", label, name, what,
                         nncw_dtype_name(t->dtype));
    int64_t count = nncw_tensor_numel(t);
    if (t->ndim > 1 || count > max) {
        char s[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': %s is %s, expected a vector of at most %d",
                         label, name, what, nncw_tensor_shape_str(t, s, sizeof s), max);
    }
    if (!t->data)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "%s '%s': %s must be a constant (nncw plans memory for shapes known "
                         "before running)",
                         label, name, what);
    for (int64_t i = 0; i < count; i++)
        v[i] = nncw_op_int_at(t, i);
    *n = (int)count;
    return NNCW_OK;
}

static void copy_backward_f32(const struct nncw_tensor *gy, struct nncw_tensor *gx)
{
    int64_t n = nncw_tensor_numel(gy);
    for (int64_t i = 0; i < n; i++)
        nncw_tensor_f32(gx)[i] += nncw_tensor_f32(gy)[i];
}

static enum nncw_status copy_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[])
{
    (void)ctx, (void)node, (void)n_in;
    if (out[0]->data != in[0]->data)
        memcpy(out[0]->data, in[0]->data, nncw_tensor_nbytes(out[0]));
    return NNCW_OK;
}

static enum nncw_status copy_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[],
                                      struct nncw_tensor *const grad_out[],
                                      struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)in, (void)n_in, (void)out;
    if (grad_out[0] && grad_in[0])
        copy_backward_f32(grad_out[0], grad_in[0]);
    return NNCW_OK;
}

/* ---- Squeeze and Unsqueeze ---- */

/* the axes (input 1, or the opset-11 attribute), normalised against rank r and marked */
static enum nncw_status read_axes(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in, int r, bool *mark,
                                  int *n)
{
    int64_t axes[NNCW_MAX_DIMS];
    *n = 0;
    if (n_in > 1 && in[1]) {
        NNCW_TRY(nncw_op_const_ints(node, "axes", in[1], NNCW_MAX_DIMS, axes, n));
    } else {
        const int64_t *a;
        int c = nncw_node_get_attr_ints(node, "axes", &a);
        if (c > NNCW_MAX_DIMS)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': %d axes", label_of(node),
                             nncw_node_get_name(node), c);
        for (int i = 0; i < c; i++)
            axes[(*n)++] = a[i];
    }
    memset(mark, 0, NNCW_MAX_DIMS * sizeof *mark);
    for (int i = 0; i < *n; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
        if (a < 0 || a >= r || mark[a])
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "%s '%s': axis %lld is out of range or repeated for "
                             "rank %d",
                             label_of(node), nncw_node_get_name(node), (long long)axes[i], r);
        mark[a] = true;
    }
    return NNCW_OK;
}

static enum nncw_status squeeze_infer(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    bool mark[NNCW_MAX_DIMS];
    int n;
    NNCW_TRY(read_axes(node, in, n_in, x->ndim, mark, &n));
    int64_t shape[NNCW_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (n == 0 ? x->shape[d] == 1 : mark[d]) {
            if (x->shape[d] != 1) {
                char s[96];
                return NNCW_FAIL(NNCW_ERR_SHAPE, "squeeze '%s': dimension %d of %s is not 1",
                                 nncw_node_get_name(node), d,
                                 nncw_tensor_shape_str(x, s, sizeof s));
            }
            continue;
        }
        shape[nd++] = x->shape[d];
    }
    nncw_tensor_init_borrowed(&out[0], x->dtype, nd, shape, NULL);
    return NNCW_OK;
}

static enum nncw_status unsqueeze_infer(const struct nncw_node *node,
                                        const struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    int64_t axes[NNCW_MAX_DIMS];
    int n = 0;
    if (n_in > 1 && in[1]) {
        NNCW_TRY(nncw_op_const_ints(node, "axes", in[1], NNCW_MAX_DIMS, axes, &n));
    } else {
        const int64_t *a;
        int c = nncw_node_get_attr_ints(node, "axes", &a);
        for (int i = 0; i < c && i < NNCW_MAX_DIMS; i++)
            axes[n++] = a[i];
    }
    int r = x->ndim + n;
    if (r > NNCW_MAX_DIMS || n == 0)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "unsqueeze '%s': %d axes for rank %d",
                         nncw_node_get_name(node), n, x->ndim);
    bool mark[NNCW_MAX_DIMS] = {false};
    for (int i = 0; i < n; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
        if (a < 0 || a >= r || mark[a])
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "unsqueeze '%s': axis %lld is out of range or "
                             "repeated for output rank %d",
                             nncw_node_get_name(node), (long long)axes[i], r);
        mark[a] = true;
    }
    int64_t shape[NNCW_MAX_DIMS];
    for (int d = 0, k = 0; d < r; d++)
        shape[d] = mark[d] ? 1 : x->shape[k++];
    nncw_tensor_init_borrowed(&out[0], x->dtype, r, shape, NULL);
    return NNCW_OK;
}

/* ---- Expand ---- */

static enum nncw_status expand_infer(const struct nncw_node *node,
                                     const struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0];
    int64_t v[NNCW_MAX_DIMS];
    int n;
    NNCW_TRY(nncw_op_const_ints(node, "shape", in[1], NNCW_MAX_DIMS, v, &n));
    struct nncw_tensor s;
    for (int i = 0; i < n; i++)
        if (v[i] < 0)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "expand '%s': shape entry %d is %lld",
                             nncw_node_get_name(node), i, (long long)v[i]);
    nncw_tensor_init_borrowed(&s, x->dtype, n, v, NULL);
    const struct nncw_tensor *both[2] = {x, &s};
    int nd;
    int64_t shape[NNCW_MAX_DIMS];
    if (!nncw_op_broadcast_shape(2, both, &nd, shape)) {
        char sx[96], ss[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE, "expand '%s': %s does not broadcast to %s",
                         nncw_node_get_name(node), nncw_tensor_shape_str(x, sx, sizeof sx),
                         nncw_tensor_shape_str(&s, ss, sizeof ss));
    }
    if (nncw_shape_numel(nd, shape) < 0)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "expand '%s': the output is too large",
                         nncw_node_get_name(node));
    nncw_tensor_init_borrowed(&out[0], x->dtype, nd, shape, NULL);
    return NNCW_OK;
}

/* Visits the output of Expand (or Tile) in order: off is the input element each output element
 * reads. Tile wraps with a modulo, Expand with stride 0. */
struct rep_walk {
    int nd;
    int64_t shape[NNCW_MAX_DIMS], in_shape[NNCW_MAX_DIMS], s[NNCW_MAX_DIMS];
    int64_t idx[NNCW_MAX_DIMS];
};

static int64_t rep_offset(const struct rep_walk *w)
{
    int64_t off = 0;
    for (int d = 0; d < w->nd; d++)
        off += (w->in_shape[d] ? w->idx[d] % w->in_shape[d] : 0) * w->s[d];
    return off;
}

static void rep_next(struct rep_walk *w)
{
    for (int d = w->nd - 1; d >= 0; d--) {
        if (++w->idx[d] < w->shape[d])
            return;
        w->idx[d] = 0;
    }
}

/* the walk of y over x (x aligned to y's trailing dimensions) */
static void rep_init(struct rep_walk *w, const struct nncw_tensor *x, const struct nncw_tensor *y)
{
    memset(w, 0, sizeof *w);
    w->nd = y->ndim;
    for (int d = 0; d < y->ndim; d++) {
        int dx = d - (y->ndim - x->ndim);
        w->shape[d] = y->shape[d];
        w->in_shape[d] = dx >= 0 ? x->shape[dx] : 1;
        w->s[d] = dx >= 0 ? x->strides[dx] : 0;
    }
}

static enum nncw_status rep_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)ctx, (void)node, (void)n_in;
    const struct nncw_tensor *x = in[0];
    struct nncw_tensor *y = out[0];
    size_t es = nncw_dtype_size(y->dtype);
    int64_t n = nncw_tensor_numel(y);
    if (nncw_tensor_numel(x) == 0)
        return NNCW_OK;
    struct rep_walk w;
    rep_init(&w, x, y);
    for (int64_t i = 0; i < n; i++, rep_next(&w))
        memcpy((char *)y->data + (size_t)i * es,
               (const char *)x->data + (size_t)rep_offset(&w) * es, es);
    return NNCW_OK;
}

static enum nncw_status rep_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)n_in;
    if (!grad_out[0] || !grad_in[0] || nncw_tensor_numel(in[0]) == 0)
        return NNCW_OK;
    struct rep_walk w;
    rep_init(&w, grad_in[0], out[0]);
    int64_t n = nncw_tensor_numel(out[0]);
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    for (int64_t i = 0; i < n; i++, rep_next(&w))
        gx[rep_offset(&w)] += gy[i];
    return NNCW_OK;
}

/* ---- Tile ---- */

static enum nncw_status tile_infer(const struct nncw_node *node,
                                   const struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0];
    int64_t rep[NNCW_MAX_DIMS], shape[NNCW_MAX_DIMS];
    int n;
    NNCW_TRY(nncw_op_const_ints(node, "repeats", in[1], NNCW_MAX_DIMS, rep, &n));
    if (n != x->ndim)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "tile '%s': %d repeats for %d dimensions",
                         nncw_node_get_name(node), n, x->ndim);
    for (int d = 0; d < n; d++) {
        if (rep[d] < 0 || (x->shape[d] && rep[d] > INT64_MAX / 16 / x->shape[d]))
            return NNCW_FAIL(NNCW_ERR_SHAPE, "tile '%s': repeats[%d] is %lld",
                             nncw_node_get_name(node), d, (long long)rep[d]);
        shape[d] = x->shape[d] * rep[d];
    }
    if (nncw_shape_numel(n, shape) < 0)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "tile '%s': the output is too large",
                         nncw_node_get_name(node));
    nncw_tensor_init_borrowed(&out[0], x->dtype, n, shape, NULL);
    return NNCW_OK;
}

/* ---- Shape and Size ---- */

static void shape_range(const struct nncw_node *node, int r, int64_t *start, int64_t *end)
{
    *start = nncw_node_get_attr_int(node, "start", 0);
    *end = nncw_node_get_attr_int(node, "end", r);
    *start = *start < 0 ? *start + r : *start;
    *end = *end < 0 ? *end + r : *end;
    *start = *start < 0 ? 0 : *start > r ? r : *start;
    *end = *end < *start ? *start : *end > r ? r : *end;
}

static enum nncw_status shape_infer(const struct nncw_node *node,
                                    const struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor out[])
{
    (void)n_in;
    int64_t start, end;
    shape_range(node, in[0]->ndim, &start, &end);
    int64_t n = end - start;
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_I64, 1, &n, NULL);
    return NNCW_OK;
}

static enum nncw_status shape_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[])
{
    (void)ctx, (void)n_in;
    int64_t start, end;
    shape_range(node, in[0]->ndim, &start, &end);
    int64_t n = out[0]->shape[0] < end - start ? out[0]->shape[0] : end - start;
    memcpy(out[0]->data, in[0]->shape + start, (size_t)n * sizeof(int64_t));
    return NNCW_OK;
}

static enum nncw_status size_infer(const struct nncw_node *node,
                                   const struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor out[])
{
    (void)node, (void)in, (void)n_in;
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_I64, 0, NULL, NULL);
    return NNCW_OK;
}

static enum nncw_status size_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[])
{
    (void)ctx, (void)node, (void)n_in;
    ((int64_t *)out[0]->data)[0] = nncw_tensor_numel(in[0]);
    return NNCW_OK;
}

/* Shape and Size read only the shape: nothing flows back */
static enum nncw_status shape_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[],
                                       struct nncw_tensor *const grad_out[],
                                       struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)in, (void)n_in, (void)out, (void)grad_out, (void)grad_in;
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_squeeze = {
    "Squeeze", "Squeeze", 1, 2, 1, squeeze_infer, copy_forward, copy_backward,
};
const struct nncw_op_def nncw_op_def_unsqueeze = {
    "Unsqueeze", "Unsqueeze", 1, 2, 1, unsqueeze_infer, copy_forward, copy_backward,
};
const struct nncw_op_def nncw_op_def_expand = {
    "Expand", "Expand", 2, 2, 1, expand_infer, rep_forward, rep_backward,
};
const struct nncw_op_def nncw_op_def_tile = {
    "Tile", "Tile", 2, 2, 1, tile_infer, rep_forward, rep_backward,
};
const struct nncw_op_def nncw_op_def_shape = {
    "Shape", "Shape", 1, 1, 1, shape_infer, shape_forward, shape_backward,
};
const struct nncw_op_def nncw_op_def_size = {
    "Size", "Size", 1, 1, 1, size_infer, size_forward, shape_backward,
};
