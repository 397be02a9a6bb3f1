/* cmd_bench_core.c - `alcm-bench bench-core`: speed (single-thread by default, or with the
 * contexts' worker threads), ratio and peak memory of the gradient encoder, the lossless
 * mode and the zlib-6 baseline, side by side in one run. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alcm_tools.h"
#include "bench_cli.h"

typedef struct {
    const char *name;
    alcm_profile profile;
    alcm_backend backend;
    alcm_entropy_mode mode;
} config;

static const config k_configs[] = {
    {"baseline-zlib6", ALCM_PROFILE_BASELINE, ALCM_BACKEND_AUTO, ALCM_ENTROPY_LEARNED},
    {"gradient", ALCM_PROFILE_GRADIENT, ALCM_BACKEND_AUTO, ALCM_ENTROPY_LEARNED},
    {"gradient-measured", ALCM_PROFILE_GRADIENT, ALCM_BACKEND_AUTO, ALCM_ENTROPY_MEASURED},
    {"gradient-zlib", ALCM_PROFILE_GRADIENT, ALCM_BACKEND_ZLIB, ALCM_ENTROPY_LEARNED},
    {"gradient-zstd", ALCM_PROFILE_GRADIENT, ALCM_BACKEND_ZSTD, ALCM_ENTROPY_LEARNED},
    {"lossless", ALCM_PROFILE_LOSSLESS, ALCM_BACKEND_AUTO, ALCM_ENTROPY_LEARNED},
    {"lossless-zlib", ALCM_PROFILE_LOSSLESS, ALCM_BACKEND_ZLIB, ALCM_ENTROPY_LEARNED},
    {"lossless-zstd", ALCM_PROFILE_LOSSLESS, ALCM_BACKEND_ZSTD, ALCM_ENTROPY_LEARNED},
};
#define N_CONFIGS (sizeof k_configs / sizeof k_configs[0])

/* What a measuring child reports back through its pipe. */
typedef struct {
    int status;              /* alcm_status, or 1 for a verification failure */
    double ratio;
    double rel_l2_error;
    double mean_bits;
    double compress_cpu_s;   /* median over runs, this thread's CPU time */
    double decompress_cpu_s;
    double compress_wall_s;  /* median over runs, elapsed time */
    double decompress_wall_s;
    double compress_proc_s;  /* median over runs, CPU time of every thread of the process */
    double decompress_proc_s;
    uint64_t blob_bytes;
    uint64_t rss_before;     /* resident bytes just before the first compression */
    uint64_t peak_rss;       /* peak resident bytes of the child */
    int backend;
    int verified;
} result;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm-bench bench-core [options]\n"
            "\n"
            "Compresses one tensor (default: a 64 MiB synthetic gradient, 4096x4096 f32) with\n"
            "the zlib-6 baseline, the gradient encoder (learned and measured entropy, each\n"
            "backend) and the lossless mode, each in its own process so peak memory is its\n"
            "own. Every blob is decoded and verified. Speeds are single-thread: input MB per\n"
            "CPU second of the calling thread (median of --runs).\n"
            "\n"
            "  --size DIMS        tensor shape (default 4096x4096)\n"
            "  --family NAME      gaussian, laplace, sparse, heavy, mixed, gradient (default)\n"
            "  --error-budget E   gradient budget (default 0.01)\n"
            "  --runs N           timed runs per encoder (default 3)\n"
            "  --threads N        worker threads of the contexts (default 1); MB/s are then\n"
            "                     also given per elapsed second and per CPU second of all\n"
            "                     threads\n"
            "  --only NAME[,..]   run only these configurations\n"
            "  --json FILE        also write the figures as JSON\n"
            "  -h, --help         this help\n");
}

