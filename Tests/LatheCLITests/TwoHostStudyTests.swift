import Foundation
import XCTest

/// One study on two hosts: `scripts/two-host-study.sh` makes two network namespaces with their
/// own host names and addresses, runs a `--worker` in each against one PostgreSQL across a
/// bridge, and pulls the plug on one host mid-trial. Skips (the script's exit 77) where
/// namespaces or PostgreSQL are not available.
extension CommandLineTests {
  func testAStudyOnTwoHostsSurvivesOneHostDying() throws {
    let script = Self.packageRoot.appendingPathComponent("scripts/two-host-study.sh").path
    let result = try shell(script, [], environment: ["LATHE": Self.binary.path])
    if result.status == 77 { throw XCTSkip(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) }
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    XCTAssertTrue(result.stdout.contains("complete 8, failed 1, retried 1, hosts 2"), result.stdout)
    XCTAssertTrue(result.stdout.contains("0 FAIL \"host-a\""), result.stdout)
  }
}
