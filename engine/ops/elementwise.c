/*
** Add, Sub and Mul with ONNX (numpy) multidirectional broadcasting.
**
** Every kernel walks the output through three strided operands. Dimensions of size 1 are
** dropped and neighbours that are contiguous for all three operands are merged first, so the
** common cases collapse to one tight loop: same shapes become one flat loop, a [1, C, 1, 1]
** bias on [N, C, H, W] becomes N * C rows of H * W with a scalar operand, and [N, C] + [C]
** becomes N rows of C. Backward sums over broadcast dimensions the same way (an operand with
** stride 0 in the inner loop is a reduction).
*/
#include "ops/elementwise.h"

#include <string.h>

#include "core/common.h"
#include "ops/ops_internal.h"

enum binop { BINOP_ADD, BINOP_SUB, BINOP_MUL };

static inline float binop_apply(enum binop op, float a, float b)
{
    switch (op) {
    case BINOP_ADD:
        return a + b;
    case BINOP_SUB:
        return a - b;
    default:
        return a * b;
    }
}

/* ---- iteration over a broadcast output ---- */

/* operand 0 is written (y, or the accumulated gradient), 1 and 2 are read; p2 may be NULL */
typedef void (*row_fn)(int64_t n, float *p0, int64_t s0, const float *p1, int64_t s1,
                       const float *p2, int64_t s2, float c);

struct bcast_iter {
    int ndim;
    int64_t shape[NNCW_MAX_DIMS];
    int64_t s[3][NNCW_MAX_DIMS];
};

static bool can_merge(const struct bcast_iter *it, int prev, int64_t size, const int64_t *s)
{
    for (int j = 0; j < 3; j++)
        if (it->s[j][prev] != s[j] * size)
            return false;
    return true;
}

static void iter_init(struct bcast_iter *it, int ndim, const int64_t *shape,
                      const int64_t *const strides[3])
{
    it->ndim = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 1)
            continue;
        int64_t s[3] = {strides[0][d], strides[1][d], strides[2][d]};
        int k = it->ndim;
        if (k > 0 && can_merge(it, k - 1, shape[d], s)) {
            it->shape[k - 1] *= shape[d];
            for (int j = 0; j < 3; j++)
                it->s[j][k - 1] = s[j];
            continue;
        }
        it->shape[k] = shape[d];
        for (int j = 0; j < 3; j++)
            it->s[j][k] = s[j];
        it->ndim++;
    }
    if (it->ndim == 0) { /* a scalar output */
        it->ndim = 1;
        it->shape[0] = 1;
        it->s[0][0] = it->s[1][0] = it->s[2][0] = 0;
    }
}

static void iter_run(const struct bcast_iter *it, row_fn row, float *p0, const float *p1,
                     const float *p2, float c)
{
    int last = it->ndim - 1;
    int64_t n = it->shape[last], outer = 1;
    for (int d = 0; d < last; d++)
        outer *= it->shape[d];
    if (n == 0 || outer == 0)
        return;
    int64_t idx[NNCW_MAX_DIMS] = {0}, off[3] = {0, 0, 0};
    for (int64_t o = 0; o < outer; o++) {
        row(n, p0 + off[0], it->s[0][last], p1 + off[1], it->s[1][last], p2 ? p2 + off[2] : NULL,
            it->s[2][last], c);
        for (int d = last - 1; d >= 0; d--) {
            for (int j = 0; j < 3; j++)
                off[j] += it->s[j][d];
            if (++idx[d] < it->shape[d])
                break;
            for (int j = 0; j < 3; j++)
                off[j] -= it->s[j][d] * it->shape[d];
            idx[d] = 0;
        }
    }
}

static void contiguous_strides(int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= shape[d];
    }
}

/* ---- forward rows: y is contiguous (stride 1); the common stride patterns get own loops ---- */

static inline void row_binop(enum binop op, int64_t n, float *y, const float *a, int64_t sa,
                             const float *b, int64_t sb)
{
    if (sa == 1 && sb == 1) {
        for (int64_t i = 0; i < n; i++)
            y[i] = binop_apply(op, a[i], b[i]);
    } else if (sa == 1 && sb == 0) {
        const float bv = b[0];
        for (int64_t i = 0; i < n; i++)
            y[i] = binop_apply(op, a[i], bv);
    } else if (sa == 0 && sb == 1) {
        const float av = a[0];
        for (int64_t i = 0; i < n; i++)
            y[i] = binop_apply(op, av, b[i]);
    } else {
        for (int64_t i = 0; i < n; i++)
            y[i] = binop_apply(op, a[i * sa], b[i * sb]);
    }
}

static void row_add(int64_t n, float *y, int64_t sy, const float *a, int64_t sa, const float *b,
                    int64_t sb, float c)
{
    (void)sy;
    (void)c;
    row_binop(BINOP_ADD, n, y, a, sa, b, sb);
}

static void row_sub(int64_t n, float *y, int64_t sy, const float *a, int64_t sa, const float *b,
                    int64_t sb, float c)
{
    (void)sy;
    (void)c;
    row_binop(BINOP_SUB, n, y, a, sa, b, sb);
}

