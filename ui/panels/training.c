/* The Training panel: the run's state, a progress bar with ETA, learning rate and images/s,
 * and live charts of the loss per step and the accuracy per epoch over the whole run. An
 * accuracy-aware run shows its budget, the compression-rate search and the best point instead
 * of the loss. */
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
    struct aat_snapshot aat; /* the accuracy-aware side of the run (inactive: none) */
    double *vx, *vy, *vr, *vt; /* its validations: epoch, accuracy %, rate, target rate */
    int cap_aat;
};

static const struct ui_key_help training_keys[] = {
    {"t F5", "the training form (epochs, lr, batch, data subset, seed): starts a run"},
    {"S", "the compression's statistics (NNCF's tables) in the Console: :stats"},
    {"compression", "with `comp` on `model` the run trains it (compression = comp): the "
                    "level and compression loss are plotted per step"},
    {"p F7", "pause the run after its current step (the clocks stop), p again resumes it"},
    {"x F8 ^C", "cancel the run after its current step; the model keeps its weights "
                "(nncw.resume() in the Console continues it)"},
    {"accuracy-aware", "the budget (minimal tolerable accuracy) is the dashed line of the "
                       "accuracy chart, * the best point kept so far; the rate chart and the "
                       "list show the compression-rate search step by step"},
    {NULL, NULL},
};

static struct training_panel *tp(struct ui_panel *p)
{
    return (struct training_panel *)p;
}

