/* stats.c - libalcmc statistics: fetches the daemon's Stats report and converts it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "internal.h"

static void stream_from_wire(const Alcmwire__StreamStats *w, alcmc_stream_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!w) return;
    snprintf(s->name, sizeof s->name, "%s", w->name ? w->name : "");
    s->uid = w->uid;
    s->live = w->live ? 1 : 0;
    s->requests = w->requests;
    s->errors = w->errors;
    s->bytes_in = w->bytes_in;
    s->bytes_out = w->bytes_out;
    s->ratio = w->ratio;
    s->caq_mean = w->caq_mean;
    s->caq_last = w->caq_last;
    s->latency_p50_s = w->latency_p50_s;
    s->latency_p99_s = w->latency_p99_s;
    s->evictions = w->evictions;
    s->memory_bytes = w->memory_bytes;
    alcm_wire_sched_read(w->sched, &s->sched);
    for (size_t i = 0; i < w->n_errors_by_code && s->n_errors < ALCMC_MAX_ERROR_CODES; i++) {
        const Alcmwire__ErrorCount *e = w->errors_by_code[i];
        if (!e) continue;
        alcmc_error_count *d = &s->errors_by_code[s->n_errors++];
        snprintf(d->code, sizeof d->code, "%s", alcm_wire_error_name(e->code));
        d->count = e->count;
    }
}

alcmc_status alcmc_stats(alcmc_conn *conn, const char *stream_filter,
                          alcmc_stats_report **out)
{
    if (!conn || !out) return ALCMC_E_ARG;
    *out = NULL;
    alcmc_status st = alcmc__begin(conn);
    if (st != ALCMC_OK) return st;
    if (stream_filter && !alcm_wire_stream_name_ok(stream_filter))
        return alcmc__fail(conn, ALCMC_E_ARG, "invalid stream name");
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = ALCMWIRE__OP__OP_STATS;
    if (stream_filter) req.stream = (char *)stream_filter;
    alcmc_sink sink = {.alloc = 1};
    Alcmwire__Reply *r;
    st = alcmc__exchange(conn, &req, NULL, 0, -1, ALCMWIRE__OP__OP_STATS, &sink, &r);
    if (st != ALCMC_OK) return st;
    alcm_wire_reply_free(r);
    Alcmwire__Stats *w = alcmwire__stats__unpack(NULL, sink.len, sink.allocated);
    free(sink.allocated);
    if (!w) return alcmc__fail(conn, ALCMC_E_PROTOCOL, "stats payload is not a Stats message");

    alcmc_stats_report *s = calloc(1, sizeof *s);
    if (s && w->n_streams) s->streams = calloc(w->n_streams, sizeof *s->streams);
    if (!s || (w->n_streams && !s->streams)) {
        alcmc_stats_free(s);
        alcmwire__stats__free_unpacked(w, NULL);
        return alcmc__fail(conn, ALCMC_E_NOMEM, "stats allocation");
    }
    stream_from_wire(w->total, &s->total);
    for (size_t i = 0; i < w->n_streams; i++) stream_from_wire(w->streams[i], &s->streams[i]);
    s->n_streams = w->n_streams;
    s->uptime_ms = w->uptime_ms;
    s->connections = w->connections;
    s->connections_total = w->connections_total;
    s->connections_denied = w->connections_denied;
    s->live_streams = w->live_streams;
    s->stream_memory_bytes = w->stream_memory_bytes;
    s->memory_cap_bytes = w->memory_cap_bytes;
    s->inflight_bytes = w->inflight_bytes;
    s->inflight_cap_bytes = w->inflight_cap_bytes;
    s->requests_in_flight = w->requests_in_flight;
    s->rss_bytes = w->rss_bytes;
    s->peak_rss_bytes = w->peak_rss_bytes;
    s->rss_anon_bytes = w->rss_anon_bytes;
    s->peak_rss_anon_bytes = w->peak_rss_anon_bytes;
    s->rss_shmem_bytes = w->rss_shmem_bytes;
    alcmwire__stats__free_unpacked(w, NULL);
    *out = s;
    return ALCMC_OK;
}

void alcmc_stats_free(alcmc_stats_report *stats)
{
    if (!stats) return;
    free(stats->streams);
    free(stats);
}
