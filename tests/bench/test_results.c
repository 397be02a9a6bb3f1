/* test_results.c - results JSON: the writer's output parses back to the same figures, and the
 * parser rejects malformed, incomplete, inconsistent, non-finite and unverified submissions
 * with a message naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alcm_bench.h"

static void result(alcm_bench_result *r, const char *bundle, const char *codec, double ratio,
                   double cpu, int lossless, double err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->bundle, sizeof r->bundle, "%s", bundle);
    snprintf(r->codec, sizeof r->codec, "%s", codec);
    r->adaptive = !strcmp(codec, "alcm");
    r->lossless = lossless;
    r->verified = 1;
    r->deterministic = 1;
    r->runs = 5;
    r->raw_bytes = 1000000;
    r->compressed_bytes = (uint64_t)llround(1000000 / ratio);
    r->ratio = 1000000.0 / (double)r->compressed_bytes;
    r->cpu_seconds = cpu;
    r->cpu_cv = 0;
    r->n_cpu_runs = 5;
    for (int i = 0; i < 5; i++) r->cpu_runs[i] = cpu;
    r->caq = r->ratio / (cpu + 1);
    r->caq_cv = 0.001;
    r->compress_mb_s = 1.0 / cpu;
    r->decompress_mb_s = 3.0 / cpu;
    r->rel_l2_error = err;
    r->max_item_rel_l2_error = err;
}

/* A consistent two-bundle submission; the caller clears it. */
static void make_submission(alcm_bench_submission *s)
{
    memset(s, 0, sizeof *s);
    alcm_bench_fill_metadata(s);
    snprintf(s->label, sizeof s->label, "unit test");
    s->runs = 5;
    s->repeats = 1;
    s->warmup_runs = 1;
    s->error_budget = 0.01;
    const char *bundles[2] = {"text_medium", "grad_fmnist"};
    for (int b = 0; b < 2; b++) {
        alcm_bench_bundle_info bi;
        memset(&bi, 0, sizeof bi);
        snprintf(bi.name, sizeof bi.name, "%s", bundles[b]);
        memset(bi.manifest_sha256, 'a' + b, 64);
        bi.files = 3;
        bi.bytes = 1000000;
        assert_int_equal(alcm_bench_submission_add_bundle(s, &bi), ALCM_BENCH_OK);
        alcm_bench_result base, alcm, zstd;
        result(&base, bundles[b], "baseline", 3.0, 0.05, 1, 0);
        result(&alcm, bundles[b], "alcm", 6.0, 0.02, 0, b ? 0.0093 : 0);
        result(&zstd, bundles[b], "zstd-1", 2.5, 0.004, 1, 0);
        alcm.delta_vs_baseline_pct = 100 * (alcm.caq / base.caq - 1);
        zstd.delta_vs_baseline_pct = 100 * (zstd.caq / base.caq - 1);
        assert_int_equal(alcm_bench_submission_add_result(s, &base), ALCM_BENCH_OK);
        assert_int_equal(alcm_bench_submission_add_result(s, &alcm), ALCM_BENCH_OK);
        assert_int_equal(alcm_bench_submission_add_result(s, &zstd), ALCM_BENCH_OK);
    }
}

