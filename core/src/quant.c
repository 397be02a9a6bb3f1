/* quant.c - quantisation kernels of the gradient encoder in GCC/Clang 8-wide vectors: the
 * same IEEE operations as alcm_quantise (multiply, clamp, add ±0.5, truncate), so every
 * kernel and the scalar tails produce identical codes. On x86-64 each kernel is also built
 * for AVX2 and picked at load time; without it the 8 lanes run as two SSE halves. Either
 * way the arithmetic and its order are the same, so the codes and sums are identical. */
#include "quant.h"


#include <math.h>
#include <string.h>

#include "bytes.h"
#include "gradient.h"

#include "simd.h"

typedef float vf __attribute__((vector_size(32)));
typedef int32_t vi __attribute__((vector_size(32)));
typedef uint32_t vu __attribute__((vector_size(32)));
typedef uint16_t vh __attribute__((vector_size(16)));
#define VL 8

#define FLUSH_GROUPS 64   /* 8-element groups summed in float before a flush to double */

/* The helpers are macros, not functions: Clang rejects a function that passes a 32-byte
 * vector by value in code built without AVX, inlined or not. */
#define splat(f) ((vf){(f), (f), (f), (f), (f), (f), (f), (f)})
#define splati(v) ((vi){(v), (v), (v), (v), (v), (v), (v), (v)})
#define loadv(p) __extension__({ vf v_; memcpy(&v_, (p), sizeof v_); v_; })
#define storev(p, v) do { vf s_ = (v); memcpy((p), &s_, sizeof s_); } while (0)
#define selectv(m, a, b) ((vf)(((m) & (vi)(a)) | (~(m) & (vi)(b))))
#define vabs(v) ((vf)((vi)(v) & splati(0x7fffffff)))
/* alcm_zigzag on eight lanes of integer levels. */
#define vzigzag(q) ((vi)(((vu)(q) << 1) ^ (vu)((q) >> 31)))

/* alcm_quantise on eight lanes. (The ±0.5 takes the sign of v; for v = -0 the scalar
 * version adds +0.5 instead, and both truncate to 0.) */
#define vquant(y, inv, thr)                                                                \
    __extension__({                                                                        \
        const vf y_ = (y), lim_ = splat((float)ALCM_LEVEL_MAX),                            \
                 nlim_ = splat(-(float)ALCM_LEVEL_MAX);                                    \
        vf v_ = y_ * (inv);                                                                \
        v_ = selectv(~(v_ <= lim_), lim_, v_); /* NaN-proof: NaN becomes lim */            \
        v_ = selectv(v_ < nlim_, nlim_, v_);                                               \
        vf h_ = (vf)(((vi)v_ & splati((int32_t)0x80000000u)) | (vi)splat(0.5f));           \
        vf q_ = __builtin_convertvector(__builtin_convertvector(v_ + h_, vi), vf);         \
        vf ay_ = (vf)((vi)y_ & splati(0x7fffffff));                                        \
        (vf)((vi)q_ & ~(ay_ < (thr)));                                                     \
    })

