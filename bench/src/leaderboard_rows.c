/* leaderboard_rows.c - gathers and ranks results across submissions for the leaderboard: per
 * bundle by CAQ, and for the lossy and lossless-floats panels by ratio. */
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

/* Whether result k of submission i goes into the CAQ tables: lossy results only from the
 * submissions run at the first submission's error budget. */
static int in_caq_table(const alcm_bench_submission *subs, size_t i, size_t k, int caq_only)
{
    return !caq_only || subs[i].results[k].lossless ||
           subs[i].error_budget == subs[0].error_budget;
}

size_t lb_rows(const alcm_bench_submission *subs, size_t n, const char *bundle, int caq_only,
               lb_row **rows)
{
    size_t count = 0;
    *rows = NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < subs[i].n_results; k++)
            count += !strcmp(subs[i].results[k].bundle, bundle) &&
                     in_caq_table(subs, i, k, caq_only);
    if (!count) return 0;
    lb_row *out = malloc(count * sizeof *out);
    if (!out) return 0;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < subs[i].n_results; k++)
            if (!strcmp(subs[i].results[k].bundle, bundle) &&
                in_caq_table(subs, i, k, caq_only)) {
                out[j].r = &subs[i].results[k];
                out[j].sub = i;
                j++;
            }
    qsort(out, count, sizeof *out, by_caq);
    *rows = out;
    return count;
}

size_t lb_float_bundles(const alcm_bench_submission *subs, size_t n, const char **names,
                        size_t cap)
{
    const char *all[LB_MAX_BUNDLES];
    size_t nb = lb_bundles(subs, n, all, LB_MAX_BUNDLES), count = 0;
    for (size_t b = 0; b < nb; b++) {
        int lossy = 0;
        for (size_t i = 0; i < n && !lossy; i++)
            for (size_t k = 0; k < subs[i].n_results && !lossy; k++) {
                const alcm_bench_result *r = &subs[i].results[k];
                lossy = !r->lossless && r->rel_l2_error > 0 && !strcmp(r->bundle, all[b]);
            }
        if (lossy && count < cap) names[count++] = all[b];
    }
    return count;
}

size_t lb_budgets(const alcm_bench_submission *subs, size_t n, const char *bundle,
                  double *budgets, size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        int has = 0;
        for (size_t k = 0; k < subs[i].n_results && !has; k++)
            has = !subs[i].results[k].lossless && !strcmp(subs[i].results[k].bundle, bundle);
        if (!has) continue;
        double e = subs[i].error_budget;
        size_t j = 0;
        while (j < count && budgets[j] < e) j++;
        if ((j < count && budgets[j] == e) || count == cap) continue;
        memmove(budgets + j + 1, budgets + j, (count - j) * sizeof *budgets);
        budgets[j] = e;
        count++;
    }
    return count;
}

static int by_ratio(const void *pa, const void *pb)
{
    const lb_row *a = pa, *b = pb;
    if (a->r->ratio != b->r->ratio) return a->r->ratio > b->r->ratio ? -1 : 1;
    int c = strcmp(a->r->codec, b->r->codec);
    if (c) return c;
    return a->sub < b->sub ? -1 : a->sub > b->sub;
}

size_t lb_rows_by_ratio(const alcm_bench_submission *subs, size_t n, const char *bundle,
                        int lossless, double budget, lb_row **rows)
{
    lb_row *all;
    size_t na = lb_rows(subs, n, bundle, 0, &all), count = 0;
    *rows = NULL;
    for (size_t i = 0; i < na; i++) {
        const alcm_bench_result *r = all[i].r;
        int keep = lossless ? r->lossless
                            : !r->lossless && (budget < 0 || subs[all[i].sub].error_budget == budget);
        /* A lossy-only run holds the baseline as its one lossless result: leave it out. */
        if (keep && lossless && !strcmp(r->codec, "baseline")) {
            int others = 0;
            for (size_t k = 0; k < na && !others; k++)
                others = all[k].sub == all[i].sub && all[k].r->lossless &&
                         strcmp(all[k].r->codec, "baseline") != 0;
            keep = others;
        }
        if (keep) all[count++] = all[i];
    }
    if (!count) {
        free(all);
        return 0;
    }
    qsort(all, count, sizeof *all, by_ratio);
    *rows = all;
    return count;
}

const char *lb_tuning(const char *codec)
{
    static const struct {
        const char *codec, *note;
    } k_notes[] = {
        {"alcm", "yes: per-channel steps"},
        {"global-q", "yes: one step"},
        {"zfp", "yes: tolerance (powers of two)"},
        {"topk", "yes: k grows until it fits"},
        {"int8-zstd", "no: fixed int8 per row"},
        {"fp16", "no: fixed 16-bit cast"},
        {"bf16", "no: fixed 16-bit cast"},
    };
    for (size_t i = 0; i < sizeof k_notes / sizeof k_notes[0]; i++)
        if (!strcmp(k_notes[i].codec, codec)) return k_notes[i].note;
    return NULL;
}

const alcm_bench_bundle_info *lb_bundle_info(const alcm_bench_submission *sub,
                                             const char *bundle)
{
    for (size_t b = 0; b < sub->n_bundles; b++)
        if (!strcmp(sub->bundles[b].name, bundle)) return &sub->bundles[b];
    return NULL;
}
