import Foundation
import XCTest

/// An output path whose folder cannot be made gives one line naming the folder and the
/// system's reason (it used to print Foundation's NSCocoaErrorDomain dump).
extension CommandLineTests {
  func testRunIntoAnUncreatableFolderIsOneLine() throws {
    let outcome = try lathe("run", "samples/pipelines/int8-ptq.yaml", "--output-dir", "/proc/x/y")
    XCTAssertEqual(outcome.status, 1, outcome.stderr)
    XCTAssertEqual(outcome.stderr, "Error: cannot create folder /proc/x/y: No such file or directory\n")
  }

  func testExportIntoAnUncreatableFolderIsOneLine() throws {
    let outcome = try lathe("export", "digits-mlp", "--format", "onnx", "--output", "/proc/nope/m.onnx")
    XCTAssertEqual(outcome.status, 1, outcome.stderr)
    XCTAssertEqual(outcome.stderr, "Error: cannot create folder /proc/nope: No such file or directory\n")
  }
}
