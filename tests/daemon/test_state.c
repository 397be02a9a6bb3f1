/* test_state.c - alcmd --state-dir: a stream's step count, scheduler and residual carry
 * over a SIGTERM restart and a kill -9 (from the last periodic save), damaged and foreign
 * state files are rejected with a log line while the daemon serves on, and the
 * export-state / import-state operations move one stream's state in and out. The blobs are
 * compared with an in-process twin stream fed the same tensors (deterministic mode). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alcm.h"
#include "alcmc.h"
#include "daemon_fixture.h"

enum { N = 3 * 4096 + 100 };

typedef struct {
    fx_daemon d;
    char state_dir[192];
    alcm_stream *twin;
    float *g;
    uint8_t *a, *b;
    size_t cap;
} ctx;

static int setup(void **state)
{
    ctx *x = calloc(1, sizeof *x);
    if (!x || fx_prepare(&x->d) != 0) return -1;
    snprintf(x->state_dir, sizeof x->state_dir, "%s/state", x->d.dir);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.sched.deterministic = 1;
    cfg.adaptive = 1; /* the scheduler's state must survive restarts too */
    if (alcm_stream_create(&cfg, &x->twin) != ALCM_OK) return -1;
    x->g = malloc(N * sizeof *x->g);
    x->cap = alcm_compress_bound(N * sizeof *x->g);
    x->a = malloc(x->cap);
    x->b = malloc(x->cap);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    ctx *x = *state;
    fx_cleanup(&x->d);
    alcm_stream_free(x->twin);
    free(x->g);
    free(x->a);
    free(x->b);
    free(x);
    return 0;
}

static void start(ctx *x, const char *interval)
{
    const char *args[] = {"--state-dir", x->state_dir, "--state-interval-ms", interval, NULL};
    int rc = fx_start(&x->d, args);
    if (rc != 0) fx_dump_log(&x->d);
    assert_int_equal(rc, 0);
}

/* One step on the daemon stream `name` and on the twin: the blobs must be equal. Returns
 * the daemon's stream event. */
static alcmc_stream_event step(ctx *x, alcmc_conn *c, const char *name, int i,
                               uint64_t *steps)
{
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.sched.deterministic = 1;
    cfg.adaptive = 1; /* the scheduler's state must survive restarts too */
    alcm_shape shape;
    alcm_shape_1d(&shape, N);
    fx_fill_gradient(x->g, N, 900 + (uint64_t)i);
    size_t la, lb;
    assert_int_equal(alcm_stream_compress(x->twin, &shape, x->g, N * sizeof *x->g, x->a, x->cap,
                                          &la, NULL, NULL), ALCM_OK);
    alcmc_compress_result res;
    assert_int_equal(alcmc_compress(c, name, &cfg, &shape, x->g, N * sizeof *x->g, x->b, x->cap,
                                    &lb, &res), ALCMC_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(x->a, x->b, la);
    if (steps) *steps = res.sched.steps;
    return res.event;
}

static alcmc_conn *conn(ctx *x)
{
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(x->d.socket, NULL, &c), ALCMC_OK);
    return c;
}

static int count_files(const char *dir, const char *suffix)
{
    char cmd[320];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '%s$'", dir, suffix);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1) n = -1;
    if (p) pclose(p);
    return n;
}

static void test_sigterm_restart_continues(void **state)
{
    ctx *x = *state;
    start(x, "60000");
    alcmc_conn *c = conn(x);
    uint64_t steps;
    for (int i = 0; i < 6; i++) step(x, c, "job/fc1", i, &steps);
    assert_int_equal(steps, 6);
    alcmc_close(c);
    assert_int_equal(fx_stop(&x->d), 0);
    assert_true(fx_log_contains(&x->d, "saved the state of 1 stream(s)"));
    assert_int_equal(count_files(x->state_dir, ".alcmstate"), 1);

    start(x, "60000");
    assert_true(fx_log_contains(&x->d, "restored stream 'job/fc1'"));
    c = conn(x);
    /* Same blobs as the twin that never stopped: residual and scheduler carried over. */
    for (int i = 6; i < 10; i++)
        assert_int_equal(step(x, c, "job/fc1", i, &steps), ALCMC_STREAM_CONTINUED);
    assert_int_equal(steps, 10);
    alcmc_stats_report *st;
    assert_int_equal(alcmc_stats(c, "job/fc1", &st), ALCMC_OK);
    assert_int_equal(st->n_streams, 1);
    assert_true(st->streams[0].requests >= 10);   /* counters carried over too */
    alcmc_stats_free(st);
    alcmc_close(c);
    assert_int_equal(fx_stop(&x->d), 0);
}

