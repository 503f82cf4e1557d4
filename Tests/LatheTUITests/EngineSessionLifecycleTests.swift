import Foundation
import LatheCompress
import LatheONNX
import LatheWorkspace
import XCTest

@testable import LatheTUI

/// The engine session's life: its folder, what it counts as unsaved, saving the model and the
/// pipeline, and shutting down while a step runs (quitting mid-step used to crash the process).
final class EngineSessionLifecycleTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-lifecycle-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// A commented pipeline on the small model: one pruning step that trains a few epochs.
  func writePipeline(epochs: Int = 1) throws -> URL {
    let url = folder.appendingPathComponent("commented.yaml")
    try """
    # Why this pipeline: a quick prune of the small model.
    name: commented
    model: digits-mlp
    dataset: digits
    steps:
      # Half the weights go; one epoch wins most of the accuracy back.
      - name: prune
        technique: prune
        sparsity: 0.5   # try 0.8
        epochs: \(epochs)
    """.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  func wait(_ session: EngineSession, timeout: TimeInterval = 60, until done: (WorkbenchState) -> Bool) {
    let deadline = Date().addingTimeInterval(timeout)
    while !done(session.state) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    XCTAssertTrue(done(session.state), "timed out; log: \(session.state.log.map(\.text))")
  }

  func testSessionFolderHoldsStepModelsAndGoesAtShutdown() throws {
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: try writePipeline().path, latencySeconds: 0.01)
    let sessionFolder = try XCTUnwrap(session.state.sessionFolder)
    XCTAssertTrue(
      URL(fileURLWithPath: sessionFolder).lastPathComponent.hasPrefix("lathe-workbench-\(getpid())-"), sessionFolder)
    wait(session) { !$0.isBusy }
    XCTAssertEqual(session.state.unsaved, [], "nothing to lose before a step has run")
    session.runNextStep()
    wait(session) { $0.steps.first?.state == .done }
    XCTAssertEqual(session.state.unsaved, ["1 step model"])
    let stepModels = FileManager.default.enumerator(atPath: sessionFolder)?.compactMap { $0 as? String } ?? []
    XCTAssertTrue(stepModels.contains { $0.hasSuffix("01-prune.safetensors") }, "\(stepModels)")

    session.shutdown(keepingFolder: false)
    XCTAssertFalse(FileManager.default.fileExists(atPath: sessionFolder))
    session.shutdown(keepingFolder: false)  // a second call is harmless
  }

  func testKeptFolderStays() throws {
    let session = try EngineSession(model: "digits-mlp", dataset: "digits", pipeline: nil, latencySeconds: 0.01)
    let sessionFolder = try XCTUnwrap(session.state.sessionFolder)
    session.shutdown(keepingFolder: true)
    XCTAssertTrue(FileManager.default.fileExists(atPath: sessionFolder))
    try FileManager.default.removeItem(atPath: sessionFolder)
  }

  /// The crash this guards against: the process exited while the engine queue still trained.
  /// After `shutdown` returns nothing may run, whenever it is called.
  func testShutdownDuringAStepLeavesNothingRunning() throws {
    let pipeline = try writePipeline(epochs: 3)
    var generator = SystemRandomNumberGenerator()
    var stoppedMidStep = 0
    for attempt in 0..<50 {
      let session = try EngineSession(
        model: "digits-mlp", dataset: "digits", pipeline: pipeline.path, latencySeconds: 0.01)
      let sessionFolder = try XCTUnwrap(session.state.sessionFolder)
      if attempt % 2 == 0 { wait(session) { !$0.isBusy } }  // half of them while the input is still measured
      session.runNextStep()
      Thread.sleep(forTimeInterval: Double.random(in: 0...0.05, using: &generator))
      session.shutdown(keepingFolder: false)
      let state = session.state
      XCTAssertFalse(state.isBusy, "attempt \(attempt): the engine still works after shutdown")
      XCTAssertNotEqual(state.steps.first?.state, .running, "attempt \(attempt)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: sessionFolder), "attempt \(attempt)")
      if state.log.contains(where: { $0.text.contains("cancelled") }) { stoppedMidStep += 1 }
    }
    XCTAssertGreaterThan(stoppedMidStep, 10, "most shutdowns should land while the step trains")
  }

  func testSaveModelAndPipelineClearTheUnsavedList() throws {
    let pipeline = try writePipeline()
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: pipeline.path, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    wait(session) { !$0.isBusy }
    session.runNextStep()
    // The step is done a moment before the session stops being busy, and saving waits for that.
    wait(session) { $0.steps.first?.state == .done && !$0.isBusy }

    let saved = folder.appendingPathComponent("pruned.safetensors")
    try session.saveModel(to: saved.path)
    let reopened = try ModelOpener.open(saved.path)
    XCTAssertEqual(reopened.nodes.map(\.name), session.state.model?.layers.map(\.name))
    XCTAssertEqual(session.state.unsaved, [])
    let onnx = folder.appendingPathComponent("pruned.onnx")
    try session.saveModel(to: onnx.path)
    XCTAssertEqual(try ModelOpener.open(onnx.path).nodes.isEmpty, false)

    // An edit: a second step. The saved file keeps the comments of the untouched step.
    var steps = session.pipeline
    steps.append(StepSpec(name: "int8", technique: "quantize"))
    try session.replaceSteps(steps)
    XCTAssertEqual(session.state.unsaved, ["the edited pipeline"])
    let written = folder.appendingPathComponent("saved.yaml")
    try session.savePipeline(to: written.path)
    XCTAssertEqual(session.state.unsaved, [])
    let text = try String(contentsOf: written, encoding: .utf8)
    XCTAssertTrue(text.contains("# Why this pipeline"), text)
    XCTAssertTrue(text.contains("sparsity: 0.5   # try 0.8"), text)
    XCTAssertTrue(text.contains("technique: quantize"), text)
    XCTAssertEqual(try PipelineSpec.read(from: written).steps.map(\.name), ["prune", "int8"])

    XCTAssertThrowsError(try session.saveModel(to: "/proc/no/such/folder/m.safetensors"))
  }
}
