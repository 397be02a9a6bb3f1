/* test_exchange.c - the allreduce cost model and the path planner: formulas, warm-up,
 * choice of the fastest path, plain on ties, re-probing, determinism, bad arguments. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "alcm_exchange.h"

static alcm_exchange_figures figures(uint32_t p, double link)
{
    alcm_exchange_figures f;
    memset(&f, 0, sizeof f);
    f.ranks = p;
    f.link_bytes_per_s = link;
    f.latency_s = 0.0;
    f.encode_bytes_per_s = 1e9;
    f.decode_bytes_per_s = 2e9;
    f.ratio = 10.0;
    f.overlap = 0.0;
    return f;
}

static void test_names(void **state)
{
    (void)state;
    for (unsigned i = 0; i < ALCM_PATH_COUNT; i++) {
        alcm_path p;
        assert_int_equal(alcm_path_parse(alcm_path_name((alcm_path)i), &p), ALCM_OK);
        assert_int_equal(p, i);
    }
    alcm_path p = ALCM_PATH_RSAG;
    assert_int_equal(alcm_path_parse("auto", &p), ALCM_E_ARG);
    assert_int_equal(alcm_path_parse(NULL, &p), ALCM_E_ARG);
    assert_string_equal(alcm_path_name((alcm_path)7), "?");
}

static void test_model_formulas(void **state)
{
    (void)state;
    alcm_exchange_figures f = figures(4, 1e8);
    const double n = 1e6;
    /* plain: 2 (p-1)/p n / B */
    assert_true(fabs(alcm_exchange_predict(ALCM_PATH_PLAIN, 1000000, &f) - 1.5 * n / 1e8) <
                1e-12);
    /* allgather: n/E + p n/D + (p-1) n/(R B) */
    double ag = n / 1e9 + 4 * n / 2e9 + 3 * n / (10 * 1e8);
    assert_true(fabs(alcm_exchange_predict(ALCM_PATH_ALLGATHER, 1000000, &f) - ag) < 1e-12);
    /* rsag: 1.25 n/E + 2 n/D + 1.5 n/(R B) */
    double rs = 1.25 * n / 1e9 + 2 * n / 2e9 + 1.5 * n / (10 * 1e8);
    assert_true(fabs(alcm_exchange_predict(ALCM_PATH_RSAG, 1000000, &f) - rs) < 1e-12);
    /* Full overlap hides the smaller part. */
    f.overlap = 1.0;
    double codec = 1.25 * n / 1e9 + 2 * n / 2e9, net = 1.5 * n / (10 * 1e8);
    assert_true(fabs(alcm_exchange_predict(ALCM_PATH_RSAG, 1000000, &f) -
                     (codec > net ? codec : net)) < 1e-12);
    /* Invalid figures and paths. */
    f.ranks = 1;
    assert_true(alcm_exchange_predict(ALCM_PATH_PLAIN, 1000, &f) < 0);
    f = figures(4, 1e8);
    f.ratio = 0.5;
    assert_true(alcm_exchange_predict(ALCM_PATH_RSAG, 1000, &f) < 0);
    f = figures(4, 1e8);
    assert_true(alcm_exchange_predict((alcm_path)3, 1000, &f) < 0);
    assert_true(alcm_exchange_predict(ALCM_PATH_PLAIN, 1000, NULL) < 0);
}

/* The scalable path's bytes and decode work do not grow with p; allgather's do. */
static void test_model_scaling(void **state)
{
    (void)state;
    alcm_exchange_figures f8 = figures(8, 1e9), f1024 = figures(1024, 1e9);
    double r8 = alcm_exchange_predict(ALCM_PATH_RSAG, 1 << 24, &f8);
    double r1024 = alcm_exchange_predict(ALCM_PATH_RSAG, 1 << 24, &f1024);
    double a8 = alcm_exchange_predict(ALCM_PATH_ALLGATHER, 1 << 24, &f8);
    double a1024 = alcm_exchange_predict(ALCM_PATH_ALLGATHER, 1 << 24, &f1024);
    assert_true(r1024 < r8 * 1.2);
    assert_true(a1024 > a8 * 50);
    /* A slow link favours compression, a fast one plain. */
    alcm_exchange_figures slow = figures(4, 1.25e8), fast = figures(4, 5e10);
    assert_true(alcm_exchange_predict(ALCM_PATH_RSAG, 1 << 22, &slow) <
                alcm_exchange_predict(ALCM_PATH_PLAIN, 1 << 22, &slow));
    assert_true(alcm_exchange_predict(ALCM_PATH_RSAG, 1 << 22, &fast) >
                alcm_exchange_predict(ALCM_PATH_PLAIN, 1 << 22, &fast));
}

