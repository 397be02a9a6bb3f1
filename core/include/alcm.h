/*
 * alcm.h - libalcm: adaptive learned compression for float32 gradients and checkpoints.
 *
 * libalcm is pure computation: it performs no I/O, opens no file or socket, keeps no global
 * state and never prints. Every function is thread-safe on distinct contexts; a context
 * (alcm_cctx, alcm_dctx, alcm_stream) must not be used by two threads at once.
 *
 * Ownership: the caller owns every buffer it passes in and every buffer it passes out;
 * libalcm never keeps a pointer to caller memory after a call returns.
 *
 * Errors: every fallible function returns an alcm_status; ALCM_OK (0) is success and every
 * error is negative. alcm_strerror() gives a one-line English message for each code.
 *
 * Determinism: the same input, shape and alcm_params produce the same blob bytes on every
 * run and every machine running the same build. Decoding is bit-exact and independent of
 * the machine, so ranks that decode the same blobs in the same order get identical sums.
 *
 * The blob format is specified in docs/FORMAT.md; the method in docs/DESIGN.md.
 */
#ifndef ALCM_H
#define ALCM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALCM_VERSION_MAJOR 0
#define ALCM_VERSION_MINOR 1
#define ALCM_VERSION_PATCH 0
#define ALCM_VERSION_STRING "0.1.0"

/* Highest tensor rank a blob can describe. */
#define ALCM_MAX_RANK 8

/* ------------------------------------------------------------------------------------------
 * Status codes
 * ---------------------------------------------------------------------------------------- */
typedef enum {
    ALCM_OK = 0,
    ALCM_E_ARG = -1,            /* invalid argument (NULL pointer, value out of range) */
    ALCM_E_NOMEM = -2,          /* memory allocation failed */
    ALCM_E_DST_TOO_SMALL = -3,  /* output buffer capacity is below what is needed */
    ALCM_E_SHAPE = -4,          /* shape invalid, overflows, or disagrees with the byte size */
    ALCM_E_DTYPE = -5,          /* dtype not supported by the requested profile */
    ALCM_E_NONFINITE = -6,      /* NaN or Inf in the input of the lossy gradient profile */
    ALCM_E_TRUNCATED = -7,      /* blob shorter than its header or declared lengths */
    ALCM_E_MAGIC = -8,          /* blob does not start with the ALCM magic */
    ALCM_E_VERSION = -9,        /* blob format version not supported by this library */
    ALCM_E_CHECKSUM = -10,      /* CRC32 over header and payload does not match */
    ALCM_E_CORRUPT = -11,       /* a header or payload field is out of range or inconsistent */
    ALCM_E_CODEC = -12,         /* unknown codec or backend id in a blob */
    ALCM_E_BACKEND = -13,       /* zlib or zstd reported an error */
    ALCM_E_LIMIT = -14,         /* decoded size exceeds the context's configured limit */
    ALCM_E_INTERNAL = -15       /* a library invariant failed (a bug: please report) */
} alcm_status;

/* One-line message for a status code; never NULL, static storage. */
const char *alcm_strerror(alcm_status status);

/* Symbolic name of a status code ("ALCM_E_CHECKSUM"); never NULL, static storage. */
const char *alcm_status_name(alcm_status status);

/* ------------------------------------------------------------------------------------------
 * Tensor description
 * ---------------------------------------------------------------------------------------- */
typedef enum {
    ALCM_DTYPE_F32 = 1,   /* IEEE-754 binary32, little-endian */
    ALCM_DTYPE_F16 = 2,   /* IEEE-754 binary16, little-endian */
    ALCM_DTYPE_BF16 = 3,  /* bfloat16, little-endian */
    ALCM_DTYPE_BYTES = 4  /* opaque bytes */
} alcm_dtype;

/* Size in bytes of one element of dtype, or 0 for an unknown dtype. */
size_t alcm_dtype_size(alcm_dtype dtype);

/* Short lower-case name ("f32", "f16", "bf16", "bytes"); "?" for an unknown dtype. */
const char *alcm_dtype_name(alcm_dtype dtype);

typedef struct {
    uint32_t rank;                  /* 0 (scalar) .. ALCM_MAX_RANK */
    uint64_t dims[ALCM_MAX_RANK];   /* dims[0] is the outermost (channel) axis */
} alcm_shape;

/* Fills *shape with a rank-1 shape of n elements. */
void alcm_shape_1d(alcm_shape *shape, uint64_t n);

