/*
 * The propagation-based quantizer setup: torchvision ResNet-18 (ONNX, opset 13, eval,
 * 224x224, every initializer zeroed and gzipped: tests/data/onnx/full/resnet18.onnx.gz) against
 * NNCF's reference placement (fact sheet 12.5) and a golden description; the zoo's ResNet-18
 * (batch norms separate) against the PyTorch counts of 12.4; small hand-built graphs for Concat
 * cloning and unification, branch merging, FP32 branches, integer edges, depthwise inputs,
 * fused patterns; config features (scope overrides, unified_scale_ops, range-init entries,
 * the overflow fix) and every setup-stage bad config.
 *
 * The executable doubles as the generator of docs/quantization-placement.md's tables:
 *     test_quantizer_setup --report DEVICE MODEL.onnx[.gz] ...
 * prints one markdown row per model. NNCW_UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compression/quantization/hw_config.h"
#include "compression/quantization/op_traits.h"
#include "compression/quantization/quant_config.h"
#include "compression/quantization/quantizer_setup.h"
#include "config/config.h"
#include "core/alloc.h"
#include "nncwt.h"
#include "onnx/onnx.h"
#include "zoo/zoo.h"

#ifndef NNCW_TEST_DATA
#define NNCW_TEST_DATA "tests/data"
#endif

/* ---- loading models ---- */

/* an ONNX model file, gzip-compressed when its name ends in .gz */
static enum nncw_status load_onnx(const char *path, struct nncw_graph **out)
{
    size_t len = strlen(path);
    if (len < 3 || strcmp(path + len - 3, ".gz") != 0)
        return nncw_onnx_import_file(path, NULL, out);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NNCW_FAIL(NNCW_ERR_IO, "cannot open %s", path);
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    int got;
    while (buf && (got = gzread(f, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)got;
        if (n == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p)
                free(buf);
            buf = p;
        }
    }
    gzclose(f);
    if (!buf)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
    enum nncw_status s = nncw_onnx_import_buffer(buf, n, NULL, out);
    free(buf);
    return s;
}

static struct nncw_graph *resnet18_onnx, *resnet18_zoo;

static void load_models(void)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/onnx/full/resnet18.onnx.gz", NNCW_TEST_DATA);
    nncwt_assert_status(load_onnx(path, &resnet18_onnx), NNCW_OK);
    struct nncw_zoo_options o = nncw_zoo_defaults("resnet18");
    nncwt_assert_status(nncw_zoo_build("resnet18", &o, &resnet18_zoo), NNCW_OK);
}

static void free_models(void)
{
    nncw_graph_free(resnet18_onnx);
    nncw_graph_free(resnet18_zoo);
}

/* ---- building setups ---- */

static enum nncw_status try_setup(struct nncw_graph *g, const char *json,
                                  struct nncw_quantizer_setup **out)
{
    struct nncw_config *cfg = NULL;
    struct nncw_quant_config *q = NULL;
    struct nncw_hw_config *hw = NULL;
    enum nncw_status s = nncw_config_parse(json, "t.json", &cfg);
    if (s == NNCW_OK)
        s = nncw_quant_config_parse(cfg, cfg->n_compression - 1, &q);
    if (s == NNCW_OK)
        s = nncw_hw_config_load_for_device(q->device, NULL, &hw);
    if (s == NNCW_OK)
        s = nncw_quant_config_check_hw(q, hw);
    if (s == NNCW_OK)
        s = nncw_quantizer_setup_build(g, q, hw, out);
    nncw_hw_config_free(hw);
    nncw_quant_config_free(q);
    nncw_config_free(cfg);
    return s;
}

static struct nncw_quantizer_setup *setup(struct nncw_graph *g, const char *json)
{
    struct nncw_quantizer_setup *s = NULL;
    nncwt_assert_status(try_setup(g, json, &s), NNCW_OK);
    return s;
}

#define QCFG(keys) "{\"compression\": {\"algorithm\": \"quantization\"" keys "}}"
#define QDEV(dev, keys)                                                                            \
    "{\"target_device\": \"" dev "\", \"compression\": {\"algorithm\": \"quantization\"" keys "}}"

static const struct nncw_quantizer_point *point(const struct nncw_quantizer_setup *s,
                                                const char *id)
{
    const struct nncw_quantizer_point *p = nncw_quantizer_setup_find(s, id);
    ck_assert_msg(p != NULL, "no quantizer '%s'", id);
    return p;
}

static const struct nncw_qconfig *chosen(const struct nncw_quantizer_point *p)
{
    return &p->configs[p->chosen];
}

/* "input 1, Relu 17, Conv 11, GlobalAveragePool 1": what produces the quantized activations
 * (an input quantizer counts as "<consumer op> input"), in order of first appearance */
static void producer_kinds(struct nncw_graph *g, const struct nncw_quantizer_setup *s, char *buf,
                           size_t size)
{
    const char *kind[64];
    int count[64], n = 0;
    for (int i = 0; i < s->n_points; i++) {
        const struct nncw_quantizer_point *p = &s->points[i];
        if (p->is_weight)
            continue;
        char k[96];
        const struct nncw_node *prod = nncw_graph_get_producer(g, p->value_id);
        if (p->node >= 0) {
            const struct nncw_op_def *d =
                nncw_op_get_def(nncw_node_get_op(nncw_graph_get_node(g, p->node)));
            snprintf(k, sizeof k, "%s input", d->onnx_name ? d->onnx_name : d->name);
        } else if (strstr(p->id, "|MODEL_OUTPUT")) {
            snprintf(k, sizeof k, "output");
        } else if (!prod) {
            snprintf(k, sizeof k, "input");
        } else {
            const struct nncw_op_def *d = nncw_op_get_def(nncw_node_get_op(prod));
            snprintf(k, sizeof k, "%s", d->onnx_name ? d->onnx_name : d->name);
        }
        int j = 0;
        while (j < n && strcmp(kind[j], k) != 0)
            j++;
        if (j == n && n < 64) {
            kind[n] = strdup(k);
            count[n++] = 0;
        }
        if (j < 64)
            count[j]++;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (int j = 0; j < n; j++) {
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s %d", j ? ", " : "",
                                kind[j], count[j]);
        free((void *)kind[j]);
    }
}

/* ---- golden files ---- */

static void check_golden(const char *name, const char *text)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/golden/quantizer_setup/%s", NNCW_TEST_DATA, name);
    if (getenv("NNCW_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "cannot write %s", path);
        fputs(text, f);
        fclose(f);
        return;
    }
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "missing %s (NNCW_UPDATE_GOLDEN=1 writes it)", path);
    char *want = calloc(1, 1 << 20);
    size_t n = fread(want, 1, (1 << 20) - 1, f);
    fclose(f);
    want[n] = '\0';
    if (strcmp(want, text) != 0) { /* report the first differing line */
        const char *a = want, *b = text;
        int line = 1;
        while (*a && *a == *b) {
            line += *a == '\n';
            a++, b++;
        }
        ck_abort_msg("%s differs at line %d: expected '%.80s', got '%.80s'", path, line, a, b);
    }
    free(want);
}

