/* alloc.c - Lagrangian allocation of quantisation steps over channels: rate model
 * n·log2(1 + a/Δ) from the entropy map, distortion model min(n·Δ²/12, Σy²), bisection on λ. */
#include "alloc.h"

#include <math.h>
#include <string.h>

#include "detmath.h"
#include "gradient.h"

#define LN2 0.69314718055994530942

/* Bisection stops when hi/lo is below this; the assignment no longer changes by then. */
#define LAMBDA_REL_TOL 1e-3
#define MAX_BISECT 64
#define MAX_EXPAND 80

/* Δ(s) in double, built from the exponent bits: exact, no library call. */
static inline double step_of(int32_t s)
{
    uint64_t bits = (uint64_t)((s >> 4) - 127 + 1023) << 52;
    double p2;
    memcpy(&p2, &bits, sizeof p2);
    return (double)alcm_step_table[s & 15] * p2;
}

/* log2 of a finite x >= 1 to about 1e-8 (relative), from IEEE operations only: exponent
 * from the bits, then the series 2/ln2 · (t + t³/3 + t⁵/5 + t⁷/7 + t⁹/9), t = (m-1)/(m+1),
 * m in [√½, √2). The allocator only compares rates, so this accuracy is ample. */
static inline double fast_log2(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    int e = (int)((b >> 52) & 0x7ff) - 1023;
    b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    memcpy(&m, &b, sizeof m);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e += 1;
    }
    double t = (m - 1.0) / (m + 1.0), t2 = t * t;
    double p = ((((t2 / 9.0 + 1.0 / 7.0) * t2 + 1.0 / 5.0) * t2 + 1.0 / 3.0) * t2 + 1.0) * t;
    return (double)e + p * 2.8853900817779268; /* 2 / ln 2 */
}

static inline double rate_of(const alcm_alloc_chan *c, int32_t s)
{
    if (!(c->a > 0.0)) return 0.0;
    return c->n * fast_log2(1.0 + c->a / step_of(s));
}

static inline double dist_of(const alcm_alloc_chan *c, int32_t s)
{
    double d = step_of(s);
    d = c->dscale * c->n * d * d / 12.0;
    return d < c->energy ? d : c->energy;
}

double alcm_alloc_rate(const alcm_alloc_chan *c, int32_t s)
{
    return rate_of(c, s);
}

double alcm_alloc_dist(const alcm_alloc_chan *c, int32_t s)
{
    return dist_of(c, s);
}

/* For each 1/32 bucket [1 + b/32, 1 + (b+1)/32) of the mantissa: the largest j with
 * alcm_step_table[j] <= 1 + b/32. Entries are 2^(1/16) apart, more than a bucket's width,
 * so a bucket holds at most one further entry. */
static const uint8_t index_below[32] = {0, 0, 1,  2,  2,  3,  3,  4,  5,  5,  6,
                                        6, 7, 7,  8,  8,  9,  9,  10, 10, 11, 11,
                                        12, 12, 12, 13, 13, 14, 14, 14, 15, 15};

int32_t alcm_alloc_index(double delta)
{
    if (!(delta > 0.0)) return ALCM_STEP_MIN;
    if (isinf(delta)) return ALCM_STEP_MAX;
    uint64_t b;
    memcpy(&b, &delta, sizeof b);
    int e = (int)((b >> 52) & 0x7ff) - 1023;
    if (e < -126) return ALCM_STEP_MIN; /* also covers subnormal doubles */
    if (e > 112) return ALCM_STEP_MAX;
    b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    memcpy(&m, &b, sizeof m); /* delta = m · 2^e, m in [1, 2) */
    /* The largest j with table[j] <= m: the last entry at or below the start of m's 1/32
     * bucket, then the one entry a bucket can hold past its start. */
    int j = index_below[(b >> 47) & 31];
    if (j < 15 && (double)alcm_step_table[j + 1] <= m) j++;
    int64_t s = ((int64_t)e + 127) * 16 + j;
    if (s < ALCM_STEP_MIN) return ALCM_STEP_MIN;
    if (s > ALCM_STEP_MAX) return ALCM_STEP_MAX;
    return (int32_t)s;
}

int32_t alcm_alloc_smin(float absmax)
{
    if (!(absmax > 0.0f)) return ALCM_STEP_MIN;
    const double lim = (double)ALCM_LEVEL_MAX;
    int32_t s = alcm_alloc_index((double)absmax / lim);
    while (s <= ALCM_STEP_MAX && lim * step_of(s) < (double)absmax) s++;
    while (s > ALCM_STEP_MIN && lim * step_of(s - 1) >= (double)absmax) s--;
    return s;
}

/* 2^e as a double for e within the normal range, from the exponent bits. */
static inline double pow2i(int e)
{
    uint64_t bits = (uint64_t)(e + 1023) << 52;
    double p;
    memcpy(&p, &bits, sizeof p);
    return p;
}

