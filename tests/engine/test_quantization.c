/* The quantization algorithm end to end: config -> setup -> inserted quantizers -> range
 * initialisation -> scheduler, statistics, training hooks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnn_fixture.h"
#include "compression/compression.h"
#include "compression/quantization/qconfig.h"
#include "config/config.h"
#include "core/alloc.h"
#include "data/data.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "ops/fake_quantize.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

static struct nncw_config *config(const char *compression)
{
    return nncwt_cnn_config("\"target_device\": \"CPU\", ", compression);
}

static struct nncw_compression *compress(struct nncw_graph *g, const char *compression,
                                         const struct nncw_dataset *ds)
{
    struct nncw_config *cfg = config(compression);
    struct nncw_compression_init init = {.data = ds, .batch_size = 32, .seed = 1};
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, &init, &c), NNCW_OK);
    nncw_config_free(cfg);
    return c;
}

static const char *const default_q =
    "{\"algorithm\": \"quantization\", \"initializer\": "
    "{\"range\": {\"num_init_samples\": 64}, "
    "\"batchnorm_adaptation\": {\"num_bn_adaptation_samples\": 0}}}";

static struct nncw_node *node(struct nncw_graph *g, const char *name)
{
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, name, &n), NNCW_OK);
    return n;
}

/* logits of the first `batch` samples */
static void logits(struct nncw_graph *g, const struct nncw_dataset *ds, int batch,
                   struct nncw_tensor *out)
{
    struct nncw_exec_options eo = {.batch = batch};
    struct nncw_exec *ex;
    nncwt_assert_status(nncw_exec_new(g, &eo, &ex), NNCW_OK);
    struct nncw_tensor *x = nncw_exec_get_input(ex, 0);
    memcpy(x->data, nncw_dataset_get_images(ds), nncw_tensor_nbytes(x));
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    const struct nncw_tensor *y = nncw_exec_get_output(ex, 0);
    nncwt_assert_status(nncw_tensor_init(out, NNCW_DTYPE_F32, y->ndim, y->shape), NNCW_OK);
    nncwt_assert_status(nncw_tensor_copy(out, y), NNCW_OK);
    nncw_exec_free(ex);
}

