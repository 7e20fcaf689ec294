/* The sparsity algorithms end to end: the config sections, the masks magnitude sparsity
 * computes (against a sort of all importances), the scheduler driving them, RB's loss and its
 * gradients, const sparsity, statistics, the order with quantization, and training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_fixture.h"
#include "compression/compression.h"
#include "compression/sparsity/sparsity_config.h"
#include "config/config.h"
#include "core/alloc.h"
#include "data/data.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

static struct nncw_config *config(const char *compression)
{
    return nncwt_cnn_config("\"target_device\": \"CPU\", ", compression);
}

static struct nncw_compression *compress(struct nncw_graph *g, const char *compression)
{
    struct nncw_config *cfg = config(compression);
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    nncw_config_free(cfg);
    return c;
}

/* the status of building compression on g, which must be left as it was on failure */
static enum nncw_status try_compress(const char *compression)
{
    struct nncw_graph *g = nncwt_cnn();
    int nodes = nncw_graph_count_nodes(g), params = nncw_graph_count_params(g);
    struct nncw_config *cfg = config(compression);
    struct nncw_compression *c = NULL;
    enum nncw_status s = nncw_compression_create(g, cfg, NULL, &c);
    if (s != NNCW_OK) {
        ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
        ck_assert_int_eq(nncw_graph_count_params(g), params);
    }
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
    return s;
}

static void expect_error(const char *compression, enum nncw_status code, const char *text)
{
    nncwt_assert_status(try_compress(compression), code);
    ck_assert_msg(strstr(nncw_last_error(), text), "'%s' not in: %s", text, nncw_last_error());
}

static struct nncw_node *node(struct nncw_graph *g, const char *name)
{
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, name, &n), NNCW_OK);
    return n;
}

static int param(struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (!strcmp(nncw_graph_get_value_name(g, id), name))
            return id;
    }
    ck_abort_msg("no parameter %s", name);
    return -1;
}

static const float *values(struct nncw_graph *g, const char *name)
{
    return nncw_tensor_f32(nncw_graph_get_value_tensor(g, param(g, name)));
}

static int64_t numel(struct nncw_graph *g, const char *name)
{
    return nncw_tensor_numel(nncw_graph_get_value_tensor(g, param(g, name)));
}

static const char *const layers[] = {"CNN/conv1", "CNN/conv2", "CNN/fc1", "CNN/fc2"};
static const char *const weights[] = {"conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"};

static const float *mask(struct nncw_graph *g, int layer)
{
    char name[128];
    snprintf(name, sizeof name, "%s/weight_mask._binary_mask", layers[layer]);
    return values(g, name);
}

static double mask_level(struct nncw_graph *g, int layer)
{
    const float *m = mask(g, layer);
    int64_t n = numel(g, weights[layer]), zeros = 0;
    for (int64_t k = 0; k < n; k++)
        zeros += m[k] == 0.0f;
    return (double)zeros / (double)n;
}