static void test_config(void **state)
{
    (void)state;
    alcm_planner_config c;
    alcm_planner_config_default(&c);
    assert_int_equal(alcm_planner_config_check(&c), ALCM_OK);
    alcm_planner *pl = NULL;
    c.window = 0;
    assert_int_equal(alcm_planner_create(&c, &pl), ALCM_E_ARG);
    assert_null(pl);
    alcm_planner_config_default(&c);
    c.warmup = 0;
    assert_int_equal(alcm_planner_config_check(&c), ALCM_E_ARG);
    alcm_planner_config_default(&c);
    c.margin = 0.9;
    assert_int_equal(alcm_planner_config_check(&c), ALCM_E_ARG);
    alcm_planner_config_default(&c);
    c.window = 16;
    assert_int_equal(alcm_planner_config_check(&c), ALCM_E_ARG);
    alcm_planner_config_default(&c);
    c.scale_margin = NAN;
    assert_int_equal(alcm_planner_config_check(&c), ALCM_E_ARG);
    alcm_planner_config_default(&c);
    c.scale_margin = -0.1;
    assert_int_equal(alcm_planner_config_check(&c), ALCM_E_ARG);
    alcm_planner_config_default(&c);
    c.struct_size = 8;
    assert_int_equal(alcm_planner_config_check(&c), ALCM_E_ARG);
    assert_int_equal(alcm_planner_create(NULL, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    assert_non_null(pl);
    alcm_planner_free(pl);
    alcm_planner_free(NULL);
    int m = 5;
    assert_int_equal(alcm_planner_choose(NULL, 100, ALCM_PATH_MASK_ALL, &m), ALCM_PATH_PLAIN);
    assert_int_equal(m, 0);
}

/* Drives a planner against a simulated link where each path costs spb[path] per byte. */
static alcm_path drive(alcm_planner *pl, uint64_t bytes, unsigned allowed, const double *spb,
                       int calls, int *counts)
{
    alcm_path last = ALCM_PATH_PLAIN;
    for (int i = 0; i < calls; i++) {
        int measure = 0;
        last = alcm_planner_choose(pl, bytes, allowed, &measure);
        assert_true(allowed & (1u << last));
        if (counts) counts[last]++;
        if (measure) alcm_planner_record(pl, last, bytes, spb[last] * (double)bytes);
    }
    return last;
}

static void test_warmup_then_fastest(void **state)
{
    (void)state;
    alcm_planner *pl;
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    /* Warm-up: plain first, then rsag, then allgather, each 3 times, all timed. */
    const alcm_path order[9] = {0, 0, 0, 2, 2, 2, 1, 1, 1};
    const double spb[3] = {10e-9, 2e-9, 1e-9}; /* rsag fastest */
    for (int i = 0; i < 9; i++) {
        int m = 0;
        alcm_path p = alcm_planner_choose(pl, 1 << 20, ALCM_PATH_MASK_ALL, &m);
        assert_int_equal(p, order[i]);
        assert_int_equal(m, 1);
        alcm_planner_record(pl, p, 1 << 20, spb[p] * (1 << 20));
    }
    int counts[3] = {0, 0, 0};
    assert_int_equal(drive(pl, 1 << 20, ALCM_PATH_MASK_ALL, spb, 200, counts), ALCM_PATH_RSAG);
    /* Re-probes: allgather (2x slower) every 128 calls, plain (10x) every 2048. */
    assert_true(counts[ALCM_PATH_RSAG] >= 195);
    assert_true(counts[ALCM_PATH_ALLGATHER] >= 1 && counts[ALCM_PATH_ALLGATHER] <= 2);
    assert_int_equal(counts[ALCM_PATH_PLAIN], 0);
    counts[0] = counts[1] = counts[2] = 0;
    drive(pl, 1 << 20, ALCM_PATH_MASK_ALL, spb, 2000, counts);
    assert_true(counts[ALCM_PATH_PLAIN] == 1);
    assert_true(counts[ALCM_PATH_ALLGATHER] >= 14 && counts[ALCM_PATH_ALLGATHER] <= 17);
    alcm_planner_class cl;
    assert_int_equal(alcm_planner_get_class(pl, 1 << 20, &cl), ALCM_OK);
    assert_int_equal(cl.samples[ALCM_PATH_PLAIN] >= 2, 1);
    assert_true(fabs(cl.seconds_per_byte[ALCM_PATH_RSAG] - 1e-9) < 1e-15);
    /* Another size class knows nothing yet: it warms up on its own. */
    int m = 0;
    assert_int_equal(alcm_planner_choose(pl, 1000, ALCM_PATH_MASK_ALL, &m), ALCM_PATH_PLAIN);
    assert_int_equal(m, 1);
    alcm_planner_free(pl);
}

/* rsag wins near-ties with allgather (within the scale margin): its work does not grow
 * with p. */
static void test_rsag_over_allgather_on_near_ties(void **state)
{
    (void)state;
    alcm_planner *pl;
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    const double near[3] = {5e-9, 0.95e-9, 1.0e-9}, far[3] = {5e-9, 0.8e-9, 1.0e-9};
    assert_int_equal(drive(pl, 1 << 20, ALCM_PATH_MASK_ALL, near, 100, NULL), ALCM_PATH_RSAG);
    alcm_planner_free(pl);
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    assert_int_equal(drive(pl, 1 << 20, ALCM_PATH_MASK_ALL, far, 100, NULL),
                     ALCM_PATH_ALLGATHER);
    alcm_planner_free(pl);
}

/* Plain wins ties (within the margin): it is exact. */
static void test_plain_on_ties(void **state)
{
    (void)state;
    alcm_planner *pl;
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    const double spb[3] = {1.00e-9, 0.95e-9, 0.85e-9};
    assert_int_equal(drive(pl, 1 << 16, ALCM_PATH_MASK_ALL, spb, 100, NULL), ALCM_PATH_PLAIN);
    alcm_planner_free(pl);
    /* Beyond the margin the compressed path is taken. */
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    const double faster[3] = {1.00e-9, 0.95e-9, 0.75e-9};
    assert_int_equal(drive(pl, 1 << 16, ALCM_PATH_MASK_ALL, faster, 100, NULL), ALCM_PATH_RSAG);
    alcm_planner_free(pl);
}

/* A noisy first figure does not stick: a path close to the best is re-timed often. */
static void test_close_paths_retimed_often(void **state)
{
    (void)state;
    alcm_planner *pl;
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    unsigned mask = (1u << ALCM_PATH_PLAIN) | (1u << ALCM_PATH_RSAG);
    /* Warm-up sees rsag slower than plain (a loaded moment) ... */
    const double noisy[3] = {1.0e-9, 0, 1.3e-9}, real[3] = {1.0e-9, 0, 0.5e-9};
    assert_int_equal(drive(pl, 1 << 20, mask, noisy, 6, NULL), ALCM_PATH_RSAG);
    assert_int_equal(drive(pl, 1 << 20, mask, noisy, 3, NULL), ALCM_PATH_PLAIN);
    /* ... then rsag is really twice as fast: re-timed every 128 calls (a close path is
     * due every reprobe_period calls), it wins once the new figures are the majority of
     * its window (the third re-probe). */
    int counts[3] = {0, 0, 0};
    drive(pl, 1 << 20, mask, real, 800, counts);
    assert_true(counts[ALCM_PATH_RSAG] >= 350);
    alcm_planner_free(pl);
}

/* A link that becomes fast is followed: re-probes see plain got cheaper. */
static void test_follows_a_changed_link(void **state)
{
    (void)state;
    alcm_planner *pl;
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    const double slow[3] = {10e-9, 3e-9, 2e-9}, fast[3] = {0.5e-9, 3e-9, 2e-9};
    unsigned mask = (1u << ALCM_PATH_PLAIN) | (1u << ALCM_PATH_RSAG);
    assert_int_equal(drive(pl, 1 << 20, mask, slow, 100, NULL), ALCM_PATH_RSAG);
    assert_int_equal(drive(pl, 1 << 20, mask, fast, 3000, NULL), ALCM_PATH_PLAIN);
    alcm_planner_free(pl);
}

/* drive(), and for compressed calls a floor of floor[path] per byte as well. */
static void drive_floor(alcm_planner *pl, unsigned allowed, const double *spb,
                        const double *floor, int calls, int *counts)
{
    const uint64_t bytes = 1 << 20;
    for (int i = 0; i < calls; i++) {
        int measure = 0;
        alcm_path p = alcm_planner_choose(pl, bytes, allowed, &measure);
        counts[p]++;
        if (!measure) continue;
        alcm_planner_record(pl, p, bytes, spb[p] * (double)bytes);
        if (p != ALCM_PATH_PLAIN) alcm_planner_record_floor(pl, p, bytes, floor[p] * (double)bytes);
    }
}

/* A compressed path whose floor (codec and program time) already misses plain's figure by
 * less than the margin cannot win on any link: its warm-up stops after the first floor
 * and it is re-timed only every 16 periods, until plain gets slower. */
static void test_floor_rules_out(void **state)
{
    (void)state;
    alcm_planner *pl;
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    const double fast[3] = {1.0e-9, 2.0e-9, 1.8e-9}, floor[3] = {0, 1.0e-9, 0.9e-9};
    int counts[3] = {0, 0, 0};
    drive_floor(pl, ALCM_PATH_MASK_ALL, fast, floor, 2000, counts);
    /* Two calls each (the first's figures are set-up and discarded), then plain only. */
    assert_int_equal(counts[ALCM_PATH_RSAG], 2);
    assert_int_equal(counts[ALCM_PATH_ALLGATHER], 2);
    /* The same figures without floors: warm-up of 3, then re-probes (backing off). */
    alcm_planner *ref;
    assert_int_equal(alcm_planner_create(NULL, &ref), ALCM_OK);
    int rc[3] = {0, 0, 0};
    drive(ref, 1 << 20, ALCM_PATH_MASK_ALL, fast, 2000, rc);
    assert_true(rc[ALCM_PATH_RSAG] >= 6 && rc[ALCM_PATH_ALLGATHER] >= 6);
    alcm_planner_free(ref);
    /* A floor under plain's figure by more than the margin rules nothing out. */
    assert_int_equal(alcm_planner_create(NULL, &ref), ALCM_OK);
    const double low[3] = {0, 0.7e-9, 0.7e-9};
    rc[0] = rc[1] = rc[2] = 0;
    drive_floor(ref, ALCM_PATH_MASK_ALL, fast, low, 2000, rc);
    assert_true(rc[ALCM_PATH_RSAG] >= 6 && rc[ALCM_PATH_ALLGATHER] >= 6);
    alcm_planner_free(ref);
    /* Plain becomes slow (a congested link): the floor no longer rules rsag out, it is
     * re-timed at once and taken. */
    const double slow[3] = {3.0e-9, 2.0e-9, 1.8e-9};
    counts[0] = counts[1] = counts[2] = 0;
    drive_floor(pl, ALCM_PATH_MASK_ALL, slow, floor, 400, counts);
    assert_true(counts[ALCM_PATH_RSAG] >= 200);
    int m = 0;
    assert_int_equal(alcm_planner_choose(pl, 1 << 20, ALCM_PATH_MASK_ALL, &m), ALCM_PATH_RSAG);
    /* Bad figures are ignored. */
    alcm_planner_record_floor(NULL, ALCM_PATH_RSAG, 1, 1.0);
    alcm_planner_record_floor(pl, ALCM_PATH_COUNT, 1, 1.0);
    alcm_planner_record_floor(pl, ALCM_PATH_RSAG, 0, 1.0);
    alcm_planner_record_floor(pl, ALCM_PATH_RSAG, 1 << 20, -1.0);
    alcm_planner_record_floor(pl, ALCM_PATH_RSAG, 1 << 20, NAN);
    alcm_planner_free(pl);
}

/* A compressed path whose re-probes keep losing to plain waits 128, 256, 512, 1024, then
 * 2048 calls between them; once plain's figure grows by the margin (a slower link) it is
 * re-timed at the base interval again, and taken if it now wins. */
static void test_losing_probes_back_off(void **state)
{
    (void)state;
    alcm_planner *pl;
    assert_int_equal(alcm_planner_create(NULL, &pl), ALCM_OK);
    unsigned mask = (1u << ALCM_PATH_PLAIN) | (1u << ALCM_PATH_RSAG);
    const double fast[3] = {1.0e-9, 0, 1.6e-9}, slow[3] = {3.0e-9, 0, 1.6e-9};
    int counts[3] = {0, 0, 0};
    drive(pl, 1 << 20, mask, fast, 2000, counts);
    /* Warm-up 3, then probes near calls 134, 390, 902 and 1926 (a fixed 128-call period
     * would give 15). */
    assert_int_equal(counts[ALCM_PATH_RSAG], 7);
    counts[0] = counts[1] = counts[2] = 0;
    drive(pl, 1 << 20, mask, slow, 400, counts);
    assert_true(counts[ALCM_PATH_RSAG] >= 200);
    int m = 0;
    assert_int_equal(alcm_planner_choose(pl, 1 << 20, mask, &m), ALCM_PATH_RSAG);
    alcm_planner_free(pl);
}

/* One allowed path: taken, never timed. Two planners fed alike choose alike. */
static void test_single_path_and_determinism(void **state)
{
    (void)state;
    alcm_planner *a, *b;
    assert_int_equal(alcm_planner_create(NULL, &a), ALCM_OK);
    assert_int_equal(alcm_planner_create(NULL, &b), ALCM_OK);
    int m = 1;
    assert_int_equal(alcm_planner_choose(a, 1 << 20, 1u << ALCM_PATH_ALLGATHER, &m),
                     ALCM_PATH_ALLGATHER);
    assert_int_equal(m, 0);
    assert_int_equal(alcm_planner_choose(a, 1 << 20, 0, &m), ALCM_PATH_PLAIN);
    double t = 1e-3;
    for (int i = 0; i < 500; i++) {
        int ma = 0, mb = 0;
        alcm_path pa = alcm_planner_choose(a, 3 << 18, ALCM_PATH_MASK_ALL, &ma);
        alcm_path pb = alcm_planner_choose(b, 3 << 18, ALCM_PATH_MASK_ALL, &mb);
        assert_int_equal(pa, pb);
        assert_int_equal(ma, mb);
        t = t * 1.37;
        if (t > 1.0) t -= 0.999;
        if (ma) {
            alcm_planner_record(a, pa, 3 << 18, t * (1 + pa));
            alcm_planner_record(b, pb, 3 << 18, t * (1 + pb));
        }
    }
    /* Bad figures are ignored. */
    alcm_planner_record(a, ALCM_PATH_PLAIN, 1 << 10, NAN);
    alcm_planner_record(a, ALCM_PATH_PLAIN, 1 << 10, -1.0);
    alcm_planner_record(a, (alcm_path)9, 1 << 10, 1.0);
    alcm_planner_class cl;
    assert_int_equal(alcm_planner_get_class(a, 1 << 10, &cl), ALCM_OK);
    assert_int_equal(cl.samples[ALCM_PATH_PLAIN], 0);
    assert_int_equal(alcm_planner_get_class(NULL, 1, &cl), ALCM_E_ARG);
    alcm_planner_free(a);
    alcm_planner_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_model_formulas),
        cmocka_unit_test(test_model_scaling),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_warmup_then_fastest),
        cmocka_unit_test(test_plain_on_ties),
        cmocka_unit_test(test_rsag_over_allgather_on_near_ties),
        cmocka_unit_test(test_close_paths_retimed_often),
        cmocka_unit_test(test_follows_a_changed_link),
        cmocka_unit_test(test_floor_rules_out),
        cmocka_unit_test(test_losing_probes_back_off),
        cmocka_unit_test(test_single_path_and_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
