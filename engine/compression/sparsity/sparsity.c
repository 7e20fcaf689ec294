/*
** The controller the three sparsity algorithms share (NNCF's BaseSparsityAlgoController with
** its sparsity scheduler): builders for magnitude_sparsity, rb_sparsity and const_sparsity,
** the scheduler hooks, compression stage, statistics and compression rate, and the public
** sparsity-level calls of compression.h.
*/
#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/sparsity/sparsity_internal.h"
#include "compression/state.h"
#include "core/alloc.h"

void nncw_sparsity_free(void *self)
{
    struct nncw_sparsity *sp = self;
    if (!sp)
        return;
    for (int i = 0; i < sp->n; i++)
        nncw_free(sp->layers[i].name);
    nncw_free(sp->layers);
    nncw_sparsity_config_free(sp->cfg);
    nncw_free(sp);
}

enum nncw_status nncw_sparsity_set_level(struct nncw_sparsity *sp, float level)
{
    const char *algo = nncw_sparsity_algo_name(sp->cfg->algo);
    if (sp->cfg->algo == NNCW_SPARSITY_CONST)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s keeps the masks it was built with; its level cannot be set", algo);
    if (!(level >= 0.0f && level < 1.0f))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s: sparsity level %g is outside [0, 1)", algo,
                         (double)level);
    if (sp->frozen)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s: the masks are frozen (sparsity_freeze_epoch %d reached)", algo,
                         sp->cfg->schedule.freeze_epoch);
    return sp->ops->apply_level(sp, level);
}

/* ---- scheduler hooks ---- */

/* the share of zeros in the masks (RB's loss measures this for the adaptive schedule) */
static float mask_sparsity(const struct nncw_sparsity *sp)
{
    if (sp->ops->refresh)
        sp->ops->refresh(sp);
    int64_t zeros = 0;
    for (int i = 0; i < sp->n; i++) {
        const float *m = nncw_sparse_layer_mask(sp, i);
        for (int64_t k = 0; k < nncw_sparse_layer_numel(sp, i); k++)
            zeros += m[k] == 0.0f;
    }
    return sp->total ? (float)((double)zeros / (double)sp->total) : 0.0f;
}

/* NNCF: freeze once the freeze epoch is reached, then set the level (which frozen magnitude
 * masks ignore) */
static enum nncw_status follow_scheduler(struct nncw_sparsity *sp)
{
    if (sp->sched.frozen && !sp->frozen)
        NNCW_TRY(sp->ops->freeze(sp));
    if (sp->frozen) {
        sp->level = sp->sched.level;
        return NNCW_OK;
    }
    return sp->ops->apply_level(sp, sp->sched.level);
}

static enum nncw_status sparsity_epoch_step(void *self, int epoch)
{
    struct nncw_sparsity *sp = self;
    if (!sp->has_scheduler)
        return NNCW_OK;
    float measured = sp->sched.s.type == NNCW_SCHEDULE_ADAPTIVE ? mask_sparsity(sp) : 0.0f;
    bool update;
    enum nncw_status s = nncw_sparsity_scheduler_epoch_step(&sp->sched, epoch, measured, &update);
    if (s != NNCW_OK) { /* name the entry; the scheduler's message is copied out first */
        char why[512];
        snprintf(why, sizeof why, "%s", nncw_last_error());
        return NNCW_FAIL(s, "%s %s: %s", nncw_sparsity_algo_name(sp->cfg->algo), sp->cfg->path,
                         why);
    }
    return update ? follow_scheduler(sp) : NNCW_OK;
}

static enum nncw_status sparsity_step(void *self, int64_t global_step)
{
    (void)global_step;
    struct nncw_sparsity *sp = self;
    if (!sp->has_scheduler)
        return NNCW_OK;
    bool update;
    nncw_sparsity_scheduler_step(&sp->sched, &update);
    return update ? follow_scheduler(sp) : NNCW_OK;
}