/* the share of zeros in the masks of the four layers together */
static double pooled_level(struct nncw_graph *g)
{
    double zeros = 0, n = 0;
    for (int l = 0; l < 4; l++) {
        zeros += mask_level(g, l) * (double)numel(g, weights[l]);
        n += (double)numel(g, weights[l]);
    }
    return zeros / n;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* the threshold NNCF picks: sort every importance, take index floor((N - 1) level) */
static float sorted_threshold(float *imp, int64_t n, double level)
{
    qsort(imp, (size_t)n, sizeof *imp, cmp_float);
    return imp[(int64_t)((double)(n - 1) * level)];
}

static void importances(struct nncw_graph *g, int layer, bool normed, float *out)
{
    const float *w = values(g, weights[layer]);
    int64_t n = numel(g, weights[layer]);
    double sq = 0;
    for (int64_t k = 0; k < n; k++)
        sq += (double)w[k] * w[k];
    for (int64_t k = 0; k < n; k++)
        out[k] = normed ? fabsf(w[k]) / (float)sqrt(sq) : fabsf(w[k]);
}

/* ---- config ---- */

START_TEST(test_config_defaults_and_values)
{
    struct nncw_config *cfg = config(
        "[{\"algorithm\": \"magnitude_sparsity\"}, {\"algorithm\": \"rb_sparsity\", "
        "\"sparsity_init\": 0.1, \"compression_lr_multiplier\": 5, \"params\": {\"schedule\": "
        "\"multistep\", \"multistep_steps\": [7, 3], \"multistep_sparsity_levels\": [0.2, 0.4, "
        "0.6], \"sparsity_level_setting_mode\": \"local\", \"sparsity_freeze_epoch\": 9}}, "
        "{\"algorithm\": \"const_sparsity\", \"ignored_scopes\": [\"CNN/fc2\"]}]");
    struct nncw_sparsity_config *m, *r, *k;
    nncwt_assert_status(nncw_sparsity_config_parse(cfg, 0, &m), NNCW_OK);
    ck_assert_int_eq(m->algo, NNCW_SPARSITY_MAGNITUDE);
    ck_assert_int_eq(m->schedule.type, NNCW_SCHEDULE_POLYNOMIAL);
    ck_assert_float_eq(m->schedule.init, 0.0f);
    ck_assert_float_eq(m->schedule.target, 0.5f);
    ck_assert_int_eq(m->schedule.target_epoch, 90);
    ck_assert_int_eq(m->schedule.freeze_epoch, 100);
    ck_assert_int_eq(m->importance, NNCW_IMPORTANCE_NORMED_ABS);
    ck_assert_int_eq(m->num_bn_adaptation_samples, 2000);
    ck_assert(!m->local);
    nncwt_assert_status(nncw_sparsity_config_parse(cfg, 1, &r), NNCW_OK);
    ck_assert_int_eq(r->schedule.type, NNCW_SCHEDULE_MULTISTEP);
    ck_assert_float_eq_tol(r->schedule.init, 0.1f, 1e-7);
    ck_assert_int_eq(r->schedule.n_steps, 2);
    ck_assert_int_eq(r->schedule.steps[0], 3); /* sorted, as NNCF does */
    ck_assert_int_eq(r->schedule.steps[1], 7);
    ck_assert_float_eq_tol(r->schedule.target, 0.6f, 1e-7); /* the last level */
    ck_assert_float_eq(r->compression_lr_multiplier, 5.0f);
    ck_assert(r->local);
    ck_assert_int_eq(r->schedule.freeze_epoch, 9);
    nncwt_assert_status(nncw_sparsity_config_parse(cfg, 2, &k), NNCW_OK);
    ck_assert_int_eq(k->algo, NNCW_SPARSITY_CONST);
    ck_assert_int_eq(k->ignored.n, 1);
    ck_assert_str_eq(k->ignored.path, "compression[2].ignored_scopes");
    nncw_sparsity_config_free(m);
    nncw_sparsity_config_free(r);
    nncw_sparsity_config_free(k);
    nncw_config_free(cfg);
    /* RB's default schedule is exponential */
    cfg = config("{\"algorithm\": \"rb_sparsity\"}");
    nncwt_assert_status(nncw_sparsity_config_parse(cfg, 0, &r), NNCW_OK);
    ck_assert_int_eq(r->schedule.type, NNCW_SCHEDULE_EXPONENTIAL);
    nncw_sparsity_config_free(r);
    nncwt_assert_status(nncw_sparsity_config_parse(cfg, 1, &r), NNCW_ERR_INVALID_ARG);
    nncw_config_free(cfg);
    cfg = config("{\"algorithm\": \"quantization\"}");
    nncwt_assert_status(nncw_sparsity_config_parse(cfg, 0, &r), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "not a sparsity algorithm"));
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_config_errors_name_the_json_path)
{
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"sparsity_targt\": 0.3}}",
                 NNCW_ERR_PARSE,
                 "compression.params.sparsity_targt: unknown key (did you mean "
                 "'sparsity_target'?)");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"sparsity_target\": "
                 "\"0.5\"}}",
                 NNCW_ERR_PARSE, "compression.params.sparsity_target: expected a number");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 1}", NNCW_ERR_PARSE,
                 "compression.sparsity_init: expected a number in [0, 0.999999], got 1");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"schedule\": \"cosine\"}}",
                 NNCW_ERR_PARSE, "compression.params.schedule: expected \"polynomial\"");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"schedule\": "
                 "\"adaptive\"}}",
                 NNCW_ERR_PARSE, "\"adaptive\" follows the sparsity the RB loss reaches");
    expect_error("{\"algorithm\": \"rb_sparsity\", \"params\": {\"weight_importance\": \"abs\"}}",
                 NNCW_ERR_PARSE, "compression.params.weight_importance: unknown key");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"compression_lr_multiplier\": 2}",
                 NNCW_ERR_PARSE, "compression.compression_lr_multiplier: unknown key");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"multistep_steps\": [1, "
                 "2]}}",
                 NNCW_ERR_PARSE,
                 "compression.params.multistep_sparsity_levels: 2 levels for 2 multistep_steps");
    expect_error("{\"algorithm\": \"rb_sparsity\", \"params\": {\"multistep_steps\": [1, -2]}}",
                 NNCW_ERR_PARSE, "compression.params.multistep_steps[1]: expected an integer");
    expect_error("{\"algorithm\": \"rb_sparsity\", \"params\": {\"patience\": 0}}", NNCW_ERR_PARSE,
                 "compression.params.patience");
    expect_error("{\"algorithm\": \"rb_sparsity\", \"params\": {\"concave\": 1}}", NNCW_ERR_PARSE,
                 "compression.params.concave: expected true or false, got 1");
    expect_error("{\"algorithm\": \"rb_sparsity\", \"params\": {\"sparsity_level_setting_mode\": "
                 "\"per_layer\"}}",
                 NNCW_ERR_PARSE, "compression.params.sparsity_level_setting_mode");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"initializer\": {\"batchnorm_"
                 "adaptation\": {\"num_bn_adaptation_samples\": -1}}}",
                 NNCW_ERR_PARSE,
                 "compression.initializer.batchnorm_adaptation.num_bn_adaptation_samples");
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"initializer\": {\"range\": {}}}",
                 NNCW_ERR_PARSE, "compression.initializer.range: unknown key");
    expect_error("{\"algorithm\": \"const_sparsity\", \"params\": {\"sparsity_target\": 0.5}}",
                 NNCW_ERR_PARSE,
                 "compression.params.sparsity_target: unknown key (const_sparsity "
                 "takes no params)");
    expect_error("{\"algorithm\": \"const_sparsity\", \"sparsity_init\": 0.5}", NNCW_ERR_PARSE,
                 "compression.sparsity_init: unknown key");
    /* scopes must select something */
    expect_error("{\"algorithm\": \"magnitude_sparsity\", \"ignored_scopes\": [\"CNN/conv9\"]}",
                 NNCW_ERR_NOT_FOUND, "'CNN/conv9' matches no node");
    /* two sparsity algorithms on one weight */
    expect_error("[{\"algorithm\": \"magnitude_sparsity\"}, {\"algorithm\": \"rb_sparsity\", "
                 "\"target_scopes\": \"CNN/fc1\"}]",
                 NNCW_ERR_INVALID_ARG,
                 "compression[1]: the weight of 'CNN/fc1' has a sparsity mask already");
}
END_TEST

