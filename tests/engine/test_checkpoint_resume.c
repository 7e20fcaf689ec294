/* Full checkpoints: every section round-trips, a run resumed from a checkpoint ends with the
 * same weights bit for bit as an uninterrupted one (SGD momentum, Adam, a compressed run), a
 * crash while writing leaves the previous checkpoint loadable, checkpoint folders, and the
 * errors of damaged, truncated and newer-version files. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint/checkpoint.h"
#include "compression/compression.h"
#include "core/alloc.h"
#include "nncwt.h"
#include "ops/blas.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nncw-ckpt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    nncw_blas_set_threads(1); /* bit-identical comparisons */
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* 100 samples, batch 16: 6 full batches and a tail of 4 per epoch */
static struct nncw_dataset *synthetic(int64_t count, uint64_t sample_seed)
{
    struct nncw_synthetic_opts so = {.count = count,
                                     .channels = 1,
                                     .height = 28,
                                     .width = 28,
                                     .num_classes = 10,
                                     .seed = 5,
                                     .sample_seed = sample_seed};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    return ds;
}

static const char *const compressed_config =
    "{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, \"target_device\": \"CPU\","
    " \"compression\": ["
    "  {\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.1,"
    "   \"params\": {\"schedule\": \"polynomial\", \"sparsity_target\": 0.6,"
    "    \"sparsity_target_epoch\": 2, \"sparsity_freeze_epoch\": 3,"
    "    \"update_per_optimizer_step\": true, \"steps_per_epoch\": 7}},"
    "  {\"algorithm\": \"quantization\", \"params\": {\"activations_quant_start_epoch\": 1},"
    "   \"initializer\": {\"range\": {\"num_init_samples\": 32},"
    "    \"batchnorm_adaptation\": {\"num_bn_adaptation_samples\": 0}}}]}";

static const struct nncw_zoo_options *zoo_options(void)
{
    static struct nncw_zoo_options zo;
    zo = nncw_zoo_defaults("cnn");
    zo.seed = 7;
    return &zo;
}

/* a run: the model (compressed if cfg), its trainer over the shared data */
struct run {
    struct nncw_dataset *train, *test;
    struct nncw_compressed_model m;
    struct nncw_trainer *t;
    struct nncw_train_options o;
    struct nncw_model_source src;
};

static struct nncw_train_options options(enum nncw_optim_type type)
{
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = 3;
    o.batch_size = 16;
    o.seed = 11;
    o.log_every = 0;
    o.crop_padding = 2; /* augmentation draws from the loader's stream */
    o.hflip = true;
    if (type == NNCW_OPTIM_ADAM)
        o.optim = nncw_optim_config_adam(0.001f, 1e-4f);
    else
        o.optim = nncw_optim_config_sgd(0.02f, 0.9f, 5e-4f);
    return o;
}

static void start_trainer(struct run *r)
{
    nncwt_assert_status(nncw_trainer_new(r->m.graph, r->train, r->test, &r->o, &r->t), NNCW_OK);
    if (r->m.compression) {
        struct nncw_train_hooks h = nncw_compression_train_hooks(r->m.compression);
        nncwt_assert_status(nncw_trainer_set_hooks(r->t, &h), NNCW_OK);
    }
}

static void run_init(struct run *r, enum nncw_optim_type type, bool compressed)
{
    memset(r, 0, sizeof *r);
    r->train = synthetic(100, 1);
    r->test = synthetic(40, 2);
    r->o = options(type);
    r->src = (struct nncw_model_source){
        .kind = NNCW_MODEL_SOURCE_ZOO, .zoo_name = "cnn", .zoo = *zoo_options()};
    nncwt_assert_status(nncw_model_source_build(&r->src, &r->m.graph), NNCW_OK);
    if (compressed) {
        nncwt_assert_status(nncw_config_parse(compressed_config, "test", &r->m.config), NNCW_OK);
        struct nncw_compression_init init = {.data = r->train, .batch_size = 16, .seed = 3};
        nncwt_assert_status(
            nncw_compression_create(r->m.graph, r->m.config, &init, &r->m.compression), NNCW_OK);
    }
    start_trainer(r);
}

static void run_fini(struct run *r)
{
    nncw_trainer_free(r->t);
    nncw_compressed_model_fini(&r->m);
    nncw_dataset_free(r->train);
    nncw_dataset_free(r->test);
}

