/* test_lifecycle.c - alcmd's life: SIGTERM with requests in flight, stale and live
 * sockets, a second daemon, the uid/gid allow-list, socket activation, sd_notify, SIGHUP
 * reload of good and bad configs, the Prometheus textfile. */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "alcm.h"
#include "alcmc.h"
#include "daemon_fixture.h"

/* Daemons of a test live in its state, so a failing test still stops and cleans them. */
typedef struct {
    fx_daemon slots[2];
} daemons;

static int setup(void **state)
{
    daemons *ds = calloc(1, sizeof *ds);
    if (!ds) return -1;
    for (int i = 0; i < 2; i++) {
        ds->slots[i].pid = -1;
        ds->slots[i].notify_fd = -1;
    }
    *state = ds;
    return 0;
}

static int teardown(void **state)
{
    daemons *ds = *state;
    for (int i = 0; i < 2; i++) fx_cleanup(&ds->slots[i]);
    free(ds);
    return 0;
}

static fx_daemon *slot(void **state, int i)
{
    return &((daemons *)*state)->slots[i];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void set_path(struct sockaddr_un *a, const char *path)
{
    size_t n = strlen(path);
    assert_true(n < sizeof a->sun_path);
    memcpy(a->sun_path, path, n + 1);
}

/* A socket file nobody listens on, as a killed daemon leaves behind. */
static void make_stale_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    set_path(&a, path);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
    assert_true(file_exists(path));
}

static int listening_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    set_path(&a, path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0)
        return -1;
    return fd;
}

static void round_trip(const char *socket_path)
{
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(socket_path, NULL, &c), ALCMC_OK);
    float g[512];
    fx_fill_gradient(g, 512, 1);
    alcm_shape shape;
    alcm_shape_1d(&shape, 512);
    uint8_t blob[4096];
    size_t len;
    assert_int_equal(alcmc_compress(c, "life", NULL, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, NULL), ALCMC_OK);
    alcmc_close(c);
}

/* SIGTERM while requests are queued and running: every one is answered, the socket
 * disappears at once, and the daemon exits 0. */
static void test_sigterm_drains_in_flight(void **state)
{
    fx_daemon *d = slot(state, 0);
    static const char *const args[] = {"--threads", "1", NULL};
    assert_int_equal(fx_start(d, args), 0);
    enum { CONNS = 3, PER_CONN = 2 };
    const size_t n = 4u << 20;   /* 16 MiB tensors: each takes a while on one thread */
    float *g = malloc(n * 4);
    fx_fill_gradient(g, n, 8);
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    uint64_t dims[1] = {n};
    t.dtype = ALCM_DTYPE_F32;
    t.n_dims = 1;
    t.dims = dims;
    int fds[CONNS];
    for (int c = 0; c < CONNS; c++) {
        fds[c] = fx_connect(d->socket);
        assert_true(fds[c] >= 0);
        for (int k = 0; k < PER_CONN; k++) {
            Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
            char name[32];
            snprintf(name, sizeof name, "drain/%d/%d", c, k);
            req.op = ALCMWIRE__OP__OP_COMPRESS;
            req.request_id = (uint64_t)(c * 10 + k + 1);
            req.stream = name;
            req.tensor = &t;
            assert_int_equal(fx_send_request(fds[c], &req, g, n * 4), 0);
        }
    }
    /* Wait until the daemon holds them all (stats leaves itself out). */
    alcmc_conn *probe;
    assert_int_equal(alcmc_connect(d->socket, NULL, &probe), ALCMC_OK);
    uint32_t in_flight = 0;
    for (int i = 0; i < 500; i++) {
        alcmc_stats_report *s;
        assert_int_equal(alcmc_stats(probe, NULL, &s), ALCMC_OK);
        in_flight = s->requests_in_flight;
        uint64_t done = 0;
        for (size_t k = 0; k < s->n_streams; k++) done += s->streams[k].requests;
        alcmc_stats_free(s);
        if (in_flight + done >= CONNS * PER_CONN) break;
        usleep(10000);
    }
    alcmc_close(probe);
    assert_true(in_flight >= 2);
    fx_signal(d, SIGTERM);
    assert_int_equal(fx_wait_notify(d, "STOPPING=1", 5000), 0);
    assert_false(file_exists(d->socket));   /* no new connections from here on */
    assert_true(fx_connect(d->socket) < 0);
    for (int c = 0; c < CONNS; c++) {
        for (int k = 0; k < PER_CONN; k++) {
            Alcmwire__Reply *r;
            uint8_t *blob;
            size_t len;
            assert_int_equal(fx_read_reply(fds[c], 30000, &r, &blob, &len), 0);
            assert_int_equal(r->op, ALCMWIRE__OP__OP_COMPRESS);
            assert_non_null(r->compress);
            assert_int_equal(r->compress->raw_bytes, n * 4);
            assert_int_equal(alcm_blob_header(blob, len, &(alcm_header){0}), ALCM_OK);
            alcm_wire_reply_free(r);
            free(blob);
        }
        assert_true(fx_wait_closed(fds[c], 10000));
        close(fds[c]);
    }
    assert_int_equal(fx_wait_exit(d, 30000), 0);
    assert_true(fx_log_contains(d, "drained: every request answered"));
    free(g);
    fx_cleanup(d);
}

