/*
** Measured sparsity and NNCF's sparsity statistics (nncf/common/sparsity/statistics.py and the
** PyTorch controllers' counts): the level of a layer is the share of zeros in its masked
** weight; the level of all sparsified layers pools them; the level of the whole model counts
** every model parameter (weights, biases, batch-norm scales), masked weights as masked, and
** leaves out what compression added (masks, RB logits, quantizer ranges). Buffers such as
** batch-norm running statistics are non-trainable parameters in nncw and, as buffers in
** PyTorch, are not counted.
*/
#include <stdio.h>
#include <string.h>

#include "compression/sparsity/sparsity_internal.h"
#include "core/alloc.h"
#include "core/text_table.h"

static int64_t masked_nonzero(const struct nncw_sparsity *sp, int i)
{
    const float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].weight));
    const float *m = nncw_sparse_layer_mask(sp, i);
    int64_t n = nncw_sparse_layer_numel(sp, i), nz = 0;
    for (int64_t k = 0; k < n; k++)
        nz += w[k] * m[k] != 0.0f;
    return nz;
}

float nncw_sparsity_layer_level(const struct nncw_sparsity *sp, int i)
{
    int64_t n = nncw_sparse_layer_numel(sp, i);
    return n ? 1.0f - (float)((double)masked_nonzero(sp, i) / (double)n) : 0.0f;
}

float nncw_sparsity_layers_level(const struct nncw_sparsity *sp)
{
    int64_t nz = 0;
    for (int i = 0; i < sp->n; i++)
        nz += masked_nonzero(sp, i);
    return sp->total ? 1.0f - (float)((double)nz / (double)sp->total) : 0.0f;
}

/* parameters compression added: inputs after the first of quantizers and RB nodes */
static bool is_compression_param(const struct nncw_graph *g, int id)
{
    for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        enum nncw_op op = nncw_node_get_op(n);
        if (op != NNCW_OP_QUANTIZE_SYMMETRIC && op != NNCW_OP_QUANTIZE_ASYMMETRIC &&
            op != NNCW_OP_RB_SPARSIFY)
            continue;
        for (int p = 1; p < nncw_node_count_inputs(n); p++)
            if (nncw_node_get_input(n, p) == id)
                return true;
    }
    return false;
}

float nncw_sparsity_model_level(const struct nncw_sparsity *sp)
{
    const struct nncw_graph *g = sp->g;
    int64_t count = sp->total, nz = 0;
    for (int i = 0; i < sp->n; i++)
        nz += masked_nonzero(sp, i);
    for (int k = 0; k < nncw_graph_count_params(g); k++) {
        int id = nncw_graph_get_param(g, k);
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
        if (!nncw_graph_is_trainable(g, id) || t->dtype != NNCW_DTYPE_F32)
            continue;
        bool sparsified = false;
        for (int i = 0; i < sp->n && !sparsified; i++)
            sparsified = sp->layers[i].weight == id;
        if (sparsified || is_compression_param(g, id))
            continue;
        const float *v = nncw_tensor_f32(t);
        int64_t n = nncw_tensor_numel(t);
        count += n;
        for (int64_t e = 0; e < n; e++)
            nz += v[e] != 0.0f;
    }
    return count ? 1.0f - (float)((double)nz / (double)count) : 0.0f;
}

void nncw_sparsity_format_level(char *buf, unsigned long size, float v)
{
    snprintf(buf, size, "%.3f", (double)v);
}

char *nncw_sparsity_value_table(const char *title, int n, const char *const *labels,
                                const float *values)
{
    struct nncw_text_table *t =
        nncw_text_table_new(2, (const char *const[]){"Statistic's name", "Value"});
    for (int i = 0; i < n; i++) {
        char v[32];
        nncw_sparsity_format_level(v, sizeof v, values[i]);
        nncw_text_table_add_row(t, (const char *const[]){labels[i], v});
    }
    char *table = nncw_text_table_render(t);
    nncw_text_table_free(t);
    if (!table)
        return NULL;
    size_t need = strlen(title) + strlen(table) + 4;
    char *out = nncw_malloc(need);
    if (out)
        snprintf(out, need, "%s:\n%s", title, table);
    nncw_free(table);
    return out;
}

static char *layers_table(const struct nncw_sparsity *sp)
{
    struct nncw_text_table *t =
        nncw_text_table_new(4, (const char *const[]){"Layer's name", "Weight's shape",
                                                     "Sparsity level", "Weight's percentage"});
    for (int i = 0; i < sp->n; i++) {
        const struct nncw_tensor *w = nncw_graph_get_value_tensor(sp->g, sp->layers[i].weight);
        char shape[160] = "[", level[32], share[32];
        for (int d = 0; d < w->ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? ", " : "",
                     (long long)w->shape[d]);
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "]");
        nncw_sparsity_format_level(level, sizeof level, nncw_sparsity_layer_level(sp, i));
        nncw_sparsity_format_level(
            share, sizeof share,
            sp->total ? 100.0f * (float)nncw_tensor_numel(w) / (float)sp->total : 0.0f);
        nncw_text_table_add_row(t, (const char *const[]){sp->layers[i].name, shape, level, share});
    }
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

char *nncw_sparsity_model_statistics(const struct nncw_sparsity *sp)
{
    static const char *const labels[] = {"Sparsity level of the whole model",
                                         "Sparsity level of all sparsified layers"};
    float values[] = {nncw_sparsity_model_level(sp), nncw_sparsity_layers_level(sp)};
    char *model =
        nncw_sparsity_value_table("Statistics of the sparsified model", 2, labels, values);
    char *layers = layers_table(sp);
    char *out = NULL;
    if (model && layers) {
        size_t need = strlen(model) + strlen(layers) + 64;
        if ((out = nncw_malloc(need)))
            snprintf(out, need, "%s\nStatistics by sparsified layers:\n%s", model, layers);
    }
    nncw_free(model);
    nncw_free(layers);
    return out;
}
