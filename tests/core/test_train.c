/* test_train.c - offline predictor training: argument checks, the held-out split, loss
 * decrease on a learnable target, bit-identical determinism and a small real corpus. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alcm_tools.h"

#define F ALCM_N_FEATURES

/* n samples with a smooth target the 6-64-1 model can represent. */
static void make_problem(size_t n, float **feat, float **targ)
{
    float *f = malloc(n * F * sizeof *f), *t = malloc(n * sizeof *t);
    assert_non_null(f);
    assert_non_null(t);
    alcm_rng r;
    alcm_rng_seed(&r, 77);
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < F; k++) f[i * F + k] = (float)(2.0 * alcm_rng_uniform(&r) - 1.0);
        double z = 1.5 * f[i * F + 0] - 2.0 * fabs((double)f[i * F + 5]) + 0.5 * f[i * F + 3];
        t[i] = (float)(0.2 + 0.7 / (1.0 + exp(-z)));
    }
    *feat = f;
    *targ = t;
}

static void test_config_and_argument_checks(void **state)
{
    (void)state;
    alcm_train_config c;
    alcm_train_config_default(&c);
    assert_int_equal(c.seed, 42);
    assert_int_equal(c.epochs, 10);
    assert_int_equal(c.batch, 32);
    assert_true(c.learning_rate == 0.001 && c.holdout == 0.2);
    float *f, *t;
    make_problem(100, &f, &t);
    alcm_predictor m;
    assert_int_equal(alcm_train(NULL, t, 100, &c, &m, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_train(f, t, 1, &c, &m, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_train(f, t, 100, &c, NULL, NULL), ALCM_E_ARG);
    alcm_train_config bad = c;
    bad.epochs = 0;
    assert_int_equal(alcm_train(f, t, 100, &bad, &m, NULL), ALCM_E_ARG);
    bad = c;
    bad.holdout = 1.0;
    assert_int_equal(alcm_train(f, t, 100, &bad, &m, NULL), ALCM_E_ARG);
    bad = c;
    bad.learning_rate = -1;
    assert_int_equal(alcm_train(f, t, 100, &bad, &m, NULL), ALCM_E_ARG);
    bad = c;
    bad.batch = 0;
    assert_int_equal(alcm_train(f, t, 100, &bad, &m, NULL), ALCM_E_ARG);
    f[17] = NAN;
    assert_int_equal(alcm_train(f, t, 100, &c, &m, NULL), ALCM_E_ARG);
    free(f);
    free(t);
}

/* The split holds out floor(holdout * n); the loss falls epoch by epoch to a small value
 * on a learnable target, and the held-out loss follows. */
static void test_loss_decreases_and_generalises(void **state)
{
    (void)state;
    const size_t n = 2000;
    float *f, *t;
    make_problem(n, &f, &t);
    alcm_train_config c;
    alcm_train_config_default(&c);
    c.epochs = 30;
    alcm_predictor m;
    alcm_train_report rep;
    assert_int_equal(alcm_train(f, t, n, &c, &m, &rep), ALCM_OK);
    assert_int_equal(rep.n_holdout, 400);
    assert_int_equal(rep.n_train, 1600);
    assert_true(rep.train_loss[29] < rep.train_loss[0] * 0.5);
    assert_true(rep.train_loss[29] < rep.train_loss[9]);
    assert_true(rep.train_loss[29] < 1e-3);
    assert_true(rep.holdout_loss < 2e-3);
    /* the report's held-out loss is that of the returned float model */
    double var = 0, mean = 0;
    for (size_t i = 0; i < n; i++) mean += t[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) var += (t[i] - mean) * (t[i] - mean);
    var /= (double)n;
    assert_true(rep.holdout_loss < 0.1 * var);
    free(f);
    free(t);
}

static void test_training_is_deterministic(void **state)
{
    (void)state;
    const size_t n = 500;
    float *f, *t;
    make_problem(n, &f, &t);
    alcm_train_config c;
    alcm_train_config_default(&c);
    c.epochs = 3;
    alcm_predictor a, b, d;
    alcm_train_report ra, rb, rd;
    assert_int_equal(alcm_train(f, t, n, &c, &a, &ra), ALCM_OK);
    assert_int_equal(alcm_train(f, t, n, &c, &b, &rb), ALCM_OK);
    assert_memory_equal(&a, &b, sizeof a);
    assert_memory_equal(&ra, &rb, sizeof ra);
    c.seed = 43;
    assert_int_equal(alcm_train(f, t, n, &c, &d, &rd), ALCM_OK);
    assert_memory_not_equal(&a, &d, sizeof a);
    /* NULL config means the defaults */
    c.seed = 42;
    c.epochs = 10;
    assert_int_equal(alcm_train(f, t, n, &c, &a, NULL), ALCM_OK);
    assert_int_equal(alcm_train(f, t, n, NULL, &b, NULL), ALCM_OK);
    assert_memory_equal(&a, &b, sizeof a);
    /* no holdout: the held-out loss is NaN, every sample trains */
    c.holdout = 0;
    assert_int_equal(alcm_train(f, t, n, &c, &a, &ra), ALCM_OK);
    assert_int_equal(ra.n_train, n);
    assert_true(isnan(ra.holdout_loss));
    free(f);
    free(t);
}

/* A small real corpus (synthetic channels of three families, features and measured
 * entropy) trains to a held-out MSE below 0.01, the bar `alcm-bench train` applies. */
static void test_small_corpus_reaches_the_bar(void **state)
{
    (void)state;
    const alcm_synth_family fams[3] = {ALCM_SYNTH_GAUSSIAN, ALCM_SYNTH_SPARSE,
                                       ALCM_SYNTH_GRADIENT};
    const size_t len = 512, rows = 300, n = 3 * rows;
    float *x = malloc(rows * len * sizeof *x);
    float *f = malloc(n * F * sizeof *f), *t = malloc(n * sizeof *t);
    assert_non_null(x);
    assert_non_null(f);
    assert_non_null(t);
    alcm_rng r;
    alcm_rng_seed(&r, 5);
    size_t k = 0;
    for (int q = 0; q < 3; q++) {
        alcm_synth_fill(&r, fams[q], x, rows * len, len);
        for (size_t i = 0; i < rows; i++, k++) {
            alcm_stats s;
            alcm_stats_compute(x + i * len, len, &s);
            alcm_features(&s, f + k * F);
            t[k] = alcm_measured_entropy(x + i * len, len, &s);
        }
    }
    alcm_train_config c;
    alcm_train_config_default(&c);
    c.epochs = 40;
    alcm_predictor m;
    alcm_train_report rep;
    assert_int_equal(alcm_train(f, t, n, &c, &m, &rep), ALCM_OK);
    assert_true(rep.holdout_loss < 0.01);
    assert_true(rep.train_loss[39] < rep.train_loss[0]);
    free(x);
    free(f);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_and_argument_checks),
        cmocka_unit_test(test_loss_decreases_and_generalises),
        cmocka_unit_test(test_training_is_deterministic),
        cmocka_unit_test(test_small_corpus_reaches_the_bar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