/* ---- magnitude ---- */

START_TEST(test_magnitude_global_threshold_is_nncf_s)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c =
        compress(g, "{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.3}");
    /* a Mul by the mask on every weight */
    for (int l = 0; l < 4; l++) {
        char name[128];
        snprintf(name, sizeof name, "%s/weight_mask", layers[l]);
        struct nncw_node *m = node(g, name);
        ck_assert_int_eq(nncw_node_get_op(m), NNCW_OP_MUL);
        ck_assert_int_eq(nncw_node_get_input(m, 0), param(g, weights[l]));
        ck_assert_int_eq(nncw_node_get_input(node(g, layers[l]), 1), nncw_node_get_output(m, 0));
        ck_assert(!nncw_graph_is_trainable(g, nncw_node_get_input(m, 1)));
    }
    int64_t total = 0;
    for (int l = 0; l < 4; l++)
        total += numel(g, weights[l]);
    float *all = nncw_malloc((size_t)total * sizeof *all);
    int64_t at = 0;
    for (int l = 0; l < 4; l++) {
        importances(g, l, true, all + at);
        at += numel(g, weights[l]);
    }
    float threshold = sorted_threshold(all, total, 0.3f);
    int64_t kept = 0;
    for (int l = 0; l < 4; l++) {
        int64_t n = numel(g, weights[l]);
        importances(g, l, true, all);
        const float *m = mask(g, l);
        for (int64_t k = 0; k < n; k++) {
            ck_assert_float_eq(m[k], all[k] > threshold ? 1.0f : 0.0f);
            kept += m[k] != 0;
        }
    }
    ck_assert_double_eq_tol(1.0 - (double)kept / (double)total, 0.3, 1e-4);
    float level;
    nncwt_assert_status(nncw_compression_get_sparsity_level(c, &level), NNCW_OK);
    ck_assert_float_eq_tol(level, 0.3f, 1e-7);
    nncw_free(all);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_magnitude_local_abs_sets_every_layer)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = compress(
        g, "{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.6, \"params\": "
           "{\"sparsity_level_setting_mode\": \"local\", \"weight_importance\": \"abs\"}}");
    for (int l = 0; l < 4; l++) {
        int64_t n = numel(g, weights[l]);
        float *imp = nncw_malloc((size_t)n * sizeof *imp);
        importances(g, l, false, imp);
        float threshold = sorted_threshold(imp, n, 0.6f);
        importances(g, l, false, imp);
        const float *m = mask(g, l);
        for (int64_t k = 0; k < n; k++)
            ck_assert_float_eq(m[k], imp[k] > threshold ? 1.0f : 0.0f);
        ck_assert_double_eq_tol(mask_level(g, l), 0.6, 1.0 / (double)n + 1e-6);
        nncw_free(imp);
    }
    /* local mode has no scheduler: epochs change nothing, the stage is FULLY */
    nncwt_assert_status(nncw_compression_epoch_step(c, 50), NNCW_OK);
    ck_assert_double_eq_tol(mask_level(g, 3), 0.6, 0.01);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    /* but the level can be set */
    nncwt_assert_status(nncw_compression_set_sparsity_level(c, 0.2f), NNCW_OK);
    ck_assert_double_eq_tol(mask_level(g, 2), 0.2, 0.001);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_magnitude_level_zero_masks_the_smallest_weight)
{
    struct nncw_graph *g = nncwt_cnn();
    /* make one conv2 weight the smallest of all by far */
    float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(g, param(g, "conv2.weight")));
    w[7] = 0.0f;
    struct nncw_compression *c = compress(g, "{\"algorithm\": \"magnitude_sparsity\"}");
    /* NNCF's threshold at level 0 is the smallest importance: exactly that weight goes */
    int64_t zeros = 0;
    for (int l = 0; l < 4; l++)
        zeros += (int64_t)llround(mask_level(g, l) * (double)numel(g, weights[l]));
    ck_assert_int_eq(zeros, 1);
    ck_assert_float_eq(mask(g, 1)[7], 0.0f);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_UNCOMPRESSED);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_magnitude_follows_the_schedule_and_freezes)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = compress(
        g, "{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"sparsity_target\": 0.4, "
           "\"sparsity_target_epoch\": 2, \"power\": 1, \"sparsity_freeze_epoch\": 3}}");
    float level;
    const double want[] = {0.0, 0.2, 0.4, 0.4};
    const enum nncw_compression_stage stage[] = {
        NNCW_STAGE_UNCOMPRESSED, NNCW_STAGE_PARTIALLY_COMPRESSED, NNCW_STAGE_FULLY_COMPRESSED,
        NNCW_STAGE_FULLY_COMPRESSED};
    for (int e = 0; e < 3; e++) {
        nncwt_assert_status(nncw_compression_epoch_step(c, e), NNCW_OK);
        nncwt_assert_status(nncw_compression_get_sparsity_level(c, &level), NNCW_OK);
        ck_assert_float_eq_tol(level, want[e], 1e-6);
        ck_assert_int_eq(nncw_compression_get_stage(c), stage[e]);
        ck_assert_double_eq_tol(pooled_level(g), want[e], 1e-4);
    }
    /* masks follow the weights at each update: zero some big fc1 weights */
    float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(g, param(g, "fc1.weight")));
    int64_t n = numel(g, "fc1.weight");
    int64_t big = -1;
    for (int64_t k = 0; k < n && big < 0; k++)
        if (mask(g, 2)[k] != 0.0f)
            big = k;
    w[big] = 0.0f;
    nncwt_assert_status(nncw_compression_epoch_step(c, 2), NNCW_OK);
    ck_assert_float_eq(mask(g, 2)[big], 0.0f);
    /* epoch 3 freezes: the weights may change, the masks stay */
    nncwt_assert_status(nncw_compression_epoch_step(c, 3), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(c), stage[3]);
    float before = mask(g, 2)[0];
    w[0] = before != 0.0f ? 0.0f : 10.0f;
    nncwt_assert_status(nncw_compression_epoch_step(c, 4), NNCW_OK);
    ck_assert_float_eq(mask(g, 2)[0], before);
    nncwt_assert_status(nncw_compression_set_sparsity_level(c, 0.1f), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "frozen (sparsity_freeze_epoch 3"));
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_magnitude_per_step_updates)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = compress(
        g, "{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"sparsity_target\": 0.5, "
           "\"sparsity_target_epoch\": 1, \"power\": 1, \"update_per_optimizer_step\": true, "
           "\"steps_per_epoch\": 4}}");
    nncwt_assert_status(nncw_compression_epoch_step(c, 0), NNCW_OK);
    for (int k = 1; k <= 3; k++) {
        nncwt_assert_status(nncw_compression_step(c, k), NNCW_OK);
        ck_assert_double_eq_tol(pooled_level(g), 0.5 * k / 4, 1e-4);
    }
    /* 3 steps in an epoch the config says has 4 */
    nncwt_assert_status(nncw_compression_epoch_step(c, 1), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(),
                                 "magnitude_sparsity compression: sparsity schedule: "
                                 "params.steps_per_epoch is 4 but the epoch took 3"));
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_set_level_checks_its_range)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = compress(g, "{\"algorithm\": \"magnitude_sparsity\"}");
    nncwt_assert_status(nncw_compression_set_sparsity_level(c, 1.0f), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "sparsity level 1 is outside [0, 1)"));
    nncwt_assert_status(nncw_compression_set_sparsity_level(c, -0.1f), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_compression_set_rate(c, 0.7f), NNCW_OK);
    float level;
    nncwt_assert_status(nncw_compression_get_sparsity_level(c, &level), NNCW_OK);
    ck_assert_float_eq_tol(level, 0.7f, 1e-7);
    nncw_compression_free(c);
    nncw_graph_free(g);
    /* no sparsity algorithm */
    g = nncwt_cnn();
    c = compress(g, "{\"algorithm\": \"quantization\"}");
    nncwt_assert_status(nncw_compression_get_sparsity_level(c, &level), NNCW_ERR_NOT_FOUND);
    nncwt_assert_status(nncw_compression_set_sparsity_level(c, 0.5f), NNCW_ERR_NOT_FOUND);
    nncwt_assert_status(nncw_compression_get_rate(c, &level), NNCW_ERR_NOT_FOUND);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* ---- statistics and rates ---- */

