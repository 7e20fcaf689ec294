/*
** The binary sections of a checkpoint: parameters, the trainer's (loop position, optimizer
** buffers, random streams, loader position), the model source and the command line. Each
** reader checks every length against the section before it copies anything.
*/
#include <math.h>
#include <string.h>

#include "checkpoint/checkpoint_internal.h"
#include "core/alloc.h"
#include "core/log.h"

#define TAG_TRAINER NNCW_CKPT_TAG('T', 'R', 'N', 'R')
#define TAG_OPTIM NNCW_CKPT_TAG('O', 'P', 'T', 'M')
#define TAG_RNG NNCW_CKPT_TAG('R', 'N', 'G', 'S')
#define TAG_LOADER NNCW_CKPT_TAG('L', 'O', 'A', 'D')
#define TAG_SOURCE NNCW_CKPT_TAG('M', 'S', 'R', 'C')
#define TAG_ARGV NNCW_CKPT_TAG('A', 'R', 'G', 'V')
enum { TRAINER_LAYOUT = 1, MAX_ARGS = 4096 };

#define CORRUPT NNCW_CKPT_CORRUPT

/* ---- parameters ---- */
void nncw_ckpt_put_params(struct nncw_ckpt_buf *b, const struct nncw_graph *g)
{
    int n = nncw_graph_count_params(g);
    nncw_ckpt_put_u32(b, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        int id = nncw_graph_get_param(g, i);
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
        nncw_ckpt_put_str(b, nncw_graph_get_value_name(g, id));
        nncw_ckpt_put_u32(b, (uint32_t)t->dtype);
        nncw_ckpt_put_u32(b, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++)
            nncw_ckpt_put_u64(b, (uint64_t)t->shape[d]);
        nncw_ckpt_put(b, t->data, nncw_tensor_nbytes(t));
    }
}

static int find_param(const struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++)
        if (!strcmp(nncw_graph_get_value_name(g, nncw_graph_get_param(g, i)), name))
            return i;
    return -1;
}

/* checks one stored tensor against the graph and remembers where its data is */
static enum nncw_status read_entry(struct nncw_ckpt_cursor *c, const struct nncw_graph *g,
                                   const unsigned char **src, int *param_index)
{
    uint32_t dtype, ndim;
    char name[NNCW_CKPT_MAX_NAME + 1];
    if (!nncw_ckpt_take_str(c, name, sizeof name))
        return CORRUPT(c->path, "a parameter name is truncated or too long", c->path);
    if (!nncw_ckpt_take_u32(c, &dtype) || !nncw_ckpt_take_u32(c, &ndim) ||
        dtype >= NNCW_DTYPE_COUNT || ndim > NNCW_MAX_DIMS)
        return CORRUPT(c->path, "parameter '%s' has a bad header", c->path, name);
    int64_t shape[NNCW_MAX_DIMS];
    for (uint32_t d = 0; d < ndim; d++)
        if (!nncw_ckpt_take_i64(c, &shape[d]) || shape[d] < 0 || shape[d] > (int64_t)c->len)
            return CORRUPT(c->path, "parameter '%s' has a bad shape", c->path, name);
    int64_t numel = nncw_shape_numel((int)ndim, shape);
    size_t nbytes = (size_t)numel * nncw_dtype_size((enum nncw_dtype)dtype);
    if (numel < 0 || numel > (int64_t)c->len || nbytes > c->len - c->at)
        return CORRUPT(c->path, "parameter '%s' is truncated", c->path, name);
    *src = c->p + c->at;
    c->at += nbytes;
    *param_index = find_param(g, name);
    if (*param_index < 0) {
        nncw_log(NNCW_LOG_WARN, "checkpoint '%s': parameter '%s' is not in the model; ignored",
                 c->path, name);
        return NNCW_OK;
    }
    const struct nncw_tensor *t =
        nncw_graph_get_value_tensor(g, nncw_graph_get_param(g, *param_index));
    struct nncw_tensor stored;
    nncw_tensor_init_borrowed(&stored, (enum nncw_dtype)dtype, (int)ndim, shape, NULL);
    if (!nncw_tensor_same_shape(t, &stored) || t->dtype != stored.dtype) {
        char a[96], b[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "checkpoint '%s': parameter '%s' is %s %s in the file, %s %s in the "
                         "model",
                         c->path, name, nncw_dtype_name(stored.dtype),
                         nncw_tensor_shape_str(&stored, a, sizeof a), nncw_dtype_name(t->dtype),
                         nncw_tensor_shape_str(t, b, sizeof b));
    }
    return NNCW_OK;
}

