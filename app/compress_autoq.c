/* `nncw compress`: the AutoQ search (compress_autoq.h). */
#include "compress_autoq.h"

#include <stdio.h>

#include "compression/autoq/autoq.h"
#include "train/trainer.h"

static int fail(const char *what)
{
    fprintf(stderr, "nncw compress: %s: %s\n", what, nncw_last_error());
    return 1;
}

static void print_bits(const struct nncw_autoq *q, const int *bits)
{
    for (int i = 0; i < nncw_autoq_count_steps(q); i++)
        printf("%d", bits[i]);
}

static void print_policy(const struct nncw_autoq *q, const int *bits)
{
    printf("AutoQ: best policy per quantizer:\n");
    for (int i = 0; i < nncw_autoq_count_steps(q); i++)
        printf("  %-56s %d\n", nncw_autoq_get_step_name(q, i), bits[i]);
}

/* the applied model on the search's evaluation subset: the best episode's figure, since applying
 * rebuilds the model the search scored (plus batch-norm adaptation when the config has it) */
static enum nncw_status applied_on_subset(struct nncw_graph *g, const struct nncw_dataset *eval,
                                          double subset, int batch, double searched)
{
    int64_t take = nncw_autoq_subset_count(nncw_dataset_count_samples(eval), subset);
    struct nncw_dataset *part;
    NNCW_TRY(nncw_dataset_subset(eval, 0, take, &part));
    float acc, loss;
    enum nncw_status s = nncw_evaluate(g, part, batch > 0 ? batch : 64, &acc, &loss);
    nncw_dataset_free(part);
    if (s == NNCW_OK)
        printf("AutoQ: the best policy applied: accuracy %.2f%% on the same %lld samples "
               "(searched: %.2f%%)\n",
               100.0 * acc, (long long)take, searched);
    return s;
}

int app_compress_autoq(const struct nncw_config *cfg, struct nncw_graph *g,
                       struct nncw_compression *c, const struct nncw_dataset *eval, int batch,
                       bool quiet, volatile sig_atomic_t *stop)
{
    struct nncw_autoq_options o;
    double subset = 1.0;
    bool found;
    if (nncw_autoq_options_from_config(cfg, &o, &subset, &found) != NNCW_OK)
        return fail("autoq");
    if (!found)
        return 0;
    struct nncw_autoq *q;
    if (nncw_autoq_new_for_compression(g, c, eval, subset, batch, &o, &q) != NNCW_OK)
        return fail("autoq");
    if (!quiet)
        printf("AutoQ: %d quantizers, %d episodes (%d warm-up), ratio %.4f, bits per "
               "quantizer in execution order\n",
               nncw_autoq_count_steps(q), o.episodes, o.warmup, o.compression_ratio);
    struct nncw_autoq_episode e;
    while (!nncw_autoq_is_done(q) && !*stop) {
        if (nncw_autoq_run_episode(q, &e) != NNCW_OK) {
            nncw_autoq_free(q);
            return fail("autoq");
        }
        if (!quiet) {
            printf("AutoQ episode %3d%s  accuracy %6.2f%%  reward %.4f  ratio %.4f%s  ", e.episode,
                   e.warmup ? " (warm-up)" : "          ", e.accuracy, e.reward, e.ratio,
                   e.best ? " best" : "     ");
            print_bits(q, e.bits);
            printf("\n");
            fflush(stdout);
        }
    }
    struct nncw_autoq_episode best;
    const int *bits = nncw_autoq_get_best(q, &best);
    int rc = 0;
    if (bits) {
        double random;
        if (nncw_autoq_random_baseline(q, 5, o.seed + 1, &random) != NNCW_OK) {
            nncw_autoq_free(q);
            return fail("autoq random baseline");
        }
        printf("AutoQ: best episode %d: accuracy %.2f%% at ratio %.4f; 5 random policies of the "
               "same ratio: mean accuracy %.2f%%\n",
               best.episode, best.accuracy, best.ratio, random);
        if (!quiet)
            print_policy(q, bits);
        if (nncw_autoq_apply(q, bits) != NNCW_OK)
            rc = fail("autoq: applying the best policy");
        else if (applied_on_subset(g, eval, subset, batch, best.accuracy) != NNCW_OK)
            rc = fail("autoq: evaluating the applied policy");
    }
    nncw_autoq_free(q);
    return rc;
}
