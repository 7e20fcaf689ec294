/*
** The filter pruning controller (NNCF's FilterPruningController with its pruning scheduler):
** the builder, the groups of filters pruned together, the scheduler hooks, compression stage
** and rate, the controller state, and the public "filter pruning" calls of compression.h.
**
** The level follows the scheduler at every epoch_step until the masks freeze; setting the rate
** (accuracy-aware training, the workbench) takes the level out of the scheduler's hands. The
** masks are recomputed from the current weights whenever the level changes.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/pruning/pruning_internal.h"
#include "core/alloc.h"
#include "core/common.h"

static void free_groups(struct nncw_pruning *pr)
{
    for (int i = 0; i < pr->n_groups; i++) {
        nncw_free(pr->groups[i].members);
        nncw_free(pr->groups[i].importance);
        nncw_free(pr->groups[i].keep);
    }
    nncw_free(pr->groups);
}

static void pruning_free(void *self)
{
    struct nncw_pruning *pr = self;
    if (!pr)
        return;
    free_groups(pr);
    nncw_free(pr->group_of_root);
    nncw_free(pr->sites);
    nncw_free(pr->cost);
    nncw_prune_analysis_fini(&pr->an);
    nncw_pruning_config_free(pr->cfg);
    nncw_free(pr);
}

/* ---- groups and cost nodes from the analysis ---- */

static int out_group(const struct nncw_pruning *pr, const struct nncw_node *n)
{
    const struct nncw_prune_label *l = &pr->an.labels[nncw_node_get_output(n, 0)];
    if (l->n != 1 || l->segs[0].cluster < 0)
        return -1;
    return pr->group_of_root[nncw_prune_root(&pr->an, l->segs[0].cluster)];
}

static enum nncw_status add_member(struct nncw_prune_group *gr, int node)
{
    int *grown = nncw_realloc(gr->members, (size_t)(gr->n_members + 1) * sizeof *grown);
    if (!grown)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    gr->members = grown;
    gr->members[gr->n_members++] = node;
    return NNCW_OK;
}

static enum nncw_status make_groups(struct nncw_pruning *pr)
{
    struct nncw_prune_analysis *an = &pr->an;
    int nc = an->n_clusters;
    pr->group_of_root = nncw_malloc((size_t)(nc ? nc : 1) * sizeof(int));
    pr->groups = nncw_calloc((size_t)(nc ? nc : 1), sizeof *pr->groups);
    if (!pr->group_of_root || !pr->groups)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    for (int c = 0; c < nc; c++) {
        pr->group_of_root[c] = -1;
        if (nncw_prune_root(an, c) != c || an->blocked[c])
            continue;
        struct nncw_prune_group *gr = &pr->groups[pr->n_groups];
        gr->root = c;
        gr->channels = an->channels[c];
        gr->importance = nncw_calloc((size_t)gr->channels, sizeof(float));
        gr->keep = nncw_malloc((size_t)gr->channels * sizeof(float));
        if (!gr->importance || !gr->keep)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
        for (int64_t f = 0; f < gr->channels; f++)
            gr->keep[f] = 1.0f;
        gr->kept = gr->channels;
        gr->a = 1.0f;
        pr->group_of_root[c] = pr->n_groups++;
    }
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(pr->g, &order));
    for (int k = 0; k < nncw_graph_count_nodes(pr->g); k++) {
        const struct nncw_node *n = nncw_graph_get_node(pr->g, order[k]);
        int gi = nncw_node_get_op(n) == NNCW_OP_CONV ? out_group(pr, n) : -1;
        if (gi >= 0)
            NNCW_TRY(add_member(&pr->groups[gi], order[k]));
    }
    return NNCW_OK;
}

static void cost_conv(const struct nncw_graph *g, const struct nncw_node *n,
                      struct nncw_prune_cost_node *cn)
{
    const struct nncw_tensor *x = nncw_graph_get_value_tensor(g, cn->in);
    const struct nncw_tensor *y = nncw_graph_get_value_tensor(g, cn->out);
    cn->groups = nncw_node_get_attr_int(n, "group", 1);
    cn->c_in = x->ndim >= 2 ? x->shape[1] : 0;
    cn->c_out = y->ndim >= 2 ? y->shape[1] : 0;
    cn->depthwise = cn->groups > 1 && cn->groups == cn->c_in && cn->c_in == cn->c_out;
    cn->spatial = 1;
    for (int d = 2; d < y->ndim; d++)
        cn->spatial *= y->shape[d];
    cn->kernel = 1;
    if (cn->weight >= 0) {
        const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, cn->weight);
        for (int d = 2; d < w->ndim; d++)
            cn->kernel *= w->shape[d];
    }
    int b = nncw_node_count_inputs(n) > 2 ? nncw_node_get_input(n, 2) : -1;
    cn->bias = b >= 0;
}

