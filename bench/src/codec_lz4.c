/* codec_lz4.c - the `lz4` codec: LZ4 block compression (default acceleration) over the raw
 * bytes; the decoder is told the original size, as the harness guarantees. */
#include <limits.h>
#include <lz4.h>
#include <stdlib.h>

#include "bench_internal.h"

enum { LZ4C_E_TOO_LARGE = 1, LZ4C_E_COMPRESS = 2, LZ4C_E_CORRUPT = 3 };

static size_t l4_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    if (n > LZ4_MAX_INPUT_SIZE) return 16;   /* compress refuses it anyway */
    return (size_t)LZ4_compressBound((int)n);
}

static int l4_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    (void)c;
    (void)item;
    if (n > LZ4_MAX_INPUT_SIZE) return LZ4C_E_TOO_LARGE;
    int dcap = cap > INT_MAX ? INT_MAX : (int)cap;
    int r = LZ4_compress_default(src, dst, (int)n, dcap);
    if (r <= 0 && n > 0) return LZ4C_E_COMPRESS;
    *len = r > 0 ? (size_t)r : 0;
    return 0;
}

static int l4_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    (void)c;
    (void)item;
    if (n > INT_MAX || cap > INT_MAX) return LZ4C_E_TOO_LARGE;
    if (cap == 0) {   /* an empty input: nothing to decode */
        *len = 0;
        return 0;
    }
    int r = LZ4_decompress_safe(src, dst, (int)n, (int)cap);
    if (r < 0) return LZ4C_E_CORRUPT;
    *len = (size_t)r;
    return 0;
}

static const char *l4_describe(alcm_codec *c, int code)
{
    (void)c;
    switch (code) {
    case LZ4C_E_TOO_LARGE: return "input larger than LZ4_MAX_INPUT_SIZE";
    case LZ4C_E_COMPRESS: return "LZ4_compress_default failed";
    case LZ4C_E_CORRUPT: return "LZ4_decompress_safe: malformed block";
    }
    return "unknown lz4 error";
}

static void l4_free(alcm_codec *c)
{
    free(c);
}

alcm_codec *bench_codec_lz4(void)
{
    alcm_codec *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = "lz4";
    c->lossless = 1;
    c->bound = l4_bound;
    c->compress = l4_compress;
    c->decompress = l4_decompress;
    c->describe_error = l4_describe;
    c->free = l4_free;
    return c;
}
