/* stats.c - counters and the latency histogram of alcmd's statistics. */
#include "stats.h"

#include <math.h>

unsigned alcmd_latency_bucket(uint64_t latency_ns)
{
    uint64_t us = latency_ns / 1000;
    if (us == 0) return 0;
    unsigned octave = 63u - (unsigned)__builtin_clzll(us);
    if (octave >= ALCMD_LAT_OCTAVES) return ALCMD_LAT_BUCKETS - 1;
    /* Position within [2^octave, 2^(octave+1)) in ALCMD_LAT_SUB equal steps. */
    uint64_t base = (uint64_t)1 << octave;
    unsigned sub = (unsigned)(((us - base) * ALCMD_LAT_SUB) >> octave);
    return 1 + octave * ALCMD_LAT_SUB + sub;
}

/* Midpoint of a bucket, in seconds. */
static double bucket_mid_seconds(unsigned b)
{
    if (b == 0) return 0.5e-6;
    unsigned octave = (b - 1) / ALCMD_LAT_SUB, sub = (b - 1) % ALCMD_LAT_SUB;
    double lo = ldexp(1.0 + (double)sub / ALCMD_LAT_SUB, (int)octave);
    double hi = ldexp(1.0 + (double)(sub + 1) / ALCMD_LAT_SUB, (int)octave);
    return 0.5 * (lo + hi) * 1e-6;
}

void alcmd_counters_request(alcmd_counters *c, uint64_t bytes_in, uint64_t bytes_out,
                            uint64_t latency_ns)
{
    c->requests++;
    c->bytes_in += bytes_in;
    c->bytes_out += bytes_out;
    uint32_t *slot = &c->latency[alcmd_latency_bucket(latency_ns)];
    if (*slot < UINT32_MAX) (*slot)++;
}

void alcmd_counters_compress(alcmd_counters *c, uint64_t raw, uint64_t blob, double caq)
{
    c->comp_raw += raw;
    c->comp_blob += blob;
    c->comp_steps++;
    c->caq_sum += caq;
    c->caq_last = caq;
}

void alcmd_counters_error(alcmd_counters *c, int code)
{
    if (code <= 0 || code >= ALCMD_N_ERROR_CODES) code = ALCMD_N_ERROR_CODES - 1;
    c->errors++;
    c->errors_by_code[code]++;
}

double alcmd_counters_ratio(const alcmd_counters *c)
{
    return c->comp_blob ? (double)c->comp_raw / (double)c->comp_blob : 0.0;
}

double alcmd_counters_caq_mean(const alcmd_counters *c)
{
    return c->comp_steps ? c->caq_sum / (double)c->comp_steps : 0.0;
}

double alcmd_counters_latency(const alcmd_counters *c, double q)
{
    uint64_t n = 0;
    for (unsigned b = 0; b < ALCMD_LAT_BUCKETS; b++) n += c->latency[b];
    if (n == 0) return 0.0;
    if (q < 0.0) q = 0.0;
    if (q > 1.0) q = 1.0;
    uint64_t rank = (uint64_t)ceil(q * (double)n);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < ALCMD_LAT_BUCKETS; b++) {
        seen += c->latency[b];
        if (seen >= rank) return bucket_mid_seconds(b);
    }
    return bucket_mid_seconds(ALCMD_LAT_BUCKETS - 1);
}
