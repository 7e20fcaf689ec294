/*
** Range initialisation statistics and the parameters NNCF derives from them (see
** range_init.h). A batch is read as [outer, channels, inner] around the channel axis; every
** statistic is per channel, a per-tensor collector having one channel.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compression/quantization/range_init.h"
#include "core/alloc.h"
#include "core/rng.h"

#define RESERVOIR_SEED 0x5eed5eedULL
#define MIN_RESERVOIR 256

static const char *const type_names[] = {
    [NNCW_RANGE_MIN_MAX] = "min_max",
    [NNCW_RANGE_MEAN_MIN_MAX] = "mean_min_max",
    [NNCW_RANGE_THREESIGMA] = "threesigma",
    [NNCW_RANGE_PERCENTILE] = "percentile",
    [NNCW_RANGE_MEAN_PERCENTILE] = "mean_percentile",
    [NNCW_RANGE_MIXED_MIN_MAX] = "mixed_min_max",
};
_Static_assert(sizeof type_names / sizeof type_names[0] == NNCW_RANGE_INIT_COUNT,
               "range init names out of date");

/* a per-channel uniform sample of everything seen (Vitter's algorithm L) */
struct reservoir {
    int64_t cap;   /* values kept per channel */
    float *values; /* channels * cap */
    int64_t *seen; /* values offered per channel */
    int64_t *next; /* the 0-based offer index that replaces a kept value next */
    double *w;     /* algorithm L's W per channel */
    struct nncw_rng rng;
};

struct nncw_range_collector {
    struct nncw_range_params p;
    int axis;
    int64_t channels;
    bool is_weight, asymmetric;
    int64_t batches;
    float *gmin, *gmax;      /* global, per channel (+-INFINITY until seen) */
    double *sum_lo, *sum_hi; /* per-batch mins and maxes (or percentiles), summed */
    int64_t *n_lo, *n_hi;    /* how many batches had finite values per channel */
    double sum_sample_max;   /* mixed_min_max, per-tensor activations */
    int64_t n_samples;
    struct reservoir res; /* threesigma, percentile */
    float *scratch;       /* mean_percentile: one channel of one batch */
    int64_t scratch_cap;
};

/* ---- names ---- */

enum nncw_status nncw_range_init_parse(const char *name, enum nncw_range_init *out)
{
    for (int i = 0; i < NNCW_RANGE_INIT_COUNT; i++)
        if (name && strcmp(name, type_names[i]) == 0) {
            *out = (enum nncw_range_init)i;
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_PARSE,
                     "range initialisation type '%s' (expected min_max, mean_min_max, threesigma, "
                     "percentile, mean_percentile or mixed_min_max)",
                     name ? name : "(null)");
}

const char *nncw_range_init_name(enum nncw_range_init t)
{
    return (unsigned)t < NNCW_RANGE_INIT_COUNT ? type_names[t] : "?";
}

/* ---- order statistics ---- */

static void swapf(float *a, float *b)
{
    float t = *a;
    *a = *b;
    *b = t;
}

/* puts the k-th smallest of a[0..n) at a[k], smaller ones before it, larger after
 * (quickselect with a median-of-three pivot) */
static void select_kth(float *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo])
            swapf(&a[mid], &a[lo]);
        if (a[hi] < a[lo])
            swapf(&a[hi], &a[lo]);
        if (a[hi] < a[mid])
            swapf(&a[hi], &a[mid]);
        float pivot = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                swapf(&a[i], &a[j]);
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

static float min_of(const float *a, int64_t n)
{
    float m = a[0];
    for (int64_t i = 1; i < n; i++)
        m = a[i] < m ? a[i] : m;
    return m;
}

