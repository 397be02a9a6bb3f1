/* fuzz_blob.c - fuzz target for the blob decoder (alcm_blob_header, alcm_blob_channel_bits,
 * alcm_decompress): any bytes must give a status, never a crash, over-read or leak.
 *
 * The CRC32s would stop almost every mutated input at ALCM_E_CHECKSUM, so the fuzzer would
 * never reach the section and payload parsers. Each input is therefore decoded twice: once
 * exactly as given (magic, version, size and checksum checks), and, when it looks like a
 * blob (at least 32 bytes starting with "ALCM"), once more from a copy whose blob-size field
 * is set to the input length and whose checksums are recomputed (alcm_frame_seal: header and
 * payload CRC for format 2, the single CRC for format 1). That copy passes the container
 * checks and exercises codec sections, parameter and code streams, escapes and the
 * zlib/zstd stream readers.
 *
 * Oracle: a successful decode writes exactly the declared raw size; for the exact codecs
 * the decoded bytes, compressed again and decoded, come back identical. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alcm.h"
#include "format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded output is capped so a single input cannot ask for gigabytes. */
#define FUZZ_MAX_OUTPUT ((uint64_t)16 << 20)

static void check_exact_roundtrip(const alcm_header *h, const uint8_t *raw, size_t n)
{
    alcm_params p;
    alcm_params_default(&p, h->profile);
    p.dtype = h->dtype;
    p.backend = h->backend;
    alcm_cctx *cx = alcm_cctx_create();
    alcm_dctx *dx = alcm_dctx_create();
    size_t cap = alcm_compress_bound(n), len, out;
    uint8_t *blob = malloc(cap ? cap : 1), *back = malloc(n ? n : 1);
    if (!cx || !dx || !blob || !back) abort();
    if (alcm_compress(cx, &p, &h->shape, raw, n, NULL, blob, cap, &len, NULL) != ALCM_OK) abort();
    if (alcm_decompress(dx, blob, len, back, n, &out) != ALCM_OK || out != n) abort();
    if (n && memcmp(back, raw, n) != 0) abort();
    free(blob);
    free(back);
    alcm_cctx_free(cx);
    alcm_dctx_free(dx);
}

static void decode(const uint8_t *data, size_t size)
{
    alcm_header h;
    alcm_status hs = alcm_blob_header(data, size, &h);
    float bits[8];
    uint32_t nc;
    alcm_status bs = alcm_blob_channel_bits(data, size, bits, 8, &nc);
    /* Both parse the same header: a header error is the same error; past it, only the
     * payload CRC (format 2: alcm_blob_header does not read the payload), the parameter
     * stream, and in a segmented blob the inner blobs' own header checks (docs/FORMAT.md,
     * codec 5) can fail. */
    const int inner = hs == ALCM_OK && h.n_segments > 0 &&
                      (bs == ALCM_E_MAGIC || bs == ALCM_E_VERSION || bs == ALCM_E_CHECKSUM ||
                       bs == ALCM_E_CODEC);
    if (hs != ALCM_OK ? bs != hs
                      : !(bs == ALCM_OK || bs == ALCM_E_CORRUPT || bs == ALCM_E_BACKEND ||
                          bs == ALCM_E_NOMEM || (bs == ALCM_E_CHECKSUM && h.version == 2) ||
                          inner))
        abort();
    if (hs != ALCM_OK || h.raw_bytes > FUZZ_MAX_OUTPUT) return;

    alcm_dctx *dx = alcm_dctx_create();
    if (!dx) abort();
    alcm_dctx_set_max_output(dx, FUZZ_MAX_OUTPUT);
    size_t n = (size_t)h.raw_bytes, got = 1;
    uint8_t *out = malloc(n ? n : 1);
    if (!out) abort();
    alcm_status st = alcm_decompress(dx, data, size, out, n, &got);
    if (st == ALCM_OK) {
        if (got != n) abort();
        if (h.profile != ALCM_PROFILE_GRADIENT) check_exact_roundtrip(&h, out, n);
    } else if (got != 0) {
        abort();
    }
    free(out);
    alcm_dctx_free(dx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size);
    if (size >= ALCM_BLOB_MIN && memcmp(data, "ALCM", 4) == 0) {
        uint8_t *copy = malloc(size);
        if (!copy) abort();
        memcpy(copy, data, size);
        alcm_frame_seal(copy, size);
        decode(copy, size);
        free(copy);
    }
    return 0;
}
