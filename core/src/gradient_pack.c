/* gradient_pack.c - the gradient encoder's code streams: the zigzag codes of the channels
 * of one width (kept from their measurement, or quantised once more for large tensors)
 * packed 4/2/1 per byte or as two planes with u16 escapes into scratch memory, then written
 * through the backend into the blob (stored when coding does not shrink them). With a
 * residual, the error-feedback update happens in the same pass. */
#include <string.h>

#include "gradient.h"
#include "gradient_enc.h"
#include "backend.h"
#include "bytes.h"
#include "format.h"
#include "quant.h"
#include "runs.h"
#include "simd.h"

/* Code streams of at least ALCM_RUNS_MIN bytes in zstd blobs are written as method 4 where
 * most of their bytes are the zero code (runs.c says when), the others through the backend
 * as before; method 4 below 4096 bytes loses ratio to its two tables. Streams under
 * ALCM_CODE_STORE_MAX bytes are stored: a frame of so few codes saves nothing. */
#define ALCM_RUNS_MIN 4096
#define ALCM_CODE_STORE_MAX 128

#if defined(__x86_64__)
#include <emmintrin.h>
/* 1 when one of the 16 codes at z is at or above lim + 1: SSE2, a saturating subtraction
 * that leaves zero below, then one mask of the 16 lanes. */
static inline int any_escape16(const uint16_t *z, __m128i lim)
{
    const __m128i zero = _mm_setzero_si128();
    __m128i a = _mm_subs_epu16(_mm_loadu_si128((const __m128i *)z), lim);
    __m128i b = _mm_subs_epu16(_mm_loadu_si128((const __m128i *)(z + 8)), lim);
    return _mm_movemask_epi8(_mm_packs_epi16(_mm_cmpeq_epi16(a, zero),
                                             _mm_cmpeq_epi16(b, zero))) != 0xffff;
}
#define ESCAPE_LIMIT(escv) _mm_set1_epi16((short)((escv) - 1))
#else
typedef uint16_t vh16 __attribute__((vector_size(32)));
typedef uint64_t vq4 __attribute__((vector_size(32)));
static inline int any_escape16(const uint16_t *z, uint16_t lim)
{
    vh16 v;
    memcpy(&v, z, sizeof v);
    vq4 any = (vq4)(v > (vh16){0} + lim);
    return (any[0] | any[1] | any[2] | any[3]) != 0;
}
#define ESCAPE_LIMIT(escv) ((uint16_t)((escv) - 1))
#endif

/* Moves the codes of zz[0..m) at or above escv to the escape buffer (u16 LE) and puts escv
 * in their place. A group of 16 codes without an escape costs one compare; in the others
 * every code is written to the buffer and the position advances past escapes only, with no
 * branch per code: escapes are up to one code in 16, and a branch on each mispredicted
 * often enough to take a tenth of a 64 MiB encode. Not inlined: the packing loops' speed
 * then depends on nothing around them. */
ALCM_KERNEL __attribute__((noinline)) static alcm_status take_escapes(alcm_genc *E,
                                                                     uint16_t *zz, size_t m,
                                                                     uint16_t escv)
{
    size_t need = (size_t)(E->n_esc + m) * 2; /* room for every code: no check per escape */
    if (need > E->cx->esc.cap && alcm_buf_grow(&E->cx->esc, need)) return ALCM_E_NOMEM;
    E->esc = E->cx->esc.p;
    uint8_t *out = E->esc + E->n_esc * 2;
    size_t k = 0, j = 0;
    for (; j < m; j += 16) {
        size_t end = m - j < 16 ? m : j + 16;
        if (end == j + 16 && !any_escape16(zz + j, ESCAPE_LIMIT(escv))) continue;
        for (size_t t = j; t < end; t++) {
            uint16_t z = zz[t];
            alcm_put_u16(out + 2 * k, z);
            k += z >= escv;
            zz[t] = z >= escv ? escv : z;
        }
    }
    E->n_esc += k;
    return ALCM_OK;
}

