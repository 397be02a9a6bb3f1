/* select.c - radix selection of the k-th smallest magnitude (11 + 10 + 10 bit digits of the
 * IEEE pattern, which orders non-negative floats) and the pruning threshold built on it. */
#include "select.h"

#include <math.h>
#include <string.h>

#define D1_SHIFT 20   /* top digit: bits 30..20 (2048 bins) */
#define D1_BINS 2048
#define D2_BINS 1024  /* bits 19..10 */
#define D3_BINS 1024  /* bits 9..0 */

static inline uint32_t mag_key(float y)
{
    uint32_t b;
    memcpy(&b, &y, sizeof b);
    return b & 0x7fffffffu;
}

static inline float y_at(const float *x, const float *r, size_t i)
{
    return r ? x[i] + r[i] : x[i];
}

/* Finds the bin holding rank *k in h[0..bins) and makes *k relative to it. */
static uint32_t find_bin(const uint64_t *h, uint32_t bins, uint64_t *k)
{
    uint64_t cum = 0;
    for (uint32_t b = 0; b < bins; b++) {
        if (*k < cum + h[b]) {
            *k -= cum;
            return b;
        }
        cum += h[b];
    }
    return bins - 1; /* unreachable for k < total */
}

alcm_status alcm_select_kth(const float *x, const float *r, size_t n, uint64_t k,
                            alcm_buf *scratch, float *value)
{
    if (!x || k >= n) return ALCM_E_ARG;
    uint64_t h1[D1_BINS] = {0};
    if (r) {
        for (size_t i = 0; i < n; i++) h1[mag_key(x[i] + r[i]) >> D1_SHIFT]++;
    } else {
        for (size_t i = 0; i < n; i++) h1[mag_key(x[i]) >> D1_SHIFT]++;
    }
    uint32_t b1 = find_bin(h1, D1_BINS, &k);
    uint64_t m = h1[b1];

    uint64_t h2[D2_BINS] = {0}, h3[D3_BINS] = {0};
    uint32_t b2, b3;
    size_t cap_keys = n / 8 < ((size_t)1 << 22) ? n / 8 : ((size_t)1 << 22);
    if (m <= cap_keys && alcm_buf_reserve(scratch, (size_t)m * sizeof(uint32_t)) == 0) {
        /* Few candidates: gather their keys once, finish on the small array. */
        uint32_t *keys = scratch->p;
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t key = mag_key(y_at(x, r, i));
            if ((key >> D1_SHIFT) == b1) keys[c++] = key;
        }
        for (size_t i = 0; i < c; i++) h2[(keys[i] >> 10) & (D2_BINS - 1)]++;
        b2 = find_bin(h2, D2_BINS, &k);
        for (size_t i = 0; i < c; i++)
            if (((keys[i] >> 10) & (D2_BINS - 1)) == b2) h3[keys[i] & (D3_BINS - 1)]++;
    } else {
        /* Many candidates (e.g. a tensor of equal values): two more scans of the input. */
        for (size_t i = 0; i < n; i++) {
            uint32_t key = mag_key(y_at(x, r, i));
            if ((key >> D1_SHIFT) == b1) h2[(key >> 10) & (D2_BINS - 1)]++;
        }
        b2 = find_bin(h2, D2_BINS, &k);
        uint32_t top = b1 << 10 | b2;
        for (size_t i = 0; i < n; i++) {
            uint32_t key = mag_key(y_at(x, r, i));
            if ((key >> 10) == top) h3[key & (D3_BINS - 1)]++;
        }
    }
    b3 = find_bin(h3, D3_BINS, &k);
    uint32_t bits = b1 << D1_SHIFT | b2 << 10 | b3;
    memcpy(value, &bits, sizeof *value);
    return ALCM_OK;
}

/* Count and energy of the elements with |y| < t. */
static void below(const float *x, const float *r, size_t n, float t, uint64_t *count,
                  double *energy)
{
    uint64_t c = 0;
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        float y = y_at(x, r, i);
        if (fabsf(y) < t) {
            c++;
            e += (double)y * (double)y;
        }
    }
    *count = c;
    *energy = e;
}

alcm_status alcm_select_prune(const float *x, const float *r, size_t n, double p,
                              double max_energy, alcm_buf *scratch, alcm_prune *out)
{
    out->threshold = 0.0f;
    out->count = 0;
    out->energy = 0.0;
    if (!(p > 0.0) || n == 0) return ALCM_OK;
    uint64_t k = (uint64_t)(p * (double)n);
    if (k >= n) k = n - 1;
    while (k > 0) {
        float t;
        alcm_status st = alcm_select_kth(x, r, n, k, scratch, &t);
        if (st != ALCM_OK) return st;
        uint64_t c;
        double e;
        below(x, r, n, t, &c, &e);
        if (e <= max_energy) {
            out->threshold = t;
            out->count = c;
            out->energy = e;
            return ALCM_OK;
        }
        k /= 2;
    }
    return ALCM_OK;
}
