/* test_hardening.c - regressions found by attacking alcmd as an outsider would, each
 * against a real daemon: NaN in a config field the profile ignores (D1), connect() denied
 * by file permissions told apart from the daemon's allow-list (D6), a NUL byte in the
 * config file at start and on SIGHUP (D7). */
#include <grp.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* D1: NaN (or out of range) in a field the profile does not use is refused, and a stream
 * with a valid config is not rebuilt on every step. */
static void test_nan_in_unused_config_field(void **state)
{
    fx_daemon *d = *state;
    assert_int_equal(fx_start(d, NULL), 0);
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    float x[256];
    fx_fill_gradient(x, 256, 3);
    alcm_shape sh;
    alcm_shape_1d(&sh, 256);
    uint8_t blob[4096];
    size_t len;
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.params.profile = ALCM_PROFILE_LOSSLESS;
    const double bad[] = {NAN, INFINITY, -1.0, 7.0};
    for (int i = 0; i < 4; i++) {
        cfg.params.aggressiveness = bad[i];
        assert_int_equal(alcmc_compress(c, "d1", &cfg, &sh, x, sizeof x, blob, sizeof blob, &len,
                                        NULL), ALCMC_E_REQUEST);
        cfg.params.aggressiveness = 1.0;
        cfg.sched.back_off = bad[i];
        assert_int_equal(alcmc_compress(c, "d1", &cfg, &sh, x, sizeof x, blob, sizeof blob, &len,
                                        NULL), ALCMC_E_REQUEST);
        cfg.sched.back_off = 0.2;
    }
    alcmc_compress_result res;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(alcmc_compress(c, "d1", &cfg, &sh, x, sizeof x, blob, sizeof blob,
                                        &len, &res), ALCMC_OK);
        assert_int_equal(res.event, i == 0 ? ALCMC_STREAM_CREATED : ALCMC_STREAM_CONTINUED);
    }
    alcmc_close(c);
    assert_int_equal(fx_stop(d), 0);
}

/* D6: a socket the user may not open is ALCMC_E_PERMISSION, not "the daemon refused". */
static void test_permission_denied_is_not_daemon_refusal(void **state)
{
    fx_daemon *d = *state;
    assert_int_equal(fx_start(d, NULL), 0);
    alcmc_status got;
    if (geteuid() == 0) {
        /* Root passes every permission check: a child as nobody meets the 0700 directory. */
        pid_t child = fork();
        if (child == 0) {
            if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
            alcmc_conn *cc = NULL;
            alcmc_status st = alcmc_connect(d->socket, NULL, &cc);
            alcmc_close(cc);
            _exit(-st);
        }
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        got = (alcmc_status)-WEXITSTATUS(status);
    } else {
        assert_int_equal(chmod(d->socket, 0), 0);
        alcmc_conn *cc = NULL;
        got = alcmc_connect(d->socket, NULL, &cc);
        assert_null(cc);
    }
    assert_int_equal(got, ALCMC_E_PERMISSION);
    assert_non_null(strstr(alcmc_strerror(got), "never saw the connection"));
    /* Indeed the daemon logged nothing about a refused peer. */
    assert_false(fx_log_contains(d, "allow-list"));
    assert_int_equal(fx_stop(d), 0);
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* D7: a NUL byte is refused with its line number, at start and on SIGHUP (the running
 * settings are kept). */
static void test_nul_byte_in_config(void **state)
{
    fx_daemon *d = *state;
    assert_int_equal(fx_prepare(d), 0);
    char conf[192];
    snprintf(conf, sizeof conf, "%s/alcmd.conf", d->dir);
    static const char nul[] = "max_streams = 9\nmax_pending = 4\0 # junk\nthreads = 1\n";
    write_bytes(conf, nul, sizeof nul - 1);
    const char *check[] = {"--config", conf, "--check-config", NULL};
    assert_int_equal(fx_run(d, check, 10000), 2);
    assert_true(fx_log_contains(d, "alcmd.conf:2: NUL byte"));

    static const char good[] = "max_streams = 9\nmax_pending = 4\n";
    write_bytes(conf, good, sizeof good - 1);
    const char *args[] = {"--config", conf, NULL};
    assert_int_equal(fx_start(d, args), 0);
    write_bytes(conf, nul, sizeof nul - 1);
    fx_signal(d, SIGHUP);
    assert_int_equal(fx_wait_notify(d, "READY=1", 5000), 0);
    assert_true(fx_log_contains(d, "reload rejected"));
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    assert_int_equal(alcmc_server(c)->max_streams, 9);    /* not reset to the default */
    assert_int_equal(alcmc_server(c)->max_pending, 4);
    alcmc_close(c);
    assert_int_equal(fx_stop(d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nan_in_unused_config_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permission_denied_is_not_daemon_refusal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte_in_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
