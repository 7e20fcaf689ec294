#include "compression/compression.h"

#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "core/alloc.h"
#include "core/common.h"

struct nncw_compression {
    struct nncw_graph *g;    /* borrowed: the model being compressed */
    struct nncw_graph *orig; /* the float model as it came, for rebuilds */
    struct nncw_config *cfg; /* borrowed */
    struct nncw_compression_init init;
    int n;
    struct nncw_compression_algo *algos;
    int n_edits;
    struct nncw_quantizer_edit *edits;
};

static const struct {
    const char *name;
    nncw_compression_build_fn build;
} builders[] = {
    {"quantization", nncw_quantization_build},
    /* sparsity (builds after quantization: see build_all) and knowledge distillation */
    {"magnitude_sparsity", nncw_magnitude_sparsity_build},
    {"rb_sparsity", nncw_rb_sparsity_build},
    {"const_sparsity", nncw_const_sparsity_build},
    {"knowledge_distillation", nncw_knowledge_distillation_build},
};

/* NNCF applies a weight's sparsity mask before its quantizer whatever the config's order */
static bool builds_late(const char *algorithm)
{
    return strstr(algorithm, "_sparsity") != NULL;
}

static nncw_compression_build_fn find_builder(const char *name)
{
    for (size_t i = 0; i < NNCW_ARRAY_LEN(builders); i++)
        if (!strcmp(builders[i].name, name))
            return builders[i].build;
    return NULL;
}

static void free_algos(struct nncw_compression *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].free)
            c->algos[i].free(c->algos[i].self);
    nncw_free(c->algos);
    c->algos = NULL;
    c->n = 0;
}

void nncw_compression_free(struct nncw_compression *c)
{
    if (!c)
        return;
    free_algos(c);
    for (int i = 0; i < c->n_edits; i++)
        nncw_free(c->edits[i].pattern);
    nncw_free(c->edits);
    nncw_graph_free(c->orig);
    nncw_free(c);
}

/* builds every algorithm on g (init NULL: placement only); on failure nothing is kept in c */
static enum nncw_status build_all(struct nncw_compression *c, struct nncw_graph *g,
                                  const struct nncw_compression_init *init)
{
    const struct nncw_config *cfg = c->cfg;
    /* every algorithm must be known before any of them changes the graph */
    for (int i = 0; i < cfg->n_compression; i++)
        if (!find_builder(cfg->compression[i].algorithm))
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                             "config '%s': compression[%d].algorithm: '%s' is not implemented in "
                             "nncw yet (available: quantization, "
                             "magnitude_sparsity, rb_sparsity, const_sparsity, "
                             "knowledge_distillation)",
                             cfg->source ? cfg->source : "<string>", i,
                             cfg->compression[i].algorithm);
    c->algos = nncw_calloc((size_t)(cfg->n_compression ? cfg->n_compression : 1),
                           sizeof *c->algos);
    if (!c->algos)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory");
    static const struct nncw_compression_init no_init = {0};
    struct nncw_compression_edits edits = {
        .n = c->n_edits, .quantizers = c->edits, .original = c->orig};
    int64_t bn_samples = 0;
    enum nncw_status s = NNCW_OK;
    /* sparsity builds in a second pass, so its masks go between the weights and the quantizers
     * placed in the first; each algorithm keeps its entry's position (unbuilt slots are zero) */
    c->n = cfg->n_compression;
    for (int pass = 0; pass < 2 && s == NNCW_OK; pass++)
        for (int i = 0; i < cfg->n_compression && s == NNCW_OK; i++) {
            if (builds_late(cfg->compression[i].algorithm) != (pass == 1))
                continue;
            int64_t want = 0;
            s = find_builder(cfg->compression[i].algorithm)(g, cfg, i, init ? init : &no_init,
                                                            &edits, &c->algos[i], &want);
            if (s == NNCW_OK && want > bn_samples)
                bn_samples = want;
        }
    if (s == NNCW_OK && init && init->data && bn_samples > 0)
        s = nncw_batchnorm_adapt(g, init->data, bn_samples,
                                 init->batch_size > 0 ? init->batch_size : 64, init->seed);
    if (s != NNCW_OK)
        free_algos(c);
    return s;
}

enum nncw_status nncw_compression_create(struct nncw_graph *g, struct nncw_config *cfg,
                                         const struct nncw_compression_init *init,
                                         struct nncw_compression **out)
{
    struct nncw_compression *c = nncw_calloc(1, sizeof *c);
    if (!c)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory");
    c->g = g;
    c->cfg = cfg;
    if (init)
        c->init = *init;
    enum nncw_status s = nncw_graph_clone(g, &c->orig);
    if (s == NNCW_OK)
        s = build_all(c, g, init);
    if (s != NNCW_OK) {
        if (c->orig && nncw_graph_count_nodes(g) != nncw_graph_count_nodes(c->orig)) {
            /* a builder failed after changing the graph: put the float model back (out of
             * memory here leaves the partial graph; s already says what went wrong) */
            enum nncw_status r = nncw_graph_assign(g, c->orig);
            (void)r;
        }
        nncw_compression_free(c);
        return s;
    }
    *out = c;
    return NNCW_OK;
}

