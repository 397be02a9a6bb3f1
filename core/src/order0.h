/* order0.h - order-0 (byte histogram) entropy estimate, used to store incompressible data
 * without trying to code it (internal). */
#ifndef ALCM_ORDER0_H
#define ALCM_ORDER0_H

#include <stddef.h>
#include <stdint.h>

/* Empirical order-0 entropy of p[0..n) in bits per byte, in [0, 8]; 0 for n = 0. */
double alcm_order0_bits(const uint8_t *p, size_t n);

/* The same estimated from the bytes p[0], p[stride], p[2 stride], ... (stride >= 1): a
 * cheap, deterministic estimate for large inputs. If repeats is non-NULL it gets how much
 * more often a sampled byte equals the next one than independent bytes of that histogram
 * would (P(p[i] = p[i+1]) - Σ q_v²): near 0 for order-0 data, large for runs. */
double alcm_order0_bits_strided(const uint8_t *p, size_t n, size_t stride, double *repeats);

#endif /* ALCM_ORDER0_H */
