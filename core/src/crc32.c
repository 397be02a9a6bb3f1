/* crc32.c - the CRC32 of blobs, stream states, daemon state files and pack files
 * (docs/FORMAT.md): zlib's crc32() values (reflected polynomial 0xEDB88320, initial value
 * 0, final complement), computed by ISA-L's PCLMULQDQ folding when the build found it
 * (ALCM_USE_ISAL, the default) and by zlib otherwise. Both give the same 32 bits for every
 * input; tests/core/test_crc32.c checks that against zlib. */
#include "alcm_tools.h"

#include <stdint.h>

#ifdef ALCM_HAVE_ISAL
#include <isa-l/crc.h>
#else
#include <zlib.h>
#endif

uint32_t alcm_crc32(const void *p, size_t n)
{
    if (n == 0) return 0; /* zlib's value for no bytes; p may then be NULL */
#ifdef ALCM_HAVE_ISAL
    /* crc32_gzip_refl complements on entry and exit, as zlib does: seed 0 is zlib's
     * initial value. It does not write through buf (the prototype lacks const). */
    return crc32_gzip_refl(0, (unsigned char *)(uintptr_t)p, (uint64_t)n);
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
