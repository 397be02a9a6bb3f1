/* codec_mock.c - the `mock` codec: a deterministic, documented run-length code that needs
 * no library, so the harness can be exercised and checked anywhere.
 *
 * Blob format: a sequence of (count, value) byte pairs, count in 1..255; decoding appends
 * count copies of value for each pair. Encoding emits maximal runs of equal bytes, split
 * every 255 bytes. An empty input gives an empty blob. A run of n equal bytes costs exactly
 * 2 * ceil(n / 255) bytes; bytes that never repeat cost 2 each. */
#include <stdlib.h>

#include "bench_internal.h"

enum { MOCK_E_DST = 1, MOCK_E_CORRUPT = 2 };

static size_t mk_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    return n > SIZE_MAX / 2 ? SIZE_MAX : 2 * n;
}

static int mk_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    (void)c;
    (void)item;
    const uint8_t *s = src;
    uint8_t *d = dst;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t run = 1;
        while (i + run < n && run < 255 && s[i + run] == s[i]) run++;
        if (o + 2 > cap) return MOCK_E_DST;
        d[o++] = (uint8_t)run;
        d[o++] = s[i];
        i += run;
    }
    *len = o;
    return 0;
}

static int mk_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    (void)c;
    (void)item;
    const uint8_t *s = src;
    uint8_t *d = dst;
    size_t o = 0;
    if (n % 2) return MOCK_E_CORRUPT;
    for (size_t i = 0; i < n; i += 2) {
        size_t run = s[i];
        if (run == 0) return MOCK_E_CORRUPT;
        if (run > cap - o) return MOCK_E_DST;
        for (size_t k = 0; k < run; k++) d[o + k] = s[i + 1];
        o += run;
    }
    *len = o;
    return 0;
}

static const char *mk_describe(alcm_codec *c, int code)
{
    (void)c;
    switch (code) {
    case MOCK_E_DST: return "mock: output buffer too small";
    case MOCK_E_CORRUPT: return "mock: malformed run-length pairs";
    }
    return "mock: unknown error";
}

static void mk_free(alcm_codec *c)
{
    free(c);
}

alcm_codec *bench_codec_mock(void)
{
    alcm_codec *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = "mock";
    c->lossless = 1;
    c->bound = mk_bound;
    c->compress = mk_compress;
    c->decompress = mk_decompress;
    c->describe_error = mk_describe;
    c->free = mk_free;
    return c;
}
