/*
** Element-wise activations: Relu, Clip, LeakyRelu, Elu, Sigmoid, HardSigmoid, HardSwish, Swish
** and Tanh. Each is a pair of tight kernels (forward, backward) in a table; the op functions
** only read attributes and pick the row. Backward ACCUMULATES into gx, as every op's does.
**
** Attributes follow ONNX: LeakyRelu alpha (0.01), Elu alpha (1.0), HardSigmoid alpha (0.2) and
** beta (0.5). HardSwish is x * HardSigmoid(x) with alpha 1/6, beta 0.5 and no attributes.
** Swish (x * sigmoid(x), PyTorch's SiLU) has no ONNX op and no attributes. Clip takes min and
** max as optional scalar inputs 1 and 2 (opset 11+), or as attributes (opset 6) when those
** inputs are absent; ReLU6 is Clip(0, 6).
*/
#include <float.h>
#include <math.h>

#include "ops/ops_internal.h"
#include "ops/parallel.h"

struct act_params {
    float alpha, beta; /* LeakyRelu, Elu, HardSigmoid */
    float lo, hi;      /* Clip */
};

typedef void (*act_forward_fn)(int64_t n, const float *x, float *y, const struct act_params *p);
/* gx += gy * f'(x); y is the forward output, for rules that are cheaper through it */
typedef void (*act_backward_fn)(int64_t n, const float *x, const float *y, const float *gy,
                                float *gx, const struct act_params *p);

/* ---- kernels ---- */

static void relu_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    (void)p;
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i]; /* NaN passes through */
}

static void relu_backward(int64_t n, const float *x, const float *y, const float *gy, float *gx,
                          const struct act_params *p)
{
    (void)y;
    (void)p;
    for (int64_t i = 0; i < n; i++)
        gx[i] += x[i] > 0.0f ? gy[i] : 0.0f;
}

static void clip_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    const float lo = p->lo, hi = p->hi;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
    }
}

static void clip_backward(int64_t n, const float *x, const float *y, const float *gy, float *gx,
                          const struct act_params *p)
{
    (void)y;
    const float lo = p->lo, hi = p->hi;
    for (int64_t i = 0; i < n; i++)
        gx[i] += x[i] > lo && x[i] < hi ? gy[i] : 0.0f;
}

static void leakyrelu_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    const float a = p->alpha;
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? a * x[i] : x[i];
}

static void leakyrelu_backward(int64_t n, const float *x, const float *y, const float *gy,
                               float *gx, const struct act_params *p)
{
    (void)y;
    const float a = p->alpha;
    for (int64_t i = 0; i < n; i++)
        gx[i] += x[i] < 0.0f ? a * gy[i] : gy[i];
}

static void elu_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    const float a = p->alpha;
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? a * expm1f(x[i]) : x[i];
}

static void elu_backward(int64_t n, const float *x, const float *y, const float *gy, float *gx,
                         const struct act_params *p)
{
    const float a = p->alpha;
    for (int64_t i = 0; i < n; i++) /* d/dx a (e^x - 1) = a e^x = y + a */
        gx[i] += x[i] < 0.0f ? gy[i] * (y[i] + a) : gy[i];
}

static inline float sigmoid1(float x)
{
    /* never exponentiate a large positive number */
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static void sigmoid_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    (void)p;
    for (int64_t i = 0; i < n; i++)
        y[i] = sigmoid1(x[i]);
}

static void sigmoid_backward(int64_t n, const float *x, const float *y, const float *gy, float *gx,
                             const struct act_params *p)
{
    (void)x;
    (void)p;
    for (int64_t i = 0; i < n; i++)
        gx[i] += gy[i] * y[i] * (1.0f - y[i]);
}

static void hardsigmoid_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    const float a = p->alpha, b = p->beta;
    for (int64_t i = 0; i < n; i++) {
        float t = a * x[i] + b;
        y[i] = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
    }
}

static void hardsigmoid_backward(int64_t n, const float *x, const float *y, const float *gy,
                                 float *gx, const struct act_params *p)
{
    (void)y;
    const float a = p->alpha, b = p->beta;
    for (int64_t i = 0; i < n; i++) {
        float t = a * x[i] + b;
        gx[i] += t > 0.0f && t < 1.0f ? a * gy[i] : 0.0f;
    }
}

static void hardswish_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    (void)p;
    for (int64_t i = 0; i < n; i++) {
        float t = x[i] * (1.0f / 6.0f) + 0.5f;
        y[i] = x[i] * (t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t);
    }
}