/* the edits so far (with cfg as it is now) on a placement-only copy first, so that a rejected
 * edit changes nothing; then for real on the model, from the float model */
static enum nncw_status rebuild(struct nncw_compression *c)
{
    struct nncw_graph *trial;
    NNCW_TRY(nncw_graph_clone(c->orig, &trial));
    struct nncw_compression probe = {
        .g = trial, .orig = c->orig, .cfg = c->cfg, .n_edits = c->n_edits, .edits = c->edits};
    enum nncw_status s = build_all(&probe, trial, NULL);
    free_algos(&probe);
    nncw_graph_free(trial);
    if (s != NNCW_OK)
        return s;
    NNCW_TRY(nncw_graph_assign(c->g, c->orig));
    free_algos(c);
    return build_all(c, c->g, c->init.data ? &c->init : NULL);
}

static const struct nncw_compression_algo *quantization(const struct nncw_compression *c)
{
    return nncw_compression_find_algo(c, "quantization");
}

int nncw_compression_count_quantizers(const struct nncw_compression *c)
{
    const struct nncw_compression_algo *q = quantization(c);
    return q ? nncw_quantization_count(q->self) : 0;
}

enum nncw_status nncw_compression_get_quantizer(const struct nncw_compression *c, int i,
                                                struct nncw_quantizer_info *out)
{
    const struct nncw_compression_algo *q = quantization(c);
    if (!q || i < 0 || i >= nncw_quantization_count(q->self))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "compression: no quantizer %d (there are %d)", i,
                         q ? nncw_quantization_count(q->self) : 0);
    return nncw_quantization_info(q->self, i, out);
}

enum nncw_status nncw_compression_set_quantizers(struct nncw_compression *c, const char *pattern,
                                                 const struct nncw_quantizer_change *ch)
{
    if (!quantization(c))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "compression: there is no quantization to change");
    struct nncw_quantizer_edit *grown =
        nncw_realloc(c->edits, (size_t)(c->n_edits + 1) * sizeof *grown);
    if (!grown)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory");
    c->edits = grown;
    struct nncw_quantizer_edit *e = &c->edits[c->n_edits];
    e->pattern = nncw_strdup(pattern);
    e->change = *ch;
    if (!e->pattern)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory");
    c->n_edits++;
    enum nncw_status s = rebuild(c);
    if (s != NNCW_OK) /* forget the rejected edit */
        nncw_free(c->edits[--c->n_edits].pattern);
    return s;
}

enum nncw_status nncw_compression_ignore_scope(struct nncw_compression *c, int entry,
                                               const char *pattern, bool ignore)
{
    if (ignore)
        NNCW_TRY(nncw_config_add_ignored_scope(c->cfg, entry, pattern));
    else
        NNCW_TRY(nncw_config_remove_ignored_scope(c->cfg, entry, pattern));
    enum nncw_status s = rebuild(c);
    if (s != NNCW_OK) { /* undo the config change; the message stays the rebuild's */
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", nncw_last_error());
        if (ignore)
            nncw_config_remove_ignored_scope(c->cfg, entry, pattern);
        else
            nncw_config_add_ignored_scope(c->cfg, entry, pattern);
        return NNCW_FAIL(s, "%s", keep);
    }
    return NNCW_OK;
}

int nncw_compression_count_algos(const struct nncw_compression *c)
{
    return c->n;
}

const struct nncw_compression_algo *nncw_compression_get_algo(const struct nncw_compression *c,
                                                              int i)
{
    return i >= 0 && i < c->n ? &c->algos[i] : NULL;
}

const struct nncw_compression_algo *
nncw_compression_find_algo(const struct nncw_compression *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->algos[i].name, name))
            return &c->algos[i];
    return NULL;
}

enum nncw_status nncw_compression_epoch_step(struct nncw_compression *c, int epoch)
{
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].epoch_step)
            NNCW_TRY(c->algos[i].epoch_step(c->algos[i].self, epoch));
    return NNCW_OK;
}

enum nncw_status nncw_compression_step(struct nncw_compression *c, int64_t global_step)
{
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].step)
            NNCW_TRY(c->algos[i].step(c->algos[i].self, global_step));
    return NNCW_OK;
}

static enum nncw_status hook_epoch(void *user, int epoch)
{
    return nncw_compression_epoch_step(user, epoch);
}

