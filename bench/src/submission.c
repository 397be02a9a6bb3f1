/* submission.c - the in-memory results of a benchmark run: growing arrays and cleanup. */
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

alcm_bench_status alcm_bench_submission_add_bundle(alcm_bench_submission *sub,
                                                   const alcm_bench_bundle_info *info)
{
    alcm_bench_bundle_info *nb = realloc(sub->bundles, (sub->n_bundles + 1) * sizeof *nb);
    if (!nb) return ALCM_BENCH_E_NOMEM;
    sub->bundles = nb;
    sub->bundles[sub->n_bundles++] = *info;
    return ALCM_BENCH_OK;
}

alcm_bench_status alcm_bench_submission_add_result(alcm_bench_submission *sub,
                                                   const alcm_bench_result *result)
{
    alcm_bench_result *nr = realloc(sub->results, (sub->n_results + 1) * sizeof *nr);
    if (!nr) return ALCM_BENCH_E_NOMEM;
    sub->results = nr;
    sub->results[sub->n_results++] = *result;
    return ALCM_BENCH_OK;
}

void alcm_bench_submission_clear(alcm_bench_submission *sub)
{
    if (!sub) return;
    free(sub->bundles);
    free(sub->results);
    memset(sub, 0, sizeof *sub);
}
