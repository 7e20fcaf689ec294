/* Accuracy-aware training: the config section, and the loop's decisions against NNCF's
 * behaviour worked out by hand. The decision tests script the validation metric (one value
 * per validation) and replace the training epoch with one that marks the model (a bias holds
 * epoch + 1), so restored checkpoints, step and learning-rate reductions, patience, early
 * exit and the stop reasons are checked exactly; magnitude sparsity on the zoo CNN is real.
 * One run trains for real on a small synthetic set. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnn_fixture.h"
#include "compression/compression.h"
#include "config/config.h"
#include "data/data.h"
#include "nncwt.h"
#include "train/accuracy_aware.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

/* ---- fixtures ---- */

static struct nncw_config *parse(const char *json)
{
    struct nncw_config *cfg;
    nncwt_assert_status(nncw_config_parse(json, "aat.json", &cfg), NNCW_OK);
    return cfg;
}

/* magnitude sparsity reaching 0.3 (FULLY_COMPRESSED) at epoch target_epoch */
static struct nncw_compression *sparsify(struct nncw_graph *g, int target_epoch)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, \"compression\": "
             "{\"algorithm\": \"magnitude_sparsity\", \"params\": {\"sparsity_target\": 0.3, "
             "\"sparsity_target_epoch\": %d, \"sparsity_freeze_epoch\": 1000}}}",
             target_epoch);
    struct nncw_config *cfg = parse(json);
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    nncw_config_free(cfg); /* the builder keeps what it needs of a magnitude config */
    return c;
}

static int param_id(struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (!strcmp(nncw_graph_get_value_name(g, id), name))
            return id;
    }
    ck_abort_msg("no parameter %s", name);
    return -1;
}

static float *marker(struct nncw_graph *g)
{
    return nncw_tensor_f32(nncw_graph_get_value_tensor(g, param_id(g, "fc2.bias")));
}

/* the scripted run: metrics per validation, what each training epoch was told */
struct script {
    const double *metrics;
    int n_metrics, calls;
    int epochs;
    bool fresh[64];
    float lr_scale[64];
    int events[NNCW_AAT_EVENT_TYPE_COUNT];
    int cancel_at_validation; /* 0: never */
};

static enum nncw_status scripted_validate(void *user, struct nncw_graph *g, int epoch,
                                          double *metric)
{
    (void)g;
    (void)epoch;
    struct script *s = user;
    ck_assert_int_lt(s->calls, s->n_metrics);
    *metric = s->metrics[s->calls++];
    return NNCW_OK;
}

static enum nncw_status marking_epoch(void *user, struct nncw_graph *g, int epoch, bool fresh,
                                      float lr_scale)
{
    struct script *s = user;
    ck_assert_int_eq(epoch, s->epochs);
    ck_assert_int_lt(epoch, 64);
    s->fresh[epoch] = fresh;
    s->lr_scale[epoch] = lr_scale;
    s->epochs++;
    marker(g)[0] = (float)(epoch + 1);
    return NNCW_OK;
}

static bool count_events(void *user, const struct nncw_aat_event *ev)
{
    struct script *s = user;
    s->events[ev->type]++;
    if (ev->type == NNCW_AAT_EVENT_VALIDATION)
        ck_assert_double_eq_tol(ev->budget, ev->metric - ev->minimal_tolerable_metric, 1e-9);
    return !(s->cancel_at_validation &&
             s->events[NNCW_AAT_EVENT_VALIDATION] == s->cancel_at_validation);
}

static struct nncw_aat_options scripted_options(struct script *s, enum nncw_aat_mode mode)
{
    struct nncw_aat_options o = nncw_aat_defaults();
    o.params = nncw_aat_config_defaults(mode);
    o.params.maximal_relative_accuracy_degradation = 1.0f; /* 100 -> 99 */
    o.uncompressed_metric = 100.0;
    o.validate = scripted_validate;
    o.validate_user = s;
    o.train_epoch = marking_epoch;
    o.train_epoch_user = s;
    o.on_event = count_events;
    o.user = s;
    return o;
}

