/* select.h - pruning threshold by radix selection of |y| on IEEE bit patterns: O(n),
 * deterministic, no sort (internal). */
#ifndef ALCM_SELECT_H
#define ALCM_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"
#include "bytes.h"

typedef struct {
    float threshold;   /* values with |y| < threshold are pruned; 0 = nothing pruned */
    uint64_t count;    /* elements pruned */
    double energy;     /* Σ y² of the pruned elements */
} alcm_prune;

/* The (k+1)-th smallest |y| of y = x + r (r may be NULL; values finite), i.e. the value
 * below which at most k elements lie. */
alcm_status alcm_select_kth(const float *x, const float *r, size_t n, uint64_t k,
                            alcm_buf *scratch, float *value);

/* Pruning for ratio p: k = floor(p·n); the threshold is the (k+1)-th smallest |y|, and k
 * is halved until the pruned energy is at most max_energy. */
alcm_status alcm_select_prune(const float *x, const float *r, size_t n, double p,
                              double max_energy, alcm_buf *scratch, alcm_prune *out);

#endif /* ALCM_SELECT_H */
