/* The workbench's pure parts, as plain C: number formatting, the Graph panel's rows, chart
 * rasterisation, histogram columns, the line ring, the training history, the graph view, the
 * compression view and trace, the Quantizers table, scope matching, list scrolling and the
 * training form's Lua. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nncwt.h"

#include "compression_view.h"
#include "fmt.h"
#include "graph_rows.h"
#include "graph_view.h"
#include "keys.h"
#include "line_ring.h"
#include "lua/search_board.h" /* the Search panel's feed */
#include "quant_table.h"
#include "scope_match.h"
#include "train_form.h"
#include "train_history.h"
#include "widgets/chart.h"
#include "widgets/histogram.h"
#include "widgets/text_view.h"
#include "zoo/zoo.h"

/* ---- fmt ---- */

START_TEST(test_fmt_count_groups_thousands)
{
    char b[32];
    ck_assert_str_eq(ui_fmt_count(225034, b, sizeof b), "225,034");
    ck_assert_str_eq(ui_fmt_count(0, b, sizeof b), "0");
    ck_assert_str_eq(ui_fmt_count(999, b, sizeof b), "999");
    ck_assert_str_eq(ui_fmt_count(-1234567, b, sizeof b), "-1,234,567");
}
END_TEST

START_TEST(test_fmt_si_scales)
{
    char b[32];
    ck_assert_str_eq(ui_fmt_si(389376, b, sizeof b), "389.4k");
    ck_assert_str_eq(ui_fmt_si(320, b, sizeof b), "320");
    ck_assert_str_eq(ui_fmt_si(5.3e6, b, sizeof b), "5.3M");
    ck_assert_str_eq(ui_fmt_si(1.8e9, b, sizeof b), "1.8G");
    ck_assert_str_eq(ui_fmt_si(999.96, b, sizeof b), "1.0k");
}
END_TEST

START_TEST(test_fmt_duration)
{
    char b[32];
    ck_assert_str_eq(ui_fmt_duration(7.4, b, sizeof b), "0:07");
    ck_assert_str_eq(ui_fmt_duration(725, b, sizeof b), "12:05");
    ck_assert_str_eq(ui_fmt_duration(3723, b, sizeof b), "1:02:03");
    ck_assert_str_eq(ui_fmt_duration(NAN, b, sizeof b), "--:--");
    ck_assert_str_eq(ui_fmt_duration(-1, b, sizeof b), "--:--");
}
END_TEST

START_TEST(test_fmt_bar_fills_and_clamps)
{
    char b[64];
    ck_assert_str_eq(ui_fmt_bar(0.5, 4, NULL, NULL, b, sizeof b), "##--");
    ck_assert_str_eq(ui_fmt_bar(2, 3, NULL, NULL, b, sizeof b), "###");
    ck_assert_str_eq(ui_fmt_bar(NAN, 3, NULL, NULL, b, sizeof b), "---");
    ck_assert_str_eq(ui_fmt_bar(1, 2, "█", "░", b, sizeof b), "██");
    ck_assert_str_eq(ui_fmt_bar(1, 10, "█", "░", b, 7), "██"); /* stops before overflowing */
}
END_TEST

/* ---- graph view and rows ---- */

static struct graph_view *zoo_view(const char *name)
{
    struct nncw_zoo_options o = nncw_zoo_defaults(name);
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build(name, &o, &g), NNCW_OK);
    nncwt_assert_status(nncw_graph_infer_shapes(g, 1), NNCW_OK);
    struct graph_view *v;
    nncwt_assert_status(graph_view_build(g, "model", NULL, &v), NNCW_OK);
    nncw_graph_free(g); /* the view is a copy */
    return v;
}

