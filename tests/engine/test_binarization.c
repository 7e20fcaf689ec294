/* The binarization algorithm end to end on the zoo's small CNN: placement (scopes, ops,
 * parameters), the staged scheduler at its boundary epochs, the LR / weight-decay override,
 * activation-scale initialisation, statistics, state, export as 2-level FakeQuantize with
 * re-import computing the same outputs, and bad configs naming their JSON path. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnn_fixture.h"
#include "compression/compression.h"
#include "config/config.h"
#include "core/alloc.h"
#include "data/data.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "onnx/onnx.h"
#include "zoo/zoo.h"

static struct nncw_config *config(const char *entry)
{
    char compression[4096];
    snprintf(compression, sizeof compression, "{\"algorithm\": \"binarization\"%s}", entry);
    return nncwt_cnn_config("", compression);
}

/* binarization of g by entry (extra keys after "algorithm"), with init data when ds != NULL;
 * cfg must outlive the compression */
static struct nncw_compression *compress(struct nncw_graph *g, struct nncw_config *cfg,
                                         const struct nncw_dataset *ds)
{
    struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 2};
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, ds ? &init : NULL, &c), NNCW_OK);
    return c;
}

static struct nncw_node *node(struct nncw_graph *g, const char *name)
{
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, name, &n), NNCW_OK);
    return n;
}

static bool has_node(struct nncw_graph *g, const char *name)
{
    struct nncw_node *n;
    bool found = nncw_graph_find_node(g, name, &n) == NNCW_OK;
    nncw_error_clear();
    return found;
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

static bool enabled(struct nncw_graph *g, const char *name)
{
    return nncw_node_get_attr_int(node(g, name), "enabled", 1) != 0;
}

/* ---- placement ---- */

START_TEST(test_convs_get_weight_and_input_binarizers_outside_ignored_scopes)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config(", \"ignored_scopes\": [\"CNN/conv1\"]");
    struct nncw_compression *c = compress(g, cfg, NULL);
    ck_assert(!has_node(g, "CNN/conv1/binarize_weight"));
    ck_assert(!has_node(g, "CNN/conv1/binarize_input"));
    struct nncw_node *w = node(g, "CNN/conv2/binarize_weight");
    struct nncw_node *a = node(g, "CNN/conv2/binarize_input");
    ck_assert_int_eq(nncw_node_get_op(w), NNCW_OP_XNOR_BINARIZE);
    ck_assert_int_eq(nncw_node_get_op(a), NNCW_OP_ACTIVATION_BINARIZE);
    /* the conv reads both binarizers; the weight binarizer reads the weight */
    struct nncw_node *conv = node(g, "CNN/conv2");
    ck_assert_int_eq(nncw_node_get_input(conv, 1), nncw_node_get_output(w, 0));
    ck_assert_int_eq(nncw_node_get_input(conv, 0), nncw_node_get_output(a, 0));
    ck_assert_int_eq(nncw_node_get_input(w, 0), param(g, "conv2.weight"));
    /* NNCF's initial parameters: log scale 0, threshold logits 0, one per input channel */
    const struct nncw_tensor *t =
        nncw_graph_get_value_tensor(g, param(g, "CNN/conv2/binarize_input.threshold"));
    ck_assert_int_eq(t->ndim, 4);
    ck_assert_int_eq(t->shape[1], 32);
    ck_assert_float_eq(nncw_tensor_f32(t)[0], 0.0f);
    ck_assert_float_eq(nncw_tensor_f32(nncw_graph_get_value_tensor(
                           g, param(g, "CNN/conv2/binarize_input.scale")))[0],
                       0.0f);
    /* the linear layers are not binarized (NNCF: Conv2d only) */
    ck_assert(!has_node(g, "CNN/fc1/binarize_weight"));
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_dorefa_mode_uses_the_dorefa_op)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config(", \"mode\": \"dorefa\"");
    struct nncw_compression *c = compress(g, cfg, NULL);
    ck_assert_int_eq(nncw_node_get_op(node(g, "CNN/conv1/binarize_weight")),
                     NNCW_OP_DOREFA_BINARIZE);
    ck_assert_int_eq(nncw_node_get_op(node(g, "CNN/conv2/binarize_weight")),
                     NNCW_OP_DOREFA_BINARIZE);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

