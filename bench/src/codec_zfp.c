/* codec_zfp.c - the `zfp` peer: Debian's libzfp in fixed-accuracy mode on the flat f32
 * tensor, its absolute tolerance tuned to the relative L2 budget by a bisection on log
 * tolerance (8 trial encodes per compress; the time of the search is part of the measured
 * compress time). Blob: method byte (1 zfp, 0 zstd-1 of the input bytes for bytes items and
 * tensors no tolerance holds within the budget), then for zfp the tolerance (f64 LE) and
 * the zfp stream (no zfp header: shape and type come from the item). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zfp.h>
#include <zstd.h>

#include "bench_internal.h"

#define TRIALS 8

typedef struct {
    alcm_codec codec;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    float *check;
    size_t check_cap;
    uint8_t *trial;
    size_t trial_cap;
} zfp_codec;

enum { ZE_NOMEM = 1, ZE_CORRUPT = 2, ZE_CODER = 3 };

/* zfp stream of n floats at tolerance tol into buf (cap bytes); 0 on failure. */
static size_t zfp_encode(const float *x, size_t n, double tol, void *buf, size_t cap)
{
    zfp_field *f = zfp_field_1d((void *)(uintptr_t)x, zfp_type_float, n);
    zfp_stream *z = zfp_stream_open(NULL);
    bitstream *bs = stream_open(buf, cap);
    size_t out = 0;
    if (f && z && bs) {
        zfp_stream_set_accuracy(z, tol);
        zfp_stream_set_bit_stream(z, bs);
        zfp_stream_rewind(z);
        if (zfp_stream_maximum_size(z, f) <= cap) out = zfp_compress(z, f);
    }
    if (bs) stream_close(bs);
    if (z) zfp_stream_close(z);
    if (f) zfp_field_free(f);
    return out;
}

static int zfp_decode(const void *buf, size_t len, double tol, float *y, size_t n)
{
    zfp_field *f = zfp_field_1d(y, zfp_type_float, n);
    zfp_stream *z = zfp_stream_open(NULL);
    bitstream *bs = stream_open((void *)(uintptr_t)buf, len);
    int ok = 0;
    if (f && z && bs) {
        zfp_stream_set_accuracy(z, tol);
        zfp_stream_set_bit_stream(z, bs);
        zfp_stream_rewind(z);
        ok = zfp_decompress(z, f) != 0 && zfp_stream_compressed_size(z) <= len;
    }
    if (bs) stream_close(bs);
    if (z) zfp_stream_close(z);
    if (f) zfp_field_free(f);
    return ok ? 0 : ZE_CORRUPT;
}

static size_t zf_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    size_t m = item->type == ALCM_CODEC_ITEM_F32 ? n / 4 : 0;
    /* zfp at the finest accuracy: at most about 4 bytes per value plus block headers */
    size_t zb = 64 + m * 5 + (m / 4 + 1) * 8;
    size_t sb = ZSTD_compressBound(n);
    return 16 + (zb > sb ? zb : sb);
}

static double rel_err(const float *x, const float *y, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - (double)y[i];
        num += d * d;
        den += (double)x[i] * (double)x[i];
    }
    return den > 0.0 ? sqrt(num / den) : (num > 0.0 ? INFINITY : 0.0);
}

