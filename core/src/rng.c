/* rng.c - seeded random numbers: xoshiro256** seeded by splitmix64, uniform and normal. */
#include "alcm_tools.h"

#include <math.h>

#include "detmath.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void alcm_rng_seed(alcm_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

uint64_t alcm_rng_next(alcm_rng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double alcm_rng_uniform(alcm_rng *rng)
{
    return (double)(alcm_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Marsaglia's polar method with the libm-free logarithm, so the sequence is the same on
 * every machine; the second variate of each accepted pair is discarded (the generator
 * state is the only state). */
double alcm_rng_normal(alcm_rng *rng)
{
    for (;;) {
        double u = 2.0 * alcm_rng_uniform(rng) - 1.0;
        double v = 2.0 * alcm_rng_uniform(rng) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * alcm_det_log(s) / s);
    }
}