static enum nncw_compression_stage sparsity_stage(const void *self)
{
    const struct nncw_sparsity *sp = self;
    if (sp->cfg->algo == NNCW_SPARSITY_CONST)
        return NNCW_STAGE_FULLY_COMPRESSED;
    return nncw_sparsity_stage(sp->level, sp->sched.s.target, sp->cfg->local);
}

static enum nncw_status sparsity_statistics(const void *self, char **text)
{
    const struct nncw_sparsity *sp = self;
    if (sp->ops->refresh)
        sp->ops->refresh(sp);
    char *model = nncw_sparsity_model_statistics(sp);
    char *algo = sp->ops->algo_statistics ? sp->ops->algo_statistics(sp) : NULL;
    char *out = NULL;
    if (model && (algo || !sp->ops->algo_statistics)) {
        size_t need = strlen(model) + (algo ? strlen(algo) : 0) + 4;
        if ((out = nncw_malloc(need))) {
            strcpy(out, model);
            if (algo) {
                strcat(out, "\n");
                strcat(out, algo);
            }
        }
    }
    nncw_free(model);
    nncw_free(algo);
    if (!out)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "sparsity statistics: out of memory");
    *text = out;
    return NNCW_OK;
}

static float sparsity_rate(const void *self)
{
    const struct nncw_sparsity *sp = self;
    if (sp->ops->refresh)
        sp->ops->refresh(sp);
    return nncw_sparsity_model_level(sp);
}

static enum nncw_status sparsity_set_rate(void *self, float rate)
{
    return nncw_sparsity_set_level(self, rate);
}

/* ---- controller state (checkpoints): the scheduler's position, the level, the frozen flag
 * and the per-layer figures the statistics show; the masks are parameters ---- */
static struct nncw_state *scheduler_state(const struct nncw_sparsity_scheduler *sch)
{
    struct nncw_state *st = nncw_state_new();
    if (!st)
        return NULL;
    nncw_state_set_number(st, "current_epoch", sch->epoch);
    nncw_state_set_number(st, "steps_in_epoch", (double)sch->steps_in_epoch);
    nncw_state_set_number(st, "steps_per_epoch", (double)sch->steps_per_epoch);
    nncw_state_set_bool(st, "skipping", sch->skipping);
    nncw_state_set_number(st, "counted_epochs", sch->counted_epochs);
    nncw_state_set_number(st, "level", sch->level);
    nncw_state_set_bool(st, "frozen", sch->frozen);
    return st;
}

static enum nncw_status sparsity_get_state(const void *self, char **json)
{
    const struct nncw_sparsity *sp = self;
    float *per_layer = nncw_malloc((size_t)(sp->n ? sp->n : 1) * sizeof *per_layer);
    struct nncw_state *st = nncw_state_new();
    enum nncw_status s = NNCW_OK;
    if (!per_layer || !st) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "sparsity state: out of memory");
        goto out;
    }
    nncw_state_set_number(st, "level", sp->level);
    nncw_state_set_bool(st, "frozen", sp->frozen);
    for (int i = 0; i < sp->n; i++)
        per_layer[i] = sp->layers[i].threshold;
    nncw_state_set_floats(st, "thresholds", per_layer, sp->n);
    for (int i = 0; i < sp->n; i++)
        per_layer[i] = sp->layers[i].target;
    nncw_state_set_floats(st, "layer_targets", per_layer, sp->n);
    struct nncw_state *sch = scheduler_state(&sp->sched);
    nncw_state_set_child(st, "scheduler", sch);
    s = nncw_state_print(st, json);
out:
    nncw_free(per_layer);
    nncw_state_free(st);
    return s;
}

