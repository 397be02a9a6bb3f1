/* test_alloc.c - the step grid and the Lagrangian allocation (alloc.c, gradient.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "gradient.h"

static void test_step_table_exact(void **state)
{
    (void)state;
    for (int j = 0; j < 16; j++) {
        double exact = exp2(j / 16.0);
        float t = alcm_step_table[j];
        /* correctly rounded: no float is closer */
        assert_true(fabs((double)t - exact) <= fabs((double)nextafterf(t, 0.0f) - exact));
        assert_true(fabs((double)t - exact) <= fabs((double)nextafterf(t, 4.0f) - exact));
    }
    assert_true(alcm_step(ALCM_STEP_ONE) == 1.0f);
    assert_true(alcm_step(ALCM_STEP_ONE + 16) == 2.0f);
    assert_true(alcm_step(ALCM_STEP_MIN) == 0x1p-126f);
    assert_true(isfinite(alcm_step(ALCM_STEP_MAX) * (float)ALCM_LEVEL_MAX));
    for (uint32_t s = ALCM_STEP_MIN; s < ALCM_STEP_MAX; s++)
        assert_true(alcm_step(s) < alcm_step(s + 1));
}

static void test_index_brackets(void **state)
{
    (void)state;
    for (double d = 1e-37; d < 1e33; d *= 1.0173) {
        int32_t s = alcm_alloc_index(d);
        assert_true((double)alcm_step((uint32_t)s) <= d);
        assert_true(d < (double)alcm_step((uint32_t)s + 1));
    }
    assert_int_equal(alcm_alloc_index(0.0), ALCM_STEP_MIN);
    assert_int_equal(alcm_alloc_index(1e-300), ALCM_STEP_MIN);
    assert_int_equal(alcm_alloc_index(1e300), ALCM_STEP_MAX);
    assert_int_equal(alcm_alloc_index(1.0), ALCM_STEP_ONE);
}

static void test_index_exact_steps(void **state)
{
    (void)state;
    /* Every grid step maps to its own index, and the double just below it to the one
     * before (the index comes from a bucket table, not a scan of the step table). */
    for (int32_t s = ALCM_STEP_MIN; s <= ALCM_STEP_MAX; s++) {
        double d = (double)alcm_step((uint32_t)s);
        assert_int_equal(alcm_alloc_index(d), s);
        if (s > ALCM_STEP_MIN) assert_int_equal(alcm_alloc_index(nextafter(d, 0.0)), s - 1);
        assert_int_equal(alcm_alloc_index(nextafter(d, 1e300)), s);
    }
}

static void test_smin_level_limit(void **state)
{
    (void)state;
    const float vals[] = {1e-30f, 3.7e-5f, 1.0f, 123.456f, 6e20f, 1e33f};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int32_t s = alcm_alloc_smin(vals[i]);
        assert_true(s >= ALCM_STEP_MIN && s <= ALCM_STEP_MAX);
        assert_true((double)ALCM_LEVEL_MAX * alcm_step((uint32_t)s) >= vals[i]);
        if (s > ALCM_STEP_MIN)
            assert_true((double)ALCM_LEVEL_MAX * alcm_step((uint32_t)s - 1) < vals[i]);
    }
    assert_int_equal(alcm_alloc_smin(0.0f), ALCM_STEP_MIN);
    assert_true(alcm_alloc_smin(3e38f) > ALCM_STEP_MAX); /* only zeroing is possible */
}

static alcm_alloc_chan chan(double n, double sd, double e)
{
    alcm_alloc_chan c;
    c.n = n;
    c.a = sd * exp2(8 * e - 4);
    c.energy = n * sd * sd;
    c.dscale = 1.0;
    c.smin = alcm_alloc_smin((float)(5 * sd));
    return c;
}

static void test_allocation_meets_budget(void **state)
{
    (void)state;
    enum { C = 64 };
    alcm_alloc_chan ch[C];
    double total = 0;
    for (int c = 0; c < C; c++) {
        ch[c] = chan(1000, 0.1 + c * 0.05, 0.5 + 0.005 * c);
        total += ch[c].energy;
    }
    uint16_t out[C], prev[C];
    const double budgets[] = {1e-8, 1e-5, 1e-3, 0.01, 0.1, 0.5, 0.99};
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        double md;
        assert_int_equal(alcm_allocate(ch, C, budgets[b] * total, out, &md), 0);
        double d = 0;
        for (int c = 0; c < C; c++) d += out[c] ? alcm_alloc_dist(&ch[c], out[c]) : ch[c].energy;
        assert_true(d <= budgets[b] * total);
        assert_true(fabs(d - md) <= 1e-9 * total);
        assert_true(md > 0.5 * budgets[b] * total); /* spends most of the budget */
        if (b > 0)
            for (int c = 0; c < C; c++) /* a larger budget never makes a step finer */
                assert_true(out[c] == 0 || (prev[c] != 0 && out[c] >= prev[c]));
        memcpy(prev, out, sizeof out);
    }
}

