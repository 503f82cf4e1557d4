import Foundation
import XCTest

/// Keeping work, as a user does it in a real terminal: run a step, export it with `x` to a
/// typed path, reopen that file with `o` and a tab-completed path, read the log with `L`, and
/// quit; the recent files and settings are then in the state folder.
final class WorkbenchKeepingWorkTests: XCTestCase {
  var terminal: TmuxTerminal!
  var scratch: URL { terminal.scratch }

  override func setUpWithError() throws { terminal = try TmuxTerminal(prefix: "lathe-keep") }
  override func tearDownWithError() throws { terminal?.close() }

  func testExportReopenReadTheLogAndQuit() throws {
    let pipeline = scratch.appendingPathComponent("keep.yaml")
    try """
    name: keep
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune-half
        technique: prune
        sparsity: 0.5
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let state = scratch.appendingPathComponent("state")
    try terminal.tmux(
      "new-session", "-d", "-s", "wb", "-x", "120", "-y", "40",
      "cd \(scratch.path) && env LANG=C.UTF-8 XDG_STATE_HOME=\(state.path) \(CommandLineTests.binary.path) "
        + "--model digits-mlp --pipeline \(pipeline.path); echo LATHE-EXITED-$?; sleep 60")
    _ = try terminal.waitFor("input: ")
    try terminal.tmux("send-keys", "-t", "wb", "n")
    var text = try terminal.waitFor("1/1 done")
    XCTAssertTrue(text.split(separator: "\n")[0].contains("● unsaved"), text)

    // x: the suggested name, completed in the folder the workbench was started in.
    try terminal.tmux("send-keys", "-t", "wb", "x")
    text = try terminal.waitFor("export the current model as ONNX to:", timeout: 20)
    XCTAssertTrue(text.contains("digits-mlp-prune-half.onnx"), text)
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    text = try terminal.waitFor("saved the model to ", timeout: 30)
    XCTAssertFalse(text.split(separator: "\n")[0].contains("unsaved"), "saved: no mark\n\(text)")

    // o, then a typed path completed with tab.
    try terminal.tmux("send-keys", "-t", "wb", "o")
    _ = try terminal.waitFor("Open · ", timeout: 20)
    try terminal.tmux("send-keys", "-t", "wb", ":")
    try terminal.tmux("send-keys", "-t", "wb", "C-u")
    try terminal.type("\(scratch.path)/digits-mlp-p")
    try terminal.tmux("send-keys", "-t", "wb", "Tab")
    _ = try terminal.waitFor("\(scratch.path)/digits-mlp-prune-half.onnx", timeout: 20)
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    text = try terminal.waitFor("dataset: digits", timeout: 20)
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    _ = try terminal.waitFor("Model · \(scratch.path)/digits-mlp-prune-half.onnx", timeout: 30)
    text = try terminal.waitFor("input: ")
    XCTAssertTrue(text.contains("0/1 done"), "the pipeline stays, to run on the reopened model:\n\(text)")

    // L: every message in full, the export among them.
    try terminal.tmux("send-keys", "-t", "wb", "L")
    // The whole frame, not its header: tmux may show the header before the rows below it.
    text = try terminal.waitFor("info  saved the model to ", timeout: 20)
    XCTAssertTrue(
      text.contains("info  saved the model to \(scratch.path)/digits-mlp-prune-half.onnx (onnx,"),
      "the status line cut it, the log has it whole:\n\(text)")
    XCTAssertTrue(text.contains("opened \(scratch.path)/digits-mlp-prune-half.onnx on digits"), text)
    try terminal.tmux("send-keys", "-t", "wb", "Escape")
    try terminal.tmux("send-keys", "-t", "wb", "q")
    _ = try terminal.waitFor("LATHE-EXITED-0", timeout: 20)

    let recent = try String(contentsOf: state.appendingPathComponent("lathe/recent.json"), encoding: .utf8)
    XCTAssertTrue(recent.contains("digits-mlp-prune-half.onnx"), recent)
    let settings = try String(contentsOf: state.appendingPathComponent("lathe/settings.json"), encoding: .utf8)
    XCTAssertTrue(settings.contains("\"theme\" : \"default\""), settings)
  }
}
