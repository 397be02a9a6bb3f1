/* cmd_ablation.c - `alcm-bench ablation`: the ablation table of docs/DESIGN.md in one run on
 * real gradients. Part 1, the grad_fmnist bundle, every file compressed whole through the
 * libalcm API: learned vs measured vs flat entropy map (params.entropy_mode), per-channel
 * steps vs one step per tensor (the tensor flattened with block_size = its element count),
 * and the global-q peer. Part 2, the stream scheduler against every static aggressiveness:
 * the grad_fmnist training run replayed (same data, seed and optimiser, every one of its
 * steps, checked against the bundle's captured steps), each layer tensor one stream with
 * error feedback, each setting on its own streams over the same gradients. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alcm.h"
#include "alcm_tools.h"
#include "alcm_bench.h"
#include "bench_cli.h"
#include "fmnist.h"

#define BATCH 64
#define MAX_TENSORS 16

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm-bench ablation [--bundles DIR] [--repeat K] [--steps N] [--data DIR]\n\n"
            "Prints the ablation tables of docs/DESIGN.md, measured in one run on real\n"
            "gradients. Part 1, on the grad_fmnist bundle (every file compressed whole, CPU\n"
            "time best of K, default 3): learned, measured and flat entropy maps, per-channel\n"
            "steps vs one step per tensor, and the global-q peer, at 1 %% and 5 %% budgets.\n"
            "Part 2: the bundle's training run replayed for N steps (default 400, the\n"
            "bundle's last), each layer tensor one stream with error feedback, the adaptive\n"
            "scheduler (at its defaults and without pruning) against static aggressiveness\n"
            "0, 0.25, 0.5, 0.75 and 1.\n\n"
            "  --bundles DIR  where bench/make-bundles put them (default bench/bundles)\n"
            "  --repeat K     timing passes per file in part 1 (default 3)\n"
            "  --steps N      training steps replayed in part 2 (default 400)\n"
            "  --data DIR     Fashion-MNIST directory (default %s)\n",
            ALCM_FMNIST_DEFAULT_DIR);
}

/* ------------------------------------------------------------------------------------------
 * Part 1: one-shot settings on the bundle
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    const char *map, *steps;
    alcm_entropy_mode mode;
    int one_step;   /* 1: flattened, one channel per tensor */
    int peer;       /* 1: the global-q peer codec instead of libalcm */
} oneshot_setting;

static const oneshot_setting k_oneshot[] = {
    {"learned (default)", "per channel (default)", ALCM_ENTROPY_LEARNED, 0, 0},
    {"measured", "per channel", ALCM_ENTROPY_MEASURED, 0, 0},
    {"flat", "per channel", ALCM_ENTROPY_FLAT, 0, 0},
    {"learned", "one per tensor", ALCM_ENTROPY_LEARNED, 1, 0},
    {"—", "`global-q` peer (one step, int8/int16 + zstd-1)", ALCM_ENTROPY_LEARNED, 0, 1},
};

/* Runs one setting over every file of the bundle: *ratio over the bundle, *mb_s = raw MB /
 * the sum of each file's best CPU seconds, *max_err the largest per-file error. */
