/* stats.c - mean and coefficient of variation of per-run figures. */
#include <math.h>

#include "bench_internal.h"

void bench_mean_cv(const double *v, size_t n, double *mean, double *cv)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m += v[i];
    m = n ? m / (double)n : 0;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    /* Sample standard deviation (n - 1), relative to the mean. */
    *cv = (n >= 2 && m != 0) ? sqrt(ss / (double)(n - 1)) / fabs(m) : 0;
}
