import Foundation
import XCTest

/// `lathe export --format gguf` and `lathe inspect` on the file it wrote, as a user runs them.
extension CommandLineTests {
  func testExportGGUFThenInspectListsTensorsTypesAndMetadata() throws {
    let file = scratch.appendingPathComponent("out/mlp.gguf").path
    let reference = scratch.appendingPathComponent("out/mlp.npz").path
    let export = try lathe(
      "export", "digits-mlp", "--format", "gguf", "--type", "q4_0", "-o", file, "--reference", reference)
    XCTAssertEqual(export.status, 0, export.stderr)
    XCTAssertTrue(export.stdout.hasPrefix("wrote \(file) (gguf Q4_0, "), export.stdout)
    XCTAssertTrue(FileManager.default.fileExists(atPath: reference))

    let table = try lathe("inspect", file)
    XCTAssertEqual(table.status, 0, table.stderr)
    XCTAssertTrue(table.stdout.contains("gguf v3, 4 tensors"), table.stdout)
    let lines = table.stdout.split(separator: "\n").map(String.init)
    // 64·64 weights in 128 blocks of 18 bytes; the 64 biases as F32.
    XCTAssertTrue(lines.contains { $0.hasPrefix("fc1.weight") && $0.contains("Q4_0") && $0.contains(" 2304 ") })
    XCTAssertTrue(lines.contains { $0.hasPrefix("fc1.bias") && $0.contains("F32") && $0.contains(" 256 ") })
    XCTAssertTrue(lines.contains("general.file_type: 2"), table.stdout)
    XCTAssertTrue(lines.contains("general.name: \"digits-mlp\""), table.stdout)

    let json = try lathe("inspect", file, "--json")
    XCTAssertEqual(json.json["format"] as? String, "gguf")
    let tensors = try XCTUnwrap(json.json["tensors"] as? [[String: Any]])
    XCTAssertEqual(tensors.map { $0["type"] as? String }, ["Q4_0", "F32", "Q4_0", "F32"])
    XCTAssertEqual(tensors[2]["shape"] as? [Int], [10, 64])
    XCTAssertEqual(tensors[2]["dimensions"] as? [Int], [64, 10])
  }

  func testExportGGUFReportsFallbacksAndRefusesUnknownTypes() throws {
    let file = scratch.appendingPathComponent("k.gguf").path
    let export = try lathe("export", "digits-mlp", "--format", "gguf", "--type", "Q4_K", "--output", file)
    XCTAssertEqual(export.status, 0, export.stderr)
    XCTAssertTrue(
      export.stdout.contains("fc1.weight: Q8_0 instead of Q4_K (its rows of 64 are not a multiple of 256)"),
      export.stdout)

    let unknown = try lathe("export", "digits-mlp", "--format", "gguf", "--type", "q5_0", "-o", file)
    XCTAssertEqual(unknown.status, 1)
    XCTAssertTrue(unknown.stderr.contains("--type must be one of f16, f32, q4_0, q4_k, q8_0"), unknown.stderr)
    let misplaced = try lathe("export", "digits-mlp", "--format", "onnx", "--type", "q4_0", "-o", file)
    XCTAssertNotEqual(misplaced.status, 0)
    XCTAssertTrue(misplaced.stderr.contains("are for --format gguf"), misplaced.stderr)
  }

  func testInspectOfADamagedGGUFIsOneLineNamingIt() throws {
    let file = scratch.appendingPathComponent("cut.gguf")
    try Data("GGUF".utf8 + [3, 0, 0, 0, 1]).write(to: file)
    let result = try lathe("inspect", file.path)
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    XCTAssertTrue(result.stderr.contains("cut.gguf") && result.stderr.contains("tensor count"), result.stderr)
  }
}
