/* `nncw compress --export-pruned`: the filter-pruned model with its masked channels removed,
 * written to ONNX, with the per-layer table and the file size. */
#pragma once

#include <stdbool.h>

#include "compression/compression.h"
#include "onnx/onnx.h"

/* shrinks c's model and exports it to path with eo; prints the table unless quiet; returns
 * the process exit status (0 or 1 with the message on stderr) */
int app_compress_export_pruned(const struct nncw_compression *c, const char *path,
                               const struct nncw_onnx_export_options *eo, bool quiet);
