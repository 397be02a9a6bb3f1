/* simd.h - ALCM_KERNEL marks a hot loop function that is also built for AVX2 on x86-64 and
 * picked at load time (GCC target_clones). Kernels use only operations whose results
 * do not depend on the instruction set (no FMA contraction: AVX2 alone does not enable it),
 * so both builds give identical results. -DALCM_NO_CLONES builds the portable code only
 * (internal). */
#ifndef ALCM_SIMD_H
#define ALCM_SIMD_H

/* GCC only: Clang 14 needs the attribute on every declaration of an external function and
 * builds the portable code here (the same results). */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(ALCM_NO_CLONES) && \
    !defined(__clang__)
#if __has_attribute(target_clones)
#define ALCM_KERNEL __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef ALCM_KERNEL
#define ALCM_KERNEL
#endif

#endif /* ALCM_SIMD_H */
