/* inflight.c - the daemon's in-flight memory accounting and buffer pool (inflight.h). */
#include "inflight.h"

#include <string.h>

void alcmd_inflight_init(alcmd_inflight *m, const uint64_t *cap)
{
    memset(m, 0, sizeof *m);
    m->cap = cap;
}

void alcmd_inflight_free(alcmd_inflight *m)
{
    alcmd_bufpool_free(&m->pool);
}

/* Room the cap leaves for idle buffers. */
static uint64_t pool_room(const alcmd_inflight *m)
{
    return m->bytes < *m->cap ? *m->cap - m->bytes : 0;
}

/* Whether bytes more may be reserved while `stuck` of the reserved bytes cannot be
 * returned before this reservation is granted. */
static int fits(const alcmd_inflight *m, uint64_t bytes, uint64_t stuck)
{
    if (m->bytes <= stuck) return 1;
    uint64_t cap = *m->cap, limit = bytes <= ALCMD_INFLIGHT_SMALL ? cap : cap - cap / 16;
    return m->bytes + bytes <= limit;
}

static void take(alcmd_inflight *m, uint64_t bytes)
{
    m->bytes += bytes;
    alcmd_bufpool_shrink(&m->pool, pool_room(m));
}

int alcmd_inflight_reserve(alcmd_inflight *m, uint64_t bytes, uint64_t held)
{
    if (!fits(m, bytes, held + m->waiting_held)) return -1;
    take(m, bytes);
    return 0;
}

void alcmd_inflight_release(alcmd_inflight *m, uint64_t bytes)
{
    m->bytes -= bytes < m->bytes ? bytes : m->bytes;
    /* First come, first served: a large request at the head is not overtaken. The head's
     * own holding is part of waiting_held. */
    while (m->head && fits(m, m->head->need, m->waiting_held)) {
        alcmd_inflight_waiter *w = m->head;
        m->head = w->next;
        if (!m->head) m->tail = NULL;
        w->next = NULL;
        m->waiting_held -= w->held;
        take(m, w->need);
        w->ready(w);
    }
}

void alcmd_inflight_wait(alcmd_inflight *m, alcmd_inflight_waiter *w)
{
    w->next = NULL;
    if (m->tail) m->tail->next = w;
    else m->head = w;
    m->tail = w;
    m->waiting_held += w->held;
}

void alcmd_inflight_unwait(alcmd_inflight *m, alcmd_inflight_waiter *w)
{
    alcmd_inflight_waiter **pp = &m->head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) return;
    *pp = w->next;
    if (m->tail == w) m->tail = prev;
    w->next = NULL;
    m->waiting_held -= w->held;
}

uint8_t *alcmd_inflight_take_buffer(alcmd_inflight *m, size_t size, size_t *cap)
{
    return alcmd_bufpool_take(&m->pool, size, cap);
}

void alcmd_inflight_give_buffer(alcmd_inflight *m, uint8_t *ptr, size_t cap)
{
    alcmd_bufpool_give(&m->pool, ptr, cap, pool_room(m));
}
