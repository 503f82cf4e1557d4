import Foundation
import LatheCompress
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// ONNX files that once crashed `lathe inspect` and `lathe eval` (a trap in a kernel, a failed
/// allocation of terabytes), and mutants of a valid export. Opening one must throw an error
/// whose single line names the file and the problem; a crash kills the test run.
final class DamagedONNXTests: XCTestCase {
  static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Regressions/models")

  /// Each regression file, with the words its error must contain (besides the file's path).
  static let expectations: [(file: String, mentions: [String])] = [
    ("onnx-hand-constofshape-huge.onnx", ["node \"big\" (ConstantOfShape)", "[1048576, 1048576, 1024]"]),
    ("onnx-hand-conv-dilhuge.onnx", ["node \"conv1\" (Conv)", "dilation [1099511627776, 1099511627776]"]),
    ("onnx-hand-input-2e40.onnx", ["input \"input\"", "[-1, 1, 1099511627776, 28]"]),
    ("onnx-hand-pool-hugepad.onnx", ["node \"pool1\" (MaxPool)", "padding [1099511627776"]),
    ("onnx-hand-reshape-huge.onnx", ["node \"flatten_r\" (Reshape)", "cannot reshape [1, 400]"]),
    ("onnx-lenet5-p59.onnx", ["node \"fc3\" (Gemm)", "do not broadcast", "batch set to 2"]),
    // Found no node for its output only after probing a batch of 100000 through every layer.
    ("onnx-dcnn-p94.onnx", ["output \"nothing\" is produced by no node"]),
    // An input name holding newlines: the message must still be one line.
    ("onnx-int8-b73.onnx", ["node \"conv2_3\" (DequantizeLinear)", "is produced by no earlier node"]),
  ]

  func testRegressionFilesGiveOneLineErrors() throws {
    for (name, mentions) in Self.expectations {
      let url = Self.models.appendingPathComponent(name)
      XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), "missing regression file \(url.path)")
      do {
        let model = try ModelOpener.open(url)
        XCTFail("\(name) opened as a model with input \(model.inputShape)")
      } catch {
        let message = "\(error)"
        XCTAssertTrue(message.hasPrefix(url.path + ":"), "\(name): the error must name the file: \(message)")
        XCTAssertFalse(message.contains("\n"), "\(name): the error must be one line: \(message)")
        for needle in mentions {
          XCTAssertTrue(message.contains(needle), "\(name): \"\(message)\" does not mention \"\(needle)\"")
        }
      }
    }
  }

  // MARK: - Mutants of a valid export

  /// A small CNN with every layer kind the samples use, exported as ONNX: its weights are few,
  /// so most mutations land in the graph's structure (dims, attributes, names, lengths).
  func validExport() throws -> Data {
    var g = SeededGenerator(seed: 3)
    let model = try Model(
      architecture: "fuzz-cnn", inputShape: [1, 6, 6], classCount: 3,
      sequence: [
        ("conv", Conv2d(inChannels: 1, outChannels: 2, kernel: 3, padding: 1, generator: &g)),
        ("bn", BatchNorm(channels: 2)), ("relu", Function(.relu)),
        ("pool", Pool2d(.max, geometry: WindowGeometry(kernel: [2, 2], stride: [2, 2]))),
        ("flatten", Function(.flatten(startAxis: 1))),
        ("fc", Linear(inputs: 18, outputs: 3, generator: &g)), ("softmax", Function(.logSoftmax)),
      ])
    return try ONNXExporter.data(model)
  }

  func testMutatedExportsNeverCrash() throws {
    let valid = [UInt8](try validExport())
    var generator = SeededGenerator(seed: 11)
    var opened = 0
    let mutants = 2000
    for _ in 0..<mutants {
      let bytes = Self.mutate(valid, &generator)
      if Self.openAndRun(Data(bytes)) { opened += 1 }
    }
    // Most mutants change weights or names only and still open; some must be refused.
    XCTAssertGreaterThan(opened, 0)
    XCTAssertLessThan(opened, mutants)
  }

  /// Opens `data` as the CLI would and runs a batch of two through the model. Errors are the
  /// expected outcome for most mutants; only a crash (which ends the test process) fails.
  static func openAndRun(_ data: Data) -> Bool {
    let model: Model
    do {
      let graph = try ONNXImporter.load(
        data: data, path: "mutant.onnx", options: ONNXImportOptions(floatingOutputsOnly: true))
      model = try graph.model(architecture: "mutant")
      try model.checkShapes()
    } catch {
      XCTAssertFalse("\(error)".contains("\n"), "multi-line error: \(error)")
      return false
    }
    // A mutant may legitimately ask for a large input; the forward pass keeps to small ones.
    guard let elements = ONNXShapes.product([2] + model.inputShape), elements <= 1 << 16 else { return true }
    _ = model.predict(Tensor(repeating: 0.5, shape: [2] + model.inputShape))
    return true
  }

  /// One deterministic mutant: bit flips, a truncation, an edited length or varint byte, or
  /// inserted or deleted bytes.
  static func mutate(_ valid: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
    var bytes = valid
    func position() -> Int { Int(g.next() % UInt64(bytes.count)) }
    switch g.next() % 5 {
    case 0:  // Flip one to four bits.
      for _ in 0...(g.next() % 4) { bytes[position()] ^= 1 << UInt8(g.next() % 8) }
    case 1:  // Cut the file short.
      bytes = Array(bytes.prefix(position()))
    case 2:  // A length or varint byte made larger, smaller or continued (0x80 and up).
      let i = position()
      let edits: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, bytes[i] &+ 1, bytes[i] &- 1, bytes[i] | 0x80]
      bytes[i] = edits[Int(g.next() % UInt64(edits.count))]
    case 3:  // Insert one to eight random bytes.
      let inserted = (0...(g.next() % 8)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
      bytes.insert(contentsOf: inserted, at: position())
    default:  // Delete one to eight bytes.
      let start = position()
      bytes.removeSubrange(start..<min(bytes.count, start + 1 + Int(g.next() % 8)))
    }
    return bytes
  }
}
