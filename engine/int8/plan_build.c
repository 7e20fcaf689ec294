/*
** The planner: one pass over the graph in topological order decides, node by node, whether it
** runs in integer and what it folds, then plan_finish.c keeps the steps something reads,
** sizes the u8 buffers and binds the kernels.
**
** A value has codes (u8, NHWC, one quantizer's zero point and step) when an activation
** quantizer produced it or an integer op passed codes through. Conv / Gemm / MatMul of codes by
** quantized weights run in integer and fold what follows up to the next quantizer; MaxPool,
** Relu, Flatten, Reshape, Identity and Dropout keep codes codes; Add and GlobalAveragePool of
** codes compute in float from them and quantize for the next quantizer. Any other node runs
** as the float op on the float form of its inputs, which the integer steps then also write.
*/
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"
#include "graph/exec_internal.h"
#include "int8/plan_internal.h"

struct nncw_int8_options nncw_int8_defaults(void)
{
    return (struct nncw_int8_options){.batch = 1, .isa = NNCW_INT8_ISA_AUTO, .threads = 0};
}

/* ---- helpers shared by the step builders ---- */

struct nncw_tensor *nncw_i8_f32(struct nncw_int8_plan *p, int v)
{
    return &p->ex->val[v];
}

const struct i8_qpoint *nncw_i8_qpoint_of_value(const struct nncw_int8_plan *p, int v)
{
    struct nncw_node *prod = nncw_graph_get_producer(p->g, v);
    if (!prod || p->qp_of[nncw_node_get_index(prod)] < 0)
        return NULL;
    const struct i8_qpoint *q = &p->qp[p->qp_of[nncw_node_get_index(prod)]];
    return q->out == v ? q : NULL;
}

bool nncw_i8_qpoint_is_act(const struct nncw_int8_plan *p, const struct i8_qpoint *q)
{
    if (q->weight || q->channels != 1 || q->qmax > 255 || q->zp[0] < 0 || q->zp[0] > q->qmax)
        return false;
    /* integer steps work image by image: the first dimension must be the batch */
    const struct nncw_tensor *x = nncw_exec_get_value(p->ex, q->x);
    return x->dtype == NNCW_DTYPE_F32 && (x->ndim == 2 || x->ndim == 4) &&
           x->shape[0] == p->opt.batch && x->shape[1] <= 65536;
}

const struct i8_qpoint *nncw_i8_quantizer_reading(const struct nncw_int8_plan *p, int v)
{
    int r = p->single_reader[v];
    if (r < 0 || p->qp_of[r] < 0)
        return NULL;
    const struct i8_qpoint *q = &p->qp[p->qp_of[r]];
    if (q->x != v || !nncw_i8_qpoint_is_act(p, q))
        return NULL;
    if (q->head >= 0) {
        int mid = nncw_node_get_output(nncw_graph_get_node(p->g, q->head), 0);
        if (p->single_reader[mid] != q->node || p->is_output[mid])
            return NULL;
    }
    return q;
}

/* the shape of value v as an i8_act (2-D: h = w = 1), no buffer */
static void act_shape(struct nncw_int8_plan *p, int v, struct i8_act *a)
{
    const struct nncw_tensor *t = nncw_exec_get_value(p->ex, v);
    a->n = t->shape[0];
    a->c = (int)t->shape[1];
    a->h = t->ndim == 4 ? (int)t->shape[2] : 1;
    a->w = t->ndim == 4 ? (int)t->shape[3] : 1;
    a->cp = (a->c + 3) / 4 * 4;
    a->border = 0;
    a->data = NULL;
    a->view_of = -1;
}

void nncw_i8_value_set_u8(struct nncw_int8_plan *p, int v, const struct i8_qpoint *q)
{
    struct i8_act *a = &p->val[v].a;
    act_shape(p, v, a);
    a->inv_s = q->inv_s[0];
    a->zp = q->zp[0];
    a->qmax = q->qmax;
    p->val[v].has_u8 = true;
}

/* value v gets codes with the parameters of value src (an op that passes codes through) */
static void value_pass_u8(struct nncw_int8_plan *p, int v, int src)
{
    struct i8_act *a = &p->val[v].a, *s = &p->val[src].a;
    act_shape(p, v, a);
    a->inv_s = s->inv_s;
    a->zp = s->zp;
    a->qmax = s->qmax;
    p->val[v].has_u8 = true;
}

