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
#define ALCM_VERSION_NUMBER \
    (ALCM_VERSION_MAJOR * 10000 + ALCM_VERSION_MINOR * 100 + ALCM_VERSION_PATCH)

/* Marks the public API. libalcm is built with hidden visibility by default and a version
 * script (core/libalcm.map), so only what is declared with ALCM_API is exported
 * (docs/ABI.md lists it; a test compares it with the library). */
#ifndef ALCM_API
#if defined(__GNUC__) && __GNUC__ >= 4
#define ALCM_API __attribute__((visibility("default")))
#else
#define ALCM_API
#endif
#endif

/* The library's version at run time: ALCM_VERSION_NUMBER and ALCM_VERSION_STRING of the
 * build that produced the library (they may differ from the header a program was built
 * with; docs/ABI.md says which differences are compatible). */
ALCM_API unsigned alcm_version_number(void);
ALCM_API const char *alcm_version_string(void);

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
    ALCM_E_CHECKSUM = -10,      /* a CRC32 (header or payload) does not match */
    ALCM_E_CORRUPT = -11,       /* a header or payload field is out of range or inconsistent */
    ALCM_E_CODEC = -12,         /* unknown codec or backend id in a blob */
    ALCM_E_BACKEND = -13,       /* zlib or zstd reported an error */
    ALCM_E_LIMIT = -14,         /* decoded size exceeds the context's configured limit */
    ALCM_E_INTERNAL = -15,      /* a library invariant failed (a bug: please report) */
    ALCM_E_INPUT_CHANGED = -16  /* the input changed while it was being encoded (memory
                                   shared with another process rewritten during the call);
                                   nothing was produced, the residual is left finite */
} alcm_status;

/* One-line message for a status code; never NULL, static storage. */
ALCM_API const char *alcm_strerror(alcm_status status);

/* Symbolic name of a status code ("ALCM_E_CHECKSUM"); never NULL, static storage. */
ALCM_API const char *alcm_status_name(alcm_status status);

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
ALCM_API size_t alcm_dtype_size(alcm_dtype dtype);

/* Short lower-case name ("f32", "f16", "bf16", "bytes"); "?" for an unknown dtype. */
ALCM_API const char *alcm_dtype_name(alcm_dtype dtype);

typedef struct {
    uint32_t rank;                  /* 0 (scalar) .. ALCM_MAX_RANK */
    uint64_t dims[ALCM_MAX_RANK];   /* dims[0] is the outermost (channel) axis */
} alcm_shape;

/* Fills *shape with a rank-1 shape of n elements. */
ALCM_API void alcm_shape_1d(alcm_shape *shape, uint64_t n);

/* Element count of a shape into *numel. ALCM_E_SHAPE if rank > ALCM_MAX_RANK or the
 * product overflows 2^62. A rank-0 shape has one element. */
ALCM_API alcm_status alcm_shape_numel(const alcm_shape *shape, uint64_t *numel);

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
    ALCM_ENTROPY_MEASURED = 1,  /* entropy map measured from a histogram (ablation) */
    ALCM_ENTROPY_FLAT = 2       /* the same entropy for every channel, a Gaussian's (ablation) */
} alcm_entropy_mode;

