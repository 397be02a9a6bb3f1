/* cmd_compress.c - `alcm compress`: one tensor or file into an ALCM blob. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alcmc.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm compress [options] IN -o OUT\n"
            "\n"
            "Compresses IN (raw little-endian elements of --dtype, or '-' for stdin) into an\n"
            "ALCM blob written to OUT ('-' for stdout).\n"
            "\n"
            "  --profile P         gradient (lossy f32, default), lossless, baseline (zlib-6)\n"
            "  --dtype T           f32, f16, bf16, bytes (default: f32 for gradient, bytes\n"
            "                      for lossless and baseline; the summary names it)\n"
            "  --shape DIMS        e.g. 100x100, 16x1x3x3, 4096 (default: 1-D of the file)\n"
            "  --error-budget E    gradient: max relative L2 error, (0, 1] (default 0.01)\n"
            "  --aggressiveness A  gradient: share of the budget spent, [0, 1] (default 1)\n"
            "  --prune R           gradient: fraction of smallest values dropped, [0, 0.25]\n"
            "  --entropy M         gradient: learned (default) or measured entropy map\n"
            "  --backend B         auto (default), zlib, zstd\n"
            "  --level N           backend level (default: the profile's measured default)\n"
            "  --block N           gradient: channel length for 1-D tensors (default 4096)\n"
            "  --threads N         in-process: worker threads, 1..64 (default 1); a gradient\n"
            "                      tensor above 2^22 values is encoded as chunks, several at\n"
            "                      once; the blob is the same for any N\n"
            "  --socket PATH       compress on the alcmd at PATH (default: in-process)\n"
            "  --stream NAME       daemon stream (default \"cli\"): its residual (and with\n"
            "                      --adaptive its scheduler) carries over between calls\n"
            "  --adaptive          with --socket: the CAQ scheduler moves aggressiveness and\n"
            "                      pruning step by step (default: static aggressiveness 1,\n"
            "                      the measured best, docs/DESIGN.md \"Ablation\")\n"
            "  -o, --output OUT    output file (required)\n"
            "  -q, --quiet         do not print the summary line to stderr\n"
            "  -h, --help          this help\n");
}

/* NaN or infinity in a "gradient": most often the input is not float32 data at all. */
static void nonfinite_hint(const char *cmd)
{
    cli_error(cmd, "the gradient profile takes finite float32 values; for other data (text, "
                   "random bytes, archives) use --profile lossless");
}

