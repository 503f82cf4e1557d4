// fp32 products with a weight packed once: y[m, n] = x[m, k] · wᵀ + bias, w a Linear's [n, k].
//
// Why not OpenBLAS: its sgemm copies ("packs") both operands into panels on every call. With
// few rows (a batch of a few images, a short sentence) that copy of the weight costs more than
// the product: 43% of MiniLM's time at 9 tokens was sgemm_itcopy against 24% in the kernel.
// ONNX Runtime's MLAS packs each weight once at load; so does this file. The packed form is
// panels of 16 outputs, each [k][16] floats (zero-padded past n), so the inner loop loads the
// 16 weights of one input feature with one aligned-size load and broadcasts one x per row.
//
// Register tiles: AVX-512 6 rows x 32 outputs (two panels, 12 zmm accumulators), AVX2 6 rows x
// 16 outputs (12 ymm), portable C row by row. Panels are the outer loop, rows the inner one, so
// a panel pair (k x 32 floats: 192 kB at k = 1536) stays in L2 while every row block reads it;
// threads take panels.
#include "neon.h"

#include <string.h>

enum { PANEL = 16, ROWS = 6 };

long lk_sgemm_packed_floats(int n, int k) { return (long)((n + PANEL - 1) / PANEL) * PANEL * k; }

void lk_sgemm_pack(int n, int k, const float *w, float *packed) {
  const int panels = (n + PANEL - 1) / PANEL;
  for (int p = 0; p < panels; p++) {
    float *dst = packed + (long)p * k * PANEL;
    for (int j = 0; j < PANEL; j++) {
      const int row = p * PANEL + j;
      if (row < n) {
        const float *src = w + (long)row * k;
        for (int i = 0; i < k; i++) dst[(long)i * PANEL + j] = src[i];
      } else {
        for (int i = 0; i < k; i++) dst[(long)i * PANEL + j] = 0.0f;
      }
    }
  }
}

typedef struct {
  int m, n, k;
  const float *x;
  int ldx;
  const float *packed;
  const float *bias;
  float *y;
  int ldy;
  int panels_per_task;
  int isa;
} packed_split;

/// Panels [first, last) for every row, in plain C (any CPU; the compiler vectorises the j loop).
static void packed_portable(const packed_split *s, int first, int last) {
  for (int p = first; p < last; p++) {
    const float *panel = s->packed + (long)p * s->k * PANEL;
    const int width = s->n - p * PANEL < PANEL ? s->n - p * PANEL : PANEL;
    for (int r = 0; r < s->m; r++) {
      const float *xr = s->x + (long)r * s->ldx;
      float acc[PANEL];
      for (int j = 0; j < PANEL; j++) acc[j] = 0.0f;
      for (int i = 0; i < s->k; i++) {
        const float v = xr[i];
        const float *wi = panel + (long)i * PANEL;
        for (int j = 0; j < PANEL; j++) acc[j] += v * wi[j];
      }
      float *yr = s->y + (long)r * s->ldy + p * PANEL;
      for (int j = 0; j < width; j++) yr[j] = acc[j] + (s->bias ? s->bias[p * PANEL + j] : 0.0f);
    }
  }
}

#if LK_X86
/// Rows r0..r0+rows (rows <= 6) by the 16 outputs of one panel, in ymm pairs.
LK_AVX2 LK_INLINE void tile_avx2(const packed_split *s, int p, int r0, int rows) {
  const float *panel = s->packed + (long)p * s->k * PANEL;
  const float *x = s->x + (long)r0 * s->ldx;
  const long ldx = s->ldx;
  __m256 lo[ROWS], hi[ROWS];
  for (int r = 0; r < ROWS; r++) lo[r] = hi[r] = _mm256_setzero_ps();
  for (int i = 0; i < s->k; i++) {
    const __m256 w0 = _mm256_loadu_ps(panel + (long)i * PANEL), w1 = _mm256_loadu_ps(panel + (long)i * PANEL + 8);
    // Constant trip counts after the switch below inlines each row count: the compiler keeps
    // the twelve accumulators in registers.
    for (int r = 0; r < rows; r++) {
      const __m256 v = _mm256_broadcast_ss(x + r * ldx + i);
      lo[r] = _mm256_fmadd_ps(v, w0, lo[r]);
      hi[r] = _mm256_fmadd_ps(v, w1, hi[r]);
    }
  }
  const int width = s->n - p * PANEL < PANEL ? s->n - p * PANEL : PANEL;
  for (int r = 0; r < rows; r++) {
    float out[PANEL];
    _mm256_storeu_ps(out, lo[r]);
    _mm256_storeu_ps(out + 8, hi[r]);
    float *yr = s->y + (long)(r0 + r) * s->ldy + p * PANEL;
    const float *b = s->bias ? s->bias + p * PANEL : NULL;
    for (int j = 0; j < width; j++) yr[j] = out[j] + (b ? b[j] : 0.0f);
  }
}

