#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/checkpoint.h"
#include "data/data.h"
#include "nncwt.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

/* ---- losses ---- */
START_TEST(test_cross_entropy_matches_hand_values)
{
    struct nncw_tensor logits, d;
    nncwt_tensor_from(&logits, 2, (int64_t[]){2, 2}, (float[]){0, 0, 2, 0});
    nncwt_assert_status(nncw_tensor_init(&d, NNCW_DTYPE_F32, 2, (int64_t[]){2, 2}), NNCW_OK);
    int32_t labels[] = {0, 1};
    float loss;
    nncwt_assert_status(nncw_loss_cross_entropy(&logits, labels, &loss, &d), NNCW_OK);
    /* (ln 2 + (2 + ln(1 + e^-2))) / 2 */
    double expect = (log(2.0) + 2.0 + log(1.0 + exp(-2.0))) / 2.0;
    ck_assert_double_eq_tol(loss, expect, 1e-6);
    const float *g = nncw_tensor_f32(&d);
    ck_assert_double_eq_tol(g[0], (0.5 - 1.0) / 2, 1e-6);
    ck_assert_double_eq_tol(g[3], (1.0 / (1.0 + exp(2.0)) - 1.0) / 2, 1e-6);
    ck_assert_int_eq(nncw_count_correct(&logits, labels), 1);
    labels[1] = 2;
    nncwt_assert_status(nncw_loss_cross_entropy(&logits, labels, &loss, &d), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "sample 1 has label 2"));
    nncw_tensor_fini(&logits);
    nncw_tensor_fini(&d);
}
END_TEST

/* ---- optimizers: numbers as torch.optim gives them ---- */
static struct nncw_graph *one_param(float w0, float g0, int *id)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    struct nncw_tensor w;
    nncwt_tensor_from(&w, 1, (int64_t[]){1}, (float[]){w0});
    nncwt_assert_status(nncw_graph_add_param(g, "w", &w, true, id), NNCW_OK);
    nncw_tensor_fini(&w);
    nncwt_assert_status(nncw_graph_alloc_grads(g), NNCW_OK);
    nncw_tensor_f32(nncw_graph_get_value_grad(g, *id))[0] = g0;
    return g;
}

START_TEST(test_sgd_momentum_nesterov_weight_decay)
{
    int id;
    struct nncw_graph *g = one_param(1.0f, 0.5f, &id);
    struct nncw_optim_config c = nncw_optim_config_sgd(0.1f, 0.9f, 0.01f);
    c.nesterov = true;
    struct nncw_optim *o;
    nncwt_assert_status(nncw_optim_new(g, &c, &o), NNCW_OK);
    float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(g, id));
    /* step 1: d = 0.5 + 0.01 = 0.51; buf = 0.51; d = 0.51 + 0.9 * 0.51 = 0.969 */
    nncw_optim_step(o);
    ck_assert_double_eq_tol(w[0], 1.0 - 0.1 * 0.969, 1e-6);
    /* step 2 (same gradient): d = 0.5 + 0.01 w; buf = 0.9 * 0.51 + d; d += 0.9 buf */
    double w1 = 1.0 - 0.0969, d = 0.5 + 0.01 * w1, buf = 0.9 * 0.51 + d;
    nncw_optim_step(o);
    ck_assert_double_eq_tol(w[0], w1 - 0.1 * (d + 0.9 * buf), 1e-6);
    nncw_optim_free(o);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_adam_first_steps)
{
    int id;
    struct nncw_graph *g = one_param(1.0f, 0.3f, &id);
    struct nncw_optim_config c = nncw_optim_config_adam(0.01f, 0.0f);
    struct nncw_optim *o;
    nncwt_assert_status(nncw_optim_new(g, &c, &o), NNCW_OK);
    float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(g, id));
    nncw_optim_step(o); /* bias-corrected: a step of lr * sign(g) */
    ck_assert_double_eq_tol(w[0], 1.0 - 0.01, 1e-6);
    nncw_optim_step(o);
    ck_assert_double_eq_tol(w[0], 1.0 - 0.02, 1e-6);
    nncw_optim_free(o);
    nncw_graph_free(g);
    g = one_param(1.0f, 0.0f, &id);
    c.type = NNCW_OPTIM_ADAMW;
    c.weight_decay = 0.1f;
    nncwt_assert_status(nncw_optim_new(g, &c, &o), NNCW_OK);
    nncw_optim_step(o); /* decoupled decay only: w *= 1 - lr wd */
    ck_assert_double_eq_tol(nncw_tensor_f32(nncw_graph_get_value_tensor(g, id))[0], 0.999, 1e-6);
    nncw_optim_free(o);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_optim_rejects_bad_settings)
{
    int id;
    struct nncw_graph *g = one_param(1.0f, 0.0f, &id);
    struct nncw_optim *o;
    struct nncw_optim_config c = nncw_optim_config_sgd(-1.0f, 0.9f, 0);
    nncwt_assert_status(nncw_optim_new(g, &c, &o), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "learning rate"));
    c = nncw_optim_config_sgd(0.1f, 0.0f, 0);
    c.nesterov = true;
    nncwt_assert_status(nncw_optim_new(g, &c, &o), NNCW_ERR_INVALID_ARG);
    enum nncw_optim_type t;
    nncwt_assert_status(nncw_optim_type_parse("rmsprop", &t), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "rmsprop"));
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_lr_schedules)
{
    struct nncw_lr_schedule s = {.type = NNCW_LR_STEP, .step_size = 3, .gamma = 0.1f};
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 2), 1.0, 1e-7);
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 3), 0.1, 1e-7);
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 7), 0.01, 1e-7);
    s = (struct nncw_lr_schedule){.type = NNCW_LR_MULTISTEP, .gamma = 0.5f, .n_milestones = 2,
                                  .milestones = {2, 5}};
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 1), 1.0, 1e-7);
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 2), 0.5, 1e-7);
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 5), 0.25, 1e-7);
    s = (struct nncw_lr_schedule){.type = NNCW_LR_COSINE, .t_max = 10, .eta_min = 0.0f};
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 0), 1.0, 1e-6);
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 5), 0.5, 1e-6);
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 10), 0.0, 1e-6);
    s.warmup_epochs = 2;
    ck_assert_double_eq_tol(nncw_lr_at(&s, 1.0f, 0), 0.1, 1e-6);
}
END_TEST

