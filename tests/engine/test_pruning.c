/* Filter pruning end to end: the groups found on ResNet-20, MobileNetV2 and a concat graph, the
 * criteria and kept counts against plain references, the schedules at their boundary epochs,
 * the masks and their gradients, the controller state, the shrunk graph against the masked
 * model (alone and with quantization), FLOPs targets, and bad configs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compression/compression.h"
#include "compression/pruning/pruning_config.h"
#include "compression/pruning/pruning_internal.h"
#include "config/config.h"
#include "core/alloc.h"
#include "data/data.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "zoo/builder.h"
#include "zoo/zoo.h"

static struct nncw_graph *zoo(const char *name)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults(name);
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build(name, &zo, &g), NNCW_OK);
    return g;
}

/* GoogLeNet-like: a stem conv, two branches concatenated, a conv, pooling and a classifier */
static struct nncw_graph *concat_net(void)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    struct nncw_builder *b;
    nncwt_assert_status(nncw_builder_new(g, "Inception", 7, &b), NNCW_OK);
    int x = nncw_build_input(b, "input", 3, 8, 8);
    x = nncw_build_conv2d(b, x, "conv0", 3, 16, 3, 1, 1, 1, true);
    x = nncw_build_relu(b, x, "relu0");
    int a = nncw_build_conv2d(b, x, "branch_a", 16, 16, 1, 1, 0, 1, false);
    a = nncw_build_batchnorm(b, a, "bn_a", 16);
    a = nncw_build_relu(b, a, "relu_a");
    int c = nncw_build_conv2d(b, x, "branch_b", 16, 16, 3, 1, 1, 1, false);
    c = nncw_build_batchnorm(b, c, "bn_b", 16);
    c = nncw_build_relu(b, c, "relu_b");
    struct nncw_node *cat;
    int y = nncw_build_op(b, NNCW_OP_CONCAT, "concat", 2, (int[]){a, c}, &cat);
    nncw_node_set_attr_int(cat, "axis", 1);
    y = nncw_build_conv2d(b, y, "conv_c", 32, 32, 3, 1, 1, 1, false);
    y = nncw_build_batchnorm(b, y, "bn_c", 32);
    y = nncw_build_relu(b, y, "relu_c");
    y = nncw_build_maxpool(b, y, "pool", 2, 2, 0);
    y = nncw_build_flatten(b, y, "flatten");
    y = nncw_build_linear(b, y, "fc", 32 * 4 * 4, 10);
    nncwt_assert_status(nncw_builder_finish(b, y), NNCW_OK);
    return g;
}

static struct nncw_config *config(const char *entry, int h)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"input_info\": {\"sample_size\": [1, 3, %d, %d]}, \"compression\": %s}", h, h,
             entry);
    struct nncw_config *cfg;
    nncwt_assert_status(nncw_config_parse(json, "test.json", &cfg), NNCW_OK);
    return cfg;
}

struct fixture {
    struct nncw_graph *g;
    struct nncw_config *cfg;
    struct nncw_compression *c;
};

static struct fixture compress(struct nncw_graph *g, const char *entry, int h)
{
    struct fixture f = {g, config(entry, h), NULL};
    nncwt_assert_status(nncw_compression_create(f.g, f.cfg, NULL, &f.c), NNCW_OK);
    return f;
}

static void release(struct fixture *f)
{
    nncw_compression_free(f->c);
    nncw_config_free(f->cfg);
    nncw_graph_free(f->g);
}

static const char *member(const struct fixture *f, int group, int m)
{
    const char *name = nncw_compression_get_pruning_group_member(f->c, group, m);
    ck_assert_ptr_nonnull(name);
    return name;
}

/* the group whose first member is named so, or -1 */
static int group_of(const struct fixture *f, const char *name)
{
    for (int i = 0; i < nncw_compression_count_pruning_groups(f->c); i++) {
        struct nncw_pruning_group_info gi;
        nncwt_assert_status(nncw_compression_get_pruning_group(f->c, i, &gi), NNCW_OK);
        for (int m = 0; m < gi.n_members; m++)
            if (!strcmp(member(f, i, m), name))
                return i;
    }
    return -1;
}

static struct nncw_pruning_group_info group(const struct fixture *f, int i)
{
    struct nncw_pruning_group_info gi;
    nncwt_assert_status(nncw_compression_get_pruning_group(f->c, i, &gi), NNCW_OK);
    return gi;
}

/* ---- groups ---- */

START_TEST(test_pruning_resnet20_default_groups)
{
    struct fixture f = compress(zoo("resnet20"), "{\"algorithm\": \"filter_pruning\"}", 32);
    /* block conv1s with stride 1 only: first conv, stride-2 convs and the last residual group
     * are NNCF's defaults left alone */
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 7);
    ck_assert_int_ge(group_of(&f, "ResNet20/layer1.0/conv1"), 0);
    ck_assert_int_ge(group_of(&f, "ResNet20/layer3.2/conv1"), 0);
    ck_assert_int_eq(group_of(&f, "ResNet20/conv1"), -1);
    ck_assert_int_eq(group_of(&f, "ResNet20/layer2.0/conv1"), -1);
    ck_assert_int_eq(group_of(&f, "ResNet20/layer2.0/conv2"), -1);
    ck_assert_int_eq(group_of(&f, "ResNet20/layer3.2/conv2"), -1);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(group(&f, i).n_members, 1);
    release(&f);
}
END_TEST

