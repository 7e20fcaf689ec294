/*
 * Checkpoints: a model's parameters and, for resumable runs, everything else a training or
 * compression run needs to go on exactly where it stopped, in one file written atomically
 * (temporary file in the same folder, fsync, rename, fsync of the folder) and checked by
 * CRC-32 when read.
 *
 *     nncw_checkpoint_save(g, "cnn.nncw");              // weights only
 *     nncw_checkpoint_load(g2, "cnn.nncw");             // same names and shapes
 *
 *     struct nncw_checkpoint_parts p = {.graph = g, .trainer = t, .compression = c,
 *                                       .config_json = text, .source = &src};
 *     nncw_checkpoint_dir_save("runs/a", global_step, 3, &p, NULL);  // runs/a/ckpt-<step>.nncw
 *     ...
 *     char *path;
 *     nncw_checkpoint_dir_find_latest("runs/a", &path);  // newest file whose CRC checks out
 *     struct nncw_checkpoint *ck;
 *     nncw_checkpoint_read(path, &ck);
 *     struct nncw_compressed_model m;
 *     nncw_checkpoint_restore_compressed(ck, &m);         // model, config, compression, weights
 *     ... nncw_trainer_new(m.graph, ...), hooks ...
 *     nncw_checkpoint_restore_trainer(ck, t);             // epoch, step, optimizer, RNG, loader
 *
 * Format (little-endian): "NNCWCKPT", u32 version, u32 section count, sections {u32 tag,
 * u64 length, payload}, u32 CRC-32 of all preceding bytes. Version 1 has "PARM" only; version
 * 2 adds the sections below. Readers skip tags they do not know. docs/checkpoints.md has the
 * layout of every section.
 *   PARM  the graph's parameters (u32 count; per tensor: name, dtype, ndim, shape, raw data)
 *   ORIG  the compression's float model's parameters (same layout)
 *   CMPR  nncw_compression_get_state's JSON     CONF  the config's JSON text
 *   MSRC  the model source (zoo name and options, or the ONNX file's path and bytes)
 *   OPTM  optimizer type, step count, per trainable parameter its buffers
 *   TRNR  the loop's position and figures       RNGS  random streams (executors)
 *   LOAD  the data loader's position            ARGV  the command line that started the run
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compression/compression.h"
#include "config/config.h"
#include "core/status.h"
#include "graph/graph.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

#define NNCW_CHECKPOINT_VERSION 2
/* checkpoint folders keep this many files unless told otherwise */
#define NNCW_CHECKPOINT_KEEP 3

enum nncw_model_source_kind {
    NNCW_MODEL_SOURCE_NONE,
    NNCW_MODEL_SOURCE_ZOO,  /* rebuilt from the zoo: name and options (seed included) */
    NNCW_MODEL_SOURCE_ONNX, /* re-imported from the file's bytes, stored whole */
    NNCW_MODEL_SOURCE_KIND_COUNT
};

/* Where the float model came from, so that a checkpoint rebuilds it without other files.
 * ONNX models are stored as their bytes (a checkpoint stays usable when the file moves or
 * changes); the path is kept for messages only. */
struct nncw_model_source {
    enum nncw_model_source_kind kind;
    const char *zoo_name;        /* ZOO */
    struct nncw_zoo_options zoo; /* ZOO */
    const char *onnx_path;       /* ONNX: informative */
    const void *onnx_bytes;      /* ONNX */
    size_t onnx_len;
};

/* What nncw_checkpoint_write stores; everything but graph may be NULL/0. All borrowed. */
struct nncw_checkpoint_parts {
    const struct nncw_graph *graph;             /* PARM */
    const struct nncw_trainer *trainer;         /* TRNR, OPTM, RNGS, LOAD */
    const struct nncw_compression *compression; /* CMPR and ORIG */
    const char *config_json;                    /* CONF: the config as the run got it */
    const struct nncw_model_source *source;     /* MSRC */
    int argc;                                   /* ARGV: the program's arguments */
    char *const *argv;
};

struct nncw_checkpoint;

/* A compressed model restored from a checkpoint; fini frees the three (in the right order). */
struct nncw_compressed_model {
    struct nncw_graph *graph;
    struct nncw_config *config;
    struct nncw_compression *compression; /* NULL for a checkpoint without one */
};

/* ---- weights only ---- */
/* writes g's parameters (version 2, PARM only). NNCW_ERR_IO naming the path on a write
 * failure; the old file is untouched then */
enum nncw_status nncw_checkpoint_save(const struct nncw_graph *g, const char *path);
/* loads every parameter of g from a version 1 or 2 file. NNCW_ERR_IO (missing/unreadable),
 * NNCW_ERR_PARSE (not a checkpoint, truncated, corrupt: CRC mismatch, newer version),
 * NNCW_ERR_NOT_FOUND (a parameter of g is missing), NNCW_ERR_SHAPE (a shape differs); g is
 * unchanged on failure */
enum nncw_status nncw_checkpoint_load(struct nncw_graph *g, const char *path);

