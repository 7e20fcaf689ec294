/*
** Ops that move data without arithmetic: Concat, Reshape, Flatten, Transpose, Pad, Identity
** (ONNX opset 13; Pad opset 11+ with pads and constant_value as inputs).
**
** Concat, Reshape, Flatten, Transpose and Identity work on any dtype (shape computations in
** imported models use i64); Pad works on f32. Backward exists for f32 data only: an integer
** value never needs a gradient. Reshape's shape and Pad's pads are read at shape-inference
** time, so they must be constants or parameters (i64, or i32).
*/
#include <stdio.h>
#include <string.h>

#include "ops/ops_internal.h"

/* ---- small helpers ---- */

static int64_t int_at(const struct nncw_tensor *t, int64_t i)
{
    return t->dtype == NNCW_DTYPE_I64 ? ((const int64_t *)t->data)[i]
                                      : ((const int32_t *)t->data)[i];
}

static bool is_int_index(const struct nncw_tensor *t)
{
    return t->dtype == NNCW_DTYPE_I64 || t->dtype == NNCW_DTYPE_I32;
}

/* gx += gy over n elements: the backward of every pure copy */
static void add_f32(int64_t n, const float *gy, float *gx)
{
    for (int64_t i = 0; i < n; i++)
        gx[i] += gy[i];
}

static enum nncw_status copy_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[],
                                      struct nncw_tensor *const grad_out[],
                                      struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)node;
    (void)n_in;
    (void)in;
    if (grad_out[0] && grad_in[0])
        add_f32(nncw_tensor_numel(out[0]), nncw_tensor_f32(grad_out[0]),
                nncw_tensor_f32(grad_in[0]));
    return NNCW_OK;
}

static enum nncw_status copy_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[])
{
    (void)ctx;
    (void)node;
    (void)n_in;
    size_t nbytes = nncw_tensor_nbytes(out[0]);
    if (nbytes && out[0]->data != in[0]->data)
        memcpy(out[0]->data, in[0]->data, nbytes);
    return NNCW_OK;
}

/* Advances idx over dimensions [0, ndim - 1) (the last dimension is a row) and returns how much
 * an offset with the given strides moves. */
static int64_t next_row(int ndim, const int64_t *shape, const int64_t *strides, int64_t *idx)
{
    int64_t delta = 0;
    for (int d = ndim - 2; d >= 0; d--) {
        delta += strides[d];
        if (++idx[d] < shape[d])
            return delta;
        delta -= strides[d] * shape[d];
        idx[d] = 0;
    }
    return delta;
}

/* The attributes still give the output shape the executor planned for. Someone could change
 * them after shape inference, and walking stale shapes would read out of bounds. */
static enum nncw_status check_planned(nncw_op_infer_fn infer, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      const struct nncw_tensor *y)
{
    struct nncw_tensor t[1];
    NNCW_TRY(infer(node, (const struct nncw_tensor *const *)in, n_in, t));
    if (!nncw_tensor_same_shape(&t[0], y))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "node '%s': attributes changed after shape inference (rebuild the "
                         "executor)",
                         nncw_node_get_name(node));
    return NNCW_OK;
}

/* ---- Identity ---- */

static enum nncw_status identity_infer(const struct nncw_node *node,
                                       const struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor out[])
{
    (void)node;
    (void)n_in;
    nncw_tensor_init_borrowed(&out[0], in[0]->dtype, in[0]->ndim, in[0]->shape, NULL);
    return NNCW_OK;
}

/* ---- Concat ---- */

