import Dispatch
import Foundation

/// Work split over the machine's cores, for loops whose iterations are independent.
public enum Parallel {
  /// Cores this process may use.
  public static let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

  /// Below this many multiply-adds OpenBLAS runs a GEMM on one thread (its
  /// GEMM_MULTITHREAD_THRESHOLD × 65536), so callers can run several such products at once.
  public static let smallGEMMWork = 4 * 65536

  /// Calls `body(worker)` for worker in 0..<workers, concurrently when workers > 1. The
  /// caller guarantees that workers touch disjoint memory (each writes its own images, rows...).
  public static func forEach(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
      body(0)
      return
    }
    withoutActuallyEscaping(body) { escapable in
      let shared = UncheckedSendable(escapable)
      DispatchQueue.concurrentPerform(iterations: workers) { shared.value($0) }
    }
  }
}

/// Carries a value the compiler cannot prove thread-safe across a concurrency boundary; used
/// only where the work split above makes the accesses disjoint.
struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
