/* gradient_dec.c - the gradient decoder: parameter stream, code streams by width with
 * escapes, every code checked against its channel's levels, dequantisation q·Δ in binary32. */
#include <stdlib.h>
#include <string.h>

#include "detmath.h"

#include "ctx.h"
#include "gradient.h"
#include "runs.h"
#include "simd.h"

#define BLOCK 4096
#define ESC_BUF 4096

/* Buffered u16 reader over the escape stream. */
typedef struct {
    alcm_reader rd;
    uint8_t buf[ESC_BUF];
    size_t pos, len;
    uint64_t left;      /* escapes not yet consumed */
} esc_reader;

static alcm_status next_escape(esc_reader *e, uint32_t *z)
{
    if (e->left == 0) return ALCM_E_CORRUPT;
    if (e->pos == e->len) {
        uint64_t want = e->left * 2 < ESC_BUF ? e->left * 2 : ESC_BUF;
        alcm_status st = alcm_reader_read(&e->rd, e->buf, (size_t)want);
        if (st != ALCM_OK) return st;
        e->pos = 0;
        e->len = (size_t)want;
    }
    *z = (uint32_t)e->buf[e->pos] | (uint32_t)e->buf[e->pos + 1] << 8;
    e->pos += 2;
    e->left--;
    return ALCM_OK;
}

/* A class stream read as a bit stream (W2, W4), byte stream (W8) or two planes (W16). */
typedef struct {
    alcm_reader rd[2];
    unsigned wc, bits;
    uint32_t escv;
    uint64_t acc;
    unsigned nb;
} class_reader;

/* W8 in one pass: out[j] = unzigzag(p[j]) · step. 1 if an escape code occurs (the caller
 * then takes the general path, which rewrites out), -1 if a code exceeds limit, else 0. */
ALCM_KERNEL static int dequantise_u8(const uint8_t *p, size_t n, uint32_t limit, float step,
                                     float *out)
{
    int32_t esc = 0, over = 0;
    const int32_t lim = (int32_t)limit;
    for (size_t j = 0; j < n; j++) {
        int32_t z = p[j];
        esc |= z == 255;
        over |= z > lim;
        out[j] = (float)(int32_t)((uint32_t)(z >> 1) ^ (uint32_t)-(z & 1)) * step;
    }
    return esc ? 1 : over ? -1 : 0;
}

/* Decodes n codes of one channel into zz, resolving escapes, and checks them against
 * limit = 2L. For W8 with out non-NULL, a block without escapes is dequantised straight
 * into out and *done set. */
