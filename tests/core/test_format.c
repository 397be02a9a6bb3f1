/* test_format.c - blob header and section writing/validation, stream headers (format.c). */
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

/* A syntactically valid blob of a codec with `payload` zero bytes after the prefix. */
static size_t make_blob(uint8_t *buf, int codec, uint32_t rank, size_t payload)
{
    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = (uint8_t)codec;
    f.dtype = codec == 3 ? ALCM_DTYPE_BYTES : ALCM_DTYPE_F32;
    f.backend = codec == 4 ? ALCM_BACKEND_ZLIB : ALCM_BACKEND_ZSTD;
    f.shape.rank = rank;
    uint64_t numel = 1;
    for (uint32_t i = 0; i < rank; i++) {
        f.shape.dims[i] = i + 2;
        numel *= i + 2;
    }
    f.raw_size = numel * (codec == 3 ? 1 : 4);
    f.grad.budget = 0.01;
    f.grad.achieved = 0.005;
    f.grad.channel_len = numel;
    f.grad.n_channels = 1;
    f.grad.layout = ALCM_GRAD_LAYOUT_CLASSES;
    f.grad.param_bytes = 1;
    f.unit = 4096;
    size_t prefix = alcm_frame_prefix_size(rank, codec);
    size_t len = prefix + payload + ALCM_CRC_SIZE;
    f.blob_size = len;
    memset(buf, 0, len);
    alcm_frame_write(buf, &f);
    alcm_frame_seal(buf, len);
    return len;
}

static void test_roundtrip_every_codec_and_rank(void **state)
{
    (void)state;
    uint8_t buf[512];
    for (int codec = 1; codec <= 4; codec++)
        for (uint32_t rank = 0; rank <= ALCM_MAX_RANK; rank++) {
            size_t len = make_blob(buf, codec, rank, 3);
            alcm_frame f;
            assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
            assert_int_equal(f.codec, codec);
            assert_int_equal(f.shape.rank, rank);
            for (uint32_t i = 0; i < rank; i++) assert_int_equal(f.shape.dims[i], i + 2);
            assert_int_equal(f.blob_size, len);
            assert_int_equal(f.payload_off, alcm_frame_prefix_size(rank, codec));
            assert_int_equal(f.payload_end, len - 4);
            if (codec == 1) {
                assert_true(f.grad.budget == 0.01);
                assert_true(f.grad.achieved == 0.005);
                assert_int_equal(f.grad.n_channels, 1);
            }
            if (codec == 2 || codec == 3) assert_int_equal(f.unit, 4096);
        }
}

static void test_magic_version_truncation(void **state)
{
    (void)state;
    uint8_t buf[256];
    alcm_frame f;
    size_t len = make_blob(buf, 2, 2, 0);
    assert_int_equal(alcm_frame_parse(buf, 0, &f), ALCM_E_TRUNCATED);
    assert_int_equal(alcm_frame_parse(buf, 3, &f), ALCM_E_TRUNCATED); /* "ALC" */
    assert_int_equal(alcm_frame_parse("XY", 2, &f), ALCM_E_MAGIC);
    assert_int_equal(alcm_frame_parse(buf, 20, &f), ALCM_E_TRUNCATED);
    assert_int_equal(alcm_frame_parse(buf, len - 1, &f), ALCM_E_TRUNCATED);
    buf[1] = 'X';
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_MAGIC);
    buf[1] = 'L';
    buf[4] = 3;
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_VERSION);
    buf[4] = 0;
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_VERSION);
    buf[4] = 2;
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
    assert_int_equal(f.version, 2);
}

static void test_blob_size_and_checksum(void **state)
{
    (void)state;
    uint8_t buf[256];
    alcm_frame f;
    size_t len = make_blob(buf, 3, 1, 5);
    uint8_t big[300];
    memcpy(big, buf, len);
    big[len] = 0;
    assert_int_equal(alcm_frame_parse(big, len + 1, &f), ALCM_E_CORRUPT); /* trailing byte */
    /* A payload bit: the header parses (no pass over the payload), the payload CRC fails. */
    buf[len - 6] ^= 1;
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
    assert_int_equal(alcm_frame_check_payload(buf, &f), ALCM_E_CHECKSUM);
    buf[len - 6] ^= 1;
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
    assert_int_equal(alcm_frame_check_payload(buf, &f), ALCM_OK);
    buf[len - 1] ^= 0x80; /* the payload CRC itself */
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
    assert_int_equal(alcm_frame_check_payload(buf, &f), ALCM_E_CHECKSUM);
    buf[len - 1] ^= 0x80;
    /* The header CRC sits after the section and covers every header byte. */
    size_t head = f.payload_off - ALCM_CRC_SIZE;
    for (size_t i = 20; i < head + ALCM_CRC_SIZE; i++) {
        buf[i] ^= 0x10;
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CHECKSUM);
        buf[i] ^= 0x10;
    }
    /* Flags (byte 9): every bit reserved in version 2, rejected even with valid CRCs. */
    for (int bit = 0; bit < 8; bit++) {
        buf[9] = (uint8_t)(1u << bit);
        alcm_frame_seal(buf, len);
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CORRUPT);
    }
    buf[9] = 0;
    alcm_frame_seal(buf, len);
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
    alcm_put_u64(buf + 12, 20); /* declared size below the minimum */
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CORRUPT);
}

