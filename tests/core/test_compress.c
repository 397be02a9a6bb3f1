/* test_compress.c - alcm_compress argument checks, capacities, alcm_compress_bound, info
 * and context reuse across profiles (compress.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static void test_argument_errors(void **state)
{
    (void)state;
    alcm_cctx *cx = alcm_cctx_create();
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    alcm_shape sh;
    alcm_shape_1d(&sh, 4);
    float x[4] = {1, 2, 3, 4}, r[4] = {0};
    uint8_t blob[1024];
    size_t len = 77;
    assert_int_equal(alcm_compress(NULL, &p, &sh, x, 16, NULL, blob, 1024, &len, NULL), ALCM_E_ARG);
    assert_int_equal(len, 0);
    assert_int_equal(alcm_compress(cx, NULL, &sh, x, 16, NULL, blob, 1024, &len, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, NULL, x, 16, NULL, blob, 1024, &len, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 16, NULL, blob, 1024, NULL, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, &sh, NULL, 16, NULL, blob, 1024, &len, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 16, NULL, NULL, 1024, &len, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 12, NULL, blob, 1024, &len, NULL), ALCM_E_SHAPE);
    alcm_shape bad = {9, {1}};
    assert_int_equal(alcm_compress(cx, &p, &bad, x, 16, NULL, blob, 1024, &len, NULL), ALCM_E_SHAPE);
    p.error_budget = 0.0;
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 16, NULL, blob, 1024, &len, NULL), ALCM_E_ARG);
    p.error_budget = 0.01;
    p.dtype = ALCM_DTYPE_F16;
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 8, NULL, blob, 1024, &len, NULL), ALCM_E_DTYPE);
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 16, r, blob, 1024, &len, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 16, NULL, blob, 1024, &len, NULL), ALCM_OK);
    alcm_cctx_free(cx);
    alcm_cctx_free(NULL);
}

static void test_bound_and_too_small(void **state)
{
    (void)state;
    alcm_cctx *cx = alcm_cctx_create();
    /* random bit patterns: the worst case for every profile */
    const size_t sizes[] = {0, 1, 7, 100, 4096, 300001};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k], bytes = n * 4;
        uint32_t *x = tu_malloc(bytes);
        uint64_t s = 0x1234567 + k;
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            x[i] = (uint32_t)s & 0xBF7FFFFFu; /* finite floats */
        }
        alcm_shape sh;
        alcm_shape_1d(&sh, n);
        size_t cap = alcm_compress_bound(bytes);
        assert_true(cap >= bytes);
        uint8_t *blob = tu_malloc(cap);
        for (int prof = 1; prof <= 3; prof++)
            for (int dt = 1; dt <= 4; dt++) {
                alcm_params p;
                alcm_params_default(&p, (alcm_profile)prof);
                p.dtype = (alcm_dtype)dt;
                p.error_budget = 1e-6; /* forces the lossless fallback on noise */
                if (prof == 1 && dt != 1) continue;
                alcm_shape s2;
                size_t es = alcm_dtype_size(p.dtype);
                alcm_shape_1d(&s2, bytes / es);
                size_t len = 0;
                alcm_info info;
                assert_int_equal(alcm_compress(cx, &p, &s2, x, bytes, NULL, blob, cap, &len, &info),
                                 ALCM_OK);
                assert_true(len <= cap);
                assert_int_equal(info.blob_bytes, len);
                assert_int_equal(info.raw_bytes, bytes);
                if (bytes) assert_true(info.ratio > 0.0);
                size_t l2 = 5;
                assert_int_equal(alcm_compress(cx, &p, &s2, x, bytes, NULL, blob, len - 1, &l2, NULL),
                                 ALCM_E_DST_TOO_SMALL);
                assert_int_equal(l2, 0);
                assert_int_equal(alcm_compress(cx, &p, &s2, x, bytes, NULL, blob, 8, &l2, NULL),
                                 ALCM_E_DST_TOO_SMALL);
            }
        free(blob);
        free(x);
    }
    assert_int_equal(alcm_compress_bound(SIZE_MAX), 0);
    alcm_cctx_free(cx);
}

