/* Knowledge distillation: the two losses and their gradients against hand computations and
 * finite differences, the config entry, the teacher (the float model whatever the entry's
 * place), and training with it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnn_fixture.h"
#include "compression/compression.h"
#include "compression/distillation/kd.h"
#include "config/config.h"
#include "core/alloc.h"
#include "data/data.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

static struct nncw_config *config(const char *compression)
{
    return nncwt_cnn_config("", compression);
}

/* ---- the losses ---- */

START_TEST(test_mse_by_hand)
{
    const float s[] = {1, 2, 3, 4}, t[] = {0, 2, 5, 4};
    float ds[4] = {10, 10, 10, 10};
    /* mean((s - t)^2) = (1 + 0 + 4 + 0) / 4, times scale 2 */
    ck_assert_float_eq_tol(nncw_kd_mse_loss(s, t, 4, 2.0f, ds), 2.5f, 1e-6);
    /* + 2 * 2 (s - t) / 4, added to what was there */
    const float want[] = {11, 10, 8, 10};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(ds[i], want[i], 1e-6);
    ck_assert_float_eq(nncw_kd_mse_loss(s, s, 4, 1.0f, NULL), 0.0f);
}
END_TEST

START_TEST(test_softmax_by_hand)
{
    /* one row, T = 1: sum -p_t log p_s with two classes */
    const float s[] = {0.0f, 0.0f}, t[] = {(float)log(3.0), 0.0f};
    float ds[2] = {0, 0};
    /* p_t = (3/4, 1/4), p_s = (1/2, 1/2): loss = log 2; gradient p_s - p_t */
    ck_assert_float_eq_tol(nncw_kd_softmax_loss(s, t, 1, 2, 1.0f, 1.0f, ds), log(2.0), 1e-6);
    ck_assert_float_eq_tol(ds[0], -0.25f, 1e-6);
    ck_assert_float_eq_tol(ds[1], 0.25f, 1e-6);
    /* T = 2, scale 3, two identical rows: scale T^2 * CE(softmax(t/2), softmax(s/2)); the batch
     * mean leaves one row's value */
    const float s2[] = {1, -1, 1, -1}, t2[] = {2, 0, 2, 0};
    double a = exp(0.5), b = exp(-0.5), ps0 = a / (a + b);
    double pt0 = exp(1.0) / (exp(1.0) + 1.0);
    double ce = -(pt0 * log(ps0) + (1 - pt0) * log(1 - ps0));
    float ds2[4] = {0};
    ck_assert_float_eq_tol(nncw_kd_softmax_loss(s2, t2, 2, 2, 2.0f, 3.0f, ds2), 3 * 4 * ce, 1e-5);
    /* scale T / N (p_s - p_t) */
    ck_assert_float_eq_tol(ds2[0], 3.0 * 2.0 / 2.0 * (ps0 - pt0), 1e-6);
    ck_assert_float_eq_tol(ds2[3], -3.0 * 2.0 / 2.0 * (ps0 - pt0), 1e-6);
}
END_TEST

START_TEST(test_gradients_match_finite_differences)
{
    struct nncw_tensor s, t;
    nncwt_tensor_rand(&s, 2, (int64_t[]){3, 5}, -2, 2, 1);
    nncwt_tensor_rand(&t, 2, (int64_t[]){3, 5}, -2, 2, 2);
    float *sv = nncw_tensor_f32(&s);
    const float *tv = nncw_tensor_f32(&t);
    for (int type = 0; type < 2; type++) {
        float ds[15] = {0};
        if (type == 0)
            nncw_kd_mse_loss(sv, tv, 15, 0.7f, ds);
        else
            nncw_kd_softmax_loss(sv, tv, 3, 5, 1.7f, 0.7f, ds);
        for (int i = 0; i < 15; i++) {
            const float eps = 1e-2f, keep = sv[i];
            sv[i] = keep + eps;
            double lp = type == 0 ? nncw_kd_mse_loss(sv, tv, 15, 0.7f, NULL)
                                  : nncw_kd_softmax_loss(sv, tv, 3, 5, 1.7f, 0.7f, NULL);
            sv[i] = keep - eps;
            double lm = type == 0 ? nncw_kd_mse_loss(sv, tv, 15, 0.7f, NULL)
                                  : nncw_kd_softmax_loss(sv, tv, 3, 5, 1.7f, 0.7f, NULL);
            sv[i] = keep;
            ck_assert_float_eq_tol(ds[i], (lp - lm) / (2 * eps), 2e-3);
        }
    }
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&t);
}
END_TEST

/* ---- config ---- */

static void expect_parse_error(const char *entry, const char *text)
{
    struct nncw_config *cfg = config(entry);
    struct nncw_kd_config k;
    nncwt_assert_status(nncw_kd_config_parse(cfg, 0, &k), NNCW_ERR_PARSE);
    ck_assert_msg(strstr(nncw_last_error(), text), "'%s' not in: %s", text, nncw_last_error());
    nncw_config_free(cfg);
}