/* Element count of a shape into *numel. ALCM_E_SHAPE if rank > ALCM_MAX_RANK or the
 * product overflows 2^62. A rank-0 shape has one element. */
alcm_status alcm_shape_numel(const alcm_shape *shape, uint64_t *numel);

/* ------------------------------------------------------------------------------------------
 * Compression parameters
 * ---------------------------------------------------------------------------------------- */
typedef enum {
    ALCM_PROFILE_GRADIENT = 1,  /* lossy float32: entropy map, quantisation, pruning */
    ALCM_PROFILE_LOSSLESS = 2,  /* exact: byte planes for floats, adaptive chunks for bytes */
    ALCM_PROFILE_BASELINE = 3   /* zlib level 6 over the raw bytes (NumPy savez_compressed) */
} alcm_profile;

typedef enum {
    ALCM_BACKEND_AUTO = 0,  /* the profile's measured default (docs/DESIGN.md) */
    ALCM_BACKEND_ZLIB = 1,
    ALCM_BACKEND_ZSTD = 2
} alcm_backend;

typedef enum {
    ALCM_ENTROPY_LEARNED = 0,   /* entropy map from the MLP predictor (the ALCM method) */
    ALCM_ENTROPY_MEASURED = 1   /* entropy map measured from a histogram (ablation) */
} alcm_entropy_mode;

typedef struct {
    alcm_profile profile;
    alcm_dtype dtype;
    alcm_backend backend;
    alcm_entropy_mode entropy_mode;  /* gradient profile only */
    double error_budget;     /* gradient: max relative L2 error ||x - x'|| / ||x||, in (0, 1] */
    double aggressiveness;   /* gradient: [0, 1], share of the error budget spent (see DESIGN) */
    double prune_ratio;      /* gradient: [0, 0.25], fraction of smallest magnitudes dropped */
    uint32_t block_size;     /* gradient: channel length for rank <= 1 tensors; 0 = 4096 */
    int level;               /* backend level; 0 = the profile's default */
} alcm_params;

/* Fills *params with the defaults of a profile: dtype f32 (bytes for nothing), backend
 * AUTO, learned entropy, error budget 0.01, aggressiveness 1, prune ratio 0, block 4096. */
void alcm_params_default(alcm_params *params, alcm_profile profile);

/* Checks every field of *params against its documented range; ALCM_E_ARG or ALCM_E_DTYPE
 * if one is out of range or the dtype does not fit the profile. */
alcm_status alcm_params_check(const alcm_params *params);

/* ------------------------------------------------------------------------------------------
 * One-shot compression
 * ---------------------------------------------------------------------------------------- */

/* What one compression did. All fields are filled on success. */
typedef struct {
    uint64_t raw_bytes;        /* input bytes */
    uint64_t blob_bytes;       /* output blob bytes, header and checksum included */
    double ratio;              /* raw_bytes / blob_bytes (0 when raw_bytes is 0) */
    double rel_l2_error;       /* achieved ||x - decode(blob)|| / ||x||; 0 when lossless */
    double mean_bits;          /* mean code bits per element chosen by the allocator */
    double pruned_fraction;    /* fraction of elements dropped by pruning */
    uint32_t n_channels;       /* channels the tensor was cut into */
    alcm_backend backend;      /* backend actually used */
    int exact;                 /* 1 when the blob decodes to the exact input bytes */
} alcm_info;

typedef struct alcm_cctx alcm_cctx;

/* Creates a compression context (reusable scratch memory). NULL when out of memory. */
alcm_cctx *alcm_cctx_create(void);

/* Frees a context; NULL is a no-op. */
void alcm_cctx_free(alcm_cctx *cctx);

/* Bytes of scratch memory the context currently holds between calls. */
size_t alcm_cctx_memory(const alcm_cctx *cctx);

/* Upper bound on the blob size for src_bytes of input under any params and shape of rank
 * <= ALCM_MAX_RANK. A dst of this capacity never yields ALCM_E_DST_TOO_SMALL. */
size_t alcm_compress_bound(size_t src_bytes);

/* Compresses src (src_bytes bytes of params->dtype laid out as shape) into dst.
 * residual: NULL, or for the gradient profile an error-feedback buffer of numel floats:
 *   it is added to src before encoding and overwritten with (src + residual) - decoded.
 *   Pass a zeroed buffer on the first step.
 * On success writes the blob length to *dst_len and, if info is non-NULL, fills *info.
 * The gradient profile rejects NaN/Inf with ALCM_E_NONFINITE; the other profiles carry any
 * bit pattern exactly. The error budget is always honoured: if quantisation cannot meet it,
 * the tensor is stored losslessly (info->exact = 1). */
