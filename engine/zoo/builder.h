/*
 * A layer-by-layer network builder over the graph API, with PyTorch's default initialisation
 * and hierarchical scope names. Errors are sticky (as ggml's context): build the whole network,
 * then check nncw_builder_finish once.
 *
 *     struct nncw_builder *b;
 *     nncw_builder_new(g, "Net", 1, &b);                  // seed 1
 *     int x = nncw_build_input(b, "input", 1, 28, 28);     // [-1, 1, 28, 28]
 *     x = nncw_build_conv2d(b, x, "conv1", 1, 32, 3, 1, 0, 1, true);
 *     x = nncw_build_relu(b, x, "relu1");
 *     x = nncw_build_flatten(b, x, "flatten");
 *     x = nncw_build_linear(b, x, "fc", 21632, 10);
 *     enum nncw_status s = nncw_builder_finish(b, x);      // marks the output, frees b
 *
 * Node scopes are "<model>/<module path>" ("ResNet18/layer1.0/conv1"); parameters are named
 * as PyTorch's state_dict ("layer1.0.conv1.weight"), so ONNX files and checkpoints line up.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "graph/graph.h"

struct nncw_builder;

enum nncw_init {
    NNCW_INIT_DEFAULT,        /* PyTorch's default for Conv2d/Linear: U(+-1/sqrt(fan_in)) */
    NNCW_INIT_KAIMING_FAN_OUT, /* N(0, 2/fan_out), torchvision's ResNet/MobileNet convs */
    NNCW_INIT_NORMAL_001,     /* N(0, 0.01), bias 0: torchvision's MobileNet classifier */
};

enum nncw_status nncw_builder_new(struct nncw_graph *g, const char *model, uint64_t seed,
                                  struct nncw_builder **out);
/* marks `output` as the graph output, frees the builder and returns the first error */
enum nncw_status nncw_builder_finish(struct nncw_builder *b, int output);
/* abandons the builder (the graph keeps what was added) */
void nncw_builder_free(struct nncw_builder *b);

/* module path prefix: push "layer1.0" then names become "layer1.0/conv1" */
void nncw_builder_push(struct nncw_builder *b, const char *name);
void nncw_builder_pop(struct nncw_builder *b);
/* initialisation for subsequent conv/linear layers */
void nncw_builder_set_init(struct nncw_builder *b, enum nncw_init conv, enum nncw_init linear);

/* Each returns the output value id, or -1 after an error (later calls then do nothing). */
int nncw_build_input(struct nncw_builder *b, const char *name, int c, int h, int w);
int nncw_build_conv2d(struct nncw_builder *b, int x, const char *name, int in_c, int out_c, int k,
                      int stride, int pad, int groups, bool bias);
int nncw_build_batchnorm(struct nncw_builder *b, int x, const char *name, int c);
int nncw_build_linear(struct nncw_builder *b, int x, const char *name, int in, int out);
int nncw_build_relu(struct nncw_builder *b, int x, const char *name);
int nncw_build_relu6(struct nncw_builder *b, int x, const char *name);
int nncw_build_maxpool(struct nncw_builder *b, int x, const char *name, int k, int stride, int pad);
int nncw_build_avgpool(struct nncw_builder *b, int x, const char *name, int k, int stride, int pad);
int nncw_build_global_avgpool(struct nncw_builder *b, int x, const char *name);
int nncw_build_flatten(struct nncw_builder *b, int x, const char *name);
int nncw_build_add(struct nncw_builder *b, int x, int y, const char *name);
int nncw_build_dropout(struct nncw_builder *b, int x, const char *name, float ratio);
/* any op without parameters: a generic node with one output (attributes set by the caller
 * through *node if not NULL) */
int nncw_build_op(struct nncw_builder *b, enum nncw_op op, const char *name, int n_in,
                  const int *in, struct nncw_node **node);