/* The submission as JSON text (malloc'ed). */
static char *to_json(const alcm_bench_submission *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    alcm_bench_error err;
    assert_int_equal(alcm_bench_submission_write(f, s, &err), ALCM_BENCH_OK);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* text with the first occurrence of from replaced by to (malloc'ed); from must occur. */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p) fail_msg("'%s' not in the JSON", from);
    size_t a = (size_t)(p - text), fl = strlen(from), tl = strlen(to), n = strlen(text);
    char *out = malloc(n - fl + tl + 1);
    assert_non_null(out);
    memcpy(out, text, a);
    memcpy(out + a, to, tl);
    memcpy(out + a + tl, p + fl, n - a - fl + 1);
    return out;
}

static void expect_reject(const char *text, alcm_bench_status want, const char *needle)
{
    alcm_bench_submission s;
    alcm_bench_error err;
    alcm_bench_status st = alcm_bench_submission_parse(text, strlen(text), &s, &err);
    if (st != want) fail_msg("status %d, want %d (%s)", st, want, err.message);
    if (!strstr(err.message, needle)) fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_null(s.results);
    assert_null(s.bundles);
}

static void test_round_trip(void **state)
{
    (void)state;
    alcm_bench_submission s, back;
    make_submission(&s);
    char *json = to_json(&s);
    assert_non_null(strstr(json, "\"format\": \"alcm-bench-results\""));
    alcm_bench_error err;
    alcm_bench_status st = alcm_bench_submission_parse(json, strlen(json), &back, &err);
    if (st != ALCM_BENCH_OK) fail_msg("%s", err.message);
    assert_string_equal(back.label, "unit test");
    assert_string_equal(back.ver_alcm, s.ver_alcm);
    assert_string_equal(back.ver_zstd, s.ver_zstd);
    assert_string_equal(back.cpu_model, s.cpu_model);
    assert_int_equal(back.cpus, s.cpus);
    assert_int_equal(back.runs, 5);
    assert_int_equal(back.warmup_runs, 1);
    assert_int_equal(back.n_bundles, 2);
    assert_string_equal(back.bundles[1].name, "grad_fmnist");
    assert_memory_equal(back.bundles[1].manifest_sha256, s.bundles[1].manifest_sha256, 65);
    assert_int_equal(back.n_results, 6);
    for (size_t i = 0; i < 6; i++) {
        const alcm_bench_result *a = &s.results[i], *b = &back.results[i];
        assert_string_equal(a->codec, b->codec);
        assert_string_equal(a->bundle, b->bundle);
        assert_int_equal(a->adaptive, b->adaptive);
        assert_int_equal(a->lossless, b->lossless);
        assert_int_equal(a->compressed_bytes, b->compressed_bytes);
        assert_true(fabs(a->caq - b->caq) <= 1e-9 * a->caq);
        assert_true(fabs(a->ratio - b->ratio) <= 1e-9 * a->ratio);
        assert_true(fabs(a->rel_l2_error - b->rel_l2_error) <= 1e-12);
        assert_true(fabs(a->delta_vs_baseline_pct - b->delta_vs_baseline_pct) <= 1e-6);
        assert_int_equal(b->n_cpu_runs, 5);
        assert_true(fabs(b->cpu_runs[4] - a->cpu_runs[4]) <= 1e-9 * a->cpu_runs[4]);
    }
    alcm_bench_submission_clear(&back);
    alcm_bench_submission_clear(&s);
    free(json);
}

static void test_writer_refuses_non_finite(void **state)
{
    (void)state;
    alcm_bench_submission s;
    make_submission(&s);
    s.results[2].caq = NAN;
    FILE *f = tmpfile();
    assert_non_null(f);
    alcm_bench_error err;
    assert_int_equal(alcm_bench_submission_write(f, &s, &err), ALCM_BENCH_E_ARG);
    assert_non_null(strstr(err.message, "caq"));
    fclose(f);
    alcm_bench_submission_clear(&s);
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    alcm_bench_submission s;
    make_submission(&s);
    char *json = to_json(&s);
    alcm_bench_submission_clear(&s);
    /* Not JSON at all, truncated, trailing garbage, duplicate keys, NaN literals. */
    expect_reject("", ALCM_BENCH_E_SUBMISSION, "not valid JSON");
    char *cut = strdup(json);
    cut[strlen(cut) / 2] = '\0';
    expect_reject(cut, ALCM_BENCH_E_SUBMISSION, "not valid JSON");
    free(cut);
    char *t = replace(json, "\"format_version\": 1,",
                      "\"format_version\": 1, \"format_version\": 1,");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "duplicate");
    free(t);
    t = replace(json, "\"cpus\": ", "\"cpus\": NaN, \"x\": ");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "not valid JSON");
    free(t);
    expect_reject("[1, 2]", ALCM_BENCH_E_SUBMISSION, "must be a JSON object");
    t = replace(json, "alcm-bench-results", "something-else");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "format");
    free(t);
    t = replace(json, "\"format_version\": 1", "\"format_version\": 2");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "format_version");
    free(t);
    free(json);
}

