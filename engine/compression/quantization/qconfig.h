/*
 * One quantizer configuration (NNCF's QuantizerConfig): bit width, mode, signedness and
 * granularity. Hardware configs, the config's weights/activations constraints and the quantizer
 * setup all speak in lists of these; the first entry of a list is the default choice.
 *
 *     struct nncw_qconfig c = {.bits = 8, .mode = NNCW_QMODE_SYMMETRIC, .signedness = -1};
 *     char buf[64];
 *     nncw_qconfig_format(&c, buf, sizeof buf);   // "8-bit symmetric per-tensor"
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum nncw_qmode { NNCW_QMODE_SYMMETRIC, NNCW_QMODE_ASYMMETRIC, NNCW_QMODE_COUNT };

struct nncw_qconfig {
    int bits;
    enum nncw_qmode mode;
    int signedness; /* -1 decided from data at range init, 0 forced unsigned, 1 forced signed */
    bool per_channel;
    bool logarithm_scale;
};

/* "symmetric" / "asymmetric" */
const char *nncw_qmode_name(enum nncw_qmode m);
/* the same configuration (all fields) */
bool nncw_qconfig_equal(const struct nncw_qconfig *a, const struct nncw_qconfig *b);
/* index of c in list, -1 if absent */
int nncw_qconfig_find(const struct nncw_qconfig *list, int n, const struct nncw_qconfig *c);
/* "8-bit symmetric per-channel signed" into buf (always terminated) */
void nncw_qconfig_format(const struct nncw_qconfig *c, char *buf, size_t size);
