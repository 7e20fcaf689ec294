/* AutoQ's actor and critic networks: dense layers, ReLU, sigmoid output, Adam (mlp.h). */
#include "compression/autoq/mlp.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

static int widest(const struct nncw_mlp *m)
{
    int w = 1;
    for (int l = 0; l <= NNCW_MLP_LAYERS; l++)
        w = m->dims[l] > w ? m->dims[l] : w;
    return w;
}

void nncw_mlp_fini(struct nncw_mlp *m)
{
    for (int l = 0; l < NNCW_MLP_LAYERS; l++) {
        nncw_free(m->w[l]);
        nncw_free(m->b[l]);
        nncw_free(m->gw[l]);
        nncw_free(m->gb[l]);
        nncw_free(m->mw[l]);
        nncw_free(m->vw[l]);
        nncw_free(m->mb[l]);
        nncw_free(m->vb[l]);
    }
    for (int l = 0; l <= NNCW_MLP_LAYERS; l++)
        nncw_free(m->act[l]);
    nncw_free(m->delta[0]);
    nncw_free(m->delta[1]);
    memset(m, 0, sizeof *m);
}

enum nncw_status nncw_mlp_init(struct nncw_mlp *m, int in, int hidden, bool sigmoid,
                               struct nncw_rng *r, int max_batch)
{
    memset(m, 0, sizeof *m);
    m->dims[0] = in;
    m->dims[1] = m->dims[2] = hidden;
    m->dims[3] = 1;
    m->sigmoid = sigmoid;
    m->max_batch = max_batch;
    bool ok = true;
    for (int l = 0; l < NNCW_MLP_LAYERS; l++) {
        size_t nw = (size_t)m->dims[l + 1] * (size_t)m->dims[l], nb = (size_t)m->dims[l + 1];
        float **arrays[] = {&m->w[l], &m->gw[l], &m->mw[l], &m->vw[l]};
        float **barrays[] = {&m->b[l], &m->gb[l], &m->mb[l], &m->vb[l]};
        for (int k = 0; k < 4; k++) {
            ok = ok && (*arrays[k] = nncw_calloc(nw, sizeof(float)));
            ok = ok && (*barrays[k] = nncw_calloc(nb, sizeof(float)));
        }
        if (!ok)
            break;
        float bound = l == NNCW_MLP_LAYERS - 1 ? 3e-3f : 1.0f / sqrtf((float)m->dims[l]);
        for (size_t i = 0; i < nw; i++)
            m->w[l][i] = (2.0f * nncw_rng_uniform(r) - 1.0f) * bound;
        for (size_t i = 0; i < nb; i++)
            m->b[l][i] = (2.0f * nncw_rng_uniform(r) - 1.0f) * bound;
    }
    for (int l = 0; ok && l <= NNCW_MLP_LAYERS; l++)
        ok = (m->act[l] = nncw_calloc((size_t)max_batch * (size_t)m->dims[l], sizeof(float)));
    for (int k = 0; ok && k < 2; k++)
        ok = (m->delta[k] = nncw_calloc((size_t)max_batch * (size_t)widest(m), sizeof(float)));
    if (!ok) {
        nncw_mlp_fini(m);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "autoq: out of memory for the agent's networks");
    }
    return NNCW_OK;
}

void nncw_mlp_copy(struct nncw_mlp *dst, const struct nncw_mlp *src)
{
    nncw_mlp_soft_update(dst, src, 1.0f);
}

void nncw_mlp_soft_update(struct nncw_mlp *target, const struct nncw_mlp *src, float tau)
{
    for (int l = 0; l < NNCW_MLP_LAYERS; l++) {
        size_t nw = (size_t)src->dims[l + 1] * (size_t)src->dims[l];
        for (size_t i = 0; i < nw; i++)
            target->w[l][i] = tau * src->w[l][i] + (1.0f - tau) * target->w[l][i];
        for (int i = 0; i < src->dims[l + 1]; i++)
            target->b[l][i] = tau * src->b[l][i] + (1.0f - tau) * target->b[l][i];
    }
}

