/* exchange.c - the allreduce cost model and the per-size-class path planner. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_exchange.h"

static const char *const path_names[ALCM_PATH_COUNT] = {"plain", "allgather", "rsag"};

const char *alcm_path_name(alcm_path path)
{
    return (unsigned)path < ALCM_PATH_COUNT ? path_names[path] : "?";
}

alcm_status alcm_path_parse(const char *name, alcm_path *path)
{
    if (!name || !path) return ALCM_E_ARG;
    for (unsigned i = 0; i < ALCM_PATH_COUNT; i++) {
        if (!strcmp(name, path_names[i])) {
            *path = (alcm_path)i;
            return ALCM_OK;
        }
    }
    return ALCM_E_ARG;
}

/* ------------------------------------------------------------------------------------------
 * Cost model
 * ---------------------------------------------------------------------------------------- */
static int figures_ok(const alcm_exchange_figures *f)
{
    return f && f->ranks >= 2 && f->link_bytes_per_s > 0 && isfinite(f->link_bytes_per_s) &&
           f->latency_s >= 0 && isfinite(f->latency_s) && f->encode_bytes_per_s > 0 &&
           isfinite(f->encode_bytes_per_s) && f->decode_bytes_per_s > 0 &&
           isfinite(f->decode_bytes_per_s) && f->ratio >= 1 && isfinite(f->ratio) &&
           f->overlap >= 0 && f->overlap <= 1;
}

double alcm_exchange_predict(alcm_path path, uint64_t raw_bytes,
                             const alcm_exchange_figures *f)
{
    if (!figures_ok(f) || (unsigned)path >= ALCM_PATH_COUNT) return -1.0;
    const double n = (double)raw_bytes, p = (double)f->ranks, B = f->link_bytes_per_s;
    const double a = f->latency_s, E = f->encode_bytes_per_s, D = f->decode_bytes_per_s;
    const double R = f->ratio;
    double codec, net;
    switch (path) {
    case ALCM_PATH_PLAIN:
        return 2.0 * (p - 1.0) / p * n / B + 2.0 * (p - 1.0) * a;
    case ALCM_PATH_ALLGATHER:
        codec = n / E + p * n / D;
        net = (p - 1.0) * n / (R * B) + (p - 1.0) * a + a * log2(p);
        break;
    default: /* ALCM_PATH_RSAG */
        codec = (1.0 + 1.0 / p) * n / E + 2.0 * n / D;
        net = 2.0 * (p - 1.0) / p * n / (R * B) + 2.0 * (p - 1.0) * a + a;
        break;
    }
    return codec + net - f->overlap * (codec < net ? codec : net);
}

/* ------------------------------------------------------------------------------------------
 * Planner
 * ---------------------------------------------------------------------------------------- */
#define N_CLASSES 64
#define PLANNER_MAX_WINDOW 15

typedef struct {
    uint64_t calls;
    uint32_t seen[ALCM_PATH_COUNT];       /* timed calls recorded, the discarded first too */
    uint32_t samples[ALCM_PATH_COUNT];    /* timed calls in the average */
    double spb[ALCM_PATH_COUNT];          /* seconds per raw byte: median of the ring */
    double ring[ALCM_PATH_COUNT][PLANNER_MAX_WINDOW]; /* the last timed figures */
    uint64_t timed_at[ALCM_PATH_COUNT];   /* calls value when last timed */
    uint32_t floor_samples[ALCM_PATH_COUNT];
    double floor_spb[ALCM_PATH_COUNT];    /* seconds per byte no link removes: median */
    double floor_ring[ALCM_PATH_COUNT][PLANNER_MAX_WINDOW];
    uint32_t backoff[ALCM_PATH_COUNT];    /* re-probes in a row that lost to plain, <= 4 */
    double plain_at[ALCM_PATH_COUNT];     /* plain's figure when the path was last timed */
    alcm_path last;
} size_class;

struct alcm_planner {
    alcm_planner_config cfg;
    size_class cls[N_CLASSES];
};

void alcm_planner_config_default(alcm_planner_config *cfg)
{
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = (uint32_t)sizeof *cfg;
    cfg->warmup = 3;
    cfg->measure_period = 32;
    cfg->reprobe_period = 128;
    cfg->window = 5;
    cfg->margin = 0.20;
    cfg->scale_margin = 0.15;
}

alcm_status alcm_planner_config_check(const alcm_planner_config *cfg)
{
    if (!cfg || cfg->struct_size != sizeof *cfg) return ALCM_E_ARG;
    if (cfg->warmup < 1 || cfg->warmup > 64 || cfg->measure_period < 1) return ALCM_E_ARG;
    if (cfg->window < 1 || cfg->window > PLANNER_MAX_WINDOW) return ALCM_E_ARG;
    if (!(cfg->margin >= 0.0 && cfg->margin <= 0.5)) return ALCM_E_ARG;
    if (!(cfg->scale_margin >= 0.0 && cfg->scale_margin <= 0.5)) return ALCM_E_ARG;
    return ALCM_OK;
}

