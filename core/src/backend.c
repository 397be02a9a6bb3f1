/* backend.c - zlib (raw DEFLATE) and zstd (one frame) compression and exact-length
 * decompression of blob streams. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader */
#include "backend.h"

#include <limits.h>
#include <string.h>

/* zlib counts in uInt: feed at most this much per call. */
#define ZCHUNK ((size_t)1 << 30)

void alcm_backend_enc_free(alcm_backend_enc *e)
{
    ZSTD_freeCCtx(e->zc);
    e->zc = NULL;
    if (e->zs_ready) deflateEnd(&e->zs);
    e->zs_ready = 0;
}

static alcm_status zstd_prepare(alcm_backend_enc *e, const alcm_coder *c, uint64_t total)
{
    if (!e->zc) {
        e->zc = ZSTD_createCCtx();
        if (!e->zc) return ALCM_E_NOMEM;
    }
    ZSTD_CCtx_reset(e->zc, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel, c->level)))
        return ALCM_E_BACKEND;
    if (c->level >= 20 &&
        ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_windowLog, ALCM_ZSTD_WINDOW_LOG_MAX)))
        return ALCM_E_BACKEND;
    /* On order-0 data the literals carry the ratio; short matches are rare and barely pay,
     * so the match finder looks for long ones in a small table (gradient codes: 12 % fewer
     * encoder instructions, +0.35 % ratio). Gradient codes take zstd's smallest table, 2^6
     * entries: it remembers the nearest earlier position of each hash, whose offsets code
     * shorter, and costs less to clear on every call (+0.14 % ratio and about 3 % more
     * encode speed on grad_fmnist; docs/DESIGN.md). Float planes (order0 = 2) also skip
     * ahead fast where no match is found (target length 64, the fast strategy's
     * acceleration) with the literals kept Huffman-coded (a positive target length would
     * switch that off): 35 % (f32) to 46 % (bf16) fewer instructions, +0.1 to +0.3 % ratio.
     * On gradient codes the skipping loses runs of zero codes (-2.7 % ratio on
     * grad_fmnist), so they do without, unless the runs were cut out first (stream method
     * 4, order0 = 3 below; docs/DESIGN.md). */
    if (c->order0 && c->level <= 2 &&
        (ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_minMatch, 7)) ||
         ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_hashLog, c->order0 == 1 ? 6 : 10))))
        return ALCM_E_BACKEND;
    if (c->order0 == 2 && c->level <= 2 &&
        (ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_targetLength, 64)) ||
         ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_literalCompressionMode,
                                             ZSTD_ps_enable))))
        return ALCM_E_BACKEND;
    /* Literals only (order0 = 3): the largest target length makes the fast strategy skip a
     * whole block at its first miss, so what remains is zstd's Huffman coding of the
     * literals. Used for the symbols of method-4 streams (gradient codes whose runs of the
     * zero code were cut out beforehand; docs/DESIGN.md, "Entropy stage of the code
     * streams"). */
    if (c->order0 == 3 && c->level <= 2 &&
        (ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_hashLog, 6)) ||
         ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_targetLength, 131072)) ||
         ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_literalCompressionMode,
                                             ZSTD_ps_enable))))
        return ALCM_E_BACKEND;
    if (ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(e->zc, total))) return ALCM_E_BACKEND;
    return ALCM_OK;
}

static alcm_status zlib_prepare(alcm_backend_enc *e, const alcm_coder *c)
{
    if (e->zs_ready && e->zs_level == c->level && e->zs_strategy == c->strategy) {
        if (deflateReset(&e->zs) != Z_OK) return ALCM_E_BACKEND;
        return ALCM_OK;
    }
    if (e->zs_ready) deflateEnd(&e->zs);
    e->zs_ready = 0;
    memset(&e->zs, 0, sizeof e->zs);
    int r = deflateInit2(&e->zs, c->level, Z_DEFLATED, -15, 8, c->strategy);
    if (r == Z_MEM_ERROR) return ALCM_E_NOMEM;
    if (r != Z_OK) return ALCM_E_BACKEND;
    e->zs_ready = 1;
    e->zs_level = c->level;
    e->zs_strategy = c->strategy;
    return ALCM_OK;
}

