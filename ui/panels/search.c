/* The Search panel: mixed-precision searches over the compression of `model`, watched live.
 * HAWQ: h measures the Hessian traces again (Hutchinson iteration i/N as it goes); the traces
 * show as bars with each layer's bits, the metric-vs-ratio curve as a plot with the chosen
 * point, the cursor and the target ratio; Enter applies the point under the cursor and a bit
 * width key pins the selected layer. AutoQ: a starts a search that runs one episode per Lua
 * line (so p pauses between episodes, x stops, and a saved session replays exactly the
 * episodes that ran); its episodes show as a table and a reward plot, its policies as strips
 * of digits. Every action is a line of Lua; what the worker publishes arrives through the
 * search board (app/lua/search_board.h). */
#include "panels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../fmt.h"
#include "../widgets/chart.h"
#include "../widgets/text_view.h"
#include "lua/search_board.h"

enum search_view { VIEW_HAWQ, VIEW_AUTOQ };

/* where the panel's AutoQ driving is */
enum autoq_drive {
    DRIVE_IDLE,     /* nothing submitted by the panel */
    DRIVE_CREATING, /* the search object is being made */
    DRIVE_RUNNING,  /* one episode per line until all ran */
    DRIVE_PAUSED,   /* p: no more lines until p again */
};

struct search_panel {
    struct ui_panel base;
    struct search_snapshot snap;
    enum search_view view;
    struct ui_scroll layer; /* the selected HAWQ layer */
    int cursor;             /* the curve point under the cursor (index into order), -1: chosen */
    int *order;             /* curve points by ratio, then metric */
    int n_order;
    unsigned order_version;
    enum autoq_drive drive;
    bool waiting;       /* a line of ours runs or waits */
    unsigned wait_done; /* status.done when it was submitted */
    unsigned wait_errors;
    char error[256]; /* the last failure of a line of ours */
    const void *comp_key; /* the compression the state above is about */
};

static const struct ui_key_help search_keys[] = {
    {"h", "HAWQ: measure the traces again and solve (comp:hawq_run)"},
    {"a", "AutoQ: start a search (:autoq [EPISODES [SAMPLES]], default 30 or the config's)"},
    {"r", "HAWQ: show what HAWQ solved when the config was applied (comp:hawq())"},
    {"m", "switch between the HAWQ and the AutoQ view"},
    {"Left Right", "HAWQ: move the cursor along the curve's points"},
    {"Enter", "HAWQ: apply the point under the cursor; AutoQ: apply the best policy"},
    {"b", "HAWQ: back to the best point meeting the target ratio"},
    {"Up Down", "HAWQ: select a layer"},
    {"2-8 (candidates)", "HAWQ: pin the selected layer to that many bits and re-solve"},
    {"0 u", "HAWQ: unpin the selected layer"},
    {"p", "AutoQ: pause after the current episode; p again resumes (same agent)"},
    {"x", "AutoQ: stop, keeping the best policy (Enter applies it)"},
    {NULL, NULL},
};

static struct search_panel *sp(struct ui_panel *p)
{
    return (struct search_panel *)p;
}

/* the board's HAWQ result when it is of the compression the panels show */
static const struct search_hawq *hawq_of_comp(struct search_panel *s)
{
    const struct compression_view *cv = ui_app_compression(s->base.app);
    const struct search_hawq *h = &s->snap.hawq;
    return cv && h->key == cv->key ? h : NULL;
}

static const struct search_autoq *autoq_of_comp(struct search_panel *s)
{
    const struct compression_view *cv = ui_app_compression(s->base.app);
    const struct search_autoq *q = &s->snap.autoq;
    return cv && q->key && q->comp_key == cv->key ? q : NULL;
}

/* ---- the curve's points in ratio order ---- */

static const struct search_point *sort_points; /* qsort has no user pointer */

static int by_ratio(const void *a, const void *b)
{
    const struct search_point *p = &sort_points[*(const int *)a],
                              *q = &sort_points[*(const int *)b];
    if (p->ratio != q->ratio)
        return p->ratio < q->ratio ? -1 : 1;
    return p->metric < q->metric ? -1 : p->metric > q->metric;
}