/* ---- the loop ---- */
/* one task (prototype seed 5); sample_seed tells the train and test sets apart */
static struct nncw_dataset *synthetic(int64_t count, uint64_t sample_seed)
{
    struct nncw_synthetic_opts so = {.count = count, .channels = 1, .height = 28, .width = 28,
                                     .num_classes = 10, .seed = 5, .sample_seed = sample_seed};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    return ds;
}

static struct nncw_graph *cnn(void)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &g), NNCW_OK);
    return g;
}

static float train_cnn(struct nncw_graph *g, int epochs, uint64_t seed)
{
    struct nncw_dataset *train = synthetic(1000, 1), *test = synthetic(300, 2);
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = epochs;
    o.batch_size = 32; /* 1000 = 31 x 32 + 8: the short last batch is trained too */
    o.seed = seed;
    o.log_every = 0;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, train, test, &o, &t), NNCW_OK);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    struct nncw_train_event ev;
    nncw_trainer_get_last_epoch(t, &ev);
    nncw_trainer_free(t);
    nncw_dataset_free(train);
    nncw_dataset_free(test);
    return ev.test_acc;
}

START_TEST(test_train_learns_and_is_reproducible)
{
    struct nncw_graph *a = cnn(), *b = cnn();
    float acc_a = train_cnn(a, 2, 7), acc_b = train_cnn(b, 2, 7);
    ck_assert_float_gt(acc_a, 0.9f);
    ck_assert_float_eq(acc_a, acc_b);
    for (int i = 0; i < nncw_graph_count_params(a); i++) {
        const struct nncw_tensor *wa = nncw_graph_get_value_tensor(a, nncw_graph_get_param(a, i));
        const struct nncw_tensor *wb = nncw_graph_get_value_tensor(b, nncw_graph_get_param(b, i));
        ck_assert_int_eq(memcmp(wa->data, wb->data, nncw_tensor_nbytes(wa)), 0);
    }
    nncw_graph_free(a);
    nncw_graph_free(b);
}
END_TEST

static bool stop_at_first(void *user, const struct nncw_train_event *ev)
{
    int *calls = user;
    ++*calls;
    return ev->type != NNCW_TRAIN_EVENT_STEP;
}

START_TEST(test_train_cancel_keeps_state)
{
    struct nncw_graph *g = cnn();
    struct nncw_dataset *train = synthetic(256, 1);
    struct nncw_train_options o = nncw_train_defaults();
    o.batch_size = 16;
    o.log_every = 3;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, train, NULL, &o, &t), NNCW_OK);
    int calls = 0;
    nncw_trainer_set_callback(t, stop_at_first, &calls);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_ERR_CANCELLED);
    ck_assert_int_eq(calls, 1);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "step 3"));
    /* the model still evaluates and its weights are finite */
    float acc, loss;
    nncwt_assert_status(nncw_evaluate(g, train, 64, &acc, &loss), NNCW_OK);
    ck_assert(isfinite(loss));
    nncw_trainer_free(t);
    nncw_dataset_free(train);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_train_divergence_is_reported)
{
    struct nncw_graph *g = cnn();
    struct nncw_dataset *train = synthetic(256, 1);
    struct nncw_train_options o = nncw_train_defaults();
    o.batch_size = 16;
    o.optim.lr = 1e6f;
    o.log_every = 0;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, train, NULL, &o, &t), NNCW_OK);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "diverged"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "learning rate"));
    nncw_trainer_free(t);
    nncw_dataset_free(train);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_train_rejects_bad_options_and_data)
{
    struct nncw_graph *g = cnn();
    struct nncw_dataset *train = synthetic(64, 1);
    struct nncw_train_options o = nncw_train_defaults();
    struct nncw_trainer *t;
    o.batch_size = -5;
    nncwt_assert_status(nncw_trainer_new(g, train, NULL, &o, &t), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "-5"));
    o = nncw_train_defaults();
    o.epochs = 0;
    nncwt_assert_status(nncw_trainer_new(g, train, NULL, &o, &t), NNCW_ERR_INVALID_ARG);
    struct nncw_synthetic_opts so = {.count = 64, .channels = 3, .height = 32, .width = 32,
                                     .num_classes = 10, .seed = 1};
    struct nncw_dataset *rgb;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &rgb), NNCW_OK);
    o = nncw_train_defaults();
    nncwt_assert_status(nncw_trainer_new(g, rgb, NULL, &o, &t), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "3x32x32"));
    nncw_dataset_free(rgb);
    nncw_dataset_free(train);
    nncw_graph_free(g);
}
END_TEST