static enum nncw_status concat_infer(const struct nncw_node *node,
                                     const struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    char s0[96], si[96];
    for (int i = 0; i < n_in; i++)
        if (!in[i])
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "concat '%s': input %d is missing", name, i);
    const struct nncw_tensor *ref = in[0];
    int r = ref->ndim;
    if (!nncw_node_has_attr(node, "axis"))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "concat '%s': attribute axis is required", name);
    int64_t axis = nncw_node_get_attr_int(node, "axis", 0);
    if (axis < -r || axis >= r)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "concat '%s': axis %lld is out of range for input %s",
                         name, (long long)axis, nncw_tensor_shape_str(ref, s0, sizeof s0));
    if (axis < 0)
        axis += r;
    int64_t shape[NNCW_MAX_DIMS];
    memcpy(shape, ref->shape, (size_t)r * sizeof *shape);
    shape[axis] = 0;
    for (int i = 0; i < n_in; i++) {
        const struct nncw_tensor *t = in[i];
        if (t->dtype != ref->dtype)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "concat '%s': input %d is %s, input 0 is %s", name, i,
                             nncw_dtype_name(t->dtype), nncw_dtype_name(ref->dtype));
        bool ok = t->ndim == r;
        for (int d = 0; ok && d < r; d++)
            ok = d == axis || t->shape[d] == ref->shape[d];
        if (!ok)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "concat '%s': input %d %s does not match input 0 %s outside axis "
                             "%lld",
                             name, i, nncw_tensor_shape_str(t, si, sizeof si),
                             nncw_tensor_shape_str(ref, s0, sizeof s0), (long long)axis);
        shape[axis] += t->shape[axis];
    }
    nncw_tensor_init_borrowed(&out[0], ref->dtype, r, shape, NULL);
    return NNCW_OK;
}

/* the output as [outer, y.shape[axis], inner]; returns the axis */
static int concat_dims(const struct nncw_node *node, const struct nncw_tensor *y, int64_t *outer,
                       int64_t *inner)
{
    int64_t axis = nncw_node_get_attr_int(node, "axis", 0);
    if (axis < 0)
        axis += y->ndim;
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= y->shape[d];
    for (int d = (int)axis + 1; d < y->ndim; d++)
        *inner *= y->shape[d];
    return (int)axis;
}

static enum nncw_status concat_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[])
{
    (void)ctx;
    const struct nncw_tensor *y = out[0];
    NNCW_TRY(check_planned(concat_infer, node, in, n_in, y));
    int64_t outer, inner;
    int axis = concat_dims(node, y, &outer, &inner);
    size_t es = nncw_dtype_size(y->dtype);
    size_t out_row = (size_t)(y->shape[axis] * inner) * es, off = 0;
    for (int i = 0; i < n_in; i++) {
        size_t row = (size_t)(in[i]->shape[axis] * inner) * es;
        const char *src = in[i]->data;
        char *dst = (char *)y->data + off;
        for (int64_t o = 0; o < outer && row; o++)
            memcpy(dst + (size_t)o * out_row, src + (size_t)o * row, row);
        off += row;
    }
    return NNCW_OK;
}

static enum nncw_status concat_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                        struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor *const out[],
                                        struct nncw_tensor *const grad_out[],
                                        struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    if (!grad_out[0])
        return NNCW_OK;
    const struct nncw_tensor *y = out[0];
    NNCW_TRY(check_planned(concat_infer, node, in, n_in, y));
    int64_t outer, inner;
    int axis = concat_dims(node, y, &outer, &inner);
    int64_t out_row = y->shape[axis] * inner, off = 0;
    const float *gy = nncw_tensor_f32(grad_out[0]);
    for (int i = 0; i < n_in; i++) {
        int64_t row = in[i]->shape[axis] * inner;
        if (grad_in[i])
            for (int64_t o = 0; o < outer; o++)
                add_f32(row, gy + o * out_row + off, nncw_tensor_f32(grad_in[i]) + o * row);
        off += row;
    }
    return NNCW_OK;
}

/* ---- Reshape and Flatten ---- */

/* the target shape from the shape input: 0 copies the input's dimension (unless allowzero),
 * -1 is inferred from the element count */
