import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import XCTest

/// Lathe's GGUF files read by llama.cpp's own Python reader (`gguf` 0.19.0's GGUFReader and
/// gguf.quants.dequantize, through scripts/gguf-check.sh): names, shapes and types as written,
/// values equal to Lathe's dequantization. Skips, saying why, when pip cannot install `gguf`.
final class GGUFInteropTests: XCTestCase {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  private struct Check: Decodable {
    struct Row: Decodable {
      var name: String
      var type: String
      var shape: [Int]
      var maxAbsDiff: Double?
    }
    var ggufVersion: Int
    var tensors: [Row]
    var problems: [String]
  }

  private var decoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return decoder
  }

  /// Runs the check script on a file and its reference: its exit status and what it printed.
  private func check(_ gguf: URL, _ reference: URL) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [
      Self.packageRoot.appendingPathComponent("scripts/gguf-check.sh").path, gguf.path, reference.path,
    ]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.standardError
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let output = String(decoding: data, as: UTF8.self)
    if output.hasPrefix("gguf-check: skipped") { throw XCTSkip(output.trimmingCharacters(in: .whitespacesAndNewlines)) }
    return (process.terminationStatus, output)
  }

  func testGGUFPackageReadsWhatLatheWroteForEveryType() throws {
    var g = SeededGenerator(seed: 11)
    // Rows of 256 (Q4_K), of 96 (32-blocks only, Q8_0 under q4_k) and of 40 (F32 under any quant).
    let model = try Model(
      architecture: "mixed", inputShape: [256], classCount: 3,
      sequence: [
        ("a", Linear(inputs: 256, outputs: 96, generator: &g)), ("relu", Function(.relu)),
        ("b", Linear(inputs: 96, outputs: 40, generator: &g)),
        ("c", Linear(inputs: 40, outputs: 3, generator: &g)),
      ])
    let folder = try temporaryDirectory(self)
    var references: [GGMLType: URL] = [:]
    for type in GGMLType.codable {
      let file = folder.appendingPathComponent("\(type).gguf")
      let reference = folder.appendingPathComponent("\(type).npz")
      let written = try GGUFExport.write(model, to: file, options: GGUFExportOptions(type: type, name: "mixed"))
      try NumpyArchive.write(written.reference, to: reference)
      references[type] = reference

      let (status, output) = try check(file, reference)
      XCTAssertEqual(status, 0, "\(type): \(output)")
      let result = try decoder.decode(Check.self, from: Data(output.utf8))
      XCTAssertEqual(result.ggufVersion, 3)
      XCTAssertEqual(result.problems, [], "\(type)")
      XCTAssertEqual(result.tensors.map(\.name), written.tensors.map(\.name), "\(type)")
      XCTAssertEqual(result.tensors.map(\.type), written.tensors.map { "\($0.type)" }, "\(type)")
      XCTAssertEqual(result.tensors.map(\.shape), written.tensors.map { $0.dimensions.reversed() }, "\(type)")
      XCTAssertEqual(result.tensors.compactMap(\.maxAbsDiff).count, written.tensors.count)
    }
    // The check can fail: Q4_0's file against Q8_0's reference differs in the quantized weights.
    let (status, output) = try check(folder.appendingPathComponent("Q4_0.gguf"), references[.q80]!)
    XCTAssertEqual(status, 1, output)
    let mismatch = try decoder.decode(Check.self, from: Data(output.utf8))
    XCTAssertTrue(mismatch.problems.contains { $0.hasPrefix("a.weight: values differ") }, "\(mismatch.problems)")
  }

  /// The bundled GPT's layout (llama.cpp's tensor names, its hyperparameters) read back by the
  /// `gguf` package, values equal to Lathe's decoding, at Q8_0, Q4_0 and Q4_K.
  func testGPTLayoutReadsBackInTheGGUFPackage() throws {
    let model = Transformer.decoder(
      TransformerConfig(vocabulary: 256, positions: 32, width: 256, layers: 2, heads: 4), seed: 5)
    let folder = try temporaryDirectory(self)
    for type in [GGMLType.q80, .q40, .q4K] {
      let options = try XCTUnwrap(GGUFTransformer.options(for: model, type: type, name: "gpt"))
      let file = folder.appendingPathComponent("gpt-\(type).gguf")
      let reference = folder.appendingPathComponent("gpt-\(type).npz")
      let written = try GGUFExport.write(model, to: file, options: options)
      try NumpyArchive.write(written.reference, to: reference)
      XCTAssertEqual(written.fallbacks, [], "\(type)")
      let names = written.tensors.map(\.name)
      for name in [
        "token_embd.weight", "position_embd.weight", "blk.1.attn_q.weight", "blk.0.ffn_down.bias",
        "output_norm.weight",
      ] {
        XCTAssertTrue(names.contains(name), "\(type): \(name) missing from \(names)")
      }
      let read = try GGUFFile.read(from: file)
      XCTAssertEqual(read["general.architecture"], .string("lathe-gpt"))
      XCTAssertEqual(read["lathe-gpt.block_count"], .uint32(2))
      XCTAssertEqual(read["lathe-gpt.attention.head_count"], .uint32(4))
      let (status, output) = try check(file, reference)
      XCTAssertEqual(status, 0, "\(type): \(output)")
      let result = try decoder.decode(Check.self, from: Data(output.utf8))
      XCTAssertEqual(result.problems, [], "\(type)")
      XCTAssertEqual(result.tensors.map(\.name), names)
    }
  }
}
