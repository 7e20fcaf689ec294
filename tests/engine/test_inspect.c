/* Inspection helpers: tensor element access and statistics (tensor/stats.h), per-node
 * parameter counts, FLOPs and consumers (graph/inspect.h). */
#include <math.h>
#include <string.h>

#include "graph/inspect.h"
#include "nncwt.h"
#include "tensor/stats.h"
#include "zoo/zoo.h"

START_TEST(test_stats_of_a_small_tensor)
{
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    struct nncw_tensor_stats st;
    nncw_tensor_get_stats(&t, &st);
    ck_assert_int_eq(st.count, 4);
    ck_assert_double_eq(st.min, 1);
    ck_assert_double_eq(st.max, 4);
    ck_assert_double_eq_tol(st.mean, 2.5, 1e-12);
    ck_assert_double_eq_tol(st.std, sqrt(1.25), 1e-12);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_stats_skip_nan_and_count_inf)
{
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 1, (int64_t[]){4}, (float[]){NAN, 1, INFINITY, 3});
    struct nncw_tensor_stats st;
    nncw_tensor_get_stats(&t, &st);
    ck_assert_int_eq(st.n_nan, 1);
    ck_assert_int_eq(st.n_inf, 1);
    ck_assert_double_eq(st.min, 1);
    ck_assert(isinf(st.max));
    ck_assert_double_eq_tol(st.mean, 2, 1e-12);
    nncw_tensor_fini(&t);
    struct nncw_tensor empty;
    nncw_tensor_init_borrowed(&empty, NNCW_DTYPE_F32, 1, (int64_t[]){3}, NULL);
    nncw_tensor_get_stats(&empty, &st);
    ck_assert_int_eq(st.count, 0);
    ck_assert(isnan(st.mean));
}
END_TEST

START_TEST(test_stats_precise_with_a_large_mean)
{
    /* the two-pass std keeps its digits where a one-pass formula would not */
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 1, (int64_t[]){3}, (float[]){100000, 100001, 100002});
    struct nncw_tensor_stats st;
    nncw_tensor_get_stats(&t, &st);
    ck_assert_double_eq_tol(st.std, sqrt(2.0 / 3.0), 1e-9);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_element_access_by_index)
{
    struct nncw_tensor t;
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 2, (int64_t[]){2, 3}), NNCW_OK);
    nncwt_assert_status(nncw_tensor_set_element(&t, 2, (int64_t[]){1, 2}, 7.5), NNCW_OK);
    double v;
    nncwt_assert_status(nncw_tensor_get_element(&t, 2, (int64_t[]){1, 2}, &v), NNCW_OK);
    ck_assert_double_eq(v, 7.5);
    ck_assert_double_eq(nncw_tensor_get_flat(&t, 5), 7.5);
    nncwt_assert_status(nncw_tensor_get_element(&t, 2, (int64_t[]){2, 0}, &v),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "index 2 of dimension 0"));
    nncwt_assert_status(nncw_tensor_get_element(&t, 1, (int64_t[]){0}, &v), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "1 indices for a 2-dimensional tensor"));
    nncwt_assert_status(nncw_tensor_set_flat(&t, 6, 1), NNCW_ERR_INVALID_ARG);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_element_access_honours_strides)
{
    /* a transposed view of [[1, 2, 3], [4, 5, 6]]: flat order is 1 4 2 5 3 6 */
    struct nncw_tensor t;
    nncwt_tensor_from(&t, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    struct nncw_tensor v = t;
    v.shape[0] = 3;
    v.shape[1] = 2;
    v.strides[0] = 1;
    v.strides[1] = 3;
    ck_assert_double_eq(nncw_tensor_get_flat(&v, 1), 4);
    ck_assert_double_eq(nncw_tensor_get_flat(&v, 2), 2);
    double x;
    nncwt_assert_status(nncw_tensor_get_element(&v, 2, (int64_t[]){2, 1}, &x), NNCW_OK);
    ck_assert_double_eq(x, 6);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_integer_dtypes_check_values)
{
    struct nncw_tensor t;
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_I8, 1, (int64_t[]){2}), NNCW_OK);
    nncwt_assert_status(nncw_tensor_set_flat(&t, 0, -128), NNCW_OK);
    nncwt_assert_status(nncw_tensor_set_flat(&t, 1, 128), NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "int8 cannot hold 128"));
    nncwt_assert_status(nncw_tensor_set_flat(&t, 1, 0.5), NNCW_ERR_DTYPE);
    ck_assert_double_eq(nncw_tensor_get_flat(&t, 0), -128);
    nncw_tensor_fini(&t);
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_U8, 1, (int64_t[]){1}), NNCW_OK);
    nncwt_assert_status(nncw_tensor_set_flat(&t, 0, -1), NNCW_ERR_DTYPE);
    nncw_tensor_fini(&t);
}
END_TEST

