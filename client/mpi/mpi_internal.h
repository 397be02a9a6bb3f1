/* mpi_internal.h - internal declarations shared by the files of the ALCM MPI hook. */
#ifndef ALCM_MPI_INTERNAL_H
#define ALCM_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "alcm.h"
#include "alcm_exchange.h"
#include "alcm_mpi.h"

#ifdef ALCM_MPI_HAVE_ALCMC
#include "alcmc.h"
#endif

/* Default and largest segment encoded as one blob: 2^24 floats (64 MiB). Larger calls
 * are cut into segments, each its own stream and blob, so every blob length fits an MPI
 * int count. */
#define MPI_SEGMENT_ELEMS ((size_t)1 << 24)

/* Size word a rank sends when it could not encode (any negative value means failed). */
#define MPI_SIZE_FAILED (-1.0)

/* The SAFE preset's result budget and the TRAINING preset's per-rank budget (docs/MPI.md). */
#define MPI_SAFE_RESULT_BUDGET 0.01
#define MPI_TRAINING_BUDGET 0.3

/* Without a result budget, the rsag owner's re-encode runs at this multiple of the per-rank
 * budget (capped at 1) unless shard_budget says otherwise: at 8 ranks on the Fashion-MNIST
 * trainer's gradients, 1.5 brings the bytes received to 0.30 of the allgather path's
 * (1.0: 0.35). */
#define MPI_SHARD_BUDGET_SCALE 1.5

/* The planner considers the allgather path up to this many ranks (its bytes received and
 * decode work grow with p), and the rsag path for shards of at least this many floats. */
#define MPI_ALLGATHER_MAX_RANKS 8

/* Most encode threads per rank (alcm_mpi_options.threads). */
#define MPI_MAX_THREADS 64
#define MPI_RSAG_MIN_SHARD 256

/* Slot parts: the whole segment (allgather), the piece of shard s (rsag, part 1 + s), and
 * the owner's encoded shard sum (rsag). */
#define MPI_PART_WHOLE 0u
#define MPI_PART_OWNER UINT32_MAX

/* ------------------------------------------------------------------------------------------
 * Environment (env.c): process-local switches read once.
 * ---------------------------------------------------------------------------------------- */
int mpi_env_debug(void);                 /* ALCM_MPI_DEBUG=1 */
int mpi_env_report(void);                /* ALCM_MPI_REPORT=1 */
const char *mpi_env_socket(void);        /* ALCM_SOCKET, NULL when unset or empty */
int mpi_env_daemon_timeout_ms(void);     /* ALCM_MPI_DAEMON_TIMEOUT_MS, default 10000 */
long mpi_env_poll_us(void);              /* ALCM_MPI_POLL_US, default 20; 0 = spin in MPI */

/* Matched probe and wait-all that poll and sleep instead of spinning (path_rsag_pipe.c). */
int mpi_wait_probe(int src, int tag, MPI_Comm comm, MPI_Message *msg, MPI_Status *st);
int mpi_wait_all(int n, MPI_Request *reqs);

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
    uint32_t part;               /* MPI_PART_WHOLE, 1 + shard, or MPI_PART_OWNER */
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

/* What the hook remembers of one (tag, count, segment) across calls. */
typedef struct {
    uint32_t tag;
    uint64_t count;
    uint32_t seg;
    int last_path;               /* alcm_path of the last call, -1 before the first */
    int last_compressed;         /* the last compressed path taken, -1 none yet */
    double last_end;             /* mpi_now() when its last call returned, 0 before */
    double kappa;                /* ||sum|| / sum_r ||x_r|| seen on the last checked call,
                                    0 before the first (safe mode sizes budgets with it) */
} mpi_key;

