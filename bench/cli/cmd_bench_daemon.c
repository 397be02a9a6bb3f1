/* cmd_bench_daemon.c - `alcm-bench bench-daemon`: what going through alcmd costs. In one run:
 * in-process stream encode vs the daemon round trip for each tensor size (MB/s, overhead
 * %), aggregate throughput with 1/2/4/8 concurrent clients; or, with --load, many clients
 * with mixed sizes checked for errors, error budgets and the daemon's memory. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alcm_tools.h"
#include "alcmc.h"
#include "bench_cli.h"

#define MIB (1024.0 * 1024.0)
#define MAX_LEVELS 8
#define MAX_SIZES 8

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm-bench bench-daemon [options]\n"
            "\n"
            "Measures the cost of encoding through alcmd against encoding in-process, on the\n"
            "same synthetic gradients and stream configuration (gradient profile, error\n"
            "feedback, deterministic scheduler), alternating the two paths run by run:\n"
            "  1. per size: median wall time of a one-shot compress of the tensor (no\n"
            "     residual, the knobs the step applies), of one stream step in-process\n"
            "     (alcm_stream, error feedback; and its time over the one-shot's) and\n"
            "     through the daemon (send tensor, encode, receive blob), with the tensor\n"
            "     passed through shared memory (libalcmc's default) and through the socket;\n"
            "     MB/s and overhead %% over the in-process step;\n"
            "  2. aggregate MB/s with 1, 2, 4, 8 concurrent clients, each on its own\n"
            "     connection and stream, beside the same number of in-process threads.\n"
            "It starts its own alcmd on a temporary socket unless --socket is given.\n"
            "\n"
            "  --socket PATH      use a running daemon\n"
            "  --alcmd PATH       daemon binary (default: alcmd next to this program)\n"
            "  --sizes LIST       tensor sizes in MiB (default 4,64)\n"
            "  --runs N           timed steps per size and path (default 7; sizes under\n"
            "                     16 MiB get proportionally more, up to 8x, so every\n"
            "                     median covers comparable time)\n"
            "  --clients LIST     concurrency levels (default 1,2,4,8)\n"
            "  --client-mib N     tensor size of the concurrency part (default 4)\n"
            "  --requests N       requests per client in the concurrency part (default 6)\n"
            "  --load             instead: the load test (8 clients x 500 requests of\n"
            "                     1 KiB..16 MiB); fails unless every request succeeds, every\n"
            "                     blob decodes within its budget and the daemon's own peak\n"
            "                     memory (RssAnon, sampled) stays under --memory-cap +\n"
            "                     --inflight-cap (its RSS also counts the clients' shared\n"
            "                     regions it maps; both are printed)\n"
            "  --memory-cap SIZE  (load) daemon stream-state cap (default 256M)\n"
            "  --inflight-cap SIZE (load) daemon buffer cap (default 256M)\n"
            "  --json FILE        also write the figures as JSON\n"
            "  -h, --help         this help\n");
}

/* ---- the daemon under test ------------------------------------------------------------ */
typedef struct {
    pid_t pid;               /* > 0 when this process started it */
    char dir[64];
    char socket[128];
} daemon_proc;

/* The alcmd binary next to this executable, if there is one. */
static void default_alcmd(char *buf, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    snprintf(buf, cap, "alcmd");
    if (n <= 0) return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return;
    *slash = '\0';
    char cand[PATH_MAX + 8];
    snprintf(cand, sizeof cand, "%s/alcmd", self);
    if (strlen(cand) < cap && access(cand, X_OK) == 0) memcpy(buf, cand, strlen(cand) + 1);
}

static int daemon_start(daemon_proc *d, const char *alcmd, const char *const *extra)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/alcm-bench-XXXXXX");
    if (!mkdtemp(d->dir)) return -1;
    snprintf(d->socket, sizeof d->socket, "%s/alcmd.sock", d->dir);
    const char *argv[24] = {alcmd, "--socket", d->socket, "--log-level", "warning"};
    int n = 5;
    for (int i = 0; extra && extra[i] && n < 22; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    fflush(NULL);
    d->pid = fork();
    if (d->pid == 0) {
        unsetenv("NOTIFY_SOCKET");
        execvp(alcmd, (char *const *)argv);
        fprintf(stderr, "alcm-bench bench-daemon: cannot run %s: %s\n", alcmd, strerror(errno));
        _exit(127);
    }
    if (d->pid < 0) return -1;
    for (int i = 0; i < 500; i++) {
        alcmc_conn *c;
        if (alcmc_connect(d->socket, NULL, &c) == ALCMC_OK) {
            alcmc_close(c);
            return 0;
        }
        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
            d->pid = 0;
            return -1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    }
    return -1;
}