START_TEST(test_statistics_and_the_model_level)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = compress(
        g, "{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.5, \"ignored_scopes\": "
           "[\"CNN/fc2\"]}");
    /* the whole model: masked weights as masked, biases and fc2 as they are */
    int64_t count = 0, zeros = 0;
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (!nncw_graph_is_trainable(g, id))
            continue;
        const char *name = nncw_graph_get_value_name(g, id);
        const float *v = values(g, name);
        const float *m = NULL;
        for (int l = 0; l < 3; l++)
            if (!strcmp(name, weights[l]))
                m = mask(g, l);
        for (int64_t k = 0; k < numel(g, name); k++)
            zeros += (m ? v[k] * m[k] : v[k]) == 0.0f;
        count += numel(g, name);
    }
    float rate;
    nncwt_assert_status(nncw_compression_get_rate(c, &rate), NNCW_OK);
    ck_assert_float_eq_tol(rate, (double)zeros / (double)count, 1e-6);
    ck_assert(rate > 0.45f && rate < 0.5f);
    char *text;
    nncwt_assert_status(nncw_compression_statistics(c, &text), NNCW_OK);
    const char *want[] = {
        "Statistics of the sparsified model:",
        "| Sparsity level of the whole model",
        "| Sparsity level of all sparsified layers | 0.500",
        "Statistics by sparsified layers:",
        "| Layer's name | Weight's shape | Sparsity level | Weight's percentage |",
        "| CNN/conv1    | [32, 1, 3, 3]  |",
        "| CNN/fc1      | [128, 1600]",
        "Statistics of the magnitude sparsity algorithm:",
        "| A target level of the sparsity for the algorithm for the current "
        "epoch | 0.500 |",
        "| Layer's name | Sparsity threshold |"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(text, want[i]), "'%s' not in:\n%s", want[i], text);
    ck_assert_ptr_null(strstr(text, "CNN/fc2"));
    nncw_free(text);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* ---- with quantization ---- */

