/* stats.c - per-channel statistics (two-pass moments, sparsity, max|x|, sum of squares) and
 * the cutting of a tensor shape into channels. */
#include "alcm_tools.h"
#include "simd.h"
#include "stats_sum.h"

#include <math.h>
#include <string.h>

/*
 * Pass 1: sum in double, min, max and the small-magnitude count.
 * Pass 2: central moments of d = x·s - mean·s, with s a power of two chosen so that
 * max |d| is in [0.5, 1); d, d², d³, d⁴ are summed in float over blocks of 64 groups
 * (64 terms per lane, each <= 1 in magnitude, relative error ~1e-7) and every block is
 * flushed to double. mean·s is split into two floats (hi + lo): when x is near the mean,
 * x·s - hi is exact (Sterbenz), so a large mean with a small spread loses nothing.
 * Both passes work on 8 lanes written with GCC/Clang vector types (AVX2, SSE2/NEON halves or
 * scalar code, the same arithmetic in the same order everywhere): the lane and block order
 * is fixed, so results are deterministic. Min and max are taken on order-preserving integer
 * images of the bit patterns, which vectorise without -ffinite-math-only.
 */
#if defined(__x86_64__)
#include <immintrin.h>
/* Eight floats to p (16-byte aligned) past the caches: two SSE non-temporal stores. */
#define stream8f(p, v)                                                                     \
    do {                                                                                   \
        v4f lo_ = {(v)[0], (v)[1], (v)[2], (v)[3]}, hi_ = {(v)[4], (v)[5], (v)[6], (v)[7]}; \
        _mm_stream_ps((p), (__m128)lo_);                                                   \
        _mm_stream_ps((p) + 4, (__m128)hi_);                                               \
    } while (0)
#define stream_fence() _mm_sfence()
#else
#define stream8f(p, v) memcpy((p), &(v), 32)
#define stream_fence() ((void)0)
#endif

#define LANES 8
#define BLOCK_GROUPS 64      /* groups of LANES summed in float before flushing to double */
#define COUNT_GROUPS 65536   /* groups per flush of the 32-bit small-magnitude counters */

typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* Helpers are macros: Clang rejects functions passing 32-byte vectors by value in code built
 * without AVX. Lanes 0-3 and 4-7 of a v8f/v8i are the two 4-lane halves; each v4d holds
 * four lanes' double sums. */
#define load8f(p) __extension__({ v8f v_; memcpy(&v_, (p), sizeof v_); v_; })
#define load8i(p) __extension__({ v8i v_; memcpy(&v_, (p), sizeof v_); v_; })
#define splat8f(f) ((v8f){(f), (f), (f), (f), (f), (f), (f), (f)})
#define splat8i(v) ((v8i){(v), (v), (v), (v), (v), (v), (v), (v)})
/* Lanes 0-3 / 4-7 widened to double, written element-wise: GCC turns this into one 4-wide
 * conversion, where __builtin_convertvector took two 2-wide ones and an insert. */
#define widen_lo(v) ((v4d){(v)[0], (v)[1], (v)[2], (v)[3]})
#define widen_hi(v) ((v4d){(v)[4], (v)[5], (v)[6], (v)[7]})
#define widen4(p) ((v4d){(p)[0], (p)[1], (p)[2], (p)[3]})
/* ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) of the lanes of two v4d. */
#define hsum8(a, b) ((((a)[0] + (a)[1]) + ((a)[2] + (a)[3])) + (((b)[0] + (b)[1]) + ((b)[2] + (b)[3])))
/* Float bits -> int32 with the same order as the floats (finite values; -0 < +0). */
#define ordered8(b) ((b) ^ (((b) >> 31) & splat8i(0x7fffffff)))
#define vmin8(a, b) __extension__({ v8i a_ = (a), b_ = (b), m_ = a_ < b_; (a_ & m_) | (b_ & ~m_); })
#define vmax8(a, b) __extension__({ v8i a_ = (a), b_ = (b), m_ = a_ > b_; (a_ & m_) | (b_ & ~m_); })

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

