/*
 * alcm_mpi.h - compressed MPI_Allreduce of float32 sums with ALCM (explicit API).
 *
 * alcm_mpi_allreduce() is a drop-in for MPI_Allreduce(sendbuf, recvbuf, count, MPI_FLOAT,
 * MPI_SUM, comm). Per call (and per segment of a long call) it takes one of three paths:
 *
 *   plain      PMPI_Allreduce, unchanged;
 *   allgather  each rank encodes its buffer with libalcm's gradient profile, the blobs are
 *              allgathered, and every rank decodes all p blobs and sums them in rank order;
 *   rsag       rank r owns shard r of the buffer: every rank encodes its p-1 other shards
 *              (one stream per shard), an alltoallv takes each piece to its owner, the owner
 *              decodes and sums its shard in rank order (its own piece exact), re-encodes
 *              the sum once (its own stream), and an allgatherv of the p shard blobs gives
 *              every rank the same bytes to decode. Bytes received and decode work per rank
 *              stay O(n) whatever p is.
 *
 * With path AUTO (the default) a per-communicator planner (alcm_exchange.h) times the
 * paths on the first calls of each size class and then takes the fastest, re-timing now and
 * then; every rank feeds it the same figures (the MAX of the ranks' times), so all ranks
 * take the same path. On a fast link that is plain MPI. Decoding is bit-exact and sums run
 * in rank order, so every rank of the communicator gets the same bits in recvbuf.
 *
 * Two presets: SAFE (the default) keeps every result within 1 % relative L2 of the exact
 * sum: each call carries the ranks' error bounds, every rank checks the bound on the
 * decoded sum, and a call that cannot prove it is redone with PMPI_Allreduce; no error
 * feedback. TRAINING sends gradients with error feedback at a per-rank budget chosen by
 * measurement (docs/MPI.md): what one step leaves out is sent in later steps.
 *
 * Encoding goes through the node's alcmd when ALCM_SOCKET names a reachable daemon socket
 * (stream name "alcm-mpi.<nonce>.t<tag>.n<count>.s<segment>.p<part>.r<rank>", the nonce
 * naming the job and communicator), and in-process through libalcm otherwise; a daemon that
 * is missing, times out or dies makes that rank switch to the in-process path for the rest
 * of the run, never hang. ALCM_MPI_DEBUG=1 prints which path each stream and call took and
 * why.
 *
 * libalcm_mpi.so (the interposer) defines MPI_Allreduce with this function behind it for
 * every program it is preloaded into; see docs/MPI.md for its environment variables.
 *
 * Collective contract: every rank of comm must call with the same count, datatype, op and
 * options (as for MPI_Allreduce); whether and how a call is compressed depends only on
 * those and on figures every rank holds alike, so all ranks take the same path. Calls on
 * one communicator must not run concurrently from several threads (as MPI requires of
 * collectives); calls on distinct ones may.
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

/* Named settings bundles (ALCM_MPI_PROFILE in the interposer). */
typedef enum {
    ALCM_MPI_SAFE = 0,      /* the default: every compressed call's result within
                               result_budget (1 %) relative L2 of the exact sum, verified on
                               every call (a call that cannot prove it is redone plainly);
                               no error feedback, so unrelated calls never mix */
    ALCM_MPI_TRAINING = 1   /* gradients: error feedback on, error budget 0.3 per rank and
                               step (docs/MPI.md, "Choosing the training settings") */
} alcm_mpi_profile;

/* How a call crosses the network (alcm_exchange.h's paths, plus the planner's choice). */
typedef enum {
    ALCM_MPI_PATH_AUTO = -1,     /* the per-communicator planner picks, from timed calls */
    ALCM_MPI_PATH_PLAIN = 0,     /* PMPI_Allreduce */
    ALCM_MPI_PATH_ALLGATHER = 1, /* every rank's blob to every rank */
    ALCM_MPI_PATH_RSAG = 2       /* compressed reduce-scatter + allgather of shard sums */
} alcm_mpi_path;