/* ---- full checkpoints ---- */
/* writes the parts atomically. NNCW_ERR_INVALID_ARG without a graph, NNCW_ERR_IO naming the
 * path; a previous file at path survives any failure or crash */
enum nncw_status nncw_checkpoint_write(const char *path, const struct nncw_checkpoint_parts *p);
/* reads and checks a whole file (magic, CRC, version, section bounds); errors as
 * nncw_checkpoint_load. The queries below borrow from ck. */
enum nncw_status nncw_checkpoint_read(const char *path, struct nncw_checkpoint **out);
void nncw_checkpoint_free(struct nncw_checkpoint *ck);
uint32_t nncw_checkpoint_get_version(const struct nncw_checkpoint *ck);
const char *nncw_checkpoint_get_path(const struct nncw_checkpoint *ck);
/* whether the section with this four-letter tag ("TRNR", "CMPR", ...) is there */
bool nncw_checkpoint_has(const struct nncw_checkpoint *ck, const char *tag);
/* the stored config text or compression state (NULL when absent) */
const char *nncw_checkpoint_get_config(const struct nncw_checkpoint *ck);
const char *nncw_checkpoint_get_compression_state(const struct nncw_checkpoint *ck);
/* the model source (pointers into ck); NNCW_ERR_NOT_FOUND when the file has none */
enum nncw_status nncw_checkpoint_get_source(const struct nncw_checkpoint *ck,
                                            struct nncw_model_source *out);
/* the stored command line (argv[0] the command name), pointers into ck; NULL argv: none.
 * *argv is an array the caller frees with nncw_free */
enum nncw_status nncw_checkpoint_get_argv(const struct nncw_checkpoint *ck, int *argc,
                                          const char ***argv);
/* the stored trainer state (TRNR); NNCW_ERR_NOT_FOUND when absent */
enum nncw_status nncw_checkpoint_get_trainer_state(const struct nncw_checkpoint *ck,
                                                   struct nncw_trainer_state *out);

/* loads PARM into g (errors as nncw_checkpoint_load) */
enum nncw_status nncw_checkpoint_restore_graph(const struct nncw_checkpoint *ck,
                                               struct nncw_graph *g);
/* loads ORIG (the float model a compression started from) into a float model g */
enum nncw_status nncw_checkpoint_restore_original(const struct nncw_checkpoint *ck,
                                                  struct nncw_graph *g);
/* puts a fresh trainer over the restored graph where the saved one was: loop position,
 * optimizer buffers and steps, random streams, loader position. NNCW_ERR_NOT_FOUND without
 * trainer sections, NNCW_ERR_INVALID_ARG naming what differs (optimizer type, a parameter's
 * buffers, steps per epoch, loader seed or batch size) */
enum nncw_status nncw_checkpoint_restore_trainer(const struct nncw_checkpoint *ck,
                                                 struct nncw_trainer *t);
/* rebuilds the model the checkpoint describes: the float model from its source (with the
 * original weights when there is a compression), the config from its text, the compression
 * built placement-only (no range initialisation, no batch-norm adaptation) with the stored
 * edits and controller states, and finally every parameter (quantizer ranges, masks).
 * NNCW_ERR_NOT_FOUND when the file has no model source */
enum nncw_status nncw_checkpoint_restore_compressed(const struct nncw_checkpoint *ck,
                                                    struct nncw_compressed_model *out);
/* the same from a path */
enum nncw_status nncw_checkpoint_load_compressed(const char *path,
                                                 struct nncw_compressed_model *out);
void nncw_compressed_model_fini(struct nncw_compressed_model *m);
/* builds the float model a source describes (weights: the zoo's initialisation or the file's) */
enum nncw_status nncw_model_source_build(const struct nncw_model_source *src,
                                         struct nncw_graph **out);

/* ---- checkpoint folders: DIR/ckpt-<global step>.nncw ---- */
/* writes DIR/ckpt-<step>.nncw (creating DIR), then deletes all but the newest keep files
 * (keep < 1: NNCW_CHECKPOINT_KEEP) and temporary files a crash left behind. *path_out (may be
 * NULL) receives the file's path, which the caller frees */
enum nncw_status nncw_checkpoint_dir_save(const char *dir, int64_t step, int keep,
                                          const struct nncw_checkpoint_parts *p, char **path_out);
/* the newest checkpoint in DIR that reads back whole (a damaged one is skipped with a
 * warning); NNCW_ERR_NOT_FOUND naming DIR when there is none, NNCW_ERR_IO if DIR cannot be
 * read. The caller frees *path_out */
enum nncw_status nncw_checkpoint_dir_find_latest(const char *dir, char **path_out);

/* ---- tests ---- */
/* called after each chunk of a checkpoint's temporary file is written, with the bytes so far;
 * a test makes it kill the process to simulate a crash mid-save. NULL removes it */
typedef void (*nncw_checkpoint_write_hook_fn)(size_t written);
void nncw_checkpoint_set_write_hook(nncw_checkpoint_write_hook_fn fn);
