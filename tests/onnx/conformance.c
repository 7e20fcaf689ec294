/*
 * ONNX backend conformance: runs the test cases of the ONNX test data (Debian libonnx-testdata:
 * <root>/{node,pytorch-converted,pytorch-operator,simple,real}/<test>/model.onnx with
 * test_data_set_N/input_K.pb and output_K.pb) through import and the executor, and compares the
 * outputs with rtol 1e-3, atol 1e-7.
 *
 *     conformance [--root DIR] [--filter TEXT] [--jobs N] [--min-pass N] [--verbose]
 *
 * Each test runs in a child process, so a crash is counted, not fatal. A test is "unsupported"
 * when the import or the run is refused with NNCW_ERR_UNSUPPORTED or NNCW_ERR_DTYPE (an op,
 * attribute or dtype nncw lacks), "skipped" when its outputs are random (Bernoulli, Random*,
 * training-mode dropout), "missing" when the data has no model (real/ ships without them).
 * Any other error or a mismatch is a failure. Integer inputs are frozen into constants at import
 * (nncw plans memory for shapes known at import, like OpenVINO's freeze_placeholder_with_value);
 * float inputs stay graph inputs whose shapes are fixed by the test data.
 *
 * Exit status 1 if any test failed, crashed or timed out, or fewer than --min-pass passed in
 * node/, pytorch-converted/, pytorch-operator/ and simple/.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "graph/exec.h"
#include "onnx/onnx.h"

enum result { R_PASS, R_FAIL, R_UNSUPPORTED, R_SKIP, R_MISSING, R_CRASH, R_TIMEOUT, R_COUNT };
static const char *const result_names[R_COUNT] = {"passed",  "failed",  "unsupported", "skipped",
                                                  "missing", "crashed", "timeout"};
static const char *const categories[] = {"node", "pytorch-converted", "pytorch-operator", "simple",
                                         "real"};
#define N_CAT 5
#define MAX_IO 16
#define MSG 1024

struct options {
    const char *root, *filter;
    int jobs, min_pass, timeout;
    bool verbose;
};

/* ---- one test, in the child ---- */

struct io {
    int n;
    struct nncw_tensor t[MAX_IO];
};

static void io_fini(struct io *io)
{
    for (int i = 0; i < io->n; i++)
        nncw_tensor_fini(&io->t[i]);
    io->n = 0;
}

/* reads <dir>/<prefix>_0.pb, _1.pb, ... */
static enum nncw_status read_io(const char *dir, const char *prefix, struct io *io)
{
    io->n = 0;
    for (int i = 0; i < MAX_IO; i++) {
        char path[8500];
        snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, i);
        if (access(path, R_OK) != 0)
            break;
        NNCW_TRY(nncw_onnx_read_tensor_file(path, &io->t[i], NULL, 0));
        io->n = i + 1;
    }
    return NNCW_OK;
}

static enum result classify(enum nncw_status s)
{
    return s == NNCW_ERR_UNSUPPORTED || s == NNCW_ERR_DTYPE ? R_UNSUPPORTED : R_FAIL;
}

/* first element where got and want differ beyond the tolerance, -1 if none */
static int64_t mismatch(const struct nncw_tensor *got, const struct nncw_tensor *want, double *g,
                        double *w)
{
    int64_t n = nncw_tensor_numel(want);
    for (int64_t i = 0; i < n; i++) {
        double a, b;
        switch (want->dtype) {
        case NNCW_DTYPE_F32:
            a = nncw_tensor_f32(got)[i];
            b = nncw_tensor_f32(want)[i];
            break;
        case NNCW_DTYPE_I64:
            a = (double)((const int64_t *)got->data)[i];
            b = (double)((const int64_t *)want->data)[i];
            break;
        case NNCW_DTYPE_I32:
            a = ((const int32_t *)got->data)[i];
            b = ((const int32_t *)want->data)[i];
            break;
        case NNCW_DTYPE_I8:
            a = ((const int8_t *)got->data)[i];
            b = ((const int8_t *)want->data)[i];
            break;
        default:
            a = ((const uint8_t *)got->data)[i];
            b = ((const uint8_t *)want->data)[i];
            break;
        }
        bool ok = want->dtype == NNCW_DTYPE_F32
                      ? (isnan(a) && isnan(b)) || a == b || fabs(a - b) <= 1e-7 + 1e-3 * fabs(b)
                      : a == b;
        if (!ok) {
            *g = a;
            *w = b;
            return i;
        }
    }
    return -1;
}

