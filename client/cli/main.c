/* main.c - the `alcm` tool: compress, decompress, inspect, sample and daemon stats, one
 * subcommand per file. The benchmark and developer programs are `alcm-bench` (bench/cli). */
#include "cli.h"

static const cli_command k_commands[] = {
    {"compress", cmd_compress, "compress a tensor or file into an ALCM blob", 1},
    {"decompress", cmd_decompress, "decode an ALCM blob", 0},
    {"inspect", cmd_inspect, "show a blob's header, bits per channel and ratio", 0},
    {"sample", cmd_sample, "write a synthetic float32 gradient to try the other commands on", 0},
    {"stats", cmd_stats, "per-stream and total figures of a running alcmd", 1},
    {"pack", cmd_pack, "compress a safetensors file tensor by tensor, exactly", 0},
    {"unpack", cmd_unpack, "restore the exact safetensors file from `alcm pack`", 0},
};

int main(int argc, char **argv)
{
    return cli_dispatch("alcm", k_commands, sizeof k_commands / sizeof k_commands[0], argc,
                        argv);
}
