/* test_decompress.c - alcm_decompress and blob inspection on valid, hand-built and broken
 * blobs: every single-byte change and every truncation fails, every malformed-blob class
 * gets its specific status, limits and capacities are honoured (decompress.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "format.h"
#include "gradient.h"
#include "testutil.h"

/* ------------------------------------------------------------------------------------------
 * Small valid blobs of every codec and backend
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    uint8_t *blob;
    size_t len;
    size_t raw;
} sample;

enum { N_SAMPLES = 7 };

static sample make_sample(int which)
{
    alcm_params p;
    alcm_shape sh = {2, {12, 25}};
    size_t n = 300;
    float *x = tu_synth(ALCM_SYNTH_MIXED_SCALE, n, 25, 1000 + which);
    uint8_t bytes[700];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i < 350 ? i % 5 : i * 37);
    const void *src = x;
    size_t src_bytes = n * 4;
    switch (which) {
    case 0: alcm_params_default(&p, ALCM_PROFILE_GRADIENT); p.error_budget = 0.05; break;
    case 1:
        alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
        p.error_budget = 0.3;
        p.backend = ALCM_BACKEND_ZLIB;
        break;
    case 2: alcm_params_default(&p, ALCM_PROFILE_LOSSLESS); break;
    case 3:
        alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
        p.backend = ALCM_BACKEND_ZLIB;
        p.dtype = ALCM_DTYPE_BF16;
        src_bytes = n * 2;
        break;
    case 4:
    case 5:
        alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
        p.dtype = ALCM_DTYPE_BYTES;
        p.backend = which == 4 ? ALCM_BACKEND_ZSTD : ALCM_BACKEND_ZLIB;
        alcm_shape_1d(&sh, sizeof bytes);
        src = bytes;
        src_bytes = sizeof bytes;
        break;
    default: alcm_params_default(&p, ALCM_PROFILE_BASELINE); break;
    }
    if (which == 3) sh.dims[1] = 25;
    alcm_cctx *cx = alcm_cctx_create();
    sample s;
    size_t cap = alcm_compress_bound(src_bytes);
    s.blob = tu_malloc(cap);
    s.raw = src_bytes;
    assert_int_equal(alcm_compress(cx, &p, &sh, src, src_bytes, NULL, s.blob, cap, &s.len, NULL),
                     ALCM_OK);
    alcm_cctx_free(cx);
    free(x);
    return s;
}

static void test_every_byte_flip_fails(void **state)
{
    (void)state;
    alcm_dctx *dx = alcm_dctx_create();
    const uint8_t flips[] = {0x01, 0x80, 0xFF};
    for (int w = 0; w < N_SAMPLES; w++) {
        sample s = make_sample(w);
        uint8_t *out = tu_malloc(s.raw);
        size_t got;
        assert_int_equal(alcm_decompress(dx, s.blob, s.len, out, s.raw, &got), ALCM_OK);
        for (size_t i = 0; i < s.len; i++)
            for (size_t f = 0; f < sizeof flips; f++) {
                s.blob[i] ^= flips[f];
                got = 1;
                alcm_status st = alcm_decompress(dx, s.blob, s.len, out, s.raw, &got);
                assert_int_not_equal(st, ALCM_OK);
                assert_int_equal(got, 0);
                s.blob[i] ^= flips[f];
            }
        free(out);
        free(s.blob);
    }
    alcm_dctx_free(dx);
}

static void test_every_truncation_fails(void **state)
{
    (void)state;
    alcm_dctx *dx = alcm_dctx_create();
    for (int w = 0; w < N_SAMPLES; w++) {
        sample s = make_sample(w);
        uint8_t *out = tu_malloc(s.raw);
        for (size_t len = 0; len < s.len; len++) {
            size_t got = 1;
            assert_int_equal(alcm_decompress(dx, s.blob, len, out, s.raw, &got), ALCM_E_TRUNCATED);
            assert_int_equal(got, 0);
            alcm_header h;
            assert_int_equal(alcm_blob_header(s.blob, len, &h), ALCM_E_TRUNCATED);
        }
        free(out);
        free(s.blob);
    }
    alcm_dctx_free(dx);
}

static void test_capacity_limit_and_trailing(void **state)
{
    (void)state;
    alcm_dctx *dx = alcm_dctx_create();
    for (int w = 0; w < N_SAMPLES; w++) {
        sample s = make_sample(w);
        uint8_t *out = tu_malloc(s.raw + 1);
        size_t got = 1;
        assert_int_equal(alcm_decompress(dx, s.blob, s.len, out, s.raw - 1, &got),
                         ALCM_E_DST_TOO_SMALL);
        assert_int_equal(got, 0);
        alcm_dctx_set_max_output(dx, s.raw - 1);
        assert_int_equal(alcm_decompress(dx, s.blob, s.len, out, s.raw, &got), ALCM_E_LIMIT);
        alcm_dctx_set_max_output(dx, s.raw);
        assert_int_equal(alcm_decompress(dx, s.blob, s.len, out, s.raw + 1, &got), ALCM_OK);
        assert_int_equal(got, s.raw);
        uint8_t *longer = tu_malloc(s.len + 1);
        memcpy(longer, s.blob, s.len);
        longer[s.len] = 0;
        assert_int_equal(alcm_decompress(dx, longer, s.len + 1, out, s.raw, &got), ALCM_E_CORRUPT);
        alcm_header h;
        assert_int_equal(alcm_blob_header(s.blob, s.len, &h), ALCM_OK);
        assert_int_equal(h.blob_bytes, s.len);
        assert_int_equal(h.raw_bytes, s.raw);
        assert_int_equal(h.version, 2);
        uint32_t nc = 99;
        float bits[16];
        assert_int_equal(alcm_blob_channel_bits(s.blob, s.len, bits, 16, &nc), ALCM_OK);
        assert_int_equal(nc, w < 2 ? 4 : 0); /* rows of 25 are grouped by 3 */
        assert_int_equal(h.n_channels, nc);
        free(longer);
        free(out);
        free(s.blob);
        alcm_dctx_set_max_output(dx, (uint64_t)1 << 40);
    }
    uint8_t b[64];
    size_t got;
    assert_int_equal(alcm_decompress(NULL, b, 64, b, 64, &got), ALCM_E_ARG);
    assert_int_equal(alcm_decompress(dx, NULL, 64, b, 64, &got), ALCM_E_ARG);
    assert_int_equal(alcm_decompress(dx, b, 64, b, 64, NULL), ALCM_E_ARG);
    alcm_dctx_free(dx);
}