alcm_status alcm_senc_begin(alcm_senc *s, alcm_backend_enc *e, const alcm_coder *c,
                            uint64_t total, uint8_t *dst, size_t cap)
{
    s->e = e;
    s->c = *c;
    s->dst = dst;
    s->cap = cap;
    s->pos = 0;
    if (c->backend == ALCM_BACKEND_ZSTD) return zstd_prepare(e, c, total);
    if (c->backend == ALCM_BACKEND_ZLIB) return zlib_prepare(e, c);
    return ALCM_E_INTERNAL;
}

static alcm_status zlib_run(alcm_senc *s, const uint8_t *src, size_t n, int finish)
{
    z_stream *z = &s->e->zs;
    for (;;) {
        size_t in_now = n < ZCHUNK ? n : ZCHUNK;
        size_t room = s->cap - s->pos;
        size_t out_now = room < ZCHUNK ? room : ZCHUNK;
        z->next_in = (Bytef *)(uintptr_t)src;
        z->avail_in = (uInt)in_now;
        z->next_out = s->dst + s->pos;
        z->avail_out = (uInt)out_now;
        int flush = finish && in_now == n ? Z_FINISH : Z_NO_FLUSH;
        int r = deflate(z, flush);
        size_t used_in = in_now - z->avail_in, made = out_now - z->avail_out;
        src += used_in;
        n -= used_in;
        s->pos += made;
        if (r == Z_STREAM_END) return ALCM_OK;
        if (r != Z_OK && r != Z_BUF_ERROR) return ALCM_E_BACKEND;
        if (!finish && n == 0 && z->avail_out > 0) return ALCM_OK;
        if (z->avail_out == 0 && s->pos == s->cap) return ALCM_E_DST_TOO_SMALL;
        if (used_in == 0 && made == 0 && r == Z_BUF_ERROR) return ALCM_E_BACKEND;
    }
}

static alcm_status zstd_run(alcm_senc *s, const uint8_t *src, size_t n, ZSTD_EndDirective op)
{
    ZSTD_inBuffer in = {src, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {s->dst, s->cap, s->pos};
        size_t r = ZSTD_compressStream2(s->e->zc, &out, &in, op);
        s->pos = out.pos;
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation) return ALCM_E_NOMEM;
            return ALCM_E_BACKEND;
        }
        if (op == ZSTD_e_end ? r == 0 : in.pos == in.size) return ALCM_OK;
        if (out.pos == out.size) return ALCM_E_DST_TOO_SMALL;
    }
}

alcm_status alcm_senc_feed(alcm_senc *s, const void *src, size_t n)
{
    if (n == 0) return ALCM_OK;
    if (s->c.backend == ALCM_BACKEND_ZSTD) return zstd_run(s, src, n, ZSTD_e_continue);
    return zlib_run(s, src, n, 0);
}

alcm_status alcm_senc_end(alcm_senc *s, size_t *out)
{
    static const uint8_t none = 0; /* no input: a valid pointer all the same */
    alcm_status st = s->c.backend == ALCM_BACKEND_ZSTD ? zstd_run(s, &none, 0, ZSTD_e_end)
                                                       : zlib_run(s, &none, 0, 1);
    *out = s->pos;
    return st;
}