static void check_golden_setup(const char *name, const struct nncw_quantizer_setup *s)
{
    char *text = NULL;
    nncwt_assert_status(nncw_quantizer_setup_describe(s, &text), NNCW_OK);
    check_golden(name, text);
    nncw_free(text);
}

/* ---- torchvision ResNet-18, ONNX ---- */

/* fact sheet 12.5: the activation quantizers of NNCF's ONNX reference graph sit on the input,
 * 17 ReLUs, 11 convolutions (the residual branches' second convs and the downsample convs,
 * which feed an Add) and the global average pool feeding the classifier */
static const char *const resnet18_activations[] = {
    "input|OUTPUT",
    "/relu/Relu|OUTPUT",
    "/layer1/layer1.0/relu/Relu|OUTPUT",
    "/layer1/layer1.0/conv2/Conv|OUTPUT",
    "/layer1/layer1.0/relu_1/Relu|OUTPUT",
    "/layer1/layer1.1/relu/Relu|OUTPUT",
    "/layer1/layer1.1/conv2/Conv|OUTPUT",
    "/layer1/layer1.1/relu_1/Relu|OUTPUT",
    "/layer2/layer2.0/relu/Relu|OUTPUT",
    "/layer2/layer2.0/conv2/Conv|OUTPUT",
    "/layer2/layer2.0/downsample/downsample.0/Conv|OUTPUT",
    "/layer2/layer2.0/relu_1/Relu|OUTPUT",
    "/layer2/layer2.1/relu/Relu|OUTPUT",
    "/layer2/layer2.1/conv2/Conv|OUTPUT",
    "/layer2/layer2.1/relu_1/Relu|OUTPUT",
    "/layer3/layer3.0/relu/Relu|OUTPUT",
    "/layer3/layer3.0/conv2/Conv|OUTPUT",
    "/layer3/layer3.0/downsample/downsample.0/Conv|OUTPUT",
    "/layer3/layer3.0/relu_1/Relu|OUTPUT",
    "/layer3/layer3.1/relu/Relu|OUTPUT",
    "/layer3/layer3.1/conv2/Conv|OUTPUT",
    "/layer3/layer3.1/relu_1/Relu|OUTPUT",
    "/layer4/layer4.0/relu/Relu|OUTPUT",
    "/layer4/layer4.0/conv2/Conv|OUTPUT",
    "/layer4/layer4.0/downsample/downsample.0/Conv|OUTPUT",
    "/layer4/layer4.0/relu_1/Relu|OUTPUT",
    "/layer4/layer4.1/relu/Relu|OUTPUT",
    "/layer4/layer4.1/conv2/Conv|OUTPUT",
    "/layer4/layer4.1/relu_1/Relu|OUTPUT",
    "/avgpool/GlobalAveragePool|OUTPUT",
};

START_TEST(test_setup_resnet18_onnx_matches_nncf)
{
    struct nncw_quantizer_setup *s = setup(resnet18_onnx, QCFG(""));
    ck_assert_int_eq(s->n_weights, 21);
    ck_assert_int_eq(s->n_activations, 30);
    ck_assert_int_eq(s->n_unified_groups, 0);
    ck_assert_str_eq(s->target_device, "CPU");
    int a = 0;
    for (int i = 0; i < s->n_points; i++) {
        const struct nncw_quantizer_point *p = &s->points[i];
        if (p->is_weight) {
            ck_assert(strstr(p->id, "|WEIGHT") != NULL);
            ck_assert(chosen(p)->per_channel && chosen(p)->signedness == 1);
            ck_assert(p->half_range); /* CPU: 8-bit weights train on 7 bits */
            ck_assert_int_eq(p->n_configs, 4);
            continue;
        }
        ck_assert_int_lt(a, 30);
        ck_assert_str_eq(p->id, resnet18_activations[a++]);
        ck_assert(!p->half_range && !chosen(p)->per_channel);
        ck_assert_int_eq(chosen(p)->mode, NNCW_QMODE_SYMMETRIC);
        ck_assert_int_eq(chosen(p)->signedness, -1);
        ck_assert_int_eq(p->n_configs, 2); /* q8_a: symmetric, asymmetric */
        ck_assert_int_eq(p->node, -1);
    }
    char kinds[512];
    producer_kinds(resnet18_onnx, s, kinds, sizeof kinds);
    ck_assert_str_eq(kinds, "input 1, Relu 17, Conv 11, GlobalAveragePool 1");
    /* the stem ReLU (through the max pool) feeds layer1.0's conv1 and its Add: one quantizer */
    const struct nncw_quantizer_point *stem = point(s, "/relu/Relu|OUTPUT");
    ck_assert_int_eq(stem->n_targets, 1); /* the max pool reads it */
    ck_assert_int_eq(nncw_node_get_op(nncw_graph_get_node(resnet18_onnx, stem->targets[0].node)),
                     NNCW_OP_MAXPOOL);
    const struct nncw_quantizer_point *fc = point(s, "/fc/Gemm|WEIGHT");
    ck_assert_int_eq(fc->n_targets, 1);
    ck_assert_int_eq(fc->targets[0].port, 1);
    ck_assert_int_eq(nncw_graph_get_value_kind(resnet18_onnx, fc->value_id), NNCW_VALUE_PARAM);
    check_golden_setup("resnet18_cpu.txt", s);
    nncw_quantizer_setup_free(s);
}
END_TEST

START_TEST(test_setup_resnet18_onnx_without_input_quantizer)
{
    struct nncw_quantizer_setup *s = setup(resnet18_onnx, QCFG(", \"quantize_inputs\": false"));
    ck_assert_int_eq(s->n_weights, 21);
    ck_assert_int_eq(s->n_activations, 29);
    ck_assert_ptr_null(nncw_quantizer_setup_find(s, "input|OUTPUT"));
    nncw_quantizer_setup_free(s);
}
END_TEST

/* NNCF's resnet18_ignore ignores {re}ResNet/Sequential\[layer3\].*: layer3's 5 convolutions lose
 * their weight quantizers (21 - 5 = 16) and 7 activation quantizers go (30 - 7 = 23): layer2's
 * output (read only by layer3), inside layer3.0 its ReLU, conv2 and downsample outputs and its
 * output ReLU, inside layer3.1 its ReLU and conv2 outputs. layer3.1's output ReLU stays: it is
 * ignored itself, but layer4 reads it, and a quantizer may sit at an ignored op's output. */
