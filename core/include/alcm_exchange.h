/*
 * alcm_exchange.h - choosing how a sum of float tensors crosses the network.
 *
 * Pure computation, like the rest of libalcm: no I/O, no clock, no globals. Two pieces:
 *
 * - a cost model, alcm_exchange_predict(), that predicts the seconds of one allreduce of n
 *   raw bytes over p ranks on each path from measured figures (link bandwidth and latency,
 *   the codec's encode and decode throughput, its ratio). docs/MPI.md derives it and checks
 *   it against measured runs;
 * - a planner, alcm_planner, that decides per call which path to take from timed calls: it
 *   measures every allowed path a few times per size class, then takes the fastest (by the
 *   median of its recent figures), times the chosen path now and then and re-measures the
 *   others periodically, so a link that changes speed is followed.
 *
 * Collective use: the planner is deterministic. When every rank of a group creates it with
 * the same config, calls alcm_planner_choose() with the same arguments in the same order and
 * feeds alcm_planner_record() the same figures (a time every rank holds alike: the MAX over
 * the ranks of each rank's figure, one small allreduce), every rank chooses the same path.
 * The MPI hook records the cycle of a call (end of the previous call of the same key to the
 * end of this one, the program's work included); the PyTorch hook the call's wall time.
 */
#ifndef ALCM_EXCHANGE_H
#define ALCM_EXCHANGE_H

#include <stdint.h>

#include "alcm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How one allreduce of floats crosses the network. */
typedef enum {
    ALCM_PATH_PLAIN = 0,     /* the uncompressed collective (MPI_Allreduce, gloo all_reduce) */
    ALCM_PATH_ALLGATHER = 1, /* every rank's blob to every rank; each decodes p blobs of n */
    ALCM_PATH_RSAG = 2       /* compressed reduce-scatter (rank r owns shard r, decodes the p
                                pieces of it, sums, re-encodes once) + allgather of the p
                                encoded shard sums: decode work and bytes received O(n) */
} alcm_path;

#define ALCM_PATH_COUNT 3
#define ALCM_PATH_MASK_ALL 7u   /* (1u << ALCM_PATH_PLAIN) | ... */

/* "plain", "allgather", "rsag"; "?" for anything else. Static storage. */
ALCM_API const char *alcm_path_name(alcm_path path);

/* Parses "plain", "allgather" or "rsag" into *path: ALCM_OK or ALCM_E_ARG. */
ALCM_API alcm_status alcm_path_parse(const char *name, alcm_path *path);

/* ------------------------------------------------------------------------------------------
 * Cost model
 * ---------------------------------------------------------------------------------------- */
typedef struct {
    uint32_t ranks;               /* p >= 2 */
    double link_bytes_per_s;      /* payload bytes per second one rank sends (and receives
                                     at once) over the network, > 0 */
    double latency_s;             /* start-up time of one message, >= 0 */
    double encode_bytes_per_s;    /* raw float bytes one rank encodes per second, > 0 */
    double decode_bytes_per_s;    /* raw float bytes one rank decodes and adds per second, > 0 */
    double ratio;                 /* raw bytes / blob bytes of the codec, >= 1 */
    double overlap;               /* [0, 1]: share of the smaller of codec and network time
                                     hidden behind the other (0: none, 1: pipelined fully) */
} alcm_exchange_figures;

/* Predicted seconds of one allreduce of raw_bytes on path with the figures of *f:
 *   plain      2 (p-1)/p n / B + 2 (p-1) a
 *   allgather  codec n/E + p n/D,           network (p-1) n/(R B) + (p-1) a + a log2 p
 *   rsag       codec (1 + 1/p) n/E + 2 n/D, network 2 (p-1)/p n/(R B) + 2 (p-1) a + a
 * and for the compressed paths codec + network - overlap * min(codec, network).
 * (n raw bytes, p ranks, B link, a latency, E/D encode/decode throughput, R ratio.)
 * A negative value when *f or path is invalid. */
ALCM_API double alcm_exchange_predict(alcm_path path, uint64_t raw_bytes,
                             const alcm_exchange_figures *f);

/* ------------------------------------------------------------------------------------------
 * Planner
 * ---------------------------------------------------------------------------------------- */