static void steps(struct run *r, int n)
{
    for (int i = 0; i < n; i++) {
        bool finished;
        nncwt_assert_status(nncw_trainer_step(r->t, &finished), NNCW_OK);
    }
}

static void finish(struct run *r)
{
    nncwt_assert_status(nncw_trainer_run(r->t), NNCW_OK);
}

static enum nncw_status save(const struct run *r, const char *path)
{
    struct nncw_checkpoint_parts p = {.graph = r->m.graph,
                                      .trainer = r->t,
                                      .compression = r->m.compression,
                                      .config_json = r->m.compression ? compressed_config : NULL,
                                      .source = &r->src};
    return nncw_checkpoint_write(path, &p);
}

/* a new run in the state the file holds, built from the file alone (and the data) */
static void resume(struct run *r, const char *path, enum nncw_optim_type type)
{
    memset(r, 0, sizeof *r);
    r->train = synthetic(100, 1);
    r->test = synthetic(40, 2);
    r->o = options(type);
    struct nncw_checkpoint *ck;
    nncwt_assert_status(nncw_checkpoint_read(path, &ck), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_restore_compressed(ck, &r->m), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_get_source(ck, &r->src), NNCW_OK);
    r->src.zoo_name = "cnn"; /* the file's string goes with ck */
    start_trainer(r);
    nncwt_assert_status(nncw_checkpoint_restore_trainer(ck, r->t), NNCW_OK);
    nncw_checkpoint_free(ck);
}

static void assert_same_params(const struct nncw_graph *a, const struct nncw_graph *b)
{
    ck_assert_int_eq(nncw_graph_count_params(a), nncw_graph_count_params(b));
    for (int i = 0; i < nncw_graph_count_params(a); i++) {
        int ia = nncw_graph_get_param(a, i), ib = nncw_graph_get_param(b, i);
        const struct nncw_tensor *ta = nncw_graph_get_value_tensor(a, ia);
        const struct nncw_tensor *tb = nncw_graph_get_value_tensor(b, ib);
        ck_assert_str_eq(nncw_graph_get_value_name(a, ia), nncw_graph_get_value_name(b, ib));
        ck_assert_msg(memcmp(ta->data, tb->data, nncw_tensor_nbytes(ta)) == 0,
                      "parameter '%s' differs", nncw_graph_get_value_name(a, ia));
    }
}

/* uninterrupted vs interrupted after k steps (mid-epoch 2: the loader, the tail executor's
 * stream and the schedulers are all mid-way), saved, everything freed, resumed from the file */
static void check_resume_equivalence(enum nncw_optim_type type, bool compressed, int k)
{
    char path[128];
    snprintf(path, sizeof path, "%s/resume.nncw", tmpdir);
    struct run a, b;
    run_init(&a, type, compressed);
    finish(&a);

    run_init(&b, type, compressed);
    steps(&b, k);
    nncwt_assert_status(save(&b, path), NNCW_OK);
    run_fini(&b);
    resume(&b, path, type);
    finish(&b);
    assert_same_params(a.m.graph, b.m.graph);
    struct nncw_train_event ea, eb;
    nncw_trainer_get_last_epoch(a.t, &ea);
    nncw_trainer_get_last_epoch(b.t, &eb);
    ck_assert_float_eq(ea.test_acc, eb.test_acc);
    ck_assert_float_eq(ea.train_loss, eb.train_loss);
    if (compressed) {
        char *sa, *sb;
        nncwt_assert_status(nncw_compression_get_state(a.m.compression, &sa), NNCW_OK);
        nncwt_assert_status(nncw_compression_get_state(b.m.compression, &sb), NNCW_OK);
        ck_assert_str_eq(sa, sb);
        nncw_free(sa);
        nncw_free(sb);
    }
    run_fini(&a);
    run_fini(&b);
}

START_TEST(test_resume_sgd_momentum_is_bit_identical)
{
    check_resume_equivalence(NNCW_OPTIM_SGD, false, 10);
}
END_TEST

START_TEST(test_resume_adam_is_bit_identical)
{
    check_resume_equivalence(NNCW_OPTIM_ADAM, false, 9);
}
END_TEST

