/*
 * Precision initialisation (NNCF's initializer.precision) as the quantization builder runs it:
 * after the quantizer setup is built on the float graph and before the quantizers are inserted,
 * it chooses each point's bit width.
 *
 *     nncw_precision_init_run(g, qc, setup, init, hawq);   // manual or HAWQ per qc
 *
 * HAWQ keeps what it measured in a struct nncw_hawq_state that the compression object owns and
 * hands to every rebuild, so picking another point of the curve or pinning a layer re-solves
 * from the stored traces instead of measuring them again.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "compression/quantization/quant_config.h"
#include "compression/quantization/quantizer_setup.h"
#include "core/status.h"
#include "graph/graph.h"

struct nncw_hawq_state {
    /* the layers (weight quantizers) and their measured traces */
    int n_layers;
    char **ids;
    double *traces; /* per parameter (normalised by numel) */
    int64_t *numel;
    int *pinned; /* bits a person fixed, 0: free */
    int iterations;
    bool have_traces;
    /* the last solve: every candidate configuration on the curve */
    int n_bits;
    int bits[8]; /* candidate bit widths, ascending */
    double target_ratio;
    int n_points;
    double *ratio, *metric;
    unsigned char *point_bits; /* n_points x n_layers weight bit widths */
    int chosen;                /* applied point */
    int forced;                /* a point picked by hand (-1: the best meeting the ratio) */
    double *perturb;           /* n_layers x n_bits: ||Q_b(W) - W||^2 */
};

/* NULL on out of memory */
struct nncw_hawq_state *nncw_hawq_state_new(void);
void nncw_hawq_state_free(struct nncw_hawq_state *h);

/* sets the setup's bit widths as qc's initializer.precision says (nothing without one).
 * Manual: NNCW_ERR_NOT_FOUND / NNCW_ERR_PARSE with the JSON path of a bad entry. HAWQ: measures
 * traces on init->data (or reuses hawq's, or loads traces_per_layer_path), solves and applies;
 * without data and traces it leaves the defaults. hawq may be NULL (a state of its own). */
enum nncw_status nncw_precision_init_run(struct nncw_graph *g, const struct nncw_quant_config *qc,
                                         struct nncw_quantizer_setup *s,
                                         const struct nncw_compression_init *init,
                                         struct nncw_hawq_state *hawq);

/* manual precision alone (manual.c) */
enum nncw_status nncw_precision_apply_manual(const struct nncw_quant_config *qc,
                                             struct nncw_quantizer_setup *s);

/* traces as JSON {"traces": {"<quantizer id>": trace, ...}, "iterations": n} (traces_config.c) */
enum nncw_status nncw_hawq_traces_save(const struct nncw_hawq_state *h, const char *path);
/* fills h->traces for h's layers (ids set) from such a file: NNCW_ERR_IO, NNCW_ERR_PARSE naming
 * the JSON path, NNCW_ERR_NOT_FOUND naming a layer the file lacks */
enum nncw_status nncw_hawq_traces_load(struct nncw_hawq_state *h, const char *path);

/* HAWQ's traces, pins and pick as compact JSON for a compression checkpoint (*json NULL when
 * nothing was measured; the caller frees it), and back: a restored compression solves from them
 * instead of measuring again. NNCW_ERR_PARSE naming the key, NNCW_ERR_NOMEM */
enum nncw_status nncw_hawq_state_to_json(const struct nncw_hawq_state *h, char **json);
enum nncw_status nncw_hawq_state_from_json(struct nncw_hawq_state *h, const char *json);

