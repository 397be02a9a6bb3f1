/* test_roundtrip.c - a real alcmd driven through libalcmc: round trips on many shapes,
 * dtypes and profiles; daemon blobs equal in-process blobs for the same stream history;
 * stream events, reset, eviction; codec and request errors keep the connection. */
#include <math.h>
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

typedef struct {
    fx_daemon d;
    alcmc_conn *c;
} ctx;

static int setup_args(void **state, const char *const *args)
{
    ctx *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->d.pid = -1;
    x->d.notify_fd = -1;
    if (fx_start(&x->d, args) != 0 || alcmc_connect(x->d.socket, NULL, &x->c) != ALCMC_OK) {
        fx_dump_log(&x->d);
        fx_cleanup(&x->d);
        free(x);
        return -1;
    }
    *state = x;
    return 0;
}

static int setup(void **state)
{
    return setup_args(state, NULL);
}

static int teardown(void **state)
{
    ctx *x = *state;
    alcmc_close(x->c);
    int rc = fx_stop(&x->d);
    if (rc != 0) fx_dump_log(&x->d);
    fx_cleanup(&x->d);
    free(x);
    return rc == 0 ? 0 : -1;
}

/* Compresses through the daemon, decodes through the daemon and in-process, checks both
 * decodings agree and meet the profile's promise. */
static void roundtrip(alcmc_conn *c, const char *stream, const alcm_stream_config *cfg,
                      const alcm_shape *shape, const void *src, size_t bytes)
{
    size_t cap = alcm_compress_bound(bytes);
    uint8_t *blob = malloc(cap);
    uint8_t *out1 = malloc(bytes ? bytes : 1), *out2 = malloc(bytes ? bytes : 1);
    assert_non_null(blob);
    size_t blob_len = 0, n1 = 0, n2 = 0;
    alcmc_compress_result res;
    alcmc_status st = alcmc_compress(c, stream, cfg, shape, src, bytes, blob, cap, &blob_len,
                                     &res);
    if (st != ALCMC_OK) fprintf(stderr, "%s: %s\n", stream, alcmc_last_message(c));
    assert_int_equal(st, ALCMC_OK);
    assert_int_equal(res.info.raw_bytes, bytes);
    assert_int_equal(res.info.blob_bytes, blob_len);
    alcm_header h;
    assert_int_equal(alcm_blob_header(blob, blob_len, &h), ALCM_OK);
    assert_int_equal(h.shape.rank, shape->rank);
    for (uint32_t i = 0; i < shape->rank; i++) assert_int_equal(h.shape.dims[i], shape->dims[i]);
    assert_int_equal(alcmc_decompress(c, blob, blob_len, out1, bytes, &n1), ALCMC_OK);
    assert_int_equal(alcmc_decompress_local(blob, blob_len, out2, bytes, &n2, NULL), ALCMC_OK);
    assert_int_equal(n1, bytes);
    assert_int_equal(n2, bytes);
    assert_memory_equal(out1, out2, bytes);
    if (cfg->params.profile != ALCM_PROFILE_GRADIENT) {
        assert_memory_equal(out1, src, bytes);
    } else {
        double e = alcm_rel_l2_error(src, (const float *)out1, bytes / 4);
        if (!(e <= cfg->sched.error_budget * (1 + 1e-6)))
            fprintf(stderr, "%s: rel L2 error %.9g over budget %g (blob says %.9g)\n", stream, e,
                    cfg->sched.error_budget, res.info.rel_l2_error);
        assert_true(e <= cfg->sched.error_budget * (1 + 1e-6));
    }
    free(blob);
    free(out1);
    free(out2);
}

