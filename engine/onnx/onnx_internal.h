/* ONNX module internals: the generated protobuf-c types stay behind this header, which only
 * files in engine/onnx/ include. */
#pragma once

#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"

/* TensorProto.DataType values */
enum nncw_onnx_dt {
    NNCW_ONNX_DT_UNDEFINED = 0,
    NNCW_ONNX_DT_FLOAT = 1,
    NNCW_ONNX_DT_UINT8 = 2,
    NNCW_ONNX_DT_INT8 = 3,
    NNCW_ONNX_DT_UINT16 = 4,
    NNCW_ONNX_DT_INT16 = 5,
    NNCW_ONNX_DT_INT32 = 6,
    NNCW_ONNX_DT_INT64 = 7,
    NNCW_ONNX_DT_STRING = 8,
    NNCW_ONNX_DT_BOOL = 9,
    NNCW_ONNX_DT_FLOAT16 = 10,
    NNCW_ONNX_DT_DOUBLE = 11,
    NNCW_ONNX_DT_UINT32 = 12,
    NNCW_ONNX_DT_UINT64 = 13,
    NNCW_ONNX_DT_COMPLEX64 = 14,
    NNCW_ONNX_DT_COMPLEX128 = 15,
    NNCW_ONNX_DT_BFLOAT16 = 16,
    NNCW_ONNX_DT_COUNT
};

#define NNCW_ONNX_MAX_FILE ((size_t)2 << 30)
#define NNCW_ONNX_DEFAULT_OPSET 13
#define NNCW_ONNX_MAX_OPSET 17
#define NNCW_ONNX_OPENVINO_DOMAIN "org.openvinotoolkit"

/* ---- model_file.c: bounded reading and unpacking ---- */
/* the whole file into a new buffer (nncw_free); NNCW_ERR_IO naming the path, NNCW_ERR_PARSE if
 * larger than max (0: 2 GiB) */
enum nncw_status nncw_onnx_read_file(const char *path, size_t max, void **data, size_t *len);
/* Unpacks a message after checking its nesting depth, with allocations bounded by a multiple of
 * len; NNCW_ERR_PARSE naming `what` for corrupt or truncated data. Free with
 * nncw_onnx_message_free. */
enum nncw_status nncw_onnx_unpack(const ProtobufCMessageDescriptor *desc, const void *data,
                                  size_t len, const char *what, ProtobufCMessage **out);
void nncw_onnx_message_free(ProtobufCMessage *m);

/* ---- tensor_proto.c ---- */
/* false for a dtype nncw does not have */
bool nncw_onnx_dtype_from_proto(int32_t dt, enum nncw_dtype *out);
int32_t nncw_onnx_dtype_to_proto(enum nncw_dtype dt);
const char *nncw_onnx_dtype_proto_name(int32_t dt);
/* a new tensor from a TensorProto; `what` names it in messages ("initializer 'w'") */
enum nncw_status nncw_onnx_tensor_from_proto(const NncwOnnx__TensorProto *tp, const char *what,
                                             struct nncw_tensor *out);
/* Fills *tp (initialised here) to describe t; dims (NNCW_MAX_DIMS entries) is storage for
 * the shape; the data is borrowed as raw_data, so t must outlive the packing. */
void nncw_onnx_tensor_to_proto(const struct nncw_tensor *t, const char *name, int64_t *dims,
                               NncwOnnx__TensorProto *tp);

/* ---- import state, shared by import.c, fold.c and op_map.c ---- */

/* what an ONNX tensor name stands for during import */
struct nncw_onnx_sym {
    char *name;              /* ONNX name */
    int value;               /* graph value id; -1 while only known (not in the graph) */
    bool known;              /* t holds the value: constants and folded results */
    bool batch_dep;          /* known, but different at the two import batch sizes */
    bool init;               /* an initializer (trainable if float) */
    struct nncw_tensor t[2]; /* at batch[0] and batch[1]: the value (known: owns storage), or
                              * the shape (graph values; data borrowed for parameters) */
};

