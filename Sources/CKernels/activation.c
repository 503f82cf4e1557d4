// Activations large enough to be worth a kernel of their own (the rest stay in Swift): a
// Swift closure per element runs several times slower than these loops, which compilers
// vectorise at -O3 (MobileNetV3's HardSwish after every convolution took 12% of its time).
#include "CKernels.h"

typedef enum { RELU, HARD_SIGMOID, HARD_SWISH } activation;

typedef struct {
  activation kind;
  const float *x;
  float *y;
  long n, per;
  float alpha, beta;
} activation_split;

static void activation_part(void *context, int task) {
  const activation_split *r = context;
  const long start = task * r->per, end = start + r->per < r->n ? start + r->per : r->n;
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
    // x * max(0, min(1, x/6 + 1/2)), the division kept as ONNX's reference writes it.
    for (long i = start; i < end; i++) {
      const float t = x[i] / 6.0f + 0.5f;
      y[i] = x[i] * (t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t));
    }
    break;
  }
}

static void run(activation kind, const float *x, float *y, long n, float alpha, float beta) {
  // One pass is memory-bound: a second core helps from a few hundred kilobytes on.
  const int threads = lk_parallel_threads();
  const int tasks = n < (1L << 17) ? 1 : threads;
  activation_split split = {kind, x, y, n, (n + tasks - 1) / tasks, alpha, beta};
  lk_parallel_for(tasks, activation_part, &split);
}

void lk_relu(const float *x, float *y, long n) { run(RELU, x, y, n, 0, 0); }

void lk_hard_sigmoid(const float *x, float *y, long n, float alpha, float beta) {
  run(HARD_SIGMOID, x, y, n, alpha, beta);
}

void lk_hard_swish(const float *x, float *y, long n) { run(HARD_SWISH, x, y, n, 0, 0); }
