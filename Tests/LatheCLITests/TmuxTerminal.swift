import Foundation
import XCTest

/// A tmux server of a test's own (its own socket) in which the real `lathe` runs as a user
/// would see it; the test types keys and reads the screen back.
///
/// tmux runs through posix_spawn and waitpid, its output through a file: the server that
/// `new-session` starts keeps inherited descriptors open, so a pipe would never reach
/// end-of-file, and Foundation's Process did not reap that client here.
final class TmuxTerminal {
  var socket: String
  /// A folder for the test's files, removed by `close()`.
  let scratch: URL

  init(prefix: String) throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
      XCTFail("tmux is not installed: scripts/install-deps installs it")
      throw CocoaError(.fileNoSuchFile)
    }
    socket = "\(prefix)-\(UUID().uuidString.prefix(8))"
    scratch = FileManager.default.temporaryDirectory.appendingPathComponent(socket)
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
  }

  func close() {
    _ = try? run(["kill-server"])
    try? FileManager.default.removeItem(at: scratch)
  }

  /// Runs one tmux command against this server and returns what it printed.
  @discardableResult
  func run(_ arguments: [String]) throws -> String {
    let output = scratch.appendingPathComponent("tmux-\(UUID().uuidString).out")
    defer { try? FileManager.default.removeItem(at: output) }
    let argv = ["/usr/bin/tmux", "-L", socket] + arguments
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for arg in cArgs { free(arg) } }
    guard posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { throw CocoaError(.executableLoad) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
  }

  /// Runs one tmux command, its words as arguments: `tmux("send-keys", "-t", "wb", "n")`.
  @discardableResult
  func tmux(_ arguments: String...) throws -> String { try run(arguments) }

  /// The text of session "wb".
  func screen() throws -> String { try run(["capture-pane", "-p", "-t", "wb"]) }

  /// Types `text` into session "wb" as it is (tmux would read "Enter" or "Tab" as keys otherwise).
  func type(_ text: String) throws { try run(["send-keys", "-t", "wb", "-l", text]) }

  /// Waits until session "wb" shows `text` (the engine measures and trains for real) and returns
  /// the screen; fails the test with the last screen when it never does.
  @discardableResult
  func waitFor(_ text: String, timeout: TimeInterval = 120, file: StaticString = #filePath, line: UInt = #line)
    throws -> String
  {
    let deadline = Date().addingTimeInterval(timeout)
    var last = ""
    while Date() < deadline {
      last = try screen()
      if last.contains(text) { return last }
      Thread.sleep(forTimeInterval: 0.2)
    }
    XCTFail("\"\(text)\" never appeared; screen:\n\(last)", file: file, line: line)
    return last
  }
}
