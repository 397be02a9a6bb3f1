/* main.c - alcmd's entry point: options and config, thread pool size, the listener, the
 * event loop until a drain completes. */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "alcm.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "ops.h"
#include "options.h"
#include "prom.h"
#include "sandbox.h"
#include "server.h"
#include "signals.h"
#include "state.h"

/* --sandbox-probe: the same probe from a thread-pool thread (threads share the filter). */
static void probe_work(uv_work_t *w)
{
    (void)w;
    alcmd_sandbox_probe("worker thread");
}

static void probe_done(uv_work_t *w, int status)
{
    (void)w;
    (void)status;
}

int main(int argc, char **argv)
{
    alcmd_options opts;
    char err[1024];
    switch (alcmd_options_parse(argc, argv, &opts, err, sizeof err)) {
    case ALCMD_OPTIONS_HELP:
        alcmd_options_usage(stdout);
        return 0;
    case ALCMD_OPTIONS_VERSION:
        printf("alcmd %s (protocol %d)\n", ALCM_VERSION_STRING, ALCM_WIRE_VERSION);
        return 0;
    case ALCMD_OPTIONS_ERROR:
        fprintf(stderr, "alcmd: %s\n(alcmd --help lists the options)\n", err);
        return 2;
    case ALCMD_OPTIONS_RUN:
        break;
    }
    alcmd_config cfg;
    if (alcmd_options_build_config(&opts, &cfg, err, sizeof err) != 0) {
        alcmd_log(ALCMD_LOG_ERR, "configuration: %s", err);
        return 2;
    }
    alcmd_log_set_level(cfg.log_level);
    alcmd_log_set_format(cfg.log_format);
    if (opts.check_only) {
        printf("alcmd: configuration OK\n");
        return 0;
    }

    /* Descriptors: the soft limit is raised to the hard one; connections and the
     * descriptors they may queue must fit in it, or the connection cap could never be
     * reached before accept() fails (silently, for the refused client). */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        if (nofile.rlim_cur < nofile.rlim_max) {
            nofile.rlim_cur = nofile.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &nofile);
            (void)getrlimit(RLIMIT_NOFILE, &nofile);
        }
        unsigned long long need =
            (unsigned long long)cfg.max_connections * (1ull + cfg.max_fds_per_connection) + 64;
        if (nofile.rlim_cur != RLIM_INFINITY && need > nofile.rlim_cur)
            alcmd_log(ALCMD_LOG_WARNING, "max_connections %u with max_fds_per_connection %u "
                      "may need %llu descriptors, above the limit %llu: lower "
                      "max_connections or raise LimitNOFILE", cfg.max_connections,
                      cfg.max_fds_per_connection, need, (unsigned long long)nofile.rlim_cur);
    }
    /* A client that disappears must not kill the daemon: writes report EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    /* libuv sizes its thread pool from this variable on the first uv_queue_work. */
    unsigned threads = cfg.threads ? cfg.threads : uv_available_parallelism();
    char nthreads[16];
    snprintf(nthreads, sizeof nthreads, "%u", threads);
    setenv("UV_THREADPOOL_SIZE", nthreads, 1);

    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        alcmd_log(ALCMD_LOG_ERR, "cannot create the event loop");
        return 1;
    }
    alcmd_server srv;
    if (alcmd_server_init(&srv, &loop, &cfg, &opts, alcmd_ops_dispatch) != 0) {
        alcmd_log(ALCMD_LOG_ERR, "out of memory");
        return 1;
    }
    int rc = 0;
    if (alcmd_listener_open(&srv, err, sizeof err) != 0) {
        alcmd_log(ALCMD_LOG_ERR, "%s", err);
        rc = 1;
    } else if (alcmd_signals_start(&srv) != 0) {
        alcmd_log(ALCMD_LOG_ERR, "cannot install signal handlers");
        rc = 1;
    }
    if (rc == 0) alcmd_state_restore(&srv);
    if (rc == 0 && !opts.no_sandbox) {
        if (alcmd_sandbox_enter(err, sizeof err) != 0) {
            alcmd_log(ALCMD_LOG_ERR, "cannot enter the sandbox (%s); --no-sandbox runs "
                      "without it", err);
            rc = 1;
        } else {
            alcmd_log(ALCMD_LOG_INFO, "sandbox: no new privileges, seccomp filter (AF_UNIX "
                      "sockets only)");
        }
    } else if (rc == 0) {
        alcmd_log(ALCMD_LOG_WARNING, "running without the sandbox (--no-sandbox)");
    }
    static uv_work_t probe;
    if (rc == 0 && opts.sandbox_probe) {
        alcmd_sandbox_probe("event loop");
        uv_queue_work(&loop, &probe, probe_work, probe_done);
    }
    if (rc != 0) {
        alcmd_server_shutdown(&srv);
        uv_run(&loop, UV_RUN_DEFAULT);
        alcmd_server_free(&srv);
        uv_loop_close(&loop);
        return rc;
    }
    alcmd_prom_start(&srv);
    alcmd_state_start(&srv);
    alcmd_log(ALCMD_LOG_NOTICE, "alcmd %s serving: %u threads, max message %llu bytes, "
              "stream memory cap %llu bytes, max %u streams, %s scheduler by default",
              ALCM_VERSION_STRING, threads, (unsigned long long)cfg.max_message_bytes,
              (unsigned long long)cfg.memory_cap, cfg.max_streams,
              cfg.deterministic ? "deterministic" : "measured");
    char ready[96];
    snprintf(ready, sizeof ready, "READY=1\nSTATUS=serving\nMAINPID=%ld", (long)getpid());
    alcmd_notify(ready);

    uv_run(&loop, UV_RUN_DEFAULT);
    alcmd_server_free(&srv);
    if (uv_loop_close(&loop) != 0) alcmd_log(ALCMD_LOG_WARNING, "handles left open at exit");
    return 0;
}
