/* prom.c - formats alcm_* metrics and writes the textfile-collector file atomically. */
#include "prom.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "report.h"

/* A label value with \, " and newline escaped as the text format requires. */
static void put_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') fputc('\\', f);
        if (*v == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*v, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void stream_labels(FILE *f, const Alcmwire__StreamStats *s)
{
    fputs("{stream=\"", f);
    put_label(f, s->name ? s->name : "");
    fprintf(f, "\",uid=\"%u\"}", s->uid);
}

typedef enum { U64, DBL } kind;

/* One per-stream metric: a line per stream. off: offset of the field in StreamStats. */
static void per_stream(FILE *f, const Alcmwire__Stats *st, const char *name, const char *type,
                       const char *help, size_t off, kind k)
{
    head(f, name, type, help);
    for (size_t i = 0; i < st->n_streams; i++) {
        const Alcmwire__StreamStats *s = st->streams[i];
        fputs(name, f);
        stream_labels(f, s);
        const char *field = (const char *)s + off;
        if (k == U64) fprintf(f, " %llu\n", (unsigned long long)*(const uint64_t *)field);
        else fprintf(f, " %.9g\n", *(const double *)field);
    }
}

void alcmd_prom_format(FILE *f, const Alcmwire__Stats *st)
{
    const Alcmwire__StreamStats *t = st->total;
    head(f, "alcm_requests_total", "counter", "Requests answered, errors included.");
    fprintf(f, "alcm_requests_total %llu\n", (unsigned long long)t->requests);
    head(f, "alcm_errors_total", "counter", "Error replies by error code.");
    for (size_t i = 0; i < t->n_errors_by_code; i++)
        fprintf(f, "alcm_errors_total{code=\"%s\"} %llu\n",
                alcm_wire_error_name(t->errors_by_code[i]->code),
                (unsigned long long)t->errors_by_code[i]->count);
    head(f, "alcm_bytes_in_total", "counter", "Request payload bytes.");
    fprintf(f, "alcm_bytes_in_total %llu\n", (unsigned long long)t->bytes_in);
    head(f, "alcm_bytes_out_total", "counter", "Reply payload bytes.");
    fprintf(f, "alcm_bytes_out_total %llu\n", (unsigned long long)t->bytes_out);
    head(f, "alcm_compression_ratio", "gauge", "Tensor bytes / blob bytes over all steps.");
    fprintf(f, "alcm_compression_ratio %.9g\n", t->ratio);
    head(f, "alcm_caq_mean", "gauge", "Mean CAQ = ratio / (cpu seconds + 1) over all steps.");
    fprintf(f, "alcm_caq_mean %.9g\n", t->caq_mean);
    head(f, "alcm_latency_seconds", "summary", "Request latency, frame received to reply queued.");
    fprintf(f, "alcm_latency_seconds{quantile=\"0.5\"} %.9g\n", t->latency_p50_s);
    fprintf(f, "alcm_latency_seconds{quantile=\"0.99\"} %.9g\n", t->latency_p99_s);
    head(f, "alcm_evictions_total", "counter", "Streams evicted under the memory cap or limit.");
    fprintf(f, "alcm_evictions_total %llu\n", (unsigned long long)t->evictions);
    head(f, "alcm_connections", "gauge", "Open client connections.");
    fprintf(f, "alcm_connections %u\n", st->connections);
    head(f, "alcm_connections_total", "counter", "Accepted connections.");
    fprintf(f, "alcm_connections_total %llu\n", (unsigned long long)st->connections_total);
    head(f, "alcm_connections_denied_total", "counter", "Connections refused by the allow-list.");
    fprintf(f, "alcm_connections_denied_total %llu\n",
            (unsigned long long)st->connections_denied);
    head(f, "alcm_live_streams", "gauge", "Streams whose state the daemon holds.");
    fprintf(f, "alcm_live_streams %u\n", st->live_streams);
    head(f, "alcm_stream_memory_bytes_total", "gauge", "Memory of all stream state.");
    fprintf(f, "alcm_stream_memory_bytes_total %llu\n",
            (unsigned long long)st->stream_memory_bytes);
    head(f, "alcm_memory_cap_bytes", "gauge", "Cap on stream state memory.");
    fprintf(f, "alcm_memory_cap_bytes %llu\n", (unsigned long long)st->memory_cap_bytes);
    head(f, "alcm_inflight_bytes", "gauge", "Request and reply buffer bytes in flight.");
    fprintf(f, "alcm_inflight_bytes %llu\n", (unsigned long long)st->inflight_bytes);
    head(f, "alcm_requests_in_flight", "gauge", "Requests received and not yet answered.");
    fprintf(f, "alcm_requests_in_flight %u\n", st->requests_in_flight);
    head(f, "alcm_resident_memory_bytes", "gauge", "Resident set size of alcmd.");
    fprintf(f, "alcm_resident_memory_bytes %llu\n", (unsigned long long)st->rss_bytes);
    head(f, "alcm_anon_memory_bytes", "gauge", "alcmd's own memory (RssAnon).");
    fprintf(f, "alcm_anon_memory_bytes %llu\n", (unsigned long long)st->rss_anon_bytes);
    head(f, "alcm_shared_region_memory_bytes", "gauge",
         "Clients' shared regions resident in alcmd (RssShmem).");
    fprintf(f, "alcm_shared_region_memory_bytes %llu\n",
            (unsigned long long)st->rss_shmem_bytes);
    head(f, "alcm_uptime_seconds", "gauge", "Seconds since alcmd started.");
    fprintf(f, "alcm_uptime_seconds %.3f\n", (double)st->uptime_ms / 1000.0);

#define FIELD(m) offsetof(Alcmwire__StreamStats, m)
    per_stream(f, st, "alcm_stream_requests_total", "counter", "Requests of the stream.",
               FIELD(requests), U64);
    per_stream(f, st, "alcm_stream_errors_total", "counter", "Error replies of the stream.",
               FIELD(errors), U64);
    per_stream(f, st, "alcm_stream_bytes_in_total", "counter", "Tensor bytes received.",
               FIELD(bytes_in), U64);
    per_stream(f, st, "alcm_stream_bytes_out_total", "counter", "Blob bytes sent.",
               FIELD(bytes_out), U64);
    per_stream(f, st, "alcm_stream_compression_ratio", "gauge", "Tensor bytes / blob bytes.",
               FIELD(ratio), DBL);
    per_stream(f, st, "alcm_stream_caq_mean", "gauge", "Mean CAQ of the stream's steps.",
               FIELD(caq_mean), DBL);
    per_stream(f, st, "alcm_stream_caq_last", "gauge", "CAQ of the stream's last step.",
               FIELD(caq_last), DBL);
    per_stream(f, st, "alcm_stream_latency_p50_seconds", "gauge", "Median request latency.",
               FIELD(latency_p50_s), DBL);
    per_stream(f, st, "alcm_stream_latency_p99_seconds", "gauge", "99th percentile latency.",
               FIELD(latency_p99_s), DBL);
    per_stream(f, st, "alcm_stream_evictions_total", "counter", "Evictions of the stream.",
               FIELD(evictions), U64);
    per_stream(f, st, "alcm_stream_memory_bytes", "gauge", "Memory of the stream's state.",
               FIELD(memory_bytes), U64);
#undef FIELD
    head(f, "alcm_stream_live", "gauge", "1 while the daemon holds the stream's state.");
    for (size_t i = 0; i < st->n_streams; i++) {
        fputs("alcm_stream_live", f);
        stream_labels(f, st->streams[i]);
        fprintf(f, " %d\n", st->streams[i]->live ? 1 : 0);
    }
}

int alcmd_prom_write(const char *path, const Alcmwire__Stats *stats)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return -1;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return -1;
    }
    alcmd_prom_format(f, stats);
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (!bad && chmod(tmp, 0644) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        errno = e ? e : EIO;
        return -1;
    }
    free(tmp);
    return 0;
}

static void write_now(alcmd_server *srv)
{
    if (!srv->cfg.prometheus_file[0]) return;
    alcmd_report *r = alcmd_report_build(srv, NULL, NULL);
    if (!r) return;
    if (alcmd_prom_write(srv->cfg.prometheus_file, alcmd_report_stats(r)) != 0)
        alcmd_log(ALCMD_LOG_WARNING, "cannot write %s: %s", srv->cfg.prometheus_file,
                  strerror(errno));
    alcmd_report_free(r);
}

static void on_tick(uv_timer_t *t)
{
    write_now(t->data);
}

void alcmd_prom_start(alcmd_server *srv)
{
    uv_timer_stop(&srv->prom_timer);
    if (!srv->cfg.prometheus_file[0]) return;
    write_now(srv);
    uv_timer_start(&srv->prom_timer, on_tick, srv->cfg.prometheus_interval_ms,
                   srv->cfg.prometheus_interval_ms);
}

void alcmd_prom_stop(alcmd_server *srv)
{
    write_now(srv);
    uv_timer_stop(&srv->prom_timer);
}
