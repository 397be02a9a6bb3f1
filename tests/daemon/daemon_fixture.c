/* daemon_fixture.c - runs alcmd for the tests and talks raw frames to it. */
#include "daemon_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alcm_tools.h"

#ifndef ALCMD_PATH
#error "ALCMD_PATH (the alcmd binary) must be defined by the build"
#endif

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int fx_prepare(fx_daemon *d)
{
    memset(d, 0, sizeof *d);
    d->pid = -1;
    d->notify_fd = -1;
    snprintf(d->dir, sizeof d->dir, "/tmp/alcmd-test-XXXXXX");
    if (!mkdtemp(d->dir)) return -1;
    snprintf(d->socket, sizeof d->socket, "%s/alcmd.sock", d->dir);
    snprintf(d->log, sizeof d->log, "%s/alcmd.log", d->dir);
    return 0;
}

static int open_notify(fx_daemon *d, char *path, size_t cap)
{
    if (d->notify_fd >= 0) close(d->notify_fd);
    snprintf(path, cap, "%s/notify.sock", d->dir);
    unlink(path);
    d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof a.sun_path) return -1;
    memcpy(a.sun_path, path, len + 1);
    if (d->notify_fd < 0 || bind(d->notify_fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    return 0;
}

/* Forks and execs alcmd with argv; listen_fd >= 0 is passed as fd 3 (activation). */
static pid_t spawn(fx_daemon *d, const char *const *argv, int listen_fd, const char *notify)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    int log = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
        dup2(log, STDERR_FILENO);
        close(log);
    }
    if (notify) setenv("NOTIFY_SOCKET", notify, 1);
    else unsetenv("NOTIFY_SOCKET");
    if (listen_fd >= 0) {
        if (listen_fd != 3) {
            dup2(listen_fd, 3);
            close(listen_fd);
        } else {
            fcntl(3, F_SETFD, 0);
        }
        char pidbuf[32];
        snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", pidbuf, 1);
    }
    execv(ALCMD_PATH, (char *const *)argv);
    _exit(127);
}

static int start(fx_daemon *d, const char *const *args, int listen_fd, int wait_ready)
{
    if (!d->dir[0] && fx_prepare(d) != 0) return -1;
    char notify[192];
    if (open_notify(d, notify, sizeof notify) != 0) return -1;
    const char *argv[64];
    int n = 0;
    argv[n++] = ALCMD_PATH;
    if (listen_fd < 0) {
        argv[n++] = "--socket";
        argv[n++] = d->socket;
    }
    for (int i = 0; args && args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    d->pid = spawn(d, argv, listen_fd, notify);
    if (d->pid < 0) return -1;
    if (wait_ready && fx_wait_notify(d, "READY=1", 10000) != 0) {
        fx_wait_exit(d, 100);
        return -1;
    }
    return 0;
}

int fx_start(fx_daemon *d, const char *const *args)
{
    return start(d, args, -1, 1);
}

int fx_spawn(fx_daemon *d, const char *const *args)
{
    return start(d, args, -1, 0);
}

int fx_start_lean(fx_daemon *d, const char *const *args)
{
    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL;
    if (asan && !saved) return -1;
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0",
             asan ? asan : "", asan && asan[0] ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    int rc = start(d, args, -1, 1);
    if (saved) setenv("ASAN_OPTIONS", saved, 1);
    else unsetenv("ASAN_OPTIONS");
    free(saved);
    return rc;
}

int fx_start_activated(fx_daemon *d, int listen_fd, const char *const *args)
{
    return start(d, args, listen_fd, 1);
}

int fx_run(fx_daemon *d, const char *const *args, int timeout_ms)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = ALCMD_PATH;
    for (int i = 0; args && args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fx_daemon other = *d;
    other.pid = spawn(d, argv, -1, NULL);
    if (other.pid < 0) return -1;
    return fx_wait_exit(&other, timeout_ms);
}

int fx_wait_notify(fx_daemon *d, const char *needle, int timeout_ms)
{
    double end = now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(end - now_ms());
        if (left <= 0) return -1;
        struct pollfd p = {.fd = d->notify_fd, .events = POLLIN};
        if (poll(&p, 1, left < 100 ? left : 100) > 0) {
            char buf[512];
            ssize_t n = recv(d->notify_fd, buf, sizeof buf - 1, 0);
            if (n > 0) {
                buf[n] = '\0';
                if (strstr(buf, needle)) return 0;
            }
            continue;
        }
        /* The daemon died before notifying. */
        if (d->pid > 0 && waitpid(d->pid, NULL, WNOHANG) == d->pid) {
            d->pid = -1;
            return -1;
        }
    }
}

void fx_signal(fx_daemon *d, int sig)
{
    if (d->pid > 0) kill(d->pid, sig);
}

int fx_wait_exit(fx_daemon *d, int timeout_ms)
{
    if (d->pid <= 0) return -1;
    double end = now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(d->pid, &status, WNOHANG);
        if (r == d->pid) break;
        if (r < 0 && errno != EINTR) return -1;
        if (now_ms() > end) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &status, 0);
            d->pid = -1;
            return -1;
        }
        usleep(5000);
    }
    d->pid = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int fx_stop(fx_daemon *d)
{
    fx_signal(d, SIGTERM);
    return fx_wait_exit(d, 10000);
}

