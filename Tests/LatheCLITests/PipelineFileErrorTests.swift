import Foundation
import XCTest

/// A model or dataset the pipeline file names but that cannot be used: the error points at
/// the file's line, like every other mistake in the file.
extension CommandLineTests {
  func testUnknownModelAndDatasetNameTheirLine() throws {
    let file = scratch.appendingPathComponent("p.yaml")
    try "model: lenet-6\ndataset: digits\nsteps:\n  - technique: huffman\n".write(
      to: file, atomically: true, encoding: .utf8)
    var outcome = try lathe("run", file.path)
    XCTAssertEqual(outcome.status, 1, outcome.stderr)
    XCTAssertTrue(outcome.stderr.hasPrefix("Error: \(file.path):1: model: lenet-6: "), outcome.stderr)
    XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)

    try "model: digits-mlp\ndataset: digitz\nsteps:\n  - technique: huffman\n".write(
      to: file, atomically: true, encoding: .utf8)
    outcome = try lathe("run", file.path)
    XCTAssertTrue(outcome.stderr.hasPrefix("Error: \(file.path):2: dataset: digitz: "), outcome.stderr)

    try "model: lenet-5\ndataset: digits\nsteps:\n  - technique: huffman\n".write(
      to: file, atomically: true, encoding: .utf8)
    outcome = try lathe("run", file.path)
    XCTAssertTrue(outcome.stderr.hasPrefix("Error: \(file.path):2: dataset: lenet-5 reads examples"), outcome.stderr)
  }
}

extension CommandLineTests {
  /// Issue 11's repro: a sample pipeline on MNIST given a digits model trapped in `Tensor.reshaped`.
  func testRunWithAModelThatDoesNotFitTheDatasetIsOneLine() throws {
    let outcome = try lathe(
      "run", "samples/pipelines/deep-compression.yaml", "--model", "samples/models/digits-mlp.safetensors")
    XCTAssertEqual(outcome.status, 1, outcome.stderr)
    XCTAssertTrue(outcome.stderr.contains("reads examples of shape [1, 8, 8], but mnist"), outcome.stderr)
    XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
  }
}
