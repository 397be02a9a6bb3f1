/* train_corpus.h - the deterministic corpus `alcm-bench train` fits the entropy predictor on:
 * (features, measured entropy) per channel of synthetic and Fashion-MNIST tensors.
 * Internal to client/cli. */
#ifndef ALCM_TRAIN_CORPUS_H
#define ALCM_TRAIN_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "alcm_tools.h"

/* Seed of the corpus (fixed, independent of the training seed). */
#define TRAIN_CORPUS_SEED 0x414c434d434f5250ULL

typedef struct {
    float *features;   /* n x ALCM_N_FEATURES */
    float *targets;    /* n */
    size_t n, cap;
    size_t n_synth[ALCM_SYNTH_COUNT];   /* one channel per row */
    size_t n_synth_blocks;              /* 4096-element blocks across rows */
    size_t n_real_weights;              /* rows of the MLP's weight tensors and biases */
    size_t n_real_grads;                /* rows of its gradient tensors and biases */
    size_t n_real_blocks;               /* 4096-element blocks of the flat buffers */
    uint32_t real_snapshots;            /* training steps the real tensors were taken at */
    double real_test_accuracy;          /* of the MLP after its last step */
} train_corpus;

void train_corpus_init(train_corpus *c);
void train_corpus_free(train_corpus *c);

/* Appends the synthetic channels. 0, or -1 when out of memory. */
int train_corpus_add_synthetic(train_corpus *c);

/* Trains a 784-256-128-10 MLP on Fashion-MNIST from dir for a few hundred steps and appends
 * channels of its weights and gradients at several steps. 0 on success; -1 with a message
 * in msg (the dataset is missing or malformed, or out of memory). */
int train_corpus_add_fmnist(train_corpus *c, const char *dir, char *msg, size_t msg_cap);

#endif
