/*
 * Sliding-window geometry shared by Conv and the pooling ops: ONNX auto_pad, explicit pads,
 * dilation and ceil_mode resolved into pads and an output size, one spatial dimension at a
 * time.
 *
 *     enum nncw_auto_pad ap;
 *     if (!nncw_auto_pad_parse(nncw_node_get_attr_string(node, "auto_pad", "NOTSET"), &ap))
 *         return NNCW_FAIL(NNCW_ERR_INVALID_ARG, ...);
 *     struct nncw_window_dim d = {.in = 28, .k = 3, .stride = 1, .dil = 1,
 *                                 .pad_lo = 1, .pad_hi = 1};
 *     if (!nncw_window_dim_resolve(&d, ap, false))
 *         ... // the window does not fit: report the node and the sizes
 *     // d.out == 28
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum nncw_auto_pad {
    NNCW_AUTO_PAD_NOTSET,
    NNCW_AUTO_PAD_SAME_UPPER,
    NNCW_AUTO_PAD_SAME_LOWER,
    NNCW_AUTO_PAD_VALID,
    NNCW_AUTO_PAD_COUNT
};

/* one spatial dimension: input size, kernel, stride, dilation, pads before and after, and
 * the resulting output size */
struct nncw_window_dim {
    int64_t in;
    int64_t k, stride, dil;
    int64_t pad_lo, pad_hi;
    int64_t out;
};

/* the ONNX auto_pad string; false if it is none of the four values */
static inline bool nncw_auto_pad_parse(const char *s, enum nncw_auto_pad *out)
{
    static const char *const names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    _Static_assert(sizeof names / sizeof names[0] == NNCW_AUTO_PAD_COUNT, "auto_pad names");
    for (int i = 0; i < NNCW_AUTO_PAD_COUNT; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum nncw_auto_pad)i;
            return true;
        }
    return false;
}

/* extent of a dilated kernel */
static inline int64_t nncw_window_span(const struct nncw_window_dim *d)
{
    return (d->k - 1) * d->dil + 1;
}

/*
** Sets out (and, for SAME_* and VALID, the pads) from in, k, stride, dil and the explicit pads.
** ceil_mode follows PyTorch and onnxruntime: the output rounds up, but a window that would
** start inside the end padding is dropped. Returns false when no window fits.
*/
static inline bool nncw_window_dim_resolve(struct nncw_window_dim *d, enum nncw_auto_pad ap,
                                           bool ceil_mode)
{
    int64_t span = nncw_window_span(d);
    if (ap == NNCW_AUTO_PAD_SAME_UPPER || ap == NNCW_AUTO_PAD_SAME_LOWER) {
        d->out = (d->in + d->stride - 1) / d->stride;
        int64_t total = (d->out - 1) * d->stride + span - d->in;
        if (total < 0)
            total = 0;
        d->pad_lo = ap == NNCW_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
        d->pad_hi = total - d->pad_lo;
        return d->out > 0;
    }
    if (ap == NNCW_AUTO_PAD_VALID)
        d->pad_lo = d->pad_hi = 0;
    int64_t room = d->in + d->pad_lo + d->pad_hi - span;
    if (room < 0)
        return false;
    if (ceil_mode && ap == NNCW_AUTO_PAD_NOTSET) {
        d->out = (room + d->stride - 1) / d->stride + 1;
        if ((d->out - 1) * d->stride >= d->in + d->pad_lo)
            d->out--;
    } else {
        d->out = room / d->stride + 1;
    }
    return d->out > 0;
}
