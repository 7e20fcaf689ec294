/* Mixed precision: Hutchinson traces against closed-form Hessians, the bit-FLOPs ratio on a
 * hand-computed graph, HAWQ's curve (non-decreasing bits along the trace order, the metric,
 * the choice, liberal vs strict, pins and picks), manual bitwidth_per_scope and its errors,
 * traces saved and loaded. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compression/compression.h"
#include "compression/quantization/qconfig.h"
#include "compression/precision/hutchinson.h"
#include "config/config.h"
#include "core/alloc.h"
#include "data/data.h"
#include "graph/exec.h"
#include "nncwt.h"

/* ---- a linear model y = W2 (W1 x) with loss 1/2 sum ||y - t||^2 ---- */

struct linear {
    struct nncw_graph *g;
    int w1, w2, n;
    float x[8 * 4], t[8 * 2];
    struct nncw_exec *ex;
};

static int add_weight(struct nncw_graph *g, const char *name, int rows, int cols,
                      const float *v)
{
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 2, (int64_t[]){rows, cols}, v);
    int id;
    nncwt_assert_status(nncw_graph_add_param(g, name, &t, true, &id), NNCW_OK);
    nncw_tensor_fini(&t);
    return id;
}

/* two layers when w2 is given, else one layer with 2 outputs */
static void linear_init(struct linear *m, const float *x, int n, const float *w1, int w1_rows,
                        const float *w2)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    memcpy(m->x, x, (size_t)n * 4 * sizeof(float));
    nncwt_assert_status(nncw_graph_new(&m->g), NNCW_OK);
    int in, h, y;
    nncwt_assert_status(nncw_graph_add_input(m->g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 4}, &in),
                        NNCW_OK);
    m->w1 = add_weight(m->g, "w1", w1_rows, 4, w1);
    struct nncw_node *node;
    nncwt_assert_status(
        nncw_graph_add_node(m->g, NNCW_OP_GEMM, "L/fc1", 2, (int[]){in, m->w1}, 1, &h, &node),
        NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_int(node, "transB", 1), NNCW_OK);
    y = h;
    m->w2 = -1;
    if (w2) {
        m->w2 = add_weight(m->g, "w2", 2, w1_rows, w2);
        nncwt_assert_status(
            nncw_graph_add_node(m->g, NNCW_OP_GEMM, "L/fc2", 2, (int[]){h, m->w2}, 1, &y, &node),
            NNCW_OK);
        nncwt_assert_status(nncw_node_set_attr_int(node, "transB", 1), NNCW_OK);
    }
    nncwt_assert_status(nncw_graph_add_output(m->g, y), NNCW_OK);
    struct nncw_exec_options eo = {.batch = n, .backward = true};
    nncwt_assert_status(nncw_exec_new(m->g, &eo, &m->ex), NNCW_OK);
    for (int i = 0; i < n * 2; i++)
        m->t[i] = 0.25f * (float)(i % 5) - 0.5f;
}

static void linear_fini(struct linear *m)
{
    nncw_exec_free(m->ex);
    nncw_graph_free(m->g);
}

static enum nncw_status linear_grad(void *user)
{
    struct linear *m = user;
    memcpy(nncw_exec_get_input(m->ex, 0)->data, m->x, (size_t)m->n * 4 * sizeof(float));
    NNCW_TRY(nncw_exec_forward(m->ex));
    const struct nncw_tensor *y = nncw_exec_get_output(m->ex, 0);
    struct nncw_tensor dy;
    NNCW_TRY(nncw_tensor_init(&dy, NNCW_DTYPE_F32, y->ndim, y->shape));
    for (int64_t i = 0; i < nncw_tensor_numel(y); i++)
        nncw_tensor_f32(&dy)[i] = nncw_tensor_f32(y)[i] - m->t[i];
    nncw_graph_zero_grads(m->g);
    enum nncw_status s = nncw_exec_backward(m->ex, (const struct nncw_tensor *[]){&dy});
    nncw_tensor_fini(&dy);
    return s;
}

static const float x_orthogonal[4 * 4] = {2, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0.5f};

START_TEST(test_one_layer_trace_is_exact_when_the_hessian_is_diagonal)
{
    /* H = (X^T X) (x) I_2 is diagonal here, so every Rademacher sample gives tr(H) exactly:
     * tr = 2 * sum ||x_n||^2 = 2 * (4 + 1 + 9 + 0.25), over 8 parameters */
    float w1[8] = {0.3f, -0.2f, 0.1f, 0.5f, -0.4f, 0.2f, 0.6f, -0.1f};
    struct linear m;
    linear_init(&m, x_orthogonal, 4, w1, 2, NULL);
    struct nncw_hutchinson_options o = {.iter_number = 3, .seed = 7};
    double trace;
    int iters;
    nncwt_assert_status(nncw_hutchinson_traces(m.g, 1, &m.w1, linear_grad, &m, &o, &trace, &iters),
                        NNCW_OK);
    ck_assert_int_eq(iters, 3);
    double want = 2 * (4 + 1 + 9 + 0.25) / 8;
    ck_assert_msg(fabs(trace - want) < 1e-4 * want, "trace %.8g, closed form %.8g", trace, want);
    /* the weights are back as they were */
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(nncw_tensor_f32(nncw_graph_get_value_tensor(m.g, m.w1))[i], w1[i]);
    linear_fini(&m);
}
END_TEST