enum nncw_status nncw_i8_step_add(struct nncw_int8_plan *p, enum i8_step_kind kind, int n_nodes,
                                  const int *nodes, struct i8_step **out)
{
    if (p->n_steps == p->cap_steps) {
        int cap = p->cap_steps ? 2 * p->cap_steps : 64;
        struct i8_step *st = nncw_realloc(p->steps, (size_t)cap * sizeof *st);
        if (!st)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory planning");
        p->steps = st;
        p->cap_steps = cap;
    }
    struct i8_step *s = &p->steps[p->n_steps];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->in[0] = s->in[1] = s->out = -1;
    s->pos = -1;
    s->nodes = nncw_malloc((size_t)p->n_nodes * sizeof *s->nodes);
    if (!s->nodes)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory planning");
    p->n_steps++;
    for (int i = 0; i < n_nodes; i++)
        NNCW_TRY(nncw_i8_step_cover(p, s, nodes[i]));
    *out = s;
    return NNCW_OK;
}

enum nncw_status nncw_i8_step_cover(struct nncw_int8_plan *p, struct i8_step *s, int n)
{
    NNCW_ASSERT(s->n_nodes < p->n_nodes && !p->absorbed[n]);
    s->nodes[s->n_nodes++] = n;
    p->absorbed[n] = true;
    if (p->pos[n] > s->pos)
        s->pos = p->pos[n];
    return NNCW_OK;
}

/* ---- graph facts ---- */

static enum nncw_status analyse(struct nncw_int8_plan *p)
{
    struct nncw_graph *g = p->g;
    int nv = p->n_values, nn = p->n_nodes;
    p->val = nncw_calloc((size_t)nv, sizeof *p->val);
    p->pos = nncw_calloc((size_t)nn + 1, sizeof *p->pos);
    p->consumers = nncw_calloc((size_t)nv, sizeof *p->consumers);
    p->single_reader = nncw_calloc((size_t)nv, sizeof *p->single_reader);
    p->is_output = nncw_calloc((size_t)nv, sizeof *p->is_output);
    p->qp = nncw_calloc((size_t)nn + 1, sizeof *p->qp);
    p->qp_of = nncw_calloc((size_t)nn + 1, sizeof *p->qp_of);
    p->absorbed = nncw_calloc((size_t)nn + 1, sizeof *p->absorbed);
    if (!p->val || !p->pos || !p->consumers || !p->single_reader || !p->is_output || !p->qp ||
        !p->qp_of || !p->absorbed)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory planning");
    for (int k = 0; k < nn; k++)
        p->pos[p->ex->order[k]] = k;
    for (int v = 0; v < nv; v++)
        p->single_reader[v] = -1;
    for (int i = 0; i < nn; i++) {
        struct nncw_node *n = nncw_graph_get_node(g, i);
        for (int k = 0; k < nncw_node_count_inputs(n); k++) {
            int v = nncw_node_get_input(n, k);
            if (v < 0)
                continue;
            /* a node reading a value twice still counts once */
            bool seen = false;
            for (int j = 0; j < k; j++)
                seen |= nncw_node_get_input(n, j) == v;
            if (seen)
                continue;
            p->consumers[v]++;
            p->single_reader[v] = p->consumers[v] == 1 ? i : -1;
        }
    }
    for (int i = 0; i < nncw_graph_count_outputs(g); i++)
        p->is_output[nncw_graph_get_output(g, i)] = true;
    for (int i = 0; i < nn; i++)
        p->qp_of[i] = -1;
    for (int i = 0; i < nn; i++) {
        const char *why;
        bool is_point;
        NNCW_TRY(nncw_i8_qpoint_parse(g, p->ex, i, &p->qp[p->n_qp], &is_point, &why));
        if (!is_point)
            continue;
        const struct i8_qpoint *q = &p->qp[p->n_qp];
        p->qp_of[i] = p->n_qp;
        if (q->head >= 0)
            p->qp_of[q->head] = p->n_qp;
        p->n_qp++;
    }
    return NNCW_OK;
}