static bool update(struct ui_panel *p)
{
    struct training_panel *t = tp(p);
    aat_trace_copy(session_aat_trace(p->app->session), &t->aat);
    const struct session_status *st = &p->app->status;
    unsigned v = p->app->train.version + p->app->comp_series.version + p->app->cview_serial +
                 t->aat.version + (unsigned)st->pausing * 2 + (unsigned)st->paused;
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

/* the run's state in words: a running one may be held by a pause */
static const char *state_name(const struct ui_app *a)
{
    if (a->train.state == TRAIN_RUN_RUNNING && a->status.pausing)
        return a->status.paused ? "paused" : "pausing";
    return train_run_state_name(a->train.state);
}

static void draw_status(WINDOW *w, int y, int width, const struct ui_app *a)
{
    const struct train_snapshot *s = &a->train;
    const struct nncw_train_event *e = &s->last;
    enum ui_style st = s->state == TRAIN_RUN_RUNNING && a->status.pausing ? UI_STYLE_WARN
                       : s->state == TRAIN_RUN_RUNNING     ? UI_STYLE_OK
                       : s->state == TRAIN_RUN_CANCELLED ? UI_STYLE_WARN
                       : s->state == TRAIN_RUN_FAILED    ? UI_STYLE_ERROR
                                                         : UI_STYLE_HEADER;
    int epoch = s->steps_per_epoch ? (int)(s->steps_done / s->steps_per_epoch) + 1 : 1;
    if (epoch > s->epochs)
        epoch = s->epochs;
    int col = ui_putf(w, y, 1, width, ui_style(st) | A_BOLD, "run %d %s", s->run, state_name(a));
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
    if (isnan(e->test_loss)) /* an accuracy-aware run's validation has no loss */
        snprintf(test, sizeof test, "test acc %.4f", e->test_acc);
    else
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

/* ---- accuracy-aware training ---- */

/* the validations as doubles for the charts; false when out of memory */
static bool aat_points(struct training_panel *t)
{
    const struct aat_snapshot *a = &t->aat;
    if (a->n_points > t->cap_aat) {
        double **arrays[] = {&t->vx, &t->vy, &t->vr, &t->vt};
        for (int k = 0; k < 4; k++) {
            double *p = realloc(*arrays[k], sizeof *p * (size_t)a->n_points);
            if (!p)
                return false;
            *arrays[k] = p;
        }
        t->cap_aat = a->n_points;
    }
    for (int i = 0; i < a->n_points; i++) {
        t->vx[i] = a->points[i].epoch;
        t->vy[i] = a->points[i].metric;
        t->vr[i] = a->points[i].rate;
        t->vt[i] = a->points[i].rate_target;
    }
    return true;
}

/* two lines: the budget and the search's position, then the best point so far */
static void draw_aat_summary(WINDOW *w, int y, int width, const struct aat_snapshot *a)
{
    char rate[64] = "";
    if (a->phase == NNCW_AAT_PHASE_SEARCH && !isnan(a->rate_target))
        snprintf(rate, sizeof rate, " | target rate %.3f, step %.3f", a->rate_target,
                 a->rate_step);
    else if (!isnan(a->rate))
        snprintf(rate, sizeof rate, " | rate %.3f", a->rate);
    ui_putf(w, y, 1, width, ui_style(UI_STYLE_WARN) | A_BOLD,
            "budget: accuracy >= %.2f %% (uncompressed %.2f) | %s%s%s", a->minimal_tolerable,
            a->uncompressed, nncw_aat_phase_name(a->phase), a->done ? " (done)" : "", rate);
    if (a->has_best)
        ui_putf(w, y + 1, 1, width, ui_style(UI_STYLE_OK) | A_BOLD,
                "best: rate %.3f at accuracy %.2f %%, epoch %d", a->best_rate, a->best_metric,
                a->best_epoch);
    else
        ui_put(w, y + 1, 1, width, "best: none within the budget yet", ui_style(UI_STYLE_DIM));
}

/* the newest validations, one a row: epoch, phase, rate (target), accuracy, within budget */
static void draw_aat_steps(WINDOW *w, int y, int rows, int width, const struct aat_snapshot *a)
{
    ui_put(w, y, 1, width, "epoch  phase    target  rate    accuracy  in budget",
           ui_style(UI_STYLE_HEADER));
    int first = a->n_points - (rows - 1) > 0 ? a->n_points - (rows - 1) : 0;
    for (int i = first, r = 1; i < a->n_points && r < rows; i++, r++) {
        const struct aat_point *p = &a->points[i];
        bool current = i == a->n_points - 1 && !a->done;
        ui_putf(w, y + r, 1, width,
                p->within_budget ? A_NORMAL : ui_style(UI_STYLE_WARN),
                "%5d  %-7s  %6.3f  %6.3f  %6.2f %%  %-3s%s", p->epoch,
                nncw_aat_phase_name(p->phase), p->rate_target, p->rate, p->metric,
                p->within_budget ? "yes" : "no", current ? "  <- now" : "");
    }
}

/* the accuracy per validation with the budget line and the best point; the rate search */
static void draw_aat(struct training_panel *t, WINDOW *w, int y, int h, int width)
{
    const struct aat_snapshot *a = &t->aat;
    if (h < 2)
        return;
    draw_aat_summary(w, y, width, a);
    y += 2;
    h -= 2;
    if (h < 5 || !aat_points(t))
        return;
    /* the accuracy chart first, then the list of steps, the rate chart when there is room */
    int list_max = h >= 9 ? (h / 3 > 3 ? h / 3 : 3) : 0;
    int list = a->n_points + 1 < list_max ? a->n_points + 1 : list_max;
    int charts = h - list;
    int acc_h = charts >= 14 ? charts * 3 / 5 : charts;
    double last = a->n_points ? t->vx[a->n_points - 1] : 0;
    double x_max = a->max_epochs > 0 && a->max_epochs <= 1000 ? a->max_epochs : last + 1;
    double bx[2] = {0, x_max}, by[2] = {a->minimal_tolerable, a->minimal_tolerable};
    struct ui_series acc[2] = {
        {t->vx, t->vy, a->n_points, UI_STYLE_SERIES1, "validation %"},
        {bx, by, 2, UI_STYLE_WARN, "budget (minimal tolerable)"},
    };
    struct ui_chart_mark best = {a->best_epoch, a->best_metric, "✱", '*', UI_STYLE_OK};
    struct ui_chart_opts o = ui_chart_defaults();
    o.title = "accuracy";
    o.x_min = 0;
    o.x_max = x_max;
    o.x_unit = "epochs";
    o.y_format = "%.2f";
    o.marks = a->has_best ? &best : NULL;
    o.n_marks = a->has_best;
    ui_chart_draw(w, y, 1, acc_h, width, acc, 2, &o);
    if (charts - acc_h >= 4) {
        struct ui_series rate[2] = {
            {t->vx, t->vt, a->n_points, UI_STYLE_SERIES2, "target rate"},
            {t->vx, t->vr, a->n_points, UI_STYLE_SERIES1, "measured"},
        };
        struct ui_chart_mark kept = {a->best_epoch, a->best_rate, "✱", '*', UI_STYLE_OK};
        o.title = "compression rate";
        o.y_min = 0;
        o.y_format = "%.2f";
        o.marks = a->has_best ? &kept : NULL;
        ui_chart_draw(w, y + acc_h, 1, charts - acc_h, width, rate, 2, &o);
    }
    if (list)
        draw_aat_steps(w, y + charts, list, width, a);
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
    draw_status(w, 1, width, p->app);
    draw_progress(w, 2, width, s);
    if (ui_app_compression(p->app) || p->app->comp_series.active)
        draw_compression(w, 3, width, p->app);
    int rows = draw_final(w, h, width, s);
    if (t->aat.active) {
        draw_aat(t, w, 4, h - 3 - rows, width);
        return;
    }
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
        snprintf(buf, size, "Training  run %d: %s", s->run, state_name(p->app));
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
    free(t->vx);
    free(t->vy);
    free(t->vr);
    free(t->vt);
    aat_snapshot_fini(&t->aat);
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
