/*
 * Mixed-precision plumbing shared by the precision initialisers (manual, HAWQ, AutoQ): which
 * bit widths a quantizer may take, setting them on a quantizer setup before the quantizers are
 * inserted, the activation bit widths that follow from the weights' (liberal / strict), and the
 * bit-FLOPs compression ratio against INT8.
 *
 *     struct nncw_precision_layers L;                 // the weighted layers of the setup
 *     nncw_precision_layers_build(g, setup, &L);
 *     int wbits[L.n];  ...                            // a weight bit width per layer
 *     int *pbits = nncw_malloc(setup->n_points * sizeof *pbits);
 *     bool ok;
 *     nncw_precision_activation_bits(setup, &L, wbits, false, pbits, &ok);   // liberal
 *     double r = nncw_precision_bitops_ratio(&L, pbits);  // INT8 bit-FLOPs / these bit-FLOPs
 *     nncw_precision_apply_bits(setup, pbits);          // NNCW_ERR_INVALID_ARG names the point
 *     nncw_precision_layers_fini(&L);
 *
 * Bit-FLOPs of a layer = its multiply-accumulates per sample x max(weight bits, bits of the
 * activation quantizer on its data input) (0 when that input is not quantized), as NNCF's HAWQ.
 * On the TRIAL device (no hardware config) any bit width from 2 to 8 is allowed; otherwise the
 * bit widths of the configurations the hardware config left in the point's list.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/quantization/quantizer_setup.h"
#include "core/status.h"
#include "graph/graph.h"

#define NNCW_PRECISION_MAX_ACTS 4 /* activation quantizers read by one layer's data input */

/* one weighted layer (a weight quantizer) */
struct nncw_precision_layer {
    int point;     /* the weight quantizer's setup point */
    int64_t numel; /* weight elements */
    int64_t flops; /* multiply-accumulates per sample */
    int n_acts;
    int acts[NNCW_PRECISION_MAX_ACTS]; /* activation points on its data input */
};

struct nncw_precision_layers {
    int n;
    struct nncw_precision_layer *layer;
};

/* ---- lifecycle ---- */
/* the weight points of s in setup order with their FLOPs (from g's last shape inference) and
 * input activation quantizers. NNCW_ERR_NOMEM */
enum nncw_status nncw_precision_layers_build(const struct nncw_graph *g,
                                             const struct nncw_quantizer_setup *s,
                                             struct nncw_precision_layers *out);
void nncw_precision_layers_fini(struct nncw_precision_layers *L);

/* ---- queries ---- */
/* the bit widths point p allows, ascending and distinct, into bits[max]; returns how many */
int nncw_precision_allowed_bits(const struct nncw_quantizer_setup *s, int p, int *bits, int max);
bool nncw_precision_allows_bits(const struct nncw_quantizer_setup *s, int p, int bits);
/* the bit width point p has now */
int nncw_precision_get_bits(const struct nncw_quantizer_setup *s, int p);
/* "4, 8" into buf */
void nncw_precision_format_allowed(const struct nncw_quantizer_setup *s, int p, char *buf,
                                   size_t size);

/* ---- assignment ---- */
/* Activation bits that follow from per-layer weight bits wbits[L->n]: point_bits[s->n_points]
 * receives every point's bits (weights from wbits, activations feeding weighted layers as the
 * mode says, others as they are). Liberal: an activation takes the smallest bit width it allows
 * that is at least the largest weight bit width among the layers it feeds (its largest allowed
 * if none is). Strict: the layers one activation feeds must agree and the activation takes that
 * bit width; *consistent is false when they do not, or the activation does not allow it. */
void nncw_precision_activation_bits(const struct nncw_quantizer_setup *s,
                                    const struct nncw_precision_layers *L, const int *wbits,
                                    bool strict, int *point_bits, bool *consistent);
/* INT8 bit-FLOPs over the bit-FLOPs of point_bits (>= 1 when nothing exceeds 8 bits); 1 for a
 * model without weighted layers */
double nncw_precision_bitops_ratio(const struct nncw_precision_layers *L, const int *point_bits);
/* sets one point's configuration to the allowed one with these bits (keeping the current mode
 * and granularity where the list offers them). NNCW_ERR_INVALID_ARG naming the quantizer and the
 * bit widths it allows */
enum nncw_status nncw_precision_set_bits(struct nncw_quantizer_setup *s, int p, int bits);
/* every point whose bits differ from point_bits[p] (0: keep); stops at the first refusal */
enum nncw_status nncw_precision_apply_bits(struct nncw_quantizer_setup *s, const int *point_bits);
/* TRIAL (no hardware config: any configuration the user asks for): the configuration of point
 * p that is its current one with bits, mode (enum nncw_qmode) and per_channel changed (0 / -1:
 * keep), added to the point's list when it is not there, into *index; -1 on other devices, where
 * the hardware config's list decides. NNCW_ERR_INVALID_ARG naming the quantizer for a bit width
 * outside 2..8 and extra_bits[n_extra] (initializer.precision.bits) or a per-channel activation;
 * NNCW_ERR_NOMEM */
enum nncw_status nncw_precision_trial_change(struct nncw_quantizer_setup *s, int p, int bits,
                                             int mode, int per_channel, const int *extra_bits,
                                             int n_extra, int *index);
