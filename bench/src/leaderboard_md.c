/* leaderboard_md.c - writes leaderboard.md: per bundle, results ranked by CAQ; on the float
 * bundles the lossy codecs at matched error and the lossless codecs by ratio; then the
 * submissions they came from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

/* Writes text with the characters that would break a table cell or inject markup escaped. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '|': fputs("\\|", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '*': case '_': case '`': case '[': case ']': case '\\':
            fputc('\\', f);
            fputc(*s, f);
            break;
        default: fputc(*s, f);
        }
    }
}

/* Three significant digits, at least one decimal: 0.0123, 1.23, 12.3, 123.4, 12345. */
static void md_num(FILE *f, double v)
{
    double a = fabs(v);
    if (a >= 1000) fprintf(f, "%.0f", v);
    else if (a >= 100) fprintf(f, "%.1f", v);
    else if (a >= 10) fprintf(f, "%.2f", v);
    else if (a >= 1 || a == 0) fprintf(f, "%.3f", v);
    else fprintf(f, "%.3g", v);
}

static void md_bytes(FILE *f, uint64_t b)
{
    if (b >= 1000000) fprintf(f, "%.2f MB", (double)b / 1e6);
    else fprintf(f, "%.1f kB", (double)b / 1e3);
}

/* A budget as a percentage: 1 %, 5 %, 0.5 %. */
static void md_pct(FILE *f, double fraction)
{
    fprintf(f, "%g %%", 100 * fraction);
}

/* The best row of rows[0..nr) whose codec is not `codec`, or NULL. */
static const lb_row *best_other(const lb_row *rows, size_t nr, const char *codec)
{
    for (size_t i = 0; i < nr; i++)
        if (strcmp(rows[i].r->codec, codec) != 0) return &rows[i];
    return NULL;
}

static const lb_row *find_codec(const lb_row *rows, size_t nr, const char *codec)
{
    for (size_t i = 0; i < nr; i++)
        if (!strcmp(rows[i].r->codec, codec)) return &rows[i];
    return NULL;
}

static void md_codec(FILE *f, const alcm_bench_result *r)
{
    int is_base = !strcmp(r->codec, "baseline");
    if (is_base) fputs("**", f);
    md_text(f, r->codec);
    if (is_base) fputs("**", f);
    if (r->adaptive) fputs(" 🔬", f);
}

/* The first cells of a float panel's row: rank, codec, ratio († when not deterministic)
 * and bits per float32 value. */
static void md_float_row_head(FILE *f, size_t rank, const alcm_bench_result *r)
{
    fprintf(f, "| %zu | ", rank);
    md_codec(f, r);
    fputs(" | ", f);
    md_num(f, r->ratio);
    if (!r->deterministic) fputs(" †", f);
    fputs(" | ", f);
    md_num(f, 32.0 / r->ratio);
    fputs(" | ", f);
}

/* "Lossy codecs at matched error": per float bundle and error budget, every lossy result
 * from the submissions run at that budget, ranked by ratio. */