START_TEST(test_setup_resnet18_onnx_ignoring_layer3)
{
    struct nncw_quantizer_setup *s =
        setup(resnet18_onnx, QCFG(", \"ignored_scopes\": [\"{re}/layer3/\"]"));
    ck_assert_int_eq(s->n_weights, 16);
    ck_assert_int_eq(s->n_activations, 23);
    for (int i = 0; i < s->n_points; i++)
        ck_assert_msg(!strstr(s->points[i].id, "/layer3/") ||
                          strcmp(s->points[i].id, "/layer3/layer3.1/relu_1/Relu|OUTPUT") == 0,
                      "unexpected %s", s->points[i].id);
    ck_assert_ptr_null(nncw_quantizer_setup_find(s, "/layer2/layer2.1/relu_1/Relu|OUTPUT"));
    point(s, "/layer3/layer3.1/relu_1/Relu|OUTPUT");
    nncw_quantizer_setup_free(s);
}
END_TEST

/* fact sheet 12.4 is NNCF's PyTorch graph of a CIFAR ResNet-18 with batch norms as separate
 * ops: the zoo's ResNet-18 is that graph (Conv -> BN -> ReLU fuse), with the same counts */
START_TEST(test_setup_resnet18_zoo_matches_pytorch_counts)
{
    struct nncw_quantizer_setup *s = setup(resnet18_zoo, QCFG(""));
    ck_assert_int_eq(s->n_weights, 21);
    ck_assert_int_eq(s->n_activations, 30);
    point(s, "ResNet18/layer1.0/bn2|OUTPUT"); /* conv2 + bn2 fused: its output feeds the Add */
    point(s, "ResNet18/layer2.0/downsample.1|OUTPUT");
    point(s, "ResNet18/avgpool|OUTPUT");
    nncw_quantizer_setup_free(s);
    s = setup(resnet18_zoo, QCFG(", \"quantize_inputs\": false"));
    ck_assert_int_eq(s->n_weights, 21);
    ck_assert_int_eq(s->n_activations, 29);
    nncw_quantizer_setup_free(s);
    s = setup(resnet18_zoo, QCFG(", \"ignored_scopes\": \"{re}ResNet18/layer3\\\\.\""));
    ck_assert_int_eq(s->n_weights, 16);
    ck_assert_int_eq(s->n_activations, 23);
    point(s, "ResNet18/layer3.1/relu2|OUTPUT");
    nncw_quantizer_setup_free(s);
}
END_TEST

START_TEST(test_setup_is_deterministic)
{
    char *text[2];
    for (int k = 0; k < 2; k++) {
        struct nncw_quantizer_setup *s = setup(resnet18_onnx, QDEV("VPU", ""));
        nncwt_assert_status(nncw_quantizer_setup_describe(s, &text[k]), NNCW_OK);
        nncw_quantizer_setup_free(s);
    }
    ck_assert_str_eq(text[0], text[1]);
    nncw_free(text[0]);
    nncw_free(text[1]);
}
END_TEST

/* VPU: activations asymmetric (q8_tn lists it first) except the average pool's input; the inputs
 * of each Add share one scale
 * ("scales": "unified"), so the 8 Adds make 8 groups of two quantizers */
START_TEST(test_setup_vpu_defaults)
{
    struct nncw_quantizer_setup *s = setup(resnet18_onnx, QDEV("VPU", ""));
    ck_assert_int_eq(s->n_weights, 21);
    ck_assert_int_eq(s->n_activations, 30);
    ck_assert_int_eq(s->n_unified_groups, 8);
    int members[8] = {0};
    for (int i = 0; i < s->n_points; i++) {
        const struct nncw_quantizer_point *p = &s->points[i];
        ck_assert(!p->half_range);
        if (p->is_weight) {
            ck_assert_int_eq(chosen(p)->mode, NNCW_QMODE_SYMMETRIC);
            ck_assert(chosen(p)->per_channel);
            ck_assert_int_eq(p->n_configs, 6); /* q8_w, q4_w, q2_w */
            continue;
        }
        if (p->unified_group >= 0)
            members[p->unified_group]++;
        if (strcmp(p->id, "/layer4/layer4.1/relu_1/Relu|OUTPUT") == 0) {
            /* the average pool's input: q8_ch, symmetric per-channel, comes first */
            ck_assert(chosen(p)->per_channel);
            ck_assert_int_eq(chosen(p)->mode, NNCW_QMODE_SYMMETRIC);
            continue;
        }
        ck_assert_int_eq(chosen(p)->mode, NNCW_QMODE_ASYMMETRIC);
        ck_assert(!chosen(p)->per_channel);
    }
    for (int g = 0; g < 8; g++)
        ck_assert_int_eq(members[g], 2);
    ck_assert_int_eq(point(s, "/layer1/layer1.0/conv2/Conv|OUTPUT")->unified_group,
                     point(s, "/relu/Relu|OUTPUT")->unified_group);
    ck_assert_int_eq(
        point(s, "/layer2/layer2.0/conv2/Conv|OUTPUT")->unified_group,
        point(s, "/layer2/layer2.0/downsample/downsample.0/Conv|OUTPUT")->unified_group);
    check_golden_setup("resnet18_vpu.txt", s);
    nncw_quantizer_setup_free(s);
}
END_TEST

START_TEST(test_setup_trial_and_gpu)
{
    struct nncw_quantizer_setup *s = setup(resnet18_onnx, QDEV("TRIAL", ""));
    ck_assert_str_eq(s->target_device, "TRIAL");
    ck_assert_int_eq(s->n_weights, 21);
    ck_assert_int_eq(s->n_activations, 30);
    for (int i = 0; i < s->n_points; i++) { /* NNCF's default: 8-bit symmetric per-tensor */
        const struct nncw_quantizer_point *p = &s->points[i];
        ck_assert_int_eq(p->n_configs, 1);
        ck_assert(!chosen(p)->per_channel && !p->half_range);
        ck_assert_int_eq(chosen(p)->bits, 8);
        ck_assert_int_eq(chosen(p)->mode, NNCW_QMODE_SYMMETRIC);
    }
    nncw_quantizer_setup_free(s);
    /* TRIAL takes the weights/activations sections as they are */
    s = setup(resnet18_onnx, QDEV("TRIAL", ", \"weights\": {\"bits\": 4, \"per_channel\": true}, "
                                           "\"activations\": {\"mode\": \"asymmetric\"}"));
    ck_assert_int_eq(chosen(point(s, "/conv1/Conv|WEIGHT"))->bits, 4);
    ck_assert(chosen(point(s, "/conv1/Conv|WEIGHT"))->per_channel);
    ck_assert_int_eq(chosen(point(s, "input|OUTPUT"))->mode, NNCW_QMODE_ASYMMETRIC);
    nncw_quantizer_setup_free(s);
    s = setup(resnet18_onnx, QDEV("GPU", ""));
    ck_assert_int_eq(s->n_activations, 30);
    ck_assert(!point(s, "/conv1/Conv|WEIGHT")->half_range);
    nncw_quantizer_setup_free(s);
}
END_TEST

