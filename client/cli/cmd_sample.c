/* cmd_sample.c - `alcm sample`: writes a synthetic float32 gradient (the experiment's
 * family, seeded) to try the other commands on without real data. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm sample [options] -o OUT\n"
            "\n"
            "Writes a synthetic float32 gradient (little-endian, the experiment's tensor\n"
            "family) to OUT ('-' for stdout), to try compress/decompress/inspect on.\n"
            "\n"
            "  --shape DIMS        e.g. 100x100 (default), 256x784; at most 2^28 elements\n"
            "  --seed N            generator seed (default 42)\n"
            "  -o, --output OUT    output file (required)\n"
            "  -h, --help          this help\n");
}

int cmd_sample(int argc, char **argv)
{
    static const struct option opts[] = {
        {"shape", required_argument, 0, 's'}, {"seed", required_argument, 0, 'r'},
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *cmd = "sample";
    alcm_shape shape;
    cli_parse_shape("100x100", &shape);
    uint64_t seed = 42;
    const char *out_path = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (cli_opt_shape(cmd, "--shape", optarg, &shape)) return 2;
            break;
        case 'r':
            if (cli_opt_u64(cmd, "--seed", optarg, 0, UINT64_MAX, &seed)) return 2;
            break;
        case 'o': out_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) return 2;
    if (!out_path) {
        cli_error(cmd, "missing -o OUT");
        usage(stderr);
        return 2;
    }
    size_t n, row;
    if (cli_synth_extent(cmd, &shape, 28, &n, &row)) return 2;
    float *x = cli_synth_tensor(ALCM_SYNTH_GRADIENT, n, row, seed);
    if (!x) {
        cli_error(cmd, "out of memory");
        return 1;
    }
    int rc = 0;
    if (cli_write_file(out_path, x, n * sizeof *x)) {
        cli_error(cmd, "cannot write '%s': %s", out_path, strerror(errno));
        rc = 1;
    }
    free(x);
    return rc;
}