alcm_status alcm_backend_compress(alcm_backend_enc *e, const alcm_coder *c, const void *src,
                                  size_t n, void *dst, size_t cap, size_t *out)
{
    alcm_senc s;
    *out = 0;
    if (c->backend == ALCM_BACKEND_ZSTD) { /* one shot: zstd reads src in place, no copy */
        alcm_status st = zstd_prepare(e, c, n);
        if (st != ALCM_OK) return st;
        size_t r = ZSTD_compress2(e->zc, dst, cap, src, n);
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall) return ALCM_E_DST_TOO_SMALL;
            if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation) return ALCM_E_NOMEM;
            return ALCM_E_BACKEND;
        }
        *out = r;
        return ALCM_OK;
    }
    alcm_status st = alcm_senc_begin(&s, e, c, n, dst, cap);
    if (st == ALCM_OK) st = alcm_senc_feed(&s, src, n);
    if (st == ALCM_OK) st = alcm_senc_end(&s, out);
    return st;
}

alcm_status alcm_stream_write(alcm_backend_enc *e, const alcm_coder *c, const void *src,
                              size_t n, uint8_t *dst, size_t cap, size_t *out)
{
    *out = 0;
    if (cap < ALCM_STREAM_HEADER) return ALCM_E_DST_TOO_SMALL;
    size_t room = cap - ALCM_STREAM_HEADER;
    size_t limit = n - (n > 0) < room ? n - (n > 0) : room; /* coded must be < n */
    size_t made = 0;
    alcm_status st = n > 1 ? alcm_backend_compress(e, c, src, n, dst + ALCM_STREAM_HEADER,
                                                   limit, &made)
                           : ALCM_E_DST_TOO_SMALL;
    if (st == ALCM_OK) {
        alcm_stream_header_put(dst, ALCM_STREAM_CODED, made);
        *out = ALCM_STREAM_HEADER + made;
        return ALCM_OK;
    }
    if (st != ALCM_E_DST_TOO_SMALL) return st;
    return alcm_stream_store(src, n, dst, cap, out);
}

alcm_status alcm_stream_store(const void *src, size_t n, uint8_t *dst, size_t cap, size_t *out)
{
    *out = 0;
    if (cap < ALCM_STREAM_HEADER || n > cap - ALCM_STREAM_HEADER) return ALCM_E_DST_TOO_SMALL;
    alcm_stream_header_put(dst, ALCM_STREAM_STORED, n);
    if (n) memcpy(dst + ALCM_STREAM_HEADER, src, n);
    *out = ALCM_STREAM_HEADER + n;
    return ALCM_OK;
}

/* ------------------------------------------------------------------------------------------
 * Decoding
 * ---------------------------------------------------------------------------------------- */

void alcm_backend_dec_free(alcm_backend_dec *d)
{
    for (int i = 0; i < ALCM_READER_SLOTS; i++) {
        ZSTD_freeDCtx(d->zd[i]);
        d->zd[i] = NULL;
        if (d->zs_ready[i]) inflateEnd(&d->zs[i]);
        d->zs_ready[i] = 0;
    }
}

alcm_status alcm_reader_open(alcm_reader *r, alcm_backend_dec *d, int slot, int backend,
                             const alcm_stream_ref *ref)
{
    memset(r, 0, sizeof *r);
    r->ref = *ref;
    r->backend = backend;
    r->out_left = ref->decoded;
    if (ref->method == ALCM_STREAM_STORED) return ALCM_OK;
    if (backend == ALCM_BACKEND_ZSTD) {
        if (!d->zd[slot]) {
            d->zd[slot] = ZSTD_createDCtx();
            if (!d->zd[slot]) return ALCM_E_NOMEM;
            if (ZSTD_isError(ZSTD_DCtx_setParameter(d->zd[slot], ZSTD_d_windowLogMax,
                                                    ALCM_ZSTD_WINDOW_LOG_MAX)))
                return ALCM_E_BACKEND;
        }
        ZSTD_DCtx_reset(d->zd[slot], ZSTD_reset_session_only);
        r->zd = d->zd[slot];
        return ALCM_OK;
    }
    if (backend == ALCM_BACKEND_ZLIB) {
        z_stream *z = &d->zs[slot];
        if (d->zs_ready[slot]) {
            if (inflateReset(z) != Z_OK) return ALCM_E_BACKEND;
        } else {
            memset(z, 0, sizeof *z);
            int e = inflateInit2(z, -15);
            if (e == Z_MEM_ERROR) return ALCM_E_NOMEM;
            if (e != Z_OK) return ALCM_E_BACKEND;
            d->zs_ready[slot] = 1;
        }
        r->zs = z;
        return ALCM_OK;
    }
    return ALCM_E_CODEC;
}