START_TEST(test_config)
{
    struct nncw_config *cfg = config("[{\"algorithm\": \"knowledge_distillation\", \"type\": "
                                     "\"softmax\", \"temperature\": 3, \"scale\": 0.5}, "
                                     "{\"algorithm\": \"knowledge_distillation\", \"type\": "
                                     "\"mse\"}]");
    struct nncw_kd_config k;
    nncwt_assert_status(nncw_kd_config_parse(cfg, 0, &k), NNCW_OK);
    ck_assert_int_eq(k.type, NNCW_KD_SOFTMAX);
    ck_assert_float_eq(k.temperature, 3.0f);
    ck_assert_float_eq(k.scale, 0.5f);
    nncwt_assert_status(nncw_kd_config_parse(cfg, 1, &k), NNCW_OK);
    ck_assert_int_eq(k.type, NNCW_KD_MSE);
    ck_assert_float_eq(k.temperature, 1.0f);
    ck_assert_float_eq(k.scale, 1.0f);
    ck_assert_str_eq(nncw_kd_type_name(k.type), "mse");
    nncwt_assert_status(nncw_kd_config_parse(cfg, 2, &k), NNCW_ERR_INVALID_ARG);
    nncw_config_free(cfg);
    expect_parse_error("{\"algorithm\": \"knowledge_distillation\"}", "compression.type: missing");
    expect_parse_error("{\"algorithm\": \"knowledge_distillation\", \"type\": \"kl\"}",
                       "compression.type: expected \"mse\" or \"softmax\", got \"kl\"");
    expect_parse_error("{\"algorithm\": \"knowledge_distillation\", \"type\": \"mse\", "
                       "\"temperature\": \"2\"}",
                       "compression.temperature: expected a number");
    expect_parse_error("{\"algorithm\": \"knowledge_distillation\", \"type\": \"mse\", "
                       "\"scale\": -1}",
                       "compression.scale: expected a number in [0, 1e+06], got -1");
    expect_parse_error("{\"algorithm\": \"knowledge_distillation\", \"type\": \"mse\", "
                       "\"temprature\": 2}",
                       "compression.temprature: unknown key (did you mean 'temperature'?)");
    expect_parse_error("{\"algorithm\": \"knowledge_distillation\", \"type\": \"mse\", "
                       "\"params\": {\"a\": 1}}",
                       "compression.params: unknown key");
    expect_parse_error("{\"algorithm\": \"knowledge_distillation\", \"type\": \"mse\", "
                       "\"ignored_scopes\": [\"CNN/fc1\"]}",
                       "compression.ignored_scopes: unknown key");
}
END_TEST

/* ---- the teacher ---- */

/* the hooks' output loss on the first batch of ds, from a student forward in training mode */
static float output_loss(struct nncw_graph *g, struct nncw_compression *c,
                         const struct nncw_dataset *ds, int batch, struct nncw_tensor *dlogits)
{
    struct nncw_exec_options eo = {.batch = batch, .training = true, .seed = 1};
    struct nncw_exec *ex;
    nncwt_assert_status(nncw_exec_new(g, &eo, &ex), NNCW_OK);
    struct nncw_tensor *x = nncw_exec_get_input(ex, 0);
    memcpy(x->data, nncw_dataset_get_images(ds), nncw_tensor_nbytes(x));
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    const struct nncw_tensor *y = nncw_exec_get_output(ex, 0);
    nncwt_assert_status(nncw_tensor_init(dlogits, NNCW_DTYPE_F32, y->ndim, y->shape), NNCW_OK);
    nncw_tensor_fill_f32(dlogits, 0.0f);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    ck_assert_ptr_nonnull(h.output_loss);
    float loss;
    nncwt_assert_status(h.output_loss(h.user, x, y, dlogits, &loss), NNCW_OK);
    nncw_exec_free(ex);
    return loss;
}