START_TEST(test_graph_view_copies_the_cnn)
{
    struct graph_view *v = zoo_view("cnn");
    ck_assert_int_eq(v->n_nodes, 10);
    ck_assert_int_eq(v->params, 225034);
    ck_assert_str_eq(v->nodes[0].scope, "CNN/conv1");
    ck_assert_str_eq(v->nodes[0].op, "Conv");
    ck_assert_str_eq(v->nodes[0].out_shape, "[1, 32, 26, 26]");
    ck_assert_int_eq(v->nodes[0].params, 320);
    ck_assert_int_eq(v->nodes[0].flops, 389376);
    ck_assert_int_eq(v->nodes[0].n_consumers, 1);
    ck_assert_str_eq(v->nodes[v->nodes[0].consumers[0]].scope, "CNN/relu1");
    ck_assert_int_eq(v->nodes[1].n_producers, 1);
    ck_assert_int_eq(v->nodes[1].producers[0], 0);
    ck_assert_int_eq(graph_view_find(v, "CNN/fc2"), 9);
    ck_assert_int_eq(graph_view_find(v, "CNN/nope"), -1);
    /* conv1.weight: 288 finite values, all in the histogram */
    const struct graph_view_weight *w = &v->weights[v->nodes[0].inputs[1].weight];
    ck_assert_str_eq(w->name, "conv1.weight");
    ck_assert_int_eq(w->stats.count, 288);
    uint64_t total = 0;
    for (int b = 0; b < GRAPH_VIEW_BINS; b++)
        total += w->bins[b];
    ck_assert_int_eq(total, 288);
    ck_assert(w->lo <= w->stats.min && w->hi >= w->stats.max);
    graph_view_release(v);
}
END_TEST

START_TEST(test_graph_view_marks_zero_channels)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &o, &g), NNCW_OK);
    nncwt_assert_status(nncw_graph_infer_shapes(g, 1), NNCW_OK);
    struct nncw_node *conv;
    nncwt_assert_status(nncw_graph_find_node(g, "CNN/conv1", &conv), NNCW_OK);
    struct nncw_tensor *w = nncw_graph_get_value_tensor(g, nncw_node_get_input(conv, 1));
    for (int i = 0; i < 4 * 9; i++) /* output channels 0..3 of [32, 1, 3, 3] */
        nncw_tensor_f32(w)[i] = 0;
    struct graph_view *v;
    nncwt_assert_status(graph_view_build(g, "model", NULL, &v), NNCW_OK);
    const struct graph_view_weight *vw = &v->weights[v->nodes[0].inputs[1].weight];
    ck_assert_int_eq(vw->zeros, 36);
    ck_assert_int_eq(vw->channels, 32);
    ck_assert_int_eq(vw->zero_channels, 4);
    /* 36 zeros of 320 weights and biases: 11% */
    ck_assert_str_eq(v->nodes[0].marks, "S11% P4/32");
    ck_assert_str_eq(v->nodes[3].marks, ""); /* conv2 untouched */
    graph_view_release(v);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_graph_rows_tree_groups_and_sums)
{
    struct graph_view *v = zoo_view("resnet20");
    struct ui_graph_rows r = {0};
    ck_assert(ui_graph_rows_build(&r, v, true, NULL, 0));
    ck_assert_int_gt(r.n, v->n_nodes); /* groups come on top of the nodes */
    ck_assert_int_eq(r.rows[0].kind, UI_ROW_GROUP);
    ck_assert_int_eq(r.rows[0].depth, 0);
    ck_assert_int_eq(r.rows[0].count, v->n_nodes);
    ck_assert_int_eq(r.rows[0].params, v->params);
    int nodes = 0;
    for (int i = 0; i < r.n; i++) {
        nodes += r.rows[i].kind == UI_ROW_NODE;
        if (i > 0) /* depth grows one level at a time */
            ck_assert_int_le(r.rows[i].depth, r.rows[i - 1].depth + 1);
    }
    ck_assert_int_eq(nodes, v->n_nodes);
    ui_graph_rows_fini(&r);
    graph_view_release(v);
}
END_TEST

START_TEST(test_graph_rows_collapse_hides_the_inside)
{
    struct graph_view *v = zoo_view("cnn");
    struct ui_graph_rows r = {0};
    ck_assert(ui_graph_rows_build(&r, v, true, NULL, 0));
    ck_assert_int_eq(r.n, 11); /* CNN and its 10 nodes */
    ck_assert_str_eq(r.rows[0].prefix, "CNN");
    ck_assert_str_eq(r.rows[1].name, "conv1");
    ck_assert_int_eq(ui_graph_rows_find_node(&r, 9), 10);
    char *collapsed[] = {"CNN"};
    ck_assert(ui_graph_rows_build(&r, v, true, collapsed, 1));
    ck_assert_int_eq(r.n, 1);
    ck_assert(r.rows[0].collapsed);
    ck_assert_int_eq(ui_graph_rows_find_node(&r, 0), -1);
    ui_graph_rows_fini(&r);
    graph_view_release(v);
}
END_TEST

