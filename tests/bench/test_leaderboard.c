/* test_leaderboard.c - the markdown and SVG leaderboard writers: ranking by CAQ per bundle,
 * deltas, the adaptive badge, submission metadata, escaping, a well-formed chart, and the
 * lossy (matched error) and lossless-floats panels of the float bundles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_bench.h"

static void add(alcm_bench_submission *s, const char *bundle, const char *codec, double ratio,
                double cpu, int adaptive, double base_caq)
{
    alcm_bench_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.bundle, sizeof r.bundle, "%s", bundle);
    snprintf(r.codec, sizeof r.codec, "%s", codec);
    r.adaptive = adaptive;
    r.lossless = !adaptive;
    r.verified = r.deterministic = 1;
    r.runs = 5;
    r.raw_bytes = 1000000;
    r.compressed_bytes = (uint64_t)(1000000 / ratio);
    r.ratio = ratio;
    r.cpu_seconds = cpu;
    r.caq = ratio / (cpu + 1);
    r.caq_cv = 0.0042;
    r.compress_mb_s = 1.0 / cpu;
    r.decompress_mb_s = 4.0 / cpu;
    r.rel_l2_error = adaptive ? 0.0087 : 0;
    r.delta_vs_baseline_pct = base_caq > 0 ? 100 * (r.caq / base_caq - 1) : 0;
    assert_int_equal(alcm_bench_submission_add_result(s, &r), ALCM_BENCH_OK);
}

static void make(alcm_bench_submission *s, const char *label, double alcm_ratio)
{
    memset(s, 0, sizeof *s);
    alcm_bench_fill_metadata(s);
    snprintf(s->label, sizeof s->label, "%s", label);
    s->runs = 5;
    s->repeats = 3;
    s->warmup_runs = 1;
    s->error_budget = 0.01;
    const char *names[2] = {"grad_fmnist", "text_medium"};   /* out of the usual order */
    for (int b = 0; b < 2; b++) {
        alcm_bench_bundle_info bi;
        memset(&bi, 0, sizeof bi);
        snprintf(bi.name, sizeof bi.name, "%s", names[b]);
        memset(bi.manifest_sha256, 'c', 64);
        bi.files = 2;
        bi.bytes = 1000000;
        assert_int_equal(alcm_bench_submission_add_bundle(s, &bi), ALCM_BENCH_OK);
        double base = 1.4 / 1.03;
        add(s, names[b], "baseline", 1.4, 0.03, 0, base);
        add(s, names[b], "lz4", 1.01, 0.001, 0, base);
        add(s, names[b], "alcm", alcm_ratio, 0.01, 1, base);
    }
}