typedef struct {
    uint32_t struct_size;     /* sizeof(alcm_planner_config), set by the _default function
                                 (docs/ABI.md, "Structs that grow") */
    uint32_t warmup;          /* timed calls of each allowed path per size class before the
                                 planner chooses; the first is discarded (set-up costs);
                                 default 3, range 1..64 */
    uint32_t measure_period;  /* the chosen path is timed every N-th call; default 32, >= 1 */
    uint32_t reprobe_period;  /* how often the other paths are timed again: a path x times
                                 slower than the best one every N x^2 / 4 calls, within
                                 [N, 16 N], so probing costs at most 1/N of the calls'
                                 time per path; a compressed path whose re-probes keep
                                 losing to plain by the margin waits twice as long after
                                 each (up to 16 N) until plain's figure grows by the
                                 margin; default 128, 0 = never */
    uint32_t window;          /* the figure of a path is the median of its last `window`
                                 timed calls (one slow call, never a fast one, is what a
                                 busy machine adds); default 5, 1..15 */
    double margin;            /* a compressed path must beat plain by this share to be chosen:
                                 plain wins near-ties (it is exact, and the CPU a compressed
                                 exchange takes from the ranks' own work does not show in
                                 the exchange's time; where the two are close, the medians
                                 of 5 cycle times scatter by about 10 % and a smaller margin
                                 lets them flip the job between paths); default 0.20,
                                 [0, 0.5] */
    double scale_margin;      /* allgather must beat rsag by this share to be chosen: rsag's
                                 decode work does not grow with p, and the CPU allgather
                                 takes from the other ranks' work does not show in the
                                 exchange's own time; default 0.15, [0, 0.5] */
} alcm_planner_config;

/* Fills *cfg with the defaults above. */
ALCM_API void alcm_planner_config_default(alcm_planner_config *cfg);

/* Checks every field of *cfg: ALCM_OK or ALCM_E_ARG. */
ALCM_API alcm_status alcm_planner_config_check(const alcm_planner_config *cfg);

typedef struct alcm_planner alcm_planner;

/* Creates a planner in *out (cfg NULL = defaults). ALCM_E_ARG for a bad config (*out NULL),
 * ALCM_E_NOMEM when out of memory. */
ALCM_API alcm_status alcm_planner_create(const alcm_planner_config *cfg, alcm_planner **out);

/* Frees a planner; NULL is a no-op. */
ALCM_API void alcm_planner_free(alcm_planner *planner);

/* The path for the next call of raw_bytes among the allowed ones (a mask of 1u << path;
 * no allowed bit, or no planner, gives ALCM_PATH_PLAIN). *measure (if non-NULL) is set to
 * 1 when the caller must time this call and report it with alcm_planner_record(), else 0.
 * Size classes are powers of two of raw_bytes; figures are kept per byte. */
ALCM_API alcm_path alcm_planner_choose(alcm_planner *planner, uint64_t raw_bytes, unsigned allowed,
                              int *measure);

/* Records the wall seconds a call of raw_bytes took on path (all ranks: the same figure). */
ALCM_API void alcm_planner_record(alcm_planner *planner, alcm_path path, uint64_t raw_bytes,
                         double seconds);

/* Optional, after alcm_planner_record() of the same call of a compressed path: the part of
 * its seconds that no link could remove (the codec's time plus the program's own work in
 * the figure; all ranks: the same figure, e.g. the MAX). A compressed path whose floor is
 * at least (1 - margin) times plain's figure cannot be chosen on any link: the planner
 * stops its warm-up and re-times it only every 16 reprobe periods, until plain's figure
 * grows. Without floors the planner behaves as before. */
ALCM_API void alcm_planner_record_floor(alcm_planner *planner, alcm_path path,
                                        uint64_t raw_bytes, double seconds);

/* What the planner knows of the size class of raw_bytes. */
typedef struct {
    uint64_t calls;                           /* choices made in the class */
    uint32_t samples[ALCM_PATH_COUNT];        /* timed calls kept per path */
    double seconds_per_byte[ALCM_PATH_COUNT]; /* median of the recent figures; 0: none */
    alcm_path last;                           /* the last path chosen */
} alcm_planner_class;

/* Copies the state of raw_bytes' size class into *out: ALCM_OK, or ALCM_E_ARG. */
ALCM_API alcm_status alcm_planner_get_class(const alcm_planner *planner, uint64_t raw_bytes,
                                   alcm_planner_class *out);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_EXCHANGE_H */
