/* gradient_enc.h - state shared by the gradient encoder's decision passes (gradient_enc.c)
 * and its code packing (gradient_pack.c) (internal). */
#ifndef ALCM_GRADIENT_ENC_H
#define ALCM_GRADIENT_ENC_H

#include <stdint.h>

#include "backend.h"
#include "ctx.h"

#define ALCM_GENC_BLOCK 4096               /* elements quantised at a time when packing */
/* An encode of at most this many elements keeps every channel's codes from its last
 * measurement (2 bytes per element of scratch) and packs those instead of quantising again;
 * with error feedback the residual is updated from them (docs/DESIGN.md, "Speed"). */
#define ALCM_GENC_KEEP_CODES_MAX ((uint64_t)1 << 22)
/* With a second residual buffer, an encode of more than this many elements (with x and r
 * beyond the caches) has its statistics write y = x + r into that buffer, and the
 * measurements read y there (docs/DESIGN.md, "Error feedback"). */
#define ALCM_GENC_YNEXT_ABOVE ((uint64_t)1 << 20)

/* Per-channel encoder state. */
typedef struct alcm_genc_chan {
    double energy;      /* Σ y² */
    double dist;        /* measured Σ (y - ŷ)² at the current step */
    double a;           /* rate-model scale std · 2^(8e - 4) */
    double dense;       /* 1 - sparsity: share of elements that carry quantisation error */
    float absmax;
    int32_t smin;       /* finest grid index allowed by the level limit */
    int32_t s;          /* grid index; 0 = zeroed */
    uint32_t maxq;      /* max |q| at s */
    uint64_t over[3];   /* elements with |q| > 1, > 7, > 127 at s */
    int32_t held;       /* with alcm_genc.ynext: what the second buffer holds of the
                         * channel: 0 = y, s = the new residual at grid index s */
    uint8_t width;
} alcm_genc_chan;

/* One encode. */
typedef struct {
    alcm_cctx *cx;
    const float *x;
    const float *r;     /* residual added to x, or NULL */
    float *yout;        /* statistics with r: y = x + r is written here (numel floats), or
                         * NULL (one channel at a time into cx->ybuf) */
    int y_given;        /* x is y = x + r in the second residual buffer, which gets the new
                         * residual in place (r is NULL then) */
    uint64_t numel, len;
    uint32_t C;
    float thr;          /* pruning threshold */
    alcm_genc_chan *ch;
    uint8_t *esc;       /* escaped codes (u16 LE), in cx->esc */
    uint64_t n_esc;
    uint16_t *zz;       /* ALCM_GENC_BLOCK codes of the block being packed (when not kept) */
    uint16_t *kept;     /* every measured channel's zigzag codes at its step (tensor order),
                         * or NULL: codes are made again while packing */
    float *update_r;    /* residual updated while packing (the capacity is sure), or NULL */
    float *rnext;       /* with kept codes and a residual: every measurement writes its
                         * channel's new residual here (the job's r_next), or NULL */
    int ynext;          /* rnext holds y = x + r from the statistics: a channel's first
                         * measurement reads y there and writes its residual in place, a
                         * later one reads x + r again */
} alcm_genc;

/* Writes the code streams of width class wc (W2, W4, W8: one stream; W16: low and high
 * planes) at dst[0..cap), their decoded sizes in bytes[] (alcm_class_sizes): the channels
 * of that width quantised once into E->zz blocks (or read from E->kept), packed into
 * cx->stage, each stream coded
 * when that is smaller, stored otherwise; escapes are appended to the encode's escape
 * buffer. With E->update_r the residual of those channels is updated in the same pass.
 * *used = bytes written. */
alcm_status alcm_genc_write_class(alcm_genc *E, const alcm_coder *coder, unsigned wc,
                                  const uint64_t bytes[5], uint8_t *dst, size_t cap,
                                  size_t *used);

#endif /* ALCM_GRADIENT_ENC_H */