enum nncw_status nncw_ckpt_read_params(struct nncw_ckpt_cursor *c, struct nncw_graph *g)
{
    int np = nncw_graph_count_params(g);
    const unsigned char **src = nncw_calloc((size_t)(np ? np : 1), sizeof *src);
    if (!src)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    enum nncw_status s = NNCW_OK;
    uint32_t count;
    if (!nncw_ckpt_take_u32(c, &count))
        s = CORRUPT(c->path, "truncated parameter section", c->path);
    for (uint32_t k = 0; s == NNCW_OK && k < count; k++) {
        const unsigned char *p;
        int idx;
        s = read_entry(c, g, &p, &idx);
        if (s == NNCW_OK && idx >= 0)
            src[idx] = p;
    }
    if (s == NNCW_OK && c->at != c->len)
        s = CORRUPT(c->path, "parameter section length does not match its contents", c->path);
    for (int i = 0; i < np && s == NNCW_OK; i++)
        if (!src[i])
            s = NNCW_FAIL(NNCW_ERR_NOT_FOUND, "checkpoint '%s': no values for parameter '%s'",
                          c->path, nncw_graph_get_value_name(g, nncw_graph_get_param(g, i)));
    /* only now, with everything checked, overwrite the model */
    for (int i = 0; i < np && s == NNCW_OK; i++) {
        struct nncw_tensor *t = nncw_graph_get_value_tensor(g, nncw_graph_get_param(g, i));
        memcpy(t->data, src[i], nncw_tensor_nbytes(t));
    }
    nncw_free(src);
    return s;
}

/* ---- the trainer: TRNR, OPTM, RNGS, LOAD ---- */
static void put_event(struct nncw_ckpt_buf *b, const struct nncw_train_event *e)
{
    nncw_ckpt_put_u32(b, (uint32_t)e->epoch);
    nncw_ckpt_put_u32(b, (uint32_t)e->epochs);
    nncw_ckpt_put_u64(b, (uint64_t)e->step);
    nncw_ckpt_put_u64(b, (uint64_t)e->steps_per_epoch);
    nncw_ckpt_put_u64(b, (uint64_t)e->global_step);
    const float f[] = {e->loss,      e->lr,        e->compression_loss, e->train_loss,
                       e->train_acc, e->test_loss, e->test_acc};
    nncw_ckpt_put(b, f, sizeof f);
    nncw_ckpt_put_f64(b, e->elapsed_s);
}

static bool take_event(struct nncw_ckpt_cursor *c, struct nncw_train_event *e)
{
    uint32_t epoch, epochs;
    float f[7];
    memset(e, 0, sizeof *e);
    e->type = NNCW_TRAIN_EVENT_EPOCH;
    if (!nncw_ckpt_take_u32(c, &epoch) || !nncw_ckpt_take_u32(c, &epochs) ||
        !nncw_ckpt_take_i64(c, &e->step) || !nncw_ckpt_take_i64(c, &e->steps_per_epoch) ||
        !nncw_ckpt_take_i64(c, &e->global_step) || !nncw_ckpt_take(c, f, sizeof f) ||
        !nncw_ckpt_take_f64(c, &e->elapsed_s))
        return false;
    e->epoch = (int)epoch;
    e->epochs = (int)epochs;
    e->loss = f[0];
    e->lr = f[1];
    e->compression_loss = f[2];
    e->train_loss = f[3];
    e->train_acc = f[4];
    e->test_loss = f[5];
    e->test_acc = f[6];
    return true;
}

