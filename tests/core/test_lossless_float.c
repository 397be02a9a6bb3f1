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
#include "lossless_float_old_blobs.h"
#include "testutil.h"

static alcm_params lossless(alcm_dtype dt, alcm_backend be)
{
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    p.dtype = dt;
    p.backend = be;
    return p;
}

/* Offset of the transform byte of a rank-1 lossless-float blob: header 28 + one dim 8,
 * section byte 4. */
#define TRANSFORM_AT (28 + 8 + 4)

/* Round trip of n elements of dt; returns the ratio, and the blob's transform byte in
 * *transform when non-NULL (rank-1 shapes only). */
static double roundtrip_t(const alcm_params *p, const alcm_shape *sh, const void *src,
                          size_t bytes, int *transform)
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
    if (transform) {
        assert_int_equal(sh->rank, 1);
        *transform = blob[TRANSFORM_AT];
        /* the same input and options give the same blob, from a fresh context too */
        alcm_cctx *cx2 = alcm_cctx_create();
        uint8_t *again = tu_malloc(cap);
        size_t len2;
        assert_int_equal(alcm_compress(cx2, p, sh, src, bytes, NULL, again, cap, &len2, NULL),
                         ALCM_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(again, blob, len);
        free(again);
        alcm_cctx_free(cx2);
    }
    free(blob);
    free(back);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
    return ratio;
}

static double roundtrip(const alcm_params *p, const alcm_shape *sh, const void *src, size_t bytes)
{
    return roundtrip_t(p, sh, src, bytes, NULL);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The top 16 bits of an element, built so that one transform wins by about a bit per
 * element on the two top planes: bits 14..8 from a skewed small set (an exponent-like
 * field), bits 6..0 random; favour 1 (rotation): the sign random and bit 7 a function of
 * bits 14..8, so transform 0 splits that dependence across two planes; favour 0: bit 7
 * random and the sign a function of bits 14..8, which transform 1 would split. */
static uint16_t top16(uint64_t *s, int favour_rotation)
{
    uint64_t r = xorshift(s);
    uint32_t hi7 = 56 + (uint32_t)(r & 3) + (uint32_t)((r >> 2) & 1) * ((r >> 3) & 3); /* skewed */
    uint32_t lo7 = (uint32_t)(r >> 8) & 0x7F;
    uint32_t b7, sign;
    if (favour_rotation) {
        b7 = hi7 & 1;
        sign = (uint32_t)(r >> 20) & 1;
    } else {
        b7 = (uint32_t)(r >> 20) & 1;
        sign = (hi7 >> 1) & 1;
    }
    return (uint16_t)(sign << 15 | hi7 << 8 | b7 << 7 | lo7);
}

/* Every special class of each dtype: NaNs with payloads (quiet and signalling, both
 * signs), infinities, -0.0, +0.0, the smallest and largest subnormals, the largest
 * finite. */
static const uint32_t specials_f32[] = {0x7fc00001u, 0xffc12345u, 0x7f800001u, 0xff800000u,
                                        0x7f800000u, 0x80000000u, 0x00000000u, 0x00000001u,
                                        0x807fffffu, 0x7f7fffffu, 0xff7fffffu, 0x00400000u};
static const uint16_t specials_16[] = {0x7fc1, 0xffa5, 0x7f81, 0xff80, 0x7f80, 0x8000,
                                       0x0000, 0x0001, 0x807f, 0x7f7f, /* bf16 */
                                       0x7e01, 0xfd55, 0x7c00, 0xfc00, 0x83ff, 0x7bff}; /* f16 */

static void *make_elements(alcm_dtype dt, size_t n, int favour_rotation, uint64_t seed)
{
    const size_t es = alcm_dtype_size(dt);
    uint8_t *x = tu_malloc(n ? n * es : 1);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        uint16_t t = top16(&s, favour_rotation);
        if (es == 4) {
            uint32_t v = (uint32_t)t << 16 | (uint32_t)(xorshift(&s) & 0xFFFF);
            memcpy(x + 4 * i, &v, 4);
        } else {
            memcpy(x + 2 * i, &t, 2);
        }
    }
    /* specials spread over the input (few enough not to move the transform choice) */
    size_t ns = es == 4 ? sizeof specials_f32 / 4 : sizeof specials_16 / 2;
    for (size_t k = 0; k < ns && n; k++) {
        size_t at = (k * 7919 + 3) % n;
        if (es == 4)
            memcpy(x + 4 * at, &specials_f32[k], 4);
        else
            memcpy(x + 2 * at, &specials_16[k], 2);
    }
    return x;
}