/* numpy's percentile (linear interpolation) of a[0..n), n >= 1; reorders a */
static double percentile(float *a, int64_t n, double pct)
{
    double pos = pct / 100.0 * (double)(n - 1);
    int64_t k = (int64_t)floor(pos);
    if (k >= n - 1) {
        select_kth(a, n, n - 1);
        return a[n - 1];
    }
    select_kth(a, n, k);
    double frac = pos - (double)k, lo = a[k];
    if (frac == 0.0)
        return lo;
    double hi = min_of(a + k + 1, n - k - 1); /* the (k+1)-th smallest */
    return lo + frac * (hi - lo);
}

/* numpy's median (mean of the middle two for even n); reorders a */
static double median(float *a, int64_t n)
{
    return percentile(a, n, 50.0);
}

/* ---- the reservoir ---- */

static double open_uniform(struct nncw_rng *r)
{
    return 1.0 - (double)nncw_rng_uniform(r); /* (0, 1] */
}

static void reservoir_skip(struct reservoir *r, int64_t c)
{
    double skip = floor(log(open_uniform(&r->rng)) / log(1.0 - r->w[c]));
    r->next[c] += 1 + (skip > 1e15 || !(skip >= 0) ? (int64_t)1e15 : (int64_t)skip);
}

static void reservoir_offer(struct reservoir *r, int64_t c, float v)
{
    int64_t i = r->seen[c]++;
    float *kept = r->values + c * r->cap;
    if (i < r->cap) {
        kept[i] = v;
        if (i == r->cap - 1) { /* full: start skipping */
            r->w[c] = exp(log(open_uniform(&r->rng)) / (double)r->cap);
            r->next[c] = i;
            reservoir_skip(r, c);
        }
        return;
    }
    if (i != r->next[c])
        return;
    kept[nncw_rng_below(&r->rng, (uint32_t)r->cap)] = v;
    r->w[c] *= exp(log(open_uniform(&r->rng)) / (double)r->cap);
    reservoir_skip(r, c);
}

static int64_t reservoir_count(const struct reservoir *r, int64_t c)
{
    return r->seen[c] < r->cap ? r->seen[c] : r->cap;
}

/* ---- lifecycle ---- */

static bool needs_history(enum nncw_range_init t)
{
    return t == NNCW_RANGE_THREESIGMA || t == NNCW_RANGE_PERCENTILE;
}

void nncw_range_collector_free(struct nncw_range_collector *c)
{
    if (!c)
        return;
    nncw_free(c->gmin);
    nncw_free(c->gmax);
    nncw_free(c->sum_lo);
    nncw_free(c->sum_hi);
    nncw_free(c->n_lo);
    nncw_free(c->n_hi);
    nncw_free(c->res.values);
    nncw_free(c->res.seen);
    nncw_free(c->res.next);
    nncw_free(c->res.w);
    nncw_free(c->scratch);
    nncw_free(c);
}

