import CKernels
import LatheTensor
import XCTest

/// Runs `body` once per instruction-set path this CPU supports (portable always included),
/// with the kernels forced onto that path, then returns them to the best one. The kernels'
/// own tests (CKernelsTests) have the same helper; these are the Swift layers' tests.
func forEachKernelPath(_ body: (_ isa: Int32, _ name: String) throws -> Void) rethrows {
  defer { _ = lk_isa_force(-1) }
  for isa in 0..<Int32(LK_ISA_COUNT) where lk_isa_supported(isa) != 0 {
    XCTAssertEqual(lk_isa_force(isa), 1)
    try body(isa, String(cString: lk_isa_name(isa)))
  }
}

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
