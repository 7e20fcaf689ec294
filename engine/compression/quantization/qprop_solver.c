/*
** NNCF's quantizer propagation (nncf/common/quantization/quantizer_propagation/solver.py, v2.0
** semantics with the MERGE_ALL_IN_ONE strategy), written afresh for nncw's insertion-point
** graph:
**  - every input pre-hook of a quantizable op gets a propagating quantizer (PQ) carrying the
**    configurations the op allows; ops with unified scales link their PQs;
**  - PQs are popped from a FIFO queue and moved one step up: from a pre-hook to the producer's
**    post-hook, from the post-hook of an agnostic op to its input pre-hooks (one clone per
**    input; clones through an op with unified scales share one scale, per-tensor only);
**  - a PQ stops before non-quantizable and quantizable ops, integer edges, embeddings, ops
**    that move channels when it is per-channel only, and branching post-hooks where a branch
**    leads to an FP32 op or to a graph output;
**  - at a branching post-hook a PQ waits until every PQ below it has arrived, then they merge
**    into one PQ carrying the configurations common to all, ordered by summed position, ties
**    broken by more bits, per-tensor, symmetric; without a common configuration they stay.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compression/quantization/qsetup_internal.h"
#include "compression/quantization/scope_match.h"
#include "core/alloc.h"
#include "core/common.h"

enum pq_state { PQ_ACTIVE, PQ_WAITING, PQ_FINISHED };

struct pq {
    bool alive, queued;
    enum pq_state state;
    int group, port; /* port -1: the group's post-hook */
    int n_cfg;
    struct nncw_qconfig *cfg;
    int ugroup;
    int wait;                  /* the branching group it waits on */
    struct nncw_qp_list touch; /* groups whose aff lists hold it */
};

struct solver {
    struct nncw_qp_graph *qg;
    const struct nncw_quant_config *cfg;
    int n, cap;
    struct pq *pq;
    int *queue; /* ring buffer */
    int qhead, qlen, qcap;
    int *pre_holder;  /* per flat port: PQ at that pre-hook, -1 */
    int *post_holder; /* per group: PQ at its post-hook, -1 */
    int next_ugroup;
    int seeded; /* PQs 0 .. seeded-1 are the initial ones */
};

static enum nncw_status nomem(void)
{
    return NNCW_FAIL(NNCW_ERR_NOMEM, "quantizer setup: out of memory");
}

/* ---- bookkeeping ---- */

static int *slot(struct solver *s, int group, int port)
{
    return port < 0 ? &s->post_holder[group]
                    : &s->pre_holder[s->qg->groups[group].port_base + port];
}

static int new_pq(struct solver *s, int group, int port, const struct nncw_qconfig *cfg, int n)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        struct pq *p = nncw_realloc(s->pq, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        s->pq = p;
        s->cap = cap;
    }
    struct nncw_qconfig *copy = nncw_malloc((size_t)(n ? n : 1) * sizeof *copy);
    if (!copy)
        return -1;
    memcpy(copy, cfg, (size_t)n * sizeof *copy);
    int id = s->n++;
    s->pq[id] = (struct pq){.alive = true,
                            .group = group,
                            .port = port,
                            .n_cfg = n,
                            .cfg = copy,
                            .ugroup = -1,
                            .wait = -1};
    *slot(s, group, port) = id;
    return id;
}

static bool touch(struct solver *s, int id, int group)
{
    return nncw_qp_list_add(&s->pq[id].touch, group) == 0 &&
           nncw_qp_list_add(&s->qg->groups[group].aff, id) == 0;
}

static bool enqueue(struct solver *s, int id)
{
    if (s->pq[id].queued)
        return true;
    if (s->qlen == s->qcap) {
        int cap = s->qcap ? 2 * s->qcap : 64;
        int *q = nncw_malloc((size_t)cap * sizeof *q);
        if (!q)
            return false;
        for (int i = 0; i < s->qlen; i++)
            q[i] = s->queue[(s->qhead + i) % s->qcap];
        nncw_free(s->queue);
        s->queue = q;
        s->qhead = 0;
        s->qcap = cap;
    }
    s->queue[(s->qhead + s->qlen++) % s->qcap] = id;
    s->pq[id].queued = true;
    return true;
}

static int dequeue(struct solver *s)
{
    int id = s->queue[s->qhead];
    s->qhead = (s->qhead + 1) % s->qcap;
    s->qlen--;
    return id;
}