START_TEST(test_masks_go_between_weights_and_their_quantizers)
{
    const char *orders[] = {
        "[{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.5}, {\"algorithm\": "
        "\"quantization\"}]",
        "[{\"algorithm\": \"quantization\"}, {\"algorithm\": \"magnitude_sparsity\", "
        "\"sparsity_init\": 0.5}]"};
    for (int o = 0; o < 2; o++) {
        struct nncw_graph *g = nncwt_cnn();
        struct nncw_compression *c = compress(g, orders[o]);
        ck_assert_int_eq(nncw_compression_count_quantizers(c), 8);
        ck_assert_int_eq(nncw_compression_count_algos(c), 2);
        ck_assert_str_eq(nncw_compression_get_algo(c, o)->name, "magnitude_sparsity");
        struct nncw_node *q = node(g, "CNN/conv2|WEIGHT");
        struct nncw_node *m = node(g, "CNN/conv2/weight_mask");
        ck_assert_int_eq(nncw_node_get_input(q, 0), nncw_node_get_output(m, 0));
        ck_assert_int_eq(nncw_node_get_input(m, 0), param(g, "conv2.weight"));
        ck_assert_int_eq(nncw_node_get_input(node(g, "CNN/conv2"), 1), nncw_node_get_output(q, 0));
        char *text;
        nncwt_assert_status(nncw_compression_statistics(c, &text), NNCW_OK);
        ck_assert_ptr_nonnull(strstr(text, "Per-channel WQs"));
        ck_assert_ptr_nonnull(strstr(text, "Sparsity threshold"));
        nncw_free(text);
        /* the quantizer scales are not model parameters */
        float rate;
        nncwt_assert_status(nncw_compression_get_rate(c, &rate), NNCW_OK);
        ck_assert(rate > 0.45f && rate < 0.5f);
        nncw_compression_free(c);
        nncw_graph_free(g);
    }
}
END_TEST

START_TEST(test_ignore_scope_rebuilds_the_masks)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config("{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": "
                                     "0.5}");
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    int nodes = nncw_graph_count_nodes(g);
    nncwt_assert_status(nncw_compression_ignore_scope(c, 0, "CNN/fc1", true), NNCW_OK);
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes - 1);
    ck_assert_int_ne(nncw_graph_find_node(g, "CNN/fc1/weight_mask", &(struct nncw_node *){0}),
                     NNCW_OK);
    ck_assert_int_eq(nncw_node_get_op(node(g, "CNN/conv1/weight_mask")), NNCW_OP_MUL);
    nncwt_assert_status(nncw_compression_ignore_scope(c, 0, "CNN/fc1", false), NNCW_OK);
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

