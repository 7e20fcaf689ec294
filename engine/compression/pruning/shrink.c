/*
** The pruned model with the masked filters really gone (NNCF 2.0's prepare_for_export): a new
** graph where each conv keeps only its unmasked output channels and the input channels its
** producer kept, batch norms and per-channel quantizer parameters keep the channels they see,
** a Gemm after Flatten keeps the columns of the kept channels, depthwise convs shrink their
** group count, and the mask Mul nodes are dropped. Since a masked channel is exactly zero after
** its (masked) batch norm and every op on the way maps 0 to 0 (pruning_graph.c stops at the
** others), the shrunk graph computes what the masked one does.
*/
#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/pruning/pruning_internal.h"
#include "core/alloc.h"
#include "core/text_table.h"

/* which activation's channels each of a parameter's first two dims follows (-1: none) */
struct spec {
    int d0, d1;
};

struct shrink {
    const struct nncw_pruning *pr;
    const struct nncw_graph *g;
    struct nncw_graph *out;
    struct spec *spec; /* per old value */
    int *map;          /* old value id -> new value id (-1: not yet) */
    bool *mask_node;   /* per old node */
};

static bool is_quantizer(const struct nncw_node *n)
{
    return n && (nncw_node_get_op(n) == NNCW_OP_QUANTIZE_SYMMETRIC ||
                 nncw_node_get_op(n) == NNCW_OP_QUANTIZE_ASYMMETRIC);
}

/* through a mask node to the parameter it masks */
static int unmask(const struct shrink *sh, int v)
{
    const struct nncw_node *p = v >= 0 ? nncw_graph_get_producer(sh->g, v) : NULL;
    return p && sh->mask_node[nncw_node_get_index(p)] ? nncw_node_get_input(p, 0) : v;
}

static bool is_param(const struct nncw_graph *g, int v)
{
    return v >= 0 && nncw_graph_get_value_kind(g, v) == NNCW_VALUE_PARAM;
}

static bool labelled(const struct shrink *sh, int v)
{
    return v >= 0 && v < sh->pr->an.n_values && sh->pr->an.labels[v].n > 0;
}

/* a quantizer's per-channel parameters follow the channel axis of size c along dim */
static void quantizer_spec(struct shrink *sh, const struct nncw_node *q, int label, int64_t c,
                           int dim)
{
    for (int i = 1; i < nncw_node_count_inputs(q); i++) {
        int p = nncw_node_get_input(q, i);
        if (!is_param(sh->g, p))
            continue;
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(sh->g, p);
        if (nncw_tensor_numel(t) > 1 && t->ndim > dim && t->shape[dim] == c) {
            if (dim == 0)
                sh->spec[p].d0 = label;
            else
                sh->spec[p].d1 = label;
        }
    }
}

/* the weight's parameter, through a weight quantizer and the mask */
static int weight_spec(struct shrink *sh, const struct nncw_node *n, int d0, int d1)
{
    int v = unmask(sh, nncw_node_count_inputs(n) > 1 ? nncw_node_get_input(n, 1) : -1);
    const struct nncw_node *q = v >= 0 ? nncw_graph_get_producer(sh->g, v) : NULL;
    if (is_quantizer(q)) {
        int c0 = d0 >= 0 ? (int)nncw_prune_label_kept(sh->pr, d0, NULL) : -1;
        if (d0 >= 0)
            quantizer_spec(sh, q, d0, c0, 0);
        v = unmask(sh, nncw_node_get_input(q, 0));
    }
    if (!is_param(sh->g, v))
        return -1;
    sh->spec[v] = (struct spec){d0, d1};
    return v;
}

static void collect_specs(struct shrink *sh)
{
    const struct nncw_graph *g = sh->g;
    for (int i = 0; i < sh->pr->an.n_values; i++)
        sh->spec[i] = (struct spec){-1, -1};
    for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        enum nncw_op op = nncw_node_get_op(n);
        int x = nncw_node_get_input(n, 0), y = nncw_node_get_output(n, 0);
        if (op == NNCW_OP_CONV) {
            bool grouped = nncw_node_get_attr_int(n, "group", 1) > 1;
            int out = labelled(sh, y) ? y : -1, in = !grouped && labelled(sh, x) ? x : -1;
            weight_spec(sh, n, out, in);
            int b = unmask(sh, nncw_node_count_inputs(n) > 2 ? nncw_node_get_input(n, 2) : -1);
            if (is_param(g, b))
                sh->spec[b].d0 = out;
        } else if (op == NNCW_OP_BATCHNORM && labelled(sh, x)) {
            for (int p = 1; p < nncw_node_count_inputs(n); p++) {
                int v = unmask(sh, nncw_node_get_input(n, p));
                if (is_param(g, v))
                    sh->spec[v].d0 = x;
            }
        } else if (op == NNCW_OP_GEMM && labelled(sh, x)) {
            bool tb = nncw_node_get_attr_int(n, "transB", 0) != 0;
            weight_spec(sh, n, tb ? -1 : x, tb ? x : -1);
        } else if (is_quantizer(n) && labelled(sh, x)) {
            quantizer_spec(sh, n, x, nncw_prune_label_kept(sh->pr, x, NULL), 1);
        }
    }
}

