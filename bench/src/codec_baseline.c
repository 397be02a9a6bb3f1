/* codec_baseline.c - the `baseline` codec: zlib level 6 over the raw bytes, as NumPy's
 * savez_compressed stores arrays; the reference every other codec is compared with. */
#include <stdlib.h>
#include <zlib.h>

#include "bench_internal.h"

static size_t zl_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    return (size_t)compressBound((uLong)n);
}

static int zl_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    (void)c;
    (void)item;
    uLongf out = (uLongf)cap;
    int rc = compress2(dst, &out, src, (uLong)n, 6);
    if (rc != Z_OK) return rc;
    *len = (size_t)out;
    return 0;
}

static int zl_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    (void)c;
    (void)item;
    uLongf out = (uLongf)cap;
    int rc = uncompress(dst, &out, src, (uLong)n);
    if (rc != Z_OK) return rc;
    *len = (size_t)out;
    return 0;
}

static const char *zl_describe(alcm_codec *c, int code)
{
    (void)c;
    return zError(code);
}

static void zl_free(alcm_codec *c)
{
    free(c);
}

alcm_codec *bench_codec_baseline(void)
{
    alcm_codec *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = "baseline";
    c->adaptive = 0;
    c->lossless = 1;
    c->bound = zl_bound;
    c->compress = zl_compress;
    c->decompress = zl_decompress;
    c->describe_error = zl_describe;
    c->free = zl_free;
    return c;
}
