/* test_stats.c - alcmd's counters and latency histogram: bucket boundaries, quantiles
 * within the bucket width, ratio and CAQ means, errors by code. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

static void test_buckets_monotonic(void **state)
{
    (void)state;
    assert_int_equal(alcmd_latency_bucket(0), 0);
    assert_int_equal(alcmd_latency_bucket(999), 0);
    assert_int_equal(alcmd_latency_bucket(1000), 1);
    unsigned prev = 0;
    for (uint64_t ns = 1000; ns < (uint64_t)1 << 45; ns = ns * 9 / 8 + 1) {
        unsigned b = alcmd_latency_bucket(ns);
        assert_true(b >= prev);
        assert_true(b < ALCMD_LAT_BUCKETS);
        prev = b;
    }
    assert_int_equal(alcmd_latency_bucket(UINT64_MAX), ALCMD_LAT_BUCKETS - 1);
}

static void test_quantiles(void **state)
{
    (void)state;
    alcmd_counters c;
    memset(&c, 0, sizeof c);
    assert_true(alcmd_counters_latency(&c, 0.5) == 0.0);
    /* 1..1000 ms, one each: p50 about 500 ms, p99 about 990 ms. */
    for (int ms = 1; ms <= 1000; ms++) alcmd_counters_request(&c, 10, 5, (uint64_t)ms * 1000000);
    double p50 = alcmd_counters_latency(&c, 0.5), p99 = alcmd_counters_latency(&c, 0.99);
    assert_true(fabs(p50 - 0.500) / 0.500 < 0.04);
    assert_true(fabs(p99 - 0.990) / 0.990 < 0.04);
    assert_true(alcmd_counters_latency(&c, 0.0) <= alcmd_counters_latency(&c, 1.0));
    assert_int_equal(c.requests, 1000);
    assert_int_equal(c.bytes_in, 10000);
    assert_int_equal(c.bytes_out, 5000);
}

static void test_ratio_caq_errors(void **state)
{
    (void)state;
    alcmd_counters c;
    memset(&c, 0, sizeof c);
    assert_true(alcmd_counters_ratio(&c) == 0.0);
    assert_true(alcmd_counters_caq_mean(&c) == 0.0);
    alcmd_counters_compress(&c, 4000, 1000, 3.0);
    alcmd_counters_compress(&c, 4000, 3000, 1.0);
    assert_true(fabs(alcmd_counters_ratio(&c) - 2.0) < 1e-12);
    assert_true(fabs(alcmd_counters_caq_mean(&c) - 2.0) < 1e-12);
    assert_true(c.caq_last == 1.0);
    alcmd_counters_error(&c, 8);
    alcmd_counters_error(&c, 8);
    alcmd_counters_error(&c, 99);   /* out of range: counted as the last code */
    assert_int_equal(c.errors, 3);
    assert_int_equal(c.errors_by_code[8], 2);
    assert_int_equal(c.errors_by_code[ALCMD_N_ERROR_CODES - 1], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_monotonic),
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_ratio_caq_errors),
    };
    return cmocka_run_group_tests_name("daemon stats", tests, NULL, NULL);
}
