/*
 * fmnist.h - a small Fashion-MNIST library for benchmarks and the predictor corpus: a
 * checked reader of (gzipped) IDX files and a deterministic multilayer perceptron whose
 * parameter gradients are exposed as one flat float buffer, so a data-parallel trainer can
 * average them (MPI_Allreduce, a compressor) between backward and apply.
 *
 * Same rules as libalcm: no globals, no printing; the caller owns every buffer it passes
 * in; objects come in create/free pairs. Fallible functions return an alcm_fmnist_status
 * (0 success, negative error) and, where they read files, fill an optional message buffer
 * naming the file and the field at fault. Everything is deterministic: the same seed and
 * the same sequence of calls give bit-identical parameters.
 */
#ifndef ALCM_FMNIST_H
#define ALCM_FMNIST_H

#include <stddef.h>
#include <stdint.h>

#include "alcm_tools.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ALCM_FMNIST_OK = 0,
    ALCM_FMNIST_E_ARG = -1,        /* invalid argument */
    ALCM_FMNIST_E_NOMEM = -2,      /* memory allocation failed */
    ALCM_FMNIST_E_IO = -3,         /* file missing or unreadable, or a gzip stream error */
    ALCM_FMNIST_E_MAGIC = -4,      /* IDX magic is not 00 00 08 <rank> */
    ALCM_FMNIST_E_HEADER = -5,     /* IDX rank or a dimension is not what is expected */
    ALCM_FMNIST_E_TRUNCATED = -6,  /* fewer bytes than the header declares */
    ALCM_FMNIST_E_TRAILING = -7,   /* more bytes than the header declares */
    ALCM_FMNIST_E_MISMATCH = -8,   /* images and labels disagree (count, label value) */
    ALCM_FMNIST_E_LIMIT = -9       /* declared size above the reader's limit */
} alcm_fmnist_status;

/* One-line message for a status; never NULL, static storage. */
const char *alcm_fmnist_strerror(alcm_fmnist_status status);

/* Formats (printf-style) into the optional message buffer msg of msg_cap bytes, truncating;
 * a no-op when msg is NULL or msg_cap is 0. Every msg argument of this library is filled
 * this way; a caller reporting through a buffer of its own may use it as well. */