static void run_scripted(struct nncw_graph *g, struct nncw_compression *c,
                         const struct nncw_aat_options *o, struct nncw_aat_result *r)
{
    struct nncw_aat *a;
    nncwt_assert_status(nncw_aat_new(g, c, NULL, NULL, o, &a), NNCW_OK);
    nncwt_assert_status(nncw_aat_run(a), NNCW_OK);
    nncw_aat_get_result(a, r);
    /* copy what the caller checks: the arrays go with the run */
    static struct nncw_aat_point hist[64];
    static struct nncw_aat_rate_change ch[64];
    ck_assert_int_le(r->n_history, 64);
    ck_assert_int_le(r->n_changes, 64);
    if (r->n_history)
        memcpy(hist, r->history, (size_t)r->n_history * sizeof *hist);
    if (r->n_changes)
        memcpy(ch, r->changes, (size_t)r->n_changes * sizeof *ch);
    r->history = hist;
    r->changes = ch;
    nncwt_assert_status(nncw_aat_run(a), NNCW_ERR_INVALID_ARG); /* once only */
    nncw_aat_free(a);
}

/* ---- adaptive compression level ---- */

/* Initial phase (2 epochs): 90, 95 while the schedule ramps up, 99.2 at full compression (rate
 * R) ends it early with the budget met. Search: R+0.1 misses (98.5, 98.8 over the patience of
 * 2), so the step halves to 0.05 and the lr to 0.5: R+0.05 meets it (99.1) and the step halves
 * again (0.025, lr 0.25): R+0.075 misses twice, step 0.0125 (lr 0.125): R+0.0625 meets it
 * (99.5), and the step is now below the minimal 0.025: the model of R+0.0625 is kept. */
START_TEST(test_aat_adaptive_search_follows_nncf)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 1);
    static const double m[] = {90, 95, 99.2, 99.2, 98.5, 98.8, 99.1, 98.0, 98.5, 99.5, 99.5};
    struct script s = {.metrics = m, .n_metrics = 11};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.initial_training_phase_epochs = 2;
    o.params.patience_epochs = 2;
    o.params.maximal_total_epochs = 20;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);

    ck_assert_int_eq(s.calls, 11);
    ck_assert_int_eq(r.epochs, 8);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_MINIMAL_STEP);
    ck_assert_int_eq(r.n_history, 9); /* every validation but the search's first */
    float R = r.history[2].rate_target;
    ck_assert_float_eq_tol(R, 0.3f, 0.02f);
    ck_assert_int_eq(r.n_changes, 4);
    float t1 = R + 0.1f, t2 = t1 - 0.05f, t3 = t2 + 0.025f, t4 = t3 - 0.0125f;
    const float to[] = {t1, t2, t3, t4}, step[] = {0.1f, 0.05f, 0.025f, 0.0125f},
                lr[] = {1, 0.5f, 0.25f, 0.125f};
    const int at[] = {2, 4, 5, 7};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq_tol(r.changes[i].to, to[i], 1e-6f);
        ck_assert_float_eq_tol(r.changes[i].step, step[i], 1e-7f);
        ck_assert_float_eq_tol(r.changes[i].lr_scale, lr[i], 1e-7f);
        ck_assert_int_eq(r.changes[i].epoch, at[i]);
    }
    ck_assert_double_eq_tol(r.changes[1].best_budget, -0.2, 1e-9);
    /* a fresh optimizer at the start and at every new target, with the reduced lr */
    const bool fresh[] = {true, false, true, false, true, true, false, true};
    const float lrs[] = {1, 1, 1, 1, 0.5f, 0.25f, 0.25f, 0.125f};
    for (int e = 0; e < 8; e++) {
        ck_assert_int_eq(s.fresh[e], fresh[e]);
        ck_assert_float_eq(s.lr_scale[e], lrs[e]);
    }
    /* the model trained at R+0.0625 in epoch 8 is back, and its masks with it */
    ck_assert(r.restored);
    ck_assert_float_eq_tol(r.kept_rate, t4, 1e-6f);
    ck_assert_float_eq(marker(g)[0], 8.0f);
    ck_assert_float_eq_tol(r.final_rate, t4, 0.01f);
    ck_assert_double_eq(r.final_metric, 99.5);
    ck_assert(r.within_budget);
    ck_assert_double_eq_tol(r.minimal_tolerable_metric, 99.0, 1e-9);
    ck_assert_int_eq(s.events[NNCW_AAT_EVENT_VALIDATION], 10);
    ck_assert_int_eq(s.events[NNCW_AAT_EVENT_RATE_CHANGE], 4);
    ck_assert_int_eq(s.events[NNCW_AAT_EVENT_DONE], 1);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* always within budget: the target climbs by the step at every epoch (no waiting for the
 * patience) until it passes 0.95, the maximal rate; the model of the last rate below is kept */
