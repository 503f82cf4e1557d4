// 2:4 semi-structured sparse fp32 products for few rows: y[m, n] = x[m, k] · Wᵀ + bias, where
// every block of 4 consecutive inputs of every output row of W keeps at most 2 weights (the
// pattern Wanda/SparseGPT "2:4" leave, NVIDIA's sparse tensor core format).
//
// Why it can beat the dense product at batch 1: the dense packed product (packed_gemm.c) reads
// all n·k weights once per call, and at batch 1 reading them is the cost. Here only the kept
// half is stored, plus 4 bits of positions per block (p0 | p1 << 2): 0.53 of the dense bytes,
// and half the multiply-adds. What remains is selecting, for each output, the two inputs of
// its block; positions are 0..3 inside a block, so one block of x broadcast to every 128-bit
// lane of a register and vpermilps (which reads only the low 2 bits of each 32-bit index, per
// 128-bit lane) pick each output's input with no gather. The position words need no decoding
// beyond a right shift: vpermilps ignores the higher bits.
//
// Packed layout (lk_sp24_pack, one for every ISA path): groups of 16 outputs (zero-padded past
// n); each group is a run of chunks of 8 blocks (32 inputs, zero-padded past k); a chunk is
//   uint32 word[16]    output j's 8 position nibbles, block t at bits 4t..4t+3
//   float  v[8][2][16] block t, slot s (the input at p_s), output j
// = 1088 bytes. AVX-512 takes a group as one zmm, AVX2 as two ymm halves, NEON as four q
// registers (TBL selects bytes from the block instead of vpermilps).
#include "neon.h"

#include <string.h>

enum { GROUP = 16, BLOCKS = 8, CHUNK_FLOATS = GROUP + BLOCKS * 2 * GROUP };

static int chunks_of(int k) { return (k / 4 + BLOCKS - 1) / BLOCKS; }

long lk_sp24_packed_bytes(int n, int k) {
  return (long)((n + GROUP - 1) / GROUP) * chunks_of(k) * CHUNK_FLOATS * (long)sizeof(float);
}

void lk_sp24_pack(int n, int k, const float *values, const uint8_t *positions, void *packed) {
  const int groups = (n + GROUP - 1) / GROUP, chunks = chunks_of(k), blocks = k / 4;
  float *out = packed;
  memset(out, 0, (size_t)lk_sp24_packed_bytes(n, k));
  for (int g = 0; g < groups; g++)
    for (int c = 0; c < chunks; c++) {
      float *chunk = out + ((long)g * chunks + c) * CHUNK_FLOATS;
      uint32_t words[GROUP] = {0};
      for (int j = 0; j < GROUP; j++) {
        const int row = g * GROUP + j;
        if (row >= n) continue;
        for (int t = 0; t < BLOCKS && c * BLOCKS + t < blocks; t++) {
          const long b = (long)c * BLOCKS + t;
          words[j] |= (uint32_t)(positions[(long)row * blocks + b] & 15) << (4 * t);
          chunk[GROUP + (t * 2 + 0) * GROUP + j] = values[(long)row * (k / 2) + 2 * b];
          chunk[GROUP + (t * 2 + 1) * GROUP + j] = values[(long)row * (k / 2) + 2 * b + 1];
        }
      }
      memcpy(chunk, words, sizeof words);
    }
}

typedef struct {
  int m, n, k;
  const float *x;
  int ldx;
  const float *packed;
  const float *bias;
  float *y;
  int ldy;
  int groups_per_task;
  int isa;
} sp24_split;

/// Group g's 16 sums for row r to y, plus the bias, up to n.
static void store_group(const sp24_split *s, int g, int r, const float *acc) {
  const int start = g * GROUP, width = s->n - start < GROUP ? s->n - start : GROUP;
  float *y = s->y + (long)r * s->ldy + start;
  for (int j = 0; j < width; j++) y[j] = acc[j] + (s->bias ? s->bias[start + j] : 0.0f);
}

static void groups_portable(const sp24_split *s, int first, int last) {
  const int chunks = chunks_of(s->k), blocks = s->k / 4;
  for (int g = first; g < last; g++)
    for (int r = 0; r < s->m; r++) {
      const float *x = s->x + (long)r * s->ldx;
      float acc[GROUP] = {0};
      for (int c = 0; c < chunks; c++) {
        const float *chunk = s->packed + ((long)g * chunks + c) * CHUNK_FLOATS;
        uint32_t words[GROUP];
        memcpy(words, chunk, sizeof words);
        for (int t = 0; t < BLOCKS && c * BLOCKS + t < blocks; t++) {
          const float *xb = x + 4 * (c * BLOCKS + t);
          const float *v0 = chunk + GROUP + (t * 2) * GROUP, *v1 = v0 + GROUP;
          for (int j = 0; j < GROUP; j++) {
            const uint32_t w = words[j] >> (4 * t);
            acc[j] += v0[j] * xb[w & 3] + v1[j] * xb[(w >> 2) & 3];
          }
        }
      }
      store_group(s, g, r, acc);
    }
}

