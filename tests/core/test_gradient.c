/* test_gradient.c - the gradient profile end to end (gradient_enc.c, gradient_dec.c,
 * gradient_params.c, quant.c): error budget, residual, determinism, special tensors. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"
#include "bytes.h"
#include "ctx.h"
#include "gradient.h"
#include "testutil.h"

typedef struct {
    alcm_cctx *cx;
    alcm_dctx *dx;
} ctxs;

static int setup(void **state)
{
    ctxs *c = malloc(sizeof *c);
    c->cx = alcm_cctx_create();
    c->dx = alcm_dctx_create();
    *state = c;
    return c->cx && c->dx ? 0 : -1;
}

static int teardown(void **state)
{
    ctxs *c = *state;
    alcm_cctx_free(c->cx);
    alcm_dctx_free(c->dx);
    free(c);
    return 0;
}

static alcm_params grad_params(double budget)
{
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    p.error_budget = budget;
    return p;
}

/* Compresses x (shape sh) and decodes it into y; returns the blob length. */
static size_t roundtrip(ctxs *c, const alcm_params *p, const alcm_shape *sh, const float *x,
                        size_t n, float *residual, float *y, alcm_info *info)
{
    size_t cap = alcm_compress_bound(n * 4);
    uint8_t *blob = tu_malloc(cap);
    size_t len = 0, out = 0;
    assert_int_equal(alcm_compress(c->cx, p, sh, x, n * 4, residual, blob, cap, &len, info),
                     ALCM_OK);
    assert_int_equal(info->blob_bytes, len);
    assert_int_equal(alcm_decompress(c->dx, blob, len, y, n * 4, &out), ALCM_OK);
    assert_int_equal(out, n * 4);
    free(blob);
    return len;
}

static void test_budget_sweep_all_families(void **state)
{
    ctxs *c = *state;
    const double budgets[] = {1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 1.0};
    const size_t rows = 37, cols = 211, n = rows * cols;
    alcm_shape sh = {2, {rows, cols}};
    float *y = tu_malloc(n * 4);
    for (int fam = 0; fam < ALCM_SYNTH_COUNT; fam++) {
        float *x = tu_synth((alcm_synth_family)fam, n, cols, 100 + fam);
        double prev_len = 1e300;
        for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
            alcm_params p = grad_params(budgets[b]);
            alcm_info info;
            size_t len = roundtrip(c, &p, &sh, x, n, NULL, y, &info);
            double err = alcm_rel_l2_error(x, y, n);
            assert_true(err <= budgets[b]);
            if (!info.exact) assert_true(fabs(err - info.rel_l2_error) <= 1e-4 * budgets[b]);
            else assert_true(err == 0.0);
            assert_true((double)len <= prev_len * 1.02); /* a looser budget is not larger */
            prev_len = (double)len;
        }
        free(x);
    }
    free(y);
}

static void test_entropy_modes_and_knobs(void **state)
{
    ctxs *c = *state;
    const size_t n = 30000;
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 1000, 7), *y = tu_malloc(n * 4);
    for (int mode = 0; mode < 3; mode++) {   /* learned, measured, flat */
        alcm_params p = grad_params(0.02);
        p.entropy_mode = (alcm_entropy_mode)mode;
        p.block_size = 1000;
        alcm_info info;
        roundtrip(c, &p, &sh, x, n, NULL, y, &info);
        assert_true(alcm_rel_l2_error(x, y, n) <= 0.02);
        assert_int_equal(info.n_channels, 30);
        /* aggressiveness 0 spends half of the budget */
        p.aggressiveness = 0.0;
        roundtrip(c, &p, &sh, x, n, NULL, y, &info);
        assert_true(alcm_rel_l2_error(x, y, n) <= 0.01);
        /* pruning drops small values and still honours the budget */
        float *l = tu_synth(ALCM_SYNTH_LAPLACE, n, 1000, 8);
        p.aggressiveness = 1.0;
        p.prune_ratio = 0.25;
        p.error_budget = 0.1;
        roundtrip(c, &p, &sh, l, n, NULL, y, &info);
        assert_true(alcm_rel_l2_error(l, y, n) <= 0.1);
        assert_true(info.pruned_fraction > 0.1 && info.pruned_fraction <= 0.25);
        size_t zeros = 0;
        for (size_t i = 0; i < n; i++) zeros += y[i] == 0.0f;
        assert_true((double)zeros >= info.pruned_fraction * (double)n);
        free(l);
    }
    free(x);
    free(y);
}

/* The flat map (every channel the same entropy): a valid mode that holds the budget on
 * channels of different shape, and a map other than the learned one (another blob). */
