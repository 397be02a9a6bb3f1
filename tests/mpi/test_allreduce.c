/* test_allreduce.c - alcm_mpi_allreduce under mpirun, on both compressed paths (allgather
 * and rsag) and the planner's: identical bits, budget, error feedback, the safe preset's
 * result bound, bytes received, pass-through, MPI_IN_PLACE, segments, fallback on a bad
 * input. Every assertion is made collective (an MPI_MIN over the ranks), so all ranks fail
 * together and none hangs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mpi.h>

#include "alcm_mpi.h"
#include "alcm_tools.h"
#include "mpitest.h"

/* Rank r's input at a step: a synthetic gradient of n floats, reproducible on any rank. */
static void fill_input(float *x, size_t n, int r, uint64_t step, uint64_t seed)
{
    alcm_rng rng;
    alcm_rng_seed(&rng, seed * 1000003u + (uint64_t)r * 7919u + step);
    alcm_synth_fill(&rng, ALCM_SYNTH_GRADIENT, x, n, 256);
}

/* Exact sum over every rank's input (double), and the sum of the inputs' L2 norms. */
static void exact_sum(double *s, size_t n, int size, uint64_t step, uint64_t seed,
                      double *norm_sum)
{
    float *x = mt_malloc(n * sizeof *x);
    memset(s, 0, n * sizeof *s);
    *norm_sum = 0;
    for (int r = 0; r < size; r++) {
        fill_input(x, n, r, step, seed);
        double sq = 0;
        for (size_t i = 0; i < n; i++) {
            s[i] += x[i];
            sq += (double)x[i] * x[i];
        }
        *norm_sum += sqrt(sq);
    }
    free(x);
}

static double l2_diff(const float *a, const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(d);
}

static double l2d(const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) d += b[i] * b[i];
    return sqrt(d);
}

static const alcm_mpi_path compressed_paths[2] = {ALCM_MPI_PATH_ALLGATHER, ALCM_MPI_PATH_RSAG};

/* The training preset on a forced path with the given per-rank budget. */
static void training(alcm_mpi_options *o, alcm_mpi_path path, double budget, uint32_t tag)
{
    assert_int_equal(alcm_mpi_options_preset(o, ALCM_MPI_TRAINING), MPI_SUCCESS);
    o->path = path;
    o->error_budget = budget;
    o->tag = tag;
}

/* Error bound of one call without residuals: each rank's pieces within budget of their
 * norm, and on rsag the owners' re-encode within its budget (1.5 x, at most 1) of the shard
 * sums, which are within budget of the exact ones. */
static double first_step_bound(alcm_mpi_path path, double budget, double norms,
                               double sum_norm)
{
    double owner = 1.5 * budget < 1.0 ? 1.5 * budget : 1.0;
    double e = budget * norms;
    if (path == ALCM_MPI_PATH_RSAG) e += owner * (sum_norm + e);
    return e * 1.0001 + 1e-6;
}

/* Every rank gets the same bits, step after step, and each step is within the budget of
 * the exact sum on the first step (no residual yet). */
static void test_identical_and_within_budget(void **state)
{
    (void)state;
    const size_t n = 50000;
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y);
    double *s = mt_malloc(n * sizeof *s);
    double budgets[3] = {0.01, 0.1, 0.5};
    for (int k = 0; k < 6; k++) {
        int b = k % 3;
        alcm_mpi_path path = compressed_paths[k / 3];
        alcm_mpi_options o;
        training(&o, path, budgets[b], 100 + (uint32_t)k);
        alcm_mpi_stats before, after;
        alcm_mpi_get_stats(&before);
        for (uint64_t step = 0; step < 6; step++) {
            fill_input(x, n, mt_rank(), step, 11);
            assert_int_equal(mt_all(alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM,
                                                       MPI_COMM_WORLD, &o) == MPI_SUCCESS),
                             1);
            assert_int_equal(mt_same_bits(y, n * sizeof *y), 1);
            if (step == 0) {
                double norms;
                exact_sum(s, n, mt_size(), step, 11, &norms);
                double err = l2_diff(y, s, n);
                /* Each rank's decoded tensor is within budget * ||x_r||; float summation
                 * adds a rounding term far below it. */
                assert_true(mt_all(err <= first_step_bound(path, budgets[b], norms,
                                                           l2d(s, n))));
                /* And the error is not zero: the data really went through the codec. */
                assert_true(mt_all(err > 0));
            }
        }
        alcm_mpi_get_stats(&after);
        assert_true(mt_all(after.path_segments[path] == before.path_segments[path] + 6));
        assert_true(mt_all(after.fallbacks == before.fallbacks));
    }
    free(x);
    free(y);
    free(s);
}