void fx_cleanup(fx_daemon *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = -1;
    }
    if (d->notify_fd >= 0) close(d->notify_fd);
    d->notify_fd = -1;
    if (d->dir[0]) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
        if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", d->dir);
    }
    d->dir[0] = '\0';
}

int fx_log_contains(const fx_daemon *d, const char *needle)
{
    FILE *f = fopen(d->log, "r");
    if (!f) return 0;
    char line[2048];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

void fx_dump_log(const fx_daemon *d)
{
    FILE *f = fopen(d->log, "r");
    if (!f) return;
    char line[2048];
    fprintf(stderr, "---- %s ----\n", d->log);
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    fclose(f);
}

int fx_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int fx_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fx_send_request_fd(int fd, const Alcmwire__Request *req, int pass_fd)
{
    size_t flen;
    uint8_t *frame = alcm_wire_frame_pack(&req->base, 0, &flen);
    if (!frame) return -1;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {frame, flen};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
    ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
    int rc = n < 0 ? -1 : fx_send(fd, frame + n, flen - (size_t)n);
    free(frame);
    return rc;
}

int fx_memfd(size_t size, int sealed)
{
    int fd = memfd_create("fx", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0 ||
        (sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

int fx_count_fds(pid_t pid)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "ls /proc/%ld/fd | wc -l", (long)pid);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int n = -1;
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
    return n;
}

int fx_memory(pid_t pid, uint64_t *rss, uint64_t *peak)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    unsigned long long kib;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %llu kB", &kib) == 1) {
            if (rss) *rss = (uint64_t)kib << 10;
            found |= 1;
        } else if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
            if (peak) *peak = (uint64_t)kib << 10;
            found |= 2;
        }
    }
    fclose(f);
    return found == 3 ? 0 : -1;
}

struct fx_rss_watch {
    pid_t pid;
    int hwm_reset;           /* VmHWM restarted from the current RSS */
    volatile int stop;
    uint64_t peak;           /* highest VmRSS sampled */
    pthread_t thread;
};

static void *rss_watch_loop(void *arg)
{
    fx_rss_watch *w = arg;
    while (!w->stop) {
        uint64_t rss;
        if (fx_memory(w->pid, &rss, NULL) == 0 && rss > w->peak) w->peak = rss;
        usleep(2000);
    }
    return NULL;
}

fx_rss_watch *fx_rss_watch_start(pid_t pid)
{
    fx_rss_watch *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->pid = pid;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/clear_refs", (long)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    /* "5" resets the peak RSS (Linux 4.0 and later). */
    w->hwm_reset = fd >= 0 && write(fd, "5", 1) == 1;
    if (fd >= 0) close(fd);
    if (pthread_create(&w->thread, NULL, rss_watch_loop, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

uint64_t fx_rss_watch_stop(fx_rss_watch *w)
{
    w->stop = 1;
    pthread_join(w->thread, NULL);
    uint64_t peak = w->peak, hwm;
    if (w->hwm_reset && fx_memory(w->pid, NULL, &hwm) == 0 && hwm > peak) peak = hwm;
    free(w);
    return peak;
}

int fx_send_request(int fd, const Alcmwire__Request *req, const void *payload, size_t len)
{
    size_t flen;
    uint8_t *frame = alcm_wire_frame_pack(&req->base, len, &flen);
    if (!frame) return -1;
    int rc = fx_send(fd, frame, flen);
    free(frame);
    if (rc == 0 && len) rc = fx_send(fd, payload, len);
    return rc;
}

/* Reads exactly len bytes before the deadline. */
static int read_exact(int fd, void *buf, size_t len, double end)
{
    char *p = buf;
    while (len > 0) {
        int left = (int)(end - now_ms());
        if (left <= 0) return -1;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fx_read_reply(int fd, int timeout_ms, Alcmwire__Reply **reply, uint8_t **payload,
                  size_t *len)
{
    double end = now_ms() + timeout_ms;
    *reply = NULL;
    if (payload) *payload = NULL;
    if (len) *len = 0;
    uint8_t prefix[ALCM_WIRE_PREFIX_SIZE];
    if (read_exact(fd, prefix, sizeof prefix, end) != 0) return -1;
    alcm_wire_prefix p;
    if (alcm_wire_prefix_read(prefix, (uint64_t)1 << 34, &p) != ALCMWIRE__ERROR_CODE__ERR_NONE)
        return -1;
    uint8_t *hdr = malloc(p.header_len ? p.header_len : 1);
    uint8_t *body = malloc(p.payload_len ? (size_t)p.payload_len : 1);
    if (!hdr || !body || read_exact(fd, hdr, p.header_len, end) != 0 ||
        read_exact(fd, body, (size_t)p.payload_len, end) != 0 ||
        alcm_wire_reply_parse(hdr, p.header_len, reply) != 0) {
        free(hdr);
        free(body);
        return -1;
    }
    free(hdr);
    if (payload && p.payload_len) *payload = body;
    else free(body);
    if (len) *len = (size_t)p.payload_len;
    return 0;
}

int fx_wait_closed(int fd, int timeout_ms)
{
    double end = now_ms() + timeout_ms;
    char buf[4096];
    for (;;) {
        int left = (int)(end - now_ms());
        if (left <= 0) return 0;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, left) <= 0) continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return 1;
    }
}

void fx_fill_gradient(float *x, size_t n, uint64_t seed)
{
    alcm_rng rng;
    alcm_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)(alcm_rng_normal(&rng) * 1e-3);
}