START_TEST(test_graph_rows_flat_is_topological)
{
    struct graph_view *v = zoo_view("resnet20");
    struct ui_graph_rows r = {0};
    ck_assert(ui_graph_rows_build(&r, v, false, NULL, 0));
    ck_assert_int_eq(r.n, v->n_nodes);
    char *pos = calloc((size_t)v->n_nodes, 1);
    for (int i = 0; i < r.n; i++) { /* every producer comes before its consumers */
        const struct graph_view_node *n = &v->nodes[r.rows[i].node];
        ck_assert_str_eq(r.rows[i].name, n->scope);
        for (int p = 0; p < n->n_producers; p++)
            ck_assert_msg(pos[n->producers[p]], "%s before its producer", n->scope);
        pos[r.rows[i].node] = 1;
    }
    free(pos);
    ui_graph_rows_fini(&r);
    graph_view_release(v);
}
END_TEST

START_TEST(test_graph_rows_without_a_view)
{
    struct ui_graph_rows r = {0};
    ck_assert(ui_graph_rows_build(&r, NULL, true, NULL, 0));
    ck_assert_int_eq(r.n, 0);
    ui_graph_rows_fini(&r);
}
END_TEST

/* ---- charts and histograms ---- */

START_TEST(test_chart_raster_joins_points)
{
    double x[] = {0, 1}, y[] = {0, 1};
    struct ui_series s = {x, y, 2, UI_STYLE_SERIES1, "s"};
    uint8_t bits[4 * 2];
    int8_t owner[4 * 2];
    /* 4 x 2 cells of 2 x 4 dots: a diagonal from the bottom left to the top right */
    ui_chart_raster(&s, 1, 0, 1, 0, 1, 4, 2, 2, 4, bits, owner);
    ck_assert_int_ne(bits[1 * 4 + 0], 0); /* bottom-left cell */
    ck_assert_int_ne(bits[0 * 4 + 3], 0); /* top-right cell */
    ck_assert_int_eq(bits[0 * 4 + 0], 0); /* top-left: empty */
    ck_assert_int_eq(owner[0], -1);
    ck_assert_int_eq(owner[1 * 4 + 0], 0);
    /* the lowest dot of the bottom-left cell: row 3, column 0 -> bit 6 */
    ck_assert(bits[1 * 4 + 0] & (1u << 6));
}
END_TEST

START_TEST(test_chart_range_skips_nan)
{
    double x[] = {1, 2, 3}, y[] = {5, NAN, -1};
    struct ui_series s = {x, y, 3, UI_STYLE_SERIES1, NULL};
    double x0, x1, y0, y1;
    ui_chart_range(&s, 1, &x0, &x1, &y0, &y1);
    ck_assert(x0 == 1 && x1 == 3 && y0 == -1 && y1 == 5);
    s.n = 0;
    ui_chart_range(&s, 1, &x0, &x1, &y0, &y1);
    ck_assert(isnan(x0) && isnan(y1));
}
END_TEST

/* a mark lands in the cell whose dots the raster would set for that point */
START_TEST(test_chart_cell_matches_raster)
{
    double x[] = {0.3}, y[] = {0.8};
    struct ui_series s = {x, y, 1, UI_STYLE_SERIES1, "s"};
    uint8_t bits[5 * 3];
    int8_t owner[5 * 3];
    ui_chart_raster(&s, 1, 0, 1, 0, 1, 5, 3, 2, 4, bits, owner);
    int col = -1, row = -1;
    ck_assert(ui_chart_cell(0.3, 0.8, 0, 1, 0, 1, 5, 3, 2, 4, &col, &row));
    ck_assert_int_ne(bits[row * 5 + col], 0);
    for (int i = 0; i < 5 * 3; i++)
        ck_assert(i == row * 5 + col || bits[i] == 0);
    /* corners, outside, NaN */
    ck_assert(ui_chart_cell(1, 1, 0, 1, 0, 1, 5, 3, 2, 4, &col, &row));
    ck_assert_int_eq(col, 4);
    ck_assert_int_eq(row, 0);
    ck_assert(!ui_chart_cell(1.5, 0.5, 0, 1, 0, 1, 5, 3, 2, 4, &col, &row));
    ck_assert(!ui_chart_cell(NAN, 0.5, 0, 1, 0, 1, 5, 3, 2, 4, &col, &row));
}
END_TEST

