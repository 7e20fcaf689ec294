/*
** The binarization algorithm (NNCF's BinarizationBuilder and controller, fact sheet 6): builder
** (placement on Conv weights and inputs, activation-scale initialisation) and controller (the
** staged scheduler, LR / weight-decay override, statistics, stage, state).
**
** Placement: every Conv whose weight is a 4-D float parameter (NNCF binarizes Conv2d modules)
** and whose scope the entry's scopes select gets an XNORBinarize or DoReFaBinarize node on its
** weight ("<conv>/binarize_weight") and an ActivationBinarize node on its data input
** ("<conv>/binarize_input", parameters ".scale" = log s, one value, 0 and ".threshold" = logit t,
** [1, C_in, 1, 1], 0 so t = 1/2: NNCF's initial values). Other readers of the weight and the
** input are left alone, as NNCF's pre-ops belong to the module. NNCF's sample configs keep the
** first conv, the classifier and the downsample convs out through ignored_scopes.
**
** Activation scales: NNCF sets each scale on the first training batch the binarizer sees to
** the smallest of the largest 0.1 % of its input. nncw does the same on the first
** initialisation batch (init->data), in execution order with the activation binarizers on, so
** each layer sees the binarized activations of the layers before it; without data the scales
** stay 1 until set_state or a checkpoint provides them.
*/
#include "compression/binarization/binarization.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/quantization/scope_match.h"
#include "compression/staged_schedule.h"
#include "compression/state.h"
#include "core/alloc.h"
#include "core/text_table.h"
#include "ops/binarize.h"

struct bin_layer {
    char *name;        /* the conv's scope */
    int conv;          /* node index */
    int weight_node;   /* the weight binarizer */
    int act_node;      /* the activation binarizer */
    int input;         /* the value the activation binarizer reads */
    int scale, thresh; /* its parameters */
};

struct binarization {
    struct nncw_graph *g;
    struct nncw_binarization_config *bc;
    int n;
    struct bin_layer *layers;
    int epoch; /* the last epoch stepped, -1 before the first */
    bool acts_on, weights_on;
    bool scales_initialized;
    struct nncw_staged_schedule lr_wd;
};

static void binarization_free(void *self)
{
    struct binarization *b = self;
    if (!b)
        return;
    for (int i = 0; i < b->n; i++)
        nncw_free(b->layers[i].name);
    nncw_free(b->layers);
    nncw_binarization_config_free(b->bc);
    nncw_free(b);
}

/* ---- switching on and off ---- */

static enum nncw_status set_enabled(struct binarization *b, bool acts, bool weights)
{
    for (int i = 0; i < b->n; i++) {
        NNCW_TRY(nncw_node_set_attr_int(nncw_graph_get_node(b->g, b->layers[i].act_node), "enabled",
                                        acts));
        NNCW_TRY(nncw_node_set_attr_int(nncw_graph_get_node(b->g, b->layers[i].weight_node),
                                        "enabled", weights));
    }
    b->acts_on = acts;
    b->weights_on = weights;
    return NNCW_OK;
}

/* the scheduler's switches at epoch (-1: before training, when NNCF's scheduler switches off
 * what starts later than epoch 0) */
static enum nncw_status follow_epoch(struct binarization *b, int epoch)
{
    const struct nncw_staged_params *p = &b->bc->params;
    int e = epoch < 0 ? 0 : epoch;
    b->epoch = epoch;
    return set_enabled(b, e >= p->activations_quant_start_epoch, e >= p->weights_quant_start_epoch);
}

static enum nncw_status binarization_epoch_step(void *self, int epoch)
{
    return follow_epoch(self, epoch);
}

static enum nncw_status binarization_lr_wd_override(void *self, double epoch, float *lr,
                                                    float *weight_decay)
{
    const struct binarization *b = self;
    nncw_staged_lr_wd(&b->lr_wd, epoch, lr, weight_decay);
    return NNCW_OK;
}

static float binarization_lr_scale(void *self, int value_id)
{
    const struct binarization *b = self;
    float m = b->bc->compression_lr_multiplier;
    for (int i = 0; m > 0.0f && i < b->n; i++)
        if (b->layers[i].scale == value_id || b->layers[i].thresh == value_id)
            return m;
    return 1.0f;
}

