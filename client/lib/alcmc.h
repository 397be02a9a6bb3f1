/*
 * alcmc.h - libalcmc: the C client of alcmd, the per-node ALCM compression daemon.
 *
 * A worker connects to the daemon's Unix socket and asks it to compress tensors on named
 * streams; the daemon keeps each stream's scheduler and error-feedback residual across
 * steps (docs/PROTOCOL.md). The API is blocking: each call sends one request and waits for
 * its reply.
 *
 * Thread safety: calls on distinct connections may run concurrently from any threads. A
 * connection must not be used by two threads at once (the library takes no locks): give
 * each thread its own connection; streams are shared by every connection of one uid, so
 * a thread may reconnect and continue a stream. alcmc_strerror, alcmc_status_name and
 * alcmc_decompress_local are thread-safe. A child process after fork() must not use its
 * parent's connections.
 *
 * Signals: the library installs no signal handlers and never raises SIGPIPE (it sends with
 * MSG_NOSIGNAL). Interrupted system calls are resumed.
 *
 * Failures: every call returns an alcmc_status. Errors that leave the byte stream in an
 * unknown state (ALCMC_E_DAEMON_GONE, ALCMC_E_TIMEOUT, ALCMC_E_PROTOCOL, ALCMC_E_IO, and
 * ALCMC_E_DENIED / ALCMC_E_SHUTTING_DOWN, after which the daemon closes) break the
 * connection: later calls on it return ALCMC_E_BROKEN; close it and connect again. All
 * other errors (a rejected request, a codec error, a too small buffer) leave it usable.
 * alcmc_last_message() gives the daemon's or the system's one-line explanation.
 *
 * Ownership: the caller owns every buffer it passes in; results are written to caller
 * buffers, except alcmc_stats(), which allocates (free with alcmc_stats_free).
 */
#ifndef ALCMC_H
#define ALCMC_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

/* Marks libalcmc's public API (hidden visibility and client/lib/libalcmc.map otherwise;
 * docs/ABI.md lists what is exported). */
#ifndef ALCMC_API
#if defined(__GNUC__) && __GNUC__ >= 4
#define ALCMC_API __attribute__((visibility("default")))
#else
#define ALCMC_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ALCMC_OK = 0,
    ALCMC_E_ARG = -1,            /* invalid argument (NULL, bad stream name, bad shape) */
    ALCMC_E_NOMEM = -2,          /* memory allocation failed in the client */
    ALCMC_E_CONNECT = -3,        /* no daemon accepts connections on that socket path */
    ALCMC_E_DAEMON_GONE = -4,    /* the daemon closed the connection or died mid-exchange */
    ALCMC_E_TIMEOUT = -5,        /* no progress within the timeout, or the daemon timed us out */
    ALCMC_E_PROTOCOL = -6,       /* malformed bytes on the connection (either direction) */
    ALCMC_E_VERSION = -7,        /* the daemon speaks another protocol version */
    ALCMC_E_TOO_LARGE = -8,      /* the message exceeds the daemon's max_message_bytes */
    ALCMC_E_DENIED = -9,         /* the daemon refused this user (its allow-list) */
    ALCMC_E_REQUEST = -10,       /* the daemon rejected a field (dtype, shape, config ...) */
    ALCMC_E_CODEC = -11,         /* libalcm refused the data: see alcmc_last_alcm_status() */
    ALCMC_E_OVERLOADED = -12,    /* the daemon's stream limit is reached and all are busy */
    ALCMC_E_SHUTTING_DOWN = -13, /* the daemon is draining after SIGTERM */
    ALCMC_E_DST_TOO_SMALL = -14, /* the result does not fit the caller's buffer */
    ALCMC_E_DAEMON = -15,        /* the daemon failed (out of memory, internal error) */
    ALCMC_E_IO = -16,            /* a socket call failed (errno text in alcmc_last_message) */
    ALCMC_E_BROKEN = -17,        /* the connection failed earlier: close it and reconnect */
    ALCMC_E_PERMISSION = -18,    /* connect() got EACCES/EPERM: the socket file or a directory
                                    above it does not let this user in; no daemon saw it */
    ALCMC_E_FILE = -19           /* reading the caller's file failed or it ended early (errno
                                    text in alcmc_last_message); the connection stays usable */
} alcmc_status;