START_TEST(test_histogram_columns_are_densities)
{
    uint32_t bins[6] = {1, 2, 3, 4, 5, 6};
    double cols[3];
    ck_assert_double_eq(ui_histogram_columns(bins, 6, 3, cols), 5.5);
    ck_assert_double_eq(cols[0], 1.5);
    ck_assert_double_eq(cols[1], 3.5);
    /* 5 bins in 2 columns: 2 and 3 bins, compared per bin */
    uint32_t flat[5] = {4, 4, 4, 4, 4};
    ck_assert_double_eq(ui_histogram_columns(flat, 5, 2, cols), 4);
    ck_assert_double_eq(cols[0], cols[1]);
}
END_TEST

START_TEST(test_histogram_column_count)
{
    ck_assert_int_eq(ui_histogram_count_columns(288, 240, 100), 33);
    ck_assert_int_eq(ui_histogram_count_columns(288, 240, 64), 32); /* 2 cells each */
    ck_assert_int_eq(ui_histogram_count_columns(3, 240, 100), 7);   /* 8 at most, 14 cells each */
    ck_assert_int_eq(ui_histogram_count_columns(1000000, 240, 100), 100);
    ck_assert_int_eq(ui_histogram_count_columns(1000000, 40, 100), 40);
}
END_TEST

/* ---- line ring and history ---- */

START_TEST(test_line_ring_splits_and_forgets)
{
    struct line_ring *r = line_ring_new(3);
    char buf[32];
    enum line_kind k;
    line_ring_add(r, LINE_OUTPUT, "a\nb\tc\n");
    ck_assert_int_eq(line_ring_end(r), 2);
    ck_assert(line_ring_get(r, 1, &k, buf, sizeof buf));
    ck_assert_str_eq(buf, "b c"); /* tabs become spaces */
    line_ring_addf(r, LINE_ERROR, "e%d", 1);
    line_ring_add(r, LINE_INFO, "");
    line_ring_add(r, LINE_INFO, "\n"); /* an empty line */
    ck_assert_int_eq(line_ring_end(r), 4);
    ck_assert_int_eq(line_ring_first(r), 1);
    ck_assert(!line_ring_get(r, 0, &k, buf, sizeof buf));
    ck_assert(line_ring_get(r, 2, &k, buf, sizeof buf));
    ck_assert_str_eq(buf, "e1");
    ck_assert_int_eq(k, LINE_ERROR);
    line_ring_clear(r);
    ck_assert_int_eq(line_ring_first(r), line_ring_end(r));
    line_ring_free(r);
}
END_TEST

START_TEST(test_train_history_copies_changes_only)
{
    struct train_history h;
    train_history_init(&h);
    struct train_snapshot s = {0};
    train_history_begin(&h, 2, 10, 64, 0.1f);
    ck_assert(train_history_copy(&h, &s));
    ck_assert(!train_history_copy(&h, &s));
    ck_assert_int_eq(s.total_steps, 20);
    ck_assert_int_eq(s.state, TRAIN_RUN_RUNNING);
    for (int i = 1; i <= 600; i++) { /* more than one growth of the arrays */
        struct nncw_train_event ev = {
            .type = NNCW_TRAIN_EVENT_STEP, .global_step = i, .loss = 1.0f / (float)i};
        train_history_add_event(&h, &ev);
    }
    struct nncw_train_event ep = {.type = NNCW_TRAIN_EVENT_EPOCH,
                                  .epoch = 0,
                                  .global_step = 600,
                                  .train_acc = 0.5f,
                                  .test_acc = 0.25f};
    train_history_add_event(&h, &ep);
    train_history_end(&h, TRAIN_RUN_CANCELLED, 600);
    ck_assert(train_history_copy(&h, &s));
    ck_assert_int_eq(s.n_steps, 600);
    ck_assert_float_eq(s.steps[599].loss, 1.0f / 600);
    ck_assert_int_eq(s.n_epochs, 1);
    ck_assert_int_eq(s.epoch_points[0].epoch, 1);
    ck_assert_float_eq(s.epoch_points[0].test_acc, 0.25f);
    ck_assert_int_eq(s.state, TRAIN_RUN_CANCELLED);
    ck_assert_str_eq(train_run_state_name(s.state), "cancelled");
    train_history_begin(&h, 1, 5, 32, 0.1f); /* a new run forgets the old one */
    ck_assert(train_history_copy(&h, &s));
    ck_assert_int_eq(s.n_steps, 0);
    ck_assert_int_eq(s.run, 2);
    train_snapshot_fini(&s);
    train_history_fini(&h);
}
END_TEST