/* ---- RB ---- */

START_TEST(test_rb_loss_and_its_gradient)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c =
        compress(g, "{\"algorithm\": \"rb_sparsity\", \"compression_lr_multiplier\": 3}");
    struct nncw_node *rb = node(g, "CNN/fc1/weight_mask");
    ck_assert_int_eq(nncw_node_get_op(rb), NNCW_OP_RB_SPARSIFY);
    int logits = nncw_node_get_input(rb, 1);
    ck_assert(nncw_graph_is_trainable(g, logits));
    ck_assert_float_eq_tol(nncw_tensor_f32(nncw_graph_get_value_tensor(g, logits))[0], logf(99.0f),
                           1e-5);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    ck_assert_ptr_nonnull(h.loss);
    ck_assert_float_eq(h.param_lr_scale(h.user, logits), 3.0f);
    ck_assert_float_eq(h.param_lr_scale(h.user, param(g, "fc1.weight")), 1.0f);
    nncwt_assert_status(nncw_graph_alloc_grads(g), NNCW_OK);
    nncw_graph_zero_grads(g);
    float loss;
    /* every logit is positive: density 1 = the target at level 0 */
    nncwt_assert_status(h.loss(h.user, &loss), NNCW_OK);
    ck_assert_float_eq(loss, 0.0f);
    /* level 0.5: ((1 - 0.5) / 0.05)^2 and dL/ds = 2 (1 - 0.5) / 0.05^2 / N * sigmoid'(s) */
    nncwt_assert_status(nncw_compression_set_sparsity_level(c, 0.5f), NNCW_OK);
    nncwt_assert_status(h.loss(h.user, &loss), NNCW_OK);
    ck_assert_float_eq_tol(loss, 100.0f, 1e-3);
    int64_t total = 0;
    for (int l = 0; l < 4; l++)
        total += numel(g, weights[l]);
    float *s = nncw_tensor_f32(nncw_graph_get_value_tensor(g, logits));
    float p = 1.0f / (1.0f + expf(-s[5]));
    float want = 2.0f * 0.5f / 0.0025f / (float)total * p * (1.0f - p);
    ck_assert_float_eq_tol(nncw_tensor_f32(nncw_graph_get_value_grad(g, logits))[5], want,
                           want * 1e-4);
    /* half of fc1's logits negative: D counts them out and the statistics see it */
    int64_t n1 = numel(g, "fc1.weight");
    for (int64_t k = 0; k < n1; k += 2)
        s[k] = -1.0f;
    nncwt_assert_status(h.loss(h.user, &loss), NNCW_OK);
    double d = 1.0 - (double)(n1 / 2) / (double)total - 0.5;
    ck_assert_float_eq_tol(loss, d * d / 0.0025, 1e-3);
    ck_assert_float_eq(values(g, "CNN/fc1/weight_mask._binary_mask")[0], 0.0f);
    char *text;
    nncwt_assert_status(nncw_compression_statistics(c, &text), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(text, "Statistics of the RB-sparsity algorithm:"));
    ck_assert_ptr_nonnull(strstr(text, "The probability that one weight will be zeroed"));
    ck_assert_ptr_nonnull(strstr(text, "The sparsity loss"));
    nncw_free(text);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_rb_local_loss_sums_per_layer_distances)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c =
        compress(g, "{\"algorithm\": \"rb_sparsity\", \"sparsity_init\": 0.25, \"params\": "
                    "{\"sparsity_level_setting_mode\": \"local\"}}");
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    float loss;
    /* each of 4 layers is 0.25 off its density 0.75: (4 * 0.25 / 0.05)^2 */
    nncwt_assert_status(h.loss(h.user, &loss), NNCW_OK);
    ck_assert_float_eq_tol(loss, 400.0f, 1e-2);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_rb_freezes_masks_and_loss)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c =
        compress(g, "{\"algorithm\": \"rb_sparsity\", \"params\": {\"sparsity_freeze_epoch\": 1, "
                    "\"sparsity_target_epoch\": 1}}");
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    struct nncw_node *rb = node(g, "CNN/conv1/weight_mask");
    float *s = nncw_tensor_f32(nncw_graph_get_value_tensor(g, nncw_node_get_input(rb, 1)));
    s[3] = -2.0f;
    nncwt_assert_status(nncw_compression_epoch_step(c, 0), NNCW_OK);
    ck_assert_int_eq(nncw_node_get_attr_int(rb, "frozen", 0), 0);
    nncwt_assert_status(nncw_compression_epoch_step(c, 1), NNCW_OK);
    ck_assert_int_eq(nncw_node_get_attr_int(rb, "frozen", 0), 1);
    float level, loss;
    nncwt_assert_status(nncw_compression_get_sparsity_level(c, &level), NNCW_OK);
    ck_assert_float_eq_tol(level, 0.5f, 1e-6);
    nncwt_assert_status(h.loss(h.user, &loss), NNCW_OK);
    ck_assert_float_eq(loss, 0.0f); /* the loss is off */
    const float *m = values(g, "CNN/conv1/weight_mask._binary_mask");
    ck_assert_float_eq(m[3], 0.0f);
    ck_assert_float_eq(m[4], 1.0f);
    /* logits moving after the freeze change nothing */
    s[4] = -5.0f;
    nncwt_assert_status(nncw_compression_epoch_step(c, 2), NNCW_OK);
    ck_assert_float_eq(m[4], 1.0f);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_rb_trains_towards_the_target)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(64);
    struct nncw_compression *c = compress(
        g, "{\"algorithm\": \"rb_sparsity\", \"sparsity_init\": 0.3, \"params\": {\"schedule\": "
           "\"adaptive\"}, \"compression_lr_multiplier\": 50}");
    struct nncw_node *rb = node(g, "CNN/fc1/weight_mask");
    int logits = nncw_node_get_input(rb, 1);
    float before = nncw_tensor_f32(nncw_graph_get_value_tensor(g, logits))[0];
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = 2;
    o.batch_size = 32;
    o.optim.lr = 0.05f;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, ds, NULL, &o, &t), NNCW_OK);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    nncwt_assert_status(nncw_trainer_set_hooks(t, &h), NNCW_OK);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    struct nncw_train_event last;
    nncw_trainer_get_last_epoch(t, &last);
    ck_assert(isfinite(last.train_loss));
    /* the loss pushes every logit down (towards dropping weights) */
    ck_assert_float_lt(nncw_tensor_f32(nncw_graph_get_value_tensor(g, logits))[0], before);
    nncw_trainer_free(t);
    nncw_compression_free(c);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

