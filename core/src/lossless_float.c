/* lossless_float.c - exact coding of f32/f16/bf16 tensors as byte planes per segment, after
 * a bit regrouping that can put the whole exponent in one plane; each plane its own stream:
 * stored, tANS-coded (exponent planes) or a backend stream (docs/FORMAT.md, codec 2). */
#include <string.h>

#include "ctx.h"
#include "detmath.h"
#include "format.h"
#include "order0.h"
#include "simd.h"
#include "tans.h"

/* Elements per segment: bounds the plane scratch to one segment (4 MiB for f32). */
#define LF_SEGMENT ((uint32_t)1 << 20)

/* Planes whose order-0 entropy is at least this are stored without trying the coder:
 * coding could save at most ~1% and costs a full backend pass. */
#define LF_STORE_BITS 7.9
/* The entropy is estimated from every 7th byte (an odd stride, so periodic structure in
 * the plane is still sampled evenly): a 7x cheaper pass, the same decisions on float
 * planes, whose entropies sit far from the threshold or at 8 bits. */
#define LF_SAMPLE_STRIDE 7
/* A plane whose bytes repeat their neighbour this much more often than order-0 data would
 * (runs: the zeros of sparse gradients) keeps zstd's full match search; the fast skipping
 * of float planes loses those runs (-3.7 % ratio on grad_fmnist). Measured: weights 0.00 to
 * 0.06, gradients with zeros 0.08 to 0.40. */
#define LF_RUNS 0.075

/* Transform 1 (docs/FORMAT.md): the most significant 16 bits of each element rotated left
 * by one, so the top byte holds the whole exponent of f32 and bf16 and the sign moves to
 * the bottom of the next byte. */
static inline uint32_t rot_fwd32(uint32_t v)
{
    return ((v << 1) & 0xFFFE0000u) | ((v >> 15) & 0x00010000u) | (v & 0x0000FFFFu);
}
static inline uint32_t rot_inv32(uint32_t v)
{
    return ((v >> 1) & 0x7FFF0000u) | ((v & 0x00010000u) << 15) | (v & 0x0000FFFFu);
}
static inline uint16_t rot_fwd16(uint16_t v) { return (uint16_t)(v << 1 | v >> 15); }
static inline uint16_t rot_inv16(uint16_t v) { return (uint16_t)(v >> 1 | v << 15); }

static inline uint32_t load32(const uint8_t *src, const float *addend, size_t i)
{
    uint32_t v;
    if (addend) {
        float x;
        memcpy(&x, src + 4 * i, 4);
        x = x + addend[i];
        memcpy(&v, &x, 4);
    } else {
        memcpy(&v, src + 4 * i, 4);
    }
    return v;
}

/* Splits m elements of es bytes (optionally y = x + addend for f32) into es planes, after
 * the transform. One loop per case, so each is a plain vectorisable pass. */
