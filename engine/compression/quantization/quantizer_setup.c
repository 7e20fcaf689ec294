/* The quantizer setup: scope checks, weight quantizers, the propagated activation quantizers
 * turned into points with NNCF ids, unified-scale groups, the overflow fix and range-init
 * entries, in a stable order. */
#include "compression/quantization/quantizer_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compression/quantization/op_traits.h"
#include "compression/quantization/qsetup_internal.h"
#include "compression/quantization/scope_match.h"
#include "core/alloc.h"
#include "core/log.h"

static enum nncw_status nomem(void)
{
    return NNCW_FAIL(NNCW_ERR_NOMEM, "quantizer setup: out of memory");
}

/* ---- every scope of the config must select something ---- */

static enum nncw_status check_scopes(const struct nncw_graph *g,
                                     const struct nncw_quant_config *cfg)
{
    const struct nncw_scope_list *lists[] = {&cfg->ignored,
                                             &cfg->target,
                                             &cfg->weights.ignored,
                                             &cfg->weights.target,
                                             &cfg->activations.ignored,
                                             &cfg->activations.target};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        NNCW_TRY(nncw_scope_check_list(g, cfg->source, lists[i]));
    for (int grp = 0; grp < 2; grp++)
        for (int i = 0; i < cfg->n_overrides[grp]; i++) {
            const struct nncw_scope_override *o = &cfg->overrides[grp][i];
            NNCW_TRY(nncw_scope_check_pattern(g, cfg->source, o->c.path, o->scope));
        }
    for (int i = 0; i < cfg->n_unified; i++)
        NNCW_TRY(nncw_scope_check_list(g, cfg->source, &cfg->unified_scale_ops[i]));
    for (int i = 0; i < cfg->init.n_range_entries; i++) {
        NNCW_TRY(nncw_scope_check_list(g, cfg->source, &cfg->init.ranges[i].target));
        NNCW_TRY(nncw_scope_check_list(g, cfg->source, &cfg->init.ranges[i].ignored));
    }
    return NNCW_OK;
}

/* ---- points ---- */

struct builder {
    struct nncw_graph *g;
    const struct nncw_quant_config *cfg;
    const struct nncw_hw_config *hw;
    struct nncw_qp_graph qg;
    int n, cap;
    struct nncw_quantizer_point *pts;
    int *sort_key; /* parallel to pts: rank * 4 + kind, then port */
    int *sort_port;
};

static int add_point(struct builder *b)
{
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 32;
        struct nncw_quantizer_point *p = nncw_realloc(b->pts, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        b->pts = p;
        int *k = nncw_realloc(b->sort_key, (size_t)cap * sizeof *k);
        if (!k)
            return -1;
        b->sort_key = k;
        k = nncw_realloc(b->sort_port, (size_t)cap * sizeof *k);
        if (!k)
            return -1;
        b->sort_port = k;
        b->cap = cap;
    }
    b->pts[b->n] = (struct nncw_quantizer_point){
        .node = -1, .value_id = -1, .unified_group = -1, .range_init_index = -1};
    return b->n++;
}

static bool add_target(struct nncw_quantizer_point *p, int node, int port)
{
    struct nncw_quantizer_target *t =
        nncw_realloc(p->targets, (size_t)(p->n_targets + 1) * sizeof *t);
    if (!t)
        return false;
    p->targets = t;
    t[p->n_targets++] = (struct nncw_quantizer_target){node, port};
    return true;
}

/* every reader of value v: node inputs, then graph outputs (node -1, port = output index) */
static bool add_readers(const struct nncw_graph *g, struct nncw_quantizer_point *p, int v)
{
    for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        for (int k = 0; k < nncw_node_count_inputs(n); k++)
            if (nncw_node_get_input(n, k) == v && !add_target(p, i, k))
                return false;
    }
    for (int i = 0; i < nncw_graph_count_outputs(g); i++)
        if (nncw_graph_get_output(g, i) == v && !add_target(p, -1, i))
            return false;
    return true;
}

