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
