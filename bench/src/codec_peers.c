/* codec_peers.c - the simple lossy peers of the gradient codec, each tuned to the error
 * budget where it can be (docs/BENCHMARKS.md, "Lossy peers"): fp16 and bf16 casts (round to
 * nearest even), int8-zstd (symmetric int8 per row + zstd-1), global-q (one uniform step
 * for the whole tensor sized to the budget + zstd-1) and topk (the largest magnitudes kept
 * until the budget is met, at least 1 %, fp32 values + delta-coded indices + zstd-1).
 * A blob starts with one method byte: 1 the codec's payload, 0 the input bytes coded with
 * zstd-1 (bytes items, and f32 items the method cannot hold within the budget). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "bench_internal.h"

typedef enum { P_FP16, P_BF16, P_INT8, P_GLOBALQ, P_TOPK } peer_kind;

typedef struct {
    alcm_codec codec;
    peer_kind kind;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    uint8_t *scratch; /* payload before zstd / after it */
    size_t scratch_cap;
    float *check;     /* decoded values for the error check */
    size_t check_cap;
} peer;

enum { PE_FALLBACK = -1, PE_NOMEM = 1, PE_CORRUPT = 2, PE_ZSTD = 3 };

static const char *k_names[] = {"fp16", "bf16", "int8-zstd", "global-q", "topk"};

