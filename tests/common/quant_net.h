/*
 * A small quantized network for the ONNX export tests (tests/engine/test_onnx_quant.c) and the
 * ONNX Runtime check (tests/onnx/quant_model.c): conv -> relu -> gemm with one quantizer of
 * each kind, built with engine calls only (no Check), so both can use it.
 *
 *   x [N, 2, 6, 6] -> AsymmetricQuantize per-tensor (0..255)            "Net/x_quant"
 *   conv1.weight [4, 2, 3, 3] -> SymmetricQuantize per-channel axis 0  "Net/conv1/weight_quant"
 *   Conv -> Relu -> SymmetricQuantize unsigned per-tensor (0..255)      "Net/relu1_quant"
 *   Flatten -> Gemm(fc.weight [5, 64] half-range per-channel (-64..63), "Net/fc/weight_quant"
 *                   fc.bias [5] behind a disabled quantizer)            "Net/fc/bias_quant"
 *   -> AsymmetricQuantize per-channel axis 1 (0..255), the output       "Net/out_quant"
 *
 * Weights and ranges are chosen so that every quantizer clamps some of its values. With
 * narrow_weights the conv weight quantizer uses -127..127 (255 levels).
 */
#pragma once

#include <stdbool.h>
#include <string.h>

#include "core/rng.h"
#include "graph/graph.h"
#include "tensor/tensor.h"

#define QNET_TRY(expr)                                                                             \
    do {                                                                                           \
        enum nncw_status qnet_s_ = (expr);                                                         \
        if (qnet_s_ != NNCW_OK)                                                                    \
            return qnet_s_;                                                                        \
    } while (0)

/* a parameter of the given values, or uniform in [lo, hi) from rng when v is NULL */
static inline enum nncw_status qnet_param(struct nncw_graph *g, const char *name, int ndim,
                                          const int64_t *shape, const float *v, float lo, float hi,
                                          struct nncw_rng *rng, int *id)
{
    struct nncw_tensor t;
    QNET_TRY(nncw_tensor_init(&t, NNCW_DTYPE_F32, ndim, shape));
    float *d = nncw_tensor_f32(&t);
    for (int64_t i = 0; i < nncw_tensor_numel(&t); i++)
        d[i] = v ? v[i] : lo + (hi - lo) * nncw_rng_uniform(rng);
    enum nncw_status s = nncw_graph_add_param(g, name, &t, true, id);
    nncw_tensor_fini(&t);
    return s;
}

static inline enum nncw_status qnet_quantizer(struct nncw_graph *g, enum nncw_op op,
                                              const char *scope, int x, int p0, int p1, int64_t ll,
                                              int64_t lh, int axis, int *y, struct nncw_node **out)
{
    int in[3] = {x, p0, p1};
    struct nncw_node *n;
    QNET_TRY(
        nncw_graph_add_node(g, op, scope, op == NNCW_OP_QUANTIZE_SYMMETRIC ? 2 : 3, in, 1, y, &n));
    QNET_TRY(nncw_node_set_attr_int(n, "level_low", ll));
    QNET_TRY(nncw_node_set_attr_int(n, "level_high", lh));
    QNET_TRY(nncw_node_set_attr_int(n, "axis", axis));
    if (out)
        *out = n;
    return NNCW_OK;
}

