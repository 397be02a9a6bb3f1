/* test_runs.c - stream method 4 (runs.c): runs of one value as tokens, the other bytes through
 * zstd, the run buckets through order-0 tANS.
 * Round trips on code streams of every width class and on the edge cases (all one value, no
 * runs, long runs, runs at the end), and every decoder check rejecting a damaged stream with
 * ALCM_E_CORRUPT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runs.h"
#include "tans.h"
#include "testutil.h"

static alcm_backend_enc enc;
static alcm_backend_dec dec;

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Codes src[0..n) with run value v, decodes it and checks the bytes; returns the coded size
 * and leaves the coded data in *coded (caller frees) when coded is non-NULL. The decoded
 * size is part of the check: one byte more or less is rejected. */
static size_t roundtrip_v(const uint8_t *src, size_t n, uint8_t v, uint8_t **coded)
{
    size_t cap = 2 * n + 1000, len = 0;
    uint8_t *scratch = tu_malloc(alcm_runs_scratch(n));
    uint8_t *c = tu_malloc(cap), *back = tu_malloc(n + 1);
    assert_int_equal(alcm_runs_encode(&enc, src, n, v, 0, scratch, c, cap, &len), ALCM_OK);
    assert_int_equal(c[0], v);
    /* the data alone, in a buffer of exactly its size (ASan sees any read past it) */
    uint8_t *exact = tu_malloc(len);
    memcpy(exact, c, len);
    alcm_buf sb = {0};
    memset(back, 0xEE, n + 1);
    assert_int_equal(alcm_runs_decode(&dec, exact, len, back, n, &sb), ALCM_OK);
    assert_memory_equal(back, src, n);
    assert_int_equal(back[n], 0xEE); /* nothing written past the output */
    assert_int_equal(alcm_runs_decode(&dec, exact, len, back, n + 1, &sb), ALCM_E_CORRUPT);
    if (n > 1) assert_int_equal(alcm_runs_decode(&dec, exact, len, back, n - 1, &sb), ALCM_E_CORRUPT);
    /* the same input always gives the same bytes; too small an output is reported */
    size_t len2 = 0;
    uint8_t *c2 = tu_malloc(cap);
    assert_int_equal(alcm_runs_encode(&enc, src, n, v, 0, scratch, c2, cap, &len2), ALCM_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(c2, c, len);
    assert_int_equal(alcm_runs_encode(&enc, src, n, v, 0, scratch, c2, len - 1, &len2),
                     ALCM_E_DST_TOO_SMALL);
    free(c2);
    alcm_buf_free(&sb);
    free(back);
    free(scratch);
    if (coded)
        *coded = exact;
    else
        free(exact);
    free(c);
    return len;
}

static size_t roundtrip(const uint8_t *src, size_t n, uint8_t **coded)
{
    return roundtrip_v(src, n, 0, coded);
}

/* Packed zigzag codes like the gradient encoder's: w-bit codes of a laplacian-ish source
 * whose zero code is likely p0, packed 8/w per byte (w = 2, 4, 8) or as the low or high
 * byte of 16-bit codes (w = 16 and 17). */
static void codes(uint8_t *x, size_t n, unsigned w, double p0, uint64_t seed)
{
    uint64_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        unsigned per = w <= 8 ? 8 / w : 1, b = 0;
        for (unsigned k = 0; k < per; k++) {
            uint64_t r = next(&s);
            unsigned z = (double)(r >> 11) / 9007199254740992.0 < p0
                             ? 0
                             : 1 + (unsigned)__builtin_ctzll(next(&s) | 1ull << 60) * 3 +
                                   (unsigned)(r & 3);
            unsigned mask = w >= 16 ? 0xFFFF : (1u << w) - 1;
            if (z > mask) z = mask;
            if (w == 16) z &= 0xFF;
            if (w == 17) z = (z * 37) >> 8 & 0xFF;
            b |= z << (k * (w <= 8 ? w : 0));
        }
        x[i] = (uint8_t)b;
    }
}

static void test_width_classes(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 7, 8, 9, 15, 16, 17, 4096, 65537, 300001};
    const unsigned widths[] = {2, 4, 8, 16, 17};
    const double zeros[] = {0.0, 0.3, 0.7, 0.95};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *x = tu_malloc(n);
        for (size_t wi = 0; wi < 5; wi++)
            for (size_t zi = 0; zi < 4; zi++) {
                codes(x, n, widths[wi], zeros[zi], k * 100 + wi * 10 + zi);
                size_t len = roundtrip(x, n, NULL);
                /* sparse codes shrink well below one byte each */
                if (n >= 65537 && zeros[zi] >= 0.95) assert_true(len < n / 4);
            }
        free(x);
    }
}