START_TEST(test_pruning_resnet20_residual_groups)
{
    struct fixture f = compress(zoo("resnet20"),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true, \"prune_downsample_convs\": true}}",
                                32);
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 11);
    /* the stem and every block's conv2 of layer1 meet at the residual adds */
    int stem = group_of(&f, "ResNet20/conv1");
    ck_assert_int_ge(stem, 0);
    ck_assert_int_eq(group(&f, stem).n_members, 4);
    ck_assert_int_eq(group_of(&f, "ResNet20/layer1.2/conv2"), stem);
    /* layer2: the projection shortcut joins the conv2s */
    int l2 = group_of(&f, "ResNet20/layer2.0/downsample.0");
    ck_assert_int_ge(l2, 0);
    ck_assert_int_eq(group_of(&f, "ResNet20/layer2.0/conv2"), l2);
    ck_assert_int_eq(group_of(&f, "ResNet20/layer2.2/conv2"), l2);
    ck_assert_int_eq(group(&f, l2).filters, 32);
    /* the last residual group still reaches the classifier without a conv */
    ck_assert_int_eq(group_of(&f, "ResNet20/layer3.0/downsample.0"), -1);
    release(&f);
}
END_TEST

START_TEST(test_pruning_resnet18_residual_groups)
{
    struct fixture f = compress(zoo("resnet18"),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true, \"prune_downsample_convs\": true}}",
                                32);
    /* every block's conv1 alone (8), and three residual groups: the stem with layer1's
     * conv2s, then each of layer2 and layer3 with its projection shortcut; layer4's residual
     * group reaches the classifier without a conv and is left alone */
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 11);
    for (int b = 1; b <= 4; b++)
        for (int k = 0; k < 2; k++) {
            char name[64];
            snprintf(name, sizeof name, "ResNet18/layer%d.%d/conv1", b, k);
            int g = group_of(&f, name);
            ck_assert_int_ge(g, 0);
            ck_assert_int_eq(group(&f, g).n_members, 1);
        }
    int stem = group_of(&f, "ResNet18/conv1");
    ck_assert_int_ge(stem, 0);
    ck_assert_int_eq(group(&f, stem).n_members, 3);
    ck_assert_int_eq(group_of(&f, "ResNet18/layer1.1/conv2"), stem);
    int l3 = group_of(&f, "ResNet18/layer3.0/downsample.0");
    ck_assert_int_ge(l3, 0);
    ck_assert_int_eq(group(&f, l3).n_members, 3);
    ck_assert_int_eq(group(&f, l3).filters, 256);
    ck_assert_int_eq(group_of(&f, "ResNet18/layer3.1/conv2"), l3);
    ck_assert_int_eq(group_of(&f, "ResNet18/layer4.0/downsample.0"), -1);
    ck_assert_int_eq(group_of(&f, "ResNet18/layer4.1/conv2"), -1);
    release(&f);
}
END_TEST

START_TEST(test_pruning_mobilenet_depthwise_follows)
{
    struct fixture f = compress(zoo("mobilenet_v2"), "{\"algorithm\": \"filter_pruning\"}", 32);
    int g2 = group_of(&f, "MobileNetV2/features.2/conv.0/0");
    ck_assert_int_ge(g2, 0);
    ck_assert_int_eq(group_of(&f, "MobileNetV2/features.2/conv.1/0"), g2);
    ck_assert_int_eq(group(&f, g2).n_members, 2);
    /* the first conv and the depthwise conv it feeds stay */
    ck_assert_int_eq(group_of(&f, "MobileNetV2/features.0/0"), -1);
    ck_assert_int_eq(group_of(&f, "MobileNetV2/features.1/conv.0/0"), -1);
    release(&f);
}
END_TEST

START_TEST(test_pruning_concat_groups)
{
    struct fixture f = compress(concat_net(),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true, \"prune_last_conv\": true}}",
                                8);
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 4);
    ck_assert_int_ne(group_of(&f, "Inception/branch_a"), group_of(&f, "Inception/branch_b"));
    release(&f);
    f = compress(concat_net(), "{\"algorithm\": \"filter_pruning\"}", 8);
    /* defaults: conv0 is first, conv_c last */
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 2);
    release(&f);
}
END_TEST

/* ---- criteria, counts, schedules ---- */

START_TEST(test_pruning_criteria_reference)
{
    const float w[3 * 2] = {3, 4, -1, 0, 0, 2};
    float out[3];
    nncw_filter_importance(NNCW_FILTER_IMPORTANCE_L1, w, 3, 2, out);
    ck_assert_float_eq_tol(out[0], 7, 1e-6);
    ck_assert_float_eq_tol(out[1], 1, 1e-6);
    ck_assert_float_eq_tol(out[2], 2, 1e-6);
    nncw_filter_importance(NNCW_FILTER_IMPORTANCE_L2, w, 3, 2, out);
    ck_assert_float_eq_tol(out[0], 5, 1e-6);
    ck_assert_float_eq_tol(out[1], 1, 1e-6);
    nncw_filter_importance(NNCW_FILTER_IMPORTANCE_GEOMETRIC_MEDIAN, w, 3, 2, out);
    /* |(3,4)-(-1,0)| = sqrt(32), |(3,4)-(0,2)| = sqrt(13), |(-1,0)-(0,2)| = sqrt(5) */
    ck_assert_float_eq_tol(out[0], sqrtf(32) + sqrtf(13), 1e-5);
    ck_assert_float_eq_tol(out[1], sqrtf(32) + sqrtf(5), 1e-5);
    ck_assert_float_eq_tol(out[2], sqrtf(13) + sqrtf(5), 1e-5);
}
END_TEST