typedef struct mpi_comm_ctx {
    MPI_Comm comm;
    MPI_Comm pcomm;              /* duplicate of comm for the hook's point-to-point traffic */
    int rank, size;
    uint64_t job;                /* rank 0's nonce: names the comm's daemon streams */
    mpi_slot *slots;
    size_t n_slots, cap_slots;
    mpi_call_counter *counters;  /* interposer call counts per element count */
    size_t n_counters, cap_counters;
    mpi_key *keys;
    size_t n_keys, cap_keys;
    alcm_planner *planner;       /* path choice per size class (same on every rank) */
    alcm_dctx *dctx;
    unsigned char *blob;         /* this rank's blob(s): rsag pieces one after another */
    size_t blob_cap;
    unsigned char *oblob;        /* rsag: this rank's encoded shard sum */
    size_t oblob_cap;
    unsigned char *xbuf;         /* blobs received in an exchange */
    size_t xbuf_cap;
    float *tmp;                  /* one decoded segment or piece */
    size_t tmp_cap;              /* bytes */
    float *acc;                  /* rsag: the owner's shard sum; safe mode: the result
                                    before its check */
    size_t acc_cap;              /* bytes */
    double *wout, *win;          /* per-rank words of the size exchanges (4 per rank) */
    int *counts, *displs;        /* allgatherv / alltoallv receive arguments */
    int *scounts, *sdispls;      /* alltoallv send arguments */
    MPI_Request *reqs;           /* pipelined rsag: 2 p send requests */
    float *dec;                  /* pipelined rsag: the decoded pieces of the owned shard */
    size_t dec_cap;              /* bytes */
#ifdef ALCM_MPI_HAVE_ALCMC
    alcmc_conn *conn;
#endif
    int daemon_state;            /* 0 not tried, 1 connected, -1 unavailable */
    struct mpi_comm_ctx *next;   /* list of live contexts (for MPI_Finalize) */
} mpi_comm_ctx;

/* The context of comm, created on first use (collective: rank 0's nonce is broadcast).
 * NULL when out of memory on this rank. */
int mpi_comm_ctx_get(MPI_Comm comm, mpi_comm_ctx **out);

/* The stream slot (tag, count, seg, part) of ctx configured as cfg; a slot whose config
 * differs is rebuilt with fresh state. NULL when out of memory. */
mpi_slot *mpi_slot_get(mpi_comm_ctx *ctx, uint32_t tag, uint64_t count, uint32_t seg,
                       uint32_t part, const alcm_stream_config *cfg);

/* Grows ctx's slot array so that `more` new slots fit without moving it (pointers from
 * mpi_slot_get stay valid across that many creations). 0, or -1 when out of memory. */
int mpi_slots_reserve(mpi_comm_ctx *ctx, size_t more);

/* The key (tag, count, seg) of ctx, created on first use. NULL when out of memory. */
mpi_key *mpi_key_get(mpi_comm_ctx *ctx, uint32_t tag, uint64_t count, uint32_t seg);

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

/* Encodes n floats of src on slot into dst (capacity cap, at least
 * alcm_compress_bound(n * 4)); *len gets the blob length. ALCM_OK, or the libalcm/daemon
 * failure mapped to an alcm_status (the caller reports failure to the other ranks). */
alcm_status mpi_encode(mpi_comm_ctx *ctx, mpi_slot *slot, const float *src, size_t n,
                       void *dst, size_t cap, size_t *len, alcm_info *info);

/* Drops slot's residual and scheduler state (in the daemon or in-process). */
void mpi_slot_reset(mpi_comm_ctx *ctx, mpi_slot *slot);

/* Resets every slot of (tag, count, seg) that belongs to path (allgather: the whole part;
 * rsag: the pieces and the owner part). */
void mpi_slots_reset_path(mpi_comm_ctx *ctx, uint32_t tag, uint64_t count, uint32_t seg,
                          alcm_path path);

/* Closes ctx's daemon connection, if any. */
void mpi_daemon_close(mpi_comm_ctx *ctx);

/* ------------------------------------------------------------------------------------------
 * Figures (stats.c)
 * ---------------------------------------------------------------------------------------- */
