#include "zoo/zoo.h"

#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "zoo/builder.h"

/* ---- the small CNN ---- */
static int build_cnn(struct nncw_builder *b, const struct nncw_zoo_options *o)
{
    if (o->in_h < 10 || o->in_w < 10)
        return -1;
    int x = nncw_build_input(b, "input", o->in_c, o->in_h, o->in_w);
    x = nncw_build_conv2d(b, x, "conv1", o->in_c, 32, 3, 1, 0, 1, true);
    x = nncw_build_relu(b, x, "relu1");
    x = nncw_build_maxpool(b, x, "pool1", 2, 2, 0);
    x = nncw_build_conv2d(b, x, "conv2", 32, 64, 3, 1, 0, 1, true);
    x = nncw_build_relu(b, x, "relu2");
    x = nncw_build_maxpool(b, x, "pool2", 2, 2, 0);
    int h = ((o->in_h - 2) / 2 - 2) / 2, w = ((o->in_w - 2) / 2 - 2) / 2;
    x = nncw_build_flatten(b, x, "flatten");
    x = nncw_build_linear(b, x, "fc1", 64 * h * w, 128);
    x = nncw_build_relu(b, x, "relu3");
    return nncw_build_linear(b, x, "fc2", 128, o->classes);
}

/* ---- ResNet basic block (torchvision layout) ---- */
static int basic_block(struct nncw_builder *b, int x, const char *name, int in_c, int out_c,
                       int stride)
{
    nncw_builder_push(b, name);
    int y = nncw_build_conv2d(b, x, "conv1", in_c, out_c, 3, stride, 1, 1, false);
    y = nncw_build_batchnorm(b, y, "bn1", out_c);
    y = nncw_build_relu(b, y, "relu1");
    y = nncw_build_conv2d(b, y, "conv2", out_c, out_c, 3, 1, 1, 1, false);
    y = nncw_build_batchnorm(b, y, "bn2", out_c);
    int shortcut = x;
    if (stride != 1 || in_c != out_c) {
        shortcut = nncw_build_conv2d(b, x, "downsample.0", in_c, out_c, 1, stride, 0, 1, false);
        shortcut = nncw_build_batchnorm(b, shortcut, "downsample.1", out_c);
    }
    y = nncw_build_add(b, y, shortcut, "add");
    y = nncw_build_relu(b, y, "relu2");
    nncw_builder_pop(b);
    return y;
}

static int resnet_stages(struct nncw_builder *b, int x, int stem_c, int n_stages,
                         const int *widths, int blocks, int classes)
{
    int c = stem_c;
    for (int s = 0; s < n_stages; s++)
        for (int k = 0; k < blocks; k++) {
            char blk[32];
            snprintf(blk, sizeof blk, "layer%d.%d", s + 1, k);
            x = basic_block(b, x, blk, c, widths[s], k == 0 && s > 0 ? 2 : 1);
            c = widths[s];
        }
    x = nncw_build_global_avgpool(b, x, "avgpool");
    x = nncw_build_flatten(b, x, "flatten");
    return nncw_build_linear(b, x, "fc", c, classes);
}

static int resnet_stem(struct nncw_builder *b, const struct nncw_zoo_options *o, int c)
{
    nncw_builder_set_init(b, NNCW_INIT_KAIMING_FAN_OUT, NNCW_INIT_DEFAULT);
    int x = nncw_build_input(b, "input", o->in_c, o->in_h, o->in_w);
    x = nncw_build_conv2d(b, x, "conv1", o->in_c, c, 3, 1, 1, 1, false);
    x = nncw_build_batchnorm(b, x, "bn1", c);
    return nncw_build_relu(b, x, "relu");
}

static int build_resnet18(struct nncw_builder *b, const struct nncw_zoo_options *o)
{
    static const int widths[] = {64, 128, 256, 512};
    int x = resnet_stem(b, o, 64);
    return resnet_stages(b, x, 64, 4, widths, 2, o->classes);
}

