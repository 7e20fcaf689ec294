/*
** Broadcasting element-wise ops beyond Add, Sub and Mul (elementwise.c), with ONNX (numpy)
** multidirectional broadcasting:
**   arithmetic   Div, Pow, Mod (attribute fmod), and the variadic Max, Min, Sum, Mean;
**   comparisons  Equal, Less, Greater, LessOrEqual, GreaterOrEqual (-> bool);
**   logic        And, Or, Xor (bool);
**   selection    Where(condition, x, y) and PRelu(x, slope) (slope broadcast to x).
**
** Arithmetic and comparisons work on float32, int32 and int64 (and uint8/int8 for the
** comparisons), with every operand of one dtype (Pow's exponent may be any number type).
** Integer division truncates, as ONNX runtimes do, and division by zero is an error naming the
** node rather than a crash. Max and Min propagate NaN. Backward exists for the float ops with a
** gradient: Div, Pow, Max, Min (to the first input equal to the output), Sum, Mean, Where (to x
** and y) and PRelu.
**
** One walker serves all: it visits output elements in order with per-operand strides that are
** 0 on broadcast dimensions; float32 arithmetic has its own tight loops per op.
*/
#include <math.h>
#include <string.h>

#include "core/common.h"
#include "ops/ops_internal.h"

/* ---- broadcasting ---- */

bool nncw_op_broadcast_shape(int n, const struct nncw_tensor *const t[], int *ndim, int64_t *shape)
{
    int nd = 0;
    for (int k = 0; k < n; k++)
        nd = nncw_imax(nd, t[k]->ndim);
    for (int d = 0; d < nd; d++) {
        int64_t v = 1;
        for (int k = 0; k < n; k++) {
            int dk = d - (nd - t[k]->ndim);
            int64_t x = dk >= 0 ? t[k]->shape[dk] : 1;
            if (x == v || x == 1)
                continue;
            if (v != 1)
                return false;
            v = x;
        }
        shape[d] = v;
    }
    *ndim = nd;
    return true;
}

void nncw_op_broadcast_strides(const struct nncw_tensor *t, int ndim, const int64_t *shape,
                               int64_t *s)
{
    for (int d = 0; d < ndim; d++) {
        int dt = d - (ndim - t->ndim);
        s[d] = dt < 0 || (t->shape[dt] == 1 && shape[d] != 1) ? 0 : t->strides[dt];
    }
}

/* visits the output in order; off[k] is the element offset of operand k */
struct walk {
    int nd, n_ops;
    int64_t shape[NNCW_MAX_DIMS], idx[NNCW_MAX_DIMS];
    int64_t s[6][NNCW_MAX_DIMS];
    int64_t off[6];
};

static void walk_init(struct walk *w, int nd, const int64_t *shape, int n_ops,
                      const struct nncw_tensor *const ops[])
{
    memset(w, 0, sizeof *w);
    w->nd = nd;
    w->n_ops = n_ops;
    memcpy(w->shape, shape, (size_t)nd * sizeof *shape);
    for (int k = 0; k < n_ops; k++)
        nncw_op_broadcast_strides(ops[k], nd, shape, w->s[k]);
}

static void walk_next(struct walk *w)
{
    for (int d = w->nd - 1; d >= 0; d--) {
        for (int k = 0; k < w->n_ops; k++)
            w->off[k] += w->s[k][d];
        if (++w->idx[d] < w->shape[d])
            return;
        for (int k = 0; k < w->n_ops; k++)
            w->off[k] -= w->s[k][d] * w->shape[d];
        w->idx[d] = 0;
    }
}

/* ---- typed loads and stores ---- */

static double load_f(const struct nncw_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NNCW_DTYPE_F32:
        return ((const float *)t->data)[i];
    case NNCW_DTYPE_I32:
        return ((const int32_t *)t->data)[i];
    case NNCW_DTYPE_I64:
        return (double)((const int64_t *)t->data)[i];
    case NNCW_DTYPE_I8:
        return ((const int8_t *)t->data)[i];
    default:
        return ((const uint8_t *)t->data)[i];
    }
}

