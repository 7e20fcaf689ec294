/*
** AutoQ on a quantized model (nncw_autoq_new_for_compression): one step per quantizer of the
** compression, NNCF's state features read from the layer each quantizer serves, and an
** evaluation that sets every quantizer's levels for the policy's bit widths (the ranges stay as
** initialised, as NNCF's AutoQ changes only num_bits) and measures top-1 accuracy on a subset.
**
** Features: a weight quantizer describes the Conv / Gemm / MatMul reading it (conv_dw for a
** depthwise conv, cin, cout, stride, kernel, param = weight elements, ifm_size = H x W of the
** layer's input, or its feature count); an activation quantizer has cin = cout = its channels
** and ifm_size = H x W (others 0), as NNCF fills them.
*/
#include "compression/autoq/autoq_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/precision/precision.h"
#include "compression/quantization/insert.h"
#include "core/alloc.h"
#include "graph/graph.h"
#include "train/trainer.h"

struct saved_levels {
    int64_t low, high, half_range;
};

struct nncw_autoq_target {
    struct nncw_graph *g;
    struct nncw_compression *c;
    struct nncw_dataset *subset; /* owned */
    int batch;
    int n;
    struct nncw_quantizer_info *info; /* ids borrowed from c until a rebuild */
    char **ids;                       /* owned copies */
    struct saved_levels *orig;
    bool rebuilt;  /* apply rebuilt the graph: nodes and levels are c's now */
    bool detached; /* the model is gone */
};

void nncw_autoq_target_detach(struct nncw_autoq_target *t)
{
    t->detached = true;
}

void nncw_autoq_target_free(struct nncw_autoq_target *t)
{
    if (!t)
        return;
    for (int i = 0; !t->rebuilt && !t->detached && t->orig && i < t->n; i++) {
        struct nncw_node *n = nncw_graph_get_node(t->g, t->info[i].node);
        nncw_node_set_attr_int(n, "level_low", t->orig[i].low);
        nncw_node_set_attr_int(n, "level_high", t->orig[i].high);
        nncw_node_set_attr_int(n, "half_range", t->orig[i].half_range);
    }
    for (int i = 0; t->ids && i < t->n; i++)
        nncw_free(t->ids[i]);
    nncw_free(t->ids);
    nncw_free(t->info);
    nncw_free(t->orig);
    nncw_dataset_free(t->subset);
    nncw_free(t);
}

const char *nncw_autoq_target_step_name(const struct nncw_autoq_target *t, int i)
{
    return t->ids[i];
}

/* ---- evaluation ---- */

static enum nncw_status set_bits(struct nncw_autoq_target *t, int i, int bits)
{
    const struct nncw_quantizer_info *q = &t->info[i];
    struct nncw_node *n = nncw_graph_get_node(t->g, q->node);
    int64_t lo = t->orig[i].low, hi = t->orig[i].high, half = t->orig[i].half_range;
    if (bits != q->bits) { /* the saturation fix's 7-bit grid is for 8-bit weights only */
        half = 0;
        nncw_quantizer_levels_for(bits, q->asymmetric, q->is_signed, false, &lo, &hi);
    }
    NNCW_TRY(nncw_node_set_attr_int(n, "level_low", lo));
    NNCW_TRY(nncw_node_set_attr_int(n, "level_high", hi));
    return nncw_node_set_attr_int(n, "half_range", half);
}

static enum nncw_status evaluate(void *user, const int *bits, double *accuracy)
{
    struct nncw_autoq_target *t = user;
    if (t->detached)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "autoq: the model of this search was closed");
    if (t->rebuilt)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "autoq: a policy was applied (the graph was rebuilt); start a new search");
    for (int i = 0; i < t->n; i++)
        NNCW_TRY(set_bits(t, i, bits[i]));
    float acc, loss;
    NNCW_TRY(nncw_evaluate(t->g, t->subset, t->batch, &acc, &loss));
    *accuracy = 100.0 * acc;
    return NNCW_OK;
}

/* ---- features ---- */

