/*
** Running a plan: inputs are copied into the executor's input buffers, the live steps run in
** order (float ops through their op table entry with the executor's context, integer steps
** through their kernels on the engine's worker threads), and the outputs are copied out. A
** batch smaller than the plan's runs the whole planned batch (samples are independent in
** inference) and returns its first rows.
*/
#include <string.h>

#include "graph/exec_internal.h"
#include "int8/plan_internal.h"
#include "ops/parallel.h"

/* ---- integer steps on the worker threads ---- */

/*
** Integer steps work image by image, so a run of them between two float ops is split by
** images: each thread takes its share of the batch through the steps with no barrier between
** them (a float op, which works on the whole batch, ends the run). A batch smaller than the
** thread count splits each GEMM by output pixels instead.
**
** Early layers have large activations and small weights: a thread's images go through them a
** few at a time (a group), so that one step's output is still in L2 when the next step reads
** it. Late layers have small activations and large weights: regrouping would read the weights
** once per group, so those steps take the thread's whole share at once. A run is cut into
** phases of either kind; phases are separate jobs.
*/
struct phase {
    struct nncw_int8_plan *p;
    int first, last; /* steps [first, last) */
    int64_t group;   /* images per group */
};

/* the activation bytes one image moves through step s (codes in and out) */
static int64_t image_bytes(const struct nncw_int8_plan *p, const struct i8_step *s)
{
    int64_t b = i8_act_img(&p->val[s->out].a);
    return p->val[s->in[0]].has_u8 ? b + i8_act_img(&p->val[s->in[0]].a) : b;
}

/* whether images should go through step s in groups: its activations outweigh its weights.
 * Once a run stops grouping it does not start again (activations shrink with depth in the
 * networks this is for), so a run has at most two phases. */
static bool grouped(const struct nncw_int8_plan *p, const struct i8_step *s, bool prev)
{
    if (s->kind != I8_STEP_GEMM || !prev)
        return prev;
    return 4 * image_bytes(p, s) >= nncw_i8_gemm_weight_bytes(s);
}

static int64_t group_size(const struct nncw_int8_plan *p, int first, int last)
{
    int64_t per_image = 1;
    for (int k = first; k < last; k++)
        if (p->steps[k].live && image_bytes(p, &p->steps[k]) > per_image)
            per_image = image_bytes(p, &p->steps[k]);
    int64_t g = p->group_bytes / per_image;
    return g < 1 ? 1 : g;
}

static void phase_part(void *arg, int i, int n)
{
    const struct phase *ph = arg;
    int64_t images = ph->p->opt.batch;
    int64_t i0 = images * i / n, i1 = images * (i + 1) / n;
    for (int64_t g0 = i0; g0 < i1; g0 += ph->group) {
        int64_t g1 = g0 + ph->group < i1 ? g0 + ph->group : i1;
        for (int k = ph->first; k < ph->last; k++)
            if (ph->p->steps[k].live)
                nncw_i8_step_run_images(ph->p, &ph->p->steps[k], g0, g1);
    }
}

struct pixels {
    struct nncw_int8_plan *p;
    const struct i8_step *s;
};

static void pixels_part(void *arg, int i, int n)
{
    const struct pixels *px = arg;
    int64_t total = nncw_i8_gemm_pixels(px->s);
    nncw_i8_gemm_run_pixels(px->p, px->s, total * i / n, total * (i + 1) / n);
}

static int thread_count(const struct nncw_int8_plan *p, double work)
{
    int n = nncw_parallel_width(work);
    return p->threads > 0 && n > p->threads ? p->threads : n;
}

/* one image (or fewer than the threads): each GEMM split by pixels */
static void run_by_pixels(struct nncw_int8_plan *p, int first, int last)
{
    for (int k = first; k < last; k++) {
        const struct i8_step *s = &p->steps[k];
        if (!s->live)
            continue;
        if (s->kind != I8_STEP_GEMM) {
            nncw_i8_step_run_images(p, s, 0, p->opt.batch);
            continue;
        }
        struct pixels px = {p, s};
        nncw_parallel_run(pixels_part, &px, thread_count(p, nncw_i8_gemm_macs(s)));
        if (s->out_u8 && p->val[s->out].need_f32)
            nncw_i8_dequantize_images(p, s->out, 0, p->opt.batch);
    }
}

static void run_segment(struct nncw_int8_plan *p, int first, int last)
{
    double work = 0;
    for (int k = first; k < last; k++)
        if (p->steps[k].live && p->steps[k].kind == I8_STEP_GEMM)
            work += nncw_i8_gemm_macs(&p->steps[k]);
    int threads = thread_count(p, work);
    if (threads > 1 && p->opt.batch < threads) {
        run_by_pixels(p, first, last);
        return;
    }
    int parts = threads < p->opt.batch ? threads : (int)p->opt.batch;
    bool g = true;
    for (int k = first; k < last;) {
        g = grouped(p, &p->steps[k], g);
        int end = k + 1;
        while (end < last && grouped(p, &p->steps[end], g) == g)
            end++;
        struct phase ph = {p, k, end, g ? group_size(p, k, end) : p->opt.batch};
        nncw_parallel_run(phase_part, &ph, parts);
        k = end;
    }
}

