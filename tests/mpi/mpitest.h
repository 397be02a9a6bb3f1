/* mpitest.h - helpers for cmocka suites that run as every rank of an MPI job (header-only).
 * Checks are collective: mt_all() is true only when the condition holds on every rank, so
 * a failing assertion fails on all ranks at once and no rank is left in a collective. */
#ifndef ALCM_MPITEST_H
#define ALCM_MPITEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <mpi.h>

static inline int mt_rank(void)
{
    int r;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

static inline int mt_size(void)
{
    int s;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

/* MPI init; ranks other than 0 keep stderr but silence cmocka's stdout. */
static inline void mt_init(int *argc, char ***argv)
{
    MPI_Init(argc, argv);
    if (mt_rank() != 0 && !freopen("/dev/null", "w", stdout)) abort();
}

/* 1 when cond is non-zero on every rank (collective). */
static inline int mt_all(int cond)
{
    int in = cond ? 1 : 0, out = 0;
    PMPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return out;
}

/* 1 when the n bytes at p are identical on every rank (collective; FNV-1a + length). */
static inline int mt_same_bits(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h[2] = {0xcbf29ce484222325ull, n}, lo[2], hi[2];
    for (size_t i = 0; i < n; i++) h[0] = (h[0] ^ b[i]) * 0x100000001b3ull;
    PMPI_Allreduce(h, lo, 2, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    PMPI_Allreduce(h, hi, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return lo[0] == hi[0] && lo[1] == hi[1];
}

static inline void *mt_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "mpitest: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    return p;
}

/* Combines the ranks' failure counts, finalizes MPI and gives the exit status. */
static inline int mt_finish(int failed)
{
    int any = 0;
    PMPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? 1 : 0;
}

#endif