static void test_flat_entropy_map(void **state)
{
    ctxs *c = *state;
    const size_t rows = 16, cols = 2000, n = rows * cols;
    alcm_shape sh = {2, {rows, cols}};
    float *g = tu_synth(ALCM_SYNTH_GAUSSIAN, n, cols, 21);
    float *l = tu_synth(ALCM_SYNTH_LAPLACE, n, cols, 22);
    float *x = tu_malloc(n * 4), *y = tu_malloc(n * 4);
    for (size_t r = 0; r < rows; r++)   /* alternate Gaussian and sparse-ish Laplace rows */
        for (size_t i = 0; i < cols; i++) {
            float v = (r % 2 ? l : g)[r * cols + i];
            x[r * cols + i] = r % 4 == 3 && i % 3 ? 0.0f : v * (float)(1 + r);
        }
    alcm_params p = grad_params(0.01);
    p.entropy_mode = ALCM_ENTROPY_FLAT;
    assert_int_equal(alcm_params_check(&p), ALCM_OK);
    p.entropy_mode = (alcm_entropy_mode)3;
    assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
    size_t len[3];
    for (int mode = 0; mode < 3; mode++) {
        p.entropy_mode = (alcm_entropy_mode)mode;
        alcm_info info;
        len[mode] = roundtrip(c, &p, &sh, x, n, NULL, y, &info);
        assert_true(alcm_rel_l2_error(x, y, n) <= 0.01);
        assert_int_equal(info.exact, 0);
        assert_int_equal(info.n_channels, rows);
    }
    assert_int_not_equal(len[ALCM_ENTROPY_FLAT], len[ALCM_ENTROPY_LEARNED]);
    free(g);
    free(l);
    free(x);
    free(y);
}

static void test_residual_semantics(void **state)
{
    ctxs *c = *state;
    const size_t n = 5000;
    alcm_shape sh = {2, {50, 100}};
    alcm_params p = grad_params(0.1);
    float *r = calloc(n, 4), *r0 = tu_malloc(n * 4), *y = tu_malloc(n * 4);
    double sum_x[5000] = {0}, sum_y[5000] = {0};
    for (int step = 0; step < 6; step++) {
        float *x = tu_synth(ALCM_SYNTH_LAPLACE, n, 100, 40 + step);
        memcpy(r0, r, n * 4);
        alcm_info info;
        roundtrip(c, &p, &sh, x, n, r, y, &info);
        for (size_t i = 0; i < n; i++) {
            float target = x[i] + r0[i];
            float expect = target - y[i];
            assert_memory_equal(&r[i], &expect, 4); /* r = (x + r_old) - decoded, exactly */
            sum_x[i] += x[i];
            sum_y[i] += y[i];
        }
        /* the budget applies to y = x + r_old */
        float *t = tu_malloc(n * 4);
        for (size_t i = 0; i < n; i++) t[i] = x[i] + r0[i];
        assert_true(alcm_rel_l2_error(t, y, n) <= 0.1);
        free(t);
        free(x);
    }
    /* error feedback: what was sent plus what is owed equals what was given */
    for (size_t i = 0; i < n; i++) assert_true(fabs(sum_x[i] - (sum_y[i] + r[i])) < 1e-4);
    free(r);
    free(r0);
    free(y);
}

static void test_deterministic_bytes(void **state)
{
    ctxs *c = *state;
    const size_t n = 64 * 300;
    alcm_shape sh = {3, {64, 20, 15}};
    float *x = tu_synth(ALCM_SYNTH_HEAVY, n, 300, 3);
    size_t cap = alcm_compress_bound(n * 4);
    uint8_t *a = tu_malloc(cap), *b = tu_malloc(cap);
    alcm_cctx *other = alcm_cctx_create();
    for (int prune = 0; prune < 2; prune++) {
        alcm_params p = grad_params(0.03);
        p.prune_ratio = prune ? 0.2 : 0.0;
        size_t la, lb;
        assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, NULL, a, cap, &la, NULL), ALCM_OK);
        assert_int_equal(alcm_compress(other, &p, &sh, x, n * 4, NULL, b, cap, &lb, NULL), ALCM_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, NULL, b, cap, &lb, NULL), ALCM_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
    }
    alcm_cctx_free(other);
    free(a);
    free(b);
    free(x);
}

/* A small encode packs the codes its measurement kept (and, with error feedback, updates
 * the residual from them); a context told to remake them quantises again while packing.
 * Both give the same blob and the same residual, for every family, budget and pruning,
 * with and without a residual (escapes and 16-bit codes included). */
