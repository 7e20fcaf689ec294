/* NNCF's sparsity schedules at their boundary epochs and steps, against the fact sheet's
 * formulas, and the scheduler state (per-step updates, measured steps per epoch, freezing). */
#include <math.h>
#include <string.h>

#include "compression/sparsity/schedulers.h"
#include "nncwt.h"

static struct nncw_sparsity_schedule schedule(enum nncw_sparsity_schedule_type type)
{
    struct nncw_sparsity_schedule s;
    nncw_sparsity_schedule_defaults(&s, type);
    return s;
}

START_TEST(test_defaults_are_nncf_s)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_POLYNOMIAL);
    ck_assert_float_eq(s.init, 0.0f);
    ck_assert_float_eq(s.target, 0.5f);
    ck_assert_int_eq(s.target_epoch, 90);
    ck_assert_int_eq(s.freeze_epoch, 100);
    ck_assert_float_eq(s.power, 0.9f);
    ck_assert(s.concave);
    ck_assert(!s.per_step);
    ck_assert_int_eq(s.n_steps, 1);
    ck_assert_int_eq(s.steps[0], 90);
    ck_assert_float_eq(s.levels[0], 0.1f);
    ck_assert_float_eq(s.levels[1], 0.5f);
    ck_assert_int_eq(s.patience, 1);
    ck_assert_float_eq(s.step, 0.05f);
    ck_assert_float_eq(s.eps, 0.03f);
    ck_assert_str_eq(nncw_sparsity_schedule_name(NNCW_SCHEDULE_ADAPTIVE), "adaptive");
}
END_TEST

START_TEST(test_polynomial_concave_and_convex)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_POLYNOMIAL);
    s.init = 0.1f;
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, -1, -1, 0), 0.1f, 1e-7);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 0, -1, 0), 0.1f, 1e-7);
    /* concave: target - (target - init)(1 - p)^power */
    double want = 0.5 - 0.4 * pow(0.5, 0.9);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 45, -1, 0), want, 1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 89, -1, 0),
                           0.5 - 0.4 * pow(1.0 / 90, 0.9), 1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 90, -1, 0), 0.5f, 1e-7);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 500, -1, 0), 0.5f, 1e-7);
    /* convex: init + (target - init) p^power */
    s.concave = false;
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 45, -1, 0), 0.1 + 0.4 * pow(0.5, 0.9),
                           1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 0, -1, 0), 0.1f, 1e-7);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 90, -1, 0), 0.5f, 1e-7);
    /* power 1: linear either way */
    s.power = 1.0f;
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 30, -1, 0), 0.1 + 0.4 / 3, 1e-6);
    /* target epoch 0: the target at once */
    s.target_epoch = 0;
    ck_assert_float_eq(nncw_sparsity_polynomial_level(&s, 0, -1, 0), 0.5f);
}
END_TEST

START_TEST(test_polynomial_per_step_uses_the_fractional_epoch)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_POLYNOMIAL);
    s.target_epoch = 3;
    s.power = 2.0f;
    /* epoch 1, step 5 of 10: p = 1.5 / 3 */
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 1, 5, 10), 0.5 - 0.5 * 0.25, 1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 1, 0, 10),
                           0.5 - 0.5 * pow(2.0 / 3, 2), 1e-6);
    /* steps unknown: the epoch alone */
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 1, 5, 0), 0.5 - 0.5 * pow(2.0 / 3, 2),
                           1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_polynomial_level(&s, 2, 10, 10), 0.5f, 1e-7);
}
END_TEST

START_TEST(test_exponential_decays_the_density)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_EXPONENTIAL);
    ck_assert_float_eq_tol(nncw_sparsity_exponential_level(&s, 0), 0.0f, 1e-7);
    ck_assert_float_eq_tol(nncw_sparsity_exponential_level(&s, 45), 1.0 - sqrt(0.5), 1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_exponential_level(&s, 90), 0.5f, 1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_exponential_level(&s, 300), 0.5f, 1e-7);
    s.init = 0.2f;
    ck_assert_float_eq_tol(nncw_sparsity_exponential_level(&s, 30),
                           1.0 - 0.8 * pow(0.5 / 0.8, 1.0 / 3), 1e-6);
    ck_assert_float_eq_tol(nncw_sparsity_exponential_level(&s, 0), 0.2f, 1e-6);
    s.target_epoch = 0;
    ck_assert_float_eq_tol(nncw_sparsity_exponential_level(&s, 0), 0.5f, 1e-7);
}
END_TEST

