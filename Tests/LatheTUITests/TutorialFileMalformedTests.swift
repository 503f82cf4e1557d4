import Foundation
import LatheCompress
import XCTest

@testable import LatheTUI

/// Damaged tutorial files: one line naming the file, line and key; never a trap.
final class TutorialFileMalformedTests: XCTestCase {
  let head = "title: T\nmodel: digits-mlp\nclosing: bye\nsteps:\n  - text: hello\n    check:\n"

  func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
      _ = try TutorialFile.parse(text, file: "t.yaml", name: "t")
      XCTFail("parsed without an error", file: file, line: line)
    } catch {
      let message = "\(error)"
      XCTAssertFalse(message.contains("\n"), "more than one line: \(message)", file: file, line: line)
      return message
    }
    return ""
  }

  func testHugeOrInfiniteTrialCountIsAnErrorNotATrap() {
    // Int(1e300) trapped after the whole-number check passed.
    XCTAssertEqual(
      error(head + "      search_complete: 1e300\n"),
      "t.yaml:7: check.search_complete: expected a number in 1.0...100000.0")
    XCTAssertTrue(error(head + "      search_complete: inf\n").hasPrefix("t.yaml:7: check.search_complete"))
    XCTAssertTrue(error(head + "      search_complete: nan\n").hasPrefix("t.yaml:7: check.search_complete"))
  }

  func testThresholdsMustBeFractions() {
    XCTAssertEqual(
      error(head + "      accuracy_above: nan\n"), "t.yaml:7: check.accuracy_above: expected a number in 0.0...1.0")
    XCTAssertTrue(error(head + "      sparsity_above: {fc1: 1e999}\n").contains("check.sparsity_above.fc1"))
  }

  func testMinutesOutOfRange() {
    let text = "title: T\nmodel: m\nclosing: c\nminutes: 99999999999\nsteps:\n  - text: x\n"
    XCTAssertEqual(error(text), "t.yaml:4: minutes: expected a whole number of minutes in 1...10000")
  }

  func testYAMLErrorsAreOneLine() {
    // Yams's own description is a multi-line dump of the text around the mark.
    let message = error("title: T\nsteps:\n  - text: \"open\n")
    XCTAssertTrue(message.hasPrefix("t.yaml:"), message)
    XCTAssertTrue(message.contains("not valid YAML"), message)
  }

  func testAnchorsDepthAndSizeAreLimited() {
    XCTAssertEqual(error("title: &a T\n"), "t.yaml:1: YAML anchors (&name) are not supported")
    let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
    XCTAssertEqual(error("title: T\nhints: \(deep)\n"), "t.yaml:2: nested deeper than 32 levels")
    let big = head + String(repeating: "#\n", count: 2_200_000)
    XCTAssertTrue(error(big).hasPrefix("t.yaml: the text is "))
  }

  func testReadRefusesHugeFiles() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-big-\(UUID().uuidString).yaml")
    try Data(count: 5 << 20).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    XCTAssertThrowsError(try TutorialFile.read(from: url)) { error in
      XCTAssertEqual("\(error)", "\(url.path): larger than the limit of 4194304 bytes")
    }
  }
}
