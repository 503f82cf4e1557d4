import Foundation
import XCTest

/// Drives every bundled tutorial to its summary with the real `lathe tutorial NAME` in tmux, as
/// a learner would: the keys each step asks for, a wrong try or two, and the numbers the panel
/// shows checked against the ones the engine logged.
final class TutorialEndToEndTests: XCTestCase {
  var terminal: TmuxTerminal!
  var scratch: URL { terminal.scratch }
  /// Where the tutorial column starts at 160 columns (the panel is 46 wide).
  let panelColumn = 114

  override func setUpWithError() throws { terminal = try TmuxTerminal(prefix: "lathe-tut") }

  override func tearDownWithError() throws { terminal?.close() }

  @discardableResult
  func tmux(_ arguments: String...) throws -> String { try terminal.run(arguments) }

  func screen() throws -> String { try terminal.screen() }

  /// The tutorial column's text, borders dropped and lines joined with spaces, so phrases that
  /// wrap still match.
  func panel() throws -> String {
    let lines = try screen().split(separator: "\n").map { line -> String in
      let cells = Array(line)
      guard cells.count > panelColumn else { return "" }
      return String(cells[panelColumn...]).trimmingCharacters(in: CharacterSet(charactersIn: "┃│ "))
    }
    return lines.filter { !$0.isEmpty }.joined(separator: " ")
  }