static enum nncw_status run_float(struct nncw_int8_plan *p, const struct i8_step *s)
{
    struct nncw_node *n = nncw_graph_get_node(p->g, s->nodes[0]);
    struct nncw_tensor *in[16], *out[8];
    if (nncw_node_count_inputs(n) > 16 || nncw_node_count_outputs(n) > 8)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "int8: node '%s' has too many inputs or outputs",
                         nncw_node_get_name(n));
    nncw_exec_node_args(p->ex, n, in, out);
    return nncw_op_get_def(nncw_node_get_op(n))
        ->forward(&p->ex->ctx, n, in, nncw_node_count_inputs(n), out);
}

static enum nncw_status check_io(const struct nncw_tensor *t, const struct nncw_tensor *want,
                                 int64_t batch, const char *what, int i, bool may_be_empty)
{
    char a[96], b[96];
    if (!t)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8 run: %s %d is NULL", what, i);
    if (may_be_empty && !t->data)
        return NNCW_OK;
    if (t->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "int8 run: %s %d is %s, expected float32", what, i,
                         nncw_dtype_name(t->dtype));
    bool ok =
        t->ndim == want->ndim && t->data && nncw_tensor_is_contiguous(t) && t->shape[0] == batch;
    for (int d = 1; ok && d < t->ndim; d++)
        ok = t->shape[d] == want->shape[d];
    if (!ok)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "int8 run: %s %d is %s, expected %s with batch %lld", what,
                         i, nncw_tensor_shape_str(t, a, sizeof a),
                         nncw_tensor_shape_str(want, b, sizeof b), (long long)batch);
    return NNCW_OK;
}

static size_t row_bytes(const struct nncw_tensor *t)
{
    return nncw_tensor_nbytes(t) / (size_t)(t->shape[0] ? t->shape[0] : 1);
}

static enum nncw_status copy_outputs(struct nncw_int8_plan *p, struct nncw_tensor *const out[],
                                     int64_t batch)
{
    for (int i = 0; i < nncw_graph_count_outputs(p->g); i++) {
        const struct nncw_tensor *y = nncw_exec_get_output(p->ex, i);
        if (!out[i]->data) {
            int64_t shape[NNCW_MAX_DIMS];
            memcpy(shape, y->shape, sizeof shape);
            shape[0] = batch;
            NNCW_TRY(nncw_tensor_init(out[i], NNCW_DTYPE_F32, y->ndim, shape));
        }
        memcpy(out[i]->data, y->data, row_bytes(y) * (size_t)batch);
    }
    return NNCW_OK;
}

enum nncw_status nncw_int8_plan_run(struct nncw_int8_plan *p,
                                    const struct nncw_tensor *const inputs[],
                                    struct nncw_tensor *const outputs[], int64_t batch)
{
    if (!p || !inputs || !outputs)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8 run: NULL plan, inputs or outputs");
    if (batch < 1 || batch > p->opt.batch)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8 run: batch %lld (the plan takes 1 .. %lld)",
                         (long long)batch, (long long)p->opt.batch);
    for (int i = 0; i < nncw_graph_count_inputs(p->g); i++)
        NNCW_TRY(check_io(inputs[i], nncw_exec_get_input(p->ex, i), batch, "input", i, false));
    for (int i = 0; i < nncw_graph_count_outputs(p->g); i++)
        NNCW_TRY(check_io(outputs[i], nncw_exec_get_output(p->ex, i), batch, "output", i, true));
    for (int i = 0; i < nncw_graph_count_inputs(p->g); i++) {
        struct nncw_tensor *x = nncw_exec_get_input(p->ex, i);
        memcpy(x->data, inputs[i]->data, row_bytes(x) * (size_t)batch);
    }
    for (int i = 0; i < p->n_steps;) {
        if (p->steps[i].kind == I8_STEP_FLOAT) {
            if (p->steps[i].live)
                NNCW_TRY(run_float(p, &p->steps[i]));
            i++;
            continue;
        }
        int end = i;
        while (end < p->n_steps && p->steps[end].kind != I8_STEP_FLOAT)
            end++;
        run_segment(p, i, end);
        i = end;
    }
    return copy_outputs(p, outputs, batch);
}

enum nncw_int8_isa nncw_int8_plan_get_isa(const struct nncw_int8_plan *p)
{
    return p->isa;
}
