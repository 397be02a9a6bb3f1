/* bench_internal.h - declarations shared by the alcm_bench sources (not installed). */
#ifndef ALCM_BENCH_INTERNAL_H
#define ALCM_BENCH_INTERNAL_H

#include "alcm_bench.h"

/* Fills err (if non-NULL) with status and a printf-style message; returns status. */
alcm_bench_status bench_fail(alcm_bench_error *err, alcm_bench_status status, const char *fmt,
                             ...) __attribute__((format(printf, 3, 4)));

/* Clears err (status OK, empty message) if non-NULL. */
void bench_ok(alcm_bench_error *err);

/* Copies src into dst[cap] with truncation and a terminating NUL. */
void bench_copy(char *dst, size_t cap, const char *src);

/* Built-in codec constructors; NULL when out of memory. */
alcm_codec *bench_codec_baseline(void);
alcm_codec *bench_codec_zstd(int level);
alcm_codec *bench_codec_lz4(void);
alcm_codec *bench_codec_mock(void);
alcm_codec *bench_codec_alcm(int lossless_only);
/* The lossy peers by name: fp16, bf16, int8-zstd, global-q, topk; NULL for another name or
 * out of memory. */
alcm_codec *bench_codec_peer(const char *name);
alcm_codec *bench_codec_zfp(void);
/* The lossless byte-plane peers for floats: planes-zstd (huffman 0) or planes-huff (1). */
alcm_codec *bench_codec_planes(int huffman);

/* Mean and coefficient of variation (sample standard deviation / mean; 0 for n < 2 or a
 * zero mean) of n values. */
void bench_mean_cv(const double *v, size_t n, double *mean, double *cv);

/* Leaderboard rows: one result and the index of its submission. */
typedef struct {
    const alcm_bench_result *r;
    size_t sub;
} lb_row;

#define LB_MAX_BUNDLES 64

/* Distinct bundle names of all submissions, the standard bundles first in their usual
 * order, then others by first appearance. Returns the count (at most cap). */
size_t lb_bundles(const alcm_bench_submission *subs, size_t n, const char **names, size_t cap);

/* Every result for bundle across submissions, sorted by CAQ (highest first, ties by codec
 * name, then submission); with caq_only, the lossy results of submissions run at another
 * error budget than the first submission's are left out (they are compared in the lossy
 * panel only). *rows is malloc'ed (NULL when none or out of memory). */
size_t lb_rows(const alcm_bench_submission *subs, size_t n, const char *bundle, int caq_only,
               lb_row **rows);

/* Float bundles: those on which some lossy result shows a non-zero error (they hold float32
 * tensors); the same order as lb_bundles. Returns the count (at most cap). */
size_t lb_float_bundles(const alcm_bench_submission *subs, size_t n, const char **names,
                        size_t cap);

/* Distinct error budgets (ascending) of the submissions holding a lossy result for bundle.
 * Returns the count (at most cap). */
size_t lb_budgets(const alcm_bench_submission *subs, size_t n, const char *bundle,
                  double *budgets, size_t cap);

/* The lossy (lossless = 0) results for bundle from submissions run at error budget
 * `budget` (budget < 0: every budget), or (lossless = 1) every lossless result for bundle
 * (a baseline only from submissions holding another lossless result there);
 * sorted by ratio (highest first, ties by codec name, then submission). *rows is malloc'ed
 * (NULL when none or out of memory). */
size_t lb_rows_by_ratio(const alcm_bench_submission *subs, size_t n, const char *bundle,
                        int lossless, double budget, lb_row **rows);

/* Whether a lossy codec's precision follows the error budget, as a short phrase for the
 * built-in codecs ("yes ...", "no: ..."); NULL for a codec not known here (plugins). */
const char *lb_tuning(const char *codec);

/* Info of bundle in submission sub, or NULL. */
const alcm_bench_bundle_info *lb_bundle_info(const alcm_bench_submission *sub,
                                             const char *bundle);

#endif