START_TEST(test_aat_adaptive_stops_at_maximal_rate)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 1);
    double m[32];
    for (int i = 0; i < 32; i++)
        m[i] = 100;
    struct script s = {.metrics = m, .n_metrics = 32};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.initial_training_phase_epochs = 0;
    o.params.patience_epochs = 5;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_MAXIMAL_RATE);
    ck_assert_int_eq(r.n_changes, 10); /* 0.1 ... 0.9 trained, then 1.0 -> 0.95 */
    ck_assert_int_eq(r.epochs, 9);
    ck_assert_float_eq(r.changes[9].to, 0.95f);
    ck_assert_float_eq_tol(r.kept_rate, 0.9f, 1e-5f);
    ck_assert_float_eq(marker(g)[0], 9.0f);
    ck_assert_float_eq_tol(r.final_rate, 0.9f, 0.01f);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* never within budget from the uncompressed start: the first target is below the minimal
 * rate 0 and the run stops without training (NNCF: cannot produce a compressed model) */
START_TEST(test_aat_adaptive_stops_below_minimal_rate)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 1);
    static const double m[] = {90, 90, 90};
    struct script s = {.metrics = m, .n_metrics = 3};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.initial_training_phase_epochs = 0;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_MINIMAL_RATE);
    ck_assert_int_eq(r.epochs, 0);
    ck_assert_int_eq(r.n_changes, 1);
    ck_assert_float_eq_tol(r.changes[0].to, -0.1f, 1e-4f); /* from the measured rate, ~0 */
    ck_assert(!r.restored);
    ck_assert(!r.within_budget);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* within budget every time but capped by maximal_total_epochs (the initial phase counts) */
START_TEST(test_aat_adaptive_stops_at_maximal_total_epochs)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 0);
    double m[32];
    for (int i = 0; i < 32; i++)
        m[i] = i < 2 ? 98 : 100; /* the initial phase misses, so it runs all its epochs */
    struct script s = {.metrics = m, .n_metrics = 32};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.initial_training_phase_epochs = 1;
    o.params.maximal_total_epochs = 4;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_MAX_EPOCHS);
    ck_assert_int_eq(r.epochs, 4);
    ck_assert_int_eq(r.n_changes, 3);
    ck_assert_float_eq(marker(g)[0], 4.0f);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* Filter pruning's rate is the pruning level (NNCF): the search moves it through
 * set_compression_rate and the kept model comes back with its masks. The zoo CNN's convs have
 * 32 and 64 filters; NNCF keeps ceil(C * (1 - level) / 8) * 8 of them: 16/32 at 0.5, 24/48 at
 * 0.25, 24/40 at 0.375. Level 0.5 misses (98) -> 0.25 meets it (99.5) -> up by the halved step
 * to 0.375 (lr 0.5), which misses; maximal_total_epochs (2) ends the run and the 0.25 model,
 * trained in epoch 1, is restored. */
