/*
** Fake quantization: NNCF's trainable quantizers SymmetricQuantize and AsymmetricQuantize, and
** OpenVINO's FakeQuantize (the form nncw exports them in). The arithmetic and attributes of the
** first two are described in ops/fake_quantize.h.
**
** Forward computes NNCF's y = round((clamp(x, low, high) - low) * s) / s + low as
** (round((clamp(x) - low) * s) - zp) / s with zp = round(-low * s), which is the same wherever 0
** is a level: always for symmetric ranges (zp = -level_low) and for asymmetric ranges the
** zero-point tune moved. Where the tune keeps a range whose 0 falls between levels (zero point
** 0 or levels - 1), the grid shifts by less than half a step so that 0 still maps to exactly 0,
** as later NNCF versions compute it; the clamp bounds stay where they were.
**
** Backward of the trainable quantizers is NNCF's (a straight-through estimator with a learnable
** range, LSQ-like), per element with g = dL/dy:
**   dL/dx     = g inside [low, high], 0 outside
**   dL/dhigh  = g * (y - x) / range inside, g above high, g * level_low / level_high below low
**               (symmetric: high is |scale| + eps, and low = high * level_low / level_high
**               moves with it; asymmetric: the same with level_low = 0, high is the range)
**   dL/dinput_low = g outside the range, 0 inside (asymmetric)
** summed over each channel, then through |.| (sign) or exp for logarithm_scale. As in NNCF, the
** asymmetric zero-point tune passes gradients straight through (tuned low and range get the
** gradients of input_low and input_range). Inside the range the rule is an estimator, not the
** derivative of the rounded forward (which is 0 for x and y / high for the scale); outside it
** is the exact derivative.
**
** FakeQuantize (inputs x, input_low, input_high, output_low, output_high, numpy-broadcast to
** x; attribute levels): y = output_low where x <= min(input_low, input_high), output_high where
** x > max(...), else round((x - input_low) / (input_high - input_low) * (levels - 1)) /
** (levels - 1) * (output_high - output_low) + output_low. Its backward passes g to x inside the
** range and gives the range inputs no gradient: it is an inference op (imported models), the
** trainable quantizers are the ones to train.
**
** Kernels work per channel on [outer, C, inner] views of x with the channel's constants
** hoisted; when inner is 1 (per-channel [N, C] activations) a row kernel reads the constants
** from arrays instead, so both vectorise. The trainable quantizers split their blocks into
** pieces over the worker threads (the activations of a batch are large: the QAT step's
** quantizers would otherwise run on one core while the convolutions use all of them).
*/
#include <math.h>
#include <string.h>

#include "ops/fake_quantize.h"
#include "ops/ops_internal.h"
#include "ops/parallel.h"

#define MAX_LEVEL_SPAN 65535
#define MAX_FQ_LEVELS (1 << 22)

/* ---- attributes ---- */

static bool is_quantizer(enum nncw_op op)
{
    return op == NNCW_OP_QUANTIZE_SYMMETRIC || op == NNCW_OP_QUANTIZE_ASYMMETRIC;
}

enum nncw_status nncw_quantizer_get_attrs(const struct nncw_node *n, int x_ndim,
                                          struct nncw_quantizer_attrs *out)
{
    enum nncw_op op = nncw_node_get_op(n);
    const char *name = nncw_node_get_name(n), *label = nncw_op_name(op);
    if (!is_quantizer(op))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': %s is not a trainable quantizer", name,
                         label);
    struct nncw_quantizer_attrs a;
    a.asymmetric = op == NNCW_OP_QUANTIZE_ASYMMETRIC;
    a.level_low = nncw_node_get_attr_int(n, "level_low", a.asymmetric ? 0 : -128);
    a.level_high = nncw_node_get_attr_int(n, "level_high", a.asymmetric ? 255 : 127);
    int64_t axis = nncw_node_get_attr_int(n, "axis", -1);
    a.logarithm_scale = nncw_node_get_attr_int(n, "logarithm_scale", 0) != 0;
    a.half_range = nncw_node_get_attr_int(n, "half_range", 0) != 0;
    a.enabled = nncw_node_get_attr_int(n, "enabled", 1) != 0;
    a.eps = nncw_node_get_attr_float(n, "eps", a.logarithm_scale ? 0.0f : 1e-16f);
    if (a.level_low >= a.level_high)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': level_low %lld >= level_high %lld", label,
                         name, (long long)a.level_low, (long long)a.level_high);
    if (a.level_high - a.level_low > MAX_LEVEL_SPAN || a.level_low < -MAX_LEVEL_SPAN ||
        a.level_high > MAX_LEVEL_SPAN)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s '%s': levels %lld..%lld (at most 16 bits are supported)", label, name,
                         (long long)a.level_low, (long long)a.level_high);
    if (!a.asymmetric && (a.level_high <= 0 || a.level_low > 0))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s '%s': levels %lld..%lld do not contain 0 with level_high > 0, as a "
                         "symmetric quantizer needs",
                         label, name, (long long)a.level_low, (long long)a.level_high);
    if (axis < -1 || (x_ndim >= 0 && axis >= x_ndim) || axis >= NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s '%s': axis %lld (expected -1 for per-tensor or 0..%d)", label, name,
                         (long long)axis, (x_ndim >= 0 ? x_ndim : NNCW_MAX_DIMS) - 1);
    if (!(a.eps >= 0.0f) || isinf(a.eps))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': eps %g (expected >= 0)", label, name,
                         (double)a.eps);
    a.axis = (int)axis;
    *out = a;
    return NNCW_OK;
}

