/* sched.c - the per-stream CAQ feedback loop that moves aggressiveness and pruning. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alcm.h"
#include "bytes.h"
#include "sched_state.h"

#define SCHED_MAX_WINDOW 64
/* Initial knobs: half the distance between "half the budget" and "all of it", no pruning. */
#define SCHED_START_AGGRESSIVENESS 0.6
/* Pruning moves in quarter steps of the aggressiveness notch. */
#define SCHED_PRUNE_NOTCH_SHARE 0.25
/* A CAQ slope smaller than this share of the window mean, per step, counts as flat. */
#define SCHED_FLAT_TOLERANCE 0.002
/* A slope counts as a trend only beyond this many standard errors (t statistic). */
#define SCHED_SIGNIFICANCE 3.0
/* Cost model (deterministic mode): nominal single-core encode throughput, bytes/second. */
#define SCHED_MODEL_BYTES_PER_SECOND 400e6

struct alcm_sched {
    alcm_sched_config cfg;
    alcm_sched_state st;
    double caq[SCHED_MAX_WINDOW];   /* ring of the last cfg.window CAQ values */
    uint32_t n_caq;                 /* values in the ring (<= window) */
    uint32_t head;                  /* next slot to write */
    uint32_t cooldown;              /* steps left to hold after a back-off */
};

double alcm_caq(double ratio, double cpu_seconds)
{
    if (!(cpu_seconds >= 0.0)) cpu_seconds = 0.0;
    return ratio / (cpu_seconds + 1.0);
}

void alcm_sched_config_default(alcm_sched_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->error_budget = 0.01;
    cfg->window = 5;
    cfg->deterministic = 0;
    cfg->step_up = 0.1;
    cfg->back_off = 0.2;
    cfg->prune_max = 0.25;
}

static int config_ok(const alcm_sched_config *c)
{
    return c->error_budget > 0.0 && c->error_budget <= 1.0 && c->window >= 2 &&
           c->window <= SCHED_MAX_WINDOW && c->step_up > 0.0 && c->step_up <= 1.0 &&
           c->back_off > 0.0 && c->back_off <= 1.0 && c->prune_max >= 0.0 &&
           c->prune_max <= 0.25;
}

alcm_sched *alcm_sched_create(const alcm_sched_config *cfg)
{
    alcm_sched_config def;
    if (!cfg) {
        alcm_sched_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg)) return NULL;
    alcm_sched *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = *cfg;
    alcm_sched_reset(s);
    return s;
}

void alcm_sched_free(alcm_sched *sched)
{
    free(sched);
}

void alcm_sched_reset(alcm_sched *s)
{
    memset(&s->st, 0, sizeof s->st);
    memset(s->caq, 0, sizeof s->caq);
    s->n_caq = 0;
    s->head = 0;
    s->cooldown = 0;
    s->st.aggressiveness = SCHED_START_AGGRESSIVENESS;
    s->st.prune_ratio = 0.0;
}

void alcm_sched_apply(const alcm_sched *s, alcm_params *params)
{
    params->aggressiveness = s->st.aggressiveness;
    params->prune_ratio = s->st.prune_ratio;
    params->error_budget = s->cfg.error_budget;
}

double alcm_sched_model_seconds(const alcm_info *info)
{
    return (double)info->raw_bytes / SCHED_MODEL_BYTES_PER_SECOND;
}

/* Least-squares slope of the ring's values in time order, its standard error (0 when it
 * cannot be estimated: fewer than 3 points) and the values' mean. */
static double window_slope(const alcm_sched *s, double *se_out, double *mean_out)
{
    uint32_t n = s->n_caq, w = s->cfg.window;
    uint32_t first = (s->head + w - n) % w;
    double sx = 0, sy = 0;
    for (uint32_t i = 0; i < n; i++) {
        sx += (double)i;
        sy += s->caq[(first + i) % w];
    }
    double mx = n ? sx / n : 0, my = n ? sy / n : 0;
    double sxx = 0, sxy = 0;
    for (uint32_t i = 0; i < n; i++) {
        double dx = (double)i - mx, dy = s->caq[(first + i) % w] - my;
        sxx += dx * dx;
        sxy += dx * dy;
    }
    double slope = sxx > 0 ? sxy / sxx : 0.0;
    double sse = 0;
    for (uint32_t i = 0; i < n; i++) {
        double r = s->caq[(first + i) % w] - my - slope * ((double)i - mx);
        sse += r * r;
    }
    *se_out = (n > 2 && sxx > 0) ? sqrt(sse / (double)(n - 2) / sxx) : 0.0;
    *mean_out = my;
    return slope;
}