static enum nncw_status read_scheduler(const struct nncw_state *st,
                                       struct nncw_sparsity_scheduler *sch)
{
    struct nncw_state *v;
    NNCW_TRY(nncw_state_get_child(st, "scheduler", &v));
    int64_t epoch = 0, counted = 0;
    double level = 0;
    struct nncw_sparsity_scheduler next = *sch;
    enum nncw_status s = nncw_state_get_int(v, "current_epoch", &epoch);
    if (s == NNCW_OK)
        s = nncw_state_get_int(v, "steps_in_epoch", &next.steps_in_epoch);
    if (s == NNCW_OK)
        s = nncw_state_get_int(v, "steps_per_epoch", &next.steps_per_epoch);
    if (s == NNCW_OK)
        s = nncw_state_get_bool(v, "skipping", &next.skipping);
    if (s == NNCW_OK)
        s = nncw_state_get_int(v, "counted_epochs", &counted);
    if (s == NNCW_OK)
        s = nncw_state_get_number(v, "level", &level);
    if (s == NNCW_OK)
        s = nncw_state_get_bool(v, "frozen", &next.frozen);
    nncw_state_free(v);
    if (s != NNCW_OK)
        return s;
    next.epoch = (int)epoch;
    next.counted_epochs = (int)counted;
    next.level = (float)level;
    *sch = next;
    return NNCW_OK;
}

/* RB's mask nodes carry the frozen flag the op reads */
static enum nncw_status set_frozen(struct nncw_sparsity *sp, bool frozen)
{
    if (frozen && !sp->frozen)
        return sp->ops->freeze(sp);
    if (!frozen && sp->frozen) {
        if (sp->cfg->algo == NNCW_SPARSITY_CONST)
            return NNCW_FAIL(NNCW_ERR_PARSE, "const_sparsity state: its masks are always frozen");
        for (int i = 0; i < sp->n && sp->cfg->algo == NNCW_SPARSITY_RB; i++)
            NNCW_TRY(nncw_node_set_attr_int(nncw_graph_get_node(sp->g, sp->layers[i].node),
                                            "frozen", 0));
        sp->frozen = false;
    }
    return NNCW_OK;
}

static enum nncw_status sparsity_set_state(void *self, const char *json)
{
    struct nncw_sparsity *sp = self;
    char what[64];
    snprintf(what, sizeof what, "%s state", nncw_sparsity_algo_name(sp->cfg->algo));
    struct nncw_state *st;
    NNCW_TRY(nncw_state_parse(json, what, &st));
    int n = sp->n ? sp->n : 1;
    float *thresholds = nncw_malloc((size_t)n * sizeof(float));
    float *targets = nncw_malloc((size_t)n * sizeof(float));
    struct nncw_sparsity_scheduler sch = sp->sched;
    double level = 0;
    bool frozen = false;
    enum nncw_status s = thresholds && targets
                             ? nncw_state_get_number(st, "level", &level)
                             : NNCW_FAIL(NNCW_ERR_NOMEM, "%s: out of memory", what);
    if (s == NNCW_OK)
        s = nncw_state_get_bool(st, "frozen", &frozen);
    if (s == NNCW_OK)
        s = nncw_state_get_floats(st, "thresholds", thresholds, sp->n);
    if (s == NNCW_OK)
        s = nncw_state_get_floats(st, "layer_targets", targets, sp->n);
    if (s == NNCW_OK)
        s = read_scheduler(st, &sch);
    /* everything is read and checked; only now does the controller change */
    if (s == NNCW_OK)
        s = set_frozen(sp, frozen);
    if (s == NNCW_OK) {
        sp->sched = sch;
        sp->level = (float)level;
        for (int i = 0; i < sp->n; i++) {
            sp->layers[i].threshold = thresholds[i];
            sp->layers[i].target = targets[i];
        }
    }
    nncw_free(thresholds);
    nncw_free(targets);
    nncw_state_free(st);
    return s;
}

