/* cmd_experiment.c - `alcm-bench experiment`: synthetic gradients through one adaptive stream,
 * epoch by epoch, against the zlib-6 baseline (the original run_adaptive_train) and the two
 * simple lossy peers global-q and int8-zstd at the same error budget. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_bench.h"
#include "alcm_tools.h"
#include "alcmc.h"
#include "bench_cli.h"

typedef struct {
    unsigned epoch;
    double base_ratio, base_cpu, base_caq;
    double ratio, cpu, caq, rel_l2, gain_pct;
    double aggressiveness, prune_ratio, bits;
    double peer_ratio[2], peer_cpu[2], peer_caq[2], peer_err[2]; /* global-q, int8-zstd */
} epoch_row;

/* The lossy peers printed beside the baseline: a fair comparison at the same budget. */
static const char *const k_peers[2] = {"global-q", "int8-zstd"};
static const char *const k_peer_keys[2] = {"global_q", "int8_zstd"};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm-bench experiment [options]\n"
            "\n"
            "Generates one synthetic gradient per epoch (seeded), compresses it with the zlib-6\n"
            "baseline, the lossy peers global-q (one uniform step sized to the budget +\n"
            "zstd-1) and int8-zstd (int8 per row + zstd-1), and through one adaptive ALCM\n"
            "stream, decodes each, and prints per epoch: ratio and CAQ of each, the relative\n"
            "L2 error of ALCM, and ALCM's CAQ gain over the baseline (a lossy codec against a\n"
            "lossless one: the peers' columns are the fair comparison).\n"
            "CAQ = ratio / (cpu_seconds + 1), cpu seconds = this thread's CPU time.\n"
            "\n"
            "  --epochs N          epochs (default 10)\n"
            "  --size DIMS         tensor shape (default 100x100)\n"
            "  --seed N            generator seed (default 42)\n"
            "  --error-budget E    relative L2 error budget (default 0.01)\n"
            "  --error-feedback    carry the quantisation residual across epochs\n"
            "  --deterministic     scheduler uses the cost model instead of measured time\n"
            "  --socket PATH       run the ALCM side through the alcmd at PATH (the stream is\n"
            "                      reset first); the baseline stays in-process\n"
            "  --stream NAME       daemon stream name (default \"experiment\")\n"
            "  --json FILE         also write the figures as JSON\n"
            "  -h, --help          this help\n");
}

static int write_json(const char *path, const epoch_row *rows, unsigned n, const alcm_shape *shape,
                      uint64_t seed, double budget, double mean_gain, double mean_err,
                      double mean_base_ratio, double mean_ratio)
{
    cli_json j;
    if (cli_json_open(&j, path)) return -1;
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "experiment", "adaptive_train");
    cli_json_string(&j, "version", ALCM_VERSION_STRING);
    char sb[128];
    cli_format_shape(shape, sb, sizeof sb);
    cli_json_string(&j, "size", sb);
    cli_json_int(&j, "seed", (int64_t)seed);
    cli_json_number(&j, "error_budget", budget);
    cli_json_begin_array(&j, "epochs");
    for (unsigned i = 0; i < n; i++) {
        const epoch_row *r = &rows[i];
        cli_json_begin_object(&j, NULL);
        cli_json_int(&j, "epoch", r->epoch);
        cli_json_begin_object(&j, "baseline");
        cli_json_number(&j, "ratio", r->base_ratio);
        cli_json_number(&j, "cpu_seconds", r->base_cpu);
        cli_json_number(&j, "caq", r->base_caq);
        cli_json_end_object(&j);
        for (int k = 0; k < 2; k++) {
            cli_json_begin_object(&j, k_peer_keys[k]);
            cli_json_number(&j, "ratio", r->peer_ratio[k]);
            cli_json_number(&j, "cpu_seconds", r->peer_cpu[k]);
            cli_json_number(&j, "caq", r->peer_caq[k]);
            cli_json_number(&j, "rel_l2_error", r->peer_err[k]);
            cli_json_end_object(&j);
        }
        cli_json_begin_object(&j, "alcm");
        cli_json_number(&j, "ratio", r->ratio);
        cli_json_number(&j, "cpu_seconds", r->cpu);
        cli_json_number(&j, "caq", r->caq);
        cli_json_number(&j, "rel_l2_error", r->rel_l2);
        cli_json_number(&j, "mean_bits", r->bits);
        cli_json_number(&j, "aggressiveness", r->aggressiveness);
        cli_json_number(&j, "prune_ratio", r->prune_ratio);
        cli_json_end_object(&j);
        cli_json_number(&j, "caq_gain_pct", r->gain_pct);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_number(&j, "mean_baseline_ratio", mean_base_ratio);
    cli_json_number(&j, "mean_alcm_ratio", mean_ratio);
    cli_json_number(&j, "mean_caq_gain_pct", mean_gain);
    cli_json_number(&j, "mean_rel_l2_error", mean_err);
    cli_json_end_object(&j);
    return cli_json_close(&j);
}

