/* predictor.c - the entropy predictor: feature normalisation, the 6-64-1 MLP forward pass
 * and the measured normalised entropy it is trained to predict. */
#include "alcm_tools.h"

#include <math.h>
#include <string.h>

#include "detmath.h"
#include "predictor_default.h"
#include "simd.h"

typedef float v8f __attribute__((vector_size(32)));

_Static_assert(ALCM_HIDDEN % 8 == 0, "the forward pass works on eight hidden units at a time");
typedef int32_t v8i __attribute__((vector_size(32)));

/* Hidden units of the default model, eight at a time: each lane sums its unit's terms in
 * feature order, as the scalar loop does, and units at or below zero (or NaN) become 0. */
ALCM_KERNEL static void hidden_default(const float *b1, const float *f, float *hid)
{
    const float(*w1t)[ALCM_HIDDEN] = alcm_predictor_default_w1t();
    for (int h = 0; h < ALCM_HIDDEN; h += 8) {
        v8f a;
        memcpy(&a, b1 + h, sizeof a);
        for (int k = 0; k < ALCM_N_FEATURES; k++) {
            v8f w;
            memcpy(&w, &w1t[k][h], sizeof w);
            a += w * (v8f){f[k], f[k], f[k], f[k], f[k], f[k], f[k], f[k]};
        }
        a = (v8f)((v8i)a & (a > 0.0f));
        memcpy(hid + h, &a, sizeof a);
    }
}

/* Histogram window of the measured entropy; a channel whose codes span more bins is
 * counted window by window (the span is at most about 23·sqrt(n) bins, docs/DESIGN.md). */
#define HIST_BINS 2048

static double signed_log1p(double v)
{
    if (v == 0.0 || v != v) return 0.0;
    double a = fabs(v);
    double l = alcm_det_log(1.0 + a);
    return v < 0.0 ? -l : l;
}

void alcm_features(const alcm_stats *stats, float out[ALCM_N_FEATURES])
{
    if (!out) return;
    if (!stats) {
        memset(out, 0, sizeof(float) * ALCM_N_FEATURES);
        return;
    }
    double am = fabs(stats->mean), sd = stats->std;
    double f0 = (am + sd > 0.0) ? stats->mean / (am + sd) : 0.0;
    double f1 = alcm_det_log10(stats->var + 1e-30) / 30.0;
    double f2 = alcm_det_log10(stats->std + 1e-15) / 15.0;
    double f3 = signed_log1p(stats->skew) / 4.0;
    double f4 = signed_log1p(stats->kurt) / 4.0;
    double f5 = stats->sparsity;
    out[0] = (float)f0;
    out[1] = (float)f1;
    out[2] = (float)f2;
    out[3] = (float)f3;
    out[4] = (float)f4;
    out[5] = (float)f5;
}

float alcm_predict(const alcm_predictor *model, const float features[ALCM_N_FEATURES])
{
    if (!model || !features) return ALCM_ENTROPY_MIN;
    /* The hidden units first, each summed over the features in order, then the output sum
     * (below). A unit at or below zero (or NaN) contributes w2·0 = ±0 instead of being
     * skipped: z keeps its value (at most the sign of a zero z changes, which the sigmoid
     * does not see), and the loop has no data-dependent branch. */
    float f[ALCM_N_FEATURES], hid[ALCM_HIDDEN];
    memcpy(f, features, sizeof f);
    if (model == alcm_predictor_default()) {
        hidden_default(model->b1, f, hid);
    } else {
        for (int h = 0; h < ALCM_HIDDEN; h++) {
            float a = model->b1[h];
            for (int k = 0; k < ALCM_N_FEATURES; k++) a += model->w1[h][k] * f[k];
            uint32_t b, keep = 0u - (uint32_t)(a > 0.0f); /* all ones or zero, no branch */
            memcpy(&b, &a, sizeof b);
            b &= keep;
            memcpy(&hid[h], &b, sizeof b);
        }
    }
    /* The output sum in eight lanes (unit h goes to lane h mod 8, each lane in unit order),
     * then the lanes pairwise: eight short dependency chains instead of one of 64 adds. */
    float lane[8] = {0};
    for (int h = 0; h < ALCM_HIDDEN; h += 8)
        for (int j = 0; j < 8; j++) lane[j] += model->w2[h + j] * hid[h + j];
    float z = model->b2 + (((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                           ((lane[4] + lane[5]) + (lane[6] + lane[7])));
    double sig = 1.0 / (1.0 + alcm_det_exp(-(double)z));
    float e = ALCM_ENTROPY_MIN + (ALCM_ENTROPY_MAX - ALCM_ENTROPY_MIN) * (float)sig;
    if (!(e >= ALCM_ENTROPY_MIN)) e = ALCM_ENTROPY_MIN;   /* also catches NaN */
    if (e > ALCM_ENTROPY_MAX) e = ALCM_ENTROPY_MAX;
    return e;
}

float alcm_measured_entropy(const float *x, size_t n, const alcm_stats *stats)
{
    if (!x || n == 0 || !stats || !(stats->std > 0.0) || !isfinite(stats->std))
        return ALCM_ENTROPY_MIN;
    const double inv_step = 16.0 / stats->std;      /* 1 / Δ_ref, Δ_ref = std / 16 */

    /* Rounding is monotone: the extreme codes are the codes of the extreme values. */
    float xmin = x[0], xmax = x[0];
    for (size_t i = 1; i < n; i++) {
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
    }
    if (!isfinite(xmin) || !isfinite(xmax)) return ALCM_ENTROPY_MAX;   /* outside contract */
    const double qmax = alcm_round_half_away((double)xmax * inv_step);
    /* Σ c·log2(c) over the histogram of codes, one window of at most HIST_BINS codes at a
     * time, windows in increasing code order (deterministic). */
    uint64_t count[HIST_BINS];
    double clogc = 0.0;
    double lo = alcm_round_half_away((double)xmin * inv_step);
    while (lo <= qmax) {
        const double span = qmax - lo + 1.0;
        const size_t bins = span < (double)HIST_BINS ? (size_t)span : HIST_BINS;
        memset(count, 0, bins * sizeof count[0]);
        const double hi = lo + (double)bins;
        double next = INFINITY;
        for (size_t i = 0; i < n; i++) {
            double q = alcm_round_half_away((double)x[i] * inv_step);
            if (q >= lo && q < hi) count[(size_t)(q - lo)]++;
            else if (q >= hi && q < next) next = q;
        }
        for (size_t b = 0; b < bins; b++)
            if (count[b] > 1) clogc += (double)count[b] * alcm_det_log2((double)count[b]);
        lo = next;
    }
    const double dn = (double)n;
    double h = alcm_det_log2(dn) - clogc / dn;
    double e = h / 8.0;
    if (!(e >= ALCM_ENTROPY_MIN)) e = ALCM_ENTROPY_MIN;
    if (e > ALCM_ENTROPY_MAX) e = ALCM_ENTROPY_MAX;
    return (float)e;
}
