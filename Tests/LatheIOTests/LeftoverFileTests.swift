import Foundation
import XCTest

@testable import LatheIO

/// What a process killed with `kill -9` leaves behind (a scratch folder, a hidden temporary
/// of a write cut short) is cleaned up by the next process, and never a live one's.
final class LeftoverFileTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-leftovers-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// The PID of a process that has exited (and been reaped), so no process has it now.
  func deadPID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
  }

  func testScratchFolderRemovesOnlyFoldersOfDeadProcesses() throws {
    let dead = folder.appendingPathComponent("lathe-workbench-\(try deadPID())-abc")
    let alive = folder.appendingPathComponent("lathe-workbench-\(getpid())-def")
    let other = folder.appendingPathComponent("lathe-run-\(try deadPID())-0")
    for url in [dead, alive, other] {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    let scratch = try ScratchFolder.make(prefix: "lathe-workbench", in: folder)
    let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
    XCTAssertEqual(names, [alive.lastPathComponent, other.lastPathComponent, scratch.url.lastPathComponent])
    scratch.remove()
    XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url.path))
  }

  func testScratchFolderInAnUnwritablePlaceIsAnError() {
    XCTAssertThrowsError(try ScratchFolder.make(prefix: "x", in: URL(fileURLWithPath: "/proc/no-such"))) {
      XCTAssertTrue("\($0)".contains("/proc/no-such"), "\($0)")
    }
  }

  func testNextWriteRemovesATemporaryAKilledWriterLeft() throws {
    let target = folder.appendingPathComponent("model.safetensors")
    let abandoned = folder.appendingPathComponent(".model.safetensors.\(try deadPID()).1234.tmp")
    let live = folder.appendingPathComponent(".model.safetensors.\(getpid()).99.tmp")
    for url in [abandoned, live] { try Data("half a model".utf8).write(to: url) }
    try AtomicFile.write("whole", to: target)
    let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
    XCTAssertEqual(names, ["model.safetensors", live.lastPathComponent])
  }
}
