/* The mixed-precision block of compression.h: reading what HAWQ solved, picking another point,
 * pinning a layer, saving traces, and the bit-FLOPs ratio of the model as it is. */
#include "compression/compression.h"

#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/precision/precision.h"
#include "compression/precision/precision_init.h"
#include "compression/quantization/quant_config.h"
#include "core/alloc.h"

static enum nncw_status solved(const struct nncw_compression *c, struct nncw_hawq_state **out)
{
    struct nncw_hawq_state *h = nncw_compression_get_hawq_state(c);
    if (!h || !h->have_traces || h->chosen < 0 || h->n_points < 1)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                         "compression: no HAWQ result (the config's initializer.precision is not "
                         "hawq, or there was no data to measure traces on)");
    *out = h;
    return NNCW_OK;
}

enum nncw_status nncw_compression_hawq_summary(const struct nncw_compression *c, int *n_layers,
                                               int *n_points, int *chosen, int *iterations)
{
    struct nncw_hawq_state *h = NULL;
    NNCW_TRY(solved(c, &h));
    if (n_layers)
        *n_layers = h->n_layers;
    if (n_points)
        *n_points = h->n_points;
    if (chosen)
        *chosen = h->chosen;
    if (iterations)
        *iterations = h->iterations;
    return NNCW_OK;
}

enum nncw_status nncw_compression_hawq_get_layer(const struct nncw_compression *c, int i,
                                                 struct nncw_hawq_layer *out)
{
    struct nncw_hawq_state *h = NULL;
    NNCW_TRY(solved(c, &h));
    if (i < 0 || i >= h->n_layers)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "HAWQ: no layer %d (there are %d)", i,
                         h->n_layers);
    *out = (struct nncw_hawq_layer){
        .id = h->ids[i],
        .trace = h->traces[i],
        .numel = h->numel[i],
        .bits = h->point_bits[(size_t)h->chosen * (size_t)h->n_layers + (size_t)i],
        .pinned_bits = h->pinned[i]};
    return NNCW_OK;
}

enum nncw_status nncw_compression_hawq_get_point(const struct nncw_compression *c, int k,
                                                 struct nncw_hawq_point *out, int *bits)
{
    struct nncw_hawq_state *h = NULL;
    NNCW_TRY(solved(c, &h));
    if (k < 0 || k >= h->n_points)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "HAWQ: no curve point %d (there are %d)", k,
                         h->n_points);
    *out = (struct nncw_hawq_point){.ratio = h->ratio[k],
                                    .metric = h->metric[k],
                                    .meets_ratio = h->ratio[k] >= h->target_ratio - 1e-9};
    for (int i = 0; bits && i < h->n_layers; i++)
        bits[i] = h->point_bits[(size_t)k * (size_t)h->n_layers + (size_t)i];
    return NNCW_OK;
}

int nncw_compression_hawq_candidates(const struct nncw_compression *c, double *target_ratio,
                                     int *bits)
{
    struct nncw_hawq_state *h = NULL;
    if (solved(c, &h) != NNCW_OK)
        return -1;
    if (target_ratio)
        *target_ratio = h->target_ratio;
    for (int b = 0; bits && b < h->n_bits; b++)
        bits[b] = h->bits[b];
    return h->n_bits;
}

/* rebuilds; a refused rebuild puts the previous pins and pick back and rebuilds with them so the
 * curve matches the model again (the refusal's message is kept) */
static enum nncw_status rebuild_or_undo(struct nncw_compression *c, struct nncw_hawq_state *h,
                                        int layer, int old_pin, int old_forced)
{
    enum nncw_status s = nncw_compression_rebuild(c);
    if (s == NNCW_OK)
        return NNCW_OK;
    char keep[1024];
    strncpy(keep, nncw_last_error(), sizeof keep - 1);
    keep[sizeof keep - 1] = '\0';
    if (layer >= 0)
        h->pinned[layer] = old_pin;
    h->forced = old_forced;
    enum nncw_status r = nncw_compression_rebuild(c);
    (void)r;
    return NNCW_FAIL(s, "%s", keep);
}

enum nncw_status nncw_compression_hawq_choose(struct nncw_compression *c, int k)
{
    struct nncw_hawq_state *h = NULL;
    NNCW_TRY(solved(c, &h));
    if (k < -1 || k >= h->n_points)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "HAWQ: no curve point %d (there are %d)", k,
                         h->n_points);
    int old = h->forced;
    h->forced = k;
    return rebuild_or_undo(c, h, -1, 0, old);
}