/// One row by one panel: with a single row the four accumulators of two k-interleaved chains
/// hide the FMA latency that two would expose (a batch-1 product).
LK_AVX2 static void row_avx2(const packed_split *s, int p) {
  const float *panel = s->packed + (long)p * s->k * PANEL;
  const float *x = s->x;
  __m256 lo0 = _mm256_setzero_ps(), hi0 = lo0, lo1 = lo0, hi1 = lo0;
  int i = 0;
  for (; i + 2 <= s->k; i += 2) {
    const float *w = panel + (long)i * PANEL;
    const __m256 v0 = _mm256_broadcast_ss(x + i), v1 = _mm256_broadcast_ss(x + i + 1);
    lo0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(w), lo0);
    hi0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(w + 8), hi0);
    lo1 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(w + PANEL), lo1);
    hi1 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(w + PANEL + 8), hi1);
  }
  if (i < s->k) {
    const __m256 v = _mm256_broadcast_ss(x + i);
    lo0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(panel + (long)i * PANEL), lo0);
    hi0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(panel + (long)i * PANEL + 8), hi0);
  }
  float out[PANEL];
  _mm256_storeu_ps(out, _mm256_add_ps(lo0, lo1));
  _mm256_storeu_ps(out + 8, _mm256_add_ps(hi0, hi1));
  const int width = s->n - p * PANEL < PANEL ? s->n - p * PANEL : PANEL;
  float *y = s->y + p * PANEL;
  for (int j = 0; j < width; j++) y[j] = out[j] + (s->bias ? s->bias[p * PANEL + j] : 0.0f);
}

LK_AVX2 static void packed_avx2(const packed_split *s, int first, int last) {
  for (int p = first; p < last; p++) {
    if (s->m == 1) {
      row_avx2(s, p);
      continue;
    }
    int r = 0;
    for (; r + ROWS <= s->m; r += ROWS) tile_avx2(s, p, r, ROWS);
    switch (s->m - r) {
    case 5: tile_avx2(s, p, r, 5); break;
    case 4: tile_avx2(s, p, r, 4); break;
    case 3: tile_avx2(s, p, r, 3); break;
    case 2: tile_avx2(s, p, r, 2); break;
    case 1: tile_avx2(s, p, r, 1); break;
    default: break;
    }
  }
}

/// Rows r0..r0+rows (rows <= 6) by `count` panels (1 or 2) starting at p, one zmm per panel row.
LK_AVX512BW LK_INLINE void tile_avx512(const packed_split *s, int p, int count, int r0, int rows) {
  const long stride = (long)s->k * PANEL;
  const float *panel = s->packed + (long)p * stride;
  const float *x = s->x + (long)r0 * s->ldx;
  const long ldx = s->ldx;
  __m512 a[ROWS], b[ROWS];
  for (int r = 0; r < ROWS; r++) a[r] = b[r] = _mm512_setzero_ps();
  if (count == 2) {
    for (int i = 0; i < s->k; i++) {
      const __m512 w0 = _mm512_loadu_ps(panel + (long)i * PANEL), w1 = _mm512_loadu_ps(panel + stride + (long)i * PANEL);
      for (int r = 0; r < rows; r++) {
        const __m512 v = _mm512_set1_ps(x[r * ldx + i]);
        a[r] = _mm512_fmadd_ps(v, w0, a[r]);
        b[r] = _mm512_fmadd_ps(v, w1, b[r]);
      }
    }
  } else {
    for (int i = 0; i < s->k; i++) {
      const __m512 w0 = _mm512_loadu_ps(panel + (long)i * PANEL);
      for (int r = 0; r < rows; r++) a[r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * ldx + i]), w0, a[r]);
    }
  }
  for (int q = 0; q < count; q++) {
    const int start = (p + q) * PANEL;
    const int width = s->n - start < PANEL ? s->n - start : PANEL;
    const __mmask16 mask = (__mmask16)((1u << width) - 1u);
    const __m512 bias = s->bias ? _mm512_maskz_loadu_ps(mask, s->bias + start) : _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) {
      const __m512 sum = _mm512_add_ps(q == 0 ? a[r] : b[r], bias);
      _mm512_mask_storeu_ps(s->y + (long)(r0 + r) * s->ldy + start, mask, sum);
    }
  }
}