int cmd_compress(int argc, char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, 0, 'p'},  {"dtype", required_argument, 0, 't'},
        {"shape", required_argument, 0, 's'},    {"error-budget", required_argument, 0, 'e'},
        {"aggressiveness", required_argument, 0, 'a'}, {"prune", required_argument, 0, 'r'},
        {"entropy", required_argument, 0, 'm'},  {"backend", required_argument, 0, 'b'},
        {"level", required_argument, 0, 'l'},    {"block", required_argument, 0, 'k'},
        {"output", required_argument, 0, 'o'},   {"quiet", no_argument, 0, 'q'},
        {"socket", required_argument, 0, 'S'},  {"stream", required_argument, 0, 'N'},
        {"threads", required_argument, 0, 'T'},  {"adaptive", no_argument, 0, 'A'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    const char *cmd = "compress";
    alcm_params params;
    alcm_params_default(&params, ALCM_PROFILE_GRADIENT);
    alcm_profile profile = ALCM_PROFILE_GRADIENT;
    int dtype_given = 0, shape_given = 0, quiet = 0, adaptive = 0;
    alcm_dtype dtype = ALCM_DTYPE_F32;
    alcm_shape shape;
    const char *out_path = NULL;
    const char *socket_path = cli_global_socket(), *stream = cli_global_stream();
    /* Gradient knobs are collected first and applied after the profile is known. */
    double budget = -1, aggr = -1, prune = -1;
    int have_mode = 0, have_backend = 0, have_level = 0, have_block = 0;
    alcm_entropy_mode mode = ALCM_ENTROPY_LEARNED;
    alcm_backend backend = ALCM_BACKEND_AUTO;
    uint64_t level = 0, block = 0, threads = 1;
    int threads_given = 0;

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'A': adaptive = 1; break;
        case 'p':
            if (cli_parse_profile(optarg, &profile)) {
                cli_error(cmd, "unknown profile '%s' (gradient, lossless, baseline)", optarg);
                return 2;
            }
            break;
        case 't':
            if (cli_parse_dtype(optarg, &dtype)) {
                cli_error(cmd, "unknown dtype '%s' (f32, f16, bf16, bytes)", optarg);
                return 2;
            }
            dtype_given = 1;
            break;
        case 's':
            if (cli_opt_shape(cmd, "--shape", optarg, &shape)) return 2;
            shape_given = 1;
            break;
        case 'e':
            if (cli_opt_error_budget(cmd, optarg, &budget)) return 2;
            break;
        case 'a':
            if (cli_opt_double(cmd, "--aggressiveness", optarg, 0, 0, 1, &aggr)) return 2;
            break;
        case 'r':
            if (cli_opt_double(cmd, "--prune", optarg, 0, 0, 0.25, &prune)) return 2;
            break;
        case 'm':
            if (cli_parse_entropy_mode(optarg, &mode)) {
                cli_error(cmd, "unknown entropy mode '%s' (learned, measured)", optarg);
                return 2;
            }
            have_mode = 1;
            break;
        case 'b':
            if (cli_parse_backend(optarg, &backend)) {
                cli_error(cmd, "unknown backend '%s' (auto, zlib, zstd)", optarg);
                return 2;
            }
            have_backend = 1;
            break;
        case 'l':
            if (cli_opt_u64(cmd, "--level", optarg, 0, 22, &level)) return 2;
            have_level = 1;
            break;
        case 'k':
            if (cli_opt_u64(cmd, "--block", optarg, 16, UINT32_MAX, &block)) return 2;
            have_block = 1;
            break;
        case 'T':
            if (cli_opt_u64(cmd, "--threads", optarg, 1, ALCM_MAX_THREADS, &threads)) return 2;
            threads_given = 1;
            break;
        case 'o': out_path = optarg; break;
        case 'S': socket_path = optarg; break;
        case 'N': stream = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !out_path) {
        cli_error(cmd, optind >= argc ? "missing input file" : !out_path ? "missing -o OUT"
                                                                       : "too many arguments");
        usage(stderr);
        return 2;
    }
    const char *in_path = argv[optind];
    if (threads_given && socket_path) {
        cli_error(cmd, "--threads applies to in-process compression, not with --socket");
        return 2;
    }

    if (adaptive && (!socket_path || aggr >= 0 || prune >= 0)) {
        cli_error(cmd, "--adaptive drives a daemon stream's knobs: it needs --socket and "
                       "takes no --aggressiveness or --prune");
        return 2;
    }
    alcm_params_default(&params, profile);
    if (profile == ALCM_PROFILE_GRADIENT) {
        if (dtype_given && dtype != ALCM_DTYPE_F32) {
            cli_error(cmd, "the gradient profile takes f32 only (use --profile lossless)");
            return 2;
        }
        dtype = ALCM_DTYPE_F32;
    } else if (!dtype_given && profile == ALCM_PROFILE_LOSSLESS) {
        dtype = ALCM_DTYPE_BYTES;
    }
    params.dtype = dtype;
    if (budget > 0) params.error_budget = budget;
    if (aggr >= 0) params.aggressiveness = aggr;
    if (prune >= 0) params.prune_ratio = prune;
    if (have_mode) params.entropy_mode = mode;
    if (have_backend) params.backend = backend;
    if (have_level) params.level = (int)level;
    if (have_block) params.block_size = (uint32_t)block;

    uint8_t *in = NULL, *in_owned = NULL;
    size_t in_len = 0;
    alcmc_conn *conn = NULL;
    if (socket_path) {
        conn = cli_connect(cmd, socket_path);
        if (!conn) return 1;
        /* A regular file is copied by the kernel straight into the connection's shared
         * region: the tensor reaches the daemon without passing through this process. */
        size_t fsize = 0;
        void *region = NULL;
        int fd = cli_open_regular(in_path, &fsize);
        if (fd >= 0 && alcmc_input_file(conn, fd, fsize, &region) == ALCMC_OK && region &&
            cli_fd_at_end(fd)) {
            in = region;
            in_len = fsize;
        }
        if (fd >= 0) close(fd);
    }
    if (!in) {
        if (cli_read_file(in_path, &in_owned, &in_len)) {
            cli_error(cmd, "cannot read '%s': %s", in_path, strerror(errno));
            alcmc_close(conn);
            return 1;
        }
        in = in_owned;
    }
    size_t esize = alcm_dtype_size(dtype);
    if (in_len % esize) {
        cli_error(cmd, "'%s' is %zu bytes, not a whole number of %s elements%s", in_path, in_len,
                  alcm_dtype_name(dtype),
                  profile == ALCM_PROFILE_GRADIENT ? " (for data other than float32 tensors "
                                                     "use --profile lossless)" : "");
        free(in_owned);
        alcmc_close(conn);
        return 1;
    }
    if (!shape_given) alcm_shape_1d(&shape, in_len / esize);
    uint64_t numel = 0;
    if (alcm_shape_numel(&shape, &numel) != ALCM_OK || numel * esize != in_len) {
        char sb[128];
        cli_format_shape(&shape, sb, sizeof sb);
        cli_error(cmd, "shape %s holds %llu elements but '%s' holds %zu", sb,
                  (unsigned long long)numel, in_path, in_len / esize);
        free(in_owned);
        alcmc_close(conn);
        return 1;
    }

    size_t cap = alcm_compress_bound(in_len);
    uint8_t *blob = malloc(cap ? cap : 1);
    alcm_cctx *cctx = NULL;
    int rc = 1;
    if (!blob) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    size_t blob_len = 0;
    alcm_info info;
    if (socket_path) {
        /* One step of a daemon stream: the scheduler moves the knobs unless they were
         * given, and gradient streams keep their error-feedback residual. */
        alcm_stream_config scfg;
        alcm_stream_config_default(&scfg);
        scfg.params = params;
        scfg.sched.error_budget = params.error_budget;
        scfg.adaptive = adaptive;
        scfg.error_feedback = profile == ALCM_PROFILE_GRADIENT;
        alcmc_compress_result res;
        alcmc_status cst = alcmc_compress(conn, stream ? stream : "cli", &scfg, &shape, in,
                                          in_len, blob, cap, &blob_len, &res);
        if (cst != ALCMC_OK) {
            cli_daemon_error(cmd, conn, cst);
            if (cst == ALCMC_E_CODEC && alcmc_last_alcm_status(conn) == ALCM_E_NONFINITE)
                nonfinite_hint(cmd);
            goto done;
        }
        info = res.info;
    } else {
        cctx = alcm_cctx_create();
        if (!cctx || alcm_cctx_set_threads(cctx, (unsigned)threads) != ALCM_OK) {
            cli_error(cmd, "out of memory");
            goto done;
        }
        alcm_status st = alcm_compress(cctx, &params, &shape, in, in_len, NULL, blob, cap,
                                       &blob_len, &info);
        if (st != ALCM_OK) {
            cli_error(cmd, "%s: %s (%s)", in_path, alcm_strerror(st), alcm_status_name(st));
            if (st == ALCM_E_NONFINITE) nonfinite_hint(cmd);
            goto done;
        }
    }
    if (cli_write_file(out_path, blob, blob_len)) {
        cli_error(cmd, "cannot write '%s': %s", out_path, strerror(errno));
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "%s: %zu -> %zu bytes, ratio %.3f, profile %s, dtype %s, backend %s%s",
                in_path, in_len, blob_len, info.ratio, cli_profile_name(profile),
                alcm_dtype_name(dtype), cli_backend_name(info.backend),
                info.exact ? ", exact" : "");
    if (!quiet && !info.exact)
        fprintf(stderr, ", rel L2 error %.5f, %.2f bits/value", info.rel_l2_error,
                info.mean_bits);
    if (!quiet) fputc('\n', stderr);
    rc = 0;
done:
    alcmc_close(conn);
    alcm_cctx_free(cctx);
    free(blob);
    free(in_owned);
    return rc;
}
