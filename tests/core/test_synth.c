/* test_synth.c - synthetic tensor families: determinism and the distribution each one
 * promises (docs/DESIGN.md, "Synthetic gradient"). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alcm_tools.h"

static float *fill(alcm_synth_family fam, uint64_t seed, size_t n, size_t row)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    alcm_rng r;
    alcm_rng_seed(&r, seed);
    alcm_synth_fill(&r, fam, x, n, row);
    return x;
}

static void test_determinism_and_names(void **state)
{
    (void)state;
    const size_t n = 3000;
    for (int f = 0; f < ALCM_SYNTH_COUNT; f++) {
        float *a = fill((alcm_synth_family)f, 5, n, 300);
        float *b = fill((alcm_synth_family)f, 5, n, 300);
        float *c = fill((alcm_synth_family)f, 6, n, 300);
        assert_memory_equal(a, b, n * sizeof *a);
        assert_memory_not_equal(a, c, n * sizeof *a);
        for (size_t i = 0; i < n; i++) assert_true(isfinite(a[i]));
        free(a);
        free(b);
        free(c);
        assert_string_not_equal(alcm_synth_name((alcm_synth_family)f), "?");
    }
    assert_string_equal(alcm_synth_name(ALCM_SYNTH_GRADIENT), "gradient");
    assert_string_equal(alcm_synth_name(ALCM_SYNTH_COUNT), "?");
    /* an unknown family writes zeros; n = 0 writes nothing */
    float z[4] = {1, 2, 3, 4};
    alcm_rng r;
    alcm_rng_seed(&r, 1);
    alcm_synth_fill(&r, ALCM_SYNTH_COUNT, z, 3, 0);
    assert_true(z[0] == 0 && z[1] == 0 && z[2] == 0 && z[3] == 4);
    alcm_synth_fill(&r, ALCM_SYNTH_GAUSSIAN, z, 0, 0);
    assert_true(z[3] == 4);
}

/* Gaussian: std 1, excess kurtosis 0; Laplace: variance 2, excess kurtosis 3; Student-t3:
 * variance 3 and a very heavy tail. 2^17 samples each. */
static void test_iid_family_moments(void **state)
{
    (void)state;
    const size_t n = 1 << 17;
    alcm_stats s;
    float *x = fill(ALCM_SYNTH_GAUSSIAN, 1, n, 0);
    alcm_stats_compute(x, n, &s);
    assert_true(fabs(s.mean) < 0.015 && fabs(s.std - 1.0) < 0.01 && fabs(s.kurt) < 0.05);
    free(x);
    x = fill(ALCM_SYNTH_LAPLACE, 2, n, 0);
    alcm_stats_compute(x, n, &s);
    assert_true(fabs(s.var - 2.0) < 0.05 && fabs(s.kurt - 3.0) < 0.4 && fabs(s.skew) < 0.1);
    free(x);
    x = fill(ALCM_SYNTH_HEAVY, 3, n, 0);
    alcm_stats_compute(x, n, &s);
    assert_true(s.kurt > 8.0);
    assert_true(s.var > 2.0 && s.var < 6.0);
    free(x);
}

/* Sparse: exact zeros, a per-row fraction in [0.1, 0.9] (rows differ); mixed scale: row
 * standard deviations spread over orders of magnitude, each row Gaussian. */
static void test_row_families(void **state)
{
    (void)state;
    const size_t rows = 64, len = 2048, n = rows * len;
    float *x = fill(ALCM_SYNTH_SPARSE, 4, n, len);
    double fmin = 1, fmax = 0;
    for (size_t r = 0; r < rows; r++) {
        size_t z = 0;
        for (size_t j = 0; j < len; j++) z += x[r * len + j] == 0.0f;
        double f = (double)z / (double)len;
        assert_true(f > 0.06 && f < 0.94);
        fmin = f < fmin ? f : fmin;
        fmax = f > fmax ? f : fmax;
    }
    assert_true(fmax - fmin > 0.4);
    free(x);
    x = fill(ALCM_SYNTH_MIXED_SCALE, 5, n, len);
    double smin = INFINITY, smax = 0;
    for (size_t r = 0; r < rows; r++) {
        alcm_stats s;
        alcm_stats_compute(x + r * len, len, &s);
        assert_true(fabs(s.kurt) < 0.6);
        smin = s.std < smin ? s.std : smin;
        smax = s.std > smax ? s.std : smax;
    }
    assert_true(smin > 0.5e-3 && smax < 2e3 && smax / smin > 100.0);
    free(x);
}

/* Synthetic gradient: about a quarter exact zeros, some columns zero in every row, a
 * median row scale near 1e-3, heavy tails within a row. */
static void test_gradient_family(void **state)
{
    (void)state;
    const size_t rows = 200, len = 784, n = rows * len;
    float *x = fill(ALCM_SYNTH_GRADIENT, 6, n, len);
    size_t zeros = 0, dead_rows = 0, zero_cols = 0;
    for (size_t i = 0; i < n; i++) zeros += x[i] == 0.0f;
    double frac = (double)zeros / (double)n;
    assert_true(frac > 0.18 && frac < 0.36);
    double *row_std = malloc(rows * sizeof *row_std);
    assert_non_null(row_std);
    size_t live = 0;
    double kurt_sum = 0;
    for (size_t r = 0; r < rows; r++) {
        alcm_stats s;
        alcm_stats_compute(x + r * len, len, &s);
        if (s.var == 0.0) {
            dead_rows++;
            continue;
        }
        row_std[live++] = s.std;
        kurt_sum += s.kurt;
    }
    for (size_t j = 0; j < len; j++) {
        size_t z = 0;
        for (size_t r = 0; r < rows; r++) z += x[r * len + j] == 0.0f;
        zero_cols += z == rows;
    }
    assert_true(dead_rows <= 20);
    assert_true(zero_cols > len / 10 && zero_cols < len * 3 / 10);
    assert_true(kurt_sum / (double)live > 3.0);
    /* median of the row standard deviations (insertion sort, 200 values) */
    for (size_t i = 1; i < live; i++)
        for (size_t k = i; k > 0 && row_std[k - 1] > row_std[k]; k--) {
            double t = row_std[k];
            row_std[k] = row_std[k - 1];
            row_std[k - 1] = t;
        }
    double med = row_std[live / 2];
    assert_true(med > 5e-4 && med < 5e-3);
    assert_true(row_std[live - 1] / row_std[0] > 10.0);
    free(row_std);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism_and_names),
        cmocka_unit_test(test_iid_family_moments),
        cmocka_unit_test(test_row_families),
        cmocka_unit_test(test_gradient_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