static enum nncw_status reshape_target(const struct nncw_node *node, const struct nncw_tensor *x,
                                       const struct nncw_tensor *sh, int64_t *shape, int *ndim)
{
    const char *name = nncw_node_get_name(node);
    char sx[96], ss[96];
    int n = (int)sh->shape[0];
    bool allowzero = nncw_node_get_attr_int(node, "allowzero", 0) != 0;
    int infer_at = -1;
    bool any_zero = false;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        int64_t v = int_at(sh, i);
        if (v == -1) {
            if (infer_at >= 0)
                return NNCW_FAIL(NNCW_ERR_SHAPE, "reshape '%s': more than one -1 in the shape",
                                 name);
            infer_at = i;
        } else if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return NNCW_FAIL(NNCW_ERR_SHAPE,
                                 "reshape '%s': shape entry %d is 0 but input %s has no "
                                 "dimension %d to copy",
                                 name, i, nncw_tensor_shape_str(x, sx, sizeof sx), i);
            v = x->shape[i];
        } else if (v < -1) {
            return NNCW_FAIL(NNCW_ERR_SHAPE, "reshape '%s': shape entry %d is %lld", name, i,
                             (long long)v);
        }
        any_zero |= v == 0;
        if (v > 0 && known > INT64_MAX / 16 / v)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "reshape '%s': shape is too large", name);
        if (v >= 0)
            known *= v;
        shape[i] = v;
    }
    int64_t total = nncw_tensor_numel(x);
    if (infer_at >= 0) {
        if (any_zero || total % known != 0)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "reshape '%s': cannot infer the -1 in %s for input %s",
                             name, nncw_tensor_shape_str(sh, ss, sizeof ss),
                             nncw_tensor_shape_str(x, sx, sizeof sx));
        shape[infer_at] = total / known;
    } else if (known != total) {
        struct nncw_tensor t;
        nncw_tensor_init_borrowed(&t, x->dtype, n, shape, NULL);
        return NNCW_FAIL(NNCW_ERR_SHAPE, "reshape '%s': cannot reshape %s into %s", name,
                         nncw_tensor_shape_str(x, sx, sizeof sx),
                         nncw_tensor_shape_str(&t, ss, sizeof ss));
    }
    *ndim = n;
    return NNCW_OK;
}

static enum nncw_status reshape_infer(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor out[])
{
    (void)n_in;
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *x = in[0], *sh = in[1];
    char ss[96];
    if (!is_int_index(sh))
        return NNCW_FAIL(NNCW_ERR_DTYPE, "reshape '%s': shape input is %s, expected int64", name,
                         nncw_dtype_name(sh->dtype));
    if (sh->ndim != 1 || sh->shape[0] > NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "reshape '%s': shape input is %s, expected 1-D with at "
                         "most %d entries",
                         name, nncw_tensor_shape_str(sh, ss, sizeof ss), NNCW_MAX_DIMS);
    if (!sh->data)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "reshape '%s': the shape input must be a constant or parameter", name);
    int64_t shape[NNCW_MAX_DIMS];
    int ndim = 0;
    NNCW_TRY(reshape_target(node, x, sh, shape, &ndim));
    nncw_tensor_init_borrowed(&out[0], x->dtype, ndim, shape, NULL);
    return NNCW_OK;
}

static enum nncw_status flatten_infer(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0];
    int64_t axis = nncw_node_get_attr_int(node, "axis", 1);
    if (axis < -x->ndim || axis > x->ndim) {
        char sx[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE, "flatten '%s': axis %lld is out of range for input %s",
                         nncw_node_get_name(node), (long long)axis,
                         nncw_tensor_shape_str(x, sx, sizeof sx));
    }
    if (axis < 0)
        axis += x->ndim;
    int64_t shape[2] = {1, 1};
    for (int d = 0; d < x->ndim; d++)
        shape[d < axis ? 0 : 1] *= x->shape[d];
    nncw_tensor_init_borrowed(&out[0], x->dtype, 2, shape, NULL);
    return NNCW_OK;
}

/* ---- Transpose ---- */

