/* HAWQ (HAWQ-v2 as NNCF runs it): layers ordered by Hessian trace, every bit sequence that is
 * non-decreasing along that order, each scored by the perturbation metric
 * sum_i trace_i ||Q_b_i(W_i) - W_i||^2 and by its bit-FLOPs compression ratio; the least metric
 * that meets the requested ratio wins. The whole curve stays for display. */
#include "compression/precision/precision_init.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/precision/hutchinson.h"
#include "compression/precision/precision.h"
#include "core/alloc.h"

#define MAX_CURVE_POINTS 200000

static enum nncw_status nomem(void)
{
    return NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ: out of memory");
}

struct nncw_hawq_state *nncw_hawq_state_new(void)
{
    struct nncw_hawq_state *h = nncw_calloc(1, sizeof *h);
    if (h) {
        h->chosen = -1;
        h->forced = -1;
    }
    return h;
}

static void free_curve(struct nncw_hawq_state *h)
{
    nncw_free(h->ratio);
    nncw_free(h->metric);
    nncw_free(h->point_bits);
    nncw_free(h->perturb);
    h->ratio = h->metric = h->perturb = NULL;
    h->point_bits = NULL;
    h->n_points = 0;
}

static void free_layers(struct nncw_hawq_state *h)
{
    for (int i = 0; i < h->n_layers; i++)
        nncw_free(h->ids[i]);
    nncw_free(h->ids);
    nncw_free(h->traces);
    nncw_free(h->numel);
    nncw_free(h->pinned);
    h->ids = NULL;
    h->traces = NULL;
    h->numel = NULL;
    h->pinned = NULL;
    h->n_layers = 0;
    h->have_traces = false;
}

void nncw_hawq_state_free(struct nncw_hawq_state *h)
{
    if (!h)
        return;
    free_curve(h);
    free_layers(h);
    nncw_free(h);
}

/* the state describes these layers (same ids in the same order): keep its traces and pins */
static bool same_layers(const struct nncw_hawq_state *h, const struct nncw_quantizer_setup *s,
                        const struct nncw_precision_layers *L)
{
    if (h->n_layers != L->n)
        return false;
    for (int i = 0; i < L->n; i++)
        if (strcmp(h->ids[i], s->points[L->layer[i].point].id) != 0)
            return false;
    return true;
}

static enum nncw_status set_layers(struct nncw_hawq_state *h, const struct nncw_quantizer_setup *s,
                                   const struct nncw_precision_layers *L)
{
    if (same_layers(h, s, L))
        return NNCW_OK;
    free_layers(h);
    h->forced = -1;
    int n = L->n ? L->n : 1;
    h->ids = nncw_calloc((size_t)n, sizeof *h->ids);
    h->traces = nncw_calloc((size_t)n, sizeof *h->traces);
    h->numel = nncw_calloc((size_t)n, sizeof *h->numel);
    h->pinned = nncw_calloc((size_t)n, sizeof *h->pinned);
    if (!h->ids || !h->traces || !h->numel || !h->pinned)
        return nomem();
    h->n_layers = L->n;
    for (int i = 0; i < L->n; i++) {
        h->numel[i] = L->layer[i].numel;
        if (!(h->ids[i] = nncw_strdup(s->points[L->layer[i].point].id)))
            return nomem();
    }
    return NNCW_OK;
}

/* ---- the perturbation ||Q_b(W) - W||^2 with the layer's quantizer on min-max ranges ---- */

static int channel_axis(const struct nncw_node *n, int ndim)
{
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_CONVTRANSPOSE:
        return 1;
    case NNCW_OP_GEMM:
        return nncw_node_get_attr_int(n, "transB", 0) ? 0 : 1;
    case NNCW_OP_MATMUL:
        return ndim - 1;
    default:
        return 0;
    }
}

/* squared error of quantizing x[k * stride] (k < count) on a min-max range with b bits */
static double quant_error(const float *x, int64_t count, int64_t stride, int bits, bool asym)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t k = 0; k < count; k++) {
        lo = fminf(lo, x[k * stride]);
        hi = fmaxf(hi, x[k * stride]);
    }
    double low, step, levels;
    if (asym) { /* NNCF's asymmetric grid keeps zero exactly representable */
        low = fmin(lo, 0);
        levels = ldexp(1, bits) - 1;
        step = (fmax(hi, 0) - low) / levels;
    } else { /* signed symmetric: [-2^(b-1), 2^(b-1)-1] steps of scale / (2^(b-1)-1) */
        double scale = fmax(fabs(lo), fabs(hi));
        levels = ldexp(1, bits - 1) - 1;
        step = scale / levels;
        low = -(levels + 1) * step;
        levels = ldexp(1, bits) - 1;
    }
    if (!(step > 0))
        return 0;
    double err = 0;
    for (int64_t k = 0; k < count; k++) {
        double v = x[k * stride], q = round((v - low) / step);
        q = q < 0 ? 0 : q > levels ? levels : q;
        double d = q * step + low - v;
        err += d * d;
    }
    return err;
}

