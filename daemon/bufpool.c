/* bufpool.c - reuse of large buffers between requests. */
#include "bufpool.h"

#include <stdlib.h>
#include <string.h>

static void drop(alcmd_bufpool *p, size_t i)
{
    p->bytes -= p->slot[i].cap;
    memmove(&p->slot[i], &p->slot[i + 1], (p->n - i - 1) * sizeof p->slot[0]);
    p->n--;
}

uint8_t *alcmd_bufpool_take(alcmd_bufpool *p, size_t size, size_t *cap)
{
    size_t best = p->n;
    for (size_t i = 0; i < p->n; i++) {
        size_t c = p->slot[i].cap;
        if (c >= size && c / 2 <= size && (best == p->n || c < p->slot[best].cap)) best = i;
    }
    if (best < p->n) {
        uint8_t *ptr = p->slot[best].ptr;
        *cap = p->slot[best].cap;
        drop(p, best);
        return ptr;
    }
    *cap = size;
    return malloc(size ? size : 1);
}

void alcmd_bufpool_shrink(alcmd_bufpool *p, uint64_t max_bytes)
{
    while (p->n > 0 && p->bytes > max_bytes) {
        free(p->slot[0].ptr);
        drop(p, 0);
    }
}

void alcmd_bufpool_give(alcmd_bufpool *p, uint8_t *ptr, size_t cap, uint64_t room)
{
    if (!ptr) return;
    if (cap < ALCMD_POOL_MIN_BYTES || cap > room) {
        free(ptr);
        return;
    }
    alcmd_bufpool_shrink(p, room - cap);
    if (p->n == ALCMD_POOL_SLOTS) {
        free(p->slot[0].ptr);
        drop(p, 0);
    }
    p->slot[p->n].ptr = ptr;
    p->slot[p->n].cap = cap;
    p->n++;
    p->bytes += cap;
}

void alcmd_bufpool_free(alcmd_bufpool *p)
{
    alcmd_bufpool_shrink(p, 0);
}
