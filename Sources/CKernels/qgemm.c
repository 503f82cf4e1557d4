// int8 GEMM: C[m,n] = A_u8[m,k] · W_s8[n,k]ᵀ with int32 accumulators and a fused output stage.
//
// Layout. W is packed once into panels of 16 output columns. Inside a panel, k is cut into
// groups of 4 and each group stores, for each of the 16 columns, its 4 weights side by side:
//   panel[kk][col][t] = W[16*panel + col][4*kk + t]      (64 bytes per group, zero padded)
// That is exactly one 512-bit vpdpbusd operand: broadcasting A[i][4kk .. 4kk+3] to every
// 32-bit lane and multiplying adds 4 products into each of the 16 column accumulators. The
// 256-bit paths read the same 64 bytes as two halves, and the paths without VNNI widen them
// to int16 pairs as they load them (below). After the panels come the column sums
// wsum[j] = Σ_k W[j,k], which turn the activation zero point into one subtraction:
//   Σ_k (A[i,k] - zp) W[j,k] = acc[i,j] - zp * wsum[j].
//
// Kernels. Every path computes a tile of MR rows × NP panels with all accumulators in
// registers, stores the finished tile to a small buffer, and a per-path "finish" function
// applies the output stage to the buffer (keeps the unrolled tiles small; the k loop dwarfs
// the extra store). Rows go 8 (AVX-512), 6 (AVX2) or 4 (AVX-VNNI) at a time; few rows (m = 1:
// batch-1 latency) use more columns at once instead, so that enough independent
// accumulator chains are in flight.
#include "neon.h"

#include <stdlib.h>
#include <string.h>

enum { PANEL = 16 };
enum { OUT_F32, OUT_U8 };

/// One product, as every path sees it.
typedef struct {
  int m, n, k;
  const uint8_t *a;
  long lda;
  const int8_t *w;      // panels
  const int32_t *wsum;  // [panels * 16]
  int panels, k4;       // k4: groups of 4 in k, rounded up
  int kfull, ktail;     // whole groups, and bytes in the last partial one (0..3)
  int mode;             // OUT_*
  const lk_qoutput *q;
  void *y;
  long ldy, ldy_col;    // y[i*ldy + j*ldy_col]: ldy_col = 1 row-major, else transposed (conv)
} job;

size_t lk_qgemm_pack_size(int n, int k) {
  const size_t panels = (size_t)(n + PANEL - 1) / PANEL;
  const size_t k4 = (size_t)(k + 3) / 4;
  return panels * k4 * 64 + panels * PANEL * sizeof(int32_t);
}

const int32_t *lk_qgemm_packed_sums(const void *packed, int n, int k) {
  const size_t panels = (size_t)(n + PANEL - 1) / PANEL;
  const size_t k4 = (size_t)(k + 3) / 4;
  return (const int32_t *)((const uint8_t *)packed + panels * k4 * 64);
}

void lk_qgemm_pack(const int8_t *w, int n, int k, void *packed) {
  const int panels = (n + PANEL - 1) / PANEL;
  const int k4 = (k + 3) / 4;
  int8_t *dst = packed;
  memset(dst, 0, lk_qgemm_pack_size(n, k));
  int32_t *wsum = (int32_t *)lk_qgemm_packed_sums(packed, n, k);
  for (int j = 0; j < n; j++) {
    const int8_t *row = w + (long)j * k;
    int8_t *col = dst + (long)(j / PANEL) * k4 * 64 + (j % PANEL) * 4;
    int32_t sum = 0;
    for (int p = 0; p < k; p++) {
      col[(long)(p / 4) * 64 + p % 4] = row[p];
      sum += row[p];
    }
    wsum[j] = sum;
  }
  (void)panels;
}

// ---- Shared pieces -------------------------------------------------------------------------

