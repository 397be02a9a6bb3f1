/* fuzz_safetensors.c - the safetensors header parser of `alcm pack` (docs/PACK.md) on
 * arbitrary bytes: it must accept or reject without reading out of bounds, and whatever it
 * accepts must satisfy the documented rules (contiguous tensors covering the data). */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../client/cli/safetensors.c"

/* The tool's helpers the parser refers to; it only reports through cli_error. */
void cli_error(const char *cmd, const char *fmt, ...)
{
    (void)cmd;
    (void)fmt;
}
int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    (void)path;
    (void)data;
    (void)len;
    return -1;
}
int cli_write_file(const char *path, const void *data, size_t len)
{
    (void)path;
    (void)data;
    (void)len;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file f;
    if (st_parse("fuzz", "input", data, size, 0, 0, &f) != 0) return 0;
    uint64_t n = st_get_u64(data), data_len = size - 8 - n, at = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (f.t[i].begin != at || f.t[i].end < f.t[i].begin) abort();
        at = f.t[i].end;
    }
    if (at != data_len) abort();
    st_free(&f);
    return 0;
}
