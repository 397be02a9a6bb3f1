/* order0.c - byte histogram (four interleaved tables) and its Shannon entropy. */
#include "order0.h"

#include "detmath.h"

static double entropy_of(const uint64_t total[256], size_t n)
{
    double bits = 0.0, inv = 1.0 / (double)n;
    for (int v = 0; v < 256; v++) {
        if (!total[v]) continue;
        double q = (double)total[v] * inv;
        bits -= q * alcm_det_log2(q);
    }
    return bits < 0.0 ? 0.0 : bits > 8.0 ? 8.0 : bits;
}

double alcm_order0_bits_strided(const uint8_t *p, size_t n, size_t stride, double *repeats)
{
    if (repeats) *repeats = 0.0;
    if (n == 0) return 0.0;
    if (stride == 0) stride = 1;
    uint64_t total[256] = {0};
    size_t count = 0, pairs = 0, same = 0;
    for (size_t i = 0; i < n; i += stride, count++) {
        total[p[i]]++;
        if (i + 1 < n) {
            pairs++;
            same += p[i] == p[i + 1];
        }
    }
    if (repeats && pairs) {
        double iid = 0.0;
        for (int v = 0; v < 256; v++) {
            double q = (double)total[v] / (double)count;
            iid += q * q;
        }
        *repeats = (double)same / (double)pairs - iid;
    }
    return entropy_of(total, count);
}

double alcm_order0_bits(const uint8_t *p, size_t n)
{
    if (n == 0) return 0.0;
    uint32_t h[4][256] = {{0}};
    size_t i = 0;
    /* 32-bit counters: count in rounds well below 2^32 per table. */
    uint64_t total[256] = {0};
    while (i < n) {
        size_t end = n - i > ((size_t)1 << 30) ? i + ((size_t)1 << 30) : n;
        for (; i + 4 <= end; i += 4) {
            h[0][p[i]]++;
            h[1][p[i + 1]]++;
            h[2][p[i + 2]]++;
            h[3][p[i + 3]]++;
        }
        for (; i < end; i++) h[0][p[i]]++;
        for (int v = 0; v < 256; v++) {
            total[v] += (uint64_t)h[0][v] + h[1][v] + h[2][v] + h[3][v];
            h[0][v] = h[1][v] = h[2][v] = h[3][v] = 0;
        }
    }
    return entropy_of(total, n);
}