static void test_shapes_and_profiles(void **state)
{
    ctx *x = *state;
    static const uint32_t ranks[] = {0, 1, 1, 1, 1, 2, 2, 4, 8, 2};
    static const uint64_t dims[][8] = {{0}, {1}, {7}, {4096}, {10000}, {3, 5}, {64, 64},
                                       {2, 3, 4, 5}, {1, 1, 2, 1, 3, 1, 1, 2}, {100, 257}};
    const alcm_profile profiles[] = {ALCM_PROFILE_GRADIENT, ALCM_PROFILE_LOSSLESS,
                                     ALCM_PROFILE_BASELINE};
    for (size_t s = 0; s < sizeof ranks / sizeof ranks[0]; s++) {
        alcm_shape shape = {.rank = ranks[s]};
        memcpy(shape.dims, dims[s], sizeof shape.dims);
        uint64_t n;
        assert_int_equal(alcm_shape_numel(&shape, &n), ALCM_OK);
        float *data = malloc(n * sizeof(float));
        fx_fill_gradient(data, n, 100 + s);
        for (size_t p = 0; p < 3; p++) {
            alcm_stream_config cfg;
            alcm_stream_config_default(&cfg);
            cfg.params.profile = profiles[p];
            cfg.error_feedback = 0;   /* so the decoded tensor is compared with the input */
            char name[64];
            snprintf(name, sizeof name, "shapes/%zu/%zu", s, p);
            roundtrip(x->c, name, &cfg, &shape, data, n * sizeof(float));
        }
        free(data);
    }
}

static void test_dtypes_lossless(void **state)
{
    ctx *x = *state;
    const alcm_dtype dtypes[] = {ALCM_DTYPE_F16, ALCM_DTYPE_BF16, ALCM_DTYPE_BYTES};
    for (size_t i = 0; i < 3; i++) {
        alcm_stream_config cfg;
        alcm_stream_config_default(&cfg);
        cfg.params.profile = ALCM_PROFILE_LOSSLESS;
        cfg.params.dtype = dtypes[i];
        size_t esize = alcm_dtype_size(dtypes[i]);
        alcm_shape shape = {.rank = 2, .dims = {33, 17}};
        size_t bytes = 33 * 17 * esize;
        uint8_t *data = malloc(bytes);
        for (size_t k = 0; k < bytes; k++) data[k] = (uint8_t)((k * 2654435761u) >> 13);
        char name[32];
        snprintf(name, sizeof name, "dtype/%s", alcm_dtype_name(dtypes[i]));
        roundtrip(x->c, name, &cfg, &shape, data, bytes);
        free(data);
    }
}

/* The same history in-process and through the daemon gives the same blob bytes. */
static void test_daemon_equals_inprocess(void **state)
{
    ctx *x = *state;
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.sched.deterministic = 1;
    alcm_stream *local = NULL;
    assert_int_equal(alcm_stream_create(&cfg, &local), ALCM_OK);
    assert_non_null(local);
    const size_t n = 3 * 4096 + 100;
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    float *g = malloc(n * sizeof *g);
    size_t cap = alcm_compress_bound(n * sizeof *g);
    uint8_t *a = malloc(cap), *b = malloc(cap);
    for (int step = 0; step < 12; step++) {
        fx_fill_gradient(g, n, 7000 + (uint64_t)step);
        for (size_t i = 0; i < n; i += 97) g[i] *= 40.0f;   /* some outliers */
        size_t la = 0, lb = 0;
        alcm_info info;
        assert_int_equal(alcm_stream_compress(local, &shape, g, n * sizeof *g, a, cap, &la,
                                              &info, NULL), ALCM_OK);
        alcmc_compress_result res;
        assert_int_equal(alcmc_compress(x->c, "equal/fc1", &cfg, &shape, g, n * sizeof *g, b,
                                        cap, &lb, &res), ALCMC_OK);
        assert_int_equal(res.event, step == 0 ? ALCMC_STREAM_CREATED : ALCMC_STREAM_CONTINUED);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        alcm_sched_state ls;
        alcm_stream_get_state(local, &ls);
        assert_int_equal(res.sched.steps, ls.steps);
        assert_true(res.sched.aggressiveness == ls.aggressiveness);
    }
    alcm_stream_free(local);
    free(g);
    free(a);
    free(b);
}