/* Packs every channel of width wc into out (W16: low plane at out, high plane at
 * out + n16). Returns the bytes of the (first) plane in *made. */
ALCM_KERNEL static alcm_status pack_class(alcm_genc *E, unsigned wc, uint8_t *out, uint64_t n16,
                              uint64_t *made)
{
    uint16_t *zz;
    const unsigned bits = alcm_width_bits(wc);
    const uint32_t escv = wc == ALCM_W16 ? 0x10000u : alcm_width_escape(wc);
    size_t len = 0;
    uint64_t acc = 0;
    unsigned nb = 0;
    alcm_status st;
    for (uint32_t c = 0; c < E->C; c++) {
        const alcm_genc_chan *ch = &E->ch[c];
        if (ch->maxq == 0 || ch->width != wc) continue;
        uint64_t off = (uint64_t)c * E->len;
        uint64_t n = alcm_chan_len(E->numel, E->len, c, E->C);
        float step = alcm_step((uint32_t)ch->s), inv = 1.0f / step;
        for (uint64_t i = 0; i < n; i += ALCM_GENC_BLOCK) {
            size_t m = (size_t)(n - i < ALCM_GENC_BLOCK ? n - i : ALCM_GENC_BLOCK);
            const float *xb = E->x + off + i;
            const float *xu = E->y_given ? NULL : xb; /* given, y is in update_r */
            uint32_t maxz;
            if (E->kept) { /* the codes of the measurement that counted the levels */
                zz = E->kept + off + i;
                maxz = 2 * ch->maxq;
                /* The residual from them, before escapes overwrite any. A value that is not
                 * finite means the input changed since it was checked. */
                if (E->update_r &&
                    alcm_q_update_kept(xu, E->update_r + off + i, zz, m, step) != 0)
                    return ALCM_E_INPUT_CHANGED;
            } else {
                zz = E->zz;
                maxz = E->update_r ? alcm_q_codes_update(xu, E->update_r + off + i, m, step,
                                                         inv, E->thr, zz)
                                   : alcm_q_codes(xb, E->r ? E->r + off + i : NULL, m, inv,
                                                  E->thr, zz);
                /* The level count was measured in an earlier pass over the same input: a
                 * code beyond it means the input changed since (a blob written now would
                 * not decode). */
                if (maxz > 2 * ch->maxq) return ALCM_E_INPUT_CHANGED;
            }
            if (wc == ALCM_W16) {
                uint8_t *lo = out + len, *hi = out + n16 + len;
                for (size_t j = 0; j < m; j++) {
                    lo[j] = (uint8_t)zz[j];
                    hi[j] = (uint8_t)(zz[j] >> 8);
                }
                len += m;
                continue;
            }
            if (maxz >= escv && /* escapes to the u16 stream, the escape code in their place */
                (st = take_escapes(E, zz, m, (uint16_t)escv)) != ALCM_OK)
                return st;
            size_t j = 0;
            uint8_t *o = out + len;
            if (wc == ALCM_W8) {
                for (; j < m; j++) o[j] = (uint8_t)zz[j];
                len += m;
            } else if (nb == 0) { /* byte-aligned: whole bytes */
                size_t k;
                if (bits == 2) {
                    k = m / 4;
                    for (size_t t = 0; t < k; t++)
                        o[t] = (uint8_t)(zz[4 * t] | zz[4 * t + 1] << 2 | zz[4 * t + 2] << 4 |
                                         zz[4 * t + 3] << 6);
                } else {
                    k = m / 2;
                    for (size_t t = 0; t < k; t++) o[t] = (uint8_t)(zz[2 * t] | zz[2 * t + 1] << 4);
                }
                j = k * (8 / bits);
                len += k;
            }
            if (wc != ALCM_W8) {
                for (; j < m; j++) {
                    acc |= (uint64_t)zz[j] << nb;
                    nb += bits;
                    if (nb >= 32) {
                        for (int b = 0; b < 4; b++) out[len++] = (uint8_t)(acc >> (8 * b));
                        acc >>= 32;
                        nb -= 32;
                    }
                }
            }
        }
    }
    while (nb > 0) {
        out[len++] = (uint8_t)acc;
        acc >>= 8;
        nb = nb > 8 ? nb - 8 : 0;
    }
    *made = len;
    return ALCM_OK;
}

