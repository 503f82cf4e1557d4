// int8 convolution on aarch64: qconv.c's "columns" product and its byte interleave in NEON.
//
// Here the unfolded image is the vector operand (64 bytes = 16 pixels × 4 k) and the weights
// are broadcast: the GEMM's roles swapped. Signs are handled as in the GEMM (neon_qgemm.c):
// pixels are read as s8 x - 128 and the 128·wsum[o] that drops out joins the zero-point term,
// so the accumulators equal the portable path's.
//
// Dot products: 4 output channels × 16 pixels, 16 accumulators. One 16-byte load of a weight
// panel holds group kk of 4 neighbouring channels, and vdotq_laneq_s32 broadcasts channel c's
// 4 bytes from lane c; channels past n compute on the panel's zero padding and are not stored.
// Plain NEON: 2 channels × 16 pixels, SMULL + SADALP pair sums (8 accumulators a channel).
#include "neon.h"

#include <string.h>

#if LK_ARM64

enum { PANEL = 16, VEC = 16 };

/// One image's product, as both builds see it.
typedef struct {
  const uint8_t *cols;  // [k4][vectors * 16][4]
  long cstride;         // bytes from one k group to the next
  int k4, n, vectors;
  const int8_t *w;      // GEMM panels (lk_qgemm_pack)
  long pstride;         // bytes per panel
  const int32_t *wsum;
  const int32_t *table; // [vectors][lane mask, first output]
  const lk_qoutput *q;
  float *yf;            // f32 output, or NULL for u8 into yu
  uint8_t *yu;
  long plane;           // outputs per channel
} neon_cjob;

/// 16 bytes of the columns as s8 x - 128.
LK_INLINE int8x16_t load_x(const uint8_t *p) { return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p), vdupq_n_u8(0x80))); }

/// Output stage for channel o's 16 pixels of vector v (acc: sums of x'·w) through the lane table.
static void store16(const neon_cjob *g, int o, int v, const int32x4_t acc[4]) {
  const lk_qoutput *q = g->q;
  const uint32_t mask = (uint32_t)g->table[2 * v];
  if (!mask) return;
  // As neon_qgemm.c's finish: (zp - 128)·wsum wrapping, multiply then add.
  const int32x4_t shift = vdupq_n_s32((int32_t)((uint32_t)(q->a_zero_point - 128) * (uint32_t)g->wsum[o]));
  const float32x4_t scale = vdupq_n_f32(q->a_scale * q->w_scale[o]);
  float32x4_t y[4];
  for (int h = 0; h < 4; h++) {
    y[h] = vmulq_f32(vcvtq_f32_s32(vsubq_s32(acc[h], shift)), scale);
    if (q->bias) y[h] = vaddq_f32(y[h], vdupq_n_f32(q->bias[o]));
    if (q->relu) y[h] = vmaxq_f32(y[h], vdupq_n_f32(0.0f));
  }
  const long at = o * g->plane + g->table[2 * v + 1];
  if (g->yf) {
    float out[VEC];
    for (int h = 0; h < 4; h++) vst1q_f32(mask == 0xFFFF ? g->yf + at + 4 * h : out + 4 * h, y[h]);
    if (mask == 0xFFFF) return;
    long next = at;
    for (int l = 0; l < VEC; l++)
      if (mask >> l & 1) g->yf[next++] = out[l];
    return;
  }
  // u8: times 1/out_scale, clamped to ±512, rounded to nearest even, saturated to 0..255.
  uint16x4_t half[4];
  for (int h = 0; h < 4; h++) {
    float32x4_t t = vmulq_f32(y[h], vdupq_n_f32(1.0f / q->out_scale));
    t = vminq_f32(vmaxq_f32(t, vdupq_n_f32(-512.0f)), vdupq_n_f32(512.0f));
    half[h] = vqmovun_s32(vaddq_s32(vcvtnq_s32_f32(t), vdupq_n_s32(q->out_zero_point)));
  }
  const uint8x16_t bytes =
      vcombine_u8(vqmovn_u16(vcombine_u16(half[0], half[1])), vqmovn_u16(vcombine_u16(half[2], half[3])));
  if (mask == 0xFFFF) {
    vst1q_u8(g->yu + at, bytes);
    return;
  }
  uint8_t out[VEC];
  vst1q_u8(out, bytes);
  long next = at;
  for (int l = 0; l < VEC; l++)
    if (mask >> l & 1) g->yu[next++] = out[l];
}

// ---- Dot products ------------------------------------------------------------------------------

/// acc + SDOT of x with channel `lane`'s 4 weights in w (a constant after inlining).
LK_NEON_DOT LK_INLINE int32x4_t dot_lane(int32x4_t acc, int8x16_t x, int8x16_t w, int lane) {
  switch (lane) {
  case 0: return vdotq_laneq_s32(acc, x, w, 0);
  case 1: return vdotq_laneq_s32(acc, x, w, 1);
  case 2: return vdotq_laneq_s32(acc, x, w, 2);
  default: return vdotq_laneq_s32(acc, x, w, 3);
  }
}

