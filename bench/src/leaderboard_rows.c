/* leaderboard_rows.c - gathers and ranks results across submissions for the leaderboard. */
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

static const char *const k_standard[] = {
    "text_medium", "image_small", "mixed_stream", "grad_synthetic", "grad_fmnist",
};

size_t lb_bundles(const alcm_bench_submission *subs, size_t n, const char **names, size_t cap)
{
    size_t count = 0;
    for (size_t s = 0; s < sizeof k_standard / sizeof k_standard[0]; s++)
        for (size_t i = 0; i < n; i++)
            if (lb_bundle_info(&subs[i], k_standard[s]) && count < cap) {
                names[count++] = k_standard[s];
                break;
            }
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < subs[i].n_bundles; b++) {
            const char *name = subs[i].bundles[b].name;
            int seen = 0;
            for (size_t k = 0; k < count; k++) seen |= !strcmp(names[k], name);
            if (!seen && count < cap) names[count++] = name;
        }
    return count;
}

static int by_caq(const void *pa, const void *pb)
{
    const lb_row *a = pa, *b = pb;
    if (a->r->caq != b->r->caq) return a->r->caq > b->r->caq ? -1 : 1;
    int c = strcmp(a->r->codec, b->r->codec);
    if (c) return c;
    return a->sub < b->sub ? -1 : a->sub > b->sub;
}

size_t lb_rows(const alcm_bench_submission *subs, size_t n, const char *bundle, lb_row **rows)
{
    size_t count = 0;
    *rows = NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < subs[i].n_results; k++)
            count += !strcmp(subs[i].results[k].bundle, bundle);
    if (!count) return 0;
    lb_row *out = malloc(count * sizeof *out);
    if (!out) return 0;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < subs[i].n_results; k++)
            if (!strcmp(subs[i].results[k].bundle, bundle)) {
                out[j].r = &subs[i].results[k];
                out[j].sub = i;
                j++;
            }
    qsort(out, count, sizeof *out, by_caq);
    *rows = out;
    return count;
}

const alcm_bench_bundle_info *lb_bundle_info(const alcm_bench_submission *sub,
                                             const char *bundle)
{
    for (size_t b = 0; b < sub->n_bundles; b++)
        if (!strcmp(sub->bundles[b].name, bundle)) return &sub->bundles[b];
    return NULL;
}