static void test_kept_codes_match_remade(void **state)
{
    ctxs *c = *state;
    const size_t n = 96 * 250;
    alcm_shape sh = {2, {96, 250}};
    size_t cap = alcm_compress_bound(n * 4);
    uint8_t *a = tu_malloc(cap), *b = tu_malloc(cap);
    float *ra = tu_malloc(n * sizeof(float)), *rb = tu_malloc(n * sizeof(float));
    float *rn = tu_malloc(n * sizeof(float));
    alcm_cctx *remade = alcm_cctx_create();
    assert_non_null(remade);
    remade->remake_codes = 1;
    const double budgets[] = {0.001, 0.01, 0.05, 0.3};
    for (int f = 0; f < ALCM_SYNTH_COUNT; f++) {
        float *x = tu_synth((alcm_synth_family)f, n, 250, 11 + (uint64_t)f);
        float *r0 = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 250, 40 + (uint64_t)f);
        for (size_t i = 0; i < n; i++) r0[i] *= 0.01f * fabsf(x[i]);
        for (int k = 0; k < 4; k++) {
            for (int mode = 0; mode < 4; mode++) {
                alcm_params p = grad_params(budgets[k]);
                p.prune_ratio = mode & 1 ? 0.2 : 0.0;
                const int with_r = mode >> 1;
                memcpy(ra, r0, n * sizeof(float));
                memcpy(rb, r0, n * sizeof(float));
                size_t la = 0, lb = 0;
                assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, with_r ? ra : NULL, a,
                                               cap, &la, NULL),
                                 ALCM_OK);
                assert_int_equal(alcm_compress(remade, &p, &sh, x, n * 4, with_r ? rb : NULL, b,
                                               cap, &lb, NULL),
                                 ALCM_OK);
                assert_int_equal(la, lb);
                assert_memory_equal(a, b, la);
                assert_memory_equal(ra, rb, n * sizeof(float));
                if (!with_r) continue;
                /* A second residual buffer (the measurements write it; the codes made again
                 * update a copy): the same blob and new residual, the residual untouched. */
                for (int ctx = 0; ctx < 2; ctx++) {
                    memcpy(rb, r0, n * sizeof(float));
                    memset(rn, 0xff, n * sizeof(float)); /* NaNs: every element must be written */
                    assert_int_equal(alcm_compress_next(ctx ? remade : c->cx, &p, &sh, x, n * 4,
                                                        rb, rn, b, cap, &lb, NULL),
                                     ALCM_OK);
                    assert_int_equal(la, lb);
                    assert_memory_equal(a, b, la);
                    assert_memory_equal(ra, rn, n * sizeof(float));
                    assert_memory_equal(rb, r0, n * sizeof(float));
                }
            }
        }
        free(x);
        free(r0);
    }
    alcm_cctx_free(remade);
    free(ra);
    free(rb);
    free(rn);
    free(a);
    free(b);
}

/* The buffers of the second-buffer comparisons, for tensors of up to n elements (blobs up
 * to the bound of one segment boundary). */
typedef struct {
    float *ra, *rb, *rn; /* residual updated in place, passed to _next, second buffer */
    uint8_t *a, *b;      /* blobs of alcm_compress and alcm_compress_next */
    size_t cap;
} next_bufs;

static next_bufs next_bufs_alloc(size_t n)
{
    next_bufs w;
    w.cap = alcm_compress_bound_segments(n * 4, 1);
    w.ra = tu_malloc(n * 4);
    w.rb = tu_malloc(n * 4);
    w.rn = tu_malloc(n * 4);
    w.a = tu_malloc(w.cap);
    w.b = tu_malloc(w.cap);
    return w;
}

static void next_bufs_free(next_bufs *w)
{
    free(w->ra);
    free(w->rb);
    free(w->rn);
    free(w->a);
    free(w->b);
}

/* Encodes x with residual r0 by alcm_compress in place (into w->ra) and by
 * alcm_compress_next into w->rn (filled with NaNs first: every element must be written),
 * and checks that both give the same blob and new residual and that the residual passed to
 * alcm_compress_next is untouched. Returns the blob's size. */
