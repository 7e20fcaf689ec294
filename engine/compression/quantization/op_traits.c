/* Op facts for quantizer placement: NNCF's default traits, OpenVINO (hardware config) names,
 * weight ports, channel-moving ops and integer values. */
#include "compression/quantization/op_traits.h"

#include <string.h>

#include "core/alloc.h"
#include "core/common.h"

static const char *const trait_names[] = {
    [NNCW_QTRAIT_NON_QUANTIZABLE] = "non-quantizable",
    [NNCW_QTRAIT_INPUTS_QUANTIZABLE] = "inputs quantizable",
    [NNCW_QTRAIT_AGNOSTIC] = "quantization-agnostic",
    [NNCW_QTRAIT_CONCAT] = "concat",
    [NNCW_QTRAIT_OUTPUT_AS_WEIGHTS] = "output as weights",
};
_Static_assert(NNCW_ARRAY_LEN(trait_names) == NNCW_QTRAIT_COUNT, "trait_names out of date");

const char *nncw_qtrait_name(enum nncw_qtrait t)
{
    return (unsigned)t < NNCW_QTRAIT_COUNT ? trait_names[t] : "?";
}

/*
** NNCF v2.0's default trait map (nncf/torch/quantization/default_quantization.py) in nncw's
** ops. Quantizable: convolutions, linear layers, the non-ReLU activations, layer and batch
** norm, add/mul/div (nncw adds Sub and Sum, their siblings), exp, erf, mean, round, average
** pooling. Agnostic: ReLU, max pooling and the ops that only move or select data. NNCF 2.0
** called every other traced op agnostic; nncw keeps such ops (other math, other
** normalisations, reductions, softmax) in FP32 instead, as NNCF's ONNX backend and later
** versions do, because letting a quantizer pass a non-linear op changes what it quantizes.
*/
static const enum nncw_qtrait default_traits[NNCW_OP_COUNT] = {
    [NNCW_OP_CONV] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_CONVTRANSPOSE] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_GEMM] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_MATMUL] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_CLIP] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_TANH] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_ELU] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_PRELU] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_LEAKYRELU] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_SIGMOID] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_HARDSIGMOID] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_HARDSWISH] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_SWISH] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_LAYERNORM] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_BATCHNORM] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_ADD] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_SUM] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_SUB] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_MUL] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_DIV] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_EXP] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_ERF] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_REDUCEMEAN] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_ROUND] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_AVGPOOL] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_GLOBALAVGPOOL] = NNCW_QTRAIT_INPUTS_QUANTIZABLE,
    [NNCW_OP_RELU] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_MAXPOOL] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_GLOBALMAXPOOL] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_REDUCEMAX] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_REDUCEMIN] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_MAX] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_MIN] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_RESHAPE] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_FLATTEN] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_TRANSPOSE] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_SQUEEZE] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_UNSQUEEZE] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_EXPAND] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_TILE] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_SLICE] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_SPLIT] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_GATHER] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_GATHERELEMENTS] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_PAD] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_DROPOUT] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_IDENTITY] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_CAST] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_RESIZE] = NNCW_QTRAIT_AGNOSTIC,
    [NNCW_OP_CONCAT] = NNCW_QTRAIT_CONCAT,
    [NNCW_OP_EMBEDDING] = NNCW_QTRAIT_OUTPUT_AS_WEIGHTS,
    /* everything else (softmax, other math and normalisations) is 0: non-quantizable */
};

/* a float parameter (weight or constant table) at input port i */
static bool float_param_at(const struct nncw_graph *g, const struct nncw_node *n, int i)
{
    if (i >= nncw_node_count_inputs(n))
        return false;
    int v = nncw_node_get_input(n, i);
    return v >= 0 && nncw_graph_get_value_kind(g, v) == NNCW_VALUE_PARAM &&
           nncw_graph_get_value_tensor(g, v)->dtype == NNCW_DTYPE_F32;
}