static void test_transforms_round_trip_every_dtype(void **state)
{
    (void)state;
    /* odd lengths, one element, and more than one segment (2^20 elements) */
    const size_t sizes[] = {1, 3, 1001, 65537, (1u << 20) + 5};
    const alcm_dtype dts[] = {ALCM_DTYPE_F32, ALCM_DTYPE_F16, ALCM_DTYPE_BF16};
    for (size_t d = 0; d < 3; d++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            for (int fav = 0; fav <= 1; fav++) {
                size_t n = sizes[k];
                if (n > 70000 && dts[d] != ALCM_DTYPE_F32 && fav == 0) continue;
                void *x = make_elements(dts[d], n, fav, 100 * d + 10 * k + (size_t)fav);
                alcm_shape sh;
                alcm_shape_1d(&sh, n);
                for (int be = 1; be <= 2; be++) {
                    alcm_params p = lossless(dts[d], (alcm_backend)be);
                    int t = -1;
                    roundtrip_t(&p, &sh, x, n * alcm_dtype_size(dts[d]), &t);
                    /* the sampled estimate finds the planted dependence once there are
                     * enough samples; a tiny input may go either way */
                    if (n >= 1001) assert_int_equal(t, fav);
                    else assert_true(t == 0 || t == 1);
                }
                free(x);
            }
}

/* The input of the old blobs: k/8192 for a scrambled k in [-1000, 1000], and the f32
 * specials at every 13th place from 5 (bf16: the top 16 bits of the f32 values). */
static void old_blob_input(uint32_t *f32, uint16_t *bf16)
{
    const uint32_t sp[] = {0x7fc00001u, 0xffc12345u, 0x7f800000u, 0xff800000u,
                           0x80000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu};
    for (uint32_t i = 0; i < OLD_BLOB_ELEMENTS; i++) {
        uint32_t k = (uint32_t)(i * 2654435761u) % 2001u;
        float v = (float)((int32_t)k - 1000) / 8192.0f;
        memcpy(&f32[i], &v, 4);
    }
    for (uint32_t i = 0; i < 8; i++) f32[i * 13 + 5] = sp[i];
    for (uint32_t i = 0; i < OLD_BLOB_ELEMENTS; i++) bf16[i] = (uint16_t)(f32[i] >> 16);
}

static void test_old_transform0_blobs_decode(void **state)
{
    (void)state;
    uint32_t f32[OLD_BLOB_ELEMENTS], back32[OLD_BLOB_ELEMENTS];
    uint16_t bf16[OLD_BLOB_ELEMENTS], back16[OLD_BLOB_ELEMENTS];
    old_blob_input(f32, bf16);
    assert_int_equal(old_f32_blob[TRANSFORM_AT], 0);
    assert_int_equal(old_bf16_blob[TRANSFORM_AT], 0);
    alcm_dctx *dx = alcm_dctx_create();
    size_t out;
    assert_int_equal(alcm_decompress(dx, old_f32_blob, sizeof old_f32_blob, back32,
                                     sizeof back32, &out), ALCM_OK);
    assert_int_equal(out, sizeof f32);
    assert_memory_equal(back32, f32, sizeof f32);
    assert_int_equal(alcm_decompress(dx, old_bf16_blob, sizeof old_bf16_blob, back16,
                                     sizeof back16, &out), ALCM_OK);
    assert_int_equal(out, sizeof bf16);
    assert_memory_equal(back16, bf16, sizeof bf16);
    alcm_dctx_free(dx);
}

/* A lossless-float blob written by hand from docs/FORMAT.md: one segment, every plane a
 * stored stream, the planes cut from the words after the transform as the document gives
 * it (written out here, independently of the codec's code). */
static size_t hand_blob(uint8_t *buf, alcm_dtype dt, const void *src, size_t n, int transform)
{
    const size_t es = alcm_dtype_size(dt);
    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_LOSSLESS_FLOAT;
    f.dtype = (uint8_t)dt;
    f.backend = ALCM_BACKEND_ZSTD;
    alcm_shape_1d(&f.shape, n);
    f.raw_size = n * es;
    f.unit = (uint32_t)n;
    f.transform = (uint8_t)transform;
    size_t pos = alcm_frame_prefix_size(1, ALCM_CODEC_LOSSLESS_FLOAT);
    for (size_t b = es; b-- > 0;) {
        buf[pos] = 0; /* stored */
        for (int k = 0; k < 8; k++) buf[pos + 1 + k] = (uint8_t)((uint64_t)n >> (8 * k));
        pos += 9;
        for (size_t i = 0; i < n; i++) {
            uint32_t w = 0, t;
            memcpy(&w, (const uint8_t *)src + es * i, es);
            if (transform == 0)
                t = w;
            else if (es == 2)
                t = ((w << 1) | (w >> 15)) & 0xFFFFu;
            else
                t = ((w << 1) & 0xFFFE0000u) | ((w >> 15) & 0x00010000u) | (w & 0x0000FFFFu);
            buf[pos++] = (uint8_t)(t >> (8 * b));
        }
    }
    size_t len;
    alcm_frame_finish(buf, &f, pos, &len);
    return len;
}

static void test_hand_built_transforms_decode(void **state)
{
    (void)state;
    const size_t n = 333;
    const alcm_dtype dts[] = {ALCM_DTYPE_F32, ALCM_DTYPE_F16, ALCM_DTYPE_BF16};
    alcm_dctx *dx = alcm_dctx_create();
    for (size_t d = 0; d < 3; d++) {
        const size_t es = alcm_dtype_size(dts[d]);
        uint8_t *x = make_elements(dts[d], n, (int)(d & 1), 40 + d);
        uint8_t *buf = tu_malloc(64 + n * es + 9 * 4 + 8), *back = tu_malloc(n * es);
        for (int t = 0; t <= 1; t++) {
            size_t len = hand_blob(buf, dts[d], x, n, t), out;
            assert_int_equal(buf[TRANSFORM_AT], t);
            assert_int_equal(alcm_decompress(dx, buf, len, back, n * es, &out), ALCM_OK);
            assert_int_equal(out, n * es);
            assert_memory_equal(back, x, n * es);
        }
        /* unknown transform values are rejected, also with valid checksums */
        const int bad[] = {2, 3, 0x80, 0xFF};
        for (size_t k = 0; k < 4; k++) {
            size_t len = hand_blob(buf, dts[d], x, n, bad[k]), out;
            alcm_header bi;
            assert_int_equal(alcm_blob_header(buf, len, &bi), ALCM_E_CORRUPT);
            assert_int_equal(alcm_decompress(dx, buf, len, back, n * es, &out), ALCM_E_CORRUPT);
        }
        /* a transform byte flipped in a sealed blob fails its header checksum */
        size_t len = hand_blob(buf, dts[d], x, n, 1), out;
        buf[TRANSFORM_AT] ^= 1;
        assert_int_equal(alcm_decompress(dx, buf, len, back, n * es, &out), ALCM_E_CHECKSUM);
        free(buf);
        free(back);
        free(x);
    }
    alcm_dctx_free(dx);
}

static void test_weights_pick_rotation(void **state)
{
    (void)state;
    /* gaussian weights: the whole exponent in one plane codes smaller (f32, bf16) */
    const size_t n = 100000;
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 1000, 9);
    uint16_t *h = tu_malloc(n * 2);
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], 4);
        h[i] = (uint16_t)((b + 0x7FFFu + ((b >> 16) & 1)) >> 16); /* bf16, nearest even */
    }
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    for (int be = 1; be <= 2; be++) {
        int t;
        alcm_params p = lossless(ALCM_DTYPE_F32, (alcm_backend)be);
        roundtrip_t(&p, &sh, x, n * 4, &t);
        assert_int_equal(t, 1);
        p = lossless(ALCM_DTYPE_BF16, (alcm_backend)be);
        roundtrip_t(&p, &sh, h, n * 2, &t);
        assert_int_equal(t, 1);
    }
    free(h);
    free(x);
}