/// Output stage for one accumulator (portable reference of what the SIMD finishers do).
static inline void store_one(const job *g, int i, int j, int32_t acc) {
  const long at = i * g->ldy + j * g->ldy_col;
  const lk_qoutput *q = g->q;
  // Unsigned arithmetic: the true difference fits in int32 even when the two terms wrap.
  const int32_t centered = (int32_t)((uint32_t)acc - (uint32_t)q->a_zero_point * (uint32_t)g->wsum[j]);
  float v = (float)centered * (q->a_scale * q->w_scale[j]);
  if (q->bias) v += q->bias[j];
  if (q->relu && v < 0) v = 0;
  if (g->mode == OUT_F32) {
    ((float *)g->y)[at] = v;
    return;
  }
  float t = v * (1.0f / q->out_scale);
  t = t < -512.0f ? -512.0f : (t > 512.0f ? 512.0f : t);  // beyond ±512 it saturates anyway
  int r = (int)__builtin_lrintf(t) + q->out_zero_point;
  ((uint8_t *)g->y)[at] = (uint8_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
}

/// Applies the output stage to a finished tile buf[r*ldb + c] (rows i0.., columns j0..).
static void finish_portable(const job *g, int i0, int mr, int j0, int cols, const int32_t *buf, int ldb) {
  if (j0 + cols > g->n) cols = g->n - j0;
  for (int r = 0; r < mr; r++)
    for (int c = 0; c < cols; c++) store_one(g, i0 + r, j0 + c, buf[r * ldb + c]);
}

// ---- Portable C ------------------------------------------------------------------------------

/// One row × one panel at a time; plain loops the compiler may vectorise (NEON on aarch64).
static void qgemm_portable(const job *g) {
  for (int i = 0; i < g->m; i++) {
    const uint8_t *arow = g->a + i * g->lda;
    for (int p = 0; p < g->panels; p++) {
      const int8_t *wp = g->w + (long)p * g->k4 * 64;
      int32_t acc[PANEL] = {0};
      for (int kk = 0; kk < g->k4; kk++) {
        uint8_t av[4] = {0, 0, 0, 0};
        const int have = kk < g->kfull ? 4 : g->ktail;
        for (int t = 0; t < have; t++) av[t] = arow[4 * kk + t];
        const int8_t *wk = wp + kk * 64;
        for (int c = 0; c < PANEL; c++)
          acc[c] += av[0] * wk[4 * c] + av[1] * wk[4 * c + 1] + av[2] * wk[4 * c + 2] + av[3] * wk[4 * c + 3];
      }
      finish_portable(g, i, 1, p * PANEL, PANEL, acc, PANEL);
    }
  }
}

#if LK_X86

/// A[i][4kk .. 4kk+3] as one little-endian word (memcpy: A rows need no alignment).
LK_INLINE uint32_t load_group(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/// The last partial group: the `bytes` (1..3) that exist, zeros after (their weights are 0
/// anyway, but A must not be read past its end).
LK_INLINE uint32_t load_tail(const uint8_t *p, int bytes) {
  uint32_t v = p[0];
  if (bytes > 1) v |= (uint32_t)p[1] << 8;
  if (bytes > 2) v |= (uint32_t)p[2] << 16;
  return v;
}

// ---- AVX-512 VNNI ----------------------------------------------------------------------------

enum { MR512 = 8, NP512 = 8, LDB512 = NP512 * PANEL };

/// Output stage on 16 columns at a time (masked at the right edge of n); no VNNI, so the
/// AVX-512 path without it shares it.
LK_AVX512BW static void finish_avx512(const job *g, int i0, int mr, int j0, int cols, const int32_t *buf, int ldb) {
  const lk_qoutput *q = g->q;
  for (int c = 0; c < cols && j0 + c < g->n; c += PANEL) {
    const int j = j0 + c;
    const int valid = g->n - j < PANEL ? g->n - j : PANEL;
    const __mmask16 mask = (__mmask16)((1u << valid) - 1);
    const __m512i zpw = _mm512_mullo_epi32(_mm512_set1_epi32(q->a_zero_point), _mm512_loadu_si512(g->wsum + j));
    const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(q->a_scale), _mm512_maskz_loadu_ps(mask, q->w_scale + j));
    const __m512 bias = q->bias ? _mm512_maskz_loadu_ps(mask, q->bias + j) : _mm512_setzero_ps();
    for (int r = 0; r < mr; r++) {
      const __m512i acc = _mm512_loadu_si512(buf + r * ldb + c);
      const long at = (i0 + r) * g->ldy + j * g->ldy_col;
      __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc, zpw)), scale, bias);
      if (q->relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
      if (g->mode == OUT_F32) {
        if (g->ldy_col == 1) {
          _mm512_mask_storeu_ps((float *)g->y + at, mask, v);
        } else {
          float tmp[PANEL];
          _mm512_storeu_ps(tmp, v);
          for (int t = 0; t < valid; t++) ((float *)g->y)[at + t * g->ldy_col] = tmp[t];
        }
        continue;
      }
      __m512 t = _mm512_mul_ps(v, _mm512_set1_ps(1.0f / q->out_scale));
      t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
      __m512i r8 = _mm512_add_epi32(_mm512_cvtps_epi32(t), _mm512_set1_epi32(q->out_zero_point));
      r8 = _mm512_max_epi32(r8, _mm512_setzero_si512());  // vpmovusdb then saturates at 255
      if (g->ldy_col == 1) {
        _mm512_mask_cvtusepi32_storeu_epi8((uint8_t *)g->y + at, mask, r8);
      } else {
        uint8_t tmp[PANEL];
        _mm_storeu_si128((__m128i *)tmp, _mm512_cvtusepi32_epi8(r8));
        for (int t2 = 0; t2 < valid; t2++) ((uint8_t *)g->y)[at + t2 * g->ldy_col] = tmp[t2];
      }
    }
  }
}

