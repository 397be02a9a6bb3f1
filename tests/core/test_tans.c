/* test_tans.c - static order-0 tANS of byte planes (tans.c, stream methods 2 and 3): every
 * table size a stream may use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tans.h"
#include "testutil.h"

#define TABLE_AT 32 /* the frequencies follow the 32-byte bitmap */

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Encodes src[0..n) with a 2^log-slot table and room for anything, decodes it and checks
 * the bytes; returns the coded size and leaves the coded data in *coded (caller frees) when
 * coded is non-NULL. A decoder told another table size rejects the stream. */
static size_t roundtrip_log(const uint8_t *src, size_t n, unsigned log, uint8_t **coded)
{
    uint32_t hist[256];
    alcm_tans_histogram(src, n, hist);
    size_t cap = 2 * n + 600, len;
    uint8_t *c = tu_malloc(cap), *back = tu_malloc(n);
    assert_int_equal(alcm_tans_encode(src, n, hist, log, c, cap, &len), ALCM_OK);
    assert_true(len >= 32 + 1 + 1 + (4 * log + 7) / 8);
    assert_int_equal(alcm_tans_decode(c, len, back, n, log), ALCM_OK);
    assert_memory_equal(back, src, n);
    for (unsigned other = ALCM_TANS_LOG_MIN; other <= ALCM_TANS_LOG; other++)
        if (other != log)
            assert_int_equal(alcm_tans_decode(c, len, back, n, other), ALCM_E_CORRUPT);
    free(back);
    if (coded)
        *coded = c;
    else
        free(c);
    return len;
}

static size_t roundtrip(const uint8_t *src, size_t n, uint8_t **coded)
{
    return roundtrip_log(src, n, ALCM_TANS_LOG, coded);
}

static void test_round_trips(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 1000, 65537, 300001};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *x = tu_malloc(n);
        uint64_t s = 12345 + k;
        for (int dist = 0; dist < 5; dist++) {
            for (size_t i = 0; i < n; i++) {
                uint64_t r = next(&s);
                switch (dist) {
                case 0: x[i] = (uint8_t)r; break;                       /* uniform */
                case 1: x[i] = (uint8_t)(120 + __builtin_ctzll(r | 1ull << 40) % 9); break;
                case 2: x[i] = 7; break;                                /* one value */
                case 3: x[i] = r % 1000 ? 0 : (uint8_t)(r >> 8); break; /* rare values */
                default: x[i] = (uint8_t)((r & 1) ? 255 : 0); break;    /* two extremes */
                }
            }
            for (unsigned log = ALCM_TANS_LOG_MIN; log <= ALCM_TANS_LOG; log++) {
                size_t len = roundtrip_log(x, n, log, NULL);
                /* one value: bitmap, one 2-byte frequency, padding count, four log-bit
                 * states */
                if (dist == 2) assert_int_equal(len, 32 + 2 + 1 + (4 * log + 7) / 8);
                if (dist == 1 && n >= 65537) assert_true(len < n / 3); /* ~2 bits per byte */
            }
        }
        free(x);
    }
}

/* The histogram is exact: plain counts of every byte, for sizes below and above the
 * vector path's threshold (4096) and its 255-step flush, skewed planes whose values all
 * fall among the 16 it compares against, planes with bytes outside them, and flat ones. */
static void test_histogram_exact(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 31, 4095, 4096, 4097, 1024 + 255 * 32, 1024 + 255 * 32 + 33,
                            20000, 300001};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *x = tu_malloc(n ? n : 1);
        uint64_t s = 777 + k;
        for (int dist = 0; dist < 5; dist++) {
            for (size_t i = 0; i < n; i++) {
                uint64_t r = next(&s);
                switch (dist) {
                case 0: x[i] = (uint8_t)r; break;                               /* flat */
                case 1: x[i] = (uint8_t)(120 + __builtin_ctzll(r | 1ull << 40) % 9); break;
                case 2: x[i] = (uint8_t)(100 + r % 16); break;                  /* 16 values */
                case 3: x[i] = r % 500 ? (uint8_t)(100 + r % 12) : (uint8_t)(r >> 8); break;
                default: x[i] = i < n / 2 ? 5 : (uint8_t)(200 + r % 40); break; /* changes */
                }
            }
            uint32_t hist[256], ref[256];
            memset(ref, 0, sizeof ref);
            for (size_t i = 0; i < n; i++) ref[x[i]]++;
            memset(hist, 0xA5, sizeof hist); /* the function sets every count */
            alcm_tans_histogram(x, n, hist);
            assert_memory_equal(hist, ref, sizeof ref);
        }
        free(x);
    }
}

