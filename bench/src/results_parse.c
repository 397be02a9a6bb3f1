/* results_parse.c - parses and validates results JSON (a leaderboard submission): structure,
 * types, finite in-range figures, internal consistency, a baseline per bundle, verification. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

/* Tolerances for figures recomputed from other figures of the same file (%.10g output). */
#define REL_TOL 1e-6
#define CAQ_TOL 0.05   /* mean of per-run CAQ vs ratio / (mean cpu + 1): Jensen gap */

typedef struct {
    alcm_bench_error *err;
    char path[96];        /* JSON path of the object being read, for messages */
    alcm_bench_status st;
} reader;

static int fail(reader *r, const char *key, const char *what)
{
    if (r->st == ALCM_BENCH_OK) {
        const char *where = r->path[0] ? r->path : (key ? "" : "document");
        r->st = bench_fail(r->err, ALCM_BENCH_E_SUBMISSION, "%s%s%s: %s", where,
                           key && r->path[0] ? "." : "", key ? key : "", what);
    }
    return -1;
}

static json_t *need(reader *r, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v) fail(r, key, "missing");
    return v;
}

static int get_object(reader *r, json_t *obj, const char *key, json_t **out)
{
    json_t *v = need(r, obj, key);
    if (!v) return -1;
    if (!json_is_object(v)) return fail(r, key, "must be an object");
    *out = v;
    return 0;
}