START_TEST(test_two_layer_traces_match_the_closed_form_blocks)
{
    /* L = 1/2 ||X W1^T W2^T - T||^2: H_11 = (X^T X) (x) (W2^T W2), tr = sum||x||^2 ||W2||_F^2;
     * H_22 = (H^T H) (x) I_2 with H = X W1^T, tr = 2 ||X W1^T||_F^2. Cross blocks average out. */
    const float x[8 * 4] = {1, 0.5f, -1, 2, 0, 1, 1, -0.5f, 2, -1, 0, 1, -1, 1, 0.5f, 0,
                            0.5f, 0, 2, 1, 1, 1, -1, -1, 0, -2, 1, 0.5f, 1.5f, 0.5f, 0, -1};
    const float w1[3 * 4] = {0.3f, -0.2f, 0.1f, 0.5f, -0.4f, 0.2f, 0.6f, -0.1f, 0.2f, 0.2f, -0.3f, 0.1f};
    const float w2[2 * 3] = {0.7f, -0.5f, 0.2f, 0.1f, 0.4f, -0.6f};
    struct linear m;
    linear_init(&m, x, 8, w1, 3, w2);
    double sx = 0, sw2 = 0, sh = 0;
    for (int i = 0; i < 32; i++)
        sx += (double)x[i] * x[i];
    for (int i = 0; i < 6; i++)
        sw2 += (double)w2[i] * w2[i];
    for (int n = 0; n < 8; n++)
        for (int r = 0; r < 3; r++) {
            double h = 0;
            for (int k = 0; k < 4; k++)
                h += (double)x[n * 4 + k] * w1[r * 4 + k];
            sh += h * h;
        }
    double want[2] = {sx * sw2 / 12, 2 * sh / 6};
    struct nncw_hutchinson_options o = {.iter_number = 4000, .seed = 3};
    double tr[2];
    int iters;
    nncwt_assert_status(
        nncw_hutchinson_traces(m.g, 2, (int[]){m.w1, m.w2}, linear_grad, &m, &o, tr, &iters),
        NNCW_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(fabs(tr[i] - want[i]) < 0.05 * want[i], "layer %d: trace %.6g, closed form %.6g",
                      i, tr[i], want[i]);
    linear_fini(&m);
}
END_TEST

static bool cancel_at_three(void *user, int it, int total, double mean)
{
    (void)total;
    (void)mean;
    *(int *)user = it;
    return it < 3;
}

START_TEST(test_tolerance_progress_and_cancel)
{
    float w1[8] = {0.3f, -0.2f, 0.1f, 0.5f, -0.4f, 0.2f, 0.6f, -0.1f};
    struct linear m;
    linear_init(&m, x_orthogonal, 4, w1, 2, NULL);
    double tr;
    int iters, seen = 0;
    /* exact samples: the mean stops moving at the second iteration */
    struct nncw_hutchinson_options o = {.iter_number = 50, .tolerance = 1e-3f, .seed = 1};
    nncwt_assert_status(nncw_hutchinson_traces(m.g, 1, &m.w1, linear_grad, &m, &o, &tr, &iters),
                        NNCW_OK);
    ck_assert_int_eq(iters, 2);
    o.tolerance = 0;
    o.progress = cancel_at_three;
    o.user = &seen;
    nncwt_assert_status(nncw_hutchinson_traces(m.g, 1, &m.w1, linear_grad, &m, &o, &tr, &iters),
                        NNCW_ERR_CANCELLED);
    ck_assert_int_eq(seen, 3);
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(nncw_tensor_f32(nncw_graph_get_value_tensor(m.g, m.w1))[i], w1[i]);
    o = (struct nncw_hutchinson_options){.iter_number = 0};
    nncwt_assert_status(nncw_hutchinson_traces(m.g, 1, &m.w1, linear_grad, &m, &o, &tr, &iters),
                        NNCW_ERR_INVALID_ARG);
    linear_fini(&m);
}
END_TEST

/* ---- a two-branch conv net: x -> convA, convB -> add -> flatten -> fc ---- */

static void add_conv(struct nncw_graph *g, const char *scope, const char *wname, int in, int *out,
                     float scale)
{
    float w[2 * 9];
    for (int i = 0; i < 18; i++)
        w[i] = scale * (float)((i * 7) % 11 - 5) / 5.0f;
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 4, (int64_t[]){2, 1, 3, 3}, w);
    int wid;
    nncwt_assert_status(nncw_graph_add_param(g, wname, &t, true, &wid), NNCW_OK);
    nncw_tensor_fini(&t);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_CONV, scope, 2, (int[]){in, wid}, 1, out, &n),
                        NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3}), NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1}), NNCW_OK);
}