START_TEST(test_cnn_gets_nncf_placement_and_initialised_ranges)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(96);
    struct nncw_tensor before, after;
    logits(g, ds, 16, &before);
    int nodes = nncw_graph_count_nodes(g);
    struct nncw_compression *c = compress(g, default_q, ds);
    /* 4 weight quantizers (conv1, conv2, fc1, fc2) and 4 activation quantizers: the input,
     * after the fused conv+relu groups (seen through max-pool), and after fc1+relu3 */
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes + 8);
    ck_assert_int_eq(nncw_node_get_op(node(g, "CNN/conv1|WEIGHT")), NNCW_OP_QUANTIZE_SYMMETRIC);
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/conv1|WEIGHT"), "axis", -1), 0);
    /* CPU: 8-bit weights train on the 7-bit grid (the overflow fix) */
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/conv1|WEIGHT"), "level_low", 0), -64);
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/conv1|WEIGHT"), "half_range", 0), 1);
    /* the synthetic images have negative values: a signed input quantizer; ReLU outputs are
     * unsigned */
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "input|OUTPUT"), "level_low", 0), -128);
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/relu1|OUTPUT"), "level_low", -1), 0);
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/relu1|OUTPUT"), "level_high", 0), 255);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    /* 8-bit quantization moves the logits by little */
    logits(g, ds, 16, &after);
    const float *a = nncw_tensor_f32(&before), *b = nncw_tensor_f32(&after);
    double span = 0, worst = 0;
    for (int64_t i = 0; i < nncw_tensor_numel(&before); i++) {
        span = fmax(span, fabs(a[i]));
        worst = fmax(worst, fabs(a[i] - b[i]));
    }
    ck_assert_msg(worst < 0.05 * span, "quantized logits differ by %g (max |logit| %g)", worst,
                  span);
    ck_assert_msg(worst > 0, "the quantizers changed nothing");
    char *text;
    nncwt_assert_status(nncw_compression_statistics(c, &text), NNCW_OK);
    ck_assert_ptr_nonnull(
        strstr(text, "| Symmetric WQs / All placed WQs      | 100.00 % (4 / 4) |"));
    ck_assert_ptr_nonnull(
        strstr(text, "| Unsigned AQs / All placed AQs       | 75.00 % (3 / 4)  |"));
    ck_assert_ptr_nonnull(strstr(text, "| 8            |"));
    nncw_free(text);
    nncw_compression_free(c);
    nncw_tensor_fini(&before);
    nncw_tensor_fini(&after);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_placement_only_keeps_default_parameters)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config("{\"algorithm\": \"quantization\"}");
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    struct nncw_node *q = node(g, "CNN/fc1|WEIGHT");
    const struct nncw_tensor *scale = nncw_graph_get_value_tensor(g, nncw_node_get_input(q, 1));
    ck_assert_int_eq(scale->shape[0], 128);
    ck_assert_float_eq(nncw_tensor_f32(scale)[0], 1.0f);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_asymmetric_activations_get_input_low_and_range)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(64);
    struct nncw_compression *c =
        compress(g,
                 "{\"algorithm\": \"quantization\", \"activations\": {\"mode\": \"asymmetric\"}, "
                 "\"initializer\": {\"range\": {\"num_init_samples\": 32, \"type\": \"min_max\"}}}",
                 ds);
    struct nncw_node *q = node(g, "CNN/relu1|OUTPUT");
    ck_assert_int_eq(nncw_node_get_op(q), NNCW_OP_QUANTIZE_ASYMMETRIC);
    ck_assert_int_eq(nncw_node_count_inputs(q), 3);
    /* ReLU outputs start at 0: input_low 0 (zero is a level) */
    float low = nncw_tensor_f32(nncw_graph_get_value_tensor(g, nncw_node_get_input(q, 1)))[0];
    float range = nncw_tensor_f32(nncw_graph_get_value_tensor(g, nncw_node_get_input(q, 2)))[0];
    ck_assert_float_eq_tol(low, 0.0f, 1e-6f);
    ck_assert(range > 0.1f);
    nncw_compression_free(c);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_staged_scheduler_switches_quantizers_on_by_epoch)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = compress(
        g,
        "{\"algorithm\": \"quantization\", \"params\": {\"activations_quant_start_epoch\": 1, "
        "\"weights_quant_start_epoch\": 2}}",
        NULL);
    nncwt_assert_status(nncw_compression_epoch_step(c, 0), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_UNCOMPRESSED);
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/relu1|OUTPUT"), "enabled", 1), 0);
    nncwt_assert_status(nncw_compression_epoch_step(c, 1), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_PARTIALLY_COMPRESSED);
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/relu1|OUTPUT"), "enabled", 0), 1);
    ck_assert_int_eq(nncw_node_get_attr_int(node(g, "CNN/conv1|WEIGHT"), "enabled", 1), 0);
    nncwt_assert_status(nncw_compression_epoch_step(c, 2), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    ck_assert_str_eq(nncw_compression_stage_name(NNCW_STAGE_FULLY_COMPRESSED), "FULLY_COMPRESSED");
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

static bool record_lr(void *user, const struct nncw_train_event *ev)
{
    float *lr = user; /* the rate of the last step of each epoch */
    if (ev->epoch >= 0 && ev->epoch < 4)
        lr[ev->epoch] = ev->lr;
    return true;
}

START_TEST(test_staged_scheduler_drops_lr_and_disables_weight_decay)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(64);
    struct nncw_compression *c = compress(
        g,
        "{\"algorithm\": \"quantization\", \"initializer\": {\"range\": {\"num_init_samples\": "
        "32}}, \"params\": {\"lr_poly_drop_start_epoch\": 1, \"lr_poly_drop_duration_epochs\": 2, "
        "\"disable_wd_start_epoch\": 2, \"base_lr\": 0.01, \"base_wd\": 0.0001}}",
        ds);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    ck_assert_ptr_nonnull(h.lr_wd_override);
    /* NNCF's staged worker: base_lr/base_wd replace the run's, then
     * lr = base_lr * ((start + duration - e) / duration)^2.1 on [start, start + duration) */
    const struct {
        double epoch;
        float lr, wd;
    } want[] = {{0.0, 0.01f, 1e-4f},
                {0.99, 0.01f, 1e-4f},
                {1.0, 0.01f, 1e-4f},
                {1.5, 0.01f * powf(0.75f, 2.1f), 1e-4f},
                {2.0, 0.01f * powf(0.5f, 2.1f), 0.0f},
                {2.75, 0.01f * powf(0.125f, 2.1f), 0.0f},
                {3.0, 0.0f, 0.0f},
                {7.0, 0.0f, 0.0f}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        float lr = 0.5f, wd = 0.5f; /* what the run alone would use */
        nncwt_assert_status(h.lr_wd_override(h.user, want[i].epoch, &lr, &wd), NNCW_OK);
        ck_assert_float_eq_tol(lr, want[i].lr, 1e-9f);
        ck_assert_float_eq_tol(wd, want[i].wd, 1e-12f);
    }
    /* and the trainer applies it before every step: 2 steps per epoch, the last step of epoch
     * e runs at fractional epoch e + 0.5 */
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = 3;
    o.batch_size = 32;
    o.optim.lr = 0.5f;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, ds, NULL, &o, &t), NNCW_OK);
    nncwt_assert_status(nncw_trainer_set_hooks(t, &h), NNCW_OK);
    float lr[4] = {-1, -1, -1, -1};
    nncw_trainer_set_callback(t, record_lr, lr);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    ck_assert_float_eq_tol(lr[0], 0.01f, 1e-9f);
    ck_assert_float_eq_tol(lr[1], 0.01f * powf(0.75f, 2.1f), 1e-9f);
    ck_assert_float_eq_tol(lr[2], 0.01f * powf(0.25f, 2.1f), 1e-9f);
    nncw_trainer_free(t);
    nncw_compression_free(c);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_staged_scheduler_is_on_when_params_is_present)
{
    struct nncw_graph *g = nncwt_cnn();
    /* an empty params object switches the staged scheduler on (activations and weights from
     * epoch 1, NNCF's defaults) */
    struct nncw_compression *c =
        compress(g, "{\"algorithm\": \"quantization\", \"params\": {}}", NULL);
    nncwt_assert_status(nncw_compression_epoch_step(c, 0), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_UNCOMPRESSED);
    nncwt_assert_status(nncw_compression_epoch_step(c, 1), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_qat_trains_quantizer_scales_with_the_lr_multiplier)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(128);
    struct nncw_compression *c =
        compress(g,
                 "{\"algorithm\": \"quantization\", \"compression_lr_multiplier\": 10, "
                 "\"initializer\": {\"range\": {\"num_init_samples\": 32}}}",
                 ds);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    int scale = nncw_node_get_input(node(g, "CNN/fc1|WEIGHT"), 1);
    int weight = nncw_node_get_input(node(g, "CNN/fc1|WEIGHT"), 0);
    ck_assert_float_eq(h.param_lr_scale(h.user, scale), 10.0f);
    ck_assert_float_eq(h.param_lr_scale(h.user, weight), 1.0f);
    const struct nncw_tensor *st = nncw_graph_get_value_tensor(g, scale);
    struct nncw_tensor s0;
    nncwt_assert_status(nncw_tensor_init(&s0, NNCW_DTYPE_F32, st->ndim, st->shape), NNCW_OK);
    nncwt_assert_status(nncw_tensor_copy(&s0, st), NNCW_OK);
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = 1;
    o.batch_size = 32;
    o.max_steps_per_epoch = 3;
    o.optim.lr = 0.01f;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, ds, ds, &o, &t), NNCW_OK);
    nncwt_assert_status(nncw_trainer_set_hooks(t, &h), NNCW_OK);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    struct nncw_train_event last;
    nncw_trainer_get_last_epoch(t, &last);
    ck_assert(isfinite(last.train_loss));
    int moved = 0; /* rows of dead units keep their scale; the others train */
    for (int64_t i = 0; i < nncw_tensor_numel(st); i++)
        moved += nncw_tensor_f32(st)[i] != nncw_tensor_f32(&s0)[i];
    ck_assert_int_gt(moved, 0);
    nncw_tensor_fini(&s0);
    nncw_trainer_free(t);
    nncw_compression_free(c);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_bad_configs_leave_the_graph_alone)
{
    struct nncw_graph *g = nncwt_cnn();
    int nodes = nncw_graph_count_nodes(g), params = nncw_graph_count_params(g);
    struct nncw_compression *c = NULL;
    struct nncw_config *cfg = config("{\"algorithm\": \"quantization\", \"activations\": "
                                     "{\"bits\": \"8\"}}");
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "compression.activations.bits"));
    nncw_config_free(cfg);
    cfg = config("{\"algorithm\": \"quantization\", \"ignored_scopes\": [\"CNN/conv9\"]}");
    ck_assert_int_ne(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "CNN/conv9"));
    nncw_config_free(cfg);
    cfg = config("[{\"algorithm\": \"quantization\"}, {\"algorithm\": \"movement_sparsity\"}]");
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "compression[1].algorithm"));
    nncw_config_free(cfg);
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    ck_assert_int_eq(nncw_graph_count_params(g), params);
    ck_assert_ptr_null(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_graph_clone_is_deep)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_graph *h;
    nncwt_assert_status(nncw_graph_clone(g, &h), NNCW_OK);
    ck_assert_int_eq(nncw_graph_count_nodes(h), nncw_graph_count_nodes(g));
    ck_assert_int_eq(nncw_graph_count_values(h), nncw_graph_count_values(g));
    int w = nncw_graph_get_param(g, 0);
    nncw_tensor_f32(nncw_graph_get_value_tensor(g, w))[0] = 42.0f;
    ck_assert_float_ne(nncw_tensor_f32(nncw_graph_get_value_tensor(h, w))[0], 42.0f);
    struct nncw_dataset *ds = nncwt_cnn_data(8);
    struct nncw_tensor a, b;
    nncw_tensor_f32(nncw_graph_get_value_tensor(g, w))[0] =
        nncw_tensor_f32(nncw_graph_get_value_tensor(h, w))[0];
    logits(g, ds, 8, &a);
    logits(h, ds, 8, &b);
    nncwt_assert_tensor_near(&a, &b, 0, 0);
    nncw_graph_free(g); /* the clone outlives its source */
    nncw_tensor_fini(&b);
    logits(h, ds, 8, &b);
    nncwt_assert_tensor_near(&a, &b, 0, 0);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_dataset_free(ds);
    nncw_graph_free(h);
}
END_TEST