typedef struct {
    double error_budget;     /* max relative L2 error of each rank's encoded step, (0, 1];
                                with result_budget > 0 the per-call budget is derived from
                                it instead */
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
    /* Fields below were added after 0.1; alcm_mpi_options_default() fills them. */
    alcm_mpi_profile profile;  /* the preset these options started from (informative) */
    double result_budget;    /* > 0: the result of every compressed call is within this
                                relative L2 of the exact sum (bound checked on every call,
                                plain fallback otherwise); 0: per-rank error_budget only */
    alcm_mpi_path path;      /* AUTO, or a forced path */
    double shard_budget;     /* rsag without a result budget: the budget of each owner's
                                re-encode of its shard sum, [0, 1]; 0 = 1.5 x error_budget
                                (at most 1) */
    int pipeline;            /* rsag: 1 = point-to-point messages, each piece sent as soon
                                as it is encoded and decoded as soon as it arrives (codec
                                work overlaps the transfers); 0 = bulk alltoallv and
                                allgatherv after all encoding */
    int threads;             /* pipelined rsag, in-process encoding: threads that encode a
                                call's pieces, the calling thread included, [0, 64];
                                0 or 1 = the calling thread only (the default: measured
                                best when ranks >= cores, docs/MPI.md) */
} alcm_mpi_options;

/* Defaults = the SAFE preset: result budget 0.01, no error feedback, aggressiveness 1,
 * prune 0, adaptive 0, deterministic 1, path AUTO, tag 0, min_bytes 0 (every MPI_FLOAT +
 * MPI_SUM call is considered), backend AUTO, block 0, use_daemon 1, segment_elems 0. */
void alcm_mpi_options_default(alcm_mpi_options *opts);

/* Fills *opts with a preset: ALCM_MPI_SAFE as alcm_mpi_options_default(); ALCM_MPI_TRAINING
 * the same but error_budget 0.3, error feedback on, no result budget. MPI_ERR_ARG for an
 * unknown profile (opts then holds the defaults). */
int alcm_mpi_options_preset(alcm_mpi_options *opts, alcm_mpi_profile profile);

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
    uint64_t intercepted;     /* calls that were considered for compression (float sums of
                                 min_bytes and more on an intracommunicator of 2+ ranks) */
    uint64_t raw_bytes;       /* count * 4 summed over those calls */
    uint64_t sent_bytes;      /* bytes this rank contributed to their exchanges: its blob
                                 bytes plus its size words (raw bytes on plain segments) */
    uint64_t received_bytes;  /* blob bytes of the other ranks this rank received */
    uint64_t fallbacks;       /* compressed segments redone with PMPI_Allreduce */
    uint64_t daemon_steps;    /* segments encoded by alcmd */
    uint64_t local_steps;     /* segments encoded in-process */
    double last_rel_l2_error; /* this rank's achieved error on its last encoded segment */
    double last_mean_bits;    /* mean code bits per element of that segment */
    /* Fields below were added after 0.1. */
    uint64_t wire_sent_bytes; /* bytes this rank put on the network for those calls, every
                                 collective of the path included, as the standard algorithms
                                 move them (ring allreduce/allgather, pairwise alltoall) */
    uint64_t wire_recv_bytes; /* bytes it took off the network, likewise */
    double seconds;           /* wall time inside those calls */
    double codec_seconds;     /* of which encoding, decoding and summing */
    uint64_t path_segments[3];/* segments sent plain, allgather, rsag */
    uint64_t verify_failures; /* safe-mode calls whose bound failed (redone plainly) */
    uint64_t encoded_bytes;   /* raw float bytes this rank encoded */
    uint64_t decoded_bytes;   /* raw float bytes this rank decoded (and added) */
    double encode_seconds;    /* wall time spent encoding them */
    double decode_seconds;    /* wall time spent decoding and adding */
} alcm_mpi_stats;

/* Copies the figures into *out. Thread-safe. */
void alcm_mpi_get_stats(alcm_mpi_stats *out);

/* Writes the line `alcm_mpi: rank=R intercepted=N raw_bytes=X sent_bytes=Y
 * wire_sent_bytes=S wire_recv_bytes=V time_s=T codec_s=C plain=A allgather=B rsag=D
 * fallbacks=F decoded_bytes=G` (R: the rank in MPI_COMM_WORLD, -1 outside MPI) and a
 * newline to f. */
void alcm_mpi_print_report(FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_MPI_H */
