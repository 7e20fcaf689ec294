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
    [NNCW_OP_NEG] = &nncw_op_def_neg,
    [NNCW_OP_ABS] = &nncw_op_def_abs,
    [NNCW_OP_EXP] = &nncw_op_def_exp,
    [NNCW_OP_LOG] = &nncw_op_def_log,
    [NNCW_OP_SQRT] = &nncw_op_def_sqrt,
    [NNCW_OP_RECIPROCAL] = &nncw_op_def_reciprocal,
    [NNCW_OP_FLOOR] = &nncw_op_def_floor,
    [NNCW_OP_CEIL] = &nncw_op_def_ceil,
    [NNCW_OP_ROUND] = &nncw_op_def_round,
    [NNCW_OP_SIGN] = &nncw_op_def_sign,
    [NNCW_OP_SIN] = &nncw_op_def_sin,
    [NNCW_OP_COS] = &nncw_op_def_cos,
    [NNCW_OP_TAN] = &nncw_op_def_tan,
    [NNCW_OP_ASIN] = &nncw_op_def_asin,
    [NNCW_OP_ACOS] = &nncw_op_def_acos,
    [NNCW_OP_ATAN] = &nncw_op_def_atan,
    [NNCW_OP_SINH] = &nncw_op_def_sinh,
    [NNCW_OP_COSH] = &nncw_op_def_cosh,
    [NNCW_OP_ASINH] = &nncw_op_def_asinh,
    [NNCW_OP_ACOSH] = &nncw_op_def_acosh,
    [NNCW_OP_ATANH] = &nncw_op_def_atanh,
    [NNCW_OP_ERF] = &nncw_op_def_erf,
    [NNCW_OP_SOFTPLUS] = &nncw_op_def_softplus,
    [NNCW_OP_SOFTSIGN] = &nncw_op_def_softsign,
    [NNCW_OP_SELU] = &nncw_op_def_selu,
    [NNCW_OP_CELU] = &nncw_op_def_celu,
    [NNCW_OP_THRESHOLDEDRELU] = &nncw_op_def_thresholdedrelu,
    [NNCW_OP_SHRINK] = &nncw_op_def_shrink,
    [NNCW_OP_ISNAN] = &nncw_op_def_isnan,
    [NNCW_OP_ISINF] = &nncw_op_def_isinf,
    [NNCW_OP_NOT] = &nncw_op_def_not,
    [NNCW_OP_DIV] = &nncw_op_def_div,
    [NNCW_OP_POW] = &nncw_op_def_pow,
    [NNCW_OP_MOD] = &nncw_op_def_mod,
    [NNCW_OP_MAX] = &nncw_op_def_max,
    [NNCW_OP_MIN] = &nncw_op_def_min,
    [NNCW_OP_SUM] = &nncw_op_def_sum,
    [NNCW_OP_MEAN] = &nncw_op_def_mean,
    [NNCW_OP_EQUAL] = &nncw_op_def_equal,
    [NNCW_OP_LESS] = &nncw_op_def_less,
    [NNCW_OP_GREATER] = &nncw_op_def_greater,
    [NNCW_OP_LESSOREQUAL] = &nncw_op_def_lessorequal,
    [NNCW_OP_GREATEROREQUAL] = &nncw_op_def_greaterorequal,
    [NNCW_OP_AND] = &nncw_op_def_and,
    [NNCW_OP_OR] = &nncw_op_def_or,
    [NNCW_OP_XOR] = &nncw_op_def_xor,
    [NNCW_OP_WHERE] = &nncw_op_def_where,
    [NNCW_OP_PRELU] = &nncw_op_def_prelu,
    [NNCW_OP_REDUCESUM] = &nncw_op_def_reducesum,
    [NNCW_OP_REDUCEMEAN] = &nncw_op_def_reducemean,
    [NNCW_OP_REDUCEMAX] = &nncw_op_def_reducemax,
    [NNCW_OP_REDUCEMIN] = &nncw_op_def_reducemin,
    [NNCW_OP_REDUCEPROD] = &nncw_op_def_reduceprod,
    [NNCW_OP_REDUCEL1] = &nncw_op_def_reducel1,
    [NNCW_OP_REDUCEL2] = &nncw_op_def_reducel2,
    [NNCW_OP_REDUCESUMSQUARE] = &nncw_op_def_reducesumsquare,
    [NNCW_OP_REDUCELOGSUM] = &nncw_op_def_reducelogsum,
    [NNCW_OP_REDUCELOGSUMEXP] = &nncw_op_def_reducelogsumexp,
    [NNCW_OP_ARGMAX] = &nncw_op_def_argmax,
    [NNCW_OP_ARGMIN] = &nncw_op_def_argmin,
    [NNCW_OP_GLOBALMAXPOOL] = &nncw_op_def_globalmaxpool,
    [NNCW_OP_SQUEEZE] = &nncw_op_def_squeeze,
    [NNCW_OP_UNSQUEEZE] = &nncw_op_def_unsqueeze,
    [NNCW_OP_EXPAND] = &nncw_op_def_expand,
    [NNCW_OP_TILE] = &nncw_op_def_tile,
    [NNCW_OP_SHAPE] = &nncw_op_def_shape,
    [NNCW_OP_SIZE] = &nncw_op_def_size,
    [NNCW_OP_CAST] = &nncw_op_def_cast,
    [NNCW_OP_SLICE] = &nncw_op_def_slice,
    [NNCW_OP_SPLIT] = &nncw_op_def_split,
    [NNCW_OP_GATHER] = &nncw_op_def_gather,
    [NNCW_OP_GATHERELEMENTS] = &nncw_op_def_gatherelements,
    [NNCW_OP_RESIZE] = &nncw_op_def_resize,
    [NNCW_OP_CONVTRANSPOSE] = &nncw_op_def_convtranspose,
    [NNCW_OP_INSTANCENORM] = &nncw_op_def_instancenorm,
    [NNCW_OP_LAYERNORM] = &nncw_op_def_layernorm,
    [NNCW_OP_LRN] = &nncw_op_def_lrn,
    /* quantization */
    [NNCW_OP_QUANTIZE_SYMMETRIC] = &nncw_op_def_quantize_symmetric,
    [NNCW_OP_QUANTIZE_ASYMMETRIC] = &nncw_op_def_quantize_asymmetric,
    [NNCW_OP_FAKEQUANTIZE] = &nncw_op_def_fakequantize,
    [NNCW_OP_QUANTIZELINEAR] = &nncw_op_def_quantizelinear,
    [NNCW_OP_DEQUANTIZELINEAR] = &nncw_op_def_dequantizelinear,
    /* sparsity */
    [NNCW_OP_RB_SPARSIFY] = &nncw_op_def_rb_sparsify,
    /* binarization */
    [NNCW_OP_XNOR_BINARIZE] = &nncw_op_def_xnor_binarize,
    [NNCW_OP_DOREFA_BINARIZE] = &nncw_op_def_dorefa_binarize,
    [NNCW_OP_ACTIVATION_BINARIZE] = &nncw_op_def_activation_binarize,
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