static int reserve(uint8_t **p, size_t *cap, size_t n)
{
    if (n <= *cap) return 0;
    void *q = realloc(*p, n ? n : 1);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

static size_t numel_of(const alcm_codec_item *it, size_t len)
{
    return it->type == ALCM_CODEC_ITEM_F32 ? len / 4 : 0;
}

/* Rows for int8: dims[0] for rank >= 2, else blocks of 4096. */
static void rows_of(const alcm_codec_item *it, size_t n, size_t *rows, size_t *row_len)
{
    if (it->rank >= 2 && it->dims[0] > 0 && n % it->dims[0] == 0) {
        *rows = (size_t)it->dims[0];
        *row_len = n / *rows;
    } else {
        *row_len = 4096;
        *rows = (n + 4095) / 4096;
    }
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

/* ---- 16-bit casts (round to nearest even) ---- */

static uint16_t to_half(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds above 65504 */
    if (a < 0x38800000u) { /* subnormal half (or zero) */
        if (a < 0x33000000u) return (uint16_t)sign;
        uint32_t m = (a & 0x7fffffu) | 0x800000u;
        int shift = 126 - (int)(a >> 23); /* value = m 2^(E-150), in units of 2^-24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t h = ((a - 0x38000000u) >> 13), rem = a & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static float from_half(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 31u, m = h & 0x3ffu, b;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        memcpy(&b, &f, 4);
        b |= sign;
    } else if (e == 31) {
        b = sign | 0x7f800000u | (m << 13);
    } else {
        b = sign | ((e + 112u) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static uint16_t to_bf16(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x40u); /* NaN */
    b += 0x7fffu + ((b >> 16) & 1u);
    return (uint16_t)(b >> 16);
}

static float from_bf16(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

/* ---- payloads: encode into p->scratch (uncompressed), decode from it ---- */

static int zstd_into(peer *p, const void *src, size_t n, uint8_t *dst, size_t cap, size_t *used)
{
    size_t r = ZSTD_compressCCtx(p->cctx, dst, cap, src, n, 1);
    if (ZSTD_isError(r)) return PE_ZSTD;
    *used = r;
    return 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Decodes a lossy payload (blob after the method byte) into y. */
static int decode_payload(peer *p, const alcm_codec_item *it, const uint8_t *b, size_t len,
                          float *y, size_t n)
{
    switch (p->kind) {
    case P_FP16:
    case P_BF16:
        if (len != 2 * n) return PE_CORRUPT;
        for (size_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
            y[i] = p->kind == P_FP16 ? from_half(h) : from_bf16(h);
        }
        return 0;
    case P_INT8: {
        size_t rows, rl;
        rows_of(it, n, &rows, &rl);
        size_t raw = rows * 4 + n;
        if (reserve(&p->scratch, &p->scratch_cap, raw)) return PE_NOMEM;
        size_t r = ZSTD_decompressDCtx(p->dctx, p->scratch, raw, b, len);
        if (ZSTD_isError(r) || r != raw) return PE_CORRUPT;
        const int8_t *q = (const int8_t *)(p->scratch + rows * 4);
        for (size_t row = 0; row < rows; row++) {
            float s;
            memcpy(&s, p->scratch + 4 * row, 4);
            size_t end = (row + 1) * rl < n ? (row + 1) * rl : n;
            for (size_t i = row * rl; i < end; i++) y[i] = (float)q[i] * s;
        }
        return 0;
    }
    case P_GLOBALQ: {
        if (len < 5) return PE_CORRUPT;
        float step;
        memcpy(&step, b, 4);
        unsigned w = b[4];
        if (w != 1 && w != 2) return PE_CORRUPT;
        size_t raw = n * w;
        if (reserve(&p->scratch, &p->scratch_cap, raw)) return PE_NOMEM;
        size_t r = ZSTD_decompressDCtx(p->dctx, p->scratch, raw, b + 5, len - 5);
        if (ZSTD_isError(r) || r != raw) return PE_CORRUPT;
        for (size_t i = 0; i < n; i++) {
            int32_t q = w == 1 ? (int8_t)p->scratch[i]
                               : (int16_t)(p->scratch[2 * i] | p->scratch[2 * i + 1] << 8);
            y[i] = (float)q * step;
        }
        return 0;
    }
    case P_TOPK: {
        if (len < 8) return PE_CORRUPT;
        uint64_t k = get_u64(b);
        if (k > n) return PE_CORRUPT;
        unsigned long long raw = ZSTD_getFrameContentSize(b + 8, len - 8);
        if (raw == ZSTD_CONTENTSIZE_ERROR || raw == ZSTD_CONTENTSIZE_UNKNOWN ||
            raw < 4 * k || raw > 4 * k + 5 * (unsigned long long)k)
            return PE_CORRUPT;
        if (reserve(&p->scratch, &p->scratch_cap, (size_t)raw)) return PE_NOMEM;
        size_t r = ZSTD_decompressDCtx(p->dctx, p->scratch, (size_t)raw, b + 8, len - 8);
        if (ZSTD_isError(r) || r != raw) return PE_CORRUPT;
        memset(y, 0, n * 4);
        const uint8_t *v = p->scratch, *d = p->scratch + 4 * k, *end = p->scratch + raw;
        uint64_t idx = 0;
        for (uint64_t j = 0; j < k; j++) {
            uint64_t delta = 0;
            for (int sh = 0;; sh += 7) {
                if (d >= end || sh > 35) return PE_CORRUPT;
                uint8_t c = *d++;
                delta |= (uint64_t)(c & 0x7f) << sh;
                if (!(c & 0x80)) break;
            }
            idx += delta + (j ? 1 : 0);
            if (idx >= n) return PE_CORRUPT;
            memcpy(&y[idx], v + 4 * j, 4);
        }
        return d == end ? 0 : PE_CORRUPT;
    }
    }
    return PE_CORRUPT;
}

/* topk: the magnitude threshold that keeps the fewest elements whose dropped energy is
 * within budget² · energy, keeping at least 1 % (ties at the threshold are kept). */
static float topk_threshold(const float *x, size_t n, double budget)
{
    /* histogram of |x| bit patterns in 4096 buckets (top 12 bits of the positive float) */
    double *e = calloc(4096, sizeof *e);
    uint64_t *c = calloc(4096, sizeof *c);
    if (!e || !c) {
        free(e);
        free(c);
        return 0.0f;
    }
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], 4);
        b &= 0x7fffffffu;
        e[b >> 19] += (double)x[i] * (double)x[i];
        c[b >> 19]++;
        total += (double)x[i] * (double)x[i];
    }
    double allow = budget * budget * total, dropped = 0.0;
    uint64_t kept = n, min_keep = (n + 99) / 100;
    uint32_t bucket = 0;
    for (; bucket < 4096; bucket++) { /* drop whole buckets from the smallest up */
        if (dropped + e[bucket] > allow || kept - c[bucket] < min_keep) break;
        dropped += e[bucket];
        kept -= c[bucket];
    }
    free(e);
    free(c);
    uint32_t tb = bucket << 19;
    float t;
    memcpy(&t, &tb, 4);
    return t;
}

/* Writes the payload of x (n values) into dst (method byte not included), its length into
 * *used. PE_FALLBACK when the method cannot hold x within the budget. */
static int encode_lossy(peer *p, const alcm_codec_item *it, const float *x, size_t n,
                        uint8_t *dst, size_t cap, size_t *used)
{
    switch (p->kind) {
    case P_FP16:
    case P_BF16:
        if (cap < 2 * n) return PE_ZSTD;
        for (size_t i = 0; i < n; i++) {
            uint16_t h = p->kind == P_FP16 ? to_half(x[i]) : to_bf16(x[i]);
            dst[2 * i] = (uint8_t)h;
            dst[2 * i + 1] = (uint8_t)(h >> 8);
        }
        *used = 2 * n;
        return 0;
    case P_INT8: {
        size_t rows, rl;
        rows_of(it, n, &rows, &rl);
        size_t raw = rows * 4 + n;
        if (reserve(&p->scratch, &p->scratch_cap, raw)) return PE_NOMEM;
        int8_t *q = (int8_t *)(p->scratch + rows * 4);
        for (size_t row = 0; row < rows; row++) {
            size_t end = (row + 1) * rl < n ? (row + 1) * rl : n;
            float m = 0.0f;
            for (size_t i = row * rl; i < end; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
            float s = m / 127.0f, inv = s > 0.0f ? 1.0f / s : 0.0f;
            memcpy(p->scratch + 4 * row, &s, 4);
            for (size_t i = row * rl; i < end; i++) q[i] = (int8_t)lrintf(x[i] * inv);
        }
        return zstd_into(p, p->scratch, raw, dst, cap, used);
    }
    case P_GLOBALQ: {
        double energy = 0.0;
        float m = 0.0f;
        for (size_t i = 0; i < n; i++) {
            energy += (double)x[i] * (double)x[i];
            m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
        }
        if (!(energy > 0.0) || cap < 5) return PE_FALLBACK;
        float step = (float)sqrt(12.0 * energy * it->error_budget * it->error_budget / (double)n);
        for (int tries = 0; tries < 48; tries++, step *= 0.97f) {
            if (!(step > 0.0f) || m / step > 32767.0f) return PE_FALLBACK;
            unsigned w = m / step < 127.0f ? 1 : 2;
            if (reserve(&p->scratch, &p->scratch_cap, n * w)) return PE_NOMEM;
            double num = 0.0;
            for (size_t i = 0; i < n; i++) {
                int32_t q = (int32_t)lrintf(x[i] / step);
                float d = x[i] - (float)q * step;
                num += (double)d * (double)d;
                if (w == 1) p->scratch[i] = (uint8_t)(int8_t)q;
                else {
                    p->scratch[2 * i] = (uint8_t)q;
                    p->scratch[2 * i + 1] = (uint8_t)((uint32_t)q >> 8);
                }
            }
            if (sqrt(num / energy) > it->error_budget * (1.0 - 1e-6)) continue;
            memcpy(dst, &step, 4);
            dst[4] = (uint8_t)w;
            size_t u;
            int rc = zstd_into(p, p->scratch, n * w, dst + 5, cap - 5, &u);
            *used = 5 + u;
            return rc;
        }
        return PE_FALLBACK;
    }
    case P_TOPK: {
        float t = topk_threshold(x, n, it->error_budget);
        uint64_t k = 0;
        for (size_t i = 0; i < n; i++) k += fabsf(x[i]) >= t && x[i] != 0.0f;
        if (reserve(&p->scratch, &p->scratch_cap, (size_t)k * 9 + 1)) return PE_NOMEM;
        uint8_t *v = p->scratch, *d = p->scratch + 4 * k;
        uint64_t j = 0, prev = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(fabsf(x[i]) >= t && x[i] != 0.0f)) continue;
            memcpy(v + 4 * j, &x[i], 4);
            uint64_t delta = j ? i - prev - 1 : i;
            do {
                uint8_t c = delta & 0x7f;
                delta >>= 7;
                *d++ = (uint8_t)(c | (delta ? 0x80 : 0));
            } while (delta);
            prev = i;
            j++;
        }
        if (cap < 8) return PE_ZSTD;
        put_u64(dst, k);
        size_t u;
        int rc = zstd_into(p, p->scratch, (size_t)(d - p->scratch), dst + 8, cap - 8, &u);
        *used = 8 + u;
        return rc;
    }
    }
    return PE_FALLBACK;
}

static size_t pe_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    return 64 + ZSTD_compressBound(2 * n + 64);
}

