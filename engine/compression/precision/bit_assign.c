/* Bit widths of quantizer points: what each allows, setting them, and the activation bit widths
 * that follow from the weights' (see precision.h). */
#include "compression/precision/precision.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

static bool is_trial(const struct nncw_quantizer_setup *s)
{
    return strcmp(s->target_device, "TRIAL") == 0;
}

int nncw_precision_allowed_bits(const struct nncw_quantizer_setup *s, int p, int *bits, int max)
{
    bool seen[33] = {false};
    if (is_trial(s))
        for (int b = 2; b <= 8; b++)
            seen[b] = true;
    const struct nncw_quantizer_point *pt = &s->points[p];
    for (int i = 0; i < pt->n_configs; i++)
        if (pt->configs[i].bits >= 1 && pt->configs[i].bits <= 32)
            seen[pt->configs[i].bits] = true;
    int n = 0;
    for (int b = 1; b <= 32; b++)
        if (seen[b] && n < max)
            bits[n++] = b;
    return n;
}

bool nncw_precision_allows_bits(const struct nncw_quantizer_setup *s, int p, int bits)
{
    int list[32];
    int n = nncw_precision_allowed_bits(s, p, list, 32);
    for (int i = 0; i < n; i++)
        if (list[i] == bits)
            return true;
    return false;
}

int nncw_precision_get_bits(const struct nncw_quantizer_setup *s, int p)
{
    const struct nncw_quantizer_point *pt = &s->points[p];
    return pt->configs[pt->chosen].bits;
}

void nncw_precision_format_allowed(const struct nncw_quantizer_setup *s, int p, char *buf,
                                   size_t size)
{
    int list[32];
    int n = nncw_precision_allowed_bits(s, p, list, 32);
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? ", " : "", list[i]);
}

/* the configuration of pt with these bits closest to its current one, or -1 */
static int config_with_bits(const struct nncw_quantizer_point *pt, int bits)
{
    const struct nncw_qconfig *cur = &pt->configs[pt->chosen];
    int best = -1, best_score = -1;
    for (int i = 0; i < pt->n_configs; i++) {
        const struct nncw_qconfig *c = &pt->configs[i];
        if (c->bits != bits)
            continue;
        int score = (c->mode == cur->mode) * 4 + (c->per_channel == cur->per_channel) * 2 +
                    (c->signedness == cur->signedness);
        if (score > best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

/* TRIAL: any bit width; the current configuration with other bits joins the list */
static enum nncw_status add_trial_config(struct nncw_quantizer_point *pt, int bits, int *index)
{
    struct nncw_qconfig *grown =
        nncw_realloc(pt->configs, (size_t)(pt->n_configs + 1) * sizeof *grown);
    if (!grown)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "mixed precision: out of memory");
    pt->configs = grown;
    grown[pt->n_configs] = grown[pt->chosen];
    grown[pt->n_configs].bits = bits;
    *index = pt->n_configs++;
    return NNCW_OK;
}

enum nncw_status nncw_precision_trial_change(struct nncw_quantizer_setup *s, int p, int bits,
                                             int mode, int per_channel, const int *extra_bits,
                                             int n_extra, int *index)
{
    *index = -1;
    if (!is_trial(s) || p < 0 || p >= s->n_points)
        return NNCW_OK;
    struct nncw_quantizer_point *pt = &s->points[p];
    struct nncw_qconfig want = pt->configs[pt->chosen];
    if (bits > 0)
        want.bits = bits;
    if (mode >= 0)
        want.mode = (enum nncw_qmode)mode;
    if (per_channel >= 0)
        want.per_channel = per_channel != 0;
    bool allowed = want.bits >= 2 && want.bits <= 8;
    for (int k = 0; k < n_extra && !allowed; k++)
        allowed = extra_bits[k] == want.bits;
    if (!allowed)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "quantizer '%s': %d bits are not allowed on TRIAL (allowed: 2 to 8 and "
                         "initializer.precision.bits)",
                         pt->id, want.bits);
    /* activations are quantized per tensor by every backend nncw exports to */
    if (want.per_channel && !pt->is_weight)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "quantizer '%s': activation quantizers are per-tensor only", pt->id);
    for (int i = 0; i < pt->n_configs; i++)
        if (nncw_qconfig_equal(&pt->configs[i], &want)) {
            *index = i;
            return NNCW_OK;
        }
    struct nncw_qconfig *grown =
        nncw_realloc(pt->configs, (size_t)(pt->n_configs + 1) * sizeof *grown);
    if (!grown)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "mixed precision: out of memory");
    pt->configs = grown;
    grown[pt->n_configs] = want;
    *index = pt->n_configs++;
    return NNCW_OK;
}