static double perturbation(const struct nncw_graph *g, const struct nncw_quantizer_point *pt,
                           int bits)
{
    const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, pt->value_id);
    const struct nncw_qconfig *c = &pt->configs[pt->chosen];
    bool asym = c->mode == NNCW_QMODE_ASYMMETRIC;
    const float *x = nncw_tensor_f32(w);
    int64_t numel = nncw_tensor_numel(w);
    if (!c->per_channel || w->ndim < 1)
        return quant_error(x, numel, 1, bits, asym);
    int axis = channel_axis(nncw_graph_get_node(g, pt->node), w->ndim);
    int64_t outer = 1, inner = 1, ch = w->shape[axis];
    for (int d = 0; d < axis; d++)
        outer *= w->shape[d];
    for (int d = axis + 1; d < w->ndim; d++)
        inner *= w->shape[d];
    double err = 0;
    float *tmp = nncw_malloc((size_t)(outer * inner > 0 ? outer * inner : 1) * sizeof *tmp);
    if (!tmp)
        return quant_error(x, numel, 1, bits, asym); /* per-tensor as a fallback */
    for (int64_t c2 = 0; c2 < ch; c2++) {
        for (int64_t o = 0; o < outer; o++)
            memcpy(tmp + o * inner, x + (o * ch + c2) * inner, (size_t)inner * sizeof *tmp);
        err += quant_error(tmp, outer * inner, 1, bits, asym);
    }
    nncw_free(tmp);
    return err;
}

static enum nncw_status measure_perturbations(struct nncw_hawq_state *h,
                                              const struct nncw_graph *g,
                                              const struct nncw_quantizer_setup *s,
                                              const struct nncw_precision_layers *L)
{
    nncw_free(h->perturb);
    h->perturb = nncw_calloc((size_t)(L->n * h->n_bits > 0 ? L->n * h->n_bits : 1), sizeof(double));
    if (!h->perturb)
        return nomem();
    for (int i = 0; i < L->n; i++)
        for (int b = 0; b < h->n_bits; b++)
            h->perturb[i * h->n_bits + b] =
                perturbation(g, &s->points[L->layer[i].point], h->bits[b]);
    return NNCW_OK;
}

/* ---- the curve ---- */

struct solver {
    struct nncw_hawq_state *h;
    const struct nncw_quantizer_setup *s;
    const struct nncw_precision_layers *L;
    bool strict;
    int n_free;
    int *order;     /* free layers by ascending trace */
    int *bit_index; /* per layer: index into h->bits */
    int *wbits, *point_bits;
    int cap;
};

/* order[n] by ascending trace, ties by index (an insertion sort: a few hundred layers at most,
 * and no file-scope state for qsort's comparator, so two searches may run at once) */
static void sort_by_trace(int *order, int n, const double *traces)
{
    for (int i = 1; i < n; i++) {
        int x = order[i], j = i;
        for (; j > 0 && (traces[order[j - 1]] > traces[x] ||
                         (traces[order[j - 1]] == traces[x] && order[j - 1] > x));
             j--)
            order[j] = order[j - 1];
        order[j] = x;
    }
}

static int bits_index(const struct nncw_hawq_state *h, int bits)
{
    for (int b = 0; b < h->n_bits; b++)
        if (h->bits[b] == bits)
            return b;
    return -1;
}

static enum nncw_status add_point(struct solver *v)
{
    struct nncw_hawq_state *h = v->h;
    for (int i = 0; i < v->L->n; i++) {
        v->wbits[i] = h->bits[v->bit_index[i]];
        if (!nncw_precision_allows_bits(v->s, v->L->layer[i].point, v->wbits[i]))
            return NNCW_OK; /* the device does not offer it: not a candidate */
    }
    bool ok;
    nncw_precision_activation_bits(v->s, v->L, v->wbits, v->strict, v->point_bits, &ok);
    if (!ok)
        return NNCW_OK;
    if (h->n_points == MAX_CURVE_POINTS)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "HAWQ: more than %d bit configurations; use fewer candidate bits",
                         MAX_CURVE_POINTS);
    if (h->n_points == v->cap) {
        int cap = v->cap ? 2 * v->cap : 64;
        double *r = nncw_realloc(h->ratio, (size_t)cap * sizeof *r);
        if (r)
            h->ratio = r;
        double *m = nncw_realloc(h->metric, (size_t)cap * sizeof *m);
        if (m)
            h->metric = m;
        unsigned char *pb =
            nncw_realloc(h->point_bits, (size_t)cap * (size_t)(v->L->n ? v->L->n : 1));
        if (pb)
            h->point_bits = pb;
        if (!r || !m || !pb)
            return nomem();
        v->cap = cap;
    }
    double metric = 0;
    for (int i = 0; i < v->L->n; i++) {
        metric += h->traces[i] * h->perturb[i * h->n_bits + v->bit_index[i]];
        h->point_bits[(size_t)h->n_points * (size_t)v->L->n + (size_t)i] =
            (unsigned char)v->wbits[i];
    }
    h->ratio[h->n_points] = nncw_precision_bitops_ratio(v->L, v->point_bits);
    h->metric[h->n_points] = metric;
    h->n_points++;
    return NNCW_OK;
}

