// Weight-only group-quantized products (ggml's Q8_0 / Q4_0 idea): weights in int8 or int4
// with one float scale per group of consecutive inputs, activations quantized per row to s8
// at run time, integer dot products per group, group results summed in fp32.
//
// vpdpbusd multiplies unsigned by signed bytes, so the VNNI paths read the activations as
// u8 = s8 + 128 and take 128 · Σ_g s_g · Σw_g back out with the per-group weight sums that
// lk_wq_pack stores after each row. AVX2's vpmaddubsw would saturate on such u8 values, so
// the AVX2 and AVX-512 (without VNNI) paths compute a·w as |a| · (w with a's sign) instead
// (vpsignb), as ggml does: with |a|, |w| <= 127 a pair sum stays within int16.
//
// Output rows go four at a time so each activation load serves four weight rows. For a batch
// of int4 weights, each block of four rows is unpacked once to int8 in a small scratch and
// reused by every activation row (integers only; never a float copy of the weights).
#include "neon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int lk_wq_padded(int k) { return (k + 31) / 32 * 32; }

/// Bytes of the levels of one packed row, before its group sums.
static size_t level_bytes(int k, int bits) { return (size_t)(bits == 4 ? lk_wq_padded(k) / 2 : lk_wq_padded(k)); }

size_t lk_wq_row_bytes(int k, int bits, int group) {
  return level_bytes(k, bits) + sizeof(int32_t) * (size_t)((k + group - 1) / group);
}