/* Stops a daemon this process started; its exit status (0 expected), or -1. */
static int daemon_stop(daemon_proc *d)
{
    int rc = 0;
    if (d->pid > 0) {
        int status;
        kill(d->pid, SIGTERM);
        rc = waitpid(d->pid, &status, 0) == d->pid && WIFEXITED(status) ? WEXITSTATUS(status)
                                                                         : -1;
        d->pid = 0;
    }
    if (d->dir[0]) {
        char path[160];
        snprintf(path, sizeof path, "%s/alcmd.sock.lock", d->dir);
        unlink(path);
        rmdir(d->dir);
        d->dir[0] = '\0';
    }
    return rc;
}

/* ---- shared pieces -------------------------------------------------------------------- */
static void bench_config(alcm_stream_config *cfg)
{
    alcm_stream_config_default(cfg);
    cfg->sched.deterministic = 1;   /* both paths do the same work, step for step */
}

static float *make_tensor(size_t n, uint64_t seed)
{
    return cli_synth_tensor(ALCM_SYNTH_GRADIENT, n, 4096, seed);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int parse_list(const char *text, double *out, int max)
{
    int n = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", text);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max || cli_parse_double(t, &out[n]) != 0 || !(out[n] > 0)) return -1;
        n++;
    }
    return n;
}

/* ---- 1. in-process vs daemon round trip ----------------------------------------------- */
typedef struct {
    double mib;
    double inproc_s, daemon_s, socket_s;       /* median seconds per step */
    double oneshot_s;                /* median seconds of alcm_compress, no residual */
    double step_over_oneshot;        /* in-process stream step / one-shot compress */
    double inproc_mbps, daemon_mbps, socket_mbps;
    double overhead_pct, socket_overhead_pct;
    double ratio;
    int runs;
    int blobs_equal;                 /* every daemon blob equalled the in-process blob */
} size_result;

/* One daemon step on stream name; its wall time in *seconds, blob in b. */
static int daemon_step(alcmc_conn *conn, const char *name, const alcm_stream_config *cfg,
                       const alcm_shape *shape, const float *x, size_t bytes, uint8_t *b,
                       size_t cap, size_t *len, double *seconds)
{
    double t0 = cli_wall_seconds();
    alcmc_status st = alcmc_compress(conn, name, cfg, shape, x, bytes, b, cap, len, NULL);
    *seconds = cli_wall_seconds() - t0;
    if (st != ALCMC_OK)
        fprintf(stderr, "alcm-bench bench-daemon: %s: %s\n", alcmc_strerror(st),
                alcmc_last_message(conn));
    return st == ALCMC_OK ? 0 : -1;
}