static int64_t load_i(const struct nncw_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NNCW_DTYPE_I32:
        return ((const int32_t *)t->data)[i];
    case NNCW_DTYPE_I64:
        return ((const int64_t *)t->data)[i];
    case NNCW_DTYPE_I8:
        return ((const int8_t *)t->data)[i];
    default:
        return ((const uint8_t *)t->data)[i];
    }
}

static void store_i(struct nncw_tensor *t, int64_t i, int64_t v)
{
    switch (t->dtype) {
    case NNCW_DTYPE_I32:
        ((int32_t *)t->data)[i] = (int32_t)v;
        break;
    case NNCW_DTYPE_I64:
        ((int64_t *)t->data)[i] = v;
        break;
    default:
        ((uint8_t *)t->data)[i] = (uint8_t)v;
        break;
    }
}

/* ---- the op families ---- */

enum bin_family { FAM_ARITH, FAM_VARIADIC, FAM_COMPARE, FAM_LOGIC, FAM_WHERE, FAM_PRELU };

static enum bin_family family_of(enum nncw_op op)
{
    switch (op) {
    case NNCW_OP_MAX:
    case NNCW_OP_MIN:
    case NNCW_OP_SUM:
    case NNCW_OP_MEAN:
        return FAM_VARIADIC;
    case NNCW_OP_EQUAL:
    case NNCW_OP_LESS:
    case NNCW_OP_GREATER:
    case NNCW_OP_LESSOREQUAL:
    case NNCW_OP_GREATEROREQUAL:
        return FAM_COMPARE;
    case NNCW_OP_AND:
    case NNCW_OP_OR:
    case NNCW_OP_XOR:
        return FAM_LOGIC;
    case NNCW_OP_WHERE:
        return FAM_WHERE;
    case NNCW_OP_PRELU:
        return FAM_PRELU;
    default:
        return FAM_ARITH;
    }
}

static const char *label_of(const struct nncw_node *node)
{
    return nncw_op_name(nncw_node_get_op(node));
}

static bool is_number(enum nncw_dtype dt)
{
    return dt == NNCW_DTYPE_F32 || dt == NNCW_DTYPE_I32 || dt == NNCW_DTYPE_I64;
}

static enum nncw_status check_dtypes(const struct nncw_node *node,
                                     const struct nncw_tensor *const in[], int n_in,
                                     enum nncw_dtype *out_dt)
{
    enum nncw_op op = nncw_node_get_op(node);
    enum bin_family fam = family_of(op);
    const char *name = nncw_node_get_name(node), *label = label_of(node);
    int first = fam == FAM_WHERE ? 1 : 0;
    enum nncw_dtype dt = in[first]->dtype;
    for (int i = first; i < n_in; i++) {
        bool same = in[i]->dtype == dt || (op == NNCW_OP_POW && i == 1 && is_number(in[i]->dtype));
        if (!same)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input %d is %s, input %d is %s", label, name,
                             i, nncw_dtype_name(in[i]->dtype), first, nncw_dtype_name(dt));
    }
    bool ok;
    switch (fam) {
    case FAM_LOGIC:
        ok = dt == NNCW_DTYPE_BOOL;
        break;
    case FAM_COMPARE:
        ok = dt != NNCW_DTYPE_BOOL || op == NNCW_OP_EQUAL;
        break;
    case FAM_WHERE:
        ok = in[0]->dtype == NNCW_DTYPE_BOOL;
        break;
    case FAM_PRELU:
        ok = dt == NNCW_DTYPE_F32;
        break;
    default:
        ok = is_number(dt) && (op != NNCW_OP_POW || dt == NNCW_DTYPE_F32);
        break;
    }
    if (!ok)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': inputs of type %s are not supported", label,
                         name, nncw_dtype_name(fam == FAM_WHERE ? in[0]->dtype : dt));
    *out_dt = fam == FAM_COMPARE || fam == FAM_LOGIC ? NNCW_DTYPE_BOOL : dt;
    return NNCW_OK;
}

