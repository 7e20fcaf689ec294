/* nncw: the command line. Dispatches to one subcommand per file. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "zoo/zoo.h"

static const char usage[] =
    "usage: nncw <command> [options]\n"
    "\n"
    "nncw is a neural-network compression workbench: it builds or loads networks, trains\n"
    "them on the CPU and compresses them the way NNCF does.\n"
    "\n"
    "commands:\n"
    "  train      train a built-in model on a data set (default: the CNN on Fashion-MNIST)\n"
    "  models     list the built-in models\n"
    "  info       describe an ONNX model: nncw info MODEL.onnx\n"
    "  eval       run an ONNX model on TensorProto files (ONNX test data format)\n"
    "  compress   compress a model from an NNCF-style config, fine-tune, export\n"
    "  run        run a Lua script: nncw run SCRIPT.lua [args...]\n"
    "  repl       an interactive Lua prompt with the nncw module\n"
    "  workbench  the interactive workbench (also: nncw, nncw MODEL.onnx)\n"
    "  version    print the version\n"
    "\n"
    "'nncw <command> --help' explains a command's options.\n";

int app_cmd_models(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (const char *const *n = nncw_zoo_names(); *n; n++)
        printf("%-14s %s\n", *n, nncw_zoo_describe(*n));
    return 0;
}

int main(int argc, char **argv)
{
    /* the workbench: `nncw` on a terminal, or `nncw MODEL.onnx`; --no-tui keeps the plain
     * command line (no arguments: the usage) */
    bool no_tui = argc >= 2 && !strcmp(argv[1], "--no-tui");
    if (no_tui) {
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    if (!no_tui && ((argc < 2 && app_workbench_has_terminal()) ||
                    (argc >= 2 && app_workbench_is_model(argv[1]))))
        return app_cmd_workbench(argc, argv);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train"))
        return app_cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "models"))
        return app_cmd_models(argc - 1, argv + 1);
    if (!strcmp(cmd, "info"))
        return app_cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval"))
        return app_cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "compress"))
        return app_cmd_compress(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return app_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "repl"))
        return app_cmd_repl(argc - 1, argv + 1);
    if (!strcmp(cmd, "workbench"))
        return app_cmd_workbench(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("nncw %s\n", NNCW_VERSION);
        return 0;
    }
    fprintf(stderr, "nncw: unknown command '%s' (see 'nncw --help')\n", cmd);
    return 2;
}