ALCM_KERNEL static alcm_status read_codes(class_reader *k, esc_reader *e, uint8_t *tmp, size_t n,
                                          uint32_t limit, uint32_t *zz, float step, float *out,
                                          int *done)
{
    *done = 0;
    alcm_status st;
    uint32_t bad = 0;
    if (k->wc == ALCM_W16) {
        const uint8_t *lo = alcm_reader_view(&k->rd[0], n), *hi;
        if (!lo) {
            if ((st = alcm_reader_read(&k->rd[0], tmp, n)) != ALCM_OK) return st;
            lo = tmp;
        }
        hi = alcm_reader_view(&k->rd[1], n);
        if (!hi) {
            if ((st = alcm_reader_read(&k->rd[1], tmp + BLOCK, n)) != ALCM_OK) return st;
            hi = tmp + BLOCK;
        }
        for (size_t i = 0; i < n; i++) {
            zz[i] = (uint32_t)lo[i] | (uint32_t)hi[i] << 8;
            bad |= zz[i] > limit;
        }
        return bad ? ALCM_E_CORRUPT : ALCM_OK;
    }
    if (k->wc == ALCM_W8) {
        const uint8_t *p = alcm_reader_view(&k->rd[0], n);
        if (!p) {
            if ((st = alcm_reader_read(&k->rd[0], tmp, n)) != ALCM_OK) return st;
            p = tmp;
        }
        if (out) {
            int r = dequantise_u8(p, n, limit, step, out);
            if (r < 0) return ALCM_E_CORRUPT;
            if (r == 0) {
                *done = 1;
                return ALCM_OK;
            }
        }
        for (size_t i = 0; i < n; i++) zz[i] = p[i];
    } else {
        size_t need_bits = n * k->bits;
        size_t bytes = need_bits > k->nb ? (need_bits - k->nb + 7) / 8 : 0;
        const uint8_t *p = alcm_reader_view(&k->rd[0], bytes);
        if (!p) {
            if ((st = alcm_reader_read(&k->rd[0], tmp, bytes)) != ALCM_OK) return st;
            p = tmp;
        }
        const uint32_t mask = (1u << k->bits) - 1u;
        size_t b = 0, i = 0;
        if (k->nb == 0) { /* byte-aligned: whole bytes of 4 or 2 codes */
            if (k->bits == 2) {
                size_t whole = n / 4;
                for (size_t t = 0; t < whole; t++) {
                    uint32_t v = p[t];
                    zz[4 * t] = v & 3u;
                    zz[4 * t + 1] = (v >> 2) & 3u;
                    zz[4 * t + 2] = (v >> 4) & 3u;
                    zz[4 * t + 3] = v >> 6;
                }
                b = whole;
                i = 4 * whole;
            } else {
                size_t whole = n / 2;
                for (size_t t = 0; t < whole; t++) {
                    uint32_t v = p[t];
                    zz[2 * t] = v & 15u;
                    zz[2 * t + 1] = v >> 4;
                }
                b = whole;
                i = 2 * whole;
            }
        }
        for (; i < n; i++) {
            if (k->nb < k->bits) {
                k->acc |= (uint64_t)p[b++] << k->nb;
                k->nb += 8;
            }
            zz[i] = (uint32_t)k->acc & mask;
            k->acc >>= k->bits;
            k->nb -= k->bits;
        }
    }
    /* Branch-free scan first (vectorised); escapes are rare. */
    /* Codes are below 2^16, so signed compares (vectorised without SSE4) are exact. */
    const int32_t escv = (int32_t)k->escv, lim = (int32_t)limit;
    const int32_t *sz = (const int32_t *)(const void *)zz;
    int32_t any = 0;
    for (size_t i = 0; i < n; i++) any |= sz[i] == escv;
    if (any) {
        for (size_t i = 0; i < n; i++) {
            if (zz[i] == (uint32_t)escv) {
                uint32_t z;
                if ((st = next_escape(e, &z)) != ALCM_OK) return st;
                bad |= z < (uint32_t)escv;
                zz[i] = z;
            }
        }
    }
    int32_t over = 0;
    for (size_t i = 0; i < n; i++) over |= sz[i] > lim;
    return bad || over ? ALCM_E_CORRUPT : ALCM_OK;
}

/* out[j] = q_j · Δ in binary32, q_j the unzigzag of zz[j]. */
ALCM_KERNEL static void dequantise(const uint32_t *zz, size_t m, float step, float *out)
{
    for (size_t j = 0; j < m; j++) out[j] = (float)alcm_unzigzag(zz[j]) * step;
}

/* The parameter stream, read piecewise so that inspecting a blob never holds it whole. */
typedef struct {
    alcm_reader rd;
    uint8_t buf[1024];
    size_t pos, len;
    uint64_t left;      /* decoded bytes not yet read into buf */
    int32_t prev;
} param_src;

static alcm_status param_next(param_src *s, alcm_chan_param *out)
{
    if (s->len - s->pos < ALCM_PARAM_MAX_BYTES && s->left > 0) {
        size_t keep = s->len - s->pos;
        memmove(s->buf, s->buf + s->pos, keep);
        size_t want = sizeof s->buf - keep;
        if (want > s->left) want = (size_t)s->left;
        alcm_status st = alcm_reader_read(&s->rd, s->buf + keep, want);
        if (st != ALCM_OK) return st;
        s->left -= want;
        s->pos = 0;
        s->len = keep + want;
    }
    size_t k = alcm_param_parse_one(s->buf + s->pos, s->len - s->pos, &s->prev, out);
    if (!k) return ALCM_E_CORRUPT;
    s->pos += k;
    return ALCM_OK;
}