/* convA, convB: 2x1x3x3 on 4x4 (288 MACs each); fc: 3x32 (96 MACs) */
static struct nncw_graph *branches(void)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, a, b, s, f, y;
    nncwt_assert_status(
        nncw_graph_add_input(g, "input", NNCW_DTYPE_F32, 4, (int64_t[]){-1, 1, 4, 4}, &x), NNCW_OK);
    add_conv(g, "Net/convA", "convA.weight", x, &a, 0.5f);
    add_conv(g, "Net/convB", "convB.weight", x, &b, 0.25f);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_ADD, "Net/add", 2, (int[]){a, b}, 1, &s, &n),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_FLATTEN, "Net/flatten", 1, &s, 1, &f, &n),
                        NNCW_OK);
    float w[3 * 32];
    for (int i = 0; i < 96; i++)
        w[i] = (float)((i * 5) % 13 - 6) / 20.0f;
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 2, (int64_t[]){3, 32}, w);
    int wid;
    nncwt_assert_status(nncw_graph_add_param(g, "fc.weight", &t, true, &wid), NNCW_OK);
    nncw_tensor_fini(&t);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_GEMM, "Net/fc", 2, (int[]){f, wid}, 1, &y, &n),
                        NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_int(n, "transB", 1), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    nncwt_assert_status(nncw_graph_infer_shapes(g, 1), NNCW_OK);
    return g;
}

static struct nncw_dataset *tiny_data(void)
{
    struct nncw_synthetic_opts so = {.count = 64, .channels = 1, .height = 4, .width = 4,
                                     .num_classes = 3, .seed = 3, .sample_seed = 1};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    return ds;
}

static enum nncw_status try_compress(struct nncw_graph *g, const char *device,
                                     const char *precision, const struct nncw_dataset *ds,
                                     struct nncw_config **cfg, struct nncw_compression **c)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"input_info\": {\"sample_size\": [1, 1, 4, 4]}, \"target_device\": \"%s\", "
             "\"compression\": {\"algorithm\": \"quantization\", \"initializer\": {\"range\": "
             "{\"num_init_samples\": 16}, \"batchnorm_adaptation\": "
             "{\"num_bn_adaptation_samples\": 0}, \"precision\": %s}}}",
             device, precision);
    nncwt_assert_status(nncw_config_parse(json, "mp.json", cfg), NNCW_OK);
    struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 1};
    return nncw_compression_create(g, *cfg, &init, c);
}

static int bits_of(const struct nncw_compression *c, const char *id)
{
    for (int i = 0; i < nncw_compression_count_quantizers(c); i++) {
        struct nncw_quantizer_info q;
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &q), NNCW_OK);
        if (!strcmp(q.id, id))
            return q.bits;
    }
    ck_abort_msg("no quantizer '%s'", id);
    return 0;
}

START_TEST(test_manual_bits_and_the_hand_computed_bitops_ratio)
{
    struct nncw_graph *g = branches();
    struct nncw_dataset *ds = tiny_data();
    struct nncw_config *cfg;
    struct nncw_compression *c;
    nncwt_assert_status(
        try_compress(g, "TRIAL",
                     "{\"type\": \"manual\", \"bitwidth_per_scope\": [[4, \"Net/convA|WEIGHT\"], "
                     "[4, \"Net/convB|WEIGHT\"], [4, \"input|OUTPUT\"], [2, \"Net/fc|WEIGHT\"]]}",
                     ds, &cfg, &c),
        NNCW_OK);
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), 4);
    ck_assert_int_eq(bits_of(c, "input|OUTPUT"), 4);
    ck_assert_int_eq(bits_of(c, "Net/fc|WEIGHT"), 2);
    /* the 4-bit weight quantizer really quantizes on 16 levels */
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, "Net/convA|WEIGHT", &n), NNCW_OK);
    ck_assert_int_eq(nncw_node_get_attr_int(n, "level_low", 0), -8);
    ck_assert_int_eq(nncw_node_get_attr_int(n, "level_high", 0), 7);
    /* INT8: (288 + 288 + 96) x 8; here convs max(4, 4), fc max(2, 8 of its input) */
    double ratio;
    nncwt_assert_status(nncw_compression_bitops_ratio(c, &ratio), NNCW_OK);
    double want = (672.0 * 8) / (288 * 4 + 288 * 4 + 96 * 8);
    ck_assert_msg(fabs(ratio - want) < 1e-12, "ratio %.10g, want %.10g", ratio, want);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

