/* shuffle_zstd.c - example codec plugin for `alcm-bench bench --codec-plugin`: "shuffle-zstd"
 * splits float32 tensors into four byte planes (sign/exponent bytes together, mantissa bytes
 * together) before zstd level 1, and compresses bytes items with zstd level 1 as they are.
 * Build: part of the CMake build (build/lib/libalcm_codec_shuffle.so); by hand:
 *   cc -shared -fPIC -O2 -I bench shuffle_zstd.c -lzstd -o libalcm_codec_shuffle.so
 *
 * Blob: one mode byte (0 = bytes as they are, 1 = byte planes of a float32 tensor), then
 * one zstd frame of the (shuffled) bytes. */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "alcm_codec.h"

enum { SZ_E_NOMEM = 1, SZ_E_DST = 2, SZ_E_CORRUPT = 3, SZ_E_ZSTD = 4 };

typedef struct {
    alcm_codec codec;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    unsigned char *tmp;   /* shuffle scratch, grown as needed */
    size_t tmp_cap;
} shuffle_codec;

static int grow(shuffle_codec *s, size_t n)
{
    if (n <= s->tmp_cap) return 0;
    unsigned char *p = realloc(s->tmp, n);
    if (!p) return -1;
    s->tmp = p;
    s->tmp_cap = n;
    return 0;
}

static size_t sz_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    return 1 + ZSTD_compressBound(n);
}

static int sz_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    shuffle_codec *s = (shuffle_codec *)c;
    unsigned char *out = dst;
    const unsigned char *in = src;
    if (cap < 1) return SZ_E_DST;
    out[0] = item->type == ALCM_CODEC_ITEM_F32 && n % 4 == 0;
    if (out[0]) {
        size_t m = n / 4;
        if (grow(s, n)) return SZ_E_NOMEM;
        for (size_t i = 0; i < m; i++)
            for (size_t k = 0; k < 4; k++) s->tmp[k * m + i] = in[4 * i + k];
        in = s->tmp;
    }
    size_t r = ZSTD_compressCCtx(s->cctx, out + 1, cap - 1, in, n, 1);
    if (ZSTD_isError(r)) return SZ_E_ZSTD;
    *len = r + 1;
    return 0;
}

static int sz_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    (void)item;
    shuffle_codec *s = (shuffle_codec *)c;
    const unsigned char *in = src;
    if (n < 1 || in[0] > 1 || (in[0] == 1 && cap % 4 != 0)) return SZ_E_CORRUPT;
    unsigned char *target = dst;
    if (in[0] == 1) {
        if (grow(s, cap)) return SZ_E_NOMEM;
        target = s->tmp;
    }
    size_t r = ZSTD_decompressDCtx(s->dctx, target, cap, in + 1, n - 1);
    if (ZSTD_isError(r)) return SZ_E_ZSTD;
    if (in[0] == 1) {
        if (r != cap) return SZ_E_CORRUPT;
        size_t m = cap / 4;
        unsigned char *out = dst;
        for (size_t i = 0; i < m; i++)
            for (size_t k = 0; k < 4; k++) out[4 * i + k] = s->tmp[k * m + i];
    }
    *len = r;
    return 0;
}

static const char *sz_describe(alcm_codec *c, int code)
{
    (void)c;
    switch (code) {
    case SZ_E_NOMEM: return "shuffle-zstd: out of memory";
    case SZ_E_DST: return "shuffle-zstd: output buffer too small";
    case SZ_E_CORRUPT: return "shuffle-zstd: malformed blob";
    case SZ_E_ZSTD: return "shuffle-zstd: zstd reported an error";
    }
    return "shuffle-zstd: unknown error";
}

static void sz_free(alcm_codec *c)
{
    shuffle_codec *s = (shuffle_codec *)c;
    if (!s) return;
    ZSTD_freeCCtx(s->cctx);
    ZSTD_freeDCtx(s->dctx);
    free(s->tmp);
    free(s);
}

__attribute__((visibility("default"))) alcm_codec *alcm_codec_plugin_create(uint32_t abi_version)
{
    if (abi_version != ALCM_CODEC_ABI_VERSION) return NULL;
    shuffle_codec *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cctx = ZSTD_createCCtx();
    s->dctx = ZSTD_createDCtx();
    if (!s->cctx || !s->dctx) {
        sz_free(&s->codec);
        return NULL;
    }
    alcm_codec *c = &s->codec;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = "shuffle-zstd";
    c->adaptive = 0;
    c->lossless = 1;
    c->state = s;
    c->bound = sz_bound;
    c->compress = sz_compress;
    c->decompress = sz_decompress;
    c->describe_error = sz_describe;
    c->free = sz_free;
    return c;
}