static int build_resnet20(struct nncw_builder *b, const struct nncw_zoo_options *o)
{
    static const int widths[] = {16, 32, 64};
    int x = resnet_stem(b, o, 16);
    return resnet_stages(b, x, 16, 3, widths, 3, o->classes);
}

/* ---- MobileNetV2 (torchvision layout) ---- */
static int make_divisible(float v, int divisor)
{
    int r = (int)(v + divisor / 2.0f) / divisor * divisor;
    if (r < divisor)
        r = divisor;
    if ((float)r < 0.9f * v)
        r += divisor;
    return r;
}

static int conv_bn_relu6(struct nncw_builder *b, int x, const char *name, int in_c, int out_c,
                         int k, int stride, int groups, bool relu)
{
    nncw_builder_push(b, name);
    x = nncw_build_conv2d(b, x, "0", in_c, out_c, k, stride, (k - 1) / 2, groups, false);
    x = nncw_build_batchnorm(b, x, "1", out_c);
    if (relu)
        x = nncw_build_relu6(b, x, "2");
    nncw_builder_pop(b);
    return x;
}

static int inverted_residual(struct nncw_builder *b, int x, int in_c, int out_c, int stride,
                             int expand)
{
    int hidden = in_c * expand, y = x, i = 0;
    char name[16];
    if (expand != 1) {
        snprintf(name, sizeof name, "conv.%d", i++);
        y = conv_bn_relu6(b, y, name, in_c, hidden, 1, 1, 1, true);
    }
    snprintf(name, sizeof name, "conv.%d", i++);
    y = conv_bn_relu6(b, y, name, hidden, hidden, 3, stride, hidden, true);
    snprintf(name, sizeof name, "conv.%d", i++);
    y = nncw_build_conv2d(b, y, name, hidden, out_c, 1, 1, 0, 1, false);
    snprintf(name, sizeof name, "conv.%d", i++);
    y = nncw_build_batchnorm(b, y, name, out_c);
    if (stride == 1 && in_c == out_c)
        y = nncw_build_add(b, x, y, "add");
    return y;
}