static void expect_error(const char *device, const char *precision, enum nncw_status code,
                         const char *const *needles)
{
    struct nncw_graph *g = branches();
    struct nncw_dataset *ds = tiny_data();
    struct nncw_config *cfg = NULL;
    struct nncw_compression *c = NULL;
    int nodes = nncw_graph_count_nodes(g);
    char json[4096];
    snprintf(json, sizeof json,
             "{\"input_info\": {\"sample_size\": [1, 1, 4, 4]}, \"target_device\": \"%s\", "
             "\"compression\": {\"algorithm\": \"quantization\", \"initializer\": {\"precision\": "
             "%s}}}",
             device, precision);
    enum nncw_status s = nncw_config_parse(json, "mp.json", &cfg);
    if (s == NNCW_OK) {
        struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 1};
        s = nncw_compression_create(g, cfg, &init, &c);
    }
    ck_assert_msg(s == code, "status %s, want %s: %s", nncw_status_str(s), nncw_status_str(code),
                  nncw_last_error());
    for (int i = 0; needles[i]; i++)
        ck_assert_msg(strstr(nncw_last_error(), needles[i]), "'%s' not in: %s", needles[i],
                      nncw_last_error());
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}

START_TEST(test_bad_precision_configs_name_the_path)
{
    /* bits out of range (config parse) */
    expect_error("TRIAL", "{\"type\": \"manual\", \"bitwidth_per_scope\": [[9, \"Net/fc|WEIGHT\"]]}",
                 NNCW_ERR_PARSE,
                 (const char *[]){"compression.initializer.precision.bitwidth_per_scope[0][0]",
                                  NULL});
    /* an unknown quantizer, with the closest ids */
    expect_error("TRIAL",
                 "{\"type\": \"manual\", \"bitwidth_per_scope\": [[8, \"Net/fc|WEIGHT\"], "
                 "[4, \"Net/cnvA|WEIGHT\"]]}",
                 NNCW_ERR_NOT_FOUND,
                 (const char *[]){"bitwidth_per_scope[1][1]", "'Net/cnvA|WEIGHT'",
                                  "closest: 'Net/convA|WEIGHT'", NULL});
    /* the CPU allows 8-bit weights only */
    expect_error("CPU", "{\"type\": \"manual\", \"bitwidth_per_scope\": [[4, \"Net/convA|WEIGHT\"]]}",
                 NNCW_ERR_PARSE,
                 (const char *[]){"bitwidth_per_scope[0][0]", "'Net/convA|WEIGHT'", "4 bits",
                                  "CPU", "allowed: 8", NULL});
    /* HAWQ: a ratio beyond what bits [4, 8] can give (at most 2) */
    expect_error("TRIAL", "{\"type\": \"hawq\", \"bits\": [4, 8], \"compression_ratio\": 2.5, "
                          "\"iter_number\": 2, \"num_data_points\": 16}",
                 NNCW_ERR_PARSE,
                 (const char *[]){"initializer.precision.compression_ratio", "2.5", NULL});
}
END_TEST

/* traces convA 1, fc 50, convB 100 written to a file the config names */
static const char *write_traces(char *path, size_t size, double a, double fc, double b)
{
    snprintf(path, size, "/tmp/nncw_test_hawq_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"traces\": {\"Net/convA|WEIGHT\": %g, \"Net/fc|WEIGHT\": %g, "
            "\"Net/convB|WEIGHT\": %g}, \"iterations\": 1}\n",
            a, fc, b);
    fclose(f);
    return path;
}

static struct nncw_compression *hawq_from_traces(struct nncw_graph *g, const char *mode,
                                                 double ratio, struct nncw_config **cfg)
{
    char path[256], prec[1024];
    write_traces(path, sizeof path, 1, 50, 100);
    snprintf(prec, sizeof prec,
             "{\"type\": \"hawq\", \"bits\": [8, 4], \"compression_ratio\": %g, "
             "\"traces_per_layer_path\": \"%s\", \"bitwidth_assignment_mode\": \"%s\"}",
             ratio, path, mode);
    struct nncw_compression *c;
    nncwt_assert_status(try_compress(g, "TRIAL", prec, NULL, cfg, &c), NNCW_OK);
    remove(path);
    return c;
}

/* the per-tensor symmetric squared error of 8- or 4-bit quantization, written independently */
static double sq_error(const struct nncw_tensor *w, int bits)
{
    const float *x = nncw_tensor_f32(w);
    double m = 0, e = 0;
    for (int64_t i = 0; i < nncw_tensor_numel(w); i++)
        m = fmax(m, fabs(x[i]));
    double step = m / ((1 << (bits - 1)) - 1);
    for (int64_t i = 0; i < nncw_tensor_numel(w); i++) {
        double q = round(x[i] / step);
        q = fmin(fmax(q, -(1 << (bits - 1))), (1 << (bits - 1)) - 1);
        e += (q * step - x[i]) * (q * step - x[i]);
    }
    return e;
}