/* ---- ranges ---- */

void nncw_quantizer_tune_range(float low, float range, int64_t levels, float *tuned_low,
                               float *tuned_range)
{
    /* widen to include 0; the zero point is estimated with `levels` (not levels - 1) steps,
     * as NNCF does */
    float high = range + low;
    float lo = low > 0.0f ? 0.0f : low, hi = high < 0.0f ? 0.0f : high;
    float n = (float)(levels - 1);
    float zp = nncw_round_even(-lo * ((float)levels / (hi - lo)));
    /* either lower low until 0 is level zp, or raise high until it is */
    float new_low = zp < n ? zp / (zp - n) * hi : lo;
    float new_high = zp > 0.0f ? (zp - n) / zp * lo : hi;
    if (hi - new_low > new_high - lo) {
        *tuned_low = new_low;
        *tuned_range = hi - new_low;
    } else {
        *tuned_low = lo;
        *tuned_range = new_high - lo;
    }
}

void nncw_quantizer_affine(float low, float range, int64_t level_low, int64_t level_high,
                           float *scale, int32_t *zero_point)
{
    double high = (double)low + range;
    double zp = ((double)level_low * high - (double)level_high * low) / range;
    zp = nearbyint(zp);
    if (!(zp >= (double)level_low)) /* also NaN */
        zp = (double)level_low;
    if (zp > (double)level_high)
        zp = (double)level_high;
    *scale = (float)(range / (double)(level_high - level_low));
    *zero_point = (int32_t)zp;
}

/* per-channel constants, structure of arrays so the row kernel can vectorise over channels */
struct fq_chans {
    int64_t count;
    float *low, *high; /* clamp bounds */
    float *s, *inv_s;  /* (levels - 1) / range and back */
    float *zp;         /* round(-low * s): the level of 0 */
    float *inv_range;  /* backward: 1 / range */
    float *dparam;     /* backward: d(high or range)/d(parameter): sign(p) or exp(p) */
};

#define FQ_CHAN_ARRAYS 7

static void chans_bind(struct fq_chans *c, float *mem, int64_t count)
{
    c->count = count;
    float **arr[FQ_CHAN_ARRAYS] = {&c->low, &c->high,      &c->s,     &c->inv_s,
                                   &c->zp,  &c->inv_range, &c->dparam};
    for (int k = 0; k < FQ_CHAN_ARRAYS; k++)
        *arr[k] = mem + k * count;
}

/* the range of one channel; false if it is empty or not finite */
static bool chan_range(const struct nncw_quantizer_attrs *a, const float *p0, const float *p1,
                       int64_t c, float *low, float *range, float *dparam)
{
    float n = (float)(a->level_high - a->level_low);
    if (!a->asymmetric) {
        float p = p0[c];
        float h = a->logarithm_scale ? expf(p) : fabsf(p);
        *dparam = a->logarithm_scale ? h : (p > 0.0f) - (p < 0.0f);
        h += a->eps;
        float lo = (float)((double)h * (double)a->level_low / (double)a->level_high);
        *low = lo;
        *range = h - lo;
    } else {
        float p = p1[c];
        float r = a->logarithm_scale ? expf(p) : fabsf(p);
        *dparam = a->logarithm_scale ? r : (p > 0.0f) - (p < 0.0f);
        r += a->eps;
        nncw_quantizer_tune_range(p0[c], r, nncw_quantizer_levels(a), low, range);
    }
    return *range > 0.0f && isfinite(*range) && isfinite(*low) && isfinite(n / *range);
}

