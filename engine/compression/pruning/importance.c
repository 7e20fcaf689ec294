/*
** Filter importance and the kept counts for a pruning level (fact sheet 5.4).
**
** Criteria per output filter F_i of a conv weight [n, k]: L1 = sum |F_i|, L2 = ||F_i||_2,
** geometric median = sum_j ||F_i - F_j||_2 (filters close to all the others are the most
** replaceable). A group's importance of filter i is the sum over its convs. Uniform ranking
** keeps, in every group, ceil(C * (1 - level) / 8) * 8 filters (at least 8, at most C) with
** the highest importance; all_weights pools the importances of L2-normalised weights of every
** group, prunes the floor(N * level) least important filters overall, and rounds each group's
** remaining count up the same way. Ties keep the lower filter index.
**
** A FLOPs target is met by bisection on the filter level: the smallest level whose pruned
** model needs at most (1 - target) of the full model's FLOPs (NNCF's uniform search; NNCF's
** global one-by-one variant is not reproduced).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compression/pruning/pruning_internal.h"
#include "core/alloc.h"

void nncw_filter_importance(enum nncw_filter_importance crit, const float *w, int64_t n, int64_t k,
                            float *out)
{
    for (int64_t i = 0; i < n; i++) {
        const float *f = w + i * k;
        double acc = 0;
        if (crit == NNCW_FILTER_IMPORTANCE_GEOMETRIC_MEDIAN) {
            for (int64_t j = 0; j < n; j++) {
                const float *h = w + j * k;
                double d = 0;
                for (int64_t e = 0; e < k; e++)
                    d += ((double)f[e] - h[e]) * ((double)f[e] - h[e]);
                acc += sqrt(d);
            }
        } else if (crit == NNCW_FILTER_IMPORTANCE_L1) {
            for (int64_t e = 0; e < k; e++)
                acc += fabs((double)f[e]);
        } else {
            for (int64_t e = 0; e < k; e++)
                acc += (double)f[e] * f[e];
            acc = sqrt(acc);
        }
        out[i] = (float)acc;
    }
}

/* remaining filters rounded up to a multiple of 8, at least 8 (a group never loses all its
 * filters, even when all_weights ranks all of them below the threshold), at most c */
static int64_t round_up8(int64_t remaining, int64_t c)
{
    int64_t kept = (remaining + 7) / 8 * 8;
    if (kept < 8)
        kept = 8;
    return kept > c ? c : kept;
}

int64_t nncw_prune_kept_count(int64_t c, float level)
{
    /* the slack absorbs float levels such as 0.2f = 0.2000000030 */
    double remaining = ceil((double)c * (1.0 - (double)level) - 1e-5);
    return round_up8(remaining > 0 ? (int64_t)remaining : 0, c);
}

enum nncw_status nncw_prune_rank(struct nncw_pruning *pr)
{
    struct nncw_graph *g = pr->g;
    for (int gi = 0; gi < pr->n_groups; gi++) {
        struct nncw_prune_group *gr = &pr->groups[gi];
        float *part = nncw_malloc((size_t)gr->channels * sizeof *part);
        if (!part)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
        memset(gr->importance, 0, (size_t)gr->channels * sizeof *gr->importance);
        for (int m = 0; m < gr->n_members; m++) {
            int param, reader, port;
            const struct nncw_node *n = nncw_graph_get_node(g, gr->members[m]);
            if (!nncw_prune_find_weight(g, n, &param, &reader, &port))
                continue;
            const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, param);
            const float *w = nncw_tensor_f32(t);
            int64_t k = nncw_tensor_numel(t) / gr->channels;
            nncw_filter_importance(pr->cfg->importance, w, gr->channels, k, part);
            double norm = 1.0;
            if (pr->cfg->all_weights || pr->has_coeffs) { /* normalised per layer tensor */
                double ss = 0;
                for (int64_t e = 0; e < nncw_tensor_numel(t); e++)
                    ss += (double)w[e] * w[e];
                norm = ss > 0 ? sqrt(ss) : 1.0;
            }
            for (int64_t f = 0; f < gr->channels; f++)
                gr->importance[f] += (float)(part[f] / norm);
        }
        nncw_free(part);
    }
    return NNCW_OK;
}

struct ranked {
    float v;
    int group;
    int64_t idx;
};

static int compare_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx); /* ties: the higher index goes first */
}

