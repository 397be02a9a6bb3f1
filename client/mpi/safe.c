/* safe.c - safe mode: per-call budgets sized so the result meets the result budget, and the
 * check that proves it on every call (docs/MPI.md, "Safe by default"). */
#include <float.h>
#include <math.h>

#include "mpi_internal.h"

double mpi_l2(const float *x, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)x[i] * x[i];
        s1 += (double)x[i + 1] * x[i + 1];
        s2 += (double)x[i + 2] * x[i + 2];
        s3 += (double)x[i + 3] * x[i + 3];
    }
    for (; i < n; i++) s0 += (double)x[i] * x[i];
    return sqrt((s0 + s1) + (s2 + s3));
}

/* Largest step of the ladder R * 2^(-k/2) not above b, so the stream's configuration (and
 * with it the daemon's stream) changes only when kappa moves by a half octave. */
static double ladder(double R, double b)
{
    double v = R;
    for (int k = 0; k < 60 && v > b; k++) v *= 0.70710678118654752440;
    return v;
}

void mpi_safe_budgets(const mpi_seg *s, alcm_path path, int ranks, double *budget,
                      double *owner_budget)
{
    const double R = s->opts->result_budget;
    /* kappa = ||sum|| / sum_r ||x_r||: 1 when the ranks agree, 1/sqrt(p) for independent
     * inputs (the first guess), near 0 when they cancel (then compression cannot help). */
    double kappa = s->key->kappa > 0 ? s->key->kappa : 1.0 / sqrt((double)ranks);
    if (kappa > 1.0) kappa = 1.0;
    if (path == ALCM_PATH_RSAG) {
        *budget = ladder(R, 0.6 * R * kappa);
        *owner_budget = ladder(R, 0.3 * R);
    } else {
        *budget = ladder(R, 0.9 * R * kappa);
        *owner_budget = *budget;
    }
    if (*budget < 1e-7) *budget = 1e-7;
}

int mpi_safe_accept(mpi_key *key, double result_budget, const float *out, size_t n,
                    double bound, double norms_sum)
{
    double norm = mpi_l2(out, n);
    if (norms_sum > 0) key->kappa = norm / norms_sum;
    /* The ranks' quantisation bounds, a margin on how they were measured, and float
     * rounding of the rank-order sums (at most (p - 1) eps per term; 64 eps covers it for
     * every communicator the bound can help). */
    double e = bound * (1.0 + 1e-3) + 64.0 * FLT_EPSILON * norms_sum;
    /* ||out - exact|| <= e and ||exact|| >= ||out|| - e, so e <= R (||out|| - e) proves
     * ||out - exact|| <= R ||exact||. */
    return e * (1.0 + result_budget) <= result_budget * norm;
}
