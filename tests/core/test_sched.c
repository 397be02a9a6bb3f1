/* test_sched.c - the CAQ scheduler: bounds, direction of moves, determinism. */
#include "testutil.h"

#include <string.h>

static alcm_info info_with_ratio(double ratio)
{
    alcm_info in;
    memset(&in, 0, sizeof in);
    in.raw_bytes = 40000;
    in.blob_bytes = (uint64_t)(40000 / ratio);
    in.ratio = ratio;
    in.rel_l2_error = 0.005;
    in.mean_bits = 7.0;
    return in;
}

static void test_defaults(void **state)
{
    (void)state;
    alcm_sched_config c;
    alcm_sched_config_default(&c);
    assert_true(c.error_budget == 0.01);
    assert_int_equal(c.window, 5);
    assert_true(c.prune_max == 0.25);
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(NULL, &s), ALCM_OK);
    assert_non_null(s);
    alcm_sched_state st;
    alcm_sched_get_state(s, &st);
    assert_int_equal(st.steps, 0);
    assert_true(st.aggressiveness > 0.0 && st.aggressiveness < 1.0);
    assert_true(st.prune_ratio == 0.0);
    alcm_sched_free(s);
}

static void test_bad_config_rejected(void **state)
{
    (void)state;
    alcm_sched_config c;
    alcm_sched_config_default(&c);
    c.window = 1;
    {
        alcm_sched *bad = (alcm_sched *)1;
        assert_int_equal(alcm_sched_create(&c, &bad), ALCM_E_ARG);
        assert_null(bad);
    }
    alcm_sched_config_default(&c);
    c.error_budget = 0;
    {
        alcm_sched *bad = (alcm_sched *)1;
        assert_int_equal(alcm_sched_create(&c, &bad), ALCM_E_ARG);
        assert_null(bad);
    }
    alcm_sched_config_default(&c);
    c.prune_max = 0.3;
    {
        alcm_sched *bad = (alcm_sched *)1;
        assert_int_equal(alcm_sched_create(&c, &bad), ALCM_E_ARG);
        assert_null(bad);
    }
    alcm_sched_config_default(&c);
    c.step_up = NAN;
    {
        alcm_sched *bad = (alcm_sched *)1;
        assert_int_equal(alcm_sched_create(&c, &bad), ALCM_E_ARG);
        assert_null(bad);
    }
}

static void test_caq_formula(void **state)
{
    (void)state;
    assert_true(fabs(alcm_caq(2.0, 1.0) - 1.0) < 1e-15);
    assert_true(fabs(alcm_caq(4.0, 0.0) - 4.0) < 1e-15);
    assert_true(fabs(alcm_caq(3.0, -5.0) - 3.0) < 1e-15); /* negative time counts as 0 */
    assert_true(fabs(alcm_caq(1.5, 0.5) - 1.0) < 1e-15);
}

static void test_rising_caq_pushes_up_then_prunes(void **state)
{
    (void)state;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(NULL, &s), ALCM_OK);
    alcm_sched_state st;
    double ratio = 3.0;
    for (int i = 0; i < 30; i++) {
        alcm_info in = info_with_ratio(ratio);
        alcm_sched_record(s, &in, 0.0);
        ratio *= 1.02;
    }
    alcm_sched_get_state(s, &st);
    assert_true(st.aggressiveness == 1.0);
    assert_true(st.prune_ratio > 0.0);
    assert_true(st.prune_ratio <= 0.25);
    assert_int_equal(st.last_action, 1);
    assert_int_equal(st.steps, 30);
    alcm_sched_free(s);
}