START_TEST(test_pruning_kept_counts_round_up_to_8)
{
    ck_assert_int_eq(nncw_prune_kept_count(16, 0.5f), 8);
    ck_assert_int_eq(nncw_prune_kept_count(16, 0.4f), 16); /* 9.6 left: rounds up to 16 */
    ck_assert_int_eq(nncw_prune_kept_count(64, 0.3f), 48); /* 44.8 -> 48 */
    ck_assert_int_eq(nncw_prune_kept_count(40, 0.2f), 32); /* exactly 32 left */
    ck_assert_int_eq(nncw_prune_kept_count(5, 0.9f), 5);   /* fewer than 8: all stay */
    ck_assert_int_eq(nncw_prune_kept_count(32, 0.999f), 8);
    ck_assert_int_eq(nncw_prune_kept_count(32, 0.0f), 32);
}
END_TEST

static struct nncw_pruning_config *parse(const char *entry)
{
    struct nncw_config *cfg = config(entry, 8);
    struct nncw_pruning_config *pc;
    nncwt_assert_status(nncw_pruning_config_parse(cfg, 0, &pc), NNCW_OK);
    nncw_config_free(cfg);
    return pc;
}

START_TEST(test_pruning_schedule_baseline)
{
    struct nncw_pruning_config *pc =
        parse("{\"algorithm\": \"filter_pruning\", \"params\": {\"num_init_steps\": 2}}");
    bool frozen;
    ck_assert_float_eq(nncw_pruning_schedule_level(pc, 0.5f, 0, &frozen), 0.0f);
    ck_assert(!frozen);
    ck_assert_float_eq(nncw_pruning_schedule_level(pc, 0.5f, 1, &frozen), 0.0f);
    ck_assert_float_eq(nncw_pruning_schedule_level(pc, 0.5f, 2, &frozen), 0.5f);
    ck_assert(frozen);
    nncw_pruning_config_free(pc);
}
END_TEST

START_TEST(test_pruning_schedule_exponential)
{
    struct nncw_pruning_config *pc =
        parse("{\"algorithm\": \"filter_pruning\", \"params\": {\"schedule\": \"exponential\", "
              "\"num_init_steps\": 1, \"pruning_steps\": 5}}");
    bool frozen;
    ck_assert_float_eq(nncw_pruning_schedule_level(pc, 0.5f, 0, &frozen), 0.0f);
    ck_assert_float_eq_tol(nncw_pruning_schedule_level(pc, 0.5f, 1, &frozen), 0.0f, 1e-6);
    /* density 2^(-e/4): e = 2 -> 1 - 1/sqrt(2) */
    ck_assert_float_eq_tol(nncw_pruning_schedule_level(pc, 0.5f, 3, &frozen),
                           1.0f - 1.0f / sqrtf(2.0f), 1e-5);
    ck_assert(!frozen);
    ck_assert_float_eq_tol(nncw_pruning_schedule_level(pc, 0.5f, 5, &frozen), 0.5f, 1e-6);
    ck_assert(!frozen);
    ck_assert_float_eq_tol(nncw_pruning_schedule_level(pc, 0.5f, 6, &frozen), 0.5f, 1e-6);
    ck_assert(frozen);
    nncw_pruning_config_free(pc);
}
END_TEST

START_TEST(test_pruning_schedule_exponential_with_bias)
{
    struct nncw_pruning_config *pc =
        parse("{\"algorithm\": \"filter_pruning\", \"pruning_init\": 0.1, \"params\": "
              "{\"schedule\": \"exponential_with_bias\", \"pruning_target\": 0.6, "
              "\"pruning_steps\": 9}}");
    bool frozen;
    /* T = 8: level(0) = init, level(1) = 0.75 target, level(8) = target */
    ck_assert_float_eq_tol(nncw_pruning_schedule_level(pc, 0.6f, 0, &frozen), 0.1f, 1e-5);
    ck_assert_float_eq_tol(nncw_pruning_schedule_level(pc, 0.6f, 1, &frozen), 0.45f, 1e-5);
    ck_assert_float_eq_tol(nncw_pruning_schedule_level(pc, 0.6f, 8, &frozen), 0.6f, 1e-5);
    float mid = nncw_pruning_schedule_level(pc, 0.6f, 4, &frozen);
    ck_assert(mid > 0.45f && mid < 0.6f);
    nncw_pruning_config_free(pc);
}
END_TEST

/* ---- masks, controller, state ---- */

static const float *mask_of(struct nncw_graph *g, const char *param_name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (!strcmp(nncw_graph_get_value_name(g, id), param_name))
            return nncw_tensor_f32(nncw_graph_get_value_tensor(g, id));
    }
    ck_abort_msg("no parameter %s", param_name);
    return NULL;
}

static int zeros(const float *m, int n)
{
    int z = 0;
    for (int i = 0; i < n; i++)
        z += m[i] == 0.0f;
    return z;
}