static void test_stale_socket_replaced(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_prepare(d), 0);
    make_stale_socket(d->socket);
    assert_int_equal(fx_start(d, NULL), 0);
    round_trip(d->socket);
    assert_true(fx_log_contains(d, "replaced the stale socket"));
    struct stat st;
    assert_int_equal(stat(d->socket, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    assert_int_equal(fx_stop(d), 0);
    assert_false(file_exists(d->socket));
    fx_cleanup(d);
}

/* The socket path appears only once the daemon accepts connections (it is bound as
 * PATH.new and renamed after listen()): connecting the moment the path exists succeeds,
 * every time, and no PATH.new is left, even when a dead daemon left one. */
static void test_socket_appears_listening(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_prepare(d), 0);
    char staged[sizeof d->socket + 8];
    snprintf(staged, sizeof staged, "%s.new", d->socket);
    make_stale_socket(staged);
    for (int k = 0; k < 8; k++) {
        assert_int_equal(fx_spawn(d, NULL), 0);
        for (int waited = 0; !file_exists(d->socket); waited++) {
            assert_true(waited < 200000); /* 10 s */
            usleep(50);
        }
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        set_path(&a, d->socket);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
        close(fd);
        assert_false(file_exists(staged));
        round_trip(d->socket);
        assert_int_equal(fx_stop(d), 0);
        assert_false(file_exists(d->socket));
        assert_false(file_exists(staged));
    }
    fx_cleanup(d);
}

static void test_second_daemon_refuses(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_start(d, NULL), 0);
    const char *args[] = {"--socket", d->socket, NULL};
    assert_int_equal(fx_run(d, args, 10000), 1);
    assert_true(fx_log_contains(d, "already serving"));
    round_trip(d->socket);   /* the first one is untouched */
    assert_int_equal(fx_stop(d), 0);
    fx_cleanup(d);
}

static void test_refuses_foreign_files(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_prepare(d), 0);
    const char *args[] = {"--socket", d->socket, NULL};
    /* A regular file at the path is never removed. */
    write_file(d->socket, "precious\n");
    assert_int_equal(fx_run(d, args, 10000), 1);
    assert_true(fx_log_contains(d, "is not a socket"));
    assert_true(file_exists(d->socket));
    unlink(d->socket);
    /* A live socket of another program (no alcmd lock): refused, not replaced. */
    int fd = listening_socket(d->socket);
    assert_true(fd >= 0);
    assert_int_equal(fx_run(d, args, 10000), 1);
    assert_true(fx_log_contains(d, "already accepting connections"));
    assert_true(file_exists(d->socket));
    close(fd);
    /* A bad configuration: usage error, nothing created. */
    const char *bad[] = {"--socket", d->socket, "--max-streams", "lots", NULL};
    assert_int_equal(fx_run(d, bad, 10000), 2);
    fx_cleanup(d);
}

