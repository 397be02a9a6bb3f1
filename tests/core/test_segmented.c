/* test_segmented.c - per-segment error budgets (params.segments, blob codec 5): each
 * segment held to the budget on its own, boundaries checked, empty segments skipped,
 * lossless segments, error feedback through a stream, determinism, corrupt inner blobs
 * (segmented.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "format.h"
#include "testutil.h"

#define NA 100000u  /* a large layer of scale 1 */
#define NB 5000u    /* a small layer of scale 1e-3 */

static float *bucket(void)
{
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, NA + NB, 0, 7);
    for (size_t i = NA; i < NA + NB; i++) x[i] *= 1e-3f;
    return x;
}

static double rel_err(const float *x, const float *y, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - (double)y[i];
        num += d * d;
        den += (double)x[i] * (double)x[i];
    }
    return den > 0.0 ? sqrt(num / den) : 0.0;
}

static size_t encode(const alcm_params *p, const float *x, size_t n, float *r, uint8_t *blob,
                     size_t cap, alcm_info *info)
{
    alcm_cctx *cx = alcm_cctx_create();
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    size_t len = 0;
    assert_int_equal(alcm_compress(cx, p, &sh, x, n * 4, r, blob, cap, &len, info), ALCM_OK);
    alcm_cctx_free(cx);
    return len;
}

static void decode(const uint8_t *blob, size_t len, float *y, size_t n)
{
    alcm_dctx *dx = alcm_dctx_create();
    size_t out = 0;
    assert_int_equal(alcm_decompress(dx, blob, len, y, n * 4, &out), ALCM_OK);
    assert_int_equal(out, n * 4);
    alcm_dctx_free(dx);
}

static void test_each_segment_within_budget(void **state)
{
    (void)state;
    const size_t n = NA + NB;
    float *x = bucket(), *y = tu_malloc(n * 4);
    size_t cap = alcm_compress_bound_segments(n * 4, 1);
    uint8_t *blob = tu_malloc(cap);
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    alcm_info info;

    /* One budget for the whole bucket starves the small layer. */
    size_t len = encode(&p, x, n, NULL, blob, cap, &info);
    decode(blob, len, y, n);
    assert_true(rel_err(x, y, n) <= 0.01);
    assert_true(rel_err(x + NA, y + NA, NB) > 0.05);
    size_t plain_len = len;

    const uint64_t seg[1] = {NA};
    p.segments = seg;
    p.n_segments = 1;
    len = encode(&p, x, n, NULL, blob, cap, &info);
    assert_int_equal(info.n_segments, 2);
    assert_int_equal(info.exact, 0);
    assert_true(info.max_segment_error <= 0.01 && info.max_segment_error > 0.005);
    assert_true(info.rel_l2_error <= info.max_segment_error);
    assert_int_equal(info.blob_bytes, len);
    decode(blob, len, y, n);
    double ea = rel_err(x, y, NA), eb = rel_err(x + NA, y + NA, NB);
    assert_true(ea <= 0.01 && eb <= 0.01);
    assert_true(eb > 0.005); /* the small layer spends its budget too */
    assert_true(fabs(rel_err(x, y, n) - info.rel_l2_error) < 1e-4);
    /* The extra cost is the small layer's bits and one more header. */
    assert_true(len < plain_len + NB * 2);

    alcm_header h;
    assert_int_equal(alcm_blob_header(blob, len, &h), ALCM_OK);
    assert_int_equal(h.profile, ALCM_PROFILE_GRADIENT);
    assert_int_equal(h.n_segments, 2);
    assert_true(h.error_budget == 0.01);
    assert_true(h.rel_l2_error == info.max_segment_error);
    assert_int_equal(h.raw_bytes, n * 4);
    uint32_t nc = 0;
    float bits[64];
    assert_int_equal(alcm_blob_channel_bits(blob, len, bits, 64, &nc), ALCM_OK);
    assert_int_equal(nc, info.n_channels);
    assert_int_equal(nc, (NA + 4095) / 4096 + (NB + 4095) / 4096);
    for (uint32_t c = 0; c < nc && c < 64; c++) assert_true(bits[c] > 1.0f && bits[c] < 16.0f);

    /* Deterministic, and the same blob with empty segments added anywhere. */
    uint8_t *again = tu_malloc(cap);
    size_t len2 = encode(&p, x, n, NULL, again, cap, NULL);
    assert_int_equal(len2, len);
    assert_memory_equal(again, blob, len);
    const uint64_t seg_empty[5] = {0, 0, NA, NA, n};
    p.segments = seg_empty;
    p.n_segments = 5;
    len2 = encode(&p, x, n, NULL, again, alcm_compress_bound_segments(n * 4, 5), NULL);
    assert_int_equal(len2, len);
    assert_memory_equal(again, blob, len);
    free(again);
    free(blob);
    free(x);
    free(y);
}

