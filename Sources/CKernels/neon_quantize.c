// Quantize and min/max on aarch64: quantize.c's loops in NEON (plain ARMv8.0; both paths).
//
// Rounding matches the portable path bit for bit: the same multiply by 1/scale, the same clamp
// to ±512, then FCVTNS, which rounds to nearest with ties to even as lrintf does in the
// default mode. 16 values per step; the last few go through the same step on a zero-padded
// copy, so there is one code path for every element.
#include "neon.h"

#include <string.h>

#if LK_ARM64

/// 16 values to 16 bytes: clamp(round(x · inv) + zp, lo, hi), lo..hi within -128..255, so the
/// low byte of each int32 is the u8 or s8 result.
LK_INLINE uint8x16_t quantize16(const float *x, float32x4_t inv, int32x4_t zp, int32x4_t lo, int32x4_t hi) {
  int16x4_t half[4];
  for (int h = 0; h < 4; h++) {
    float32x4_t t = vmulq_f32(vld1q_f32(x + 4 * h), inv);
    t = vminq_f32(vmaxq_f32(t, vdupq_n_f32(-512.0f)), vdupq_n_f32(512.0f));
    const int32x4_t r = vminq_s32(vmaxq_s32(vaddq_s32(vcvtnq_s32_f32(t), zp), lo), hi);
    half[h] = vmovn_s32(r);
  }
  const int8x8_t low = vmovn_s16(vcombine_s16(half[0], half[1])), high = vmovn_s16(vcombine_s16(half[2], half[3]));
  return vreinterpretq_u8_s8(vcombine_s8(low, high));
}

void lk_quantize_neon(const float *x, long count, float scale_inverse, int32_t zero_point, int32_t lo, int32_t hi,
                      void *q) {
  const float32x4_t inv = vdupq_n_f32(scale_inverse);
  const int32x4_t zp = vdupq_n_s32(zero_point), vlo = vdupq_n_s32(lo), vhi = vdupq_n_s32(hi);
  uint8_t *out = q;
  long i = 0;
  for (; i + 16 <= count; i += 16) vst1q_u8(out + i, quantize16(x + i, inv, zp, vlo, vhi));
  if (i == count) return;
  float rest[16] = {0};
  uint8_t bytes[16];
  memcpy(rest, x + i, sizeof(float) * (size_t)(count - i));
  vst1q_u8(bytes, quantize16(rest, inv, zp, vlo, vhi));
  memcpy(out + i, bytes, (size_t)(count - i));
}

void lk_minmax_neon(const float *x, long count, float *min, float *max) {
  float32x4_t a = vdupq_n_f32(x[0]), b = a;
  long i = 0;
  for (; i + 4 <= count; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    a = vminq_f32(a, v);
    b = vmaxq_f32(b, v);
  }
  float lo = vminvq_f32(a), hi = vmaxvq_f32(b);
  for (; i < count; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  *min = lo;
  *max = hi;
}

#endif  // LK_ARM64
