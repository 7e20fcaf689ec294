/* The quantization config section and the hardware configs: typed values and NNCF's defaults,
 * every bad file in tests/data/configs/bad/quant_expected.txt failing at the named stage with the
 * named JSON path, hardware-config expansion order and validation, constraints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compression/quantization/hw_config.h"
#include "compression/quantization/quant_config.h"
#include "config/config.h"
#include "core/alloc.h"
#include "nncwt.h"

#ifndef NNCW_TEST_DATA
#define NNCW_TEST_DATA "tests/data"
#endif
#ifndef NNCW_SOURCE_ROOT
#define NNCW_SOURCE_ROOT "."
#endif

static struct nncw_config *load(const char *dir, const char *name)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/configs/%s/%s", NNCW_TEST_DATA, dir, name);
    struct nncw_config *cfg = NULL;
    nncwt_assert_status(nncw_config_load(path, &cfg), NNCW_OK);
    return cfg;
}

static struct nncw_quant_config *parse_text(const char *json)
{
    struct nncw_config *cfg = NULL;
    nncwt_assert_status(nncw_config_parse(json, "t.json", &cfg), NNCW_OK);
    struct nncw_quant_config *q = NULL;
    nncwt_assert_status(nncw_quant_config_parse(cfg, cfg->n_compression - 1, &q), NNCW_OK);
    nncw_config_free(cfg);
    return q;
}

static bool qc_is(const struct nncw_qconfig *c, int bits, enum nncw_qmode mode, bool pc, int sign)
{
    return c->bits == bits && c->mode == mode && c->per_channel == pc && c->signedness == sign;
}

/* ---- good configs ---- */

START_TEST(test_quant_config_defaults_are_nncf)
{
    struct nncw_quant_config *q =
        parse_text("{\"compression\": {\"algorithm\": \"quantization\"}}");
    ck_assert_str_eq(q->path, "compression");
    ck_assert_int_eq(q->device, NNCW_DEVICE_ANY);
    ck_assert(q->quantize_inputs);
    ck_assert(!q->quantize_outputs);
    ck_assert(!q->export_to_onnx_standard_ops);
    ck_assert_int_eq(q->overflow_fix, NNCW_OVERFLOW_FIX_ENABLE);
    ck_assert_int_eq(q->preset, NNCW_PRESET_NONE);
    ck_assert_int_eq(q->weights.c.has, 0);
    ck_assert_int_eq(q->activations.c.has, 0);
    ck_assert_int_eq(q->init.n_ranges, 1);
    ck_assert(!q->init.range_per_layer);
    ck_assert_int_eq(q->init.ranges[0].num_init_samples, 256);
    ck_assert_int_eq(q->init.ranges[0].type, NNCW_RANGE_MEAN_MIN_MAX);
    ck_assert_float_eq_tol(q->init.ranges[0].min_percentile, 0.1, 1e-6);
    ck_assert_float_eq_tol(q->init.ranges[0].max_percentile, 99.9, 1e-4);
    ck_assert_int_eq(q->init.num_bn_adaptation_samples, 2000);
    ck_assert(!q->init.has_precision && !q->init.has_bn_adaptation);
    ck_assert(!q->staged);
    ck_assert_int_eq(q->params.activations_quant_start_epoch, 1);
    ck_assert_int_eq(q->params.lr_poly_drop_duration_epochs, 30);
    ck_assert_float_eq_tol(q->params.base_lr, 1e-3, 1e-9);
    nncw_quant_config_free(q);

    nncwt_assert_status(nncw_quant_config_new_default(NNCW_DEVICE_VPU, &q), NNCW_OK);
    ck_assert_int_eq(q->device, NNCW_DEVICE_VPU);
    ck_assert(q->quantize_inputs);
    ck_assert_str_eq(q->activations.c.path, "compression[0].activations");
    nncw_quant_config_free(q);
    nncw_quant_config_free(NULL);
}
END_TEST