  @discardableResult
  func waitFor(
    _ text: String, inPanel: Bool = false, timeout: TimeInterval = 120, file: StaticString = #filePath,
    line: UInt = #line
  ) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var last = ""
    while Date() < deadline {
      last = inPanel ? try panel() : try screen()
      if last.contains(text) { return last }
      Thread.sleep(forTimeInterval: 0.2)
    }
    XCTFail("\"\(text)\" never appeared; \(inPanel ? "panel" : "screen"):\n\(last)", file: file, line: line)
    return last
  }

  /// Sends keys one at a time, a little apart (ncurses waits 25 ms after Esc for a sequence).
  func keys(_ keys: String...) throws {
    for key in keys {
      try tmux("send-keys", "-t", "wb", key)
      Thread.sleep(forTimeInterval: 0.15)
    }
  }

  /// Types a literal value.
  func type(_ text: String) throws {
    try tmux("send-keys", "-t", "wb", "-l", text)
    Thread.sleep(forTimeInterval: 0.15)
  }

  /// Opens the step editor, sets each (field row, value) of the first step, applies, returns.
  func edit(_ fields: [(row: Int, value: String)]) throws {
    try keys("e")
    _ = try waitFor("edit pipeline")
    try keys("Tab")
    var row = 0
    for field in fields {
      for _ in row..<field.row { try keys("j") }
      row = field.row
      try keys("Enter", "C-u")
      try type(field.value)
      try keys("Enter")
    }
    try keys("s")
    _ = try waitFor("pipeline updated")
    try keys("Escape", "Escape")
    _ = try waitFor("workbench")
  }

  /// Starts `lathe tutorial NAME` with its progress kept in the scratch folder; waits until the
  /// input model is measured.
  func start(_ name: String, restart: Bool = true) throws {
    let binary = CommandLineTests.binary.path
    try tmux(
      "new-session", "-d", "-s", "wb", "-x", "160", "-y", "45",
      "env LANG=C.UTF-8 XDG_STATE_HOME=\(scratch.path)/state \(binary) tutorial \(name)"
        + (restart ? " --restart" : "") + "; echo LATHE-EXITED-$?; sleep 60")
    _ = try waitFor("input: ")
  }

  /// The accuracy the engine logged for a step (or "input"), as the panels print it ("96.1%").
  func logged(_ step: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let text = try screen()
    guard let range = text.range(of: "\(step): "),
      let end = text[range.upperBound...].range(of: "% accuracy"),
      let value = Double(text[range.upperBound..<end.lowerBound])
    else {
      XCTFail("no logged accuracy for \(step):\n\(text)", file: file, line: line)
      return "?"
    }
    return String(format: "%.1f%%", value)
  }

  /// `q`; a step model is unsaved, so the workbench asks once and the second `q` quits.
  func quit() throws {
    try keys("q")
    _ = try waitFor("unsaved: ")
    try keys("q")
    _ = try waitFor("LATHE-EXITED-0", timeout: 20)
  }

  /// Goes on to the summary, prints it (the numbers of this run), leaves, quits cleanly.
  func finish(_ expected: String) throws -> String {
    try keys("]")
    let summary = try waitFor("Summary", inPanel: true)
    XCTAssertTrue(summary.contains(expected), summary)
    print("SUMMARY \(name): \(summary)")
    try keys("X")
    _ = try waitFor("left the tutorial")
    XCTAssertFalse(try panel().contains("Tutorial"), "the column is gone after X")
    try quit()
    let progress = try String(
      contentsOf: scratch.appendingPathComponent("state/lathe/tutorials.json"), encoding: .utf8)
    XCTAssertTrue(progress.contains("\"completed\" : true"), progress)
    return summary
  }

  func testListsTutorials() throws {
    let process = Process()
    process.executableURL = CommandLineTests.binary
    process.arguments = ["tutorial"]
    process.environment = ["XDG_STATE_HOME": scratch.path, "HOME": scratch.path]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    for name in [
      "1-first-tour", "2-pruning", "3-int8", "4-distillation", "5-deep-compression", "6-search",
      "7-compress-a-download", "8-quantize-a-gpt",
    ] {
      XCTAssertTrue(text.contains(name), text)
    }
  }

  func testFirstTour() throws {
    let started = Date()
    try start("first-tour")
    let base = try logged("input")
    var text = try waitFor("step 1 of 4", inPanel: true)
    XCTAssertTrue(text.contains("accuracy \(base) (test images right)"), text)
    try keys("]")
    // Going on before running the step is a wrong try: it says why, and a hint appears.
    try waitFor("Do: Press n", inPanel: true)
    try keys("]")
    _ = try waitFor("not yet: step prune has not run yet")
    try waitFor("Hint 1: n runs", inPanel: true)
    try keys("n")
    text = try waitFor("Done.", inPanel: true)
    text = try panel()
    let pruned = try logged("prune")
    XCTAssertTrue(text.contains("Accuracy \(base) -> \(pruned)"), text)
    try keys("]")
    text = try waitFor("fc1 is now 49% zeros", inPanel: true)
    try keys("j", "Enter")
    _ = try waitFor("layer fc1")
    try waitFor("tall bar at 0", inPanel: true)
    try keys("Escape", "]")
    try waitFor("step 4 of 4", inPanel: true)
    // Running again without the change: the check names what is missing.
    try keys("]")
    _ = try waitFor("not yet: sparsity of prune is 0.5, not 0.8")
    try edit([(3, "0.8")])
    try keys("n")
    text = try waitFor("At 80% zeros", inPanel: true)
    let eighty = try logged("prune")
    XCTAssertTrue(text.contains("accuracy \(eighty)"), text)
    _ = try finish("Where you ended: accuracy \(eighty)")
    print("TIMING first-tour \(Int(Date().timeIntervalSince(started))) s")
  }

  func testPruning() throws {
    let started = Date()
    try start("pruning")
    try keys("]", "n")
    var text = try waitFor("fc1 runs on", inPanel: true)
    let magnitude = try logged("prune")
    XCTAssertTrue(text.contains("Accuracy \(magnitude)"), text)
    // The lesson follows this run's times: one of the two, never both.
    let slower = text.contains("The file shrank, the time did not")
    let faster = text.contains("The time fell too")
    XCTAssertTrue(slower != faster, "exactly one lesson for the measured times:\n\(text)")
    try keys("]")
    try edit([(1, "structured")])
    try keys("n")
    text = try waitFor("Structured: accuracy", inPanel: true)
    let structured = try logged("prune")
    XCTAssertTrue(text.contains("Structured: accuracy \(structured) (magnitude \(magnitude))"), text)
    _ = try finish("Structured pruning removed whole neurons")
    print("TIMING pruning \(Int(Date().timeIntervalSince(started))) s")
  }

  /// The mean squared quantization error the layer detail shows.
  func meanSquaredError() throws -> Double {
    let text = try waitFor("quant error: mse ")
    guard let range = text.range(of: "quant error: mse "), let end = text[range.upperBound...].range(of: " "),
      let value = Double(text[range.upperBound..<end.lowerBound])
    else { return .nan }
    return value
  }

  func testInt8() throws {
    let started = Date()
    try start("int8")
    let base = try logged("input")
    try keys("]", "n")
    var text = try waitFor("integer kernels", inPanel: true)
    let perTensor = try logged("int8")
    XCTAssertTrue(text.contains("Accuracy \(base) -> \(perTensor)"), text)
    try keys("]", "Enter")
    _ = try waitFor("layer conv1")
    try waitFor("quant error line", inPanel: true)
    let coarse = try meanSquaredError()
    try keys("Escape", "]")
    try edit([(1, "per-channel"), (3, "percentile")])
    try keys("n")
    text = try waitFor("weights are not zero now", inPanel: true)
    try keys("]", "Enter")
    _ = try waitFor("layer conv1")
    try waitFor("the mse is smaller", inPanel: true)
    let fine = try meanSquaredError()
    XCTAssertLessThan(fine, coarse, "per-channel scales fit conv1's weights more closely")
    print("MSE conv1 per-tensor \(coarse), per-channel \(fine)")
    try keys("Escape")
    _ = try finish("Per-channel scales kept")
    print("TIMING int8 \(Int(Date().timeIntervalSince(started))) s")
  }

  /// The bundled third-party ONNX model: int8 sensitivity, then int8 within a budget.
  func testCompressADownload() throws {
    let started = Date()
    try start("compress-a-download")
    let base = try logged("input")
    var text = try waitFor("exactly as its PyPI wheel ships it", inPanel: true)
    XCTAssertTrue(text.contains("On 100 rendered test pages: \(base)"), text)
    try keys("]", "n")
    text = try waitFor("The model did not change", inPanel: true, timeout: 300)
    XCTAssertFalse(text.contains("Conv_0 …"), "the sensitivity step reports Conv_0's KL: \(text)")
    XCTAssertEqual(try logged("sensitivity"), base)
    try keys("]", "n")
    text = try waitFor("layers stay fp32 to keep within 99%", inPanel: true, timeout: 300)
    let int8 = try logged("int8")
    XCTAssertTrue(text.contains("accuracy \(base) -> \(int8)"), text)
    XCTAssertTrue(text.contains("Size 6.70 MB -> "), text)
    try keys("]", "Enter")
    _ = try waitFor("layer Conv_0")
    text = try waitFor("Its kernel:", inPanel: true)
    XCTAssertTrue(text.contains("Its kernel: int8") || text.contains("Its kernel: im2col"), text)
    try keys("Escape")
    _ = try waitFor("int8 KL")
    _ = try finish("reading \(int8) of the test pages right")
    print("TIMING compress-a-download \(Int(Date().timeIntervalSince(started))) s")
  }

  /// The bundled GPT: RTN and GPTQ int4 from the same model, perplexities and KL filled in,
  /// and the Prompt screen writing text with both.
  func testQuantizeALanguageModel() throws {
    let started = Date()
    try start("quantize-a-gpt")
    var text = try waitFor("perplexity on text it never saw", inPanel: true, timeout: 300)
    XCTAssertFalse(text.contains("chapters: …"), "the baseline perplexity is filled in: \(text)")
    try keys("]", "n")
    text = try waitFor("nats, and the most likely next byte", inPanel: true, timeout: 300)
    XCTAssertFalse(text.contains("-> …") || text.contains("divergence …"), text)
    try keys("]", "n")
    text = try waitFor("(rounding gave", inPanel: true, timeout: 300)
    XCTAssertFalse(text.contains("Perplexity …") || text.contains("mean KL …"), text)
    // GPTQ's perplexity is no worse than rounding's (the figure itself is in docs/transformers.md).
    let numbers = text.components(separatedBy: "Perplexity ").last?.split(separator: " ")
    let gptq = Double(numbers?.first ?? "")
    let rtn = Double(text.components(separatedBy: "(rounding gave ").last?.prefix(5) ?? "")
    XCTAssertNotNil(gptq, text)
    XCTAssertNotNil(rtn, text)
    if let gptq, let rtn { XCTAssertLessThanOrEqual(gptq, rtn, text) }
    try keys("]", "p", "Enter")
    _ = try waitFor("ppl")
    text = try screen()
    XCTAssertTrue(text.contains("original") && text.contains("gptq"), text)
    try waitFor("any difference is the quantization's", inPanel: true)
    try keys("Escape")
    _ = try finish("GPTQ to")
    print("TIMING quantize-a-gpt \(Int(Date().timeIntervalSince(started))) s")
  }

  func testDistillation() throws {
    let started = Date()
    try start("distillation")
    try keys("]", "n")
    var text = try waitFor("Student with teacher:", inPanel: true)
    try keys("]")
    try edit([(14, "4")])
    try keys("n")
    text = try waitFor("T = 4:", inPanel: true)
    XCTAssertTrue(text.contains("(T = 1: "), text)
    try keys("]")
    try edit([(15, "0.9")])
    try keys("n")
    text = try waitFor("alpha 0.9:", inPanel: true)
    _ = try finish("taught at T = 4 it reached")
    print("TIMING distillation \(Int(Date().timeIntervalSince(started))) s")
  }

  func testDeepCompression() throws {
    let started = Date()
    try start("deep-compression")
    try keys("]", "n")
    try waitFor("nonzero weights are stored", inPanel: true)
    try keys("]", "n")
    try waitFor("bits per weight", inPanel: true)
    try keys("]", "n")
    let text = try waitFor("Huffman coding is lossless", inPanel: true)
    let final = try logged("huffman")
    XCTAssertTrue(text.contains("Accuracy \(final)"), text)
    try keys("]", "v")
    _ = try waitFor("compare")
    try waitFor("each layer's size", inPanel: true)
    try keys("Escape")
    _ = try finish("-> \(final)")
    print("TIMING deep-compression \(Int(Date().timeIntervalSince(started))) s")
  }

  func testSearch() throws {
    let started = Date()
    try start("search")
    try keys("s")
    _ = try waitFor("New search")
    try waitFor("Done.", inPanel: true)
    try keys("]")
    try waitFor("step 2 of 3", inPanel: true)
    // The form lists the tutorial's search pipeline first; 12 trials down to 6.
    XCTAssertTrue(
      try screen().contains("▶ \(CommandLineTests.packageRoot.path)/samples/tutorials/pipelines/search-digits"))
    for _ in 0..<6 { try keys("-") }
    _ = try waitFor("trials  6")
    try keys("Enter")
    var text = try waitFor("6 trials complete. A trial marked", inPanel: true, timeout: 60)
    // The best trial's numbers in the panel are the ones in its table row.
    let table = try waitFor("search ended: 6 of 6")
    let most = "The most accurate of them, trial "
    guard let range = text.range(of: most), let has = text.range(of: " has ", range: range.upperBound..<text.endIndex),
      let at = text.range(of: " at ", range: has.upperBound..<text.endIndex),
      let number = Int(text[range.upperBound...].prefix { $0.isNumber })
    else { return XCTFail("no best trial in the panel:\n\(text)") }
    let accuracy = String(text[has.upperBound..<at.lowerBound])
    let row = table.split(separator: "\n").first { $0.contains(" \(number) complete") } ?? ""
    XCTAssertTrue(row.contains(accuracy), "the panel's \(accuracy) is trial \(number)'s in the table:\n\(table)")
    try keys("]")
    try waitFor("step 3 of 3", inPanel: true)
    try keys("Enter")
    text = try waitFor("The workbench holds search-digits trial 0 now", inPanel: true)
    _ = try waitFor("input: ")
    _ = try finish("The study tried 6 sets of sparsities")
    print("TIMING search \(Int(Date().timeIntervalSince(started))) s")
  }

  /// Leaving halfway keeps the place; starting again without --restart resumes there.
  func testLeaveAndResume() throws {
    try start("pruning")
    try keys("]")
    try waitFor("step 2 of 3", inPanel: true)
    try keys("X")
    _ = try waitFor("left the tutorial")
    try keys("n")
    _ = try waitFor("1/1 done")
    try quit()
    try tmux("kill-server")
    // A new server on a new socket: reusing the name races with the old server's shutdown.
    terminal.socket += "-again"
    try start("pruning", restart: false)
    let text = try waitFor("step 2 of 3", inPanel: true)
    XCTAssertTrue(text.contains("Resumed here"), text)
  }
}