/* 1 MiB tensors through shared memory (the default) and through the socket: the same
 * blobs as the in-process stream, step after step. */
static void test_large_tensors_both_paths(void **state)
{
    ctx *x = *state;
    alcmc_options o;
    alcmc_options_default(&o);
    o.shm = 0;
    alcmc_conn *sock;
    assert_int_equal(alcmc_connect(x->d.socket, &o, &sock), ALCMC_OK);
    assert_true(alcmc_server(x->c)->shm_max_bytes > 0);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.sched.deterministic = 1;
    alcm_stream *twin[2] = {NULL, NULL};
    assert_int_equal(alcm_stream_create(&cfg, &twin[0]), ALCM_OK);
    assert_int_equal(alcm_stream_create(&cfg, &twin[1]), ALCM_OK);
    alcmc_conn *conns[2] = {x->c, sock};
    const char *names[2] = {"big/shm", "big/socket"};
    const size_t n = 256 * 1024;
    alcm_shape shape = {.rank = 2, .dims = {256, 1024}};
    float *g = malloc(n * 4);
    size_t cap = alcm_compress_bound(n * 4);
    uint8_t *a = malloc(cap), *b = malloc(cap);
    for (int step = 0; step < 3; step++) {
        fx_fill_gradient(g, n, 900 + (uint64_t)step);
        for (int k = 0; k < 2; k++) {
            size_t la, lb;
            assert_int_equal(alcm_stream_compress(twin[k], &shape, g, n * 4, a, cap, &la, NULL,
                                                  NULL), ALCM_OK);
            assert_int_equal(alcmc_compress(conns[k], names[k], &cfg, &shape, g, n * 4, b, cap,
                                            &lb, NULL), ALCMC_OK);
            assert_int_equal(la, lb);
            assert_memory_equal(a, b, la);
        }
    }
    /* The default connection really mapped a shared region into the daemon. */
    char cmd[96];
    snprintf(cmd, sizeof cmd, "grep -q memfd:alcmc /proc/%d/maps", (int)x->d.pid);
    assert_int_equal(system(cmd), 0);
    alcm_stream_free(twin[0]);
    alcm_stream_free(twin[1]);
    alcmc_close(sock);
    free(g);
    free(a);
    free(b);
}

static void test_stream_events_and_reset(void **state)
{
    ctx *x = *state;
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.adaptive = 1; /* the scheduler counts the steps */
    const size_t n = 2048;
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    float g[2048];
    fx_fill_gradient(g, n, 5);
    uint8_t blob[16384];
    size_t len;
    alcmc_compress_result r;
    assert_int_equal(alcmc_compress(x->c, "ev", &cfg, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, &r), ALCMC_OK);
    assert_int_equal(r.event, ALCMC_STREAM_CREATED);
    assert_int_equal(alcmc_compress(x->c, "ev", &cfg, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, &r), ALCMC_OK);
    assert_int_equal(r.event, ALCMC_STREAM_CONTINUED);
    assert_int_equal(r.sched.steps, 2);
    cfg.sched.error_budget = 0.05;
    assert_int_equal(alcmc_compress(x->c, "ev", &cfg, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, &r), ALCMC_OK);
    assert_int_equal(r.event, ALCMC_STREAM_RECONFIGURED);
    assert_int_equal(r.sched.steps, 1);
    int existed = -1;
    assert_int_equal(alcmc_reset_stream(x->c, "ev", &existed), ALCMC_OK);
    assert_int_equal(existed, 1);
    assert_int_equal(alcmc_compress(x->c, "ev", &cfg, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, &r), ALCMC_OK);
    assert_int_equal(r.event, ALCMC_STREAM_CONTINUED);
    assert_int_equal(r.sched.steps, 1);   /* the reset restarted the scheduler */
    assert_int_equal(alcmc_reset_stream(x->c, "never-used", &existed), ALCMC_OK);
    assert_int_equal(existed, 0);
    assert_int_equal(alcmc_reset_stream(x->c, "bad name", &existed), ALCMC_E_ARG);
}