static enum nncw_status hook_step(void *user, int64_t global_step)
{
    return nncw_compression_step(user, global_step);
}

static enum nncw_status hook_loss(void *user, float *loss)
{
    struct nncw_compression *c = user;
    *loss = 0;
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].loss) {
            float l = 0;
            NNCW_TRY(c->algos[i].loss(c->algos[i].self, &l));
            *loss += l;
        }
    return NNCW_OK;
}

static enum nncw_status hook_output_loss(void *user, const struct nncw_tensor *input,
                                         const struct nncw_tensor *logits,
                                         struct nncw_tensor *dlogits, float *loss)
{
    struct nncw_compression *c = user;
    *loss = 0;
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].output_loss) {
            float l = 0;
            NNCW_TRY(c->algos[i].output_loss(c->algos[i].self, input, logits, dlogits, &l));
            *loss += l;
        }
    return NNCW_OK;
}

static float hook_lr_scale(void *user, int value_id)
{
    struct nncw_compression *c = user;
    float scale = 1.0f;
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].lr_scale)
            scale *= c->algos[i].lr_scale(c->algos[i].self, value_id);
    return scale;
}

struct nncw_train_hooks nncw_compression_train_hooks(struct nncw_compression *c)
{
    bool any_loss = false, any_output_loss = false;
    for (int i = 0; i < c->n; i++) {
        any_loss = any_loss || c->algos[i].loss;
        any_output_loss = any_output_loss || c->algos[i].output_loss;
    }
    return (struct nncw_train_hooks){.user = c,
                                     .epoch_begin = hook_epoch,
                                     .step_end = hook_step,
                                     .loss = any_loss ? hook_loss : NULL,
                                     .output_loss = any_output_loss ? hook_output_loss : NULL,
                                     .param_lr_scale = hook_lr_scale};
}

enum nncw_compression_stage nncw_compression_get_stage(const struct nncw_compression *c)
{
    enum nncw_compression_stage least = NNCW_STAGE_FULLY_COMPRESSED;
    for (int i = 0; i < c->n; i++) {
        enum nncw_compression_stage s = c->algos[i].stage ? c->algos[i].stage(c->algos[i].self)
                                                          : NNCW_STAGE_FULLY_COMPRESSED;
        if (s < least)
            least = s;
    }
    return c->n ? least : NNCW_STAGE_UNCOMPRESSED;
}

const char *nncw_compression_stage_name(enum nncw_compression_stage s)
{
    switch (s) {
    case NNCW_STAGE_UNCOMPRESSED: return "UNCOMPRESSED";
    case NNCW_STAGE_PARTIALLY_COMPRESSED: return "PARTIALLY_COMPRESSED";
    case NNCW_STAGE_FULLY_COMPRESSED: return "FULLY_COMPRESSED";
    }
    return "?";
}

enum nncw_status nncw_compression_statistics(const struct nncw_compression *c, char **text)
{
    size_t len = 0;
    char *all = nncw_strdup("");
    if (!all)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression statistics: out of memory");
    for (int i = 0; i < c->n; i++) {
        if (!c->algos[i].statistics)
            continue;
        char *part = NULL;
        enum nncw_status s = c->algos[i].statistics(c->algos[i].self, &part);
        if (s != NNCW_OK) {
            nncw_free(all);
            return s;
        }
        size_t plen = strlen(part);
        char *grown = nncw_realloc(all, len + plen + 2);
        if (!grown) {
            nncw_free(part);
            nncw_free(all);
            return NNCW_FAIL(NNCW_ERR_NOMEM, "compression statistics: out of memory");
        }
        all = grown;
        memcpy(all + len, part, plen);
        len += plen;
        if (i + 1 < c->n)
            all[len++] = '\n';
        all[len] = '\0';
        nncw_free(part);
    }
    *text = all;
    return NNCW_OK;
}

void nncw_compression_export_options(const struct nncw_compression *c,
                                     struct nncw_onnx_export_options *eo)
{
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].export_options)
            c->algos[i].export_options(c->algos[i].self, eo);
}

static const struct nncw_compression_algo *rate_algo(const struct nncw_compression *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].compression_rate)
            return &c->algos[i];
    return NULL;
}

enum nncw_status nncw_compression_get_rate(const struct nncw_compression *c, float *rate)
{
    const struct nncw_compression_algo *a = rate_algo(c);
    if (!a)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "compression: no algorithm has a compression rate");
    *rate = a->compression_rate(a->self);
    return NNCW_OK;
}

enum nncw_status nncw_compression_set_rate(struct nncw_compression *c, float rate)
{
    const struct nncw_compression_algo *a = rate_algo(c);
    if (!a || !a->set_compression_rate)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                         "compression: no algorithm has a compression rate to set");
    return a->set_compression_rate(a->self, rate);
}
