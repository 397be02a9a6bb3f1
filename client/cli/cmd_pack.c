/* cmd_pack.c - `alcm pack` / `alcm unpack`: a safetensors file compressed with the lossless
 * profile, header kept, exact bytes back (docs/PACK.md; the format is pack_format.c). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pack_bench.h"
#include "pack_format.h"

static void usage_pack(FILE *f, const char *cmd)
{
    if (strcmp(cmd, "pack") == 0)
        fprintf(f, "usage: alcm pack MODEL.safetensors -o OUT\n"
                   "       alcm pack --bench N [--json OUT.json] MODEL.safetensors...\n\n"
                   "Compresses every tensor of a safetensors file with the lossless profile\n"
                   "(byte planes for F32, F16, BF16; bytes otherwise; consecutive tensors of\n"
                   "one dtype coded together) and its JSON header with DEFLATE; `alcm unpack`\n"
                   "restores the exact file. Layout and checks: docs/PACK.md.\n\n"
                   "  -o, --output OUT   output file (required; '-' for stdout)\n"
                   "  --backend NAME     zlib (default), zstd or auto: the coder of the planes\n"
                   "                     that are not tANS-coded (same ratio on weights)\n"
                   "  --pack-version N   2 (default: compressed header, tensors grouped) or 1\n"
                   "                     (one blob per tensor, header verbatim)\n"
                   "  -v, --verbose      print per-dtype sizes and the ratio\n"
                   "  --bench N          write nothing: time N rounds of the pack encode (in\n"
                   "                     process, no file I/O; CPU time, medians) beside\n"
                   "                     libzstd level 1 on the same file bytes, alternated,\n"
                   "                     and print both ratios and speeds (several files allowed)\n"
                   "  --json OUT.json    with --bench: also write the figures as JSON ('-': stdout)\n"
                   "  -h, --help         this help\n");
    else
        fprintf(f, "usage: alcm unpack PACKED -o MODEL.safetensors\n\n"
                   "Restores the exact safetensors file from `alcm pack` output, checking every\n"
                   "length, blob and the whole-file CRC32 (docs/PACK.md).\n\n"
                   "  -o, --output OUT   output file (required; '-' for stdout)\n"
                   "  -h, --help         this help\n");
}

/* Pack's --bench and --json (NULL for unpack). */
typedef struct {
    uint64_t runs;       /* 0: no bench */
    const char *json;
} bench_opts;

/* Shared option parsing; returns -1 (exit 2 / 0 decided by *code) or 0 with paths set (with
 * --bench, *in is the first of the operands from argv[optind] on and *out may be NULL). */
static int parse_args(const char *cmd, int argc, char **argv, const char **in, const char **out,
                      int *verbose, alcm_backend *backend, unsigned *version, bench_opts *bench,
                      int *code)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"backend", required_argument, 0, 'B'},
        {"verbose", no_argument, 0, 'v'},
        {"pack-version", required_argument, 0, 'P'},
        {"bench", required_argument, 0, 'b'},
        {"json", required_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    optind = 1;
    int c;
    *out = NULL;
    while ((c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': *out = optarg; break;
        case 'v': *verbose = 1; break;
        case 'B':
            if (strcmp(optarg, "zlib") == 0) *backend = ALCM_BACKEND_ZLIB;
            else if (strcmp(optarg, "zstd") == 0) *backend = ALCM_BACKEND_ZSTD;
            else if (strcmp(optarg, "auto") == 0) *backend = ALCM_BACKEND_AUTO;
            else {
                cli_error(cmd, "--backend must be zlib, zstd or auto, got '%s'", optarg);
                *code = 2;
                return -1;
            }
            break;
        case 'P':
            if (!version) {
                usage_pack(stderr, cmd);
                *code = 2;
                return -1;
            }
            if (strcmp(optarg, "1") == 0) *version = 1;
            else if (strcmp(optarg, "2") == 0) *version = 2;
            else {
                cli_error(cmd, "--pack-version must be 1 or 2, got '%s'", optarg);
                *code = 2;
                return -1;
            }
            break;
        case 'b':
        case 'j':
            if (!bench) {
                usage_pack(stderr, cmd);
                *code = 2;
                return -1;
            }
            if (c == 'j') bench->json = optarg;
            else if (cli_opt_u64(cmd, "--bench", optarg, 1, 1000000, &bench->runs)) {
                *code = 2;
                return -1;
            }
            break;
        case 'h': usage_pack(stdout, cmd); *code = 0; return -1;
        default: usage_pack(stderr, cmd); *code = 2; return -1;
        }
    }
    if (bench && bench->json && !bench->runs) {
        cli_error(cmd, "--json needs --bench");
        usage_pack(stderr, cmd);
        *code = 2;
        return -1;
    }
    if (bench && bench->runs) {
        if (optind >= argc) {
            cli_error(cmd, "missing input file");
            usage_pack(stderr, cmd);
            *code = 2;
            return -1;
        }
        *in = argv[optind];
        return 0;
    }
    if (optind != argc - 1 || !*out) {
        cli_error(cmd, optind >= argc ? "missing input file" : !*out ? "missing -o OUT"
                                                                  : "too many arguments");
        usage_pack(stderr, cmd);
        *code = 2;
        return -1;
    }
    *in = argv[optind];
    return 0;
}

