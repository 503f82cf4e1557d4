// Sparse (CSR) fully connected layers for pruned weights.
//
// Batch 1 (lk_spmv) is a dot product per output row over its nonzeros, gathering the inputs
// they touch (vgatherdps on AVX2/AVX-512). A batch (lk_spmm) works on 64 batch rows at a
// time with x transposed to [in][64]: each nonzero W[r,c] then scales one contiguous row of
// 64 inputs into 64 accumulators held in registers, with no gathers at all.
#include "neon.h"

#include <stdlib.h>
#include <string.h>

enum { CHUNK = 64 };  // batch rows per pass of lk_spmm

long lk_csr_from_dense(const float *w, int rows, int cols, int32_t *row_ptr, int32_t *col_idx, float *values) {
  long nnz = 0;
  row_ptr[0] = 0;
  for (int r = 0; r < rows; r++) {
    const float *row = w + (long)r * cols;
    for (int c = 0; c < cols; c++) {
      if (row[c] == 0.0f) continue;
      if (col_idx && values) {
        col_idx[nnz] = c;
        values[nnz] = row[c];
      }
      nnz++;
    }
    row_ptr[r + 1] = (int32_t)nnz;
  }
  return nnz;
}

// ---- Batch 1 ---------------------------------------------------------------------------------

static void spmv_portable(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                          const float *x, const float *bias, float *y) {
  for (int r = 0; r < rows; r++) {
    float sum = 0;
    for (int32_t p = row_ptr[r]; p < row_ptr[r + 1]; p++) sum += values[p] * x[col_idx[p]];
    y[r] = bias ? sum + bias[r] : sum;
  }
}

#if LK_X86

LK_AVX512BW static void spmv_avx512(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                                  const float *x, const float *bias, float *y) {
  for (int r = 0; r < rows; r++) {
    int32_t p = row_ptr[r];
    const int32_t end = row_ptr[r + 1];
    // Two accumulators so consecutive gathers and FMAs overlap.
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    for (; p + 32 <= end; p += 32) {
      const __m512 x0 = _mm512_i32gather_ps(_mm512_loadu_si512(col_idx + p), x, 4);
      const __m512 x1 = _mm512_i32gather_ps(_mm512_loadu_si512(col_idx + p + 16), x, 4);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(values + p), x0, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(values + p + 16), x1, a1);
    }
    for (; p < end; p += 16) {
      const __mmask16 m = end - p >= 16 ? 0xFFFF : (__mmask16)((1u << (end - p)) - 1);
      const __m512i idx = _mm512_maskz_loadu_epi32(m, col_idx + p);
      const __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, x, 4);
      a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, values + p), xv, a0);
    }
    const float sum = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    y[r] = bias ? sum + bias[r] : sum;
  }
}

LK_AVX2 static void spmv_avx2(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                              const float *x, const float *bias, float *y) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int r = 0; r < rows; r++) {
    int32_t p = row_ptr[r];
    const int32_t end = row_ptr[r + 1];
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (; p + 16 <= end; p += 16) {
      const __m256 x0 = _mm256_i32gather_ps(x, _mm256_loadu_si256((const __m256i *)(col_idx + p)), 4);
      const __m256 x1 = _mm256_i32gather_ps(x, _mm256_loadu_si256((const __m256i *)(col_idx + p + 8)), 4);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(values + p), x0, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(values + p + 8), x1, a1);
    }
    // The last 1-15 in masked gathers: a scalar loop there was one dependent add after another,
    // the longest part of a row at LeNet's 60 nonzeros a row.
    for (; p < end; p += 8) {
      const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(end - p), iota);
      const __m256i index = _mm256_maskload_epi32(col_idx + p, keep);
      const __m256 xv = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), x, index, _mm256_castsi256_ps(keep), 4);
      a1 = _mm256_fmadd_ps(_mm256_maskload_ps(values + p, keep), xv, a1);
    }
    a0 = _mm256_add_ps(a0, a1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    const float sum = _mm_cvtss_f32(h);
    y[r] = bias ? sum + bias[r] : sum;
  }
}

