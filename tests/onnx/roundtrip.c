/*
 * Export round trips for the ONNX checker test: each model is imported, run, exported to
 * OUT_DIR/<n>.onnx, imported again and run again. The outputs must be identical, and a second
 * export must give the same bytes as the first.
 *
 *     roundtrip OUT_DIR MODEL.onnx [MODEL.onnx ...]
 *
 * Inputs are random (seeded) at batch 2 for a symbolic batch dimension. Exit status 1 if any
 * model fails; the exported files are left for python3-onnx's checker (check_export.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "graph/exec.h"
#include "onnx/onnx.h"

/* runs g on seeded random inputs into copies of its outputs */
static enum nncw_status run(struct nncw_graph *g, struct nncw_tensor *outs, int max_out)
{
    struct nncw_exec *ex = NULL;
    struct nncw_exec_options o = {.batch = 2};
    NNCW_TRY(nncw_exec_new(g, &o, &ex));
    struct nncw_rng r;
    nncw_rng_seed(&r, 42);
    for (int i = 0; i < nncw_graph_count_inputs(g); i++) {
        struct nncw_tensor *t = nncw_exec_get_input(ex, i);
        for (int64_t k = 0; k < nncw_tensor_numel(t); k++)
            if (t->dtype == NNCW_DTYPE_F32)
                nncw_tensor_f32(t)[k] = 2 * nncw_rng_uniform(&r) - 1;
    }
    enum nncw_status s = nncw_exec_forward(ex);
    for (int i = 0; s == NNCW_OK && i < nncw_graph_count_outputs(g) && i < max_out; i++)
        s = nncw_tensor_init_copy(&outs[i], nncw_exec_get_output(ex, i));
    nncw_exec_free(ex);
    return s;
}

static bool same(const struct nncw_tensor *a, const struct nncw_tensor *b)
{
    return a->dtype == b->dtype && nncw_tensor_same_shape(a, b) &&
           memcmp(a->data, b->data, nncw_tensor_nbytes(a)) == 0;
}

static bool check(const char *model, const char *out_path)
{
    struct nncw_graph *g = NULL, *g2 = NULL;
    struct nncw_tensor y1[8], y2[8];
    memset(y1, 0, sizeof y1);
    memset(y2, 0, sizeof y2);
    void *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    bool ok = false;
    enum nncw_status s = nncw_onnx_import_file(model, NULL, &g);
    if (s == NNCW_OK)
        s = run(g, y1, 8);
    if (s == NNCW_OK)
        s = nncw_onnx_export_file(g, out_path, NULL);
    if (s == NNCW_OK)
        s = nncw_onnx_import_file(out_path, NULL, &g2);
    if (s == NNCW_OK)
        s = run(g2, y2, 8);
    if (s == NNCW_OK)
        s = nncw_onnx_export_buffer(g2, NULL, &b2, &l2);
    if (s == NNCW_OK)
        s = nncw_onnx_export_buffer(g, NULL, &b1, &l1);
    if (s != NNCW_OK) {
        printf("FAIL %s: %s\n", model, nncw_last_error());
        goto out;
    }
    for (int i = 0; i < nncw_graph_count_outputs(g) && i < 8; i++)
        if (!same(&y1[i], &y2[i])) {
            printf("FAIL %s: output %d differs after the round trip\n", model, i);
            goto out;
        }
    if (l1 != l2 || memcmp(b1, b2, l1) != 0) {
        printf("FAIL %s: exporting the imported export gives other bytes\n", model);
        goto out;
    }
    printf("ok   %s -> %s (%zu bytes, outputs identical)\n", model, out_path, l1);
    ok = true;
out:
    for (int i = 0; i < 8; i++) {
        nncw_tensor_fini(&y1[i]);
        nncw_tensor_fini(&y2[i]);
    }
    nncw_free(b1);
    nncw_free(b2);
    nncw_graph_free(g);
    nncw_graph_free(g2);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: roundtrip OUT_DIR MODEL.onnx [MODEL.onnx ...]\n", stderr);
        return 2;
    }
    int failed = 0;
    for (int i = 2; i < argc; i++) {
        char out[4096];
        snprintf(out, sizeof out, "%s/%d.onnx", argv[1], i - 2);
        failed += !check(argv[i], out);
    }
    printf("%d passed, %d failed\n", argc - 2 - failed, failed);
    return failed ? 1 : 0;
}