static enum result compare(const struct nncw_exec *ex, int n_out, const struct io *want, char *msg)
{
    if (n_out != want->n) {
        snprintf(msg, MSG, "the model has %d outputs, the data %d", n_out, want->n);
        return R_FAIL;
    }
    for (int i = 0; i < n_out; i++) {
        const struct nncw_tensor *g = nncw_exec_get_output(ex, i), *w = &want->t[i];
        char sg[96], sw[96];
        if (g->dtype != w->dtype || !nncw_tensor_same_shape(g, w)) {
            snprintf(msg, MSG, "output %d is %s %s, expected %s %s", i, nncw_dtype_name(g->dtype),
                     nncw_tensor_shape_str(g, sg, sizeof sg), nncw_dtype_name(w->dtype),
                     nncw_tensor_shape_str(w, sw, sizeof sw));
            return R_FAIL;
        }
        double a, b;
        int64_t at = mismatch(g, w, &a, &b);
        if (at >= 0) {
            snprintf(msg, MSG, "output %d element %lld: %.9g, expected %.9g", i, (long long)at, a,
                     b);
            return R_FAIL;
        }
    }
    return R_PASS;
}

static enum result run_set(const char *model, const char *set, const struct nncw_onnx_summary *sum,
                           char *msg)
{
    struct io in = {0}, want = {0};
    struct nncw_graph *g = NULL;
    struct nncw_exec *ex = NULL;
    enum result r = R_PASS;
    enum nncw_status s = read_io(set, "input", &in);
    if (s == NNCW_OK)
        s = read_io(set, "output", &want);
    if (s != NNCW_OK) {
        /* test data that is no tensor (sequences, optionals) belongs to a model whose inputs
         * or outputs nncw refuses: let the import say so */
        snprintf(msg, MSG, "%s", nncw_last_error());
        r = classify(s);
        enum nncw_status si = nncw_onnx_import_file(model, NULL, &g);
        if (si == NNCW_ERR_UNSUPPORTED || si == NNCW_ERR_DTYPE) {
            snprintf(msg, MSG, "%s", nncw_last_error());
            r = R_UNSUPPORTED;
        }
        goto out;
    }
    struct nncw_onnx_binding bind[MAX_IO];
    int nb = in.n < sum->n_inputs ? in.n : sum->n_inputs;
    for (int i = 0; i < nb; i++)
        bind[i] = (struct nncw_onnx_binding){sum->input_names[i], &in.t[i],
                                             in.t[i].dtype != NNCW_DTYPE_F32};
    struct nncw_onnx_import_options io = {.n_bindings = nb, .bindings = bind};
    s = nncw_onnx_import_file(model, &io, &g);
    struct nncw_exec_options eo = {.batch = 1};
    if (s == NNCW_OK)
        s = nncw_exec_new(g, &eo, &ex);
    for (int i = 0; s == NNCW_OK && i < nncw_graph_count_inputs(g); i++) {
        int id = nncw_graph_get_input(g, i);
        const char *name = nncw_graph_get_value_name(g, id);
        int k = 0;
        while (k < nb && strcmp(bind[k].name, name) != 0)
            k++;
        if (k == nb) {
            s = NNCW_FAIL(NNCW_ERR_INVALID_ARG, "no data for input '%s'", name);
            break;
        }
        s = nncw_tensor_copy(nncw_exec_get_input(ex, i), &in.t[k]);
    }
    if (s == NNCW_OK)
        s = nncw_exec_forward(ex);
    if (s != NNCW_OK) {
        snprintf(msg, MSG, "%s: %s", nncw_status_str(s), nncw_last_error());
        r = classify(s);
        goto out;
    }
    r = compare(ex, nncw_graph_count_outputs(g), &want, msg);
out:
    nncw_exec_free(ex);
    nncw_graph_free(g);
    io_fini(&in);
    io_fini(&want);
    return r;
}

