/* The Training panel: the run's state, a progress bar with ETA, learning rate and images/s,
 * and live charts of the loss per step and the accuracy per epoch over the whole run. */
#include "panels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../fmt.h"
#include "../widgets/chart.h"

struct training_panel {
    struct ui_panel base;
    unsigned version;
    double *xs, *ys, *ex, *train_acc, *test_acc; /* the chart's points */
    int64_t cap, cap_epochs;
    double *cx, *cy; /* the compression chart's points (level, or compression loss) */
    int64_t cap_comp;
};

static const struct ui_key_help training_keys[] = {
    {"t F5", "the training form (epochs, lr, batch, data subset, seed): starts a run"},
    {"S", "the compression's statistics (NNCF's tables) in the Console: :stats"},
    {"compression", "with `comp` on `model` the run trains it (compression = comp): the "
                    "level and compression loss are plotted per step"},
    {"x F8 ^C", "cancel the run after its current step; the model keeps its weights"},
    {NULL, NULL},
};

static struct training_panel *tp(struct ui_panel *p)
{
    return (struct training_panel *)p;
}

static bool update(struct ui_panel *p)
{
    struct training_panel *t = tp(p);
    unsigned v = p->app->train.version + p->app->comp_series.version + p->app->cview_serial;
    bool changed = t->version != v;
    t->version = v;
    return changed;
}

/* ---- compression during the run ---- */

/* whether the series has a level (sparsity or pruning) to plot */
static bool has_level(const struct compression_series *c)
{
    for (int64_t i = 0; i < c->n; i++)
        if (!isnan(c->points[i].level))
            return true;
    return false;
}

/* the level per step, or else the compression loss per step; false when out of memory */
static bool compression_points(struct training_panel *t, const struct compression_series *c,
                               bool level)
{
    if (c->n > t->cap_comp) {
        double *x = realloc(t->cx, sizeof *x * (size_t)c->n);
        double *y = x ? realloc(t->cy, sizeof *y * (size_t)c->n) : NULL;
        if (x)
            t->cx = x;
        if (!y)
            return false;
        t->cy = y;
        t->cap_comp = c->n;
    }
    for (int64_t i = 0; i < c->n; i++) {
        t->cx[i] = (double)c->points[i].global_step;
        t->cy[i] = level ? c->points[i].level : c->points[i].loss;
    }
    return true;
}

/* one line: the algorithms, the stage, the level and the compression loss (live in a run) */
static void draw_compression(WINDOW *w, int y, int width, const struct ui_app *a)
{
    const struct compression_view *cv = ui_app_compression(a);
    const struct compression_series *c = &a->comp_series;
    /* the last run's figures while they are about this compression */
    const struct compression_point *last =
        c->active && c->n && (!cv || cv->key == c->key) ? &c->points[c->n - 1] : NULL;
    char text[320] = "";
    size_t k = 0;
    float level = last ? last->level : cv && cv->has_level ? cv->level : NAN;
    if (isnan(level) && cv && cv->has_cost && !last)
        level = cv->cost.level;
    if (!isnan(level))
        k += (size_t)snprintf(text + k, sizeof text - k, "level %.3f | ", level);
    float rate = last ? last->rate : cv && cv->has_rate ? cv->rate : NAN;
    if (!isnan(rate) && k < sizeof text)
        k += (size_t)snprintf(text + k, sizeof text - k, "rate %.3f | ", rate);
    if (last && k < sizeof text)
        k += (size_t)snprintf(text + k, sizeof text - k, "comp loss %.4g | ", last->loss);
    if (cv && cv->n_quantizers && k < sizeof text)
        k += (size_t)snprintf(text + k, sizeof text - k, "%d quantizers | ", cv->n_quantizers);
    if (k < sizeof text)
        snprintf(text + k, sizeof text - k, "%s %s", cv ? cv->algos : "compression",
                 cv ? cv->stage : "");
    ui_put(w, y, 1, width, text, ui_style(UI_STYLE_SERIES2) | A_BOLD);
}

/* the points of the snapshot as doubles for the charts; false when out of memory */
static bool points(struct training_panel *t, const struct train_snapshot *s)
{
    if (s->n_steps > t->cap) {
        double *x = realloc(t->xs, sizeof *x * (size_t)s->n_steps);
        double *y = x ? realloc(t->ys, sizeof *y * (size_t)s->n_steps) : NULL;
        if (x)
            t->xs = x;
        if (!y)
            return false;
        t->ys = y;
        t->cap = s->n_steps;
    }
    if (s->n_epochs > t->cap_epochs) {
        double *a = realloc(t->ex, sizeof *a * (size_t)s->n_epochs);
        double *b = a ? realloc(t->train_acc, sizeof *b * (size_t)s->n_epochs) : NULL;
        double *c = b ? realloc(t->test_acc, sizeof *c * (size_t)s->n_epochs) : NULL;
        if (a)
            t->ex = a;
        if (b)
            t->train_acc = b;
        if (!c)
            return false;
        t->test_acc = c;
        t->cap_epochs = s->n_epochs;
    }
    for (int64_t i = 0; i < s->n_steps; i++) {
        t->xs[i] = (double)s->steps[i].global_step;
        t->ys[i] = s->steps[i].loss;
    }
    for (int i = 0; i < s->n_epochs; i++) {
        t->ex[i] = s->epoch_points[i].epoch;
        t->train_acc[i] = s->epoch_points[i].train_acc;
        t->test_acc[i] = s->epoch_points[i].test_acc;
    }
    return true;
}