START_TEST(test_quant_config_full_example_is_typed)
{
    struct nncw_config *cfg = load("good", "quant_full.json");
    struct nncw_quant_config *q = NULL;
    nncwt_assert_status(nncw_quant_config_parse(cfg, 1, &q), NNCW_OK);
    ck_assert_str_eq(q->path, "compression[1]");
    ck_assert_int_eq(q->device, NNCW_DEVICE_VPU);
    /* initializer */
    ck_assert(q->init.range_per_layer);
    ck_assert_int_eq(q->init.n_range_entries, 2);
    ck_assert_int_eq(q->init.n_ranges, 3); /* plus the override's range */
    ck_assert_int_eq(q->init.ranges[0].num_init_samples, 64);
    ck_assert_int_eq(q->init.ranges[0].type, NNCW_RANGE_MIN_MAX);
    ck_assert_int_eq(q->init.ranges[0].group, NNCW_QGROUP_WEIGHTS);
    ck_assert_int_eq(q->init.ranges[0].target.n, 1);
    ck_assert_str_eq(q->init.ranges[0].target.patterns[0], "{re}layer1");
    ck_assert_int_eq(q->init.ranges[1].type, NNCW_RANGE_PERCENTILE);
    ck_assert_float_eq_tol(q->init.ranges[1].max_percentile, 99, 1e-6);
    ck_assert_int_eq(q->init.ranges[1].group, NNCW_QGROUP_BOTH);
    ck_assert(q->init.ranges[1].ignored.single);
    ck_assert_str_eq(q->init.ranges[1].path, "compression[1].initializer.range[1]");
    ck_assert_int_eq(q->init.ranges[2].type, NNCW_RANGE_THREESIGMA);
    ck_assert(q->init.has_bn_adaptation);
    ck_assert_int_eq(q->init.num_bn_adaptation_samples, 300);
    ck_assert(q->init.has_precision);
    ck_assert_int_eq(q->init.precision.type, NNCW_PRECISION_HAWQ);
    ck_assert_int_eq(q->init.precision.n_bits, 2);
    ck_assert_int_eq(q->init.precision.bits[1], 8);
    ck_assert_int_eq(q->init.precision.num_data_points, 50);
    ck_assert_int_eq(q->init.precision.iter_number, 200);
    ck_assert_float_eq_tol(q->init.precision.compression_ratio, 1.2, 1e-6);
    ck_assert(q->init.precision.strict_assignment);
    /* groups */
    ck_assert_int_eq(q->weights.c.has,
                     NNCW_QC_MODE | NNCW_QC_BITS | NNCW_QC_PER_CHANNEL | NNCW_QC_LOG_SCALE);
    ck_assert(q->weights.c.logarithm_scale && q->weights.c.per_channel);
    ck_assert_int_eq(q->weights.ignored.n, 1);
    ck_assert_str_eq(q->weights.ignored.path, "compression[1].weights.ignored_scopes");
    ck_assert_int_eq(q->activations.c.mode, NNCW_QMODE_SYMMETRIC); /* given: preset ignored */
    ck_assert((q->activations.c.has & NNCW_QC_SIGNED) && !q->activations.c.is_signed);
    ck_assert_int_eq(q->n_unified, 1);
    ck_assert_int_eq(q->unified_scale_ops[0].n, 2);
    ck_assert_str_eq(q->unified_scale_ops[0].path,
                     "compression[1].activations.unified_scale_ops[0]");
    /* flags and the rest */
    ck_assert(!q->quantize_inputs && q->quantize_outputs);
    ck_assert_int_eq(q->overflow_fix, NNCW_OVERFLOW_FIX_FIRST_LAYER_ONLY);
    ck_assert_int_eq(q->preset, NNCW_PRESET_MIXED);
    ck_assert_float_eq_tol(q->compression_lr_multiplier, 2.5, 1e-6);
    ck_assert_int_eq(q->n_overrides[0], 1);
    ck_assert_str_eq(q->overrides[0][0].scope, "{re}layer4");
    ck_assert_int_eq(q->overrides[0][0].c.has, NNCW_QC_PER_CHANNEL);
    ck_assert_int_eq(q->overrides[0][0].range_init, 2);
    ck_assert_str_eq(q->overrides[0][0].c.path,
                     "compression[1].scope_overrides.weights.{re}layer4");
    ck_assert_int_eq(q->n_overrides[1], 1);
    ck_assert_int_eq(q->overrides[1][0].c.bits, 4);
    ck_assert_int_eq(q->overrides[1][0].range_init, -1);
    ck_assert(q->staged);
    ck_assert_int_eq(q->params.batch_multiplier, 1);
    ck_assert_int_eq(q->params.disable_wd_start_epoch, 25);
    ck_assert_float_eq_tol(q->params.base_wd, 5e-4, 1e-9);
    ck_assert_int_eq(q->ignored.n, 1);
    ck_assert_str_eq(q->ignored.path, "compression[1].ignored_scopes");
    ck_assert_int_eq(q->target.n, 1);
    nncw_quant_config_free(q);
    /* the other entry is not quantization */
    ck_assert_int_eq(nncw_quant_config_parse(cfg, 0, &q), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "magnitude_sparsity"));
    ck_assert_int_eq(nncw_quant_config_parse(cfg, 2, &q), NNCW_ERR_INVALID_ARG);
    ck_assert_int_eq(nncw_quant_config_parse(cfg, -1, &q), NNCW_ERR_INVALID_ARG);
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_quant_config_manual_precision_and_saturation)
{
    struct nncw_config *cfg = load("good", "quant_manual_precision.json");
    struct nncw_quant_config *q = NULL;
    nncwt_assert_status(nncw_quant_config_parse(cfg, 0, &q), NNCW_OK);
    ck_assert_int_eq(q->init.precision.type, NNCW_PRECISION_MANUAL);
    ck_assert_int_eq(q->init.precision.n_bitwidth_per_scope, 3);
    ck_assert_int_eq(q->init.precision.bitwidth_per_scope[0].bits, 4);
    ck_assert_str_eq(q->init.precision.bitwidth_per_scope[2].id, "ResNet18/layer1.0/add|INPUT1");
    ck_assert_int_eq(q->init.ranges[0].num_init_samples, 10);
    ck_assert_int_eq(q->overflow_fix, NNCW_OVERFLOW_FIX_DISABLE);
    nncw_quant_config_free(q);
    nncw_config_free(cfg);
    /* the repository's example config parses too */
    cfg = load("good", "quantization_resnet20_cifar10.json");
    nncwt_assert_status(nncw_quant_config_parse(cfg, 0, &q), NNCW_OK);
    ck_assert_int_eq(q->device, NNCW_DEVICE_CPU);
    ck_assert_int_eq(q->ignored.n, 2);
    ck_assert_int_eq(q->activations.c.mode, NNCW_QMODE_ASYMMETRIC);
    nncw_quant_config_free(q);
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_quant_config_preset_sets_unset_modes)
{
    struct nncw_quant_config *q = parse_text(
        "{\"compression\": {\"algorithm\": \"quantization\", \"preset\": \"performance\"}}");
    ck_assert(q->weights.c.has & NNCW_QC_MODE);
    ck_assert_int_eq(q->activations.c.mode, NNCW_QMODE_SYMMETRIC);
    nncw_quant_config_free(q);
    q = parse_text("{\"compression\": {\"algorithm\": \"quantization\", \"preset\": \"mixed\", "
                   "\"weights\": {\"mode\": \"asymmetric\"}}}");
    ck_assert_int_eq(q->weights.c.mode, NNCW_QMODE_ASYMMETRIC); /* given: kept */
    ck_assert_int_eq(q->activations.c.mode, NNCW_QMODE_ASYMMETRIC);
    nncw_quant_config_free(q);
}
END_TEST

