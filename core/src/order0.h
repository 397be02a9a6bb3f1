/* order0.h - order-0 (byte histogram) entropy estimate, used to store incompressible data
 * without trying to code it (internal). */
#ifndef ALCM_ORDER0_H
#define ALCM_ORDER0_H

#include <stddef.h>
#include <stdint.h>

/* Empirical order-0 entropy of p[0..n) in bits per byte, in [0, 8]; 0 for n = 0. */
double alcm_order0_bits(const uint8_t *p, size_t n);

/* The same estimated from the bytes p[0], p[stride], p[2 stride], ... (stride >= 1): a
 * cheap, deterministic estimate for large inputs. */
double alcm_order0_bits_strided(const uint8_t *p, size_t n, size_t stride);

#endif /* ALCM_ORDER0_H */