/* One-line English message for a status; never NULL, static storage. */
ALCMC_API const char *alcmc_strerror(alcmc_status status);

/* Symbolic name ("ALCMC_E_DAEMON_GONE"); never NULL, static storage. */
ALCMC_API const char *alcmc_status_name(alcmc_status status);

/* ------------------------------------------------------------------------------------------
 * Connections
 * ---------------------------------------------------------------------------------------- */
typedef struct alcmc_conn alcmc_conn;

typedef struct {
    /* sizeof(alcmc_options) as the caller was compiled, set by alcmc_options_default (the
     * struct can grow at its end, docs/ABI.md); alcmc_connect answers ALCMC_E_ARG for a
     * size it does not know. */
    uint32_t struct_size;
    /* Longest wait, in milliseconds, for any progress of a call (connecting, sending, or
     * the reply starting); 0 waits forever. Default 60000. A compression that takes the
     * daemon longer than this to start replying fails with ALCMC_E_TIMEOUT. */
    int timeout_ms;
    /* Name sent in hello, for the daemon's logs; NULL = "libalcmc". */
    const char *client_name;
    /* 1 (default): tensors of 256 KiB and more go through a memory region shared with the
     * daemon (a sealed memfd, docs/PROTOCOL.md) instead of being copied through the
     * socket, when the daemon offers it. The region is about twice the largest tensor
     * sent and stays mapped until alcmc_close. 0: always through the socket. */
    int shm;
} alcmc_options;

/* Fills *opts with the defaults above. */
ALCMC_API void alcmc_options_default(alcmc_options *opts);

/* What the daemon said in hello. */
typedef struct {
    uint32_t protocol_version;
    char daemon_version[32];
    uint64_t max_message_bytes;   /* largest tensor or blob a request may carry */
    uint32_t max_streams;
    uint32_t max_pending;
    uint32_t idle_timeout_ms;
    int deterministic;            /* the daemon's default scheduler mode */
    uint32_t pid;
    uint64_t shm_max_bytes;       /* largest shared region it accepts; 0: none */
} alcmc_server_info;

/* Connects to the daemon at socket_path and says hello. opts NULL = defaults. On ALCMC_OK
 * *out is a connection to release with alcmc_close(); on failure *out is NULL (so the
 * explanation is only in the status: ALCMC_E_CONNECT, ALCMC_E_DENIED, ALCMC_E_VERSION,
 * ALCMC_E_TIMEOUT, ALCMC_E_DAEMON_GONE ...). */
ALCMC_API alcmc_status alcmc_connect(const char *socket_path, const alcmc_options *opts,
                           alcmc_conn **out);

/* Closes the connection and frees it; NULL is a no-op. Streams stay in the daemon. */
ALCMC_API void alcmc_close(alcmc_conn *conn);

/* The hello figures from connect (or the latest alcmc_hello); never NULL. */
ALCMC_API const alcmc_server_info *alcmc_server(const alcmc_conn *conn);

/* Says hello again (a round trip: a liveness check) and refreshes alcmc_server(); *info
 * (if non-NULL) gets a copy. */
ALCMC_API alcmc_status alcmc_hello(alcmc_conn *conn, alcmc_server_info *info);

/* Explanation of the last failure on this connection ("" after a success); the daemon's
 * message for errors it reported. Valid until the next call on conn. */
ALCMC_API const char *alcmc_last_message(const alcmc_conn *conn);

/* For ALCMC_E_CODEC: the alcm_status libalcm returned (ALCM_OK otherwise). */
ALCMC_API alcm_status alcmc_last_alcm_status(const alcmc_conn *conn);

/* ------------------------------------------------------------------------------------------
 * Operations
 * ---------------------------------------------------------------------------------------- */

