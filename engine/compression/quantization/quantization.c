/*
 * The quantization algorithm: builder (config -> hardware config -> quantizer setup -> graph
 * edits -> range initialisation) and controller (scheduler, statistics, export flavour).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/precision/precision.h"
#include "compression/precision/precision_init.h"
#include "compression/quantization/hw_config.h"
#include "compression/quantization/insert.h"
#include "compression/quantization/quant_config.h"
#include "compression/quantization/quantizer_setup.h"
#include "compression/quantization/range_run.h"
#include "core/alloc.h"
#include "core/text_table.h"
#include "compression/staged_schedule.h"
#include "compression/state.h"
#include "ops/fake_quantize.h"

struct quantization {
    struct nncw_graph *g;
    struct nncw_quant_config *qc;
    struct nncw_quantizer_setup *setup;
    struct nncw_quantizer *q;
    int nq;
    /* the staged scheduler (NNCF's "params"): quantizers switch on at these epochs */
    bool staged;
    int act_start_epoch, weight_start_epoch;
    int epoch; /* the scheduler's position: the last epoch stepped, -1 before the first */
    struct nncw_staged_schedule lr_wd;
    float lr_multiplier; /* 1 when not set */
    bool standard_ops;
};

static void quantization_free(void *self)
{
    struct quantization *z = self;
    if (!z)
        return;
    nncw_quantizer_setup_free(z->setup);
    nncw_quant_config_free(z->qc);
    nncw_free(z->q);
    nncw_free(z);
}

static enum nncw_status set_enabled(struct quantization *z, bool weights, bool on)
{
    for (int k = 0; k < z->nq; k++)
        if (z->q[k].is_weight == weights)
            NNCW_TRY(
                nncw_node_set_attr_int(nncw_graph_get_node(z->g, z->q[k].node), "enabled", on));
    return NNCW_OK;
}

static enum nncw_status quantization_epoch_step(void *self, int epoch)
{
    struct quantization *z = self;
    z->epoch = epoch;
    if (!z->staged)
        return NNCW_OK;
    NNCW_TRY(set_enabled(z, false, epoch >= z->act_start_epoch));
    return set_enabled(z, true, epoch >= z->weight_start_epoch);
}

static enum nncw_status quantization_lr_wd_override(void *self, double epoch, float *lr,
                                                    float *weight_decay)
{
    const struct quantization *z = self;
    nncw_staged_lr_wd(&z->lr_wd, epoch, lr, weight_decay);
    return NNCW_OK;
}

static float quantization_lr_scale(void *self, int value_id)
{
    const struct quantization *z = self;
    for (int k = 0; k < z->nq; k++)
        if (z->q[k].param0 == value_id || z->q[k].param1 == value_id)
            return z->lr_multiplier;
    return 1.0f;
}

static int count_enabled(const struct quantization *z)
{
    int on = 0;
    for (int k = 0; k < z->nq; k++)
        on += nncw_node_get_attr_int(nncw_graph_get_node(z->g, z->q[k].node), "enabled", 1) != 0;
    return on;
}

static enum nncw_compression_stage quantization_stage(const void *self)
{
    const struct quantization *z = self;
    int on = count_enabled(z);
    return on == z->nq ? NNCW_STAGE_FULLY_COMPRESSED
           : on        ? NNCW_STAGE_PARTIALLY_COMPRESSED
                       : NNCW_STAGE_UNCOMPRESSED;
}

static void quantization_export_options(const void *self, struct nncw_onnx_export_options *eo)
{
    const struct quantization *z = self;
    if (z->standard_ops)
        eo->standard_ops = true;
}

/* ---- statistics, as NNCF's quantization statistics tables ---- */
static bool is_signed(const struct quantization *z, int k)
{
    return nncw_node_get_attr_int(nncw_graph_get_node(z->g, z->q[k].node), "level_low", 0) < 0;
}

static void share_row(struct nncw_text_table *t, const char *name, long part, long whole)
{
    char v[64];
    nncw_format_share(v, sizeof v, part, whole);
    nncw_text_table_add_row(t, (const char *[]){name, v});
}