static char *render(int svg, const alcm_bench_submission *subs, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    alcm_bench_status st = svg ? alcm_bench_leaderboard_svg(f, subs, n)
                               : alcm_bench_leaderboard_md(f, subs, n, "leaderboard.svg");
    assert_int_equal(st, ALCM_BENCH_OK);
    assert_int_equal(fclose(f), 0);
    assert_non_null(buf);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void test_markdown_ranks_by_caq(void **state)
{
    (void)state;
    alcm_bench_submission s[2];
    make(&s[0], "reference | run", 6.0);
    make(&s[1], "second <machine>", 5.0);
    char *md = render(0, s, 2);
    /* The usual bundle order, whatever the submission's order. */
    const char *text = strstr(md, "## text\\_medium"), *grad = strstr(md, "## grad\\_fmnist");
    assert_non_null(text);
    assert_non_null(grad);
    assert_true(text < grad);
    /* Within a bundle: alcm S1 (CAQ 5.94), alcm S2 (4.95), baseline (1.359) x2, lz4 (1.009). */
    const char *r1 = strstr(text, "| 1 | alcm 🔬 |");
    const char *r2 = strstr(text, "| 2 | alcm 🔬 |");
    const char *r3 = strstr(text, "| 3 | **baseline** |");
    const char *r4 = strstr(text, "| 5 | lz4 |");   /* rank 4: S2's baseline */
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(r3);
    assert_non_null(r4);
    assert_true(r1 < r2 && r2 < r3 && r3 < r4 && r4 < grad);
    assert_non_null(strstr(r1, "| S1 |"));
    assert_true(strstr(r2, "| S2 |") < r3);
    /* alcm: CAQ 6/1.01 = 5.941, vs baseline 1.4/1.03 = 1.359: +337.1 %. */
    assert_non_null(strstr(r1, "| 5.941 | +337.1 % | 6.000 |"));
    assert_non_null(strstr(r1, "0.870 %"));
    assert_non_null(strstr(r3, "| — |"));
    assert_non_null(strstr(md, "leaderboard.svg"));
    /* Submissions: labels escaped for markdown, metadata listed. */
    assert_non_null(strstr(md, "reference \\| run"));
    assert_non_null(strstr(md, "second &lt;machine&gt;"));
    assert_non_null(strstr(md, "| S2 |"));
    assert_non_null(strstr(md, s[0].ver_zstd));
    assert_non_null(strstr(md, "| 5 × best of 3 (+1 warm-up) |"));
    /* 4 alcm rows + the legend sentence in the CAQ tables (alcm's error makes both bundles
     * float bundles: their lossy panels list alcm again, 2 bundles x 2 submissions) */
    assert_int_equal(count(md, "🔬"), 4 + 1 + 4);
    free(md);
    alcm_bench_submission_clear(&s[0]);
    alcm_bench_submission_clear(&s[1]);
}

static void test_svg_is_well_formed(void **state)
{
    (void)state;
    alcm_bench_submission s[1];
    make(&s[0], "svg & co", 6.0);
    char *svg = render(1, s, 1);
    assert_true(!strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39));
    size_t len = strlen(svg);
    assert_true(len > 7 && !strcmp(svg + len - 7, "</svg>\n"));
    assert_int_equal(count(svg, "<g>"), count(svg, "</g>"));
    assert_int_equal(count(svg, "<text"), count(svg, "</text>"));
    /* one per point: 6 in the bundle panels, then alcm in each lossy panel and the
     * baseline and lz4 in each lossless-floats panel */
    assert_int_equal(count(svg, "<title>"), 6 + 2 + 4);
    assert_non_null(strstr(svg, ">text_medium</text>"));
    assert_non_null(strstr(svg, ">grad_fmnist</text>"));
    assert_non_null(strstr(svg, "compress MB/s (log scale)"));
    assert_non_null(strstr(svg, "baseline ratio"));
    /* Legend: every codec once, built-ins in registry order (baseline, alcm, ..., lz4). */
    const char *lb = strstr(svg, "fill=\"#222\">baseline</text>");
    const char *la = strstr(svg, "fill=\"#222\">alcm</text>");
    const char *l4 = strstr(svg, "fill=\"#222\">lz4</text>");
    assert_non_null(lb);
    assert_non_null(la);
    assert_non_null(l4);
    assert_true(lb < la && la < l4);
    /* Decade ticks of the log axis: compress MB/s span 1/0.03 = 33 .. 1/0.001 = 1000. */
    assert_non_null(strstr(svg, ">10</text>"));
    assert_non_null(strstr(svg, ">1k</text>"));
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    free(svg);
    alcm_bench_submission_clear(&s[0]);
}

/* Validated submissions can hold speeds over hundreds of decades (with cpu_seconds at 0 the
 * compress speed is any finite number; the parser accepts 1e-15 to 1e308 MB/s in one file):
 * the chart labels a bounded number of decades instead of drawing every one, so its size
 * does not grow with the values (here 10 818 lines and 870 KB before). */