struct nncw_compression_algo nncw_sparsity_algo(struct nncw_sparsity *sp)
{
    return (struct nncw_compression_algo){.name = nncw_sparsity_algo_name(sp->cfg->algo),
                                          .self = sp,
                                          .epoch_step = sparsity_epoch_step,
                                          .step = sparsity_step,
                                          .stage = sparsity_stage,
                                          .statistics = sparsity_statistics,
                                          .compression_rate = sparsity_rate,
                                          .set_compression_rate = sparsity_set_rate,
                                          .get_state = sparsity_get_state,
                                          .set_state = sparsity_set_state,
                                          .free = nncw_sparsity_free};
}

/* ---- builders ---- */

static enum nncw_status build(struct nncw_graph *g, const struct nncw_config *cfg, int entry,
                              enum nncw_status (*setup)(struct nncw_sparsity *),
                              struct nncw_compression_algo *out)
{
    struct nncw_sparsity_config *sc = NULL;
    NNCW_TRY(nncw_sparsity_config_parse(cfg, entry, &sc));
    struct nncw_sparsity *sp = nncw_calloc(1, sizeof *sp);
    if (!sp) {
        nncw_sparsity_config_free(sc);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "sparsity: out of memory");
    }
    sp->g = g;
    sp->cfg = sc;
    sp->has_scheduler = sc->algo != NNCW_SPARSITY_CONST && !sc->local;
    nncw_sparsity_scheduler_init(&sp->sched, &sc->schedule);
    enum nncw_status s = setup(sp);
    if (s != NNCW_OK) {
        nncw_sparsity_free(sp);
        return s;
    }
    *out = nncw_sparsity_algo(sp);
    return NNCW_OK;
}

enum nncw_status nncw_magnitude_sparsity_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                               int entry, const struct nncw_compression_init *init,
                                               const struct nncw_compression_edits *edits,
                                               struct nncw_compression_algo *out,
                                               int64_t *bn_samples)
{
    (void)edits;
    NNCW_TRY(build(g, cfg, entry, nncw_sparsity_magnitude_setup, out));
    const struct nncw_sparsity *sp = out->self;
    *bn_samples = init->data ? sp->cfg->num_bn_adaptation_samples : 0;
    return NNCW_OK;
}

enum nncw_status nncw_rb_sparsity_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                        int entry, const struct nncw_compression_init *init,
                                        const struct nncw_compression_edits *edits,
                                        struct nncw_compression_algo *out, int64_t *bn_samples)
{
    (void)init;
    (void)edits;
    NNCW_TRY(build(g, cfg, entry, nncw_sparsity_rb_setup, out));
    out->loss = nncw_sparsity_rb_loss;
    out->lr_scale = nncw_sparsity_rb_lr_scale;
    *bn_samples = 0;
    return NNCW_OK;
}

enum nncw_status nncw_const_sparsity_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                           int entry, const struct nncw_compression_init *init,
                                           const struct nncw_compression_edits *edits,
                                           struct nncw_compression_algo *out, int64_t *bn_samples)
{
    (void)init;
    (void)edits;
    NNCW_TRY(build(g, cfg, entry, nncw_sparsity_const_setup, out));
    *bn_samples = 0;
    return NNCW_OK;
}

/* ---- the public calls ---- */

static struct nncw_sparsity *find_sparsity(const struct nncw_compression *c)
{
    for (int a = 0; a < NNCW_SPARSITY_ALGO_COUNT; a++) {
        const struct nncw_compression_algo *algo =
            nncw_compression_find_algo(c, nncw_sparsity_algo_name((enum nncw_sparsity_algo)a));
        if (algo)
            return algo->self;
    }
    return NULL;
}

enum nncw_status nncw_compression_get_sparsity_level(const struct nncw_compression *c, float *level)
{
    const struct nncw_sparsity *sp = find_sparsity(c);
    if (!sp)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "compression: there is no sparsity algorithm");
    *level = sp->level;
    return NNCW_OK;
}

enum nncw_status nncw_compression_set_sparsity_level(struct nncw_compression *c, float level)
{
    struct nncw_sparsity *sp = find_sparsity(c);
    if (!sp)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "compression: there is no sparsity algorithm");
    return nncw_sparsity_set_level(sp, level);
}