static enum nncw_status chans_fill(const struct nncw_node *node,
                                   const struct nncw_quantizer_attrs *a, const float *p0,
                                   const float *p1, struct fq_chans *ch)
{
    float n = (float)(a->level_high - a->level_low);
    for (int64_t c = 0; c < ch->count; c++) {
        float low, range;
        if (!chan_range(a, p0, p1, c, &low, &range, &ch->dparam[c]))
            return NNCW_FAIL(
                NNCW_ERR_INVALID_ARG,
                "%s '%s': channel %lld has the empty or non-finite range [%g, %g + %g] "
                "(parameter %g)",
                nncw_op_name(nncw_node_get_op(node)), nncw_node_get_name(node), (long long)c,
                (double)low, (double)low, (double)range, (double)(a->asymmetric ? p1[c] : p0[c]));
        float s = n / range;
        ch->low[c] = low;
        ch->high[c] = low + range;
        ch->s[c] = s;
        ch->inv_s[c] = range / n;
        /* the same expression as the kernel's (0 - low) * s, so 0 maps to exactly 0 */
        ch->zp[c] = nncw_round_even((0.0f - low) * s);
        ch->inv_range[c] = 1.0f / range;
    }
    return NNCW_OK;
}

enum nncw_status nncw_quantizer_get_ranges(const struct nncw_node *n,
                                           const struct nncw_quantizer_attrs *a,
                                           const struct nncw_tensor *p0,
                                           const struct nncw_tensor *p1, float *low, float *range)
{
    const char *label = nncw_op_name(nncw_node_get_op(n)), *name = nncw_node_get_name(n);
    int64_t count = nncw_tensor_numel(p0);
    if (p0->dtype != NNCW_DTYPE_F32 || !p0->data ||
        (a->asymmetric &&
         (!p1 || p1->dtype != NNCW_DTYPE_F32 || !p1->data || nncw_tensor_numel(p1) != count)))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s '%s': the range parameters are not float32 tensors of equal size",
                         label, name);
    const float *v0 = nncw_tensor_f32(p0), *v1 = a->asymmetric ? nncw_tensor_f32(p1) : NULL;
    float steps = (float)(a->level_high - a->level_low);
    for (int64_t c = 0; c < count; c++) {
        float dparam, lo, r;
        if (!chan_range(a, v0, v1, c, &lo, &r, &dparam))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "%s '%s': channel %lld has an empty or non-finite range", label, name,
                             (long long)c);
        /* the lowest level as the forward computes it (the clamp bound on the grid of 0) */
        float zp = nncw_round_even((0.0f - lo) * (steps / r));
        low[c] = (0.0f - zp) * (r / steps);
        range[c] = r;
    }
    return NNCW_OK;
}

/* ---- shape inference ---- */

/* [outer, C, inner] view of x for a channel axis (-1: one channel) */
static void channel_view(const struct nncw_tensor *x, int axis, int64_t *outer, int64_t *chans,
                         int64_t *inner)
{
    *outer = *chans = *inner = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (axis < 0 || d > axis)
            *inner *= x->shape[d];
        else if (d < axis)
            *outer *= x->shape[d];
        else
            *chans = x->shape[d];
    }
}

/* a range parameter: float32, one value or one per channel */
static enum nncw_status check_param(const struct nncw_node *node, const char *what,
                                    const struct nncw_tensor *x, int axis,
                                    const struct nncw_tensor *p)
{
    const char *label = nncw_op_name(nncw_node_get_op(node)), *name = nncw_node_get_name(node);
    char ps[96], xs[96];
    if (!p)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': input %s is missing", label, name, what);
    if (p->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': %s is %s, expected float32", label, name, what,
                         nncw_dtype_name(p->dtype));
    int64_t numel = nncw_tensor_numel(p), c = axis >= 0 ? x->shape[axis] : 1;
    bool ok;
    if (numel == 1) {
        ok = true; /* per-tensor (also allowed with an axis) */
    } else if (numel != c) {
        ok = false;
    } else if (p->ndim == 1) {
        ok = true;
    } else { /* x's rank with C at axis, 1 elsewhere (NNCF's broadcast layout) */
        ok = p->ndim == x->ndim;
        for (int d = 0; ok && d < p->ndim; d++)
            ok = p->shape[d] == (d == axis ? c : 1);
    }
    if (!ok)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "%s '%s': %s is %s, expected 1 value or %lld (x is %s, axis %d) shaped "
                         "[%lld] or broadcastable along the axis",
                         label, name, what, nncw_tensor_shape_str(p, ps, sizeof ps), (long long)c,
                         nncw_tensor_shape_str(x, xs, sizeof xs), axis, (long long)c);
    return NNCW_OK;
}

