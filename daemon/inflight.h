/* inflight.h - the daemon's in-flight memory: bytes reserved by requests and replies
 * against inflight_cap, the connections waiting for memory (first come, first served), and
 * the pool of idle buffers (in-flight plus pooled bytes stay within the cap). One release
 * path: alcmd_inflight_release. Only the request module (request.c) calls these; loop
 * thread only. */
#ifndef ALCMD_INFLIGHT_H
#define ALCMD_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "bufpool.h"

/* Someone waiting for `need` bytes: ready() runs once they are reserved for it. `held`:
 * bytes it already holds and keeps while it waits (a request whose reply is reserved after
 * its payload), 0 for one that holds nothing yet. */
typedef struct alcmd_inflight_waiter {
    struct alcmd_inflight_waiter *next;
    uint64_t need, held;
    void (*ready)(struct alcmd_inflight_waiter *w);
} alcmd_inflight_waiter;

typedef struct {
    uint64_t bytes;                 /* reserved by requests and replies */
    const uint64_t *cap;            /* the configured cap (read live: reloads change it) */
    alcmd_bufpool pool;             /* idle buffers; bytes + pool.bytes <= *cap */
    alcmd_inflight_waiter *head, *tail;
    uint64_t waiting_held;          /* bytes held by queued waiters */
} alcmd_inflight;

/* Reservations of more than this may fill only 15/16 of the cap, so large requests holding
 * their memory (a slow sender, a slow reader) never keep small ones out. */
#define ALCMD_INFLIGHT_SMALL ((uint64_t)1 << 20)

void alcmd_inflight_init(alcmd_inflight *m, const uint64_t *cap);
void alcmd_inflight_free(alcmd_inflight *m);

/* Reserves bytes for someone already holding `held` of the reserved bytes (0: nothing).
 * Granted when the cap allows (15/16 of it above ALCMD_INFLIGHT_SMALL), or when nothing
 * else in flight can be returned: all other reserved bytes belong to waiters, which return
 * nothing before they are granted (so one request always goes ahead). 0 when granted, -1
 * otherwise. */
int alcmd_inflight_reserve(alcmd_inflight *m, uint64_t bytes, uint64_t held);

/* Returns bytes, then grants waiters in arrival order while their need fits. */
void alcmd_inflight_release(alcmd_inflight *m, uint64_t bytes);

/* Queues w (need, held and ready set) until its bytes can be reserved. */
void alcmd_inflight_wait(alcmd_inflight *m, alcmd_inflight_waiter *w);

/* Takes w out of the queue (no-op when it is not queued); what it holds is not returned. */
void alcmd_inflight_unwait(alcmd_inflight *m, alcmd_inflight_waiter *w);

/* A buffer of at least size bytes (capacity in *cap), an idle one when possible. NULL
 * when out of memory. */
uint8_t *alcmd_inflight_take_buffer(alcmd_inflight *m, size_t size, size_t *cap);

/* Gives a buffer back: kept for reuse while the cap leaves room, else freed. NULL: no-op. */
void alcmd_inflight_give_buffer(alcmd_inflight *m, uint8_t *ptr, size_t cap);

#endif