START_TEST(test_resume_compressed_is_bit_identical)
{
    /* step 10: epoch 2, after the quantizers' start epoch and mid-way through the per-step
     * sparsity schedule */
    check_resume_equivalence(NNCW_OPTIM_SGD, true, 10);
}
END_TEST

START_TEST(test_resume_at_epoch_boundary_and_at_start)
{
    check_resume_equivalence(NNCW_OPTIM_SGD, true, 7);
    check_resume_equivalence(NNCW_OPTIM_SGD, false, 0);
}
END_TEST

/* ---- every section ---- */
START_TEST(test_every_section_round_trips)
{
    char path[128];
    snprintf(path, sizeof path, "%s/all.nncw", tmpdir);
    struct run r;
    run_init(&r, NNCW_OPTIM_ADAM, true);
    steps(&r, 9);
    char *argv[] = {"train", "--epochs", "3"};
    struct nncw_checkpoint_parts p = {.graph = r.m.graph,
                                      .trainer = r.t,
                                      .compression = r.m.compression,
                                      .config_json = compressed_config,
                                      .source = &r.src,
                                      .argc = 3,
                                      .argv = argv};
    nncwt_assert_status(nncw_checkpoint_write(path, &p), NNCW_OK);
    struct nncw_checkpoint *ck;
    nncwt_assert_status(nncw_checkpoint_read(path, &ck), NNCW_OK);
    ck_assert_int_eq(nncw_checkpoint_get_version(ck), NNCW_CHECKPOINT_VERSION);
    const char *tags[] = {"PARM", "ORIG", "CMPR", "CONF", "MSRC",
                          "ARGV", "TRNR", "OPTM", "RNGS", "LOAD"};
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++)
        ck_assert_msg(nncw_checkpoint_has(ck, tags[i]), "no %s section", tags[i]);
    ck_assert(!nncw_checkpoint_has(ck, "XXXX"));
    ck_assert_str_eq(nncw_checkpoint_get_config(ck), compressed_config);
    char *state;
    nncwt_assert_status(nncw_compression_get_state(r.m.compression, &state), NNCW_OK);
    ck_assert_str_eq(nncw_checkpoint_get_compression_state(ck), state);
    nncw_free(state);

    struct nncw_model_source src;
    nncwt_assert_status(nncw_checkpoint_get_source(ck, &src), NNCW_OK);
    ck_assert_int_eq(src.kind, NNCW_MODEL_SOURCE_ZOO);
    ck_assert_str_eq(src.zoo_name, "cnn");
    ck_assert_int_eq(src.zoo.seed, 7);
    ck_assert_int_eq(src.zoo.classes, zoo_options()->classes);

    int argc;
    const char **av;
    nncwt_assert_status(nncw_checkpoint_get_argv(ck, &argc, &av), NNCW_OK);
    ck_assert_int_eq(argc, 3);
    ck_assert_str_eq(av[0], "train");
    ck_assert_str_eq(av[2], "3");
    ck_assert_ptr_null(av[3]);
    nncw_free(av);

    struct nncw_trainer_state want, got;
    nncw_trainer_get_state(r.t, &want);
    nncwt_assert_status(nncw_checkpoint_get_trainer_state(ck, &got), NNCW_OK);
    ck_assert_int_eq(got.epoch, 1);
    ck_assert_int_eq(got.step, 2);
    ck_assert_int_eq(got.global_step, 9);
    ck_assert_int_eq(got.steps_per_epoch, 7);
    ck_assert_float_eq(got.lr, want.lr);
    ck_assert_int_eq(got.best_epoch, 0);
    ck_assert_float_eq(got.best_test_acc, want.best_test_acc);
    ck_assert_double_eq(got.tally.epoch_loss, want.tally.epoch_loss);
    ck_assert_int_eq(got.tally.epoch_seen, 32);
    ck_assert_float_eq(got.last_epoch.test_acc, want.last_epoch.test_acc);

    /* the optimizer's buffers come back into a fresh trainer exactly */
    struct run f;
    resume(&f, path, NNCW_OPTIM_ADAM);
    struct nncw_optim *oa = nncw_trainer_get_optim(r.t), *ob = nncw_trainer_get_optim(f.t);
    ck_assert_int_eq(nncw_optim_count_steps(ob), 9);
    ck_assert_int_eq(nncw_optim_count_slots(oa), nncw_optim_count_slots(ob));
    for (int i = 0; i < nncw_optim_count_slots(oa); i++) {
        struct nncw_optim_slot x, y;
        nncw_optim_get_slot(oa, i, &x);
        nncw_optim_get_slot(ob, i, &y);
        ck_assert_ptr_nonnull(y.state2);
        ck_assert_int_eq(memcmp(x.state1, y.state1, (size_t)x.numel * sizeof(float)), 0);
        ck_assert_int_eq(memcmp(x.state2, y.state2, (size_t)x.numel * sizeof(float)), 0);
    }
    assert_same_params(r.m.graph, f.m.graph);
    assert_same_params(nncw_compression_get_original(r.m.compression),
                       nncw_compression_get_original(f.m.compression));
    nncw_checkpoint_free(ck);
    run_fini(&r);
    run_fini(&f);
}
END_TEST

