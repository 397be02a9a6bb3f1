/* test_backend.c - zlib/zstd stream coding and the exact-length stream reader (backend.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"

static const alcm_coder k_coders[] = {
    {ALCM_BACKEND_ZLIB, 6, Z_DEFAULT_STRATEGY, 0},
    {ALCM_BACKEND_ZLIB, 1, Z_HUFFMAN_ONLY, 0},
    {ALCM_BACKEND_ZLIB, 6, Z_RLE, 0},
    {ALCM_BACKEND_ZSTD, 1, 0, 0},
    {ALCM_BACKEND_ZSTD, 1, 0, 1},
    {ALCM_BACKEND_ZSTD, 19, 0, 0},
};
#define N_CODERS (sizeof k_coders / sizeof k_coders[0])

static uint8_t *text_like(size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    uint32_t s = 7;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (uint8_t)("abcdefgh  \n"[(s >> 16) % 11]);
    }
    return p;
}

static uint8_t *random_bytes(size_t n, uint32_t seed)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (uint8_t)(s >> 24);
    }
    return p;
}

static void test_stream_roundtrip_all_coders(void **state)
{
    (void)state;
    const size_t n = 300000;
    uint8_t *src = text_like(n), *out = malloc(n + 1024), *back = malloc(n);
    alcm_backend_enc e = {0};
    alcm_backend_dec d = {0};
    for (size_t k = 0; k < N_CODERS; k++) {
        size_t used;
        assert_int_equal(alcm_stream_write(&e, &k_coders[k], src, n, out, n + 1024, &used),
                         ALCM_OK);
        assert_int_equal(out[0], ALCM_STREAM_CODED);
        assert_true(used < n / 2);
        size_t pos = 0;
        alcm_stream_ref ref;
        assert_int_equal(alcm_stream_take(out, &pos, used, n, &ref), ALCM_OK);
        memset(back, 0, n);
        assert_int_equal(alcm_stream_decode(&d, k_coders[k].backend, &ref, back), ALCM_OK);
        assert_memory_equal(back, src, n);
    }
    alcm_backend_enc_free(&e);
    alcm_backend_dec_free(&d);
    free(src);
    free(out);
    free(back);
}

static void test_incompressible_is_stored(void **state)
{
    (void)state;
    const size_t n = 70000;
    uint8_t *src = random_bytes(n, 3), *out = malloc(n + 64);
    alcm_backend_enc e = {0};
    for (size_t k = 0; k < N_CODERS; k++) {
        size_t used;
        assert_int_equal(alcm_stream_write(&e, &k_coders[k], src, n, out, n + 64, &used),
                         ALCM_OK);
        assert_int_equal(out[0], ALCM_STREAM_STORED);
        assert_int_equal(used, n + ALCM_STREAM_HEADER);
        assert_memory_equal(out + ALCM_STREAM_HEADER, src, n);
        assert_int_equal(alcm_stream_write(&e, &k_coders[k], src, n, out, n + 8, &used),
                         ALCM_E_DST_TOO_SMALL);
    }
    size_t used;
    assert_int_equal(alcm_stream_write(&e, &k_coders[0], src, 0, out, 9, &used), ALCM_OK);
    assert_int_equal(used, 9);
    alcm_backend_enc_free(&e);
    free(src);
    free(out);
}

static void test_streaming_matches_and_overflows(void **state)
{
    (void)state;
    const size_t n = 200000;
    uint8_t *src = text_like(n), *out = malloc(n), *back = malloc(n);
    alcm_backend_enc e = {0};
    alcm_backend_dec d = {0};
    for (size_t k = 0; k < N_CODERS; k++) {
        alcm_senc s;
        assert_int_equal(alcm_senc_begin(&s, &e, &k_coders[k], n, out, n), ALCM_OK);
        for (size_t i = 0; i < n; i += 777)
            assert_int_equal(alcm_senc_feed(&s, src + i, n - i < 777 ? n - i : 777), ALCM_OK);
        size_t made;
        assert_int_equal(alcm_senc_end(&s, &made), ALCM_OK);
        alcm_stream_ref ref = {ALCM_STREAM_CODED, out, made, n};
        assert_int_equal(alcm_stream_decode(&d, k_coders[k].backend, &ref, back), ALCM_OK);
        assert_memory_equal(back, src, n);
        /* the same data with too little room */
        assert_int_equal(alcm_senc_begin(&s, &e, &k_coders[k], n, out, made / 2), ALCM_OK);
        alcm_status st = alcm_senc_feed(&s, src, n);
        if (st == ALCM_OK) st = alcm_senc_end(&s, &made);
        assert_int_equal(st, ALCM_E_DST_TOO_SMALL);
    }
    alcm_backend_enc_free(&e);
    alcm_backend_dec_free(&d);
    free(src);
    free(out);
    free(back);
}

