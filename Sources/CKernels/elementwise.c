// Broadcast arithmetic's inner loop: one run of y = a op b where each operand either steps
// by one or stays put (a scalar, a channel's scale), or steps by any stride.
//
// Swift's Tensor.zipWith walks the broadcast shape and calls this once per run. Written there
// with the operator as a closure, the loop called the closure for every element (the
// optimiser does not specialise it), tens of times slower than these loops, which compilers
// vectorise at -O3: PP-OCR's line classifier spent 60% of its time in that call.
#include "simd.h"

#define LK_RUN(OP)                                                                          \
  do {                                                                                      \
    if (sa == 1 && sb == 1)                                                                 \
      for (long i = 0; i < n; i++) y[i] = a[i] OP b[i];                                    \
    else if (sa == 1 && sb == 0) {                                                          \
      const float v = b[0];                                                                 \
      for (long i = 0; i < n; i++) y[i] = a[i] OP v;                                       \
    } else if (sa == 0 && sb == 1) {                                                        \
      const float v = a[0];                                                                 \
      for (long i = 0; i < n; i++) y[i] = v OP b[i];                                       \
    } else                                                                                  \
      for (long i = 0; i < n; i++) y[i] = a[i * sa] OP b[i * sb];                          \
  } while (0)

/// The loops, compiled for the baseline ISA and again with AVX2 (eight floats a vector).
LK_INLINE void binary_loop(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
  switch (op) {
  case LK_BINARY_ADD: LK_RUN(+); break;
  case LK_BINARY_SUB: LK_RUN(-); break;
  case LK_BINARY_MUL: LK_RUN(*); break;
  case LK_BINARY_DIV: LK_RUN(/); break;
  default: break;
  }
}

static void binary_portable(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
  binary_loop(op, a, sa, b, sb, y, n);
}

#if LK_X86
LK_AVX2 static void binary_avx2(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
  binary_loop(op, a, sa, b, sb, y, n);
}
#endif

static void binary_run(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
#if LK_X86
  if (lk_isa_current() >= LK_ISA_AVX2) {
    binary_avx2(op, a, sa, b, sb, y, n);
    return;
  }
#endif
  binary_portable(op, a, sa, b, sb, y, n);
}

typedef struct {
  int op;
  const float *a, *b;
  long sa, sb, n, per;
  float *y;
} binary_split;

static void binary_part(void *context, int task) {
  const binary_split *s = context;
  const long start = task * s->per, end = start + s->per < s->n ? start + s->per : s->n;
  if (end > start) binary_run(s->op, s->a + start * s->sa, s->sa, s->b + start * s->sb, s->sb, s->y + start, end - start);
}

void lk_binary(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
  // Memory-bound like the activations: split only past the caches (LK_SPLIT_STREAM_ELEMENTS).
  const int tasks = n < LK_SPLIT_STREAM_ELEMENTS ? 1 : lk_parallel_threads();
  if (tasks == 1) {
    binary_run(op, a, sa, b, sb, y, n);
    return;
  }
  binary_split split = {op, a, b, sa, sb, n, (n + tasks - 1) / tasks, y};
  lk_parallel_for(tasks, binary_part, &split);
}

void lk_row_sums(const float *x, long rows, long run, float *y) {
  for (long r = 0; r < rows; r++) {
    const float *row = x + r * run;
    // Eight independent partial sums, so the loop vectorises (one running sum cannot be
    // reordered without -ffast-math) and no addition waits on the previous one.
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= run; i += 8)
      for (int l = 0; l < 8; l++) part[l] += row[i + l];
    float total = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    for (; i < run; i++) total += row[i];
    y[r] = total;
  }
}