/* the first node reading value v (the layer a weight quantizer serves), or NULL */
static const struct nncw_node *first_reader(const struct nncw_graph *g, int v, int *port)
{
    for (int k = 0; k < nncw_graph_count_nodes(g); k++) {
        const struct nncw_node *m = nncw_graph_get_node(g, k);
        for (int i = 0; i < nncw_node_count_inputs(m); i++)
            if (nncw_node_get_input(m, i) == v) {
                *port = i;
                return m;
            }
    }
    return NULL;
}

static int64_t spatial(const struct nncw_tensor *x)
{
    int64_t s = 1;
    for (int d = 2; d < x->ndim; d++)
        s *= x->shape[d];
    return x->ndim > 2 ? s : (x->ndim == 2 ? x->shape[1] : 1);
}

static void weight_features(const struct nncw_graph *g, const struct nncw_node *q, float *f)
{
    const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, nncw_node_get_input(q, 0));
    int port;
    const struct nncw_node *layer = first_reader(g, nncw_node_get_output(q, 0), &port);
    f[NNCW_AUTOQ_F_PARAM] = (float)nncw_tensor_numel(w);
    f[NNCW_AUTOQ_F_COUT] = (float)(w->ndim > 0 ? w->shape[0] : 1);
    f[NNCW_AUTOQ_F_CIN] = (float)(w->ndim > 1 ? w->shape[1] : 1);
    if (!layer)
        return;
    const struct nncw_tensor *x = nncw_graph_get_value_tensor(g, nncw_node_get_input(layer, 0));
    f[NNCW_AUTOQ_F_IFM_SIZE] = (float)spatial(x);
    if (nncw_node_get_op(layer) == NNCW_OP_CONV) {
        int64_t group = nncw_node_get_attr_int(layer, "group", 1);
        const int64_t *v;
        f[NNCW_AUTOQ_F_CIN] *= (float)group;
        f[NNCW_AUTOQ_F_CONV_DW] = group > 1 && group == (int64_t)f[NNCW_AUTOQ_F_CIN];
        f[NNCW_AUTOQ_F_STRIDE] =
            nncw_node_get_attr_ints(layer, "strides", &v) > 0 ? (float)v[0] : 1;
        f[NNCW_AUTOQ_F_KERNEL] = w->ndim > 2 ? (float)w->shape[2] : 1;
    } else if (nncw_node_get_op(layer) == NNCW_OP_GEMM &&
               !nncw_node_get_attr_int(layer, "transB", 0)) {
        f[NNCW_AUTOQ_F_CIN] = (float)w->shape[0];
        f[NNCW_AUTOQ_F_COUT] = (float)(w->ndim > 1 ? w->shape[1] : 1);
    }
}

static void activation_features(const struct nncw_graph *g, const struct nncw_node *q, float *f)
{
    const struct nncw_tensor *x = nncw_graph_get_value_tensor(g, nncw_node_get_input(q, 0));
    float c = (float)(x->ndim > 1 ? x->shape[1] : 1);
    f[NNCW_AUTOQ_F_CIN] = f[NNCW_AUTOQ_F_COUT] = c;
    f[NNCW_AUTOQ_F_IFM_SIZE] = (float)spatial(x);
}

static bool is_trial(const struct nncw_quantizer_setup *setup)
{
    return strcmp(setup->target_device, "TRIAL") == 0;
}

/* the bit widths point pt offers in mode with its current granularity, as a mask */
static unsigned mode_bits(const struct nncw_quantizer_point *pt, int mode)
{
    bool per_channel = pt->configs[pt->chosen].per_channel;
    unsigned m = 0;
    for (int k = 0; k < pt->n_configs; k++) {
        const struct nncw_qconfig *q = &pt->configs[k];
        if ((int)q->mode == mode && q->per_channel == per_channel && q->bits >= 1 && q->bits < 32)
            m |= 1u << q->bits;
    }
    return m;
}

/* the bit widths quantizer id may take without changing its mode or granularity (TRIAL: any
 * from the mixed-precision plumbing's list), as a mask: what a policy can set by levels alone,
 * and so what applying it rebuilds as the search measured it */