START_TEST(test_aat_adaptive_moves_the_pruning_level)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg =
        parse("{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, \"compression\": "
              "{\"algorithm\": \"filter_pruning\", \"pruning_init\": 0.5, \"params\": "
              "{\"schedule\": \"baseline\", \"pruning_target\": 0.5, \"prune_first_conv\": true, "
              "\"prune_last_conv\": true}}}");
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    ck_assert_int_eq(nncw_compression_count_pruning_groups(c), 2);
    static const double m[] = {98, 98, 99.5, 98, 99.5};
    struct script s = {.metrics = m, .n_metrics = 5};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.initial_training_phase_epochs = 0;
    o.params.patience_epochs = 2;
    o.params.initial_compression_rate_step = 0.25f;
    o.params.minimal_compression_rate_step = 0.1f;
    o.params.maximal_total_epochs = 2;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);

    ck_assert_int_eq(s.calls, 5);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_MAX_EPOCHS);
    ck_assert_int_eq(r.epochs, 2);
    ck_assert_int_eq(r.n_changes, 2);
    ck_assert_float_eq_tol(r.changes[0].from, 0.5f, 1e-6f);
    ck_assert_float_eq_tol(r.changes[0].to, 0.25f, 1e-6f);
    ck_assert_float_eq_tol(r.changes[1].to, 0.375f, 1e-6f);
    ck_assert_float_eq_tol(r.changes[1].step, 0.125f, 1e-7f);
    ck_assert_float_eq(r.changes[1].lr_scale, 0.5f);
    /* the rate each epoch trained at is the level set, measured back */
    ck_assert_int_eq(r.n_history, 3);
    ck_assert_float_eq_tol(r.history[1].rate, 0.25f, 1e-6f);
    ck_assert_float_eq_tol(r.history[2].rate, 0.375f, 1e-6f);
    /* the 0.25 model is back: its weights (marker), level and masks */
    ck_assert(r.restored);
    ck_assert_float_eq_tol(r.kept_rate, 0.25f, 1e-6f);
    ck_assert_float_eq(marker(g)[0], 1.0f);
    float rate;
    nncwt_assert_status(nncw_compression_get_rate(c, &rate), NNCW_OK);
    ck_assert_float_eq_tol(rate, 0.25f, 1e-6f);
    ck_assert_float_eq_tol(r.final_rate, 0.25f, 1e-6f);
    const int64_t kept[] = {24, 48}, filters[] = {32, 64};
    for (int i = 0; i < 2; i++) {
        struct nncw_pruning_group_info gi;
        nncwt_assert_status(nncw_compression_get_pruning_group(c, i, &gi), NNCW_OK);
        ck_assert_int_eq(gi.filters, filters[i]);
        ck_assert_int_eq(gi.kept, kept[i]);
    }
    ck_assert(r.within_budget);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

/* ---- early exit ---- */

/* 100 before compression (not fully compressed: no checkpoint), 99.5, 99.6 while the schedule
 * ramps up, 98 once fully compressed, then 99.3: budget met while fully compressed, so the run
 * stops after 4 epochs of the allowed 10. No fully compressed validation matched the best
 * metric (100), so, as in NNCF, no checkpoint is restored and the model is the last one. */
START_TEST(test_aat_early_exit_stops_when_budget_and_full_compression_met)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 2);
    static const double m[] = {100, 99.5, 99.6, 98, 99.3, 99.3};
    struct script s = {.metrics = m, .n_metrics = 6};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_EARLY_EXIT);
    o.params.maximal_total_epochs = 10;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_CRITERION);
    ck_assert_int_eq(r.epochs, 4);
    ck_assert_int_eq(r.n_changes, 0);
    ck_assert(!r.restored);
    ck_assert_float_eq(marker(g)[0], 4.0f);
    ck_assert_int_eq(nncw_compression_get_stage(c), NNCW_STAGE_FULLY_COMPRESSED);
    ck_assert(r.within_budget);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* never within budget: all epochs run and the fully compressed model that set a new best
 * metric last (95 after epoch 3) comes back; 96 came before full compression */