/* What happened to the stream's state before a compress step. */
typedef enum {
    ALCMC_STREAM_CONTINUED = 0,                 /* residual and scheduler carried over */
    ALCMC_STREAM_CREATED = 1,                   /* first request on this name */
    ALCMC_STREAM_RECREATED_AFTER_EVICTION = 2,  /* evicted under the memory cap: state lost */
    ALCMC_STREAM_RECONFIGURED = 3               /* config or dtype changed: state restarted */
} alcmc_stream_event;

typedef struct {
    alcm_info info;             /* as alcm_stream_compress fills it */
    double cpu_seconds;         /* the figure the stream's scheduler used */
    alcm_sched_state sched;     /* the scheduler after this step */
    alcmc_stream_event event;
} alcmc_compress_result;

/* One step of the daemon's stream `stream` (1..256 printable ASCII characters, no
 * spaces), exactly as alcm_stream_compress on an alcm_stream created from cfg would do:
 * the daemon creates the stream from cfg on first use (NULL = alcm_stream_config_default
 * with the daemon's default scheduler mode) and rebuilds it if cfg changes. The tensor is
 * src_bytes bytes of cfg->params.dtype (f32 when cfg is NULL) laid out as shape. The blob
 * is written to dst (capacity dst_cap; alcm_compress_bound(src_bytes) always suffices) and
 * its length to *dst_len. result (if non-NULL) gets the step's figures. For the same
 * history, a stream with cfg->sched.deterministic = 1 gives the same blob bytes as the
 * in-process alcm_stream. Errors: ALCMC_E_REQUEST (bad dtype/shape/config), ALCMC_E_CODEC
 * (NaN in a gradient ...), ALCMC_E_TOO_LARGE, ALCMC_E_OVERLOADED, ALCMC_E_DST_TOO_SMALL,
 * and the connection errors. */
ALCMC_API alcmc_status alcmc_compress(alcmc_conn *conn, const char *stream, const alcm_stream_config *cfg,
                            const alcm_shape *shape, const void *src, size_t src_bytes,
                            void *dst, size_t dst_cap, size_t *dst_len,
                            alcmc_compress_result *result);

/* Zero copy: a buffer for a tensor of src_bytes bytes in the connection's shared region.
 * Write the tensor there and pass *buf as alcmc_compress's src (with src_bytes, or fewer
 * bytes that still go through the region): the tensor then crosses to the daemon without
 * being copied. *buf is NULL when a tensor of that size would not go through a region
 * (under 256 KiB, beyond the daemon's limits, shared memory off or refused): use a buffer
 * of your own then. *buf stays valid until the next alcmc_input_buffer, an alcmc_compress
 * that needs a larger region, or alcmc_close. Errors: ALCMC_E_ARG, the connection errors;
 * alcmc_compress fails with ALCMC_E_ARG when src is the region and src_bytes needs more
 * than it holds. */
ALCMC_API alcmc_status alcmc_input_buffer(alcmc_conn *conn, size_t src_bytes, void **buf);

/* alcmc_input_buffer filled from a file: reads src_bytes bytes from fd at its current
 * offset (which advances, as read(2) would) into the connection's shared region and sets
 * *buf to it, for alcmc_compress's src. The kernel copies the bytes (sendfile into the
 * region's memfd), so no page of the region is faulted in by this process: about half
 * the time of read(2) into the mapping for 64 MiB. The caller keeps fd. *buf is NULL, and
 * nothing is read, when the tensor would not go through a region (as alcmc_input_buffer):
 * read the file yourself then. Errors: ALCMC_E_ARG, ALCMC_E_FILE (a read error, or the
 * file ended before src_bytes; *buf is NULL and the offset may have moved), the
 * connection errors. */
ALCMC_API alcmc_status alcmc_input_file(alcmc_conn *conn, int fd, size_t src_bytes,
                                        void **buf);

/* Decodes a blob on the daemon into dst (capacity dst_cap, at least the blob's raw_bytes,
 * see alcm_blob_header) and writes the decoded size to *dst_len. The bytes equal
 * alcmc_decompress_local's. */
ALCMC_API alcmc_status alcmc_decompress(alcmc_conn *conn, const void *blob, size_t blob_len, void *dst,
                              size_t dst_cap, size_t *dst_len);

