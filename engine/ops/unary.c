/*
** Element-wise functions of one float tensor beyond the classic activations (activation.c):
** Neg, Abs, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Round, Sign, the trigonometric and
** hyperbolic functions and their inverses, Erf, Softplus, Softsign, Selu, Celu,
** ThresholdedRelu and Shrink; plus the predicates IsNaN and IsInf (float -> bool) and Not
** (bool -> bool). Neg, Abs and Sign also work on int64 and int32.
**
** Each op is a row in one table: a scalar function, its derivative (from x and y = f(x)), the
** label used in messages. The piecewise-constant ones (Floor, Ceil, Round, Sign) and the
** predicates pass no gradient (their backward does nothing). Attributes follow ONNX: Selu alpha
*(1.6733) and gamma (1.0507),
** Celu alpha (1), ThresholdedRelu alpha (1), Shrink bias (0) and lambd (0.5), IsInf
** detect_negative and detect_positive (1). Round rounds half to even, as ONNX says.
*/
#include <math.h>

#include "ops/ops_internal.h"

struct un_params {
    float alpha, gamma, lambd, bias;
};

typedef float (*un_fn)(float x, const struct un_params *p);
typedef float (*un_deriv_fn)(float x, float y, const struct un_params *p);

/* ---- scalar functions and derivatives ---- */

static float f_neg(float x, const struct un_params *p)
{
    (void)p;
    return -x;
}
static float d_neg(float x, float y, const struct un_params *p)
{
    (void)x, (void)y, (void)p;
    return -1.0f;
}
static float f_abs(float x, const struct un_params *p)
{
    (void)p;
    return fabsf(x);
}
static float d_abs(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
}
static float f_exp(float x, const struct un_params *p)
{
    (void)p;
    return expf(x);
}
static float d_exp(float x, float y, const struct un_params *p)
{
    (void)x, (void)p;
    return y;
}
static float f_log(float x, const struct un_params *p)
{
    (void)p;
    return logf(x);
}
static float d_log(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return 1.0f / x;
}
static float f_sqrt(float x, const struct un_params *p)
{
    (void)p;
    return sqrtf(x);
}
static float d_sqrt(float x, float y, const struct un_params *p)
{
    (void)x, (void)p;
    return 0.5f / y;
}
static float f_reciprocal(float x, const struct un_params *p)
{
    (void)p;
    return 1.0f / x;
}
static float d_reciprocal(float x, float y, const struct un_params *p)
{
    (void)x, (void)p;
    return -y * y;
}
static float f_floor(float x, const struct un_params *p)
{
    (void)p;
    return floorf(x);
}
static float f_ceil(float x, const struct un_params *p)
{
    (void)p;
    return ceilf(x);
}
static float f_round(float x, const struct un_params *p)
{
    (void)p;
    return rintf(x); /* the default rounding mode: half to even */
}
static float f_sign(float x, const struct un_params *p)
{
    (void)p;
    return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x; /* 0 and NaN pass through */
}
static float f_sin(float x, const struct un_params *p)
{
    (void)p;
    return sinf(x);
}
static float d_sin(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return cosf(x);
}
static float f_cos(float x, const struct un_params *p)
{
    (void)p;
    return cosf(x);
}
static float d_cos(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return -sinf(x);
}
static float f_tan(float x, const struct un_params *p)
{
    (void)p;
    return tanf(x);
}
static float d_tan(float x, float y, const struct un_params *p)
{
    (void)x, (void)p;
    return 1.0f + y * y;
}
static float f_asin(float x, const struct un_params *p)
{
    (void)p;
    return asinf(x);
}
static float d_asin(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return 1.0f / sqrtf(1.0f - x * x);
}
static float f_acos(float x, const struct un_params *p)
{
    (void)p;
    return acosf(x);
}
static float d_acos(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return -1.0f / sqrtf(1.0f - x * x);
}
static float f_atan(float x, const struct un_params *p)
{
    (void)p;
    return atanf(x);
}
static float d_atan(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return 1.0f / (1.0f + x * x);
}
static float f_sinh(float x, const struct un_params *p)
{
    (void)p;
    return sinhf(x);
}
static float d_sinh(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return coshf(x);
}
static float f_cosh(float x, const struct un_params *p)
{
    (void)p;
    return coshf(x);
}
static float d_cosh(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return sinhf(x);
}
static float f_asinh(float x, const struct un_params *p)
{
    (void)p;
    return asinhf(x);
}
static float d_asinh(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return 1.0f / sqrtf(x * x + 1.0f);
}
static float f_acosh(float x, const struct un_params *p)
{
    (void)p;
    return acoshf(x);
}
static float d_acosh(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return 1.0f / sqrtf(x * x - 1.0f);
}
static float f_atanh(float x, const struct un_params *p)
{
    (void)p;
    return atanhf(x);
}
static float d_atanh(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return 1.0f / (1.0f - x * x);
}
static float f_erf(float x, const struct un_params *p)
{
    (void)p;
    return erff(x);
}
static float d_erf(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return 1.1283791670955126f * expf(-x * x); /* 2 / sqrt(pi) */
}
static float f_softplus(float x, const struct un_params *p)
{
    (void)p;
    /* log(1 + e^x) without overflow */
    return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}