static void test_edge_cases(void **state)
{
    (void)state;
    const size_t n = 100003;
    uint8_t *x = tu_malloc(n);
    /* all the run value: one symbol, one run token */
    memset(x, 0, n);
    size_t len = roundtrip(x, n, NULL);
    assert_true(len < 120);
    /* all one other value: no runs at all, no bucket stream */
    memset(x, 9, n);
    uint8_t *c;
    len = roundtrip(x, n, &c);
    assert_int_equal(c[1], 0); /* no bucket table */
    free(c);
    assert_true(len < 120);
    /* no byte is the run value */
    uint64_t s = 3;
    for (size_t i = 0; i < n; i++) x[i] = (uint8_t)(1 + next(&s) % 255);
    roundtrip(x, n, NULL);
    /* isolated run values between others, and runs of every length 1 .. 70 */
    for (size_t i = 0; i < n; i++) x[i] = i % 2 ? 0 : (uint8_t)(1 + i % 7);
    roundtrip(x, n, NULL);
    size_t i = 0;
    for (unsigned L = 1; i < n; L = L % 70 + 1) {
        for (unsigned t = 0; t < L && i < n; t++) x[i++] = 0;
        if (i < n) x[i++] = (uint8_t)(1 + L % 13);
    }
    roundtrip(x, n, NULL);
    /* long runs, and a run at the very end and at the very start */
    memset(x, 0, n);
    for (i = 5000; i < 5100; i++) x[i] = (uint8_t)i | 1;
    x[n - 70001] = 5;
    roundtrip(x, n, NULL);
    x[0] = 0;
    x[n - 1] = 0;
    roundtrip(x, n, NULL);
    x[n - 1] = 4;
    roundtrip(x, n, NULL);
    /* another run value */
    for (i = 0; i < n; i++) x[i] = next(&s) % 3 ? 0xAB : (uint8_t)next(&s);
    roundtrip_v(x, n, 0xAB, NULL);
    free(x);
}

/* Every single-byte change of a valid stream, and every truncation, is either rejected with
 * ALCM_E_CORRUPT or (the tANS bit streams carry no checksum) decodes to n bytes; never a
 * crash or a read past the data (ASan). Then each check on its own. */
