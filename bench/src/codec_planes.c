/* codec_planes.c - the simple lossless peers for floats (docs/BENCHMARKS.md, "Codecs"): a
 * float32 tensor is split into its four byte planes (byte k of every value together) and
 * each plane is coded on its own with an order-0-style coder: `planes-zstd` uses zstd
 * level 1 per plane, `planes-huff` DEFLATE Huffman-only per plane (zlib Z_HUFFMAN_ONLY, raw
 * deflate), the coder ZipNN applies to exponent bytes. A plane that does not shrink is
 * stored. Bytes items are coded whole with the same coder.
 *
 * Blob: one mode byte. Mode 0: the item's bytes coded whole (zstd frame, or raw deflate
 * followed by nothing else). Mode 1 (f32 items): four plane records of 5 bytes (kind: 0
 * stored, 1 coded; u32 little-endian length), then the four plane payloads in order. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "bench_internal.h"

typedef enum { PL_ZSTD, PL_HUFF } planes_kind;

typedef struct {
    alcm_codec codec;
    planes_kind kind;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    z_stream zc, zd;
    int zc_ok, zd_ok;
    uint8_t *tmp;   /* the planes of one tensor */
    size_t tmp_cap;
} planes;

enum { PL_E_NOMEM = 1, PL_E_DST = 2, PL_E_CORRUPT = 3, PL_E_CODER = 4 };

#define PL_HEADER (1 + 4 * 5)

static int grow(planes *p, size_t n)
{
    if (n <= p->tmp_cap) return 0;
    uint8_t *q = realloc(p->tmp, n ? n : 1);
    if (!q) return -1;
    p->tmp = q;
    p->tmp_cap = n;
    return 0;
}

/* Codes n bytes of src into dst (capacity cap); *used gets the coded length. PL_E_DST when
 * the output does not fit. */
static int code(planes *p, const uint8_t *src, size_t n, uint8_t *dst, size_t cap, size_t *used)
{
    if (p->kind == PL_ZSTD) {
        size_t r = ZSTD_compressCCtx(p->cctx, dst, cap, src, n, 1);
        if (ZSTD_isError(r)) return PL_E_DST;   /* dst >= the bound leaves no other cause */
        *used = r;
        return 0;
    }
    if (deflateReset(&p->zc) != Z_OK) return PL_E_CODER;
    p->zc.next_in = (Bytef *)(uintptr_t)src;
    p->zc.avail_in = (uInt)n;
    p->zc.next_out = dst;
    p->zc.avail_out = (uInt)cap;
    int rc = deflate(&p->zc, Z_FINISH);
    if (rc != Z_STREAM_END) return rc == Z_OK || rc == Z_BUF_ERROR ? PL_E_DST : PL_E_CODER;
    *used = cap - p->zc.avail_out;
    return 0;
}

/* Decodes exactly n bytes from src (len bytes) into dst. */
static int decode(planes *p, const uint8_t *src, size_t len, uint8_t *dst, size_t n)
{
    if (p->kind == PL_ZSTD) {
        size_t r = ZSTD_decompressDCtx(p->dctx, dst, n, src, len);
        return ZSTD_isError(r) || r != n ? PL_E_CORRUPT : 0;
    }
    if (inflateReset(&p->zd) != Z_OK) return PL_E_CODER;
    p->zd.next_in = (Bytef *)(uintptr_t)src;
    p->zd.avail_in = (uInt)len;
    p->zd.next_out = dst;
    p->zd.avail_out = (uInt)n;
    int rc = inflate(&p->zd, Z_FINISH);
    return rc == Z_STREAM_END && p->zd.avail_out == 0 && p->zd.avail_in == 0 ? 0 : PL_E_CORRUPT;
}

static size_t pl_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)item;
    planes *p = (planes *)c;
    size_t b = p->kind == PL_ZSTD ? ZSTD_compressBound(n) : (size_t)deflateBound(&p->zc, (uLong)n);
    return PL_HEADER + b + 4 * 64;
}