static const struct nncw_tensor *param(struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int v = nncw_graph_get_param(g, i);
        if (!strcmp(nncw_graph_get_value_name(g, v), name))
            return nncw_graph_get_value_tensor(g, v);
    }
    ck_abort_msg("no parameter %s", name);
    return NULL;
}

START_TEST(test_hawq_curve_is_non_decreasing_along_the_traces_and_picks_the_least_metric)
{
    struct nncw_graph *g = branches();
    struct nncw_config *cfg;
    struct nncw_compression *c = hawq_from_traces(g, "liberal", 1.2, &cfg);
    int nl, np, chosen;
    nncwt_assert_status(nncw_compression_hawq_summary(c, &nl, &np, &chosen, NULL), NNCW_OK);
    ck_assert_int_eq(nl, 3); /* setup order: convA, convB, fc */
    /* order by trace: convA (1) < fc (50) < convB (100): 444, 448, 488, 888 */
    ck_assert_int_eq(np, 4);
    double e8[3], e4[3], tr[3] = {1, 100, 50};
    const char *names[3] = {"convA.weight", "convB.weight", "fc.weight"};
    for (int i = 0; i < 3; i++) {
        e8[i] = sq_error(param(g, names[i]), 8);
        e4[i] = sq_error(param(g, names[i]), 4);
    }
    double best = INFINITY;
    for (int k = 0; k < np; k++) {
        struct nncw_hawq_point p;
        int bits[3];
        nncwt_assert_status(nncw_compression_hawq_get_point(c, k, &p, bits), NNCW_OK);
        ck_assert(bits[0] <= bits[2] && bits[2] <= bits[1]); /* convA <= fc <= convB */
        double metric = 0;
        for (int i = 0; i < 3; i++)
            metric += tr[i] * (bits[i] == 8 ? e8[i] : e4[i]);
        ck_assert_msg(fabs(p.metric - metric) <= 1e-6 * metric, "metric %g, want %g", p.metric,
                      metric);
        if (p.meets_ratio && p.metric < best)
            best = p.metric;
    }
    struct nncw_hawq_point cp;
    int cb[3];
    nncwt_assert_status(nncw_compression_hawq_get_point(c, chosen, &cp, cb), NNCW_OK);
    ck_assert(cp.meets_ratio && cp.ratio >= 1.2);
    ck_assert_double_eq(cp.metric, best);
    /* the model carries the chosen bits */
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), cb[0]);
    ck_assert_int_eq(bits_of(c, "Net/convB|WEIGHT"), cb[1]);
    ck_assert_int_eq(bits_of(c, "Net/fc|WEIGHT"), cb[2]);
    struct nncw_hawq_layer l;
    nncwt_assert_status(nncw_compression_hawq_get_layer(c, 1, &l), NNCW_OK);
    ck_assert_str_eq(l.id, "Net/convB|WEIGHT");
    ck_assert_double_eq(l.trace, 100);
    ck_assert_int_eq(l.numel, 18);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_liberal_mixes_branches_strict_does_not)
{
    struct nncw_graph *g = branches();
    struct nncw_config *cfg;
    struct nncw_compression *c = hawq_from_traces(g, "liberal", 1.0, &cfg);
    /* 448 (convA 4, fc 4, convB 8): the input both convs read takes the larger, 8 */
    int np;
    nncwt_assert_status(nncw_compression_hawq_summary(c, NULL, &np, NULL, NULL), NNCW_OK);
    int k448 = -1;
    for (int k = 0; k < np; k++) {
        struct nncw_hawq_point p;
        int b[3];
        nncwt_assert_status(nncw_compression_hawq_get_point(c, k, &p, b), NNCW_OK);
        if (b[0] == 4 && b[1] == 8 && b[2] == 4)
            k448 = k;
    }
    ck_assert_int_ge(k448, 0);
    nncwt_assert_status(nncw_compression_hawq_choose(c, k448), NNCW_OK);
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), 4);
    ck_assert_int_eq(bits_of(c, "Net/convB|WEIGHT"), 8);
    ck_assert_int_eq(bits_of(c, "input|OUTPUT"), 8);
    /* ratio: convA max(4, 8), convB 8, fc 4 with a 4-bit input */
    double ratio;
    nncwt_assert_status(nncw_compression_bitops_ratio(c, &ratio), NNCW_OK);
    ck_assert_msg(fabs(ratio - 672.0 * 8 / (288 * 8 + 288 * 8 + 96 * 4)) < 1e-12, "ratio %g",
                  ratio);
    nncw_compression_free(c);
    nncw_config_free(cfg);

    /* strict: convA and convB share their input quantizer, so they must agree: 444 and 888 */
    nncw_graph_free(g);
    g = branches();
    c = hawq_from_traces(g, "strict", 1.0, &cfg);
    nncwt_assert_status(nncw_compression_hawq_summary(c, NULL, &np, NULL, NULL), NNCW_OK);
    ck_assert_int_eq(np, 2);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_pin_and_pick_resolve_and_rebuild)
{
    struct nncw_graph *g = branches();
    struct nncw_config *cfg;
    struct nncw_compression *c = hawq_from_traces(g, "liberal", 1.2, &cfg);
    /* fc pinned to 4: convA <= convB remain, 44, 48, 88; liberal gives the shared input the
     * larger bits, so only 44 (ratio 2) meets 1.2 */
    nncwt_assert_status(nncw_compression_hawq_pin(c, "Net/fc|WEIGHT", 4), NNCW_OK);
    ck_assert_int_eq(bits_of(c, "Net/fc|WEIGHT"), 4);
    ck_assert_int_eq(bits_of(c, "Net/convB|WEIGHT"), 4);
    struct nncw_hawq_layer l;
    nncwt_assert_status(nncw_compression_hawq_get_layer(c, 2, &l), NNCW_OK);
    ck_assert_int_eq(l.pinned_bits, 4);
    int np;
    nncwt_assert_status(nncw_compression_hawq_summary(c, NULL, &np, NULL, NULL), NNCW_OK);
    ck_assert_int_eq(np, 3);
    double ratio;
    nncwt_assert_status(nncw_compression_bitops_ratio(c, &ratio), NNCW_OK);
    ck_assert_double_eq_tol(ratio, 2.0, 1e-12);
    /* a pin that makes the ratio impossible is refused and changes nothing */
    nncwt_assert_status(nncw_compression_hawq_pin(c, "Net/convB|WEIGHT", 8), NNCW_ERR_PARSE);
    ck_assert_int_eq(bits_of(c, "Net/convB|WEIGHT"), 4);
    nncwt_assert_status(nncw_compression_hawq_get_layer(c, 1, &l), NNCW_OK);
    ck_assert_int_eq(l.pinned_bits, 0);
    nncwt_assert_status(nncw_compression_hawq_pin(c, "Net/convB|WEIGHT", 3), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_compression_hawq_pin(c, "Net/nope|WEIGHT", 8), NNCW_ERR_NOT_FOUND);
    /* any point can be picked, even one below the ratio */
    for (int k = 0; k < np; k++) {
        struct nncw_hawq_point p;
        int b[3];
        nncwt_assert_status(nncw_compression_hawq_choose(c, k), NNCW_OK);
        nncwt_assert_status(nncw_compression_hawq_get_point(c, k, &p, b), NNCW_OK);
        ck_assert_int_eq(bits_of(c, "Net/fc|WEIGHT"), b[2]);
        nncwt_assert_status(nncw_compression_bitops_ratio(c, &ratio), NNCW_OK);
        ck_assert_double_eq_tol(ratio, p.ratio, 1e-12);
    }
    nncwt_assert_status(nncw_compression_hawq_choose(c, np), NNCW_ERR_INVALID_ARG);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_hawq_on_data_measures_traces_that_save_and_load)
{
    struct nncw_graph *g = branches();
    struct nncw_dataset *ds = tiny_data();
    struct nncw_config *cfg;
    struct nncw_compression *c;
    nncwt_assert_status(try_compress(g, "TRIAL",
                                     "{\"type\": \"hawq\", \"bits\": [4, 8], \"iter_number\": 20, "
                                     "\"num_data_points\": 32, \"compression_ratio\": 1.3}",
                                     ds, &cfg, &c),
                        NNCW_OK);
    int nl, iters;
    nncwt_assert_status(nncw_compression_hawq_summary(c, &nl, NULL, NULL, &iters), NNCW_OK);
    ck_assert_int_ge(iters, 2);
    ck_assert_int_le(iters, 20);
    double tr[3];
    int bits[3];
    for (int i = 0; i < nl; i++) {
        struct nncw_hawq_layer l;
        nncwt_assert_status(nncw_compression_hawq_get_layer(c, i, &l), NNCW_OK);
        tr[i] = l.trace;
        bits[i] = l.bits;
        ck_assert_msg(isfinite(l.trace) && l.trace != 0, "trace %g", l.trace);
    }
    char path[256];
    snprintf(path, sizeof path, "/tmp/nncw_test_hawq_saved_%d.json", (int)getpid());
    nncwt_assert_status(nncw_compression_hawq_save_traces(c, path), NNCW_OK);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);

    g = branches();
    char prec[1024];
    snprintf(prec, sizeof prec,
             "{\"type\": \"hawq\", \"bits\": [4, 8], \"compression_ratio\": 1.3, "
             "\"traces_per_layer_path\": \"%s\"}",
             path);
    nncwt_assert_status(try_compress(g, "TRIAL", prec, NULL, &cfg, &c), NNCW_OK);
    for (int i = 0; i < nl; i++) {
        struct nncw_hawq_layer l;
        nncwt_assert_status(nncw_compression_hawq_get_layer(c, i, &l), NNCW_OK);
        ck_assert_double_eq_tol(l.trace, tr[i], 1e-12 * fabs(tr[i]));
        ck_assert_int_eq(l.bits, bits[i]);
    }
    nncw_compression_free(c);
    nncw_config_free(cfg);
    remove(path);
    /* a file that lacks a layer, or is not JSON */
    FILE *f = fopen(path, "w");
    fputs("{\"traces\": {\"Net/convA|WEIGHT\": 1}}", f);
    fclose(f);
    expect_error("TRIAL", prec, NNCW_ERR_NOT_FOUND, (const char *[]){"Net/convB|WEIGHT", NULL});
    f = fopen(path, "w");
    fputs("{\"traces\": [1, 2", f);
    fclose(f);
    expect_error("TRIAL", prec, NNCW_ERR_PARSE, (const char *[]){"not valid JSON", NULL});
    remove(path);
    nncw_graph_free(g);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_hawq_choice_survives_a_checkpoint_state)
{
    struct nncw_graph *g = branches();
    struct nncw_dataset *ds = tiny_data();
    const char *prec = "{\"type\": \"hawq\", \"bits\": [4, 8], \"iter_number\": 8, "
                       "\"num_data_points\": 32, \"compression_ratio\": 1.2}";
    struct nncw_config *cfg, *cfg2;
    struct nncw_compression *c, *c2;
    nncwt_assert_status(try_compress(g, "TRIAL", prec, ds, &cfg, &c), NNCW_OK);
    nncwt_assert_status(nncw_compression_hawq_pin(c, "Net/fc|WEIGHT", 4), NNCW_OK);
    char *state;
    nncwt_assert_status(nncw_compression_get_state(c, &state), NNCW_OK);
    /* a restore builds without data: the traces come from the state */
    struct nncw_graph *g2 = branches();
    nncwt_assert_status(try_compress(g2, "TRIAL", prec, NULL, &cfg2, &c2), NNCW_OK);
    nncwt_assert_status(nncw_compression_hawq_summary(c2, NULL, NULL, NULL, NULL),
                        NNCW_ERR_NOT_FOUND);
    nncwt_assert_status(nncw_compression_set_state(c2, state), NNCW_OK);
    const char *ids[] = {"Net/convA|WEIGHT", "Net/convB|WEIGHT", "Net/fc|WEIGHT", "input|OUTPUT",
                         "Net/add|OUTPUT"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(bits_of(c2, ids[i]), bits_of(c, ids[i]));
    struct nncw_hawq_layer l;
    nncwt_assert_status(nncw_compression_hawq_get_layer(c2, 2, &l), NNCW_OK);
    ck_assert_int_eq(l.pinned_bits, 4);
    nncw_free(state);
    nncw_compression_free(c2);
    nncw_compression_free(c);
    nncw_config_free(cfg2);
    nncw_config_free(cfg);
    nncw_graph_free(g2);
    nncw_graph_free(g);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_no_hawq_result_without_hawq)
{
    struct nncw_graph *g = branches();
    struct nncw_config *cfg;
    struct nncw_compression *c;
    nncwt_assert_status(
        try_compress(g, "TRIAL",
                     "{\"type\": \"manual\", \"bitwidth_per_scope\": [[4, \"Net/fc|WEIGHT\"]]}",
                     NULL, &cfg, &c),
        NNCW_OK);
    nncwt_assert_status(nncw_compression_hawq_summary(c, NULL, NULL, NULL, NULL),
                        NNCW_ERR_NOT_FOUND);
    nncwt_assert_status(nncw_compression_hawq_choose(c, 0), NNCW_ERR_NOT_FOUND);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

/* ---- per-quantizer edits on TRIAL: any configuration asked for ---- */

static struct nncw_compression *plain(struct nncw_graph *g, const char *device,
                                      const struct nncw_dataset *ds, struct nncw_config **cfg)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"input_info\": {\"sample_size\": [1, 1, 4, 4]}, \"target_device\": \"%s\", "
             "\"compression\": {\"algorithm\": \"quantization\", \"initializer\": {\"range\": "
             "{\"num_init_samples\": 16}, \"batchnorm_adaptation\": "
             "{\"num_bn_adaptation_samples\": 0}}}}",
             device);
    nncwt_assert_status(nncw_config_parse(json, "edit.json", cfg), NNCW_OK);
    struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 1};
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, *cfg, &init, &c), NNCW_OK);
    return c;
}

