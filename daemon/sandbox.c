/* sandbox.c - PR_SET_NO_NEW_PRIVS and an allow-list seccomp filter (libseccomp).
 *
 * The list covers what the running daemon does after start-up: the libuv loop (epoll,
 * eventfd, signal pipe, accept4/recvmsg/sendmsg with SCM_RIGHTS), the thread pool
 * (threads only: clone with CLONE_THREAD; clone3 answers ENOSYS so glibc falls back to
 * clone), mapping clients' memfds, SIGHUP reloads (config file, NSS user and group
 * look-ups over AF_UNIX), sd_notify datagrams, the Prometheus textfile and the state
 * files (create, fsync, rename, list a directory). Anything else fails with EPERM instead
 * of killing the daemon; socket() and socketpair() of a family other than AF_UNIX fail
 * with EAFNOSUPPORT. Sanitizer builds also get what ASan/LSan use at exit (ptrace of the
 * process's own threads from a cloned tracer, wait4). */
#include "sandbox.h"

#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"

#if defined(__SANITIZE_ADDRESS__)
#define ALCMD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define ALCMD_SANITIZED 1
#endif
#endif

static const char *const k_allowed[] = {
    /* files and descriptors */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "close", "close_range", "open", "openat", "creat", "lseek", "fstat", "newfstatat",
    "stat", "lstat", "statx", "fstatfs", "statfs", "fcntl", "dup", "dup2", "dup3",
    "pipe", "pipe2", "ftruncate", "fallocate", "fsync", "fdatasync", "rename", "renameat",
    "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "getdents", "getdents64", "chmod", "fchmod",
    "fchmodat", "umask", "flock", "access", "faccessat", "faccessat2", "readlink",
    "readlinkat", "getcwd",
    /* memory */
    "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "mincore",
    /* the event loop */
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "epoll_pwait2", "eventfd", "eventfd2", "poll", "ppoll", "select", "pselect6",
    /* Unix sockets: accept, messages with descriptors, sd_notify */
    "accept", "accept4", "recvmsg", "sendmsg", "recvfrom", "sendto", "connect",
    "getsockopt", "setsockopt", "getsockname", "getpeername", "shutdown",
    /* threads, signals, time */
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "membarrier",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
    "tgkill", "tkill", "getpid", "gettid", "getppid", "exit", "exit_group",
    "restart_syscall", "sched_yield", "sched_getaffinity", "clock_gettime", "clock_getres",
    "gettimeofday", "time", "nanosleep", "clock_nanosleep", "getrandom", "uname", "sysinfo",
    "getrusage", "times", "prlimit64", "getrlimit", "prctl",
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
#ifdef ALCMD_SANITIZED
    "ptrace", "wait4", "waitid", "kill", "execve", "personality", "setrlimit",
#endif
};

static int allow_names(scmp_filter_ctx ctx, char *err, size_t cap)
{
    for (size_t i = 0; i < sizeof k_allowed / sizeof k_allowed[0]; i++) {
        int nr = seccomp_syscall_resolve_name(k_allowed[i]);
        if (nr == __NR_SCMP_ERROR) continue;   /* not a system call on this architecture */
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc != 0) {
            snprintf(err, cap, "seccomp rule for %s: %s", k_allowed[i], strerror(-rc));
            return -1;
        }
    }
    return 0;
}

/* Rules with argument checks: socket families, thread-only clone, a few ioctls. */
static int add_arg_rules(scmp_filter_ctx ctx, char *err, size_t cap)
{
    struct {
        const char *what;
        uint32_t action;
        int nr;
        unsigned arg;
        enum scmp_compare op;
        uint64_t a, b;
    } rules[] = {
        {"socket(AF_UNIX)", SCMP_ACT_ALLOW, SCMP_SYS(socket), 0, SCMP_CMP_EQ, AF_UNIX, 0},
        {"socket(other)", SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 0, SCMP_CMP_NE,
         AF_UNIX, 0},
        {"socketpair(AF_UNIX)", SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 0, SCMP_CMP_EQ, AF_UNIX,
         0},
        {"socketpair(other)", SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 0,
         SCMP_CMP_NE, AF_UNIX, 0},
#ifndef ALCMD_SANITIZED
        {"clone(thread)", SCMP_ACT_ALLOW, SCMP_SYS(clone), 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
         CLONE_THREAD},
#endif
        {"ioctl(FIONBIO)", SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, FIONBIO, 0},
        {"ioctl(FIOCLEX)", SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, FIOCLEX, 0},
        {"ioctl(FIONCLEX)", SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, FIONCLEX, 0},
        {"ioctl(FIONREAD)", SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, FIONREAD, 0},
        {"ioctl(TCGETS)", SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TCGETS, 0},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        struct scmp_arg_cmp cmp = {rules[i].arg, rules[i].op, rules[i].a, rules[i].b};
        int rc = seccomp_rule_add_array(ctx, rules[i].action, rules[i].nr, 1, &cmp);
        if (rc != 0) {
            snprintf(err, cap, "seccomp rule for %s: %s", rules[i].what, strerror(-rc));
            return -1;
        }
    }
    /* clone3 passes its flags in memory the filter cannot read: glibc falls back to clone. */
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
#ifdef ALCMD_SANITIZED
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
#endif
    if (rc != 0) {
        snprintf(err, cap, "seccomp rule for clone: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

int alcmd_sandbox_enter(char *err, size_t cap)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, cap, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) {
        snprintf(err, cap, "seccomp_init failed");
        return -1;
    }
    int rc = -1;
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0) {
        snprintf(err, cap, "seccomp: cannot synchronise threads");
    } else if (allow_names(ctx, err, cap) == 0 && add_arg_rules(ctx, err, cap) == 0) {
        int e = seccomp_load(ctx);
        if (e != 0) snprintf(err, cap, "seccomp_load: %s", strerror(-e));
        else rc = 0;
    }
    seccomp_release(ctx);
    return rc;
}

int alcmd_sandbox_probe(const char *where)
{
    static const struct {
        const char *name;
        int family, type;
    } probes[] = {
        {"AF_INET", AF_INET, SOCK_STREAM},
        {"AF_INET6", AF_INET6, SOCK_DGRAM},
        {"AF_NETLINK", AF_NETLINK, SOCK_RAW},
        {"AF_UNIX", AF_UNIX, SOCK_STREAM},
    };
    int escaped = 0;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int fd = socket(probes[i].family, probes[i].type | SOCK_CLOEXEC, 0);
        int e = errno;
        if (fd >= 0) {
            close(fd);
            if (probes[i].family != AF_UNIX) escaped++;
            alcmd_log(ALCMD_LOG_NOTICE, "sandbox probe (%s): socket(%s): created", where,
                      probes[i].name);
        } else {
            alcmd_log(ALCMD_LOG_NOTICE, "sandbox probe (%s): socket(%s): %s", where,
                      probes[i].name, strerror(e));
        }
    }
    return escaped;
}
