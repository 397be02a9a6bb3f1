/* io.c - blocking send/receive on the daemon socket with a progress timeout, no SIGPIPE. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "internal.h"

/* Waits until fd is ready for `events`; ALCMC_OK, ALCMC_E_TIMEOUT or ALCMC_E_IO. */
static alcmc_status wait_ready(alcmc_conn *c, short events)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, c->timeout_ms > 0 ? c->timeout_ms : -1);
        if (n > 0) return ALCMC_OK;  /* readable, writable, or an error the next call sees */
        if (n == 0)
            return alcmc__fail(c, ALCMC_E_TIMEOUT, "no progress from the daemon within %d ms",
                               c->timeout_ms);
        if (errno != EINTR) return alcmc__fail(c, ALCMC_E_IO, "poll: %s", strerror(errno));
    }
}

alcmc_status alcmc__send_all(alcmc_conn *c, struct iovec *iov, int iovcnt, int pass_fd)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    while (iovcnt > 0) {
        if (iov->iov_len == 0) {
            iov++;
            iovcnt--;
            continue;
        }
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
        if (pass_fd >= 0) {   /* the descriptor rides on the first bytes sent */
            memset(&control, 0, sizeof control);
            m.msg_control = control.buf;
            m.msg_controllen = sizeof control.buf;
            struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        }
        ssize_t n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                alcmc_status st = wait_ready(c, POLLOUT);
                if (st != ALCMC_OK) return st;
                continue;
            }
            if (errno == EPIPE || errno == ECONNRESET)
                return alcmc__fail(c, ALCMC_E_DAEMON_GONE, "the daemon closed the connection");
            return alcmc__fail(c, ALCMC_E_IO, "send: %s", strerror(errno));
        }
        pass_fd = -1;
        size_t left = (size_t)n;
        while (iovcnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return ALCMC_OK;
}

alcmc_status alcmc__recv_exact(alcmc_conn *c, void *buf, size_t len, int *eof_first)
{
    size_t got = 0;
    if (eof_first) *eof_first = 0;
    while (got < len) {
        ssize_t n = recv(c->fd, (char *)buf + got, len - got, 0);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == 0) {
            if (eof_first && got == 0) *eof_first = 1;
            return alcmc__fail(c, ALCMC_E_DAEMON_GONE, "the daemon closed the connection");
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            alcmc_status st = wait_ready(c, POLLIN);
            if (st != ALCMC_OK) return st;
            continue;
        }
        if (errno == ECONNRESET)
            return alcmc__fail(c, ALCMC_E_DAEMON_GONE, "the daemon reset the connection");
        return alcmc__fail(c, ALCMC_E_IO, "recv: %s", strerror(errno));
    }
    return ALCMC_OK;
}

alcmc_status alcmc__drain(alcmc_conn *c, uint64_t len)
{
    char scratch[16384];
    while (len > 0) {
        size_t n = len < sizeof scratch ? (size_t)len : sizeof scratch;
        alcmc_status st = alcmc__recv_exact(c, scratch, n, NULL);
        if (st != ALCMC_OK) return st;
        len -= n;
    }
    return ALCMC_OK;
}