static char *share_table(const struct quantization *z)
{
    struct nncw_text_table *t =
        nncw_text_table_new(2, (const char *const[]){"Statistic's name", "Value"});
    for (int weights = 1; weights >= 0; weights--) {
        long all = 0, sym = 0, sgn = 0, pc = 0;
        for (int k = 0; k < z->nq; k++)
            if (z->q[k].is_weight == (weights != 0)) {
                all++;
                sym += !z->q[k].asymmetric;
                sgn += is_signed(z, k);
                pc += z->q[k].per_channel;
            }
        const char *w = weights ? "WQs" : "AQs";
        char name[64];
#define ROW(label, part)                                                                           \
    do {                                                                                           \
        snprintf(name, sizeof name, label " %s / All placed %s", w, w);                            \
        share_row(t, name, part, all);                                                             \
    } while (0)
        ROW("Symmetric", sym);
        ROW("Asymmetric", all - sym);
        ROW("Signed", sgn);
        ROW("Unsigned", all - sgn);
        ROW("Per-tensor", all - pc);
        ROW("Per-channel", pc);
#undef ROW
    }
    share_row(t, "Enabled quantizers / All quantizers", count_enabled(z), z->nq);
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

static char *bitwidth_table(const struct quantization *z)
{
    struct nncw_text_table *t = nncw_text_table_new(
        4, (const char *const[]){"Num bits (N)", "N-bits WQs / Placed WQs",
                                 "N-bits AQs / Placed AQs", "N-bits Qs / Placed Qs"});
    long nw = 0, na = 0;
    for (int k = 0; k < z->nq; k++) {
        nw += z->q[k].is_weight;
        na += !z->q[k].is_weight;
    }
    for (int bits = 32; bits >= 1; bits--) {
        long w = 0, a = 0;
        for (int k = 0; k < z->nq; k++)
            if (z->q[k].bits == bits) {
                w += z->q[k].is_weight;
                a += !z->q[k].is_weight;
            }
        if (!w && !a)
            continue;
        char b[16], cw[64], ca[64], cq[64];
        snprintf(b, sizeof b, "%d", bits);
        nncw_format_share(cw, sizeof cw, w, nw);
        nncw_format_share(ca, sizeof ca, a, na);
        nncw_format_share(cq, sizeof cq, w + a, nw + na);
        nncw_text_table_add_row(t, (const char *const[]){b, cw, ca, cq});
    }
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

static enum nncw_status quantization_statistics(const void *self, char **text)
{
    const struct quantization *z = self;
    char *share = share_table(z), *bits = bitwidth_table(z);
    size_t need = (share ? strlen(share) : 0) + (bits ? strlen(bits) : 0) + 256;
    char *out = share && bits ? nncw_malloc(need) : NULL;
    if (out)
        snprintf(out, need,
                 "Statistics of the quantization algorithm (%d quantizers):\n"
                 "Statistics of the quantization share:\n%s\n"
                 "Statistics of the bitwidth distribution:\n%s",
                 z->nq, share, bits);
    nncw_free(share);
    nncw_free(bits);
    if (!out)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "quantization statistics: out of memory");
    *text = out;
    return NNCW_OK;
}

/* ---- controller state (checkpoints): scheduler position, enabled flags and the levels range
 * initialisation chose (signedness follows the data); ranges are parameters and travel with
 * the weights ---- */
static const char *const state_attrs[] = {"enabled", "level_low", "level_high"};

static enum nncw_status quantization_get_state(const void *self, char **json)
{
    const struct quantization *z = self;
    int64_t *v = nncw_malloc((size_t)(z->nq ? z->nq : 1) * sizeof *v);
    struct nncw_state *st = nncw_state_new();
    enum nncw_status s = NNCW_OK;
    if (!v || !st) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "quantization state: out of memory");
        goto out;
    }
    nncw_state_set_number(st, "current_epoch", z->epoch);
    for (int a = 0; a < 3; a++) {
        for (int k = 0; k < z->nq; k++)
            v[k] = nncw_node_get_attr_int(nncw_graph_get_node(z->g, z->q[k].node), state_attrs[a],
                                          a == 0);
        nncw_state_set_ints(st, state_attrs[a], v, z->nq);
    }
    s = nncw_state_print(st, json);