enum nncw_status nncw_range_collector_new(const struct nncw_range_params *p, int axis,
                                          int64_t channels, bool is_weight, bool asymmetric,
                                          struct nncw_range_collector **out)
{
    if ((unsigned)p->type >= NNCW_RANGE_INIT_COUNT)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "range init: unknown type %d", (int)p->type);
    bool pct = p->type == NNCW_RANGE_PERCENTILE || p->type == NNCW_RANGE_MEAN_PERCENTILE;
    if (pct && !(p->min_percentile >= 0.0f && p->min_percentile <= p->max_percentile &&
                 p->max_percentile <= 100.0f))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "range init %s: percentiles %g and %g (expected 0 <= min <= max <= 100)",
                         type_names[p->type], (double)p->min_percentile, (double)p->max_percentile);
    if (axis < -1 || axis >= NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "range init: axis %d", axis);
    if (axis < 0)
        channels = 1;
    if (channels < 1 || channels > ((int64_t)1 << 30))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "range init: %lld channels", (long long)channels);
    struct nncw_range_collector *c = nncw_calloc(1, sizeof *c);
    if (!c)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "range init: out of memory");
    c->p = *p;
    c->axis = axis;
    c->channels = channels;
    c->is_weight = is_weight;
    c->asymmetric = asymmetric;
    size_t n = (size_t)channels;
    c->gmin = nncw_malloc(n * sizeof *c->gmin);
    c->gmax = nncw_malloc(n * sizeof *c->gmax);
    c->sum_lo = nncw_calloc(n, sizeof *c->sum_lo);
    c->sum_hi = nncw_calloc(n, sizeof *c->sum_hi);
    c->n_lo = nncw_calloc(n, sizeof *c->n_lo);
    c->n_hi = nncw_calloc(n, sizeof *c->n_hi);
    bool ok = c->gmin && c->gmax && c->sum_lo && c->sum_hi && c->n_lo && c->n_hi;
    if (ok && needs_history(p->type)) {
        int64_t cap = NNCW_RANGE_MAX_SAMPLES / channels;
        c->res.cap = cap < MIN_RESERVOIR ? MIN_RESERVOIR : cap;
        c->res.values = nncw_malloc(n * (size_t)c->res.cap * sizeof(float));
        c->res.seen = nncw_calloc(n, sizeof(int64_t));
        c->res.next = nncw_calloc(n, sizeof(int64_t));
        c->res.w = nncw_calloc(n, sizeof(double));
        nncw_rng_seed(&c->res.rng, RESERVOIR_SEED);
        ok = c->res.values && c->res.seen && c->res.next && c->res.w;
    }
    if (!ok) {
        nncw_range_collector_free(c);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "range init: out of memory for %lld channels",
                         (long long)channels);
    }
    for (int64_t k = 0; k < channels; k++) {
        c->gmin[k] = INFINITY;
        c->gmax[k] = -INFINITY;
    }
    *out = c;
    return NNCW_OK;
}

int64_t nncw_range_collector_count(const struct nncw_range_collector *c)
{
    return c->batches;
}

/* ---- collecting ---- */

struct view {
    int64_t outer, chans, inner;
    const float *x;
};

/* min and max of channel k of one batch (+-INFINITY if nothing finite) */
static void channel_min_max(const struct view *v, int64_t k, float *mn, float *mx)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t o = 0; o < v->outer; o++) {
        const float *p = v->x + (o * v->chans + k) * v->inner;
        for (int64_t i = 0; i < v->inner; i++) {
            float t = isfinite(p[i]) ? p[i] : lo;
            lo = t < lo ? t : lo;
            t = isfinite(p[i]) ? p[i] : hi;
            hi = t > hi ? t : hi;
        }
    }
    *mn = lo;
    *mx = hi;
}

/* the mean over samples (dimension 0) of each sample's max, into the collector's sums */
static void add_sample_maxes(struct nncw_range_collector *c, const struct nncw_tensor *t)
{
    int64_t n = t->ndim ? t->shape[0] : 1, per = n ? nncw_tensor_numel(t) / n : 0;
    const float *x = nncw_tensor_f32(t);
    for (int64_t s = 0; s < n; s++) {
        float hi = -INFINITY;
        for (int64_t i = 0; i < per; i++) {
            float v = isfinite(x[s * per + i]) ? x[s * per + i] : hi;
            hi = v > hi ? v : hi;
        }
        if (isfinite(hi)) {
            c->sum_sample_max += hi;
            c->n_samples++;
        }
    }
}