static enum nncw_status quant_infer(const struct nncw_node *node,
                                    const struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    struct nncw_quantizer_attrs a;
    NNCW_TRY(nncw_quantizer_get_attrs(node, x->ndim, &a));
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input is %s, expected float32",
                         nncw_op_name(nncw_node_get_op(node)), nncw_node_get_name(node),
                         nncw_dtype_name(x->dtype));
    if (!a.asymmetric) {
        NNCW_TRY(check_param(node, "scale", x, a.axis, in[1]));
    } else {
        NNCW_TRY(check_param(node, "input_low", x, a.axis, n_in > 1 ? in[1] : NULL));
        NNCW_TRY(check_param(node, "input_range", x, a.axis, n_in > 2 ? in[2] : NULL));
        if (nncw_tensor_numel(in[1]) != nncw_tensor_numel(in[2]))
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': input_low has %lld values, input_range %lld",
                             nncw_op_name(nncw_node_get_op(node)), nncw_node_get_name(node),
                             (long long)nncw_tensor_numel(in[1]),
                             (long long)nncw_tensor_numel(in[2]));
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

/* ---- kernels ---- */

/* the fake-quantized value of x; the backward recomputes it rather than read the forward's
 * output back from memory (bit-identical: the same operations on the same operands) */
static inline float fq_value(float x, float lo, float hi, float s, float inv_s, float zp)
{
    float v = x < lo ? lo : x;
    v = v > hi ? hi : v;
    return (nncw_round_even((v - lo) * s) - zp) * inv_s;
}

/* one channel block with its constants hoisted */
static void fq_block_forward(int64_t n, const float *restrict x, float *restrict y, float lo,
                             float hi, float s, float inv_s, float zp)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = fq_value(x[i], lo, hi, s, inv_s, zp);
}

/* one row of C channels (inner size 1) */
static void fq_row_forward(int64_t c, const float *restrict x, float *restrict y,
                           const struct fq_chans *k)
{
    const float *restrict lo = k->low, *restrict hi = k->high, *restrict s = k->s;
    const float *restrict inv_s = k->inv_s, *restrict zp = k->zp;
    for (int64_t i = 0; i < c; i++)
        y[i] = fq_value(x[i], lo[i], hi[i], s[i], inv_s[i], zp[i]);
}

#define LANES 16
#define CHUNK 2048

/* Backward of one channel block: gx += g inside the range (gx may be NULL), and the sums of
 * g * (range gradient) and of g outside the range into *sum_range and *sum_out. The block goes
 * in chunks that stay in L1 between the two simple loops (the x gradient; the sums, in
 * independent lanes so the reduction vectorises without reassociation); one fused loop with
 * its conditional store vectorises worse. */
static void fq_block_backward(int64_t n, const float *restrict x, const float *restrict g,
                              float *restrict gx, bool relu, float lo, float hi, float s,
                              float inv_s, float zp, float inv_range, float alpha,
                              double *sum_range, double *sum_out)
{
    float acc_r[LANES] = {0}, acc_o[LANES] = {0};
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
        int64_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
        const float *restrict xs = x + i0, *restrict gs = g + i0;
        if (gx) {
            float *restrict gxs = gx + i0;
            if (relu) /* a fused ReLU passes nothing at 0 (= lo) */
                for (int64_t i = 0; i < len; i++)
                    gxs[i] += xs[i] > hi || xs[i] <= lo ? 0.0f : gs[i];
            else
                for (int64_t i = 0; i < len; i++)
                    gxs[i] += xs[i] > hi || xs[i] < lo ? 0.0f : gs[i];
        }
        int64_t i = 0;
        for (; i + LANES <= len; i += LANES) {
            for (int k = 0; k < LANES; k++) {
                float xv = xs[i + k], gv = gs[i + k];
                float e = (fq_value(xv, lo, hi, s, inv_s, zp) - xv) * inv_range;
                e = xv > hi ? 1.0f : e;
                e = xv < lo ? alpha : e;
                float o = xv > hi || xv < lo ? gv : 0.0f;
                acc_r[k] += gv * e;
                acc_o[k] += o;
            }
        }
        for (; i < len; i++) {
            float xv = xs[i], gv = gs[i];
            float e = xv > hi    ? 1.0f
                      : xv < lo ? alpha
                                : (fq_value(xv, lo, hi, s, inv_s, zp) - xv) * inv_range;
            acc_r[0] += gv * e;
            acc_o[0] += xv > hi || xv < lo ? gv : 0.0f;
        }
    }
    double r = 0, o = 0;
    for (int k = 0; k < LANES; k++) {
        r += acc_r[k];
        o += acc_o[k];
    }
    *sum_range += r;
    *sum_out += o;
}