static bool has_readers(const struct nncw_graph *g, int v)
{
    for (int i = 0; i < nncw_graph_count_outputs(g); i++)
        if (nncw_graph_get_output(g, i) == v)
            return true;
    for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        for (int k = 0; k < nncw_node_count_inputs(n); k++)
            if (nncw_node_get_input(n, k) == v)
                return true;
    }
    return false;
}

static enum nncw_status set_id(struct nncw_quantizer_point *p, const char *name, const char *suffix,
                               int index)
{
    char buf[1024];
    if (index >= 0)
        snprintf(buf, sizeof buf, "%s|%s%d", name, suffix, index);
    else
        snprintf(buf, sizeof buf, "%s|%s", name, suffix);
    return (p->id = nncw_strdup(buf)) ? NNCW_OK : nomem();
}

static enum nncw_status set_configs(struct nncw_quantizer_point *p, const struct nncw_qconfig *cfg,
                                    int n)
{
    p->configs = nncw_malloc((size_t)(n ? n : 1) * sizeof *cfg);
    if (!p->configs)
        return nomem();
    memcpy(p->configs, cfg, (size_t)n * sizeof *cfg);
    p->n_configs = n;
    return NNCW_OK;
}

/* the weight configurations of node n, or n_out 0 when its weight stays in FP32 */
static enum nncw_status weight_configs(struct builder *b, const struct nncw_node *n,
                                       struct nncw_qconfig **out, int *n_out)
{
    const char *name = nncw_node_get_name(n);
    *n_out = 0;
    *out = NULL;
    if (nncw_qp_scope_ignored(b->cfg, &b->cfg->weights, name))
        return NNCW_OK;
    struct nncw_qconstraints cons = nncw_qp_constraints_for(b->cfg, 0, name);
    struct nncw_qconfig def = nncw_qconstraints_apply(
        &cons, (struct nncw_qconfig){.bits = 8, .mode = NNCW_QMODE_SYMMETRIC, .signedness = -1});
    const char *mode, *hw_name = b->hw ? nncw_quant_hw_name(b->g, n, &mode) : NULL;
    const struct nncw_hw_op *op = hw_name ? nncw_hw_config_find_op(b->hw, hw_name, mode) : NULL;
    if (hw_name && !op)
        return NNCW_OK; /* the device runs this op in FP32 */
    int cap = op && op->n_w ? op->n_w : 1;
    struct nncw_qconfig *list = nncw_malloc((size_t)cap * sizeof *list);
    if (!list)
        return nomem();
    if (!op || !op->n_w) { /* no hardware entry for weights: NNCF's default weight config */
        list[0] = def;
        *n_out = 1;
    } else if (!(*n_out = nncw_qconstraints_filter(&cons, op->w, op->n_w, list))) {
        nncw_free(list);
        return nncw_qp_fail_constraints(b->cfg, 0, &cons, name, hw_name, b->hw->target_device,
                                        op->w, op->n_w);
    }
    *out = list;
    return NNCW_OK;
}

static enum nncw_status add_weights(struct builder *b)
{
    int nv = nncw_graph_count_values(b->g);
    int *point_of_param = nncw_malloc((size_t)(nv ? nv : 1) * sizeof *point_of_param);
    if (!point_of_param)
        return nomem();
    for (int v = 0; v < nv; v++)
        point_of_param[v] = -1;
    enum nncw_status s = NNCW_OK;
    for (int gi = 0; gi < b->qg.n_groups && s == NNCW_OK; gi++) {
        const struct nncw_qp_group *gr = &b->qg.groups[gi];
        if (gr->kind != NNCW_QP_OP)
            continue;
        const struct nncw_node *n = nncw_graph_get_node(b->g, gr->first);
        int port = nncw_quant_weight_port(b->g, n);
        if (port < 0)
            continue;
        struct nncw_qconfig *list;
        int m;
        if ((s = weight_configs(b, n, &list, &m)) != NNCW_OK || !m)
            continue;
        int w = nncw_node_get_input(n, port);
        if (point_of_param[w] >= 0) { /* a shared weight: one quantizer, several readers */
            nncw_free(list);
            if (!add_target(&b->pts[point_of_param[w]], gr->first, port))
                s = nomem();
            continue;
        }
        int i = add_point(b);
        if (i < 0) {
            nncw_free(list);
            s = nomem();
            break;
        }
        struct nncw_quantizer_point *p = &b->pts[i];
        p->is_weight = true;
        p->value_id = w;
        p->node = gr->first;
        p->configs = list;
        p->n_configs = m;
        point_of_param[w] = i;
        b->sort_key[i] = gr->rank * 4 + 1;
        b->sort_port[i] = port;
        if (set_id(p, gr->name, "WEIGHT", -1) != NNCW_OK || !add_target(p, gr->first, port))
            s = nomem();
    }
    nncw_free(point_of_param);
    return s;
}

