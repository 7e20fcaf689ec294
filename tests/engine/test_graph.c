#include <string.h>

#include "graph/graph.h"
#include "nncwt.h"

/* input -> relu -> identity ; a param feeding an add */
static struct nncw_graph *small_graph(int *x, int *y)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 2, (int64_t[]){-1, 4}, x),
                        NNCW_OK);
    struct nncw_tensor b;
    nncwt_tensor_from(&b, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    int p, r, s;
    nncwt_assert_status(nncw_graph_add_param(g, "bias", &b, true, &p), NNCW_OK);
    nncw_tensor_fini(&b);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_ADD, "Net/add", 2, (int[]){*x, p}, 1, &s, NULL),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "Net/block1/relu", 1, &s, 1, &r, NULL),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_IDENTITY, "Net/block2/out", 1, &r, 1, y, NULL),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_add_output(g, *y), NNCW_OK);
    return g;
}

START_TEST(test_graph_build_and_query)
{
    int x, y;
    struct nncw_graph *g = small_graph(&x, &y);
    ck_assert_int_eq(nncw_graph_count_nodes(g), 3);
    ck_assert_int_eq(nncw_graph_count_params(g), 1);
    ck_assert_int_eq(nncw_graph_count_param_elements(g), 4);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_find_node(g, "Net/block1/relu", &n), NNCW_OK);
    ck_assert_int_eq(nncw_node_get_op(n), NNCW_OP_RELU);
    ck_assert_ptr_eq(nncw_graph_get_producer(g, nncw_node_get_output(n, 0)), n);
    nncwt_assert_status(nncw_graph_find_node(g, "Net/nothing", &n), NNCW_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/nothing"));
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_graph_attributes)
{
    int x, y;
    struct nncw_graph *g = small_graph(&x, &y);
    struct nncw_node *n = nncw_graph_get_node(g, 0);
    nncwt_assert_status(nncw_node_set_attr_int(n, "group", 4), NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 2, 2}), NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_float(n, "alpha", 0.5f), NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_string(n, "mode", "constant"), NNCW_OK);
    nncwt_assert_status(nncw_node_set_attr_int(n, "group", 8), NNCW_OK); /* replaces */
    ck_assert_int_eq(nncw_node_get_attr_int(n, "group", 1), 8);
    ck_assert_int_eq(nncw_node_get_attr_int(n, "missing", 3), 3);
    const int64_t *pads;
    ck_assert_int_eq(nncw_node_get_attr_ints(n, "pads", &pads), 4);
    ck_assert_int_eq(pads[2], 2);
    ck_assert_int_eq(nncw_node_get_attr_ints(n, "group", &pads), -1);
    ck_assert_float_eq(nncw_node_get_attr_float(n, "alpha", 0), 0.5f);
    ck_assert_str_eq(nncw_node_get_attr_string(n, "mode", ""), "constant");
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_graph_scope_patterns)
{
    bool m;
    nncwt_assert_status(nncw_scope_matches("Net/block1/relu", "Net/block1/relu", &m), NNCW_OK);
    ck_assert(m);
    nncwt_assert_status(nncw_scope_matches("Net/block1", "Net/block1/relu", &m), NNCW_OK);
    ck_assert(!m); /* no prefix matching, as NNCF 2.0 */
    nncwt_assert_status(nncw_scope_matches("{re}block[0-9]+/relu$", "Net/block1/relu", &m), NNCW_OK);
    ck_assert(m);
    nncwt_assert_status(nncw_scope_matches("{re}block(", "Net/block1/relu", &m), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "block("));
}
END_TEST

START_TEST(test_graph_topo_order_follows_edges)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, a, b, c;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 1, (int64_t[]){3}, &x), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "a", 1, &x, 1, &a, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "b", 1, &a, 1, &b, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_ADD, "c", 2, (int[]){b, a}, 1, &c, NULL), NNCW_OK);
    const int *order;
    nncwt_assert_status(nncw_graph_topo_order(g, &order), NNCW_OK);
    ck_assert_int_eq(order[0], 0);
    ck_assert_int_eq(order[1], 1);
    ck_assert_int_eq(order[2], 2);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_graph_rejects_bad_nodes)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, y;
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 1, (int64_t[]){3}, &x), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "r", 1, &x, 1, &y, NULL), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "r", 1, &x, 1, &y, NULL),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "'r'"));
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_ADD, "a", 1, &x, 1, &y, NULL),
                        NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_RELU, "q", 1, (int[]){42}, 1, &y, NULL),
                        NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 1, (int64_t[]){3}, &x),
                        NNCW_ERR_INVALID_ARG);
    nncwt_assert_status(nncw_graph_add_input(g, "z", NNCW_DTYPE_F32, 2, (int64_t[]){3, -1}, &x),
                        NNCW_ERR_SHAPE);
    nncw_graph_free(g);
}
END_TEST

static Suite *graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("building");
    tcase_add_test(tc, test_graph_build_and_query);
    tcase_add_test(tc, test_graph_attributes);
    tcase_add_test(tc, test_graph_topo_order_follows_edges);
    suite_add_tcase(s, tc);
    tc = tcase_create("scopes");
    tcase_add_test(tc, test_graph_scope_patterns);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_graph_rejects_bad_nodes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(graph_suite());
}