/* An upper bound on K^(1/3) for K > 0: 2^ceil((e+1)/3) where 2^e <= K < 2^(e+1). */
static inline double cbrt_upper(double K)
{
    uint64_t b;
    memcpy(&b, &K, sizeof b);
    int e = (int)((b >> 52) & 0x7ff) - 1023 + 1;
    int e3 = e >= 0 ? (e + 2) / 3 : -((-e) / 3);
    if (e3 > 1000) e3 = 1000;
    if (e3 < -1000) e3 = -1000;
    return pow2i(e3);
}

/* Modelled rate and distortion of channel c at grid index s, from the channel's memo of
 * two neighbouring indices when it holds s (the same values: computed by the same code). */
static inline void rate_dist(alcm_alloc_chan *c, int32_t s, double *r, double *d)
{
    int32_t k = s - c->memo_s;
    if (c->memo_s >= 0 && (k == 0 || k == 1)) {
        *r = c->memo_r[k];
        *d = c->memo_d[k];
        return;
    }
    *r = rate_of(c, s);
    *d = dist_of(c, s);
}

/* Stores the rate and distortion of s and s + 1 (the two candidates of the last choice). */
static inline void memo_set(alcm_alloc_chan *c, int32_t s, const double r[2], const double d[2])
{
    c->memo_s = s;
    c->memo_r[0] = r[0];
    c->memo_r[1] = r[1];
    c->memo_d[0] = d[0];
    c->memo_d[1] = d[1];
}

/* Best option for one channel at multiplier lambda (lamln2 = lambda · ln 2): grid index
 * (0 = zeroed), with its modelled distortion in *d. The continuous optimum solves
 * Δ²(Δ + a) = K with K = 6a / (λ ln2 · dscale); the grid index just below it is found by
 * walking down from an upper bound of the root (min(sqrt(K/a), K^(1/3))), and the two grid
 * neighbours of the root are compared with zeroing the channel. Successive multipliers of
 * the search mostly pick the same neighbours, whose rates and distortions the channel's memo
 * keeps. */
/* The first half of a choice, for a channel with energy, a finest step and a > 0: K and
 * the grid index of the root's upper bound min(sqrt(K/a), K^(1/3)). Done for every channel
 * before the second half (a loop of divisions and square roots without data-dependent
 * branches, which the processor overlaps across channels). */
static inline void choose_bound(alcm_alloc_chan *c, double lamln2)
{
    double K = c->a6 / (lamln2 * c->dscale);
    double ub = sqrt(K / c->a), cb = cbrt_upper(K);
    c->K = K;
    c->s0 = alcm_alloc_index(cb < ub ? cb : ub);
}

static inline int32_t choose(alcm_alloc_chan *c, double lambda, double *d)
{
    *d = c->energy;
    if (!(c->energy > 0.0)) return 0;
    if (c->smin > ALCM_STEP_MAX) return 0;
    int32_t cand[2];
    int nc;
    if (!(c->a > 0.0)) {
        cand[0] = c->smin;
        cand[1] = c->smin;
        nc = 1;
    } else {
        const double K = c->K;
        int32_t s = c->s0;
        while (s > c->smin) {
            double x = step_of(s);
            if (x * x * (x + c->a) <= K) break;
            s--;
        }
        cand[0] = s;
        cand[1] = s + 1 > ALCM_STEP_MAX ? ALCM_STEP_MAX : s + 1;
        nc = cand[1] != cand[0] ? 2 : 1;
    }
    double r[2], dd[2];
    rate_dist(c, cand[0], &r[0], &dd[0]);
    if (nc == 2) {
        rate_dist(c, cand[1], &r[1], &dd[1]);
        if (c->memo_s != cand[0]) memo_set(c, cand[0], r, dd);
    }
    int32_t best = 0;
    double bj = lambda * c->energy;
    for (int k = 0; k < nc; k++) {
        double jk = r[k] + lambda * dd[k];
        if (jk < bj) {
            bj = jk;
            best = cand[k];
            *d = dd[k];
        }
    }
    return best;
}

/* Σ D at lambda, each channel's choice and distortion kept in slot `put`. Inside a
 * bracket (lo < lambda < hi, slots ilo and ihi), a channel choosing the same index at both
 * ends is taken to choose it in between too, and its kept figures are reused without
 * choosing again: the choice only moves to finer steps as λ grows (K falls, the root's
 * grid neighbours follow, and R + λD favours less distortion), which the arithmetic follows
 * except possibly at ties within rounding. The search stays deterministic either way; on the
 * benchmark bundles the steps are those of choosing every channel afresh. */