alcm_status alcm_compress(alcm_cctx *cctx, const alcm_params *params, const alcm_shape *shape,
                          const void *src, size_t src_bytes, float *residual,
                          void *dst, size_t dst_cap, size_t *dst_len, alcm_info *info);

/* ------------------------------------------------------------------------------------------
 * Blob inspection and decompression
 * ---------------------------------------------------------------------------------------- */

/* The fixed part of a blob header, as parsed and validated. */
typedef struct {
    uint32_t version;
    alcm_profile profile;
    alcm_dtype dtype;
    alcm_backend backend;
    alcm_shape shape;
    uint64_t raw_bytes;        /* decoded size in bytes */
    uint64_t blob_bytes;       /* total blob size */
    uint32_t n_channels;       /* gradient profile; 0 otherwise */
    double error_budget;       /* gradient profile: budget it was encoded under */
    double rel_l2_error;       /* gradient profile: error measured at encode time */
} alcm_header;

/* Parses and validates the header of blob (checksum included) without decoding the payload.
 * Returns ALCM_E_TRUNCATED, ALCM_E_MAGIC, ALCM_E_VERSION, ALCM_E_CHECKSUM, ALCM_E_CODEC or
 * ALCM_E_CORRUPT for a malformed blob. */
alcm_status alcm_blob_header(const void *blob, size_t blob_len, alcm_header *header);

/* Per-channel code bits of a gradient blob: writes min(n_channels, cap) values to bits[]
 * and the channel count to *n_channels. Bits are fractional (log2 of the level count). */
alcm_status alcm_blob_channel_bits(const void *blob, size_t blob_len, float *bits, size_t cap,
                                   uint32_t *n_channels);

typedef struct alcm_dctx alcm_dctx;

/* Creates a decompression context. NULL when out of memory. */
alcm_dctx *alcm_dctx_create(void);

/* Frees a context; NULL is a no-op. */
void alcm_dctx_free(alcm_dctx *dctx);

/* Largest decoded size the context accepts (default 2^40); blobs declaring more fail with
 * ALCM_E_LIMIT before anything is allocated. */
void alcm_dctx_set_max_output(alcm_dctx *dctx, uint64_t max_bytes);

/* Decodes a blob into dst (capacity dst_cap) and writes the decoded size to *dst_len.
 * Every length and field is checked; a malformed blob returns a specific error and leaves
 * *dst_len at 0. dst_cap must be at least header.raw_bytes (ALCM_E_DST_TOO_SMALL). */
alcm_status alcm_decompress(alcm_dctx *dctx, const void *blob, size_t blob_len,
                            void *dst, size_t dst_cap, size_t *dst_len);

/* ------------------------------------------------------------------------------------------
 * Scheduler: per-stream CAQ feedback loop
 * ---------------------------------------------------------------------------------------- */

/* CAQ = ratio / (cpu_seconds + 1). */
double alcm_caq(double ratio, double cpu_seconds);

typedef struct {
    double error_budget;     /* budget every step is encoded under (default 0.01) */
    uint32_t window;         /* steps in the trend window (default 5) */
    int deterministic;       /* 1: cpu seconds come from the cost model, so runs replay */
    double step_up;          /* aggressiveness increase per improving window (default 0.1) */
    double back_off;         /* aggressiveness decrease per falling window (default 0.2) */
    double prune_max;        /* ceiling of the pruning ratio (default 0.25) */
} alcm_sched_config;

/* Fills *cfg with the defaults above (deterministic = 0). */
void alcm_sched_config_default(alcm_sched_config *cfg);

/* The scheduler's state after each step (for logs, stats and tests). */
typedef struct {
    uint64_t steps;
    double aggressiveness;   /* in [0, 1] */
    double prune_ratio;      /* in [0, prune_max] */
    double last_ratio;
    double last_cpu_seconds;
    double last_caq;
    double last_rel_l2_error;
    double window_trend;     /* least-squares slope of CAQ over the window, per step */
    int last_action;         /* +1 pushed up, -1 backed off, 0 held */
} alcm_sched_state;

typedef struct alcm_sched alcm_sched;

