/* `nncw eval CHECKPOINT.nncw`: a compressed (or plain) checkpoint restored without its config,
 * its compression statistics and its accuracy on a data set. */
#pragma once

#include <stdbool.h>

/* whether the argument names a checkpoint file (it starts with nncw's checkpoint magic) */
bool app_eval_is_checkpoint(const char *path);
/* the command; argv[1] is the checkpoint. Returns the exit status */
int app_eval_checkpoint(int argc, char **argv);