static void put_u32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int pl_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    planes *p = (planes *)c;
    uint8_t *out = dst;
    const uint8_t *in = src;
    if (n > UINT32_MAX) return PL_E_DST;   /* zlib's lengths are 32 bits */
    if (item->type != ALCM_CODEC_ITEM_F32 || n % 4 != 0 || n == 0) {
        if (cap < 1) return PL_E_DST;
        out[0] = 0;
        size_t used;
        int rc = code(p, in, n, out + 1, cap - 1, &used);
        if (rc) return rc;
        *len = 1 + used;
        return 0;
    }
    if (cap < PL_HEADER) return PL_E_DST;
    size_t m = n / 4;
    if (grow(p, n)) return PL_E_NOMEM;
    for (size_t i = 0; i < m; i++) {   /* one pass: byte k of value i to plane k */
        p->tmp[i] = in[4 * i];
        p->tmp[m + i] = in[4 * i + 1];
        p->tmp[2 * m + i] = in[4 * i + 2];
        p->tmp[3 * m + i] = in[4 * i + 3];
    }
    out[0] = 1;
    size_t pos = PL_HEADER;
    for (int k = 0; k < 4; k++) {
        const uint8_t *plane = p->tmp + (size_t)k * m;
        size_t used = 0;
        int rc = pos < cap ? code(p, plane, m, out + pos, cap - pos, &used) : PL_E_DST;
        uint8_t kind = 1;
        if (rc == PL_E_DST || (rc == 0 && used >= m)) {   /* does not shrink: store */
            if (cap - pos < m) return PL_E_DST;
            memcpy(out + pos, plane, m);
            used = m;
            kind = 0;
        } else if (rc) {
            return rc;
        }
        out[1 + 5 * k] = kind;
        put_u32(out + 2 + 5 * k, (uint32_t)used);
        pos += used;
    }
    *len = pos;
    return 0;
}

static int pl_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    planes *p = (planes *)c;
    const uint8_t *b = src;
    uint8_t *out = dst;
    if (n < 1 || cap > UINT32_MAX) return PL_E_CORRUPT;
    if (b[0] == 0) {
        int rc = decode(p, b + 1, n - 1, out, cap);
        if (rc) return rc;
        *len = cap;
        return 0;
    }
    if (b[0] != 1 || item->type != ALCM_CODEC_ITEM_F32 || cap % 4 != 0 || n < PL_HEADER)
        return PL_E_CORRUPT;
    size_t m = cap / 4, pos = PL_HEADER;
    if (grow(p, cap)) return PL_E_NOMEM;
    for (int k = 0; k < 4; k++) {
        uint8_t kind = b[1 + 5 * k];
        size_t used = get_u32(b + 2 + 5 * k);
        if (kind > 1 || used > n - pos || (kind == 0 && used != m)) return PL_E_CORRUPT;
        uint8_t *plane = p->tmp + (size_t)k * m;
        if (kind == 0) memcpy(plane, b + pos, m);
        else if (decode(p, b + pos, used, plane, m)) return PL_E_CORRUPT;
        pos += used;
    }
    if (pos != n) return PL_E_CORRUPT;
    for (size_t i = 0; i < m; i++) {
        out[4 * i] = p->tmp[i];
        out[4 * i + 1] = p->tmp[m + i];
        out[4 * i + 2] = p->tmp[2 * m + i];
        out[4 * i + 3] = p->tmp[3 * m + i];
    }
    *len = cap;
    return 0;
}

static const char *pl_describe(alcm_codec *c, int code_)
{
    (void)c;
    switch (code_) {
    case PL_E_NOMEM: return "out of memory";
    case PL_E_DST: return "output does not fit";
    case PL_E_CORRUPT: return "blob is corrupt";
    case PL_E_CODER: return "zstd or zlib failed";
    default: return "unknown error";
    }
}

static void pl_free(alcm_codec *c)
{
    planes *p = (planes *)c;
    if (!p) return;
    ZSTD_freeCCtx(p->cctx);
    ZSTD_freeDCtx(p->dctx);
    if (p->zc_ok) deflateEnd(&p->zc);
    if (p->zd_ok) inflateEnd(&p->zd);
    free(p->tmp);
    free(p);
}

alcm_codec *bench_codec_planes(int huffman)
{
    planes *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->kind = huffman ? PL_HUFF : PL_ZSTD;
    if (huffman) {
        /* Level 1 with Z_HUFFMAN_ONLY: no match search, one Huffman table per block. */
        p->zc_ok = deflateInit2(&p->zc, 1, Z_DEFLATED, -15, 8, Z_HUFFMAN_ONLY) == Z_OK;
        p->zd_ok = inflateInit2(&p->zd, -15) == Z_OK;
        if (!p->zc_ok || !p->zd_ok) {
            pl_free(&p->codec);
            return NULL;
        }
    } else {
        p->cctx = ZSTD_createCCtx();
        p->dctx = ZSTD_createDCtx();
        if (!p->cctx || !p->dctx) {
            pl_free(&p->codec);
            return NULL;
        }
    }
    alcm_codec *c = &p->codec;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = huffman ? "planes-huff" : "planes-zstd";
    c->lossless = 1;
    c->state = p;
    c->bound = pl_bound;
    c->compress = pl_compress;
    c->decompress = pl_decompress;
    c->describe_error = pl_describe;
    c->free = pl_free;
    return c;
}
