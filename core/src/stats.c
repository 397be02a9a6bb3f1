/* stats.c - per-channel statistics (two-pass moments, sparsity, max|x|, sum of squares) and
 * the cutting of a tensor shape into channels. */
#include "alcm_tools.h"
#include "simd.h"
#include "stats.h"

#include <math.h>
#include <string.h>

/*
 * Pass 1: sum in double, min, max and the small-magnitude count.
 * Pass 2: central moments of d = x·s - mean·s, with s a power of two chosen so that
 * max |d| is in [0.5, 1); d, d², d³, d⁴ are summed in float over blocks of 64 groups
 * (64 terms per lane, each <= 1 in magnitude, relative error ~1e-7) and every block is
 * flushed to double. mean·s is split into two floats (hi + lo): when x is near the mean,
 * x·s - hi is exact (Sterbenz), so a large mean with a small spread loses nothing.
 * Both passes work on 8 lanes written with GCC/Clang vector types (SSE2/NEON or scalar
 * code, the same arithmetic in the same order everywhere): the lane and block order is
 * fixed, so results are deterministic. Min and max are taken on order-preserving integer
 * images of the bit patterns, which vectorise without -ffinite-math-only.
 */
#define LANES 8
#define BLOCK_GROUPS 64      /* groups of LANES summed in float before flushing to double */
#define COUNT_GROUPS 65536   /* groups per flush of the 32-bit small-magnitude counters */

typedef float v4f __attribute__((vector_size(16)));
typedef float v2f __attribute__((vector_size(8)));
typedef double v2d __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) v4f load4f(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) v2d load2d(const float *p)
{
    v2f v;
    memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, v2d);
}

