/*
 * The built-in model zoo, built through the builder with torchvision's layouts and
 * initialisation.
 *
 *     struct nncw_zoo_options o = nncw_zoo_defaults("resnet18");   // 10 classes, 3x32x32
 *     o.classes = 100;
 *     struct nncw_graph *g;
 *     if (nncw_zoo_build("resnet18", &o, &g) != NNCW_OK) ...
 *
 * Models: "cnn" (the small Fashion-MNIST CNN of shared/bench/torch_baseline.py, 225,034
 * parameters), "resnet18" (CIFAR stem: 3x3 stride-1 conv, no max-pool), "resnet20" (He et
 * al.'s CIFAR ResNet, 16/32/64 channels, 3 blocks per stage, 1x1-conv projection shortcuts),
 * "mobilenet_v2" (width multiplier).
 */
#pragma once

#include <stdint.h>

#include "core/status.h"
#include "graph/graph.h"

struct nncw_zoo_options {
    int classes;
    int in_c, in_h, in_w;
    float width_mult; /* mobilenet_v2 */
    uint64_t seed;    /* weight initialisation */
};

/* the names of the built-in models, NULL-terminated */
const char *const *nncw_zoo_names(void);
/* a one-line description of a model, or NULL if unknown */
const char *nncw_zoo_describe(const char *name);
/* the default options of a model (CIFAR-sized input for all but "cnn", 1x28x28) */
struct nncw_zoo_options nncw_zoo_defaults(const char *name);
/* builds a new graph; NNCW_ERR_NOT_FOUND listing the models for an unknown name,
 * NNCW_ERR_INVALID_ARG for bad options */
enum nncw_status nncw_zoo_build(const char *name, const struct nncw_zoo_options *opt,
                                struct nncw_graph **out);
