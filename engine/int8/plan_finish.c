/*
** Finishing a plan: steps run in the topological order of the last node they cover (a folded
** chain runs where its last op stood, so float buffers the executor planned by lifetime are
** written when the float model would write them); a backward pass keeps the steps whose output
** someone reads and records which values need codes and which need floats (a weight
** quantizer folded into an integer Conv is dropped here); u8 buffers get a border of
** zero-point codes as wide as the widest padding of the convolutions reading them; then the
** integer GEMMs are bound to their buffers.
*/
#include <string.h>

#include "core/alloc.h"
#include "int8/plan_internal.h"

/* stable insertion sort by pos: plans have hundreds of steps, and nodes keep their order */
static void order_steps(struct nncw_int8_plan *p)
{
    for (int i = 1; i < p->n_steps; i++) {
        struct i8_step s = p->steps[i];
        int j = i;
        for (; j > 0 && p->steps[j - 1].pos > s.pos; j--)
            p->steps[j] = p->steps[j - 1];
        p->steps[j] = s;
    }
}

static void need_inputs(struct nncw_int8_plan *p, const struct i8_step *s)
{
    if (s->kind == I8_STEP_FLOAT) {
        struct nncw_node *n = nncw_graph_get_node(p->g, s->nodes[0]);
        for (int k = 0; k < nncw_node_count_inputs(n); k++) {
            int v = nncw_node_get_input(n, k);
            if (v >= 0 && nncw_graph_get_value_kind(p->g, v) != NNCW_VALUE_PARAM)
                p->val[v].need_f32 = true;
        }
        return;
    }
    if (s->kind == I8_STEP_QUANTIZE && !s->lut) {
        p->val[s->in[0]].need_f32 = true;
        return;
    }
    for (int k = 0; k < 2; k++)
        if (s->in[k] >= 0)
            p->val[s->in[k]].need_u8 = true;
}

static bool step_needed(const struct nncw_int8_plan *p, const struct i8_step *s)
{
    if (s->kind != I8_STEP_FLOAT)
        return p->val[s->out].need_u8 || p->val[s->out].need_f32;
    struct nncw_node *n = nncw_graph_get_node(p->g, s->nodes[0]);
    for (int o = 0; o < nncw_node_count_outputs(n); o++)
        if (p->val[nncw_node_get_output(n, o)].need_f32)
            return true;
    return false;
}

static void mark_live(struct nncw_int8_plan *p)
{
    for (int v = 0; v < p->n_values; v++)
        p->val[v].need_f32 = p->is_output[v];
    for (int i = p->n_steps - 1; i >= 0; i--) {
        struct i8_step *s = &p->steps[i];
        s->live = step_needed(p, s);
        if (s->live)
            need_inputs(p, s);
    }
}

static int root_of(const struct nncw_int8_plan *p, int v)
{
    return p->val[v].a.view_of >= 0 ? p->val[v].a.view_of : v;
}

/* views point at the buffer they share; convolutions widen their input's border */
static void size_buffers(struct nncw_int8_plan *p)
{
    for (int i = 0; i < p->n_steps; i++) {
        const struct i8_step *s = &p->steps[i];
        if (!s->live)
            continue;
        if (s->kind == I8_STEP_VIEW) {
            int root = root_of(p, s->in[0]);
            p->val[s->out].a.view_of = root;
            p->val[root].need_u8 = true;
        } else if (s->kind == I8_STEP_GEMM) {
            int b = nncw_i8_gemm_border(s), root = root_of(p, s->in[0]);
            if (b > p->val[root].a.border)
                p->val[root].a.border = b;
        }
    }
}

static enum nncw_status alloc_buffers(struct nncw_int8_plan *p)
{
    for (int v = 0; v < p->n_values; v++) {
        struct i8_value *val = &p->val[v];
        if (!val->has_u8 || val->a.view_of >= 0 || !(val->need_u8 || val->need_f32))
            continue;
        size_t bytes = (size_t)(val->a.n * i8_act_img(&val->a));
        val->a.data = nncw_malloc(bytes ? bytes : 1);
        if (!val->a.data)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: cannot allocate %zu bytes for '%s'", bytes,
                             nncw_graph_get_value_name(p->g, v));
        /* the border stands for zero padding: the level of 0 */
        memset(val->a.data, val->a.zp, bytes);
    }
    for (int i = 0; i < p->n_steps; i++) {
        const struct i8_step *s = &p->steps[i];
        if (s->live && s->kind == I8_STEP_VIEW) {
            int root = p->val[s->out].a.view_of;
            p->val[s->out].a = p->val[root].a;
            p->val[s->out].a.view_of = root;
        }
    }
    return NNCW_OK;
}

enum nncw_status nncw_i8_plan_finish(struct nncw_int8_plan *p)
{
    order_steps(p);
    mark_live(p);
    nncw_i8_plan_fuse_residuals(p);
    size_buffers(p);
    NNCW_TRY(alloc_buffers(p));
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].live && p->steps[i].kind == I8_STEP_GEMM)
            NNCW_TRY(nncw_i8_gemm_bind(p, &p->steps[i]));
    return NNCW_OK;
}