START_TEST(test_setup_overflow_fix_variants)
{
    struct nncw_quantizer_setup *s =
        setup(resnet18_onnx, QCFG(", \"overflow_fix\": \"first_layer_only\""));
    for (int i = 0; i < s->n_points; i++)
        ck_assert_int_eq(s->points[i].half_range,
                         strcmp(s->points[i].id, "/conv1/Conv|WEIGHT") == 0);
    nncw_quantizer_setup_free(s);
    s = setup(resnet18_onnx, QCFG(", \"disable_saturation_fix\": true"));
    for (int i = 0; i < s->n_points; i++)
        ck_assert(!s->points[i].half_range);
    nncw_quantizer_setup_free(s);
}
END_TEST

START_TEST(test_setup_scope_overrides)
{
    struct nncw_quantizer_setup *s =
        setup(resnet18_onnx,
              QCFG(", \"scope_overrides\": {\"activations\": {\"{re}/layer4/\": {\"mode\": "
                   "\"asymmetric\"}}, \"weights\": {\"/fc/Gemm\": {\"per_channel\": false, "
                   "\"initializer\": {\"range\": {\"type\": \"min_max\"}}}}}"));
    /* quantizers feeding only layer4 ops become asymmetric; the pool's input stays symmetric */
    ck_assert_int_eq(chosen(point(s, "/layer4/layer4.1/relu/Relu|OUTPUT"))->mode,
                     NNCW_QMODE_ASYMMETRIC);
    ck_assert_int_eq(chosen(point(s, "/layer3/layer3.1/relu_1/Relu|OUTPUT"))->mode,
                     NNCW_QMODE_ASYMMETRIC);
    ck_assert_int_eq(point(s, "/layer3/layer3.1/relu_1/Relu|OUTPUT")->n_configs, 1);
    ck_assert_int_eq(chosen(point(s, "/layer4/layer4.1/relu_1/Relu|OUTPUT"))->mode,
                     NNCW_QMODE_SYMMETRIC);
    ck_assert_int_eq(chosen(point(s, "/layer3/layer3.1/relu/Relu|OUTPUT"))->mode,
                     NNCW_QMODE_SYMMETRIC);
    const struct nncw_quantizer_point *fc = point(s, "/fc/Gemm|WEIGHT");
    ck_assert(!chosen(fc)->per_channel);
    ck_assert_int_eq(fc->n_configs, 2);
    ck_assert_int_eq(fc->range_init_index, 1); /* the override's own range entry */
    ck_assert_int_eq(point(s, "/conv1/Conv|WEIGHT")->range_init_index, -1);
    ck_assert(chosen(point(s, "/conv1/Conv|WEIGHT"))->per_channel);
    nncw_quantizer_setup_free(s);
}
END_TEST

/* activations.unified_scale_ops links the input quantizers of the listed ops: both Adds of
 * layer1 read through 4 quantizers (each Add: its conv2 output and its identity input) */
START_TEST(test_setup_unified_scale_ops)
{
    struct nncw_quantizer_setup *s =
        setup(resnet18_onnx,
              QCFG(", \"activations\": {\"unified_scale_ops\": [[\"/layer1/layer1.0/Add\", "
                   "\"/layer1/layer1.1/Add\"]]}"));
    ck_assert_int_eq(s->n_unified_groups, 1);
    static const char *const ids[] = {"/relu/Relu|OUTPUT", "/layer1/layer1.0/conv2/Conv|OUTPUT",
                                      "/layer1/layer1.0/relu_1/Relu|OUTPUT",
                                      "/layer1/layer1.1/conv2/Conv|OUTPUT"};
    for (int i = 0; i < 4; i++) {
        const struct nncw_quantizer_point *p = point(s, ids[i]);
        ck_assert_int_eq(p->unified_group, 0);
        ck_assert(!chosen(p)->per_channel);
    }
    int grouped = 0;
    for (int i = 0; i < s->n_points; i++)
        grouped += s->points[i].unified_group >= 0;
    ck_assert_int_eq(grouped, 4);
    nncw_quantizer_setup_free(s);
}
END_TEST

START_TEST(test_setup_per_layer_range_init)
{
    struct nncw_quantizer_setup *s = setup(
        resnet18_onnx,
        QCFG(", \"initializer\": {\"range\": [{\"type\": \"min_max\", \"target_quantizer_group\": "
             "\"weights\", \"target_scopes\": [\"{re}/layer1/\"]}, {\"type\": \"percentile\", "
             "\"ignored_scopes\": [\"input\"]}]}"));
    ck_assert_int_eq(point(s, "/layer1/layer1.0/conv1/Conv|WEIGHT")->range_init_index, 0);
    ck_assert_int_eq(point(s, "/layer1/layer1.0/relu/Relu|OUTPUT")->range_init_index, 1);
    ck_assert_int_eq(point(s, "/conv1/Conv|WEIGHT")->range_init_index, 1);
    ck_assert_int_eq(point(s, "input|OUTPUT")->range_init_index, -1); /* no entry applies */
    nncw_quantizer_setup_free(s);
}
END_TEST

START_TEST(test_setup_scope_errors_name_the_path)
{
    struct nncw_quantizer_setup *s = NULL;
    ck_assert_int_eq(try_setup(resnet18_onnx,
                               QCFG(", \"ignored_scopes\": [\"{re}/layer3/\", \"/layer3/layer3.0/"
                                    "cnv1/Conv\"]"),
                               &s),
                     NNCW_ERR_NOT_FOUND);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(),
                                 "compression.ignored_scopes[1]: '/layer3/layer3.0/cnv1/Conv' "
                                 "matches no node (closest: '/layer3/layer3.0/conv1/Conv'"));
    ck_assert_int_eq(try_setup(resnet18_onnx, QCFG(", \"target_scopes\": \"{re}/layer5/\""), &s),
                     NNCW_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "compression.target_scopes[0]: "
                                                    "'{re}/layer5/' matches no node (closest: "
                                                    "'/layer"));
    /* the setup-stage files of tests/data/configs/bad, on the zoo's resnet18 */
    char list[2048];
    snprintf(list, sizeof list, "%s/configs/bad/quant_expected.txt", NNCW_TEST_DATA);
    FILE *f = fopen(list, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || !strstr(line, "\tsetup\t"))
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *want = strstr(line, "\tsetup\t");
        *want = '\0';
        want += 7;
        char path[2048];
        snprintf(path, sizeof path, "%s/configs/bad/%s", NNCW_TEST_DATA, line);
        struct nncw_config *cfg = NULL;
        nncwt_assert_status(nncw_config_load(path, &cfg), NNCW_OK);
        struct nncw_quant_config *q = NULL;
        nncwt_assert_status(nncw_quant_config_parse(cfg, 0, &q), NNCW_OK);
        struct nncw_hw_config *hw = NULL;
        nncwt_assert_status(nncw_hw_config_load_for_device(q->device, NULL, &hw), NNCW_OK);
        nncwt_assert_status(nncw_quant_config_check_hw(q, hw), NNCW_OK);
        enum nncw_status st = nncw_quantizer_setup_build(resnet18_zoo, q, hw, &s);
        ck_assert_msg(st == NNCW_ERR_NOT_FOUND || st == NNCW_ERR_PARSE, "%s: got %s", line,
                      nncw_status_str(st));
        ck_assert_msg(strstr(nncw_last_error(), want), "%s: '%s' lacks '%s'", line,
                      nncw_last_error(), want);
        nncw_hw_config_free(hw);
        nncw_quant_config_free(q);
        nncw_config_free(cfg);
        checked++;
    }
    fclose(f);
    ck_assert_int_ge(checked, 8);
}
END_TEST