/// MR rows × NP panels; MR and NP are constants after inlining, so acc lives in registers.
LK_AVX512 LK_INLINE void tile_avx512(const job *g, int i0, int MR, int p0, int NP) {
  __m512i acc[MR512][NP512];
  const uint8_t *ar[MR512];
  for (int r = 0; r < MR; r++) ar[r] = g->a + (i0 + r) * g->lda;
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < NP; q++) acc[r][q] = _mm512_setzero_si512();
  const long pstride = (long)g->k4 * 64;
  const int8_t *wp = g->w + p0 * pstride;
  for (int kk = 0; kk < g->kfull; kk++) {
    __m512i b[NP512];
    for (int q = 0; q < NP; q++) b[q] = _mm512_loadu_si512(wp + q * pstride + kk * 64);
    for (int r = 0; r < MR; r++) {
      const __m512i av = _mm512_set1_epi32((int)load_group(ar[r] + 4 * kk));
      for (int q = 0; q < NP; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, b[q]);
    }
  }
  if (g->ktail) {
    const int kk = g->kfull;
    for (int r = 0; r < MR; r++) {
      const __m512i av = _mm512_set1_epi32((int)load_tail(ar[r] + 4 * kk, g->ktail));
      for (int q = 0; q < NP; q++)
        acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, _mm512_loadu_si512(wp + q * pstride + kk * 64));
    }
  }
  int32_t buf[MR512 * LDB512];
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < NP; q++) _mm512_storeu_si512(buf + r * LDB512 + q * PANEL, acc[r][q]);
  finish_avx512(g, i0, MR, p0 * PANEL, NP * PANEL, buf, LDB512);
}

/// All panels for rows [i0, i0+MR), NP at a time, then the 4/2/1 left over.
LK_AVX512 LK_INLINE void rows_avx512(const job *g, int i0, int MR, int NP) {
  int p = 0;
  for (; p + NP <= g->panels; p += NP) tile_avx512(g, i0, MR, p, NP);
  if (NP > 4 && p + 4 <= g->panels) { tile_avx512(g, i0, MR, p, 4); p += 4; }
  if (NP > 2 && p + 2 <= g->panels) { tile_avx512(g, i0, MR, p, 2); p += 2; }
  if (NP > 1 && p < g->panels) tile_avx512(g, i0, MR, p, 1);
}

LK_AVX512 static void qgemm_avx512(const job *g) {
  int i = 0;
  for (; i + 8 <= g->m; i += 8) rows_avx512(g, i, 8, 2);
  switch (g->m - i) {
  case 7: rows_avx512(g, i, 7, 2); break;
  case 6: rows_avx512(g, i, 6, 2); break;
  case 5: rows_avx512(g, i, 5, 2); break;
  case 4: rows_avx512(g, i, 4, 4); break;
  case 3: rows_avx512(g, i, 3, 4); break;
  case 2: rows_avx512(g, i, 2, 4); break;
  case 1: rows_avx512(g, i, 1, 8); break;  // GEMV: 8 independent chains
  default: break;
  }
}

// ---- 256-bit paths (AVX-VNNI and AVX2) --------------------------------------------------------

enum { MR256 = 4, NP256 = 4, LDB256 = NP256 * PANEL };

