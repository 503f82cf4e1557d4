// sparse24.c's 2:4 sparse product on aarch64 (both NEON paths; plain ARMv8.0 Advanced SIMD).
//
// NEON has no vpermilps: a block of 4 inputs is a 16-byte table and TBL picks, per output
// lane, the 4 bytes of its input. The byte indices come from the position nibbles: a TBL
// spreads byte 0 of each 32-bit word (the nibble of the current block after a shift) over its
// lane's 4 bytes, then p0 = bits 0-1 and p1 = bits 2-3 become 4p + {0,1,2,3}. That is about 5
// integer operations and 2 TBLs per 4 outputs and block for 2 FMAs, against the dense product's
// 4 FMAs by lane: the gain at batch 1 can only come from reading 0.53 of the dense bytes, on
// cores whose L2/DRAM bandwidth rather than FMA rate bounds the dense product.
#include "neon.h"

#if LK_ARM64

enum { GROUP = 16, BLOCKS = 8, CHUNK_FLOATS = GROUP + BLOCKS * 2 * GROUP };

/// Rows [0, m) by groups [first, last); each row alone (4 vectors × 2 slots = 8 accumulators).
void lk_sp24_groups_neon(int m, int n, int k, const float *x, int ldx, const float *packed, const float *bias,
                         float *y, int ldy, int first, int last) {
  const int chunks = (k / 4 + BLOCKS - 1) / BLOCKS, blocks = k / 4;
  static const uint8_t spread_bytes[16] = {0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12};
  static const uint8_t lane_bytes[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  const uint8x16_t spread = vld1q_u8(spread_bytes), within = vld1q_u8(lane_bytes);
  const uint8x16_t low2 = vdupq_n_u8(3), high2 = vdupq_n_u8(12);
  for (int g = first; g < last; g++)
    for (int r = 0; r < m; r++) {
      const float *xr = x + (long)r * ldx;
      float32x4_t a[4], b[4];
      for (int q = 0; q < 4; q++) a[q] = b[q] = vdupq_n_f32(0);
      for (int c = 0; c < chunks; c++) {
        const float *chunk = packed + ((long)g * chunks + c) * CHUNK_FLOATS, *v = chunk + GROUP;
        uint32x4_t w[4];
        for (int q = 0; q < 4; q++) w[q] = vld1q_u32((const uint32_t *)chunk + 4 * q);
        const int tb = blocks - c * BLOCKS < BLOCKS ? blocks - c * BLOCKS : BLOCKS;
        for (int t = 0; t < tb; t++) {
          const uint8x16_t table = vreinterpretq_u8_f32(vld1q_f32(xr + 32 * c + 4 * t));
          for (int q = 0; q < 4; q++) {
            const uint8x16_t nibble = vqtbl1q_u8(vreinterpretq_u8_u32(w[q]), spread);
            const uint8x16_t i0 = vsliq_n_u8(within, vandq_u8(nibble, low2), 2);
            const uint8x16_t i1 = vorrq_u8(within, vandq_u8(nibble, high2));
            const float32x4_t x0 = vreinterpretq_f32_u8(vqtbl1q_u8(table, i0));
            const float32x4_t x1 = vreinterpretq_f32_u8(vqtbl1q_u8(table, i1));
            a[q] = vfmaq_f32(a[q], vld1q_f32(v + 32 * t + 4 * q), x0);
            b[q] = vfmaq_f32(b[q], vld1q_f32(v + 32 * t + 16 + 4 * q), x1);
            w[q] = vshrq_n_u32(w[q], 4);
          }
        }
      }
      const int start = g * GROUP, width = n - start < GROUP ? n - start : GROUP;
      float acc[GROUP];
      for (int q = 0; q < 4; q++) vst1q_f32(acc + 4 * q, vaddq_f32(a[q], b[q]));
      float *yr = y + (long)r * ldy + start;
      for (int j = 0; j < width; j++) yr[j] = acc[j] + (bias ? bias[start + j] : 0.0f);
    }
}

#endif