static int quantizer_index(struct nncw_compression *c, const char *id)
{
    for (int i = 0; i < nncw_compression_count_quantizers(c); i++) {
        struct nncw_quantizer_info qi;
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &qi), NNCW_OK);
        if (!strcmp(qi.id, id))
            return i;
    }
    return -1;
}

START_TEST(test_interactive_edits_rebuild_or_change_nothing)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(64);
    struct nncw_config *cfg = config(default_q);
    struct nncw_compression_init init = {.data = ds, .batch_size = 32, .seed = 1};
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, &init, &c), NNCW_OK);
    ck_assert_int_eq(nncw_compression_count_quantizers(c), 8);
    int nodes = nncw_graph_count_nodes(g);
    struct nncw_quantizer_info qi;
    nncwt_assert_status(
        nncw_compression_get_quantizer(c, quantizer_index(c, "CNN/conv2|WEIGHT"), &qi), NNCW_OK);
    ck_assert(qi.is_weight && qi.per_channel && qi.is_signed && qi.half_range);
    ck_assert_int_eq(qi.bits, 8);
    ck_assert_int_eq(qi.channels, 64);
    ck_assert(qi.low < 0 && qi.high > 0);
    /* the CPU config has no 4-bit weights: refused, nothing changes */
    struct nncw_quantizer_change four = {.bits = 4, .mode = -1, .per_channel = -1};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "CNN/conv2|WEIGHT", &four),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "it allows: 8-bit"));
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    nncwt_assert_status(nncw_compression_set_quantizers(c, "CNN/conv9|WEIGHT", &four),
                        NNCW_ERR_NOT_FOUND);
    /* per-tensor weights and an asymmetric activation are allowed */
    struct nncw_quantizer_change pt = {.bits = 0, .mode = -1, .per_channel = 0};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "{re}.*\\|WEIGHT", &pt), NNCW_OK);
    struct nncw_quantizer_change asym = {
        .bits = 0, .mode = NNCW_QMODE_ASYMMETRIC, .per_channel = -1};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "CNN/relu1|OUTPUT", &asym), NNCW_OK);
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    nncwt_assert_status(
        nncw_compression_get_quantizer(c, quantizer_index(c, "CNN/conv2|WEIGHT"), &qi), NNCW_OK);
    ck_assert(!qi.per_channel);
    ck_assert_int_eq(qi.channels, 1);
    ck_assert_int_eq(nncw_node_get_op(node(g, "CNN/relu1|OUTPUT")), NNCW_OP_QUANTIZE_ASYMMETRIC);
    ck_assert_int_eq(nncw_node_get_op(node(g, "CNN/relu2|OUTPUT")), NNCW_OP_QUANTIZE_SYMMETRIC);
    /* ignoring fc2 takes its weight quantizer away, and its input's (it has no other reader);
     * a scope that matches nothing is refused */
    nncwt_assert_status(nncw_compression_ignore_scope(c, 0, "CNN/fc2", true), NNCW_OK);
    ck_assert_int_eq(nncw_compression_count_quantizers(c), 6);
    ck_assert_int_eq(quantizer_index(c, "CNN/fc2|WEIGHT"), -1);
    ck_assert_int_eq(quantizer_index(c, "CNN/relu3|OUTPUT"), -1);
    ck_assert_int_ne(nncw_compression_ignore_scope(c, 0, "CNN/nothing", true), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "CNN/nothing"));
    ck_assert_int_eq(cfg->compression[0].n_ignored, 1);
    nncwt_assert_status(nncw_compression_ignore_scope(c, 0, "CNN/fc2", false), NNCW_OK);
    ck_assert_int_eq(nncw_compression_count_quantizers(c), 8);
    /* the edits survive the scope changes */
    ck_assert_int_eq(nncw_node_get_op(node(g, "CNN/relu1|OUTPUT")), NNCW_OP_QUANTIZE_ASYMMETRIC);
    /* ignoring the scope of an edited quantizer works; the edit applies again when it returns */
    struct nncw_quantizer_change pc = {.bits = 0, .mode = -1, .per_channel = 1};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "CNN/fc1|WEIGHT", &pc), NNCW_OK);
    nncwt_assert_status(nncw_compression_ignore_scope(c, 0, "{re}CNN/fc", true), NNCW_OK);
    ck_assert_int_eq(quantizer_index(c, "CNN/fc1|WEIGHT"), -1);
    nncwt_assert_status(nncw_compression_set_quantizers(c, "CNN/fc1|WEIGHT", &pc),
                        NNCW_ERR_NOT_FOUND);
    nncwt_assert_status(nncw_compression_ignore_scope(c, 0, "{re}CNN/fc", false), NNCW_OK);
    nncwt_assert_status(
        nncw_compression_get_quantizer(c, quantizer_index(c, "CNN/fc1|WEIGHT"), &qi), NNCW_OK);
    ck_assert(qi.per_channel);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

static Suite *quantization_suite(void)
{
    Suite *s = suite_create("quantization");
    TCase *tc = tcase_create("algorithm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cnn_gets_nncf_placement_and_initialised_ranges);
    tcase_add_test(tc, test_placement_only_keeps_default_parameters);
    tcase_add_test(tc, test_asymmetric_activations_get_input_low_and_range);
    tcase_add_test(tc, test_staged_scheduler_switches_quantizers_on_by_epoch);
    tcase_add_test(tc, test_staged_scheduler_drops_lr_and_disables_weight_decay);
    tcase_add_test(tc, test_staged_scheduler_is_on_when_params_is_present);
    tcase_add_test(tc, test_qat_trains_quantizer_scales_with_the_lr_multiplier);
    tcase_add_test(tc, test_bad_configs_leave_the_graph_alone);
    tcase_add_test(tc, test_graph_clone_is_deep);
    tcase_add_test(tc, test_interactive_edits_rebuild_or_change_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(quantization_suite());
}