static void test_boundaries_checked(void **state)
{
    (void)state;
    alcm_cctx *cx = alcm_cctx_create();
    float x[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t blob[8192];
    size_t len = 0;
    alcm_shape sh;
    alcm_shape_1d(&sh, 16);
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    const uint64_t down[2] = {8, 4}, over[1] = {17}, ok[2] = {4, 16};
    p.n_segments = 1; /* no array */
    assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 64, NULL, blob, sizeof blob, &len, NULL),
                     ALCM_E_ARG);
    p.segments = down;
    p.n_segments = 2;
    assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 64, NULL, blob, sizeof blob, &len, NULL),
                     ALCM_E_ARG);
    p.segments = over;
    p.n_segments = 1;
    assert_int_equal(alcm_params_check(&p), ALCM_OK); /* numel is known to compress only */
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 64, NULL, blob, sizeof blob, &len, NULL),
                     ALCM_E_ARG);
    p.segments = ok;
    p.n_segments = 2;
    assert_int_equal(alcm_compress(cx, &p, &sh, x, 64, NULL, blob, sizeof blob, &len, NULL),
                     ALCM_OK);
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS); /* segments are a gradient feature */
    p.segments = ok;
    p.n_segments = 2;
    assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
    /* A params struct zeroed but for its size (fields a caller never set) has no segments. */
    alcm_params z;
    memset(&z, 0, sizeof z);
    z.struct_size = (uint32_t)sizeof z;
    z.profile = ALCM_PROFILE_GRADIENT;
    z.dtype = ALCM_DTYPE_F32;
    z.error_budget = 0.01;
    z.aggressiveness = 1.0;
    assert_int_equal(alcm_compress(cx, &z, &sh, x, 64, NULL, blob, sizeof blob, &len, NULL),
                     ALCM_OK);
    alcm_header h;
    assert_int_equal(alcm_blob_header(blob, len, &h), ALCM_OK);
    assert_int_equal(h.n_segments, 0);
    assert_int_equal(blob[5], ALCM_CODEC_GRADIENT);
    alcm_cctx_free(cx);
}

static void test_lossless_and_empty(void **state)
{
    (void)state;
    /* Noise at a tiny budget: the noisy segment is stored exactly, the other quantised. */
    const size_t n = 20000;
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 0, 11);
    uint64_t s = 99;
    for (size_t i = 10000; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint32_t b = ((uint32_t)s & 0x807FFFFFu) | (uint32_t)(100 + s % 50) << 23;
        memcpy(&x[i], &b, 4);
    }
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    p.error_budget = 1e-7;
    const uint64_t seg[1] = {10000};
    p.segments = seg;
    p.n_segments = 1;
    size_t cap = alcm_compress_bound_segments(n * 4, 1);
    uint8_t *blob = tu_malloc(cap);
    float *y = tu_malloc(n * 4);
    alcm_info info;
    size_t len = encode(&p, x, n, NULL, blob, cap, &info);
    assert_int_equal(info.n_segments, 2);
    decode(blob, len, y, n);
    assert_memory_equal(x + 10000, y + 10000, 10000 * 4);
    assert_true(rel_err(x, y, 10000) <= 1e-7);

    /* An empty tensor with boundaries at 0: no segments, an empty payload. */
    const uint64_t zero[2] = {0, 0};
    p.segments = zero;
    p.n_segments = 2;
    len = encode(&p, x, 0, NULL, blob, cap, &info);
    assert_int_equal(info.n_segments, 0);
    alcm_dctx *dx = alcm_dctx_create();
    size_t out = 9;
    assert_int_equal(alcm_decompress(dx, blob, len, y, 0, &out), ALCM_OK);
    assert_int_equal(out, 0);
    alcm_dctx_free(dx);
    free(blob);
    free(x);
    free(y);
}