static float d_softplus(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
}
static float f_softsign(float x, const struct un_params *p)
{
    (void)p;
    return x / (1.0f + fabsf(x));
}
static float d_softsign(float x, float y, const struct un_params *p)
{
    (void)y, (void)p;
    float d = 1.0f + fabsf(x);
    return 1.0f / (d * d);
}
static float f_selu(float x, const struct un_params *p)
{
    return x > 0.0f ? p->gamma * x : p->gamma * p->alpha * expm1f(x);
}
static float d_selu(float x, float y, const struct un_params *p)
{
    (void)y;
    return x > 0.0f ? p->gamma : p->gamma * p->alpha * expf(x);
}
static float f_celu(float x, const struct un_params *p)
{
    return x > 0.0f ? x : p->alpha * expm1f(x / p->alpha);
}
static float d_celu(float x, float y, const struct un_params *p)
{
    (void)y;
    return x > 0.0f ? 1.0f : expf(x / p->alpha);
}
static float f_thresholdedrelu(float x, const struct un_params *p)
{
    return x > p->alpha ? x : 0.0f;
}
static float d_thresholdedrelu(float x, float y, const struct un_params *p)
{
    (void)y;
    return x > p->alpha ? 1.0f : 0.0f;
}
static float f_shrink(float x, const struct un_params *p)
{
    return x < -p->lambd ? x + p->bias : x > p->lambd ? x - p->bias : 0.0f;
}
static float d_shrink(float x, float y, const struct un_params *p)
{
    (void)y;
    return x < -p->lambd || x > p->lambd ? 1.0f : 0.0f;
}

/* ---- the table ---- */

enum un_kind { UN_FLOAT, UN_PREDICATE, UN_NOT };

struct un_op {
    enum nncw_op op;
    const char *label;
    un_fn f;
    un_deriv_fn d;
    enum un_kind kind;
};

static const struct un_op un_ops[] = {
    {NNCW_OP_NEG, "neg", f_neg, d_neg, UN_FLOAT},
    {NNCW_OP_ABS, "abs", f_abs, d_abs, UN_FLOAT},
    {NNCW_OP_EXP, "exp", f_exp, d_exp, UN_FLOAT},
    {NNCW_OP_LOG, "log", f_log, d_log, UN_FLOAT},
    {NNCW_OP_SQRT, "sqrt", f_sqrt, d_sqrt, UN_FLOAT},
    {NNCW_OP_RECIPROCAL, "reciprocal", f_reciprocal, d_reciprocal, UN_FLOAT},
    {NNCW_OP_FLOOR, "floor", f_floor, NULL, UN_FLOAT},
    {NNCW_OP_CEIL, "ceil", f_ceil, NULL, UN_FLOAT},
    {NNCW_OP_ROUND, "round", f_round, NULL, UN_FLOAT},
    {NNCW_OP_SIGN, "sign", f_sign, NULL, UN_FLOAT},
    {NNCW_OP_SIN, "sin", f_sin, d_sin, UN_FLOAT},
    {NNCW_OP_COS, "cos", f_cos, d_cos, UN_FLOAT},
    {NNCW_OP_TAN, "tan", f_tan, d_tan, UN_FLOAT},
    {NNCW_OP_ASIN, "asin", f_asin, d_asin, UN_FLOAT},
    {NNCW_OP_ACOS, "acos", f_acos, d_acos, UN_FLOAT},
    {NNCW_OP_ATAN, "atan", f_atan, d_atan, UN_FLOAT},
    {NNCW_OP_SINH, "sinh", f_sinh, d_sinh, UN_FLOAT},
    {NNCW_OP_COSH, "cosh", f_cosh, d_cosh, UN_FLOAT},
    {NNCW_OP_ASINH, "asinh", f_asinh, d_asinh, UN_FLOAT},
    {NNCW_OP_ACOSH, "acosh", f_acosh, d_acosh, UN_FLOAT},
    {NNCW_OP_ATANH, "atanh", f_atanh, d_atanh, UN_FLOAT},
    {NNCW_OP_ERF, "erf", f_erf, d_erf, UN_FLOAT},
    {NNCW_OP_SOFTPLUS, "softplus", f_softplus, d_softplus, UN_FLOAT},
    {NNCW_OP_SOFTSIGN, "softsign", f_softsign, d_softsign, UN_FLOAT},
    {NNCW_OP_SELU, "selu", f_selu, d_selu, UN_FLOAT},
    {NNCW_OP_CELU, "celu", f_celu, d_celu, UN_FLOAT},
    {NNCW_OP_THRESHOLDEDRELU, "thresholdedrelu", f_thresholdedrelu, d_thresholdedrelu, UN_FLOAT},
    {NNCW_OP_SHRINK, "shrink", f_shrink, d_shrink, UN_FLOAT},
    {NNCW_OP_ISNAN, "isnan", NULL, NULL, UN_PREDICATE},
    {NNCW_OP_ISINF, "isinf", NULL, NULL, UN_PREDICATE},
    {NNCW_OP_NOT, "not", NULL, NULL, UN_NOT},
};