static inline __attribute__((always_inline)) void
measure_impl(const float *x, const float *r, size_t n, float step, float inv, float thr,
             alcm_qstats *m, uint16_t *zz, float *e, const int has_r, const int has_z,
             const int has_e)
{
    const vf vinv = splat(inv), vstep = splat(step), vthr = splat(thr);
    const vf one = splat(1.0f), seven = splat(7.0f), big = splat(127.0f);
    vf mx0 = splat(0.0f);
    size_t i = 0;
    while (i + 8 <= n) {
        size_t groups = (n - i) / 8;
        if (groups > FLUSH_GROUPS) groups = FLUSH_GROUPS;
        vf a = splat(0.0f);
        vi c1 = splati(0), c7 = c1, cb = c1;
        for (size_t g = 0; g < groups; g++, i += 8) {
            vf y = loadv(x + i);
            if (has_r) y += loadv(r + i);
            vf q = vquant(y, vinv, vthr);
            if (has_z) { /* the zigzag codes, as alcm_q_codes writes them */
                vi qi = __builtin_convertvector(q, vi);
                vh h = __builtin_convertvector(vzigzag(qi), vh);
                memcpy(zz + i, &h, sizeof h);
            }
            vf d = y - q * vstep;
            if (has_e) storev(e + i, d); /* the residual alcm_q_update_kept would write */
            vf u = d * vinv;
            a += u * u;
            vf aq = vabs(q);
            mx0 = selectv(aq > mx0, aq, mx0);
            c1 -= aq > one; /* a true compare is -1 */
            c7 -= aq > seven;
            cb -= aq > big;
        }
        /* lanes 0-3 then 4-7, as two 4-lane halves would be flushed */
        for (int j = 0; j < 4; j++) m->dist_units += (double)a[j];
        for (int j = 4; j < 8; j++) m->dist_units += (double)a[j];
        for (int j = 0; j < 4; j++) {
            m->over1 += (uint32_t)c1[j] + (uint64_t)(uint32_t)c1[j + 4];
            m->over7 += (uint32_t)c7[j] + (uint64_t)(uint32_t)c7[j + 4];
            m->over127 += (uint32_t)cb[j] + (uint64_t)(uint32_t)cb[j + 4];
        }
    }
    float mx = 0.0f;
    for (int j = 0; j < VL; j++) mx = mx0[j] > mx ? mx0[j] : mx;
    for (; i < n; i++) {
        float y = has_r ? x[i] + r[i] : x[i];
        float q = alcm_quantise(y, inv, thr);
        if (has_z) zz[i] = (uint16_t)alcm_zigzag((int32_t)q);
        float d = y - q * step;
        if (has_e) e[i] = d;
        float u = d * inv;
        m->dist_units += (double)(u * u);
        float aq = q < 0.0f ? -q : q;
        mx = aq > mx ? aq : mx;
        m->over1 += aq > 1.0f;
        m->over7 += aq > 7.0f;
        m->over127 += aq > 127.0f;
    }
    if ((uint32_t)mx > m->maxq) m->maxq = (uint32_t)mx;
}

ALCM_KERNEL void alcm_q_measure(const float *x, const float *r, size_t n, float step, float inv,
                                float thr,
                    alcm_qstats *m)
{
    if (r) measure_impl(x, r, n, step, inv, thr, m, NULL, NULL, 1, 0, 0);
    else measure_impl(x, NULL, n, step, inv, thr, m, NULL, NULL, 0, 0, 0);
}

ALCM_KERNEL void alcm_q_measure_codes(const float *x, const float *r, size_t n, float step,
                                      float inv, float thr, alcm_qstats *m, uint16_t *zz,
                                      float *e)
{
    if (r && e) measure_impl(x, r, n, step, inv, thr, m, zz, e, 1, 1, 1);
    else if (r) measure_impl(x, r, n, step, inv, thr, m, zz, NULL, 1, 1, 0);
    else if (e) measure_impl(x, NULL, n, step, inv, thr, m, zz, e, 0, 1, 1);
    else measure_impl(x, NULL, n, step, inv, thr, m, zz, NULL, 0, 1, 0);
}

static inline __attribute__((always_inline)) uint32_t
codes_impl(const float *x, const float *r, size_t n, float inv, float thr, uint16_t *zz,
           const int has_r)
{
    const vf vinv = splat(inv), vthr = splat(thr);
    vi mz = splati(0);
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vf y = loadv(x + i);
        if (has_r) y += loadv(r + i);
        vi q = __builtin_convertvector(vquant(y, vinv, vthr), vi);
        vi z = vzigzag(q);
        mz = (vi)selectv(z > mz, (vf)z, (vf)mz);
        vh h = __builtin_convertvector(z, vh);
        memcpy(zz + i, &h, sizeof h);
    }
    uint32_t maxz = 0;
    for (int j = 0; j < VL; j++) maxz = (uint32_t)mz[j] > maxz ? (uint32_t)mz[j] : maxz;
    for (; i < n; i++) {
        float q = alcm_quantise(has_r ? x[i] + r[i] : x[i], inv, thr);
        uint32_t z = alcm_zigzag((int32_t)q);
        zz[i] = (uint16_t)z;
        maxz = z > maxz ? z : maxz;
    }
    return maxz;
}

ALCM_KERNEL uint32_t alcm_q_codes(const float *x, const float *r, size_t n, float inv, float thr,
                      uint16_t *zz)
{
    return r ? codes_impl(x, r, n, inv, thr, zz, 1) : codes_impl(x, NULL, n, inv, thr, zz, 0);
}

/* y = x + r, or r alone (x NULL: r holds y on entry), on eight lanes and one element. */
#define load_y(x, r, i) ((x) ? loadv((x) + (i)) + loadv((r) + (i)) : loadv((r) + (i)))
#define elem_y(x, r, i) ((x) ? (x)[i] + (r)[i] : (r)[i])