#endif

void lk_spmv(int rows, int cols, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
             const float *x, const float *bias, float *y) {
  (void)cols;
  switch (lk_isa_current()) {
#if LK_X86
  case LK_ISA_AVX512VNNI:
  case LK_ISA_AVX512: spmv_avx512(rows, row_ptr, col_idx, values, x, bias, y); return;
  case LK_ISA_AVXVNNI:
  case LK_ISA_AVX2: spmv_avx2(rows, row_ptr, col_idx, values, x, bias, y); return;
#endif
#if LK_ARM64
  case LK_ISA_NEON_DOT:
  case LK_ISA_NEON: lk_spmv_neon(rows, row_ptr, col_idx, values, x, bias, y); return;
#endif
  default: spmv_portable(rows, row_ptr, col_idx, values, x, bias, y); return;
  }
}

// ---- Batch 1, sliced: no gathers -------------------------------------------------------------
//
// Gathers are slow on recent Xeons (one vgatherdps of 16 floats every ~10 cycles here), so
// the CSR kernel above is bound by them. This layout avoids them: rows go in slices of 16,
// one per lane, so a slice's 16 outputs build up in registers with no horizontal sums;
// columns go in blocks, whose inputs sit in registers, from which a permute picks, for every
// lane, the input its row needs. For each slice and each block where the slice has nonzeros,
// an entry holds `steps` = the most nonzeros any of the 16 rows has in that block, and each
// step stores 16 lane indices (bytes, 0..block-1) and 16 values (zero for rows with fewer
// nonzeros). Rows may be taken in any order (row_order): grouping rows with similar nonzero
// counts into a slice cuts the padding (on LeNet-300-100's pruned fc1, 2.3 stored values per
// nonzero instead of 2.95).
//
// The block width is the kernel's (lk_sliced_block): 32 on AVX-512, where one vpermt2ps picks
// from two registers (and on NEON, whose TBL/TBX reach 64 bytes); 16 on AVX2, which permutes within 8 floats only, so a lane's input
// takes two vpermps and a blend, and from 32 columns it took four and three blends: 16 is
// 1.4x faster there despite 1.2x the padding (on this EPYC's AVX2 path, 784→300 at 92% zeros:
// 4.5 µs against 6.3 µs; 16 on AVX-512 was 1.3x slower than 32).

enum { SLICE = 16 };

int lk_sliced_block(void) {
  // NEON's TBL/TBX picks from a 32-float block as AVX-512's vpermt2ps does (neon_sparse.c).
  const int isa = lk_isa_current();
  return lk_isa_avx512(isa) || lk_isa_neon(isa) ? 32 : 16;
}

long lk_sliced_from_csr(int rows, int cols, int block, const int32_t *row_ptr, const int32_t *col_idx,
                        const float *values, const int32_t *row_order, int32_t *slice_entries, int32_t *entry_block,
                        int32_t *entry_steps, float *step_values, uint8_t *step_lanes, long *entries) {
  const int slices = (rows + SLICE - 1) / SLICE, blocks = (cols + block - 1) / block;
  int32_t *count = calloc((size_t)blocks * SLICE, sizeof(int32_t));
  long steps = 0, e = 0;
  if (slice_entries) slice_entries[0] = 0;
  for (int s = 0; s < slices; s++) {
    memset(count, 0, sizeof(int32_t) * (size_t)blocks * SLICE);
    for (int t = 0; t < SLICE && s * SLICE + t < rows; t++) {
      const int r = row_order ? row_order[s * SLICE + t] : s * SLICE + t;
      for (int32_t p = row_ptr[r]; p < row_ptr[r + 1]; p++) count[(col_idx[p] / block) * SLICE + t]++;
    }
    for (int b = 0; b < blocks; b++) {
      int most = 0;
      for (int t = 0; t < SLICE; t++) most = count[b * SLICE + t] > most ? count[b * SLICE + t] : most;
      if (most == 0) continue;
      if (entry_block) {
        entry_block[e] = b;
        entry_steps[e] = most;
        float *v = step_values + steps * SLICE;
        uint8_t *lane = step_lanes + steps * SLICE;
        memset(v, 0, sizeof(float) * (size_t)most * SLICE);
        memset(lane, 0, (size_t)most * SLICE);
        // Rows' nonzeros in this block, in column order, one step each.
        for (int t = 0; t < SLICE && s * SLICE + t < rows; t++) {
          const int r = row_order ? row_order[s * SLICE + t] : s * SLICE + t;
          int k = 0;
          for (int32_t p = row_ptr[r]; p < row_ptr[r + 1]; p++) {
            if (col_idx[p] / block != b) continue;
            v[k * SLICE + t] = values[p];
            lane[k * SLICE + t] = (uint8_t)(col_idx[p] % block);
            k++;
          }
        }
      }
      e++;
      steps += most;
    }
    if (slice_entries) slice_entries[s + 1] = (int32_t)e;
  }
  free(count);
  if (entries) *entries = e;
  return steps;
}

