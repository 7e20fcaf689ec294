/* PLACEHOLDER: replaced by the real implementation */
#include "ops/ops_internal.h"

static enum nncw_status placeholder_infer(const struct nncw_node *node, const struct nncw_tensor *const in[], int n_in, struct nncw_tensor out[])
{
    (void)in; (void)n_in; (void)out;
    return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s: not built yet", nncw_node_get_name(node));
}

const struct nncw_op_def nncw_op_def_maxpool = {"MaxPool", "MaxPool", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_avgpool = {"AveragePool", "AveragePool", 1, 1, 1, placeholder_infer, NULL, NULL};
const struct nncw_op_def nncw_op_def_globalavgpool = {"GlobalAveragePool", "GlobalAveragePool", 1, 1, 1, placeholder_infer, NULL, NULL};
