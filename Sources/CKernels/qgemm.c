// int8 GEMM: C[m,n] = A_u8[m,k] · W_s8[n,k]ᵀ with int32 accumulators and a fused output stage.
//
// Layout. W is packed once into panels of 16 output columns. Inside a panel, k is cut into
// groups of 4 and each group stores, for each of the 16 columns, its 4 weights side by side:
//   panel[kk][col][t] = W[16*panel + col][4*kk + t]      (64 bytes per group, zero padded)
// That is exactly one 512-bit vpdpbusd operand: broadcasting A[i][4kk .. 4kk+3] to every
// 32-bit lane and multiplying adds 4 products into each of the 16 column accumulators. The
// 256-bit paths read the same 64 bytes as two halves. After the panels come the column sums
// wsum[j] = Σ_k W[j,k], which turn the activation zero point into one subtraction:
//   Σ_k (A[i,k] - zp) W[j,k] = acc[i,j] - zp * wsum[j].
//
// Kernels. Every path computes a tile of MR rows × NP panels with all accumulators in
// registers, stores the finished tile to a small buffer, and a per-path "finish" function
// applies the output stage to the buffer (keeps the unrolled tiles small; the k loop dwarfs
// the extra store). Rows go 8 (AVX-512) or 4/2 at a time; few rows (m = 1: batch-1 latency)
// use more panels at once instead, so that enough independent vpdpbusd chains are in flight.
#include "neon.h"

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

/// Output stage on 16 columns at a time (masked at the right edge of n).
LK_AVX512 static void finish_avx512(const job *g, int i0, int mr, int j0, int cols, const int32_t *buf, int ldb) {
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

/// AVX2 has no u8×s8 dot product that is exact: vpmaddubsw adds two u8×s8 products into a
/// saturating int16 (255·127·2 overflows it). So weights are sign-extended to int16 and
/// vpmaddwd adds pairs into int32 exactly. Each accumulator holds pairs (lanes 2c, 2c+1 are
/// the two halves of column c's sum), folded together once at the end.
LK_AVX2 LK_INLINE void tile_avx2(const job *g, int i0, int MR, int p0) {
  __m256i acc[2][4];  // [row][columns 4q .. 4q+3, as pairs]
  const uint8_t *ar[2];
  for (int r = 0; r < MR; r++) ar[r] = g->a + (i0 + r) * g->lda;
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < 4; q++) acc[r][q] = _mm256_setzero_si256();
  const int8_t *wp = g->w + (long)p0 * g->k4 * 64;
  for (int kk = 0; kk < g->k4; kk++) {
    __m256i b[4];
    for (int q = 0; q < 4; q++) b[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wp + kk * 64 + 16 * q)));
    for (int r = 0; r < MR; r++) {
      const uint32_t word = kk < g->kfull ? load_group(ar[r] + 4 * kk) : load_tail(ar[r] + 4 * kk, g->ktail);
      // a0 a1 a2 a3 as int16, repeated: lines up with each column's 4 weights.
      const __m256i av = _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)word)));
      for (int q = 0; q < 4; q++) acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(av, b[q]));
    }
  }
  int32_t buf[2 * PANEL];
  for (int r = 0; r < MR; r++) {
    for (int h = 0; h < 2; h++) {
      // hadd gives [c0 c1 c4 c5 | c2 c3 c6 c7] in 64-bit pairs; the permute restores order.
      const __m256i sums = _mm256_hadd_epi32(acc[r][2 * h], acc[r][2 * h + 1]);
      _mm256_storeu_si256((__m256i *)(buf + r * PANEL + 8 * h), _mm256_permute4x64_epi64(sums, 0xD8));
    }
  }
  finish_avx2(g, i0, MR, p0 * PANEL, PANEL, buf, PANEL);
}

LK_AVX2 static void qgemm_avx2(const job *g) {
  int i = 0;
  for (; i + 2 <= g->m; i += 2)
    for (int p = 0; p < g->panels; p++) tile_avx2(g, i, 2, p);
  if (i < g->m)
    for (int p = 0; p < g->panels; p++) tile_avx2(g, i, 1, p);
}

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
  case LK_ISA_AVX512:  // until it has its own: the AVX2 path
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
