/* exchange_mpi.c - one allreduce size, every path side by side in one run: the slowest
 * rank's time per call, and per rank the bytes received and sent on the wire, the raw bytes
 * decoded, and the encode / decode throughput. Feeds the cost model (docs/MPI.md) and the
 * scaling checks (rsag's bytes received and decode work against the allgather path's).
 *
 * rsag runs twice: pipelined (point-to-point, the default) and bulk (alltoallv + allgatherv
 * after all encoding); the difference in time over the codec time is the share of codec
 * work the pipeline hides behind the transfers.
 *
 * usage: alcm_mpi_exchange [--floats N] [--reps R] [--budget F] [--json PATH]
 *        [--threads T (rsag piece encoding)] [--input synthetic|FILE.f32]  (FILE: every rank reads the same float32 tensor and
 *        scales it by a rank-dependent factor, so inputs are correlated like gradients) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "alcm_mpi.h"
#include "alcm_tools.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return t[n / 2];
}

static void fill(float *x, size_t n, int rank, int rep, const float *file, size_t file_n)
{
    if (file) {
        for (size_t i = 0; i < n; i++)
            x[i] = file[i % file_n] * (1.0f + 0.05f * (float)rank) +
                   0.001f * (float)((i * 2654435761u + (unsigned)rep) % 1000) / 1000.0f;
        return;
    }
    alcm_rng rng;
    alcm_rng_seed(&rng, 1000u * (uint64_t)rank + (uint64_t)rep);
    alcm_synth_fill(&rng, ALCM_SYNTH_GRADIENT, x, n, 256);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t n = 235146; /* the Fashion-MNIST MLP's gradient */
    int reps = 21, threads = 1;
    double budget = 0.3;
    const char *json = NULL, *input = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--floats")) n = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--budget")) budget = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--json")) json = argv[i + 1];
        else if (!strcmp(argv[i], "--input")) input = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else {
            if (rank == 0) fprintf(stderr, "alcm_mpi_exchange: unknown option %s\n", argv[i]);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    if (n < 1 || n > ((size_t)1 << 28) || reps < 3 || !(budget > 0 && budget <= 1)) {
        if (rank == 0) fprintf(stderr, "alcm_mpi_exchange: bad arguments\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    float *file = NULL;
    size_t file_n = 0;
    if (input && strcmp(input, "synthetic") != 0) {
        FILE *f = fopen(input, "rb");
        if (!f) {
            fprintf(stderr, "alcm_mpi_exchange: %s: %s\n", input, strerror(errno));
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        file_n = len > 0 ? (size_t)len / sizeof(float) : 0;
        file = file_n ? malloc(file_n * sizeof *file) : NULL;
        if (!file || fread(file, sizeof *file, file_n, f) != file_n) MPI_Abort(MPI_COMM_WORLD, 2);
        fclose(f);
    }
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
#define NP 4
    double *t[NP];
    for (int p = 0; p < NP; p++) {
        t[p] = malloc((size_t)reps * sizeof *t[p]);
        if (!t[p]) MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (!x || !y) MPI_Abort(MPI_COMM_WORLD, 2);
    alcm_mpi_stats before[NP], after[NP], acc[NP];
    memset(acc, 0, sizeof acc);
    const alcm_mpi_path paths[NP] = {ALCM_MPI_PATH_PLAIN, ALCM_MPI_PATH_ALLGATHER,
                                     ALCM_MPI_PATH_RSAG, ALCM_MPI_PATH_RSAG};
    const char *names[NP] = {"plain", "allgather", "rsag", "rsag_bulk"};
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up, not counted */
        fill(x, n, rank, r + 1, file, file_n);
        for (int p = 0; p < NP; p++) {
            alcm_mpi_options o;
            alcm_mpi_options_preset(&o, ALCM_MPI_TRAINING);
            o.error_budget = budget;
            o.path = paths[p];
            o.pipeline = p != 3;
            o.threads = threads;
            o.tag = (uint32_t)p;
            alcm_mpi_get_stats(&before[p]);
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o);
            double dt = MPI_Wtime() - t0, m;
            MPI_Allreduce(&dt, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            alcm_mpi_get_stats(&after[p]);
            if (r < 0) continue;
            t[p][r] = m;
            acc[p].wire_recv_bytes += after[p].wire_recv_bytes - before[p].wire_recv_bytes;
            acc[p].wire_sent_bytes += after[p].wire_sent_bytes - before[p].wire_sent_bytes;
            acc[p].decoded_bytes += after[p].decoded_bytes - before[p].decoded_bytes;
            acc[p].encoded_bytes += after[p].encoded_bytes - before[p].encoded_bytes;
            acc[p].decode_seconds += after[p].decode_seconds - before[p].decode_seconds;
            acc[p].encode_seconds += after[p].encode_seconds - before[p].encode_seconds;
        }
    }
    /* Per-rank figures: the maximum over the ranks. */
    double fig[NP][6], mx[NP][6];
    for (int p = 0; p < NP; p++) {
        fig[p][0] = (double)acc[p].wire_recv_bytes / reps;
        fig[p][1] = (double)acc[p].wire_sent_bytes / reps;
        fig[p][2] = (double)acc[p].decoded_bytes / reps;
        fig[p][3] = acc[p].decode_seconds / reps;
        fig[p][4] = acc[p].encode_seconds / reps;
        fig[p][5] = (double)acc[p].encoded_bytes / reps;
    }
    MPI_Reduce(fig, mx, NP * 6, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        FILE *jf = json ? fopen(json, "w") : NULL;
        if (jf)
            fprintf(jf, "{\"ranks\": %d, \"floats\": %zu, \"raw_bytes\": %zu, \"reps\": %d, "
                        "\"error_budget\": %g, \"input\": \"%s\", \"paths\": {",
                    size, n, n * 4, reps, budget, input ? input : "synthetic");
        printf("%-10s %12s %14s %14s %14s %12s %12s\n", "path", "median_us", "wire_recv_B",
               "wire_sent_B", "decoded_B", "decode_MB/s", "encode_MB/s");
        double med[NP];
        for (int p = 0; p < NP; p++) {
            double us = med[p] = median(t[p], reps) * 1e6;
            double dmbs = mx[p][3] > 0 ? mx[p][2] / mx[p][3] / 1e6 : 0;
            double embs = mx[p][4] > 0 ? mx[p][5] / mx[p][4] / 1e6 : 0;
            printf("%-10s %12.1f %14.0f %14.0f %14.0f %12.1f %12.1f\n", names[p], us, mx[p][0],
                   mx[p][1], mx[p][2], dmbs, embs);
            if (jf)
                fprintf(jf,
                        "%s\"%s\": {\"median_us\": %.1f, \"wire_recv_bytes\": %.0f, "
                        "\"wire_sent_bytes\": %.0f, \"decoded_bytes\": %.0f, "
                        "\"decode_seconds\": %.6f, \"encode_seconds\": %.6f, "
                        "\"encoded_bytes\": %.0f}",
                        p ? ", " : "", names[p], us, mx[p][0], mx[p][1], mx[p][2], mx[p][3],
                        mx[p][4], mx[p][5]);
        }
        printf("rsag/allgather: wire bytes received %.3f, raw bytes decoded %.3f\n",
               mx[2][0] / mx[1][0], mx[2][2] / mx[1][2]);
        /* Codec time of the bulk rsag (its encode and decode are not overlapped). */
        double codec_us = (mx[3][3] + mx[3][4]) * 1e6;
        double hidden = codec_us > 0 ? (med[3] - med[2]) / codec_us : 0;
        printf("pipelined rsag: %.1f us against %.1f us bulk; share of codec time hidden %.3f\n",
               med[2], med[3], hidden);
        if (jf) {
            fprintf(jf, "}, \"codec_hidden_share\": %.4f}\n", hidden);
            fclose(jf);
        }
    }
    free(x);
    free(y);
    free(file);
    for (int p = 0; p < NP; p++) free(t[p]);
    MPI_Finalize();
    return 0;
}
