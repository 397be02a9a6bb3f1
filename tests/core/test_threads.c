/* test_threads.c - worker threads of the contexts (alcm_cctx_set_threads,
 * alcm_dctx_set_threads) and the automatic chunks of a large gradient tensor (codec 5,
 * segmented.c): the same blob and residual for every thread count, the same decoded
 * output, the error budget over the whole tensor and each chunk, a caller's segments
 * respected, bad thread counts rejected, the residual untouched when the blob does not
 * fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "ctx.h"
#include "format.h"
#include "testutil.h"

/* 2049 rows of 4097: 8 394 753 elements, above ALCM_CHUNK_ABOVE, so ceil(N / ALCM_CHUNK_ELEMS)
 * chunks of whole rows. */
#define ROWS 2049u
#define COLS 4097u
#define N ((size_t)ROWS * COLS)

static const alcm_shape k_shape = {.rank = 2, .dims = {ROWS, COLS}};

/* The gradient profile's defaults. */
static alcm_params gradient_params(void)
{
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    return p;
}

static float *tensor(void)
{
    return tu_synth(ALCM_SYNTH_GRADIENT, N, COLS, 11);
}

static float *residual0(void)
{
    /* A non-zero residual, as after earlier steps. */
    float *r = tu_synth(ALCM_SYNTH_GAUSSIAN, N, 0, 12);
    for (size_t i = 0; i < N; i++) r[i] *= 1e-3f;
    return r;
}

static size_t encode(unsigned threads, const alcm_params *p, const alcm_shape *sh,
                     const float *x, size_t n, float *r, uint8_t *blob, size_t cap,
                     alcm_info *info)
{
    alcm_cctx *cx = alcm_cctx_create();
    assert_non_null(cx);
    assert_int_equal(alcm_cctx_set_threads(cx, threads), ALCM_OK);
    size_t len = 0;
    assert_int_equal(alcm_compress(cx, p, sh, x, n * 4, r, blob, cap, &len, info), ALCM_OK);
    alcm_cctx_free(cx);
    return len;
}

static void decode(unsigned threads, const uint8_t *blob, size_t len, float *y, size_t n)
{
    alcm_dctx *dx = alcm_dctx_create();
    assert_non_null(dx);
    assert_int_equal(alcm_dctx_set_threads(dx, threads), ALCM_OK);
    size_t out = 0;
    assert_int_equal(alcm_decompress(dx, blob, len, y, n * 4, &out), ALCM_OK);
    assert_int_equal(out, n * 4);
    alcm_dctx_free(dx);
}

static void test_bad_thread_counts(void **state)
{
    (void)state;
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    assert_int_equal(alcm_cctx_set_threads(NULL, 2), ALCM_E_ARG);
    assert_int_equal(alcm_cctx_set_threads(cx, 0), ALCM_E_ARG);
    assert_int_equal(alcm_cctx_set_threads(cx, ALCM_MAX_THREADS + 1), ALCM_E_ARG);
    assert_int_equal(alcm_cctx_set_threads(cx, ALCM_MAX_THREADS), ALCM_OK);
    assert_int_equal(alcm_cctx_set_threads(cx, 1), ALCM_OK);
    assert_int_equal(alcm_dctx_set_threads(NULL, 2), ALCM_E_ARG);
    assert_int_equal(alcm_dctx_set_threads(dx, 0), ALCM_E_ARG);
    assert_int_equal(alcm_dctx_set_threads(dx, 65), ALCM_E_ARG);
    assert_int_equal(alcm_dctx_set_threads(dx, 64), ALCM_OK);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
}

/* Blob bytes for threads 1, 2, 3, 8, without and with a residual (the residual identical
 * too); decoding with 1 and 4 threads gives the same output; the budget holds over the
 * tensor and in every chunk. */