static void test_svg_size_bounded_for_extreme_speeds(void **state)
{
    (void)state;
    alcm_bench_submission s;
    make(&s, "extremes", 6.0);
    char *plain = render(1, &s, 1);
    for (size_t i = 0; i < s.n_results; i++) {
        if (!strcmp(s.results[i].codec, "lz4")) s.results[i].compress_mb_s = 1e300;
        if (!strcmp(s.results[i].codec, "alcm")) s.results[i].compress_mb_s = 1e-300;
    }
    char *svg = render(1, &s, 1);
    fprintf(stderr, "chart: %zu bytes, %zu lines; with extreme speeds %zu bytes, %zu lines\n",
            strlen(plain), count(plain, "<line"), strlen(svg), count(svg, "<line"));
    assert_true(count(svg, "<line") <= count(plain, "<line"));
    assert_true(strlen(svg) < strlen(plain) * 3 / 2);
    assert_int_equal(count(svg, "<g>"), count(svg, "</g>"));
    assert_int_equal(count(svg, "<text"), count(svg, "</text>"));
    /* Both ends of the axis are labelled in powers of ten. */
    assert_non_null(strstr(svg, ">1e-30"));    /* 1e-300 or 1e-301 */
    assert_non_null(strstr(svg, ">1e30"));     /* 1e300 to 1e308 */
    assert_null(strstr(svg, ">0.0000"));       /* no decimals cut off */
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    free(plain);
    free(svg);
    alcm_bench_submission_clear(&s);
}

/* A result with every figure consistent, so that the fixture survives the results parser. */
static void add_full(alcm_bench_submission *s, const char *bundle, const char *codec,
                     int lossless, double ratio, double cpu, double base_caq, double err)
{
    alcm_bench_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.bundle, sizeof r.bundle, "%s", bundle);
    snprintf(r.codec, sizeof r.codec, "%s", codec);
    r.adaptive = !strncmp(codec, "alcm", 4);
    r.lossless = lossless;
    r.verified = r.deterministic = 1;
    r.runs = s->runs;
    r.raw_bytes = 1000000;
    r.compressed_bytes = (uint64_t)(1000000 / ratio);
    r.ratio = 1000000.0 / (double)r.compressed_bytes;
    r.cpu_seconds = cpu;
    r.caq = r.ratio / (cpu + 1);
    r.compress_mb_s = 1.0 / cpu;
    r.decompress_mb_s = 3.0 / cpu;
    r.rel_l2_error = err;
    r.max_item_rel_l2_error = err * 1.004;
    r.delta_vs_baseline_pct = 100 * (r.caq / (base_caq > 0 ? base_caq : r.caq) - 1);
    assert_int_equal(alcm_bench_submission_add_result(s, &r), ALCM_BENCH_OK);
}

/* Two submissions as bench/run-leaderboard writes them: every codec at a 1 % budget on a
 * bytes bundle and a float bundle, and the lossy codecs again at 5 % on the float bundle.
 * They go through the results JSON writer and the strict parser before rendering. */
static void make_panels(alcm_bench_submission out[2])
{
    alcm_bench_submission s[2];
    const double budget[2] = {0.01, 0.05};
    for (int k = 0; k < 2; k++) {
        memset(&s[k], 0, sizeof s[k]);
        alcm_bench_fill_metadata(&s[k]);
        snprintf(s[k].label, sizeof s[k].label, "panels %d", k);
        s[k].runs = 3;
        s[k].repeats = 1;
        s[k].error_budget = budget[k];
        for (int b = k; b < 2; b++) {   /* the 5 % run has the float bundle only */
            alcm_bench_bundle_info bi;
            memset(&bi, 0, sizeof bi);
            snprintf(bi.name, sizeof bi.name, "%s", b ? "grad_fmnist" : "text_medium");
            memset(bi.manifest_sha256, 'd', 64);
            bi.files = 48;
            bi.bytes = 1000000;
            assert_int_equal(alcm_bench_submission_add_bundle(&s[k], &bi), ALCM_BENCH_OK);
        }
    }
    double base = 1000000.0 / (double)(uint64_t)(1000000 / 1.5) / 1.2;   /* baseline CAQ */
    /* S1, 1 %: a bytes bundle (lossy codecs code it exactly) and the float bundle. */
    add_full(&s[0], "text_medium", "baseline", 1, 1.5, 0.2, base, 0);
    add_full(&s[0], "text_medium", "alcm", 0, 3.0, 0.01, base, 0);
    add_full(&s[0], "text_medium", "fp16", 0, 2.5, 0.01, base, 0);
    add_full(&s[0], "grad_fmnist", "baseline", 1, 1.5, 0.2, base, 0);
    add_full(&s[0], "grad_fmnist", "alcm", 0, 8.0, 0.01, base, 0.0099);
    add_full(&s[0], "grad_fmnist", "int8-zstd", 0, 5.0, 0.005, base, 0.008);
    add_full(&s[0], "grad_fmnist", "fp16", 0, 2.0, 0.002, base, 0.0002);
    add_full(&s[0], "grad_fmnist", "alcm-lossless", 1, 1.6, 0.01, base, 0);
    add_full(&s[0], "grad_fmnist", "planes-zstd", 1, 1.58, 0.004, base, 0);
    /* S2, 5 %: the lossy codecs (and the baseline, which always runs). */
    add_full(&s[1], "grad_fmnist", "baseline", 1, 1.5, 0.2, base, 0);
    add_full(&s[1], "grad_fmnist", "alcm", 0, 12.0, 0.01, base, 0.0498);
    add_full(&s[1], "grad_fmnist", "int8-zstd", 0, 5.0, 0.005, base, 0.008);
    for (int k = 0; k < 2; k++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        alcm_bench_error err;
        assert_int_equal(alcm_bench_submission_write(f, &s[k], &err), ALCM_BENCH_OK);
        assert_int_equal(fclose(f), 0);
        alcm_bench_status st = alcm_bench_submission_parse(buf, len, &out[k], &err);
        if (st != ALCM_BENCH_OK) fail_msg("%s", err.message);
        free(buf);
        alcm_bench_submission_clear(&s[k]);
    }
}