/* conn passes large tensors through shared memory, sock_conn through the socket. */
static int measure_size(alcmc_conn *conn, alcmc_conn *sock_conn, double mib, int runs,
                        size_result *out)
{
    if (mib < 16) runs *= mib * 8 < 16 ? 8 : (int)ceil(16 / mib);
    size_t n = (size_t)(mib * MIB / 4);
    size_t bytes = n * 4, cap = alcm_compress_bound(bytes);
    float *x = make_tensor(n, 42);
    uint8_t *a = malloc(cap), *b = malloc(cap), *o = malloc(cap);
    double *ti = malloc((size_t)runs * sizeof *ti), *td = malloc((size_t)runs * sizeof *td);
    double *ts = malloc((size_t)runs * sizeof *ts), *to = malloc((size_t)runs * sizeof *to);
    alcm_stream_config cfg;
    bench_config(&cfg);
    alcm_stream *local = NULL;
    alcm_stream_create(&cfg, &local);
    alcm_cctx *cctx = alcm_cctx_create();
    int rc = -1;
    if (!x || !a || !b || !o || !ti || !td || !ts || !to || !local || !cctx) goto done;
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    char name[64], sock_name[80];
    snprintf(name, sizeof name, "bench/%gMiB/%ld", mib, (long)getpid());
    snprintf(sock_name, sizeof sock_name, "%s/socket", name);
    alcm_stream *sock_local = NULL;   /* twin of the socket stream */
    alcm_stream_create(&cfg, &sock_local);
    if (!sock_local) goto done;
    out->mib = mib;
    out->runs = runs;
    out->blobs_equal = 1;
    /* Step 0 of each path is a warm-up (first allocation of the residual and scratch). */
    for (int r = -1; r < runs; r++) {
        size_t la, lb, ls, lo;
        alcm_info info;
        /* One-shot compress of the same tensor with the knobs this step applies. */
        alcm_params op = cfg.params;
        if (cfg.adaptive) {
            alcm_sched_state ss;
            alcm_stream_get_state(local, &ss);
            op.error_budget = cfg.sched.error_budget;
            op.aggressiveness = ss.aggressiveness;
            op.prune_ratio = ss.prune_ratio;
        }
        /* The one-shot and the stream step take turns going first, so that neither is
         * always the one that finds the tensor in cache. */
        double tdaemon, tsock, tone = 0.0, tin = 0.0;
        for (int k = 0; k < 2; k++) {
            double t0 = cli_wall_seconds();
            if ((k == 0) == (r % 2 == 0)) {
                if (alcm_compress(cctx, &op, &shape, x, bytes, NULL, o, cap, &lo, NULL) !=
                    ALCM_OK)
                    goto done_twin;
                tone = cli_wall_seconds() - t0;
            } else {
                if (alcm_stream_compress(local, &shape, x, bytes, a, cap, &la, &info, NULL) !=
                    ALCM_OK)
                    goto done_twin;
                tin = cli_wall_seconds() - t0;
            }
        }
        if (daemon_step(conn, name, &cfg, &shape, x, bytes, b, cap, &lb, &tdaemon) != 0)
            goto done_twin;
        if (la != lb || memcmp(a, b, la) != 0) out->blobs_equal = 0;
        if (daemon_step(sock_conn, sock_name, &cfg, &shape, x, bytes, b, cap, &ls, &tsock) != 0 ||
            alcm_stream_compress(sock_local, &shape, x, bytes, a, cap, &la, NULL, NULL) != ALCM_OK)
            goto done_twin;
        if (la != ls || memcmp(a, b, la) != 0) out->blobs_equal = 0;
        out->ratio = info.ratio;
        if (r >= 0) {
            ti[r] = tin;
            td[r] = tdaemon;
            ts[r] = tsock;
            to[r] = tone;
        }
    }
    out->oneshot_s = median(to, runs);
    out->step_over_oneshot = median(ti, runs) / out->oneshot_s;
    out->inproc_s = median(ti, runs);
    out->daemon_s = median(td, runs);
    out->socket_s = median(ts, runs);
    out->inproc_mbps = (double)bytes / 1e6 / out->inproc_s;
    out->daemon_mbps = (double)bytes / 1e6 / out->daemon_s;
    out->socket_mbps = (double)bytes / 1e6 / out->socket_s;
    out->overhead_pct = (out->daemon_s / out->inproc_s - 1.0) * 100.0;
    out->socket_overhead_pct = (out->socket_s / out->inproc_s - 1.0) * 100.0;
    rc = 0;
done_twin:
    alcmc_reset_stream(conn, name, NULL);
    alcmc_reset_stream(sock_conn, sock_name, NULL);
    alcm_stream_free(sock_local);
done:
    alcm_stream_free(local);
    free(x);
    free(a);
    free(o);
    free(b);
    free(ti);
    free(td);
    free(ts);
    free(to);
    alcm_cctx_free(cctx);
    return rc;
}

/* ---- 2. concurrent clients ------------------------------------------------------------ */
typedef struct {
    const char *socket;      /* NULL: in-process */
    int id, requests;
    size_t n;
    const float *x;
    int errors;
} client_job;

