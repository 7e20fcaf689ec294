/* `nncw` / `nncw MODEL.onnx` / `nncw workbench`: the ncurses workbench over a Lua session. */
#include "commands.h"

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "data/data.h"
#include "session.h"
#include "ui.h"
#include "zoo/zoo.h"

static const char usage[] =
    "usage: nncw [workbench] [MODEL] [--data fashion-mnist|synthetic]\n"
    "\n"
    "The interactive workbench (ncurses): the network as a tree of scopes with shapes,\n"
    "parameters and FLOPs; an inspector with weight statistics and histograms; training from\n"
    "a form with live charts; a Lua console sharing the session; a log. MODEL is an ONNX file\n"
    "or a built-in model name (default: the CNN); the data set defaults to Fashion-MNIST\n"
    "(synthetic data when the Debian package is missing). Every action runs as Lua: s (or\n"
    ":save FILE) writes the session as a script that `nncw run FILE` replays. F1 shows the\n"
    "keys. Needs a terminal; `nncw --no-tui ...` and the subcommands stay scriptable.\n";

static struct session *running; /* for the abort hook */

/* an engine invariant broke: give the terminal back before the process dies */
static void on_abort(void)
{
    ui_emergency_restore();
    session_restore_output(running);
}

bool app_workbench_is_model(const char *arg)
{
    size_t n = strlen(arg);
    return n > 5 && strcmp(arg + n - 5, ".onnx") == 0;
}

bool app_workbench_has_terminal(void)
{
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

static bool is_zoo_model(const char *name)
{
    for (const char *const *n = nncw_zoo_names(); *n; n++)
        if (!strcmp(*n, name))
            return true;
    return false;
}

/* the first lines of the session: the model and the data */
static int start_lines(struct session *s, const char *model, const char *data)
{
    char line[4400];
    if (!model || !strcmp(model, "cnn")) {
        snprintf(line, sizeof line, "model = nncw.zoo.cnn{seed = 1}");
    } else if (app_workbench_is_model(model)) {
        char q[4200];
        size_t k = 0;
        for (const char *c = model; *c && k + 3 < sizeof q; c++) { /* a Lua string literal */
            if (*c == '"' || *c == '\\')
                q[k++] = '\\';
            q[k++] = *c;
        }
        q[k] = '\0';
        snprintf(line, sizeof line, "model = nncw.onnx.load(\"%s\")", q);
    } else if (is_zoo_model(model)) {
        snprintf(line, sizeof line, "model = nncw.zoo.build(\"%s\", {seed = 1})", model);
    } else {
        fprintf(stderr, "nncw workbench: '%s' is neither an .onnx file nor a built-in model\n",
                model);
        return 2;
    }
    session_submit(s, line, true);
    bool fmnist = !strcmp(data, "fashion-mnist") && access(NNCW_DATA_FASHION_MNIST_DIR, R_OK) == 0;
    if (fmnist) {
        session_submit(s, "train_data = nncw.data.fashion_mnist{train = true}", true);
        session_submit(s, "test_data = nncw.data.fashion_mnist{train = false}", true);
    } else {
        if (strcmp(data, "synthetic") != 0)
            line_ring_addf(session_log(s), LINE_WARN,
                           "Fashion-MNIST is not in %s (Debian package dataset-fashion-mnist): "
                           "using synthetic data",
                           NNCW_DATA_FASHION_MNIST_DIR);
        session_submit(s, "train_data = nncw.data.synthetic{count = 8192}", true);
        session_submit(s, "test_data = nncw.data.synthetic{count = 2048, sample_seed = 2}", true);
    }
    return 0;
}

int app_cmd_workbench(int argc, char **argv)
{
    const char *model = NULL, *data = "fashion-mnist";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            data = argv[++i];
            if (strcmp(data, "fashion-mnist") && strcmp(data, "synthetic")) {
                fprintf(stderr, "nncw workbench: --data is fashion-mnist or synthetic, got '%s'\n",
                        data);
                return 2;
            }
        } else if (argv[i][0] == '-' || model) {
            fprintf(stderr, "nncw workbench: unexpected '%s' (see 'nncw workbench --help')\n",
                    argv[i]);
            return 2;
        } else {
            model = argv[i];
        }
    }
    if (!app_workbench_has_terminal()) {
        fputs("nncw: the workbench needs a terminal (standard input and output); the commands "
              "work without one: nncw --help\n",
              stderr);
        return 2;
    }
    setlocale(LC_CTYPE, ""); /* UTF-8 drawing; numbers keep the C locale */
    struct session *s;
    if (session_new(&s) != 0)
        return 1;
    int rc = start_lines(s, model, data);
    if (rc != 0) {
        session_free(s);
        return rc;
    }
    int tty = session_capture_output(s);
    if (tty < 0) {
        perror("nncw: cannot capture the output");
        session_free(s);
        return 1;
    }
    running = s;
    nncw_set_abort_hook(on_abort);
    rc = ui_run(s, tty);
    nncw_set_abort_hook(NULL);
    struct session_status st;
    session_get_status(s, &st);
    if (rc > 128 && st.busy) { /* a signal, and the work did not stop: do not wait for it */
        session_restore_output(s);
        fprintf(stderr, "nncw: stopped by signal %d while work was running\n", rc - 128);
        _exit(rc);
    }
    session_free(s); /* waits for running work, which the UI has cancelled */
    running = NULL;
    return rc;
}
