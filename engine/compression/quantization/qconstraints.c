/* Constraints on quantizer configurations (NNCF's QuantizationConstraints): the "weights" and
 * "activations" sections and scope overrides narrow the lists a hardware config allows, or,
 * without a hardware config, replace fields of the default configuration. */
#include "compression/quantization/quant_config.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"

static bool satisfies(const struct nncw_qconstraints *c, const struct nncw_qconfig *q)
{
    if ((c->has & NNCW_QC_BITS) && q->bits != c->bits)
        return false;
    if ((c->has & NNCW_QC_MODE) && q->mode != c->mode)
        return false;
    if ((c->has & NNCW_QC_PER_CHANNEL) && q->per_channel != c->per_channel)
        return false;
    /* an unforced signedness can be forced; a forced one must agree */
    if ((c->has & NNCW_QC_SIGNED) && q->signedness >= 0 && q->signedness != (int)c->is_signed)
        return false;
    return true;
}

int nncw_qconstraints_filter(const struct nncw_qconstraints *c, const struct nncw_qconfig *list,
                             int n, struct nncw_qconfig *out)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!satisfies(c, &list[i]))
            continue;
        struct nncw_qconfig q = list[i];
        if (c->has & NNCW_QC_SIGNED)
            q.signedness = c->is_signed;
        if (c->has & NNCW_QC_LOG_SCALE)
            q.logarithm_scale = c->logarithm_scale;
        if (nncw_qconfig_find(out, m, &q) < 0) /* forcing can make two entries equal */
            out[m++] = q;
    }
    return m;
}

struct nncw_qconfig nncw_qconstraints_apply(const struct nncw_qconstraints *c,
                                            struct nncw_qconfig q)
{
    if (c->has & NNCW_QC_BITS)
        q.bits = c->bits;
    if (c->has & NNCW_QC_MODE)
        q.mode = c->mode;
    if (c->has & NNCW_QC_PER_CHANNEL)
        q.per_channel = c->per_channel;
    if (c->has & NNCW_QC_SIGNED)
        q.signedness = c->is_signed;
    if (c->has & NNCW_QC_LOG_SCALE)
        q.logarithm_scale = c->logarithm_scale;
    return q;
}

struct nncw_qconstraints nncw_qconstraints_merge(const struct nncw_qconstraints *base,
                                                 const struct nncw_qconstraints *over)
{
    struct nncw_qconstraints m = *base;
    m.has |= over->has;
    if (over->has & NNCW_QC_BITS)
        m.bits = over->bits;
    if (over->has & NNCW_QC_MODE)
        m.mode = over->mode;
    if (over->has & NNCW_QC_SIGNED)
        m.is_signed = over->is_signed;
    if (over->has & NNCW_QC_PER_CHANNEL)
        m.per_channel = over->per_channel;
    if (over->has & NNCW_QC_LOG_SCALE)
        m.logarithm_scale = over->logarithm_scale;
    m.path = over->path;
    return m;
}

static const struct {
    unsigned key;
    const char *name;
} key_names[] = {
    {NNCW_QC_BITS, "bits"},
    {NNCW_QC_MODE, "mode"},
    {NNCW_QC_SIGNED, "signed"},
    {NNCW_QC_PER_CHANNEL, "per_channel"},
};

const char *nncw_qconstraints_culprit(const struct nncw_qconstraints *c,
                                      const struct nncw_qconfig *list, int n)
{
    for (size_t k = 0; k < NNCW_ARRAY_LEN(key_names); k++) {
        if (!(c->has & key_names[k].key))
            continue;
        struct nncw_qconstraints one = *c;
        one.has = key_names[k].key;
        bool any = false;
        for (int i = 0; i < n && !any; i++)
            any = satisfies(&one, &list[i]);
        if (!any)
            return key_names[k].name;
    }
    return NULL;
}

/* ---- checking a config against a device ---- */