static inline __attribute__((always_inline)) v4i load4i(const float *p)
{
    v4i v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Lane-wise widening of 4 floats to two pairs of doubles. */
static inline __attribute__((always_inline)) void widen(v4f v, v2d *lo, v2d *hi)
{
    float t[4];
    memcpy(t, &v, sizeof t);
    *lo = (v2d){t[0], t[1]};
    *hi = (v2d){t[2], t[3]};
}

static inline __attribute__((always_inline)) double hsum2(v2d v)
{
    return v[0] + v[1];
}

/* Bit pattern t such that, for every float a, (double)|a| < ALCM_SPARSE_EPS <=> bits(|a|)
 * < t (non-negative floats order like their bit patterns). */
static int32_t sparse_threshold_bits(void)
{
    float t = (float)ALCM_SPARSE_EPS;
    if ((double)t < ALCM_SPARSE_EPS) t = nextafterf(t, 1.0f);
    int32_t b;
    memcpy(&b, &t, sizeof b);
    return b;
}

/* Float bits -> int32 with the same order as the floats (finite values; -0 < +0). */
static inline int32_t ordered_bits(int32_t b)
{
    return b ^ ((b >> 31) & 0x7fffffff);
}

static inline __attribute__((always_inline)) v4i ordered_bits4(v4i b)
{
    return b ^ ((b >> 31) & 0x7fffffff);
}

static inline float from_ordered_bits(int32_t k)
{
    int32_t b = k ^ ((k >> 31) & 0x7fffffff);
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static inline __attribute__((always_inline)) v4i vmin4i(v4i a, v4i b)
{
    v4i m = a < b;
    return (a & m) | (b & ~m);
}

static inline __attribute__((always_inline)) v4i vmax4i(v4i a, v4i b)
{
    v4i m = a > b;
    return (a & m) | (b & ~m);
}

typedef struct {
    double sum;
    float lo, hi;
    uint64_t small;
} pass1_result;

/* With ra (not NULL), pass 1 runs over y = x + ra, computed in float and stored to y[0..n)
 * as it goes (for pass 2 and the caller). */
static inline __attribute__((always_inline)) void pass1(const float *x, const float *ra,
                                                       float *y, size_t n, pass1_result *r)
{
    const int32_t thr = sparse_threshold_bits();
    const v4i vthr = {thr, thr, thr, thr};
    const v4i absmask = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    v2d s0 = {0, 0}, s1 = {0, 0}, s2 = {0, 0}, s3 = {0, 0};
    v4i lo0 = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX}, lo1 = lo0;
    v4i hi0 = {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN}, hi1 = hi0;
    uint64_t small = 0;
    size_t i = 0;
    const size_t full = n - n % LANES;
    while (i < full) {
        size_t groups = (full - i) / LANES;
        if (groups > COUNT_GROUPS) groups = COUNT_GROUPS;
        v4i c0 = {0, 0, 0, 0}, c1 = c0;
        for (size_t g = 0; g < groups; g++, i += LANES) {
            const float *p = x + i;
            v4i b0, b1;
            if (ra) { /* the same values as the loads below, from registers */
                v4f y0 = load4f(p) + load4f(ra + i), y1 = load4f(p + 4) + load4f(ra + i + 4);
                memcpy(y + i, &y0, sizeof y0);
                memcpy(y + i + 4, &y1, sizeof y1);
                s0 += __builtin_convertvector(__builtin_shufflevector(y0, y0, 0, 1), v2d);
                s1 += __builtin_convertvector(__builtin_shufflevector(y0, y0, 2, 3), v2d);
                s2 += __builtin_convertvector(__builtin_shufflevector(y1, y1, 0, 1), v2d);
                s3 += __builtin_convertvector(__builtin_shufflevector(y1, y1, 2, 3), v2d);
                b0 = (v4i)y0;
                b1 = (v4i)y1;
            } else {
                s0 += load2d(p);
                s1 += load2d(p + 2);
                s2 += load2d(p + 4);
                s3 += load2d(p + 6);
                b0 = load4i(p);
                b1 = load4i(p + 4);
            }
            v4i k0 = ordered_bits4(b0), k1 = ordered_bits4(b1);
            lo0 = vmin4i(lo0, k0);
            lo1 = vmin4i(lo1, k1);
            hi0 = vmax4i(hi0, k0);
            hi1 = vmax4i(hi1, k1);
            c0 -= (b0 & absmask) < vthr;      /* a true compare is -1 */
            c1 -= (b1 & absmask) < vthr;
        }
        for (int j = 0; j < 4; j++) small += (uint64_t)(uint32_t)c0[j] + (uint32_t)c1[j];
    }
    double total = ((hsum2(s0) + hsum2(s1)) + (hsum2(s2) + hsum2(s3)));
    int32_t mn = INT32_MAX, mx = INT32_MIN;
    for (int j = 0; j < 4; j++) {
        mn = lo0[j] < mn ? lo0[j] : mn;
        mn = lo1[j] < mn ? lo1[j] : mn;
        mx = hi0[j] > mx ? hi0[j] : mx;
        mx = hi1[j] > mx ? hi1[j] : mx;
    }
    for (; i < n; i++) {
        float v = x[i];
        if (ra) v = y[i] = x[i] + ra[i];
        int32_t b;
        memcpy(&b, &v, sizeof b);
        int32_t k = ordered_bits(b);
        total += (double)v;
        mn = k < mn ? k : mn;
        mx = k > mx ? k : mx;
        small += (b & 0x7fffffff) < thr;
    }
    r->sum = total;
    r->lo = from_ordered_bits(mn);
    r->hi = from_ordered_bits(mx);
    r->small = small;
}

/* Sums of d, d², d³, d⁴ with d = x·s - (mhi + mlo), in double. */
static inline __attribute__((always_inline)) void pass2(const float *x, size_t n, float s,
                                                       float mhi, float mlo, double out[4])
{
    const v4f vs = {s, s, s, s}, vh = {mhi, mhi, mhi, mhi}, vl = {mlo, mlo, mlo, mlo};
    v2d acc[4][4];   /* [moment][pair of lanes] */
    for (int m = 0; m < 4; m++)
        for (int q = 0; q < 4; q++) acc[m][q] = (v2d){0, 0};
    size_t i = 0;
    const size_t full = n - n % LANES;
    while (i < full) {
        size_t groups = (full - i) / LANES;
        if (groups > BLOCK_GROUPS) groups = BLOCK_GROUPS;
        v4f f1a = {0, 0, 0, 0}, f1b = f1a, f2a = f1a, f2b = f1a;
        v4f f3a = f1a, f3b = f1a, f4a = f1a, f4b = f1a;
        for (size_t g = 0; g < groups; g++, i += LANES) {
            v4f da = (load4f(x + i) * vs - vh) - vl;
            v4f db = (load4f(x + i + 4) * vs - vh) - vl;
            v4f ea = da * da, eb = db * db;
            f1a += da;
            f1b += db;
            f2a += ea;
            f2b += eb;
            f3a += ea * da;
            f3b += eb * db;
            f4a += ea * ea;
            f4b += eb * eb;
        }
        const v4f *blk[4][2] = {{&f1a, &f1b}, {&f2a, &f2b}, {&f3a, &f3b}, {&f4a, &f4b}};
        for (int m = 0; m < 4; m++) {
            v2d l0, h0, l1, h1;
            widen(*blk[m][0], &l0, &h0);
            widen(*blk[m][1], &l1, &h1);
            acc[m][0] += l0;
            acc[m][1] += h0;
            acc[m][2] += l1;
            acc[m][3] += h1;
        }
    }
    for (int m = 0; m < 4; m++)
        out[m] = (hsum2(acc[m][0]) + hsum2(acc[m][1])) + (hsum2(acc[m][2]) + hsum2(acc[m][3]));
    for (; i < n; i++) {
        float d = (x[i] * s - mhi) - mlo;
        double dd = (double)d;
        out[0] += dd;
        out[1] += dd * dd;
        out[2] += dd * dd * dd;
        out[3] += dd * dd * dd * dd;
    }
}

/* Also built for AVX2 on x86-64 (the same operations in the same order: identical
 * results), picked at load time. */
static inline __attribute__((always_inline)) void stats(const float *x, const float *ra,
                                                       float *y, size_t n, alcm_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return;
    out->n = n;

    pass1_result p1;
    pass1(x, ra, y, n, &p1);
    if (ra) x = y;
    const double dn = (double)n;
    const double mean = p1.sum / dn;
    out->mean = mean;
    out->sparsity = (double)p1.small / dn;
    double alo = fabs((double)p1.lo), ahi = fabs((double)p1.hi);
    out->absmax = alo > ahi ? alo : ahi;

    /* Largest |x - mean|; 0 means a constant channel (all central moments 0). */
    double dlo = mean - (double)p1.lo, dhi = (double)p1.hi - mean;
    double dmax = dlo > dhi ? dlo : dhi;
    if (!(dmax > 0.0)) {
        out->sumsq = dn * mean * mean;
        return;
    }
    int e;
    (void)frexp(dmax, &e);           /* dmax in [2^(e-1), 2^e) */
    if (e > 126) e = 126;            /* keep s a normal float; |d·s| <= 8 then */
    if (e < -126) e = -126;
    const double sd = ldexp(1.0, -e);
    const float s = (float)sd;
    const double ms = mean * sd;
    const float mhi = (float)ms;
    const float mlo = (float)(ms - (double)mhi);

    double t[4];
    pass2(x, n, s, mhi, mlo, t);

    /* Moments about the exact mean from sums about the float approximation of it. */
    const double c = t[0] / dn;
    const double r2 = t[1] / dn, r3 = t[2] / dn, r4 = t[3] / dn;
    double m2 = r2 - c * c;
    double m3 = r3 - 3.0 * c * r2 + 2.0 * c * c * c;
    double m4 = r4 - 4.0 * c * r3 + 6.0 * c * c * r2 - 3.0 * c * c * c * c;
    if (m2 < 0.0) m2 = 0.0;
    if (m4 < 0.0) m4 = 0.0;

    const double inv = 1.0 / sd;     /* exact power of two */
    out->var = m2 * inv * inv;
    out->std = sqrt(out->var);
    if (m2 > 0.0) {
        out->skew = m3 / (m2 * sqrt(m2));
        out->kurt = m4 / (m2 * m2) - 3.0;
    }
    /* Σx² = Σ(d + mean)² with d = x - mean, from the same sums: no cancellation. */
    out->sumsq = t[1] * inv * inv + 2.0 * mean * t[0] * inv + dn * mean * mean;
    if (out->sumsq < 0.0) out->sumsq = 0.0;
}

ALCM_KERNEL void alcm_stats_compute(const float *x, size_t n, alcm_stats *out)
{
    if (!out) return;
    if (!x) n = 0;
    stats(x, NULL, NULL, n, out);
}

ALCM_KERNEL void alcm_stats_compute_sum(const float *x, const float *r, float *y, size_t n,
                                        alcm_stats *out)
{
    stats(x, r, y, n, out);
}

alcm_status alcm_channel_layout(const alcm_shape *shape, uint32_t block_size,
                                uint64_t *channel_len, uint32_t *n_channels)
{
    if (!shape || !channel_len || !n_channels) return ALCM_E_ARG;
    *channel_len = 0;
    *n_channels = 0;
    uint64_t numel;
    alcm_status st = alcm_shape_numel(shape, &numel);
    if (st != ALCM_OK) return st;
    if (numel == 0) return ALCM_OK;

    uint64_t len, count;
    if (shape->rank >= 2) {
        uint64_t rows = shape->dims[0];
        uint64_t row_len = numel / rows;
        uint64_t group = row_len >= 64 ? 1 : (64 + row_len - 1) / row_len;
        if (group > rows) group = rows;
        len = group * row_len;
        count = rows / group + (rows % group != 0);
    } else {
        uint64_t b = block_size ? block_size : ALCM_DEFAULT_BLOCK;
        len = numel < b ? numel : b;
        count = numel / len + (numel % len != 0);
    }
    if (count > UINT32_MAX) return ALCM_E_SHAPE;
    *channel_len = len;
    *n_channels = (uint32_t)count;
    return ALCM_OK;
}