void lk_wq_pack(const int8_t *w, int n, int k, int bits, int group, void *packed) {
  const int kp = lk_wq_padded(k), groups = (k + group - 1) / group;
  const size_t stride = lk_wq_row_bytes(k, bits, group), levels = level_bytes(k, bits);
  for (int j = 0; j < n; j++) {
    const int8_t *row = w + (size_t)j * k;
    uint8_t *dst = (uint8_t *)packed + (size_t)j * stride;
    if (bits == 8) {
      memcpy(dst, row, (size_t)k);
      memset(dst + k, 0, (size_t)(kp - k));
    } else {
      // Byte t of each 32-block holds element t (low nibble) and t + 16 (high), as q + 8.
      for (int c = 0; c < kp; c += 32) {
        for (int t = 0; t < 16; t++) {
          const int lo = c + t < k ? row[c + t] : 0, hi = c + t + 16 < k ? row[c + t + 16] : 0;
          dst[c / 2 + t] = (uint8_t)((lo + 8) | ((hi + 8) << 4));
        }
      }
    }
    for (int g = 0; g < groups; g++) {
      int32_t sum = 0;
      for (int c = g * group; c < k && c < (g + 1) * group; c++) sum += row[c];
      memcpy(dst + levels + sizeof(int32_t) * (size_t)g, &sum, sizeof sum);
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

/// One tile: up to four weight rows (w, row stride `stride`) against one activation row.
typedef struct {
  int kp, group, groups, bits;
  size_t stride, levels;
} wq_shape;

/// out[r] = Σ_g ws[r * groups + g] · Σ_{c in g} a[c] · w_r[c], for rows r < rows (1...4).
/// `a` is the s8 row, `au` the same row + 128 as u8.
typedef void (*wq_tile)(const wq_shape *s, const int8_t *a, const uint8_t *au, const uint8_t *w, const float *ws,
                        int rows, float *out);

static void tile_portable(const wq_shape *s, const int8_t *a, const uint8_t *au, const uint8_t *w, const float *ws,
                          int rows, float *out) {
  (void)au;
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = w + (size_t)r * s->stride;
    float acc = 0;
    for (int c = 0, g = 0; c < s->kp; g++) {
      const int end = c + s->group < s->kp ? c + s->group : s->kp;
      int32_t sum = 0;
      for (; c < end; c++) {
        int wv;
        if (s->bits == 8) {
          wv = ((const int8_t *)row)[c];
        } else {
          const uint8_t b = row[(c & ~31) / 2 + (c & 15)];
          wv = ((c & 16) ? b >> 4 : b & 15) - 8;
        }
        sum += (int32_t)a[c] * wv;
      }
      acc += (float)sum * ws[(size_t)r * s->groups + g];
    }
    out[r] = acc;
  }
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

/// a·w summed into 32-bit lanes without VNNI: |a| · (w with a's sign) (vpsignb) keeps
/// vpmaddubsw's pair sums within int16 (|a|, |w| <= 127), and vpmaddwd with ones adds the
/// pairs. The AVX-512 path without VNNI inlines it too (its target includes AVX2).
LK_AVX2 LK_INLINE __m256i dot_sign_avx2(__m256i sum, __m256i a, __m256i w) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(w, a));
  return _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

/// The tile body for a given dot product DOT(sum, activations, weights) of 32 bytes, reading
/// the activations from ACT (`a` as s8, or `au` as u8 = s8 + 128 for vpdpbusd): four rows
/// share each activation load. The VNNI results still hold the 128 · Σ s_g · Σw_g that
/// reading activations + 128 added; lk_wq_gemm_f32 takes it out (row_offsets, once per
/// weight row, not per activation row).
#define LK_WQ_TILE(NAME, ATTR, ACT, DOT)                                                                  \
  ATTR static void NAME(const wq_shape *s, const int8_t *a, const uint8_t *au, const uint8_t *w,         \
                        const float *ws, int rows, float *out) {                                         \
    (void)a;                                                                                             \
    (void)au;                                                                                            \
    if (rows < 4) {                                                                                      \
      for (int r = 0; r < rows; r++) {                                                                   \
        const uint8_t *row = w + (size_t)r * s->stride;                                                  \
        __m256 acc = _mm256_setzero_ps();                                                                \
        for (int c = 0, g = 0; c < s->kp; g++) {                                                         \
          const int end = c + s->group < s->kp ? c + s->group : s->kp;                                   \
          __m256i sum = _mm256_setzero_si256();                                                          \
          for (; c < end; c += 32)                                                                       \
            sum = DOT(sum, _mm256_loadu_si256((const __m256i *)(ACT + c)), load_w_avx2(row, c, s->bits)); \
          const float scale = ws[(size_t)r * s->groups + g];                                             \
          acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(scale), acc);                    \
        }                                                                                                \
        out[r] = hsum_avx2(acc);                                                                         \
      }                                                                                                  \
      return;                                                                                            \
    }                                                                                                    \
    const uint8_t *w0 = w, *w1 = w + s->stride, *w2 = w + 2 * s->stride, *w3 = w + 3 * s->stride;        \
    const float *s0 = ws, *s1 = ws + s->groups, *s2 = ws + 2 * s->groups, *s3 = ws + 3 * s->groups;       \
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;                            \
    for (int c = 0, g = 0; c < s->kp; g++) {                                                             \
      const int end = c + s->group < s->kp ? c + s->group : s->kp;                                       \
      __m256i t0 = _mm256_setzero_si256(), t1 = t0, t2 = t0, t3 = t0;                                    \
      for (; c < end; c += 32) {                                                                         \
        const __m256i av = _mm256_loadu_si256((const __m256i *)(ACT + c));                               \
        t0 = DOT(t0, av, load_w_avx2(w0, c, s->bits));                                                   \
        t1 = DOT(t1, av, load_w_avx2(w1, c, s->bits));                                                   \
        t2 = DOT(t2, av, load_w_avx2(w2, c, s->bits));                                                   \
        t3 = DOT(t3, av, load_w_avx2(w3, c, s->bits));                                                   \
      }                                                                                                  \
      acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t0), _mm256_set1_ps(s0[g]), acc0);                       \
      acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t1), _mm256_set1_ps(s1[g]), acc1);                       \
      acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t2), _mm256_set1_ps(s2[g]), acc2);                       \
      acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t3), _mm256_set1_ps(s3[g]), acc3);                       \
    }                                                                                                    \
    out[0] = hsum_avx2(acc0);                                                                            \
    out[1] = hsum_avx2(acc1);                                                                            \
    out[2] = hsum_avx2(acc2);                                                                            \
    out[3] = hsum_avx2(acc3);                                                                            \
  }

LK_WQ_TILE(tile_avx2, LK_AVX2, a, dot_sign_avx2)
/// Without VNNI the AVX-512 path is AVX2's tile compiled for EVEX: 32 registers, and a
/// group of 32 is still one 256-bit register (one scale each).
LK_WQ_TILE(tile_avx512bw, LK_AVX512BW, a, dot_sign_avx2)
LK_WQ_TILE(tile_avxvnni, LK_AVXVNNI, au, _mm256_dpbusd_avx_epi32)
/// The EVEX 256-bit vpdpbusd: a group of 32 is one register, so wider vectors would need two
/// scales per register; a GEMV is bound by reading the weights, not by arithmetic.
LK_WQ_TILE(tile_avx512, LK_AVX512, au, _mm256_dpbusd_epi32)

