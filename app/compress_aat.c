/* `nncw compress` with accuracy_aware_training: runs engine/train/accuracy_aware, printing one
 * line per validation and rate change, then the kept model and the rate trajectory. */
#include "compress_aat.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "train/accuracy_aware.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static bool on_step(void *user, const struct nncw_train_event *ev)
{
    const struct app_aat_args *a = user;
    if (!a->quiet)
        printf("  epoch %d  step %lld/%lld  loss %.4f  lr %.4g  %.0f img/s\n", ev->epoch + 1,
               (long long)ev->step, (long long)ev->steps_per_epoch, ev->loss, ev->lr,
               ev->images_per_s);
    fflush(stdout);
    return !interrupted;
}

static void print_validation(const struct nncw_aat_event *ev)
{
    printf("aat %-7s epoch %d/%d  acc %.2f%%  budget %+.2f  rate %.4f",
           nncw_aat_phase_name(ev->phase), ev->epoch, ev->max_epochs, ev->metric, ev->budget,
           (double)ev->rate);
    if (ev->phase == NNCW_AAT_PHASE_SEARCH)
        printf(" (target %.4f, step %.4f, lr x%.4g)", (double)ev->rate_target,
               (double)ev->rate_step, (double)ev->lr_scale);
    else
        printf(" (%s)", nncw_compression_stage_name(ev->stage));
    if (!isnan(ev->train_loss))
        printf("  train loss %.4f", ev->train_loss);
    if (ev->has_best)
        printf("  kept: rate %.4f budget %+.2f", (double)ev->best_rate, ev->best_budget);
    printf("\n");
}

static bool on_event(void *user, const struct nncw_aat_event *ev)
{
    const struct app_aat_args *a = user;
    if (a->quiet || ev->type == NNCW_AAT_EVENT_DONE)
        return !interrupted;
    if (ev->type == NNCW_AAT_EVENT_VALIDATION)
        print_validation(ev);
    else
        printf("aat rate target %.4f -> %.4f (step %.4f, lr x%.4g; best budget %+.2f)\n",
               (double)ev->change->from, (double)ev->change->to, (double)ev->change->step,
               (double)ev->change->lr_scale, ev->change->best_budget);
    fflush(stdout);
    return !interrupted;
}

static void print_summary(const struct nncw_aat_config *p, const struct nncw_aat_result *r,
                          double seconds)
{
    printf("accuracy-aware training (%s): %s after %d epochs, %.1f s\n",
           nncw_aat_mode_name(p->mode), nncw_aat_stop_name(r->stop), r->epochs, seconds);
    printf("  uncompressed accuracy %.2f%%, minimal tolerable %.2f%%\n", r->uncompressed_metric,
           r->minimal_tolerable_metric);
    printf("  final: compression rate %.4f, accuracy %.2f%% (%s the budget)%s\n",
           (double)r->final_rate, r->final_metric, r->within_budget ? "within" : "outside",
           r->restored ? "" : "; no kept checkpoint, the last model");
    if (r->n_changes) {
        printf("  rate trajectory: %.4f", (double)r->changes[0].from);
        for (int i = 0; i < r->n_changes; i++)
            printf(" -> %.4f", (double)r->changes[i].to);
        printf("\n");
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int app_compress_aat(const struct app_aat_args *a, const struct nncw_config *cfg,
                     struct nncw_graph *g, struct nncw_compression *c,
                     const struct nncw_dataset *train, const struct nncw_dataset *test)
{
    struct nncw_aat_options o = nncw_aat_defaults();
    o.params = cfg->accuracy_aware;
    if (a->max_epochs >= 1 && a->max_epochs < o.params.maximal_total_epochs)
        o.params.maximal_total_epochs = (int)a->max_epochs;
    o.train = a->train;
    o.train.log_every = a->quiet ? 0 : o.train.log_every;
    o.uncompressed_metric = 100.0 * (double)a->uncompressed_acc;
    o.on_event = on_event;
    o.user = (void *)a;
    o.on_train = on_step;
    o.train_user = (void *)a;
    struct nncw_aat *run;
    if (nncw_aat_new(g, c, train, test, &o, &run) != NNCW_OK) {
        fprintf(stderr, "nncw compress: %s\n", nncw_last_error());
        return 1;
    }
    if (!a->quiet)
        printf("accuracy-aware training: %s, at most %d epochs, batch %d, %s lr %g, seed %llu\n",
               nncw_aat_mode_name(o.params.mode), o.params.maximal_total_epochs, o.train.batch_size,
               nncw_optim_type_name(o.train.optim.type), (double)o.train.optim.lr,
               (unsigned long long)o.train.seed);
    fflush(stdout);
    double t0 = now_s();
    interrupted = 0;
    signal(SIGINT, on_sigint);
    enum nncw_status s = nncw_aat_run(run);
    signal(SIGINT, SIG_DFL);
    int rc = 0;
    if (s == NNCW_OK) {
        struct nncw_aat_result r;
        nncw_aat_get_result(run, &r);
        print_summary(&o.params, &r, now_s() - t0);
    } else {
        fprintf(stderr, "nncw compress: accuracy-aware training: %s\n", nncw_last_error());
        rc = s == NNCW_ERR_CANCELLED ? 130 : 1;
    }
    fflush(stdout);
    nncw_aat_free(run);
    return rc;
}