/// Output stage on 8 columns at a time; shared by the AVX-VNNI and AVX2 kernels.
LK_AVX2 static void finish_avx2(const job *g, int i0, int mr, int j0, int cols, const int32_t *buf, int ldb) {
  const lk_qoutput *q = g->q;
  for (int c = 0; c < cols && j0 + c < g->n; c += 8) {
    const int j = j0 + c;
    if (g->n - j < 8 || g->ldy_col != 1 || g->mode == OUT_U8) {
      // Right edge, transposed output or u8 (no masked byte store before AVX-512): scalar.
      finish_portable(g, i0, mr, j, 8, buf + c, ldb);
      continue;
    }
    // Row-major f32 from here on.
    const __m256i zpw =
        _mm256_mullo_epi32(_mm256_set1_epi32(q->a_zero_point), _mm256_loadu_si256((const __m256i *)(g->wsum + j)));
    const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(q->a_scale), _mm256_loadu_ps(q->w_scale + j));
    const __m256 bias = q->bias ? _mm256_loadu_ps(q->bias + j) : _mm256_setzero_ps();
    for (int r = 0; r < mr; r++) {
      const __m256i acc = _mm256_loadu_si256((const __m256i *)(buf + r * ldb + c));
      const long at = (i0 + r) * g->ldy + j;
      __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc, zpw)), scale, bias);
      if (q->relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
      _mm256_storeu_ps((float *)g->y + at, v);
    }
  }
}

LK_AVXVNNI LK_INLINE void tile_avxvnni(const job *g, int i0, int MR, int p0, int NP) {
  __m256i acc[MR256][2 * NP256];
  const uint8_t *ar[MR256];
  for (int r = 0; r < MR; r++) ar[r] = g->a + (i0 + r) * g->lda;
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < 2 * NP; q++) acc[r][q] = _mm256_setzero_si256();
  const long pstride = (long)g->k4 * 64;
  const int8_t *wp = g->w + p0 * pstride;
  for (int kk = 0; kk < g->k4; kk++) {
    __m256i b[2 * NP256];
    for (int q = 0; q < NP; q++) {
      b[2 * q] = _mm256_loadu_si256((const __m256i *)(wp + q * pstride + kk * 64));
      b[2 * q + 1] = _mm256_loadu_si256((const __m256i *)(wp + q * pstride + kk * 64 + 32));
    }
    for (int r = 0; r < MR; r++) {
      const uint32_t word = kk < g->kfull ? load_group(ar[r] + 4 * kk) : load_tail(ar[r] + 4 * kk, g->ktail);
      const __m256i av = _mm256_set1_epi32((int)word);
      for (int q = 0; q < 2 * NP; q++) acc[r][q] = _mm256_dpbusd_avx_epi32(acc[r][q], av, b[q]);
    }
  }
  int32_t buf[MR256 * LDB256];
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < 2 * NP; q++) _mm256_storeu_si256((__m256i *)(buf + r * LDB256 + q * 8), acc[r][q]);
  finish_avx2(g, i0, MR, p0 * PANEL, NP * PANEL, buf, LDB256);
}

LK_AVXVNNI LK_INLINE void rows_avxvnni(const job *g, int i0, int MR, int NP) {
  int p = 0;
  for (; p + NP <= g->panels; p += NP) tile_avxvnni(g, i0, MR, p, NP);
  if (NP > 2 && p + 2 <= g->panels) { tile_avxvnni(g, i0, MR, p, 2); p += 2; }
  if (NP > 1 && p < g->panels) tile_avxvnni(g, i0, MR, p, 1);
}

LK_AVXVNNI static void qgemm_avxvnni(const job *g) {
  int i = 0;
  for (; i + 4 <= g->m; i += 4) rows_avxvnni(g, i, 4, 1);
  switch (g->m - i) {
  case 3: rows_avxvnni(g, i, 3, 1); break;
  case 2: rows_avxvnni(g, i, 2, 2); break;
  case 1: rows_avxvnni(g, i, 1, 4); break;
  default: break;
  }
}

