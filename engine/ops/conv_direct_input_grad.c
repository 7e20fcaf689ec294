/* The input gradient of convolutions over few input channels, without a GEMM.
 *
 *   dx[n][c][oy*sh - pt + ki*dh][ox*sw - pl + kj*dw] += sum_m w[m][c][ki][kj] dy[n][m][oy][ox]
 *
 * A network's stem on grey or RGB images has c * kh * kw of 9 to 27. The GEMM route (dcol =
 * W^T dy, then col2im) multiplies a matrix that thin at a fraction of the sgemm's speed, then
 * writes and re-reads c * kh * kw copies of the image. Here, for a run of 32 output pixels of
 * one output row, the up to 9 taps of one input channel are summed over m in 18 AVX-512
 * registers (each dy vector read once, each weight broadcast once), then each tap's run is
 * added into the image row it lands on. A float model never needs this gradient for its stem;
 * quantization-aware training does, for the scale of the input quantizer.
 */
#include "ops/conv_direct_input_grad.h"

#include "core/alloc.h"
#include "ops/blas.h"
#include "ops/parallel.h"
#include "ops/sgemm_internal.h"

/* input channels and taps per channel handled; the widest output row */
enum { MAX_CHANNELS = 3, TAPS = 9, MAX_OUT_W = 1024, RUN = 32 };

bool nncw_conv2d_direct_input_grad_applies(const struct nncw_conv2d_geom *g)
{
    return NNCW_SGEMM_HAVE_AVX512 && nncw_blas_get_backend() == NNCW_BLAS_BACKEND_NNCW_AVX512 &&
           g->group == 1 && g->c <= MAX_CHANNELS && g->kh * g->kw <= TAPS &&
           g->ow <= MAX_OUT_W;
}

#if NNCW_SGEMM_HAVE_AVX512

#include <immintrin.h>

struct direct_job {
    const struct nncw_conv2d_geom *g;
    const float *wp; /* [c][m][TAPS], taps past kh * kw zero */
    const float *dy;
    float *dx;
};

/* adds one tap's row t[ox] into the image row at columns ox * sw + off */
static void add_tap_row(const struct nncw_conv2d_geom *g, const float *restrict t, int off,
                        float *restrict row)
{
    if (g->sw == 1) {
        int lo = off < 0 ? -off : 0, hi = g->w - off < g->ow ? g->w - off : g->ow;
        for (int ox = lo; ox < hi; ox++)
            row[ox + off] += t[ox];
        return;
    }
    for (int ox = 0; ox < g->ow; ox++) {
        int ix = ox * g->sw + off;
        if (ix >= 0 && ix < g->w)
            row[ix] += t[ox];
    }
}

/* t[k][ox0 .. ox0 + 32) = sum_m wc[m][k] dy[m][ox0 ..] for the 9 taps of one channel */
static void tap_run(const float *dy_row, size_t plane, int m_count, const float *wc, int ox0,
                    int ow, float (*t)[MAX_OUT_W])
{
    int left = ow - ox0;
    __mmask16 k0 = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
    __mmask16 k1 = left >= 32 ? 0xffff : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
    __m512 a0[TAPS], a1[TAPS];
    for (int k = 0; k < TAPS; k++)
        a0[k] = a1[k] = _mm512_setzero_ps();
    for (int m = 0; m < m_count; m++) {
        const float *d = dy_row + (size_t)m * plane + ox0;
        __m512 d0 = _mm512_maskz_loadu_ps(k0, d), d1 = _mm512_maskz_loadu_ps(k1, d + 16);
        const float *wk = wc + (size_t)m * TAPS;
        for (int k = 0; k < TAPS; k++) {
            __m512 b = _mm512_set1_ps(wk[k]);
            a0[k] = _mm512_fmadd_ps(b, d0, a0[k]);
            a1[k] = _mm512_fmadd_ps(b, d1, a1[k]);
        }
    }
    for (int k = 0; k < TAPS; k++) {
        _mm512_mask_storeu_ps(t[k] + ox0, k0, a0[k]);
        _mm512_mask_storeu_ps(t[k] + ox0 + 16, k1, a1[k]);
    }
}

static void direct_images(void *arg, int64_t n0, int64_t n1)
{
    const struct direct_job *j = arg;
    const struct nncw_conv2d_geom *g = j->g;
    const size_t out_plane = (size_t)g->oh * g->ow, in_plane = (size_t)g->h * g->w;
    float t[TAPS][MAX_OUT_W];
    for (int64_t n = n0; n < n1; n++) {
        const float *dyn = j->dy + (size_t)n * g->m * out_plane;
        float *dxn = j->dx + (size_t)n * g->c * in_plane;
        for (int oy = 0; oy < g->oh; oy++)
            for (int c = 0; c < g->c; c++) {
                const float *wc = j->wp + (size_t)c * g->m * TAPS;
                for (int ox0 = 0; ox0 < g->ow; ox0 += RUN)
                    tap_run(dyn + (size_t)oy * g->ow, out_plane, g->m, wc, ox0, g->ow, t);
                for (int ki = 0; ki < g->kh; ki++) {
                    int iy = oy * g->sh - g->pt + ki * g->dh;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    float *row = dxn + c * in_plane + (size_t)iy * g->w;
                    for (int kj = 0; kj < g->kw; kj++)
                        add_tap_row(g, t[ki * g->kw + kj], kj * g->dw - g->pl, row);
                }
            }
    }
}

bool nncw_conv2d_direct_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                   const float *dy, float *dx)
{
    if (!nncw_conv2d_direct_input_grad_applies(g))
        return false;
    /* the weights as [c][m][TAPS] so that one channel's taps for one m are adjacent */
    const int kk = g->kh * g->kw;
    float *wp = nncw_calloc((size_t)g->c * g->m * TAPS, sizeof *wp);
    if (!wp)
        return false;
    for (int m = 0; m < g->m; m++)
        for (int c = 0; c < g->c; c++)
            for (int k = 0; k < kk; k++)
                wp[((size_t)c * g->m + m) * TAPS + k] = w[((size_t)m * g->c + c) * kk + k];
    struct direct_job j = {.g = g, .wp = wp, .dy = dy, .dx = dx};
    double per_image = 2.0 * g->c * TAPS * g->m * (double)g->oh * g->ow;
    /* images are independent: each thread owns whole images of dx */
    nncw_parallel_for(g->n, 1, per_image, direct_images, &j);
    nncw_free(wp);
    return true;
}

#else

bool nncw_conv2d_direct_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                   const float *dy, float *dx)
{
    (void)g, (void)w, (void)dy, (void)dx;
    return false;
}

#endif