typedef struct {
    /* sizeof(alcm_params) as the caller was compiled, set by alcm_params_default: lets the
     * struct grow at its end without breaking programs built against an older header
     * (docs/ABI.md). Functions taking the struct reject a size they do not know with
     * ALCM_E_ARG. */
    uint32_t struct_size;
    alcm_profile profile;
    alcm_dtype dtype;
    alcm_backend backend;
    alcm_entropy_mode entropy_mode;  /* gradient profile only */
    double error_budget;     /* gradient: max relative L2 error ||x - x'|| / ||x||, in (0, 1] */
    double aggressiveness;   /* gradient: [0, 1], share of the error budget spent (see DESIGN) */
    double prune_ratio;      /* gradient: [0, 0.25], fraction of smallest magnitudes dropped */
    uint32_t block_size;     /* gradient: channel length for rank <= 1 tensors; 0 = 4096 */
    int level;               /* backend level; 0 = the profile's default */
    /* Gradient: per-segment budgets for a tensor that concatenates several (a bucket of
     * layers). NULL / 0 (what alcm_params_default and zero-initialisation give): one
     * budget for the whole tensor. Otherwise n_segments boundaries, element offsets into
     * the flat (row-major) tensor, non-decreasing and <= numel: segment k spans
     * [segments[k-1], segments[k]) with an implicit 0 before the first boundary and numel
     * after the last, so boundaries {a, b} cut the tensor into [0,a), [a,b), [b,numel).
     * Empty segments are allowed and skipped. Each segment is held to error_budget on its
     * own (||x_k - x_k'|| / ||x_k|| <= error_budget, or stored losslessly), so a layer of
     * small scale cannot be starved by a large one. The result is one blob (docs/FORMAT.md,
     * codec 5). The array is read during the call only (alcm_stream_create copies it). */
    const uint64_t *segments;
    uint32_t n_segments;
} alcm_params;

/* Fills *params with the defaults of a profile: dtype f32 (bytes for nothing), backend
 * AUTO, learned entropy, error budget 0.01, aggressiveness 1, prune ratio 0, block 4096. */
ALCM_API void alcm_params_default(alcm_params *params, alcm_profile profile);

/* Checks every field of *params against its documented range; ALCM_E_ARG or ALCM_E_DTYPE
 * if one is out of range or the dtype does not fit the profile. Segment boundaries must be
 * non-decreasing (their upper bound, numel, is checked by alcm_compress) and are accepted
 * by the gradient profile only. */
ALCM_API alcm_status alcm_params_check(const alcm_params *params);

/* ------------------------------------------------------------------------------------------
 * One-shot compression
 * ---------------------------------------------------------------------------------------- */

/* What one compression did. All fields are filled on success. */
typedef struct {
    uint64_t raw_bytes;        /* input bytes */
    uint64_t blob_bytes;       /* output blob bytes, header and checksum included */
    double ratio;              /* raw_bytes / blob_bytes (0 when raw_bytes is 0) */
    double rel_l2_error;       /* achieved ||x - decode(blob)|| / ||x||; 0 when lossless.
                                * With segments: over the whole tensor (each segment's own
                                * error is <= the budget; the largest is in the header) */
    double mean_bits;          /* mean code bits per element chosen by the allocator */
    double pruned_fraction;    /* fraction of elements dropped by pruning */
    uint32_t n_channels;       /* channels the tensor was cut into */
    alcm_backend backend;      /* backend actually used */
    int exact;                 /* 1 when the blob decodes to the exact input bytes */
    uint32_t n_segments;       /* inner blobs of a segmented blob: non-empty segments, a
                                * segment or tensor above 2^22 elements counting as its
                                * chunks (alcm_cctx_set_threads); 0 for one gradient blob */
    double max_segment_error;  /* largest per-segment relative L2 error (segmented only) */
} alcm_info;

typedef struct alcm_cctx alcm_cctx;

/* Creates a compression context (reusable scratch memory). NULL when out of memory. */
ALCM_API alcm_cctx *alcm_cctx_create(void);

/* Frees a context; NULL is a no-op. */
ALCM_API void alcm_cctx_free(alcm_cctx *cctx);

/* Bytes of scratch memory the context currently holds between calls (its worker
 * threads' own scratch included). */
ALCM_API size_t alcm_cctx_memory(const alcm_cctx *cctx);

/* Most worker threads of one context. */
#define ALCM_MAX_THREADS 64

/* Worker threads of each later alcm_compress with this context (default 1: the calling
 * thread alone). A gradient tensor of more than 2^22 elements (or a segment of more than
 * 2^22 elements) is always encoded as chunks, each an inner blob of a segmented blob
 * (docs/FORMAT.md, codec 5); n threads encode up to n chunks at once. The blob bytes, the
 * residual and alcm_info are the same for every n; smaller tensors use one thread. The
 * threads are created by each call and joined before it returns. ALCM_E_ARG when cctx is
 * NULL or n is 0 or above ALCM_MAX_THREADS. */
