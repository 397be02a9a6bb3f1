/* test_peers.c - the peer codecs of `alcm bench`. Lossy (codec_peers.c, codec_zfp.c): each
 * decodes within the error budget, keeps its expected size on data it can hold, falls back
 * to exact coding where it cannot, codes bytes items exactly and is deterministic. Lossless
 * byte planes (codec_planes.c): exact, smaller than zstd-1 on the whole tensor, corrupt
 * blobs rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_bench.h"
#include "alcm_tools.h"

static const char *const k_peers[] = {"fp16", "bf16", "int8-zstd", "global-q", "topk", "zfp"};
#define N_PEERS 6
#define ROWS 64
#define COLS 512

static float *gaussian(size_t n, uint64_t seed, float scale)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    alcm_rng rng;
    alcm_rng_seed(&rng, seed);
    alcm_synth_fill(&rng, ALCM_SYNTH_GAUSSIAN, x, n, COLS);
    for (size_t i = 0; i < n; i++) x[i] *= scale;
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
    return sqrt(num / den);
}

static alcm_codec_item f32_item(double budget)
{
    alcm_codec_item it;
    memset(&it, 0, sizeof it);
    it.type = ALCM_CODEC_ITEM_F32;
    it.rank = 2;
    it.dims[0] = ROWS;
    it.dims[1] = COLS;
    it.error_budget = budget;
    it.name = "t.f32";
    return it;
}

/* Compresses and decodes x with codec c; returns the blob size and the achieved error. */
static size_t roundtrip(alcm_codec *c, const alcm_codec_item *it, const float *x, size_t n,
                        double *err)
{
    size_t cap = c->bound(c, it, n * 4);
    uint8_t *blob = malloc(cap), *again = malloc(cap);
    float *y = malloc(n * 4);
    assert_non_null(blob);
    assert_non_null(again);
    assert_non_null(y);
    size_t len = 0, len2 = 0, out = 0;
    assert_int_equal(c->compress(c, it, x, n * 4, blob, cap, &len), 0);
    assert_true(len > 0 && len <= cap);
    assert_int_equal(c->compress(c, it, x, n * 4, again, cap, &len2), 0);
    assert_int_equal(len2, len); /* deterministic */
    assert_memory_equal(again, blob, len);
    assert_int_equal(c->decompress(c, it, blob, len, y, n * 4, &out), 0);
    assert_int_equal(out, n * 4);
    *err = rel_err(x, y, n);
    free(blob);
    free(again);
    free(y);
    return len;
}

static void test_within_budget_and_sizes(void **state)
{
    (void)state;
    const size_t n = ROWS * COLS;
    float *x = gaussian(n, 5, 0.01f);
    const double budgets[2] = {0.01, 0.05};
    for (int b = 0; b < 2; b++) {
        alcm_codec_item it = f32_item(budgets[b]);
        for (int k = 0; k < N_PEERS; k++) {
            alcm_codec *c = NULL;
            alcm_bench_error err;
            assert_int_equal(alcm_bench_codec_create(k_peers[k], &c, &err), ALCM_BENCH_OK);
            assert_string_equal(c->name, k_peers[k]);
            assert_int_equal(c->lossless, 0);
            double e = 1.0;
            size_t len = roundtrip(c, &it, x, n, &e);
            assert_true(e <= budgets[b]);
            double ratio = (double)(n * 4) / (double)len;
            if (k <= 1) assert_true(fabs(ratio - 2.0) < 0.01); /* fp16, bf16: 2 bytes/value */
            if (k == 2) assert_true(ratio > 3.5);               /* int8 + zstd */
            if (k == 3) {                                        /* global-q: near the budget */
                assert_true(e > 0.8 * budgets[b]);
                assert_true(ratio > (b ? 6.0 : 3.8));
            }
            if (k == 4) assert_true(e > 0.5 * budgets[b]);      /* topk spends the budget */
            if (k == 5) assert_true(ratio > 2.5 && e > 0.2 * budgets[b]);
            alcm_bench_codec_free(c);
        }
    }
    free(x);
}

static void test_fallback_and_bytes(void **state)
{
    (void)state;
    const size_t n = ROWS * COLS;
    /* Values beyond fp16's range: fp16 cannot hold them and codes them exactly. */
    float *x = gaussian(n, 9, 1e6f);
    alcm_codec_item it = f32_item(0.01);
    alcm_codec *c = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_codec_create("fp16", &c, &err), ALCM_BENCH_OK);
    double e = 1.0;
    roundtrip(c, &it, x, n, &e);
    assert_true(e == 0.0);
    /* bytes items are coded exactly by every peer */
    alcm_codec_item bi;
    memset(&bi, 0, sizeof bi);
    bi.type = ALCM_CODEC_ITEM_BYTES;
    bi.rank = 1;
    bi.dims[0] = 1000;
    bi.name = "t.bin";
    uint8_t raw[1000], back[1000], blob[4096];
    for (int i = 0; i < 1000; i++) raw[i] = (uint8_t)(i * 7 % 13);
    for (int k = 0; k < N_PEERS; k++) {
        alcm_codec *p = NULL;
        assert_int_equal(alcm_bench_codec_create(k_peers[k], &p, &err), ALCM_BENCH_OK);
        size_t len = 0, out = 0;
        assert_true(p->bound(p, &bi, 1000) <= sizeof blob);
        assert_int_equal(p->compress(p, &bi, raw, 1000, blob, sizeof blob, &len), 0);
        assert_int_equal(p->decompress(p, &bi, blob, len, back, 1000, &out), 0);
        assert_int_equal(out, 1000);
        assert_memory_equal(raw, back, 1000);
        blob[0] = 7; /* unknown method byte */
        assert_int_not_equal(p->decompress(p, &bi, blob, len, back, 1000, &out), 0);
        alcm_bench_codec_free(p);
    }
    alcm_bench_codec_free(c);
    free(x);
}

