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

#include "compression/compression.h"
#include "compression/precision/hutchinson.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "data/data.h"
#include "graph/exec.h"
#include "int8/int8_exec.h"
#include "ops/blas.h"
#include "ops/conv_crop.h"
#include "ops/conv_winograd.h"
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

/* the 2-D geometry of a conv node as the executor ran it */
static struct nncw_conv2d_geom conv_node_geom(const struct model_state *m, struct nncw_node *n)
{
    const struct nncw_tensor *x = nncw_exec_get_value(m->ex, nncw_node_get_input(n, 0));
    const struct nncw_tensor *y = nncw_exec_get_value(m->ex, nncw_node_get_output(n, 0));
    const struct nncw_tensor *w = nncw_exec_get_value(m->ex, nncw_node_get_input(n, 1));
    const int64_t *st, *pd, *dl;
    bool has_st = nncw_node_get_attr_ints(n, "strides", &st) == 2;
    bool has_pd = nncw_node_get_attr_ints(n, "pads", &pd) == 4;
    bool has_dl = nncw_node_get_attr_ints(n, "dilations", &dl) == 2;
    return (struct nncw_conv2d_geom){
        .n = (int)x->shape[0], .c = (int)x->shape[1], .h = (int)x->shape[2],
        .w = (int)x->shape[3], .m = (int)w->shape[0],
        .group = (int)nncw_node_get_attr_int(n, "group", 1), .kh = (int)w->shape[2],
        .kw = (int)w->shape[3], .sh = has_st ? (int)st[0] : 1, .sw = has_st ? (int)st[1] : 1,
        .dh = has_dl ? (int)dl[0] : 1, .dw = has_dl ? (int)dl[1] : 1,
        .pt = has_pd ? (int)pd[0] : 0, .pl = has_pd ? (int)pd[1] : 0, .oh = (int)y->shape[2],
        .ow = (int)y->shape[3]};
}

/* FLOPs of the conv nodes in `steps` training steps, counted as the direct convolution does
 * them, and the time they took (profile): over every conv node (all), and over those that run
 * on the GEMM paths only (gemm: implicit GEMM or im2col + sgemm). Winograd does 4x (F(4x4, 3x3))
 * or 2.25x (F(2x2, 3x3)) fewer multiply-adds than counted and cropped kernels skip the padding,
 * so "all" is an effective rate; "gemm" counts only the products the sgemm computes. */
struct conv_flops {
    double all_flops, all_s, gemm_flops, gemm_s;
};

static struct conv_flops conv_totals(const struct model_state *m, int steps)
{
    struct conv_flops t = {0};
    for (int i = 0; i < nncw_graph_count_nodes(m->g); i++) {
        struct nncw_node *n = nncw_graph_get_node(m->g, i);
        if (nncw_node_get_op(n) != NNCW_OP_CONV)
            continue;
        const struct nncw_tensor *y = nncw_exec_get_value(m->ex, nncw_node_get_output(n, 0));
        const struct nncw_tensor *w = nncw_exec_get_value(m->ex, nncw_node_get_input(n, 1));
        double f = 2.0 * (double)nncw_tensor_numel(y) * (double)(w->shape[1] * w->shape[2] * w->shape[3]);
        /* forward, weight gradient, and input gradient unless the input is the image */
        bool needs_dx = nncw_graph_get_value_kind(m->g, nncw_node_get_input(n, 0)) != NNCW_VALUE_INPUT;
        double fs, bs;
        nncw_exec_get_profile(m->ex, i, &fs, &bs);
        t.all_flops += f * (needs_dx ? 3 : 2) * steps;
        t.all_s += fs + bs;
        /* the GEMM runs on the kernel cropped to its live taps: count what it multiplies */
        struct nncw_conv2d_geom g = conv_node_geom(m, n);
        struct nncw_conv2d_crop k;
        if (nncw_conv2d_crop_get(&g, &k)) {
            f *= (double)(k.g.kh * k.g.kw) / (double)(g.kh * g.kw);
            g = k.g;
        }
        if (!nncw_conv2d_winograd_applies(&g)) {
            t.gemm_flops += f * (needs_dx ? 3 : 2) * steps;
            t.gemm_s += fs + bs;
        }
    }
    return t;
}