out:
    nncw_free(v);
    nncw_state_free(st);
    return s;
}

static enum nncw_status quantization_set_state(void *self, const char *json)
{
    struct quantization *z = self;
    struct nncw_state *st;
    NNCW_TRY(nncw_state_parse(json, "quantization state", &st));
    size_t n = (size_t)(z->nq ? z->nq : 1);
    int64_t *v = nncw_malloc(3 * n * sizeof *v);
    int64_t epoch = -1;
    enum nncw_status s = v ? nncw_state_get_int(st, "current_epoch", &epoch)
                           : NNCW_FAIL(NNCW_ERR_NOMEM, "quantization state: out of memory");
    for (int a = 0; a < 3 && s == NNCW_OK; a++)
        s = nncw_state_get_ints(st, state_attrs[a], v + (size_t)a * n, z->nq);
    for (int k = 0; k < z->nq && s == NNCW_OK; k++)
        if (v[n + (size_t)k] >= v[2 * n + (size_t)k])
            s = NNCW_FAIL(NNCW_ERR_PARSE, "quantization state: quantizer %d has levels %lld..%lld",
                          k, (long long)v[n + (size_t)k], (long long)v[2 * n + (size_t)k]);
    /* everything read and checked: now the nodes change */
    for (int a = 0; a < 3 && s == NNCW_OK; a++)
        for (int k = 0; k < z->nq && s == NNCW_OK; k++)
            s = nncw_node_set_attr_int(nncw_graph_get_node(z->g, z->q[k].node), state_attrs[a],
                                       a == 0 ? v[k] != 0 : v[(size_t)a * n + (size_t)k]);
    if (s == NNCW_OK)
        z->epoch = (int)epoch;
    nncw_free(v);
    nncw_state_free(st);
    return s;
}

/* ---- building ---- */
/* the initializer.range entry of a quantizer: its own (per-layer entries, scope overrides),
 * else the single entry, else NNCF's defaults */
static const struct nncw_range_init_config *range_for_point(const struct nncw_quant_config *qc,
                                                     const struct nncw_quantizer_point *pt)
{
    static const struct nncw_range_init_config defaults = {.num_init_samples = 256,
                                                    .type = NNCW_RANGE_MEAN_MIN_MAX,
                                                    .min_percentile = 0.1f,
                                                    .max_percentile = 99.9f};
    if (pt->range_init_index >= 0 && pt->range_init_index < qc->init.n_ranges)
        return &qc->init.ranges[pt->range_init_index];
    if (!qc->init.range_per_layer && qc->init.n_range_entries > 0)
        return &qc->init.ranges[0];
    return &defaults;
}

static enum nncw_status init_ranges(struct quantization *z,
                                    const struct nncw_compression_init *init)
{
    struct nncw_range_setting *rs = nncw_calloc((size_t)(z->nq ? z->nq : 1), sizeof *rs);
    if (!rs)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "range initialisation: out of memory");
    for (int k = 0; k < z->nq; k++) {
        const struct nncw_range_init_config *r = range_for_point(z->qc, &z->setup->points[z->q[k].point]);
        rs[k] = (struct nncw_range_setting){.params = {.type = r->type,
                                                       .min_percentile = r->min_percentile,
                                                       .max_percentile = r->max_percentile},
                                            .num_init_samples = r->num_init_samples};
    }
    struct nncw_range_run run = {.data = init->data,
                                 .batch_size = init->batch_size > 0 ? init->batch_size : 64,
                                 .seed = init->seed,
                                 .per_quantizer = rs};
    enum nncw_status s = nncw_quantizers_init_ranges(z->g, z->q, z->nq, &run);
    nncw_free(rs);
    return s;
}