enum nncw_status nncw_compression_hawq_pin(struct nncw_compression *c, const char *id, int bits)
{
    struct nncw_hawq_state *h = NULL;
    NNCW_TRY(solved(c, &h));
    int layer = -1;
    for (int i = 0; i < h->n_layers && layer < 0; i++)
        if (strcmp(h->ids[i], id) == 0)
            layer = i;
    if (layer < 0)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "HAWQ: no weight quantizer '%s'", id);
    bool candidate = bits == 0;
    for (int b = 0; b < h->n_bits; b++)
        candidate = candidate || h->bits[b] == bits;
    if (!candidate)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "HAWQ: %d bits for '%s' is not one of the candidate bit widths", bits,
                         id);
    int old_pin = h->pinned[layer], old_forced = h->forced;
    h->pinned[layer] = bits;
    h->forced = -1; /* the curve changes: solve for the ratio again */
    return rebuild_or_undo(c, h, layer, old_pin, old_forced);
}

/* whether a quantization entry of c's config initialises its precision with HAWQ */
static enum nncw_status uses_hawq(const struct nncw_compression *c, bool *yes)
{
    const struct nncw_config *cfg = nncw_compression_get_config(c);
    *yes = false;
    for (int i = 0; cfg && i < cfg->n_compression && !*yes; i++) {
        if (strcmp(cfg->compression[i].algorithm, "quantization") != 0)
            continue;
        struct nncw_quant_config *qc = NULL;
        NNCW_TRY(nncw_quant_config_parse(cfg, i, &qc));
        *yes = qc->init.has_precision && qc->init.precision.type == NNCW_PRECISION_HAWQ;
        nncw_quant_config_free(qc);
    }
    return NNCW_OK;
}

/* what a failed run puts back: the traces as they were */
struct saved_traces {
    bool have;
    int n, iterations;
    double *traces;
};

enum nncw_status nncw_compression_hawq_run(struct nncw_compression *c,
                                           const struct nncw_dataset *data,
                                           nncw_precision_progress_fn progress, void *user)
{
    bool hawq;
    NNCW_TRY(uses_hawq(c, &hawq));
    if (!hawq)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                         "HAWQ: the config's initializer.precision is not hawq (no quantization "
                         "entry asks for it)");
    struct nncw_hawq_state *h = nncw_compression_get_hawq_state(c);
    struct saved_traces old = {.have = h->have_traces, .n = h->n_layers,
                               .iterations = h->iterations};
    if (old.have && old.n > 0) {
        if (!(old.traces = nncw_malloc((size_t)old.n * sizeof *old.traces)))
            return NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ: out of memory");
        memcpy(old.traces, h->traces, (size_t)old.n * sizeof *old.traces);
    }
    int old_forced = h->forced;
    h->have_traces = false; /* the rebuild measures them again */
    h->forced = -1;         /* a new curve: the best point meeting the ratio */
    enum nncw_status s = nncw_compression_rebuild_measuring(c, data, progress, user);
    if (s == NNCW_OK && !h->have_traces)
        s = NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                      "HAWQ: no data to measure the traces on (the compression was created "
                      "without data: pass some)");
    if (s != NNCW_OK) { /* the previous traces and pick, and the model built from them */
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", nncw_last_error());
        if (old.have && h->n_layers == old.n) {
            memcpy(h->traces, old.traces, (size_t)old.n * sizeof *old.traces);
            h->iterations = old.iterations;
            h->have_traces = true;
            h->forced = old_forced;
        }
        enum nncw_status r = nncw_compression_rebuild(c);
        (void)r;
        s = NNCW_FAIL(s, "%s", keep);
    }
    nncw_free(old.traces);
    return s;
}

enum nncw_status nncw_compression_hawq_save_traces(const struct nncw_compression *c,
                                                   const char *path)
{
    struct nncw_hawq_state *h = NULL;
    NNCW_TRY(solved(c, &h));
    return nncw_hawq_traces_save(h, path);
}

enum nncw_status nncw_compression_bitops_ratio(const struct nncw_compression *c, double *ratio)
{
    const struct nncw_compression_algo *q = nncw_compression_find_algo(c, "quantization");
    if (!q)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "compression: there is no quantization");
    const struct nncw_quantizer_setup *s = nncw_quantization_get_setup(q->self);
    struct nncw_precision_layers L;
    NNCW_TRY(nncw_precision_layers_build(nncw_compression_get_graph(c), s, &L));
    int *bits = nncw_malloc((size_t)(s->n_points ? s->n_points : 1) * sizeof *bits);
    if (!bits) {
        nncw_precision_layers_fini(&L);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory");
    }
    for (int p = 0; p < s->n_points; p++)
        bits[p] = nncw_precision_get_bits(s, p);
    *ratio = nncw_precision_bitops_ratio(&L, bits);
    nncw_free(bits);
    nncw_precision_layers_fini(&L);
    return NNCW_OK;
}
