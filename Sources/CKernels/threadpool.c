// The one thread pool every parallel loop in Lathe runs on (Swift's Parallel.forEach, the split
// fp32 GEMM below it, the int8 and sparse layers).
//
// Why not GCD or OpenBLAS's own pool: both park idle threads on a futex, and waking a parked
// thread costs tens of microseconds on a virtual machine such as this project's CI: as long as
// a whole int8 layer at batch 256, so a two-core split gained nothing. `lathe bench --only
// kernels` keeps the comparison: int8 256x300x784 took 195 us on one thread, 183 us split in
// two by GCD's concurrentPerform, 105 us split in two by this pool. Like OpenMP runtimes and
// ONNX Runtime, the workers here spin for a while after each job (LK_SPIN_MICROSECONDS,
// default 2000) and only then sleep; one pool also means OpenBLAS's threads no longer spin on
// the core our workers need.
//
// Protocol. A job is published in one 64-bit word: generation (32 bits) | tasks (16) | next
// task (16). Participants (the caller and the workers) take task indices by compare-and-swap
// on that word, so a worker that wakes late can never take a task of a newer job with an
// older job's function: it reads the function only after its swap succeeded, and the caller
// publishes the next job only once every task of this one has finished.
#include "CKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 256, MAX_TASKS = 0xFFFF };

static struct {
  pthread_once_t once;
  int threads;                 // participants, caller included
  long spin_ns;
  _Atomic uint64_t word;       // generation << 32 | tasks << 16 | next
  lk_task_fn fn;               // of the current generation; read only after taking a task
  void *context;
  _Atomic int remaining;       // tasks of the current job not finished yet
  atomic_flag busy;            // one job at a time; other callers run serially
  pthread_mutex_t lock;
  pthread_cond_t wake;
  _Atomic int sleepers;
} pool = {.once = PTHREAD_ONCE_INIT, .busy = ATOMIC_FLAG_INIT, .lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER};

static _Thread_local int inside_pool_task;

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

static uint32_t generation_of(uint64_t w) { return (uint32_t)(w >> 32); }
static int tasks_of(uint64_t w) { return (int)((w >> 16) & 0xFFFF); }
static int next_of(uint64_t w) { return (int)(w & 0xFFFF); }

/// Takes the next task of generation `generation`; -1 when none is left (or the job changed).
static int take_task(uint32_t generation) {
  uint64_t w = atomic_load_explicit(&pool.word, memory_order_acquire);
  for (;;) {
    if (generation_of(w) != generation || next_of(w) >= tasks_of(w)) return -1;
    if (atomic_compare_exchange_weak_explicit(&pool.word, &w, w + 1, memory_order_acq_rel, memory_order_acquire))
      return next_of(w);
  }
}

/// Runs tasks of `generation` until none is left.
static void run_tasks(uint32_t generation) {
  int task;
  while ((task = take_task(generation)) >= 0) {
    pool.fn(pool.context, task);
    atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_release);
  }
}

static void *worker_main(void *unused) {
  (void)unused;
  inside_pool_task = 1;  // a task that calls lk_parallel_for again runs it serially
  lk_flush_subnormals();
  uint32_t seen = generation_of(atomic_load(&pool.word));
  for (;;) {
    // Spin until a new job appears; after spin_ns without one, sleep until woken.
    long start = 0;
    for (unsigned spins = 0; generation_of(atomic_load_explicit(&pool.word, memory_order_acquire)) == seen; spins++) {
      CPU_RELAX();
      if ((spins & 255) != 255) continue;
      const long t = now_ns();
      if (start == 0) start = t;
      if (t - start < pool.spin_ns) continue;
      pthread_mutex_lock(&pool.lock);
      atomic_fetch_add(&pool.sleepers, 1);
      while (generation_of(atomic_load(&pool.word)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
      atomic_fetch_sub(&pool.sleepers, 1);
      pthread_mutex_unlock(&pool.lock);
      break;
    }
    seen = generation_of(atomic_load_explicit(&pool.word, memory_order_acquire));
    run_tasks(seen);
  }
  return NULL;
}

static int online_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > MAX_WORKERS ? MAX_WORKERS : (int)n);
}

static void start_pool(void) {
  pool.threads = online_cores();
  const char *threads = getenv("LK_THREADS");
  if (threads && atoi(threads) > 0) pool.threads = atoi(threads) > MAX_WORKERS ? MAX_WORKERS : atoi(threads);
  const char *spin = getenv("LK_SPIN_MICROSECONDS");
  pool.spin_ns = (spin ? atol(spin) : 2000) * 1000L;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  for (int i = 1; i < pool.threads; i++) {
    pthread_t thread;
    if (pthread_create(&thread, &attributes, worker_main, NULL) != 0) {
      pool.threads = i;  // fewer workers than cores still works
      break;
    }
  }
  pthread_attr_destroy(&attributes);
}

int lk_parallel_threads(void) {
  pthread_once(&pool.once, start_pool);
  return pool.threads;
}

void lk_parallel_for(int tasks, lk_task_fn fn, void *context) {
  if (tasks <= 0) return;
  // Serial when there is one task or one core, inside a task, for more tasks than the job word
  // holds (callers split by cores, far below it), or while another thread's job holds the pool
  // (the TUI's engine thread and a measurement, say).
  if (tasks == 1 || tasks > MAX_TASKS || inside_pool_task || lk_parallel_threads() == 1 ||
      atomic_flag_test_and_set(&pool.busy)) {
    for (int t = 0; t < tasks; t++) fn(context, t);
    return;
  }
  pool.fn = fn;
  pool.context = context;
  atomic_store_explicit(&pool.remaining, tasks, memory_order_relaxed);
  const uint32_t generation = generation_of(atomic_load(&pool.word)) + 1;
  atomic_store(&pool.word, (uint64_t)generation << 32 | (uint64_t)tasks << 16);
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
  }
  inside_pool_task = 1;
  run_tasks(generation);
  inside_pool_task = 0;
  while (atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0) CPU_RELAX();
  atomic_flag_clear(&pool.busy);
}
