// Weight-only group-quantized products (ggml's Q8_0 / Q4_0 idea): weights in int8 or int4
// with one float scale per group of consecutive inputs, activations quantized per row to s8
// at run time, integer dot products per group, group results summed in fp32.
//
// Signed × signed bytes: vpdpbusd and vpmaddubsw multiply unsigned by signed bytes, so each
// product a·w is computed as |a| · (w with a's sign) (vpsignb), as ggml does. With
// |a| <= 127 and |w| <= 127 a vpmaddubsw pair sum stays within int16 (2·127·127 < 32767).
#include "simd.h"

#include <math.h>
#include <string.h>

int lk_wq_padded(int k) { return (k + 31) / 32 * 32; }

size_t lk_wq_row_bytes(int k, int bits) { return (size_t)(bits == 4 ? lk_wq_padded(k) / 2 : lk_wq_padded(k)); }

void lk_wq_pack(const int8_t *w, int n, int k, int bits, void *packed) {
  const int kp = lk_wq_padded(k);
  const size_t row_bytes = lk_wq_row_bytes(k, bits);
  uint8_t *out = (uint8_t *)packed;
  for (int j = 0; j < n; j++) {
    const int8_t *row = w + (size_t)j * k;
    uint8_t *dst = out + (size_t)j * row_bytes;
    if (bits == 8) {
      memcpy(dst, row, (size_t)k);
      memset(dst + k, 0, (size_t)(kp - k));
      continue;
    }
    // int4: byte t of each 32-block holds element t (low nibble) and t + 16 (high), as q + 8.
    for (int c = 0; c < kp; c += 32) {
      for (int t = 0; t < 16; t++) {
        const int lo = c + t < k ? row[c + t] : 0, hi = c + t + 16 < k ? row[c + t + 16] : 0;
        dst[c / 2 + t] = (uint8_t)((lo + 8) | ((hi + 8) << 4));
      }
    }
  }
}

void lk_wq_quantize_rows(const float *x, int m, int k, int8_t *q, float *scale) {
  const int kp = lk_wq_padded(k);
  for (int i = 0; i < m; i++) {
    float lo = 0, hi = 0;
    lk_minmax_f32(x + (size_t)i * k, k, &lo, &hi);
    const float bound = fmaxf(fabsf(lo), fabsf(hi));
    scale[i] = bound > 0 ? bound / 127.0f : 1.0f;
    lk_quantize_s8(x + (size_t)i * k, k, scale[i], q + (size_t)i * kp);
    memset(q + (size_t)i * kp + k, 0, (size_t)(kp - k));
  }
}

// ---- One output: Σ_g w_scale[g] · Σ_{c in g} a[c]·w[c] over the padded row ----

static float dot_portable(const int8_t *a, const uint8_t *w, const float *ws, int kp, int group, int bits) {
  float acc = 0;
  for (int c = 0, g = 0; c < kp; g++) {
    const int end = c + group < kp ? c + group : kp;
    int32_t sum = 0;
    for (; c < end; c++) {
      int wv;
      if (bits == 8) {
        wv = ((const int8_t *)w)[c];
      } else {
        const uint8_t b = w[(c & ~31) / 2 + (c & 15)];
        wv = ((c & 16) ? b >> 4 : b & 15) - 8;
      }
      sum += (int32_t)a[c] * wv;
    }
    acc += (float)sum * ws[g];
  }
  return acc;
}

#if LK_X86

/// 32 weights as signed bytes in element order: a plain load for int8, the two nibble halves
/// of 16 bytes for int4 (low nibbles are elements 0-15, high nibbles 16-31). The wider paths
/// inline these AVX2 helpers: their targets include AVX2.
LK_AVX2 LK_INLINE __m256i load_w_avx2(const uint8_t *w, int c, int bits) {
  if (bits == 8) return _mm256_loadu_si256((const __m256i *)(w + c));
  const __m256i x = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(w + c / 2)));
  const __m256i mask = _mm256_set1_epi8(15);
  const __m256i lo = _mm256_and_si256(x, mask), hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), mask);
  return _mm256_sub_epi8(_mm256_blend_epi32(lo, hi, 0xF0), _mm256_set1_epi8(8));
}