/* the channels of v the current masks keep */
static int64_t kept_now(const struct nncw_pruning *pr, int v)
{
    int64_t *kept = nncw_malloc((size_t)(pr->n_groups ? pr->n_groups : 1) * sizeof *kept);
    if (!kept)
        return nncw_prune_label_kept(pr, v, NULL);
    for (int gi = 0; gi < pr->n_groups; gi++)
        kept[gi] = pr->groups[gi].kept;
    int64_t k = nncw_prune_label_kept(pr, v, kept);
    nncw_free(kept);
    return k;
}

/* ---- copying ---- */

static enum nncw_status copy_attrs(const struct nncw_node *src, struct nncw_node *dst)
{
    for (int i = 0; i < nncw_node_count_attrs(src); i++) {
        const char *name = nncw_node_get_attr_name(src, i);
        const int64_t *ints;
        const float *floats;
        int n;
        switch (nncw_node_get_attr_type(src, i)) {
        case NNCW_ATTR_INT:
            NNCW_TRY(nncw_node_set_attr_int(dst, name, nncw_node_get_attr_int(src, name, 0)));
            break;
        case NNCW_ATTR_FLOAT:
            NNCW_TRY(
                nncw_node_set_attr_float(dst, name, nncw_node_get_attr_float(src, name, 0.0f)));
            break;
        case NNCW_ATTR_INTS:
            n = nncw_node_get_attr_ints(src, name, &ints);
            NNCW_TRY(nncw_node_set_attr_ints(dst, name, n, ints));
            break;
        case NNCW_ATTR_FLOATS:
            n = nncw_node_get_attr_floats(src, name, &floats);
            NNCW_TRY(nncw_node_set_attr_floats(dst, name, n, floats));
            break;
        default:
            NNCW_TRY(
                nncw_node_set_attr_string(dst, name, nncw_node_get_attr_string(src, name, "")));
            break;
        }
    }
    return NNCW_OK;
}

/* the parameter with the rows/columns whose mask entry is 0 left out */
static enum nncw_status slice_param(struct shrink *sh, int v, int *out_id)
{
    const struct nncw_tensor *t = nncw_graph_get_value_tensor(sh->g, v);
    struct spec sp = v < sh->pr->an.n_values ? sh->spec[v] : (struct spec){-1, -1};
    float *keep[2] = {NULL, NULL};
    int64_t shape[NNCW_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    int dims[2] = {sp.d0, t->ndim > 1 ? sp.d1 : -1};
    enum nncw_status s = NNCW_OK;
    for (int d = 0; d < 2 && s == NNCW_OK; d++) {
        if (dims[d] < 0)
            continue;
        keep[d] = nncw_malloc((size_t)t->shape[d] * sizeof(float));
        if (!keep[d]) {
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "pruned graph: out of memory");
            break;
        }
        int64_t len = nncw_prune_label_mask(sh->pr, dims[d], keep[d]);
        if (len != t->shape[d])
            s = NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                          "pruned graph: '%s' has %lld entries on axis %d for %lld channels",
                          nncw_graph_get_value_name(sh->g, v), (long long)t->shape[d], d,
                          (long long)len);
        shape[d] = 0;
        for (int64_t i = 0; i < len && s == NNCW_OK; i++)
            shape[d] += keep[d][i] != 0.0f;
    }
    struct nncw_tensor nt;
    if (s == NNCW_OK)
        s = nncw_tensor_init(&nt, t->dtype, t->ndim, shape);
    if (s == NNCW_OK) {
        int64_t inner = 1, d1 = t->ndim > 1 ? t->shape[1] : 1;
        for (int d = 2; d < t->ndim; d++)
            inner *= t->shape[d];
        size_t es =
            nncw_tensor_nbytes(t) / (size_t)(nncw_tensor_numel(t) ? nncw_tensor_numel(t) : 1);
        const char *src = t->data;
        char *dst = nt.data;
        for (int64_t i0 = 0; i0 < (t->ndim ? t->shape[0] : 1); i0++)
            for (int64_t i1 = 0; i1 < d1; i1++) {
                if ((keep[0] && keep[0][i0] == 0.0f) || (keep[1] && keep[1][i1] == 0.0f))
                    continue;
                memcpy(dst, src + (size_t)((i0 * d1 + i1) * inner) * es, (size_t)inner * es);
                dst += (size_t)inner * es;
            }
        s = nncw_graph_add_param(sh->out, nncw_graph_get_value_name(sh->g, v), &nt,
                                 nncw_graph_is_trainable(sh->g, v), out_id);
        nncw_tensor_fini(&nt);
    }
    nncw_free(keep[0]);
    nncw_free(keep[1]);
    return s;
}