/* ---- int8 inference: ResNet-18 quantized as NNCF does for CPU, run by the integer executor ----
 * The compression controller places the quantizers (8-bit activations, per-channel weights on
 * 7 bits for the CPU saturation fix) and initialises their ranges from the benchmark batch. */

static void quantize_resnet(struct nncw_graph *g, const struct nncw_tensor *images)
{
    static const char *json =
        "{\"input_info\": {\"sample_size\": [1, 3, 32, 32]}, \"target_device\": \"CPU\","
        " \"compression\": {\"algorithm\": \"quantization\","
        " \"initializer\": {\"range\": {\"num_init_samples\": 32},"
        " \"batchnorm_adaptation\": {\"num_bn_adaptation_samples\": 0}}}}";
    struct nncw_config *cfg;
    struct nncw_dataset *ds;
    struct nncw_compression *c;
    int32_t labels[64] = {0};
    int64_t n = images->shape[0] < 64 ? images->shape[0] : 64;
    if (nncw_config_parse(json, "int8 benchmark", &cfg) != NNCW_OK ||
        nncw_dataset_new("calibration", n, (int64_t[]){3, 32, 32}, 10, nncw_tensor_f32(images),
                         labels, &ds) != NNCW_OK)
        die("int8 setup");
    struct nncw_compression_init init = {.data = ds, .batch_size = (int)n, .seed = 1};
    if (nncw_compression_create(g, cfg, &init, &c) != NNCW_OK)
        die("quantization");
    nncw_compression_free(c);
    nncw_dataset_free(ds);
    nncw_config_free(cfg);
}

struct int8_state {
    struct nncw_int8_plan *plan;
    const struct nncw_tensor *images;
    struct nncw_tensor logits;
};

static void int8_step(void *p)
{
    struct int8_state *s = p;
    if (nncw_int8_plan_run(s->plan, (const struct nncw_tensor *[]){s->images},
                           (struct nncw_tensor *[]){&s->logits}, s->images->shape[0]) != NNCW_OK)
        die("int8 run");
}

/* int8 images/s and its ratio to FP32 on the same batch, the two timed alternately so load
 * from other processes falls on both */
static void bench_resnet18_int8(int reps, bool want_ips, bool want_speedup)
{
    struct model_state fp;
    model_setup(&fp, "resnet18", 32, false, false);
    const struct nncw_tensor *images = nncw_exec_get_input(fp.ex, 0);
    struct nncw_graph *g;
    struct nncw_zoo_options zo = nncw_zoo_defaults("resnet18");
    if (nncw_zoo_build("resnet18", &zo, &g) != NNCW_OK)
        die("resnet18");
    quantize_resnet(g, images);
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = 32;
    struct int8_state s = {.images = images};
    if (nncw_int8_plan_build(g, &o, &s.plan) != NNCW_OK)
        die("int8 plan");
    double t_fp = 0, t_q = 0;
    for (int round = 0; round < 3; round++) {
        t_fp += median_s(infer_step, &fp, 1, (reps + 2) / 3);
        t_q += median_s(int8_step, &s, 1, (reps + 2) / 3);
    }
    if (want_ips)
        emit("resnet18_int8_infer_images_per_s", 3 * 32 / t_q, "img/s");
    if (want_speedup)
        emit("resnet18_int8_infer_speedup", t_fp / t_q, "x");
    nncw_tensor_fini(&s.logits);
    nncw_int8_plan_free(s.plan);
    nncw_graph_free(g);
    model_teardown(&fp);
}

/* QAT: the CNN with NNCF's default CPU quantization (4 weight, 4 activation quantizers),
 * ranges initialised as every QAT run does (on 256 synthetic images: the quantizers after
 * ReLUs become unsigned) against the same FP32 training step; the two alternate and the ratio
 * is the median of the rounds' ratios, so a machine that gets busier affects both sides alike */
