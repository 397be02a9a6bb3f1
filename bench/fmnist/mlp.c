/* mlp.c - a deterministic ReLU multilayer perceptron with softmax cross-entropy, flat
 * gradients and SGD with momentum. */
#include "fmnist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detmath.h"

#define MAX_SIZE ((uint32_t)1 << 20)
#define MAX_PARAMS ((size_t)1 << 26)
#define EVAL_CHUNK 256

struct alcm_fmnist_mlp {
    alcm_fmnist_mlp_config cfg;
    size_t n_params;
    size_t w_off[ALCM_FMNIST_MLP_MAX_LAYERS], b_off[ALCM_FMNIST_MLP_MAX_LAYERS];
    float *params;
    float *velocity;
    size_t cap_batch;      /* batch the scratch below is sized for */
    float *act[ALCM_FMNIST_MLP_MAX_LAYERS + 1];  /* act[1..L]: layer outputs (act[0] = x) */
    float *delta[2];       /* gradient w.r.t. a layer's pre-activation, ping-pong */
};

/* ---- kernels: fixed summation order (8 lanes), vectorised by GCC/Clang vector types ---- */

typedef float v4f __attribute__((vector_size(16)));

static inline v4f ld(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st(float *p, v4f v)
{
    memcpy(p, &v, sizeof v);
}

static inline float hsum8(v4f a, v4f b)
{
    v4f s = a + b;
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Dot products of a with 4 rows w0..w3 (n elements each); every output is summed exactly
 * as dot1 sums it. */
static void dot4(const float *a, const float *w0, const float *w1, const float *w2,
                 const float *w3, size_t n, float out[4])
{
    v4f z = {0, 0, 0, 0};
    v4f s0a = z, s0b = z, s1a = z, s1b = z, s2a = z, s2b = z, s3a = z, s3b = z;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4f xa = ld(a + i), xb = ld(a + i + 4);
        s0a += xa * ld(w0 + i);
        s0b += xb * ld(w0 + i + 4);
        s1a += xa * ld(w1 + i);
        s1b += xb * ld(w1 + i + 4);
        s2a += xa * ld(w2 + i);
        s2b += xb * ld(w2 + i + 4);
        s3a += xa * ld(w3 + i);
        s3b += xb * ld(w3 + i + 4);
    }
    float r0 = hsum8(s0a, s0b), r1 = hsum8(s1a, s1b), r2 = hsum8(s2a, s2b),
          r3 = hsum8(s3a, s3b);
    for (; i < n; i++) {
        r0 += a[i] * w0[i];
        r1 += a[i] * w1[i];
        r2 += a[i] * w2[i];
        r3 += a[i] * w3[i];
    }
    out[0] = r0;
    out[1] = r1;
    out[2] = r2;
    out[3] = r3;
}

static float dot1(const float *a, const float *w, size_t n)
{
    v4f z = {0, 0, 0, 0}, sa = z, sb = z;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        sa += ld(a + i) * ld(w + i);
        sb += ld(a + i + 4) * ld(w + i + 4);
    }
    float r = hsum8(sa, sb);
    for (; i < n; i++) r += a[i] * w[i];
    return r;
}

/* y += c0·x0 + c1·x1 + c2·x2 + c3·x3 (grouped as ((c0x0 + c1x1) + (c2x2 + c3x3))). */
static void axpy4(float *y, const float c[4], const float *x0, const float *x1,
                  const float *x2, const float *x3, size_t n)
{
    const v4f k0 = {c[0], c[0], c[0], c[0]}, k1 = {c[1], c[1], c[1], c[1]};
    const v4f k2 = {c[2], c[2], c[2], c[2]}, k3 = {c[3], c[3], c[3], c[3]};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        st(y + i, ld(y + i) + ((k0 * ld(x0 + i) + k1 * ld(x1 + i)) +
                               (k2 * ld(x2 + i) + k3 * ld(x3 + i))));
    for (; i < n; i++)
        y[i] += (c[0] * x0[i] + c[1] * x1[i]) + (c[2] * x2[i] + c[3] * x3[i]);
}

static void axpy1(float *y, float c, const float *x, size_t n)
{
    const v4f k = {c, c, c, c};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) st(y + i, ld(y + i) + k * ld(x + i));
    for (; i < n; i++) y[i] += c * x[i];
}