static void test_falling_caq_backs_off_pruning_first(void **state)
{
    (void)state;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(NULL, &s), ALCM_OK);
    alcm_sched_state st;
    double ratio = 3.0;
    for (int i = 0; i < 30; i++) { /* climb to pruning */
        alcm_info in = info_with_ratio(ratio);
        alcm_sched_record(s, &in, 0.0);
        ratio *= 1.02;
    }
    alcm_sched_get_state(s, &st);
    double p0 = st.prune_ratio;
    assert_true(p0 > 0.0);
    for (int i = 0; i < 3; i++) {
        ratio *= 0.8;
        alcm_info in = info_with_ratio(ratio);
        alcm_sched_record(s, &in, 0.0);
    }
    alcm_sched_get_state(s, &st);
    assert_int_equal(st.last_action, -1);
    assert_true(st.window_trend < 0);
    assert_true(st.prune_ratio < p0);
    assert_true(st.aggressiveness == 1.0); /* pruning goes first */
    for (int i = 0; i < 40; i++) {
        ratio *= 0.9;
        alcm_info in = info_with_ratio(ratio);
        alcm_sched_record(s, &in, 0.0);
    }
    alcm_sched_get_state(s, &st);
    assert_true(st.prune_ratio == 0.0);
    assert_true(st.aggressiveness == 0.0);
    alcm_sched_free(s);
}

/* A flat CAQ over a full window probes one notch up, then holds for a window to measure
 * the probe before probing again. */
static void test_flat_caq_probes_then_holds(void **state)
{
    (void)state;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(NULL, &s), ALCM_OK);
    alcm_sched_state st, probe;
    for (int i = 0; i < 4; i++) { /* filling the first window: climbing */
        alcm_info in = info_with_ratio(4.0);
        alcm_sched_record(s, &in, 0.0);
        alcm_sched_get_state(s, &st);
        assert_int_equal(st.last_action, 1);
    }
    alcm_info in = info_with_ratio(4.0);
    alcm_sched_record(s, &in, 0.0); /* flat full window: probe */
    alcm_sched_get_state(s, &probe);
    assert_int_equal(probe.last_action, 1);
    for (int i = 0; i < 4; i++) { /* the probe is measured: knobs held */
        alcm_sched_record(s, &in, 0.0);
        alcm_sched_get_state(s, &st);
        assert_int_equal(st.last_action, 0);
        assert_true(st.aggressiveness == probe.aggressiveness);
        assert_true(st.prune_ratio == probe.prune_ratio);
    }
    alcm_sched_record(s, &in, 0.0); /* still flat: next probe */
    alcm_sched_get_state(s, &st);
    assert_int_equal(st.last_action, 1);
    alcm_sched_free(s);
}

/* Step-to-step noise in CAQ (different tensors) without a trend does not back off. */
static void test_noise_is_not_a_trend(void **state)
{
    (void)state;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(NULL, &s), ALCM_OK);
    alcm_rng rng;
    alcm_rng_seed(&rng, 5);
    int backoffs = 0;
    for (int i = 0; i < 200; i++) {
        alcm_info in = info_with_ratio(5.0 + 0.5 * alcm_rng_normal(&rng));
        alcm_sched_record(s, &in, 0.0);
        alcm_sched_state st;
        alcm_sched_get_state(s, &st);
        backoffs += st.last_action < 0;
    }
    /* A 3-sigma test on pure noise fires on a few percent of windows at most. */
    assert_true(backoffs < 20);
    alcm_sched_free(s);
}

static void test_lossless_fallback_backs_off(void **state)
{
    (void)state;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(NULL, &s), ALCM_OK);
    alcm_sched_state before, after;
    alcm_info in = info_with_ratio(4.0);
    alcm_sched_record(s, &in, 0.0);
    alcm_sched_get_state(s, &before);
    in = info_with_ratio(1.1);
    in.exact = 1;
    in.rel_l2_error = 0;
    alcm_sched_record(s, &in, 0.0);
    alcm_sched_get_state(s, &after);
    assert_int_equal(after.last_action, -1);
    assert_true(after.aggressiveness < before.aggressiveness);
    alcm_sched_free(s);
}