static double total_dist(alcm_alloc_chan *ch, uint32_t C, double lambda, int put, int ilo,
                         int ihi)
{
    const double lamln2 = lambda * LN2;
    for (uint32_t c = 0; c < C; c++) {
        alcm_alloc_chan *k = &ch[c];
        if (ilo >= 0 && k->ps[ilo] == k->ps[ihi]) continue;
        if (k->energy > 0.0 && k->smin <= ALCM_STEP_MAX && k->a > 0.0) choose_bound(k, lamln2);
    }
    double sum = 0.0;
    for (uint32_t c = 0; c < C; c++) {
        alcm_alloc_chan *k = &ch[c];
        double d;
        int32_t s;
        if (ilo >= 0 && k->ps[ilo] == k->ps[ihi]) {
            s = k->ps[ihi];
            d = k->pd[ihi];
        } else {
            s = choose(k, lambda, &d);
        }
        k->ps[put] = s;
        k->pd[put] = d;
        sum += d;
    }
    return sum;
}

int alcm_allocate(alcm_alloc_chan *ch, uint32_t C, double budget, uint16_t *out,
                  double *model_dist)
{
    double total = 0.0, dmin = 0.0, n = 0.0;
    for (uint32_t c = 0; c < C; c++) {
        ch[c].a6 = 6.0 * ch[c].a;
        ch[c].memo_s = -1;
        total += ch[c].energy;
        if (!(ch[c].energy > 0.0)) continue;
        n += ch[c].n;
        double d = ch[c].energy;
        if (ch[c].smin <= ALCM_STEP_MAX) {
            double ds = alcm_alloc_dist(&ch[c], ch[c].smin);
            if (ds < d) d = ds;
        }
        dmin += d;
    }
    if (total <= budget) { /* zeroing everything meets the budget at zero rate */
        for (uint32_t c = 0; c < C; c++) out[c] = 0;
        *model_dist = total;
        return 0;
    }
    if (dmin > budget) return -1;

    /* Start from the multiplier of a common fine step spending the whole budget, bracket
     * the smallest feasible λ, then narrow the bracket by false position on log D against
     * log λ (D ~ 1/λ at fine steps), falling back to bisection when it stalls. The choices
     * at lo, hi and the latest trial live in slots ilo, ihi, itry of each channel. */
    double d0 = sqrt(12.0 * budget / n);
    double lam0 = 6.0 / (LN2 * d0 * d0);
    if (!(lam0 > 0.0) || isinf(lam0)) lam0 = 1.0;
    double lo = lam0, hi = lam0;
    int ilo = 0, ihi = 0, tmp;
    double dl = total_dist(ch, C, lam0, ilo, -1, -1), dh = dl;
    double grow = 1.25;
    int k = 0;
    if (dl <= budget) {
        while (dl <= budget && k++ < MAX_EXPAND) {
            hi = lo;
            dh = dl;
            ihi = ilo;
            lo /= grow;
            grow = grow * grow < 1e6 ? grow * grow : 1e6;
            ilo = ihi == 0 ? 1 : 0;
            dl = total_dist(ch, C, lo, ilo, -1, -1);
        }
    } else {
        while (dh > budget && k++ < MAX_EXPAND) {
            lo = hi;
            dl = dh;
            ilo = ihi;
            hi *= grow;
            grow = grow * grow < 1e6 ? grow * grow : 1e6;
            ihi = ilo == 0 ? 1 : 0;
            dh = total_dist(ch, C, hi, ihi, -1, -1);
        }
    }
    int itry = 2; /* each expansion loop ran at least once: lo and hi use slots 0 and 1 */
    const double lb = alcm_det_log(budget);
    for (k = 0; k < MAX_BISECT && hi > lo * (1.0 + LAMBDA_REL_TOL); k++) {
        double llo = alcm_det_log(lo), lhi = alcm_det_log(hi), mid;
        double fl = alcm_det_log(dl) - lb, fh = dh > 0.0 ? alcm_det_log(dh) - lb : -1.0;
        double t = fl > fh ? fl / (fl - fh) : 0.5;
        if (!(t > 0.1 && t < 0.9) || (k % 3) == 2) t = 0.5; /* stalled: bisect */
        mid = alcm_det_exp(llo + t * (lhi - llo));
        if (!(mid > lo && mid < hi)) mid = sqrt(lo * hi);
        double dm = total_dist(ch, C, mid, itry, ilo, ihi);
        if (dm <= budget) {
            hi = mid;
            dh = dm;
            tmp = ihi;
            ihi = itry;
            itry = tmp;
        } else {
            lo = mid;
            dl = dm;
            tmp = ilo;
            ilo = itry;
            itry = tmp;
        }
    }
    for (uint32_t c = 0; c < C; c++) out[c] = (uint16_t)ch[c].ps[ihi];
    *model_dist = dh;
    return *model_dist <= budget ? 0 : -1;
}