static const struct un_op *un_op_of(const struct nncw_node *node)
{
    enum nncw_op op = nncw_node_get_op(node);
    for (size_t i = 0; i < sizeof un_ops / sizeof un_ops[0]; i++)
        if (un_ops[i].op == op)
            return &un_ops[i];
    return &un_ops[0]; /* not reached: only the ops below use these functions */
}

static void un_params_read(const struct nncw_node *node, struct un_params *p)
{
    enum nncw_op op = nncw_node_get_op(node);
    p->alpha = nncw_node_get_attr_float(node, "alpha",
                                        op == NNCW_OP_SELU ? 1.67326319217681884765625f : 1.0f);
    p->gamma = nncw_node_get_attr_float(node, "gamma", 1.05070102214813232421875f);
    p->lambd = nncw_node_get_attr_float(node, "lambd", 0.5f);
    p->bias = nncw_node_get_attr_float(node, "bias", 0.0f);
}

/* Neg, Abs and Sign also take integers (shape arithmetic in exported graphs) */
static bool takes_ints(enum nncw_op op, enum nncw_dtype dt)
{
    return (op == NNCW_OP_NEG || op == NNCW_OP_ABS || op == NNCW_OP_SIGN) &&
           (dt == NNCW_DTYPE_I64 || dt == NNCW_DTYPE_I32);
}

static int64_t int_fn(enum nncw_op op, int64_t v)
{
    /* unsigned negation: INT64_MIN stays itself instead of overflowing */
    int64_t neg = (int64_t)(0 - (uint64_t)v);
    if (op == NNCW_OP_NEG)
        return neg;
    if (op == NNCW_OP_ABS)
        return v < 0 ? neg : v;
    return v > 0 ? 1 : v < 0 ? -1 : 0;
}

static void int_forward(enum nncw_op op, const struct nncw_tensor *x, struct nncw_tensor *y)
{
    int64_t n = nncw_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        if (x->dtype == NNCW_DTYPE_I64)
            ((int64_t *)y->data)[i] = int_fn(op, ((const int64_t *)x->data)[i]);
        else
            ((int32_t *)y->data)[i] = (int32_t)int_fn(op, ((const int32_t *)x->data)[i]);
    }
}

static enum nncw_status un_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    (void)n_in;
    const struct un_op *u = un_op_of(node);
    const struct nncw_tensor *x = in[0];
    if (takes_ints(u->op, x->dtype)) {
        nncw_tensor_init_borrowed(&out[0], x->dtype, x->ndim, x->shape, NULL);
        return NNCW_OK;
    }
    enum nncw_dtype want = u->kind == UN_NOT ? NNCW_DTYPE_BOOL : NNCW_DTYPE_F32;
    if (x->dtype != want)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input is %s, only %s is supported", u->label,
                         nncw_node_get_name(node), nncw_dtype_name(x->dtype),
                         nncw_dtype_name(want));
    if (u->op == NNCW_OP_CELU && nncw_node_get_attr_float(node, "alpha", 1.0f) == 0.0f)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "celu '%s': alpha is 0", nncw_node_get_name(node));
    nncw_tensor_init_borrowed(&out[0], u->kind == UN_FLOAT ? NNCW_DTYPE_F32 : NNCW_DTYPE_BOOL,
                              x->ndim, x->shape, NULL);
    return NNCW_OK;
}