/* ---- scheduler ---- */

START_TEST(test_staged_scheduler_switches_activations_then_weights)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config(", \"params\": {\"activations_quant_start_epoch\": 1, "
                                     "\"weights_quant_start_epoch\": 2}");
    struct nncw_compression *c = compress(g, cfg, NULL);
    const char *a = "CNN/conv2/binarize_input", *w = "CNN/conv2/binarize_weight";
    ck_assert(!enabled(g, a) && !enabled(g, w));
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_UNCOMPRESSED);
    nncwt_assert_status(nncw_compression_epoch_step(c, 0), NNCW_OK);
    ck_assert(!enabled(g, a) && !enabled(g, w));
    nncwt_assert_status(nncw_compression_epoch_step(c, 1), NNCW_OK);
    ck_assert(enabled(g, a) && !enabled(g, w));
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_PARTIALLY_COMPRESSED);
    nncwt_assert_status(nncw_compression_epoch_step(c, 2), NNCW_OK);
    ck_assert(enabled(g, a) && enabled(g, w));
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_start_epoch_zero_binarizes_from_the_start)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config(", \"params\": {\"activations_quant_start_epoch\": 0, "
                                     "\"weights_quant_start_epoch\": 0}");
    struct nncw_compression *c = compress(g, cfg, NULL);
    ck_assert(enabled(g, "CNN/conv1/binarize_input") && enabled(g, "CNN/conv1/binarize_weight"));
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_params_drive_learning_rate_and_weight_decay)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config(", \"params\": {\"lr_poly_drop_start_epoch\": 2, "
                                     "\"lr_poly_drop_duration_epochs\": 2, "
                                     "\"disable_wd_start_epoch\": 1, \"base_lr\": 0.1, "
                                     "\"base_wd\": 0.001}");
    struct nncw_compression *c = compress(g, cfg, NULL);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    ck_assert_ptr_nonnull(h.lr_wd_override);
    float lr = 5, wd = 5;
    nncwt_assert_status(h.lr_wd_override(h.user, 0.5, &lr, &wd), NNCW_OK);
    ck_assert_float_eq_tol(lr, 0.1f, 1e-7);
    ck_assert_float_eq_tol(wd, 0.001f, 1e-9);
    nncwt_assert_status(h.lr_wd_override(h.user, 3.0, &lr, &wd), NNCW_OK);
    ck_assert_float_eq_tol(lr, 0.1 * pow(0.5, 2.1), 1e-6);
    ck_assert_float_eq(wd, 0.0f);
    nncwt_assert_status(h.lr_wd_override(h.user, 4.0, &lr, &wd), NNCW_OK);
    ck_assert_float_eq(lr, 0.0f);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    /* without params the run's own learning rate stands */
    cfg = config("");
    nncw_graph_free(g);
    g = nncwt_cnn();
    c = compress(g, cfg, NULL);
    h = nncw_compression_train_hooks(c);
    ck_assert_ptr_null(h.lr_wd_override);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

/* ---- initialisation, statistics, state ---- */

