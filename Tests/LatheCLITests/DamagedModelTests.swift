import Foundation
import XCTest

/// Model files that once crashed `lathe` (found by mutation fuzzing: a flatten axis of 0 or
/// 2^31, shapes of 2^31 and 2^62, an output of 10^9 units, a node with no inputs, padding of
/// 2^40), and ONNX files that trapped or allocated terabytes (huge dims, dilations, padding,
/// reshapes, dangling outputs). Each must now give one line naming the file and the node, with
/// exit status 1.
extension CommandLineTests {
  func testDamagedModelFilesGiveOneLineErrors() throws {
    let folder = Self.packageRoot.appendingPathComponent("Tests/Regressions/models")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
      $0.hasSuffix(".safetensors") || $0.hasSuffix(".onnx")
    }
    XCTAssertGreaterThanOrEqual(files.count, 19, "11 safetensors and 8 ONNX files")
    for name in files.sorted() {
      let path = folder.appendingPathComponent(name).path
      for arguments in [["inspect", path], ["eval", path, "--dataset", "mnist-5k"]] {
        let outcome = try lathe(arguments)
        XCTAssertEqual(outcome.status, 1, "\(arguments.joined(separator: " ")): \(outcome.stderr.prefix(300))")
        let lines = outcome.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "\(name): \(outcome.stderr.prefix(300))")
        XCTAssertTrue(outcome.stderr.contains(name), "\(name): the error must name the file: \(outcome.stderr)")
      }
    }
  }
}

extension CommandLineTests {
  /// Training on an IDX set with huge negative pixels diverged and saved NaN weights that the
  /// loader then refused; the step must fail and write no model.
  func testStepThatDivergesFailsAndSavesNothing() throws {
    let data = Self.packageRoot.appendingPathComponent("Tests/Regressions/datasets/dataset-f32-neg-pixels").path
    let output = scratch.appendingPathComponent("out")
    let outcome = try lathe(
      "run", "samples/tutorials/pipelines/first-tour.yaml", "--dataset", data, "--output-dir", output.path,
      "--latency-seconds", "0.01")
    XCTAssertEqual(outcome.status, 1, outcome.stderr)
    XCTAssertTrue(outcome.stderr.contains("NaN or infinite"), outcome.stderr)
    let written = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
    XCTAssertEqual(written.filter { $0.hasSuffix(".safetensors") }, ["00-input.safetensors"])
  }
}

extension CommandLineTests {
  /// `lathe run` without `--output-dir` used to leave `lathe-run-PID` in the temporary folder
  /// for good; its scratch folder must be gone when the run ends.
  func testRunWithoutOutputFolderLeavesNothingBehind() throws {
    let temporary = scratch.appendingPathComponent("tmp")
    try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    let outcome = try lathe(
      ["run", "samples/tutorials/pipelines/first-tour.yaml", "--latency-seconds", "0.01"],
      environment: ["TMPDIR": temporary.path])
    XCTAssertEqual(outcome.status, 0, outcome.stderr)
    XCTAssertTrue(outcome.stdout.contains("pass --output-dir to keep them"), outcome.stdout)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporary.path), [])
  }
}
