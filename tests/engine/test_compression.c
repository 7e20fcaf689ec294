/* The common compression machinery: batch-norm adaptation, the training loop's hooks,
 * per-parameter learning rates, graph rewiring and the statistics tables. */
#include <math.h>
#include <string.h>

#include "compression/compression.h"
#include "core/alloc.h"
#include "core/text_table.h"
#include "data/data.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

/* input [-1, 2, 3, 3] -> BatchNormalization -> output; running stats start at 5 and 7 */
static struct nncw_graph *bn_graph(int *mean_id, int *var_id)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, p[4], y;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 4,
                                             (int64_t[]){-1, 2, 3, 3}, &x),
                        NNCW_OK);
    const char *names[] = {"scale", "bias", "mean", "var"};
    float init[] = {1, 0, 5, 7};
    for (int i = 0; i < 4; i++) {
        struct nncw_tensor t;
        nncwt_tensor_from(&t, 1, (int64_t[]){2}, (float[]){init[i], init[i]});
        nncwt_assert_status(nncw_graph_add_param(g, names[i], &t, i < 2, &p[i]), NNCW_OK);
        nncw_tensor_fini(&t);
    }
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_BATCHNORM, "bn", 5,
                                            (int[]){x, p[0], p[1], p[2], p[3]}, 1, &y, &n),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    *mean_id = p[2];
    *var_id = p[3];
    return g;
}

static struct nncw_dataset *ramp_set(int64_t count)
{
    int64_t numel = 2 * 3 * 3;
    float *img = nncw_malloc((size_t)(count * numel) * sizeof(float));
    int32_t *lab = nncw_malloc((size_t)count * sizeof(int32_t));
    for (int64_t i = 0; i < count * numel; i++)
        img[i] = (float)((i * 37) % 101) / 10.0f - (i % numel < 9 ? 0.0f : 3.0f);
    for (int64_t i = 0; i < count; i++)
        lab[i] = (int32_t)(i % 2);
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new("ramp", count, (int64_t[]){2, 3, 3}, 2, img, lab, &ds),
                        NNCW_OK);
    nncw_free(img);
    nncw_free(lab);
    return ds;
}

START_TEST(test_bn_adaptation_one_batch_gives_the_data_statistics)
{
    int mean_id, var_id;
    struct nncw_graph *g = bn_graph(&mean_id, &var_id);
    struct nncw_dataset *ds = ramp_set(16);
    nncwt_assert_status(nncw_batchnorm_adapt(g, ds, 16, 16, 3), NNCW_OK);
    const float *img = nncw_dataset_get_images(ds);
    for (int c = 0; c < 2; c++) {
        double sum = 0, sq = 0;
        int m = 0;
        for (int i = 0; i < 16; i++)
            for (int k = 0; k < 9; k++, m++) {
                double v = img[i * 18 + c * 9 + k];
                sum += v;
                sq += v * v;
            }
        double mean = sum / m, var = (sq - m * mean * mean) / (m - 1); /* unbiased */
        ck_assert_double_eq_tol(nncw_tensor_f32(nncw_graph_get_value_tensor(g, mean_id))[c], mean,
                                1e-4);
        ck_assert_double_eq_tol(nncw_tensor_f32(nncw_graph_get_value_tensor(g, var_id))[c], var,
                                1e-3);
    }
    /* the node's momentum is as before */
    ck_assert(!nncw_node_has_attr(nncw_graph_get_node(g, 0), "momentum") ||
              nncw_node_get_attr_float(nncw_graph_get_node(g, 0), "momentum", 0) == 0.9f);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_bn_adaptation_averages_batches_whatever_the_momentum)
{
    int mean_id, var_id;
    struct nncw_graph *g = bn_graph(&mean_id, &var_id);
    nncwt_assert_status(nncw_node_set_attr_float(nncw_graph_get_node(g, 0), "momentum", 0.99f),
                        NNCW_OK);
    struct nncw_dataset *ds = ramp_set(16);
    /* two batches of 8 cover the data set once: the running mean is the mean of the two batch
     * means, i.e. the data mean, independent of the old value 5 and of momentum 0.99 */
    nncwt_assert_status(nncw_batchnorm_adapt(g, ds, 16, 8, 3), NNCW_OK);
    const float *img = nncw_dataset_get_images(ds);
    double sum = 0;
    for (int i = 0; i < 16; i++)
        for (int k = 0; k < 9; k++)
            sum += img[i * 18 + k];
    ck_assert_double_eq_tol(nncw_tensor_f32(nncw_graph_get_value_tensor(g, mean_id))[0],
                            sum / (16 * 9), 1e-4);
    ck_assert_float_eq(nncw_node_get_attr_float(nncw_graph_get_node(g, 0), "momentum", 0), 0.99f);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_bn_adaptation_rejects_a_data_set_that_does_not_fit)
{
    int mean_id, var_id;
    struct nncw_graph *g = bn_graph(&mean_id, &var_id);
    struct nncw_synthetic_opts so = {.count = 8, .channels = 1, .height = 28, .width = 28,
                                     .num_classes = 2, .seed = 1, .sample_seed = 1};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    nncwt_assert_status(nncw_batchnorm_adapt(g, ds, 8, 4, 1), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "does not fit"));
    ck_assert_float_eq(nncw_tensor_f32(nncw_graph_get_value_tensor(g, mean_id))[0], 5.0f);
    nncwt_assert_status(nncw_batchnorm_adapt(g, ds, 0, 4, 1), NNCW_ERR_INVALID_ARG);
    nncw_dataset_free(ds);
    nncw_graph_free(g);
}
END_TEST

