/* tensor.c - dtypes, shapes and parameter defaults/validation. */
#include "alcm.h"

#include <string.h>

size_t alcm_dtype_size(alcm_dtype dtype)
{
    switch (dtype) {
    case ALCM_DTYPE_F32: return 4;
    case ALCM_DTYPE_F16: return 2;
    case ALCM_DTYPE_BF16: return 2;
    case ALCM_DTYPE_BYTES: return 1;
    }
    return 0;
}

const char *alcm_dtype_name(alcm_dtype dtype)
{
    switch (dtype) {
    case ALCM_DTYPE_F32: return "f32";
    case ALCM_DTYPE_F16: return "f16";
    case ALCM_DTYPE_BF16: return "bf16";
    case ALCM_DTYPE_BYTES: return "bytes";
    }
    return "?";
}

void alcm_shape_1d(alcm_shape *shape, uint64_t n)
{
    memset(shape, 0, sizeof *shape);
    shape->rank = 1;
    shape->dims[0] = n;
}

alcm_status alcm_shape_numel(const alcm_shape *shape, uint64_t *numel)
{
    if (!shape || !numel) return ALCM_E_ARG;
    if (shape->rank > ALCM_MAX_RANK) return ALCM_E_SHAPE;
    const uint64_t limit = (uint64_t)1 << 62;
    uint64_t n = 1;
    for (uint32_t i = 0; i < shape->rank; i++) {
        uint64_t d = shape->dims[i];
        if (d != 0 && n > limit / d) return ALCM_E_SHAPE;
        n *= d;
    }
    *numel = n;
    return ALCM_OK;
}

void alcm_params_default(alcm_params *params, alcm_profile profile)
{
    memset(params, 0, sizeof *params);
    params->struct_size = (uint32_t)sizeof *params;
    params->profile = profile;
    params->dtype = ALCM_DTYPE_F32;
    params->backend = ALCM_BACKEND_AUTO;
    params->entropy_mode = ALCM_ENTROPY_LEARNED;
    params->error_budget = 0.01;
    params->aggressiveness = 1.0;
    params->prune_ratio = 0.0;
    params->block_size = 0;
    params->level = 0;
}

alcm_status alcm_params_check(const alcm_params *p)
{
    if (!p || p->struct_size != sizeof *p) return ALCM_E_ARG;
    if (alcm_dtype_size(p->dtype) == 0) return ALCM_E_DTYPE;
    /* Every floating-point field must be finite and in range, also those the profile does
     * not use: NaN compares unequal to itself, so a NaN anywhere would make two equal
     * configs differ (a daemon stream would be rebuilt on every step). */
    if (!(p->error_budget > 0.0 && p->error_budget <= 1.0)) return ALCM_E_ARG;
    if (!(p->aggressiveness >= 0.0 && p->aggressiveness <= 1.0)) return ALCM_E_ARG;
    if (!(p->prune_ratio >= 0.0 && p->prune_ratio <= 0.25)) return ALCM_E_ARG;
    if (p->entropy_mode != ALCM_ENTROPY_LEARNED && p->entropy_mode != ALCM_ENTROPY_MEASURED &&
        p->entropy_mode != ALCM_ENTROPY_FLAT)
        return ALCM_E_ARG;
    if (p->backend != ALCM_BACKEND_AUTO && p->backend != ALCM_BACKEND_ZLIB &&
        p->backend != ALCM_BACKEND_ZSTD)
        return ALCM_E_ARG;
    if (p->level < 0 || p->level > 22) return ALCM_E_ARG;
    if (p->n_segments) {
        if (!p->segments || p->profile != ALCM_PROFILE_GRADIENT) return ALCM_E_ARG;
        for (uint32_t k = 1; k < p->n_segments; k++)
            if (p->segments[k] < p->segments[k - 1]) return ALCM_E_ARG;
    }
    switch (p->profile) {
    case ALCM_PROFILE_GRADIENT:
        if (p->dtype != ALCM_DTYPE_F32) return ALCM_E_DTYPE;
        if (p->entropy_mode != ALCM_ENTROPY_LEARNED && p->entropy_mode != ALCM_ENTROPY_MEASURED &&
            p->entropy_mode != ALCM_ENTROPY_FLAT)
            return ALCM_E_ARG;
        /* Written as negated comparisons so NaN is rejected too. */
        if (!(p->error_budget > 0.0 && p->error_budget <= 1.0)) return ALCM_E_ARG;
        if (!(p->aggressiveness >= 0.0 && p->aggressiveness <= 1.0)) return ALCM_E_ARG;
        if (!(p->prune_ratio >= 0.0 && p->prune_ratio <= 0.25)) return ALCM_E_ARG;
        if (p->block_size != 0 && p->block_size < 16) return ALCM_E_ARG;
        return ALCM_OK;
    case ALCM_PROFILE_LOSSLESS:
    case ALCM_PROFILE_BASELINE:
        return ALCM_OK;
    }
    return ALCM_E_ARG;
}
