/* test_robustness.c - garbage, truncated, oversize, malformed and stalled frames against
 * a real alcmd: each gets a clear error or a clean close, and the daemon keeps serving
 * other clients; out-of-order replies carry their request ids. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alcm.h"
#include "alcmc.h"
#include "daemon_fixture.h"

static fx_daemon g_d;

static int setup(void **state)
{
    (void)state;
    static const char *const args[] = {"--idle-timeout-ms", "300", "--max-message-bytes", "4M",
                                       "--shm-max-bytes", "16M", NULL};
    if (fx_start(&g_d, args) != 0) {
        fx_dump_log(&g_d);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = fx_stop(&g_d);
    if (rc != 0) fx_dump_log(&g_d);
    fx_cleanup(&g_d);
    return rc == 0 ? 0 : -1;
}

/* Another client still gets a full compress/decompress round trip. */
static void assert_daemon_serves(void)
{
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(g_d.socket, NULL, &c), ALCMC_OK);
    float g[1024];
    fx_fill_gradient(g, 1024, 77);
    alcm_shape shape;
    alcm_shape_1d(&shape, 1024);
    uint8_t blob[8192];
    float out[1024];
    size_t len, n;
    assert_int_equal(alcmc_compress(c, "serves", NULL, &shape, g, sizeof g, blob, sizeof blob,
                                    &len, NULL), ALCMC_OK);
    assert_int_equal(alcmc_decompress(c, blob, len, out, sizeof out, &n), ALCMC_OK);
    assert_int_equal(n, sizeof out);
    alcmc_close(c);
}

/* Expects an error reply with `code` and then (if closes) the connection closed. */
static void expect_error(int fd, Alcmwire__ErrorCode code, int closes)
{
    Alcmwire__Reply *r;
    assert_int_equal(fx_read_reply(fd, 5000, &r, NULL, NULL), 0);
    assert_int_equal(r->op, ALCMWIRE__OP__OP_ERROR);
    assert_int_equal(r->error, code);
    assert_true(r->message && r->message[0]);
    alcm_wire_reply_free(r);
    if (closes) assert_true(fx_wait_closed(fd, 5000));
}

static void put_prefix(uint8_t *p, uint16_t version, uint16_t flags, uint32_t hlen,
                       uint64_t plen)
{
    alcm_wire_prefix_write(p, hlen, plen);
    p[4] = (uint8_t)version;
    p[5] = (uint8_t)(version >> 8);
    p[6] = (uint8_t)flags;
    p[7] = (uint8_t)(flags >> 8);
}

static void test_garbage(void **state)
{
    (void)state;
    int fd = fx_connect(g_d.socket);
    assert_true(fd >= 0);
    const char *http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_int_equal(fx_send(fd, http, strlen(http)), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_MAGIC, 1);
    close(fd);
    assert_daemon_serves();
}

static void test_bad_version_flags_header_len(void **state)
{
    (void)state;
    struct { uint16_t version, flags; uint32_t hlen; Alcmwire__ErrorCode code; } cases[] = {
        {2, 0, 4, ALCMWIRE__ERROR_CODE__ERR_BAD_VERSION},
        {1, 1, 4, ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME},
        {1, 0, 65537, ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = fx_connect(g_d.socket);
        assert_true(fd >= 0);
        uint8_t p[ALCM_WIRE_PREFIX_SIZE];
        put_prefix(p, cases[i].version, cases[i].flags, cases[i].hlen, 0);
        assert_int_equal(fx_send(fd, p, sizeof p), 0);
        expect_error(fd, cases[i].code, 1);
        close(fd);
    }
    assert_daemon_serves();
}

static void test_oversize_payload(void **state)
{
    (void)state;
    int fd = fx_connect(g_d.socket);
    uint8_t p[ALCM_WIRE_PREFIX_SIZE];
    put_prefix(p, 1, 0, 0, (uint64_t)1 << 40);   /* far above the 4M limit */
    assert_int_equal(fx_send(fd, p, sizeof p), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE, 1);
    close(fd);
    /* The client library refuses locally, before sending. */
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(g_d.socket, NULL, &c), ALCMC_OK);
    assert_int_equal(alcmc_server(c)->max_message_bytes, 4u << 20);
    size_t n = (5u << 20) / 4;
    float *big = calloc(n, sizeof *big);
    alcm_shape shape;
    alcm_shape_1d(&shape, n);
    uint8_t blob[16];
    size_t len;
    assert_int_equal(alcmc_compress(c, "big", NULL, &shape, big, n * 4, blob, sizeof blob, &len,
                                    NULL), ALCMC_E_TOO_LARGE);
    assert_int_equal(alcmc_hello(c, NULL), ALCMC_OK);
    alcmc_close(c);
    free(big);
    assert_daemon_serves();
}