START_TEST(test_setup_constraint_error_names_op)
{
    struct nncw_quantizer_setup *s = NULL;
    /* 4-bit activations exist on VPU (convolutions) but not for its average pooling */
    ck_assert_int_eq(try_setup(resnet18_onnx, QDEV("VPU", ", \"activations\": {\"bits\": 4}"), &s),
                     NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(),
                                 "compression.activations.bits: no activation quantizer of op "
                                 "'/avgpool/GlobalAveragePool' (AvgPool on VPU)"));
    ck_assert_int_eq(nncw_quantizer_setup_build(NULL, NULL, NULL, &s), NNCW_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_setup_out_of_memory_is_reported)
{
    struct nncw_config *cfg = NULL;
    nncwt_assert_status(nncw_config_parse(QDEV("VPU", ""), "t.json", &cfg), NNCW_OK);
    struct nncw_quant_config *q = NULL;
    nncwt_assert_status(nncw_quant_config_parse(cfg, 0, &q), NNCW_OK);
    struct nncw_hw_config *hw = NULL;
    nncwt_assert_status(nncw_hw_config_load_for_device(q->device, NULL, &hw), NNCW_OK);
    int failures = 0;
    for (long n = 1; n < 100000; n += 1 + n / 8) {
        struct nncw_quantizer_setup *s = NULL;
        nncw_alloc_fail_after(n);
        enum nncw_status st = nncw_quantizer_setup_build(resnet18_onnx, q, hw, &s);
        nncw_alloc_fail_after(0);
        if (st == NNCW_OK) {
            nncw_quantizer_setup_free(s);
            break;
        }
        ck_assert_msg(st == NNCW_ERR_NOMEM, "after %ld: %s", n, nncw_last_error());
        ck_assert_ptr_null(s);
        failures++;
    }
    ck_assert_int_gt(failures, 20);
    nncw_hw_config_free(hw);
    nncw_quant_config_free(q);
    nncw_config_free(cfg);
}
END_TEST

/* ---- small graphs ---- */

static int add_input(struct nncw_graph *g, const char *name, enum nncw_dtype dt, int c)
{
    int id;
    nncwt_assert_status(nncw_graph_add_input(g, name, dt, 4, (int64_t[]){1, c, 8, 8}, &id),
                        NNCW_OK);
    return id;
}

static int add_param(struct nncw_graph *g, const char *name, int ndim, const int64_t *shape)
{
    struct nncw_tensor t;
    nncwt_tensor_rand(&t, ndim, shape, -1, 1, 1);
    int id;
    nncwt_assert_status(nncw_graph_add_param(g, name, &t, true, &id), NNCW_OK);
    nncw_tensor_fini(&t);
    return id;
}

static int node(struct nncw_graph *g, enum nncw_op op, const char *scope, int n_in, const int *in,
                struct nncw_node **out)
{
    int y;
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, op, scope, n_in, in, 1, &y, &n), NNCW_OK);
    if (out)
        *out = n;
    return y;
}

/* Conv(cin -> cout, 3x3, group) followed by ReLU; scope "<name>" and "<name>_relu" */
static int conv_relu(struct nncw_graph *g, const char *name, int x, int cin, int cout, int group)
{
    char wname[64], rname[64];
    snprintf(wname, sizeof wname, "%s.weight", name);
    snprintf(rname, sizeof rname, "%s_relu", name);
    int w = add_param(g, wname, 4, (int64_t[]){cout, cin / group, 3, 3});
    struct nncw_node *n;
    int y = node(g, NNCW_OP_CONV, name, 2, (int[]){x, w}, &n);
    if (group > 1)
        nncwt_assert_status(nncw_node_set_attr_int(n, "group", group), NNCW_OK);
    return node(g, NNCW_OP_RELU, rname, 1, &y, NULL);
}

static int conv(struct nncw_graph *g, const char *name, int x, int cin, int cout)
{
    char wname[64];
    snprintf(wname, sizeof wname, "%s.weight", name);
    int w = add_param(g, wname, 4, (int64_t[]){cout, cin, 1, 1});
    return node(g, NNCW_OP_CONV, name, 2, (int[]){x, w}, NULL);
}

/* x -> a, b -> Concat -> conv: the conv's input quantizer passes the Concat as one clone per
 * input; with the hardware config's unified Concat scales the clones share one scale */
START_TEST(test_setup_concat_clones_and_unifies)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x = add_input(g, "x", NNCW_DTYPE_F32, 3);
    int a = conv_relu(g, "a", x, 3, 4, 1);
    int b = conv_relu(g, "b", x, 3, 4, 1);
    struct nncw_node *cat;
    int c = node(g, NNCW_OP_CONCAT, "cat", 2, (int[]){a, b}, &cat);
    nncwt_assert_status(nncw_node_set_attr_int(cat, "axis", 1), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, conv(g, "c", c, 8, 2)), NNCW_OK);

    struct nncw_quantizer_setup *s = setup(g, QCFG(""));
    ck_assert_int_eq(s->n_weights, 3);
    ck_assert_int_eq(s->n_activations, 3); /* x (a and b merged), a_relu, b_relu */
    ck_assert_int_eq(s->n_unified_groups, 1);
    ck_assert_int_eq(point(s, "a_relu|OUTPUT")->unified_group, 0);
    ck_assert_int_eq(point(s, "b_relu|OUTPUT")->unified_group, 0);
    ck_assert_int_eq(point(s, "x|OUTPUT")->unified_group, -1);
    ck_assert_int_eq(point(s, "x|OUTPUT")->n_targets, 2);
    ck_assert_ptr_null(nncw_quantizer_setup_find(s, "cat|OUTPUT"));
    nncw_quantizer_setup_free(s);
    /* TRIAL has no hardware config, so nothing unifies the clones */
    s = setup(g, QDEV("TRIAL", ""));
    ck_assert_int_eq(s->n_activations, 3);
    ck_assert_int_eq(s->n_unified_groups, 0);
    ck_assert_int_eq(point(s, "a_relu|OUTPUT")->unified_group, -1);
    nncw_quantizer_setup_free(s);
    nncw_graph_free(g);
}
END_TEST