static void test_same_blob_any_thread_count(void **state)
{
    (void)state;
    float *x = tensor();
    alcm_shape sh = k_shape;
    alcm_params p = gradient_params();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *ref = tu_malloc(cap), *blob = tu_malloc(cap);
    float *r0 = residual0(), *rref = tu_malloc(N * 4), *r = tu_malloc(N * 4);
    static const unsigned counts[] = {1, 2, 3, 8};
    for (int with_r = 0; with_r < 2; with_r++) {
        alcm_info iref, info;
        size_t ref_len = 0;
        for (size_t t = 0; t < sizeof counts / sizeof counts[0]; t++) {
            float *rr = NULL;
            if (with_r) {
                rr = t == 0 ? rref : r;
                memcpy(rr, r0, N * 4);
            }
            size_t len = encode(counts[t], &p, &sh, x, N, rr, t == 0 ? ref : blob, cap,
                                t == 0 ? &iref : &info);
            if (t == 0) {
                ref_len = len;
                /* Chunks of whole rows, each an inner gradient blob. */
                assert_int_equal(iref.n_segments, (N + ALCM_CHUNK_ELEMS - 1) / ALCM_CHUNK_ELEMS);
                assert_int_equal(iref.n_channels, ROWS);
                assert_int_equal(iref.exact, 0);
                assert_true(iref.rel_l2_error <= p.error_budget);
                alcm_header h;
                assert_int_equal(alcm_blob_header(ref, len, &h), ALCM_OK);
                assert_int_equal(h.n_segments, iref.n_segments);
                assert_int_equal(h.shape.rank, 2);
                assert_int_equal(h.shape.dims[1], COLS);
                /* The outer payload CRC, written from the inner CRCs, matches the bytes
                 * (alcm_blob_channel_bits checks it over the whole payload). */
                uint32_t nc = 0;
                assert_int_equal(alcm_blob_channel_bits(ref, len, NULL, 0, &nc), ALCM_OK);
                assert_int_equal(nc, ROWS);
                continue;
            }
            assert_int_equal(len, ref_len);
            assert_memory_equal(blob, ref, len);
            assert_memory_equal(&info, &iref, sizeof info);
            if (with_r) assert_memory_equal(r, rref, N * 4);
        }

        float *y1 = tu_malloc(N * 4), *y4 = tu_malloc(N * 4);
        decode(1, ref, ref_len, y1, N);
        decode(4, ref, ref_len, y4, N);
        assert_memory_equal(y1, y4, N * 4);
        /* The budget, over the tensor (y = x + r0 with a residual) and in each chunk. */
        float *y = x;
        if (with_r) {
            y = tu_malloc(N * 4);
            for (size_t i = 0; i < N; i++) y[i] = x[i] + r0[i];
            /* The residual is what decoding left out. */
            for (size_t i = 0; i < N; i += 997)
                assert_true(fabsf(rref[i] - (y[i] - y1[i])) <= 1e-6f * (fabsf(y[i]) + 1e-6f));
        }
        assert_true(alcm_rel_l2_error(y, y1, N) <= p.error_budget * (1 + 1e-9));
        const uint32_t K = iref.n_segments;
        for (uint32_t k = 0; k < K; k++) {
            size_t a = (size_t)(ROWS * k / K) * COLS, b = (size_t)(ROWS * (k + 1) / K) * COLS;
            assert_true(alcm_rel_l2_error(y + a, y1 + a, b - a) <= p.error_budget * (1 + 1e-9));
        }
        if (y != x) free(y);
        free(y1);
        free(y4);
    }
    free(x);
    free(r0);
    free(rref);
    free(r);
    free(ref);
    free(blob);
}

/* A tensor at the threshold stays one gradient blob (codec 1), whatever the threads. */
static void test_small_tensor_not_chunked(void **state)
{
    (void)state;
    size_t n = (size_t)ALCM_CHUNK_ABOVE;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 4096, 3);
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    size_t cap = alcm_compress_bound(n * 4);
    uint8_t *a = tu_malloc(cap), *b = tu_malloc(cap);
    alcm_info info;
    size_t la = encode(1, &p, &sh, x, n, NULL, a, cap, &info);
    size_t lb = encode(4, &p, &sh, x, n, NULL, b, cap, &info);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    alcm_header h;
    assert_int_equal(alcm_blob_header(a, la, &h), ALCM_OK);
    assert_int_equal(h.n_segments, 0);
    assert_int_equal(h.n_channels, n / 4096);
    free(x);
    free(a);
    free(b);
}

/* A caller's segments are kept; one above the threshold is cut into chunks; each segment
 * is held to the budget on its own; the same blob for 1 and 3 threads. */
static void test_caller_segments(void **state)
{
    (void)state;
    size_t big = (size_t)ALCM_CHUNK_ABOVE + 50000, n = 1000 + big + 3000;
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 0, 5);
    for (size_t i = 0; i < 1000; i++) x[i] *= 1e-3f; /* a small layer of small scale */
    uint64_t seg[2] = {1000, 1000 + big};
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    p.segments = seg;
    p.n_segments = 2;
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    size_t cap = alcm_compress_bound_segments(n * 4, 2);
    uint8_t *a = tu_malloc(cap), *b = tu_malloc(cap);
    alcm_info ia, ib;
    size_t la = encode(1, &p, &sh, x, n, NULL, a, cap, &ia);
    size_t lb = encode(3, &p, &sh, x, n, NULL, b, cap, &ib);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    /* 1000, the chunks of the big one, 3000 */
    assert_int_equal(ia.n_segments, 2 + (big + ALCM_CHUNK_ELEMS - 1) / ALCM_CHUNK_ELEMS);
    assert_true(ia.max_segment_error <= p.error_budget);
    float *y = tu_malloc(n * 4);
    decode(2, a, la, y, n);
    uint64_t lo[3] = {0, seg[0], seg[1]}, hi[3] = {seg[0], seg[1], n};
    for (int k = 0; k < 3; k++)
        assert_true(alcm_rel_l2_error(x + lo[k], y + lo[k], hi[k] - lo[k]) <= p.error_budget * (1 + 1e-9));
    free(x);
    free(y);
    free(a);
    free(b);
}

/* A dst too small for the blob: ALCM_E_DST_TOO_SMALL, and the residual as it was, for
 * any thread count. */
