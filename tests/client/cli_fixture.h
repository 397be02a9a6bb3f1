/* cli_fixture.h - running the `alcm` tool from a test: a scratch directory, the command's
 * exit code with stdout/stderr captured to out.txt/err.txt there, and file helpers
 * (header-only; each test file has its own scratch directory). */
#ifndef ALCM_CLI_FIXTURE_H
#define ALCM_CLI_FIXTURE_H

#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static char g_dir[256];

/* Creates the scratch directory /tmp/<prefix>-XXXXXX; 0 on success. */
static int cli_fixture_mkdir(const char *prefix)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/%s-XXXXXX", prefix);
    return mkdtemp(g_dir) ? 0 : -1;
}

/* Removes the scratch directory; 0 on success. */
static int cli_fixture_rmdir(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs `<bin> <args>` in the scratch directory; returns the exit code (-1 if killed). */
static int run_program(const char *bin, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >out.txt 2>err.txt", g_dir, bin, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `alcm <args>` (the user tool). */
static inline int run(const char *args)
{
    return run_program(ALCM_BIN, args);
}

#ifdef ALCM_BENCH_BIN
/* Runs `alcm-bench <args>` (the experiment and the benchmark programs). */
static inline int run_bench(const char *args)
{
    return run_program(ALCM_BENCH_BIN, args);
}
#endif

/* Reads a scratch file whole (NUL-terminated); NULL if it does not exist. */
static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = tu_malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    if (len) *len = got;
    return buf;
}

/* Writes a scratch file. */
static void spit(const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* 1 when the scratch file exists and contains needle. */
static int file_contains(const char *name, const char *needle)
{
    char *s = slurp(name, NULL);
    int found = s && strstr(s, needle) != NULL;
    free(s);
    return found;
}

#endif