/// Slice s's 16 sums to their rows of y, with bias and ReLU (declared in simd.h: the NEON
/// sliced kernel stores through it too).
void lk_store_slice(int s, int rows, const float *acc, const int32_t *row_order, const float *bias, int relu,
                    float *y) {
  for (int t = 0; t < SLICE && s * SLICE + t < rows; t++) {
    const int r = row_order ? row_order[s * SLICE + t] : s * SLICE + t;
    const float v = acc[t] + (bias ? bias[r] : 0.0f);
    y[r] = relu && v < 0 ? 0 : v;
  }
}

/// The sliced layout's arrays, as lk_sliced_from_csr filled them.
typedef struct {
  int rows, cols, block;
  const int32_t *slice_entries, *entry_block, *entry_steps;
  const float *step_values;
  const uint8_t *step_lanes;
  const int32_t *row_order;
} sliced_rows;

static void spmv_sliced_portable(const sliced_rows *w, const float *x, const float *bias, int relu, float *y) {
  const int slices = (w->rows + SLICE - 1) / SLICE;
  long step = 0;
  for (int s = 0; s < slices; s++) {
    float acc[SLICE] = {0};
    for (int32_t e = w->slice_entries[s]; e < w->slice_entries[s + 1]; e++) {
      const int c0 = w->entry_block[e] * w->block;
      for (int k = 0; k < w->entry_steps[e]; k++, step++) {
        for (int t = 0; t < SLICE; t++) {
          const int c = c0 + w->step_lanes[step * SLICE + t];
          if (c < w->cols) acc[t] += w->step_values[step * SLICE + t] * x[c];
        }
      }
    }
    lk_store_slice(s, w->rows, acc, w->row_order, bias, relu, y);
  }
}

#if LK_X86