static void *client_run(void *arg)
{
    client_job *j = arg;
    size_t bytes = j->n * 4, cap = alcm_compress_bound(bytes), len;
    uint8_t *blob = malloc(cap);
    alcm_stream_config cfg;
    bench_config(&cfg);
    alcm_shape shape;
    alcm_shape_1d(&shape, j->n);
    alcmc_conn *conn = NULL;
    alcm_stream *local = NULL;
    char name[64];
    snprintf(name, sizeof name, "bench/client%d/%ld", j->id, (long)getpid());
    if (!blob || (j->socket ? alcmc_connect(j->socket, NULL, &conn) != ALCMC_OK
                            : alcm_stream_create(&cfg, &local) != ALCM_OK)) {
        j->errors = j->requests;
        free(blob);
        return NULL;
    }
    for (int i = 0; i < j->requests; i++) {
        int ok = j->socket ? alcmc_compress(conn, name, &cfg, &shape, j->x, bytes, blob, cap,
                                            &len, NULL) == ALCMC_OK
                           : alcm_stream_compress(local, &shape, j->x, bytes, blob, cap, &len,
                                                  NULL, NULL) == ALCM_OK;
        if (!ok) j->errors++;
    }
    if (conn) alcmc_reset_stream(conn, name, NULL);
    alcmc_close(conn);
    alcm_stream_free(local);
    free(blob);
    return NULL;
}

/* Aggregate MB/s of `clients` threads each doing `requests` steps; -1 on errors. */
static double aggregate(const char *socket, int clients, int requests, const float *x, size_t n)
{
    pthread_t th[64];
    client_job jobs[64];
    double t0 = cli_wall_seconds();
    for (int i = 0; i < clients; i++) {
        jobs[i] = (client_job){.socket = socket, .id = i, .requests = requests, .n = n, .x = x};
        if (pthread_create(&th[i], NULL, client_run, &jobs[i]) != 0) return -1;
    }
    int errors = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        errors += jobs[i].errors;
    }
    double wall = cli_wall_seconds() - t0;
    return errors ? -1 : (double)clients * requests * (double)n * 4 / 1e6 / wall;
}

/* ---- 3. the load test ----------------------------------------------------------------- */
#define LOAD_MAX_ELEMS ((size_t)4 << 20)   /* 16 MiB */
#define LOAD_MIN_ELEMS ((size_t)256)       /* 1 KiB */

typedef struct {
    const char *socket;
    int id, requests;
    uint64_t bytes, errors, over_budget, undecodable;
    double *latency;          /* seconds, one per request */
    char first_error[256];
} load_job;

static void *load_run(void *arg)
{
    load_job *j = arg;
    float *pool = make_tensor(LOAD_MAX_ELEMS, 9000 + (uint64_t)j->id);
    float *y = malloc(LOAD_MAX_ELEMS * 4);
    size_t cap = alcm_compress_bound(LOAD_MAX_ELEMS * 4);
    uint8_t *blob = malloc(cap);
    alcm_dctx *dctx = alcm_dctx_create();
    alcmc_conn *conn = NULL;
    alcmc_status st = ALCMC_E_NOMEM;
    if (!pool || !y || !blob || !dctx ||
        (st = alcmc_connect(j->socket, NULL, &conn)) != ALCMC_OK) {
        snprintf(j->first_error, sizeof j->first_error, "setup: %s", alcmc_strerror(st));
        j->errors = (uint64_t)j->requests;
        goto done;
    }
    alcm_rng rng;
    alcm_rng_seed(&rng, 500 + (uint64_t)j->id);
    for (int i = 0; i < j->requests; i++) {
        double lo = log((double)LOAD_MIN_ELEMS), hi = log((double)LOAD_MAX_ELEMS);
        size_t n = (size_t)exp(lo + alcm_rng_uniform(&rng) * (hi - lo));
        size_t off = (size_t)(alcm_rng_uniform(&rng) * (double)(LOAD_MAX_ELEMS - n));
        const float *x = pool + off;
        alcm_stream_config cfg;
        alcm_stream_config_default(&cfg);
        cfg.error_feedback = i % 2;
        alcm_shape shape;
        alcm_shape_1d(&shape, n);
        char name[64];
        snprintf(name, sizeof name, "load/%d/%s", j->id, cfg.error_feedback ? "ef" : "plain");
        size_t len, got;
        alcmc_compress_result res;
        double t0 = cli_wall_seconds();
        st = alcmc_compress(conn, name, &cfg, &shape, x, n * 4, blob, cap, &len, &res);
        j->latency[i] = cli_wall_seconds() - t0;
        if (st != ALCMC_OK) {
            if (!j->errors)
                snprintf(j->first_error, sizeof j->first_error, "%s: %s", alcmc_strerror(st),
                         alcmc_last_message(conn));
            j->errors++;
            if (st == ALCMC_E_BROKEN || st == ALCMC_E_DAEMON_GONE) break;
            continue;
        }
        j->bytes += n * 4;
        if (alcm_decompress(dctx, blob, len, y, n * 4, &got) != ALCM_OK || got != n * 4) {
            j->undecodable++;
            continue;
        }
        /* Without a residual the decoded tensor must be within the budget of the input;
         * with one, the blob is within the budget of input + residual (what it encodes). */
        double budget = cfg.sched.error_budget * (1 + 1e-6);
        if (!cfg.error_feedback) {
            if (alcm_rel_l2_error(x, y, n) > budget) j->over_budget++;
        } else if (res.info.rel_l2_error > budget) {
            j->over_budget++;
        }
    }
done:
    alcmc_close(conn);
    alcm_dctx_free(dctx);
    free(pool);
    free(y);
    free(blob);
    return NULL;
}

