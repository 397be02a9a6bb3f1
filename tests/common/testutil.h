/* testutil.h - small helpers shared by the cmocka suites (header-only). */
#ifndef ALCM_TESTUTIL_H
#define ALCM_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "alcm.h"
#include "alcm_tools.h"

/* malloc that fails the test instead of returning NULL. */
static inline void *tu_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

/* A tensor of n floats from a synthetic family, seeded. */
static inline float *tu_synth(alcm_synth_family fam, size_t n, size_t row, uint64_t seed)
{
    float *x = tu_malloc(n * sizeof *x);
    alcm_rng rng;
    alcm_rng_seed(&rng, seed);
    alcm_synth_fill(&rng, fam, x, n, row);
    return x;
}

/* Rewrites x[0..n) until stop is set, every 7th value per sweep: small and large finite
 * values in turn, and every nan_every-th sweep NaN and infinity (a client that changes its
 * tensor while a call reads it). Run it on its own thread: pthread_create(.., tu_rewrite_loop,
 * &rewriter). */
typedef struct {
    float *x;
    size_t n;
    unsigned nan_every;
    volatile int stop;
} tu_rewriter;

static inline void *tu_rewrite_loop(void *arg)
{
    tu_rewriter *w = arg;
    for (uint32_t k = 0; !w->stop; k++) {
        uint32_t phase = k % w->nan_every;
        for (size_t i = 0; i < w->n; i += 7)
            w->x[i] = phase == w->nan_every - 1 ? (i % 2 ? NAN : INFINITY)
                      : phase % 2 ? 1e3f * (float)(1 + i % 3) : (float)(i % 13) * 1e-4f;
    }
    return NULL;
}

#endif
