/*
** Resize (ONNX opset 11-13) on float tensors of any rank: inputs X, roi (only read by
** tf_crop_and_resize), scales, sizes (one of scales and sizes given, as constants; an empty
** tensor counts as absent).
**
** Attributes: mode nearest (default) | linear | cubic; coordinate_transformation_mode
** half_pixel (default) | pytorch_half_pixel | align_corners | asymmetric |
** tf_half_pixel_for_nearest | tf_crop_and_resize; nearest_mode round_prefer_floor (default) |
** round_prefer_ceil | floor | ceil; cubic_coeff_a (-0.75); exclude_outside (0);
** extrapolation_value (0). Older Upsample and Resize-10 are rewritten into this form at import
** (asymmetric coordinates, floor rounding).
**
** Interpolation is separable: every axis gets, for each output coordinate, up to four taps
** (input index, weight); an output element is the sum over the product of its axes' taps.
** Backward scatters the gradient through the same taps.
*/
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

#define MAX_TAPS 4

enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum rs_coord {
    RS_HALF_PIXEL,
    RS_PYTORCH_HALF_PIXEL,
    RS_ALIGN_CORNERS,
    RS_ASYMMETRIC,
    RS_TF_HALF_PIXEL_FOR_NEAREST,
    RS_TF_CROP_AND_RESIZE
};
enum rs_round { RS_ROUND_PREFER_FLOOR, RS_ROUND_PREFER_CEIL, RS_FLOOR, RS_CEIL };

struct rs_attrs {
    enum rs_mode mode;
    enum rs_coord coord;
    enum rs_round round;
    float cubic_a, extrapolation;
    bool exclude_outside;
};

static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static enum nncw_status rs_attrs_of(const struct nncw_node *node, struct rs_attrs *a)
{
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const coords[] = {
        "half_pixel", "pytorch_half_pixel",        "align_corners",
        "asymmetric", "tf_half_pixel_for_nearest", "tf_crop_and_resize"};
    static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                         "ceil"};
    const char *m = nncw_node_get_attr_string(node, "mode", "nearest");
    const char *c = nncw_node_get_attr_string(node, "coordinate_transformation_mode", "half_pixel");
    const char *r = nncw_node_get_attr_string(node, "nearest_mode", "round_prefer_floor");
    int im = pick(m, modes, 3), ic = pick(c, coords, 6), ir = pick(r, rounds, 4);
    const char *bad = im < 0 ? m : ic < 0 ? c : ir < 0 ? r : NULL;
    if (bad)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "resize '%s': '%s' is not supported",
                         nncw_node_get_name(node), bad);
    a->mode = (enum rs_mode)im;
    a->coord = (enum rs_coord)ic;
    a->round = (enum rs_round)ir;
    a->cubic_a = nncw_node_get_attr_float(node, "cubic_coeff_a", -0.75f);
    a->extrapolation = nncw_node_get_attr_float(node, "extrapolation_value", 0.0f);
    a->exclude_outside = nncw_node_get_attr_int(node, "exclude_outside", 0) != 0;
    return NNCW_OK;
}

static bool present(const struct nncw_tensor *const in[], int n_in, int i)
{
    return i < n_in && in[i] && nncw_tensor_numel(in[i]) > 0;
}

/* output shape and per-axis scales from scales or sizes */
static enum nncw_status rs_geometry(const struct nncw_node *node,
                                    const struct nncw_tensor *const in[], int n_in, int64_t *shape,
                                    double *scale)
{
    const struct nncw_tensor *x = in[0];
    const char *name = nncw_node_get_name(node);
    char sx[96];
    if (present(in, n_in, 2) == present(in, n_in, 3))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "resize '%s': give exactly one of scales and sizes",
                         name);
    if (present(in, n_in, 3)) {
        int64_t v[NNCW_MAX_DIMS];
        int n;
        NNCW_TRY(nncw_op_const_ints(node, "sizes", in[3], NNCW_MAX_DIMS, v, &n));
        if (n != x->ndim)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "resize '%s': %d sizes for input %s", name, n,
                             nncw_tensor_shape_str(x, sx, sizeof sx));
        for (int d = 0; d < n; d++) {
            if (v[d] < 0 || v[d] > (1ll << 31))
                return NNCW_FAIL(NNCW_ERR_SHAPE, "resize '%s': size %lld", name, (long long)v[d]);
            shape[d] = v[d];
            scale[d] = x->shape[d] ? (double)v[d] / (double)x->shape[d] : 1.0;
        }
        return NNCW_OK;
    }
    const struct nncw_tensor *s = in[2];
    if (s->dtype != NNCW_DTYPE_F32 || nncw_tensor_numel(s) != x->ndim || s->ndim != 1)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "resize '%s': scales must be %d float32 values", name,
                         x->ndim);
    if (!s->data)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "resize '%s': scales must be a constant", name);
    for (int d = 0; d < x->ndim; d++) {
        double f = nncw_tensor_f32(s)[d];
        double out = floor(f * (double)x->shape[d]);
        if (!(f > 0) || !(out < (double)(1ll << 31)))
            return NNCW_FAIL(NNCW_ERR_SHAPE, "resize '%s': scale %g on dimension %d", name, f, d);
        shape[d] = (int64_t)out;
        scale[d] = f;
    }
    return NNCW_OK;
}