static int pe_compress(alcm_codec *c, const alcm_codec_item *it, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    peer *p = (peer *)c;
    uint8_t *out = dst;
    if (cap < 1) return PE_ZSTD;
    size_t m = numel_of(it, n);
    if (it->type == ALCM_CODEC_ITEM_F32 && m > 0) {
        if (m > p->check_cap) {
            float *q = realloc(p->check, m * sizeof *q);
            if (!q) return PE_NOMEM;
            p->check = q;
            p->check_cap = m;
        }
        const float *x = src;
        float *xa = NULL;
        if ((uintptr_t)src % 4) {
            xa = malloc(n);
            if (!xa) return PE_NOMEM;
            memcpy(xa, src, n);
            x = xa;
        }
        size_t used = 0;
        int rc = encode_lossy(p, it, x, m, out + 1, cap - 1, &used);
        if (rc == 0) rc = decode_payload(p, it, out + 1, used, p->check, m);
        if (rc == 0 && !(rel_err(x, p->check, m) <= it->error_budget)) rc = PE_FALLBACK;
        free(xa);
        if (rc == PE_NOMEM) return rc; /* anything else: stored losslessly below */
        if (rc == 0) {
            out[0] = 1;
            *len = 1 + used;
            return 0;
        }
    }
    out[0] = 0; /* stored losslessly */
    size_t r = ZSTD_compressCCtx(p->cctx, out + 1, cap - 1, src, n, 1);
    if (ZSTD_isError(r)) return PE_ZSTD;
    *len = 1 + r;
    return 0;
}

