/* tans.h - static order-0 tANS coding of a byte plane: the data of a method-2 stream of
 * docs/FORMAT.md (internal). */
#ifndef ALCM_TANS_H
#define ALCM_TANS_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

#define ALCM_TANS_LOG 12    /* the largest table, 2^12 slots: method 2's only size */
#define ALCM_TANS_LOG_MIN 9 /* the smallest table a method-3 stream may state */
#define ALCM_TANS_STATES 4 /* interleaved states: symbol i uses state i mod 4 */

/* Byte histogram of src[0..n). */
void alcm_tans_histogram(const uint8_t *src, size_t n, uint32_t hist[256]);

/* Codes src[0..n) (n >= 1, hist its histogram) with a table of 2^log slots (log in
 * ALCM_TANS_LOG_MIN .. ALCM_TANS_LOG, else ALCM_E_ARG) into dst[0..cap): frequency table,
 * padding count, bit stream (the table size itself is not written). *out = bytes written.
 * ALCM_E_DST_TOO_SMALL when the data would not fit in cap (callers pass cap < n to ask
 * "does it shrink"). */
alcm_status alcm_tans_encode(const uint8_t *src, size_t n, const uint32_t hist[256],
                             unsigned log, uint8_t *dst, size_t cap, size_t *out);

/* Decodes exactly n bytes (n >= 1) from src[0..len), coded with a table of 2^log slots,
 * into dst. ALCM_E_CORRUPT on a log out of range, a bad table, non-zero padding, a bit
 * stream that runs out or has bits left over, or final states that are not the encoder's
 * initial ones. */
alcm_status alcm_tans_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t n,
                             unsigned log);

#endif /* ALCM_TANS_H */