static enum nncw_status bin_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node), *label = label_of(node);
    for (int i = 0; i < n_in; i++)
        if (!in[i])
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': input %d is missing", label, name, i);
    enum nncw_dtype dt = NNCW_DTYPE_F32;
    NNCW_TRY(check_dtypes(node, in, n_in, &dt));
    if (nncw_node_get_op(node) == NNCW_OP_MOD && dt == NNCW_DTYPE_F32 &&
        nncw_node_get_attr_int(node, "fmod", 0) == 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "mod '%s': float inputs need fmod 1", name);
    int nd;
    int64_t shape[NNCW_MAX_DIMS];
    bool ok = nncw_op_broadcast_shape(n_in, in, &nd, shape);
    if (ok && family_of(nncw_node_get_op(node)) == FAM_PRELU) /* slope broadcasts to x only */
        ok = nncw_tensor_numel(in[0]) == nncw_shape_numel(nd, shape) && nd == in[0]->ndim;
    if (!ok) {
        char s0[96], s1[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': shapes %s and %s do not broadcast", label, name,
                         nncw_tensor_shape_str(in[0], s0, sizeof s0),
                         nncw_tensor_shape_str(in[n_in > 1 ? 1 : 0], s1, sizeof s1));
    }
    nncw_tensor_init_borrowed(&out[0], dt, nd, shape, NULL);
    return NNCW_OK;
}

/* ---- float32 arithmetic, the hot path ---- */

static inline float fmax_nan(float a, float b)
{
    return a > b || isnan(a) ? a : b;
}

static inline float fmin_nan(float a, float b)
{
    return a < b || isnan(a) ? a : b;
}

static float arith_f32(enum nncw_op op, float a, float b, bool fmod_)
{
    switch (op) {
    case NNCW_OP_DIV:
        return a / b;
    case NNCW_OP_POW:
        return powf(a, b);
    case NNCW_OP_MOD:
        (void)fmod_;
        return fmodf(a, b);
    case NNCW_OP_MAX:
        return fmax_nan(a, b);
    case NNCW_OP_MIN:
        return fmin_nan(a, b);
    default: /* Sum, Mean */
        return a + b;
    }
}

/* integer arithmetic; false on a division by zero */
static bool arith_int(enum nncw_op op, int64_t a, int64_t b, bool fmod_, int64_t *r)
{
    switch (op) {
    case NNCW_OP_DIV:
        if (b == 0)
            return false;
        *r = b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b;
        return true;
    case NNCW_OP_MOD:
        if (b == 0)
            return false;
        if (b == -1) {
            *r = 0;
            return true;
        }
        *r = a % b;
        if (!fmod_ && *r != 0 && ((*r < 0) != (b < 0))) /* the divisor's sign, as Python */
            *r += b;
        return true;
    case NNCW_OP_MAX:
        *r = a > b ? a : b;
        return true;
    case NNCW_OP_MIN:
        *r = a < b ? a : b;
        return true;
    default:
        *r = (int64_t)((uint64_t)a + (uint64_t)b);
        return true;
    }
}

/* y = op(a, b) over the broadcast walk; a or b may alias y (the variadic accumulation) */
static enum nncw_status arith_pair(const struct nncw_node *node, enum nncw_op op,
                                   const struct nncw_tensor *a, const struct nncw_tensor *b,
                                   struct nncw_tensor *y)
{
    const struct nncw_tensor *ops[3] = {y, a, b};
    struct walk w;
    walk_init(&w, y->ndim, y->shape, 3, ops);
    int64_t n = nncw_tensor_numel(y);
    bool fmod_ = nncw_node_get_attr_int(node, "fmod", 0) != 0;
    if (y->dtype == NNCW_DTYPE_F32) {
        float *py = nncw_tensor_f32(y);
        const float *pa = nncw_tensor_f32(a);
        if (b->dtype == NNCW_DTYPE_F32) {
            const float *pb = nncw_tensor_f32(b);
            for (int64_t i = 0; i < n; i++, walk_next(&w))
                py[i] = arith_f32(op, pa[w.off[1]], pb[w.off[2]], fmod_);
        } else { /* Pow with an integer exponent */
            for (int64_t i = 0; i < n; i++, walk_next(&w))
                py[i] = powf(pa[w.off[1]], (float)load_f(b, w.off[2]));
        }
        return NNCW_OK;
    }
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        int64_t r;
        if (!arith_int(op, load_i(a, w.off[1]), load_i(b, w.off[2]), fmod_, &r))
            return NNCW_FAIL(NNCW_ERR_NUMERIC, "%s '%s': integer division by zero", label_of(node),
                             nncw_node_get_name(node));
        store_i(y, i, r);
    }
    return NNCW_OK;
}

