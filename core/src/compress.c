/* compress.c - the compression context and alcm_compress: argument checks, profile and
 * backend resolution, dispatch to the codec encoders, alcm_info. */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

/* Measured defaults (docs/DESIGN.md, "Backends"). */
#define ZSTD_DEFAULT_LEVEL 1
#define ZLIB_DEFAULT_LEVEL 6

alcm_cctx *alcm_cctx_create(void)
{
    return calloc(1, sizeof(alcm_cctx));
}

void alcm_cctx_free(alcm_cctx *cx)
{
    if (!cx) return;
    alcm_backend_enc_free(&cx->benc);
    alcm_buf_free(&cx->chan);
    alcm_buf_free(&cx->alloc);
    alcm_buf_free(&cx->steps);
    alcm_buf_free(&cx->order);
    alcm_buf_free(&cx->ybuf);
    alcm_buf_free(&cx->stage);
    alcm_buf_free(&cx->esc);
    alcm_buf_free(&cx->params);
    alcm_buf_free(&cx->select);
    alcm_buf_free(&cx->codes);
    alcm_buf_free(&cx->kept);
    alcm_buf_free(&cx->out);
    alcm_buf_free(&cx->pieces);
    alcm_buf_free(&cx->stats);
    for (unsigned i = 0; i < cx->n_sub; i++) alcm_cctx_free(cx->sub[i]);
    free(cx->sub);
    free(cx);
}

alcm_status alcm_cctx_set_threads(alcm_cctx *cx, unsigned n)
{
    if (!cx || n == 0 || n > ALCM_MAX_THREADS) return ALCM_E_ARG;
    cx->threads = n;
    while (cx->n_sub > n - 1) alcm_cctx_free(cx->sub[--cx->n_sub]); /* their scratch too */
    return ALCM_OK;
}

size_t alcm_cctx_memory(const alcm_cctx *cx)
{
    if (!cx) return 0;
    size_t n = sizeof *cx + cx->chan.cap + cx->alloc.cap + cx->steps.cap + cx->order.cap +
               cx->ybuf.cap + cx->stage.cap + cx->esc.cap + cx->params.cap + cx->select.cap +
               cx->codes.cap + cx->kept.cap + cx->out.cap + cx->pieces.cap +
               cx->stats.cap + cx->n_sub * sizeof *cx->sub;
    for (unsigned i = 0; i < cx->n_sub; i++) n += alcm_cctx_memory(cx->sub[i]);
    if (cx->benc.zc) n += ZSTD_sizeof_CCtx(cx->benc.zc);
    if (cx->benc.zs_ready) n += (size_t)1 << 18; /* deflate state at memLevel 8, window 15 */
    return n;
}

size_t alcm_compress_bound(size_t src_bytes)
{
    /* Every codec stays within src + src/1024 + 1024 (alcm_blob_worst): baseline within
     * zlib's compressBound, lossless within 9 bytes of stream header per chunk or plane
     * segment, gradient codes within 3 bytes per 4-byte element; plus header, section and
     * CRC (<= 148 bytes). A tensor encoded as K automatic chunks (segmented.c) has K inner
     * blobs of more than 2^21 elements each on average, so their K * 1024 stays within
     * src / 8192: the blob, its outer header and CRC (< 1024) fit in this bound. */
    size_t extra = (src_bytes >> 10) + (src_bytes >> 13) + 1024;
    if (src_bytes > SIZE_MAX - extra) return 0;
    return src_bytes + extra;
}

size_t alcm_compress_bound_segments(size_t src_bytes, uint32_t n_segments)
{
    /* Each inner blob stays within alcm_blob_worst of its bytes (1024 each for at most
     * n_segments + 1 segments), chunks of a large segment within the src / 8192 of
     * alcm_compress_bound; the outer header and CRC within its 1024. A dst of this size
     * holds the worst case, so a chunked encode never needs to save the residual. */
    size_t base = alcm_compress_bound(src_bytes);
    size_t extra = ((size_t)n_segments + 1) * 1024u;
    if (base == 0 || base > SIZE_MAX - extra) return 0;
    return base + extra;
}

/* Resolves AUTO, the level and the zlib strategy of an encode (docs/DESIGN.md, "Backends":
 * every default below was picked by measurement). */
