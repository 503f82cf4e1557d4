import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

extension SeededGenerator {
  mutating func floats(_ count: Int, _ range: ClosedRange<Float>) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &self) }
  }
}

/// Asserts |a - b| <= tolerance * max(1, |b|).
func assertClose(
  _ a: Float, _ b: Double, _ tolerance: Double, _ message: @autoclosure () -> String, file: StaticString = #filePath,
  line: UInt = #line
) {
  if abs(Double(a) - b) > tolerance * max(1, abs(b)) {
    XCTFail("\(message()): got \(a), expected \(b)", file: file, line: line)
  }
}