START_TEST(test_pruning_baseline_epochs_drive_masks)
{
    struct fixture f = compress(concat_net(),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"num_init_steps\": 1, \"prune_first_conv\": true}}",
                                8);
    const char *name = "Inception/branch_b/weight_pruning_mask._binary_filter_pruning_mask";
    nncwt_assert_status(nncw_compression_epoch_step(f.c, 0), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(f.c), NNCW_STAGE_UNCOMPRESSED);
    ck_assert_int_eq(zeros(mask_of(f.g, name), 16), 0);
    nncwt_assert_status(nncw_compression_epoch_step(f.c, 1), NNCW_OK);
    ck_assert_int_eq(nncw_compression_get_stage(f.c), NNCW_STAGE_FULLY_COMPRESSED);
    ck_assert_int_eq(zeros(mask_of(f.g, name), 16), 8);
    /* the batch norm after it shares the mask */
    const float *w = mask_of(f.g, name);
    const float *bn = mask_of(f.g, "Inception/bn_b/scale_pruning_mask._binary_filter_pruning_mask");
    for (int i = 0; i < 16; i++)
        ck_assert_float_eq(w[i], bn[i]);
    float rate;
    nncwt_assert_status(nncw_compression_get_rate(f.c, &rate), NNCW_OK);
    ck_assert_float_eq_tol(rate, 0.5f, 1e-6);
    char *text;
    nncwt_assert_status(nncw_compression_statistics(f.c, &text), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(text, "FLOPS pruning level"));
    ck_assert_ptr_nonnull(strstr(text, "Inception/branch_b"));
    nncw_free(text);
    release(&f);
}
END_TEST

/* the weights' filters with the smallest L2 norm are the ones masked */
START_TEST(test_pruning_masks_keep_largest_filters)
{
    struct fixture f = compress(concat_net(),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true}}",
                                8);
    nncwt_assert_status(nncw_compression_set_rate(f.c, 0.5f), NNCW_OK);
    const float *w = mask_of(f.g, "branch_a.weight"); /* [16, 16, 1, 1] */
    const float *m =
        mask_of(f.g, "Inception/branch_a/weight_pruning_mask._binary_filter_pruning_mask");
    float norms[16], sorted[16];
    for (int i = 0; i < 16; i++) {
        double s = 0;
        for (int k = 0; k < 16; k++)
            s += (double)w[i * 16 + k] * w[i * 16 + k];
        norms[i] = sorted[i] = (float)sqrt(s);
    }
    for (int i = 0; i < 16; i++) /* the 8th largest is the threshold */
        for (int j = i + 1; j < 16; j++)
            if (sorted[j] > sorted[i]) {
                float t = sorted[i];
                sorted[i] = sorted[j], sorted[j] = t;
            }
    for (int i = 0; i < 16; i++)
        ck_assert_float_eq(m[i], (norms[i] >= sorted[7] ? 1.0f : 0.0f));
    release(&f);
}
END_TEST

static float *forward(struct nncw_graph *g, const struct nncw_tensor *x, bool backward,
                      int64_t *n_out)
{
    struct nncw_exec_options o = {.batch = x->shape[0], .training = backward, .backward = backward};
    struct nncw_exec *ex;
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    memcpy(nncw_exec_get_input(ex, 0)->data, x->data, nncw_tensor_nbytes(x));
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    const struct nncw_tensor *y = nncw_exec_get_output(ex, 0);
    *n_out = nncw_tensor_numel(y);
    float *out = malloc((size_t)*n_out * sizeof *out);
    memcpy(out, y->data, (size_t)*n_out * sizeof *out);
    if (backward) {
        struct nncw_tensor dy;
        nncwt_tensor_rand(&dy, y->ndim, y->shape, -1, 1, 5);
        nncwt_assert_status(nncw_graph_alloc_grads(g), NNCW_OK);
        nncw_graph_zero_grads(g);
        nncwt_assert_status(nncw_exec_backward(ex, (const struct nncw_tensor *[]){&dy}), NNCW_OK);
        nncw_tensor_fini(&dy);
    }
    nncw_exec_free(ex);
    return out;
}

static int param_id(struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (!strcmp(nncw_graph_get_value_name(g, id), name))
            return id;
    }
    ck_abort_msg("no parameter %s", name);
    return -1;
}

START_TEST(test_pruning_masked_filters_get_no_gradient)
{
    struct fixture f = compress(concat_net(),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true}}",
                                8);
    nncwt_assert_status(nncw_compression_set_rate(f.c, 0.5f), NNCW_OK);
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, 8, 8}, -1, 1, 3);
    int64_t n;
    free(forward(f.g, &x, true, &n));
    const float *m =
        mask_of(f.g, "Inception/branch_b/weight_pruning_mask._binary_filter_pruning_mask");
    const float *gw =
        nncw_tensor_f32(nncw_graph_get_value_grad(f.g, param_id(f.g, "branch_b.weight")));
    const float *gb = nncw_tensor_f32(nncw_graph_get_value_grad(f.g, param_id(f.g, "bn_b.weight")));
    int nonzero_kept = 0;
    for (int i = 0; i < 16; i++) {
        double s = 0;
        for (int k = 0; k < 16 * 9; k++)
            s += fabs(gw[i * 16 * 9 + k]);
        if (m[i] == 0.0f) {
            ck_assert(s == 0.0);
            ck_assert_float_eq(gb[i], 0.0f);
        } else
            nonzero_kept += s > 0;
    }
    ck_assert_int_gt(nonzero_kept, 0);
    nncw_tensor_fini(&x);
    release(&f);
}
END_TEST

