/* rans.h - static order-0 rANS coding of a byte plane: the data of a method-2 stream of
 * docs/FORMAT.md (internal). */
#ifndef ALCM_RANS_H
#define ALCM_RANS_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

#define ALCM_RANS_SCALE_BITS 12 /* symbol frequencies sum to 2^12 */
#define ALCM_RANS_STATES 4      /* interleaved states: symbol i uses state i mod 4 */

/* Byte histogram of src[0..n). */
void alcm_rans_histogram(const uint8_t *src, size_t n, uint32_t hist[256]);

/* Codes src[0..n) (n >= 1, hist its histogram) into dst[0..cap): frequency table, the four
 * final states, the renormalisation bytes. *out = bytes written. ALCM_E_DST_TOO_SMALL when
 * the data would not fit in cap (callers pass cap < n to ask "does it shrink"). */
alcm_status alcm_rans_encode(const uint8_t *src, size_t n, const uint32_t hist[256],
                             uint8_t *dst, size_t cap, size_t *out);

/* Decodes exactly n bytes (n >= 1) from src[0..len) into dst. ALCM_E_CORRUPT on a bad table,
 * a state out of range, data that run out or are left over, or final states that are not
 * the initial ones. */
alcm_status alcm_rans_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t n);

#endif /* ALCM_RANS_H */