// ---- AVX2 and AVX-512 without VNNI: int16 pairs through vpmaddwd ----------------------------
//
// Exactness. Without VNNI no instruction adds four u8×s8 products exactly: vpmaddubsw adds
// two into a saturating int16, and 255·127 + 255·127 (or 255·-128 twice) does not fit.
// oneDNN uses it with the weights halved to 7 bits so that a pair cannot saturate (ONNX
// Runtime's quantizer offers the same, reduce_range): twice the rounding error of 8-bit
// weights. Without the limit the pairs do saturate: on the int8 LeNet-5 that cost ONNX
// Runtime's MLAS kernels 0.5 points of accuracy (docs/onnx.md). Lathe's weights use all of
// -128..127 and every path must give the same int32 sums, so these paths widen both
// operands to int16 and multiply pairs with vpmaddwd, which is exact (each 32-bit lane gets
// a0·w0 + a1·w1, at most 65280 in magnitude) and as accurate as the VNNI paths. Cost: one
// vpmaddwd and one vpaddd per 16 multiply-adds (256-bit) where fp32 needs two FMAs.
// vpmaddwd issues twice per cycle (Zen, Skylake), so the bound is twice the FMA rate, less
// the vpaddd sharing the vector ports: measured on one Zen 4 core (AVX2 forced,
// 256×300×784), 1.45x OpenBLAS's fp32 SGEMM, where vpdpbusd (VNNI) reaches 3.9x.
//
// Memory. The weights stay in the one packed form every path reads (1 byte per weight plus
// 4 bytes per column sum): one vpmovsxbw from memory turns 16 packed bytes (4 columns × 4 k)
// into 8 int16 pairs, lane 2c + h holding column c's k pair h, so a register of
// accumulators holds 4 columns as pairs, summed once per tile (vphaddd). The activations are
// widened once per block of rows into a small buffer (int16, k rounded up to 4 with zeros),
// so a row's 4 values of a k group are one vpbroadcastq from memory, no ALU work. A 256-bit
// tile of 6 rows × 8 columns keeps 12 accumulators, 2 weight and 1 activation register of
// the 16: per k group, 2 widenings serve 12 vpmaddwd. AVX-512 widens 32 bytes (8 columns)
// per vpmovsxbw and, with 32 registers, runs 8 rows × 16 columns.

enum { KSTACK = 2048 };  // k widened on the stack up to this; a heap buffer beyond

/// Rows [i0, i0+mr) of A as int16, k rounded up to 4 with zeros: dst[r * k4*4 + p].
LK_AVX2 LK_INLINE void widen_rows(const job *g, int i0, int mr, int16_t *dst) {
  const int kp = g->k4 * 4;
  for (int r = 0; r < mr; r++) {
    const uint8_t *src = g->a + (i0 + r) * g->lda;
    int16_t *d = dst + (long)r * kp;
    int p = 0;
    for (; p + 16 <= g->k; p += 16)
      _mm256_storeu_si256((__m256i *)(d + p), _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + p))));
    for (; p < g->k; p++) d[p] = src[p];
    for (; p < kp; p++) d[p] = 0;
  }
}

/// Row r's 4 widened values of group kk, as one 64-bit word.
LK_INLINE int64_t a_group(const int16_t *a16, int kp, int r, int kk) {
  int64_t v;
  memcpy(&v, a16 + (long)r * kp + 4 * kk, 8);
  return v;
}

/// Runs rows(g, a16, i0, mr) over blocks of `block` rows, each widened first; the buffer is
/// on the stack up to KSTACK, else on the heap (or, when that fails, the portable path runs).
#define LK_QGEMM_INT16_ROWS(NAME, ATTR, ROWS, BLOCK)                                             \
  ATTR static void NAME(const job *g) {                                                         \
    const int kp = g->k4 * 4;                                                                   \
    int16_t stack[BLOCK * KSTACK];                                                              \
    int16_t *a16 = kp <= KSTACK ? stack : malloc(sizeof(int16_t) * BLOCK * (size_t)kp);         \
    if (!a16) {                                                                                 \
      qgemm_portable(g);                                                                        \
      return;                                                                                   \
    }                                                                                           \
    for (int i = 0; i < g->m; i += BLOCK) {                                                     \
      const int mr = g->m - i < BLOCK ? g->m - i : BLOCK;                                       \
      widen_rows(g, i, mr, a16);                                                                \
      ROWS(g, a16, i, mr);                                                                      \
    }                                                                                           \
    if (a16 != stack) free(a16);                                                                \
  }

enum { MRW = 6, NHW = 4, LDBW = NHW * 8 };

