/*
** A model file's metadata and op histogram, read without importing, so `nncw info` can describe
** a model whose import fails (and list every unsupported op, not only the first).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "onnx/onnx_internal.h"

static int by_count_desc(const void *a, const void *b)
{
    const struct nncw_onnx_op_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->op_type, y->op_type);
}

static void count_op(struct nncw_onnx_summary *s, const char *type, const char *node,
                     bool supported)
{
    for (int i = 0; i < s->n_ops; i++)
        if (strcmp(s->ops[i].op_type, type) == 0) {
            s->ops[i].count++;
            return;
        }
    struct nncw_onnx_op_count *c = &s->ops[s->n_ops++];
    snprintf(c->op_type, sizeof c->op_type, "%s", type);
    snprintf(c->first_node, sizeof c->first_node, "%s", node);
    c->count = 1;
    c->supported = supported;
    if (!supported)
        s->n_unsupported++;
}

static bool is_initializer(const NncwOnnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
            return true;
    return false;
}

static enum nncw_status list_inputs(const NncwOnnx__GraphProto *g, struct nncw_onnx_summary *s)
{
    if (g->n_input > (1u << 20))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%zu graph inputs", g->n_input);
    s->input_names = nncw_calloc(g->n_input + 1, sizeof *s->input_names);
    if (!s->input_names)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_input; i++) {
        const char *name = g->input[i]->name ? g->input[i]->name : "";
        if (is_initializer(g, name))
            continue;
        s->input_names[s->n_inputs] = nncw_strdup(name);
        if (!s->input_names[s->n_inputs])
            return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
        s->n_inputs++;
    }
    return NNCW_OK;
}

static enum nncw_status summarize(const NncwOnnx__ModelProto *m, struct nncw_onnx_summary *s)
{
    memset(s, 0, sizeof *s);
    s->ir_version = m->has_ir_version ? m->ir_version : 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain ? m->opset_import[i]->domain : "";
        if (!d[0] || strcmp(d, "ai.onnx") == 0)
            s->opset = m->opset_import[i]->version;
    }
    snprintf(s->producer, sizeof s->producer, "%s%s%s", m->producer_name ? m->producer_name : "",
             m->producer_version ? " " : "", m->producer_version ? m->producer_version : "");
    const NncwOnnx__GraphProto *g = m->graph;
    if (!g)
        return NNCW_FAIL(NNCW_ERR_PARSE, "the model has no graph");
    s->n_nodes = (int)(g->n_node < 1u << 30 ? g->n_node : 1u << 30);
    s->n_initializers = (int)(g->n_initializer < 1u << 30 ? g->n_initializer : 1u << 30);
    s->ops = nncw_calloc((size_t)(s->n_nodes ? s->n_nodes : 1), sizeof *s->ops);
    if (!s->ops)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
    for (int i = 0; i < s->n_nodes; i++) {
        const NncwOnnx__NodeProto *np = g->node[i];
        const char *op = np->op_type ? np->op_type : "";
        const char *dom = np->domain ? np->domain : "";
        char type[64], node[96];
        bool default_domain = !dom[0] || strcmp(dom, "ai.onnx") == 0;
        if (default_domain)
            snprintf(type, sizeof type, "%s", op);
        else
            snprintf(type, sizeof type, "%s.%s", dom, op);
        if (np->name && np->name[0])
            snprintf(node, sizeof node, "%s", np->name);
        else
            snprintf(node, sizeof node, "%.60s_%d", op, i);
        count_op(s, type, node, default_domain && nncw_onnx_is_supported(op, s->opset));
    }
    qsort(s->ops, (size_t)s->n_ops, sizeof *s->ops, by_count_desc);
    return list_inputs(g, s);
}

enum nncw_status nncw_onnx_summarize_file(const char *path, struct nncw_onnx_summary *out)
{
    void *data = NULL;
    size_t len = 0;
    NNCW_TRY(nncw_onnx_read_file(path, 0, &data, &len));
    ProtobufCMessage *m = NULL;
    enum nncw_status s = nncw_onnx_unpack(&nncw_onnx__model_proto__descriptor, data, len, path, &m);
    nncw_free(data);
    if (s != NNCW_OK)
        return s;
    struct nncw_onnx_summary sum;
    s = summarize((const NncwOnnx__ModelProto *)m, &sum);
    nncw_onnx_message_free(m);
    if (s != NNCW_OK) {
        nncw_onnx_summary_fini(&sum);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", nncw_last_error());
        return NNCW_FAIL(s, "%s: %s", path, msg);
    }
    *out = sum;
    return NNCW_OK;
}

void nncw_onnx_summary_fini(struct nncw_onnx_summary *s)
{
    nncw_free(s->ops);
    for (int i = 0; s->input_names && i < s->n_inputs; i++)
        nncw_free(s->input_names[i]);
    nncw_free(s->input_names);
    s->ops = NULL;
    s->input_names = NULL;
    s->n_ops = s->n_inputs = 0;
}