alcm_status alcm_planner_create(const alcm_planner_config *cfg, alcm_planner **out)
{
    if (!out) return ALCM_E_ARG;
    *out = NULL;
    alcm_planner_config def;
    if (!cfg) {
        alcm_planner_config_default(&def);
        cfg = &def;
    }
    if (alcm_planner_config_check(cfg) != ALCM_OK) return ALCM_E_ARG;
    alcm_planner *pl = calloc(1, sizeof *pl);
    if (!pl) return ALCM_E_NOMEM;
    pl->cfg = *cfg;
    *out = pl;
    return ALCM_OK;
}

void alcm_planner_free(alcm_planner *planner)
{
    free(planner);
}

static unsigned class_of(uint64_t raw_bytes)
{
    unsigned k = 0;
    while (k + 1 < N_CLASSES && (raw_bytes >> (k + 1)) != 0) k++;
    return k;
}

/* Warm-up order: plain first (exact, and the reference), then the scalable compressed
 * path, then the allgather one. */
static const alcm_path probe_order[ALCM_PATH_COUNT] = {ALCM_PATH_PLAIN, ALCM_PATH_RSAG,
                                                       ALCM_PATH_ALLGATHER};

/* Whether compressed path p cannot be chosen over plain however fast the link: the part of
 * its calls that no link removes (codec and program time, its floor) already misses the
 * margin by which it must beat plain's whole call. */
static int cannot_win(const alcm_planner_config *cfg, const size_class *c, unsigned allowed,
                      alcm_path p)
{
    return p != ALCM_PATH_PLAIN && (allowed & (1u << ALCM_PATH_PLAIN)) &&
           c->samples[ALCM_PATH_PLAIN] && c->floor_samples[p] &&
           c->floor_spb[p] >= c->spb[ALCM_PATH_PLAIN] * (1.0 - cfg->margin);
}

alcm_path alcm_planner_choose(alcm_planner *planner, uint64_t raw_bytes, unsigned allowed,
                              int *measure)
{
    int m = 0;
    alcm_path path = ALCM_PATH_PLAIN;
    allowed &= ALCM_PATH_MASK_ALL;
    if (!planner || !allowed) goto done;
    size_class *c = &planner->cls[class_of(raw_bytes)];
    const alcm_planner_config *cfg = &planner->cfg;
    c->calls++;
    if ((allowed & (allowed - 1)) == 0) { /* one path allowed: nothing to decide */
        path = (alcm_path)__builtin_ctz(allowed);
        goto chosen;
    }
    for (unsigned i = 0; i < ALCM_PATH_COUNT; i++) {
        alcm_path p = probe_order[i];
        if ((allowed & (1u << p)) && c->seen[p] < cfg->warmup &&
            !cannot_win(cfg, c, allowed, p)) {
            path = p;
            m = 1;
            goto chosen;
        }
    }
    /* Every allowed path is measured: the fastest per byte, plain on near ties. */
    int best = -1;
    for (unsigned p = 0; p < ALCM_PATH_COUNT; p++) {
        if (!(allowed & (1u << p)) || c->samples[p] == 0) continue;
        if (best < 0 || c->spb[p] < c->spb[best]) best = (int)p;
    }
    if (best < 0) best = ALCM_PATH_PLAIN;
    if (best == ALCM_PATH_ALLGATHER && (allowed & (1u << ALCM_PATH_RSAG)) &&
        c->samples[ALCM_PATH_RSAG] &&
        c->spb[ALCM_PATH_ALLGATHER] > c->spb[ALCM_PATH_RSAG] * (1.0 - cfg->scale_margin))
        best = ALCM_PATH_RSAG;
    if (best != ALCM_PATH_PLAIN && (allowed & 1u) && c->samples[ALCM_PATH_PLAIN] &&
        c->spb[best] > c->spb[ALCM_PATH_PLAIN] * (1.0 - cfg->margin))
        best = ALCM_PATH_PLAIN;
    path = (alcm_path)best;
    m = c->calls % cfg->measure_period == 0;
    if (cfg->reprobe_period) {
        /* Re-time the other paths now and then, so a changed link (or a noisy first
         * figure) is seen: a path x times slower than the best is due every
         * reprobe_period * x^2 / 4 calls, within [1, 16] periods. A probe costs x - 1
         * calls' worth, so probing costs 4 (x - 1) / (N x^2) of the time: at most 1/N per
         * path, at x = 2 (0.8 % at the default N = 128). Paths that tie are not re-timed
         * more often than every N calls: at 10 Gbit/s on 4 ranks, where the three paths
         * tie, probes every N/4 calls left the job 3 % slower than plain and probes every
         * N calls about 1 % (medians of 8-16 alternating pairs, docs/MPI.md). A path that
         * cannot win (its floor, below) waits 16 N calls. */
        double most = 0.0;
        int due = -1;
        for (unsigned p = 0; p < ALCM_PATH_COUNT; p++) {
            if (!(allowed & (1u << p)) || (int)p == best) continue;
            double x = c->spb[best] > 0 ? c->spb[p] / c->spb[best] : 1.0;
            double lo = cfg->reprobe_period, hi = cfg->reprobe_period * 16.0;
            double every = cfg->reprobe_period * x * x / 4.0;
            every = every < lo ? lo : every > hi ? hi : every;
            /* A path whose floor rules it out is re-timed at the longest interval: only a
             * slower plain figure (timed every measure_period calls) can bring it back. */
            if (cannot_win(cfg, c, allowed, (alcm_path)p)) every = hi;
            /* A compressed path whose re-probes keep losing to plain by the margin waits
             * twice as long after each (up to 16 periods), unless plain's own figure has
             * grown by the margin since: only a slower link can bring it back. */
            if (c->backoff[p] &&
                !(c->spb[ALCM_PATH_PLAIN] > c->plain_at[p] * (1.0 + cfg->margin))) {
                every *= (double)(1u << c->backoff[p]);
                every = every > hi ? hi : every;
            }
            double late = (double)(c->calls - c->timed_at[p]) / every;
            if (late >= 1.0 && late > most) {
                most = late;
                due = (int)p;
            }
        }
        if (due >= 0) {
            path = (alcm_path)due;
            m = 1;
        }
    }
chosen:
    c->last = path;
done:
    if (measure) *measure = m;
    return path;
}

