/* stats.c - mean and coefficient of variation of per-run figures. */
#include <math.h>

#include "bench_internal.h"

void bench_mean_cv(const double *v, size_t n, double *mean, double *cv)
{
    double m = 0;
    int same = 1;
    for (size_t i = 0; i < n; i++) {
        m += v[i];
        same &= v[i] == v[0];
    }
    m = n ? m / (double)n : 0;
    if (n && same) {   /* identical values: exactly that value, no rounding residue */
        *mean = v[0];
        *cv = 0;
        return;
    }
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    /* Sample standard deviation (n - 1), relative to the mean. */
    *cv = (n >= 2 && m != 0) ? sqrt(ss / (double)(n - 1)) / fabs(m) : 0;
}