LK_AVX2 LK_INLINE float hsum_avx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

LK_AVX2 static float dot_avx2(const int8_t *a, const uint8_t *w, const float *ws, int kp, int group, int bits) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  for (int c = 0, g = 0; c < kp; g++) {
    const int end = c + group < kp ? c + group : kp;
    __m256i sum = _mm256_setzero_si256();
    for (; c < end; c += 32) {
      const __m256i av = _mm256_loadu_si256((const __m256i *)(a + c)), wv = load_w_avx2(w, c, bits);
      const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(av), _mm256_sign_epi8(wv, av));
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, ones));
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(ws[g]), acc);
  }
  return hsum_avx2(acc);
}

LK_AVXVNNI static float dot_avxvnni(const int8_t *a, const uint8_t *w, const float *ws, int kp, int group, int bits) {
  __m256 acc = _mm256_setzero_ps();
  for (int c = 0, g = 0; c < kp; g++) {
    const int end = c + group < kp ? c + group : kp;
    __m256i sum = _mm256_setzero_si256();
    for (; c < end; c += 32) {
      const __m256i av = _mm256_loadu_si256((const __m256i *)(a + c)), wv = load_w_avx2(w, c, bits);
      sum = _mm256_dpbusd_avx_epi32(sum, _mm256_abs_epi8(av), _mm256_sign_epi8(wv, av));
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(ws[g]), acc);
  }
  return hsum_avx2(acc);
}

/// The EVEX 256-bit vpdpbusd: a group of 32 is one register, so wider vectors would need two
/// scales per register; this GEMV is bound by reading the weights, not by arithmetic.
LK_AVX512 static float dot_avx512(const int8_t *a, const uint8_t *w, const float *ws, int kp, int group, int bits) {
  __m256 acc = _mm256_setzero_ps();
  for (int c = 0, g = 0; c < kp; g++) {
    const int end = c + group < kp ? c + group : kp;
    __m256i sum = _mm256_setzero_si256();
    for (; c < end; c += 32) {
      const __m256i av = _mm256_loadu_si256((const __m256i *)(a + c)), wv = load_w_avx2(w, c, bits);
      sum = _mm256_dpbusd_epi32(sum, _mm256_abs_epi8(av), _mm256_sign_epi8(wv, av));
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(ws[g]), acc);
  }
  return hsum_avx2(acc);
}

#endif

typedef float (*wq_dot)(const int8_t *, const uint8_t *, const float *, int, int, int);

void lk_wq_gemm_f32(int m, int n, int k, int bits, int group, const int8_t *a, const float *a_scale,
                    const void *packed, const float *w_scale, const float *bias, float *y, int ldy) {
  const int kp = lk_wq_padded(k), groups = (k + group - 1) / group;
  const size_t row_bytes = lk_wq_row_bytes(k, bits);
  wq_dot dot = dot_portable;
#if LK_X86
  switch (lk_isa_current()) {
  case LK_ISA_AVX512VNNI: dot = dot_avx512; break;
  case LK_ISA_AVXVNNI: dot = dot_avxvnni; break;
  case LK_ISA_AVX2: dot = dot_avx2; break;
  default: break;
  }
#endif
  const uint8_t *w = (const uint8_t *)packed;
  for (int i = 0; i < m; i++) {
    const int8_t *ai = a + (size_t)i * kp;
    for (int j = 0; j < n; j++) {
      const float v = dot(ai, w + (size_t)j * row_bytes, w_scale + (size_t)j * groups, kp, group, bits);
      y[(size_t)i * ldy + j] = v * a_scale[i] + (bias ? bias[j] : 0.0f);
    }
  }
}