static void test_tans_planes_checked(void **state)
{
    (void)state;
    const size_t n = 50000;
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 1000, 11);
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    alcm_params p = lossless(ALCM_DTYPE_F32, ALCM_BACKEND_AUTO);
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    size_t cap = alcm_compress_bound(n * 4), len, out;
    uint8_t *blob = tu_malloc(cap), *back = tu_malloc(n * 4);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, n * 4, NULL, blob, cap, &len, NULL), ALCM_OK);
    const size_t first = alcm_frame_prefix_size(1, ALCM_CODEC_LOSSLESS_FLOAT);
    assert_int_equal(blob[first], ALCM_STREAM_TANS); /* the exponent plane */
    /* a changed byte inside the tANS data, checksums made valid again: corrupt, not a
     * wrong tensor */
    for (size_t at = first + 9 + 40; at < first + 9 + 200; at += 37) {
        blob[at] ^= 0x10;
        alcm_frame_seal(blob, len);
        assert_int_equal(alcm_decompress(dx, blob, len, back, n * 4, &out), ALCM_E_CORRUPT);
        blob[at] ^= 0x10;
        alcm_frame_seal(blob, len);
    }
    assert_int_equal(alcm_decompress(dx, blob, len, back, n * 4, &out), ALCM_OK);
    assert_memory_equal(back, x, n * 4);
    /* method 2 belongs to lossless-float planes only: a lossless-bytes stream with it is
     * rejected */
    alcm_params pb = lossless(ALCM_DTYPE_BYTES, ALCM_BACKEND_ZSTD);
    alcm_shape_1d(&sh, n * 4);
    assert_int_equal(alcm_compress(cx, &pb, &sh, x, n * 4, NULL, blob, cap, &len, NULL), ALCM_OK);
    size_t bfirst = alcm_frame_prefix_size(1, ALCM_CODEC_LOSSLESS_BYTES);
    assert_true(blob[bfirst] <= 1);
    blob[bfirst] = ALCM_STREAM_TANS;
    alcm_frame_seal(blob, len);
    assert_int_equal(alcm_decompress(dx, blob, len, back, n * 4, &out), ALCM_E_CORRUPT);
    free(blob);
    free(back);
    free(x);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
}

