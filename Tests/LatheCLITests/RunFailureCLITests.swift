import Foundation
import XCTest

/// `onnx-test` on a graph that a test data set's sizes do not fit at run time: the importer
/// checked the shapes at probe sizes only, so the run finds it. The test fails with a line
/// naming the file, the node and why, and the command exits 1 instead of stopping on a trap.
extension CommandLineTests {
  func testRunTimeShapeFailureIsAFailLineNotACrash() throws {
    // y = Reshape(x, [2, -1]) for x [N]: even sizes (the probes, 4) fit, 3 does not.
    let folder = scratch.appendingPathComponent("test_pairs")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    // TensorProto: dims 1, data_type 2 (7: int64), name 8, raw_data 9.
    let pairs =
      field(1, varint: 2) + field(2, varint: 7) + field(8, "pairs")
      + field(9, [2, -1].flatMap { withUnsafeBytes(of: Int64($0).littleEndian) { Array($0) } })
    let graph =
      field(1, onnxNode("to_pairs", "Reshape", inputs: ["x", "pairs"], outputs: ["y"])) + field(2, "g")
      + field(5, pairs) + field(11, valueInfo("x", ["N"])) + field(12, valueInfo("y", [2, "M"]))
    let model = folder.appendingPathComponent("model.onnx")
    try Data(field(1, varint: 8) + field(8, field(1, "") + field(2, varint: 17)) + field(7, graph)).write(to: model)
    for (k, x) in [[Float](arrayLiteral: 1, 2, 3, 4), [1, 2, 3]].enumerated() {
      let set = folder.appendingPathComponent("test_data_set_\(k)")
      try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
      try Data(floats("x", [x.count], x)).write(to: set.appendingPathComponent("input_0.pb"))
      // What a reshape would give; the odd set's run fails before any comparison.
      let pairs = x.count % 2 == 0 ? [2, x.count / 2] : [x.count]
      try Data(floats("y", pairs, x)).write(to: set.appendingPathComponent("output_0.pb"))
    }
    let result = try lathe("onnx-test", folder.path)
    XCTAssertEqual(result.status, 1, "exit status (a trap gives its signal's number): " + result.stdout + result.stderr)
    let line = try XCTUnwrap(
      result.stdout.split(separator: "\n").first { $0.hasPrefix("FAIL test_pairs") }, result.stdout)
    for part in [model.path, "node \"to_pairs\"", "(Reshape): cannot reshape [3]"] {
      XCTAssertTrue(line.contains(part), String(line))
    }
    XCTAssertTrue(result.stdout.contains("0 passed, 1 failed"), result.stdout)
  }

  /// A float TensorProto: dims 1, data_type 2 (1: float), name 8, raw_data 9.
  private func floats(_ name: String, _ dims: [Int], _ values: [Float]) -> [UInt8] {
    let raw = values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    return dims.flatMap { field(1, varint: UInt64($0)) } + field(2, varint: 1) + field(8, name) + field(9, raw)
  }
}
