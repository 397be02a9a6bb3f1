/* train_corpus.c - builds the predictor's training corpus: synthetic families and the
 * weights and gradients of a small MLP trained on Fashion-MNIST, one sample per channel. */
#include "train_corpus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmnist.h"

/* Synthetic part: every family at every channel length, one channel per row. */
static const uint32_t k_lengths[] = {64, 128, 256, 512, 1024, 2048, 4096, 8192};
#define N_LENGTHS (sizeof k_lengths / sizeof k_lengths[0])

static uint32_t rows_for_length(uint32_t len)
{
    return len <= 512 ? 96 : len <= 2048 ? 48 : 24;
}

/* Blocks of 4096 across rows of these lengths (a flat gradient bucket mixing rows). */
static const uint32_t k_block_rows[] = {16, 64, 256, 1024};
static const alcm_synth_family k_block_families[] = {ALCM_SYNTH_SPARSE, ALCM_SYNTH_MIXED_SCALE,
                                                     ALCM_SYNTH_GRADIENT};
#define BLOCKS_PER_TENSOR 16

/* Real part: steps of the MLP at which its weights and gradients are taken. */
static const uint32_t k_snapshots[] = {0, 20, 80, 200, 400};
#define N_SNAPSHOTS (sizeof k_snapshots / sizeof k_snapshots[0])
#define MLP_BATCH 64
#define MLP_LR 0.05f
#define MLP_EVAL 2000

void train_corpus_init(train_corpus *c)
{
    memset(c, 0, sizeof *c);
}

void train_corpus_free(train_corpus *c)
{
    free(c->features);
    free(c->targets);
    memset(c, 0, sizeof *c);
}

/* Appends one channel: its features and its measured entropy. */
static int add_channel(train_corpus *c, const float *x, size_t n)
{
    if (n == 0) return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4096;
        float *f = realloc(c->features, cap * ALCM_N_FEATURES * sizeof *f);
        if (!f) return -1;
        c->features = f;
        float *t = realloc(c->targets, cap * sizeof *t);
        if (!t) return -1;
        c->targets = t;
        c->cap = cap;
    }
    alcm_stats s;
    alcm_stats_compute(x, n, &s);
    alcm_features(&s, c->features + c->n * ALCM_N_FEATURES);
    c->targets[c->n] = alcm_measured_entropy(x, n, &s);
    c->n++;
    return 0;
}

/* Appends the channels of a tensor as the encoder cuts it (alcm_channel_layout). Returns
 * the number of channels, or -1 when out of memory. */
static long add_tensor(train_corpus *c, const float *x, const alcm_shape *shape)
{
    uint64_t len, numel;
    uint32_t nch;
    if (alcm_channel_layout(shape, 0, &len, &nch) != ALCM_OK) return 0;
    if (alcm_shape_numel(shape, &numel) != ALCM_OK) return 0;
    for (uint32_t k = 0; k < nch; k++) {
        uint64_t start = (uint64_t)k * len;
        uint64_t n = numel - start < len ? numel - start : len;
        if (add_channel(c, x + start, (size_t)n)) return -1;
    }
    return (long)nch;
}

/* Scale (1 + 9u)·10^k, k uniform in -6..2 (1e-6 to 1e3, roughly log-uniform, no libm so
 * the corpus is the same everywhere); for the zero-free families, 1 channel in 5 also gets
 * an offset of U(-3, 3) standard deviations (the target is shift-invariant, the mean
 * feature is not). */
static void transform_channel(alcm_rng *rng, alcm_synth_family fam, float *x, size_t n)
{
    int k = (int)(alcm_rng_next(rng) % 9) - 6;
    double scale = 1.0 + 9.0 * alcm_rng_uniform(rng);
    for (; k > 0; k--) scale *= 10.0;
    for (; k < 0; k++) scale /= 10.0;
    for (size_t i = 0; i < n; i++) x[i] = (float)((double)x[i] * scale);
    int zero_free = fam == ALCM_SYNTH_GAUSSIAN || fam == ALCM_SYNTH_LAPLACE ||
                    fam == ALCM_SYNTH_HEAVY;
    double u = alcm_rng_uniform(rng), v = alcm_rng_uniform(rng);
    if (zero_free && u < 0.2) {
        alcm_stats s;
        alcm_stats_compute(x, n, &s);
        double mu = s.std * (6.0 * v - 3.0);
        for (size_t i = 0; i < n; i++) x[i] = (float)((double)x[i] + mu);
    }
}

int train_corpus_add_synthetic(train_corpus *c)
{
    alcm_rng rng;
    alcm_rng_seed(&rng, TRAIN_CORPUS_SEED);
    float *buf = malloc((size_t)96 * 8192 * sizeof *buf);
    if (!buf) return -1;
    for (int f = 0; f < ALCM_SYNTH_COUNT; f++) {
        for (size_t li = 0; li < N_LENGTHS; li++) {
            const size_t len = k_lengths[li], rows = rows_for_length(k_lengths[li]);
            alcm_synth_fill(&rng, (alcm_synth_family)f, buf, rows * len, len);
            for (size_t r = 0; r < rows; r++) {
                float *x = buf + r * len;
                transform_channel(&rng, (alcm_synth_family)f, x, len);
                if (add_channel(c, x, len)) goto nomem;
                c->n_synth[f]++;
            }
        }
    }
    for (size_t fi = 0; fi < sizeof k_block_families / sizeof k_block_families[0]; fi++) {
        for (size_t ri = 0; ri < sizeof k_block_rows / sizeof k_block_rows[0]; ri++) {
            const size_t n = (size_t)BLOCKS_PER_TENSOR * ALCM_DEFAULT_BLOCK;
            alcm_synth_fill(&rng, k_block_families[fi], buf, n, k_block_rows[ri]);
            alcm_shape shape;
            alcm_shape_1d(&shape, n);
            long got = add_tensor(c, buf, &shape);
            if (got < 0) goto nomem;
            c->n_synth_blocks += (size_t)got;
        }
    }
    free(buf);
    return 0;
nomem:
    free(buf);
    return -1;
}