static void test_near_entropy(void **state)
{
    (void)state;
    /* a skewed 6-value source: the code stays within 1 % of its order-0 entropy */
    const size_t n = 200000;
    uint8_t *x = tu_malloc(n);
    uint64_t s = 5;
    const double p[6] = {0.45, 0.25, 0.15, 0.08, 0.05, 0.02};
    double h = 0.0;
    for (int v = 0; v < 6; v++) h -= p[v] * __builtin_log2(p[v]);
    for (size_t i = 0; i < n; i++) {
        double u = (double)(next(&s) >> 11) / 9007199254740992.0, c = 0.0;
        int v = 0;
        while (v < 5 && u >= (c += p[v])) v++;
        x[i] = (uint8_t)(64 + v);
    }
    size_t len = roundtrip(x, n, NULL);
    assert_true(8.0 * (double)len / (double)n < h * 1.01);
    len = roundtrip_log(x, n, 10, NULL); /* a 1024-slot table: still within 1 % */
    assert_true(8.0 * (double)len / (double)n < h * 1.01);
    free(x);
}

static void test_too_small_reported(void **state)
{
    (void)state;
    const size_t n = 5000;
    uint8_t *x = tu_malloc(n), *c = tu_malloc(2 * n);
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++) x[i] = (uint8_t)next(&s);
    uint32_t hist[256];
    alcm_tans_histogram(x, n, hist);
    size_t len;
    /* uniform bytes cannot shrink: asking for less than n fails cleanly */
    assert_int_equal(alcm_tans_encode(x, n, hist, 12, c, n - 1, &len), ALCM_E_DST_TOO_SMALL);
    assert_int_equal(alcm_tans_encode(x, n, hist, 12, c, 10, &len), ALCM_E_DST_TOO_SMALL);
    assert_int_equal(alcm_tans_encode(x, n, hist, 9, c, n - 1, &len), ALCM_E_DST_TOO_SMALL);
    assert_int_equal(alcm_tans_encode(x, n, hist, 12, c, 2 * n, &len), ALCM_OK);
    assert_true(len > n);
    /* table sizes outside 2^9 .. 2^12 are refused */
    assert_int_equal(alcm_tans_encode(x, n, hist, 8, c, 2 * n, &len), ALCM_E_ARG);
    assert_int_equal(alcm_tans_encode(x, n, hist, 13, c, 2 * n, &len), ALCM_E_ARG);
    free(x);
    free(c);
}