START_TEST(test_multistep_is_piecewise_constant)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_MULTISTEP);
    s.n_steps = 2;
    s.steps[0] = 2;
    s.steps[1] = 5;
    s.levels[0] = 0.1f;
    s.levels[1] = 0.3f;
    s.levels[2] = 0.6f;
    const float want[] = {0.1f, 0.1f, 0.3f, 0.3f, 0.3f, 0.6f, 0.6f};
    for (int e = 0; e < 7; e++)
        ck_assert_float_eq(nncw_sparsity_multistep_level(&s, e), want[e]);
    ck_assert_float_eq(nncw_sparsity_multistep_level(&s, -1), 0.1f);
}
END_TEST

START_TEST(test_adaptive_grows_after_patience_epochs)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_ADAPTIVE);
    s.patience = 2;
    s.target = 0.2f;
    int counted = 0;
    /* 0.08 >= 0.1 - 0.03 counts */
    ck_assert_float_eq(nncw_sparsity_adaptive_level(&s, 0.1f, 0.08f, &counted), 0.1f);
    ck_assert_int_eq(counted, 1);
    /* not reached: no count */
    ck_assert_float_eq(nncw_sparsity_adaptive_level(&s, 0.1f, 0.05f, &counted), 0.1f);
    ck_assert_int_eq(counted, 1);
    /* second counted epoch: + step, count restarts */
    ck_assert_float_eq_tol(nncw_sparsity_adaptive_level(&s, 0.1f, 0.1f, &counted), 0.15f, 1e-7);
    ck_assert_int_eq(counted, 0);
    /* capped at the target */
    counted = 1;
    ck_assert_float_eq(nncw_sparsity_adaptive_level(&s, 0.18f, 0.2f, &counted), 0.2f);
}
END_TEST

START_TEST(test_stages)
{
    ck_assert_int_eq(nncw_sparsity_stage(0.0f, 0.5f, false), NNCW_STAGE_UNCOMPRESSED);
    ck_assert_int_eq(nncw_sparsity_stage(0.2f, 0.5f, false), NNCW_STAGE_PARTIALLY_COMPRESSED);
    ck_assert_int_eq(nncw_sparsity_stage(0.5f, 0.5f, false), NNCW_STAGE_FULLY_COMPRESSED);
    ck_assert_int_eq(nncw_sparsity_stage(0.0f, 0.5f, true), NNCW_STAGE_FULLY_COMPRESSED);
}
END_TEST

/* ---- the scheduler's state ---- */

START_TEST(test_scheduler_updates_per_epoch_and_freezes)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_POLYNOMIAL);
    s.target_epoch = 4;
    s.freeze_epoch = 3;
    s.power = 1.0f;
    struct nncw_sparsity_scheduler sch;
    nncw_sparsity_scheduler_init(&sch, &s);
    ck_assert_int_eq(sch.epoch, -1);
    ck_assert_float_eq(sch.level, 0.0f);
    bool update;
    nncw_sparsity_scheduler_step(&sch, &update); /* before any epoch: nothing */
    ck_assert(!update);
    for (int e = 0; e < 5; e++) {
        nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, e, 0, &update), NNCW_OK);
        ck_assert(update);
        ck_assert_float_eq_tol(sch.level, 0.5f * (float)e / 4, 1e-6);
        ck_assert(sch.frozen == (e >= 3));
        nncw_sparsity_scheduler_step(&sch, &update);
        ck_assert(!update); /* per-epoch mode: steps change nothing */
    }
}
END_TEST