static void sort_curve(struct search_panel *s)
{
    const struct search_hawq *h = &s->snap.hawq;
    free(s->order);
    s->order = NULL;
    s->n_order = 0;
    if (!h->solved || h->n_points < 1 ||
        !(s->order = malloc((size_t)h->n_points * sizeof *s->order)))
        return;
    for (int k = 0; k < h->n_points; k++)
        s->order[k] = k;
    sort_points = h->points;
    qsort(s->order, (size_t)h->n_points, sizeof *s->order, by_ratio);
    s->n_order = h->n_points;
}

/* the curve point under the cursor (0-based point index), or -1 */
static int cursor_point(struct search_panel *s)
{
    const struct search_hawq *h = hawq_of_comp(s);
    if (!h || !h->solved || !s->n_order)
        return -1;
    if (s->cursor < 0 || s->cursor >= s->n_order)
        return h->chosen;
    return s->order[s->cursor];
}

static int order_of(struct search_panel *s, int point)
{
    for (int i = 0; i < s->n_order; i++)
        if (s->order[i] == point)
            return i;
    return 0;
}

/* ---- running lines ---- */

static bool run(struct search_panel *s, const char *code, const char *what)
{
    struct ui_app *a = s->base.app;
    unsigned done = a->status.done, errors = a->status.errors;
    if (!ui_app_run_lua(a, code, what))
        return false;
    s->waiting = true;
    s->wait_done = done;
    s->wait_errors = errors;
    s->error[0] = '\0';
    return true;
}

/* a compression with quantization to search, or false with a message */
static bool need_quantization(struct search_panel *s, const char *what)
{
    const struct compression_view *cv = ui_app_compression(s->base.app);
    if (!cv) {
        ui_app_message(s->base.app, UI_STYLE_ERROR,
                       "%s: `model` has no compression: F4 (or :compress FILE) applies a "
                       "quantization config",
                       what);
        return false;
    }
    if (!cv->n_weight_quantizers) {
        ui_app_message(s->base.app, UI_STYLE_ERROR,
                       "%s: the compression of `model` quantizes no weights", what);
        return false;
    }
    return true;
}

static void start_hawq(struct search_panel *s)
{
    if (!need_quantization(s, "HAWQ"))
        return;
    s->view = VIEW_HAWQ;
    s->cursor = -1;
    if (run(s, "comp:hawq_run()", "HAWQ"))
        ui_app_message(s->base.app, UI_STYLE_NORMAL, "HAWQ: measuring the Hessian traces");
}

void ui_search_panel_autoq(struct ui_panel *p, int episodes, int samples)
{
    struct search_panel *s = sp(p);
    char code[512], count[48] = "";
    if (!need_quantization(s, "AutoQ"))
        return;
    if (s->drive == DRIVE_RUNNING || s->drive == DRIVE_CREATING) {
        ui_app_message(p->app, UI_STYLE_WARN, "AutoQ runs already: p pauses it, x stops it");
        return;
    }
    if (episodes > 0)
        snprintf(count, sizeof count, "episodes = %d, ", episodes);
    /* the evaluation subset: about `samples` images of test_data (the first ones, as AutoQ
     * takes them), so an episode costs a fraction of a second on a small model */
    snprintf(code, sizeof code,
             "autoq = comp:autoq{data = test_data, %seval_subset_ratio = math.min(1, %d / "
             "test_data:count()), seed = 528}",
             count, samples > 0 ? samples : 512);
    s->view = VIEW_AUTOQ;
    if (run(s, code, "AutoQ")) {
        s->drive = DRIVE_CREATING;
        ui_app_message(p->app, UI_STYLE_NORMAL, "AutoQ: p pauses, x stops, Enter applies the best");
    }
}

void ui_search_panel_hawq(struct ui_panel *p)
{
    start_hawq(sp(p));
}

/* after our line ends: the next AutoQ episode, or the end of the drive */
static void drive_autoq(struct search_panel *s)
{
    struct ui_app *a = s->base.app;
    if (s->drive != DRIVE_CREATING && s->drive != DRIVE_RUNNING)
        return;
    const struct search_autoq *q = autoq_of_comp(s);
    if (!q) {
        s->drive = DRIVE_IDLE;
        return;
    }
    if (s->drive == DRIVE_CREATING)
        s->drive = DRIVE_RUNNING;
    if (q->n_episodes >= q->total) {
        s->drive = DRIVE_IDLE;
        ui_app_message(a, UI_STYLE_NORMAL, "AutoQ: %d episodes ran; Enter applies the best policy",
                       q->n_episodes);
        return;
    }
    run(s, "autoq_episode = autoq:step()", "AutoQ episode");
}