/// MR rows × NH·8 columns starting at half-panel h0 (columns 8·h0 ..): half-panel h is
/// bytes 32·(h%2) .. of each 64-byte group of panel h/2.
LK_AVX2 LK_INLINE void tile_avx2(const job *g, const int16_t *a16, int i0, int MR, int h0, int NH) {
  __m256i acc[MRW][2 * NHW];  // [row][columns 4q .. 4q+3 as pairs]
  const int8_t *wh[NHW];
  for (int h = 0; h < NH; h++) wh[h] = g->w + (long)((h0 + h) / 2) * g->k4 * 64 + (h0 + h) % 2 * 32;
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < 2 * NH; q++) acc[r][q] = _mm256_setzero_si256();
  const int kp = g->k4 * 4;
  for (int kk = 0; kk < g->k4; kk++) {
    __m256i b[2 * NHW];
    for (int q = 0; q < 2 * NH; q++)
      b[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wh[q / 2] + kk * 64 + 16 * (q % 2))));
    for (int r = 0; r < MR; r++) {
      const __m256i av = _mm256_set1_epi64x(a_group(a16, kp, r, kk));  // a0 a1 a2 a3, repeated
      for (int q = 0; q < 2 * NH; q++) acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(av, b[q]));
    }
  }
  int32_t buf[MRW * LDBW];
  for (int r = 0; r < MR; r++) {
    for (int q = 0; q < NH; q++) {
      // hadd gives [c0 c1 c4 c5 | c2 c3 c6 c7] in 64-bit pairs; the permute restores order.
      const __m256i sums = _mm256_hadd_epi32(acc[r][2 * q], acc[r][2 * q + 1]);
      _mm256_storeu_si256((__m256i *)(buf + r * LDBW + 8 * q), _mm256_permute4x64_epi64(sums, 0xD8));
    }
  }
  finish_avx2(g, i0, MR, h0 * 8, NH * 8, buf, LDBW);
}

/// Every column of rows [i0, i0+MR): NH half-panels at a time, then fewer.
LK_AVX2 LK_INLINE void columns_avx2(const job *g, const int16_t *a16, int i0, int MR, int NH) {
  const int halves = (g->n + 7) / 8;
  int h = 0;
  for (; h + NH <= halves; h += NH) tile_avx2(g, a16, i0, MR, h, NH);
  if (NH > 2 && h + 2 <= halves) { tile_avx2(g, a16, i0, MR, h, 2); h += 2; }
  if (NH > 1 && h < halves) tile_avx2(g, a16, i0, MR, h, 1);
}

/// Few rows take more columns at once, so that enough independent chains are in flight.
LK_AVX2 static void rows_avx2(const job *g, const int16_t *a16, int i0, int mr) {
  switch (mr) {
  case 6: columns_avx2(g, a16, i0, 6, 1); break;
  case 5: columns_avx2(g, a16, i0, 5, 1); break;
  case 4: columns_avx2(g, a16, i0, 4, 1); break;
  case 3: columns_avx2(g, a16, i0, 3, 1); break;
  case 2: columns_avx2(g, a16, i0, 2, 2); break;
  default: columns_avx2(g, a16, i0, 1, 4); break;  // GEMV: 32 columns, 8 chains
  }
}

LK_QGEMM_INT16_ROWS(qgemm_avx2, LK_AVX2, rows_avx2, MRW)

enum { MRB = 8, NPB = 4, LDBB = NPB * PANEL };

/// MR rows × NP panels: each panel's group is two 512-bit registers of 8 columns as pairs,
/// summed by pairs at the end (even lanes plus odd lanes of the two, in column order).
LK_AVX512BW LK_INLINE void tile_avx512bw(const job *g, const int16_t *a16, int i0, int MR, int p0, int NP) {
  __m512i acc[MRB][2 * NPB];  // [row][columns 8q .. 8q+7 as pairs]
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < 2 * NP; q++) acc[r][q] = _mm512_setzero_si512();
  const long pstride = (long)g->k4 * 64;
  const int8_t *wp = g->w + p0 * pstride;
  const int kp = g->k4 * 4;
  for (int kk = 0; kk < g->k4; kk++) {
    __m512i b[2 * NPB];
    for (int q = 0; q < 2 * NP; q++)
      b[q] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(wp + q / 2 * pstride + kk * 64 + 32 * (q % 2))));
    for (int r = 0; r < MR; r++) {
      const __m512i av = _mm512_set1_epi64(a_group(a16, kp, r, kk));
      for (int q = 0; q < 2 * NP; q++) acc[r][q] = _mm512_add_epi32(acc[r][q], _mm512_madd_epi16(av, b[q]));
    }
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  int32_t buf[MRB * LDBB];
  for (int r = 0; r < MR; r++) {
    for (int q = 0; q < NP; q++) {
      const __m512i lo = acc[r][2 * q], hi = acc[r][2 * q + 1];
      const __m512i sums =
          _mm512_add_epi32(_mm512_permutex2var_epi32(lo, even, hi), _mm512_permutex2var_epi32(lo, odd, hi));
      _mm512_storeu_si512(buf + r * LDBB + q * PANEL, sums);
    }
  }
  finish_avx512(g, i0, MR, p0 * PANEL, NP * PANEL, buf, LDBB);
}

