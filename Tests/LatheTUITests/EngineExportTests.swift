import Foundation
import LatheCompress
import LatheONNX
import LatheWorkspace
import XCTest

@testable import LatheTUI

/// What `x` (and `w` with a `.onnx` name) writes is the real exporter's ONNX: after an int8 step
/// the file holds QDQ (8-bit weights through DequantizeLinear, activations through
/// QuantizeLinear/DequantizeLinear), not dequantized fp32 weights.
final class EngineExportTests: XCTestCase {
  func testAnInt8StepExportsAsQDQ() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-export-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let pipeline = folder.appendingPathComponent("int8.yaml")
    try """
    name: int8
    model: digits-mlp
    dataset: digits
    steps:
      - name: int8
        technique: quantize
        granularity: per-channel
        activations: static
        calibration_samples: 64
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: pipeline.path, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    func wait(until done: (WorkbenchState) -> Bool) {
      let deadline = Date().addingTimeInterval(120)
      while !done(session.state) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }
    wait { !$0.isBusy }
    session.runNextStep()
    wait { $0.steps.first?.state == .done && !$0.isBusy }
    XCTAssertEqual(session.state.steps.first?.state, .done, "\(session.state.log.map(\.text))")

    let exported = folder.appendingPathComponent("digits-mlp-int8.onnx")
    try session.saveModel(to: exported.path)
    let graph = try ONNXGraphListing.read(contentsOf: exported)
    let ops = Set(graph.nodes.map(\.op))
    XCTAssertTrue(ops.isSuperset(of: ["QuantizeLinear", "DequantizeLinear"]), "\(ops.sorted())")
    let weights = graph.elementTypes.filter { $0.key.hasSuffix("weight_quantized") }
    XCTAssertFalse(weights.isEmpty, "\(graph.elementTypes)")
    XCTAssertTrue(weights.values.allSatisfy { $0 == "int8" || $0 == "uint8" }, "8-bit weights: \(weights)")
    XCTAssertEqual(session.state.unsaved, [], "an export keeps the step model too")
  }
}
