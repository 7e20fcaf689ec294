/* Shared by the op files: their table entries and small helpers for shape checks. */
#pragma once

#include "graph/graph.h"
#include "ops/ops.h"

/* conv.c */
extern const struct nncw_op_def nncw_op_def_conv;
/* gemm.c */
extern const struct nncw_op_def nncw_op_def_gemm, nncw_op_def_matmul;
/* norm.c */
extern const struct nncw_op_def nncw_op_def_batchnorm;
/* activation.c */
extern const struct nncw_op_def nncw_op_def_relu, nncw_op_def_clip, nncw_op_def_leakyrelu,
    nncw_op_def_elu, nncw_op_def_sigmoid, nncw_op_def_hardsigmoid, nncw_op_def_hardswish,
    nncw_op_def_swish, nncw_op_def_tanh;
/* pool.c */
extern const struct nncw_op_def nncw_op_def_maxpool, nncw_op_def_avgpool,
    nncw_op_def_globalavgpool;
/* elementwise.c */
extern const struct nncw_op_def nncw_op_def_add, nncw_op_def_sub, nncw_op_def_mul;
/* shape_ops.c */
extern const struct nncw_op_def nncw_op_def_concat, nncw_op_def_reshape, nncw_op_def_flatten,
    nncw_op_def_transpose, nncw_op_def_pad, nncw_op_def_identity;
/* softmax.c */
extern const struct nncw_op_def nncw_op_def_softmax, nncw_op_def_logsoftmax;
/* dropout.c */
extern const struct nncw_op_def nncw_op_def_dropout;
/* embedding.c */
extern const struct nncw_op_def nncw_op_def_embedding;

/* ---- helpers for the ops added with ONNX import ---- */

/* element i of an int64 or int32 tensor */
static inline int64_t nncw_op_int_at(const struct nncw_tensor *t, int64_t i)
{
    return t->dtype == NNCW_DTYPE_I64 ? ((const int64_t *)t->data)[i]
                                      : ((const int32_t *)t->data)[i];
}

/* the values of a constant 1-D (or scalar) int64/int32 input such as axes or repeats, read at
 * shape inference: at most max of them into v. NNCW_ERR_UNSUPPORTED naming the node when the
 * input is not a constant, NNCW_ERR_SHAPE/DTYPE when it is not an int vector (dims.c) */
enum nncw_status nncw_op_const_ints(const struct nncw_node *node, const char *what,
                                    const struct nncw_tensor *t, int max, int64_t *v, int *n);

/* numpy broadcasting of n tensors into shape; false if they do not broadcast (binary.c) */
bool nncw_op_broadcast_shape(int n, const struct nncw_tensor *const t[], int *ndim,
                             int64_t *shape);
/* element strides of t read as a tensor of the given (broadcast) shape: 0 where broadcast */
void nncw_op_broadcast_strides(const struct nncw_tensor *t, int ndim, const int64_t *shape,
                               int64_t *s);

/* unary.c */
extern const struct nncw_op_def nncw_op_def_neg, nncw_op_def_abs, nncw_op_def_exp,
    nncw_op_def_log, nncw_op_def_sqrt, nncw_op_def_reciprocal, nncw_op_def_floor,
    nncw_op_def_ceil, nncw_op_def_round, nncw_op_def_sign, nncw_op_def_sin, nncw_op_def_cos,
    nncw_op_def_tan, nncw_op_def_asin, nncw_op_def_acos, nncw_op_def_atan, nncw_op_def_sinh,
    nncw_op_def_cosh, nncw_op_def_asinh, nncw_op_def_acosh, nncw_op_def_atanh, nncw_op_def_erf,
    nncw_op_def_softplus, nncw_op_def_softsign, nncw_op_def_selu, nncw_op_def_celu,
    nncw_op_def_thresholdedrelu, nncw_op_def_shrink, nncw_op_def_isnan, nncw_op_def_isinf,
    nncw_op_def_not;
/* binary.c */
extern const struct nncw_op_def nncw_op_def_div, nncw_op_def_pow, nncw_op_def_mod,
    nncw_op_def_max, nncw_op_def_min, nncw_op_def_sum, nncw_op_def_mean, nncw_op_def_equal,
    nncw_op_def_less, nncw_op_def_greater, nncw_op_def_lessorequal, nncw_op_def_greaterorequal,
    nncw_op_def_and, nncw_op_def_or, nncw_op_def_xor, nncw_op_def_where, nncw_op_def_prelu;
/* reduce.c */
extern const struct nncw_op_def nncw_op_def_reducesum, nncw_op_def_reducemean,
    nncw_op_def_reducemax, nncw_op_def_reducemin, nncw_op_def_reduceprod, nncw_op_def_reducel1,
    nncw_op_def_reducel2, nncw_op_def_reducesumsquare, nncw_op_def_reducelogsum,
    nncw_op_def_reducelogsumexp, nncw_op_def_argmax, nncw_op_def_argmin,
    nncw_op_def_globalmaxpool;
/* dims.c */
extern const struct nncw_op_def nncw_op_def_squeeze, nncw_op_def_unsqueeze, nncw_op_def_expand,
    nncw_op_def_tile, nncw_op_def_shape, nncw_op_def_size;
/* cast.c */
extern const struct nncw_op_def nncw_op_def_cast;
/* slice.c */
extern const struct nncw_op_def nncw_op_def_slice, nncw_op_def_split;
/* gather.c */
extern const struct nncw_op_def nncw_op_def_gather, nncw_op_def_gatherelements;
/* resize.c */
extern const struct nncw_op_def nncw_op_def_resize;
/* conv_transpose.c */
extern const struct nncw_op_def nncw_op_def_convtranspose;
/* sample_norm.c */
extern const struct nncw_op_def nncw_op_def_instancenorm, nncw_op_def_layernorm, nncw_op_def_lrn;
/* fake_quantize.c */
extern const struct nncw_op_def nncw_op_def_quantize_symmetric, nncw_op_def_quantize_asymmetric,
    nncw_op_def_fakequantize;
/* quantize_linear.c */
extern const struct nncw_op_def nncw_op_def_quantizelinear, nncw_op_def_dequantizelinear;
/* rb_sparsify.c */
extern const struct nncw_op_def nncw_op_def_rb_sparsify;
/* binarize.c */
extern const struct nncw_op_def nncw_op_def_xnor_binarize, nncw_op_def_dorefa_binarize,
    nncw_op_def_activation_binarize;
