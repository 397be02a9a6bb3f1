/* sha256.c - hex SHA-256 digests for manifests and blob comparison (Nettle). */
#include <nettle/sha2.h>

#include "bench_internal.h"

void alcm_bench_sha256_hex(const void *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    /* Nettle takes a size_t length; feed in bounded pieces all the same. */
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len;
        sha256_update(&ctx, n, p);
        p += n;
        len -= n;
    }
    sha256_digest(&ctx, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}