static int run_oneshot(const char *cmd, const alcm_bench_bundle *b, const oneshot_setting *s,
                       double budget, unsigned repeat, double *ratio, double *mb_s,
                       double *max_err)
{
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    alcm_codec *peer = NULL;
    alcm_bench_error err;
    if (s->peer && alcm_bench_codec_create("global-q", &peer, &err) != ALCM_BENCH_OK) {
        cli_error(cmd, "%s", err.message);
        return -1;
    }
    uint64_t raw = 0, packed = 0;
    double cpu = 0.0, worst = 0.0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < b->manifest->n_entries; i++) {
        const alcm_bench_entry *e = &b->manifest->entries[i];
        size_t bytes = (size_t)e->size, n = bytes / 4;
        const float *x = (const float *)b->data[i];
        alcm_codec_item item = e->item;
        item.error_budget = budget;
        size_t cap = peer ? peer->bound(peer, &item, bytes) : alcm_compress_bound(bytes);
        uint8_t *blob = malloc(cap);
        float *y = malloc(bytes ? bytes : 1);
        if (!cx || !dx || !blob || !y) {
            cli_error(cmd, "out of memory");
            rc = -1;
        }
        alcm_params p;
        alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
        p.error_budget = budget;
        p.entropy_mode = s->mode;
        alcm_shape sh;
        sh.rank = e->item.rank;
        for (uint32_t d = 0; d < ALCM_MAX_RANK; d++) sh.dims[d] = d < sh.rank ? e->item.dims[d] : 0;
        if (s->one_step) {
            alcm_shape_1d(&sh, n);
            p.block_size = n < 16 ? 16 : (uint32_t)n;
        }
        double best = INFINITY;
        size_t len = 0, out = 0;
        for (unsigned k = 0; rc == 0 && k < repeat; k++) {
            double t0 = alcm_thread_cpu_seconds();
            int st = peer ? peer->compress(peer, &item, x, bytes, blob, cap, &len)
                          : (int)alcm_compress(cx, &p, &sh, x, bytes, NULL, blob, cap, &len, NULL);
            double t = alcm_thread_cpu_seconds() - t0;
            if (st != 0) {
                cli_error(cmd, "%s: compress failed (%d)", e->file, st);
                rc = -1;
            }
            if (t < best) best = t;
        }
        if (rc == 0) {
            int st = peer ? peer->decompress(peer, &item, blob, len, y, bytes, &out)
                          : (int)alcm_decompress(dx, blob, len, y, bytes, &out);
            if (st != 0 || out != bytes) {
                cli_error(cmd, "%s: decode failed (%d)", e->file, st);
                rc = -1;
            } else {
                double er = alcm_rel_l2_error(x, y, n);
                if (er > budget * (1 + 1e-6)) {
                    cli_error(cmd, "%s: error %.6f above the budget", e->file, er);
                    rc = -1;
                }
                worst = er > worst ? er : worst;
                raw += bytes;
                packed += len;
                cpu += best;
            }
        }
        free(blob);
        free(y);
    }
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
    alcm_bench_codec_free(peer);
    if (rc) return rc;
    *ratio = (double)raw / (double)packed;
    *mb_s = cpu > 0 ? (double)raw / 1e6 / cpu : 0.0;
    *max_err = worst;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Part 2: the scheduler against static settings on a replayed training run
 * ---------------------------------------------------------------------------------------- */

/* Settings: the scheduler (adaptive on) at its defaults, the scheduler without pruning
 * (prune_max 0), then each static aggressiveness (adaptive off, no pruning). */
#define N_SCHED_SETTINGS 2
#define N_STREAM_SETTINGS (N_SCHED_SETTINGS + 5)
static const double k_static[N_STREAM_SETTINGS - N_SCHED_SETTINGS] = {0.0, 0.25, 0.5, 0.75, 1.0};

typedef struct {
    alcm_stream *s[MAX_TENSORS];
    float *sum_dec[MAX_TENSORS];   /* Σ decoded gradients, per tensor */
    uint64_t raw, packed;
    double cpu, max_err;
} stream_run;

/* One setting's streams (k_static and the settings above). */
static int stream_run_init(stream_run *r, int setting, double budget, uint32_t nt,
                           const size_t *numel)
{
    memset(r, 0, sizeof *r);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.params.error_budget = budget;
    cfg.sched.error_budget = budget;
    cfg.error_feedback = 1;
    cfg.adaptive = setting < N_SCHED_SETTINGS; /* streams default to static since this table */
    if (setting == 1) cfg.sched.prune_max = 0.0;
    if (setting >= N_SCHED_SETTINGS) {
        cfg.adaptive = 0;
        cfg.params.aggressiveness = k_static[setting - N_SCHED_SETTINGS];
    }
    for (uint32_t t = 0; t < nt; t++) {
        if (alcm_stream_create(&cfg, &r->s[t]) != ALCM_OK) return -1;
        r->sum_dec[t] = calloc(numel[t], sizeof(float));
        if (!r->sum_dec[t]) return -1;
    }
    return 0;
}

static void stream_run_free(stream_run *r, uint32_t nt)
{
    for (uint32_t t = 0; t < nt; t++) {
        alcm_stream_free(r->s[t]);
        free(r->sum_dec[t]);
    }
}

/* Loads the bundle file holding step `step`'s gradient of tensor t, if the bundle has it,
 * and compares it with g: 1 equal, 0 no such file, -1 different. */
static int check_against_bundle(const alcm_bench_bundle *b, unsigned step,
                                const alcm_fmnist_mlp_tensor *t, const float *g)
{
    char name[96];
    snprintf(name, sizeof name, "grad_step%04u_l%u_%s.f32", step, (unsigned)t->layer,
             t->is_bias ? "bias" : "weight");
    for (size_t i = 0; i < b->manifest->n_entries; i++)
        if (!strcmp(b->manifest->entries[i].file, name)) {
            size_t bytes = (size_t)t->rows * t->cols * sizeof(float);
            return b->manifest->entries[i].size == bytes && !memcmp(b->data[i], g, bytes) ? 1 : -1;
        }
    return 0;
}