int cmd_experiment(int argc, char **argv)
{
    static const struct option opts[] = {
        {"epochs", required_argument, 0, 'n'},  {"size", required_argument, 0, 's'},
        {"seed", required_argument, 0, 'r'},    {"error-budget", required_argument, 0, 'e'},
        {"error-feedback", no_argument, 0, 'f'}, {"deterministic", no_argument, 0, 'd'},
        {"json", required_argument, 0, 'j'},    {"help", no_argument, 0, 'h'},
        {"socket", required_argument, 0, 'S'},  {"stream", required_argument, 0, 'N'},
        {0, 0, 0, 0},
    };
    const char *cmd = "experiment", *json_path = NULL;
    const char *socket_path = cli_global_socket(), *stream_name = cli_global_stream();
    uint64_t epochs = 10, seed = 42;
    double budget = 0.01;
    int feedback = 0, deterministic = 0;
    alcm_shape shape;
    cli_parse_shape("100x100", &shape);

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (cli_opt_u64(cmd, "--epochs", optarg, 1, 100000, &epochs)) return 2;
            break;
        case 's':
            if (cli_opt_shape(cmd, "--size", optarg, &shape)) return 2;
            break;
        case 'r':
            if (cli_opt_u64(cmd, "--seed", optarg, 0, UINT64_MAX, &seed)) return 2;
            break;
        case 'e':
            if (cli_opt_error_budget(cmd, optarg, &budget)) return 2;
            break;
        case 'f': feedback = 1; break;
        case 'd': deterministic = 1; break;
        case 'j': json_path = optarg; break;
        case 'S': socket_path = optarg; break;
        case 'N': stream_name = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) return 2;
    size_t n, row;
    if (cli_synth_extent(cmd, &shape, 28, &n, &row)) return 2;
    size_t bytes = n * sizeof(float);

    alcm_stream_config scfg;
    alcm_stream_config_default(&scfg);
    scfg.adaptive = 1; /* the original method's experiment: the CAQ scheduler drives */
    scfg.sched.error_budget = budget;
    scfg.sched.deterministic = deterministic;
    scfg.error_feedback = feedback;

    float *x = malloc(bytes), *y = malloc(bytes);
    size_t cap = alcm_compress_bound(bytes);
    uint8_t *blob = malloc(cap), *bblob = malloc(cap);
    epoch_row *rows = calloc((size_t)epochs, sizeof *rows);
    alcm_stream *stream = NULL;
    alcm_stream_create(&scfg, &stream);
    alcm_cctx *cctx = alcm_cctx_create();
    alcmc_conn *conn = NULL;
    alcm_dctx *dctx = alcm_dctx_create();
    alcm_codec *peers[2] = {NULL, NULL};
    uint8_t *pblob = NULL;
    int rc = 1;
    for (int k = 0; k < 2; k++) {
        alcm_bench_error berr;
        if (alcm_bench_codec_create(k_peers[k], &peers[k], &berr) != ALCM_BENCH_OK) {
            cli_error(cmd, "%s", berr.message);
            goto done;
        }
    }
    alcm_codec_item item;
    memset(&item, 0, sizeof item);
    item.type = ALCM_CODEC_ITEM_F32;
    item.rank = shape.rank ? shape.rank : 1;
    for (uint32_t i = 0; i < ALCM_MAX_RANK; i++) item.dims[i] = shape.rank ? shape.dims[i] : 1;
    item.error_budget = budget;
    item.name = "experiment";
    size_t pcap = peers[0]->bound(peers[0], &item, bytes);
    size_t pcap1 = peers[1]->bound(peers[1], &item, bytes);
    if (pcap1 > pcap) pcap = pcap1;
    pblob = malloc(pcap);
    if (!x || !y || !blob || !bblob || !pblob || !rows || !stream || !cctx || !dctx) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    if (!stream_name) stream_name = "experiment";
    if (socket_path) {
        conn = cli_connect(cmd, socket_path);
        if (!conn) goto done;
        alcmc_status cst = alcmc_reset_stream(conn, stream_name, NULL);
        if (cst != ALCMC_OK) {
            cli_daemon_error(cmd, conn, cst);
            goto done;
        }
    }
    /* The knobs each step uses: the scheduler's state after the previous step (the local
     * stream, fresh, gives the initial state when the daemon runs the steps). */
    alcm_sched_state knobs;
    alcm_stream_get_state(stream, &knobs);
    alcm_rng rng;
    alcm_rng_seed(&rng, seed);
    alcm_params base;
    alcm_params_default(&base, ALCM_PROFILE_BASELINE);

    char sb[128];
    cli_format_shape(&shape, sb, sizeof sb);
    printf("ALCM adaptive experiment: %s synthetic gradients, seed %llu, %llu epochs, "
           "error budget %.3g%s\n",
           sb, (unsigned long long)seed, (unsigned long long)epochs, budget,
           feedback ? ", error feedback" : "");
    if (conn)
        printf("ALCM side through alcmd %s at %s, stream '%s'\n\n",
               alcmc_server(conn)->daemon_version, socket_path, stream_name);
    else
        printf("ALCM side in-process\n\n");
    printf("%5s | %8s %8s | %8s %8s | %8s %8s | %8s %8s %9s | %5s %5s %6s | %9s\n",
           "epoch", "base", "base", "global-q", "global-q", "int8", "int8", "alcm", "alcm",
           "rel L2", "aggr", "prune", "bits", "CAQ gain");
    printf("%5s | %8s %8s | %8s %8s | %8s %8s | %8s %8s %9s | %5s %5s %6s | %9s\n", "",
           "ratio", "CAQ", "ratio", "CAQ", "ratio", "CAQ", "ratio", "CAQ", "error", "", "",
           "/value",
           "vs base");

    double sum_gain = 0, sum_err = 0, sum_bratio = 0, sum_ratio = 0, sum_pratio[2] = {0, 0};
    for (unsigned e = 0; e < epochs; e++) {
        epoch_row *r = &rows[e];
        r->epoch = e + 1;
        alcm_synth_fill(&rng, ALCM_SYNTH_GRADIENT, x, n, row);

        /* Baseline: zlib-6 over the raw bytes, timed on this thread, decoded and checked. */
        size_t blen = 0, out_len = 0;
        alcm_info binfo;
        double t0 = alcm_thread_cpu_seconds();
        alcm_status st = alcm_compress(cctx, &base, &shape, x, bytes, NULL, bblob, cap, &blen,
                                       &binfo);
        r->base_cpu = alcm_thread_cpu_seconds() - t0;
        if (st == ALCM_OK) st = alcm_decompress(dctx, bblob, blen, y, bytes, &out_len);
        if (st != ALCM_OK || out_len != bytes || memcmp(x, y, bytes)) {
            cli_error(cmd, "baseline round trip failed at epoch %u: %s", e + 1,
                      st != ALCM_OK ? alcm_strerror(st) : "decoded bytes differ");
            goto done;
        }
        r->base_ratio = (double)bytes / (double)blen;
        r->base_caq = alcm_caq(r->base_ratio, r->base_cpu);

        /* The peers at the same budget, timed the same way, decoded and checked. */
        for (int k = 0; k < 2; k++) {
            alcm_codec *pc = peers[k];
            size_t plen = 0, pout = 0;
            double p0 = alcm_thread_cpu_seconds();
            int prc = pc->compress(pc, &item, x, bytes, pblob, pcap, &plen);
            r->peer_cpu[k] = alcm_thread_cpu_seconds() - p0;
            if (prc == 0) prc = pc->decompress(pc, &item, pblob, plen, y, bytes, &pout);
            r->peer_err[k] = prc == 0 ? alcm_rel_l2_error(x, y, n) : 1.0;
            if (prc != 0 || pout != bytes || !(r->peer_err[k] <= budget)) {
                cli_error(cmd, "%s round trip failed at epoch %u", k_peers[k], e + 1);
                goto done;
            }
            r->peer_ratio[k] = (double)bytes / (double)plen;
            r->peer_caq[k] = alcm_caq(r->peer_ratio[k], r->peer_cpu[k]);
            sum_pratio[k] += r->peer_ratio[k];
        }

        /* ALCM: one adaptive stream across epochs, in-process or in the daemon. */
        r->aggressiveness = knobs.aggressiveness;
        r->prune_ratio = knobs.prune_ratio;
        size_t alen = 0;
        alcm_info info;
        if (conn) {
            alcmc_compress_result res;
            alcmc_status cst = alcmc_compress(conn, stream_name, &scfg, &shape, x, bytes, blob,
                                              cap, &alen, &res);
            if (cst != ALCMC_OK) {
                cli_daemon_error(cmd, conn, cst);
                goto done;
            }
            info = res.info;
            r->cpu = res.cpu_seconds;
            knobs = res.sched;
        } else {
            st = alcm_stream_compress(stream, &shape, x, bytes, blob, cap, &alen, &info, &r->cpu);
            alcm_stream_get_state(stream, &knobs);
        }
        if (st == ALCM_OK) st = alcm_decompress(dctx, blob, alen, y, bytes, &out_len);
        if (st != ALCM_OK || out_len != bytes) {
            cli_error(cmd, "ALCM round trip failed at epoch %u: %s", e + 1,
                      st != ALCM_OK ? alcm_strerror(st) : "decoded size differs");
            goto done;
        }
        r->ratio = (double)bytes / (double)alen;
        r->caq = alcm_caq(r->ratio, r->cpu);
        r->rel_l2 = alcm_rel_l2_error(x, y, n);
        r->bits = info.mean_bits;
        r->gain_pct = (r->caq / r->base_caq - 1.0) * 100.0;
        sum_gain += r->gain_pct;
        sum_err += r->rel_l2;
        sum_bratio += r->base_ratio;
        sum_ratio += r->ratio;
        printf("%5u | %8.3f %8.3f | %8.3f %8.3f | %8.3f %8.3f | %8.3f %8.3f %9.5f | %5.2f %5.3f "
               "%6.2f | %+8.1f%%\n",
               r->epoch, r->base_ratio, r->base_caq, r->peer_ratio[0], r->peer_caq[0],
               r->peer_ratio[1], r->peer_caq[1], r->ratio, r->caq, r->rel_l2, r->aggressiveness,
               r->prune_ratio, r->bits, r->gain_pct);
    }
    double mean_gain = sum_gain / (double)epochs, mean_err = sum_err / (double)epochs;
    printf("\n mean | %8.3f %8s | %8.3f %8s | %8.3f %8s | %8.3f %8s %9.5f | %5s %5s %6s | "
           "%+8.1f%%\n",
           sum_bratio / (double)epochs, "", sum_pratio[0] / (double)epochs, "",
           sum_pratio[1] / (double)epochs, "", sum_ratio / (double)epochs, "", mean_err, "", "",
           "", mean_gain);
    if (json_path && write_json(json_path, rows, (unsigned)epochs, &shape, seed, budget,
                                mean_gain, mean_err, sum_bratio / (double)epochs,
                                sum_ratio / (double)epochs)) {
        cli_error(cmd, "cannot write '%s': %s", json_path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    alcmc_close(conn);
    alcm_dctx_free(dctx);
    alcm_cctx_free(cctx);
    for (int k = 0; k < 2; k++) alcm_bench_codec_free(peers[k]);
    free(pblob);
    alcm_stream_free(stream);
    free(rows);
    free(bblob);
    free(blob);
    free(y);
    free(x);
    return rc;
}
