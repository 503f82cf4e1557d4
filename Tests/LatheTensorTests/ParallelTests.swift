import Dispatch
import LatheTensor
import XCTest

/// Parallel.forEach over the kernels' thread pool.
final class ParallelTests: XCTestCase {
  /// The pool runs every task exactly once, runs a nested loop serially inside a task, and lets
  /// a second thread's loop through (serially) while the pool is busy.
  func testParallelForRunsEveryTaskOnce() {
    final class Counts: @unchecked Sendable {
      var hits = [Int](repeating: 0, count: 64 * 8)
    }
    let counts = Counts()
    for tasks in [1, 2, 3, 64] {
      counts.hits = [Int](repeating: 0, count: 64 * 8)
      Parallel.forEach(tasks) { t in
        // Each task owns the slice [8t, 8t+8): a nested loop fills it.
        Parallel.forEach(8) { inner in counts.hits[t * 8 + inner] += 1 }
      }
      XCTAssertEqual(counts.hits.prefix(tasks * 8).filter { $0 != 1 }.count, 0, "\(tasks) tasks")
      XCTAssertEqual(counts.hits.dropFirst(tasks * 8).filter { $0 != 0 }.count, 0)
    }
    // Two threads at once, many times: every result complete, none lost to the busy pool.
    final class Sums: @unchecked Sendable { var values = [Int](repeating: 0, count: 2) }
    let sums = Sums()
    DispatchQueue.concurrentPerform(iterations: 2) { caller in
      var total = 0
      for _ in 0..<200 {
        var parts = [Int](repeating: 0, count: 4)
        parts.withUnsafeMutableBufferPointer { p in
          let base = UncheckedPointer(p.baseAddress!)
          Parallel.forEach(4) { t in base.pointer[t] = t + 1 }
        }
        total += parts.reduce(0, +)
      }
      sums.values[caller] = total
    }
    XCTAssertEqual(sums.values, [2000, 2000])
  }
}

/// Hands a buffer to parallel tasks that write disjoint elements.
private struct UncheckedPointer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Int>
  init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
}