/// One row by two panels, in two k-interleaved chains (see row_avx2).
LK_AVX512BW static void row_avx512(const packed_split *s, int p, int count) {
  const long stride = (long)s->k * PANEL;
  const float *panel = s->packed + (long)p * stride, *second = count == 2 ? panel + stride : panel;
  const float *x = s->x;
  __m512 a0 = _mm512_setzero_ps(), b0 = a0, a1 = a0, b1 = a0;
  int i = 0;
  for (; i + 2 <= s->k; i += 2) {
    const long o = (long)i * PANEL;
    const __m512 v0 = _mm512_set1_ps(x[i]), v1 = _mm512_set1_ps(x[i + 1]);
    a0 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(panel + o), a0);
    b0 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(second + o), b0);
    a1 = _mm512_fmadd_ps(v1, _mm512_loadu_ps(panel + o + PANEL), a1);
    b1 = _mm512_fmadd_ps(v1, _mm512_loadu_ps(second + o + PANEL), b1);
  }
  if (i < s->k) {
    const __m512 v = _mm512_set1_ps(x[i]);
    a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(panel + (long)i * PANEL), a0);
    b0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(second + (long)i * PANEL), b0);
  }
  const __m512 sums[2] = {_mm512_add_ps(a0, a1), _mm512_add_ps(b0, b1)};
  for (int q = 0; q < count; q++) {
    const int start = (p + q) * PANEL;
    const int width = s->n - start < PANEL ? s->n - start : PANEL;
    const __mmask16 mask = (__mmask16)((1u << width) - 1u);
    const __m512 bias = s->bias ? _mm512_maskz_loadu_ps(mask, s->bias + start) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(s->y + start, mask, _mm512_add_ps(sums[q], bias));
  }
}

LK_AVX512BW static void packed_avx512(const packed_split *s, int first, int last) {
  for (int p = first; p < last; p += 2) {
    const int count = last - p >= 2 ? 2 : 1;
    if (s->m == 1) {
      row_avx512(s, p, count);
      continue;
    }
    int r = 0;
    for (; r + ROWS <= s->m; r += ROWS) tile_avx512(s, p, count, r, ROWS);
    switch (s->m - r) {
    case 5: tile_avx512(s, p, count, r, 5); break;
    case 4: tile_avx512(s, p, count, r, 4); break;
    case 3: tile_avx512(s, p, count, r, 3); break;
    case 2: tile_avx512(s, p, count, r, 2); break;
    case 1: tile_avx512(s, p, count, r, 1); break;
    default: break;
    }
  }
}
#endif

static void packed_part(void *context, int task) {
  const packed_split *s = context;
  const int panels = (s->n + PANEL - 1) / PANEL;
  const int first = task * s->panels_per_task;
  const int last = first + s->panels_per_task < panels ? first + s->panels_per_task : panels;
  if (first >= last) return;
#if LK_X86
  if (lk_isa_avx512(s->isa)) {
    packed_avx512(s, first, last);
    return;
  }
  if (s->isa >= LK_ISA_AVX2) {
    packed_avx2(s, first, last);
    return;
  }
#endif
#if LK_ARM64
  if (lk_isa_neon(s->isa)) {
    lk_sgemm_packed_neon(s->m, s->n, s->k, s->x, s->ldx, s->packed, s->bias, s->y, s->ldy, first, last);
    return;
  }
#endif
  packed_portable(s, first, last);
}

int lk_sgemm_packed_pays(int m) {
  // Measured (lathe bench --only kernels, "linear f32" rows): with a SIMD tile the packed
  // product beats OpenBLAS's per-call packing from 1 to 128 rows (2.2-3.7x at 4-9 rows, 1.1x
  // at 128). At 256 rows it still wins on this EPYC (one thread, min of 2000 calls, AVX2 and
  // AVX-512 tiles alike: LeNet-300-100's fc1 256x300x784 1.06 ms against 1.18 ms, MiniLM's
  // 256x384x384 0.65-0.66 ms against 0.72 ms, 256x1536x384 2.6-2.7 ms against 2.9 ms), and
  // split over threads it splits the weight's panels, where each BLAS part packs all of it.
  // Portable C loses from 9 rows on, so it keeps the BLAS. NEON's 4x16 tile takes the same
  // bound, not yet measured on an ARM machine: OpenBLAS packs per call there too (docs/arm.md).
  const int isa = lk_isa_current();
  return m >= 1 && m <= 256 && (isa >= LK_ISA_AVX2 || lk_isa_neon(isa));
}

void lk_sgemm_packed(int m, int n, int k, const float *x, int ldx, const float *packed, const float *bias, float *y,
                     int ldy) {
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    for (int r = 0; r < m; r++)
      for (int j = 0; j < n; j++) y[(long)r * ldy + j] = bias ? bias[j] : 0.0f;
    return;
  }
  const int panels = (n + PANEL - 1) / PANEL;
  const int threads = (double)m * n * k >= LK_GEMM_SPLIT_WORK ? lk_get_num_threads() : 1;
  // Whole panel pairs per task, so the AVX-512 tile always has its two panels.
  int per = (panels + threads - 1) / threads;
  per += per & 1;
  packed_split s = {m, n, k, x, ldx, packed, bias, y, ldy, per, lk_isa_current()};
  lk_parallel_for((panels + per - 1) / per, packed_part, &s);
}