/* ---- compression: the view, marks, the Quantizers table, scopes ---- */

static struct nncw_graph *cnn_graph(void)
{
    struct nncw_zoo_options o = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &o, &g), NNCW_OK);
    nncwt_assert_status(nncw_graph_infer_shapes(g, 1), NNCW_OK);
    return g;
}

static const char quant_json[] =
    "{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, \"target_device\": \"VPU\", "
    "\"compression\": {\"algorithm\": \"quantization\", \"ignored_scopes\": [\"CNN/fc2\"]}}";

START_TEST(test_compression_view_copies_quantizers_and_scopes)
{
    struct nncw_graph *g = cnn_graph();
    struct nncw_config *cfg;
    nncwt_assert_status(nncw_config_parse(quant_json, "test", &cfg), NNCW_OK);
    struct nncw_compression_init init = {0}; /* placement only: no data */
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, &init, &c), NNCW_OK);
    struct compression_view *v;
    nncwt_assert_status(compression_view_build(c, cfg, "comp", &v), NNCW_OK);
    ck_assert_int_eq(v->n_quantizers, nncw_compression_count_quantizers(c));
    ck_assert_int_gt(v->n_quantizers, 0);
    int weights = 0;
    for (int i = 0; i < v->n_quantizers; i++) {
        struct nncw_quantizer_info q;
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &q), NNCW_OK);
        ck_assert_str_eq(v->quantizers[i].id, q.id);
        ck_assert_ptr_ne(v->quantizers[i].id, q.id); /* a copy: the UI reads it later */
        ck_assert_int_eq(v->quantizers[i].bits, q.bits);
        ck_assert(strcmp(q.id, "CNN/fc2|WEIGHT") != 0); /* ignored */
        weights += q.is_weight;
    }
    ck_assert_int_eq(v->n_weight_quantizers, weights);
    ck_assert_str_eq(v->name, "comp");
    ck_assert_str_eq(v->algos, "quantization");
    ck_assert(!v->has_level); /* quantization has no sparsity level */
    ck_assert_int_eq(v->n_groups, 0);
    ck_assert_ptr_nonnull(v->statistics);
    ck_assert_int_eq(v->n_entries, 1);
    ck_assert_str_eq(v->entries[0].algorithm, "quantization");
    ck_assert_int_eq(v->entries[0].n_ignored, 1);
    ck_assert_str_eq(v->entries[0].ignored[0], "CNN/fc2");
    /* the graph's Q marks come from the quantizers: bits per node, none on the ignored fc2 */
    struct graph_view *gv;
    nncwt_assert_status(graph_view_build(g, "model", c, &gv), NNCW_OK);
    ck_assert(gv->compressed);
    ck_assert_str_eq(gv->nodes[graph_view_find(gv, "CNN/conv1")].marks, "Q8");
    ck_assert_str_eq(gv->nodes[graph_view_find(gv, "CNN/fc2")].marks, "");
    ck_assert_str_eq(gv->nodes[graph_view_find(gv, "CNN/relu1")].marks, "");
    graph_view_release(gv);
    /* a 4-bit weight quantizer (VPU allows it on fc1) shows as Qw4a8 or Q4 */
    struct nncw_quantizer_change four = {.bits = 4, .mode = -1, .per_channel = -1};
    nncwt_assert_status(nncw_compression_set_quantizers(c, "CNN/fc1|WEIGHT", &four), NNCW_OK);
    nncwt_assert_status(graph_view_build(g, "model", c, &gv), NNCW_OK);
    const char *fc1 = gv->nodes[graph_view_find(gv, "CNN/fc1")].marks;
    ck_assert_msg(!strcmp(fc1, "Q4") || !strcmp(fc1, "Qw4a8"), "fc1 marks '%s'", fc1);
    graph_view_release(gv);
    /* the view is a copy: it outlives the compression */
    nncw_compression_free(c);
    nncw_config_free(cfg);
    ck_assert_str_eq(v->entries[0].ignored[0], "CNN/fc2");
    compression_view_release(v);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_compression_trace_copies_changes_only)
{
    struct compression_trace t;
    compression_trace_init(&t);
    struct compression_series s = {0};
    int compression; /* any address stands for the compression */
    compression_trace_begin(&t, &compression);
    ck_assert(compression_trace_copy(&t, &s));
    ck_assert(!compression_trace_copy(&t, &s));
    ck_assert(s.active);
    ck_assert_ptr_eq(s.key, &compression);
    for (int i = 1; i <= 700; i++) { /* more than one growth */
        struct compression_point p = {.global_step = i, .loss = 0.5f, .level = 0.001f * (float)i,
                                      .rate = NAN};
        compression_trace_add(&t, &p);
    }
    ck_assert(compression_trace_copy(&t, &s));
    ck_assert_int_eq(s.n, 700);
    ck_assert_int_eq(s.points[699].global_step, 700);
    ck_assert_float_eq(s.points[699].level, 0.001f * 700.0f);
    ck_assert(isnan(s.points[0].rate));
    compression_trace_begin(&t, NULL); /* a run without compression forgets the points */
    ck_assert(compression_trace_copy(&t, &s));
    ck_assert_int_eq(s.n, 0);
    ck_assert(!s.active);
    compression_series_fini(&s);
    compression_trace_fini(&t);
}
END_TEST