static void test_corrupt(void **state)
{
    (void)state;
    const size_t n = 3000;
    uint8_t *x = tu_malloc(n), *back = tu_malloc(n);
    codes(x, n, 4, 0.8, 77);
    for (size_t i = 2000; i < 2500; i++) x[i] = 0; /* a long run too */
    uint8_t *c;
    size_t len = roundtrip(x, n, &c);
    alcm_buf sb = {0};
    for (size_t at = 0; at < len; at++)
        for (unsigned flip = 1; flip < 256; flip <<= 1) {
            uint8_t *d = tu_malloc(len);
            memcpy(d, c, len);
            d[at] ^= (uint8_t)flip;
            alcm_status st = alcm_runs_decode(&dec, d, len, back, n, &sb);
            assert_true(st == ALCM_OK || st == ALCM_E_CORRUPT);
            free(d);
        }
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *d = tu_malloc(cut ? cut : 1);
        memcpy(d, c, cut);
        assert_int_equal(alcm_runs_decode(&dec, d, cut, back, n, &sb), ALCM_E_CORRUPT);
        free(d);
    }
    /* one byte too many: the raw bits must end exactly */
    uint8_t *d = tu_malloc(len + 1);
    memcpy(d, c, len);
    d[len] = 0;
    assert_int_equal(alcm_runs_decode(&dec, d, len + 1, back, n, &sb), ALCM_E_CORRUPT);
    free(d);
    /* header checks: the bucket table log out of range (or 0 with runs), a non-shortest or
     * overlong varint, m = 0, m > n */
    d = tu_malloc(len + 8);
    const uint8_t bad_logs[] = {0, 8, 13, 255};
    for (size_t k = 0; k < sizeof bad_logs; k++) {
        memcpy(d, c, len);
        d[1] = bad_logs[k];
        assert_int_equal(alcm_runs_decode(&dec, d, len, back, n, &sb), ALCM_E_CORRUPT);
    }
    /* the varints start at byte 2: m (2 bytes for 3000 > 127), then K and X */
    assert_true(c[2] & 0x80);
    memcpy(d, c, len);
    d[2] = 0x80; /* m = 0 in a non-shortest two-byte form */
    d[3] = 0x00;
    assert_int_equal(alcm_runs_decode(&dec, d, len, back, n, &sb), ALCM_E_CORRUPT);
    memcpy(d, c, len);
    d[2] = 0xFF; /* m far beyond n */
    d[3] = 0x7F;
    assert_int_equal(alcm_runs_decode(&dec, d, len, back, n, &sb), ALCM_E_CORRUPT);
    memcpy(d, c, 2); /* eleven continuation bytes: no varint ends */
    memset(d + 2, 0xFF, 11);
    assert_int_equal(alcm_runs_decode(&dec, d, 13, back, n, &sb), ALCM_E_CORRUPT);
    d[2] = 0x80; /* a tenth byte above 1: beyond 64 bits */
    memset(d + 3, 0x80, 8);
    d[11] = 2;
    assert_int_equal(alcm_runs_decode(&dec, d, 13, back, n, &sb), ALCM_E_CORRUPT);
    free(d);
    free(c);

    /* K, X and the parts they delimit: streams built from a tiny input, whose header is v,
     * the bucket log, m = 3, K = 1, X = 1 (a byte each), then the raw byte (a run of 3:
     * bucket 1, one raw bit), the zstd frame and the bucket data */
    uint8_t small[5] = {1, 0, 0, 0, 2};
    size_t sl = roundtrip(small, 5, &c);
    assert_int_equal(c[2], 3);
    assert_int_equal(c[3], 1);
    assert_int_equal(c[4], 1);
    d = tu_malloc(sl + 1);
    const struct {
        size_t at;
        uint8_t value;
    } edits[] = {
        {3, 0},   /* no runs, but a bucket table */
        {3, 2},   /* two runs stated, one in the symbols */
        {3, 4},   /* K > m */
        {4, 0},   /* raw bits missing */
        {4, 2},   /* one raw byte too many */
        {4, 200}, /* beyond the data */
        {2, 2},   /* the frame holds 3 symbols, not 2 */
        {2, 4},   /* nor 4 */
        {5, 3},   /* a padding bit of the raw byte set */
        {0, 7},   /* another run value: the symbols hold no run */
    };
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        memcpy(d, c, sl);
        d[edits[k].at] = edits[k].value;
        assert_int_equal(alcm_runs_decode(&dec, d, sl, back, 5, &sb), ALCM_E_CORRUPT);
    }
    memcpy(d, c, sl);
    d[6] ^= 0xFF; /* not a zstd frame (its magic number damaged) */
    assert_int_equal(alcm_runs_decode(&dec, d, sl, back, 5, &sb), ALCM_E_CORRUPT);
    memcpy(d, c, sl);
    d[sl] = 0; /* a byte after the bucket data */
    assert_int_equal(alcm_runs_decode(&dec, d, sl + 1, back, 5, &sb), ALCM_E_CORRUPT);
    free(d);
    free(c);
    /* without runs the frame must end the data */
    uint8_t none[6] = {1, 2, 3, 4, 5, 6};
    sl = roundtrip(none, 6, &c);
    assert_int_equal(c[1], 0);
    assert_int_equal(c[3], 0);
    d = tu_malloc(sl + 1);
    memcpy(d, c, sl);
    d[sl] = 0;
    assert_int_equal(alcm_runs_decode(&dec, d, sl + 1, back, 6, &sb), ALCM_E_CORRUPT);
    d[1] = 9; /* a bucket table log without runs */
    assert_int_equal(alcm_runs_decode(&dec, d, sl, back, 6, &sb), ALCM_E_CORRUPT);
    free(d);
    free(c);
    /* a bucket above 31: a hand-made stream whose single run token is bucket 32 */
    {
        uint8_t sym0 = 0, bucket = 32;
        uint8_t frame[64], tans[64];
        size_t fl = 0, tl = 0;
        alcm_coder zc = {ALCM_BACKEND_ZSTD, 1, 0, 0};
        assert_int_equal(alcm_backend_compress(&enc, &zc, &sym0, 1, frame, sizeof frame, &fl),
                         ALCM_OK);
        uint32_t hist[256] = {0};
        hist[bucket] = 1;
        assert_int_equal(alcm_tans_encode(&bucket, 1, hist, 9, tans, sizeof tans, &tl), ALCM_OK);
        uint8_t h[200];
        size_t hl = 0;
        h[hl++] = 0;
        h[hl++] = 9;
        h[hl++] = 1; /* m */
        h[hl++] = 1; /* K */
        h[hl++] = 4; /* X: 32 raw bits */
        memset(h + hl, 0, 4);
        hl += 4;
        memcpy(h + hl, frame, fl);
        hl += fl;
        memcpy(h + hl, tans, tl);
        hl += tl;
        assert_int_equal(alcm_runs_decode(&dec, h, hl, back, 5, &sb), ALCM_E_CORRUPT);
        /* the same with bucket 2 and its 2 raw bits decodes a run of 4 .. 7 */
        bucket = 2;
        memset(hist, 0, sizeof hist);
        hist[bucket] = 1;
        assert_int_equal(alcm_tans_encode(&bucket, 1, hist, 9, tans, sizeof tans, &tl), ALCM_OK);
        hl = 0;
        h[4] = 1;
        hl = 5;
        h[hl++] = 1; /* L = 4 + 1 */
        memcpy(h + hl, frame, fl);
        hl += fl;
        memcpy(h + hl, tans, tl);
        hl += tl;
        assert_int_equal(alcm_runs_decode(&dec, h, hl, back, 5, &sb), ALCM_OK);
        for (int t = 0; t < 5; t++) assert_int_equal(back[t], 0);
        h[5] = 1 | 4; /* a padding bit set */
        assert_int_equal(alcm_runs_decode(&dec, h, hl, back, 5, &sb), ALCM_E_CORRUPT);
        h[5] = 2; /* L = 6: more than the output */
        assert_int_equal(alcm_runs_decode(&dec, h, hl, back, 5, &sb), ALCM_E_CORRUPT);
        h[5] = 0; /* L = 4: fewer */
        assert_int_equal(alcm_runs_decode(&dec, h, hl, back, 5, &sb), ALCM_E_CORRUPT);
    }
    /* a run longer than the output (the lengths do not add up) */
    uint8_t big[40];
    memset(big, 0, sizeof big);
    big[0] = 3;
    size_t bl = roundtrip(big, sizeof big, &c);
    assert_int_equal(alcm_runs_decode(&dec, c, bl, back, sizeof big - 1, &sb), ALCM_E_CORRUPT);
    assert_int_equal(alcm_runs_decode(&dec, c, bl, back, sizeof big + 1, &sb), ALCM_E_CORRUPT);
    free(c);
    alcm_buf_free(&sb);
    free(x);
    free(back);
}


