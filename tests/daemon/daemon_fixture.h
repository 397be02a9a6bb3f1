/* daemon_fixture.h - starts a real alcmd on a temporary socket for the daemon tests, and
 * speaks raw frames to it: readiness through NOTIFY_SOCKET, stop with SIGTERM, the daemon's
 * log captured to a file. */
#ifndef ALCMD_DAEMON_FIXTURE_H
#define ALCMD_DAEMON_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

typedef struct {
    char dir[128];        /* temporary directory holding the socket, log and notify socket */
    char socket[160];
    char log[160];
    pid_t pid;
    int notify_fd;        /* datagram socket the daemon's sd_notify messages arrive on */
} fx_daemon;

/* Creates the temporary directory (d->dir) without starting anything. 0 or -1. */
int fx_prepare(fx_daemon *d);

/* Starts alcmd --socket d->socket plus args (NULL-terminated, may be NULL) and waits for
 * READY=1 (10 s). fx_prepare is called first if d->dir is empty. 0, or -1 (the daemon
 * exited or never became ready). */
int fx_start(fx_daemon *d, const char *const *args);

/* fx_start without waiting for READY=1: returns once the child is forked (0, or -1). */
int fx_spawn(fx_daemon *d, const char *const *args);

/* Like fx_start without --socket: the child gets listen_fd as fd 3 with LISTEN_FDS=1 and
 * LISTEN_PID set to its own pid, as systemd passes an activated socket. */
int fx_start_activated(fx_daemon *d, int listen_fd, const char *const *args);

/* fx_start for a daemon whose memory is measured: under ASan its quarantine of freed
 * blocks (which would count in the RSS) is turned off; no effect without ASan. */
int fx_start_lean(fx_daemon *d, const char *const *args);

/* Runs alcmd with args (NULL-terminated) in the foreground, as a second daemon would be,
 * and returns its exit status (or -1 if it was still running after timeout_ms, when it is
 * killed). Its stderr is appended to d->log. */
int fx_run(fx_daemon *d, const char *const *args, int timeout_ms);

/* Waits up to timeout_ms for the next sd_notify datagram containing `needle`. 0 or -1. */
int fx_wait_notify(fx_daemon *d, const char *needle, int timeout_ms);

/* Sends signal sig to the daemon. */
void fx_signal(fx_daemon *d, int sig);

/* Waits for the daemon to exit; returns its exit status, 128+signal if killed by one, or
 * -1 after timeout_ms (then it is killed). */
int fx_wait_exit(fx_daemon *d, int timeout_ms);

/* SIGTERM and fx_wait_exit(10 s). */
int fx_stop(fx_daemon *d);

/* Stops the daemon if running, removes the directory. */
void fx_cleanup(fx_daemon *d);

/* 1 when the daemon's log contains needle. */
int fx_log_contains(const fx_daemon *d, const char *needle);

/* Prints the daemon's log to stderr (for a failing test). */
void fx_dump_log(const fx_daemon *d);

/* Raw client side: a connected socket (blocking), or -1. */
int fx_connect(const char *path);

/* Writes all bytes (MSG_NOSIGNAL). 0, or -1 when the peer is gone. */
int fx_send(int fd, const void *buf, size_t len);

/* Sends one request frame: header message + payload. 0 or -1. */
int fx_send_request(int fd, const Alcmwire__Request *req, const void *payload, size_t len);

/* Sends one request frame without payload, passing descriptor pass_fd with its bytes
 * (SCM_RIGHTS). 0 or -1. */
int fx_send_request_fd(int fd, const Alcmwire__Request *req, int pass_fd);

/* A memfd of size bytes, sealed against shrinking when `sealed`. -1 on failure. */
int fx_memfd(size_t size, int sealed);

/* Open descriptors of process pid (from /proc), or -1. */
int fx_count_fds(pid_t pid);

/* Resident memory of process pid from /proc/pid/status, in bytes: VmRSS (now) and VmHWM
 * (its peak). 0, or -1 when the file cannot be read. */
int fx_memory(pid_t pid, uint64_t *rss, uint64_t *peak);

/* Follows the peak RSS of process pid from now on: VmHWM is reset to the current RSS
 * (/proc/pid/clear_refs), and a thread samples VmRSS every 2 ms as well, for a kernel or a
 * permission that refuses the reset. NULL when the thread cannot start. */
typedef struct fx_rss_watch fx_rss_watch;
fx_rss_watch *fx_rss_watch_start(pid_t pid);

/* Stops w and frees it: the highest RSS seen since fx_rss_watch_start, in bytes. */
uint64_t fx_rss_watch_stop(fx_rss_watch *w);

/* Reads one reply frame within timeout_ms: *reply (free with alcm_wire_reply_free) and
 * the payload (malloc'ed, may be NULL when empty). 0, or -1 on EOF, timeout or garbage. */
int fx_read_reply(int fd, int timeout_ms, Alcmwire__Reply **reply, uint8_t **payload,
                  size_t *len);

/* 1 when the peer has closed the connection within timeout_ms (EOF or reset). */
int fx_wait_closed(int fd, int timeout_ms);

/* Fills n floats with a deterministic pseudo-gradient (seeded). */
void fx_fill_gradient(float *x, size_t n, uint64_t seed);

#endif