/* a Gather reading rows of a float parameter: how ONNX writes nn.Embedding */
static bool is_embedding_gather(const struct nncw_graph *g, const struct nncw_node *n)
{
    return nncw_node_get_op(n) == NNCW_OP_GATHER && float_param_at(g, n, 0) &&
           nncw_node_get_attr_int(n, "axis", 0) == 0;
}

enum nncw_qtrait nncw_quant_default_trait(const struct nncw_graph *g, const struct nncw_node *n)
{
    enum nncw_op op = nncw_node_get_op(n);
    if (is_embedding_gather(g, n))
        return NNCW_QTRAIT_OUTPUT_AS_WEIGHTS;
    return (unsigned)op < NNCW_OP_COUNT ? default_traits[op] : NNCW_QTRAIT_NON_QUANTIZABLE;
}

/* OpenVINO names, as NNCF's metatypes (torch and ONNX backends) give them */
static const char *const hw_names[NNCW_OP_COUNT] = {
    [NNCW_OP_CONV] = "Convolution",
    [NNCW_OP_CONVTRANSPOSE] = "ConvolutionBackpropData",
    [NNCW_OP_GEMM] = "MatMul",
    [NNCW_OP_MATMUL] = "MatMul",
    [NNCW_OP_AVGPOOL] = "AvgPool",
    [NNCW_OP_GLOBALAVGPOOL] = "AvgPool",
    [NNCW_OP_MAXPOOL] = "MaxPool",
    [NNCW_OP_GLOBALMAXPOOL] = "MaxPool",
    [NNCW_OP_ADD] = "Add",
    [NNCW_OP_SUM] = "Add",
    [NNCW_OP_SUB] = "Subtract",
    [NNCW_OP_MUL] = "Multiply",
    [NNCW_OP_DIV] = "Divide",
    [NNCW_OP_MAX] = "Maximum",
    [NNCW_OP_MIN] = "Minimum",
    [NNCW_OP_POW] = "Power",
    [NNCW_OP_SQRT] = "Power",
    [NNCW_OP_RECIPROCAL] = "Power",
    [NNCW_OP_MOD] = "FloorMod",
    [NNCW_OP_EQUAL] = "Equal",
    [NNCW_OP_LESS] = "Less",
    [NNCW_OP_LESSOREQUAL] = "LessEqual",
    [NNCW_OP_GREATER] = "Greater",
    [NNCW_OP_GREATEROREQUAL] = "GreaterEqual",
    [NNCW_OP_NOT] = "LogicalNot",
    [NNCW_OP_AND] = "LogicalAnd",
    [NNCW_OP_OR] = "LogicalOr",
    [NNCW_OP_XOR] = "LogicalXor",
    [NNCW_OP_REDUCEMEAN] = "ReduceMean",
    [NNCW_OP_REDUCEMAX] = "ReduceMax",
    [NNCW_OP_CONCAT] = "Concat",
    [NNCW_OP_RESHAPE] = "Reshape",
    [NNCW_OP_FLATTEN] = "Flatten",
    [NNCW_OP_SQUEEZE] = "Squeeze",
    [NNCW_OP_UNSQUEEZE] = "Unsqueeze",
    [NNCW_OP_SPLIT] = "Split",
    [NNCW_OP_TRANSPOSE] = "Transpose",
    [NNCW_OP_TILE] = "Tile",
    [NNCW_OP_SLICE] = "StridedSlice",
    [NNCW_OP_PAD] = "Pad",
    [NNCW_OP_EXPAND] = "Broadcast",
    [NNCW_OP_RESIZE] = "Interpolate",
    [NNCW_OP_EMBEDDING] = "Embedding",
};

/* depthwise as NNCF decides it: groups == input channels > 1, i.e. one input channel per
 * group in the weight [C_out, C_in / group, kh, kw] */
static bool is_depthwise(const struct nncw_graph *g, const struct nncw_node *n)
{
    if (nncw_node_get_attr_int(n, "group", 1) <= 1 || !float_param_at(g, n, 1))
        return false;
    const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, nncw_node_get_input(n, 1));
    return w->ndim >= 3 && w->shape[1] == 1;
}

