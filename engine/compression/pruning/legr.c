/*
** LeGR (Chin et al., NNCF's learned_ranking; fact sheet 5.4): a per-group affine map
** (a_i, b_i) of the filter importances before the global ranking, found by an evolutionary
** search. Each candidate starts from the original weights, is pruned to the max_pruning FLOPs
** target with its ranking, trained train_steps steps (SGD lr 0.01, momentum 0.9, Nesterov,
** weight decay 5e-4) and scored by the negative validation loss. The first 64 generations
** (the population) are random, a = exp(N(0, 1)) and b = N(0, std of the group's importances),
** with the last of them the identity (1, 0); each later one takes the best of 16 members drawn
** from the population, mutates about 10 % of its groups (at least one) with a spread that
** shrinks as 1 - gen / (1.25 generations), and replaces the oldest member. Seeded: the same
** options give the same coefficients. The weights are restored at the end and the best
** coefficients kept (also when stopped through the progress callback).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compression/pruning/pruning_internal.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "graph/exec.h"
#include "train/train.h"
#include "train/trainer.h"

#define POPULATION 64
#define TOURNAMENT 16

struct candidate {
    float *a, *b;
    double reward;
    int born;
};

struct search {
    struct nncw_pruning *pr;
    const struct nncw_legr_options *o;
    const struct nncw_graph *saved; /* the weights every candidate starts from */
    float *spread;                  /* per group: the std of its importances */
    struct nncw_rng rng;
};

/* ---- one candidate ---- */

static enum nncw_status train(struct search *se, int generation)
{
    struct nncw_pruning *pr = se->pr;
    const struct nncw_legr_options *o = se->o;
    int64_t count = nncw_dataset_count_samples(o->train);
    int bs = o->batch_size > 0 ? o->batch_size : 64;
    if (bs > count)
        bs = (int)count;
    if (o->train_steps <= 0 || bs < 1)
        return NNCW_OK;
    struct nncw_loader_opts lo = {.batch_size = bs,
                                  .shuffle = true,
                                  .drop_last = true,
                                  .seed = o->seed + (uint64_t)generation};
    struct nncw_exec_options eo = {
        .batch = bs, .training = true, .backward = true, .seed = o->seed + (uint64_t)generation};
    struct nncw_optim_config oc = nncw_optim_config_sgd(0.01f, 0.9f, 5e-4f);
    oc.nesterov = true;
    struct nncw_loader *l = NULL;
    struct nncw_exec *ex = NULL;
    struct nncw_optim *opt = NULL;
    struct nncw_tensor dlogits = {0};
    int32_t *labels = nncw_malloc((size_t)bs * sizeof *labels);
    enum nncw_status s = labels ? NNCW_OK : NNCW_FAIL(NNCW_ERR_NOMEM, "LeGR: out of memory");
    if (s == NNCW_OK)
        s = nncw_loader_new(o->train, &lo, &l);
    if (s == NNCW_OK)
        s = nncw_exec_new(pr->g, &eo, &ex);
    if (s == NNCW_OK)
        s = nncw_optim_new(pr->g, &oc, &opt);
    if (s == NNCW_OK) { /* the loss's gradient buffer, shaped as the logits */
        const struct nncw_tensor *y = nncw_exec_get_output(ex, 0);
        s = nncw_tensor_init(&dlogits, NNCW_DTYPE_F32, y->ndim, y->shape);
    }
    int64_t epoch = 0;
    for (int step = 0; s == NNCW_OK && step < o->train_steps;) {
        int got;
        if (!nncw_loader_next(l, nncw_tensor_f32(nncw_exec_get_input(ex, 0)), labels, &got)) {
            nncw_loader_start_epoch(l, ++epoch);
            continue;
        }
        float loss;
        nncw_graph_zero_grads(pr->g);
        s = nncw_exec_forward(ex);
        if (s == NNCW_OK)
            s = nncw_loss_cross_entropy(nncw_exec_get_output(ex, 0), labels, &loss, &dlogits);
        if (s == NNCW_OK)
            s = nncw_exec_backward(ex, (const struct nncw_tensor *[]){&dlogits});
        if (s == NNCW_OK)
            nncw_optim_step(opt);
        step++;
    }
    nncw_tensor_fini(&dlogits);
    nncw_optim_free(opt);
    nncw_exec_free(ex);
    nncw_loader_free(l);
    nncw_free(labels);
    return s;
}

static void set_coeffs(struct nncw_pruning *pr, const float *a, const float *b)
{
    for (int i = 0; i < pr->n_groups; i++)
        pr->groups[i].a = a[i], pr->groups[i].b = b[i];
    pr->has_coeffs = true;
}

