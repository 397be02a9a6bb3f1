/* pack_bench.h - `alcm pack --bench`: pack's encode time against libzstd level 1 on the same
 * file bytes, in one alternating loop (pack_bench.c). */
#ifndef ALCM_CLI_PACK_BENCH_H
#define ALCM_CLI_PACK_BENCH_H

#include "alcm.h"

/* Times pack_encode and pack_decode of each of paths[0..n) (pack version and backend as
 * given) beside ZSTD_compress / ZSTD_compressCCtx level 1 and ZSTD_decompress of the same
 * bytes, runs rounds each; prints a table, and JSON to json_path ("-": stdout) unless NULL.
 * Checks that every run packs the same bytes and that both round trips are exact. Returns
 * the exit code (0, or 1 after printing why). */
int pack_bench(const char *cmd, char **paths, int n, unsigned version, alcm_backend backend,
               unsigned runs, const char *json_path);

#endif
