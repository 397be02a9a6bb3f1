/* dataset.c - a Fashion-MNIST split: loading and checking its two IDX files, batches. */
#include "fmnist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decompressed size limit of one file: 60000 images of 784 bytes plus the header. */
#define FMNIST_MAX_FILE ((uint64_t)64 << 20)

/* Reads and parses one file; on success *owner holds the file bytes the view points into. */
static alcm_fmnist_status load_idx(const char *path, uint32_t rank, uint8_t **owner,
                                   alcm_fmnist_idx_view *view, char *msg, size_t cap)
{
    size_t len;
    alcm_fmnist_status st = alcm_fmnist_idx_read_file(path, FMNIST_MAX_FILE, owner, &len,
                                                       msg, cap);
    if (st != ALCM_FMNIST_OK) return st;
    st = alcm_fmnist_idx_parse(*owner, len, view);
    if (st == ALCM_FMNIST_OK && view->rank != rank) st = ALCM_FMNIST_E_HEADER;
    if (st != ALCM_FMNIST_OK) {
        alcm_fmnist_set_message(msg, cap, "%s: %s (expected rank %u)", path,
                                alcm_fmnist_strerror(st), rank);
        free(*owner);
        *owner = NULL;
    }
    return st;
}

alcm_fmnist_status alcm_fmnist_load(const char *dir, const char *split, alcm_fmnist_set *set,
                                    char *msg, size_t msg_cap)
{
    if (!set) return ALCM_FMNIST_E_ARG;
    memset(set, 0, sizeof *set);
    if (!dir || !split) return ALCM_FMNIST_E_ARG;
    size_t plen = strlen(dir) + strlen(split) + 40;
    char *ipath = malloc(plen), *lpath = malloc(plen);
    uint8_t *ibuf = NULL, *lbuf = NULL;
    alcm_fmnist_status st = ALCM_FMNIST_E_NOMEM;
    if (!ipath || !lpath) {
        alcm_fmnist_set_message(msg, msg_cap, "out of memory");
        goto out;
    }
    snprintf(ipath, plen, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lpath, plen, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    alcm_fmnist_idx_view iv, lv;
    st = load_idx(ipath, 3, &ibuf, &iv, msg, msg_cap);
    if (st != ALCM_FMNIST_OK) goto out;
    st = load_idx(lpath, 1, &lbuf, &lv, msg, msg_cap);
    if (st != ALCM_FMNIST_OK) goto out;
    if (iv.dims[1] != 28 || iv.dims[2] != 28) {
        alcm_fmnist_set_message(msg, msg_cap, "%s: images are %ux%u, expected 28x28", ipath,
                                iv.dims[1], iv.dims[2]);
        st = ALCM_FMNIST_E_HEADER;
        goto out;
    }
    if (iv.dims[0] != lv.dims[0]) {
        alcm_fmnist_set_message(msg, msg_cap, "%s has %u images but %s has %u labels", ipath,
                                iv.dims[0], lpath, lv.dims[0]);
        st = ALCM_FMNIST_E_MISMATCH;
        goto out;
    }
    for (uint32_t i = 0; i < lv.dims[0]; i++) {
        if (lv.data[i] >= ALCM_FMNIST_CLASSES) {
            alcm_fmnist_set_message(msg, msg_cap, "%s: label %u of item %u is not below %d",
                                    lpath, lv.data[i], i, ALCM_FMNIST_CLASSES);
            st = ALCM_FMNIST_E_MISMATCH;
            goto out;
        }
    }
    set->images = malloc(iv.size);
    set->labels = malloc(lv.size);
    if (!set->images || !set->labels) {
        alcm_fmnist_set_free(set);
        alcm_fmnist_set_message(msg, msg_cap, "out of memory");
        st = ALCM_FMNIST_E_NOMEM;
        goto out;
    }
    memcpy(set->images, iv.data, iv.size);
    memcpy(set->labels, lv.data, lv.size);
    set->count = iv.dims[0];
    set->rows = iv.dims[1];
    set->cols = iv.dims[2];
    st = ALCM_FMNIST_OK;
out:
    free(ibuf);
    free(lbuf);
    free(ipath);
    free(lpath);
    return st;
}

void alcm_fmnist_set_free(alcm_fmnist_set *set)
{
    if (!set) return;
    free(set->images);
    free(set->labels);
    memset(set, 0, sizeof *set);
}

alcm_fmnist_status alcm_fmnist_gather(const alcm_fmnist_set *set, const uint32_t *idx,
                                      size_t count, float *x, uint8_t *y)
{
    if (!set || (count && (!idx || !x || !y))) return ALCM_FMNIST_E_ARG;
    for (size_t k = 0; k < count; k++)
        if (idx[k] >= set->count) return ALCM_FMNIST_E_ARG;
    const size_t pix = (size_t)set->rows * set->cols;
    for (size_t k = 0; k < count; k++) {
        const uint8_t *src = set->images + (size_t)idx[k] * pix;
        float *dst = x + k * pix;
        for (size_t p = 0; p < pix; p++) dst[p] = (float)src[p] / 255.0f;
        y[k] = set->labels[idx[k]];
    }
    return ALCM_FMNIST_OK;
}

void alcm_fmnist_shuffle(alcm_rng *rng, uint32_t *idx, size_t n)
{
    if (!rng || !idx) return;
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(alcm_rng_next(rng) % i);   /* bias below 2^-40 for n < 2^24 */
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