static void test_lossy_and_lossless_panels(void **state)
{
    (void)state;
    alcm_bench_submission s[2];
    make_panels(s);
    char *md = render(0, s, 2);
    const char *lossy = strstr(md, "## Lossy codecs at matched error");
    const char *lossless = strstr(md, "## Lossless floats");
    const char *subs = strstr(md, "## Submissions");
    assert_non_null(lossy);
    assert_non_null(lossless);
    assert_non_null(subs);
    assert_true(lossy < lossless && lossless < subs);
    /* Only the float bundle gets panels: text_medium's lossy results have no error. */
    assert_null(strstr(lossy, "### text\\_medium"));
    const char *t1 = strstr(lossy, "### grad\\_fmnist at 1 % error");
    const char *t5 = strstr(lossy, "### grad\\_fmnist at 5 % error");
    assert_non_null(t1);
    assert_non_null(t5);
    assert_true(t1 < t5 && t5 < lossless);
    /* 1 %: ranked by ratio; bits/value = 32 / ratio; errors; tuning; submission. */
    const char *a = strstr(t1, "| 1 | alcm 🔬 | 8.000 | 4.000 | 100.0 | 300.0 | 0.990 % | 0.994 % | "
                               "yes: per-channel steps | S1 |");
    const char *i8 = strstr(t1, "| 2 | int8-zstd | 5.000 | 6.400 | 200.0 | 600.0 | 0.800 % | "
                                "0.803 % | no: fixed int8 per row | S1 |");
    const char *h = strstr(t1, "| 3 | fp16 | 2.000 | 16.00 |");
    assert_non_null(a);
    assert_non_null(i8);
    assert_non_null(h);
    assert_true(a < i8 && i8 < h && h < t5);
    assert_non_null(strstr(h, "0.020 % | 0.020 % | no: fixed 16-bit cast | S1 |"));
    const char *al = strstr(t1, "alcm-lossless");   /* lossless codecs: not in the lossy panel */
    assert_true(al && al > lossless);
    assert_non_null(strstr(t1, "alcm's ratio is 1.60× that of the best other lossy codec "
                               "(int8-zstd, 5.000)."));
    /* 5 %: the second submission's rows only. */
    const char *a5 = strstr(t5, "| 1 | alcm 🔬 | 12.00 | 2.667 |");
    assert_non_null(a5);
    assert_true(a5 < lossless);
    assert_non_null(strstr(a5, "| 4.980 % | 5.000 % |"));
    assert_non_null(strstr(t5, "| 2 | int8-zstd | 5.000 | 6.400 |"));
    const char *r3 = strstr(t5, "| 3 |");
    assert_true(!r3 || r3 > lossless);   /* two lossy codecs at 5 % */
    assert_non_null(strstr(t5, "alcm's ratio is 2.40×"));
    /* Lossless floats: by ratio, delta vs the same submission's baseline; the 5 % run's
     * baseline (its only lossless result) is left out. */
    const char *l0 = strstr(lossless, "### grad\\_fmnist, lossless");
    assert_non_null(l0);
    const char *la = strstr(l0, "| 1 | alcm-lossless 🔬 | 1.600 | 20.00 | +6.7 % |");
    const char *lp = strstr(l0, "| 2 | planes-zstd | 1.580 | 20.25 | +5.3 % |");
    const char *lb = strstr(l0, "| 3 | **baseline** | 1.500 | 21.33 | — |");
    assert_non_null(la);
    assert_non_null(lp);
    assert_non_null(lb);
    assert_true(la < lp && lp < lb && lb < subs);
    assert_non_null(strstr(lb, "| S1 |"));
    const char *r4 = strstr(l0, "| 4 |");
    assert_true(!r4 || r4 > subs);   /* the 5 % run's lone baseline is not listed */
    assert_non_null(strstr(l0, "alcm-lossless: ratio +1.3 % against the best other lossless "
                               "codec (planes-zstd, 1.580"));
    /* The CAQ tables give each lossy error with the budget it was held to, and hold the
     * lossy results of the first submission's budget only (the 5 % run's baseline stays). */
    const char *caq = strstr(md, "## grad\\_fmnist");
    assert_non_null(caq);
    assert_true(caq < lossy);
    assert_non_null(strstr(caq, "| 0.990 % of 1 % |"));
    const char *e5 = strstr(md, "4.980 % of 5 %");
    assert_true(!e5 || e5 > lossy);
    const char *b2 = strstr(caq, "| **baseline** |");
    assert_non_null(b2);
    const char *b3 = strstr(b2 + 1, "| **baseline** |");   /* S1's and S2's */
    assert_non_null(b3);
    assert_true(b3 < lossy);
    free(md);

    char *svg = render(1, s, 2);
    assert_int_equal(count(svg, "<g>"), count(svg, "</g>"));
    assert_int_equal(count(svg, "<text"), count(svg, "</text>"));
    assert_non_null(strstr(svg, ">grad_fmnist: lossy</text>"));
    assert_non_null(strstr(svg, ">grad_fmnist: lossless</text>"));
    assert_null(strstr(svg, ">text_medium: lossy</text>"));
    assert_non_null(strstr(svg, "Lossy codecs at matched error"));
    assert_non_null(strstr(svg, "Lossless floats"));
    assert_non_null(strstr(svg, "error budget 1 % (filled), 5 % (hollow)"));
    /* 7 + 3 points in the main panels (not S2's lossy results), 5 lossy, 3 lossless: one
     * title each */
    assert_int_equal(count(svg, "<title>"), 7 + 3 + 5 + 3);
    assert_non_null(strstr(svg, "error 4.980 % at a 5 % budget"));
    /* alcm's and int8-zstd's two budgets are joined by a line of their colour */
    assert_int_equal(count(svg, "stroke-opacity=\"0.6\""), 2);
    assert_int_equal(count(svg, "r=\"4.5\" fill=\"#ffffff\""), 2);   /* hollow: 5 % */
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    free(svg);
    alcm_bench_submission_clear(&s[0]);
    alcm_bench_submission_clear(&s[1]);
}

static void test_empty_leaderboard(void **state)
{
    (void)state;
    char *md = render(0, NULL, 0);
    assert_non_null(strstr(md, "# ALCM CAQ leaderboard"));
    assert_null(strstr(md, "| 1 |"));
    free(md);
    char *svg = render(1, NULL, 0);
    assert_non_null(strstr(svg, "No results."));
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_ranks_by_caq),
        cmocka_unit_test(test_svg_is_well_formed),
        cmocka_unit_test(test_svg_size_bounded_for_extreme_speeds),
        cmocka_unit_test(test_lossy_and_lossless_panels),
        cmocka_unit_test(test_empty_leaderboard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
