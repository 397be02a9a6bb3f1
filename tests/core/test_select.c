/* test_select.c - radix selection of the k-th smallest magnitude and the pruning threshold
 * (select.c) against a sorted reference. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "select.h"
#include "testutil.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* The (k+1)-th smallest |x + r| by sorting. */
static float reference_kth(const float *x, const float *r, size_t n, size_t k)
{
    float *m = tu_malloc(n * sizeof *m);
    for (size_t i = 0; i < n; i++) m[i] = fabsf(r ? x[i] + r[i] : x[i]);
    qsort(m, n, sizeof *m, cmp_float);
    float v = m[k];
    free(m);
    return v;
}

static void test_kth_matches_sort(void **state)
{
    (void)state;
    alcm_buf scratch = {0};
    const size_t n = 20011;
    for (int fam = 0; fam < ALCM_SYNTH_COUNT; fam++) {
        float *x = tu_synth((alcm_synth_family)fam, n, 101, 5 + fam);
        float *r = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 101, 99);
        for (size_t i = 0; i < n; i++) r[i] *= 0.01f;
        const size_t ks[] = {0, 1, 17, n / 4, n / 2, n - 1};
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            float v;
            assert_int_equal(alcm_select_kth(x, NULL, n, ks[j], &scratch, &v), ALCM_OK);
            assert_true(v == reference_kth(x, NULL, n, ks[j]));
            assert_int_equal(alcm_select_kth(x, r, n, ks[j], &scratch, &v), ALCM_OK);
            assert_true(v == reference_kth(x, r, n, ks[j]));
        }
        free(x);
        free(r);
    }
    alcm_buf_free(&scratch);
}

static void test_kth_many_equal_values(void **state)
{
    (void)state;
    /* Mostly one value: the candidate bucket is too large to gather (scan path). */
    const size_t n = 10000;
    float *x = tu_malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (i % 10 == 0) ? (float)i * 1e-3f : -0.5f;
    alcm_buf scratch = {0};
    float v;
    for (size_t k = 0; k < n; k += 997) {
        assert_int_equal(alcm_select_kth(x, NULL, n, k, &scratch, &v), ALCM_OK);
        assert_true(v == reference_kth(x, NULL, n, k));
    }
    assert_int_equal(alcm_select_kth(x, NULL, n, n, &scratch, &v), ALCM_E_ARG);
    alcm_buf_free(&scratch);
    free(x);
}

static void test_prune_respects_ratio_and_energy(void **state)
{
    (void)state;
    const size_t n = 40000;
    float *x = tu_synth(ALCM_SYNTH_LAPLACE, n, 200, 11);
    double total = 0;
    for (size_t i = 0; i < n; i++) total += (double)x[i] * x[i];
    alcm_buf scratch = {0};
    alcm_prune pr;
    assert_int_equal(alcm_select_prune(x, NULL, n, 0.0, total, &scratch, &pr), ALCM_OK);
    assert_int_equal(pr.count, 0);
    assert_true(pr.threshold == 0.0f);

    assert_int_equal(alcm_select_prune(x, NULL, n, 0.25, total, &scratch, &pr), ALCM_OK);
    assert_true(pr.count <= n / 4 && pr.count >= n / 4 - 5);
    double e = 0;
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) < pr.threshold) {
            c++;
            e += (double)x[i] * x[i];
        }
    assert_int_equal(c, pr.count);
    assert_true(fabs(e - pr.energy) <= 1e-9 * total);

    /* A tight energy cap halves k until the pruned energy fits. */
    double cap = pr.energy / 20;
    alcm_prune small;
    assert_int_equal(alcm_select_prune(x, NULL, n, 0.25, cap, &scratch, &small), ALCM_OK);
    assert_true(small.energy <= cap);
    assert_true(small.count < pr.count / 2);
    assert_true(small.count > 0);
    alcm_buf_free(&scratch);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kth_matches_sort),
        cmocka_unit_test(test_kth_many_equal_values),
        cmocka_unit_test(test_prune_respects_ratio_and_energy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