static void put_trainer_state(struct nncw_ckpt_buf *b, const struct nncw_trainer_state *st)
{
    size_t at = nncw_ckpt_begin_section(b, TAG_TRAINER);
    nncw_ckpt_put_u32(b, TRAINER_LAYOUT);
    nncw_ckpt_put_u32(b, (uint32_t)st->epoch);
    nncw_ckpt_put_u64(b, (uint64_t)st->step);
    nncw_ckpt_put_u64(b, (uint64_t)st->global_step);
    nncw_ckpt_put_u64(b, (uint64_t)st->steps_per_epoch);
    nncw_ckpt_put_u32(b, st->finished);
    nncw_ckpt_put_f32(b, st->lr);
    nncw_ckpt_put_f32(b, st->weight_decay);
    nncw_ckpt_put_f32(b, st->best_test_acc);
    nncw_ckpt_put_u32(b, (uint32_t)st->best_epoch);
    nncw_ckpt_put_f64(b, st->elapsed_s);
    const struct nncw_trainer_tally *y = &st->tally;
    nncw_ckpt_put_f64(b, y->epoch_loss);
    nncw_ckpt_put_u64(b, (uint64_t)y->epoch_correct);
    nncw_ckpt_put_u64(b, (uint64_t)y->epoch_seen);
    nncw_ckpt_put_u64(b, (uint64_t)y->epoch_batches);
    nncw_ckpt_put_f64(b, y->window_loss);
    nncw_ckpt_put_f64(b, y->window_closs);
    nncw_ckpt_put_u64(b, (uint64_t)y->window_steps);
    nncw_ckpt_put_u64(b, (uint64_t)y->window_images);
    put_event(b, &st->last_epoch);
    nncw_ckpt_end_section(b, at);
}

static void put_rng(struct nncw_ckpt_buf *b, const char *name, const struct nncw_rng *r,
                    int64_t batch)
{
    nncw_ckpt_put_str(b, name);
    nncw_ckpt_put_u64(b, r->state);
    nncw_ckpt_put_u64(b, r->inc);
    nncw_ckpt_put_u64(b, (uint64_t)batch);
}

static void put_optim(struct nncw_ckpt_buf *b, const struct nncw_optim *o,
                      const struct nncw_graph *g)
{
    size_t at = nncw_ckpt_begin_section(b, TAG_OPTIM);
    nncw_ckpt_put_u32(b, (uint32_t)nncw_optim_get_config(o)->type);
    nncw_ckpt_put_u64(b, (uint64_t)nncw_optim_count_steps(o));
    int n = nncw_optim_count_slots(o);
    nncw_ckpt_put_u32(b, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        struct nncw_optim_slot sl;
        nncw_optim_get_slot(o, i, &sl);
        nncw_ckpt_put_str(b, nncw_graph_get_value_name(g, sl.value_id));
        nncw_ckpt_put_u64(b, (uint64_t)sl.numel);
        nncw_ckpt_put_u32(b, (uint32_t)((sl.state1 != NULL) | (sl.state2 != NULL) << 1));
        if (sl.state1)
            nncw_ckpt_put(b, sl.state1, (size_t)sl.numel * sizeof(float));
        if (sl.state2)
            nncw_ckpt_put(b, sl.state2, (size_t)sl.numel * sizeof(float));
    }
    nncw_ckpt_end_section(b, at);
}