/* out[b][o] = bias[o] + a[b] . w[o]  for b < batch, o < n_out. */
static void linear_forward(const float *a, size_t batch, size_t n_in, const float *w,
                           const float *bias, size_t n_out, float *out)
{
    for (size_t b = 0; b < batch; b++) {
        const float *ab = a + b * n_in;
        float *ob = out + b * n_out;
        size_t o = 0;
        for (; o + 4 <= n_out; o += 4) {
            float r[4];
            dot4(ab, w + o * n_in, w + (o + 1) * n_in, w + (o + 2) * n_in,
                 w + (o + 3) * n_in, n_in, r);
            for (int k = 0; k < 4; k++) ob[o + k] = bias[o + k] + r[k];
        }
        for (; o < n_out; o++) ob[o] = bias[o] + dot1(ab, w + o * n_in, n_in);
    }
}

/* gw[o][i] = sum_b d[b][o]·a[b][i];  gb[o] = sum_b d[b][o]. */
static void linear_grad_params(const float *a, const float *d, size_t batch, size_t n_in,
                               size_t n_out, float *gw, float *gb)
{
    for (size_t o = 0; o < n_out; o++) {
        float *row = gw + o * n_in;
        memset(row, 0, n_in * sizeof *row);
        float sb = 0.0f;
        size_t b = 0;
        for (; b + 4 <= batch; b += 4) {
            float c[4] = {d[b * n_out + o], d[(b + 1) * n_out + o], d[(b + 2) * n_out + o],
                          d[(b + 3) * n_out + o]};
            axpy4(row, c, a + b * n_in, a + (b + 1) * n_in, a + (b + 2) * n_in,
                  a + (b + 3) * n_in, n_in);
            sb += (c[0] + c[1]) + (c[2] + c[3]);
        }
        for (; b < batch; b++) {
            float c = d[b * n_out + o];
            axpy1(row, c, a + b * n_in, n_in);
            sb += c;
        }
        gb[o] = sb;
    }
}

/* da[b][i] = sum_o d[b][o]·w[o][i], then masked by the ReLU of a (a[b][i] > 0). */
static void linear_grad_input(const float *d, const float *w, const float *a, size_t batch,
                              size_t n_in, size_t n_out, float *da)
{
    for (size_t b = 0; b < batch; b++) {
        float *row = da + b * n_in;
        const float *db = d + b * n_out;
        memset(row, 0, n_in * sizeof *row);
        size_t o = 0;
        for (; o + 4 <= n_out; o += 4)
            axpy4(row, db + o, w + o * n_in, w + (o + 1) * n_in, w + (o + 2) * n_in,
                  w + (o + 3) * n_in, n_in);
        for (; o < n_out; o++) axpy1(row, db[o], w + o * n_in, n_in);
        const float *ab = a + b * n_in;
        for (size_t i = 0; i < n_in; i++)
            if (!(ab[i] > 0.0f)) row[i] = 0.0f;
    }
}

/* ---- model -------------------------------------------------------------------------- */

void alcm_fmnist_mlp_config_default(alcm_fmnist_mlp_config *cfg)
{
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->n_layers = 3;
    cfg->sizes[0] = ALCM_FMNIST_PIXELS;
    cfg->sizes[1] = 256;
    cfg->sizes[2] = 128;
    cfg->sizes[3] = ALCM_FMNIST_CLASSES;
    cfg->learning_rate = 0.1f;
    cfg->momentum = 0.9f;
    cfg->seed = 1;
}

alcm_fmnist_mlp *alcm_fmnist_mlp_create(const alcm_fmnist_mlp_config *cfg)
{
    if (!cfg || cfg->n_layers < 1 || cfg->n_layers > ALCM_FMNIST_MLP_MAX_LAYERS) return NULL;
    if (!(cfg->learning_rate > 0.0f) || !(cfg->momentum >= 0.0f && cfg->momentum < 1.0f))
        return NULL;
    const uint32_t L = cfg->n_layers;
    for (uint32_t l = 0; l <= L; l++)
        if (cfg->sizes[l] == 0 || cfg->sizes[l] > MAX_SIZE) return NULL;
    if (cfg->sizes[L] < 2 || cfg->sizes[L] > 256) return NULL;
    alcm_fmnist_mlp *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    size_t n = 0;
    for (uint32_t l = 0; l < L; l++) {
        m->w_off[l] = n;
        n += (size_t)cfg->sizes[l] * cfg->sizes[l + 1];
        m->b_off[l] = n;
        n += cfg->sizes[l + 1];
        if (n > MAX_PARAMS) {
            free(m);
            return NULL;
        }
    }
    m->n_params = n;
    m->params = malloc(n * sizeof(float));
    m->velocity = calloc(n, sizeof(float));
    if (!m->params || !m->velocity) {
        alcm_fmnist_mlp_free(m);
        return NULL;
    }
    alcm_rng rng;
    alcm_rng_seed(&rng, cfg->seed);
    for (uint32_t l = 0; l < L; l++) {
        const double bound = 1.0 / sqrt((double)cfg->sizes[l]);
        const size_t nw = (size_t)cfg->sizes[l] * cfg->sizes[l + 1];
        float *w = m->params + m->w_off[l], *b = m->params + m->b_off[l];
        for (size_t i = 0; i < nw; i++)
            w[i] = (float)((2.0 * alcm_rng_uniform(&rng) - 1.0) * bound);
        for (uint32_t i = 0; i < cfg->sizes[l + 1]; i++)
            b[i] = (float)((2.0 * alcm_rng_uniform(&rng) - 1.0) * bound);
    }
    return m;
}