static void test_deterministic_ignores_measured_time(void **state)
{
    (void)state;
    alcm_sched_config c;
    alcm_sched_config_default(&c);
    c.deterministic = 1;
    alcm_sched *a = NULL, *b = NULL;
    assert_int_equal(alcm_sched_create(&c, &a), ALCM_OK);
    assert_int_equal(alcm_sched_create(&c, &b), ALCM_OK);
    alcm_rng rng;
    alcm_rng_seed(&rng, 7);
    for (int i = 0; i < 50; i++) {
        alcm_info in = info_with_ratio(2.0 + 3.0 * alcm_rng_uniform(&rng));
        alcm_sched_record(a, &in, alcm_rng_uniform(&rng));
        alcm_sched_record(b, &in, 100.0 * alcm_rng_uniform(&rng));
    }
    alcm_sched_state sa, sb;
    alcm_sched_get_state(a, &sa);
    alcm_sched_get_state(b, &sb);
    assert_memory_equal(&sa, &sb, sizeof sa);
    alcm_info in = info_with_ratio(2.0);
    assert_true(sa.last_cpu_seconds == alcm_sched_model_seconds(&in));
    alcm_sched_free(a);
    alcm_sched_free(b);
}

static void test_knobs_stay_in_bounds(void **state)
{
    (void)state;
    alcm_sched_config c;
    alcm_sched_config_default(&c);
    c.prune_max = 0.1;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(&c, &s), ALCM_OK);
    alcm_rng rng;
    alcm_rng_seed(&rng, 99);
    for (int i = 0; i < 2000; i++) {
        alcm_info in = info_with_ratio(0.5 + 10.0 * alcm_rng_uniform(&rng));
        alcm_sched_record(s, &in, alcm_rng_uniform(&rng));
        alcm_sched_state st;
        alcm_sched_get_state(s, &st);
        assert_true(st.aggressiveness >= 0.0 && st.aggressiveness <= 1.0);
        assert_true(st.prune_ratio >= 0.0 && st.prune_ratio <= 0.1 + 1e-12);
        alcm_params p;
        alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
        alcm_sched_apply(s, &p);
        assert_int_equal(alcm_params_check(&p), ALCM_OK);
    }
    alcm_sched_free(s);
}

static void test_apply_and_reset(void **state)
{
    (void)state;
    alcm_sched_config c;
    alcm_sched_config_default(&c);
    c.error_budget = 0.05;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(&c, &s), ALCM_OK);
    alcm_sched_state init, st;
    alcm_sched_get_state(s, &init);
    double ratio = 2.0;
    for (int i = 0; i < 10; i++) {
        alcm_info in = info_with_ratio(ratio);
        alcm_sched_record(s, &in, 0.0);
        ratio += 0.5;
    }
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    alcm_sched_apply(s, &p);
    alcm_sched_get_state(s, &st);
    assert_true(p.error_budget == 0.05);
    assert_true(p.aggressiveness == st.aggressiveness);
    assert_true(p.prune_ratio == st.prune_ratio);
    assert_true(st.aggressiveness > init.aggressiveness);
    alcm_sched_reset(s);
    alcm_sched_get_state(s, &st);
    assert_memory_equal(&st, &init, sizeof st);
    alcm_sched_free(s);
}

static void test_window_slope(void **state)
{
    (void)state;
    alcm_sched *s = NULL;
    assert_int_equal(alcm_sched_create(NULL, &s), ALCM_OK);
    /* CAQ values 1..7 with zero CPU time: slope over the last 5 (3..7) is exactly 1. */
    for (int i = 1; i <= 7; i++) {
        alcm_info in = info_with_ratio((double)i);
        alcm_sched_record(s, &in, 0.0);
    }
    alcm_sched_state st;
    alcm_sched_get_state(s, &st);
    assert_true(fabs(st.window_trend - 1.0) < 1e-12);
    assert_true(fabs(st.last_caq - 7.0) < 1e-12);
    alcm_sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_config_rejected),
        cmocka_unit_test(test_caq_formula),
        cmocka_unit_test(test_rising_caq_pushes_up_then_prunes),
        cmocka_unit_test(test_falling_caq_backs_off_pruning_first),
        cmocka_unit_test(test_flat_caq_probes_then_holds),
        cmocka_unit_test(test_noise_is_not_a_trend),
        cmocka_unit_test(test_lossless_fallback_backs_off),
        cmocka_unit_test(test_deterministic_ignores_measured_time),
        cmocka_unit_test(test_knobs_stay_in_bounds),
        cmocka_unit_test(test_apply_and_reset),
        cmocka_unit_test(test_window_slope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