START_TEST(test_pruning_state_round_trip)
{
    const char *entry = "{\"algorithm\": \"filter_pruning\", \"params\": {\"schedule\": "
                        "\"exponential\", \"pruning_steps\": 4, \"prune_first_conv\": true}}";
    struct fixture a = compress(concat_net(), entry, 8);
    nncwt_assert_status(nncw_compression_epoch_step(a.c, 0), NNCW_OK);
    nncwt_assert_status(nncw_compression_epoch_step(a.c, 2), NNCW_OK);
    nncwt_assert_status(nncw_compression_exclude_pruning_group(a.c, 1, true), NNCW_OK);
    const struct nncw_compression_algo *pa = nncw_compression_find_algo(a.c, "filter_pruning");
    char *state;
    nncwt_assert_status(pa->get_state(pa->self, &state), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(state, "\"epoch\":2"));
    struct fixture b = compress(concat_net(), entry, 8);
    const struct nncw_compression_algo *pb = nncw_compression_find_algo(b.c, "filter_pruning");
    nncwt_assert_status(pb->set_state(pb->self, state), NNCW_OK);
    char *again;
    nncwt_assert_status(pb->get_state(pb->self, &again), NNCW_OK);
    ck_assert_str_eq(state, again);
    ck_assert(group(&b, 1).excluded);
    /* the next epoch continues the schedule identically */
    nncwt_assert_status(nncw_compression_epoch_step(a.c, 3), NNCW_OK);
    nncwt_assert_status(nncw_compression_epoch_step(b.c, 3), NNCW_OK);
    for (int i = 0; i < nncw_compression_count_pruning_groups(a.c); i++)
        ck_assert_int_eq(group(&a, i).kept, group(&b, i).kept);
    nncwt_assert_status(pb->set_state(pb->self, "{\"epoch\": 1}"), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "level"));
    nncwt_assert_status(pb->set_state(pb->self,
                                      "{\"epoch\":1,\"level\":0.5,\"target\":0.5,\"frozen\":false,"
                                      "\"rate_set\":false,\"excluded\":[99]}"),
                        NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "group 99"));
    nncw_free(state);
    nncw_free(again);
    release(&a);
    release(&b);
}
END_TEST

START_TEST(test_pruning_exclude_and_target)
{
    struct fixture f = compress(concat_net(),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true}}",
                                8);
    nncwt_assert_status(nncw_compression_set_rate(f.c, 0.5f), NNCW_OK);
    ck_assert_int_eq(group(&f, 0).kept, 8);
    nncwt_assert_status(nncw_compression_exclude_pruning_group(f.c, 0, true), NNCW_OK);
    ck_assert_int_eq(group(&f, 0).kept, 16);
    struct nncw_pruning_cost cost;
    nncwt_assert_status(nncw_compression_get_pruning_cost(f.c, &cost), NNCW_OK);
    ck_assert_int_lt(cost.flops_pruned, cost.flops_full);
    ck_assert_int_lt(cost.params_pruned, cost.params_full);
    nncwt_assert_status(nncw_compression_exclude_pruning_group(f.c, 9, true), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_compression_set_pruning_target(f.c, 1.5f), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_compression_set_rate(f.c, -0.1f), NNCW_ERR_INVALID_ARG);
    release(&f);
}
END_TEST

START_TEST(test_pruning_flops_target_met)
{
    struct fixture f = compress(zoo("resnet20"),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"pruning_flops_target\": 0.3, \"prune_first_conv\": true, "
                                "\"prune_downsample_convs\": true}}",
                                32);
    nncwt_assert_status(nncw_compression_epoch_step(f.c, 0), NNCW_OK);
    struct nncw_pruning_cost cost;
    nncwt_assert_status(nncw_compression_get_pruning_cost(f.c, &cost), NNCW_OK);
    ck_assert((double)cost.flops_pruned <= 0.7 * (double)cost.flops_full);
    /* the smallest level reaching the target: one step less is not enough */
    float level = cost.level;
    ck_assert_float_gt(level, 0.0f);
    ck_assert((double)cost.flops_pruned > 0.3 * (double)cost.flops_full);
    /* NNCF's compression_rate with a FLOPs target is the FLOPs reduction measured, not the
     * filter level; setting it (accuracy-aware training) aims at a FLOPs reduction */
    float rate;
    nncwt_assert_status(nncw_compression_get_rate(f.c, &rate), NNCW_OK);
    ck_assert_float_eq_tol(rate, 1.0 - (double)cost.flops_pruned / (double)cost.flops_full, 1e-6);
    ck_assert_float_ge(rate, 0.3f);
    ck_assert_float_ne(rate, level);
    nncwt_assert_status(nncw_compression_set_rate(f.c, 0.5f), NNCW_OK);
    nncwt_assert_status(nncw_compression_get_pruning_cost(f.c, &cost), NNCW_OK);
    nncwt_assert_status(nncw_compression_get_rate(f.c, &rate), NNCW_OK);
    ck_assert_float_ge(rate, 0.5f);
    ck_assert_float_eq_tol(rate, 1.0 - (double)cost.flops_pruned / (double)cost.flops_full, 1e-6);
    ck_assert_int_eq(nncw_compression_get_stage(f.c), NNCW_STAGE_FULLY_COMPRESSED);
    release(&f);
}
END_TEST

START_TEST(test_pruning_all_weights_global)
{
    struct fixture f = compress(zoo("resnet20"),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"all_weights\": true}}",
                                32);
    nncwt_assert_status(nncw_compression_set_rate(f.c, 0.5f), NNCW_OK);
    int64_t all = 0, kept = 0;
    for (int i = 0; i < nncw_compression_count_pruning_groups(f.c); i++) {
        struct nncw_pruning_group_info gi = group(&f, i);
        ck_assert_int_eq(gi.kept % 8, 0);
        ck_assert_int_ge(gi.kept, 8);
        all += gi.filters, kept += gi.kept;
    }
    /* about half pruned overall; rounding up to 8 per group keeps a little more */
    ck_assert(kept >= all / 2 && kept <= all / 2 + 8 * nncw_compression_count_pruning_groups(f.c));
    release(&f);
}
END_TEST

/* ---- shrinking ---- */