static void finish(struct solver *s, int id)
{
    s->pq[id].state = PQ_FINISHED;
    s->pq[id].queued = false; /* a stale queue entry is skipped */
}

static void kill(struct solver *s, int id)
{
    struct pq *p = &s->pq[id];
    for (int i = 0; i < p->touch.n; i++)
        nncw_qp_list_remove(&s->qg->groups[p->touch.v[i]].aff, id);
    if (*slot(s, p->group, p->port) == id)
        *slot(s, p->group, p->port) = -1;
    p->alive = false;
    p->queued = false;
}

static void move(struct solver *s, int id, int group, int port)
{
    struct pq *p = &s->pq[id];
    if (*slot(s, p->group, p->port) == id)
        *slot(s, p->group, p->port) = -1;
    p->group = group;
    p->port = port;
    *slot(s, group, port) = id;
}

static void relabel_ugroup(struct solver *s, int from, int to)
{
    if (from < 0 || from == to)
        return;
    for (int i = 0; i < s->n; i++)
        if (s->pq[i].alive && s->pq[i].ugroup == from)
            s->pq[i].ugroup = to;
}

/* q takes over what p affects and p's unified group; p disappears */
static bool absorb(struct solver *s, int q, int p)
{
    for (int i = 0; i < s->pq[p].touch.n; i++)
        if (!touch(s, q, s->pq[p].touch.v[i]))
            return false;
    if (s->pq[q].ugroup < 0)
        s->pq[q].ugroup = s->pq[p].ugroup;
    else
        relabel_ugroup(s, s->pq[p].ugroup, s->pq[q].ugroup);
    kill(s, p);
    return true;
}

static bool same_configs(const struct pq *a, const struct pq *b)
{
    if (a->n_cfg != b->n_cfg)
        return false;
    for (int i = 0; i < a->n_cfg; i++)
        if (!nncw_qconfig_equal(&a->cfg[i], &b->cfg[i]))
            return false;
    return true;
}

/* keeps only per-tensor configurations; returns how many remain */
static int keep_per_tensor(struct nncw_qconfig *cfg, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!cfg[i].per_channel)
            cfg[m++] = cfg[i];
    return m;
}

static bool has_per_tensor(const struct pq *p)
{
    for (int i = 0; i < p->n_cfg; i++)
        if (!p->cfg[i].per_channel)
            return true;
    return false;
}

/* ---- what lies below a branching post-hook ---- */

/* PQs immediately dominated by group b's post-hook: the first occupied hooks on every path
 * down from it */
static bool collect_dominated(struct solver *s, int b, bool *seen, struct nncw_qp_list *out)
{
    const struct nncw_qp_group *gr = &s->qg->groups[b];
    for (int e = 0; e < gr->n_out; e++) {
        int c = gr->out[e].group;
        int at = *slot(s, c, gr->out[e].port);
        if (at >= 0) {
            if (nncw_qp_list_add(out, at) != 0)
                return false;
            continue;
        }
        if (seen[c])
            continue;
        seen[c] = true;
        at = *slot(s, c, -1);
        if (at >= 0) {
            if (nncw_qp_list_add(out, at) != 0)
                return false;
        } else if (!collect_dominated(s, c, seen, out)) {
            return false;
        }
    }
    return true;
}

static bool dominated_pqs(struct solver *s, int b, struct nncw_qp_list *out)
{
    bool *seen = nncw_calloc((size_t)s->qg->n_groups, sizeof *seen);
    bool ok = seen && collect_dominated(s, b, seen, out);
    nncw_free(seen);
    return ok;
}

/* the first ops below b's post-hook that are not quantization-agnostic */
static bool collect_dominated_ops(struct solver *s, int b, bool *seen, struct nncw_qp_list *out)
{
    const struct nncw_qp_group *gr = &s->qg->groups[b];
    for (int e = 0; e < gr->n_out; e++) {
        int c = gr->out[e].group;
        if (seen[c])
            continue;
        seen[c] = true;
        const struct nncw_qp_group *gc = &s->qg->groups[c];
        bool agnostic = gc->kind == NNCW_QP_OP && gc->trait == NNCW_QTRAIT_AGNOSTIC;
        if (!(agnostic ? collect_dominated_ops(s, c, seen, out) : nncw_qp_list_add(out, c) == 0))
            return false;
    }
    return true;
}

enum transition { T_MOVE, T_STAY, T_WAIT, T_ERROR };