void nncw_mlp_forward(struct nncw_mlp *m, int batch, const float *x, float *y)
{
    memcpy(m->act[0], x, (size_t)batch * (size_t)m->dims[0] * sizeof(float));
    for (int l = 0; l < NNCW_MLP_LAYERS; l++) {
        int in = m->dims[l], out = m->dims[l + 1];
        bool last = l == NNCW_MLP_LAYERS - 1;
        for (int s = 0; s < batch; s++) {
            const float *a = m->act[l] + (size_t)s * in;
            float *z = m->act[l + 1] + (size_t)s * out;
            for (int o = 0; o < out; o++) {
                const float *w = m->w[l] + (size_t)o * in;
                float acc = m->b[l][o];
                for (int i = 0; i < in; i++)
                    acc += w[i] * a[i];
                if (!last)
                    acc = acc > 0.0f ? acc : 0.0f;
                else if (m->sigmoid)
                    acc = 1.0f / (1.0f + expf(-acc));
                z[o] = acc;
            }
        }
    }
    memcpy(y, m->act[NNCW_MLP_LAYERS], (size_t)batch * sizeof(float));
}

void nncw_mlp_zero_grad(struct nncw_mlp *m)
{
    for (int l = 0; l < NNCW_MLP_LAYERS; l++) {
        memset(m->gw[l], 0, (size_t)m->dims[l + 1] * (size_t)m->dims[l] * sizeof(float));
        memset(m->gb[l], 0, (size_t)m->dims[l + 1] * sizeof(float));
    }
}

void nncw_mlp_backward(struct nncw_mlp *m, int batch, const float *dy, float *dx)
{
    /* d: the gradient at the pre-activation of layer l, batch x dims[l + 1] */
    float *d = m->delta[0], *prev = m->delta[1];
    const float *y = m->act[NNCW_MLP_LAYERS];
    for (int s = 0; s < batch; s++)
        d[s] = m->sigmoid ? dy[s] * y[s] * (1.0f - y[s]) : dy[s];
    for (int l = NNCW_MLP_LAYERS - 1; l >= 0; l--) {
        int in = m->dims[l], out = m->dims[l + 1];
        for (int s = 0; s < batch; s++) {
            const float *a = m->act[l] + (size_t)s * in;
            const float *ds = d + (size_t)s * out;
            for (int o = 0; o < out; o++) {
                if (ds[o] == 0.0f)
                    continue;
                float *gw = m->gw[l] + (size_t)o * in;
                for (int i = 0; i < in; i++)
                    gw[i] += ds[o] * a[i];
                m->gb[l][o] += ds[o];
            }
        }
        if (l == 0 && !dx)
            break;
        float *to = l == 0 ? dx : prev;
        for (int s = 0; s < batch; s++) {
            const float *ds = d + (size_t)s * out;
            const float *a = m->act[l] + (size_t)s * in;
            float *t = to + (size_t)s * in;
            for (int i = 0; i < in; i++)
                t[i] = 0.0f;
            for (int o = 0; o < out; o++) {
                const float *w = m->w[l] + (size_t)o * in;
                for (int i = 0; i < in; i++)
                    t[i] += ds[o] * w[i];
            }
            /* through the ReLU that produced this layer's input (not for the network input) */
            for (int i = 0; l > 0 && i < in; i++)
                t[i] = a[i] > 0.0f ? t[i] : 0.0f;
        }
        float *tmp = d;
        d = prev;
        prev = tmp;
    }
}

static void adam(float *p, const float *g, float *mo, float *ve, size_t n, float lr, float c1,
                 float c2)
{
    for (size_t i = 0; i < n; i++) {
        mo[i] = 0.9f * mo[i] + 0.1f * g[i];
        ve[i] = 0.999f * ve[i] + 0.001f * g[i] * g[i];
        p[i] -= lr * (mo[i] / c1) / (sqrtf(ve[i] / c2) + 1e-8f);
    }
}

void nncw_mlp_adam_step(struct nncw_mlp *m, float lr)
{
    m->adam_t++;
    float c1 = 1.0f - powf(0.9f, (float)m->adam_t), c2 = 1.0f - powf(0.999f, (float)m->adam_t);
    for (int l = 0; l < NNCW_MLP_LAYERS; l++) {
        adam(m->w[l], m->gw[l], m->mw[l], m->vw[l], (size_t)m->dims[l + 1] * (size_t)m->dims[l], lr,
             c1, c2);
        adam(m->b[l], m->gb[l], m->mb[l], m->vb[l], (size_t)m->dims[l + 1], lr, c1, c2);
    }
}
