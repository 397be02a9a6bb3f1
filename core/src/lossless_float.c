/* lossless_float.c - exact coding of f32/f16/bf16 tensors as byte planes per segment, each
 * plane its own backend stream, stored when coding would not shrink it. */
#include <string.h>

#include "ctx.h"
#include "order0.h"

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

/* Picks the transform whose two most significant planes have the smaller order-0 entropy,
 * estimated from every LF_SAMPLE_STRIDE-th element of the first segment (the other planes
 * are the same under both). Deterministic: a function of the input bytes only. */
static unsigned choose_transform(const uint8_t *src, const float *addend, size_t m, unsigned es)
{
    uint64_t h[4][256];
    memset(h, 0, sizeof h);
    size_t count = 0;
    for (size_t i = 0; i < m; i += LF_SAMPLE_STRIDE, count++) {
        uint32_t top; /* the element's most significant 16 bits */
        if (es == 4)
            top = load32(src, addend, i) >> 16;
        else
            top = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
        uint32_t rot = rot_fwd16((uint16_t)top);
        h[0][top >> 8]++;
        h[1][top & 0xFF]++;
        h[2][rot >> 8]++;
        h[3][rot & 0xFF]++;
    }
    double plain = alcm_order0_bits_hist(h[0], count) + alcm_order0_bits_hist(h[1], count);
    double rot = alcm_order0_bits_hist(h[2], count) + alcm_order0_bits_hist(h[3], count);
    return rot < plain ? ALCM_LF_TRANSFORM_ROTATE : ALCM_LF_TRANSFORM_PLANES;
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
    if (alcm_buf_reserve(&cx->stage, (seg ? seg : 1) * es)) return ALCM_E_NOMEM;
    uint8_t *planes = cx->stage.p;
    size_t end = cap - ALCM_CRC_SIZE, pos = prefix;
    const uint8_t *s = src;
    const unsigned transform = choose_transform(s, addend, seg, es);
    for (uint64_t i = 0; i < numel; i += LF_SEGMENT) {
        size_t m = (size_t)(numel - i < LF_SEGMENT ? numel - i : LF_SEGMENT);
        split_planes(s + i * es, addend ? addend + i : NULL, m, es, transform, planes);
        for (unsigned b = es; b-- > 0;) {
            const uint8_t *pl = planes + (size_t)b * m;
            size_t used;
            double repeats;
            double bits = alcm_order0_bits_strided(pl, m, LF_SAMPLE_STRIDE, &repeats);
            alcm_coder coder = job->coder;
            if (coder.order0 == 2 && repeats > LF_RUNS) coder.order0 = 1;
            alcm_status st = bits >= LF_STORE_BITS
                                 ? alcm_stream_store(pl, m, dst + pos, end - pos, &used)
                                 : alcm_stream_write(&cx->benc, &coder, pl, m, dst + pos,
                                                     end - pos, &used);
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
            alcm_status st = alcm_stream_read_next(&dx->bdec, f->backend, blob, &pos,
                                                   f->payload_end, m, planes + (size_t)b * m);
            if (st != ALCM_OK) return st;
        }
        join_planes(planes, m, es, f->transform, dst + i * es);
    }
    return pos == f->payload_end ? ALCM_OK : ALCM_E_CORRUPT;
}