/* Error feedback: with the same input every step, the sum of the outputs tracks the sum of
 * the exact sums within the residuals' bound; without it the error grows with the steps. */
static double accumulated_error(alcm_mpi_path path, int error_feedback, uint32_t tag,
                                size_t n, int steps, double *norms_out)
{
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y);
    double *s = mt_malloc(n * sizeof *s), *acc = mt_malloc(n * sizeof *acc);
    memset(acc, 0, n * sizeof *acc);
    alcm_mpi_options o;
    training(&o, path, 0.5, tag);
    o.shard_budget = 0.5;
    o.error_feedback = error_feedback;
    fill_input(x, n, mt_rank(), 0, 23);
    for (int t = 0; t < steps; t++) {
        assert_int_equal(
            alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o),
            MPI_SUCCESS);
        for (size_t i = 0; i < n; i++) acc[i] += y[i];
    }
    exact_sum(s, n, mt_size(), 0, 23, norms_out);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double e = acc[i] - steps * s[i];
        d += e * e;
    }
    free(x);
    free(y);
    free(s);
    free(acc);
    return sqrt(d);
}

static void test_error_feedback(void **state)
{
    (void)state;
    const size_t n = 20000;
    const int steps = 30;
    for (int k = 0; k < 2; k++) {
        double norms;
        double with_ef = accumulated_error(compressed_paths[k], 1, 200 + 2 * k, n, steps, &norms);
        double without = accumulated_error(compressed_paths[k], 0, 201 + 2 * k, n, steps, &norms);
        /* Residual bound: ||r_r|| <= eps ||x_r|| / (1 - eps) = ||x_r|| at eps = 0.5, for
         * every rank's pieces; on rsag the owners' residuals add at most as much again. */
        double bound = compressed_paths[k] == ALCM_MPI_PATH_RSAG ? 2.0 : 1.0;
        assert_true(mt_all(with_ef <= bound * norms * 1.001));
        assert_true(mt_all(without > 3.0 * with_ef));
    }
}

static void user_sum(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const float *a = in;
    float *b = inout;
    for (int i = 0; i < *len; i++) b[i] += a[i];
}