/* NNCF's check_branching_transition for PQ id rising through b's post-hook */
static enum transition check_branching(struct solver *s, int id, int b)
{
    if (s->qg->dominates_output[b] && !s->cfg->quantize_outputs)
        return T_STAY;
    struct nncw_qp_list ops = {0}, pqs = {0}, below = {0};
    bool *seen = nncw_calloc((size_t)s->qg->n_groups, sizeof *seen);
    enum transition t = T_MOVE;
    if (!seen || !collect_dominated_ops(s, b, seen, &ops))
        t = T_ERROR;
    for (int i = 0; i < ops.n && t == T_MOVE; i++) {
        const struct nncw_qp_group *gc = &s->qg->groups[ops.v[i]];
        if (gc->aff.n) {
            for (int k = 0; k < gc->aff.n && t == T_MOVE; k++)
                if (nncw_qp_list_add(&pqs, gc->aff.v[k]) != 0)
                    t = T_ERROR;
            continue;
        }
        if (gc->kind != NNCW_QP_OP || gc->trait != NNCW_QTRAIT_CONCAT) {
            t = T_STAY; /* the branch runs in FP32 */
            break;
        }
        /* a concat nothing passed yet: only PQs still on their way up can quantize it */
        below.n = 0;
        if (!dominated_pqs(s, ops.v[i], &below)) {
            t = T_ERROR;
            break;
        }
        int active = 0;
        for (int k = 0; k < below.n; k++)
            if (s->pq[below.v[k]].queued) {
                active++;
                if (nncw_qp_list_add(&pqs, below.v[k]) != 0)
                    t = T_ERROR;
            }
        if (!active && t == T_MOVE)
            t = T_STAY;
    }
    nncw_qp_list_remove(&pqs, id);
    if (t == T_MOVE && pqs.n)
        t = T_WAIT;
    nncw_free(seen);
    nncw_free(ops.v);
    nncw_free(pqs.v);
    nncw_free(below.v);
    return t;
}

/* ---- merging at a branching point ---- */

struct ranked {
    struct nncw_qconfig c;
    int priority;
};

static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    if (a->priority != b->priority)
        return a->priority - b->priority;
    if (a->c.bits != b->c.bits) /* more bits, per-tensor, symmetric first */
        return b->c.bits - a->c.bits;
    if (a->c.per_channel != b->c.per_channel)
        return (int)a->c.per_channel - (int)b->c.per_channel;
    if (a->c.mode != b->c.mode)
        return (int)a->c.mode - (int)b->c.mode;
    if (a->c.signedness != b->c.signedness)
        return a->c.signedness - b->c.signedness;
    return (int)a->c.logarithm_scale - (int)b->c.logarithm_scale;
}

/* the configs common to all of w[n], NNCF's priority order; returns how many (0: none) */
static int merge_configs(struct solver *s, const int *w, int n, struct ranked **out)
{
    int cap = 0;
    for (int i = 0; i < n; i++)
        cap += s->pq[w[i]].n_cfg;
    struct ranked *r = nncw_malloc((size_t)(cap ? cap : 1) * sizeof *r);
    if (!r)
        return -1;
    int m = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < s->pq[w[i]].n_cfg; k++) {
            const struct nncw_qconfig *c = &s->pq[w[i]].cfg[k];
            bool dup = false, everywhere = true;
            for (int j = 0; j < m && !dup; j++)
                dup = nncw_qconfig_equal(&r[j].c, c);
            int priority = 0;
            for (int j = 0; j < n && everywhere; j++) {
                int at = nncw_qconfig_find(s->pq[w[j]].cfg, s->pq[w[j]].n_cfg, c);
                everywhere = at >= 0;
                priority += at;
            }
            if (!dup && everywhere)
                r[m++] = (struct ranked){*c, priority};
        }
    qsort(r, (size_t)m, sizeof *r, cmp_ranked);
    *out = r;
    return m;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static enum nncw_status merge_waiting(struct solver *s, int b, const int *w, int n)
{
    for (int i = 0; i < n; i++) {
        enum transition t = check_branching(s, w[i], b);
        if (t == T_ERROR)
            return nomem();
        if (t == T_STAY) { /* a branch became FP32 while they waited */
            for (int k = 0; k < n; k++)
                finish(s, w[k]);
            return NNCW_OK;
        }
    }
    struct ranked *r;
    int m = merge_configs(s, w, n, &r);
    if (m < 0)
        return nomem();
    bool unified = false;
    for (int i = 0; i < n; i++)
        unified = unified || s->pq[w[i]].ugroup >= 0;
    struct nncw_qconfig *list = nncw_malloc((size_t)(m ? m : 1) * sizeof *list);
    if (!list) {
        nncw_free(r);
        return nomem();
    }
    for (int i = 0; i < m; i++)
        list[i] = r[i].c;
    nncw_free(r);
    if (unified)
        m = keep_per_tensor(list, m);
    if (!m) { /* nothing in common: each stays on its branch */
        nncw_free(list);
        for (int k = 0; k < n; k++)
            finish(s, w[k]);
        return NNCW_OK;
    }
    int id = new_pq(s, b, -1, list, m);
    nncw_free(list);
    if (id < 0)
        return nomem();
    for (int i = 0; i < n; i++)
        if (!absorb(s, id, w[i]))
            return nomem();
    *slot(s, b, -1) = id;
    return enqueue(s, id) ? NNCW_OK : nomem();
}