static enum nncw_status allowed_bits(const struct nncw_quantizer_setup *setup, const char *id,
                                     unsigned *mask)
{
    for (int p = 0; p < setup->n_points; p++) {
        const struct nncw_quantizer_point *pt = &setup->points[p];
        if (strcmp(pt->id, id))
            continue;
        if (!is_trial(setup)) {
            *mask = mode_bits(pt, pt->configs[pt->chosen].mode);
            return NNCW_OK;
        }
        int bits[32];
        int n = nncw_precision_allowed_bits(setup, p, bits, 32);
        *mask = 0;
        for (int k = 0; k < n; k++)
            *mask |= bits[k] >= 1 && bits[k] < 32 ? 1u << bits[k] : 0;
        return NNCW_OK;
    }
    return NNCW_FAIL(NNCW_ERR_INTERNAL, "autoq: quantizer '%s' is not in the quantizer setup", id);
}

static int popcount(unsigned m)
{
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

/* "{re}^(a|b)$" of the ids with take[i], ERE metacharacters escaped; NULL when out of memory */
static char *pattern_of(int n, const char *const *ids, const bool *take)
{
    size_t need = 16;
    for (int i = 0; i < n; i++)
        need += 2 * strlen(ids[i]) + 1;
    char *p = nncw_malloc(need), *w = p;
    if (!p)
        return NULL;
    strcpy(w, "{re}^(");
    w += strlen(w);
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (!take[i])
            continue;
        if (!first)
            *w++ = '|';
        first = false;
        for (const char *s = ids[i]; *s; s++) {
            if (strchr(".[]{}()\\*+?^$|", *s))
                *w++ = '\\';
            *w++ = *s;
        }
    }
    strcpy(w, ")$");
    return p;
}

/* Before the search: a quantizer whose hardware config offers some candidate bit widths only in
 * another mode (VPU: 8-bit activations may be asymmetric, 4-bit ones are symmetric only) moves
 * to the mode that offers the most of them at its current bits. The search sets levels only, so
 * every policy it scores is then one that applying rebuilds identically (same mode, same
 * ranges). One rebuild per mode that changes. */
static enum nncw_status align_modes(struct nncw_compression *c, const struct nncw_autoq_options *o)
{
    const struct nncw_compression_algo *qa = nncw_compression_find_algo(c, "quantization");
    const struct nncw_quantizer_setup *setup = qa ? nncw_quantization_get_setup(qa->self) : NULL;
    int n = nncw_compression_count_quantizers(c);
    if (!setup || is_trial(setup) || n < 1)
        return NNCW_OK;
    unsigned cand = 0;
    for (int k = 0; k < o->n_bits; k++)
        cand |= o->bits[k] >= 1 && o->bits[k] < 32 ? 1u << o->bits[k] : 0;
    const char **ids = nncw_calloc((size_t)n, sizeof *ids);
    int *want = nncw_calloc((size_t)n, sizeof *want);
    bool *take = nncw_calloc((size_t)n, sizeof *take);
    char *patterns[NNCW_QMODE_COUNT] = {NULL};
    enum nncw_status s = ids && want && take ? NNCW_OK
                                             : NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    for (int i = 0; i < n && s == NNCW_OK; i++) {
        struct nncw_quantizer_info qi;
        want[i] = -1;
        if ((s = nncw_compression_get_quantizer(c, i, &qi)) != NNCW_OK)
            break;
        ids[i] = qi.id;
        for (int p = 0; p < setup->n_points; p++) {
            const struct nncw_quantizer_point *pt = &setup->points[p];
            if (strcmp(pt->id, qi.id))
                continue;
            int cur = (int)pt->configs[pt->chosen].mode;
            int best = cur, most = popcount(mode_bits(pt, cur) & cand);
            for (int m = 0; m < NNCW_QMODE_COUNT; m++) {
                unsigned mb = mode_bits(pt, m);
                if (m != cur && (mb & (1u << qi.bits)) && popcount(mb & cand) > most) {
                    best = m;
                    most = popcount(mb & cand);
                }
            }
            want[i] = best != cur ? best : -1;
            break;
        }
    }
    for (int m = 0; m < NNCW_QMODE_COUNT && s == NNCW_OK; m++) {
        bool any = false;
        for (int i = 0; i < n; i++)
            any |= take[i] = want[i] == m;
        if (any && !(patterns[m] = pattern_of(n, ids, take)))
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    }
    /* the ids are the compression's: every pattern is made before the first rebuild */
    for (int m = 0; m < NNCW_QMODE_COUNT && s == NNCW_OK; m++) {
        struct nncw_quantizer_change ch = {.bits = 0, .mode = m, .per_channel = -1};
        if (patterns[m])
            s = nncw_compression_set_quantizers(c, patterns[m], &ch);
    }
    for (int m = 0; m < NNCW_QMODE_COUNT; m++)
        nncw_free(patterns[m]);
    nncw_free(ids);
    nncw_free(want);
    nncw_free(take);
    return s;
}

