// simd.h: the one place that names instruction sets (private to CKernels).
//
// Each SIMD kernel is an ordinary function compiled for one instruction set with a target
// attribute below, never with -march, so the binary still runs anywhere; isa.c decides once,
// at run time, which of them is called. Helpers that such a function inlines must carry the
// same attribute. On other architectures the x86 paths compile away (LK_X86 is 0); on aarch64
// the NEON paths (LK_ARM64, neon.h) replace them.
#ifndef LATHE_CKERNELS_SIMD_H
#define LATHE_CKERNELS_SIMD_H

#include "CKernels.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define LK_X86 1
#include <immintrin.h>
/// 512-bit integer and float work with VNNI's vpdpbusd (Ice Lake, Sapphire Rapids, Zen 4).
#define LK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,avx2")))
/// The same without VNNI (Skylake-SP/X, Cascade Lake without it): the compiler can never emit
/// vpdpbusd here. Helpers shared with the VNNI kernels carry this one (a VNNI function may
/// inline them; the reverse would not compile).
#define LK_AVX512BW __attribute__((target("avx512f,avx512bw,avx512vl,fma,avx2")))
/// 256-bit vpdpbusd without AVX-512 (Alder Lake, Meteor Lake, Sierra Forest).
#define LK_AVXVNNI __attribute__((target("avx2,fma,avxvnni")))
/// Haswell and later.
#define LK_AVX2 __attribute__((target("avx2,fma")))
#else
#define LK_X86 0
#endif

#if defined(__aarch64__) && (defined(__clang__) || defined(__GNUC__))
#define LK_ARM64 1
#include <arm_neon.h>
/// SDOT/UDOT (ARMv8.2 dotprod: Cortex-A55/A76 and later, Neoverse, Apple M1+). Advanced SIMD
/// itself is in every ARMv8-A core and needs no attribute. GCC 12 rejects the bare
/// "+dotprod" for arm_neon.h's intrinsics ("target specific option mismatch"); clang and
/// GCC both take the arch= form.
#define LK_NEON_DOT __attribute__((target("arch=armv8.2-a+dotprod")))
#else
#define LK_ARM64 0
#endif

#define LK_INLINE static inline __attribute__((always_inline))

/// Streaming kernels (activations, broadcast arithmetic) split over the pool only from this
/// many elements (4 MB of floats): smaller tensors are in the caches of the threads that wrote
/// them, and moving half of them to another core cost more than the second core saved.
#define LK_SPLIT_STREAM_ELEMENTS (1L << 20)

/// Families of paths, for kernels that care only about vector width. The x86 paths are
/// numbered from LK_ISA_AVX2 up and all include AVX2 + FMA.
LK_INLINE int lk_isa_x86(int isa) { return isa >= LK_ISA_AVX2; }
LK_INLINE int lk_isa_avx512(int isa) { return isa == LK_ISA_AVX512 || isa == LK_ISA_AVX512VNNI; }
LK_INLINE int lk_isa_neon(int isa) { return isa == LK_ISA_NEON || isa == LK_ISA_NEON_DOT; }

/// Copies n bytes with 16-byte moves (the last one overlapping) where n >= 16: image rows are
/// short, and a libc call per row costs more than the copy. Shared by the int8 convolutions'
/// padded-row copies (qconv.c, qdwconv.c).
static inline void lk_copy_bytes(uint8_t *dst, const uint8_t *src, int n) {
  if (n < 16) {
    for (int t = 0; t < n; t++) dst[t] = src[t];
    return;
  }
  int t = 0;
  for (; t + 16 <= n; t += 16) memcpy(dst + t, src + t, 16);
  if (t < n) memcpy(dst + n - 16, src + n - 16, 16);
}

/// A sliced sparse product's 16 sums for slice s to their rows of y, with bias and ReLU
/// (sparse.c; the NEON kernel's stores go through it too).
void lk_store_slice(int s, int rows, const float *acc, const int32_t *row_order, const float *bias, int relu,
                    float *y);

/// The int8 GEMM writing y[j*m + i] (GEMM row i = pixel, column j = channel): NCHW for one
/// image; f32 y_f32 if not NULL, else requantized u8 y_u8 (qgemm.c, used by qconv.c).
void lk_qgemm_nchw(int m, int n, int k, const uint8_t *a, int lda, const void *packed, const lk_qoutput *out,
                   float *y_f32, uint8_t *y_u8);

#endif