/* A coded stream of text (returns its size in *len). */
static uint8_t *coded(const alcm_coder *c, const uint8_t *src, size_t n, size_t *len)
{
    uint8_t *out = malloc(n + 64);
    alcm_backend_enc e = {0};
    assert_int_equal(alcm_backend_compress(&e, c, src, n, out, n + 64, len), ALCM_OK);
    alcm_backend_enc_free(&e);
    return out;
}

static void test_reader_rejects_bad_lengths(void **state)
{
    (void)state;
    const size_t n = 50000;
    uint8_t *src = text_like(n), *back = malloc(n + 10);
    alcm_backend_dec d = {0};
    for (size_t k = 0; k < N_CODERS; k += 3) { /* one zlib, one zstd */
        int be = k_coders[k].backend;
        size_t len;
        uint8_t *c = coded(&k_coders[k], src, n, &len);
        uint8_t *c2 = malloc(len + 8);
        memcpy(c2, c, len);
        memset(c2 + len, 0, 8);
        alcm_stream_ref ref = {ALCM_STREAM_CODED, c, len, n - 1}; /* expects fewer bytes */
        assert_int_equal(alcm_stream_decode(&d, be, &ref, back), ALCM_E_CORRUPT);
        ref.decoded = n + 1; /* expects more */
        assert_int_equal(alcm_stream_decode(&d, be, &ref, back), ALCM_E_CORRUPT);
        ref.decoded = n;
        ref.size = len - 3; /* cut short */
        alcm_status st = alcm_stream_decode(&d, be, &ref, back);
        assert_true(st == ALCM_E_CORRUPT || st == ALCM_E_BACKEND);
        ref.data = c2;
        ref.size = len + 8; /* trailing bytes after the coded stream */
        st = alcm_stream_decode(&d, be, &ref, back);
        assert_true(st == ALCM_E_CORRUPT || st == ALCM_E_BACKEND);
        ref.data = c;
        ref.size = len;
        assert_int_equal(alcm_stream_decode(&d, be, &ref, back), ALCM_OK);
        assert_memory_equal(back, src, n);
        /* garbage instead of a coded stream */
        memset(c2, 0xA5, len);
        ref.data = c2;
        st = alcm_stream_decode(&d, be, &ref, back);
        assert_true(st == ALCM_E_CORRUPT || st == ALCM_E_BACKEND);
        free(c);
        free(c2);
    }
    alcm_backend_dec_free(&d);
    free(src);
    free(back);
}

static void test_reader_pieces_and_view(void **state)
{
    (void)state;
    const size_t n = 100000;
    uint8_t *src = text_like(n), *back = malloc(n);
    alcm_backend_dec d = {0};
    size_t len;
    const alcm_coder zc = {ALCM_BACKEND_ZSTD, 3, 0, 0};
    uint8_t *c = coded(&zc, src, n, &len);
    alcm_reader r;
    alcm_stream_ref ref = {ALCM_STREAM_CODED, c, len, n};
    assert_int_equal(alcm_reader_open(&r, &d, 1, ALCM_BACKEND_ZSTD, &ref), ALCM_OK);
    assert_null(alcm_reader_view(&r, 10)); /* no direct view of a coded stream */
    for (size_t i = 0; i < n; i += 1000) assert_int_equal(alcm_reader_read(&r, back + i, 1000), ALCM_OK);
    assert_int_equal(alcm_reader_read(&r, back, 1), ALCM_E_CORRUPT); /* nothing left */
    assert_int_equal(alcm_reader_close(&r), ALCM_OK);
    assert_memory_equal(back, src, n);
    alcm_stream_ref st = {ALCM_STREAM_STORED, src, n, n};
    assert_int_equal(alcm_reader_open(&r, &d, 0, ALCM_BACKEND_ZLIB, &st), ALCM_OK);
    assert_ptr_equal(alcm_reader_view(&r, 10), src);
    assert_ptr_equal(alcm_reader_view(&r, 10), src + 10);
    assert_int_equal(alcm_reader_close(&r), ALCM_E_CORRUPT); /* unread bytes */
    free(c);
    alcm_backend_dec_free(&d);
    free(src);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_roundtrip_all_coders),
        cmocka_unit_test(test_incompressible_is_stored),
        cmocka_unit_test(test_streaming_matches_and_overflows),
        cmocka_unit_test(test_reader_rejects_bad_lengths),
        cmocka_unit_test(test_reader_pieces_and_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