static inline int32_t ordered_bits(int32_t b)
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

typedef struct {
    double sum;
    float lo, hi;
    uint64_t small;
} pass1_result;

/* With ra (not NULL), pass 1 runs over y = x + ra, computed in float and stored to y[0..n)
 * as it goes (for pass 2 and the caller; with nt, past the caches, and pass 2 adds x + ra
 * again), and prefetches the first half of the next
 * channel's x and ra (up to `ahead` elements past n), one cache line of each every 32
 * elements; pass 2 prefetches the second half. A step's residual is cold (written a step
 * ago), and spreading the prefetches over both passes keeps them from stalling either. */
static inline __attribute__((always_inline)) void pass1(const float *x, const float *ra,
                                                       float *y, size_t n, pass1_result *r,
                                                       size_t ahead, const int nt)
{
    const float *px = x + n, *pr = ra ? ra + n : NULL;
    const int32_t thr = sparse_threshold_bits();
    const v8i vthr = splat8i(thr), absmask = splat8i(0x7fffffff);
    v4d sa = {0, 0, 0, 0}, sb = sa;       /* lanes 0-3, 4-7 */
    v8i lo = splat8i(INT32_MAX), hi = splat8i(INT32_MIN);
    uint64_t small = 0;
    size_t i = 0;
    const size_t full = n - n % LANES;
    while (i < full) {
        size_t groups = (full - i) / LANES;
        if (groups > COUNT_GROUPS) groups = COUNT_GROUPS;
        v8i cnt = splat8i(0);
        for (size_t g = 0; g < groups; g++, i += LANES) {
            const float *p = x + i;
            v8i b;
            if (ra) { /* the same values as the loads below, from a register */
                if ((i & 24) == 8 && i / 2 < ahead) {
                    __builtin_prefetch(px + i / 2);
                    __builtin_prefetch(pr + i / 2);
                }
                v8f v = load8f(p) + load8f(ra + i);
                if (nt && ((uintptr_t)(y + i) & 15) == 0)
                    stream8f(y + i, v);
                else
                    memcpy(y + i, &v, sizeof v);
                sa += widen_lo(v);
                sb += widen_hi(v);
                b = (v8i)v;
            } else {
                sa += widen4(p);
                sb += widen4(p + 4);
                b = load8i(p);
            }
            v8i k = ordered8(b);
            lo = vmin8(lo, k);
            hi = vmax8(hi, k);
            cnt -= (b & absmask) < vthr;      /* a true compare is -1 */
        }
        for (int j = 0; j < LANES; j++) small += (uint32_t)cnt[j];
    }
    double total = hsum8(sa, sb);
    int32_t mn = INT32_MAX, mx = INT32_MIN;
    for (int j = 0; j < LANES; j++) {
        mn = lo[j] < mn ? lo[j] : mn;
        mx = hi[j] > mx ? hi[j] : mx;
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

/* Sums of d, d², d³, d⁴ with d = x·s - (mhi + mlo) (x + ra when ra is not NULL), in double,
 * from x (and ra) in the cache; with `ahead`, the second half of the next channel (px, pr)
 * is prefetched meanwhile. */
static inline __attribute__((always_inline)) void pass2(const float *x, size_t n, float s,
                                                       float mhi, float mlo, double out[4],
                                                       const float *px, const float *pr,
                                                       size_t ahead, const float *ra)
{
    const v8f vs = splat8f(s), vh = splat8f(mhi), vl = splat8f(mlo);
    const size_t half = (n - n % LANES) / 2;
    v4d a1 = {0, 0, 0, 0}, b1 = a1, a2 = a1, b2 = a1, a3 = a1, b3 = a1, a4 = a1, b4 = a1;
    size_t i = 0;
    const size_t full = n - n % LANES;
    while (i < full) {
        size_t groups = (full - i) / LANES;
        if (groups > BLOCK_GROUPS) groups = BLOCK_GROUPS;
        v8f f1 = splat8f(0.0f), f2 = f1, f3 = f1, f4 = f1;
        for (size_t g = 0; g < groups; g++, i += LANES) {
            if ((i & 24) == 8 && half + i / 2 < ahead) {
                __builtin_prefetch(px + half + i / 2);
                __builtin_prefetch(pr + half + i / 2);
            }
            v8f xv = ra ? load8f(x + i) + load8f(ra + i) : load8f(x + i);
            v8f d = (xv * vs - vh) - vl;
            v8f e = d * d;
            f1 += d;
            f2 += e;
            f3 += e * d;
            f4 += e * e;
        }
        a1 += widen_lo(f1);
        b1 += widen_hi(f1);
        a2 += widen_lo(f2);
        b2 += widen_hi(f2);
        a3 += widen_lo(f3);
        b3 += widen_hi(f3);
        a4 += widen_lo(f4);
        b4 += widen_hi(f4);
    }
    out[0] = hsum8(a1, b1);
    out[1] = hsum8(a2, b2);
    out[2] = hsum8(a3, b3);
    out[3] = hsum8(a4, b4);
    for (; i < n; i++) {
        float xv = ra ? x[i] + ra[i] : x[i];
        float d = (xv * s - mhi) - mlo;
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
                                                       float *y, size_t n, size_t ahead,
                                                       alcm_stats *out, const int nt)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return;
    out->n = n;

    pass1_result p1;
    if (!ra) ahead = 0;
    pass1(x, ra, y, n, &p1, ahead, nt);
    const float *px = x + n, *pr = ra ? ra + n : NULL;
    const float *ra2 = nt ? ra : NULL; /* streamed y is not in the cache: x + ra again */
    if (ra && !nt) x = y;
    const double dn = (double)n;
    const double mean = p1.sum / dn;
    out->mean = mean;
    out->sparsity = (double)p1.small / dn;
    double alo = fabs((double)p1.lo), ahi = fabs((double)p1.hi);
    out->absmax = alo > ahi ? alo : ahi;
    /* An infinity or a NaN makes min or max non-finite (NaNs order beyond the infinities):
     * absmax is then an infinity or a NaN too, and the moments are left 0. */
    if (!isfinite(alo) || !isfinite(ahi)) {
        out->absmax = alo + ahi;
        return;
    }

    /* Largest |x - mean|; 0 means a constant channel (all central moments 0). */
    double dlo = mean - (double)p1.lo, dhi = (double)p1.hi - mean;
    double dmax = dlo > dhi ? dlo : dhi;
    if (!(dmax > 0.0)) {
        out->sumsq = dn * mean * mean;
        return;
    }
    /* dmax in [2^(e-1), 2^e), from its exponent bits (frexp's e: dmax is a normal double,
     * the differences of finite floats and a double mean being far above 2^-1022). */
    uint64_t db;
    memcpy(&db, &dmax, sizeof db);
    int e = (int)((db >> 52) & 0x7ff) - 1022;
    if (e > 126) e = 126;            /* keep s a normal float; |d·s| <= 8 then */
    if (e < -126) e = -126;
    const uint64_t sb = (uint64_t)(1023 - e) << 52;   /* 2^-e */
    double sd;
    memcpy(&sd, &sb, sizeof sd);
    const float s = (float)sd;
    const double ms = mean * sd;
    const float mhi = (float)ms;
    const float mlo = (float)(ms - (double)mhi);

    double t[4];
    pass2(x, n, s, mhi, mlo, t, px, pr, ahead, ra2);

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
    stats(x, NULL, NULL, n, 0, out, 0);
}

ALCM_KERNEL void alcm_stats_compute_sum(const float *x, const float *r, float *y, size_t n,
                                        size_t ahead, alcm_stats *out)
{
    stats(x, r, y, n, ahead, out, 0);
}

ALCM_KERNEL void alcm_stats_compute_sum_nt(const float *x, const float *r, float *y, size_t n,
                                           size_t ahead, alcm_stats *out)
{
    stats(x, r, y, n, ahead, out, 1);
    stream_fence();
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