int cmd_pack(int argc, char **argv)
{
    const char *cmd = "pack", *in, *out;
    int verbose = 0, code = 0;
    unsigned version = PACK_VERSION_LATEST;
    alcm_backend backend = ALCM_BACKEND_ZLIB;
    bench_opts bench = {0, NULL};
    if (parse_args(cmd, argc, argv, &in, &out, &verbose, &backend, &version, &bench, &code))
        return code;
    if (bench.runs)
        return pack_bench(cmd, argv + optind, argc - optind, version, backend,
                          (unsigned)bench.runs, bench.json);
    uint8_t *src = NULL, *dst = NULL;
    size_t len = 0, dlen = 0;
    if (cli_read_file(in, &src, &len)) {
        cli_error(cmd, "cannot read '%s': %s", in, strerror(errno));
        return 1;
    }
    pack_stats s;
    int rc = 1;
    if (pack_encode(cmd, in, src, len, version, backend, &dst, &dlen, &s)) goto done;
    if (cli_write_file(out, dst, dlen)) {
        cli_error(cmd, "cannot write '%s': %s", out, strerror(errno));
        goto done;
    }
    if (verbose) {
        fprintf(stderr, "%-6s %14llu -> %14llu bytes  ratio %.3f\n", "header",
                (unsigned long long)s.header_raw, (unsigned long long)s.header_packed,
                (double)s.header_raw / (double)s.header_packed);
        for (int d = 1; d <= 4; d++)
            if (s.raw[d])
                fprintf(stderr, "%-6s %14llu -> %14llu bytes  ratio %.3f\n",
                        alcm_dtype_name((alcm_dtype)d), (unsigned long long)s.raw[d],
                        (unsigned long long)s.packed[d], (double)s.raw[d] / (double)s.packed[d]);
        fprintf(stderr, "file   %14zu -> %14zu bytes  ratio %.4f  (%zu tensors, %zu blobs, "
                "pack version %u)\n", len, dlen, dlen ? (double)len / (double)dlen : 0.0,
                s.tensors, s.groups, version);
    }
    rc = 0;
done:
    free(src);
    free(dst);
    return rc;
}

int cmd_unpack(int argc, char **argv)
{
    const char *cmd = "unpack", *in, *out;
    int verbose = 0, code = 0;
    alcm_backend backend = ALCM_BACKEND_AUTO;
    if (parse_args(cmd, argc, argv, &in, &out, &verbose, &backend, NULL, NULL, &code))
        return code;
    uint8_t *src = NULL, *dst = NULL;
    size_t len = 0, dlen = 0;
    if (cli_read_file(in, &src, &len)) {
        cli_error(cmd, "cannot read '%s': %s", in, strerror(errno));
        return 1;
    }
    int rc = 1;
    if (pack_decode(cmd, in, src, len, &dst, &dlen)) goto done;
    if (cli_write_file(out, dst, dlen)) {
        cli_error(cmd, "cannot write '%s': %s", out, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    free(src);
    free(dst);
    return rc;
}