/* The encoder's judgement (judge = 1): streams whose zero bytes are under 65 % of them are
 * left to plain coding (nothing written), the others are cut, exactly at the boundary. */
static void test_judge(void **state)
{
    (void)state;
    const size_t sizes[] = {20000, 400000};
    for (size_t k = 0; k < 2; k++) {
        size_t n = sizes[k], cap = n + 1000, len = 1;
        uint8_t *x = tu_malloc(n), *c = tu_malloc(cap);
        uint8_t *scratch = tu_malloc(alcm_runs_scratch(n));
        codes(x, n, 8, 0.2, 5 + k); /* dense: a zero code one time in five */
        assert_int_equal(alcm_runs_encode(&enc, x, n, 0, 1, scratch, c, cap, &len), ALCM_OK);
        assert_int_equal(len, 0);
        codes(x, n, 4, 0.9, 9 + k); /* sparse */
        assert_int_equal(alcm_runs_encode(&enc, x, n, 0, 1, scratch, c, cap, &len), ALCM_OK);
        assert_true(len > 0 && len < n / 2);
        size_t len0 = 0; /* judged or not, the same bytes */
        uint8_t *c0 = tu_malloc(cap);
        assert_int_equal(alcm_runs_encode(&enc, x, n, 0, 0, scratch, c0, cap, &len0), ALCM_OK);
        assert_int_equal(len0, len);
        assert_memory_equal(c0, c, len);
        free(c0);
        /* 13 zero bytes in 20 are cut, 13 in 20 less one byte are not */
        for (size_t i = 0; i < n; i++) x[i] = i % 20 < 13 ? 0 : (uint8_t)(1 + i % 7);
        assert_int_equal(alcm_runs_encode(&enc, x, n, 0, 1, scratch, c, cap, &len), ALCM_OK);
        assert_true(len > 0);
        x[0] = 9;
        assert_int_equal(alcm_runs_encode(&enc, x, n, 0, 1, scratch, c, cap, &len), ALCM_OK);
        assert_int_equal(len, 0);
        free(scratch);
        free(c);
        free(x);
    }
}

static int teardown(void **state)
{
    (void)state;
    alcm_backend_enc_free(&enc);
    alcm_backend_dec_free(&dec);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width_classes),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_judge),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
