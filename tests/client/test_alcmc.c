/* test_alcmc.c - libalcmc without a real daemon: status strings, argument checks,
 * in-process decoding, and a scripted fake daemon for the connection failures (gone,
 * silent, garbage, wrong version) and the broken-connection rule. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "alcm.h"
#include "alcmc.h"

static void test_strings(void **state)
{
    (void)state;
    for (int s = 0; s >= ALCMC_E_FILE; s--) {
        const char *m = alcmc_strerror((alcmc_status)s);
        assert_true(m && m[0]);
        assert_string_not_equal(m, "unknown alcmc status");
        assert_true(strncmp(alcmc_status_name((alcmc_status)s), "ALCMC_", 6) == 0);
        for (int t = s + 1; t <= 0; t++)
            assert_string_not_equal(m, alcmc_strerror((alcmc_status)t));
    }
    assert_string_equal(alcmc_strerror((alcmc_status)-99), "unknown alcmc status");
    assert_string_equal(alcmc_status_name(ALCMC_E_DAEMON_GONE), "ALCMC_E_DAEMON_GONE");
}

static void test_connect_failures(void **state)
{
    (void)state;
    alcmc_conn *c = (alcmc_conn *)1;
    assert_int_equal(alcmc_connect("/nonexistent/dir/alcmd.sock", NULL, &c), ALCMC_E_CONNECT);
    assert_null(c);
    char longpath[200];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(alcmc_connect(longpath, NULL, &c), ALCMC_E_ARG);
    assert_int_equal(alcmc_connect("", NULL, &c), ALCMC_E_ARG);
    assert_int_equal(alcmc_connect(NULL, NULL, &c), ALCMC_E_ARG);
    alcmc_options o;
    alcmc_options_default(&o);
    assert_int_equal(o.timeout_ms, 60000);
    o.timeout_ms = -1;
    assert_int_equal(alcmc_connect("/tmp/x", &o, &c), ALCMC_E_ARG);
    /* A socket file nobody listens on. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/alcmc-test-%ld.sock", (long)getpid());
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strlen(path) + 1);
    unlink(path);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
    assert_int_equal(alcmc_connect(path, NULL, &c), ALCMC_E_CONNECT);
    unlink(path);
}

static void test_decompress_local(void **state)
{
    (void)state;
    float x[1000];
    for (int i = 0; i < 1000; i++) x[i] = (float)i * 0.25f;
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    alcm_shape s;
    alcm_shape_1d(&s, 1000);
    size_t cap = alcm_compress_bound(sizeof x), len, n;
    uint8_t *blob = malloc(cap);
    alcm_cctx *cc = alcm_cctx_create();
    assert_int_equal(alcm_compress(cc, &p, &s, x, sizeof x, NULL, blob, cap, &len, NULL), ALCM_OK);
    alcm_cctx_free(cc);
    float y[1000];
    alcm_status st;
    assert_int_equal(alcmc_decompress_local(blob, len, y, sizeof y, &n, &st), ALCMC_OK);
    assert_int_equal(n, sizeof y);
    assert_memory_equal(x, y, sizeof x);
    assert_int_equal(alcmc_decompress_local(blob, len, y, sizeof y - 1, &n, &st),
                     ALCMC_E_DST_TOO_SMALL);
    blob[len / 2] ^= 0x40;
    assert_int_equal(alcmc_decompress_local(blob, len, y, sizeof y, &n, &st), ALCMC_E_CODEC);
    assert_int_equal(st, ALCM_E_CHECKSUM);
    assert_int_equal(alcmc_decompress_local(blob, 3, y, sizeof y, &n, &st), ALCMC_E_CODEC);
    assert_int_equal(alcmc_decompress_local(NULL, 3, y, sizeof y, &n, &st), ALCMC_E_ARG);
    free(blob);
}

/* ---- a scripted fake daemon ------------------------------------------------------------ */
typedef enum {
    FAKE_CLOSE,          /* accept and close at once */
    FAKE_SILENT,         /* accept, read, never answer */
    FAKE_GARBAGE,        /* answer with bytes that are not a frame */
    FAKE_VERSION2,       /* answer hello claiming protocol 2 */
    FAKE_HELLO_THEN_GONE /* answer hello properly, then close */
} fake_mode;

typedef struct {
    int listen_fd;
    fake_mode mode;
} fake;