static enum nncw_status map_value(struct shrink *sh, int v, int *out)
{
    if (v < 0) {
        *out = -1;
        return NNCW_OK;
    }
    if (sh->map[v] < 0) {
        if (nncw_graph_get_value_kind(sh->g, v) != NNCW_VALUE_PARAM)
            return NNCW_FAIL(NNCW_ERR_INTERNAL, "pruned graph: value '%s' read before it is made",
                             nncw_graph_get_value_name(sh->g, v));
        NNCW_TRY(slice_param(sh, v, &sh->map[v]));
    }
    *out = sh->map[v];
    return NNCW_OK;
}

static enum nncw_status copy_node(struct shrink *sh, const struct nncw_node *n)
{
    int idx = nncw_node_get_index(n);
    if (sh->mask_node[idx]) { /* its reader takes the (sliced) parameter itself */
        int v;
        NNCW_TRY(map_value(sh, nncw_node_get_input(n, 0), &v));
        sh->map[nncw_node_get_output(n, 0)] = v;
        return NNCW_OK;
    }
    int n_in = nncw_node_count_inputs(n), n_out = nncw_node_count_outputs(n);
    int in[64], out[16];
    if (n_in > 64 || n_out > 16)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "pruned graph: node '%s' has too many inputs",
                         nncw_node_get_name(n));
    for (int i = 0; i < n_in; i++)
        NNCW_TRY(map_value(sh, nncw_node_get_input(n, i), &in[i]));
    struct nncw_node *m;
    NNCW_TRY(nncw_graph_add_node(sh->out, nncw_node_get_op(n), nncw_node_get_name(n), n_in, in,
                                 n_out, out, &m));
    NNCW_TRY(copy_attrs(n, m));
    int y = nncw_node_get_output(n, 0);
    if (nncw_node_get_op(n) == NNCW_OP_CONV && nncw_node_get_attr_int(n, "group", 1) > 1 &&
        labelled(sh, y)) /* depthwise: one group per kept channel */
        NNCW_TRY(nncw_node_set_attr_int(m, "group", kept_now(sh->pr, y)));
    for (int o = 0; o < n_out; o++) {
        int old = nncw_node_get_output(n, o);
        sh->map[old] = out[o];
        NNCW_TRY(nncw_graph_set_value_name(sh->out, out[o], nncw_graph_get_value_name(sh->g, old)));
    }
    return NNCW_OK;
}

static enum nncw_status copy_inputs(struct shrink *sh)
{
    for (int i = 0; i < nncw_graph_count_inputs(sh->g); i++) {
        int v = nncw_graph_get_input(sh->g, i);
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(sh->g, v);
        int64_t shape[NNCW_MAX_DIMS];
        memcpy(shape, t->shape, sizeof shape);
        if (nncw_graph_has_dynamic_batch(sh->g, v))
            shape[0] = -1;
        NNCW_TRY(nncw_graph_add_input(sh->out, nncw_graph_get_value_name(sh->g, v), t->dtype,
                                      t->ndim, shape, &sh->map[v]));
    }
    return NNCW_OK;
}

static enum nncw_status build(struct shrink *sh)
{
    NNCW_TRY(copy_inputs(sh));
    const int *order;
    NNCW_TRY(nncw_graph_topo_order((struct nncw_graph *)sh->g, &order));
    for (int k = 0; k < nncw_graph_count_nodes(sh->g); k++)
        NNCW_TRY(copy_node(sh, nncw_graph_get_node(sh->g, order[k])));
    for (int i = 0; i < nncw_graph_count_outputs(sh->g); i++) {
        int v;
        NNCW_TRY(map_value(sh, nncw_graph_get_output(sh->g, i), &v));
        NNCW_TRY(nncw_graph_add_output(sh->out, v));
    }
    return nncw_graph_infer_shapes(sh->out, 1);
}

