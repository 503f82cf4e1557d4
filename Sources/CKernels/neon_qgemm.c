// int8 GEMM on aarch64: qgemm.c's product (same packed weights, same output stage) in NEON,
// in two builds chosen at run time.
//
// Signs. A is u8 and W is s8, but NEON multiplies s8 by s8 (SDOT, SMULL) or u8 by u8 (UDOT,
// UMULL); the mixed USDOT needs the i8mm extension, which Graviton 2, the Pi 5's Cortex-A76
// and Apple M1 lack. So both builds read A as s8, a' = a - 128 (the top bit flipped: one EOR
// per 16 bytes of an A row, shared by every column), and give back the term that drops out
// from the column sums the packed weight already stores:
//   Σ_k a·w = Σ_k a'·w + 128·wsum[j]
// exact in int32 (both sides wrap alike), so the accumulators equal the portable path's bit
// for bit; the 128·wsum[j] is folded into the zero-point subtraction of the output stage. The
// other exact choice, UDOT with W + 128, would flip every weight vector (the operand that
// streams; A's group is broadcast) and need a correction 128·Σ_k A[i,k] for every row of
// every call.
//
// Dot products (LK_ISA_NEON_DOT). A panel's group kk is [16 columns][4 k] bytes: four
// registers of four columns. SDOT against A's 4 bytes of that group broadcast (vdotq_laneq_s32
// picks them out of a 16-byte load of the row, which holds 4 groups) adds 4 products to each
// column's int32 lane: 16 multiply-adds per instruction.
//
// Plain NEON (LK_ISA_NEON: ARMv8.0, Cortex-A53/A72, Raspberry Pi 3/4, Graviton 1). SMULL
// multiplies 8 bytes by 8 into int16 (each a'·w in [-16256, 16384]: exact) and SADALP adds
// neighbouring pairs into int32. Products are not summed in int16 first (SMLAL): two
// -128·-128 make 32768, one past int16. Each accumulator holds two half sums of two columns,
// folded at the end (ADDP). That is 4 multiply-adds per instruction, as fp32 FMA: without dot
// products int8 saves memory traffic, not arithmetic.
//
// Tiles keep 16 accumulator registers busy: dot 4 rows × 1 panel, 2 × 2 or 1 × 4 (a GEMV
// needs several independent panels to hide SDOT's latency); plain 2 × 1 or 1 × 2 (a panel row
// takes 8 pair accumulators). Finished tiles go through a small buffer to one output stage.
#include "neon.h"

#include <string.h>

#if LK_ARM64

enum { PANEL = 16 };

/// One product, as both builds see it.
typedef struct {
  int m, n, k;
  const uint8_t *a;
  long lda;
  const int8_t *w;      // panels of [k4][16][4] bytes
  const int32_t *wsum;  // [panels * 16]
  long pstride;         // bytes per panel: k4 * 64
  int panels, k4;
  const lk_qoutput *q;
  float *yf;            // f32 output, or NULL for u8 into yu
  uint8_t *yu;
  long ldy, ldy_col;    // y[i*ldy + j*ldy_col]
} neon_job;

/// 16 bytes of an A row as s8 a - 128.
LK_INLINE int8x16_t load_a(const uint8_t *p) { return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p), vdupq_n_u8(0x80))); }

/// The last `bytes` (< 16) of an A row, zeros after them: those read as -128 but meet the zero
/// weights that pad the packed panel, and nothing past the row is read.
LK_INLINE int8x16_t load_a_tail(const uint8_t *p, int bytes) {
  uint8_t t[16] = {0};
  memcpy(t, p, (size_t)bytes);
  return load_a(t);
}

// ---- Output stage ------------------------------------------------------------------------------

