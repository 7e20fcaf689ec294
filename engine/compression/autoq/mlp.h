/*
 * The small fully connected networks of AutoQ's DDPG agent (actor and critic): in -> hidden
 * -> hidden -> 1 with ReLUs, optionally a sigmoid on the output, trained by Adam. Hand-written
 * forward and backward over a batch (row-major [batch, features]); at these sizes an engine
 * graph would cost more to build than to run.
 *
 *     struct nncw_mlp m;
 *     nncw_mlp_init(&m, 10, 300, true, &rng, 64);    // actor: sigmoid output, batches <= 64
 *     nncw_mlp_forward(&m, batch, x, y);             // keeps what backward needs
 *     nncw_mlp_zero_grad(&m);
 *     nncw_mlp_backward(&m, batch, dy, dx);          // dx may be NULL
 *     nncw_mlp_adam_step(&m, 1e-4f);
 *     nncw_mlp_fini(&m);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"

#define NNCW_MLP_LAYERS 3

struct nncw_mlp {
    int dims[NNCW_MLP_LAYERS + 1]; /* in, hidden, hidden, 1 */
    bool sigmoid;                  /* on the output */
    int max_batch;
    float *w[NNCW_MLP_LAYERS], *b[NNCW_MLP_LAYERS];   /* w[l]: [dims[l + 1], dims[l]] */
    float *gw[NNCW_MLP_LAYERS], *gb[NNCW_MLP_LAYERS]; /* gradients */
    float *mw[NNCW_MLP_LAYERS], *vw[NNCW_MLP_LAYERS]; /* Adam moments */
    float *mb[NNCW_MLP_LAYERS], *vb[NNCW_MLP_LAYERS];
    int64_t adam_t;
    float *act[NNCW_MLP_LAYERS + 1]; /* act[0] input, act[l + 1] layer l's output */
    float *delta[2];                 /* backward scratch, max_batch x max width */
};

/* weights uniform in +-1/sqrt(fan_in) (PyTorch's Linear), the last layer in +-3e-3 (DDPG's
 * actor and critic), from r. NNCW_ERR_NOMEM */
enum nncw_status nncw_mlp_init(struct nncw_mlp *m, int in, int hidden, bool sigmoid,
                               struct nncw_rng *r, int max_batch);
void nncw_mlp_fini(struct nncw_mlp *m);
/* dst's parameters := src's (same dims) */
void nncw_mlp_copy(struct nncw_mlp *dst, const struct nncw_mlp *src);
/* target := tau * src + (1 - tau) * target */
void nncw_mlp_soft_update(struct nncw_mlp *target, const struct nncw_mlp *src, float tau);

/* y[batch] from x[batch, in] (batch <= max_batch) */
void nncw_mlp_forward(struct nncw_mlp *m, int batch, const float *x, float *y);
void nncw_mlp_zero_grad(struct nncw_mlp *m);
/* after forward of the same batch: adds the parameters' gradients of sum(dy * y) and writes
 * dx[batch, in] (may be NULL) */
void nncw_mlp_backward(struct nncw_mlp *m, int batch, const float *dy, float *dx);
/* one Adam step (beta 0.9, 0.999, eps 1e-8) on the accumulated gradients */
void nncw_mlp_adam_step(struct nncw_mlp *m, float lr);