/* The hello reply frame for protocol `version`, written by hand (no libalcmc). */
static size_t hello_frame(uint8_t *out, uint32_t version, uint64_t request_id)
{
    uint8_t h[64];
    size_t n = 0;
    h[n++] = 0x08; h[n++] = 1;                          /* op = OP_HELLO */
    h[n++] = 0x10; h[n++] = (uint8_t)request_id;        /* request_id (< 128) */
    uint8_t sub[32];
    size_t m = 0;
    sub[m++] = 0x08; sub[m++] = (uint8_t)version;       /* protocol_version */
    sub[m++] = 0x18; sub[m++] = 0x80; sub[m++] = 0x80; sub[m++] = 0x04;   /* max_message 65536 */
    h[n++] = 0x32; h[n++] = (uint8_t)m;                 /* field 6: hello */
    memcpy(h + n, sub, m);
    n += m;
    memcpy(out, "ALCP\x01\x00\x00\x00", 8);
    out[8] = (uint8_t)n; out[9] = out[10] = out[11] = 0;
    memset(out + 12, 0, 8);
    memcpy(out + 20, h, n);
    return 20 + n;
}

static void *fake_run(void *arg)
{
    fake *f = arg;
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0) return NULL;
    uint8_t buf[4096], out[128];
    if (f->mode != FAKE_CLOSE) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);   /* the hello request */
        if (f->mode == FAKE_SILENT) {
            while (n > 0) n = recv(fd, buf, sizeof buf, 0);
        } else if (f->mode == FAKE_GARBAGE) {
            (void)!send(fd, "HTTP/1.1 400 Bad Request\r\n\r\n", 28, MSG_NOSIGNAL);
        } else {
            size_t len = hello_frame(out, f->mode == FAKE_VERSION2 ? 2 : 1, 1);
            (void)!send(fd, out, len, MSG_NOSIGNAL);
        }
    }
    close(fd);
    return NULL;
}

static alcmc_status connect_to_fake(fake_mode mode, int timeout_ms, alcmc_conn **c)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/alcmc-fake-%ld.sock", (long)getpid());
    unlink(path);
    fake f = {.mode = mode};
    f.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(f.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f.listen_fd, 1), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fake_run, &f), 0);
    alcmc_options o;
    alcmc_options_default(&o);
    o.timeout_ms = timeout_ms;
    alcmc_status st = alcmc_connect(path, &o, c);
    if (mode == FAKE_SILENT) shutdown(f.listen_fd, SHUT_RDWR);
    pthread_join(th, NULL);   /* the fake has closed its side */
    close(f.listen_fd);
    unlink(path);
    return st;
}

static void test_fake_daemons(void **state)
{
    (void)state;
    alcmc_conn *c = NULL;
    assert_int_equal(connect_to_fake(FAKE_CLOSE, 5000, &c), ALCMC_E_DAEMON_GONE);
    assert_null(c);
    assert_int_equal(connect_to_fake(FAKE_GARBAGE, 5000, &c), ALCMC_E_PROTOCOL);
    assert_int_equal(connect_to_fake(FAKE_VERSION2, 5000, &c), ALCMC_E_VERSION);
}

static void test_fake_silent_times_out(void **state)
{
    (void)state;
    alcmc_conn *c = NULL;
    /* The fake reads until the client gives up and closes. */
    assert_int_equal(connect_to_fake(FAKE_SILENT, 200, &c), ALCMC_E_TIMEOUT);
    assert_null(c);
}

static void test_gone_then_broken(void **state)
{
    (void)state;
    alcmc_conn *c = NULL;
    assert_int_equal(connect_to_fake(FAKE_HELLO_THEN_GONE, 5000, &c), ALCMC_OK);
    assert_non_null(c);
    assert_int_equal(alcmc_server(c)->protocol_version, 1);
    assert_int_equal(alcmc_server(c)->max_message_bytes, 65536);
    float x[16] = {0};
    alcm_shape s;
    alcm_shape_1d(&s, 16);
    uint8_t blob[1024];
    size_t len;
    assert_int_equal(alcmc_compress(c, "s", NULL, &s, x, sizeof x, blob, sizeof blob, &len,
                                    NULL), ALCMC_E_DAEMON_GONE);
    assert_int_equal(alcmc_hello(c, NULL), ALCMC_E_BROKEN);
    assert_non_null(strstr(alcmc_last_message(c), "closed"));
    /* A broken connection refuses every later call. */
    assert_int_equal(alcmc_compress(c, "s", NULL, &s, x, sizeof x - 4, blob, sizeof blob, &len,
                                    NULL), ALCMC_E_BROKEN);
    alcmc_close(c);
    alcmc_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_connect_failures),
        cmocka_unit_test(test_decompress_local),
        cmocka_unit_test(test_fake_daemons),
        cmocka_unit_test(test_fake_silent_times_out),
        cmocka_unit_test(test_gone_then_broken),
    };
    return cmocka_run_group_tests_name("libalcmc", tests, NULL, NULL);
}