START_TEST(test_aat_early_exit_keeps_best_fully_compressed)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 2);
    static const double m[] = {90, 96, 91, 95, 94, 93, 93};
    struct script s = {.metrics = m, .n_metrics = 7};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_EARLY_EXIT);
    o.params.maximal_total_epochs = 5;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_MAX_EPOCHS);
    ck_assert_int_eq(r.epochs, 5);
    ck_assert(!r.restored); /* 96 (not fully compressed) stays the best metric */
    ck_assert_float_eq(marker(g)[0], 5.0f);

    /* now the fully compressed 97 after epoch 3 is a new best and is restored */
    nncw_compression_free(c);
    nncw_graph_free(g);
    g = nncwt_cnn();
    c = sparsify(g, 2);
    static const double m2[] = {90, 96, 91, 97, 94, 93, 97};
    struct script s2 = {.metrics = m2, .n_metrics = 7};
    o = scripted_options(&s2, NNCW_AAT_EARLY_EXIT);
    o.params.maximal_total_epochs = 5;
    run_scripted(g, c, &o, &r);
    ck_assert(r.restored);
    ck_assert_float_eq(marker(g)[0], 3.0f);
    ck_assert_double_eq(r.final_metric, 97);
    ck_assert(!r.within_budget);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* already within budget and fully compressed at the initialization step: no training */
START_TEST(test_aat_early_exit_at_initialization)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 0);
    nncwt_assert_status(nncw_compression_epoch_step(c, 0), NNCW_OK); /* fully compressed */
    static const double m[] = {99.5, 99.5};
    struct script s = {.metrics = m, .n_metrics = 2};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_EARLY_EXIT);
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_CRITERION);
    ck_assert_int_eq(r.epochs, 0);
    ck_assert_int_eq(s.epochs, 0);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_aat_absolute_degradation_sets_the_budget)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 0);
    nncwt_assert_status(nncw_compression_epoch_step(c, 0), NNCW_OK);
    static const double m[] = {97.5, 97.5};
    struct script s = {.metrics = m, .n_metrics = 2};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_EARLY_EXIT);
    o.params.maximal_relative_accuracy_degradation = NAN;
    o.params.maximal_absolute_accuracy_degradation = 2.5f;
    struct nncw_aat_result r;
    run_scripted(g, c, &o, &r);
    ck_assert_double_eq_tol(r.minimal_tolerable_metric, 97.5, 1e-9);
    ck_assert_int_eq(r.stop, NNCW_AAT_STOP_CRITERION); /* budget 0 counts */
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_aat_callback_cancels)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 1);
    static const double m[] = {90, 90, 90, 90};
    struct script s = {.metrics = m, .n_metrics = 4, .cancel_at_validation = 2};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_EARLY_EXIT);
    struct nncw_aat *a;
    nncwt_assert_status(nncw_aat_new(g, c, NULL, NULL, &o, &a), NNCW_OK);
    nncwt_assert_status(nncw_aat_run(a), NNCW_ERR_CANCELLED);
    ck_assert_int_eq(s.epochs, 1);
    nncw_aat_free(a);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* ---- a real run ---- */

static struct nncw_dataset *synthetic(int64_t count, uint64_t sample_seed)
{
    struct nncw_synthetic_opts so = {.count = count,
                                     .channels = 1,
                                     .height = 28,
                                     .width = 28,
                                     .num_classes = 10,
                                     .seed = 3,
                                     .sample_seed = sample_seed};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    return ds;
}

static bool count_train_steps(void *user, const struct nncw_train_event *ev)
{
    int *n = user;
    ck_assert_int_eq(ev->type, NNCW_TRAIN_EVENT_STEP);
    (*n)++;
    return true;
}