/* the images/s of the newest step event (epoch events carry none) */
static double images_per_s(const struct train_snapshot *s)
{
    return s->n_steps ? s->steps[s->n_steps - 1].images_per_s : NAN;
}

static void draw_status(WINDOW *w, int y, int width, const struct train_snapshot *s)
{
    const struct nncw_train_event *e = &s->last;
    enum ui_style st = s->state == TRAIN_RUN_RUNNING     ? UI_STYLE_OK
                       : s->state == TRAIN_RUN_CANCELLED ? UI_STYLE_WARN
                       : s->state == TRAIN_RUN_FAILED    ? UI_STYLE_ERROR
                                                         : UI_STYLE_HEADER;
    int epoch = s->steps_per_epoch ? (int)(s->steps_done / s->steps_per_epoch) + 1 : 1;
    if (epoch > s->epochs)
        epoch = s->epochs;
    int col = ui_putf(w, y, 1, width, ui_style(st) | A_BOLD, "run %d %s", s->run,
                      train_run_state_name(s->state));
    ui_putf(w, y, 1 + col, width - col, A_NORMAL, "  epoch %d/%d  step %lld/%lld  batch %d", epoch,
            s->epochs, (long long)s->steps_done, (long long)s->total_steps, s->batch);
    char ips[32];
    double rate = images_per_s(s);
    float loss = s->n_steps ? s->steps[s->n_steps - 1].loss : NAN;
    ui_putf(w, y + 2, 1, width, A_NORMAL, "lr %.4g  %s img/s  loss %.4f",
            isnan(e->lr) ? s->base_lr : e->lr, isnan(rate) ? "-" : ui_fmt_si(rate, ips, sizeof ips),
            loss);
}

static void draw_progress(WINDOW *w, int y, int width, const struct train_snapshot *s)
{
    double frac = s->total_steps ? (double)s->steps_done / (double)s->total_steps : 0;
    char eta[32], elapsed[32], pct[16];
    double left = s->state == TRAIN_RUN_RUNNING ? s->last.eta_s : 0;
    snprintf(pct, sizeof pct, "%3.0f%%", frac * 100);
    char tail[96];
    snprintf(tail, sizeof tail, " %s  ETA %s  elapsed %s", pct,
             ui_fmt_duration(left, eta, sizeof eta),
             ui_fmt_duration(s->last.elapsed_s, elapsed, sizeof elapsed));
    int bar = width - ui_width(tail) - 2;
    if (bar < 5) {
        ui_put(w, y, 1, width, tail, A_NORMAL);
        return;
    }
    char cells[1024];
    bool utf8 = ui_term_utf8();
    ui_fmt_bar(frac, bar, utf8 ? "█" : "#", utf8 ? "░" : "-", cells, sizeof cells);
    ui_put(w, y, 1, 1, "[", A_NORMAL);
    ui_put(w, y, 2, bar, cells, ui_style(UI_STYLE_SERIES1));
    ui_put(w, y, 2 + bar, 1, "]", A_NORMAL);
    ui_put(w, y, 3 + bar, width - bar - 2, tail, A_NORMAL);
}

/* the last epoch's figures: one row when wide, two otherwise; returns the rows used */
static int draw_final(WINDOW *w, int y_last, int width, const struct train_snapshot *s)
{
    if (!s->n_epochs) {
        ui_put(w, y_last, 1, width, "t: new run   x: cancel", ui_style(UI_STYLE_DIM));
        return 1;
    }
    const struct train_epoch_point *e = &s->epoch_points[s->n_epochs - 1];
    char train[64], test[64];
    snprintf(train, sizeof train, "train loss %.4f acc %.4f", e->train_loss, e->train_acc);
    snprintf(test, sizeof test, "test loss %.4f acc %.4f", e->test_loss, e->test_acc);
    bool has_test = !isnan(e->test_acc);
    if (!has_test || width >= 24 + ui_width(train) + ui_width(test)) {
        ui_putf(w, y_last, 1, width, A_BOLD, "epoch %d: %s%s%s", e->epoch, train,
                has_test ? " | " : "", has_test ? test : "");
        return 1;
    }
    ui_putf(w, y_last - 1, 1, width, A_BOLD, "epoch %d: %s", e->epoch, train);
    ui_putf(w, y_last, 1, width, A_BOLD, "%*s%s", 4 + (e->epoch > 9), "", test);
    return 2;
}

