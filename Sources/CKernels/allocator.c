// Keeps the allocator from handing big tensors back to the system between forward passes.
//
// glibc serves blocks above its mmap threshold with fresh mmap()s and trims the heap top once
// more than its trim threshold is free; both adapt to the process's history. A LeNet-5 batch of
// 256 allocates a few activations of ~5 MB per pass, so depending on that history each pass
// either reused memory or page-faulted all of it in again: the same model measured 4 to 17 ms
// from one process to the next. Fixed thresholds make the memory stay in the process (its peak
// is unchanged) and the timings repeatable. Runs once when the library loads.
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>

__attribute__((constructor)) static void keep_large_blocks(void) {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);   // glibc's largest allowed value
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
#endif
}
#endif
