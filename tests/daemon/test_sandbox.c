/* test_sandbox.c - alcmd runs with no new privileges and a seccomp filter: /proc shows it,
 * sockets of other families than AF_UNIX cannot be created inside the daemon (from the
 * event loop and from a thread-pool thread), and everything it serves still works under
 * the filter (shared memory, a SIGHUP reload naming users, the Prometheus textfile). */
#include <pwd.h>
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

/* The value of a "Key:\tvalue" line of /proc/pid/status, or -1. */
static long proc_status(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') v = strtol(line + klen + 1, NULL, 10);
    fclose(f);
    return v;
}

/* Compresses and decompresses a gradient big enough to travel through shared memory. */
static void round_trip(const char *socket_path)
{
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(socket_path, NULL, &c), ALCMC_OK);
    const size_t n = 1 << 16;
    float *g = malloc(n * 4), *back = malloc(n * 4);
    assert_non_null(g);
    assert_non_null(back);
    fx_fill_gradient(g, n, 7);
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    size_t cap = alcm_compress_bound(n * 4), len, out;
    uint8_t *blob = malloc(cap);
    assert_int_equal(alcmc_compress(c, "sandboxed", NULL, &shape, g, n * 4, blob, cap, &len,
                                    NULL), ALCMC_OK);
    assert_int_equal(alcmc_decompress(c, blob, len, back, n * 4, &out), ALCMC_OK);
    assert_int_equal(out, n * 4);
    alcmc_close(c);
    free(g);
    free(back);
    free(blob);
}

static void test_filter_installed_and_inet_refused(void **state)
{
    fx_daemon *d = *state;
    static const char *const args[] = {"--sandbox-probe", NULL};
    assert_int_equal(fx_start(d, args), 0);
    assert_int_equal(proc_status(d->pid, "Seccomp"), 2);
    assert_int_equal(proc_status(d->pid, "NoNewPrivs"), 1);
    /* The probe runs on the loop before READY and on a worker thread right after. */
    int done = 0;
    for (int i = 0; i < 200 && !done; i++) {
        done = fx_log_contains(d, "sandbox probe (worker thread): socket(AF_UNIX): created");
        if (!done) usleep(10000);
    }
    if (!done) fx_dump_log(d);
    assert_true(done);
    static const char *const refused[] = {
        "sandbox probe (event loop): socket(AF_INET): Address family not supported",
        "sandbox probe (event loop): socket(AF_INET6): Address family not supported",
        "sandbox probe (event loop): socket(AF_NETLINK): Address family not supported",
        "sandbox probe (worker thread): socket(AF_INET): Address family not supported",
        "sandbox probe (worker thread): socket(AF_INET6): Address family not supported",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (!fx_log_contains(d, refused[i])) fx_dump_log(d);
        assert_true(fx_log_contains(d, refused[i]));
    }
    assert_false(fx_log_contains(d, "socket(AF_INET): created"));
    assert_true(fx_log_contains(d, "sandbox probe (event loop): socket(AF_UNIX): created"));
    round_trip(d->socket);
    assert_int_equal(fx_stop(d), 0);
}

/* Under the filter: a SIGHUP reload that resolves a user name, the textfile, shm. */
static void test_serves_under_filter(void **state)
{
    fx_daemon *d = *state;
    assert_int_equal(fx_prepare(d), 0);
    char conf[192], prom[192];
    snprintf(conf, sizeof conf, "%s/alcmd.conf", d->dir);
    snprintf(prom, sizeof prom, "%s/alcm.prom", d->dir);
    struct passwd *pw = getpwuid(geteuid());
    assert_non_null(pw);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "max_streams = 9\n");
    fclose(f);
    const char *args[] = {"--config", conf, "--prometheus-file", prom,
                          "--prometheus-interval-ms", "100", NULL};
    assert_int_equal(fx_start(d, args), 0);
    round_trip(d->socket);
    f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "max_streams = 11\nallowed_uids = %s\n", pw->pw_name);
    fclose(f);
    fx_signal(d, SIGHUP);
    int ready = fx_wait_notify(d, "READY=1", 5000);
    if (ready != 0) fx_dump_log(d);
    assert_int_equal(ready, 0);
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    assert_int_equal(alcmc_server(c)->max_streams, 11);
    alcmc_close(c);
    round_trip(d->socket);
    int found = 0;
    for (int i = 0; i < 100 && !found; i++) {
        usleep(20000);
        found = access(prom, R_OK) == 0;
    }
    assert_true(found);
    assert_false(fx_log_contains(d, "reload rejected"));
    assert_int_equal(fx_stop(d), 0);
}

static void test_no_sandbox(void **state)
{
    fx_daemon *d = *state;
    static const char *const args[] = {"--no-sandbox", "--sandbox-probe", NULL};
    assert_int_equal(fx_start(d, args), 0);
    assert_int_equal(proc_status(d->pid, "Seccomp"), 0);
    assert_true(fx_log_contains(d, "running without the sandbox"));
    assert_true(fx_log_contains(d, "sandbox probe (event loop): socket(AF_INET): created"));
    assert_int_equal(fx_stop(d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filter_installed_and_inet_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serves_under_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_sandbox, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
