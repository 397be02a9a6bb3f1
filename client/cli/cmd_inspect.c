/* cmd_inspect.c - `alcm inspect`: a blob's header, bits per channel and ratio. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm inspect [--channels] [--json] BLOB\n"
            "\n"
            "Validates BLOB (checksum included) and prints its header, the ratio and, for\n"
            "gradient blobs, the code bits per channel (summary; every channel with\n"
            "--channels).\n"
            "\n"
            "  --channels   list the bits of every channel\n"
            "  --json       machine-readable output on stdout\n"
            "  -h, --help   this help\n");
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"channels", no_argument, 0, 'c'},
        {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *cmd = "inspect";
    int all_channels = 0, json = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': all_channels = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        cli_error(cmd, optind >= argc ? "missing blob" : "too many arguments");
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    uint8_t *blob = NULL;
    size_t len = 0;
    if (cli_read_file(path, &blob, &len)) {
        cli_error(cmd, "cannot read '%s': %s", path, strerror(errno));
        return 1;
    }
    alcm_header h;
    alcm_status st = alcm_blob_header(blob, len, &h);
    if (st != ALCM_OK) {
        cli_error(cmd, "%s: %s (%s)", path, alcm_strerror(st), alcm_status_name(st));
        free(blob);
        return 1;
    }
    float *bits = NULL;
    uint32_t nch = 0;
    /* A segmented blob (caller's segments, or the chunks of a large tensor) has its
     * channels in its inner blobs: counted first. */
    if (h.profile == ALCM_PROFILE_GRADIENT && h.n_segments > 0 &&
        alcm_blob_channel_bits(blob, len, NULL, 0, &nch) == ALCM_OK)
        h.n_channels = nch;
    nch = 0;
    if (h.profile == ALCM_PROFILE_GRADIENT && h.n_channels > 0) {
        bits = malloc((size_t)h.n_channels * sizeof *bits);
        if (!bits) {
            cli_error(cmd, "out of memory");
            free(blob);
            return 1;
        }
        st = alcm_blob_channel_bits(blob, len, bits, h.n_channels, &nch);
        if (st != ALCM_OK) {
            cli_error(cmd, "%s: %s (%s)", path, alcm_strerror(st), alcm_status_name(st));
            free(bits);
            free(blob);
            return 1;
        }
    }
    double bmin = INFINITY, bmax = 0, bsum = 0;
    for (uint32_t i = 0; i < nch; i++) {
        bmin = fmin(bmin, bits[i]);
        bmax = fmax(bmax, bits[i]);
        bsum += bits[i];
    }
    double ratio = len ? (double)h.raw_bytes / (double)len : 0;
    char shape[256];
    cli_format_shape(&h.shape, shape, sizeof shape);

    if (json) {
        cli_json j;
        cli_json_init(&j, stdout);
        cli_json_begin_object(&j, NULL);
        cli_json_string(&j, "file", path);
        cli_json_int(&j, "version", h.version);
        cli_json_string(&j, "profile", cli_profile_name(h.profile));
        cli_json_string(&j, "dtype", alcm_dtype_name(h.dtype));
        cli_json_string(&j, "backend", cli_backend_name(h.backend));
        cli_json_begin_array(&j, "shape");
        for (uint32_t i = 0; i < h.shape.rank; i++) cli_json_int(&j, NULL, (int64_t)h.shape.dims[i]);
        cli_json_end_array(&j);
        cli_json_int(&j, "raw_bytes", (int64_t)h.raw_bytes);
        cli_json_int(&j, "blob_bytes", (int64_t)len);
        cli_json_number(&j, "ratio", ratio);
        if (h.profile == ALCM_PROFILE_GRADIENT) {
            cli_json_number(&j, "error_budget", h.error_budget);
            cli_json_number(&j, "rel_l2_error", h.rel_l2_error);
            cli_json_int(&j, "channels", nch);
            cli_json_number(&j, "bits_min", nch ? bmin : 0);
            cli_json_number(&j, "bits_mean", nch ? bsum / nch : 0);
            cli_json_number(&j, "bits_max", bmax);
            if (all_channels) {
                cli_json_begin_array(&j, "bits");
                for (uint32_t i = 0; i < nch; i++) cli_json_number(&j, NULL, bits[i]);
                cli_json_end_array(&j);
            }
        }
        cli_json_end_object(&j);
        cli_json_finish(&j);
    } else {
        printf("file          %s\n", path);
        printf("format        ALCM v%u\n", h.version);
        printf("profile       %s\n", cli_profile_name(h.profile));
        printf("dtype         %s\n", alcm_dtype_name(h.dtype));
        printf("shape         %s\n", shape);
        printf("backend       %s\n", cli_backend_name(h.backend));
        printf("raw bytes     %llu\n", (unsigned long long)h.raw_bytes);
        printf("blob bytes    %zu\n", len);
        printf("ratio         %.3f\n", ratio);
        if (h.profile == ALCM_PROFILE_GRADIENT) {
            printf("error budget  %.6g (relative L2)\n", h.error_budget);
            printf("error         %.6g (measured at encode)\n", h.rel_l2_error);
            printf("channels      %u\n", nch);
            if (nch)
                printf("bits/channel  min %.2f  mean %.2f  max %.2f\n", bmin, bsum / nch, bmax);
            if (all_channels)
                for (uint32_t i = 0; i < nch; i++) printf("  channel %6u  %.2f bits\n", i, bits[i]);
        }
    }
    free(bits);
    free(blob);
    return 0;
}
