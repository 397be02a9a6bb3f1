/* mpi_internal.h - internal declarations shared by the files of the ALCM MPI hook. */
#ifndef ALCM_MPI_INTERNAL_H
#define ALCM_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "alcm.h"
#include "alcm_mpi.h"

#ifdef ALCM_MPI_HAVE_ALCMC
#include "alcmc.h"
#endif

/* Default and largest segment encoded as one blob: 2^24 floats (64 MiB). Larger calls
 * are cut into segments, each its own stream and blob, so every blob length fits an MPI
 * int count. */
#define MPI_SEGMENT_ELEMS ((size_t)1 << 24)

/* Size word a rank sends when it could not encode its segment. */
#define MPI_SIZE_FAILED UINT64_MAX

/* ------------------------------------------------------------------------------------------
 * Environment (env.c): process-local switches read once.
 * ---------------------------------------------------------------------------------------- */
int mpi_env_debug(void);                 /* ALCM_MPI_DEBUG=1 */
int mpi_env_report(void);                /* ALCM_MPI_REPORT=1 */
const char *mpi_env_socket(void);        /* ALCM_SOCKET, NULL when unset or empty */
int mpi_env_daemon_timeout_ms(void);     /* ALCM_MPI_DAEMON_TIMEOUT_MS, default 10000 */

/* One debug line "alcm_mpi: rank=R <message>" to stderr when ALCM_MPI_DEBUG=1. */
void mpi_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A warning line "alcm_mpi: <message>" to stderr, always. */
void mpi_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------------------------------
 * Interposer configuration (config.c): read on world rank 0 and broadcast, so the
 * compress-or-forward decision is the same on every rank.
 * ---------------------------------------------------------------------------------------- */
typedef struct {
    int enabled;                 /* ALCM_MPI != off */
    uint32_t period;             /* ALCM_MPI_PERIOD: streams per (comm, count), >= 1 */
    alcm_mpi_options opts;       /* min_bytes, budget, knobs */
} mpi_config;

/* Default min_bytes of the interposer (docs/MPI.md, "Threshold"). */
#define MPI_DEFAULT_MIN_BYTES ((size_t)65536)

/* Reads the environment into *cfg (world rank 0's values win after mpi_config_share). */
void mpi_config_from_env(mpi_config *cfg);

/* Broadcasts rank 0's *cfg over MPI_COMM_WORLD (collective; call right after MPI init). */
int mpi_config_share(mpi_config *cfg);

/* ------------------------------------------------------------------------------------------
 * Per-communicator state (comm.c), cached on the communicator as an MPI attribute.
 * ---------------------------------------------------------------------------------------- */
typedef struct {
    uint32_t tag;
    uint64_t count;              /* element count of the call */
    uint32_t seg;                /* segment index within the call */
    alcm_stream_config cfg;
    alcm_stream *local;          /* in-process stream, NULL until used */
    int use_daemon;              /* the caller's option: try alcmd for this stream */
    int via_daemon;              /* -1 undecided, 1 encoded by alcmd, 0 in-process */
    char name[128];              /* daemon stream name */
} mpi_slot;

typedef struct {
    uint64_t count;
    uint64_t calls;
} mpi_call_counter;

typedef struct mpi_comm_ctx {
    MPI_Comm comm;
    int rank, size;
    uint64_t job;                /* rank 0's nonce: names the comm's daemon streams */
    mpi_slot *slots;
    size_t n_slots, cap_slots;
    mpi_call_counter *counters;  /* interposer call counts per element count */
    size_t n_counters, cap_counters;
    alcm_dctx *dctx;
    unsigned char *blob;         /* this rank's blob */
    size_t blob_cap;
    unsigned char *xbuf;         /* every rank's blob after the exchange */
    size_t xbuf_cap;
    float *tmp;                  /* one decoded segment */
    size_t tmp_cap;              /* floats */
    uint64_t *sizes;             /* size word of each rank */
    int *counts, *displs;        /* allgatherv arguments */
#ifdef ALCM_MPI_HAVE_ALCMC
    alcmc_conn *conn;
#endif
    int daemon_state;            /* 0 not tried, 1 connected, -1 unavailable */
    struct mpi_comm_ctx *next;   /* list of live contexts (for MPI_Finalize) */
} mpi_comm_ctx;

/* The context of comm, created on first use (collective: rank 0's nonce is broadcast).
 * NULL when out of memory on this rank. */
int mpi_comm_ctx_get(MPI_Comm comm, mpi_comm_ctx **out);

/* The stream slot (tag, count, seg) of ctx configured as cfg; a slot whose config differs
 * is rebuilt with fresh state. NULL when out of memory. */
mpi_slot *mpi_slot_get(mpi_comm_ctx *ctx, uint32_t tag, uint64_t count, uint32_t seg,
                       const alcm_stream_config *cfg);

/* Interposer: the call index of this element count on ctx, then increments it. */
uint64_t mpi_next_call_index(mpi_comm_ctx *ctx, uint64_t count);

/* Grows a buffer to at least need bytes; 0 on success, -1 when out of memory. */
int mpi_grow(void **buf, size_t *cap, size_t need);

/* Frees every context and the keyval, prints the report if asked (once; idempotent).
 * Called by the interposer's MPI_Finalize and, for programs without it, by a delete
 * callback on MPI_COMM_SELF that MPI runs at the start of MPI_Finalize. */
void mpi_shutdown(void);

/* Installs the MPI_COMM_SELF callback above (once). */
void mpi_install_finalize_hook(void);

/* ------------------------------------------------------------------------------------------
 * Encoding one segment (encode.c): through alcmd or in-process.
 * ---------------------------------------------------------------------------------------- */

/* Encodes n floats of src on slot into ctx->blob (grown as needed); *len gets the blob
 * length. ALCM_OK, or the libalcm/daemon failure mapped to an alcm_status (the caller
 * reports failure to the other ranks). */
alcm_status mpi_encode(mpi_comm_ctx *ctx, mpi_slot *slot, const float *src, size_t n,
                       size_t *len, alcm_info *info);

/* Drops slot's residual and scheduler state (in the daemon or in-process). */
void mpi_slot_reset(mpi_comm_ctx *ctx, mpi_slot *slot);

/* Closes ctx's daemon connection, if any. */
void mpi_daemon_close(mpi_comm_ctx *ctx);

/* ------------------------------------------------------------------------------------------
 * Figures (stats.c)
 * ---------------------------------------------------------------------------------------- */
void mpi_stats_call(uint64_t raw_bytes);
void mpi_stats_segment(uint64_t sent_bytes, uint64_t received_bytes, int via_daemon,
                       const alcm_info *info);
void mpi_stats_fallback(void);

/* ------------------------------------------------------------------------------------------
 * The allreduce itself (allreduce.c)
 * ---------------------------------------------------------------------------------------- */

/* alcm_mpi_allreduce with the tag chosen by the interposer when auto_tag_period > 0: the
 * call index of this count on comm modulo the period. */
int mpi_allreduce_impl(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                       MPI_Op op, MPI_Comm comm, const alcm_mpi_options *opts,
                       uint32_t auto_tag_period);

#endif
