/*
 * alcm_bench.h - the benchmark library behind `alcm-bench bench` and `alcm-bench leaderboard`: bundle
 * manifests, the codec registry (built-ins and plugins), the measuring harness, the results
 * JSON and the leaderboard writers. Definitions of every metric: docs/BENCHMARKS.md.
 *
 * Errors: every fallible function returns an alcm_bench_status (ALCM_BENCH_OK is 0, errors
 * are negative) and, when given an alcm_bench_error, fills it with a specific message naming
 * the file, item or field at fault. Nothing here prints; the caller owns every buffer it
 * passes in and frees what it gets back with the matching _free function.
 */
#ifndef ALCM_BENCH_H
#define ALCM_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alcm_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Status and error messages
 * ---------------------------------------------------------------------------------------- */
typedef enum {
    ALCM_BENCH_OK = 0,
    ALCM_BENCH_E_ARG = -1,         /* invalid argument */
    ALCM_BENCH_E_NOMEM = -2,       /* memory allocation failed */
    ALCM_BENCH_E_IO = -3,          /* a file could not be read or written */
    ALCM_BENCH_E_MANIFEST = -4,    /* manifest missing or malformed */
    ALCM_BENCH_E_MISSING = -5,     /* a file the manifest lists is absent */
    ALCM_BENCH_E_MISMATCH = -6,    /* a file's size or sha256 differs from the manifest */
    ALCM_BENCH_E_UNKNOWN = -7,     /* unknown codec or bundle name */
    ALCM_BENCH_E_PLUGIN = -8,      /* a codec plugin could not be loaded or is invalid */
    ALCM_BENCH_E_CODEC = -9,       /* a codec reported an error */
    ALCM_BENCH_E_VERIFY = -10,     /* a blob did not decode to its input (or beyond budget) */
    ALCM_BENCH_E_SUBMISSION = -11, /* a results file is malformed or inconsistent */
    ALCM_BENCH_E_UNVERIFIED = -12  /* a results file holds a result that was not verified */
} alcm_bench_status;

/* One-line message for a status; never NULL, static storage. */
const char *alcm_bench_strerror(alcm_bench_status status);

typedef struct {
    alcm_bench_status status;
    char message[640];   /* specific, human-readable; "" when no error */
} alcm_bench_error;

/* ------------------------------------------------------------------------------------------
 * Manifests and bundles (docs/BENCHMARKS.md, "Manifest format")
 * ---------------------------------------------------------------------------------------- */
#define ALCM_BENCH_MANIFEST_NAME "manifest.tsv"
#define ALCM_BENCH_MANIFEST_MAGIC "# alcm-bench-manifest v1"
#define ALCM_BENCH_MAX_ITEMS 4096
#define ALCM_BENCH_NAME_MAX 64     /* bundle, codec and item-name field capacity */

typedef struct {
    char file[ALCM_BENCH_NAME_MAX];   /* plain file name inside the bundle directory */
    uint64_t size;
    char sha256[65];                  /* lower-case hex */
    alcm_codec_item item;             /* declared type and shape; item.name points at file */
    char source[256];                 /* where it came from (package=version:path, ...) */
} alcm_bench_entry;

typedef struct {
    size_t n_entries;
    alcm_bench_entry *entries;
    char sha256[65];                  /* sha256 of the manifest text itself */
} alcm_bench_manifest;

/* Parses manifest text (len bytes, need not be NUL-terminated). Checks the magic line,
 * every field, that names are plain and unique and that f32 sizes match their shapes.
 * On success *out is a new manifest (free with alcm_bench_manifest_free). */
alcm_bench_status alcm_bench_manifest_parse(const char *text, size_t len,
                                            alcm_bench_manifest **out, alcm_bench_error *err);

void alcm_bench_manifest_free(alcm_bench_manifest *manifest);

/* A bundle loaded in memory: its manifest and every item's bytes, each checked against
 * the manifest (presence, size, sha256) while loading. */
typedef struct {
    char name[ALCM_BENCH_NAME_MAX];
    alcm_bench_manifest *manifest;
    uint8_t **data;           /* data[i]: manifest->entries[i].size bytes */
    uint64_t total_bytes;
} alcm_bench_bundle;

/* Loads dir/name/manifest.tsv and every file it lists, verifying each. error_budget is
 * written into every f32 item (the budget lossy codecs are held to). ALCM_BENCH_E_MANIFEST,
 * E_MISSING or E_MISMATCH name the file at fault and how to rebuild it. */