/* one activation point at a pre-hook or for one output value of a post-hook */
static enum nncw_status add_activation(struct builder *b, const struct nncw_qp_result *r, int value,
                                       int out_index, int ugroup)
{
    const struct nncw_qp_group *gr = &b->qg.groups[r->group];
    int i = add_point(b);
    if (i < 0)
        return nomem();
    struct nncw_quantizer_point *p = &b->pts[i];
    p->value_id = value;
    p->unified_group = ugroup;
    b->sort_key[i] = gr->rank * 4 + (r->port >= 0 ? 0 : 2);
    b->sort_port[i] = r->port >= 0 ? r->port : out_index;
    NNCW_TRY(set_configs(p, r->cfg, r->n_cfg));
    bool ok;
    if (r->port < 0) { /* on the value itself: every reader sees the quantized value */
        NNCW_TRY(set_id(p, gr->last_name, "OUTPUT", out_index > 0 ? out_index : -1));
        ok = add_readers(b->g, p, value);
    } else if (gr->kind == NNCW_QP_OUTPUT) {
        NNCW_TRY(set_id(p, gr->name, "MODEL_OUTPUT", -1));
        ok = add_target(p, -1, gr->first);
    } else {
        p->node = gr->first;
        NNCW_TRY(set_id(p, gr->name, "INPUT", r->port));
        ok = add_target(p, gr->first, r->port);
    }
    return ok ? NNCW_OK : nomem();
}

static enum nncw_status add_activations(struct builder *b, const struct nncw_qp_result *r, int n)
{
    int fresh = 0; /* unified-group ids past the solver's */
    for (int i = 0; i < n; i++)
        fresh = r[i].ugroup >= fresh ? r[i].ugroup + 1 : fresh;
    for (int i = 0; i < n; i++) {
        const struct nncw_qp_group *gr = &b->qg.groups[r[i].group];
        int ugroup = r[i].ugroup;
        if (r[i].port >= 0) {
            NNCW_TRY(add_activation(b, &r[i], gr->port_value[r[i].port], -1, ugroup));
            continue;
        }
        if (gr->kind == NNCW_QP_INPUT) {
            NNCW_TRY(add_activation(b, &r[i], nncw_graph_get_input(b->g, gr->first), -1, ugroup));
            continue;
        }
        /* a post-hook covers every used output of the group's last node; several outputs are
         * one quantizer, so they share a scale */
        const struct nncw_node *last = nncw_graph_get_node(b->g, gr->last);
        int used = 0;
        for (int k = 0; k < nncw_node_count_outputs(last); k++)
            used += has_readers(b->g, nncw_node_get_output(last, k));
        if (used > 1 && ugroup < 0)
            ugroup = fresh++;
        for (int k = 0; k < nncw_node_count_outputs(last); k++) {
            int v = nncw_node_get_output(last, k);
            if (has_readers(b->g, v))
                NNCW_TRY(add_activation(b, &r[i], v, k, ugroup));
        }
    }
    return NNCW_OK;
}

/* ---- ordering and unified groups ---- */

static bool point_before(const struct builder *b, int a, int c)
{
    if (b->sort_key[a] != b->sort_key[c])
        return b->sort_key[a] < b->sort_key[c];
    if (b->sort_port[a] != b->sort_port[c])
        return b->sort_port[a] < b->sort_port[c];
    return strcmp(b->pts[a].id, b->pts[c].id) < 0;
}

