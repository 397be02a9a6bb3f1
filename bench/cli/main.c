/* main.c - `alcm-bench`: the benchmark and developer programs of ALCM (the experiment,
 * encoder and daemon benchmarks, the bundle harness and leaderboard, predictor training),
 * apart from the user tool `alcm`. One subcommand per file. */
#include "bench_cli.h"

static const cli_command k_commands[] = {
    {"experiment", cmd_experiment, "the adaptive training experiment vs the zlib-6 baseline", 1},
    {"bench-core", cmd_bench_core, "single-thread speed, ratio and memory of the encoders", 0},
    {"bench-daemon", cmd_bench_daemon, "in-process encode vs the alcmd round trip; load test", 0},
    {"bench", cmd_bench, "run codecs over the benchmark bundles (ratio, CPU, CAQ, MB/s)", 0},
    {"leaderboard", cmd_leaderboard, "validate results JSON and write the CAQ leaderboard", 0},
    {"train", cmd_train, "train the entropy predictor offline and write its weights", 0},
    {"ablation", cmd_ablation, "the ablation tables of docs/DESIGN.md on real gradients", 0},
};

int main(int argc, char **argv)
{
    return cli_dispatch("alcm-bench", k_commands, sizeof k_commands / sizeof k_commands[0],
                        argc, argv);
}