typedef struct {
    int clients, requests;
    uint64_t bytes, errors, over_budget, undecodable;
    double wall_s, mbps, p50_s, p99_s;
    uint64_t peak_rss, peak_anon, shmem, memory_cap, inflight_cap, evictions;
    double daemon_p50_s, daemon_p99_s;
    int rss_ok, passed;
} load_result;

static int run_load(const char *socket, int clients, int requests, load_result *out)
{
    pthread_t th[64];
    load_job jobs[64];
    memset(out, 0, sizeof *out);
    out->clients = clients;
    out->requests = requests;
    double *lat = calloc((size_t)clients * (size_t)requests, sizeof *lat);
    if (!lat) return -1;
    double t0 = cli_wall_seconds();
    for (int i = 0; i < clients; i++) {
        jobs[i] = (load_job){.socket = socket, .id = i, .requests = requests,
                             .latency = lat + (size_t)i * (size_t)requests};
        if (pthread_create(&th[i], NULL, load_run, &jobs[i]) != 0) return -1;
    }
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        out->bytes += jobs[i].bytes;
        out->errors += jobs[i].errors;
        out->over_budget += jobs[i].over_budget;
        out->undecodable += jobs[i].undecodable;
        if (jobs[i].errors) fprintf(stderr, "client %d: %s\n", i, jobs[i].first_error);
    }
    out->wall_s = cli_wall_seconds() - t0;
    out->mbps = (double)out->bytes / 1e6 / out->wall_s;
    int total = clients * requests;
    qsort(lat, (size_t)total, sizeof *lat, cmp_double);
    out->p50_s = lat[total / 2];
    out->p99_s = lat[(int)(0.99 * (total - 1))];
    free(lat);
    alcmc_conn *c;
    alcmc_stats_report *s;
    if (alcmc_connect(socket, NULL, &c) != ALCMC_OK) return -1;
    if (alcmc_stats(c, NULL, &s) == ALCMC_OK) {
        out->peak_rss = s->peak_rss_bytes;
        out->peak_anon = s->peak_rss_anon_bytes;
        out->shmem = s->rss_shmem_bytes;
        out->memory_cap = s->memory_cap_bytes;
        out->inflight_cap = s->inflight_cap_bytes;
        out->evictions = s->total.evictions;
        out->daemon_p50_s = s->total.latency_p50_s;
        out->daemon_p99_s = s->total.latency_p99_s;
        alcmc_stats_free(s);
    }
    alcmc_close(c);
    out->rss_ok = out->peak_anon > 0 && out->peak_anon < out->memory_cap + out->inflight_cap;
    out->passed = out->errors == 0 && out->over_budget == 0 && out->undecodable == 0 &&
                  out->rss_ok;
    return 0;
}

/* ---- output --------------------------------------------------------------------------- */
typedef struct {
    int clients;
    double inproc_mbps, daemon_mbps;
} level_result;

