// CKernels: the loops Swift cannot make fast enough on its own.
//
// Every function works on plain contiguous row-major float buffers; the Swift side owns
// memory, shapes and autodiff. Instruction sets are picked at run time (see cpu.c), never at
// build time, so one binary runs on any x86-64 or aarch64 machine.
#ifndef LATHE_CKERNELS_H
#define LATHE_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- CPU features and threads -------------------------------------------------------------

/// Bit set of the instruction-set extensions this CPU offers (LK_CPU_* below).
enum {
  LK_CPU_AVX2 = 1 << 0,
  LK_CPU_FMA = 1 << 1,
  LK_CPU_AVX512F = 1 << 2,
  LK_CPU_AVX512VNNI = 1 << 3,
  LK_CPU_AVXVNNI = 1 << 4,
  LK_CPU_NEON = 1 << 5,
};
int lk_cpu_features(void);

/// Which GEMM runs: "openblas-<kernel family>" or "portable" when OpenBLAS is not installed.
const char *lk_sgemm_backend(void);

/// Threads the BLAS may use for one GEMM (OpenBLAS's own pool).
void lk_set_num_threads(int threads);
int lk_get_num_threads(void);

// ---- Dense linear algebra -----------------------------------------------------------------

/// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, row-major, through the BLAS.
/// lda/ldb/ldc are the row strides of A, B and C as stored.
void lk_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

/// The same product without the BLAS (used when OpenBLAS is missing; tests compare the two).
void lk_sgemm_portable(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc);

// ---- Convolution helpers (NCHW) -----------------------------------------------------------

/// Geometry of one 2-D convolution or pooling window.
typedef struct {
  int batch, channels, height, width;      // input
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_top, pad_left;
  int dilation_h, dilation_w;
  int out_h, out_w;
  int pad_bottom, pad_right;               // trailing padding (count_include_pad divisors)
} lk_window;

/// Unfolds channels [c0, c0+cn) of every image into columns:
/// cols[(c*kh + i)*kw + j][n*out_h*out_w + p], zero where the window hangs over the padding.
void lk_im2col(const lk_window *w, const float *x, int c0, int cn, float *cols);

/// The adjoint of lk_im2col: adds columns back into dx (which the caller zeroes first).
void lk_col2im(const lk_window *w, const float *cols, int c0, int cn, float *dx);

/// [C, N, P] -> [N, C, P] and back: GEMM output order versus NCHW order.
void lk_cnp_to_ncp(const float *src, float *dst, int c, int n, int p);
void lk_ncp_to_cnp(const float *src, float *dst, int n, int c, int p);

/// Max pooling: writes the maximum and the flat input index it came from (for backward).
void lk_maxpool2d(const lk_window *w, const float *x, float *y, int32_t *argmax);
/// Average pooling; count_include_pad chooses the divisor at the borders.
void lk_avgpool2d(const lk_window *w, const float *x, float *y, int count_include_pad);
void lk_avgpool2d_backward(const lk_window *w, const float *dy, float *dx, int count_include_pad);

#ifdef __cplusplus
}
#endif
#endif