static enum nncw_status evaluate(struct search *se, struct candidate *cand, int generation)
{
    struct nncw_pruning *pr = se->pr;
    NNCW_TRY(nncw_graph_assign(pr->g, se->saved));
    set_coeffs(pr, cand->a, cand->b);
    NNCW_TRY(nncw_prune_apply_flops(pr, se->o->max_pruning));
    NNCW_TRY(train(se, generation));
    float acc, loss;
    NNCW_TRY(nncw_evaluate(pr->g, se->o->val, 256, &acc, &loss));
    cand->reward = isfinite(loss) ? -(double)loss : -1e30;
    cand->born = generation;
    return NNCW_OK;
}

/* ---- the evolution ---- */

static void random_candidate(struct search *se, struct candidate *c, bool identity)
{
    for (int i = 0; i < se->pr->n_groups; i++) {
        c->a[i] = identity ? 1.0f : expf(nncw_rng_normal(&se->rng));
        c->b[i] = identity ? 0.0f : nncw_rng_normal(&se->rng) * se->spread[i];
    }
}

static const struct candidate *tournament(struct search *se, const struct candidate *pop, int n)
{
    const struct candidate *best = NULL;
    for (int k = 0; k < TOURNAMENT; k++) {
        const struct candidate *c = &pop[nncw_rng_below(&se->rng, (uint32_t)n)];
        if (!best || c->reward > best->reward)
            best = c;
    }
    return best;
}

static void mutate(struct search *se, const struct candidate *parent, struct candidate *child,
                   int generation)
{
    int n = se->pr->n_groups;
    double scale = 1.0 - (double)generation / (1.25 * se->o->generations);
    memcpy(child->a, parent->a, (size_t)n * sizeof *child->a);
    memcpy(child->b, parent->b, (size_t)n * sizeof *child->b);
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (nncw_rng_uniform(&se->rng) >= 0.1f)
            continue;
        any = true;
        child->a[i] *= expf((float)scale * nncw_rng_normal(&se->rng));
        child->b[i] += (float)scale * nncw_rng_normal(&se->rng) * se->spread[i];
    }
    if (!any && n > 0) {
        int i = (int)nncw_rng_below(&se->rng, (uint32_t)n);
        child->a[i] *= expf((float)scale * nncw_rng_normal(&se->rng));
        child->b[i] += (float)scale * nncw_rng_normal(&se->rng) * se->spread[i];
    }
}

/* per group: the spread of its (normalised) importances on the original weights */
static enum nncw_status measure_spread(struct search *se)
{
    struct nncw_pruning *pr = se->pr;
    bool had = pr->has_coeffs;
    pr->has_coeffs = true; /* normalised importances, as the search ranks them */
    enum nncw_status s = nncw_prune_rank(pr);
    pr->has_coeffs = had;
    NNCW_TRY(s);
    for (int i = 0; i < pr->n_groups; i++) {
        const struct nncw_prune_group *gr = &pr->groups[i];
        double m = 0, v = 0;
        for (int64_t f = 0; f < gr->channels; f++)
            m += gr->importance[f];
        m /= (double)gr->channels;
        for (int64_t f = 0; f < gr->channels; f++)
            v += (gr->importance[f] - m) * (gr->importance[f] - m);
        se->spread[i] = (float)sqrt(v / (double)gr->channels);
    }
    return NNCW_OK;
}

static enum nncw_status evolve(struct search *se, struct candidate *pop, struct candidate *child,
                               struct candidate *best)
{
    const struct nncw_legr_options *o = se->o;
    int n = se->pr->n_groups, pop_n = o->generations < POPULATION ? o->generations : POPULATION;
    int filled = 0;
    for (int gen = 0; gen < o->generations; gen++) {
        if (gen < pop_n)
            random_candidate(se, child, gen == pop_n - 1);
        else
            mutate(se, tournament(se, pop, filled), child, gen);
        NNCW_TRY(evaluate(se, child, gen));
        struct candidate *slot = &pop[filled < pop_n ? filled++ : 0];
        for (int k = 0; k < filled && gen >= pop_n; k++) /* the oldest member goes */
            if (pop[k].born < slot->born)
                slot = &pop[k];
        memcpy(slot->a, child->a, (size_t)n * sizeof *child->a);
        memcpy(slot->b, child->b, (size_t)n * sizeof *child->b);
        slot->reward = child->reward, slot->born = child->born;
        if (gen == 0 || child->reward > best->reward) {
            memcpy(best->a, child->a, (size_t)n * sizeof *child->a);
            memcpy(best->b, child->b, (size_t)n * sizeof *child->b);
            best->reward = child->reward, best->born = child->born;
        }
        if (o->progress && !o->progress(o->user, gen, o->generations, child->reward, best->reward))
            return NNCW_FAIL(NNCW_ERR_CANCELLED,
                             "LeGR: stopped after generation %d of %d (the "
                             "best coefficients so far are kept)",
                             gen + 1, o->generations);
    }
    return NNCW_OK;
}

