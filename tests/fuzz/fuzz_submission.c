/* fuzz_submission.c - fuzz target for the results JSON parser of `alcm-bench leaderboard`
 * (alcm_bench_submission_parse); accepted inputs also go through both leaderboard writers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    alcm_bench_submission sub;
    alcm_bench_error err;
    alcm_bench_status st = alcm_bench_submission_parse((const char *)data, size, &sub, &err);
    if (st != ALCM_BENCH_OK) {
        /* A rejection always names its reason and leaves nothing allocated. */
        if (err.status != st || err.message[0] == '\0' || sub.results || sub.bundles) abort();
        return 0;
    }
    if (sub.n_results == 0 || sub.n_bundles == 0) abort();
    for (size_t i = 0; i < sub.n_results; i++)
        if (!sub.results[i].verified || !(sub.results[i].caq > 0)) abort();
    /* One sink for the whole run, opened once: no open and close per accepted input. */
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    if (!sink) abort();
    if (alcm_bench_leaderboard_md(sink, &sub, 1, "leaderboard.svg") != ALCM_BENCH_OK ||
        alcm_bench_leaderboard_svg(sink, &sub, 1) != ALCM_BENCH_OK ||
        alcm_bench_submission_write(sink, &sub, &err) != ALCM_BENCH_OK)
        abort();
    alcm_bench_submission_clear(&sub);
    return 0;
}
