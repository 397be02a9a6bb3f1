/* test_stream_state.c - alcm_stream_export/import: a restored stream continues exactly
 * (same blobs for the same inputs), and damaged, truncated or foreign state is refused
 * with a specific status, never a crash (also with a recomputed CRC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "alcm.h"
#include "alcm_tools.h"
#include "bytes.h"

enum { N = 5000 };

static void fill(float *x, uint64_t seed)
{
    alcm_rng r;
    alcm_rng_seed(&r, seed);
    for (size_t i = 0; i < N; i++) x[i] = (float)(alcm_rng_normal(&r) * 1e-3);
}

static alcm_stream *stepped(int steps)
{
    alcm_stream_config c;
    alcm_stream_config_default(&c);
    c.sched.deterministic = 1;
    c.adaptive = 1; /* the scheduler's state is part of what is exported */
    alcm_stream *s = NULL;
    assert_int_equal(alcm_stream_create(&c, &s), ALCM_OK);
    static float x[N];
    alcm_shape sh;
    alcm_shape_1d(&sh, N);
    size_t cap = alcm_compress_bound(sizeof x), len;
    uint8_t *blob = malloc(cap);
    for (int i = 0; i < steps; i++) {
        fill(x, 100 + (uint64_t)i);
        assert_int_equal(alcm_stream_compress(s, &sh, x, sizeof x, blob, cap, &len, NULL, NULL),
                         ALCM_OK);
    }
    free(blob);
    return s;
}

static uint8_t *export_of(const alcm_stream *s, size_t *len)
{
    size_t cap = alcm_stream_export_size(s);
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    assert_int_equal(alcm_stream_export(s, buf, cap - 1, len), ALCM_E_DST_TOO_SMALL);
    assert_int_equal(alcm_stream_export(s, buf, cap, len), ALCM_OK);
    assert_int_equal(*len, cap);
    return buf;
}

static void test_restored_stream_continues(void **state)
{
    (void)state;
    alcm_stream *a = stepped(7);
    size_t len;
    uint8_t *buf = export_of(a, &len);
    alcm_stream *b = NULL;
    assert_int_equal(alcm_stream_import(buf, len, &b), ALCM_OK);
    alcm_sched_state sa, sb;
    alcm_stream_get_state(a, &sa);
    alcm_stream_get_state(b, &sb);
    assert_int_equal(sb.steps, 7);
    assert_memory_equal(&sa, &sb, sizeof sa);
    static float x[N];
    alcm_shape sh;
    alcm_shape_1d(&sh, N);
    size_t cap = alcm_compress_bound(sizeof x), la, lb;
    uint8_t *ba = malloc(cap), *bb = malloc(cap);
    for (int i = 0; i < 6; i++) {
        fill(x, 500 + (uint64_t)i);
        assert_int_equal(alcm_stream_compress(a, &sh, x, sizeof x, ba, cap, &la, NULL, NULL), ALCM_OK);
        assert_int_equal(alcm_stream_compress(b, &sh, x, sizeof x, bb, cap, &lb, NULL, NULL), ALCM_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(ba, bb, la);   /* same residual, same knobs */
    }
    /* A fresh stream (no residual) gives different blobs: the residual mattered. */
    alcm_stream *fresh = stepped(0);
    fill(x, 900);
    assert_int_equal(alcm_stream_compress(a, &sh, x, sizeof x, ba, cap, &la, NULL, NULL), ALCM_OK);
    assert_int_equal(alcm_stream_compress(fresh, &sh, x, sizeof x, bb, cap, &lb, NULL, NULL), ALCM_OK);
    assert_true(la != lb || memcmp(ba, bb, la) != 0);
    alcm_stream_free(fresh);
    free(ba);
    free(bb);
    free(buf);
    alcm_stream_free(a);
    alcm_stream_free(b);
}

static void test_damaged_state_refused(void **state)
{
    (void)state;
    alcm_stream *a = stepped(4);
    size_t len;
    uint8_t *buf = export_of(a, &len);
    alcm_stream *b = (alcm_stream *)buf;
    for (size_t i = 0; i < len; i += 3) {          /* any flipped byte */
        buf[i] ^= 0x20;
        alcm_status st = alcm_stream_import(buf, len, &b);
        assert_true(st == ALCM_E_CHECKSUM || st == ALCM_E_MAGIC || st == ALCM_E_VERSION ||
                    st == ALCM_E_CORRUPT || st == ALCM_E_TRUNCATED);
        assert_null(b);
        buf[i] ^= 0x20;
    }
    for (size_t cut = 0; cut < len; cut += 97)     /* truncated */
        assert_true(alcm_stream_import(buf, cut, &b) != ALCM_OK);
    assert_int_equal(alcm_stream_import("ALCM....", 8, &b), ALCM_E_MAGIC);   /* foreign */
    /* Fields changed with a valid CRC: checked one by one, never trusted. */
    int refused = 0;
    for (size_t i = 4; i + 4 < len && i < 400; i++)
        for (int v = 0; v < 2; v++) {
            uint8_t old = buf[i];
            buf[i] = v ? 0xFF : (uint8_t)(old + 1);
            alcm_put_u32(buf + len - 4, (uint32_t)crc32_z(0L, buf, len - 4));
            alcm_status st = alcm_stream_import(buf, len, &b);
            if (st == ALCM_OK) alcm_stream_free(b);
            else refused++;
            buf[i] = old;
        }
    alcm_put_u32(buf + len - 4, (uint32_t)crc32_z(0L, buf, len - 4));
    assert_true(refused > 100);
    assert_int_equal(alcm_stream_import(buf, len, &b), ALCM_OK);
    alcm_stream_free(b);
    free(buf);
    alcm_stream_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restored_stream_continues),
        cmocka_unit_test(test_damaged_state_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
