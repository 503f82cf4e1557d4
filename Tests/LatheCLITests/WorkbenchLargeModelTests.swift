import Foundation
import XCTest

/// A real imported model of hundreds of nodes in a real terminal, as a user meets it: the
/// bundled `text-direction` (PaddleOCR's text-angle classifier, 566 ONNX nodes, 251 Lathe
/// layers) filtered with `/`, a step run, the model saved with `w` to a typed path and opened
/// again with `o`.
final class WorkbenchLargeModelTests: XCTestCase {
  var terminal: TmuxTerminal!
  var scratch: URL { terminal.scratch }

  override func setUpWithError() throws { terminal = try TmuxTerminal(prefix: "lathe-large") }
  override func tearDownWithError() throws { terminal?.close() }

  func testFilterRunSaveAndReopenARealModelOf251Layers() throws {
    let pipeline = scratch.appendingPathComponent("large.yaml")
    try """
    name: large
    model: text-direction
    dataset: text-lines
    steps:
      - name: prune-half
        technique: prune
        sparsity: 0.5
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let state = scratch.appendingPathComponent("state")
    try terminal.tmux(
      "new-session", "-d", "-s", "wb", "-x", "140", "-y", "40",
      "cd \(scratch.path) && env LANG=C.UTF-8 XDG_STATE_HOME=\(state.path) \(CommandLineTests.binary.path) "
        + "--model text-direction --dataset text-lines --pipeline \(pipeline.path); echo LATHE-EXITED-$?; sleep 60")
    var text = try terminal.waitFor("input: ")
    XCTAssertTrue(text.contains("251 layers"), "the whole imported graph is in the panel:\n\(text)")

    // `/` filters by name or op as it is typed; enter keeps the filter.
    try terminal.tmux("send-keys", "-t", "wb", "/")
    try terminal.type("GlobalAverage")
    text = try terminal.waitFor("10 of 251 layers match", timeout: 20)
    let rows = text.split(separator: "\n").filter { $0.contains("GlobalAvera") && $0.contains("global_") }
    // The ten squeeze-excitation blocks' pooling layers, and nothing else.
    XCTAssertTrue(text.contains("10 of 251 layers match"), text)
    XCTAssertEqual(rows.count, 10, "the pooling layers of the SE blocks are listed:\n\(text)")
    XCTAssertFalse(text.contains("Conv@1 "), "layers that do not match are hidden:\n\(text)")
    try terminal.tmux("send-keys", "-t", "wb", "Enter")

    // n runs the step on the real model.
    try terminal.tmux("send-keys", "-t", "wb", "n")
    text = try terminal.waitFor("1/1 done")
    XCTAssertTrue(text.contains("prune-half: "), text)

    // w saves the model to a typed path.
    let saved = scratch.appendingPathComponent("text-direction-pruned.safetensors")
    try terminal.tmux("send-keys", "-t", "wb", "w")
    _ = try terminal.waitFor("save the current model to:", timeout: 20)
    try terminal.tmux("send-keys", "-t", "wb", "C-u")
    try terminal.type(saved.path)
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    _ = try terminal.waitFor("saved the model to ", timeout: 60)
    XCTAssertTrue(FileManager.default.fileExists(atPath: saved.path), "w wrote \(saved.path)")

    // o opens the saved file again, on the same dataset.
    try terminal.tmux("send-keys", "-t", "wb", "o")
    _ = try terminal.waitFor("Open · ", timeout: 20)
    try terminal.tmux("send-keys", "-t", "wb", ":")
    try terminal.tmux("send-keys", "-t", "wb", "C-u")
    try terminal.type(saved.path)
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    _ = try terminal.waitFor("dataset: text-lines", timeout: 20)
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    _ = try terminal.waitFor("Model · \(saved.path)", timeout: 60)
    text = try terminal.waitFor("input: ")
    // The reopened model is the pruned one: its totals row says half the weights are zero.
    let total = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("total") && $0.contains("%") }, text)
    let percent = try XCTUnwrap(total.firstMatch(of: /(\d+)%/).flatMap { Int($0.1) }, String(total))
    XCTAssertTrue((40...55).contains(percent), "about half the weights are zero in the reopened file: \(total)")
    try terminal.tmux("send-keys", "-t", "wb", "q")
    text = try terminal.waitFor("LATHE-EXITED", timeout: 20)
  }
}
