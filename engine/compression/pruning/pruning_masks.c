/*
** The filter masks in the graph: a Mul by a non-trainable 0/1 parameter spliced in front of
** each masked parameter (NNCF's pre-op on the weight, `_binary_filter_pruning_mask`): conv
** weights ([C, 1, 1, 1]) and biases, and batch-norm scales and biases when prune_batch_norms,
** so a pruned channel is exactly zero after its batch norm. The gradient of a masked weight is
** zero where the mask is (the Mul's backward), which is what NNCF's zero_grad hooks ensure.
** When quantization placed a weight quantizer first, the mask goes between the weight and the
** quantizer, as NNCF orders pre-ops.
*/
#include <stdio.h>
#include <string.h>

#include "compression/pruning/pruning_internal.h"
#include "core/alloc.h"

static bool in_group(const struct nncw_pruning *pr, int value)
{
    const struct nncw_prune_label *l = &pr->an.labels[value];
    for (int i = 0; i < l->n; i++)
        if (l->segs[i].cluster >= 0 &&
            pr->group_of_root[nncw_prune_root(&pr->an, l->segs[i].cluster)] >= 0)
            return true;
    return false;
}

int64_t nncw_prune_label_mask(const struct nncw_pruning *pr, int value, float *out)
{
    const struct nncw_prune_label *l = &pr->an.labels[value];
    int64_t k = 0;
    for (int i = 0; i < l->n; i++) {
        int c = l->segs[i].cluster;
        int gi = c >= 0 ? pr->group_of_root[nncw_prune_root(&pr->an, c)] : -1;
        for (int64_t ch = 0; ch < l->segs[i].len; ch++)
            for (int64_t m = 0; m < l->mult; m++)
                out[k++] = gi >= 0 ? pr->groups[gi].keep[ch] : 1.0f;
    }
    return k;
}

int64_t nncw_prune_label_kept(const struct nncw_pruning *pr, int value, const int64_t *kept)
{
    const struct nncw_prune_label *l = &pr->an.labels[value];
    int64_t k = 0;
    for (int i = 0; i < l->n; i++) {
        int c = l->segs[i].cluster;
        int gi = c >= 0 ? pr->group_of_root[nncw_prune_root(&pr->an, c)] : -1;
        k += (gi >= 0 && kept ? kept[gi] : l->segs[i].len) * l->mult;
    }
    return k;
}

void nncw_prune_write_masks(struct nncw_pruning *pr)
{
    for (int i = 0; i < pr->n_sites; i++) {
        const struct nncw_prune_site *s = &pr->sites[i];
        float *m = nncw_tensor_f32(nncw_graph_get_value_tensor(pr->g, s->mask));
        nncw_prune_label_mask(pr, s->label_value, m);
    }
}

/* one Mul(param, mask) read by reader's input port instead of param */
static enum nncw_status add_site(struct nncw_pruning *pr, int param, int reader, int port,
                                 int label_value, const char *scope)
{
    struct nncw_graph *g = pr->g;
    const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, param);
    int64_t c = nncw_prune_label_kept(pr, label_value, NULL);
    if (w->ndim < 1 || w->shape[0] != c)
        return NNCW_FAIL(
            NNCW_ERR_SHAPE, "filter pruning: '%s' has %lld rows for %lld channels (%s)",
            nncw_graph_get_value_name(g, param), (long long)w->shape[0], (long long)c, scope);
    int64_t shape[NNCW_MAX_DIMS];
    shape[0] = c;
    for (int d = 1; d < w->ndim; d++)
        shape[d] = 1;
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, NNCW_DTYPE_F32, w->ndim, shape));
    nncw_tensor_fill_f32(&t, 1.0f);
    char pname[640];
    snprintf(pname, sizeof pname, "%s._binary_filter_pruning_mask", scope);
    int mask, y;
    struct nncw_node *n;
    enum nncw_status s = nncw_graph_add_param(g, pname, &t, false, &mask);
    nncw_tensor_fini(&t);
    NNCW_TRY(s);
    NNCW_TRY(nncw_graph_add_node(g, NNCW_OP_MUL, scope, 2, (int[]){param, mask}, 1, &y, &n));
    NNCW_TRY(nncw_graph_set_node_input(g, nncw_graph_get_node(g, reader), port, y));
    pr->sites[pr->n_sites++] =
        (struct nncw_prune_site){param, mask, nncw_node_get_index(n), label_value};
    return NNCW_OK;
}

static enum nncw_status conv_sites(struct nncw_pruning *pr, const struct nncw_node *n)
{
    struct nncw_graph *g = pr->g;
    int y = nncw_node_get_output(n, 0), param, reader, port;
    if (!in_group(pr, y) || !nncw_prune_find_weight(g, n, &param, &reader, &port))
        return NNCW_OK;
    char scope[600];
    const char *name = nncw_node_get_name(n);
    int bias = nncw_node_count_inputs(n) > 2 ? nncw_node_get_input(n, 2) : -1;
    snprintf(scope, sizeof scope, "%s%s", name, NNCW_PRUNING_WEIGHT_MASK);
    NNCW_TRY(add_site(pr, param, reader, port, y, scope));
    if (bias >= 0 && nncw_graph_get_value_kind(g, bias) == NNCW_VALUE_PARAM) {
        snprintf(scope, sizeof scope, "%s%s", name, NNCW_PRUNING_BIAS_MASK);
        NNCW_TRY(add_site(pr, bias, nncw_node_get_index(n), 2, y, scope));
    }
    return NNCW_OK;
}

static enum nncw_status batchnorm_sites(struct nncw_pruning *pr, const struct nncw_node *n)
{
    int x = nncw_node_get_input(n, 0);
    if (!pr->cfg->prune_batch_norms || !in_group(pr, x))
        return NNCW_OK;
    static const char *const suffix[] = {"/scale_pruning_mask", NNCW_PRUNING_BIAS_MASK};
    for (int port = 1; port <= 2; port++) {
        int v = nncw_node_get_input(n, port);
        if (v < 0 || nncw_graph_get_value_kind(pr->g, v) != NNCW_VALUE_PARAM)
            continue;
        char scope[600];
        snprintf(scope, sizeof scope, "%s%s", nncw_node_get_name(n), suffix[port - 1]);
        NNCW_TRY(add_site(pr, v, nncw_node_get_index(n), port, x, scope));
    }
    return NNCW_OK;
}

enum nncw_status nncw_prune_insert_masks(struct nncw_pruning *pr)
{
    struct nncw_graph *g = pr->g;
    int nodes = nncw_graph_count_nodes(g);
    /* at most two sites per node; the list is taken before the graph grows */
    pr->sites = nncw_calloc((size_t)(2 * nodes + 1), sizeof *pr->sites);
    if (!pr->sites)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    for (int i = 0; i < nodes; i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        if (nncw_node_get_op(n) == NNCW_OP_CONV)
            NNCW_TRY(conv_sites(pr, n));
        else if (nncw_node_get_op(n) == NNCW_OP_BATCHNORM)
            NNCW_TRY(batchnorm_sites(pr, n));
    }
    return NNCW_OK;
}