static bool update(struct ui_panel *p)
{
    struct search_panel *s = sp(p);
    struct ui_app *a = p->app;
    bool changed = search_board_copy(&s->snap);
    const struct compression_view *cv = ui_app_compression(a);
    if ((cv ? cv->key : NULL) != s->comp_key) { /* another compression: start afresh */
        s->comp_key = cv ? cv->key : NULL;
        s->view = VIEW_HAWQ;
        s->cursor = -1;
        s->error[0] = '\0';
        if (!s->waiting)
            s->drive = DRIVE_IDLE;
        changed = true;
    }
    if (changed && s->order_version != s->snap.version) {
        s->order_version = s->snap.version;
        int keep = s->cursor >= 0 && s->cursor < s->n_order ? s->order[s->cursor] : -1;
        sort_curve(s);
        s->cursor = keep >= 0 && keep < s->n_order ? order_of(s, keep) : -1;
    }
    if (s->waiting && !a->status.busy && !a->status.queued && a->status.done != s->wait_done) {
        s->waiting = false;
        changed = true;
        if (a->status.errors != s->wait_errors) { /* our line failed: say why, stop driving */
            snprintf(s->error, sizeof s->error, "%s", a->status.last_error);
            s->drive = DRIVE_IDLE;
        } else {
            drive_autoq(s);
        }
    }
    return changed;
}

/* ---- keys ---- */

static bool is_candidate(const struct search_hawq *h, int bits)
{
    for (int b = 0; b < h->n_bits; b++)
        if (h->bits[b] == bits)
            return true;
    return false;
}

static enum ui_result hawq_key(struct search_panel *s, int key)
{
    const struct search_hawq *h = hawq_of_comp(s);
    if (!h || !h->solved)
        return UI_IGNORED;
    char code[600], q[400];
    const struct search_layer *l =
        s->layer.sel >= 0 && s->layer.sel < h->n_layers ? &h->layers[s->layer.sel] : NULL;
    int bits = key >= '0' && key <= '9' ? key - '0' : -1;
    if (key == UI_KEY_FN(KEY_LEFT) || key == UI_KEY_FN(KEY_RIGHT)) {
        int at = s->cursor >= 0 ? s->cursor : order_of(s, h->chosen);
        at += key == UI_KEY_FN(KEY_LEFT) ? -1 : 1;
        s->cursor = at < 0 ? 0 : at >= s->n_order ? s->n_order - 1 : at;
        return UI_REDRAW;
    }
    if (key == '\n' || key == '\r' || key == UI_KEY_FN(KEY_ENTER)) {
        int k = cursor_point(s);
        if (k < 0)
            return UI_REDRAW;
        snprintf(code, sizeof code, "comp:hawq_choose(%d)", k + 1);
        run(s, code, "HAWQ point");
        return UI_REDRAW;
    }
    if (key == 'b') {
        s->cursor = -1;
        run(s, "comp:hawq_choose()", "HAWQ best point");
        return UI_REDRAW;
    }
    if (l && (key == 'u' || bits == 0)) {
        ui_lua_quote(l->id, q, sizeof q);
        snprintf(code, sizeof code, "comp:hawq_unpin(%s)", q);
        run(s, code, "HAWQ unpin");
        return UI_REDRAW;
    }
    if (l && bits > 0 && is_candidate(h, bits)) {
        ui_lua_quote(l->id, q, sizeof q);
        snprintf(code, sizeof code, "comp:hawq_pin(%s, %d)", q, bits);
        s->cursor = -1; /* the curve is solved again: follow the new choice */
        run(s, code, "HAWQ pin");
        return UI_REDRAW;
    }
    if (ui_scroll_key(&s->layer, key))
        return UI_REDRAW;
    return UI_IGNORED;
}

