/* results_write.c - writes a submission as results JSON (docs/BENCHMARKS.md) with jansson. */
#include <jansson.h>
#include <math.h>

#include "bench_internal.h"

/* Builder that remembers the first failure (out of memory or a non-finite number). */
typedef struct {
    int failed;
    const char *bad_key;
} builder;

static void put(builder *b, json_t *obj, const char *key, json_t *value)
{
    if (!value || json_object_set_new(obj, key, value) != 0) {
        if (!b->failed) b->bad_key = key;
        b->failed = 1;
    }
}

static void put_real(builder *b, json_t *obj, const char *key, double v)
{
    if (!isfinite(v)) {
        if (!b->failed) b->bad_key = key;
        b->failed = 1;
        return;
    }
    put(b, obj, key, json_real(v));
}

static json_t *result_json(builder *b, const alcm_bench_result *r)
{
    json_t *o = json_object();
    if (!o) {
        b->failed = 1;
        return NULL;
    }
    put(b, o, "bundle", json_string(r->bundle));
    put(b, o, "codec", json_string(r->codec));
    put(b, o, "adaptive", json_boolean(r->adaptive));
    put(b, o, "lossless", json_boolean(r->lossless));
    put(b, o, "verified", json_boolean(r->verified));
    put(b, o, "deterministic", json_boolean(r->deterministic));
    put(b, o, "runs", json_integer(r->runs));
    put(b, o, "raw_bytes", json_integer((json_int_t)r->raw_bytes));
    put(b, o, "compressed_bytes", json_integer((json_int_t)r->compressed_bytes));
    put_real(b, o, "ratio", r->ratio);
    put_real(b, o, "ratio_cv", r->ratio_cv);
    put_real(b, o, "cpu_seconds", r->cpu_seconds);
    put_real(b, o, "cpu_cv", r->cpu_cv);
    put_real(b, o, "caq", r->caq);
    put_real(b, o, "caq_cv", r->caq_cv);
    put_real(b, o, "compress_mb_s", r->compress_mb_s);
    put_real(b, o, "decompress_mb_s", r->decompress_mb_s);
    put_real(b, o, "rel_l2_error", r->rel_l2_error);
    put_real(b, o, "max_item_rel_l2_error", r->max_item_rel_l2_error);
    put_real(b, o, "delta_vs_baseline_pct", r->delta_vs_baseline_pct);
    if (r->n_cpu_runs == 0) return o;
    json_t *runs = json_array();
    put(b, o, "cpu_seconds_per_run", runs);
    for (uint32_t i = 0; runs && i < r->n_cpu_runs && i < ALCM_BENCH_KEPT_RUNS; i++) {
        if (!isfinite(r->cpu_runs[i]) || json_array_append_new(runs, json_real(r->cpu_runs[i]))) {
            b->failed = 1;
            b->bad_key = "cpu_seconds_per_run";
        }
    }
    return o;
}

alcm_bench_status alcm_bench_submission_write(FILE *f, const alcm_bench_submission *sub,
                                              alcm_bench_error *err)
{
    if (!f || !sub) return bench_fail(err, ALCM_BENCH_E_ARG, "results: NULL argument");
    builder b = {0, NULL};
    json_t *root = json_object();
    json_t *s = json_object(), *m = json_object(), *v = json_object(), *c = json_object();
    json_t *bundles = json_array(), *results = json_array();
    if (!root) {
        b.failed = 1;
        json_decref(s);
        json_decref(m);
        json_decref(v);
        json_decref(c);
        json_decref(bundles);
        json_decref(results);
    } else {
        put(&b, root, "format", json_string("alcm-bench-results"));
        put(&b, root, "format_version", json_integer(1));
        put(&b, root, "submission", s);
        put(&b, root, "machine", m);
        put(&b, root, "versions", v);
        put(&b, root, "config", c);
        put(&b, root, "bundles", bundles);
        put(&b, root, "results", results);
    }
    if (!b.failed) {
        put(&b, s, "label", json_string(sub->label));
        put(&b, s, "date_utc", json_string(sub->date_utc));
        put(&b, m, "cpu_model", json_string(sub->cpu_model));
        put(&b, m, "cpus", json_integer(sub->cpus));
        put(&b, m, "os", json_string(sub->os));
        put(&b, m, "compiler", json_string(sub->compiler));
        put(&b, m, "build", json_string(sub->build));
        put(&b, v, "alcm", json_string(sub->ver_alcm));
        put(&b, v, "zlib", json_string(sub->ver_zlib));
        put(&b, v, "zstd", json_string(sub->ver_zstd));
        put(&b, v, "lz4", json_string(sub->ver_lz4));
        put(&b, v, "codec_abi", json_integer(sub->codec_abi));
        put(&b, c, "runs", json_integer(sub->runs));
        put(&b, c, "repeats", json_integer(sub->repeats));
        put(&b, c, "warmup_runs", json_integer(sub->warmup_runs));
        put_real(&b, c, "error_budget", sub->error_budget);
        for (size_t i = 0; i < sub->n_bundles && !b.failed; i++) {
            const alcm_bench_bundle_info *bi = &sub->bundles[i];
            json_t *o = json_object();
            if (!o || json_array_append_new(bundles, o) != 0) {
                b.failed = 1;
                break;
            }
            put(&b, o, "name", json_string(bi->name));
            put(&b, o, "manifest_sha256", json_string(bi->manifest_sha256));
            put(&b, o, "files", json_integer(bi->files));
            put(&b, o, "bytes", json_integer((json_int_t)bi->bytes));
        }
        for (size_t i = 0; i < sub->n_results && !b.failed; i++) {
            json_t *o = result_json(&b, &sub->results[i]);
            if (!o || json_array_append_new(results, o) != 0) b.failed = 1;
        }
    }
    alcm_bench_status st = ALCM_BENCH_OK;
    if (b.failed) {
        st = bench_fail(err, ALCM_BENCH_E_ARG,
                        b.bad_key ? "results: field %s is not a finite number or out of memory"
                                  : "results: out of memory%s", b.bad_key ? b.bad_key : "");
    } else if (json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
               fputc('\n', f) == EOF || fflush(f) != 0) {
        st = bench_fail(err, ALCM_BENCH_E_IO, "results: write failed");
    } else {
        bench_ok(err);
    }
    json_decref(root);
    return st;
}