static void check_shrunk_equals_masked(struct fixture *f, int h, float level)
{
    nncwt_assert_status(nncw_compression_set_rate(f->c, level), NNCW_OK);
    struct nncw_graph *small;
    char *table;
    nncwt_assert_status(nncw_compression_prune_graph(f->c, &small, &table), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(table, "->"));
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, h, h}, -1, 1, 11);
    int64_t n1, n2;
    float *a = forward(f->g, &x, false, &n1), *b = forward(small, &x, false, &n2);
    ck_assert_int_eq(n1, n2);
    for (int64_t i = 0; i < n1; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-4f + 1e-4f * fabsf(a[i]), "out[%lld]: %g vs %g",
                      (long long)i, (double)a[i], (double)b[i]);
    ck_assert_int_lt(nncw_graph_count_param_elements(small), nncw_graph_count_param_elements(f->g));
    struct nncw_pruning_cost cost;
    nncwt_assert_status(nncw_compression_get_pruning_cost(f->c, &cost), NNCW_OK);
    int64_t macs, flops;
    nncwt_assert_status(nncw_graph_count_flops(small, 1, &macs, &flops), NNCW_OK);
    ck_assert_int_eq(2 * macs, cost.flops_pruned);
    free(a);
    free(b);
    nncw_free(table);
    nncw_tensor_fini(&x);
    nncw_graph_free(small);
}

START_TEST(test_pruning_shrunk_concat_equals_masked)
{
    struct fixture f = compress(concat_net(),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true, \"prune_last_conv\": true}}",
                                8);
    check_shrunk_equals_masked(&f, 8, 0.5f);
    release(&f);
}
END_TEST

START_TEST(test_pruning_shrunk_resnet20_equals_masked)
{
    struct fixture f = compress(zoo("resnet20"),
                                "{\"algorithm\": \"filter_pruning\", \"params\": "
                                "{\"prune_first_conv\": true, \"prune_downsample_convs\": true, "
                                "\"filter_importance\": \"geometric_median\"}}",
                                32);
    check_shrunk_equals_masked(&f, 32, 0.4f);
    release(&f);
}
END_TEST

START_TEST(test_pruning_shrunk_mobilenet_equals_masked)
{
    struct fixture f = compress(zoo("mobilenet_v2"), "{\"algorithm\": \"filter_pruning\"}", 32);
    check_shrunk_equals_masked(&f, 32, 0.5f);
    release(&f);
}
END_TEST

START_TEST(test_pruning_with_quantization_shrinks)
{
    struct fixture f = compress(concat_net(),
                                "[{\"algorithm\": \"quantization\", \"weights\": "
                                "{\"per_channel\": true}}, {\"algorithm\": "
                                "\"filter_pruning\", \"params\": {\"prune_first_conv\": true, "
                                "\"prune_last_conv\": true}}]",
                                8);
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 4);
    check_shrunk_equals_masked(&f, 8, 0.5f);
    release(&f);
}
END_TEST

START_TEST(test_pruning_shrink_needs_pruning)
{
    struct fixture f = compress(concat_net(), "{\"algorithm\": \"magnitude_sparsity\"}", 8);
    struct nncw_graph *small;
    nncwt_assert_status(nncw_compression_prune_graph(f.c, &small, NULL), NNCW_ERR_NOT_FOUND);
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 0);
    release(&f);
    f = compress(concat_net(),
                 "{\"algorithm\": \"filter_pruning\", \"params\": {\"prune_batch_norms\": false}}",
                 8);
    nncwt_assert_status(nncw_compression_prune_graph(f.c, &small, NULL), NNCW_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "prune_batch_norms"));
    release(&f);
}
END_TEST

/* ---- bad configs ---- */

static void expect_error(const char *entry, enum nncw_status code, const char *text)
{
    struct nncw_graph *g = concat_net();
    int nodes = nncw_graph_count_nodes(g);
    struct nncw_config *cfg = config(entry, 8);
    struct nncw_compression *c = NULL;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), code);
    ck_assert_msg(strstr(nncw_last_error(), text), "'%s' not in: %s", text, nncw_last_error());
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}

START_TEST(test_pruning_bad_configs)
{
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"pruning_tagret\": 0.5}}",
                 NNCW_ERR_PARSE, "compression[0].params.pruning_tagret");
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"pruning_target\": 1.5}}",
                 NNCW_ERR_PARSE, "compression[0].params.pruning_target");
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"pruning_target\": 0.5, "
                 "\"pruning_flops_target\": 0.3}}",
                 NNCW_ERR_PARSE, "exclude each other");
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"schedule\": \"linear\"}}",
                 NNCW_ERR_PARSE, "compression[0].params.schedule");
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"pruning_steps\": 0}}",
                 NNCW_ERR_PARSE, "compression[0].params.pruning_steps");
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"all_weights\": 1}}",
                 NNCW_ERR_PARSE, "compression[0].params.all_weights");
    expect_error("{\"algorithm\": \"filter_pruning\", \"pruning_init\": 0.7}", NNCW_ERR_PARSE,
                 "compression[0].pruning_init");
    expect_error("{\"algorithm\": \"filter_pruning\", \"initializer\": {\"batchnorm_adaptation\": "
                 "{\"num_bn_adaptation_samples\": -1}}}",
                 NNCW_ERR_PARSE,
                 "compression[0].initializer.batchnorm_adaptation.num_bn_adaptation_samples");
    expect_error("{\"algorithm\": \"filter_pruning\", \"initializer\": {\"batchnorm\": {}}}",
                 NNCW_ERR_PARSE, "compression[0].initializer.batchnorm: unknown key");
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"legr_params\": "
                 "{\"generations\": 0}}}",
                 NNCW_ERR_PARSE, "compression[0].params.legr_params.generations");
    expect_error("{\"algorithm\": \"filter_pruning\", \"params\": {\"load_ranking_coeffs_path\": "
                 "\"/nonexistent/coeffs.json\"}}",
                 NNCW_ERR_IO, "/nonexistent/coeffs.json");
    expect_error("{\"algorithm\": \"filter_pruning\", \"ignored_scopes\": [\"Inception/nope\"]}",
                 NNCW_ERR_NOT_FOUND, "Inception/nope");
}
END_TEST