/* one row per conv or Gemm whose channels changed, and the totals */
static char *shrink_table(const struct nncw_pruning *pr)
{
    struct nncw_text_table *t = nncw_text_table_new(
        4, (const char *[]){"Layer", "Input channels", "Output channels", "MFLOPS"});
    int64_t *kept = nncw_malloc((size_t)(pr->n_groups ? pr->n_groups : 1) * sizeof *kept);
    if (!kept) {
        nncw_text_table_free(t);
        return NULL;
    }
    for (int gi = 0; gi < pr->n_groups; gi++)
        kept[gi] = pr->groups[gi].kept;
    for (int i = 0; i < pr->n_cost; i++) {
        const struct nncw_prune_cost_node *cn = &pr->cost[i];
        int64_t ci = pr->an.labels[cn->in].n ? nncw_prune_label_kept(pr, cn->in, kept) : cn->c_in;
        int64_t co = !cn->gemm && pr->an.labels[cn->out].n
                         ? nncw_prune_label_kept(pr, cn->out, kept)
                         : cn->c_out;
        if (ci == cn->c_in && co == cn->c_out)
            continue;
        int64_t pg_full = cn->depthwise || cn->gemm ? 1 : cn->c_in / cn->groups;
        int64_t pg_now = cn->depthwise || cn->gemm ? 1 : ci / cn->groups;
        if (cn->gemm)
            pg_full = cn->c_in, pg_now = ci;
        double before = 2.0 * (double)(cn->kernel * pg_full * cn->c_out * cn->spatial) / 1e6;
        double after = 2.0 * (double)(cn->kernel * pg_now * co * cn->spatial) / 1e6;
        char a[48], b[48], c[64];
        snprintf(a, sizeof a, "%lld -> %lld", (long long)cn->c_in, (long long)ci);
        snprintf(b, sizeof b, "%lld -> %lld", (long long)cn->c_out, (long long)co);
        snprintf(c, sizeof c, "%.3f -> %.3f", before, after);
        nncw_text_table_add_row(
            t, (const char *[]){nncw_node_get_name(nncw_graph_get_node(pr->g, cn->node)), a, b, c});
    }
    int64_t ff, fp, pf, pp;
    nncw_prune_cost(pr, NULL, &ff, &pf);
    nncw_prune_cost(pr, kept, &fp, &pp);
    nncw_free(kept);
    char f[64], p[64];
    snprintf(f, sizeof f, "%.3f -> %.3f", (double)ff / 1e6, (double)fp / 1e6);
    snprintf(p, sizeof p, "params %.4fM -> %.4fM", (double)pf / 1e6, (double)pp / 1e6);
    nncw_text_table_add_row(t, (const char *[]){"(whole model)", "", p, f});
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

enum nncw_status nncw_compression_prune_graph(const struct nncw_compression *c,
                                              struct nncw_graph **out, char **table)
{
    const struct nncw_compression_algo *a = nncw_compression_find_algo(c, "filter_pruning");
    if (!a)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "compression: there is no filter_pruning algorithm");
    struct nncw_pruning *pr = a->self;
    if (!pr->cfg->prune_batch_norms && pr->n_groups > 0)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "pruned graph: filter_pruning %s has prune_batch_norms false, so pruned "
                         "channels are not zero after their batch norms and cannot be removed",
                         pr->cfg->path);
    nncw_prune_read_masks(pr);
    struct shrink sh = {.pr = pr, .g = pr->g};
    int values = nncw_graph_count_values(pr->g), nodes = nncw_graph_count_nodes(pr->g);
    sh.spec = nncw_calloc((size_t)(values ? values : 1), sizeof *sh.spec);
    sh.map = nncw_malloc((size_t)(values ? values : 1) * sizeof *sh.map);
    sh.mask_node = nncw_calloc((size_t)(nodes ? nodes : 1), sizeof *sh.mask_node);
    enum nncw_status s = NNCW_OK;
    if (!sh.spec || !sh.map || !sh.mask_node)
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "pruned graph: out of memory");
    if (s == NNCW_OK) {
        for (int v = 0; v < values; v++)
            sh.map[v] = -1;
        for (int i = 0; i < pr->n_sites; i++)
            sh.mask_node[pr->sites[i].node] = true;
        collect_specs(&sh);
        s = nncw_graph_new(&sh.out);
    }
    if (s == NNCW_OK)
        s = build(&sh);
    char *text = NULL;
    if (s == NNCW_OK && table && !(text = shrink_table(pr)))
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "pruned graph: out of memory");
    nncw_free(sh.spec);
    nncw_free(sh.map);
    nncw_free(sh.mask_node);
    if (s != NNCW_OK) {
        nncw_graph_free(sh.out);
        return s;
    }
    *out = sh.out;
    if (table)
        *table = text;
    return NNCW_OK;
}
