import CKernels

/// Work split over the machine's cores, for loops whose iterations are independent. Runs on
/// CKernels' thread pool (threadpool.c), whose workers spin briefly between jobs: waking a
/// parked thread costs tens of microseconds on virtual machines, as long as the work itself.
public enum Parallel {
  /// Threads parallel loops run on, the caller's included (LK_THREADS, else the online cores).
  public static let coreCount = Int(lk_parallel_threads())

  /// Below this many multiply-adds a product runs on one thread (LK_GEMM_SPLIT_WORK, where lk_sgemm
  /// stops splitting), so callers can run several such products at once instead.
  public static let smallGEMMWork = Int(LK_GEMM_SPLIT_WORK)

  /// Calls `body(worker)` for worker in 0..<workers, concurrently when workers > 1. The
  /// caller guarantees that workers touch disjoint memory (each writes its own images, rows...).
  public static func forEach(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
      body(0)
      return
    }
    withoutActuallyEscaping(body) { escapable in
      var task = escapable
      withUnsafeMutablePointer(to: &task) { pointer in
        lk_parallel_for(
          Int32(workers),
          { context, worker in
            context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(worker))
          }, pointer)
      }
    }
  }
}
