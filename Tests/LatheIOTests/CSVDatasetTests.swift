import XCTest

@testable import LatheIO

final class CSVDatasetTests: XCTestCase {
  func testParsesHeaderBlankLinesCRLFQuotesAndDecimals() throws {
    let text = "a,b,label\r\n1,2,0\r\n\r\n 3.5 , -4e1 ,\"2\"\n0,255,1.0\n\n"
    let table = try CSVDataset.decode(Array(text.utf8), file: "t.csv")
    XCTAssertEqual(table.rowCount, 3)
    XCTAssertEqual(table.featureCount, 2)
    XCTAssertEqual(table.features, [1, 2, 3.5, -40, 0, 255])
    XCTAssertEqual(table.labels, [0, 2, 1])
  }

  func testReadsGzippedFile() throws {
    let url = try temporaryDirectory().appendingPathComponent("t.csv.gz")
    try Data(Gzip.compress(Array("9,8,7\n6,5,4\n".utf8))).write(to: url)
    let table = try CSVDataset.read(from: url)
    XCTAssertEqual(table.features, [9, 8, 6, 5])
    XCTAssertEqual(table.labels, [7, 4])
  }

  func testBadCellNamesLineAndColumn() {
    assertThrows(
      try CSVDataset.decode(Array("1,2,0\n3,x7,1\n".utf8), file: "data.csv"),
      mentions: ["data.csv: line 2, column 2: expected a number, got \"x7\""])
    assertThrows(
      try CSVDataset.decode(Array("1,2,0\n3,nan,1\n".utf8), file: "data.csv"),
      mentions: ["line 2, column 2"])
    assertThrows(
      try CSVDataset.decode(Array("1,2,0\n3,,1\n".utf8), file: "data.csv"),
      mentions: ["line 2, column 2"])
  }

  func testLabelsMustBeNonNegativeIntegers() {
    assertThrows(
      try CSVDataset.decode(Array("1,2,0\n3,4,2.5\n".utf8), file: "data.csv"),
      mentions: ["data.csv", "line 2, column 3", "integer class label"])
    assertThrows(
      try CSVDataset.decode(Array("1,2,-1\n".utf8), file: "data.csv"),
      mentions: ["line 1, column 3"])
  }

  func testRaggedRowsAndEmptyFiles() {
    assertThrows(
      try CSVDataset.decode(Array("h1,h2,h3\n1,2,0\n1,0\n".utf8), file: "data.csv"),
      mentions: ["data.csv", "line 3", "3 columns, like line 2", "2 columns"])
    assertThrows(
      try CSVDataset.decode(Array("label\n".utf8), file: "empty.csv"),
      mentions: ["empty.csv", "rows"])
    assertThrows(
      try CSVDataset.decode([], file: "empty.csv"), mentions: ["empty.csv", "at least one row"])
    assertThrows(
      try CSVDataset.decode(Array("5\n".utf8), file: "one.csv"),
      mentions: ["one.csv", "two columns"])
  }
}