START_TEST(test_activation_scales_start_from_the_first_batch)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(32);
    struct nncw_config *cfg = config(", \"initializer\": {\"batchnorm_adaptation\": "
                                     "{\"num_bn_adaptation_samples\": 0}}");
    struct nncw_compression *c = compress(g, cfg, ds);
    for (int i = 0; i < 2; i++) {
        char name[96];
        snprintf(name, sizeof name, "CNN/conv%d/binarize_input.scale", i + 1);
        float s = expf(nncw_tensor_f32(nncw_graph_get_value_tensor(g, param(g, name)))[0]);
        ck_assert_msg(s > 0.0f && isfinite(s) && fabsf(s - 1.0f) > 1e-6f, "scale %g", s);
    }
    char *text;
    nncwt_assert_status(nncw_compression_statistics(c, &text), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(text, "Statistics of the binarization algorithm"));
    ck_assert_ptr_nonnull(strstr(text, "CNN/conv2"));
    nncw_free(text);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_state_round_trips_the_scheduler)
{
    struct nncw_graph *g = nncwt_cnn(), *g2 = nncwt_cnn();
    struct nncw_config *cfg = config(", \"params\": {\"weights_quant_start_epoch\": 3}");
    struct nncw_compression *c = compress(g, cfg, NULL), *c2 = compress(g2, cfg, NULL);
    nncwt_assert_status(nncw_compression_epoch_step(c, 2), NNCW_OK);
    const struct nncw_compression_algo *a = nncw_compression_find_algo(c, "binarization");
    const struct nncw_compression_algo *a2 = nncw_compression_find_algo(c2, "binarization");
    char *json;
    nncwt_assert_status(a->get_state(a->self, &json), NNCW_OK);
    nncwt_assert_status(a2->set_state(a2->self, json), NNCW_OK);
    ck_assert(enabled(g2, "CNN/conv2/binarize_input") && !enabled(g2, "CNN/conv2/binarize_weight"));
    char *json2;
    nncwt_assert_status(a2->get_state(a2->self, &json2), NNCW_OK);
    ck_assert_str_eq(json, json2);
    nncw_free(json);
    nncw_free(json2);
    nncwt_assert_status(a2->set_state(a2->self, "{\"epoch\": \"two\"}"), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "epoch"));
    nncw_compression_free(c);
    nncw_compression_free(c2);
    nncw_config_free(cfg);
    nncw_graph_free(g);
    nncw_graph_free(g2);
}
END_TEST

/* ---- export ---- */

static void run_graph(struct nncw_graph *g, const struct nncw_tensor *x, struct nncw_tensor *y)
{
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = x->shape[0]};
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    nncwt_assert_status(nncw_tensor_copy(nncw_exec_get_input(ex, 0), x), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    nncwt_assert_status(nncw_tensor_init_copy(y, nncw_exec_get_output(ex, 0)), NNCW_OK);
    nncw_exec_free(ex);
}

static void check_export(const char *mode)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(32);
    char entry[256];
    snprintf(entry, sizeof entry,
             ", \"mode\": \"%s\", \"ignored_scopes\": [\"CNN/conv1\"], \"initializer\": "
             "{\"batchnorm_adaptation\": {\"num_bn_adaptation_samples\": 0}}",
             mode);
    struct nncw_config *cfg = config(entry);
    struct nncw_compression *c = compress(g, cfg, ds);
    nncwt_assert_status(nncw_compression_epoch_step(c, 1), NNCW_OK); /* both on */
    /* thresholds away from 1/2, so each channel's cut differs */
    float *t = nncw_tensor_f32(
        nncw_graph_get_value_tensor(g, param(g, "CNN/conv2/binarize_input.threshold")));
    for (int k = 0; k < 32; k++)
        t[k] = 0.1f * (float)(k % 7) - 0.3f;
    struct nncw_tensor x, want, got;
    nncwt_tensor_rand(&x, 4, (int64_t[]){4, 1, 28, 28}, 0, 1, 9);
    run_graph(g, &x, &want);
    void *buf;
    size_t len;
    nncwt_assert_status(nncw_onnx_export_buffer(g, NULL, &buf, &len), NNCW_OK);
    struct nncw_graph *h;
    nncwt_assert_status(nncw_onnx_import_buffer(buf, len, NULL, &h), NNCW_OK);
    nncw_free(buf);
    int fq = 0;
    for (int i = 0; i < nncw_graph_count_nodes(h); i++) {
        const struct nncw_node *n = nncw_graph_get_node(h, i);
        if (nncw_node_get_op(n) == NNCW_OP_FAKEQUANTIZE) {
            fq++;
            ck_assert_int_eq(nncw_node_get_attr_int(n, "levels", 0), 2);
        }
    }
    ck_assert_int_eq(fq, 2);
    run_graph(h, &x, &got);
    nncwt_assert_tensor_near(&got, &want, 1e-4, 1e-4);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&got);
    nncw_graph_free(h);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}

