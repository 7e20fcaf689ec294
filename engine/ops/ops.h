/*
 * The op table: every op is shape inference + forward + backward, found by enum or ONNX name.
 *
 *     const struct nncw_op_def *d = nncw_op_get_def(NNCW_OP_CONV);
 *     enum nncw_op op;
 *     if (nncw_op_find_onnx("Relu", &op) == NNCW_OK) ...
 *
 * Ops follow ONNX semantics and ONNX attribute names (Conv: kernel_shape, strides, pads,
 * dilations, group; Gemm: alpha, beta, transA, transB; ...), so import and export map 1:1.
 * Argument order is fixed (THNN): context, node, inputs, outputs, then gradients.
 * Missing optional inputs are NULL slots in in[]. Backward ACCUMULATES (+=) into every
 * non-NULL grad_in[i]; the executor zeroes gradient buffers before the pass. A NULL
 * grad_out[o] (an integer or unused output) means a zero gradient.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"
#include "core/status.h"
#include "tensor/tensor.h"

struct nncw_node;
struct nncw_op_ctx;

enum nncw_op {
    NNCW_OP_CONV,
    NNCW_OP_GEMM,
    NNCW_OP_MATMUL,
    NNCW_OP_BATCHNORM,
    NNCW_OP_RELU,
    NNCW_OP_CLIP,
    NNCW_OP_LEAKYRELU,
    NNCW_OP_ELU,
    NNCW_OP_SIGMOID,
    NNCW_OP_HARDSIGMOID,
    NNCW_OP_HARDSWISH,
    NNCW_OP_SWISH,
    NNCW_OP_TANH,
    NNCW_OP_MAXPOOL,
    NNCW_OP_AVGPOOL,
    NNCW_OP_GLOBALAVGPOOL,
    NNCW_OP_ADD,
    NNCW_OP_SUB,
    NNCW_OP_MUL,
    NNCW_OP_CONCAT,
    NNCW_OP_RESHAPE,
    NNCW_OP_FLATTEN,
    NNCW_OP_TRANSPOSE,
    NNCW_OP_SOFTMAX,
    NNCW_OP_LOGSOFTMAX,
    NNCW_OP_DROPOUT,
    NNCW_OP_PAD,
    NNCW_OP_EMBEDDING,
    NNCW_OP_IDENTITY,
    /* added with ONNX import: element-wise math (unary.c) */
    NNCW_OP_NEG,
    NNCW_OP_ABS,
    NNCW_OP_EXP,
    NNCW_OP_LOG,
    NNCW_OP_SQRT,
    NNCW_OP_RECIPROCAL,
    NNCW_OP_FLOOR,
    NNCW_OP_CEIL,
    NNCW_OP_ROUND,
    NNCW_OP_SIGN,
    NNCW_OP_SIN,
    NNCW_OP_COS,
    NNCW_OP_TAN,
    NNCW_OP_ASIN,
    NNCW_OP_ACOS,
    NNCW_OP_ATAN,
    NNCW_OP_SINH,
    NNCW_OP_COSH,
    NNCW_OP_ASINH,
    NNCW_OP_ACOSH,
    NNCW_OP_ATANH,
    NNCW_OP_ERF,
    NNCW_OP_SOFTPLUS,
    NNCW_OP_SOFTSIGN,
    NNCW_OP_SELU,
    NNCW_OP_CELU,
    NNCW_OP_THRESHOLDEDRELU,
    NNCW_OP_SHRINK,
    NNCW_OP_ISNAN,
    NNCW_OP_ISINF,
    NNCW_OP_NOT,
    /* broadcasting element-wise (binary.c) */
    NNCW_OP_DIV,
    NNCW_OP_POW,
    NNCW_OP_MOD,
    NNCW_OP_MAX,
    NNCW_OP_MIN,
    NNCW_OP_SUM,
    NNCW_OP_MEAN,
    NNCW_OP_EQUAL,
    NNCW_OP_LESS,
    NNCW_OP_GREATER,
    NNCW_OP_LESSOREQUAL,
    NNCW_OP_GREATEROREQUAL,
    NNCW_OP_AND,
    NNCW_OP_OR,
    NNCW_OP_XOR,
    NNCW_OP_WHERE,
    NNCW_OP_PRELU,
    /* reductions (reduce.c) */
    NNCW_OP_REDUCESUM,
    NNCW_OP_REDUCEMEAN,
    NNCW_OP_REDUCEMAX,
    NNCW_OP_REDUCEMIN,
    NNCW_OP_REDUCEPROD,
    NNCW_OP_REDUCEL1,
    NNCW_OP_REDUCEL2,
    NNCW_OP_REDUCESUMSQUARE,
    NNCW_OP_REDUCELOGSUM,
    NNCW_OP_REDUCELOGSUMEXP,
    NNCW_OP_ARGMAX,
    NNCW_OP_ARGMIN,
    NNCW_OP_GLOBALMAXPOOL,
    /* dimensions, casts, slicing, gathering (dims.c, cast.c, slice.c, gather.c) */
    NNCW_OP_SQUEEZE,
    NNCW_OP_UNSQUEEZE,
    NNCW_OP_EXPAND,
    NNCW_OP_TILE,
    NNCW_OP_SHAPE,
    NNCW_OP_SIZE,
    NNCW_OP_CAST,
    NNCW_OP_SLICE,
    NNCW_OP_SPLIT,
    NNCW_OP_GATHER,
    NNCW_OP_GATHERELEMENTS,
    /* resize, transposed convolution, per-sample normalisations (resize.c, conv_transpose.c,
     * sample_norm.c) */
    NNCW_OP_RESIZE,
    NNCW_OP_CONVTRANSPOSE,
    NNCW_OP_INSTANCENORM,
    NNCW_OP_LAYERNORM,
    NNCW_OP_LRN,
    /* quantization (fake_quantize.c, quantize_linear.c): NNCF's trainable quantizers,
     * OpenVINO's FakeQuantize, ONNX's QuantizeLinear / DequantizeLinear */
    NNCW_OP_QUANTIZE_SYMMETRIC,
    NNCW_OP_QUANTIZE_ASYMMETRIC,
    NNCW_OP_FAKEQUANTIZE,
    NNCW_OP_QUANTIZELINEAR,
    NNCW_OP_DEQUANTIZELINEAR,
    /* sparsity (rb_sparsify.c): NNCF's regularization-based sparsity mask on a weight */
    NNCW_OP_RB_SPARSIFY,
    /* binarization (binarize.c): NNCF's XNOR / DoReFa weights, activations with a trainable
     * scale and threshold */
    NNCW_OP_XNOR_BINARIZE,
    NNCW_OP_DOREFA_BINARIZE,
    NNCW_OP_ACTIVATION_BINARIZE,
    NNCW_OP_COUNT
};