static enum nncw_status variadic_forward(const struct nncw_node *node,
                                         struct nncw_tensor *const in[], int n_in,
                                         struct nncw_tensor *y)
{
    enum nncw_op op = nncw_node_get_op(node);
    enum nncw_op step = op == NNCW_OP_MEAN ? NNCW_OP_SUM : op;
    if (n_in == 1) { /* a copy, broadcast to itself */
        memcpy(y->data, in[0]->data, nncw_tensor_nbytes(y));
    } else {
        NNCW_TRY(arith_pair(node, step, in[0], in[1], y));
        for (int k = 2; k < n_in; k++)
            NNCW_TRY(arith_pair(node, step, y, in[k], y));
    }
    if (op == NNCW_OP_MEAN) {
        int64_t n = nncw_tensor_numel(y);
        if (y->dtype == NNCW_DTYPE_F32) {
            for (int64_t i = 0; i < n; i++)
                nncw_tensor_f32(y)[i] /= (float)n_in;
        } else {
            for (int64_t i = 0; i < n; i++)
                store_i(y, i, load_i(y, i) / n_in);
        }
    }
    return NNCW_OK;
}

static bool compare(enum nncw_op op, double a, double b)
{
    switch (op) {
    case NNCW_OP_EQUAL:
        return a == b;
    case NNCW_OP_LESS:
        return a < b;
    case NNCW_OP_GREATER:
        return a > b;
    case NNCW_OP_LESSOREQUAL:
        return a <= b;
    default:
        return a >= b;
    }
}

static bool compare_int(enum nncw_op op, int64_t a, int64_t b)
{
    switch (op) {
    case NNCW_OP_EQUAL:
        return a == b;
    case NNCW_OP_LESS:
        return a < b;
    case NNCW_OP_GREATER:
        return a > b;
    case NNCW_OP_LESSOREQUAL:
        return a <= b;
    default:
        return a >= b;
    }
}

static enum nncw_status bin_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)ctx;
    enum nncw_op op = nncw_node_get_op(node);
    struct nncw_tensor *y = out[0];
    int64_t n = nncw_tensor_numel(y);
    struct walk w;
    switch (family_of(op)) {
    case FAM_ARITH:
        return arith_pair(node, op, in[0], in[1], y);
    case FAM_VARIADIC:
        return variadic_forward(node, in, n_in, y);
    case FAM_COMPARE: {
        const struct nncw_tensor *ops[2] = {in[0], in[1]};
        walk_init(&w, y->ndim, y->shape, 2, ops);
        uint8_t *py = y->data;
        bool flt = in[0]->dtype == NNCW_DTYPE_F32;
        for (int64_t i = 0; i < n; i++, walk_next(&w))
            py[i] = flt ? compare(op, load_f(in[0], w.off[0]), load_f(in[1], w.off[1]))
                        : compare_int(op, load_i(in[0], w.off[0]), load_i(in[1], w.off[1]));
        return NNCW_OK;
    }
    case FAM_LOGIC: {
        const struct nncw_tensor *ops[2] = {in[0], in[1]};
        walk_init(&w, y->ndim, y->shape, 2, ops);
        const uint8_t *a = in[0]->data, *b = in[1]->data;
        uint8_t *py = y->data;
        for (int64_t i = 0; i < n; i++, walk_next(&w)) {
            bool x = a[w.off[0]] != 0, z = b[w.off[1]] != 0;
            py[i] = op == NNCW_OP_AND ? x && z : op == NNCW_OP_OR ? x || z : x != z;
        }
        return NNCW_OK;
    }
    case FAM_WHERE: {
        const struct nncw_tensor *ops[3] = {in[0], in[1], in[2]};
        walk_init(&w, y->ndim, y->shape, 3, ops);
        size_t es = nncw_dtype_size(y->dtype);
        const uint8_t *c = in[0]->data;
        const char *x = in[1]->data, *z = in[2]->data;
        for (int64_t i = 0; i < n; i++, walk_next(&w)) {
            const char *src = c[w.off[0]] ? x + (size_t)w.off[1] * es : z + (size_t)w.off[2] * es;
            memcpy((char *)y->data + (size_t)i * es, src, es);
        }
        return NNCW_OK;
    }
    default: { /* PRelu */
        const struct nncw_tensor *ops[2] = {in[0], in[1]};
        walk_init(&w, y->ndim, y->shape, 2, ops);
        const float *x = nncw_tensor_f32(in[0]), *s = nncw_tensor_f32(in[1]);
        float *py = nncw_tensor_f32(y);
        for (int64_t i = 0; i < n; i++, walk_next(&w)) {
            float v = x[w.off[0]];
            py[i] = v < 0.0f ? v * s[w.off[1]] : v;
        }
        return NNCW_OK;
    }
    }
}