START_TEST(test_aat_trains_magnitude_sparsity_for_real)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_dataset *train = synthetic(256, 1), *val = synthetic(128, 2);
    struct nncw_train_options to = nncw_train_defaults();
    to.epochs = 2;
    to.batch_size = 32;
    to.log_every = 0;
    struct nncw_trainer *t;
    nncwt_assert_status(nncw_trainer_new(g, train, NULL, &to, &t), NNCW_OK);
    nncwt_assert_status(nncw_trainer_run(t), NNCW_OK);
    nncw_trainer_free(t);
    float acc, loss;
    nncwt_assert_status(nncw_evaluate(g, val, 64, &acc, &loss), NNCW_OK);

    struct nncw_compression *c = sparsify(g, 1);
    struct nncw_aat_options o = nncw_aat_defaults();
    o.params.initial_training_phase_epochs = 2;
    o.params.patience_epochs = 1;
    o.params.maximal_total_epochs = 5;
    o.params.maximal_relative_accuracy_degradation = 5.0f;
    o.uncompressed_metric = 100.0 * acc;
    o.train = to;
    o.train.max_steps_per_epoch = 4;
    o.train.log_every = 2;
    int steps = 0;
    o.on_train = count_train_steps;
    o.train_user = &steps;
    struct nncw_aat *a;
    nncwt_assert_status(nncw_aat_new(g, c, train, val, &o, &a), NNCW_OK);
    nncwt_assert_status(nncw_aat_run(a), NNCW_OK);
    struct nncw_aat_result r;
    nncw_aat_get_result(a, &r);
    ck_assert_int_le(r.epochs, 5);
    ck_assert_int_eq(steps, r.epochs * 2); /* 4 steps per epoch, an event every 2 */
    ck_assert(r.stop != NNCW_AAT_STOP_NONE);
    ck_assert_int_ge(r.n_history, 3);
    nncwt_assert_status(nncw_evaluate(g, val, 64, &acc, &loss), NNCW_OK);
    ck_assert_double_eq_tol(r.final_metric, 100.0 * acc, 1e-4); /* the kept model is in g */
    ck_assert_int_eq(r.within_budget, r.final_metric >= r.minimal_tolerable_metric);
    float rate;
    nncwt_assert_status(nncw_compression_get_rate(c, &rate), NNCW_OK);
    ck_assert_float_eq_tol(rate, r.final_rate, 1e-6f);
    nncw_aat_free(a);
    nncw_compression_free(c);
    nncw_dataset_free(train);
    nncw_dataset_free(val);
    nncw_graph_free(g);
}
END_TEST

/* ---- errors ---- */

static void expect_new_error(struct nncw_graph *g, struct nncw_compression *c,
                             const struct nncw_aat_options *o, enum nncw_status code,
                             const char *text)
{
    struct nncw_aat *a = NULL;
    nncwt_assert_status(nncw_aat_new(g, c, NULL, NULL, o, &a), code);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(nncw_last_error(), text), "'%s' not in: %s", text, nncw_last_error());
}