static enum ui_result autoq_key(struct search_panel *s, int key)
{
    struct ui_app *a = s->base.app;
    const struct search_autoq *q = autoq_of_comp(s);
    switch (key) {
    case 'p':
        if (s->drive == DRIVE_RUNNING || s->drive == DRIVE_CREATING) {
            s->drive = DRIVE_PAUSED;
            ui_app_message(a, UI_STYLE_WARN, "AutoQ pauses after this episode; p resumes");
        } else if (s->drive == DRIVE_PAUSED) {
            s->drive = DRIVE_RUNNING;
            ui_app_message(a, UI_STYLE_NORMAL, "AutoQ resumes");
            if (!s->waiting)
                drive_autoq(s);
        } else {
            return UI_IGNORED; /* the global p: a training run's pause */
        }
        return UI_REDRAW;
    case 'x':
        if (s->drive == DRIVE_IDLE)
            return UI_IGNORED; /* the global cancel */
        s->drive = DRIVE_IDLE;
        ui_app_message(
            a, UI_STYLE_WARN,
            "AutoQ stops after this episode; the best policy is kept (Enter applies it)");
        return UI_REDRAW;
    case '\n':
    case '\r':
    case UI_KEY_FN(KEY_ENTER):
        if (!q || q->best < 0 || q->best >= q->n_episodes) {
            ui_app_message(a, UI_STYLE_WARN, "AutoQ: no episode has run yet");
            return UI_REDRAW;
        }
        if (s->drive == DRIVE_RUNNING || s->drive == DRIVE_CREATING) {
            ui_app_message(a, UI_STYLE_WARN, "AutoQ runs: p pauses or x stops it first");
            return UI_REDRAW;
        }
        run(s, "autoq:apply()", "AutoQ apply");
        return UI_REDRAW;
    default:
        return UI_IGNORED;
    }
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct search_panel *s = sp(p);
    switch (key) {
    case 'h':
        start_hawq(s);
        return UI_REDRAW;
    case 'a':
        ui_app_prompt(p->app, UI_PROMPT_COMMAND, "autoq ");
        return UI_REDRAW;
    case 'm':
        s->view = s->view == VIEW_HAWQ ? VIEW_AUTOQ : VIEW_HAWQ;
        return UI_REDRAW;
    case 'r': /* what HAWQ solved when the config was applied, without measuring again */
        s->view = VIEW_HAWQ;
        if (need_quantization(s, "HAWQ"))
            run(s, "hawq_result = comp:hawq()", "HAWQ result");
        return UI_REDRAW;
    default:
        break;
    }
    if ((key == 'p' || key == 'x') && s->drive != DRIVE_IDLE) /* whichever view shows */
        return autoq_key(s, key);
    return s->view == VIEW_HAWQ ? hawq_key(s, key) : autoq_key(s, key);
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    struct search_panel *s = sp(p);
    (void)col;
    (void)row;
    if (wheel && s->view == VIEW_HAWQ)
        ui_scroll_by(&s->layer, wheel);
    return UI_REDRAW;
}

/* ---- drawing ---- */

static enum ui_style bits_style(int bits)
{
    return bits >= 8 ? UI_STYLE_SERIES1 : bits >= 4 ? UI_STYLE_SERIES2 : UI_STYLE_WARN;
}

static void draw_layers(struct search_panel *s, WINDOW *w, int y, int rows, int width,
                        const struct search_hawq *h, bool focused)
{
    attr_t hdr = ui_style(UI_STYLE_HEADER);
    int bar = width >= 70 ? 20 : width >= 50 ? 12 : 6;
    int name = width - bar - 24;
    if (name < 8)
        name = 8;
    ui_putf(w, y, 1, width, hdr, "%-*s %-*s %10s bits pin", name, "layer (weight quantizer)", bar,
            "|trace|", "trace");
    double top = 0;
    for (int i = 0; i < h->n_layers; i++)
        if (fabs(h->layers[i].trace) > top)
            top = fabs(h->layers[i].trace);
    s->layer.n = h->n_layers;
    s->layer.page = rows - 1;
    ui_scroll_clamp(&s->layer);
    for (int r = 0; r < s->layer.page && s->layer.top + r < h->n_layers; r++) {
        int i = s->layer.top + r;
        const struct search_layer *l = &h->layers[i];
        bool sel = i == s->layer.sel;
        attr_t base = sel ? ui_style(focused ? UI_STYLE_SELECTED : UI_STYLE_HEADER) : A_NORMAL;
        if (sel)
            ui_fill(w, y + 1 + r, 1, width, base);
        char b[256];
        ui_fmt_bar(top > 0 ? fabs(l->trace) / top : 0, bar, ui_term_utf8() ? "█" : "#", " ", b,
                   sizeof b);
        ui_put(w, y + 1 + r, 1, name, l->id, base);
        ui_put(w, y + 1 + r, 2 + name, bar, b, base | ui_style(UI_STYLE_SERIES1));
        char pin[8] = "";
        if (l->pinned)
            snprintf(pin, sizeof pin, "%d", l->pinned);
        ui_putf(w, y + 1 + r, 3 + name + bar, width - name - bar - 2, base, "%10.3g %4d %3s",
                l->trace, l->bits, pin);
    }
}