/* ---- bad configs ---- */

START_TEST(test_quant_config_bad_files_fail_naming_the_path)
{
    char list[1024];
    snprintf(list, sizeof list, "%s/configs/bad/quant_expected.txt", NNCW_TEST_DATA);
    FILE *f = fopen(list, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *stage = strchr(line, '\t');
        ck_assert_ptr_nonnull(stage);
        *stage++ = '\0';
        char *want = strchr(stage, '\t');
        ck_assert_ptr_nonnull(want);
        *want++ = '\0';
        if (strcmp(stage, "setup") == 0)
            continue; /* needs a graph: test_quantizer_setup */
        struct nncw_config *cfg = load("bad", line);
        struct nncw_quant_config *q = NULL;
        enum nncw_status s = nncw_quant_config_parse(cfg, cfg->n_compression - 1, &q);
        if (strcmp(stage, "hw") == 0) {
            ck_assert_msg(s == NNCW_OK, "%s: %s", line, nncw_last_error());
            struct nncw_hw_config *hw = NULL;
            nncwt_assert_status(nncw_hw_config_load_for_device(q->device, NULL, &hw), NNCW_OK);
            s = nncw_quant_config_check_hw(q, hw);
            nncw_hw_config_free(hw);
            nncw_quant_config_free(q);
        } else {
            ck_assert_ptr_null(q);
        }
        ck_assert_msg(s == NNCW_ERR_PARSE, "%s: expected a parse error, got %s", line,
                      nncw_status_str(s));
        ck_assert_msg(strstr(nncw_last_error(), want), "%s: message '%s' lacks '%s'", line,
                      nncw_last_error(), want);
        ck_assert_msg(strstr(nncw_last_error(), "bad/quant_"), "%s: message names no file", line);
        nncw_config_free(cfg);
        checked++;
    }
    fclose(f);
    ck_assert_int_ge(checked, 30);
}
END_TEST

