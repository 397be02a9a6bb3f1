/* stream.c - one compression stream: scheduler, error-feedback residual and context. */
#include <stdlib.h>
#include <string.h>

#include "alcm.h"
#include "alcm_tools.h"
#include "ctx.h"
#include "stream_impl.h"


void alcm_stream_config_default(alcm_stream_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = (uint32_t)sizeof *cfg;
    alcm_params_default(&cfg->params, ALCM_PROFILE_GRADIENT);
    alcm_sched_config_default(&cfg->sched);
    cfg->error_feedback = 1;
    /* Static aggressiveness 1, no pruning: on the replayed grad_fmnist training run (400
     * steps, six layer streams with error feedback) it gives a higher ratio than the CAQ
     * scheduler at 1 % and 5 % and encodes about 2x faster (docs/DESIGN.md, "Ablation"). The
     * scheduler stays one flag away (adaptive = 1). */
    cfg->adaptive = 0;
}

alcm_status alcm_stream_config_check(const alcm_stream_config *cfg)
{
    if (!cfg || cfg->struct_size != sizeof *cfg) return ALCM_E_ARG;
    alcm_params probe = cfg->params;
    if (cfg->params.profile == ALCM_PROFILE_GRADIENT) probe.error_budget = cfg->sched.error_budget;
    alcm_status st = alcm_params_check(&probe);
    return st != ALCM_OK ? st : alcm_sched_config_check(&cfg->sched);
}

int alcm_stream_config_equal(const alcm_stream_config *a, const alcm_stream_config *b)
{
    const alcm_params *p = &a->params, *q = &b->params;
    const alcm_sched_config *s = &a->sched, *r = &b->sched;
    if (p->n_segments != q->n_segments ||
        (p->n_segments && memcmp(p->segments, q->segments,
                                 (size_t)p->n_segments * sizeof *p->segments) != 0))
        return 0;
    return p->profile == q->profile && p->dtype == q->dtype && p->backend == q->backend &&
           p->entropy_mode == q->entropy_mode && p->error_budget == q->error_budget &&
           p->aggressiveness == q->aggressiveness && p->prune_ratio == q->prune_ratio &&
           p->block_size == q->block_size && p->level == q->level &&
           s->error_budget == r->error_budget && s->window == r->window &&
           s->deterministic == r->deterministic && s->step_up == r->step_up &&
           s->back_off == r->back_off && s->prune_max == r->prune_max &&
           a->error_feedback == b->error_feedback && a->adaptive == b->adaptive;
}

alcm_status alcm_stream_create(const alcm_stream_config *cfg, alcm_stream **out)
{
    if (!out) return ALCM_E_ARG;
    *out = NULL;
    alcm_stream_config def;
    if (!cfg) {
        alcm_stream_config_default(&def);
        cfg = &def;
    }
    alcm_status st = alcm_stream_config_check(cfg);
    if (st != ALCM_OK) return st;

    alcm_stream *s = calloc(1, sizeof *s);
    if (!s) return ALCM_E_NOMEM;
    s->cfg = *cfg;
    if (cfg->params.n_segments) {
        s->segments = malloc((size_t)cfg->params.n_segments * sizeof(uint64_t));
        if (!s->segments) {
            free(s);
            return ALCM_E_NOMEM;
        }
        memcpy(s->segments, cfg->params.segments,
               (size_t)cfg->params.n_segments * sizeof(uint64_t));
        s->cfg.params.segments = s->segments;
    }
    st = alcm_sched_create(&cfg->sched, &s->sched);
    if (st == ALCM_OK && !(s->cctx = alcm_cctx_create())) st = ALCM_E_NOMEM;
    if (st != ALCM_OK) {
        alcm_stream_free(s);
        return st;
    }
    *out = s;
    return ALCM_OK;
}

void alcm_stream_free(alcm_stream *s)
{
    if (!s) return;
    alcm_sched_free(s->sched);
    alcm_cctx_free(s->cctx);
    free(s->residual);
    free(s->r_next);
    free(s->segments);
    free(s);
}

void alcm_stream_reset(alcm_stream *s)
{
    free(s->residual);
    free(s->r_next);
    s->residual = s->r_next = NULL;
    s->residual_n = 0;
    alcm_sched_reset(s->sched);
}

void alcm_stream_get_config(const alcm_stream *s, alcm_stream_config *cfg)
{
    *cfg = s->cfg;
}

void alcm_stream_get_state(const alcm_stream *s, alcm_sched_state *state)
{
    alcm_sched_get_state(s->sched, state);
}

size_t alcm_stream_memory(const alcm_stream *s)
{
    size_t buffers = s->r_next ? 2 : 1;
    return sizeof *s + buffers * (size_t)s->residual_n * sizeof(float) +
           alcm_cctx_memory(s->cctx) + 256 +
           (size_t)s->cfg.params.n_segments * sizeof(uint64_t);
}

/* Makes sure the residual holds n floats (a new element count starts from zero), and
 * r_next too: the step writes the new residual there instead of updating the residual in
 * a pass of its own (docs/DESIGN.md, "Error feedback"). Without memory for r_next the step
 * updates in place. */
static alcm_status ensure_residual(alcm_stream *s, uint64_t n)
{
    if (!s->residual || s->residual_n != n) {
        free(s->residual);
        free(s->r_next);
        s->residual = s->r_next = NULL;
        s->residual_n = 0;
        if (n == 0) return ALCM_OK;
        if (n > SIZE_MAX / sizeof(float)) return ALCM_E_NOMEM;
        s->residual = calloc((size_t)n, sizeof(float));
        if (!s->residual) return ALCM_E_NOMEM;
        s->residual_n = n;
    }
    if (!s->r_next) s->r_next = malloc((size_t)n * sizeof(float));
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
    float *next = residual ? s->r_next : NULL;
    alcm_status st = alcm_compress_next(s->cctx, &params, shape, src, src_bytes, residual, next,
                                        dst, dst_cap, dst_len, info);
    double cpu = alcm_thread_cpu_seconds() - t0;
    if (st != ALCM_OK) return st;
    if (next) { /* the new residual is in r_next */
        s->r_next = s->residual;
        s->residual = next;
    }

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