alcm_status alcm_gradient_read_params(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                      size_t *pos, alcm_chan_param *ch, float *bits, size_t cap)
{
    uint32_t C = f->grad.n_channels;
    uint64_t P = f->grad.param_bytes; /* C .. 6 C, checked by the frame parser */
    if (P == 0) return ALCM_OK;
    alcm_stream_ref ref;
    alcm_status st = alcm_stream_take(blob, pos, f->payload_end, P, &ref);
    if (st != ALCM_OK) return st;
    param_src *s = malloc(sizeof *s);
    if (!s) return ALCM_E_NOMEM;
    s->pos = s->len = 0;
    s->left = P;
    s->prev = ALCM_STEP_ONE;
    /* Decoding needs every channel; inspection stops after the channels asked for. */
    uint32_t stop = ch || cap >= C ? C : (uint32_t)cap;
    st = alcm_reader_open(&s->rd, &dx->bdec, 0, f->backend, &ref);
    for (uint32_t c = 0; c < stop && st == ALCM_OK; c++) {
        alcm_chan_param cp;
        if ((st = param_next(s, &cp)) != ALCM_OK) break;
        if (ch) ch[c] = cp;
        if (c < cap) bits[c] = cp.levels ? (float)alcm_det_log2(2.0 * cp.levels + 1.0) : 0.0f;
    }
    if (st == ALCM_OK && stop == C) {
        if (s->left != 0 || s->pos != s->len) st = ALCM_E_CORRUPT;
        else st = alcm_reader_close(&s->rd);
    }
    free(s);
    return st;
}

/* Takes the next code stream: method 4 here (code streams only), the others as any
 * stream. */
static alcm_status take_code_stream(const uint8_t *blob, size_t *pos, size_t end,
                                    uint64_t decoded, alcm_stream_ref *out)
{
    size_t at = *pos;
    if (at < end && end - at >= ALCM_STREAM_HEADER && blob[at] == ALCM_STREAM_RUNS) {
        uint64_t size = alcm_get_u64(blob + at + 1);
        at += ALCM_STREAM_HEADER;
        if (size == 0 || size > end - at) return ALCM_E_CORRUPT;
        out->method = ALCM_STREAM_RUNS;
        out->data = blob + at;
        out->size = (size_t)size;
        out->decoded = decoded;
        *pos = at + (size_t)size;
        return ALCM_OK;
    }
    return alcm_stream_take(blob, pos, end, decoded, out);
}