const uint8_t *alcm_reader_view(alcm_reader *r, size_t n)
{
    if (r->ref.method != ALCM_STREAM_STORED || n > r->out_left) return NULL;
    const uint8_t *p = r->ref.data + r->in_pos;
    r->in_pos += n;
    r->out_left -= n;
    return p;
}

/* Runs the decoder into dst[0..n) (n may be 0 to drain the stream's end). Returns the bytes
 * produced in *made. */
static alcm_status run_zstd(alcm_reader *r, uint8_t *dst, size_t n, size_t *made)
{
    uint8_t dummy;
    ZSTD_outBuffer out = {n ? dst : &dummy, n, 0};
    ZSTD_inBuffer in = {r->ref.data, r->ref.size, r->in_pos};
    alcm_status st = ALCM_OK;
    for (;;) {
        size_t in0 = in.pos, out0 = out.pos;
        size_t ret = ZSTD_decompressStream(r->zd, &out, &in);
        if (ZSTD_isError(ret)) {
            st = ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation ? ALCM_E_NOMEM
                                                                         : ALCM_E_BACKEND;
            break;
        }
        if (ret == 0) {
            r->ended = 1;
            break;
        }
        if (n && out.pos == out.size) break;
        if (in.pos == in0 && out.pos == out0) break; /* no progress possible */
    }
    r->in_pos = in.pos;
    *made = out.pos;
    return st;
}

static alcm_status run_zlib(alcm_reader *r, uint8_t *dst, size_t n, size_t *made)
{
    uint8_t dummy;
    z_stream *z = r->zs;
    size_t produced = 0;
    for (;;) {
        size_t in_left = r->ref.size - r->in_pos;
        size_t in_now = in_left < ZCHUNK ? in_left : ZCHUNK;
        size_t out_now = n - produced < ZCHUNK ? n - produced : ZCHUNK;
        z->next_in = (Bytef *)(uintptr_t)(r->ref.data + r->in_pos);
        z->avail_in = (uInt)in_now;
        z->next_out = out_now ? dst + produced : &dummy;
        z->avail_out = (uInt)out_now;
        int e = inflate(z, Z_NO_FLUSH);
        size_t used = in_now - z->avail_in, got = out_now - z->avail_out;
        r->in_pos += used;
        produced += got;
        if (e == Z_STREAM_END) {
            r->ended = 1;
            break;
        }
        if (e == Z_MEM_ERROR) return ALCM_E_NOMEM;
        if (e != Z_OK && e != Z_BUF_ERROR) return ALCM_E_BACKEND;
        if (produced == n && n) break;
        if (used == 0 && got == 0) break; /* no progress: input exhausted or no room */
    }
    *made = produced;
    return ALCM_OK;
}

alcm_status alcm_reader_read(alcm_reader *r, uint8_t *dst, size_t n)
{
    if (n == 0) return ALCM_OK;
    if (n > r->out_left) return ALCM_E_CORRUPT;
    if (r->ref.method == ALCM_STREAM_STORED) {
        memcpy(dst, r->ref.data + r->in_pos, n);
        r->in_pos += n;
        r->out_left -= n;
        return ALCM_OK;
    }
    if (r->ended) return ALCM_E_CORRUPT;
    size_t made = 0;
    alcm_status st = r->backend == ALCM_BACKEND_ZSTD ? run_zstd(r, dst, n, &made)
                                                     : run_zlib(r, dst, n, &made);
    if (st != ALCM_OK) return st;
    if (made != n) return ALCM_E_CORRUPT; /* the stream ended early or its input ran out */
    r->out_left -= n;
    return ALCM_OK;
}