START_TEST(test_quant_config_duplicate_and_empty_scopes)
{
    const char *bad[][2] = {
        {"{\"compression\": {\"algorithm\": \"quantization\", \"weights\": {\"bits\": 8, "
         "\"bits\": 4}}}",
         "compression.weights.bits: duplicate key"},
        {"{\"compression\": {\"algorithm\": \"quantization\", \"activations\": "
         "{\"ignored_scopes\": "
         "[\"\"]}}}",
         "compression.activations.ignored_scopes[0]: empty scope"},
        {"{\"compression\": {\"algorithm\": \"quantization\", \"initializer\": 3}}",
         "compression.initializer: expected an object, got 3"},
        {"{\"compression\": {\"algorithm\": \"quantization\", \"weights\": {\"signed\": null}}}",
         "compression.weights.signed: expected true or false, got null"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct nncw_config *cfg = NULL;
        nncwt_assert_status(nncw_config_parse(bad[i][0], "t.json", &cfg), NNCW_OK);
        struct nncw_quant_config *q = NULL;
        ck_assert_int_eq(nncw_quant_config_parse(cfg, 0, &q), NNCW_ERR_PARSE);
        ck_assert_msg(strstr(nncw_last_error(), bad[i][1]), "'%s' lacks '%s'", nncw_last_error(),
                      bad[i][1]);
        nncw_config_free(cfg);
    }
}
END_TEST

START_TEST(test_quant_config_out_of_memory_is_reported)
{
    struct nncw_config *cfg = load("good", "quant_full.json");
    int failures = 0;
    for (long n = 1; n < 400; n++) {
        struct nncw_quant_config *q = NULL;
        nncw_alloc_fail_after(n);
        enum nncw_status s = nncw_quant_config_parse(cfg, 1, &q);
        nncw_alloc_fail_after(0);
        if (s == NNCW_OK) {
            nncw_quant_config_free(q);
            break;
        }
        ck_assert_msg(s == NNCW_ERR_NOMEM, "after %ld: %s", n, nncw_last_error());
        ck_assert_ptr_null(q);
        failures++;
    }
    ck_assert_int_gt(failures, 10);
    nncw_config_free(cfg);
}
END_TEST

/* ---- hardware configs ---- */

static struct nncw_hw_config *builtin(enum nncw_target_device d)
{
    struct nncw_hw_config *hw = NULL;
    nncwt_assert_status(nncw_hw_config_load_for_device(d, NULL, &hw), NNCW_OK);
    ck_assert_ptr_nonnull(hw);
    return hw;
}

START_TEST(test_hw_config_cpu_lists_expand_in_order)
{
    struct nncw_hw_config *hw = builtin(NNCW_DEVICE_ANY);
    ck_assert_str_eq(hw->target_device, "CPU");
    ck_assert_str_eq(hw->source, "cpu.json");
    const struct nncw_hw_op *conv = nncw_hw_config_find_op(hw, "Convolution", NULL);
    ck_assert_ptr_nonnull(conv);
    ck_assert(!conv->wildcard && !conv->unified_scales);
    ck_assert_int_eq(conv->n_act, 2); /* q8_a: mode [symmetric, asymmetric], per-tensor */
    ck_assert(qc_is(&conv->act[0], 8, NNCW_QMODE_SYMMETRIC, false, -1));
    ck_assert(qc_is(&conv->act[1], 8, NNCW_QMODE_ASYMMETRIC, false, -1));
    ck_assert_int_eq(conv->n_w, 4); /* q8_w_sym (forced signed by its levels), q8_w_asym */
    ck_assert(qc_is(&conv->w[0], 8, NNCW_QMODE_SYMMETRIC, true, 1));
    ck_assert(qc_is(&conv->w[1], 8, NNCW_QMODE_SYMMETRIC, false, 1));
    ck_assert(qc_is(&conv->w[2], 8, NNCW_QMODE_ASYMMETRIC, true, -1));
    ck_assert(qc_is(&conv->w[3], 8, NNCW_QMODE_ASYMMETRIC, false, -1));
    /* q8_a_ch then q8_a: the last field varies fastest, duplicates dropped */
    const struct nncw_hw_op *dw = nncw_hw_config_find_op(hw, "DepthWiseConvolution", NULL);
    ck_assert_int_eq(dw->n_act, 4);
    ck_assert(qc_is(&dw->act[0], 8, NNCW_QMODE_SYMMETRIC, true, -1));
    ck_assert(qc_is(&dw->act[1], 8, NNCW_QMODE_SYMMETRIC, false, -1));
    ck_assert(qc_is(&dw->act[2], 8, NNCW_QMODE_ASYMMETRIC, true, -1));
    ck_assert(qc_is(&dw->act[3], 8, NNCW_QMODE_ASYMMETRIC, false, -1));
    const struct nncw_hw_op *cat = nncw_hw_config_find_op(hw, "Concat", NULL);
    ck_assert(cat->wildcard && cat->unified_scales);
    ck_assert(nncw_hw_config_find_op(hw, "MaxPool", NULL)->wildcard);
    ck_assert_ptr_nonnull(nncw_hw_config_find_op(hw, "Interpolate", "nearest"));
    ck_assert_ptr_null(nncw_hw_config_find_op(hw, "Interpolate", "cubic"));
    ck_assert_ptr_null(nncw_hw_config_find_op(hw, "Softmax", NULL));
    ck_assert_ptr_nonnull(nncw_hw_config_find_op(hw, "ConvolutionBackpropData", NULL));
    nncw_hw_config_free(hw);
}
END_TEST

START_TEST(test_hw_config_gpu_and_vpu_tables)
{
    struct nncw_hw_config *gpu = builtin(NNCW_DEVICE_GPU);
    ck_assert_str_eq(gpu->target_device, "GPU");
    ck_assert_ptr_null(nncw_hw_config_find_op(gpu, "ConvolutionBackpropData", NULL));
    ck_assert_ptr_null(nncw_hw_config_find_op(gpu, "Pad", NULL));
    ck_assert(nncw_hw_config_find_op(gpu, "Interpolate", "nearest")->wildcard);
    ck_assert(!nncw_hw_config_find_op(gpu, "Interpolate", "linear")->wildcard);
    ck_assert_int_eq(nncw_hw_config_find_op(gpu, "DepthWiseConvolution", NULL)->n_act, 4);
    nncw_hw_config_free(gpu);

    struct nncw_hw_config *vpu = builtin(NNCW_DEVICE_VPU);
    const struct nncw_hw_op *conv = nncw_hw_config_find_op(vpu, "Convolution", NULL);
    ck_assert(conv->adjust_padding);
    ck_assert_int_eq(conv->n_act, 3); /* q8_tn (asymmetric first), q4_tn */
    ck_assert(qc_is(&conv->act[0], 8, NNCW_QMODE_ASYMMETRIC, false, -1));
    ck_assert(qc_is(&conv->act[2], 4, NNCW_QMODE_SYMMETRIC, false, -1));
    ck_assert_int_eq(conv->n_w, 6);
    ck_assert(qc_is(&conv->w[5], 2, NNCW_QMODE_SYMMETRIC, false, -1));
    ck_assert(nncw_hw_config_find_op(vpu, "Add", NULL)->unified_scales);
    ck_assert(!nncw_hw_config_find_op(vpu, "LogicalNot", NULL)->unified_scales);
    const struct nncw_hw_op *emb = nncw_hw_config_find_op(vpu, "Embedding", NULL);
    ck_assert(emb->wildcard); /* weights only: q8_tn, q8_w (8-bit symmetric per-tensor once) */
    ck_assert_int_eq(emb->n_w, 3);
    ck_assert(qc_is(&nncw_hw_config_find_op(vpu, "AvgPool", NULL)->act[0], 8, NNCW_QMODE_SYMMETRIC,
                    true, -1));
    nncw_hw_config_free(vpu);

    static struct nncw_hw_config dummy;
    struct nncw_hw_config *trial = &dummy;
    nncwt_assert_status(nncw_hw_config_load_for_device(NNCW_DEVICE_TRIAL, NULL, &trial), NNCW_OK);
    ck_assert_ptr_null(trial);
    ck_assert_ptr_null(nncw_hw_config_file_for_device(NNCW_DEVICE_TRIAL));
    ck_assert_str_eq(nncw_hw_config_file_for_device(NNCW_DEVICE_CPU_SPR), "cpu.json");
}
END_TEST

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(test_hw_config_builtin_is_the_source_file)
{
    static const char *const files[] = {"cpu.json", "gpu.json", "vpu.json"};
    for (int i = 0; i < 3; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/configs/hw/%s", NNCW_SOURCE_ROOT, files[i]);
        char *text = read_all(path);
        ck_assert_ptr_nonnull(nncw_hw_config_builtin_text(files[i]));
        ck_assert_str_eq(nncw_hw_config_builtin_text(files[i]), text);
        free(text);
        struct nncw_hw_config *hw = NULL;
        nncwt_assert_status(nncw_hw_config_load(path, &hw), NNCW_OK);
        ck_assert_ptr_nonnull(nncw_hw_config_find_op(hw, "Convolution", NULL));
        nncw_hw_config_free(hw);
    }
    ck_assert_ptr_null(nncw_hw_config_builtin_text("tpu.json"));
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/configs/hw", NNCW_SOURCE_ROOT);
    struct nncw_hw_config *hw = NULL;
    nncwt_assert_status(nncw_hw_config_load_for_device(NNCW_DEVICE_VPU, dir, &hw), NNCW_OK);
    ck_assert_str_eq(hw->target_device, "VPU");
    ck_assert_ptr_nonnull(strstr(hw->source, "configs/hw/vpu.json"));
    nncw_hw_config_free(hw);
    hw = NULL;
    ck_assert_int_eq(nncw_hw_config_load_for_device(NNCW_DEVICE_CPU, "/nonexistent", &hw),
                     NNCW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "/nonexistent/cpu.json"));
    ck_assert_ptr_null(hw);
}
END_TEST

