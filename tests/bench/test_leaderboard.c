/* test_leaderboard.c - the markdown and SVG leaderboard writers: ranking by CAQ per bundle,
 * deltas, the adaptive badge, submission metadata, escaping, and a well-formed chart. */
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
    assert_int_equal(count(md, "🔬"), 4 + 1);   /* 4 alcm rows + the legend sentence */
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
    assert_int_equal(count(svg, "<title>"), 6);   /* one per point */
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
        cmocka_unit_test(test_empty_leaderboard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
