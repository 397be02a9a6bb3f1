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

#endif