static void md_lossy(FILE *f, const alcm_bench_submission *subs, size_t n, const char **fb,
                     size_t nf)
{
    fputs("## Lossy codecs at matched error\n\n", f);
    fputs("Every lossy codec on the float bundles, held to the same relative L2 error budget: "
          "one table per bundle and budget, from the submissions run at that budget, ranked "
          "by ratio. **bits/value** = 8 × compressed bytes per 4 raw bytes (32 / ratio on "
          "float32 tensors). **rel. L2 error** is the achieved error over the bundle, **max "
          "item** the largest per tensor. **tuned** says whether the codec's precision "
          "follows the budget: a codec that cannot be tuned (a fixed cast, fixed int8) "
          "is shown at its own achieved error, below the budget. A peer that cannot hold "
          "a tensor within the budget stores it exactly (docs/BENCHMARKS.md).\n\n", f);
    for (size_t b = 0; b < nf; b++) {
        double budgets[16];
        size_t nbud = lb_budgets(subs, n, fb[b], budgets, 16);
        for (size_t k = 0; k < nbud; k++) {
            lb_row *rows;
            size_t nr = lb_rows_by_ratio(subs, n, fb[b], 0, budgets[k], &rows);
            if (!nr) continue;
            fputs("### ", f);
            md_text(f, fb[b]);
            fprintf(f, " at %g %% error\n\n", 100 * budgets[k]);
            fputs("| # | codec | ratio | bits/value | compress MB/s | decompress MB/s | "
                  "rel. L2 error | max item | tuned | submission |\n", f);
            fputs("|---:|---|---:|---:|---:|---:|---:|---:|---|---|\n", f);
            for (size_t i = 0; i < nr; i++) {
                const alcm_bench_result *r = rows[i].r;
                md_float_row_head(f, i + 1, r);
                md_num(f, r->compress_mb_s);
                fputs(" | ", f);
                md_num(f, r->decompress_mb_s);
                fputs(" | ", f);
                fprintf(f, "%.3f %% | %.3f %%", 100 * r->rel_l2_error,
                        100 * r->max_item_rel_l2_error);
                fputs(" | ", f);
                const char *t = lb_tuning(r->codec);
                md_text(f, t ? t : "—");
                fprintf(f, " | S%zu |\n", rows[i].sub + 1);
            }
            const lb_row *a = find_codec(rows, nr, "alcm"), *o = best_other(rows, nr, "alcm");
            if (a && o) {
                fputs("\nalcm's ratio is ", f);
                fprintf(f, "%.2f× that of the best other lossy codec (", a->r->ratio / o->r->ratio);
                md_text(f, o->r->codec);
                fputs(", ", f);
                md_num(f, o->r->ratio);
                fputs(").\n", f);
            }
            fputc('\n', f);
            free(rows);
        }
    }
}

/* "Lossless floats": per float bundle, every lossless result ranked by ratio. */
static void md_lossless(FILE *f, const alcm_bench_submission *subs, size_t n, const char **fb,
                        size_t nf)
{
    fputs("## Lossless floats\n\n", f);
    fputs("Every lossless codec on the float bundles, ranked by ratio: ALCM's lossless "
          "profile (`alcm-lossless`), the simple byte-plane peers (`planes-zstd`, "
          "`planes-huff`: the four byte planes of float32, each coded on its own by zstd-1 "
          "or DEFLATE Huffman-only), general-purpose coders, and zlib-6 over the raw bytes "
          "(`baseline`, the original reference). **Δ ratio** compares with that baseline "
          "in the same submission.\n\n", f);
    for (size_t b = 0; b < nf; b++) {
        lb_row *rows;
        size_t nr = lb_rows_by_ratio(subs, n, fb[b], 1, -1, &rows);
        if (!nr) continue;
        fputs("### ", f);
        md_text(f, fb[b]);
        fputs(", lossless\n\n", f);
        fputs("| # | codec | ratio | bits/value | Δ ratio vs baseline | compress MB/s | "
              "decompress MB/s | submission |\n", f);
        fputs("|---:|---|---:|---:|---:|---:|---:|---|\n", f);
        for (size_t i = 0; i < nr; i++) {
            const alcm_bench_result *r = rows[i].r;
            const alcm_bench_result *base = NULL;
            for (size_t k = 0; k < subs[rows[i].sub].n_results; k++) {
                const alcm_bench_result *x = &subs[rows[i].sub].results[k];
                if (!strcmp(x->bundle, fb[b]) && !strcmp(x->codec, "baseline")) base = x;
            }
            md_float_row_head(f, i + 1, r);
            if (!base || base == r) fputs("—", f);
            else fprintf(f, "%+.1f %%", 100 * (r->ratio / base->ratio - 1));
            fputs(" | ", f);
            md_num(f, r->compress_mb_s);
            fputs(" | ", f);
            md_num(f, r->decompress_mb_s);
            fprintf(f, " | S%zu |\n", rows[i].sub + 1);
        }
        const lb_row *a = find_codec(rows, nr, "alcm-lossless");
        const lb_row *o = NULL;
        for (size_t i = 0; i < nr && !o; i++)
            if (strcmp(rows[i].r->codec, "alcm-lossless") && strcmp(rows[i].r->codec, "baseline"))
                o = &rows[i];
        if (a && o) {
            fprintf(f, "\nalcm-lossless: ratio %+.1f %% against the best other lossless codec (",
                    100 * (a->r->ratio / o->r->ratio - 1));
            md_text(f, o->r->codec);
            fputs(", ", f);
            md_num(f, o->r->ratio);
            fputs(" at ", f);
            md_num(f, o->r->compress_mb_s);
            fputs(" MB/s; alcm-lossless ", f);
            md_num(f, a->r->compress_mb_s);
            fputs(" MB/s).\n", f);
        }
        fputc('\n', f);
        free(rows);
    }
}

