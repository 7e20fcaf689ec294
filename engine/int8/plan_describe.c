/*
** What a plan does, for people: one line per step that runs, with the nodes it covers, and
** for float steps the reason the node is not integer.
*/
#include <stdarg.h>
#include <stdio.h>

#include "int8/plan_internal.h"

static const char *const kind_names[] = {
    [I8_STEP_FLOAT] = "float",     [I8_STEP_QUANTIZE] = "quantize", [I8_STEP_GEMM] = "gemm",
    [I8_STEP_MAXPOOL] = "maxpool", [I8_STEP_RELU] = "relu",         [I8_STEP_RELAYOUT] = "flatten",
    [I8_STEP_VIEW] = "view",       [I8_STEP_ADD] = "add",           [I8_STEP_GAP] = "avgpool",
};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == I8_STEP_KIND_COUNT,
               "step names out of date");

struct text {
    char *buf;
    size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static const char *node_name(const struct nncw_int8_plan *p, int n)
{
    return nncw_node_get_name(nncw_graph_get_node(p->g, n));
}

size_t nncw_int8_plan_describe(const struct nncw_int8_plan *p, char *buf, size_t size)
{
    struct text t = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    int ni, nf;
    nncw_int8_plan_count(p, &ni, &nf);
    put(&t, "int8 plan (%s kernel, batch %lld): %d nodes integer, %d float\n",
        nncw_int8_isa_name(p->isa), (long long)p->opt.batch, ni, nf);
    for (int i = 0; i < p->n_steps; i++) {
        const struct i8_step *s = &p->steps[i];
        if (!s->live)
            continue;
        bool is_float = s->kind == I8_STEP_FLOAT;
        put(&t, "  %-6s %-8s", is_float ? "float" : "int8", kind_names[s->kind]);
        for (int k = 0; k < s->n_nodes; k++)
            put(&t, "%s%s", k ? " + " : " ", node_name(p, s->nodes[k]));
        if (is_float)
            put(&t, " (%s: %s)",
                nncw_op_name(nncw_node_get_op(nncw_graph_get_node(p->g, s->nodes[0]))), s->why);
        else if (s->kind == I8_STEP_ADD || s->kind == I8_STEP_GAP)
            put(&t, " -> %s", s->out_u8 ? "u8" : "float");
        else if (s->kind == I8_STEP_GEMM)
            put(&t, " -> %s (weights %s)", s->out_u8 ? "u8" : "float",
                node_name(p, nncw_i8_gemm_weight_node(s)));
        put(&t, "\n");
    }
    return t.len;
}

void nncw_int8_plan_count(const struct nncw_int8_plan *p, int *int_nodes, int *float_nodes)
{
    *int_nodes = *float_nodes = 0;
    for (int i = 0; i < p->n_steps; i++) {
        const struct i8_step *s = &p->steps[i];
        int q = s->kind == I8_STEP_FLOAT ? p->qp_of[s->nodes[0]] : -1;
        if (!s->live) {
            /* a weight quantizer folded into integer weights */
            *int_nodes += q >= 0 && p->qp[q].weight;
            continue;
        }
        if (s->kind == I8_STEP_FLOAT)
            *float_nodes += s->n_nodes;
        else
            *int_nodes += s->n_nodes;
    }
}
