import Foundation
import XCTest

@testable import LatheIO

/// Asserts that `expression` throws a `LatheIOError` whose message contains every string in
/// `mentions`: the file name and the offending field, so users can act on the message.
func assertThrows<T>(
  _ expression: @autoclosure () throws -> T, mentions: [String], file: StaticString = #filePath,
  line: UInt = #line
) {
  do {
    _ = try expression()
    XCTFail("expected an error mentioning \(mentions)", file: file, line: line)
  } catch let error as LatheIOError {
    let message = error.description
    for needle in mentions where !message.contains(needle) {
      XCTFail("error \"\(message)\" does not mention \"\(needle)\"", file: file, line: line)
    }
  } catch {
    XCTFail("expected a LatheIOError, got \(error)", file: file, line: line)
  }
}

/// One folder per test process holds every test's folder; it is removed when the process exits
/// (these helpers have no test case to tear down with, and hundreds of runs used to pile up).
private let temporaryRootPath = FileManager.default.temporaryDirectory.appendingPathComponent(
  "lathe-io-tests-\(ProcessInfo.processInfo.processIdentifier)"
).path

private let temporaryRootCleanup: Void = {
  atexit { try? FileManager.default.removeItem(atPath: temporaryRootPath) }
}()

/// A fresh, empty directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
  _ = temporaryRootCleanup
  let url = URL(fileURLWithPath: temporaryRootPath).appendingPathComponent(UUID().uuidString)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The repository root, found from this source file (Tests/LatheIOTests/TestSupport.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent()
  .deletingLastPathComponent()