alcm_bench_status alcm_bench_bundle_load(const char *dir, const char *name, double error_budget,
                                         alcm_bench_bundle **out, alcm_bench_error *err);

void alcm_bench_bundle_free(alcm_bench_bundle *bundle);

/* Lower-case hex sha256 of len bytes into hex[65]. */
void alcm_bench_sha256_hex(const void *data, size_t len, char hex[65]);

/* ------------------------------------------------------------------------------------------
 * Codecs: built-ins by name and plugins (alcm_codec.h)
 * ---------------------------------------------------------------------------------------- */

/* Names of the built-in codecs in leaderboard order; NULL-terminated, static storage. */
const char *const *alcm_bench_builtin_names(void);

/* Creates a built-in codec by name; ALCM_BENCH_E_UNKNOWN for a name not built in. */
alcm_bench_status alcm_bench_codec_create(const char *name, alcm_codec **out,
                                          alcm_bench_error *err);

/* Checks a codec's vtable: ABI version, name syntax, flags, non-NULL functions. */
alcm_bench_status alcm_bench_codec_check(const alcm_codec *codec, alcm_bench_error *err);

/* A codec loaded from a shared library. */
typedef struct alcm_bench_plugin alcm_bench_plugin;

/* dlopen()s path, calls its alcm_codec_plugin_create and checks the result. */
alcm_bench_status alcm_bench_plugin_open(const char *path, alcm_bench_plugin **out,
                                         alcm_bench_error *err);

/* The plugin's codec (owned by the plugin). */
alcm_codec *alcm_bench_plugin_codec(alcm_bench_plugin *plugin);

/* Frees the codec and unloads the library; NULL is a no-op. */
void alcm_bench_plugin_close(alcm_bench_plugin *plugin);

/* Frees a built-in codec (calls codec->free); NULL is a no-op. */
void alcm_bench_codec_free(alcm_codec *codec);

/* ------------------------------------------------------------------------------------------
 * Results and submissions (the JSON of `alcm-bench bench --json`, docs/BENCHMARKS.md)
 * ---------------------------------------------------------------------------------------- */
/* Per-run CPU seconds kept in a result (and its JSON) for the first runs. */
#define ALCM_BENCH_KEPT_RUNS 32

typedef struct {
    char bundle[ALCM_BENCH_NAME_MAX];
    char codec[ALCM_BENCH_NAME_MAX];
    int adaptive, lossless;
    int verified;               /* 1: every blob of every run decoded and checked */
    int deterministic;          /* 1: every run produced the same blob bytes */
    uint32_t runs;
    uint64_t raw_bytes;         /* bundle bytes compressed per run */
    uint64_t compressed_bytes;  /* blob bytes per run (first run) */
    double ratio;               /* raw_bytes / compressed_bytes, mean over runs */
    double ratio_cv;            /* coefficient of variation over runs (fraction) */
    double cpu_seconds;         /* thread CPU seconds of compress per run, mean */
    double cpu_cv;
    double caq;                 /* mean over runs of ratio / (cpu_seconds + 1) */
    double caq_cv;
    double compress_mb_s;       /* raw MB (1e6 bytes) / mean compress CPU seconds */
    double decompress_mb_s;     /* raw MB / mean decompress CPU seconds */
    double rel_l2_error;        /* sqrt(sum ||x - x'||^2 / sum ||x||^2) over f32 items */
    double max_item_rel_l2_error;  /* largest per-item relative L2 error */
    double delta_vs_baseline_pct;  /* 100 * (caq / baseline caq - 1), same bundle, same run */
    uint32_t n_cpu_runs;           /* min(runs, ALCM_BENCH_KEPT_RUNS) */
    double cpu_runs[ALCM_BENCH_KEPT_RUNS];   /* compress CPU seconds of the first timed runs */
} alcm_bench_result;

typedef struct {
    char name[ALCM_BENCH_NAME_MAX];
    char manifest_sha256[65];
    uint32_t files;
    uint64_t bytes;
} alcm_bench_bundle_info;