/* a compressed model loads from the checkpoint alone: same quantizers, masks and accuracy */
START_TEST(test_compressed_model_loads_without_config)
{
    char path[128];
    snprintf(path, sizeof path, "%s/compressed.nncw", tmpdir);
    struct run r;
    run_init(&r, NNCW_OPTIM_SGD, true);
    steps(&r, 12);
    struct nncw_checkpoint_parts p = {.graph = r.m.graph,
                                      .compression = r.m.compression,
                                      .config_json = compressed_config,
                                      .source = &r.src};
    nncwt_assert_status(nncw_checkpoint_write(path, &p), NNCW_OK);
    struct nncw_compressed_model m;
    nncwt_assert_status(nncw_checkpoint_load_compressed(path, &m), NNCW_OK);
    ck_assert_ptr_nonnull(m.compression);
    ck_assert_int_eq(nncw_compression_count_quantizers(m.compression),
                     nncw_compression_count_quantizers(r.m.compression));
    for (int i = 0; i < nncw_compression_count_quantizers(m.compression); i++) {
        struct nncw_quantizer_info a, b;
        nncwt_assert_status(nncw_compression_get_quantizer(r.m.compression, i, &a), NNCW_OK);
        nncwt_assert_status(nncw_compression_get_quantizer(m.compression, i, &b), NNCW_OK);
        ck_assert_str_eq(a.id, b.id);
        ck_assert_int_eq(a.bits, b.bits);
        ck_assert_int_eq(a.enabled, b.enabled);
        ck_assert_float_eq(a.low, b.low);
        ck_assert_float_eq(a.high, b.high);
    }
    assert_same_params(r.m.graph, m.graph);
    float la, lb, aa, ab;
    nncwt_assert_status(nncw_compression_get_sparsity_level(r.m.compression, &la), NNCW_OK);
    nncwt_assert_status(nncw_compression_get_sparsity_level(m.compression, &lb), NNCW_OK);
    ck_assert_float_eq(la, lb);
    ck_assert_int_eq(nncw_compression_get_stage(m.compression),
                     nncw_compression_get_stage(r.m.compression));
    char *sa, *sb;
    nncwt_assert_status(nncw_compression_statistics(r.m.compression, &sa), NNCW_OK);
    nncwt_assert_status(nncw_compression_statistics(m.compression, &sb), NNCW_OK);
    ck_assert_str_eq(sa, sb);
    nncw_free(sa);
    nncw_free(sb);
    nncwt_assert_status(nncw_evaluate(r.m.graph, r.test, 64, &aa, &la), NNCW_OK);
    nncwt_assert_status(nncw_evaluate(m.graph, r.test, 64, &ab, &lb), NNCW_OK);
    ck_assert_float_eq(aa, ab);
    ck_assert_float_eq(la, lb);
    nncw_compressed_model_fini(&m);
    run_fini(&r);
}
END_TEST