struct nncw_onnx_importer {
    const struct nncw_onnx_import_options *opt;
    const NncwOnnx__GraphProto *graph;
    int64_t opset;
    struct nncw_graph *g;
    int n_batch; /* 2 when an input has a symbolic batch dimension, else 1 */
    int64_t batch[2];
    size_t max_fold_bytes;
    size_t fold_budget; /* bytes all folded values may still take */
    struct nncw_onnx_sym *syms;
    int n_syms, cap_syms;
    int *sym_hash, sym_hash_cap; /* sym index + 1; 0 = empty slot */
    char **scopes;               /* node scope names used so far, hashed */
    int n_scopes, scope_hash_cap;
    const char **used; /* tensor names some node or graph output reads, hashed */
    int used_cap;
    /* the node being imported, for messages */
    const NncwOnnx__NodeProto *np;
    char node_name[160];
    int tmp_count;
};

/* an attribute a converter sets on top of (or instead of) the ONNX node's own */
struct nncw_onnx_attr_set {
    const char *name;
    enum nncw_attr_type type;
    int64_t i;
    float f;
    const char *s;
    int count;
    const int64_t *ints;
};

/* one nncw node to emit for the ONNX node being imported */
struct nncw_onnx_spec {
    enum nncw_op op;
    const char *suffix;            /* appended to the node's scope for helper nodes; NULL: none */
    int n_in, in[16];              /* symbol indices, -1 for a missing optional input */
    int n_out, out[8];             /* symbols that receive the outputs, -1 for an unused output */
    bool copy_attrs;               /* copy the ONNX node's attributes */
    const char *const *skip_attrs; /* NULL-terminated names not to copy */
    int n_set;
    struct nncw_onnx_attr_set set[4];
    bool keep_node; /* never fold, even on constant inputs (quantizers on weights) */
};

static inline const char *nncw_onnx_str(const char *s)
{
    return s ? s : ""; /* protobuf-c leaves absent strings NULL */
}

/* symtab.c */
/* the symbol of a tensor name, -1 if none */
int nncw_onnx_sym_find(const struct nncw_onnx_importer *im, const char *name);
/* a new symbol; NNCW_ERR_PARSE if the name is taken (ONNX names are assigned once) */
enum nncw_status nncw_onnx_sym_new(struct nncw_onnx_importer *im, const char *name, int *out);
void nncw_onnx_sym_fini(struct nncw_onnx_sym *s);
/* a scope not used yet into buf: base, else base_2, base_3, ... (and marks it used) */
enum nncw_status nncw_onnx_unique_scope(struct nncw_onnx_importer *im, const char *base, char *buf,
                                        size_t size);
/* the set of names some node or graph output reads */
enum nncw_status nncw_onnx_collect_used(struct nncw_onnx_importer *im);
bool nncw_onnx_is_used(const struct nncw_onnx_importer *im, const char *name);
void nncw_onnx_symtab_fini(struct nncw_onnx_importer *im);