static void test_kill9_restores_periodic_save(void **state)
{
    ctx *x = *state;
    start(x, "100");
    alcmc_conn *c = conn(x);
    for (int i = 0; i < 4; i++) step(x, c, "job/conv", i, NULL);
    usleep(600 * 1000);   /* several periodic saves */
    fx_signal(&x->d, SIGKILL);
    fx_wait_exit(&x->d, 5000);
    alcmc_close(c);
    start(x, "100");
    c = conn(x);
    uint64_t steps;
    assert_int_equal(step(x, c, "job/conv", 4, &steps), ALCMC_STREAM_CONTINUED);
    assert_int_equal(steps, 5);
    alcmc_close(c);
    assert_int_equal(fx_stop(&x->d), 0);
}

static void corrupt_one_byte(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "f=$(ls %s/*.alcmstate | head -n 1) && "
             "printf '\\377' | dd of=\"$f\" bs=1 seek=300 conv=notrunc 2>/dev/null", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_damaged_and_foreign_files_rejected(void **state)
{
    ctx *x = *state;
    start(x, "60000");
    alcmc_conn *c = conn(x);
    for (int i = 0; i < 3; i++) step(x, c, "job/emb", i, NULL);
    alcmc_close(c);
    assert_int_equal(fx_stop(&x->d), 0);
    corrupt_one_byte(x->state_dir);
    char foreign[320];
    snprintf(foreign, sizeof foreign, "%s/other.alcmstate", x->state_dir);
    FILE *f = fopen(foreign, "w");
    assert_non_null(f);
    fputs("this is not a state file\n", f);
    fclose(f);

    start(x, "60000");
    assert_true(fx_log_contains(&x->d, "rejected: checksum mismatch (damaged file)"));
    assert_true(fx_log_contains(&x->d, "rejected: not an alcmd state file (bad magic)"));
    assert_int_equal(count_files(x->state_dir, ".rejected"), 2);
    /* The daemon serves on; the damaged stream starts fresh. */
    alcm_stream_reset(x->twin);
    c = conn(x);
    uint64_t steps;
    assert_int_equal(step(x, c, "job/emb", 0, &steps), ALCMC_STREAM_CREATED);
    assert_int_equal(steps, 1);
    alcmc_close(c);
    assert_int_equal(fx_stop(&x->d), 0);
}

static void test_export_import_ops(void **state)
{
    ctx *x = *state;
    start(x, "60000");
    alcmc_conn *c = conn(x);
    for (int i = 0; i < 5; i++) step(x, c, "job/a", i, NULL);
    size_t cap = 1 << 20, len;
    uint8_t *buf = malloc(cap);
    assert_int_equal(alcmc_export_state(c, "job/a", buf, 16, &len), ALCMC_E_DST_TOO_SMALL);
    assert_int_equal(alcmc_export_state(c, "job/a", buf, cap, &len), ALCMC_OK);
    size_t none_len = 1;
    assert_int_equal(alcmc_export_state(c, "job/none", buf, cap, &none_len), ALCMC_E_REQUEST);
    assert_int_equal(none_len, 0);
    /* The bytes are libalcm's stream state: importable in-process. */
    alcm_stream *local;
    assert_int_equal(alcm_stream_import(buf, len, &local), ALCM_OK);
    alcm_sched_state ls;
    alcm_stream_get_state(local, &ls);
    assert_int_equal(ls.steps, 5);
    alcm_stream_free(local);
    /* Imported into another stream, it continues as the original would. */
    assert_int_equal(alcmc_import_state(c, "job/b", buf, len), ALCMC_OK);
    uint64_t steps;
    assert_int_equal(step(x, c, "job/b", 5, &steps), ALCMC_STREAM_CONTINUED);
    assert_int_equal(steps, 6);
    /* Damaged bytes are refused; the connection stays usable. */
    buf[len / 2] ^= 1;
    assert_int_equal(alcmc_import_state(c, "job/c", buf, len), ALCMC_E_REQUEST);
    assert_non_null(strstr(alcmc_last_message(c), "refused"));
    alcmc_server_info info;
    assert_int_equal(alcmc_hello(c, &info), ALCMC_OK);
    free(buf);
    alcmc_close(c);
    assert_int_equal(fx_stop(&x->d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigterm_restart_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_restores_periodic_save, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_and_foreign_files_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_import_ops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
