/*
** Knowledge distillation (NNCF's knowledge_distillation): the teacher is a copy of the float
** model taken when the compression is built, before any algorithm changed it, whatever the
** entry's position in the config. On each training step it runs on the same batch as the
** student and the distillation loss on the two outputs is added to the task loss, its gradient
** to the output's gradient before the backward pass (kd.h has the formulas).
**
** As in NNCF's PyTorch backend the teacher runs in training mode: batch norms normalise with
** the batch's statistics (its own running statistics drift, unused) and dropout is active, with
** the teacher's own random stream, so a model with dropout distils from a noisy teacher. Its
** parameters never train.
*/
#include <math.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "compression/distillation/kd.h"
#include "compression/state.h"
#include "core/alloc.h"

float nncw_kd_mse_loss(const float *s, const float *t, int64_t n, float scale, float *ds)
{
    if (n < 1)
        return 0.0f;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)s[i] - t[i];
        sum += d * d;
        if (ds)
            ds[i] += (float)(scale * 2.0 * d / (double)n);
    }
    return (float)(scale * sum / (double)n);
}

/* log of the sum of exp(x / T) of a row, computed from its maximum */
static double log_sum_exp(const float *x, int64_t n, double temperature)
{
    double m = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, (double)x[i] / temperature);
    double z = 0;
    for (int64_t i = 0; i < n; i++)
        z += exp((double)x[i] / temperature - m);
    return m + log(z);
}

float nncw_kd_softmax_loss(const float *s, const float *t, int64_t rows, int64_t cols,
                           float temperature, float scale, float *ds)
{
    if (rows < 1 || cols < 1)
        return 0.0f;
    double temp = temperature, total = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *sr = s + r * cols, *tr = t + r * cols;
        double lzs = log_sum_exp(sr, cols, temp), lzt = log_sum_exp(tr, cols, temp);
        for (int64_t c = 0; c < cols; c++) {
            double ls = (double)sr[c] / temp - lzs, pt = exp((double)tr[c] / temp - lzt);
            total -= pt * ls;
            if (ds)
                ds[r * cols + c] += (float)(scale * temp / (double)rows * (exp(ls) - pt));
        }
    }
    return (float)(scale * temp * temp * total / (double)rows);
}

/* ---- the controller ---- */

struct kd {
    struct nncw_kd_config k;
    struct nncw_graph *teacher;
    struct nncw_exec *ex[2]; /* teacher executors for the batch sizes seen (full, tail) */
    uint64_t seed;
};

static void kd_free(void *self)
{
    struct kd *kd = self;
    if (!kd)
        return;
    nncw_exec_free(kd->ex[0]);
    nncw_exec_free(kd->ex[1]);
    nncw_graph_free(kd->teacher);
    nncw_free(kd);
}

static enum nncw_status teacher_exec(struct kd *kd, int64_t batch, struct nncw_exec **out)
{
    for (int i = 0; i < 2; i++)
        if (kd->ex[i] && nncw_exec_get_input(kd->ex[i], 0)->shape[0] == batch) {
            *out = kd->ex[i];
            return NNCW_OK;
        }
    int slot = kd->ex[0] ? 1 : 0;
    nncw_exec_free(kd->ex[slot]);
    kd->ex[slot] = NULL;
    struct nncw_exec_options eo = {.batch = batch, .training = true, .seed = kd->seed};
    NNCW_TRY(nncw_exec_new(kd->teacher, &eo, &kd->ex[slot]));
    *out = kd->ex[slot];
    return NNCW_OK;
}

static enum nncw_status kd_output_loss(void *self, const struct nncw_tensor *input,
                                       const struct nncw_tensor *logits,
                                       struct nncw_tensor *dlogits, float *loss)
{
    struct kd *kd = self;
    char a[96], b[96];
    if (input->ndim < 1 || !nncw_tensor_same_shape(logits, dlogits))
        return NNCW_FAIL(NNCW_ERR_SHAPE, "knowledge distillation: bad batch (input %s)",
                         nncw_tensor_shape_str(input, a, sizeof a));
    struct nncw_exec *ex;
    NNCW_TRY(teacher_exec(kd, input->shape[0], &ex));
    struct nncw_tensor *x = nncw_exec_get_input(ex, 0);
    if (nncw_graph_count_inputs(kd->teacher) != 1 || !nncw_tensor_same_shape(x, input) ||
        x->dtype != input->dtype)
        return NNCW_FAIL(
            NNCW_ERR_SHAPE, "knowledge distillation: the teacher takes %s, the batch is %s",
            nncw_tensor_shape_str(x, a, sizeof a), nncw_tensor_shape_str(input, b, sizeof b));
    memcpy(x->data, input->data, nncw_tensor_nbytes(x));
    NNCW_TRY(nncw_exec_forward(ex));
    const struct nncw_tensor *t = nncw_exec_get_output(ex, 0);
    if (!nncw_tensor_same_shape(t, logits))
        return NNCW_FAIL(
            NNCW_ERR_SHAPE, "knowledge distillation: the teacher's output is %s, the student's %s",
            nncw_tensor_shape_str(t, a, sizeof a), nncw_tensor_shape_str(logits, b, sizeof b));
    const float *sv = nncw_tensor_f32(logits), *tv = nncw_tensor_f32(t);
    float *ds = nncw_tensor_f32(dlogits);
    if (kd->k.type == NNCW_KD_MSE) {
        /* NNCF skips outputs of fewer than 2 dimensions (losses) */
        *loss = logits->ndim < 2
                    ? 0.0f
                    : nncw_kd_mse_loss(sv, tv, nncw_tensor_numel(logits), kd->k.scale, ds);
    } else {
        /* and softmax distillation of anything but [N, C] */
        *loss = logits->ndim != 2 ? 0.0f
                                  : nncw_kd_softmax_loss(sv, tv, logits->shape[0], logits->shape[1],
                                                         kd->k.temperature, kd->k.scale, ds);
    }
    return NNCW_OK;
}

