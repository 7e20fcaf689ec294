#include <string.h>

#include "graph/exec.h"
#include "nncwt.h"
#include "zoo/zoo.h"

/* parameter counts as torchvision / torch_baseline.py give them for the same layouts */
static void check_model(const char *name, int64_t params, int64_t logits)
{
    struct nncw_zoo_options o = nncw_zoo_defaults(name);
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build(name, &o, &g), NNCW_OK);
    ck_assert_int_eq(nncw_graph_count_param_elements(g), params);
    struct nncw_exec *ex;
    struct nncw_exec_options eo = {.batch = 2};
    nncwt_assert_status(nncw_exec_new(g, &eo, &ex), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    const struct nncw_tensor *y = nncw_exec_get_output(ex, 0);
    ck_assert_int_eq(y->ndim, 2);
    ck_assert_int_eq(y->shape[0], 2);
    ck_assert_int_eq(y->shape[1], logits);
    nncw_exec_free(ex);
    nncw_graph_free(g);
}

START_TEST(test_zoo_cnn_matches_the_baseline)
{
    check_model("cnn", 225034, 10);
}
END_TEST

START_TEST(test_zoo_resnet18_matches_torchvision)
{
    check_model("resnet18", 11173962, 10);
}
END_TEST

START_TEST(test_zoo_resnet20_has_he_et_al_layout)
{
    /* 269,722 with He et al.'s zero-padding shortcuts; the two 1x1 projections add 2,752 */
    check_model("resnet20", 272474, 10);
}
END_TEST

START_TEST(test_zoo_mobilenet_v2_matches_torchvision)
{
    check_model("mobilenet_v2", 2236682, 10);
    struct nncw_zoo_options o = nncw_zoo_defaults("mobilenet_v2");
    o.width_mult = 0.5f;
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("mobilenet_v2", &o, &g), NNCW_OK);
    ck_assert_int_eq(nncw_graph_count_param_elements(g), 700490);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_zoo_scopes_are_hierarchical)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("resnet18");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("resnet18", &o, &g), NNCW_OK);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, "ResNet18/layer2.0/downsample.0", &n), NNCW_OK);
    ck_assert_int_eq(nncw_node_get_op(n), NNCW_OP_CONV);
    ck_assert_str_eq(nncw_graph_get_value_name(g, nncw_node_get_input(n, 1)),
                     "layer2.0.downsample.0.weight");
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_zoo_other_sizes_and_classes)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("resnet18");
    o.classes = 100;
    o.in_h = o.in_w = 64;
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("resnet18", &o, &g), NNCW_OK);
    struct nncw_exec *ex;
    struct nncw_exec_options eo = {.batch = 1};
    nncwt_assert_status(nncw_exec_new(g, &eo, &ex), NNCW_OK);
    ck_assert_int_eq(nncw_exec_get_output(ex, 0)->shape[1], 100);
    nncw_exec_free(ex);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_zoo_same_seed_same_weights)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("cnn");
    struct nncw_graph *a, *b;
    nncwt_assert_status(nncw_zoo_build("cnn", &o, &a), NNCW_OK);
    nncwt_assert_status(nncw_zoo_build("cnn", &o, &b), NNCW_OK);
    const struct nncw_tensor *wa = nncw_graph_get_value_tensor(a, nncw_graph_get_param(a, 0));
    const struct nncw_tensor *wb = nncw_graph_get_value_tensor(b, nncw_graph_get_param(b, 0));
    ck_assert_int_eq(memcmp(wa->data, wb->data, nncw_tensor_nbytes(wa)), 0);
    nncw_graph_free(a);
    nncw_graph_free(b);
}
END_TEST

START_TEST(test_zoo_errors)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("vgg16", &o, &g), NNCW_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "vgg16"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "resnet18"));
    o.classes = 0;
    nncwt_assert_status(nncw_zoo_build("cnn", &o, &g), NNCW_ERR_INVALID_ARG);
    o = nncw_zoo_defaults("cnn");
    o.in_h = 6;
    nncwt_assert_status(nncw_zoo_build("cnn", &o, &g), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "too small"));
    o = nncw_zoo_defaults("mobilenet_v2");
    o.width_mult = -1;
    nncwt_assert_status(nncw_zoo_build("mobilenet_v2", &o, &g), NNCW_ERR_INVALID_ARG);
}
END_TEST

static Suite *zoo_suite(void)
{
    Suite *s = suite_create("zoo");
    TCase *tc = tcase_create("models");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_zoo_cnn_matches_the_baseline);
    tcase_add_test(tc, test_zoo_resnet18_matches_torchvision);
    tcase_add_test(tc, test_zoo_resnet20_has_he_et_al_layout);
    tcase_add_test(tc, test_zoo_mobilenet_v2_matches_torchvision);
    tcase_add_test(tc, test_zoo_scopes_are_hierarchical);
    tcase_add_test(tc, test_zoo_other_sizes_and_classes);
    tcase_add_test(tc, test_zoo_same_seed_same_weights);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_zoo_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(zoo_suite());
}
