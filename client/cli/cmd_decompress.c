/* cmd_decompress.c - `alcm decompress`: an ALCM blob back into raw elements. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "alcmc.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm decompress BLOB -o OUT\n"
            "\n"
            "Checks and decodes BLOB ('-' for stdin), writing the raw little-endian elements to\n"
            "OUT ('-' for stdout). A damaged or malformed blob fails with a specific error and\n"
            "writes nothing.\n"
            "\n"
            "  --socket PATH      decode on the alcmd at PATH (default: in-process)\n"
            "  --threads N        in-process: worker threads, 1..64 (default 1), decoding a\n"
            "                     segmented blob's inner blobs at once; same output for any N\n"
            "  -o, --output OUT   output file (required)\n"
            "  -h, --help         this help\n");
}

int cmd_decompress(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"socket", required_argument, 0, 'S'},
        {"threads", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *cmd = "decompress", *out_path = NULL, *socket_path = cli_global_socket();
    uint64_t threads = 1;
    int threads_given = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'S': socket_path = optarg; break;
        case 'T':
            if (cli_opt_u64(cmd, "--threads", optarg, 1, ALCM_MAX_THREADS, &threads)) return 2;
            threads_given = 1;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !out_path) {
        cli_error(cmd, optind >= argc ? "missing input blob" : !out_path ? "missing -o OUT"
                                                                       : "too many arguments");
        usage(stderr);
        return 2;
    }
    const char *in_path = argv[optind];
    if (threads_given && socket_path) {
        cli_error(cmd, "--threads applies to in-process decompression, not with --socket");
        return 2;
    }
    uint8_t *blob = NULL, *out = NULL;
    size_t blob_len = 0;
    if (cli_read_file(in_path, &blob, &blob_len)) {
        cli_error(cmd, "cannot read '%s': %s", in_path, strerror(errno));
        return 1;
    }
    int rc = 1;
    alcmc_conn *conn = NULL;
    alcm_dctx *dctx = alcm_dctx_create();
    if (dctx && alcm_dctx_set_threads(dctx, (unsigned)threads) != ALCM_OK) {
        alcm_dctx_free(dctx);
        dctx = NULL;
    }
    alcm_header hdr;
    alcm_status st = dctx ? alcm_blob_header(blob, blob_len, &hdr) : ALCM_E_NOMEM;
    if (st != ALCM_OK) {
        cli_error(cmd, "%s: %s (%s)", in_path, alcm_strerror(st), alcm_status_name(st));
        goto done;
    }
    if (hdr.raw_bytes > SIZE_MAX) {
        cli_error(cmd, "%s: declares %llu bytes, more than this machine can address", in_path,
                  (unsigned long long)hdr.raw_bytes);
        goto done;
    }
    out = malloc(hdr.raw_bytes ? (size_t)hdr.raw_bytes : 1);
    if (!out) {
        cli_error(cmd, "%s: cannot allocate %llu bytes", in_path,
                  (unsigned long long)hdr.raw_bytes);
        goto done;
    }
    size_t out_len = 0;
    if (socket_path) {
        conn = cli_connect(cmd, socket_path);
        if (!conn) goto done;
        alcmc_status cst = alcmc_decompress(conn, blob, blob_len, out, (size_t)hdr.raw_bytes,
                                            &out_len);
        if (cst != ALCMC_OK) {
            cli_daemon_error(cmd, conn, cst);
            goto done;
        }
    } else {
        st = alcm_decompress(dctx, blob, blob_len, out, (size_t)hdr.raw_bytes, &out_len);
    }
    if (st != ALCM_OK) {
        cli_error(cmd, "%s: %s (%s)", in_path, alcm_strerror(st), alcm_status_name(st));
        goto done;
    }
    if (cli_write_file(out_path, out, out_len)) {
        cli_error(cmd, "cannot write '%s': %s", out_path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    alcmc_close(conn);
    alcm_dctx_free(dctx);
    free(out);
    free(blob);
    return rc;
}
