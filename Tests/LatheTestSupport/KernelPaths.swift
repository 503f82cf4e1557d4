import CKernels
import XCTest

/// Runs `body` once per instruction-set path this CPU supports (portable always included),
/// with the kernels forced onto that path, then returns them to the best one: every ISA path
/// is checked on whichever machine runs the tests.
public func forEachKernelPath(_ body: (_ isa: Int32, _ name: String) throws -> Void) rethrows {
  defer { _ = lk_isa_force(-1) }
  for isa in 0..<Int32(LK_ISA_COUNT) where lk_isa_supported(isa) != 0 {
    XCTAssertEqual(lk_isa_force(isa), 1)
    try body(isa, String(cString: lk_isa_name(isa)))
  }
}
