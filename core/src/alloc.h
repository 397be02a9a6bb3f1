/* alloc.h - Lagrangian bit allocation: one quantisation step per channel from the entropy
 * map's rate model under a total distortion budget (internal; docs/DESIGN.md). */
#ifndef ALCM_ALLOC_H
#define ALCM_ALLOC_H

#include <stdint.h>

/* A channel as the allocator sees it. */
typedef struct {
    double n;        /* elements */
    double a;        /* rate scale std · 2^(8e - 4); 0 for a constant channel */
    double energy;   /* Σ y² */
    double dscale;   /* distortion model scale: D(Δ) = min(dscale · n Δ²/12, energy) */
    int32_t smin;    /* finest allowed grid index (level limit); > ALCM_STEP_MAX: zero only */
    /* Set by alcm_allocate, which overwrites them on entry: 6a / dscale and 1 / a (a
     * multiplier's choice then needs no division); the choice and its distortion at the
     * search's three multipliers (low end, high end, trial). */
    double kscale;
    double inv_a;
    double pd[3];
    double K;        /* the current multiplier's K and grid index below the root's bound */
    int32_t s0;
    int32_t ps[3];
} alcm_alloc_chan;

/* Modelled rate (bits) and distortion of channel c at grid index s. */
double alcm_alloc_rate(const alcm_alloc_chan *c, int32_t s);
double alcm_alloc_dist(const alcm_alloc_chan *c, int32_t s);

/* Finest grid index whose step keeps max|y| within ALCM_LEVEL_MAX levels (ALCM_STEP_MAX + 1
 * when none does). */
int32_t alcm_alloc_smin(float absmax);

/* The grid index whose step is closest below delta (clamped to the grid). */
int32_t alcm_alloc_index(double delta);

/* Chooses step indices minimising Σ R_c subject to Σ D_c ≤ budget: out[c] is the grid
 * index, or 0 for a zeroed channel. *model_dist gets Σ D_c. Returns 0, or -1 when even the
 * finest allowed steps exceed the budget. */
int alcm_allocate(alcm_alloc_chan *ch, uint32_t C, double budget, uint16_t *out,
                  double *model_dist);

#endif /* ALCM_ALLOC_H */