static enum nncw_status build_steps(struct nncw_autoq_target *t, const struct nncw_autoq_options *o,
                                    struct nncw_autoq_step *steps)
{
    unsigned cand = 0;
    for (int k = 0; k < o->n_bits; k++)
        cand |= o->bits[k] >= 1 && o->bits[k] < 32 ? 1u << o->bits[k] : 0;
    const struct nncw_compression_algo *qa = nncw_compression_find_algo(t->c, "quantization");
    const struct nncw_quantizer_setup *setup = qa ? nncw_quantization_get_setup(qa->self) : NULL;
    for (int i = 0; i < t->n; i++) {
        const struct nncw_quantizer_info *q = &t->info[i];
        const struct nncw_node *n = nncw_graph_get_node(t->g, q->node);
        struct nncw_autoq_step *s = &steps[i];
        memset(s, 0, sizeof *s);
        s->features[NNCW_AUTOQ_F_INDEX] = (float)i;
        s->features[NNCW_AUTOQ_F_IS_WEIGHT] = q->is_weight;
        s->group = q->unified_group >= 0 ? q->unified_group + 1 : 0;
        if (q->is_weight) {
            weight_features(t->g, n, s->features);
            s->weight_numel =
                nncw_tensor_numel(nncw_graph_get_value_tensor(t->g, nncw_node_get_input(n, 0)));
        } else {
            activation_features(t->g, n, s->features);
        }
        unsigned hw = ~0u;
        if (setup)
            NNCW_TRY(allowed_bits(setup, q->id, &hw));
        s->allowed = cand & hw;
        if (!s->allowed)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "autoq: quantizer '%s' allows none of the candidate bit widths "
                             "(initializer.precision.bits)",
                             q->id);
        t->orig[i] = (struct saved_levels){nncw_node_get_attr_int(n, "level_low", 0),
                                           nncw_node_get_attr_int(n, "level_high", 0),
                                           nncw_node_get_attr_int(n, "half_range", 0)};
    }
    return NNCW_OK;
}

static enum nncw_status target_new(struct nncw_graph *g, struct nncw_compression *c,
                                   const struct nncw_dataset *eval, double ratio, int batch,
                                   struct nncw_autoq_target **out)
{
    int n = nncw_compression_count_quantizers(c);
    if (n < 1)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                         "autoq: the compression has no quantizers (AutoQ needs quantization)");
    if (!(ratio > 0 && ratio <= 1))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "autoq: eval_subset_ratio %g is outside (0, 1]",
                         ratio);
    struct nncw_autoq_target *t = nncw_calloc(1, sizeof *t);
    if (!t)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    t->g = g;
    t->c = c;
    t->n = n;
    t->batch = batch > 0 ? batch : 64;
    enum nncw_status s = NNCW_OK;
    if (!(t->info = nncw_calloc((size_t)n, sizeof *t->info)) ||
        !(t->ids = nncw_calloc((size_t)n, sizeof *t->ids)) ||
        !(t->orig = nncw_calloc((size_t)n, sizeof *t->orig)))
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    for (int i = 0; i < n && s == NNCW_OK; i++) {
        s = nncw_compression_get_quantizer(c, i, &t->info[i]);
        if (s == NNCW_OK && !(t->ids[i] = nncw_strdup(t->info[i].id)))
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    }
    int64_t count = nncw_dataset_count_samples(eval);
    if (s == NNCW_OK)
        s = nncw_dataset_subset(eval, 0, nncw_autoq_subset_count(count, ratio), &t->subset);
    if (s == NNCW_OK)
        s = nncw_graph_infer_shapes(g, 1); /* the features read value shapes */
    if (s != NNCW_OK) {
        nncw_free(t->orig); /* nothing to put back yet */
        t->orig = NULL;
        nncw_autoq_target_free(t);
        return s;
    }
    *out = t;
    return NNCW_OK;
}