static int write_json(const char *path, const char *mode, const size_result *sizes, int n_sizes,
                      int runs, const level_result *levels, int n_levels, double client_mib,
                      int requests, const load_result *load)
{
    cli_json j;
    if (cli_json_open(&j, path)) return -1;
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "benchmark", "bench-daemon");
    cli_json_string(&j, "mode", mode);
    cli_json_string(&j, "version", ALCM_VERSION_STRING);
    if (!load) {
        cli_json_int(&j, "runs", runs);
        cli_json_begin_array(&j, "round_trip");
        for (int i = 0; i < n_sizes; i++) {
            const size_result *r = &sizes[i];
            cli_json_begin_object(&j, NULL);
            cli_json_number(&j, "tensor_mib", r->mib);
            cli_json_int(&j, "runs", r->runs);
            cli_json_number(&j, "inproc_seconds", r->inproc_s);
            cli_json_number(&j, "oneshot_seconds", r->oneshot_s);
            cli_json_number(&j, "step_over_oneshot", r->step_over_oneshot);
            cli_json_number(&j, "daemon_seconds", r->daemon_s);
            cli_json_number(&j, "inproc_mbps", r->inproc_mbps);
            cli_json_number(&j, "daemon_mbps", r->daemon_mbps);
            cli_json_number(&j, "overhead_pct", r->overhead_pct);
            cli_json_number(&j, "socket_seconds", r->socket_s);
            cli_json_number(&j, "socket_mbps", r->socket_mbps);
            cli_json_number(&j, "socket_overhead_pct", r->socket_overhead_pct);
            cli_json_number(&j, "ratio", r->ratio);
            cli_json_bool(&j, "blobs_equal", r->blobs_equal);
            cli_json_end_object(&j);
        }
        cli_json_end_array(&j);
        cli_json_number(&j, "concurrency_tensor_mib", client_mib);
        cli_json_int(&j, "concurrency_requests_per_client", requests);
        cli_json_begin_array(&j, "concurrency");
        for (int i = 0; i < n_levels; i++) {
            cli_json_begin_object(&j, NULL);
            cli_json_int(&j, "clients", levels[i].clients);
            cli_json_number(&j, "inproc_mbps", levels[i].inproc_mbps);
            cli_json_number(&j, "daemon_mbps", levels[i].daemon_mbps);
            cli_json_end_object(&j);
        }
        cli_json_end_array(&j);
    } else {
        cli_json_int(&j, "clients", load->clients);
        cli_json_int(&j, "requests_per_client", load->requests);
        cli_json_int(&j, "bytes", (int64_t)load->bytes);
        cli_json_int(&j, "errors", (int64_t)load->errors);
        cli_json_int(&j, "over_budget", (int64_t)load->over_budget);
        cli_json_int(&j, "undecodable", (int64_t)load->undecodable);
        cli_json_number(&j, "wall_seconds", load->wall_s);
        cli_json_number(&j, "mbps", load->mbps);
        cli_json_number(&j, "client_latency_p50_s", load->p50_s);
        cli_json_number(&j, "client_latency_p99_s", load->p99_s);
        cli_json_number(&j, "daemon_latency_p50_s", load->daemon_p50_s);
        cli_json_number(&j, "daemon_latency_p99_s", load->daemon_p99_s);
        cli_json_int(&j, "evictions", (int64_t)load->evictions);
        cli_json_int(&j, "daemon_peak_rss_bytes", (int64_t)load->peak_rss);
        cli_json_int(&j, "daemon_peak_own_memory_bytes", (int64_t)load->peak_anon);
        cli_json_int(&j, "daemon_shared_region_bytes", (int64_t)load->shmem);
        cli_json_int(&j, "memory_cap_bytes", (int64_t)load->memory_cap);
        cli_json_int(&j, "inflight_cap_bytes", (int64_t)load->inflight_cap);
        cli_json_bool(&j, "own_memory_under_caps", load->rss_ok);
        cli_json_bool(&j, "passed", load->passed);
    }
    cli_json_end_object(&j);
    return cli_json_close(&j);
}