/* Writes src[0..n) as a method-4 stream (runs of the zero code as tokens), stored when that
 * does not shrink it; through the backend with coder c when cutting the runs does not pay
 * (dense codes). */
static alcm_status write_runs(alcm_backend_enc *e, const alcm_coder *c, const uint8_t *src,
                              size_t n, uint8_t *scratch, uint8_t *dst, size_t cap,
                              size_t *used)
{
    *used = 0;
    if (cap < ALCM_STREAM_HEADER) return ALCM_E_DST_TOO_SMALL;
    size_t room = cap - ALCM_STREAM_HEADER, limit = n - 1 < room ? n - 1 : room, made = 0;
    alcm_status st = alcm_runs_encode(e, src, n, 0, 1, scratch, dst + ALCM_STREAM_HEADER,
                                      limit, &made);
    if (st == ALCM_OK && made == 0) return alcm_stream_write(e, c, src, n, dst, cap, used);
    if (st == ALCM_OK) {
        alcm_stream_header_put(dst, ALCM_STREAM_RUNS, made);
        *used = ALCM_STREAM_HEADER + made;
        return ALCM_OK;
    }
    if (st != ALCM_E_DST_TOO_SMALL) return st;
    return alcm_stream_store(src, n, dst, cap, used);
}

alcm_status alcm_genc_write_class(alcm_genc *E, const alcm_coder *coder, unsigned wc,
                                  const uint64_t bytes[5], uint8_t *dst, size_t cap,
                                  size_t *used)
{
    *used = 0;
    uint64_t raw = bytes[wc];
    if (raw == 0) return ALCM_OK;
    const int planes = wc == ALCM_W16 ? 2 : 1;
    if (raw > SIZE_MAX / 4) return ALCM_E_NOMEM;
    /* zstd-backend streams of ALCM_RUNS_MIN bytes or more are written as method 4, whose
     * scratch follows the packed codes */
    const int runs = coder->backend == ALCM_BACKEND_ZSTD && raw >= ALCM_RUNS_MIN;
    size_t scratch = runs ? alcm_runs_scratch((size_t)raw) : 0;
    if (runs && !scratch) return ALCM_E_NOMEM;
    if (alcm_buf_reserve(&E->cx->stage, (size_t)raw * (size_t)planes + scratch))
        return ALCM_E_NOMEM;
    uint8_t *out = E->cx->stage.p;
    uint64_t made = 0;
    alcm_status st = pack_class(E, wc, out, raw, &made);
    if (st != ALCM_OK) return st;
    if (made != raw) return ALCM_E_INTERNAL;
    size_t pos = 0;
    for (int k = 0; k < planes; k++) {
        size_t u = 0;
        const uint8_t *plane = out + (size_t)raw * (size_t)k;
        if (runs)
            st = write_runs(&E->cx->benc, coder, plane, (size_t)raw,
                            out + (size_t)raw * (size_t)planes, dst + pos, cap - pos, &u);
        else if (raw < ALCM_CODE_STORE_MAX)
            st = alcm_stream_store(plane, (size_t)raw, dst + pos, cap - pos, &u);
        else
            st = alcm_stream_write(&E->cx->benc, coder, plane, (size_t)raw, dst + pos, cap - pos,
                                   &u);
        if (st != ALCM_OK) return st;
        pos += u;
    }
    *used = pos;
    return ALCM_OK;
}