/* each batch's percentiles of channel k into the sums */
static enum nncw_status add_batch_percentiles(struct nncw_range_collector *c, const struct view *v,
                                              int64_t k)
{
    int64_t need = v->outer * v->inner;
    if (need > c->scratch_cap) {
        float *p = nncw_realloc(c->scratch, (size_t)need * sizeof(float));
        if (!p)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "range init: out of memory");
        c->scratch = p;
        c->scratch_cap = need;
    }
    int64_t m = 0;
    for (int64_t o = 0; o < v->outer; o++) {
        const float *p = v->x + (o * v->chans + k) * v->inner;
        for (int64_t i = 0; i < v->inner; i++)
            if (isfinite(p[i]))
                c->scratch[m++] = p[i];
    }
    if (m == 0)
        return NNCW_OK;
    c->sum_lo[k] += percentile(c->scratch, m, c->p.min_percentile);
    c->sum_hi[k] += percentile(c->scratch, m, c->p.max_percentile);
    c->n_lo[k]++;
    c->n_hi[k]++;
    return NNCW_OK;
}

static void add_history(struct nncw_range_collector *c, const struct view *v, int64_t k)
{
    bool drop_zeros = c->p.type == NNCW_RANGE_THREESIGMA;
    for (int64_t o = 0; o < v->outer; o++) {
        const float *p = v->x + (o * v->chans + k) * v->inner;
        for (int64_t i = 0; i < v->inner; i++)
            if (isfinite(p[i]) && !(drop_zeros && p[i] == 0.0f))
                reservoir_offer(&c->res, k, p[i]);
    }
}

enum nncw_status nncw_range_collector_add(struct nncw_range_collector *c,
                                          const struct nncw_tensor *batch)
{
    char sb[96];
    if (batch->dtype != NNCW_DTYPE_F32 || !batch->data)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "range init: a batch of %s, expected float32 data",
                         nncw_dtype_name(batch->dtype));
    if (!nncw_tensor_is_contiguous(batch))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "range init: the batch is not contiguous");
    struct view v = {1, 1, 1, nncw_tensor_f32(batch)};
    if (c->axis >= 0) {
        if (c->axis >= batch->ndim || batch->shape[c->axis] != c->channels)
            return NNCW_FAIL(
                NNCW_ERR_SHAPE, "range init: a batch of %s has no axis %d of %lld channels",
                nncw_tensor_shape_str(batch, sb, sizeof sb), c->axis, (long long)c->channels);
        for (int d = 0; d < c->axis; d++)
            v.outer *= batch->shape[d];
        v.chans = c->channels;
        for (int d = c->axis + 1; d < batch->ndim; d++)
            v.inner *= batch->shape[d];
    } else {
        v.inner = nncw_tensor_numel(batch);
    }
    if (nncw_tensor_numel(batch) == 0)
        return NNCW_OK;
    enum nncw_range_init t = c->p.type;
    for (int64_t k = 0; k < c->channels; k++) {
        float mn, mx;
        channel_min_max(&v, k, &mn, &mx);
        c->gmin[k] = mn < c->gmin[k] ? mn : c->gmin[k];
        c->gmax[k] = mx > c->gmax[k] ? mx : c->gmax[k];
        if (t == NNCW_RANGE_MEAN_PERCENTILE) {
            NNCW_TRY(add_batch_percentiles(c, &v, k));
        } else if (needs_history(t)) {
            add_history(c, &v, k);
        } else if (isfinite(mn)) { /* each batch's min and max */
            c->sum_lo[k] += mn;
            c->sum_hi[k] += mx;
            c->n_lo[k]++;
            c->n_hi[k]++;
        }
    }
    if (t == NNCW_RANGE_MIXED_MIN_MAX && c->axis < 0 && !c->is_weight)
        add_sample_maxes(c, batch);
    c->batches++;
    return NNCW_OK;
}

/* ---- results ---- */

/* threesigma of one channel's kept values: median -+ 3 * 1.4826 * MAD */
static void three_sigma(float *a, int64_t n, float *low, float *high)
{
    if (n == 0) { /* only zeros */
        *low = *high = 0.0f;
        return;
    }
    double med = median(a, n);
    for (int64_t i = 0; i < n; i++)
        a[i] = (float)fabs((double)a[i] - med);
    double mad = median(a, n);
    *low = (float)(med - 3.0 * 1.4826 * mad);
    *high = (float)(med + 3.0 * 1.4826 * mad);
}

