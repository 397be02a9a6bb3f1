/* main.c - the `alcm` command line tool: dispatches to one subcommand per file. */
#include <stdio.h>
#include <stdlib.h>
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
    {"pack", cmd_pack, "compress a safetensors file tensor by tensor, exactly"},
    {"unpack", cmd_unpack, "restore the exact safetensors file from `alcm pack`"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: alcm [--socket PATH] [--stream NAME] <command> [options]\n\n"
               "  --socket PATH   send work to the alcmd at PATH (default: in-process)\n"
               "  --stream NAME   daemon stream name for compress and experiment\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(f, "\n'alcm <command> --help' describes a command. Version %s.\n",
            ALCM_VERSION_STRING);
}

/* Takes "--opt VALUE" or "--opt=VALUE" at argv[*i]; advances *i past it. */
static int global_option(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len)) return 0;
    if (argv[*i][len] == '=') {
        *out = argv[*i] + len + 1;
        (*i)++;
        return 1;
    }
    if (argv[*i][len] != '\0' || *i + 1 >= argc) return 0;
    *out = argv[*i + 1];
    *i += 2;
    return 1;
}

int main(int argc, char **argv)
{
    const char *sock = NULL, *stream = NULL;
    int i = 1;
    while (i < argc && (global_option(argc, argv, &i, "--socket", &sock) ||
                        global_option(argc, argv, &i, "--stream", &stream))) {}
    if (sock && (!*sock || setenv("ALCM_SOCKET", sock, 1) != 0)) {
        fprintf(stderr, "alcm: bad --socket\n");
        return 2;
    }
    cli_set_global(sock, stream);
    argc -= i - 1;
    argv += i - 1;
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
