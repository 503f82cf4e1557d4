// fp32 products with a packed weight on aarch64: packed_gemm.c's tiles in NEON (both ISA
// paths; this is plain ARMv8.0 Advanced SIMD).
//
// A panel row (16 outputs of one input feature) is four q registers. Rows go 4 at a time: 16
// accumulators, and each row's x is loaded 4 features at once so that FMLA (by element)
// broadcasts one of them per step: per feature 4 weight loads feed 16 FMAs. A single row (a
// batch-1 product) splits its features between two sets of 4 accumulators instead, so that 8
// independent FMAs hide the latency (4 cycles on Cortex-A76/Neoverse, 2 pipes).
#include "neon.h"

#if LK_ARM64

enum { PANEL = 16 };

typedef struct {
  int m, n, k;
  const float *x;
  int ldx;
  const float *packed;
  const float *bias;
  float *y;
  int ldy;
} neon_sgemm;

/// acc + w · lane `lane` of x (a constant after inlining).
LK_INLINE float32x4_t fma_lane(float32x4_t acc, float32x4_t w, float32x4_t x, int lane) {
  switch (lane) {
  case 0: return vfmaq_laneq_f32(acc, w, x, 0);
  case 1: return vfmaq_laneq_f32(acc, w, x, 1);
  case 2: return vfmaq_laneq_f32(acc, w, x, 2);
  default: return vfmaq_laneq_f32(acc, w, x, 3);
  }
}

/// Row r of panel p from 16 sums, plus the bias, up to the panel's width.
static void store_row(const neon_sgemm *s, int p, int r, const float32x4_t sum[4]) {
  const int start = p * PANEL, width = s->n - start < PANEL ? s->n - start : PANEL;
  float *y = s->y + (long)r * s->ldy + start;
  if (width == PANEL) {
    for (int v = 0; v < 4; v++)
      vst1q_f32(y + 4 * v, s->bias ? vaddq_f32(sum[v], vld1q_f32(s->bias + start + 4 * v)) : sum[v]);
    return;
  }
  float out[PANEL];
  for (int v = 0; v < 4; v++) vst1q_f32(out + 4 * v, sum[v]);
  for (int j = 0; j < width; j++) y[j] = out[j] + (s->bias ? s->bias[start + j] : 0.0f);
}

/// Rows r0..r0+MR (MR <= 4, a constant after inlining) by the 16 outputs of panel p.
LK_INLINE void tile(const neon_sgemm *s, int p, int r0, int MR) {
  const float *panel = s->packed + (long)p * s->k * PANEL;
  const float *x[4];
  float32x4_t acc[4][4];
  for (int r = 0; r < MR; r++) {
    x[r] = s->x + (long)(r0 + r) * s->ldx;
    for (int v = 0; v < 4; v++) acc[r][v] = vdupq_n_f32(0.0f);
  }
  int i = 0;
  for (; i + 4 <= s->k; i += 4) {
    float32x4_t xv[4];
    for (int r = 0; r < MR; r++) xv[r] = vld1q_f32(x[r] + i);
    for (int lane = 0; lane < 4; lane++) {
      const float *w = panel + (long)(i + lane) * PANEL;
      for (int v = 0; v < 4; v++) {
        const float32x4_t wv = vld1q_f32(w + 4 * v);
        for (int r = 0; r < MR; r++) acc[r][v] = fma_lane(acc[r][v], wv, xv[r], lane);
      }
    }
  }
  for (; i < s->k; i++) {
    const float *w = panel + (long)i * PANEL;
    for (int v = 0; v < 4; v++) {
      const float32x4_t wv = vld1q_f32(w + 4 * v);
      for (int r = 0; r < MR; r++) acc[r][v] = vfmaq_n_f32(acc[r][v], wv, x[r][i]);
    }
  }
  for (int r = 0; r < MR; r++) store_row(s, p, r0 + r, acc[r]);
}

/// One row by panel p: even and odd features in two accumulator sets.
static void row(const neon_sgemm *s, int p) {
  const float *panel = s->packed + (long)p * s->k * PANEL;
  float32x4_t even[4], odd[4];
  for (int v = 0; v < 4; v++) even[v] = odd[v] = vdupq_n_f32(0.0f);
  int i = 0;
  for (; i + 2 <= s->k; i += 2) {
    const float *w = panel + (long)i * PANEL;
    for (int v = 0; v < 4; v++) {
      even[v] = vfmaq_n_f32(even[v], vld1q_f32(w + 4 * v), s->x[i]);
      odd[v] = vfmaq_n_f32(odd[v], vld1q_f32(w + PANEL + 4 * v), s->x[i + 1]);
    }
  }
  if (i < s->k)
    for (int v = 0; v < 4; v++) even[v] = vfmaq_n_f32(even[v], vld1q_f32(panel + (long)i * PANEL + 4 * v), s->x[i]);
  for (int v = 0; v < 4; v++) even[v] = vaddq_f32(even[v], odd[v]);
  store_row(s, p, 0, even);
}

void lk_sgemm_packed_neon(int m, int n, int k, const float *x, int ldx, const float *packed, const float *bias,
                          float *y, int ldy, int first, int last) {
  const neon_sgemm s = {m, n, k, x, ldx, packed, bias, y, ldy};
  for (int p = first; p < last; p++) {
    if (m == 1) {
      row(&s, p);
      continue;
    }
    int r = 0;
    for (; r + 4 <= m; r += 4) tile(&s, p, r, 4);
    switch (m - r) {
    case 3: tile(&s, p, r, 3); break;
    case 2: tile(&s, p, r, 2); break;
    case 1: tile(&s, p, r, 1); break;
    default: break;
    }
  }
}

#endif  // LK_ARM64