/* ---- one node ---- */

static enum nncw_status float_step(struct nncw_int8_plan *p, int n, const char *why)
{
    struct i8_step *s;
    NNCW_TRY(nncw_i8_step_add(p, I8_STEP_FLOAT, 1, &n, &s));
    s->why = why;
    return NNCW_OK;
}

/* a step passing codes from input 0 to output 0 */
static enum nncw_status pass_step(struct nncw_int8_plan *p, int n, enum i8_step_kind kind,
                                  struct i8_step **out)
{
    struct nncw_node *node = nncw_graph_get_node(p->g, n);
    struct i8_step *s;
    NNCW_TRY(nncw_i8_step_add(p, kind, 1, &n, &s));
    s->in[0] = nncw_node_get_input(node, 0);
    s->out = nncw_node_get_output(node, 0);
    s->out_u8 = true;
    value_pass_u8(p, s->out, s->in[0]);
    if (out)
        *out = s;
    return NNCW_OK;
}

static enum nncw_status quantize_step(struct nncw_int8_plan *p, const struct i8_qpoint *q)
{
    struct i8_step *s;
    int nodes[2] = {q->head, q->node};
    bool with_head = q->head >= 0 && !p->absorbed[q->head];
    NNCW_TRY(nncw_i8_step_add(p, I8_STEP_QUANTIZE, with_head ? 2 : 1, nodes + !with_head, &s));
    s->quant = q;
    s->in[0] = q->x;
    s->out = q->out;
    s->out_u8 = true;
    nncw_i8_value_set_u8(p, q->out, q);
    if (!p->val[q->x].has_u8)
        return NNCW_OK;
    /* codes -> codes: the float model dequantizes and quantizes again; a table does the same */
    const struct i8_act *a = &p->val[q->x].a;
    s->lut = nncw_malloc(256);
    if (!s->lut)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory planning");
    for (int c = 0; c < 256; c++) {
        float real = (float)(c - a->zp) * a->inv_s;
        s->lut[c] = (uint8_t)nncw_i8_code(q, 0, real);
    }
    return NNCW_OK;
}

/* what follows an Add or a GlobalAveragePool: a Relu / Clip, then an activation quantizer */
static enum nncw_status fold_after(struct nncw_int8_plan *p, struct i8_step *s)
{
    s->lo = -INFINITY;
    s->hi = INFINITY;
    for (;;) {
        int cur = s->out, r = p->single_reader[cur];
        if (p->is_output[cur] || r < 0)
            return NNCW_OK;
        struct nncw_node *n = nncw_graph_get_node(p->g, r);
        const struct i8_qpoint *q = nncw_i8_quantizer_reading(p, cur);
        if (q) {
            if (q->head >= 0)
                NNCW_TRY(nncw_i8_step_cover(p, s, q->head));
            NNCW_TRY(nncw_i8_step_cover(p, s, q->node));
            s->quant = q;
            s->out = q->out;
            s->out_u8 = true;
            nncw_i8_value_set_u8(p, q->out, q);
            return NNCW_OK;
        }
        enum nncw_op op = nncw_node_get_op(n);
        if (op != NNCW_OP_RELU || s->lo >= 0.0f)
            return NNCW_OK;
        s->lo = 0.0f;
        NNCW_TRY(nncw_i8_step_cover(p, s, r));
        s->out = nncw_node_get_output(n, 0);
        act_shape(p, s->out, &p->val[s->out].a);
    }
}

static bool same_dims(const struct i8_act *a, const struct i8_act *b)
{
    return a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w;
}

/* Add or GlobalAveragePool of codes */
static enum nncw_status reduce_step(struct nncw_int8_plan *p, int n, enum i8_step_kind kind,
                                    const char **why, bool *ok)
{
    struct nncw_node *node = nncw_graph_get_node(p->g, n);
    int a = nncw_node_get_input(node, 0),
        b = kind == I8_STEP_ADD ? nncw_node_get_input(node, 1) : a;
    const struct nncw_tensor *x = nncw_exec_get_value(p->ex, a);
    *ok = false;
    if (!p->val[a].has_u8 || !p->val[b].has_u8) {
        *why = "input is not quantized per tensor";
        return NNCW_OK;
    }
    if (!same_dims(&p->val[a].a, &p->val[b].a) || x->shape[1] > 8192 ||
        (kind == I8_STEP_GAP && x->ndim != 4)) {
        *why = kind == I8_STEP_ADD ? "broadcasting Add" : "unsupported shape";
        return NNCW_OK;
    }
    struct i8_step *s;
    NNCW_TRY(nncw_i8_step_add(p, kind, 1, &n, &s));
    s->in[0] = a;
    s->in[1] = b;
    s->out = nncw_node_get_output(node, 0);
    act_shape(p, s->out, &p->val[s->out].a);
    *ok = true;
    return fold_after(p, s);
}