/* Version 1 blobs (one CRC over everything) still decode, to the same bytes as version 2;
 * in version 2 a damaged payload is caught by its own CRC while the header still reads. */
static void test_version1_blobs_decode(void **state)
{
    (void)state;
    alcm_dctx *dx = alcm_dctx_create();
    for (int w = 0; w < N_SAMPLES; w++) {
        sample s = make_sample(w);
        uint8_t *want = tu_malloc(s.raw + 1), *got = tu_malloc(s.raw + 1);
        size_t n2, n1;
        assert_int_equal(alcm_decompress(dx, s.blob, s.len, want, s.raw, &n2), ALCM_OK);
        /* version 2 -> version 1: drop the header CRC, one CRC over the rest */
        alcm_frame f;
        assert_int_equal(alcm_frame_parse(s.blob, s.len, &f), ALCM_OK);
        size_t head = f.payload_off - 4;
        uint8_t *v1 = tu_malloc(s.len);
        memcpy(v1, s.blob, head);
        memcpy(v1 + head, s.blob + f.payload_off, s.len - f.payload_off);
        size_t len1 = s.len - 4;
        v1[4] = 1;
        alcm_frame_seal(v1, len1);
        alcm_header h;
        assert_int_equal(alcm_blob_header(v1, len1, &h), ALCM_OK);
        assert_int_equal(h.version, 1);
        assert_int_equal(alcm_decompress(dx, v1, len1, got, s.raw, &n1), ALCM_OK);
        assert_int_equal(n1, n2);
        assert_memory_equal(got, want, n1);
        /* version 2, last payload byte changed: header fine, decoding refused */
        s.blob[s.len - 5] ^= 0x01;
        assert_int_equal(alcm_blob_header(s.blob, s.len, &h), ALCM_OK);
        assert_int_equal(alcm_decompress(dx, s.blob, s.len, got, s.raw, &n1), ALCM_E_CHECKSUM);
        assert_int_equal(n1, 0);
        free(v1);
        free(want);
        free(got);
        free(s.blob);
    }
    alcm_dctx_free(dx);
}