static enum nncw_status make_cost_nodes(struct nncw_pruning *pr)
{
    struct nncw_graph *g = pr->g;
    int nodes = nncw_graph_count_nodes(g);
    pr->cost = nncw_calloc((size_t)(nodes ? nodes : 1), sizeof *pr->cost);
    if (!pr->cost)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    for (int i = 0; i < nodes; i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        enum nncw_op op = nncw_node_get_op(n);
        if (op != NNCW_OP_CONV && op != NNCW_OP_GEMM)
            continue;
        struct nncw_prune_cost_node *cn = &pr->cost[pr->n_cost++];
        int reader, port;
        *cn = (struct nncw_prune_cost_node){.node = i,
                                            .gemm = op == NNCW_OP_GEMM,
                                            .in = nncw_node_get_input(n, 0),
                                            .out = nncw_node_get_output(n, 0),
                                            .weight = -1};
        if (!nncw_prune_find_weight(g, n, &cn->weight, &reader, &port))
            cn->weight = -1;
        if (op == NNCW_OP_CONV) {
            cost_conv(g, n, cn);
            continue;
        }
        const struct nncw_tensor *x = nncw_graph_get_value_tensor(g, cn->in);
        const struct nncw_tensor *y = nncw_graph_get_value_tensor(g, cn->out);
        cn->c_in = x->ndim == 2 ? x->shape[1] : 0;
        cn->c_out = y->ndim == 2 ? y->shape[1] : 0;
        cn->kernel = cn->spatial = cn->groups = 1;
        cn->bias = nncw_node_count_inputs(n) > 2 && nncw_node_get_input(n, 2) >= 0;
    }
    return NNCW_OK;
}

/* ---- scheduler hooks ---- */

static enum nncw_status pruning_epoch_step(void *self, int epoch)
{
    struct nncw_pruning *pr = self;
    pr->st.epoch = epoch;
    if (pr->st.frozen || pr->st.rate_set)
        return NNCW_OK;
    bool freeze;
    float level = nncw_pruning_schedule_level(pr->cfg, pr->st.target, epoch, &freeze);
    NNCW_TRY(nncw_prune_apply_level(pr, level));
    pr->st.frozen = freeze;
    return NNCW_OK;
}

static enum nncw_compression_stage pruning_stage(const void *self)
{
    const struct nncw_pruning *pr = self;
    if (pr->st.level <= 0.0f)
        return NNCW_STAGE_UNCOMPRESSED;
    return pr->st.level >= pr->st.target ? NNCW_STAGE_FULLY_COMPRESSED
                                         : NNCW_STAGE_PARTIALLY_COMPRESSED;
}

static enum nncw_status pruning_statistics(const void *self, char **text)
{
    return nncw_prune_statistics(self, text);
}

/* NNCF's compression_rate: the filter pruning level, or with a FLOPs target the FLOPs reduction
 * the masks give now (1 - current / full), which the level found for a target only approaches */
static float pruning_rate(const void *self)
{
    const struct nncw_pruning *pr = self;
    if (!pr->cfg->flops)
        return pr->st.level;
    int64_t *kept = nncw_malloc((size_t)(pr->n_groups ? pr->n_groups : 1) * sizeof *kept);
    if (!kept)
        return NAN; /* no status to return: "no rate" rather than a wrong one */
    for (int gi = 0; gi < pr->n_groups; gi++)
        kept[gi] = pr->groups[gi].kept;
    int64_t full, pruned, params;
    nncw_prune_cost(pr, NULL, &full, &params);
    nncw_prune_cost(pr, kept, &pruned, &params);
    nncw_free(kept);
    return full > 0 ? (float)(1.0 - (double)pruned / (double)full) : 0.0f;
}

static enum nncw_status check_level(const struct nncw_pruning *pr, float level, const char *what)
{
    if (!(level >= 0.0f && level <= 0.999f))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "filter_pruning %s: %s %g is outside [0, 0.999]",
                         pr->cfg->path, what, (double)level);
    return NNCW_OK;
}