static void free_scratch(alcm_fmnist_mlp *m)
{
    for (uint32_t l = 0; l <= ALCM_FMNIST_MLP_MAX_LAYERS; l++) {
        free(m->act[l]);
        m->act[l] = NULL;
    }
    free(m->delta[0]);
    free(m->delta[1]);
    m->delta[0] = m->delta[1] = NULL;
    m->cap_batch = 0;
}

void alcm_fmnist_mlp_free(alcm_fmnist_mlp *mlp)
{
    if (!mlp) return;
    free_scratch(mlp);
    free(mlp->params);
    free(mlp->velocity);
    free(mlp);
}

size_t alcm_fmnist_mlp_param_count(const alcm_fmnist_mlp *mlp)
{
    return mlp ? mlp->n_params : 0;
}

float *alcm_fmnist_mlp_params(alcm_fmnist_mlp *mlp)
{
    return mlp ? mlp->params : NULL;
}

uint32_t alcm_fmnist_mlp_tensor_count(const alcm_fmnist_mlp *mlp)
{
    return mlp ? 2 * mlp->cfg.n_layers : 0;
}

alcm_fmnist_status alcm_fmnist_mlp_tensor_info(const alcm_fmnist_mlp *mlp, uint32_t i,
                                               alcm_fmnist_mlp_tensor *t)
{
    if (!mlp || !t || i >= 2 * mlp->cfg.n_layers) return ALCM_FMNIST_E_ARG;
    uint32_t l = i / 2;
    t->layer = l;
    t->is_bias = (int)(i % 2);
    t->rows = mlp->cfg.sizes[l + 1];
    t->cols = t->is_bias ? 1 : mlp->cfg.sizes[l];
    t->offset = t->is_bias ? mlp->b_off[l] : mlp->w_off[l];
    return ALCM_FMNIST_OK;
}

static alcm_fmnist_status ensure_scratch(alcm_fmnist_mlp *m, size_t batch)
{
    if (batch <= m->cap_batch) return ALCM_FMNIST_OK;
    free_scratch(m);
    const uint32_t L = m->cfg.n_layers;
    size_t widest = 0;
    for (uint32_t l = 1; l <= L; l++) {
        m->act[l] = malloc(batch * m->cfg.sizes[l] * sizeof(float));
        if (!m->act[l]) goto nomem;
        if (m->cfg.sizes[l] > widest) widest = m->cfg.sizes[l];
    }
    m->delta[0] = malloc(batch * widest * sizeof(float));
    m->delta[1] = malloc(batch * widest * sizeof(float));
    if (!m->delta[0] || !m->delta[1]) goto nomem;
    m->cap_batch = batch;
    return ALCM_FMNIST_OK;
nomem:
    free_scratch(m);
    return ALCM_FMNIST_E_NOMEM;
}

/* Forward pass; act[L] gets the logits. */
static void forward(alcm_fmnist_mlp *m, const float *x, size_t batch)
{
    const uint32_t L = m->cfg.n_layers;
    const float *in = x;
    for (uint32_t l = 0; l < L; l++) {
        size_t n_in = m->cfg.sizes[l], n_out = m->cfg.sizes[l + 1];
        float *out = m->act[l + 1];
        linear_forward(in, batch, n_in, m->params + m->w_off[l], m->params + m->b_off[l],
                       n_out, out);
        if (l + 1 < L)
            for (size_t k = 0; k < batch * n_out; k++) out[k] = out[k] > 0.0f ? out[k] : 0.0f;
        in = out;
    }
}

