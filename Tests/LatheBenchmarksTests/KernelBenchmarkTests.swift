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
