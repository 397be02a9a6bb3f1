/* listener.c - creates or inherits the daemon's listening Unix socket. */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "session.h"

#define SD_LISTEN_FDS_START 3
#define LISTEN_BACKLOG 128

static void on_connection(uv_stream_t *listener, int status)
{
    alcmd_server *srv = listener->data;
    if (status < 0) {
        alcmd_log(ALCMD_LOG_WARNING, "accept: %s", uv_strerror(status));
        return;
    }
    alcmd_session_accept(srv, listener);
}

int alcmd_listener_activation_fd(char *err, size_t cap)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (!pid || !fds) return -1;
    char *end;
    long p = strtol(pid, &end, 10);
    if (*end || p != (long)getpid()) return -1;   /* meant for another process */
    long n = strtol(fds, &end, 10);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (*end || n != 1) {
        snprintf(err, cap, "socket activation passed LISTEN_FDS=%s; alcmd takes exactly one "
                 "socket", fds);
        return -2;
    }
    int fd = SD_LISTEN_FDS_START, v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) != 0 || v != AF_UNIX) {
        snprintf(err, cap, "socket activation: fd 3 is not an AF_UNIX socket");
        return -2;
    }
    len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) != 0 || v != SOCK_STREAM) {
        snprintf(err, cap, "socket activation: fd 3 is not a stream socket");
        return -2;
    }
    len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0 || v != 1) {
        snprintf(err, cap, "socket activation: fd 3 is not listening");
        return -2;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, cap, "socket activation: fcntl: %s", strerror(errno));
        return -2;
    }
    return fd;
}

/* Takes the lock next to the socket path, recording our pid in it. 0 or -1 with err. */
static int take_lock(alcmd_listener *l, char *err, size_t cap)
{
    char lock_path[ALCMD_SOCKET_PATH_MAX + 8];
    snprintf(lock_path, sizeof lock_path, "%s.lock", l->path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, cap, "cannot open lock file %s: %s", lock_path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char other[32] = "";
        ssize_t n = pread(fd, other, sizeof other - 1, 0);
        other[n > 0 ? n : 0] = '\0';
        other[strcspn(other, "\n")] = '\0';
        close(fd);
        if (e == EWOULDBLOCK)
            snprintf(err, cap, "another alcmd (pid %s) is already serving %s; not starting",
                     other[0] ? other : "?", l->path);
        else
            snprintf(err, cap, "cannot lock %s: %s", lock_path, strerror(e));
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        alcmd_log(ALCMD_LOG_WARNING, "cannot record the pid in %s", lock_path);
    l->lock_fd = fd;
    return 0;
}

/* Deals with an existing file at the socket path: a live socket refuses, a stale one
 * (nobody accepting) is removed, anything else refuses. 0 or -1 with err. */
static int clear_stale(const char *path, char *err, size_t cap)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, cap, "%s exists and is not a socket; not touching it", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, cap, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    int e = errno;
    close(fd);
    if (rc == 0) {
        snprintf(err, cap, "a process is already accepting connections on %s; not starting",
                 path);
        return -1;
    }
    if (e != ECONNREFUSED) {
        snprintf(err, cap, "cannot probe %s: %s", path, strerror(e));
        return -1;
    }
    if (unlink(path) != 0) {
        snprintf(err, cap, "cannot remove stale socket %s: %s", path, strerror(errno));
        return -1;
    }
    alcmd_log(ALCMD_LOG_NOTICE, "replaced the stale socket %s left by a dead daemon", path);
    return 0;
}

int alcmd_listener_open(alcmd_server *srv, char *err, size_t cap)
{
    alcmd_listener *l = &srv->listener;
    l->lock_fd = -1;
    int fd = alcmd_listener_activation_fd(err, cap);
    if (fd == -2) return -1;
    uv_pipe_init(srv->loop, &l->pipe, 0);
    l->pipe.data = srv;
    l->open = 1;
    int rc;
    char staged[ALCMD_SOCKET_PATH_MAX] = "";
    if (fd >= 0) {
        l->activated = 1;
        rc = uv_pipe_open(&l->pipe, fd);
        if (rc != 0) {
            snprintf(err, cap, "socket activation: uv_pipe_open: %s", uv_strerror(rc));
            return -1;
        }
        size_t len = sizeof l->path;
        if (uv_pipe_getsockname(&l->pipe, l->path, &len) != 0) l->path[0] = '\0';
        alcmd_log(ALCMD_LOG_INFO, "listening on %s (socket activation)",
                  l->path[0] ? l->path : "an inherited socket");
    } else {
        if (!srv->cfg.socket_path[0]) {
            snprintf(err, cap, "no socket: give --socket PATH (or start through alcmd.socket)");
            return -1;
        }
        snprintf(l->path, sizeof l->path, "%s", srv->cfg.socket_path);
        if (take_lock(l, err, cap) != 0 || clear_stale(l->path, err, cap) != 0) return -1;
        /* Bound as PATH.new and renamed to PATH once listening, so that the path appears
         * only when connections are accepted: a client that waits for it to exist never
         * meets a socket that refuses. (The lock makes PATH.new ours; a path too long for
         * the suffix is bound directly.) */
        size_t len = strlen(l->path);
        if (len + sizeof ".new" <= sizeof staged) {
            memcpy(staged, l->path, len);
            memcpy(staged + len, ".new", sizeof ".new");
            if (unlink(staged) != 0 && errno != ENOENT) {
                snprintf(err, cap, "cannot remove %s: %s", staged, strerror(errno));
                return -1;
            }
        }
        const char *at = staged[0] ? staged : l->path;
        /* Created 0660 from the start (no window with wider permissions), then made sure. */
        mode_t old = umask(0117);
        rc = uv_pipe_bind(&l->pipe, at);
        umask(old);
        if (rc != 0) {
            snprintf(err, cap, "cannot bind %s: %s", at, uv_strerror(rc));
            return -1;
        }
        if (chmod(at, 0660) != 0) {
            snprintf(err, cap, "chmod %s: %s", at, strerror(errno));
            return -1;
        }
    }
    rc = uv_listen((uv_stream_t *)&l->pipe, LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        snprintf(err, cap, "listen on %s: %s", l->path, uv_strerror(rc));
        return -1;
    }
    if (staged[0] && rename(staged, l->path) != 0) {
        snprintf(err, cap, "cannot rename %s to %s: %s", staged, l->path, strerror(errno));
        return -1;
    }
    if (fd < 0) l->bound = 1;
    if (!l->activated) alcmd_log(ALCMD_LOG_INFO, "listening on %s", l->path);
    return 0;
}

void alcmd_listener_close(alcmd_server *srv)
{
    alcmd_listener *l = &srv->listener;
    if (!l->open) return;
    l->open = 0;
    uv_close((uv_handle_t *)&l->pipe, NULL);   /* libuv unlinks a path it bound itself */
    if (l->bound && unlink(l->path) != 0 && errno != ENOENT)
        alcmd_log(ALCMD_LOG_WARNING, "cannot remove %s: %s", l->path, strerror(errno));
    l->bound = 0;
}

void alcmd_listener_release(alcmd_server *srv)
{
    if (srv->listener.lock_fd >= 0) close(srv->listener.lock_fd);
    srv->listener.lock_fd = -1;
}