ALCM_API alcm_status alcm_cctx_set_threads(alcm_cctx *cctx, unsigned n);

/* Upper bound on the blob size for src_bytes of input under any params and shape of rank
 * <= ALCM_MAX_RANK. A dst of this capacity never yields ALCM_E_DST_TOO_SMALL. */
ALCM_API size_t alcm_compress_bound(size_t src_bytes);

/* The same bound for params with n_segments segment boundaries (each non-empty segment is
 * an inner blob with its own header): alcm_compress_bound(src_bytes) + 1024 (n_segments
 * + 1). */
ALCM_API size_t alcm_compress_bound_segments(size_t src_bytes, uint32_t n_segments);

/* Compresses src (src_bytes bytes of params->dtype laid out as shape) into dst.
 * residual: NULL, or for the gradient profile an error-feedback buffer of numel floats:
 *   it is added to src before encoding and overwritten with (src + residual) - decoded.
 *   Pass a zeroed buffer on the first step.
 * On success writes the blob length to *dst_len and, if info is non-NULL, fills *info.
 * The gradient profile rejects NaN/Inf with ALCM_E_NONFINITE; the other profiles carry any
 * bit pattern exactly. The error budget is always honoured: if quantisation cannot meet it,
 * the tensor is stored losslessly (info->exact = 1). */
ALCM_API alcm_status alcm_compress(alcm_cctx *cctx, const alcm_params *params, const alcm_shape *shape,
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
    uint32_t n_channels;       /* gradient profile; 0 otherwise (segmented: 0, see below) */
    double error_budget;       /* gradient profile: budget it was encoded under */
    double rel_l2_error;       /* gradient profile: error measured at encode time
                                * (segmented: the largest per-segment error) */
    uint32_t n_segments;       /* segmented gradient blob: inner blobs it holds (segments
                                * and automatic chunks); 0 otherwise */
} alcm_header;

/* Parses and validates the header of blob without decoding the payload: a version 2 blob's
 * header CRC covers the header alone, so this reads only the first bytes (a version 1 blob
 * has one CRC over everything, checked here as before).
 * Returns ALCM_E_TRUNCATED, ALCM_E_MAGIC, ALCM_E_VERSION, ALCM_E_CHECKSUM, ALCM_E_CODEC or
 * ALCM_E_CORRUPT for a malformed blob. */
ALCM_API alcm_status alcm_blob_header(const void *blob, size_t blob_len, alcm_header *header);

/* Per-channel code bits of a gradient blob: writes min(n_channels, cap) values to bits[]
 * and the channel count to *n_channels. Bits are fractional (log2 of the level count). */
ALCM_API alcm_status alcm_blob_channel_bits(const void *blob, size_t blob_len, float *bits, size_t cap,
                                   uint32_t *n_channels);

typedef struct alcm_dctx alcm_dctx;

/* Creates a decompression context. NULL when out of memory. */
ALCM_API alcm_dctx *alcm_dctx_create(void);

/* Frees a context; NULL is a no-op. */
ALCM_API void alcm_dctx_free(alcm_dctx *dctx);

/* Largest decoded size the context accepts (default 2^40); blobs declaring more fail with
 * ALCM_E_LIMIT before anything is allocated. */
ALCM_API void alcm_dctx_set_max_output(alcm_dctx *dctx, uint64_t max_bytes);

/* Worker threads of each later alcm_decompress with this context (default 1): a
 * segmented blob's inner blobs are decoded by up to n threads at once, into their own
 * ranges of dst; the output is the same for every n. ALCM_E_ARG when dctx is NULL or n is
 * 0 or above ALCM_MAX_THREADS. */
ALCM_API alcm_status alcm_dctx_set_threads(alcm_dctx *dctx, unsigned n);