static void test_mutations_with_valid_crc_never_crash(void **state)
{
    (void)state;
    /* Payload bytes changed and the CRC recomputed: the decoder must still check every
     * length and code (run under ASan/UBSan in the sanitizer build). */
    alcm_dctx *dx = alcm_dctx_create();
    for (int w = 0; w < N_SAMPLES; w++) {
        sample s = make_sample(w);
        uint8_t *out = tu_malloc(s.raw);
        for (size_t i = 12; i + 4 < s.len; i++)
            for (int f = 0; f < 3; f++) {
                uint8_t old = s.blob[i];
                s.blob[i] = f == 0 ? (uint8_t)(old ^ 1) : f == 1 ? 0xFF : 0x00;
                alcm_frame_seal(s.blob, s.len);
                size_t got = 7;
                alcm_status st = alcm_decompress(dx, s.blob, s.len, out, s.raw, &got);
                assert_true(st == ALCM_OK || st == ALCM_E_CORRUPT || st == ALCM_E_BACKEND ||
                            st == ALCM_E_CODEC || st == ALCM_E_TRUNCATED ||
                            st == ALCM_E_DST_TOO_SMALL);
                assert_true(st == ALCM_OK ? got == s.raw : got == 0);
                s.blob[i] = old;
            }
        free(out);
        free(s.blob);
    }
    alcm_dctx_free(dx);
}

/* ------------------------------------------------------------------------------------------
 * A gradient blob built by hand from docs/FORMAT.md, all streams stored
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    alcm_chan_param ch[2];
    uint8_t st[6][16];    /* W2, W4, W8, W16-low, W16-high, escapes */
    size_t sz[6];
    uint64_t escapes;
} hand;

/* numel 10 in 2 channels of 5:
 *   channel 0: L = 1, width 2, Δ = 1, codes 0 1 2 0 1   -> 0 -1 1 0 -1
 *   channel 1: L = 200, width 8, Δ = 2, codes 0 esc(400) 3 254 1 -> 0 400 -4 254 -2 */
static hand hand_default(void)
{
    hand h;
    memset(&h, 0, sizeof h);
    h.ch[0] = (alcm_chan_param){1, ALCM_STEP_ONE, ALCM_W2};
    h.ch[1] = (alcm_chan_param){200, ALCM_STEP_ONE + 16, ALCM_W8};
    h.st[0][0] = 0 | 1 << 2 | 2 << 4 | 0 << 6;
    h.st[0][1] = 1;
    h.sz[0] = 2;
    const uint8_t w8[5] = {0, 255, 3, 254, 1};
    memcpy(h.st[2], w8, 5);
    h.sz[2] = 5;
    h.st[5][0] = 400 & 255;
    h.st[5][1] = 400 >> 8;
    h.sz[5] = 2;
    h.escapes = 1;
    return h;
}

static size_t hand_blob(const hand *h, uint8_t *buf)
{
    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_GRADIENT;
    f.dtype = ALCM_DTYPE_F32;
    f.backend = ALCM_BACKEND_ZSTD;
    alcm_shape_1d(&f.shape, 10);
    f.raw_size = 40;
    f.grad.budget = 0.5;
    f.grad.achieved = 0.25;
    f.grad.channel_len = 5;
    f.grad.n_channels = 2;
    f.grad.layout = ALCM_GRAD_LAYOUT_CLASSES;
    f.grad.escapes = h->escapes;
    uint8_t params[12];
    size_t pn = alcm_params_stream_write(h->ch, 2, params);
    f.grad.param_bytes = pn;
    size_t pos = alcm_frame_prefix_size(1, ALCM_CODEC_GRADIENT);
    alcm_stream_header_put(buf + pos, ALCM_STREAM_STORED, pn);
    memcpy(buf + pos + 9, params, pn);
    pos += 9 + pn;
    for (int k = 0; k < 6; k++) {
        if (!h->sz[k]) continue;
        alcm_stream_header_put(buf + pos, ALCM_STREAM_STORED, h->sz[k]);
        memcpy(buf + pos + 9, h->st[k], h->sz[k]);
        pos += 9 + h->sz[k];
    }
    f.blob_size = pos + 4;
    alcm_frame_write(buf, &f);
    alcm_frame_seal(buf, pos + 4);
    return pos + 4;
}

