/*
 * Shared test helpers (libevdev style): one Check suite per executable,
 *
 *     int main(void) { return nncwt_run(tensor_suite()); }
 *
 * plus tensor builders, tensor comparison and the finite-difference gradient check.
 */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "ops/ops.h"
#include "tensor/tensor.h"

/* runs the suite (CK_RUN_SUITE/CK_RUN_CASE honoured); installs a log handler that fails the
 * test on an unexpected ERROR; returns the process exit status */
int nncwt_run(Suite *s);

/* a new f32 tensor of the shape filled with uniform values in [lo, hi) from seed */
void nncwt_tensor_rand(struct nncw_tensor *t, int ndim, const int64_t *shape, float lo, float hi,
                       uint64_t seed);
/* a new f32 tensor from literal values */
void nncwt_tensor_from(struct nncw_tensor *t, int ndim, const int64_t *shape, const float *v);

/* fails the test with the first index where |a - b| > atol + rtol * |b| */
#define nncwt_assert_tensor_near(a, b, atol, rtol)                                                 \
    nncwt_assert_tensor_near_at((a), (b), (atol), (rtol), __FILE__, __LINE__)
void nncwt_assert_tensor_near_at(const struct nncw_tensor *a, const struct nncw_tensor *b,
                                 double atol, double rtol, const char *file, int line);

/* fails the test if s != expected, printing nncw_last_error() */
#define nncwt_assert_status(s, expected)                                                           \
    nncwt_assert_status_at((s), (expected), __FILE__, __LINE__)
void nncwt_assert_status_at(enum nncw_status s, enum nncw_status expected, const char *file,
                            int line);

/* ---- finite-difference gradient check of one op ----
 * The op's inputs become parameters of a one-node graph: f32 inputs are trainable (their
 * gradients are checked) unless `fixed` says otherwise; other dtypes are constants. The loss
 * is sum(out0 * r) for a fixed random r; each checked input element is perturbed by +-eps
 * and the central difference compared with the analytic gradient:
 * |num - ana| <= atol + rtol * |num|. At most max_elems elements per input are checked
 * (0: all), chosen at random. */
typedef void (*nncwt_attr_fn)(struct nncw_node *n);

struct nncwt_gradcheck {
    enum nncw_op op;
    int n_in;
    const struct nncw_tensor *in[8]; /* NULL: missing optional input */
    bool fixed[8];
    nncwt_attr_fn attrs;             /* sets the node's attributes; may be NULL */
    bool training;                   /* op mode (batch-norm batch statistics, dropout) */
    double eps, atol, rtol;          /* 0: 1e-2, 1e-3, 1e-2 */
    int max_elems;
};

#define nncwt_check_grad(spec) nncwt_check_grad_at((spec), __FILE__, __LINE__)
void nncwt_check_grad_at(const struct nncwt_gradcheck *spec, const char *file, int line);

/* runs the op forward once on the given inputs into out0 (a new tensor) */
enum nncw_status nncwt_run_op(enum nncw_op op, int n_in, const struct nncw_tensor *const in[],
                              nncwt_attr_fn attrs, bool training, struct nncw_tensor *out0);