/* interactive edits travel in the state and are replayed before the parameters load */
START_TEST(test_edits_are_replayed)
{
    char path[128];
    snprintf(path, sizeof path, "%s/edits.nncw", tmpdir);
    struct run r;
    run_init(&r, NNCW_OPTIM_SGD, true);
    struct nncw_quantizer_change ch = {.bits = 0, .mode = -1, .per_channel = 0};
    nncwt_assert_status(nncw_compression_set_quantizers(r.m.compression, "{re}.*fc1.*", &ch),
                        NNCW_OK);
    nncwt_assert_status(nncw_compression_ignore_scope(r.m.compression, 0, "CNN/fc2", true),
                        NNCW_OK);
    int nq = nncw_compression_count_quantizers(r.m.compression);
    struct nncw_checkpoint_parts p = {.graph = r.m.graph,
                                      .compression = r.m.compression,
                                      .config_json = compressed_config,
                                      .source = &r.src};
    nncwt_assert_status(nncw_checkpoint_write(path, &p), NNCW_OK);
    struct nncw_compressed_model m;
    nncwt_assert_status(nncw_checkpoint_load_compressed(path, &m), NNCW_OK);
    ck_assert_int_eq(nncw_compression_count_quantizers(m.compression), nq);
    int per_tensor = 0;
    for (int i = 0; i < nq; i++) {
        struct nncw_quantizer_info a, b;
        nncwt_assert_status(nncw_compression_get_quantizer(r.m.compression, i, &a), NNCW_OK);
        nncwt_assert_status(nncw_compression_get_quantizer(m.compression, i, &b), NNCW_OK);
        ck_assert_int_eq(a.per_channel, b.per_channel);
        per_tensor += b.is_weight && !b.per_channel;
    }
    ck_assert_int_gt(per_tensor, 0);
    /* the scope edit is back in the restored config */
    ck_assert_int_eq(m.config->compression[0].n_ignored, 1);
    ck_assert_str_eq(m.config->compression[0].ignored_scopes[0], "CNN/fc2");
    assert_same_params(r.m.graph, m.graph);
    nncw_compressed_model_fini(&m);
    run_fini(&r);
}
END_TEST

/* ---- the scheduler API ---- */
START_TEST(test_disable_scheduler_keeps_the_level)
{
    struct run r;
    run_init(&r, NNCW_OPTIM_SGD, true);
    nncw_compression_disable_scheduler(r.m.compression);
    ck_assert(nncw_compression_is_scheduler_disabled(r.m.compression));
    nncwt_assert_status(nncw_compression_set_rate(r.m.compression, 0.3f), NNCW_OK);
    steps(&r, 9);
    float level;
    nncwt_assert_status(nncw_compression_get_sparsity_level(r.m.compression, &level), NNCW_OK);
    ck_assert_float_eq(level, 0.3f);
    int epoch;
    int64_t step;
    nncw_compression_get_scheduler_position(r.m.compression, &epoch, &step);
    ck_assert_int_eq(epoch, 1);
    ck_assert_int_eq(step, 9);
    run_fini(&r);
}
END_TEST

/* ---- crashes, folders, damaged files ---- */
static void kill_after_half(size_t written)
{
    if (written > 100000)
        raise(SIGKILL);
}

static void save_plain(const struct nncw_graph *g, int64_t step, int keep)
{
    struct nncw_checkpoint_parts p = {.graph = g};
    nncwt_assert_status(nncw_checkpoint_dir_save(tmpdir, step, keep, &p, NULL), NNCW_OK);
}

static int count_files(const char *pattern)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "exit $(ls %s | grep -c '%s')", tmpdir, pattern);
    int rc = system(cmd);
    return WEXITSTATUS(rc);
}