static uint64_t current_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%llu %llu", &size, &res) != 2) res = 0;
    fclose(f);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static double clock_seconds(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Runs in the child: compress `runs` times, decompress `runs` times, verify, report. */
static void measure(const config *cfg, const alcm_shape *shape, const float *x, size_t bytes,
                    double budget, unsigned runs, unsigned threads, result *r)
{
    memset(r, 0, sizeof *r);
    alcm_params p;
    alcm_params_default(&p, cfg->profile);
    p.backend = cfg->backend;
    p.entropy_mode = cfg->mode;
    p.error_budget = budget;
    if (cfg->profile == ALCM_PROFILE_LOSSLESS) p.dtype = ALCM_DTYPE_F32;

    r->rss_before = current_rss();
    size_t cap = alcm_compress_bound(bytes);
    uint8_t *blob = malloc(cap);
    alcm_cctx *cctx = alcm_cctx_create();
    alcm_dctx *dctx = alcm_dctx_create();
    double ct[64], dt[64], cw[64], dw[64], cp[64], dp[64];
    size_t blen = 0;
    alcm_info info;
    if (!blob || !cctx || !dctx) {
        r->status = ALCM_E_NOMEM;
        return;
    }
    if (alcm_cctx_set_threads(cctx, threads) != ALCM_OK ||
        alcm_dctx_set_threads(dctx, threads) != ALCM_OK) {
        r->status = ALCM_E_ARG;
        return;
    }
    for (unsigned i = 0; i < runs; i++) {
        double w0 = clock_seconds(CLOCK_MONOTONIC), p0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        double t0 = alcm_thread_cpu_seconds();
        alcm_status st = alcm_compress(cctx, &p, shape, x, bytes, NULL, blob, cap, &blen, &info);
        ct[i] = alcm_thread_cpu_seconds() - t0;
        cp[i] = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - p0;
        cw[i] = clock_seconds(CLOCK_MONOTONIC) - w0;
        if (st != ALCM_OK) {
            r->status = st;
            return;
        }
    }
    /* The decode buffer is allocated after compression so the peak reflects the encoder
     * (input + working memory + blob); decoding is reported for speed only. */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->peak_rss = (uint64_t)ru.ru_maxrss * 1024u;

    float *y = malloc(bytes ? bytes : 1);
    if (!y) {
        r->status = ALCM_E_NOMEM;
        return;
    }
    size_t out_len = 0;
    for (unsigned i = 0; i < runs; i++) {
        double w0 = clock_seconds(CLOCK_MONOTONIC), p0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        double t0 = alcm_thread_cpu_seconds();
        alcm_status st = alcm_decompress(dctx, blob, blen, y, bytes, &out_len);
        dt[i] = alcm_thread_cpu_seconds() - t0;
        dp[i] = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - p0;
        dw[i] = clock_seconds(CLOCK_MONOTONIC) - w0;
        if (st != ALCM_OK || out_len != bytes) {
            r->status = st != ALCM_OK ? st : 1;
            return;
        }
    }
    r->rel_l2_error = alcm_rel_l2_error(x, y, bytes / sizeof(float));
    if (cfg->profile == ALCM_PROFILE_GRADIENT)
        r->verified = r->rel_l2_error <= budget * (1 + 1e-9);
    else
        r->verified = memcmp(x, y, bytes) == 0;
    r->status = r->verified ? ALCM_OK : 1;
    r->ratio = blen ? (double)bytes / (double)blen : 0;
    r->mean_bits = info.mean_bits;
    r->blob_bytes = blen;
    r->backend = info.backend;
    r->compress_cpu_s = median(ct, runs);
    r->decompress_cpu_s = median(dt, runs);
    r->compress_wall_s = median(cw, runs);
    r->decompress_wall_s = median(dw, runs);
    r->compress_proc_s = median(cp, runs);
    r->decompress_proc_s = median(dp, runs);
    free(y);
    free(blob);
    alcm_cctx_free(cctx);
    alcm_dctx_free(dctx);
}

static int run_child(const config *cfg, const alcm_shape *shape, const float *x, size_t bytes,
                     double budget, unsigned runs, unsigned threads, result *r)
{
    int fds[2];
    if (pipe(fds)) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        result res;
        measure(cfg, shape, x, bytes, budget, runs, threads, &res);
        ssize_t w = write(fds[1], &res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    close(fds[1]);
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t k = read(fds[0], (char *)r + got, sizeof *r - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fds[0]);
    int wst;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {}
    return got == sizeof *r && WIFEXITED(wst) && WEXITSTATUS(wst) == 0 ? 0 : -1;
}

static int family_by_name(const char *s, alcm_synth_family *f)
{
    static const struct { const char *n; alcm_synth_family f; } t[] = {
        {"gaussian", ALCM_SYNTH_GAUSSIAN}, {"laplace", ALCM_SYNTH_LAPLACE},
        {"sparse", ALCM_SYNTH_SPARSE},     {"heavy", ALCM_SYNTH_HEAVY},
        {"mixed", ALCM_SYNTH_MIXED_SCALE}, {"gradient", ALCM_SYNTH_GRADIENT},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].n)) {
            *f = t[i].f;
            return 0;
        }
    return -1;
}