static void test_corrupt_streams_rejected(void **state)
{
    (void)state;
    const size_t n = 4000;
    uint8_t *x = tu_malloc(n), *back = tu_malloc(n + 1);
    uint64_t s = 7;
    for (size_t i = 0; i < n; i++) x[i] = (uint8_t)(60 + next(&s) % 5); /* values 60..64 */
    uint8_t *c;
    size_t len = roundtrip(x, n, &c);
    uint8_t *bad = tu_malloc(len + 4);
    size_t padat = TABLE_AT; /* after the 5 varints */
    for (int v = 0; v < 5; v++) padat += (c[padat] & 0x80) ? 2 : 1;
    assert_true(c[padat] <= 7);
    memcpy(bad, c, len);
    memset(bad, 0, 32);
    assert_int_equal(alcm_tans_decode(bad, len, back, n, 12), ALCM_E_CORRUPT); /* empty bitmap */
    memcpy(bad, c, len);
    bad[TABLE_AT] ^= 1; /* the frequencies no longer sum to 2^12 */
    assert_int_equal(alcm_tans_decode(bad, len, back, n, 12), ALCM_E_CORRUPT);
    memcpy(bad, c, len);
    bad[56 >> 3] |= 1u << (56 & 7); /* value 56 claimed present: the table shifts */
    assert_int_equal(alcm_tans_decode(bad, len, back, n, 12), ALCM_E_CORRUPT);
    memcpy(bad, c, len);
    bad[padat] = 8; /* padding count out of range */
    assert_int_equal(alcm_tans_decode(bad, len, back, n, 12), ALCM_E_CORRUPT);
    /* bits: some missing, an extra byte, changed bits in the stream */
    assert_int_equal(alcm_tans_decode(c, len - 1, back, n, 12), ALCM_E_CORRUPT);
    memcpy(bad, c, len);
    bad[len] = 0;
    assert_int_equal(alcm_tans_decode(bad, len + 1, back, n, 12), ALCM_E_CORRUPT);
    for (size_t at = padat + 1; at < len; at += 97) {
        memcpy(bad, c, len);
        bad[at] ^= 0x24;
        assert_int_equal(alcm_tans_decode(bad, len, back, n, 12), ALCM_E_CORRUPT);
    }
    /* a different decoded length never ends on the initial states with every bit read */
    assert_int_equal(alcm_tans_decode(c, len, back, n - 1, 12), ALCM_E_CORRUPT);
    assert_int_equal(alcm_tans_decode(c, len, back, n + 1, 12), ALCM_E_CORRUPT);
    /* short inputs */
    assert_int_equal(alcm_tans_decode(c, 31, back, n, 12), ALCM_E_CORRUPT);
    assert_int_equal(alcm_tans_decode(c, padat, back, n, 12), ALCM_E_CORRUPT);
    assert_int_equal(alcm_tans_decode(c, padat + 3, back, n, 12), ALCM_E_CORRUPT);
    assert_int_equal(alcm_tans_decode(c, len, back, 0, 12), ALCM_E_CORRUPT);
    /* a one-value stream by hand: value 0 with f = 2^12 (0xFF 0x1F), no padding, four
     * zero states (the encoder's initial ones), no other bits: zero bits per byte */
    uint8_t t[32 + 2 + 1 + 6];
    memset(t, 0, sizeof t);
    t[0] = 1;
    t[32] = 0xFF;
    t[33] = 0x1F;
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 12), ALCM_OK);
    assert_int_equal(back[0], 0);
    assert_int_equal(back[2], 0);
    t[36] = 0x10; /* a state bit set: the final states are not the initial ones */
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 12), ALCM_E_CORRUPT);
    t[36] = 0;
    t[34] = 1; /* one padding bit: the 48 state bits no longer fit in the 6 bytes */
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 12), ALCM_E_CORRUPT);
    t[34] = 0;
    t[33] = 0x00; /* continuation with a zero high part */
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 12), ALCM_E_CORRUPT);
    t[33] = 0x80; /* a third varint byte */
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 12), ALCM_E_CORRUPT);
    t[33] = 0x3F; /* f = 2^13: more than the whole table */
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 12), ALCM_E_CORRUPT);
    t[33] = 0x1F;
    /* the same stream read with other table sizes: f no longer sums to the table, or the
     * size is out of range */
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 11), ALCM_E_CORRUPT);
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 13), ALCM_E_CORRUPT);
    assert_int_equal(alcm_tans_decode(t, sizeof t, back, 3, 8), ALCM_E_CORRUPT);
    /* a one-value stream with a 2^9-slot table: f = 512 (0xFF 0x03), four 9-bit zero
     * states in 5 bytes (4 bits of them unused: the padding count says 4) */
    uint8_t t9[32 + 2 + 1 + 5];
    memset(t9, 0, sizeof t9);
    t9[0] = 1;
    t9[32] = 0xFF;
    t9[33] = 0x03;
    t9[34] = 4;
    assert_int_equal(alcm_tans_decode(t9, sizeof t9, back, 2, 9), ALCM_OK);
    assert_int_equal(back[1], 0);
    assert_int_equal(alcm_tans_decode(t9, sizeof t9, back, 2, 12), ALCM_E_CORRUPT);
    free(bad);
    free(c);
    free(back);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_histogram_exact),
        cmocka_unit_test(test_near_entropy),
        cmocka_unit_test(test_too_small_reported),
        cmocka_unit_test(test_corrupt_streams_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
