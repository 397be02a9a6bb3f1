/* bench_cli.h - the subcommands of `alcm-bench` (one file each); the helpers they share
 * with `alcm` are in client/cli/cli.h. */
#ifndef ALCM_BENCH_CLI_H
#define ALCM_BENCH_CLI_H

#include "cli.h"

int cmd_experiment(int argc, char **argv);
int cmd_bench_core(int argc, char **argv);
int cmd_bench_daemon(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_leaderboard(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_ablation(int argc, char **argv);

#endif