/// Blocks of 32 columns: x[c0 .. c0+32) in two zmm, one vpermt2ps per step of 16 lanes.
LK_AVX512BW static void spmv_sliced_avx512(const sliced_rows *w, const float *x, const float *bias, int relu,
                                           float *y) {
  const int rows = w->rows, cols = w->cols, slices = (rows + SLICE - 1) / SLICE;
  const float *v = w->step_values;
  const uint8_t *lane = w->step_lanes;
  for (int s = 0; s < slices; s++) {
    // Two accumulators, so consecutive steps of an entry do not wait on each other's FMA. (Four,
    // rotated, helped dense-ish layers but cost 10% on 90%-sparse ones with their short entries.)
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    for (int32_t e = w->slice_entries[s]; e < w->slice_entries[s + 1]; e++) {
      const int c0 = w->entry_block[e] * 32;
      // x[c0 .. c0+32), zeros past the end of x.
      const int have = cols - c0;
      const __mmask16 m0 = have >= 16 ? 0xFFFF : (__mmask16)((1u << have) - 1);
      const __mmask16 m1 = have >= 32 ? 0xFFFF : (have <= 16 ? 0 : (__mmask16)((1u << (have - 16)) - 1));
      const __m512 xa = _mm512_maskz_loadu_ps(m0, x + c0), xb = _mm512_maskz_loadu_ps(m1, x + c0 + 16);
      int k = 0;
      const int steps = w->entry_steps[e];
      for (; k + 2 <= steps; k += 2, v += 2 * SLICE, lane += 2 * SLICE) {
        const __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)lane));
        const __m512i i1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(lane + SLICE)));
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v), _mm512_permutex2var_ps(xa, i0, xb), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + SLICE), _mm512_permutex2var_ps(xa, i1, xb), a1);
      }
      if (k < steps) {
        const __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)lane));
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v), _mm512_permutex2var_ps(xa, i0, xb), a0);
        v += SLICE;
        lane += SLICE;
      }
    }
    __m512 r = _mm512_add_ps(a0, a1);
    const int left = rows - s * SLICE;
    const __mmask16 out = left >= SLICE ? 0xFFFF : (__mmask16)((1u << left) - 1);
    if (w->row_order) {
      float sums[SLICE];
      _mm512_storeu_ps(sums, r);
      lk_store_slice(s, rows, sums, w->row_order, bias, relu, y);
      continue;
    }
    if (bias) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(out, bias + s * SLICE));
    if (relu) r = _mm512_max_ps(r, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(y + s * SLICE, out, r);
  }
}

/// For each of 8 lanes, the input its index (0..15) names among a block's 16, held in q0 and
/// q1: vpermps picks within each (from the index's low 3 bits), bit 3 chooses between them
/// (blendv reads the sign bit).
LK_AVX2 LK_INLINE __m256 pick16_avx2(__m256 q0, __m256 q1, __m256i index) {
  const __m256 bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(index, 28));
  return _mm256_blendv_ps(_mm256_permutevar8x32_ps(q0, index), _mm256_permutevar8x32_ps(q1, index), bit3);
}

/// Blocks of 16 columns: each slice's 16 lanes as two halves of 8.
LK_AVX2 static void spmv_sliced_avx2(const sliced_rows *w, const float *x, const float *bias, int relu, float *y) {
  const int rows = w->rows, cols = w->cols, slices = (rows + SLICE - 1) / SLICE;
  const float *v = w->step_values;
  const uint8_t *lane = w->step_lanes;
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int s = 0; s < slices; s++) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int32_t e = w->slice_entries[s]; e < w->slice_entries[s + 1]; e++) {
      const int c0 = w->entry_block[e] * 16;
      // x[c0 .. c0+16), zeros past the end of x.
      const __m256i keep0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - c0), iota);
      const __m256i keep1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - c0 - 8), iota);
      const __m256 q0 = _mm256_maskload_ps(x + c0, keep0), q1 = _mm256_maskload_ps(x + c0 + 8, keep1);
      for (int k = 0; k < w->entry_steps[e]; k++, v += SLICE, lane += SLICE) {
        const __m256i i0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)lane));
        const __m256i i1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(lane + 8)));
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(v), pick16_avx2(q0, q1, i0), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(v + 8), pick16_avx2(q0, q1, i1), hi);
      }
    }
    float sums[SLICE];
    _mm256_storeu_ps(sums, lo);
    _mm256_storeu_ps(sums + 8, hi);
    lk_store_slice(s, rows, sums, w->row_order, bias, relu, y);
  }
}

#endif

