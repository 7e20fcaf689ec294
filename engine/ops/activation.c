/* PLACEHOLDER: replaced by the real implementation */
#include "ops/ops_internal.h"

static enum nncw_status placeholder_infer(const struct nncw_node *node, const struct nncw_tensor *const in[], int n_in, struct nncw_tensor out[])
{
    (void)in; (void)n_in; (void)out;
    return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s: not built yet", nncw_node_get_name(node));
}

const struct nncw_op_def nncw_op_def_relu = {"Relu", "Relu", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_leakyrelu = {"LeakyRelu", "LeakyRelu", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_elu = {"Elu", "Elu", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_sigmoid = {"Sigmoid", "Sigmoid", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_hardsigmoid = {"HardSigmoid", "HardSigmoid", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_hardswish = {"HardSwish", "HardSwish", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_tanh = {"Tanh", "Tanh", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_clip = {"Clip", "Clip", 1, 3, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_swish = {"Swish", NULL, 1, 1, 1, placeholder_infer, NULL, NULL};