alcm_bench_status alcm_bench_leaderboard_md(FILE *f, const alcm_bench_submission *subs,
                                            size_t n, const char *svg_name)
{
    if (!f || (!subs && n)) return ALCM_BENCH_E_ARG;
    const char *bundles[LB_MAX_BUNDLES];
    size_t nb = lb_bundles(subs, n, bundles, LB_MAX_BUNDLES);

    fputs("# ALCM CAQ leaderboard\n\n", f);
    fputs("Generated by `alcm-bench leaderboard` from verified `alcm-bench bench` results; regenerate with "
          "`bench/run-leaderboard` (docs/BENCHMARKS.md).\n\n", f);
    fputs("**CAQ** = ratio / (cpu_seconds + 1), where cpu_seconds is the thread CPU time to "
          "compress the whole bundle once; higher is better. **Δ vs baseline** compares CAQ "
          "with zlib level 6 over the raw bytes measured in the same run. Ratios are "
          "raw bytes / compressed bytes over the bundle; MB/s are 10⁶ bytes per CPU second. "
          "Every blob was decompressed and verified (byte-exact, or within the error budget "
          "for lossy codecs on float tensors) before any figure was kept. "
          "🔬 marks adaptive codecs; † marks a codec whose blobs differed between runs. "
          "Lossy results run at another error budget than the first submission's appear "
          "in the lossy panel only.\n\n", f);
    if (svg_name) {
        fputs("![Compression ratio against compression speed, one panel per bundle](", f);
        md_text(f, svg_name);
        fputs(")\n\n", f);
    }
    for (size_t b = 0; b < nb; b++) {
        lb_row *rows;
        size_t nr = lb_rows(subs, n, bundles[b], 1, &rows);
        if (!nr) continue;
        fputs("## ", f);
        md_text(f, bundles[b]);
        fputs("\n\n", f);
        const alcm_bench_bundle_info *bi = lb_bundle_info(&subs[rows[0].sub], bundles[b]);
        if (bi) {
            md_bytes(f, bi->bytes);
            fprintf(f, " in %u file%s, manifest sha256 `%.12s…`\n\n", (unsigned)bi->files,
                    bi->files == 1 ? "" : "s", bi->manifest_sha256);
        }
        fputs("| # | codec | CAQ | Δ vs baseline | ratio | CPU s | compress MB/s | "
              "decompress MB/s | rel. L2 error | CAQ CV | submission |\n", f);
        fputs("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n", f);
        for (size_t i = 0; i < nr; i++) {
            const alcm_bench_result *r = rows[i].r;
            fprintf(f, "| %zu | ", i + 1);
            int is_base = !strcmp(r->codec, "baseline");
            if (is_base) fputs("**", f);
            md_text(f, r->codec);
            if (is_base) fputs("**", f);
            if (r->adaptive) fputs(" 🔬", f);
            fputs(" | ", f);
            md_num(f, r->caq);
            fputs(" | ", f);
            if (is_base) fputs("—", f);
            else fprintf(f, "%+.1f %%", r->delta_vs_baseline_pct);
            fputs(" | ", f);
            md_num(f, r->ratio);
            if (!r->deterministic) fputs(" †", f);
            fputs(" | ", f);
            md_num(f, r->cpu_seconds);
            fputs(" | ", f);
            md_num(f, r->compress_mb_s);
            fputs(" | ", f);
            md_num(f, r->decompress_mb_s);
            fputs(" | ", f);
            if (r->lossless) fputs("exact", f);
            else if (r->rel_l2_error == 0) fputs("0 (exact)", f);
            else fprintf(f, "%.3f %%", 100 * r->rel_l2_error);
            if (!r->lossless && r->rel_l2_error > 0) {   /* the budget it was held to */
                fputs(" of ", f);
                md_pct(f, subs[rows[i].sub].error_budget);
            }
            fputs(" | ", f);
            fprintf(f, "%.2f %%", 100 * r->caq_cv);
            fprintf(f, " | S%zu |\n", rows[i].sub + 1);
        }
        fputc('\n', f);
        free(rows);
    }
    const char *fb[LB_MAX_BUNDLES];
    size_t nf = lb_float_bundles(subs, n, fb, LB_MAX_BUNDLES);
    if (nf) {
        md_lossy(f, subs, n, fb, nf);
        md_lossless(f, subs, n, fb, nf);
    }
    fputs("## Submissions\n\n", f);
    fputs("| id | label | date (UTC) | machine | build | runs | versions | error budget |\n", f);
    fputs("|---|---|---|---|---|---|---|---:|\n", f);
    for (size_t i = 0; i < n; i++) {
        const alcm_bench_submission *s = &subs[i];
        fprintf(f, "| S%zu | ", i + 1);
        md_text(f, s->label);
        fputs(" | ", f);
        md_text(f, s->date_utc);
        fputs(" | ", f);
        md_text(f, s->cpu_model);
        fprintf(f, ", %u CPU%s, ", (unsigned)s->cpus, s->cpus == 1 ? "" : "s");
        md_text(f, s->os);
        fputs(" | ", f);
        md_text(f, s->compiler);
        fputs(", ", f);
        md_text(f, s->build);
        fprintf(f, " | %u", (unsigned)s->runs);
        if (s->repeats > 1) fprintf(f, " × best of %u", (unsigned)s->repeats);
        fprintf(f, " (+%u warm-up) | alcm ", (unsigned)s->warmup_runs);
        md_text(f, s->ver_alcm);
        fputs(", zlib ", f);
        md_text(f, s->ver_zlib);
        fputs(", zstd ", f);
        md_text(f, s->ver_zstd);
        fputs(", lz4 ", f);
        md_text(f, s->ver_lz4);
        fprintf(f, ", codec ABI %u | %g |\n", (unsigned)s->codec_abi, s->error_budget);
    }
    fputs("\nBundle manifests per submission (results are comparable only between equal "
          "manifests):\n\n| bundle |", f);
    for (size_t i = 0; i < n; i++) fprintf(f, " S%zu |", i + 1);
    fputs("\n|---|", f);
    for (size_t i = 0; i < n; i++) fputs("---|", f);
    fputc('\n', f);
    for (size_t b = 0; b < nb; b++) {
        fputs("| ", f);
        md_text(f, bundles[b]);
        fputs(" |", f);
        for (size_t i = 0; i < n; i++) {
            const alcm_bench_bundle_info *bi = lb_bundle_info(&subs[i], bundles[b]);
            if (bi) fprintf(f, " `%.12s` |", bi->manifest_sha256);
            else fputs(" — |", f);
        }
        fputc('\n', f);
    }
    return ferror(f) ? ALCM_BENCH_E_IO : ALCM_BENCH_OK;
}
