/* test_rng.c - xoshiro256** / splitmix64 reference values, uniform and normal moments,
 * and the libm-free log/exp the normal generator is built on. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alcm_tools.h"
#include "detmath.h"

/* Reference outputs from a direct Python transcription of the published algorithms:
 * xoshiro256** from state {1, 2, 3, 4}; splitmix64 from 0 (first output 0xe220a8397b1dcdaf,
 * the well-known value); and alcm_rng_seed(42) followed by three draws. */
static void test_xoshiro_reference(void **state)
{
    (void)state;
    alcm_rng r = {{1, 2, 3, 4}};
    const uint64_t want[6] = {0x2d00, 0x0, 0x5a007080, 0x10e0000000009d80ULL,
                              0x10e0b61ce1009d80ULL, 0x870021ce143ad00ULL};
    for (int i = 0; i < 6; i++) assert_int_equal(alcm_rng_next(&r), want[i]);
}

static void test_splitmix_seeding(void **state)
{
    (void)state;
    alcm_rng r;
    alcm_rng_seed(&r, 0);
    assert_int_equal(r.s[0], 0xe220a8397b1dcdafULL);
    assert_int_equal(r.s[1], 0x6e789e6aa1b965f4ULL);
    assert_int_equal(r.s[2], 0x06c45d188009454fULL);
    assert_int_equal(r.s[3], 0xf88bb8a8724c81ecULL);
    alcm_rng_seed(&r, 42);
    assert_int_equal(alcm_rng_next(&r), 0x15780b2e0c2ec716ULL);
    assert_int_equal(alcm_rng_next(&r), 0x6104d9866d113a7eULL);
    assert_int_equal(alcm_rng_next(&r), 0xae17533239e499a1ULL);
}

static void test_uniform_range_and_mean(void **state)
{
    (void)state;
    alcm_rng r;
    alcm_rng_seed(&r, 7);
    double s = 0, lo = 1, hi = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = alcm_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        s += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    assert_true(fabs(s / n - 0.5) < 0.003);   /* sd of the mean: 0.00065 */
    assert_true(lo < 1e-4 && hi > 1 - 1e-4);
}

/* Moments of 400k normals: mean 0 (sd 0.0016), variance 1 (sd 0.0022), skewness 0 (sd
 * 0.004), excess kurtosis 0 (sd 0.008); tolerances are about 5 sd. Also a tail check. */
static void test_normal_moments_and_determinism(void **state)
{
    (void)state;
    alcm_rng r, r2;
    alcm_rng_seed(&r, 11);
    alcm_rng_seed(&r2, 11);
    const int n = 400000;
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    int beyond3 = 0;
    for (int i = 0; i < n; i++) {
        double z = alcm_rng_normal(&r);
        double z2 = alcm_rng_normal(&r2);
        assert_true(z == z2);
        s1 += z;
        s2 += z * z;
        s3 += z * z * z;
        s4 += z * z * z * z;
        beyond3 += fabs(z) > 3.0;
    }
    double m = s1 / n, v = s2 / n - m * m;
    assert_true(fabs(m) < 0.008);
    assert_true(fabs(v - 1.0) < 0.011);
    assert_true(fabs(s3 / n / pow(v, 1.5)) < 0.02);
    assert_true(fabs(s4 / n / (v * v) - 3.0) < 0.04);
    /* P(|z| > 3) = 0.0027: expect 1080 +- 33 */
    assert_true(beyond3 > 950 && beyond3 < 1210);
    alcm_rng_seed(&r2, 12);
    assert_true(alcm_rng_normal(&r) != alcm_rng_normal(&r2));
}

/* alcm_det_log / alcm_det_exp agree with libm to a few ulp over the whole range,
 * subnormals included, and round-half-away matches C round(). */
static void test_detmath_accuracy(void **state)
{
    (void)state;
    const double xs[] = {1e-310, 4.9e-324, 1e-300, 1e-30, 1e-7, 0.1, 0.5, 0.7071067811865476,
                         0.99999999, 1.0, 1.0000001, 2.0, 3.0, 10.0, 1234.5, 1e30, 1e300,
                         1.7976931348623157e308};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double want = log(xs[i]), got = alcm_det_log(xs[i]);
        assert_true(fabs(got - want) <= 4e-16 * fabs(want) + 1e-300);
    }
    assert_true(alcm_det_log(1.0) == 0.0);
    assert_true(isinf(alcm_det_log(0.0)) && alcm_det_log(0.0) < 0);
    assert_true(isnan(alcm_det_log(-1.0)));
    const double es[] = {-745.0, -700.0, -30.5, -1.0, -1e-10, 0.0, 1e-10, 0.3466, 0.5, 1.0,
                         2.5, 20.0, 88.7, 700.0, 709.7};
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++) {
        double want = exp(es[i]), got = alcm_det_exp(es[i]);
        if (es[i] < -708.0) assert_true(fabs(got - want) <= 1e-3 * want);   /* subnormal */
        else assert_true(fabs(got - want) <= 4e-16 * want);
    }
    assert_true(alcm_det_exp(0.0) == 1.0);
    assert_true(isinf(alcm_det_exp(710.0)) && alcm_det_exp(-800.0) == 0.0);
    const double rs[] = {0.5, -0.5, 1.5, -2.5, 0.49999999999999994, 2.4999999, -7.5000001,
                         4503599627370497.0, -1e300, 0.0, -0.0};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++)
        assert_true(alcm_round_half_away(rs[i]) == round(rs[i]));
}

static void test_thread_cpu_time_advances(void **state)
{
    (void)state;
    double t0 = alcm_thread_cpu_seconds();
    assert_true(t0 >= 0.0);
    volatile double sink = 0;
    double t1 = t0;
    for (long i = 0; t1 - t0 < 0.01 && i < 2000000000L; i++) {
        sink += (double)i * 1e-9;
        if ((i & 0xfffff) == 0) t1 = alcm_thread_cpu_seconds();
    }
    assert_true(t1 - t0 >= 0.01);
    (void)sink;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xoshiro_reference),
        cmocka_unit_test(test_splitmix_seeding),
        cmocka_unit_test(test_uniform_range_and_mean),
        cmocka_unit_test(test_normal_moments_and_determinism),
        cmocka_unit_test(test_detmath_accuracy),
        cmocka_unit_test(test_thread_cpu_time_advances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