alcm_status alcm_reader_close(alcm_reader *r)
{
    if (r->out_left != 0) return ALCM_E_CORRUPT;
    if (r->ref.method == ALCM_STREAM_STORED) return ALCM_OK;
    if (!r->ended) {
        size_t made = 0;
        alcm_status st = r->backend == ALCM_BACKEND_ZSTD ? run_zstd(r, NULL, 0, &made)
                                                         : run_zlib(r, NULL, 0, &made);
        if (st != ALCM_OK) return st;
        if (!r->ended) return ALCM_E_CORRUPT; /* more output pending, or input cut short */
    }
    if (r->in_pos != r->ref.size) return ALCM_E_CORRUPT; /* bytes after the coded stream */
    return ALCM_OK;
}

/* A whole zstd stream in one call, straight into dst, with the checks of the streaming
 * reader: one frame, window at most 2^ALCM_ZSTD_WINDOW_LOG_MAX, exactly ref->decoded bytes,
 * no bytes after the frame. */
static alcm_status zstd_decode_whole(ZSTD_DCtx *zd, const alcm_stream_ref *ref, uint8_t *dst)
{
    ZSTD_frameHeader fh;
    if (ZSTD_getFrameHeader(&fh, ref->data, ref->size) != 0) return ALCM_E_BACKEND;
    if (fh.frameType != ZSTD_frame ||
        fh.windowSize > ((unsigned long long)1 << ALCM_ZSTD_WINDOW_LOG_MAX))
        return ALCM_E_BACKEND;
    size_t fsize = ZSTD_findFrameCompressedSize(ref->data, ref->size);
    if (ZSTD_isError(fsize)) return ALCM_E_BACKEND;
    if (fsize != ref->size) return ALCM_E_CORRUPT; /* the frame ends early */
    size_t got = ZSTD_decompressDCtx(zd, dst, (size_t)ref->decoded, ref->data, ref->size);
    if (ZSTD_isError(got)) {
        ZSTD_ErrorCode ec = ZSTD_getErrorCode(got);
        if (ec == ZSTD_error_memory_allocation) return ALCM_E_NOMEM;
        if (ec == ZSTD_error_dstSize_tooSmall) return ALCM_E_CORRUPT; /* more than declared */
        return ALCM_E_BACKEND;
    }
    return got == ref->decoded ? ALCM_OK : ALCM_E_CORRUPT;
}

alcm_status alcm_stream_decode(alcm_backend_dec *d, int backend, const alcm_stream_ref *ref,
                               uint8_t *dst)
{
    alcm_reader r;
    alcm_status st = alcm_reader_open(&r, d, 0, backend, ref);
    if (st == ALCM_OK && backend == ALCM_BACKEND_ZSTD && ref->method == ALCM_STREAM_CODED)
        return zstd_decode_whole(r.zd, ref, dst);
    if (st == ALCM_OK) st = alcm_reader_read(&r, dst, (size_t)ref->decoded);
    if (st == ALCM_OK) st = alcm_reader_close(&r);
    return st;
}

alcm_status alcm_stream_read_next(alcm_backend_dec *d, int backend, const uint8_t *blob,
                                  size_t *pos, size_t end, size_t n, uint8_t *dst)
{
    alcm_stream_ref ref;
    alcm_status st = alcm_stream_take(blob, pos, end, n, &ref);
    if (st != ALCM_OK) return st;
    if (ref.method == ALCM_STREAM_STORED) {
        memcpy(dst, ref.data, n);
        return ALCM_OK;
    }
    return alcm_stream_decode(d, backend, &ref, dst);
}
