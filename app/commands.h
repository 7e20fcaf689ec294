/* The subcommands of the nncw program; each returns the process exit status
 * (0 ok, 1 failure, 2 usage error, 130 interrupted). argv[0] is the command's name. */
#pragma once

#include <stdbool.h>

int app_cmd_train(int argc, char **argv);
int app_cmd_models(int argc, char **argv);
int app_cmd_info(int argc, char **argv);
int app_cmd_eval(int argc, char **argv);
int app_cmd_compress(int argc, char **argv);
int app_cmd_run(int argc, char **argv);
int app_cmd_repl(int argc, char **argv);

/* the workbench (cmd_workbench.c): `nncw`, `nncw MODEL.onnx`, `nncw workbench` */
int app_cmd_workbench(int argc, char **argv);
bool app_workbench_is_model(const char *arg);
bool app_workbench_has_terminal(void);