/* Channels of every tensor of the flat buffer v (parameters or gradients) of the MLP, then
 * the flat buffer itself as one rank-1 tensor. */
static int add_mlp_buffer(train_corpus *c, const alcm_fmnist_mlp *mlp, const float *v,
                          size_t *rows_count)
{
    for (uint32_t t = 0; t < alcm_fmnist_mlp_tensor_count(mlp); t++) {
        alcm_fmnist_mlp_tensor info;
        alcm_fmnist_mlp_tensor_info(mlp, t, &info);
        alcm_shape shape;
        if (info.is_bias) {
            alcm_shape_1d(&shape, info.rows);
        } else {
            memset(&shape, 0, sizeof shape);
            shape.rank = 2;
            shape.dims[0] = info.rows;
            shape.dims[1] = info.cols;
        }
        long got = add_tensor(c, v + info.offset, &shape);
        if (got < 0) return -1;
        *rows_count += (size_t)got;
    }
    alcm_shape flat;
    alcm_shape_1d(&flat, alcm_fmnist_mlp_param_count(mlp));
    long got = add_tensor(c, v, &flat);
    if (got < 0) return -1;
    c->n_real_blocks += (size_t)got;
    return 0;
}

int train_corpus_add_fmnist(train_corpus *c, const char *dir, char *msg, size_t msg_cap)
{
    alcm_fmnist_set set;
    char err[512];
    alcm_fmnist_status st = alcm_fmnist_load(dir, "train", &set, err, sizeof err);
    if (st != ALCM_FMNIST_OK) {
        alcm_fmnist_set_message(msg, msg_cap, "%s", err[0] ? err : alcm_fmnist_strerror(st));
        return -1;
    }
    alcm_fmnist_mlp_config cfg;
    alcm_fmnist_mlp_config_default(&cfg);
    cfg.learning_rate = MLP_LR;
    alcm_fmnist_mlp *mlp = alcm_fmnist_mlp_create(&cfg);
    const size_t np = mlp ? alcm_fmnist_mlp_param_count(mlp) : 0;
    float *x = malloc((size_t)MLP_EVAL * ALCM_FMNIST_PIXELS * sizeof *x);
    uint8_t *y = malloc(MLP_EVAL);
    float *grad = malloc((np ? np : 1) * sizeof *grad);
    uint32_t *order = malloc((size_t)set.count * sizeof *order);
    int rc = -1;
    const uint32_t steps = k_snapshots[N_SNAPSHOTS - 1] + 1;
    if (!mlp || !x || !y || !grad || !order) {
        alcm_fmnist_set_message(msg, msg_cap, "out of memory");
        goto out;
    }
    if ((uint64_t)steps * MLP_BATCH + MLP_EVAL > set.count) {
        alcm_fmnist_set_message(msg, msg_cap, "%s: only %u training images", dir, set.count);
        goto out;
    }
    alcm_rng rng;
    alcm_rng_seed(&rng, TRAIN_CORPUS_SEED ^ 1);
    alcm_fmnist_shuffle(&rng, order, set.count);
    size_t snap = 0;
    for (uint32_t step = 0; step < steps; step++) {
        alcm_fmnist_gather(&set, order + (size_t)step * MLP_BATCH, MLP_BATCH, x, y);
        if (alcm_fmnist_mlp_backward(mlp, x, y, MLP_BATCH, grad, NULL) != ALCM_FMNIST_OK) {
            alcm_fmnist_set_message(msg, msg_cap, "MLP step %u failed", step);
            goto out;
        }
        if (snap < N_SNAPSHOTS && step == k_snapshots[snap]) {
            if (add_mlp_buffer(c, mlp, alcm_fmnist_mlp_params(mlp), &c->n_real_weights) ||
                add_mlp_buffer(c, mlp, grad, &c->n_real_grads)) {
                alcm_fmnist_set_message(msg, msg_cap, "out of memory");
                goto out;
            }
            snap++;
            c->real_snapshots++;
        }
        alcm_fmnist_mlp_apply(mlp, grad);
    }
    /* Accuracy on images the MLP never saw (the end of the permutation). */
    alcm_fmnist_gather(&set, order + set.count - MLP_EVAL, MLP_EVAL, x, y);
    alcm_fmnist_mlp_evaluate(mlp, x, y, MLP_EVAL, NULL, &c->real_test_accuracy);
    rc = 0;
out:
    free(order);
    free(grad);
    free(y);
    free(x);
    alcm_fmnist_mlp_free(mlp);
    alcm_fmnist_set_free(&set);
    return rc;
}