static enum nncw_status set_one(struct nncw_quantizer_setup *s, int p, int bits)
{
    struct nncw_quantizer_point *pt = &s->points[p];
    if (pt->configs[pt->chosen].bits == bits)
        return NNCW_OK;
    int k = config_with_bits(pt, bits);
    if (k < 0 && is_trial(s) && bits >= 2 && bits <= 8)
        NNCW_TRY(add_trial_config(pt, bits, &k));
    if (k < 0) {
        char allowed[128];
        nncw_precision_format_allowed(s, p, allowed, sizeof allowed);
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "quantizer '%s': %d bits are not allowed on %s (allowed: %s)", pt->id,
                         bits, s->target_device, allowed);
    }
    pt->chosen = k;
    /* the CPU overflow fix trains 8-bit weights on 7 bits; other widths use the full grid */
    if (bits != 8)
        pt->half_range = false;
    return NNCW_OK;
}

enum nncw_status nncw_precision_set_bits(struct nncw_quantizer_setup *s, int p, int bits)
{
    if (p < 0 || p >= s->n_points)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "mixed precision: no quantizer %d (there are %d)",
                         p, s->n_points);
    NNCW_TRY(set_one(s, p, bits));
    int group = s->points[p].unified_group; /* one scale, one bit width */
    for (int j = 0; group >= 0 && j < s->n_points; j++)
        if (j != p && s->points[j].unified_group == group)
            NNCW_TRY(set_one(s, j, bits));
    return NNCW_OK;
}

enum nncw_status nncw_precision_apply_bits(struct nncw_quantizer_setup *s, const int *point_bits)
{
    for (int p = 0; p < s->n_points; p++)
        if (point_bits[p] > 0 && point_bits[p] != nncw_precision_get_bits(s, p))
            NNCW_TRY(nncw_precision_set_bits(s, p, point_bits[p]));
    return NNCW_OK;
}

/* the smallest allowed bit width >= want, else the largest allowed */
static int liberal_bits(const struct nncw_quantizer_setup *s, int p, int want)
{
    int list[32];
    int n = nncw_precision_allowed_bits(s, p, list, 32);
    for (int i = 0; i < n; i++)
        if (list[i] >= want)
            return list[i];
    return n ? list[n - 1] : nncw_precision_get_bits(s, p);
}

void nncw_precision_activation_bits(const struct nncw_quantizer_setup *s,
                                    const struct nncw_precision_layers *L, const int *wbits,
                                    bool strict, int *point_bits, bool *consistent)
{
    *consistent = true;
    for (int p = 0; p < s->n_points; p++)
        point_bits[p] = nncw_precision_get_bits(s, p);
    /* per activation point: the largest and smallest weight bits it feeds (0: feeds none) */
    for (int p = 0; p < s->n_points; p++) {
        if (s->points[p].is_weight)
            continue;
        int hi = 0, lo = 1 << 30;
        for (int i = 0; i < L->n; i++)
            for (int a = 0; a < L->layer[i].n_acts; a++)
                if (L->layer[i].acts[a] == p) {
                    hi = wbits[i] > hi ? wbits[i] : hi;
                    lo = wbits[i] < lo ? wbits[i] : lo;
                }
        if (!hi)
            continue;
        if (strict) {
            if (hi != lo || !nncw_precision_allows_bits(s, p, hi))
                *consistent = false;
            point_bits[p] = hi;
        } else {
            point_bits[p] = liberal_bits(s, p, hi);
        }
    }
    /* points of a unified group take the group's largest */
    for (int p = 0; p < s->n_points; p++) {
        int group = s->points[p].unified_group;
        for (int j = 0; group >= 0 && j < s->n_points; j++)
            if (s->points[j].unified_group == group && point_bits[j] > point_bits[p])
                point_bits[p] = point_bits[j];
    }
    for (int i = 0; i < L->n; i++)
        point_bits[L->layer[i].point] = wbits[i];
}

double nncw_precision_bitops_ratio(const struct nncw_precision_layers *L, const int *point_bits)
{
    double int8 = 0, mixed = 0;
    for (int i = 0; i < L->n; i++) {
        const struct nncw_precision_layer *l = &L->layer[i];
        int b = point_bits[l->point];
        for (int a = 0; a < l->n_acts; a++)
            if (point_bits[l->acts[a]] > b)
                b = point_bits[l->acts[a]];
        int8 += (double)l->flops * 8;
        mixed += (double)l->flops * b;
    }
    return mixed > 0 ? int8 / mixed : 1.0;
}
