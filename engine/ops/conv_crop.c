/* Cropping a convolution's kernel to the taps that read the input (see ops/conv_crop.h). */
#include "ops/conv_crop.h"

/* the first and last kernel index along one axis that reads the input for some output
 * position; *lo > *hi when none does */
static void live_range(int k, int stride, int dil, int pad, int in, int out, int *lo, int *hi)
{
    *lo = k;
    *hi = -1;
    for (int t = 0; t < k; t++)
        for (int o = 0; o < out; o++) {
            int i = o * stride - pad + t * dil;
            if (i >= in)
                break; /* later outputs read further on */
            if (i >= 0) {
                *lo = t < *lo ? t : *lo;
                *hi = t;
                break;
            }
        }
}

bool nncw_conv2d_crop_get(const struct nncw_conv2d_geom *g, struct nncw_conv2d_crop *k)
{
    int r0, r1, c0, c1;
    live_range(g->kh, g->sh, g->dh, g->pt, g->h, g->oh, &r0, &r1);
    live_range(g->kw, g->sw, g->dw, g->pl, g->w, g->ow, &c0, &c1);
    if (r0 > r1 || c0 > c1 || (r0 == 0 && r1 == g->kh - 1 && c0 == 0 && c1 == g->kw - 1))
        return false;
    k->g = *g;
    k->g.kh = r1 - r0 + 1;
    k->g.kw = c1 - c0 + 1;
    k->g.pt = g->pt - r0 * g->dh;
    k->g.pl = g->pl - c0 * g->dw;
    k->r0 = r0;
    k->c0 = c0;
    return k->g.pt >= 0 && k->g.pl >= 0;
}

size_t nncw_conv2d_crop_weight_count(const struct nncw_conv2d_crop *k)
{
    return (size_t)k->g.m * (size_t)(k->g.c / k->g.group) * (size_t)k->g.kh * (size_t)k->g.kw;
}

void nncw_conv2d_crop_weights(const struct nncw_conv2d_geom *g, const struct nncw_conv2d_crop *k,
                              const float *w, float *wc)
{
    size_t planes = (size_t)g->m * (size_t)(g->c / g->group);
    for (size_t p = 0; p < planes; p++)
        for (int r = 0; r < k->g.kh; r++) {
            const float *s = w + (p * g->kh + (size_t)(k->r0 + r)) * g->kw + k->c0;
            float *d = wc + (p * k->g.kh + (size_t)r) * k->g.kw;
            for (int c = 0; c < k->g.kw; c++)
                d[c] = s[c];
        }
}

void nncw_conv2d_crop_add_grad(const struct nncw_conv2d_geom *g, const struct nncw_conv2d_crop *k,
                               const float *dwc, float *dw)
{
    size_t planes = (size_t)g->m * (size_t)(g->c / g->group);
    for (size_t p = 0; p < planes; p++)
        for (int r = 0; r < k->g.kh; r++) {
            const float *s = dwc + (p * k->g.kh + (size_t)r) * k->g.kw;
            float *d = dw + (p * g->kh + (size_t)(k->r0 + r)) * g->kw + k->c0;
            for (int c = 0; c < k->g.kw; c++)
                d[c] += s[c];
        }
}