/* Adds v to a ring of the last w figures (count *n) and returns the median of the ring. */
static double ring_median(double *ring, uint32_t *n, uint32_t w, double v)
{
    ring[*n % w] = v;
    if (*n < UINT32_MAX) (*n)++;
    uint32_t k = *n < w ? *n : w;
    double sorted[PLANNER_MAX_WINDOW];
    for (uint32_t i = 0; i < k; i++) { /* insertion sort of at most 15 values */
        double x = ring[i];
        uint32_t j = i;
        for (; j > 0 && sorted[j - 1] > x; j--) sorted[j] = sorted[j - 1];
        sorted[j] = x;
    }
    return k % 2 ? sorted[k / 2] : 0.5 * (sorted[k / 2 - 1] + sorted[k / 2]);
}

void alcm_planner_record(alcm_planner *planner, alcm_path path, uint64_t raw_bytes,
                         double seconds)
{
    if (!planner || (unsigned)path >= ALCM_PATH_COUNT || raw_bytes == 0) return;
    if (!(seconds >= 0.0) || !isfinite(seconds)) return;
    size_class *c = &planner->cls[class_of(raw_bytes)];
    c->timed_at[path] = c->calls;
    if (c->seen[path] < UINT32_MAX) c->seen[path]++;
    /* The first timed call of a path pays its set-up (allocation, stream creation). */
    if (c->seen[path] == 1 && planner->cfg.warmup > 1) return;
    /* The median of the last `window` figures: a rank that was descheduled, or a burst of
     * other traffic, makes one call slow, never fast, and must not move the choice. */
    const double v = seconds / (double)raw_bytes;
    if (path != ALCM_PATH_PLAIN && c->samples[ALCM_PATH_PLAIN] &&
        c->seen[path] > planner->cfg.warmup) {
        /* A re-probe: did this very call lose to plain by the margin? */
        const double plain = c->spb[ALCM_PATH_PLAIN];
        if (v >= plain * (1.0 - planner->cfg.margin))
            c->backoff[path] += c->backoff[path] < 4;
        else
            c->backoff[path] = 0;
        c->plain_at[path] = plain;
    }
    c->spb[path] = ring_median(c->ring[path], &c->samples[path], planner->cfg.window, v);
}

void alcm_planner_record_floor(alcm_planner *planner, alcm_path path, uint64_t raw_bytes,
                               double seconds)
{
    if (!planner || (unsigned)path >= ALCM_PATH_COUNT || raw_bytes == 0) return;
    if (!(seconds >= 0.0) || !isfinite(seconds)) return;
    size_class *c = &planner->cls[class_of(raw_bytes)];
    /* Like the call's time, the floor of a path's first timed call carries its set-up. */
    if (c->seen[path] <= 1 && planner->cfg.warmup > 1) return;
    c->floor_spb[path] = ring_median(c->floor_ring[path], &c->floor_samples[path],
                                     planner->cfg.window, seconds / (double)raw_bytes);
}

alcm_status alcm_planner_get_class(const alcm_planner *planner, uint64_t raw_bytes,
                                   alcm_planner_class *out)
{
    if (!planner || !out) return ALCM_E_ARG;
    const size_class *c = &planner->cls[class_of(raw_bytes)];
    memset(out, 0, sizeof *out);
    out->calls = c->calls;
    for (unsigned p = 0; p < ALCM_PATH_COUNT; p++) {
        out->samples[p] = c->samples[p];
        out->seconds_per_byte[p] = c->spb[p];
    }
    out->last = c->last;
    return ALCM_OK;
}