LK_AVX512BW LK_INLINE void panels_avx512bw(const job *g, const int16_t *a16, int i0, int MR, int NP) {
  int p = 0;
  for (; p + NP <= g->panels; p += NP) tile_avx512bw(g, a16, i0, MR, p, NP);
  if (NP > 2 && p + 2 <= g->panels) { tile_avx512bw(g, a16, i0, MR, p, 2); p += 2; }
  if (NP > 1 && p < g->panels) tile_avx512bw(g, a16, i0, MR, p, 1);
}

LK_AVX512BW static void rows_avx512bw(const job *g, const int16_t *a16, int i0, int mr) {
  switch (mr) {
  case 8: panels_avx512bw(g, a16, i0, 8, 1); break;
  case 7: panels_avx512bw(g, a16, i0, 7, 1); break;
  case 6: panels_avx512bw(g, a16, i0, 6, 1); break;
  case 5: panels_avx512bw(g, a16, i0, 5, 1); break;
  case 4: panels_avx512bw(g, a16, i0, 4, 2); break;
  case 3: panels_avx512bw(g, a16, i0, 3, 2); break;
  case 2: panels_avx512bw(g, a16, i0, 2, 4); break;
  default: panels_avx512bw(g, a16, i0, 1, 4); break;  // GEMV: 64 columns, 8 chains
  }
}

LK_QGEMM_INT16_ROWS(qgemm_avx512bw, LK_AVX512BW, rows_avx512bw, MRB)

#endif  // LK_X86

#if LK_ARM64
/// neon_qgemm.c, with dot products or without.
static void qgemm_neon(const job *g, int dot) {
  lk_qgemm_neon(dot, g->m, g->n, g->k, g->a, g->lda, g->w, g->q, g->mode == OUT_F32 ? g->y : NULL,
                g->mode == OUT_U8 ? g->y : NULL, g->ldy, g->ldy_col);
}
#endif

// ---- Entry points ------------------------------------------------------------------------------

static void run(job *g, int m, int n, int k, const uint8_t *a, int lda, const void *packed) {
  g->m = m;
  g->n = n;
  g->k = k;
  g->a = a;
  g->lda = lda;
  g->w = packed;
  g->wsum = lk_qgemm_packed_sums(packed, n, k);
  g->panels = (n + PANEL - 1) / PANEL;
  g->k4 = (k + 3) / 4;
  g->kfull = k / 4;
  g->ktail = k % 4;
  if (m <= 0 || n <= 0) return;
  switch (lk_isa_current()) {
#if LK_X86
  case LK_ISA_AVX512VNNI: qgemm_avx512(g); return;
  case LK_ISA_AVXVNNI: qgemm_avxvnni(g); return;
  case LK_ISA_AVX512: qgemm_avx512bw(g); return;
  case LK_ISA_AVX2: qgemm_avx2(g); return;
#endif
#if LK_ARM64
  case LK_ISA_NEON_DOT: qgemm_neon(g, 1); return;
  case LK_ISA_NEON: qgemm_neon(g, 0); return;
#endif
  default: qgemm_portable(g); return;
  }
}

void lk_qgemm_f32(int m, int n, int k, const uint8_t *a, int lda, const void *packed, const lk_qoutput *out,
                  float *y, int ldy) {
  job g = {.mode = OUT_F32, .q = out, .y = y, .ldy = ldy, .ldy_col = 1};
  run(&g, m, n, k, a, lda, packed);
}

/// Convolution output: GEMM row p (a pixel) and column o (a channel) land at y[o*P + p].
void lk_qgemm_nchw(int m, int n, int k, const uint8_t *a, int lda, const void *packed, const lk_qoutput *out,
                   float *y_f32, uint8_t *y_u8) {
  job g = {.mode = y_f32 ? OUT_F32 : OUT_U8, .q = out, .ldy = 1, .ldy_col = m};
  g.y = y_f32 ? (void *)y_f32 : (void *)y_u8;
  run(&g, m, n, k, a, lda, packed);
}