/* ---- backward (float32) ---- */

/* the walk over y with operands: the inputs' data, then their gradient buffers (contiguous in
 * the inputs' shapes, hence their own strides) */
static void grad_walk(struct walk *w, const struct nncw_tensor *y, int n,
                      struct nncw_tensor *const in[], struct nncw_tensor *const grad_in[])
{
    const struct nncw_tensor *ops[6];
    int k = 0;
    for (int i = 0; i < n; i++)
        ops[k++] = in[i];
    for (int i = 0; i < n; i++)
        ops[k++] = grad_in[i] ? grad_in[i] : in[i];
    walk_init(w, y->ndim, y->shape, 2 * n, ops);
}

static enum nncw_status pair_backward(const struct nncw_node *node, struct nncw_tensor *const in[],
                                      const struct nncw_tensor *y, const float *gy,
                                      struct nncw_tensor *const grad_in[])
{
    enum nncw_op op = nncw_node_get_op(node);
    struct walk w;
    grad_walk(&w, y, 2, in, grad_in);
    const float *a = nncw_tensor_f32(in[0]), *b = nncw_tensor_f32(in[1]);
    const float *py = nncw_tensor_f32(y);
    float *ga = grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL;
    float *gb = grad_in[1] ? nncw_tensor_f32(grad_in[1]) : NULL;
    int64_t n = nncw_tensor_numel(y);
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        float x = a[w.off[0]], z = b[w.off[1]], g = gy[i];
        float da, db;
        switch (op) {
        case NNCW_OP_DIV:
            da = g / z;
            db = -g * py[i] / z;
            break;
        case NNCW_OP_POW:
            da = g * z * powf(x, z - 1.0f);
            db = x > 0.0f ? g * py[i] * logf(x) : 0.0f;
            break;
        default: /* PRelu */
            da = x < 0.0f ? g * z : g;
            db = x < 0.0f ? g * x : 0.0f;
            break;
        }
        if (ga)
            ga[w.off[2]] += da;
        if (gb)
            gb[w.off[3]] += db;
    }
    return NNCW_OK;
}

static enum nncw_status variadic_backward(const struct nncw_node *node,
                                          struct nncw_tensor *const in[], int n_in,
                                          const struct nncw_tensor *y, const float *gy,
                                          struct nncw_tensor *const grad_in[])
{
    enum nncw_op op = nncw_node_get_op(node);
    const float *py = nncw_tensor_f32(y);
    int64_t n = nncw_tensor_numel(y);
    /* Max and Min: the first input equal to the output takes the gradient */
    for (int k = 0; k < n_in; k++) {
        if (!grad_in[k])
            continue;
        const struct nncw_tensor *ops[2] = {in[k], grad_in[k]};
        struct walk w;
        walk_init(&w, y->ndim, y->shape, 2, ops);
        const float *x = nncw_tensor_f32(in[k]);
        float *g = nncw_tensor_f32(grad_in[k]);
        for (int64_t i = 0; i < n; i++, walk_next(&w)) {
            float d = gy[i];
            if (op == NNCW_OP_MEAN) {
                d /= (float)n_in;
            } else if (op == NNCW_OP_MAX || op == NNCW_OP_MIN) {
                if (x[w.off[0]] != py[i])
                    continue;
                /* an earlier input with the same value wins */
                bool earlier = false;
                for (int j = 0; j < k && !earlier; j++) {
                    int64_t off = 0;
                    int64_t s[NNCW_MAX_DIMS];
                    nncw_op_broadcast_strides(in[j], y->ndim, y->shape, s);
                    for (int d2 = 0; d2 < y->ndim; d2++)
                        off += w.idx[d2] * s[d2];
                    earlier = nncw_tensor_f32(in[j])[off] == py[i];
                }
                if (earlier)
                    continue;
            }
            g[w.off[1]] += d;
        }
    }
    return NNCW_OK;
}