int cmd_bench_daemon(int argc, char **argv)
{
    const char *cmd = "bench-daemon", *socket = NULL, *json_path = NULL;
    char alcmd[PATH_MAX];
    default_alcmd(alcmd, sizeof alcmd);
    double sizes[MAX_SIZES] = {4, 64}, levels_d[MAX_LEVELS] = {1, 2, 4, 8};
    int n_sizes = 2, n_levels = 4, runs = 7, requests = 6, load = 0;
    double client_mib = 4;
    const char *memory_cap = "256M", *inflight_cap = "256M";
    static const struct option longopts[] = {
        {"socket", required_argument, 0, 's'},     {"alcmd", required_argument, 0, 'a'},
        {"sizes", required_argument, 0, 'z'},      {"runs", required_argument, 0, 'r'},
        {"clients", required_argument, 0, 'c'},    {"client-mib", required_argument, 0, 'm'},
        {"requests", required_argument, 0, 'q'},   {"load", no_argument, 0, 'L'},
        {"memory-cap", required_argument, 0, 'M'}, {"inflight-cap", required_argument, 0, 'I'},
        {"json", required_argument, 0, 'j'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    optind = 1;
    int c, requests_set = 0, levels_set = 0;
    uint64_t u;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': socket = optarg; break;
        case 'a': snprintf(alcmd, sizeof alcmd, "%s", optarg); break;
        case 'z':
            if ((n_sizes = parse_list(optarg, sizes, MAX_SIZES)) <= 0) goto bad;
            break;
        case 'c':
            if ((n_levels = parse_list(optarg, levels_d, MAX_LEVELS)) <= 0) goto bad;
            levels_set = 1;
            break;
        case 'r':
            if (cli_parse_u64(optarg, &u) != 0 || u < 1 || u > 1000) goto bad;
            runs = (int)u;
            break;
        case 'q':
            if (cli_parse_u64(optarg, &u) != 0 || u < 1 || u > 100000) goto bad;
            requests = (int)u;
            requests_set = 1;
            break;
        case 'm':
            if (cli_parse_double(optarg, &client_mib) != 0 || !(client_mib > 0)) goto bad;
            break;
        case 'L': load = 1; break;
        case 'M': memory_cap = optarg; break;
        case 'I': inflight_cap = optarg; break;
        case 'j': json_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) return 2;
    for (int i = 0; i < n_levels; i++)
        if (levels_d[i] != floor(levels_d[i]) || levels_d[i] > 64) goto bad;

    daemon_proc d = {0};
    if (!socket) {
        const char *extra[] = {"--memory-cap", memory_cap, "--inflight-cap", inflight_cap,
                               "--max-message-bytes", "64M", NULL};
        if (daemon_start(&d, alcmd, load ? extra : NULL) != 0) {
            cli_error(cmd, "could not start %s (give --alcmd PATH or --socket PATH)", alcmd);
            daemon_stop(&d);
            return 1;
        }
        socket = d.socket;
    }
    int rc = 0;
    if (load) {
        load_result lr;
        int clients = levels_set ? (int)levels_d[0] : 8;
        if (run_load(socket, clients, requests_set ? requests : 500, &lr) != 0) {
            cli_error(cmd, "load test could not run");
            rc = 1;
        } else {
            printf("load: %d clients x %d requests of 1 KiB..16 MiB: %.1f MiB in %.1f s "
                   "(%.1f MB/s)\n", lr.clients, lr.requests, (double)lr.bytes / MIB, lr.wall_s,
                   lr.mbps);
            printf("  errors %llu, undecodable %llu, over budget %llu, evictions %llu\n",
                   (unsigned long long)lr.errors, (unsigned long long)lr.undecodable,
                   (unsigned long long)lr.over_budget, (unsigned long long)lr.evictions);
            printf("  latency per request: client p50 %.1f ms p99 %.1f ms; daemon p50 %.1f ms "
                   "p99 %.1f ms\n", lr.p50_s * 1e3, lr.p99_s * 1e3, lr.daemon_p50_s * 1e3,
                   lr.daemon_p99_s * 1e3);
            printf("  daemon own memory peak %.1f MiB; caps: stream state %.0f MiB + buffers "
                   "%.0f MiB -> %s\n", (double)lr.peak_anon / MIB, (double)lr.memory_cap / MIB,
                   (double)lr.inflight_cap / MIB, lr.rss_ok ? "under" : "OVER");
            printf("  daemon peak RSS %.1f MiB (with the clients' shared regions, %.1f MiB at "
                   "the end)\n", (double)lr.peak_rss / MIB, (double)lr.shmem / MIB);
            printf("%s\n", lr.passed ? "PASS" : "FAIL");
            if (json_path && write_json(json_path, "load", NULL, 0, 0, NULL, 0, 0, 0, &lr) != 0)
                cli_error(cmd, "cannot write '%s': %s", json_path, strerror(errno));
            rc = lr.passed ? 0 : 1;
        }
    } else {
        alcmc_conn *conn = NULL, *sock_conn = NULL;
        size_result sr[MAX_SIZES];
        level_result lv[MAX_LEVELS];
        alcmc_options no_shm;
        alcmc_options_default(&no_shm);
        no_shm.shm = 0;
        alcmc_status st = alcmc_connect(socket, NULL, &conn);
        if (st == ALCMC_OK) st = alcmc_connect(socket, &no_shm, &sock_conn);
        if (st != ALCMC_OK) {
            cli_error(cmd, "cannot reach alcmd at %s: %s", socket, alcmc_strerror(st));
            alcmc_close(conn);
            daemon_stop(&d);
            return 1;
        }
        printf("round trip (stream step, gradient profile, medians; overhead over "
               "in-process):\n");
        printf("  %8s %5s %14s %20s %24s %24s %7s %s\n", "tensor", "runs", "one-shot",
               "in-process step", "alcmd, shared memory", "alcmd, socket copy", "ratio",
               "blobs equal");
        for (int i = 0; i < n_sizes && rc == 0; i++) {
            if (measure_size(conn, sock_conn, sizes[i], runs, &sr[i]) != 0) {
                cli_error(cmd, "round trip of %g MiB failed", sizes[i]);
                rc = 1;
                break;
            }
            printf("  %5g MiB %5d %9.1f MB/s %9.1f MB/s (%.3fx) %9.1f MB/s (%+6.1f%%) %9.1f MB/s "
                   "(%+6.1f%%) %7.2f %s\n", sr[i].mib, sr[i].runs,
                   (double)sr[i].mib * MIB / 1e6 / sr[i].oneshot_s, sr[i].inproc_mbps,
                   sr[i].step_over_oneshot, sr[i].daemon_mbps, sr[i].overhead_pct,
                   sr[i].socket_mbps, sr[i].socket_overhead_pct, sr[i].ratio,
                   sr[i].blobs_equal ? "yes" : "NO");
        }
        alcmc_close(conn);
        alcmc_close(sock_conn);
        size_t n = (size_t)(client_mib * MIB / 4);
        float *x = rc == 0 ? make_tensor(n, 7) : NULL;
        if (rc == 0 && x) {
            printf("aggregate throughput, %g MiB tensors, %d requests per client:\n",
                   client_mib, requests);
            printf("  %8s %14s %14s\n", "clients", "in-process", "alcmd");
            for (int i = 0; i < n_levels; i++) {
                lv[i].clients = (int)levels_d[i];
                lv[i].inproc_mbps = aggregate(NULL, lv[i].clients, requests, x, n);
                lv[i].daemon_mbps = aggregate(socket, lv[i].clients, requests, x, n);
                printf("  %8d %9.1f MB/s %9.1f MB/s\n", lv[i].clients, lv[i].inproc_mbps,
                       lv[i].daemon_mbps);
                if (lv[i].inproc_mbps < 0 || lv[i].daemon_mbps < 0) rc = 1;
            }
        }
        free(x);
        if (rc == 0 && json_path &&
            write_json(json_path, "round-trip", sr, n_sizes, runs, lv, n_levels, client_mib,
                       requests, NULL) != 0) {
            cli_error(cmd, "cannot write '%s': %s", json_path, strerror(errno));
            rc = 1;
        }
    }
    int drc = daemon_stop(&d);
    if (drc != 0) {
        cli_error(cmd, "alcmd exited with status %d", drc);
        rc = 1;
    }
    return rc;
bad:
    cli_error(cmd, "invalid value for an option");
    usage(stderr);
    return 2;
}