static bool random_outputs(const char *name, const struct nncw_onnx_summary *sum)
{
    if (strstr(name, "training_dropout") || strstr(name, "bernoulli"))
        return true;
    for (int i = 0; i < sum->n_ops; i++)
        if (strncmp(sum->ops[i].op_type, "Random", 6) == 0 ||
            strcmp(sum->ops[i].op_type, "Bernoulli") == 0)
            return true;
    return false;
}

static enum result run_test(const char *dir, const char *name, char *msg)
{
    char model[8400];
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    if (access(model, R_OK) != 0) {
        snprintf(msg, MSG, "no model.onnx");
        return R_MISSING;
    }
    struct nncw_onnx_summary sum;
    enum nncw_status s = nncw_onnx_summarize_file(model, &sum);
    if (s != NNCW_OK) {
        snprintf(msg, MSG, "%s", nncw_last_error());
        return classify(s);
    }
    enum result r = R_PASS;
    if (random_outputs(name, &sum)) {
        snprintf(msg, MSG, "random outputs");
        r = R_SKIP;
    }
    for (int k = 0; r == R_PASS; k++) {
        char set[8400];
        snprintf(set, sizeof set, "%s/test_data_set_%d", dir, k);
        struct stat st;
        if (stat(set, &st) != 0) {
            if (k == 0) {
                snprintf(msg, MSG, "no test_data_set_0");
                r = R_MISSING;
            }
            break;
        }
        r = run_set(model, set, &sum, msg);
    }
    nncw_onnx_summary_fini(&sum);
    return r;
}

/* ---- the parent: children, results, the table ---- */

struct test {
    int cat;
    char name[256];
    enum result r;
    char msg[MSG];
};

struct child {
    pid_t pid;
    int fd, test;
};

static void quiet_log(void *user, enum nncw_log_level level, const char *msg)
{
    (void)user;
    (void)level;
    (void)msg;
}

static void child_main(const struct options *o, const struct test *t, int fd)
{
    char dir[4200], msg[MSG] = "";
    snprintf(dir, sizeof dir, "%s/%s/%s", o->root, categories[t->cat], t->name);
    nncw_log_set_handler(quiet_log, NULL);
    alarm((unsigned)o->timeout);
    enum result r = run_test(dir, t->name, msg);
    char line[MSG + 8];
    int n = snprintf(line, sizeof line, "%d %s", (int)r, msg);
    if (write(fd, line, (size_t)n) < 0)
        _exit(3);
    _exit(0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the test folders of every category, sorted */
static struct test *list_tests(const struct options *o, int *n)
{
    struct test *tests = NULL;
    int cap = 0;
    *n = 0;
    for (int c = 0; c < N_CAT; c++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", o->root, categories[c]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        char **names = NULL;
        int nn = 0, nc = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || (o->filter && !strstr(e->d_name, o->filter)))
                continue;
            if (nn == nc) {
                nc = nc ? nc * 2 : 256;
                names = realloc(names, (size_t)nc * sizeof *names);
            }
            names[nn++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, (size_t)nn, sizeof *names, by_name);
        for (int i = 0; i < nn; i++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 1024;
                tests = realloc(tests, (size_t)cap * sizeof *tests);
            }
            memset(&tests[*n], 0, sizeof tests[*n]);
            tests[*n].cat = c;
            snprintf(tests[*n].name, sizeof tests[*n].name, "%s", names[i]);
            (*n)++;
            free(names[i]);
        }
        free(names);
    }
    return tests;
}

