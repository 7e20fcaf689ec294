/*
 * nncw's benchmark: the figures of shared/bench/torch_baseline.py, measured the same way
 * (same models, batch sizes and threads; medians after warm-up), one `name value unit` line
 * each, plus the sgemm peak of this machine and how close the convolutions come to it.
 *
 *   nncw-bench [--quick] [--threads N] [--only name,name,...]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "graph/exec.h"
#include "ops/blas.h"
#include "train/train.h"
#include "zoo/zoo.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*step_fn)(void *state);

static double median_s(step_fn fn, void *state, int warmup, int reps)
{
    for (int i = 0; i < warmup; i++)
        fn(state);
    double *t = malloc((size_t)reps * sizeof *t);
    for (int i = 0; i < reps; i++) {
        double t0 = now_s();
        fn(state);
        t[i] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double m = t[reps / 2];
    free(t);
    return m;
}

static void die(const char *what)
{
    fprintf(stderr, "nncw-bench: %s: %s\n", what, nncw_last_error());
    exit(1);
}

static void emit(const char *name, double value, const char *unit)
{
    printf("%s %.4g %s\n", name, value, unit);
    fflush(stdout);
}

/* ---- sgemm peak ---- */
struct gemm_state {
    int n;
    float *a, *b, *c;
};

static void gemm_step(void *p)
{
    struct gemm_state *s = p;
    nncw_blas_sgemm(false, false, s->n, s->n, s->n, 1.0f, s->a, s->n, s->b, s->n, 0.0f, s->c, s->n);
}

static double sgemm_peak_gflops(int reps)
{
    struct gemm_state s = {.n = 1024};
    size_t sz = (size_t)s.n * (size_t)s.n;
    s.a = nncw_malloc(sz * sizeof(float));
    s.b = nncw_malloc(sz * sizeof(float));
    s.c = nncw_malloc(sz * sizeof(float));
    struct nncw_rng r;
    nncw_rng_seed(&r, 1);
    for (size_t i = 0; i < sz; i++) {
        s.a[i] = nncw_rng_uniform(&r);
        s.b[i] = nncw_rng_uniform(&r);
    }
    double t = median_s(gemm_step, &s, 3, reps);
    nncw_free(s.a);
    nncw_free(s.b);
    nncw_free(s.c);
    return 2.0 * s.n * s.n * (double)s.n / t / 1e9;
}

/* ---- model steps ---- */
struct model_state {
    struct nncw_graph *g;
    struct nncw_exec *ex;
    struct nncw_optim *opt;
    struct nncw_tensor dlogits;
    int32_t *labels;
};

static void model_setup(struct model_state *m, const char *name, int batch, bool train,
                        bool profile)
{
    memset(m, 0, sizeof *m);
    struct nncw_zoo_options o = nncw_zoo_defaults(name);
    if (nncw_zoo_build(name, &o, &m->g) != NNCW_OK)
        die(name);
    struct nncw_exec_options eo = {.batch = batch, .training = train, .backward = train,
                                   .seed = 1, .profile = profile};
    if (nncw_exec_new(m->g, &eo, &m->ex) != NNCW_OK)
        die(name);
    struct nncw_tensor *x = nncw_exec_get_input(m->ex, 0);
    struct nncw_rng r;
    nncw_rng_seed(&r, 2);
    for (int64_t i = 0; i < nncw_tensor_numel(x); i++)
        nncw_tensor_f32(x)[i] = nncw_rng_normal(&r);
    m->labels = malloc((size_t)batch * sizeof *m->labels);
    for (int i = 0; i < batch; i++)
        m->labels[i] = (int32_t)nncw_rng_below(&r, 10);
    if (train) {
        struct nncw_optim_config oc = nncw_optim_config_sgd(0.01f, 0.9f, 0.0f);
        if (nncw_optim_new(m->g, &oc, &m->opt) != NNCW_OK)
            die("optimizer");
        if (nncw_tensor_init(&m->dlogits, NNCW_DTYPE_F32, 2, (int64_t[]){batch, 10}) != NNCW_OK)
            die("gradient");
    }
}

static void model_teardown(struct model_state *m)
{
    nncw_optim_free(m->opt);
    nncw_exec_free(m->ex);
    nncw_graph_free(m->g);
    nncw_tensor_fini(&m->dlogits);
    free(m->labels);
}