static void test_small_dst_keeps_residual(void **state)
{
    (void)state;
    float *x = tensor(), *r0 = residual0(), *r = tu_malloc(N * 4);
    alcm_shape sh = k_shape;
    alcm_params p = gradient_params();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *blob = tu_malloc(cap);
    memcpy(r, r0, N * 4);
    size_t len = encode(1, &p, &sh, x, N, r, blob, cap, NULL);
    static const unsigned counts[] = {1, 2, 3};
    for (size_t t = 0; t < 3; t++) {
        /* Short by a byte, and short by most of the last chunk. */
        size_t caps[2] = {len - 1, len / 2};
        for (int c = 0; c < 2; c++) {
            alcm_cctx *cx = alcm_cctx_create();
            assert_int_equal(alcm_cctx_set_threads(cx, counts[t]), ALCM_OK);
            memcpy(r, r0, N * 4);
            size_t got = 7;
            assert_int_equal(alcm_compress(cx, &p, &sh, x, N * 4, r, blob, caps[c], &got, NULL),
                             ALCM_E_DST_TOO_SMALL);
            assert_int_equal(got, 0);
            assert_memory_equal(r, r0, N * 4);
            alcm_cctx_free(cx);
        }
    }
    free(x);
    free(r0);
    free(r);
    free(blob);
}

/* A non-finite value in the last chunk: ALCM_E_NONFINITE before any chunk's residual
 * slice changes, for any thread count. */
static void test_nonfinite_keeps_residual(void **state)
{
    (void)state;
    float *x = tensor(), *r0 = residual0(), *r = tu_malloc(N * 4);
    x[N - 5] = INFINITY;
    alcm_shape sh = k_shape;
    alcm_params p = gradient_params();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *blob = tu_malloc(cap);
    for (unsigned t = 1; t <= 3; t++) {
        alcm_cctx *cx = alcm_cctx_create();
        assert_int_equal(alcm_cctx_set_threads(cx, t), ALCM_OK);
        memcpy(r, r0, N * 4);
        size_t got = 7;
        assert_int_equal(alcm_compress(cx, &p, &sh, x, N * 4, r, blob, cap, &got, NULL),
                         ALCM_E_NONFINITE);
        assert_int_equal(got, 0);
        assert_memory_equal(r, r0, N * 4);
        alcm_cctx_free(cx);
    }
    free(x);
    free(r0);
    free(r);
    free(blob);
}

/* The workers' contexts are counted by alcm_cctx_memory and freed by fewer threads. */
static void test_memory_counts_workers(void **state)
{
    (void)state;
    float *x = tensor();
    alcm_shape sh = k_shape;
    alcm_params p = gradient_params();
    size_t cap = alcm_compress_bound(N * 4), len;
    uint8_t *blob = tu_malloc(cap);
    alcm_cctx *cx = alcm_cctx_create();
    assert_int_equal(alcm_compress(cx, &p, &sh, x, N * 4, NULL, blob, cap, &len, NULL), ALCM_OK);
    size_t one = alcm_cctx_memory(cx);
    assert_int_equal(alcm_cctx_set_threads(cx, 3), ALCM_OK);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, N * 4, NULL, blob, cap, &len, NULL), ALCM_OK);
    size_t three = alcm_cctx_memory(cx);
    assert_true(three > one + 2 * (size_t)COLS * 4); /* two more workers' scratch */
    assert_int_equal(alcm_cctx_set_threads(cx, 1), ALCM_OK);
    assert_true(alcm_cctx_memory(cx) < three);
    alcm_cctx_free(cx);
    free(x);
    free(blob);
}

/* A damaged inner blob gives the same error for any decoding thread count. */
static void test_damaged_blob_same_error(void **state)
{
    (void)state;
    float *x = tensor();
    alcm_shape sh = k_shape;
    alcm_params p = gradient_params();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *blob = tu_malloc(cap);
    float *y = tu_malloc(N * 4);
    size_t len = encode(2, &p, &sh, x, N, NULL, blob, cap, NULL);
    blob[len / 2] ^= 0x10;
    alcm_status want = ALCM_OK;
    for (unsigned t = 1; t <= 4; t++) {
        alcm_dctx *dx = alcm_dctx_create();
        assert_int_equal(alcm_dctx_set_threads(dx, t), ALCM_OK);
        size_t out = 5;
        alcm_status st = alcm_decompress(dx, blob, len, y, N * 4, &out);
        assert_true(st != ALCM_OK);
        assert_int_equal(out, 0);
        if (t == 1) want = st;
        assert_int_equal(st, want);
        alcm_dctx_free(dx);
    }
    free(x);
    free(y);
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_thread_counts),
        cmocka_unit_test(test_same_blob_any_thread_count),
        cmocka_unit_test(test_small_tensor_not_chunked),
        cmocka_unit_test(test_caller_segments),
        cmocka_unit_test(test_small_dst_keeps_residual),
        cmocka_unit_test(test_nonfinite_keeps_residual),
        cmocka_unit_test(test_memory_counts_workers),
        cmocka_unit_test(test_damaged_blob_same_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
