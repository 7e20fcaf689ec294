/* The insertion-point graph of the quantizer setup: fused groups in lexicographic topological
 * order, their pre-hooks and post-hooks, quantization traits and the input configurations the
 * hardware config and the quantization config allow. */
#include <stdio.h>
#include <string.h>

#include "compression/quantization/qsetup_internal.h"
#include "compression/quantization/scope_match.h"
#include "core/alloc.h"
#include "core/common.h"

static enum nncw_status nomem(void)
{
    return NNCW_FAIL(NNCW_ERR_NOMEM, "quantizer setup: out of memory");
}

int nncw_qp_list_add(struct nncw_qp_list *l, int v)
{
    for (int i = 0; i < l->n; i++)
        if (l->v[i] == v)
            return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 4;
        int *p = nncw_realloc(l->v, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

void nncw_qp_list_remove(struct nncw_qp_list *l, int v)
{
    for (int i = 0; i < l->n; i++)
        if (l->v[i] == v) {
            memmove(&l->v[i], &l->v[i + 1], (size_t)(l->n - i - 1) * sizeof *l->v);
            l->n--;
            return;
        }
}

/* ---- scopes and constraints ---- */

bool nncw_qp_scope_ignored(const struct nncw_quant_config *cfg,
                           const struct nncw_qgroup_config *grp, const char *name)
{
    if (nncw_scope_list_matches(&cfg->ignored, name) ||
        nncw_scope_list_matches(&grp->ignored, name))
        return true;
    if (cfg->target.n + grp->target.n == 0)
        return false;
    return !nncw_scope_list_matches(&cfg->target, name) &&
           !nncw_scope_list_matches(&grp->target, name);
}

static bool scope_matches(const char *pattern, const char *name)
{
    bool m = false;
    return nncw_scope_matches(pattern, name, &m) == NNCW_OK && m;
}

struct nncw_qconstraints nncw_qp_constraints_for(const struct nncw_quant_config *cfg, int group,
                                                 const char *name)
{
    struct nncw_qconstraints c = group == 0 ? cfg->weights.c : cfg->activations.c;
    for (int i = 0; i < cfg->n_overrides[group]; i++)
        if (scope_matches(cfg->overrides[group][i].scope, name))
            c = nncw_qconstraints_merge(&c, &cfg->overrides[group][i].c);
    return c;
}

void nncw_qp_format_configs(const struct nncw_qconfig *list, int n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len + 1 < size; i++) {
        char one[96];
        nncw_qconfig_format(&list[i], one, sizeof one);
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", one);
    }
}

enum nncw_status nncw_qp_fail_constraints(const struct nncw_quant_config *cfg, int group,
                                          const struct nncw_qconstraints *c, const char *name,
                                          const char *hw_type, const char *device,
                                          const struct nncw_qconfig *list, int n)
{
    static const struct {
        unsigned bit;
        const char *key;
    } keys[] = {{NNCW_QC_BITS, "bits"},
                {NNCW_QC_MODE, "mode"},
                {NNCW_QC_SIGNED, "signed"},
                {NNCW_QC_PER_CHANNEL, "per_channel"}};
    const char *key = nncw_qconstraints_culprit(c, list, n);
    unsigned bit = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (key && strcmp(keys[k].key, key) == 0)
            bit = keys[k].bit;
    /* the object that set the key: the last matching override that has it, else the section */
    const struct nncw_qconstraints *owner = group == 0 ? &cfg->weights.c : &cfg->activations.c;
    for (int i = 0; i < cfg->n_overrides[group]; i++) {
        const struct nncw_scope_override *o = &cfg->overrides[group][i];
        if (scope_matches(o->scope, name) && (!bit || (o->c.has & bit)))
            owner = &o->c;
    }
    char path[600], allowed[512];
    snprintf(path, sizeof path, "%s%s%s", owner->path, key ? "." : "", key ? key : "");
    nncw_qp_format_configs(list, n, allowed, sizeof allowed);
    return NNCW_FAIL(NNCW_ERR_PARSE,
                     "config '%s': %s: no %s quantizer of op '%s' (%s on %s) satisfies this "
                     "(it allows: %s)",
                     cfg->source, path, group == 0 ? "weight" : "activation", name, hw_type, device,
                     allowed);
}

/* ---- groups ---- */

struct build_ctx {
    struct nncw_graph *g;
    const struct nncw_quant_config *cfg;
    const struct nncw_hw_config *hw;
    struct nncw_qp_graph *qg;
    int *head;     /* node -> head node of its fused group */
    int *topo_pos; /* node -> position in nncw's topological order */
};

/* the ranked list of groups: graph inputs, fused node groups in lexicographic topological
 * order (Kahn's algorithm taking the smallest ready name, as networkx's
 * lexicographical_topological_sort does for NNCF), graph outputs */
struct proto {
    enum nncw_qp_kind kind;
    int first, last;
    const char *name;
};

static enum nncw_status collect_protos(struct build_ctx *c, struct proto **out, int *n_out)
{
    struct nncw_graph *g = c->g;
    int nn = nncw_graph_count_nodes(g), ni = nncw_graph_count_inputs(g);
    int no = nncw_graph_count_outputs(g);
    struct proto *p = nncw_calloc((size_t)(nn + ni + no + 1), sizeof *p);
    if (!p)
        return nomem();
    int n = 0;
    for (int i = 0; i < ni; i++) {
        int v = nncw_graph_get_input(g, i);
        p[n++] = (struct proto){NNCW_QP_INPUT, i, i, nncw_graph_get_value_name(g, v)};
    }
    for (int i = 0; i < nn; i++) {
        if (c->head[i] != i)
            continue;
        int last = i;
        for (int k = 0; k < nn; k++)
            if (c->head[k] == i && c->topo_pos[k] > c->topo_pos[last])
                last = k;
        p[n++] = (struct proto){NNCW_QP_OP, i, last, nncw_node_get_name(nncw_graph_get_node(g, i))};
    }
    for (int i = 0; i < no; i++) {
        int v = nncw_graph_get_output(g, i);
        if (nncw_graph_get_value_kind(g, v) != NNCW_VALUE_PARAM)
            p[n++] = (struct proto){NNCW_QP_OUTPUT, i, i, nncw_graph_get_value_name(g, v)};
    }
    *out = p;
    *n_out = n;
    return NNCW_OK;
}

/* the activation value read at port i of a proto (-1: none or a parameter) */
static int proto_port_value(const struct build_ctx *c, const struct proto *p, int i)
{
    int v;
    if (p->kind == NNCW_QP_OUTPUT) {
        v = nncw_graph_get_output(c->g, p->first);
    } else {
        const struct nncw_node *n = nncw_graph_get_node(c->g, p->first);
        enum nncw_op op = nncw_node_get_op(n);
        if (op == NNCW_OP_SHAPE || op == NNCW_OP_SIZE)
            return -1; /* reads only the shape: no branch a quantizer must respect */
        v = nncw_node_get_input(n, i);
    }
    return v >= 0 && nncw_graph_get_value_kind(c->g, v) != NNCW_VALUE_PARAM ? v : -1;
}

static int proto_ports(const struct build_ctx *c, const struct proto *p)
{
    return p->kind == NNCW_QP_OP       ? nncw_node_count_inputs(nncw_graph_get_node(c->g, p->first))
           : p->kind == NNCW_QP_OUTPUT ? 1
                                       : 0;
}

static void proto_outputs(const struct build_ctx *c, const struct proto *p, int *first, int *n)
{
    if (p->kind == NNCW_QP_INPUT) {
        *first = -1;
        *n = 1;
    } else if (p->kind == NNCW_QP_OP) {
        *first = p->last;
        *n = nncw_node_count_outputs(nncw_graph_get_node(c->g, p->last));
    } else {
        *n = 0;
    }
}

static int proto_output(const struct build_ctx *c, const struct proto *p, int k)
{
    if (p->kind == NNCW_QP_INPUT)
        return nncw_graph_get_input(c->g, p->first);
    return nncw_node_get_output(nncw_graph_get_node(c->g, p->last), k);
}

static enum nncw_status rank_protos(struct build_ctx *c, struct proto *p, int n, int *rank_of)
{
    int nv = nncw_graph_count_values(c->g);
    int *prod = nncw_malloc((size_t)(nv ? nv : 1) * sizeof *prod);
    int *indeg = nncw_calloc((size_t)(n ? n : 1), sizeof *indeg);
    bool *done = nncw_calloc((size_t)(n ? n : 1), sizeof *done);
    if (!prod || !indeg || !done) {
        nncw_free(prod);
        nncw_free(indeg);
        nncw_free(done);
        return nomem();
    }
    for (int v = 0; v < nv; v++)
        prod[v] = -1;
    for (int i = 0; i < n; i++) {
        int f, m;
        proto_outputs(c, &p[i], &f, &m);
        for (int k = 0; k < m; k++)
            prod[proto_output(c, &p[i], k)] = i;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < proto_ports(c, &p[i]); k++) {
            int v = proto_port_value(c, &p[i], k);
            indeg[i] += v >= 0 && prod[v] >= 0;
        }
    static const int order_of_kind[] = {
        [NNCW_QP_INPUT] = 0, [NNCW_QP_OP] = 1, [NNCW_QP_OUTPUT] = 2};
    for (int r = 0; r < n; r++) {
        int best = -1; /* inputs first, outputs last, otherwise the smallest ready name */
        for (int i = 0; i < n; i++) {
            if (done[i] || indeg[i] > 0)
                continue;
            int ki = order_of_kind[p[i].kind], kb = best < 0 ? 0 : order_of_kind[p[best].kind];
            if (best < 0 || ki < kb ||
                (ki == kb && p[i].kind == NNCW_QP_OP && strcmp(p[i].name, p[best].name) < 0))
                best = i;
        }
        NNCW_ASSERT(best >= 0); /* nncw_graph_topo_order has ruled out cycles */
        done[best] = true;
        rank_of[best] = r;
        int f, m;
        proto_outputs(c, &p[best], &f, &m);
        for (int k = 0; k < m; k++) {
            int v = proto_output(c, &p[best], k);
            for (int i = 0; i < n; i++)
                for (int q = 0; q < proto_ports(c, &p[i]); q++)
                    indeg[i] -= proto_port_value(c, &p[i], q) == v;
        }
    }
    nncw_free(prod);
    nncw_free(indeg);
    nncw_free(done);
    return NNCW_OK;
}

/* ---- traits and allowed input configurations ---- */

static enum nncw_status assign_trait(const struct build_ctx *c, struct nncw_qp_group *gr)
{
    const struct nncw_quant_config *cfg = c->cfg;
    const struct nncw_node *n = nncw_graph_get_node(c->g, gr->first);
    gr->moves_channels = nncw_quant_op_moves_channels(nncw_node_get_op(n));
    gr->trait = NNCW_QTRAIT_NON_QUANTIZABLE;
    if (nncw_qp_scope_ignored(cfg, &cfg->activations, gr->name))
        return NNCW_OK; /* ignored: FP32, and no quantizer passes it */
    struct nncw_qconstraints cons = nncw_qp_constraints_for(cfg, 1, gr->name);
    struct nncw_qconfig def = nncw_qconstraints_apply(
        &cons, (struct nncw_qconfig){.bits = 8, .mode = NNCW_QMODE_SYMMETRIC, .signedness = -1});
    const char *mode = NULL;
    const char *hw_name = c->hw ? nncw_quant_hw_name(c->g, n, &mode) : NULL;
    const struct nncw_hw_op *op = hw_name ? nncw_hw_config_find_op(c->hw, hw_name, mode) : NULL;
    if (hw_name && !op)
        return NNCW_OK; /* an op the device names but does not list: FP32 */
    gr->unified = op && op->unified_scales;
    if (!op || op->wildcard) {
        gr->trait = nncw_quant_default_trait(c->g, n);
        if (gr->trait != NNCW_QTRAIT_INPUTS_QUANTIZABLE)
            return NNCW_OK;
        gr->cfg = nncw_malloc(sizeof *gr->cfg);
        if (!gr->cfg)
            return nomem();
        gr->cfg[0] = def;
        gr->n_cfg = 1;
    } else {
        gr->trait = NNCW_QTRAIT_INPUTS_QUANTIZABLE;
        gr->cfg = nncw_malloc((size_t)op->n_act * sizeof *gr->cfg);
        if (!gr->cfg)
            return nomem();
        gr->n_cfg = nncw_qconstraints_filter(&cons, op->act, op->n_act, gr->cfg);
        if (!gr->n_cfg)
            return nncw_qp_fail_constraints(cfg, 1, &cons, gr->name, hw_name, c->hw->target_device,
                                            op->act, op->n_act);
    }
    if (gr->unified) { /* one shared scale for all inputs: per-tensor only (NNCF) */
        int m = 0;
        for (int i = 0; i < gr->n_cfg; i++)
            if (!gr->cfg[i].per_channel)
                gr->cfg[m++] = gr->cfg[i];
        if (!m)
            return NNCW_FAIL(NNCW_ERR_PARSE,
                             "config '%s': %s.per_channel: op '%s' (%s) shares one scale across "
                             "its inputs, which needs per-tensor quantizers",
                             cfg->source, cfg->activations.c.path, gr->name, hw_name);
        gr->n_cfg = m;
    }
    return NNCW_OK;
}

/* ---- branching post-hooks that reach an output through agnostic ops ---- */

static void mark_dominating(struct nncw_qp_graph *qg, int h, bool *seen)
{
    if (h < 0 || seen[h])
        return;
    seen[h] = true;
    struct nncw_qp_group *gr = &qg->groups[h];
    if (gr->n_out > 1) {
        qg->dominates_output[h] = true;
        return;
    }
    if (gr->kind != NNCW_QP_OP ||
        (gr->trait != NNCW_QTRAIT_AGNOSTIC && gr->trait != NNCW_QTRAIT_CONCAT))
        return;
    for (int p = 0; p < gr->n_ports; p++)
        if (gr->port_value[p] >= 0)
            mark_dominating(qg, qg->producer[gr->port_value[p]], seen);
}

static enum nncw_status find_dominating(struct nncw_qp_graph *qg)
{
    for (int i = 0; i < qg->n_groups; i++) {
        if (qg->groups[i].kind != NNCW_QP_OUTPUT)
            continue;
        bool *seen = nncw_calloc((size_t)qg->n_groups, sizeof *seen);
        if (!seen)
            return nomem();
        int v = qg->groups[i].port_value[0];
        mark_dominating(qg, v >= 0 ? qg->producer[v] : -1, seen);
        nncw_free(seen);
    }
    return NNCW_OK;
}

/* ---- assembling the graph ---- */

static enum nncw_status fill_group(struct build_ctx *c, const struct proto *p, int rank,
                                   int *port_base)
{
    struct nncw_qp_graph *qg = c->qg;
    struct nncw_qp_group *gr = &qg->groups[rank];
    gr->kind = p->kind;
    gr->first = p->first;
    gr->last = p->last;
    gr->rank = rank;
    gr->name = p->name;
    gr->last_name =
        p->kind == NNCW_QP_OP ? nncw_node_get_name(nncw_graph_get_node(c->g, p->last)) : p->name;
    gr->n_ports = proto_ports(c, p);
    gr->port_base = *port_base;
    *port_base += gr->n_ports;
    gr->port_value = nncw_malloc((size_t)(gr->n_ports ? gr->n_ports : 1) * sizeof(int));
    if (!gr->port_value)
        return nomem();
    for (int k = 0; k < gr->n_ports; k++)
        gr->port_value[k] = proto_port_value(c, p, k);
    int f, m;
    proto_outputs(c, p, &f, &m);
    for (int k = 0; k < m; k++)
        qg->producer[proto_output(c, p, k)] = rank;
    if (p->kind == NNCW_QP_OP) {
        for (int i = 0; i < nncw_graph_count_nodes(c->g); i++)
            if (c->head[i] == p->first)
                qg->group_of_node[i] = rank;
        return assign_trait(c, gr);
    }
    return NNCW_OK;
}

static enum nncw_status link_edges(struct nncw_qp_graph *qg)
{
    for (int i = 0; i < qg->n_groups; i++)
        for (int k = 0; k < qg->groups[i].n_ports; k++) {
            int v = qg->groups[i].port_value[k];
            if (v >= 0 && qg->producer[v] >= 0)
                qg->groups[qg->producer[v]].n_out++;
        }
    for (int i = 0; i < qg->n_groups; i++) {
        struct nncw_qp_group *gr = &qg->groups[i];
        gr->out = nncw_malloc((size_t)(gr->n_out ? gr->n_out : 1) * sizeof *gr->out);
        if (!gr->out)
            return nomem();
        gr->n_out = 0;
    }
    for (int i = 0; i < qg->n_groups; i++) /* in rank order, so successors are too */
        for (int k = 0; k < qg->groups[i].n_ports; k++) {
            int v = qg->groups[i].port_value[k];
            if (v >= 0 && qg->producer[v] >= 0) {
                struct nncw_qp_group *h = &qg->groups[qg->producer[v]];
                h->out[h->n_out++] = (struct nncw_qp_edge){i, k};
            }
        }
    return NNCW_OK;
}

static enum nncw_status build(struct build_ctx *c)
{
    struct nncw_graph *g = c->g;
    struct nncw_qp_graph *qg = c->qg;
    int nn = nncw_graph_count_nodes(g), nv = nncw_graph_count_values(g);
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    for (int k = 0; k < nn; k++)
        c->topo_pos[order[k]] = k;
    NNCW_TRY(nncw_quant_fuse_patterns(g, c->head));
    NNCW_TRY(nncw_quant_integer_values(g, qg->is_int));
    for (int v = 0; v < nv; v++)
        qg->producer[v] = -1;
    struct proto *protos = NULL;
    int n = 0;
    NNCW_TRY(collect_protos(c, &protos, &n));
    int *rank_of = nncw_malloc((size_t)(n ? n : 1) * sizeof *rank_of);
    qg->groups = nncw_calloc((size_t)(n ? n : 1), sizeof *qg->groups);
    qg->dominates_output = nncw_calloc((size_t)(n ? n : 1), sizeof *qg->dominates_output);
    enum nncw_status s = rank_of && qg->groups && qg->dominates_output ? NNCW_OK : nomem();
    if (s == NNCW_OK)
        s = rank_protos(c, protos, n, rank_of);
    if (s == NNCW_OK) {
        qg->n_groups = n;
        int base = 0;
        for (int i = 0; i < n && s == NNCW_OK; i++)
            s = fill_group(c, &protos[i], rank_of[i], &base);
        qg->n_ports = base;
    }
    if (s == NNCW_OK)
        s = link_edges(qg);
    if (s == NNCW_OK)
        s = find_dominating(qg);
    nncw_free(protos);
    nncw_free(rank_of);
    return s;
}

enum nncw_status nncw_qp_graph_build(struct nncw_graph *g, const struct nncw_quant_config *cfg,
                                     const struct nncw_hw_config *hw, struct nncw_qp_graph *out)
{
    *out = (struct nncw_qp_graph){.g = g};
    int nn = nncw_graph_count_nodes(g), nv = nncw_graph_count_values(g);
    struct build_ctx c = {g, cfg, hw, out, NULL, NULL};
    c.head = nncw_malloc((size_t)(nn ? nn : 1) * sizeof *c.head);
    c.topo_pos = nncw_malloc((size_t)(nn ? nn : 1) * sizeof *c.topo_pos);
    out->group_of_node = nncw_malloc((size_t)(nn ? nn : 1) * sizeof *out->group_of_node);
    out->producer = nncw_malloc((size_t)(nv ? nv : 1) * sizeof *out->producer);
    out->is_int = nncw_calloc((size_t)(nv ? nv : 1), sizeof *out->is_int);
    out->default_act = nncw_qconstraints_apply(
        &cfg->activations.c,
        (struct nncw_qconfig){.bits = 8, .mode = NNCW_QMODE_SYMMETRIC, .signedness = -1});
    enum nncw_status s = c.head && c.topo_pos && out->group_of_node && out->producer && out->is_int
                             ? build(&c)
                             : nomem();
    nncw_free(c.head);
    nncw_free(c.topo_pos);
    if (s != NNCW_OK)
        nncw_qp_graph_fini(out);
    return s;
}

void nncw_qp_graph_fini(struct nncw_qp_graph *qg)
{
    for (int i = 0; i < qg->n_groups; i++) {
        nncw_free(qg->groups[i].port_value);
        nncw_free(qg->groups[i].out);
        nncw_free(qg->groups[i].cfg);
        nncw_free(qg->groups[i].aff.v);
    }
    nncw_free(qg->groups);
    nncw_free(qg->group_of_node);
    nncw_free(qg->producer);
    nncw_free(qg->is_int);
    nncw_free(qg->dominates_output);
    *qg = (struct nncw_qp_graph){0};
}