/// Four int8 weight rows against two activation rows (batches, AVX-512): each weight load
/// serves both rows, and the eight int32 and eight fp32 accumulators fit in the 32 registers.
LK_AVX512 static void tile_pair_avx512(const wq_shape *s, const uint8_t *au0, const uint8_t *au1, const uint8_t *w,
                                       const float *ws, float out[2][4]) {
  const uint8_t *wr[4] = {w, w + s->stride, w + 2 * s->stride, w + 3 * s->stride};
  __m256 acc[2][4];
  for (int i = 0; i < 2; i++)
    for (int r = 0; r < 4; r++) acc[i][r] = _mm256_setzero_ps();
  for (int c = 0, g = 0; c < s->kp; g++) {
    const int end = c + s->group < s->kp ? c + s->group : s->kp;
    __m256i t[2][4];
    for (int i = 0; i < 2; i++)
      for (int r = 0; r < 4; r++) t[i][r] = _mm256_setzero_si256();
    for (; c < end; c += 32) {
      const __m256i a0 = _mm256_loadu_si256((const __m256i *)(au0 + c));
      const __m256i a1 = _mm256_loadu_si256((const __m256i *)(au1 + c));
      for (int r = 0; r < 4; r++) {
        const __m256i wv = _mm256_loadu_si256((const __m256i *)(wr[r] + c));
        t[0][r] = _mm256_dpbusd_epi32(t[0][r], a0, wv);
        t[1][r] = _mm256_dpbusd_epi32(t[1][r], a1, wv);
      }
    }
    for (int r = 0; r < 4; r++) {
      const __m256 scale = _mm256_set1_ps(ws[(size_t)r * s->groups + g]);
      acc[0][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t[0][r]), scale, acc[0][r]);
      acc[1][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t[1][r]), scale, acc[1][r]);
    }
  }
  for (int i = 0; i < 2; i++)
    for (int r = 0; r < 4; r++) out[i][r] = hsum_avx2(acc[i][r]);
}

#endif

#if LK_ARM64
/// neon_wqgemm.c's tile, with dot products and without.
static void tile_neon_dot(const wq_shape *s, const int8_t *a, const uint8_t *au, const uint8_t *w, const float *ws,
                          int rows, float *out) {
  (void)au;
  lk_wq_tile_neon(1, s->kp, s->group, s->groups, s->bits, s->stride, a, w, ws, rows, out);
}

static void tile_neon(const wq_shape *s, const int8_t *a, const uint8_t *au, const uint8_t *w, const float *ws,
                      int rows, float *out) {
  (void)au;
  lk_wq_tile_neon(0, s->kp, s->group, s->groups, s->bits, s->stride, a, w, ws, rows, out);
}
#endif

/// Unpacks `rows` packed int4 rows to the int8 packed layout (levels, then the same sums).
static void unpack_rows(const wq_shape *s, const uint8_t *w, int rows, uint8_t *dst, size_t dst_stride) {
  const size_t sums = s->stride - s->levels;
  for (int r = 0; r < rows; r++) {
    const uint8_t *src = w + (size_t)r * s->stride;
    int8_t *out = (int8_t *)(dst + (size_t)r * dst_stride);
    for (int c = 0; c < s->kp; c += 32) {
      for (int t = 0; t < 16; t++) {
        const uint8_t b = src[c / 2 + t];
        out[c + t] = (int8_t)((b & 15) - 8);
        out[c + t + 16] = (int8_t)((b >> 4) - 8);
      }
    }
    memcpy(dst + (size_t)r * dst_stride + s->kp, src + s->levels, sums);
  }
}

void lk_wq_row_offsets(const void *packed, int n, int k, int bits, int group, const float *w_scale, float *out) {
  const size_t stride = lk_wq_row_bytes(k, bits, group), levels = level_bytes(k, bits);
  const int groups = (k + group - 1) / group;
  for (int j = 0; j < n; j++) {
    const uint8_t *sums = (const uint8_t *)packed + (size_t)j * stride + levels;
    float offset = 0;
    for (int g = 0; g < groups; g++) {
      int32_t sum;
      memcpy(&sum, sums + sizeof(int32_t) * (size_t)g, sizeof sum);
      offset += w_scale[(size_t)j * groups + g] * (float)sum;
    }
    out[j] = 128.0f * offset;
  }
}