static enum nncw_status rs_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "resize '%s': input is %s, only float32 is supported",
                         nncw_node_get_name(node), nncw_dtype_name(x->dtype));
    struct rs_attrs a;
    NNCW_TRY(rs_attrs_of(node, &a));
    int64_t shape[NNCW_MAX_DIMS];
    double scale[NNCW_MAX_DIMS];
    NNCW_TRY(rs_geometry(node, in, n_in, shape, scale));
    if (nncw_shape_numel(x->ndim, shape) < 0)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "resize '%s': the output is too large",
                         nncw_node_get_name(node));
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, shape, NULL);
    return NNCW_OK;
}

/* ---- taps ---- */

struct tap {
    int n;
    int64_t idx[MAX_TAPS];
    float w[MAX_TAPS];
};

/* the input coordinate of output coordinate o; roi_lo/hi only for tf_crop_and_resize */
static double source_coord(const struct rs_attrs *a, int64_t o, int64_t len_in, int64_t len_out,
                           double scale, double roi_lo, double roi_hi)
{
    double x = (double)o;
    switch (a->coord) {
    case RS_HALF_PIXEL:
        return (x + 0.5) / scale - 0.5;
    case RS_PYTORCH_HALF_PIXEL:
        return len_out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case RS_ALIGN_CORNERS:
        return len_out > 1 ? x * (double)(len_in - 1) / (double)(len_out - 1) : 0.0;
    case RS_ASYMMETRIC:
        return x / scale;
    case RS_TF_HALF_PIXEL_FOR_NEAREST:
        return (x + 0.5) / scale;
    default: /* tf_crop_and_resize */
        return len_out > 1
                   ? roi_lo * (double)(len_in - 1) +
                         x * (roi_hi - roi_lo) * (double)(len_in - 1) / (double)(len_out - 1)
                   : 0.5 * (roi_lo + roi_hi) * (double)(len_in - 1);
    }
}

static int64_t nearest_index(enum rs_round r, double x)
{
    switch (r) {
    case RS_ROUND_PREFER_FLOOR:
        return x == floor(x) + 0.5 ? (int64_t)floor(x) : (int64_t)llround(x);
    case RS_ROUND_PREFER_CEIL:
        return (int64_t)llround(x);
    case RS_FLOOR:
        return (int64_t)floor(x);
    default:
        return (int64_t)ceil(x);
    }
}

static double cubic_weight(double t, double a)
{
    t = fabs(t);
    if (t <= 1)
        return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2)
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
    return 0;
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* taps of one output coordinate along an axis; n = 0 means "extrapolated" */
static void make_tap(const struct rs_attrs *a, double x, int64_t len, struct tap *t)
{
    memset(t, 0, sizeof *t);
    if (a->coord == RS_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(len - 1)))
        return;
    if (a->mode == RS_NEAREST) {
        t->n = 1;
        t->idx[0] = clampi(nearest_index(a->round, x), 0, len - 1);
        t->w[0] = 1.0f;
        return;
    }
    if (a->mode == RS_LINEAR) {
        double c = x < 0 ? 0 : x > (double)(len - 1) ? (double)(len - 1) : x;
        int64_t i0 = (int64_t)floor(c);
        double f = c - (double)i0;
        t->n = 2;
        t->idx[0] = i0;
        t->idx[1] = clampi(i0 + 1, 0, len - 1);
        t->w[0] = (float)(1 - f);
        t->w[1] = (float)f;
        t->n = f == 0 ? 1 : 2;
        return;
    }
    int64_t i0 = (int64_t)floor(x);
    double f = x - (double)i0, sum = 0;
    t->n = 4;
    for (int k = 0; k < 4; k++) {
        int64_t i = i0 - 1 + k;
        double w = cubic_weight(f - (k - 1), a->cubic_a);
        if (a->exclude_outside && (i < 0 || i >= len))
            w = 0;
        t->idx[k] = clampi(i, 0, len - 1);
        t->w[k] = (float)w;
        sum += w;
    }
    if (a->exclude_outside && sum != 0)
        for (int k = 0; k < 4; k++)
            t->w[k] = (float)(t->w[k] / sum);
    /* drop zero weights: an axis that is not resized then costs nothing */
    int m = 0;
    for (int k = 0; k < t->n; k++)
        if (t->w[k] != 0.0f) {
            t->idx[m] = t->idx[k];
            t->w[m++] = t->w[k];
        }
    if (m > 0)
        t->n = m;
}