/* ---- checkpoints ---- */
static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nncw-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_checkpoint_round_trip)
{
    char path[128];
    snprintf(path, sizeof path, "%s/cnn.nncw", tmpdir);
    struct nncw_graph *a = cnn();
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    zo.seed = 99;
    struct nncw_graph *b;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &b), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_save(a, path), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_load(b, path), NNCW_OK);
    for (int i = 0; i < nncw_graph_count_params(a); i++) {
        const struct nncw_tensor *wa = nncw_graph_get_value_tensor(a, nncw_graph_get_param(a, i));
        const struct nncw_tensor *wb = nncw_graph_get_value_tensor(b, nncw_graph_get_param(b, i));
        ck_assert_int_eq(memcmp(wa->data, wb->data, nncw_tensor_nbytes(wa)), 0);
    }
    /* no temporary file is left behind */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    nncw_graph_free(a);
    nncw_graph_free(b);
}
END_TEST

static void corrupt_file(const char *path, long offset, long truncate_to)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    if (offset >= 0) {
        fseek(f, offset, SEEK_SET);
        int c = fgetc(f);
        fseek(f, offset, SEEK_SET);
        fputc(c ^ 0x5a, f);
    }
    fclose(f);
    if (truncate_to >= 0)
        ck_assert_int_eq(truncate(path, truncate_to), 0);
}

START_TEST(test_checkpoint_bad_files)
{
    char path[128];
    snprintf(path, sizeof path, "%s/cnn.nncw", tmpdir);
    struct nncw_graph *g = cnn();
    const struct nncw_tensor *w0 = nncw_graph_get_value_tensor(g, nncw_graph_get_param(g, 0));
    float first = nncw_tensor_f32(w0)[0];

    nncwt_assert_status(nncw_checkpoint_load(g, "/nonexistent/x.nncw"), NNCW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "/nonexistent/x.nncw"));

    nncwt_assert_status(nncw_checkpoint_save(g, path), NNCW_OK);
    corrupt_file(path, 200, -1);
    nncwt_assert_status(nncw_checkpoint_load(g, path), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "checksum"));

    nncwt_assert_status(nncw_checkpoint_save(g, path), NNCW_OK);
    corrupt_file(path, -1, 5000);
    nncwt_assert_status(nncw_checkpoint_load(g, path), NNCW_ERR_PARSE);

    nncwt_assert_status(nncw_checkpoint_save(g, path), NNCW_OK);
    corrupt_file(path, 0, -1);
    nncwt_assert_status(nncw_checkpoint_load(g, path), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "magic"));

    /* another architecture: names match, shapes do not */
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    zo.classes = 7;
    struct nncw_graph *other;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &other), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_save(other, path), NNCW_OK);
    nncwt_assert_status(nncw_checkpoint_load(g, path), NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "fc2.weight"));
    nncw_graph_free(other);

    /* a failed load leaves the model as it was */
    ck_assert_float_eq(nncw_tensor_f32(w0)[0], first);

    /* saving into a folder that does not exist fails cleanly */
    nncwt_assert_status(nncw_checkpoint_save(g, "/nonexistent/dir/x.nncw"), NNCW_ERR_IO);
    nncw_graph_free(g);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("losses_optimizers");
    tcase_add_test(tc, test_cross_entropy_matches_hand_values);
    tcase_add_test(tc, test_sgd_momentum_nesterov_weight_decay);
    tcase_add_test(tc, test_adam_first_steps);
    tcase_add_test(tc, test_optim_rejects_bad_settings);
    tcase_add_test(tc, test_lr_schedules);
    suite_add_tcase(s, tc);
    tc = tcase_create("loop");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_train_learns_and_is_reproducible);
    tcase_add_test(tc, test_train_cancel_keeps_state);
    tcase_add_test(tc, test_train_divergence_is_reported);
    tcase_add_test(tc, test_train_rejects_bad_options_and_data);
    suite_add_tcase(s, tc);
    tc = tcase_create("checkpoint");
    tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
    tcase_add_test(tc, test_checkpoint_round_trip);
    tcase_add_test(tc, test_checkpoint_bad_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(train_suite());
}