typedef struct {
    char label[128];            /* who or what submitted it */
    char date_utc[32];          /* ISO 8601, e.g. 2025-01-31T12:00:00Z */
    char cpu_model[128];
    uint32_t cpus;
    char os[128];               /* kernel name, release, machine */
    char compiler[96];
    char build[32];             /* "release", "debug" or "sanitized" */
    char ver_alcm[32], ver_zlib[32], ver_zstd[32], ver_lz4[32];
    uint32_t codec_abi;
    uint32_t runs;
    uint32_t repeats;           /* passes per timed run; a run's CPU figure is their minimum */
    uint32_t warmup_runs;
    double error_budget;
    size_t n_bundles;
    alcm_bench_bundle_info *bundles;
    size_t n_results;
    alcm_bench_result *results;
} alcm_bench_submission;

/* Fills the machine and version fields of sub (date, CPU, OS, compiler, library versions)
 * from this process and machine. */
void alcm_bench_fill_metadata(alcm_bench_submission *sub);

/* Appends a bundle's info / a result to sub (arrays grow as needed). */
alcm_bench_status alcm_bench_submission_add_bundle(alcm_bench_submission *sub,
                                                   const alcm_bench_bundle_info *info);
alcm_bench_status alcm_bench_submission_add_result(alcm_bench_submission *sub,
                                                   const alcm_bench_result *result);

/* Frees the arrays of sub (not sub itself) and zeroes it. */
void alcm_bench_submission_clear(alcm_bench_submission *sub);

/* Writes sub as results JSON. ALCM_BENCH_E_ARG if a figure is not finite. */
alcm_bench_status alcm_bench_submission_write(FILE *f, const alcm_bench_submission *sub,
                                              alcm_bench_error *err);

/* Upper limit of a results file accepted by the parser. */
#define ALCM_BENCH_SUBMISSION_MAX_BYTES (16u << 20)
#define ALCM_BENCH_SUBMISSION_MAX_RESULTS 4096

/* Parses and validates results JSON: required fields and types, finite numbers in range,
 * figures consistent with each other, a baseline per bundle, every result verified
 * (ALCM_BENCH_E_UNVERIFIED otherwise). On success fills *sub (clear it when done). */
alcm_bench_status alcm_bench_submission_parse(const char *text, size_t len,
                                              alcm_bench_submission *sub,
                                              alcm_bench_error *err);

/* ------------------------------------------------------------------------------------------
 * The harness
 * ---------------------------------------------------------------------------------------- */

/* Progress: called after each pass (one codec over the whole bundle); done <= total. */
typedef void (*alcm_bench_progress_fn)(void *user, unsigned done, unsigned total,
                                       const char *bundle, const char *codec);

typedef struct {
    uint32_t runs;          /* timed runs, >= 1 (default 5) */
    uint32_t repeats;       /* passes per codec per timed run, >= 1 (default 1), made in
                               rounds over all codecs: the run's compress and decompress CPU
                               seconds are the minimum over its passes */
    uint32_t warmup_runs;   /* untimed, still verified passes before them (default 1) */
    alcm_bench_progress_fn progress;   /* may be NULL */
    void *progress_user;
} alcm_bench_config;

void alcm_bench_config_default(alcm_bench_config *cfg);

/* Runs every codec over the bundle: a run is cfg->repeats rounds in which the codecs take
 * turns (so drift on a shared machine hits all alike); per pass every item is
 * compressed (timed by thread CPU time), decompressed (timed) and verified. results[i]
 * gets codecs[i]'s figures. If a codec named "baseline" is among them,
 * delta_vs_baseline_pct is filled, otherwise it is 0.
 * ALCM_BENCH_E_CODEC or E_VERIFY (naming codec, item and run) stop the run. */
alcm_bench_status alcm_bench_run(const alcm_bench_bundle *bundle, alcm_codec *const *codecs,
                                 size_t n_codecs, const alcm_bench_config *cfg,
                                 alcm_bench_result *results, alcm_bench_error *err);

/* ------------------------------------------------------------------------------------------
 * Leaderboard
 * ---------------------------------------------------------------------------------------- */

/* Writes the markdown leaderboard of n validated submissions: per bundle, every result
 * ranked by CAQ, with ratio, MB/s, error, delta vs baseline, 🔬 for adaptive codecs; then
 * the submissions' metadata. */
alcm_bench_status alcm_bench_leaderboard_md(FILE *f, const alcm_bench_submission *subs,
                                            size_t n, const char *svg_name);

/* Writes an SVG chart: one panel per bundle, compression ratio against compress MB/s (log
 * scale), one colour per codec, with axes, labels and a legend. */
alcm_bench_status alcm_bench_leaderboard_svg(FILE *f, const alcm_bench_submission *subs,
                                             size_t n);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_BENCH_H */