static int selected(const char *only, const char *name)
{
    if (!only) return 1;
    size_t len = strlen(name);
    for (const char *p = only; *p;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == len && !strncmp(p, name, l)) return 1;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

int cmd_bench_core(int argc, char **argv)
{
    static const struct option opts[] = {
        {"size", required_argument, 0, 's'},   {"family", required_argument, 0, 'f'},
        {"error-budget", required_argument, 0, 'e'}, {"runs", required_argument, 0, 'n'},
        {"only", required_argument, 0, 'o'},   {"json", required_argument, 0, 'j'},
        {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    const char *cmd = "bench-core", *json_path = NULL, *only = NULL, *family_name = "gradient";
    alcm_shape shape;
    cli_parse_shape("4096x4096", &shape);
    alcm_synth_family family = ALCM_SYNTH_GRADIENT;
    double budget = 0.01;
    uint64_t runs = 3, threads = 1;
    int threads_given = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (cli_opt_shape(cmd, "--size", optarg, &shape)) return 2;
            break;
        case 'f':
            if (family_by_name(optarg, &family)) {
                cli_error(cmd, "unknown --family '%s'", optarg);
                return 2;
            }
            family_name = optarg;
            break;
        case 'e':
            if (cli_opt_error_budget(cmd, optarg, &budget)) return 2;
            break;
        case 'n':
            if (cli_opt_u64(cmd, "--runs", optarg, 1, 64, &runs)) return 2;
            break;
        case 't':
            if (cli_opt_u64(cmd, "--threads", optarg, 1, ALCM_MAX_THREADS, &threads)) return 2;
            threads_given = 1;
            break;
        case 'o': only = optarg; break;
        case 'j': json_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) return 2;
    size_t n, row;
    if (cli_synth_extent(cmd, &shape, 30, &n, &row)) return 2;
    size_t bytes = n * sizeof(float);
    float *x = cli_synth_tensor(family, n, row, 42);
    if (!x) {
        cli_error(cmd, "cannot allocate %zu bytes", bytes);
        return 1;
    }

    result res[N_CONFIGS];
    int ok[N_CONFIGS];
    char sb[128];
    cli_format_shape(&shape, sb, sizeof sb);
    printf("bench-core: %s f32 %s tensor (%.1f MiB), error budget %.3g, median of %llu runs, "
           "%llu thread%s\n\n",
           sb, family_name, bytes / 1048576.0, budget, (unsigned long long)runs,
           (unsigned long long)threads, threads == 1 ? "" : "s");
    printf("%-18s %8s %10s %10s %8s %9s %9s %8s %7s", "encoder", "ratio", "comp MB/s",
           "dec MB/s", "vs base", "rel L2", "peak MiB", "peak/in", "backend");
    if (threads_given)
        printf(" %10s %10s %10s %10s", "comp wall", "dec wall", "comp all", "dec all");
    printf("\n");
    double base_mbs = 0;
    int failed = 0;
    for (size_t i = 0; i < N_CONFIGS; i++) {
        ok[i] = 0;
        if (!selected(only, k_configs[i].name) && i != 0) continue;
        if (run_child(&k_configs[i], &shape, x, bytes, budget, (unsigned)runs,
                      (unsigned)threads, &res[i]) ||
            res[i].status != ALCM_OK) {
            cli_error(cmd, "%s: %s", k_configs[i].name,
                      res[i].status < 0 ? alcm_strerror((alcm_status)res[i].status)
                                        : "measurement or verification failed");
            failed = 1;
            continue;
        }
        ok[i] = 1;
        result *r = &res[i];
        double mbs = bytes / 1e6 / fmax(r->compress_cpu_s, 1e-9);
        double dmbs = bytes / 1e6 / fmax(r->decompress_cpu_s, 1e-9);
        if (i == 0) base_mbs = mbs;
        printf("%-18s %8.3f %10.1f %10.1f %7.1fx %9.5f %9.1f %8.2f %7s", k_configs[i].name,
               r->ratio, mbs, dmbs, base_mbs > 0 ? mbs / base_mbs : 0, r->rel_l2_error,
               r->peak_rss / 1048576.0, (double)r->peak_rss / (double)bytes,
               cli_backend_name((alcm_backend)r->backend));
        if (threads_given)
            printf(" %10.1f %10.1f %10.1f %10.1f", bytes / 1e6 / fmax(r->compress_wall_s, 1e-9),
                   bytes / 1e6 / fmax(r->decompress_wall_s, 1e-9),
                   bytes / 1e6 / fmax(r->compress_proc_s, 1e-9),
                   bytes / 1e6 / fmax(r->decompress_proc_s, 1e-9));
        printf("\n");
    }
    printf("\nMB/s = input MB per CPU second of one thread; peak = peak resident memory of the\n"
           "measuring process (input tensor included); vs base = speed over zlib-6.\n");
    if (threads_given)
        printf("wall = input MB per elapsed second; all = input MB per CPU second of every\n"
               "thread of the process (a machine shared with other work lowers wall, not all).\n");

    if (json_path) {
        cli_json j;
        if (cli_json_open(&j, json_path)) {
            cli_error(cmd, "cannot write '%s': %s", json_path, strerror(errno));
            free(x);
            return 1;
        }
        cli_json_begin_object(&j, NULL);
        cli_json_string(&j, "benchmark", "bench-core");
        cli_json_string(&j, "version", ALCM_VERSION_STRING);
        cli_json_string(&j, "shape", sb);
        cli_json_string(&j, "family", family_name);
        cli_json_int(&j, "input_bytes", (int64_t)bytes);
        cli_json_number(&j, "error_budget", budget);
        cli_json_int(&j, "runs", (int64_t)runs);
        cli_json_int(&j, "threads", (int64_t)threads);
        cli_json_begin_array(&j, "results");
        for (size_t i = 0; i < N_CONFIGS; i++) {
            if (!ok[i]) continue;
            result *r = &res[i];
            double mbs = bytes / 1e6 / fmax(r->compress_cpu_s, 1e-9);
            cli_json_begin_object(&j, NULL);
            cli_json_string(&j, "encoder", k_configs[i].name);
            cli_json_string(&j, "profile", cli_profile_name(k_configs[i].profile));
            cli_json_string(&j, "backend", cli_backend_name((alcm_backend)r->backend));
            cli_json_number(&j, "ratio", r->ratio);
            cli_json_int(&j, "blob_bytes", (int64_t)r->blob_bytes);
            cli_json_number(&j, "compress_cpu_seconds", r->compress_cpu_s);
            cli_json_number(&j, "decompress_cpu_seconds", r->decompress_cpu_s);
            cli_json_number(&j, "compress_wall_seconds", r->compress_wall_s);
            cli_json_number(&j, "decompress_wall_seconds", r->decompress_wall_s);
            cli_json_number(&j, "compress_process_cpu_seconds", r->compress_proc_s);
            cli_json_number(&j, "decompress_process_cpu_seconds", r->decompress_proc_s);
            cli_json_number(&j, "compress_mb_s", mbs);
            cli_json_number(&j, "decompress_mb_s", bytes / 1e6 / fmax(r->decompress_cpu_s, 1e-9));
            cli_json_number(&j, "speed_vs_baseline", base_mbs > 0 ? mbs / base_mbs : 0);
            cli_json_number(&j, "caq", alcm_caq(r->ratio, r->compress_cpu_s));
            cli_json_number(&j, "rel_l2_error", r->rel_l2_error);
            cli_json_number(&j, "mean_bits", r->mean_bits);
            cli_json_int(&j, "peak_rss_bytes", (int64_t)r->peak_rss);
            cli_json_int(&j, "rss_before_bytes", (int64_t)r->rss_before);
            cli_json_number(&j, "peak_over_input", (double)r->peak_rss / (double)bytes);
            cli_json_bool(&j, "verified", r->verified);
            cli_json_end_object(&j);
        }
        cli_json_end_array(&j);
        cli_json_end_object(&j);
        if (cli_json_close(&j)) {
            cli_error(cmd, "cannot write '%s': %s", json_path, strerror(errno));
            failed = 1;
        }
    }
    free(x);
    return failed ? 1 : 0;
}