/* every non-decreasing assignment of bit indices from lowest along the free layers' order */
static enum nncw_status enumerate(struct solver *v, int pos, int min_bit)
{
    if (pos == v->n_free)
        return add_point(v);
    for (int b = min_bit; b < v->h->n_bits; b++) {
        v->bit_index[v->order[pos]] = b;
        NNCW_TRY(enumerate(v, pos + 1, b));
    }
    return NNCW_OK;
}

static enum nncw_status build_curve(struct nncw_hawq_state *h, const struct nncw_quantizer_setup *s,
                                    const struct nncw_precision_layers *L, bool strict)
{
    nncw_free(h->ratio);
    nncw_free(h->metric);
    nncw_free(h->point_bits);
    h->ratio = h->metric = NULL;
    h->point_bits = NULL;
    h->n_points = 0;
    int n = L->n ? L->n : 1;
    struct solver v = {.h = h, .s = s, .L = L, .strict = strict};
    v.order = nncw_malloc((size_t)n * sizeof *v.order);
    v.bit_index = nncw_malloc((size_t)n * sizeof *v.bit_index);
    v.wbits = nncw_malloc((size_t)n * sizeof *v.wbits);
    v.point_bits = nncw_malloc((size_t)(s->n_points ? s->n_points : 1) * sizeof *v.point_bits);
    enum nncw_status st = v.order && v.bit_index && v.wbits && v.point_bits ? NNCW_OK : nomem();
    for (int i = 0; i < L->n && st == NNCW_OK; i++) {
        if (h->pinned[i]) {
            v.bit_index[i] = bits_index(h, h->pinned[i]);
            if (v.bit_index[i] < 0)
                st = NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                               "HAWQ: '%s' is pinned to %d bits, which is not a candidate",
                               h->ids[i], h->pinned[i]);
        } else {
            v.order[v.n_free++] = i;
        }
    }
    if (st == NNCW_OK) {
        sort_by_trace(v.order, v.n_free, h->traces);
        st = enumerate(&v, 0, 0);
    }
    nncw_free(v.order);
    nncw_free(v.bit_index);
    nncw_free(v.wbits);
    nncw_free(v.point_bits);
    return st;
}

/* the least metric among points meeting the ratio (ties: the higher ratio), or -1 */
static int best_point(const struct nncw_hawq_state *h)
{
    int best = -1;
    for (int k = 0; k < h->n_points; k++) {
        if (h->ratio[k] < h->target_ratio - 1e-9)
            continue;
        if (best < 0 || h->metric[k] < h->metric[best] ||
            (h->metric[k] == h->metric[best] && h->ratio[k] > h->ratio[best]))
            best = k;
    }
    return best;
}

static enum nncw_status refuse_ratio(const struct nncw_hawq_state *h,
                                     const struct nncw_quant_config *qc)
{
    double top = 0;
    for (int k = 0; k < h->n_points; k++)
        top = fmax(top, h->ratio[k]);
    return NNCW_FAIL(NNCW_ERR_PARSE,
                     "config '%s': %s.initializer.precision.compression_ratio: %g is not "
                     "achievable with bits and pins as they are (at most %.4g over %d "
                     "configurations)",
                     qc->source ? qc->source : "<string>", qc->path ? qc->path : "compression[?]",
                     h->target_ratio, top, h->n_points);
}