/* Patches one byte, re-seals the CRC and returns the parse status. */
static alcm_status patched(uint8_t *buf, size_t len, size_t at, uint8_t v)
{
    uint8_t old = buf[at];
    buf[at] = v;
    alcm_frame_seal(buf, len);
    alcm_frame f;
    alcm_status st = alcm_frame_parse(buf, len, &f);
    buf[at] = old;
    alcm_frame_seal(buf, len);
    return st;
}

/* A version 1 blob (one CRC over everything, no header CRC) made from a version 2 one. */
static size_t to_v1(uint8_t *buf, size_t len)
{
    alcm_frame f;
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
    size_t head = f.payload_off - ALCM_CRC_SIZE;
    memmove(buf + head, buf + f.payload_off, len - f.payload_off);
    len -= ALCM_CRC_SIZE;
    buf[4] = 1;
    alcm_frame_seal(buf, len);
    return len;
}

static void test_version1_still_parsed(void **state)
{
    (void)state;
    uint8_t buf[512];
    for (int codec = 1; codec <= 4; codec++) {
        size_t len = to_v1(buf, make_blob(buf, codec, 2, 3));
        alcm_frame f;
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
        assert_int_equal(f.version, 1);
        assert_int_equal(f.payload_off, alcm_frame_prefix_size(2, codec) - ALCM_CRC_SIZE);
        assert_int_equal(alcm_frame_check_payload(buf, &f), ALCM_OK);
        buf[len - 6] ^= 1; /* version 1: the single CRC is checked by the parse */
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CHECKSUM);
    }
}

/* Segment and chunk sizes are bounded (2^26), in both versions. */
static void test_units_bounded(void **state)
{
    (void)state;
    uint8_t buf[512];
    for (int codec = 2; codec <= 3; codec++) {
        size_t len = make_blob(buf, codec, 1, 3);
        alcm_frame f;
        size_t at = ALCM_HEADER_FIXED + 8;
        alcm_put_u32(buf + at, (uint32_t)1 << 26);
        alcm_frame_seal(buf, len);
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
        alcm_put_u32(buf + at, ((uint32_t)1 << 26) + 1);
        alcm_frame_seal(buf, len);
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CORRUPT);
        len = to_v1(buf, make_blob(buf, codec, 1, 3));
        alcm_put_u32(buf + at, 0xFFFFFFFFu);
        alcm_frame_seal(buf, len);
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CORRUPT);
    }
}

static void test_header_fields_checked(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = make_blob(buf, 2, 2, 4);
    assert_int_equal(patched(buf, len, 5, 0), ALCM_E_CODEC);  /* codec 0 */
    assert_int_equal(patched(buf, len, 5, 9), ALCM_E_CODEC);  /* codec 9 */
    assert_int_equal(patched(buf, len, 7, 0), ALCM_E_CODEC);  /* backend 0 */
    assert_int_equal(patched(buf, len, 7, 3), ALCM_E_CODEC);  /* backend 3 */
    assert_int_equal(patched(buf, len, 6, ALCM_DTYPE_BYTES), ALCM_E_CORRUPT); /* dtype/codec */
    assert_int_equal(patched(buf, len, 6, 7), ALCM_E_CORRUPT);
    assert_int_equal(patched(buf, len, 9, 1), ALCM_E_CORRUPT);  /* reserved */
    assert_int_equal(patched(buf, len, 11, 0x80), ALCM_E_CORRUPT);
    assert_int_equal(patched(buf, len, 8, 9), ALCM_E_CORRUPT);  /* rank 9 */
    assert_int_equal(patched(buf, len, 8, 3), ALCM_E_CORRUPT);  /* raw size != numel * 4 */
    assert_int_equal(patched(buf, len, 20, 7), ALCM_E_CORRUPT); /* raw size */
    assert_int_equal(patched(buf, len, 28 + 16 + 4, 2), ALCM_E_CORRUPT); /* transform */
    assert_int_equal(patched(buf, len, 28 + 16 + 4, 0xFF), ALCM_E_CORRUPT);
    assert_int_equal(patched(buf, len, 28 + 16 + 7, 1), ALCM_E_CORRUPT); /* reserved */
    /* a dims product beyond 2^62 */
    assert_int_equal(patched(buf, len, 28 + 7, 0x40), ALCM_E_CORRUPT);
    size_t blen = make_blob(buf, 4, 1, 2);
    assert_int_equal(patched(buf, blen, 7, ALCM_BACKEND_ZSTD), ALCM_E_CORRUPT); /* baseline */
    assert_int_equal(patched(buf, blen, 6, ALCM_DTYPE_BYTES), ALCM_E_CORRUPT);  /* raw size */
}

