/* baseline.h - the comparison point: zlib level 6 over the raw bytes, and the size of that
 * pure DEFLATE stream inside a baseline blob (internal; docs/FORMAT.md, codec 4). */
#ifndef ALCM_BASELINE_H
#define ALCM_BASELINE_H

#include <stddef.h>

#include "alcm.h"

#define ALCM_BASELINE_LEVEL 6

/* Bytes of the raw zlib-6 DEFLATE stream inside a baseline blob (the blob without header
 * and CRC): what comparisons with NumPy's savez_compressed count. ALCM_E_ARG if the blob
 * is valid but not a baseline blob; the blob errors of alcm_blob_header otherwise. */
alcm_status alcm_baseline_payload_bytes(const void *blob, size_t blob_len, size_t *bytes);

#endif /* ALCM_BASELINE_H */
