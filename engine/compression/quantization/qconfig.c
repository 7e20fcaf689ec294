/* Quantizer configurations: names, comparison, formatting. */
#include "compression/quantization/qconfig.h"

#include <stdio.h>

static const char *const mode_names[] = {"symmetric", "asymmetric"};
_Static_assert(sizeof mode_names / sizeof mode_names[0] == NNCW_QMODE_COUNT, "mode_names");

const char *nncw_qmode_name(enum nncw_qmode m)
{
    return (unsigned)m < NNCW_QMODE_COUNT ? mode_names[m] : "?";
}

bool nncw_qconfig_equal(const struct nncw_qconfig *a, const struct nncw_qconfig *b)
{
    return a->bits == b->bits && a->mode == b->mode && a->signedness == b->signedness &&
           a->per_channel == b->per_channel && a->logarithm_scale == b->logarithm_scale;
}

int nncw_qconfig_find(const struct nncw_qconfig *list, int n, const struct nncw_qconfig *c)
{
    for (int i = 0; i < n; i++)
        if (nncw_qconfig_equal(&list[i], c))
            return i;
    return -1;
}

void nncw_qconfig_format(const struct nncw_qconfig *c, char *buf, size_t size)
{
    snprintf(buf, size, "%d-bit %s %s%s%s", c->bits, nncw_qmode_name(c->mode),
             c->per_channel ? "per-channel" : "per-tensor",
             c->signedness == 1   ? " signed"
             : c->signedness == 0 ? " unsigned"
                                  : "",
             c->logarithm_scale ? " log-scale" : "");
}