static int zf_compress(alcm_codec *c, const alcm_codec_item *it, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    zfp_codec *z = (zfp_codec *)c;
    uint8_t *out = dst;
    size_t m = it->type == ALCM_CODEC_ITEM_F32 ? n / 4 : 0;
    if (cap < 16) return ZE_CODER;
    if (m > 0 && (uintptr_t)src % 4 == 0) {
        const float *x = src;
        if (m > z->check_cap) {
            float *q = realloc(z->check, m * sizeof *q);
            if (!q) return ZE_NOMEM;
            z->check = q;
            z->check_cap = m;
        }
        double e2 = 0.0;
        for (size_t i = 0; i < m; i++) e2 += (double)x[i] * (double)x[i];
        double rms = sqrt(e2 / (double)m);
        if (rms > 0.0 && isfinite(rms)) {
            /* error ~ tolerance / 3 for uniform rounding: bracket [rms ε/16, rms ε 4] */
            double lo = log(rms * it->error_budget / 16.0), hi = log(rms * it->error_budget * 4.0);
            double best_tol = 0.0;
            size_t best_len = 0;
            size_t room = cap - 9;
            if (room > z->trial_cap) {
                void *t = realloc(z->trial, room);
                if (!t) return ZE_NOMEM;
                z->trial = t;
                z->trial_cap = room;
            }
            for (int k = 0; k < TRIALS; k++) {
                double mid = k == 0 ? lo : 0.5 * (lo + hi);
                double tol = exp(mid);
                size_t l = zfp_encode(x, m, tol, z->trial, room);
                int ok = l > 0 && zfp_decode(z->trial, l, tol, z->check, m) == 0 &&
                         rel_err(x, z->check, m) <= it->error_budget;
                if (ok && tol > best_tol) {
                    best_tol = tol;
                    best_len = l;
                    memcpy(out + 9, z->trial, l);
                }
                if (k == 0) {
                    if (!ok) break; /* even the finest bracket end misses the budget */
                    continue;
                }
                if (ok) lo = mid;
                else hi = mid;
            }
            if (best_len) {
                out[0] = 1;
                memcpy(out + 1, &best_tol, 8);
                *len = 9 + best_len;
                return 0;
            }
        }
    }
    out[0] = 0;
    size_t r = ZSTD_compressCCtx(z->cctx, out + 1, cap - 1, src, n, 1);
    if (ZSTD_isError(r)) return ZE_CODER;
    *len = 1 + r;
    return 0;
}

static int zf_decompress(alcm_codec *c, const alcm_codec_item *it, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    zfp_codec *z = (zfp_codec *)c;
    const uint8_t *b = src;
    if (n < 1) return ZE_CORRUPT;
    if (b[0] == 0) {
        size_t r = ZSTD_decompressDCtx(z->dctx, dst, cap, b + 1, n - 1);
        if (ZSTD_isError(r)) return ZE_CORRUPT;
        *len = r;
        return 0;
    }
    if (b[0] != 1 || n < 9 || it->type != ALCM_CODEC_ITEM_F32 || (uintptr_t)dst % 4)
        return ZE_CORRUPT;
    double tol;
    memcpy(&tol, b + 1, 8);
    if (!(tol > 0.0) || !isfinite(tol)) return ZE_CORRUPT;
    int rc = zfp_decode(b + 9, n - 9, tol, dst, cap / 4);
    if (rc == 0) *len = cap / 4 * 4;
    return rc;
}

static const char *zf_describe(alcm_codec *c, int code)
{
    (void)c;
    switch (code) {
    case ZE_NOMEM: return "out of memory";
    case ZE_CORRUPT: return "blob is corrupt";
    case ZE_CODER: return "zfp or zstd failed or output does not fit";
    default: return "unknown error";
    }
}

static void zf_free(alcm_codec *c)
{
    zfp_codec *z = (zfp_codec *)c;
    if (!z) return;
    ZSTD_freeCCtx(z->cctx);
    ZSTD_freeDCtx(z->dctx);
    free(z->check);
    free(z->trial);
    free(z);
}

alcm_codec *bench_codec_zfp(void)
{
    zfp_codec *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    z->cctx = ZSTD_createCCtx();
    z->dctx = ZSTD_createDCtx();
    if (!z->cctx || !z->dctx) {
        zf_free(&z->codec);
        return NULL;
    }
    alcm_codec *c = &z->codec;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = "zfp";
    c->lossless = 0;
    c->state = z;
    c->bound = zf_bound;
    c->compress = zf_compress;
    c->decompress = zf_decompress;
    c->describe_error = zf_describe;
    c->free = zf_free;
    return c;
}
