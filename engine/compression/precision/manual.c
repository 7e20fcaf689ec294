/* Manual mixed precision: initializer.precision.bitwidth_per_scope, [bits, "<quantizer id>"]
 * pairs as NNCF spells quantizer ids, set on the setup and checked against the device. */
#include "compression/precision/precision_init.h"

#include <stdio.h>
#include <string.h>

#include "compression/precision/precision.h"
#include "compression/quantization/scope_match.h"

#define N_CLOSEST 3

/* "..., closest: 'a', 'b', 'c'" for an id no point has */
static void closest_ids(const struct nncw_quantizer_setup *s, const char *id, char *buf,
                        size_t size)
{
    int best[N_CLOSEST], best_d[N_CLOSEST], nb = 0;
    for (int p = 0; p < s->n_points; p++) {
        int d = nncw_edit_distance(id, s->points[p].id);
        int k = nb < N_CLOSEST ? nb++ : N_CLOSEST;
        if (k == N_CLOSEST) {
            if (d >= best_d[N_CLOSEST - 1])
                continue;
            k = N_CLOSEST - 1;
        }
        for (; k > 0 && best_d[k - 1] > d; k--) {
            best[k] = best[k - 1];
            best_d[k] = best_d[k - 1];
        }
        best[k] = p;
        best_d[k] = d;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < nb && len < size; k++)
        len += (size_t)snprintf(buf + len, size - len, "%s'%s'", k ? ", " : "",
                                s->points[best[k]].id);
    if (!nb)
        snprintf(buf, size, "none, nothing is quantized");
}

static int find_point(const struct nncw_quantizer_setup *s, const char *id)
{
    for (int p = 0; p < s->n_points; p++)
        if (strcmp(s->points[p].id, id) == 0)
            return p;
    return -1;
}

enum nncw_status nncw_precision_apply_manual(const struct nncw_quant_config *qc,
                                             struct nncw_quantizer_setup *s)
{
    const struct nncw_precision_init *pi = &qc->init.precision;
    const char *src = qc->source ? qc->source : "<string>";
    for (int i = 0; i < pi->n_bitwidth_per_scope; i++) {
        const struct nncw_bitwidth_scope *b = &pi->bitwidth_per_scope[i];
        char path[300];
        snprintf(path, sizeof path, "%s.initializer.precision.bitwidth_per_scope[%d]",
                 qc->path ? qc->path : "compression[?]", i);
        int p = find_point(s, b->id);
        if (p < 0) {
            char near[768];
            closest_ids(s, b->id, near, sizeof near);
            return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                             "config '%s': %s[1]: no quantizer '%s' (closest: %s)", src, path,
                             b->id, near);
        }
        if (nncw_precision_set_bits(s, p, b->bits) != NNCW_OK) {
            char allowed[128];
            nncw_precision_format_allowed(s, p, allowed, sizeof allowed);
            return NNCW_FAIL(NNCW_ERR_PARSE,
                             "config '%s': %s[0]: quantizer '%s' cannot have %d bits on %s "
                             "(allowed: %s)",
                             src, path, b->id, b->bits, s->target_device, allowed);
        }
    }
    return NNCW_OK;
}
