// Depthwise convolution (groups == input channels), computed directly on the image.
//
// A depthwise layer does kh*kw multiply-adds per output pixel, so im2col plus a GEMM per
// channel (an [1 x kh*kw] by [kh*kw x P] product) spends its time unfolding and in per-call BLAS
// overhead: MobileNet's depthwise layers ran at a few percent of the machine's peak that way.
// Here each output row is a sum of kh*kw shifted input rows times one weight each. The
// columns whose whole window lies inside the image (the interior) run without bounds checks,
// eight outputs per step on AVX2 with every tap accumulated in one register; the few border
// columns and the portable path check each tap.
#include "simd.h"

/// Output columns [lo, hi) whose every tap j (0..kw-1) reads a real input column.
static void interior_columns(const lk_window *w, int *lo, int *hi) {
  const int s = w->stride_w, reach = (w->kernel_w - 1) * w->dilation_w;
  // ox*s - pad_left >= 0  and  ox*s - pad_left + reach <= width - 1
  int a = w->pad_left > 0 ? (w->pad_left + s - 1) / s : 0;
  const int last = w->width - 1 + w->pad_left - reach;
  int b = last < 0 ? 0 : last / s + 1;
  if (b > w->out_w) b = w->out_w;
  if (a > b) a = b;
  *lo = a;
  *hi = b;
}

/// One output pixel with every tap checked (border columns, and the portable path's tail).
LK_INLINE float pixel_checked(const lk_window *w, const float *img, const float *k, float b, int oy, int ox) {
  float acc = b;
  for (int i = 0; i < w->kernel_h; i++) {
    const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
    if (iy < 0 || iy >= w->height) continue;
    const float *row = img + (long)iy * w->width;
    for (int j = 0; j < w->kernel_w; j++) {
      const int ix = ox * w->stride_w - w->pad_left + j * w->dilation_w;
      if (ix >= 0 && ix < w->width) acc += k[i * w->kernel_w + j] * row[ix];
    }
  }
  return acc;
}

/// The interior of one output row without SIMD: out[ox] = b + sum of taps, ox in [lo, hi).
static void row_interior_portable(const lk_window *w, const float *img, const float *k, float b, int oy, int lo,
                                  int hi, float *out) {
  for (int ox = lo; ox < hi; ox++) out[ox] = b;
  const int s = w->stride_w;
  for (int i = 0; i < w->kernel_h; i++) {
    const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
    if (iy < 0 || iy >= w->height) continue;
    const float *row = img + (long)iy * w->width - w->pad_left;
    for (int j = 0; j < w->kernel_w; j++) {
      const float kv = k[i * w->kernel_w + j];
      const float *src = row + j * w->dilation_w;
      // Written as an axpy over the row so compilers vectorize it (NEON included) at stride 1.
      if (s == 1)
        for (int ox = lo; ox < hi; ox++) out[ox] += kv * src[ox];
      else
        for (int ox = lo; ox < hi; ox++) out[ox] += kv * src[(long)ox * s];
    }
  }
}

#if LK_X86
/// Eight outputs from `src` at stride s (1 or 2): src[0], src[s], ... src[7s].
LK_AVX2 static inline __m256 load_strided(const float *src, int s) {
  if (s == 1) return _mm256_loadu_ps(src);
  const __m256 a = _mm256_loadu_ps(src), b = _mm256_loadu_ps(src + 8);
  // Even lanes of a:b, then the 128-bit halves put in order: [a0 a2 a4 a6 b0 b2 b4 b6].
  const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
}

LK_AVX2 static void row_interior_avx2(const lk_window *w, const float *img, const float *k, float b, int oy, int lo,
                                      int hi, float *out) {
  const int s = w->stride_w;
  if (s > 2) {
    row_interior_portable(w, img, k, b, oy, lo, hi, out);
    return;
  }
  // The taps whose rows lie inside the image, gathered once per output row.
  enum { MAX_TAPS = 64 };
  const float *src[MAX_TAPS];
  float kv[MAX_TAPS];
  int taps = 0;
  for (int i = 0; i < w->kernel_h; i++) {
    const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
    if (iy < 0 || iy >= w->height) continue;
    for (int j = 0; j < w->kernel_w; j++) {
      if (taps == MAX_TAPS) {
        row_interior_portable(w, img, k, b, oy, lo, hi, out);
        return;
      }
      src[taps] = img + (long)iy * w->width - w->pad_left + j * w->dilation_w;
      kv[taps++] = k[i * w->kernel_w + j];
    }
  }
  const __m256 bias = _mm256_set1_ps(b);
  int ox = lo;
  // A stride-2 step loads 16 floats from 2*ox - pad_left + tap offset, one past what it uses:
  // it runs only while all 16 stay inside the input row.
  const int reach = (w->kernel_w - 1) * w->dilation_w;
  const int last_start = w->width - 16 + w->pad_left - reach;  // largest 2*ox allowed
  for (; ox + 8 <= hi && (s == 1 || 2 * ox <= last_start); ox += 8) {
    __m256 acc0 = bias, acc1 = _mm256_setzero_ps();
    int t = 0;
    for (; t + 2 <= taps; t += 2) {
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(kv[t]), load_strided(src[t] + (long)ox * s, s), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_set1_ps(kv[t + 1]), load_strided(src[t + 1] + (long)ox * s, s), acc1);
    }
    if (t < taps) acc0 = _mm256_fmadd_ps(_mm256_set1_ps(kv[t]), load_strided(src[t] + (long)ox * s, s), acc0);
    _mm256_storeu_ps(out + ox, _mm256_add_ps(acc0, acc1));
  }
  for (; ox < hi; ox++) {
    float acc = b;
    for (int t = 0; t < taps; t++) acc += kv[t] * src[t][(long)ox * s];
    out[ox] = acc;
  }
}
#endif

void lk_dwconv2d_image(const lk_window *w, const float *x, int multiplier, const float *weight, const float *bias,
                       int o0, int o1, float *y) {
  if (w->out_h <= 0 || w->out_w <= 0 || multiplier <= 0) return;
  const long plane_in = (long)w->height * w->width, plane_out = (long)w->out_h * w->out_w;
  const int taps = w->kernel_h * w->kernel_w;
  int lo, hi;
  interior_columns(w, &lo, &hi);
#if LK_X86
  const int simd = lk_isa_current() >= LK_ISA_AVX2;
#endif
  for (int o = o0; o < o1; o++) {
    const float *img = x + (long)(o / multiplier) * plane_in;
    const float *k = weight + (long)o * taps;
    const float b = bias ? bias[o] : 0.0f;
    float *plane = y + (long)o * plane_out;
    for (int oy = 0; oy < w->out_h; oy++) {
      float *out = plane + (long)oy * w->out_w;
      for (int ox = 0; ox < lo; ox++) out[ox] = pixel_checked(w, img, k, b, oy, ox);
#if LK_X86
      if (simd)
        row_interior_avx2(w, img, k, b, oy, lo, hi, out);
      else
#endif
        row_interior_portable(w, img, k, b, oy, lo, hi, out);
      for (int ox = hi; ox < w->out_w; ox++) out[ox] = pixel_checked(w, img, k, b, oy, ox);
    }
  }
}