static void test_unauthorised_uid(void **state)
{
    fx_daemon *d = slot(state, 0);
    /* An allow-list without this test's uid. */
    char uid[32];
    snprintf(uid, sizeof uid, "%u", (unsigned)getuid() + 12345);
    const char *args[] = {"--allow-uid", uid, NULL};
    assert_int_equal(fx_start(d, args), 0);
    alcmc_conn *c = NULL;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_E_DENIED);
    assert_null(c);
    assert_true(fx_log_contains(d, "is not in the allow-list"));
    assert_int_equal(fx_stop(d), 0);
    fx_cleanup(d);

    if (getuid() != 0) return;   /* the rest needs root to switch users */
    /* As root: uid 65534 is refused by --allow-uid 0 but admitted by its group. */
    static const char *const rootonly[] = {"--allow-uid", "0", NULL};
    static const char *const bygroup[] = {"--allow-uid", "0", "--allow-gid", "65534", NULL};
    const char *const *variants[] = {rootonly, bygroup};
    const alcmc_status expect[] = {ALCMC_E_DENIED, ALCMC_OK};
    for (int v = 0; v < 2; v++) {
        fx_daemon *e = slot(state, 1);
        assert_int_equal(fx_start(e, variants[v]), 0);
        assert_int_equal(chmod(e->dir, 0711), 0);
        assert_int_equal(chmod(e->socket, 0666), 0);   /* let the kernel pass everyone */
        pid_t child = fork();
        if (child == 0) {
            if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
            alcmc_conn *cc = NULL;
            alcmc_status st = alcmc_connect(e->socket, NULL, &cc);
            alcmc_close(cc);
            _exit(st == expect[v] ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(fx_stop(e), 0);
        fx_cleanup(e);
    }
}

/* The listening socket handed over as fd 3 with LISTEN_FDS / LISTEN_PID, as systemd does. */
static void test_socket_activation(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_prepare(d), 0);
    int fd = listening_socket(d->socket);
    assert_true(fd >= 0);
    assert_int_equal(fx_start_activated(d, fd, NULL), 0);
    close(fd);   /* the daemon holds its own copy */
    round_trip(d->socket);
    assert_true(fx_log_contains(d, "socket activation"));
    assert_int_equal(fx_stop(d), 0);
    assert_true(file_exists(d->socket));   /* systemd owns the socket file: left in place */
    fx_cleanup(d);
}

static void test_sighup_reload(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_prepare(d), 0);
    char conf[192];
    snprintf(conf, sizeof conf, "%s/alcmd.conf", d->dir);
    write_file(conf, "# test\nmax_message_bytes = 1M\nlog_level = info\n");
    const char *args[] = {"--config", conf, NULL};
    assert_int_equal(fx_start(d, args), 0);
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    assert_int_equal(alcmc_server(c)->max_message_bytes, 1u << 20);

    write_file(conf, "max_message_bytes = 2M\nmax_streams = 10\n");
    fx_signal(d, SIGHUP);
    assert_int_equal(fx_wait_notify(d, "READY=1", 5000), 0);
    alcmc_server_info info;
    assert_int_equal(alcmc_hello(c, &info), ALCMC_OK);
    assert_int_equal(info.max_message_bytes, 2u << 20);
    assert_int_equal(info.max_streams, 10);

    write_file(conf, "max_message_bytes = banana\n");
    fx_signal(d, SIGHUP);
    assert_int_equal(fx_wait_notify(d, "READY=1", 5000), 0);
    assert_true(fx_log_contains(d, "reload rejected"));
    assert_int_equal(alcmc_hello(c, &info), ALCMC_OK);   /* same connection, old settings */
    assert_int_equal(info.max_message_bytes, 2u << 20);
    alcmc_close(c);
    round_trip(d->socket);
    assert_int_equal(fx_stop(d), 0);
    fx_cleanup(d);
}