static void test_gradient_section_checked(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = make_blob(buf, 1, 1, 8);
    size_t s = 28 + 8;
    alcm_frame f;
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_OK);
    uint8_t keep[48];
    memcpy(keep, buf + s, 48);
    const double bad_budgets[] = {0.0, -0.1, 1.5, NAN};
    for (size_t i = 0; i < 4; i++) {
        alcm_put_f64(buf + s, bad_budgets[i]);
        alcm_frame_seal(buf, len);
        assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CORRUPT);
    }
    memcpy(buf + s, keep, 48);
    alcm_put_f64(buf + s + 8, 0.02); /* achieved above the budget */
    alcm_frame_seal(buf, len);
    assert_int_equal(alcm_frame_parse(buf, len, &f), ALCM_E_CORRUPT);
    memcpy(buf + s, keep, 48);
    assert_int_equal(patched(buf, len, s + 28, 2), ALCM_E_CORRUPT);  /* layout */
    assert_int_equal(patched(buf, len, s + 30, 1), ALCM_E_CORRUPT);  /* reserved */
    assert_int_equal(patched(buf, len, s + 24, 2), ALCM_E_CORRUPT);  /* channel count */
    assert_int_equal(patched(buf, len, s + 16, 0), ALCM_E_CORRUPT);  /* channel length 0 */
    assert_int_equal(patched(buf, len, s + 16, 3), ALCM_E_CORRUPT);  /* > numel */
    assert_int_equal(patched(buf, len, s + 40, 0), ALCM_E_CORRUPT);  /* params < C */
    assert_int_equal(patched(buf, len, s + 40, 7), ALCM_E_CORRUPT);  /* params > 6 C */
    assert_int_equal(patched(buf, len, s + 32, 3), ALCM_E_CORRUPT);  /* escapes > numel */
    assert_int_equal(patched(buf, len, s + 32, 2), ALCM_OK);
}

static void test_stream_take(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    alcm_stream_ref r;
    size_t pos = 0;
    alcm_stream_header_put(b, ALCM_STREAM_STORED, 5);
    assert_int_equal(alcm_stream_take(b, &pos, 14, 5, &r), ALCM_OK);
    assert_int_equal(pos, 14);
    assert_ptr_equal(r.data, b + 9);
    pos = 0;
    assert_int_equal(alcm_stream_take(b, &pos, 13, 5, &r), ALCM_E_CORRUPT); /* past the end */
    pos = 0;
    assert_int_equal(alcm_stream_take(b, &pos, 14, 4, &r), ALCM_E_CORRUPT); /* stored != n */
    pos = 0;
    assert_int_equal(alcm_stream_take(b, &pos, 8, 5, &r), ALCM_E_CORRUPT);  /* no header */
    alcm_stream_header_put(b, 2, 5);
    pos = 0;
    assert_int_equal(alcm_stream_take(b, &pos, 14, 5, &r), ALCM_E_CORRUPT); /* method */
    alcm_stream_header_put(b, ALCM_STREAM_CODED, 0);
    pos = 0;
    assert_int_equal(alcm_stream_take(b, &pos, 14, 5, &r), ALCM_E_CORRUPT); /* empty coded */
    alcm_stream_header_put(b, ALCM_STREAM_CODED, UINT64_MAX);
    pos = 0;
    assert_int_equal(alcm_stream_take(b, &pos, 64, 5, &r), ALCM_E_CORRUPT); /* huge size */
    assert_int_equal(pos, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_codec_and_rank),
        cmocka_unit_test(test_magic_version_truncation),
        cmocka_unit_test(test_blob_size_and_checksum),
        cmocka_unit_test(test_header_fields_checked),
        cmocka_unit_test(test_version1_still_parsed),
        cmocka_unit_test(test_units_bounded),
        cmocka_unit_test(test_gradient_section_checked),
        cmocka_unit_test(test_stream_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
