import Foundation
import LatheIO
import XCTest

/// A graph of two inputs (x, and an int64 mask) scored by `lathe eval` on an .npz that holds
/// both by name and no labels: measured against a reference model, never by an argmax over
/// labels; an .npz without the mask is refused by its name.
extension CommandLineTests {
  /// y = x * mask, x float [N, 4] and mask int64 [N, 4]; `scale` multiplies x first.
  func maskedModel(_ name: String, scale: Float) throws -> String {
    let scaleBytes = withUnsafeBytes(of: scale.bitPattern.littleEndian) { Array($0) }
    let s = field(1, varint: 1) + field(2, varint: 1) + field(8, "s") + field(9, scaleBytes)
    let nodes = [
      onnxNode("scale", "Mul", inputs: ["x", "s"], outputs: ["xs"]),
      // Cast to float (to = 1): AttributeProto name 1, i 3, type 20 (INT = 2).
      onnxNode("mask_float", "Cast", inputs: ["mask"], outputs: ["m"])
        + field(5, field(1, "to") + field(3, varint: 1) + field(20, varint: 2)),
      onnxNode("masked", "Mul", inputs: ["xs", "m"], outputs: ["y"]),
    ]
    // ValueInfoProto of an int64 (elem_type 7) [N, 4] tensor: valueInfo writes float ones.
    let mask = field(1, "mask") + field(2, field(1, field(1, varint: 7) + field(2, dims(["N", 4]))))
    let graph =
      nodes.flatMap { field(1, $0) } + field(2, "g") + field(5, s) + field(11, valueInfo("x", ["N", 4]))
      + field(11, mask) + field(12, valueInfo("y", ["N", 4]))
    let url = scratch.appendingPathComponent("\(name).onnx")
    try Data(field(1, varint: 8) + field(8, field(1, "") + field(2, varint: 13)) + field(7, graph)).write(to: url)
    return url.path
  }

  private func dims(_ dims: [Any]) -> [UInt8] {
    dims.flatMap { dim in field(1, (dim as? Int).map { field(1, varint: UInt64($0)) } ?? field(2, "\(dim)")) }
  }

  func testEvalFeedsEveryInputFromTheArchiveAndComparesWithTheReference() throws {
    let model = try maskedModel("masked", scale: 1)
    let doubled = try maskedModel("doubled", scale: 2)
    let x = (0..<12).map { Float($0) - 5 }
    let mask: [Float] = [1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1]
    let archive = scratch.appendingPathComponent("pairs.npz")
    try NumpyArchive.write(
      [
        "x": NumpyArray(shape: [3, 4], values: x),
        "mask": NumpyArray(dtype: NumpyDType(kind: .signed, byteSize: 8), shape: [3, 4], values: mask),
      ], to: archive)
    let same = try lathe("eval", model, "--dataset", archive.path, "--reference", model, "--json")
    XCTAssertEqual(same.status, 0, same.stderr)
    let comparison = try XCTUnwrap((same.json["comparisons"] as? [[String: Any]])?.first, same.stdout)
    XCTAssertEqual(comparison["agreement"] as? Double, 1)
    XCTAssertEqual(comparison["max_abs_error"] as? Double, 0)
    // Doubling x doubles every kept value: the largest |error| is the largest |x·mask|, 6.
    let other = try lathe("eval", doubled, "--dataset", archive.path, "--reference", model, "--json")
    XCTAssertEqual(other.status, 0, other.stderr)
    let diff = try XCTUnwrap((other.json["comparisons"] as? [[String: Any]])?.first, other.stdout)
    let largest = zip(x, mask).map { abs($0 * $1) }.max()!
    XCTAssertEqual(try XCTUnwrap(diff["max_abs_error"] as? Double), Double(largest), accuracy: 1e-6)

    let onlyX = scratch.appendingPathComponent("only-x.npz")
    try NumpyArchive.write(["x": NumpyArray(shape: [3, 4], values: x)], to: onlyX)
    let refused = try lathe("eval", model, "--dataset", onlyX.path, "--reference", model)
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.stderr.contains("mask"), refused.stderr)
  }
}
