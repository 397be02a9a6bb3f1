/* test_concurrency.c - 8 concurrent clients with mixed tensor sizes against one alcmd:
 * no errors, every blob decodes within its error budget, streams stay separate, and the
 * daemon's memory stays under its caps. (The full 8 x 500 requests of 1 KiB - 16 MiB run is
 * `alcm-bench bench-daemon --load`; this is its light version.) */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alcm.h"
#include "alcm_tools.h"
#include "alcmc.h"
#include "daemon_fixture.h"

enum { CLIENTS = 8, REQUESTS = 25 };
#define MAX_ELEMS (256u * 1024)   /* 1 MiB tensors at most */

typedef struct {
    const char *socket;
    int shm;          /* alcmc_options.shm */
    int id;
    int errors;
    int over_budget;
    int mismatches;
    char first_error[256];
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    alcmc_conn *c;
    alcmc_options o;
    alcmc_options_default(&o);
    o.shm = w->shm;
    if (alcmc_connect(w->socket, &o, &c) != ALCMC_OK) {
        w->errors = REQUESTS;
        return NULL;
    }
    float *x = malloc(MAX_ELEMS * 4), *y = malloc(MAX_ELEMS * 4);
    size_t cap = alcm_compress_bound(MAX_ELEMS * 4);
    uint8_t *blob = malloc(cap);
    alcm_rng rng;
    alcm_rng_seed(&rng, 1000 + (uint64_t)w->id);
    for (int i = 0; i < REQUESTS; i++) {
        /* Log-uniform sizes from 256 to MAX_ELEMS elements (1 KiB .. 1 MiB). */
        size_t n = (size_t)exp(log(256.0) + alcm_rng_uniform(&rng) * log(MAX_ELEMS / 256.0));
        fx_fill_gradient(x, n, (uint64_t)w->id * 1000 + (uint64_t)i);
        alcm_stream_config cfg;
        alcm_stream_config_default(&cfg);
        cfg.error_feedback = i % 2;   /* half the steps carry a residual */
        alcm_shape shape;
        alcm_shape_1d(&shape, n);
        char name[64];
        snprintf(name, sizeof name, "conc/%d/%s", w->id, cfg.error_feedback ? "ef" : "plain");
        size_t len, got;
        alcmc_compress_result r;
        alcmc_status st = alcmc_compress(c, name, &cfg, &shape, x, n * 4, blob, cap, &len, &r);
        if (st == ALCMC_OK)
            st = alcmc_decompress_local(blob, len, y, n * 4, &got, NULL);
        if (st != ALCMC_OK) {
            if (!w->errors)
                snprintf(w->first_error, sizeof w->first_error, "%s: %s", alcmc_strerror(st),
                         alcmc_last_message(c));
            w->errors++;
            continue;
        }
        if (got != n * 4 || r.info.raw_bytes != n * 4) w->mismatches++;
        /* Without a residual the decoded tensor is within the budget of the input. */
        if (!cfg.error_feedback) {
            if (alcm_rel_l2_error(x, y, n) > cfg.sched.error_budget * (1 + 1e-6))
                w->over_budget++;
        } else if (r.info.rel_l2_error > cfg.sched.error_budget * (1 + 1e-6)) {
            w->over_budget++;
        }
    }
    alcmc_close(c);
    free(x);
    free(y);
    free(blob);
    return NULL;
}

static int setup(void **state)
{
    fx_daemon *d = calloc(1, sizeof *d);
    if (!d) return -1;
    d->pid = -1;
    d->notify_fd = -1;
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    fx_cleanup(*state);
    free(*state);
    return 0;
}

/* Runs the clients against a daemon started with args; shm as the clients' option. */
static void eight_clients(fx_daemon *d, const char *const *args, int shm,
                          uint64_t inflight_cap)
{
    assert_int_equal(fx_start(d, args), 0);
    pthread_t th[CLIENTS];
    worker w[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        w[i] = (worker){.socket = d->socket, .shm = shm, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].errors) fprintf(stderr, "client %d: %s\n", i, w[i].first_error);
        assert_int_equal(w[i].errors, 0);
        assert_int_equal(w[i].mismatches, 0);
        assert_int_equal(w[i].over_budget, 0);
    }
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    alcmc_stats_report *s;
    assert_int_equal(alcmc_stats(c, NULL, &s), ALCMC_OK);
    assert_int_equal(s->n_streams, 2 * CLIENTS);
    uint64_t total = 0;
    for (size_t i = 0; i < s->n_streams; i++) {
        total += s->streams[i].requests;
        assert_int_equal(s->streams[i].errors, 0);
    }
    assert_int_equal(total, CLIENTS * REQUESTS);
    assert_true(s->stream_memory_bytes <= 24u << 20);
    assert_int_equal(s->inflight_bytes, 0);
    assert_int_equal(s->requests_in_flight, 0);   /* this stats request is left out */
    (void)inflight_cap;   /* sanitizer builds use far more memory: no bound there */
#ifndef __SANITIZE_ADDRESS__
    /* The daemon's own memory: stream state (24M cap) and buffers (inflight_cap), plus
     * allocator slack; the clients' shared regions are theirs. */
    fprintf(stderr, "daemon own memory peak %.1f MiB, RSS peak %.1f MiB\n",
            s->peak_rss_anon_bytes / 1048576.0, s->peak_rss_bytes / 1048576.0);
    assert_true(s->peak_rss_anon_bytes > 0);
    assert_true(s->peak_rss_anon_bytes < (24u << 20) + inflight_cap + (16u << 20));
#endif
    alcmc_stats_free(s);
    alcmc_close(c);
    int rc = fx_stop(d);
    if (rc != 0) fx_dump_log(d);
    assert_int_equal(rc, 0);
}

/* Tensors of 256 KiB and more through shared memory (the default). */
static void test_eight_clients(void **state)
{
    static const char *const args[] = {"--memory-cap", "24M", "--inflight-cap", "16M",
                                       "--max-message-bytes", "4M", NULL};
    eight_clients(*state, args, 1, 16u << 20);
}

/* Everything through the socket with room for about one large request in flight: the
 * clients wait their turn for memory (the socket is not read meanwhile), none fails. */
static void test_eight_clients_tight_memory(void **state)
{
    static const char *const args[] = {"--memory-cap", "24M", "--inflight-cap", "3M",
                                       "--max-message-bytes", "1M", "--log-level", "debug",
                                       NULL};
    eight_clients(*state, args, 0, 3u << 20);
    assert_true(fx_log_contains(*state, "waits for"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eight_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eight_clients_tight_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name("daemon concurrency", tests, NULL, NULL);
}