static enum nncw_status sort_points(struct builder *b)
{
    int *idx = nncw_malloc((size_t)(b->n ? b->n : 1) * sizeof *idx);
    struct nncw_quantizer_point *sorted = nncw_malloc((size_t)(b->n ? b->n : 1) * sizeof *sorted);
    if (!idx || !sorted) {
        nncw_free(idx);
        nncw_free(sorted);
        return nomem();
    }
    for (int i = 0; i < b->n; i++) { /* insertion sort: a few hundred points, stable */
        int j = i;
        while (j > 0 && point_before(b, i, idx[j - 1])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    for (int i = 0; i < b->n; i++)
        sorted[i] = b->pts[idx[i]];
    nncw_free(b->pts);
    nncw_free(idx);
    b->pts = sorted;
    b->cap = b->n;
    return NNCW_OK;
}

/* members of a unified group share one quantizer, hence one configuration list: their
 * intersection (in the first member's order); a group with nothing in common dissolves */
static enum nncw_status settle_group(struct builder *b, int raw, int *renumbered)
{
    int first = -1, members = 0;
    for (int i = 0; i < b->n; i++)
        if (b->pts[i].unified_group == raw) {
            first = first < 0 ? i : first;
            members++;
        }
    if (members < 2) {
        if (first >= 0)
            b->pts[first].unified_group = -1;
        return NNCW_OK;
    }
    struct nncw_quantizer_point *f = &b->pts[first];
    int m = 0;
    for (int k = 0; k < f->n_configs; k++) {
        bool everywhere = true;
        for (int i = first + 1; i < b->n && everywhere; i++)
            if (b->pts[i].unified_group == raw)
                everywhere =
                    nncw_qconfig_find(b->pts[i].configs, b->pts[i].n_configs, &f->configs[k]) >= 0;
        if (everywhere)
            f->configs[m++] = f->configs[k];
    }
    int id = m ? (*renumbered)++ : -1;
    if (!m)
        nncw_log(NNCW_LOG_WARN,
                 "quantizer setup: '%s' and the quantizers sharing its scale have "
                 "no configuration in common; they get separate scales",
                 f->id);
    else
        f->n_configs = m;
    for (int i = first; i < b->n; i++) {
        struct nncw_quantizer_point *p = &b->pts[i];
        if (p->unified_group != raw)
            continue;
        p->unified_group = -2 - id; /* settled marker, fixed below */
        if (m && p != f) {
            memcpy(p->configs, f->configs, (size_t)m * sizeof *f->configs);
            p->n_configs = m;
        }
    }
    return NNCW_OK;
}

static enum nncw_status settle_groups(struct builder *b, int *n_groups)
{
    *n_groups = 0;
    for (int i = 0; i < b->n; i++) /* in point order, so group numbers follow it */
        if (b->pts[i].unified_group >= 0)
            NNCW_TRY(settle_group(b, b->pts[i].unified_group, n_groups));
    for (int i = 0; i < b->n; i++)
        if (b->pts[i].unified_group <= -2)
            b->pts[i].unified_group = -2 - b->pts[i].unified_group;
    return NNCW_OK;
}

/* ---- overflow fix and range init ---- */

/* weighted nodes reached from a graph input without passing another weighted node */
static enum nncw_status first_layers(struct nncw_graph *g, bool *first)
{
    int nn = nncw_graph_count_nodes(g), nv = nncw_graph_count_values(g);
    bool *reached = nncw_calloc((size_t)(nv ? nv : 1), sizeof *reached);
    if (!reached)
        return nomem();
    for (int i = 0; i < nncw_graph_count_inputs(g); i++)
        reached[nncw_graph_get_input(g, i)] = true;
    const int *order;
    enum nncw_status s = nncw_graph_topo_order(g, &order);
    for (int k = 0; k < nn && s == NNCW_OK; k++) {
        const struct nncw_node *n = nncw_graph_get_node(g, order[k]);
        bool in = false;
        for (int i = 0; i < nncw_node_count_inputs(n); i++) {
            int v = nncw_node_get_input(n, i);
            in = in || (v >= 0 && reached[v]);
        }
        first[order[k]] = in && nncw_quant_weight_port(g, n) >= 0;
        for (int o = 0; o < nncw_node_count_outputs(n) && in && !first[order[k]]; o++)
            reached[nncw_node_get_output(n, o)] = true;
    }
    nncw_free(reached);
    return s;
}

static enum nncw_status set_half_range(struct builder *b)
{
    const struct nncw_quant_config *cfg = b->cfg;
    bool device = b->hw && strcmp(b->hw->target_device, "CPU") == 0 &&
                  (cfg->device == NNCW_DEVICE_ANY || cfg->device == NNCW_DEVICE_CPU);
    if (!device || cfg->overflow_fix == NNCW_OVERFLOW_FIX_DISABLE)
        return NNCW_OK;
    int nn = nncw_graph_count_nodes(b->g);
    bool *first = nncw_calloc((size_t)(nn ? nn : 1), sizeof *first);
    if (!first)
        return nomem();
    enum nncw_status s = cfg->overflow_fix == NNCW_OVERFLOW_FIX_FIRST_LAYER_ONLY
                             ? first_layers(b->g, first)
                             : NNCW_OK;
    for (int i = 0; i < b->n && s == NNCW_OK; i++) {
        struct nncw_quantizer_point *p = &b->pts[i];
        p->half_range = p->is_weight && p->configs[p->chosen].bits == 8 &&
                        (cfg->overflow_fix == NNCW_OVERFLOW_FIX_ENABLE || first[p->node]);
    }
    nncw_free(first);
    return s;
}

/* the name a point is matched by in range-init scopes: the weighted node, the producer (an
 * output quantizer) or the consumer (an input quantizer) */
static void point_scope(const struct nncw_quantizer_point *p, char *buf, size_t size)
{
    snprintf(buf, size, "%s", p->id);
    char *bar = strrchr(buf, '|');
    if (bar)
        *bar = '\0';
}

static void set_range_inits(struct builder *b)
{
    const struct nncw_quant_initializer *in = &b->cfg->init;
    for (int i = 0; i < b->n; i++) {
        struct nncw_quantizer_point *p = &b->pts[i];
        char name[1024];
        point_scope(p, name, sizeof name);
        int grp = p->is_weight ? 0 : 1;
        enum nncw_quantizer_group want =
            p->is_weight ? NNCW_QGROUP_WEIGHTS : NNCW_QGROUP_ACTIVATIONS;
        p->range_init_index = -1;
        for (int k = 0; k < b->cfg->n_overrides[grp]; k++) { /* the last matching wins */
            const struct nncw_scope_override *o = &b->cfg->overrides[grp][k];
            bool m = false;
            if (o->range_init >= 0 && nncw_scope_matches(o->scope, name, &m) == NNCW_OK && m)
                p->range_init_index = o->range_init;
        }
        if (p->range_init_index >= 0 || !in->range_per_layer)
            continue;
        for (int k = 0; k < in->n_range_entries; k++) { /* the first matching wins */
            const struct nncw_range_init_config *r = &in->ranges[k];
            if (r->group != NNCW_QGROUP_BOTH && r->group != want)
                continue;
            if (r->target.n && !nncw_scope_list_matches(&r->target, name))
                continue;
            if (nncw_scope_list_matches(&r->ignored, name))
                continue;
            p->range_init_index = k;
            break;
        }
    }
}

/* ---- lifecycle ---- */

void nncw_quantizer_setup_free(struct nncw_quantizer_setup *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_points; i++) {
        nncw_free(s->points[i].id);
        nncw_free(s->points[i].targets);
        nncw_free(s->points[i].configs);
    }
    nncw_free(s->points);
    nncw_free(s);
}

static void free_builder_points(struct builder *b)
{
    struct nncw_quantizer_setup tmp = {.n_points = b->n, .points = b->pts};
    for (int i = 0; i < tmp.n_points; i++) {
        nncw_free(tmp.points[i].id);
        nncw_free(tmp.points[i].targets);
        nncw_free(tmp.points[i].configs);
    }
    nncw_free(b->pts);
    b->pts = NULL;
    b->n = 0;
}

static enum nncw_status assemble(struct builder *b, struct nncw_quantizer_setup *s)
{
    NNCW_TRY(add_weights(b));
    struct nncw_qp_result *r = NULL;
    int nr = 0;
    NNCW_TRY(nncw_qp_solve(&b->qg, b->cfg, &r, &nr));
    enum nncw_status st = add_activations(b, r, nr);
    nncw_qp_results_free(r, nr);
    NNCW_TRY(st);
    NNCW_TRY(sort_points(b));
    NNCW_TRY(settle_groups(b, &s->n_unified_groups));
    NNCW_TRY(set_half_range(b));
    set_range_inits(b);
    for (int i = 0; i < b->n; i++) {
        s->n_weights += b->pts[i].is_weight;
        s->n_activations += !b->pts[i].is_weight;
    }
    snprintf(s->target_device, sizeof s->target_device, "%s",
             b->hw ? b->hw->target_device : "TRIAL");
    return NNCW_OK;
}

enum nncw_status nncw_quantizer_setup_build(struct nncw_graph *g,
                                            const struct nncw_quant_config *cfg,
                                            const struct nncw_hw_config *hw,
                                            struct nncw_quantizer_setup **out)
{
    if (!g || !cfg || !out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "quantizer setup: graph and config required");
    NNCW_TRY(check_scopes(g, cfg));
    NNCW_TRY(nncw_quant_config_check_hw(cfg, hw)); /* the device-wide message first */
    struct builder b = {.g = g, .cfg = cfg, .hw = hw};
    NNCW_TRY(nncw_qp_graph_build(g, cfg, hw, &b.qg));
    struct nncw_quantizer_setup *s = nncw_calloc(1, sizeof *s);
    enum nncw_status st = s ? assemble(&b, s) : nomem();
    nncw_qp_graph_fini(&b.qg);
    nncw_free(b.sort_key);
    nncw_free(b.sort_port);
    if (st != NNCW_OK) {
        free_builder_points(&b);
        nncw_free(s);
        return st;
    }
    s->points = b.pts;
    s->n_points = b.n;
    *out = s;
    return NNCW_OK;
}

/* ---- queries ---- */

const struct nncw_quantizer_point *nncw_quantizer_setup_find(const struct nncw_quantizer_setup *s,
                                                             const char *id)
{
    for (int i = 0; i < s->n_points; i++)
        if (strcmp(s->points[i].id, id) == 0)
            return &s->points[i];
    return NULL;
}

enum nncw_status nncw_quantizer_setup_describe(const struct nncw_quantizer_setup *s,
                                               char **out_text)
{
    size_t cap = 256, len = 0;
    for (int i = 0; i < s->n_points; i++)
        cap += strlen(s->points[i].id) + 96;
    char *text = nncw_malloc(cap);
    if (!text)
        return nomem();
    text[0] = '\0';
    for (int i = 0; i < s->n_points; i++) {
        const struct nncw_quantizer_point *p = &s->points[i];
        const struct nncw_qconfig *c = &p->configs[p->chosen];
        char group[16] = "-";
        if (p->unified_group >= 0)
            snprintf(group, sizeof group, "%d", p->unified_group);
        len += (size_t)snprintf(
            text + len, cap - len, "%c %s %d %s %s %s group=%s%s", p->is_weight ? 'W' : 'A', p->id,
            c->bits, c->mode == NNCW_QMODE_SYMMETRIC ? "sym" : "asym",
            c->signedness == 1   ? "signed"
            : c->signedness == 0 ? "unsigned"
                                 : "any",
            c->per_channel ? "perchannel" : "pertensor", group, p->half_range ? " half_range" : "");
        if (p->n_configs > 1)
            len += (size_t)snprintf(text + len, cap - len, " +%d", p->n_configs - 1);
        len += (size_t)snprintf(text + len, cap - len, "\n");
    }
    *out_text = text;
    return NNCW_OK;
}
