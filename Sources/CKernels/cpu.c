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

// Subnormal floats (below 1.2e-38) are handled in microcode on x86: a product with one costs
// ~100 times a normal one. Trained weights do contain them (an skl2onnx MLPClassifier's first
// layer had 77 of 4096, which made its 64x64 product 16x slower than the same layer without),
// and they change no result at fp32 precision. Like TensorFlow's CPU runtime, Lathe flushes
// them to zero (FTZ and DAZ on x86, FZ on aarch64). The mode is per thread: the main thread
// sets it when the library loads, pool workers when they start, and Model.forward on entry.
void lk_flush_subnormals(void) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned int csr;
  __asm__ __volatile__("stmxcsr %0" : "=m"(csr));
  csr |= 0x8040;  // FTZ (bit 15) and DAZ (bit 6)
  __asm__ __volatile__("ldmxcsr %0" : : "m"(csr));
#elif defined(__aarch64__)
  unsigned long fpcr;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  fpcr |= 1UL << 24;  // FZ
  __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
#endif
}

__attribute__((constructor)) static void flush_subnormals_on_main_thread(void) { lk_flush_subnormals(); }