/* Errors in a well-framed request: answered, payload skipped, connection kept. */
static void test_bad_requests_keep_connection(void **state)
{
    (void)state;
    int fd = fx_connect(g_d.socket);
    assert_true(fd >= 0);
    /* Header bytes that are not a protobuf Request, with a payload to skip. */
    uint8_t frame[ALCM_WIRE_PREFIX_SIZE + 8 + 100];
    put_prefix(frame, 1, 0, 8, 100);
    memset(frame + ALCM_WIRE_PREFIX_SIZE, 0xff, 8 + 100);
    assert_int_equal(fx_send(fd, frame, sizeof frame), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_HEADER, 0);

    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = (Alcmwire__Op)99;
    req.request_id = 5;
    assert_int_equal(fx_send_request(fd, &req, NULL, 0), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_UNKNOWN_OP, 0);

    /* Payload size disagreeing with the shape. */
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    uint64_t dims[1] = {100};
    t.dtype = ALCM_DTYPE_F32;
    t.n_dims = 1;
    t.dims = dims;
    req.op = ALCMWIRE__OP__OP_COMPRESS;
    req.request_id = 6;
    req.stream = "bad/size";
    req.tensor = &t;
    float data[101] = {0};
    assert_int_equal(fx_send_request(fd, &req, data, sizeof data), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);

    /* Stream names: empty, with a space, too long. */
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *names[] = {"", "has space", longname};
    for (int i = 0; i < 3; i++) {
        req.stream = (char *)names[i];
        assert_int_equal(fx_send_request(fd, &req, data, 100 * sizeof(float)), 0);
        expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    }
    /* Rank 9, unknown dtype, a config the scheduler refuses. */
    uint64_t dims9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    t.n_dims = 9;
    t.dims = dims9;
    req.stream = "bad/rank";
    assert_int_equal(fx_send_request(fd, &req, data, 4), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    t.n_dims = 1;
    t.dims = dims;
    t.dtype = 77;
    assert_int_equal(fx_send_request(fd, &req, data, 100), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    t.dtype = ALCM_DTYPE_F32;
    Alcmwire__StreamConfig cfg = ALCMWIRE__STREAM_CONFIG__INIT;   /* all zero: no budget */
    cfg.profile = ALCM_PROFILE_GRADIENT;
    req.config = &cfg;
    assert_int_equal(fx_send_request(fd, &req, data, 400), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    req.config = NULL;

    /* Still the same connection: a hello is answered. */
    Alcmwire__Request hello = ALCMWIRE__REQUEST__INIT;
    hello.op = ALCMWIRE__OP__OP_HELLO;
    hello.request_id = 42;
    assert_int_equal(fx_send_request(fd, &hello, NULL, 0), 0);
    Alcmwire__Reply *r;
    assert_int_equal(fx_read_reply(fd, 5000, &r, NULL, NULL), 0);
    assert_int_equal(r->op, ALCMWIRE__OP__OP_HELLO);
    assert_int_equal(r->request_id, 42);
    assert_non_null(r->hello);
    assert_int_equal(r->hello->protocol_version, 1);
    alcm_wire_reply_free(r);
    close(fd);
    assert_daemon_serves();
}

/* A frame cut short by the client closing: clean close, nothing else disturbed. */
static void test_truncated_frames(void **state)
{
    (void)state;
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    uint64_t dims[1] = {65536};
    t.dtype = ALCM_DTYPE_F32;
    t.n_dims = 1;
    t.dims = dims;
    req.op = ALCMWIRE__OP__OP_COMPRESS;
    req.stream = "trunc";
    req.tensor = &t;
    size_t flen;
    uint8_t *frame = alcm_wire_frame_pack(&req.base, 65536 * 4, &flen);
    size_t cuts[] = {3, ALCM_WIRE_PREFIX_SIZE, flen - 2, flen + 1000};
    uint8_t *payload = calloc(65536, 4);
    for (size_t i = 0; i < 4; i++) {
        int fd = fx_connect(g_d.socket);
        assert_true(fd >= 0);
        size_t head = cuts[i] < flen ? cuts[i] : flen;
        assert_int_equal(fx_send(fd, frame, head), 0);
        if (cuts[i] > flen) assert_int_equal(fx_send(fd, payload, cuts[i] - flen), 0);
        close(fd);
    }
    free(frame);
    free(payload);
    assert_daemon_serves();
}

/* A client killed (SIGKILL) in the middle of sending a large frame. */
static void test_client_killed_mid_frame(void **state)
{
    (void)state;
    pid_t child = fork();
    if (child == 0) {
        int fd = fx_connect(g_d.socket);
        Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
        Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
        uint64_t dims[1] = {512 * 1024};
        t.dtype = ALCM_DTYPE_F32;
        t.n_dims = 1;
        t.dims = dims;
        req.op = ALCMWIRE__OP__OP_COMPRESS;
        req.stream = "killed";
        req.tensor = &t;
        size_t flen;
        uint8_t *frame = alcm_wire_frame_pack(&req.base, dims[0] * 4, &flen);
        uint8_t *half = calloc(dims[0] * 2, 1);
        if (fd < 0 || !frame || !half || fx_send(fd, frame, flen) != 0 ||
            fx_send(fd, half, dims[0] * 2) != 0)
            _exit(1);
        raise(SIGKILL);
        _exit(2);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_daemon_serves();
    for (int i = 0; i < 100 && !fx_log_contains(&g_d, "closed mid-frame"); i++) usleep(20000);
    assert_true(fx_log_contains(&g_d, "closed mid-frame"));
}

/* A sender that stalls mid-frame is timed out (300 ms here) while others are served. */
static void test_slow_sender_timeout(void **state)
{
    (void)state;
    int fd = fx_connect(g_d.socket);
    assert_true(fd >= 0);
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = ALCMWIRE__OP__OP_HELLO;
    req.request_id = 1;
    size_t flen;
    uint8_t *frame = alcm_wire_frame_pack(&req.base, 0, &flen);
    assert_int_equal(fx_send(fd, frame, 10), 0);   /* half a prefix, then silence */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_daemon_serves();   /* the stalled connection blocks nobody */
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_TIMEOUT, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited >= 0.2);
    close(fd);
    /* Bytes trickling in keep a frame alive: 10 bytes every 100 ms, then complete. */
    fd = fx_connect(g_d.socket);
    for (size_t off = 0; off < flen; off += 5) {
        assert_int_equal(fx_send(fd, frame + off, off + 5 <= flen ? 5 : flen - off), 0);
        usleep(100000);
    }
    Alcmwire__Reply *r;
    assert_int_equal(fx_read_reply(fd, 5000, &r, NULL, NULL), 0);
    assert_int_equal(r->op, ALCMWIRE__OP__OP_HELLO);
    alcm_wire_reply_free(r);
    close(fd);
    free(frame);
}

/* Pipelined requests on one connection: every reply carries its request's id and op. */
static void test_pipelined_replies_by_id(void **state)
{
    (void)state;
    int fd = fx_connect(g_d.socket);
    assert_true(fd >= 0);
    const size_t n = 512 * 1024;
    float *g = malloc(n * 4);
    fx_fill_gradient(g, n, 11);
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    uint64_t dims[1] = {n};
    t.dtype = ALCM_DTYPE_F32;
    t.n_dims = 1;
    t.dims = dims;
    Alcmwire__Request big = ALCMWIRE__REQUEST__INIT;
    big.op = ALCMWIRE__OP__OP_COMPRESS;
    big.request_id = 100;
    big.stream = "pipe/big";
    big.tensor = &t;
    Alcmwire__Request small = big;
    uint64_t sdims[1] = {256};
    Alcmwire__Tensor st = t;
    st.dims = sdims;
    small.tensor = &st;
    small.stream = "pipe/small";
    small.request_id = 101;
    Alcmwire__Request hello = ALCMWIRE__REQUEST__INIT;
    hello.op = ALCMWIRE__OP__OP_HELLO;
    hello.request_id = 102;
    Alcmwire__Request stats = ALCMWIRE__REQUEST__INIT;
    stats.op = ALCMWIRE__OP__OP_STATS;
    stats.request_id = 103;
    assert_int_equal(fx_send_request(fd, &big, g, n * 4), 0);
    assert_int_equal(fx_send_request(fd, &small, g, 256 * 4), 0);
    assert_int_equal(fx_send_request(fd, &hello, NULL, 0), 0);
    assert_int_equal(fx_send_request(fd, &stats, NULL, 0), 0);
    int seen[4] = {0};
    for (int i = 0; i < 4; i++) {
        Alcmwire__Reply *r;
        uint8_t *payload;
        size_t len;
        assert_int_equal(fx_read_reply(fd, 10000, &r, &payload, &len), 0);
        assert_true(r->request_id >= 100 && r->request_id <= 103);
        int k = (int)(r->request_id - 100);
        const Alcmwire__Op ops[] = {ALCMWIRE__OP__OP_COMPRESS, ALCMWIRE__OP__OP_COMPRESS,
                                    ALCMWIRE__OP__OP_HELLO, ALCMWIRE__OP__OP_STATS};
        assert_int_equal(r->op, ops[k]);
        seen[k]++;
        if (k <= 1) {
            assert_non_null(r->compress);
            assert_int_equal(r->compress->blob_bytes, len);
            float *back = malloc(k == 0 ? n * 4 : 1024);
            size_t got;
            assert_int_equal(alcmc_decompress_local(payload, len, back, k == 0 ? n * 4 : 1024,
                                                    &got, NULL), ALCMC_OK);
            free(back);
        }
        if (k == 3) {
            Alcmwire__Stats *s = alcmwire__stats__unpack(NULL, len, payload);
            assert_non_null(s);
            alcmwire__stats__free_unpacked(s, NULL);
        }
        free(payload);
        alcm_wire_reply_free(r);
    }
    for (int k = 0; k < 4; k++) assert_int_equal(seen[k], 1);
    close(fd);
    free(g);
}

/* A compress request of n f32 elements on stream whose input starts the attached region
 * and whose blob is to follow it there; the request points into the struct. */
typedef struct {
    uint64_t dims[1];
    Alcmwire__Tensor tensor;
    Alcmwire__ShmSpan in, out;
    Alcmwire__Request req;
} shm_compress;

static void shm_compress_init(shm_compress *s, size_t n, const char *stream)
{
    const Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    const Alcmwire__ShmSpan span = ALCMWIRE__SHM_SPAN__INIT;
    const Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    s->dims[0] = n;
    s->tensor = t;
    s->tensor.dtype = ALCM_DTYPE_F32;
    s->tensor.n_dims = 1;
    s->tensor.dims = s->dims;
    s->in = s->out = span;
    s->in.length = n * 4;
    s->out.offset = n * 4;
    s->out.length = alcm_compress_bound(n * 4);
    s->req = req;
    s->req.op = ALCMWIRE__OP__OP_COMPRESS;
    s->req.stream = (char *)stream;
    s->req.tensor = &s->tensor;
    s->req.shm_input = &s->in;
    s->req.shm_output = &s->out;
}

/* Shared-memory attach and ranges: every misuse is refused with ERR_BAD_REQUEST and the
 * connection kept; descriptors sent with other frames are closed, not leaked. */
static void test_shared_memory_misuse(void **state)
{
    (void)state;
    int fd = fx_connect(g_d.socket);
    assert_true(fd >= 0);
    Alcmwire__Request att = ALCMWIRE__REQUEST__INIT;
    att.op = ALCMWIRE__OP__OP_ATTACH_SHM;
    att.request_id = 1;
    att.shm_size = 1 << 20;
    /* No descriptor. */
    assert_int_equal(fx_send_request(fd, &att, NULL, 0), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    /* Not sealed: the client could shrink it under the daemon. */
    int mfd = fx_memfd(1 << 20, 0);
    assert_true(mfd >= 0);
    assert_int_equal(fx_send_request_fd(fd, &att, mfd), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    close(mfd);
    /* Smaller than announced, and larger than the daemon takes (--shm-max-bytes 16M). */
    mfd = fx_memfd(1 << 20, 1);
    att.shm_size = 2 << 20;
    assert_int_equal(fx_send_request_fd(fd, &att, mfd), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    close(mfd);
    mfd = fx_memfd(32 << 20, 1);
    att.shm_size = 32 << 20;
    assert_int_equal(fx_send_request_fd(fd, &att, mfd), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    close(mfd);

    /* A compress naming shared ranges before any region is attached. */
    const size_t n = 1024;
    shm_compress sc;
    shm_compress_init(&sc, n, "shm/misuse");
    sc.req.request_id = 2;
    assert_int_equal(fx_send_request(fd, &sc.req, NULL, 0), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);

    /* A proper region: then ranges past its end, and overlapping ranges. */
    mfd = fx_memfd(64 << 10, 1);
    att.shm_size = 64 << 10;
    assert_int_equal(fx_send_request_fd(fd, &att, mfd), 0);
    Alcmwire__Reply *r;
    assert_int_equal(fx_read_reply(fd, 5000, &r, NULL, NULL), 0);
    assert_int_equal(r->op, ALCMWIRE__OP__OP_ATTACH_SHM);
    alcm_wire_reply_free(r);
    sc.out.offset = (64 << 10) - 100;
    assert_int_equal(fx_send_request(fd, &sc.req, NULL, 0), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    sc.out.offset = 100;
    assert_int_equal(fx_send_request(fd, &sc.req, NULL, 0), 0);
    expect_error(fd, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, 0);
    /* In range: the blob lands in the region and decodes to the input. */
    float *map = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    assert_true(map != MAP_FAILED);
    fx_fill_gradient(map, n, 3);
    sc.out.offset = n * 4;
    assert_int_equal(fx_send_request(fd, &sc.req, NULL, 0), 0);
    uint8_t *payload;
    size_t len;
    assert_int_equal(fx_read_reply(fd, 5000, &r, &payload, &len), 0);
    assert_int_equal(r->op, ALCMWIRE__OP__OP_COMPRESS);
    assert_true(r->compress->blob_in_shm);
    assert_int_equal(len, 0);
    float back[1024];
    size_t got;
    assert_int_equal(alcmc_decompress_local((uint8_t *)map + sc.out.offset,
                                            r->compress->blob_bytes, back, sizeof back, &got,
                                            NULL),
                     ALCMC_OK);
    alcm_wire_reply_free(r);
    munmap(map, 64 << 10);
    close(mfd);

    /* Descriptors riding on ordinary frames are closed by the daemon. */
    int before = fx_count_fds(g_d.pid);
    Alcmwire__Request hello = ALCMWIRE__REQUEST__INIT;
    hello.op = ALCMWIRE__OP__OP_HELLO;
    for (int i = 0; i < 50; i++) {
        int extra = fx_memfd(4096, 0);
        assert_int_equal(fx_send_request_fd(fd, &hello, extra), 0);
        close(extra);
        assert_int_equal(fx_read_reply(fd, 5000, &r, NULL, NULL), 0);
        alcm_wire_reply_free(r);
    }
    int after = fx_count_fds(g_d.pid);
    assert_true(before > 0 && after <= before + 2);
    close(fd);
    assert_daemon_serves();
}

/* A client that dies while its shared-memory compress runs: the daemon keeps the region
 * mapped until the step is done, then drops it. */
static void test_client_gone_during_shm_compress(void **state)
{
    (void)state;
    pid_t child = fork();
    if (child == 0) {
        const size_t n = 512u << 10;   /* 2 MiB */
        size_t size = n * 4 + alcm_compress_bound(n * 4) + 4096;
        int fd = fx_connect(g_d.socket), mfd = fx_memfd(size, 1);
        float *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        if (fd < 0 || mfd < 0 || map == MAP_FAILED) _exit(1);
        fx_fill_gradient(map, n, 5);
        Alcmwire__Request att = ALCMWIRE__REQUEST__INIT;
        att.op = ALCMWIRE__OP__OP_ATTACH_SHM;
        att.shm_size = size;
        Alcmwire__Reply *r;
        if (fx_send_request_fd(fd, &att, mfd) != 0 || fx_read_reply(fd, 5000, &r, NULL, NULL))
            _exit(2);
        shm_compress sc;
        shm_compress_init(&sc, n, "shm/gone");
        if (fx_send_request(fd, &sc.req, NULL, 0) != 0) _exit(3);
        _exit(0);   /* gone, with the request running */
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_daemon_serves();
    alcmc_conn *c;
    assert_int_equal(alcmc_connect(g_d.socket, NULL, &c), ALCMC_OK);
    alcmc_stats_report *s;
    for (int i = 0; i < 200; i++) {   /* the step completes and is counted */
        assert_int_equal(alcmc_stats(c, "shm/gone", &s), ALCMC_OK);
        int done = s->n_streams == 1 && s->streams[0].requests == 1;
        alcmc_stats_free(s);
        if (done) break;
        usleep(20000);
    }
    assert_int_equal(alcmc_stats(c, "shm/gone", &s), ALCMC_OK);
    assert_int_equal(s->n_streams, 1);
    assert_int_equal(s->streams[0].requests, 1);
    assert_int_equal(s->streams[0].errors, 0);
    alcmc_stats_free(s);
    alcmc_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_bad_version_flags_header_len),
        cmocka_unit_test(test_oversize_payload),
        cmocka_unit_test(test_bad_requests_keep_connection),
        cmocka_unit_test(test_truncated_frames),
        cmocka_unit_test(test_client_killed_mid_frame),
        cmocka_unit_test(test_slow_sender_timeout),
        cmocka_unit_test(test_pipelined_replies_by_id),
        cmocka_unit_test(test_shared_memory_misuse),
        cmocka_unit_test(test_client_gone_during_shm_compress),
    };
    return cmocka_run_group_tests_name("daemon robustness", tests, setup, teardown);
}
