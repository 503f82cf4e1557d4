// Quantize, dequantize and min/max of float buffers: the conversions around int8 layers.
//
// All paths round the same way (to nearest, ties to even: cvtps2dq and rintf in the default
// rounding mode) and clamp before converting, so huge values saturate instead of wrapping.
#include "simd.h"

#include <math.h>

/// Clamp before rounding: beyond ±512 every zero point saturates, and the int conversion
/// stays far from overflow.
static inline int32_t round_clamped(float t) {
  t = t < -512.0f ? -512.0f : (t > 512.0f ? 512.0f : t);
  return (int32_t)lrintf(t);  // cvtss2si: ties to even, no libm call
}

static void quantize_u8_portable(const float *x, long count, float inv, int32_t zp, uint8_t *q) {
  for (long i = 0; i < count; i++) {
    const int32_t r = round_clamped(x[i] * inv) + zp;
    q[i] = (uint8_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
  }
}

static void quantize_s8_portable(const float *x, long count, float inv, int8_t *q) {
  for (long i = 0; i < count; i++) {
    const int32_t r = round_clamped(x[i] * inv);
    q[i] = (int8_t)(r < -127 ? -127 : (r > 127 ? 127 : r));
  }
}

static void minmax_portable(const float *x, long count, float *lo, float *hi) {
  float a = x[0], b = x[0];
  for (long i = 1; i < count; i++) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
  }
  *lo = a;
  *hi = b;
}

#if LK_X86

LK_AVX512BW static void quantize_avx512(const float *x, long count, float inv, int32_t zp, int32_t lo, int32_t hi,
                                      void *q, int is_signed) {
  const __m512 vinv = _mm512_set1_ps(inv), vmin = _mm512_set1_ps(-512.0f), vmax = _mm512_set1_ps(512.0f);
  const __m512i vzp = _mm512_set1_epi32(zp), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
  for (long i = 0; i < count; i += 16) {
    const __mmask16 m = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
    __m512 t = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vinv);
    t = _mm512_min_ps(_mm512_max_ps(t, vmin), vmax);
    __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(t), vzp);
    r = _mm512_min_epi32(_mm512_max_epi32(r, vlo), vhi);
    // In range already, so the narrowing stores need no saturation of their own.
    if (is_signed)
      _mm512_mask_cvtepi32_storeu_epi8((int8_t *)q + i, m, r);
    else
      _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)q + i, m, r);
  }
}

LK_AVX2 static void quantize_avx2(const float *x, long count, float inv, int32_t zp, int32_t lo, int32_t hi, void *q,
                                  int is_signed) {
  const __m256 vinv = _mm256_set1_ps(inv), vmin = _mm256_set1_ps(-512.0f), vmax = _mm256_set1_ps(512.0f);
  const __m256i vzp = _mm256_set1_epi32(zp), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
  // Byte 0 of each int32 lane to the low 4 bytes of each 128-bit half.
  const __m256i gather = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                                          -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  long i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 t = _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv);
    t = _mm256_min_ps(_mm256_max_ps(t, vmin), vmax);
    __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(t), vzp);
    r = _mm256_min_epi32(_mm256_max_epi32(r, vlo), vhi);
    r = _mm256_shuffle_epi8(r, gather);
    const uint32_t low = (uint32_t)_mm256_extract_epi32(r, 0), high = (uint32_t)_mm256_extract_epi32(r, 4);
    const uint64_t bytes = low | (uint64_t)high << 32;
    __builtin_memcpy((uint8_t *)q + i, &bytes, 8);
  }
  if (is_signed)
    quantize_s8_portable(x + i, count - i, inv, (int8_t *)q + i);
  else
    quantize_u8_portable(x + i, count - i, inv, zp, (uint8_t *)q + i);
}

LK_AVX512BW static void minmax_avx512(const float *x, long count, float *lo, float *hi) {
  __m512 a = _mm512_set1_ps(x[0]), b = a;
  long i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    a = _mm512_min_ps(a, v);
    b = _mm512_max_ps(b, v);
  }
  if (i < count) {
    const __mmask16 m = (__mmask16)((1u << (count - i)) - 1);
    a = _mm512_mask_min_ps(a, m, a, _mm512_maskz_loadu_ps(m, x + i));
    b = _mm512_mask_max_ps(b, m, b, _mm512_maskz_loadu_ps(m, x + i));
  }
  *lo = _mm512_reduce_min_ps(a);
  *hi = _mm512_reduce_max_ps(b);
}

LK_AVX2 static void minmax_avx2(const float *x, long count, float *lo, float *hi) {
  __m256 a = _mm256_set1_ps(x[0]), b = a;
  long i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    a = _mm256_min_ps(a, v);
    b = _mm256_max_ps(b, v);
  }
  float la[8], hb[8];
  _mm256_storeu_ps(la, a);
  _mm256_storeu_ps(hb, b);
  float l = la[0], h = hb[0];
  for (int t = 1; t < 8; t++) {
    l = la[t] < l ? la[t] : l;
    h = hb[t] > h ? hb[t] : h;
  }
  for (; i < count; i++) {
    l = x[i] < l ? x[i] : l;
    h = x[i] > h ? x[i] : h;
  }
  *lo = l;
  *hi = h;
}

#endif  // LK_X86

void lk_quantize_u8(const float *x, long count, float scale, int32_t zero_point, uint8_t *q) {
  const float inv = 1.0f / scale;
  switch (lk_isa_current()) {
#if LK_X86
  case LK_ISA_AVX512VNNI:
  case LK_ISA_AVX512: quantize_avx512(x, count, inv, zero_point, 0, 255, q, 0); return;
  case LK_ISA_AVXVNNI:
  case LK_ISA_AVX2: quantize_avx2(x, count, inv, zero_point, 0, 255, q, 0); return;
#endif
  default: quantize_u8_portable(x, count, inv, zero_point, q); return;
  }
}

void lk_quantize_s8(const float *x, long count, float scale, int8_t *q) {
  const float inv = 1.0f / scale;
  switch (lk_isa_current()) {
#if LK_X86
  case LK_ISA_AVX512VNNI:
  case LK_ISA_AVX512: quantize_avx512(x, count, inv, 0, -127, 127, q, 1); return;
  case LK_ISA_AVXVNNI:
  case LK_ISA_AVX2: quantize_avx2(x, count, inv, 0, -127, 127, q, 1); return;
#endif
  default: quantize_s8_portable(x, count, inv, q); return;
  }
}

// Dequantizing is a convert and a multiply; the compiler vectorises these loops as they are.
void lk_dequantize_u8(const uint8_t *q, long count, float scale, int32_t zero_point, float *x) {
  for (long i = 0; i < count; i++) x[i] = (float)((int32_t)q[i] - zero_point) * scale;
}

void lk_dequantize_s8(const int8_t *q, long count, float scale, float *x) {
  for (long i = 0; i < count; i++) x[i] = (float)q[i] * scale;
}

void lk_minmax_f32(const float *x, long count, float *min, float *max) {
  if (count <= 0) {
    *min = 0;
    *max = 0;
    return;
  }
  switch (lk_isa_current()) {
#if LK_X86
  case LK_ISA_AVX512VNNI:
  case LK_ISA_AVX512: minmax_avx512(x, count, min, max); return;
  case LK_ISA_AVXVNNI:
  case LK_ISA_AVX2: minmax_avx2(x, count, min, max); return;
#endif
  default: minmax_portable(x, count, min, max); return;
  }
}