/* x -> conv+relu -> {conv2, conv3 | softmax | graph output} */
static struct nncw_graph *branching_graph(int second)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x = add_input(g, "x", NNCW_DTYPE_F32, 3);
    int r = conv_relu(g, "c1", x, 3, 4, 1);
    nncwt_assert_status(nncw_graph_add_output(g, conv(g, "c2", r, 4, 2)), NNCW_OK);
    if (second == 0)
        nncwt_assert_status(nncw_graph_add_output(g, conv(g, "c3", r, 4, 2)), NNCW_OK);
    else if (second == 1)
        nncwt_assert_status(nncw_graph_add_output(g, node(g, NNCW_OP_SOFTMAX, "sm", 1, &r, NULL)),
                            NNCW_OK);
    else
        nncwt_assert_status(nncw_graph_add_output(g, r), NNCW_OK);
    return g;
}

START_TEST(test_setup_branches_merge_when_configs_agree)
{
    struct nncw_graph *g = branching_graph(0);
    struct nncw_quantizer_setup *s = setup(g, QCFG(""));
    ck_assert_int_eq(s->n_activations, 2);
    const struct nncw_quantizer_point *p = point(s, "c1_relu|OUTPUT");
    ck_assert_int_eq(p->n_targets, 2);
    ck_assert_int_eq(p->node, -1);
    ck_assert_int_eq(p->n_configs, 2);
    nncw_quantizer_setup_free(s);
    /* overrides leave c2 only symmetric, c3 only asymmetric configs: nothing in common */
    s = setup(g, QCFG(", \"scope_overrides\": {\"activations\": {\"c3\": {\"mode\": "
                      "\"asymmetric\"}, \"c2\": {\"mode\": \"symmetric\"}}}"));
    ck_assert_int_eq(s->n_activations, 3);
    ck_assert_int_eq(chosen(point(s, "c2|INPUT0"))->mode, NNCW_QMODE_SYMMETRIC);
    ck_assert_int_eq(chosen(point(s, "c3|INPUT0"))->mode, NNCW_QMODE_ASYMMETRIC);
    ck_assert_ptr_null(nncw_quantizer_setup_find(s, "c1_relu|OUTPUT"));
    nncw_quantizer_setup_free(s);
    /* c3 only asymmetric, c2 both: they merge into what they share */
    s = setup(g, QCFG(", \"scope_overrides\": {\"activations\": {\"c3\": {\"mode\": "
                      "\"asymmetric\"}}}"));
    ck_assert_int_eq(s->n_activations, 2);
    p = point(s, "c1_relu|OUTPUT");
    ck_assert_int_eq(p->n_configs, 1);
    ck_assert_int_eq(chosen(p)->mode, NNCW_QMODE_ASYMMETRIC);
    nncw_quantizer_setup_free(s);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_setup_fp32_branch_keeps_quantizer_on_its_input)
{
    struct nncw_graph *g = branching_graph(1);
    struct nncw_quantizer_setup *s = setup(g, QCFG(""));
    ck_assert_int_eq(s->n_activations, 2);
    const struct nncw_quantizer_point *p = point(s, "c2|INPUT0");
    ck_assert_int_ge(p->node, 0);
    ck_assert_str_eq(nncw_node_get_name(nncw_graph_get_node(g, p->node)), "c2");
    ck_assert_int_eq(p->n_targets, 1);
    ck_assert_int_eq(p->targets[0].node, p->node);
    ck_assert_int_eq(p->targets[0].port, 0);
    nncw_quantizer_setup_free(s);
    /* an ignored op is FP32 too */
    nncw_graph_free(g);
    g = branching_graph(0);
    s = setup(g, QCFG(", \"activations\": {\"ignored_scopes\": [\"c3\"]}"));
    point(s, "c2|INPUT0");
    ck_assert_int_eq(s->n_weights, 3); /* activations-only ignoring keeps c3's weight */
    nncw_quantizer_setup_free(s);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_setup_output_branch_and_quantize_outputs)
{
    struct nncw_graph *g = branching_graph(2);
    struct nncw_quantizer_setup *s = setup(g, QCFG(""));
    ck_assert_int_eq(s->n_activations, 2);
    point(s, "c2|INPUT0"); /* the graph output keeps the unquantized value */
    nncw_quantizer_setup_free(s);
    s = setup(g, QCFG(", \"quantize_outputs\": true"));
    const struct nncw_quantizer_point *p = point(s, "c1_relu|OUTPUT");
    ck_assert_int_eq(p->n_targets, 2);
    ck_assert_int_eq(p->targets[1].node, -1); /* the graph output reads through it */
    ck_assert_int_eq(p->n_configs, 1);        /* the output's default: 8-bit symmetric */
    point(s, "c2|OUTPUT");                    /* the other output */
    ck_assert_int_eq(s->n_activations, 3);
    nncw_quantizer_setup_free(s);
    nncw_graph_free(g);
}
END_TEST

/* integer edges: a Reshape whose shape comes from Shape, integer arithmetic on it, an integer
 * model input feeding an embedding */