/* all_weights: the floor(N * level) least important filters of all groups */
static enum nncw_status global_counts(const struct nncw_pruning *pr, float level, int64_t *kept)
{
    int64_t total = 0;
    for (int gi = 0; gi < pr->n_groups; gi++)
        total += pr->groups[gi].excluded ? 0 : pr->groups[gi].channels;
    struct ranked *all = nncw_malloc((size_t)(total ? total : 1) * sizeof *all);
    if (!all)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    int64_t k = 0;
    for (int gi = 0; gi < pr->n_groups; gi++) {
        const struct nncw_prune_group *gr = &pr->groups[gi];
        kept[gi] = gr->channels;
        for (int64_t f = 0; !gr->excluded && f < gr->channels; f++) /* LeGR's affine map */
            all[k++] = (struct ranked){
                pr->has_coeffs ? gr->a * gr->importance[f] + gr->b : gr->importance[f], gi, f};
    }
    qsort(all, (size_t)total, sizeof *all, compare_ranked);
    int64_t prune = (int64_t)floor((double)total * level);
    for (int64_t i = 0; i < prune; i++)
        kept[all[i].group]--;
    for (int gi = 0; gi < pr->n_groups; gi++)
        kept[gi] = round_up8(kept[gi], pr->groups[gi].channels);
    nncw_free(all);
    return NNCW_OK;
}

enum nncw_status nncw_prune_counts_for_level(const struct nncw_pruning *pr, float level,
                                             int64_t *kept)
{
    if (pr->cfg->all_weights || pr->has_coeffs)
        NNCW_TRY(global_counts(pr, level, kept));
    else
        for (int gi = 0; gi < pr->n_groups; gi++)
            kept[gi] = nncw_prune_kept_count(pr->groups[gi].channels, level);
    for (int gi = 0; gi < pr->n_groups; gi++)
        if (pr->groups[gi].excluded)
            kept[gi] = pr->groups[gi].channels;
    return NNCW_OK;
}

/* the filter level whose pruned FLOPs first reach (1 - target) of the full model's */
static enum nncw_status level_for_flops(const struct nncw_pruning *pr, float target, int64_t *kept,
                                        float *level)
{
    int64_t full, params;
    nncw_prune_cost(pr, NULL, &full, &params);
    double want = (1.0 - (double)target) * (double)full;
    float lo = 0.0f, hi = 0.999f;
    for (int it = 0; it < 40; it++) {
        float mid = 0.5f * (lo + hi);
        int64_t flops;
        NNCW_TRY(nncw_prune_counts_for_level(pr, mid, kept));
        nncw_prune_cost(pr, kept, &flops, &params);
        if ((double)flops <= want)
            hi = mid;
        else
            lo = mid;
    }
    *level = hi;
    return nncw_prune_counts_for_level(pr, hi, kept);
}

/* keeps the kept[gi] most important filters of each group */
static enum nncw_status set_keep(struct nncw_pruning *pr, const int64_t *kept)
{
    for (int gi = 0; gi < pr->n_groups; gi++) {
        struct nncw_prune_group *gr = &pr->groups[gi];
        struct ranked *r = nncw_malloc((size_t)gr->channels * sizeof *r);
        if (!r)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
        for (int64_t f = 0; f < gr->channels; f++)
            r[f] = (struct ranked){gr->importance[f], 0, f};
        qsort(r, (size_t)gr->channels, sizeof *r, compare_ranked);
        for (int64_t i = 0; i < gr->channels; i++)
            gr->keep[r[i].idx] = i >= gr->channels - kept[gi] ? 1.0f : 0.0f;
        gr->kept = kept[gi];
        nncw_free(r);
    }
    return NNCW_OK;
}

static enum nncw_status apply(struct nncw_pruning *pr, float level, bool flops)
{
    int64_t *kept = nncw_malloc((size_t)(pr->n_groups ? pr->n_groups : 1) * sizeof *kept);
    if (!kept)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    enum nncw_status s = nncw_prune_rank(pr);
    float filter_level = level;
    if (s == NNCW_OK && flops)
        s = level_for_flops(pr, level, kept, &filter_level);
    else if (s == NNCW_OK)
        s = nncw_prune_counts_for_level(pr, level, kept);
    if (s == NNCW_OK && level == 0.0f) /* level 0 keeps everything, whatever the rounding */
        for (int gi = 0; gi < pr->n_groups; gi++)
            kept[gi] = pr->groups[gi].channels;
    if (s == NNCW_OK)
        s = set_keep(pr, kept);
    nncw_free(kept);
    if (s != NNCW_OK)
        return s;
    nncw_prune_write_masks(pr);
    return NNCW_OK;
}

enum nncw_status nncw_prune_apply_level(struct nncw_pruning *pr, float level)
{
    NNCW_TRY(apply(pr, level, pr->cfg->flops));
    pr->st.level = level;
    return NNCW_OK;
}

enum nncw_status nncw_prune_apply_flops(struct nncw_pruning *pr, float target)
{
    return apply(pr, target, true);
}
