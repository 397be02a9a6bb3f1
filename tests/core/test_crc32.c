/* test_crc32.c - alcm_crc32 gives zlib's crc32() values (the checksum docs/FORMAT.md
 * specifies) for every length and alignment: the check value of "123456789", empty input,
 * every length 0..1100 at every offset 0..15 (the short-input and folding tails of
 * vectorised implementations), random lengths up to 4 MiB at random offsets, and runs of
 * equal bytes. The implementation in use is the one the build chose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "alcm_tools.h"

static uint32_t zlib_crc(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32_z(0L, p, n);
}

static uint8_t *random_bytes(uint64_t seed, size_t n)
{
    uint8_t *b = malloc(n);
    assert_non_null(b);
    alcm_rng r;
    alcm_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(alcm_rng_next(&r) >> 56);
    return b;
}

static void test_reference_values(void **state)
{
    (void)state;
    assert_int_equal(alcm_crc32("123456789", 9), 0xCBF43926u); /* the CRC-32 check value */
    assert_int_equal(alcm_crc32(NULL, 0), 0);
    assert_int_equal(alcm_crc32("", 0), 0);
    assert_int_equal(alcm_crc32("a", 1), 0xE8B7BE43u);
    static const uint8_t zeros[32];
    assert_int_equal(alcm_crc32(zeros, 32), zlib_crc(zeros, 32));
    assert_int_equal(alcm_crc32(zeros, 32), 0x190A55ADu);
}

static void test_every_short_length_and_offset(void **state)
{
    (void)state;
    const size_t max = 1100, pad = 16;
    uint8_t *b = random_bytes(1, max + pad);
    for (size_t off = 0; off < pad; off++)
        for (size_t n = 0; n <= max; n++)
            if (alcm_crc32(b + off, n) != zlib_crc(b + off, n))
                fail_msg("offset %zu length %zu: 0x%08x, zlib 0x%08x", off, n,
                         alcm_crc32(b + off, n), zlib_crc(b + off, n));
    free(b);
}

static void test_random_lengths_and_offsets(void **state)
{
    (void)state;
    const size_t max = (size_t)4 << 20;
    uint8_t *b = random_bytes(2, max + 64);
    alcm_rng r;
    alcm_rng_seed(&r, 3);
    for (int i = 0; i < 300; i++) {
        /* Log-uniform lengths: as many short as long ones. */
        size_t n = (size_t)(alcm_rng_next(&r) % ((uint64_t)1 << (alcm_rng_next(&r) % 23)));
        size_t off = (size_t)(alcm_rng_next(&r) % 64);
        if (n > max) n = max;
        assert_int_equal(alcm_crc32(b + off, n), zlib_crc(b + off, n));
    }
    assert_int_equal(alcm_crc32(b, max), zlib_crc(b, max));
    assert_int_equal(alcm_crc32(b + 1, max + 63), zlib_crc(b + 1, max + 63));
    free(b);
}

static void test_equal_byte_runs(void **state)
{
    (void)state;
    const size_t n = 70000;
    uint8_t *b = malloc(n);
    assert_non_null(b);
    const uint8_t fill[4] = {0x00, 0xFF, 0x80, 0x3C};
    for (int k = 0; k < 4; k++) {
        memset(b, fill[k], n);
        for (size_t len = 1; len <= n; len = len * 3 + 1)
            assert_int_equal(alcm_crc32(b, len), zlib_crc(b, len));
        assert_int_equal(alcm_crc32(b, n), zlib_crc(b, n));
    }
    free(b);
}

static void test_implementation_is_the_built_one(void **state)
{
    (void)state;
    const char *impl = alcm_crc32_impl();
    assert_non_null(impl);
#ifdef ALCM_EXPECT_CRC_IMPL
    assert_string_equal(impl, ALCM_EXPECT_CRC_IMPL);
#else
    assert_true(strcmp(impl, "isa-l") == 0 || strcmp(impl, "zlib") == 0);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_every_short_length_and_offset),
        cmocka_unit_test(test_random_lengths_and_offsets),
        cmocka_unit_test(test_equal_byte_runs),
        cmocka_unit_test(test_implementation_is_the_built_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
