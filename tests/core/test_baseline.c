/* test_baseline.c - the zlib-6 baseline blob (baseline.c): exact round trip and a payload
 * identical to what zlib itself produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "baseline.h"
#include "format.h"
#include "testutil.h"

/* Raw DEFLATE at level 6 straight from zlib. */
static size_t zlib6(const void *src, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static void test_payload_is_zlib6(void **state)
{
    (void)state;
    const size_t n = 100 * 100;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 100, 42);
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_BASELINE);
    alcm_shape sh = {2, {100, 100}};
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    size_t cap = alcm_compress_bound(n * 4), len, out, pay;
    uint8_t *blob = tu_malloc(cap), *ref = tu_malloc(cap);
    float *y = tu_malloc(n * 4);
    alcm_info info;
    assert_int_equal(alcm_compress(cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, &info), ALCM_OK);
    size_t rl = zlib6(x, n * 4, ref, cap);
    assert_int_equal(alcm_baseline_payload_bytes(blob, len, &pay), ALCM_OK);
    assert_int_equal(pay, rl);
    size_t prefix = alcm_frame_prefix_size(2, 4);
    assert_int_equal(len, prefix + rl + 4);
    assert_memory_equal(blob + prefix, ref, rl);
    assert_int_equal(info.backend, ALCM_BACKEND_ZLIB);
    assert_int_equal(alcm_decompress(dx, blob, len, y, n * 4, &out), ALCM_OK);
    assert_memory_equal(x, y, n * 4);
    /* a non-baseline blob is refused */
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, NULL), ALCM_OK);
    assert_int_equal(alcm_baseline_payload_bytes(blob, len, &pay), ALCM_E_ARG);
    free(x);
    free(y);
    free(blob);
    free(ref);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
}

static void test_every_dtype_and_empty(void **state)
{
    (void)state;
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    uint8_t src[3000], back[3000], blob[8192];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * i >> 3);
    for (int dt = 1; dt <= 4; dt++) {
        size_t es = alcm_dtype_size((alcm_dtype)dt);
        for (size_t n = 0; n <= 3000 / es; n += 3000 / es) {
            alcm_params p;
            alcm_params_default(&p, ALCM_PROFILE_BASELINE);
            p.dtype = (alcm_dtype)dt;
            alcm_shape sh;
            alcm_shape_1d(&sh, n);
            size_t len, out = 7;
            assert_int_equal(alcm_compress(cx, &p, &sh, src, n * es, NULL, blob, sizeof blob, &len,
                                           NULL),
                             ALCM_OK);
            assert_int_equal(alcm_decompress(dx, blob, len, back, sizeof back, &out), ALCM_OK);
            assert_int_equal(out, n * es);
            assert_memory_equal(back, src, n * es);
            alcm_header h;
            assert_int_equal(alcm_blob_header(blob, len, &h), ALCM_OK);
            assert_int_equal(h.profile, ALCM_PROFILE_BASELINE);
            assert_int_equal(h.dtype, dt);
        }
    }
    /* the baseline is zlib by definition */
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_BASELINE);
    p.backend = ALCM_BACKEND_ZSTD;
    alcm_shape sh;
    alcm_shape_1d(&sh, 4);
    size_t len;
    assert_int_equal(alcm_compress(cx, &p, &sh, src, 16, NULL, blob, sizeof blob, &len, NULL),
                     ALCM_E_ARG);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_is_zlib6),
        cmocka_unit_test(test_every_dtype_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
