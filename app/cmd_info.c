/* `nncw info`: a summary of an ONNX model: inputs, outputs, op histogram, parameters, FLOPs and
 * the ops nncw does not support. */
#include "commands.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "onnx/onnx.h"

static const char usage[] =
    "usage: nncw info MODEL.onnx\n"
    "\n"
    "Describe an ONNX model: producer and opset, inputs and outputs with their shapes, the op\n"
    "histogram, parameter count, multiply-accumulates and FLOPs per image, and the ops nncw\n"
    "does not support (if any). Exits 1 when the model cannot be imported.\n";

/* "float32 [batch, 3, 224, 224]" */
static void print_value(const struct nncw_graph *g, int id, bool batch_dim)
{
    const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
    printf("  %-24s %s [", nncw_graph_get_value_name(g, id), nncw_dtype_name(t->dtype));
    for (int d = 0; d < t->ndim; d++) {
        if (d == 0 && batch_dim)
            printf("batch");
        else
            printf("%" PRId64, t->shape[d]);
        printf(d + 1 < t->ndim ? ", " : "");
    }
    printf("]\n");
}

static void print_count(const char *label, double v, const char *unit)
{
    const char *scale = "";
    if (v >= 1e9) {
        v /= 1e9;
        scale = " G";
    } else if (v >= 1e6) {
        v /= 1e6;
        scale = " M";
    } else if (v >= 1e3) {
        v /= 1e3;
        scale = " k";
    }
    printf("%-13s %.3g%s%s\n", label, v, scale, unit);
}

static void print_summary(const char *path, const struct nncw_onnx_summary *s)
{
    printf("model         %s\n", path);
    printf("producer      %s (IR version %" PRId64 ", opset %" PRId64 ")\n",
           s->producer[0] ? s->producer : "unknown", s->ir_version, s->opset);
    printf("nodes         %d ONNX nodes, %d initializers\n", s->n_nodes, s->n_initializers);
    printf("ops          ");
    for (int i = 0; i < s->n_ops; i++)
        printf(" %s %d%s", s->ops[i].op_type, s->ops[i].count, i + 1 < s->n_ops ? "," : "");
    printf("\n");
}

static void print_unsupported(const struct nncw_onnx_summary *s)
{
    if (s->n_unsupported == 0) {
        printf("unsupported   none\n");
        return;
    }
    printf("unsupported   %d op type%s:\n", s->n_unsupported, s->n_unsupported > 1 ? "s" : "");
    for (int i = 0; i < s->n_ops; i++)
        if (!s->ops[i].supported)
            printf("  %-24s %d node%s, first \"%s\"\n", s->ops[i].op_type, s->ops[i].count,
                   s->ops[i].count > 1 ? "s" : "", s->ops[i].first_node);
}

static void print_graph(struct nncw_graph *g)
{
    printf("inputs\n");
    for (int i = 0; i < nncw_graph_count_inputs(g); i++) {
        int id = nncw_graph_get_input(g, i);
        print_value(g, id, nncw_graph_has_dynamic_batch(g, id));
    }
    int64_t macs = 0, flops = 0;
    bool counted = nncw_graph_count_flops(g, 1, &macs, &flops) == NNCW_OK;
    printf("outputs (batch 1)\n");
    for (int i = 0; i < nncw_graph_count_outputs(g); i++)
        print_value(g, nncw_graph_get_output(g, i), false);
    int64_t weights = 0;
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, nncw_graph_get_param(g, i));
        weights += nncw_tensor_numel(t);
    }
    printf("parameters    %" PRId64 " (%" PRId64 " trainable) in %d tensors\n", weights,
           nncw_graph_count_param_elements(g), nncw_graph_count_params(g));
    printf("graph         %d nncw nodes after import\n", nncw_graph_count_nodes(g));
    if (counted) {
        print_count("MACs", (double)macs, " per image");
        print_count("FLOPs", (double)flops, " per image");
    }
}

static void quiet(void *user, enum nncw_log_level level, const char *msg)
{
    (void)user;
    if (level >= NNCW_LOG_WARN)
        fprintf(stderr, "nncw info: %s\n", msg);
}

int app_cmd_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fputs(usage, stderr);
        return 2;
    }
    const char *path = argv[1];
    nncw_log_set_handler(quiet, NULL);
    struct nncw_onnx_summary s;
    if (nncw_onnx_summarize_file(path, &s) != NNCW_OK) {
        fprintf(stderr, "nncw info: %s\n", nncw_last_error());
        return 1;
    }
    print_summary(path, &s);
    struct nncw_graph *g = NULL;
    int rc = 0;
    if (nncw_onnx_import_file(path, NULL, &g) == NNCW_OK) {
        print_graph(g);
    } else {
        printf("import        failed: %s\n", nncw_last_error());
        rc = 1;
    }
    print_unsupported(&s);
    nncw_graph_free(g);
    nncw_onnx_summary_fini(&s);
    return rc;
}