#if LK_X86
// ---- AVX-512: a group is one zmm ----------------------------------------------------------

/// One row, one group: four accumulators (two slots × even/odd blocks) so that consecutive
/// FMAs do not wait on each other.
LK_AVX512BW static void row_avx512(const sp24_split *s, int g) {
  const int chunks = chunks_of(s->k), blocks = s->k / 4;
  const float *x = s->x;
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
  for (int c = 0; c < chunks; c++) {
    const float *chunk = s->packed + ((long)g * chunks + c) * CHUNK_FLOATS, *v = chunk + GROUP;
    const __m512i w = _mm512_loadu_si512(chunk);
    const float *xc = x + 32 * c;
    const int tb = blocks - c * BLOCKS < BLOCKS ? blocks - c * BLOCKS : BLOCKS;
#define LK_SP24_PAIR(t)                                                                                    \
  do {                                                                                                     \
    const __m512 x0 = _mm512_broadcast_f32x4(_mm_loadu_ps(xc + 4 * (t)));                                  \
    const __m512 x1 = _mm512_broadcast_f32x4(_mm_loadu_ps(xc + 4 * (t) + 4));                              \
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 32 * (t)), _mm512_permutevar_ps(x0, _mm512_srli_epi32(w, 4 * (t))), a0); \
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 32 * (t) + 16),                                               \
                         _mm512_permutevar_ps(x0, _mm512_srli_epi32(w, 4 * (t) + 2)), a1);                 \
    b0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 32 * (t) + 32),                                               \
                         _mm512_permutevar_ps(x1, _mm512_srli_epi32(w, 4 * (t) + 4)), b0);                 \
    b1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 32 * (t) + 48),                                               \
                         _mm512_permutevar_ps(x1, _mm512_srli_epi32(w, 4 * (t) + 6)), b1);                 \
  } while (0)
    if (tb == BLOCKS) {  // a whole chunk: constant shifts, fully unrolled
      LK_SP24_PAIR(0);
      LK_SP24_PAIR(2);
      LK_SP24_PAIR(4);
      LK_SP24_PAIR(6);
      continue;
    }
#undef LK_SP24_PAIR
    __m512i wt = w;
    for (int t = 0; t < tb; t++, wt = _mm512_srli_epi32(wt, 4)) {
      const __m512 xb = _mm512_broadcast_f32x4(_mm_loadu_ps(xc + 4 * t));
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 32 * t), _mm512_permutevar_ps(xb, wt), a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 32 * t + 16), _mm512_permutevar_ps(xb, _mm512_srli_epi32(wt, 2)), a1);
    }
  }
  const int start = g * GROUP, width = s->n - start < GROUP ? s->n - start : GROUP;
  const __mmask16 mask = (__mmask16)((1u << width) - 1u);
  const __m512 bias = s->bias ? _mm512_maskz_loadu_ps(mask, s->bias + start) : _mm512_setzero_ps();
  _mm512_mask_storeu_ps(s->y + start, mask, _mm512_add_ps(_mm512_add_ps(a0, b0), _mm512_add_ps(a1, _mm512_add_ps(b1, bias))));
}

/// Rows r0..r0+rows (rows <= 4) by one group: the shifted position words are shared by the
/// rows, each row permutes its own broadcast block.
LK_AVX512BW LK_INLINE void tile_avx512(const sp24_split *s, int g, int r0, int rows) {
  const int chunks = chunks_of(s->k), blocks = s->k / 4;
  __m512 a[4], b[4];
  for (int r = 0; r < 4; r++) a[r] = b[r] = _mm512_setzero_ps();
  for (int c = 0; c < chunks; c++) {
    const float *chunk = s->packed + ((long)g * chunks + c) * CHUNK_FLOATS, *v = chunk + GROUP;
    __m512i w = _mm512_loadu_si512(chunk);
    const int tb = blocks - c * BLOCKS < BLOCKS ? blocks - c * BLOCKS : BLOCKS;
    for (int t = 0; t < tb; t++, w = _mm512_srli_epi32(w, 4)) {
      const __m512i w1 = _mm512_srli_epi32(w, 2);
      const __m512 v0 = _mm512_loadu_ps(v + 32 * t), v1 = _mm512_loadu_ps(v + 32 * t + 16);
      for (int r = 0; r < rows; r++) {
        const __m512 xb = _mm512_broadcast_f32x4(_mm_loadu_ps(s->x + (long)(r0 + r) * s->ldx + 32 * c + 4 * t));
        a[r] = _mm512_fmadd_ps(v0, _mm512_permutevar_ps(xb, w), a[r]);
        b[r] = _mm512_fmadd_ps(v1, _mm512_permutevar_ps(xb, w1), b[r]);
      }
    }
  }
  const int start = g * GROUP, width = s->n - start < GROUP ? s->n - start : GROUP;
  const __mmask16 mask = (__mmask16)((1u << width) - 1u);
  const __m512 bias = s->bias ? _mm512_maskz_loadu_ps(mask, s->bias + start) : _mm512_setzero_ps();
  for (int r = 0; r < rows; r++)
    _mm512_mask_storeu_ps(s->y + (long)(r0 + r) * s->ldy + start, mask, _mm512_add_ps(_mm512_add_ps(a[r], b[r]), bias));
}