START_TEST(test_xnor_export_reimports_with_the_same_outputs)
{
    check_export("xnor");
}
END_TEST

START_TEST(test_dorefa_export_reimports_with_the_same_outputs)
{
    check_export("dorefa");
}
END_TEST

START_TEST(test_disabled_binarizers_are_not_exported)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config("");
    struct nncw_compression *c = compress(g, cfg, NULL); /* before epoch 1: all off */
    void *buf;
    size_t len;
    nncwt_assert_status(nncw_onnx_export_buffer(g, NULL, &buf, &len), NNCW_OK);
    struct nncw_graph *h;
    nncwt_assert_status(nncw_onnx_import_buffer(buf, len, NULL, &h), NNCW_OK);
    nncw_free(buf);
    for (int i = 0; i < nncw_graph_count_nodes(h); i++)
        ck_assert_int_ne(nncw_node_get_op(nncw_graph_get_node(h, i)), NNCW_OP_FAKEQUANTIZE);
    nncw_graph_free(h);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

/* ---- bad configs ---- */

static void expect_bad(const char *entry, const char *path)
{
    struct nncw_graph *g = nncwt_cnn();
    int nodes = nncw_graph_count_nodes(g);
    struct nncw_config *cfg = config(entry);
    struct nncw_compression *c = NULL;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_ERR_PARSE);
    ck_assert_msg(strstr(nncw_last_error(), path), "'%s' not in: %s", path, nncw_last_error());
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}

START_TEST(test_bad_configs_name_the_json_path)
{
    expect_bad(", \"mode\": \"xor\"", "compression.mode");
    expect_bad(", \"moed\": \"xnor\"", "compression.moed: unknown key (did you mean 'mode'?)");
    expect_bad(", \"params\": {\"weights_quant_start_epoch\": -1}",
               "compression.params.weights_quant_start_epoch");
    expect_bad(", \"params\": {\"base_lr\": \"fast\"}", "compression.params.base_lr");
    expect_bad(", \"params\": {\"batch_multiplier\": 4}", "compression.params.batch_multiplier");
    expect_bad(", \"initializer\": {\"range\": {\"num_init_samples\": 8}}",
               "compression.initializer.range");
    expect_bad(", \"compression_lr_multiplier\": -2", "compression.compression_lr_multiplier");
    expect_bad(", \"initializer\": {\"batchnorm_adaptation\": {\"num_samples\": 8}}",
               "compression.initializer.batchnorm_adaptation.num_samples: unknown key");
}
END_TEST

START_TEST(test_unmatched_scope_is_an_error)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = config(", \"ignored_scopes\": [\"CNN/conv9\"]");
    struct nncw_compression *c = NULL;
    enum nncw_status s = nncw_compression_create(g, cfg, NULL, &c);
    ck_assert_int_ne(s, NNCW_OK);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "CNN/conv9"));
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

static Suite *binarization_suite(void)
{
    Suite *s = suite_create("binarization");
    TCase *tc = tcase_create("placement");
    tcase_add_test(tc, test_convs_get_weight_and_input_binarizers_outside_ignored_scopes);
    tcase_add_test(tc, test_dorefa_mode_uses_the_dorefa_op);
    suite_add_tcase(s, tc);
    tc = tcase_create("scheduler");
    tcase_add_test(tc, test_staged_scheduler_switches_activations_then_weights);
    tcase_add_test(tc, test_start_epoch_zero_binarizes_from_the_start);
    tcase_add_test(tc, test_params_drive_learning_rate_and_weight_decay);
    suite_add_tcase(s, tc);
    tc = tcase_create("initialisation");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_activation_scales_start_from_the_first_batch);
    tcase_add_test(tc, test_state_round_trips_the_scheduler);
    suite_add_tcase(s, tc);
    tc = tcase_create("export");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_xnor_export_reimports_with_the_same_outputs);
    tcase_add_test(tc, test_dorefa_export_reimports_with_the_same_outputs);
    tcase_add_test(tc, test_disabled_binarizers_are_not_exported);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_bad_configs_name_the_json_path);
    tcase_add_test(tc, test_unmatched_scope_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(binarization_suite());
}