START_TEST(test_scheduler_per_step_with_steps_per_epoch)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_POLYNOMIAL);
    s.target_epoch = 2;
    s.power = 1.0f;
    s.per_step = true;
    s.steps_per_epoch = 10;
    struct nncw_sparsity_scheduler sch;
    nncw_sparsity_scheduler_init(&sch, &s);
    bool update;
    nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, 0, 0, &update), NNCW_OK);
    ck_assert(update);
    ck_assert_float_eq(sch.level, 0.0f);
    for (int k = 1; k <= 3; k++) {
        nncw_sparsity_scheduler_step(&sch, &update);
        ck_assert(update);
        /* after step k the next batch is local step k: p = (k / 10) / 2 */
        ck_assert_float_eq_tol(sch.level, 0.5f * (float)k / 20, 1e-6);
    }
    /* the epoch took 3 steps, the config says 10: NNCF refuses */
    nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, 1, 0, &update),
                        NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "steps_per_epoch is 10"));
}
END_TEST

START_TEST(test_scheduler_per_step_measures_the_first_epoch)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_POLYNOMIAL);
    s.init = 0.1f;
    s.target_epoch = 2;
    s.power = 1.0f;
    s.per_step = true;
    struct nncw_sparsity_scheduler sch;
    nncw_sparsity_scheduler_init(&sch, &s);
    bool update;
    nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, 0, 0, &update), NNCW_OK);
    ck_assert(!update); /* steps per epoch unknown: epoch 0 only counts */
    for (int k = 0; k < 4; k++) {
        nncw_sparsity_scheduler_step(&sch, &update);
        ck_assert(!update);
    }
    ck_assert_float_eq(sch.level, 0.1f);
    nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, 1, 0, &update), NNCW_OK);
    ck_assert(update);
    ck_assert_int_eq(sch.steps_per_epoch, 4);
    ck_assert_float_eq_tol(sch.level, 0.1f + 0.4f * 0.5f, 1e-6);
    nncw_sparsity_scheduler_step(&sch, &update);
    nncw_sparsity_scheduler_step(&sch, &update);
    ck_assert(update);
    ck_assert_float_eq_tol(sch.level, 0.1f + 0.4f * (1.5f / 2), 1e-6);
}
END_TEST

START_TEST(test_scheduler_adaptive_and_multistep_start_levels)
{
    struct nncw_sparsity_schedule s = schedule(NNCW_SCHEDULE_MULTISTEP);
    struct nncw_sparsity_scheduler sch;
    nncw_sparsity_scheduler_init(&sch, &s);
    ck_assert_float_eq(sch.level, 0.1f);
    bool update;
    nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, 90, 0, &update), NNCW_OK);
    ck_assert_float_eq(sch.level, 0.5f);
    s = schedule(NNCW_SCHEDULE_ADAPTIVE);
    s.init = 0.2f;
    nncw_sparsity_scheduler_init(&sch, &s);
    nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, 0, 0.19f, &update), NNCW_OK);
    ck_assert_float_eq_tol(sch.level, 0.25f, 1e-6);
    nncwt_assert_status(nncw_sparsity_scheduler_epoch_step(&sch, 1, 0.1f, &update), NNCW_OK);
    ck_assert_float_eq_tol(sch.level, 0.25f, 1e-6);
}
END_TEST

static Suite *sparsity_schedulers_suite(void)
{
    Suite *s = suite_create("sparsity_schedulers");
    TCase *tc = tcase_create("levels");
    tcase_add_test(tc, test_defaults_are_nncf_s);
    tcase_add_test(tc, test_polynomial_concave_and_convex);
    tcase_add_test(tc, test_polynomial_per_step_uses_the_fractional_epoch);
    tcase_add_test(tc, test_exponential_decays_the_density);
    tcase_add_test(tc, test_multistep_is_piecewise_constant);
    tcase_add_test(tc, test_adaptive_grows_after_patience_epochs);
    tcase_add_test(tc, test_stages);
    suite_add_tcase(s, tc);
    tc = tcase_create("state");
    tcase_add_test(tc, test_scheduler_updates_per_epoch_and_freezes);
    tcase_add_test(tc, test_scheduler_per_step_with_steps_per_epoch);
    tcase_add_test(tc, test_scheduler_per_step_measures_the_first_epoch);
    tcase_add_test(tc, test_scheduler_adaptive_and_multistep_start_levels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(sparsity_schedulers_suite());
}