void nncw_ckpt_put_trainer(struct nncw_ckpt_buf *b, const struct nncw_trainer *t)
{
    struct nncw_trainer_state st;
    nncw_trainer_get_state(t, &st);
    put_trainer_state(b, &st);
    put_optim(b, nncw_trainer_get_optim(t), nncw_trainer_get_graph(t));
    size_t at = nncw_ckpt_begin_section(b, TAG_RNG);
    nncw_ckpt_put_u32(b, st.tail_batch > 0 ? 2 : 1);
    put_rng(b, "train.exec", &st.rng, 0);
    if (st.tail_batch > 0)
        put_rng(b, "train.exec_tail", &st.tail_rng, st.tail_batch);
    nncw_ckpt_end_section(b, at);
    /* the loader's position is (epoch, batches taken); its seed and batch size say which
     * order that position is in */
    const struct nncw_train_options *o = nncw_trainer_get_options(t);
    at = nncw_ckpt_begin_section(b, TAG_LOADER);
    nncw_ckpt_put_u64(b, (uint64_t)st.epoch);
    nncw_ckpt_put_u64(b, (uint64_t)st.step);
    nncw_ckpt_put_u64(b, o->seed);
    nncw_ckpt_put_u32(b, (uint32_t)o->batch_size);
    nncw_ckpt_end_section(b, at);
}

static enum nncw_status read_trainer_state(struct nncw_ckpt_cursor *c,
                                           struct nncw_trainer_state *st)
{
    uint32_t layout, epoch, finished, best_epoch;
    memset(st, 0, sizeof *st);
    if (!nncw_ckpt_take_u32(c, &layout))
        return CORRUPT(c->path, "truncated trainer section", c->path);
    if (layout != TRAINER_LAYOUT)
        return CORRUPT(c->path, "trainer section layout %u (this build reads %d)", c->path, layout,
                       TRAINER_LAYOUT);
    struct nncw_trainer_tally *y = &st->tally;
    bool ok = nncw_ckpt_take_u32(c, &epoch) && nncw_ckpt_take_i64(c, &st->step) &&
              nncw_ckpt_take_i64(c, &st->global_step) &&
              nncw_ckpt_take_i64(c, &st->steps_per_epoch) && nncw_ckpt_take_u32(c, &finished) &&
              nncw_ckpt_take_f32(c, &st->lr) && nncw_ckpt_take_f32(c, &st->weight_decay) &&
              nncw_ckpt_take_f32(c, &st->best_test_acc) && nncw_ckpt_take_u32(c, &best_epoch) &&
              nncw_ckpt_take_f64(c, &st->elapsed_s) && nncw_ckpt_take_f64(c, &y->epoch_loss) &&
              nncw_ckpt_take_i64(c, &y->epoch_correct) && nncw_ckpt_take_i64(c, &y->epoch_seen) &&
              nncw_ckpt_take_i64(c, &y->epoch_batches) && nncw_ckpt_take_f64(c, &y->window_loss) &&
              nncw_ckpt_take_f64(c, &y->window_closs) && nncw_ckpt_take_i64(c, &y->window_steps) &&
              nncw_ckpt_take_i64(c, &y->window_images) && take_event(c, &st->last_epoch);
    if (!ok || c->at != c->len)
        return CORRUPT(c->path, "the trainer section is truncated or too long", c->path);
    st->epoch = (int)epoch;
    st->finished = finished != 0;
    st->best_epoch = (int)best_epoch;
    return NNCW_OK;
}

enum nncw_status nncw_checkpoint_get_trainer_state(const struct nncw_checkpoint *ck,
                                                   struct nncw_trainer_state *out)
{
    struct nncw_ckpt_cursor c;
    if (!nncw_ckpt_section(ck, TAG_TRAINER, &c))
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "checkpoint '%s' holds no trainer state", ck->path);
    return read_trainer_state(&c, out);
}

