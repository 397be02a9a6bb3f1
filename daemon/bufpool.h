/* bufpool.h - large request and reply buffers kept for reuse: a training job sends tensors
 * of the same sizes every step, and a fresh multi-megabyte buffer costs a page fault per
 * 4 KiB touched (as much as a third of the encode time at 64 MiB). Loop thread only. */
#ifndef ALCMD_BUFPOOL_H
#define ALCMD_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

#define ALCMD_POOL_SLOTS 32
#define ALCMD_POOL_MIN_BYTES ((size_t)256 << 10)   /* smaller buffers go back to malloc */

typedef struct {
    struct {
        uint8_t *ptr;
        size_t cap;
    } slot[ALCMD_POOL_SLOTS];   /* slot[0] is the oldest */
    size_t n;
    uint64_t bytes;             /* capacity held */
} alcmd_bufpool;

/* A buffer of at least size bytes (capacity in *cap): the smallest pooled one that is no
 * more than twice as large, else a new malloc. NULL when out of memory. */
uint8_t *alcmd_bufpool_take(alcmd_bufpool *p, size_t size, size_t *cap);

/* Returns a buffer: kept when it is large enough to be worth it and the pool holds at most
 * `room` bytes with it (the oldest buffers are dropped to make room), freed otherwise.
 * NULL is a no-op. */
void alcmd_bufpool_give(alcmd_bufpool *p, uint8_t *ptr, size_t cap, uint64_t room);

/* Frees the oldest buffers until the pool holds at most max_bytes. */
void alcmd_bufpool_shrink(alcmd_bufpool *p, uint64_t max_bytes);

/* Frees everything. */
void alcmd_bufpool_free(alcmd_bufpool *p);

#endif