/* NNCF: both binarized -> fully, one -> partially, none -> uncompressed */
static enum nncw_compression_stage binarization_stage(const void *self)
{
    const struct binarization *b = self;
    if (b->acts_on && b->weights_on)
        return NNCW_STAGE_FULLY_COMPRESSED;
    return b->acts_on || b->weights_on ? NNCW_STAGE_PARTIALLY_COMPRESSED : NNCW_STAGE_UNCOMPRESSED;
}

/* ---- statistics ---- */

static float layer_scale(const struct binarization *b, int i)
{
    return expf(nncw_tensor_f32(nncw_graph_get_value_tensor(b->g, b->layers[i].scale))[0]);
}

static char *layers_table(const struct binarization *b)
{
    struct nncw_text_table *t =
        nncw_text_table_new(4, (const char *const[]){"Layer's name", "Weight's shape",
                                                     "Mean |w| scale", "Activation scale"});
    if (!t)
        return NULL;
    for (int i = 0; i < b->n; i++) {
        const struct nncw_node *conv = nncw_graph_get_node(b->g, b->layers[i].conv);
        const struct nncw_tensor *w = nncw_graph_get_value_tensor(
            b->g, nncw_node_get_input(nncw_graph_get_node(b->g, b->layers[i].weight_node), 0));
        char shape[96], wscale[32], ascale[32];
        nncw_tensor_shape_str(w, shape, sizeof shape);
        float m = 0.0f;
        nncw_binarize_weight_scales(w, false, &m);
        snprintf(wscale, sizeof wscale, "%.4g", (double)m);
        snprintf(ascale, sizeof ascale, "%.4g", (double)layer_scale(b, i));
        nncw_text_table_add_row(
            t, (const char *const[]){nncw_node_get_name(conv), shape, wscale, ascale});
    }
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

static enum nncw_status binarization_statistics(const void *self, char **text)
{
    const struct binarization *b = self;
    char *layers = layers_table(b);
    size_t need = (layers ? strlen(layers) : 0) + 512;
    char *out = layers ? nncw_malloc(need) : NULL;
    if (!out) {
        nncw_free(layers);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "binarization statistics: out of memory");
    }
    snprintf(out, need,
             "Statistics of the binarization algorithm:\n"
             "Mode: %s; binarized layers: %d; activations %s (from epoch %d), weights %s (from "
             "epoch %d); stage: %s\n%s",
             nncw_binarization_mode_name(b->bc->mode), b->n, b->acts_on ? "on" : "off",
             b->bc->params.activations_quant_start_epoch, b->weights_on ? "on" : "off",
             b->bc->params.weights_quant_start_epoch,
             nncw_compression_stage_name(binarization_stage(b)), layers);
    nncw_free(layers);
    *text = out;
    return NNCW_OK;
}

/* ---- state ---- */

static enum nncw_status binarization_get_state(const void *self, char **json)
{
    const struct binarization *b = self;
    struct nncw_state *st = nncw_state_new();
    if (!st)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "binarization state: out of memory");
    nncw_state_set_number(st, "epoch", b->epoch);
    nncw_state_set_bool(st, "scales_initialized", b->scales_initialized);
    enum nncw_status s = nncw_state_print(st, json);
    nncw_state_free(st);
    return s;
}

static enum nncw_status binarization_set_state(void *self, const char *json)
{
    struct binarization *b = self;
    struct nncw_state *st;
    NNCW_TRY(nncw_state_parse(json, "binarization state", &st));
    int64_t epoch = 0;
    bool init = false;
    enum nncw_status s = nncw_state_get_int(st, "epoch", &epoch);
    if (s == NNCW_OK)
        s = nncw_state_get_bool(st, "scales_initialized", &init);
    if (s == NNCW_OK && (epoch < -1 || epoch > 1000000))
        s = NNCW_FAIL(NNCW_ERR_PARSE, "binarization state: epoch %lld is out of range",
                      (long long)epoch);
    nncw_state_free(st);
    NNCW_TRY(s);
    b->scales_initialized = init;
    return follow_epoch(b, (int)epoch);
}

/* ---- placement ---- */

static bool selected(const struct nncw_binarization_config *bc, const char *name)
{
    if (nncw_scope_list_matches(&bc->ignored, name))
        return false;
    return bc->target.n == 0 || nncw_scope_list_matches(&bc->target, name);
}

static enum nncw_status add_filled(struct nncw_graph *g, const char *name, int ndim,
                                   const int64_t *shape, float value, int *id)
{
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, NNCW_DTYPE_F32, ndim, shape));
    nncw_tensor_fill_f32(&t, value);
    enum nncw_status s = nncw_graph_add_param(g, name, &t, true, id);
    nncw_tensor_fini(&t);
    return s;
}

