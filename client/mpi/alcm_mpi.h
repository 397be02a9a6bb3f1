/*
 * alcm_mpi.h - compressed MPI_Allreduce of float32 sums with ALCM (explicit API).
 *
 * alcm_mpi_allreduce() is a drop-in for MPI_Allreduce(sendbuf, recvbuf, count, MPI_FLOAT,
 * MPI_SUM, comm): each rank encodes its buffer with libalcm's gradient profile (error
 * feedback on, one stream per communicator, tag and element count), the ranks exchange the
 * blobs (an allgather of the sizes, then an allgatherv of the blobs), and every rank decodes
 * every blob and sums them in rank order in float32. Decoding is bit-exact, so every rank
 * of the communicator gets the same bits in recvbuf. The result differs from the exact sum
 * by at most the error budget per step; with error feedback what one step leaves out is
 * sent in later steps (docs/MPI.md).
 *
 * Encoding goes through the node's alcmd when ALCM_SOCKET names a reachable daemon socket
 * (stream name "alcm-mpi.<nonce>.t<tag>.n<count>.s<segment>.r<rank>", the nonce naming the
 * job and communicator), and in-process
 * through libalcm otherwise; a daemon that is missing, times out or dies makes that rank
 * switch to the in-process path for the rest of the run, never hang. ALCM_MPI_DEBUG=1
 * prints one line to stderr saying which path each stream took and why.
 *
 * libalcm_mpi.so (the interposer) defines MPI_Allreduce with this function behind it for
 * every program it is preloaded into; see docs/MPI.md for its environment variables.
 *
 * Collective contract: every rank of comm must call with the same count, datatype, op and
 * options (as for MPI_Allreduce); whether a call is compressed depends only on those, so
 * all ranks take the same path. Calls on one communicator must not run concurrently from
 * several threads (as MPI requires of collectives); calls on distinct ones may.
 */
#ifndef ALCM_MPI_H
#define ALCM_MPI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mpi.h>

#include "alcm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double error_budget;     /* max relative L2 error of each rank's encoded step, (0, 1] */
    double aggressiveness;   /* [0, 1]: share of the budget spent (fixed when !adaptive) */
    double prune_ratio;      /* [0, 0.25]: fraction of smallest magnitudes dropped (fixed
                                when !adaptive) */
    int adaptive;            /* 1: the stream's CAQ scheduler moves aggressiveness and
                                pruning (start values are the scheduler's); 0: as given */
    int deterministic;       /* 1: the scheduler uses the cost model, so a run replays */
    int error_feedback;      /* 1: keep each rank's residual across steps */
    uint32_t tag;            /* stream key within the communicator (buckets, layers ...) */
    size_t min_bytes;        /* calls below count * 4 bytes go to plain PMPI_Allreduce */
    alcm_backend backend;    /* entropy backend; AUTO = the profile's default */
    uint32_t block_size;     /* channel length; 0 = libalcm's default (4096) */
    int use_daemon;          /* 1: encode through alcmd when ALCM_SOCKET is reachable */
    size_t segment_elems;    /* longest run of elements encoded as one blob (one stream);
                                0 = 2^24. Longer calls are cut into segments. */
} alcm_mpi_options;

/* Defaults: budget 0.5, aggressiveness 1, prune 0, adaptive 0, deterministic 1, error
 * feedback 1, tag 0, min_bytes 0 (every MPI_FLOAT + MPI_SUM call is compressed), backend
 * AUTO, block 0, use_daemon 1, segment_elems 0 (2^24). */
void alcm_mpi_options_default(alcm_mpi_options *opts);

/* Checks every field of *opts against its documented range: MPI_SUCCESS or MPI_ERR_ARG. */
int alcm_mpi_options_check(const alcm_mpi_options *opts);

/* Compressed allreduce. sendbuf may be MPI_IN_PLACE (the input is then read from recvbuf).
 * Calls that are not datatype MPI_FLOAT with op MPI_SUM on an intracommunicator of two or
 * more ranks with count * 4 >= opts->min_bytes are forwarded unchanged to PMPI_Allreduce;
 * so is every call when opts is invalid, which then returns MPI_ERR_ARG. If any rank cannot
 * encode its buffer (NaN or Inf in it, the codec out of memory), all ranks see it in the
 * size exchange, reset the call's stream and fall back to PMPI_Allreduce for that call, so
 * the sum is still right. A rank that cannot allocate its exchange buffers hands
 * MPI_ERR_NO_MEM to comm's error handler (MPI_ERRORS_ARE_FATAL, the default, ends the
 * job, as MPI itself does). opts NULL = defaults. Returns an MPI error code. */
int alcm_mpi_allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                       MPI_Op op, MPI_Comm comm, const alcm_mpi_options *opts);

/* Process-wide figures of the compressed calls so far (both the explicit API and the
 * interposer count here). */
typedef struct {
    uint64_t intercepted;     /* calls that took the compressed path */
    uint64_t raw_bytes;       /* count * 4 summed over those calls */
    uint64_t sent_bytes;      /* bytes this rank contributed to their exchanges: its blob
                                 bytes plus 8 bytes of size per segment */
    uint64_t received_bytes;  /* blob bytes of the other ranks this rank received */
    uint64_t fallbacks;       /* compressed calls that fell back to PMPI_Allreduce */
    uint64_t daemon_steps;    /* segments encoded by alcmd */
    uint64_t local_steps;     /* segments encoded in-process */
    double last_rel_l2_error; /* this rank's achieved error on its last encoded segment */
    double last_mean_bits;    /* mean code bits per element of that segment */
} alcm_mpi_stats;

/* Copies the figures into *out. Thread-safe. */
void alcm_mpi_get_stats(alcm_mpi_stats *out);

/* Writes the line `alcm_mpi: rank=R intercepted=N raw_bytes=X sent_bytes=Y` (R: the rank
 * in MPI_COMM_WORLD, -1 outside MPI) and a newline to f. */
void alcm_mpi_print_report(FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_MPI_H */