static enum nncw_status read_rngs(struct nncw_ckpt_cursor *c, struct nncw_trainer_state *st)
{
    uint32_t n;
    if (!nncw_ckpt_take_u32(c, &n) || n < 1 || n > 2)
        return CORRUPT(c->path, "bad random-stream section", c->path);
    for (uint32_t i = 0; i < n; i++) {
        char name[64];
        struct nncw_rng r;
        int64_t batch;
        if (!nncw_ckpt_take_str(c, name, sizeof name) || !nncw_ckpt_take(c, &r.state, 8) ||
            !nncw_ckpt_take(c, &r.inc, 8) || !nncw_ckpt_take_i64(c, &batch))
            return CORRUPT(c->path, "random stream %u is truncated", c->path, i);
        if (!strcmp(name, "train.exec")) {
            st->rng = r;
        } else if (!strcmp(name, "train.exec_tail") && batch > 0) {
            st->tail_rng = r;
            st->tail_batch = batch;
        } else {
            return CORRUPT(c->path, "unknown random stream '%s'", c->path, name);
        }
    }
    return NNCW_OK;
}

/* the loader section must describe the order this trainer draws batches in */
static enum nncw_status check_loader(struct nncw_ckpt_cursor *c, const struct nncw_trainer *t,
                                     const struct nncw_trainer_state *st)
{
    int64_t epoch, batches;
    uint64_t seed;
    uint32_t batch;
    if (!nncw_ckpt_take_i64(c, &epoch) || !nncw_ckpt_take_i64(c, &batches) ||
        !nncw_ckpt_take(c, &seed, 8) || !nncw_ckpt_take_u32(c, &batch) || c->at != c->len)
        return CORRUPT(c->path, "bad loader section", c->path);
    const struct nncw_train_options *o = nncw_trainer_get_options(t);
    if (seed != o->seed || (int)batch != o->batch_size)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "checkpoint '%s': the data loader ran with seed %llu and batch size %u, "
                         "this trainer has seed %llu and batch size %d",
                         c->path, (unsigned long long)seed, batch, (unsigned long long)o->seed,
                         o->batch_size);
    if (epoch != st->epoch || batches != st->step)
        return CORRUPT(c->path,
                       "the loader position (epoch %lld, batch %lld) disagrees with the "
                       "trainer's",
                       c->path, (long long)epoch + 1, (long long)batches);
    return NNCW_OK;
}

/* checks every stored slot against the optimizer before anything is copied */
static enum nncw_status read_optim(struct nncw_ckpt_cursor *c, struct nncw_optim *o,
                                   const struct nncw_graph *g, bool copy)
{
    uint32_t type, n;
    int64_t steps;
    if (!nncw_ckpt_take_u32(c, &type) || !nncw_ckpt_take_i64(c, &steps) ||
        !nncw_ckpt_take_u32(c, &n) || steps < 0)
        return CORRUPT(c->path, "bad optimizer section", c->path);
    if (type != (uint32_t)nncw_optim_get_config(o)->type)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "checkpoint '%s': the optimizer was %s, this run's is %s", c->path,
                         nncw_optim_type_name((enum nncw_optim_type)type),
                         nncw_optim_type_name(nncw_optim_get_config(o)->type));
    if ((int)n != nncw_optim_count_slots(o))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "checkpoint '%s': the optimizer state covers %u parameters, this run "
                         "trains %d",
                         c->path, n, nncw_optim_count_slots(o));
    for (uint32_t i = 0; i < n; i++) {
        char name[NNCW_CKPT_MAX_NAME + 1];
        int64_t numel;
        uint32_t bufs;
        if (!nncw_ckpt_take_str(c, name, sizeof name) || !nncw_ckpt_take_i64(c, &numel) ||
            !nncw_ckpt_take_u32(c, &bufs) || numel < 0 || numel > (int64_t)c->len)
            return CORRUPT(c->path, "optimizer slot %u is truncated", c->path, i);
        struct nncw_optim_slot sl;
        nncw_optim_get_slot(o, (int)i, &sl);
        uint32_t want = (sl.state1 != NULL) | (sl.state2 != NULL) << 1;
        if (strcmp(name, nncw_graph_get_value_name(g, sl.value_id)) != 0 || numel != sl.numel ||
            bufs != want)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "checkpoint '%s': optimizer state %u is for '%s' (%lld values), "
                             "this run's is '%s' (%lld values)",
                             c->path, i, name, (long long)numel,
                             nncw_graph_get_value_name(g, sl.value_id), (long long)sl.numel);
        size_t bytes = (size_t)numel * sizeof(float);
        float *dst[2] = {sl.state1, sl.state2};
        for (int k = 0; k < 2; k++) {
            if (!dst[k])
                continue;
            if (bytes > c->len - c->at)
                return CORRUPT(c->path, "optimizer state of '%s' is truncated", c->path, name);
            if (copy)
                memcpy(dst[k], c->p + c->at, bytes);
            c->at += bytes;
        }
    }
    if (c->at != c->len)
        return CORRUPT(c->path, "optimizer section length does not match its contents", c->path);
    if (copy)
        nncw_optim_set_steps(o, steps);
    return NNCW_OK;
}