START_TEST(test_setup_never_crosses_integer_edges)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x = add_input(g, "x", NNCW_DTYPE_F32, 3);
    int r = conv_relu(g, "c1", x, 3, 4, 1);
    int shape = node(g, NNCW_OP_SHAPE, "shape", 1, &r, NULL);
    int twice = node(g, NNCW_OP_ADD, "int_add", 2, (int[]){shape, shape}, NULL);
    int y = node(g, NNCW_OP_RESHAPE, "reshape", 2, (int[]){r, twice}, NULL);
    nncwt_assert_status(nncw_graph_add_output(g, conv(g, "c2", y, 4, 2)), NNCW_OK);
    int idx;
    nncwt_assert_status(
        nncw_graph_add_input(g, "tokens", NNCW_DTYPE_I64, 2, (int64_t[]){1, 5}, &idx), NNCW_OK);
    int table = add_param(g, "emb.weight", 2, (int64_t[]){10, 4});
    int e = node(g, NNCW_OP_EMBEDDING, "emb", 2, (int[]){table, idx}, NULL);
    int wm = add_param(g, "proj.weight", 2, (int64_t[]){4, 3});
    nncwt_assert_status(
        nncw_graph_add_output(g, node(g, NNCW_OP_MATMUL, "proj", 2, (int[]){e, wm}, NULL)),
        NNCW_OK);

    bool *is_int = calloc((size_t)nncw_graph_count_values(g), 1);
    nncwt_assert_status(nncw_quant_integer_values(g, is_int), NNCW_OK);
    ck_assert(is_int[shape] && is_int[twice] && is_int[idx]);
    ck_assert(!is_int[r] && !is_int[y] && !is_int[e]);
    free(is_int);

    struct nncw_quantizer_setup *s = setup(g, QCFG(""));
    /* x, c1_relu (c2's quantizer passes the Reshape on its data input only), emb (the MatMul's
     * input stops at the embedding); no int_add inputs, no tokens quantizer */
    ck_assert_int_eq(s->n_activations, 3);
    point(s, "x|OUTPUT");
    point(s, "c1_relu|OUTPUT");
    point(s, "emb|OUTPUT");
    ck_assert_int_eq(s->n_weights, 4);
    point(s, "emb|WEIGHT");
    point(s, "proj|WEIGHT");
    for (int i = 0; i < s->n_points; i++)
        ck_assert(!s->points[i].is_weight || s->points[i].value_id != table ||
                  s->points[i].targets[0].port == 0);
    nncw_quantizer_setup_free(s);
    nncw_graph_free(g);
}
END_TEST

/* CPU and GPU quantize a depthwise convolution's input per channel (q8_a_ch first) */
START_TEST(test_setup_depthwise_inputs_per_channel)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x = add_input(g, "x", NNCW_DTYPE_F32, 3);
    int r = conv_relu(g, "c1", x, 3, 8, 1);
    int d = conv_relu(g, "dw", r, 8, 8, 8);
    nncwt_assert_status(nncw_graph_add_output(g, conv(g, "pw", d, 8, 4)), NNCW_OK);
    ck_assert_str_eq(nncw_quant_hw_name(g, nncw_graph_get_node(g, 2), NULL),
                     "DepthWiseConvolution");
    struct nncw_quantizer_setup *s = setup(g, QCFG(""));
    const struct nncw_quantizer_point *p = point(s, "c1_relu|OUTPUT");
    ck_assert(chosen(p)->per_channel);
    ck_assert_int_eq(chosen(p)->mode, NNCW_QMODE_SYMMETRIC);
    ck_assert_int_eq(p->n_configs, 4);
    ck_assert(!chosen(point(s, "dw_relu|OUTPUT"))->per_channel);
    nncw_quantizer_setup_free(s);
    s = setup(g, QDEV("VPU", "")); /* VPU: q8_ch first as well */
    ck_assert(chosen(point(s, "c1_relu|OUTPUT"))->per_channel);
    ck_assert_int_eq(chosen(point(s, "dw_relu|OUTPUT"))->mode, NNCW_QMODE_ASYMMETRIC);
    nncw_quantizer_setup_free(s);
    s = setup(g, QDEV("TRIAL", ""));
    ck_assert(!chosen(point(s, "c1_relu|OUTPUT"))->per_channel);
    nncw_quantizer_setup_free(s);
    nncw_graph_free(g);
}
END_TEST

/* a per-channel quantizer passing a Reshape would scale other channels: it keeps only its
 * per-tensor configurations there */
START_TEST(test_setup_per_channel_stops_at_channel_moves)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x = add_input(g, "x", NNCW_DTYPE_F32, 3);
    int r = conv_relu(g, "c1", x, 3, 8, 1);
    struct nncw_tensor t;
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_I64, 1, (int64_t[]){4}), NNCW_OK);
    int64_t *dims = (int64_t *)t.data;
    dims[0] = 1, dims[1] = 8, dims[2] = 8, dims[3] = 8;
    int shape;
    nncwt_assert_status(nncw_graph_add_param(g, "shape", &t, false, &shape), NNCW_OK);
    nncw_tensor_fini(&t);
    int y = node(g, NNCW_OP_RESHAPE, "reshape", 2, (int[]){r, shape}, NULL);
    int d = conv_relu(g, "dw", y, 8, 8, 8);
    nncwt_assert_status(nncw_graph_add_output(g, d), NNCW_OK);
    struct nncw_quantizer_setup *s = setup(g, QCFG(""));
    const struct nncw_quantizer_point *p = point(s, "c1_relu|OUTPUT");
    ck_assert(!chosen(p)->per_channel);
    ck_assert_int_eq(p->n_configs, 2);
    ck_assert_int_eq(s->n_activations, 2);
    nncw_quantizer_setup_free(s);
    /* only per-channel allowed (activations.per_channel: true): it stays below the Reshape */
    s = setup(g, QCFG(", \"scope_overrides\": {\"activations\": {\"dw\": {\"per_channel\": "
                      "true}}}"));
    p = point(s, "reshape|OUTPUT");
    ck_assert(chosen(p)->per_channel);
    ck_assert_ptr_null(nncw_quantizer_setup_find(s, "c1_relu|OUTPUT"));
    nncw_quantizer_setup_free(s);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_fused_patterns_and_traits)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x = add_input(g, "x", NNCW_DTYPE_F32, 3);
    int w = add_param(g, "w", 4, (int64_t[]){4, 3, 1, 1});
    int sc = add_param(g, "bn.s", 1, (int64_t[]){4});
    int c = node(g, NNCW_OP_CONV, "conv", 2, (int[]){x, w}, NULL);                    /* 0 */
    int b = node(g, NNCW_OP_BATCHNORM, "bn", 5, (int[]){c, sc, sc, sc, sc}, NULL);    /* 1 */
    int r = node(g, NNCW_OP_RELU, "relu", 1, &b, NULL);                               /* 2 */
    int a = node(g, NNCW_OP_ADD, "add", 2, (int[]){r, x}, NULL);                      /* 3 */
    int a2 = node(g, NNCW_OP_CLIP, "relu6", 1, &a, NULL);                             /* 4 */
    int b2 = node(g, NNCW_OP_BATCHNORM, "bn2", 5, (int[]){a2, sc, sc, sc, sc}, NULL); /* 5 */
    int wm = add_param(g, "wm", 2, (int64_t[]){8, 4});
    int bias = add_param(g, "bias", 1, (int64_t[]){4});
    int m = node(g, NNCW_OP_MATMUL, "mm", 2, (int[]){b2, wm}, NULL);     /* 6 */
    int mb = node(g, NNCW_OP_ADD, "mm_bias", 2, (int[]){m, bias}, NULL); /* 7 */
    int s1 = node(g, NNCW_OP_SIGMOID, "sig", 1, &mb, NULL);              /* 8 */
    int t = node(g, NNCW_OP_TANH, "tanh", 1, &s1, NULL);                 /* 9 */
    nncwt_assert_status(nncw_graph_add_output(g, t), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, r), NNCW_OK); /* relu's output also leaves */
    int head[10];
    nncwt_assert_status(nncw_quant_fuse_patterns(g, head), NNCW_OK);
    /* conv+bn+relu fuse (only inner values must have one reader: the relu's output may go
     * anywhere); add+relu6+bn2 fuse (arithmetic, activation, BN); matmul+bias+sigmoid fuse;
     * tanh is no fusing activation */
    static const int want[10] = {0, 0, 0, 3, 3, 3, 6, 6, 6, 9};
    for (int i = 0; i < 10; i++)
        ck_assert_msg(head[i] == want[i], "node %d: head %d, expected %d", i, head[i], want[i]);
    ck_assert_int_eq(nncw_quant_default_trait(g, nncw_graph_get_node(g, 2)),
                     NNCW_QTRAIT_AGNOSTIC); /* NNCF 2.0: ReLU is agnostic */
    ck_assert_int_eq(nncw_quant_default_trait(g, nncw_graph_get_node(g, 1)),
                     NNCW_QTRAIT_INPUTS_QUANTIZABLE);
    ck_assert_int_eq(nncw_quant_weight_port(g, nncw_graph_get_node(g, 6)), 1);
    ck_assert_int_eq(nncw_quant_weight_port(g, nncw_graph_get_node(g, 3)), -1);
    ck_assert_str_eq(nncw_quant_hw_name(g, nncw_graph_get_node(g, 6), NULL), "MatMul");
    ck_assert_ptr_null(nncw_quant_hw_name(g, nncw_graph_get_node(g, 9), NULL));
    ck_assert_str_eq(nncw_qtrait_name(NNCW_QTRAIT_CONCAT), "concat");
    ck_assert(nncw_quant_op_moves_channels(NNCW_OP_RESHAPE));
    ck_assert(!nncw_quant_op_moves_channels(NNCW_OP_MAXPOOL));
    (void)a;
    nncw_graph_free(g);
}
END_TEST

