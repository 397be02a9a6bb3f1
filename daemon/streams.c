/* streams.c - the stream table: hash lookup, LRU order, eviction and memory accounting. */
#include "streams.h"

#include <stdlib.h>
#include <string.h>

static uint64_t key_hash(uint32_t uid, const char *name)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (int i = 0; i < 4; i++) {
        h ^= (uid >> (8 * i)) & 0xff;
        h *= 1099511628211ull;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

int alcmd_streams_init(alcmd_streams *t)
{
    memset(t, 0, sizeof *t);
    t->n_buckets = 64;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    return t->buckets ? 0 : -1;
}

static void lru_unlink(alcmd_streams *t, alcmd_stream *s)
{
    if (s->lru_prev) s->lru_prev->lru_next = s->lru_next;
    else t->lru_head = s->lru_next;
    if (s->lru_next) s->lru_next->lru_prev = s->lru_prev;
    else t->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void lru_push_front(alcmd_streams *t, alcmd_stream *s)
{
    s->lru_prev = NULL;
    s->lru_next = t->lru_head;
    if (t->lru_head) t->lru_head->lru_prev = s;
    t->lru_head = s;
    if (!t->lru_tail) t->lru_tail = s;
}

void alcmd_streams_touch(alcmd_streams *t, alcmd_stream *s)
{
    if (t->lru_head == s) return;
    lru_unlink(t, s);
    lru_push_front(t, s);
}

static void entry_free(alcmd_stream *s)
{
    alcm_stream_free(s->st);
    free(s->name);
    free(s);
}

void alcmd_streams_free(alcmd_streams *t)
{
    alcmd_stream *s = t->lru_head;
    while (s) {
        alcmd_stream *next = s->lru_next;
        entry_free(s);
        s = next;
    }
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

alcmd_stream *alcmd_streams_find(alcmd_streams *t, uint32_t uid, const char *name)
{
    uint64_t h = key_hash(uid, name);
    for (alcmd_stream *s = t->buckets[h & (t->n_buckets - 1)]; s; s = s->hnext)
        if (s->hash == h && s->uid == uid && !strcmp(s->name, name)) return s;
    return NULL;
}

static void grow(alcmd_streams *t)
{
    size_t n = t->n_buckets * 2;
    alcmd_stream **b = calloc(n, sizeof *b);
    if (!b) return;   /* keep the old table: longer chains, still correct */
    for (size_t i = 0; i < t->n_buckets; i++) {
        alcmd_stream *s = t->buckets[i];
        while (s) {
            alcmd_stream *next = s->hnext;
            s->hnext = b[s->hash & (n - 1)];
            b[s->hash & (n - 1)] = s;
            s = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

int alcmd_stream_idle(const alcmd_stream *s)
{
    return s->st && !s->busy && !s->q_head;
}

static void remove_entry(alcmd_streams *t, alcmd_stream *s)
{
    alcmd_stream **pp = &t->buckets[s->hash & (t->n_buckets - 1)];
    while (*pp != s) pp = &(*pp)->hnext;
    *pp = s->hnext;
    lru_unlink(t, s);
    if (s->st) {
        t->n_live--;
        t->memory -= s->memory;
    }
    t->n_entries--;
    entry_free(s);
}

/* Drops the least recently used entry nobody is using, evicting it first if it holds
 * state. Returns 0, or -1 when every entry is busy. */
static int drop_one(alcmd_streams *t, const alcmd_stream *keep)
{
    alcmd_stream *victim = NULL;
    for (alcmd_stream *s = t->lru_tail; s; s = s->lru_prev)
        if (s != keep && !s->busy && !s->q_head && !s->st) { victim = s; break; }
    if (!victim)
        for (alcmd_stream *s = t->lru_tail; s; s = s->lru_prev)
            if (s != keep && alcmd_stream_idle(s)) { victim = s; break; }
    if (!victim) return -1;
    remove_entry(t, victim);
    return 0;
}

alcmd_stream *alcmd_streams_get(alcmd_streams *t, uint32_t uid, const char *name,
                                size_t max_entries)
{
    alcmd_stream *s = alcmd_streams_find(t, uid, name);
    if (s) {
        alcmd_streams_touch(t, s);
        return s;
    }
    while (t->n_entries >= max_entries)
        if (drop_one(t, NULL) != 0) return NULL;
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->name = strdup(name);
    if (!s->name) {
        free(s);
        return NULL;
    }
    s->uid = uid;
    s->hash = key_hash(uid, name);
    size_t b = s->hash & (t->n_buckets - 1);
    s->hnext = t->buckets[b];
    t->buckets[b] = s;
    lru_push_front(t, s);
    t->n_entries++;
    if (t->n_entries > t->n_buckets) grow(t);
    return s;
}

void alcmd_streams_detach(alcmd_streams *t, alcmd_stream *s)
{
    if (!s->st) return;
    alcm_stream_free(s->st);
    s->st = NULL;
    t->n_live--;
    t->memory -= s->memory;
    s->memory = 0;
}

void alcmd_streams_evict(alcmd_streams *t, alcmd_stream *s)
{
    if (!s->st) return;
    alcmd_streams_detach(t, s);
    s->evicted = 1;
    s->counters.evictions++;
    t->evictions++;
}

int alcmd_streams_make_room(alcmd_streams *t, size_t max_live)
{
    int n = 0;
    while (t->n_live >= max_live) {
        alcmd_stream *victim = NULL;
        for (alcmd_stream *s = t->lru_tail; s; s = s->lru_prev)
            if (alcmd_stream_idle(s)) { victim = s; break; }
        if (!victim) return -1;
        alcmd_streams_evict(t, victim);
        n++;
    }
    return n;
}

int alcmd_streams_enforce_cap(alcmd_streams *t, uint64_t cap)
{
    int n = 0;
    alcmd_stream *s = t->lru_tail;
    while (t->memory > cap && s) {
        alcmd_stream *prev = s->lru_prev;
        if (alcmd_stream_idle(s)) {
            alcmd_streams_evict(t, s);
            n++;
        }
        s = prev;
    }
    return n;
}

void alcmd_streams_attach(alcmd_streams *t, alcmd_stream *s, alcm_stream *st,
                          const alcm_stream_config *cfg)
{
    s->st = st;
    s->cfg = *cfg;
    s->memory = alcm_stream_memory(st);
    t->memory += s->memory;
    t->n_live++;
}

void alcmd_streams_set_memory(alcmd_streams *t, alcmd_stream *s, size_t bytes)
{
    if (!s->st) return;
    t->memory = t->memory - s->memory + bytes;
    s->memory = bytes;
}
