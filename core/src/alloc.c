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

/* 2^e as a double for e within the normal range, from the exponent bits. */
static inline double pow2i(int e)
{
    uint64_t bits = (uint64_t)(e + 1023) << 52;
    double p;
    memcpy(&p, &bits, sizeof p);
    return p;
}

/* Δ(s) in double, built from the exponent bits: exact, no library call. */
static inline double step_of(int32_t s)
{
    return (double)alcm_step_table[s & 15] * pow2i((s >> 4) - 127);
}

/* 1 / alcm_step_table[j], rounded to double. */
static const double inv_step_table[16] = {
    0x1.0000000000000p+0, 0x1.ea4afba7049f3p-1,
    0x1.d5818d7143f09p-1, 0x1.c199bf3d1a30ep-1,
    0x1.ae89fa7c58585p-1, 0x1.9c491924b702cp-1,
    0x1.8ace535563bf5p-1, 0x1.7a11470f45f00p-1,
    0x1.6a09e6cfe779bp-1, 0x1.5ab07d2340a72p-1,
    0x1.4bfdad7088cb6p-1, 0x1.3dea64e1b6ca6p-1,
    0x1.306fe057ecddbp-1, 0x1.2387a6cd9d8abp-1,
    0x1.172b83ab21267p-1, 0x1.0b5586e6a6f7ep-1,
};

/* 1/Δ(s) to within an ulp, by multiplication: the rate model needs no division. */
static inline double inv_step_of(int32_t s)
{
    return inv_step_table[s & 15] * pow2i(127 - (s >> 4));
}

/* For the 64 slices [1 + i/64, 1 + (i+1)/64) of a mantissa: g_i, the reciprocal of the
 * slice's centre rounded to double (slice_inv_centre), and log2(1 / g_i) rounded to double
 * (slice_log2), both computed in exact rational arithmetic. */
static const double slice_inv_centre[64] = {
    0x1.fc07f01fc07f0p-1, 0x1.f44659e4a4271p-1,
    0x1.ecc07b301ecc0p-1, 0x1.e573ac901e574p-1,
    0x1.de5d6e3f8868ap-1, 0x1.d77b654b82c34p-1,
    0x1.d0cb58f6ec074p-1, 0x1.ca4b3055ee191p-1,
    0x1.c3f8f01c3f8f0p-1, 0x1.bdd2b899406f7p-1,
    0x1.b7d6c3dda338bp-1, 0x1.b2036406c80d9p-1,
    0x1.ac5701ac5701bp-1, 0x1.a6d01a6d01a6dp-1,
    0x1.a16d3f97a4b02p-1, 0x1.9c2d14ee4a102p-1,
    0x1.970e4f80cb872p-1, 0x1.920fb49d0e229p-1,
    0x1.8d3018d3018d3p-1, 0x1.886e5f0abb04ap-1,
    0x1.83c977ab2beddp-1, 0x1.7f405fd017f40p-1,
    0x1.7ad2208e0ecc3p-1, 0x1.767dce434a9b1p-1,
    0x1.724287f46debcp-1, 0x1.6e1f76b4337c7p-1,
    0x1.6a13cd1537290p-1, 0x1.661ec6a5122f9p-1,
    0x1.623fa77016240p-1, 0x1.5e75bb8d015e7p-1,
    0x1.5ac056b015ac0p-1, 0x1.571ed3c506b3ap-1,
    0x1.5390948f40febp-1, 0x1.5015015015015p-1,
    0x1.4cab88725af6ep-1, 0x1.49539e3b2d067p-1,
    0x1.460cbc7f5cf9ap-1, 0x1.42d6625d51f87p-1,
    0x1.3fb013fb013fbp-1, 0x1.3c995a47babe7p-1,
    0x1.3991c2c187f63p-1, 0x1.3698df3de0748p-1,
    0x1.33ae45b57bcb2p-1, 0x1.30d190130d190p-1,
    0x1.2e025c04b8097p-1, 0x1.2b404ad012b40p-1,
    0x1.288b01288b013p-1, 0x1.25e22708092f1p-1,
    0x1.23456789abcdfp-1, 0x1.20b470c67c0d9p-1,
    0x1.1e2ef3b3fb874p-1, 0x1.1bb4a4046ed29p-1,
    0x1.19453808ca29cp-1, 0x1.16e0689427379p-1,
    0x1.1485f0e0acd3bp-1, 0x1.12358e75d3033p-1,
    0x1.0fef010fef011p-1, 0x1.0db20a88f4696p-1,
    0x1.0b7e6ec259dc8p-1, 0x1.0953f39010954p-1,
    0x1.073260a47f7c6p-1, 0x1.05197f7d73404p-1,
    0x1.03091b51f5e1ap-1, 0x1.0101010101010p-1,
};

