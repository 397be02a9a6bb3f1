/* train.c - offline training of the entropy predictor: Xavier init, MSE, Adam, shuffled
 * mini-batches and a held-out split, all deterministic from the seed. */
#include "alcm_tools.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detmath.h"

#define H ALCM_HIDDEN
#define F ALCM_N_FEATURES
#define BETA1 0.9
#define BETA2 0.999
#define ADAM_EPS 1e-8
#define MAX_EPOCHS 100000u
#define MAX_BATCH 65536u

/* Master parameters (double) in one flat array; Adam moments and gradients share it. */
#define W1(h, k) ((h) * F + (k))
#define B1(h) (H * F + (h))
#define W2(h) (H * F + H + (h))
#define B2 (H * F + 2 * H)
#define N_PARAMS (H * F + 2 * H + 1)

void alcm_train_config_default(alcm_train_config *cfg)
{
    if (!cfg) return;
    cfg->seed = 42;
    cfg->epochs = 10;
    cfg->batch = 32;
    cfg->learning_rate = 0.001;
    cfg->holdout = 0.2;
}

static void to_model(const double *p, alcm_predictor *m)
{
    for (int h = 0; h < H; h++) {
        for (int k = 0; k < F; k++) m->w1[h][k] = (float)p[W1(h, k)];
        m->b1[h] = (float)p[B1(h)];
        m->w2[h] = (float)p[W2(h)];
    }
    m->b2 = (float)p[B2];
}

/* Mean squared error of the float model (alcm_predict, what the encoder runs). */
static double mse(const alcm_predictor *m, const float *features, const float *targets,
                  const size_t *idx, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)alcm_predict(m, features + idx[i] * F) - (double)targets[idx[i]];
        s += d * d;
    }
    return n ? s / (double)n : 0.0;
}

static void shuffle(alcm_rng *rng, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(alcm_rng_next(rng) % i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* Adds the gradient of (y - t)² for one sample to g. */
static void accumulate_grad(const double *p, const float *x, float target, double *g)
{
    double a[H];
    double z = p[B2];
    for (int h = 0; h < H; h++) {
        double s = p[B1(h)];
        for (int k = 0; k < F; k++) s += p[W1(h, k)] * (double)x[k];
        a[h] = s > 0.0 ? s : 0.0;
        z += p[W2(h)] * a[h];
    }
    double sig = 1.0 / (1.0 + alcm_det_exp(-z));
    double y = (double)ALCM_ENTROPY_MIN + (double)(ALCM_ENTROPY_MAX - ALCM_ENTROPY_MIN) * sig;
    double dz = 2.0 * (y - (double)target) * (double)(ALCM_ENTROPY_MAX - ALCM_ENTROPY_MIN) *
                sig * (1.0 - sig);
    g[B2] += dz;
    for (int h = 0; h < H; h++) {
        g[W2(h)] += dz * a[h];
        if (a[h] > 0.0) {
            double da = dz * p[W2(h)];
            g[B1(h)] += da;
            for (int k = 0; k < F; k++) g[W1(h, k)] += da * (double)x[k];
        }
    }
}

alcm_status alcm_train(const float *features, const float *targets, size_t n,
                       const alcm_train_config *cfg, alcm_predictor *out,
                       alcm_train_report *report)
{
    alcm_train_config c;
    if (cfg) c = *cfg;
    else alcm_train_config_default(&c);
    if (!features || !targets || !out || n < 2) return ALCM_E_ARG;
    if (c.epochs == 0 || c.epochs > MAX_EPOCHS || c.batch == 0 || c.batch > MAX_BATCH)
        return ALCM_E_ARG;
    if (!(c.learning_rate > 0.0) || !isfinite(c.learning_rate)) return ALCM_E_ARG;
    if (!(c.holdout >= 0.0 && c.holdout < 1.0)) return ALCM_E_ARG;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(targets[i])) return ALCM_E_ARG;
        for (int k = 0; k < F; k++)
            if (!isfinite(features[i * F + k])) return ALCM_E_ARG;
    }
    size_t n_hold = (size_t)floor(c.holdout * (double)n);
    size_t n_train = n - n_hold;
    if (n_train == 0) return ALCM_E_ARG;

    size_t *idx = malloc(n * sizeof *idx);
    double *p = calloc(4 * (size_t)N_PARAMS, sizeof *p);  /* params, Adam m, Adam v, grad */
    if (!idx || !p) {
        free(idx);
        free(p);
        return ALCM_E_NOMEM;
    }
    double *pm = p + N_PARAMS, *pv = p + 2 * N_PARAMS, *pg = p + 3 * N_PARAMS;

    alcm_rng rng;
    alcm_rng_seed(&rng, c.seed);
    /* Xavier-uniform weights, zero biases. */
    const double lim1 = sqrt(6.0 / (double)(F + H)), lim2 = sqrt(6.0 / (double)(H + 1));
    for (int h = 0; h < H; h++)
        for (int k = 0; k < F; k++) p[W1(h, k)] = (2.0 * alcm_rng_uniform(&rng) - 1.0) * lim1;
    for (int h = 0; h < H; h++) p[W2(h)] = (2.0 * alcm_rng_uniform(&rng) - 1.0) * lim2;

    /* Held-out split: a seeded permutation; the first n_hold samples are held out. */
    for (size_t i = 0; i < n; i++) idx[i] = i;
    shuffle(&rng, idx, n);
    size_t *hold = idx, *train = idx + n_hold;

    alcm_train_report rep;
    memset(&rep, 0, sizeof rep);
    rep.n_train = (uint32_t)(n_train > UINT32_MAX ? UINT32_MAX : n_train);
    rep.n_holdout = (uint32_t)(n_hold > UINT32_MAX ? UINT32_MAX : n_hold);

    double b1t = 1.0, b2t = 1.0;
    for (uint32_t epoch = 0; epoch < c.epochs; epoch++) {
        shuffle(&rng, train, n_train);
        for (size_t start = 0; start < n_train; start += c.batch) {
            size_t len = n_train - start < c.batch ? n_train - start : c.batch;
            memset(pg, 0, N_PARAMS * sizeof *pg);
            for (size_t i = 0; i < len; i++) {
                size_t s = train[start + i];
                accumulate_grad(p, features + s * F, targets[s], pg);
            }
            b1t *= BETA1;
            b2t *= BETA2;
            const double inv = 1.0 / (double)len;
            for (int j = 0; j < N_PARAMS; j++) {
                double g = pg[j] * inv;
                pm[j] = BETA1 * pm[j] + (1.0 - BETA1) * g;
                pv[j] = BETA2 * pv[j] + (1.0 - BETA2) * g * g;
                double mh = pm[j] / (1.0 - b1t), vh = pv[j] / (1.0 - b2t);
                p[j] -= c.learning_rate * mh / (sqrt(vh) + ADAM_EPS);
            }
        }
        if (epoch < 64) {
            to_model(p, out);
            rep.train_loss[epoch] = mse(out, features, targets, train, n_train);
        }
    }
    to_model(p, out);
    rep.holdout_loss = n_hold ? mse(out, features, targets, hold, n_hold) : NAN;
    if (report) *report = rep;
    free(idx);
    free(p);
    return ALCM_OK;
}
