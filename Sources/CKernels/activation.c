// Activations large enough to be worth a kernel of their own (the rest stay in Swift).
#include "CKernels.h"

typedef struct {
  const float *x;
  float *y;
  long n, per;
} relu_split;

static void relu_part(void *context, int task) {
  const relu_split *r = context;
  const long start = task * r->per, end = start + r->per < r->n ? start + r->per : r->n;
  for (long i = start; i < end; i++) r->y[i] = r->x[i] > 0.0f ? r->x[i] : 0.0f;  // vectorised at -O3
}

void lk_relu(const float *x, float *y, long n) {
  // One pass is memory-bound: a second core helps from a few hundred kilobytes on.
  const int threads = lk_parallel_threads();
  const int tasks = n < (1L << 17) ? 1 : threads;
  relu_split split = {x, y, n, (n + tasks - 1) / tasks};
  lk_parallel_for(tasks, relu_part, &split);
}
