import CKernels
import Foundation
import XCTest

/// How the kernels pick their instruction-set path: detection, forcing and the LK_ISA variable.
final class KernelISATests: XCTestCase {
  /// LK_ISA as the suite was started with (`LK_ISA=avx2 swift test` runs every test on AVX2),
  /// put back after each test here so the tests after these keep that path.
  private static let startingPath = ProcessInfo.processInfo.environment["LK_ISA"]

  override func tearDown() {
    if let path = Self.startingPath { setenv("LK_ISA", path, 1) } else { unsetenv("LK_ISA") }
    _ = lk_isa_force(-1)
  }

  func testEveryPathHasADistinctNameAndPortableIsAlwaysThere() {
    let names = (0..<Int32(LK_ISA_COUNT)).map { String(cString: lk_isa_name($0)) }
    XCTAssertEqual(Set(names).count, names.count, "\(names)")
    XCTAssertFalse(names.contains("unknown"))
    XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_PORTABLE)), 1)
    XCTAssertEqual(lk_isa_supported(lk_isa_best()), 1)
  }

  func testPathsOfTheOtherArchitectureAreNeverSupported() {
    #if arch(x86_64)
      XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_NEON)), 0)
      XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_NEON_DOT)), 0)
      // Every x86 path includes AVX2: one with VNNI or AVX-512 implies it.
      for isa in [LK_ISA_AVX512, LK_ISA_AVXVNNI, LK_ISA_AVX512VNNI] where lk_isa_supported(Int32(isa)) != 0 {
        XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_AVX2)), 1)
      }
      if lk_isa_supported(Int32(LK_ISA_AVX512VNNI)) != 0 { XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_AVX512)), 1) }
    #elseif arch(arm64)
      XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_AVX2)), 0)
      XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_NEON)), 1)
    #endif
  }

  func testForcingAnUnsupportedPathChangesNothing() {
    let unsupported = (0..<Int32(LK_ISA_COUNT)).first { lk_isa_supported($0) == 0 }
    guard let unsupported else { return XCTAssertEqual(lk_isa_supported(Int32(LK_ISA_COUNT)), 0) }
    XCTAssertEqual(lk_isa_force(Int32(LK_ISA_PORTABLE)), 1)
    XCTAssertEqual(lk_isa_force(unsupported), 0)
    XCTAssertEqual(lk_isa_force(Int32(LK_ISA_COUNT)), 0)
    XCTAssertEqual(lk_isa_current(), Int32(LK_ISA_PORTABLE))
  }

  func testTheEnvironmentNamesTheDefaultPath() {
    setenv("LK_ISA", "portable", 1)
    _ = lk_isa_force(-1)
    XCTAssertEqual(lk_isa_current(), Int32(LK_ISA_PORTABLE))
    setenv("LK_ISA", "no-such-path", 1)
    _ = lk_isa_force(-1)
    XCTAssertEqual(lk_isa_current(), lk_isa_best(), "an unknown name falls back to the best path")
    unsetenv("LK_ISA")
    _ = lk_isa_force(-1)
    XCTAssertEqual(lk_isa_current(), lk_isa_best())
  }

  func testTheSuitesOwnPathComesBackAfterThese() {
    setenv("LK_ISA", "portable", 1)
    _ = lk_isa_force(-1)
    tearDown()
    let supported = (0..<Int32(LK_ISA_COUNT)).filter { lk_isa_supported($0) != 0 }
    let named = supported.first { String(cString: lk_isa_name($0)) == Self.startingPath }
    XCTAssertEqual(lk_isa_current(), named ?? lk_isa_best(), "LK_ISA was \(Self.startingPath ?? "unset")")
  }
}