static void fq_row_backward(int64_t c, const float *restrict x, const float *restrict g,
                            float *restrict gx, bool relu, const struct fq_chans *k, float alpha,
                            float *restrict acc_r, float *restrict acc_o)
{
    const float *restrict lo = k->low, *restrict hi = k->high, *restrict ir = k->inv_range;
    const float *restrict s = k->s, *restrict inv_s = k->inv_s, *restrict zp = k->zp;
    if (gx && relu)
        for (int64_t i = 0; i < c; i++)
            gx[i] += x[i] > hi[i] || x[i] <= lo[i] ? 0.0f : g[i];
    else if (gx)
        for (int64_t i = 0; i < c; i++)
            gx[i] += x[i] > hi[i] || x[i] < lo[i] ? 0.0f : g[i];
    for (int64_t i = 0; i < c; i++) {
        float xv = x[i], gv = g[i];
        float e = (fq_value(xv, lo[i], hi[i], s[i], inv_s[i], zp[i]) - xv) * ir[i];
        e = xv > hi[i] ? 1.0f : e;
        e = xv < lo[i] ? alpha : e;
        acc_r[i] += gv * e;
        acc_o[i] += xv > hi[i] || xv < lo[i] ? gv : 0.0f;
    }
}

/* ---- the trainable quantizers ---- */

struct quant_run {
    struct nncw_quantizer_attrs a;
    int64_t outer, chans, inner; /* x as [outer, chans, inner]; chans 1 for one parameter */
    struct fq_chans k;
    float *scratch_tail; /* what follows the constants in the scratch block */
};

/* the blocks of the [outer, chans, inner] view go in pieces of at most CHUNK elements
 * ("items"), numbered channel-major so that each channel's items are consecutive, and split
 * over the worker threads */
static int64_t fq_items(const struct quant_run *r)
{
    return r->chans * r->outer * ((r->inner + CHUNK - 1) / CHUNK);
}

static void fq_item(const struct quant_run *r, int64_t i, int64_t *c, int64_t *off, int64_t *len)
{
    int64_t per_block = (r->inner + CHUNK - 1) / CHUNK, block = i / per_block;
    int64_t piece = i % per_block, o = block % r->outer;
    *c = block / r->outer;
    *off = (o * r->chans + *c) * r->inner + piece * CHUNK;
    *len = r->inner - piece * CHUNK < CHUNK ? r->inner - piece * CHUNK : CHUNK;
}

/* about how many operations one item takes, forward (backward: twice) */
#define ITEM_COST (8.0 * CHUNK)

struct fq_job {
    const struct quant_run *r;
    const float *x, *g;
    float *y_out, *gx;      /* forward: y */
    bool relu;              /* backward: a ReLU is fused in (nncw_op_ctx_input_relu_fused) */
    float alpha;
    float *item_r, *item_o; /* backward: each item's sums */
};

static void fq_forward_items(void *arg, int64_t i0, int64_t i1)
{
    const struct fq_job *j = arg;
    const struct fq_chans *k = &j->r->k;
    for (int64_t i = i0; i < i1; i++) {
        int64_t c, off, len;
        fq_item(j->r, i, &c, &off, &len);
        fq_block_forward(len, j->x + off, j->y_out + off, k->low[c], k->high[c], k->s[c],
                         k->inv_s[c], k->zp[c]);
    }
}