/* Calls the hook does not compress give exactly what PMPI_Allreduce gives. */
static void test_pass_through(void **state)
{
    (void)state;
    const int n = 3000;
    int *ia = mt_malloc(n * sizeof *ia), *ib = mt_malloc(n * sizeof *ib),
        *ic = mt_malloc(n * sizeof *ic);
    double *da = mt_malloc(n * sizeof *da), *db = mt_malloc(n * sizeof *db),
           *dc = mt_malloc(n * sizeof *dc);
    float *fa = mt_malloc(n * sizeof *fa), *fb = mt_malloc(n * sizeof *fb),
          *fc = mt_malloc(n * sizeof *fc);
    for (int i = 0; i < n; i++) {
        ia[i] = (i * 7919 + mt_rank() * 31) % 1000 - 500;
        da[i] = sin(i + mt_rank());
    }
    fill_input(fa, (size_t)n, mt_rank(), 0, 31);
    alcm_mpi_options o;
    alcm_mpi_options_default(&o);
    alcm_mpi_stats st;
    alcm_mpi_get_stats(&st);
    const uint64_t before = st.intercepted;

    /* int sum */
    assert_int_equal(alcm_mpi_allreduce(ia, ib, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &o),
                     MPI_SUCCESS);
    PMPI_Allreduce(ia, ic, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    assert_true(mt_all(memcmp(ib, ic, n * sizeof *ib) == 0));
    /* double sum */
    alcm_mpi_allreduce(da, db, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &o);
    PMPI_Allreduce(da, dc, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    assert_true(mt_all(memcmp(db, dc, n * sizeof *db) == 0));
    /* float max, float prod */
    alcm_mpi_allreduce(fa, fb, n, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD, &o);
    PMPI_Allreduce(fa, fc, n, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
    assert_true(mt_all(memcmp(fb, fc, n * sizeof *fb) == 0));
    /* float sum below min_bytes */
    o.min_bytes = (size_t)n * sizeof(float) + 1;
    alcm_mpi_allreduce(fa, fb, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o);
    PMPI_Allreduce(fa, fc, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    assert_true(mt_all(memcmp(fb, fc, n * sizeof *fb) == 0));
    /* a user-defined sum of floats */
    MPI_Op mysum;
    MPI_Op_create(user_sum, 1, &mysum);
    o.min_bytes = 0;
    alcm_mpi_allreduce(fa, fb, n, MPI_FLOAT, mysum, MPI_COMM_WORLD, &o);
    PMPI_Allreduce(fa, fc, n, MPI_FLOAT, mysum, MPI_COMM_WORLD);
    assert_true(mt_all(memcmp(fb, fc, n * sizeof *fb) == 0));
    MPI_Op_free(&mysum);
    /* a one-rank communicator */
    alcm_mpi_allreduce(fa, fb, n, MPI_FLOAT, MPI_SUM, MPI_COMM_SELF, &o);
    assert_true(mt_all(memcmp(fa, fb, n * sizeof *fb) == 0));
    /* invalid options: MPI_ERR_ARG, and still the plain sum */
    o.error_budget = 2.0;
    assert_true(mt_all(alcm_mpi_allreduce(fa, fb, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o) ==
                       MPI_ERR_ARG));
    PMPI_Allreduce(fa, fc, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    assert_true(mt_all(memcmp(fb, fc, n * sizeof *fb) == 0));

    alcm_mpi_get_stats(&st);
    /* none of the above took the compressed path */
    assert_true(mt_all(before == st.intercepted));
    free(ia), free(ib), free(ic), free(da), free(db), free(dc), free(fa), free(fb), free(fc);
}

/* MPI_IN_PLACE gives the same bits as separate buffers for the same stream history. */
static void test_in_place(void **state)
{
    (void)state;
    const size_t n = 30000;
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y),
          *z = mt_malloc(n * sizeof *z);
    for (int k = 0; k < 3; k++) {
    alcm_mpi_options a, b;
    if (k < 2) training(&a, compressed_paths[k], 0.3, 300 + 2 * (uint32_t)k);
    else {
        alcm_mpi_options_default(&a); /* safe (a forced path: both calls must take it) */
        a.path = ALCM_MPI_PATH_RSAG;
        a.tag = 304;
    }
    b = a;
    b.tag = a.tag + 1;
    for (uint64_t step = 0; step < 5; step++) {
        fill_input(x, n, mt_rank(), step, 41);
        memcpy(z, x, n * sizeof *x);
        assert_int_equal(alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                                            &a),
                         MPI_SUCCESS);
        assert_int_equal(alcm_mpi_allreduce(MPI_IN_PLACE, z, (int)n, MPI_FLOAT, MPI_SUM,
                                            MPI_COMM_WORLD, &b),
                         MPI_SUCCESS);
        assert_true(mt_all(memcmp(y, z, n * sizeof *y) == 0));
        assert_int_equal(mt_same_bits(z, n * sizeof *z), 1);
    }
    }
    free(x);
    free(y);
    free(z);
}

/* Calls longer than a segment are cut into blobs; tiny calls work too. */
static void test_segments_and_sizes(void **state)
{
    (void)state;
    const size_t sizes[5] = {1, 7, 4096, 4096 * 3 + 17, 4096 * 10 + 123};
    for (int j = 0; j < 10; j++) {
        int k = j % 5;
        alcm_mpi_path path = compressed_paths[j / 5];
        size_t n = sizes[k];
        float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y);
        double *s = mt_malloc(n * sizeof *s);
        alcm_mpi_options o;
        training(&o, path, 0.2, 400 + (uint32_t)j);
        o.segment_elems = 4096 * 3;
        fill_input(x, n, mt_rank(), 0, 53 + (uint64_t)k);
        alcm_mpi_stats before, after;
        alcm_mpi_get_stats(&before);
        assert_int_equal(
            alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o),
            MPI_SUCCESS);
        alcm_mpi_get_stats(&after);
        assert_true(mt_all(after.intercepted == before.intercepted + 1));
        size_t segs = (n + o.segment_elems - 1) / o.segment_elems;
        assert_true(mt_all(after.local_steps + after.daemon_steps ==
                           before.local_steps + before.daemon_steps + segs));
        assert_int_equal(mt_same_bits(y, n * sizeof *y), 1);
        double norms;
        exact_sum(s, n, mt_size(), 0, 53 + (uint64_t)k, &norms);
        assert_true(mt_all(l2_diff(y, s, n) <= first_step_bound(path, 0.2, norms, l2d(s, n))));
        free(x);
        free(y);
        free(s);
    }
}

/* A rank with NaN in its buffer cannot encode: every rank falls back to PMPI_Allreduce for
 * that call (same bits as plain MPI), and the next call is compressed again. */
static void test_nonfinite_fallback(void **state)
{
    (void)state;
    const size_t n = 20000;
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y),
          *z = mt_malloc(n * sizeof *z);
    for (int k = 0; k < 2; k++) {
    alcm_mpi_options o;
    training(&o, compressed_paths[k], 0.3, 500 + (uint32_t)k);
    fill_input(x, n, mt_rank(), 0, 61);
    if (mt_rank() == mt_size() - 1) x[1234] = NAN;
    alcm_mpi_stats before, after;
    alcm_mpi_get_stats(&before);
    assert_int_equal(alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o),
                     MPI_SUCCESS);
    PMPI_Allreduce(x, z, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    assert_true(mt_all(memcmp(y, z, n * sizeof *y) == 0));
    assert_true(mt_all(isnan(y[1234]) && isfinite(y[0])));
    alcm_mpi_get_stats(&after);
    assert_true(mt_all(after.fallbacks == before.fallbacks + 1));
    x[1234] = 0.0f;
    alcm_mpi_get_stats(&before);
    assert_int_equal(alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o),
                     MPI_SUCCESS);
    alcm_mpi_get_stats(&after);
    assert_true(mt_all(after.fallbacks == before.fallbacks));
    assert_true(mt_all(after.sent_bytes - before.sent_bytes < n * sizeof(float)));
    }
    free(x);
    free(y);
    free(z);
}