static size_t check_next_matches(alcm_cctx *cx, const alcm_params *p, const alcm_shape *sh,
                                 const float *x, const float *r0, size_t n, next_bufs *w)
{
    size_t la = 0, lb = 0;
    memcpy(w->ra, r0, n * 4);
    memcpy(w->rb, r0, n * 4);
    assert_int_equal(alcm_compress(cx, p, sh, x, n * 4, w->ra, w->a, w->cap, &la, NULL), ALCM_OK);
    /* Then a dst below the worst case: the residual is written after the packing instead of
     * during it. */
    const size_t caps[2] = {w->cap, la + 4096};
    for (int k = 0; k < 2; k++) {
        memset(w->rn, 0xff, n * 4);
        assert_int_equal(alcm_compress_next(cx, p, sh, x, n * 4, w->rb, w->rn, w->b, caps[k],
                                            &lb, NULL),
                         ALCM_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(w->a, w->b, la);
        assert_memory_equal(w->ra, w->rn, n * 4);
        assert_memory_equal(w->rb, r0, n * 4);
    }
    return la;
}

/* A second residual buffer when some channels are zeroed (their new residual is x + r,
 * written apart from the measurements), when the tensor is stored losslessly (zero), when
 * the blob does not fit (the residual untouched) and with segments (each inner blob writes
 * its slice of the buffer). */
static void test_residual_next_cases(void **state)
{
    ctxs *c = *state;
    const size_t rows = 40, cols = 300, n = rows * cols;
    alcm_shape sh = {2, {rows, cols}};
    size_t la = 0, lb = 0;
    next_bufs w = next_bufs_alloc(n);
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, cols, 3);
    float *r0 = tu_synth(ALCM_SYNTH_GAUSSIAN, n, cols, 4);
    for (size_t i = 0; i < n; i++) {
        float scale = i / cols % 3 == 0 ? 1.0f : 1e-5f; /* two rows in three are tiny */
        x[i] *= scale;
        r0[i] *= 0.1f * scale;
    }
    alcm_params p = grad_params(0.05);
    alcm_info info;
    la = check_next_matches(c->cx, &p, &sh, x, r0, n, &w);
    /* the tiny rows were zeroed: their residual is x + r exactly */
    for (size_t i = cols; i < 2 * cols; i++) assert_true(w.rn[i] == x[i] + r0[i]);

    /* A blob that does not fit: an error, the residual untouched. */
    memset(w.rn, 0xff, n * 4);
    assert_int_equal(alcm_compress_next(c->cx, &p, &sh, x, n * 4, w.rb, w.rn, w.b, la / 2, &lb,
                                        NULL),
                     ALCM_E_DST_TOO_SMALL);
    assert_memory_equal(w.rb, r0, n * 4);

    /* Values near FLT_MAX cannot be quantised: stored losslessly, the new residual zero. */
    float big[1024], rbig[1024], rbig0[1024], nbig[1024];
    for (int i = 0; i < 1024; i++) {
        big[i] = (i % 2 ? -3.0e38f : 3.0e38f) * (1.0f - (float)i / 4096.0f);
        rbig[i] = rbig0[i] = (float)(i % 7) * 1e30f;
        nbig[i] = 1.0f;
    }
    alcm_shape s1;
    alcm_shape_1d(&s1, 1024);
    assert_int_equal(alcm_compress_next(c->cx, &p, &s1, big, sizeof big, rbig, nbig, w.b, w.cap,
                                        &lb, &info),
                     ALCM_OK);
    assert_int_equal(info.exact, 1);
    for (int i = 0; i < 1024; i++) assert_true(nbig[i] == 0.0f);
    assert_memory_equal(rbig, rbig0, sizeof rbig);

    /* Segments: each is an inner blob that writes its slice of the second buffer. */
    uint64_t seg[] = {5000};
    p.segments = seg;
    p.n_segments = 1;
    check_next_matches(c->cx, &p, &sh, x, r0, n, &w);
    free(x);
    free(r0);
    next_bufs_free(&w);
}

/* The pieces of a chunked tensor write their slices of the second buffer, from their
 * kept codes' measurements or, without kept codes (codes made again, or one blob of more
 * than 2^22 elements), in place of y = x + r, which the statistics write there: the same
 * blobs and residual as alcm_compress in place, with one and two threads, with pruning,
 * zeroed channels (their new residual is y) and a piece stored losslessly (zero); the
 * residual untouched when a later piece is not finite or the blob does not fit. */
static void test_residual_next_y_given(void **state)
{
    ctxs *c = *state;
    const size_t rows = 1100, cols = 4000, n = rows * cols; /* > 2^22: two chunks */
    alcm_shape sh = {2, {rows, cols}};
    size_t lb = 0;
    next_bufs w = next_bufs_alloc(n);
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, cols, 5);
    float *r0 = tu_synth(ALCM_SYNTH_GAUSSIAN, n, cols, 6);
    for (size_t i = 0; i < n; i++) {
        float scale = i / cols % 5 == 1 ? 1e-6f : 1.0f; /* one row in five is tiny */
        x[i] *= scale;
        r0[i] *= 0.01f * scale;
    }
    alcm_cctx *cx = alcm_cctx_create(), *remade = alcm_cctx_create();
    assert_non_null(cx);
    assert_non_null(remade);
    remade->remake_codes = 1;
    for (unsigned threads = 1; threads <= 2; threads++) {
        for (int k = 0; k < 2; k++) {
            alcm_cctx *ctx = k ? remade : cx;
            assert_int_equal(alcm_cctx_set_threads(ctx, threads), ALCM_OK);
            for (int prune = 0; prune < 2; prune++) {
                alcm_params p = grad_params(0.01);
                p.prune_ratio = prune ? 0.1 : 0.0;
                check_next_matches(ctx, &p, &sh, x, r0, n, &w);
                for (size_t i = cols; i < 2 * cols; i++) assert_true(w.rn[i] == x[i] + r0[i]);
            }
        }
    }
    alcm_params p = grad_params(0.01);

    /* A large budget with strong pruning: calibration zeroes channels that the first
     * measurement wrote the residual of (on this Gaussian tensor of 1.2 M elements, from a
     * zero residual), and they must get y again. */
    {
        const size_t n2 = 1200 * 1000;
        alcm_shape s2 = {2, {1200, 1000}};
        float *g = tu_synth(ALCM_SYNTH_GAUSSIAN, n2, 1000, 100), *z = calloc(n2, 4);
        alcm_params q = grad_params(0.6);
        q.prune_ratio = 0.25;
        check_next_matches(c->cx, &q, &s2, g, z, n2, &w);
        free(g);
        free(z);
    }

    /* One row of 4.4 M elements: one channel, so one blob, too large to keep its codes. */
    alcm_shape s1 = {2, {1, n}};
    check_next_matches(c->cx, &p, &s1, x, r0, n, &w);

    /* A later piece that is not finite, a blob that does not fit: errors, the residual
     * untouched. */
    float keep = x[n - 1];
    x[n - 1] = NAN;
    memcpy(w.rb, r0, n * 4);
    assert_int_equal(alcm_compress_next(cx, &p, &sh, x, n * 4, w.rb, w.rn, w.b, w.cap, &lb, NULL),
                     ALCM_E_NONFINITE);
    assert_memory_equal(w.rb, r0, n * 4);
    x[n - 1] = keep;
    assert_int_equal(alcm_compress_next(cx, &p, &sh, x, n * 4, w.rb, w.rn, w.b, w.cap / 20, &lb,
                                        NULL),
                     ALCM_E_DST_TOO_SMALL);
    assert_memory_equal(w.rb, r0, n * 4);

    /* Values near FLT_MAX in the second chunk cannot be quantised: that piece is stored
     * losslessly and its new residual is zero. */
    for (size_t i = n / 2 + cols; i < n; i++) {
        x[i] = (i % 2 ? -3.0e38f : 3.0e38f) * (1.0f - (float)(i % 4096) / 8192.0f);
        r0[i] = 0.0f;
    }
    for (int k = 0; k < 2; k++) {
        check_next_matches(k ? remade : cx, &p, &sh, x, r0, n, &w);
        for (size_t i = n - cols; i < n; i++) assert_true(w.rn[i] == 0.0f);
    }
    alcm_cctx_free(cx);
    alcm_cctx_free(remade);
    free(x);
    free(r0);
    next_bufs_free(&w);
}