static alcm_status decode_hand(const hand *h, float *out)
{
    uint8_t buf[512];
    size_t len = hand_blob(h, buf), got;
    alcm_dctx *dx = alcm_dctx_create();
    alcm_status st = alcm_decompress(dx, buf, len, out, 40, &got);
    alcm_dctx_free(dx);
    return st;
}

static void test_hand_built_blob_decodes_per_spec(void **state)
{
    (void)state;
    hand h = hand_default();
    float out[10];
    assert_int_equal(decode_hand(&h, out), ALCM_OK);
    const float expect[10] = {0, -1, 1, 0, -1, 0, 400, -4, 254, -2};
    assert_memory_equal(out, expect, sizeof expect);
    /* the same with channel 1 in 16-bit planes (no escapes) */
    h.ch[1].width = ALCM_W16;
    h.sz[2] = 0;
    h.sz[5] = 0;
    h.escapes = 0;
    const uint16_t codes[5] = {0, 400, 3, 254, 1};
    for (int i = 0; i < 5; i++) {
        h.st[3][i] = (uint8_t)codes[i];
        h.st[4][i] = (uint8_t)(codes[i] >> 8);
    }
    h.sz[3] = h.sz[4] = 5;
    assert_int_equal(decode_hand(&h, out), ALCM_OK);
    assert_memory_equal(out, expect, sizeof expect);
    /* a zero channel decodes to +0 */
    h.ch[1].levels = 0;
    h.sz[3] = h.sz[4] = 0;
    assert_int_equal(decode_hand(&h, out), ALCM_OK);
    for (int i = 5; i < 10; i++) assert_true(out[i] == 0.0f && !signbit(out[i]));
}

static void test_hand_built_malformed_payloads(void **state)
{
    (void)state;
    float out[10];
    hand h = hand_default();
    h.ch[1].levels = 127; /* the escaped 400 exceeds 2L = 254 */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.st[2][3] = 250;
    h.ch[1].levels = 100; /* a direct code above 2L */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.st[0][0] = 3 << 2; /* a W2 code of 3 is an escape: the escape stream is consumed early */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.st[5][0] = 100;
    h.st[5][1] = 0; /* escaped code 100 fits in 8 bits: not canonical */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.escapes = 2; /* declares an escape that never comes */
    h.st[5][2] = 0x10;
    h.st[5][3] = 0x01;
    h.sz[5] = 4;
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.st[0][1] = 1 | 1 << 6; /* padding bits set */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.sz[2] = 6; /* W8 stream longer than its class */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.sz[5] = 0; /* escape stream missing */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.ch[0].width = ALCM_W4; /* parameters disagree with the streams */
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
    h = hand_default();
    h.ch[1].step = ALCM_STEP_MAX + 1;
    assert_int_equal(decode_hand(&h, out), ALCM_E_CORRUPT);
}

static void test_hand_built_bad_backend_stream(void **state)
{
    (void)state;
    /* a coded stream holding garbage */
    hand h = hand_default();
    uint8_t buf[512];
    size_t len = hand_blob(&h, buf);
    size_t pos = alcm_frame_prefix_size(1, ALCM_CODEC_GRADIENT);
    pos += 9 + alcm_get_u64(buf + pos + 1); /* skip the parameter stream */
    buf[pos] = ALCM_STREAM_CODED;           /* W2 stream: 2 bytes of "zstd" */
    alcm_frame_seal(buf, len);
    alcm_dctx *dx = alcm_dctx_create();
    float out[10];
    size_t got;
    alcm_status st = alcm_decompress(dx, buf, len, out, 40, &got);
    assert_true(st == ALCM_E_BACKEND || st == ALCM_E_CORRUPT);
    buf[7] = ALCM_BACKEND_ZLIB;
    alcm_frame_seal(buf, len);
    st = alcm_decompress(dx, buf, len, out, 40, &got);
    assert_true(st == ALCM_E_BACKEND || st == ALCM_E_CORRUPT);
    alcm_dctx_free(dx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_flip_fails),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_capacity_limit_and_trailing),
        cmocka_unit_test(test_mutations_with_valid_crc_never_crash),
        cmocka_unit_test(test_version1_blobs_decode),
        cmocka_unit_test(test_hand_built_blob_decodes_per_spec),
        cmocka_unit_test(test_hand_built_malformed_payloads),
        cmocka_unit_test(test_hand_built_bad_backend_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