static enum nncw_status bin_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    const struct nncw_tensor *y = out[0];
    if (!grad_out[0] || y->dtype != NNCW_DTYPE_F32)
        return NNCW_OK;
    const float *gy = nncw_tensor_f32(grad_out[0]);
    enum nncw_op op = nncw_node_get_op(node);
    switch (family_of(op)) {
    case FAM_VARIADIC:
        return variadic_backward(node, in, n_in, y, gy, grad_in);
    case FAM_WHERE: {
        struct walk w;
        grad_walk(&w, y, 3, in, grad_in);
        const uint8_t *c = in[0]->data;
        float *gx = grad_in[1] ? nncw_tensor_f32(grad_in[1]) : NULL;
        float *gz = grad_in[2] ? nncw_tensor_f32(grad_in[2]) : NULL;
        int64_t n = nncw_tensor_numel(y);
        for (int64_t i = 0; i < n; i++, walk_next(&w)) {
            if (c[w.off[0]] && gx)
                gx[w.off[4]] += gy[i];
            else if (!c[w.off[0]] && gz)
                gz[w.off[5]] += gy[i];
        }
        return NNCW_OK;
    }
    default:
        if (op == NNCW_OP_POW && in[1]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                             "pow '%s': no gradient with an integer "
                             "exponent",
                             nncw_node_get_name(node));
        return pair_backward(node, in, y, gy, grad_in);
    }
}

/* comparisons and logic produce bools: nothing flows back */
static enum nncw_status bin_no_grad(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)in, (void)n_in, (void)out, (void)grad_out, (void)grad_in;
    return NNCW_OK;
}

#define BINARY(var, name, lo, hi, bwd)                                                             \
    const struct nncw_op_def var = {name, name, lo, hi, 1, bin_infer, bin_forward, bwd}

BINARY(nncw_op_def_div, "Div", 2, 2, bin_backward);
BINARY(nncw_op_def_pow, "Pow", 2, 2, bin_backward);
BINARY(nncw_op_def_mod, "Mod", 2, 2, NULL);
BINARY(nncw_op_def_max, "Max", 1, 16, bin_backward);
BINARY(nncw_op_def_min, "Min", 1, 16, bin_backward);
BINARY(nncw_op_def_sum, "Sum", 1, 16, bin_backward);
BINARY(nncw_op_def_mean, "Mean", 1, 16, bin_backward);
BINARY(nncw_op_def_equal, "Equal", 2, 2, bin_no_grad);
BINARY(nncw_op_def_less, "Less", 2, 2, bin_no_grad);
BINARY(nncw_op_def_greater, "Greater", 2, 2, bin_no_grad);
BINARY(nncw_op_def_lessorequal, "LessOrEqual", 2, 2, bin_no_grad);
BINARY(nncw_op_def_greaterorequal, "GreaterOrEqual", 2, 2, bin_no_grad);
BINARY(nncw_op_def_and, "And", 2, 2, bin_no_grad);
BINARY(nncw_op_def_or, "Or", 2, 2, bin_no_grad);
BINARY(nncw_op_def_xor, "Xor", 2, 2, bin_no_grad);
BINARY(nncw_op_def_where, "Where", 3, 3, bin_backward);
BINARY(nncw_op_def_prelu, "PRelu", 2, 2, bin_backward);
