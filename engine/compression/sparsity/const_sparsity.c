/*
** Const sparsity (NNCF's const_sparsity): masks that never change. NNCF takes them from a loaded
** checkpoint; nncw takes them from the zeros of the weights at build time (a model exported or
** saved with its masks applied), and a checkpoint saved from a magnitude- or RB-sparsified model
** can be loaded into the compressed graph afterwards, since the mask parameters have the same
** names ("<layer>/weight_mask._binary_mask"). Weights then train under the fixed masks.
*/
#include "compression/sparsity/sparsity_internal.h"

static enum nncw_status const_apply(struct nncw_sparsity *sp, float level)
{
    (void)sp;
    (void)level;
    return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                     "const_sparsity keeps the masks it was built with; its level cannot be set");
}

static enum nncw_status const_freeze(struct nncw_sparsity *sp)
{
    sp->frozen = true;
    return NNCW_OK;
}

static const struct nncw_sparsity_ops const_ops = {
    .apply_level = const_apply,
    .freeze = const_freeze,
};

enum nncw_status nncw_sparsity_const_setup(struct nncw_sparsity *sp)
{
    sp->ops = &const_ops;
    NNCW_TRY(nncw_sparsity_insert_masks(sp, false));
    for (int i = 0; i < sp->n; i++) {
        const float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].weight));
        float *m = nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].mask));
        for (int64_t k = 0; k < nncw_sparse_layer_numel(sp, i); k++)
            m[k] = w[k] != 0.0f ? 1.0f : 0.0f;
    }
    sp->frozen = true;
    sp->level = nncw_sparsity_layers_level(sp);
    return NNCW_OK;
}