void alcm_fmnist_set_message(char *msg, size_t msg_cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------------------------
 * IDX files (big-endian header: 0x00 0x00 <type> <rank>, then rank uint32 dimensions, then
 * the elements). Only type 0x08 (unsigned byte) is accepted, rank 1 (labels) or 3 (images).
 * ---------------------------------------------------------------------------------------- */
#define ALCM_FMNIST_IDX_MAX_BYTES ((uint64_t)1 << 31)   /* largest element payload accepted */

typedef struct {
    uint32_t rank;        /* 1 or 3 */
    uint32_t dims[3];     /* dims[0] = item count; unused dims are 0 */
    uint64_t size;        /* element bytes = product of the dims */
    const uint8_t *data;  /* points into the parsed buffer (not owned) */
} alcm_fmnist_idx_view;

/* Parses an in-memory IDX file of len bytes. Checks the magic, type, rank (1 or 3), that
 * every dimension is non-zero, that their product fits ALCM_FMNIST_IDX_MAX_BYTES, and
 * that the length is exactly header + payload. On success *view points into buf. */
alcm_fmnist_status alcm_fmnist_idx_parse(const uint8_t *buf, size_t len,
                                         alcm_fmnist_idx_view *view);

/* Reads a whole file through zlib's gzread (gzip or plain), at most max_bytes decompressed
 * bytes (ALCM_FMNIST_E_LIMIT beyond). *data is malloc'ed; the caller frees it. */
alcm_fmnist_status alcm_fmnist_idx_read_file(const char *path, uint64_t max_bytes,
                                             uint8_t **data, size_t *len, char *msg,
                                             size_t msg_cap);

/* ------------------------------------------------------------------------------------------
 * Fashion-MNIST split
 * ---------------------------------------------------------------------------------------- */
#define ALCM_FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define ALCM_FMNIST_PIXELS 784
#define ALCM_FMNIST_CLASSES 10

typedef struct {
    uint32_t count;       /* images */
    uint32_t rows, cols;  /* 28 x 28 */
    uint8_t *images;      /* count * rows * cols bytes, row-major */
    uint8_t *labels;      /* count bytes, each < 10 */
} alcm_fmnist_set;

/* Loads <dir>/<split>-images-idx3-ubyte.gz and <dir>/<split>-labels-idx1-ubyte.gz (split is
 * "train" or "t10k"). Images must be rank 3 of 28 x 28, labels rank 1, counts equal, every
 * label < 10. On error *set is zeroed and msg names the file and the problem. */
alcm_fmnist_status alcm_fmnist_load(const char *dir, const char *split, alcm_fmnist_set *set,
                                    char *msg, size_t msg_cap);

/* Frees the buffers of a set loaded by alcm_fmnist_load and zeroes it; NULL is a no-op. */
void alcm_fmnist_set_free(alcm_fmnist_set *set);

/* Copies the items idx[0..count) into x (count x 784 floats, pixel / 255) and y (count
 * labels). Indices must be < set->count (ALCM_FMNIST_E_ARG otherwise, nothing written). */
alcm_fmnist_status alcm_fmnist_gather(const alcm_fmnist_set *set, const uint32_t *idx,
                                      size_t count, float *x, uint8_t *y);

/* Fills idx with a permutation of 0..n-1 (Fisher-Yates from rng). */
void alcm_fmnist_shuffle(alcm_rng *rng, uint32_t *idx, size_t n);

/* ------------------------------------------------------------------------------------------
 * Multilayer perceptron: Linear -> ReLU -> ... -> Linear, softmax cross-entropy, SGD with
 * momentum (v = momentum·v + g; w -= lr·v). Parameters live in one flat float buffer, per
 * layer l: weight [sizes[l+1]][sizes[l]] row-major (PyTorch's [out, in]) then bias
 * [sizes[l+1]]. Gradients use the same layout and are averaged over the batch.
 * ---------------------------------------------------------------------------------------- */
#define ALCM_FMNIST_MLP_MAX_LAYERS 8

typedef struct {
    uint32_t n_layers;                       /* Linear layers, 1..ALCM_FMNIST_MLP_MAX_LAYERS */
    uint32_t sizes[ALCM_FMNIST_MLP_MAX_LAYERS + 1]; /* sizes[0] inputs .. sizes[n_layers] classes */
    float learning_rate;                     /* > 0 */
    float momentum;                          /* [0, 1) */
    uint64_t seed;                           /* initial weights */
} alcm_fmnist_mlp_config;

/* 784-256-128-10, learning rate 0.1, momentum 0.9, seed 1. */
void alcm_fmnist_mlp_config_default(alcm_fmnist_mlp_config *cfg);

typedef struct alcm_fmnist_mlp alcm_fmnist_mlp;

/* Creates a model with PyTorch's default Linear initialisation (weights and biases uniform
 * in +-1/sqrt(fan_in)) drawn from cfg->seed. NULL on a bad config (a size of 0, above 2^20,
 * fewer than 2 classes, more than 2^26 parameters) or out of memory. */
alcm_fmnist_mlp *alcm_fmnist_mlp_create(const alcm_fmnist_mlp_config *cfg);
void alcm_fmnist_mlp_free(alcm_fmnist_mlp *mlp);

/* Number of parameters (= length of the gradient buffer). */
size_t alcm_fmnist_mlp_param_count(const alcm_fmnist_mlp *mlp);

/* The flat parameter buffer (param_count floats). Writable: a trainer may load or
 * broadcast parameters through it. */
float *alcm_fmnist_mlp_params(alcm_fmnist_mlp *mlp);

/* Tensors in the flat buffer: 2 per layer (weight, bias). */
uint32_t alcm_fmnist_mlp_tensor_count(const alcm_fmnist_mlp *mlp);

typedef struct {
    size_t offset;       /* first element in the flat buffer */
    uint32_t rows, cols; /* weight: out x in; bias: out x 1 */
    int is_bias;
    uint32_t layer;
} alcm_fmnist_mlp_tensor;

/* Describes tensor i (< alcm_fmnist_mlp_tensor_count); ALCM_FMNIST_E_ARG when out of range. */
alcm_fmnist_status alcm_fmnist_mlp_tensor_info(const alcm_fmnist_mlp *mlp, uint32_t i,
                                               alcm_fmnist_mlp_tensor *t);

/* Forward and backward pass over a batch (x: batch x sizes[0] floats, y: batch labels,
 * each < classes). Writes the batch-mean gradient of the mean cross-entropy into grad
 * (param_count floats) and the mean loss into *loss (if non-NULL). Parameters are not
 * changed; the caller may modify grad (average it across ranks, compress it) before
 * alcm_fmnist_mlp_apply. ALCM_FMNIST_E_ARG on a bad label or batch 0. */
alcm_fmnist_status alcm_fmnist_mlp_backward(alcm_fmnist_mlp *mlp, const float *x,
                                            const uint8_t *y, size_t batch, float *grad,
                                            double *loss);

/* One SGD-with-momentum update from grad (param_count floats). */
void alcm_fmnist_mlp_apply(alcm_fmnist_mlp *mlp, const float *grad);

/* Mean cross-entropy and accuracy of the model on n items (either output may be NULL). */
alcm_fmnist_status alcm_fmnist_mlp_evaluate(alcm_fmnist_mlp *mlp, const float *x,
                                            const uint8_t *y, size_t n, double *loss,
                                            double *accuracy);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_FMNIST_H */