/* Clamps to [lo, hi], snapping values within 1e-9 of a bound onto it, so sums of notches
 * such as 0.6 + 4 x 0.1 reach the bound exactly. */
static double clamp(double v, double lo, double hi)
{
    if (v < lo + 1e-9) return lo;
    if (v > hi - 1e-9) return hi;
    return v;
}

/* Up the ladder: quantisation aggressiveness first, then pruning. */
static void push_up(alcm_sched *s)
{
    alcm_sched_state *st = &s->st;
    if (st->aggressiveness < 1.0)
        st->aggressiveness = clamp(st->aggressiveness + s->cfg.step_up, 0.0, 1.0);
    else
        st->prune_ratio = clamp(st->prune_ratio + s->cfg.step_up * SCHED_PRUNE_NOTCH_SHARE, 0.0,
                                s->cfg.prune_max);
}

/* Down the ladder: pruning first, then quantisation aggressiveness. */
static void back_off(alcm_sched *s)
{
    alcm_sched_state *st = &s->st;
    if (st->prune_ratio > 0.0)
        st->prune_ratio = clamp(st->prune_ratio - s->cfg.back_off * SCHED_PRUNE_NOTCH_SHARE, 0.0,
                                s->cfg.prune_max);
    else
        st->aggressiveness = clamp(st->aggressiveness - s->cfg.back_off, 0.0, 1.0);
}

/* Backs off, records the action and starts a cooldown of one window. */
static void do_back_off(alcm_sched *s)
{
    back_off(s);
    s->st.last_action = -1;
    s->cooldown = s->cfg.window;
}

void alcm_sched_record(alcm_sched *s, const alcm_info *info, double cpu_seconds)
{
    alcm_sched_state *st = &s->st;
    double cpu = s->cfg.deterministic ? alcm_sched_model_seconds(info) : cpu_seconds;
    if (!(cpu >= 0.0)) cpu = 0.0;
    double caq = alcm_caq(info->ratio, cpu);

    st->steps++;
    st->last_ratio = info->ratio;
    st->last_cpu_seconds = cpu;
    st->last_caq = caq;
    st->last_rel_l2_error = info->rel_l2_error;

    s->caq[s->head] = caq;
    s->head = (s->head + 1) % s->cfg.window;
    if (s->n_caq < s->cfg.window) s->n_caq++;

    double mean, se;
    st->window_trend = window_slope(s, &se, &mean);

    /* The encoder honours the budget itself; a gradient step that had to fall back to
     * lossless storage says the knobs are past what quantisation could do: back off. */
    if (info->exact && info->raw_bytes > 0) {
        do_back_off(s);
        return;
    }
    /* A fall counts when the slope is below zero by more than SCHED_SIGNIFICANCE standard
     * errors and more than the flat tolerance: tensors differ from step to step, and that
     * noise alone must not move the knobs. */
    double tol = SCHED_FLAT_TOLERANCE * (mean > 0.0 ? mean : 0.0);
    int measurable = s->n_caq >= 3;   /* a standard error needs three points */
    int falling = measurable && st->window_trend < -tol &&
                  st->window_trend < -SCHED_SIGNIFICANCE * se;
    int rising = measurable && st->window_trend > tol &&
                 st->window_trend > SCHED_SIGNIFICANCE * se;
    if (falling) {
        do_back_off(s);
    } else if (s->cooldown > 0) {
        /* A back-off or a probe is being measured: hold until a full window has seen it. */
        s->cooldown--;
        st->last_action = 0;
    } else if (rising || s->n_caq < s->cfg.window) {
        /* Improving, or still filling the first window: keep climbing. */
        push_up(s);
        st->last_action = +1;
    } else {
        /* Flat over a full window: probe one notch up and measure it for a window; if CAQ
         * then falls, the probe is undone. */
        push_up(s);
        st->last_action = +1;
        s->cooldown = s->cfg.window - 1;
    }
}

