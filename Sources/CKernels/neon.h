// neon.h: the aarch64 kernels that live in their own files (neon_*.c), as the shared kernel
// files call them (private to CKernels). Each takes plain arguments, so the file that owns a
// layout keeps its own structs; `dot` selects the dotprod build (LK_ISA_NEON_DOT) over plain
// NEON (LK_ISA_NEON) where a kernel has both.
#ifndef LATHE_CKERNELS_NEON_H
#define LATHE_CKERNELS_NEON_H

#include "simd.h"

#if LK_ARM64

/// The int8 GEMM of qgemm.c on its packed weights: y_f32[i*ldy + j*ldy_col] when y_f32 is not
/// NULL, else y_u8 (neon_qgemm.c).
void lk_qgemm_neon(int dot, int m, int n, int k, const uint8_t *a, long lda, const void *packed,
                   const lk_qoutput *out, float *y_f32, uint8_t *y_u8, long ldy, long ldy_col);

/// qconv.c's "columns" product: cols [k4][vectors*16][4] bytes against channels [0, n) of the
/// packed weights, each finished vector of 16 pixels stored through table[v] = {lane mask,
/// first output} into channel o's plane (neon_qconv.c).
void lk_qconv_columns_neon(int dot, const uint8_t *cols, int k4, int vectors, const void *packed, int n,
                           const int32_t *table, const lk_qoutput *out, float *y_f32, uint8_t *y_u8, long plane);
/// dst[4q + t] = src[t][q] for q < n, zeros up to `padded` (qconv.c's byte interleave).
void lk_interleave4_neon(const uint8_t *const src[4], int n, int padded, uint8_t *dst);

/// packed_gemm.c's lk_sgemm_packed for panels [first, last) (neon_packed_gemm.c; plain NEON
/// serves both paths).
void lk_sgemm_packed_neon(int m, int n, int k, const float *x, int ldx, const float *packed, const float *bias,
                          float *y, int ldy, int first, int last);

/// quantize.c's conversions: q[i] = clamp(round(x[i] · scale_inverse) + zero_point, lo, hi)
/// stored as bytes (u8 or s8 by the range), and min/max of count >= 1 floats
/// (neon_quantize.c).
void lk_quantize_neon(const float *x, long count, float scale_inverse, int32_t zero_point, int32_t lo, int32_t hi,
                      void *q);
void lk_minmax_neon(const float *x, long count, float *min, float *max);

/// sparse.c's lk_spmv, lk_spmv_sliced and the 64-column chunk of lk_spmm (neon_sparse.c).
void lk_spmv_neon(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values, const float *x,
                  const float *bias, float *y);
void lk_spmv_sliced_neon(int rows, int cols, const int32_t *slice_entries, const int32_t *entry_block,
                         const int32_t *entry_steps, const float *step_values, const uint8_t *step_lanes,
                         const int32_t *row_order, const float *x, const float *bias, int relu, float *y);
void lk_spmm_chunk_neon(int rows, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                        const float *xt, const float *bias, float *yt, int width);

/// sparse24.c's 2:4 product for groups [first, last) of 16 outputs (neon_sparse24.c).
void lk_sp24_groups_neon(int m, int n, int k, const float *x, int ldx, const float *packed, const float *bias,
                         float *y, int ldy, int first, int last);

/// wqgemm.c's tile: out[r] = Σ_g ws[r * groups + g] · Σ_{c in g} a[c] · w_r[c] for `rows`
/// packed weight rows of `stride` bytes from w (neon_wqgemm.c).
void lk_wq_tile_neon(int dot, int kp, int group, int groups, int bits, size_t stride, const int8_t *a,
                     const uint8_t *w, const float *ws, int rows, float *out);

/// One channel's depthwise output plane [out_h][out_w] from dwconv.c's zero-padded plane (rows
/// of wp floats, slack after it) for strides 1 and 2; offsets[t]: where tap t reads relative to
/// the output's first tap (neon_dwconv.c).
void lk_dwconv_plane_neon(const lk_window *w, const float *pad, long wp, const float *k, const long *offsets, float b,
                          float *plane);

#endif
#endif
