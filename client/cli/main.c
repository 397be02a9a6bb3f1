/* main.c - the `alcm` command line tool: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command k_commands[] = {
    {"compress", cmd_compress, "compress a tensor or file into an ALCM blob"},
    {"decompress", cmd_decompress, "decode an ALCM blob"},
    {"inspect", cmd_inspect, "show a blob's header, bits per channel and ratio"},
    {"train", cmd_train, "train the entropy predictor offline and write its weights"},
    {"experiment", cmd_experiment, "the adaptive training experiment vs the zlib-6 baseline"},
    {"bench-core", cmd_bench_core, "single-thread speed, ratio and memory of the encoders"},
    {"bench", cmd_bench, "run codecs over the benchmark bundles (ratio, CPU, CAQ, MB/s)"},
    {"leaderboard", cmd_leaderboard, "validate results JSON and write the CAQ leaderboard"},
    {"stats", cmd_stats, "per-stream and total figures of a running alcmd"},
    {"bench-daemon", cmd_bench_daemon, "in-process encode vs the alcmd round trip; load test"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: alcm <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(f, "\n'alcm <command> --help' describes a command. Version %s.\n",
            ALCM_VERSION_STRING);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("alcm %s\n", ALCM_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (!strcmp(argv[1], k_commands[i].name))
            return k_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "alcm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
