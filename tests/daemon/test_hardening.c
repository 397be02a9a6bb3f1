/* test_hardening.c - regressions found by attacking alcmd as an outsider would, each
 * against a real daemon: NaN in a config field the profile ignores (D1), connect() denied
 * by file permissions told apart from the daemon's allow-list (D6), a NUL byte in the
 * config file at start and on SIGHUP (D7), a shared region rewritten while the daemon
 * encodes it; and the limits that keep one peer from starving the others, each while
 * another client's small request must still be answered within 2 s: a descriptor flood
 * and the connection cap (D2), a trickling sender (D3), a client that never reads its
 * replies (D4), small blobs that decode to large tensors (D5). */
#include <grp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
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
#include "testutil.h"

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

    tu_rewriter w = {(float *)map, n, 512, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tu_rewrite_loop, &w), 0);
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

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Connects, compresses 256 floats, and returns how long it took in ms (-1 on failure). */
static double small_request_ms(const char *socket_path)
{
    double t0 = now_ms();
    alcmc_options o;
    alcmc_options_default(&o);
    o.timeout_ms = 10000;
    alcmc_conn *c;
    if (alcmc_connect(socket_path, &o, &c) != ALCMC_OK) return -1;
    float x[256];
    fx_fill_gradient(x, 256, 1);
    alcm_shape sh;
    alcm_shape_1d(&sh, 256);
    uint8_t blob[4096];
    size_t len;
    alcmc_status st = alcmc_compress(c, "small", NULL, &sh, x, sizeof x, blob, sizeof blob, &len,
                                     NULL);
    alcmc_close(c);
    return st == ALCMC_OK ? now_ms() - t0 : -1;
}

static void assert_small_request_fast(const fx_daemon *d)
{
    double ms = small_request_ms(d->socket);
    if (!(ms >= 0 && ms < 2000)) fx_dump_log(d);
    fprintf(stderr, "small request answered in %.1f ms\n", ms);
    assert_true(ms >= 0 && ms < 2000);
}

/* Error replies of a code counted in the daemon's statistics. */
static uint64_t errors_counted(const fx_daemon *d, const char *code)
{
    alcmc_conn *c;
    if (alcmc_connect(d->socket, NULL, &c) != ALCMC_OK) return 0;
    alcmc_stats_report *st;
    uint64_t n = 0;
    if (alcmc_stats(c, NULL, &st) == ALCMC_OK) {
        for (size_t i = 0; i < st->total.n_errors; i++)
            if (!strcmp(st->total.errors_by_code[i].code, code)) n = st->total.errors_by_code[i].count;
        alcmc_stats_free(st);
    }
    alcmc_close(c);
    return n;
}