enum nncw_status nncw_autoq_new_for_compression(struct nncw_graph *g, struct nncw_compression *c,
                                                const struct nncw_dataset *eval,
                                                double eval_subset_ratio, int batch,
                                                const struct nncw_autoq_options *o,
                                                struct nncw_autoq **out)
{
    struct nncw_autoq_target *t = NULL;
    NNCW_TRY(align_modes(c, o));
    NNCW_TRY(target_new(g, c, eval, eval_subset_ratio, batch, &t));
    struct nncw_autoq_step *steps = nncw_calloc((size_t)t->n, sizeof *steps);
    enum nncw_status s =
        steps ? build_steps(t, o, steps) : NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
    struct nncw_autoq *q = NULL;
    if (s == NNCW_OK)
        s = nncw_autoq_new(t->n, steps, o, evaluate, t, &q);
    nncw_free(steps);
    if (s != NNCW_OK) {
        nncw_autoq_target_free(t);
        return s;
    }
    nncw_autoq_set_target(q, t);
    *out = q;
    return NNCW_OK;
}

/* ---- applying a policy ---- */

/* the ids of the steps with want bits */
static char *ids_pattern(struct nncw_autoq_target *t, const int *bits, int want)
{
    bool *take = nncw_calloc((size_t)t->n, sizeof *take);
    if (!take)
        return NULL;
    for (int i = 0; i < t->n; i++)
        take[i] = bits[i] == want;
    char *p = pattern_of(t->n, (const char *const *)t->ids, take);
    nncw_free(take);
    return p;
}

enum nncw_status nncw_autoq_target_apply(struct nncw_autoq_target *t, const int *bits)
{
    if (t->detached)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "autoq: the model of this search was closed");
    /* put the initialised levels back first: the rebuilds below start from the float model */
    for (int i = 0; !t->rebuilt && i < t->n; i++) {
        struct nncw_node *n = nncw_graph_get_node(t->g, t->info[i].node);
        NNCW_TRY(nncw_node_set_attr_int(n, "level_low", t->orig[i].low));
        NNCW_TRY(nncw_node_set_attr_int(n, "level_high", t->orig[i].high));
        NNCW_TRY(nncw_node_set_attr_int(n, "half_range", t->orig[i].half_range));
    }
    /* one rebuild per distinct bit width that differs from the model's */
    for (int i = 0; i < t->n; i++) {
        if (bits[i] == t->info[i].bits)
            continue;
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = bits[k] == bits[i] && bits[k] != t->info[k].bits;
        if (seen)
            continue;
        char *pattern = ids_pattern(t, bits, bits[i]);
        if (!pattern)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory");
        /* the mode as it is, else the one the hardware config offers these bits in (VPU:
         * 4-bit activations are symmetric only) */
        static const int modes[] = {-1, NNCW_QMODE_SYMMETRIC, NNCW_QMODE_ASYMMETRIC};
        enum nncw_status s = NNCW_OK;
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            struct nncw_quantizer_change ch = {
                .bits = bits[i], .mode = modes[m], .per_channel = -1};
            if ((s = nncw_compression_set_quantizers(t->c, pattern, &ch)) != NNCW_ERR_INVALID_ARG)
                break;
        }
        nncw_free(pattern);
        NNCW_TRY(s);
        t->rebuilt = true;
    }
    return NNCW_OK;
}
