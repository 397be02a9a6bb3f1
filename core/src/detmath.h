/* detmath.h - libm-free log, exp and rounding built from IEEE basic operations only, so
 * results are bit-identical on every machine running the same build (internal). */
#ifndef ALCM_DETMATH_H
#define ALCM_DETMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define ALCM_LN2_HI 6.93147180369123816490e-01   /* high bits of ln 2 (exact product with k) */
#define ALCM_LN2_LO 1.90821492927058770002e-10   /* ln 2 - ALCM_LN2_HI */
#define ALCM_INV_LN2 1.44269504088896338700e+00
#define ALCM_LN10 2.30258509299404568402e+00

/* Natural logarithm of a finite x > 0 (subnormals included), about 1 ulp. Returns -inf for
 * 0 and NaN for negative or NaN input. Splits x as frexp does (from the bits when x is
 * normal: exact, no library call) and sums a fixed odd series in
 * s = (m - 1) / (m + 1), |s| <= 0.172. */
static inline double alcm_det_log(double x)
{
    if (!(x > 0.0)) return x == 0.0 ? -INFINITY : NAN;
    if (isinf(x)) return x;
    int e;
    double m;
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    if (b >> 52 != 0) { /* normal: frexp from the bits (x = m * 2^e, m in [0.5, 1)) */
        e = (int)(b >> 52) - 1022;
        b = (b & 0x000fffffffffffffull) | 0x3fe0000000000000ull;
        memcpy(&m, &b, sizeof m);
    } else {
        m = frexp(x, &e);                     /* subnormal */
    }
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s;
    double p = 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    double k = (double)e;
    return (k * ALCM_LN2_HI + 2.0 * s * p) + k * ALCM_LN2_LO;
}

/* e^x for finite x, about 1 ulp; +inf above 709.78, 0 below -745.2. Range reduction
 * x = k ln2 + r, |r| <= 0.347, degree-13 Taylor polynomial, exact scaling by 2^k (from the
 * exponent bits unless the result could leave the normal range, where ldexp rounds). */
static inline double alcm_det_exp(double x)
{
    if (x != x) return x;
    if (x > 709.782712893384) return INFINITY;
    if (x < -745.2) return 0.0;
    double k = floor(x * ALCM_INV_LN2 + 0.5);
    double r = (x - k * ALCM_LN2_HI) - k * ALCM_LN2_LO;
    double p = 1.0 / 6227020800.0;            /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    if (k < -1020.0 || k > 1023.0) return ldexp(p, (int)k);
    uint64_t b = (uint64_t)((int64_t)k + 1023) << 52; /* 2^k, a normal double */
    double p2;
    memcpy(&p2, &b, sizeof p2);
    return p * p2; /* p in [0.7, 1.42]: a normal result, as exact as ldexp's */
}

/* log2 and log10 through alcm_det_log. */
static inline double alcm_det_log2(double x) { return alcm_det_log(x) * ALCM_INV_LN2; }
static inline double alcm_det_log10(double x) { return alcm_det_log(x) / ALCM_LN10; }

/* Round to the nearest integer, halves away from zero (C round()), exactly, without libm. */
static inline double alcm_round_half_away(double t)
{
    if (!(fabs(t) < 4503599627370496.0)) return t;   /* >= 2^52: already integral (or NaN) */
    double i = (double)(int64_t)t;                     /* truncation toward zero, exact */
    double f = t - i;                                  /* exact */
    return i + (double)((f >= 0.5) - (f <= -0.5));     /* branch-free: data-dependent */
}

#endif /* ALCM_DETMATH_H */
