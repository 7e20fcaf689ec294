#include "zoo/builder.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

enum { PATH_MAX_LEN = 256 };

struct nncw_builder {
    struct nncw_graph *g;
    char model[64];
    char path[PATH_MAX_LEN]; /* "layer1.0/downsample" */
    struct nncw_rng rng;
    enum nncw_init conv_init, linear_init;
    enum nncw_status status;
};

enum nncw_status nncw_builder_new(struct nncw_graph *g, const char *model, uint64_t seed,
                                  struct nncw_builder **out)
{
    struct nncw_builder *b = nncw_calloc(1, sizeof *b);
    if (!b)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "builder: out of memory");
    b->g = g;
    snprintf(b->model, sizeof b->model, "%s", model);
    nncw_rng_seed(&b->rng, seed);
    *out = b;
    return NNCW_OK;
}

void nncw_builder_free(struct nncw_builder *b)
{
    nncw_free(b);
}

enum nncw_status nncw_builder_finish(struct nncw_builder *b, int output)
{
    enum nncw_status s = b->status;
    if (s == NNCW_OK && output >= 0)
        s = nncw_graph_add_output(b->g, output);
    nncw_free(b);
    return s;
}

void nncw_builder_push(struct nncw_builder *b, const char *name)
{
    size_t len = strlen(b->path);
    snprintf(b->path + len, sizeof b->path - len, "%s%s", len ? "/" : "", name);
}

void nncw_builder_pop(struct nncw_builder *b)
{
    char *slash = strrchr(b->path, '/');
    if (slash)
        *slash = '\0';
    else
        b->path[0] = '\0';
}

void nncw_builder_set_init(struct nncw_builder *b, enum nncw_init conv, enum nncw_init linear)
{
    b->conv_init = conv;
    b->linear_init = linear;
}

/* "Model/path/name" */
static void scope_of(const struct nncw_builder *b, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s%s%s", b->model, b->path, b->path[0] ? "/" : "", name);
}

/* "path.name.suffix" with '/' turned into '.', as PyTorch's state_dict keys */
static void param_name(const struct nncw_builder *b, const char *name, const char *suffix,
                       char *out, size_t size)
{
    snprintf(out, size, "%s%s%s.%s", b->path, b->path[0] ? "." : "", name, suffix);
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '.';
}

static bool failed(struct nncw_builder *b, enum nncw_status s)
{
    if (s != NNCW_OK && b->status == NNCW_OK)
        b->status = s;
    return b->status != NNCW_OK;
}

static void fill(struct nncw_builder *b, struct nncw_tensor *t, enum nncw_init init, int fan_in,
                 int fan_out, bool is_bias)
{
    float *x = nncw_tensor_f32(t);
    int64_t n = nncw_tensor_numel(t);
    float bound = 1.0f / sqrtf((float)(fan_in > 0 ? fan_in : 1));
    float std = sqrtf(2.0f / (float)(fan_out > 0 ? fan_out : 1));
    for (int64_t i = 0; i < n; i++) {
        if (init == NNCW_INIT_DEFAULT)
            x[i] = bound * (2.0f * nncw_rng_uniform(&b->rng) - 1.0f);
        else if (is_bias)
            x[i] = 0.0f;
        else if (init == NNCW_INIT_KAIMING_FAN_OUT)
            x[i] = std * nncw_rng_normal(&b->rng);
        else
            x[i] = 0.01f * nncw_rng_normal(&b->rng);
    }
}

/* adds a parameter "path.name.suffix" of the shape, filled by init (or with `constant` when
 * init < 0); returns its id or -1 */