LK_AVX512BW static void groups_avx512(const sp24_split *s, int first, int last) {
  for (int g = first; g < last; g++) {
    if (s->m == 1) {
      row_avx512(s, g);
      continue;
    }
    int r = 0;
    for (; r + 4 <= s->m; r += 4) tile_avx512(s, g, r, 4);
    switch (s->m - r) {
    case 3: tile_avx512(s, g, r, 3); break;
    case 2: tile_avx512(s, g, r, 2); break;
    case 1: tile_avx512(s, g, r, 1); break;
    default: break;
    }
  }
}

// ---- AVX2: a group is two ymm halves ------------------------------------------------------

/// Rows r0..r0+rows (rows <= 2) by one group: per row four accumulators (halves × slots), 8
/// in all, with the four shifted position words and two value pairs in the other registers.
LK_AVX2 LK_INLINE void tile_avx2(const sp24_split *s, int g, int r0, int rows) {
  const int chunks = chunks_of(s->k), blocks = s->k / 4;
  __m256 lo0[2], lo1[2], hi0[2], hi1[2];
  for (int r = 0; r < 2; r++) lo0[r] = lo1[r] = hi0[r] = hi1[r] = _mm256_setzero_ps();
  for (int c = 0; c < chunks; c++) {
    const float *chunk = s->packed + ((long)g * chunks + c) * CHUNK_FLOATS, *v = chunk + GROUP;
    __m256i wl = _mm256_loadu_si256((const __m256i *)chunk), wh = _mm256_loadu_si256((const __m256i *)(chunk + 8));
    const int tb = blocks - c * BLOCKS < BLOCKS ? blocks - c * BLOCKS : BLOCKS;
    for (int t = 0; t < tb; t++, wl = _mm256_srli_epi32(wl, 4), wh = _mm256_srli_epi32(wh, 4)) {
      const __m256i wl1 = _mm256_srli_epi32(wl, 2), wh1 = _mm256_srli_epi32(wh, 2);
      const float *vt = v + 32 * t;
      for (int r = 0; r < rows; r++) {
        const __m256 xb = _mm256_broadcast_ps((const __m128 *)(s->x + (long)(r0 + r) * s->ldx + 32 * c + 4 * t));
        lo0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(vt), _mm256_permutevar_ps(xb, wl), lo0[r]);
        hi0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(vt + 8), _mm256_permutevar_ps(xb, wh), hi0[r]);
        lo1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(vt + 16), _mm256_permutevar_ps(xb, wl1), lo1[r]);
        hi1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(vt + 24), _mm256_permutevar_ps(xb, wh1), hi1[r]);
      }
    }
  }
  for (int r = 0; r < rows; r++) {
    float acc[GROUP];
    _mm256_storeu_ps(acc, _mm256_add_ps(lo0[r], lo1[r]));
    _mm256_storeu_ps(acc + 8, _mm256_add_ps(hi0[r], hi1[r]));
    store_group(s, g, r0 + r, acc);
  }
}

LK_AVX2 static void groups_avx2(const sp24_split *s, int first, int last) {
  for (int g = first; g < last; g++) {
    int r = 0;
    for (; r + 2 <= s->m; r += 2) tile_avx2(s, g, r, 2);
    if (r < s->m) tile_avx2(s, g, r, 1);
  }
}
#endif

static void sp24_part(void *context, int task) {
  const sp24_split *s = context;
  const int groups = (s->n + GROUP - 1) / GROUP;
  const int first = task * s->groups_per_task;
  const int last = first + s->groups_per_task < groups ? first + s->groups_per_task : groups;
  if (first >= last) return;
#if LK_X86
  if (lk_isa_avx512(s->isa)) {
    groups_avx512(s, first, last);
    return;
  }
  if (s->isa >= LK_ISA_AVX2) {
    groups_avx2(s, first, last);
    return;
  }
#endif
#if LK_ARM64
  if (lk_isa_neon(s->isa)) {
    lk_sp24_groups_neon(s->m, s->n, s->k, s->x, s->ldx, s->packed, s->bias, s->y, s->ldy, first, last);
    return;
  }
#endif
  groups_portable(s, first, last);
}

void lk_sp24_gemm(int m, int n, int k, const float *x, int ldx, const void *packed, const float *bias, float *y,
                  int ldy) {
  if (m <= 0 || n <= 0) return;
  const int groups = (n + GROUP - 1) / GROUP;
  // Half the dense multiply-adds: split over the pool from the same amount of work as the
  // dense packed product does.
  const int threads = (double)m * n * (k / 2) >= LK_GEMM_SPLIT_WORK ? lk_get_num_threads() : 1;
  const int per = (groups + threads - 1) / threads;
  sp24_split s = {m, n, k, x, ldx, packed, bias, y, ldy, per, lk_isa_current()};
  lk_parallel_for((groups + per - 1) / per, sp24_part, &s);
}
