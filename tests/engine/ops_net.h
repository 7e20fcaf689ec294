/*
 * A one-node graph for op tests that need more than nncwt_run_op / nncwt_check_grad give: a
 * chosen node name (error messages), inputs that are graph inputs (no data at shape inference),
 * a second output, access to parameters after forward (running statistics) and a direct
 * backward with chosen output gradients.
 *
 *     struct opnet b;
 *     const struct nncw_tensor *in[] = {&x, &w};
 *     opnet_build(&b, NNCW_OP_ADD, "Net/add1", 2, in, OPNET_INPUT(0), 1, NULL);
 *     nncwt_assert_status(opnet_exec(&b, false, false), NNCW_OK);  // shape inference runs here
 *     nncwt_assert_status(opnet_forward(&b), NNCW_OK);
 *     const struct nncw_tensor *y = nncw_exec_get_output(b.ex, 0);
 *     opnet_free(&b);
 *
 * Everything is static inline so each test file includes only what it uses.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graph/exec.h"
#include "nncwt.h"

#define OPNET_INPUT(i) (1u << (i))

struct opnet {
    struct nncw_graph *g;
    struct nncw_exec *ex;
    struct nncw_node *node;
    int n_in, n_out;
    int id[8];                        /* value id of each input, -1 if missing */
    int out[2];                       /* value ids of the outputs */
    const struct nncw_tensor *src[8]; /* borrowed: data copied into graph inputs on forward */
    unsigned as_input;
};

/* Builds the graph; inputs whose bit is set in as_input become graph inputs, the others
 * parameters, trainable when f32 (nncw_graph_add_param ignores it for other dtypes). Fails the
 * test on a building error. */
static inline void opnet_build(struct opnet *b, enum nncw_op op, const char *name, int n_in,
                               const struct nncw_tensor *const in[], unsigned as_input, int n_out,
                               nncwt_attr_fn attrs)
{
    memset(b, 0, sizeof *b);
    b->n_in = n_in;
    b->n_out = n_out;
    b->as_input = as_input;
    nncwt_assert_status(nncw_graph_new(&b->g), NNCW_OK);
    for (int i = 0; i < n_in; i++) {
        char vname[32];
        snprintf(vname, sizeof vname, "in%d", i);
        b->id[i] = -1;
        b->src[i] = in[i];
        if (!in[i])
            continue;
        if (as_input & OPNET_INPUT(i)) {
            nncwt_assert_status(nncw_graph_add_input(b->g, vname, in[i]->dtype, in[i]->ndim,
                                                     in[i]->shape, &b->id[i]),
                                NNCW_OK);
        } else {
            struct nncw_tensor copy;
            nncwt_assert_status(nncw_tensor_init_copy(&copy, in[i]), NNCW_OK);
            nncwt_assert_status(nncw_graph_add_param(b->g, vname, &copy, true, &b->id[i]), NNCW_OK);
            nncw_tensor_fini(&copy);
        }
    }
    nncwt_assert_status(nncw_graph_add_node(b->g, op, name, n_in, b->id, n_out, b->out, &b->node),
                        NNCW_OK);
    if (attrs)
        attrs(b->node);
    for (int o = 0; o < n_out; o++)
        nncwt_assert_status(nncw_graph_add_output(b->g, b->out[o]), NNCW_OK);
}

/* the executor (runs shape inference); returns its status */
static inline enum nncw_status opnet_exec(struct opnet *b, bool training, bool backward)
{
    struct nncw_exec_options o = {
        .batch = 1, .training = training, .backward = backward, .seed = 11};
    return nncw_exec_new(b->g, &o, &b->ex);
}

static inline enum nncw_status opnet_forward(struct opnet *b)
{
    int k = 0;
    for (int i = 0; i < b->n_in; i++)
        if (b->src[i] && (b->as_input & OPNET_INPUT(i))) {
            struct nncw_tensor *t = nncw_exec_get_input(b->ex, k++);
            memcpy(t->data, b->src[i]->data, nncw_tensor_nbytes(t));
        }
    return nncw_exec_forward(b->ex);
}

/* a parameter input's current tensor (running statistics after forward) */
static inline struct nncw_tensor *opnet_param(const struct opnet *b, int i)
{
    return nncw_graph_get_value_tensor(b->g, b->id[i]);
}

/* the gradient of a parameter input after backward */
static inline struct nncw_tensor *opnet_param_grad(const struct opnet *b, int i)
{
    return nncw_graph_get_value_grad(b->g, b->id[i]);
}

static inline void opnet_free(struct opnet *b)
{
    nncw_exec_free(b->ex);
    nncw_graph_free(b->g);
    memset(b, 0, sizeof *b);
}

/* builds and runs shape inference only, for error cases; returns the status */
static inline enum nncw_status opnet_infer_status(enum nncw_op op, const char *name, int n_in,
                                                  const struct nncw_tensor *const in[],
                                                  unsigned as_input, nncwt_attr_fn attrs)
{
    struct opnet b;
    opnet_build(&b, op, name, n_in, in, as_input, 1, attrs);
    nncw_error_clear();
    enum nncw_status s = nncw_graph_infer_shapes(b.g, 1);
    opnet_free(&b);
    return s;
}

/* fails unless nncw_last_error() contains every one of the NULL-terminated strings */
#define assert_error_mentions(...) assert_error_mentions_at(__FILE__, __LINE__, __VA_ARGS__, NULL)
static inline void assert_error_mentions_at(const char *file, int line, ...)
{
    va_list ap;
    va_start(ap, line);
    const char *want;
    while ((want = va_arg(ap, const char *)) != NULL)
        if (!strstr(nncw_last_error(), want))
            ck_abort_msg("%s:%d: last error '%s' does not mention '%s'", file, line,
                         nncw_last_error(), want);
    va_end(ap);
}
