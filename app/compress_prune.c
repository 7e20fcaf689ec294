/* `nncw compress --export-pruned`: NNCF 2.0's pruned export (channels really removed), next to
 * --export, which keeps the original shapes with zeroed filters as NNCF 2.1+ does. */
#include "compress_prune.h"

#include <stdio.h>
#include <sys/stat.h>

#include "core/alloc.h"

int app_compress_export_pruned(const struct nncw_compression *c, const char *path,
                               const struct nncw_onnx_export_options *eo, bool quiet)
{
    struct nncw_graph *small = NULL;
    char *table = NULL;
    if (nncw_compression_prune_graph(c, &small, &table) != NNCW_OK ||
        nncw_onnx_export_file(small, path, eo) != NNCW_OK) {
        fprintf(stderr, "nncw compress: --export-pruned: %s\n", nncw_last_error());
        nncw_graph_free(small);
        nncw_free(table);
        return 1;
    }
    struct stat st;
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    if (!quiet)
        printf("pruned model (masked channels removed):\n%s", table);
    printf("exported pruned model %s (%lld bytes)\n", path, bytes);
    fflush(stdout);
    nncw_graph_free(small);
    nncw_free(table);
    return 0;
}
