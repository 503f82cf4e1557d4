import Foundation
import LatheTensor
import LatheTestSupport
import XCTest

/// softmax and logSoftmax forward values.
final class SoftmaxTests: XCTestCase {
  func testRowsSumToOneAndMatchDefinition() {
    let x = TestData.uniform([4, 6], seed: 1900, low: -5, high: 5)
    let y = x.softmax()
    for i in 0..<4 {
      let row = (0..<6).map { Double(x[i, $0]) }
      let total = row.map { Foundation.exp($0) }.reduce(0, +)
      XCTAssertEqual((0..<6).map { Double(y[i, $0]) }.reduce(0, +), 1, accuracy: 1e-6)
      for j in 0..<6 { XCTAssertEqual(Double(y[i, j]), Foundation.exp(row[j]) / total, accuracy: 1e-6) }
    }
  }

  /// lk_softmax_rows on every ISA path: rows shorter and longer than its eight partial
  /// results, a CTC-sized row, large logits, and -inf masks, which must weigh exactly zero.
  func testSoftmaxRowsOnEveryKernelPathAgainstDouble() {
    forEachKernelPath { _, isa in
      for length in [1, 7, 8, 37, 18_710] {
        let x = TestData.uniform([2, length], seed: 1910 + UInt64(length), low: -30, high: 30)
        let y = x.softmax()
        var worst = 0.0
        for i in 0..<2 {
          let row = (0..<length).map { Double(x[i, $0]) }
          let peak = row.max()!
          let total = row.map { Foundation.exp($0 - peak) }.reduce(0, +)
          for j in 0..<length {
            let expected = Foundation.exp(row[j] - peak) / total
            worst = max(worst, abs(Double(y[i, j]) - expected) / max(expected, 1e-30))
          }
        }
        // x - max rounds to float before exp (as in any float softmax): near -60 that alone is
        // up to 2e-6 relative (2.7e-6 measured at the worst, on both paths).
        XCTAssertLessThan(worst, 5e-6, "\(isa) rows of \(length)")
      }
      let masked = Tensor<Float>(shape: [1, 5], scalars: [2, -.infinity, 1000, -.infinity, 999]).softmax()
      XCTAssertEqual(masked[0, 1], 0, isa)
      XCTAssertEqual(masked[0, 3], 0, isa)
      XCTAssertEqual(Double(masked[0, 2]), 1 / (1 + Foundation.exp(-1.0)), accuracy: 1e-6, isa)
    }
  }

  func testSoftmaxAlongInnerAxis() {
    let x = TestData.uniform([2, 3, 4], seed: 1901, low: -3, high: 3)
    let y = x.softmax(axis: 1)
    let logY = x.logSoftmax(axis: 1)
    for i in 0..<2 {
      for k in 0..<4 {
        let total = (0..<3).map { Foundation.exp(Double(x[i, $0, k])) }.reduce(0, +)
        for j in 0..<3 {
          XCTAssertEqual(Double(y[i, j, k]), Foundation.exp(Double(x[i, j, k])) / total, accuracy: 1e-6)
          XCTAssertEqual(Double(logY[i, j, k]), Double(x[i, j, k]) - Foundation.log(total), accuracy: 1e-5)
        }
      }
    }
  }

  func testLogSoftmaxIsStableForLargeLogits() {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1000, 999, 998, -1000, 0, 1000])
    let y = x.logSoftmax()
    XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
    let z = Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0))
    XCTAssertEqual(Double(y[0, 0]), -z, accuracy: 1e-5)
    XCTAssertEqual(Double(y[0, 2]), -2 - z, accuracy: 1e-5)
    XCTAssertEqual(y[1, 2], 0, accuracy: 1e-6)
    XCTAssertEqual(y[1, 0], -2000, accuracy: 1e-2)
    let p = x.softmax()
    XCTAssertTrue(p.scalars.allSatisfy(\.isFinite))
    XCTAssertEqual(p[1, 2], 1, accuracy: 1e-6)
  }
}
