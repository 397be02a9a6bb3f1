/* error.c - status messages and the error-filling helpers of alcm_bench. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench_internal.h"

const char *alcm_bench_strerror(alcm_bench_status status)
{
    switch (status) {
    case ALCM_BENCH_OK: return "success";
    case ALCM_BENCH_E_ARG: return "invalid argument";
    case ALCM_BENCH_E_NOMEM: return "out of memory";
    case ALCM_BENCH_E_IO: return "file could not be read or written";
    case ALCM_BENCH_E_MANIFEST: return "bundle manifest missing or malformed";
    case ALCM_BENCH_E_MISSING: return "a file listed in the manifest is missing";
    case ALCM_BENCH_E_MISMATCH: return "a bundle file does not match its manifest";
    case ALCM_BENCH_E_UNKNOWN: return "unknown codec or bundle";
    case ALCM_BENCH_E_PLUGIN: return "codec plugin could not be loaded";
    case ALCM_BENCH_E_CODEC: return "a codec reported an error";
    case ALCM_BENCH_E_VERIFY: return "a blob did not decode to its input";
    case ALCM_BENCH_E_SUBMISSION: return "results file malformed or inconsistent";
    case ALCM_BENCH_E_UNVERIFIED: return "results file holds an unverified result";
    }
    return "unknown status";
}

alcm_bench_status bench_fail(alcm_bench_error *err, alcm_bench_status status, const char *fmt,
                             ...)
{
    if (err) {
        va_list ap;
        err->status = status;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

void bench_ok(alcm_bench_error *err)
{
    if (err) {
        err->status = ALCM_BENCH_OK;
        err->message[0] = '\0';
    }
}

void bench_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}