/* ---- the training loop's hooks ---- */
struct hook_log {
    int epochs_begun, steps;
    int64_t last_step;
    int frozen_id;
    float closs_seen;
};

static enum nncw_status on_epoch(void *user, int epoch)
{
    struct hook_log *h = user;
    ck_assert_int_eq(epoch, h->epochs_begun);
    h->epochs_begun++;
    return NNCW_OK;
}

static enum nncw_status on_step(void *user, int64_t global_step)
{
    struct hook_log *h = user;
    ck_assert_int_eq(global_step, h->last_step + 1);
    h->last_step = global_step;
    h->steps++;
    return NNCW_OK;
}

static enum nncw_status extra_loss(void *user, float *loss)
{
    (void)user;
    *loss = 0.25f;
    return NNCW_OK;
}

static float freeze_one(void *user, int value_id)
{
    struct hook_log *h = user;
    return value_id == h->frozen_id ? 0.0f : 1.0f;
}

static bool watch(void *user, const struct nncw_train_event *ev)
{
    struct hook_log *h = user;
    if (ev->type == NNCW_TRAIN_EVENT_STEP)
        h->closs_seen = ev->compression_loss;
    return true;
}

START_TEST(test_trainer_calls_the_hooks_and_honours_lr_scales)
{
    struct nncw_synthetic_opts so = {.count = 64, .channels = 1, .height = 28, .width = 28,
                                     .num_classes = 10, .seed = 1, .sample_seed = 1};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &g), NNCW_OK);
    struct nncw_train_options o = nncw_train_defaults();
    o.epochs = 2;
    o.batch_size = 16;
    o.max_steps_per_epoch = 3;
    o.log_every = 1;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, ds, NULL, &o, &t), NNCW_OK);
    struct hook_log h = {.frozen_id = nncw_graph_get_param(g, 0)};
    struct nncw_tensor before;
    const struct nncw_tensor *w0 = nncw_graph_get_value_tensor(g, h.frozen_id);
    nncwt_assert_status(nncw_tensor_init(&before, NNCW_DTYPE_F32, w0->ndim, w0->shape), NNCW_OK);
    nncwt_assert_status(nncw_tensor_copy(&before, w0), NNCW_OK);
    struct nncw_train_hooks hooks = {.user = &h, .epoch_begin = on_epoch, .step_end = on_step,
                                     .loss = extra_loss, .param_lr_scale = freeze_one};
    nncwt_assert_status(nncw_trainer_set_hooks(t, &hooks), NNCW_OK);
    nncw_trainer_set_callback(t, watch, &h);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    ck_assert_int_eq(h.epochs_begun, 2);
    ck_assert_int_eq(h.steps, 6);
    ck_assert_float_eq(h.closs_seen, 0.25f);
    nncwt_assert_tensor_near(nncw_graph_get_value_tensor(g, h.frozen_id), &before, 0, 0);
    /* another parameter did train */
    nncw_trainer_free(t);
    nncw_tensor_fini(&before);
    nncw_graph_free(g);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_optimizer_lr_scale_errors)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &g), NNCW_OK);
    struct nncw_optim_config oc = nncw_optim_config_sgd(0.1f, 0, 0);
    struct nncw_optim *o;
    nncwt_assert_status(nncw_optim_new(g, &oc, &o), NNCW_OK);
    int w = nncw_graph_get_param(g, 0);
    nncwt_assert_status(nncw_optim_set_param_lr_scale(o, w, -1.0f), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_optim_set_param_lr_scale(o, w, NAN), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_optim_set_param_lr_scale(o, nncw_graph_get_input(g, 0), 2.0f),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "not a trainable parameter"));
    nncwt_assert_status(nncw_optim_set_param_lr_scale(o, w, 10.0f), NNCW_OK);
    nncw_optim_free(o);
    nncw_graph_free(g);
}
END_TEST