/* Cross-entropy of one row of logits; p (if non-NULL) gets the softmax. */
static double softmax_xent(const float *z, size_t k, unsigned label, double *p)
{
    float mx = z[0];
    for (size_t c = 1; c < k; c++) mx = z[c] > mx ? z[c] : mx;
    double s = 0.0;
    for (size_t c = 0; c < k; c++) {
        double e = alcm_det_exp((double)z[c] - (double)mx);
        if (p) p[c] = e;
        s += e;
    }
    if (p)
        for (size_t c = 0; c < k; c++) p[c] /= s;
    return alcm_det_log(s) - ((double)z[label] - (double)mx);
}

alcm_fmnist_status alcm_fmnist_mlp_backward(alcm_fmnist_mlp *mlp, const float *x,
                                            const uint8_t *y, size_t batch, float *grad,
                                            double *loss)
{
    if (!mlp || !x || !y || !grad || batch == 0) return ALCM_FMNIST_E_ARG;
    const uint32_t L = mlp->cfg.n_layers;
    const size_t k = mlp->cfg.sizes[L];
    for (size_t b = 0; b < batch; b++)
        if (y[b] >= k) return ALCM_FMNIST_E_ARG;
    alcm_fmnist_status st = ensure_scratch(mlp, batch);
    if (st != ALCM_FMNIST_OK) return st;
    forward(mlp, x, batch);

    /* d logits = (softmax - onehot) / batch */
    double p[256], total = 0.0;
    float *d = mlp->delta[0];
    const float *logits = mlp->act[L];
    for (size_t b = 0; b < batch; b++) {
        total += softmax_xent(logits + b * k, k, y[b], p);
        for (size_t c = 0; c < k; c++)
            d[b * k + c] = (float)((p[c] - (c == y[b] ? 1.0 : 0.0)) / (double)batch);
    }
    int cur = 0;
    for (uint32_t l = L; l-- > 0;) {
        size_t n_in = mlp->cfg.sizes[l], n_out = mlp->cfg.sizes[l + 1];
        const float *a = l ? mlp->act[l] : x;
        linear_grad_params(a, mlp->delta[cur], batch, n_in, n_out, grad + mlp->w_off[l],
                           grad + mlp->b_off[l]);
        if (l > 0) {
            linear_grad_input(mlp->delta[cur], mlp->params + mlp->w_off[l], a, batch, n_in,
                              n_out, mlp->delta[1 - cur]);
            cur = 1 - cur;
        }
    }
    if (loss) *loss = total / (double)batch;
    return ALCM_FMNIST_OK;
}

void alcm_fmnist_mlp_apply(alcm_fmnist_mlp *mlp, const float *grad)
{
    if (!mlp || !grad) return;
    const float mu = mlp->cfg.momentum, lr = mlp->cfg.learning_rate;
    float *v = mlp->velocity, *w = mlp->params;
    for (size_t i = 0; i < mlp->n_params; i++) {
        v[i] = mu * v[i] + grad[i];
        w[i] -= lr * v[i];
    }
}

alcm_fmnist_status alcm_fmnist_mlp_evaluate(alcm_fmnist_mlp *mlp, const float *x,
                                            const uint8_t *y, size_t n, double *loss,
                                            double *accuracy)
{
    if (!mlp || (n && (!x || !y))) return ALCM_FMNIST_E_ARG;
    const uint32_t L = mlp->cfg.n_layers;
    const size_t k = mlp->cfg.sizes[L], n_in = mlp->cfg.sizes[0];
    for (size_t i = 0; i < n; i++)
        if (y[i] >= k) return ALCM_FMNIST_E_ARG;
    alcm_fmnist_status st = ensure_scratch(mlp, n < EVAL_CHUNK ? (n ? n : 1) : EVAL_CHUNK);
    if (st != ALCM_FMNIST_OK) return st;
    double total = 0.0;
    size_t correct = 0;
    for (size_t start = 0; start < n; start += EVAL_CHUNK) {
        size_t len = n - start < EVAL_CHUNK ? n - start : EVAL_CHUNK;
        forward(mlp, x + start * n_in, len);
        for (size_t b = 0; b < len; b++) {
            const float *z = mlp->act[L] + b * k;
            total += softmax_xent(z, k, y[start + b], NULL);
            size_t best = 0;
            for (size_t c = 1; c < k; c++)
                if (z[c] > z[best]) best = c;
            correct += best == y[start + b];
        }
    }
    if (loss) *loss = n ? total / (double)n : 0.0;
    if (accuracy) *accuracy = n ? (double)correct / (double)n : 0.0;
    return ALCM_FMNIST_OK;
}