START_TEST(test_pruning_ignored_scope_drops_group)
{
    struct fixture f = compress(concat_net(),
                                "{\"algorithm\": \"filter_pruning\", \"ignored_scopes\": "
                                "[\"Inception/branch_a\"]}",
                                8);
    ck_assert_int_eq(nncw_compression_count_pruning_groups(f.c), 1);
    ck_assert_int_ge(group_of(&f, "Inception/branch_b"), 0);
    release(&f);
}
END_TEST

/* ---- LeGR ---- */

static struct nncw_dataset *synthetic(int64_t count, uint64_t seed)
{
    struct nncw_synthetic_opts so = {.count = count,
                                     .channels = 3,
                                     .height = 8,
                                     .width = 8,
                                     .num_classes = 10,
                                     .seed = 3,
                                     .sample_seed = seed};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    return ds;
}

struct progress_log {
    int calls, stop_after;
    double best, last_reward;
};

static bool on_generation(void *user, int generation, int generations, double reward, double best)
{
    struct progress_log *p = user;
    ck_assert_int_eq(generation, p->calls);
    ck_assert_int_gt(generations, generation);
    ck_assert(best >= reward);
    p->calls++;
    p->best = best;
    p->last_reward = reward;
    return p->stop_after == 0 || p->calls < p->stop_after;
}

static void legr_coeffs(const struct fixture *f, float *a, float *b)
{
    for (int i = 0; i < nncw_compression_count_pruning_groups(f->c); i++)
        nncwt_assert_status(nncw_compression_get_ranking_coeffs(f->c, i, &a[i], &b[i]), NNCW_OK);
}

static const char legr_entry[] = "{\"algorithm\": \"filter_pruning\", \"params\": "
                                 "{\"prune_first_conv\": true, \"prune_last_conv\": true}}";

START_TEST(test_pruning_legr_seeded_and_restores_weights)
{
    struct nncw_dataset *tr = synthetic(64, 1), *val = synthetic(32, 2);
    struct nncw_legr_options o = nncw_legr_defaults();
    o.train = tr, o.val = val, o.generations = 5, o.train_steps = 2, o.batch_size = 16;
    o.max_pruning = 0.3f;
    float a1[4], b1[4], a2[4], b2[4];
    struct fixture f = compress(concat_net(), legr_entry, 8);
    float w0 = mask_of(f.g, "branch_b.weight")[5];
    struct progress_log log = {0};
    o.progress = on_generation, o.user = &log;
    nncwt_assert_status(nncw_compression_legr_search(f.c, &o), NNCW_OK);
    ck_assert_int_eq(log.calls, 5);
    ck_assert_float_eq(mask_of(f.g, "branch_b.weight")[5], w0); /* weights restored */
    legr_coeffs(&f, a1, b1);
    for (int i = 0; i < 4; i++) /* every candidate's a is positive: exp(N) and its mutations */
        ck_assert_float_gt(a1[i], 0.0f);
    /* the same seed, the same coefficients */
    struct fixture g = compress(concat_net(), legr_entry, 8);
    o.progress = NULL;
    nncwt_assert_status(nncw_compression_legr_search(g.c, &o), NNCW_OK);
    legr_coeffs(&g, a2, b2);
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(a1[i], a2[i]);
        ck_assert_float_eq(b1[i], b2[i]);
    }
    /* saved and loaded */
    char path[] = "/tmp/nncw_legr_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    nncwt_assert_status(nncw_compression_save_ranking_coeffs(f.c, path), NNCW_OK);
    struct fixture h = compress(concat_net(), legr_entry, 8);
    nncwt_assert_status(nncw_compression_load_ranking_coeffs(h.c, path), NNCW_OK);
    legr_coeffs(&h, a2, b2);
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq_tol(a1[i], a2[i], 1e-6);
        ck_assert_float_eq_tol(b1[i], b2[i], 1e-6);
    }
    FILE *fp = fopen(path, "w");
    fputs("{\"Inception/conv0\": [1, 0]}", fp);
    fclose(fp);
    nncwt_assert_status(nncw_compression_load_ranking_coeffs(h.c, path), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Inception/branch_a"));
    unlink(path);
    release(&f);
    release(&g);
    release(&h);
    nncw_dataset_free(tr);
    nncw_dataset_free(val);
}
END_TEST