/* perm into p (the reverse by default), checked to be a permutation of 0..ndim-1 */
static enum nncw_status transpose_perm(const struct nncw_node *node, int ndim, int *p)
{
    const int64_t *perm;
    int count = nncw_node_get_attr_ints(node, "perm", &perm);
    if (count < 0) {
        for (int d = 0; d < ndim; d++)
            p[d] = ndim - 1 - d;
        return NNCW_OK;
    }
    bool seen[NNCW_MAX_DIMS] = {false};
    bool ok = count == ndim;
    for (int d = 0; ok && d < ndim; d++) {
        ok = perm[d] >= 0 && perm[d] < ndim && !seen[perm[d]];
        if (ok) {
            seen[perm[d]] = true;
            p[d] = (int)perm[d];
        }
    }
    if (!ok)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "transpose '%s': perm of %d entries is not a permutation of the %d "
                         "input dimensions",
                         nncw_node_get_name(node), count, ndim);
    return NNCW_OK;
}

static enum nncw_status transpose_infer(const struct nncw_node *node,
                                        const struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0];
    int p[NNCW_MAX_DIMS];
    NNCW_TRY(transpose_perm(node, x->ndim, p));
    int64_t shape[NNCW_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        shape[d] = x->shape[p[d]];
    nncw_tensor_init_borrowed(&out[0], x->dtype, x->ndim, shape, NULL);
    return NNCW_OK;
}

/* x's strides in the output's dimension order */
static void transpose_strides(const struct nncw_node *node, const struct nncw_tensor *x, int64_t *s)
{
    int p[NNCW_MAX_DIMS];
    if (transpose_perm(node, x->ndim, p) != NNCW_OK) /* checked by check_planned */
        return;
    for (int d = 0; d < x->ndim; d++)
        s[d] = x->strides[p[d]];
}

static void gather_row(size_t es, int64_t n, const char *src, int64_t stride, char *dst)
{
    if (es == 4) {
        const uint32_t *s = (const uint32_t *)src;
        uint32_t *d = (uint32_t *)dst;
        for (int64_t i = 0; i < n; i++)
            d[i] = s[i * stride];
    } else {
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * es, src + (size_t)(i * stride) * es, es);
    }
}

static enum nncw_status transpose_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                          struct nncw_tensor *const in[], int n_in,
                                          struct nncw_tensor *const out[])
{
    (void)ctx;
    const struct nncw_tensor *x = in[0], *y = out[0];
    NNCW_TRY(check_planned(transpose_infer, node, in, n_in, y));
    int64_t total = nncw_tensor_numel(y);
    size_t es = nncw_dtype_size(y->dtype);
    if (total == 0)
        return NNCW_OK;
    if (y->ndim == 0) {
        memcpy(y->data, x->data, es);
        return NNCW_OK;
    }
    int64_t s[NNCW_MAX_DIMS], idx[NNCW_MAX_DIMS] = {0};
    transpose_strides(node, x, s);
    int64_t n = y->shape[y->ndim - 1], off = 0;
    for (int64_t o = 0; o < total; o += n) {
        gather_row(es, n, (const char *)x->data + (size_t)off * es, s[y->ndim - 1],
                   (char *)y->data + (size_t)o * es);
        off += next_row(y->ndim, y->shape, s, idx);
    }
    return NNCW_OK;
}

static enum nncw_status transpose_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                           struct nncw_tensor *const in[], int n_in,
                                           struct nncw_tensor *const out[],
                                           struct nncw_tensor *const grad_out[],
                                           struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    const struct nncw_tensor *y = out[0];
    NNCW_TRY(check_planned(transpose_infer, node, in, n_in, y));
    int64_t total = nncw_tensor_numel(y);
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    if (total == 0)
        return NNCW_OK;
    if (y->ndim == 0) {
        gx[0] += gy[0];
        return NNCW_OK;
    }
    /* the gradient buffer is contiguous in x's shape, walked in y's order */
    int64_t s[NNCW_MAX_DIMS], idx[NNCW_MAX_DIMS] = {0};
    transpose_strides(node, grad_in[0], s);
    int64_t n = y->shape[y->ndim - 1], off = 0, st = s[y->ndim - 1];
    for (int64_t o = 0; o < total; o += n) {
        for (int64_t i = 0; i < n; i++)
            gx[off + i * st] += gy[o + i];
        off += next_row(y->ndim, y->shape, s, idx);
    }
    return NNCW_OK;
}