static void test_special_tensors(void **state)
{
    ctxs *c = *state;
    alcm_params p = grad_params(0.01);
    alcm_info info;
    float y[4096];
    alcm_shape sh;
    /* empty */
    alcm_shape_1d(&sh, 0);
    uint8_t blob[8192];
    size_t len, out = 99;
    assert_int_equal(alcm_compress(c->cx, &p, &sh, NULL, 0, NULL, blob, sizeof blob, &len, &info),
                     ALCM_OK);
    assert_int_equal(alcm_decompress(c->dx, blob, len, y, 0, &out), ALCM_OK);
    assert_int_equal(out, 0);
    /* one element, rank 0 */
    alcm_shape s0 = {0, {0}};
    float one = -3.25f;
    roundtrip(c, &p, &s0, &one, 1, NULL, y, &info);
    assert_true(fabsf(y[0] - one) <= 0.01f * 3.25f);
    /* all zero: exact zeros, no lossless fallback needed */
    float z[4096] = {0};
    alcm_shape_1d(&sh, 4096);
    len = roundtrip(c, &p, &sh, z, 4096, NULL, y, &info);
    for (int i = 0; i < 4096; i++) assert_true(y[i] == 0.0f);
    assert_int_equal(info.exact, 0);
    assert_true(len < 104);
    /* constant */
    float k[4096];
    for (int i = 0; i < 4096; i++) k[i] = 0.7f;
    roundtrip(c, &p, &sh, k, 4096, NULL, y, &info);
    assert_true(alcm_rel_l2_error(k, y, 4096) <= 0.01);
    /* huge dynamic range */
    for (int i = 0; i < 4096; i++) k[i] = (float)((i % 2 ? 1 : -1) * pow(10.0, (i % 61) - 30));
    roundtrip(c, &p, &sh, k, 4096, NULL, y, &info);
    assert_true(alcm_rel_l2_error(k, y, 4096) <= 0.01);
    /* only denormals: stored losslessly, exactly */
    for (int i = 0; i < 4096; i++) k[i] = (float)(i - 2048) * 1e-42f;
    roundtrip(c, &p, &sh, k, 4096, NULL, y, &info);
    assert_int_equal(info.exact, 1);
    assert_memory_equal(k, y, sizeof k);
    /* values near FLT_MAX cannot be quantised within the level limit: exact */
    for (int i = 0; i < 4096; i++) k[i] = (i % 3 - 1) * 3.3e38f;
    roundtrip(c, &p, &sh, k, 4096, NULL, y, &info);
    assert_int_equal(info.exact, 1);
    assert_memory_equal(k, y, sizeof k);
}