static void draw_curve(struct search_panel *s, WINDOW *w, int y, int h_rows, int width,
                       const struct search_hawq *h)
{
    int n = h->n_points;
    double *xs = malloc((size_t)(n + 2) * sizeof *xs), *ys = malloc((size_t)(n + 2) * sizeof *ys);
    struct ui_chart_mark *marks = malloc((size_t)(n + 2) * sizeof *marks);
    if (!xs || !ys || !marks) {
        free(xs);
        free(ys);
        free(marks);
        return;
    }
    /* the points as dots, the lower envelope (least metric at each ratio and above) as the
     * curve, the target ratio as a vertical line, the chosen point and the cursor on top */
    double y_lo = INFINITY, y_hi = -INFINITY;
    for (int k = 0; k < n; k++) {
        y_lo = fmin(y_lo, h->points[k].metric);
        y_hi = fmax(y_hi, h->points[k].metric);
    }
    int m = 0;
    for (int i = 0; i < s->n_order; i++) {
        const struct search_point *pt = &h->points[s->order[i]];
        bool envelope = true;
        for (int j = i + 1; j < s->n_order && envelope; j++)
            envelope = h->points[s->order[j]].metric > pt->metric;
        if (envelope) {
            xs[m] = pt->ratio;
            ys[m++] = pt->metric;
        }
    }
    double tx[2] = {h->target_ratio, h->target_ratio}, ty[2] = {y_lo, y_hi};
    struct ui_series series[2] = {
        {.x = xs, .y = ys, .n = m, .style = UI_STYLE_SERIES1, .label = "curve"},
        {.x = tx, .y = ty, .n = 2, .style = UI_STYLE_DIM, .label = "target"},
    };
    int nm = 0;
    for (int k = 0; k < n; k++)
        marks[nm++] =
            (struct ui_chart_mark){h->points[k].ratio, h->points[k].metric, "·", '.', UI_STYLE_DIM};
    marks[nm++] = (struct ui_chart_mark){h->points[h->chosen].ratio, h->points[h->chosen].metric,
                                         "●", 'O', UI_STYLE_OK};
    int k = cursor_point(s);
    if (k >= 0 && k != h->chosen)
        marks[nm++] = (struct ui_chart_mark){h->points[k].ratio, h->points[k].metric, "◆", 'X',
                                             UI_STYLE_WARN};
    char title[160];
    const struct search_point *c = k >= 0 ? &h->points[k] : NULL;
    snprintf(title, sizeof title, "metric vs ratio  %s %d/%d: ratio %.3f metric %.3g%s",
             k == h->chosen ? "chosen" : "cursor", k >= 0 ? order_of(s, k) + 1 : 0, n,
             c ? c->ratio : 0.0, c ? c->metric : 0.0,
             c && !c->meets_ratio ? " (below target)" : "");
    struct ui_chart_opts o = ui_chart_defaults();
    o.title = title;
    o.x_unit = "ratio";
    o.marks = marks;
    o.n_marks = nm;
    ui_chart_draw(w, y, 1, h_rows, width, series, 2, &o);
    free(xs);
    free(ys);
    free(marks);
}