/// Channels o0..o0+3 (o0 a multiple of 4) × vector v.
LK_NEON_DOT static void tile_dot(const neon_cjob *g, int o0, int v) {
  int32x4_t acc[4][4];  // [channel][4 pixels]
  for (int c = 0; c < 4; c++)
    for (int h = 0; h < 4; h++) acc[c][h] = vdupq_n_s32(0);
  const int8_t *w = g->w + (o0 / PANEL) * g->pstride + (o0 % PANEL) * 4;
  const uint8_t *x = g->cols + v * 64;
  for (int kk = 0; kk < g->k4; kk++, x += g->cstride, w += 64) {
    const int8x16_t wv = vld1q_s8(w);
    for (int h = 0; h < 4; h++) {
      const int8x16_t xv = load_x(x + 16 * h);
      for (int c = 0; c < 4; c++) acc[c][h] = dot_lane(acc[c][h], xv, wv, c);
    }
  }
  for (int c = 0; c < 4 && o0 + c < g->n; c++) store16(g, o0 + c, v, acc[c]);
}

// ---- Plain NEON ----------------------------------------------------------------------------------

/// Channels o0..o0+MR-1 (MR 1 or 2, a constant after inlining) × vector v. acc[c][2h] holds
/// pixels 4h, 4h+1 as half sums, acc[c][2h + 1] pixels 4h+2, 4h+3.
LK_INLINE void tile_plain(const neon_cjob *g, int o0, int MR, int v) {
  int32x4_t acc[2][8];
  const int8_t *wr[2];
  for (int c = 0; c < MR; c++) {
    wr[c] = g->w + ((o0 + c) / PANEL) * g->pstride + ((o0 + c) % PANEL) * 4;
    for (int h = 0; h < 8; h++) acc[c][h] = vdupq_n_s32(0);
  }
  const uint8_t *x = g->cols + v * 64;
  for (int kk = 0; kk < g->k4; kk++, x += g->cstride) {
    int8x16_t wb[2];
    for (int c = 0; c < MR; c++) {
      int32_t word;
      memcpy(&word, wr[c] + kk * 64, 4);
      wb[c] = vreinterpretq_s8_s32(vdupq_n_s32(word));
    }
    for (int h = 0; h < 4; h++) {
      const int8x16_t xv = load_x(x + 16 * h);
      for (int c = 0; c < MR; c++) {
        acc[c][2 * h] = vpadalq_s16(acc[c][2 * h], vmull_s8(vget_low_s8(xv), vget_low_s8(wb[c])));
        acc[c][2 * h + 1] = vpadalq_s16(acc[c][2 * h + 1], vmull_high_s8(xv, wb[c]));
      }
    }
  }
  for (int c = 0; c < MR; c++) {
    int32x4_t sums[4];
    for (int h = 0; h < 4; h++) sums[h] = vpaddq_s32(acc[c][2 * h], acc[c][2 * h + 1]);
    store16(g, o0 + c, v, sums);
  }
}

void lk_qconv_columns_neon(int dot, const uint8_t *cols, int k4, int vectors, const void *packed, int n,
                           const int32_t *table, const lk_qoutput *out, float *y_f32, uint8_t *y_u8, long plane) {
  const neon_cjob g = {
      .cols = cols, .cstride = (long)vectors * VEC * 4, .k4 = k4, .n = n, .vectors = vectors, .w = packed,
      .pstride = (long)k4 * 64, .wsum = lk_qgemm_packed_sums(packed, n, 4 * k4),  // any k of k4 groups will do
      .table = table, .q = out, .yf = y_f32, .yu = y_u8, .plane = plane};
  // Vectors outermost: a vector's columns stay in L1 while every channel passes over them.
  for (int v = 0; v < vectors; v++) {
    if (dot) {
      for (int o = 0; o < n; o += 4) tile_dot(&g, o, v);
      continue;
    }
    int o = 0;
    for (; o + 2 <= n; o += 2) tile_plain(&g, o, 2, v);
    if (o < n) tile_plain(&g, o, 1, v);
  }
}

void lk_interleave4_neon(const uint8_t *const src[4], int n, int padded, uint8_t *dst) {
  int q = 0;
  // ST4 stores four registers byte-interleaved: exactly [pixels][4].
  for (; q + 16 <= n; q += 16) {
    const uint8x16x4_t v = {{vld1q_u8(src[0] + q), vld1q_u8(src[1] + q), vld1q_u8(src[2] + q), vld1q_u8(src[3] + q)}};
    vst4q_u8(dst + 4 * q, v);
  }
  for (; q < n; q++)
    for (int t = 0; t < 4; t++) dst[4 * q + t] = src[t][q];
  memset(dst + 4 * q, 0, 4 * (size_t)(padded - q));
}

#endif  // LK_ARM64