/* The safe preset: every result within 1 % of the exact sum, bit-identical, on every path
 * and on the planner's; inputs that cancel out (so no budget per rank can prove the bound
 * cheaply) are redone plainly, still within 1 %. */
static void test_safe_result_bound(void **state)
{
    (void)state;
    const size_t n = 40000;
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y);
    double *s = mt_malloc(n * sizeof *s);
    const alcm_mpi_path paths[3] = {ALCM_MPI_PATH_ALLGATHER, ALCM_MPI_PATH_RSAG,
                                    ALCM_MPI_PATH_AUTO};
    for (int k = 0; k < 3; k++) {
        alcm_mpi_options o;
        alcm_mpi_options_default(&o);
        assert_int_equal(o.error_feedback, 0);
        assert_true(o.result_budget == 0.01);
        o.path = paths[k];
        o.tag = 600 + (uint32_t)k;
        alcm_mpi_stats before, after;
        alcm_mpi_get_stats(&before);
        for (uint64_t step = 0; step < 12; step++) {
            fill_input(x, n, mt_rank(), step, 81);
            assert_int_equal(mt_all(alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM,
                                                       MPI_COMM_WORLD, &o) == MPI_SUCCESS),
                             1);
            assert_int_equal(mt_same_bits(y, n * sizeof *y), 1);
            double norms;
            exact_sum(s, n, mt_size(), step, 81, &norms);
            assert_true(mt_all(l2_diff(y, s, n) <= 0.01 * l2d(s, n)));
        }
        alcm_mpi_get_stats(&after);
        if (paths[k] != ALCM_MPI_PATH_AUTO) {
            /* Compressed, not redone: the error budget was sized to pass. */
            assert_true(mt_all(after.path_segments[paths[k]] ==
                               before.path_segments[paths[k]] + 12));
            assert_true(mt_all(after.fallbacks - before.fallbacks <= 1));
            assert_true(mt_all(after.wire_recv_bytes - before.wire_recv_bytes <
                               12 * 2 * n * sizeof(float)));
        } else {
            /* The planner times every path first: plain, rsag, allgather, 3 calls each, or
             * 2 for a compressed path whose floor rules it out after its second. */
            for (int p = 0; p < 3; p++)
                assert_true(mt_all(after.path_segments[p] >= before.path_segments[p] +
                                                                  (p == 0 ? 3 : 2)));
        }
    }
    /* Cancelling inputs: rank r sends (-1)^r x with x common, plus a tiny private part, so
     * the exact sum is tiny against the inputs. */
    alcm_mpi_options o;
    alcm_mpi_options_default(&o);
    o.path = ALCM_MPI_PATH_RSAG;
    o.tag = 610;
    alcm_mpi_stats before, after;
    alcm_mpi_get_stats(&before);
    float *priv = mt_malloc(n * sizeof *priv);
    for (uint64_t step = 0; step < 3; step++) {
        fill_input(x, n, 0, step, 91);
        fill_input(priv, n, mt_rank() + 1, step, 92);
        float sign = mt_rank() % 2 ? -1.0f : 1.0f;
        for (size_t i = 0; i < n; i++) x[i] = sign * x[i] + 1e-3f * priv[i];
        assert_int_equal(
            alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o),
            MPI_SUCCESS);
        assert_int_equal(mt_same_bits(y, n * sizeof *y), 1);
        /* exact sum in double from every rank's input */
        float *all = mt_malloc(n * sizeof *all * (size_t)mt_size());
        MPI_Allgather(x, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, MPI_COMM_WORLD);
        for (size_t i = 0; i < n; i++) {
            s[i] = 0;
            for (int r = 0; r < mt_size(); r++) s[i] += all[(size_t)r * n + i];
        }
        free(all);
        assert_true(mt_all(l2_diff(y, s, n) <= 0.01 * l2d(s, n)));
    }
    alcm_mpi_get_stats(&after);
    assert_true(mt_all(after.verify_failures > before.verify_failures));
    free(priv);
    free(x);
    free(y);
    free(s);
}