/* The exponent plane's table size follows its length (docs/FORMAT.md, method 3 and the
 * encoder's choice): 2^10 slots up to 2^14 bytes, 2^11 up to 2^15, method 2 (2^12) above.
 * A method-3 log byte out of range, or not the one the table was built with, is corrupt. */
static void test_plane_table_sizes(void **state)
{
    (void)state;
    const size_t sizes[] = {3000, 16384, 16385, 32768, 32769, 100000};
    const int method[] = {3, 3, 3, 3, 2, 2}, log[] = {10, 10, 11, 11, 12, 12};
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    const size_t first = alcm_frame_prefix_size(1, ALCM_CODEC_LOSSLESS_FLOAT);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const size_t n = sizes[k];
        float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 1000, 20 + k);
        uint16_t *h = tu_malloc(n * 2), *back = tu_malloc(n * 2);
        for (size_t i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &x[i], 4);
            h[i] = (uint16_t)(b >> 16);
        }
        alcm_shape sh;
        alcm_shape_1d(&sh, n);
        alcm_params p = lossless(ALCM_DTYPE_BF16, ALCM_BACKEND_ZSTD);
        size_t cap = alcm_compress_bound(n * 2), len, out;
        uint8_t *blob = tu_malloc(cap);
        assert_int_equal(alcm_compress(cx, &p, &sh, h, n * 2, NULL, blob, cap, &len, NULL),
                         ALCM_OK);
        assert_int_equal(blob[first], method[k]); /* the exponent plane, first */
        if (method[k] == 3) assert_int_equal(blob[first + 9], log[k]);
        assert_int_equal(alcm_decompress(dx, blob, len, back, n * 2, &out), ALCM_OK);
        assert_memory_equal(back, h, n * 2);
        if (method[k] == 3) {
            const uint8_t bad[] = {0, 8, 12, 13, 255, (uint8_t)(log[k] == 10 ? 11 : 10), 9};
            for (size_t b = 0; b < sizeof bad; b++) {
                blob[first + 9] = bad[b];
                alcm_frame_seal(blob, len);
                assert_int_equal(alcm_decompress(dx, blob, len, back, n * 2, &out),
                                 ALCM_E_CORRUPT);
            }
            blob[first + 9] = (uint8_t)log[k];
            /* a method-3 stream of one byte (its log byte alone) is corrupt */
            uint8_t keep[8];
            memcpy(keep, blob + first + 1, 8);
            memset(blob + first + 1, 0, 8);
            blob[first + 1] = 1;
            alcm_frame_seal(blob, len);
            assert_int_equal(alcm_decompress(dx, blob, len, back, n * 2, &out), ALCM_E_CORRUPT);
            memcpy(blob + first + 1, keep, 8);
            alcm_frame_seal(blob, len);
            assert_int_equal(alcm_decompress(dx, blob, len, back, n * 2, &out), ALCM_OK);
        }
        free(blob);
        free(back);
        free(h);
        free(x);
    }
    /* method 3 belongs to lossless-float planes only */
    const size_t n = 5000;
    uint8_t *bytes = tu_malloc(n), *blob = tu_malloc(alcm_compress_bound(n)), *back = tu_malloc(n);
    for (size_t i = 0; i < n; i++) bytes[i] = (uint8_t)(i % 7);
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    alcm_params pb = lossless(ALCM_DTYPE_BYTES, ALCM_BACKEND_ZSTD);
    size_t len, out;
    assert_int_equal(alcm_compress(cx, &pb, &sh, bytes, n, NULL, blob, alcm_compress_bound(n),
                                   &len, NULL), ALCM_OK);
    size_t bfirst = alcm_frame_prefix_size(1, ALCM_CODEC_LOSSLESS_BYTES);
    blob[bfirst] = ALCM_STREAM_TANS_SIZED;
    alcm_frame_seal(blob, len);
    assert_int_equal(alcm_decompress(dx, blob, len, back, n, &out), ALCM_E_CORRUPT);
    free(bytes);
    free(blob);
    free(back);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
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
        cmocka_unit_test(test_transforms_round_trip_every_dtype),
        cmocka_unit_test(test_old_transform0_blobs_decode),
        cmocka_unit_test(test_hand_built_transforms_decode),
        cmocka_unit_test(test_weights_pick_rotation),
        cmocka_unit_test(test_tans_planes_checked),
        cmocka_unit_test(test_plane_table_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