/* the taps of every axis, in scratch memory: taps[start[d] + o] */
static enum nncw_status build_taps(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   const struct nncw_tensor *y, const struct rs_attrs *a,
                                   int64_t *start, struct tap **taps)
{
    const struct nncw_tensor *x = in[0];
    int64_t shape[NNCW_MAX_DIMS];
    double scale[NNCW_MAX_DIMS];
    NNCW_TRY(rs_geometry(node, (const struct nncw_tensor *const *)in, n_in, shape, scale));
    int64_t total = 0;
    for (int d = 0; d < y->ndim; d++) {
        start[d] = total;
        total += y->shape[d];
    }
    struct tap *t = nncw_op_ctx_scratch(ctx, (size_t)(total ? total : 1) * sizeof *t);
    if (!t)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "resize '%s': out of memory", nncw_node_get_name(node));
    const struct nncw_tensor *roi = n_in > 1 && in[1] && in[1]->dtype == NNCW_DTYPE_F32 &&
                                            nncw_tensor_numel(in[1]) == 2 * x->ndim
                                        ? in[1]
                                        : NULL;
    for (int d = 0; d < y->ndim; d++) {
        double lo = roi ? nncw_tensor_f32(roi)[d] : 0,
               hi = roi ? nncw_tensor_f32(roi)[d + x->ndim] : 1;
        for (int64_t o = 0; o < y->shape[d]; o++) {
            double c = source_coord(a, o, x->shape[d], y->shape[d], scale[d], lo, hi);
            make_tap(a, c, x->shape[d], &t[start[d] + o]);
        }
    }
    *taps = t;
    return NNCW_OK;
}

/* Calls visit(input offset, weight) for every tap combination of output element idx; returns
 * false if some axis extrapolates. The combination walk is an odometer over the axes. */
struct combo {
    int nd;
    const struct tap *t[NNCW_MAX_DIMS];
    const int64_t *strides;
};

static bool combo_init(struct combo *c, const struct tap *taps, const int64_t *start,
                       const int64_t *idx, int nd, const int64_t *strides)
{
    c->nd = nd;
    c->strides = strides;
    for (int d = 0; d < nd; d++) {
        c->t[d] = &taps[start[d] + idx[d]];
        if (c->t[d]->n == 0)
            return false;
    }
    return true;
}

static enum nncw_status rs_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    const struct nncw_tensor *x = in[0];
    struct nncw_tensor *y = out[0];
    struct rs_attrs a;
    NNCW_TRY(rs_attrs_of(node, &a));
    if (nncw_tensor_numel(y) == 0) /* no taps to build, however long the other axes */
        return NNCW_OK;
    int64_t start[NNCW_MAX_DIMS], idx[NNCW_MAX_DIMS] = {0};
    struct tap *taps;
    NNCW_TRY(build_taps(ctx, node, in, n_in, y, &a, start, &taps));
    const float *xv = nncw_tensor_f32(x);
    float *yv = nncw_tensor_f32(y);
    int64_t n = nncw_tensor_numel(y);
    int nd = y->ndim;
    for (int64_t i = 0; i < n; i++) {
        struct combo c;
        if (!combo_init(&c, taps, start, idx, nd, x->strides)) {
            yv[i] = a.extrapolation;
        } else {
            int k[NNCW_MAX_DIMS] = {0};
            double acc = 0;
            for (;;) {
                int64_t off = 0;
                double w = 1;
                for (int d = 0; d < nd; d++) {
                    off += c.t[d]->idx[k[d]] * c.strides[d];
                    w *= c.t[d]->w[k[d]];
                }
                acc += w * xv[off];
                int d = nd - 1;
                while (d >= 0 && ++k[d] == c.t[d]->n)
                    k[d--] = 0;
                if (d < 0)
                    break;
            }
            yv[i] = (float)acc;
        }
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < y->shape[d])
                break;
            idx[d] = 0;
        }
    }
    return NNCW_OK;
}

static enum nncw_status rs_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    const struct nncw_tensor *y = out[0];
    struct rs_attrs a;
    NNCW_TRY(rs_attrs_of(node, &a));
    if (nncw_tensor_numel(y) == 0)
        return NNCW_OK;
    int64_t start[NNCW_MAX_DIMS], idx[NNCW_MAX_DIMS] = {0};
    struct tap *taps;
    NNCW_TRY(build_taps(ctx, node, in, n_in, y, &a, start, &taps));
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    int64_t n = nncw_tensor_numel(y);
    int nd = y->ndim;
    for (int64_t i = 0; i < n; i++) {
        struct combo c;
        if (combo_init(&c, taps, start, idx, nd, grad_in[0]->strides)) {
            int k[NNCW_MAX_DIMS] = {0};
            for (;;) {
                int64_t off = 0;
                float w = 1;
                for (int d = 0; d < nd; d++) {
                    off += c.t[d]->idx[k[d]] * c.strides[d];
                    w *= c.t[d]->w[k[d]];
                }
                gx[off] += w * gy[i];
                int d = nd - 1;
                while (d >= 0 && ++k[d] == c.t[d]->n)
                    k[d--] = 0;
                if (d < 0)
                    break;
            }
        }
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < y->shape[d])
                break;
            idx[d] = 0;
        }
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_resize = {
    "Resize", "Resize", 1, 4, 1, rs_infer, rs_forward, rs_backward,
};