/* Decodes a blob into dst (capacity dst_cap) and writes the decoded size to *dst_len.
 * Every length and field is checked; a malformed blob returns a specific error and leaves
 * *dst_len at 0. dst_cap must be at least header.raw_bytes (ALCM_E_DST_TOO_SMALL). */
ALCM_API alcm_status alcm_decompress(alcm_dctx *dctx, const void *blob, size_t blob_len,
                            void *dst, size_t dst_cap, size_t *dst_len);

/* ------------------------------------------------------------------------------------------
 * Scheduler: per-stream CAQ feedback loop
 * ---------------------------------------------------------------------------------------- */

/* CAQ = ratio / (cpu_seconds + 1). */
ALCM_API double alcm_caq(double ratio, double cpu_seconds);

typedef struct {
    uint32_t struct_size;    /* sizeof(alcm_sched_config), set by alcm_sched_config_default */
    double error_budget;     /* budget every step is encoded under (default 0.01) */
    uint32_t window;         /* steps in the trend window (default 5) */
    int deterministic;       /* 1: cpu seconds come from the cost model, so runs replay */
    double step_up;          /* aggressiveness increase per improving window (default 0.1) */
    double back_off;         /* aggressiveness decrease per falling window (default 0.2) */
    double prune_max;        /* ceiling of the pruning ratio (default 0.25) */
} alcm_sched_config;

/* Fills *cfg with the defaults above (deterministic = 0). */
ALCM_API void alcm_sched_config_default(alcm_sched_config *cfg);

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

/* ALCM_OK when cfg is a valid scheduler config (budget in (0, 1], window 2..64, step_up
 * and back_off in (0, 1], prune_max in [0, 0.25]), else ALCM_E_ARG. Allocates nothing. */
ALCM_API alcm_status alcm_sched_config_check(const alcm_sched_config *cfg);

/* Creates a scheduler into *out; cfg NULL means defaults. ALCM_E_ARG for a config out of
 * range (or of an unknown struct_size), ALCM_E_NOMEM when out of memory; *out is NULL
 * then. */
ALCM_API alcm_status alcm_sched_create(const alcm_sched_config *cfg, alcm_sched **out);
ALCM_API void alcm_sched_free(alcm_sched *sched);

/* Writes the scheduler's current aggressiveness, prune ratio and error budget into *params
 * (other fields untouched). */
ALCM_API void alcm_sched_apply(const alcm_sched *sched, alcm_params *params);

/* Records the outcome of one gradient-profile step and moves the knobs for the next one.
 * A step stored losslessly (info->exact) counts as over budget and backs off. cpu_seconds
 * is ignored in deterministic mode (the cost model of info is used instead). */
ALCM_API void alcm_sched_record(alcm_sched *sched, const alcm_info *info, double cpu_seconds);

/* The cost model used in deterministic mode: modelled CPU seconds for one step. */
ALCM_API double alcm_sched_model_seconds(const alcm_info *info);

/* Copies the current state into *state. */
ALCM_API void alcm_sched_get_state(const alcm_sched *sched, alcm_sched_state *state);

/* Returns the scheduler to its initial state. */
ALCM_API void alcm_sched_reset(alcm_sched *sched);

/* ------------------------------------------------------------------------------------------
 * Stream: scheduler + error-feedback residual + context, one per (worker, tensor name).
 * This is what the daemon, the MPI hook and the CLI experiment hold per stream, so the
 * in-process path and the daemon produce the same blobs for the same history.
 * ---------------------------------------------------------------------------------------- */
typedef struct alcm_stream alcm_stream;

typedef struct {
    uint32_t struct_size;        /* sizeof(alcm_stream_config), set by the _default function */
    alcm_params params;          /* base params (profile, backend, entropy mode, block) */
    alcm_sched_config sched;     /* scheduler config; sched.error_budget overrides params */
    int error_feedback;          /* 1: keep a residual across steps (gradient profile) */
    int adaptive;                /* 1: the scheduler moves the knobs; 0: params as given */
} alcm_stream_config;