static void row_mul(int64_t n, float *y, int64_t sy, const float *a, int64_t sa, const float *b,
                    int64_t sb, float c)
{
    (void)sy;
    (void)c;
    row_binop(BINOP_MUL, n, y, a, sa, b, sb);
}

static void binop_fast(row_fn row, int ndim, const int64_t *shape, const float *a,
                       const int64_t *sa, const float *b, const int64_t *sb, float *y)
{
    int64_t sy[NNCW_MAX_DIMS];
    contiguous_strides(ndim, shape, sy);
    struct bcast_iter it;
    iter_init(&it, ndim, shape, (const int64_t *const[3]){sy, sa, sb});
    iter_run(&it, row, y, a, b, 0.0f);
}

void nncw_kernel_add_f32(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                         const float *b, const int64_t *sb, float *y)
{
    binop_fast(row_add, ndim, shape, a, sa, b, sb, y);
}

void nncw_kernel_sub_f32(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                         const float *b, const int64_t *sb, float *y)
{
    binop_fast(row_sub, ndim, shape, a, sa, b, sb, y);
}

void nncw_kernel_mul_f32(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                         const float *b, const int64_t *sb, float *y)
{
    binop_fast(row_mul, ndim, shape, a, sa, b, sb, y);
}

/* ---- reference kernels: one output index at a time ---- */

static void binop_ref(enum binop op, int ndim, const int64_t *shape, const float *a,
                      const int64_t *sa, const float *b, const int64_t *sb, float *y)
{
    int64_t n = nncw_shape_numel(ndim, shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t rest = i, oa = 0, ob = 0;
        for (int d = ndim - 1; d >= 0; d--) {
            int64_t k = rest % shape[d];
            rest /= shape[d];
            oa += k * sa[d];
            ob += k * sb[d];
        }
        y[i] = binop_apply(op, a[oa], b[ob]);
    }
}

void nncw_kernel_add_f32_ref(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                             const float *b, const int64_t *sb, float *y)
{
    binop_ref(BINOP_ADD, ndim, shape, a, sa, b, sb, y);
}

void nncw_kernel_sub_f32_ref(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                             const float *b, const int64_t *sb, float *y)
{
    binop_ref(BINOP_SUB, ndim, shape, a, sa, b, sb, y);
}

void nncw_kernel_mul_f32_ref(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                             const float *b, const int64_t *sb, float *y)
{
    binop_ref(BINOP_MUL, ndim, shape, a, sa, b, sb, y);
}

void nncw_kernel_broadcast_backward_f32_ref(int ndim, const int64_t *shape, const float *gy,
                                            float *ga, const int64_t *sga, const float *w,
                                            const int64_t *sw, float sign)
{
    int64_t n = nncw_shape_numel(ndim, shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t rest = i, oa = 0, ow = 0;
        for (int d = ndim - 1; d >= 0; d--) {
            int64_t k = rest % shape[d];
            rest /= shape[d];
            oa += k * sga[d];
            ow += w ? k * sw[d] : 0;
        }
        ga[oa] += sign * gy[i] * (w ? w[ow] : 1.0f);
    }
}

/* ---- backward rows: gy has stride 1; ga stride 0 means a sum ---- */