/* planes-zstd and planes-huff: exact on floats and bytes, deterministic, better than zstd-1
 * over the interleaved bytes on a Gaussian tensor (its exponent plane is skewed), and every
 * malformed blob refused. */
static void test_lossless_planes(void **state)
{
    (void)state;
    const size_t n = ROWS * COLS;
    float *x = gaussian(n, 11, 0.01f);
    alcm_codec_item it = f32_item(0.01);
    alcm_bench_error err;
    alcm_codec *z = NULL;
    assert_int_equal(alcm_bench_codec_create("zstd-1", &z, &err), ALCM_BENCH_OK);
    double e = 1.0;
    size_t zlen = roundtrip(z, &it, x, n, &e);
    const char *names[2] = {"planes-zstd", "planes-huff"};
    for (int k = 0; k < 2; k++) {
        alcm_codec *c = NULL;
        assert_int_equal(alcm_bench_codec_create(names[k], &c, &err), ALCM_BENCH_OK);
        assert_int_equal(alcm_bench_codec_check(c, &err), ALCM_BENCH_OK);
        assert_string_equal(c->name, names[k]);
        assert_int_equal(c->lossless, 1);
        e = 1.0;
        size_t len = roundtrip(c, &it, x, n, &e);
        assert_true(e == 0.0);
        double ratio = (double)(n * 4) / (double)len;
        fprintf(stderr, "%s: ratio %.4f, zstd-1 %.4f\n", names[k], ratio,
                (double)(n * 4) / (double)zlen);
        assert_true(ratio > 1.1);
        assert_true(len < zlen);
        /* bit-exact, not merely close */
        size_t cap = c->bound(c, &it, n * 4), out = 0;
        uint8_t *blob = malloc(cap);
        float *y = malloc(n * 4);
        assert_non_null(blob);
        assert_non_null(y);
        assert_int_equal(c->compress(c, &it, x, n * 4, blob, cap, &len), 0);
        assert_int_equal(c->decompress(c, &it, blob, len, y, n * 4, &out), 0);
        assert_memory_equal(x, y, n * 4);
        /* malformed: truncated, an extra byte, a plane length changed, a bad kind */
        assert_int_not_equal(c->decompress(c, &it, blob, len - 1, y, n * 4, &out), 0);
        assert_int_not_equal(c->decompress(c, &it, blob, len + 1, y, n * 4, &out), 0);
        blob[2] ^= 1;
        assert_int_not_equal(c->decompress(c, &it, blob, len, y, n * 4, &out), 0);
        blob[2] ^= 1;
        blob[1] = 9;
        assert_int_not_equal(c->decompress(c, &it, blob, len, y, n * 4, &out), 0);
        assert_int_not_equal(c->decompress(c, &it, blob, 0, y, n * 4, &out), 0);
        /* a constant tensor: every plane collapses (Huffman: to 1 bit per byte) */
        for (size_t i = 0; i < n; i++) x[i] = 0.5f;
        len = roundtrip(c, &it, x, n, &e);
        assert_true(e == 0.0 && len < (k ? n * 4 / 7 : n / 10));
        free(x);
        x = gaussian(n, 11, 0.01f);
        /* bytes items and an empty tensor */
        alcm_codec_item bi;
        memset(&bi, 0, sizeof bi);
        bi.type = ALCM_CODEC_ITEM_BYTES;
        bi.rank = 1;
        bi.dims[0] = 1000;
        bi.name = "t.bin";
        uint8_t raw[1000], back[1000];
        for (int i = 0; i < 1000; i++) raw[i] = (uint8_t)(i * 7 % 13);
        assert_int_equal(c->compress(c, &bi, raw, 1000, blob, cap, &len), 0);
        assert_int_equal(c->decompress(c, &bi, blob, len, back, 1000, &out), 0);
        assert_int_equal(out, 1000);
        assert_memory_equal(raw, back, 1000);
        alcm_codec_item empty = it;
        empty.dims[0] = 0;
        assert_int_equal(c->compress(c, &empty, x, 0, blob, cap, &len), 0);
        assert_int_equal(c->decompress(c, &empty, blob, len, y, 0, &out), 0);
        assert_int_equal(out, 0);
        free(blob);
        free(y);
        alcm_bench_codec_free(c);
    }
    alcm_bench_codec_free(z);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_within_budget_and_sizes),
        cmocka_unit_test(test_fallback_and_bytes),
        cmocka_unit_test(test_lossless_planes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
