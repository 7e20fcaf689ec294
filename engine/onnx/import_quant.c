/*
** Importing quantized models: OpenVINO's FakeQuantize (domain org.openvinotoolkit, what NNCF
** and nncw export) and ONNX's DequantizeLinear. Both stay nodes even on constant inputs, so a
** quantized weight keeps its quantizer (the integer executor reads it) instead of being folded
** into a float constant. QuantizeLinear maps directly and folds on constants: a weight becomes
** its integer tensor, read by the DequantizeLinear that follows.
*/
#include <string.h>

#include "onnx/onnx_internal.h"

#define MAX_FQ_LEVELS (1 << 22)

bool nncw_onnx_is_known_custom_op(const char *domain, const char *op_type)
{
    return strcmp(domain, NNCW_ONNX_OPENVINO_DOMAIN) == 0 && strcmp(op_type, "FakeQuantize") == 0;
}

enum nncw_status nncw_onnx_convert_fakequantize(struct nncw_onnx_importer *im)
{
    const NncwOnnx__NodeProto *np = im->np;
    const char *domain = nncw_onnx_str(np->domain);
    if (strcmp(domain, NNCW_ONNX_OPENVINO_DOMAIN) != 0)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "FakeQuantize is OpenVINO's op: expected domain "
                                   "%s, not '%s'",
                                   NNCW_ONNX_OPENVINO_DOMAIN, domain);
    if (np->n_input != 5)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE,
                                   "%zu inputs (expected 5: x, input_low, input_high, output_low, "
                                   "output_high)",
                                   np->n_input);
    const NncwOnnx__AttributeProto *a = nncw_onnx_attr_find(np, "levels");
    if (!a)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "attribute levels is missing");
    if (a->type != NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "attribute levels is not an integer");
    if (a->i < 2 || a->i > MAX_FQ_LEVELS)
        return nncw_onnx_fail_node(im, a->i < 2 ? NNCW_ERR_PARSE : NNCW_ERR_UNSUPPORTED,
                                   "levels %lld (expected 2 to %d)", (long long)a->i,
                                   MAX_FQ_LEVELS);
    struct nncw_onnx_spec s;
    NNCW_TRY(nncw_onnx_spec_from_node(im, NNCW_OP_FAKEQUANTIZE, &s));
    for (int i = 0; i < 5; i++)
        if (i >= s.n_in || s.in[i] < 0)
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "input %d is empty", i);
    if (s.n_out == 0) /* nothing reads it */
        return NNCW_OK;
    s.keep_node = true;
    return nncw_onnx_emit(im, &s);
}

enum nncw_status nncw_onnx_convert_dequantizelinear(struct nncw_onnx_importer *im)
{
    struct nncw_onnx_spec s;
    NNCW_TRY(nncw_onnx_spec_from_node(im, NNCW_OP_DEQUANTIZELINEAR, &s));
    if (s.n_out == 0)
        return NNCW_OK;
    s.keep_node = true;
    return nncw_onnx_emit(im, &s);
}
