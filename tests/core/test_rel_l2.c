/* test_rel_l2.c - the relative L2 error metric: known values, a zero reference, double
 * accumulation where float squares would overflow or underflow, against a long double sum. */
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

static void test_known_values(void **state)
{
    (void)state;
    const float ref[2] = {3, 4};
    const float same[2] = {3, 4}, zero[2] = {0, 0}, off[2] = {3, 3}, neg[2] = {-3, -4};
    assert_true(alcm_rel_l2_error(ref, same, 2) == 0.0);
    assert_true(alcm_rel_l2_error(ref, zero, 2) == 1.0);        /* sqrt(25 / 25) */
    assert_true(fabs(alcm_rel_l2_error(ref, off, 2) - 0.2) <= 1e-15);   /* sqrt(1 / 25) */
    assert_true(alcm_rel_l2_error(ref, neg, 2) == 2.0);         /* sqrt(100 / 25) */
    /* Not symmetric: the first argument is the reference. */
    assert_true(fabs(alcm_rel_l2_error(off, ref, 2) - sqrt(1.0 / 18.0)) <= 1e-15);
}

static void test_zero_reference(void **state)
{
    (void)state;
    const float zero[3] = {0, 0, 0}, approx[3] = {3, 0, 4}, ref[3] = {1, 2, 2};
    /* ||ref|| = 0: the absolute error ||ref - approx||. */
    assert_true(alcm_rel_l2_error(zero, zero, 3) == 0.0);
    assert_true(alcm_rel_l2_error(zero, approx, 3) == 5.0);
    assert_true(alcm_rel_l2_error(ref, zero, 3) == 1.0);
    /* No elements at all. */
    assert_true(alcm_rel_l2_error(NULL, NULL, 0) == 0.0);
}

static void test_double_accumulation(void **state)
{
    (void)state;
    /* Squares of 1e20 overflow a float and squares of 1e-30 underflow it; in double both
     * give the exact ratio 1/2. */
    const float big[2] = {1e20f, 1e20f}, big_approx[2] = {1e20f, 0};
    const float tiny[2] = {1e-30f, 1e-30f}, tiny_approx[2] = {0, 1e-30f};
    assert_true(fabs(alcm_rel_l2_error(big, big_approx, 2) - sqrt(0.5)) <= 1e-15);
    assert_true(fabs(alcm_rel_l2_error(tiny, tiny_approx, 2) - sqrt(0.5)) <= 1e-15);
    /* A power-of-two scale of both tensors leaves the result bit-identical. */
    float a[5] = {1.5f, -2, 0.25f, 7, 0}, b[5] = {1.25f, -2.5f, 0.5f, 6, 0.125f};
    double r = alcm_rel_l2_error(a, b, 5);
    for (int i = 0; i < 5; i++) {
        a[i] *= 1024;
        b[i] *= 1024;
    }
    assert_true(alcm_rel_l2_error(a, b, 5) == r);
    assert_true(r > 0);
}

static void test_matches_long_double(void **state)
{
    (void)state;
    const size_t n = 1 << 18;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 1024, 7), *y = tu_malloc(n * sizeof *y);
    alcm_rng rng;
    alcm_rng_seed(&rng, 8);
    long double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        y[i] = x[i] * (float)(1.0 + 0.01 * (alcm_rng_uniform(&rng) - 0.5));
        long double d = (long double)x[i] - (long double)y[i];
        num += d * d;
        den += (long double)x[i] * (long double)x[i];
    }
    double want = (double)sqrtl(num / den);
    double got = alcm_rel_l2_error(x, y, n);
    assert_true(want > 1e-3 && want < 1e-2);
    assert_true(fabs(got - want) <= 1e-12 * want);
    /* NaN in the input is not hidden. */
    x[17] = NAN;
    assert_true(isnan(alcm_rel_l2_error(x, y, n)));
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_zero_reference),
        cmocka_unit_test(test_double_accumulation),
        cmocka_unit_test(test_matches_long_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