/* A daemon without shared memory: libalcmc notices from hello and uses the socket. */
static void test_shm_off_falls_back(void **state)
{
    fx_daemon *d = slot(state, 0);
    static const char *const args[] = {"--shm-max-bytes", "0", NULL};
    assert_int_equal(fx_start(d, args), 0);
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    assert_int_equal(alcmc_server(c)->shm_max_bytes, 0);
    const size_t n = 1 << 18;
    float *g = malloc(n * 4);
    fx_fill_gradient(g, n, 4);
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    size_t cap = alcm_compress_bound(n * 4), len;
    uint8_t *blob = malloc(cap);
    assert_int_equal(alcmc_compress(c, "noshm", NULL, &shape, g, n * 4, blob, cap, &len, NULL),
                     ALCMC_OK);
    void *ib = g;
    assert_int_equal(alcmc_input_buffer(c, n * 4, &ib), ALCMC_OK);
    assert_null(ib); /* no region: the caller's own buffer it is */
    assert_int_equal(alcm_blob_header(blob, len, &(alcm_header){0}), ALCM_OK);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "grep -q memfd: /proc/%d/maps", (int)d->pid);
    assert_int_not_equal(system(cmd), 0);
    alcmc_close(c);
    free(g);
    free(blob);
    assert_int_equal(fx_stop(d), 0);
}

/* alcmc_input_buffer: a tensor written straight into the shared region compresses to the
 * same blob as the same tensor passed from the caller's memory; small tensors get no
 * region; a region too small for the call is refused before anything is read. */
static void test_input_buffer_zero_copy(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_start(d, NULL), 0);
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    const size_t n = 1 << 18;
    float *g = malloc(n * 4);
    fx_fill_gradient(g, n, 9);
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.sched.deterministic = 1;
    size_t cap = alcm_compress_bound(n * 4), la, lb;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    assert_int_equal(alcmc_input_buffer(NULL, n * 4, (void **)&a), ALCMC_E_ARG);
    assert_int_equal(alcmc_input_buffer(c, n * 4, NULL), ALCMC_E_ARG);
    void *small = g;
    assert_int_equal(alcmc_input_buffer(c, 1000, &small), ALCMC_OK);
    assert_null(small);
    for (int step = 0; step < 3; step++) { /* residuals carried alike */
        void *ib = NULL;
        assert_int_equal(alcmc_input_buffer(c, n * 4, &ib), ALCMC_OK);
        assert_non_null(ib);
        memcpy(ib, g, n * 4);
        assert_int_equal(alcmc_compress(c, "zc", &cfg, &shape, ib, n * 4, a, cap, &la, NULL),
                         ALCMC_OK);
        assert_int_equal(alcmc_compress(c, "heap", &cfg, &shape, g, n * 4, b, cap, &lb, NULL),
                         ALCMC_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        for (size_t i = 0; i < n; i++) g[i] *= -0.5f;
    }
    /* Sixteen times the tensor the region was obtained for: refused, nothing read. */
    void *ib = NULL;
    assert_int_equal(alcmc_input_buffer(c, n * 4, &ib), ALCMC_OK);
    alcm_shape big;
    alcm_shape_1d(&big, 16 * n);
    assert_int_equal(alcmc_compress(c, "zc", NULL, &big, ib, 64 * n, a, cap, &la, NULL),
                     ALCMC_E_ARG);
    alcmc_close(c);
    free(g);
    free(a);
    free(b);
    assert_int_equal(fx_stop(d), 0);
}

/* alcmc_input_file: the next bytes of a file (at its offset, which advances) land in the
 * region and compress to the blob of the same tensor from the caller's memory; a pipe is
 * read too; a short file is ALCMC_E_FILE with the connection still usable; bad arguments
 * are refused. */