static struct nncw_quantizer_info qinfo(const char *id, bool weight, int bits, float low)
{
    return (struct nncw_quantizer_info){.id = id, .is_weight = weight, .bits = bits,
                                        .unified_group = -1, .channels = 1, .low = low,
                                        .high = 1};
}

/* the board copies only what changed, deep (the copy outlives later publications) */
START_TEST(test_search_board_copies_changes_only)
{
    static int comp, search;
    search_board_reset();
    struct search_snapshot snap = {0};
    ck_assert(search_board_copy(&snap)); /* the reset counts as a change */
    ck_assert(!search_board_copy(&snap));
    search_board_hawq_progress(&comp, 2, 10, 0.5);
    ck_assert(search_board_copy(&snap));
    ck_assert(snap.hawq.key == &comp && snap.hawq.running);
    ck_assert_int_eq(snap.hawq.iteration, 2);
    char id[] = "CNN/conv1|WEIGHT";
    struct search_layer layer = {.id = id, .trace = 0.25, .numel = 288, .bits = 4};
    struct search_point points[2] = {{1.0, 0.0, false}, {2.0, 0.1, true}};
    struct search_hawq r = {.n_layers = 1, .layers = &layer, .n_points = 2, .points = points,
                            .chosen = 1, .target_ratio = 1.5, .n_bits = 2, .bits = {4, 8}};
    search_board_hawq_end(&comp, NULL);
    search_board_hawq_result(&comp, &r);
    id[0] = 'X'; /* the board has its own copy */
    ck_assert(search_board_copy(&snap));
    ck_assert(snap.hawq.solved && !snap.hawq.running);
    ck_assert_str_eq(snap.hawq.layers[0].id, "CNN/conv1|WEIGHT");
    ck_assert_int_eq(snap.hawq.n_points, 2);
    ck_assert(snap.hawq.points[1].meets_ratio);
    /* a failed run keeps the result and says why */
    search_board_hawq_progress(&comp, 1, 10, 0.1);
    search_board_hawq_end(&comp, "interrupted");
    ck_assert(search_board_copy(&snap));
    ck_assert(snap.hawq.solved);
    ck_assert_str_eq(snap.hawq.error, "interrupted");
    /* AutoQ: episodes append, the best policy follows, an unknown search is ignored */
    const char *ids[] = {"a|WEIGHT", "b|OUTPUT"};
    bool weight[] = {true, false};
    search_board_autoq_begin(&search, &comp, 2, ids, weight, 3);
    int bits0[] = {4, 8}, bits1[] = {8, 8};
    struct search_episode e = {.episode = 0, .best = true, .accuracy = 50, .reward = 0.5};
    search_board_autoq_episode(&search, &e, bits0, bits0);
    e = (struct search_episode){.episode = 1, .best = false, .accuracy = 40, .reward = 0.4};
    search_board_autoq_episode(&search, &e, bits1, bits0);
    search_board_autoq_episode(&comp, &e, bits1, bits1); /* not the search on the board */
    ck_assert(search_board_copy(&snap));
    ck_assert_int_eq(snap.autoq.n_episodes, 2);
    ck_assert_int_eq(snap.autoq.best, 0);
    ck_assert_int_eq(snap.autoq.bits[0], 8);
    ck_assert_int_eq(snap.autoq.best_bits[0], 4);
    ck_assert(snap.autoq.is_weight[0] && !snap.autoq.is_weight[1]);
    ck_assert_str_eq(snap.autoq.ids[1], "b|OUTPUT");
    search_board_autoq_applied(&search);
    ck_assert(search_board_copy(&snap));
    ck_assert(snap.autoq.applied);
    search_snapshot_fini(&snap);
    search_board_reset();
}
END_TEST