static int add_param(struct nncw_builder *b, const char *name, const char *suffix, int ndim,
                     const int64_t *shape, int init, float constant, int fan_in, int fan_out,
                     bool trainable)
{
    if (b->status != NNCW_OK)
        return -1;
    struct nncw_tensor t;
    if (failed(b, nncw_tensor_init(&t, NNCW_DTYPE_F32, ndim, shape)))
        return -1;
    if (init >= 0)
        fill(b, &t, (enum nncw_init)init, fan_in, fan_out, strcmp(suffix, "bias") == 0);
    else
        nncw_tensor_fill_f32(&t, constant);
    char pname[PATH_MAX_LEN + 64];
    param_name(b, name, suffix, pname, sizeof pname);
    int id = -1;
    failed(b, nncw_graph_add_param(b->g, pname, &t, trainable, &id));
    nncw_tensor_fini(&t);
    return b->status == NNCW_OK ? id : -1;
}

static int add_node(struct nncw_builder *b, enum nncw_op op, const char *name, int n_in,
                    const int *in, struct nncw_node **node)
{
    if (b->status != NNCW_OK)
        return -1;
    for (int i = 0; i < n_in; i++)
        if (in[i] < -1 || (in[i] == -1 && i == 0))
            return -1;
    char scope[PATH_MAX_LEN + 128];
    scope_of(b, name, scope, sizeof scope);
    int out = -1;
    struct nncw_node *n = NULL;
    if (failed(b, nncw_graph_add_node(b->g, op, scope, n_in, in, 1, &out, &n)))
        return -1;
    if (node)
        *node = n;
    return out;
}

int nncw_build_input(struct nncw_builder *b, const char *name, int c, int h, int w)
{
    if (b->status != NNCW_OK)
        return -1;
    int id = -1;
    failed(b, nncw_graph_add_input(b->g, name, NNCW_DTYPE_F32, 4, (int64_t[]){-1, c, h, w}, &id));
    return id;
}

int nncw_build_conv2d(struct nncw_builder *b, int x, const char *name, int in_c, int out_c, int k,
                      int stride, int pad, int groups, bool bias)
{
    if (groups < 1 || in_c % groups || out_c % groups)
        failed(b, NNCW_FAIL(NNCW_ERR_INVALID_ARG, "conv '%s': %d -> %d channels in %d groups",
                            name, in_c, out_c, groups));
    int fan_in = in_c / (groups > 0 ? groups : 1) * k * k;
    int fan_out = out_c / (groups > 0 ? groups : 1) * k * k;
    int w = add_param(b, name, "weight", 4, (int64_t[]){out_c, fan_in / (k * k), k, k},
                      (int)b->conv_init, 0, fan_in, fan_out, true);
    int bi = bias ? add_param(b, name, "bias", 1, (int64_t[]){out_c}, (int)b->conv_init, 0, fan_in,
                              fan_out, true)
                  : -1;
    struct nncw_node *n = NULL;
    int y = add_node(b, NNCW_OP_CONV, name, bias ? 3 : 2, (int[]){x, w, bi}, &n);
    if (y < 0)
        return -1;
    failed(b, nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){k, k}));
    failed(b, nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){stride, stride}));
    failed(b, nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){pad, pad, pad, pad}));
    failed(b, nncw_node_set_attr_ints(n, "dilations", 2, (int64_t[]){1, 1}));
    failed(b, nncw_node_set_attr_int(n, "group", groups));
    return b->status == NNCW_OK ? y : -1;
}

int nncw_build_batchnorm(struct nncw_builder *b, int x, const char *name, int c)
{
    int64_t shape[] = {c};
    int scale = add_param(b, name, "weight", 1, shape, -1, 1.0f, 0, 0, true);
    int bias = add_param(b, name, "bias", 1, shape, -1, 0.0f, 0, 0, true);
    int mean = add_param(b, name, "running_mean", 1, shape, -1, 0.0f, 0, 0, false);
    int var = add_param(b, name, "running_var", 1, shape, -1, 1.0f, 0, 0, false);
    struct nncw_node *n = NULL;
    int y = add_node(b, NNCW_OP_BATCHNORM, name, 5, (int[]){x, scale, bias, mean, var}, &n);
    if (y < 0)
        return -1;
    failed(b, nncw_node_set_attr_float(n, "epsilon", 1e-5f));
    failed(b, nncw_node_set_attr_float(n, "momentum", 0.9f));
    return b->status == NNCW_OK ? y : -1;
}