void alcm_sched_get_state(const alcm_sched *s, alcm_sched_state *state)
{
    *state = s->st;
}

/* ------------------------------------------------------------------------------------------
 * Export / import of the full state (docs/FORMAT.md, "Stream state")
 * ---------------------------------------------------------------------------------------- */
#define SCHED_STATE_FIXED 88

size_t alcm_sched_state_bytes(const alcm_sched *s)
{
    return SCHED_STATE_FIXED + 8 * (size_t)s->cfg.window;
}

void alcm_sched_state_write(const alcm_sched *s, uint8_t *p)
{
    const alcm_sched_state *st = &s->st;
    alcm_put_u32(p + 0, s->cfg.window);
    alcm_put_u32(p + 4, s->n_caq);
    alcm_put_u32(p + 8, s->head);
    alcm_put_u32(p + 12, s->cooldown);
    alcm_put_u32(p + 16, (uint32_t)(int32_t)st->last_action);
    alcm_put_u32(p + 20, 0);
    alcm_put_u64(p + 24, st->steps);
    const double f[7] = {st->aggressiveness, st->prune_ratio,     st->last_ratio,
                         st->last_cpu_seconds, st->last_caq, st->last_rel_l2_error,
                         st->window_trend};
    for (int i = 0; i < 7; i++) alcm_put_f64(p + 32 + 8 * i, f[i]);
    for (uint32_t i = 0; i < s->cfg.window; i++) alcm_put_f64(p + SCHED_STATE_FIXED + 8 * i, s->caq[i]);
}

uint32_t alcm_sched_state_window(const uint8_t *p)
{
    return alcm_get_u32(p);
}

alcm_status alcm_sched_state_read(alcm_sched *s, const uint8_t *p, size_t avail)
{
    if (avail < SCHED_STATE_FIXED) return ALCM_E_TRUNCATED;
    uint32_t w = alcm_get_u32(p);
    if (w < 2 || w > SCHED_MAX_WINDOW) return ALCM_E_CORRUPT;
    if (w != s->cfg.window) return ALCM_E_ARG;
    if (avail < SCHED_STATE_FIXED + 8 * (size_t)w) return ALCM_E_TRUNCATED;
    uint32_t n = alcm_get_u32(p + 4), head = alcm_get_u32(p + 8), cool = alcm_get_u32(p + 12);
    int32_t action = (int32_t)alcm_get_u32(p + 16);
    if (n > w || head >= w || cool > w || action < -1 || action > 1 || alcm_get_u32(p + 20))
        return ALCM_E_CORRUPT;
    double f[7];
    for (int i = 0; i < 7; i++) {
        f[i] = alcm_get_f64(p + 32 + 8 * i);
        if (!isfinite(f[i])) return ALCM_E_CORRUPT;
    }
    if (f[0] < 0.0 || f[0] > 1.0 || f[1] < 0.0 || f[1] > 0.25) return ALCM_E_CORRUPT;
    double caq[SCHED_MAX_WINDOW];
    for (uint32_t i = 0; i < w; i++) {
        caq[i] = alcm_get_f64(p + SCHED_STATE_FIXED + 8 * i);
        if (!isfinite(caq[i])) return ALCM_E_CORRUPT;
    }
    alcm_sched_state *st = &s->st;
    st->steps = alcm_get_u64(p + 24);
    st->aggressiveness = f[0];
    st->prune_ratio = f[1];
    st->last_ratio = f[2];
    st->last_cpu_seconds = f[3];
    st->last_caq = f[4];
    st->last_rel_l2_error = f[5];
    st->window_trend = f[6];
    st->last_action = action;
    memset(s->caq, 0, sizeof s->caq);
    memcpy(s->caq, caq, sizeof caq[0] * w);
    s->n_caq = n;
    s->head = head;
    s->cooldown = cool;
    return ALCM_OK;
}
