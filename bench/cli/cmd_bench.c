/* cmd_bench.c - `alcm-bench bench`: runs codecs over the benchmark bundles (alcm_bench harness),
 * prints the figures and writes them as results JSON for the leaderboard. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alcm_bench.h"
#include "bench_cli.h"

#define MAX_PLUGINS 16
#define MAX_CODECS 64
#define MAX_BUNDLES 64

static const char *const k_all_bundles[] = {
    "text_medium", "image_small", "mixed_stream", "grad_synthetic", "grad_fmnist",
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm-bench bench --bundle NAME[,NAME...|all] [--codec NAME[,NAME...]|all]\n"
            "                  [--bundles DIR] [--runs N] [--repeat K] [--warmup N]\n"
            "                  [--json FILE]"
            " [--codec-plugin PATH]... [--label TEXT] [--error-budget X]\n"
            "       alcm-bench bench --list-codecs [--codec-plugin PATH]...\n\n"
            "Compresses every file of each bundle with each codec, decompresses and verifies\n"
            "every blob, and reports per codec and bundle: ratio, CPU seconds (thread CPU time\n"
            "of compress), CAQ = ratio / (cpu_seconds + 1), compress and decompress MB/s,\n"
            "relative L2 error of lossy codecs, delta vs the zlib-6 baseline, and the\n"
            "coefficient of variation of ratio and CAQ across runs. The baseline always runs.\n\n"
            "  --bundle LIST       bundles to run, or 'all' (text_medium, image_small,\n"
            "                      mixed_stream, grad_synthetic, grad_fmnist)\n"
            "  --codec LIST        codecs (default all): baseline, alcm, alcm-lossless,\n"
            "                      zstd-1, zstd-3, lz4, mock, the lossy peers fp16,\n"
            "                      bf16, int8-zstd, global-q, topk, zfp, the lossless\n"
            "                      float peers planes-zstd, planes-huff, or a plugin's\n"
            "                      name\n"
            "  --bundles DIR       where bench/make-bundles put them (default bench/bundles)\n"
            "  --runs N            timed runs (default 5); CVs are taken across them\n"
            "  --repeat K          rounds per run (default 1), every codec making one pass\n"
            "                      per round; a run's CPU seconds are the minimum over its\n"
            "                      K passes (every pass is verified)\n"
            "  --warmup N          untimed, verified runs first (default 1)\n"
            "  --json FILE         write the results JSON (docs/BENCHMARKS.md)\n"
            "  --codec-plugin PATH load a codec from a shared library (bench/alcm_codec.h)\n"
            "  --label TEXT        submission label recorded in the JSON\n"
            "  --error-budget X    relative L2 budget for lossy codecs on f32 items (0.01)\n"
            "  --list-codecs       print the available codecs and exit\n");
}

typedef struct {
    int active;
    unsigned last_pct;
} progress_state;

/* Progress bar on stderr, drawn only when stderr is a terminal. */
static void progress(void *user, unsigned done, unsigned total, const char *bundle,
                     const char *codec)
{
    progress_state *p = user;
    if (!p->active) return;
    unsigned width = 30, filled = total ? done * width / total : width;
    char bar[64];
    for (unsigned i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[K[%s] %3u%% %s %s", bar, total ? 100 * done / total : 100, bundle,
            codec);
    if (done == total) fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* Splits a comma list in place into items[] (at most cap). Returns the count or -1. */
static int split_list(char *text, const char **items, int cap)
{
    int n = 0;
    for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
        if (n == cap) return -1;
        items[n++] = tok;
    }
    return n;
}

static void print_header(void)
{
    printf("%-15s %-14s %8s %8s %8s %9s %10s %10s %9s %8s %7s\n", "bundle", "codec", "ratio",
           "CPU s", "CAQ", "vs base", "comp MB/s", "dec MB/s", "rel L2", "ratio CV",
           "CAQ CV");
}

static void print_row(const alcm_bench_result *r)
{
    char err[32];
    if (r->lossless) snprintf(err, sizeof err, "exact");
    else snprintf(err, sizeof err, "%.4f%%", 100 * r->rel_l2_error);
    printf("%-15s %-14s %8.4f %8.4f %8.4f %+8.1f%% %10.1f %10.1f %9s %7.3f%% %6.2f%%%s\n",
           r->bundle, r->codec, r->ratio, r->cpu_seconds, r->caq, r->delta_vs_baseline_pct,
           r->compress_mb_s, r->decompress_mb_s, err, 100 * r->ratio_cv, 100 * r->caq_cv,
           r->deterministic ? "" : "  (blobs differ between runs)");
}

static int write_json(const char *cmd, const char *path, const alcm_bench_submission *sub)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    alcm_bench_error err;
    alcm_bench_status st = alcm_bench_submission_write(mem, sub, &err);
    fclose(mem);
    if (st != ALCM_BENCH_OK) {
        cli_error(cmd, "%s", err.message);
        free(buf);
        return -1;
    }
    int rc = cli_write_file(path, buf, len);
    if (rc == 0 && strcmp(path, "-") != 0) rc = chmod(path, 0644);
    if (rc != 0) cli_error(cmd, "cannot write %s: %s", path, strerror(errno));
    free(buf);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, 0, 'b'},  {"codec", required_argument, 0, 'c'},
        {"bundles", required_argument, 0, 'd'}, {"runs", required_argument, 0, 'r'},
        {"warmup", required_argument, 0, 'w'},  {"json", required_argument, 0, 'j'},
        {"repeat", required_argument, 0, 'R'},
        {"codec-plugin", required_argument, 0, 'p'}, {"label", required_argument, 0, 'l'},
        {"error-budget", required_argument, 0, 'e'}, {"list-codecs", no_argument, 0, 'L'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    const char *cmd = "bench", *dir = "bench/bundles", *json_path = NULL;
    const char *label = "unlabelled";
    char *bundle_arg = NULL, *codec_arg = NULL;
    const char *plugin_paths[MAX_PLUGINS];
    int n_plugin_paths = 0, list_only = 0;
    alcm_bench_config cfg;
    alcm_bench_config_default(&cfg);
    double budget = 0.01;
    uint64_t u;

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bundle_arg = optarg; break;
        case 'c': codec_arg = optarg; break;
        case 'd': dir = optarg; break;
        case 'j': json_path = optarg; break;
        case 'l': label = optarg; break;
        case 'L': list_only = 1; break;
        case 'r':
            if (cli_opt_u64(cmd, "--runs", optarg, 1, 1000, &u)) return 2;
            cfg.runs = (uint32_t)u;
            break;
        case 'R':
            if (cli_opt_u64(cmd, "--repeat", optarg, 1, 100, &u)) return 2;
            cfg.repeats = (uint32_t)u;
            break;
        case 'w':
            if (cli_opt_u64(cmd, "--warmup", optarg, 0, 1000, &u)) return 2;
            cfg.warmup_runs = (uint32_t)u;
            break;
        case 'e':
            if (cli_opt_error_budget(cmd, optarg, &budget)) return 2;
            break;
        case 'p':
            if (n_plugin_paths == MAX_PLUGINS) {
                cli_error(cmd, "at most %d --codec-plugin options", MAX_PLUGINS);
                return 2;
            }
            plugin_paths[n_plugin_paths++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) return 2;
    if (!list_only && !bundle_arg) {
        cli_error(cmd, "--bundle is required (e.g. --bundle all)");
        usage(stderr);
        return 2;
    }
    if (strlen(label) >= sizeof(((alcm_bench_submission *)0)->label)) {
        cli_error(cmd, "--label is longer than 127 bytes");
        return 2;
    }

    int rc = 1;
    alcm_bench_error err;
    alcm_bench_plugin *plugins[MAX_PLUGINS] = {0};
    alcm_codec *codecs[MAX_CODECS] = {0};
    int owned[MAX_CODECS] = {0};
    size_t n_codecs = 0;
    alcm_bench_result *results = NULL;
    alcm_bench_bundle *bundle = NULL;
    alcm_bench_submission sub;
    memset(&sub, 0, sizeof sub);
    char *codec_copy = NULL, *bundle_copy = NULL;

    for (int i = 0; i < n_plugin_paths; i++)
        if (alcm_bench_plugin_open(plugin_paths[i], &plugins[i], &err) != ALCM_BENCH_OK) {
            cli_error(cmd, "%s", err.message);
            goto done;
        }
    const char *const *builtin = alcm_bench_builtin_names();
    /* A plugin may not take a built-in's name or another plugin's. */
    for (int i = 0; i < n_plugin_paths; i++) {
        const char *pn = alcm_bench_plugin_codec(plugins[i])->name;
        int clash = 0;
        for (size_t b = 0; builtin[b]; b++) clash |= !strcmp(builtin[b], pn);
        for (int k = 0; k < i; k++)
            clash |= !strcmp(alcm_bench_plugin_codec(plugins[k])->name, pn);
        if (clash) {
            cli_error(cmd, "plugin %s: codec name '%s' is already taken", plugin_paths[i], pn);
            goto done;
        }
    }
    if (list_only) {
        for (size_t i = 0; builtin[i]; i++) {
            alcm_codec *bc;
            if (alcm_bench_codec_create(builtin[i], &bc, &err) != ALCM_BENCH_OK) {
                cli_error(cmd, "%s", err.message);
                goto done;
            }
            printf("%-16s built in%s%s\n", bc->name, bc->lossless ? ", lossless" : ", lossy",
                   bc->adaptive ? ", adaptive" : "");
            alcm_bench_codec_free(bc);
        }
        for (int i = 0; i < n_plugin_paths; i++) {
            alcm_codec *pc = alcm_bench_plugin_codec(plugins[i]);
            printf("%-16s plugin %s%s%s\n", pc->name, plugin_paths[i],
                   pc->lossless ? ", lossless" : ", lossy", pc->adaptive ? ", adaptive" : "");
        }
        rc = 0;
        goto done;
    }

    /* Codecs: the baseline first (deltas are relative to it), then the ones asked for. */
    const char *names[MAX_CODECS];
    int n_names = 0;
    codec_copy = strdup(codec_arg ? codec_arg : "all");
    bundle_copy = strdup(bundle_arg);
    if (!codec_copy || !bundle_copy) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    if (!strcmp(codec_copy, "all")) {
        for (size_t i = 0; builtin[i] && n_names < MAX_CODECS; i++)
            names[n_names++] = builtin[i];
        for (int i = 0; i < n_plugin_paths && n_names < MAX_CODECS; i++)
            names[n_names++] = alcm_bench_plugin_codec(plugins[i])->name;
    } else if ((n_names = split_list(codec_copy, names, MAX_CODECS - 1)) <= 0) {
        cli_error(cmd, "--codec needs a comma-separated list of names");
        rc = 2;
        goto done;
    }
    if (alcm_bench_codec_create("baseline", &codecs[0], &err) != ALCM_BENCH_OK) {
        cli_error(cmd, "%s", err.message);
        goto done;
    }
    owned[0] = 1;
    n_codecs = 1;
    for (int i = 0; i < n_names; i++) {
        const char *name = names[i];
        int dup = 0;
        for (size_t k = 0; k < n_codecs; k++) dup |= !strcmp(codecs[k]->name, name);
        if (dup) continue;
        alcm_codec *pc = NULL;
        for (int p = 0; p < n_plugin_paths && !pc; p++)
            if (!strcmp(alcm_bench_plugin_codec(plugins[p])->name, name))
                pc = alcm_bench_plugin_codec(plugins[p]);
        if (pc) {
            codecs[n_codecs++] = pc;
            continue;
        }
        if (alcm_bench_codec_create(name, &codecs[n_codecs], &err) != ALCM_BENCH_OK) {
            cli_error(cmd, "%s", err.message);
            rc = err.status == ALCM_BENCH_E_UNKNOWN ? 2 : 1;
            goto done;
        }
        owned[n_codecs++] = 1;
    }

    const char *bnames[MAX_BUNDLES];
    int n_bundles;
    if (!strcmp(bundle_copy, "all")) {
        n_bundles = (int)(sizeof k_all_bundles / sizeof k_all_bundles[0]);
        for (int i = 0; i < n_bundles; i++) bnames[i] = k_all_bundles[i];
    } else if ((n_bundles = split_list(bundle_copy, bnames, MAX_BUNDLES)) <= 0) {
        cli_error(cmd, "--bundle needs a comma-separated list of names");
        rc = 2;
        goto done;
    }

    results = calloc(n_codecs, sizeof *results);
    if (!results) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    alcm_bench_fill_metadata(&sub);
    snprintf(sub.label, sizeof sub.label, "%s", label);
    sub.runs = cfg.runs;
    sub.repeats = cfg.repeats;
    sub.warmup_runs = cfg.warmup_runs;
    sub.error_budget = budget;
    progress_state ps = {isatty(STDERR_FILENO), 0};
    cfg.progress = progress;
    cfg.progress_user = &ps;

    for (int b = 0; b < n_bundles; b++) {
        if (alcm_bench_bundle_load(dir, bnames[b], budget, &bundle, &err) != ALCM_BENCH_OK) {
            cli_error(cmd, "%s", err.message);
            goto done;
        }
        if (b == 0) print_header();
        if (alcm_bench_run(bundle, codecs, n_codecs, &cfg, results, &err) != ALCM_BENCH_OK) {
            if (ps.active) fputs("\r\033[K", stderr);
            cli_error(cmd, "%s", err.message);
            goto done;
        }
        alcm_bench_bundle_info info;
        memset(&info, 0, sizeof info);
        snprintf(info.name, sizeof info.name, "%s", bundle->name);
        memcpy(info.manifest_sha256, bundle->manifest->sha256, sizeof info.manifest_sha256);
        info.files = (uint32_t)bundle->manifest->n_entries;
        info.bytes = bundle->total_bytes;
        if (alcm_bench_submission_add_bundle(&sub, &info) != ALCM_BENCH_OK) {
            cli_error(cmd, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < n_codecs; k++) {
            print_row(&results[k]);
            if (alcm_bench_submission_add_result(&sub, &results[k]) != ALCM_BENCH_OK) {
                cli_error(cmd, "out of memory");
                goto done;
            }
        }
        fflush(stdout);
        alcm_bench_bundle_free(bundle);
        bundle = NULL;
    }
    if (json_path && write_json(cmd, json_path, &sub) != 0) goto done;
    rc = 0;
done:
    alcm_bench_bundle_free(bundle);
    alcm_bench_submission_clear(&sub);
    free(results);
    for (size_t k = 0; k < n_codecs; k++)
        if (owned[k]) alcm_bench_codec_free(codecs[k]);
    for (int i = 0; i < n_plugin_paths; i++) alcm_bench_plugin_close(plugins[i]);
    free(codec_copy);
    free(bundle_copy);
    return rc;
}