enum nncw_status nncw_range_collector_result(const struct nncw_range_collector *c, float *low,
                                             float *high)
{
    enum nncw_range_init t = c->p.type;
    for (int64_t k = 0; k < c->channels; k++) {
        if (!isfinite(c->gmin[k]))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "range init %s: no finite value was collected%s (%lld batches)",
                             type_names[t], c->channels > 1 ? " for a channel" : "",
                             (long long)c->batches);
        float lo = c->gmin[k], hi = c->gmax[k];
        switch (t) {
        case NNCW_RANGE_MIN_MAX:
            break;
        case NNCW_RANGE_MEAN_MIN_MAX:
        case NNCW_RANGE_MEAN_PERCENTILE:
            lo = (float)(c->sum_lo[k] / (double)c->n_lo[k]);
            hi = (float)(c->sum_hi[k] / (double)c->n_hi[k]);
            break;
        case NNCW_RANGE_MIXED_MIN_MAX:
            if (c->axis < 0 && !c->is_weight) {
                if (c->asymmetric)
                    lo = (float)(c->sum_lo[k] / (double)c->n_lo[k]);
                if (c->n_samples)
                    hi = (float)(c->sum_sample_max / (double)c->n_samples);
            }
            break;
        default: { /* whole history: order statistics reorder the kept values */
            float *kept = c->res.values + k * c->res.cap;
            int64_t n = reservoir_count(&c->res, k);
            if (t == NNCW_RANGE_THREESIGMA) {
                three_sigma(kept, n, &lo, &hi);
            } else {
                lo = (float)percentile(kept, n, c->p.min_percentile);
                hi = (float)percentile(kept, n, c->p.max_percentile);
            }
            break;
        }
        }
        low[k] = lo;
        high[k] = hi;
    }
    return NNCW_OK;
}

/* ---- parameters ---- */

#define SCALE_FLOOR 0.1f
#define RANGE_FRACTION 1e-2

enum nncw_status nncw_quantizer_params_from_range(const struct nncw_quantizer_init *q, int64_t n,
                                                  const float *low, const float *high,
                                                  float *scale_or_low, float *range_or_null,
                                                  bool *is_signed)
{
    for (int64_t k = 0; k < n; k++)
        if (!isfinite(low[k]) || !isfinite(high[k]) || low[k] > high[k])
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "quantizer init: channel %lld has the range [%g, %g]", (long long)k,
                             (double)low[k], (double)high[k]);
    if (!q->asymmetric) {
        bool neg = false;
        for (int64_t k = 0; k < n; k++)
            neg |= low[k] < 0.0f;
        *is_signed = q->signedness >= 0 ? q->signedness != 0 : neg;
        for (int64_t k = 0; k < n; k++) {
            float m = fmaxf(fabsf(low[k]), fabsf(high[k]));
            m = m > SCALE_FLOOR ? m : SCALE_FLOOR;
            scale_or_low[k] = q->logarithm_scale ? logf(m) : m;
        }
        return NNCW_OK;
    }
    if (!range_or_null)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "quantizer init: asymmetric needs input_range");
    *is_signed = false;
    double widest = 0;
    for (int64_t k = 0; k < n; k++)
        widest = fmax(widest, (double)high[k] - low[k]);
    for (int64_t k = 0; k < n; k++) {
        double r = (double)high[k] - low[k];
        /* every range is empty: NNCF would divide by 0 later; start from 0.1 instead */
        double want = widest > 0 ? RANGE_FRACTION * widest : SCALE_FLOOR;
        double corr = r < want ? (want - r) * 0.5 : 0.0;
        scale_or_low[k] = (float)(low[k] - corr);
        float range = (float)(r + 2 * corr);
        range_or_null[k] = q->logarithm_scale ? logf(range) : range;
    }
    return NNCW_OK;
}
