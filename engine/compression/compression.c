#include "compression/compression.h"

#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/precision/precision_init.h"
#include "compression/state.h"
#include "core/alloc.h"
#include "core/common.h"
#include "core/log.h"

/* an interactive ignored-scope edit, kept so a checkpoint can replay it */
struct scope_edit {
    int entry;
    char *pattern;
    bool ignore;
};

struct nncw_compression {
    struct nncw_graph *g;    /* borrowed: the model being compressed */
    struct nncw_graph *orig; /* the float model as it came, for rebuilds */
    struct nncw_config *cfg; /* borrowed */
    struct nncw_compression_init init;
    int n;
    struct nncw_compression_algo *algos;
    int n_edits;
    struct nncw_quantizer_edit *edits;
    struct nncw_hawq_state *hawq; /* mixed precision: HAWQ's traces and choices */
    /* checkpoints: the ignored-scope edits in order, and the composite scheduler */
    int n_scope_edits;
    struct scope_edit *scope_edits;
    bool scheduler_disabled; /* NNCF's disable_scheduler: epoch_step and step do nothing */
    int epoch;               /* the last epoch and step given, -1 before the first */
    int64_t step;
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
    {"binarization", nncw_binarization_build},
    {"filter_pruning", nncw_filter_pruning_build}, /* builds late, as sparsity */
};

/* NNCF applies a weight's sparsity mask before its quantizer whatever the config's order */
static bool builds_late(const char *algorithm)
{
    return strstr(algorithm, "_sparsity") != NULL || !strcmp(algorithm, "filter_pruning");
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
    nncw_hawq_state_free(c->hawq);
    for (int i = 0; i < c->n_scope_edits; i++)
        nncw_free(c->scope_edits[i].pattern);
    nncw_free(c->scope_edits);
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
                             "config '%s': %s.algorithm: '%s' is not implemented in "
                             "nncw yet (available: quantization, "
                             "magnitude_sparsity, rb_sparsity, const_sparsity, "
                             "knowledge_distillation, filter_pruning, binarization)",
                             cfg->source ? cfg->source : "<string>", cfg->compression[i].path,
                             cfg->compression[i].algorithm);
    c->algos = nncw_calloc((size_t)(cfg->n_compression ? cfg->n_compression : 1),
                           sizeof *c->algos);
    if (!c->algos)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory");
    static const struct nncw_compression_init no_init = {0};
    struct nncw_compression_edits edits = {
        .n = c->n_edits, .quantizers = c->edits, .original = c->orig, .hawq = c->hawq};
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
    c->epoch = -1;
    c->step = -1;
    if (init)
        c->init = *init;
    enum nncw_status s = nncw_graph_clone(g, &c->orig);
    if (s == NNCW_OK && !(c->hawq = nncw_hawq_state_new()))
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory");
    if (s == NNCW_OK)
        s = build_all(c, g, init);
    /* the caller's progress report lives only for this call: later rebuilds must not reach it */
    c->init.precision_progress = NULL;
    c->init.precision_user = NULL;
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
    struct nncw_compression probe = {.g = trial,
                                     .orig = c->orig,
                                     .cfg = c->cfg,
                                     .n_edits = c->n_edits,
                                     .edits = c->edits,
                                     .hawq = c->hawq};
    enum nncw_status s = build_all(&probe, trial, NULL);
    free_algos(&probe);
    nncw_graph_free(trial);
    if (s != NNCW_OK)
        return s;
    NNCW_TRY(nncw_graph_assign(c->g, c->orig));
    free_algos(c);
    return build_all(c, c->g, c->init.data ? &c->init : NULL);
}

/* mixed precision (compression/precision/precision_api.c) reaches these */
struct nncw_hawq_state *nncw_compression_get_hawq_state(const struct nncw_compression *c)
{
    return c->hawq;
}

enum nncw_status nncw_compression_rebuild(struct nncw_compression *c)
{
    return rebuild(c);
}

enum nncw_status nncw_compression_rebuild_measuring(struct nncw_compression *c,
                                                    const struct nncw_dataset *data,
                                                    nncw_precision_progress_fn progress,
                                                    void *user)
{
    struct nncw_compression_init keep = c->init;
    if (data)
        c->init.data = data;
    c->init.precision_progress = progress;
    c->init.precision_user = user;
    enum nncw_status s = rebuild(c);
    c->init = keep;
    return s;
}

