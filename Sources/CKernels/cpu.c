// Run-time CPU feature detection: kernels ask here instead of being compiled for one CPU.
#include "CKernels.h"

int lk_cpu_features(void) {
  int f = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) f |= LK_CPU_AVX2;
  if (__builtin_cpu_supports("fma")) f |= LK_CPU_FMA;
  if (__builtin_cpu_supports("avx512f")) f |= LK_CPU_AVX512F;
  if (__builtin_cpu_supports("avx512vnni")) f |= LK_CPU_AVX512VNNI;
#if defined(__clang__) && __clang_major__ >= 16
  if (__builtin_cpu_supports("avxvnni")) f |= LK_CPU_AVXVNNI;
#endif
#elif defined(__aarch64__)
  f |= LK_CPU_NEON;
#endif
  return f;
}
