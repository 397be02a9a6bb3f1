/* cmd_stats.c - `alcm stats`: per-stream and total figures of a running alcmd, as a table
 * or JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "alcmc.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm [--socket PATH] stats [--socket PATH] [--stream NAME] [--json]\n"
            "\n"
            "Asks a running alcmd for its statistics: per stream (uid, requests, errors,\n"
            "bytes in/out, ratio, CAQ, p50/p99 latency, evictions, state memory) and in\n"
            "total, plus connections and memory.\n"
            "\n"
            "  --socket PATH   the daemon's socket (default: alcm --socket, $ALCM_SOCKET)\n"
            "  --stream NAME   only streams with this name\n"
            "  --json          print JSON instead of a table\n"
            "  -h, --help      this help\n");
}

static void fmt_bytes(char *buf, size_t cap, double b)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024.0 && u < 4) {
        b /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void print_row(const alcmc_stream_stats *s, int width)
{
    char in[32], out[32], mem[32];
    fmt_bytes(in, sizeof in, (double)s->bytes_in);
    fmt_bytes(out, sizeof out, (double)s->bytes_out);
    fmt_bytes(mem, sizeof mem, (double)s->memory_bytes);
    printf("%-*s %6u %9llu %6llu %11s %11s %7.3f %7.3f %8.2f %8.2f %5llu %11s%s\n", width,
           s->name, s->uid, (unsigned long long)s->requests, (unsigned long long)s->errors, in,
           out, s->ratio, s->caq_mean, s->latency_p50_s * 1e3, s->latency_p99_s * 1e3,
           (unsigned long long)s->evictions, mem, s->live ? "" : " (evicted)");
}

static void print_table(const alcmc_server_info *info, const alcmc_stats_report *r)
{
    char mem[32], cap[32], rss[32], peak[32], inflight[32], anon[32], panon[32], shmem[32];
    fmt_bytes(mem, sizeof mem, (double)r->stream_memory_bytes);
    fmt_bytes(cap, sizeof cap, (double)r->memory_cap_bytes);
    fmt_bytes(rss, sizeof rss, (double)r->rss_bytes);
    fmt_bytes(peak, sizeof peak, (double)r->peak_rss_bytes);
    fmt_bytes(inflight, sizeof inflight, (double)r->inflight_bytes);
    fmt_bytes(anon, sizeof anon, (double)r->rss_anon_bytes);
    fmt_bytes(panon, sizeof panon, (double)r->peak_rss_anon_bytes);
    fmt_bytes(shmem, sizeof shmem, (double)r->rss_shmem_bytes);
    printf("alcmd %s (pid %u), up %.1f s: %u connection(s) open, %llu accepted, %llu denied\n",
           info->daemon_version, info->pid, (double)r->uptime_ms / 1000.0, r->connections,
           (unsigned long long)r->connections_total, (unsigned long long)r->connections_denied);
    printf("streams: %u live, state %s of %s cap; in flight: %u request(s), %s\n",
           r->live_streams, mem, cap, r->requests_in_flight, inflight);
    printf("memory: RSS %s (peak %s) = own %s (peak %s) + clients' shared regions %s + "
           "code\n\n", rss, peak, anon, panon, shmem);
    int width = 6;
    for (size_t i = 0; i < r->n_streams; i++) {
        int n = (int)strlen(r->streams[i].name);
        if (n > width) width = n;
    }
    printf("%-*s %6s %9s %6s %11s %11s %7s %7s %8s %8s %5s %11s\n", width, "stream", "uid",
           "requests", "errors", "bytes in", "bytes out", "ratio", "CAQ", "p50 ms", "p99 ms",
           "evict", "memory");
    for (size_t i = 0; i < r->n_streams; i++) print_row(&r->streams[i], width);
    print_row(&r->total, width);
    if (r->total.n_errors) {
        printf("\nerrors:");
        for (size_t i = 0; i < r->total.n_errors; i++)
            printf(" %s=%llu", r->total.errors_by_code[i].code,
                   (unsigned long long)r->total.errors_by_code[i].count);
        printf("\n");
    }
}

static void json_stream(cli_json *j, const char *key, const alcmc_stream_stats *s)
{
    cli_json_begin_object(j, key);
    cli_json_string(j, "name", s->name);
    cli_json_int(j, "uid", s->uid);
    cli_json_bool(j, "live", s->live);
    cli_json_int(j, "requests", (int64_t)s->requests);
    cli_json_int(j, "errors", (int64_t)s->errors);
    cli_json_int(j, "bytes_in", (int64_t)s->bytes_in);
    cli_json_int(j, "bytes_out", (int64_t)s->bytes_out);
    cli_json_number(j, "ratio", s->ratio);
    cli_json_number(j, "caq_mean", s->caq_mean);
    cli_json_number(j, "caq_last", s->caq_last);
    cli_json_number(j, "latency_p50_s", s->latency_p50_s);
    cli_json_number(j, "latency_p99_s", s->latency_p99_s);
    cli_json_int(j, "evictions", (int64_t)s->evictions);
    cli_json_int(j, "memory_bytes", (int64_t)s->memory_bytes);
    cli_json_int(j, "steps", (int64_t)s->sched.steps);
    cli_json_number(j, "aggressiveness", s->sched.aggressiveness);
    cli_json_number(j, "prune_ratio", s->sched.prune_ratio);
    cli_json_begin_object(j, "errors_by_code");
    for (size_t i = 0; i < s->n_errors; i++)
        cli_json_int(j, s->errors_by_code[i].code, (int64_t)s->errors_by_code[i].count);
    cli_json_end_object(j);
    cli_json_end_object(j);
}

static void print_json(const alcmc_server_info *info, const alcmc_stats_report *r)
{
    cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "daemon_version", info->daemon_version);
    cli_json_int(&j, "pid", info->pid);
    cli_json_int(&j, "uptime_ms", (int64_t)r->uptime_ms);
    cli_json_int(&j, "connections", r->connections);
    cli_json_int(&j, "connections_total", (int64_t)r->connections_total);
    cli_json_int(&j, "connections_denied", (int64_t)r->connections_denied);
    cli_json_int(&j, "live_streams", r->live_streams);
    cli_json_int(&j, "stream_memory_bytes", (int64_t)r->stream_memory_bytes);
    cli_json_int(&j, "memory_cap_bytes", (int64_t)r->memory_cap_bytes);
    cli_json_int(&j, "inflight_bytes", (int64_t)r->inflight_bytes);
    cli_json_int(&j, "inflight_cap_bytes", (int64_t)r->inflight_cap_bytes);
    cli_json_int(&j, "requests_in_flight", r->requests_in_flight);
    cli_json_int(&j, "rss_bytes", (int64_t)r->rss_bytes);
    cli_json_int(&j, "peak_rss_bytes", (int64_t)r->peak_rss_bytes);
    cli_json_int(&j, "rss_anon_bytes", (int64_t)r->rss_anon_bytes);
    cli_json_int(&j, "peak_rss_anon_bytes", (int64_t)r->peak_rss_anon_bytes);
    cli_json_int(&j, "rss_shmem_bytes", (int64_t)r->rss_shmem_bytes);
    cli_json_begin_array(&j, "streams");
    for (size_t i = 0; i < r->n_streams; i++) json_stream(&j, NULL, &r->streams[i]);
    cli_json_end_array(&j);
    json_stream(&j, "total", &r->total);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

int cmd_stats(int argc, char **argv)
{
    /* `alcm --socket S --stream N stats` and $ALCM_SOCKET give the defaults. */
    const char *cmd = "stats", *socket_path = cli_global_socket(), *stream = cli_global_stream();
    if (!socket_path) socket_path = getenv("ALCM_SOCKET");
    int json = 0;
    static const struct option longopts[] = {
        {"socket", required_argument, 0, 's'}, {"stream", required_argument, 0, 'n'},
        {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': socket_path = optarg; break;
        case 'n': stream = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) return 2;
    if (!socket_path || !socket_path[0]) {
        cli_error(cmd, "no socket: give --socket PATH or set ALCM_SOCKET");
        return 2;
    }
    alcmc_conn *conn = cli_connect(cmd, socket_path);
    if (!conn) return 1;
    alcmc_stats_report *r;
    alcmc_status st = alcmc_stats(conn, stream, &r);
    if (st != ALCMC_OK) {
        cli_error(cmd, "%s: %s", alcmc_strerror(st), alcmc_last_message(conn));
        alcmc_close(conn);
        return st == ALCMC_E_ARG ? 2 : 1;
    }
    if (json) print_json(alcmc_server(conn), r);
    else print_table(alcmc_server(conn), r);
    alcmc_stats_free(r);
    alcmc_close(conn);
    return 0;
}