static int build_mobilenet_v2(struct nncw_builder *b, const struct nncw_zoo_options *o)
{
    static const int cfg[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                 {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    float wm = o->width_mult;
    nncw_builder_set_init(b, NNCW_INIT_KAIMING_FAN_OUT, NNCW_INIT_NORMAL_001);
    int c = make_divisible(32 * wm, 8);
    int last = make_divisible(1280 * (wm > 1.0f ? wm : 1.0f), 8);
    int x = nncw_build_input(b, "input", o->in_c, o->in_h, o->in_w);
    x = conv_bn_relu6(b, x, "features.0", o->in_c, c, 3, 2, 1, true);
    int idx = 1;
    for (size_t s = 0; s < NNCW_ARRAY_LEN(cfg); s++) {
        int out_c = make_divisible((float)cfg[s][1] * wm, 8);
        for (int k = 0; k < cfg[s][2]; k++) {
            char name[32];
            snprintf(name, sizeof name, "features.%d", idx++);
            nncw_builder_push(b, name);
            x = inverted_residual(b, x, c, out_c, k == 0 ? cfg[s][3] : 1, cfg[s][0]);
            nncw_builder_pop(b);
            c = out_c;
        }
    }
    char name[32];
    snprintf(name, sizeof name, "features.%d", idx);
    x = conv_bn_relu6(b, x, name, c, last, 1, 1, 1, true);
    x = nncw_build_global_avgpool(b, x, "avgpool");
    x = nncw_build_flatten(b, x, "flatten");
    x = nncw_build_dropout(b, x, "classifier.0", 0.2f);
    return nncw_build_linear(b, x, "classifier.1", last, o->classes);
}

struct zoo_entry {
    const char *name, *model, *description;
    int (*build)(struct nncw_builder *b, const struct nncw_zoo_options *o);
    int in_c, in_h, in_w;
};

static const struct zoo_entry zoo[] = {
    {"cnn", "CNN", "small CNN for 28x28 images: 2 conv + 2 linear, 225k parameters", build_cnn,
     1, 28, 28},
    {"resnet18", "ResNet18", "ResNet-18, CIFAR stem (3x3 stride-1 conv, no max-pool), 11.2M",
     build_resnet18, 3, 32, 32},
    {"resnet20", "ResNet20", "ResNet-20 for CIFAR (He et al.), 16/32/64 channels, 0.27M",
     build_resnet20, 3, 32, 32},
    {"mobilenet_v2", "MobileNetV2", "MobileNetV2 (torchvision layout) with width multiplier",
     build_mobilenet_v2, 3, 32, 32},
};

static const char *const names[] = {"cnn", "resnet18", "resnet20", "mobilenet_v2", NULL};
_Static_assert(NNCW_ARRAY_LEN(names) == NNCW_ARRAY_LEN(zoo) + 1, "names out of date");

const char *const *nncw_zoo_names(void)
{
    return names;
}

static const struct zoo_entry *find(const char *name)
{
    for (size_t i = 0; i < NNCW_ARRAY_LEN(zoo); i++)
        if (strcmp(zoo[i].name, name) == 0)
            return &zoo[i];
    return NULL;
}

const char *nncw_zoo_describe(const char *name)
{
    const struct zoo_entry *e = find(name);
    return e ? e->description : NULL;
}

struct nncw_zoo_options nncw_zoo_defaults(const char *name)
{
    const struct zoo_entry *e = find(name);
    struct nncw_zoo_options o = {.classes = 10, .in_c = 3, .in_h = 32, .in_w = 32,
                                 .width_mult = 1.0f, .seed = 1};
    if (e) {
        o.in_c = e->in_c;
        o.in_h = e->in_h;
        o.in_w = e->in_w;
    }
    return o;
}

enum nncw_status nncw_zoo_build(const char *name, const struct nncw_zoo_options *opt,
                                struct nncw_graph **out)
{
    const struct zoo_entry *e = find(name);
    if (!e)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                         "unknown model '%s' (built-in models: cnn, resnet18, resnet20, "
                         "mobilenet_v2)",
                         name);
    if (opt->classes < 1 || opt->in_c < 1 || opt->in_h < 1 || opt->in_w < 1 ||
        opt->in_h > 4096 || opt->in_w > 4096 || opt->in_c > 4096 || opt->classes > 100000)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "model '%s': classes %d and input %dx%dx%d must be positive and sane",
                         name, opt->classes, opt->in_c, opt->in_h, opt->in_w);
    if (!(opt->width_mult > 0.0f && opt->width_mult <= 4.0f))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "model '%s': width multiplier %g not in (0, 4]",
                         name, opt->width_mult);
    struct nncw_graph *g;
    NNCW_TRY(nncw_graph_new(&g));
    struct nncw_builder *b;
    enum nncw_status s = nncw_builder_new(g, e->model, opt->seed, &b);
    if (s == NNCW_OK) {
        int y = e->build(b, opt);
        if (y < 0 && strcmp(name, "cnn") == 0 && (opt->in_h < 10 || opt->in_w < 10))
            s = NNCW_FAIL(NNCW_ERR_INVALID_ARG, "model 'cnn': input %dx%d is too small (>= 10)",
                          opt->in_h, opt->in_w);
        enum nncw_status fs = nncw_builder_finish(b, y);
        if (s == NNCW_OK)
            s = fs;
    }
    if (s == NNCW_OK)
        s = nncw_graph_infer_shapes(g, 1);
    if (s != NNCW_OK) {
        nncw_graph_free(g);
        return s;
    }
    *out = g;
    return NNCW_OK;
}