/* the binarizers of one conv, spliced between it and its weight and data input */
static enum nncw_status insert_layer(struct binarization *b, struct bin_layer *l)
{
    struct nncw_graph *g = b->g;
    struct nncw_node *conv = nncw_graph_get_node(g, l->conv);
    int w = nncw_node_get_input(conv, 1);
    const struct nncw_tensor *wt = nncw_graph_get_value_tensor(g, w);
    int64_t channels = wt->shape[1] * nncw_node_get_attr_int(conv, "group", 1);
    char scope[600], pname[640];
    int y;
    struct nncw_node *n;
    snprintf(scope, sizeof scope, "%s/binarize_weight", l->name);
    enum nncw_op wop =
        b->bc->mode == NNCW_BINARIZATION_XNOR ? NNCW_OP_XNOR_BINARIZE : NNCW_OP_DOREFA_BINARIZE;
    NNCW_TRY(nncw_graph_add_node(g, wop, scope, 1, &w, 1, &y, &n));
    l->weight_node = nncw_node_get_index(n);
    /* adding nodes may move them: look the conv up again */
    NNCW_TRY(nncw_graph_set_node_input(g, nncw_graph_get_node(g, l->conv), 1, y));
    conv = nncw_graph_get_node(g, l->conv);
    snprintf(scope, sizeof scope, "%s/binarize_input", l->name);
    snprintf(pname, sizeof pname, "%s.scale", scope);
    NNCW_TRY(add_filled(g, pname, 1, (int64_t[]){1}, 0.0f, &l->scale));
    snprintf(pname, sizeof pname, "%s.threshold", scope);
    NNCW_TRY(add_filled(g, pname, 4, (int64_t[]){1, channels, 1, 1}, 0.0f, &l->thresh));
    l->input = nncw_node_get_input(conv, 0);
    channels = channels > 0 ? channels : 1;
    NNCW_TRY(nncw_graph_add_node(g, NNCW_OP_ACTIVATION_BINARIZE, scope, 3,
                                 (int[]){l->input, l->scale, l->thresh}, 1, &y, &n));
    l->act_node = nncw_node_get_index(n);
    return nncw_graph_set_node_input(g, nncw_graph_get_node(g, l->conv), 0, y);
}

/* the convs to binarize, in topological order; only reads the graph */
static enum nncw_status collect(struct binarization *b)
{
    struct nncw_graph *g = b->g;
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    int nodes = nncw_graph_count_nodes(g);
    if (!(b->layers = nncw_calloc((size_t)(nodes ? nodes : 1), sizeof *b->layers)))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "binarization: out of memory");
    for (int k = 0; k < nodes; k++) {
        const struct nncw_node *n = nncw_graph_get_node(g, order[k]);
        const char *name = nncw_node_get_name(n);
        if (nncw_node_get_op(n) != NNCW_OP_CONV || nncw_node_count_inputs(n) < 2 ||
            !selected(b->bc, name))
            continue;
        int w = nncw_node_get_input(n, 1);
        const struct nncw_tensor *wt = w >= 0 ? nncw_graph_get_value_tensor(g, w) : NULL;
        if (!wt || nncw_graph_get_value_kind(g, w) != NNCW_VALUE_PARAM ||
            wt->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                             "config '%s': %s: the weight of conv '%s' is not a float parameter "
                             "(binarization does not combine with other weight compression)",
                             b->bc->source, b->bc->path, name);
        if (wt->ndim != 4)
            continue; /* NNCF binarizes Conv2d only */
        struct bin_layer *l = &b->layers[b->n];
        *l = (struct bin_layer){.conv = order[k], .weight_node = -1, .act_node = -1};
        if (!(l->name = nncw_strdup(name)))
            return NNCW_FAIL(NNCW_ERR_NOMEM, "binarization: out of memory");
        b->n++;
    }
    return NNCW_OK;
}

/* ---- activation scale initialisation ---- */

struct scale_pass {
    struct binarization *b;
    int done;
};