/* the configuration of pt's list that is its current one with ch applied, or -1 */
static int changed_config(const struct nncw_quantizer_point *pt,
                          const struct nncw_quantizer_change *ch)
{
    struct nncw_qconfig want = pt->configs[pt->chosen];
    if (ch->bits > 0)
        want.bits = ch->bits;
    if (ch->mode >= 0)
        want.mode = (enum nncw_qmode)ch->mode;
    if (ch->per_channel >= 0)
        want.per_channel = ch->per_channel != 0;
    int fallback = -1;
    for (int i = 0; i < pt->n_configs; i++) {
        const struct nncw_qconfig *c = &pt->configs[i];
        if (c->bits != want.bits || c->mode != want.mode || c->per_channel != want.per_channel)
            continue;
        if (c->signedness == want.signedness)
            return i;
        if (fallback < 0)
            fallback = i;
    }
    return fallback;
}

static enum nncw_status refuse_change(const struct nncw_quantizer_point *pt, const char *pattern)
{
    char list[1024] = "", one[96];
    for (int i = 0; i < pt->n_configs; i++) {
        nncw_qconfig_format(&pt->configs[i], one, sizeof one);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "; " : "", one);
    }
    return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                     "quantizer '%s' (matched by '%s'): the hardware config does not allow that "
                     "change; it allows: %s",
                     pt->id, pattern, list);
}

/* interactive edits: each matching point (and the rest of its unified group) takes the
 * configuration its change asks for */
static enum nncw_status apply_edits(struct nncw_quantizer_setup *setup,
                                    const struct nncw_quant_config *qc,
                                    const struct nncw_compression_edits *edits)
{
    for (int e = 0; edits && e < edits->n; e++) {
        const struct nncw_quantizer_edit *ed = &edits->quantizers[e];
        for (int i = 0; i < setup->n_points; i++) {
            bool hit;
            NNCW_TRY(nncw_scope_matches(ed->pattern, setup->points[i].id, &hit));
            if (!hit)
                continue;
            int group = setup->points[i].unified_group;
            for (int j = 0; j < setup->n_points; j++) {
                struct nncw_quantizer_point *pt = &setup->points[j];
                if (j != i && (group < 0 || pt->unified_group != group))
                    continue;
                int k = changed_config(pt, &ed->change);
                if (k < 0) /* TRIAL: any configuration asked for (compression/precision) */
                    NNCW_TRY(nncw_precision_trial_change(
                        setup, j, ed->change.bits, ed->change.mode, ed->change.per_channel,
                        qc->init.precision.bits, qc->init.precision.n_bits, &k));
                if (k < 0)
                    return refuse_change(pt, ed->pattern);
                pt->chosen = k;
            }
        }
        /* an edit whose quantizers a later scope change removed is kept, inert, and applies
         * again if they come back (a new edit must match: nncw_compression_set_quantizers) */
    }
    return NNCW_OK;
}

const struct nncw_quantizer_setup *nncw_quantization_get_setup(const void *self)
{
    return ((const struct quantization *)self)->setup;
}

int nncw_quantization_count(const void *self)
{
    return ((const struct quantization *)self)->nq;
}

enum nncw_status nncw_quantization_info(const void *self, int i, struct nncw_quantizer_info *out)
{
    const struct quantization *z = self;
    const struct nncw_quantizer *q = &z->q[i];
    const struct nncw_quantizer_point *pt = &z->setup->points[q->point];
    struct nncw_node *n = nncw_graph_get_node(z->g, q->node);
    *out = (struct nncw_quantizer_info){.id = pt->id,
                                        .node = q->node,
                                        .is_weight = q->is_weight,
                                        .asymmetric = q->asymmetric,
                                        .is_signed = nncw_node_get_attr_int(n, "level_low", 0) < 0,
                                        .per_channel = q->per_channel,
                                        .half_range = q->half_range,
                                        .enabled = nncw_node_get_attr_int(n, "enabled", 1) != 0,
                                        .bits = q->bits,
                                        .unified_group = pt->unified_group,
                                        .channels = q->channels,
                                        .n_alternatives = pt->n_configs - 1};
    struct nncw_quantizer_attrs a;
    NNCW_TRY(nncw_quantizer_get_attrs(n, -1, &a));
    float *low = nncw_malloc((size_t)q->channels * sizeof(float));
    float *range = nncw_malloc((size_t)q->channels * sizeof(float));
    enum nncw_status s = low && range ? NNCW_OK : NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
    if (s == NNCW_OK)
        s = nncw_quantizer_get_ranges(
            n, &a, nncw_graph_get_value_tensor(z->g, q->param0),
            q->param1 >= 0 ? nncw_graph_get_value_tensor(z->g, q->param1) : NULL, low, range);
    if (s == NNCW_OK) {
        out->low = low[0];
        out->high = low[0] + range[0];
        for (int64_t c = 1; c < q->channels; c++) {
            out->low = fminf(out->low, low[c]);
            out->high = fmaxf(out->high, low[c] + range[c]);
        }
    }
    nncw_free(low);
    nncw_free(range);
    return s;
}