static void hardswish_backward(int64_t n, const float *x, const float *y, const float *gy,
                               float *gx, const struct act_params *p)
{
    (void)y;
    (void)p;
    for (int64_t i = 0; i < n; i++) {
        float t = x[i] * (1.0f / 6.0f) + 0.5f;
        /* inside the ramp: d/dx x (x/6 + 1/2) = x/3 + 1/2 */
        float d = t <= 0.0f ? 0.0f : t >= 1.0f ? 1.0f : x[i] * (1.0f / 3.0f) + 0.5f;
        gx[i] += gy[i] * d;
    }
}

static void swish_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    (void)p;
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] * sigmoid1(x[i]);
}

static void swish_backward(int64_t n, const float *x, const float *y, const float *gy, float *gx,
                           const struct act_params *p)
{
    (void)y;
    (void)p;
    for (int64_t i = 0; i < n; i++) {
        /* recomputed from x: y / x is unstable near 0 */
        float s = sigmoid1(x[i]);
        gx[i] += gy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

static void tanh_forward(int64_t n, const float *x, float *y, const struct act_params *p)
{
    (void)p;
    for (int64_t i = 0; i < n; i++)
        y[i] = tanhf(x[i]);
}

static void tanh_backward(int64_t n, const float *x, const float *y, const float *gy, float *gx,
                          const struct act_params *p)
{
    (void)x;
    (void)p;
    for (int64_t i = 0; i < n; i++)
        gx[i] += gy[i] * (1.0f - y[i] * y[i]);
}

/* ---- the ops ---- */

struct act_kind {
    const char *label;
    act_forward_fn forward;
    act_backward_fn backward;
};

static const struct act_kind *act_kind_of(const struct nncw_node *node)
{
    static const struct act_kind relu = {"relu", relu_forward, relu_backward},
                                 clip = {"clip", clip_forward, clip_backward},
                                 leaky = {"leakyrelu", leakyrelu_forward, leakyrelu_backward},
                                 elu = {"elu", elu_forward, elu_backward},
                                 sigmoid = {"sigmoid", sigmoid_forward, sigmoid_backward},
                                 hsig = {"hardsigmoid", hardsigmoid_forward, hardsigmoid_backward},
                                 hswish = {"hardswish", hardswish_forward, hardswish_backward},
                                 swish = {"swish", swish_forward, swish_backward},
                                 tanh_ = {"tanh", tanh_forward, tanh_backward};
    switch (nncw_node_get_op(node)) {
    case NNCW_OP_RELU:
        return &relu;
    case NNCW_OP_CLIP:
        return &clip;
    case NNCW_OP_LEAKYRELU:
        return &leaky;
    case NNCW_OP_ELU:
        return &elu;
    case NNCW_OP_SIGMOID:
        return &sigmoid;
    case NNCW_OP_HARDSIGMOID:
        return &hsig;
    case NNCW_OP_HARDSWISH:
        return &hswish;
    case NNCW_OP_SWISH:
        return &swish;
    default:
        return &tanh_;
    }
}

/* a Clip bound: input slot i if present, else the opset-6 attribute, else the default */
static float clip_bound(const struct nncw_node *node, struct nncw_tensor *const in[], int n_in,
                        int i, const char *attr, float def)
{
    if (i < n_in && in[i])
        return nncw_tensor_f32(in[i])[0];
    return nncw_node_get_attr_float(node, attr, def);
}

static void act_params_read(const struct nncw_node *node, struct nncw_tensor *const in[], int n_in,
                            struct act_params *p)
{
    enum nncw_op op = nncw_node_get_op(node);
    p->alpha = p->beta = 0.0f;
    p->lo = -FLT_MAX;
    p->hi = FLT_MAX;
    if (op == NNCW_OP_LEAKYRELU)
        p->alpha = nncw_node_get_attr_float(node, "alpha", 0.01f);
    else if (op == NNCW_OP_ELU)
        p->alpha = nncw_node_get_attr_float(node, "alpha", 1.0f);
    else if (op == NNCW_OP_HARDSIGMOID) {
        p->alpha = nncw_node_get_attr_float(node, "alpha", 0.2f);
        p->beta = nncw_node_get_attr_float(node, "beta", 0.5f);
    } else if (op == NNCW_OP_CLIP) {
        p->lo = clip_bound(node, in, n_in, 1, "min", -FLT_MAX);
        p->hi = clip_bound(node, in, n_in, 2, "max", FLT_MAX);
    }
}

static enum nncw_status act_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    const char *label = act_kind_of(node)->label, *name = nncw_node_get_name(node);
    const struct nncw_tensor *x = in[0];
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input is %s, only float32 is supported", label,
                         name, nncw_dtype_name(x->dtype));
    for (int i = 1; i < n_in; i++) { /* Clip's min and max */
        if (!in[i])
            continue;
        char sb[96];
        if (in[i]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': %s is %s, expected float32 like the input",
                             label, name, i == 1 ? "min" : "max", nncw_dtype_name(in[i]->dtype));
        if (nncw_tensor_numel(in[i]) != 1)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': %s is %s, expected a scalar", label, name,
                             i == 1 ? "min" : "max", nncw_tensor_shape_str(in[i], sb, sizeof sb));
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

/* one range of elements of a kernel call, for the worker threads */
struct act_job {
    const struct act_kind *kind;
    const struct act_params *p;
    const float *x, *y, *gy;
    float *out;
};

static void act_forward_part(void *arg, int64_t lo, int64_t hi)
{
    const struct act_job *j = arg;
    j->kind->forward(hi - lo, j->x + lo, j->out + lo, j->p);
}

static void act_backward_part(void *arg, int64_t lo, int64_t hi)
{
    const struct act_job *j = arg;
    j->kind->backward(hi - lo, j->x + lo, j->y + lo, j->gy + lo, j->out + lo, j->p);
}

/* elements are split in multiples of 64 (whole cache lines); a few operations each */
enum { ACT_ALIGN = 64, ACT_COST = 4 };

static enum nncw_status act_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)ctx;
    struct act_params p;
    act_params_read(node, in, n_in, &p);
    struct act_job j = {act_kind_of(node),      &p, nncw_tensor_f32(in[0]), NULL, NULL,
                        nncw_tensor_f32(out[0])};
    nncw_parallel_for(nncw_tensor_numel(in[0]), ACT_ALIGN, ACT_COST, act_forward_part, &j);
    return NNCW_OK;
}

