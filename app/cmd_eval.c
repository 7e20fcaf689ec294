/* `nncw eval`: run an ONNX model on ONNX TensorProto files (the format of the ONNX test data) and
 * write its outputs the same way. */
#include "commands.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "eval_ckpt.h"
#include "core/alloc.h"
#include "core/log.h"
#include "graph/exec.h"
#include "onnx/onnx.h"
#include "ops/blas.h"

#define MAX_INPUTS 32

static const char usage[] =
    "usage: nncw eval MODEL.onnx --input FILE.pb [--input FILE.pb ...] (--output FILE.pb |\n"
    "                 --output-dir DIR | --compare FILE.pb) [options]\n"
    "\n"
    "Run an ONNX model on inputs stored as ONNX TensorProto files (input_0.pb, ... as in the\n"
    "ONNX test data), in the order of the model's graph inputs, and write outputs the same way.\n"
    "\n"
    "  --input FILE         the next graph input (repeat for each)\n"
    "  --output FILE        write the first output to FILE\n"
    "  --output-dir DIR     write every output as DIR/output_N.pb\n"
    "  --compare FILE.pb    compare the first output with FILE.pb: print the largest absolute\n"
    "                       and relative error, exit 1 if the relative error (to the largest\n"
    "                       expected magnitude) is above --tolerance (default 1e-4)\n"
    "  --tolerance X        see --compare\n"
    "  --freeze-ints        make integer inputs constants at import (needed when they decide\n"
    "                       shapes, such as a Reshape target or Slice bounds)\n"
    "  --repeat N           run N times and print the import time and images/s\n"
    "  --threads N          BLAS threads (default: all cores)\n"
    "\n"
    "nncw eval CHECKPOINT.nncw [--data NAME] [--test-subset N]: restore a (compressed) model\n"
    "from a checkpoint alone and print its statistics and test accuracy (see\n"
    "'nncw eval CHECKPOINT.nncw --help').\n";

