#include <string.h>

#include "core/common.h"
#include "ops/ops.h"
#include "ops/ops_internal.h"

static const struct nncw_op_def *const table[] = {
    [NNCW_OP_CONV] = &nncw_op_def_conv,
    [NNCW_OP_GEMM] = &nncw_op_def_gemm,
    [NNCW_OP_MATMUL] = &nncw_op_def_matmul,
    [NNCW_OP_BATCHNORM] = &nncw_op_def_batchnorm,
    [NNCW_OP_RELU] = &nncw_op_def_relu,
    [NNCW_OP_CLIP] = &nncw_op_def_clip,
    [NNCW_OP_LEAKYRELU] = &nncw_op_def_leakyrelu,
    [NNCW_OP_ELU] = &nncw_op_def_elu,
    [NNCW_OP_SIGMOID] = &nncw_op_def_sigmoid,
    [NNCW_OP_HARDSIGMOID] = &nncw_op_def_hardsigmoid,
    [NNCW_OP_HARDSWISH] = &nncw_op_def_hardswish,
    [NNCW_OP_SWISH] = &nncw_op_def_swish,
    [NNCW_OP_TANH] = &nncw_op_def_tanh,
    [NNCW_OP_MAXPOOL] = &nncw_op_def_maxpool,
    [NNCW_OP_AVGPOOL] = &nncw_op_def_avgpool,
    [NNCW_OP_GLOBALAVGPOOL] = &nncw_op_def_globalavgpool,
    [NNCW_OP_ADD] = &nncw_op_def_add,
    [NNCW_OP_SUB] = &nncw_op_def_sub,
    [NNCW_OP_MUL] = &nncw_op_def_mul,
    [NNCW_OP_CONCAT] = &nncw_op_def_concat,
    [NNCW_OP_RESHAPE] = &nncw_op_def_reshape,
    [NNCW_OP_FLATTEN] = &nncw_op_def_flatten,
    [NNCW_OP_TRANSPOSE] = &nncw_op_def_transpose,
    [NNCW_OP_SOFTMAX] = &nncw_op_def_softmax,
    [NNCW_OP_LOGSOFTMAX] = &nncw_op_def_logsoftmax,
    [NNCW_OP_DROPOUT] = &nncw_op_def_dropout,
    [NNCW_OP_PAD] = &nncw_op_def_pad,
    [NNCW_OP_EMBEDDING] = &nncw_op_def_embedding,
    [NNCW_OP_IDENTITY] = &nncw_op_def_identity,
};
_Static_assert(NNCW_ARRAY_LEN(table) == NNCW_OP_COUNT, "op table out of date");

const struct nncw_op_def *nncw_op_get_def(enum nncw_op op)
{
    NNCW_ASSERT((unsigned)op < NNCW_OP_COUNT && table[op]);
    return table[op];
}

const char *nncw_op_name(enum nncw_op op)
{
    return (unsigned)op < NNCW_OP_COUNT ? table[op]->name : "?";
}

enum nncw_status nncw_op_find_onnx(const char *onnx_name, enum nncw_op *out)
{
    for (int i = 0; i < NNCW_OP_COUNT; i++)
        if (table[i]->onnx_name && strcmp(table[i]->onnx_name, onnx_name) == 0) {
            *out = (enum nncw_op)i;
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "no op named '%s'", onnx_name);
}
