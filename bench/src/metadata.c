/* metadata.c - machine, build and library-version facts recorded with every results file. */
#include <lz4.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "alcm.h"
#include "bench_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_SANITIZED 1
#endif
#endif

static void cpu_model(char *dst, size_t cap)
{
    bench_copy(dst, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strcspn(v, "\r\n");
        v[n] = '\0';
        if (n) bench_copy(dst, cap, v);
        break;
    }
    fclose(f);
}

void alcm_bench_fill_metadata(alcm_bench_submission *sub)
{
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(sub->date_utc, sizeof sub->date_utc, "%Y-%m-%dT%H:%M:%SZ",
                                      &tm);
    cpu_model(sub->cpu_model, sizeof sub->cpu_model);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    sub->cpus = n > 0 ? (uint32_t)n : 1;
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(sub->os, sizeof sub->os, "%.40s %.60s %.20s", u.sysname, u.release, u.machine);
    else
        bench_copy(sub->os, sizeof sub->os, "unknown");
#if defined(__clang__)
    snprintf(sub->compiler, sizeof sub->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(sub->compiler, sizeof sub->compiler, "gcc %s", __VERSION__);
#else
    bench_copy(sub->compiler, sizeof sub->compiler, "unknown");
#endif
#if defined(BENCH_SANITIZED)
    bench_copy(sub->build, sizeof sub->build, "sanitized");
#elif defined(NDEBUG)
    bench_copy(sub->build, sizeof sub->build, "release");
#else
    bench_copy(sub->build, sizeof sub->build, "debug");
#endif
    bench_copy(sub->ver_alcm, sizeof sub->ver_alcm, ALCM_VERSION_STRING);
    bench_copy(sub->ver_zlib, sizeof sub->ver_zlib, zlibVersion());
    bench_copy(sub->ver_zstd, sizeof sub->ver_zstd, ZSTD_versionString());
    bench_copy(sub->ver_lz4, sizeof sub->ver_lz4, LZ4_versionString());
    sub->codec_abi = ALCM_CODEC_ABI_VERSION;
}