/* ---- Pad ---- */

enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

static enum nncw_status pad_mode_of(const struct nncw_node *node, enum pad_mode *mode)
{
    const char *m = nncw_node_get_attr_string(node, "mode", "constant");
    if (strcmp(m, "constant") == 0)
        *mode = PAD_CONSTANT;
    else if (strcmp(m, "reflect") == 0)
        *mode = PAD_REFLECT;
    else if (strcmp(m, "edge") == 0)
        *mode = PAD_EDGE;
    else
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "pad '%s': mode '%s' is not supported",
                         nncw_node_get_name(node), m);
    return NNCW_OK;
}

/* the input coordinate that output coordinate o (o - begin = c) reads, -1 for the constant;
 * reflect repeats like numpy.pad for pads longer than the dimension */
static int64_t pad_source(enum pad_mode mode, int64_t c, int64_t n)
{
    if (c >= 0 && c < n)
        return c;
    if (mode == PAD_CONSTANT)
        return -1;
    if (mode == PAD_EDGE)
        return c < 0 ? 0 : n - 1;
    if (n == 1)
        return 0;
    int64_t period = 2 * (n - 1);
    c %= period;
    if (c < 0)
        c += period;
    return c < n ? c : period - c;
}

/* The pads, begins then ends (2 * ndim values): input 1 (opset 11+) or, without it, the
 * opset-2 attribute pads. */
static enum nncw_status pad_amounts(const struct nncw_node *node,
                                    const struct nncw_tensor *const in[], int n_in, int ndim,
                                    int64_t *pads)
{
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *t = n_in > 1 ? in[1] : NULL;
    char sp[96];
    if (!t) {
        const int64_t *attr;
        int count = nncw_node_get_attr_ints(node, "pads", &attr);
        if (count < 0)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "pad '%s': no pads input or attribute", name);
        if (count != 2 * ndim)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "pad '%s': %d pads for %d dimensions", name, count,
                             ndim);
        memcpy(pads, attr, (size_t)count * sizeof *pads);
        return NNCW_OK;
    }
    if (!is_int_index(t))
        return NNCW_FAIL(NNCW_ERR_DTYPE, "pad '%s': pads are %s, expected int64", name,
                         nncw_dtype_name(t->dtype));
    if (t->ndim != 1 || t->shape[0] != 2 * ndim)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "pad '%s': pads are %s, expected [%d]", name,
                         nncw_tensor_shape_str(t, sp, sizeof sp), 2 * ndim);
    if (!t->data)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "pad '%s': the pads input must be a constant or parameter", name);
    for (int i = 0; i < 2 * ndim; i++)
        pads[i] = int_at(t, i);
    return NNCW_OK;
}

/* input 2 when present (an empty tensor means 0), else the opset-2 attribute value */
static float pad_value(const struct nncw_node *node, struct nncw_tensor *const in[], int n_in)
{
    if (n_in > 2 && in[2])
        return nncw_tensor_numel(in[2]) == 1 ? nncw_tensor_f32(in[2])[0] : 0.0f;
    return nncw_node_get_attr_float(node, "value", 0.0f);
}