START_TEST(test_quant_sort_is_stable_and_reverses)
{
    struct nncw_quantizer_info q[5] = {
        qinfo("d", true, 8, -1), qinfo("b", false, 4, NAN), qinfo("a", true, 8, -3),
        qinfo("e", false, 2, 0), qinfo("c", true, 4, -2),
    };
    int o[5];
    ui_quant_sort(q, 5, UI_QCOL_BITS, false, o);
    int bits_up[] = {3, 1, 4, 0, 2}; /* ties keep the engine's order */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(o[i], bits_up[i]);
    ui_quant_sort(q, 5, UI_QCOL_BITS, true, o);
    int bits_down[] = {0, 2, 1, 4, 3};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(o[i], bits_down[i]);
    ui_quant_sort(q, 5, UI_QCOL_ID, false, o);
    int by_id[] = {2, 1, 4, 0, 3};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(o[i], by_id[i]);
    ui_quant_sort(q, 5, UI_QCOL_LOW, true, o); /* NaN last, descending too */
    int low_down[] = {3, 0, 4, 2, 1};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(o[i], low_down[i]);
    ui_quant_sort(q, 5, UI_QCOL_KIND, false, o); /* A before W */
    int kind[] = {1, 3, 0, 2, 4};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(o[i], kind[i]);
    ui_quant_sort(q, 0, UI_QCOL_ID, false, o); /* nothing to sort is fine */
}
END_TEST

START_TEST(test_quant_cells_format)
{
    struct nncw_quantizer_info q = qinfo("CNN/conv1|WEIGHT", true, 8, -0.33841f);
    q.is_signed = true;
    q.per_channel = true;
    q.channels = 32;
    q.n_alternatives = 3;
    char b[64];
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_ID, b, sizeof b), "CNN/conv1|WEIGHT");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_KIND, b, sizeof b), "W");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_BITS, b, sizeof b), "8");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_MODE, b, sizeof b), "sym");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_SIGNED, b, sizeof b), "yes");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_PER_CHANNEL, b, sizeof b), "32");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_LOW, b, sizeof b), "-0.3384");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_GROUP, b, sizeof b), "-");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_ALTS, b, sizeof b), "3");
    q.is_weight = q.per_channel = false;
    q.asymmetric = true;
    q.unified_group = 2;
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_KIND, b, sizeof b), "A");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_MODE, b, sizeof b), "asym");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_PER_CHANNEL, b, sizeof b), "no");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_GROUP, b, sizeof b), "2");
    ck_assert_str_eq(ui_quant_cell(&q, UI_QCOL_ID, b, 5), "CNN/"); /* truncated, terminated */
    ck_assert_str_eq(ui_quant_column_title(UI_QCOL_PER_CHANNEL), "per-ch");
    ck_assert_int_gt(ui_quant_column_width(UI_QCOL_ID), 0);
}
END_TEST

START_TEST(test_scope_hits_exact_regex_and_errors)
{
    struct graph_view *v = zoo_view("cnn");
    bool hit[16];
    char err[256] = "";
    ck_assert_int_eq(ui_scope_hits(v, "CNN/conv1", hit, err, sizeof err), 1);
    ck_assert(hit[0] && !hit[1]);
    ck_assert_int_eq(ui_scope_hits(v, "{re}fc[0-9]$", hit, err, sizeof err), 2);
    ck_assert(hit[graph_view_find(v, "CNN/fc1")] && hit[graph_view_find(v, "CNN/fc2")]);
    ck_assert(!hit[0]);
    ck_assert_int_eq(ui_scope_hits(v, "CNN/nope", hit, err, sizeof err), 0);
    ck_assert_int_eq(ui_scope_hits(v, "{re}conv(", hit, err, sizeof err), -1);
    ck_assert_int_gt((int)strlen(err), 0); /* the engine says what is wrong */
    for (int i = 0; i < v->n_nodes; i++)
        ck_assert(!hit[i]);
    ck_assert_int_eq(ui_scope_hits(NULL, "CNN/conv1", hit, err, sizeof err), 0);
    graph_view_release(v);
}
END_TEST