START_TEST(test_identical_teacher_and_student_give_zero_mse)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(16);
    struct nncw_config *cfg = config("{\"algorithm\": \"knowledge_distillation\", \"type\": "
                                     "\"mse\"}");
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    struct nncw_tensor d;
    ck_assert_float_eq(output_loss(g, c, ds, 8, &d), 0.0f);
    for (int64_t i = 0; i < nncw_tensor_numel(&d); i++)
        ck_assert_float_eq(nncw_tensor_f32(&d)[i], 0.0f);
    nncw_tensor_fini(&d);
    /* a second batch size gets its own teacher executor */
    ck_assert_float_eq(output_loss(g, c, ds, 5, &d), 0.0f);
    nncw_tensor_fini(&d);
    /* KD adds no statistics or stage of its own */
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_teacher_is_the_float_model_in_either_order)
{
    const char *orders[] = {
        "[{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.7}, {\"algorithm\": "
        "\"knowledge_distillation\", \"type\": \"mse\", \"scale\": 2}]",
        "[{\"algorithm\": \"knowledge_distillation\", \"type\": \"mse\", \"scale\": 2}, "
        "{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.7}]"};
    struct nncw_dataset *ds = nncwt_cnn_data(8);
    float losses[2];
    for (int o = 0; o < 2; o++) {
        struct nncw_graph *g = nncwt_cnn(), *orig;
        nncwt_assert_status(nncw_graph_clone(g, &orig), NNCW_OK);
        struct nncw_config *cfg = config(orders[o]);
        struct nncw_compression *c;
        nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
        struct nncw_tensor d;
        losses[o] = output_loss(g, c, ds, 8, &d);
        /* by hand: the float model's and the sparse model's logits in training mode */
        struct nncw_exec_options eo = {.batch = 8, .training = true, .seed = 1};
        struct nncw_exec *es, *et;
        nncwt_assert_status(nncw_exec_new(g, &eo, &es), NNCW_OK);
        nncwt_assert_status(nncw_exec_new(orig, &eo, &et), NNCW_OK);
        memcpy(nncw_exec_get_input(es, 0)->data, nncw_dataset_get_images(ds),
               nncw_tensor_nbytes(nncw_exec_get_input(es, 0)));
        memcpy(nncw_exec_get_input(et, 0)->data, nncw_dataset_get_images(ds),
               nncw_tensor_nbytes(nncw_exec_get_input(et, 0)));
        nncwt_assert_status(nncw_exec_forward(es), NNCW_OK);
        nncwt_assert_status(nncw_exec_forward(et), NNCW_OK);
        const struct nncw_tensor *ys = nncw_exec_get_output(es, 0),
                                 *yt = nncw_exec_get_output(et, 0);
        double sum = 0;
        int64_t n = nncw_tensor_numel(ys);
        for (int64_t i = 0; i < n; i++) {
            double e = nncw_tensor_f32(ys)[i] - nncw_tensor_f32(yt)[i];
            sum += e * e;
            ck_assert_float_eq_tol(nncw_tensor_f32(&d)[i], 2.0 * 2.0 * e / (double)n, 1e-6);
        }
        ck_assert_float_eq_tol(losses[o], 2.0 * sum / (double)n, 1e-5 * (1 + losses[o]));
        ck_assert_float_gt(losses[o], 0.0f);
        nncw_exec_free(es);
        nncw_exec_free(et);
        nncw_tensor_fini(&d);
        nncw_compression_free(c);
        nncw_config_free(cfg);
        nncw_graph_free(orig);
        nncw_graph_free(g);
    }
    ck_assert_float_eq_tol(losses[0], losses[1], 1e-6 * losses[0]);
    nncw_dataset_free(ds);
}
END_TEST

static bool keep_closs(void *user, const struct nncw_train_event *ev)
{
    float *closs = user;
    if (ev->type == NNCW_TRAIN_EVENT_STEP)
        *closs = ev->compression_loss;
    return true;
}

START_TEST(test_training_with_kd_runs)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *ds = nncwt_cnn_data(48);
    struct nncw_config *cfg =
        config("[{\"algorithm\": \"magnitude_sparsity\", \"sparsity_init\": 0.5}, {\"algorithm\": "
               "\"knowledge_distillation\", \"type\": \"softmax\", \"temperature\": 2}]");
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = 1;
    o.batch_size = 20; /* 20, 20 and a tail of 8: two teacher executors */
    o.log_every = 1;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, ds, ds, &o, &t), NNCW_OK);
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    nncwt_assert_status(nncw_trainer_set_hooks(t, &h), NNCW_OK);
    float closs = -1;
    nncw_trainer_set_callback(t, keep_closs, &closs);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    struct nncw_train_event last;
    nncw_trainer_get_last_epoch(t, &last);
    ck_assert(isfinite(last.train_loss) && isfinite(last.test_acc));
    ck_assert(isfinite(closs) && closs > 0.0f);
    nncw_trainer_free(t);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

static Suite *kd_suite(void)
{
    Suite *s = suite_create("kd");
    TCase *tc = tcase_create("losses");
    tcase_add_test(tc, test_mse_by_hand);
    tcase_add_test(tc, test_softmax_by_hand);
    tcase_add_test(tc, test_gradients_match_finite_differences);
    tcase_add_test(tc, test_config);
    suite_add_tcase(s, tc);
    tc = tcase_create("teacher");
    tcase_add_test(tc, test_identical_teacher_and_student_give_zero_mse);
    tcase_add_test(tc, test_teacher_is_the_float_model_in_either_order);
    tcase_add_test(tc, test_training_with_kd_runs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(kd_suite());
}
