/*
 * ONNX in and out: ModelProto files to graph IR and back, and TensorProto files (the format of
 * the ONNX test data) to tensors and back.
 *
 *     struct nncw_graph *g;
 *     if (nncw_onnx_import_file("resnet18.onnx", NULL, &g) != NNCW_OK)
 *         fprintf(stderr, "%s\n", nncw_last_error()); // node "Conv_12": op Foo (opset 13) ...
 *     ...                                              // run, train, compress
 *     struct nncw_onnx_export_options eo = {.opset = 13};
 *     nncw_onnx_export_file(g, "out.onnx", &eo);       // weights become initializers
 *     nncw_graph_free(g);
 *
 *     struct nncw_tensor x;
 *     nncw_onnx_read_tensor_file("test_data_set_0/input_0.pb", &x, NULL, 0);
 *
 * Quantized models: nncw's trainable quantizers are written as OpenVINO FakeQuantize nodes (or
 * QuantizeLinear/DequantizeLinear pairs with standard_ops), and FakeQuantize of domain
 * org.openvinotoolkit, QuantizeLinear and DequantizeLinear import as nncw ops (the last two
 * never folded away on constants, so quantized weights stay visible).
 *
 * Import: initializers become parameters (float ones trainable), node names become scope
 * names (unnamed nodes get "<op>_<index>"), tensor names are kept as value names, Constant
 * nodes and subgraphs of constants (the Shape -> Gather -> Unsqueeze -> Concat -> Reshape
 * chains PyTorch exports) are folded into constants. A symbolic first input dimension is the
 * batch; shapes that depend on it are resolved when a folded Reshape target allows it. Opsets
 * 7 to 17 of the default domain are read. Every failure names the node and op; files are
 * bounded (max_file_bytes) and never trusted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "graph/graph.h"
#include "tensor/tensor.h"

/* What is known about a graph input before import. With freeze, its value becomes a constant
 * (OpenVINO's freeze_placeholder_with_value), so the shapes it determines can be planned;
 * otherwise only its shape is used, fixing the input's symbolic dimensions. */
struct nncw_onnx_binding {
    const char *name;
    const struct nncw_tensor *value; /* borrowed during the import */
    bool freeze;
};

struct nncw_onnx_import_options {
    size_t max_file_bytes; /* 0: 2 GiB, protobuf's own limit */
    size_t max_fold_bytes; /* largest constant folding may create; 0: 64 MiB */
    int n_bindings;
    const struct nncw_onnx_binding *bindings;
};

struct nncw_onnx_export_options {
    int opset;            /* default domain opset; 0: 13 (raised if an op needs a newer one) */
    const char *producer; /* NULL: "nncw" */
    /* Quantizers (SymmetricQuantize, AsymmetricQuantize) as QuantizeLinear + DequantizeLinear
     * pairs, 8-bit only (NNCF's export_to_onnx_standard_ops); false: OpenVINO FakeQuantize
     * nodes of domain org.openvinotoolkit. Disabled quantizers are left out either way. */
    bool standard_ops;
};

/* One line of an op histogram. */
struct nncw_onnx_op_count {
    char op_type[64];
    int count;
    bool supported;
    char first_node[96]; /* the first node with this op, for messages */
};

/* What a model file holds, read without importing it (so a model with unsupported ops can still
 * be described): metadata and the op histogram of the main graph. */
struct nncw_onnx_summary {
    int64_t ir_version;
    int64_t opset; /* of the default domain; 0 if absent */
    char producer[96];
    int n_nodes, n_initializers;
    int n_ops; /* entries in ops, most frequent first */
    struct nncw_onnx_op_count *ops;
    int n_unsupported; /* op types not supported (or in another domain) */
    int n_inputs;      /* graph inputs that are not initializers, in order */
    char **input_names;
};

/* ---- models ---- */
/* reads a model file into a new graph; NNCW_ERR_IO (cannot read), NNCW_ERR_PARSE (corrupt or
 * truncated), NNCW_ERR_UNSUPPORTED naming node and op, NNCW_ERR_SHAPE / NNCW_ERR_DTYPE from a
 * node's shape inference. opt may be NULL. */
enum nncw_status nncw_onnx_import_file(const char *path, const struct nncw_onnx_import_options *opt,
                                       struct nncw_graph **out);
/* the same from memory (the fuzzer's entry point) */
enum nncw_status nncw_onnx_import_buffer(const void *data, size_t len,
                                         const struct nncw_onnx_import_options *opt,
                                         struct nncw_graph **out);
/* writes a graph as an ONNX model; shape inference runs on g (hence not const). NNCW_ERR_IO,
 * NNCW_ERR_UNSUPPORTED for an op ONNX cannot express. opt may be NULL. */
enum nncw_status nncw_onnx_export_file(struct nncw_graph *g, const char *path,
                                       const struct nncw_onnx_export_options *opt);
/* the same into a new buffer (free it with nncw_free) */
enum nncw_status nncw_onnx_export_buffer(struct nncw_graph *g,
                                         const struct nncw_onnx_export_options *opt, void **data,
                                         size_t *len);

/* ---- summaries ---- */
/* the metadata and op histogram of a model file; free with nncw_onnx_summary_fini */
enum nncw_status nncw_onnx_summarize_file(const char *path, struct nncw_onnx_summary *out);
void nncw_onnx_summary_fini(struct nncw_onnx_summary *s);
/* whether nncw imports an op type of the default domain at an opset (Constant included) */
bool nncw_onnx_is_supported(const char *op_type, int64_t opset);

/* ---- tensors ---- */
/* reads a TensorProto file into a new tensor; *name (may be NULL) gets a copy of the tensor's
 * name for nncw_free, or NULL. max_bytes 0: 2 GiB. NNCW_ERR_UNSUPPORTED for a dtype nncw lacks */
enum nncw_status nncw_onnx_read_tensor_file(const char *path, struct nncw_tensor *out, char **name,
                                            size_t max_bytes);
/* writes a tensor as a TensorProto file (name may be NULL) */
enum nncw_status nncw_onnx_write_tensor_file(const char *path, const struct nncw_tensor *t,
                                             const char *name);
