/* env.c - the hook's process-local environment switches and its stderr log lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* 1 when the variable is set to something other than "", "0", "off", "no" or "false". */
static int env_flag(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    return strcmp(v, "0") != 0 && strcmp(v, "off") != 0 && strcmp(v, "no") != 0 &&
           strcmp(v, "false") != 0;
}

int mpi_env_debug(void)
{
    return env_flag("ALCM_MPI_DEBUG");
}

int mpi_env_report(void)
{
    return env_flag("ALCM_MPI_REPORT");
}

const char *mpi_env_socket(void)
{
    const char *v = getenv("ALCM_SOCKET");
    return v && *v ? v : NULL;
}

int mpi_env_daemon_timeout_ms(void)
{
    const char *v = getenv("ALCM_MPI_DAEMON_TIMEOUT_MS");
    if (v && *v) {
        char *end;
        long ms = strtol(v, &end, 10);
        if (*end == '\0' && ms > 0 && ms <= 3600000) return (int)ms;
        mpi_warn("ignoring ALCM_MPI_DAEMON_TIMEOUT_MS=%s (want 1..3600000)", v);
    }
    return 10000;
}

long mpi_env_poll_us(void)
{
    static long cached = -1;
    if (cached >= 0) return cached;
    long us = 20;
    const char *v = getenv("ALCM_MPI_POLL_US");
    if (v && *v) {
        char *end;
        long u = strtol(v, &end, 10);
        if (*end == '\0' && u >= 0 && u <= 100000) us = u;
        else mpi_warn("ignoring ALCM_MPI_POLL_US=%s (want 0..100000)", v);
    }
    cached = us;
    return us;
}

static int world_rank(void)
{
    int init = 0, fin = 0, rank = -1;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

static void vline(const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "alcm_mpi: rank=%d %s\n", world_rank(), msg);
}

void mpi_debug(const char *fmt, ...)
{
    if (!mpi_env_debug()) return;
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void mpi_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}