/// Writes 4 outputs of row i from column j (`valid` of them exist) in f32 or u8.
static void store4(const neon_job *g, int i, int j, int valid, float32x4_t v) {
  const long at = i * g->ldy + j * g->ldy_col;
  if (g->yf) {
    if (valid == 4 && g->ldy_col == 1) {
      vst1q_f32(g->yf + at, v);
      return;
    }
    float t[4];
    vst1q_f32(t, v);
    for (int c = 0; c < valid; c++) g->yf[at + c * g->ldy_col] = t[c];
    return;
  }
  // As qgemm.c's store_one: times 1/out_scale, clamped to ±512, rounded to nearest even (FCVTNS).
  float32x4_t t = vmulq_f32(v, vdupq_n_f32(1.0f / g->q->out_scale));
  t = vminq_f32(vmaxq_f32(t, vdupq_n_f32(-512.0f)), vdupq_n_f32(512.0f));
  int32x4_t r = vaddq_s32(vcvtnq_s32_f32(t), vdupq_n_s32(g->q->out_zero_point));
  r = vminq_s32(vmaxq_s32(r, vdupq_n_s32(0)), vdupq_n_s32(255));
  int32_t b[4];
  vst1q_s32(b, r);
  for (int c = 0; c < valid; c++) g->yu[at + c * g->ldy_col] = (uint8_t)b[c];
}

/// The output stage on a finished tile buf[r*cols + c] (rows i0.., columns j0..), whose sums
/// are of a'·w: the 128·wsum they lack joins the zero-point term, (zp - 128)·wsum.
static void finish(const neon_job *g, int i0, int rows, int j0, int cols, const int32_t *buf) {
  const lk_qoutput *q = g->q;
  for (int c = 0; c < cols && j0 + c < g->n; c += 4) {
    const int j = j0 + c, valid = g->n - j < 4 ? g->n - j : 4;
    int32_t shift[4] = {0};
    float scale[4] = {0}, bias[4] = {0};
    for (int t = 0; t < valid; t++) {
      // Wrapping, as in the portable path: the true difference fits in int32.
      shift[t] = (int32_t)((uint32_t)(q->a_zero_point - 128) * (uint32_t)g->wsum[j + t]);
      scale[t] = q->a_scale * q->w_scale[j + t];
      bias[t] = q->bias ? q->bias[j + t] : 0.0f;
    }
    const int32x4_t vshift = vld1q_s32(shift);
    const float32x4_t vscale = vld1q_f32(scale), vbias = vld1q_f32(bias);
    for (int r = 0; r < rows; r++) {
      // Multiply, then add: the portable stage's two roundings, so u8 outputs round the same.
      float32x4_t v = vmulq_f32(vcvtq_f32_s32(vsubq_s32(vld1q_s32(buf + r * cols + c), vshift)), vscale);
      if (q->bias) v = vaddq_f32(v, vbias);
      if (q->relu) v = vmaxq_f32(v, vdupq_n_f32(0.0f));
      store4(g, i0 + r, j, valid, v);
    }
  }
}

// ---- Dot products (ARMv8.2 dotprod) -------------------------------------------------------------

/// acc + SDOT of w with the group in lane `lane` of a; lane is a constant after inlining, so
/// the switch folds away.
LK_NEON_DOT LK_INLINE int32x4_t dot_lane(int32x4_t acc, int8x16_t w, int8x16_t a, int lane) {
  switch (lane) {
  case 0: return vdotq_laneq_s32(acc, w, a, 0);
  case 1: return vdotq_laneq_s32(acc, w, a, 1);
  case 2: return vdotq_laneq_s32(acc, w, a, 2);
  default: return vdotq_laneq_s32(acc, w, a, 3);
  }
}