static inline enum nncw_status qnet_build(bool narrow_weights, struct nncw_graph **out)
{
    struct nncw_graph *g;
    struct nncw_rng rng;
    nncw_rng_seed(&rng, 2024);
    QNET_TRY(nncw_graph_new(&g));
    enum nncw_status s;
#define STEP(expr)                                                                                 \
    if ((s = (expr)) != NNCW_OK)                                                                   \
        goto fail;
    int x, xl, xr, xq, w1, s1, w1q, b1, c1, r1, rs, r1q, f, w2, s2, w2q, b2, bs, b2q, logits, ol,
        orr, y;
    struct nncw_node *n;
    STEP(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 4, (int64_t[]){-1, 2, 6, 6}, &x));
    STEP(qnet_param(g, "x_quant.input_low", 1, (int64_t[]){1}, (float[]){-0.8f}, 0, 0, &rng, &xl));
    STEP(qnet_param(g, "x_quant.input_range", 1, (int64_t[]){1}, (float[]){2.1f}, 0, 0, &rng, &xr));
    STEP(qnet_quantizer(g, NNCW_OP_QUANTIZE_ASYMMETRIC, "Net/x_quant", x, xl, xr, 0, 255, -1, &xq,
                        NULL));

    STEP(qnet_param(g, "conv1.weight", 4, (int64_t[]){4, 2, 3, 3}, NULL, -0.5f, 0.5f, &rng, &w1));
    STEP(qnet_param(g, "conv1.weight_quant.scale", 1, (int64_t[]){4},
                    (float[]){0.3f, 0.45f, -0.2f, 0.5f}, 0, 0, &rng, &s1));
    STEP(qnet_quantizer(g, NNCW_OP_QUANTIZE_SYMMETRIC, "Net/conv1/weight_quant", w1, s1, -1,
                        narrow_weights ? -127 : -128, 127, 0, &w1q, NULL));
    STEP(qnet_param(g, "conv1.bias", 1, (int64_t[]){4}, NULL, -0.1f, 0.1f, &rng, &b1));
    STEP(nncw_graph_add_node(g, NNCW_OP_CONV, "Net/conv1", 3, (int[]){xq, w1q, b1}, 1, &c1, &n));
    STEP(nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3}));
    STEP(nncw_graph_add_node(g, NNCW_OP_RELU, "Net/relu1", 1, &c1, 1, &r1, NULL));
    STEP(qnet_param(g, "relu1_quant.scale", 1, (int64_t[]){1}, (float[]){0.9f}, 0, 0, &rng, &rs));
    STEP(qnet_quantizer(g, NNCW_OP_QUANTIZE_SYMMETRIC, "Net/relu1_quant", r1, rs, -1, 0, 255, -1,
                        &r1q, NULL));
    STEP(nncw_graph_add_node(g, NNCW_OP_FLATTEN, "Net/flatten", 1, &r1q, 1, &f, &n));
    STEP(nncw_node_set_attr_int(n, "axis", 1));

    STEP(qnet_param(g, "fc.weight", 2, (int64_t[]){5, 64}, NULL, -0.3f, 0.3f, &rng, &w2));
    STEP(qnet_param(g, "fc.weight_quant.scale", 1, (int64_t[]){5},
                    (float[]){0.2f, 0.25f, 0.1f, 0.29f, 0.15f}, 0, 0, &rng, &s2));
    STEP(qnet_quantizer(g, NNCW_OP_QUANTIZE_SYMMETRIC, "Net/fc/weight_quant", w2, s2, -1, -64, 63,
                        0, &w2q, &n));
    STEP(nncw_node_set_attr_int(n, "half_range", 1));
    STEP(qnet_param(g, "fc.bias", 1, (int64_t[]){5}, NULL, -0.5f, 0.5f, &rng, &b2));
    STEP(
        qnet_param(g, "fc.bias_quant.scale", 1, (int64_t[]){1}, (float[]){0.01f}, 0, 0, &rng, &bs));
    STEP(qnet_quantizer(g, NNCW_OP_QUANTIZE_SYMMETRIC, "Net/fc/bias_quant", b2, bs, -1, -128, 127,
                        -1, &b2q, &n));
    STEP(nncw_node_set_attr_int(n, "enabled", 0));
    STEP(nncw_graph_add_node(g, NNCW_OP_GEMM, "Net/fc", 3, (int[]){f, w2q, b2q}, 1, &logits, &n));
    STEP(nncw_node_set_attr_int(n, "transB", 1));

    STEP(qnet_param(g, "out_quant.input_low", 1, (int64_t[]){5},
                    (float[]){-1.0f, -0.3f, 0.2f, -2.0f, -0.05f}, 0, 0, &rng, &ol));
    STEP(qnet_param(g, "out_quant.input_range", 1, (int64_t[]){5},
                    (float[]){2.0f, 1.0f, 1.5f, 1.0f, 3.0f}, 0, 0, &rng, &orr));
    STEP(qnet_quantizer(g, NNCW_OP_QUANTIZE_ASYMMETRIC, "Net/out_quant", logits, ol, orr, 0, 255, 1,
                        &y, NULL));
    STEP(nncw_graph_set_value_name(g, y, "y"));
    STEP(nncw_graph_add_output(g, y));
#undef STEP
    *out = g;
    return NNCW_OK;
fail:
    nncw_graph_free(g);
    return s;
}

/* a reproducible input batch [n, 2, 6, 6], uniform in [-1.5, 1.5) */
static inline enum nncw_status qnet_input(int64_t n, struct nncw_tensor *x)
{
    struct nncw_rng rng;
    nncw_rng_seed(&rng, 7);
    QNET_TRY(nncw_tensor_init(x, NNCW_DTYPE_F32, 4, (int64_t[]){n, 2, 6, 6}));
    for (int64_t i = 0; i < nncw_tensor_numel(x); i++)
        nncw_tensor_f32(x)[i] = -1.5f + 3.0f * nncw_rng_uniform(&rng);
    return NNCW_OK;
}