static void bench_cnn_qat(int reps)
{
    struct model_state fp, q;
    model_setup(&fp, "cnn", 64, true, false);
    memset(&q, 0, sizeof q);
    struct nncw_zoo_options o = nncw_zoo_defaults("cnn");
    struct nncw_config *cfg;
    struct nncw_compression *c;
    struct nncw_dataset *init_data;
    struct nncw_synthetic_opts so = {.count = 256, .channels = 1, .height = 28, .width = 28,
                                     .num_classes = 10, .seed = 1, .sample_seed = 2};
    struct nncw_compression_init init = {.batch_size = 64, .seed = 1};
    if (nncw_dataset_new_synthetic(&so, &init_data) != NNCW_OK)
        die("synthetic data");
    init.data = init_data;
    if (nncw_zoo_build("cnn", &o, &q.g) != NNCW_OK ||
        nncw_config_parse("{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, "
                          "\"target_device\": \"CPU\", "
                          "\"compression\": {\"algorithm\": \"quantization\"}}",
                          "bench", &cfg) != NNCW_OK ||
        nncw_compression_create(q.g, cfg, &init, &c) != NNCW_OK)
        die("quantization");
    struct nncw_exec_options eo = {.batch = 64, .training = true, .backward = true, .seed = 1};
    struct nncw_optim_config oc = nncw_optim_config_sgd(0.01f, 0.9f, 0.0f);
    if (nncw_exec_new(q.g, &eo, &q.ex) != NNCW_OK || nncw_optim_new(q.g, &oc, &q.opt) != NNCW_OK ||
        nncw_tensor_init(&q.dlogits, NNCW_DTYPE_F32, 2, (int64_t[]){64, 10}) != NNCW_OK)
        die("quantized CNN");
    q.labels = malloc(64 * sizeof *q.labels);
    memcpy(q.labels, fp.labels, 64 * sizeof *q.labels);
    memcpy(nncw_tensor_f32(nncw_exec_get_input(q.ex, 0)),
           nncw_tensor_f32(nncw_exec_get_input(fp.ex, 0)),
           nncw_tensor_nbytes(nncw_exec_get_input(fp.ex, 0)));
    double ratios[7];
    for (int r = 0; r < 7; r++) {
        double t_fp = median_s(train_step, &fp, 2, reps);
        double t_q = median_s(train_step, &q, 2, reps);
        ratios[r] = t_q / t_fp;
    }
    qsort(ratios, 7, sizeof ratios[0], cmp_double);
    emit("cnn_qat_step_ratio", ratios[3], "x");
    nncw_compression_free(c);
    nncw_dataset_free(init_data);
    nncw_config_free(cfg);
    model_teardown(&q);
    model_teardown(&fp);
}

/* ---- mixed precision: HAWQ's Hutchinson traces ---- */
struct hutchinson_state {
    struct nncw_graph *g;
    struct nncw_dataset *data;
    int n;
    int *params;
    double *traces;
};

static void hutchinson_step(void *p)
{
    struct hutchinson_state *h = p;
    struct nncw_hutchinson_options o = {.iter_number = 10, .seed = 1};
    int iters;
    if (nncw_hutchinson_traces_ce(h->g, h->data, 32, 32, h->n, h->params, &o, h->traces,
                                  &iters) != NNCW_OK)
        die("Hutchinson traces");
}

/* 10 Hutchinson iterations (one Hessian-vector product over every weight tensor each: one
 * gradient pass, plus one at the unperturbed weights, see compression/precision/hutchinson.h)
 * on a batch of 32, ResNet-18 at 32x32, as torch_baseline.py's double-backward version */