/// Groups kk..kk+groups-1 (groups <= 4, A's bytes of them in a[r]) into acc.
LK_NEON_DOT LK_INLINE void dot_groups(const neon_job *g, int32x4_t acc[4][16], const int8x16_t a[4],
                                      const int8_t *wp, int kk, int groups, int MR, int NP) {
  for (int lane = 0; lane < groups; lane++)
    for (int p = 0; p < NP; p++)
      for (int v = 0; v < 4; v++) {
        const int8x16_t wv = vld1q_s8(wp + p * g->pstride + (long)(kk + lane) * 64 + 16 * v);
        for (int r = 0; r < MR; r++) acc[r][4 * p + v] = dot_lane(acc[r][4 * p + v], wv, a[r], lane);
      }
}

/// MR rows × NP panels (MR·NP <= 4), constants after inlining so acc stays in registers.
LK_NEON_DOT LK_INLINE void tile_dot(const neon_job *g, int i0, int MR, int p0, int NP) {
  int32x4_t acc[4][16];  // [row][panel * 4 + column quad]
  const uint8_t *ar[4];
  for (int r = 0; r < MR; r++) {
    ar[r] = g->a + (i0 + r) * g->lda;
    for (int c = 0; c < 4 * NP; c++) acc[r][c] = vdupq_n_s32(0);
  }
  const int8_t *wp = g->w + p0 * g->pstride;
  int8x16_t a[4];
  // 4 groups (16 bytes of each A row) per step, then the 1-4 groups left.
  int kk = 0;
  for (; 4 * kk + 16 <= g->k; kk += 4) {
    for (int r = 0; r < MR; r++) a[r] = load_a(ar[r] + 4 * kk);
    dot_groups(g, acc, a, wp, kk, 4, MR, NP);
  }
  if (kk < g->k4) {
    for (int r = 0; r < MR; r++) a[r] = load_a_tail(ar[r] + 4 * kk, g->k - 4 * kk);
    dot_groups(g, acc, a, wp, kk, g->k4 - kk, MR, NP);
  }
  int32_t buf[4 * 4 * PANEL];
  const int cols = NP * PANEL;
  for (int r = 0; r < MR; r++)
    for (int c = 0; c < 4 * NP; c++) vst1q_s32(buf + r * cols + 4 * c, acc[r][c]);
  finish(g, i0, MR, p0 * PANEL, cols, buf);
}

/// All panels for rows [i0, i0+MR), NP at a time, then 2 and 1.
LK_NEON_DOT LK_INLINE void rows_dot(const neon_job *g, int i0, int MR, int NP) {
  int p = 0;
  for (; p + NP <= g->panels; p += NP) tile_dot(g, i0, MR, p, NP);
  if (NP > 2 && p + 2 <= g->panels) {
    tile_dot(g, i0, MR, p, 2);
    p += 2;
  }
  if (NP > 1 && p < g->panels) tile_dot(g, i0, MR, p, 1);
}

LK_NEON_DOT static void qgemm_dot(const neon_job *g) {
  int i = 0;
  for (; i + 4 <= g->m; i += 4) rows_dot(g, i, 4, 1);
  switch (g->m - i) {
  case 3: rows_dot(g, i, 3, 1); break;
  case 2: rows_dot(g, i, 2, 2); break;
  case 1: rows_dot(g, i, 1, 4); break;  // GEMV: 4 panels of independent chains
  default: break;
  }
}

// ---- Plain NEON (ARMv8.0) ------------------------------------------------------------------------

/// The group in lane `lane` of a, in every lane (a constant lane after inlining).
LK_INLINE int8x16_t broadcast_group(int8x16_t a, int lane) {
  const int32x4_t words = vreinterpretq_s32_s8(a);
  switch (lane) {
  case 0: return vreinterpretq_s8_s32(vdupq_laneq_s32(words, 0));
  case 1: return vreinterpretq_s8_s32(vdupq_laneq_s32(words, 1));
  case 2: return vreinterpretq_s8_s32(vdupq_laneq_s32(words, 2));
  default: return vreinterpretq_s8_s32(vdupq_laneq_s32(words, 3));
  }
}

