/* quant.c - quantisation kernels of the gradient encoder in GCC/Clang 4-wide vectors: the
 * same IEEE operations as alcm_quantise (multiply, clamp, add ±0.5, truncate), so every
 * kernel and the scalar tails produce identical codes. */
#include "quant.h"

#include <string.h>

#include "bytes.h"
#include "gradient.h"

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef uint16_t v4h __attribute__((vector_size(8)));

#define FLUSH_GROUPS 64   /* 8-element groups summed in float before a flush to double */

static inline v4f splat(float f) { return (v4f){f, f, f, f}; }
static inline v4i splati(int32_t v) { return (v4i){v, v, v, v}; }

static inline v4f load4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

static inline v4f select4(v4i m, v4f a, v4f b)
{
    return (v4f)((m & (v4i)a) | (~m & (v4i)b));
}

/* alcm_quantise on four lanes. (The ±0.5 takes the sign of v; for v = -0 the scalar
 * version adds +0.5 instead, and both truncate to 0.) */
static inline v4f vquant(v4f y, v4f inv, v4f thr)
{
    const v4f lim = splat((float)ALCM_LEVEL_MAX), nlim = splat(-(float)ALCM_LEVEL_MAX);
    v4f v = y * inv;
    v = select4(~(v <= lim), lim, v);   /* NaN-proof: NaN becomes lim */
    v = select4(v < nlim, nlim, v);
    v4f h = (v4f)(((v4i)v & splati((int32_t)0x80000000u)) | (v4i)splat(0.5f));
    v4f q = __builtin_convertvector(__builtin_convertvector(v + h, v4i), v4f);
    v4f ay = (v4f)((v4i)y & splati(0x7fffffff));
    return (v4f)((v4i)q & ~(ay < thr));
}

static inline v4f vabs(v4f v) { return (v4f)((v4i)v & splati(0x7fffffff)); }

static inline __attribute__((always_inline)) void
measure_impl(const float *x, const float *r, size_t n, float step, float inv, float thr,
             alcm_qstats *m, const int has_r)
{
    const v4f vinv = splat(inv), vstep = splat(step), vthr = splat(thr);
    const v4f one = splat(1.0f), seven = splat(7.0f), big = splat(127.0f);
    v4f mx0 = splat(0.0f), mx1 = mx0;
    size_t i = 0;
    while (i + 8 <= n) {
        size_t groups = (n - i) / 8;
        if (groups > FLUSH_GROUPS) groups = FLUSH_GROUPS;
        v4f a0 = splat(0.0f), a1 = a0;
        v4i c1a = splati(0), c1b = c1a, c7a = c1a, c7b = c1a, cba = c1a, cbb = c1a;
        for (size_t g = 0; g < groups; g++, i += 8) {
            v4f y0 = load4(x + i), y1 = load4(x + i + 4);
            if (has_r) {
                y0 += load4(r + i);
                y1 += load4(r + i + 4);
            }
            v4f q0 = vquant(y0, vinv, vthr), q1 = vquant(y1, vinv, vthr);
            v4f u0 = (y0 - q0 * vstep) * vinv, u1 = (y1 - q1 * vstep) * vinv;
            a0 += u0 * u0;
            a1 += u1 * u1;
            v4f aq0 = vabs(q0), aq1 = vabs(q1);
            mx0 = select4(aq0 > mx0, aq0, mx0);
            mx1 = select4(aq1 > mx1, aq1, mx1);
            c1a -= aq0 > one;   /* a true compare is -1 */
            c1b -= aq1 > one;
            c7a -= aq0 > seven;
            c7b -= aq1 > seven;
            cba -= aq0 > big;
            cbb -= aq1 > big;
        }
        for (int j = 0; j < 4; j++) m->dist_units += (double)a0[j];
        for (int j = 0; j < 4; j++) m->dist_units += (double)a1[j];
        for (int j = 0; j < 4; j++) {
            m->over1 += (uint32_t)c1a[j] + (uint64_t)(uint32_t)c1b[j];
            m->over7 += (uint32_t)c7a[j] + (uint64_t)(uint32_t)c7b[j];
            m->over127 += (uint32_t)cba[j] + (uint64_t)(uint32_t)cbb[j];
        }
    }
    float mx = 0.0f;
    for (int j = 0; j < 4; j++) {
        mx = mx0[j] > mx ? mx0[j] : mx;
        mx = mx1[j] > mx ? mx1[j] : mx;
    }
    for (; i < n; i++) {
        float y = has_r ? x[i] + r[i] : x[i];
        float q = alcm_quantise(y, inv, thr);
        float u = (y - q * step) * inv;
        m->dist_units += (double)(u * u);
        float aq = q < 0.0f ? -q : q;
        mx = aq > mx ? aq : mx;
        m->over1 += aq > 1.0f;
        m->over7 += aq > 7.0f;
        m->over127 += aq > 127.0f;
    }
    if ((uint32_t)mx > m->maxq) m->maxq = (uint32_t)mx;
}

void alcm_q_measure(const float *x, const float *r, size_t n, float step, float inv, float thr,
                    alcm_qstats *m)
{
    if (r) measure_impl(x, r, n, step, inv, thr, m, 1);
    else measure_impl(x, NULL, n, step, inv, thr, m, 0);
}

static inline __attribute__((always_inline)) uint32_t
codes_impl(const float *x, const float *r, size_t n, float inv, float thr, uint16_t *zz,
           const int has_r)
{
    const v4f vinv = splat(inv), vthr = splat(thr);
    v4i mz = splati(0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v4f y = load4(x + i);
        if (has_r) y += load4(r + i);
        v4i q = __builtin_convertvector(vquant(y, vinv, vthr), v4i);
        v4i z = (v4i)(((v4u)q << 1) ^ (v4u)(q >> 31));
        mz = (v4i)select4(z > mz, (v4f)z, (v4f)mz);
        v4h h = __builtin_convertvector(z, v4h);
        memcpy(zz + i, &h, sizeof h);
    }
    uint32_t maxz = 0;
    for (int j = 0; j < 4; j++) maxz = (uint32_t)mz[j] > maxz ? (uint32_t)mz[j] : maxz;
    for (; i < n; i++) {
        float q = alcm_quantise(has_r ? x[i] + r[i] : x[i], inv, thr);
        uint32_t z = alcm_zigzag((int32_t)q);
        zz[i] = (uint16_t)z;
        maxz = z > maxz ? z : maxz;
    }
    return maxz;
}

uint32_t alcm_q_codes(const float *x, const float *r, size_t n, float inv, float thr,
                      uint16_t *zz)
{
    return r ? codes_impl(x, r, n, inv, thr, zz, 1) : codes_impl(x, NULL, n, inv, thr, zz, 0);
}

void alcm_q_residual(const float *x, float *r, size_t n, float step, float inv, float thr)
{
    const v4f vinv = splat(inv), vstep = splat(step), vthr = splat(thr);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v4f y = load4(x + i) + load4(r + i);
        store4(r + i, y - vquant(y, vinv, vthr) * vstep);
    }
    for (; i < n; i++) {
        float y = x[i] + r[i];
        r[i] = y - alcm_quantise(y, inv, thr) * step;
    }
}
