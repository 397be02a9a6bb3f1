/* unmodified_allreduce.c - a plain MPI program that knows nothing of ALCM: it calls
 * MPI_Allreduce on floats, ints and doubles and prints what it got, for check_interposer.sh
 * to compare with and without libalcm_mpi.so preloaded. It checks its own float sums with
 * MPI_Allgather (which the interposer leaves alone): error against the exact sum computed
 * in double, and whether every rank holds the same bits. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#define N_BIG 100000
#define N_SMALL 100
#define STEPS 24 /* past the planner's warm-up (3 calls of each path) */

static int rank, size;

/* Deterministic pseudo-gradient of rank r at step t (xorshift, Box-Muller free). */
static void fill(float *x, int n, int r, int t)
{
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(r + 1) + 0x1234567ull * (uint64_t)(t + 1);
    for (int i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
        x[i] = (float)(u * u * u * 8.0 * (1.0 + (i % 97) / 97.0));
    }
}

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* 1 when all ranks hold the same hash (Allgather: not intercepted). */
static int identical(uint64_t h)
{
    uint64_t *all = malloc((size_t)size * sizeof *all);
    MPI_Allgather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    int same = 1;
    for (int r = 1; r < size; r++) same &= all[r] == all[0];
    free(all);
    return same;
}

/* ||y - exact|| / sum_r ||x_r|| for the step-t inputs of every rank (gathered); *of_sum
 * (if non-NULL) gets ||y - exact|| / ||exact||. */
static double rel_error(const float *x, const float *y, int n, double *of_sum)
{
    float *all = malloc((size_t)n * size * sizeof *all);
    MPI_Allgather(x, n, MPI_FLOAT, all, n, MPI_FLOAT, MPI_COMM_WORLD);
    double num = 0, norms = 0;
    for (int r = 0; r < size; r++) {
        double sq = 0;
        for (int i = 0; i < n; i++) sq += (double)all[(size_t)r * n + i] * all[(size_t)r * n + i];
        norms += sqrt(sq);
    }
    double ssq = 0;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int r = 0; r < size; r++) s += all[(size_t)r * n + i];
        num += (y[i] - s) * (y[i] - s);
        ssq += s * s;
    }
    free(all);
    if (of_sum) *of_sum = ssq > 0 ? sqrt(num / ssq) : 0;
    return norms > 0 ? sqrt(num) / norms : 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    float *x = malloc(N_BIG * sizeof *x), *y = malloc(N_BIG * sizeof *y);
    int *ix = malloc(N_BIG * sizeof *ix), *iy = malloc(N_BIG * sizeof *iy);
    double *dx = malloc(N_BIG * sizeof *dx), *dy = malloc(N_BIG * sizeof *dy);

    /* Float sums, one buffer size, several steps (a training loop's gradient allreduce). */
    double first_err = 0, max_err = 0, max_sum_err = 0;
    int all_identical = 1;
    for (int t = 0; t < STEPS; t++) {
        fill(x, N_BIG, rank, t);
        MPI_Allreduce(x, y, N_BIG, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double es;
        double e = rel_error(x, y, N_BIG, &es);
        if (t == 0) first_err = e;
        if (e > max_err) max_err = e;
        if (es > max_sum_err) max_sum_err = es;
        all_identical &= identical(fnv(y, N_BIG * sizeof *y));
    }
    /* The same, in place. */
    fill(x, N_BIG, rank, 99);
    memcpy(y, x, N_BIG * sizeof *y);
    MPI_Allreduce(MPI_IN_PLACE, y, N_BIG, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double inplace_sum_err;
    double inplace_err = rel_error(x, y, N_BIG, &inplace_sum_err);
    int inplace_identical = identical(fnv(y, N_BIG * sizeof *y));
    if (rank == 0) {
        printf("float_sum first_rel_err=%.6g max_rel_err=%.6g max_sum_rel_err=%.6g "
               "identical=%d\n",
               first_err, max_err, max_sum_err, all_identical);
        printf("float_sum_in_place rel_err=%.6g sum_rel_err=%.6g identical=%d\n", inplace_err,
               inplace_sum_err, inplace_identical);
    }

    /* Everything below must be exactly what plain MPI gives. */
    for (int i = 0; i < N_BIG; i++) {
        ix[i] = (i * 2654435761u + (unsigned)rank * 40503u) % 2001 - 1000;
        dx[i] = sin(0.001 * i + rank);
    }
    MPI_Allreduce(ix, iy, N_BIG, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    uint64_t h_int = fnv(iy, N_BIG * sizeof *iy);
    MPI_Allreduce(dx, dy, N_BIG, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    uint64_t h_double = fnv(dy, N_BIG * sizeof *dy);
    fill(x, N_BIG, rank, 7);
    MPI_Allreduce(x, y, N_BIG, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
    uint64_t h_max = fnv(y, N_BIG * sizeof *y);
    MPI_Allreduce(x, y, N_SMALL, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    uint64_t h_small = fnv(y, N_SMALL * sizeof *y);
    memcpy(iy, ix, N_BIG * sizeof *iy);
    MPI_Allreduce(MPI_IN_PLACE, iy, N_BIG, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    uint64_t h_int_max = fnv(iy, N_BIG * sizeof *iy);
    if (rank == 0) {
        printf("int_sum hash=%016llx\n", (unsigned long long)h_int);
        printf("double_sum hash=%016llx\n", (unsigned long long)h_double);
        printf("float_max hash=%016llx\n", (unsigned long long)h_max);
        printf("float_sum_small hash=%016llx\n", (unsigned long long)h_small);
        printf("int_max_in_place hash=%016llx\n", (unsigned long long)h_int_max);
    }
    free(x);
    free(y);
    free(ix);
    free(iy);
    free(dx);
    free(dy);
    MPI_Finalize();
    return 0;
}
