/* pack_bench.c - `alcm pack --bench N FILE...`: the encode time of exactly what `alcm pack`
 * does to each file (pack_encode, in process: parse, header, grouping, every blob, the
 * packed file in memory; no process start-up, no file I/O) beside libzstd level 1
 * (ZSTD_compress, and ZSTD_compressCCtx with one context reused across runs) on the same
 * file bytes, and both decoders, in one loop whose order alternates run by run, so load on
 * the machine hits every side alike. Times are CPU seconds of the calling thread, medians
 * of N runs. Every run's packed bytes must equal the first run's (determinism), and the
 * packed file must unpack to the exact input. */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "cli.h"
#include "pack_bench.h"
#include "pack_format.h"

enum { T_PACK, T_ZSTD, T_ZCTX, T_UNPACK, T_UNZSTD, T_KINDS };

typedef struct {
    const char *path;
    size_t len, packed, zstd;
    double med[T_KINDS];
} bench_row;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One file: runs rounds of the five timed calls. Returns 0, or -1 after printing why. */
static int bench_file(const char *cmd, const char *path, unsigned version, alcm_backend backend,
                      unsigned runs, bench_row *row)
{
    uint8_t *src = NULL, *first = NULL, *zbuf = NULL, *zbuf2 = NULL, *zback = NULL;
    double *t = NULL;
    ZSTD_CCtx *zc = NULL;
    int rc = -1;
    size_t len = 0;
    if (cli_read_file(path, &src, &len)) {
        cli_error(cmd, "cannot read '%s'", path);
        return -1;
    }
    size_t zcap = ZSTD_compressBound(len);
    zbuf = malloc(zcap);
    zbuf2 = malloc(zcap);
    zback = malloc(len ? len : 1);
    t = calloc((size_t)T_KINDS * runs, sizeof *t);
    zc = ZSTD_createCCtx();
    if (!zbuf || !zbuf2 || !zback || !t || !zc) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    memset(row, 0, sizeof *row);
    row->path = path;
    row->len = len;
    for (unsigned r = 0; r < runs; r++) {
        for (unsigned k = 0; k < T_KINDS; k++) {
            /* odd runs take the calls in reverse order */
            unsigned kind = r % 2 ? T_KINDS - 1 - k : k;
            uint8_t *out = NULL, *back = NULL;
            size_t out_len = 0, back_len = 0, z = 0;
            pack_stats s;
            double t0 = alcm_thread_cpu_seconds();
            int bad = 0;
            switch (kind) {
            case T_PACK:
                bad = pack_encode(cmd, path, src, len, version, backend, &out, &out_len, &s);
                break;
            case T_ZSTD: z = ZSTD_compress(zbuf, zcap, src, len, 1); break;
            case T_ZCTX: z = ZSTD_compressCCtx(zc, zbuf2, zcap, src, len, 1); break;
            case T_UNPACK:
                bad = pack_decode(cmd, path, first, row->packed, &back, &back_len);
                break;
            default: z = ZSTD_decompress(zback, len, zbuf, row->zstd); break;
            }
            t[(size_t)kind * runs + r] = alcm_thread_cpu_seconds() - t0;
            if (bad) goto done;
            if (kind == T_PACK) {
                if (!first) {
                    first = out;
                    row->packed = out_len;
                    out = NULL;
                } else if (out_len != row->packed || memcmp(out, first, out_len) != 0) {
                    cli_error(cmd, "%s: packed bytes differ between runs", path);
                    free(out);
                    goto done;
                }
                free(out);
            } else if (kind == T_UNPACK) {
                int same = back_len == len && memcmp(back, src, len) == 0;
                free(back);
                if (!same) {
                    cli_error(cmd, "%s: unpack did not give the exact file back", path);
                    goto done;
                }
            } else if (ZSTD_isError(z)) {
                cli_error(cmd, "%s: zstd: %s", path, ZSTD_getErrorName(z));
                goto done;
            } else if (kind == T_UNZSTD) {
                if (z != len || memcmp(zback, src, len) != 0) {
                    cli_error(cmd, "%s: zstd round trip not exact", path);
                    goto done;
                }
            } else if (kind == T_ZSTD) {
                row->zstd = z;
            }
        }
    }
    for (unsigned k = 0; k < T_KINDS; k++) row->med[k] = median(t + (size_t)k * runs, runs);
    rc = 0;
done:
    ZSTD_freeCCtx(zc);
    free(t);
    free(zback);
    free(zbuf2);
    free(zbuf);
    free(first);
    free(src);
    return rc;
}