static alcm_status resolve_coder(const alcm_params *p, alcm_coder *c)
{
    c->strategy = Z_DEFAULT_STRATEGY;
    c->order0 = 0;
    if (p->profile == ALCM_PROFILE_BASELINE) {
        if (p->backend == ALCM_BACKEND_ZSTD) return ALCM_E_ARG;
        c->backend = ALCM_BACKEND_ZLIB;
        c->level = 6;
        return ALCM_OK;
    }
    const int floats = p->dtype != ALCM_DTYPE_BYTES;
    /* zstd everywhere by default: on float planes zlib Huffman-only gains about 1 % of
     * ratio for 2-4x the CPU time, which loses CAQ (docs/DESIGN.md, "Backends"). */
    c->backend = p->backend == ALCM_BACKEND_AUTO ? ALCM_BACKEND_ZSTD : (int)p->backend;
    if (c->backend == ALCM_BACKEND_ZSTD) {
        c->level = p->level > 0 ? p->level : ZSTD_DEFAULT_LEVEL;
        c->order0 = !floats ? 0 : p->profile == ALCM_PROFILE_LOSSLESS ? 2 : 1;
    } else {
        c->level = p->level > 0 ? (p->level > 9 ? 9 : p->level) : ZLIB_DEFAULT_LEVEL;
        /* Quantisation codes and float byte planes are order-0 data: LZ matching costs time
         * and ratio there, Huffman coding alone does best. */
        if (floats) c->strategy = Z_HUFFMAN_ONLY;
    }
    return ALCM_OK;
}

alcm_status alcm_compress(alcm_cctx *cctx, const alcm_params *params, const alcm_shape *shape,
                          const void *src, size_t src_bytes, float *residual, void *dst,
                          size_t dst_cap, size_t *dst_len, alcm_info *info)
{
    return alcm_compress_next(cctx, params, shape, src, src_bytes, residual, NULL, dst, dst_cap,
                              dst_len, info);
}

alcm_status alcm_compress_next(alcm_cctx *cctx, const alcm_params *params,
                               const alcm_shape *shape, const void *src, size_t src_bytes,
                               float *residual, float *r_next, void *dst, size_t dst_cap,
                               size_t *dst_len, alcm_info *info)
{
    if (dst_len) *dst_len = 0;
    if (!cctx || !params || !shape || !dst_len) return ALCM_E_ARG;
    if ((!src && src_bytes) || (!dst && dst_cap)) return ALCM_E_ARG;
    alcm_status st = alcm_params_check(params);
    if (st != ALCM_OK) return st;
    uint64_t numel;
    if ((st = alcm_shape_numel(shape, &numel)) != ALCM_OK) return st;
    size_t es = alcm_dtype_size(params->dtype);
    if (numel > SIZE_MAX / es || numel * es != src_bytes) return ALCM_E_SHAPE;
    if (residual && params->profile != ALCM_PROFILE_GRADIENT) return ALCM_E_ARG;
    if (params->n_segments && (st = alcm_segmented_check(params, numel)) != ALCM_OK) return st;
    if (!dst) return ALCM_E_DST_TOO_SMALL;

    alcm_enc_job job = {.params = params, .shape = shape, .numel = numel};
    if ((st = resolve_coder(params, &job.coder)) != ALCM_OK) return st;
    alcm_info local;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    info->exact = 1;

    size_t len = 0;
    switch (params->profile) {
    case ALCM_PROFILE_GRADIENT: {
        const float *x = src;
        float *copy = NULL;
        if ((uintptr_t)src % sizeof(float)) { /* the encoder reads floats in place */
            copy = malloc(src_bytes ? src_bytes : 1);
            if (!copy) return ALCM_E_NOMEM;
            memcpy(copy, src, src_bytes);
            x = copy;
        }
        job.r_next = residual ? r_next : NULL;
        if (alcm_segmented_wanted(params, shape, numel))
            st = alcm_segmented_encode(cctx, &job, x, residual, dst, dst_cap, &len, info);
        else
            st = alcm_gradient_encode(cctx, &job, x, residual, dst, dst_cap, &len, info);
        free(copy);
        break;
    }
    case ALCM_PROFILE_LOSSLESS:
        if (params->dtype == ALCM_DTYPE_BYTES)
            st = alcm_lossless_bytes_encode(cctx, &job, src, dst, dst_cap, &len);
        else
            st = alcm_lossless_float_encode(cctx, &job, params->dtype, src, NULL, dst, dst_cap,
                                            &len);
        break;
    case ALCM_PROFILE_BASELINE:
        st = alcm_baseline_encode(cctx, &job, params->dtype, src, dst, dst_cap, &len);
        break;
    default: return ALCM_E_ARG;
    }
    if (st != ALCM_OK) return st;
    info->raw_bytes = src_bytes;
    info->blob_bytes = len;
    info->ratio = src_bytes ? (double)src_bytes / (double)len : 0.0;
    info->backend = (alcm_backend)job.coder.backend;
    *dst_len = len;
    return ALCM_OK;
}