/* Decodes a blob in this process with libalcm: no daemon, no round trip. On ALCMC_E_CODEC
 * *codec_status (if non-NULL) gets libalcm's status; ALCMC_E_DST_TOO_SMALL when dst_cap is
 * below the blob's raw_bytes. */
ALCMC_API alcmc_status alcmc_decompress_local(const void *blob, size_t blob_len, void *dst,
                                    size_t dst_cap, size_t *dst_len, alcm_status *codec_status);

/* The state of this uid's stream `stream` (configuration, scheduler, residual; the bytes
 * of alcm_stream_export, docs/STATE.md), after the requests already queued on it, written
 * to dst (capacity dst_cap) with its length in *len: for a training framework's own
 * checkpoint. ALCMC_E_DST_TOO_SMALL when it does not fit; ALCMC_E_REQUEST when the stream
 * holds no state. */
ALCMC_API alcmc_status alcmc_export_state(alcmc_conn *conn, const char *stream, void *dst,
                                          size_t dst_cap, size_t *len);

/* Replaces this uid's stream `stream` with exported state (from alcmc_export_state or
 * alcm_stream_export): its next step continues from there. ALCMC_E_REQUEST when the daemon
 * refuses the bytes (damaged, foreign, invalid). */
ALCMC_API alcmc_status alcmc_import_state(alcmc_conn *conn, const char *stream,
                                          const void *state, size_t len);

/* Drops the residual and resets the scheduler of this uid's stream `stream` (after the
 * requests already queued on it). *existed (if non-NULL) says whether it existed. */
ALCMC_API alcmc_status alcmc_reset_stream(alcmc_conn *conn, const char *stream, int *existed);

/* ------------------------------------------------------------------------------------------
 * Statistics
 * ---------------------------------------------------------------------------------------- */
#define ALCMC_MAX_ERROR_CODES 16

typedef struct {
    char code[32];              /* "ERR_BAD_REQUEST" ... */
    uint64_t count;
} alcmc_error_count;

typedef struct {
    char name[257];             /* stream name; "total" for the totals */
    uint32_t uid;               /* owner uid (0 for the totals) */
    int live;                   /* 1 when the daemon holds its state, 0 once evicted */
    uint64_t requests, errors;
    uint64_t bytes_in, bytes_out;
    double ratio;               /* raw bytes / blob bytes over compress requests */
    double caq_mean, caq_last;  /* CAQ = ratio / (cpu seconds + 1), per compress step */
    double latency_p50_s, latency_p99_s;
    uint64_t evictions;
    uint64_t memory_bytes;      /* state the daemon holds for the stream */
    alcm_sched_state sched;     /* scheduler state after the last step */
    size_t n_errors;
    alcmc_error_count errors_by_code[ALCMC_MAX_ERROR_CODES];
} alcmc_stream_stats;

typedef struct {
    alcmc_stream_stats total;
    size_t n_streams;
    alcmc_stream_stats *streams;
    uint64_t uptime_ms;
    uint32_t connections;
    uint64_t connections_total, connections_denied;
    uint32_t live_streams;
    uint64_t stream_memory_bytes, memory_cap_bytes;
    uint64_t inflight_bytes, inflight_cap_bytes;
    uint32_t requests_in_flight;
    uint64_t rss_bytes, peak_rss_bytes;    /* resident set size and its peak */
    uint64_t rss_anon_bytes;               /* the daemon's own memory (RssAnon) */
    uint64_t peak_rss_anon_bytes;          /* its peak, sampled every 100 ms */
    uint64_t rss_shmem_bytes;              /* clients' shared regions mapped in */
} alcmc_stats_report;

/* Fetches the daemon's statistics: totals and every stream (only those named
 * stream_filter, of any uid, when it is non-NULL). *out is allocated; free it with
 * alcmc_stats_free. */
ALCMC_API alcmc_status alcmc_stats(alcmc_conn *conn, const char *stream_filter,
                          alcmc_stats_report **out);

/* Frees what alcmc_stats returned; NULL is a no-op. */
ALCMC_API void alcmc_stats_free(alcmc_stats_report *stats);

#ifdef __cplusplus
}
#endif
#endif /* ALCMC_H */