static void test_errors_keep_connection(void **state)
{
    ctx *x = *state;
    alcm_shape shape;
    alcm_shape_1d(&shape, 256);
    float g[256];
    fx_fill_gradient(g, 256, 9);
    g[17] = NAN;
    uint8_t blob[4096];
    size_t len;
    /* NaN in a gradient: the codec refuses, the connection stays usable. */
    assert_int_equal(alcmc_compress(x->c, "err", NULL, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, NULL), ALCMC_E_CODEC);
    assert_int_equal(alcmc_last_alcm_status(x->c), ALCM_E_NONFINITE);
    assert_non_null(strstr(alcmc_last_message(x->c), "ERR_CODEC"));
    g[17] = 0.0f;
    assert_int_equal(alcmc_compress(x->c, "err", NULL, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, NULL), ALCMC_OK);
    /* The gradient profile takes f32 only: the daemon rejects the request. */
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.params.dtype = ALCM_DTYPE_F16;
    alcm_shape half;
    alcm_shape_1d(&half, 512);
    assert_int_equal(alcmc_compress(x->c, "err16", &cfg, &half, g, sizeof g, blob, sizeof blob,
                                    &len, NULL), ALCMC_E_REQUEST);
    /* A blob that is not a blob. */
    uint8_t junk[64] = "definitely not an ALCM blob";
    uint8_t out[64];
    size_t n;
    assert_int_equal(alcmc_decompress(x->c, junk, sizeof junk, out, sizeof out, &n),
                     ALCMC_E_CODEC);
    assert_int_not_equal(alcmc_last_alcm_status(x->c), ALCM_OK);
    /* Too small a buffer for the result: drained, connection kept. */
    assert_int_equal(alcmc_compress(x->c, "err", NULL, &shape, g, sizeof g, blob, 8, &len,
                                    NULL), ALCMC_E_DST_TOO_SMALL);
    alcmc_server_info info;
    assert_int_equal(alcmc_hello(x->c, &info), ALCMC_OK);
    assert_int_equal(info.protocol_version, 1);
}

static void test_stats(void **state)
{
    ctx *x = *state;
    alcm_shape shape;
    alcm_shape_1d(&shape, 8192);
    float *g = malloc(8192 * sizeof *g);
    uint8_t *blob = malloc(alcm_compress_bound(8192 * 4));
    for (int i = 0; i < 5; i++) {
        fx_fill_gradient(g, 8192, 40 + (uint64_t)i);
        size_t len;
        assert_int_equal(alcmc_compress(x->c, "stats/a", NULL, &shape, g, 8192 * 4, blob,
                                        alcm_compress_bound(8192 * 4), &len, NULL), ALCMC_OK);
    }
    alcmc_stats_report *s;
    assert_int_equal(alcmc_stats(x->c, NULL, &s), ALCMC_OK);
    assert_true(s->n_streams >= 1);
    assert_true(s->total.requests >= 5);
    assert_true(s->connections >= 1);
    assert_true(s->live_streams >= 1);
    assert_true(s->rss_bytes > 0 && s->peak_rss_bytes >= s->rss_bytes / 2);
    alcmc_stats_free(s);
    assert_int_equal(alcmc_stats(x->c, "stats/a", &s), ALCMC_OK);
    assert_int_equal(s->n_streams, 1);
    const alcmc_stream_stats *a = &s->streams[0];
    assert_string_equal(a->name, "stats/a");
    assert_int_equal(a->requests, 5);
    assert_int_equal(a->errors, 0);
    assert_int_equal(a->bytes_in, 5 * 8192 * 4);
    assert_true(a->bytes_out > 0 && a->bytes_out < a->bytes_in);
    assert_true(a->ratio > 1.0);
    assert_true(a->caq_mean > 0.0 && a->caq_last > 0.0);
    assert_true(a->latency_p50_s > 0.0 && a->latency_p99_s >= a->latency_p50_s);
    assert_true(a->live);
    assert_true(a->memory_bytes >= 8192 * 4);   /* the residual at least */
    /* The default stream is static (the params' aggressiveness 1, no pruning): its
     * scheduler takes no step. */
    assert_int_equal(a->sched.steps, 0);
    alcmc_stats_free(s);
    free(g);
    free(blob);
}