/* ---- the torchvision fixtures: summaries against a golden file ---- */

static const char *const fixtures[] = {
    "densenet",           "googlenet_inception", "inception_v3_a",
    "inception_v3_c",     "mobilenet_v2",        "mobilenet_v3_large",
    "mobilenet_v3_small", "resnet18_layer1",     "resnet50_bottleneck",
    "shufflenet_v2",      "squeezenet1_0",       "squeezenet1_1",
};

static void summary_row(const char *name, struct nncw_graph *g, const char *device, char *buf,
                        size_t size)
{
    char json[256];
    snprintf(json, sizeof json, QDEV("%s", ""), device);
    struct nncw_quantizer_setup *s = setup(g, json);
    char kinds[1024];
    producer_kinds(g, s, kinds, sizeof kinds);
    snprintf(buf, size, "| %s | %s | %d | %d | %d | %s |\n", name, device, s->n_weights,
             s->n_activations, s->n_unified_groups, kinds);
    nncw_quantizer_setup_free(s);
}

START_TEST(test_setup_fixture_summaries)
{
    static const char *const devices[] = {"CPU", "GPU", "VPU", "TRIAL"};
    size_t cap = 1 << 16, len = 0;
    char *text = calloc(1, cap);
    len += (size_t)snprintf(text, cap,
                            "| model | device | weight quantizers | activation quantizers | "
                            "unified groups | activation producers |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/onnx/%s/model.onnx", NNCW_TEST_DATA, fixtures[i]);
        struct nncw_graph *g = NULL;
        nncwt_assert_status(load_onnx(path, &g), NNCW_OK);
        for (int d = 0; d < 4; d++) {
            char row[2048];
            summary_row(fixtures[i], g, devices[d], row, sizeof row);
            len += (size_t)snprintf(text + len, cap - len, "%s", row);
        }
        nncw_graph_free(g);
    }
    check_golden("fixtures.md", text);
    free(text);
}
END_TEST

static Suite *quantizer_setup_suite(void)
{
    Suite *s = suite_create("quantizer_setup");
    TCase *tc = tcase_create("resnet18");
    tcase_add_unchecked_fixture(tc, load_models, free_models);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_setup_resnet18_onnx_matches_nncf);
    tcase_add_test(tc, test_setup_resnet18_onnx_without_input_quantizer);
    tcase_add_test(tc, test_setup_resnet18_onnx_ignoring_layer3);
    tcase_add_test(tc, test_setup_resnet18_zoo_matches_pytorch_counts);
    tcase_add_test(tc, test_setup_is_deterministic);
    tcase_add_test(tc, test_setup_vpu_defaults);
    tcase_add_test(tc, test_setup_trial_and_gpu);
    tcase_add_test(tc, test_setup_overflow_fix_variants);
    tcase_add_test(tc, test_setup_scope_overrides);
    tcase_add_test(tc, test_setup_unified_scale_ops);
    tcase_add_test(tc, test_setup_per_layer_range_init);
    tcase_add_test(tc, test_setup_scope_errors_name_the_path);
    tcase_add_test(tc, test_setup_constraint_error_names_op);
    tcase_add_test(tc, test_setup_out_of_memory_is_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("small_graphs");
    tcase_add_test(tc, test_setup_concat_clones_and_unifies);
    tcase_add_test(tc, test_setup_branches_merge_when_configs_agree);
    tcase_add_test(tc, test_setup_fp32_branch_keeps_quantizer_on_its_input);
    tcase_add_test(tc, test_setup_output_branch_and_quantize_outputs);
    tcase_add_test(tc, test_setup_never_crosses_integer_edges);
    tcase_add_test(tc, test_setup_depthwise_inputs_per_channel);
    tcase_add_test(tc, test_setup_per_channel_stops_at_channel_moves);
    tcase_add_test(tc, test_fused_patterns_and_traits);
    suite_add_tcase(s, tc);
    tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_setup_fixture_summaries);
    suite_add_tcase(s, tc);
    return s;
}

/* --report DEVICE FILE...: the markdown rows of docs/quantization-placement.md */
static int report(int argc, char **argv)
{
    for (int i = 3; i < argc; i++) {
        struct nncw_graph *g = NULL;
        if (load_onnx(argv[i], &g) != NNCW_OK) {
            fprintf(stderr, "%s: %s\n", argv[i], nncw_last_error());
            return 1;
        }
        const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        char name[256], row[4096];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "."), base);
        summary_row(name, g, argv[2], row, sizeof row);
        fputs(row, stdout);
        nncw_graph_free(g);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--report") == 0)
        return report(argc, argv);
    return nncwt_run(quantizer_setup_suite());
}