void lk_wq_gemm_f32(int m, int n, int k, int bits, int group, const int8_t *a, const float *a_scale,
                    const void *packed, const float *w_scale, const float *row_offsets, const float *bias, float *y,
                    int ldy) {
  wq_shape s = {lk_wq_padded(k), group, (k + group - 1) / group, bits, lk_wq_row_bytes(k, bits, group),
                level_bytes(k, bits)};
  wq_tile tile = tile_portable;
  int offset_u8 = 0;  // whether the tile reads activations + 128
#if LK_X86
  switch (lk_isa_current()) {
  case LK_ISA_AVX512VNNI: tile = tile_avx512; offset_u8 = 1; break;
  case LK_ISA_AVXVNNI: tile = tile_avxvnni; offset_u8 = 1; break;
  case LK_ISA_AVX512: tile = tile_avx512bw; break;
  case LK_ISA_AVX2: tile = tile_avx2; break;
  default: break;
  }
#endif
#if LK_ARM64
  if (lk_isa_neon(lk_isa_current())) tile = lk_isa_current() == LK_ISA_NEON_DOT ? tile_neon_dot : tile_neon;
#endif
  // Scratch: activations + 128 (VNNI), four int4 rows unpacked to int8 (batches), and each
  // weight row's 128 · Σ_g s_g · Σw_g (VNNI), which reading activations + 128 adds.
  const int unpack = bits == 4 && m > 1;
  wq_shape unpacked = s;
  unpacked.bits = 8;
  unpacked.levels = (size_t)s.kp;
  unpacked.stride = (size_t)s.kp + sizeof(int32_t) * (size_t)s.groups;
  const size_t au_bytes = offset_u8 ? (size_t)m * s.kp : 0, w_bytes = unpack ? 4 * unpacked.stride : 0;
  const size_t offset_bytes = offset_u8 && !row_offsets ? sizeof(float) * (size_t)n : 0;
  uint8_t *scratch = au_bytes + w_bytes + offset_bytes ? malloc(offset_bytes + au_bytes + w_bytes) : NULL;
  const float *row_offset = NULL;
  if (offset_u8) {
    if (!row_offsets) lk_wq_row_offsets(packed, n, k, bits, group, w_scale, (float *)scratch);
    row_offset = row_offsets ? row_offsets : (const float *)scratch;
  }
  uint8_t *au = offset_u8 ? scratch + offset_bytes : NULL, *wbuf = scratch ? scratch + offset_bytes + au_bytes : NULL;
  for (size_t i = 0; i < au_bytes; i++) au[i] = (uint8_t)(a[i] ^ 0x80);
  const uint8_t *w = (const uint8_t *)packed;
  for (int j = 0; j < n; j += 4) {
    const int rows = n - j < 4 ? n - j : 4;
    const uint8_t *block = w + (size_t)j * s.stride;
    const wq_shape *shape = &s;
    if (unpack) {
      unpack_rows(&s, block, rows, wbuf, unpacked.stride);
      block = wbuf;
      shape = &unpacked;
    }
    int i = 0;
#if LK_X86
    if (tile == tile_avx512 && rows == 4 && shape->bits == 8) {
      for (; i + 2 <= m; i += 2) {
        float out[2][4];
        tile_pair_avx512(shape, au + (size_t)i * s.kp, au + (size_t)(i + 1) * s.kp, block,
                         w_scale + (size_t)j * s.groups, out);
        for (int t = 0; t < 2; t++)
          for (int r = 0; r < 4; r++)
            y[(size_t)(i + t) * ldy + j + r] =
                (out[t][r] - row_offset[j + r]) * a_scale[i + t] + (bias ? bias[j + r] : 0.0f);
      }
    }
#endif
    for (; i < m; i++) {
      float out[4];
      tile(shape, a + (size_t)i * s.kp, au ? au + (size_t)i * s.kp : NULL, block, w_scale + (size_t)j * s.groups, rows,
           out);
      for (int r = 0; r < rows; r++) {
        const float centered = out[r] - (row_offset ? row_offset[j + r] : 0.0f);
        y[(size_t)i * ldy + j + r] = centered * a_scale[i] + (bias ? bias[j + r] : 0.0f);
      }
    }
  }
  free(scratch);
}
