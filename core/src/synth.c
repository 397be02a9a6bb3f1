/* synth.c - synthetic tensor families (Gaussian, Laplace, sparse, Student-t, mixed scales
 * and the synthetic gradient of docs/DESIGN.md) drawn from an alcm_rng. */
#include "alcm_tools.h"

#include <math.h>

#include "detmath.h"

/* Synthetic gradient parameters (docs/DESIGN.md, "Synthetic gradient"). */
#define GRAD_SCALE 1e-3          /* median row scale */
#define GRAD_ROW_SIGMA 1.0       /* sigma of ln(row scale) */
#define GRAD_COL_SIGMA 0.5       /* std of ln(column scale), log-uniform */
#define GRAD_DEAD_ROW 0.03       /* probability that a whole row is zero (dead unit) */
#define GRAD_ZERO_COL 0.20       /* probability that a column is zero in every row */
#define GRAD_ZERO_ELEM 0.05      /* probability that any other element is zero */
#define GRAD_OUTLIER 0.005       /* probability of an outlier ... */
#define GRAD_OUTLIER_GAIN 8.0    /* ... this many times larger */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Standard Laplace (scale 1, variance 2): random sign times an exponential. */
static double laplace(alcm_rng *rng)
{
    uint64_t r = alcm_rng_next(rng);
    double u = ((double)(r >> 11) + 0.5) * 0x1.0p-53;
    double e = -alcm_det_log(u);
    return (r & 1) ? -e : e;
}

/* Student-t with 3 degrees of freedom: Z / sqrt(chi2_3 / 3). */
static double student3(alcm_rng *rng)
{
    double z = alcm_rng_normal(rng);
    double a = alcm_rng_normal(rng), b = alcm_rng_normal(rng), c = alcm_rng_normal(rng);
    double chi = a * a + b * b + c * c;
    if (!(chi > 0.0)) chi = 0x1.0p-60;
    return z / sqrt(chi / 3.0);
}

/* Deterministic uniform in [0, 1) of (key, column), so a column keeps its mask and scale
 * in every row without storing anything. */
static double hashed_uniform(uint64_t key, uint64_t j)
{
    return (double)(mix64(key ^ mix64(j * 0xd1342543de82ef95ULL + 1)) >> 11) * 0x1.0p-53;
}

static void fill_gradient(alcm_rng *rng, float *x, size_t n, size_t row_len)
{
    const uint64_t key = alcm_rng_next(rng);
    for (size_t start = 0; start < n; start += row_len) {
        size_t len = n - start < row_len ? n - start : row_len;
        double row_scale = GRAD_SCALE * alcm_det_exp(GRAD_ROW_SIGMA * alcm_rng_normal(rng));
        int dead = alcm_rng_uniform(rng) < GRAD_DEAD_ROW;
        for (size_t j = 0; j < len; j++) {
            float v = 0.0f;
            if (!dead && hashed_uniform(key, j) >= GRAD_ZERO_COL &&
                alcm_rng_uniform(rng) >= GRAD_ZERO_ELEM) {
                double u = hashed_uniform(key ^ 0x5851f42d4c957f2dULL, j);
                double col = alcm_det_exp(GRAD_COL_SIGMA * 1.7320508075688772 * (2.0 * u - 1.0));
                double l = laplace(rng);
                if (alcm_rng_uniform(rng) < GRAD_OUTLIER) l *= GRAD_OUTLIER_GAIN;
                v = (float)(row_scale * col * l);
            }
            x[start + j] = v;
        }
    }
}

void alcm_synth_fill(alcm_rng *rng, alcm_synth_family family, float *x, size_t n,
                     size_t row_len)
{
    if (!rng || !x || n == 0) return;
    if (row_len == 0 || row_len > n) row_len = n;
    switch (family) {
    case ALCM_SYNTH_GAUSSIAN:
        for (size_t i = 0; i < n; i++) x[i] = (float)alcm_rng_normal(rng);
        return;
    case ALCM_SYNTH_LAPLACE:
        for (size_t i = 0; i < n; i++) x[i] = (float)laplace(rng);
        return;
    case ALCM_SYNTH_SPARSE:
        /* Per row: a zero fraction uniform in [0.1, 0.9], the rest standard normal. */
        for (size_t start = 0; start < n; start += row_len) {
            size_t len = n - start < row_len ? n - start : row_len;
            double p = 0.1 + 0.8 * alcm_rng_uniform(rng);
            for (size_t j = 0; j < len; j++)
                x[start + j] = alcm_rng_uniform(rng) < p ? 0.0f : (float)alcm_rng_normal(rng);
        }
        return;
    case ALCM_SYNTH_HEAVY:
        for (size_t i = 0; i < n; i++) x[i] = (float)student3(rng);
        return;
    case ALCM_SYNTH_MIXED_SCALE:
        /* Per row: a scale 10^U(-3, 3) times standard normal. */
        for (size_t start = 0; start < n; start += row_len) {
            size_t len = n - start < row_len ? n - start : row_len;
            double scale = alcm_det_exp((6.0 * alcm_rng_uniform(rng) - 3.0) * ALCM_LN10);
            for (size_t j = 0; j < len; j++)
                x[start + j] = (float)(scale * alcm_rng_normal(rng));
        }
        return;
    case ALCM_SYNTH_GRADIENT:
        fill_gradient(rng, x, n, row_len);
        return;
    case ALCM_SYNTH_COUNT:
        break;
    }
    for (size_t i = 0; i < n; i++) x[i] = 0.0f;
}

const char *alcm_synth_name(alcm_synth_family family)
{
    switch (family) {
    case ALCM_SYNTH_GAUSSIAN: return "gaussian";
    case ALCM_SYNTH_LAPLACE: return "laplace";
    case ALCM_SYNTH_SPARSE: return "sparse";
    case ALCM_SYNTH_HEAVY: return "heavy";
    case ALCM_SYNTH_MIXED_SCALE: return "mixed_scale";
    case ALCM_SYNTH_GRADIENT: return "gradient";
    case ALCM_SYNTH_COUNT: break;
    }
    return "?";
}