/* ---- rewiring ---- */
START_TEST(test_rewiring_checks_its_arguments)
{
    int mean_id, var_id;
    struct nncw_graph *g = bn_graph(&mean_id, &var_id);
    struct nncw_node *bn = nncw_graph_get_node(g, 0);
    nncwt_assert_status(nncw_graph_set_node_input(g, bn, 7, mean_id), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_graph_set_node_input(g, bn, 0, 9999), NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_graph_set_node_input(g, bn, 0, nncw_node_get_output(bn, 0)),
                        NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_graph_set_output(g, 1, mean_id), NNCW_ERR_INVALID_ARG);
    /* a Relu spliced between input and batch norm */
    int y;
    struct nncw_node *relu;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "relu", 1,
                                            (int[]){nncw_graph_get_input(g, 0)}, 1, &y, &relu),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_set_node_input(g, bn, 0, y), NNCW_OK);
    const int *order;
    nncwt_assert_status(nncw_graph_topo_order(g, &order), NNCW_OK);
    ck_assert_int_eq(order[0], nncw_node_get_index(relu));
    nncwt_assert_status(nncw_graph_set_output(g, 0, y), NNCW_OK);
    ck_assert_int_eq(nncw_graph_get_output(g, 0), y);
    nncw_graph_free(g);
}
END_TEST

/* ---- statistics tables ---- */
START_TEST(test_text_table_renders_nncf_style)
{
    struct nncw_text_table *t = nncw_text_table_new(2, (const char *[]){"Statistic's name", "Value"});
    char share[64];
    nncw_format_share(share, sizeof share, 21, 21);
    nncw_text_table_add_row(t, (const char *[]){"Symmetric WQs", share});
    nncw_format_share(share, sizeof share, 0, 0);
    nncw_text_table_add_row(t, (const char *[]){"Empty", share});
    char *text = nncw_text_table_render(t);
    ck_assert_str_eq(text, "+------------------+--------------------+\n"
                           "| Statistic's name | Value              |\n"
                           "+==================+====================+\n"
                           "| Symmetric WQs    | 100.00 % (21 / 21) |\n"
                           "| Empty            | 0.00 % (0 / 0)     |\n"
                           "+------------------+--------------------+\n");
    nncw_free(text);
    nncw_text_table_free(t);
    ck_assert_ptr_null(nncw_text_table_render(NULL));
}
END_TEST

static Suite *compression_suite(void)
{
    Suite *s = suite_create("compression");
    TCase *tc = tcase_create("common");
    tcase_add_test(tc, test_bn_adaptation_one_batch_gives_the_data_statistics);
    tcase_add_test(tc, test_bn_adaptation_averages_batches_whatever_the_momentum);
    tcase_add_test(tc, test_bn_adaptation_rejects_a_data_set_that_does_not_fit);
    tcase_add_test(tc, test_trainer_calls_the_hooks_and_honours_lr_scales);
    tcase_add_test(tc, test_optimizer_lr_scale_errors);
    tcase_add_test(tc, test_rewiring_checks_its_arguments);
    tcase_add_test(tc, test_text_table_renders_nncf_style);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(compression_suite());
}