static void test_context_reuse_and_info(void **state)
{
    (void)state;
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    assert_true(alcm_cctx_memory(cx) > 0);
    const size_t big = 200000, small = 300;
    float *xb = tu_synth(ALCM_SYNTH_GRADIENT, big, 1000, 1);
    float *xs = tu_synth(ALCM_SYNTH_GAUSSIAN, small, 30, 2);
    float *y = tu_malloc(big * 4);
    size_t cap = alcm_compress_bound(big * 4);
    uint8_t *blob = tu_malloc(cap), *first = tu_malloc(cap);
    size_t first_len = 0;
    for (int round = 0; round < 2; round++)
        for (int prof = 1; prof <= 3; prof++)
            for (int which = 0; which < 2; which++) {
                const float *x = which ? xs : xb;
                size_t n = which ? small : big, len, out;
                alcm_shape sh;
                alcm_shape_1d(&sh, n);
                alcm_params p;
                alcm_params_default(&p, (alcm_profile)prof);
                alcm_info info;
                assert_int_equal(alcm_compress(cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, &info),
                                 ALCM_OK);
                assert_true(info.ratio == (double)(n * 4) / (double)len);
                /* measured defaults: zstd for gradients and float planes, zlib for baseline */
                assert_int_equal(info.backend, prof == 3 ? ALCM_BACKEND_ZLIB : ALCM_BACKEND_ZSTD);
                assert_int_equal(info.exact, prof != 1);
                assert_int_equal(alcm_decompress(dx, blob, len, y, n * 4, &out), ALCM_OK);
                if (prof != 1) assert_memory_equal(x, y, n * 4);
                else assert_true(alcm_rel_l2_error(x, y, n) <= 0.01);
                if (prof == 1 && which == 0) {
                    if (round == 0) {
                        memcpy(first, blob, len);
                        first_len = len;
                    } else { /* after other profiles and sizes, still the same bytes */
                        assert_int_equal(len, first_len);
                        assert_memory_equal(blob, first, len);
                    }
                }
            }
    assert_true(alcm_cctx_memory(cx) > big); /* scratch is kept for the next call */
    free(xb);
    free(xs);
    free(y);
    free(blob);
    free(first);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
}

static void test_every_profile_deterministic(void **state)
{
    (void)state;
    const size_t n = 70000;
    float *x = tu_synth(ALCM_SYNTH_HEAVY, n, 700, 12);
    alcm_shape sh = {2, {100, 700}};
    size_t cap = alcm_compress_bound(n * 4);
    uint8_t *a = tu_malloc(cap), *b = tu_malloc(cap);
    for (int prof = 1; prof <= 3; prof++)
        for (int be = 0; be <= 2; be++) {
            if (prof == 3 && be == 2) continue;
            alcm_params p;
            alcm_params_default(&p, (alcm_profile)prof);
            p.backend = (alcm_backend)be;
            p.prune_ratio = prof == 1 ? 0.1 : 0.0;
            alcm_cctx *c1 = alcm_cctx_create(), *c2 = alcm_cctx_create();
            size_t la, lb;
            assert_int_equal(alcm_compress(c1, &p, &sh, x, n * 4, NULL, a, cap, &la, NULL), ALCM_OK);
            assert_int_equal(alcm_compress(c2, &p, &sh, x, n * 4, NULL, b, cap, &lb, NULL), ALCM_OK);
            assert_int_equal(la, lb);
            assert_memory_equal(a, b, la);
            assert_int_equal(a[7], be == 0 ? (prof == 3 ? 1 : 2) : be); /* backend recorded */
            alcm_cctx_free(c1);
            alcm_cctx_free(c2);
        }
    free(a);
    free(b);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_bound_and_too_small),
        cmocka_unit_test(test_context_reuse_and_info),
        cmocka_unit_test(test_every_profile_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