static void levels_of(struct nncw_graph *g, const char *id, int64_t lo, int64_t hi)
{
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, id, &n), NNCW_OK);
    ck_assert_int_eq(nncw_node_get_attr_int(n, "level_low", 0), lo);
    ck_assert_int_eq(nncw_node_get_attr_int(n, "level_high", 0), hi);
}

START_TEST(test_trial_edits_take_any_bit_width_from_2_to_8)
{
    struct nncw_graph *g = branches();
    struct nncw_dataset *ds = tiny_data();
    struct nncw_config *cfg;
    struct nncw_compression *c = plain(g, "TRIAL", ds, &cfg);
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), 8);
    struct nncw_quantizer_change ch = {.bits = 4, .mode = -1, .per_channel = -1};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "Net/convA|WEIGHT", &ch), NNCW_OK);
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), 4);
    levels_of(g, "Net/convA|WEIGHT", -8, 7);
    ch.bits = 3; /* in no list, but TRIAL takes it */
    nncwt_assert_status(nncw_compression_set_quantizers(c, "{re}Net/conv.*WEIGHT", &ch), NNCW_OK);
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), 3);
    ck_assert_int_eq(bits_of(c, "Net/convB|WEIGHT"), 3);
    levels_of(g, "Net/convB|WEIGHT", -4, 3);
    ch.bits = 2; /* an activation too */
    nncwt_assert_status(nncw_compression_set_quantizers(c, "input|OUTPUT", &ch), NNCW_OK);
    ck_assert_int_eq(bits_of(c, "input|OUTPUT"), 2);
    /* the mode and per-channel weights as asked */
    struct nncw_quantizer_change mode = {.bits = 0, .mode = NNCW_QMODE_ASYMMETRIC, .per_channel = 1};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "Net/fc|WEIGHT", &mode), NNCW_OK);
    struct nncw_quantizer_info qi;
    for (int i = 0; i < nncw_compression_count_quantizers(c); i++) {
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &qi), NNCW_OK);
        if (!strcmp(qi.id, "Net/fc|WEIGHT"))
            break;
    }
    ck_assert_str_eq(qi.id, "Net/fc|WEIGHT");
    ck_assert(qi.asymmetric && qi.per_channel);
    ck_assert_int_eq(qi.bits, 8);
    /* out of 2..8, or a per-channel activation: refused, naming the quantizer; nothing changes */
    int nodes = nncw_graph_count_nodes(g);
    ch.bits = 9;
    nncwt_assert_status(nncw_compression_set_quantizers(c, "Net/convA|WEIGHT", &ch),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/convA|WEIGHT"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "TRIAL"));
    ch.bits = 1;
    nncwt_assert_status(nncw_compression_set_quantizers(c, "Net/convA|WEIGHT", &ch),
                        NNCW_ERR_INVALID_ARG);
    struct nncw_quantizer_change pc = {.bits = 0, .mode = -1, .per_channel = 1};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "input|OUTPUT", &pc),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "input|OUTPUT"));
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), 3);
    ck_assert_int_eq(bits_of(c, "input|OUTPUT"), 2);
    ck_assert_int_eq(nncw_graph_count_nodes(g), nodes);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    /* a device with a hardware config still decides from its list: CPU weights are 8-bit */
    nncw_graph_free(g);
    g = branches();
    c = plain(g, "CPU", ds, &cfg);
    ch.bits = 4;
    nncwt_assert_status(nncw_compression_set_quantizers(c, "Net/convA|WEIGHT", &ch),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "does not allow"));
    ck_assert_int_eq(bits_of(c, "Net/convA|WEIGHT"), 8);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