/* a waiting PQ came round: merge when every PQ below the branching point waits there */
static enum nncw_status step_waiting(struct solver *s, int id, bool *merged)
{
    int b = s->pq[id].wait;
    struct nncw_qp_list dom = {0}, active = {0}, waiting = {0};
    enum nncw_status st = dominated_pqs(s, b, &dom) ? NNCW_OK : nomem();
    bool settled = false; /* a quantizer below stopped for good: its branch must not get a
                           * second one above, so the waiting ones stay where they are */
    for (int i = 0; i < dom.n && st == NNCW_OK; i++) {
        bool active_here = s->pq[dom.v[i]].queued || dom.v[i] == id;
        settled = settled || !active_here;
        if (active_here && nncw_qp_list_add(&active, dom.v[i]))
            st = nomem();
    }
    for (int i = 0; i < s->n && st == NNCW_OK; i++)
        if (s->pq[i].alive && s->pq[i].state == PQ_WAITING && s->pq[i].wait == b &&
            nncw_qp_list_add(&waiting, i))
            st = nomem();
    *merged = false;
    if (st == NNCW_OK) {
        qsort(active.v, (size_t)active.n, sizeof(int), cmp_int);
        qsort(waiting.v, (size_t)waiting.n, sizeof(int), cmp_int);
        bool equal =
            active.n == waiting.n && !memcmp(active.v, waiting.v, (size_t)active.n * sizeof(int));
        if (settled) {
            *merged = true;
            for (int i = 0; i < waiting.n; i++)
                finish(s, waiting.v[i]);
        } else if (equal) {
            *merged = true;
            st = merge_waiting(s, b, waiting.v, waiting.n);
        } else if (!enqueue(s, id)) {
            st = nomem();
        }
    }
    nncw_free(dom.v);
    nncw_free(active.v);
    nncw_free(waiting.v);
    return st;
}

/* ---- one step up ---- */

/* from a pre-hook to the producer's post-hook */
static enum nncw_status step_pre(struct solver *s, int id)
{
    const struct nncw_qp_group *gr = &s->qg->groups[s->pq[id].group];
    int v = gr->port_value[s->pq[id].port];
    int h = s->qg->producer[v];
    if (h < 0 || s->qg->is_int[v]) {
        finish(s, id);
        return NNCW_OK;
    }
    int there = *slot(s, h, -1);
    if (there >= 0) { /* already quantized above: join it if it is the same quantizer */
        if (same_configs(&s->pq[there], &s->pq[id]))
            return absorb(s, there, id) ? NNCW_OK : nomem();
        finish(s, id);
        return NNCW_OK;
    }
    if (s->qg->groups[h].n_out > 1) {
        enum transition t = check_branching(s, id, h);
        if (t == T_ERROR)
            return nomem();
        if (t == T_STAY) {
            finish(s, id);
            return NNCW_OK;
        }
        if (t == T_WAIT) {
            s->pq[id].state = PQ_WAITING;
            s->pq[id].wait = h;
            return enqueue(s, id) ? NNCW_OK : nomem();
        }
    }
    move(s, id, h, -1);
    return enqueue(s, id) ? NNCW_OK : nomem();
}