static enum nncw_status pruning_set_rate(void *self, float rate)
{
    struct nncw_pruning *pr = self;
    NNCW_TRY(check_level(pr, rate, pr->cfg->flops ? "FLOPs pruning rate" : "pruning level"));
    NNCW_TRY(nncw_prune_apply_level(pr, rate));
    pr->st.rate_set = true;
    return NNCW_OK;
}

static enum nncw_status pruning_get_state(const void *self, char **json)
{
    const struct nncw_pruning *pr = self;
    struct nncw_pruning_state st = pr->st;
    st.n_excluded = 0;
    for (int i = 0; i < pr->n_groups && st.n_excluded < (int)NNCW_ARRAY_LEN(st.excluded); i++)
        if (pr->groups[i].excluded)
            st.excluded[st.n_excluded++] = i;
    if (!(*json = nncw_pruning_state_format(&st)))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    return NNCW_OK;
}

/* the masks themselves come back with the graph's parameters; the kept counts are read from
 * them so statistics agree at once */
static enum nncw_status pruning_set_state(void *self, const char *json)
{
    struct nncw_pruning *pr = self;
    struct nncw_pruning_state st;
    NNCW_TRY(nncw_pruning_state_parse(json, &st));
    for (int i = 0; i < st.n_excluded; i++)
        if (st.excluded[i] >= pr->n_groups)
            return NNCW_FAIL(NNCW_ERR_PARSE,
                             "filter_pruning state: 'excluded': group %d does not exist (%d "
                             "groups)",
                             st.excluded[i], pr->n_groups);
    for (int i = 0; i < pr->n_groups; i++)
        pr->groups[i].excluded = false;
    for (int i = 0; i < st.n_excluded; i++)
        pr->groups[st.excluded[i]].excluded = true;
    pr->st = st;
    nncw_prune_read_masks(pr);
    return NNCW_OK;
}

void nncw_prune_read_masks(struct nncw_pruning *pr)
{
    for (int i = 0; i < pr->n_sites; i++) {
        const struct nncw_prune_site *s = &pr->sites[i];
        const struct nncw_prune_label *l = &pr->an.labels[s->label_value];
        const float *m = nncw_tensor_f32(nncw_graph_get_value_tensor(pr->g, s->mask));
        int64_t k = 0;
        for (int j = 0; j < l->n; j++) {
            int c = l->segs[j].cluster;
            int gi = c >= 0 ? pr->group_of_root[nncw_prune_root(&pr->an, c)] : -1;
            for (int64_t ch = 0; ch < l->segs[j].len; ch++, k++)
                if (gi >= 0)
                    pr->groups[gi].keep[ch] = m[k] != 0.0f ? 1.0f : 0.0f;
        }
    }
    for (int gi = 0; gi < pr->n_groups; gi++) {
        struct nncw_prune_group *gr = &pr->groups[gi];
        gr->kept = 0;
        for (int64_t f = 0; f < gr->channels; f++)
            gr->kept += gr->keep[f] != 0.0f;
    }
}

/* ---- builder ---- */

static enum nncw_status setup(struct nncw_pruning *pr, const struct nncw_compression_init *init)
{
    NNCW_TRY(nncw_prune_analyse(pr->g, pr->cfg, &pr->an));
    NNCW_TRY(make_groups(pr));
    NNCW_TRY(make_cost_nodes(pr));
    NNCW_TRY(nncw_prune_insert_masks(pr));
    pr->st = (struct nncw_pruning_state){.epoch = -1, .target = pr->cfg->target};
    NNCW_TRY(nncw_legr_from_config(pr, init));
    return nncw_prune_apply_level(pr, pr->cfg->init);
}

enum nncw_status nncw_filter_pruning_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                           int entry, const struct nncw_compression_init *init,
                                           const struct nncw_compression_edits *edits,
                                           struct nncw_compression_algo *out, int64_t *bn_samples)
{
    (void)edits;
    struct nncw_pruning_config *pc = NULL;
    NNCW_TRY(nncw_pruning_config_parse(cfg, entry, &pc));
    struct nncw_pruning *pr = nncw_calloc(1, sizeof *pr);
    if (!pr) {
        nncw_pruning_config_free(pc);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    }
    pr->g = g;
    pr->cfg = pc;
    enum nncw_status s = setup(pr, init);
    if (s != NNCW_OK) {
        pruning_free(pr);
        return s;
    }
    *out = (struct nncw_compression_algo){.name = "filter_pruning",
                                          .self = pr,
                                          .epoch_step = pruning_epoch_step,
                                          .stage = pruning_stage,
                                          .statistics = pruning_statistics,
                                          .compression_rate = pruning_rate,
                                          .set_compression_rate = pruning_set_rate,
                                          .get_state = pruning_get_state,
                                          .set_state = pruning_set_state,
                                          .free = pruning_free};
    *bn_samples = init->data ? pc->num_bn_adaptation_samples : 0;
    return NNCW_OK;
}