/* out[i] gets dtype, ndim and shape (data stays NULL). in[i] carries data for parameters and
 * constants (Reshape reads its shape input), NULL data for activations, and NULL for a
 * missing optional input. Fails with NNCW_ERR_SHAPE naming the node on a mismatch. */
typedef enum nncw_status (*nncw_op_infer_fn)(const struct nncw_node *node,
                                             const struct nncw_tensor *const in[], int n_in,
                                             struct nncw_tensor out[]);
typedef enum nncw_status (*nncw_op_forward_fn)(struct nncw_op_ctx *ctx,
                                               const struct nncw_node *node,
                                               struct nncw_tensor *const in[], int n_in,
                                               struct nncw_tensor *const out[]);
typedef enum nncw_status (*nncw_op_backward_fn)(struct nncw_op_ctx *ctx,
                                                const struct nncw_node *node,
                                                struct nncw_tensor *const in[], int n_in,
                                                struct nncw_tensor *const out[],
                                                struct nncw_tensor *const grad_out[],
                                                struct nncw_tensor *const grad_in[]);

struct nncw_op_def {
    const char *name;      /* nncw's name, e.g. "Conv" */
    const char *onnx_name; /* ONNX op type, NULL if it has none */
    int n_in_min, n_in_max;
    int n_out;
    nncw_op_infer_fn infer;
    nncw_op_forward_fn forward;
    nncw_op_backward_fn backward; /* NULL: no gradient flows through */
};

/* ---- the table ---- */
const struct nncw_op_def *nncw_op_get_def(enum nncw_op op);
const char *nncw_op_name(enum nncw_op op);
/* NNCW_ERR_NOT_FOUND if no op has that ONNX name */
enum nncw_status nncw_op_find_onnx(const char *onnx_name, enum nncw_op *out);

/* ---- what an op may ask of the executor running it ---- */
bool nncw_op_ctx_is_training(const struct nncw_op_ctx *ctx);
/* training without the executor's no_dropout option */
bool nncw_op_ctx_dropout_active(const struct nncw_op_ctx *ctx);
/* a per-node buffer kept from forward to backward and across steps (batch-norm statistics,
 * max-pool indices, dropout masks); zeroed when first allocated; NULL when out of memory */
void *nncw_op_ctx_saved(struct nncw_op_ctx *ctx, const struct nncw_node *node, size_t nbytes);
/* scratch memory shared by all ops (im2col columns); valid until the next call */
void *nncw_op_ctx_scratch(struct nncw_op_ctx *ctx, size_t nbytes);
/* the executor's seeded generator (dropout) */
struct nncw_rng *nncw_op_ctx_rng(struct nncw_op_ctx *ctx);
/* a quantizer's input is the input of a ReLU fused into it (graph/exec_fuse.c): no input
 * gradient at x = 0 */
bool nncw_op_ctx_input_relu_fused(const struct nncw_op_ctx *ctx);
