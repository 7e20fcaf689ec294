/*
** Magnitude sparsity (fact sheet 5.1): each weight's importance is |w| ("abs") or |w| / ||W||_2
** of its layer ("normed_abs", the default); the threshold is the element at index
** floor((N - 1) * level) of the sorted importances, pooled over all sparsified layers (global
** mode) or per layer (local mode), and the mask keeps the weights whose importance is above
** it. Masks are recomputed whenever the scheduler updates the level (every epoch, or every
** optimizer step with update_per_optimizer_step), from the weights as they are then, until
** sparsity_freeze_epoch. As in NNCF, level 0 still masks the smallest weight(s): the
** threshold is then the smallest importance.
**
** The threshold element is found by selection (expected linear time) rather than by sorting,
** which gives the same element.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/sparsity/sparsity_internal.h"
#include "core/alloc.h"
#include "core/text_table.h"

void nncw_magnitude_importance(const float *w, int64_t n, enum nncw_weight_importance imp,
                               float *out)
{
    float norm = 1.0f;
    if (imp == NNCW_IMPORTANCE_NORMED_ABS) {
        double sq = 0;
        for (int64_t i = 0; i < n; i++)
            sq += (double)w[i] * w[i];
        norm = (float)sqrt(sq);
    }
    /* an all-zero layer: every importance is 0 */
    for (int64_t i = 0; i < n; i++)
        out[i] = norm > 0.0f ? fabsf(w[i]) / norm : 0.0f;
}

static void swap(float *a, float *b)
{
    float t = *a;
    *a = *b;
    *b = t;
}

/* Hoare's selection with a median-of-three pivot; equal keys split evenly between the sides,
 * so many equal importances (zeros) do not make it quadratic */
static float select_kth(float *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap(&v[hi], &v[mid]);
        float pivot = v[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j)
                swap(&v[i++], &v[j--]);
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

float nncw_magnitude_threshold(float *v, int64_t n, float level)
{
    if (n < 1)
        return 0.0f;
    int64_t k = (int64_t)((double)(n - 1) * (double)level);
    return select_kth(v, n, k);
}

static const float *weights_of(const struct nncw_sparsity *sp, int i)
{
    return nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].weight));
}

/* the layer's mask: importance > threshold */
static void set_mask(struct nncw_sparsity *sp, int i, float threshold, float *scratch)
{
    int64_t n = nncw_sparse_layer_numel(sp, i);
    float *m = nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].mask));
    nncw_magnitude_importance(weights_of(sp, i), n, sp->cfg->importance, scratch);
    for (int64_t k = 0; k < n; k++)
        m[k] = scratch[k] > threshold ? 1.0f : 0.0f;
    sp->layers[i].threshold = threshold;
}

static enum nncw_status magnitude_apply(struct nncw_sparsity *sp, float level)
{
    sp->level = level;
    if (sp->frozen || sp->n == 0)
        return NNCW_OK;
    float *buf = nncw_malloc((size_t)sp->total * sizeof *buf);
    if (!buf)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "magnitude sparsity: out of memory for %lld importances",
                         (long long)sp->total);
    if (sp->cfg->local) {
        for (int i = 0; i < sp->n; i++) {
            int64_t n = nncw_sparse_layer_numel(sp, i);
            nncw_magnitude_importance(weights_of(sp, i), n, sp->cfg->importance, buf);
            set_mask(sp, i, nncw_magnitude_threshold(buf, n, level), buf);
        }
    } else {
        int64_t at = 0;
        for (int i = 0; i < sp->n; i++) {
            nncw_magnitude_importance(weights_of(sp, i), nncw_sparse_layer_numel(sp, i),
                                      sp->cfg->importance, buf + at);
            at += nncw_sparse_layer_numel(sp, i);
        }
        float threshold = nncw_magnitude_threshold(buf, sp->total, level);
        for (int i = 0; i < sp->n; i++)
            set_mask(sp, i, threshold, buf);
    }
    nncw_free(buf);
    return NNCW_OK;
}

static enum nncw_status magnitude_freeze(struct nncw_sparsity *sp)
{
    sp->frozen = true;
    return NNCW_OK;
}

static char *magnitude_statistics(const struct nncw_sparsity *sp)
{
    static const char *const labels[] = {
        "A target level of the sparsity for the algorithm for the current epoch"};
    char *head = nncw_sparsity_value_table("Statistics of the magnitude sparsity algorithm", 1,
                                           labels, &sp->level);
    struct nncw_text_table *t =
        nncw_text_table_new(2, (const char *const[]){"Layer's name", "Sparsity threshold"});
    for (int i = 0; i < sp->n; i++) {
        char v[32];
        snprintf(v, sizeof v, "%.4g", (double)sp->layers[i].threshold);
        nncw_text_table_add_row(t, (const char *const[]){sp->layers[i].name, v});
    }
    char *thresholds = nncw_text_table_render(t);
    nncw_text_table_free(t);
    char *out = NULL;
    if (head && thresholds) {
        size_t need = strlen(head) + strlen(thresholds) + 1;
        if ((out = nncw_malloc(need)))
            snprintf(out, need, "%s%s", head, thresholds);
    }
    nncw_free(head);
    nncw_free(thresholds);
    return out;
}

static const struct nncw_sparsity_ops magnitude_ops = {
    .apply_level = magnitude_apply,
    .freeze = magnitude_freeze,
    .algo_statistics = magnitude_statistics,
};

enum nncw_status nncw_sparsity_magnitude_setup(struct nncw_sparsity *sp)
{
    sp->ops = &magnitude_ops;
    NNCW_TRY(nncw_sparsity_insert_masks(sp, false));
    /* NNCF's controller starts at sparsity_init, whatever the schedule */
    return magnitude_apply(sp, sp->cfg->schedule.init);
}
