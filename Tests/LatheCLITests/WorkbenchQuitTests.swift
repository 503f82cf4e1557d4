import Foundation
import XCTest

/// Quitting while a step trains, by every way out (q, Ctrl-C, SIGTERM), 50 times: the process
/// must exit normally and leave no session folder behind. Quitting mid-step used to segfault
/// when the process exited under the engine's running step.
final class WorkbenchQuitTests: XCTestCase {
  var terminal: TmuxTerminal!

  override func setUpWithError() throws { terminal = try TmuxTerminal(prefix: "lathe-quit") }
  override func tearDownWithError() throws { terminal?.close() }

  func screen(_ session: String) throws -> String { try terminal.run(["capture-pane", "-p", "-t", session]) }

  func waitFor(_ text: String, in session: String, timeout: TimeInterval = 60) throws -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let shown = try screen(session)
      if shown.contains(text) { return shown }
      Thread.sleep(forTimeInterval: 0.1)
    }
    return nil
  }

  enum Exit: CaseIterable {
    case q, controlC, sigterm
  }

  func testQuittingDuringAStepFiftyTimes() throws {
    let pipeline = terminal.scratch.appendingPathComponent("long.yaml")
    try """
    name: long
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune
        technique: prune
        sparsity: 0.5
        epochs: 20
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let attempts = 50
    let together = 5  // sessions at once, to keep the test short
    var generator = SystemRandomNumberGenerator()
    for batch in stride(from: 0, to: attempts, by: together) {
      let names = (batch..<min(batch + together, attempts)).map { "q\($0)" }
      for name in names {
        let temporary = terminal.scratch.appendingPathComponent("tmp-\(name)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        try terminal.run([
          "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
          "env LANG=C.UTF-8 TMPDIR=\(temporary.path) XDG_STATE_HOME=\(terminal.scratch.path)/state \(CommandLineTests.binary.path) --model digits-mlp --pipeline \(pipeline.path); "
            + "echo LATHE-EXITED-$?; sleep 60",
        ])
      }
      for name in names {
        if try waitFor("input: ", in: name) == nil {
          XCTFail("\(name) never measured its input model:\n\(try screen(name))\n\(try diagnosis(name))")
        }
        try terminal.run(["send-keys", "-t", name, "a"])
      }
      for (offset, name) in names.enumerated() {
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.4, using: &generator))
        switch Exit.allCases[(batch + offset) % Exit.allCases.count] {
        case .q: try terminal.run(["send-keys", "-t", name, "q"])
        case .controlC: try terminal.run(["send-keys", "-t", name, "C-c"])
        case .sigterm:
          let shell = try terminal.run(["display-message", "-p", "-t", name, "#{pane_pid}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
          let pkill = Process()
          pkill.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
          pkill.arguments = ["-TERM", "-P", shell, "lathe"]
          try pkill.run()
          pkill.waitUntilExit()
        }
      }
      for name in names {
        // A step that finished before the key leaves a step model: q asks once, q again quits.
        if try screen(name).contains("unsaved:") { try terminal.run(["send-keys", "-t", name, "q"]) }
        guard let shown = try waitFor("LATHE-EXITED-", in: name, timeout: 30) else {
          XCTFail("\(name) did not quit:\n\(try screen(name))\n\(try diagnosis(name))")
          continue
        }
        let status = shown.components(separatedBy: "LATHE-EXITED-")[1].prefix { $0.isNumber }
        XCTAssertEqual(status, "0", "\(name) exited with \(status):\n\(shown)")
        let left = try FileManager.default.contentsOfDirectory(
          atPath: terminal.scratch.appendingPathComponent("tmp-\(name)").path)
        XCTAssertEqual(left, [], "\(name) left its session folder behind")
        try terminal.run(["kill-session", "-t", name])
      }
    }
  }
}

extension WorkbenchQuitTests {
  /// What a stuck workbench is doing, for the failure message: its process state, each thread's
  /// kernel wait, and, where gdb is installed, every thread's stack. (One start in about 550
  /// once drew nothing; this is what the next one will tell.)
  func diagnosis(_ session: String) throws -> String {
    let shell = try terminal.run(["display-message", "-p", "-t", session, "#{pane_pid}"])
      .trimmingCharacters(in: .whitespacesAndNewlines)
    func output(_ path: String, _ arguments: [String]) -> String {
      guard FileManager.default.isExecutableFile(atPath: path) else { return "(\(path) not installed)" }
      let process = Process()
      process.executableURL = URL(fileURLWithPath: path)
      process.arguments = arguments
      let pipe = Pipe()
      process.standardOutput = pipe
      process.standardError = pipe
      guard (try? process.run()) != nil else { return "(\(path) did not start)" }
      let data = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return String(decoding: data, as: UTF8.self)
    }
    let pid = output("/usr/bin/pgrep", ["-P", shell, "lathe"]).split(separator: "\n").first.map(String.init) ?? ""
    guard !pid.isEmpty, Int(pid) != nil else { return "no lathe process under the pane's shell \(shell)" }
    let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    let waits = threads.sorted().map { task in
      "\(task): " + ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/wchan", encoding: .utf8)) ?? "?")
    }
    let stacks = output("/usr/bin/gdb", ["-p", pid, "-batch", "-ex", "thread apply all bt 12"])
    return "lathe pid \(pid): " + output("/usr/bin/ps", ["-o", "pid,stat,etime,time", "-p", pid])
      + "threads waiting in: " + waits.joined(separator: ", ") + "\n" + String(stacks.suffix(6000))
  }

  /// `kill -9` cannot be caught: the killed workbench's folder stays until the next one starts,
  /// which removes it (its process is gone) and keeps its own.
  func testNextWorkbenchRemovesTheFolderOfAKilledOne() throws {
    let temporary = terminal.scratch.appendingPathComponent("tmp-killed")
    try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    let pipeline = CommandLineTests.packageRoot.appendingPathComponent("samples/tutorials/pipelines/first-tour.yaml")
    func start(_ name: String) throws {
      try terminal.run([
        "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
        // A killed workbench cannot restore the terminal: the shell leaves the alternate screen
        // and clears it before the exit line, or the line can land inside the last frame where
        // the pane capture misses it (1 run in 3 here).
        "env LANG=C.UTF-8 TMPDIR=\(temporary.path) XDG_STATE_HOME=\(terminal.scratch.path)/state \(CommandLineTests.binary.path) --pipeline \(pipeline.path); "
          + "s=$?; printf '\\033[?1049l\\033[2J\\033[H'; echo LATHE-EXITED-$s; sleep 60",
      ])
    }
    try start("first")
    XCTAssertNotNil(try waitFor("input: ", in: "first"))
    try terminal.run(["send-keys", "-t", "first", "a"])
    Thread.sleep(forTimeInterval: 0.3)
    let shell = try terminal.run(["display-message", "-p", "-t", "first", "#{pane_pid}"])
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let pkill = Process()
    pkill.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
    pkill.arguments = ["-KILL", "-P", shell, "lathe"]
    try pkill.run()
    pkill.waitUntilExit()
    XCTAssertNotNil(try waitFor("LATHE-EXITED-137", in: "first", timeout: 20))
    let left = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter {
      $0.hasPrefix("lathe-workbench-")
    }
    XCTAssertEqual(left.count, 1, "the killed workbench's folder is still there: \(left)")

    try start("second")
    XCTAssertNotNil(try waitFor("input: ", in: "second"))
    let now = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter {
      $0.hasPrefix("lathe-workbench-")
    }
    XCTAssertEqual(now.count, 1)
    XCTAssertNotEqual(now, left, "the second workbench removed the first's folder and made its own")
    try terminal.run(["send-keys", "-t", "second", "q"])
    XCTAssertNotNil(try waitFor("LATHE-EXITED-0", in: "second", timeout: 20))
  }
}
