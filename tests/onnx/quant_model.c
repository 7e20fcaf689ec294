/*
 * Writes nncw's small quantized network (tests/common/quant_net.h) for checks by other ONNX
 * tools: its QuantizeLinear/DequantizeLinear export (qdq.onnx, and qdq_narrow.onnx with
 * 255-level conv weights), its FakeQuantize export (fq.onnx), an input batch and nncw's
 * outputs as raw little-endian float32, and their shapes.
 *
 *     quant_model OUT_DIR     -> OUT_DIR/{qdq,qdq_narrow,fq}.onnx, input.bin,
 *                                output.bin, output_narrow.bin, shapes.txt
 *
 * shapes.txt holds one line per tensor: "<file> <dim> <dim> ...". Exit status 1 on failure.
 */
#include <stdio.h>
#include <string.h>

#include "graph/exec.h"
#include "onnx/onnx.h"
#include "quant_net.h"

static enum nncw_status run(struct nncw_graph *g, const struct nncw_tensor *x,
                            struct nncw_tensor *y)
{
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = x->shape[0]};
    NNCW_TRY(nncw_exec_new(g, &o, &ex));
    enum nncw_status s = nncw_tensor_copy(nncw_exec_get_input(ex, 0), x);
    if (s == NNCW_OK)
        s = nncw_exec_forward(ex);
    if (s == NNCW_OK)
        s = nncw_tensor_init_copy(y, nncw_exec_get_output(ex, 0));
    nncw_exec_free(ex);
    return s;
}

static bool write_raw(const char *dir, const char *file, const struct nncw_tensor *t, FILE *shapes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(t->data, 1, nncw_tensor_nbytes(t), f) == nncw_tensor_nbytes(t);
    ok = fclose(f) == 0 && ok;
    fprintf(shapes, "%s", file);
    for (int d = 0; d < t->ndim; d++)
        fprintf(shapes, " %lld", (long long)t->shape[d]);
    fprintf(shapes, "\n");
    return ok;
}

static enum nncw_status export(struct nncw_graph *g, const char *dir, const char *file,
                               bool standard) {
    char path[4096]; snprintf(path, sizeof path, "%s/%s", dir, file);
    struct nncw_onnx_export_options eo = {.standard_ops = standard};
    return nncw_onnx_export_file(g, path, &eo);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    snprintf(path, sizeof path, "%s/shapes.txt", dir);
    FILE *shapes = fopen(path, "w");
    if (!shapes) {
        fprintf(stderr, "%s: cannot create\n", path);
        return 1;
    }
    struct nncw_graph *g = NULL, *gn = NULL;
    struct nncw_tensor x = {0}, y = {0}, yn = {0};
    enum nncw_status s = qnet_build(false, &g);
    if (s == NNCW_OK)
        s = qnet_build(true, &gn);
    if (s == NNCW_OK)
        s = qnet_input(16, &x);
    if (s == NNCW_OK)
        s = run(g, &x, &y);
    if (s == NNCW_OK)
        s = run(gn, &x, &yn);
    if (s == NNCW_OK)
        s = export(g, dir, "qdq.onnx", true);
    if (s == NNCW_OK)
        s = export(gn, dir, "qdq_narrow.onnx", true);
    if (s == NNCW_OK)
        s = export(g, dir, "fq.onnx", false);
    bool ok = s == NNCW_OK && write_raw(dir, "input.bin", &x, shapes) &&
              write_raw(dir, "output.bin", &y, shapes) &&
              write_raw(dir, "output_narrow.bin", &yn, shapes);
    ok = fclose(shapes) == 0 && ok;
    if (s != NNCW_OK)
        fprintf(stderr, "quant_model: %s: %s\n", nncw_status_str(s), nncw_last_error());
    else if (!ok)
        fprintf(stderr, "quant_model: cannot write into %s\n", dir);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&yn);
    nncw_graph_free(g);
    nncw_graph_free(gn);
    return ok ? 0 : 1;
}