const struct nncw_config *nncw_compression_get_config(const struct nncw_compression *c)
{
    return c->cfg;
}

const struct nncw_graph *nncw_compression_get_graph(const struct nncw_compression *c)
{
    return c->g;
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
    bool matched = false;
    for (int i = 0; i < nncw_compression_count_quantizers(c) && !matched; i++) {
        struct nncw_quantizer_info q;
        NNCW_TRY(nncw_compression_get_quantizer(c, i, &q));
        NNCW_TRY(nncw_scope_matches(pattern, q.id, &matched));
    }
    if (!matched)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "no quantizer id matches '%s'", pattern);
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

static enum nncw_status record_scope_edit(struct nncw_compression *c, int entry,
                                          const char *pattern, bool ignore)
{
    struct scope_edit *grown =
        nncw_realloc(c->scope_edits, (size_t)(c->n_scope_edits + 1) * sizeof *grown);
    char *copy = nncw_strdup(pattern);
    if (grown)
        c->scope_edits = grown;
    if (!grown || !copy) {
        nncw_free(copy);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression: out of memory recording a scope edit");
    }
    c->scope_edits[c->n_scope_edits++] = (struct scope_edit){entry, copy, ignore};
    return NNCW_OK;
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
    return record_scope_edit(c, entry, pattern, ignore);
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
    c->epoch = epoch;
    for (int i = 0; i < c->n && !c->scheduler_disabled; i++)
        if (c->algos[i].epoch_step)
            NNCW_TRY(c->algos[i].epoch_step(c->algos[i].self, epoch));
    return NNCW_OK;
}

