/* submission.c - the in-memory results of a benchmark run: growing arrays and cleanup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

/* Makes room for one more element in an array of n: arrays grow to the next power of two,
 * so the capacity follows from the count and appending n elements costs O(n). 0 or -1. */
static int reserve_one(void **arr, size_t n, size_t elem)
{
    if (n & (n - 1)) return 0;   /* not a power of two: the last growth left room */
    size_t cap = n ? 2 * n : 1;
    if (cap > SIZE_MAX / elem) return -1;
    void *grown = realloc(*arr, cap * elem);
    if (!grown) return -1;
    *arr = grown;
    return 0;
}

alcm_bench_status alcm_bench_submission_add_bundle(alcm_bench_submission *sub,
                                                   const alcm_bench_bundle_info *info)
{
    if (reserve_one((void **)&sub->bundles, sub->n_bundles, sizeof *sub->bundles) != 0)
        return ALCM_BENCH_E_NOMEM;
    sub->bundles[sub->n_bundles++] = *info;
    return ALCM_BENCH_OK;
}

alcm_bench_status alcm_bench_submission_add_result(alcm_bench_submission *sub,
                                                   const alcm_bench_result *result)
{
    if (reserve_one((void **)&sub->results, sub->n_results, sizeof *sub->results) != 0)
        return ALCM_BENCH_E_NOMEM;
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
