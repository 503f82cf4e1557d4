// Activations large enough to be worth a kernel of their own (the rest stay in Swift): a
// Swift closure per element runs several times slower than these loops, which compilers
// vectorise at -O3 (MobileNetV3's HardSwish after every convolution took 12% of its time).
#include "simd.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef enum { RELU, HARD_SIGMOID, HARD_SWISH, ERF, GELU } activation;

/// e^v for v <= 0 without libm, so the loops calling it vectorise (Cephes' expf: v = n ln2 + r,
/// a degree-6 polynomial in r, 2^n put into the exponent bits; about 1 ulp).
LK_INLINE float exp_nonpositive(float v) {
  // Below -87 the result is subnormal (the kernels flush those) or zero: zero, exactly, so a
  // -inf attention mask weighs nothing.
  const int underflow = v < -87.0f;
  v = underflow ? -87.0f : v;
  const float n = rintf(v * 1.44269504088896341f);
  const float r = v - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return underflow ? 0.0f : p * scale;
}

/// erf(x) to about 3e-7 relative, branch-free: the Maclaurin series through x^13 below 0.5
/// (where the second form's absolute error would be a large relative one), Abramowitz and
/// Stegun 7.1.26 above (absolute error 1.5e-7 where erf >= 0.52). libm's erff, called per
/// element, was a fifth of PP-OCRv6's recogniser (its GELUs are spelled with Erf).
LK_INLINE float erf_approx(float x) {
  const float a = fabsf(x), x2 = x * x;
  float series = -1.0f / 75600.0f;  // 2/sqrt(pi) * sum (-1)^k x^(2k+1) / (k! (2k+1)), k <= 6
  series = series * x2 + 1.0f / 9360.0f;
  series = series * x2 - 1.0f / 1320.0f;
  series = series * x2 + 1.0f / 216.0f;
  series = series * x2 - 1.0f / 42.0f;
  series = series * x2 + 1.0f / 10.0f;
  series = series * x2 - 1.0f / 3.0f;
  series = (series * x2 + 1.0f) * x * 1.12837916709551257f;
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  float q = 1.061405429f;
  q = q * t - 1.453152027f;
  q = q * t + 1.421413741f;
  q = q * t - 0.284496736f;
  q = q * t + 0.254829592f;
  const float tail = 1.0f - q * t * exp_nonpositive(-x2);
  const float signed_tail = x < 0.0f ? -tail : tail;
  return a < 0.5f ? series : signed_tail;
}

typedef struct {
  activation kind;
  const float *x;
  float *y;
  long n, per;
  float alpha, beta;
  int avx2;  // run the AVX2 build of the loops (lk_isa_current)
} activation_split;

/// The loops, compiled twice below: for the baseline ISA and with AVX2 and FMA, where each
/// vector holds eight floats instead of four (erf's polynomials are most of the work).
LK_INLINE void activation_loop(const activation_split *r, long start, long end) {
  const float *x = r->x;
  float *y = r->y;
  const float alpha = r->alpha, beta = r->beta;
  switch (r->kind) {
  case RELU:
    for (long i = start; i < end; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case HARD_SIGMOID:
    for (long i = start; i < end; i++) {
      const float t = alpha * x[i] + beta;
      y[i] = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    }
    break;
  case HARD_SWISH:
    // x * max(0, min(1, alpha x + beta)) with ONNX's alpha = 1/6, beta = 1/2.
    for (long i = start; i < end; i++) {
      const float t = x[i] * (1.0f / 6.0f) + 0.5f;
      y[i] = x[i] * (t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t));
    }
    break;
  case ERF:
    for (long i = start; i < end; i++) y[i] = erf_approx(x[i]);
    break;
  case GELU:
    for (long i = start; i < end; i++) y[i] = 0.5f * x[i] * (1.0f + erf_approx(x[i] * 0.70710678118654752f));
    break;
  }
}

static void activation_portable(const activation_split *r, long start, long end) { activation_loop(r, start, end); }

#if LK_X86
LK_AVX2 static void activation_avx2(const activation_split *r, long start, long end) { activation_loop(r, start, end); }
#endif

static void activation_part(void *context, int task) {
  const activation_split *r = context;
  const long start = task * r->per, end = start + r->per < r->n ? start + r->per : r->n;
#if LK_X86
  if (r->avx2) {
    activation_avx2(r, start, end);
    return;
  }
#endif
  activation_portable(r, start, end);
}

static void run(activation kind, const float *x, float *y, long n, float alpha, float beta) {
  // One pass is memory-bound: a second core helps only once the data come from memory. Below
  // 4 MB they sit in the caches of the threads that wrote them, and splitting moved half of
  // them between cores: MobileNetV3 at batch 1 took 6.2 ms on two threads against 5.6 on one
  // (3.8 unsplit; a Zen 4 VM, scripts/real-models-bench.sh).
  const int threads = lk_parallel_threads();
  const int tasks = n < LK_SPLIT_STREAM_ELEMENTS ? 1 : threads;
  activation_split split = {kind, x, y, n, (n + tasks - 1) / tasks, alpha, beta, lk_isa_current() >= LK_ISA_AVX2};
  lk_parallel_for(tasks, activation_part, &split);
}

void lk_relu(const float *x, float *y, long n) { run(RELU, x, y, n, 0, 0); }

void lk_hard_sigmoid(const float *x, float *y, long n, float alpha, float beta) {
  run(HARD_SIGMOID, x, y, n, alpha, beta);
}

void lk_hard_swish(const float *x, float *y, long n) { run(HARD_SWISH, x, y, n, 0, 0); }

void lk_erf(const float *x, float *y, long n) { run(ERF, x, y, n, 0, 0); }

void lk_gelu(const float *x, float *y, long n) { run(GELU, x, y, n, 0, 0); }

/// Softmax of each row, compiled twice like the activations: the row's maximum and sum in
/// eight partial results (so both reductions vectorise), exp_nonpositive of x - max.
LK_INLINE void softmax_loop(const float *x, float *y, long rows, long n) {
  for (long r = 0; r < rows; r++) {
    const float *row = x + r * n;
    float *out = y + r * n;
    float peaks[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    long i = 0;
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; l++) peaks[l] = row[i + l] > peaks[l] ? row[i + l] : peaks[l];
    float peak = peaks[0];
    for (int l = 1; l < 8; l++) peak = peaks[l] > peak ? peaks[l] : peak;
    for (; i < n; i++) peak = row[i] > peak ? row[i] : peak;
    for (i = 0; i < n; i++) out[i] = exp_nonpositive(row[i] - peak);
    float sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (i = 0; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; l++) sums[l] += out[i + l];
    float total = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
    for (; i < n; i++) total += out[i];
    const float inv = 1.0f / total;
    for (i = 0; i < n; i++) out[i] *= inv;
  }
}

static void softmax_portable(const float *x, float *y, long rows, long n) { softmax_loop(x, y, rows, n); }

#if LK_X86
LK_AVX2 static void softmax_avx2(const float *x, float *y, long rows, long n) { softmax_loop(x, y, rows, n); }
#endif

void lk_softmax_rows(const float *x, float *y, long rows, long n) {
#if LK_X86
  if (lk_isa_current() >= LK_ISA_AVX2) {
    softmax_avx2(x, y, rows, n);
    return;
  }
#endif
  softmax_portable(x, y, rows, n);
}
