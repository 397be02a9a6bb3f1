/* test_stream_state.c - alcm_stream_state_export/import: resume bit for bit, reject damage. */
#include "testutil.h"

#include <string.h>

#define ROWS 32
#define COLS 128
#define N (ROWS * COLS)

static alcm_shape shape2d(void)
{
    alcm_shape s;
    memset(&s, 0, sizeof s);
    s.rank = 2;
    s.dims[0] = ROWS;
    s.dims[1] = COLS;
    return s;
}

static alcm_stream *det_stream(uint32_t window)
{
    alcm_stream_config c;
    alcm_stream_config_default(&c);
    c.sched.deterministic = 1;
    c.sched.window = window;
    alcm_stream *s = alcm_stream_create(&c);
    assert_non_null(s);
    return s;
}

static void step(alcm_stream *s, int seed, uint8_t *blob, size_t cap, size_t *len)
{
    alcm_shape sh = shape2d();
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, N, COLS, (uint64_t)seed);
    assert_int_equal(alcm_stream_compress(s, &sh, x, N * 4, blob, cap, len, NULL, NULL), ALCM_OK);
    free(x);
}

static uint8_t *export_state(const alcm_stream *s, size_t *len)
{
    size_t cap = alcm_stream_state_size(s);
    uint8_t *buf = tu_malloc(cap);
    assert_int_equal(alcm_stream_state_export(s, buf, cap - 1, len), ALCM_E_DST_TOO_SMALL);
    assert_int_equal(alcm_stream_state_export(s, buf, cap, len), ALCM_OK);
    assert_int_equal(*len, cap);
    return buf;
}

/* A stream resumed from an exported state gives the same blobs as one that never stopped. */
static void test_resume_is_bit_identical(void **state)
{
    (void)state;
    alcm_stream *a = det_stream(5);
    size_t cap = alcm_compress_bound(N * 4), la, lb;
    uint8_t *ba = tu_malloc(cap), *bb = tu_malloc(cap);
    for (int i = 0; i < 7; i++) step(a, 100 + i, ba, cap, &la);
    size_t slen;
    uint8_t *saved = export_state(a, &slen);
    assert_int_equal(slen, 8 + 88 + 8 * 5 + 8 + 4 * N + 4);

    alcm_stream *b = det_stream(5);
    assert_int_equal(alcm_stream_state_import(b, saved, slen), ALCM_OK);
    alcm_sched_state sa, sb;
    alcm_stream_get_state(a, &sa);
    alcm_stream_get_state(b, &sb);
    assert_int_equal(sb.steps, 7);
    assert_memory_equal(&sa, &sb, sizeof sa);
    for (int i = 7; i < 20; i++) {
        step(a, 100 + i, ba, cap, &la);
        step(b, 100 + i, bb, cap, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ba, bb, la);
    }
    /* A fresh stream (no state) diverges: the residual matters. */
    alcm_stream *c = det_stream(5);
    step(c, 119, bb, cap, &lb);
    assert_true(lb != la || memcmp(ba, bb, la) != 0);
    free(saved);
    free(ba);
    free(bb);
    alcm_stream_free(a);
    alcm_stream_free(b);
    alcm_stream_free(c);
}

/* Every damaged byte, every truncation and a window mismatch are rejected, and a rejected
 * import leaves the stream as it was. */
static void test_damage_is_rejected(void **state)
{
    (void)state;
    alcm_stream *a = det_stream(4);
    size_t cap = alcm_compress_bound(N * 4), len;
    uint8_t *blob = tu_malloc(cap);
    for (int i = 0; i < 3; i++) step(a, 7 + i, blob, cap, &len);
    size_t slen;
    uint8_t *saved = export_state(a, &slen);

    alcm_stream *b = det_stream(4);
    size_t before_len;
    uint8_t *before = export_state(b, &before_len);
    assert_int_equal(before_len, 8 + 88 + 32 + 8 + 4);
    for (size_t i = 0; i < slen; i += (i < 200 ? 1 : 997)) {
        saved[i] ^= 0x10;
        assert_true(alcm_stream_state_import(b, saved, slen) < 0);
        saved[i] ^= 0x10;
    }
    for (size_t cut = 0; cut < slen; cut += (cut < 200 ? 1 : 1231))
        assert_true(alcm_stream_state_import(b, saved, cut) < 0);
    assert_int_equal(alcm_stream_state_import(b, saved, 3), ALCM_E_TRUNCATED);
    uint8_t longer[4096];
    assert_int_equal(alcm_stream_state_import(b, before, before_len - 1), ALCM_E_TRUNCATED);
    memcpy(longer, before, before_len);
    longer[before_len] = 0;
    assert_int_equal(alcm_stream_state_import(b, longer, before_len + 1), ALCM_E_CORRUPT);
    saved[0] = 'X';
    assert_int_equal(alcm_stream_state_import(b, saved, slen), ALCM_E_MAGIC);
    saved[0] = 'A';
    saved[4] = 2;
    assert_int_equal(alcm_stream_state_import(b, saved, slen), ALCM_E_VERSION);
    saved[4] = 1;
    saved[slen - 1] ^= 1;
    assert_int_equal(alcm_stream_state_import(b, saved, slen), ALCM_E_CHECKSUM);
    saved[slen - 1] ^= 1;

    size_t after_len;
    uint8_t *after = export_state(b, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);

    alcm_stream *w5 = det_stream(5);
    assert_int_equal(alcm_stream_state_import(w5, saved, slen), ALCM_E_ARG);
    assert_int_equal(alcm_stream_state_import(b, saved, slen), ALCM_OK);
    assert_int_equal(alcm_stream_state_import(NULL, saved, slen), ALCM_E_ARG);
    free(saved);
    free(before);
    free(after);
    free(blob);
    alcm_stream_free(a);
    alcm_stream_free(b);
    alcm_stream_free(w5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_is_bit_identical),
        cmocka_unit_test(test_damage_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