static int get_string(reader *r, json_t *obj, const char *key, char *dst, size_t cap)
{
    json_t *v = need(r, obj, key);
    if (!v) return -1;
    if (!json_is_string(v)) return fail(r, key, "must be a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= cap) return fail(r, key, "string too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return fail(r, key, "contains a control character");
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int get_bool(reader *r, json_t *obj, const char *key, int *out)
{
    json_t *v = need(r, obj, key);
    if (!v) return -1;
    if (!json_is_boolean(v)) return fail(r, key, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

static int get_uint(reader *r, json_t *obj, const char *key, uint64_t min, uint64_t max,
                    uint64_t *out)
{
    json_t *v = need(r, obj, key);
    if (!v) return -1;
    if (!json_is_integer(v)) return fail(r, key, "must be an integer");
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x < min || (uint64_t)x > max)
        return fail(r, key, "integer out of range");
    *out = (uint64_t)x;
    return 0;
}

/* A finite number >= min (> min when strict). */
static int get_num(reader *r, json_t *obj, const char *key, double min, int strict, double *out)
{
    json_t *v = need(r, obj, key);
    if (!v) return -1;
    if (!json_is_number(v)) return fail(r, key, "must be a finite number");
    double x = json_number_value(v);
    if (!isfinite(x)) return fail(r, key, "must be a finite number");
    if (strict ? !(x > min) : !(x >= min)) {
        char what[64];
        snprintf(what, sizeof what, "must be %s %g", strict ? ">" : ">=", min);
        return fail(r, key, what);
    }
    *out = x;
    return 0;
}

static int plain_name(const char *s, int lower_only)
{
    size_t n = strlen(s);
    if (n == 0 || n > ALCM_CODEC_NAME_MAX || s[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                 c == '-' || (!lower_only && c >= 'A' && c <= 'Z');
        if (!ok) return 0;
    }
    return 1;
}

static int close_to(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12;
}

static int read_meta(reader *r, json_t *root, alcm_bench_submission *sub)
{
    json_t *o;
    uint64_t u;
    snprintf(r->path, sizeof r->path, "submission");
    if (get_object(r, root, "submission", &o) || get_string(r, o, "label", sub->label,
                                                            sizeof sub->label) ||
        get_string(r, o, "date_utc", sub->date_utc, sizeof sub->date_utc))
        return -1;
    snprintf(r->path, sizeof r->path, "machine");
    if (get_object(r, root, "machine", &o) ||
        get_string(r, o, "cpu_model", sub->cpu_model, sizeof sub->cpu_model) ||
        get_uint(r, o, "cpus", 1, 1u << 20, &u) ||
        get_string(r, o, "os", sub->os, sizeof sub->os) ||
        get_string(r, o, "compiler", sub->compiler, sizeof sub->compiler) ||
        get_string(r, o, "build", sub->build, sizeof sub->build))
        return -1;
    sub->cpus = (uint32_t)u;
    snprintf(r->path, sizeof r->path, "versions");
    if (get_object(r, root, "versions", &o) ||
        get_string(r, o, "alcm", sub->ver_alcm, sizeof sub->ver_alcm) ||
        get_string(r, o, "zlib", sub->ver_zlib, sizeof sub->ver_zlib) ||
        get_string(r, o, "zstd", sub->ver_zstd, sizeof sub->ver_zstd) ||
        get_string(r, o, "lz4", sub->ver_lz4, sizeof sub->ver_lz4) ||
        get_uint(r, o, "codec_abi", ALCM_CODEC_ABI_VERSION, ALCM_CODEC_ABI_VERSION, &u))
        return -1;
    sub->codec_abi = (uint32_t)u;
    snprintf(r->path, sizeof r->path, "config");
    if (get_object(r, root, "config", &o) || get_uint(r, o, "runs", 1, 1000, &u))
        return -1;
    sub->runs = (uint32_t)u;
    if (get_uint(r, o, "repeats", 1, 100, &u)) return -1;
    sub->repeats = (uint32_t)u;
    if (get_uint(r, o, "warmup_runs", 0, 1000, &u)) return -1;
    sub->warmup_runs = (uint32_t)u;
    if (get_num(r, o, "error_budget", 0, 1, &sub->error_budget)) return -1;
    if (sub->error_budget > 1) return fail(r, "error_budget", "must be <= 1");
    return 0;
}

static int read_bundles(reader *r, json_t *root, alcm_bench_submission *sub)
{
    r->path[0] = '\0';
    json_t *arr = need(r, root, "bundles");
    if (!arr) return -1;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 64)
        return fail(r, "bundles", "must be an array of 1 to 64 objects");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        alcm_bench_bundle_info bi;
        uint64_t u;
        memset(&bi, 0, sizeof bi);
        snprintf(r->path, sizeof r->path, "bundles[%zu]", i);
        if (!json_is_object(o)) return fail(r, NULL, "must be an object");
        if (get_string(r, o, "name", bi.name, sizeof bi.name) ||
            get_string(r, o, "manifest_sha256", bi.manifest_sha256, sizeof bi.manifest_sha256))
            return -1;
        if (!plain_name(bi.name, 0)) return fail(r, "name", "must use [A-Za-z0-9._-] only");
        if (strlen(bi.manifest_sha256) != 64 ||
            strspn(bi.manifest_sha256, "0123456789abcdef") != 64)
            return fail(r, "manifest_sha256", "must be 64 lower-case hex digits");
        if (get_uint(r, o, "files", 1, ALCM_BENCH_MAX_ITEMS, &u)) return -1;
        bi.files = (uint32_t)u;
        if (get_uint(r, o, "bytes", 0, (uint64_t)1 << 48, &bi.bytes)) return -1;
        for (size_t j = 0; j < sub->n_bundles; j++)
            if (!strcmp(sub->bundles[j].name, bi.name))
                return fail(r, "name", "bundle listed twice");
        if (alcm_bench_submission_add_bundle(sub, &bi) != ALCM_BENCH_OK) {
            r->st = bench_fail(r->err, ALCM_BENCH_E_NOMEM, "out of memory");
            return -1;
        }
    }
    return 0;
}

static const alcm_bench_bundle_info *find_bundle(const alcm_bench_submission *sub,
                                                 const char *name)
{
    for (size_t i = 0; i < sub->n_bundles; i++)
        if (!strcmp(sub->bundles[i].name, name)) return &sub->bundles[i];
    return NULL;
}

static int read_result(reader *r, json_t *o, const alcm_bench_submission *sub,
                       alcm_bench_result *x)
{
    uint64_t u;
    memset(x, 0, sizeof *x);
    if (!json_is_object(o)) return fail(r, NULL, "must be an object");
    if (get_string(r, o, "bundle", x->bundle, sizeof x->bundle) ||
        get_string(r, o, "codec", x->codec, sizeof x->codec) ||
        get_bool(r, o, "adaptive", &x->adaptive) || get_bool(r, o, "lossless", &x->lossless) ||
        get_bool(r, o, "verified", &x->verified) ||
        get_bool(r, o, "deterministic", &x->deterministic) ||
        get_uint(r, o, "runs", 1, 1000, &u))
        return -1;
    x->runs = (uint32_t)u;
    if (x->runs != sub->runs) return fail(r, "runs", "differs from config.runs");
    if (get_uint(r, o, "raw_bytes", 0, (uint64_t)1 << 48, &x->raw_bytes) ||
        get_uint(r, o, "compressed_bytes", 1, (uint64_t)1 << 50, &x->compressed_bytes) ||
        get_num(r, o, "ratio", 0, 1, &x->ratio) || get_num(r, o, "ratio_cv", 0, 0, &x->ratio_cv) ||
        get_num(r, o, "cpu_seconds", 0, 0, &x->cpu_seconds) ||
        get_num(r, o, "cpu_cv", 0, 0, &x->cpu_cv) || get_num(r, o, "caq", 0, 1, &x->caq) ||
        get_num(r, o, "caq_cv", 0, 0, &x->caq_cv) ||
        get_num(r, o, "compress_mb_s", 0, 1, &x->compress_mb_s) ||
        get_num(r, o, "decompress_mb_s", 0, 1, &x->decompress_mb_s) ||
        get_num(r, o, "rel_l2_error", 0, 0, &x->rel_l2_error) ||
        get_num(r, o, "max_item_rel_l2_error", 0, 0, &x->max_item_rel_l2_error) ||
        get_num(r, o, "delta_vs_baseline_pct", -100, 1, &x->delta_vs_baseline_pct))
        return -1;
    /* Optional: compress CPU seconds of each of the first runs. */
    json_t *per = json_object_get(o, "cpu_seconds_per_run");
    if (per) {
        size_t want = x->runs < ALCM_BENCH_KEPT_RUNS ? x->runs : ALCM_BENCH_KEPT_RUNS;
        if (!json_is_array(per) || json_array_size(per) != want)
            return fail(r, "cpu_seconds_per_run", "must be an array of min(runs, 32) numbers");
        double sum = 0;
        for (size_t i = 0; i < want; i++) {
            json_t *v = json_array_get(per, i);
            double d = json_is_number(v) ? json_number_value(v) : -1;
            if (!(d >= 0) || !isfinite(d))
                return fail(r, "cpu_seconds_per_run", "must hold finite numbers >= 0");
            x->cpu_runs[i] = d;
            sum += d;
        }
        x->n_cpu_runs = (uint32_t)want;
        if (want == x->runs && !close_to(sum / (double)want, x->cpu_seconds, 1e-6))
            return fail(r, "cpu_seconds", "is not the mean of cpu_seconds_per_run");
    }
    if (!plain_name(x->codec, 1)) return fail(r, "codec", "must use [a-z0-9._-] only");
    const alcm_bench_bundle_info *bi = find_bundle(sub, x->bundle);
    if (!bi) return fail(r, "bundle", "not listed in bundles");
    if (!x->verified) {
        r->st = bench_fail(r->err, ALCM_BENCH_E_UNVERIFIED,
                           "%s (%s/%s): verified is false: not every blob was decoded and "
                           "checked, so the result cannot be ranked", r->path, x->bundle,
                           x->codec);
        return -1;
    }
    if (x->raw_bytes != bi->bytes) return fail(r, "raw_bytes", "differs from the bundle's bytes");
    double ratio = (double)x->raw_bytes / (double)x->compressed_bytes;
    if (!close_to(x->ratio, ratio, x->deterministic ? REL_TOL : 0.05))
        return fail(r, "ratio", "is not raw_bytes / compressed_bytes");
    if (!close_to(x->caq, x->ratio / (x->cpu_seconds + 1), CAQ_TOL))
        return fail(r, "caq", "is not ratio / (cpu_seconds + 1)");
    if (x->deterministic && x->ratio_cv > REL_TOL)
        return fail(r, "ratio_cv", "must be 0 for a deterministic codec");
    if (x->cpu_seconds > 1e-9 &&
        !close_to(x->compress_mb_s, (double)x->raw_bytes / 1e6 / x->cpu_seconds, 1e-4))
        return fail(r, "compress_mb_s", "is not raw MB / cpu_seconds");
    if (x->lossless && (x->rel_l2_error != 0 || x->max_item_rel_l2_error != 0))
        return fail(r, "rel_l2_error", "must be 0 for a lossless codec");
    if (x->max_item_rel_l2_error > sub->error_budget * (1 + REL_TOL))
        return fail(r, "max_item_rel_l2_error", "exceeds config.error_budget");
    if (x->rel_l2_error > x->max_item_rel_l2_error * (1 + REL_TOL) + 1e-12)
        return fail(r, "rel_l2_error", "exceeds max_item_rel_l2_error");
    return 0;
}

/* The (bundle, codec) pairs seen so far: an open-addressing set of result indices + 1, so
 * a duplicate is found in constant time per result (the whole check stays linear). */
typedef struct {
    size_t *slot;
    size_t mask;
} pair_set;

static uint64_t pair_hash(const alcm_bench_result *x)
{
    uint64_t h = 1469598103934665603u;   /* FNV-1a over bundle, NUL, codec */
    for (const char *p = x->bundle;; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211u;
        if (!*p) break;
    }
    for (const char *p = x->codec; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211u;
    return h;
}

/* Adds result i of sub to the set: 1 when its pair was already there, 0 otherwise. */
static int pair_seen(pair_set *set, const alcm_bench_submission *sub, size_t i)
{
    const alcm_bench_result *x = &sub->results[i];
    for (size_t k = (size_t)pair_hash(x) & set->mask;; k = (k + 1) & set->mask) {
        if (!set->slot[k]) {
            set->slot[k] = i + 1;
            return 0;
        }
        const alcm_bench_result *y = &sub->results[set->slot[k] - 1];
        if (!strcmp(y->bundle, x->bundle) && !strcmp(y->codec, x->codec)) return 1;
    }
}

static int read_results(reader *r, json_t *root, alcm_bench_submission *sub)
{
    r->path[0] = '\0';
    json_t *arr = need(r, root, "results");
    if (!arr) return -1;
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > ALCM_BENCH_SUBMISSION_MAX_RESULTS)
        return fail(r, "results", "must be a non-empty array of at most 4096 objects");
    /* At most half full: the size is a power of two of at least twice the results. */
    pair_set set = {NULL, 1};
    while (set.mask + 1 < 2 * json_array_size(arr)) set.mask = 2 * set.mask + 1;
    set.slot = calloc(set.mask + 1, sizeof *set.slot);
    if (!set.slot) {
        r->st = bench_fail(r->err, ALCM_BENCH_E_NOMEM, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        alcm_bench_result x;
        snprintf(r->path, sizeof r->path, "results[%zu]", i);
        if (read_result(r, json_array_get(arr, i), sub, &x)) {
            rc = -1;
        } else if (alcm_bench_submission_add_result(sub, &x) != ALCM_BENCH_OK) {
            r->st = bench_fail(r->err, ALCM_BENCH_E_NOMEM, "out of memory");
            rc = -1;
        } else if (pair_seen(&set, sub, sub->n_results - 1)) {
            rc = fail(r, "codec", "bundle and codec listed twice");
        }
    }
    free(set.slot);
    if (rc) return -1;
    /* Every bundle needs its baseline, and every delta must agree with it. */
    for (size_t b = 0; b < sub->n_bundles; b++) {
        const alcm_bench_result *base = NULL;
        for (size_t i = 0; i < sub->n_results; i++)
            if (!strcmp(sub->results[i].bundle, sub->bundles[b].name) &&
                !strcmp(sub->results[i].codec, "baseline"))
                base = &sub->results[i];
        snprintf(r->path, sizeof r->path, "bundles[%zu]", b);
        if (!base) return fail(r, NULL, "has no result for codec baseline");
        for (size_t i = 0; i < sub->n_results; i++) {
            const alcm_bench_result *x = &sub->results[i];
            if (strcmp(x->bundle, base->bundle) != 0) continue;
            double want = 100.0 * (x->caq / base->caq - 1);
            snprintf(r->path, sizeof r->path, "results[%zu]", i);
            if (fabs(x->delta_vs_baseline_pct - want) > 1e-6 * fmax(1, fabs(want)))
                return fail(r, "delta_vs_baseline_pct",
                            "disagrees with the caq of this bundle's baseline");
        }
    }
    return 0;
}

alcm_bench_status alcm_bench_submission_parse(const char *text, size_t len,
                                              alcm_bench_submission *sub,
                                              alcm_bench_error *err)
{
    if (!text || !sub) return bench_fail(err, ALCM_BENCH_E_ARG, "results: NULL argument");
    memset(sub, 0, sizeof *sub);
    if (len > ALCM_BENCH_SUBMISSION_MAX_BYTES)
        return bench_fail(err, ALCM_BENCH_E_SUBMISSION, "results file larger than %u bytes",
                          ALCM_BENCH_SUBMISSION_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return bench_fail(err, ALCM_BENCH_E_SUBMISSION, "not valid JSON: line %d, column %d: %s",
                          je.line, je.column, je.text);
    reader r;
    memset(&r, 0, sizeof r);
    r.err = err;
    r.st = ALCM_BENCH_OK;
    char format[64];
    uint64_t version;
    if (!json_is_object(root)) {
        fail(&r, NULL, "must be a JSON object");
    } else if (get_string(&r, root, "format", format, sizeof format) == 0 &&
               strcmp(format, "alcm-bench-results") != 0) {
        fail(&r, "format", "must be \"alcm-bench-results\"");
    } else if (r.st == ALCM_BENCH_OK &&
               get_uint(&r, root, "format_version", 1, 1, &version) == 0 &&
               read_meta(&r, root, sub) == 0 && read_bundles(&r, root, sub) == 0) {
        read_results(&r, root, sub);
    }
    json_decref(root);
    if (r.st != ALCM_BENCH_OK) {
        alcm_bench_submission_clear(sub);
        return r.st;
    }
    bench_ok(err);
    return ALCM_BENCH_OK;
}
