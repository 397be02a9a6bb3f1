/* stats_sum.h - per-channel statistics of y = x + r, the encoder's form of alcm_stats_compute
 * (alcm_tools.h) (internal). */
#ifndef ALCM_STATS_SUM_H
#define ALCM_STATS_SUM_H

#include <stddef.h>

#include "alcm_tools.h"

/* The statistics of y = x + r (added in float), as alcm_stats_compute gives them for y;
 * y[0..n) receives the sums. One read of x and r. The `ahead` elements after each
 * (x[n..n+ahead), r[n..n+ahead): the next channel) are prefetched during the two passes,
 * so that the next call finds them in the cache: a step's residual is cold, and the
 * second pass, which computes from the cache, would otherwise leave memory idle. */
void alcm_stats_compute_sum(const float *x, const float *r, float *y, size_t n, size_t ahead,
                            alcm_stats *out);

/* alcm_stats_compute_sum for a y that is kept for later passes over a whole tensor: y is
 * written with non-temporal stores where it is 16-byte aligned (no read of its cache lines
 * before they are written), and the second pass adds x + r again from the cache. The same
 * results and the same y. */
void alcm_stats_compute_sum_nt(const float *x, const float *r, float *y, size_t n, size_t ahead,
                               alcm_stats *out);

#endif /* ALCM_STATS_SUM_H */