static enum nncw_status pad_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *x = in[0];
    char sx[96], sp[96];
    enum pad_mode mode;
    NNCW_TRY(pad_mode_of(node, &mode));
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "pad '%s': data is %s, only float32 is supported", name,
                         nncw_dtype_name(x->dtype));
    int64_t pads[2 * NNCW_MAX_DIMS];
    enum nncw_status s = pad_amounts(node, in, n_in, x->ndim, pads);
    if (s != NNCW_OK) { /* add the input's shape to the message */
        char msg[256];
        snprintf(msg, sizeof msg, "%s", nncw_last_error());
        return NNCW_FAIL(s, "%s for input %s", msg, nncw_tensor_shape_str(x, sx, sizeof sx));
    }
    if (n_in > 2 && in[2] && (in[2]->dtype != NNCW_DTYPE_F32 || nncw_tensor_numel(in[2]) > 1))
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "pad '%s': constant_value is %s %s, expected a float32 "
                         "scalar",
                         name, nncw_dtype_name(in[2]->dtype),
                         nncw_tensor_shape_str(in[2], sp, sizeof sp));
    int64_t shape[NNCW_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        int64_t b = pads[d], e = pads[d + x->ndim];
        shape[d] = x->shape[d] + b + e;
        if (shape[d] < 0 || (mode != PAD_CONSTANT && x->shape[d] == 0 && shape[d] > 0))
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "pad '%s': pads %lld, %lld cannot apply to dimension %d of input %s",
                             name, (long long)b, (long long)e, d,
                             nncw_tensor_shape_str(x, sx, sizeof sx));
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, shape, NULL);
    return NNCW_OK;
}

/* Per output dimension, the input coordinate each output coordinate reads (-1: the constant),
 * concatenated into *map (scratch memory); start[d] is where dimension d's entries begin.
 * Coordinates are always inside x, whatever the pads, so stale pads cannot read out of bounds. */
static enum nncw_status pad_maps(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                 struct nncw_tensor *const in[], int n_in,
                                 const struct nncw_tensor *y, int64_t *start, const int64_t **map)
{
    const struct nncw_tensor *x = in[0];
    enum pad_mode mode;
    int64_t pads[2 * NNCW_MAX_DIMS];
    NNCW_TRY(pad_mode_of(node, &mode));
    NNCW_TRY(pad_amounts(node, (const struct nncw_tensor *const *)in, n_in, x->ndim, pads));
    int64_t total = 0;
    for (int d = 0; d < y->ndim; d++) {
        start[d] = total;
        total += y->shape[d];
    }
    int64_t *m = nncw_op_ctx_scratch(ctx, (size_t)(total ? total : 1) * sizeof *m);
    if (!m)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "pad '%s': out of memory", nncw_node_get_name(node));
    for (int d = 0; d < y->ndim; d++)
        for (int64_t o = 0; o < y->shape[d]; o++)
            m[start[d] + o] = pad_source(mode, o - pads[d], x->shape[d]);
    *map = m;
    return NNCW_OK;
}

/* Walks the output rows; for each, the offset into x of the row's source, or -1 when the row
 * lies in the constant padding of an outer dimension. */
struct pad_walk {
    int ndim;
    const int64_t *shape, *strides, *map, *start;
    int64_t idx[NNCW_MAX_DIMS];
};

static int64_t pad_row_source(const struct pad_walk *w)
{
    int64_t off = 0;
    for (int d = 0; d < w->ndim - 1; d++) {
        int64_t c = w->map[w->start[d] + w->idx[d]];
        if (c < 0)
            return -1;
        off += c * w->strides[d];
    }
    return off;
}

static void pad_next_row(struct pad_walk *w)
{
    for (int d = w->ndim - 2; d >= 0; d--) {
        if (++w->idx[d] < w->shape[d])
            return;
        w->idx[d] = 0;
    }
}