static void draw_hawq(struct search_panel *s, WINDOW *w, int height, int width, bool focused)
{
    const struct search_hawq *h = hawq_of_comp(s);
    attr_t bold = A_BOLD;
    if (h && h->running) {
        char bar[128];
        double f = h->iter_number > 0 ? (double)h->iteration / h->iter_number : 0;
        ui_fmt_bar(f, 20, NULL, NULL, bar, sizeof bar);
        ui_putf(w, 1, 1, width, bold, "HAWQ: Hutchinson iteration %d/%d [%s] mean trace %.4g",
                h->iteration, h->iter_number, bar, h->mean_trace);
    } else if (h && h->error[0]) {
        ui_putf(w, 1, 1, width, ui_style(UI_STYLE_ERROR), "HAWQ failed: %s", h->error);
    } else if (s->error[0]) {
        ui_putf(w, 1, 1, width, ui_style(UI_STYLE_ERROR), "%s", s->error);
    }
    if (h && h->solved && (h->chosen < 0 || h->chosen >= h->n_points || !h->n_layers))
        h = NULL; /* nothing to draw a curve from */
    if (!h || !h->solved) {
        if (!(h && (h->running || h->error[0])) && !s->error[0])
            ui_put(w, 1, 1, width, "HAWQ: no result shown yet", bold);
        ui_put(w, 3, 1, width, "h measures the Hessian traces and solves (comp:hawq_run);",
               A_NORMAL);
        ui_put(w, 4, 1, width, "r shows what it solved when the config was applied;", A_NORMAL);
        ui_put(w, 5, 1, width, "the config's initializer.precision must be hawq.", A_NORMAL);
        ui_put(w, 6, 1, width, "a starts an AutoQ search, m shows it.", A_NORMAL);
        return;
    }
    if (!h->running && !h->error[0] && !s->error[0]) {
        char cand[40] = "";
        for (int b = 0; b < h->n_bits; b++)
            snprintf(cand + strlen(cand), sizeof cand - strlen(cand), "%s%d", b ? "," : "",
                     h->bits[b]);
        ui_putf(w, 1, 1, width, bold,
                "HAWQ: %d layers %d points | ratio %.3f target %.2f | "
                "bits %s | %d it.",
                h->n_layers, h->n_points, h->points[h->chosen].ratio, h->target_ratio, cand,
                h->iterations);
    }
    int rows = h->n_layers + 1, room = height - 1 - 7; /* a chart needs 7 rows */
    if (rows > room)
        rows = room;
    if (rows < 2)
        rows = 2;
    draw_layers(s, w, 2, rows, width, h, focused);
    if (height - 1 - rows >= 5)
        draw_curve(s, w, 2 + rows, height - 1 - rows, width, h);
}

/* a policy as digits, one cell per quantizer (weights bold), wrapped over rows */
static int draw_strip(WINDOW *w, int y, int width, const char *label, const int *bits,
                      const struct search_autoq *q, int max_rows)
{
    int lw = ui_put(w, y, 1, width, label, ui_style(UI_STYLE_HEADER)) + 1;
    int per_row = width - lw, rows = 0;
    if (per_row < 4)
        return 1;
    for (int i = 0; i < q->n_steps; i++) {
        int r = i / per_row;
        if (r >= max_rows)
            break;
        rows = r + 1;
        char d[4];
        snprintf(d, sizeof d, "%d", bits ? bits[i] % 10 : 0);
        attr_t a = bits ? ui_style(bits_style(bits[i])) : ui_style(UI_STYLE_DIM);
        if (q->is_weight && q->is_weight[i])
            a |= A_BOLD | A_UNDERLINE;
        ui_put(w, y + r, 1 + lw + i % per_row, 1, bits ? d : "-", a);
    }
    return rows ? rows : 1;
}

