#include <math.h>
#include <stdio.h>

#include "core/rng.h"
#include "graph/exec.h"
#include "nncwt.h"

struct one_node {
    struct nncw_graph *g;
    struct nncw_exec *ex;
    int param[8];
    int out;
};

static enum nncw_status build(struct one_node *b, enum nncw_op op, int n_in,
                              const struct nncw_tensor *const in[], const bool *fixed,
                              nncwt_attr_fn attrs, bool training)
{
    NNCW_TRY(nncw_graph_new(&b->g));
    for (int i = 0; i < n_in; i++) {
        b->param[i] = -1;
        if (!in[i])
            continue;
        struct nncw_tensor copy;
        NNCW_TRY(nncw_tensor_init_copy(&copy, in[i]));
        char name[32];
        snprintf(name, sizeof name, "in%d", i);
        enum nncw_status s = nncw_graph_add_param(b->g, name, &copy, fixed && !fixed[i],
                                                  &b->param[i]);
        nncw_tensor_fini(&copy);
        NNCW_TRY(s);
    }
    struct nncw_node *n;
    int outs[8];
    NNCW_TRY(nncw_graph_add_node(b->g, op, "op", n_in, b->param, 1, outs, &n));
    if (attrs)
        attrs(n);
    b->out = outs[0];
    NNCW_TRY(nncw_graph_add_output(b->g, outs[0]));
    struct nncw_exec_options o = {.batch = 1, .training = training, .backward = fixed != NULL,
                                  .seed = 7};
    return nncw_exec_new(b->g, &o, &b->ex);
}

static void destroy(struct one_node *b)
{
    nncw_exec_free(b->ex);
    nncw_graph_free(b->g);
}

enum nncw_status nncwt_run_op(enum nncw_op op, int n_in, const struct nncw_tensor *const in[],
                              nncwt_attr_fn attrs, bool training, struct nncw_tensor *out0)
{
    struct one_node b = {0};
    enum nncw_status s = build(&b, op, n_in, in, NULL, attrs, training);
    if (s == NNCW_OK)
        s = nncw_exec_forward(b.ex);
    if (s == NNCW_OK)
        s = nncw_tensor_init_copy(out0, nncw_exec_get_output(b.ex, 0));
    destroy(&b);
    return s;
}

static double loss(struct one_node *b, const float *r)
{
    enum nncw_status s = nncw_exec_forward(b->ex);
    ck_assert_msg(s == NNCW_OK, "forward failed: %s", nncw_last_error());
    const struct nncw_tensor *y = nncw_exec_get_output(b->ex, 0);
    const float *yv = nncw_tensor_f32(y);
    double l = 0;
    for (int64_t i = 0; i < nncw_tensor_numel(y); i++)
        l += (double)yv[i] * r[i];
    return l;
}

void nncwt_check_grad_at(const struct nncwt_gradcheck *spec, const char *file, int line)
{
    double eps = spec->eps ? spec->eps : 1e-2, atol = spec->atol ? spec->atol : 1e-3;
    double rtol = spec->rtol ? spec->rtol : 1e-2;
    struct one_node b = {0};
    enum nncw_status s =
        build(&b, spec->op, spec->n_in, spec->in, spec->fixed, spec->attrs, spec->training);
    ck_assert_msg(s == NNCW_OK, "%s:%d: building the op failed: %s", file, line,
                  nncw_last_error());

    /* analytic gradients */
    s = nncw_exec_forward(b.ex);
    ck_assert_msg(s == NNCW_OK, "%s:%d: forward failed: %s", file, line, nncw_last_error());
    const struct nncw_tensor *y = nncw_exec_get_output(b.ex, 0);
    struct nncw_tensor r;
    nncwt_tensor_rand(&r, y->ndim, y->shape, -1.0f, 1.0f, 99);
    nncw_graph_zero_grads(b.g);
    const struct nncw_tensor *gout[] = {&r};
    s = nncw_exec_backward(b.ex, gout);
    ck_assert_msg(s == NNCW_OK, "%s:%d: backward failed: %s", file, line, nncw_last_error());

    struct nncw_rng pick;
    nncw_rng_seed(&pick, 5);
    for (int i = 0; i < spec->n_in; i++) {
        if (b.param[i] < 0 || !nncw_graph_is_trainable(b.g, b.param[i]))
            continue;
        struct nncw_tensor *x = nncw_graph_get_value_tensor(b.g, b.param[i]);
        const float *ana = nncw_tensor_f32(nncw_graph_get_value_grad(b.g, b.param[i]));
        float *xv = nncw_tensor_f32(x);
        int64_t n = nncw_tensor_numel(x);
        int64_t count = spec->max_elems > 0 && spec->max_elems < n ? spec->max_elems : n;
        for (int64_t c = 0; c < count; c++) {
            int64_t j = count == n ? c : (int64_t)nncw_rng_below(&pick, (uint32_t)n);
            float keep = xv[j];
            xv[j] = (float)(keep + eps);
            double lp = loss(&b, nncw_tensor_f32(&r));
            xv[j] = (float)(keep - eps);
            double lm = loss(&b, nncw_tensor_f32(&r));
            xv[j] = keep;
            double num = (lp - lm) / (2 * eps);
            if (!(fabs(num - ana[j]) <= atol + rtol * fabs(num)))
                ck_abort_msg("%s:%d: %s input %d element %lld: analytic %.6g, numeric %.6g", file,
                             line, nncw_op_name(spec->op), i, (long long)j, ana[j], num);
        }
    }
    nncw_tensor_fini(&r);
    destroy(&b);
}
