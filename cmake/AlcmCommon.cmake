# Settings every ALCM build shares: included by the top-level CMakeLists.txt and by
# core/CMakeLists.txt when the library is built alone (cmake -S core -B build-core).

# Release by default; the sanitizer build is -DALCM_SANITIZE=ON (ASan + UBSan).
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
set(CMAKE_ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

option(ALCM_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(ALCM_FUZZ "Build libFuzzer targets (needs clang)" OFF)

# -ffp-contract=off: no fused multiply-add contraction, so floating-point results
# (predictor training, decoding, rank-order sums) are bit-identical across builds.
add_compile_options(-Wall -Wextra -Werror -ffp-contract=off)
add_compile_definitions(_POSIX_C_SOURCE=200809L)

# The libFuzzer build instruments every library (coverage feedback inside libalcm, not just
# in the fuzz entry points); tests/fuzz links the fuzz_* targets with the libFuzzer main.
# Build only those targets in such a tree (tests/fuzz/run-bounded does).
# Its kernels are built portable only (ALCM_NO_CLONES, identical results): clang 14 refuses
# the AVX2 clones' 32-byte vector helpers, and warns (-Wpsabi) about the portable ones,
# which are always inlined, so no call passes a vector.
if(ALCM_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -Wno-psabi)
  add_compile_definitions(ALCM_NO_CLONES)
  add_link_options(-fsanitize=address,undefined)
endif()

if(ALCM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# libalcm's worker threads (alcm_cctx_set_threads) are POSIX threads.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# CRC32 of blobs and state files (core/src/crc32.c): ISA-L's PCLMULQDQ crc32_gzip_refl
# (Debian's libisal-dev, deploy/packages/build.txt) gives zlib's crc32() values several
# times faster. ALCM_USE_ISAL=OFF, or no libisal found, computes them with zlib: the same
# bytes either way.
option(ALCM_USE_ISAL "Compute CRC32s with ISA-L when libisal is found (zlib otherwise)" ON)
set(ALCM_HAVE_ISAL OFF)
if(ALCM_USE_ISAL)
  pkg_check_modules(ISAL QUIET IMPORTED_TARGET libisal)
  if(ISAL_FOUND)
    set(ALCM_HAVE_ISAL ON)
    message(STATUS "CRC32: ISA-L ${ISAL_VERSION}")
  else()
    message(STATUS "CRC32: libisal not found (apt-get install libisal-dev), using zlib")
  endif()
else()
  message(STATUS "CRC32: zlib (ALCM_USE_ISAL=OFF)")
endif()

include(GNUInstallDirs)