static enum nncw_status un_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    (void)ctx;
    (void)n_in;
    const struct un_op *u = un_op_of(node);
    int64_t n = nncw_tensor_numel(in[0]);
    if (takes_ints(u->op, in[0]->dtype)) {
        int_forward(u->op, in[0], out[0]);
        return NNCW_OK;
    }
    if (u->kind == UN_NOT) {
        const uint8_t *x = in[0]->data;
        uint8_t *y = out[0]->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = !x[i];
        return NNCW_OK;
    }
    const float *x = nncw_tensor_f32(in[0]);
    if (u->kind == UN_PREDICATE) {
        uint8_t *y = out[0]->data;
        bool neg = nncw_node_get_attr_int(node, "detect_negative", 1) != 0,
             pos = nncw_node_get_attr_int(node, "detect_positive", 1) != 0;
        for (int64_t i = 0; i < n; i++)
            y[i] =
                u->op == NNCW_OP_ISNAN ? isnan(x[i]) != 0 : isinf(x[i]) && (x[i] > 0 ? pos : neg);
        return NNCW_OK;
    }
    struct un_params p;
    un_params_read(node, &p);
    float *y = nncw_tensor_f32(out[0]);
    for (int64_t i = 0; i < n; i++)
        y[i] = u->f(x[i], &p);
    return NNCW_OK;
}

static enum nncw_status un_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)n_in;
    if (!grad_out[0] || !grad_in[0] || in[0]->dtype != NNCW_DTYPE_F32)
        return NNCW_OK;
    const struct un_op *u = un_op_of(node);
    struct un_params p;
    un_params_read(node, &p);
    int64_t n = nncw_tensor_numel(in[0]);
    const float *x = nncw_tensor_f32(in[0]), *y = nncw_tensor_f32(out[0]),
                *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    for (int64_t i = 0; i < n; i++)
        gx[i] += gy[i] * u->d(x[i], y[i], &p);
    return NNCW_OK;
}

/* piecewise-constant functions and predicates: no gradient flows (zero almost everywhere), but
 * they may sit on a training path (a rounding or a mask next to trainable values) */
static enum nncw_status un_no_grad(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[],
                                   struct nncw_tensor *const grad_out[],
                                   struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)in, (void)n_in, (void)out, (void)grad_out, (void)grad_in;
    return NNCW_OK;
}

#define UNARY(var, name, bwd)                                                                      \
    const struct nncw_op_def var = {name, name, 1, 1, 1, un_infer, un_forward, bwd}

UNARY(nncw_op_def_neg, "Neg", un_backward);
UNARY(nncw_op_def_abs, "Abs", un_backward);
UNARY(nncw_op_def_exp, "Exp", un_backward);
UNARY(nncw_op_def_log, "Log", un_backward);
UNARY(nncw_op_def_sqrt, "Sqrt", un_backward);
UNARY(nncw_op_def_reciprocal, "Reciprocal", un_backward);
UNARY(nncw_op_def_floor, "Floor", un_no_grad);
UNARY(nncw_op_def_ceil, "Ceil", un_no_grad);
UNARY(nncw_op_def_round, "Round", un_no_grad);
UNARY(nncw_op_def_sign, "Sign", un_no_grad);
UNARY(nncw_op_def_sin, "Sin", un_backward);
UNARY(nncw_op_def_cos, "Cos", un_backward);
UNARY(nncw_op_def_tan, "Tan", un_backward);
UNARY(nncw_op_def_asin, "Asin", un_backward);
UNARY(nncw_op_def_acos, "Acos", un_backward);
UNARY(nncw_op_def_atan, "Atan", un_backward);
UNARY(nncw_op_def_sinh, "Sinh", un_backward);
UNARY(nncw_op_def_cosh, "Cosh", un_backward);
UNARY(nncw_op_def_asinh, "Asinh", un_backward);
UNARY(nncw_op_def_acosh, "Acosh", un_backward);
UNARY(nncw_op_def_atanh, "Atanh", un_backward);
UNARY(nncw_op_def_erf, "Erf", un_backward);
UNARY(nncw_op_def_softplus, "Softplus", un_backward);
UNARY(nncw_op_def_softsign, "Softsign", un_backward);
UNARY(nncw_op_def_selu, "Selu", un_backward);
UNARY(nncw_op_def_celu, "Celu", un_backward);
UNARY(nncw_op_def_thresholdedrelu, "ThresholdedRelu", un_backward);
UNARY(nncw_op_def_shrink, "Shrink", un_backward);
UNARY(nncw_op_def_isnan, "IsNaN", un_no_grad);
UNARY(nncw_op_def_isinf, "IsInf", un_no_grad);
UNARY(nncw_op_def_not, "Not", un_no_grad);