/* from an agnostic op's post-hook to its input pre-hooks, cloning per input */
static enum nncw_status spread(struct solver *s, int id, const int *ports, int np, int *ids)
{
    int h = s->pq[id].group;
    ids[0] = id;
    for (int i = 1; i < np; i++) {
        int c = new_pq(s, h, -1, s->pq[id].cfg, s->pq[id].n_cfg);
        if (c < 0)
            return nomem();
        *slot(s, h, -1) = id; /* new_pq took the slot; the original still holds it */
        s->pq[c].ugroup = s->pq[id].ugroup;
        for (int k = 0; k < s->pq[id].touch.n; k++)
            if (!touch(s, c, s->pq[id].touch.v[k]))
                return nomem();
        ids[i] = c;
    }
    for (int i = 0; i < np; i++) {
        move(s, ids[i], h, ports[i]);
        if (!enqueue(s, ids[i]))
            return nomem();
    }
    return NNCW_OK;
}

static enum nncw_status step_post(struct solver *s, int id)
{
    int h = s->pq[id].group;
    const struct nncw_qp_group *gr = &s->qg->groups[h];
    bool passable = gr->kind == NNCW_QP_OP &&
                    (gr->trait == NNCW_QTRAIT_AGNOSTIC || gr->trait == NNCW_QTRAIT_CONCAT);
    int *ports = nncw_malloc((size_t)(gr->n_ports ? 2 * gr->n_ports : 1) * sizeof *ports);
    if (!ports)
        return nomem();
    int np = 0;
    for (int p = 0; passable && p < gr->n_ports; p++) {
        int v = gr->port_value[p];
        if (v < 0 || s->qg->is_int[v])
            continue;
        ports[np++] = p;
        if (*slot(s, h, p) >= 0)
            passable = false; /* another quantizer already sits below: stay */
    }
    bool unify = gr->unified && np > 1;
    if (passable && np && (gr->moves_channels || unify))
        passable = has_per_tensor(&s->pq[id]);
    enum nncw_status st = NNCW_OK;
    if (!passable || !np) {
        finish(s, id);
    } else {
        struct pq *p = &s->pq[id];
        if (gr->moves_channels || unify)
            p->n_cfg = keep_per_tensor(p->cfg, p->n_cfg);
        if (unify && p->ugroup < 0)
            p->ugroup = s->next_ugroup++;
        st = touch(s, id, h) ? spread(s, id, ports, np, ports + gr->n_ports) : nomem();
    }
    nncw_free(ports);
    return st;
}

/* ---- seeding ---- */

static enum nncw_status seed(struct solver *s)
{
    struct nncw_qp_graph *qg = s->qg;
    for (int gi = 0; gi < qg->n_groups; gi++) {
        const struct nncw_qp_group *gr = &qg->groups[gi];
        bool quantizable = gr->kind == NNCW_QP_OP && gr->trait == NNCW_QTRAIT_INPUTS_QUANTIZABLE;
        bool output = gr->kind == NNCW_QP_OUTPUT && s->cfg->quantize_outputs;
        if (!quantizable && !output)
            continue;
        const struct nncw_qconfig *cfg = output ? &qg->default_act : gr->cfg;
        int n_cfg = output ? 1 : gr->n_cfg, first = s->n, ugroup = -1;
        for (int p = 0; p < gr->n_ports; p++) {
            int v = gr->port_value[p];
            if (v < 0 || qg->is_int[v])
                continue; /* parameters and integer inputs get no activation quantizer */
            int id = new_pq(s, gi, p, cfg, n_cfg);
            if (id < 0 || !touch(s, id, gi) || !enqueue(s, id))
                return nomem();
        }
        if (gr->unified && s->n - first > 1) {
            ugroup = s->next_ugroup++;
            for (int id = first; id < s->n; id++)
                s->pq[id].ugroup = ugroup;
        }
    }
    s->seeded = s->n;
    return NNCW_OK;
}

/* activations.unified_scale_ops: the input quantizers of each listed group of ops share one
 * scale (NNCF links the propagating quantizers before they move) */