static void fq_backward_items(void *arg, int64_t i0, int64_t i1)
{
    const struct fq_job *j = arg;
    const struct fq_chans *k = &j->r->k;
    for (int64_t i = i0; i < i1; i++) {
        int64_t c, off, len;
        fq_item(j->r, i, &c, &off, &len);
        double sr = 0, so = 0;
        fq_block_backward(len, j->x + off, j->g + off, j->gx ? j->gx + off : NULL, j->relu,
                          k->low[c],
                          k->high[c], k->s[c], k->inv_s[c], k->zp[c], k->inv_range[c], j->alpha,
                          &sr, &so);
        j->item_r[i] = (float)sr;
        j->item_o[i] = (float)so;
    }
}

/* attributes, layout and per-channel constants, plus extra floats of scratch: per_chan for
 * each channel and per_item for each item */
static enum nncw_status quant_prepare(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in, int per_chan,
                                      int per_item, struct quant_run *r)
{
    NNCW_TRY(nncw_quantizer_get_attrs(node, in[0]->ndim, &r->a));
    if (!r->a.enabled)
        return NNCW_OK;
    if (r->a.asymmetric && n_in < 3)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "AsymmetricQuantize '%s': input_range is missing",
                         nncw_node_get_name(node));
    int64_t np = nncw_tensor_numel(in[1]);
    channel_view(in[0], np == 1 ? -1 : r->a.axis, &r->outer, &r->chans, &r->inner);
    if (np != r->chans)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': %lld range values for %lld channels",
                         nncw_op_name(nncw_node_get_op(node)), nncw_node_get_name(node),
                         (long long)np, (long long)r->chans);
    int64_t items = r->inner == 1 && r->chans > 1 ? 0 : fq_items(r); /* rows take none */
    size_t nfloats = (size_t)((FQ_CHAN_ARRAYS + per_chan) * np + per_item * items);
    float *mem = nncw_op_ctx_scratch(ctx, nfloats * sizeof(float));
    if (!mem)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s '%s': out of memory",
                         nncw_op_name(nncw_node_get_op(node)), nncw_node_get_name(node));
    chans_bind(&r->k, mem, np);
    r->scratch_tail = mem + FQ_CHAN_ARRAYS * np;
    return chans_fill(node, &r->a, nncw_tensor_f32(in[1]),
                      r->a.asymmetric ? nncw_tensor_f32(in[2]) : NULL, &r->k);
}

static enum nncw_status quant_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[])
{
    struct quant_run r;
    NNCW_TRY(quant_prepare(ctx, node, in, n_in, 0, 0, &r));
    const float *x = nncw_tensor_f32(in[0]);
    float *y = nncw_tensor_f32(out[0]);
    if (!r.a.enabled) {
        memcpy(y, x, nncw_tensor_nbytes(in[0]));
        return NNCW_OK;
    }
    const struct fq_chans *k = &r.k;
    if (r.inner == 1 && r.chans > 1) {
        for (int64_t o = 0; o < r.outer; o++)
            fq_row_forward(r.chans, x + o * r.chans, y + o * r.chans, k);
        return NNCW_OK;
    }
    struct fq_job j = {.r = &r, .x = x, .y_out = y};
    nncw_parallel_for(fq_items(&r), 1, ITEM_COST, fq_forward_items, &j);
    return NNCW_OK;
}