/* Flatten / Reshape of codes into [n, c * h * w] (or the same shape) */
static enum nncw_status reshape_step(struct nncw_int8_plan *p, int n, const char **why, bool *ok)
{
    struct nncw_node *node = nncw_graph_get_node(p->g, n);
    int x = nncw_node_get_input(node, 0), y = nncw_node_get_output(node, 0);
    const struct nncw_tensor *tx = nncw_exec_get_value(p->ex, x);
    const struct nncw_tensor *ty = nncw_exec_get_value(p->ex, y);
    *ok = false;
    if (!p->val[x].has_u8) {
        *why = "input is not quantized per tensor";
        return NNCW_OK;
    }
    if (nncw_tensor_same_shape(tx, ty)) {
        *ok = true;
        return pass_step(p, n, I8_STEP_VIEW, NULL);
    }
    if (ty->ndim != 2 || ty->shape[0] != tx->shape[0] || tx->ndim != 4) {
        *why = "reshape other than flattening";
        return NNCW_OK;
    }
    *ok = true;
    return pass_step(p, n, I8_STEP_RELAYOUT, NULL);
}

static bool is_read(const struct nncw_int8_plan *p, int v)
{
    return p->consumers[v] > 0 || p->is_output[v];
}

static enum nncw_status maxpool_step(struct nncw_int8_plan *p, int n, const char **why, bool *ok)
{
    struct i8_pool *pl;
    NNCW_TRY(nncw_i8_pool_parse(p, n, &pl, why));
    if (!pl)
        return NNCW_OK;
    struct i8_step *s;
    enum nncw_status st = pass_step(p, n, I8_STEP_MAXPOOL, &s);
    if (st != NNCW_OK) {
        nncw_i8_pool_free(pl);
        return st;
    }
    s->pool = pl;
    *ok = true;
    return NNCW_OK;
}

static enum nncw_status plan_node(struct nncw_int8_plan *p, int n)
{
    struct nncw_node *node = nncw_graph_get_node(p->g, n);
    enum nncw_op op = nncw_node_get_op(node);
    int x = nncw_node_count_inputs(node) > 0 ? nncw_node_get_input(node, 0) : -1;
    bool in_u8 = x >= 0 && p->val[x].has_u8, ok = false;
    const char *why = "no integer kernel", *not_u8 = "input is not quantized per tensor";
    if (p->qp_of[n] >= 0) {
        const struct i8_qpoint *q = &p->qp[p->qp_of[n]];
        int head_out =
            q->head >= 0 ? nncw_node_get_output(nncw_graph_get_node(p->g, q->head), 0) : -1;
        if (q->head == n && p->single_reader[head_out] == q->node && !p->is_output[head_out])
            return NNCW_OK; /* covered with its DequantizeLinear */
        if (q->node == n && nncw_i8_qpoint_is_act(p, q))
            return quantize_step(p, q);
        return float_step(p, n, q->weight ? "weight quantizer" : "per-channel or wide quantizer");
    }
    switch (op) {
    case NNCW_OP_CONV:
    case NNCW_OP_GEMM:
    case NNCW_OP_MATMUL:
        NNCW_TRY(nncw_i8_gemm_try(p, n, &ok, &why));
        break;
    case NNCW_OP_MAXPOOL:
        why = not_u8;
        if (in_u8)
            NNCW_TRY(maxpool_step(p, n, &why, &ok));
        break;
    case NNCW_OP_RELU:
        why = not_u8;
        if (in_u8) {
            ok = true;
            /* codes of an unsigned quantizer are all >= its zero point 0 */
            NNCW_TRY(pass_step(p, n, p->val[x].a.zp == 0 ? I8_STEP_VIEW : I8_STEP_RELU, NULL));
        }
        break;
    case NNCW_OP_IDENTITY:
    case NNCW_OP_DROPOUT:
    case NNCW_OP_QUANTIZE_SYMMETRIC: /* disabled: an identity */
    case NNCW_OP_QUANTIZE_ASYMMETRIC:
        why = in_u8 ? "the dropout mask is read" : not_u8;
        if (in_u8 &&
            (nncw_node_count_outputs(node) == 1 || !is_read(p, nncw_node_get_output(node, 1)))) {
            ok = true;
            NNCW_TRY(pass_step(p, n, I8_STEP_VIEW, NULL));
        }
        break;
    case NNCW_OP_FLATTEN:
    case NNCW_OP_RESHAPE:
        NNCW_TRY(reshape_step(p, n, &why, &ok));
        break;
    case NNCW_OP_ADD:
        NNCW_TRY(reduce_step(p, n, I8_STEP_ADD, &why, &ok));
        break;
    case NNCW_OP_GLOBALAVGPOOL:
        NNCW_TRY(reduce_step(p, n, I8_STEP_GAP, &why, &ok));
        break;
    default:
        break;
    }
    return ok ? NNCW_OK : float_step(p, n, why);
}

