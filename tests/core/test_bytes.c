/* test_bytes.c - little-endian helpers, zigzag and canonical varints of bytes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"

static void test_little_endian_layout(void **state)
{
    (void)state;
    uint8_t b[8];
    alcm_put_u16(b, 0x1234);
    assert_int_equal(b[0], 0x34);
    assert_int_equal(b[1], 0x12);
    assert_int_equal(alcm_get_u16(b), 0x1234);
    alcm_put_u32(b, 0xA1B2C3D4u);
    assert_int_equal(b[0], 0xD4);
    assert_int_equal(b[3], 0xA1);
    assert_int_equal(alcm_get_u32(b), 0xA1B2C3D4u);
    alcm_put_u64(b, 0x0102030405060708ull);
    for (int i = 0; i < 8; i++) assert_int_equal(b[i], 8 - i);
    assert_true(alcm_get_u64(b) == 0x0102030405060708ull);
    const double vals[] = {0.0, -0.0, 1.0 / 3.0, 1e-310, -1e300};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        alcm_put_f64(b, vals[i]);
        double back = alcm_get_f64(b);
        assert_memory_equal(&back, &vals[i], sizeof back);
    }
}

static void test_zigzag(void **state)
{
    (void)state;
    assert_int_equal(alcm_zigzag(0), 0);
    assert_int_equal(alcm_zigzag(-1), 1);
    assert_int_equal(alcm_zigzag(1), 2);
    assert_int_equal(alcm_zigzag(-2), 3);
    assert_int_equal(alcm_zigzag(32767), 65534);
    assert_int_equal(alcm_zigzag(-32767), 65533);
    assert_true(alcm_zigzag(INT32_MIN) == UINT32_MAX);
    for (int32_t v = -70000; v <= 70000; v += 7) assert_int_equal(alcm_unzigzag(alcm_zigzag(v)), v);
    assert_int_equal(alcm_unzigzag(UINT32_MAX), INT32_MIN);
}

static void test_varint_roundtrip(void **state)
{
    (void)state;
    uint8_t b[4];
    for (uint32_t v = 0; v < (1u << 21); v = v * 3 + 1) {
        size_t n = alcm_varint_put(b, v);
        assert_int_equal(n, v < 128 ? 1 : v < 16384 ? 2 : 3);
        uint32_t back = 0;
        assert_int_equal(alcm_varint_get(b, n, &back), n);
        assert_int_equal(back, v);
        /* one byte short is truncated */
        assert_int_equal(alcm_varint_get(b, n - 1, &back), 0);
    }
}

static void test_varint_rejects_noncanonical(void **state)
{
    (void)state;
    uint32_t v;
    const uint8_t overlong[] = {0x80, 0x00};        /* 0 in two bytes */
    assert_int_equal(alcm_varint_get(overlong, 2, &v), 0);
    const uint8_t overlong3[] = {0xFF, 0x80, 0x00}; /* 127 in three bytes */
    assert_int_equal(alcm_varint_get(overlong3, 3, &v), 0);
    const uint8_t four[] = {0x80, 0x80, 0x80, 0x01}; /* 2^21 needs 4 bytes: too long */
    assert_int_equal(alcm_varint_get(four, 4, &v), 0);
    const uint8_t ok[] = {0xFF, 0x7F};
    assert_int_equal(alcm_varint_get(ok, 2, &v), 2);
    assert_int_equal(v, 16383);
    assert_int_equal(alcm_varint_get(ok, 0, &v), 0);
}

static void test_buf_grow_keeps_contents(void **state)
{
    (void)state;
    alcm_buf b = {0};
    assert_int_equal(alcm_buf_grow(&b, 10), 0);
    memcpy(b.p, "abcdefghij", 10);
    assert_int_equal(alcm_buf_grow(&b, 100000), 0);
    assert_true(b.cap >= 100000);
    assert_memory_equal(b.p, "abcdefghij", 10);
    assert_int_equal(alcm_buf_reserve(&b, 50), 0); /* already large enough: kept */
    assert_memory_equal(b.p, "abcdefghij", 10);
    alcm_buf_free(&b);
    assert_null(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_little_endian_layout),
        cmocka_unit_test(test_zigzag),
        cmocka_unit_test(test_varint_roundtrip),
        cmocka_unit_test(test_varint_rejects_noncanonical),
        cmocka_unit_test(test_buf_grow_keeps_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