static void test_nonfinite_rejected(void **state)
{
    ctxs *c = *state;
    alcm_params p = grad_params(0.01);
    const size_t n = 1003; /* not a multiple of 8: the kernels' scalar tails run */
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 100, 1);
    float *r = calloc(n, 4);
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    size_t cap = alcm_compress_bound(n * 4), len = 5;
    uint8_t *blob = tu_malloc(cap);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        float keep = x[777];
        x[777] = bad[k];
        r[3] = 0.5f;
        assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, r, blob, cap, &len, NULL),
                         ALCM_E_NONFINITE);
        assert_int_equal(len, 0);
        assert_true(r[3] == 0.5f); /* the residual is untouched on error */
        x[777] = keep;
    }
    /* Every position (the vector body and the scalar tail of a channel), either sign of
     * NaN, with and without a residual; +inf and -inf together (their sum is NaN). */
    const size_t where[] = {0, 500, n - 1};
    const float worse[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++)
        for (size_t k = 0; k < sizeof worse / sizeof worse[0]; k++)
            for (int with_r = 0; with_r < 2; with_r++) {
                size_t at = where[w];
                float keep = x[at];
                x[at] = worse[k];
                assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, with_r ? r : NULL,
                                               blob, cap, &len, NULL),
                                 ALCM_E_NONFINITE);
                x[at] = keep;
            }
    x[1] = INFINITY;
    x[2] = -INFINITY;
    assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, NULL),
                     ALCM_E_NONFINITE);
    x[1] = x[2] = 0.25f;
    assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, r, blob, cap, &len, NULL), ALCM_OK);
    r[3] = 0.5f;
    /* x + r overflowing to infinity is non-finite too */
    x[5] = 3e38f;
    r[5] = 3e38f;
    assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, r, blob, cap, &len, NULL),
                     ALCM_E_NONFINITE);
    r[5] = NAN;
    x[5] = 1.0f;
    assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, r, blob, cap, &len, NULL),
                     ALCM_E_NONFINITE);
    free(x);
    free(r);
    free(blob);
}

static void test_every_rank(void **state)
{
    ctxs *c = *state;
    alcm_params p = grad_params(0.05);
    for (uint32_t rank = 0; rank <= ALCM_MAX_RANK; rank++) {
        alcm_shape sh = {rank, {0}};
        size_t n = 1;
        for (uint32_t i = 0; i < rank; i++) {
            sh.dims[i] = 2 + (i % 3);
            n *= sh.dims[i];
        }
        float *x = tu_synth(ALCM_SYNTH_MIXED_SCALE, n, sh.dims[rank ? rank - 1 : 0] + 1, rank);
        float *y = tu_malloc(n * 4);
        alcm_info info;
        roundtrip(c, &p, &sh, x, n, NULL, y, &info);
        assert_true(alcm_rel_l2_error(x, y, n) <= 0.05);
        alcm_header h;
        size_t cap = alcm_compress_bound(n * 4), len;
        uint8_t *blob = tu_malloc(cap);
        assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, NULL),
                         ALCM_OK);
        assert_int_equal(alcm_blob_header(blob, len, &h), ALCM_OK);
        assert_int_equal(h.shape.rank, rank);
        assert_memory_equal(h.shape.dims, sh.dims, rank * sizeof(uint64_t));
        assert_int_equal(h.profile, ALCM_PROFILE_GRADIENT);
        assert_true(h.error_budget == 0.05);
        free(blob);
        free(x);
        free(y);
    }
}

static void test_channel_bits(void **state)
{
    ctxs *c = *state;
    const size_t rows = 40, cols = 128, n = rows * cols;
    alcm_shape sh = {2, {rows, cols}};
    float *x = tu_synth(ALCM_SYNTH_MIXED_SCALE, n, cols, 9);
    for (size_t i = 0; i < cols; i++) x[5 * cols + i] = 0.0f; /* row 5 all zero */
    alcm_params p = grad_params(0.05);
    size_t cap = alcm_compress_bound(n * 4), len;
    uint8_t *blob = tu_malloc(cap);
    alcm_info info;
    assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, &info), ALCM_OK);
    float bits[64];
    uint32_t nc = 0;
    assert_int_equal(alcm_blob_channel_bits(blob, len, bits, 64, &nc), ALCM_OK);
    assert_int_equal(nc, rows);
    assert_true(bits[5] == 0.0f);
    double mean = 0;
    for (size_t i = 0; i < rows; i++) {
        assert_true(bits[i] >= 0.0f && bits[i] <= 16.0f);
        mean += bits[i] * (double)cols;
    }
    assert_true(fabs(mean / (double)n - info.mean_bits) < 1e-3);
    float few[3] = {-1, -1, -1};
    assert_int_equal(alcm_blob_channel_bits(blob, len, few, 2, &nc), ALCM_OK);
    assert_int_equal(nc, rows);
    assert_true(few[0] == bits[0] && few[1] == bits[1] && few[2] == -1.0f);
    free(blob);
    free(x);
}

static void test_unaligned_buffers(void **state)
{
    ctxs *c = *state;
    const size_t n = 3000;
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 300, 2);
    uint8_t *src = tu_malloc(n * 4 + 1), *dst = tu_malloc(n * 4 + 1);
    memcpy(src + 1, x, n * 4);
    alcm_shape sh = {2, {10, 300}};
    alcm_params p = grad_params(0.01);
    size_t cap = alcm_compress_bound(n * 4), len, out;
    uint8_t *blob = tu_malloc(cap);
    assert_int_equal(alcm_compress(c->cx, &p, &sh, src + 1, n * 4, NULL, blob, cap, &len, NULL),
                     ALCM_OK);
    assert_int_equal(alcm_decompress(c->dx, blob, len, dst + 1, n * 4, &out), ALCM_OK);
    float *y = tu_malloc(n * 4);
    memcpy(y, dst + 1, n * 4);
    assert_true(alcm_rel_l2_error(x, y, n) <= 0.01);
    free(x);
    free(y);
    free(src);
    free(dst);
    free(blob);
}