/* Defaults: gradient profile, error feedback on, adaptive off (static aggressiveness 1, no
 * pruning: the measured best, docs/DESIGN.md "Ablation"), scheduler defaults. */
ALCM_API void alcm_stream_config_default(alcm_stream_config *cfg);

/* What alcm_stream_create checks, without allocating: the params (with the scheduler's
 * budget for the gradient profile) by alcm_params_check, then alcm_sched_config_check.
 * ALCM_OK or the first failing check's status. */
ALCM_API alcm_status alcm_stream_config_check(const alcm_stream_config *cfg);

/* 1 when a and b configure the same stream (every field equal), else 0. A stream whose
 * config changes starts afresh (the daemon and the MPI hook compare with this). */
ALCM_API int alcm_stream_config_equal(const alcm_stream_config *a, const alcm_stream_config *b);

/* Creates a stream into *out; cfg NULL means defaults. ALCM_E_ARG or ALCM_E_DTYPE for a
 * bad config (the alcm_params_check rules, the scheduler's ranges, an unknown
 * struct_size), ALCM_E_NOMEM when out of memory; *out is NULL then. */
ALCM_API alcm_status alcm_stream_create(const alcm_stream_config *cfg, alcm_stream **out);
ALCM_API void alcm_stream_free(alcm_stream *stream);

/* Compresses one step of the stream: applies the scheduler's knobs, adds and updates the
 * residual (reallocated when the element count changes), measures this thread's CPU time
 * (or the cost model), and records the step. *cpu_seconds (if non-NULL) gets the figure
 * the scheduler used. Same contract as alcm_compress otherwise, except that the stream keeps
 * a second residual buffer (4 bytes per element more, counted by alcm_stream_memory), which
 * the step writes and then swaps in: a failed step leaves the residual as it was, whatever
 * the error. Without the memory for it the step updates the residual in place
 * (docs/DESIGN.md, "Error feedback"). */
ALCM_API alcm_status alcm_stream_compress(alcm_stream *stream, const alcm_shape *shape,
                                 const void *src, size_t src_bytes,
                                 void *dst, size_t dst_cap, size_t *dst_len,
                                 alcm_info *info, double *cpu_seconds);

/* Drops the residual and resets the scheduler. */
ALCM_API void alcm_stream_reset(alcm_stream *stream);

/* The configuration the stream was created with (or imported). */
ALCM_API void alcm_stream_get_config(const alcm_stream *stream, alcm_stream_config *cfg);

/* Scheduler state of the stream. */
ALCM_API void alcm_stream_get_state(const alcm_stream *stream, alcm_sched_state *state);

/* A stream's state as bytes (docs/STATE.md): its configuration, the scheduler's complete
 * state and the error-feedback residual, with a CRC32. A training framework can keep it in
 * its own checkpoint; a stream imported from it continues exactly where the exported one
 * was (same blobs for the same next inputs). */

/* Bytes alcm_stream_export needs now (it changes when the residual's size does). */
ALCM_API size_t alcm_stream_export_size(const alcm_stream *stream);

/* Writes the state into dst (capacity cap) and its length to *len. ALCM_E_DST_TOO_SMALL
 * when cap < alcm_stream_export_size(stream). */
ALCM_API alcm_status alcm_stream_export(const alcm_stream *stream, void *dst, size_t cap,
                                        size_t *len);

/* Creates a stream from exported state into *out. Every field is checked: ALCM_E_MAGIC,
 * ALCM_E_TRUNCATED, ALCM_E_VERSION, ALCM_E_CHECKSUM, ALCM_E_CORRUPT (a field out of range,
 * an invalid configuration, a residual count that disagrees with the bytes, a non-finite
 * residual value), ALCM_E_NOMEM; *out is NULL on failure. */
ALCM_API alcm_status alcm_stream_import(const void *state, size_t len, alcm_stream **out);

/* Bytes of memory the stream holds (residual, scratch, scheduler). */
ALCM_API size_t alcm_stream_memory(const alcm_stream *stream);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_H */