static void bench_resnet18_hutchinson(int reps)
{
    struct hutchinson_state h = {0};
    struct nncw_zoo_options zo = nncw_zoo_defaults("resnet18");
    struct nncw_synthetic_opts so = {.count = 32, .channels = 3, .height = 32, .width = 32,
                                     .num_classes = 10, .seed = 1, .sample_seed = 1};
    if (nncw_zoo_build("resnet18", &zo, &h.g) != NNCW_OK ||
        nncw_dataset_new_synthetic(&so, &h.data) != NNCW_OK)
        die("resnet18");
    h.params = malloc((size_t)nncw_graph_count_params(h.g) * sizeof *h.params);
    for (int i = 0; i < nncw_graph_count_params(h.g); i++) {
        int v = nncw_graph_get_param(h.g, i);
        if (nncw_graph_is_trainable(h.g, v) && nncw_graph_get_value_tensor(h.g, v)->ndim > 1)
            h.params[h.n++] = v;
    }
    h.traces = malloc((size_t)h.n * sizeof *h.traces);
    emit("resnet18_hutchinson_s", median_s(hutchinson_step, &h, 1, reps), "s");
    free(h.params);
    free(h.traces);
    nncw_dataset_free(h.data);
    nncw_graph_free(h.g);
}

/* ---- filter pruning: the shrunk ResNet-20 against the unpruned one ---- */
struct pruned_state {
    struct nncw_exec *ex;
};

static void pruned_step(void *p)
{
    if (nncw_exec_forward(((struct pruned_state *)p)->ex) != NNCW_OK)
        die("forward");
}

static void pruned_exec_new(struct nncw_graph *g, struct pruned_state *st)
{
    struct nncw_exec_options eo = {.batch = 32};
    if (nncw_exec_new(g, &eo, &st->ex) != NNCW_OK)
        die("resnet20 executor");
    struct nncw_tensor *x = nncw_exec_get_input(st->ex, 0);
    struct nncw_rng r;
    nncw_rng_seed(&r, 2);
    for (int64_t i = 0; i < nncw_tensor_numel(x); i++)
        nncw_tensor_f32(x)[i] = nncw_rng_normal(&r);
}

static double pruned_once_s(struct pruned_state *st)
{
    double t0 = now_s();
    pruned_step(st);
    return now_s() - t0;
}

/* the unpruned model's time over the shrunk one's: the two run in alternating pairs and the
 * ratio is the median of the pairs' ratios, so load from other processes falls on both */
static double pruned_speedup(struct nncw_graph *full, struct nncw_graph *small, int reps)
{
    struct pruned_state f, s;
    pruned_exec_new(full, &f);
    pruned_exec_new(small, &s);
    for (int i = 0; i < 2; i++) {
        pruned_step(&f);
        pruned_step(&s);
    }
    int pairs = 3 * reps;
    double *ratio = malloc((size_t)pairs * sizeof *ratio);
    for (int i = 0; i < pairs; i++) {
        /* which model goes first alternates too: a pair's second run may find warmer caches */
        double tf, ts;
        if (i % 2) {
            ts = pruned_once_s(&s);
            tf = pruned_once_s(&f);
        } else {
            tf = pruned_once_s(&f);
            ts = pruned_once_s(&s);
        }
        ratio[i] = tf / ts;
    }
    qsort(ratio, (size_t)pairs, sizeof *ratio, cmp_double);
    double m = ratio[pairs / 2];
    free(ratio);
    nncw_exec_free(f.ex);
    nncw_exec_free(s.ex);
    return m;
}

/* ResNet-20 (3x32x32, batch 32) with 40 % of the filters pruned by geometric median (first and
 * strided convs included, NNCF's rounding to multiples of 8): inference of the shrunk graph
 * against the unpruned model (not the masked one, whose mask products would flatter it), the
 * FLOPs the pruning removes, and which share of that reduction the time saving reaches */