/* whether any op of hw allows a config that satisfies c (weights or activation lists) */
static bool device_allows(const struct nncw_hw_config *hw, const struct nncw_qconstraints *c,
                          bool weights)
{
    for (int i = 0; i < hw->n_ops; i++) {
        const struct nncw_hw_op *op = &hw->ops[i];
        const struct nncw_qconfig *list = weights ? op->w : op->act;
        int n = weights ? op->n_w : op->n_act;
        for (int k = 0; k < n; k++)
            if (satisfies(c, &list[k]))
                return true;
    }
    return false;
}

/* "8 bits, 4 bits" style summary of what a device offers for one key */
static void offered(const struct nncw_hw_config *hw, bool weights, const char *key, char *buf,
                    size_t size)
{
    int bits_seen = 0;
    bool mode_seen[2] = {false, false}, pc_seen[2] = {false, false};
    for (int i = 0; i < hw->n_ops; i++) {
        const struct nncw_hw_op *op = &hw->ops[i];
        const struct nncw_qconfig *list = weights ? op->w : op->act;
        int n = weights ? op->n_w : op->n_act;
        for (int k = 0; k < n; k++) {
            if (list[k].bits < 31)
                bits_seen |= 1 << list[k].bits;
            mode_seen[list[k].mode] = true;
            pc_seen[list[k].per_channel] = true;
        }
    }
    size_t len = 0;
    buf[0] = '\0';
    if (strcmp(key, "bits") == 0) {
        for (int b = 30; b > 0; b--)
            if ((bits_seen >> b) & 1)
                len += (size_t)snprintf(buf + len, size > len ? size - len : 0, "%s%d",
                                        len ? ", " : "", b);
        return;
    }
    if (strcmp(key, "mode") == 0) {
        snprintf(buf, size, "%s%s%s", mode_seen[0] ? "symmetric" : "",
                 mode_seen[0] && mode_seen[1] ? ", " : "", mode_seen[1] ? "asymmetric" : "");
        return;
    }
    if (strcmp(key, "per_channel") == 0) {
        snprintf(buf, size, "%s%s%s", pc_seen[0] ? "false" : "",
                 pc_seen[0] && pc_seen[1] ? ", " : "", pc_seen[1] ? "true" : "");
        return;
    }
    snprintf(buf, size, "other values");
}

static enum nncw_status check_one(const struct nncw_quant_config *q,
                                  const struct nncw_hw_config *hw,
                                  const struct nncw_qconstraints *c, bool weights)
{
    if (!c->has || device_allows(hw, c, weights))
        return NNCW_OK;
    const char *what = weights ? "weights" : "activations";
    for (size_t k = 0; k < NNCW_ARRAY_LEN(key_names); k++) {
        if (!(c->has & key_names[k].key))
            continue;
        struct nncw_qconstraints one = *c;
        one.has = key_names[k].key;
        if (device_allows(hw, &one, weights))
            continue;
        char offer[128];
        offered(hw, weights, key_names[k].name, offer, sizeof offer);
        return NNCW_FAIL(NNCW_ERR_PARSE,
                         "config '%s': %s.%s: no operation on %s allows this for %s (the "
                         "hardware config offers: %s)",
                         q->source, c->path, key_names[k].name, hw->target_device, what,
                         offer[0] ? offer : "nothing");
    }
    return NNCW_FAIL(NNCW_ERR_PARSE,
                     "config '%s': %s: no operation on %s allows this combination of bits, mode, "
                     "signed and per_channel for %s",
                     q->source, c->path, hw->target_device, what);
}

enum nncw_status nncw_quant_config_check_hw(const struct nncw_quant_config *q,
                                            const struct nncw_hw_config *hw)
{
    if (!hw)
        return NNCW_OK;
    NNCW_TRY(check_one(q, hw, &q->weights.c, true));
    NNCW_TRY(check_one(q, hw, &q->activations.c, false));
    for (int g = 0; g < 2; g++) {
        const struct nncw_qconstraints *base = g == 0 ? &q->weights.c : &q->activations.c;
        for (int i = 0; i < q->n_overrides[g]; i++) {
            struct nncw_qconstraints m = nncw_qconstraints_merge(base, &q->overrides[g][i].c);
            NNCW_TRY(check_one(q, hw, &m, g == 0));
        }
    }
    return NNCW_OK;
}