void lk_spmv_sliced(int rows, int cols, int block, const int32_t *slice_entries, const int32_t *entry_block,
                    const int32_t *entry_steps, const float *step_values, const uint8_t *step_lanes,
                    const int32_t *row_order, const float *x, const float *bias, int relu, float *y) {
  const sliced_rows w = {rows, cols, block, slice_entries, entry_block, entry_steps, step_values, step_lanes,
                         row_order};
#if LK_X86
  // A layout built for another path's block (the path was forced since) runs portably.
  const int isa = lk_isa_current();
  if (block == 32 && lk_isa_avx512(isa)) {
    spmv_sliced_avx512(&w, x, bias, relu, y);
    return;
  }
  if (block == 16 && lk_isa_x86(isa)) {
    spmv_sliced_avx2(&w, x, bias, relu, y);
    return;
  }
#endif
#if LK_ARM64
  if (block == 32 && lk_isa_neon(lk_isa_current())) {
    lk_spmv_sliced_neon(rows, cols, slice_entries, entry_block, entry_steps, step_values, step_lanes, row_order, x,
                        bias, relu, y);
    return;
  }
#endif
  spmv_sliced_portable(&w, x, bias, relu, y);
}

// ---- Batches -----------------------------------------------------------------------------------

/// yt[r][0..width) = bias[r] + Σ values · xt[col][0..width), width a multiple of 16 (<= 64).
static void spmm_chunk_portable(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                                const float *xt, const float *bias, float *yt, int width) {
  for (int r = 0; r < rows; r++) {
    float acc[CHUNK];
    const float b = bias ? bias[r] : 0.0f;
    for (int t = 0; t < width; t++) acc[t] = b;
    for (int32_t p = row_ptr[r]; p < row_ptr[r + 1]; p++) {
      const float v = values[p];
      const float *xrow = xt + (long)col_idx[p] * CHUNK;
      for (int t = 0; t < width; t++) acc[t] += v * xrow[t];
    }
    memcpy(yt + (long)r * CHUNK, acc, sizeof(float) * width);
  }
}

#if LK_X86

/// NV accumulators of 16 (a constant after inlining).
LK_AVX512BW LK_INLINE void spmm_rows_avx512(int rows, const int32_t *row_ptr, const int32_t *col_idx,
                                          const float *values, const float *xt, const float *bias, float *yt,
                                          int NV) {
  for (int r = 0; r < rows; r++) {
    // Two accumulator sets (even and odd nonzeros) so that the FMA latency is hidden.
    __m512 acc[4], odd[4];
    const __m512 b = _mm512_set1_ps(bias ? bias[r] : 0.0f);
    for (int v = 0; v < NV; v++) acc[v] = b, odd[v] = _mm512_setzero_ps();
    int32_t p = row_ptr[r];
    const int32_t end = row_ptr[r + 1];
    for (; p + 2 <= end; p += 2) {
      const __m512 w0 = _mm512_set1_ps(values[p]), w1 = _mm512_set1_ps(values[p + 1]);
      const float *x0 = xt + (long)col_idx[p] * CHUNK, *x1 = xt + (long)col_idx[p + 1] * CHUNK;
      for (int v = 0; v < NV; v++) {
        acc[v] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x0 + 16 * v), acc[v]);
        odd[v] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x1 + 16 * v), odd[v]);
      }
    }
    if (p < end) {
      const __m512 w0 = _mm512_set1_ps(values[p]);
      const float *x0 = xt + (long)col_idx[p] * CHUNK;
      for (int v = 0; v < NV; v++) acc[v] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x0 + 16 * v), acc[v]);
    }
    for (int v = 0; v < NV; v++) _mm512_storeu_ps(yt + (long)r * CHUNK + 16 * v, _mm512_add_ps(acc[v], odd[v]));
  }
}

LK_AVX512BW static void spmm_chunk_avx512(int rows, const int32_t *row_ptr, const int32_t *col_idx,
                                       const float *values, const float *xt, const float *bias, float *yt,
                                       int width) {
  switch (width / 16) {
  case 4: spmm_rows_avx512(rows, row_ptr, col_idx, values, xt, bias, yt, 4); break;
  case 3: spmm_rows_avx512(rows, row_ptr, col_idx, values, xt, bias, yt, 3); break;
  case 2: spmm_rows_avx512(rows, row_ptr, col_idx, values, xt, bias, yt, 2); break;
  default: spmm_rows_avx512(rows, row_ptr, col_idx, values, xt, bias, yt, 1); break;
  }
}