static double mbs(size_t bytes, double s) { return s > 0 ? (double)bytes / s / 1e6 : 0.0; }

int pack_bench(const char *cmd, char **paths, int n, unsigned version, alcm_backend backend,
               unsigned runs, const char *json_path)
{
    bench_row *rows = calloc((size_t)n, sizeof *rows);
    if (!rows) {
        cli_error(cmd, "out of memory");
        return 1;
    }
    int rc = 1;
    /* The first file's call order starts with pack; all of them run before any output. */
    for (int i = 0; i < n; i++)
        if (bench_file(cmd, paths[i], version, backend, runs, &rows[i])) goto done;
    printf("%-32s %10s  %-26s %-26s %-26s %s\n", "file (CPU time, median of runs)", "bytes",
           "alcm pack: ratio MB/s", "zstd -1: ratio MB/s", "zstd -1 reused ctx: MB/s",
           "pack/zstd speed");
    for (int i = 0; i < n; i++) {
        const bench_row *w = &rows[i];
        double pr = (double)w->len / (double)w->packed, zr = (double)w->len / (double)w->zstd;
        printf("%-32.32s %10zu  %6.4f %8.1f %10s %6.4f %8.1f %10s %8.1f %17s %5.3f / %5.3f\n",
               w->path, w->len, pr, mbs(w->len, w->med[T_PACK]), "", zr,
               mbs(w->len, w->med[T_ZSTD]), "", mbs(w->len, w->med[T_ZCTX]), "",
               w->med[T_ZSTD] / w->med[T_PACK], w->med[T_ZCTX] / w->med[T_PACK]);
    }
    printf("(speed: zstd's time over pack's; >= 1 means pack encodes at least as fast. "
           "Second figure: against a reused zstd context.)\n");
    if (json_path) {
        cli_json j;
        if (cli_json_open(&j, json_path)) {
            cli_error(cmd, "cannot write '%s'", json_path);
            goto done;
        }
        cli_json_begin_object(&j, NULL);
        cli_json_string(&j, "timing", "CPU seconds of the calling thread, in process "
                                      "(no start-up, no file I/O), median of runs");
        cli_json_int(&j, "runs", runs);
        cli_json_int(&j, "pack_version", version);
        cli_json_string(&j, "zstd_version", ZSTD_versionString());
        cli_json_begin_array(&j, "files");
        for (int i = 0; i < n; i++) {
            const bench_row *w = &rows[i];
            cli_json_begin_object(&j, NULL);
            cli_json_string(&j, "file", w->path);
            cli_json_int(&j, "bytes", (int64_t)w->len);
            cli_json_int(&j, "pack_bytes", (int64_t)w->packed);
            cli_json_number(&j, "pack_ratio", (double)w->len / (double)w->packed);
            cli_json_number(&j, "pack_encode_seconds", w->med[T_PACK]);
            cli_json_number(&j, "pack_encode_mbs", mbs(w->len, w->med[T_PACK]));
            cli_json_number(&j, "unpack_seconds", w->med[T_UNPACK]);
            cli_json_number(&j, "unpack_mbs", mbs(w->len, w->med[T_UNPACK]));
            cli_json_int(&j, "zstd1_bytes", (int64_t)w->zstd);
            cli_json_number(&j, "zstd1_ratio", (double)w->len / (double)w->zstd);
            cli_json_number(&j, "zstd1_encode_seconds", w->med[T_ZSTD]);
            cli_json_number(&j, "zstd1_encode_mbs", mbs(w->len, w->med[T_ZSTD]));
            cli_json_number(&j, "zstd1_cctx_encode_seconds", w->med[T_ZCTX]);
            cli_json_number(&j, "zstd1_cctx_encode_mbs", mbs(w->len, w->med[T_ZCTX]));
            cli_json_number(&j, "zstd1_decode_mbs", mbs(w->len, w->med[T_UNZSTD]));
            cli_json_number(&j, "encode_speed_vs_zstd1", w->med[T_ZSTD] / w->med[T_PACK]);
            cli_json_number(&j, "encode_speed_vs_zstd1_cctx", w->med[T_ZCTX] / w->med[T_PACK]);
            cli_json_end_object(&j);
        }
        cli_json_end_array(&j);
        cli_json_end_object(&j);
        if (cli_json_close(&j)) {
            cli_error(cmd, "cannot write '%s'", json_path);
            goto done;
        }
    }
    rc = 0;
done:
    free(rows);
    return rc;
}