/* sum of n floats in eight independent lanes (vectorisable without -ffast-math) */
static double sum_f32(int64_t n, const float *x)
{
    float lane[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            lane[k] += x[i + k];
    double acc = 0;
    for (int k = 0; k < 8; k++)
        acc += lane[k];
    for (; i < n; i++)
        acc += x[i];
    return acc;
}

static void row_grad(int64_t n, float *ga, int64_t sga, const float *gy, int64_t sgy,
                     const float *w, int64_t sw, float sign)
{
    (void)sgy; /* always 1 */
    if (!w) {
        if (sga == 0) {
            ga[0] += (float)(sign * sum_f32(n, gy));
        } else if (sga == 1) {
            for (int64_t i = 0; i < n; i++)
                ga[i] += sign * gy[i];
        } else {
            for (int64_t i = 0; i < n; i++)
                ga[i * sga] += sign * gy[i];
        }
    } else if (sga == 0) {
        double acc = 0;
        if (sw == 0)
            acc = sum_f32(n, gy) * w[0];
        else
            for (int64_t i = 0; i < n; i++)
                acc += (double)gy[i] * w[i * sw];
        ga[0] += (float)(sign * acc);
    } else if (sga == 1 && sw == 1) {
        for (int64_t i = 0; i < n; i++)
            ga[i] += sign * gy[i] * w[i];
    } else if (sga == 1 && sw == 0) {
        const float wv = sign * w[0];
        for (int64_t i = 0; i < n; i++)
            ga[i] += gy[i] * wv;
    } else {
        for (int64_t i = 0; i < n; i++)
            ga[i * sga] += sign * gy[i] * w[i * sw];
    }
}

void nncw_kernel_broadcast_backward_f32(int ndim, const int64_t *shape, const float *gy, float *ga,
                                        const int64_t *sga, const float *w, const int64_t *sw,
                                        float sign)
{
    int64_t sgy[NNCW_MAX_DIMS], zero[NNCW_MAX_DIMS] = {0};
    contiguous_strides(ndim, shape, sgy);
    struct bcast_iter it;
    iter_init(&it, ndim, shape, (const int64_t *const[3]){sga, sgy, w ? sw : zero});
    iter_run(&it, row_grad, ga, gy, w, sign);
}

/* ---- the ops ---- */

static const char *op_label(const struct nncw_node *node)
{
    switch (nncw_node_get_op(node)) {
    case NNCW_OP_ADD:
        return "add";
    case NNCW_OP_SUB:
        return "sub";
    default:
        return "mul";
    }
}

static enum nncw_status binary_infer(const struct nncw_node *node,
                                     const struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *a = in[0], *b = in[1];
    const char *name = nncw_node_get_name(node);
    if (a->dtype != NNCW_DTYPE_F32 || b->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': inputs are %s and %s, only float32 is supported",
                         op_label(node), name, nncw_dtype_name(a->dtype),
                         nncw_dtype_name(b->dtype));
    int nd = nncw_imax(a->ndim, b->ndim);
    int64_t shape[NNCW_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t x = da >= 0 ? a->shape[da] : 1, y = db >= 0 ? b->shape[db] : 1;
        if (x != y && x != 1 && y != 1) {
            char sa[96], sb[96];
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': shapes %s and %s do not broadcast",
                             op_label(node), name, nncw_tensor_shape_str(a, sa, sizeof sa),
                             nncw_tensor_shape_str(b, sb, sizeof sb));
        }
        shape[d] = x == 1 ? y : x;
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, nd, shape, NULL);
    return NNCW_OK;
}

/* t's element strides seen from an output of ndim dimensions: 0 where t is broadcast */
static void broadcast_strides(const struct nncw_tensor *t, const struct nncw_tensor *y, int64_t *s)
{
    for (int d = 0; d < y->ndim; d++) {
        int dt = d - (y->ndim - t->ndim);
        s[d] = dt < 0 || (t->shape[dt] == 1 && y->shape[d] != 1) ? 0 : t->strides[dt];
    }
}

static enum nncw_status binary_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[])
{
    (void)ctx;
    (void)n_in;
    struct nncw_tensor *y = out[0];
    int64_t sa[NNCW_MAX_DIMS], sb[NNCW_MAX_DIMS];
    broadcast_strides(in[0], y, sa);
    broadcast_strides(in[1], y, sb);
    const float *a = nncw_tensor_f32(in[0]), *b = nncw_tensor_f32(in[1]);
    switch (nncw_node_get_op(node)) {
    case NNCW_OP_ADD:
        nncw_kernel_add_f32(y->ndim, y->shape, a, sa, b, sb, nncw_tensor_f32(y));
        break;
    case NNCW_OP_SUB:
        nncw_kernel_sub_f32(y->ndim, y->shape, a, sa, b, sb, nncw_tensor_f32(y));
        break;
    default:
        nncw_kernel_mul_f32(y->ndim, y->shape, a, sa, b, sb, nncw_tensor_f32(y));
        break;
    }
    return NNCW_OK;
}

static enum nncw_status binary_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                        struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor *const out[],
                                        struct nncw_tensor *const grad_out[],
                                        struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)n_in;
    const struct nncw_tensor *y = out[0];
    if (!grad_out[0])
        return NNCW_OK;
    enum nncw_op op = nncw_node_get_op(node);
    const float *gy = nncw_tensor_f32(grad_out[0]);
    int64_t s[2][NNCW_MAX_DIMS];
    broadcast_strides(in[0], y, s[0]);
    broadcast_strides(in[1], y, s[1]);
    for (int i = 0; i < 2; i++) {
        if (!grad_in[i])
            continue;
        /* the gradient buffer is contiguous with the input's shape: its own strides, with the
         * input's broadcast zeros */
        int64_t sg[NNCW_MAX_DIMS];
        broadcast_strides(grad_in[i], y, sg);
        const float *w = op == NNCW_OP_MUL ? nncw_tensor_f32(in[1 - i]) : NULL;
        float sign = op == NNCW_OP_SUB && i == 1 ? -1.0f : 1.0f;
        nncw_kernel_broadcast_backward_f32(y->ndim, y->shape, gy, nncw_tensor_f32(grad_in[i]), sg,
                                           w, s[1 - i], sign);
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_add = {
    "Add", "Add", 2, 2, 1, binary_infer, binary_forward, binary_backward,
};
const struct nncw_op_def nncw_op_def_sub = {
    "Sub", "Sub", 2, 2, 1, binary_infer, binary_forward, binary_backward,
};
const struct nncw_op_def nncw_op_def_mul = {
    "Mul", "Mul", 2, 2, 1, binary_infer, binary_forward, binary_backward,
};
