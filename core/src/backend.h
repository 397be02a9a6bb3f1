/* backend.h - zlib and zstd behind one interface: one-shot and streaming compression into
 * caller memory, and exact-length streaming decompression of blob streams (internal). */
#ifndef ALCM_BACKEND_H
#define ALCM_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "alcm.h"
#include "format.h"

/* Largest zstd window an encoder uses and a decoder accepts (docs/FORMAT.md). */
#define ALCM_ZSTD_WINDOW_LOG_MAX 23

/* How to code a stream: backend, level, and (zlib) strategy. */
typedef struct {
    int backend;   /* ALCM_BACKEND_ZLIB or ALCM_BACKEND_ZSTD */
    int level;     /* zlib 1..9, zstd 1..22 */
    int strategy;  /* zlib: Z_DEFAULT_STRATEGY, Z_HUFFMAN_ONLY, Z_RLE, ... */
    int order0;    /* zstd: the data are order-0 symbols with few long repeats: 0 no,
                    * 1 quantisation codes (matches of 7+ bytes only, a 2^10-entry hash
                    * table), 2 float byte planes (also: skip ahead fast between matches),
                    * 3 literals only (the match finder skipped) */
} alcm_coder;

/* Encoder state reused across calls (owned by a cctx). Zero-initialise before first use. */
typedef struct {
    ZSTD_CCtx *zc;
    z_stream zs;
    int zs_ready;
    int zs_level, zs_strategy;
} alcm_backend_enc;

void alcm_backend_enc_free(alcm_backend_enc *e);

/* Compresses src[0..n) into dst[0..cap) as one backend stream; *out gets its size.
 * ALCM_E_DST_TOO_SMALL when the stream does not fit in cap (callers pass cap < n to ask
 * "is coding worth it"), ALCM_E_NOMEM, ALCM_E_BACKEND. */
alcm_status alcm_backend_compress(alcm_backend_enc *e, const alcm_coder *c, const void *src,
                                  size_t n, void *dst, size_t cap, size_t *out);

/* Streaming compression of `total` bytes fed in pieces, written straight into dst. */
typedef struct {
    alcm_backend_enc *e;
    alcm_coder c;
    uint8_t *dst;
    size_t cap, pos;
} alcm_senc;

alcm_status alcm_senc_begin(alcm_senc *s, alcm_backend_enc *e, const alcm_coder *c,
                            uint64_t total, uint8_t *dst, size_t cap);
/* ALCM_E_DST_TOO_SMALL once the output would exceed cap. */
alcm_status alcm_senc_feed(alcm_senc *s, const void *src, size_t n);
alcm_status alcm_senc_end(alcm_senc *s, size_t *out);

/* Decoder state: up to ALCM_READER_SLOTS streams decoded at once (owned by a dctx). */
#define ALCM_READER_SLOTS 3
typedef struct {
    ZSTD_DCtx *zd[ALCM_READER_SLOTS];
    z_stream zs[ALCM_READER_SLOTS];
    int zs_ready[ALCM_READER_SLOTS];
} alcm_backend_dec;

void alcm_backend_dec_free(alcm_backend_dec *d);

/* Reads a stream's decoded bytes in pieces, checking that exactly ref->decoded bytes come
 * out and that the coded stream ends exactly at the end of its data. */
typedef struct {
    alcm_stream_ref ref;
    int backend;
    ZSTD_DCtx *zd;
    z_stream *zs;
    size_t in_pos;
    uint64_t out_left;
    int ended;
} alcm_reader;

/* Opens a reader on slot (0..ALCM_READER_SLOTS-1) of d. */
alcm_status alcm_reader_open(alcm_reader *r, alcm_backend_dec *d, int slot, int backend,
                             const alcm_stream_ref *ref);
/* Reads exactly n decoded bytes into dst. ALCM_E_CORRUPT if the stream holds fewer. */
alcm_status alcm_reader_read(alcm_reader *r, uint8_t *dst, size_t n);
/* Direct view of the next n bytes of a stored stream (NULL for a coded one). */
const uint8_t *alcm_reader_view(alcm_reader *r, size_t n);
/* Checks that every decoded byte was read and the coded stream ended exactly. */
alcm_status alcm_reader_close(alcm_reader *r);

/* Decodes a whole stream into dst (ref->decoded bytes). */
alcm_status alcm_stream_decode(alcm_backend_dec *d, int backend, const alcm_stream_ref *ref,
                               uint8_t *dst);

/* Takes the next stream of a payload (alcm_stream_take: blob[*pos..end), n decoded bytes,
 * *pos advanced past it) and writes its n bytes to dst: copied when stored, decoded with
 * backend when coded. */
alcm_status alcm_stream_read_next(alcm_backend_dec *d, int backend, const uint8_t *blob,
                                  size_t *pos, size_t end, size_t n, uint8_t *dst);

/* Writes src[0..n) as one stream (header + data) at dst[0..cap): coded with c when that is
 * smaller than n, stored otherwise. *out = bytes written. ALCM_E_DST_TOO_SMALL if neither
 * fits. */
alcm_status alcm_stream_write(alcm_backend_enc *e, const alcm_coder *c, const void *src,
                              size_t n, uint8_t *dst, size_t cap, size_t *out);

/* Writes src[0..n) as a stored stream at dst[0..cap). ALCM_E_DST_TOO_SMALL if it does not
 * fit. */
alcm_status alcm_stream_store(const void *src, size_t n, uint8_t *dst, size_t cap, size_t *out);

#endif /* ALCM_BACKEND_H */