/* import.c: the services converters use */
/* fails with `node "<name>": op <type> (opset N): <message>` */
enum nncw_status nncw_onnx_fail_node(struct nncw_onnx_importer *im, enum nncw_status code,
                                     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* the symbol of input i of the current node, -1 if absent; fails for an undefined name */
enum nncw_status nncw_onnx_node_input(struct nncw_onnx_importer *im, int i, int *sym);
/* a new symbol for output i of the current node (-1 if the output is unnamed or unused) */
enum nncw_status nncw_onnx_node_output(struct nncw_onnx_importer *im, int i, int *sym);
/* a new intermediate symbol named after the node */
enum nncw_status nncw_onnx_temp_sym(struct nncw_onnx_importer *im, const char *what, int *sym);
/* a known constant symbol; takes over t's storage reference (t is cleared) */
enum nncw_status nncw_onnx_const_sym(struct nncw_onnx_importer *im, const char *what,
                                     struct nncw_tensor *t, int *sym);
/* makes `sym` (fresh) a known constant; takes over t's storage */
void nncw_onnx_sym_set_known(struct nncw_onnx_importer *im, int sym, struct nncw_tensor *t,
                             struct nncw_tensor *t2);
/* folds the spec if every input is known, else adds nncw nodes */
enum nncw_status nncw_onnx_emit(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s);
/* sets the ONNX node's attributes and the spec's on a node */
enum nncw_status nncw_onnx_apply_attrs(struct nncw_onnx_importer *im,
                                       const struct nncw_onnx_spec *s, struct nncw_node *n);
/* the tracked shape (and data, if known) of a symbol at batch b */
const struct nncw_tensor *nncw_onnx_sym_tensor(const struct nncw_onnx_importer *im, int sym, int b);
/* an int attribute of the current node */
int64_t nncw_onnx_attr_int(const struct nncw_onnx_importer *im, const char *name, int64_t def);
const char *nncw_onnx_attr_string(const struct nncw_onnx_importer *im, const char *name,
                                  const char *def);
const NncwOnnx__AttributeProto *nncw_onnx_attr_find(const NncwOnnx__NodeProto *np,
                                                    const char *name);

/* fold.c: runs one spec on known inputs at batch b into new tensors outs[] (n_out of them;
 * entries for unused outputs are left empty); *too_big when the outputs would exceed
 * max_fold_bytes (nothing is computed then) */
enum nncw_status nncw_onnx_fold(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s,
                                int b, struct nncw_tensor *outs, bool *too_big);

/* op_map.c: the converter of an ONNX node of the default domain, NULL if unsupported */
typedef enum nncw_status (*nncw_onnx_convert_fn)(struct nncw_onnx_importer *im);
nncw_onnx_convert_fn nncw_onnx_find_converter(const char *op_type, int64_t opset);
/* a spec for the current node as it is: its inputs, used outputs, and attributes copied */
enum nncw_status nncw_onnx_spec_from_node(struct nncw_onnx_importer *im, enum nncw_op op,
                                          struct nncw_onnx_spec *s);
/* export: the oldest default-domain opset that has an op in the form nncw writes it */
int nncw_onnx_op_since(enum nncw_op op);

/* ---- quantized models (export_quant.c, import_quant.c) ---- */

/* export.c's state, and the services it lends export_quant.c (memory lives until packing) */
struct nncw_onnx_exporter;
struct nncw_graph *nncw_onnx_ex_graph(const struct nncw_onnx_exporter *e);
const struct nncw_onnx_export_options *nncw_onnx_ex_options(const struct nncw_onnx_exporter *e);
void *nncw_onnx_ex_alloc(struct nncw_onnx_exporter *e, size_t n); /* zeroed; NULL: no memory */
char *nncw_onnx_ex_strdup(struct nncw_onnx_exporter *e, const char *s);
NncwOnnx__NodeProto *nncw_onnx_ex_new_node(struct nncw_onnx_exporter *e, const char *op_type,
                                           const char *name, int n_in, int n_out, int max_attrs);
/* appends a node (one of org.openvinotoolkit adds that domain to the opset imports) */
enum nncw_status nncw_onnx_ex_push_node(struct nncw_onnx_exporter *e, NncwOnnx__NodeProto *np);
enum nncw_status nncw_onnx_ex_attr_int(struct nncw_onnx_exporter *e, NncwOnnx__NodeProto *np,
                                       const char *name, int64_t v);
/* an initializer; t's data must live until packing (allocate it with nncw_onnx_ex_alloc) */
enum nncw_status nncw_onnx_ex_add_init(struct nncw_onnx_exporter *e, const char *name,
                                       const struct nncw_tensor *t);
/* the ONNX name of a value as nodes read it */
const char *nncw_onnx_ex_value_name(const struct nncw_onnx_exporter *e, int id);

/* export_quant.c: SymmetricQuantize, AsymmetricQuantize and FakeQuantize */
bool nncw_onnx_is_quant_op(enum nncw_op op);
enum nncw_status nncw_onnx_export_quant_node(struct nncw_onnx_exporter *e,
                                             const struct nncw_node *n);
/* the value readers of `id` read instead: the input of a disabled quantizer producing it
 * (repeatedly), else id */
int nncw_onnx_export_quant_alias(const struct nncw_graph *g, int id);
/* whether a parameter is written by the quantizers instead of as itself (their ranges, and
 * weights they write clamped) */
bool nncw_onnx_export_quant_drops_param(const struct nncw_onnx_exporter *e, int id);

/* import_quant.c: converters */
enum nncw_status nncw_onnx_convert_fakequantize(struct nncw_onnx_importer *im);
enum nncw_status nncw_onnx_convert_dequantizelinear(struct nncw_onnx_importer *im);
/* whether a node of a domain other than the default one is one nncw imports */
bool nncw_onnx_is_known_custom_op(const char *domain, const char *op_type);