START_TEST(test_pruning_legr_stop_keeps_best)
{
    struct nncw_dataset *tr = synthetic(64, 1), *val = synthetic(32, 2);
    struct nncw_legr_options o = nncw_legr_defaults();
    o.train = tr, o.val = val, o.generations = 10, o.train_steps = 1, o.batch_size = 16;
    struct progress_log log = {.stop_after = 2};
    o.progress = on_generation, o.user = &log;
    struct fixture f = compress(concat_net(), legr_entry, 8);
    nncwt_assert_status(nncw_compression_legr_search(f.c, &o), NNCW_ERR_CANCELLED);
    ck_assert_int_eq(log.calls, 2);
    float a, b;
    nncwt_assert_status(nncw_compression_get_ranking_coeffs(f.c, 0, &a, &b), NNCW_OK);
    ck_assert(a > 0.0f);
    /* one generation: its only candidate is the identity, and it is what is kept (the last
     * candidate of a longer run is random: keeping it instead of the best shows here) */
    o.generations = 1, o.progress = NULL;
    nncwt_assert_status(nncw_compression_legr_search(f.c, &o), NNCW_OK);
    for (int i = 0; i < 4; i++) {
        nncwt_assert_status(nncw_compression_get_ranking_coeffs(f.c, i, &a, &b), NNCW_OK);
        ck_assert_float_eq(a, 1.0f);
        ck_assert_float_eq(b, 0.0f);
    }
    /* two generations, the first random, the second the identity: the better one is kept, and
     * the progress callback saw which one that was */
    struct progress_log two = {0};
    o.generations = 2, o.progress = on_generation, o.user = &two;
    nncwt_assert_status(nncw_compression_legr_search(f.c, &o), NNCW_OK);
    nncwt_assert_status(nncw_compression_get_ranking_coeffs(f.c, 0, &a, &b), NNCW_OK);
    ck_assert_int_eq(two.calls, 2);
    ck_assert(two.last_reward == two.best ? (a == 1.0f && b == 0.0f) : (a != 1.0f || b != 0.0f));
    o.val = NULL;
    nncwt_assert_status(nncw_compression_legr_search(f.c, &o), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_compression_save_ranking_coeffs(f.c, "/nonexistent/x.json"),
                        NNCW_ERR_IO);
    release(&f);
    nncw_dataset_free(tr);
    nncw_dataset_free(val);
}
END_TEST

/* a config's learned_ranking runs the search on the initialisation data and saves the file */
START_TEST(test_pruning_legr_from_config)
{
    char path[] = "/tmp/nncw_legr_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char entry[512];
    snprintf(entry, sizeof entry,
             "{\"algorithm\": \"filter_pruning\", \"params\": {\"interlayer_ranking_type\": "
             "\"learned_ranking\", \"legr_params\": {\"generations\": 2, \"train_steps\": 1, "
             "\"max_pruning\": 0.3}, \"save_ranking_coeffs_path\": \"%s\", "
             "\"prune_first_conv\": true, \"prune_last_conv\": true}, "
             "\"initializer\": {\"batchnorm_adaptation\": {\"num_bn_adaptation_samples\": 0}}}",
             path);
    struct nncw_dataset *ds = synthetic(40, 1);
    struct fixture f = {concat_net(), config(entry, 8), NULL};
    struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 1};
    nncwt_assert_status(nncw_compression_create(f.g, f.cfg, &init, &f.c), NNCW_OK);
    FILE *fp = fopen(path, "r");
    char text[1024] = "";
    ck_assert_int_gt((int)fread(text, 1, sizeof text - 1, fp), 0);
    fclose(fp);
    ck_assert_ptr_nonnull(strstr(text, "\"Inception/branch_b\": ["));
    unlink(path);
    release(&f);
    nncw_dataset_free(ds);
}
END_TEST

static Suite *pruning_suite(void)
{
    Suite *s = suite_create("pruning");
    TCase *tc = tcase_create("groups");
    tcase_add_test(tc, test_pruning_resnet20_default_groups);
    tcase_add_test(tc, test_pruning_resnet20_residual_groups);
    tcase_add_test(tc, test_pruning_resnet18_residual_groups);
    tcase_add_test(tc, test_pruning_mobilenet_depthwise_follows);
    tcase_add_test(tc, test_pruning_concat_groups);
    tcase_add_test(tc, test_pruning_ignored_scope_drops_group);
    suite_add_tcase(s, tc);
    tc = tcase_create("criteria_schedules");
    tcase_add_test(tc, test_pruning_criteria_reference);
    tcase_add_test(tc, test_pruning_kept_counts_round_up_to_8);
    tcase_add_test(tc, test_pruning_schedule_baseline);
    tcase_add_test(tc, test_pruning_schedule_exponential);
    tcase_add_test(tc, test_pruning_schedule_exponential_with_bias);
    suite_add_tcase(s, tc);
    tc = tcase_create("controller");
    tcase_add_test(tc, test_pruning_baseline_epochs_drive_masks);
    tcase_add_test(tc, test_pruning_masks_keep_largest_filters);
    tcase_add_test(tc, test_pruning_masked_filters_get_no_gradient);
    tcase_add_test(tc, test_pruning_state_round_trip);
    tcase_add_test(tc, test_pruning_exclude_and_target);
    tcase_add_test(tc, test_pruning_flops_target_met);
    tcase_add_test(tc, test_pruning_all_weights_global);
    suite_add_tcase(s, tc);
    tc = tcase_create("shrink");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pruning_shrunk_concat_equals_masked);
    tcase_add_test(tc, test_pruning_shrunk_resnet20_equals_masked);
    tcase_add_test(tc, test_pruning_shrunk_mobilenet_equals_masked);
    tcase_add_test(tc, test_pruning_with_quantization_shrinks);
    tcase_add_test(tc, test_pruning_shrink_needs_pruning);
    suite_add_tcase(s, tc);
    tc = tcase_create("legr");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pruning_legr_seeded_and_restores_weights);
    tcase_add_test(tc, test_pruning_legr_stop_keeps_best);
    tcase_add_test(tc, test_pruning_legr_from_config);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_pruning_bad_configs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(pruning_suite());
}