static inline __attribute__((always_inline)) void
residual_impl(const float *x, float *r, size_t n, float step, float inv, float thr)
{
    const vf vinv = splat(inv), vstep = splat(step), vthr = splat(thr);
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vf y = load_y(x, r, i);
        storev(r + i, y - vquant(y, vinv, vthr) * vstep);
    }
    for (; i < n; i++) {
        float y = elem_y(x, r, i);
        r[i] = y - alcm_quantise(y, inv, thr) * step;
    }
}

ALCM_KERNEL void alcm_q_residual(const float *x, float *r, size_t n, float step, float inv,
                                 float thr)
{
    if (x) residual_impl(x, r, n, step, inv, thr);
    else residual_impl(NULL, r, n, step, inv, thr);
}

static inline __attribute__((always_inline)) uint32_t
codes_update_impl(const float *x, float *r, size_t n, float step, float inv, float thr,
                  uint16_t *zz)
{
    const vf vinv = splat(inv), vstep = splat(step), vthr = splat(thr);
    vi mz = splati(0), bad = splati(0);
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vf y = load_y(x, r, i);
        vf qf = vquant(y, vinv, vthr);
        vf nr = y - qf * vstep;
        storev(r + i, nr);
        bad |= ((vi)nr & splati(0x7f800000)) == splati(0x7f800000);
        vi q = __builtin_convertvector(qf, vi);
        vi z = vzigzag(q);
        mz = (vi)selectv(z > mz, (vf)z, (vf)mz);
        vh h = __builtin_convertvector(z, vh);
        memcpy(zz + i, &h, sizeof h);
    }
    uint32_t maxz = 0;
    int nonfinite = 0;
    for (int j = 0; j < VL; j++) {
        maxz = (uint32_t)mz[j] > maxz ? (uint32_t)mz[j] : maxz;
        nonfinite |= bad[j] != 0;
    }
    for (; i < n; i++) {
        float y = elem_y(x, r, i);
        float q = alcm_quantise(y, inv, thr);
        r[i] = y - q * step;
        nonfinite |= !isfinite(r[i]);
        uint32_t z = alcm_zigzag((int32_t)q);
        zz[i] = (uint16_t)z;
        maxz = z > maxz ? z : maxz;
    }
    return nonfinite ? UINT32_MAX : maxz;
}

ALCM_KERNEL uint32_t alcm_q_codes_update(const float *x, float *r, size_t n, float step, float inv,
                             float thr, uint16_t *zz)
{
    return x ? codes_update_impl(x, r, n, step, inv, thr, zz)
             : codes_update_impl(NULL, r, n, step, inv, thr, zz);
}

static inline __attribute__((always_inline)) int
update_kept_impl(const float *x, float *r, const uint16_t *zz, size_t n, float step)
{
    const vf vstep = splat(step);
    vi bad = splati(0);
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vh h;
        memcpy(&h, zz + i, sizeof h);
        vu z = __builtin_convertvector(h, vu);
        vi q = (vi)(z >> 1) ^ -(vi)(z & 1u); /* zigzag decoded */
        vf y = load_y(x, r, i);
        vf nr = y - __builtin_convertvector(q, vf) * vstep;
        storev(r + i, nr);
        bad |= ((vi)nr & splati(0x7f800000)) == splati(0x7f800000);
    }
    int nonfinite = 0;
    for (int j = 0; j < VL; j++) nonfinite |= bad[j] != 0;
    for (; i < n; i++) {
        float y = elem_y(x, r, i);
        r[i] = y - (float)alcm_unzigzag(zz[i]) * step;
        nonfinite |= !isfinite(r[i]);
    }
    return nonfinite;
}

ALCM_KERNEL int alcm_q_update_kept(const float *x, float *r, const uint16_t *zz, size_t n,
                                   float step)
{
    return x ? update_kept_impl(x, r, zz, n, step) : update_kept_impl(NULL, r, zz, n, step);
}

/* An element is finite when its magnitude bits are below the exponent's all-ones pattern:
 * the largest magnitude pattern over 8 lanes decides, with no branch per element. */
ALCM_KERNEL int alcm_q_all_finite(const float *y, size_t n)
{
    vu mx = (vu)splati(0);
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vu b;
        memcpy(&b, y + i, sizeof b);
        b &= (vu)splati(0x7fffffff);
        mx = (vu)selectv(b > mx, (vf)b, (vf)mx);
    }
    uint32_t m = 0;
    for (int j = 0; j < VL; j++) m = mx[j] > m ? mx[j] : m;
    for (; i < n; i++) {
        uint32_t b;
        memcpy(&b, &y[i], sizeof b);
        b &= 0x7fffffffu;
        m = b > m ? b : m;
    }
    return m < 0x7f800000u;
}