struct eval_args {
    const char *model, *output, *output_dir, *compare;
    double tolerance;
    const char *inputs[MAX_INPUTS];
    int n_inputs;
    bool freeze_ints;
    long repeat, threads;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 0 to run, 2 after a usage message, -1 after --help */
static int parse(int argc, char **argv, struct eval_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if (!strcmp(o, "--freeze-ints")) {
            a->freeze_ints = true;
        } else if (!strcmp(o, "--input")) {
            if (!(v = app_option_value("eval", argc, argv, &i)))
                return 2;
            if (a->n_inputs == MAX_INPUTS) {
                fprintf(stderr, "nncw eval: at most %d inputs\n", MAX_INPUTS);
                return 2;
            }
            a->inputs[a->n_inputs++] = v;
        } else if (!strcmp(o, "--output") || !strcmp(o, "--output-dir") ||
                   !strcmp(o, "--compare")) {
            if (!(v = app_option_value("eval", argc, argv, &i)))
                return 2;
            *(!strcmp(o, "--output")    ? &a->output
              : !strcmp(o, "--compare") ? &a->compare
                                        : &a->output_dir) = v;
        } else if (!strcmp(o, "--tolerance")) {
            if (!(v = app_option_value("eval", argc, argv, &i)) ||
                !app_parse_float("eval", o, v, 0, 1e30, &a->tolerance))
                return 2;
        } else if (!strcmp(o, "--repeat") || !strcmp(o, "--threads")) {
            if (!(v = app_option_value("eval", argc, argv, &i)) ||
                !app_parse_int("eval", o, v, 1, 1000000,
                               !strcmp(o, "--repeat") ? &a->repeat : &a->threads))
                return 2;
        } else if (o[0] == '-') {
            fprintf(stderr, "nncw eval: unknown option '%s' (see 'nncw eval --help')\n", o);
            return 2;
        } else if (!a->model) {
            a->model = o;
        } else {
            fprintf(stderr, "nncw eval: unexpected argument '%s'\n", o);
            return 2;
        }
    }
    if (!a->model || a->n_inputs == 0 || (!a->output && !a->output_dir && !a->compare)) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

struct run {
    struct nncw_tensor in[MAX_INPUTS];
    struct nncw_onnx_binding bind[MAX_INPUTS];
    struct nncw_onnx_summary sum;
    struct nncw_graph *g;
    struct nncw_exec *ex;
};

static void run_fini(struct run *r, int n)
{
    nncw_exec_free(r->ex);
    nncw_graph_free(r->g);
    nncw_onnx_summary_fini(&r->sum);
    for (int i = 0; i < n; i++)
        nncw_tensor_fini(&r->in[i]);
}

/* reads the inputs and binds them to the model's inputs in order */
static int load(const struct eval_args *a, struct run *r)
{
    if (nncw_onnx_summarize_file(a->model, &r->sum) != NNCW_OK) {
        fprintf(stderr, "nncw eval: %s\n", nncw_last_error());
        return 1;
    }
    if (a->n_inputs != r->sum.n_inputs) {
        fprintf(stderr, "nncw eval: %s has %d input%s, %d given with --input\n", a->model,
                r->sum.n_inputs, r->sum.n_inputs == 1 ? "" : "s", a->n_inputs);
        return 2;
    }
    for (int i = 0; i < a->n_inputs; i++) {
        if (nncw_onnx_read_tensor_file(a->inputs[i], &r->in[i], NULL, 0) != NNCW_OK) {
            fprintf(stderr, "nncw eval: %s\n", nncw_last_error());
            return 1;
        }
        r->bind[i] = (struct nncw_onnx_binding){r->sum.input_names[i], &r->in[i],
                                                a->freeze_ints && r->in[i].dtype != NNCW_DTYPE_F32};
    }
    return 0;
}

/* the first output against a TensorProto file */
static int compare(const struct eval_args *a, const struct run *r)
{
    struct nncw_tensor want;
    if (nncw_onnx_read_tensor_file(a->compare, &want, NULL, 0) != NNCW_OK) {
        fprintf(stderr, "nncw eval: %s\n", nncw_last_error());
        return 1;
    }
    const struct nncw_tensor *got = nncw_exec_get_output(r->ex, 0);
    char sg[96], sw[96];
    int rc = 0;
    if (got->dtype != NNCW_DTYPE_F32 || want.dtype != NNCW_DTYPE_F32 ||
        !nncw_tensor_same_shape(got, &want)) {
        fprintf(stderr, "nncw eval: output 0 is %s %s, %s holds %s %s\n",
                nncw_dtype_name(got->dtype), nncw_tensor_shape_str(got, sg, sizeof sg), a->compare,
                nncw_dtype_name(want.dtype), nncw_tensor_shape_str(&want, sw, sizeof sw));
        rc = 1;
    } else {
        double err = 0, scale = 0;
        for (int64_t i = 0; i < nncw_tensor_numel(&want); i++) {
            double d = fabs((double)nncw_tensor_f32(got)[i] - nncw_tensor_f32(&want)[i]);
            err = d > err || isnan(d) ? d : err;
            scale = fmax(scale, fabs((double)nncw_tensor_f32(&want)[i]));
        }
        double rel = scale > 0 ? err / scale : err;
        printf("compared with %s: max abs err %.3g, max rel err %.3g\n", a->compare, err, rel);
        if (!(rel <= a->tolerance)) {
            fprintf(stderr, "nncw eval: relative error %.3g is above the tolerance %.3g\n", rel,
                    a->tolerance);
            rc = 1;
        }
    }
    nncw_tensor_fini(&want);
    return rc;
}

static int write_outputs(const struct eval_args *a, const struct run *r)
{
    if (a->compare && compare(a, r) != 0)
        return 1;
    if (!a->output && !a->output_dir)
        return 0;
    int n = a->output_dir ? nncw_graph_count_outputs(r->g) : 1;
    if (a->output_dir)
        mkdir(a->output_dir, 0777); /* an existing folder is fine; a failure shows below */
    for (int i = 0; i < n; i++) {
        char path[4200];
        if (a->output_dir)
            snprintf(path, sizeof path, "%s/output_%d.pb", a->output_dir, i);
        else
            snprintf(path, sizeof path, "%s", a->output);
        int id = nncw_graph_get_output(r->g, i);
        if (nncw_onnx_write_tensor_file(path, nncw_exec_get_output(r->ex, i),
                                        nncw_graph_get_value_name(r->g, id)) != NNCW_OK) {
            fprintf(stderr, "nncw eval: %s\n", nncw_last_error());
            return 1;
        }
    }
    return 0;
}

static int evaluate(const struct eval_args *a, struct run *r)
{
    int rc = load(a, r);
    if (rc)
        return rc;
    struct nncw_onnx_import_options io = {.n_bindings = a->n_inputs, .bindings = r->bind};
    double t0 = now();
    enum nncw_status s = nncw_onnx_import_file(a->model, &io, &r->g);
    double t_import = now() - t0;
    struct nncw_exec_options eo = {.batch = 1};
    if (s == NNCW_OK)
        s = nncw_exec_new(r->g, &eo, &r->ex);
    for (int i = 0; s == NNCW_OK && i < nncw_graph_count_inputs(r->g); i++) {
        const char *name = nncw_graph_get_value_name(r->g, nncw_graph_get_input(r->g, i));
        for (int k = 0; k < a->n_inputs; k++)
            if (!strcmp(r->bind[k].name, name))
                s = nncw_tensor_copy(nncw_exec_get_input(r->ex, i), &r->in[k]);
    }
    if (s == NNCW_OK)
        s = nncw_exec_forward(r->ex); /* the first run also warms caches and BLAS threads */
    t0 = now();
    for (long k = 1; s == NNCW_OK && k < a->repeat; k++)
        s = nncw_exec_forward(r->ex);
    double t_run = now() - t0;
    if (s != NNCW_OK) {
        fprintf(stderr, "nncw eval: %s\n", nncw_last_error());
        return 1;
    }
    if (a->repeat > 1) {
        int64_t batch = r->in[0].ndim ? r->in[0].shape[0] : 1;
        double per = t_run / (double)(a->repeat - 1);
        printf("import %.3f s; forward %.2f ms per run at batch %lld: %.1f images/s\n", t_import,
               1e3 * per, (long long)batch, (double)batch / per);
    }
    return write_outputs(a, r);
}

static void log_warnings(void *user, enum nncw_log_level level, const char *msg)
{
    (void)user;
    if (level >= NNCW_LOG_WARN)
        fprintf(stderr, "nncw eval: %s\n", msg);
}

int app_cmd_eval(int argc, char **argv)
{
    /* a checkpoint (compressed or not) restores and evaluates on a data set */
    if (argc > 1 && app_eval_is_checkpoint(argv[1]))
        return app_eval_checkpoint(argc, argv);
    struct eval_args a = {.repeat = 1, .tolerance = 1e-4};
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.threads > 0)
        nncw_blas_set_threads((int)a.threads);
    nncw_log_set_handler(log_warnings, NULL);
    struct run r;
    memset(&r, 0, sizeof r);
    rc = evaluate(&a, &r);
    run_fini(&r, a.n_inputs);
    return rc;
}
