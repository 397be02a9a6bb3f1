/* test_predictor.c - feature normalisation, the predictor's forward pass and output range,
 * the measured entropy (known values, invariances, the windowed histogram) and the
 * committed weights' accuracy. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alcm_tools.h"

static void test_features_known_values(void **state)
{
    (void)state;
    alcm_stats s;
    float f[ALCM_N_FEATURES];
    memset(&s, 0, sizeof s);
    s.mean = 1; s.var = 1; s.std = 1; s.sparsity = 0.25;
    alcm_features(&s, f);
    assert_float_equal(f[0], 0.5f, 1e-7f);
    assert_float_equal(f[1], 0.0f, 1e-7f);
    assert_float_equal(f[2], 0.0f, 1e-7f);
    assert_true(f[3] == 0.0f && f[4] == 0.0f);
    assert_float_equal(f[5], 0.25f, 0);

    s.mean = -3; s.var = 1e-4; s.std = 1e-2; s.sparsity = 0;
    s.skew = -(exp(1.0) - 1.0);          /* log1p(|s|) = 1 */
    s.kurt = exp(2.0) - 1.0;             /* log1p(k) = 2 */
    alcm_features(&s, f);
    assert_float_equal(f[0], -3.0f / 3.01f, 1e-6f);
    assert_float_equal(f[1], -4.0f / 30.0f, 1e-6f);
    assert_float_equal(f[2], -2.0f / 15.0f, 1e-6f);
    assert_float_equal(f[3], -0.25f, 1e-6f);
    assert_float_equal(f[4], 0.5f, 1e-6f);

    memset(&s, 0, sizeof s);                 /* an all-zero channel */
    s.sparsity = 1;
    alcm_features(&s, f);
    assert_true(f[0] == 0.0f);
    assert_float_equal(f[1], -1.0f, 1e-6f);
    assert_float_equal(f[2], -1.0f, 1e-6f);
    assert_true(f[5] == 1.0f);
}

static void test_forward_pass_by_hand(void **state)
{
    (void)state;
    alcm_predictor m;
    memset(&m, 0, sizeof m);
    float f[ALCM_N_FEATURES] = {0.75f, 0, 0, 0, 0, 0};
    /* all zero: sigmoid(0) = 0.5 -> 0.2 + 0.35 */
    assert_float_equal(alcm_predict(&m, f), 0.55f, 1e-6f);
    m.w1[0][0] = 1.0f;   /* h0 = relu(0.75) */
    m.w2[0] = 2.0f;
    m.w1[1][0] = -1.0f;  /* h1 = relu(-0.75) = 0: its weight must not matter */
    m.w2[1] = 100.0f;
    m.b2 = -1.0f;        /* z = -1 + 2 * 0.75 = 0.5 */
    float want = (float)(0.2 + 0.7 / (1.0 + exp(-0.5)));
    assert_float_equal(alcm_predict(&m, f), want, 2e-6f);
}

/* Whatever the weights and inputs, the output stays in [0.2, 0.9]. */
static void test_output_range(void **state)
{
    (void)state;
    alcm_rng r;
    alcm_rng_seed(&r, 3);
    alcm_predictor m;
    float lo = 1, hi = 0;
    for (int trial = 0; trial < 200; trial++) {
        double scale = pow(10.0, (double)(trial % 7) - 2.0);
        for (int h = 0; h < ALCM_HIDDEN; h++) {
            for (int k = 0; k < ALCM_N_FEATURES; k++)
                m.w1[h][k] = (float)(alcm_rng_normal(&r) * scale);
            m.b1[h] = (float)(alcm_rng_normal(&r) * scale);
            m.w2[h] = (float)(alcm_rng_normal(&r) * scale);
        }
        m.b2 = (float)(alcm_rng_normal(&r) * scale);
        float f[ALCM_N_FEATURES];
        for (int k = 0; k < ALCM_N_FEATURES; k++) f[k] = (float)(alcm_rng_normal(&r) * 3.0);
        float e = alcm_predict(&m, f);
        assert_true(e >= ALCM_ENTROPY_MIN && e <= ALCM_ENTROPY_MAX);
        lo = e < lo ? e : lo;
        hi = e > hi ? e : hi;
    }
    assert_true(lo == ALCM_ENTROPY_MIN && hi == ALCM_ENTROPY_MAX);   /* saturates both ends */
    assert_true(alcm_predict(NULL, NULL) == ALCM_ENTROPY_MIN);
}

static float measured(const float *x, size_t n)
{
    alcm_stats s;
    alcm_stats_compute(x, n, &s);
    return alcm_measured_entropy(x, n, &s);
}