/* Creates a scheduler; cfg NULL means defaults. NULL on bad config or out of memory. */
alcm_sched *alcm_sched_create(const alcm_sched_config *cfg);
void alcm_sched_free(alcm_sched *sched);

/* Writes the scheduler's current aggressiveness, prune ratio and error budget into *params
 * (other fields untouched). */
void alcm_sched_apply(const alcm_sched *sched, alcm_params *params);

/* Records the outcome of one gradient-profile step and moves the knobs for the next one.
 * A step stored losslessly (info->exact) counts as over budget and backs off. cpu_seconds
 * is ignored in deterministic mode (the cost model of info is used instead). */
void alcm_sched_record(alcm_sched *sched, const alcm_info *info, double cpu_seconds);

/* The cost model used in deterministic mode: modelled CPU seconds for one step. */
double alcm_sched_model_seconds(const alcm_info *info);

/* Copies the current state into *state. */
void alcm_sched_get_state(const alcm_sched *sched, alcm_sched_state *state);

/* Returns the scheduler to its initial state. */
void alcm_sched_reset(alcm_sched *sched);

/* ------------------------------------------------------------------------------------------
 * Stream: scheduler + error-feedback residual + context, one per (worker, tensor name).
 * This is what the daemon, the MPI hook and the CLI experiment hold per stream, so the
 * in-process path and the daemon produce the same blobs for the same history.
 * ---------------------------------------------------------------------------------------- */
typedef struct alcm_stream alcm_stream;

typedef struct {
    alcm_params params;          /* base params (profile, backend, entropy mode, block) */
    alcm_sched_config sched;     /* scheduler config; sched.error_budget overrides params */
    int error_feedback;          /* 1: keep a residual across steps (gradient profile) */
    int adaptive;                /* 1: the scheduler moves the knobs; 0: params as given */
} alcm_stream_config;

/* Defaults: gradient profile, error feedback on, adaptive on, scheduler defaults. */
void alcm_stream_config_default(alcm_stream_config *cfg);

alcm_stream *alcm_stream_create(const alcm_stream_config *cfg);
void alcm_stream_free(alcm_stream *stream);

/* Compresses one step of the stream: applies the scheduler's knobs, adds and updates the
 * residual (reallocated when the element count changes), measures this thread's CPU time
 * (or the cost model), and records the step. *cpu_seconds (if non-NULL) gets the figure
 * the scheduler used. Same contract as alcm_compress otherwise. */
alcm_status alcm_stream_compress(alcm_stream *stream, const alcm_shape *shape,
                                 const void *src, size_t src_bytes,
                                 void *dst, size_t dst_cap, size_t *dst_len,
                                 alcm_info *info, double *cpu_seconds);

/* Drops the residual and resets the scheduler. */
void alcm_stream_reset(alcm_stream *stream);

/* Scheduler state of the stream. */
void alcm_stream_get_state(const alcm_stream *stream, alcm_sched_state *state);

/* Bytes of memory the stream holds (residual, scratch, scheduler). */
size_t alcm_stream_memory(const alcm_stream *stream);

/* ------------------------------------------------------------------------------------------
 * Stream state export/import: the residual and the scheduler's full state (knobs, CAQ
 * window, cooldown, counters) as a self-checking byte string (docs/FORMAT.md, "Stream
 * state"), so a training checkpoint can carry it and a resumed run continues bit for bit.
 * The configuration is not part of the state: import into a stream created from the same
 * alcm_stream_config.
 * ---------------------------------------------------------------------------------------- */

/* Size in bytes of the stream's current exported state. */
size_t alcm_stream_state_size(const alcm_stream *stream);

/* Writes the state to dst (capacity dst_cap) and its length to *dst_len.
 * ALCM_E_DST_TOO_SMALL when dst_cap < alcm_stream_state_size(stream). */
alcm_status alcm_stream_state_export(const alcm_stream *stream, void *dst, size_t dst_cap,
                                     size_t *dst_len);

/* Replaces the stream's residual and scheduler state with an exported one. Every field is
 * checked before anything changes: ALCM_E_TRUNCATED, ALCM_E_MAGIC, ALCM_E_VERSION,
 * ALCM_E_CHECKSUM or ALCM_E_CORRUPT for a malformed state, ALCM_E_ARG when it was exported
 * from a stream with another scheduler window, ALCM_E_NOMEM; on error the stream is
 * unchanged. */
alcm_status alcm_stream_state_import(alcm_stream *stream, const void *src, size_t src_len);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_H */