static enum nncw_status link_unified_ops(struct solver *s)
{
    const struct nncw_quant_config *cfg = s->cfg;
    for (int u = 0; u < cfg->n_unified; u++) {
        const struct nncw_scope_list *l = &cfg->unified_scale_ops[u];
        int gid = s->next_ugroup++;
        for (int k = 0; k < l->n; k++) {
            struct nncw_scope_list one = {1, &l->patterns[k], NULL, false};
            int hits = 0;
            for (int id = 0; id < s->seeded; id++) {
                struct pq *p = &s->pq[id];
                if (!nncw_scope_list_matches(&one, s->qg->groups[p->group].name))
                    continue;
                hits++;
                p->n_cfg = keep_per_tensor(p->cfg, p->n_cfg);
                if (!p->n_cfg)
                    return NNCW_FAIL(NNCW_ERR_PARSE,
                                     "config '%s': %s[%d]: op '%s' allows only per-channel "
                                     "input quantizers, which cannot share a scale",
                                     cfg->source, l->path, k, s->qg->groups[p->group].name);
                relabel_ugroup(s, p->ugroup, gid);
                p->ugroup = gid;
            }
            if (!hits)
                return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                                 "config '%s': %s[%d]: '%s' selects no op with quantized inputs",
                                 cfg->source, l->path, k, l->patterns[k]);
        }
    }
    return NNCW_OK;
}

/* ---- the loop ---- */

static enum nncw_status run(struct solver *s)
{
    int stall = 0;
    while (s->qlen) {
        int id = dequeue(s);
        if (!s->pq[id].alive || !s->pq[id].queued)
            continue;
        s->pq[id].queued = false;
        enum nncw_status st;
        if (s->pq[id].state == PQ_WAITING) {
            bool merged;
            NNCW_TRY(step_waiting(s, id, &merged));
            stall = merged ? 0 : stall + 1;
            if (stall > s->qlen + 1) { /* all waiting, none complete: they stay where they are */
                for (int i = 0; i < s->n; i++)
                    if (s->pq[i].alive && s->pq[i].state == PQ_WAITING)
                        finish(s, i);
                stall = 0;
            }
            continue;
        }
        stall = 0;
        st = s->pq[id].port >= 0 ? step_pre(s, id) : step_post(s, id);
        NNCW_TRY(st);
    }
    return NNCW_OK;
}

static enum nncw_status collect(struct solver *s, struct nncw_qp_result **out, int *n_out)
{
    struct nncw_qp_result *r = nncw_calloc((size_t)(s->n ? s->n : 1), sizeof *r);
    if (!r)
        return nomem();
    int m = 0;
    for (int i = 0; i < s->n; i++) {
        struct pq *p = &s->pq[i];
        if (!p->alive)
            continue;
        const struct nncw_qp_group *gr = &s->qg->groups[p->group];
        if (gr->kind == NNCW_QP_INPUT) {
            int v = nncw_graph_get_input(s->qg->g, gr->first);
            if (!s->cfg->quantize_inputs || s->qg->is_int[v])
                continue;
        }
        r[m] = (struct nncw_qp_result){p->group, p->port, p->n_cfg, p->cfg, p->ugroup};
        p->cfg = NULL; /* moved */
        m++;
    }
    *out = r;
    *n_out = m;
    return NNCW_OK;
}

void nncw_qp_results_free(struct nncw_qp_result *r, int n)
{
    for (int i = 0; r && i < n; i++)
        nncw_free(r[i].cfg);
    nncw_free(r);
}

enum nncw_status nncw_qp_solve(struct nncw_qp_graph *qg, const struct nncw_quant_config *cfg,
                               struct nncw_qp_result **out, int *n_out)
{
    struct solver s = {.qg = qg, .cfg = cfg};
    s.pre_holder = nncw_malloc((size_t)(qg->n_ports ? qg->n_ports : 1) * sizeof(int));
    s.post_holder = nncw_malloc((size_t)(qg->n_groups ? qg->n_groups : 1) * sizeof(int));
    enum nncw_status st = s.pre_holder && s.post_holder ? NNCW_OK : nomem();
    for (int i = 0; st == NNCW_OK && i < qg->n_ports; i++)
        s.pre_holder[i] = -1;
    for (int i = 0; st == NNCW_OK && i < qg->n_groups; i++)
        s.post_holder[i] = -1;
    if (st == NNCW_OK)
        st = seed(&s);
    if (st == NNCW_OK)
        st = link_unified_ops(&s);
    if (st == NNCW_OK)
        st = run(&s);
    if (st == NNCW_OK)
        st = collect(&s, out, n_out);
    for (int i = 0; i < s.n; i++) {
        nncw_free(s.pq[i].cfg);
        nncw_free(s.pq[i].touch.v);
    }
    for (int i = 0; i < qg->n_groups; i++) /* the aff lists are solver state */
        qg->groups[i].aff.n = 0;
    nncw_free(s.pq);
    nncw_free(s.queue);
    nncw_free(s.pre_holder);
    nncw_free(s.post_holder);
    return st;
}
