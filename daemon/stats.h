/* stats.h - request counters and a log-bucketed latency histogram, kept per stream and in
 * total; pure bookkeeping, no I/O. */
#ifndef ALCMD_STATS_H
#define ALCMD_STATS_H

#include <stdint.h>

#define ALCMD_N_ERROR_CODES 15        /* ErrorCode values 0..14 */
#define ALCMD_LAT_SUB 16              /* buckets per power of two: about 3 % wide */
#define ALCMD_LAT_OCTAVES 32          /* 1 us .. 2^32 us (71 minutes) */
#define ALCMD_LAT_BUCKETS (1 + ALCMD_LAT_SUB * ALCMD_LAT_OCTAVES)

typedef struct {
    uint64_t requests;            /* answered requests, errors included */
    uint64_t errors;
    uint64_t bytes_in, bytes_out; /* request and reply payload bytes */
    uint64_t comp_raw, comp_blob; /* over compress steps: tensor and blob bytes */
    uint64_t comp_steps;
    double caq_sum, caq_last;
    uint64_t evictions;
    uint64_t errors_by_code[ALCMD_N_ERROR_CODES];
    uint32_t latency[ALCMD_LAT_BUCKETS];   /* microseconds, log buckets */
} alcmd_counters;

/* One answered request: payload bytes both ways and the latency in nanoseconds. */
void alcmd_counters_request(alcmd_counters *c, uint64_t bytes_in, uint64_t bytes_out,
                            uint64_t latency_ns);

/* One compress step: tensor bytes, blob bytes and the step's CAQ. */
void alcmd_counters_compress(alcmd_counters *c, uint64_t raw, uint64_t blob, double caq);

/* One error reply with this ErrorCode (out-of-range codes count as ERR_INTERNAL). */
void alcmd_counters_error(alcmd_counters *c, int code);

/* Compression ratio over the compress steps (0 before the first). */
double alcmd_counters_ratio(const alcmd_counters *c);

/* Mean CAQ over the compress steps (0 before the first). */
double alcmd_counters_caq_mean(const alcmd_counters *c);

/* Latency quantile q in [0, 1], in seconds (bucket midpoint; 0 when empty). */
double alcmd_counters_latency(const alcmd_counters *c, double q);

/* Bucket index of a latency in nanoseconds (exposed for tests). */
unsigned alcmd_latency_bucket(uint64_t latency_ns);

#endif