START_TEST(test_aat_new_rejects_bad_options)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 1);
    struct script s = {0};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.uncompressed_metric = NAN;
    expect_new_error(g, c, &o, NNCW_ERR_INVALID_ARG, "uncompressed model's metric");
    o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.maximal_absolute_accuracy_degradation = 1.0f;
    expect_new_error(g, c, &o, NNCW_ERR_INVALID_ARG, "exactly one");
    o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.validate = NULL;
    expect_new_error(g, c, &o, NNCW_ERR_INVALID_ARG, "validation set");
    o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.train_epoch = NULL;
    expect_new_error(g, c, &o, NNCW_ERR_INVALID_ARG, "training set");
    o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.compression_rate_step_reduction_factor = 1.0f;
    expect_new_error(g, c, &o, NNCW_ERR_INVALID_ARG, "reduction factor");
    o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.maximal_compression_rate = 0.0f;
    expect_new_error(g, c, &o, NNCW_ERR_INVALID_ARG, "rate bounds");
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_aat_adaptive_needs_a_compression_rate)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_config *cfg = parse("{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, "
                                    "\"compression\": {\"algorithm\": \"quantization\"}}");
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(g, cfg, NULL, &c), NNCW_OK);
    struct script s = {0};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    expect_new_error(g, c, &o, NNCW_ERR_UNSUPPORTED, "compression rate");
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_aat_propagates_set_rate_failure)
{
    struct nncw_graph *g = nncwt_cnn();
    struct nncw_compression *c = sparsify(g, 1);
    double m[8] = {100, 100, 100, 100, 100, 100, 100, 100};
    struct script s = {.metrics = m, .n_metrics = 8};
    struct nncw_aat_options o = scripted_options(&s, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    o.params.initial_training_phase_epochs = 0;
    o.maximal_compression_rate = 1.5f; /* sparsity levels end below 1 */
    o.params.initial_compression_rate_step = 1.0f;
    struct nncw_aat *a;
    nncwt_assert_status(nncw_aat_new(g, c, NULL, NULL, &o, &a), NNCW_OK);
    nncwt_assert_status(nncw_aat_run(a), NNCW_ERR_INVALID_ARG);
    ck_assert_msg(strstr(nncw_last_error(), "outside [0, 1)"), "%s", nncw_last_error());
    nncw_aat_free(a);
    nncw_compression_free(c);
    nncw_graph_free(g);
}
END_TEST

/* ---- config ---- */

static const char *aat_json(const char *section, char *buf, size_t size)
{
    snprintf(buf, size,
             "{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, "
             "\"accuracy_aware_training\": %s}",
             section);
    return buf;
}

START_TEST(test_aat_config_parses_with_nncf_defaults)
{
    char buf[1024];
    struct nncw_config *cfg =
        parse(aat_json("{\"mode\": \"adaptive_compression_level\", \"params\": "
                       "{\"maximal_relative_accuracy_degradation\": 1.0, \"patience_epochs\": 4}}",
                       buf, sizeof buf));
    ck_assert(cfg->has & NNCW_CFG_ACCURACY_AWARE);
    const struct nncw_aat_config *a = &cfg->accuracy_aware;
    ck_assert_int_eq(a->mode, NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL);
    ck_assert_float_eq(a->maximal_relative_accuracy_degradation, 1.0f);
    ck_assert(isnan(a->maximal_absolute_accuracy_degradation));
    ck_assert_int_eq(a->patience_epochs, 4);
    ck_assert_int_eq(a->maximal_total_epochs, 10000);
    ck_assert_int_eq(a->initial_training_phase_epochs, 5);
    ck_assert_float_eq(a->initial_compression_rate_step, 0.1f);
    ck_assert_float_eq(a->compression_rate_step_reduction_factor, 0.5f);
    ck_assert_float_eq(a->lr_reduction_factor, 0.5f);
    ck_assert_float_eq(a->minimal_compression_rate_step, 0.025f);
    ck_assert_int_eq(cfg->n_warnings, 0);
    nncw_config_free(cfg);

    cfg = parse(aat_json("{\"mode\": \"early_exit\", \"params\": "
                         "{\"maximal_absolute_accuracy_degradation\": 0.5, "
                         "\"maximal_total_epochs\": 7, \"patience_epochs\": 2, \"foo\": 1}}",
                         buf, sizeof buf));
    ck_assert_int_eq(cfg->accuracy_aware.mode, NNCW_AAT_EARLY_EXIT);
    ck_assert_int_eq(cfg->accuracy_aware.maximal_total_epochs, 7);
    ck_assert_int_eq(cfg->accuracy_aware.patience_epochs, 3); /* ignored: adaptive only */
    ck_assert_int_eq(cfg->n_warnings, 2);
    ck_assert(strstr(cfg->warnings[0], "accuracy_aware_training.params.patience_epochs"));
    ck_assert(strstr(cfg->warnings[1], "accuracy_aware_training.params.foo"));
    nncw_config_free(cfg);

    cfg = parse("{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}}");
    ck_assert(!(cfg->has & NNCW_CFG_ACCURACY_AWARE));
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_aat_config_errors_name_the_path)
{
    static const struct {
        const char *section, *text;
    } bad[] = {
        {"[1]", "accuracy_aware_training: expected an object"},
        {"{\"params\": {\"maximal_relative_accuracy_degradation\": 1}}",
         "accuracy_aware_training.mode: missing"},
        {"{\"mode\": \"adaptive\", \"params\": {}}", "unknown mode 'adaptive'"},
        {"{\"mode\": 3}", "accuracy_aware_training.mode: expected a string"},
        {"{\"mode\": \"early_exit\"}", "accuracy_aware_training.params: missing"},
        {"{\"mode\": \"early_exit\", \"params\": 1}",
         "accuracy_aware_training.params: expected an object"},
        {"{\"mode\": \"early_exit\", \"params\": {}}",
         "missing maximal_relative_accuracy_degradation or maximal_absolute"},
        {"{\"mode\": \"early_exit\", \"params\": {\"maximal_relative_accuracy_degradation\": 1, "
         "\"maximal_absolute_accuracy_degradation\": 1}}",
         "give only one"},
        {"{\"mode\": \"early_exit\", \"params\": {\"maximal_relative_accuracy_degradation\": "
         "\"1\"}}",
         "params.maximal_relative_accuracy_degradation: expected a number, got a string"},
        {"{\"mode\": \"early_exit\", \"params\": {\"maximal_relative_accuracy_degradation\": "
         "-1}}",
         "params.maximal_relative_accuracy_degradation: expected a number in [0, 100]"},
        {"{\"mode\": \"early_exit\", \"params\": {\"maximal_relative_accuracy_degradation\": 1, "
         "\"maximal_total_epochs\": 0}}",
         "params.maximal_total_epochs: expected an integer in [1, 1000000], got 0"},
        {"{\"mode\": \"adaptive_compression_level\", \"params\": "
         "{\"maximal_relative_accuracy_degradation\": 1, \"patience_epochs\": 1.5}}",
         "params.patience_epochs: expected an integer"},
        {"{\"mode\": \"adaptive_compression_level\", \"params\": "
         "{\"maximal_relative_accuracy_degradation\": 1, \"initial_compression_rate_step\": 0}}",
         "params.initial_compression_rate_step: expected a number in (0, 1], got 0"},
        {"{\"mode\": \"adaptive_compression_level\", \"params\": "
         "{\"maximal_relative_accuracy_degradation\": 1, "
         "\"compression_rate_step_reduction_factor\": 1}}",
         "params.compression_rate_step_reduction_factor: expected a number in (0, 1), got 1"},
        {"{\"mode\": \"adaptive_compression_level\", \"params\": "
         "{\"maximal_relative_accuracy_degradation\": 1, \"lr_reduction_factor\": 2}}",
         "params.lr_reduction_factor: expected a number in [0, 1], got 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[1024];
        struct nncw_config *cfg = NULL;
        nncwt_assert_status(
            nncw_config_parse(aat_json(bad[i].section, buf, sizeof buf), "aat.json", &cfg),
            NNCW_ERR_PARSE);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(nncw_last_error(), bad[i].text), "case %zu: '%s' not in: %s", i,
                      bad[i].text, nncw_last_error());
    }
}
END_TEST

static Suite *accuracy_aware_suite(void)
{
    Suite *s = suite_create("accuracy_aware");
    TCase *tc = tcase_create("adaptive");
    tcase_add_test(tc, test_aat_adaptive_search_follows_nncf);
    tcase_add_test(tc, test_aat_adaptive_stops_at_maximal_rate);
    tcase_add_test(tc, test_aat_adaptive_stops_below_minimal_rate);
    tcase_add_test(tc, test_aat_adaptive_stops_at_maximal_total_epochs);
    tcase_add_test(tc, test_aat_adaptive_moves_the_pruning_level);
    suite_add_tcase(s, tc);
    tc = tcase_create("early_exit");
    tcase_add_test(tc, test_aat_early_exit_stops_when_budget_and_full_compression_met);
    tcase_add_test(tc, test_aat_early_exit_keeps_best_fully_compressed);
    tcase_add_test(tc, test_aat_early_exit_at_initialization);
    tcase_add_test(tc, test_aat_absolute_degradation_sets_the_budget);
    tcase_add_test(tc, test_aat_callback_cancels);
    suite_add_tcase(s, tc);
    tc = tcase_create("training");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_aat_trains_magnitude_sparsity_for_real);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_aat_new_rejects_bad_options);
    tcase_add_test(tc, test_aat_adaptive_needs_a_compression_rate);
    tcase_add_test(tc, test_aat_propagates_set_rate_failure);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    tcase_add_test(tc, test_aat_config_parses_with_nncf_defaults);
    tcase_add_test(tc, test_aat_config_errors_name_the_path);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(accuracy_aware_suite());
}