static enum nncw_status pad_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    const struct nncw_tensor *x = in[0], *y = out[0];
    const float cv = pad_value(node, in, n_in);
    const float *xv = nncw_tensor_f32(x);
    float *yv = nncw_tensor_f32(y);
    int64_t total = nncw_tensor_numel(y);
    if (total == 0)
        return NNCW_OK;
    if (y->ndim == 0) {
        yv[0] = xv[0];
        return NNCW_OK;
    }
    int64_t start[NNCW_MAX_DIMS];
    const int64_t *map;
    NNCW_TRY(pad_maps(ctx, node, in, n_in, y, start, &map));
    struct pad_walk w = {y->ndim, y->shape, x->strides, map, start, {0}};
    int last = y->ndim - 1;
    int64_t n = y->shape[last], sl = x->strides[last];
    const int64_t *lmap = map + start[last];
    for (int64_t o = 0; o < total; o += n, pad_next_row(&w)) {
        int64_t off = pad_row_source(&w);
        float *row = yv + o;
        if (off < 0) {
            for (int64_t i = 0; i < n; i++)
                row[i] = cv;
            continue;
        }
        for (int64_t i = 0; i < n; i++)
            row[i] = lmap[i] < 0 ? cv : xv[off + lmap[i] * sl];
    }
    return NNCW_OK;
}

/* x gets the gradient of every output element that read it (several, for reflect and edge);
 * constant_value gets the sum over the constant padding */
static enum nncw_status pad_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    const struct nncw_tensor *y = out[0];
    struct nncw_tensor *gcv =
        n_in > 2 && in[2] && nncw_tensor_numel(in[2]) == 1 ? grad_in[2] : NULL;
    if (!grad_out[0] || (!grad_in[0] && !gcv))
        return NNCW_OK;
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL;
    int64_t total = nncw_tensor_numel(y);
    if (total == 0)
        return NNCW_OK;
    if (y->ndim == 0) {
        if (gx)
            gx[0] += gy[0];
        return NNCW_OK;
    }
    int64_t start[NNCW_MAX_DIMS];
    const int64_t *map;
    NNCW_TRY(pad_maps(ctx, node, in, n_in, y, start, &map));
    /* the gradient buffer is contiguous with x's shape */
    struct pad_walk w = {y->ndim, y->shape, in[0]->strides, map, start, {0}};
    int64_t gstr[NNCW_MAX_DIMS], s = 1;
    for (int d = y->ndim - 1; d >= 0; d--) {
        gstr[d] = s;
        s *= in[0]->shape[d];
    }
    w.strides = gstr;
    int last = y->ndim - 1;
    int64_t n = y->shape[last];
    const int64_t *lmap = map + start[last];
    double const_sum = 0;
    for (int64_t o = 0; o < total; o += n, pad_next_row(&w)) {
        int64_t off = pad_row_source(&w);
        const float *row = gy + o;
        for (int64_t i = 0; i < n; i++) {
            if (off < 0 || lmap[i] < 0)
                const_sum += row[i];
            else if (gx)
                gx[off + lmap[i]] += row[i];
        }
    }
    if (gcv)
        nncw_tensor_f32(gcv)[0] += (float)const_sum;
    return NNCW_OK;
}

/* ---- the table ---- */

const struct nncw_op_def nncw_op_def_concat = {
    "Concat", "Concat", 1, 16, 1, concat_infer, concat_forward, concat_backward,
};
const struct nncw_op_def nncw_op_def_reshape = {
    "Reshape", "Reshape", 2, 2, 1, reshape_infer, copy_forward, copy_backward,
};
const struct nncw_op_def nncw_op_def_flatten = {
    "Flatten", "Flatten", 1, 1, 1, flatten_infer, copy_forward, copy_backward,
};
const struct nncw_op_def nncw_op_def_transpose = {
    "Transpose", "Transpose", 1, 1, 1, transpose_infer, transpose_forward, transpose_backward,
};
const struct nncw_op_def nncw_op_def_pad = {
    "Pad", "Pad", 1, 3, 1, pad_infer, pad_forward, pad_backward,
};
const struct nncw_op_def nncw_op_def_identity = {
    "Identity", "Identity", 1, 1, 1, identity_infer, copy_forward, copy_backward,
};
