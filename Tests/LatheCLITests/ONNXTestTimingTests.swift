import Foundation
import XCTest

/// `onnx-test --time ROUNDS --threads N`, which scripts/real-models-bench.sh reads: one timing
/// line per matching test data set, none for a set that does not match, and bad counts refused.
extension CommandLineTests {
  func testTimeOptionTimesEachMatchingSet() throws {
    let folder = try reluTestFolder(sets: [[-1, 0, 2, -3, 4, 5, -6, 7], [0.5, -0.5, 1, -1, 2, -2, 3, -3]])
    let result = try lathe("onnx-test", folder.path, "--time", "3", "--threads", "1")
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    XCTAssertTrue(result.stdout.contains("1 passed, 0 failed"), result.stdout)
    let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("time test_relu ") }
    XCTAssertEqual(lines.count, 2, result.stdout)
    for (line, set) in zip(lines, ["test_data_set_0", "test_data_set_1"]) {
      XCTAssertTrue(line.hasPrefix("time test_relu \(set): median "), String(line))
      XCTAssertTrue(line.hasSuffix(", 3 runs"), String(line))
      let figures = try milliseconds(in: String(line))
      XCTAssertEqual(figures.count, 2, String(line))
      XCTAssertGreaterThanOrEqual(figures[0], figures[1], "the median is not below the fastest run: \(line)")
      XCTAssertGreaterThan(figures[1], 0, String(line))
    }
  }

  func testTimeOptionSkipsASetThatDoesNotMatch() throws {
    let folder = try reluTestFolder(sets: [[1, 2, 3, 4, 5, 6, 7, 8], [1, -2, 3, -4, 5, -6, 7, -8]])
    // The second set's expected output is wrong in its last element.
    let wrong = folder.appendingPathComponent("test_data_set_1/output_0.pb")
    try Data(floatTensor("y", [2, 4], [1, 0, 3, 0, 5, 0, 7, 1])).write(to: wrong)
    let result = try lathe("onnx-test", folder.path, "--time", "2")
    XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
    XCTAssertTrue(result.stdout.contains("FAIL test_relu: test_data_set_1 output 0: element 7"), result.stdout)
    let timed = result.stdout.split(separator: "\n").filter { $0.hasPrefix("time ") }
    XCTAssertEqual(timed.map { String($0.prefix(31)) }, ["time test_relu test_data_set_0:"], result.stdout)
  }

  func testTimeAndThreadsMustBePositive() throws {
    let folder = try reluTestFolder(sets: [[1, 2, 3, 4, 5, 6, 7, 8]])
    for (option, value) in [("--time", "0"), ("--threads", "0")] {
      let result = try lathe("onnx-test", folder.path, option, value)
      XCTAssertNotEqual(result.status, 0, "\(option) \(value) was accepted")
      XCTAssertTrue(result.stderr.contains("\(option) must be at least 1"), result.stderr)
      XCTAssertFalse(result.stdout.contains("passed"), "nothing runs: \(result.stdout)")
    }
  }

  /// A backend-test folder: model.onnx a Relu of x[N,4] (`onnxModel`), and one test data set per
  /// entry of `sets`, each a [2,4] input with its Relu written out as the expected output.
  private func reluTestFolder(sets: [[Float]]) throws -> URL {
    let folder = scratch.appendingPathComponent("test_relu")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try onnxModel(nodes: [onnxNode("relu", "Relu", inputs: ["x"], outputs: ["y"])])
      .write(to: folder.appendingPathComponent("model.onnx"))
    for (k, values) in sets.enumerated() {
      let set = folder.appendingPathComponent("test_data_set_\(k)")
      try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
      try Data(floatTensor("x", [2, 4], values)).write(to: set.appendingPathComponent("input_0.pb"))
      try Data(floatTensor("y", [2, 4], values.map { max($0, 0) })).write(to: set.appendingPathComponent("output_0.pb"))
    }
    return folder
  }

  /// TensorProto of float32 values: dims 1, data_type 2 (1 = float), name 8, raw_data 9.
  private func floatTensor(_ name: String, _ dims: [Int], _ values: [Float]) -> [UInt8] {
    let raw = values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    return dims.flatMap { field(1, varint: UInt64($0)) } + field(2, varint: 1) + field(8, name) + field(9, raw)
  }

  /// The numbers before " ms" in a timing line.
  private func milliseconds(in line: String) throws -> [Double] {
    let words = line.split(separator: " ")
    return try words.indices.filter { words[$0].hasPrefix("ms") && $0 > 0 }.map { index in
      try XCTUnwrap(Double(words[index - 1]), "not a number before ms in \(line)")
    }
  }
}