static struct nncw_graph *cnn(void)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &o, &g), NNCW_OK);
    nncwt_assert_status(nncw_graph_infer_shapes(g, 1), NNCW_OK);
    return g;
}

static const struct nncw_node *node(struct nncw_graph *g, const char *scope)
{
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, scope, &n), NNCW_OK);
    return n;
}

START_TEST(test_node_params_and_flops_of_the_cnn)
{
    struct nncw_graph *g = cnn();
    ck_assert_int_eq(nncw_node_count_param_elements(g, node(g, "CNN/conv1")), 320);
    ck_assert_int_eq(nncw_node_count_param_elements(g, node(g, "CNN/relu1")), 0);
    ck_assert_int_eq(nncw_node_count_macs(g, node(g, "CNN/conv1")), 9 * 32 * 26 * 26);
    ck_assert_int_eq(nncw_node_count_flops(g, node(g, "CNN/conv1")), 2 * 9 * 32 * 26 * 26);
    ck_assert_int_eq(nncw_node_count_macs(g, node(g, "CNN/conv2")), 32 * 9 * 64 * 11 * 11);
    ck_assert_int_eq(nncw_node_count_macs(g, node(g, "CNN/fc1")), 1600 * 128);
    ck_assert_int_eq(nncw_node_count_macs(g, node(g, "CNN/relu1")), 0);
    ck_assert_int_eq(nncw_node_count_flops(g, node(g, "CNN/relu1")), 32 * 26 * 26);
    ck_assert_int_eq(nncw_node_count_flops(g, node(g, "CNN/pool1")), 32 * 13 * 13);
    ck_assert_int_eq(nncw_node_count_flops(g, node(g, "CNN/flatten")), 1600);
    /* the nodes add up to the graph's count at the same batch size */
    int64_t flops = 0, macs = 0, graph_flops, graph_macs;
    for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
        flops += nncw_node_count_flops(g, nncw_graph_get_node(g, i));
        macs += nncw_node_count_macs(g, nncw_graph_get_node(g, i));
    }
    nncwt_assert_status(nncw_graph_count_flops(g, 1, &graph_macs, &graph_flops), NNCW_OK);
    ck_assert_int_eq(graph_flops, flops);
    ck_assert_int_eq(graph_macs, macs);
    /* counts scale with the batch the shapes were inferred at */
    nncwt_assert_status(nncw_graph_infer_shapes(g, 4), NNCW_OK);
    ck_assert_int_eq(nncw_node_count_flops(g, node(g, "CNN/conv1")), 4 * 2 * 9 * 32 * 26 * 26);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_batchnorm_buffers_are_not_parameters)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("resnet20");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("resnet20", &o, &g), NNCW_OK);
    nncwt_assert_status(nncw_graph_infer_shapes(g, 1), NNCW_OK);
    const struct nncw_node *bn = node(g, "ResNet20/bn1");
    ck_assert_int_eq(nncw_node_count_param_elements(g, bn), 2 * 16);
    ck_assert_int_eq(nncw_node_count_flops(g, bn), 16 * 32 * 32);
    ck_assert_int_eq(nncw_node_count_flops(g, node(g, "ResNet20/avgpool")), 64);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_consumers_of_values)
{
    struct nncw_graph *g = cnn();
    int out = nncw_node_get_output(node(g, "CNN/conv1"), 0);
    int users[4] = {-1, -1, -1, -1};
    ck_assert_int_eq(nncw_graph_find_consumers(g, out, users, 4), 1);
    ck_assert_str_eq(nncw_node_get_name(nncw_graph_get_node(g, users[0])), "CNN/relu1");
    int y = nncw_graph_get_output(g, 0);
    ck_assert_int_eq(nncw_graph_find_consumers(g, y, NULL, 0), 0);
    /* the input is read by conv1 only; counting works with max 0 */
    ck_assert_int_eq(nncw_graph_find_consumers(g, nncw_graph_get_input(g, 0), NULL, 0), 1);
    nncw_graph_free(g);
}
END_TEST

static Suite *inspect_suite(void)
{
    Suite *s = suite_create("inspect");
    TCase *tc = tcase_create("tensor_stats");
    tcase_add_test(tc, test_stats_of_a_small_tensor);
    tcase_add_test(tc, test_stats_skip_nan_and_count_inf);
    tcase_add_test(tc, test_stats_precise_with_a_large_mean);
    suite_add_tcase(s, tc);
    tc = tcase_create("elements");
    tcase_add_test(tc, test_element_access_by_index);
    tcase_add_test(tc, test_element_access_honours_strides);
    tcase_add_test(tc, test_integer_dtypes_check_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("graph");
    tcase_add_test(tc, test_node_params_and_flops_of_the_cnn);
    tcase_add_test(tc, test_batchnorm_buffers_are_not_parameters);
    tcase_add_test(tc, test_consumers_of_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(inspect_suite());
}