static enum nncw_status check_options(const struct nncw_pruning *pr,
                                      const struct nncw_legr_options *o)
{
    if (!o->train || !o->val)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "LeGR: needs a training and a validation set");
    if (o->generations < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "LeGR: generations %d must be at least 1",
                         o->generations);
    if (!(o->max_pruning > 0.0f && o->max_pruning < 1.0f))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "LeGR: max_pruning %g is outside (0, 1)",
                         (double)o->max_pruning);
    if (pr->n_groups == 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "LeGR: filter_pruning %s has no prunable groups",
                         pr->cfg->path);
    return NNCW_OK;
}

static enum nncw_status legr_search(struct nncw_pruning *pr, const struct nncw_legr_options *o)
{
    NNCW_TRY(check_options(pr, o));
    int n = pr->n_groups;
    struct search se = {.pr = pr, .o = o};
    nncw_rng_seed(&se.rng, o->seed);
    struct nncw_graph *saved = NULL;
    NNCW_TRY(nncw_graph_clone(pr->g, &saved));
    se.saved = saved;
    /* one block of floats: a and b of every population member, the child and the best */
    size_t members = POPULATION + 2;
    float *block = nncw_calloc(members * 2 * (size_t)n + (size_t)n, sizeof(float));
    struct candidate pop[POPULATION + 2];
    enum nncw_status s = block ? NNCW_OK : NNCW_FAIL(NNCW_ERR_NOMEM, "LeGR: out of memory");
    for (size_t k = 0; s == NNCW_OK && k < members; k++)
        pop[k] = (struct candidate){block + 2 * k * (size_t)n, block + (2 * k + 1) * (size_t)n, 0,
                                    1 << 30};
    if (s == NNCW_OK) {
        se.spread = block + members * 2 * (size_t)n;
        s = measure_spread(&se);
    }
    struct candidate *best = &pop[POPULATION + 1];
    if (s == NNCW_OK)
        s = evolve(&se, pop, &pop[POPULATION], best);
    bool found = best->born != 1 << 30;
    /* the original weights back, with the best ranking found (if any) */
    enum nncw_status r = nncw_graph_assign(pr->g, saved);
    if (found)
        set_coeffs(pr, best->a, best->b);
    if (r == NNCW_OK)
        r = nncw_prune_apply_level(pr, pr->st.level);
    nncw_free(block);
    nncw_graph_free(saved);
    return s != NNCW_OK ? s : r;
}

/* ---- files ---- */

/* the text is built with snprintf and written at once (the engine never printf's) */
static enum nncw_status save_coeffs(const struct nncw_pruning *pr, const char *path)
{
    size_t size = 16, len = 0;
    for (int i = 0; i < pr->n_groups; i++)
        size +=
            strlen(nncw_node_get_name(nncw_graph_get_node(pr->g, pr->groups[i].members[0]))) + 64;
    char *text = nncw_malloc(size);
    if (!text)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "LeGR: out of memory");
    len += (size_t)snprintf(text, size, "{");
    for (int i = 0; i < pr->n_groups; i++) {
        const struct nncw_prune_group *gr = &pr->groups[i];
        len += (size_t)snprintf(text + len, size - len, "%s\n  \"%s\": [%.9g, %.9g]", i ? "," : "",
                                nncw_node_get_name(nncw_graph_get_node(pr->g, gr->members[0])),
                                (double)gr->a, (double)gr->b);
    }
    len += (size_t)snprintf(text + len, size - len, "\n}\n");
    FILE *f = fopen(path, "w");
    bool ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    nncw_free(text);
    if (!ok)
        return NNCW_FAIL(NNCW_ERR_IO, "LeGR: cannot write '%s'", path);
    return NNCW_OK;
}

