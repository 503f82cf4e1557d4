// Depthwise convolution on aarch64: dwconv.c's register tiles in NEON (plain ARMv8.0; both
// paths), over the zero-padded plane dwconv.c prepares.
//
// As the AVX2 tile: each tap's weight feeds ROWS × VECS accumulators of 4 outputs, 8 of them
// (8 rows of one vector on planes at most 4 wide, 4 rows of two up to 8 wide, 2 rows of up to
// four beyond), so 8 independent FMLAs hide the latency. Stride 2 loads with LD2 and keeps the
// even lanes. A row's last vector may read past the row's end, into the next row or the
// plane's slack, and stores only the outputs that exist.
#include "neon.h"

#if LK_ARM64

/// 4 floats from src at stride s (1 or 2).
LK_INLINE float32x4_t load4(const float *src, int s) { return s == 1 ? vld1q_f32(src) : vld2q_f32(src).val[0]; }

/// ROWS output rows × VECS vectors of 4 from (oy, ox); constants after inlining.
LK_INLINE void tile(const lk_window *w, const float *pad, long wp, const float *k, const long *offsets, float b,
                    int oy, int ox, int ROWS, int VECS, float *plane) {
  const int s = w->stride_w, taps = w->kernel_h * w->kernel_w;
  const long row_step = (long)w->stride_h * wp;
  const float *base = pad + (long)oy * row_step + (long)ox * s;
  float32x4_t acc[8][4];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++) acc[r][v] = vdupq_n_f32(b);
  for (int t = 0; t < taps; t++) {
    const float *src = base + offsets[t];
    for (int r = 0; r < ROWS; r++)
      for (int v = 0; v < VECS; v++)
        acc[r][v] = vfmaq_n_f32(acc[r][v], load4(src + r * row_step + 4L * v * s, s), k[t]);
  }
  for (int r = 0; r < ROWS; r++) {
    float *out = plane + (long)(oy + r) * w->out_w + ox;
    for (int v = 0; v < VECS; v++) {
      const int left = w->out_w - ox - 4 * v;
      if (left >= 4) {
        vst1q_f32(out + 4 * v, acc[r][v]);
        continue;
      }
      float rest[4];
      vst1q_f32(rest, acc[r][v]);
      for (int l = 0; l < left; l++) out[4 * v + l] = rest[l];
    }
  }
}

/// tile with the shapes the planner below asks for, each compiled with its constants.
static void tile_of(const lk_window *w, const float *pad, long wp, const float *k, const long *offsets, float b,
                    int oy, int ox, int rows, int vecs, float *plane) {
#define LK_TILE(R, V) \
  case R * 8 + V: tile(w, pad, wp, k, offsets, b, oy, ox, R, V, plane); return;
  switch (rows * 8 + vecs) {
    LK_TILE(1, 1) LK_TILE(2, 1) LK_TILE(3, 1) LK_TILE(4, 1) LK_TILE(5, 1) LK_TILE(6, 1) LK_TILE(7, 1) LK_TILE(8, 1)
    LK_TILE(1, 2) LK_TILE(2, 2) LK_TILE(3, 2) LK_TILE(4, 2)
    LK_TILE(1, 3) LK_TILE(2, 3) LK_TILE(1, 4) LK_TILE(2, 4)
  default: break;  // the planner asks for no other shape
  }
#undef LK_TILE
}

void lk_dwconv_plane_neon(const lk_window *w, const float *pad, long wp, const float *k, const long *offsets, float b,
                          float *plane) {
  const int vecs = (w->out_w + 3) / 4;
  const int row_vecs = vecs < 4 ? vecs : 4;
  const int rows = row_vecs == 1 ? 8 : (row_vecs == 2 ? 4 : 2);
  for (int oy = 0; oy < w->out_h; oy += rows) {
    const int tile_rows = w->out_h - oy < rows ? w->out_h - oy : rows;
    for (int ox = 0; ox < w->out_w; ox += 16) {
      const int left = (w->out_w - ox + 3) / 4;
      tile_of(w, pad, wp, k, offsets, b, oy, ox, tile_rows, left < 4 ? left : 4, plane);
    }
  }
}

#endif  // LK_ARM64