static void test_stream_error_feedback(void **state)
{
    (void)state;
    const size_t n = NA + NB;
    float *x = bucket(), *y = tu_malloc(n * 4), *acc = tu_malloc(n * 4);
    memset(acc, 0, n * 4);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.adaptive = 0;
    uint64_t *seg = tu_malloc(sizeof *seg);
    seg[0] = NA;
    cfg.params.segments = seg;
    cfg.params.n_segments = 1;
    alcm_stream *s = NULL;
    assert_int_equal(alcm_stream_create(&cfg, &s), ALCM_OK);
    assert_non_null(s);
    free(seg); /* the stream holds its own copy */
    size_t cap = alcm_compress_bound_segments(n * 4, 1);
    uint8_t *blob = tu_malloc(cap);
    alcm_shape sh;
    alcm_shape_1d(&sh, n);
    const int steps = 4;
    for (int t = 0; t < steps; t++) {
        size_t len = 0;
        alcm_info info;
        assert_int_equal(alcm_stream_compress(s, &sh, x, n * 4, blob, cap, &len, &info, NULL),
                         ALCM_OK);
        assert_int_equal(info.n_segments, 2);
        decode(blob, len, y, n);
        for (size_t i = 0; i < n; i++) acc[i] += y[i];
    }
    /* With error feedback the sum of decoded steps tracks steps * x far below one step's
     * error, in the small layer too. */
    for (size_t i = 0; i < n; i++) acc[i] /= (float)steps;
    assert_true(rel_err(x + NA, acc + NA, NB) < 0.006);
    assert_true(rel_err(x, acc, NA) < 0.006);
    alcm_stream_free(s);
    free(blob);
    free(x);
    free(y);
    free(acc);
}

/* Re-seals the outer CRC after a patch and returns the decode status. */
static alcm_status decode_patched(uint8_t *b, size_t len, float *y, size_t n)
{
    alcm_frame_seal(b, len);
    alcm_dctx *dx = alcm_dctx_create();
    size_t out = 0;
    alcm_status st = alcm_decompress(dx, b, len, y, n * 4, &out);
    alcm_dctx_free(dx);
    return st;
}

static void test_corrupt_inner(void **state)
{
    (void)state;
    const size_t n = NA + NB;
    float *x = bucket(), *y = tu_malloc(n * 4);
    size_t cap = alcm_compress_bound_segments(n * 4, 1);
    uint8_t *blob = tu_malloc(cap), *b = tu_malloc(cap);
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    const uint64_t seg[1] = {NA};
    p.segments = seg;
    p.n_segments = 1;
    size_t len = encode(&p, x, n, NULL, blob, cap, NULL);
    alcm_frame f;
    assert_int_equal(alcm_frame_parse(blob, len, &f), ALCM_OK);
    /* The section follows the rank-1 header; the inner blobs start the payload. */
    const size_t sec = ALCM_HEADER_FIXED + 8, inner = f.payload_off;
    uint64_t inner_len = alcm_get_u64(blob + inner + 12);
    assert_true(inner_len > 0 && inner_len < len);

    memcpy(b, blob, len); /* segment count too high */
    alcm_put_u32(b + sec + 16, 3);
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CORRUPT);
    memcpy(b, blob, len); /* segment count too low: trailing bytes */
    alcm_put_u32(b + sec + 16, 1);
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CORRUPT);
    memcpy(b, blob, len); /* largest error below an inner blob's */
    alcm_put_f64(b + sec + 8, 0.001);
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CORRUPT);
    memcpy(b, blob, len); /* budget differs from the inner blobs' */
    alcm_put_f64(b + sec, 0.02);
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CORRUPT);
    memcpy(b, blob, len); /* reserved */
    b[sec + 21] = 1;
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CORRUPT);
    memcpy(b, blob, len); /* inner blob size beyond the payload */
    alcm_put_u64(b + inner + 12, len);
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CORRUPT);
    memcpy(b, blob, len); /* a flipped inner byte: the inner CRC catches it */
    b[inner + inner_len / 2] ^= 0x10;
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CHECKSUM);
    memcpy(b, blob, len); /* an inner blob of another codec */
    b[inner + 5] = ALCM_CODEC_SEGMENTED;
    alcm_frame_seal(b + inner, (size_t)inner_len);
    assert_int_equal(decode_patched(b, len, y, n), ALCM_E_CORRUPT);
    /* Every truncation fails cleanly. */
    alcm_dctx *dx = alcm_dctx_create();
    for (size_t cut = 0; cut < len; cut += 997) {
        size_t out = 0;
        assert_int_not_equal(alcm_decompress(dx, blob, cut, y, n * 4, &out), ALCM_OK);
    }
    alcm_dctx_free(dx);
    free(b);
    free(blob);
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_segment_within_budget),
        cmocka_unit_test(test_boundaries_checked),
        cmocka_unit_test(test_lossless_and_empty),
        cmocka_unit_test(test_stream_error_feedback),
        cmocka_unit_test(test_corrupt_inner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