START_TEST(test_crash_during_write_keeps_previous)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", zoo_options(), &g), NNCW_OK);
    save_plain(g, 10, 3);
    float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(g, nncw_graph_get_param(g, 0)));
    float before = w[0];
    w[0] = 123.0f;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* the child dies mid-write, as with kill -9 */
        nncw_checkpoint_set_write_hook(kill_after_half);
        struct nncw_checkpoint_parts p = {.graph = g};
        nncw_checkpoint_dir_save(tmpdir, 20, 3, &p, NULL);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_int_eq(count_files("tmp"), 1); /* the half-written temporary file */
    char *latest;
    nncwt_assert_status(nncw_checkpoint_dir_find_latest(tmpdir, &latest), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(latest, "ckpt-10.nncw"));
    nncwt_assert_status(nncw_checkpoint_load(g, latest), NNCW_OK);
    ck_assert_float_eq(w[0], before);
    nncw_free(latest);
    /* the next save clears the leftover */
    save_plain(g, 30, 3);
    ck_assert_int_eq(count_files("tmp"), 0);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_folder_keeps_newest_and_skips_damaged)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", zoo_options(), &g), NNCW_OK);
    for (int64_t s = 1; s <= 5; s++)
        save_plain(g, s * 100, 3);
    ck_assert_int_eq(count_files("^ckpt-"), 3);
    ck_assert_int_eq(count_files("ckpt-200.nncw"), 0);
    char *latest;
    nncwt_assert_status(nncw_checkpoint_dir_find_latest(tmpdir, &latest), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(latest, "ckpt-500.nncw"));
    ck_assert_int_eq(truncate(latest, 1000), 0); /* the newest is damaged */
    nncw_free(latest);
    nncwt_assert_status(nncw_checkpoint_dir_find_latest(tmpdir, &latest), NNCW_OK);
    ck_assert_ptr_nonnull(strstr(latest, "ckpt-400.nncw"));
    nncw_free(latest);
    nncwt_assert_status(nncw_checkpoint_dir_find_latest("/nonexistent/dir", &latest),
                        NNCW_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "/nonexistent/dir"));
    char empty[128];
    snprintf(empty, sizeof empty, "%s/empty", tmpdir);
    ck_assert_int_eq(mkdir(empty, 0700), 0);
    nncwt_assert_status(nncw_checkpoint_dir_find_latest(empty, &latest), NNCW_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "no readable checkpoint"));
    nncw_graph_free(g);
}
END_TEST

/* rewrites the version field and the CRC, as a newer nncw would have written the file */
static void set_version(const char *path, uint32_t version)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    unsigned char *d = malloc((size_t)n);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_eq(fread(d, 1, (size_t)n, f), n);
    memcpy(d + 8, &version, 4);
    uint32_t crc = (uint32_t)crc32(0L, d, (uInt)(n - 4));
    memcpy(d + n - 4, &crc, 4);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_eq(fwrite(d, 1, (size_t)n, f), n);
    fclose(f);
    free(d);
}

START_TEST(test_damaged_and_newer_files_fail_clearly)
{
    char path[128];
    snprintf(path, sizeof path, "%s/x.nncw", tmpdir);
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", zoo_options(), &g), NNCW_OK);
    struct nncw_checkpoint *ck;

    nncwt_assert_status(nncw_checkpoint_save(g, path), NNCW_OK);
    set_version(path, 3);
    nncwt_assert_status(nncw_checkpoint_read(path, &ck), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "version 3"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "versions 1 to 2"));

    /* a version-1 file (the format before this one) still loads */
    nncwt_assert_status(nncw_checkpoint_save(g, path), NNCW_OK);
    set_version(path, 1);
    nncwt_assert_status(nncw_checkpoint_load(g, path), NNCW_OK);

    nncwt_assert_status(nncw_checkpoint_save(g, path), NNCW_OK);
    ck_assert_int_eq(truncate(path, 3000), 0);
    nncwt_assert_status(nncw_checkpoint_read(path, &ck), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "checksum"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), path));
    ck_assert_int_eq(truncate(path, 10), 0);
    nncwt_assert_status(nncw_checkpoint_read(path, &ck), NNCW_ERR_PARSE);

    /* a weights-only file has no trainer, no source, no compression */
    nncwt_assert_status(nncw_checkpoint_save(g, path), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_read(path, &ck), NNCW_OK);
    struct nncw_model_source src;
    nncwt_assert_status(nncw_checkpoint_get_source(ck, &src), NNCW_ERR_NOT_FOUND);
    struct nncw_compressed_model m;
    nncwt_assert_status(nncw_checkpoint_restore_compressed(ck, &m), NNCW_ERR_NOT_FOUND);
    struct nncw_trainer_state st;
    nncwt_assert_status(nncw_checkpoint_get_trainer_state(ck, &st), NNCW_ERR_NOT_FOUND);
    nncw_checkpoint_free(ck);
    nncwt_assert_status(nncw_checkpoint_write(path, &(struct nncw_checkpoint_parts){0}),
                        NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_checkpoint_save(g, "/nonexistent/dir/x.nncw"), NNCW_ERR_IO);
    nncw_graph_free(g);
}
END_TEST

