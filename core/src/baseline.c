/* baseline.c - the baseline codec: one raw DEFLATE stream of zlib level 6 (windowBits -15,
 * memLevel 8, default strategy) over the raw bytes, as NumPy's savez_compressed stores. */
#include "baseline.h"

#include <string.h>

#include "ctx.h"

alcm_status alcm_baseline_encode(alcm_cctx *cx, const alcm_enc_job *job, alcm_dtype dtype,
                                 const void *src, uint8_t *dst, size_t cap, size_t *len)
{
    size_t raw = (size_t)job->numel * alcm_dtype_size(dtype);
    size_t prefix = alcm_frame_prefix_size(job->shape->rank, ALCM_CODEC_BASELINE);
    if (cap < prefix + ALCM_CRC_SIZE) return ALCM_E_DST_TOO_SMALL;
    const alcm_coder c = {ALCM_BACKEND_ZLIB, ALCM_BASELINE_LEVEL, Z_DEFAULT_STRATEGY, 0};
    static const uint8_t empty = 0;
    size_t made;
    alcm_status st = alcm_backend_compress(&cx->benc, &c, raw ? src : &empty, raw, dst + prefix,
                                           cap - prefix - ALCM_CRC_SIZE, &made);
    if (st != ALCM_OK) return st;
    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_BASELINE;
    f.dtype = (uint8_t)dtype;
    f.backend = ALCM_BACKEND_ZLIB;
    f.shape = *job->shape;
    f.raw_size = raw;
    alcm_frame_finish(dst, &f, prefix + made, len);
    return ALCM_OK;
}

alcm_status alcm_baseline_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                 uint8_t *dst)
{
    alcm_stream_ref ref;
    ref.method = ALCM_STREAM_CODED;
    ref.data = blob + f->payload_off;
    ref.size = f->payload_end - f->payload_off;
    ref.decoded = f->raw_size;
    if (ref.size == 0) return ALCM_E_CORRUPT;
    return alcm_stream_decode(&dx->bdec, ALCM_BACKEND_ZLIB, &ref, dst);
}

alcm_status alcm_baseline_payload_bytes(const void *blob, size_t blob_len, size_t *bytes)
{
    alcm_frame f;
    if (!bytes) return ALCM_E_ARG;
    *bytes = 0;
    alcm_status st = alcm_frame_parse(blob, blob_len, &f);
    if (st != ALCM_OK) return st;
    if (f.codec != ALCM_CODEC_BASELINE) return ALCM_E_ARG;
    *bytes = f.payload_end - f.payload_off;
    return ALCM_OK;
}
