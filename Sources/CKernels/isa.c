// Which instruction set the int8, sparse and quantize kernels use, decided once per process.
//
// Tests and benchmarks may force any supported level with lk_isa_force to check and time every
// path on one machine; normal callers never touch it.
#include "simd.h"

#include <stdatomic.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

static atomic_int active = -1;  // -1: not decided yet

int lk_isa_supported(int isa) {
#if LK_X86
  const int f = lk_cpu_features();
#endif
  switch (isa) {
  case LK_ISA_PORTABLE:
    return 1;
#if LK_X86
  case LK_ISA_AVX2:
    return (f & LK_CPU_AVX2) && (f & LK_CPU_FMA);
  case LK_ISA_AVXVNNI:
    return (f & LK_CPU_AVX2) && (f & LK_CPU_FMA) && (f & LK_CPU_AVXVNNI);
  case LK_ISA_AVX512:
    __builtin_cpu_init();
    return (f & LK_CPU_AVX2) && (f & LK_CPU_FMA) && (f & LK_CPU_AVX512F) && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  case LK_ISA_AVX512VNNI:
    return lk_isa_supported(LK_ISA_AVX512) && (f & LK_CPU_AVX512VNNI);
#endif
#if defined(__aarch64__)
  case LK_ISA_NEON:
    return 1;  // Advanced SIMD is part of every ARMv8-A core
  case LK_ISA_NEON_DOT:
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
    return 1;  // every Apple silicon core has dot products
#else
    return 0;
#endif
#endif
  default:
    return 0;
  }
}

int lk_isa_best(void) {
  for (int isa = LK_ISA_COUNT - 1; isa > 0; isa--)
    if (lk_isa_supported(isa)) return isa;
  return LK_ISA_PORTABLE;
}

int lk_isa_current(void) {
  int isa = atomic_load_explicit(&active, memory_order_relaxed);
  if (isa < 0) {
    isa = lk_isa_best();
    atomic_store_explicit(&active, isa, memory_order_relaxed);
  }
  return isa;
}

int lk_isa_force(int isa) {
  if (isa < 0) {
    atomic_store(&active, lk_isa_best());
    return 1;
  }
  if (isa >= LK_ISA_COUNT || !lk_isa_supported(isa)) return 0;
  atomic_store(&active, isa);
  return 1;
}

const char *lk_isa_name(int isa) {
  switch (isa) {
  case LK_ISA_PORTABLE: return "portable";
  case LK_ISA_NEON: return "neon";
  case LK_ISA_NEON_DOT: return "neon-dot";
  case LK_ISA_AVX2: return "avx2";
  case LK_ISA_AVX512: return "avx512";
  case LK_ISA_AVXVNNI: return "avx-vnni";
  case LK_ISA_AVX512VNNI: return "avx512-vnni";
  default: return "unknown";
  }
}
