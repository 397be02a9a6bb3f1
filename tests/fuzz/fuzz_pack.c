/* fuzz_pack.c - `alcm unpack` on arbitrary bytes (docs/PACK.md, versions 1 and 2): every
 * input must be accepted or rejected without reading out of bounds or leaking.
 *
 * Oracle: an accepted input rebuilt a safetensors file that the parser accepts, whose CRC32
 * matched; packing that file again as version 1 and as version 2 and unpacking each gives
 * back the same bytes. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/cli/pack_format.c"
#include "../../client/cli/safetensors.c"

/* The tool's helper the format code reports through. */
void cli_error(const char *cmd, const char *fmt, ...)
{
    (void)cmd;
    (void)fmt;
}

/* Original files are capped so a single input cannot ask for gigabytes. */
#define FUZZ_MAX_OUTPUT ((size_t)16 << 20)

static void repack(const uint8_t *file, size_t len, unsigned version)
{
    uint8_t *packed = NULL, *back = NULL;
    size_t plen = 0, blen = 0;
    pack_stats s;
    if (pack_encode("fuzz", "rebuilt", file, len, version, ALCM_BACKEND_ZLIB, &packed, &plen, &s))
        abort();
    if (pack_decode("fuzz", "repacked", packed, plen, &back, &blen)) abort();
    if (blen != len || memcmp(back, file, len) != 0) abort();
    free(packed);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The original size sits at bytes 8..16 (version 1) or in the first varint after byte
     * 12 (version 2); skip inputs that claim more than the cap before anything allocates. */
    if (size >= 16 && st_get_u32(data + 4) == 1 && st_get_u64(data + 8) > FUZZ_MAX_OUTPUT)
        return 0;
    if (size >= 12 && st_get_u32(data + 4) == 2) {
        size_t pos = 12;
        uint64_t v;
        if (get_varint("fuzz", "input", data, size, &pos, "size", &v) == 0 && v > FUZZ_MAX_OUTPUT)
            return 0;
    }
    uint8_t *out = NULL;
    size_t len = 0;
    if (pack_decode("fuzz", "input", data, size, &out, &len) != 0) return 0;
    st_file f;
    if (st_parse("fuzz", "rebuilt", out, len, 0, 0, &f) != 0) abort();
    if ((uint32_t)crc32_z(0L, out, len) != st_get_u32(data + (st_get_u32(data + 4) == 1 ? 16 : 8)))
        abort();
    st_free(&f);
    repack(out, len, 1);
    repack(out, len, 2);
    free(out);
    return 0;
}