/* ---- the whole plan ---- */

static enum nncw_status check_options(const struct nncw_int8_options *o)
{
    if (o->batch < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8: batch size %lld (must be >= 1)",
                         (long long)o->batch);
    if (o->threads < 0 || o->threads > 1024)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8: %d threads (expected 0 .. 1024)", o->threads);
    return NNCW_OK;
}

static enum nncw_status build(struct nncw_int8_plan *p)
{
    struct nncw_exec_options eo = {.batch = p->opt.batch, .seed = 1};
    NNCW_TRY(nncw_exec_new(p->g, &eo, &p->ex));
    p->n_nodes = nncw_graph_count_nodes(p->g);
    p->n_values = nncw_graph_count_values(p->g);
    NNCW_TRY(analyse(p));
    for (int k = 0; k < p->n_nodes; k++) {
        int n = p->ex->order[k];
        if (!p->absorbed[n])
            NNCW_TRY(plan_node(p, n));
    }
    return nncw_i8_plan_finish(p);
}

enum nncw_status nncw_int8_plan_build(struct nncw_graph *g, const struct nncw_int8_options *opt,
                                      struct nncw_int8_plan **out)
{
    if (!g || !opt || !out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8: NULL graph, options or result");
    NNCW_TRY(check_options(opt));
    enum nncw_int8_isa isa;
    NNCW_TRY(nncw_int8_isa_resolve(opt->isa, &isa));
    struct nncw_int8_plan *p = nncw_calloc(1, sizeof *p);
    if (!p)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory");
    p->g = g;
    p->opt = *opt;
    p->isa = isa;
    p->kernel = nncw_igemm_kernel(isa);
    p->threads = opt->threads;
    p->group_bytes = 512 * 1024;
    enum nncw_status s = build(p);
    if (s != NNCW_OK) {
        nncw_int8_plan_free(p);
        return s;
    }
    *out = p;
    return NNCW_OK;
}

void nncw_int8_plan_free(struct nncw_int8_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_steps; i++) {
        struct i8_step *s = &p->steps[i];
        nncw_free(s->nodes);
        nncw_i8_gemm_free(s->gemm);
        nncw_i8_pool_free(s->pool);
        nncw_free(s->lut);
    }
    nncw_free(p->steps);
    for (int v = 0; p->val && v < p->n_values; v++)
        if (p->val[v].a.view_of < 0)
            nncw_free(p->val[v].a.data);
    for (int i = 0; i < p->n_qp; i++)
        nncw_i8_qpoint_fini(&p->qp[i]);
    nncw_free(p->qp);
    nncw_free(p->qp_of);
    nncw_free(p->val);
    nncw_free(p->pos);
    nncw_free(p->consumers);
    nncw_free(p->single_reader);
    nncw_free(p->is_output);
    nncw_free(p->absorbed);
    nncw_exec_free(p->ex);
    nncw_free(p);
}