static void bench_resnet20_pruning(int reps, bool want_speedup, bool want_flops)
{
    static const char cfg_json[] =
        "{\"input_info\": {\"sample_size\": [1, 3, 32, 32]}, \"compression\": "
        "{\"algorithm\": \"filter_pruning\", \"pruning_init\": 0.4, \"params\": "
        "{\"pruning_target\": 0.4, \"filter_importance\": \"geometric_median\", "
        "\"prune_first_conv\": true, \"prune_downsample_convs\": true}}}";
    struct nncw_zoo_options zo = nncw_zoo_defaults("resnet20");
    struct nncw_graph *g, *small, *full;
    struct nncw_config *cfg;
    struct nncw_compression *c;
    if (nncw_zoo_build("resnet20", &zo, &g) != NNCW_OK ||
        nncw_config_parse(cfg_json, "bench", &cfg) != NNCW_OK ||
        nncw_compression_create(g, cfg, NULL, &c) != NNCW_OK ||
        nncw_compression_prune_graph(c, &small, NULL) != NNCW_OK ||
        nncw_zoo_build("resnet20", &zo, &full) != NNCW_OK)
        die("resnet20 filter pruning");
    struct nncw_pruning_cost k;
    if (nncw_compression_get_pruning_cost(c, &k) != NNCW_OK)
        die("pruning cost");
    double flops_cut = 1.0 - (double)k.flops_pruned / (double)k.flops_full;
    if (want_flops)
        emit("resnet20_pruning_flops_reduction", flops_cut, "fraction");
    if (want_speedup) {
        double speedup = pruned_speedup(full, small, reps);
        emit("resnet20_pruned_infer_speedup", speedup, "x");
        emit("resnet20_pruned_time_share_of_flops_cut", (1.0 - 1.0 / speedup) / flops_cut,
             "fraction");
    }
    nncw_graph_free(full);
    nncw_graph_free(small);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
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
    /* sgemm_peak_gflops: OpenBLAS (cblas_sgemm), as before nncw had its own kernels;
     * sgemm_nncw_peak_gflops: nncw's AVX-512 sgemm, which the models use where the CPU has it.
     * The convolutions' efficiency is relative to the sgemm they actually run on. */
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_OPENBLAS);
    double peak = sgemm_peak_gflops(reps);
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_AUTO);
    if (want(only, "sgemm_peak_gflops"))
        emit("sgemm_peak_gflops", peak, "GFLOP/s");
    if (nncw_blas_get_backend() == NNCW_BLAS_BACKEND_NNCW_AVX512) {
        peak = sgemm_peak_gflops(reps);
        if (want(only, "sgemm_nncw_peak_gflops"))
            emit("sgemm_nncw_peak_gflops", peak, "GFLOP/s");
    }

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
            /* conv_gemm_efficiency_pct: the convolutions that run as GEMMs, against the peak of
             * the sgemm they run on; conv_gflops and conv_effective_pct: all convolutions,
             * Winograd's counted at the direct convolution's FLOPs (so they may pass 100 %) */
            struct conv_flops ct = conv_totals(&m, 2 + reps);
            emit("conv_gflops", ct.all_flops / ct.all_s / 1e9, "GFLOP/s");
            emit("conv_effective_pct", 100.0 * ct.all_flops / ct.all_s / 1e9 / peak, "%");
            emit("conv_gemm_gflops", ct.gemm_flops / ct.gemm_s / 1e9, "GFLOP/s");
            emit("conv_gemm_efficiency_pct", 100.0 * ct.gemm_flops / ct.gemm_s / 1e9 / peak, "%");
        }
        model_teardown(&m);
    }
    if (want(only, "resnet18_infer_images_per_s")) {
        model_setup(&m, "resnet18", 32, false, false);
        emit("resnet18_infer_images_per_s", 32 / median_s(infer_step, &m, 2, reps), "img/s");
        model_teardown(&m);
    }
    if (want(only, "cnn_qat_step_ratio"))
        bench_cnn_qat(reps * 2);
    /* int8 inference through engine/int8 */
    if (want(only, "resnet18_int8_infer_images_per_s") || want(only, "resnet18_int8_infer_speedup"))
        bench_resnet18_int8(reps, want(only, "resnet18_int8_infer_images_per_s"),
                            want(only, "resnet18_int8_infer_speedup"));
    /* mixed precision: HAWQ's Hessian traces */
    if (want(only, "resnet18_hutchinson_s"))
        bench_resnet18_hutchinson(quick ? 3 : 5);
    /* filter pruning: the shrunk model against the masked one */
    if (want(only, "resnet20_pruned_infer_speedup") || want(only, "resnet20_pruning_flops_reduction"))
        bench_resnet20_pruning(reps, want(only, "resnet20_pruned_infer_speedup"),
                               want(only, "resnet20_pruning_flops_reduction"));
    return 0;
}
