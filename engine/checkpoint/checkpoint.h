/*
 * Checkpoints: a graph's parameters (weights and buffers such as batch-norm running
 * statistics) in one file, written atomically (temporary file, fsync, rename) and checked
 * by CRC-32 when read.
 *
 *     nncw_checkpoint_save(g, "cnn.nncw");
 *     ...
 *     nncw_checkpoint_load(g2, "cnn.nncw");   // same architecture: names and shapes must match
 *
 * Format (little-endian): "NNCWCKPT", u32 version, u32 section count, sections
 * {u32 tag, u64 length, payload}, u32 CRC-32 of all preceding bytes. Section "PARM":
 * u32 count, then per tensor u32 name length, name, u32 dtype, u32 ndim, i64 shape[ndim],
 * raw data. Later sections (optimizer, compression state) are skipped by readers that do not
 * know them.
 */
#pragma once

#include "core/status.h"
#include "graph/graph.h"

/* NNCW_ERR_IO naming the path on a write failure; the old file is untouched then */
enum nncw_status nncw_checkpoint_save(const struct nncw_graph *g, const char *path);
/* loads every parameter of g from the file. NNCW_ERR_IO (missing/unreadable),
 * NNCW_ERR_PARSE (not a checkpoint, truncated, corrupt: CRC mismatch), NNCW_ERR_NOT_FOUND (a
 * parameter of g is missing), NNCW_ERR_SHAPE (a shape differs); g is unchanged on failure */
enum nncw_status nncw_checkpoint_load(struct nncw_graph *g, const char *path);