static void test_rejects_missing_and_mistyped_fields(void **state)
{
    (void)state;
    alcm_bench_submission s;
    make_submission(&s);
    char *json = to_json(&s);
    alcm_bench_submission_clear(&s);
    char *t = replace(json, "\"caq\":", "\"caq_renamed\":");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "results[0].caq: missing");
    free(t);
    t = replace(json, "\"label\":", "\"labels\":");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "submission.label: missing");
    free(t);
    t = replace(json, "\"lossless\": true", "\"lossless\": 1");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "lossless: must be true or false");
    free(t);
    t = replace(json, "\"codec\": \"alcm\"", "\"codec\": \"Alcm <b>\"");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "codec: must use");
    free(t);
    t = replace(json, "\"bundle\": \"grad_fmnist\"", "\"bundle\": \"other\"");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "not listed in bundles");
    free(t);
    t = replace(json, "\"runs\": 5,\n      \"raw_bytes\"", "\"runs\": 4,\n      \"raw_bytes\"");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "runs: differs from config.runs");
    free(t);
    t = replace(json, "\"cpu_seconds_per_run\": [", "\"cpu_seconds_per_run\": [\"x\", ");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "cpu_seconds_per_run");
    free(t);
    t = replace(json, "\"repeats\": 1", "\"repeats\": 0");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "config.repeats: integer out of range");
    free(t);
    free(json);
}

static void test_rejects_non_finite_and_out_of_range(void **state)
{
    (void)state;
    alcm_bench_submission s;
    make_submission(&s);
    char *json = to_json(&s);
    alcm_bench_submission_clear(&s);
    /* jansson refuses numbers that overflow a double: "not valid JSON". */
    char *t = replace(json, "\"ratio\": ", "\"ratio\": 1e999, \"unused\": ");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "not valid JSON");
    free(t);
    t = replace(json, "\"caq_cv\": ", "\"caq_cv\": null, \"unused\": ");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "caq_cv: must be a finite number");
    free(t);
    t = replace(json, "\"caq_cv\": ", "\"caq_cv\": -0.5, \"unused\": ");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "caq_cv: must be >= 0");
    free(t);
    t = replace(json, "\"error_budget\": ", "\"error_budget\": 0, \"unused\": ");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "error_budget");
    free(t);
    t = replace(json, "\"compress_mb_s\": ", "\"compress_mb_s\": \"fast\", \"unused\": ");
    expect_reject(t, ALCM_BENCH_E_SUBMISSION, "compress_mb_s: must be a finite number");
    free(t);
    free(json);
}

static void test_rejects_inconsistent(void **state)
{
    (void)state;
    alcm_bench_submission s;
    char *json;
    alcm_bench_status st;

    make_submission(&s);
    s.results[1].caq *= 1.5;   /* no longer ratio / (cpu + 1) */
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "results[1].caq: is not ratio");
    free(json);
    alcm_bench_submission_clear(&s);

    make_submission(&s);
    s.results[1].delta_vs_baseline_pct += 10;
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "delta_vs_baseline_pct");
    free(json);
    alcm_bench_submission_clear(&s);

    make_submission(&s);
    s.results[4].max_item_rel_l2_error = s.results[4].rel_l2_error = 0.02;   /* > budget */
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "exceeds config.error_budget");
    free(json);
    alcm_bench_submission_clear(&s);

    make_submission(&s);
    s.results[5].rel_l2_error = s.results[5].max_item_rel_l2_error = 0.001;   /* lossless */
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "must be 0 for a lossless codec");
    free(json);
    alcm_bench_submission_clear(&s);

    make_submission(&s);
    s.results[1].cpu_runs[0] *= 2;   /* mean no longer matches cpu_seconds */
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "is not the mean of cpu_seconds_per_run");
    free(json);
    alcm_bench_submission_clear(&s);

    make_submission(&s);
    s.results[0].compressed_bytes += 1000;
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "ratio: is not raw_bytes / compressed_bytes");
    free(json);
    alcm_bench_submission_clear(&s);

    make_submission(&s);
    snprintf(s.results[3].codec, sizeof s.results[3].codec, "zlib-6");   /* drop a baseline */
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "has no result for codec baseline");
    free(json);
    alcm_bench_submission_clear(&s);

    make_submission(&s);
    s.results[2] = s.results[1];   /* the same bundle and codec twice */
    json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_SUBMISSION, "listed twice");
    free(json);
    alcm_bench_submission_clear(&s);

    /* Sanity: the unmodified submission is accepted. */
    make_submission(&s);
    json = to_json(&s);
    alcm_bench_submission back;
    alcm_bench_error err;
    st = alcm_bench_submission_parse(json, strlen(json), &back, &err);
    assert_int_equal(st, ALCM_BENCH_OK);
    alcm_bench_submission_clear(&back);
    free(json);
    alcm_bench_submission_clear(&s);
}