static void test_allocation_ignores_working_fields(void **state)
{
    (void)state;
    /* The allocator's own fields are overwritten on entry: whatever they hold, and however
     * often it runs, the same channels get the same steps. */
    enum { C = 48 };
    alcm_alloc_chan ch[C];
    double total = 0;
    for (int c = 0; c < C; c++) {
        ch[c] = chan(300 + 17 * c, 0.02 + 0.3 * (c % 7), 0.3 + 0.01 * c);
        total += ch[c].energy;
    }
    uint16_t first[C], again[C];
    double md1, md2;
    assert_int_equal(alcm_allocate(ch, C, 0.004 * total, first, &md1), 0);
    for (int c = 0; c < C; c++) {
        ch[c].kscale = -1.0;
        ch[c].inv_a = -1.0;
        ch[c].K = -3.0;
        ch[c].s0 = ALCM_STEP_MIN + c;
        for (int k = 0; k < 3; k++) {
            ch[c].ps[k] = 7;
            ch[c].pd[k] = -1.0;
        }
    }
    assert_int_equal(alcm_allocate(ch, C, 0.004 * total, again, &md2), 0);
    assert_memory_equal(first, again, sizeof first);
    assert_true(md1 == md2);
    assert_int_equal(alcm_allocate(ch, C, 0.004 * total, again, &md2), 0);
    assert_memory_equal(first, again, sizeof first);
}

static void test_fine_rate_common_step(void **state)
{
    (void)state;
    /* Reverse water-filling: at fine steps every channel gets (nearly) the same step,
     * whatever its variance; at coarse ones low-energy channels are zeroed first. */
    alcm_alloc_chan ch[4] = {chan(4096, 0.01, 0.76), chan(4096, 0.1, 0.76), chan(4096, 1, 0.76),
                             chan(4096, 10, 0.76)};
    double total = 0;
    for (int c = 0; c < 4; c++) total += ch[c].energy;
    uint16_t out[4];
    double md;
    assert_int_equal(alcm_allocate(ch, 4, 1e-7 * total, out, &md), 0);
    for (int c = 1; c < 4; c++) assert_true(abs((int)out[c] - (int)out[0]) <= 1);
    assert_int_equal(alcm_allocate(ch, 4, 0.05 * total, out, &md), 0);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    assert_true(out[3] != 0);
}

/* The rate model n·log2(1 + a/Δ), computed without a division, matches libm's log2 to
 * 1e-12 · (rate + n) over the whole grid and rate scales from 1e-30 to 1e30, mantissa slice
 * edges included (an absolute error of n·1e-12 bits where the rate is near zero). */
static void test_rate_model_accuracy(void **state)
{
    (void)state;
    alcm_alloc_chan c;
    memset(&c, 0, sizeof c);
    c.n = 1000.0;
    double worst = 0.0;
    for (int32_t s = ALCM_STEP_MIN; s <= ALCM_STEP_MAX; s += 7) {
        const double step = (double)alcm_step((uint32_t)s);
        for (int k = -30; k <= 30; k++) {
            for (int j = 0; j < 65; j++) {
                c.a = pow(10.0, k) * (1.0 + j / 64.0);
                double want = c.n * log2(1.0 + c.a / step);
                double got = alcm_alloc_rate(&c, s);
                double err = fabs(got - want) / (want + c.n);
                if (err > worst) worst = err;
            }
        }
    }
    assert_true(worst < 1e-12);
    c.a = 0.0;
    assert_true(alcm_alloc_rate(&c, 2032) == 0.0);
}

static void test_allocation_edges(void **state)
{
    (void)state;
    alcm_alloc_chan ch[3] = {chan(100, 1, 0.7), chan(100, 0, 0.2), chan(100, 2, 0.7)};
    ch[1].energy = 0.0; /* an all-zero channel */
    uint16_t out[3];
    double md;
    assert_int_equal(alcm_allocate(ch, 3, 1e9, out, &md), 0); /* everything fits at zero */
    for (int c = 0; c < 3; c++) assert_int_equal(out[c], 0);
    assert_int_equal(alcm_allocate(ch, 3, 1e-3, out, &md), 0);
    assert_int_equal(out[1], 0);
    assert_true(out[0] && out[2]);
    /* a channel that can only be zeroed makes a small budget infeasible */
    ch[2].smin = ALCM_STEP_MAX + 1;
    assert_int_equal(alcm_allocate(ch, 3, 1e-3, out, &md), -1);
    /* a constant channel (a = 0) costs no rate: it gets the finest step */
    alcm_alloc_chan k = chan(100, 0, 0.2);
    k.energy = 100 * 9.0;
    k.smin = alcm_alloc_smin(3.0f);
    assert_int_equal(alcm_allocate(&k, 1, 1e-6, out, &md), 0);
    assert_int_equal(out[0], k.smin);
    assert_int_equal(alcm_allocate(NULL, 0, 0.0, out, &md), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_table_exact),
        cmocka_unit_test(test_index_brackets),
        cmocka_unit_test(test_index_exact_steps),
        cmocka_unit_test(test_smin_level_limit),
        cmocka_unit_test(test_allocation_meets_budget),
        cmocka_unit_test(test_allocation_ignores_working_fields),
        cmocka_unit_test(test_fine_rate_common_step),
        cmocka_unit_test(test_rate_model_accuracy),
        cmocka_unit_test(test_allocation_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
