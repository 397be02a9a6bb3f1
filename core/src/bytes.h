/* bytes.h - little-endian loads/stores, zigzag and canonical varints for the blob format,
 * and a growable scratch buffer (internal). */
#ifndef ALCM_BYTES_H
#define ALCM_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void alcm_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void alcm_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void alcm_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t alcm_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t alcm_get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static inline uint64_t alcm_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static inline void alcm_put_f64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    alcm_put_u64(p, v);
}

static inline double alcm_get_f64(const uint8_t *p)
{
    uint64_t v = alcm_get_u64(p);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* Zigzag: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... (well defined for every int32). */
static inline uint32_t alcm_zigzag(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)-(int32_t)((uint32_t)v >> 31);
}

static inline int32_t alcm_unzigzag(uint32_t z)
{
    return (int32_t)((z >> 1) ^ (uint32_t)-(int32_t)(z & 1u));
}

/* Longest varint the format allows (values below 2^21). */
#define ALCM_VARINT_MAX 3

/* Writes v (< 2^21) as an unsigned LEB128 varint; returns the bytes written (1..3). */
static inline size_t alcm_varint_put(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads a canonical varint of at most ALCM_VARINT_MAX bytes from p[0..avail). Returns the
 * bytes consumed, or 0 if it is truncated, longer than allowed, or not in shortest form. */
static inline size_t alcm_varint_get(const uint8_t *p, size_t avail, uint32_t *v)
{
    uint32_t r = 0;
    for (size_t i = 0; i < ALCM_VARINT_MAX && i < avail; i++) {
        r |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (i > 0 && p[i] == 0) return 0; /* overlong: a trailing zero group */
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

/* A growable scratch buffer owned by a context. */
typedef struct {
    void *p;
    size_t cap;
} alcm_buf;

/* Ensures b holds at least n bytes (contents are not preserved). 0, or -1 out of memory. */
static inline int alcm_buf_reserve(alcm_buf *b, size_t n)
{
    if (n <= b->cap) return 0;
    free(b->p);
    b->p = malloc(n ? n : 1);
    b->cap = b->p ? n : 0;
    return b->p ? 0 : -1;
}

/* Like alcm_buf_reserve but keeps the contents (geometric growth). */
static inline int alcm_buf_grow(alcm_buf *b, size_t n)
{
    if (n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < n) cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    void *np = realloc(b->p, cap);
    if (!np) return -1;
    b->p = np;
    b->cap = cap;
    return 0;
}

static inline void alcm_buf_free(alcm_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->cap = 0;
}

#endif /* ALCM_BYTES_H */