/* as torch_baseline.py's train step: zero_grad, forward, cross-entropy, backward, SGD step */
static void train_step(void *p)
{
    struct model_state *m = p;
    float loss;
    nncw_graph_zero_grads(m->g);
    if (nncw_exec_forward(m->ex) != NNCW_OK)
        die("forward");
    if (nncw_loss_cross_entropy(nncw_exec_get_output(m->ex, 0), m->labels, &loss, &m->dlogits) !=
        NNCW_OK)
        die("loss");
    const struct nncw_tensor *gout[] = {&m->dlogits};
    if (nncw_exec_backward(m->ex, gout) != NNCW_OK)
        die("backward");
    nncw_optim_step(m->opt);
}

static void infer_step(void *p)
{
    struct model_state *m = p;
    if (nncw_exec_forward(m->ex) != NNCW_OK)
        die("forward");
}

/* FLOPs of every conv node in one training step and the time they took (profile) */
static void conv_totals(const struct model_state *m, int steps, double *flops, double *seconds)
{
    *flops = *seconds = 0;
    for (int i = 0; i < nncw_graph_count_nodes(m->g); i++) {
        struct nncw_node *n = nncw_graph_get_node(m->g, i);
        if (nncw_node_get_op(n) != NNCW_OP_CONV)
            continue;
        const struct nncw_tensor *y = nncw_exec_get_value(m->ex, nncw_node_get_output(n, 0));
        const struct nncw_tensor *w = nncw_exec_get_value(m->ex, nncw_node_get_input(n, 1));
        double f = 2.0 * (double)nncw_tensor_numel(y) * (double)(w->shape[1] * w->shape[2] * w->shape[3]);
        /* forward, weight gradient, and input gradient unless the input is the image */
        bool needs_dx = nncw_graph_get_value_kind(m->g, nncw_node_get_input(n, 0)) != NNCW_VALUE_INPUT;
        *flops += f * (needs_dx ? 3 : 2) * steps;
        double fs, bs;
        nncw_exec_get_profile(m->ex, i, &fs, &bs);
        *seconds += fs + bs;
    }
}

static bool want(const char *only, const char *name)
{
    if (!only || !*only)
        return true;
    size_t len = strlen(name);
    for (const char *p = only; (p = strstr(p, name)); p += len)
        if ((p == only || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    bool quick = false;
    const char *only = NULL;
    int threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: nncw-bench [--quick] [--threads N] [--only name,...]\n");
            return 2;
        }
    }
    if (threads < 1) {
        fprintf(stderr, "nncw-bench: --threads must be positive\n");
        return 2;
    }
    nncw_blas_set_threads(threads);
    int reps = quick ? 5 : 15;
    double peak = sgemm_peak_gflops(reps);
    if (want(only, "sgemm_peak_gflops"))
        emit("sgemm_peak_gflops", peak, "GFLOP/s");

    struct model_state m;
    if (want(only, "cnn_train_images_per_s")) {
        model_setup(&m, "cnn", 64, true, false);
        emit("cnn_train_images_per_s", 64 / median_s(train_step, &m, 5, reps * 4), "img/s");
        model_teardown(&m);
    }
    if (want(only, "cnn_infer_images_per_s")) {
        model_setup(&m, "cnn", 64, false, false);
        emit("cnn_infer_images_per_s", 64 / median_s(infer_step, &m, 5, reps * 4), "img/s");
        model_teardown(&m);
    }
    bool r18_train = want(only, "resnet18_train_images_per_s") ||
                     want(only, "resnet18_train_peak_rss_mb") ||
                     want(only, "conv_gemm_efficiency_pct");
    if (r18_train) {
        model_setup(&m, "resnet18", 32, true, true);
        double t = median_s(train_step, &m, 2, reps);
        if (want(only, "resnet18_train_images_per_s"))
            emit("resnet18_train_images_per_s", 32 / t, "img/s");
        if (want(only, "resnet18_train_peak_rss_mb")) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            emit("resnet18_train_peak_rss_mb", (double)ru.ru_maxrss / 1024.0, "MB");
        }
        if (want(only, "conv_gemm_efficiency_pct")) {
            double flops, secs;
            conv_totals(&m, 2 + reps, &flops, &secs);
            emit("conv_gflops", flops / secs / 1e9, "GFLOP/s");
            emit("conv_gemm_efficiency_pct", 100.0 * flops / secs / 1e9 / peak, "%");
        }
        model_teardown(&m);
    }
    if (want(only, "resnet18_infer_images_per_s")) {
        model_setup(&m, "resnet18", 32, false, false);
        emit("resnet18_infer_images_per_s", 32 / median_s(infer_step, &m, 2, reps), "img/s");
        model_teardown(&m);
    }
    return 0;
}
