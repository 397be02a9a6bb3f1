/* report.c - builds the alcmwire.Stats snapshot of the server's counters and streams. */
#include "report.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

struct alcmd_report {
    Alcmwire__Stats stats;
    size_t n;                          /* StreamStats entries: total + streams */
    Alcmwire__StreamStats *items;      /* items[0] is the total */
    Alcmwire__StreamStats **ptrs;      /* streams, for stats.streams */
    Alcmwire__SchedState *scheds;
    Alcmwire__ErrorCount *counts;      /* ALCMD_N_ERROR_CODES per entry */
    Alcmwire__ErrorCount **count_ptrs;
};

void alcmd_memory_usage(alcmd_memory *m)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return;
    static const struct { const char *key; size_t off; } keys[] = {
        {"VmRSS:", offsetof(alcmd_memory, rss)},
        {"VmHWM:", offsetof(alcmd_memory, peak_rss)},
        {"RssAnon:", offsetof(alcmd_memory, anon)},
        {"RssShmem:", offsetof(alcmd_memory, shmem)},
    };
    char line[256];
    while (fgets(line, sizeof line, f)) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t n = strlen(keys[i].key);
            unsigned long long kib;
            if (strncmp(line, keys[i].key, n) == 0 && sscanf(line + n, "%llu", &kib) == 1)
                *(uint64_t *)((char *)m + keys[i].off) = (uint64_t)kib * 1024;
        }
    }
    fclose(f);
}

/* Fills entry i of the report from counters. */
static void fill_entry(alcmd_report *r, size_t i, const char *name, uint32_t uid, int live,
                       uint64_t memory, const alcm_sched_state *sched,
                       const alcmd_counters *c)
{
    Alcmwire__StreamStats *w = &r->items[i];
    alcmwire__stream_stats__init(w);
    w->name = (char *)name;
    w->uid = uid;
    w->live = live;
    w->requests = c->requests;
    w->errors = c->errors;
    w->bytes_in = c->bytes_in;
    w->bytes_out = c->bytes_out;
    w->ratio = alcmd_counters_ratio(c);
    w->caq_mean = alcmd_counters_caq_mean(c);
    w->caq_last = c->caq_last;
    w->latency_p50_s = alcmd_counters_latency(c, 0.50);
    w->latency_p99_s = alcmd_counters_latency(c, 0.99);
    w->evictions = c->evictions;
    w->memory_bytes = memory;
    if (sched) {
        alcm_wire_sched_fill(&r->scheds[i], sched);
        w->sched = &r->scheds[i];
    }
    Alcmwire__ErrorCount *counts = &r->counts[i * ALCMD_N_ERROR_CODES];
    Alcmwire__ErrorCount **ptrs = &r->count_ptrs[i * ALCMD_N_ERROR_CODES];
    size_t n = 0;
    for (int code = 1; code < ALCMD_N_ERROR_CODES; code++) {
        if (!c->errors_by_code[code]) continue;
        alcmwire__error_count__init(&counts[n]);
        counts[n].code = (Alcmwire__ErrorCode)code;
        counts[n].count = c->errors_by_code[code];
        ptrs[n] = &counts[n];
        n++;
    }
    w->n_errors_by_code = n;
    w->errors_by_code = n ? ptrs : NULL;
}

alcmd_report *alcmd_report_build(alcmd_server *srv, const char *filter,
                                 const alcmd_request *asking)
{
    size_t n_streams = 0;
    for (alcmd_stream *s = srv->streams.lru_head; s; s = s->lru_next)
        if (!filter || !strcmp(s->name, filter)) n_streams++;
    alcmd_report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->n = n_streams + 1;
    r->items = calloc(r->n, sizeof *r->items);
    r->ptrs = calloc(r->n, sizeof *r->ptrs);
    r->scheds = calloc(r->n, sizeof *r->scheds);
    r->counts = calloc(r->n * ALCMD_N_ERROR_CODES, sizeof *r->counts);
    r->count_ptrs = calloc(r->n * ALCMD_N_ERROR_CODES, sizeof *r->count_ptrs);
    if (!r->items || !r->ptrs || !r->scheds || !r->counts || !r->count_ptrs) {
        alcmd_report_free(r);
        return NULL;
    }
    srv->total.evictions = srv->streams.evictions;
    fill_entry(r, 0, "total", 0, 1, srv->streams.memory, NULL, &srv->total);
    size_t i = 1;
    for (alcmd_stream *s = srv->streams.lru_head; s; s = s->lru_next) {
        if (filter && strcmp(s->name, filter)) continue;
        fill_entry(r, i, s->name, s->uid, s->st != NULL, s->memory, &s->sched, &s->counters);
        r->ptrs[i - 1] = &r->items[i];
        i++;
    }
    Alcmwire__Stats *w = &r->stats;
    alcmwire__stats__init(w);
    w->total = &r->items[0];
    w->n_streams = n_streams;
    w->streams = n_streams ? r->ptrs : NULL;
    w->uptime_ms = (alcmd_now_ns() - srv->start_ns) / 1000000;
    w->connections = srv->n_sessions;
    w->connections_total = srv->connections_total;
    w->connections_denied = srv->connections_denied;
    w->live_streams = (uint32_t)srv->streams.n_live;
    w->stream_memory_bytes = srv->streams.memory;
    w->memory_cap_bytes = srv->cfg.memory_cap;
    w->inflight_bytes = alcmd_requests_inflight_bytes(srv, asking);
    w->inflight_cap_bytes = srv->cfg.inflight_cap;
    w->requests_in_flight = srv->requests_in_flight;
    if (asking && w->requests_in_flight > 0) w->requests_in_flight--;
    alcmd_memory mem;
    alcmd_memory_usage(&mem);
    if (mem.anon > srv->peak_anon) srv->peak_anon = mem.anon;
    w->rss_bytes = mem.rss;
    w->peak_rss_bytes = mem.peak_rss;
    w->rss_anon_bytes = mem.anon;
    w->peak_rss_anon_bytes = srv->peak_anon;
    w->rss_shmem_bytes = mem.shmem;
    return r;
}

const Alcmwire__Stats *alcmd_report_stats(const alcmd_report *r)
{
    return &r->stats;
}

void alcmd_report_free(alcmd_report *r)
{
    if (!r) return;
    free(r->items);
    free(r->ptrs);
    free(r->scheds);
    free(r->counts);
    free(r->count_ptrs);
    free(r);
}
