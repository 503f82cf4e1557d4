// Weight-only group-quantized products on aarch64: wqgemm.c's tile in NEON.
//
// Activations and weights are both signed here, so SDOT needs no offset (unlike the u8 VNNI
// paths): each 32-element block is two SDOTs into one int32 accumulator per group. Without dot
// products, SMULL + SADALP as in the int8 GEMM (neon_qgemm.c). The int32 group sum is exact
// and meets its float scale as in the portable tile (one product, one addition), so the outputs
// equal the portable path's.
#include "neon.h"

#if LK_ARM64

/// 32 weights of row `w` from element c (a multiple of 32) as s8: a plain load for int8; for
/// int4, low nibbles are elements c..c+15 and high nibbles c+16..c+31, stored as q + 8.
LK_INLINE void load_w32(const uint8_t *w, int c, int bits, int8x16_t out[2]) {
  if (bits == 8) {
    out[0] = vld1q_s8((const int8_t *)w + c);
    out[1] = vld1q_s8((const int8_t *)w + c + 16);
    return;
  }
  const uint8x16_t b = vld1q_u8(w + c / 2);
  out[0] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(15))), vdupq_n_s8(8));
  out[1] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), vdupq_n_s8(8));
}

LK_NEON_DOT static int32_t group_dot(const int8_t *a, const uint8_t *w, int c, int end, int bits) {
  int32x4_t sum = vdupq_n_s32(0);
  for (; c < end; c += 32) {
    int8x16_t wv[2];
    load_w32(w, c, bits, wv);
    sum = vdotq_s32(sum, vld1q_s8(a + c), wv[0]);
    sum = vdotq_s32(sum, vld1q_s8(a + c + 16), wv[1]);
  }
  return vaddvq_s32(sum);
}

static int32_t group_plain(const int8_t *a, const uint8_t *w, int c, int end, int bits) {
  int32x4_t sum = vdupq_n_s32(0);
  for (; c < end; c += 32) {
    int8x16_t wv[2];
    load_w32(w, c, bits, wv);
    for (int h = 0; h < 2; h++) {
      const int8x16_t av = vld1q_s8(a + c + 16 * h);
      sum = vpadalq_s16(sum, vmull_s8(vget_low_s8(av), vget_low_s8(wv[h])));
      sum = vpadalq_s16(sum, vmull_high_s8(av, wv[h]));
    }
  }
  return vaddvq_s32(sum);
}

void lk_wq_tile_neon(int dot, int kp, int group, int groups, int bits, size_t stride, const int8_t *a,
                     const uint8_t *w, const float *ws, int rows, float *out) {
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = w + (size_t)r * stride;
    float acc = 0;
    for (int c = 0, g = 0; c < kp; c += group, g++) {
      const int end = c + group < kp ? c + group : kp;
      const int32_t sum = dot ? group_dot(a, row, c, end, bits) : group_plain(a, row, c, end, bits);
      acc += (float)sum * ws[(size_t)r * groups + g];
    }
    out[r] = acc;
  }
}

#endif  // LK_ARM64