static void draw_autoq(struct search_panel *s, WINDOW *w, int height, int width)
{
    const struct search_autoq *q = autoq_of_comp(s);
    static const char *const drive_name[] = {"", "starting", "running", "paused"};
    if (!q) {
        if (s->error[0])
            ui_putf(w, 1, 1, width, ui_style(UI_STYLE_ERROR), "%s", s->error);
        else
            ui_put(w, 1, 1, width, "AutoQ: no search yet", A_BOLD);
        ui_put(w, 3, 1, width, "a starts one: :autoq EPISODES SAMPLES (episodes default to the",
               A_NORMAL);
        ui_put(w, 4, 1, width, "config's iter_number or 30; SAMPLES of test_data evaluate each).",
               A_NORMAL);
        ui_put(w, 5, 1, width, "p pauses, x stops, Enter applies the best policy.", A_NORMAL);
        return;
    }
    const struct search_episode *best =
        q->best >= 0 && q->best < q->n_episodes ? &q->episodes[q->best] : NULL;
    char state[64];
    snprintf(state, sizeof state, "%s%s", drive_name[s->drive],
             q->applied ? " (best applied)" : "");
    if (s->error[0])
        ui_putf(w, 1, 1, width, ui_style(UI_STYLE_ERROR), "%s", s->error);
    else if (best)
        ui_putf(w, 1, 1, width, A_BOLD,
                "AutoQ: episode %d/%d %s | best #%d reward %.3f ratio %.3f acc %.2f%%",
                q->n_episodes, q->total, state, best->episode, best->reward, best->ratio,
                best->accuracy);
    else
        ui_putf(w, 1, 1, width, A_BOLD, "AutoQ: %d quantizers, episode 0/%d %s", q->n_steps,
                q->total, state);
    int y = 2;
    y += draw_strip(w, y, width, "bits now", q->bits, q, 2);
    y += draw_strip(w, y, width, "best    ", q->best_bits, q, 2);
    int rows = height - y;
    if (rows < 3)
        return;
    int table = width >= 62 ? 38 : width;
    attr_t hdr = ui_style(UI_STYLE_HEADER);
    ui_put(w, y, 1, table, "   ep   reward   ratio    acc%  best", hdr);
    int shown = rows - 1, first = q->n_episodes > shown ? q->n_episodes - shown : 0;
    for (int i = first; i < q->n_episodes; i++) {
        const struct search_episode *e = &q->episodes[i];
        ui_putf(w, y + 1 + i - first, 1, table, i == q->best ? A_BOLD : A_NORMAL,
                "%5d %8.4f %7.4f %7.2f  %s%s", e->episode, e->reward, e->ratio, e->accuracy,
                i == q->best ? "*" : " ", e->warmup ? " warm-up" : "");
    }
    if (table < width && width - table - 2 >= 24 && rows >= 6 && q->n_episodes) {
        double *xs = malloc((size_t)q->n_episodes * sizeof *xs);
        double *ys = malloc((size_t)q->n_episodes * sizeof *ys);
        if (xs && ys) {
            for (int i = 0; i < q->n_episodes; i++) {
                xs[i] = q->episodes[i].episode;
                ys[i] = q->episodes[i].reward;
            }
            struct ui_series r = {
                .x = xs, .y = ys, .n = q->n_episodes, .style = UI_STYLE_SERIES1, .label = "reward"};
            struct ui_chart_mark mark = {best ? best->episode : NAN, best ? best->reward : NAN, "●",
                                         'O', UI_STYLE_OK};
            struct ui_chart_opts o = ui_chart_defaults();
            o.x_unit = "episode";
            o.marks = &mark;
            o.n_marks = 1;
            ui_chart_draw(w, y, table + 2, rows, width - table - 1, &r, 1, &o);
        }
        free(xs);
        free(ys);
    }
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct search_panel *s = sp(p);
    int height = getmaxy(w) - 2, width = getmaxx(w) - 2;
    const struct compression_view *cv = ui_app_compression(p->app);
    if (!cv) {
        ui_put(w, 1, 1, width, "no compression of `model` to search", A_BOLD);
        ui_put(w, 2, 1, width, "F4 (or :compress FILE) with a quantization config on a device",
               A_NORMAL);
        ui_put(w, 3, 1, width, "allowing more than one bit width (TRIAL, VPU)", A_NORMAL);
        return;
    }
    if (!cv->n_weight_quantizers) {
        ui_put(w, 1, 1, width, "the compression of `model` quantizes no weights", A_BOLD);
        ui_put(w, 2, 1, width, "mixed precision needs a quantization config", A_NORMAL);
        return;
    }
    if (s->view == VIEW_HAWQ)
        draw_hawq(s, w, height, width, focused);
    else
        draw_autoq(s, w, height, width);
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    struct search_panel *s = sp(p);
    snprintf(buf, size, "Search  %s  (m: %s)", s->view == VIEW_HAWQ ? "HAWQ" : "AutoQ",
             s->view == VIEW_HAWQ ? "AutoQ" : "HAWQ");
}

static void destroy(struct ui_panel *p)
{
    struct search_panel *s = sp(p);
    search_snapshot_fini(&s->snap);
    free(s->order);
    free(s);
}

static const struct ui_panel_class search_class = {
    .name = "Search",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = search_keys,
};

struct ui_panel *ui_search_panel_new(struct ui_app *a)
{
    struct search_panel *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.cls = &search_class;
    s->base.app = a;
    s->layer.cursor = true;
    s->cursor = -1;
    return &s->base;
}