static const double slice_log2[64] = {
    0x1.6fe50b6ef085dp-7, 0x1.11cd1d513341bp-5,
    0x1.c4dfab90aab6ap-5, 0x1.3aa2fdd27f1bfp-4,
    0x1.918a16e46335ep-4, 0x1.e72ec117fa5adp-4,
    0x1.1dcd197552b7dp-3, 0x1.476a9f983f74dp-3,
    0x1.70742d4ef0280p-3, 0x1.98edd077e70e1p-3,
    0x1.c0db6cdd94defp-3, 0x1.e840be74e6a4dp-3,
    0x1.0790adbb03009p-2, 0x1.1ac05b291f070p-2,
    0x1.2db10fc4d9aaep-2, 0x1.406463b1b0448p-2,
    0x1.52dbdfc4c96b5p-2, 0x1.6518fe4677ba6p-2,
    0x1.771d2ba7efb3cp-2, 0x1.88e9c72e0b224p-2,
    0x1.9a802391e2330p-2, 0x1.abe18797f1f4ap-2,
    0x1.bd0f2e9e79032p-2, 0x1.ce0a4923a587dp-2,
    0x1.ded3fd442364cp-2, 0x1.ef6d67328e220p-2,
    0x1.ffd799a83ff9cp-2, 0x1.0809cf27f703dp-1,
    0x1.10113b153c8eap-1, 0x1.18028cf72976bp-1,
    0x1.1fde3d30e8127p-1, 0x1.27a4c0585cbf7p-1,
    0x1.2f56875eb3f26p-1, 0x1.36f3ffb6d9162p-1,
    0x1.3e7d9379f7017p-1, 0x1.45f3a98a20738p-1,
    0x1.4d56a5b33cec5p-1, 0x1.54a6e8ca5438ep-1,
    0x1.5be4d0cb51435p-1, 0x1.6310b8f553049p-1,
    0x1.6a2af9e5a0f0bp-1, 0x1.7133e9b156c7bp-1,
    0x1.782bdbfdda657p-1, 0x1.7f1322182cf16p-1,
    0x1.85ea0b0b27b26p-1, 0x1.8cb0e3b4b3bbep-1,
    0x1.9367f6da0ab2dp-1, 0x1.9a0f8d3b0e050p-1,
    0x1.a0a7eda4c112dp-1, 0x1.a7315d02f20c7p-1,
    0x1.adac1e711c833p-1, 0x1.b418734a9008cp-1,
    0x1.ba769b39e4964p-1, 0x1.c0c6d447c5dd3p-1,
    0x1.c7095ae91e1c8p-1, 0x1.cd3e6a0ca8908p-1,
    0x1.d3663b27f31d5p-1, 0x1.d9810643d6614p-1,
    0x1.df8f02086af2bp-1, 0x1.e59063c8822cep-1,
    0x1.eb855f8ca88fcp-1, 0x1.f16e281db7630p-1,
    0x1.f74aef0efafafp-1, 0x1.fd1be4c7f2af9p-1,
};

/* log2 of a finite x >= 1 to about 1e-13 (absolute), from IEEE operations only and without
 * a division: exponent from the bits, the mantissa m scaled by its slice's g_i to 1 + r
 * (|r| < 1/128), then log2(1/g_i) + ln(1 + r)/ln 2 with ln(1 + r) by its series to r⁵.
 * The allocator only compares rates, so this accuracy is ample; without a division the
 * rate of a candidate step is a short dependency chain (grad_fmnist: the allocator's
 * search is about 17 % of the encoder's time, and latency-bound). */