static void test_ratio_against_baseline(void **state)
{
    /* The gain the method is built for: 100x100 Gaussian at a 1% budget. */
    ctxs *c = *state;
    const size_t n = 100 * 100;
    alcm_shape sh = {2, {100, 100}};
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 100, 42);
    alcm_params p = grad_params(0.01), b;
    alcm_params_default(&b, ALCM_PROFILE_BASELINE);
    size_t cap = alcm_compress_bound(n * 4), len;
    uint8_t *blob = tu_malloc(cap);
    alcm_info gi, bi;
    assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, &gi), ALCM_OK);
    assert_int_equal(alcm_compress(c->cx, &b, &sh, x, n * 4, NULL, blob, cap, &len, &bi), ALCM_OK);
    assert_true(gi.ratio >= 3.3 * bi.ratio);
    free(blob);
    free(x);
}

static void test_params_stream_codec(void **state)
{
    (void)state;
    alcm_chan_param ch[5] = {{3, 2000, ALCM_W4}, {0, 0, 0}, {32767, ALCM_STEP_MAX, ALCM_W16},
                             {1, ALCM_STEP_MIN, ALCM_W2}, {200, 2100, ALCM_W8}};
    uint8_t buf[30];
    size_t n = alcm_params_stream_write(ch, 5, buf);
    assert_true(n >= 5 && n <= 30);
    alcm_chan_param back[5];
    assert_int_equal(alcm_params_stream_read(buf, n, 5, back), ALCM_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(back[i].levels, ch[i].levels);
        assert_int_equal(back[i].step, ch[i].step);
        assert_int_equal(back[i].width, ch[i].width);
    }
    assert_int_equal(alcm_params_stream_read(buf, n - 1, 5, back), ALCM_E_CORRUPT);
    assert_int_equal(alcm_params_stream_read(buf, n, 4, back), ALCM_E_CORRUPT); /* leftover */
    uint8_t big[] = {0x80, 0x80, 0x02}; /* L = 32768 */
    assert_int_equal(alcm_params_stream_read(big, 3, 1, back), ALCM_E_CORRUPT);
    uint8_t low[] = {0x01, 0xFF, 0x7F}; /* step delta below ALCM_STEP_MIN */
    assert_int_equal(alcm_params_stream_read(low, 3, 1, back), ALCM_E_CORRUPT);
    uint64_t elems[4], bytes[5];
    alcm_class_sizes(ch, 5, 5 * 10 - 3, 10, elems, bytes);
    assert_int_equal(elems[ALCM_W2], 10);
    assert_int_equal(elems[ALCM_W4], 10);
    assert_int_equal(elems[ALCM_W8], 7); /* the last channel is short */
    assert_int_equal(elems[ALCM_W16], 10);
    assert_int_equal(bytes[0], 3);
    assert_int_equal(bytes[1], 5);
    assert_int_equal(bytes[2], 7);
    assert_int_equal(bytes[3], 10);
    assert_int_equal(bytes[4], 10);
}

/* Whatever the input does during a call, the residual stays finite: a channel the race
 * made non-finite is zeroed, so later steps are not poisoned. Every call either encodes
 * or fails with ALCM_E_INPUT_CHANGED or ALCM_E_NONFINITE; a steady input then encodes. */
static void test_residual_survives_rewritten_input(void **state)
{
    ctxs *c = *state;
    alcm_params p = grad_params(0.01);
    const size_t n = 1 << 18;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 1024, 21);
    float *r = calloc(n, 4);
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    size_t cap = alcm_compress_bound(n * 4), len;
    uint8_t *blob = tu_malloc(cap);
    float *back = tu_malloc(n * 4);
    alcm_cctx *remade = alcm_cctx_create();
    assert_non_null(remade);
    remade->remake_codes = 1;
    tu_rewriter w = {x, n, 64, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tu_rewrite_loop, &w), 0);
    /* With and without a residual, codes kept from the measurement or made again: every
     * blob written decodes, whatever the input did meanwhile. */
    for (int i = 0; i < 120; i++) {
        alcm_cctx *cx = i & 2 ? remade : c->cx;
        float *res = i & 1 ? r : NULL;
        alcm_status st = alcm_compress(cx, &p, &sh, x, n * 4, res, blob, cap, &len, NULL);
        assert_true(st == ALCM_OK || st == ALCM_E_INPUT_CHANGED || st == ALCM_E_NONFINITE);
        if (st == ALCM_OK) {
            size_t out = 0;
            assert_int_equal(alcm_decompress(c->dx, blob, len, back, n * 4, &out), ALCM_OK);
        }
        for (size_t k = 0; k < n; k++) assert_true(isfinite(r[k]));
    }
    w.stop = 1;
    pthread_join(th, NULL);
    alcm_cctx_free(remade);
    free(back);
    float *steady = tu_synth(ALCM_SYNTH_GRADIENT, n, 1024, 22);
    assert_int_equal(alcm_compress(c->cx, &p, &sh, steady, n * 4, r, blob, cap, &len, NULL),
                     ALCM_OK);
    free(steady);
    free(x);
    free(r);
    free(blob);
}


