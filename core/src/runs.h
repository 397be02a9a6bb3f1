/* runs.h - runs of one byte value as tokens, the other bytes through zstd's literal coder
 * and the run lengths' buckets through static order-0 tANS: the data of a method-4 stream of
 * docs/FORMAT.md, used for the code streams of codec 1 (internal). */
#ifndef ALCM_RUNS_H
#define ALCM_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"
#include "backend.h"
#include "bytes.h"

/* Longest run one token codes (bucket 31); longer runs take several tokens. */
#define ALCM_RUNS_RUN_MAX 0xFFFFFFFFu

/* Scratch bytes alcm_runs_encode needs for an input of n bytes (0 if that overflows). */
size_t alcm_runs_scratch(size_t n);

/* Codes src[0..n) (n >= 1) as method-4 data with run value v into dst[0..cap), the symbols
 * through e's zstd: *out = bytes written, or, with judge set, 0 (ALCM_OK, nothing written)
 * when cutting the runs would not pay (an estimate from the run counts, docs/FORMAT.md).
 * scratch holds alcm_runs_scratch(n) bytes.
 * ALCM_E_DST_TOO_SMALL when the data would not fit in cap (callers pass cap < n to ask "does
 * it shrink"), ALCM_E_NOMEM, ALCM_E_BACKEND. */
alcm_status alcm_runs_encode(alcm_backend_enc *e, const uint8_t *src, size_t n, uint8_t v,
                             int judge, uint8_t *scratch, uint8_t *dst, size_t cap, size_t *out);

/* Decodes exactly n bytes (n >= 1) of method-4 data src[0..len) into dst, the symbols with
 * d's zstd, with scratch grown as needed (symbols and run buckets). ALCM_E_CORRUPT on any
 * check of docs/FORMAT.md, ALCM_E_BACKEND when zstd rejects the symbol frame, ALCM_E_NOMEM. */
alcm_status alcm_runs_decode(alcm_backend_dec *d, const uint8_t *src, size_t len, uint8_t *dst,
                             size_t n, alcm_buf *scratch);

#endif /* ALCM_RUNS_H */