enum nncw_status nncw_compression_step(struct nncw_compression *c, int64_t global_step)
{
    c->step = global_step;
    for (int i = 0; i < c->n && !c->scheduler_disabled; i++)
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

/* each algorithm with a staged scheduler in turn; the last one's choice stands */
static enum nncw_status hook_lr_wd_override(void *user, double epoch, float *lr,
                                             float *weight_decay)
{
    struct nncw_compression *c = user;
    for (int i = 0; i < c->n; i++)
        if (c->algos[i].lr_wd_override)
            NNCW_TRY(c->algos[i].lr_wd_override(c->algos[i].self, epoch, lr, weight_decay));
    return NNCW_OK;
}

struct nncw_train_hooks nncw_compression_train_hooks(struct nncw_compression *c)
{
    bool any_loss = false, any_output_loss = false, any_override = false;
    for (int i = 0; i < c->n; i++) {
        any_loss = any_loss || c->algos[i].loss;
        any_output_loss = any_output_loss || c->algos[i].output_loss;
        any_override = any_override || c->algos[i].lr_wd_override;
    }
    return (struct nncw_train_hooks){.user = c,
                                     .epoch_begin = hook_epoch,
                                     .step_end = hook_step,
                                     .loss = any_loss ? hook_loss : NULL,
                                     .output_loss = any_output_loss ? hook_output_loss : NULL,
                                     .param_lr_scale = hook_lr_scale,
                                     .lr_wd_override = any_override ? hook_lr_wd_override : NULL};
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

/* ---- the scheduler's position and switch; the composite state (checkpoints) ---- */
void nncw_compression_disable_scheduler(struct nncw_compression *c)
{
    c->scheduler_disabled = true;
}

bool nncw_compression_is_scheduler_disabled(const struct nncw_compression *c)
{
    return c->scheduler_disabled;
}

void nncw_compression_get_scheduler_position(const struct nncw_compression *c, int *epoch,
                                             int64_t *step)
{
    *epoch = c->epoch;
    *step = c->step;
}

const struct nncw_graph *nncw_compression_get_original(const struct nncw_compression *c)
{
    return c->orig;
}

static struct nncw_state *edits_state(const struct nncw_compression *c, struct nncw_state *st)
{
    for (int i = 0; i < c->n_edits; i++) {
        struct nncw_state *e = nncw_state_new();
        if (e) {
            nncw_state_set_text(e, "pattern", c->edits[i].pattern);
            nncw_state_set_number(e, "bits", c->edits[i].change.bits);
            nncw_state_set_number(e, "mode", c->edits[i].change.mode);
            nncw_state_set_number(e, "per_channel", c->edits[i].change.per_channel);
        }
        nncw_state_append(st, "quantizer_edits", e);
    }
    for (int i = 0; i < c->n_scope_edits; i++) {
        struct nncw_state *e = nncw_state_new();
        if (e) {
            nncw_state_set_number(e, "entry", c->scope_edits[i].entry);
            nncw_state_set_text(e, "pattern", c->scope_edits[i].pattern);
            nncw_state_set_bool(e, "ignore", c->scope_edits[i].ignore);
        }
        nncw_state_append(st, "scope_edits", e);
    }
    return st;
}

enum nncw_status nncw_compression_get_state(const struct nncw_compression *c, char **json)
{
    struct nncw_state *st = nncw_state_new();
    if (!st)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression state: out of memory");
    enum nncw_status s = NNCW_OK;
    nncw_state_set_number(st, "format", 1);
    nncw_state_set_number(st, "current_epoch", c->epoch);
    nncw_state_set_number(st, "current_step", (double)c->step);
    nncw_state_set_bool(st, "scheduler_disabled", c->scheduler_disabled);
    nncw_state_set_text(st, "stage", nncw_compression_stage_name(nncw_compression_get_stage(c)));
    edits_state(c, st);
    char *hawq = NULL; /* mixed precision: HAWQ's traces, pins and pick */
    s = nncw_hawq_state_to_json(c->hawq, &hawq);
    if (hawq)
        nncw_state_set_json(st, "hawq", hawq);
    nncw_free(hawq);
    for (int i = 0; i < c->n && s == NNCW_OK; i++) {
        const struct nncw_compression_algo *a = &c->algos[i];
        struct nncw_state *e = nncw_state_new();
        char *text = NULL;
        if (e && a->get_state)
            s = a->get_state(a->self, &text);
        if (e) {
            nncw_state_set_text(e, "name", a->name);
            if (text)
                nncw_state_set_json(e, "state", text);
            else
                nncw_log(NNCW_LOG_WARN, "compression state: %s keeps no state; a resumed run "
                         "starts it afresh", a->name);
        }
        nncw_free(text);
        nncw_state_append(st, "algorithms", e);
    }
    if (s == NNCW_OK)
        s = nncw_state_print(st, json);
    nncw_state_free(st);
    return s;
}

/* the stored edits, replayed onto a compression that has none yet (a fresh restore), or
 * checked against the ones it has */
static enum nncw_status read_quantizer_edit(const struct nncw_state *st, int i,
                                            struct nncw_quantizer_edit *out)
{
    struct nncw_state *e;
    NNCW_TRY(nncw_state_get_item(st, "quantizer_edits", i, &e));
    const char *pattern = NULL;
    int64_t bits = 0, mode = -1, pc = -1;
    enum nncw_status s = nncw_state_get_text(e, "pattern", &pattern);
    if (s == NNCW_OK)
        s = nncw_state_get_int(e, "bits", &bits);
    if (s == NNCW_OK)
        s = nncw_state_get_int(e, "mode", &mode);
    if (s == NNCW_OK)
        s = nncw_state_get_int(e, "per_channel", &pc);
    if (s == NNCW_OK && !(out->pattern = nncw_strdup(pattern)))
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "compression state: out of memory");
    out->change = (struct nncw_quantizer_change){(int)bits, (int)mode, (int)pc};
    nncw_state_free(e);
    return s;
}

static enum nncw_status replay_scope_edit(struct nncw_compression *c, const struct nncw_state *st,
                                          int i)
{
    struct nncw_state *e;
    NNCW_TRY(nncw_state_get_item(st, "scope_edits", i, &e));
    const char *pattern = NULL;
    int64_t entry = 0;
    bool ignore = true;
    enum nncw_status s = nncw_state_get_int(e, "entry", &entry);
    if (s == NNCW_OK)
        s = nncw_state_get_text(e, "pattern", &pattern);
    if (s == NNCW_OK)
        s = nncw_state_get_bool(e, "ignore", &ignore);
    if (s == NNCW_OK)
        s = ignore ? nncw_config_add_ignored_scope(c->cfg, (int)entry, pattern)
                   : nncw_config_remove_ignored_scope(c->cfg, (int)entry, pattern);
    if (s == NNCW_OK)
        s = record_scope_edit(c, (int)entry, pattern, ignore);
    nncw_state_free(e);
    return s;
}

static enum nncw_status replay_edits(struct nncw_compression *c, const struct nncw_state *st)
{
    int nq = 0, ns = 0;
    NNCW_TRY(nncw_state_count(st, "quantizer_edits", &nq));
    NNCW_TRY(nncw_state_count(st, "scope_edits", &ns));
    if (nq == c->n_edits && ns == c->n_scope_edits)
        return NNCW_OK; /* the same edits were made here (the checkpoint's own compression) */
    if (c->n_edits || c->n_scope_edits)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "compression state: it carries %d quantizer and %d scope edits, this "
                         "compression has other edits; restore into a fresh compression",
                         nq, ns);
    struct nncw_quantizer_edit *edits = nncw_calloc((size_t)(nq ? nq : 1), sizeof *edits);
    if (!edits)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression state: out of memory");
    enum nncw_status s = NNCW_OK;
    int got = 0;
    for (; got < nq && s == NNCW_OK; got++)
        s = read_quantizer_edit(st, got, &edits[got]);
    for (int i = 0; i < ns && s == NNCW_OK; i++)
        s = replay_scope_edit(c, st, i);
    if (s == NNCW_OK) {
        c->edits = edits;
        c->n_edits = nq;
        return rebuild(c); /* placement as the edits left it; parameters follow from the file */
    }
    for (int i = 0; i < got; i++)
        nncw_free(edits[i].pattern);
    nncw_free(edits);
    return s;
}

