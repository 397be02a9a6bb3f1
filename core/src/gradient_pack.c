/* gradient_pack.c - the gradient encoder's code streams: channels of one width quantised
 * again, zigzag codes packed 4/2/1 per byte or as two planes with u16 escapes, streamed
 * through the backend into the blob (stored when coding does not shrink them). */
#include <string.h>

#include "gradient.h"
#include "gradient_enc.h"
#include "quant.h"

typedef struct {
    int coded;
    alcm_senc senc;
    uint8_t *raw;       /* stored: destination */
    size_t raw_pos;
} sink;

static alcm_status sink_put(sink *k, const uint8_t *p, size_t n)
{
    if (k->coded) return alcm_senc_feed(&k->senc, p, n);
    memcpy(k->raw + k->raw_pos, p, n);
    k->raw_pos += n;
    return ALCM_OK;
}

static alcm_status push_escape(alcm_genc *E, uint32_t z)
{
    size_t need = (size_t)(E->n_esc + 1) * 2;
    if (need > E->cx->esc.cap) {
        if (alcm_buf_grow(&E->cx->esc, need)) return ALCM_E_NOMEM;
    }
    E->esc = E->cx->esc.p;
    E->esc[E->n_esc * 2] = (uint8_t)z;
    E->esc[E->n_esc * 2 + 1] = (uint8_t)(z >> 8);
    E->n_esc++;
    return ALCM_OK;
}

/* Packs every channel of width wc (for W16: byte `plane` of each code) into k. Returns
 * the bytes produced in *made. */
static alcm_status pack_class(alcm_genc *E, unsigned wc, int plane, sink *k, uint64_t *made)
{
    alcm_cctx *cx = E->cx;
    uint8_t *stage = cx->stage.p;
    uint16_t *zz = (uint16_t *)(void *)(stage + ALCM_GENC_STAGE_BYTES);
    const unsigned bits = alcm_width_bits(wc);
    const uint32_t escv = wc == ALCM_W16 ? 0x10000u : alcm_width_escape(wc);
    size_t len = 0;
    uint64_t acc = 0, total = 0;
    unsigned nb = 0;
    alcm_status st;
    for (uint32_t c = 0; c < E->C; c++) {
        const alcm_genc_chan *ch = &E->ch[c];
        if (ch->maxq == 0 || ch->width != wc) continue;
        uint64_t off = (uint64_t)c * E->len;
        uint64_t n = alcm_chan_len(E->numel, E->len, c, E->C);
        float inv = 1.0f / alcm_step((uint32_t)ch->s);
        for (uint64_t i = 0; i < n; i += ALCM_GENC_BLOCK) {
            size_t m = (size_t)(n - i < ALCM_GENC_BLOCK ? n - i : ALCM_GENC_BLOCK);
            uint32_t maxz = alcm_q_codes(E->x + off + i, E->r ? E->r + off + i : NULL, m, inv,
                                         E->thr, zz);
            /* The level count was measured in an earlier pass over the same input: a code
             * beyond it means the input changed since (a blob written now would not
             * decode). */
            if (maxz > 2 * ch->maxq) return ALCM_E_INPUT_CHANGED;
            if (wc == ALCM_W16) {
                const int sh = plane ? 8 : 0;
                for (size_t j = 0; j < m; j++) stage[len + j] = (uint8_t)(zz[j] >> sh);
                len += m;
            } else if (wc == ALCM_W8) {
                if (maxz < escv) {
                    for (size_t j = 0; j < m; j++) stage[len + j] = (uint8_t)zz[j];
                } else {
                    for (size_t j = 0; j < m; j++) {
                        uint32_t z = zz[j];
                        if (z >= escv) {
                            if ((st = push_escape(E, z)) != ALCM_OK) return st;
                            z = escv;
                        }
                        stage[len + j] = (uint8_t)z;
                    }
                }
                len += m;
            } else {
                size_t j = 0;
                if (nb == 0 && maxz < escv) { /* byte-aligned, no escapes: whole bytes */
                    const size_t per = 8 / bits;
                    for (; j + per <= m; j += per) {
                        uint32_t v = 0;
                        for (size_t t = 0; t < per; t++) v |= (uint32_t)zz[j + t] << (bits * t);
                        stage[len++] = (uint8_t)v;
                    }
                }
                for (; j < m; j++) {
                    uint32_t z = zz[j];
                    if (z >= escv) {
                        if ((st = push_escape(E, z)) != ALCM_OK) return st;
                        z = escv;
                    }
                    acc |= (uint64_t)z << nb;
                    nb += bits;
                    if (nb >= 32) {
                        for (int b = 0; b < 4; b++) stage[len++] = (uint8_t)(acc >> (8 * b));
                        acc >>= 32;
                        nb -= 32;
                    }
                }
            }
            if (len >= ALCM_GENC_STAGE_BYTES - ALCM_GENC_BLOCK) {
                if ((st = sink_put(k, stage, len)) != ALCM_OK) return st;
                total += len;
                len = 0;
            }
        }
    }
    while (nb > 0) {
        stage[len++] = (uint8_t)acc;
        acc >>= 8;
        nb = nb > 8 ? nb - 8 : 0;
    }
    if ((st = sink_put(k, stage, len)) != ALCM_OK) return st;
    *made = total + len;
    return ALCM_OK;
}

alcm_status alcm_genc_write_stream(alcm_genc *E, const alcm_coder *coder, int which, uint64_t raw,
                                     uint8_t *dst, size_t cap, size_t *used)
{
    *used = 0;
    if (raw == 0) return ALCM_OK;
    if (cap < ALCM_STREAM_HEADER) return ALCM_E_DST_TOO_SMALL;
    unsigned wc = which < 3 ? (unsigned)which : ALCM_W16;
    int plane = which == 4;
    uint64_t esc_mark = E->n_esc;
    size_t room = cap - ALCM_STREAM_HEADER;
    uint64_t made = 0;
    alcm_status st = ALCM_E_DST_TOO_SMALL;
    if (raw > 1) {
        sink k = {.coded = 1};
        size_t limit = raw - 1 < room ? (size_t)(raw - 1) : room;
        st = alcm_senc_begin(&k.senc, &E->cx->benc, coder, raw, dst + ALCM_STREAM_HEADER, limit);
        if (st == ALCM_OK) st = pack_class(E, wc, plane, &k, &made);
        size_t out = 0;
        if (st == ALCM_OK) st = alcm_senc_end(&k.senc, &out);
        if (st == ALCM_OK) {
            if (made != raw) return ALCM_E_INTERNAL;
            alcm_stream_header_put(dst, ALCM_STREAM_CODED, out);
            *used = ALCM_STREAM_HEADER + out;
            return ALCM_OK;
        }
    }
    if (st != ALCM_E_DST_TOO_SMALL) return st;
    if (raw > room) return ALCM_E_DST_TOO_SMALL;
    E->n_esc = esc_mark;
    sink k = {.coded = 0, .raw = dst + ALCM_STREAM_HEADER};
    if ((st = pack_class(E, wc, plane, &k, &made)) != ALCM_OK) return st;
    if (made != raw) return ALCM_E_INTERNAL;
    alcm_stream_header_put(dst, ALCM_STREAM_STORED, raw);
    *used = ALCM_STREAM_HEADER + (size_t)raw;
    return ALCM_OK;
}