/* The pipelined rsag (point-to-point, the default), the same with its pieces encoded on 3
 * threads, and the bulk one (alltoallv + allgatherv) give the same bits for the same
 * stream history, in place or not. */
static void test_pipelined_equals_bulk(void **state)
{
    (void)state;
    const size_t n = 60000 + 3;
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y),
          *z = mt_malloc(n * sizeof *z), *w = mt_malloc(n * sizeof *w);
    for (int safe = 0; safe < 2; safe++) {
        alcm_mpi_options a, b, c;
        if (safe) {
            alcm_mpi_options_default(&a);
            a.path = ALCM_MPI_PATH_RSAG;
        } else {
            training(&a, ALCM_MPI_PATH_RSAG, 0.3, 0);
        }
        a.tag = 800 + 2 * (uint32_t)safe;
        b = a;
        b.tag = a.tag + 1;
        b.pipeline = 0;
        c = a;
        c.tag = a.tag + 100;
        c.threads = 3;
        c.use_daemon = 0;
        assert_int_equal(a.pipeline, 1);
        assert_int_equal(a.threads, 1);
        for (uint64_t step = 0; step < 5; step++) {
            fill_input(x, n, mt_rank(), step, 103);
            memcpy(z, x, n * sizeof *x);
            assert_int_equal(
                alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &a),
                MPI_SUCCESS);
            assert_int_equal(alcm_mpi_allreduce(MPI_IN_PLACE, z, (int)n, MPI_FLOAT, MPI_SUM,
                                                MPI_COMM_WORLD, &b),
                             MPI_SUCCESS);
            assert_true(mt_all(memcmp(y, z, n * sizeof *y) == 0));
            assert_int_equal(mt_same_bits(y, n * sizeof *y), 1);
            assert_int_equal(
                alcm_mpi_allreduce(x, w, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &c),
                MPI_SUCCESS);
            assert_true(mt_all(memcmp(y, w, n * sizeof *y) == 0));
        }
    }
    free(x);
    free(y);
    free(z);
    free(w);
}