static void split_planes(const uint8_t *src, const float *addend, size_t m, unsigned es,
                         unsigned transform, uint8_t *planes)
{
    if (es == 4) {
        uint8_t *p0 = planes, *p1 = planes + m, *p2 = planes + 2 * m, *p3 = planes + 3 * m;
        if (transform == ALCM_LF_TRANSFORM_ROTATE) {
            for (size_t i = 0; i < m; i++) {
                uint32_t v = rot_fwd32(load32(src, addend, i));
                p0[i] = (uint8_t)v;
                p1[i] = (uint8_t)(v >> 8);
                p2[i] = (uint8_t)(v >> 16);
                p3[i] = (uint8_t)(v >> 24);
            }
            return;
        }
        for (size_t i = 0; i < m; i++) {
            uint32_t v = load32(src, addend, i);
            p0[i] = (uint8_t)v;
            p1[i] = (uint8_t)(v >> 8);
            p2[i] = (uint8_t)(v >> 16);
            p3[i] = (uint8_t)(v >> 24);
        }
        return;
    }
    uint8_t *p0 = planes, *p1 = planes + m; /* 16-bit floats */
    if (transform == ALCM_LF_TRANSFORM_ROTATE) {
        for (size_t i = 0; i < m; i++) {
            uint16_t v = rot_fwd16((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
            p0[i] = (uint8_t)v;
            p1[i] = (uint8_t)(v >> 8);
        }
        return;
    }
    for (size_t i = 0; i < m; i++) {
        p0[i] = src[2 * i];
        p1[i] = src[2 * i + 1];
    }
}

/* Plane b (0 = least significant byte) of m elements after the transform, into out: the
 * one plane split_planes would put at planes + b * m. One plain loop per case. */
ALCM_KERNEL static void gather_plane(const uint8_t *src, const float *addend, size_t m, unsigned es,
                                     unsigned transform, unsigned b, uint8_t *out)
{
    const unsigned sh = 8 * b;
    if (es == 4) {
        if (addend) {
            for (size_t i = 0; i < m; i++) {
                uint32_t v = load32(src, addend, i);
                if (transform == ALCM_LF_TRANSFORM_ROTATE) v = rot_fwd32(v);
                out[i] = (uint8_t)(v >> sh);
            }
        } else if (transform == ALCM_LF_TRANSFORM_ROTATE && b >= 2) {
            for (size_t i = 0; i < m; i++) {
                uint32_t v;
                memcpy(&v, src + 4 * i, 4);
                out[i] = (uint8_t)(rot_fwd32(v) >> sh);
            }
        } else { /* the low two bytes are the same under both transforms */
            for (size_t i = 0; i < m; i++) {
                uint32_t v;
                memcpy(&v, src + 4 * i, 4);
                out[i] = (uint8_t)(v >> sh);
            }
        }
        return;
    }
    /* 16-bit floats: byte arithmetic only, which vectorises (the rotated word's bytes are
     * hi << 1 | lo >> 7 and lo << 1 | hi >> 7) */
    const uint8_t *hi = src + 1, *lo = src;
    if (b == 0) {
        hi = src;
        lo = src + 1;
    }
    if (transform == ALCM_LF_TRANSFORM_ROTATE) {
        for (size_t i = 0; i < m; i++) out[i] = (uint8_t)(hi[2 * i] << 1 | lo[2 * i] >> 7);
        return;
    }
    for (size_t i = 0; i < m; i++) out[i] = hi[2 * i];
}

static void join_planes(const uint8_t *planes, size_t m, unsigned es, unsigned transform,
                        uint8_t *dst)
{
    if (es == 4) {
        const uint8_t *p0 = planes, *p1 = planes + m, *p2 = planes + 2 * m, *p3 = planes + 3 * m;
        if (transform == ALCM_LF_TRANSFORM_ROTATE) {
            for (size_t i = 0; i < m; i++) {
                uint32_t v = (uint32_t)p0[i] | (uint32_t)p1[i] << 8 | (uint32_t)p2[i] << 16 |
                             (uint32_t)p3[i] << 24;
                v = rot_inv32(v);
                memcpy(dst + 4 * i, &v, 4);
            }
            return;
        }
        for (size_t i = 0; i < m; i++) {
            uint32_t v = (uint32_t)p0[i] | (uint32_t)p1[i] << 8 | (uint32_t)p2[i] << 16 |
                         (uint32_t)p3[i] << 24;
            memcpy(dst + 4 * i, &v, 4);
        }
        return;
    }
    const uint8_t *p0 = planes, *p1 = planes + m; /* 16-bit floats */
    if (transform == ALCM_LF_TRANSFORM_ROTATE) {
        for (size_t i = 0; i < m; i++) {
            uint16_t v = rot_inv16((uint16_t)(p0[i] | p1[i] << 8));
            dst[2 * i] = (uint8_t)v;
            dst[2 * i + 1] = (uint8_t)(v >> 8);
        }
        return;
    }
    for (size_t i = 0; i < m; i++) {
        dst[2 * i] = p0[i];
        dst[2 * i + 1] = p1[i];
    }
}

/* Sampled order-0 entropy (bits per byte) and excess repeats (see order0.h) of each plane. */
typedef struct {
    double bits[4], repeats[4];
} plane_est;

/* log2 x for a finite x >= 1 from IEEE basic operations only (deterministic on every
 * machine), within about 1e-12: the exponent from the bits, ln of the mantissa m in
 * [sqrt(1/2), sqrt(2)] by the odd series in s = (m - 1) / (m + 1) to s^13, evaluated in
 * pairs so its terms do not wait on each other (alcm_det_log's series is twice as long and
 * one chain; here a few hundred of these per plane estimate were a tenth of a small
 * tensor's encode). */
static double lf_log2(double x)
{
    uint64_t b;
    memcpy(&b, &x, 8);
    int e = (int)(b >> 52) - 1023;
    b = (b & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    double m;
    memcpy(&m, &b, 8);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, s4 = s2 * s2;
    double p = (1.0 + s2 * (1.0 / 3.0)) +
               s4 * ((1.0 / 5.0 + s2 * (1.0 / 7.0)) +
                     s4 * ((1.0 / 9.0 + s2 * (1.0 / 11.0)) + s4 * (1.0 / 13.0)));
    return (double)e + (2.0 * s * p) * ALCM_INV_LN2;
}

/* c log2 c for c < 64, correctly rounded (constants: the same on every machine). */
static const double clogc_small[64] = {
    0.0, 0.0, 0x1.0000000000000p+1, 0x1.305013ab7ce0ep+2, 0x1.0000000000000p+3,
    0x1.73822cbd80c4ep+3, 0x1.f05013ab7ce0ep+3, 0x1.3a6c7af6983a7p+4, 0x1.8000000000000p+4,
    0x1.c8781d813b516p+4, 0x1.09c1165ec0627p+5, 0x1.306e13544601dp+5, 0x1.582809d5be707p+5,
    0x1.80d881ce687c9p+5, 0x1.aa6c7af6983a7p+5, 0x1.d4d3add94ea03p+5, 0x1.0000000000000p+6,
    0x1.15f28d9a9d691p+6, 0x1.2c3c0ec09da8bp+6, 0x1.42d7ad7dd96dcp+6, 0x1.59c1165ec0627p+6,
    0x1.70f464d3f8ce4p+6, 0x1.886e13544601dp+6, 0x1.a02aee6267e8ap+6, 0x1.b82809d5be707p+6,
    0x1.d062b7ece0f61p+6, 0x1.e8d881ce687c9p+6, 0x1.00c39098b15dcp+7, 0x1.0d363d7b4c1d4p+7,
    0x1.19c34d43ca6c3p+7, 0x1.2669d6eca7502p+7, 0x1.332900fb8eae4p+7, 0x1.4000000000000p+7,
    0x1.4cee1542276ebp+7, 0x1.59f28d9a9d691p+7, 0x1.670cc06d077abp+7, 0x1.743c0ec09da8bp+7,
    0x1.817fe2726c98cp+7, 0x1.8ed7ad7dd96dcp+7, 0x1.9c42e9587918dp+7, 0x1.a9c1165ec0627p+7,
    0x1.b751bb4f71388p+7, 0x1.c4f464d3f8ce4p+7, 0x1.d2a8a51433ef8p+7, 0x1.e06e13544601dp+7,
    0x1.ee444b9b5d819p+7, 0x1.fc2aee6267e8ap+7, 0x1.0510d024ec099p+8, 0x1.0c1404eadf384p+8,
    0x1.131eeb97c5332p+8, 0x1.1a315bf6707b1p+8, 0x1.214b2f6d833a9p+8, 0x1.286c40e7343e5p+8,
    0x1.2f946cbaf13c2p+8, 0x1.36c39098b15dcp+8, 0x1.3df98b75d004dp+8, 0x1.45363d7b4c1d4p+8,
    0x1.4c7987f54c252p+8, 0x1.53c34d43ca6c3p+8, 0x1.5b1370cc4fffap+8, 0x1.6269d6eca7502p+8,
    0x1.69c664ee71ebdp+8, 0x1.712900fb8eae4p+8, 0x1.789192133f947p+8,
};

/* Entropy and repeat excess of a sampled histogram h of `count` bytes, `same` of `pairs`
 * sampled neighbours equal. H = log2 N - (1/N) sum c log2 c, plus the Miller-Madow
 * correction (K - 1) / (2 N ln 2) for K occupied values, which removes most of the
 * downward bias of a few thousand samples over 256 values; c log2 c from a table for the
 * small counts (most of them: about 1000 samples over up to 256 values), so the loop has
 * no branch on them. */
static void est_of(const uint32_t h[256], uint32_t same, size_t count, size_t pairs,
                   double *bits, double *repeats)
{
    uint64_t sumsq = 0;
    double p0 = 0.0, p1 = 0.0, p2 = 0.0, p3 = 0.0; /* four sums: no addition waits in line */
    unsigned occupied = 0;
    for (int v = 0; v < 256; v += 4) {
        const uint32_t c0 = h[v], c1 = h[v + 1], c2 = h[v + 2], c3 = h[v + 3];
        occupied += (c0 != 0) + (c1 != 0) + (c2 != 0) + (c3 != 0);
        sumsq += (uint64_t)c0 * c0 + (uint64_t)c1 * c1 + (uint64_t)c2 * c2 + (uint64_t)c3 * c3;
        p0 += c0 < 64 ? clogc_small[c0] : (double)c0 * lf_log2((double)c0);
        p1 += c1 < 64 ? clogc_small[c1] : (double)c1 * lf_log2((double)c1);
        p2 += c2 < 64 ? clogc_small[c2] : (double)c2 * lf_log2((double)c2);
        p3 += c3 < 64 ? clogc_small[c3] : (double)c3 * lf_log2((double)c3);
    }
    double clogc = (p0 + p1) + (p2 + p3);
    double n = (double)count;
    double b = lf_log2(n) - clogc / n + (double)(occupied - 1) / (2.0 * n * 0.6931471805599453);
    *bits = b < 0.0 ? 0.0 : b > 8.0 ? 8.0 : b;
    *repeats = pairs ? (double)same / (double)pairs - (double)sumsq / (n * n) : 0.0;
}

/* Elements sampled from the first segment: every LF_SAMPLE_STRIDE-th, or about this many
 * evenly spaced when that is fewer. */
#define LF_FIRST_SAMPLES 1024
/* Planes estimated above this many bits per byte go to the backend: Huffman literals lose
 * little there (0.5 % at 6.7 bits on the synthetic gradient's low planes) and decode faster,
 * while below it, on the skewed exponent planes (2.6-3.3 bits), they lose 1-2 % that tANS
 * recovers. */
#define LF_TANS_BITS 6.0
/* Planes shorter than this go to the backend: a tANS table (at least 42 bytes) does not pay
 * there. */
#define LF_TANS_MIN 256

/* One pass over evenly spaced elements of the first segment (m >= 1; stride the larger of
 * LF_SAMPLE_STRIDE and (m div LF_FIRST_SAMPLES) | 1, odd either way): picks the
 * transform whose two most significant planes have the smaller order-0 entropy (the f32
 * low planes are the same under both), and estimates every plane of that transform, as
 * alcm_order0_bits_strided would on the split planes. Deterministic: a function of the
 * input bytes only. */
static unsigned sample_first_segment(const uint8_t *src, const float *addend, size_t m,
                                     unsigned es, plane_est *est)
{
    /* 0, 1: plain top and second byte of the top 16 bits; 2, 3: rotated; 4, 5: f32 bytes
     * 1 and 0 */
    uint32_t h[6][256], same[6] = {0};
    memset(h, 0, (es == 4 ? 6 : 4) * sizeof h[0]);
    size_t stride = (m / LF_FIRST_SAMPLES) | 1;
    if (stride < LF_SAMPLE_STRIDE) stride = LF_SAMPLE_STRIDE;
    size_t count = 0, pairs = 0;
    if (es == 2) { /* the common 16-bit case: one loop over the samples and their pairs */
        /* the two exponent-like bytes repeat often: alternate samples count into two
         * tables each, so a count does not wait on the store of the one before */
        uint32_t g[2][256];
        memset(g, 0, sizeof g);
        /* one sample at element k with its pair (k, k + 1): top and rotated top bytes into
         * H0 and H2 */
#define SAMPLE16(k, H0, H2)                                                                   \
    do {                                                                                      \
        uint32_t top = (uint32_t)src[2 * (k)] | (uint32_t)src[2 * (k) + 1] << 8;              \
        uint32_t rot = rot_fwd16((uint16_t)top);                                              \
        H0[top >> 8]++;                                                                       \
        h[1][top & 0xFF]++;                                                                   \
        H2[rot >> 8]++;                                                                       \
        h[3][rot & 0xFF]++;                                                                   \
        /* the bytes that differ from the next element, plain and rotated (the rotated     \
         * top byte is bits 14..7, the rotated low byte bits 6..0 and 15) */               \
        uint32_t d = top ^ ((uint32_t)src[2 * (k) + 2] | (uint32_t)src[2 * (k) + 3] << 8);    \
        same[0] += (d & 0xFF00u) == 0;                                                        \
        same[1] += (d & 0x00FFu) == 0;                                                        \
        same[2] += (d & 0x7F80u) == 0;                                                        \
        same[3] += (d & 0x807Fu) == 0;                                                        \
    } while (0)
        size_t i = 0;
        for (; i + stride + 1 < m; i += 2 * stride, count += 2, pairs += 2) {
            SAMPLE16(i, h[0], h[2]);
            SAMPLE16(i + stride, g[0], g[1]);
        }
        for (; i + 1 < m; i += stride, count++, pairs++) SAMPLE16(i, h[0], h[2]);
#undef SAMPLE16
        if (i < m) { /* the last element sampled: no next one */
            uint32_t top = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
            uint32_t rot = rot_fwd16((uint16_t)top);
            h[0][top >> 8]++;
            h[1][top & 0xFF]++;
            h[2][rot >> 8]++;
            h[3][rot & 0xFF]++;
            count++;
        }
        for (int v = 0; v < 256; v++) {
            h[0][v] += g[0][v];
            h[2][v] += g[1][v];
        }
    } else {
        for (size_t i = 0; i < m; i += stride, count++) {
            uint32_t w = load32(src, addend, i);
            uint32_t top = w >> 16, rot = rot_fwd16((uint16_t)top);
            h[0][top >> 8]++;
            h[1][top & 0xFF]++;
            h[2][rot >> 8]++;
            h[3][rot & 0xFF]++;
            h[4][(w >> 8) & 0xFF]++;
            h[5][w & 0xFF]++;
        }
        for (size_t i = 0; i + 1 < m; i += stride, pairs++) {
            uint32_t d = load32(src, addend, i) ^ load32(src, addend, i + 1);
            uint32_t dr = rot_fwd16((uint16_t)(d >> 16));
            same[0] += (d >> 24) == 0;
            same[1] += ((d >> 16) & 0xFF) == 0;
            same[2] += (dr >> 8) == 0;
            same[3] += (dr & 0xFF) == 0;
            same[4] += ((d >> 8) & 0xFF) == 0;
            same[5] += (d & 0xFF) == 0;
        }
    }
    double b[6], r[6];
    for (int k = 0; k < (es == 4 ? 6 : 4); k++) est_of(h[k], same[k], count, pairs, &b[k], &r[k]);
    unsigned t = b[2] + b[3] < b[0] + b[1] ? ALCM_LF_TRANSFORM_ROTATE : ALCM_LF_TRANSFORM_PLANES;
    int off = t == ALCM_LF_TRANSFORM_ROTATE ? 2 : 0;
    est->bits[es - 1] = b[off];
    est->repeats[es - 1] = r[off];
    est->bits[es - 2] = b[off + 1];
    est->repeats[es - 2] = r[off + 1];
    if (es == 4) {
        est->bits[1] = b[4];
        est->repeats[1] = r[4];
        est->bits[0] = b[5];
        est->repeats[0] = r[5];
    }
    return t;
}

/* The tANS table log for a plane of m bytes: 2^12 slots from 2^15 bytes up, fewer below
 * (one slot per 16 to 32 bytes, at least 2^LF_TANS_LOG_SMALL): the table's set-up costs
 * about as much as coding its slot count in bytes, and on short planes a smaller table
 * also has shorter frequencies to store. */
#define LF_TANS_LOG_SMALL 10
static unsigned tans_log(size_t m)
{
    unsigned r = LF_TANS_LOG_SMALL;
    while (r < ALCM_TANS_LOG && m > ((size_t)1 << (r + 4))) r++;
    return r;
}

/* Writes plane pl[0..m) as an order-0 tANS stream when that is smaller than the plane
 * (method 2 for a 2^12-slot table, method 3 with its table log for a smaller one), stored
 * otherwise. */
static alcm_status write_tans(const uint8_t *pl, size_t m, uint8_t *dst, size_t cap,
                              size_t *used)
{
    const unsigned r = tans_log(m);
    const size_t lb = r < ALCM_TANS_LOG; /* the method-3 log byte */
    if (cap < ALCM_STREAM_HEADER + lb || m < 2 + lb) return alcm_stream_store(pl, m, dst, cap, used);
    uint32_t hist[256];
    alcm_tans_histogram(pl, m, hist);
    size_t room = cap - ALCM_STREAM_HEADER - lb, made;
    alcm_status st = alcm_tans_encode(pl, m, hist, r, dst + ALCM_STREAM_HEADER + lb,
                                      m - 1 - lb < room ? m - 1 - lb : room, &made);
    if (st == ALCM_OK) {
        if (lb) dst[ALCM_STREAM_HEADER] = (uint8_t)r;
        alcm_stream_header_put(dst, lb ? ALCM_STREAM_TANS_SIZED : ALCM_STREAM_TANS, made + lb);
        *used = ALCM_STREAM_HEADER + lb + made;
        return ALCM_OK;
    }
    if (st != ALCM_E_DST_TOO_SMALL) return st;
    return alcm_stream_store(pl, m, dst, cap, used);
}

/* Reads the next plane stream: methods 2 and 3 here, the others through the backend
 * reader. */
static alcm_status read_plane(alcm_dctx *dx, const alcm_frame *f, const uint8_t *blob,
                              size_t *pos, size_t m, uint8_t *plane)
{
    size_t at = *pos, end = f->payload_end;
    if (at < end && end - at >= ALCM_STREAM_HEADER &&
        (blob[at] == ALCM_STREAM_TANS || blob[at] == ALCM_STREAM_TANS_SIZED)) {
        const int sized = blob[at] == ALCM_STREAM_TANS_SIZED;
        uint64_t size = alcm_get_u64(blob + at + 1);
        at += ALCM_STREAM_HEADER;
        if (size <= (uint64_t)sized || size > end - at) return ALCM_E_CORRUPT;
        unsigned r = ALCM_TANS_LOG;
        if (sized) {
            r = blob[at];
            /* a stated size is a smaller table than method 2's */
            if (r < ALCM_TANS_LOG_MIN || r >= ALCM_TANS_LOG) return ALCM_E_CORRUPT;
        }
        alcm_status st = alcm_tans_decode(blob + at + sized, (size_t)size - (size_t)sized,
                                          plane, m, r);
        if (st != ALCM_OK) return st;
        *pos = at + (size_t)size;
        return ALCM_OK;
    }
    return alcm_stream_read_next(&dx->bdec, f->backend, blob, pos, end, m, plane);
}

alcm_status alcm_lossless_float_encode(alcm_cctx *cx, const alcm_enc_job *job, alcm_dtype dtype,
                                       const void *src, const float *addend, uint8_t *dst,
                                       size_t cap, size_t *len)
{
    const unsigned es = (unsigned)alcm_dtype_size(dtype);
    const uint64_t numel = job->numel;
    size_t prefix = alcm_frame_prefix_size(job->shape->rank, ALCM_CODEC_LOSSLESS_FLOAT);
    if (cap < prefix + ALCM_CRC_SIZE) return ALCM_E_DST_TOO_SMALL;
    size_t seg = numel < LF_SEGMENT ? (size_t)numel : LF_SEGMENT;
    size_t end = cap - ALCM_CRC_SIZE, pos = prefix;
    const uint8_t *s = src;
    plane_est est;
    const unsigned transform = seg ? sample_first_segment(s, addend, seg, es, &est) : 0;
    /* The first segment's planes are estimated before they are split: the ones to store
     * go straight from the source into their stream, the others through a one-plane
     * scratch. Later segments are split whole and estimated from their planes. */
    size_t scratch = numel > LF_SEGMENT ? (size_t)LF_SEGMENT * es : seg;
    if (alcm_buf_reserve(&cx->stage, scratch ? scratch : 1)) return ALCM_E_NOMEM;
    uint8_t *planes = cx->stage.p;
    for (uint64_t i = 0; i < numel; i += LF_SEGMENT) {
        size_t m = (size_t)(numel - i < LF_SEGMENT ? numel - i : LF_SEGMENT);
        const uint8_t *from = s + i * es;
        const float *add = addend ? addend + i : NULL;
        if (i > 0) split_planes(from, add, m, es, transform, planes);
        for (unsigned b = es; b-- > 0;) {
            const uint8_t *pl = planes + (i > 0 ? (size_t)b * m : 0);
            size_t used;
            double repeats;
            double bits = i == 0 ? est.bits[b] : alcm_order0_bits_strided(pl, m, LF_SAMPLE_STRIDE,
                                                                         &repeats);
            if (i == 0) repeats = est.repeats[b];
            alcm_status st;
            if (bits >= LF_STORE_BITS && i == 0) {
                if (end - pos < ALCM_STREAM_HEADER || m > end - pos - ALCM_STREAM_HEADER)
                    return ALCM_E_DST_TOO_SMALL;
                alcm_stream_header_put(dst + pos, ALCM_STREAM_STORED, m);
                gather_plane(from, add, m, es, transform, b, dst + pos + ALCM_STREAM_HEADER);
                used = ALCM_STREAM_HEADER + m;
                st = ALCM_OK;
            } else {
                if (i == 0) gather_plane(from, add, m, es, transform, b, planes);
                if (bits >= LF_STORE_BITS) {
                    st = alcm_stream_store(pl, m, dst + pos, end - pos, &used);
                } else if (repeats > LF_RUNS || m < LF_TANS_MIN || bits > LF_TANS_BITS) {
                    alcm_coder coder = job->coder; /* runs keep zstd's full match search */
                    if (coder.order0 == 2 && repeats > LF_RUNS) coder.order0 = 1;
                    st = alcm_stream_write(&cx->benc, &coder, pl, m, dst + pos, end - pos, &used);
                } else {
                    st = write_tans(pl, m, dst + pos, end - pos, &used);
                }
            }
            if (st != ALCM_OK) return st;
            pos += used;
        }
    }
    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_LOSSLESS_FLOAT;
    f.dtype = (uint8_t)dtype;
    f.backend = (uint8_t)job->coder.backend;
    f.shape = *job->shape;
    f.raw_size = numel * es;
    f.unit = LF_SEGMENT;
    f.transform = (uint8_t)transform;
    alcm_frame_finish(dst, &f, pos, len);
    return ALCM_OK;
}

alcm_status alcm_lossless_float_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                       uint8_t *dst)
{
    const unsigned es = (unsigned)alcm_dtype_size((alcm_dtype)f->dtype);
    const uint64_t numel = f->numel, unit = f->unit;
    size_t seg = numel < unit ? (size_t)numel : (size_t)unit;
    if (alcm_buf_reserve(&dx->planes, (seg ? seg : 1) * es)) return ALCM_E_NOMEM;
    uint8_t *planes = dx->planes.p;
    size_t pos = f->payload_off;
    for (uint64_t i = 0; i < numel; i += unit) {
        size_t m = (size_t)(numel - i < unit ? numel - i : unit);
        for (unsigned b = es; b-- > 0;) {
            alcm_status st = read_plane(dx, f, blob, &pos, m, planes + (size_t)b * m);
            if (st != ALCM_OK) return st;
        }
        join_planes(planes, m, es, f->transform, dst + i * es);
    }
    return pos == f->payload_end ? ALCM_OK : ALCM_E_CORRUPT;
}