/* Sends `len` bytes with n_fds descriptors attached (SCM_RIGHTS). */
static int send_with_fds(int fd, const void *buf, size_t len, const int *fds, int n_fds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(64 * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {(void *)buf, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = CMSG_SPACE((size_t)n_fds * sizeof(int))};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN((size_t)n_fds * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, (size_t)n_fds * sizeof(int));
    return sendmsg(fd, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* The daemon's memory around an attack: its RSS at rest (after one small request, so its
 * code, threads and the probe's stream are resident) and its peak RSS during the attack,
 * both from /proc/<pid>/status. */
typedef struct {
    const fx_daemon *d;
    uint64_t cap;            /* the configured in-flight cap */
    uint64_t idle;
    fx_rss_watch *watch;
} rss_guard;

static void rss_guard_start(rss_guard *g, const fx_daemon *d, uint64_t cap)
{
    g->d = d;
    g->cap = cap;
    assert_true(small_request_ms(d->socket) >= 0);
    assert_int_equal(fx_memory(d->pid, &g->idle, NULL), 0);
    g->watch = fx_rss_watch_start(d->pid);
    assert_non_null(g->watch);
}

/* The peak RSS during the attack stays under the in-flight cap plus the process itself,
 * allowed four times its RSS at rest: code, libraries, thread stacks and arenas, each
 * worker's codec scratch for the request it decodes (up to 8 MiB over the replies in a
 * release build), the connections' buffers; the RSS at rest is measured in the same build.
 * Under ASan the in-flight buffers also have their shadow, an eighth of their size, which
 * the RSS at rest does not scale with: the decompress bomb's peak there ranged 156-212 MiB
 * over runs against 132-140 MiB in a release build. An unenforced cap shows as several
 * caps' worth of buffers. */
static void rss_guard_check(rss_guard *g, const char *attack)
{
    uint64_t peak = fx_rss_watch_stop(g->watch);
    uint64_t limit = g->cap + 4 * g->idle;
#ifdef __SANITIZE_ADDRESS__
    limit += g->cap / 8;
#endif
    fprintf(stderr, "%s: daemon RSS at rest %.1f MiB, peak %.1f MiB, limit %.1f MiB "
            "(in-flight cap %.0f MiB + 4 x rest)\n", attack, g->idle / 1048576.0,
            peak / 1048576.0, limit / 1048576.0, g->cap / 1048576.0);
    if (!(peak < limit)) fx_dump_log(g->d);
    assert_true(peak < limit);
}

/* A client that starts a frame announcing `payload` bytes, sends `bulk` of them at full
 * speed (blocked while the daemon keeps it waiting for memory), then one byte every 100 ms
 * until the daemon drops it or it is stopped. */
typedef struct {
    int fd;
    Alcmwire__Op op;
    size_t payload, bulk;
    volatile int stop;
    volatile int bulk_sent;  /* the bulk is out (the daemon read all but the socket's share) */
    int dropped;             /* the daemon closed the connection */
    double trickle_ms;       /* from the end of the bulk to the drop */
    pthread_t thread;
} holder;

static void *hold_loop(void *arg)
{
    holder *h = arg;
    uint64_t dims[1] = {h->payload / 4};
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    t.dtype = ALCM_DTYPE_F32;
    t.n_dims = 1;
    t.dims = dims;
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = h->op;
    req.request_id = 1;
    if (h->op == ALCMWIRE__OP__OP_COMPRESS) {
        req.stream = "held";
        req.tensor = &t;
    }
    size_t flen;
    uint8_t *frame = alcm_wire_frame_pack(&req.base, h->payload, &flen);
    static const uint8_t zeros[1 << 16];
    int ok = frame && fx_send(h->fd, frame, flen) == 0;
    free(frame);
    for (size_t sent = 0; ok && !h->stop && sent < h->bulk; sent += sizeof zeros) {
        size_t n = h->bulk - sent < sizeof zeros ? h->bulk - sent : sizeof zeros;
        ok = fx_send(h->fd, zeros, n) == 0;
    }
    h->bulk_sent = ok && !h->stop;
    double t0 = now_ms();
    while (ok && !h->stop && !h->dropped) {
        if (send(h->fd, "\0", 1, MSG_NOSIGNAL) != 1) h->dropped = 1;
        else h->dropped = fx_wait_closed(h->fd, 100);
    }
    if (!ok && !h->stop) h->dropped = 1;
    if (h->dropped) h->trickle_ms = now_ms() - t0;
    return NULL;
}

static void hold_start(holder *h, const char *socket_path, Alcmwire__Op op, size_t payload,
                       size_t bulk)
{
    memset(h, 0, sizeof *h);
    h->op = op;
    h->payload = payload;
    h->bulk = bulk;
    h->fd = fx_connect(socket_path);
    assert_true(h->fd >= 0);
    assert_int_equal(pthread_create(&h->thread, NULL, hold_loop, h), 0);
}

/* Stops the client (a send blocked on the daemon is woken by the shutdown) and closes it. */
static void hold_stop(holder *h)
{
    h->stop = 1;
    shutdown(h->fd, SHUT_RDWR);
    pthread_join(h->thread, NULL);
    close(h->fd);
}

/* D2: descriptors sent with the bytes of an unfinished frame are capped per connection,
 * and connections are capped; each refusal is logged and counted. The connections that
 * fill the cap each hold most of a frame of max_message_bytes: together four times the
 * in-flight cap, of which the daemon reads only what the cap admits. */
static void test_fd_flood_and_connection_cap(void **state)
{
    fx_daemon *d = *state;
    static const char *const args[] = {"--max-fds-per-connection", "4", "--max-connections",
                                       "8", "--inflight-cap", "64M", "--max-message-bytes",
                                       "32M", NULL};
    assert_int_equal(fx_start_lean(d, args), 0);
    rss_guard g;
    rss_guard_start(&g, d, 64u << 20);
    int base = fx_count_fds(d->pid);
    int fds[64];
    int m = fx_memfd(4096, 0);
    assert_true(m >= 0);
    for (int i = 0; i < 64; i++) fds[i] = m;
    int flood[6];
    for (int k = 0; k < 6; k++) {
        flood[k] = fx_connect(d->socket);
        assert_true(flood[k] >= 0);
        /* Ten bytes of a frame prefix, then 64 descriptors with every next byte. */
        assert_int_equal(send_with_fds(flood[k], ALCM_WIRE_MAGIC "\1\0\0\0\0\0", 10, fds, 64),
                         0);
        for (int i = 0; i < 5; i++) (void)send_with_fds(flood[k], "\0", 1, fds, 64);
    }
    close(m);
    for (int k = 0; k < 6; k++) {
        assert_true(fx_wait_closed(flood[k], 3000));
        close(flood[k]);
    }
    assert_true(fx_log_contains(d, "file descriptors queued (limit 4 per connection)"));
    assert_true(fx_count_fds(d->pid) <= base + 2);   /* nothing kept */
    assert_true(errors_counted(d, "ERR_BAD_FRAME") >= 6);
    assert_small_request_fast(d);

    /* Eight connections fill the cap, each sending 31 of a 32 MiB frame; the ninth is
     * refused with ERR_OVERLOADED. */
    holder hold[8];
    for (int k = 0; k < 8; k++)
        hold_start(&hold[k], d->socket, ALCMWIRE__OP__OP_DECOMPRESS, 32u << 20, 31u << 20);
    /* The daemon reads one of them (the others wait for memory, unread); without the cap
     * it would take all 248 MiB: give it the time to. */
    double t0 = now_ms();
    int sent = 0;
    while (sent < 8 && now_ms() - t0 < 2000) {
        usleep(50000);
        sent = 0;
        for (int k = 0; k < 8; k++) sent += hold[k].bulk_sent;
    }
    fprintf(stderr, "%d of 8 connections sent their 31 MiB\n", sent);
    assert_true(sent >= 1);
    int extra = fx_connect(d->socket);
    assert_true(extra >= 0);
    Alcmwire__Reply *r;
    assert_int_equal(fx_read_reply(extra, 3000, &r, NULL, NULL), 0);
    assert_int_equal(r->error, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED);
    alcm_wire_reply_free(r);
    assert_true(fx_wait_closed(extra, 3000));
    close(extra);
    assert_true(fx_log_contains(d, "refused: 8 connections open (max_connections 8)"));
    for (int k = 0; k < 8; k++) hold_stop(&hold[k]);
    usleep(200000);
    assert_small_request_fast(d);
    assert_true(errors_counted(d, "ERR_OVERLOADED") >= 1);
    rss_guard_check(&g, "descriptor flood and connection cap");
    assert_int_equal(fx_stop(d), 0);
}

/* D3: a sender trickling the payload of a request that holds the in-flight budget is
 * dropped after one progress interval; others get the memory. Six such senders at once,
 * each with all but 64 KiB of a 24 MiB compress sent: the daemon admits one at a time
 * (each needs its payload and the blob bound, most of the 64 MiB cap). */
static void test_trickling_sender(void **state)
{
    fx_daemon *d = *state;
    static const char *const args[] = {"--idle-timeout-ms", "500", "--inflight-cap", "64M",
                                       "--max-message-bytes", "32M", NULL};
    assert_int_equal(fx_start_lean(d, args), 0);
    rss_guard g;
    rss_guard_start(&g, d, 64u << 20);
    const size_t payload = 24u << 20;
    holder h[6];
    for (int k = 0; k < 6; k++)
        hold_start(&h[k], d->socket, ALCMWIRE__OP__OP_COMPRESS, payload, payload - (64u << 10));
    usleep(300000);
    assert_small_request_fast(d);
    /* Each is dropped within one or two intervals of its bulk; all within 6 x 2 s. */
    double t0 = now_ms();
    int all = 0;
    while (!all && now_ms() - t0 < 12000) {
        usleep(50000);
        all = 1;
        for (int k = 0; k < 6; k++) all &= h[k].dropped;
    }
    for (int k = 0; k < 6; k++) hold_stop(&h[k]);
    for (int k = 0; k < 6; k++) {
        fprintf(stderr, "trickling sender %d dropped %d, %.0f ms after its bulk\n", k,
                h[k].dropped, h[k].trickle_ms);
        assert_true(h[k].dropped);
        assert_true(h[k].trickle_ms < 2000);
    }
    assert_true(fx_log_contains(d, "bytes of an unfinished frame in 500 ms"));
    assert_small_request_fast(d);
    assert_true(errors_counted(d, "ERR_TIMEOUT") >= 6);
    rss_guard_check(&g, "trickling senders");
    assert_int_equal(fx_stop(d), 0);
}

/* A lossless-bytes blob of `raw` zero bytes (tiny: zeros compress to almost nothing). */
static uint8_t *zero_blob(size_t raw, size_t *len)
{
    uint8_t *zeros = calloc(1, raw);
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    p.dtype = ALCM_DTYPE_BYTES;
    alcm_shape sh;
    alcm_shape_1d(&sh, raw);
    size_t cap = alcm_compress_bound(raw);
    uint8_t *blob = malloc(cap);
    alcm_cctx *cx = alcm_cctx_create();
    assert_int_equal(alcm_compress(cx, &p, &sh, zeros, raw, NULL, blob, cap, len, NULL), ALCM_OK);
    alcm_cctx_free(cx);
    free(zeros);
    return blob;
}

/* D4: a client that pipelines requests and never reads the replies is dropped once it
 * takes none of them for a progress interval, and its reserved replies are released. It
 * asks for 128 MiB of replies, twice the in-flight cap: the daemon decodes only what the
 * cap holds. */
static void test_client_never_reads(void **state)
{
    fx_daemon *d = *state;
    static const char *const args[] = {"--idle-timeout-ms", "500", "--inflight-cap", "64M",
                                       "--max-message-bytes", "16M", "--max-pending", "32",
                                       NULL};
    assert_int_equal(fx_start_lean(d, args), 0);
    rss_guard g;
    rss_guard_start(&g, d, 64u << 20);
    size_t len;
    uint8_t *blob = zero_blob(4u << 20, &len);
    int fd = fx_connect(d->socket);
    int small = 4096;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = ALCMWIRE__OP__OP_DECOMPRESS;
    for (int i = 0; i < 32; i++) {   /* 128 MiB of replies, never read */
        req.request_id = (uint64_t)i + 1;
        assert_int_equal(fx_send_request(fd, &req, blob, len), 0);
    }
    double t0 = now_ms();
    int logged = 0;
    while (!logged && now_ms() - t0 < 3000) {
        usleep(50000);
        logged = fx_log_contains(d, "took none of its");
    }
    if (!logged) fx_dump_log(d);
    assert_true(logged);
    fprintf(stderr, "non-reading client dropped after %.0f ms\n", now_ms() - t0);
    assert_small_request_fast(d);
    close(fd);
    free(blob);
    assert_true(errors_counted(d, "ERR_TIMEOUT") >= 1);
    rss_guard_check(&g, "client that never reads");
    assert_int_equal(fx_stop(d), 0);
}

static void *bomb_conn(void *arg)
{
    const fx_daemon *d = arg;
    size_t len;
    uint8_t *blob = zero_blob(64u << 20, &len);
    int fd = fx_connect(d->socket);
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = ALCMWIRE__OP__OP_DECOMPRESS;
    for (int i = 0; i < 8; i++) {   /* 8 pipelined small blobs of 64 MiB each */
        req.request_id = (uint64_t)i + 1;
        if (fx_send_request(fd, &req, blob, len) != 0) break;
    }
    for (int i = 0; i < 8; i++) {
        Alcmwire__Reply *r;
        uint8_t *payload;
        size_t plen;
        if (fx_read_reply(fd, 60000, &r, &payload, &plen) != 0) break;
        alcm_wire_reply_free(r);
        free(payload);
    }
    close(fd);
    free(blob);
    return (void *)(uintptr_t)len;
}

/* D5: the decoded size is reserved from the blob header before decoding: 2 connections x
 * 8 pipelined blobs of a few KB that decode to 64 MiB each (1 GiB in all) stay within a
 * 160 MiB cap. */
static void test_decompress_bomb(void **state)
{
    fx_daemon *d = *state;
    static const char *const args[] = {"--inflight-cap", "160M", "--max-message-bytes", "64M",
                                       "--threads", "2", NULL};
    assert_int_equal(fx_start_lean(d, args), 0);
    rss_guard g;
    rss_guard_start(&g, d, 160u << 20);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, bomb_conn, d), 0);
    usleep(300000);
    assert_small_request_fast(d);
    void *blob_len;
    for (int i = 0; i < 2; i++) pthread_join(th[i], &blob_len);
    fprintf(stderr, "bomb blob: %zu bytes decoding to 64 MiB\n", (size_t)(uintptr_t)blob_len);
    assert_true((size_t)(uintptr_t)blob_len < 64 * 1024);
    rss_guard_check(&g, "decompress bomb");
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
        cmocka_unit_test_setup_teardown(test_fd_flood_and_connection_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trickling_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_never_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decompress_bomb, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