/* ---- controller state (checkpoints): the teacher's dropout streams, so that a resumed run
 * draws what the interrupted one would; the settings come from the config ---- */
static enum nncw_status kd_get_state(const void *self, char **json)
{
    const struct kd *kd = self;
    struct nncw_state *st = nncw_state_new();
    if (!st)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "knowledge distillation state: out of memory");
    nncw_state_set_u64(st, "seed", kd->seed);
    for (int i = 0; i < 2; i++) {
        if (!kd->ex[i])
            continue;
        struct nncw_state *e = nncw_state_new();
        if (e) {
            struct nncw_rng r = nncw_exec_get_rng(kd->ex[i]);
            nncw_state_set_number(e, "batch", (double)nncw_exec_get_input(kd->ex[i], 0)->shape[0]);
            nncw_state_set_rng(e, "rng", &r);
        }
        nncw_state_append(st, "teacher_streams", e);
    }
    enum nncw_status s = nncw_state_print(st, json);
    nncw_state_free(st);
    return s;
}

static enum nncw_status kd_set_stream(struct kd *kd, const struct nncw_state *st, int i)
{
    struct nncw_state *e;
    NNCW_TRY(nncw_state_get_item(st, "teacher_streams", i, &e));
    int64_t batch = 0;
    struct nncw_rng r;
    enum nncw_status s = nncw_state_get_int(e, "batch", &batch);
    if (s == NNCW_OK)
        s = nncw_state_get_rng(e, "rng", &r);
    if (s == NNCW_OK && (batch < 1 || batch > 1 << 20))
        s = NNCW_FAIL(NNCW_ERR_PARSE, "knowledge distillation state: teacher batch %lld",
                      (long long)batch);
    struct nncw_exec *ex;
    if (s == NNCW_OK)
        s = teacher_exec(kd, batch, &ex);
    if (s == NNCW_OK)
        nncw_exec_set_rng(ex, &r);
    nncw_state_free(e);
    return s;
}

static enum nncw_status kd_set_state(void *self, const char *json)
{
    struct kd *kd = self;
    struct nncw_state *st;
    NNCW_TRY(nncw_state_parse(json, "knowledge distillation state", &st));
    uint64_t seed = 0;
    int n = 0;
    enum nncw_status s = nncw_state_get_u64(st, "seed", &seed);
    if (s == NNCW_OK)
        s = nncw_state_count(st, "teacher_streams", &n);
    if (s == NNCW_OK && n > 2)
        s = NNCW_FAIL(NNCW_ERR_PARSE, "knowledge distillation state: %d teacher streams (at "
                      "most 2)", n);
    if (s == NNCW_OK)
        kd->seed = seed; /* executors made from here on use it */
    for (int i = 0; i < n && s == NNCW_OK; i++)
        s = kd_set_stream(kd, st, i);
    nncw_state_free(st);
    return s;
}

enum nncw_status nncw_knowledge_distillation_build(struct nncw_graph *g,
                                                   const struct nncw_config *cfg, int entry,
                                                   const struct nncw_compression_init *init,
                                                   const struct nncw_compression_edits *edits,
                                                   struct nncw_compression_algo *out,
                                                   int64_t *bn_samples)
{
    struct kd *kd = nncw_calloc(1, sizeof *kd);
    if (!kd)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "knowledge distillation: out of memory");
    kd->seed = init->seed + 0x6b64; /* its own dropout stream */
    enum nncw_status s = nncw_kd_config_parse(cfg, entry, &kd->k);
    if (s == NNCW_OK)
        s = nncw_graph_clone(edits && edits->original ? edits->original : g, &kd->teacher);
    if (s != NNCW_OK) {
        kd_free(kd);
        return s;
    }
    *bn_samples = 0;
    *out = (struct nncw_compression_algo){.name = "knowledge_distillation",
                                          .self = kd,
                                          .output_loss = kd_output_loss,
                                          .get_state = kd_get_state,
                                          .set_state = kd_set_state,
                                          .free = kd_free};
    return NNCW_OK;
}
