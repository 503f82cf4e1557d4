import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheTensor
import LatheWorkspace
import XCTest

/// Damaged Lathe model files must give errors, never traps: the step models of a short
/// pipeline (sparse, shared-weight, Huffman-coded and int8 layers) are mutated where their
/// structure lives (the JSON header and the bytes of compressed tensors) and opened as the CLI
/// opens them, shape-checked and, when they open, run on one example.
final class ModelFileMutationTests: XCTestCase {
  func stepModels(in folder: URL) throws -> [URL] {
    let spec = try PipelineSpec.parse(
      """
      name: mutants
      steps:
        - name: prune
          technique: prune
          sparsity: 0.6
          epochs: 1
        - name: share
          technique: weight-sharing
          bits: 4
          epochs: 0
        - name: code
          technique: huffman
      """, file: "mutants.yaml")
    let model = try ModelOpener.open("digits-mlp")
    let samples = try XCTUnwrap(SamplesDirectory.locate())
    let data = try DatasetCatalog.load("digits", samplesDirectory: samples).fitted(to: model, modelName: "digits-mlp")
    let runner = try PipelineRunner(
      spec: spec, model: model, data: data, outputDirectory: folder, loadModel: { try ModelOpener.open($0) },
      options: .init(latencySeconds: 0.01, builders: ModelOpener.builders))
    _ = try runner.runAll()
    // And an int8 model of the same network.
    let int8 = try PipelineSpec.parse(
      "name: int8\nsteps:\n  - name: int8\n    technique: quantize\n", file: "int8.yaml")
    let quantizer = try PipelineRunner(
      spec: int8, model: try ModelOpener.open("digits-mlp"), data: data,
      outputDirectory: folder.appendingPathComponent("int8"), loadModel: { try ModelOpener.open($0) },
      options: .init(latencySeconds: 0.01, builders: ModelOpener.builders))
    _ = try quantizer.runAll()
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".safetensors") }
    return names.sorted().dropFirst().map { folder.appendingPathComponent($0) }
      + [folder.appendingPathComponent("int8/01-int8.safetensors")]
  }

  func testMutatedStepModelsNeverCrash() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-model-mutants-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let files = try stepModels(in: folder)
    XCTAssertEqual(files.count, 4)
    let mutant = folder.appendingPathComponent("mutant.safetensors")
    let example = Tensor<Float>(shape: [1, 1, 8, 8], scalars: [Float](repeating: 0.5, count: 64))
    var generator = SeededMutations(seed: 0x1a7e)
    var opened = 0
    var refused = 0
    for file in files {
      let valid = [UInt8](try Data(contentsOf: file))
      for _ in 0..<500 {
        try Data(generator.mutate(valid)).write(to: mutant)
        do {
          let model = try ModelOpener.open(mutant)
          _ = try model.checkShapes()
          _ = model.predict(example)
          opened += 1
        } catch {
          refused += 1
          XCTAssertFalse("\(error)".contains("\n"), "errors are one line: \(error)")
        }
      }
    }
    XCTAssertGreaterThan(refused, 500, "most mutants break the header and must be refused")
    XCTAssertGreaterThan(opened, 0, "some mutants only change weights and still open")
  }
}

/// Deterministic damage aimed at a safetensors file's structure: the 8-byte length, the JSON
/// header (digits, quotes, brackets) and the first bytes of the data.
struct SeededMutations {
  var state: UInt64
  init(seed: UInt64) { state = seed }

  mutating func next(_ bound: Int) -> Int {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Int((state >> 33) % UInt64(max(bound, 1)))
  }

  mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
    var out = bytes
    let header = min(out.count, 8 + Int(out.prefix(8).enumerated().reduce(0) { $0 | Int($1.1) << (8 * $1.0) }))
    let hot = min(out.count, header + 256)  // header plus the start of the data
    let digits = Array("0123456789-e.".utf8) + [UInt8(ascii: "\""), UInt8(ascii: "]"), UInt8(ascii: "[")]
    for _ in 0..<(1 + next(3)) {
      guard !out.isEmpty else { break }
      let at = next(min(out.count, hot))
      switch next(6) {
      case 0: out[at] ^= UInt8(1 << next(8))
      case 1: out[at] = digits[next(digits.count)]
      case 2: out.insert(contentsOf: Array(String(next(1 << 30)).utf8), at: at)
      case 3: out.removeSubrange(at..<min(out.count, at + 1 + next(16)))
      case 4: out = Array(out.prefix(at))
      default: out[next(min(out.count, 8))] = UInt8(next(256))
      }
    }
    return out
  }
}