enum nncw_status nncw_quantization_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                         int entry, const struct nncw_compression_init *init,
                                         const struct nncw_compression_edits *edits,
                                         struct nncw_compression_algo *out, int64_t *bn_samples)
{
    struct quantization *z = nncw_calloc(1, sizeof *z);
    if (!z)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "quantization: out of memory");
    z->g = g;
    struct nncw_hw_config *hw = NULL;
    enum nncw_status s = nncw_quant_config_parse(cfg, entry, &z->qc);
    if (s == NNCW_OK && cfg->target_device != NNCW_DEVICE_TRIAL)
        s = nncw_hw_config_load_for_device(cfg->target_device, init->hw_config_dir, &hw);
    if (s == NNCW_OK)
        s = nncw_quantizer_setup_build(g, z->qc, hw, &z->setup);
    nncw_hw_config_free(hw);
    /* mixed precision (manual, HAWQ) on the float graph, before interactive edits */
    if (s == NNCW_OK)
        s = nncw_precision_init_run(g, z->qc, z->setup, init, edits ? edits->hawq : NULL);
    if (s == NNCW_OK)
        s = apply_edits(z->setup, z->qc, edits);
    /* everything above only reads the graph; from here on it changes */
    if (s == NNCW_OK)
        s = nncw_quantizers_insert(g, z->setup, &z->q, &z->nq);
    if (s == NNCW_OK && init->data)
        s = init_ranges(z, init);
    if (s != NNCW_OK) {
        quantization_free(z);
        return s;
    }
    z->epoch = -1;
    z->staged = z->qc->staged;
    z->act_start_epoch = z->qc->params.activations_quant_start_epoch;
    z->weight_start_epoch = z->qc->params.weights_quant_start_epoch;
    z->lr_multiplier =
        z->qc->compression_lr_multiplier > 0 ? z->qc->compression_lr_multiplier : 1.0f;
    z->standard_ops = z->qc->export_to_onnx_standard_ops;
    const struct nncw_staged_params *p = &z->qc->params;
    z->lr_wd = (struct nncw_staged_schedule){
        .lr_poly_drop_start_epoch = p->lr_poly_drop_start_epoch,
        .lr_poly_drop_duration_epochs = p->lr_poly_drop_duration_epochs,
        .disable_wd_start_epoch = p->disable_wd_start_epoch,
        .base_lr = p->base_lr,
        .base_wd = p->base_wd};
    *bn_samples = init->data ? z->qc->init.num_bn_adaptation_samples : 0;
    *out = (struct nncw_compression_algo){.name = "quantization",
                                          .self = z,
                                          .epoch_step = quantization_epoch_step,
                                          .lr_scale = quantization_lr_scale,
                                          .lr_wd_override =
                                              z->staged ? quantization_lr_wd_override : NULL,
                                          .stage = quantization_stage,
                                          .statistics = quantization_statistics,
                                          .export_options = quantization_export_options,
                                          .get_state = quantization_get_state,
                                          .set_state = quantization_set_state,
                                          .free = quantization_free};
    return NNCW_OK;
}