/* Code streams of 4096 bytes or more whose bytes are mostly zero codes are written as
 * method 4 (runs as tokens) in zstd blobs, never in zlib ones; the blobs decode within
 * budget at every width class, and a damaged method-4 stream (CRC recomputed) is rejected
 * or decodes, never read out of bounds. */
static size_t count_method(const uint8_t *blob, size_t len, uint8_t method, size_t *first)
{
    alcm_frame f;
    assert_int_equal(alcm_frame_parse(blob, len, &f), ALCM_OK);
    size_t pos = f.payload_off, found = 0;
    while (pos < f.payload_end) {
        assert_true(f.payload_end - pos >= ALCM_STREAM_HEADER);
        uint64_t size = alcm_get_u64(blob + pos + 1);
        assert_true(size <= f.payload_end - pos - ALCM_STREAM_HEADER);
        if (blob[pos] == method && found++ == 0 && first) *first = pos;
        pos += ALCM_STREAM_HEADER + (size_t)size;
    }
    assert_int_equal(pos, f.payload_end);
    return found;
}

static void test_runs_method(void **state)
{
    ctxs *c = *state;
    const size_t rows = 64, cols = 1024, n = rows * cols;
    alcm_shape sh = {2, {rows, cols}};
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, cols, 71);
    for (size_t i = 0; i < n; i++)
        if (i % 16 != 0 || (i / 300) % 5 == 0) x[i] = 0.0f; /* sparse, with long zero runs */
    float *y = tu_malloc(n * 4);
    const double budgets[] = {0.3, 0.05, 0.01, 1e-3, 2e-4}; /* W2 .. W16 */
    size_t cap = alcm_compress_bound(n * 4), len = 0, out = 0;
    uint8_t *blob = tu_malloc(cap), *bad = tu_malloc(cap);
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        for (int backend = ALCM_BACKEND_ZLIB; backend <= ALCM_BACKEND_ZSTD; backend++) {
            alcm_params p = grad_params(budgets[b]);
            p.backend = backend;
            assert_int_equal(alcm_compress(c->cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, NULL),
                             ALCM_OK);
            assert_int_equal(alcm_decompress(c->dx, blob, len, y, n * 4, &out), ALCM_OK);
            assert_true(alcm_rel_l2_error(x, y, n) <= budgets[b]);
            size_t at = 0, runs = count_method(blob, len, ALCM_STREAM_RUNS, &at);
            if (backend == ALCM_BACKEND_ZLIB) {
                assert_int_equal(runs, 0);
                continue;
            }
            assert_true(runs >= 1);
            /* damage: every byte of the first method-4 stream's first 64 data bytes, and
             * its last ones */
            size_t size = (size_t)alcm_get_u64(blob + at + 1), data = at + ALCM_STREAM_HEADER;
            for (size_t k = 0; k < size; k += k < 64 || k + 64 >= size ? 1 : size / 16) {
                memcpy(bad, blob, len);
                bad[data + k] ^= (uint8_t)(1u << (k % 8));
                alcm_frame_seal(bad, len);
                alcm_status st = alcm_decompress(c->dx, bad, len, y, n * 4, &out);
                assert_true(st == ALCM_OK || st == ALCM_E_CORRUPT);
            }
            memcpy(bad, blob, len);
            alcm_put_u64(bad + at + 1, 0); /* an empty method-4 stream */
            alcm_frame_seal(bad, len);
            assert_int_equal(alcm_decompress(c->dx, bad, len, y, n * 4, &out), ALCM_E_CORRUPT);
        }
    }
    free(blob);
    free(bad);
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_sweep_all_families),
        cmocka_unit_test(test_entropy_modes_and_knobs),
        cmocka_unit_test(test_flat_entropy_map),
        cmocka_unit_test(test_residual_semantics),
        cmocka_unit_test(test_deterministic_bytes),
        cmocka_unit_test(test_kept_codes_match_remade),
        cmocka_unit_test(test_residual_next_cases),
        cmocka_unit_test(test_residual_next_y_given),
        cmocka_unit_test(test_special_tensors),
        cmocka_unit_test(test_nonfinite_rejected),
        cmocka_unit_test(test_every_rank),
        cmocka_unit_test(test_channel_bits),
        cmocka_unit_test(test_unaligned_buffers),
        cmocka_unit_test(test_ratio_against_baseline),
        cmocka_unit_test(test_params_stream_codec),
        cmocka_unit_test(test_residual_survives_rewritten_input),
        cmocka_unit_test(test_runs_method),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
