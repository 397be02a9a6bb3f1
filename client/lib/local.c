/* local.c - in-process blob decoding through libalcm, with libalcmc's status codes. */
#include "alcmc.h"

alcmc_status alcmc_decompress_local(const void *blob, size_t blob_len, void *dst,
                                    size_t dst_cap, size_t *dst_len, alcm_status *codec_status)
{
    if (codec_status) *codec_status = ALCM_OK;
    if (!blob || (!dst && dst_cap) || !dst_len) return ALCMC_E_ARG;
    *dst_len = 0;
    alcm_header h;
    alcm_status st = alcm_blob_header(blob, blob_len, &h);
    if (st == ALCM_OK && h.raw_bytes > dst_cap) return ALCMC_E_DST_TOO_SMALL;
    if (st == ALCM_OK) {
        alcm_dctx *d = alcm_dctx_create();
        if (!d) return ALCMC_E_NOMEM;
        st = alcm_decompress(d, blob, blob_len, dst, dst_cap, dst_len);
        alcm_dctx_free(d);
    }
    if (st == ALCM_OK) return ALCMC_OK;
    if (codec_status) *codec_status = st;
    return st == ALCM_E_NOMEM ? ALCMC_E_NOMEM : ALCMC_E_CODEC;
}