int nncw_build_linear(struct nncw_builder *b, int x, const char *name, int in, int out)
{
    int w = add_param(b, name, "weight", 2, (int64_t[]){out, in}, (int)b->linear_init, 0, in, out,
                      true);
    int bi = add_param(b, name, "bias", 1, (int64_t[]){out}, (int)b->linear_init, 0, in, out, true);
    struct nncw_node *n = NULL;
    int y = add_node(b, NNCW_OP_GEMM, name, 3, (int[]){x, w, bi}, &n);
    if (y < 0)
        return -1;
    failed(b, nncw_node_set_attr_int(n, "transB", 1));
    return b->status == NNCW_OK ? y : -1;
}

int nncw_build_relu(struct nncw_builder *b, int x, const char *name)
{
    return add_node(b, NNCW_OP_RELU, name, 1, &x, NULL);
}

int nncw_build_relu6(struct nncw_builder *b, int x, const char *name)
{
    struct nncw_node *n = NULL;
    int y = add_node(b, NNCW_OP_CLIP, name, 1, &x, &n);
    if (y < 0)
        return -1;
    failed(b, nncw_node_set_attr_float(n, "min", 0.0f));
    failed(b, nncw_node_set_attr_float(n, "max", 6.0f));
    return b->status == NNCW_OK ? y : -1;
}

static int pool(struct nncw_builder *b, enum nncw_op op, int x, const char *name, int k, int stride,
                int pad)
{
    struct nncw_node *n = NULL;
    int y = add_node(b, op, name, 1, &x, &n);
    if (y < 0)
        return -1;
    failed(b, nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){k, k}));
    failed(b, nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){stride, stride}));
    failed(b, nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){pad, pad, pad, pad}));
    return b->status == NNCW_OK ? y : -1;
}

int nncw_build_maxpool(struct nncw_builder *b, int x, const char *name, int k, int stride, int pad)
{
    return pool(b, NNCW_OP_MAXPOOL, x, name, k, stride, pad);
}

int nncw_build_avgpool(struct nncw_builder *b, int x, const char *name, int k, int stride, int pad)
{
    return pool(b, NNCW_OP_AVGPOOL, x, name, k, stride, pad);
}

int nncw_build_global_avgpool(struct nncw_builder *b, int x, const char *name)
{
    return add_node(b, NNCW_OP_GLOBALAVGPOOL, name, 1, &x, NULL);
}

int nncw_build_flatten(struct nncw_builder *b, int x, const char *name)
{
    struct nncw_node *n = NULL;
    int y = add_node(b, NNCW_OP_FLATTEN, name, 1, &x, &n);
    if (y >= 0)
        failed(b, nncw_node_set_attr_int(n, "axis", 1));
    return b->status == NNCW_OK ? y : -1;
}

int nncw_build_add(struct nncw_builder *b, int x, int y, const char *name)
{
    if (y < 0)
        return -1;
    return add_node(b, NNCW_OP_ADD, name, 2, (int[]){x, y}, NULL);
}

int nncw_build_dropout(struct nncw_builder *b, int x, const char *name, float ratio)
{
    struct nncw_node *n = NULL;
    int y = add_node(b, NNCW_OP_DROPOUT, name, 1, &x, &n);
    if (y >= 0)
        failed(b, nncw_node_set_attr_float(n, "ratio", ratio));
    return b->status == NNCW_OK ? y : -1;
}

int nncw_build_op(struct nncw_builder *b, enum nncw_op op, const char *name, int n_in,
                  const int *in, struct nncw_node **node)
{
    return add_node(b, op, name, n_in, in, node);
}
