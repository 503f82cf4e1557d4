import Foundation
import LatheIO
import LatheTensor
import LatheTestSupport
import XCTest

/// Drives the real `lathe` binary inside tmux, as a user at a terminal would: the home screen
/// with real numbers, a step run with `n`, help, resizing, and quitting back to the shell.
final class WorkbenchEndToEndTests: XCTestCase {
  var terminal: TmuxTerminal!
  var scratch: URL { terminal.scratch }

  override func setUpWithError() throws { terminal = try TmuxTerminal(prefix: "lathe-e2e") }

  override func tearDownWithError() throws { terminal?.close() }

  func testHomeStepHelpResizeAndQuit() throws {
    // A small pipeline on the small model keeps a debug build quick; the workbench path is the same.
    let pipeline = scratch.appendingPathComponent("e2e.yaml")
    try """
    name: e2e
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune-half
        technique: prune
        sparsity: 0.5
      - name: int8
        technique: quantize
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let binary = CommandLineTests.binary.path
    try terminal.tmux(
      "new-session", "-d", "-s", "wb", "-x", "120", "-y", "40",
      "env LANG=C.UTF-8 XDG_STATE_HOME=\(scratch.path)/state \(binary) --model digits-mlp --pipeline \(pipeline.path); echo LATHE-EXITED-$?; sleep 60"
    )

    // Home: the model table and the measured input model.
    var text = try terminal.waitFor("input: ")
    XCTAssertTrue(text.contains("fc1") && text.contains("Pipeline") && text.contains("prune-half"), text)
    XCTAssertTrue(text.contains("0/2 done"), text)

    // n runs the first step; its row and the charts then show its numbers.
    try terminal.tmux("send-keys", "-t", "wb", "n")
    text = try terminal.waitFor("1/2 done")
    XCTAssertTrue(text.contains("prune-half: "), "the log line reports the step's measured numbers:\n\(text)")
    let row = text.split(separator: "\n").first { $0.contains("prune-half") && $0.contains("%") }
    XCTAssertNotNil(row, "the pipeline row shows the step's accuracy:\n\(text)")
    // Half of each layer's weights (biases stay) are zero: the table shows 49% of the parameters.
    // (Stored sparse since half-pruned layers are smaller as CSR: the op reads sparse_linear.)
    let fc1 = text.split(separator: "\n").first {
      $0.contains("fc1 ") && ($0.contains("linear") || $0.contains("sparse_"))
    }
    XCTAssertTrue(fc1?.contains("49%") ?? false, "the model table shows the pruned layer's sparsity:\n\(text)")

    // Help lists the keys; any key closes it.
    try terminal.tmux("send-keys", "-t", "wb", "?")
    text = try terminal.waitFor("run next step")
    try terminal.tmux("send-keys", "-t", "wb", "Escape")
    Thread.sleep(forTimeInterval: 0.5)
    XCTAssertFalse(try terminal.screen().contains("run next step"))

    // Resizing reflows; below the minimum it says so.
    try terminal.tmux("resize-window", "-t", "wb", "-x", "80", "-y", "24")
    text = try terminal.waitFor("Pipeline")
    XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.count <= 80 }, text)
    try terminal.tmux("resize-window", "-t", "wb", "-x", "60", "-y", "20")
    _ = try terminal.waitFor("needs at least 80x24")
    try terminal.tmux("resize-window", "-t", "wb", "-x", "120", "-y", "40")
    text = try terminal.waitFor("1/2 done")

    // The status line names the session folder that holds the step model.
    XCTAssertTrue(text.contains("session ") && text.contains("lathe-workbench-"), text)
    // q asks once (a step model would be lost), the second q quits and hands the shell back.
    try terminal.tmux("send-keys", "-t", "wb", "q")
    _ = try terminal.waitFor("unsaved: 1 step model")
    try terminal.tmux("send-keys", "-t", "wb", "q")
    text = try terminal.waitFor("LATHE-EXITED-0", timeout: 20)
    XCTAssertFalse(text.contains("Pipeline"), "the terminal was restored:\n\(text)")
  }

  /// A model with open sizes (its file's example size a made-up 320x320 probe) on unlabelled
  /// lines of 8x24: the workbench shows shapes at the data's size, times latency on the data
  /// (naming the batch) and charts KL against the input model in place of accuracy.
  func testAModelWithOpenSizesIsMeasuredAtTheDatasetsSize() throws {
    var generator = SeededGenerator(seed: 5)
    let model = try Model(
      architecture: "open-conv", inputShape: [1, 320, 320], classCount: 4,
      sequence: [
        ("conv", Conv2d(inChannels: 1, outChannels: 4, kernel: 3, padding: 1, generator: &generator)),
        ("relu", Function(.relu)),
      ])
    model.symbolicAxes = [1, 2]
    let modelFile = scratch.appendingPathComponent("open.safetensors")
    try ModelFile.save(model, to: modelFile)
    let lines = Tensor<Float>.uniform([3, 1, 8, 24], low: 0, high: 1, generator: &generator)
    let data = scratch.appendingPathComponent("lines.npz")
    try NumpyArchive.write(["x": NumpyArray(shape: lines.shape, values: lines.scalars)], to: data)
    let binary = CommandLineTests.binary.path
    try terminal.tmux(
      "new-session", "-d", "-s", "wb", "-x", "140", "-y", "40",
      "env LANG=C.UTF-8 XDG_STATE_HOME=\(scratch.path)/state \(binary) --model \(modelFile.path) --dataset \(data.path); sleep 60"
    )
    let text = try terminal.waitFor("input: ")
    XCTAssertTrue(text.contains("1x4x8x24"), "the layer table's shapes are at the data's 8x24:\n\(text)")
    XCTAssertFalse(text.contains("x320"), "no shape at the probe size:\n\(text)")
    XCTAssertTrue(text.contains("at batch 1"), "the log names the batch timed:\n\(text)")
    XCTAssertTrue(text.contains("KL to input"), "no labels: the first chart is KL:\n\(text)")
    XCTAssertFalse(text.contains("accuracy 100"), text)
  }

  func testSearchScreenRunsAStudyAndOpensATrial() throws {
    // A plain pipeline to open, and beside it a search pipeline whose trials take moments.
    let pipeline = scratch.appendingPathComponent("e2e.yaml")
    try "name: e2e\nmodel: digits-mlp\ndataset: digits\nsteps: []\n".write(
      to: pipeline, atomically: true, encoding: .utf8)
    let search = scratch.appendingPathComponent("tiny-search.yaml")
    try TinySearchPipeline.write(to: search, name: "tiny-search")
    try terminal.tmux(
      "new-session", "-d", "-s", "wb", "-x", "140", "-y", "40",
      "env LANG=C.UTF-8 XDG_STATE_HOME=\(scratch.path)/state \(CommandLineTests.binary.path) --model digits-mlp --pipeline \(pipeline.path); "
        + "echo LATHE-EXITED-$?; sleep 60")
    _ = try terminal.waitFor("input: ")

    // s opens the form, the search file beside the open pipeline first; 12 trials down to 3, 2 at once.
    try terminal.tmux("send-keys", "-t", "wb", "s")
    var text = try terminal.waitFor("New search")
    XCTAssertTrue(text.contains("▶ \(search.path)"), text)
    // Keys are taken in order: once trials shows 3, the jobs keys sent before have been taken too.
    for _ in 0..<8 { try terminal.tmux("send-keys", "-t", "wb", "<") }
    try terminal.tmux("send-keys", "-t", "wb", ">")
    for _ in 0..<9 { try terminal.tmux("send-keys", "-t", "wb", "-") }
    text = try terminal.waitFor("trials  3")
    XCTAssertTrue(text.contains("jobs    2"), text)

    // enter starts the study: trials run in worker processes and fill the table as they finish.
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    text = try terminal.waitFor("search ended: 3 of 3 trials finished", timeout: 60)
    XCTAssertTrue(text.contains("Search · tiny-search") && text.contains("3/3 finished"), text)
    for trial in 0..<3 {
      XCTAssertTrue(text.contains(" \(trial) complete"), "trial \(trial) is in the table:\n\(text)")
    }
    XCTAssertTrue(text.contains("Best so far"), text)

    // enter on the first trial opens its model and pipeline on the home screen.
    try terminal.tmux("send-keys", "-t", "wb", "Enter")
    text = try terminal.waitFor("tiny-search trial 0")
    XCTAssertTrue(text.contains("Pipeline") && text.contains("prune"), text)
    text = try terminal.waitFor("input: ")
    XCTAssertTrue(text.contains("acc "), "the header shows the trial model's accuracy:\n\(text)")

    try terminal.tmux("send-keys", "-t", "wb", "q")
    _ = try terminal.waitFor("unsaved: the study")
    try terminal.tmux("send-keys", "-t", "wb", "q")
    _ = try terminal.waitFor("LATHE-EXITED-0", timeout: 20)
  }

  /// `lathe --study`: a study that `lathe search` workers on two "machines" (host names given
  /// through LATHE_WORKER_HOST) run, watched as the second one adds its trials.
  func testStudyFlagWatchesWorkersOfEveryHost() throws {
    let search = try TinySearchPipeline.write(
      to: scratch.appendingPathComponent("tiny-search.yaml"), name: "tiny-search", settings: ["trials: 2"])
    let url = "sqlite:///" + scratch.appendingPathComponent("tiny-search.study.db").path
    let lathe = CommandLineTests.binary.path
    try terminal.tmux(
      "new-session", "-d", "-s", "wb", "-x", "140", "-y", "40",
      // In the scratch folder: each lathe search writes tiny-search.best.yaml where it runs.
      "cd \(scratch.path) && env LATHE_WORKER_HOST=node-a \(lathe) search \(search.path) --storage \(url) "
        + "> /dev/null 2>&1 && env LANG=C.UTF-8 XDG_STATE_HOME=\(scratch.path)/state \(lathe) --study \(url) --pipeline \(search.path); echo LATHE-EXITED-$?; sleep 60"
    )
    var text = try terminal.waitFor("watching", timeout: 120)
    XCTAssertTrue(text.contains("optuna-dashboard \(url)"), text)
    text = try terminal.waitFor("2/2 finished")
    XCTAssertTrue(text.contains(" 0 complete") && text.contains(" 1 complete") && text.contains("node-a"), text)

    // A worker on another machine joins with a larger total while the workbench watches.
    let worker = Process()
    worker.executableURL = CommandLineTests.binary
    worker.arguments = ["search", search.path, "--storage", url, "--worker", "--trials", "4"]
    worker.environment = ProcessInfo.processInfo.environment.merging(["LATHE_WORKER_HOST": "node-b"]) { $1 }
    worker.currentDirectoryURL = scratch
    worker.standardOutput = FileHandle.nullDevice
    worker.standardError = FileHandle.nullDevice
    try worker.run()
    worker.waitUntilExit()
    XCTAssertEqual(worker.terminationStatus, 0)
    text = try terminal.waitFor("4/4 finished", timeout: 30)
    XCTAssertTrue(text.contains("2 hosts") && text.contains(" 3 complete"), text)
    XCTAssertTrue(text.split(separator: "\n").contains { $0.contains(" 3 complete") && $0.contains("node-b") }, text)

    // s sorts by the next column, and the header says so.
    try terminal.tmux("send-keys", "-t", "wb", "s")
    _ = try terminal.waitFor("state▲")
    // Nothing of a watched study is lost by quitting: q quits at once.
    try terminal.tmux("send-keys", "-t", "wb", "q")
    _ = try terminal.waitFor("LATHE-EXITED-0", timeout: 20)
  }
}
