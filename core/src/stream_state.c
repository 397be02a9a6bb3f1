/* stream_state.c - a stream's state as bytes and back (docs/STATE.md, "Stream state"):
 * configuration, scheduler and error-feedback residual, with a CRC32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alcm.h"
#include "alcm_tools.h"
#include "bytes.h"
#include "sched_state.h"
#include "stream_impl.h"

static const uint8_t k_state_magic[4] = {'A', 'L', 'S', 'T'};
#define STATE_VERSION 1
#define STATE_HEAD 16      /* magic, version, flags, total size */
#define STATE_CONFIG 96
#define STATE_CRC 4

size_t alcm_stream_export_size(const alcm_stream *s)
{
    if (!s) return 0;
    return STATE_HEAD + STATE_CONFIG + alcm_sched_state_bytes(s->sched) + 8 +
           (size_t)s->residual_n * 4 + STATE_CRC;
}

static void put_config(uint8_t *p, const alcm_stream_config *c)
{
    memset(p, 0, STATE_CONFIG);
    p[0] = (uint8_t)c->params.profile;
    p[1] = (uint8_t)c->params.dtype;
    p[2] = (uint8_t)c->params.backend;
    p[3] = (uint8_t)c->params.entropy_mode;
    p[4] = (uint8_t)(c->error_feedback != 0);
    p[5] = (uint8_t)(c->adaptive != 0);
    p[6] = (uint8_t)(c->sched.deterministic != 0);
    alcm_put_f64(p + 8, c->params.error_budget);
    alcm_put_f64(p + 16, c->params.aggressiveness);
    alcm_put_f64(p + 24, c->params.prune_ratio);
    alcm_put_u32(p + 32, c->params.block_size);
    alcm_put_u32(p + 36, (uint32_t)c->params.level);
    alcm_put_f64(p + 40, c->sched.error_budget);
    alcm_put_u32(p + 48, c->sched.window);
    alcm_put_f64(p + 56, c->sched.step_up);
    alcm_put_f64(p + 64, c->sched.back_off);
    alcm_put_f64(p + 72, c->sched.prune_max);
    /* 80 .. 95 reserved, zero */
}

static alcm_status get_config(const uint8_t *p, alcm_stream_config *c)
{
    alcm_stream_config_default(c);
    if (p[4] > 1 || p[5] > 1 || p[6] > 1 || p[7] != 0) return ALCM_E_CORRUPT;
    for (int i = 80; i < STATE_CONFIG; i++)
        if (p[i]) return ALCM_E_CORRUPT;
    c->params.profile = (alcm_profile)p[0];
    c->params.dtype = (alcm_dtype)p[1];
    c->params.backend = (alcm_backend)p[2];
    c->params.entropy_mode = (alcm_entropy_mode)p[3];
    c->error_feedback = p[4];
    c->adaptive = p[5];
    c->sched.deterministic = p[6];
    c->params.error_budget = alcm_get_f64(p + 8);
    c->params.aggressiveness = alcm_get_f64(p + 16);
    c->params.prune_ratio = alcm_get_f64(p + 24);
    c->params.block_size = alcm_get_u32(p + 32);
    c->params.level = (int)alcm_get_u32(p + 36);
    c->sched.error_budget = alcm_get_f64(p + 40);
    c->sched.window = alcm_get_u32(p + 48);
    c->sched.step_up = alcm_get_f64(p + 56);
    c->sched.back_off = alcm_get_f64(p + 64);
    c->sched.prune_max = alcm_get_f64(p + 72);
    return ALCM_OK;
}

alcm_status alcm_stream_export(const alcm_stream *s, void *dst, size_t cap, size_t *len)
{
    if (len) *len = 0;
    if (!s || !len || (!dst && cap)) return ALCM_E_ARG;
    /* The state file has no place for per-segment budgets (params.segments). */
    if (s->cfg.params.n_segments) return ALCM_E_ARG;
    size_t need = alcm_stream_export_size(s);
    if (cap < need) return ALCM_E_DST_TOO_SMALL;
    uint8_t *p = dst;
    memcpy(p, k_state_magic, 4);
    alcm_put_u16(p + 4, STATE_VERSION);
    alcm_put_u16(p + 6, 0);
    alcm_put_u64(p + 8, need);
    size_t at = STATE_HEAD;
    put_config(p + at, &s->cfg);
    at += STATE_CONFIG;
    alcm_sched_state_write(s->sched, p + at);
    at += alcm_sched_state_bytes(s->sched);
    alcm_put_u64(p + at, s->residual_n);
    at += 8;
    for (uint64_t i = 0; i < s->residual_n; i++, at += 4) {
        uint32_t bits;
        memcpy(&bits, &s->residual[i], 4);
        alcm_put_u32(p + at, bits);
    }
    alcm_put_u32(p + at, alcm_crc32(p, at));
    *len = need;
    return ALCM_OK;
}

alcm_status alcm_stream_import(const void *src, size_t len, alcm_stream **out)
{
    if (!out) return ALCM_E_ARG;
    *out = NULL;
    if (!src && len) return ALCM_E_ARG;
    const uint8_t *p = src;
    size_t m = len < 4 ? len : 4;
    if (m && memcmp(p, k_state_magic, m) != 0) return ALCM_E_MAGIC;
    if (len < STATE_HEAD + STATE_CONFIG + 8 + STATE_CRC) return ALCM_E_TRUNCATED;
    if (alcm_get_u16(p + 4) != STATE_VERSION) return ALCM_E_VERSION;
    uint64_t total = alcm_get_u64(p + 8);
    if (total > len) return ALCM_E_TRUNCATED;
    if (total != len || alcm_get_u16(p + 6) != 0) return ALCM_E_CORRUPT;
    if (alcm_crc32(p, len - STATE_CRC) != alcm_get_u32(p + len - STATE_CRC))
        return ALCM_E_CHECKSUM;
    alcm_stream_config cfg;
    alcm_status st = get_config(p + STATE_HEAD, &cfg);
    if (st != ALCM_OK) return st;
    alcm_stream *s;
    st = alcm_stream_create(&cfg, &s);
    if (st == ALCM_E_ARG || st == ALCM_E_DTYPE) return ALCM_E_CORRUPT;  /* a bad config */
    if (st != ALCM_OK) return st;
    size_t at = STATE_HEAD + STATE_CONFIG, used = 0, end = len - STATE_CRC;
    st = alcm_sched_state_read(s->sched, p + at, end - at, &used);
    at += used;
    if (st == ALCM_OK && end - at < 8) st = ALCM_E_CORRUPT;
    if (st == ALCM_OK) {
        uint64_t n = alcm_get_u64(p + at);
        at += 8;
        /* The count must match the bytes present exactly; never trusted beyond them. */
        if (n > (end - at) / 4 || n * 4 != end - at) st = ALCM_E_CORRUPT;
        else if (n && !(s->cfg.error_feedback && cfg.params.profile == ALCM_PROFILE_GRADIENT))
            st = ALCM_E_CORRUPT;
        else if (n && !(s->residual = malloc((size_t)n * sizeof(float))))
            st = ALCM_E_NOMEM;
        for (uint64_t i = 0; st == ALCM_OK && i < n; i++, at += 4) {
            uint32_t bits = alcm_get_u32(p + at);
            memcpy(&s->residual[i], &bits, 4);
            if (!isfinite(s->residual[i])) st = ALCM_E_CORRUPT;
        }
        if (st == ALCM_OK) s->residual_n = n;
    }
    if (st != ALCM_OK) {
        alcm_stream_free(s);
        return st;
    }
    *out = s;
    return ALCM_OK;
}
