/* threshold_mpi.c - times plain MPI_Allreduce against alcm_mpi_allreduce over message sizes,
 * side by side in one run, to choose the interposer's ALCM_MPI_MIN_BYTES (docs/MPI.md). */
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

/* Median over reps of the slowest rank's time for one call. */
static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return t[n / 2];
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double budget = argc > 1 ? atof(argv[1]) : 0.5;
    int reps = argc > 2 ? atoi(argv[2]) : 41;
    const char *json = argc > 3 ? argv[3] : NULL;
    if (reps < 3) reps = 3;
    const size_t sizes[] = {1024, 4096, 16384, 65536, 262144, 1048576, 4194304};
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    size_t max_n = sizes[n_sizes - 1] / sizeof(float);
    float *x = malloc(max_n * sizeof *x), *y = malloc(max_n * sizeof *y);
    double *tp = malloc((size_t)reps * sizeof *tp), *ta = malloc((size_t)reps * sizeof *ta);
    if (!x || !y || !tp || !ta) MPI_Abort(MPI_COMM_WORLD, 2);
    FILE *jf = rank == 0 && json ? fopen(json, "w") : NULL;
    if (jf) fprintf(jf, "{\"ranks\": %d, \"error_budget\": %g, \"reps\": %d, \"sizes\": [", size,
                    budget, reps);
    if (rank == 0)
        printf("%10s %12s %12s %10s %8s %14s\n", "bytes", "plain_us", "alcm_us", "sent_B",
               "ratio", "breakeven_MB/s");
    for (int k = 0; k < n_sizes; k++) {
        size_t n = sizes[k] / sizeof(float);
        alcm_mpi_options o;
        alcm_mpi_options_preset(&o, ALCM_MPI_TRAINING);
        o.path = ALCM_MPI_PATH_ALLGATHER;
        o.error_budget = budget;
        o.tag = (uint32_t)k;
        alcm_mpi_stats s0, s1;
        alcm_mpi_get_stats(&s0);
        for (int r = 0; r < reps; r++) {
            alcm_rng rng;
            alcm_rng_seed(&rng, 1000u * (uint64_t)rank + (uint64_t)r);
            alcm_synth_fill(&rng, ALCM_SYNTH_GRADIENT, x, n, 256);
            /* Interleaved: plain then compressed, each after a barrier; slowest rank. */
            double t, m;
            MPI_Barrier(MPI_COMM_WORLD);
            t = MPI_Wtime();
            PMPI_Allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t = MPI_Wtime() - t;
            MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            tp[r] = m;
            MPI_Barrier(MPI_COMM_WORLD);
            t = MPI_Wtime();
            alcm_mpi_allreduce(x, y, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &o);
            t = MPI_Wtime() - t;
            MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            ta[r] = m;
        }
        alcm_mpi_get_stats(&s1);
        double sent = (double)(s1.sent_bytes - s0.sent_bytes) / reps;
        double raw = (double)sizes[k];
        double plain_us = median(tp, reps) * 1e6, alcm_us = median(ta, reps) * 1e6;
        /* Bytes on the wire per rank: ring allreduce 2(p-1)/p raw, allgather (p-1) blobs. */
        double saved = 2.0 * (size - 1) / size * raw - (size - 1) * sent;
        double extra_s = (alcm_us - plain_us) * 1e-6;
        double breakeven = saved > 0 && extra_s > 0 ? saved / extra_s / 1e6 : saved > 0 ? 1e9 : 0;
        if (rank == 0) {
            printf("%10zu %12.1f %12.1f %10.0f %8.2f %14.1f\n", sizes[k], plain_us, alcm_us, sent,
                   raw / sent, breakeven);
            if (jf)
                fprintf(jf,
                        "%s\n  {\"bytes\": %zu, \"plain_us\": %.1f, \"alcm_us\": %.1f, "
                        "\"sent_bytes\": %.0f, \"ratio\": %.3f, \"breakeven_MB_per_s\": %.1f}",
                        k ? "," : "", sizes[k], plain_us, alcm_us, sent, raw / sent, breakeven);
        }
    }
    if (jf) {
        fprintf(jf, "\n]}\n");
        fclose(jf);
    }
    free(x);
    free(y);
    free(tp);
    free(ta);
    MPI_Finalize();
    return 0;
}