/* Equally likely distinct codes give H = log2(k) bits, e = H / 8 (clamped). */
static void test_measured_entropy_known_values(void **state)
{
    (void)state;
    float x4[64], x16[16], c[10];
    for (int i = 0; i < 64; i++) x4[i] = (float)(i % 4);     /* 4 codes, 16 each */
    assert_float_equal(measured(x4, 64), 0.25f, 1e-6f);
    for (int i = 0; i < 16; i++) x16[i] = (float)i;
    assert_float_equal(measured(x16, 16), 0.5f, 1e-6f);
    for (int i = 0; i < 10; i++) c[i] = 7.0f;
    assert_true(measured(c, 10) == ALCM_ENTROPY_MIN);         /* constant */
    assert_true(measured(c, 0) == ALCM_ENTROPY_MIN);          /* empty */
    float two[64];                                            /* 1 bit: clamped to 0.2 */
    for (int i = 0; i < 64; i++) two[i] = (float)(i % 2);
    assert_true(measured(two, 64) == ALCM_ENTROPY_MIN);
}

/* DESIGN: a Gaussian channel gives about 0.76, a Laplacian 0.74, 90 % zeros the floor.
 * The value depends on shape only: scaling by any power of two gives the same bits. */
static void test_measured_entropy_families_and_scale(void **state)
{
    (void)state;
    const size_t n = 1 << 16;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    alcm_rng r;
    alcm_rng_seed(&r, 9);
    alcm_synth_fill(&r, ALCM_SYNTH_GAUSSIAN, x, n, 0);
    float g = measured(x, n);
    assert_true(fabsf(g - 0.756f) < 0.01f);
    for (size_t i = 0; i < n; i++) y[i] = x[i] * 0x1.0p-70f;
    assert_true(measured(y, n) == g);
    alcm_synth_fill(&r, ALCM_SYNTH_LAPLACE, x, n, 0);
    float l = measured(x, n);
    assert_true(fabsf(l - 0.743f) < 0.01f && l < g);
    for (size_t i = 0; i < n; i++) x[i] = (i % 10) ? 0.0f : (float)alcm_rng_normal(&r);
    assert_true(measured(x, n) == ALCM_ENTROPY_MIN);
    free(x);
    free(y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A channel whose codes span several histogram windows, with empty stretches between
 * them (a few huge outliers), must give exactly what a sort-based count gives. */
static void test_measured_entropy_wide_span(void **state)
{
    (void)state;
    const size_t n = 100000;
    float *x = malloc(n * sizeof *x);
    double *q = malloc(n * sizeof *q);
    assert_non_null(x);
    assert_non_null(q);
    alcm_rng r;
    alcm_rng_seed(&r, 10);
    for (size_t i = 0; i < n; i++) x[i] = (float)alcm_rng_normal(&r);
    x[5] = 4000.0f;
    x[77] = -4000.0f;
    x[9000] = 2500.0f;
    alcm_stats s;
    alcm_stats_compute(x, n, &s);
    float got = alcm_measured_entropy(x, n, &s);
    double inv = 16.0 / s.std;
    for (size_t i = 0; i < n; i++) q[i] = round((double)x[i] * inv);
    assert_true(q[5] - q[77] > 3 * 2048.0);    /* spans several windows */
    qsort(q, n, sizeof *q, cmp_double);
    double h = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && q[j] == q[i]) j++;
        double p = (double)(j - i) / (double)n;
        h -= p * log2(p);
        i = j;
    }
    float want = (float)fmin(fmax(h / 8.0, 0.2), 0.9);
    assert_float_equal(got, want, 1e-6f);
    free(x);
    free(q);
}

/* The committed predictor tracks the measured entropy on fresh channels of every family
 * (fresh seeds, lengths the corpus uses). */
static void test_default_predictor_accuracy(void **state)
{
    (void)state;
    const alcm_predictor *m = alcm_predictor_default();
    assert_non_null(m);
    const size_t len = 1024, rows = 32;
    float *x = malloc(len * rows * sizeof *x);
    assert_non_null(x);
    alcm_rng r;
    alcm_rng_seed(&r, 2024);
    double sq = 0;
    int count = 0;
    for (int f = 0; f < ALCM_SYNTH_COUNT; f++) {
        alcm_synth_fill(&r, (alcm_synth_family)f, x, len * rows, len);
        for (size_t k = 0; k < rows; k++) {
            alcm_stats s;
            float feat[ALCM_N_FEATURES];
            alcm_stats_compute(x + k * len, len, &s);
            alcm_features(&s, feat);
            float e = alcm_predict(m, feat);
            float t = alcm_measured_entropy(x + k * len, len, &s);
            assert_true(fabsf(e - t) < 0.15f);
            sq += (double)(e - t) * (e - t);
            count++;
        }
    }
    assert_true(sq / count < 0.01);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_known_values),
        cmocka_unit_test(test_forward_pass_by_hand),
        cmocka_unit_test(test_output_range),
        cmocka_unit_test(test_measured_entropy_known_values),
        cmocka_unit_test(test_measured_entropy_families_and_scale),
        cmocka_unit_test(test_measured_entropy_wide_span),
        cmocka_unit_test(test_default_predictor_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