/* What one segment cost this rank, added to the process-wide figures. */
typedef struct {
    uint64_t sent;               /* contributed: blob bytes and size words (raw if plain) */
    uint64_t received;           /* blob bytes of other ranks received */
    uint64_t wire_sent, wire_recv;
    double codec_seconds;
    double enc_seconds, dec_seconds;
    uint64_t enc_bytes, dec_bytes; /* raw bytes encoded / decoded */
    int encoded;                 /* segments this rank encoded (info below is the last) */
    int via_daemon;
    alcm_info info;
} mpi_seg_figures;

void mpi_stats_call(uint64_t raw_bytes);
void mpi_stats_segment(alcm_path path, const mpi_seg_figures *f, double seconds);
void mpi_stats_fallback(void);
void mpi_stats_verify_failure(void);

/* ------------------------------------------------------------------------------------------
 * The allreduce itself (allreduce.c)
 * ---------------------------------------------------------------------------------------- */

/* One segment of a compressed call, as the paths see it. */
typedef struct {
    mpi_comm_ctx *ctx;
    const alcm_mpi_options *opts;
    mpi_key *key;
    const float *src;            /* this rank's input (recvbuf when in place) */
    float *dst;
    size_t n;                    /* floats */
    int in_place;
    double budget;               /* per-rank error budget of this call's encodes */
    double owner_budget;         /* rsag: budget of the owner's re-encode */
} mpi_seg;

/* Wall-clock seconds (monotonic). */
double mpi_now(void);

/* Ring allreduce bytes one rank sends (and receives) for n bytes over p ranks. */
uint64_t mpi_ring_bytes(uint64_t n, int p);

/* Stream configuration of opts at this call's budget. */
void mpi_stream_config(const alcm_mpi_options *o, double budget, alcm_stream_config *cfg);

/* Plain PMPI_Allreduce of the segment; fills the wire figures of *f. */
int mpi_path_plain(const mpi_seg *s, mpi_seg_figures *f);

/* The compressed paths. Each returns MPI_SUCCESS with the sum in s->dst, a positive
 * MPI error, or MPI_ALCM_FALLBACK when every rank agreed to redo the segment plainly
 * (the caller does so). Collective: every rank returns the same way. */
#define MPI_ALCM_FALLBACK (-1)
int mpi_path_allgather(const mpi_seg *s, mpi_seg_figures *f);
int mpi_path_rsag(const mpi_seg *s, mpi_seg_figures *f);
int mpi_path_rsag_pipelined(const mpi_seg *s, mpi_seg_figures *f);

/* rsag pieces (path_rsag.c): the first element of shard s of n floats over p ranks; a blob
 * of exactly n floats decoded into out (0, or -1 for a bad or damaged blob); every rsag
 * stream of the segment reset. */
size_t mpi_shard_lo(size_t n, int p, int s);
int mpi_decode_exact(mpi_comm_ctx *ctx, const unsigned char *blob, size_t len, float *out,
                     size_t n);
void mpi_rsag_reset(const mpi_seg *s);

/* Safe mode (safe.c): the per-rank and owner budgets for a call on path, from the result
 * budget and the key's last kappa; and the check of a decoded sum. */
void mpi_safe_budgets(const mpi_seg *s, alcm_path path, int ranks, double *budget,
                      double *owner_budget);
/* 1 when ||out - exact|| <= bound is enough to prove out within result_budget of the exact
 * sum; updates key->kappa from ||out|| / norms_sum. */
int mpi_safe_accept(mpi_key *key, double result_budget, const float *out, size_t n,
                    double bound, double norms_sum);
/* ||x|| in double. */
double mpi_l2(const float *x, size_t n);

/* alcm_mpi_allreduce with the tag chosen by the interposer when auto_tag_period > 0: the
 * call index of this count on comm modulo the period. */
int mpi_allreduce_impl(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                       MPI_Op op, MPI_Comm comm, const alcm_mpi_options *opts,
                       uint32_t auto_tag_period);

#endif