static void test_input_file(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_start(d, NULL), 0);
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(d->socket, NULL, &c), ALCMC_OK);
    const size_t n = 1 << 18;
    float *g = malloc(2 * n * 4);
    fx_fill_gradient(g, 2 * n, 13);
    char path[] = "/tmp/alcm-input-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, g, 2 * n * 4), (ssize_t)(2 * n * 4));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.sched.deterministic = 1;
    size_t cap = alcm_compress_bound(n * 4), la, lb;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    void *ib = g;
    assert_int_equal(alcmc_input_file(NULL, fd, n * 4, &ib), ALCMC_E_ARG);
    assert_int_equal(alcmc_input_file(c, -1, n * 4, &ib), ALCMC_E_ARG);
    assert_int_equal(alcmc_input_file(c, fd, n * 4, NULL), ALCMC_E_ARG);
    assert_int_equal(alcmc_input_file(c, fd, 1000, &ib), ALCMC_OK);
    assert_null(ib); /* no region for a small tensor, and nothing read */
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
    for (int half = 0; half < 2; half++) { /* the second call reads the second tensor */
        ib = NULL;
        assert_int_equal(alcmc_input_file(c, fd, n * 4, &ib), ALCMC_OK);
        assert_non_null(ib);
        assert_memory_equal(ib, g + half * n, n * 4);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)((half + 1) * n * 4));
        assert_int_equal(alcmc_compress(c, "file", &cfg, &shape, ib, n * 4, a, cap, &la, NULL),
                         ALCMC_OK);
        assert_int_equal(alcmc_compress(c, "heap", &cfg, &shape, g + half * n, n * 4, b, cap,
                                        &lb, NULL),
                         ALCMC_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
    }
    /* At the end of the file: nothing left, a specific error, the connection usable. */
    ib = g;
    assert_int_equal(alcmc_input_file(c, fd, n * 4, &ib), ALCMC_E_FILE);
    assert_null(ib);
    assert_non_null(strstr(alcmc_last_message(c), "ended after 0 of"));
    assert_int_equal(alcmc_compress(c, "heap", &cfg, &shape, g, n * 4, b, cap, &lb, NULL),
                     ALCMC_OK);
    close(fd);
    unlink(path);

    /* A pipe, written by a child process. */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        size_t off = 0;
        while (off < n * 4) {
            ssize_t w = write(pfd[1], (const char *)g + off, n * 4 - off);
            if (w <= 0) _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(pfd[1]);
    ib = NULL;
    assert_int_equal(alcmc_input_file(c, pfd[0], n * 4, &ib), ALCMC_OK);
    assert_non_null(ib);
    assert_memory_equal(ib, g, n * 4);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    close(pfd[0]);
    assert_string_equal(alcmc_status_name(ALCMC_E_FILE), "ALCMC_E_FILE");
    alcmc_close(c);
    free(g);
    free(a);
    free(b);
    assert_int_equal(fx_stop(d), 0);
}

static int read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

static void test_prometheus_textfile(void **state)
{
    fx_daemon *d = slot(state, 0);
    assert_int_equal(fx_prepare(d), 0);
    char prom[192];
    snprintf(prom, sizeof prom, "%s/alcm.prom", d->dir);
    const char *args[] = {"--prometheus-file", prom, "--prometheus-interval-ms", "100", NULL};
    assert_int_equal(fx_start(d, args), 0);
    round_trip(d->socket);
    static char text[65536];
    int found = 0;
    for (int i = 0; i < 100 && !found; i++) {
        usleep(50000);
        found = read_text(prom, text, sizeof text) == 0 &&
                strstr(text, "alcm_stream_requests_total{stream=\"life\",uid=") != NULL;
    }
    assert_true(found);
    assert_non_null(strstr(text, "# TYPE alcm_requests_total counter"));
    assert_non_null(strstr(text, "alcm_latency_seconds{quantile=\"0.99\"}"));
    assert_int_equal(fx_stop(d), 0);
    /* Written by rename: no temporary file is left behind. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", d->dir);
    assert_int_not_equal(system(cmd), 0);
    fx_cleanup(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigterm_drains_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_appears_listening, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_daemon_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unauthorised_uid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_activation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sighup_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prometheus_textfile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shm_off_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_buffer_zero_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("daemon lifecycle", tests, NULL, NULL);
}
