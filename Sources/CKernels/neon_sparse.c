// Sparse (CSR and sliced) products on aarch64: sparse.c's kernels in NEON (plain ARMv8.0; both
// paths).
//
// NEON has no gather. The CSR product loads its 4 inputs lane by lane (LD1 to a lane) and
// multiplies them with 4 contiguous values; two accumulators keep consecutive FMAs apart.
// The sliced layout needs no gather at all: a block's 32 inputs are 128 bytes, two 64-byte
// tables for TBL/TBX, and each step's 16 lane indices become byte indices 4·lane + 0..3, so
// one TBL + TBX pair picks the inputs of 4 rows. The batch product is the portable loop with
// its 64 batch columns in 16 registers.
#include "neon.h"

#include <string.h>

#if LK_ARM64

enum { SLICE = 16, BLOCK = 32, CHUNK = 64 };

void lk_spmv_neon(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values, const float *x,
                  const float *bias, float *y) {
  for (int r = 0; r < rows; r++) {
    int32_t p = row_ptr[r];
    const int32_t end = row_ptr[r + 1];
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    for (; p + 8 <= end; p += 8) {
      float32x4_t x0 = vdupq_n_f32(0.0f), x1 = x0;
      x0 = vld1q_lane_f32(x + col_idx[p], x0, 0);
      x0 = vld1q_lane_f32(x + col_idx[p + 1], x0, 1);
      x0 = vld1q_lane_f32(x + col_idx[p + 2], x0, 2);
      x0 = vld1q_lane_f32(x + col_idx[p + 3], x0, 3);
      x1 = vld1q_lane_f32(x + col_idx[p + 4], x1, 0);
      x1 = vld1q_lane_f32(x + col_idx[p + 5], x1, 1);
      x1 = vld1q_lane_f32(x + col_idx[p + 6], x1, 2);
      x1 = vld1q_lane_f32(x + col_idx[p + 7], x1, 3);
      a0 = vfmaq_f32(a0, vld1q_f32(values + p), x0);
      a1 = vfmaq_f32(a1, vld1q_f32(values + p + 4), x1);
    }
    float sum = vaddvq_f32(vaddq_f32(a0, a1));
    for (; p < end; p++) sum += values[p] * x[col_idx[p]];
    y[r] = bias ? sum + bias[r] : sum;
  }
}

/// The inputs of 4 rows (lanes 4h..4h+3 of a step's 16 lane indices) from a block of 32
/// inputs held as two 64-byte tables: byte indices 4·lane + 0..3; TBL gives zeros for indices
/// past 63, where TBX, with 64 taken off, fills in from the second table.
LK_INLINE float32x4_t pick4(uint8x16_t lanes, int h, uint8x16x4_t low, uint8x16x4_t high) {
  static const uint8_t spread[4][16] = {{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
                                        {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
                                        {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
                                        {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};
  static const uint8_t bytes[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  const uint8x16_t index = vaddq_u8(vshlq_n_u8(vqtbl1q_u8(lanes, vld1q_u8(spread[h])), 2), vld1q_u8(bytes));
  const uint8x16_t picked = vqtbx4q_u8(vqtbl4q_u8(low, index), high, vsubq_u8(index, vdupq_n_u8(64)));
  return vreinterpretq_f32_u8(picked);
}

void lk_spmv_sliced_neon(int rows, int cols, const int32_t *slice_entries, const int32_t *entry_block,
                         const int32_t *entry_steps, const float *step_values, const uint8_t *step_lanes,
                         const int32_t *row_order, const float *x, const float *bias, int relu, float *y) {
  const int slices = (rows + SLICE - 1) / SLICE;
  const float *v = step_values;
  const uint8_t *lane = step_lanes;
  for (int s = 0; s < slices; s++) {
    float32x4_t acc[4];
    for (int h = 0; h < 4; h++) acc[h] = vdupq_n_f32(0.0f);
    for (int32_t e = slice_entries[s]; e < slice_entries[s + 1]; e++) {
      const int c0 = entry_block[e] * BLOCK;
      // x[c0 .. c0+32), zeros past the end of x.
      float block[BLOCK] = {0};
      memcpy(block, x + c0, sizeof(float) * (size_t)(cols - c0 < BLOCK ? cols - c0 : BLOCK));
      const uint8x16x4_t low = vld1q_u8_x4((const uint8_t *)block), high = vld1q_u8_x4((const uint8_t *)(block + 16));
      for (int k = 0; k < entry_steps[e]; k++, v += SLICE, lane += SLICE) {
        const uint8x16_t lanes = vld1q_u8(lane);
        for (int h = 0; h < 4; h++) acc[h] = vfmaq_f32(acc[h], vld1q_f32(v + 4 * h), pick4(lanes, h, low, high));
      }
    }
    float out[SLICE];
    for (int h = 0; h < 4; h++) vst1q_f32(out + 4 * h, acc[h]);
    lk_store_slice(s, rows, out, row_order, bias, relu, y);
  }
}

/// NV vectors of 4 batch columns (a constant after inlining).
LK_INLINE void spmm_rows(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                         const float *xt, const float *bias, float *yt, int NV) {
  for (int r = 0; r < rows; r++) {
    float32x4_t acc[CHUNK / 4];
    for (int t = 0; t < NV; t++) acc[t] = vdupq_n_f32(bias ? bias[r] : 0.0f);
    for (int32_t p = row_ptr[r]; p < row_ptr[r + 1]; p++) {
      const float *xrow = xt + (long)col_idx[p] * CHUNK;
      for (int t = 0; t < NV; t++) acc[t] = vfmaq_n_f32(acc[t], vld1q_f32(xrow + 4 * t), values[p]);
    }
    for (int t = 0; t < NV; t++) vst1q_f32(yt + (long)r * CHUNK + 4 * t, acc[t]);
  }
}

void lk_spmm_chunk_neon(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                        const float *xt, const float *bias, float *yt, int width) {
  switch (width / 16) {
  case 4: spmm_rows(rows, row_ptr, col_idx, values, xt, bias, yt, 16); break;
  case 3: spmm_rows(rows, row_ptr, col_idx, values, xt, bias, yt, 12); break;
  case 2: spmm_rows(rows, row_ptr, col_idx, values, xt, bias, yt, 8); break;
  default: spmm_rows(rows, row_ptr, col_idx, values, xt, bias, yt, 4); break;
  }
}

#endif  // LK_ARM64
