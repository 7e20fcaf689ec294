/*
 * Hardware configs (NNCF's format, configs/hw/{cpu,gpu,vpu}.json): which quantizer
 * configurations the inputs and weights of each OpenVINO op type allow on a device, and which
 * ops share one scale across their inputs. docs/hw-config.md describes the format.
 *
 *     struct nncw_hw_config *hw;
 *     if (nncw_hw_config_load_for_device(NNCW_DEVICE_CPU, NULL, &hw) != NNCW_OK)   // built-in
 *         report(nncw_last_error());  // "hw config 'cpu.json': operations[3].type: missing"
 *     const struct nncw_hw_op *op = nncw_hw_config_find_op(hw, "Convolution", NULL);
 *     // op->act[0]: 8-bit symmetric per-tensor; op->w[0]: 8-bit symmetric per-channel signed
 *     nncw_hw_config_free(hw);
 *
 * Every list-valued field of a quantizer description expands into the cartesian product of its
 * values, in file order with the last field varying fastest; duplicates are dropped and the
 * first configuration of a list is the default. level_low/level_high only force signedness and
 * must equal the range the bits and mode imply.
 *
 * Where the files come from: nncw embeds configs/hw/{cpu,gpu,vpu}.json at build time, so the
 * built-in tables always match the binary and nncw runs from any directory; a directory (or a file)
 * given explicitly replaces them.
 */
#pragma once

#include <stdbool.h>

#include "compression/quantization/qconfig.h"
#include "config/config.h"
#include "core/status.h"

/* one entry of "operations" */
struct nncw_hw_op {
    char *type;    /* OpenVINO op name: "Convolution", "Add", ... */
    char *mode;    /* attributes.mode ("linear", "nearest") or NULL when the entry has none */
    bool wildcard; /* no activation configs: the op keeps NNCF's default quantization trait */
    int n_act, n_w;
    struct nncw_qconfig *act; /* allowed input (activation) configs, first = default */
    struct nncw_qconfig *w;   /* allowed weight configs (n_w 0: none given) */
    bool unified_scales;      /* attributes.scales == "unified": inputs share one scale */
    bool adjust_padding;      /* attributes.adjust_padding (VPU 4-bit convolutions) */
};

struct nncw_hw_config {
    char *source;           /* file name, or "cpu.json" etc. for a built-in table */
    char target_device[16]; /* the file's "target_device": "CPU", "GPU" or "VPU" */
    int n_ops;
    struct nncw_hw_op *ops;
};

/* ---- lifecycle ---- */
/* parses JSON text; source names it in messages. NNCW_ERR_PARSE "hw config '<source>':
 * <json path>: <problem>", NNCW_ERR_NOMEM */
enum nncw_status nncw_hw_config_parse(const char *json, const char *source,
                                      struct nncw_hw_config **out);
/* reads a file; NNCW_ERR_IO naming it, errors as parse */
enum nncw_status nncw_hw_config_load(const char *path, struct nncw_hw_config **out);
/* the config of a target device: ANY, CPU and CPU_SPR use cpu.json, GPU gpu.json, VPU
 * vpu.json; TRIAL has none (*out = NULL, NNCW_OK). dir NULL: the built-in copy; otherwise
 * <dir>/<file>, or dir itself when it names a .json file. */
enum nncw_status nncw_hw_config_load_for_device(enum nncw_target_device d, const char *dir,
                                                struct nncw_hw_config **out);
/* NULL is a no-op */
void nncw_hw_config_free(struct nncw_hw_config *hw);

/* ---- queries ---- */
/* "cpu.json", "gpu.json", "vpu.json", or NULL for TRIAL */
const char *nncw_hw_config_file_for_device(enum nncw_target_device d);
/* the built-in text of "cpu.json" etc., NULL if there is none */
const char *nncw_hw_config_builtin_text(const char *file);
/* the entry for an op type: with mode non-NULL, the entry whose attributes.mode equals it (or an
 * entry without a mode); NULL when the file does not list the op (NNCF: run it in FP32) */
const struct nncw_hw_op *nncw_hw_config_find_op(const struct nncw_hw_config *hw, const char *type,
                                                const char *mode);