LK_AVX2 LK_INLINE void spmm_rows_avx2(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                                      const float *xt, const float *bias, float *yt, int NV) {
  for (int r = 0; r < rows; r++) {
    __m256 acc[8];
    const __m256 b = _mm256_set1_ps(bias ? bias[r] : 0.0f);
    for (int v = 0; v < NV; v++) acc[v] = b;
    for (int32_t p = row_ptr[r]; p < row_ptr[r + 1]; p++) {
      const __m256 w = _mm256_set1_ps(values[p]);
      const float *xrow = xt + (long)col_idx[p] * CHUNK;
      for (int v = 0; v < NV; v++) acc[v] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xrow + 8 * v), acc[v]);
    }
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(yt + (long)r * CHUNK + 8 * v, acc[v]);
  }
}

LK_AVX2 static void spmm_chunk_avx2(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                                    const float *xt, const float *bias, float *yt, int width) {
  switch (width / 16) {
  case 4: spmm_rows_avx2(rows, row_ptr, col_idx, values, xt, bias, yt, 8); break;
  case 3: spmm_rows_avx2(rows, row_ptr, col_idx, values, xt, bias, yt, 6); break;
  case 2: spmm_rows_avx2(rows, row_ptr, col_idx, values, xt, bias, yt, 4); break;
  default: spmm_rows_avx2(rows, row_ptr, col_idx, values, xt, bias, yt, 2); break;
  }
}

#endif

size_t lk_spmm_scratch_size(int rows, int cols) { return (size_t)CHUNK * ((size_t)rows + (size_t)cols); }

void lk_spmm(int batch, int rows, int cols, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
             const float *x, const float *bias, float *y, float *scratch) {
  float *owned = NULL;
  if (!scratch) scratch = owned = malloc(sizeof(float) * lk_spmm_scratch_size(rows, cols));
  float *xt = scratch, *yt = scratch + (long)CHUNK * cols;
  const int isa = lk_isa_current();
  for (int b0 = 0; b0 < batch; b0 += CHUNK) {
    const int bc = batch - b0 < CHUNK ? batch - b0 : CHUNK;
    const int width = (bc + 15) & ~15;  // computed lanes; the extra ones see zeros
    // Transpose x[b0 .. b0+bc) into xt[c][t], in 16×16 blocks to keep both sides in cache.
    for (int c0 = 0; c0 < cols; c0 += 16) {
      const int c1 = c0 + 16 < cols ? c0 + 16 : cols;
      for (int t = 0; t < width; t++) {
        const float *src = x + (long)(b0 + t) * cols;
        for (int c = c0; c < c1; c++) xt[(long)c * CHUNK + t] = t < bc ? src[c] : 0.0f;
      }
    }
    switch (isa) {
#if LK_X86
    case LK_ISA_AVX512VNNI:
    case LK_ISA_AVX512: spmm_chunk_avx512(rows, row_ptr, col_idx, values, xt, bias, yt, width); break;
    case LK_ISA_AVXVNNI:
    case LK_ISA_AVX2: spmm_chunk_avx2(rows, row_ptr, col_idx, values, xt, bias, yt, width); break;
#endif
#if LK_ARM64
    case LK_ISA_NEON_DOT:
    case LK_ISA_NEON: lk_spmm_chunk_neon(rows, row_ptr, col_idx, values, xt, bias, yt, width); break;
#endif
    default: spmm_chunk_portable(rows, row_ptr, col_idx, values, xt, bias, yt, width); break;
    }
    for (int r0 = 0; r0 < rows; r0 += 16) {
      const int r1 = r0 + 16 < rows ? r0 + 16 : rows;
      for (int t = 0; t < bc; t++) {
        float *dst = y + (long)(b0 + t) * rows;
        for (int r = r0; r < r1; r++) dst[r] = yt[(long)r * CHUNK + t];
      }
    }
  }
  free(owned);
}