static inline double fast_log2(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    int e = (int)((b >> 52) & 0x7ff) - 1023;
    unsigned i = (unsigned)(b >> 46) & 63u;
    b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    memcpy(&m, &b, sizeof m);
    double r = m * slice_inv_centre[i] - 1.0;
    double p = r * (1.0 - r * (0.5 - r * (1.0 / 3.0 - r * (0.25 - r * 0.2))));
    return ((double)e + slice_log2[i]) + p * 1.4426950408889634; /* 1 / ln 2 */
}

static inline double rate_of(const alcm_alloc_chan *c, int32_t s)
{
    if (!(c->a > 0.0)) return 0.0;
    return c->n * fast_log2(1.0 + c->a * inv_step_of(s));
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

/* The first half of a choice, for a channel with energy, a finest step and a > 0: K and
 * the grid index of an upper bound of the root: min(sqrt(K/a), K^(1/3)), then one Newton
 * step on f(Δ) = Δ²(Δ + a) - K, which from above stays above the root (f is increasing and
 * convex for Δ > 0) and brings the bound within a grid notch or two of it (sqrt(K/a) alone
 * is up to 8 notches high when Δ is near a, and the walk down from it mispredicts). Done
 * for every channel before the second half (a loop of square roots and divisions without
 * data-dependent branches, which the processor overlaps across channels). */
static inline void choose_bound(alcm_alloc_chan *c, double inv_lamln2)
{
    const double K = c->kscale * inv_lamln2, a = c->a;
    /* The product rounds where the quotient K / a would: a hair above the bound keeps it one
     * (the walk below only goes down); so does the factor after the Newton step. */
    double ub = sqrt(K * c->inv_a) * (1.0 + 0x1p-40), cb = cbrt_upper(K);
    double u = cb < ub ? cb : ub;
    if (u < 0x1p300 && K < INFINITY) /* f(u) finite: the step cannot make a NaN */
        u -= (u * u * (u + a) - K) / (u * (3.0 * u + 2.0 * a));
    c->K = K;
    c->s0 = alcm_alloc_index(u * (1.0 + 0x1p-40));
}

/* Best option for one channel at multiplier lambda: grid index (0 = zeroed), with its
 * modelled distortion in *d. The continuous optimum solves Δ²(Δ + a) = K with
 * K = 6a / (λ ln2 · dscale); the grid index just below it is found by walking down from the
 * upper bound choose_bound found, and the two grid neighbours of the root are compared with
 * zeroing the channel. Both neighbours are priced every time (a constant channel's single
 * candidate twice): no branch on a memo of earlier prices, and the comparison is a chain of
 * selects (the search is latency-bound, and this is 2-3 % of grad_fmnist's encode). */
static inline int32_t choose(alcm_alloc_chan *c, double lambda, double *d)
{
    *d = c->energy;
    if (!(c->energy > 0.0)) return 0;
    if (c->smin > ALCM_STEP_MAX) return 0;
    int32_t cand[2];
    if (!(c->a > 0.0)) {
        cand[0] = c->smin;
        cand[1] = c->smin;
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
    }
    const double r0 = rate_of(c, cand[0]), d0 = dist_of(c, cand[0]);
    const double r1 = rate_of(c, cand[1]), d1 = dist_of(c, cand[1]);
    const double j0 = r0 + lambda * d0, j1 = r1 + lambda * d1;
    int32_t best = 0;
    double bj = lambda * c->energy, bd = c->energy;
    best = j0 < bj ? cand[0] : best;
    bd = j0 < bj ? d0 : bd;
    bj = j0 < bj ? j0 : bj;
    best = j1 < bj ? cand[1] : best;
    bd = j1 < bj ? d1 : bd;
    *d = bd;
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
    const double inv_lamln2 = 1.0 / (lambda * LN2);
    for (uint32_t c = 0; c < C; c++) {
        alcm_alloc_chan *k = &ch[c];
        if (ilo >= 0 && k->ps[ilo] == k->ps[ihi]) continue;
        if (k->energy > 0.0 && k->smin <= ALCM_STEP_MAX && k->a > 0.0) choose_bound(k, inv_lamln2);
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
        ch[c].kscale = ch[c].a > 0.0 ? 6.0 * ch[c].a / ch[c].dscale : 0.0;
        ch[c].inv_a = ch[c].a > 0.0 ? 1.0 / ch[c].a : 0.0;
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
