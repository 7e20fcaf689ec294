/*
** Restoring a compressed model from a checkpoint alone: the float model from its source, the
** original weights, the config from its text, the compression built placement-only (which is
** deterministic: the same config on the same graph inserts the same nodes and parameters), the
** stored edits and controller states, and last the parameters the compression trained
** (quantizer ranges, masks, weights).
*/
#include <stdio.h>
#include <string.h>

#include "checkpoint/checkpoint_internal.h"
#include "onnx/onnx.h"

enum nncw_status nncw_model_source_build(const struct nncw_model_source *src,
                                         struct nncw_graph **out)
{
    switch (src->kind) {
    case NNCW_MODEL_SOURCE_ZOO:
        return nncw_zoo_build(src->zoo_name, &src->zoo, out);
    case NNCW_MODEL_SOURCE_ONNX: {
        enum nncw_status s = nncw_onnx_import_buffer(src->onnx_bytes, src->onnx_len, NULL, out);
        if (s != NNCW_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", nncw_last_error());
            return NNCW_FAIL(s, "the model stored from '%s': %s", src->onnx_path, why);
        }
        return NNCW_OK;
    }
    default:
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "model source: nothing to build from");
    }
}

void nncw_compressed_model_fini(struct nncw_compressed_model *m)
{
    if (!m)
        return;
    nncw_compression_free(m->compression); /* borrows graph and config */
    nncw_graph_free(m->graph);
    nncw_config_free(m->config);
    *m = (struct nncw_compressed_model){0};
}

static enum nncw_status build_compression(const struct nncw_checkpoint *ck,
                                          struct nncw_compressed_model *m)
{
    const char *state = nncw_checkpoint_get_compression_state(ck);
    const char *text = nncw_checkpoint_get_config(ck);
    if (!text)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                         "checkpoint '%s' has a compression state but no config", ck->path);
    char source[512];
    snprintf(source, sizeof source, "the config in checkpoint '%s'", ck->path);
    NNCW_TRY(nncw_checkpoint_restore_original(ck, m->graph));
    NNCW_TRY(nncw_config_parse(text, source, &m->config));
    NNCW_TRY(nncw_compression_create(m->graph, m->config, NULL, &m->compression));
    return nncw_compression_set_state(m->compression, state);
}

enum nncw_status nncw_checkpoint_restore_compressed(const struct nncw_checkpoint *ck,
                                                    struct nncw_compressed_model *out)
{
    struct nncw_model_source src;
    NNCW_TRY(nncw_checkpoint_get_source(ck, &src));
    struct nncw_compressed_model m = {0};
    enum nncw_status s = nncw_model_source_build(&src, &m.graph);
    if (s == NNCW_OK && nncw_checkpoint_get_compression_state(ck))
        s = build_compression(ck, &m);
    else if (s == NNCW_OK && nncw_checkpoint_get_config(ck))
        s = nncw_config_parse(nncw_checkpoint_get_config(ck), ck->path, &m.config);
    if (s == NNCW_OK)
        s = nncw_checkpoint_restore_graph(ck, m.graph);
    if (s != NNCW_OK) {
        nncw_compressed_model_fini(&m);
        return s;
    }
    *out = m;
    return NNCW_OK;
}

enum nncw_status nncw_checkpoint_load_compressed(const char *path,
                                                 struct nncw_compressed_model *out)
{
    struct nncw_checkpoint *ck;
    NNCW_TRY(nncw_checkpoint_read(path, &ck));
    enum nncw_status s = nncw_checkpoint_restore_compressed(ck, out);
    nncw_checkpoint_free(ck);
    return s;
}
