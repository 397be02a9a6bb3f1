/* cmd_leaderboard.c - `alcm-bench leaderboard`: validates results JSON files and writes the
 * markdown leaderboard and its SVG chart. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alcm_bench.h"
#include "bench_cli.h"

#define MAX_INPUTS 256

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm-bench leaderboard --input FILE.json [FILE.json...] --out DIR\n\n"
            "Validates each results file written by `alcm-bench bench --json` (structure, finite\n"
            "figures, consistency, a baseline per bundle, every result verified) and writes\n"
            "DIR/leaderboard.md (per bundle, results ranked by CAQ) and DIR/leaderboard.svg\n"
            "(compression ratio against compress MB/s, one panel per bundle). If any file is\n"
            "rejected nothing is written and the reasons are printed.\n");
}

/* Renders with fn into memory, then writes path atomically. */
static int write_output(const char *cmd, const char *path, int svg,
                        const alcm_bench_submission *subs, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    alcm_bench_status st = svg ? alcm_bench_leaderboard_svg(mem, subs, n)
                               : alcm_bench_leaderboard_md(mem, subs, n, "leaderboard.svg");
    fclose(mem);
    int rc = -1;
    if (st != ALCM_BENCH_OK) cli_error(cmd, "%s: %s", path, alcm_bench_strerror(st));
    else if (cli_write_file(path, buf, len) != 0 || chmod(path, 0644) != 0)
        cli_error(cmd, "cannot write %s: %s", path, strerror(errno));
    else rc = 0;
    free(buf);
    return rc;
}

int cmd_leaderboard(int argc, char **argv)
{
    const char *cmd = "leaderboard", *out = NULL;
    const char *inputs[MAX_INPUTS];
    size_t n_inputs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--out")) {
            if (i + 1 >= argc) {
                cli_error(cmd, "--out needs a directory");
                return 2;
            }
            out = argv[++i];
        } else if (!strcmp(argv[i], "--input")) {
            /* --input takes every following argument up to the next option (a shell glob). */
            int took = 0;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                if (n_inputs == MAX_INPUTS) {
                    cli_error(cmd, "at most %d input files", MAX_INPUTS);
                    return 2;
                }
                inputs[n_inputs++] = argv[++i];
                took = 1;
            }
            if (!took) {
                cli_error(cmd, "--input needs at least one results file");
                return 2;
            }
        } else {
            cli_error(cmd, "unexpected argument '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!out || !n_inputs) {
        cli_error(cmd, "--input and --out are required");
        usage(stderr);
        return 2;
    }
    alcm_bench_submission *subs = calloc(n_inputs, sizeof *subs);
    if (!subs) {
        cli_error(cmd, "out of memory");
        return 1;
    }
    size_t rejected = 0, results = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (cli_read_file(inputs[i], &data, &len) != 0) {
            cli_error(cmd, "%s: cannot read: %s", inputs[i], strerror(errno));
            rejected++;
            continue;
        }
        alcm_bench_error err;
        if (alcm_bench_submission_parse((const char *)data, len, &subs[i], &err) !=
            ALCM_BENCH_OK) {
            cli_error(cmd, "%s: rejected: %s", inputs[i], err.message);
            rejected++;
        } else {
            results += subs[i].n_results;
        }
        free(data);
    }
    int rc = 1;
    if (rejected) {
        cli_error(cmd, "%zu of %zu results files rejected; nothing written", rejected, n_inputs);
        goto done;
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        cli_error(cmd, "cannot create %s: %s", out, strerror(errno));
        goto done;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/leaderboard.md", out);
    if (write_output(cmd, path, 0, subs, n_inputs) != 0) goto done;
    printf("wrote %s (%zu submission%s, %zu results)\n", path, n_inputs,
           n_inputs == 1 ? "" : "s", results);
    snprintf(path, sizeof path, "%s/leaderboard.svg", out);
    if (write_output(cmd, path, 1, subs, n_inputs) != 0) goto done;
    printf("wrote %s\n", path);
    rc = 0;
done:
    for (size_t i = 0; i < n_inputs; i++) alcm_bench_submission_clear(&subs[i]);
    free(subs);
    return rc;
}