const char *nncw_quant_hw_name(const struct nncw_graph *g, const struct nncw_node *n,
                               const char **mode)
{
    enum nncw_op op = nncw_node_get_op(n);
    if (mode)
        *mode = NULL;
    if ((unsigned)op >= NNCW_OP_COUNT)
        return NULL;
    if (op == NNCW_OP_CONV && is_depthwise(g, n))
        return "DepthWiseConvolution";
    if (op == NNCW_OP_CONVTRANSPOSE && nncw_node_get_attr_int(n, "group", 1) > 1)
        return "GroupConvolutionBackpropData";
    if (op == NNCW_OP_RESIZE && mode)
        *mode = nncw_node_get_attr_string(n, "mode", "nearest");
    if (is_embedding_gather(g, n))
        return "Embedding";
    return hw_names[op];
}

int nncw_quant_weight_port(const struct nncw_graph *g, const struct nncw_node *n)
{
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_CONV:
    case NNCW_OP_CONVTRANSPOSE:
    case NNCW_OP_GEMM:
    case NNCW_OP_MATMUL:
        return float_param_at(g, n, 1) ? 1 : -1;
    case NNCW_OP_EMBEDDING:
        return float_param_at(g, n, 0) ? 0 : -1;
    case NNCW_OP_GATHER:
        return is_embedding_gather(g, n) ? 0 : -1;
    default:
        return -1;
    }
}

bool nncw_quant_op_moves_channels(enum nncw_op op)
{
    switch (op) {
    case NNCW_OP_RESHAPE:
    case NNCW_OP_FLATTEN:
    case NNCW_OP_TRANSPOSE:
    case NNCW_OP_SQUEEZE:
    case NNCW_OP_UNSQUEEZE:
    case NNCW_OP_EXPAND:
    case NNCW_OP_TILE:
    case NNCW_OP_GATHER:
    case NNCW_OP_GATHERELEMENTS:
        return true;
    default:
        return false;
    }
}

/* ---- integer values ---- */

static bool always_integer_output(const struct nncw_node *n)
{
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_SHAPE:
    case NNCW_OP_SIZE:
    case NNCW_OP_ARGMAX:
    case NNCW_OP_ARGMIN:
    case NNCW_OP_EQUAL:
    case NNCW_OP_LESS:
    case NNCW_OP_GREATER:
    case NNCW_OP_LESSOREQUAL:
    case NNCW_OP_GREATEROREQUAL:
    case NNCW_OP_AND:
    case NNCW_OP_OR:
    case NNCW_OP_XOR:
    case NNCW_OP_NOT:
    case NNCW_OP_ISNAN:
    case NNCW_OP_ISINF:
        return true;
    case NNCW_OP_CAST: {
        int64_t to = nncw_node_get_attr_int(n, "to", 1);    /* ONNX: 1 float, 10 half, 11 double, */
        return to != 1 && to != 10 && to != 11 && to != 16; /* 16 bfloat16 */
    }
    default:
        return false;
    }
}

enum nncw_status nncw_quant_integer_values(struct nncw_graph *g, bool *is_int)
{
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    int nv = nncw_graph_count_values(g);
    for (int v = 0; v < nv; v++)
        is_int[v] = nncw_graph_get_value_tensor(g, v)->dtype != NNCW_DTYPE_F32;
    int nn = nncw_graph_count_nodes(g);
    for (int k = 0; k < nn; k++) {
        const struct nncw_node *n = nncw_graph_get_node(g, order[k]);
        /* without shape inference activations read as f32: derive from the producer */
        int data = nncw_node_get_op(n) == NNCW_OP_WHERE ? 1 : 0;
        int in = data < nncw_node_count_inputs(n) ? nncw_node_get_input(n, data) : -1;
        bool from_input = in >= 0 && is_int[in] && nncw_node_get_op(n) != NNCW_OP_CAST;
        for (int o = 0; o < nncw_node_count_outputs(n); o++) {
            int v = nncw_node_get_output(n, o);
            is_int[v] = is_int[v] || always_integer_output(n) || from_input;
        }
    }
    return NNCW_OK;
}
