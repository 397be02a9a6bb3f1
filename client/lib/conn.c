/* conn.c - libalcmc connections: connect, hello, close, and the connection's last error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

/* Socket buffer size asked for in both directions: fewer wake-ups per large tensor. */
#define ALCMC_SOCKET_BUFFER (4 << 20)

void alcmc_options_default(alcmc_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->struct_size = (uint32_t)sizeof *opts;
    opts->timeout_ms = 60000;
    opts->client_name = NULL;
    opts->shm = 1;
}

static alcmc_status connect_errno(int err)
{
    switch (err) {
    case ENOENT:
    case ECONNREFUSED:
    case ENOTDIR:
    case ENOTSOCK:
    case EPROTOTYPE:
        return ALCMC_E_CONNECT;
    case EACCES:
    case EPERM:
        /* File-system permissions, decided by the kernel: the daemon never saw the
         * connection, so this is not its allow-list (ALCMC_E_DENIED). */
        return ALCMC_E_PERMISSION;
    case EAGAIN:
    case ETIMEDOUT:
        return ALCMC_E_TIMEOUT;
    default:
        return ALCMC_E_IO;
    }
}

/* Connects fd to addr, finishing a connect interrupted by a signal. Returns 0 or errno. */
static int connect_unix(int fd, const struct sockaddr_un *addr)
{
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) return 0;
    if (errno != EINTR) return errno;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR) return errno;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

alcmc_status alcmc_connect(const char *socket_path, const alcmc_options *opts,
                           alcmc_conn **out)
{
    if (!out) return ALCMC_E_ARG;
    *out = NULL;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!socket_path || !socket_path[0] || strlen(socket_path) >= sizeof addr.sun_path)
        return ALCMC_E_ARG;
    memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
    alcmc_options def;
    if (!opts) {
        alcmc_options_default(&def);
        opts = &def;
    }
    if (opts->struct_size != sizeof *opts || opts->timeout_ms < 0) return ALCMC_E_ARG;

    alcmc_conn *c = calloc(1, sizeof *c);
    if (!c) return ALCMC_E_NOMEM;
    c->timeout_ms = opts->timeout_ms;
    c->shm_wanted = opts->shm ? 1 : 0;
    c->shm_fd = -1;
    snprintf(c->client_name, sizeof c->client_name, "%s",
             opts->client_name ? opts->client_name : "libalcmc");
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        free(c);
        return ALCMC_E_IO;
    }
    int err = connect_unix(c->fd, &addr);
    if (err) {
        alcmc_close(c);
        return connect_errno(err);
    }
    int size = ALCMC_SOCKET_BUFFER;
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        alcmc_close(c);
        return ALCMC_E_IO;
    }
    alcmc_status st = alcmc_hello(c, NULL);
    if (st != ALCMC_OK) {
        alcmc_close(c);
        return st;
    }
    *out = c;
    return ALCMC_OK;
}

void alcmc_close(alcmc_conn *conn)
{
    if (!conn) return;
    alcmc__shm_release(conn);
    if (conn->fd >= 0) close(conn->fd);
    free(conn);
}

const alcmc_server_info *alcmc_server(const alcmc_conn *conn)
{
    return &conn->server;
}

alcmc_status alcmc_hello(alcmc_conn *conn, alcmc_server_info *info)
{
    if (!conn) return ALCMC_E_ARG;
    alcmc_status st = alcmc__begin(conn);
    if (st != ALCMC_OK) return st;
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    Alcmwire__HelloRequest hello = ALCMWIRE__HELLO_REQUEST__INIT;
    hello.protocol_version = ALCM_WIRE_VERSION;
    hello.client_name = conn->client_name;
    req.op = ALCMWIRE__OP__OP_HELLO;
    req.hello = &hello;
    Alcmwire__Reply *r;
    st = alcmc__exchange(conn, &req, NULL, 0, -1, ALCMWIRE__OP__OP_HELLO, NULL, &r);
    if (st != ALCMC_OK) return st;
    const Alcmwire__HelloReply *h = r->hello;
    if (!h) {
        alcm_wire_reply_free(r);
        conn->broken = ALCMC_E_PROTOCOL;
        return alcmc__fail(conn, ALCMC_E_PROTOCOL, "hello reply without its fields");
    }
    if (h->protocol_version != ALCM_WIRE_VERSION) {
        alcmc__fail(conn, ALCMC_E_VERSION, "daemon speaks protocol %u, this library %d",
                    h->protocol_version, ALCM_WIRE_VERSION);
        alcm_wire_reply_free(r);
        return ALCMC_E_VERSION;
    }
    alcmc_server_info *s = &conn->server;
    memset(s, 0, sizeof *s);
    s->protocol_version = h->protocol_version;
    snprintf(s->daemon_version, sizeof s->daemon_version, "%s",
             h->daemon_version ? h->daemon_version : "");
    s->max_message_bytes = h->max_message_bytes;
    s->max_streams = h->max_streams;
    s->max_pending = h->max_pending;
    s->idle_timeout_ms = h->idle_timeout_ms;
    s->deterministic = h->deterministic ? 1 : 0;
    s->pid = h->pid;
    s->shm_max_bytes = h->shm_max_bytes;
    alcm_wire_reply_free(r);
    if (info) *info = *s;
    return ALCMC_OK;
}

const char *alcmc_last_message(const alcmc_conn *conn)
{
    return conn ? conn->message : "";
}

alcm_status alcmc_last_alcm_status(const alcmc_conn *conn)
{
    return conn ? conn->codec_status : ALCM_OK;
}
