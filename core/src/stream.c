/* stream.c - one compression stream: scheduler, error-feedback residual and context. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "alcm.h"
#include "alcm_tools.h"
#include "bytes.h"
#include "sched_state.h"

struct alcm_stream {
    alcm_stream_config cfg;
    alcm_sched *sched;
    alcm_cctx *cctx;
    float *residual;        /* numel floats when error feedback is on, else NULL */
    uint64_t residual_n;
};

void alcm_stream_config_default(alcm_stream_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    alcm_params_default(&cfg->params, ALCM_PROFILE_GRADIENT);
    alcm_sched_config_default(&cfg->sched);
    cfg->error_feedback = 1;
    cfg->adaptive = 1;
}

alcm_stream *alcm_stream_create(const alcm_stream_config *cfg)
{
    alcm_stream_config def;
    if (!cfg) {
        alcm_stream_config_default(&def);
        cfg = &def;
    }
    alcm_params probe = cfg->params;
    if (cfg->params.profile == ALCM_PROFILE_GRADIENT) probe.error_budget = cfg->sched.error_budget;
    if (alcm_params_check(&probe) != ALCM_OK) return NULL;

    alcm_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = *cfg;
    s->sched = alcm_sched_create(&cfg->sched);
    s->cctx = alcm_cctx_create();
    if (!s->sched || !s->cctx) {
        alcm_stream_free(s);
        return NULL;
    }
    return s;
}

void alcm_stream_free(alcm_stream *s)
{
    if (!s) return;
    alcm_sched_free(s->sched);
    alcm_cctx_free(s->cctx);
    free(s->residual);
    free(s);
}

void alcm_stream_reset(alcm_stream *s)
{
    free(s->residual);
    s->residual = NULL;
    s->residual_n = 0;
    alcm_sched_reset(s->sched);
}

void alcm_stream_get_state(const alcm_stream *s, alcm_sched_state *state)
{
    alcm_sched_get_state(s->sched, state);
}

size_t alcm_stream_memory(const alcm_stream *s)
{
    return sizeof *s + (size_t)s->residual_n * sizeof(float) + alcm_cctx_memory(s->cctx) + 256;
}

/* Makes sure the residual holds n floats; a new element count starts from zero. */
static alcm_status ensure_residual(alcm_stream *s, uint64_t n)
{
    if (s->residual && s->residual_n == n) return ALCM_OK;
    free(s->residual);
    s->residual = NULL;
    s->residual_n = 0;
    if (n == 0) return ALCM_OK;
    if (n > SIZE_MAX / sizeof(float)) return ALCM_E_NOMEM;
    s->residual = calloc((size_t)n, sizeof(float));
    if (!s->residual) return ALCM_E_NOMEM;
    s->residual_n = n;
    return ALCM_OK;
}

alcm_status alcm_stream_compress(alcm_stream *s, const alcm_shape *shape, const void *src,
                                 size_t src_bytes, void *dst, size_t dst_cap, size_t *dst_len,
                                 alcm_info *info, double *cpu_seconds)
{
    if (!s || !shape || !dst_len) return ALCM_E_ARG;
    alcm_params params = s->cfg.params;
    const int gradient = params.profile == ALCM_PROFILE_GRADIENT;
    if (gradient) {
        params.error_budget = s->cfg.sched.error_budget;
        if (s->cfg.adaptive) alcm_sched_apply(s->sched, &params);
    }

    float *residual = NULL;
    if (gradient && s->cfg.error_feedback) {
        uint64_t numel;
        alcm_status st = alcm_shape_numel(shape, &numel);
        if (st != ALCM_OK) return st;
        if (numel * sizeof(float) != src_bytes) return ALCM_E_SHAPE;
        st = ensure_residual(s, numel);
        if (st != ALCM_OK) return st;
        residual = s->residual;
    }

    alcm_info local;
    if (!info) info = &local;
    double t0 = alcm_thread_cpu_seconds();
    alcm_status st = alcm_compress(s->cctx, &params, shape, src, src_bytes, residual, dst,
                                   dst_cap, dst_len, info);
    double cpu = alcm_thread_cpu_seconds() - t0;
    if (st != ALCM_OK) return st;

    if (gradient && s->cfg.adaptive) alcm_sched_record(s->sched, info, cpu);
    if (cpu_seconds) {
        alcm_sched_state state;
        alcm_sched_get_state(s->sched, &state);
        *cpu_seconds = (gradient && s->cfg.adaptive) ? state.last_cpu_seconds
                       : s->cfg.sched.deterministic ? alcm_sched_model_seconds(info)
                                                    : cpu;
    }
    return ALCM_OK;
}