/* ---- the public calls ---- */

static enum nncw_status find_pruning(const struct nncw_compression *c, struct nncw_pruning **out)
{
    const struct nncw_compression_algo *a = nncw_compression_find_algo(c, "filter_pruning");
    if (!a)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "compression: there is no filter_pruning algorithm");
    *out = a->self;
    return NNCW_OK;
}

static enum nncw_status find_group(const struct nncw_compression *c, int i,
                                   struct nncw_pruning **pr)
{
    NNCW_TRY(find_pruning(c, pr));
    if (i < 0 || i >= (*pr)->n_groups)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "filter pruning: no group %d (there are %d)", i,
                         (*pr)->n_groups);
    return NNCW_OK;
}

int nncw_compression_count_pruning_groups(const struct nncw_compression *c)
{
    const struct nncw_compression_algo *a = nncw_compression_find_algo(c, "filter_pruning");
    return a ? ((const struct nncw_pruning *)a->self)->n_groups : 0;
}

enum nncw_status nncw_compression_get_pruning_group(const struct nncw_compression *c, int i,
                                                    struct nncw_pruning_group_info *out)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find_group(c, i, &pr));
    const struct nncw_prune_group *gr = &pr->groups[i];
    *out = (struct nncw_pruning_group_info){.id = i,
                                            .n_members = gr->n_members,
                                            .members = gr->members,
                                            .filters = gr->channels,
                                            .kept = gr->kept,
                                            .excluded = gr->excluded};
    out->importance_min = gr->channels ? gr->importance[0] : 0.0f;
    out->importance_max = out->importance_min;
    double sum = 0;
    for (int64_t f = 0; f < gr->channels; f++) {
        float v = gr->importance[f];
        out->importance_min = v < out->importance_min ? v : out->importance_min;
        out->importance_max = v > out->importance_max ? v : out->importance_max;
        sum += v;
    }
    out->importance_mean = gr->channels ? (float)(sum / (double)gr->channels) : 0.0f;
    return NNCW_OK;
}

const char *nncw_compression_get_pruning_group_member(const struct nncw_compression *c, int i,
                                                      int m)
{
    struct nncw_pruning *pr = NULL;
    if (find_group(c, i, &pr) != NNCW_OK || m < 0 || m >= pr->groups[i].n_members)
        return NULL;
    return nncw_node_get_name(nncw_graph_get_node(pr->g, pr->groups[i].members[m]));
}

enum nncw_status nncw_compression_exclude_pruning_group(struct nncw_compression *c, int i,
                                                        bool exclude)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find_group(c, i, &pr));
    bool was = pr->groups[i].excluded;
    pr->groups[i].excluded = exclude;
    enum nncw_status s = nncw_prune_apply_level(pr, pr->st.level);
    if (s != NNCW_OK)
        pr->groups[i].excluded = was;
    return s;
}

enum nncw_status nncw_compression_set_pruning_target(struct nncw_compression *c, float target)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find_pruning(c, &pr));
    NNCW_TRY(check_level(pr, target, "target"));
    pr->st.target = target;
    if (pr->st.epoch < 0 || pr->st.rate_set)
        return NNCW_OK;
    /* the scheduler's level for the current epoch under the new target */
    bool freeze;
    float level = nncw_pruning_schedule_level(pr->cfg, target, pr->st.epoch, &freeze);
    NNCW_TRY(nncw_prune_apply_level(pr, level));
    pr->st.frozen = freeze;
    return NNCW_OK;
}

enum nncw_status nncw_compression_get_pruning_cost(const struct nncw_compression *c,
                                                   struct nncw_pruning_cost *out)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find_pruning(c, &pr));
    int64_t *kept = nncw_malloc((size_t)(pr->n_groups ? pr->n_groups : 1) * sizeof *kept);
    if (!kept)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    nncw_prune_read_masks(pr);
    for (int gi = 0; gi < pr->n_groups; gi++)
        kept[gi] = pr->groups[gi].kept;
    nncw_prune_cost(pr, NULL, &out->flops_full, &out->params_full);
    nncw_prune_cost(pr, kept, &out->flops_pruned, &out->params_pruned);
    nncw_free(kept);
    out->level = pr->st.level;
    out->target = pr->st.target;
    return NNCW_OK;
}
