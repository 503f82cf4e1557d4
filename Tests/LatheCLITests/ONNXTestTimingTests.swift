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

  func testTimeOptionTimesIntegerInputsFedAtRunTime() throws {
    // y = Gather(w, i) with w = [10, 20, 30, 40] an initializer and i an int64 input: onnx-test
    // feeds i at run time (as exact floats), so the run is timed, with no "all bound" note.
    let folder = scratch.appendingPathComponent("test_gather")
    let set = folder.appendingPathComponent("test_data_set_0")
    try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
    let weights = floatTensor("w", [4], [10, 20, 30, 40])
    let node = onnxNode("gather", "Gather", inputs: ["w", "i"], outputs: ["y"])
    let input = field(1, "i") + field(2, field(1, field(1, varint: 7) + field(2, field(1, field(1, varint: 2)))))
    let graph = field(1, node) + field(2, "g") + field(5, weights) + field(11, input) + field(12, valueInfo("y", [2]))
    try Data(field(1, varint: 8) + field(8, field(1, "") + field(2, varint: 17)) + field(7, graph))
      .write(to: folder.appendingPathComponent("model.onnx"))
    // TensorProto of int64 (data_type 7) indices [1, 3]; the input's ValueInfo above says int64 [2].
    try Data(field(1, varint: 2) + field(2, varint: 7) + field(8, "i") + field(9, [1, 3].flatMap(int64Bytes)))
      .write(to: set.appendingPathComponent("input_0.pb"))
    try Data(floatTensor("y", [2], [20, 40])).write(to: set.appendingPathComponent("output_0.pb"))
    let result = try lathe("onnx-test", folder.path, "--time", "2")
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    let lines = result.stdout.split(separator: "\n")
    let line = try XCTUnwrap(lines.first { $0.hasPrefix("time test_gather ") }, result.stdout)
    XCTAssertTrue(line.hasSuffix("2 runs"), String(line))
  }

  /// A backend-test folder: model.onnx a Relu of x[N,4] (`onnxModel`), and one test data set per
  /// entry of `sets`, each a [2,4] input with its Relu written out as the expected output.
  func reluTestFolder(sets: [[Float]]) throws -> URL {
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
  func floatTensor(_ name: String, _ dims: [Int], _ values: [Float]) -> [UInt8] {
    let raw = values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    return dims.flatMap { field(1, varint: UInt64($0)) } + field(2, varint: 1) + field(8, name) + field(9, raw)
  }

  private func int64Bytes(_ value: Int) -> [UInt8] { withUnsafeBytes(of: Int64(value).littleEndian) { Array($0) } }

  /// The numbers before " ms" in a timing line.
  private func milliseconds(in line: String) throws -> [Double] {
    let words = line.split(separator: " ")
    return try words.indices.filter { words[$0].hasPrefix("ms") && $0 > 0 }.map { index in
      try XCTUnwrap(Double(words[index - 1]), "not a number before ms in \(line)")
    }
  }
}
