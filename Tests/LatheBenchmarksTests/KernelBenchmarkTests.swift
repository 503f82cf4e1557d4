import Foundation
import LatheBenchmarks
import XCTest

/// The benchmark runs and reports sane numbers (quick mode; LATHE_KERNEL_BENCH=full for
/// the full run, printed).
final class KernelBenchmarkTests: XCTestCase {
  func testBenchmarkProducesResults() {
    let full = ProcessInfo.processInfo.environment["LATHE_KERNEL_BENCH"] == "full"
    let results = KernelBenchmark.run(quick: !full)
    XCTAssertFalse(results.isEmpty)
    for r in results {
      FileHandle.standardError.write(Data("\(r)\n".utf8))
      XCTAssertTrue(r.seconds > 0 && r.seconds.isFinite, r.description)
    }
  }
}

/// `lathe bench --only sparse24` times both layers of every shape on the best path (quick mode).
final class Sparse24BenchmarkTests: XCTestCase {
  func testBothLayersAreTimedPerShape() {
    let results = KernelBenchmark.sparse24(quick: true)
    XCTAssertEqual(results.filter { $0.name.contains("dense") && !$0.name.contains("x dense") }.count, 1)
    XCTAssertEqual(results.filter { $0.name.contains("2:4") }.count, 1)
    for r in results { XCTAssertTrue(r.seconds > 0 && r.seconds.isFinite, r.description) }
  }
}