static void draw_charts(struct training_panel *t, WINDOW *w, int y, int h, int width,
                        const struct ui_app *a)
{
    const struct train_snapshot *s = &a->train;
    const struct compression_series *c = &a->comp_series;
    if (!points(t, s))
        return;
    bool comp = c->active && c->n > 0, level = comp && has_level(c);
    if (comp && !compression_points(t, c, level))
        comp = false;
    /* the loss always; the compression's chart during a compressed run; the accuracy when
     * there is room for it too */
    int charts = 1 + comp + (h >= (comp ? 18 : 12));
    int loss_h = charts == 1 ? h : charts == 2 ? h * 3 / 5 : h * 2 / 5;
    int comp_h = comp ? (charts == 2 ? h - loss_h : (h - loss_h) / 2) : 0;
    struct ui_series loss = {t->xs, t->ys, (int)s->n_steps, UI_STYLE_SERIES1, "train (per step)"};
    struct ui_chart_opts o = ui_chart_defaults();
    o.title = "loss";
    o.x_min = 0;
    o.x_max = s->total_steps > 0 ? (double)s->total_steps : NAN;
    o.x_unit = "steps";
    o.y_format = "%.3f";
    ui_chart_draw(w, y, 1, loss_h, width, &loss, 1, &o);
    if (comp) {
        struct ui_series cs = {t->cx, t->cy, (int)c->n, UI_STYLE_SERIES2,
                               level ? "level" : "compression loss"};
        o.title = level ? "compression level (sparsity / pruning)" : "compression loss";
        o.y_format = level ? "%.2f" : "%.3g";
        if (level)
            o.y_min = 0;
        ui_chart_draw(w, y + loss_h, 1, comp_h, width, &cs, 1, &o);
        o.y_min = NAN;
    }
    if (charts == 1 + comp)
        return;
    struct ui_series acc[2] = {
        {t->ex, t->train_acc, s->n_epochs, UI_STYLE_SERIES1, "train"},
        {t->ex, t->test_acc, s->n_epochs, UI_STYLE_SERIES2, "test"},
    };
    o.title = "accuracy per epoch";
    o.x_min = 0;
    o.x_max = s->epochs;
    o.x_unit = s->epochs == 1 ? "epoch" : "epochs";
    o.y_format = "%.3f";
    ui_chart_draw(w, y + loss_h + comp_h, 1, h - loss_h - comp_h, width, acc, 2, &o);
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct training_panel *t = tp(p);
    const struct train_snapshot *s = &p->app->train;
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    (void)focused;
    if (s->state == TRAIN_RUN_NONE) {
        static const char *const intro[] = {
            "no run yet",
            "",
            "t (or F5): the training form",
            "(epochs, lr, batch, subsets, seed)",
            "trains `model` on `train_data`,",
            "tests on `test_data` (Lua globals)",
            "x (F8, Ctrl-C): cancel a run",
        };
        for (int i = 0; i < (int)(sizeof intro / sizeof *intro) && i < h; i++)
            ui_put(w, 1 + i, 1, width, intro[i], i ? A_NORMAL : A_BOLD);
        if (ui_app_compression(p->app)) /* the run will train it (QAT, sparsity, pruning) */
            draw_compression(w, 2, width, p->app);
        return;
    }
    draw_status(w, 1, width, s);
    draw_progress(w, 2, width, s);
    if (ui_app_compression(p->app) || p->app->comp_series.active)
        draw_compression(w, 3, width, p->app);
    int rows = draw_final(w, h, width, s);
    if (h - 3 - rows >= 5)
        draw_charts(t, w, 4, h - 3 - rows, width, p->app);
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    if (key != 'S')
        return UI_IGNORED;
    ui_action_command(p->app, "stats");
    return UI_REDRAW;
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    const struct train_snapshot *s = &p->app->train;
    if (s->state == TRAIN_RUN_NONE)
        snprintf(buf, size, "Training");
    else
        snprintf(buf, size, "Training  run %d: %s", s->run, train_run_state_name(s->state));
}

static void destroy(struct ui_panel *p)
{
    struct training_panel *t = tp(p);
    free(t->xs);
    free(t->ys);
    free(t->ex);
    free(t->train_acc);
    free(t->test_acc);
    free(t->cx);
    free(t->cy);
    free(t);
}

static const struct ui_panel_class training_class = {
    .name = "Training",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .update = update,
    .destroy = destroy,
    .keys = training_keys,
};

struct ui_panel *ui_training_panel_new(struct ui_app *a)
{
    struct training_panel *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->base.cls = &training_class;
    t->base.app = a;
    return &t->base;
}