static enum nncw_status apply_point(struct nncw_hawq_state *h, struct nncw_quantizer_setup *s,
                                    const struct nncw_precision_layers *L, bool strict)
{
    int n = L->n ? L->n : 1;
    int *wbits = nncw_malloc((size_t)n * sizeof *wbits);
    int *pbits = nncw_malloc((size_t)(s->n_points ? s->n_points : 1) * sizeof *pbits);
    enum nncw_status st = wbits && pbits ? NNCW_OK : nomem();
    if (st == NNCW_OK) {
        for (int i = 0; i < L->n; i++)
            wbits[i] = h->point_bits[(size_t)h->chosen * (size_t)L->n + (size_t)i];
        bool ok;
        nncw_precision_activation_bits(s, L, wbits, strict, pbits, &ok);
        st = nncw_precision_apply_bits(s, pbits);
    }
    nncw_free(wbits);
    nncw_free(pbits);
    return st;
}

static enum nncw_status get_traces(struct nncw_hawq_state *h, struct nncw_graph *g,
                                   const struct nncw_quant_config *qc,
                                   const struct nncw_quantizer_setup *s,
                                   const struct nncw_precision_layers *L,
                                   const struct nncw_compression_init *init)
{
    const struct nncw_precision_init *pi = &qc->init.precision;
    if (h->have_traces)
        return NNCW_OK;
    if (pi->traces_per_layer_path) {
        NNCW_TRY(nncw_hawq_traces_load(h, pi->traces_per_layer_path));
        h->have_traces = true;
        return NNCW_OK;
    }
    if (!init || !init->data)
        return NNCW_OK;
    int *params = nncw_malloc((size_t)(L->n ? L->n : 1) * sizeof *params);
    if (!params)
        return nomem();
    for (int i = 0; i < L->n; i++)
        params[i] = s->points[L->layer[i].point].value_id;
    struct nncw_hutchinson_options o = {.iter_number = pi->iter_number,
                                        .tolerance = pi->tolerance,
                                        .seed = init->seed,
                                        .progress = init->precision_progress,
                                        .user = init->precision_user};
    enum nncw_status st =
        L->n ? nncw_hutchinson_traces_ce(g, init->data, pi->num_data_points,
                                         init->batch_size > 0 ? init->batch_size : 64, L->n,
                                         params, &o, h->traces, &h->iterations)
             : NNCW_OK;
    nncw_free(params);
    if (st == NNCW_OK)
        h->have_traces = true;
    return st;
}

static void set_candidates(struct nncw_hawq_state *h, const struct nncw_precision_init *pi)
{
    h->n_bits = 0;
    for (int b = 1; b <= 32; b++)
        for (int k = 0; k < pi->n_bits; k++)
            if (pi->bits[k] == b) {
                h->bits[h->n_bits++] = b;
                break;
            }
    h->target_ratio = pi->compression_ratio;
}

static enum nncw_status run_hawq(struct nncw_hawq_state *h, struct nncw_graph *g,
                                 const struct nncw_quant_config *qc,
                                 struct nncw_quantizer_setup *s,
                                 const struct nncw_compression_init *init)
{
    const struct nncw_precision_init *pi = &qc->init.precision;
    struct nncw_precision_layers L;
    NNCW_TRY(nncw_precision_layers_build(g, s, &L));
    enum nncw_status st = set_layers(h, s, &L);
    if (st == NNCW_OK)
        st = get_traces(h, g, qc, s, &L, init);
    if (st != NNCW_OK || !h->have_traces) { /* placement only: defaults stand */
        nncw_precision_layers_fini(&L);
        return st;
    }
    set_candidates(h, pi);
    st = measure_perturbations(h, g, s, &L);
    if (st == NNCW_OK)
        st = build_curve(h, s, &L, pi->strict_assignment);
    if (st == NNCW_OK) {
        h->chosen = h->forced >= 0 && h->forced < h->n_points ? h->forced : best_point(h);
        if (h->chosen < 0)
            st = refuse_ratio(h, qc);
    }
    if (st == NNCW_OK)
        st = apply_point(h, s, &L, pi->strict_assignment);
    nncw_precision_layers_fini(&L);
    return st;
}

enum nncw_status nncw_precision_init_run(struct nncw_graph *g, const struct nncw_quant_config *qc,
                                         struct nncw_quantizer_setup *s,
                                         const struct nncw_compression_init *init,
                                         struct nncw_hawq_state *hawq)
{
    if (!qc->init.has_precision)
        return NNCW_OK;
    switch (qc->init.precision.type) {
    case NNCW_PRECISION_MANUAL:
        return nncw_precision_apply_manual(qc, s);
    case NNCW_PRECISION_HAWQ: {
        if (hawq)
            return run_hawq(hawq, g, qc, s, init);
        struct nncw_hawq_state *own = nncw_hawq_state_new();
        if (!own)
            return nomem();
        enum nncw_status st = run_hawq(own, g, qc, s, init);
        nncw_hawq_state_free(own);
        return st;
    }
    default: /* AutoQ chooses its bits elsewhere */
        return NNCW_OK;
    }
}