static int run_streams(const char *cmd, const char *data, const alcm_bench_bundle *bundle,
                       unsigned steps, const double *budgets, size_t nbud)
{
    char msg[512];
    alcm_fmnist_set set;
    if (alcm_fmnist_load(data, "train", &set, msg, sizeof msg) != ALCM_FMNIST_OK) {
        cli_error(cmd, "%s", msg);
        return -1;
    }
    alcm_fmnist_mlp_config mcfg;
    alcm_fmnist_mlp_config_default(&mcfg);
    mcfg.seed = 42;
    alcm_fmnist_mlp *mlp = alcm_fmnist_mlp_create(&mcfg);
    size_t np = mlp ? alcm_fmnist_mlp_param_count(mlp) : 0;
    float *grad = malloc(np * sizeof *grad), *x = malloc((size_t)BATCH * 784 * sizeof *x);
    float *dec = malloc(np * sizeof *dec), *sum_x = calloc(np, sizeof *sum_x);
    uint32_t *order = malloc((size_t)set.count * sizeof *order);
    size_t cap = alcm_compress_bound(np * sizeof(float));
    uint8_t *blob = malloc(cap), y[BATCH];
    stream_run runs[2][N_STREAM_SETTINGS];
    memset(runs, 0, sizeof runs);
    alcm_fmnist_mlp_tensor tens[MAX_TENSORS];
    size_t numel[MAX_TENSORS];
    uint32_t nt = mlp ? alcm_fmnist_mlp_tensor_count(mlp) : 0;
    alcm_dctx *dx = alcm_dctx_create();
    int rc = -1, matched = 0;
    if (!mlp || !grad || !x || !dec || !sum_x || !order || !blob || !dx || nt > MAX_TENSORS ||
        nbud > 2) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    for (uint32_t t = 0; t < nt; t++) {
        alcm_fmnist_mlp_tensor_info(mlp, t, &tens[t]);
        numel[t] = (size_t)tens[t].rows * tens[t].cols;
    }
    for (size_t k = 0; k < nbud; k++)
        for (int s = 0; s < N_STREAM_SETTINGS; s++)
            if (stream_run_init(&runs[k][s], s, budgets[k], nt, numel) != 0) {
                cli_error(cmd, "cannot create the streams");
                goto done;
            }
    alcm_rng rng;
    alcm_rng_seed(&rng, 42);
    alcm_fmnist_shuffle(&rng, order, set.count);
    size_t pos = 0;
    for (unsigned step = 1; step <= steps; step++) {
        if (pos + BATCH > set.count) {
            alcm_fmnist_shuffle(&rng, order, set.count);
            pos = 0;
        }
        if (alcm_fmnist_gather(&set, order + pos, BATCH, x, y) != ALCM_FMNIST_OK ||
            alcm_fmnist_mlp_backward(mlp, x, y, BATCH, grad, NULL) != ALCM_FMNIST_OK) {
            cli_error(cmd, "training step %u failed", step);
            goto done;
        }
        pos += BATCH;
        for (uint32_t t = 0; t < nt; t++) {
            const float *g = grad + tens[t].offset;
            int m = check_against_bundle(bundle, step, &tens[t], g);
            if (m < 0) {
                cli_error(cmd, "step %u, tensor %u differs from the grad_fmnist bundle", step,
                          (unsigned)t);
                goto done;
            }
            matched += m;
            for (size_t i = 0; i < numel[t]; i++) sum_x[tens[t].offset + i] += g[i];
            alcm_shape sh = {2, {tens[t].rows, tens[t].cols}};
            if (tens[t].is_bias) alcm_shape_1d(&sh, numel[t]);
            for (size_t k = 0; k < nbud; k++)
                for (int s = 0; s < N_STREAM_SETTINGS; s++) {
                    stream_run *r = &runs[k][s];
                    size_t len = 0, out = 0;
                    alcm_info info;
                    double t0 = alcm_thread_cpu_seconds();
                    alcm_status st = alcm_stream_compress(r->s[t], &sh, g, numel[t] * 4, blob,
                                                          cap, &len, &info, NULL);
                    r->cpu += alcm_thread_cpu_seconds() - t0;
                    if (st != ALCM_OK ||
                        alcm_decompress(dx, blob, len, dec, numel[t] * 4, &out) != ALCM_OK ||
                        out != numel[t] * 4) {
                        cli_error(cmd, "stream step %u failed: %s", step, alcm_strerror(st));
                        goto done;
                    }
                    r->raw += numel[t] * 4;
                    r->packed += len;
                    if (info.rel_l2_error > r->max_err) r->max_err = info.rel_l2_error;
                    for (size_t i = 0; i < numel[t]; i++) r->sum_dec[t][i] += dec[i];
                }
        }
        alcm_fmnist_mlp_apply(mlp, grad);
    }
    printf("\nPart 2: %u training steps of the grad_fmnist run replayed (%d of its tensors "
           "checked equal to the bundle's files), %u layer tensors, one stream each with error "
           "feedback; CPU time of alcm_stream_compress\n\n",
           steps, matched, (unsigned)nt);
    printf("| budget | setting | ratio | encode MB/s | max step error | error of the summed "
           "gradient | final knobs (layer 0 weight) |\n|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < nbud; k++)
        for (int s = 0; s < N_STREAM_SETTINGS; s++) {
            stream_run *r = &runs[k][s];
            double num = 0.0, den = 0.0;
            for (uint32_t t = 0; t < nt; t++)
                for (size_t i = 0; i < numel[t]; i++) {
                    double a = sum_x[tens[t].offset + i], d = a - r->sum_dec[t][i];
                    num += d * d;
                    den += a * a;
                }
            alcm_sched_state ss;
            alcm_stream_get_state(r->s[0], &ss);
            char setting[64];
            double aggr = ss.aggressiveness, prune = ss.prune_ratio;
            if (s == 0) snprintf(setting, sizeof setting, "scheduler (adaptive)");
            else if (s == 1) snprintf(setting, sizeof setting, "scheduler, prune_max 0");
            else {
                aggr = k_static[s - N_SCHED_SETTINGS];
                prune = 0.0;
                snprintf(setting, sizeof setting, "static aggressiveness %g", aggr);
            }
            printf("| %g %% | %s | %.3f | %.0f | %.3f %% | %.3f %% | aggr. %.2f, prune %.3f |\n",
                   100 * budgets[k], setting, (double)r->raw / (double)r->packed,
                   r->cpu > 0 ? (double)r->raw / 1e6 / r->cpu : 0.0, 100 * r->max_err,
                   100 * sqrt(num / den), aggr, prune);
        }
    rc = 0;
done:
    for (size_t k = 0; k < 2; k++)
        for (int s = 0; s < N_STREAM_SETTINGS; s++) stream_run_free(&runs[k][s], nt);
    alcm_dctx_free(dx);
    free(grad);
    free(x);
    free(dec);
    free(sum_x);
    free(order);
    free(blob);
    alcm_fmnist_mlp_free(mlp);
    alcm_fmnist_set_free(&set);
    return rc;
}

int cmd_ablation(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundles", required_argument, 0, 'd'}, {"repeat", required_argument, 0, 'R'},
        {"steps", required_argument, 0, 's'},   {"data", required_argument, 0, 'D'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    const char *cmd = "ablation", *dir = "bench/bundles", *data = ALCM_FMNIST_DEFAULT_DIR;
    unsigned repeat = 3, steps = 400;
    uint64_t u;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'D': data = optarg; break;
        case 'R':
            if (cli_opt_u64(cmd, "--repeat", optarg, 1, 100, &u)) return 2;
            repeat = (unsigned)u;
            break;
        case 's':
            if (cli_opt_u64(cmd, "--steps", optarg, 1, 100000, &u)) return 2;
            steps = (unsigned)u;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) return 2;
    const double budgets[2] = {0.01, 0.05};
    alcm_bench_error err;
    alcm_bench_bundle *b = NULL;
    if (alcm_bench_bundle_load(dir, "grad_fmnist", 0.01, &b, &err) != ALCM_BENCH_OK) {
        cli_error(cmd, "%s", err.message);
        return 1;
    }
    printf("Part 1: grad_fmnist, %zu files, %.2f MB, every file compressed whole, CPU time "
           "best of %u per file\n\n", b->manifest->n_entries, (double)b->total_bytes / 1e6,
           repeat);
    printf("| budget | entropy map | steps | ratio | encode MB/s | max error |\n"
           "|---|---|---|---|---|---|\n");
    int rc = 0;
    for (size_t k = 0; k < 2 && rc == 0; k++)
        for (size_t s = 0; s < sizeof k_oneshot / sizeof k_oneshot[0] && rc == 0; s++) {
            double ratio, mb_s, max_err;
            rc = run_oneshot(cmd, b, &k_oneshot[s], budgets[k], repeat, &ratio, &mb_s,
                             &max_err);
            if (rc == 0)
                printf("| %g %% | %s | %s | %.3f | %.0f | %.3f %% |\n", 100 * budgets[k],
                       k_oneshot[s].map, k_oneshot[s].steps, ratio, mb_s, 100 * max_err);
            fflush(stdout);
        }
    if (rc == 0) rc = run_streams(cmd, data, b, steps, budgets, 2);
    alcm_bench_bundle_free(b);
    return rc ? 1 : 0;
}