/* ---- const ---- */

START_TEST(test_const_keeps_the_zeros_of_the_weights)
{
    struct nncw_graph *g = nncwt_cnn();
    float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(g, param(g, "fc2.weight")));
    int64_t n = numel(g, "fc2.weight");
    for (int64_t k = 0; k < n; k += 4)
        w[k] = 0.0f;
    struct nncw_compression *c = compress(g, "{\"algorithm\": \"const_sparsity\"}");
    ck_assert_double_eq_tol(mask_level(g, 3), 0.25, 0.01);
    ck_assert_double_eq_tol(mask_level(g, 0), 0.0, 1e-9);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    nncwt_assert_status(nncw_compression_set_sparsity_level(c, 0.5f), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "const_sparsity keeps the masks"));
    /* the masked weights stay out of the model whatever happens to them */
    for (int64_t k = 0; k < n; k += 4)
        w[k] = 3.0f;
    char *text;
    nncwt_assert_status(nncw_compression_statistics(c, &text), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(text, "| CNN/fc2      | [10, 128]      | 0.250"));
    ck_assert_ptr_null(strstr(text, "magnitude"));
    nncw_free(text);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_training_keeps_masked_weights_out)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(64);
    struct nncw_compression *c =
        compress(g, "{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.5, \"params\": "
                    "{\"schedule\": \"multistep\", \"multistep_steps\": [], "
                    "\"multistep_sparsity_levels\": [0.5]}}");
    const float *w = values(g, "fc1.weight");
    int64_t n = numel(g, "fc1.weight");
    float *w0 = nncw_malloc((size_t)n * sizeof *w0);
    memcpy(w0, w, (size_t)n * sizeof *w0);
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = 1;
    o.batch_size = 32;
    o.optim = nncw_optim_config_sgd(0.05f, 0.0f, 0.0f);
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, ds, ds, &o, &t), NNCW_OK);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    nncwt_assert_status(nncw_trainer_set_hooks(t, &h), NNCW_OK);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    const float *m = mask(g, 2);
    int64_t moved = 0;
    for (int64_t k = 0; k < n; k++) {
        if (m[k] == 0.0f)
            ck_assert_float_eq(w[k], w0[k]); /* no gradient reached it (plain SGD) */
        else
            moved += w[k] != w0[k];
    }
    ck_assert_int_gt(moved, 0);
    float rate;
    nncwt_assert_status(nncw_compression_get_rate(c, &rate), NNCW_OK);
    ck_assert(rate > 0.45f);
    nncw_free(w0);
    nncw_trainer_free(t);
    nncw_compression_free(c);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

/* ---- out of memory ---- */

