/* codec_alcm.c - the `alcm` and `alcm-lossless` codecs: libalcm chosen by the item's
 * declared type. `alcm`: gradient profile (lossy within the item's error budget) for f32
 * tensors, adaptive lossless profile for bytes. `alcm-lossless`: lossless profile for both
 * (byte planes for f32, adaptive chunks for bytes). */
#include <stdlib.h>
#include <string.h>

#include "alcm.h"
#include "bench_internal.h"

typedef struct {
    alcm_codec codec;
    alcm_cctx *cctx;
    alcm_dctx *dctx;
    int lossless_only;
} alcm_bench_codec;

static size_t ac_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    return alcm_compress_bound(n);
}

/* Profile, dtype and shape for an item. */
static int ac_setup(const alcm_bench_codec *a, const alcm_codec_item *item, size_t n,
                    alcm_params *params, alcm_shape *shape)
{
    memset(shape, 0, sizeof *shape);
    if (item->type == ALCM_CODEC_ITEM_F32) {
        if (item->rank == 0 || item->rank > ALCM_MAX_RANK) return (int)ALCM_E_SHAPE;
        alcm_params_default(params, a->lossless_only ? ALCM_PROFILE_LOSSLESS
                                                     : ALCM_PROFILE_GRADIENT);
        params->dtype = ALCM_DTYPE_F32;
        if (!a->lossless_only) params->error_budget = item->error_budget;
        shape->rank = item->rank;
        for (uint32_t i = 0; i < item->rank; i++) shape->dims[i] = item->dims[i];
    } else {
        alcm_params_default(params, ALCM_PROFILE_LOSSLESS);
        params->dtype = ALCM_DTYPE_BYTES;
        alcm_shape_1d(shape, (uint64_t)n);
    }
    return 0;
}

static int ac_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                       void *dst, size_t cap, size_t *len)
{
    alcm_bench_codec *a = (alcm_bench_codec *)c;
    alcm_params params;
    alcm_shape shape;
    int rc = ac_setup(a, item, n, &params, &shape);
    if (rc) return rc;
    alcm_status st = alcm_compress(a->cctx, &params, &shape, src, n, NULL, dst, cap, len, NULL);
    return (int)st;
}

static int ac_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                         void *dst, size_t cap, size_t *len)
{
    (void)item;
    alcm_bench_codec *a = (alcm_bench_codec *)c;
    return (int)alcm_decompress(a->dctx, src, n, dst, cap, len);
}

static const char *ac_describe(alcm_codec *c, int code)
{
    (void)c;
    return alcm_strerror((alcm_status)code);
}

static void ac_free(alcm_codec *c)
{
    alcm_bench_codec *a = (alcm_bench_codec *)c;
    if (!a) return;
    alcm_cctx_free(a->cctx);
    alcm_dctx_free(a->dctx);
    free(a);
}

alcm_codec *bench_codec_alcm(int lossless_only)
{
    alcm_bench_codec *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->cctx = alcm_cctx_create();
    a->dctx = alcm_dctx_create();
    if (!a->cctx || !a->dctx) {
        ac_free(&a->codec);
        return NULL;
    }
    a->lossless_only = lossless_only;
    alcm_codec *c = &a->codec;
    c->abi_version = ALCM_CODEC_ABI_VERSION;
    c->name = lossless_only ? "alcm-lossless" : "alcm";
    c->adaptive = 1;
    c->lossless = lossless_only;
    c->state = a;
    c->bound = ac_bound;
    c->compress = ac_compress;
    c->decompress = ac_decompress;
    c->describe_error = ac_describe;
    c->free = ac_free;
    return c;
}
