/* decompress.c - the decompression context, blob inspection (header, channel bits) and
 * alcm_decompress: validation, limits, dispatch to the codec decoders. */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

#define DEFAULT_MAX_OUTPUT ((uint64_t)1 << 40)

alcm_dctx *alcm_dctx_create(void)
{
    alcm_dctx *dx = calloc(1, sizeof *dx);
    if (dx) dx->max_output = DEFAULT_MAX_OUTPUT;
    return dx;
}

void alcm_dctx_free(alcm_dctx *dx)
{
    if (!dx) return;
    alcm_backend_dec_free(&dx->bdec);
    alcm_buf_free(&dx->chan);
    alcm_buf_free(&dx->codes);
    alcm_buf_free(&dx->planes);
    alcm_buf_free(&dx->classes);
    alcm_buf_free(&dx->runs);
    alcm_buf_free(&dx->inner);
    for (unsigned i = 0; i < dx->n_sub; i++) alcm_dctx_free(dx->sub[i]);
    free(dx->sub);
    free(dx);
}

alcm_status alcm_dctx_set_threads(alcm_dctx *dx, unsigned n)
{
    if (!dx || n == 0 || n > ALCM_MAX_THREADS) return ALCM_E_ARG;
    dx->threads = n;
    while (dx->n_sub > n - 1) alcm_dctx_free(dx->sub[--dx->n_sub]);
    return ALCM_OK;
}

void alcm_dctx_set_max_output(alcm_dctx *dx, uint64_t max_bytes)
{
    if (dx) dx->max_output = max_bytes;
}

static void fill_header(const alcm_frame *f, alcm_header *h)
{
    memset(h, 0, sizeof *h);
    h->version = f->version;
    h->profile = alcm_codec_profile(f->codec);
    h->dtype = (alcm_dtype)f->dtype;
    h->backend = (alcm_backend)f->backend;
    h->shape = f->shape;
    h->raw_bytes = f->raw_size;
    h->blob_bytes = f->blob_size;
    if (f->codec == ALCM_CODEC_GRADIENT) {
        h->n_channels = f->grad.n_channels;
        h->error_budget = f->grad.budget;
        h->rel_l2_error = f->grad.achieved;
    } else if (f->codec == ALCM_CODEC_SEGMENTED) {
        h->error_budget = f->seg.budget;
        h->rel_l2_error = f->seg.max_error;
        h->n_segments = f->seg.count;
    }
}

alcm_status alcm_blob_header(const void *blob, size_t blob_len, alcm_header *header)
{
    if (!header || (!blob && blob_len)) return ALCM_E_ARG;
    memset(header, 0, sizeof *header);
    alcm_frame f;
    alcm_status st = alcm_frame_parse(blob, blob_len, &f);
    if (st != ALCM_OK) return st;
    fill_header(&f, header);
    return ALCM_OK;
}

alcm_status alcm_blob_channel_bits(const void *blob, size_t blob_len, float *bits, size_t cap,
                                   uint32_t *n_channels)
{
    if (!n_channels || (!bits && cap) || (!blob && blob_len)) return ALCM_E_ARG;
    *n_channels = 0;
    alcm_frame f;
    alcm_status st = alcm_frame_parse(blob, blob_len, &f);
    if (st != ALCM_OK) return st;
    if (f.codec != ALCM_CODEC_GRADIENT && f.codec != ALCM_CODEC_SEGMENTED)
        return ALCM_OK; /* no channels */
    if ((st = alcm_frame_check_payload(blob, &f)) != ALCM_OK) return st;
    alcm_dctx *dx = alcm_dctx_create();
    if (!dx) return ALCM_E_NOMEM;
    if (f.codec == ALCM_CODEC_GRADIENT) {
        size_t pos = f.payload_off;
        st = alcm_gradient_read_params(dx, blob, &f, &pos, NULL, bits, cap);
        if (st == ALCM_OK) *n_channels = f.grad.n_channels;
    } else { /* the channels of every gradient segment, in element order */
        size_t pos = f.payload_off, got = 0;
        uint64_t off = 0, total = 0;
        for (uint32_t k = 0; k < f.seg.count && st == ALCM_OK; k++) {
            size_t at = pos;
            alcm_frame g;
            st = alcm_segmented_next(blob, &f, &pos, &off, &g);
            if (st != ALCM_OK || g.codec != ALCM_CODEC_GRADIENT) continue;
            size_t ipos = g.payload_off, take = got < cap ? cap - got : 0;
            st = alcm_gradient_read_params(dx, (const uint8_t *)blob + at, &g, &ipos, NULL,
                                           bits ? bits + got : NULL, take);
            got += take < g.grad.n_channels ? take : g.grad.n_channels;
            total += g.grad.n_channels;
        }
        if (st == ALCM_OK && total > UINT32_MAX) st = ALCM_E_CORRUPT;
        if (st == ALCM_OK) *n_channels = (uint32_t)total;
    }
    alcm_dctx_free(dx);
    return st;
}

alcm_status alcm_decompress(alcm_dctx *dctx, const void *blob, size_t blob_len, void *dst,
                            size_t dst_cap, size_t *dst_len)
{
    if (dst_len) *dst_len = 0;
    if (!dctx || !dst_len || (!blob && blob_len) || (!dst && dst_cap)) return ALCM_E_ARG;
    alcm_frame f;
    alcm_status st = alcm_frame_parse(blob, blob_len, &f);
    if (st != ALCM_OK) return st;
    if (f.raw_size > dctx->max_output) return ALCM_E_LIMIT;
    if (f.raw_size > dst_cap) return ALCM_E_DST_TOO_SMALL;
    /* Version 2: the payload CRC, over the compressed bytes only, before any decoded byte
     * is written (a damaged payload never reaches the codec decoders). A segmented blob's
     * is checked from its inner blobs' CRCs, each inner payload's before it is decoded
     * (segmented.c): damage there can be found after other inner blobs were decoded. */
    if (f.codec != ALCM_CODEC_SEGMENTED && (st = alcm_frame_check_payload(blob, &f)) != ALCM_OK)
        return st;
    size_t raw = (size_t)f.raw_size;
    uint8_t *out = dst;
    switch (f.codec) {
    case ALCM_CODEC_GRADIENT:
    case ALCM_CODEC_SEGMENTED: {
        alcm_status (*dec)(alcm_dctx *, const uint8_t *, const alcm_frame *, float *) =
            f.codec == ALCM_CODEC_GRADIENT ? alcm_gradient_decode : alcm_segmented_decode;
        if ((uintptr_t)dst % sizeof(float)) { /* decode aligned, then copy */
            float *tmp = malloc(raw ? raw : 1);
            if (!tmp) return ALCM_E_NOMEM;
            st = dec(dctx, blob, &f, tmp);
            if (st == ALCM_OK) memcpy(dst, tmp, raw);
            free(tmp);
        } else {
            st = dec(dctx, blob, &f, (float *)dst);
        }
        break;
    }
    case ALCM_CODEC_LOSSLESS_FLOAT: st = alcm_lossless_float_decode(dctx, blob, &f, out); break;
    case ALCM_CODEC_LOSSLESS_BYTES: st = alcm_lossless_bytes_decode(dctx, blob, &f, out); break;
    case ALCM_CODEC_BASELINE: st = alcm_baseline_decode(dctx, blob, &f, out); break;
    default: st = ALCM_E_CODEC; break;
    }
    if (st != ALCM_OK) return st;
    *dst_len = raw;
    return ALCM_OK;
}
