/* codec_zstd.c - the `zstd-1` and `zstd-3` codecs: zstd at a fixed level over the raw
 * bytes, with one reused compression and decompression context. */
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "bench_internal.h"

typedef struct {
    alcm_codec codec;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    int level;
    char name[16];
} zstd_codec;

static size_t zs_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    return ZSTD_compressBound(n);
}

/* zstd error codes are size_t values near SIZE_MAX; report their small positive enum. */
static int zs_code(size_t r)
{
    int code = (int)ZSTD_getErrorCode(r);
    return code ? code : 1;
}

static int zs_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    (void)item;
    zstd_codec *z = (zstd_codec *)c;
    size_t r = ZSTD_compressCCtx(z->cctx, dst, cap, src, n, z->level);
    if (ZSTD_isError(r)) return zs_code(r);
    *len = r;
    return 0;
}

static int zs_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    (void)item;
    zstd_codec *z = (zstd_codec *)c;
    size_t r = ZSTD_decompressDCtx(z->dctx, dst, cap, src, n);
    if (ZSTD_isError(r)) return zs_code(r);
    *len = r;
    return 0;
}

static const char *zs_describe(alcm_codec *c, int code)
{
    (void)c;
    return ZSTD_getErrorString((ZSTD_ErrorCode)code);
}

static void zs_free(alcm_codec *c)
{
    zstd_codec *z = (zstd_codec *)c;
    if (!z) return;
    ZSTD_freeCCtx(z->cctx);
    ZSTD_freeDCtx(z->dctx);
    free(z);
}

alcm_codec *bench_codec_zstd(int level)
{
    zstd_codec *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    z->cctx = ZSTD_createCCtx();
    z->dctx = ZSTD_createDCtx();
    if (!z->cctx || !z->dctx) {
        zs_free(&z->codec);
        return NULL;
    }
    z->level = level;
    snprintf(z->name, sizeof z->name, "zstd-%d", level);
    alcm_codec *c = &z->codec;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = z->name;
    c->lossless = 1;
    c->state = z;
    c->bound = zs_bound;
    c->compress = zs_compress;
    c->decompress = zs_decompress;
    c->describe_error = zs_describe;
    c->free = zs_free;
    return c;
}