START_TEST(test_hw_config_bad_files_name_the_path)
{
    static const char *const cases[][2] = {
        {"[]", "(root): expected an object"},
        {"{\"target_device\": \"CPU\"}", "operations: missing"},
        {"{\"target_device\": \"TPU\", \"operations\": []}", "target_device: expected \"CPU\""},
        {"{\"target_device\": \"CPU\", \"operations\": [], \"extra\": 1}", "extra: unknown key"},
        {"{\"target_device\": \"CPU\", \"operations\": [{\"quantization\": {}}]}",
         "operations[0].type: missing"},
        {"{\"target_device\": \"CPU\", \"config\": {\"quantization\": {\"a\": {\"bits\": 8, "
         "\"mode\": \"symmetric\", \"granularity\": \"pertensor\"}}}, \"operations\": [{\"type\": "
         "\"Add\", \"quantization\": {\"activations\": [\"a\", \"b\"]}}]}",
         "operations[0].quantization.activations[1]: unknown quantizer alias 'b' "
         "(config.quantization has: a)"},
        {"{\"target_device\": \"CPU\", \"config\": {\"quantization\": {\"a\": {\"bits\": 8, "
         "\"mode\": \"symmetric\", \"granularity\": \"pertensor\", \"level_low\": -127, "
         "\"level_high\": 127}}}, \"operations\": []}",
         "config.quantization.a: levels [-127, 127] do not match 8-bit symmetric"},
        {"{\"target_device\": \"CPU\", \"config\": {\"quantization\": {\"a\": {\"bits\": 8, "
         "\"mode\": [\"symmetric\", \"linear\"], \"granularity\": \"pertensor\"}}}, "
         "\"operations\": []}",
         "config.quantization.a.mode[1]: unknown value 'linear'"},
        {"{\"target_device\": \"CPU\", \"config\": {\"quantization\": {\"a\": {\"bits\": 8, "
         "\"mode\": \"symmetric\"}}}, \"operations\": []}",
         "config.quantization.a.granularity: missing"},
        {"{\"target_device\": \"CPU\", \"operations\": [{\"type\": \"Add\"}, {\"type\": "
         "\"Add\"}]}",
         "operations[1]: operation 'Add' listed twice (first at operations[0])"},
        {"{\"target_device\": \"CPU\", \"operations\": [{\"type\": \"Concat\", \"attributes\": "
         "{\"scales\": \"shared\"}}]}",
         "operations[0].attributes.scales: expected \"unified\""},
        {"{\"target_device\": \"CPU\", \"operations\": [{\"type\": \"Conv\", \"quantization\": "
         "{\"activations\": {\"bits\": 0, \"mode\": \"symmetric\", \"granularity\": "
         "\"pertensor\"}}}]}",
         "operations[0].quantization.activations.bits: bits must be in [1, 16], got 0"},
        {"{\"target_device\": \"CPU\",", "line 1: invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nncw_hw_config *hw = NULL;
        ck_assert_int_eq(nncw_hw_config_parse(cases[i][0], "x.json", &hw), NNCW_ERR_PARSE);
        ck_assert_ptr_null(hw);
        ck_assert_msg(strstr(nncw_last_error(), cases[i][1]), "case %zu: '%s' lacks '%s'", i,
                      nncw_last_error(), cases[i][1]);
        ck_assert_ptr_nonnull(strstr(nncw_last_error(), "hw config 'x.json'"));
    }
    /* an inline description and the interpolation modes */
    struct nncw_hw_config *hw = NULL;
    nncwt_assert_status(
        nncw_hw_config_parse("{\"target_device\": \"GPU\", \"operations\": [{\"type\": \"X\", "
                             "\"attributes\": {\"mode\": \"linear\"}, \"quantization\": "
                             "{\"weights\": {\"bits\": [4, 8], \"mode\": \"asymmetric\", "
                             "\"granularity\": \"perchannel\", \"level_low\": 0, "
                             "\"level_high\": 15}}}]}",
                             "inline", &hw),
        NNCW_ERR_PARSE); /* [0, 15] is 4-bit only */
    nncwt_assert_status(
        nncw_hw_config_parse("{\"target_device\": \"GPU\", \"operations\": [{\"type\": \"X\", "
                             "\"attributes\": {\"mode\": \"linear\"}, \"quantization\": "
                             "{\"weights\": {\"bits\": [4, 2], \"mode\": \"symmetric\", "
                             "\"granularity\": \"perchannel\"}}}]}",
                             "inline", &hw),
        NNCW_OK);
    ck_assert_ptr_null(nncw_hw_config_find_op(hw, "X", NULL));
    const struct nncw_hw_op *x = nncw_hw_config_find_op(hw, "X", "linear");
    ck_assert(x->wildcard);
    ck_assert_int_eq(x->n_w, 2);
    ck_assert_int_eq(x->w[1].bits, 2);
    nncw_hw_config_free(hw);
    ck_assert_int_eq(nncw_hw_config_load("/nonexistent/hw.json", &hw), NNCW_ERR_IO);
}
END_TEST

START_TEST(test_hw_config_out_of_memory_is_reported)
{
    const char *text = nncw_hw_config_builtin_text("vpu.json");
    int failures = 0;
    for (long n = 1; n < 2000; n++) {
        struct nncw_hw_config *hw = NULL;
        nncw_alloc_fail_after(n);
        enum nncw_status s = nncw_hw_config_parse(text, "vpu.json", &hw);
        nncw_alloc_fail_after(0);
        if (s == NNCW_OK) {
            nncw_hw_config_free(hw);
            break;
        }
        ck_assert_int_eq(s, NNCW_ERR_NOMEM);
        failures++;
    }
    ck_assert_int_gt(failures, 50);
}
END_TEST

/* ---- constraints ---- */

START_TEST(test_qconstraints_filter_apply_culprit)
{
    struct nncw_hw_config *hw = builtin(NNCW_DEVICE_CPU);
    const struct nncw_hw_op *conv = nncw_hw_config_find_op(hw, "Convolution", NULL);
    struct nncw_qconfig out[8];
    struct nncw_qconstraints c = {.has = NNCW_QC_MODE, .mode = NNCW_QMODE_ASYMMETRIC};
    ck_assert_int_eq(nncw_qconstraints_filter(&c, conv->w, conv->n_w, out), 2);
    ck_assert(out[0].per_channel && out[0].mode == NNCW_QMODE_ASYMMETRIC);
    c = (struct nncw_qconstraints){.has = NNCW_QC_SIGNED, .is_signed = false};
    ck_assert_int_eq(nncw_qconstraints_filter(&c, conv->w, conv->n_w, out), 2); /* asym only */
    ck_assert_int_eq(nncw_qconstraints_filter(&c, conv->act, conv->n_act, out), 2);
    ck_assert_int_eq(out[0].signedness, 0); /* forced */
    c = (struct nncw_qconstraints){
        .has = NNCW_QC_BITS | NNCW_QC_LOG_SCALE, .bits = 8, .logarithm_scale = true};
    ck_assert_int_eq(nncw_qconstraints_filter(&c, conv->act, conv->n_act, out), 2);
    ck_assert(out[1].logarithm_scale);
    c = (struct nncw_qconstraints){
        .has = NNCW_QC_BITS | NNCW_QC_MODE, .bits = 4, .mode = NNCW_QMODE_SYMMETRIC};
    ck_assert_int_eq(nncw_qconstraints_filter(&c, conv->act, conv->n_act, out), 0);
    ck_assert_str_eq(nncw_qconstraints_culprit(&c, conv->act, conv->n_act), "bits");
    c = (struct nncw_qconstraints){.has = NNCW_QC_PER_CHANNEL | NNCW_QC_MODE,
                                   .per_channel = true,
                                   .mode = NNCW_QMODE_ASYMMETRIC};
    ck_assert_str_eq(nncw_qconstraints_culprit(&c, conv->act, conv->n_act), "per_channel");
    struct nncw_qconfig q = nncw_qconstraints_apply(
        &c, (struct nncw_qconfig){.bits = 8, .mode = NNCW_QMODE_SYMMETRIC, .signedness = -1});
    ck_assert(q.per_channel && q.mode == NNCW_QMODE_ASYMMETRIC && q.bits == 8);
    struct nncw_qconstraints base = {.has = NNCW_QC_BITS, .bits = 8, .path = "a"};
    struct nncw_qconstraints over = {.has = NNCW_QC_BITS | NNCW_QC_MODE, .bits = 4, .path = "b"};
    struct nncw_qconstraints m = nncw_qconstraints_merge(&base, &over);
    ck_assert_int_eq(m.bits, 4);
    ck_assert_str_eq(m.path, "b");
    ck_assert_int_eq(m.has, NNCW_QC_BITS | NNCW_QC_MODE);
    nncw_hw_config_free(hw);
    ck_assert_str_eq(nncw_range_init_name(NNCW_RANGE_MIXED_MIN_MAX), "mixed_min_max");
    ck_assert_str_eq(nncw_quantizer_group_name(NNCW_QGROUP_ACTIVATIONS), "activations");
}
END_TEST

static Suite *quant_config_suite(void)
{
    Suite *s = suite_create("quant_config");
    TCase *tc = tcase_create("good");
    tcase_add_test(tc, test_quant_config_defaults_are_nncf);
    tcase_add_test(tc, test_quant_config_full_example_is_typed);
    tcase_add_test(tc, test_quant_config_manual_precision_and_saturation);
    tcase_add_test(tc, test_quant_config_preset_sets_unset_modes);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad");
    tcase_add_test(tc, test_quant_config_bad_files_fail_naming_the_path);
    tcase_add_test(tc, test_quant_config_duplicate_and_empty_scopes);
    tcase_add_test(tc, test_quant_config_out_of_memory_is_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("hw");
    tcase_add_test(tc, test_hw_config_cpu_lists_expand_in_order);
    tcase_add_test(tc, test_hw_config_gpu_and_vpu_tables);
    tcase_add_test(tc, test_hw_config_builtin_is_the_source_file);
    tcase_add_test(tc, test_hw_config_bad_files_name_the_path);
    tcase_add_test(tc, test_hw_config_out_of_memory_is_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("constraints");
    tcase_add_test(tc, test_qconstraints_filter_apply_culprit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(quant_config_suite());
}