START_TEST(test_scroll_keeps_the_selection_in_view)
{
    struct ui_scroll s = {.cursor = true, .n = 50, .page = 10};
    ck_assert(ui_scroll_key(&s, 'j'));
    ck_assert_int_eq(s.sel, 1);
    ck_assert(ui_scroll_key(&s, UI_KEY_FN(KEY_NPAGE)));
    ck_assert_int_eq(s.sel, 10);
    ck_assert_int_eq(s.top, 1); /* the selection is the last row shown */
    ck_assert(ui_scroll_key(&s, 'G'));
    ck_assert_int_eq(s.sel, 49);
    ck_assert_int_eq(s.top, 40);
    ck_assert(ui_scroll_key(&s, UI_KEY_FN(KEY_HOME)));
    ck_assert_int_eq(s.sel, 0);
    ck_assert_int_eq(s.top, 0);
    ck_assert(!ui_scroll_key(&s, 'x'));
    s.n = 0; /* an empty list */
    ui_scroll_clamp(&s);
    ck_assert_int_eq(s.sel, 0);
    ck_assert_int_eq(s.top, 0);
    struct ui_scroll plain = {.n = 30, .page = 10}; /* no cursor: keys scroll */
    ck_assert(ui_scroll_key(&plain, 'G'));
    ck_assert_int_eq(plain.top, 20);
    ui_scroll_by(&plain, -3);
    ck_assert_int_eq(plain.top, 17);
    ui_scroll_by(&plain, -100);
    ck_assert_int_eq(plain.top, 0);
}
END_TEST

START_TEST(test_train_form_trains_the_compression)
{
    struct ui_form *f = ui_train_form_new();
    ck_assert(ui_form_check(f));
    char code[1024];
    ui_train_form_lua(f, "comp", code, sizeof code);
    ck_assert_ptr_nonnull(strstr(code, "lr = 0.02}, compression = comp})"));
    ui_train_form_lua(f, NULL, code, sizeof code);
    ck_assert_ptr_null(strstr(code, "compression"));
    ui_train_form_free(f);
}
END_TEST

static Suite *ui_suite(void)
{
    Suite *s = suite_create("ui");
    TCase *fmt = tcase_create("fmt");
    tcase_add_test(fmt, test_fmt_count_groups_thousands);
    tcase_add_test(fmt, test_fmt_si_scales);
    tcase_add_test(fmt, test_fmt_duration);
    tcase_add_test(fmt, test_fmt_bar_fills_and_clamps);
    suite_add_tcase(s, fmt);
    TCase *rows = tcase_create("graph rows");
    tcase_add_test(rows, test_graph_view_copies_the_cnn);
    tcase_add_test(rows, test_graph_view_marks_zero_channels);
    tcase_add_test(rows, test_graph_rows_tree_groups_and_sums);
    tcase_add_test(rows, test_graph_rows_collapse_hides_the_inside);
    tcase_add_test(rows, test_graph_rows_flat_is_topological);
    tcase_add_test(rows, test_graph_rows_without_a_view);
    suite_add_tcase(s, rows);
    TCase *plots = tcase_create("plots");
    tcase_add_test(plots, test_chart_raster_joins_points);
    tcase_add_test(plots, test_chart_range_skips_nan);
    tcase_add_test(plots, test_chart_cell_matches_raster);
    tcase_add_test(plots, test_histogram_columns_are_densities);
    tcase_add_test(plots, test_histogram_column_count);
    suite_add_tcase(s, plots);
    TCase *data = tcase_create("session data");
    tcase_add_test(data, test_line_ring_splits_and_forgets);
    tcase_add_test(data, test_train_history_copies_changes_only);
    suite_add_tcase(s, data);
    TCase *comp = tcase_create("compression");
    tcase_set_timeout(comp, 60);
    tcase_add_test(comp, test_compression_view_copies_quantizers_and_scopes);
    tcase_add_test(comp, test_compression_trace_copies_changes_only);
    tcase_add_test(comp, test_search_board_copies_changes_only);
    tcase_add_test(comp, test_quant_sort_is_stable_and_reverses);
    tcase_add_test(comp, test_quant_cells_format);
    tcase_add_test(comp, test_scope_hits_exact_regex_and_errors);
    tcase_add_test(comp, test_scroll_keeps_the_selection_in_view);
    tcase_add_test(comp, test_train_form_trains_the_compression);
    suite_add_tcase(s, comp);
    return s;
}

int main(void)
{
    return nncwt_run(ui_suite());
}