static enum nncw_status quant_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[],
                                       struct nncw_tensor *const grad_out[],
                                       struct nncw_tensor *const grad_in[])
{
    if (!grad_out[0])
        return NNCW_OK;
    const float *g = nncw_tensor_f32(grad_out[0]);
    float *gx = grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL;
    int64_t n = nncw_tensor_numel(in[0]);
    struct quant_run r;
    /* two accumulators per channel follow the constants, then two sums per item */
    NNCW_TRY(quant_prepare(ctx, node, in, n_in, 2, 2, &r));
    if (!r.a.enabled) { /* identity: pass-through, no range gradients */
        for (int64_t i = 0; gx && i < n; i++)
            gx[i] += g[i];
        return NNCW_OK;
    }
    struct nncw_tensor *g_first = n_in > 1 ? grad_in[1] : NULL; /* scale or input_low */
    struct nncw_tensor *g_range = r.a.asymmetric ? (n_in > 2 ? grad_in[2] : NULL) : g_first;
    struct nncw_tensor *g_low = r.a.asymmetric ? g_first : NULL;
    if (!gx && !g_range && !g_low)
        return NNCW_OK;
    (void)out;
    const bool relu = nncw_op_ctx_input_relu_fused(ctx);
    const float *x = nncw_tensor_f32(in[0]);
    const struct fq_chans *k = &r.k;
    float alpha = (float)((double)r.a.level_low / (double)r.a.level_high);
    int64_t nc = r.k.count;
    float *sum_r = r.scratch_tail, *sum_o = r.scratch_tail + nc; /* per-channel sums */
    const int64_t items = fq_items(&r);
    memset(r.scratch_tail, 0, (size_t)(2 * nc) * sizeof(float));
    if (r.inner == 1 && nc > 1) { /* rows of channels: accumulate across the rows */
        for (int64_t o = 0; o < r.outer; o++) {
            int64_t base = o * nc;
            fq_row_backward(nc, x + base, g + base, gx ? gx + base : NULL, relu, k, alpha,
                            sum_r, sum_o);
        }
    } else {
        /* each item's sums in its own slot, added per channel in item order: the same
         * result however many threads took part */
        struct fq_job j = {.r = &r, .x = x, .g = g, .gx = gx, .relu = relu, .alpha = alpha,
                           .item_r = sum_o + nc, .item_o = sum_o + nc + items};
        nncw_parallel_for(items, 1, 2 * ITEM_COST, fq_backward_items, &j);
        const int64_t per_chan = items / nc;
        for (int64_t c = 0; c < nc; c++) {
            double sr = 0, so = 0;
            for (int64_t i = c * per_chan; i < (c + 1) * per_chan; i++) {
                sr += j.item_r[i];
                so += j.item_o[i];
            }
            sum_r[c] = (float)sr;
            sum_o[c] = (float)so;
        }
    }
    for (int64_t c = 0; c < nc; c++) {
        if (g_range)
            nncw_tensor_f32(g_range)[c] += sum_r[c] * k->dparam[c];
        if (g_low)
            nncw_tensor_f32(g_low)[c] += sum_o[c];
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_quantize_symmetric = {
    "SymmetricQuantize", NULL, 2, 2, 1, quant_infer, quant_forward, quant_backward,
};
const struct nncw_op_def nncw_op_def_quantize_asymmetric = {
    "AsymmetricQuantize", NULL, 3, 3, 1, quant_infer, quant_forward, quant_backward,
};

/* ---- OpenVINO FakeQuantize ---- */

static const char *const fq_inputs[5] = {"x", "input_low", "input_high", "output_low",
                                         "output_high"};

static enum nncw_status fq_levels(const struct nncw_node *node, int64_t *levels)
{
    const char *name = nncw_node_get_name(node);
    if (!nncw_node_has_attr(node, "levels"))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "FakeQuantize '%s': attribute levels is missing",
                         name);
    int64_t l = nncw_node_get_attr_int(node, "levels", 0);
    if (l < 2 || l > MAX_FQ_LEVELS)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "FakeQuantize '%s': levels %lld (expected 2 to %d)",
                         name, (long long)l, MAX_FQ_LEVELS);
    *levels = l;
    return NNCW_OK;
}

static enum nncw_status fq_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    int64_t levels;
    NNCW_TRY(fq_levels(node, &levels));
    const struct nncw_tensor *x = in[0];
    for (int i = 0; i < n_in; i++) {
        if (!in[i])
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "FakeQuantize '%s': input %s is missing", name,
                             fq_inputs[i]);
        if (in[i]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "FakeQuantize '%s': %s is %s, expected float32", name,
                             fq_inputs[i], nncw_dtype_name(in[i]->dtype));
        const struct nncw_tensor *pair[2] = {x, in[i]};
        int nd;
        int64_t shape[NNCW_MAX_DIMS];
        bool ok = nncw_op_broadcast_shape(2, pair, &nd, shape) && nd == x->ndim;
        for (int d = 0; ok && d < nd; d++)
            ok = shape[d] == x->shape[d];
        if (!ok) {
            char xs[96], rs[96];
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "FakeQuantize '%s': %s %s does not broadcast to the input %s", name,
                             fq_inputs[i], nncw_tensor_shape_str(in[i], rs, sizeof rs),
                             nncw_tensor_shape_str(x, xs, sizeof xs));
        }
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

/* OpenVINO's formula for one element */
static inline float fq_one(float x, float il, float ih, float ol, float oh, float n)
{
    float mn = il < ih ? il : ih, mx = il < ih ? ih : il;
    if (x <= mn)
        return ol;
    if (x > mx)
        return oh;
    return nncw_round_even((x - il) / (ih - il) * n) / n * (oh - ol) + ol;
}