/* A small memory cap: the least recently used stream is evicted and says so. */
static int setup_eviction(void **state)
{
    static const char *const args[] = {"--memory-cap", "600K", "--max-streams", "3", NULL};
    return setup_args(state, args);
}

static void test_eviction(void **state)
{
    ctx *x = *state;
    const size_t n = 65536;   /* 256 KiB residual per stream */
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    float *g = malloc(n * 4);
    fx_fill_gradient(g, n, 3);
    size_t cap = alcm_compress_bound(n * 4), len;
    uint8_t *blob = malloc(cap);
    alcmc_compress_result r;
    const char *names[] = {"ev/a", "ev/b", "ev/c"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(alcmc_compress(x->c, names[i], NULL, &shape, g, n * 4, blob, cap, &len,
                                        &r), ALCMC_OK);
        assert_int_equal(r.event, ALCMC_STREAM_CREATED);
    }
    /* a was least recently used when c pushed the state over 600K. */
    assert_int_equal(alcmc_compress(x->c, "ev/a", NULL, &shape, g, n * 4, blob, cap, &len, &r),
                     ALCMC_OK);
    assert_int_equal(r.event, ALCMC_STREAM_RECREATED_AFTER_EVICTION);
    alcmc_stats_report *s;
    assert_int_equal(alcmc_stats(x->c, NULL, &s), ALCMC_OK);
    assert_true(s->total.evictions >= 1);
    assert_true(s->stream_memory_bytes <= 600 * 1024);
    assert_true(s->live_streams <= 3);
    alcmc_stats_free(s);
    free(g);
    free(blob);
}

static int setup_deterministic(void **state)
{
    static const char *const args[] = {"--deterministic", NULL};
    return setup_args(state, args);
}

/* `deterministic = yes` in the daemon: a client that leaves the configuration to the
 * daemon gets the blobs of an in-process default stream with sched.deterministic = 1. */
static void test_daemon_default_deterministic(void **state)
{
    ctx *x = *state;
    assert_int_equal(alcmc_server(x->c)->deterministic, 1);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.sched.deterministic = 1;
    alcm_stream *local = NULL;
    assert_int_equal(alcm_stream_create(&cfg, &local), ALCM_OK);
    const size_t n = 20000;
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    float *g = malloc(n * 4);
    size_t cap = alcm_compress_bound(n * 4);
    uint8_t *a = malloc(cap), *b = malloc(cap);
    for (int step = 0; step < 8; step++) {
        fx_fill_gradient(g, n, 300 + (uint64_t)step);
        size_t la, lb;
        assert_int_equal(alcm_stream_compress(local, &shape, g, n * 4, a, cap, &la, NULL, NULL),
                         ALCM_OK);
        assert_int_equal(alcmc_compress(x->c, "det/default", NULL, &shape, g, n * 4, b, cap, &lb,
                                        NULL), ALCMC_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
    }
    alcm_stream_free(local);
    free(g);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_profiles),
        cmocka_unit_test(test_dtypes_lossless),
        cmocka_unit_test(test_daemon_equals_inprocess),
        cmocka_unit_test(test_large_tensors_both_paths),
        cmocka_unit_test(test_stream_events_and_reset),
        cmocka_unit_test(test_errors_keep_connection),
        cmocka_unit_test(test_stats),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test_setup_teardown(test_eviction, setup_eviction, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_default_deterministic, setup_deterministic,
                                        teardown),
    };
    int failed = cmocka_run_group_tests_name("daemon roundtrip", tests, setup, teardown);
    failed += cmocka_run_group_tests_name("daemon settings", alone, NULL, NULL);
    return failed;
}
