/* rel_l2.c - the relative L2 error of a reconstruction against its original tensor. */
#include "alcm_tools.h"

#include <math.h>

double alcm_rel_l2_error(const float *ref, const float *approx, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)ref[i] - (double)approx[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}