static void test_rejects_unverified(void **state)
{
    (void)state;
    alcm_bench_submission s;
    make_submission(&s);
    s.results[2].verified = 0;
    char *json = to_json(&s);
    expect_reject(json, ALCM_BENCH_E_UNVERIFIED,
                  "results[2] (text_medium/zstd-1): verified is false");
    free(json);
    alcm_bench_submission_clear(&s);
}

/* One bundle with n results (a baseline and n - 1 codecs whose names share a long prefix, so
 * comparing two of them costs the most); with `dup`, the last result repeats the first
 * codec. As JSON text (malloc'ed). */
static char *many_results_json(size_t n, int dup)
{
    static const char bundle[] = "a-bundle-with-a-long-name-of-forty-chars";
    alcm_bench_submission s;
    memset(&s, 0, sizeof s);
    alcm_bench_fill_metadata(&s);
    s.runs = 5;
    s.repeats = 1;
    s.error_budget = 0.01;
    alcm_bench_bundle_info bi;
    memset(&bi, 0, sizeof bi);
    snprintf(bi.name, sizeof bi.name, "%s", bundle);
    memset(bi.manifest_sha256, 'b', 64);
    bi.files = 1;
    bi.bytes = 1000000;
    assert_int_equal(alcm_bench_submission_add_bundle(&s, &bi), ALCM_BENCH_OK);
    alcm_bench_result base;
    result(&base, bundle, "baseline", 3.0, 0.05, 1, 0);
    base.n_cpu_runs = 0;
    assert_int_equal(alcm_bench_submission_add_result(&s, &base), ALCM_BENCH_OK);
    for (size_t i = 1; i < n; i++) {
        char codec[48];
        snprintf(codec, sizeof codec, "codec-with-a-long-shared-prefix-%06zu",
                 dup && i == n - 1 ? (size_t)1 : i);
        alcm_bench_result r;
        result(&r, bundle, codec, 2.0, 0.01, 1, 0);
        r.n_cpu_runs = 0;
        r.delta_vs_baseline_pct = 100 * (r.caq / base.caq - 1);
        assert_int_equal(alcm_bench_submission_add_result(&s, &r), ALCM_BENCH_OK);
    }
    char *json = to_json(&s);
    alcm_bench_submission_clear(&s);
    return json;
}

/* Thread CPU seconds to parse text, the least of seven tries. */
static double parse_seconds(const char *text)
{
    double best = INFINITY;
    for (int k = 0; k < 7; k++) {
        struct timespec t0, t1;
        alcm_bench_submission s;
        alcm_bench_error err;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        alcm_bench_status st = alcm_bench_submission_parse(text, strlen(text), &s, &err);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        if (st != ALCM_BENCH_OK) fail_msg("%s", err.message);
        alcm_bench_submission_clear(&s);
        double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (dt < best) best = dt;
    }
    return best;
}

/* A submission parses in time linear in its size: 8 times the results take about 8 times as
 * long (with a pairwise duplicate check and an array grown one element at a time, 18 times
 * in a release build), and a duplicate pair is still found among the most results allowed. */
static void test_parse_time_is_linear(void **state)
{
    (void)state;
    const size_t big = ALCM_BENCH_SUBMISSION_MAX_RESULTS, small = big / 8;
    char *a = many_results_json(small, 0), *b = many_results_json(big, 0);
    double ta = parse_seconds(a), tb = parse_seconds(b);
    fprintf(stderr, "parse: %zu results %.2f ms, %zu results %.2f ms (x%.1f)\n", small,
            ta * 1e3, big, tb * 1e3, tb / ta);
    assert_true(tb < 13 * ta);
    free(a);
    free(b);
    char *d = many_results_json(big, 1);
    char where[64];
    snprintf(where, sizeof where, "results[%zu].codec: bundle and codec listed twice", big - 1);
    expect_reject(d, ALCM_BENCH_E_SUBMISSION, where);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_refuses_non_finite),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_rejects_missing_and_mistyped_fields),
        cmocka_unit_test(test_rejects_non_finite_and_out_of_range),
        cmocka_unit_test(test_rejects_inconsistent),
        cmocka_unit_test(test_rejects_unverified),
        cmocka_unit_test(test_parse_time_is_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