static Suite *hawq_suite(void)
{
    Suite *s = suite_create("hawq");
    TCase *t = tcase_create("hutchinson");
    tcase_add_test(t, test_one_layer_trace_is_exact_when_the_hessian_is_diagonal);
    tcase_add_test(t, test_two_layer_traces_match_the_closed_form_blocks);
    tcase_add_test(t, test_tolerance_progress_and_cancel);
    suite_add_tcase(s, t);
    t = tcase_create("manual");
    tcase_add_test(t, test_manual_bits_and_the_hand_computed_bitops_ratio);
    tcase_add_test(t, test_bad_precision_configs_name_the_path);
    tcase_add_test(t, test_no_hawq_result_without_hawq);
    tcase_add_test(t, test_trial_edits_take_any_bit_width_from_2_to_8);
    suite_add_tcase(s, t);
    t = tcase_create("hawq");
    tcase_add_test(t, test_hawq_curve_is_non_decreasing_along_the_traces_and_picks_the_least_metric);
    tcase_add_test(t, test_liberal_mixes_branches_strict_does_not);
    tcase_add_test(t, test_pin_and_pick_resolve_and_rebuild);
    tcase_add_test(t, test_hawq_on_data_measures_traces_that_save_and_load);
    tcase_add_test(t, test_hawq_choice_survives_a_checkpoint_state);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return nncwt_run(hawq_suite());
}
