/* crc32.c - the CRC32 of blobs, stream states, daemon state files and pack files
 * (docs/FORMAT.md): zlib's crc32() values (reflected polynomial 0xEDB88320, initial value
 * 0, final complement), computed by ISA-L's PCLMULQDQ folding when the build found it
 * (ALCM_USE_ISAL, the default) and by zlib otherwise. Both give the same 32 bits for every
 * input; tests/core/test_crc32.c checks that against zlib. */
#include "alcm_tools.h"

#include <stdint.h>

#include <zlib.h>
#ifdef ALCM_HAVE_ISAL
#include <isa-l/crc.h>
#endif

#include "format.h"

#if defined(ALCM_HAVE_ISAL) && (defined(__x86_64__) || defined(__i386__))
/* ISA-L 2.30 (Debian 12) picks its AVX-512 VPCLMULQDQ path on CPUs that have it and
 * returns without VZEROUPPER: the dirty upper halves of the vector registers then slow
 * every SSE instruction that follows (measured here: the bf16 lossless encoder 18 % slower
 * after one call). Clearing them costs one instruction; only where AVX exists. */
static void clear_upper_vector_state(void)
{
    if (__builtin_cpu_supports("avx")) __asm__ volatile("vzeroupper");
}
#else
static void clear_upper_vector_state(void) {}
#endif

uint32_t alcm_crc32(const void *p, size_t n)
{
    if (n == 0) return 0; /* zlib's value for no bytes; p may then be NULL */
#ifdef ALCM_HAVE_ISAL
    /* crc32_gzip_refl complements on entry and exit, as zlib does: seed 0 is zlib's
     * initial value. It does not write through buf (the prototype lacks const). */
    uint32_t crc = crc32_gzip_refl(0, (unsigned char *)(uintptr_t)p, (uint64_t)n);
    clear_upper_vector_state();
    return crc;
#else
    return (uint32_t)crc32_z(0L, (const Bytef *)p, (z_size_t)n);
#endif
}

const char *alcm_crc32_impl(void)
{
#ifdef ALCM_HAVE_ISAL
    return "isa-l";
#else
    return "zlib";
#endif
}

/* zlib's combination works on the values, whichever implementation computed them. */
uint32_t alcm_crc32_combine(uint32_t a, uint32_t b, size_t len_b)
{
    return (uint32_t)crc32_combine(a, b, (z_off_t)len_b);
}
