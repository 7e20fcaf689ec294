/*
 * Hessian traces of a network's weight tensors by Hutchinson's method (HAWQ-v2): for Rademacher
 * vectors v (entries +-1), E[v^T H v] = tr(H). One Hessian-vector product over all weights at
 * once serves every layer: the cross terms v_i^T H_ij v_j of different layers have mean zero.
 *
 *     struct nncw_hutchinson_options o = {.iter_number = 200, .tolerance = 1e-4f, .seed = 1};
 *     double traces[2];                         // per weight, normalised by its element count
 *     int iters;
 *     nncw_hutchinson_traces_ce(g, data, 100, 32, 2, (int[]){w1, w2}, &o, traces, &iters);
 *
 * Hv comes from a finite difference of gradients, Hv ~ (g(w + e v) - g(w)) / e, with a step
 * per weight tensor e_i = NNCW_HUTCHINSON_REL_EPS x rms(w_i) (at least 1e-4) and g(w) computed
 * once: one gradient pass per product and no second-order backward rules. The one-sided
 * difference's O(e) term is e/2 . T[v, v, v] (T the third derivative), whose mean over
 * Rademacher v is zero (odd moments vanish), so the trace estimate is biased only at O(e^2),
 * as a central difference, at half the cost. For a quadratic loss every sample is exact up to
 * float rounding (relative error about 1e-7 |g| / (e |Hv|)); for a piecewise-linear ReLU network
 * it is the Hessian of the loss smoothed over a step of 1 % of the weights' size, below the
 * perturbation of 4-bit quantization (its step is ~1/8 of the largest weight) that the trace is
 * used to weigh.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "data/data.h"
#include "graph/graph.h"

#define NNCW_HUTCHINSON_REL_EPS 1e-2

/* called after each iteration (from 1) with the running mean of the summed (unnormalised)
 * traces; returning false cancels the estimate (NNCW_ERR_CANCELLED) */
typedef bool (*nncw_precision_progress_fn)(void *user, int iteration, int iter_number,
                                           double mean_trace);

struct nncw_hutchinson_options {
    int iter_number;  /* at most this many Hessian-vector products (>= 1) */
    float tolerance;  /* stop once the running mean's relative change is below it (0: never) */
    uint64_t seed;    /* the Rademacher vectors */
    nncw_precision_progress_fn progress; /* NULL: none */
    void *user;
};

/* The gradient of the loss at the graph's current parameters, written into the graph's
 * parameter gradients (zeroed by the callee), summed over whatever data it stands for. */
typedef enum nncw_status (*nncw_hutchinson_grad_fn)(void *user);

/* Traces of the Hessian blocks of params[n] (trainable parameters of g) of the loss grad
 * computes, each divided by the parameter's element count, into traces[n]; *iterations says
 * how many products were averaged. g's parameters are restored afterwards. NNCW_ERR_INVALID_ARG
 * for a parameter that is not trainable or options out of range, grad's errors,
 * NNCW_ERR_CANCELLED, NNCW_ERR_NOMEM. */
enum nncw_status nncw_hutchinson_traces(struct nncw_graph *g, int n, const int *params,
                                        nncw_hutchinson_grad_fn grad, void *user,
                                        const struct nncw_hutchinson_options *o, double *traces,
                                        int *iterations);

/* The same for the mean cross-entropy of g's first output on max(1, num_data_points /
 * batch_size) batches of data (seeded shuffle; batch norms with their running statistics, no
 * dropout), as NNCF's HAWQ. The data must fit g's single input. */
enum nncw_status nncw_hutchinson_traces_ce(struct nncw_graph *g, const struct nncw_dataset *data,
                                           int64_t num_data_points, int batch_size, int n,
                                           const int *params,
                                           const struct nncw_hutchinson_options *o,
                                           double *traces, int *iterations);