static int pe_decompress(alcm_codec *c, const alcm_codec_item *it, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    peer *p = (peer *)c;
    const uint8_t *b = src;
    if (n < 1) return PE_CORRUPT;
    if (b[0] == 0) {
        size_t r = ZSTD_decompressDCtx(p->dctx, dst, cap, b + 1, n - 1);
        if (ZSTD_isError(r)) return PE_CORRUPT;
        *len = r;
        return 0;
    }
    if (b[0] != 1 || it->type != ALCM_CODEC_ITEM_F32) return PE_CORRUPT;
    size_t m = cap / 4;
    float *y = dst, *ya = NULL;
    if ((uintptr_t)dst % 4) {
        ya = malloc(cap ? cap : 1);
        if (!ya) return PE_NOMEM;
        y = ya;
    }
    int rc = decode_payload(p, it, b + 1, n - 1, y, m);
    if (ya) {
        if (rc == 0) memcpy(dst, ya, cap);
        free(ya);
    }
    if (rc == 0) *len = m * 4;
    return rc;
}

static const char *pe_describe(alcm_codec *c, int code)
{
    (void)c;
    switch (code) {
    case PE_NOMEM: return "out of memory";
    case PE_CORRUPT: return "blob is corrupt";
    case PE_ZSTD: return "zstd failed or output does not fit";
    default: return "unknown error";
    }
}

static void pe_free(alcm_codec *c)
{
    peer *p = (peer *)c;
    if (!p) return;
    ZSTD_freeCCtx(p->cctx);
    ZSTD_freeDCtx(p->dctx);
    free(p->scratch);
    free(p->check);
    free(p);
}

alcm_codec *bench_codec_peer(const char *name)
{
    int kind = -1;
    for (int k = 0; k < 5; k++)
        if (!strcmp(name, k_names[k])) kind = k;
    if (kind < 0) return NULL;
    peer *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->kind = (peer_kind)kind;
    p->cctx = ZSTD_createCCtx();
    p->dctx = ZSTD_createDCtx();
    if (!p->cctx || !p->dctx) {
        pe_free(&p->codec);
        return NULL;
    }
    alcm_codec *c = &p->codec;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = k_names[kind];
    c->lossless = 0;
    c->state = p;
    c->bound = pe_bound;
    c->compress = pe_compress;
    c->decompress = pe_decompress;
    c->describe_error = pe_describe;
    c->free = pe_free;
    return c;
}
