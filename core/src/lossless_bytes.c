/* lossless_bytes.c - exact coding of opaque bytes in chunks; an order-0 entropy estimate
 * per chunk picks store (incompressible), fast or strong coding. */
#include <string.h>

#include "ctx.h"
#include "order0.h"

#define LB_CHUNK ((uint32_t)4 << 20)

/* Chunks at or above this entropy are stored (already-compressed data: JPEG, PNG, gzip). */
#define LB_STORE_BITS 7.9
/* Chunks at or above this entropy use the fast level: little structure left to find. */
#define LB_FAST_BITS 7.0

/* Backend levels for fast and strong chunks (docs/DESIGN.md, measured: zstd 3 on 4 MiB
 * chunks gives the best CAQ on text and mixed data; level 9 bought 2 % ratio for 4x CPU). */
static int chunk_level(const alcm_enc_job *job, double bits)
{
    if (job->params->level > 0) return job->coder.level;
    int strong = bits < LB_FAST_BITS;
    if (job->coder.backend == ALCM_BACKEND_ZSTD) return strong ? 3 : 1;
    return strong ? 6 : 1;
}

alcm_status alcm_lossless_bytes_encode(alcm_cctx *cx, const alcm_enc_job *job, const void *src,
                                       uint8_t *dst, size_t cap, size_t *len)
{
    const uint64_t n = job->numel;
    size_t prefix = alcm_frame_prefix_size(job->shape->rank, ALCM_CODEC_LOSSLESS_BYTES);
    if (cap < prefix + ALCM_CRC_SIZE) return ALCM_E_DST_TOO_SMALL;
    size_t end = cap - ALCM_CRC_SIZE, pos = prefix;
    const uint8_t *s = src;
    for (uint64_t i = 0; i < n; i += LB_CHUNK) {
        size_t m = (size_t)(n - i < LB_CHUNK ? n - i : LB_CHUNK);
        double bits = alcm_order0_bits(s + i, m);
        size_t used;
        alcm_status st;
        if (bits >= LB_STORE_BITS) {
            st = alcm_stream_store(s + i, m, dst + pos, end - pos, &used);
        } else {
            alcm_coder c = job->coder;
            c.level = chunk_level(job, bits);
            st = alcm_stream_write(&cx->benc, &c, s + i, m, dst + pos, end - pos, &used);
        }
        if (st != ALCM_OK) return st;
        pos += used;
    }
    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_LOSSLESS_BYTES;
    f.dtype = ALCM_DTYPE_BYTES;
    f.backend = (uint8_t)job->coder.backend;
    f.shape = *job->shape;
    f.raw_size = n;
    f.unit = LB_CHUNK;
    alcm_frame_finish(dst, &f, pos, len);
    return ALCM_OK;
}

alcm_status alcm_lossless_bytes_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                       uint8_t *dst)
{
    const uint64_t n = f->numel, unit = f->unit;
    size_t pos = f->payload_off;
    for (uint64_t i = 0; i < n; i += unit) {
        size_t m = (size_t)(n - i < unit ? n - i : unit);
        alcm_status st = alcm_stream_read_next(&dx->bdec, f->backend, blob, &pos,
                                               f->payload_end, m, dst + i);
        if (st != ALCM_OK) return st;
    }
    return pos == f->payload_end ? ALCM_OK : ALCM_E_CORRUPT;
}
