/*
 * libFuzzer target of the ONNX importer: any byte string goes through import, and an imported
 * graph through export and a second import. Nothing may crash, hang or allocate without bound;
 * every refusal is an ordinary status.
 *
 *     CC=clang meson setup build-fuzz -Dfuzzer=true -Db_sanitize=address,undefined \
 *         -Dc_args=-fsanitize=fuzzer-no-link
 *     ninja -C build-fuzz tests/onnx/fuzz_import
 *     build-fuzz/tests/onnx/fuzz_import -max_total_time=600 -rss_limit_mb=2048 CORPUS_DIR \
 *         tests/onnx/fuzz_corpus
 */
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/log.h"
#include "onnx/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *user, enum nncw_log_level level, const char *msg)
{
    (void)user, (void)level, (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nncw_log_set_handler(quiet, NULL);
    /* a small folding limit keeps every run's memory small */
    struct nncw_onnx_import_options o = {.max_fold_bytes = 1 << 20};
    struct nncw_graph *g = NULL;
    if (nncw_onnx_import_buffer(data, size, &o, &g) != NNCW_OK)
        return 0;
    void *buf = NULL;
    size_t len = 0;
    if (nncw_onnx_export_buffer(g, NULL, &buf, &len) == NNCW_OK) {
        struct nncw_graph *g2 = NULL;
        if (nncw_onnx_import_buffer(buf, len, &o, &g2) == NNCW_OK)
            nncw_graph_free(g2);
        nncw_free(buf);
    }
    nncw_graph_free(g);
    return 0;
}
