import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheTUI

/// The Prompt screen's engine side: every snapshot of a language model continues the prompt,
/// the step that changed the model writes its own text, and a classifier is refused by name.
final class PromptScreenTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-prompt-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func wait(_ session: EngineSession, until done: (WorkbenchState) -> Bool) {
    let deadline = Date().addingTimeInterval(120)
    while !done(session.state) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    XCTAssertTrue(done(session.state), "timed out; log: \(session.state.log.map(\.text))")
  }

  func testEverySnapshotContinuesThePromptAndAClassifierIsRefused() throws {
    // A small byte-level GPT (untrained: the text is noise, but deterministic) and a short text.
    let model = Transformer.decoder(
      TransformerConfig(vocabulary: 256, positions: 128, width: 32, layers: 1, heads: 2), seed: 1)
    let modelURL = folder.appendingPathComponent("gpt.safetensors")
    try ModelFile.save(model, to: modelURL)
    let text = folder.appendingPathComponent("text")
    try FileManager.default.createDirectory(at: text, withIntermediateDirectories: true)
    let verse = String(repeating: "In the beginning God created the heaven and the earth.\n", count: 12)
    for part in ["train", "test"] { try Data(verse.utf8).write(to: text.appendingPathComponent("\(part).txt")) }
    let pipeline = folder.appendingPathComponent("p.yaml")
    try """
    name: p
    steps:
      - name: int3
        technique: weight-only
        bits: 3
        speed_check: false
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let session = try EngineSession(
      model: modelURL.path, dataset: text.path, pipeline: pipeline.path, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    wait(session) { !$0.isBusy && $0.baseline != nil }
    var continuations = try session.continuations(of: "And God", count: 20)
    XCTAssertEqual(continuations.map(\.name), ["original"])
    // The model's own greedy bytes, read as UTF-8 (a byte that is not valid UTF-8 shows as U+FFFD).
    let expected = model.generate(prompt: Array("And God".utf8).map(Int.init), count: 20)
    XCTAssertEqual(continuations[0].text, String(decoding: expected.map { UInt8($0) }, as: UTF8.self))
    XCTAssertNotNil(continuations[0].perplexity)

    session.runNextStep()
    wait(session) { $0.steps.first?.state == .done }
    continuations = try session.continuations(of: "And God", count: 20)
    XCTAssertEqual(continuations.map(\.name), ["original", "int3"])

    let classifier = try EngineSession(model: "digits-mlp", dataset: "digits", pipeline: nil, latencySeconds: 0.01)
    defer { classifier.shutdown(keepingFolder: false) }
    wait(classifier) { !$0.isBusy && $0.baseline != nil }
    XCTAssertThrowsError(try classifier.continuations(of: "x", count: 5)) { error in
      XCTAssertTrue("\(error)".contains("needs a language model"), "\(error)")
    }
  }
}