/* the element strides of the four ranges read as x's shape, and the last dimension's length */
struct fq_walk {
    int nd;
    int64_t shape[NNCW_MAX_DIMS];
    int64_t st[4][NNCW_MAX_DIMS];
    const float *r[4];
};

static void fq_walk_init(struct fq_walk *w, struct nncw_tensor *const in[])
{
    const struct nncw_tensor *x = in[0];
    w->nd = x->ndim;
    memcpy(w->shape, x->shape, sizeof w->shape);
    for (int k = 0; k < 4; k++) {
        nncw_op_broadcast_strides(in[k + 1], x->ndim, x->shape, w->st[k]);
        w->r[k] = nncw_tensor_f32(in[k + 1]);
    }
}

/* Calls fn on every row (the last dimension) of x with the ranges' offsets and strides there. */
typedef void (*fq_row_fn)(int64_t len, int64_t xoff, const float *const r[4],
                          const int64_t stride[4], void *user);

static void fq_walk_rows(const struct fq_walk *w, fq_row_fn fn, void *user)
{
    int nd = w->nd;
    int64_t len = nd ? w->shape[nd - 1] : 1, rows = 1;
    for (int d = 0; d + 1 < nd; d++)
        rows *= w->shape[d];
    if (len == 0)
        return;
    int64_t idx[NNCW_MAX_DIMS] = {0};
    int64_t last[4];
    for (int k = 0; k < 4; k++)
        last[k] = nd ? w->st[k][nd - 1] : 0;
    for (int64_t row = 0; row < rows; row++) {
        const float *r[4];
        for (int k = 0; k < 4; k++) {
            int64_t off = 0;
            for (int d = 0; d + 1 < nd; d++)
                off += idx[d] * w->st[k][d];
            r[k] = w->r[k] + off;
        }
        fn(len, row * len, r, last, user);
        for (int d = nd - 2; d >= 0; d--) { /* odometer over the outer dimensions */
            if (++idx[d] < w->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

struct fq_fwd {
    const float *x;
    float *y;
    float n;
};

static void fq_forward_row(int64_t len, int64_t xoff, const float *const r[4],
                           const int64_t stride[4], void *user)
{
    const struct fq_fwd *f = user;
    const float *x = f->x + xoff;
    float *y = f->y + xoff, n = f->n;
    if (!stride[0] && !stride[1] && !stride[2] && !stride[3]) { /* constant along the row */
        float il = r[0][0], ih = r[1][0], ol = r[2][0], oh = r[3][0];
        for (int64_t i = 0; i < len; i++)
            y[i] = fq_one(x[i], il, ih, ol, oh, n);
        return;
    }
    for (int64_t i = 0; i < len; i++)
        y[i] = fq_one(x[i], r[0][i * stride[0]], r[1][i * stride[1]], r[2][i * stride[2]],
                      r[3][i * stride[3]], n);
}

static enum nncw_status fq_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    (void)ctx, (void)n_in;
    int64_t levels;
    NNCW_TRY(fq_levels(node, &levels));
    struct fq_walk w;
    fq_walk_init(&w, in);
    struct fq_fwd f = {nncw_tensor_f32(in[0]), nncw_tensor_f32(out[0]), (float)(levels - 1)};
    fq_walk_rows(&w, fq_forward_row, &f);
    return NNCW_OK;
}

struct fq_bwd {
    const float *x, *g;
    float *gx;
};

static void fq_backward_row(int64_t len, int64_t xoff, const float *const r[4],
                            const int64_t stride[4], void *user)
{
    const struct fq_bwd *b = user;
    const float *x = b->x + xoff, *g = b->g + xoff;
    float *gx = b->gx + xoff;
    for (int64_t i = 0; i < len; i++) {
        float il = r[0][i * stride[0]], ih = r[1][i * stride[1]];
        float mn = il < ih ? il : ih, mx = il < ih ? ih : il;
        gx[i] += x[i] > mn && x[i] <= mx ? g[i] : 0.0f;
    }
}

static enum nncw_status fq_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)n_in, (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK; /* the ranges get no gradient */
    struct fq_walk w;
    fq_walk_init(&w, in);
    struct fq_bwd b = {nncw_tensor_f32(in[0]), nncw_tensor_f32(grad_out[0]),
                       nncw_tensor_f32(grad_in[0])};
    fq_walk_rows(&w, fq_backward_row, &b);
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_fakequantize = {
    "FakeQuantize", "FakeQuantize", 5, 5, 1, fq_infer, fq_forward, fq_backward,
};
