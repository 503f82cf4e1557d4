// Which instruction set the int8, sparse and quantize kernels use, decided once per process.
//
// Tests and benchmarks may force any supported level with lk_isa_force to check and time every
// path on one machine; normal callers never touch it.
#include "simd.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/// The path named by the environment variable LK_ISA (e.g. LK_ISA=avx2 lathe bench), as
/// oneDNN's ONEDNN_MAX_CPU_ISA and MKL_ENABLE_INSTRUCTIONS do: so one machine can time and
/// test every path through the whole program. An unknown or unsupported name is reported once
/// on stderr and the best path is used.
static int isa_from_environment(void) {
  const char *name = getenv("LK_ISA");
  if (!name || !*name) return lk_isa_best();
  for (int isa = 0; isa < LK_ISA_COUNT; isa++) {
    if (strcmp(name, lk_isa_name(isa)) != 0) continue;
    if (lk_isa_supported(isa)) return isa;
    fprintf(stderr, "LK_ISA=%s: this CPU cannot run that path; using %s\n", name, lk_isa_name(lk_isa_best()));
    return lk_isa_best();
  }
  fprintf(stderr, "LK_ISA=%s: not a kernel path (portable, neon, neon-dot, avx2, avx512, avx-vnni, avx512-vnni); "
                  "using %s\n", name, lk_isa_name(lk_isa_best()));
  return lk_isa_best();
}

int lk_isa_current(void) {
  int isa = atomic_load_explicit(&active, memory_order_relaxed);
  if (isa < 0) {
    isa = isa_from_environment();
    atomic_store_explicit(&active, isa, memory_order_relaxed);
  }
  return isa;
}

int lk_isa_force(int isa) {
  if (isa < 0) {
    atomic_store(&active, isa_from_environment());
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