alcm_status alcm_gradient_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                 float *dst)
{
    const alcm_grad_section *g = &f->grad;
    size_t pos = f->payload_off;
    if (alcm_buf_reserve(&dx->chan, (g->n_channels ? g->n_channels : 1) * sizeof(alcm_chan_param)))
        return ALCM_E_NOMEM;
    const alcm_chan_param *cp = dx->chan.p;
    alcm_status st = alcm_gradient_read_params(dx, blob, f, &pos, dx->chan.p, NULL, 0);
    if (st != ALCM_OK) return st;
    uint64_t elems[ALCM_NWIDTH], bytes[5];
    alcm_class_sizes(cp, g->n_channels, f->numel, g->channel_len, elems, bytes);
    if (g->escapes > elems[ALCM_W2] + elems[ALCM_W4] + elems[ALCM_W8]) return ALCM_E_CORRUPT;

    alcm_stream_ref refs[6];
    for (int k = 0; k < 5; k++)
        if (bytes[k] && (st = take_code_stream(blob, &pos, f->payload_end, bytes[k], &refs[k])))
            return st;
    if (g->escapes &&
        (st = alcm_stream_take(blob, &pos, f->payload_end, g->escapes * 2, &refs[5])))
        return st;
    if (pos != f->payload_end) return ALCM_E_CORRUPT;

    if (alcm_buf_reserve(&dx->codes, 2 * BLOCK + BLOCK * sizeof(uint32_t))) return ALCM_E_NOMEM;
    uint8_t *tmp = dx->codes.p;
    uint32_t *zz = (uint32_t *)(void *)(tmp + 2 * BLOCK);

    esc_reader *e = malloc(sizeof *e);
    if (!e) return ALCM_E_NOMEM;
    memset(e, 0, sizeof *e);
    e->left = g->escapes;
    if (g->escapes && (st = alcm_reader_open(&e->rd, &dx->bdec, 2, f->backend, &refs[5]))) {
        free(e);
        return st;
    }

    for (uint32_t c = 0; c < g->n_channels; c++)
        if (cp[c].levels == 0) {
            uint64_t off = (uint64_t)c * g->channel_len;
            memset(dst + off, 0, (size_t)alcm_chan_len(f->numel, g->channel_len, c,
                                                       g->n_channels) * sizeof(float));
        }

    for (unsigned wc = 0; wc < ALCM_NWIDTH && st == ALCM_OK; wc++) {
        if (elems[wc] == 0) continue;
        class_reader k;
        memset(&k, 0, sizeof k);
        k.wc = wc;
        k.bits = alcm_width_bits(wc);
        k.escv = wc == ALCM_W16 ? 0x10000u : alcm_width_escape(wc);
        int planes = wc == ALCM_W16 ? 2 : 1;
        int first = wc == ALCM_W16 ? 3 : (int)wc;
        /* zstd streams of the class are decoded whole, in one call each, and then read in
         * place like stored ones. */
        size_t coded_bytes = 0;
        int whole = 0; /* some stream of the class is decoded whole */
        for (int pl = 0; pl < planes; pl++) {
            const alcm_stream_ref *ref = &refs[first + pl];
            if (ref->method == ALCM_STREAM_RUNS ||
                (ref->method == ALCM_STREAM_CODED && f->backend == ALCM_BACKEND_ZSTD)) {
                coded_bytes += (size_t)bytes[first + pl];
                whole = 1;
            }
        }
        if (whole) {
            if (alcm_buf_reserve(&dx->classes, coded_bytes)) {
                st = ALCM_E_NOMEM;
                break;
            }
            uint8_t *buf = dx->classes.p;
            for (int pl = 0; pl < planes && st == ALCM_OK; pl++) {
                alcm_stream_ref *ref = &refs[first + pl];
                if (ref->method == ALCM_STREAM_RUNS)
                    st = alcm_runs_decode(&dx->bdec, ref->data, ref->size, buf,
                                          (size_t)ref->decoded, &dx->runs);
                else if (ref->method == ALCM_STREAM_CODED &&
                         f->backend == ALCM_BACKEND_ZSTD)
                    st = alcm_stream_decode(&dx->bdec, f->backend, ref, buf);
                else
                    continue;
                ref->method = ALCM_STREAM_STORED;
                ref->data = buf;
                ref->size = (size_t)ref->decoded;
                buf += ref->size;
            }
            if (st != ALCM_OK) break;
        }
        for (int pl = 0; pl < planes && st == ALCM_OK; pl++)
            st = alcm_reader_open(&k.rd[pl], &dx->bdec, pl, f->backend, &refs[first + pl]);
        for (uint32_t c = 0; c < g->n_channels && st == ALCM_OK; c++) {
            if (cp[c].levels == 0 || cp[c].width != wc) continue;
            uint64_t off = (uint64_t)c * g->channel_len;
            uint64_t n = alcm_chan_len(f->numel, g->channel_len, c, g->n_channels);
            const float step = alcm_step(cp[c].step);
            const uint32_t limit = 2u * cp[c].levels;
            for (uint64_t i = 0; i < n; i += BLOCK) {
                size_t m = (size_t)(n - i < BLOCK ? n - i : BLOCK);
                int done = 0;
                if ((st = read_codes(&k, e, tmp, m, limit, zz, step, dst + off + i, &done)) !=
                    ALCM_OK)
                    break;
                if (!done) dequantise(zz, m, step, dst + off + i);
            }
        }
        if (st == ALCM_OK && k.acc != 0) st = ALCM_E_CORRUPT; /* padding bits must be zero */
        for (int pl = 0; pl < planes && st == ALCM_OK; pl++) st = alcm_reader_close(&k.rd[pl]);
    }
    if (st == ALCM_OK && g->escapes) {
        if (e->left != 0 || e->pos != e->len) st = ALCM_E_CORRUPT;
        else st = alcm_reader_close(&e->rd);
    }
    free(e);
    return st;
}
