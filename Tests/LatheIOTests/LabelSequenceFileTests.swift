import Foundation
import XCTest

@testable import LatheIO

final class LabelSequenceFileTests: XCTestCase {
  func testOneSequencePerLineWithEmptyLinesTabsAndCRLF() throws {
    let text = "3 1 4\n\n1\t5  9\r\n2\n"
    XCTAssertEqual(try LabelSequenceFile.parse(text, file: "l.txt"), [[3, 1, 4], [], [1, 5, 9], [2]])
  }

  func testTheFinalNewlineAddsNoSequenceButABlankLastLineDoes() throws {
    XCTAssertEqual(try LabelSequenceFile.parse("1\n2", file: "l.txt"), [[1], [2]])
    XCTAssertEqual(try LabelSequenceFile.parse("1\n\n", file: "l.txt"), [[1], []])
    XCTAssertEqual(try LabelSequenceFile.parse("", file: "l.txt"), [])
  }

  func testReadsAFile() throws {
    let url = try temporaryDirectory().appendingPathComponent("labels.txt")
    try Data("0 1\n2\n".utf8).write(to: url)
    XCTAssertEqual(try LabelSequenceFile.read(url), [[0, 1], [2]])
  }

  func testMalformedLabelsNameTheLineAndColumn() {
    assertThrows(
      try LabelSequenceFile.parse("1 2\n3 x 4\n", file: "l.txt"),
      mentions: ["l.txt: line 2, column 2: expected a class index (an integer ≥ 0), got \"x\""])
    assertThrows(try LabelSequenceFile.parse("-1\n", file: "l.txt"), mentions: ["line 1, column 1", "\"-1\""])
    assertThrows(try LabelSequenceFile.parse("1.5\n", file: "l.txt"), mentions: ["\"1.5\""])
    assertThrows(
      try LabelSequenceFile.parse("99999999999999999999999\n", file: "l.txt"), mentions: ["line 1, column 1"])
    assertThrows(try LabelSequenceFile.parse("1,2\n", file: "l.txt"), mentions: ["\"1,2\""])
    let long = String(repeating: "z", count: 10_000)
    assertThrows(
      try LabelSequenceFile.parse(long, file: "l.txt"), mentions: ["\"" + String(repeating: "z", count: 40) + "\""])
  }

  func testUnreadableAndBinaryFilesAreErrors() throws {
    let folder = try temporaryDirectory()
    assertThrows(try LabelSequenceFile.read(folder.appendingPathComponent("missing.txt")), mentions: ["missing.txt"])
    let binary = folder.appendingPathComponent("binary.txt")
    try Data([0xFF, 0xFE, 0x00, 0x31]).write(to: binary)
    assertThrows(try LabelSequenceFile.read(binary), mentions: ["binary.txt", "UTF-8"])
  }
}
