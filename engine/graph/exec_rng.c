/* The executor's random stream as checkpoints see it (kept apart from exec.c, which is about
 * running graphs). */
#include "graph/exec.h"

#include "graph/exec_internal.h"

struct nncw_rng nncw_exec_get_rng(const struct nncw_exec *ex)
{
    return ex->rng;
}

void nncw_exec_set_rng(struct nncw_exec *ex, const struct nncw_rng *rng)
{
    ex->rng = *rng;
}
