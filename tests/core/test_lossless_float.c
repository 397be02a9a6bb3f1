/* test_lossless_float.c - exact byte-plane coding of f32/f16/bf16 (lossless_float.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"
#include "testutil.h"

static alcm_params lossless(alcm_dtype dt, alcm_backend be)
{
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    p.dtype = dt;
    p.backend = be;
    return p;
}

/* Round trip of n elements of dt; returns the ratio. */
static double roundtrip(const alcm_params *p, const alcm_shape *sh, const void *src, size_t bytes)
{
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    size_t cap = alcm_compress_bound(bytes), len, out;
    uint8_t *blob = tu_malloc(cap), *back = tu_malloc(bytes);
    alcm_info info;
    assert_int_equal(alcm_compress(cx, p, sh, src, bytes, NULL, blob, cap, &len, &info), ALCM_OK);
    assert_int_equal(info.exact, 1);
    assert_int_equal(info.blob_bytes, len);
    assert_int_equal(blob[5], 2); /* codec lossless-float */
    assert_int_equal(alcm_decompress(dx, blob, len, back, bytes, &out), ALCM_OK);
    assert_int_equal(out, bytes);
    assert_memory_equal(back, src, bytes);
    double ratio = info.ratio;
    free(blob);
    free(back);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
    return ratio;
}

static void test_f32_special_bit_patterns(void **state)
{
    (void)state;
    const size_t n = 10007;
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 100, 4);
    const uint32_t specials[] = {0x7fc00001u, 0xffc12345u, 0x7f800000u, 0xff800000u,
                                 0x80000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        memcpy(&x[i * 997], &specials[i], 4);
    alcm_shape sh = {2, {1, n}};
    for (int be = 1; be <= 2; be++) {
        alcm_params p = lossless(ALCM_DTYPE_F32, (alcm_backend)be);
        double r = roundtrip(&p, &sh, x, n * 4);
        assert_true(r > 1.1); /* the exponent plane compresses */
    }
    free(x);
}

static void test_half_types(void **state)
{
    (void)state;
    const size_t n = 50001;
    uint16_t *h = tu_malloc(n * 2);
    float *x = tu_synth(ALCM_SYNTH_LAPLACE, n, 100, 5);
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], 4);
        h[i] = (uint16_t)(b >> 16); /* bf16 by truncation */
    }
    h[3] = 0x7fc1; /* NaN payload */
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    alcm_params p = lossless(ALCM_DTYPE_BF16, ALCM_BACKEND_AUTO);
    assert_true(roundtrip(&p, &sh, h, n * 2) > 1.05);
    for (size_t i = 0; i < n; i++) h[i] = (uint16_t)(0x3c00 + (i * 7919) % 2048); /* f16 */
    p = lossless(ALCM_DTYPE_F16, ALCM_BACKEND_ZLIB);
    roundtrip(&p, &sh, h, n * 2);
    free(h);
    free(x);
}

static void test_segments_and_sizes(void **state)
{
    (void)state;
    /* more than one segment, sizes around the boundaries, empty and single elements */
    const size_t sizes[] = {0, 1, 2, 3, 4095, (1u << 20) + 3};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        float *x = tu_synth(ALCM_SYNTH_MIXED_SCALE, n ? n : 1, 64, 6 + k);
        alcm_shape sh;
        alcm_shape_1d(&sh, n);
        alcm_params p = lossless(ALCM_DTYPE_F32, ALCM_BACKEND_ZSTD);
        roundtrip(&p, &sh, x, n * 4);
        free(x);
    }
}

static void test_random_bits_stored(void **state)
{
    (void)state;
    /* random bit patterns do not compress: every plane is stored, ratio just below 1 */
    const size_t n = 200000;
    uint32_t *x = tu_malloc(n * 4);
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (uint32_t)s;
    }
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    alcm_params p = lossless(ALCM_DTYPE_F32, ALCM_BACKEND_AUTO);
    double r = roundtrip(&p, &sh, x, n * 4);
    assert_true(r > 0.999 && r <= 1.0);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_special_bit_patterns),
        cmocka_unit_test(test_half_types),
        cmocka_unit_test(test_segments_and_sizes),
        cmocka_unit_test(test_random_bits_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