/* Clip's bounds as inputs: y = min(max(x, lo), hi), so lo gets the gradient where x < lo (and
 * lo < hi), hi where max(x, lo) > hi */
static void clip_bounds_backward(int64_t n, const float *x, const float *gy,
                                 const struct act_params *p, struct nncw_tensor *g_lo,
                                 struct nncw_tensor *g_hi)
{
    double s_lo = 0, s_hi = 0;
    for (int64_t i = 0; i < n; i++) {
        float m = x[i] < p->lo ? p->lo : x[i];
        if (m > p->hi)
            s_hi += gy[i];
        else if (x[i] < p->lo)
            s_lo += gy[i];
    }
    if (g_lo)
        nncw_tensor_f32(g_lo)[0] += (float)s_lo;
    if (g_hi)
        nncw_tensor_f32(g_hi)[0] += (float)s_hi;
}

static enum nncw_status act_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    if (!grad_out[0])
        return NNCW_OK;
    struct act_params p;
    act_params_read(node, in, n_in, &p);
    int64_t n = nncw_tensor_numel(in[0]);
    const float *x = nncw_tensor_f32(in[0]), *gy = nncw_tensor_f32(grad_out[0]);
    if (grad_in[0]) {
        struct act_job j = {act_kind_of(node),       &p, x,
                            nncw_tensor_f32(out[0]), gy, nncw_tensor_f32(grad_in[0])};
        nncw_parallel_for(n, ACT_ALIGN, ACT_COST, act_backward_part, &j);
    }
    struct nncw_tensor *g_lo = n_in > 1 ? grad_in[1] : NULL, *g_hi = n_in > 2 ? grad_in[2] : NULL;
    if (g_lo || g_hi)
        clip_bounds_backward(n, x, gy, &p, g_lo, g_hi);
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_relu = {
    "Relu", "Relu", 1, 1, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_leakyrelu = {
    "LeakyRelu", "LeakyRelu", 1, 1, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_elu = {
    "Elu", "Elu", 1, 1, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_sigmoid = {
    "Sigmoid", "Sigmoid", 1, 1, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_hardsigmoid = {
    "HardSigmoid", "HardSigmoid", 1, 1, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_hardswish = {
    "HardSwish", "HardSwish", 1, 1, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_tanh = {
    "Tanh", "Tanh", 1, 1, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_clip = {
    "Clip", "Clip", 1, 3, 1, act_infer, act_forward, act_backward,
};
const struct nncw_op_def nncw_op_def_swish = {
    "Swish", NULL, 1, 1, 1, act_infer, act_forward, act_backward,
};
