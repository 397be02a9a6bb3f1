/* resid.h - the error-feedback residual as the encoder sees it: float32 (the public
 * alcm_compress contract) or bfloat16 (the compact form a stream keeps, docs/DESIGN.md
 * "Error feedback"), and the bfloat16 conversions (internal). */
#ifndef ALCM_RESID_H
#define ALCM_RESID_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A residual of one tensor (or a slice of it): f, or h, or neither (no error feedback). */
typedef struct {
    float *f;     /* float32 values */
    uint16_t *h;  /* bfloat16 values (the high half of a float32's bits) */
} alcm_resid;

static inline alcm_resid alcm_resid_none(void)
{
    alcm_resid r = {NULL, NULL};
    return r;
}

static inline int alcm_resid_on(alcm_resid r)
{
    return r.f != NULL || r.h != NULL;
}

/* The slice starting at element off. */
static inline alcm_resid alcm_resid_at(alcm_resid r, uint64_t off)
{
    if (r.f) r.f += off;
    if (r.h) r.h += off;
    return r;
}

/* Bytes of one element. */
static inline size_t alcm_resid_esize(alcm_resid r)
{
    return r.h ? sizeof(uint16_t) : sizeof(float);
}

/* The bytes of element 0 (for copies of a whole residual). */
static inline void *alcm_resid_bytes(alcm_resid r)
{
    return r.h ? (void *)r.h : (void *)r.f;
}

/* bfloat16 -> float32: exact. */
static inline float alcm_bf16_widen(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* float32 -> bfloat16, rounded to nearest, ties to even. A finite value beyond the largest
 * finite bfloat16 (3.3895e38) becomes that value with its sign instead of an infinity, so a
 * finite residual stays finite; a non-finite value keeps its high half (an infinity stays
 * one, a NaN stays a NaN or, with its payload in the low half only, becomes an infinity:
 * never finite). The vector kernels (quant.c) compute exactly this. */
static inline uint16_t alcm_bf16_round(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    uint32_t a = b & 0x7fffffffu;
    if (a <= 0x7f7fffffu) {
        if (a > 0x7f7f7fffu) a = 0x7f7f7fffu;
        a += 0x7fffu + ((a >> 16) & 1u);
    }
    return (uint16_t)((a | (b & 0x80000000u)) >> 16);
}

#endif /* ALCM_RESID_H */