static enum nncw_status trainer_sections(const struct nncw_checkpoint *ck,
                                         struct nncw_ckpt_cursor cur[4])
{
    static const uint32_t tags[4] = {TAG_TRAINER, TAG_OPTIM, TAG_RNG, TAG_LOADER};
    static const char *const names[4] = {"trainer", "optimizer", "random-stream", "loader"};
    for (int i = 0; i < 4; i++)
        if (!nncw_ckpt_section(ck, tags[i], &cur[i]))
            return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                             "checkpoint '%s' holds no %s state (it was not saved from a "
                             "training run)",
                             ck->path, names[i]);
    return NNCW_OK;
}

enum nncw_status nncw_checkpoint_restore_trainer(const struct nncw_checkpoint *ck,
                                                 struct nncw_trainer *t)
{
    struct nncw_ckpt_cursor cur[4];
    NNCW_TRY(trainer_sections(ck, cur));
    struct nncw_trainer_state st;
    NNCW_TRY(read_trainer_state(&cur[0], &st));
    NNCW_TRY(read_rngs(&cur[2], &st));
    NNCW_TRY(check_loader(&cur[3], t, &st));
    struct nncw_optim *o = nncw_trainer_get_optim(t);
    const struct nncw_graph *g = nncw_trainer_get_graph(t);
    struct nncw_ckpt_cursor dry = cur[1];
    NNCW_TRY(read_optim(&dry, o, g, false)); /* all checks first: nothing changes on failure */
    NNCW_TRY(nncw_trainer_set_state(t, &st));
    return read_optim(&cur[1], o, g, true);
}

/* ---- the model source ---- */
void nncw_ckpt_put_source(struct nncw_ckpt_buf *b, const struct nncw_model_source *src)
{
    nncw_ckpt_put_u32(b, (uint32_t)src->kind);
    const char *name = src->kind == NNCW_MODEL_SOURCE_ZOO ? src->zoo_name : src->onnx_path;
    name = name ? name : "";
    nncw_ckpt_put_u32(b, (uint32_t)strlen(name) + 1);
    nncw_ckpt_put(b, name, strlen(name) + 1);
    if (src->kind == NNCW_MODEL_SOURCE_ZOO) {
        const struct nncw_zoo_options *z = &src->zoo;
        const uint32_t dims[] = {(uint32_t)z->classes, (uint32_t)z->in_c, (uint32_t)z->in_h,
                                 (uint32_t)z->in_w};
        nncw_ckpt_put(b, dims, sizeof dims);
        nncw_ckpt_put_f32(b, z->width_mult);
        nncw_ckpt_put_u64(b, z->seed);
    } else {
        nncw_ckpt_put_u64(b, (uint64_t)src->onnx_len);
        nncw_ckpt_put(b, src->onnx_bytes, src->onnx_len);
    }
}

