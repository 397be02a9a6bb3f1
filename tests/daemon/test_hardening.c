/* test_hardening.c - regressions found by attacking alcmd as an outsider would, each
 * against a real daemon: NaN in a config field the profile ignores (D1), connect() denied
 * by file permissions told apart from the daemon's allow-list (D6), a NUL byte in the
 * config file at start and on SIGHUP (D7), a shared region rewritten while the daemon
 * encodes it. */
#include <grp.h>
#include <pthread.h>
#include <sys/mman.h>
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

/* Rewrites the shared input span until told to stop: normal values, huge values, NaN and
 * Inf, in a loop (what a buggy or hostile client does between its own requests). */
typedef struct {
    float *x;
    size_t n;
    volatile int stop;
} rewriter;

static void *rewrite_loop(void *arg)
{
    rewriter *w = arg;
    uint32_t k = 0;
    while (!w->stop) {
        /* Mostly finite sweeps (so the finite check passes and later passes see other
         * values), now and then NaN and Inf. */
        uint32_t phase = k % 512;
        for (size_t i = 0; i < w->n; i += 7)
            w->x[i] = phase == 511 ? (i % 2 ? NAN : INFINITY)
                      : phase % 2 ? 1e3f * (float)(1 + i % 3) : (float)(i % 13) * 1e-4f;
        k++;
    }
    return NULL;
}

static void test_shared_input_rewritten_during_encode(void **state)
{
    fx_daemon *d = *state;
    assert_int_equal(fx_start(d, NULL), 0);
    const size_t n = 256u << 10;   /* 1 MiB of floats */
    const size_t out_cap = alcm_compress_bound(n * 4);
    const size_t size = n * 4 + out_cap;
    int fd = fx_connect(d->socket), mfd = fx_memfd(size, 1);
    assert_true(fd >= 0 && mfd >= 0);
    uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    assert_true(map != MAP_FAILED);
    fx_fill_gradient((float *)map, n, 11);
    Alcmwire__Request att = ALCMWIRE__REQUEST__INIT;
    att.op = ALCMWIRE__OP__OP_ATTACH_SHM;
    att.shm_size = size;
    assert_int_equal(fx_send_request_fd(fd, &att, mfd), 0);
    Alcmwire__Reply *r;
    assert_int_equal(fx_read_reply(fd, 5000, &r, NULL, NULL), 0);
    assert_int_equal(r->op, ALCMWIRE__OP__OP_ATTACH_SHM);
    alcm_wire_reply_free(r);

    uint64_t dims[1] = {n};
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    t.dtype = ALCM_DTYPE_F32;
    t.n_dims = 1;
    t.dims = dims;
    Alcmwire__ShmSpan in = ALCMWIRE__SHM_SPAN__INIT, out = ALCMWIRE__SHM_SPAN__INIT;
    in.length = n * 4;
    out.offset = n * 4;
    out.length = out_cap;
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = ALCMWIRE__OP__OP_COMPRESS;
    req.stream = "race";
    req.tensor = &t;
    req.shm_input = &in;
    req.shm_output = &out;

    rewriter w = {(float *)map, n, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, rewrite_loop, &w), 0);
    float *back = malloc(n * 4);
    int ok = 0, changed = 0, nonfinite = 0;
    for (int i = 0; i < 40; i++) {
        req.request_id = (uint64_t)i + 10;
        assert_int_equal(fx_send_request(fd, &req, NULL, 0), 0);
        assert_int_equal(fx_read_reply(fd, 30000, &r, NULL, NULL), 0);
        if (r->op == ALCMWIRE__OP__OP_COMPRESS) {
            /* Whatever the input did, the blob the daemon wrote must decode. */
            size_t got;
            assert_int_equal(alcmc_decompress_local(map + out.offset, r->compress->blob_bytes,
                                                    back, n * 4, &got, NULL), ALCMC_OK);
            ok++;
        } else {
            assert_int_equal(r->op, ALCMWIRE__OP__OP_ERROR);
            assert_int_equal(r->error, ALCMWIRE__ERROR_CODE__ERR_CODEC);
            assert_true(r->alcm_status == ALCM_E_INPUT_CHANGED ||
                        r->alcm_status == ALCM_E_NONFINITE);
            changed += r->alcm_status == ALCM_E_INPUT_CHANGED;
            nonfinite += r->alcm_status == ALCM_E_NONFINITE;
        }
        alcm_wire_reply_free(r);
    }
    w.stop = 1;
    pthread_join(th, NULL);
    fprintf(stderr, "rewritten input: %d encoded, %d input-changed, %d non-finite\n", ok,
            changed, nonfinite);
    assert_int_equal(ok + changed + nonfinite, 40);
    assert_false(fx_log_contains(d, "ERR_INTERNAL"));
    /* The stream is not poisoned: a steady input encodes again. */
    fx_fill_gradient((float *)map, n, 12);
    req.request_id = 99;
    int recovered = 0;
    for (int i = 0; i < 3 && !recovered; i++) {
        assert_int_equal(fx_send_request(fd, &req, NULL, 0), 0);
        assert_int_equal(fx_read_reply(fd, 30000, &r, NULL, NULL), 0);
        recovered = r->op == ALCMWIRE__OP__OP_COMPRESS;
        alcm_wire_reply_free(r);
    }
    assert_true(recovered);
    free(back);
    munmap(map, size);
    close(mfd);
    close(fd);
    assert_int_equal(fx_stop(d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nan_in_unused_config_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permission_denied_is_not_daemon_refusal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte_in_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_input_rewritten_during_encode, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
