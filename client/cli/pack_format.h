/* pack_format.h - the `alcm pack` file in memory (docs/PACK.md): a safetensors file coded
 * with the lossless profile, version 1 (one blob per tensor, header verbatim) or version 2
 * (DEFLATE-coded header, one blob per group of consecutive tensors of one class, blob
 * fields the pack implies left out). Errors are printed through cli_error(cmd, ...) naming
 * path; nothing is returned on failure. */
#ifndef ALCM_CLI_PACK_FORMAT_H
#define ALCM_CLI_PACK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

#define PACK_VERSION_LATEST 2u
#define PACK_GROUP_MAX ((uint64_t)1 << 22)   /* raw bytes of a group of several tensors */

typedef struct {
    uint64_t raw[5], packed[5];   /* per alcm_dtype: tensor bytes and what they cost packed */
    uint64_t header_raw, header_packed;
    size_t tensors, groups;       /* groups: version 2; version 1 counts one per tensor */
} pack_stats;

/* Packs the safetensors file src[0, len) as the given version (1 or 2). On success *out
 * (malloc'd, the caller frees) holds *out_len bytes; returns 0, or -1 after printing why. */
int pack_encode(const char *cmd, const char *path, const uint8_t *src, size_t len,
                unsigned version, alcm_backend backend, uint8_t **out, size_t *out_len,
                pack_stats *stats);

/* Unpacks a version 1 or 2 file, checking every field (docs/PACK.md). Returns 0 with the
 * exact original file in *out (malloc'd) and *out_len, or -1 after printing why. */
int pack_decode(const char *cmd, const char *path, const uint8_t *src, size_t len,
                uint8_t **out, size_t *out_len);

#endif