/* ------------------------------------------------------------------------------------------
 * State export / import (docs/FORMAT.md, "Stream state")
 * ---------------------------------------------------------------------------------------- */
#define STATE_MAGIC "ALSS"
#define STATE_VERSION 1u
#define STATE_PREFIX 8   /* magic + version */

size_t alcm_stream_state_size(const alcm_stream *s)
{
    return STATE_PREFIX + alcm_sched_state_bytes(s->sched) + 8 +
           (size_t)s->residual_n * sizeof(float) + 4;
}

alcm_status alcm_stream_state_export(const alcm_stream *s, void *dst, size_t dst_cap,
                                     size_t *dst_len)
{
    if (!s || !dst || !dst_len) return ALCM_E_ARG;
    size_t need = alcm_stream_state_size(s);
    if (dst_cap < need) return ALCM_E_DST_TOO_SMALL;
    uint8_t *p = dst;
    memcpy(p, STATE_MAGIC, 4);
    alcm_put_u32(p + 4, STATE_VERSION);
    size_t off = STATE_PREFIX;
    alcm_sched_state_write(s->sched, p + off);
    off += alcm_sched_state_bytes(s->sched);
    alcm_put_u64(p + off, s->residual_n);
    off += 8;
    for (uint64_t i = 0; i < s->residual_n; i++) {
        uint32_t v;
        memcpy(&v, &s->residual[i], sizeof v);
        alcm_put_u32(p + off + 4 * i, v);
    }
    off += (size_t)s->residual_n * 4;
    alcm_put_u32(p + off, (uint32_t)crc32_z(0L, p, off));
    *dst_len = off + 4;
    return ALCM_OK;
}

alcm_status alcm_stream_state_import(alcm_stream *s, const void *src, size_t len)
{
    if (!s || (!src && len)) return ALCM_E_ARG;
    const uint8_t *p = src;
    const size_t min = STATE_PREFIX + 88 + 8 * 2 + 8 + 4;
    if (len < STATE_PREFIX + 4) return ALCM_E_TRUNCATED;
    if (memcmp(p, STATE_MAGIC, 4) != 0) return ALCM_E_MAGIC;
    if (alcm_get_u32(p + 4) != STATE_VERSION) return ALCM_E_VERSION;
    if (len < min) return ALCM_E_TRUNCATED;
    uint32_t w = alcm_sched_state_window(p + STATE_PREFIX);
    if (w < 2 || w > 64) return ALCM_E_CORRUPT;
    size_t sched_bytes = 88 + 8 * (size_t)w;
    size_t roff = STATE_PREFIX + sched_bytes;
    if (len < roff + 8 + 4) return ALCM_E_TRUNCATED;
    uint64_t n = alcm_get_u64(p + roff);
    if (n >= ((uint64_t)1 << 61)) return ALCM_E_CORRUPT;
    uint64_t body = (uint64_t)(len - roff - 8 - 4);
    if (body / 4 < n) return ALCM_E_TRUNCATED;
    if (body != n * 4) return ALCM_E_CORRUPT;
    if (alcm_get_u32(p + len - 4) != (uint32_t)crc32_z(0L, p, len - 4)) return ALCM_E_CHECKSUM;

    /* Validate the scheduler part on a scratch copy, so a bad state changes nothing. */
    alcm_sched *probe = alcm_sched_create(&s->cfg.sched);
    if (!probe) return ALCM_E_NOMEM;
    alcm_status st = alcm_sched_state_read(probe, p + STATE_PREFIX, sched_bytes);
    alcm_sched_free(probe);
    if (st != ALCM_OK) return st;

    float *res = NULL;
    if (n > 0) {
        if (n > SIZE_MAX / sizeof(float)) return ALCM_E_NOMEM;
        res = malloc((size_t)n * sizeof(float));
        if (!res) return ALCM_E_NOMEM;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t v = alcm_get_u32(p + roff + 8 + 4 * i);
            memcpy(&res[i], &v, sizeof v);
        }
    }
    st = alcm_sched_state_read(s->sched, p + STATE_PREFIX, sched_bytes);
    if (st != ALCM_OK) {   /* cannot happen: the probe accepted the same bytes */
        free(res);
        return ALCM_E_INTERNAL;
    }
    free(s->residual);
    s->residual = res;
    s->residual_n = n;
    return ALCM_OK;
}