static enum nncw_status set_algo_state(struct nncw_compression *c, const struct nncw_state *st,
                                       int i)
{
    struct nncw_state *e;
    NNCW_TRY(nncw_state_get_item(st, "algorithms", i, &e));
    const char *name = NULL;
    char *text = NULL;
    struct nncw_compression_algo *a = &c->algos[i];
    enum nncw_status s = nncw_state_get_text(e, "name", &name);
    if (s == NNCW_OK && strcmp(name, a->name) != 0)
        s = NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                      "compression state: algorithm %d is '%s' in the state, '%s' here", i, name,
                      a->name);
    if (s == NNCW_OK && nncw_state_has(e, "state")) {
        s = nncw_state_get_json(e, "state", &text);
        if (s == NNCW_OK && !a->set_state)
            s = NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "compression state: %s cannot restore a state",
                          a->name);
        if (s == NNCW_OK)
            s = a->set_state(a->self, text);
    }
    nncw_free(text);
    nncw_state_free(e);
    return s;
}

/* HAWQ's measured traces (a restore builds without data): solve from them and rebuild */
static enum nncw_status restore_hawq(struct nncw_compression *c, const struct nncw_state *st)
{
    char *json = NULL;
    NNCW_TRY(nncw_state_get_json(st, "hawq", &json));
    enum nncw_status s = nncw_hawq_state_from_json(c->hawq, json);
    nncw_free(json);
    return s == NNCW_OK ? rebuild(c) : s;
}

enum nncw_status nncw_compression_set_state(struct nncw_compression *c, const char *json)
{
    struct nncw_state *st;
    NNCW_TRY(nncw_state_parse(json, "compression state", &st));
    int64_t format = 0, epoch = -1, step = -1;
    bool disabled = false;
    int n = 0;
    enum nncw_status s = nncw_state_get_int(st, "format", &format);
    if (s == NNCW_OK && format != 1)
        s = NNCW_FAIL(NNCW_ERR_PARSE, "compression state: format %lld (this build reads 1)",
                      (long long)format);
    if (s == NNCW_OK)
        s = nncw_state_get_int(st, "current_epoch", &epoch);
    if (s == NNCW_OK)
        s = nncw_state_get_int(st, "current_step", &step);
    if (s == NNCW_OK)
        s = nncw_state_get_bool(st, "scheduler_disabled", &disabled);
    if (s == NNCW_OK)
        s = nncw_state_count(st, "algorithms", &n);
    if (s == NNCW_OK && n != c->n)
        s = NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                      "compression state: %d algorithms in the state, %d in this compression", n,
                      c->n);
    if (s == NNCW_OK)
        s = replay_edits(c, st);
    if (s == NNCW_OK && nncw_state_has(st, "hawq"))
        s = restore_hawq(c, st);
    for (int i = 0; i < c->n && s == NNCW_OK; i++)
        s = set_algo_state(c, st, i);
    if (s == NNCW_OK) {
        c->epoch = (int)epoch;
        c->step = step;
        c->scheduler_disabled = disabled;
    }
    nncw_state_free(st);
    return s;
}
