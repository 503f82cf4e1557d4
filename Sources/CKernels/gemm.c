// fp32 GEMM goes through OpenBLAS: on this class of machine it reaches the FMA peak that a
// hand-written kernel would only approach.
#include "CKernels.h"
#include <cblas.h>

void lk_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void lk_set_num_threads(int threads) { openblas_set_num_threads(threads); }
int lk_get_num_threads(void) { return openblas_get_num_threads(); }
