import Foundation
import LatheCompress
import XCTest

@testable import LatheTUI

/// The step editor on the real engine: what `e`, an edit and `s` do to steps that already ran.
final class StepEditorEngineTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-editor-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// Deep compression in small (the tutorial's pipeline, trained less): prune, share, Huffman.
  func writePipeline() throws -> URL {
    let url = folder.appendingPathComponent("deep.yaml")
    try """
    name: deep
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune
        technique: prune
        sparsity: 0.8
        epochs: 1
        teacher: input
      - name: share-weights
        technique: weight-sharing
        bits: 4
        epochs: 1
      - name: huffman
        technique: huffman
    """.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  func wait(_ session: EngineSession, timeout: TimeInterval = 120, until done: (WorkbenchState) -> Bool) {
    let deadline = Date().addingTimeInterval(timeout)
    while !done(session.state) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    XCTAssertTrue(done(session.state), "timed out; log: \(session.state.log.map(\.text))")
  }

  func type(_ text: String, into app: WorkbenchApp) {
    for character in text { app.handle(.character(character)) }
  }

  /// Edits share-weights' bits after every step ran, having looked at prune's `method` (absent
  /// from the file: enter shows the default, enter again writes it out): prune keeps its result,
  /// share-weights and Huffman go back to pending, and the header, the model panel and the
  /// snapshots show the model after prune (the last done step), not the one the undone steps left.
  func testEditingALaterStepKeepsTheStepsBeforeIt() throws {
    let file = try writePipeline()
    let session = try EngineSession(model: "digits-mlp", dataset: "digits", pipeline: file.path, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    XCTAssertEqual(session.state.pipelineFile, file.path, "w and W offer the user's own file back")
    wait(session) { !$0.isBusy }
    session.runRemainingSteps()
    wait(session) { $0.steps.allSatisfy { $0.state == .done } && !$0.isBusy }
    let pruned = try XCTUnwrap(session.snapshots.dropFirst().first)

    let app = WorkbenchApp(session: session)
    app.handle(Key("e"))
    app.handle(.tab)
    app.handle(Key("j"))  // prune's method
    app.handle(.enter)
    app.handle(.enter)
    XCTAssertEqual((app.top as? StepEditorScreen)?.specs[0]["method"], .string("magnitude"))
    app.handle(.tab)
    app.handle(Key("j"))  // share-weights
    app.handle(.tab)
    app.handle(Key("j"))  // bits (the first setting after the name)
    app.handle(.enter)
    for _ in 0..<4 { app.handle(.backspace) }
    type("5", into: app)
    app.handle(.enter)
    app.handle(Key("s"))

    let state = session.state
    XCTAssertEqual(state.steps.map(\.state), [.done, .pending, .pending], "\(state.log.map(\.text))")
    XCTAssertEqual(state.steps[0].metrics, pruned.metrics)
    XCTAssertEqual(state.model?.layers, pruned.layers, "the model panel shows the pruned model")
    XCTAssertEqual(state.model?.totals.bytes, pruned.metrics?.sizeBytes, "the header's size is the pruned model's")
    XCTAssertEqual(session.snapshots.map(\.name), ["original", "prune"])
    XCTAssertEqual(session.pipeline[1]["bits"], .int(5))
  }
}