static enum nncw_status init_layer_scale(struct binarization *b, int i, struct nncw_exec *ex)
{
    const struct nncw_tensor *x = nncw_exec_get_value(ex, b->layers[i].input);
    float s;
    NNCW_TRY(nncw_binarize_initial_scale(nncw_tensor_f32(x), nncw_tensor_numel(x), &s));
    if (!(s > 0.0f) || !isfinite(s))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "binarization: conv '%s': the largest inputs of the first batch are "
                         "%g; an activation scale must be positive (binarize convs after a ReLU)",
                         b->layers[i].name, (double)s);
    nncw_tensor_f32(nncw_graph_get_value_tensor(b->g, b->layers[i].scale))[0] = logf(s);
    return NNCW_OK;
}

/* after a node ran: the binarizers reading its output get their scale before they run; one
 * reading a graph input is set when it has run itself */
static enum nncw_status observe_scales(void *user, struct nncw_exec *ex, int node_index)
{
    struct scale_pass *p = user;
    struct binarization *b = p->b;
    const struct nncw_node *n = nncw_graph_get_node(b->g, node_index);
    for (int i = 0; i < b->n; i++) {
        struct bin_layer *l = &b->layers[i];
        bool mine = node_index == l->act_node && !nncw_graph_get_producer(b->g, l->input);
        for (int o = 0; o < nncw_node_count_outputs(n) && !mine; o++)
            mine = nncw_node_get_output(n, o) == l->input;
        if (mine) {
            NNCW_TRY(init_layer_scale(b, i, ex));
            p->done++;
        }
    }
    return NNCW_OK;
}

static enum nncw_status init_scales(struct binarization *b,
                                    const struct nncw_compression_init *init)
{
    const struct nncw_staged_params *p = &b->bc->params;
    int batch = init->batch_size > 0 ? init->batch_size : 64;
    NNCW_TRY(
        set_enabled(b, true, p->weights_quant_start_epoch <= p->activations_quant_start_epoch));
    struct scale_pass pass = {b, 0};
    struct nncw_exec_options eo = {.training = false};
    enum nncw_status s = nncw_forward_samples(b->g, init->data, batch, batch, init->seed, &eo, NULL,
                                              observe_scales, &pass);
    if (s == NNCW_OK)
        b->scales_initialized = true;
    return s;
}

/* ---- the builder ---- */

enum nncw_status nncw_binarization_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                         int entry, const struct nncw_compression_init *init,
                                         const struct nncw_compression_edits *edits,
                                         struct nncw_compression_algo *out, int64_t *bn_samples)
{
    (void)edits;
    struct nncw_binarization_config *bc;
    NNCW_TRY(nncw_binarization_config_parse(cfg, entry, &bc));
    struct binarization *b = nncw_calloc(1, sizeof *b);
    if (!b) {
        nncw_binarization_config_free(bc);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "binarization: out of memory");
    }
    b->g = g;
    b->bc = bc;
    b->epoch = -1;
    const struct nncw_staged_params *p = &bc->params;
    b->lr_wd = (struct nncw_staged_schedule){
        .lr_poly_drop_start_epoch = p->lr_poly_drop_start_epoch,
        .lr_poly_drop_duration_epochs = p->lr_poly_drop_duration_epochs,
        .disable_wd_start_epoch = p->disable_wd_start_epoch,
        .base_lr = p->base_lr,
        .base_wd = p->base_wd};
    enum nncw_status s = nncw_scope_check_list(g, bc->source, &bc->ignored);
    if (s == NNCW_OK)
        s = nncw_scope_check_list(g, bc->source, &bc->target);
    if (s == NNCW_OK)
        s = collect(b);
    for (int i = 0; i < b->n && s == NNCW_OK; i++)
        s = insert_layer(b, &b->layers[i]);
    if (s == NNCW_OK && init->data && b->n > 0)
        s = init_scales(b, init);
    if (s == NNCW_OK)
        s = follow_epoch(b, -1);
    if (s != NNCW_OK) {
        binarization_free(b);
        return s;
    }
    *bn_samples = init->data ? bc->num_bn_adaptation_samples : 0;
    *out = (struct nncw_compression_algo){.name = "binarization",
                                          .self = b,
                                          .epoch_step = binarization_epoch_step,
                                          .lr_scale = binarization_lr_scale,
                                          .lr_wd_override =
                                              bc->has_params ? binarization_lr_wd_override : NULL,
                                          .stage = binarization_stage,
                                          .statistics = binarization_statistics,
                                                                            .get_state = binarization_get_state,
                                          .set_state = binarization_set_state,
                                          .free = binarization_free};
    return NNCW_OK;
}