/* a checkpoint restored into a trainer with other settings says what differs */
START_TEST(test_restore_into_mismatched_trainer_fails)
{
    char path[128];
    snprintf(path, sizeof path, "%s/m.nncw", tmpdir);
    struct run r;
    run_init(&r, NNCW_OPTIM_SGD, false);
    steps(&r, 3);
    nncwt_assert_status(save(&r, path), NNCW_OK);
    struct nncw_checkpoint *ck;
    nncwt_assert_status(nncw_checkpoint_read(path, &ck), NNCW_OK);
    struct nncw_trainer *t;
    struct nncw_train_options o = options(NNCW_OPTIM_ADAM);
    nncwt_assert_status(nncw_trainer_new(r.m.graph, r.train, NULL, &o, &t), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_restore_trainer(ck, t), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "optimizer was sgd"));
    nncw_trainer_free(t);
    o = options(NNCW_OPTIM_SGD);
    o.batch_size = 20;
    nncwt_assert_status(nncw_trainer_new(r.m.graph, r.train, NULL, &o, &t), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_restore_trainer(ck, t), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "batch size"));
    nncw_trainer_free(t);
    nncw_checkpoint_free(ck);
    run_fini(&r);
}
END_TEST

START_TEST(test_bad_compression_state_is_refused)
{
    struct run r;
    run_init(&r, NNCW_OPTIM_SGD, true);
    struct nncw_compression *c = r.m.compression;
    nncwt_assert_status(nncw_compression_set_state(c, "{not json"), NNCW_ERR_PARSE);
    nncwt_assert_status(nncw_compression_set_state(c, "[]"), NNCW_ERR_PARSE);
    nncwt_assert_status(nncw_compression_set_state(c, "{\"format\": 2}"), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "format 2"));
    char *state;
    nncwt_assert_status(nncw_compression_get_state(c, &state), NNCW_OK);
    /* the algorithms swapped */
    char *swapped = nncw_strdup(state);
    char *m = strstr(swapped, "\"magnitude_sparsity\""), *q = strstr(swapped, "\"quantization\"");
    ck_assert(m && q);
    memcpy(m, "\"quantization\"      ", 20);
    nncwt_assert_status(nncw_compression_set_state(c, swapped), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "'quantization' in the state"));
    /* a key of an algorithm's state missing */
    strcpy(swapped, state);
    char *key = strstr(swapped, "\"thresholds\"");
    ck_assert_ptr_nonnull(key);
    memcpy(key, "\"threshold_\"", 12);
    nncwt_assert_status(nncw_compression_set_state(c, swapped), NNCW_ERR_PARSE);
    ck_assert_msg(strstr(nncw_last_error(), "'thresholds' is missing"), "%s", nncw_last_error());
    nncwt_assert_status(nncw_compression_set_state(c, state), NNCW_OK);
    nncw_free(swapped);
    nncw_free(state);
    run_fini(&r);
}
END_TEST

static Suite *checkpoint_resume_suite(void)
{
    Suite *s = suite_create("checkpoint_resume");
    TCase *t = tcase_create("resume");
    tcase_add_checked_fixture(t, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_resume_sgd_momentum_is_bit_identical);
    tcase_add_test(t, test_resume_adam_is_bit_identical);
    tcase_add_test(t, test_resume_compressed_is_bit_identical);
    tcase_add_test(t, test_resume_at_epoch_boundary_and_at_start);
    suite_add_tcase(s, t);
    t = tcase_create("sections");
    tcase_add_checked_fixture(t, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_every_section_round_trips);
    tcase_add_test(t, test_compressed_model_loads_without_config);
    tcase_add_test(t, test_edits_are_replayed);
    tcase_add_test(t, test_disable_scheduler_keeps_the_level);
    suite_add_tcase(s, t);
    t = tcase_create("errors");
    tcase_add_checked_fixture(t, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_crash_during_write_keeps_previous);
    tcase_add_test(t, test_folder_keeps_newest_and_skips_damaged);
    tcase_add_test(t, test_damaged_and_newer_files_fail_clearly);
    tcase_add_test(t, test_restore_into_mismatched_trainer_fails);
    tcase_add_test(t, test_bad_compression_state_is_refused);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return nncwt_run(checkpoint_resume_suite());
}