/* Bytes received: rsag takes in about 2 (p - 1)/p of a blob per rank, allgather (p - 1)
 * whole blobs; and the planner's choice is the same on every rank. */
static void test_rsag_receives_less(void **state)
{
    (void)state;
    const size_t n = 200000;
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y);
    uint64_t recv[2];
    for (int k = 0; k < 2; k++) {
        alcm_mpi_options o;
        training(&o, compressed_paths[k], 0.3, 700 + (uint32_t)k);
        alcm_mpi_stats before, after;
        alcm_mpi_get_stats(&before);
        for (uint64_t step = 0; step < 4; step++) {
            fill_input(x, n, mt_rank(), step, 97);
            assert_int_equal(
                alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o),
                MPI_SUCCESS);
        }
        alcm_mpi_get_stats(&after);
        recv[k] = after.wire_recv_bytes - before.wire_recv_bytes;
        assert_true(mt_all(after.wire_sent_bytes > before.wire_sent_bytes));
        assert_true(mt_all(after.seconds > before.seconds));
    }
    double p = mt_size();
    double ratio = (double)recv[1] / (double)recv[0];
    if (mt_rank() == 0)
        printf("bytes received per rank: allgather %llu rsag %llu\n",
               (unsigned long long)recv[0], (unsigned long long)recv[1]);
    /* 2/p for equal ratios; the shard sums of independent inputs are closer to gaussian and
     * compress less than one rank's tensor at the same relative error: at most 2.8/p. */
    assert_true(mt_all(ratio <= 2.8 / p));
    if (mt_rank() == 0)
        printf("rsag/allgather bytes received per rank at p=%d: %.3f\n", mt_size(), ratio);
    free(x);
    free(y);
}

/* Sub-communicators get their own streams; freeing one frees its state. */
static void test_sub_communicator(void **state)
{
    (void)state;
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, mt_rank() % 2, mt_rank(), &half);
    int hsize, hrank;
    MPI_Comm_size(half, &hsize);
    MPI_Comm_rank(half, &hrank);
    const size_t n = 10000;
    float *x = mt_malloc(n * sizeof *x), *y = mt_malloc(n * sizeof *y),
          *g = mt_malloc(n * sizeof *g * (size_t)hsize);
    fill_input(x, n, mt_rank(), 0, 71);
    assert_int_equal(alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, half, NULL),
                     MPI_SUCCESS);
    /* Same bits on every rank of the half. */
    MPI_Allgather(y, (int)n, MPI_FLOAT, g, (int)n, MPI_FLOAT, half);
    int same = 1;
    for (int r = 1; r < hsize; r++)
        if (memcmp(g, g + (size_t)r * n, n * sizeof *g) != 0) same = 0;
    assert_true(mt_all(same));
    MPI_Comm_free(&half);
    free(x);
    free(y);
    free(g);
}

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_and_within_budget),
        cmocka_unit_test(test_error_feedback),
        cmocka_unit_test(test_pass_through),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_segments_and_sizes),
        cmocka_unit_test(test_nonfinite_fallback),
        cmocka_unit_test(test_sub_communicator),
        cmocka_unit_test(test_safe_result_bound),
        cmocka_unit_test(test_pipelined_equals_bulk),
        cmocka_unit_test(test_rsag_receives_less),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return mt_finish(failed);
}