/* x [-1, 4] -> Gemm(w [3, 4], transB) -> y */
static struct nncw_graph *tiny(void)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, w, y;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 4}, &x),
                        NNCW_OK);
    struct nncw_tensor t;
    nncwt_tensor_rand(&t, 2, (int64_t[]){3, 4}, -1, 1, 5);
    nncwt_assert_status(nncw_graph_add_param(g, "w", &t, true, &w), NNCW_OK);
    nncw_tensor_fini(&t);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_GEMM, "Net/fc", 2, (int[]){x, w}, 1, &y, &n),
                        NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_int(n, "transB", 1), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    return g;
}

START_TEST(test_out_of_memory_fails_cleanly)
{
    const char *entries[] = {
        "{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.5}",
        "{\"algorithm\": \"rb_sparsity\", \"params\": {\"sparsity_level_setting_mode\": "
        "\"local\"}}",
        "[{\"algorithm\": \"const_sparsity\"}, {\"algorithm\": \"knowledge_distillation\", "
        "\"type\": \"mse\"}]"};
    for (size_t e = 0; e < sizeof entries / sizeof entries[0]; e++) {
        struct nncw_config *cfg = config(entries[e]);
        bool built = false;
        for (long n = 1; n < 400 && !built; n++) {
            struct nncw_graph *g = tiny();
            int nodes = nncw_graph_count_nodes(g);
            struct nncw_compression *c = NULL;
            nncw_alloc_fail_after(n);
            enum nncw_status s = nncw_compression_create(g, cfg, NULL, &c);
            nncw_alloc_fail_after(0);
            if (s == NNCW_OK) {
                built = true;
                ck_assert_int_eq(nncw_graph_count_nodes(g), nodes + 1);
                float level;
                nncwt_assert_status(nncw_compression_get_sparsity_level(c, &level), NNCW_OK);
            } else {
                ck_assert_int_eq(s, NNCW_ERR_NOMEM);
                ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
            }
            nncw_compression_free(c);
            nncw_graph_free(g);
        }
        ck_assert(built);
        nncw_config_free(cfg);
    }
}
END_TEST

/* ---- the example configs ---- */

START_TEST(test_example_configs_build_on_the_cnn)
{
    static const char *const files[] = {
        "cnn_fashion_magnitude50.json",  "cnn_fashion_magnitude_schedule.json",
        "cnn_fashion_rb.json",           "cnn_fashion_magnitude_int8.json",
        "cnn_fashion_magnitude_kd.json", "cnn_fashion_const.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/configs/sparsity/%s", NNCW_SOURCE_ROOT, files[i]);
        struct nncw_config *cfg;
        nncwt_assert_status(nncw_config_load(path, &cfg), NNCW_OK);
        ck_assert_msg(cfg->n_warnings == 0, "%s: %s", files[i], cfg->warnings[0]);
        struct nncw_graph *g = nncwt_cnn();
        struct nncw_compression *c;
        nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
        float level;
        nncwt_assert_status(nncw_compression_get_sparsity_level(c, &level), NNCW_OK);
        nncw_compression_free(c);
        nncw_graph_free(g);
        nncw_config_free(cfg);
    }
}
END_TEST

static Suite *sparsity_suite(void)
{
    Suite *s = suite_create("sparsity");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_config_defaults_and_values);
    tcase_add_test(tc, test_config_errors_name_the_json_path);
    suite_add_tcase(s, tc);
    tc = tcase_create("magnitude");
    tcase_add_test(tc, test_magnitude_global_threshold_is_nncf_s);
    tcase_add_test(tc, test_magnitude_local_abs_sets_every_layer);
    tcase_add_test(tc, test_magnitude_level_zero_masks_the_smallest_weight);
    tcase_add_test(tc, test_magnitude_follows_the_schedule_and_freezes);
    tcase_add_test(tc, test_magnitude_per_step_updates);
    tcase_add_test(tc, test_set_level_checks_its_range);
    tcase_add_test(tc, test_statistics_and_the_model_level);
    tcase_add_test(tc, test_masks_go_between_weights_and_their_quantizers);
    tcase_add_test(tc, test_ignore_scope_rebuilds_the_masks);
    suite_add_tcase(s, tc);
    tc = tcase_create("rb");
    tcase_add_test(tc, test_rb_loss_and_its_gradient);
    tcase_add_test(tc, test_rb_local_loss_sums_per_layer_distances);
    tcase_add_test(tc, test_rb_freezes_masks_and_loss);
    tcase_add_test(tc, test_rb_trains_towards_the_target);
    suite_add_tcase(s, tc);
    tc = tcase_create("const_and_training");
    tcase_add_test(tc, test_const_keeps_the_zeros_of_the_weights);
    tcase_add_test(tc, test_training_keeps_masked_weights_out);
    tcase_add_test(tc, test_example_configs_build_on_the_cnn);
    tcase_add_test(tc, test_out_of_memory_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(sparsity_suite());
}