static enum nncw_status load_coeffs(struct nncw_pruning *pr, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NNCW_FAIL(NNCW_ERR_IO, "LeGR: cannot read '%s'", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    int n = pr->n_groups;
    char *text = len >= 0 && len < (1L << 26) ? nncw_malloc((size_t)len + 1) : NULL;
    const char **names = nncw_malloc((size_t)(n ? n : 1) * sizeof *names);
    float *ab = nncw_malloc((size_t)(2 * n + 1) * sizeof *ab);
    enum nncw_status s = NNCW_OK;
    if (!text || !names || !ab)
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "LeGR: cannot read '%s' (out of memory or too large)", path);
    else if (fread(text, 1, (size_t)len, f) != (size_t)len)
        s = NNCW_FAIL(NNCW_ERR_IO, "LeGR: cannot read '%s'", path);
    fclose(f);
    if (s == NNCW_OK) {
        text[len] = '\0';
        for (int i = 0; i < n; i++)
            names[i] = nncw_node_get_name(nncw_graph_get_node(pr->g, pr->groups[i].members[0]));
        s = nncw_pruning_coeffs_parse(text, path, n, names, ab, ab + n);
    }
    if (s == NNCW_OK)
        set_coeffs(pr, ab, ab + n);
    nncw_free(text);
    nncw_free(names);
    nncw_free(ab);
    return s;
}

enum nncw_status nncw_legr_from_config(struct nncw_pruning *pr,
                                       const struct nncw_compression_init *init)
{
    const struct nncw_pruning_config *pc = pr->cfg;
    if (pc->load_coeffs_path)
        NNCW_TRY(load_coeffs(pr, pc->load_coeffs_path));
    else if (pc->learned_ranking && init->data && pr->n_groups > 0) {
        /* NNCF runs the search at build time: here on the initialisation data, the last 10 %
         * held out for validation */
        int64_t count = nncw_dataset_count_samples(init->data), val_n = count / 10;
        if (val_n < 1)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "LeGR: %lld initialisation samples are too few to hold out a "
                             "validation part",
                             (long long)count);
        struct nncw_dataset *tr = NULL, *val = NULL;
        enum nncw_status s = nncw_dataset_subset(init->data, 0, count - val_n, &tr);
        if (s == NNCW_OK)
            s = nncw_dataset_subset(init->data, count - val_n, val_n, &val);
        struct nncw_legr_options o = nncw_legr_defaults();
        o.train = tr, o.val = val;
        o.generations = pc->legr_generations, o.train_steps = pc->legr_train_steps;
        o.max_pruning = pc->legr_max_pruning, o.seed = pc->legr_seed;
        o.batch_size = init->batch_size > 0 ? init->batch_size : 64;
        if (s == NNCW_OK)
            s = legr_search(pr, &o);
        nncw_dataset_free(tr);
        nncw_dataset_free(val);
        NNCW_TRY(s);
    }
    return pc->save_coeffs_path && pr->has_coeffs ? save_coeffs(pr, pc->save_coeffs_path) : NNCW_OK;
}

/* ---- the public calls ---- */

struct nncw_legr_options nncw_legr_defaults(void)
{
    return (struct nncw_legr_options){
        .generations = 400, .train_steps = 200, .batch_size = 64, .max_pruning = 0.8f, .seed = 42};
}

static enum nncw_status find(const struct nncw_compression *c, struct nncw_pruning **out)
{
    const struct nncw_compression_algo *a = nncw_compression_find_algo(c, "filter_pruning");
    if (!a)
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "compression: there is no filter_pruning algorithm");
    *out = a->self;
    return NNCW_OK;
}

enum nncw_status nncw_compression_legr_search(struct nncw_compression *c,
                                              const struct nncw_legr_options *o)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find(c, &pr));
    return legr_search(pr, o);
}

enum nncw_status nncw_compression_save_ranking_coeffs(const struct nncw_compression *c,
                                                      const char *path)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find(c, &pr));
    if (!pr->has_coeffs)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "LeGR: no ranking coefficients yet (run the search or load a file)");
    return save_coeffs(pr, path);
}

enum nncw_status nncw_compression_load_ranking_coeffs(struct nncw_compression *c, const char *path)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find(c, &pr));
    NNCW_TRY(load_coeffs(pr, path));
    return nncw_prune_apply_level(pr, pr->st.level);
}

enum nncw_status nncw_compression_get_ranking_coeffs(const struct nncw_compression *c, int i,
                                                     float *a, float *b)
{
    struct nncw_pruning *pr = NULL;
    NNCW_TRY(find(c, &pr));
    if (i < 0 || i >= pr->n_groups)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "filter pruning: no group %d (there are %d)", i,
                         pr->n_groups);
    *a = pr->groups[i].a;
    *b = pr->groups[i].b;
    return NNCW_OK;
}
