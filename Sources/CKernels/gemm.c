// fp32 GEMM through OpenBLAS, loaded at run time.
//
// Why dlopen rather than linking: OpenBLAS picks its kernels once, when the library is loaded,
// from its own CPU table, and the Debian build (0.3.21) does not know recent Xeons: it falls
// back to its SSE3 "Prescott" kernels, 5x slower than its AVX-512 ones on the same machine.
// Loading it ourselves lets us name the kernel family from the CPU's actual features first
// (unless the user already chose one with OPENBLAS_CORETYPE). If the library is missing, a
// portable blocked kernel keeps every model running, only slower.
#include "CKernels.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*sgemv_fn)(int order, int trans, int m, int n, float alpha, const float *a, int lda, const float *x,
                         int incx, float beta, float *y, int incy);
typedef void (*set_threads_fn)(int);
typedef char *(*corename_fn)(void);

static struct {
  pthread_once_t once;
  sgemm_fn sgemm;
  sgemv_fn sgemv;
  set_threads_fn set_threads;
  corename_fn corename;
  char name[64];
} blas = {PTHREAD_ONCE_INIT};

/// The OpenBLAS kernel family this CPU can run, by its features; NULL to let OpenBLAS decide.
static const char *kernel_family_for_cpu(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return NULL;
}

static void load_blas(void) {
  const char *family = kernel_family_for_cpu();
  if (family && !getenv("OPENBLAS_CORETYPE")) setenv("OPENBLAS_CORETYPE", family, 0);
  // Lathe splits GEMMs over its own pool (threadpool.c); OpenBLAS's would only compete for it.
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  const char *candidates[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", NULL};
  void *handle = NULL;
  for (int i = 0; candidates[i] && !handle; i++) handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
  if (handle) {
    blas.sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    blas.sgemv = (sgemv_fn)dlsym(handle, "cblas_sgemv");
    blas.set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    blas.corename = (corename_fn)dlsym(handle, "openblas_get_corename");
  }
  if (blas.set_threads) blas.set_threads(1);
  if (blas.sgemm) {
    snprintf(blas.name, sizeof blas.name, "openblas-%s", blas.corename ? blas.corename() : "unknown");
  } else {
    snprintf(blas.name, sizeof blas.name, "portable");
  }
}

static void ensure_blas(void) { pthread_once(&blas.once, load_blas); }

const char *lk_sgemm_backend(void) {
  ensure_blas();
  return blas.name;
}

/// Reference GEMM for machines without OpenBLAS: i-k-j order so the inner loop streams rows.
void lk_sgemm_portable(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc) {
  for (int i = 0; i < m; i++) {
    float *crow = c + (long)i * ldc;
    if (beta == 0.0f) {
      memset(crow, 0, sizeof(float) * n);
    } else if (beta != 1.0f) {
      for (int j = 0; j < n; j++) crow[j] *= beta;
    }
    for (int p = 0; p < k; p++) {
      const float aip = alpha * (trans_a ? a[(long)p * lda + i] : a[(long)i * lda + p]);
      if (trans_b) {
        for (int j = 0; j < n; j++) crow[j] += aip * b[(long)j * ldb + p];
      } else {
        const float *brow = b + (long)p * ldb;
        for (int j = 0; j < n; j++) crow[j] += aip * brow[j];
      }
    }
  }
}

/// One GEMM on the calling thread: OpenBLAS (single-threaded) or the portable kernel.
static void gemm_serial(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc) {
  if (blas.sgemm) {
    blas.sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta,
               c, ldc);
  } else {
    lk_sgemm_portable(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}


/// 0: split over all the pool's threads; else at most this many (lk_set_num_threads).
static int gemm_threads;

/// One GEMM cut into blocks of `step` rows (or columns) of C.
typedef struct {
  int trans_a, trans_b, m, n, k;
  float alpha;
  const float *a;
  int lda;
  const float *b;
  int ldb;
  float beta;
  float *c;
  int ldc;
  int by_rows, step;
} gemm_split;

static void gemm_part(void *context, int part) {
  const gemm_split *s = context;
  const int lo = part * s->step, side = s->by_rows ? s->m : s->n;
  const int count = side - lo < s->step ? side - lo : s->step;
  if (count <= 0) return;
  if (s->by_rows) {  // rows lo.. of op(A) and of C
    const float *a = s->trans_a ? s->a + lo : s->a + (long)lo * s->lda;
    gemm_serial(s->trans_a, s->trans_b, count, s->n, s->k, s->alpha, a, s->lda, s->b, s->ldb, s->beta,
                s->c + (long)lo * s->ldc, s->ldc);
  } else {  // columns lo.. of op(B) and of C
    const float *b = s->trans_b ? s->b + (long)lo * s->ldb : s->b + lo;
    gemm_serial(s->trans_a, s->trans_b, s->m, count, s->k, s->alpha, s->a, s->lda, b, s->ldb, s->beta, s->c + lo,
                s->ldc);
  }
}

void lk_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
              int ldb, float beta, float *c, int ldc) {
  if (m == 0 || n == 0) return;
  ensure_blas();
  // One row (batch-1 inference) is a matrix-vector product: GEMV skips GEMM's packing, which
  // costs more than the product itself at these sizes.
  if (m == 1 && !trans_a && blas.sgemv) {
    if (trans_b) {  // y[n] = B[n,k] · a
      blas.sgemv(ROW_MAJOR, NO_TRANS, n, k, alpha, b, ldb, a, 1, beta, c, 1);
    } else {        // y[n] = B[k,n]ᵀ · a
      blas.sgemv(ROW_MAJOR, TRANS, k, n, alpha, b, ldb, a, 1, beta, c, 1);
    }
    return;
  }
  const int parts = (double)m * n * k >= LK_GEMM_SPLIT_WORK ? lk_get_num_threads() : 1;
  if (parts <= 1) {
    gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Split the longer side of C into one block per thread; each block is an independent GEMM.
  gemm_split s = {trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, m >= n, 0};
  const int side = s.by_rows ? m : n, align = s.by_rows ? 8 : 16;
  s.step = ((side + parts - 1) / parts + align - 1) / align * align;
  lk_parallel_for((side + s.step - 1) / s.step, gemm_part, &s);
}

void lk_set_num_threads(int threads) { gemm_threads = threads < 1 ? 1 : threads; }

int lk_get_num_threads(void) {
  const int pool = lk_parallel_threads();
  return gemm_threads && gemm_threads < pool ? gemm_threads : pool;
}