/// Groups kk..kk+groups-1 (groups <= 4, A's bytes of them in a[r]) into the pair sums.
LK_INLINE void plain_groups(const neon_job *g, int32x4_t acc[2][16], const int8x16_t a[2], const int8_t *wp, int kk,
                            int groups, int MR, int NP) {
  for (int lane = 0; lane < groups; lane++)
    for (int p = 0; p < NP; p++)
      for (int v = 0; v < 4; v++) {
        const int8x16_t wv = vld1q_s8(wp + p * g->pstride + (long)(kk + lane) * 64 + 16 * v);
        for (int r = 0; r < MR; r++) {
          const int8x16_t ab = broadcast_group(a[r], lane);
          int32x4_t *pair = &acc[r][8 * p + 2 * v];
          pair[0] = vpadalq_s16(pair[0], vmull_s8(vget_low_s8(wv), vget_low_s8(ab)));
          pair[1] = vpadalq_s16(pair[1], vmull_high_s8(wv, ab));
        }
      }
}

/// MR rows × NP panels (MR·NP <= 2). acc[r][8p + 2v] holds columns 4v, 4v+1 of panel p as
/// half sums (products of k ≡ 0,1 and k ≡ 2,3 mod 4), acc[r][8p + 2v + 1] columns 4v+2, 4v+3.
LK_INLINE void tile_plain(const neon_job *g, int i0, int MR, int p0, int NP) {
  int32x4_t acc[2][16];
  const uint8_t *ar[2];
  for (int r = 0; r < MR; r++) {
    ar[r] = g->a + (i0 + r) * g->lda;
    for (int c = 0; c < 8 * NP; c++) acc[r][c] = vdupq_n_s32(0);
  }
  const int8_t *wp = g->w + p0 * g->pstride;
  int8x16_t a[2];
  int kk = 0;
  for (; 4 * kk + 16 <= g->k; kk += 4) {
    for (int r = 0; r < MR; r++) a[r] = load_a(ar[r] + 4 * kk);
    plain_groups(g, acc, a, wp, kk, 4, MR, NP);
  }
  if (kk < g->k4) {
    for (int r = 0; r < MR; r++) a[r] = load_a_tail(ar[r] + 4 * kk, g->k - 4 * kk);
    plain_groups(g, acc, a, wp, kk, g->k4 - kk, MR, NP);
  }
  int32_t buf[2 * 2 * PANEL];
  const int cols = NP * PANEL;
  for (int r = 0; r < MR; r++)
    for (int c = 0; c < 4 * NP; c++) vst1q_s32(buf + r * cols + 4 * c, vpaddq_s32(acc[r][2 * c], acc[r][2 * c + 1]));
  finish(g, i0, MR, p0 * PANEL, cols, buf);
}

static void qgemm_plain(const neon_job *g) {
  int i = 0;
  for (; i + 2 <= g->m; i += 2)
    for (int p = 0; p < g->panels; p++) tile_plain(g, i, 2, p, 1);
  if (i == g->m) return;
  int p = 0;
  for (; p + 2 <= g->panels; p += 2) tile_plain(g, i, 1, p, 2);
  if (p < g->panels) tile_plain(g, i, 1, p, 1);
}

void lk_qgemm_neon(int dot, int m, int n, int k, const uint8_t *a, long lda, const void *packed,
                   const lk_qoutput *out, float *y_f32, uint8_t *y_u8, long ldy, long ldy_col) {
  const int k4 = (k + 3) / 4;
  const neon_job g = {
      .m = m, .n = n, .k = k, .a = a, .lda = lda, .w = packed, .wsum = lk_qgemm_packed_sums(packed, n, k),
      .pstride = (long)k4 * 64, .panels = (n + PANEL - 1) / PANEL, .k4 = k4, .q = out, .yf = y_f32, .yu = y_u8,
      .ldy = ldy, .ldy_col = ldy_col};
  if (dot)
    qgemm_dot(&g);
  else
    qgemm_plain(&g);
}

#endif  // LK_ARM64
