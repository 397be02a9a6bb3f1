/* safetensors.h - the safetensors header parser of `alcm pack` / `alcm unpack`: an 8-byte
 * length, a JSON header naming every tensor's dtype, shape and data offsets, and the rules
 * docs/PACK.md lists (known dtypes, sizes that match shapes, contiguous tensors). */
#ifndef ALCM_CLI_SAFETENSORS_H
#define ALCM_CLI_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

#define ST_MAX_HEADER 100000000ULL
#define ST_MAX_TENSORS 1000000u

typedef struct {
    const char *name;       /* points into the parsed JSON (valid while it lives) */
    alcm_dtype dtype;       /* how the tensor is compressed (its class) */
    uint64_t begin, end;    /* data offsets */
    size_t index;           /* position in the JSON object: orders zero-byte ties */
} st_tensor;

typedef struct {
    struct json_t *root;
    st_tensor *t;           /* in data order: by begin, then JSON position */
    size_t n;
    uint64_t header_len;    /* N */
} st_file;

/* Parses and checks the safetensors header at p (avail bytes: at least 8 + N) for a data
 * buffer of data_len bytes (have_data_len = 0: the bytes after the header). On failure
 * prints the first problem through cli_error(cmd, ...) naming path and returns -1 with *f
 * empty. */
int st_parse(const char *cmd, const char *path, const uint8_t *p, uint64_t avail,
             int have_data_len, uint64_t data_len, st_file *f);
void st_free(st_file *f);

/* Little-endian fixed-width fields. */
void st_put_u32(uint8_t *p, uint32_t v);
void st_put_u64(uint8_t *p, uint64_t v);
uint32_t st_get_u32(const uint8_t *p);
uint64_t st_get_u64(const uint8_t *p);

#endif
