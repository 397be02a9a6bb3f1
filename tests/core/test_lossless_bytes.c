/* test_lossless_bytes.c - exact chunked coding of opaque bytes with store/fast/strong chunks
 * (lossless_bytes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "zlib.h"

static double roundtrip(const uint8_t *src, size_t n, alcm_backend be, uint8_t **blob_out,
                        size_t *len_out)
{
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    p.dtype = ALCM_DTYPE_BYTES;
    p.backend = be;
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    size_t cap = alcm_compress_bound(n), len, out;
    uint8_t *blob = tu_malloc(cap), *back = tu_malloc(n);
    alcm_info info;
    assert_int_equal(alcm_compress(cx, &p, &sh, src, n, NULL, blob, cap, &len, &info), ALCM_OK);
    assert_true(len <= cap);
    assert_int_equal(blob[5], 3); /* codec lossless-bytes */
    assert_int_equal(alcm_decompress(dx, blob, len, back, n, &out), ALCM_OK);
    assert_int_equal(out, n);
    assert_memory_equal(back, src, n);
    free(back);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
    if (blob_out) {
        *blob_out = blob;
        *len_out = len;
    } else {
        free(blob);
    }
    return n ? (double)n / (double)len : 0.0;
}

static uint8_t *noise(size_t n, uint64_t s)
{
    uint8_t *p = tu_malloc(n);
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (uint8_t)(s >> 32);
    }
    return p;
}

static void test_empty_and_tiny(void **state)
{
    (void)state;
    uint8_t one = 42;
    roundtrip(&one, 0, ALCM_BACKEND_AUTO, NULL, NULL);
    roundtrip(&one, 1, ALCM_BACKEND_ZLIB, NULL, NULL);
    roundtrip((const uint8_t *)"aaaaaaaaaaaaaaaa", 16, ALCM_BACKEND_ZSTD, NULL, NULL);
}

static void test_already_compressed_is_stored(void **state)
{
    (void)state;
    /* gzip output stands for JPEG/PNG/gzip payloads: it must come out at ~1.00x */
    const size_t n = 600000;
    uint8_t *text = noise(n, 3);
    for (size_t i = 0; i < n; i++) text[i] = (uint8_t)("etaoin shrdlu cmfwyp"[text[i] % 20]);
    uLongf zl = compressBound(n);
    uint8_t *z = tu_malloc(zl);
    assert_int_equal(compress2(z, &zl, text, n, 9), Z_OK);
    uint8_t *rnd = noise(n, 77);
    for (int be = 1; be <= 2; be++) {
        double r1 = roundtrip(z, zl, (alcm_backend)be, NULL, NULL);
        double r2 = roundtrip(rnd, n, (alcm_backend)be, NULL, NULL);
        assert_true(r1 > 0.9995 && r1 <= 1.0);
        assert_true(r2 > 0.9995 && r2 <= 1.0);
        assert_true(roundtrip(text, n, (alcm_backend)be, NULL, NULL) > 1.6);
    }
    free(text);
    free(z);
    free(rnd);
}

static void test_mixed_chunks_deterministic(void **state)
{
    (void)state;
    /* A compressible 4 MiB chunk, a random one (stored) and a compressible tail: the blob
     * is about the random chunk plus small change, and identical on every run. */
    const size_t chunk = (size_t)4 << 20, n = 2 * chunk + 12345;
    uint8_t *p = noise(n, 5);
    for (size_t i = 0; i < n; i++)
        if (i < chunk || i >= 2 * chunk) p[i] = (uint8_t)((i % 7) + (i / 1000) % 3);
    uint8_t *a, *b;
    size_t la, lb;
    roundtrip(p, n, ALCM_BACKEND_AUTO, &a, &la);
    roundtrip(p, n, ALCM_BACKEND_AUTO, &b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_true(la >= chunk);              /* the random chunk is kept whole... */
    assert_true(la < chunk + chunk / 50);   /* ...stored, and the rest shrinks to little */
    free(a);
    free(b);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_tiny),
        cmocka_unit_test(test_already_compressed_is_stored),
        cmocka_unit_test(test_mixed_chunks_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