enum nncw_status nncw_checkpoint_get_source(const struct nncw_checkpoint *ck,
                                            struct nncw_model_source *out)
{
    struct nncw_ckpt_cursor c;
    if (!nncw_ckpt_section(ck, TAG_SOURCE, &c))
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                         "checkpoint '%s' does not say which model it holds (weights only: load "
                         "it into a model you build)",
                         ck->path);
    uint32_t kind, len;
    struct nncw_model_source src = {0};
    /* the name is stored with its terminator, so it can be used in place */
    if (!nncw_ckpt_take_u32(&c, &kind) || !nncw_ckpt_take_u32(&c, &len) || len < 1 ||
        len > c.len - c.at)
        return CORRUPT(ck->path, "bad model source section", ck->path);
    const char *name = (const char *)c.p + c.at;
    if (memchr(name, '\0', len) != name + len - 1)
        return CORRUPT(ck->path, "bad model name in the source section", ck->path);
    c.at += len;
    if (kind == NNCW_MODEL_SOURCE_ZOO) {
        uint32_t dims[4];
        if (!nncw_ckpt_take(&c, dims, sizeof dims) ||
            !nncw_ckpt_take_f32(&c, &src.zoo.width_mult) || !nncw_ckpt_take(&c, &src.zoo.seed, 8) ||
            c.at != c.len)
            return CORRUPT(ck->path, "bad zoo options in the source section", ck->path);
        src.zoo.classes = (int)dims[0];
        src.zoo.in_c = (int)dims[1];
        src.zoo.in_h = (int)dims[2];
        src.zoo.in_w = (int)dims[3];
    } else if (kind == NNCW_MODEL_SOURCE_ONNX) {
        uint64_t n;
        if (!nncw_ckpt_take(&c, &n, 8) || n != c.len - c.at)
            return CORRUPT(ck->path, "bad ONNX bytes in the source section", ck->path);
        src.onnx_bytes = c.p + c.at;
        src.onnx_len = (size_t)n;
    } else {
        return CORRUPT(ck->path, "unknown model source kind %u", ck->path, kind);
    }
    src.kind = (enum nncw_model_source_kind)kind;
    if (kind == NNCW_MODEL_SOURCE_ZOO)
        src.zoo_name = name;
    else
        src.onnx_path = name;
    *out = src;
    return NNCW_OK;
}

/* ---- the command line ---- */
void nncw_ckpt_put_argv(struct nncw_ckpt_buf *b, int argc, char *const *argv)
{
    nncw_ckpt_put_u32(b, (uint32_t)argc);
    for (int i = 0; i < argc; i++)
        nncw_ckpt_put_str(b, argv[i]);
}

enum nncw_status nncw_checkpoint_get_argv(const struct nncw_checkpoint *ck, int *argc,
                                          const char ***argv)
{
    struct nncw_ckpt_cursor c;
    *argc = 0;
    *argv = NULL;
    if (!nncw_ckpt_section(ck, TAG_ARGV, &c))
        return NNCW_OK;
    uint32_t n;
    if (!nncw_ckpt_take_u32(&c, &n) || n > MAX_ARGS)
        return CORRUPT(ck->path, "bad command-line section", ck->path);
    /* one allocation the caller frees: the pointer array, then the strings with terminators
     * (each takes less room than its 4-byte length did in the section) */
    size_t head = ((size_t)n + 1) * sizeof(char *);
    const char **v = nncw_malloc(head + c.len + 1);
    if (!v)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    char *block = (char *)v + head;
    size_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        if (!nncw_ckpt_take_u32(&c, &len) || len > c.len - c.at || memchr(c.p + c.at, '\0', len)) {
            nncw_free(v);
            return CORRUPT(ck->path, "command-line argument %u is truncated", ck->path, i);
        }
        memcpy(block + used, c.p + c.at, len);
        block[used + len] = '\0';
        v[i] = block + used;
        used += len + 1;
        c.at += len;
    }
    v[n] = NULL;
    *argc = (int)n;
    *argv = v;
    return NNCW_OK;
}