static void run_all(const struct options *o, struct test *tests, int n)
{
    struct child *running = calloc((size_t)o->jobs, sizeof *running);
    int active = 0;
    for (int next = 0; next < n || active > 0;) {
        while (next < n && active < o->jobs) {
            int fds[2];
            if (pipe(fds) != 0) {
                perror("pipe");
                exit(2);
            }
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                close(fds[0]);
                child_main(o, &tests[next], fds[1]);
            }
            close(fds[1]);
            running[active++] = (struct child){pid, fds[0], next++};
        }
        /* wait for any child, then reap the one that ended */
        int status;
        pid_t done = waitpid(-1, &status, WNOHANG);
        if (done == 0) {
            usleep(2000);
            continue;
        }
        for (int i = 0; i < active; i++) {
            if (running[i].pid != done)
                continue;
            struct child c = running[i];
            running[i] = running[--active];
            struct test *t = &tests[c.test];
            char buf[MSG + 8] = "";
            ssize_t len = 0, k;
            while ((k = read(c.fd, buf + len, sizeof buf - 1 - (size_t)len)) > 0)
                len += k;
            buf[len > 0 ? len : 0] = '\0';
            close(c.fd);
            if (WIFSIGNALED(status)) {
                t->r = WTERMSIG(status) == SIGALRM ? R_TIMEOUT : R_CRASH;
                snprintf(t->msg, sizeof t->msg, "killed by signal %d", WTERMSIG(status));
            } else if (len < 2 || WEXITSTATUS(status) != 0) {
                t->r = R_CRASH;
                snprintf(t->msg, sizeof t->msg, "exit status %d", WEXITSTATUS(status));
            } else {
                int r = atoi(buf);
                t->r = r >= 0 && r < R_COUNT ? (enum result)r : R_CRASH;
                const char *sp = strchr(buf, ' ');
                snprintf(t->msg, sizeof t->msg, "%s", sp ? sp + 1 : "");
            }
            if (o->verbose || t->r == R_FAIL || t->r == R_CRASH || t->r == R_TIMEOUT)
                printf("%-11s %s/%s: %s\n", result_names[t->r], categories[t->cat], t->name,
                       t->msg);
            break;
        }
    }
    free(running);
}

static int report(const struct options *o, const struct test *tests, int n)
{
    int count[N_CAT + 1][R_COUNT] = {{0}};
    for (int i = 0; i < n; i++) {
        count[tests[i].cat][tests[i].r]++;
        count[N_CAT][tests[i].r]++;
    }
    printf("\n%-18s %6s", "category", "tests");
    for (int r = 0; r < R_COUNT; r++)
        printf(" %11s", result_names[r]);
    printf("\n");
    int target = 0;
    for (int c = 0; c <= N_CAT; c++) {
        int total = 0;
        for (int r = 0; r < R_COUNT; r++)
            total += count[c][r];
        printf("%-18s %6d", c < N_CAT ? categories[c] : "all", total);
        for (int r = 0; r < R_COUNT; r++)
            printf(" %11d", count[c][r]);
        printf("\n");
        if (c < 4)
            target += count[c][R_PASS];
    }
    int bad = count[N_CAT][R_FAIL] + count[N_CAT][R_CRASH] + count[N_CAT][R_TIMEOUT];
    printf("\npassed in node/, pytorch-converted/, pytorch-operator/, simple/: %d (required %d)\n",
           target, o->min_pass);
    printf("%d passed, %d failed\n", count[N_CAT][R_PASS], bad);
    return bad > 0 || target < o->min_pass ? 1 : 0;
}

static void usage(void)
{
    fputs("usage: conformance [--root DIR] [--filter TEXT] [--jobs N] [--min-pass N] "
          "[--timeout S] [--verbose]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    struct options o = {"/usr/share/libonnx-testdata/data", NULL, 2, 0, 120, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose = true;
            continue;
        }
        if (!v)
            usage();
        if (!strcmp(a, "--root"))
            o.root = v;
        else if (!strcmp(a, "--filter"))
            o.filter = v;
        else if (!strcmp(a, "--jobs"))
            o.jobs = atoi(v) > 0 ? atoi(v) : 1;
        else if (!strcmp(a, "--min-pass"))
            o.min_pass = atoi(v);
        else if (!strcmp(a, "--timeout"))
            o.timeout = atoi(v) > 0 ? atoi(v) : 120;
        else
            usage();
        i++;
    }
    int n;
    struct test *tests = list_tests(&o, &n);
    if (n == 0) {
        fprintf(stderr, "conformance: no tests under %s\n", o.root);
        return o.min_pass > 0 ? 1 : 0;
    }
    run_all(&o, tests, n);
    int rc = report(&o, tests, n);
    free(tests);
    return rc;
}
