/* streams.h - alcmd's stream table: one alcm_stream per (peer uid, stream name), a queue of
 * the requests waiting for it, LRU eviction under a memory cap and a stream limit, and
 * per-stream statistics that outlive eviction. Runs on the event loop thread only. */
#ifndef ALCMD_STREAMS_H
#define ALCMD_STREAMS_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"
#include "stats.h"

struct alcmd_request;

typedef struct alcmd_stream {
    uint32_t uid;
    char *name;
    uint64_t hash;
    struct alcmd_stream *hnext;                 /* hash chain */
    struct alcmd_stream *lru_prev, *lru_next;   /* most recently used first */
    alcm_stream *st;            /* the state; NULL when never built or evicted */
    alcm_stream_config cfg;     /* what st was built from */
    int evicted;                /* st was evicted: the next step reports it */
    int busy;                   /* a request of the queue is running */
    struct alcmd_request *q_head, *q_tail;      /* requests waiting, in arrival order */
    size_t memory;              /* alcm_stream_memory after the last step */
    alcm_sched_state sched;     /* scheduler after the last step */
    alcmd_counters counters;
} alcmd_stream;

typedef struct {
    alcmd_stream **buckets;
    size_t n_buckets;
    size_t n_entries;           /* live and evicted entries */
    size_t n_live;              /* entries holding an alcm_stream */
    uint64_t memory;            /* sum of memory over live entries */
    uint64_t evictions;         /* every eviction since start */
    alcmd_stream *lru_head, *lru_tail;
} alcmd_streams;

/* Initialises an empty table. 0, or -1 when out of memory. */
int alcmd_streams_init(alcmd_streams *t);

/* Frees every entry and its alcm_stream. No entry may be busy. */
void alcmd_streams_free(alcmd_streams *t);

/* The entry of (uid, name), or NULL. */
alcmd_stream *alcmd_streams_find(alcmd_streams *t, uint32_t uid, const char *name);

/* The entry of (uid, name), created empty if missing. The table keeps at most
 * max_entries entries: the least recently used idle evicted entries are dropped (and idle
 * live ones evicted first if need be) to make room. NULL when out of memory or when every
 * entry is busy. Marks the entry most recently used. */
alcmd_stream *alcmd_streams_get(alcmd_streams *t, uint32_t uid, const char *name,
                                size_t max_entries);

/* 1 when the entry can be evicted now: it holds state, no request runs or waits. */
int alcmd_stream_idle(const alcmd_stream *s);

/* Frees the entry's alcm_stream and marks it evicted (counted in its statistics). */
void alcmd_streams_evict(alcmd_streams *t, alcmd_stream *s);

/* Evicts least recently used idle streams until fewer than max_live hold state.
 * Returns the number evicted, or -1 if the limit cannot be met (all busy). */
int alcmd_streams_make_room(alcmd_streams *t, size_t max_live);

/* Evicts least recently used idle streams while the state memory exceeds cap. Returns the
 * number evicted. */
int alcmd_streams_enforce_cap(alcmd_streams *t, uint64_t cap);

/* Installs st (built from cfg) as the entry's state; the entry must hold none. */
void alcmd_streams_attach(alcmd_streams *t, alcmd_stream *s, alcm_stream *st,
                          const alcm_stream_config *cfg);

/* Drops the entry's state without counting an eviction (reconfiguration). */
void alcmd_streams_detach(alcmd_streams *t, alcmd_stream *s);

/* Records the entry's memory after a step. */
void alcmd_streams_set_memory(alcmd_streams *t, alcmd_stream *s, size_t bytes);

/* Marks the entry most recently used. */
void alcmd_streams_touch(alcmd_streams *t, alcmd_stream *s);


#endif
